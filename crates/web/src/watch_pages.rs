//! 监测预警 pages (issue 5): the warning list and page with the loop forms (W3), department
//! feeds and their comparison runs (数据比对, W2), visits and hotline tickets (W4).

use crate::WebState;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::session::{PageUser, Signed};
use crate::upload::UploadForm;
use app::AppError;
use app::contacts::{ContactChannel, ContactOutcome, NewContactInput};
use app::feeds::{FeedOverview, FeedReceipt, FeedUpload};
use app::warnings::{
    Disposal, Judgement, LoopAction, WarningDetail, WarningPage, WarningQuery, WarningState,
    rule_choices,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::PlaceCode;
use serde::Deserialize;
use workflow::{CaseKind, Consent};

/// The largest feed file a page or the API accepts.
pub const FEED_BYTES: usize = 256 << 20;

#[derive(Deserialize)]
pub struct WarningListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    late: Option<String>,
    /// Where the page starts (the `next` of the page before).
    #[serde(default)]
    after: Option<String>,
}

impl WarningListQuery {
    pub(crate) fn to_query(&self) -> Result<WarningQuery, AppError> {
        let state = match self.state.trim() {
            "" => None,
            code => Some(
                WarningState::from_code(code)
                    .ok_or_else(|| AppError::invalid("state", format!("状态“{code}”不存在")))?,
            ),
        };
        let rule = match self.rule.trim() {
            "" => None,
            code if rule_choices().iter().any(|(known, _)| *known == code) => Some(code.to_owned()),
            code => return Err(AppError::invalid("rule", format!("规则“{code}”不存在"))),
        };
        Ok(WarningQuery {
            state,
            rule,
            late: matches!(self.late.as_deref(), Some("1" | "true" | "on")),
            after: self.after.clone(),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "warnings.html")]
pub struct WarningsPage {
    chrome: Chrome,
    list: WarningPage,
    state: String,
    rule: String,
    late: bool,
    states: Vec<(&'static str, &'static str)>,
    rules: Vec<(&'static str, &'static str)>,
    /// Not the first page (a link back to it is shown).
    paged: bool,
    filter_query: String,
}

pub async fn warning_list(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<WarningListQuery>,
) -> Result<WarningsPage, PageError> {
    let filter = query.to_query()?;
    let list = state.app.warnings(&signed.actor, &filter).await?;
    Ok(WarningsPage {
        chrome: Chrome::of(&signed),
        filter_query: format!(
            "state={}&rule={}{}",
            query.state,
            query.rule,
            if filter.late { "&late=1" } else { "" }
        ),
        list,
        state: query.state,
        rule: query.rule,
        late: filter.late,
        states: WarningState::ALL
            .iter()
            .map(|state| (state.code(), state.label()))
            .collect(),
        rules: rule_choices(),
        paged: filter.after.is_some_and(|after| !after.trim().is_empty()),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "warning.html")]
pub struct WarningShow {
    chrome: Chrome,
    d: WarningDetail,
    error: String,
    today: String,
    judgements: Vec<(&'static str, &'static str)>,
    case_kinds: Vec<(&'static str, &'static str)>,
    villages: Vec<(String, String)>,
}

impl WarningShow {
    fn is_assignee(&self, user_id: impl std::borrow::Borrow<i64>) -> bool {
        self.d.assignee_user_id == Some(*user_id.borrow())
    }
}

async fn warning_page(
    state: &WebState,
    signed: &Signed,
    id: i64,
    error: String,
) -> Result<WarningShow, PageError> {
    let d = state.app.warning_detail(&signed.actor, id).await?;
    let villages = if d.can_dispose && d.item.household_external_id.is_none() {
        state.app.villages_for(&signed.actor).await?
    } else {
        Vec::new()
    };
    Ok(WarningShow {
        chrome: Chrome::of(signed),
        d,
        error,
        today: state.app.today().to_string(),
        judgements: Judgement::ALL
            .iter()
            .map(|judgement| (judgement.code(), judgement.label()))
            .collect(),
        case_kinds: [CaseKind::Application, CaseKind::Recheck, CaseKind::Exit]
            .iter()
            .map(|kind| (kind.code(), kind.label()))
            .collect(),
        villages,
    })
}

pub async fn warning_show(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<WarningShow, PageError> {
    warning_page(&state, &signed, id, String::new()).await
}

fn field<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn date_field(pairs: &[(String, String)], key: &str, label: &str) -> Result<NaiveDate, AppError> {
    let text = field(pairs, key).trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(key, format!("{label}“{text}”无效，应为YYYY-MM-DD")))
}

fn consent_of(pairs: &[(String, String)]) -> Result<Option<Consent>, AppError> {
    let signer = field(pairs, "consent_signer").trim();
    if signer.is_empty() {
        return Ok(None);
    }
    Ok(Some(Consent {
        signer: signer.to_owned(),
        signed_on: date_field(pairs, "consent_on", "授权签字日期")?,
    }))
}

fn loop_action(pairs: &[(String, String)]) -> Result<LoopAction, AppError> {
    Ok(match field(pairs, "action") {
        "assign" => LoopAction::Assign {
            assignee_user_id: field(pairs, "assignee")
                .parse()
                .map_err(|_| AppError::invalid("assignee", "请选择核实人员"))?,
        },
        "verify" => LoopAction::Verify {
            visited_on: date_field(pairs, "visited_on", "核实日期")?,
            visitors: field(pairs, "visitors").to_owned(),
            findings: field(pairs, "findings").to_owned(),
        },
        "judge" => LoopAction::Judge {
            judgement: Judgement::from_code(field(pairs, "judgement"))
                .ok_or_else(|| AppError::invalid("judgement", "请选择研判结论"))?,
            note: field(pairs, "note").to_owned(),
        },
        "dispose" => LoopAction::Dispose(match field(pairs, "disposition") {
            "open_case" => Disposal::OpenCase {
                kind: CaseKind::from_code(field(pairs, "case_kind"))
                    .ok_or_else(|| AppError::invalid("case_kind", "请选择案件类型"))?,
                applicant: field(pairs, "applicant").to_owned(),
                consent: consent_of(pairs)?,
                household_id: Some(field(pairs, "household_id").to_owned())
                    .filter(|text| !text.trim().is_empty()),
                area: match field(pairs, "area").trim() {
                    "" => None,
                    code => Some(PlaceCode::parse(code).map_err(|error| {
                        AppError::invalid("area", format!("区划代码有误：{error}"))
                    })?),
                },
                summary: field(pairs, "summary").to_owned(),
            },
            "adjust" => Disposal::Adjust {
                note: field(pairs, "note").to_owned(),
            },
            "no_action" => Disposal::NoAction {
                reason: field(pairs, "reason").to_owned(),
            },
            _ => return Err(AppError::invalid("disposition", "请选择处置方式")),
        }),
        "close" => LoopAction::Close {
            note: field(pairs, "note").to_owned(),
        },
        _ => return Err(AppError::invalid("action", "未知的操作")),
    })
}

/// `POST /warnings/{id}`: one step of the loop (`action` = assign, verify, judge, dispose,
/// close). A refused step shows the page again with the reason.
pub async fn warning_act(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(field(&pairs, "csrf")))?;
    let version: i64 = field(&pairs, "version").parse().unwrap_or(0);
    let result = match loop_action(&pairs) {
        Ok(action) => {
            state
                .app
                .act_on_warning(&signed.actor, id, version, action)
                .await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/warnings/{id}")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Refused(_))) => {
            let status = if matches!(error, AppError::Invalid(_)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            let page = warning_page(&state, &signed, id, error.message()).await?;
            Ok((status, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "feeds.html")]
pub struct FeedsPage {
    chrome: Chrome,
    feeds: Vec<FeedOverview>,
    can_upload: bool,
    receipt: Option<FeedReceipt>,
    error: String,
    source: String,
    period: String,
}

impl FeedsPage {
    fn job_state(&self, code: &str) -> &'static str {
        match code {
            "queued" => "排队中",
            "running" => "比对中",
            "done" => "已完成",
            "failed" => "失败",
            _ => "未知",
        }
    }
}

fn can_upload(signed: &Signed) -> bool {
    matches!(
        signed.actor.role,
        domain::Role::Department
            | domain::Role::DistrictCivilAffairs
            | domain::Role::DistrictAgriculture
    ) && signed.actor.area.level() == domain::PlaceLevel::District
}

async fn feeds_page(
    state: &WebState,
    signed: &Signed,
    receipt: Option<FeedReceipt>,
    error: String,
    (source, period): (String, String),
) -> Result<FeedsPage, PageError> {
    Ok(FeedsPage {
        chrome: Chrome::of(signed),
        feeds: state.app.feed_overview(&signed.actor).await?,
        can_upload: can_upload(signed),
        receipt,
        error,
        source,
        period,
    })
}

pub async fn feeds(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<FeedsPage, PageError> {
    feeds_page(&state, &signed, None, String::new(), Default::default()).await
}

/// `POST /feeds` (multipart: csrf, source, period, file): imports the file and shows the
/// receipt (identity, counts, rejected rows with their lines) above the list.
pub async fn feed_upload(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let form = UploadForm::read(multipart, &["csrf", "source", "period"]).await?;
    let (source, period) = (
        form.field("source").to_owned(),
        form.field("period").to_owned(),
    );
    signed.check_csrf(Some(form.field("csrf")))?;
    let upload = FeedUpload {
        source: &source,
        period: &period,
        file_name: &form.file_name,
        bytes: &form.bytes,
    };
    match state.app.import_feed(&signed.actor, upload).await {
        Ok(receipt) => {
            let status = if receipt.repeated {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let page = feeds_page(
                &state,
                &signed,
                Some(receipt),
                String::new(),
                Default::default(),
            )
            .await?;
            Ok((status, page).into_response())
        }
        Err(error @ AppError::Invalid(_)) => {
            let page = feeds_page(&state, &signed, None, error.message(), (source, period)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts.html")]
pub struct ContactsPage {
    chrome: Chrome,
    contacts: Vec<store_free::ContactLine>,
    villages: Vec<(String, String)>,
    can_visit: bool,
    can_hotline: bool,
    today: String,
    error: String,
    notice: String,
    total: i64,
    total_capped: bool,
    per_page: i64,
    next: Option<String>,
    /// Not the first page (a link back to it is shown).
    paged: bool,
}

/// The contact rows as the page shows them (web does not name store types).
mod store_free {
    pub struct ContactLine {
        pub channel: &'static str,
        pub on_date: String,
        pub household: String,
        pub person_name: String,
        pub area_code: String,
        pub findings: String,
        pub outcome: &'static str,
        pub warning_id: Option<i64>,
        pub recorded_by: String,
    }
}

#[derive(Deserialize)]
pub struct ContactsQuery {
    #[serde(default)]
    case: String,
    /// Where the page starts (the `next` of the page before).
    #[serde(default)]
    after: Option<String>,
}

async fn contacts_page(
    state: &WebState,
    signed: &Signed,
    error: String,
    notice: String,
    after: Option<&str>,
) -> Result<ContactsPage, PageError> {
    let role = signed.actor.role;
    let page = state.app.contacts(&signed.actor, after).await?;
    let contacts = page
        .rows
        .into_iter()
        .map(|row| store_free::ContactLine {
            channel: ContactChannel::from_code(&row.channel).map_or("", ContactChannel::label),
            on_date: row.on_date,
            household: row.household_external_id.unwrap_or_default(),
            person_name: row.person_name,
            area_code: row.area_code,
            findings: row.findings,
            outcome: ContactOutcome::from_code(&row.outcome).map_or("", ContactOutcome::label),
            warning_id: row.warning_id,
            recorded_by: row.recorded_by,
        })
        .collect();
    Ok(ContactsPage {
        chrome: Chrome::of(signed),
        contacts,
        villages: state.app.villages_for(&signed.actor).await?,
        can_visit: matches!(
            role,
            domain::Role::GridWorker | domain::Role::VillageAssistant | domain::Role::TownReviewer
        ),
        can_hotline: matches!(
            role,
            domain::Role::TownReviewer
                | domain::Role::DistrictCivilAffairs
                | domain::Role::DistrictAgriculture
        ),
        today: state.app.today().to_string(),
        error,
        notice,
        total: page.total,
        total_capped: page.total_capped,
        per_page: page.per_page,
        next: page.next,
        paged: after.is_some_and(|after| !after.trim().is_empty()),
    })
}

pub async fn contacts(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<ContactsQuery>,
) -> Result<ContactsPage, PageError> {
    let notice = if query.case.trim().is_empty() {
        String::new()
    } else {
        format!("已受理救助帮扶申请，受理编号 {}", query.case.trim())
    };
    contacts_page(
        &state,
        &signed,
        String::new(),
        notice,
        query.after.as_deref(),
    )
    .await
}

fn contact_input(pairs: &[(String, String)]) -> Result<NewContactInput, AppError> {
    let optional = |key: &str| Some(field(pairs, key).trim().to_owned()).filter(|t| !t.is_empty());
    Ok(NewContactInput {
        channel: ContactChannel::from_code(field(pairs, "channel"))
            .ok_or_else(|| AppError::invalid("channel", "未知的发现渠道"))?,
        on_date: date_field(pairs, "on_date", "日期")?,
        household_id: optional("household_id"),
        person_name: field(pairs, "person_name").to_owned(),
        id_number: optional("id_number"),
        phone: field(pairs, "phone").to_owned(),
        area: match optional("area") {
            None => None,
            Some(code) => Some(
                PlaceCode::parse(&code)
                    .map_err(|error| AppError::invalid("area", format!("区划代码有误：{error}")))?,
            ),
        },
        findings: field(pairs, "findings").to_owned(),
        outcome: ContactOutcome::from_code(field(pairs, "outcome"))
            .ok_or_else(|| AppError::invalid("outcome", "请选择处理方式"))?,
        consent: consent_of(pairs)?,
        new_household_id: optional("new_household_id"),
    })
}

/// `POST /contacts`: records a visit or hotline ticket; a raised warning opens its page.
pub async fn contact_create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(field(&pairs, "csrf")))?;
    let result = match contact_input(&pairs) {
        Ok(input) => state.app.record_contact(&signed.actor, input).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(receipt) => Ok(match (receipt.warning_id, receipt.tracking_number) {
            (Some(warning_id), _) => Redirect::to(&format!("/warnings/{warning_id}")),
            (None, Some(tracking_number)) => {
                Redirect::to(&format!("/contacts?case={tracking_number}"))
            }
            (None, None) => Redirect::to("/contacts"),
        }
        .into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Refused(_))) => {
            let status = if matches!(error, AppError::Invalid(_)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            let page = contacts_page(&state, &signed, error.message(), String::new(), None).await?;
            Ok((status, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}
