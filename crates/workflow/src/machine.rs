//! 统一认定流程: `open` takes a case in, `apply` moves it — the only two ways a case changes.
//!
//! Each action is checked in this order: the role may take it (U2), the role sits at its
//! level, the case lies inside the actor's area, the case is open, the case is at the step
//! the action belongs to, then the action's own conditions. The first that fails is the
//! `Refusal`; nothing is recorded then.

use crate::case::{
    ActorRef, Case, CaseKind, CategoryVerdict, Change, DatedChange, DecidedCategory,
    DepartmentDecision, Discrepancy, Event, Explanation, Fact, Intake, JointReview, Notice,
    ObjectionStatus, PendingJudgement, Proposal, ReviewOutcome, Step, Survey, TeamMember, Verdict,
    VillageReview, department_of,
};
use crate::deadline::DeadlineParams;
use crate::fields::{Field, Input, InvalidField};
use crate::queue::awaits_department;
use crate::refusal::Refusal;
use chrono::{Days, NaiveDate};
use domain::{Category, MonitoringKind, PlaceLevel, Role, SupportMode, vocabulary};
use std::collections::BTreeSet;

/// Declares `ActionKind` (a `vocabulary!` word: wire name and label) with the fields each
/// action takes besides `action` and `on` (`ActionKind::fields`), one entry per action.
macro_rules! case_actions {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $code:literal / $label:literal [$($field:expr),* $(,)?],)+
    }) => {
        vocabulary!(
            $(#[$meta])*
            $name { $($(#[$vmeta])* $variant = $code / $label,)+ }
        );

        impl $name {
            /// The fields the action takes besides `action` and `on` (`fields::ON`), in the order
            /// they are read and described.
            pub fn fields(self) -> &'static [Field] {
                match self {
                    $($name::$variant => {
                        const FIELDS: &[Field] = &[$($field),*];
                        FIELDS
                    })+
                }
            }
        }
    };
}

/// A 疑点's 核实结果 (`Explanation`): 已排除 or 已核实.
const RESOLUTIONS: &[&str] = &["resolved", "confirmed"];
/// A meeting's verdict on one category; `none` leaves the category out.
const VERDICTS: &[&str] = &["confirm", "override", "none"];
const DATE_DEFAULT: &str = "defaults to today; not after today";

case_actions!(
    /// 办理事项的名称: the word for each `Action`, its wire name (the API's `action`, a page
    /// form's `action`, the offered actions), the label of its button, and its fields — what
    /// the API's body and the page's form give (`web::case_input` reads them, the API's
    /// description lists them, `CaseAction::from_input` builds the action from them).
    ActionKind {
        BeginComparison = "begin_comparison" / "开始信息比对" [],
        RecordDiscrepancy = "record_discrepancy" / "登记疑点" [
            Field::text("source", "疑点来源").required().about("疑点来源 (the department or data set)"),
            Field::text("description", "疑点内容").required().about("疑点内容"),
        ],
        ExplainDiscrepancy = "explain_discrepancy" / "疑点说明" [
            Field::number("number", "编号").required().called("疑点编号").at_least(1),
            Field::choice("resolution", "核实结果", RESOLUTIONS).required()
                .called("疑点核实结果（已排除或已核实）")
                .about("resolved: 已排除; confirmed: 已核实 (reflected in the survey)"),
            Field::text("note", "说明").required().about("说明 of the finding"),
        ],
        CompleteComparison = "complete_comparison" / "完成信息比对" [],
        RecordSurvey = "record_survey" / "录入入户调查" [
            Field::users("team", "调查组成员").required().about(
                "user ids of the 联合核查小组; the workflow refuses fewer than 2 distinct people (team_too_small)",
            ),
            Field::household("household", "入户调查的家庭情况").required(),
            Field::date("surveyed_on", "调查日期").about(DATE_DEFAULT),
        ],
        RecordVillageReview = "record_village_review" / "录入村社评议" [
            Field::number("attendance", "参会人数").required()
                .about("参会人数 (0 is refused: attendance_missing)"),
            Field::word("outcome", "评议结果", &ReviewOutcome::WORDS).required()
                .called("评议结果（同意或不同意）"),
            Field::date("held_on", "评议日期").about(DATE_DEFAULT),
            Field::text("note", "说明").about("评议意见"),
        ],
        RecordJointReview = "record_joint_review" / "录入联合研判" [
            Field::records("verdicts", "研判意见", &[
                Field::word("category", "类别", &Category::WORDS).required(),
                Field::choice("verdict", "研判意见", VERDICTS).required()
                    .about("none: leave the category out of this list"),
                Field::text("reason", "理由").about("required for override (reason_missing)"),
            ]).required().about(
                "one per category the rules engine proposed (the proposal itself is the engine's, in GET /api/v1/cases/{id} as proposal); a category not proposed only as an override",
            ),
            Field::date("held_on", "会议日期").about(DATE_DEFAULT),
            Field::word("monitoring_kind", "监测类型", &MonitoringKind::WORDS)
                .about("required when the monitoring tag is decided"),
            Field::text("monitoring_kind_reason", "监测类型与建议不同的理由")
                .about("required when the kind differs from the proposal's"),
            Field::records("judgements", "人工核定意见", &[
                Field::text("rule", "规则").required()
                    .about("the pending test's rule, e.g. property.within_limits"),
                Field::text("param", "参数").required()
                    .about("the parameter without value, e.g. property.financial_assets_months"),
                Field::bool("holds", "核定意见").required().about("true: 符合; false: 不符合"),
                Field::text("reason", "理由").required().about("the meeting's reason (required)"),
            ]).about(
                "人工核定: one per pending test of the proposal (proposal.pending in GET /api/v1/cases/{id}: a test whose parameter has no value on the date, 待人工核定). The action is refused while a pending test is unjudged (pending_unjudged, naming the test), without a reason (judgement_reason_missing), judged twice (judged_twice), or for a test that is not pending (not_pending). Stored with the joint review (joint_review.judgements).",
            ),
            Field::word("support_mode", "供养方式", &SupportMode::WORDS).about(
                "供养方式 (分散供养 / 集中供养) of the 特困 the meeting starts: required then (support_mode_missing) and kept on the 特困 category period; not recorded when no 特困 starts",
            ),
        ],
        PostNotice = "post_notice" / "张贴公示" [],
        RecordObjection = "record_objection" / "登记公示异议" [
            Field::text("summary", "异议内容").required(),
        ],
        SendBackForVerification = "send_back" / "退回重新调查核实" [],
        AnswerObjection = "answer_objection" / "答复异议" [
            Field::number("number", "编号").required().called("异议编号").at_least(1),
            Field::text("answer", "答复内容").required(),
        ],
        Confirm = "confirm" / "审核确认" [
            Field::word("category", "类别", &Category::WORDS).required().called("要审核的类别"),
        ],
        Decline = "decline" / "审核不同意" [
            Field::word("category", "类别", &Category::WORDS).required().called("要审核的类别"),
            Field::text("reason", "理由").required(),
        ],
        Refuse = "refuse" / "不予认定" [Field::text("reason", "理由").required()],
        DeliverRefusalNotice = "deliver_refusal_notice" / "告知书已送达" [],
        Withdraw = "withdraw" / "撤回" [Field::text("reason", "理由").required()],
        RecordSpecialLimit = "record_special_limit" / "特殊情况延长时限" [
            Field::text("reason", "理由").required(),
        ],
    }
);

/// 办理事项: what an actor does to an open case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Town: 受理 → 信息比对 (P3).
    BeginComparison,
    /// Town: a 疑点 found by comparison or entered by hand (P3).
    RecordDiscrepancy(Discrepancy),
    /// Town: 疑点说明 (P3).
    ExplainDiscrepancy {
        number: u32,
        explanation: Explanation,
    },
    /// Town: 信息比对 → 入户调查, once every 疑点 is explained (P3).
    CompleteComparison,
    /// Village, grid or town: 入户调查 → 村社评议 (P4); after an objection, → 镇街联合研判.
    RecordSurvey(Survey),
    /// Village assistant (their own village) or town: 村社评议 → 镇街联合研判 (P5).
    RecordVillageReview(VillageReview),
    /// Town: 镇街联合研判 → 公示 (P6).
    RecordJointReview(JointReview),
    /// Village assistant (their own village) or town: the notice starts on the day it is
    /// posted (P7).
    PostNotice,
    /// Town: 公示异议 (P7).
    RecordObjection { summary: String },
    /// Town: the open objections send the case back to 入户调查 (P7).
    SendBackForVerification,
    /// Town: the answer to an objection, after the new survey (P7).
    AnswerObjection { number: u32, answer: String },
    /// District department: confirms one of its own decided categories (P8).
    Confirm { category: Category },
    /// District department: declines one of its own decided categories, with the reason (P8).
    Decline { category: Category, reason: String },
    /// Town: 不予认定 with the reason the applicant is told (P8).
    Refuse { reason: String },
    /// Town: the written refusal notice — of a refusal, or of the part declined of a partial
    /// decision — reached the applicant (P8, P9).
    DeliverRefusalNotice,
    /// Village, grid or town: the applicant withdraws, or the case is dropped.
    Withdraw { reason: String },
    /// Town: 特殊情况 — the reason the case needs the special total limit (低保审核确认总时限
    /// 特殊情况, `deadline.dibao_total_special_working_days`), recorded once while it runs.
    RecordSpecialLimit { reason: String },
}

impl Action {
    /// The action's word (`ActionKind`).
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::BeginComparison => ActionKind::BeginComparison,
            Action::RecordDiscrepancy(_) => ActionKind::RecordDiscrepancy,
            Action::ExplainDiscrepancy { .. } => ActionKind::ExplainDiscrepancy,
            Action::CompleteComparison => ActionKind::CompleteComparison,
            Action::RecordSurvey(_) => ActionKind::RecordSurvey,
            Action::RecordVillageReview(_) => ActionKind::RecordVillageReview,
            Action::RecordJointReview(_) => ActionKind::RecordJointReview,
            Action::PostNotice => ActionKind::PostNotice,
            Action::RecordObjection { .. } => ActionKind::RecordObjection,
            Action::SendBackForVerification => ActionKind::SendBackForVerification,
            Action::AnswerObjection { .. } => ActionKind::AnswerObjection,
            Action::Confirm { .. } => ActionKind::Confirm,
            Action::Decline { .. } => ActionKind::Decline,
            Action::Refuse { .. } => ActionKind::Refuse,
            Action::DeliverRefusalNotice => ActionKind::DeliverRefusalNotice,
            Action::Withdraw { .. } => ActionKind::Withdraw,
            Action::RecordSpecialLimit { .. } => ActionKind::RecordSpecialLimit,
        }
    }

    /// The roles that may take the action (U2: 区级分类审批、镇街综合审核、村社和网格协助).
    pub fn roles(&self) -> &'static [Role] {
        const TOWN: &[Role] = &[Role::TownReviewer];
        const ASSIST: &[Role] = SURVEY_ROLES;
        const VILLAGE: &[Role] = &[Role::VillageAssistant, Role::TownReviewer];
        const DISTRICT: &[Role] = &[Role::DistrictCivilAffairs, Role::DistrictAgriculture];
        match self {
            Action::RecordSurvey(_) | Action::Withdraw { .. } => ASSIST,
            Action::RecordVillageReview(_) | Action::PostNotice => VILLAGE,
            Action::Confirm { .. } | Action::Decline { .. } => DISTRICT,
            Action::BeginComparison
            | Action::RecordDiscrepancy(_)
            | Action::ExplainDiscrepancy { .. }
            | Action::CompleteComparison
            | Action::RecordJointReview(_)
            | Action::RecordObjection { .. }
            | Action::SendBackForVerification
            | Action::AnswerObjection { .. }
            | Action::Refuse { .. }
            | Action::DeliverRefusalNotice
            | Action::RecordSpecialLimit { .. } => TOWN,
        }
    }
}

