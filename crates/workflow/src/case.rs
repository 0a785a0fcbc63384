//! 案件: one application, re-check, exit or risk elimination, its steps and its history.
//!
//! A `Case` is the fold of its events (`Case::replay`); `apply` (in `machine`) is the only
//! code that makes new events, and it evolves the case through the same fold, so a case read
//! back from its history is the case the workflow decided on.

use chrono::NaiveDate;
use domain::{
    Category, Household, HouseholdNo, MonitoringKind, PlaceCode, PlaceLevel, Role, vocabulary,
};

pub use domain::states::{CaseKind, Step};
pub use domain::{InvalidTrackingNumber, TrackingNumber};

vocabulary!(
    /// 受理渠道 (P1): where the case came in.
    Channel {
        /// 线上申请（渝悦·救助通、渝悦·防贫）
        Online = "online" / "线上申请",
        /// 镇街便民服务大厅
        TownWindow = "town_window" / "镇街便民服务窗口",
        /// 村（社区）党群服务中心
        VillageWindow = "village_window" / "村社服务窗口",
        /// 网格员代办
        GridWorker = "grid_worker" / "网格员代办",
        /// 社会救助服务热线
        Hotline = "hotline" / "服务热线",
        /// 监测预警
        Warning = "warning" / "监测预警",
    }
);

vocabulary!(
    /// 村社评议结果 (P5).
    ReviewOutcome {
        /// 同意
        Agreed = "agreed" / "同意",
        /// 不同意
        Disagreed = "disagreed" / "不同意",
    }
);

vocabulary!(
    /// 类别变动: what a decided category does to the household's dated periods (D2).
    Change {
        /// 纳入: a period starts.
        Start = "start" / "纳入",
        /// 退出: a period ends.
        End = "end" / "退出",
        /// 继续: the period goes on unchanged.
        Continue = "continue" / "继续",
    }
);

/// The district department that confirms a category (U2): 区民政局 for assistance categories,
/// 区农业农村委 for the monitoring tag.
pub fn department_of(category: Category) -> Role {
    if category.confirmed_by_agriculture() {
        Role::DistrictAgriculture
    } else {
        Role::DistrictCivilAffairs
    }
}

/// 经办人: who acts, in which role, where (U2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorRef {
    pub user_id: i64,
    pub role: Role,
    pub area: PlaceCode,
}

impl ActorRef {
    /// The part of the tree the actor works in. Households are recorded at village level, so
    /// a grid worker's scope is the grid's village (as in `app::Actor::scope`).
    pub fn scope(&self) -> PlaceCode {
        match self.area.level() {
            PlaceLevel::Grid => self
                .area
                .at_level(PlaceLevel::Village)
                .unwrap_or_else(|| self.area.clone()),
            _ => self.area.clone(),
        }
    }

    /// True when `place` lies inside the actor's scope.
    pub fn covers(&self, place: &PlaceCode) -> bool {
        self.scope().contains(place)
    }
}

/// 授权: the applicant's signed consent to the check of the family's economic situation (P1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub signed_on: NaiveDate,
    /// The name of the person who signed (the applicant or an agent).
    pub signer: String,
}

/// 受理登记: what intake records (P1). `held` is what the registry says the household holds
/// on the day of intake; the joint review decides what it holds afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intake {
    pub kind: CaseKind,
    pub channel: Channel,
    pub tracking_number: TrackingNumber,
    /// 户编号 of the household in the registry (or the one the caller allocated for it).
    pub household_no: HouseholdNo,
    /// The household's village (or grid).
    pub area: PlaceCode,
    /// 申请人
    pub applicant: String,
    /// Required for an application (P1); recorded when given for the other kinds.
    pub consent: Option<Consent>,
    /// Categories the household holds on intake.
    pub held: Vec<Category>,
    /// 申请事由 / 核查或退出原因
    pub summary: String,
}

/// 疑点 (P3): a mismatch with department data or a threshold breach, by comparison or by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    /// The data source (不动产登记, 车辆登记, 工商登记 …) or 人工录入.
    pub source: String,
    pub description: String,
}

/// 疑点说明 (P3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Explanation {
    /// 已排除: the 疑点 does not hold, with the note saying why.
    Resolved { note: String },
    /// 已核实: the 疑点 holds and the survey reflects it.
    Confirmed { note: String },
}

impl Explanation {
    pub fn note(&self) -> &str {
        match self {
            Explanation::Resolved { note } | Explanation::Confirmed { note } => note,
        }
    }
}

