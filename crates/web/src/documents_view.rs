//! 材料 (D4): the documents section that the case and household pages show (the list, the
//! kinds still needed, the upload form's choices). The upload and file routes that fill it
//! are `document_pages`, which shows those pages again on a refused upload.

use crate::WebState;
use crate::session::Signed;
use app::documents::content::{self, DocumentKind};
use app::documents::{Document, DocumentList, Owner};

/// The documents section of a case or household page.
#[derive(Clone, Debug, Default)]
pub struct DocumentsView {
    /// The documents and the form's choices; `None` for a role that does not read them.
    pub list: Option<DocumentList>,
    /// Where the section's form posts.
    pub action: String,
    /// The refusal of the upload that failed, naming the field.
    pub error: String,
    /// The kind chosen in the upload that failed.
    pub kind: String,
}

impl DocumentsView {
    /// The section of `owner` for the signed user (empty when they may not read it).
    pub(crate) async fn load(state: &WebState, signed: &Signed, owner: Owner) -> DocumentsView {
        let action = match owner {
            Owner::Case(id) => format!("/cases/{id}/documents"),
            Owner::Household(id) => format!("/households/{id}/documents"),
        };
        DocumentsView {
            list: state.app.documents(&signed.actor, owner).await.ok(),
            action,
            error: String::new(),
            kind: String::new(),
        }
    }

    pub fn shown(&self) -> bool {
        self.list.is_some()
    }

    pub fn documents(&self) -> &[Document] {
        self.list
            .as_ref()
            .map_or(&[], |list| list.documents.as_slice())
    }

    pub fn kinds(&self) -> &[DocumentKind] {
        self.list.as_ref().map_or(&[], |list| list.kinds.as_slice())
    }

    pub fn missing(&self) -> &[DocumentKind] {
        self.list
            .as_ref()
            .map_or(&[], |list| list.missing.as_slice())
    }

    pub fn may_upload(&self) -> bool {
        self.list.as_ref().is_some_and(|list| list.may_upload)
    }

    pub fn chosen(&self, code: &str) -> bool {
        self.kind == code
    }

    /// A size as people read it.
    pub fn size(&self, bytes: &i64) -> String {
        if *bytes >= 1024 * 1024 {
            format!(
                "{}.{} MB",
                bytes / (1024 * 1024),
                (bytes % (1024 * 1024)) * 10 / (1024 * 1024)
            )
        } else {
            format!("{} KB", (bytes + 1023) / 1024)
        }
    }

    /// The upload time in Beijing time, to the minute.
    pub fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::chrome::beijing_minute_of(at)
    }

    /// The limit as the form states it.
    pub fn limit_text(&self) -> String {
        format!("{} MB", content::MAX_DOCUMENT_BYTES / (1024 * 1024))
    }
}
