//! 材料 (D4, issue 15 item 3): the documents section of the case and household pages (a
//! camera or file input, thumbnails, 需上传 for a required kind not attached), the file and
//! thumbnail routes, withdrawal, and the API (`/api/v1/cases/{id}/documents`,
//! `/api/v1/households/{id}/documents`, `/api/v1/documents/{id}`).
//!
//! The upload routes take a body of `content::upload_body_limit()` (the file limit and a
//! margin); a larger body is answered with the file's Chinese message, never a bare 413.

use crate::WebState;
use crate::api::Path as ApiPath;
use crate::error::{ApiError, PageError};
use crate::session::{ApiUser, PageUser, Signed};
use crate::upload::UploadForm;
use app::AppError;
use app::documents::content;
use app::documents::{Document, DocumentList, DocumentUpload, Owner};
use axum::Json;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

/// The form fields of an upload besides the file.
const FIELDS: &[&str] = &["csrf", "kind"];

/// Reads an upload form; a body over the route's limit is the file's refusal.
async fn read_upload(multipart: Multipart) -> Result<UploadForm, AppError> {
    UploadForm::read_file(multipart, FIELDS, &content::body_too_large_message())
        .await
        .map_err(|PageError(error)| error)
}

/// The message of a refused upload as the section shows it: each field's own message (they
/// name the field in Chinese).
fn section_message(error: &AppError) -> String {
    match error {
        AppError::Invalid(list) => list
            .iter()
            .map(|field| field.message.clone())
            .collect::<Vec<_>>()
            .join("；"),
        other => other.message(),
    }
}

