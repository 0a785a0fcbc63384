//! 材料 (D4, issue 15 item 3): photos and PDFs attached to a case or a household — 户口簿,
//! 身份证, 残疾证, 诊断证明, 收入证明, the signed 授权书 and the other kinds of
//! `policy/documents.toml` — from a phone camera or a file.
//!
//! A sent file is judged by its bytes (`content::check`: JPEG, PNG, WebP or PDF, not empty,
//! at most `MAX_DOCUMENT_BYTES`); an image is stored re-encoded without its metadata, with a
//! thumbnail (`picture`); the stored bytes carry their SHA-256. A refused file stores nothing.
//! Who may read a case or household reads its documents (the same role and area checks);
//! roles that edit households upload. Every upload, every view of a whole file and every
//! withdrawal is audited on the case (by tracking number) or the household (by 户编号);
//! thumbnails on the pages are not. Documents are never deleted: a withdrawn one stays,
//! marked, and they stay when the case closes.
//!
//! Storage: the bytes live in the database (`store::documents`), the same on SQLite and
//! PostgreSQL; see that module for the path to S3-compatible object storage.

pub mod content;
pub mod picture;
#[cfg(test)]
mod tests;

use crate::{Actor, App, AppError};
use chrono::{DateTime, Utc};
use content::{DocumentKind, DocumentKinds, Refusal};
use sha2::{Digest, Sha256};
use store::audit::AuditEvent;
use store::documents::{DocumentRow, NewDocument};

/// 上传材料
pub const UPLOAD_ACTION: &str = "document.upload";
/// 查看材料原件
pub const VIEW_ACTION: &str = "document.view";
/// 撤回材料
pub const WITHDRAW_ACTION: &str = "document.withdraw";

/// The longest file name kept (characters).
const FILE_NAME_CHARS: usize = 120;

/// What a document is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A case, by its row id.
    Case(i64),
    /// A household, by its registry row id.
    Household(i64),
}

/// A file as sent: the kind chosen, the file's name and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct DocumentUpload<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// A document as lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub id: i64,
    pub case_id: Option<i64>,
    pub household_id: Option<i64>,
    pub kind: String,
    pub kind_label: String,
    pub file_name: String,
    pub media_type: String,
    pub byte_size: i64,
    /// SHA-256 of the stored bytes, hexadecimal.
    pub content_hash: String,
    pub has_thumbnail: bool,
    pub uploaded_by: String,
    /// When it was stored.
    pub uploaded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
}

impl Document {
    pub fn is_image(&self) -> bool {
        self.media_type.starts_with("image/")
    }

    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn_at.is_some()
    }
}

/// The documents of a case or household, with what the page's form needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentList {
    pub documents: Vec<Document>,
    /// The kinds to choose from, in order.
    pub kinds: Vec<DocumentKind>,
    /// The kinds the case needs that none of its documents (not withdrawn) is: 需上传.
    pub missing: Vec<DocumentKind>,
    /// Whether the actor may upload here.
    pub may_upload: bool,
}

/// A whole stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentFile {
    pub document: Document,
    pub bytes: Vec<u8>,
}

/// The name a stored file is given: the sent name without its folder, control characters and
/// extension, cut to `FILE_NAME_CHARS`, with the extension of what is stored (`.jpg` for a
/// re-encoded image); the kind's label when nothing is left.
pub fn stored_file_name(sent: &str, kind_label: &str, media_type: &str) -> String {
    let base = sent.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let mut clean: String = stem
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | ':' | '*' | '?'))
        .take(FILE_NAME_CHARS)
        .collect();
    clean = clean.trim().to_owned();
    if clean.is_empty() {
        clean = kind_label.to_owned();
    }
    let extension = if media_type == "application/pdf" {
        "pdf"
    } else {
        "jpg"
    };
    format!("{clean}.{extension}")
}

/// Images re-encoded at once: half the cores (at least one). A 12-megapixel photo takes
/// seconds of one core, so a burst of uploads queues here and leaves the other cores to sign-ins
/// and pages.
fn preparing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new((cores / 2).max(1))
    })
}

fn kinds() -> Result<DocumentKinds, AppError> {
    DocumentKinds::builtin()
        .map_err(|error| AppError::Internal(anyhow::anyhow!("policy/documents.toml: {error}")))
}

fn refused(refusal: &Refusal) -> AppError {
    AppError::invalid(refusal.field(), refusal.message())
}

/// Whether the actor's role reads documents at all: what reading a case needs (income,
/// property and health; `App::case_detail`), which also covers reading a household.
fn role_reads_documents(actor: &Actor) -> bool {
    actor.role.reads_households()
        && actor.reads(crate::access::HouseholdPart::IncomeProperty)
        && actor.reads(crate::access::HouseholdPart::Health)
}

