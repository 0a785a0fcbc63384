//! The states, steps and kinds of the loops (cases, warnings, contacts, referrals, re-checks)
//! and the status of an entered value: words that `store` decodes its rows into, so they live
//! here, below it. Their machines stay in `workflow`, `assist` and `policy`, which re-export
//! them from their old places.

use crate::vocabulary;

vocabulary!(
    /// 案件类型 (P1, W1, X1, X2).
    CaseKind {
        /// 救助帮扶申请: entry, for no particular benefit (P1).
        Application = "application" / "救助帮扶申请",
        /// 定期核查 or 突发事件后核查 of an enrolled household (W1).
        Recheck = "recheck" / "家庭经济状况核查",
        /// 退出: 怎么进怎么出, through the same steps as entry (X1).
        Exit = "exit" / "退出",
        /// 风险消除 of a monitoring object (X2).
        RiskElimination = "risk_elimination" / "风险消除",
    }
);

vocabulary!(
    /// 办理环节: the state of a case. The order is the order of the process (统一认定流程).
    Step {
        /// 受理
        Received = "received" / "受理",
        /// 信息比对 (家庭经济状况核查, P3)
        Comparing = "comparing" / "信息比对",
        /// 入户调查 (P4)
        Surveying = "surveying" / "入户调查",
        /// 村社评议 (P5)
        VillageReview = "village_review" / "村社评议",
        /// 镇街联合研判 (P6)
        JointReview = "joint_review" / "镇街联合研判",
        /// 公示 (P7)
        Notice = "notice" / "公示",
        /// 审核确认 (P8)
        Confirming = "confirming" / "审核确认",
        /// 已认定
        Confirmed = "confirmed" / "已认定",
        /// 不予认定
        Refused = "refused" / "不予认定",
        /// 已撤回
        Withdrawn = "withdrawn" / "已撤回",
    }
);

impl Step {
    /// True once the case is closed (confirmed, refused or withdrawn).
    pub fn is_final(self) -> bool {
        matches!(self, Step::Confirmed | Step::Refused | Step::Withdrawn)
    }
}

vocabulary!(
    /// 办理时限: the time limits of the process, each read from one `deadline.*` parameter.
    TimeLimit {
        /// 镇街审核: intake to the joint review and the notice's posting.
        TownReview = "town_review" / "镇街审核",
        /// 公示期 of assistance categories.
        Notice = "notice" / "公示期",
        /// 监测对象公示期 (not fewer than).
        MonitoringNotice = "monitoring_notice" / "监测对象公示期",
        /// 区级审核确认: from the end of the notice.
        DistrictConfirmation = "district_confirmation" / "区级审核确认",
        /// 低保审核确认总时限: from intake.
        DibaoTotal = "dibao_total" / "低保审核确认总时限",
        /// 低保审核确认总时限（特殊情况）
        DibaoTotalSpecial = "dibao_total_special" / "低保审核确认总时限（特殊情况）",
        /// 监测对象识别认定: from intake.
        MonitoringIdentification = "monitoring_identification" / "监测对象识别认定",
        /// 公示异议复核: from the send-back to the new notice.
        ObjectionRecheck = "objection_recheck" / "公示异议复核",
        /// 不予认定书面告知: from the refusal.
        RefusalNotice = "refusal_notice" / "不予认定书面告知",
    }
);

vocabulary!(
    /// 预警状态: where a warning stands in the loop.
    WarningState {
        /// 待分派
        Open = "open" / "待分派",
        /// 待核实: assigned to a team member.
        Assigned = "assigned" / "待核实",
        /// 待研判: verified on the spot.
        Verified = "verified" / "待研判",
        /// 待处置: judged.
        Judged = "judged" / "待处置",
        /// 待办结: disposed.
        Disposed = "disposed" / "待办结",
        /// 已办结
        Closed = "closed" / "已办结",
    }
);

vocabulary!(
    /// 研判结论.
    Judgement {
        /// 情况属实
        Confirmed = "confirmed" / "情况属实",
        /// 部分属实
        Partly = "partly" / "部分属实",
        /// 情况不属实
        NotConfirmed = "not_confirmed" / "情况不属实",
    }
);