/// 镇街联合研判 as the meeting records it; the proposal comes from the rules engine (P6), added
/// by the shell (`app::cases`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JointReviewInput {
    pub held_on: NaiveDate,
    pub verdicts: Vec<CategoryVerdict>,
    pub monitoring_kind: Option<MonitoringKind>,
    pub monitoring_kind_reason: String,
    /// 人工核定: the meeting's judgement on each pending test of the proposal.
    pub judgements: Vec<PendingJudgement>,
    /// D2: 供养方式 of the 特困 the meeting starts (required then, ignored otherwise).
    pub support_mode: Option<SupportMode>,
}

impl JointReviewInput {
    /// A meeting on `held_on` that agrees with `proposal`: each proposed category confirmed,
    /// its monitoring kind kept, each pending test judged to hold for `reason`, and 分散供养
    /// for a 特困 it starts (the demo's and the test builders' meeting).
    pub fn agreeing_with(proposal: &Proposal, held_on: NaiveDate, reason: &str) -> Self {
        JointReviewInput {
            held_on,
            verdicts: proposal
                .categories
                .iter()
                .map(|category| CategoryVerdict {
                    category: *category,
                    verdict: Verdict::Confirm,
                })
                .collect(),
            monitoring_kind: proposal.monitoring_kind,
            monitoring_kind_reason: String::new(),
            judgements: proposal
                .pending
                .iter()
                .map(|test| PendingJudgement {
                    rule: test.rule.clone(),
                    param: test.param.clone(),
                    holds: true,
                    reason: reason.to_owned(),
                })
                .collect(),
            support_mode: proposal
                .categories
                .contains(&Category::Tekun)
                .then_some(SupportMode::Dispersed),
        }
    }

