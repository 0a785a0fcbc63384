//! 办件 pages (issue 4): the work queue and re-check due list, intake (受理登记), the case page
//! with a form per action the user may take, the printouts, and the public tracking page.
//! Every page but `/track` needs a session; the use cases check role and area.

use crate::WebState;
use crate::case_input::{ActionFields, action_label, refusal_field};
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::forms::{Choice, FormError, FormFields, HouseholdForm, Vocabulary};
use crate::session::{PageUser, Signed};
use app::AppError;
use app::cases::notice::{CaseNotice, NoticeVillage, VillageNotice};
use app::cases::{CaseDetail, TeamCandidate, WorkItem, WorkPage, WorkQuery, offered_actions};
use app::warnings::{WarningItem, WarningQuery};
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::{Category, Household, MonitoringKind, NationalId, Role};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use workflow::FieldKind;
use workflow::{
    ActionKind, CaseKind, Change, Channel, DepartmentDecision, Explanation, Fact, ObjectionStatus,
    Outcome, Proposal, Step, Verdict,
};

fn change_label(change: Change) -> &'static str {
    change.label()
}

/// One entry of the timeline as the page shows it.
pub struct TimelineRow {
    pub on: String,
    pub who: String,
    pub role: &'static str,
    pub what: String,
}

/// The timeline's sentence for a fact.
pub fn describe(fact: &Fact) -> String {
    match fact {
        Fact::Received(intake) => format!(
            "受理：{}（{}），受理编号 {}，申请人 {}{}{}",
            intake.kind.label(),
            intake.channel.label(),
            intake.tracking_number,
            intake.applicant,
            match &intake.consent {
                Some(consent) =>
                    format!("，{} 于 {} 签署核对授权", consent.signer, consent.signed_on),
                None => String::new(),
            },
            if intake.summary.is_empty() {
                String::new()
            } else {
                format!("；事由：{}", intake.summary)
            }
        ),
        Fact::SharedWith { department } => format!("同步推送{}", department.label()),
        Fact::StepEntered { step } => format!("进入“{}”环节", step.label()),
        Fact::DiscrepancyRecorded {
            number,
            discrepancy,
        } => format!(
            "登记第{number}号疑点（{}）：{}",
            discrepancy.source, discrepancy.description
        ),
        Fact::DiscrepancyExplained {
            number,
            explanation,
        } => match explanation {
            Explanation::Resolved { note } => format!("第{number}号疑点已排除：{note}"),
            Explanation::Confirmed { note } => {
                format!("第{number}号疑点已核实并在调查中反映：{note}")
            }
        },
        Fact::SurveyRecorded(survey) => format!(
            "入户调查（{}），调查组：{}；家庭人口 {} 人",
            survey.surveyed_on,
            survey
                .team
                .iter()
                .map(|member| member.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            survey.household.members.len()
        ),
        Fact::VillageReviewRecorded(review) => format!(
            "村社评议（{}，参会 {} 人）：{}{}",
            review.held_on,
            review.attendance,
            review.outcome.label(),
            if review.note.is_empty() {
                String::new()
            } else {
                format!("。{}", review.note)
            }
        ),
        Fact::JointReviewRecorded { review, decided } => {
            let decided: Vec<String> = decided
                .iter()
                .map(|d| format!("{}{}", change_label(d.change), d.category.label()))
                .collect();
            let overrides: Vec<String> = review
                .verdicts
                .iter()
                .filter_map(|v| match &v.verdict {
                    Verdict::Override { reason } => {
                        Some(format!("改判“{}”：{reason}", v.category.label()))
                    }
                    Verdict::Confirm => None,
                })
                .collect();
            format!(
                "镇街联合研判（{}）：{}{}",
                review.held_on,
                if decided.is_empty() {
                    "无类别变动".to_owned()
                } else {
                    decided.join("、")
                },
                if overrides.is_empty() {
                    String::new()
                } else {
                    format!("；{}", overrides.join("；"))
                }
            )
        }
        Fact::NoticePosted(notice) => format!(
            "张贴公示：{} 至 {}（{} 天）",
            notice.posted_on, notice.ends_on, notice.days
        ),
        Fact::ObjectionRecorded { number, summary } => {
            format!("登记第{number}号公示异议：{summary}")
        }
        Fact::SentBackForVerification => "因公示异议退回重新调查核实".to_owned(),
        Fact::ObjectionAnswered { number, answer } => format!("答复第{number}号异议：{answer}"),
        Fact::CategoryConfirmed { category } => format!("审核确认“{}”", category.label()),
        Fact::CategoryDeclined { category, reason } => {
            format!("审核不同意“{}”：{reason}", category.label())
        }
        Fact::Concluded { changes } => format!(
            "写入救助档案：{}",
            changes
                .iter()
                .map(|c| format!(
                    "{}{}（{}）",
                    change_label(c.change),
                    c.category.label(),
                    c.on
                ))
                .collect::<Vec<_>>()
                .join("、")
        ),
        Fact::MonitoringContinues { .. } => "退出后继续纳入动态监测".to_owned(),
        Fact::Refused { reason } => format!("不予认定：{reason}"),
        Fact::RefusalNoticeDelivered => "不予认定告知书已送达申请人".to_owned(),
        Fact::Withdrawn { reason } => format!("撤回：{reason}"),
        Fact::SpecialLimitRecorded { reason } => {
            format!("特殊情况延长审核确认总时限：{reason}")
        }
    }
}

// ---------------------------------------------------------------- work queue

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    overdue: Option<String>,
    /// 待我办理: without the 跟踪 lines (P2).
    #[serde(default)]
    mine: Option<String>,
    /// The cursor of the page (`next` of the page before).
    #[serde(default)]
    after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases.html")]
pub struct QueuePage {
    chrome: Chrome,
    today: NaiveDate,
    overdue_only: bool,
    /// 待我办理: the 跟踪 lines left out.
    acting_only: bool,
    /// The user's department follows every case from intake (P2): the 待我办理 / 全部 filter.
    watches: bool,
    /// Not the first page (a link back to it is shown).
    paged: bool,
    /// One page of the queue (or of the overdue list).
    queue: WorkPage,
    /// The first page of the re-check due list (`/rechecks` has the rest).
    rechecks: app::rechecks::RecheckPage,
    /// Warnings of the area past their step's due date (W3), the first page of them.
    late_warnings: Vec<WarningItem>,
    n_late_warnings: i64,
    can_open: bool,
    /// Villages of the area with cases at 公示 (always the user's own village), for 村级公示.
    notice_villages: Vec<NoticeVillage>,
    /// The user works in one village (村社协理员, 网格员): its notice is 本村公示.
    village_user: bool,
}

impl QueuePage {
    /// The address of the first page of the same list (the overdue and 待我办理 filters kept).
    fn first_link(&self) -> &'static str {
        if self.overdue_only {
            "/cases?overdue=1"
        } else if self.acting_only {
            "/cases?mine=1"
        } else {
            "/cases"
        }
    }

    /// What joins `after=` to `first_link`.
    fn after_joiner(&self) -> &'static str {
        if self.first_link().contains('?') {
            "&"
        } else {
            "?"
        }
    }

    /// The line's other running limits: `另有：公示期 2026-12-03；…` (empty without any).
    fn others_text(&self, item: &WorkItem) -> String {
        if item.others.is_empty() {
            return String::new();
        }
        let others: Vec<String> = item
            .others
            .iter()
            .map(|other| format!("{} {}", other.limit.label(), other.due_on))
            .collect();
        format!("另有：{}", others.join("；"))
    }
}