/// A 疑点 of the case with its number (from 1) and its explanation once given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscrepancyRecord {
    pub number: u32,
    pub discrepancy: Discrepancy,
    pub explanation: Option<Explanation>,
}

/// 调查组成员: a named user of the joint survey team (P4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMember {
    pub user_id: i64,
    pub name: String,
}

/// 入户调查 (P4, D3): one survey in the household format, used by every department.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    /// Every D3 indicator: members, income, property, expenditure, 三保障, drinking water,
    /// risks, labour capacity.
    pub household: Household,
    pub team: Vec<TeamMember>,
    pub surveyed_on: NaiveDate,
}

/// 村社评议 (P5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VillageReview {
    pub held_on: NaiveDate,
    /// 参会人数
    pub attendance: u32,
    pub outcome: ReviewOutcome,
    pub note: String,
}

/// 认定建议 (P6): the rules engine's proposal, passed in as values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The categories the household qualifies for (the monitoring tag among them).
    pub categories: Vec<Category>,
    pub monitoring_kind: Option<MonitoringKind>,
    /// The engine's explanation, kept with the case.
    pub explanation: String,
    /// 待人工核定: the tests the engine could not decide (a parameter without value on the date);
    /// `categories` are what holds if each passes. The meeting judges each one.
    pub pending: Vec<PendingTest>,
}

/// A test of the proposal pending on a parameter without value (RULES.md, HOUSEHOLD.md `pending`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTest {
    /// The rule (test) id, e.g. `property.within_limits`.
    pub rule: String,
    /// The parameter without value, e.g. `property.financial_assets_months`.
    pub param: String,
    /// `金融资产上限…未配置，需人工核定`.
    pub text: String,
}

/// 人工核定: the meeting's judgement on one pending test (P6): 符合 or 不符合, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingJudgement {
    pub rule: String,
    pub param: String,
    /// 符合 (`true`) or 不符合 (`false`).
    pub holds: bool,
    pub reason: String,
}

impl PendingJudgement {
    /// Whether this judges `test`.
    pub fn judges(&self, test: &PendingTest) -> bool {
        self.rule == test.rule && self.param == test.param
    }
}

/// The meeting's word on one category (P6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 同意建议: the category is held as proposed.
    Confirm,
    /// 改判: the opposite of the proposal — a proposed category is not held, or one not
    /// proposed is held — with the written reason.
    Override { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryVerdict {
    pub category: Category,
    pub verdict: Verdict,
}

/// 镇街联合研判审核会议 (P6): monitoring and assistance decided in one meeting (同步认定).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JointReview {
    pub held_on: NaiveDate,
    pub proposal: Proposal,
    /// One verdict for every proposed category, and an `Override` for any added one.
    pub verdicts: Vec<CategoryVerdict>,
    /// The monitoring kind when the monitoring tag is held.
    pub monitoring_kind: Option<MonitoringKind>,
    /// Why the kind differs from the proposal's (required then).
    pub monitoring_kind_reason: String,
    /// One judgement for every pending test of the proposal (人工核定), stored with the review.
    pub judgements: Vec<PendingJudgement>,
    /// D2: 供养方式 of the 特困 the meeting starts (required then, and kept on its category
    /// period); `None` when no 特困 starts — a mode given then is not recorded.
    pub support_mode: Option<domain::SupportMode>,
}

/// 区级审核意见 (P8) on one decided category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepartmentDecision {
    Confirmed {
        on: NaiveDate,
        by: i64,
    },
    Declined {
        on: NaiveDate,
        by: i64,
        reason: String,
    },
}

/// A category the joint review decided, awaiting (or holding) its department's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecidedCategory {
    pub category: Category,
    pub monitoring_kind: Option<MonitoringKind>,
    pub change: Change,
    pub decision: Option<DepartmentDecision>,
}

impl DecidedCategory {
    /// The district department that confirms it (U2).
    pub fn department(&self) -> Role {
        department_of(self.category)
    }
}

/// 公示 (P7): posted on `posted_on`, running through `ends_on` (the first day is not counted:
/// a 7-day notice posted on the 1st ends on the 8th).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notice {
    pub posted_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub days: u32,
}

impl Notice {
    pub fn is_running(&self, today: NaiveDate) -> bool {
        today <= self.ends_on
    }
}

/// Where an objection stands (P7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectionStatus {
    /// Recorded; the case waits to be sent back to verification.
    Open,
    /// Sent back to verification; answered after the new survey.
    Reverifying,
    Answered {
        on: NaiveDate,
        answer: String,
    },
}

