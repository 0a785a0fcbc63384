//! 安全响应头与拒收文本 (issue 16): every response carries the security headers
//! (`Content-Security-Policy` with no inline script or style, `X-Frame-Options: DENY`,
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy`), and the plain-text rejections axum's
//! extractors answer before a handler runs (400, 413, 415, 422: unreadable form or query, a
//! body over its limit, a wrong content type) are answered in Chinese — an error page for
//! pages, the API's `{code, message, fields}` for `/api/`. A body over the limit is 413.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Scripts, styles, images and fonts from this server only; no plugins, no framing, forms
/// post here only. The dashboard's data travel in a `type="application/json"` block, which is
/// data, not script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The middleware (`router` adds it around every route).
pub async fn harden(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if let Some(message) = rejection_text(&response) {
        response = rejection(response.status(), api, message);
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// The Chinese text of an extractor's plain-text rejection, `None` for any other response
/// (the handlers' own errors are already Chinese pages or JSON).
fn rejection_text(response: &Response) -> Option<&'static str> {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"));
    if !plain {
        return None;
    }
    match response.status() {
        StatusCode::BAD_REQUEST => Some("请求无法读取：提交的内容格式有误，请检查后重新提交"),
        StatusCode::PAYLOAD_TOO_LARGE => Some("提交的内容过大，超过了允许的上限，请缩小后重新提交"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(
            "提交的内容类型不受支持：表单应为 application/x-www-form-urlencoded 或 multipart/form-data，接口应为 application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => {
            Some("提交的内容有误：缺少必填项或某项的值无法识别，请检查后重新提交")
        }
        _ => None,
    }
}

fn rejection(status: StatusCode, api: bool, message: &str) -> Response {
    if api {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid_input",
        };
        let body = serde_json::json!({ "code": code, "message": message, "fields": [] });
        return (status, axum::Json(body)).into_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>无法处理该请求</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><h1>无法处理该请求</h1>\
         <p class=\"error\">{message}</p><p><a href=\"/\">返回首页</a></p></main></body></html>"
    );
    (status, Html(page)).into_response()
}