    /// The review, on the rules engine's `proposal`.
    pub fn on_proposal(self, proposal: Proposal) -> JointReview {
        JointReview {
            held_on: self.held_on,
            proposal,
            verdicts: self.verdicts,
            monitoring_kind: self.monitoring_kind,
            monitoring_kind_reason: self.monitoring_kind_reason,
            judgements: self.judgements,
            support_mode: self.support_mode,
        }
    }
}

/// What an actor does to a case, as entered. Every action but the joint review is a move as
/// it stands; the joint review's proposal is the rules engine's, added by the shell.
// One value per request, moved once: boxing the survey would only burden callers.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseAction {
    Move(Action),
    RecordJointReview(JointReviewInput),
}

impl CaseAction {
    /// The action's word.
    pub fn kind(&self) -> ActionKind {
        match self {
            CaseAction::Move(action) => action.kind(),
            CaseAction::RecordJointReview(_) => ActionKind::RecordJointReview,
        }
    }

    /// The action of `kind` from its fields as read (`ActionKind::fields`; every scalar is
    /// already its type, every required field present). A date left out is `day` (the action's
    /// `on`, else today). What the fields alone cannot say — a verdict's choice, a pending
    /// test's judgement — is judged here and named.
    pub fn from_input(
        kind: ActionKind,
        input: &Input,
        day: NaiveDate,
    ) -> Result<CaseAction, InvalidField> {
        let step = |action: Action| Ok(CaseAction::Move(action));
        // Required fields are present once read; a field missing here is named as absent.
        let number = |name: &str, noun: &str| {
            input
                .number(name)
                .ok_or_else(|| InvalidField::new(name, format!("请填写{noun}")))
        };
        match kind {
            ActionKind::BeginComparison => step(Action::BeginComparison),
            ActionKind::RecordDiscrepancy => step(Action::RecordDiscrepancy(Discrepancy {
                source: input.text("source"),
                description: input.text("description"),
            })),
            ActionKind::ExplainDiscrepancy => {
                let number = number("number", "疑点编号")?;
                let note = input.text("note");
                let explanation = match input.code("resolution") {
                    Some("resolved") => Explanation::Resolved { note },
                    Some("confirmed") => Explanation::Confirmed { note },
                    _ => {
                        return Err(InvalidField::new(
                            "resolution",
                            "请选择疑点核实结果（已排除或已核实）",
                        ));
                    }
                };
                step(Action::ExplainDiscrepancy {
                    number,
                    explanation,
                })
            }
            ActionKind::CompleteComparison => step(Action::CompleteComparison),
            ActionKind::RecordSurvey => {
                let household = input
                    .household("household")
                    .cloned()
                    .ok_or_else(|| InvalidField::new("household", "请填写入户调查的家庭情况"))?;
                let team = input
                    .users("team")
                    .iter()
                    .map(|user_id| TeamMember {
                        user_id: *user_id,
                        name: String::new(),
                    })
                    .collect();
                step(Action::RecordSurvey(Survey {
                    household,
                    team,
                    surveyed_on: input.date("surveyed_on").unwrap_or(day),
                }))
            }
            ActionKind::RecordVillageReview => {
                let outcome = input
                    .code("outcome")
                    .and_then(ReviewOutcome::from_code)
                    .ok_or_else(|| {
                        InvalidField::new("outcome", "请选择评议结果（同意或不同意）")
                    })?;
                step(Action::RecordVillageReview(VillageReview {
                    held_on: input.date("held_on").unwrap_or(day),
                    attendance: number("attendance", "参会人数")?,
                    outcome,
                    note: input.text("note"),
                }))
            }
            ActionKind::RecordJointReview => Ok(CaseAction::RecordJointReview(joint_review_input(
                input, day,
            )?)),
            ActionKind::PostNotice => step(Action::PostNotice),
            ActionKind::RecordObjection => step(Action::RecordObjection {
                summary: input.text("summary"),
            }),
            ActionKind::SendBackForVerification => step(Action::SendBackForVerification),
            ActionKind::AnswerObjection => step(Action::AnswerObjection {
                number: number("number", "异议编号")?,
                answer: input.text("answer"),
            }),
            ActionKind::Confirm => step(Action::Confirm {
                category: category_of(input)?,
            }),
            ActionKind::Decline => step(Action::Decline {
                category: category_of(input)?,
                reason: input.text("reason"),
            }),
            ActionKind::Refuse => step(Action::Refuse {
                reason: input.text("reason"),
            }),
            ActionKind::DeliverRefusalNotice => step(Action::DeliverRefusalNotice),
            ActionKind::Withdraw => step(Action::Withdraw {
                reason: input.text("reason"),
            }),
            ActionKind::RecordSpecialLimit => step(Action::RecordSpecialLimit {
                reason: input.text("reason"),
            }),
        }
    }
}