pub async fn queue(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<QueueQuery>,
) -> Result<QueuePage, PageError> {
    let today = state.app.today();
    let overdue_only = query.overdue.is_some_and(|v| !v.is_empty());
    let acting_only = !overdue_only && query.mine.is_some_and(|v| !v.is_empty());
    let paged = query
        .after
        .as_deref()
        .is_some_and(|after| !after.is_empty());
    let work = WorkQuery {
        overdue_only,
        acting_only,
        after: query.after,
    };
    let queue = state.app.work_queue(&signed.actor, today, work).await?;
    let until = crate::recheck_pages::horizon(today);
    let rechecks = match state.app.recheck_due(&signed.actor, until, None).await {
        Ok(page) => page,
        Err(AppError::Forbidden) => app::rechecks::RecheckPage {
            items: Vec::new(),
            next_after: None,
        },
        Err(other) => return Err(PageError(other)),
    };
    let late = WarningQuery {
        late: true,
        ..WarningQuery::default()
    };
    let (late_warnings, n_late_warnings) = match state.app.warnings(&signed.actor, &late).await {
        Ok(page) => (page.items, page.total),
        Err(AppError::Forbidden) => (Vec::new(), 0),
        Err(other) => return Err(PageError(other)),
    };
    let notice_villages = state.app.notice_villages(&signed.actor).await?;
    Ok(QueuePage {
        can_open: workflow::INTAKE_ROLES.contains(&signed.actor.role),
        notice_villages,
        village_user: signed.actor.scope().level() == domain::PlaceLevel::Village,
        chrome: Chrome::of(&signed),
        today,
        overdue_only,
        acting_only,
        watches: workflow::WATCHING_ROLES.contains(&signed.actor.role),
        paged,
        queue,
        rechecks,
        late_warnings,
        n_late_warnings,
    })
}

/// The 发起核查 button of the re-check due list.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RecheckForm {
    csrf: String,
    /// 户编号, as the form sends it.
    #[serde(rename = "household_id")]
    household_no: String,
}

/// `POST /cases/recheck`: opens the re-check case of a household from the due list (W1).
pub async fn open_recheck(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<RecheckForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let household_no = form.household_no.trim();
    let (case_id, _) = state
        .app
        .open_recheck(&signed.actor, household_no, "定期核查到期")
        .await?;
    Ok(Redirect::to(&format!("/cases/{case_id}")).into_response())
}

// ---------------------------------------------------------------- intake

#[derive(Template, WebTemplate)]
#[template(path = "case_new.html")]
pub struct IntakePage {
    chrome: Chrome,
    /// The form as typed (its defaults when fresh) and what was wrong with it.
    form: FormError,
    villages: Vec<(String, String)>,
    kinds: Vec<Choice>,
    channels: Vec<Choice>,
}

impl IntakePage {
    fn v(&self, key: &str) -> &str {
        self.form.v(key)
    }

    fn err(&self, key: &str) -> &str {
        self.form.err(key)
    }
}

async fn intake_page(
    state: &WebState,
    signed: &Signed,
    form: FormError,
) -> Result<IntakePage, PageError> {
    if !workflow::INTAKE_ROLES.contains(&signed.actor.role) {
        return Err(PageError(AppError::Forbidden));
    }
    Ok(IntakePage {
        chrome: Chrome::of(signed),
        form,
        villages: state.app.villages_for(&signed.actor).await?,
        kinds: CaseKind::ALL
            .iter()
            .map(|k| Choice {
                code: k.code(),
                label: k.label(),
            })
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| Choice {
                code: c.code(),
                label: c.label(),
            })
            .collect(),
    })
}

