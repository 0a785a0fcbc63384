//! 说明: the reasons a determination gives, one per rule evaluated, each citing its parameters.

use crate::catalogue::{DatedValue, Param, Snapshot};

/// One line of explanation: a rule (or a test within a rule), whether it held, a Chinese
/// sentence with the numbers, and each parameter it read as it stood on the as-of date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason<'s> {
    /// Stable id such as `dibao.income_below_standard`.
    pub rule: &'static str,
    /// Whether the test held; for a pending test, whether it holds if every pending part passes.
    pub holds: bool,
    /// 待人工核定: a parameter the test needs for this household has no value on the date.
    pub pending: bool,
    pub text: String,
    pub params: Vec<ParamUse<'s>>,
}

/// 待人工核定: a test that could not be decided because a parameter it needs for this household
/// has no value on the date (RULES.md: pending, never a pass). The determination proposes what
/// would hold if the test passed; a person records the judgement (镇街联合研判).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending<'s> {
    /// The rule (test) id, as in the explanation.
    pub rule: &'static str,
    /// The parameter without value.
    pub param: Param,
    /// `金融资产上限…未配置，需人工核定`.
    pub text: &'s str,
}

/// A parameter read by a rule: its value, start date and source (`None` when not configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamUse<'s> {
    pub param: Param,
    pub value: Option<&'s DatedValue>,
    /// Its JSON in the output record, written once per snapshot.
    pub(crate) json: &'s str,
}

/// Collects reasons when explaining; does nothing (and builds no text) otherwise.
pub(crate) struct Reasons<'s> {
    snapshot: &'s Snapshot,
    on: bool,
    pub(crate) list: Vec<Reason<'s>>,
}

impl<'s> Reasons<'s> {
    pub(crate) fn new(snapshot: &'s Snapshot, on: bool) -> Self {
        Reasons {
            snapshot,
            on,
            list: if on {
                Vec::with_capacity(24)
            } else {
                Vec::new()
            },
        }
    }

    pub(crate) fn on(&self) -> bool {
        self.on
    }

    /// Records a reason; `text` runs only when explaining.
    pub(crate) fn add(
        &mut self,
        rule: &'static str,
        holds: bool,
        params: &[Param],
        text: impl FnOnce() -> String,
    ) {
        self.add_test(rule, holds, false, params, text);
    }

    /// Records a reason that may be pending (待人工核定).
    pub(crate) fn add_test(
        &mut self,
        rule: &'static str,
        holds: bool,
        pending: bool,
        params: &[Param],
        text: impl FnOnce() -> String,
    ) {
        if !self.on {
            return;
        }
        let params = params
            .iter()
            .map(|&param| ParamUse {
                param,
                value: self.snapshot.get(param),
                json: self.snapshot.param_json(param),
            })
            .collect();
        self.list.push(Reason {
            rule,
            holds,
            pending,
            text: text(),
            params,
        });
    }
}

/// The Chinese name of a rule (test) for pages, which show no rule ids (the API and exports keep
/// them): `dibao.income_below_standard` → `低保：人均收入低于低保标准`.
pub fn rule_title(rule: &str) -> &'static str {
    match rule {
        "income.per_capita" => "家庭收入",
        "property.within_limits" => "财产状况",
        "tekun.no_labour_capacity" => "特困：无劳动能力",
        "tekun.own_income_below_standard" => "特困：本人收入低于低保标准",
        "tekun.no_able_supporter" => "特困：无有能力的法定义务人",
        "tekun.benefit" => "特困：认定与供养金额",
        "dibao.income_below_standard" => "低保：人均收入低于低保标准",
        "dibao.benefit" => "低保：认定与救助金额",
        "dibao_single.household_below_edge_line" => "单人保：家庭收入低于低保边缘线",
        "dibao_single.benefit" => "单人保：认定与救助金额",
        "dibao_edge.income_in_band" => "低保边缘：收入在低保标准至边缘线之间",
        "rigid_expenditure.share_of_income" => "刚性支出困难：收入与支出",
        "monitoring.tag" => "防止返贫监测：风险与收入",
        "other_needy.risk_without_category" => "其他困难人员",
        "priority.primary" => "就高不就低：主类别",
        "monitoring.risk_eliminated" => "风险消除",
        "recheck.cycle" => "核查周期",
        _ => "其他规则",
    }
}

/// 上线检查: what stays undecided while `param` has no value on a date — the rules that read
/// it (Chinese titles, as on pages) and the comparison rules that do not fire without it.
/// Parameters every household's decision needs (标准, 年龄, 等级, 时限) block nothing here: the
/// catalogue ships them with values.
pub fn blocked_by(param: Param) -> &'static [&'static str] {
    match param {
        Param::PropertyFinancialAssetsMonths => &[
            "财产状况（低保、特困、单人保、低保边缘、刚性支出困难）",
            "数据比对：存款超限",
        ],
        Param::PropertyVehicleValueLimit => &[
            "财产状况（低保、特困、单人保、低保边缘、刚性支出困难）",
            "数据比对：车辆超限",
        ],
        Param::PropertyExtraHousesLimit => &[
            "财产状况（低保、特困、单人保、低保边缘、刚性支出困难）",
            "数据比对：多套住房",
        ],
        Param::PropertyBusinessAllowed => &[
            "财产状况（低保、特困、单人保、低保边缘、刚性支出困难）",
            "数据比对：登记经营",
        ],
        Param::RigidDisposableIncomeRural | Param::RigidDisposableIncomeUrban => {
            &["刚性支出困难：收入与支出"]
        }
        Param::MonitoringIncomeLine => &[
            "防止返贫监测：风险与收入（三类监测对象）",
            "数据比对：监测对象收入超线",
        ],
        Param::MonitoringStableMonths => &["风险消除"],
        Param::ComparisonMedicalLargeYuan => &["数据比对：大额医疗支出"],
        Param::ComparisonDisasterLargeYuan => &["数据比对：受灾损失"],
        Param::ComparisonIncomeTolerance => &["数据比对：收入高于申报"],
        _ => &[],
    }
}