fn category_of(input: &Input) -> Result<Category, InvalidField> {
    input
        .code("category")
        .and_then(Category::from_code)
        .ok_or_else(|| InvalidField::new("category", "请选择要审核的类别"))
}

/// 镇街联合研判's fields: each category's verdict (`none` or none given: left out), the
/// monitoring kind, each pending test's judgement (one left without 符合 / 不符合 is left out:
/// the workflow names it) and the 供养方式.
fn joint_review_input(input: &Input, day: NaiveDate) -> Result<JointReviewInput, InvalidField> {
    let mut verdicts = Vec::new();
    for record in input.records("verdicts") {
        let text = |key: &str| record.get(key).map_or("", |text| text.trim());
        let category = Category::from_code(text("category")).ok_or_else(|| {
            InvalidField::new("verdicts", format!("类别“{}”无效", text("category")))
        })?;
        let verdict = match text("verdict") {
            "confirm" => Verdict::Confirm,
            "override" => Verdict::Override {
                reason: text("reason").to_owned(),
            },
            "" | "none" => continue,
            other => {
                return Err(InvalidField::new(
                    format!("verdict_{}", category.code()),
                    format!("“{}”的研判意见“{other}”无效", category.label()),
                ));
            }
        };
        verdicts.push(CategoryVerdict { category, verdict });
    }
    let monitoring_kind = input
        .code("monitoring_kind")
        .and_then(MonitoringKind::from_code);
    let mut judgements = Vec::new();
    for record in input.records("judgements") {
        let text = |key: &str| record.get(key).map_or("", |text| text.trim());
        let holds = match text("holds") {
            "true" | "holds" => true,
            "false" | "fails" => false,
            "" => continue,
            other => {
                return Err(InvalidField::new(
                    format!("judgement:{}:{}", text("rule"), text("param")),
                    format!(
                        "参数{}的人工核定意见“{other}”无效，应为符合（true）或不符合（false）",
                        text("param")
                    ),
                ));
            }
        };
        judgements.push(PendingJudgement {
            rule: text("rule").to_owned(),
            param: text("param").to_owned(),
            holds,
            reason: text("reason").to_owned(),
        });
    }
    Ok(JointReviewInput {
        held_on: input.date("held_on").unwrap_or(day),
        verdicts,
        monitoring_kind,
        monitoring_kind_reason: input.text("monitoring_kind_reason"),
        judgements,
        // D2: the workflow refuses its absence when a 特困 starts and does not record it
        // otherwise.
        support_mode: input.code("support_mode").and_then(SupportMode::from_code),
    })
}

/// 可办事项: the actions a form is offered for, to `role` on `case` at its step on `today`.
/// An offer is not a promise: the workflow still checks each move (and refuses with its
/// reason); this only keeps the page from showing forms the role can never use here.
pub fn offered(case: &Case, role: Role, today: NaiveDate) -> Vec<ActionKind> {
    let mut offered = Vec::new();
    let step = case.step();
    let town = role == Role::TownReviewer;
    // P5, P7: the village assistant records the village review and posts the notice.
    let village = matches!(role, Role::VillageAssistant | Role::TownReviewer);
    let assists = matches!(
        role,
        Role::VillageAssistant | Role::GridWorker | Role::TownReviewer
    );
    let reverifying = case
        .objections()
        .iter()
        .any(|objection| objection.status == ObjectionStatus::Reverifying);
    let open_objection = case
        .objections()
        .iter()
        .any(|objection| objection.status == ObjectionStatus::Open);
    match step {
        Step::Received if town => offered.push(ActionKind::BeginComparison),
        Step::Comparing if town => {
            offered.push(ActionKind::RecordDiscrepancy);
            if case
                .discrepancies()
                .iter()
                .any(|record| record.explanation.is_none())
            {
                offered.push(ActionKind::ExplainDiscrepancy);
            }
            offered.push(ActionKind::CompleteComparison);
        }
        Step::Surveying if assists => offered.push(ActionKind::RecordSurvey),
        Step::VillageReview if village => offered.push(ActionKind::RecordVillageReview),
        Step::JointReview if town => {
            if reverifying {
                offered.push(ActionKind::AnswerObjection);
            }
            offered.push(ActionKind::RecordJointReview);
        }
        Step::Notice if role == Role::VillageAssistant && case.notice().is_none() => {
            offered.push(ActionKind::PostNotice);
        }
        Step::Notice | Step::Confirming if town => {
            if step == Step::Notice && case.notice().is_none() {
                if reverifying {
                    offered.push(ActionKind::AnswerObjection);
                }
                offered.push(ActionKind::PostNotice);
            }
            if case.notice().is_some() {
                offered.push(ActionKind::RecordObjection);
            }
            if open_objection {
                offered.push(ActionKind::SendBackForVerification);
            }
        }
        Step::Notice | Step::Confirming
            if matches!(role, Role::DistrictCivilAffairs | Role::DistrictAgriculture)
                && case
                    .notice()
                    .is_some_and(|notice| !notice.is_running(today))
                && !case.has_open_objection()
                && awaits_department(case, role) =>
        {
            offered.push(ActionKind::Confirm);
            offered.push(ActionKind::Decline);
        }
        Step::Refused | Step::Confirmed
            if town
                && case.owes_refusal_notice()
                && case.refusal_notice_delivered_on().is_none() =>
        {
            offered.push(ActionKind::DeliverRefusalNotice);
        }
        _ => {}
    }
    if town
        && matches!(
            step,
            Step::Received
                | Step::Comparing
                | Step::Surveying
                | Step::VillageReview
                | Step::JointReview
                | Step::Notice
        )
    {
        offered.push(ActionKind::Refuse);
    }
    if assists && !step.is_final() {
        offered.push(ActionKind::Withdraw);
    }
    if town && !step.is_final() && case.special_limit_reason().is_none() {
        offered.push(ActionKind::RecordSpecialLimit);
    }
    offered
}