/// 公示异议 (P7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Objection {
    pub number: u32,
    pub raised_on: NaiveDate,
    pub summary: String,
    pub status: ObjectionStatus,
}

impl Objection {
    /// Open until answered: no confirmation and no new notice meanwhile.
    pub fn is_unanswered(&self) -> bool {
        !matches!(self.status, ObjectionStatus::Answered { .. })
    }
}

/// A dated change the registry applies on confirmation (D2): a category period starts or
/// ends `on` that day, with the case as reason; `Continue` leaves the period as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatedChange {
    pub category: Category,
    pub monitoring_kind: Option<MonitoringKind>,
    pub change: Change,
    pub on: NaiveDate,
}

/// How a closed case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 已认定: the confirmed changes; declined categories are left out.
    Confirmed {
        changes: Vec<DatedChange>,
    },
    /// 不予认定, with the reason the applicant is told (P8).
    Refused {
        reason: String,
    },
    Withdrawn {
        reason: String,
    },
}

/// What happened, as recorded in the case's append-only history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// 受理 (P1).
    Received(Intake),
    /// P2: visible at once to a deciding department.
    SharedWith {
        department: Role,
    },
    StepEntered {
        step: Step,
    },
    DiscrepancyRecorded {
        number: u32,
        discrepancy: Discrepancy,
    },
    DiscrepancyExplained {
        number: u32,
        explanation: Explanation,
    },
    SurveyRecorded(Survey),
    VillageReviewRecorded(VillageReview),
    /// P6: the meeting and the categories it decided (each awaiting its department).
    JointReviewRecorded {
        review: JointReview,
        decided: Vec<DecidedCategory>,
    },
    NoticePosted(Notice),
    ObjectionRecorded {
        number: u32,
        summary: String,
    },
    /// P7: the open objections send the case back to 入户调查.
    SentBackForVerification,
    ObjectionAnswered {
        number: u32,
        answer: String,
    },
    CategoryConfirmed {
        category: Category,
    },
    CategoryDeclined {
        category: Category,
        reason: String,
    },
    /// P8, D2: the registry's dated changes.
    Concluded {
        changes: Vec<DatedChange>,
    },
    /// X2: the household stays under monitoring after it leaves (按规退出并持续做好监测).
    MonitoringContinues {
        household_no: HouseholdNo,
    },
    Refused {
        reason: String,
    },
    RefusalNoticeDelivered,
    Withdrawn {
        reason: String,
    },
    /// P9: 特殊情况 — the case's total limit is the special one, for this reason.
    SpecialLimitRecorded {
        reason: String,
    },
}

/// One entry of a case's history: on which day, by whom, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub on: NaiveDate,
    pub actor: ActorRef,
    pub fact: Fact,
}

/// A history that does not start with intake, or has a second intake.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("案件记录为空")]
    Empty,
    #[error("案件记录的第一条应为受理")]
    FirstNotReceived,
    #[error("案件记录第{index}条重复受理")]
    ReceivedTwice { index: usize },
}

/// 案件. Invariant: built only by `open`/`apply` or by replaying their events; its step is
/// reached only through the steps before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    intake: Intake,
    received_on: NaiveDate,
    step: Step,
    step_since: NaiveDate,
    /// The date of the latest event: the next move happens on it or later.
    last_event_on: NaiveDate,
    discrepancies: Vec<DiscrepancyRecord>,
    survey: Option<Survey>,
    /// True after an objection sent the case back, until the new survey is recorded.
    awaiting_resurvey: bool,
    reverification_since: Option<NaiveDate>,
    village_review: Option<VillageReview>,
    joint_review: Option<JointReview>,
    decided: Vec<DecidedCategory>,
    notice: Option<Notice>,
    notices_posted: u32,
    objections: Vec<Objection>,
    outcome: Option<Outcome>,
    closed_on: Option<NaiveDate>,
    monitoring_continues: bool,
    refusal_notice_delivered_on: Option<NaiveDate>,
    special_limit_reason: Option<String>,
}

impl Case {
    pub(crate) fn received(intake: Intake, on: NaiveDate) -> Case {
        Case {
            intake,
            received_on: on,
            step: Step::Received,
            step_since: on,
            last_event_on: on,
            discrepancies: Vec::new(),
            survey: None,
            awaiting_resurvey: false,
            reverification_since: None,
            village_review: None,
            joint_review: None,
            decided: Vec::new(),
            notice: None,
            notices_posted: 0,
            objections: Vec::new(),
            outcome: None,
            closed_on: None,
            monitoring_continues: false,
            refusal_notice_delivered_on: None,
            special_limit_reason: None,
        }
    }