/// The intake form's address with a household filled in.
pub fn intake_link(kind: &str, household_no: &str, area_code: &str, applicant: &str) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(byte).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect()
    };
    format!(
        "/cases/new?kind={}&household_id={}&area_code={}&applicant={}",
        encode(kind),
        encode(household_no),
        encode(area_code),
        encode(applicant)
    )
}

/// `GET /cases/new[?kind=…&household_id=…&area_code=…&applicant=…]` (the household page links
/// here with its household filled in).
pub async fn intake_form(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<IntakePage, PageError> {
    let mut values: BTreeMap<String, String> = query
        .into_iter()
        .filter(|(key, _)| {
            ["kind", "household_id", "area_code", "applicant", "channel"].contains(&key.as_str())
        })
        .collect();
    values.entry("kind".into()).or_insert("application".into());
    values
        .entry("channel".into())
        .or_insert(match signed.actor.role {
            Role::TownReviewer => "town_window".into(),
            Role::GridWorker => "grid_worker".into(),
            _ => "village_window".into(),
        });
    values
        .entry("consent_signed_on".into())
        .or_insert(state.app.today().to_string());
    intake_page(&state, &signed, FormError::of(values)).await
}

/// A use case's refusal beside the field it is about: a workflow refusal at its field
/// (`refusal_field`), a second case of a household at `household_id`.
fn failed(form: FormError, error: &AppError) -> FormError {
    match error {
        AppError::Refused(refusal) => match refusal_field(refusal.code()) {
            "" => form.failed(error),
            field => form
                .with(field, refusal.message())
                .with_status(StatusCode::CONFLICT),
        },
        AppError::Conflict(_) => form
            .with("household_id", error.message())
            .with_status(StatusCode::CONFLICT),
        other => form.failed(other),
    }
}

/// The 受理登记 form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IntakeForm {
    csrf: String,
    kind: String,
    channel: String,
    /// 户编号, as typed.
    #[serde(rename = "household_id")]
    household_no: String,
    area_code: String,
    applicant: String,
    received_on: String,
    consent: String,
    consent_signer: String,
    consent_signed_on: String,
    summary: String,
}

impl IntakeForm {
    /// The form as typed, to show again (never the token).
    fn typed(&self) -> FormError {
        FormError::of([
            ("kind", &self.kind),
            ("channel", &self.channel),
            ("household_id", &self.household_no),
            ("area_code", &self.area_code),
            ("applicant", &self.applicant),
            ("received_on", &self.received_on),
            ("consent", &self.consent),
            ("consent_signer", &self.consent_signer),
            ("consent_signed_on", &self.consent_signed_on),
            ("summary", &self.summary),
        ])
    }
}

/// An intake as the form describes it: what was received, and on which day when it is entered
/// afterwards (`None`: today).
pub struct IntakeEntry {
    intake: app::cases::NewIntake,
    received_on: Option<NaiveDate>,
}

impl IntakeEntry {
    /// Read with the API's parser (`ActionFields`), so a form and a JSON body get the same
    /// answers; every fault is kept beside its field.
    fn parse(form: &IntakeForm, today: NaiveDate) -> Result<Self, FormError> {
        let typed = form.typed();
        let fields = ActionFields::from_form(
            &typed
                .pairs()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect::<Vec<_>>(),
        );
        match (fields.to_intake(today), fields.received_on()) {
            (Ok(intake), Ok(received_on)) => Ok(IntakeEntry {
                intake,
                received_on,
            }),
            (intake, received_on) => {
                let mut failed = typed;
                for error in [intake.err(), received_on.err()].into_iter().flatten() {
                    failed = failed.failed(&error);
                }
                Err(failed)
            }
        }
    }
}

/// `POST /cases`: 受理登记. A refused one shows the form again with every value as typed.
pub async fn intake_submit(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<IntakeForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let failed = match IntakeEntry::parse(&form, state.app.today()) {
        Ok(entry) => match state
            .app
            .open_case_on(&signed.actor, entry.intake, entry.received_on)
            .await
        {
            Ok((case_id, _)) => {
                return Ok(Redirect::to(&format!("/cases/{case_id}")).into_response());
            }
            Err(AppError::NotFound) => form
                .typed()
                .with(
                    "household_id",
                    "未找到该户，或不在您的管辖范围内（新申请的户请选择所在村社）",
                )
                .with_status(StatusCode::NOT_FOUND),
            Err(error @ (AppError::Invalid(_) | AppError::Refused(_) | AppError::Conflict(_))) => {
                failed(form.typed(), &error)
            }
            Err(other) => return Err(PageError(other)),
        },
        Err(failed) => failed,
    };
    let status = failed.status();
    let page = intake_page(&state, &signed, failed).await?;
    Ok((status, page).into_response())
}

// ---------------------------------------------------------------- case page

pub struct DeadlineRow {
    pub label: &'static str,
    pub started_on: NaiveDate,
    pub due_on: NaiveDate,
    pub late: bool,
    /// 待确认: counted across a year whose holiday arrangement is not entered.
    pub pending: bool,
}

