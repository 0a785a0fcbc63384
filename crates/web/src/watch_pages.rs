//! 监测预警 pages (issue 5): the warning list and page with the loop forms (W3), department
//! feeds and their comparison runs (数据比对, W2), visits and hotline tickets (W4).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::forms::FormError;
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
use domain::states::JobState;
use domain::{HouseholdNo, input};
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
            late: crate::input::query_flag(self.late.as_deref(), "late", "仅看逾期")?,
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
    /// The loop form as typed (its defaults when fresh) and what was wrong with it.
    form: FormError,
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
    mut form: FormError,
) -> Result<WarningShow, PageError> {
    let d = state.app.warning_detail(&signed.actor, id).await?;
    let today = state.app.today().to_string();
    form.default_value("visited_on", today.as_str());
    form.default_value("visitors", signed.actor.display_name.as_str());
    form.default_value("applicant", d.item.person_name.as_str());
    form.default_value("consent_on", today.as_str());
    form.default_value("disposition", "open_case");
    let villages = if d.can_dispose && d.item.household_external_id.is_none() {
        state.app.villages_for(&signed.actor).await?
    } else {
        Vec::new()
    };
    Ok(WarningShow {
        chrome: Chrome::of(signed),
        d,
        form,
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
    warning_page(&state, &signed, id, FormError::default()).await
}

/// The warning page's loop forms (`action` = assign, verify, judge, dispose, close); each
/// sends the fields of its step.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WarningActForm {
    csrf: String,
    version: String,
    action: String,
    assignee: String,
    visited_on: String,
    visitors: String,
    findings: String,
    judgement: String,
    note: String,
    disposition: String,
    case_kind: String,
    applicant: String,
    consent_signer: String,
    consent_on: String,
    /// 户编号 of a person outside the registry, as typed.
    #[serde(rename = "household_id")]
    household_no: String,
    area: String,
    summary: String,
    reason: String,
}

impl WarningActForm {
    /// The form as typed, to show again (never the token).
    fn typed(&self) -> FormError {
        FormError::of([
            ("action", &self.action),
            ("assignee", &self.assignee),
            ("visited_on", &self.visited_on),
            ("visitors", &self.visitors),
            ("findings", &self.findings),
            ("judgement", &self.judgement),
            ("note", &self.note),
            ("disposition", &self.disposition),
            ("case_kind", &self.case_kind),
            ("applicant", &self.applicant),
            ("consent_signer", &self.consent_signer),
            ("consent_on", &self.consent_on),
            ("household_id", &self.household_no),
            ("area", &self.area),
            ("summary", &self.summary),
            ("reason", &self.reason),
        ])
        .labelled(match self.action.as_str() {
            "verify" => &[("findings", "核实情况")],
            "judge" => &[("note", "研判意见")],
            "dispose" => &[("note", "调整内容"), ("reason", "无需处置的理由")],
            "close" => &[("note", "办结说明")],
            _ => &[],
        })
    }
}

/// The signed consent of an application (`consent_signer`, `consent_on`), when a signer is
/// named.
fn consent_of(signer: &str, signed_on: &str, form: &mut FormError) -> Option<Consent> {
    let signer = signer.trim();
    if signer.is_empty() {
        return None;
    }
    match input::date("consent_on", "授权签字日期", signed_on) {
        Ok(signed_on) => Some(Consent {
            signer: signer.to_owned(),
            signed_on,
        }),
        Err(error) => {
            form.add(&error.field, error.message);
            None
        }
    }
}

/// A village chosen on a form (`area`), when one is.
fn area_of(text: &str, form: &mut FormError) -> Option<domain::PlaceCode> {
    match text.trim() {
        "" => None,
        code => input::place_code("area", "所在村（社区）", code)
            .map_err(|error| form.add(&error.field, error.message))
            .ok(),
    }
}

/// Fails with every fault found, or gives the value.
fn checked<T>(value: Option<T>, form: FormError) -> Result<T, FormError> {
    match value {
        Some(value) if !form.has_errors() => Ok(value),
        _ => Err(form.with_status(StatusCode::UNPROCESSABLE_ENTITY)),
    }
}

impl TryFrom<&WarningActForm> for LoopAction {
    type Error = FormError;

    fn try_from(f: &WarningActForm) -> Result<Self, FormError> {
        let mut form = f.typed();
        let action = match f.action.as_str() {
            "assign" => f
                .assignee
                .trim()
                .parse()
                .map_err(|_| form.add("assignee", "请选择核实人员"))
                .ok()
                .map(|assignee_user_id| LoopAction::Assign { assignee_user_id }),
            "verify" => input::date("visited_on", "核实日期", &f.visited_on)
                .map_err(|error| form.add(&error.field, error.message))
                .ok()
                .map(|visited_on| LoopAction::Verify {
                    visited_on,
                    visitors: f.visitors.clone(),
                    findings: f.findings.clone(),
                }),
            "judge" => match Judgement::from_code(&f.judgement) {
                Some(judgement) => Some(LoopAction::Judge {
                    judgement,
                    note: f.note.clone(),
                }),
                None => {
                    form.add("judgement", "请选择研判结论");
                    None
                }
            },
            "dispose" => match f.disposition.as_str() {
                "open_case" => {
                    let kind = CaseKind::from_code(&f.case_kind);
                    if kind.is_none() {
                        form.add("case_kind", "请选择案件类型");
                    }
                    let consent = consent_of(&f.consent_signer, &f.consent_on, &mut form);
                    let area = area_of(&f.area, &mut form);
                    kind.map(|kind| {
                        LoopAction::Dispose(Disposal::OpenCase {
                            kind,
                            applicant: f.applicant.clone(),
                            consent,
                            household_id: Some(f.household_no.clone())
                                .filter(|text| !text.trim().is_empty()),
                            area,
                            summary: f.summary.clone(),
                        })
                    })
                }
                "adjust" => Some(LoopAction::Dispose(Disposal::Adjust {
                    note: f.note.clone(),
                })),
                "no_action" => Some(LoopAction::Dispose(Disposal::NoAction {
                    reason: f.reason.clone(),
                })),
                _ => {
                    form.add("disposition", "请选择处置方式");
                    None
                }
            },
            "close" => Some(LoopAction::Close {
                note: f.note.clone(),
            }),
            _ => {
                form.add("form", "未知的操作");
                None
            }
        };
        checked(action, form)
    }
}

/// `POST /warnings/{id}`: one step of the loop (`action` = assign, verify, judge, dispose,
/// close). A refused step shows the page again with the reason, the form as typed.
pub async fn warning_act(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<WarningActForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let version: i64 = form.version.trim().parse().unwrap_or(0);
    let failed = match LoopAction::try_from(&form) {
        Ok(action) => match state
            .app
            .act_on_warning(&signed.actor, id, version, action)
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/warnings/{id}")).into_response()),
            Err(error @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Refused(_))) => {
                form.typed().failed(&error)
            }
            Err(other) => return Err(PageError(other)),
        },
        Err(failed) => failed,
    };
    let status = failed.status();
    let page = warning_page(&state, &signed, id, failed).await?;
    Ok((status, page).into_response())
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
    fn job_state(&self, state: &JobState) -> &'static str {
        state.label()
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
    /// The contact form as typed (its defaults when fresh) and what was wrong with it.
    form: FormError,
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
    mut form: FormError,
    notice: String,
    after: Option<&str>,
) -> Result<ContactsPage, PageError> {
    let role = signed.actor.role;
    let today = state.app.today().to_string();
    form.default_value("on_date", today.as_str());
    form.default_value("consent_on", today.as_str());
    let page = state.app.contacts(&signed.actor, after).await?;
    let contacts = page
        .rows
        .into_iter()
        .map(|row| store_free::ContactLine {
            channel: row.channel.label(),
            on_date: row.on_date.to_string(),
            household: row
                .household_external_id
                .map(HouseholdNo::into_string)
                .unwrap_or_default(),
            person_name: row.person_name,
            area_code: row.area_code.as_str().to_owned(),
            findings: row.findings,
            outcome: row.outcome.label(),
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
        form,
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
        FormError::default(),
        notice,
        query.after.as_deref(),
    )
    .await
}

/// The 走访与热线 form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    csrf: String,
    channel: String,
    on_date: String,
    /// 户编号 of a registered household, as typed.
    #[serde(rename = "household_id")]
    household_no: String,
    person_name: String,
    id_number: String,
    phone: String,
    area: String,
    findings: String,
    outcome: String,
    consent_signer: String,
    consent_on: String,
    /// 户编号 for a new person's application, as typed.
    #[serde(rename = "new_household_id")]
    new_household_no: String,
}

