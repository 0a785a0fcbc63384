//! Which error type goes where:
//! - `domain` parse errors (`InvalidNationalId`, `InvalidHousehold`) become `AppError::Invalid`
//!   with the field they concern;
//! - `store::StoreError::NotFound` becomes `AppError::NotFound`, `Conflict` becomes `Conflict`,
//!   `Busy` (no connection in time, a statement timeout) becomes `Busy` (503 with
//!   `Retry-After`), anything else `Internal` (logged once by `web`, shown as a generic message);
//! - a refused permission is `NotFound` when the record lies outside the actor's area (nothing
//!   leaked) and `Forbidden` when the role may not do the action at all;
//! - a case move the workflow does not allow (`workflow::Refusal`: wrong step, wrong role or
//!   level, notice running, …) becomes `AppError::Refused`, whose code and Chinese message
//!   are the refusal's own; a case outside the actor's area is still `NotFound`.
//!
//! Messages for users are Chinese; the `code()` is the stable English key for the API.

use store::StoreError;

/// A fault in one input field, in Chinese.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("too many failed logins")]
    Throttled,
    #[error("forbidden")]
    Forbidden,
    /// A state-changing request whose CSRF token is missing or not the session's.
    #[error("csrf token rejected")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A query parameter that is not what it must be (`period=abc`): answered 400, naming it.
    #[error("invalid query parameter")]
    BadQuery(FieldError),
    /// The case workflow refused the move (issue 4).
    #[error("refused: {}", .0.code())]
    Refused(workflow::Refusal),
    /// The server is saturated (no database connection in time, a statement timeout, or too
    /// many requests at once): the client should retry after `RETRY_AFTER_SECONDS`.
    #[error("busy")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The seconds a client is told to wait (`Retry-After`) when the server is busy.
pub const RETRY_AFTER_SECONDS: u64 = 2;

impl AppError {
    /// A value refused by a `domain::input` parser: its English field, its Chinese label and
    /// message (`统计期：“abc”不是统计期…`).
    pub fn input(error: domain::InputError) -> Self {
        AppError::invalid(error.field.clone(), error.to_string())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// The stable snake_case code of the API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Throttled => "login_throttled",
            AppError::Forbidden => "forbidden",
            AppError::CsrfRejected => "csrf_rejected",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(_) => "invalid_input",
            AppError::BadQuery(_) => "invalid_query",
            AppError::Refused(refusal) => refusal.code(),
            AppError::Busy => "busy",
            AppError::Internal(_) => "internal",
        }
    }

    /// The Chinese message shown to users.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated => "请先登录".to_owned(),
            AppError::Throttled => "登录失败次数过多，请稍后再试".to_owned(),
            AppError::Forbidden => "您的角色无权进行此操作".to_owned(),
            AppError::CsrfRejected => "表单已过期或来源不明，请刷新页面后重试".to_owned(),
            AppError::NotFound => "未找到该记录，或不在您的管辖范围内".to_owned(),
            AppError::Conflict(message) => format!("操作冲突：{message}"),
            AppError::Invalid(errors) => {
                let parts: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}：{}", e.field, e.message))
                    .collect();
                format!("输入有误：{}", parts.join("；"))
            }
            AppError::BadQuery(error) => format!("查询参数有误：{}", error.message),
            AppError::Refused(refusal) => refusal.message(),
            AppError::Busy => format!("系统繁忙，请{RETRY_AFTER_SECONDS}秒后重试"),
            AppError::Internal(_) => "系统内部错误，请稍后再试".to_owned(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::Busy(cause) => {
                tracing::warn!(error = %cause, "store busy");
                AppError::Busy
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<workflow::Refusal> for AppError {
    fn from(refusal: workflow::Refusal) -> Self {
        AppError::Refused(refusal)
    }
}

impl AppError {
    /// A query parameter refused by a `domain::input` parser (400).
    pub fn bad_query(error: domain::InputError) -> Self {
        AppError::BadQuery(FieldError {
            field: error.field.clone(),
            message: error.to_string(),
        })
    }
}

impl From<domain::InputError> for AppError {
    fn from(error: domain::InputError) -> Self {
        AppError::input(error)
    }
}

impl From<workflow::InvalidField> for AppError {
    /// A field of a case action that cannot be read (422, naming it).
    fn from(error: workflow::InvalidField) -> Self {
        AppError::invalid(error.field, error.message)
    }
}