/// `POST /cases/{id}/documents` (multipart: csrf, kind, file): 上传材料 from the case page.
pub async fn case_upload(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let owner = Owner::Case(id);
    let (form, result) = upload_from_page(&state, &signed, owner, multipart).await?;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}#documents")).into_response()),
        Err(error @ AppError::Invalid(_)) => {
            let mut page = crate::case_pages::case_page(
                &state,
                &signed,
                id,
                crate::case_pages::Failure::default(),
                None,
            )
            .await?;
            page.docs.error = section_message(&error);
            page.docs.kind = form.field("kind").to_owned();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

/// `POST /households/{id}/documents` (multipart: csrf, kind, file): 上传材料 from the
/// household page.
pub async fn household_upload(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let owner = Owner::Household(id);
    let (form, result) = upload_from_page(&state, &signed, owner, multipart).await?;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}#documents")).into_response()),
        Err(error @ AppError::Invalid(_)) => {
            let mut page = crate::pages::household_page_plain(&state, &signed, id).await?;
            page.docs.error = section_message(&error);
            page.docs.kind = form.field("kind").to_owned();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

/// Reads and stores a page's upload: the form (empty when it could not be read) and the
/// use case's answer. A CSRF failure or a record the user may not read is the page's error.
async fn upload_from_page(
    state: &WebState,
    signed: &Signed,
    owner: Owner,
    multipart: Multipart,
) -> Result<(UploadForm, Result<Document, AppError>), PageError> {
    let form = match read_upload(multipart).await {
        Ok(form) => form,
        Err(error) => {
            // Nothing was read, so the token could not be checked: show the record's page
            // with the message only if the user may read the record (`documents` checks).
            state.app.documents(&signed.actor, owner).await?;
            return Ok((UploadForm::default(), Err(error)));
        }
    };
    signed.check_csrf(Some(form.field("csrf")))?;
    let upload = DocumentUpload {
        kind: form.field("kind"),
        file_name: &form.file_name,
        bytes: &form.bytes,
    };
    let result = state
        .app
        .upload_document(&signed.actor, owner, upload)
        .await;
    Ok((form, result))
}

/// A stored file as a response: its media type, a file name, never cached by a shared cache.
fn file_response(media_type: &str, file_name: &str, bytes: Vec<u8>, disposition: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(media_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encoded(file_name)
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// RFC 5987 encoding of a file name.
fn percent_encoded(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Deserialize, Default)]
pub struct FileQuery {
    /// `download=1`: as an attachment instead of shown in the browser.
    #[serde(default)]
    download: Option<String>,
}

fn disposition(query: &FileQuery) -> &'static str {
    if query.download.is_some() {
        "attachment"
    } else {
        "inline"
    }
}

/// `GET /documents/{id}`: 查看材料原件 — the whole stored file (audited).
pub async fn document_show(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    axum::extract::Query(query): axum::extract::Query<FileQuery>,
) -> Result<Response, PageError> {
    let file = state.app.document_file(&signed.actor, id).await?;
    Ok(file_response(
        &file.document.media_type,
        &file.document.file_name,
        file.bytes,
        disposition(&query),
    ))
}

/// `GET /documents/{id}/thumbnail`: an image document's thumbnail (not audited).
pub async fn document_thumbnail(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let bytes = state.app.document_thumbnail(&signed.actor, id).await?;
    Ok(file_response(
        "image/jpeg",
        &format!("thumbnail-{id}.jpg"),
        bytes,
        "inline",
    ))
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    csrf: String,
    reason: String,
    /// The page to go back to (a case's or a household's).
    #[serde(default)]
    back: String,
}

/// `POST /documents/{id}/withdraw` (csrf, reason): 撤回材料 — marked, kept, audited.
pub async fn document_withdraw(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let document = state
        .app
        .withdraw_document(&signed.actor, id, &form.reason)
        .await?;
    let back = match (document.case_id, document.household_id) {
        _ if form.back.starts_with("/households/") || form.back.starts_with("/cases/") => {
            form.back.clone()
        }
        (Some(case_id), _) => format!("/cases/{case_id}"),
        (None, Some(household_id)) => format!("/households/{household_id}"),
        (None, None) => "/".to_owned(),
    };
    Ok(Redirect::to(&format!("{back}#documents")).into_response())
}

// ---------------------------------------------------------------- API

fn document_json(document: &Document) -> Value {
    json!({
        "id": document.id,
        "case_id": document.case_id,
        "household_id": document.household_id,
        "kind": document.kind,
        "kind_label": document.kind_label,
        "file_name": document.file_name,
        "media_type": document.media_type,
        "byte_size": document.byte_size,
        "content_hash": document.content_hash,
        "thumbnail": document.has_thumbnail.then(|| format!("/documents/{}/thumbnail", document.id)),
        "href": format!("/api/v1/documents/{}", document.id),
        "uploaded_by": document.uploaded_by,
        "uploaded_at": app::timestamp(document.uploaded_at),
        "withdrawn_at": document.withdrawn_at.map(app::timestamp),
        "withdrawn_reason": document.withdrawn_reason,
    })
}

fn list_json(list: &DocumentList) -> Value {
    json!({
        "documents": list.documents.iter().map(document_json).collect::<Vec<_>>(),
        "missing": list.missing.iter().map(|kind| json!({"kind": kind.code, "label": kind.label})).collect::<Vec<_>>(),
        "kinds": list.kinds.iter().map(|kind| json!({"kind": kind.code, "label": kind.label, "source": kind.source})).collect::<Vec<_>>(),
    })
}

async fn api_list(
    state: &WebState,
    signed: &Signed,
    owner: Owner,
) -> Result<Json<Value>, ApiError> {
    let list = state.app.documents(&signed.actor, owner).await?;
    Ok(Json(list_json(&list)))
}

async fn api_upload(
    state: &WebState,
    signed: &Signed,
    owner: Owner,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    // The owner is checked before the file's fate is told.
    let form = match read_upload(multipart).await {
        Ok(form) => form,
        Err(error) => {
            state.app.documents(&signed.actor, owner).await?;
            return Err(ApiError(error));
        }
    };
    let upload = DocumentUpload {
        kind: form.field("kind"),
        file_name: &form.file_name,
        bytes: &form.bytes,
    };
    let document = state
        .app
        .upload_document(&signed.actor, owner, upload)
        .await?;
    Ok((StatusCode::CREATED, Json(document_json(&document))).into_response())
}

/// `GET /api/v1/cases/{id}/documents`
pub async fn api_case_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    api_list(&state, &signed, Owner::Case(id)).await
}

/// `POST /api/v1/cases/{id}/documents` (multipart: kind, file; `X-CSRF-Token`).
pub async fn api_case_upload(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiPath(id): ApiPath<i64>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    api_upload(&state, &signed, Owner::Case(id), multipart).await
}

/// `GET /api/v1/households/{id}/documents`: its own and its cases'.
pub async fn api_household_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    api_list(&state, &signed, Owner::Household(id)).await
}

/// `POST /api/v1/households/{id}/documents` (multipart: kind, file; `X-CSRF-Token`).
pub async fn api_household_upload(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiPath(id): ApiPath<i64>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    api_upload(&state, &signed, Owner::Household(id), multipart).await
}

/// `GET /api/v1/documents/{id}`: the whole stored file with its media type (audited).
pub async fn api_document(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiPath(id): ApiPath<i64>,
    axum::extract::Query(query): axum::extract::Query<FileQuery>,
) -> Result<Response, ApiError> {
    let file = state.app.document_file(&signed.actor, id).await?;
    Ok(file_response(
        &file.document.media_type,
        &file.document.file_name,
        file.bytes,
        disposition(&query),
    ))
}