/// What a document's owner is, as the audit log names it.
struct OwnerRecord {
    /// The case's id and tracking number, for a case's document.
    case: Option<(i64, domain::TrackingNumber)>,
    /// The household's row id and 户编号, when the owner is (or belongs to) one.
    household: Option<(i64, String)>,
    area: String,
    /// A running case of kind application (its 授权书 is required at intake; a closed case
    /// asks for nothing more).
    application: bool,
}

impl OwnerRecord {
    fn event(&self, at: String, actor: &Actor, action: &str) -> AuditEvent {
        let event = match (&self.case, &self.household) {
            (Some((_, tracking)), _) => {
                AuditEvent::case(at, actor.audit_name(), action, tracking.as_str())
            }
            (None, Some((_, external))) => {
                AuditEvent::household(at, actor.audit_name(), action, external)
            }
            (None, None) => AuditEvent::household(at, actor.audit_name(), action, ""),
        };
        event.in_area(self.area.clone())
    }
}

fn document_of(row: DocumentRow, kinds: &DocumentKinds) -> Document {
    Document {
        id: row.id,
        case_id: row.case_id,
        household_id: row.household_id,
        kind_label: kinds.label(&row.kind).to_owned(),
        kind: row.kind,
        file_name: row.file_name,
        media_type: row.media_type,
        byte_size: row.byte_size,
        content_hash: row.content_hash,
        has_thumbnail: row.has_thumbnail != 0,
        uploaded_by: row
            .uploader_name
            .unwrap_or_else(|| format!("用户{}", row.uploaded_by)),
        uploaded_at: row.uploaded_at,
        withdrawn_at: row.withdrawn_at,
        withdrawn_reason: row.withdrawn_reason,
    }
}

/// The JSON of a document as the audit log keeps it: what was stored, never the bytes.
fn audit_json(document: &Document) -> String {
    serde_json::json!({
        "document": document.id,
        "kind": document.kind,
        "file_name": document.file_name,
        "media_type": document.media_type,
        "byte_size": document.byte_size,
        "content_hash": document.content_hash,
        "withdrawn_at": document.withdrawn_at.map(crate::timestamp),
        "withdrawn_reason": document.withdrawn_reason,
    })
    .to_string()
}

impl App {
    /// The kinds of document, as `policy/documents.toml` lists them.
    pub fn document_kinds(&self) -> Result<DocumentKinds, AppError> {
        kinds()
    }

    /// Loads the owner, checking the actor may read it: another role is `Forbidden`, another
    /// area `NotFound`.
    async fn document_owner(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        owner: Owner,
    ) -> Result<OwnerRecord, AppError> {
        if !role_reads_documents(actor) {
            return Err(AppError::Forbidden);
        }
        match owner {
            Owner::Case(case_id) => {
                let row = store::cases::get(conn, case_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                if !actor.covers(&row.area_code) {
                    return Err(AppError::NotFound);
                }
                let household = row
                    .household_id
                    .map(|id| (id, row.household_external_id.as_str().to_owned()));
                Ok(OwnerRecord {
                    application: row.kind == workflow::CaseKind::Application
                        && row.closed_on.is_none(),
                    case: Some((row.id, row.tracking_number)),
                    household,
                    area: row.area_code.as_str().to_owned(),
                })
            }
            Owner::Household(household_id) => {
                let row = store::households::get(conn, household_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                if !actor.may_read_household(&row.area_code) {
                    return Err(AppError::NotFound);
                }
                Ok(OwnerRecord {
                    case: None,
                    household: Some((row.id, row.external_id.into_string())),
                    area: row.area_code.as_str().to_owned(),
                    application: false,
                })
            }
        }
    }

    /// 上传材料: checks the kind and the file, stores the file's stored form with its hash,
    /// and audits it, in one transaction. A refused file stores nothing.
    pub async fn upload_document(
        &self,
        actor: &Actor,
        owner: Owner,
        upload: DocumentUpload<'_>,
    ) -> Result<Document, AppError> {
        // The owner first: a stranger learns nothing about the file's fate.
        {
            let mut conn = self.store.read().await?;
            self.document_owner(&mut conn, actor, owner).await?;
        }
        if !actor.role.edits_households() {
            return Err(AppError::Forbidden);
        }
        let kinds = kinds()?;
        let kind = kinds.choose(upload.kind).map_err(|r| refused(&r))?.clone();
        let content = content::check(upload.bytes).map_err(|r| refused(&r))?;
        let bytes = upload.bytes.to_vec();
        let prepared = {
            let _permit = preparing_permits().acquire().await.map_err(|error| {
                AppError::Internal(anyhow::anyhow!("preparing permits: {error}"))
            })?;
            tokio::task::spawn_blocking(move || picture::prepare(&bytes, content))
                .await
                .map_err(|error| {
                    AppError::Internal(anyhow::anyhow!("preparing a document: {error}"))
                })?
                .map_err(|r| refused(&r))?
        };
        let content_hash = hex::encode(Sha256::digest(&prepared.content));
        let file_name = stored_file_name(upload.file_name, &kind.label, prepared.media_type);
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let record = self.document_owner(&mut tx, actor, owner).await?;
        let id = store::documents::insert(
            &mut tx,
            &NewDocument {
                case_id: record.case.as_ref().map(|(id, _)| *id),
                household_id: record.household.as_ref().map(|(id, _)| *id),
                area_code: &record.area,
                kind: &kind.code,
                file_name: &file_name,
                media_type: prepared.media_type,
                content_hash: &content_hash,
                content: &prepared.content,
                thumbnail: prepared.thumbnail.as_deref(),
                uploaded_by: actor.user_id,
                uploaded_at: &now,
            },
        )
        .await?;
        let row = store::documents::get(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("document {id} not stored")))?;
        let document = document_of(row, &kinds);
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &record
                .event(now, actor, UPLOAD_ACTION)
                .after(audit_json(&document)),
        )
        .await?;
        store::commit(tx).await?;
        Ok(document)
    }

