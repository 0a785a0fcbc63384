//! 拒绝办理: why a move was not made. Each variant names the condition; `code()` is stable
//! (API and database), `message()` is the Chinese sentence shown to the user.

use crate::case::Step;
use chrono::NaiveDate;
use domain::{Category, PlaceLevel, Role};

/// A move the workflow does not allow, with the reason (U2, P1–P9, X1, X2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// P1: an application needs the applicant's consent to the economic check (授权).
    #[error("申请人尚未签署家庭经济状况核对授权，不能受理")]
    ConsentMissing,
    #[error("申请人姓名不能为空")]
    ApplicantMissing,
    #[error("办理区域应为村社或网格")]
    AreaNotVillage,
    /// U2: the action belongs to another role.
    #[error("“{}”无权办理此事项", role.label())]
    WrongRole { role: Role },
    /// U2: the role is held at the wrong level of the tree (a town reviewer placed at a village).
    #[error("“{}”应设在{}一级", role.label(), level_label(*expected))]
    WrongLevel { role: Role, expected: PlaceLevel },
    /// U2: the case lies outside the actor's area.
    #[error("该案件不在您的管辖区域内")]
    OutsideArea,
    #[error("案件已办结（{}），不能再办理", step.label())]
    CaseClosed { step: Step },
    /// The action belongs to another step; steps are never skipped.
    #[error("案件当前处于“{}”环节，不能办理此事项", step.label())]
    StepOutOfOrder { step: Step },
    /// P3: every 疑点 is explained before the comparison step ends.
    #[error("第{number}号疑点尚未说明，不能结束信息比对")]
    DiscrepancyUnexplained { number: u32 },
    #[error("没有第{number}号疑点")]
    UnknownDiscrepancy { number: u32 },
    #[error("第{number}号疑点已说明")]
    DiscrepancyAlreadyExplained { number: u32 },
    /// P4: the joint survey team has at least two distinct named people.
    #[error("入户调查须由2名及以上不同人员组成联合核查小组（现为{distinct}人）")]
    TeamTooSmall { distinct: usize },
    #[error("调查组成员须填写姓名")]
    TeamMemberUnnamed,
    /// P4: a team member's account is disabled.
    #[error("调查组成员“{name}”的账号已停用")]
    TeamMemberInactive { name: String },
    /// P4, U2: a team member whose role does not survey, or whose area does not cover the household.
    #[error("调查组成员“{name}”（{}）不能调查该户：须为村社、网格或镇街工作人员，且其辖区包含该户", role.label())]
    TeamMemberMayNotSurvey { name: String, role: Role },
    #[error("调查的家庭与案件的家庭不一致")]
    SurveyOfAnotherHousehold,
    #[error("日期{date}晚于今天")]
    DateInFuture { date: NaiveDate },
    /// Every step happens on or after the step before it.
    #[error("日期{date}早于上一环节的日期{previous}")]
    DateBeforePreviousStep {
        date: NaiveDate,
        previous: NaiveDate,
    },
    /// P5: a village review records who attended.
    #[error("村社评议须填写参会人数")]
    AttendanceMissing,
    /// P6: the meeting decides every category the rules engine proposed.
    #[error("联合研判未对建议类别“{}”作出决定", category.label())]
    ProposalUndecided { category: Category },
    /// P6, 待人工核定: every pending test of the proposal is judged by the meeting.
    #[error("待人工核定事项未作出核定（符合或不符合，并写明理由）：{text}")]
    PendingUnjudged { text: String },
    #[error("待人工核定事项须写明核定理由：{text}")]
    JudgementReasonMissing { text: String },
    #[error("参数{param}不是本案待人工核定的事项")]
    NotPending { param: String },
    #[error("待人工核定事项重复核定：{text}")]
    JudgedTwice { text: String },
    #[error("“{}”不在建议中，只能以改判（写明理由）列入", category.label())]
    NotProposed { category: Category },
    #[error("类别“{}”重复决定", category.label())]
    DecidedTwice { category: Category },
    #[error("认定为防止返贫监测对象时须确定监测类型")]
    MonitoringKindMissing,
    #[error("未认定为防止返贫监测对象，不应填写监测类型")]
    MonitoringKindUnexpected,
    /// The decision changes nothing the case kind asks for (an application that starts no
    /// category, an exit that ends none): refuse or withdraw the case instead.
    #[error("联合研判结果与案件类型不符：{}", expected_change_label(*kind))]
    NothingChanges { kind: crate::case::CaseKind },
    /// X2: 风险消除 only ends the monitoring tag.
    #[error("风险消除只能解除防止返贫监测对象标识，不能改变其他类别")]
    RiskEliminationEndsOnlyMonitoring,
    /// X2: 风险消除 needs the written reason (the case's 核查或退出原因).
    #[error("办理风险消除须写明理由")]
    RiskEliminationReasonMissing,
    /// X2 (宽进严出): the monitoring tag ends only by 风险消除; another case keeps it (按规退出
    /// 并持续做好监测).
    #[error("防止返贫监测对象标识只能通过风险消除解除，其他案件须继续监测")]
    MonitoringEndsOnlyByRiskElimination,
    /// X2, rule 9: 风险消除 ends the tag only where the rules engine found the risk eliminated
    /// (stable months above the line, no open risk or gap, labour capacity); the meeting may
    /// not override that.
    #[error(
        "风险消除条件未满足（收入稳定高于监测线的月数、未消除的风险或“三保障”缺失、劳动能力），不能解除监测"
    )]
    RiskNotEliminated,
    /// D2: a 特困 that starts records its 供养方式.
    #[error("认定特困人员须选择供养方式（分散供养或集中供养）")]
    SupportModeMissing,
    /// W1: a re-check needs a category the household holds.
    #[error("该户目前未纳入任何救助类别，不能办理核查；新纳入请办理申请")]
    NothingHeld,
    /// X2: a risk-elimination case needs a household that is being monitored.
    #[error("该户不是防止返贫监测对象，不能办理风险消除")]
    NotMonitored,
    /// P6, P8: an override, a refusal, a decline or an objection needs its text.
    #[error("须写明理由")]
    ReasonMissing,
    #[error("说明内容不能为空")]
    NoteMissing,
    #[error("公示尚未张贴")]
    NoticeNotPosted,
    #[error("公示已张贴")]
    NoticeAlreadyPosted,
    /// P7: no confirmation while the notice runs.
    #[error("公示期至{until}结束，公示期内不能审核确认")]
    NoticeRunning { until: NaiveDate },
    /// P7: no confirmation and no new notice while an objection is unanswered.
    #[error("公示异议尚未处理完毕")]
    ObjectionOpen,
    #[error("没有待核实的公示异议")]
    NoOpenObjection,
    #[error("没有第{number}号异议")]
    UnknownObjection { number: u32 },
    #[error("第{number}号异议须重新调查核实后才能答复")]
    ObjectionNotReverified { number: u32 },
    #[error("第{number}号异议已答复")]
    ObjectionAlreadyAnswered { number: u32 },
    /// P8, U2: each district department confirms only its own categories.
    #[error("“{}”由其他部门审核确认", category.label())]
    OtherDepartmentsCategory { category: Category },
    #[error("联合研判未涉及“{}”", category.label())]
    CategoryNotDecided { category: Category },
    #[error("“{}”已审核", category.label())]
    CategoryAlreadyDecided { category: Category },
    #[error("不予认定告知书已送达")]
    RefusalNoticeAlreadyDelivered,
    /// P9: the special total limit's reason is recorded once.
    #[error("已登记特殊情况延长时限的理由")]
    SpecialLimitAlreadyRecorded,
}