    /// Rebuilds a case from its history, as the store reads it back.
    pub fn replay(events: &[Event]) -> Result<Case, HistoryError> {
        let (first, rest) = events.split_first().ok_or(HistoryError::Empty)?;
        let Fact::Received(intake) = &first.fact else {
            return Err(HistoryError::FirstNotReceived);
        };
        let mut case = Case::received(intake.clone(), first.on);
        for (offset, event) in rest.iter().enumerate() {
            if matches!(event.fact, Fact::Received(_)) {
                return Err(HistoryError::ReceivedTwice { index: offset + 2 });
            }
            case.evolve(event);
        }
        Ok(case)
    }

    /// Folds one event into the case. Every event but the first `Received` comes here.
    pub(crate) fn evolve(&mut self, event: &Event) {
        let on = event.on;
        self.last_event_on = self.last_event_on.max(on);
        match &event.fact {
            Fact::Received(_) | Fact::SharedWith { .. } => {}
            Fact::StepEntered { step } => {
                self.step = *step;
                self.step_since = on;
                if step.is_final() {
                    self.closed_on = Some(on);
                }
            }
            Fact::DiscrepancyRecorded {
                number,
                discrepancy,
            } => self.discrepancies.push(DiscrepancyRecord {
                number: *number,
                discrepancy: discrepancy.clone(),
                explanation: None,
            }),
            Fact::DiscrepancyExplained {
                number,
                explanation,
            } => {
                if let Some(record) = self
                    .discrepancies
                    .iter_mut()
                    .find(|record| record.number == *number)
                {
                    record.explanation = Some(explanation.clone());
                }
            }
            Fact::SurveyRecorded(survey) => {
                self.survey = Some(survey.clone());
                self.awaiting_resurvey = false;
            }
            Fact::VillageReviewRecorded(review) => self.village_review = Some(review.clone()),
            Fact::JointReviewRecorded { review, decided } => {
                self.joint_review = Some(review.clone());
                self.decided = decided.clone();
            }
            Fact::NoticePosted(notice) => {
                self.notice = Some(*notice);
                self.notices_posted += 1;
            }
            Fact::ObjectionRecorded { number, summary } => self.objections.push(Objection {
                number: *number,
                raised_on: on,
                summary: summary.clone(),
                status: ObjectionStatus::Open,
            }),
            Fact::SentBackForVerification => {
                for objection in &mut self.objections {
                    if objection.status == ObjectionStatus::Open {
                        objection.status = ObjectionStatus::Reverifying;
                    }
                }
                self.awaiting_resurvey = true;
                self.reverification_since = Some(on);
                self.notice = None;
                for decided in &mut self.decided {
                    decided.decision = None;
                }
            }
            Fact::ObjectionAnswered { number, answer } => {
                if let Some(objection) = self
                    .objections
                    .iter_mut()
                    .find(|objection| objection.number == *number)
                {
                    objection.status = ObjectionStatus::Answered {
                        on,
                        answer: answer.clone(),
                    };
                }
            }
            Fact::CategoryConfirmed { category } => {
                self.decide(
                    *category,
                    DepartmentDecision::Confirmed {
                        on,
                        by: event.actor.user_id,
                    },
                );
            }
            Fact::CategoryDeclined { category, reason } => {
                self.decide(
                    *category,
                    DepartmentDecision::Declined {
                        on,
                        by: event.actor.user_id,
                        reason: reason.clone(),
                    },
                );
            }
            Fact::Concluded { changes } => {
                self.outcome = Some(Outcome::Confirmed {
                    changes: changes.clone(),
                });
            }
            Fact::MonitoringContinues { .. } => self.monitoring_continues = true,
            Fact::Refused { reason } => {
                self.outcome = Some(Outcome::Refused {
                    reason: reason.clone(),
                });
            }
            Fact::RefusalNoticeDelivered => self.refusal_notice_delivered_on = Some(on),
            Fact::SpecialLimitRecorded { reason } => {
                self.special_limit_reason = Some(reason.clone());
            }
            Fact::Withdrawn { reason } => {
                self.outcome = Some(Outcome::Withdrawn {
                    reason: reason.clone(),
                });
            }
        }
    }

    fn decide(&mut self, category: Category, decision: DepartmentDecision) {
        if let Some(decided) = self
            .decided
            .iter_mut()
            .find(|decided| decided.category == category)
        {
            decided.decision = Some(decision);
        }
    }

    pub fn intake(&self) -> &Intake {
        &self.intake
    }