    /// The documents of a case or household (withdrawn ones included, marked), the kinds to
    /// choose from and, for an application, the required kinds not yet attached.
    pub async fn documents(&self, actor: &Actor, owner: Owner) -> Result<DocumentList, AppError> {
        let kinds = kinds()?;
        let mut conn = self.store.read().await?;
        let record = self.document_owner(&mut conn, actor, owner).await?;
        let rows = match owner {
            Owner::Case(case_id) => store::documents::of_case(&mut conn, case_id).await?,
            Owner::Household(id) => store::documents::of_household(&mut conn, id).await?,
        };
        let documents: Vec<Document> = rows
            .into_iter()
            .map(|row| document_of(row, &kinds))
            .collect();
        let missing = if record.application {
            let attached: Vec<&str> = documents
                .iter()
                .filter(|document| !document.is_withdrawn())
                .map(|document| document.kind.as_str())
                .collect();
            kinds
                .missing_at("intake", &attached)
                .into_iter()
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        Ok(DocumentList {
            documents,
            kinds: kinds.all().to_vec(),
            missing,
            may_upload: actor.role.edits_households(),
        })
    }

    /// A document the actor may read, with its owner.
    async fn readable_document(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        id: i64,
    ) -> Result<(DocumentRow, OwnerRecord), AppError> {
        if !role_reads_documents(actor) {
            return Err(AppError::Forbidden);
        }
        let row = store::documents::get(conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let owner = match (row.case_id, row.household_id) {
            (Some(case_id), _) => Owner::Case(case_id),
            (None, Some(household_id)) => Owner::Household(household_id),
            (None, None) => return Err(AppError::NotFound),
        };
        let record = self.document_owner(conn, actor, owner).await?;
        Ok((row, record))
    }

    /// 查看材料原件: the whole stored file; every view is audited.
    pub async fn document_file(&self, actor: &Actor, id: i64) -> Result<DocumentFile, AppError> {
        let mut tx = self.store.begin().await?;
        let (row, record) = self.readable_document(&mut tx, actor, id).await?;
        let bytes = store::documents::content(&mut tx, id).await?;
        let document = document_of(row, &kinds()?);
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &record
                .event(self.now_text(), actor, VIEW_ACTION)
                .after(audit_json(&document)),
        )
        .await?;
        store::commit(tx).await?;
        Ok(DocumentFile { document, bytes })
    }

    /// The thumbnail of an image document (shown on the pages, not audited: the whole file's
    /// views are).
    pub async fn document_thumbnail(&self, actor: &Actor, id: i64) -> Result<Vec<u8>, AppError> {
        let mut conn = self.store.read().await?;
        self.readable_document(&mut conn, actor, id).await?;
        store::documents::thumbnail(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// 撤回材料: marks a document withdrawn with a reason (kept, never deleted); audited.
    pub async fn withdraw_document(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<Document, AppError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid("reason", "撤回理由：请写明撤回的理由"));
        }
        let kinds = kinds()?;
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let (row, record) = self.readable_document(&mut tx, actor, id).await?;
        if !actor.role.edits_households() {
            return Err(AppError::Forbidden);
        }
        let before = document_of(row, &kinds);
        if !store::documents::withdraw(&mut tx, id, actor.user_id, reason, &now).await? {
            return Err(AppError::Conflict("该材料已经撤回".to_owned()));
        }
        let row = store::documents::get(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let after = document_of(row, &kinds);
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &record
                .event(now, actor, WITHDRAW_ACTION)
                .before(audit_json(&before))
                .after(audit_json(&after)),
        )
        .await?;
        store::commit(tx).await?;
        Ok(after)
    }
}