vocabulary!(
    /// 处置方式.
    Disposition {
        /// 启动案件办理 (application, re-check or exit through the case workflow).
        OpenCase = "open_case" / "启动案件办理",
        /// 调整帮扶措施
        Adjust = "adjust" / "调整",
        /// 无需处置 (with a written reason)
        NoAction = "no_action" / "无需处置",
        /// 并入在办案件疑点 (the comparison put it on the open case at 信息比对).
        Discrepancy = "discrepancy" / "并入在办案件疑点",
    }
);

vocabulary!(
    /// 预警环节: a step of a warning's history (`Raise` is the comparison's or a contact's,
    /// the others are `LoopAction`s).
    WarningAction {
        /// 生成预警
        Raise = "raise" / "生成预警",
        /// 分派
        Assign = "assign" / "分派",
        /// 实地核实
        Verify = "verify" / "实地核实",
        /// 研判
        Judge = "judge" / "研判",
        /// 处置
        Dispose = "dispose" / "处置",
        /// 办结
        Close = "close" / "办结",
    }
);

vocabulary!(
    /// 发现渠道.
    ContactChannel {
        /// 走访 by a grid worker, village assistant or town reviewer.
        Visit = "visit" / "走访",
        /// 热线 ticket.
        Hotline = "hotline" / "热线",
    }
);

vocabulary!(
    /// What a visit or call led to.
    ContactOutcome {
        /// 仅记录
        Recorded = "recorded" / "仅记录",
        /// 生成预警
        Warning = "warning" / "生成预警",
        /// 受理申请
        Application = "application" / "受理申请",
    }
);

vocabulary!(
    /// 上次核查方式: what the household's last check was, for its next due date.
    CheckKind {
        /// 入户认定 (a case confirmed its categories)
        Entry = "entry" / "认定",
        /// 名册导入 (一门入库: the roll's deciding date)
        Roll = "roll" / "名册导入",
        /// 定期核查 (a re-check case completed)
        Recheck = "recheck" / "定期核查",
    }
);

vocabulary!(
    /// 转介状态
    ReferralState {
        Sent = "sent" / "待受理",
        Accepted = "accepted" / "已受理",
        Delivered = "delivered" / "已落实",
        Declined = "declined" / "已退回",
    }
);

impl ReferralState {
    /// Open referrals count as given (不重): a new referral of the same item waits for them.
    pub fn is_open(self) -> bool {
        matches!(self, ReferralState::Sent | ReferralState::Accepted)
    }

    /// Sent, accepted or delivered: the item counts as given in its period.
    pub fn counts_as_given(self) -> bool {
        self != ReferralState::Declined
    }
}

vocabulary!(
    /// 比对任务状态: where a comparison job stands.
    JobState {
        Queued = "queued" / "排队中",
        Running = "running" / "比对中",
        Done = "done" / "已完成",
        Failed = "failed" / "失败",
    }
);

vocabulary!(
    /// 状态: how sure we are of a policy value or a calendar year (RULES.md status tags C / S / I).
    Status {
        /// C: confirmed in an official notice.
        Confirmed = "confirmed" / "已确认",
        /// S: from a secondary source.
        Secondary = "secondary" / "二手来源",
        /// I: our reading, to be corrected by an administrator.
        Provisional = "provisional" / "暂定",
        /// 演示: a value `serve --demo` enters so that every rule can be seen; not policy.
        Demo = "demo" / "演示",
    }
);

impl Status {
    /// The statuses a user enters on a form (演示 only `serve --demo` enters).
    pub const ENTERED: &'static [Status] =
        &[Status::Confirmed, Status::Secondary, Status::Provisional];
}

vocabulary!(
    /// 比对数据类别: what a department's feed row is about (FEEDS.md).
    FeedKind {
        /// 车辆 (公安交管): assessed value.
        Vehicle = "vehicle" / "车辆",
        /// 不动产 (不动产登记): floor area.
        RealEstate = "real_estate" / "不动产",
        /// 市场主体 (市场监管): registered capital.
        Business = "business" / "市场主体",
        /// 工资 (人社): monthly wage.
        Wage = "wage" / "工资",
        /// 公积金: monthly deposit.
        ProvidentFund = "provident_fund" / "公积金",
        /// 纳税 (税务): annual taxable income.
        Tax = "tax" / "纳税",
        /// 存款 (银行): balance.
        Deposit = "deposit" / "存款",
        /// 财政供养 (财政): monthly salary.
        PublicPayroll = "public_payroll" / "财政供养",
        /// 医疗自付 (医保): out-of-pocket cost.
        Medical = "medical" / "医疗自付",
        /// 死亡 (公安 / 卫健 / 殡葬).
        Death = "death" / "死亡",
        /// 残疾 (残联): grade 1–4.
        Disability = "disability" / "残疾",
        /// 就学 (教育): stage, or a drop-out.
        School = "school" / "就学",
        /// 失业 (人社).
        Unemployment = "unemployment" / "失业",
        /// 灾害 (应急): loss.
        Disaster = "disaster" / "灾害",
        /// 监测对象 (农业农村).
        Monitoring = "monitoring" / "监测对象",
    }
);