    pub fn kind(&self) -> CaseKind {
        self.intake.kind
    }

    pub fn tracking_number(&self) -> &TrackingNumber {
        &self.intake.tracking_number
    }

    /// 户编号 of the case's household.
    pub fn household_no(&self) -> &HouseholdNo {
        &self.intake.household_no
    }

    /// The household's village (or grid): the place that scopes who may act.
    pub fn area(&self) -> &PlaceCode {
        &self.intake.area
    }

    pub fn received_on(&self) -> NaiveDate {
        self.received_on
    }

    /// The current step (the state of the case).
    pub fn step(&self) -> Step {
        self.step
    }

    /// The day the current step began.
    /// 告知书 (P8, issue 14): the categories a department declined, with the reason — the part
    /// declined of a partial decision, or every one of a refusal by the departments.
    pub fn declined(&self) -> Vec<(Category, &str)> {
        self.decided
            .iter()
            .filter_map(|decided| match &decided.decision {
                Some(DepartmentDecision::Declined { reason, .. }) => {
                    Some((decided.category, reason.as_str()))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether the applicant is owed a written notice of what was declined (不予认定告知书):
    /// a refused case, or a confirmed one with a declined category (partial decline).
    pub fn owes_refusal_notice(&self) -> bool {
        match self.step {
            Step::Refused => true,
            Step::Confirmed => !self.declined().is_empty(),
            _ => false,
        }
    }

    /// The date of the case's latest event.
    pub fn last_event_on(&self) -> NaiveDate {
        self.last_event_on
    }

    pub fn step_since(&self) -> NaiveDate {
        self.step_since
    }

    pub fn discrepancies(&self) -> &[DiscrepancyRecord] {
        &self.discrepancies
    }

    /// The latest survey (a re-verification replaces it).
    pub fn survey(&self) -> Option<&Survey> {
        self.survey.as_ref()
    }

    /// Whether an objection has sent the case back and the new survey is still to come.
    pub fn awaiting_resurvey(&self) -> bool {
        self.awaiting_resurvey
    }

    /// The day the latest objection sent the case back to verification.
    pub fn reverification_since(&self) -> Option<NaiveDate> {
        self.reverification_since
    }

    pub fn village_review(&self) -> Option<&VillageReview> {
        self.village_review.as_ref()
    }

    /// The latest joint review.
    pub fn joint_review(&self) -> Option<&JointReview> {
        self.joint_review.as_ref()
    }

    /// The categories of the latest joint review with their departments' decisions.
    pub fn decided(&self) -> &[DecidedCategory] {
        &self.decided
    }

    /// What the household holds once the decided categories stand (救助帮扶 looks ahead with
    /// it): a start is held and an end is not, unless its department declined it (a declined
    /// start is not held, a declined end stays held); a decision still awaited counts as the
    /// meeting decided. The monitoring kind is the decided one. `None` before the joint review.
    pub fn holds_after_review(&self) -> Option<(Vec<Category>, Option<MonitoringKind>)> {
        self.joint_review.as_ref()?;
        let mut categories = Vec::new();
        let mut monitoring_kind = None;
        for decided in &self.decided {
            let declined = matches!(decided.decision, Some(DepartmentDecision::Declined { .. }));
            let held = match decided.change {
                Change::Start => !declined,
                Change::Continue => true,
                Change::End => declined,
            };
            if held {
                categories.push(decided.category);
                if decided.category == Category::Monitoring {
                    monitoring_kind = decided.monitoring_kind;
                }
            }
        }
        Some((categories, monitoring_kind))
    }

    /// The current notice (none before posting and after a send-back).
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// How many notices were posted (more than one after an objection).
    pub fn notices_posted(&self) -> u32 {
        self.notices_posted
    }

    pub fn objections(&self) -> &[Objection] {
        &self.objections
    }

    /// True while any objection is unanswered (P7).
    pub fn has_open_objection(&self) -> bool {
        self.objections.iter().any(Objection::is_unanswered)
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The day the case was confirmed, refused or withdrawn.
    pub fn closed_on(&self) -> Option<NaiveDate> {
        self.closed_on
    }

    /// X2: the household stays under monitoring after this case.
    pub fn monitoring_continues(&self) -> bool {
        self.monitoring_continues
    }

    pub fn refusal_notice_delivered_on(&self) -> Option<NaiveDate> {
        self.refusal_notice_delivered_on
    }

    /// P9: 特殊情况 — the reason recorded for the special total limit, if any.
    pub fn special_limit_reason(&self) -> Option<&str> {
        self.special_limit_reason.as_deref()
    }
}
