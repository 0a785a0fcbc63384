//! A multipart form that carries one file (数据比对 and 一门入库 uploads): its text fields by
//! name, the file's name and its bytes, read once for every upload page.

use crate::error::PageError;
use app::AppError;
use axum::extract::Multipart;
use std::collections::BTreeMap;

/// What an upload form sent: text fields, and the part named `file`.
#[derive(Debug, Default)]
pub(crate) struct UploadForm {
    fields: BTreeMap<String, String>,
    pub(crate) file_name: String,
    pub(crate) bytes: Vec<u8>,
}

impl UploadForm {
    /// Reads the text fields `names` and the part named `file` (other parts are passed over);
    /// a part that cannot be read refuses the form, naming the file.
    pub(crate) async fn read(
        multipart: Multipart,
        names: &[&str],
    ) -> Result<UploadForm, PageError> {
        UploadForm::read_file(multipart, names, "上传内容无法读取，请重新选择文件后提交").await
    }

    /// `read`, where a body over the route's limit is refused with `too_large` (naming the
    /// file and its limit) instead of as unreadable.
    pub(crate) async fn read_file(
        mut multipart: Multipart,
        names: &[&str],
        too_large: &str,
    ) -> Result<UploadForm, PageError> {
        let unreadable = |error: axum::extract::multipart::MultipartError| {
            let message = if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large
            } else {
                "上传内容无法读取，请重新选择文件后提交"
            };
            PageError(AppError::invalid("file", message))
        };
        let mut form = UploadForm::default();
        while let Some(part) = multipart.next_field().await.map_err(unreadable)? {
            let name = part.name().unwrap_or("").to_owned();
            if name == "file" {
                form.file_name = part.file_name().unwrap_or("").to_owned();
                form.bytes = part.bytes().await.map_err(unreadable)?.to_vec();
            } else if names.contains(&name.as_str()) {
                let text = part.text().await.map_err(unreadable)?;
                form.fields.insert(name, text);
            }
        }
        Ok(form)
    }

    /// The text field `name`, empty when it was not sent.
    pub(crate) fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}