fn level_label(level: PlaceLevel) -> &'static str {
    match level {
        PlaceLevel::District => "区县",
        PlaceLevel::Town => "镇街",
        PlaceLevel::Village => "村社",
        PlaceLevel::Grid => "网格",
    }
}

fn expected_change_label(kind: crate::case::CaseKind) -> &'static str {
    use crate::case::CaseKind;
    match kind {
        CaseKind::Application => "申请未认定任何新类别，应作不予认定处理",
        CaseKind::Exit => "退出案件未终止任何类别",
        CaseKind::RiskElimination => "风险消除案件未解除监测标识",
        CaseKind::Recheck => "核查结果未涉及任何类别",
    }
}

impl Refusal {
    /// The stable snake_case code (API, logs, database).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ConsentMissing => "consent_missing",
            Refusal::ApplicantMissing => "applicant_missing",
            Refusal::AreaNotVillage => "area_not_village",
            Refusal::WrongRole { .. } => "wrong_role",
            Refusal::WrongLevel { .. } => "wrong_level",
            Refusal::OutsideArea => "outside_area",
            Refusal::CaseClosed { .. } => "case_closed",
            Refusal::StepOutOfOrder { .. } => "step_out_of_order",
            Refusal::DiscrepancyUnexplained { .. } => "discrepancy_unexplained",
            Refusal::UnknownDiscrepancy { .. } => "unknown_discrepancy",
            Refusal::DiscrepancyAlreadyExplained { .. } => "discrepancy_already_explained",
            Refusal::TeamTooSmall { .. } => "team_too_small",
            Refusal::TeamMemberUnnamed => "team_member_unnamed",
            Refusal::TeamMemberInactive { .. } => "team_member_inactive",
            Refusal::TeamMemberMayNotSurvey { .. } => "team_member_may_not_survey",
            Refusal::SurveyOfAnotherHousehold => "survey_of_another_household",
            Refusal::DateInFuture { .. } => "date_in_future",
            Refusal::DateBeforePreviousStep { .. } => "date_before_previous_step",
            Refusal::AttendanceMissing => "attendance_missing",
            Refusal::ProposalUndecided { .. } => "proposal_undecided",
            Refusal::NotProposed { .. } => "not_proposed",
            Refusal::PendingUnjudged { .. } => "pending_unjudged",
            Refusal::JudgementReasonMissing { .. } => "judgement_reason_missing",
            Refusal::NotPending { .. } => "not_pending",
            Refusal::JudgedTwice { .. } => "judged_twice",
            Refusal::DecidedTwice { .. } => "decided_twice",
            Refusal::MonitoringKindMissing => "monitoring_kind_missing",
            Refusal::MonitoringKindUnexpected => "monitoring_kind_unexpected",
            Refusal::NothingChanges { .. } => "nothing_changes",
            Refusal::RiskEliminationEndsOnlyMonitoring => "risk_elimination_ends_only_monitoring",
            Refusal::NotMonitored => "not_monitored",
            Refusal::RiskEliminationReasonMissing => "risk_elimination_reason_missing",
            Refusal::MonitoringEndsOnlyByRiskElimination => {
                "monitoring_ends_only_by_risk_elimination"
            }
            Refusal::RiskNotEliminated => "risk_not_eliminated",
            Refusal::SupportModeMissing => "support_mode_missing",
            Refusal::NothingHeld => "nothing_held",
            Refusal::ReasonMissing => "reason_missing",
            Refusal::NoteMissing => "note_missing",
            Refusal::NoticeNotPosted => "notice_not_posted",
            Refusal::NoticeAlreadyPosted => "notice_already_posted",
            Refusal::NoticeRunning { .. } => "notice_running",
            Refusal::ObjectionOpen => "objection_open",
            Refusal::NoOpenObjection => "no_open_objection",
            Refusal::UnknownObjection { .. } => "unknown_objection",
            Refusal::ObjectionNotReverified { .. } => "objection_not_reverified",
            Refusal::ObjectionAlreadyAnswered { .. } => "objection_already_answered",
            Refusal::OtherDepartmentsCategory { .. } => "other_departments_category",
            Refusal::CategoryNotDecided { .. } => "category_not_decided",
            Refusal::CategoryAlreadyDecided { .. } => "category_already_decided",
            Refusal::RefusalNoticeAlreadyDelivered => "refusal_notice_already_delivered",
            Refusal::SpecialLimitAlreadyRecorded => "special_limit_already_recorded",
        }
    }

    /// The Chinese sentence for the user (the same as `Display`).
    pub fn message(&self) -> String {
        self.to_string()
    }
}