vocabulary!(
    /// 文件格式 of a feed or a roll (FEEDS.md), as stored with it.
    FeedFormat {
        /// CSV, UTF-8 or GB18030, with a header line.
        Csv = "csv" / "CSV",
        /// JSON Lines, one object a line, English or Chinese keys.
        JsonLines = "jsonl" / "JSON Lines",
        /// XLSX: the first worksheet, header in its first non-empty row.
        Xlsx = "xlsx" / "XLSX",
    }
);

impl FeedFormat {
    /// The format a file name's extension says (case-insensitive): `csv`, `jsonl`/`ndjson`/`json`, `xlsx`.
    pub fn from_extension(extension: &str) -> Option<FeedFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "csv" => Some(FeedFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(FeedFormat::JsonLines),
            "xlsx" => Some(FeedFormat::Xlsx),
            _ => None,
        }
    }
}

vocabulary!(
    /// 预警类型.
    WarningKind {
        /// 疑点: the record contradicts the household's category.
        Contradiction = "contradiction" / "疑点（与类别不符）",
        /// 姓名不一致
        NameMismatch = "name_mismatch" / "姓名不一致",
        /// 重复享受 / 不重不漏.
        Duplicate = "duplicate" / "重复享受",
        /// 主动发现: possible need of a person outside the net or in a lower category.
        PossibleNeed = "possible_need" / "主动发现（可能困难）",
    }
);

vocabulary!(
    /// 预警等级, lowest first.
    Severity {
        /// 低
        Low = "low" / "低",
        /// 中
        Medium = "medium" / "中",
        /// 高
        High = "high" / "高",
    }
);

vocabulary!(
    /// 预警来源: the comparison of a feed, or a contact (its channel's code).
    WarningOrigin {
        /// 比对: a comparison run over a feed.
        Comparison = "comparison" / "比对",
        /// 走访: a visit log.
        Visit = "visit" / "走访",
        /// 热线: a hotline ticket.
        Hotline = "hotline" / "热线",
    }
);

impl From<ContactChannel> for WarningOrigin {
    fn from(channel: ContactChannel) -> WarningOrigin {
        match channel {
            ContactChannel::Visit => WarningOrigin::Visit,
            ContactChannel::Hotline => WarningOrigin::Hotline,
        }
    }
}

vocabulary!(
    /// 收入记录来源: where a household's dated income came from (X2, rule 9).
    IncomeSource {
        /// 入户调查: a case's survey.
        Survey = "survey" / "入户调查",
        /// 家庭信息: an edit of the registry.
        Household = "household" / "家庭信息",
    }
);

