//! 审计日志 pages (issue 15 item 7): the auditor's filtered, paged log with the chain's check
//! status (`GET /audit`), its XLSX export (`GET /audit/xlsx`), the start of a check
//! (`POST /audit/verify`) and the same list as JSON (`GET /api/v1/audit`).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::{ApiError, PageError};
use crate::pages::CsrfForm;
use crate::session::{ApiUser, PageUser};
use app::AppError;
use app::audit_log::{
    ACTIONS, AuditCheckStatus, AuditLogLine, AuditLogQuery, CheckStart, may_read_audit_log,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The filter form as typed (every field optional), and where the page starts.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct AuditLogForm {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    household: String,
    #[serde(default)]
    case: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default, skip_serializing)]
    after: Option<String>,
    /// Shown once after a check was asked for (`started` or `running`).
    #[serde(default, skip_serializing)]
    check: Option<String>,
}

fn text(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|value| !value.is_empty())
}

fn date(value: &str, field: &str, label: &str) -> Result<Option<NaiveDate>, AppError> {
    match value.trim() {
        "" => Ok(None),
        typed => NaiveDate::parse_from_str(typed, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    field,
                    format!("{label}：“{typed}”不是日期，应为 年-月-日，如 2026-12-06"),
                )
            }),
    }
}

impl AuditLogForm {
    fn to_query(&self) -> Result<AuditLogQuery, AppError> {
        Ok(AuditLogQuery {
            actor: text(&self.actor),
            household: text(&self.household),
            case: text(&self.case),
            action: text(&self.action),
            from: date(&self.from, "from", "起始日期")?,
            until: date(&self.until, "until", "截止日期")?,
        })
    }

    /// The filter as a query string (for the next page and the export links).
    fn query_string(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audit_log.html")]
pub struct AuditLogPage {
    chrome: Chrome,
    form: AuditLogForm,
    actions: &'static [(&'static str, &'static str)],
    rows: Vec<AuditLogLine>,
    /// The field in error (its input is marked) and the Chinese message.
    error_field: String,
    error: String,
    notice: String,
    next: Option<String>,
    per_page: i64,
    paged: bool,
    filter_query: String,
    check: AuditCheckStatus,
    export_rows: usize,
}

impl AuditLogPage {
    fn bad(&self, field: &str) -> bool {
        self.error_field == field
    }
}

/// `GET /audit`: the log, filtered and paged, with the chain's check status.
pub async fn audit_log(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(form): Query<AuditLogForm>,
) -> Result<Response, PageError> {
    if !may_read_audit_log(&signed.actor) {
        return Err(PageError(AppError::Forbidden));
    }
    let check = state.app.audit_check_status(&signed.actor).await?;
    let listed = match form.to_query() {
        Ok(query) => {
            state
                .app
                .audit_log(&signed.actor, &query, form.after.as_deref())
                .await
        }
        Err(error) => Err(error),
    };
    let (rows, next, per_page, error) = match listed {
        Ok(page) => (page.rows, page.next, page.per_page, None),
        Err(AppError::Invalid(errors)) => (Vec::new(), None, 0, errors.into_iter().next()),
        Err(other) => return Err(PageError(other)),
    };
    let notice = match form.check.as_deref() {
        Some("started") => "已开始校验审计链，完成后刷新本页查看结果",
        Some("running") => "已有一次校验正在进行，完成后刷新本页查看结果",
        _ => "",
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = AuditLogPage {
        chrome: Chrome::of(&signed),
        actions: ACTIONS,
        rows,
        error_field: error
            .as_ref()
            .map(|error| error.field.clone())
            .unwrap_or_default(),
        error: error.map(|error| error.message).unwrap_or_default(),
        notice: notice.to_owned(),
        next,
        per_page,
        paged: form.after.as_deref().is_some_and(|after| !after.is_empty()),
        filter_query: form.query_string(),
        form,
        check,
        export_rows: app::audit_log::EXPORT_ROWS,
    };
    Ok((status, page).into_response())
}

/// `GET /audit/xlsx`: the filter's rows as a workbook (audited).
pub async fn audit_xlsx(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(form): Query<AuditLogForm>,
) -> Result<Response, PageError> {
    let query = form.to_query()?;
    let bytes = state.app.audit_log_export(&signed.actor, &query).await?;
    let file_name = format!("audit-log-{}.xlsx", state.app.today());
    Ok(crate::pages::xlsx_download(&file_name, bytes))
}

/// `POST /audit/verify`: starts a check of the chain, then back to the page.
pub async fn audit_verify(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let started = state.app.start_audit_check(&signed.actor).await?;
    Ok(Redirect::to(match started {
        CheckStart::Started => "/audit?check=started",
        CheckStart::AlreadyRunning => "/audit?check=running",
    }))
}

/// `GET /api/v1/audit?actor=&household=&case=&action=&from=&until=&after=`: one page of the
/// log as JSON, with the chain's check status.
pub async fn api_audit_log(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(form): Query<AuditLogForm>,
) -> Result<Json<Value>, ApiError> {
    let query = form.to_query()?;
    let page = state
        .app
        .audit_log(&signed.actor, &query, form.after.as_deref())
        .await?;
    let check = state.app.audit_check_status(&signed.actor).await?;
    let items: Vec<Value> = page
        .rows
        .iter()
        .map(|row| {
            json!({
                "seq": row.seq,
                "at": row.at,
                "actor": row.actor,
                "action": row.action,
                "action_label": row.action_label,
                "entity": row.entity_label,
                "record": row.record,
                "area_name": row.area_name,
                "before": row.before,
                "after": row.after,
            })
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "next": page.next,
        "per_page": page.per_page,
        "check": {
            "running": check.running,
            "head_seq": check.head_seq,
            "latest": check.latest.map(|latest| json!({
                "finished_at": latest.finished_at,
                "actor": latest.actor,
                "intact": latest.intact,
                "result": latest.result,
                "checked_to": latest.checked_to,
            })),
        },
    })))
}
