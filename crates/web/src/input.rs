//! 输入把关 (issue 16, "input, one way in", the web's part): before any handler runs, every
//! query parameter, form field and JSON string of a request is read through
//! `domain::input::forbidden_char`; a control character other than newline and tab (the NUL that
//! PostgreSQL cannot store) is refused here, naming the field — 400 for a query parameter, 422
//! for a body — in Chinese on pages and as the API's `{code, message, fields}` with the English
//! field path (`members[0].name`). Multipart uploads are left to their readers (the file's own
//! importer names the line; `upload` checks the text fields). Typed values (dates, money,
//! periods) are parsed by the handlers' forms and the app with the other `domain::input` parsers.
//!
//! `ApiJson` bodies are read with `serde_path_to_error`, so a wrong type names its field path.

use crate::error::ApiError;
use app::AppError;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use domain::interchange::HouseholdRecord;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The most a screened body may hold; larger bodies pass unread to their route, whose own
/// limit answers 413 (no form or JSON route takes more than the feed API's limit).
const SCREENED_BYTES: usize = 64 * 1024 * 1024;

/// A field refused at the door.
struct Fault {
    field: String,
    message: String,
}

fn shown_field(field: &str) -> String {
    match crate::forms::label(field) {
        Some(label) => format!("{label}（{field}）"),
        None => format!("字段“{field}”"),
    }
}

/// The first pair whose name or value holds a forbidden character.
fn pair_fault<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Fault> {
    for (name, value) in pairs {
        for text in [name, value] {
            if let Some((at, c)) = domain::input::forbidden_char(text) {
                return Some(Fault {
                    field: domain::input::shown_all(name),
                    message: domain::input::forbidden_message(at, c),
                });
            }
        }
    }
    None
}

fn urlencoded_fault(bytes: &[u8]) -> Option<Fault> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
    pair_fault(
        pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

/// The first string (key or value) of a JSON document holding a forbidden character, with its
/// path in the API's notation (`members[0].name`).
fn json_fault(value: &Value, path: &mut String) -> Option<Fault> {
    match value {
        Value::String(text) => domain::input::forbidden_char(text).map(|(at, c)| Fault {
            field: if path.is_empty() {
                "body".to_owned()
            } else {
                path.clone()
            },
            message: domain::input::forbidden_message(at, c),
        }),
        Value::Array(items) => items.iter().enumerate().find_map(|(idx, item)| {
            let len = path.len();
            path.push_str(&format!("[{idx}]"));
            let found = json_fault(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&domain::input::shown_all(key));
            let found = match domain::input::forbidden_char(key) {
                Some((at, c)) => Some(Fault {
                    field: path.clone(),
                    message: domain::input::forbidden_message(at, c),
                }),
                None => json_fault(item, path),
            };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

fn refuse(status: StatusCode, api: bool, fault: &Fault) -> Response {
    if api {
        let message = format!("{}{}", shown_field(&fault.field), fault.message);
        let body = serde_json::json!({
            "code": "invalid_input",
            "message": message,
            "fields": [{ "field": fault.field, "message": fault.message }],
        });
        return (status, axum::Json(body)).into_response();
    }
    let page = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>提交的内容有误</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><h1>提交的内容有误</h1>\
         <p class=\"error\">{}：{}</p><p>请返回上一页修改后重新提交。</p><p><a href=\"/\">返回首页</a></p></main></body></html>",
        askama_escape(&shown_field(&fault.field)),
        askama_escape(&fault.message),
    );
    (status, Html(page)).into_response()
}

fn askama_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The request's media type, lower case, without parameters (`""` when there is none).
fn media_type(request: &Request) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|kind| kind.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_json(kind: &str) -> bool {
    kind == "application/json" || kind.ends_with("+json")
}

/// The middleware (`router` adds it around every route).
pub async fn screen(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    if let Some(query) = request.uri().query()
        && let Some(fault) = urlencoded_fault(query.as_bytes())
    {
        return refuse(StatusCode::BAD_REQUEST, api, &fault);
    }
    let kind = media_type(&request);
    let form = kind == "application/x-www-form-urlencoded";
    let json = is_json(&kind);
    if !form && !json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, SCREENED_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let fault = Fault {
                field: "body".to_owned(),
                message: "请求体过大或无法读取".to_owned(),
            };
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, api, &fault);
        }
    };
    let fault = if form {
        urlencoded_fault(&bytes)
    } else {
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|value| json_fault(&value, &mut String::new()))
    };
    if let Some(fault) = fault {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, api, &fault);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A JSON body read with its faults named by field path: a wrong type or value names
/// `members[0].income_12m`, not a column. Rejections are answered as `ApiError`.
pub struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&media_type(&request)) {
            return Err(ApiError(AppError::invalid(
                "body",
                "请求体应为JSON（Content-Type: application/json）",
            )));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(AppError::invalid(
                        crate::error::BODY_TOO_LARGE,
                        "请求体过大，超过了允许的上限",
                    ))
                } else {
                    ApiError(AppError::invalid("body", "请求体无法读取"))
                }
            })?;
        let mut reader = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.inner();
            let message = if inner.is_syntax() || inner.is_eof() {
                format!(
                    "请求体应为JSON（Content-Type: application/json）：{}",
                    domain::interchange::describe_json_error(inner)
                )
            } else {
                domain::interchange::describe_json_error(inner)
            };
            // `.` is the whole body, `?` a place serde could not name (a syntax error).
            let field = if path == "." || path == "?" {
                "body".to_owned()
            } else {
                path
            };
            ApiError(AppError::invalid(field, message))
        })?;
        reader.end().map_err(|error| {
            ApiError(AppError::invalid(
                "body",
                format!(
                    "请求体应为JSON（Content-Type: application/json）：{}",
                    domain::interchange::describe_json_error(&error)
                ),
            ))
        })?;
        Ok(ApiJson(value))
    }
}

/// A household record read from JSON, a fault named by its path (`members[0].income_12m`)
/// under `prefix` (`household.` inside a survey).
pub(crate) fn record_from(body: &Value, prefix: &str) -> Result<HouseholdRecord, AppError> {
    serde_path_to_error::deserialize(body).map_err(|error| {
        let path = error.path().to_string();
        let message = domain::interchange::describe_json_error(error.inner());
        let field = match (path.as_str(), prefix) {
            ("." | "?", "") => "body".to_owned(),
            ("." | "?", prefix) => prefix.trim_end_matches('.').to_owned(),
            (path, prefix) => format!("{prefix}{path}"),
        };
        AppError::invalid(field, message)
    })
}

/// A flag of the query (`?late=1`): absent or empty is off; `1`, `true` or `on` is on; any
/// other value is refused naming the parameter, as the description's `enum` says.
pub(crate) fn query_flag(value: Option<&str>, name: &str, label: &str) -> Result<bool, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(false),
        Some("1" | "true" | "on") => Ok(true),
        Some(other) => Err(AppError::invalid(
            name,
            format!("{label}（{name}）应为1，不是“{other}”"),
        )),
    }
}