impl ContactForm {
    /// The form as typed, to show again (never the token).
    fn typed(&self) -> FormError {
        FormError::of([
            ("channel", &self.channel),
            ("on_date", &self.on_date),
            ("household_id", &self.household_no),
            ("person_name", &self.person_name),
            ("id_number", &self.id_number),
            ("phone", &self.phone),
            ("area", &self.area),
            ("findings", &self.findings),
            ("outcome", &self.outcome),
            ("consent_signer", &self.consent_signer),
            ("consent_on", &self.consent_on),
            ("new_household_id", &self.new_household_no),
        ])
        .labelled(&[("findings", "走访或来电情况")])
    }
}

impl TryFrom<&ContactForm> for NewContactInput {
    type Error = FormError;

    fn try_from(f: &ContactForm) -> Result<Self, FormError> {
        let mut form = f.typed();
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let channel = ContactChannel::from_code(&f.channel);
        if channel.is_none() {
            form.add("channel", "未知的发现渠道");
        }
        let on_date = input::date("on_date", "日期", &f.on_date)
            .map_err(|error| form.add(&error.field, error.message))
            .ok();
        let area = area_of(&f.area, &mut form);
        let outcome = ContactOutcome::from_code(&f.outcome);
        if outcome.is_none() {
            form.add("outcome", "请选择处理方式");
        }
        let consent = consent_of(&f.consent_signer, &f.consent_on, &mut form);
        let input = match (channel, on_date, outcome) {
            (Some(channel), Some(on_date), Some(outcome)) => Some(NewContactInput {
                channel,
                on_date,
                household_id: optional(&f.household_no),
                person_name: f.person_name.clone(),
                id_number: optional(&f.id_number),
                phone: f.phone.clone(),
                area,
                findings: f.findings.clone(),
                outcome,
                consent,
                new_household_id: optional(&f.new_household_no),
            }),
            _ => None,
        };
        checked(input, form)
    }
}

/// `POST /contacts`: records a visit or hotline ticket; a raised warning opens its page. A
/// refused one shows the form again with every value as typed.
pub async fn contact_create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let failed = match NewContactInput::try_from(&form) {
        Ok(input) => match state.app.record_contact(&signed.actor, input).await {
            Ok(receipt) => {
                return Ok(match (receipt.warning_id, receipt.tracking_number) {
                    (Some(warning_id), _) => Redirect::to(&format!("/warnings/{warning_id}")),
                    (None, Some(tracking_number)) => {
                        Redirect::to(&format!("/contacts?case={tracking_number}"))
                    }
                    (None, None) => Redirect::to("/contacts"),
                }
                .into_response());
            }
            Err(error @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Refused(_))) => {
                form.typed().failed(&error)
            }
            Err(other) => return Err(PageError(other)),
        },
        Err(failed) => failed,
    };
    let status = failed.status();
    let page = contacts_page(&state, &signed, failed, String::new(), None).await?;
    Ok((status, page).into_response())
}