/// A failed action, shown next to its form: which form, the line above it, and the form as
/// typed with a message beside each field.
#[derive(Default)]
pub struct Failure {
    action: String,
    message: String,
    form: FormError,
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
pub struct CasePage {
    chrome: Chrome,
    d: CaseDetail,
    timeline: Vec<TimelineRow>,
    deadlines: Vec<DeadlineRow>,
    offered: Vec<ActionKind>,
    household: Option<Household>,
    household_source: String,
    masked: bool,
    proposal: Option<Proposal>,
    monitoring_kinds: Vec<MonitoringKind>,
    /// D2: the 供养方式 a joint review starting 特困 chooses from.
    support_modes: Vec<domain::SupportMode>,
    candidates: Vec<TeamCandidate>,
    my_categories: Vec<Category>,
    form: HouseholdForm,
    vocab: Vocabulary,
    villages: Vec<(String, String)>,
    editing: bool,
    /// When and by whom the survey draft was saved ("" when there is none).
    survey_draft: String,
    failure: Failure,
    /// 救助帮扶 of the case's household: a preview while the case runs (issue 6, A2).
    assist: Option<app::assistance::HouseholdAssistance>,
    /// Whether the section is shown at all (roles that read households).
    assist_shown: bool,
    /// A referral form of the section that failed, with what was typed.
    pub(crate) assist_failure: crate::forms::FormError,
    /// 材料 (D4): the case's documents and its upload form.
    pub(crate) docs: crate::documents_view::DocumentsView,
}

impl CasePage {
    fn label(&self, code: &str) -> &'static str {
        action_label(code)
    }

    fn failed(&self, action: &str) -> bool {
        self.failure.action == action
    }