/// The roles that record a survey and sit on its team (P4): village, grid and town.
pub const SURVEY_ROLES: &[Role] = &[Role::VillageAssistant, Role::GridWorker, Role::TownReviewer];

/// The roles that may take a case in (P1): village and grid assist, the town's window.
pub const INTAKE_ROLES: &[Role] = &[Role::VillageAssistant, Role::GridWorker, Role::TownReviewer];

/// The outcome of a move: the case as it now stands and the events to append to its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    case: Case,
    events: Vec<Event>,
}

impl Transition {
    pub fn case(&self) -> &Case {
        &self.case
    }

    /// The new step.
    pub fn step(&self) -> Step {
        self.case.step()
    }

    /// The events to append, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn into_parts(self) -> (Case, Vec<Event>) {
        (self.case, self.events)
    }
}

/// Records facts and folds them into the case at once, so the returned case is its history.
struct Draft<'a> {
    case: Case,
    events: Vec<Event>,
    actor: &'a ActorRef,
    /// The day the move happened (its events' date).
    on: NaiveDate,
}

impl Draft<'_> {
    fn record(&mut self, fact: Fact) {
        let event = Event {
            on: self.on,
            actor: self.actor.clone(),
            fact,
        };
        self.case.evolve(&event);
        self.events.push(event);
    }

    fn enter(&mut self, step: Step) {
        self.record(Fact::StepEntered { step });
    }

    fn finish(self) -> Transition {
        Transition {
            case: self.case,
            events: self.events,
        }
    }
}

/// The level of the tree a role is held at (U2).
fn level_of(role: Role) -> Option<PlaceLevel> {
    match role {
        Role::DistrictCivilAffairs | Role::DistrictAgriculture => Some(PlaceLevel::District),
        Role::TownReviewer => Some(PlaceLevel::Town),
        Role::VillageAssistant => Some(PlaceLevel::Village),
        Role::GridWorker => Some(PlaceLevel::Grid),
        Role::Department | Role::Auditor | Role::Admin => None,
    }
}

fn check_actor(actor: &ActorRef, roles: &[Role], area: &domain::PlaceCode) -> Result<(), Refusal> {
    if !roles.contains(&actor.role) {
        return Err(Refusal::WrongRole { role: actor.role });
    }
    if let Some(expected) = level_of(actor.role)
        && actor.area.level() != expected
    {
        return Err(Refusal::WrongLevel {
            role: actor.role,
            expected,
        });
    }
    if !actor.covers(area) {
        return Err(Refusal::OutsideArea);
    }
    Ok(())
}

fn require_text(text: &str, refusal: Refusal) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        Err(refusal)
    } else {
        Ok(())
    }
}

fn not_after_today(date: NaiveDate, today: NaiveDate) -> Result<(), Refusal> {
    if date > today {
        Err(Refusal::DateInFuture { date })
    } else {
        Ok(())
    }
}

/// 受理 (P1, P2): takes a case in today. The tracking number comes with the intake; both
/// deciding departments see the case at once.
pub fn open(intake: Intake, actor: &ActorRef, today: NaiveDate) -> Result<Transition, Refusal> {
    open_on(intake, actor, today, today)
}