vocabulary!(
    /// 预警规则: the comparison's rules (`watch::rules`, each reading its threshold from the
    /// catalogue) and the two active-discovery reports a contact raises a warning under.
    WarningRule {
        /// A registry person has died (any feed saying so; inside or outside the net).
        Death = "death" / "死亡",
        /// The department's name differs from the registry's for the same ID number.
        NameMismatch = "name_mismatch" / "姓名不一致",
        /// One ID number listed by two households (不重不漏), found while indexing.
        DuplicateEnrolment = "duplicate_enrolment" / "重复纳入",
        /// Inside the net: a vehicle assessed above `property.vehicle_value_limit`.
        VehicleOverLimit = "vehicle_over_limit" / "车辆价值超限",
        /// Inside the net: the household's members hold more houses than the one lived in plus
        /// `property.extra_houses_limit` (real-estate records counted per household, one per
        /// person and `detail`).
        ExtraHouse = "extra_house" / "房产超限",
        /// Inside the net: a registered business where `property.business_allowed` is `false`.
        BusinessOwner = "business_owner" / "登记经营主体",
        /// Inside the net: one deposit balance above `property.financial_assets_months` ×
        /// 低保标准 (hukou) × members.
        DepositOverLimit = "deposit_over_limit" / "存款超限",
        /// Inside the net: fed monthly income (wage, public payroll; tax ÷ 12) above the person's
        /// declared monthly income × (1 + `comparison.income_tolerance`).
        IncomeOverDeclared = "income_over_declared" / "收入高于申报",
        /// Inside the net: with the person's declared income replaced by the fed one, the
        /// household's income per person-month is above its category's line (低保标准 by hukou for
        /// 低保, 特困基本生活标准 for 特困, × `dibao_edge.income_multiplier` for 低保边缘,
        /// `monitoring.income_line` ÷ 12 for monitoring objects).
        IncomeOverLine = "income_over_line" / "收入超过类别标准",
        /// Inside the net: a provident-fund deposit for a person who declared no income (a formal job).
        FormalJobUndeclared = "formal_job_undeclared" / "缴存公积金未申报收入",
        /// Inside the net: on the public payroll (财政供养).
        PublicPayroll = "public_payroll" / "财政供养人员",
        /// Outside the net or below 低保 (特困 and 低保 are "high"): out-of-pocket medical cost above `comparison.medical_large_yuan`.
        LargeMedicalCost = "large_medical_cost" / "大额医疗自付",
        /// Outside the net or below 低保: a disability grade not recorded (none, or a lighter one).
        NewDisability = "new_disability" / "新增或加重残疾",
        /// Outside the net or below 低保: a disaster loss above `comparison.disaster_large_yuan`.
        DisasterLoss = "disaster_loss" / "受灾损失",
        /// Outside the net or below 低保: unemployment registered.
        Unemployment = "unemployment" / "失业登记",
        /// Outside the net or below 低保: school drop-out (`detail` = `dropout` or 辍学).
        SchoolDropout = "school_dropout" / "辍学",
        /// Outside the net: listed as a monitoring object by 农业农村.
        MonitoredElsewhere = "monitored_elsewhere" / "农业农村部门监测对象",
        /// 走访发现: a grid worker's visit found a possible need (W4).
        VisitReport = "visit_report" / "走访发现",
        /// 热线反映: a hotline ticket reported a possible need (W4).
        HotlineReport = "hotline_report" / "热线反映",
    }
);

impl WarningRule {
    /// The rule's 预警类型.
    pub fn kind(self) -> WarningKind {
        match self {
            WarningRule::Death
            | WarningRule::VehicleOverLimit
            | WarningRule::ExtraHouse
            | WarningRule::BusinessOwner
            | WarningRule::DepositOverLimit
            | WarningRule::IncomeOverDeclared
            | WarningRule::IncomeOverLine
            | WarningRule::FormalJobUndeclared
            | WarningRule::PublicPayroll => WarningKind::Contradiction,
            WarningRule::NameMismatch => WarningKind::NameMismatch,
            WarningRule::DuplicateEnrolment => WarningKind::Duplicate,
            WarningRule::LargeMedicalCost
            | WarningRule::NewDisability
            | WarningRule::DisasterLoss
            | WarningRule::Unemployment
            | WarningRule::SchoolDropout
            | WarningRule::MonitoredElsewhere
            | WarningRule::VisitReport
            | WarningRule::HotlineReport => WarningKind::PossibleNeed,
        }
    }

    /// The rule's 预警等级.
    pub fn severity(self) -> Severity {
        match self {
            WarningRule::Death
            | WarningRule::VehicleOverLimit
            | WarningRule::ExtraHouse
            | WarningRule::BusinessOwner
            | WarningRule::DepositOverLimit
            | WarningRule::IncomeOverLine
            | WarningRule::PublicPayroll => Severity::High,
            WarningRule::NameMismatch
            | WarningRule::Unemployment
            | WarningRule::MonitoredElsewhere => Severity::Low,
            WarningRule::DuplicateEnrolment
            | WarningRule::IncomeOverDeclared
            | WarningRule::FormalJobUndeclared
            | WarningRule::LargeMedicalCost
            | WarningRule::NewDisability
            | WarningRule::DisasterLoss
            | WarningRule::SchoolDropout
            | WarningRule::VisitReport
            | WarningRule::HotlineReport => Severity::Medium,
        }
    }
}
