//! One mapping from `AppError` to HTTP: a status, a stable snake_case code and a Chinese
//! message, never internals. Internal causes are logged here, once.

use app::AppError;
use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Throttled => StatusCode::TOO_MANY_REQUESTS,
        AppError::Forbidden | AppError::CsrfRejected => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Conflict(_) | AppError::Refused(_) => StatusCode::CONFLICT,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::BadQuery(_) => StatusCode::BAD_REQUEST,
        AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `Retry-After` on a busy answer, nothing on others.
fn with_retry_after(error: &AppError, response: Response) -> Response {
    if !matches!(error, AppError::Busy) {
        return response;
    }
    let mut response = response;
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(app::RETRY_AFTER_SECONDS),
    );
    response
}

fn log(error: &AppError) {
    if let AppError::Internal(cause) = error {
        tracing::error!(error = format!("{cause:#}"), "internal error");
    }
}

/// An error answered as JSON: `{"code": "...", "message": "...", "fields": [...]}`.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

// Requests the extractors cannot read get the same JSON error shape, in Chinese, not axum's
// plain-text rejections.
/// The field a body over its limit is named by; answered 413, not 422.
pub(crate) const BODY_TOO_LARGE: &str = "body_size";

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError(AppError::invalid(
                BODY_TOO_LARGE,
                "请求体过大，超过了允许的上限",
            ));
        }
        let text = rejection.body_text();
        if let Some(field) = unknown_field(&text) {
            return ApiError(unknown_field_error(field));
        }
        ApiError(AppError::invalid(
            "body",
            format!("请求体应为JSON（Content-Type: application/json）：{text}"),
        ))
    }
}

/// The field serde names in "unknown field `x`, expected …" (`deny_unknown_fields`).
pub fn unknown_field(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("unknown field `")?;
    rest.split('`').next()
}

/// A body field the API does not know, refused naming it (issue 14): a misspelt field is
/// never silently ignored.
pub fn unknown_field_error(field: &str) -> AppError {
    AppError::invalid(field, format!("未知字段“{field}”"))
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError(AppError::invalid(
            "query",
            format!("查询参数有误：{}", rejection.body_text()),
        ))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        ApiError(AppError::NotFound)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log(&self.0);
        let fields: Vec<serde_json::Value> = match &self.0 {
            AppError::Invalid(errors) => errors
                .iter()
                .map(|e| serde_json::json!({ "field": e.field, "message": e.message }))
                .collect(),
            AppError::BadQuery(e) => {
                vec![serde_json::json!({ "field": e.field, "message": e.message })]
            }
            _ => Vec::new(),
        };
        let too_large = matches!(&self.0, AppError::Invalid(errors) if errors.iter().any(|e| e.field == BODY_TOO_LARGE));
        let (status, code) = if too_large {
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        } else {
            (status_of(&self.0), self.0.code())
        };
        let body =
            serde_json::json!({ "code": code, "message": self.0.message(), "fields": fields });
        with_retry_after(&self.0, (status, Json(body)).into_response())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

/// The Chinese title of an error page (issue 15: no "Forbidden" on a page).
fn page_title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "无权办理",
        StatusCode::NOT_FOUND => "未找到",
        StatusCode::CONFLICT => "内容已被他人修改",
        StatusCode::PAYLOAD_TOO_LARGE => "提交内容过大",
        StatusCode::TOO_MANY_REQUESTS => "操作过于频繁",
        StatusCode::SERVICE_UNAVAILABLE => "系统繁忙",
        status if status.is_server_error() => "系统错误",
        _ => "无法完成请求",
    }
}

/// An error answered as a page; an expired session goes back to the login page.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        log(&self.0);
        if matches!(self.0, AppError::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        let status = status_of(&self.0);
        let page = ErrorPage {
            title: page_title(status).to_owned(),
            message: self.0.message(),
        };
        let body = page.render().unwrap_or_else(|_| self.0.message());
        with_retry_after(&self.0, (status, Html(body)).into_response())
    }
}