/// 受理 entered afterwards: the case was received `on` (never after `today`, never before the
/// consent was signed).
pub fn open_on(
    intake: Intake,
    actor: &ActorRef,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<Transition, Refusal> {
    check_actor(actor, INTAKE_ROLES, &intake.area)?;
    not_after_today(on, today)?;
    if !matches!(intake.area.level(), PlaceLevel::Village | PlaceLevel::Grid) {
        return Err(Refusal::AreaNotVillage);
    }
    require_text(&intake.applicant, Refusal::ApplicantMissing)?;
    match &intake.consent {
        Some(consent) => {
            require_text(&consent.signer, Refusal::ConsentMissing)?;
            not_after_today(consent.signed_on, on)?;
        }
        // P1: the economic check of an application needs the applicant's consent; re-checks
        // and exits rest on the consent given at entry.
        None if intake.kind == CaseKind::Application => return Err(Refusal::ConsentMissing),
        None => {}
    }
    match intake.kind {
        CaseKind::RiskElimination if !intake.held.contains(&Category::Monitoring) => {
            return Err(Refusal::NotMonitored);
        }
        CaseKind::RiskElimination => {
            require_text(&intake.summary, Refusal::RiskEliminationReasonMissing)?;
        }
        CaseKind::Exit if intake.held.is_empty() => {
            return Err(Refusal::NothingChanges {
                kind: CaseKind::Exit,
            });
        }
        // W1: a re-check reviews the categories a household holds; with none it has nothing
        // to review (an application is the way in).
        CaseKind::Recheck if intake.held.is_empty() => return Err(Refusal::NothingHeld),
        _ => {}
    }
    let first = Event {
        on,
        actor: actor.clone(),
        fact: Fact::Received(intake.clone()),
    };
    let mut draft = Draft {
        case: Case::received(intake, on),
        events: vec![first],
        actor,
        on,
    };
    draft.record(Fact::SharedWith {
        department: Role::DistrictCivilAffairs,
    });
    draft.record(Fact::SharedWith {
        department: Role::DistrictAgriculture,
    });
    Ok(draft.finish())
}

/// 办理: moves an open case by one action of one actor on `today`, or says why not.
pub fn apply(
    case: &Case,
    action: Action,
    actor: &ActorRef,
    today: NaiveDate,
    params: &DeadlineParams,
) -> Result<Transition, Refusal> {
    apply_on(case, action, actor, today, today, params)
}

/// The date a move happened: a survey's or a meeting's own date, else `on`.
fn happened_on(action: &Action, on: NaiveDate) -> NaiveDate {
    match action {
        Action::RecordSurvey(survey) => survey.surveyed_on,
        Action::RecordVillageReview(review) => review.held_on,
        Action::RecordJointReview(review) => review.held_on,
        _ => on,
    }
}

/// 办理, entered on `today` for a move that happened `on` (offline work is entered afterwards):
/// never in the future, never before the case's previous step. The events carry that date, so
/// time limits count from it.
pub fn apply_on(
    case: &Case,
    action: Action,
    actor: &ActorRef,
    on: NaiveDate,
    today: NaiveDate,
    params: &DeadlineParams,
) -> Result<Transition, Refusal> {
    check_actor(actor, action.roles(), case.area())?;
    let on = happened_on(&action, on);
    let step = case.step();
    let at = |expected: &[Step]| {
        if expected.contains(&step) {
            Ok(())
        } else {
            Err(Refusal::StepOutOfOrder { step })
        }
    };
    if step.is_final() && !(case.owes_refusal_notice() && action == Action::DeliverRefusalNotice) {
        return Err(Refusal::CaseClosed { step });
    }
    let mut draft = Draft {
        case: case.clone(),
        events: Vec::new(),
        actor,
        on,
    };
    match action {
        Action::BeginComparison => {
            at(&[Step::Received])?;
            draft.enter(Step::Comparing);
        }
        Action::RecordDiscrepancy(discrepancy) => {
            at(&[Step::Comparing])?;
            require_text(&discrepancy.description, Refusal::NoteMissing)?;
            require_text(&discrepancy.source, Refusal::NoteMissing)?;
            let number = next_number(case.discrepancies().len());
            draft.record(Fact::DiscrepancyRecorded {
                number,
                discrepancy,
            });
        }
        Action::ExplainDiscrepancy {
            number,
            explanation,
        } => {
            at(&[Step::Comparing])?;
            let record = case
                .discrepancies()
                .iter()
                .find(|record| record.number == number)
                .ok_or(Refusal::UnknownDiscrepancy { number })?;
            if record.explanation.is_some() {
                return Err(Refusal::DiscrepancyAlreadyExplained { number });
            }
            require_text(explanation.note(), Refusal::NoteMissing)?;
            draft.record(Fact::DiscrepancyExplained {
                number,
                explanation,
            });
        }
        Action::CompleteComparison => {
            at(&[Step::Comparing])?;
            if let Some(record) = case
                .discrepancies()
                .iter()
                .find(|record| record.explanation.is_none())
            {
                return Err(Refusal::DiscrepancyUnexplained {
                    number: record.number,
                });
            }
            draft.enter(Step::Surveying);
        }
        Action::RecordSurvey(survey) => {
            at(&[Step::Surveying])?;
            check_survey(case, &survey)?;
            let reverifying = case.awaiting_resurvey();
            draft.record(Fact::SurveyRecorded(survey));
            // 民发〔2021〕57号: after an objection the town re-investigates and gives its
            // opinion again; the village review is not held a second time.
            draft.enter(if reverifying {
                Step::JointReview
            } else {
                Step::VillageReview
            });
        }
        Action::RecordVillageReview(review) => {
            at(&[Step::VillageReview])?;
            if review.attendance == 0 {
                return Err(Refusal::AttendanceMissing);
            }
            draft.record(Fact::VillageReviewRecorded(review));
            draft.enter(Step::JointReview);
        }
        Action::RecordJointReview(review) => {
            at(&[Step::JointReview])?;
            let decided = decide_categories(case, &review)?;
            let tekun_starts = decided.iter().any(|decided| {
                decided.category == Category::Tekun && decided.change == Change::Start
            });
            // D2: a 供养方式 given where no 特困 starts is not recorded.
            let review = JointReview {
                support_mode: review.support_mode.filter(|_| tekun_starts),
                ..review
            };
            draft.record(Fact::JointReviewRecorded { review, decided });
            draft.enter(Step::Notice);
        }
        Action::PostNotice => {
            at(&[Step::Notice])?;
            if case.notice().is_some() {
                return Err(Refusal::NoticeAlreadyPosted);
            }
            if case.has_open_objection() {
                return Err(Refusal::ObjectionOpen);
            }
            let categories: Vec<Category> = case
                .decided()
                .iter()
                .map(|decided| decided.category)
                .collect();
            let days = params.notice_days(&categories);
            let ends_on = on
                .checked_add_days(Days::new(u64::from(days)))
                .unwrap_or(NaiveDate::MAX);
            draft.record(Fact::NoticePosted(Notice {
                posted_on: on,
                ends_on,
                days,
            }));
        }
        Action::RecordObjection { summary } => {
            at(&[Step::Notice, Step::Confirming])?;
            if case.notice().is_none() {
                return Err(Refusal::NoticeNotPosted);
            }
            require_text(&summary, Refusal::ReasonMissing)?;
            let number = next_number(case.objections().len());
            draft.record(Fact::ObjectionRecorded { number, summary });
        }
        Action::SendBackForVerification => {
            at(&[Step::Notice, Step::Confirming])?;
            if !case
                .objections()
                .iter()
                .any(|objection| objection.status == ObjectionStatus::Open)
            {
                return Err(Refusal::NoOpenObjection);
            }
            draft.record(Fact::SentBackForVerification);
            draft.enter(Step::Surveying);
        }
        Action::AnswerObjection { number, answer } => {
            at(&[Step::JointReview, Step::Notice])?;
            let objection = case
                .objections()
                .iter()
                .find(|objection| objection.number == number)
                .ok_or(Refusal::UnknownObjection { number })?;
            match objection.status {
                ObjectionStatus::Open => return Err(Refusal::ObjectionNotReverified { number }),
                ObjectionStatus::Answered { .. } => {
                    return Err(Refusal::ObjectionAlreadyAnswered { number });
                }
                ObjectionStatus::Reverifying => {}
            }
            require_text(&answer, Refusal::NoteMissing)?;
            draft.record(Fact::ObjectionAnswered { number, answer });
        }
        Action::Confirm { category } => {
            ready_to_confirm(case, category, actor, on)?;
            if step == Step::Notice {
                draft.enter(Step::Confirming);
            }
            draft.record(Fact::CategoryConfirmed { category });
            conclude_when_complete(&mut draft);
        }
        Action::Decline { category, reason } => {
            ready_to_confirm(case, category, actor, on)?;
            require_text(&reason, Refusal::ReasonMissing)?;
            if step == Step::Notice {
                draft.enter(Step::Confirming);
            }
            draft.record(Fact::CategoryDeclined { category, reason });
            conclude_when_complete(&mut draft);
        }
        Action::Refuse { reason } => {
            at(&[
                Step::Received,
                Step::Comparing,
                Step::Surveying,
                Step::VillageReview,
                Step::JointReview,
                Step::Notice,
            ])?;
            require_text(&reason, Refusal::ReasonMissing)?;
            draft.record(Fact::Refused { reason });
            draft.enter(Step::Refused);
        }
        Action::DeliverRefusalNotice => {
            if !case.owes_refusal_notice() {
                return Err(Refusal::StepOutOfOrder { step });
            }
            if case.refusal_notice_delivered_on().is_some() {
                return Err(Refusal::RefusalNoticeAlreadyDelivered);
            }
            draft.record(Fact::RefusalNoticeDelivered);
        }
        Action::Withdraw { reason } => {
            require_text(&reason, Refusal::ReasonMissing)?;
            draft.record(Fact::Withdrawn { reason });
            draft.enter(Step::Withdrawn);
        }
        Action::RecordSpecialLimit { reason } => {
            if case.special_limit_reason().is_some() {
                return Err(Refusal::SpecialLimitAlreadyRecorded);
            }
            require_text(&reason, Refusal::ReasonMissing)?;
            draft.record(Fact::SpecialLimitRecorded { reason });
        }
    }
    // The move is allowed; its date comes last, so a wrong move says what is wrong with it.
    not_after_today(on, today)?;
    if on < case.last_event_on() {
        return Err(Refusal::DateBeforePreviousStep {
            date: on,
            previous: case.last_event_on(),
        });
    }
    Ok(draft.finish())
}

fn next_number(count: usize) -> u32 {
    u32::try_from(count).map_or(u32::MAX, |count| count.saturating_add(1))
}

/// P4: a joint team of at least two distinct named users, surveying this household.
fn check_survey(case: &Case, survey: &Survey) -> Result<(), Refusal> {
    if case.household_no() != survey.household.id.as_str() {
        return Err(Refusal::SurveyOfAnotherHousehold);
    }
    if survey
        .team
        .iter()
        .any(|member| member.name.trim().is_empty())
    {
        return Err(Refusal::TeamMemberUnnamed);
    }
    let distinct: BTreeSet<i64> = survey.team.iter().map(|member| member.user_id).collect();
    // 铜民发〔2025〕42号: 相关部门组成2人及以上联合核查小组开展入户调查.
    if distinct.len() < 2 {
        return Err(Refusal::TeamTooSmall {
            distinct: distinct.len(),
        });
    }
    Ok(())
}

/// P6, 待人工核定: the meeting judges every pending test of the proposal (符合 / 不符合 with a
/// reason), and only those, each once.
fn judge_pending(review: &JointReview) -> Result<(), Refusal> {
    for (idx, judgement) in review.judgements.iter().enumerate() {
        let Some(test) = review
            .proposal
            .pending
            .iter()
            .find(|test| judgement.judges(test))
        else {
            return Err(Refusal::NotPending {
                param: judgement.param.clone(),
            });
        };
        if review.judgements[..idx]
            .iter()
            .any(|earlier| earlier.judges(test))
        {
            return Err(Refusal::JudgedTwice {
                text: test.text.clone(),
            });
        }
        if judgement.reason.trim().is_empty() {
            return Err(Refusal::JudgementReasonMissing {
                text: test.text.clone(),
            });
        }
    }
    if let Some(test) = review.proposal.pending.iter().find(|test| {
        !review
            .judgements
            .iter()
            .any(|judgement| judgement.judges(test))
    }) {
        return Err(Refusal::PendingUnjudged {
            text: test.text.clone(),
        });
    }
    Ok(())
}

/// P6: turns the meeting's verdicts on the proposal into the categories the household holds
/// after the case, and those into the changes each department confirms.
fn decide_categories(case: &Case, review: &JointReview) -> Result<Vec<DecidedCategory>, Refusal> {
    judge_pending(review)?;
    let proposed: BTreeSet<Category> = review.proposal.categories.iter().copied().collect();
    let mut verdicts: std::collections::BTreeMap<Category, &Verdict> =
        std::collections::BTreeMap::new();
    for CategoryVerdict { category, verdict } in &review.verdicts {
        if verdicts.insert(*category, verdict).is_some() {
            return Err(Refusal::DecidedTwice {
                category: *category,
            });
        }
        match verdict {
            Verdict::Confirm if !proposed.contains(category) => {
                return Err(Refusal::NotProposed {
                    category: *category,
                });
            }
            Verdict::Override { reason } => require_text(reason, Refusal::ReasonMissing)?,
            Verdict::Confirm => {}
        }
    }
    // 同步认定: the one meeting decides every proposed category, monitoring and assistance.
    if let Some(category) = proposed
        .iter()
        .find(|category| !verdicts.contains_key(category))
    {
        return Err(Refusal::ProposalUndecided {
            category: *category,
        });
    }
    let holds: BTreeSet<Category> = Category::ALL
        .iter()
        .copied()
        .filter(|category| match verdicts.get(category) {
            Some(Verdict::Confirm) => true,
            Some(Verdict::Override { .. }) => !proposed.contains(category),
            None => false,
        })
        .collect();
    let monitoring_kind = if holds.contains(&Category::Monitoring) {
        let kind = review
            .monitoring_kind
            .ok_or(Refusal::MonitoringKindMissing)?;
        if proposed.contains(&Category::Monitoring) && review.proposal.monitoring_kind != Some(kind)
        {
            require_text(&review.monitoring_kind_reason, Refusal::ReasonMissing)?;
        }
        Some(kind)
    } else {
        if review.monitoring_kind.is_some() {
            return Err(Refusal::MonitoringKindUnexpected);
        }
        None
    };
    let held: BTreeSet<Category> = case.intake().held.iter().copied().collect();
    let decided: Vec<DecidedCategory> = Category::ALL
        .iter()
        .copied()
        .filter_map(|category| {
            let change = match (held.contains(&category), holds.contains(&category)) {
                (false, true) => Change::Start,
                (true, false) => Change::End,
                (true, true) => Change::Continue,
                (false, false) => return None,
            };
            Some(DecidedCategory {
                category,
                monitoring_kind: (category == Category::Monitoring && change != Change::End)
                    .then_some(monitoring_kind)
                    .flatten(),
                change,
                decision: None,
            })
        })
        .collect();
    let changes = |wanted: Change| decided.iter().any(|decided| decided.change == wanted);
    let monitoring_ends = decided
        .iter()
        .any(|decided| decided.category == Category::Monitoring && decided.change == Change::End);
    if monitoring_ends {
        if case.kind() != CaseKind::RiskElimination {
            // X2 (宽进严出, 按规退出并持续做好监测): only 风险消除 ends the tag.
            return Err(Refusal::MonitoringEndsOnlyByRiskElimination);
        }
        if proposed.contains(&Category::Monitoring) {
            // Rule 9: the engine (with the meeting's judgements on what it could not decide)
            // is the test of 风险消除; an override cannot end monitoring.
            return Err(Refusal::RiskNotEliminated);
        }
    }
    // D2: the 特困 that starts records its 供养方式.
    let tekun_starts = decided
        .iter()
        .any(|decided| decided.category == Category::Tekun && decided.change == Change::Start);
    if tekun_starts && review.support_mode.is_none() {
        return Err(Refusal::SupportModeMissing);
    }
    let fits_kind = match case.kind() {
        CaseKind::Application => changes(Change::Start),
        CaseKind::Exit => changes(Change::End),
        CaseKind::RiskElimination => {
            // X2: 风险消除 ends the monitoring tag and nothing else.
            let only_monitoring_ends = decided.iter().all(|decided| {
                (decided.category == Category::Monitoring) == (decided.change == Change::End)
            });
            if !only_monitoring_ends {
                return Err(Refusal::RiskEliminationEndsOnlyMonitoring);
            }
            changes(Change::End)
        }
        CaseKind::Recheck => !decided.is_empty(),
    };
    if !fits_kind {
        return Err(Refusal::NothingChanges { kind: case.kind() });
    }
    Ok(decided)
}

/// P7, P8: a district department may decide one of its own categories once the notice has
/// run (by the day of the decision) without an unanswered objection.
fn ready_to_confirm(
    case: &Case,
    category: Category,
    actor: &ActorRef,
    on: NaiveDate,
) -> Result<(), Refusal> {
    if department_of(category) != actor.role {
        return Err(Refusal::OtherDepartmentsCategory { category });
    }
    let step = case.step();
    if !matches!(step, Step::Notice | Step::Confirming) {
        return Err(Refusal::StepOutOfOrder { step });
    }
    let notice = case.notice().ok_or(Refusal::NoticeNotPosted)?;
    if case.has_open_objection() {
        return Err(Refusal::ObjectionOpen);
    }
    if notice.is_running(on) {
        return Err(Refusal::NoticeRunning {
            until: notice.ends_on,
        });
    }
    let decided = case
        .decided()
        .iter()
        .find(|decided| decided.category == category)
        .ok_or(Refusal::CategoryNotDecided { category })?;
    if decided.decision.is_some() {
        return Err(Refusal::CategoryAlreadyDecided { category });
    }
    Ok(())
}

/// When every decided category has its department's decision, the case closes: confirmed
/// with the dated changes of the confirmed ones, or refused when every one was declined.
fn conclude_when_complete(draft: &mut Draft<'_>) {
    let decided = draft.case.decided();
    if decided.iter().any(|decided| decided.decision.is_none()) {
        return;
    }
    let today = draft.on;
    let changes: Vec<DatedChange> = decided
        .iter()
        .filter(|decided| matches!(decided.decision, Some(DepartmentDecision::Confirmed { .. })))
        .map(|decided| DatedChange {
            category: decided.category,
            monitoring_kind: decided.monitoring_kind,
            change: decided.change,
            on: today,
        })
        .collect();
    if changes.is_empty() {
        let reasons: Vec<String> = decided
            .iter()
            .filter_map(|decided| match &decided.decision {
                Some(DepartmentDecision::Declined { reason, .. }) => {
                    Some(format!("{}：{reason}", decided.category.label()))
                }
                _ => None,
            })
            .collect();
        draft.record(Fact::Refused {
            reason: reasons.join("；"),
        });
        draft.enter(Step::Refused);
        return;
    }
    let household_no = draft.case.household_no().clone();
    let ends_something = changes.iter().any(|change| change.change == Change::End);
    draft.record(Fact::Concluded { changes });
    // 铜民发〔2025〕42号（四）: 按规退出并持续做好监测 — a household that leaves stays watched.
    if ends_something
        || matches!(
            draft.case.kind(),
            CaseKind::Exit | CaseKind::RiskElimination
        )
    {
        draft.record(Fact::MonitoringContinues { household_no });
    }
    draft.enter(Step::Confirmed);
}

/// 调查组成员 as the system knows them: a user with a role, an area and whether the account is
/// active (P4, U2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Surveyor {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub area: domain::PlaceCode,
    pub active: bool,
}

/// P4, U2: whether a user in `role` at `area` may survey a household of `household_area`: a
/// role that records surveys, held at its level, whose area covers the household.
pub fn may_survey(
    role: Role,
    area: &domain::PlaceCode,
    household_area: &domain::PlaceCode,
) -> bool {
    let actor = ActorRef {
        user_id: 0,
        role,
        area: area.clone(),
    };
    check_actor(&actor, SURVEY_ROLES, household_area).is_ok()
}

/// P4: the survey team — at least two distinct active users, each of whom may survey the
/// household; the first who may not is named.
pub fn check_team(team: &[Surveyor], household_area: &domain::PlaceCode) -> Result<(), Refusal> {
    for member in team {
        if !member.active {
            return Err(Refusal::TeamMemberInactive {
                name: member.name.clone(),
            });
        }
        if !may_survey(member.role, &member.area, household_area) {
            return Err(Refusal::TeamMemberMayNotSurvey {
                name: member.name.clone(),
                role: member.role,
            });
        }
    }
    let distinct: BTreeSet<i64> = team.iter().map(|member| member.user_id).collect();
    if distinct.len() < 2 {
        return Err(Refusal::TeamTooSmall {
            distinct: distinct.len(),
        });
    }
    Ok(())
}