    /// The input a field of an action without a form of its own is entered in (its entry in
    /// the vocabulary, `ActionKind::fields`): `select` for a choice, else the input's type;
    /// `None` for a list or a household, which need a form written for them.
    fn form_input(&self, field: &workflow::Field) -> Option<&'static str> {
        match field.kind {
            FieldKind::Text => Some("text"),
            FieldKind::Date => Some("date"),
            FieldKind::Number { .. } => Some("number"),
            FieldKind::Bool => Some("checkbox"),
            FieldKind::Word(_) | FieldKind::Choice(_) => Some("select"),
            FieldKind::Users | FieldKind::Records(_) | FieldKind::Household => None,
        }
    }

    /// The codes and labels a choice field offers (a word list's labels; a choice's codes).
    fn choices(&self, field: &workflow::Field) -> Vec<(&'static str, &'static str)> {
        match field.kind {
            FieldKind::Word(words) => words
                .codes
                .iter()
                .copied()
                .zip(words.labels.iter().copied())
                .collect(),
            FieldKind::Choice(codes) => codes.iter().map(|code| (*code, *code)).collect(),
            _ => Vec::new(),
        }
    }

    /// The error of `field` in the form of `action`, when that form failed.
    fn err_in(&self, action: &str, field: &str) -> &str {
        if self.failure.action != action {
            return "";
        }
        self.failure.form.err(field)
    }

    /// The value typed into `field` of the form of `action`, when that form failed.
    fn val_in(&self, action: &str, field: &str) -> &str {
        if self.failure.action != action {
            return "";
        }
        self.failure.form.v(field)
    }

    fn id_shown(&self, id: &NationalId) -> String {
        if self.masked {
            id.masked()
        } else {
            id.to_string()
        }
    }

    fn yuan(&self, value: impl std::fmt::Display) -> String {
        value.to_string()
    }

    fn today(&self) -> String {
        self.d.today.to_string()
    }

    fn step_label(&self) -> &'static str {
        self.d.case.step().label()
    }

    fn is_proposed(&self, category: &Category) -> bool {
        self.proposal
            .as_ref()
            .is_some_and(|p| p.categories.contains(category))
    }

    fn kind_proposed(&self, kind: &MonitoringKind) -> bool {
        self.proposal
            .as_ref()
            .is_some_and(|p| p.monitoring_kind == Some(*kind))
    }

    /// The meeting's judgement of a pending test of the recorded joint review.
    fn judgement_of<'r>(
        &self,
        review: &'r workflow::JointReview,
        test: &workflow::PendingTest,
    ) -> Option<&'r workflow::PendingJudgement> {
        review
            .judgements
            .iter()
            .find(|judgement| judgement.judges(test))
    }

    fn explanation_lines(&self) -> Vec<String> {
        self.proposal
            .as_ref()
            .map(|p| p.explanation.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn decision_text(&self, decision: &Option<DepartmentDecision>) -> String {
        match decision {
            None => "待审核".to_owned(),
            Some(DepartmentDecision::Confirmed { on, .. }) => format!("{on} 确认"),
            Some(DepartmentDecision::Declined { on, reason, .. }) => {
                format!("{on} 不同意：{reason}")
            }
        }
    }

    fn objection_status(&self, status: &ObjectionStatus) -> String {
        match status {
            ObjectionStatus::Open => "待核实".to_owned(),
            ObjectionStatus::Reverifying => "重新调查核实中".to_owned(),
            ObjectionStatus::Answered { on, answer } => format!("{on} 已答复：{answer}"),
        }
    }

    fn outcome_text(&self) -> String {
        match self.d.case.outcome() {
            None => String::new(),
            Some(Outcome::Confirmed { changes }) => changes
                .iter()
                .map(|c| format!("{}{}（{}）", c.change.label(), c.category.label(), c.on))
                .collect::<Vec<_>>()
                .join("、"),
            Some(Outcome::Refused { reason }) => format!("不予认定：{reason}"),
            Some(Outcome::Withdrawn { reason }) => format!("撤回：{reason}"),
        }
    }

    fn unexplained(&self) -> Vec<u32> {
        self.d
            .case
            .discrepancies()
            .iter()
            .filter(|d| d.explanation.is_none())
            .map(|d| d.number)
            .collect()
    }

    fn reverifying(&self) -> Vec<u32> {
        self.d
            .case
            .objections()
            .iter()
            .filter(|o| o.status == ObjectionStatus::Reverifying)
            .map(|o| o.number)
            .collect()
    }

    fn has_notice_print(&self) -> bool {
        !self.d.case.decided().is_empty()
    }

    /// The 村级公示 of the case's village while the case is at the notice step.
    fn village_notice_href(&self) -> Option<String> {
        if self.d.case.step() != Step::Notice {
            return None;
        }
        let village = self.d.case.area().at_level(domain::PlaceLevel::Village)?;
        Some(format!("/villages/{village}/print/notice"))
    }

    fn has_refusal_print(&self) -> bool {
        matches!(self.d.case.outcome(), Some(Outcome::Refused { .. }))
    }

    fn team_checked(&self, user_id: &i64) -> bool {
        let id = user_id.to_string();
        self.failure.form.v("team").split(',').any(|v| v == id)
    }
}

pub(crate) async fn case_page(
    state: &WebState,
    signed: &Signed,
    case_id: i64,
    mut failure: Failure,
    survey_form: Option<HouseholdForm>,
) -> Result<CasePage, PageError> {
    let actor = &signed.actor;
    let d = state.app.case_detail(actor, case_id).await?;
    let offered = offered_actions(&d.case, actor.role, d.today);
    let timeline = d
        .timeline
        .iter()
        .filter(|entry| !matches!(entry.fact, Fact::SharedWith { .. }))
        .map(|entry| TimelineRow {
            on: entry.on.to_string(),
            who: entry.actor_name.clone(),
            role: entry.actor_role.label(),
            what: describe(&entry.fact),
        })
        .collect();
    let deadlines = d
        .deadlines
        .iter()
        .map(|deadline| DeadlineRow {
            label: deadline.limit.label(),
            started_on: deadline.started_on,
            due_on: deadline.due_on,
            late: deadline.due_on < d.today,
            pending: deadline.pending,
        })
        .collect();
    let masked = !actor.sees_unmasked();
    let registry = match d.household_row_id {
        Some(row_id) if actor.role.reads_households() => {
            state.app.household_detail(actor, row_id, false).await.ok()
        }
        _ => None,
    };
    let (household, household_source) = match (d.case.survey(), &registry) {
        (Some(survey), _) => (
            Some(survey.household.clone()),
            format!("入户调查（{}）", survey.surveyed_on),
        ),
        (None, Some(detail)) => (Some(detail.household.clone()), "家庭档案".to_owned()),
        (None, None) => (None, String::new()),
    };
    let mut candidates = Vec::new();
    let mut survey_draft = String::new();
    let form = match survey_form {
        Some(form) => form,
        None if offered.contains(&ActionKind::RecordSurvey) => {
            candidates = state.app.team_candidates(actor, case_id).await?;
            let draft = state.app.survey_draft(actor, case_id).await?;
            match (draft, d.case.survey(), d.household_row_id) {
                // A saved draft is taken up where it was left.
                (Some(draft), _, _) => {
                    survey_draft = format!("{}（{}）", draft.saved_at, draft.saved_by);
                    if failure.action.is_empty() {
                        let mut typed = FormError::of(
                            draft
                                .fields
                                .iter()
                                .filter(|(key, _)| key != "team")
                                .cloned(),
                        );
                        let team: Vec<&str> = draft
                            .fields
                            .iter()
                            .filter(|(key, _)| key == "team")
                            .map(|(_, value)| value.as_str())
                            .collect();
                        typed.set("team", team.join(","));
                        failure = Failure {
                            action: "record_survey".to_owned(),
                            message: String::new(),
                            form: typed,
                        };
                    }
                    HouseholdForm::from_pairs(draft.fields)
                }
                (None, Some(survey), _) => HouseholdForm::from_household(&survey.household),
                // Surveying a registered household starts from its record (a logged full view).
                (None, None, Some(row_id)) => {
                    match state.app.household_detail(actor, row_id, true).await {
                        Ok(detail) => HouseholdForm::from_household(&detail.household),
                        Err(_) => blank_survey(&d),
                    }
                }
                (None, None, None) => blank_survey(&d),
            }
        }
        None => HouseholdForm::default(),
    };
    if candidates.is_empty() && offered.contains(&ActionKind::RecordSurvey) {
        candidates = state.app.team_candidates(actor, case_id).await?;
    }
    let proposal = if offered.contains(&ActionKind::RecordJointReview) {
        state.app.case_proposal(actor, case_id).await.ok()
    } else {
        d.case.joint_review().map(|review| review.proposal.clone())
    };
    let my_categories = d
        .case
        .decided()
        .iter()
        .filter(|decided| decided.decision.is_none() && decided.department() == actor.role)
        .map(|decided| decided.category)
        .collect();
    let villages = if offered.contains(&ActionKind::RecordSurvey) {
        state.app.villages_for(actor).await?
    } else {
        Vec::new()
    };
    let assist_shown = actor.role.reads_households();
    let assist = if assist_shown {
        state.app.case_assistance(actor, case_id).await?
    } else {
        None
    };
    let docs = crate::documents_view::DocumentsView::load(
        state,
        signed,
        app::documents::Owner::Case(case_id),
    )
    .await;
    Ok(CasePage {
        docs,
        assist,
        assist_shown,
        assist_failure: crate::forms::FormError::default(),
        chrome: Chrome::of(signed),
        timeline,
        deadlines,
        offered,
        household,
        household_source,
        masked,
        proposal,
        monitoring_kinds: MonitoringKind::ALL.to_vec(),
        support_modes: domain::SupportMode::ALL.to_vec(),
        candidates,
        my_categories,
        form,
        vocab: Vocabulary::new(),
        villages,
        editing: true,
        survey_draft,
        failure,
        d,
    })
}

/// A first survey of a household not yet in the registry: its 户编号, village and applicant.
fn blank_survey(d: &CaseDetail) -> HouseholdForm {
    let mut pairs: Vec<(String, String)> = vec![
        ("id".into(), d.case.household_no().as_str().to_owned()),
        ("area_code".into(), d.case.area().as_str().to_owned()),
        ("hukou".into(), "rural".into()),
        ("m0_name".into(), d.case.intake().applicant.clone()),
        ("m0_relation".into(), "head".into()),
    ];
    for key in ["g_education", "g_medical", "g_housing", "g_drinking_water"] {
        pairs.push((key.into(), "on".into()));
    }
    HouseholdForm::from_pairs(pairs)
}

pub async fn case_show(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<CasePage, PageError> {
    case_page(&state, &signed, id, Failure::default(), None).await
}

/// The case page's action forms (`action` and that action's fields). Their names are partly
/// data — a category's `verdict_<category>`, a pending test's `judgement:<rule>:<param>`, the
/// survey's member rows, a repeated `team` — so the form is read from the fields as sent, into
/// the API's `ActionFields` (one parser for both) and, for a survey, the household form.
#[derive(Deserialize)]
#[serde(from = "FormFields")]
pub struct CaseActionForm {
    csrf: String,
    fields: ActionFields,
    /// The form as typed, to show again (never the token; the team as one list).
    typed: FormError,
    /// 入户调查: the household part of the form.
    survey: Option<HouseholdForm>,
    /// 暂存草稿 pressed on the survey form: its fields as sent (never the token).
    draft: Option<Vec<(String, String)>>,
}

impl From<FormFields> for CaseActionForm {
    fn from(sent: FormFields) -> Self {
        let fields = ActionFields::from_form(sent.pairs());
        let mut typed = FormError::of(
            sent.pairs()
                .iter()
                .filter(|(key, _)| key != "csrf" && key != "team")
                .cloned(),
        );
        typed.set("team", fields.list("team").join(","));
        let typed = typed.labelled(CASE_ACTION_LABELS);
        let survey = (fields.action == "record_survey").then(|| HouseholdForm::from_fields(&sent));
        let draft = (survey.is_some() && !sent.get("save_draft").is_empty()).then(|| {
            sent.pairs()
                .iter()
                .filter(|(key, _)| key != "csrf" && key != "save_draft")
                .cloned()
                .collect()
        });
        CaseActionForm {
            csrf: sent.get("csrf").to_owned(),
            fields,
            typed,
            survey,
            draft,
        }
    }
}

/// The case page's names of the action forms' fields, before the common ones.
const CASE_ACTION_LABELS: &[(&str, &str)] = &[
    ("source", "疑点来源"),
    ("description", "疑点内容"),
    ("number", "疑点编号"),
    ("resolution", "核实结果"),
    ("note", "说明"),
    ("team", "调查组成员"),
    ("household", "入户调查的家庭情况"),
    ("attendance", "参会人数"),
    ("outcome", "评议结果"),
    ("verdicts", "研判意见"),
    ("summary", "异议内容"),
    ("answer", "答复内容"),
    ("category", "类别"),
    ("monitoring_kind", "监测类型"),
];

const SURVEY_FAULTY: &str = "入户调查的家庭情况有误，请修改标红的内容";

/// `POST /cases/{id}/actions`: one action from the case page's form.
pub async fn case_act(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<CaseActionForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let CaseActionForm {
        mut fields,
        typed,
        survey: mut survey_form,
        draft,
        ..
    } = form;
    if let Some(draft) = draft {
        // 暂存草稿: kept as typed, unchecked, until the survey is recorded.
        state
            .app
            .save_survey_draft(&signed.actor, id, &draft)
            .await?;
        return Ok(Redirect::to(&format!("/cases/{id}#survey-form")).into_response());
    }
    if let Some(form) = survey_form.as_mut() {
        if form.row_command() {
            // 添加成员 / 删除 without JavaScript: the form again with every value, nothing saved.
            let failure = Failure {
                action: fields.action.clone(),
                message: String::new(),
                form: typed,
            };
            let page = case_page(&state, &signed, id, failure, survey_form).await?;
            return Ok(page.into_response());
        }
        match form.build_household(None) {
            Some(household) => fields.household = Some(household),
            None => {
                let failure = Failure {
                    action: fields.action.clone(),
                    message: SURVEY_FAULTY.to_owned(),
                    form: typed,
                };
                let page = case_page(&state, &signed, id, failure, survey_form).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        }
    }
    let result = match (fields.to_action(state.app.today()), fields.on()) {
        (Ok(action), Ok(on)) => {
            state
                .app
                .act_on_case_on(&signed.actor, id, action, on)
                .await
        }
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Refused(_) | AppError::Conflict(_))) => {
            let form = failed(typed, &error);
            let mut message = match error {
                AppError::Invalid(_) => form.summary(),
                _ => error.message(),
            };
            if let (Some(survey), AppError::Invalid(list)) = (survey_form.as_mut(), &error) {
                // The household's fields are named in Chinese next to them, not by code.
                for e in list {
                    if let Some(field) = e.field.strip_prefix("household.") {
                        survey.add_record_error(field, &e.message);
                    }
                }
                if survey.has_errors() {
                    message = SURVEY_FAULTY.to_owned();
                }
            }
            let status = form.status();
            let failure = Failure {
                action: fields.action.clone(),
                message,
                form,
            };
            let page = case_page(&state, &signed, id, failure, survey_form).await?;
            Ok((status, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

// ---------------------------------------------------------------- printouts

#[derive(Template, WebTemplate)]
#[template(path = "print_survey.html")]
pub struct SurveyPrint {
    d: CaseDetail,
    survey: workflow::Survey,
    masked: bool,
    /// The joint review's proposal once recorded, else the rules engine's on the survey today.
    proposal: Option<workflow::Proposal>,
}

impl SurveyPrint {
    fn id_shown(&self, id: &NationalId) -> String {
        if self.masked {
            id.masked()
        } else {
            id.to_string()
        }
    }

    fn yuan(&self, value: impl std::fmt::Display) -> String {
        value.to_string()
    }

    fn age(&self, id: &NationalId) -> u32 {
        id.age_on(self.survey.surveyed_on)
    }

    fn explanation_lines(&self) -> Vec<&str> {
        self.proposal
            .as_ref()
            .map(|p| p.explanation.lines().collect())
            .unwrap_or_default()
    }
}

fn not_yet(what: &str) -> PageError {
    PageError(AppError::invalid(
        "case",
        format!("该案件尚无{what}，暂不能打印"),
    ))
}

/// `GET /cases/{id}/print/survey`: 入户调查报告 (通用表单).
pub async fn print_survey(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<SurveyPrint, PageError> {
    let d = state.app.case_detail(&signed.actor, id).await?;
    let survey = d
        .case
        .survey()
        .cloned()
        .ok_or_else(|| not_yet("入户调查"))?;
    let proposal = match d.case.joint_review() {
        Some(review) => Some(review.proposal.clone()),
        None => state.app.case_proposal(&signed.actor, id).await.ok(),
    };
    Ok(SurveyPrint {
        d,
        survey,
        masked: !signed.actor.sees_unmasked(),
        proposal,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "print_notice.html")]
pub struct NoticePrint {
    n: CaseNotice,
    place_name: String,
    /// 监督电话 and the rights of review (issue 15 item 9).
    phone: Option<String>,
    reconsideration_days: Option<i64>,
    litigation_months: Option<i64>,
    /// 救济机关 (issue 14 item 2).
    bodies: crate::ReviewBodies,
}

/// `GET /cases/{id}/print/notice`: 公示 — names and ID numbers masked, no health or bank data.
pub async fn print_notice(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<NoticePrint, PageError> {
    let d = state.app.case_detail(&signed.actor, id).await?;
    if d.case.survey().is_none() {
        return Err(not_yet("入户调查"));
    }
    let n = CaseNotice::of(d.id, &d.case).ok_or_else(|| not_yet("联合研判结果"))?;
    let (reconsideration_days, litigation_months) = state.app.review_periods(d.today)?;
    Ok(NoticePrint {
        n,
        place_name: d.place_name,
        phone: state.config.supervision_phone.clone(),
        reconsideration_days,
        litigation_months,
        bodies: state.config.review_bodies.clone(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "print_village_notice.html")]
pub struct VillageNoticePrint {
    v: VillageNotice,
    phone: Option<String>,
    reconsideration_days: Option<i64>,
    litigation_months: Option<i64>,
    bodies: crate::ReviewBodies,
}

/// `GET /villages/{code}/print/notice`: 村级公示 — every case of the village at the notice
/// step on one sheet, masked as the per-case notice; a village outside the user's area is 404.
pub async fn print_village_notice(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(code): Path<String>,
) -> Result<VillageNoticePrint, PageError> {
    let v = state.app.village_notice(&signed.actor, &code).await?;
    let (reconsideration_days, litigation_months) = state.app.review_periods(v.today)?;
    Ok(VillageNoticePrint {
        v,
        phone: state.config.supervision_phone.clone(),
        reconsideration_days,
        litigation_months,
        bodies: state.config.review_bodies.clone(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "print_refusal.html")]
pub struct RefusalPrint {
    d: CaseDetail,
    reason: String,
    /// Some categories were confirmed and others declined: the notice is of the part declined.
    partial: bool,
    /// 行政复议 days and 行政诉讼 months from the catalogue (`review.*`).
    reconsideration_days: Option<i64>,
    litigation_months: Option<i64>,
    phone: Option<String>,
    /// 救济机关: the bodies named for 行政复议 and 行政诉讼 (issue 14 item 2).
    bodies: crate::ReviewBodies,
}

/// `GET /cases/{id}/print/refusal`: 不予认定告知书 with the written reason.
pub async fn print_refusal(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<RefusalPrint, PageError> {
    let d = state.app.case_detail(&signed.actor, id).await?;
    // The categories the departments declined, each with its reason and, when held per
    // person, the members (issue 14 item 2).
    let declined: Vec<String> = state
        .app
        .declined_parts(&d.case)?
        .iter()
        .map(app::cases::DeclinedPart::line)
        .collect();
    let (reason, partial) = match d.case.outcome() {
        Some(Outcome::Refused { reason }) if declined.is_empty() => (reason.clone(), false),
        Some(Outcome::Refused { .. }) => (declined.join("；"), false),
        // 部分不予认定: the part declined.
        Some(Outcome::Confirmed { .. }) if d.case.owes_refusal_notice() => {
            (declined.join("；"), true)
        }
        _ => return Err(not_yet("不予认定决定")),
    };
    let (reconsideration_days, litigation_months) = state
        .app
        .review_periods(d.case.closed_on().unwrap_or(d.today))?;
    Ok(RefusalPrint {
        d,
        reason,
        partial,
        reconsideration_days,
        litigation_months,
        phone: state.config.supervision_phone.clone(),
        bodies: state.config.review_bodies.clone(),
    })
}

// ---------------------------------------------------------------- public tracking

#[derive(Deserialize)]
pub struct TrackQuery {
    #[serde(default)]
    number: String,
}

/// The fields of the tracking form: the receipt (查询码) and the proof (the applicant's phone
/// or the ID number's last digits). Sent by POST, so neither lands in an address or a log.
#[derive(Deserialize)]
pub struct TrackForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    proof: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "track.html")]
pub struct TrackPage {
    number: String,
    message: String,
    tracked: Option<app::online::Tracked>,
    proof_digits: usize,
    /// 救济途径 of a decline: 行政复议 days and 行政诉讼 months (`review.*`) and the bodies.
    reconsideration_days: Option<i64>,
    litigation_months: Option<i64>,
    bodies: crate::ReviewBodies,
}

impl TrackPage {
    fn new(number: String, message: String, tracked: Option<app::online::Tracked>) -> Self {
        TrackPage {
            number,
            message,
            tracked,
            proof_digits: app::online::PROOF_ID_DIGITS,
            reconsideration_days: None,
            litigation_months: None,
            bodies: crate::ReviewBodies::default(),
        }
    }

    /// The rights of review of a decline (whole or partial), as the 告知书 words them, and
    /// how the written notice reaches the applicant.
    fn review_rights(&self) -> String {
        let days = self
            .reconsideration_days
            .map(|days| format!("{days}日内"))
            .unwrap_or_default();
        let months = self
            .litigation_months
            .map(|months| format!("{months}个月内"))
            .unwrap_or_default();
        let body = self
            .bodies
            .reconsideration
            .as_ref()
            .map(|body| format!("向{body}"))
            .unwrap_or_default();
        let court = self.bodies.court.as_deref().unwrap_or("人民法院");
        let delivery = match self
            .tracked
            .as_ref()
            .and_then(|tracked| tracked.refusal_notice_delivered_on)
        {
            Some(on) => format!("书面告知书已于{on}送达。"),
            None => "书面告知书由所在镇街送达。".to_owned(),
        };
        format!(
            "如对本决定不服，可自收到告知书之日起{days}依法{body}申请行政复议，或者{months}依法向{court}提起行政诉讼；如家庭情况发生变化，可重新提出申请。{delivery}"
        )
    }

    /// The current step in plain words.
    fn current_words(&self) -> &'static str {
        self.tracked
            .as_ref()
            .map_or("", |tracked| self.step_words(&tracked.step()))
    }

    /// A step in plain words, as the applicant reads it.
    fn step_words(&self, step: &Step) -> &'static str {
        match step {
            Step::Received => "已受理您的申请",
            Step::Comparing => "正在核对家庭经济状况（信息比对）",
            Step::Surveying => "工作人员入户调查",
            Step::VillageReview => "村（社区）民主评议",
            Step::JointReview => "镇街联合研判",
            Step::Notice => "结果公示",
            Step::Confirming => "区级部门审核确认",
            Step::Confirmed => "已认定",
            Step::Refused => "不予认定",
            Step::Withdrawn => "申请已撤回",
        }
    }
}

/// `GET /track` (no login): the tracking form, the receipt filled in when given.
pub async fn track(Query(query): Query<TrackQuery>) -> Response {
    let number = query.number.trim().chars().take(32).collect::<String>();
    TrackPage::new(number, String::new(), None).into_response()
}

/// `POST /track` (no login): the applicant's own application — each step with its date, the
/// result, the 告知书's reason on a decline — when the receipt and the phone (or the ID
/// number's last digits) match; every other answer is the same "not found". Each client
/// (`throttle::client_of`) has `TRACK_LOOKUPS_PER_MINUTE` lookups a minute, then 429.
pub async fn track_lookup(
    State(state): State<WebState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<TrackForm>,
) -> Response {
    let number = form.number.trim().chars().take(32).collect::<String>();
    let page = |message: &str, tracked, status| {
        (
            status,
            TrackPage::new(number.clone(), message.to_owned(), tracked),
        )
            .into_response()
    };
    let client = crate::throttle::client_of(
        peer.map(|Extension(ConnectInfo(address))| address),
        &headers,
        state.config.behind_proxy,
    );
    if !state
        .track_throttle
        .allow(client, std::time::Instant::now())
    {
        return page(
            "查询过于频繁，请稍后再试",
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match state.app.track_receipt(&number, &form.proof).await {
        Ok(tracked) => {
            let on = tracked.closed_on.unwrap_or_else(|| state.app.today());
            let (reconsideration_days, litigation_months) = match state.app.review_periods(on) {
                Ok(periods) => periods,
                Err(error) => return PageError(error).into_response(),
            };
            let page = TrackPage {
                reconsideration_days,
                litigation_months,
                bodies: state.config.review_bodies.clone(),
                ..TrackPage::new(number.clone(), String::new(), Some(tracked))
            };
            page.into_response()
        }
        Err(AppError::NotFound) => page(
            "未查到该申请：请核对查询码和手机号码（或身份证号后几位）后重新输入",
            None,
            StatusCode::NOT_FOUND,
        ),
        Err(other) => PageError(other).into_response(),
    }
}
