//! Rules 1–10 of RULES.md as pure functions over a household, a parameter snapshot and a date.
//!
//! Money is exact (fen) and every derived amount is rounded half-up to 0.01 once, where it is
//! first shown: the per-capita income is rounded, and the tests and amounts then use the rounded
//! figure, so that the explanation's arithmetic is the arithmetic performed.

use crate::catalogue::{Param, Snapshot};
use crate::explain::{Pending, Reason, Reasons};
use crate::money::ShortYuan;
use chrono::NaiveDate;
use domain::money::div_half_up;
use domain::{
    CareNeed, Category, DisabilityKind, Household, Hukou, LabourCapacity, MonitoringKind,
    NationalId, Person, Risk, Schooling, VehicleKind, Yuan,
};
use rust_decimal::{Decimal, RoundingStrategy};

/// The interchange format records income and expenditure over 12 months (HOUSEHOLD.md);
/// this is the length of that window, not a policy parameter.
const MONTHS_IN_RECORD: i64 = 12;

/// Who a category is granted to (D2: a household, or where the rules say so a single person).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Household,
    Person,
}

impl Scope {
    pub fn code(self) -> &'static str {
        match self {
            Scope::Household => "household",
            Scope::Person => "person",
        }
    }
}

/// A category that holds, for the household or one member, with its monthly amount where the
/// category pays one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub category: Category,
    pub scope: Scope,
    /// The member's ID number when `scope` is `Person`.
    pub id_number: Option<NationalId>,
    pub monthly: Option<Yuan>,
}

/// 认定结果 (P6): what the rules propose for one household on one date, with the reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Determination<'s> {
    /// The highest category held (rule 8, 就高不就低); monitoring is never primary.
    pub primary: Option<Category>,
    /// Every category that holds (the monitoring tag is in `monitoring`, not here).
    pub categories: Vec<Grant>,
    /// 防止返贫监测对象 type (rule 6), beside the primary category.
    pub monitoring: Option<MonitoringKind>,
    /// 风险消除 (rule 9): the household may leave monitoring.
    pub risk_eliminated: bool,
    /// Paid per month: every 特困 member, plus 低保 (or the 单人保 members).
    pub monthly_benefit: Yuan,
    /// 家庭人均月收入, rounded half-up to 0.01.
    pub income_per_capita_month: Yuan,
    /// Months to the next re-check (rule 10); 0 means at once.
    pub recheck_months: u32,
    /// 待人工核定: the tests this determination rests on that could not be decided because a
    /// parameter has no value on the date; `primary`, `categories`, `monitoring` and
    /// `risk_eliminated` are what holds if each of them passes. Empty when fully decided.
    pub pending: Vec<Pending<'s>>,
    /// Empty when determined without explanation.
    pub explanation: Vec<Reason<'s>>,
}

/// Decides the categories of `household` on `as_of` with the parameters of `snapshot`, and
/// explains every rule evaluated (P6, D2, X2, W1).
pub fn determine<'s>(
    household: &Household,
    snapshot: &'s Snapshot,
    as_of: NaiveDate,
) -> Determination<'s> {
    Assessment::new(household, snapshot, as_of, true).run()
}

/// `determine` for a household known to hold the monitoring tag (a case of a monitored
/// household, X2): rule 9 (风险消除) is evaluated and explained even where rule 6 no longer
/// tags the household and no month above the line is recorded.
pub fn determine_monitored<'s>(
    household: &Household,
    snapshot: &'s Snapshot,
    as_of: NaiveDate,
) -> Determination<'s> {
    let mut assessment = Assessment::new(household, snapshot, as_of, true);
    assessment.monitored = true;
    assessment.run()
}

/// The same determination as `determine`, without building the explanation (for batch figures).
pub fn determine_quiet<'s>(
    household: &Household,
    snapshot: &'s Snapshot,
    as_of: NaiveDate,
) -> Determination<'s> {
    Assessment::new(household, snapshot, as_of, false).run()
}

/// Rule 9 alone: may the household leave monitoring (风险消除, X2)? A test pending on a
/// parameter without value is not a yes.
pub fn risk_eliminated(household: &Household, snapshot: &Snapshot, as_of: NaiveDate) -> bool {
    let mut assessment = Assessment::new(household, snapshot, as_of, false);
    assessment.risk_eliminated() && assessment.pending.is_empty()
}

/// The property parameters.
const PROPERTY_PARAMS: &[Param] = &[
    Param::PropertyFinancialAssetsMonths,
    Param::PropertyVehicleValueLimit,
    Param::PropertyExtraHousesLimit,
    Param::PropertyBusinessAllowed,
];

/// The definition "property within limits" for one household.
#[derive(Clone, Copy, Debug)]
struct PropertyTest {
    /// No decided part fails: the test holds if every pending part passes.
    ok: bool,
    /// The parameters this household needs that have no value (a property limit, or the
    /// standard the financial-assets limit is a multiple of); empty when decided.
    pending: PropertyPending,
}

/// At most every property parameter and the standard: kept inline, since a third of a
/// registry may wait on a limit and `assess` runs a million households.
const PROPERTY_PENDING_MAX: usize = PROPERTY_PARAMS.len() + 1;

#[derive(Clone, Copy, Debug, Default)]
struct PropertyPending {
    params: [Option<Param>; PROPERTY_PENDING_MAX],
}

impl PropertyPending {
    fn push(&mut self, param: Param) {
        if let Some(slot) = self.params.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(param);
        }
    }

    fn is_empty(&self) -> bool {
        self.params[0].is_none()
    }

    fn iter(&self) -> impl Iterator<Item = Param> + '_ {
        self.params.iter().flatten().copied()
    }
}

/// Rule 10 alone: months to the next re-check (W1); 0 means at once.
pub fn recheck_months(household: &Household, snapshot: &Snapshot, as_of: NaiveDate) -> u32 {
    let mut assessment = Assessment::new(household, snapshot, as_of, false);
    assessment.recheck_months()
}

/// Rule 10 split in two (W1): the household's regular cycle in months (`None` when the
/// parameter has no value on the date), and whether an emergency is recorded. The re-check
/// schedule uses both: an emergency falls due at once, once; the regular cycle thereafter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecheckCycle {
    pub regular_months: Option<u32>,
    pub emergency: bool,
}

/// Rule 10's two parts for one household (see `RecheckCycle`).
pub fn recheck_cycle(household: &Household, snapshot: &Snapshot, as_of: NaiveDate) -> RecheckCycle {
    let mut assessment = Assessment::new(household, snapshot, as_of, false);
    let (regular_months, emergency) = assessment.recheck_parts();
    RecheckCycle {
        regular_months,
        emergency,
    }
}

/// What the rules need to know about a member, worked out once.
struct Member<'h> {
    person: &'h Person,
    age: i64,
    /// Own income per month, rounded for display (definition: recorded, else an equal share
    /// of the household income not recorded against other members).
    own_income_month: Yuan,
    /// Own income over 12 months, exactly: `fen / parts` (parts > 1 for an equal share).
    own_income_fen: i64,
    own_income_parts: i64,
    /// No labour capacity (definition for 特困).
    lacking_capacity: bool,
    /// 特困 amount when rule 1 holds for the member.
    tekun: Option<Yuan>,
}

struct Assessment<'h, 's> {
    household: &'h Household,
    snapshot: &'s Snapshot,
    members: Vec<Member<'h>>,
    n_members: i64,
    countable_income: Yuan,
    income_per_capita_month: Yuan,
    income_per_capita_year: Yuan,
    standard: Option<Yuan>,
    standard_param: Param,
    /// Set by the property test; read by the sentences of the rules that use it.
    property_pending: bool,
    /// The household is known to hold the monitoring tag (rule 9 is always evaluated).
    monitored: bool,
    pending: Vec<Pending<'s>>,
    reasons: Reasons<'s>,
}

fn round_decimal_fen(value: Decimal) -> Yuan {
    let rounded = value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    Yuan::from_fen(i64::try_from(rounded).unwrap_or(i64::MAX))
}

/// `amount × factor`, half-up to the fen.
fn scale(amount: Yuan, factor: Decimal) -> Yuan {
    round_decimal_fen(Decimal::from(amount.fen()) * factor)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl<'h, 's> Assessment<'h, 's> {
    fn new(
        household: &'h Household,
        snapshot: &'s Snapshot,
        as_of: NaiveDate,
        explain: bool,
    ) -> Self {
        let n_members = count(household.members.len()).max(1);
        let countable_income = household.income_12m.countable();
        let recorded: Yuan = household
            .members
            .iter()
            .filter_map(|person| person.income_12m)
            .sum();
        let n_unrecorded = count(
            household
                .members
                .iter()
                .filter(|person| person.income_12m.is_none())
                .count(),
        );
        let unrecorded_rest = (countable_income - recorded).max(Yuan::ZERO);
        let members = household
            .members
            .iter()
            .map(|person| {
                let (own_income_fen, own_income_parts) = match person.income_12m {
                    Some(income) => (income.fen(), 1),
                    None => (unrecorded_rest.fen(), n_unrecorded.max(1)),
                };
                Member {
                    person,
                    age: i64::from(person.id_number.age_on(as_of)),
                    own_income_month: Yuan::from_fen(div_half_up(
                        own_income_fen,
                        MONTHS_IN_RECORD * own_income_parts,
                    )),
                    own_income_fen,
                    own_income_parts,
                    lacking_capacity: false,
                    tekun: None,
                }
            })
            .collect();
        let standard_param = match household.hukou {
            Hukou::Rural => Param::DibaoStandardRural,
            Hukou::Urban => Param::DibaoStandardUrban,
        };
        Assessment {
            household,
            snapshot,
            members,
            n_members,
            countable_income,
            income_per_capita_month: countable_income.div_round(MONTHS_IN_RECORD * n_members),
            income_per_capita_year: countable_income.div_round(n_members),
            standard: snapshot.money(standard_param),
            standard_param,
            property_pending: false,
            monitored: false,
            pending: Vec::new(),
            reasons: Reasons::new(snapshot, explain),
        }
    }

    /// Exactly: is the per-capita monthly income (household income / 12 / members) below
    /// `monthly` (in fen, possibly fractional)? Money tests compare unrounded amounts; only what
    /// is shown and paid is rounded.
    fn pci_month_below(&self, monthly: Decimal) -> bool {
        Decimal::from(self.countable_income.fen())
            < monthly * Decimal::from(MONTHS_IN_RECORD * self.n_members)
    }

    /// `pci_month_below` for a whole amount of fen, in integers.
    fn pci_month_below_yuan(&self, monthly: Yuan) -> bool {
        i128::from(self.countable_income.fen())
            < i128::from(monthly.fen()) * i128::from(MONTHS_IN_RECORD * self.n_members)
    }

    /// Exactly: is `income` (12 months) per member below `yearly` per person?
    fn per_capita_year_below(&self, income: Yuan, yearly: Yuan) -> bool {
        i128::from(income.fen()) < i128::from(yearly.fen()) * i128::from(self.n_members)
    }

    /// Exactly: is member `idx`'s own monthly income below `monthly`?
    fn own_income_below(&self, idx: usize, monthly: Yuan) -> bool {
        let member = &self.members[idx];
        i128::from(member.own_income_fen)
            < i128::from(monthly.fen()) * i128::from(MONTHS_IN_RECORD * member.own_income_parts)
    }

    /// The full citation: label, value, unit, source and start date.
    fn cite(&self, param: Param) -> &'s str {
        self.snapshot.cite(param)
    }

    /// The short citation, label and value only, where the reason's `params` carry the source
    /// (keeps a million explanations small): `低保边缘倍数 1.5 倍`, `…（未配置）`.
    fn short(&self, param: Param) -> String {
        let label = self.snapshot.label(param);
        let unit = match param.unit() {
            crate::catalogue::Unit::YuanPerPersonMonth
            | crate::catalogue::Unit::YuanPerPersonYear
            | crate::catalogue::Unit::Yuan => "元",
            other => other.label(),
        };
        match self.snapshot.get(param) {
            Some(dated) if unit.is_empty() => format!("{label} {}", dated.value),
            Some(dated) => format!("{label} {} {unit}", dated.value),
            None => format!("{label}（未配置）"),
        }
    }

    fn standard_label(&self) -> &'static str {
        match self.household.hukou {
            Hukou::Rural => "农村低保标准",
            Hukou::Urban => "城市低保标准",
        }
    }

    fn int(&self, param: Param) -> Option<i64> {
        self.snapshot.integer(param)
    }

    /// Records that `rule` rests on `param`, which has no value on the date.
    fn pend(&mut self, rule: &'static str, param: Param) {
        self.pending.push(Pending {
            rule,
            param,
            text: self.snapshot.pending_text(param),
        });
    }

    /// `，财产状况待人工核定` after a category that rests on a pending property test.
    fn property_note(&self) -> &'static str {
        if self.property_pending {
            "（财产状况待人工核定）"
        } else {
            ""
        }
    }

    fn run(mut self) -> Determination<'s> {
        self.explain_income();
        let property = self.property_within_limits();
        self.property_pending = property.ok && !property.pending.is_empty();
        let property_ok = property.ok;

        // Rule 1, per person.
        for idx in 0..self.members.len() {
            self.members[idx].lacking_capacity = self.no_labour_capacity(idx);
        }
        self.explain_no_labour_capacity();
        for idx in 0..self.members.len() {
            if self.members[idx].lacking_capacity {
                self.members[idx].tekun = self.tekun(idx, property_ok);
            }
        }
        let any_tekun = self.members.iter().any(|member| member.tekun.is_some());

        // Rule 2.
        let dibao = self.dibao(property_ok);
        // Rule 3.
        let singles: Vec<(usize, Yuan)> = if dibao.is_none() {
            self.dibao_single(property_ok)
        } else {
            Vec::new()
        };
        // Rule 4.
        let edge = self.dibao_edge(dibao.is_some(), property_ok);
        // Rule 5.
        let rigid = self.rigid_expenditure(dibao.is_some() || any_tekun || edge, property_ok);
        // Rule 6.
        let monitoring = self.monitoring();
        // Rule 7.
        let paying_or_named = any_tekun || dibao.is_some() || !singles.is_empty() || edge || rigid;
        let other_needy = self.other_needy(paying_or_named || monitoring.is_some());

        let mut categories = Vec::new();
        let mut monthly_benefit = Yuan::ZERO;
        for member in &self.members {
            if let Some(amount) = member.tekun {
                monthly_benefit += amount;
                categories.push(Grant {
                    category: Category::Tekun,
                    scope: Scope::Person,
                    id_number: Some(member.person.id_number.clone()),
                    monthly: Some(amount),
                });
            }
        }
        if let Some(amount) = dibao {
            monthly_benefit += amount;
            categories.push(Grant {
                category: Category::Dibao,
                scope: Scope::Household,
                id_number: None,
                monthly: Some(amount),
            });
        }
        for &(idx, amount) in &singles {
            monthly_benefit += amount;
            categories.push(Grant {
                category: Category::DibaoSingle,
                scope: Scope::Person,
                id_number: Some(self.members[idx].person.id_number.clone()),
                monthly: Some(amount),
            });
        }
        for (holds, category) in [
            (edge, Category::DibaoEdge),
            (rigid, Category::RigidExpenditure),
            (other_needy, Category::OtherNeedy),
        ] {
            if holds {
                categories.push(Grant {
                    category,
                    scope: Scope::Household,
                    id_number: None,
                    monthly: None,
                });
            }
        }

        // Pending tests: the property test where a category that reads it is proposed, first.
        let rests_on_property = categories.iter().any(|grant| {
            matches!(
                grant.category,
                Category::Tekun
                    | Category::Dibao
                    | Category::DibaoSingle
                    | Category::DibaoEdge
                    | Category::RigidExpenditure
            )
        });
        if self.property_pending && rests_on_property {
            let later = std::mem::take(&mut self.pending);
            for param in property.pending.iter() {
                self.pend("property.within_limits", param);
            }
            self.pending.extend(later);
        }

        // Rule 8: categories were pushed highest first.
        let primary = categories.first().map(|grant| grant.category);
        let n_pending = self.pending.len();
        self.reasons.add_test(
            "priority.primary",
            primary.is_some(),
            n_pending > 0,
            &[],
            || {
                let mut text = match primary {
                    Some(category) => format!(
                        "就高不就低：主类别为{}；本户每月救助金额合计 {} 元",
                        category.label(),
                        monthly_benefit
                    ),
                    None => "本户不符合任何救助类别".to_owned(),
                };
                if n_pending > 0 {
                    text.push_str(&format!(
                        "。有 {n_pending} 项条件因参数未配置待人工核定，以上为各项均符合时的结果"
                    ));
                }
                text
            },
        );

        // Rule 9 is a question about a household under monitoring: one tagged now, one known
        // to hold the tag, or one that records months above the line (it was monitored
        // before). Others are not evaluated.
        let risk_eliminated = (monitoring.is_some()
            || self.monitored
            || self.household.months_above_monitoring_line > 0)
            && self.risk_eliminated();
        let recheck_months = self.recheck_months();
        Determination {
            primary,
            categories,
            monitoring,
            risk_eliminated,
            monthly_benefit,
            income_per_capita_month: self.income_per_capita_month,
            recheck_months,
            pending: self.pending,
            explanation: self.reasons.list,
        }
    }

    fn explain_income(&mut self) {
        if !self.reasons.on() {
            return;
        }
        let income = self.household.income_12m;
        let kinds: Vec<String> = [
            ("工资性收入", income.wages),
            ("经营净收入", income.business),
            ("财产净收入", income.property),
            ("转移净收入", income.transfer),
            ("其他收入", income.other),
        ]
        .iter()
        .filter(|(_, amount)| *amount != Yuan::ZERO)
        .map(|(label, amount)| format!("{label} {amount}"))
        .collect();
        let mut text = format!("近12个月家庭可计算收入 {} 元", self.countable_income);
        if !kinds.is_empty() {
            text.push_str(&format!("（{}）", kinds.join("，")));
        }
        if income.excluded != Yuan::ZERO {
            text.push_str(&format!("，另有不计入收入 {} 元", income.excluded));
        }
        text.push_str(&format!(
            "；共同生活 {} 人，人均月收入 {} 元，人均年收入 {} 元",
            self.n_members, self.income_per_capita_month, self.income_per_capita_year
        ));
        self.reasons.add("income.per_capita", true, &[], || text);
    }

    /// Definition "property within limits". A part this household needs (it has financial
    /// assets, a car or truck, extra houses, a registered business) whose limit has no value is
    /// pending, never a pass; a part it does not need is decided without the limit.
    fn property_within_limits(&mut self) -> PropertyTest {
        let property = &self.household.property;
        let mut notes: Vec<String> = Vec::new();
        let explain = self.reasons.on();
        let mut ok = true;
        let mut pending = PropertyPending::default();

        let months = self.int(Param::PropertyFinancialAssetsMonths);
        let mut read_standard = false;
        if property.financial_assets == Yuan::ZERO {
            if explain {
                notes.push("无金融资产".to_owned());
            }
        } else {
            match (months, self.standard) {
                (Some(months), Some(standard)) => {
                    read_standard = true;
                    let limit = standard * months * self.n_members;
                    let within = property.financial_assets <= limit;
                    ok &= within;
                    if explain {
                        notes.push(format!(
                            "金融资产 {} 元{}上限 {} 元（{}个月×{} {} 元×{}人）",
                            property.financial_assets,
                            if within { "未超过" } else { "超过" },
                            limit,
                            months,
                            self.standard_label(),
                            ShortYuan(standard),
                            self.n_members
                        ));
                    }
                }
                (None, _) => pending.push(Param::PropertyFinancialAssetsMonths),
                (Some(_), None) => {
                    read_standard = true;
                    pending.push(self.standard_param);
                }
            }
        }

        // RULES.md: a motorcycle or a farm machine never fails the test.
        let largest_vehicle = property
            .vehicles
            .iter()
            .filter(|vehicle| matches!(vehicle.kind, VehicleKind::Car | VehicleKind::Truck))
            .map(|vehicle| vehicle.value)
            .max();
        match (
            largest_vehicle,
            self.snapshot.money(Param::PropertyVehicleValueLimit),
        ) {
            (None, _) => {
                if explain {
                    notes.push("无汽车、货车（摩托车、农用机械不计）".to_owned());
                }
            }
            (Some(value), Some(limit)) => {
                let within = value <= limit;
                ok &= within;
                if explain {
                    notes.push(format!(
                        "汽车、货车价值 {value} 元，{}上限 {} 元",
                        if within { "未超过" } else { "超过" },
                        ShortYuan(limit)
                    ));
                }
            }
            (Some(_), None) => pending.push(Param::PropertyVehicleValueLimit),
        }

        match (
            property.extra_houses,
            self.int(Param::PropertyExtraHousesLimit),
        ) {
            (0, _) => {
                if explain {
                    notes.push("无自住以外房屋".to_owned());
                }
            }
            (houses, Some(limit)) => {
                let within = i64::from(houses) <= limit;
                ok &= within;
                if explain {
                    notes.push(format!(
                        "自住以外房屋 {houses} 套，{}上限 {limit} 套",
                        if within { "未超过" } else { "超过" },
                    ));
                }
            }
            (_, None) => pending.push(Param::PropertyExtraHousesLimit),
        }

        match (
            property.business_registered,
            self.snapshot.flag(Param::PropertyBusinessAllowed),
        ) {
            (false, _) => {
                if explain {
                    notes.push("无登记经营主体".to_owned());
                }
            }
            (true, Some(allowed)) => {
                ok &= allowed;
                if explain {
                    notes.push(if allowed {
                        "有登记经营主体，按规定允许".to_owned()
                    } else {
                        "有登记经营主体，不符合财产条件".to_owned()
                    });
                }
            }
            (true, None) => pending.push(Param::PropertyBusinessAllowed),
        }

        let mut params: Vec<Param> = Vec::new();
        if explain {
            params.extend(PROPERTY_PARAMS);
            if read_standard {
                params.push(self.standard_param);
            }
        }
        let is_pending = ok && !pending.is_empty();
        let unset: Vec<&str> = if explain {
            pending
                .iter()
                .map(|param| self.snapshot.label(param))
                .collect()
        } else {
            Vec::new()
        };
        self.reasons
            .add_test("property.within_limits", ok, is_pending, &params, || {
                if !unset.is_empty() {
                    notes.push(format!("{}未配置，需人工核定", unset.join("、")));
                }
                format!(
                    "财产状况{}：{}",
                    match (ok, is_pending) {
                        (false, _) => "不符合规定",
                        (true, true) => "待人工核定",
                        (true, false) => "符合规定",
                    },
                    notes.join("；")
                )
            });
        PropertyTest { ok, pending }
    }

    fn person_label(&self, idx: usize) -> String {
        let person = self.members[idx].person;
        if person.name.is_empty() {
            format!("成员{}（{}）", idx + 1, person.relation.label())
        } else {
            format!("{}（{}）", person.name, person.relation.label())
        }
    }

    /// Definition "no labour capacity (特困)": age ≥ elderly, a minor (under `tekun.age.minor`,
    /// or counted as one by rule 1: under `support_until`, or older and still in school), or a
    /// listed disability.
    fn no_labour_capacity(&self, idx: usize) -> bool {
        let member = &self.members[idx];
        let old = self
            .int(Param::TekunAgeElderly)
            .is_some_and(|age| member.age >= age);
        let young = self
            .int(Param::TekunAgeMinor)
            .is_some_and(|age| member.age < age)
            || self.counts_as_minor(idx);
        let disabled = member.person.disability.is_some_and(|disability| {
            let limit = match disability.kind {
                DisabilityKind::Intellectual | DisabilityKind::Mental => {
                    self.int(Param::TekunDisabilityGradeIntellectualMental)
                }
                DisabilityKind::Physical => self.int(Param::TekunDisabilityGradePhysical),
                DisabilityKind::Visual => self.int(Param::TekunDisabilityGradeVisual),
                // 民发〔2021〕43号 lists only these kinds; hearing, speech and multiple
                // disabilities do not by themselves mean no labour capacity.
                DisabilityKind::Hearing | DisabilityKind::Speech | DisabilityKind::Multiple => None,
            };
            limit.is_some_and(|limit| i64::from(disability.grade) <= limit)
        });
        old || young || disabled
    }

    /// Rule 1: "a person under support_until counts as a minor, and so does an older one still
    /// in compulsory, senior-high or vocational school". Such a person has no labour capacity
    /// for 特困 and is never an able supporter. The school stages are those of rule 1 (a college
    /// student is not counted).
    fn counts_as_minor(&self, idx: usize) -> bool {
        self.under_support_age(idx) || self.in_counted_school(idx)
    }

    fn under_support_age(&self, idx: usize) -> bool {
        self.int(Param::TekunAgeSupportUntil)
            .is_some_and(|age| self.members[idx].age < age)
    }

    fn in_counted_school(&self, idx: usize) -> bool {
        matches!(
            self.members[idx].person.schooling,
            Schooling::Compulsory | Schooling::SeniorHigh | Schooling::Vocational
        )
    }

    /// `18周岁以上、未满60周岁`, from the parameters.
    fn working_age_text(&self) -> String {
        format!(
            "{}周岁以上、未满{}周岁",
            self.int(Param::TekunAgeSupportUntil).unwrap_or_default(),
            self.int(Param::TekunAgeElderly).unwrap_or_default()
        )
    }

    /// A member aged `support_until`..`elderly` (18–59) with full or partial labour capacity,
    /// not counted as a minor (rule 1: still in compulsory, senior-high or vocational school).
    fn working_age_with_capacity(&self, idx: usize) -> bool {
        if self.in_counted_school(idx) {
            return false;
        }
        let member = &self.members[idx];
        let (Some(from), Some(until)) = (
            self.int(Param::TekunAgeSupportUntil),
            self.int(Param::TekunAgeElderly),
        ) else {
            return false;
        };
        (from..until).contains(&member.age)
            && matches!(
                member.person.labour_capacity,
                LabourCapacity::Full | LabourCapacity::Partial
            )
    }

    /// Rule 1, first test, for the whole household: which members have no labour capacity.
    fn explain_no_labour_capacity(&mut self) {
        if !self.reasons.on() {
            return;
        }
        let elderly = self.int(Param::TekunAgeElderly);
        let minor = self.int(Param::TekunAgeMinor);
        let support_until = self.int(Param::TekunAgeSupportUntil);
        let mut found = Vec::new();
        for (idx, member) in self.members.iter().enumerate() {
            if !member.lacking_capacity {
                continue;
            }
            let age = member.age;
            let why = match (elderly, minor, support_until) {
                (Some(elderly), _, _) if age >= elderly => format!("{age}周岁，已满{elderly}周岁"),
                (_, Some(minor), _) if age < minor => format!("{age}周岁，未满{minor}周岁"),
                (_, _, Some(until)) if age < until => {
                    format!("{age}周岁，未满{until}周岁，按未成年人认定")
                }
                _ if self.in_counted_school(idx) => format!(
                    "{age}周岁，仍在{}就读，按未成年人认定",
                    school_label(member.person.schooling)
                ),
                _ => member
                    .person
                    .disability
                    .map(|d| format!("{}残疾{}级", d.kind.label(), d.grade))
                    .unwrap_or_default(),
            };
            found.push(format!("{}（{why}）", self.person_label(idx)));
        }
        let any = !found.is_empty();
        let text = if any {
            format!("无劳动能力成员：{}", found.join("、"))
        } else {
            let up_to = |param| {
                self.int(param)
                    .map_or_else(|| "（等级未配置）".to_owned(), grade_range)
            };
            let years = |value: Option<i64>| {
                value.map_or_else(|| "（未配置）".to_owned(), |v| v.to_string())
            };
            format!(
                "成员均有劳动能力：无人已满{}周岁或未满{}周岁，无人在义务教育、普通高中或中等职业学校就读，也无智力、精神残疾{}，肢体残疾{}，视力残疾{}",
                years(elderly),
                years(support_until),
                up_to(Param::TekunDisabilityGradeIntellectualMental),
                up_to(Param::TekunDisabilityGradePhysical),
                up_to(Param::TekunDisabilityGradeVisual),
            )
        };
        // The disability grades are read only for the kinds of disability the members have.
        let mut params = vec![
            Param::TekunAgeElderly,
            Param::TekunAgeMinor,
            Param::TekunAgeSupportUntil,
        ];
        for member in &self.members {
            let grade_param = match member.person.disability.map(|disability| disability.kind) {
                Some(DisabilityKind::Intellectual | DisabilityKind::Mental) => {
                    Some(Param::TekunDisabilityGradeIntellectualMental)
                }
                Some(DisabilityKind::Physical) => Some(Param::TekunDisabilityGradePhysical),
                Some(DisabilityKind::Visual) => Some(Param::TekunDisabilityGradeVisual),
                _ => None,
            };
            if let Some(grade_param) = grade_param.filter(|param| !params.contains(param)) {
                params.push(grade_param);
            }
        }
        self.reasons
            .add("tekun.no_labour_capacity", any, &params, || text);
    }

    /// Rule 1 (特困), for member `idx` without labour capacity: the monthly amount when it holds.
    /// Tests stop at the first that fails; each writes its reason.
    fn tekun(&mut self, idx: usize, property_ok: bool) -> Option<Yuan> {
        let own = self.members[idx].own_income_month;
        let income_ok = self
            .standard
            .is_some_and(|standard| self.own_income_below(idx, standard));
        if self.reasons.on() {
            let who = self.person_label(idx);
            let recorded = self.members[idx].person.income_12m.is_some();
            let text = format!(
                "{who}本人月收入 {own} 元（{}），{}{}",
                if recorded {
                    "调查记录"
                } else {
                    "未单独记录，按家庭收入均分"
                },
                if income_ok { "低于" } else { "不低于" },
                self.short(self.standard_param),
            );
            self.reasons.add(
                "tekun.own_income_below_standard",
                income_ok,
                &[self.standard_param],
                || text,
            );
        }
        if !income_ok {
            return None;
        }

        let outside: Vec<&'static str> = self.members[idx]
            .person
            .supporters
            .iter()
            .filter(|supporter| supporter.able)
            .map(|supporter| supporter.relation.label())
            .collect();
        let inside: Vec<usize> = (0..self.members.len())
            .filter(|&other| other != idx && self.working_age_with_capacity(other))
            .collect();
        let no_supporter = outside.is_empty() && inside.is_empty();
        if self.reasons.on() {
            let who = self.person_label(idx);
            let text = if no_supporter {
                format!(
                    "{who}无有赡养、抚养、扶养能力的义务人（户外义务人均无能力，户内无{}有劳动能力且不在学的成员）",
                    self.working_age_text()
                )
            } else {
                let mut parts = Vec::new();
                if !outside.is_empty() {
                    parts.push(format!("户外有能力的义务人：{}", outside.join("、")));
                }
                if !inside.is_empty() {
                    let names: Vec<String> = inside
                        .iter()
                        .map(|&other| self.person_label(other))
                        .collect();
                    parts.push(format!("户内有劳动能力的成年成员：{}", names.join("、")));
                }
                format!(
                    "{who}有法定赡养、抚养、扶养能力的义务人（{}）",
                    parts.join("；")
                )
            };
            self.reasons.add(
                "tekun.no_able_supporter",
                no_supporter,
                &[Param::TekunAgeSupportUntil, Param::TekunAgeElderly],
                || text,
            );
        }
        if !no_supporter {
            return None;
        }

        let care_param = match self.members[idx].person.care_need {
            CareNeed::Full => Param::TekunCareFull,
            CareNeed::Partial => Param::TekunCarePartial,
            CareNeed::SelfCare => Param::TekunCareSelf,
        };
        let amount = match (
            self.snapshot.money(Param::TekunBasicLiving),
            self.snapshot.money(care_param),
        ) {
            (Some(basic), Some(care)) if property_ok => Some(basic + care),
            _ => None,
        };
        if self.reasons.on() {
            let who = self.person_label(idx);
            let text = match amount {
                Some(amount) => format!(
                    "{who}认定为特困人员{}：每月 {amount} 元 = {} + {}",
                    self.property_note(),
                    self.cite(Param::TekunBasicLiving),
                    self.cite(care_param),
                ),
                None if !property_ok => format!("{who}财产状况不符合规定，不予认定特困人员"),
                None => format!("{who}符合特困人员条件，但特困供养标准未配置，无法认定"),
            };
            self.reasons.add(
                "tekun.benefit",
                amount.is_some(),
                &[Param::TekunBasicLiving, care_param],
                || text,
            );
        }
        amount
    }

    /// Top-up of a dibao member (rule 2): the highest of student / severe, plus disabled.
    fn topup(&self, idx: usize) -> (Yuan, Option<String>) {
        let member = &self.members[idx];
        let person = member.person;
        let student = person.schooling != Schooling::None;
        let severe_grade = self.int(Param::DibaoTopupSevereDisabilityGrade);
        let severe = person.disability.is_some_and(|disability| {
            severe_grade.is_some_and(|grade| i64::from(disability.grade) <= grade)
        }) || person.serious_illness
            || self
                .int(Param::DibaoTopupSevereAge)
                .is_some_and(|age| member.age >= age);
        let student_amount = student
            .then(|| self.snapshot.money(Param::DibaoTopupStudent))
            .flatten();
        let severe_amount = severe
            .then(|| self.snapshot.money(Param::DibaoTopupSevere))
            .flatten();
        let best = match (student_amount, severe_amount) {
            (Some(s), Some(v)) if v > s => Some(("重度残疾、重病或高龄", v)),
            (Some(s), _) => Some(("学生", s)),
            (None, Some(v)) => Some(("重度残疾、重病或高龄", v)),
            (None, None) => None,
        };
        let disabled = person
            .disability
            .is_some()
            .then(|| self.snapshot.money(Param::DibaoTopupDisabled))
            .flatten();
        let total = best.map_or(Yuan::ZERO, |(_, amount)| amount) + disabled.unwrap_or(Yuan::ZERO);
        let note = self.reasons.on().then(|| {
            let mut parts = Vec::new();
            if let Some((label, amount)) = best {
                parts.push(format!("{label} {}", ShortYuan(amount)));
            }
            if let Some(amount) = disabled {
                parts.push(format!("持证残疾 {}", ShortYuan(amount)));
            }
            parts.join(" + ")
        });
        (total, note.filter(|text| !text.is_empty()))
    }

    /// Rule 2 (低保), whole household: the monthly amount when it holds.
    /// "A member who is 特困 is not counted again": our reading keeps the per-capita income of
    /// the whole household (the definition of pci_month) for the test, and counts only the
    /// members who are not 特困 in the amount and the top-ups.
    fn dibao(&mut self, property_ok: bool) -> Option<Yuan> {
        let pci = self.income_per_capita_month;
        let below = self
            .standard
            .is_some_and(|standard| self.pci_month_below_yuan(standard));
        let standard_param = self.standard_param;
        let cited = self.reasons.on().then(|| self.cite(standard_param));
        self.reasons.add(
            "dibao.income_below_standard",
            below,
            &[standard_param],
            || {
                format!(
                    "人均月收入 {pci} 元，{}{}",
                    if below { "低于" } else { "不低于" },
                    cited.unwrap_or_default()
                )
            },
        );
        let standard = self.standard?;
        if !below {
            return None;
        }
        let n_counted = count(
            self.members
                .iter()
                .filter(|member| member.tekun.is_none())
                .count(),
        );
        if !property_ok || n_counted == 0 {
            let all_tekun = n_counted == 0;
            self.reasons.add("dibao.benefit", false, &[], || {
                if all_tekun {
                    "全部成员均已认定为特困人员，不再重复计入低保".to_owned()
                } else {
                    "财产状况不符合规定，不予认定低保".to_owned()
                }
            });
            return None;
        }
        let mut topups = Yuan::ZERO;
        let mut topup_notes = Vec::new();
        for idx in (0..self.members.len()).filter(|&idx| self.members[idx].tekun.is_none()) {
            let (amount, note) = self.topup(idx);
            topups += amount;
            if let Some(note) = note {
                topup_notes.push(format!("{} {}", self.person_label(idx), note));
            }
        }
        // (standard − pci_month) × counted members, from the unrounded per-capita income and
        // rounded once: the same figure whichever way the division falls.
        let months_members = MONTHS_IN_RECORD * self.n_members;
        let shortfall = (standard.fen() * months_members - self.countable_income.fen()) * n_counted;
        let exact_pci = self.countable_income.fen() % months_members == 0;
        let amount = Yuan::from_fen(div_half_up(shortfall, months_members)) + topups;
        let n_tekun = count(self.members.len()) - n_counted;
        let property_note = self.property_note();
        self.reasons.add(
            "dibao.benefit",
            true,
            &[
                standard_param,
                Param::DibaoTopupStudent,
                Param::DibaoTopupSevere,
                Param::DibaoTopupDisabled,
                Param::DibaoTopupSevereAge,
                Param::DibaoTopupSevereDisabilityGrade,
            ],
            || {
                let mut text = format!(
                    "认定为低保家庭{property_note}：每月 {amount} 元 = ({} − {pci}) × {n_counted}人",
                    ShortYuan(standard)
                );
                if !exact_pci {
                    text.push_str("（人均收入按未取整数计算，结果四舍五入到分）");
                }
                if !topup_notes.is_empty() {
                    text.push_str(&format!(
                        " + 分类施保 {}（{}）",
                        topups,
                        topup_notes.join("；")
                    ));
                }
                if n_tekun > 0 {
                    text.push_str(&format!("；{n_tekun}名特困人员不重复计入"));
                }
                text
            },
        );
        Some(amount)
    }

    /// The edge line `dibao_edge.income_multiplier × standard`: exact (in fen) for the tests,
    /// and half-up to the fen for display.
    fn edge_line(&self) -> Option<(Decimal, Yuan)> {
        let standard = self.standard?;
        let multiplier = self.snapshot.decimal(Param::DibaoEdgeIncomeMultiplier)?;
        let exact = Decimal::from(standard.fen()) * multiplier;
        // Only the explanation shows the rounded line.
        let shown = if self.reasons.on() {
            scale(standard, multiplier)
        } else {
            Yuan::ZERO
        };
        Some((exact, shown))
    }

    /// Rule 3 (低保单人保): members assessed alone, with their monthly amounts.
    /// Our reading: "assessed as a one-person household" means the member's own income per month
    /// is below the standard; the amount is (standard − own income) plus the member's top-ups;
    /// the household's property test applies; 特困 members are not candidates.
    fn dibao_single(&mut self, property_ok: bool) -> Vec<(usize, Yuan)> {
        let (Some(standard), Some((edge_exact, edge_line))) = (self.standard, self.edge_line())
        else {
            self.reasons.add(
                "dibao_single.household_below_edge_line",
                false,
                &[Param::DibaoEdgeIncomeMultiplier],
                || "低保标准或低保边缘倍数未配置，无法认定单人保".to_owned(),
            );
            return Vec::new();
        };
        let grade_any = self.int(Param::DibaoSingleDisabilityGrade);
        let grade_im = self.int(Param::DibaoSingleDisabilityGradeIntellectualMental);
        let candidates: Vec<usize> = (0..self.members.len())
            .filter(|&idx| self.members[idx].tekun.is_none())
            .filter(|&idx| {
                let person = self.members[idx].person;
                person.serious_illness
                    || person.disability.is_some_and(|disability| {
                        let grade = i64::from(disability.grade);
                        grade_any.is_some_and(|limit| grade <= limit)
                            || (matches!(
                                disability.kind,
                                DisabilityKind::Intellectual | DisabilityKind::Mental
                            ) && grade_im.is_some_and(|limit| grade <= limit))
                    })
            })
            .collect();
        if candidates.is_empty() {
            return Vec::new();
        }
        let pci = self.income_per_capita_month;
        let pci_below_edge = self.pci_month_below(edge_exact);
        let below_edge = pci_below_edge && property_ok;
        self.reasons.add(
            "dibao_single.household_below_edge_line",
            below_edge,
            &[Param::DibaoEdgeIncomeMultiplier, self.standard_param],
            || {
                format!(
                    "家庭未认定低保，有重度残疾或重病成员；人均月收入 {pci} 元，{}低保边缘线 {edge_line} 元{}",
                    if pci_below_edge { "低于" } else { "不低于" },
                    if property_ok { "" } else { "，但财产状况不符合规定" }
                )
            },
        );
        if !below_edge {
            return Vec::new();
        }
        let mut singles = Vec::new();
        for idx in candidates {
            let own = self.members[idx].own_income_month;
            let holds = self.own_income_below(idx, standard);
            let (topup, note) = if holds {
                self.topup(idx)
            } else {
                (Yuan::ZERO, None)
            };
            let member = &self.members[idx];
            let months_parts = MONTHS_IN_RECORD * member.own_income_parts;
            let shortfall = standard.fen() * months_parts - member.own_income_fen;
            let amount = Yuan::from_fen(div_half_up(shortfall, months_parts)) + topup;
            let who = self.person_label(idx);
            self.reasons.add(
                "dibao_single.benefit",
                holds,
                &[
                    self.standard_param,
                    Param::DibaoSingleDisabilityGrade,
                    Param::DibaoSingleDisabilityGradeIntellectualMental,
                    Param::DibaoTopupStudent,
                    Param::DibaoTopupSevere,
                    Param::DibaoTopupDisabled,
                ],
                || {
                    if holds {
                        let mut text = format!(
                            "{who}单独认定为低保（单人保）：每月 {amount} 元 = {} − 本人月收入 {own}",
                            ShortYuan(standard)
                        );
                        if let Some(note) = note {
                            text.push_str(&format!(" + 分类施保 {note}"));
                        }
                        text
                    } else {
                        format!("{who}本人月收入 {own} 元，不低于低保标准 {} 元，不予单人保", ShortYuan(standard))
                    }
                },
            );
            if holds {
                singles.push((idx, amount));
            }
        }
        singles
    }

    /// Rule 4 (低保边缘): standard ≤ pci_month < multiplier × standard, property within limits.
    fn dibao_edge(&mut self, dibao: bool, property_ok: bool) -> bool {
        let pci = self.income_per_capita_month;
        let params = [Param::DibaoEdgeIncomeMultiplier, self.standard_param];
        // A household that is 低保 is not assessed for the edge (rule 4: "not dibao"); the
        // explanation leaves out rules that were not evaluated.
        if dibao {
            return false;
        }
        let (Some(standard), Some((edge_exact, edge_line))) = (self.standard, self.edge_line())
        else {
            self.reasons
                .add("dibao_edge.income_in_band", false, &params, || {
                    "低保标准或低保边缘倍数未配置，无法认定低保边缘".to_owned()
                });
            return false;
        };
        let in_band = !self.pci_month_below_yuan(standard) && self.pci_month_below(edge_exact);
        let holds = in_band && property_ok;
        let cited = self
            .reasons
            .on()
            .then(|| self.short(Param::DibaoEdgeIncomeMultiplier));
        let property_note = self.property_note();
        self.reasons
            .add("dibao_edge.income_in_band", holds, &params, || {
                format!(
                    "人均月收入 {pci} 元，{}低保标准 {} 元至低保边缘线 {edge_line} 元（{}）之间{}",
                    if in_band { "在" } else { "不在" },
                    ShortYuan(standard),
                    cited.unwrap_or_default(),
                    match (in_band, property_ok) {
                        (true, false) => "，但财产状况不符合规定",
                        (true, true) => property_note,
                        (false, _) => "",
                    }
                )
            });
        holds
    }

    /// Rule 5 (刚性支出困难). Our reading: a household with no rigid expenditure at all is not
    /// in rigid-expenditure hardship, even when its income is zero. A test whose parameter has
    /// no value is pending: the category is proposed if every decided test holds.
    fn rigid_expenditure(&mut self, higher: bool, property_ok: bool) -> bool {
        // Rule 5 applies only when rules 1, 2 and 4 do not: not evaluated, not explained.
        if higher {
            return false;
        }
        let disposable_param = match self.household.hukou {
            Hukou::Rural => Param::RigidDisposableIncomeRural,
            Hukou::Urban => Param::RigidDisposableIncomeUrban,
        };
        let params = [
            disposable_param,
            Param::RigidExpenditureShare,
            Param::RigidValidityMonths,
        ];
        let disposable = self.snapshot.money(disposable_param);
        let share = self.snapshot.decimal(Param::RigidExpenditureShare);
        let income_year = self.income_per_capita_year;
        let income_ok = disposable
            .map(|disposable| self.per_capita_year_below(self.countable_income, disposable));
        let rigid = self.household.rigid_expenditure_12m.total();
        let share_ok = if rigid == Yuan::ZERO {
            Some(false)
        } else {
            share.map(|share| {
                Decimal::from(rigid.fen()) >= Decimal::from(self.countable_income.fen()) * share
            })
        };
        let holds = income_ok != Some(false) && share_ok != Some(false) && property_ok;
        let pending = holds && (income_ok.is_none() || share_ok.is_none());
        if pending {
            if income_ok.is_none() {
                self.pend("rigid_expenditure.share_of_income", disposable_param);
            }
            if share_ok.is_none() {
                self.pend(
                    "rigid_expenditure.share_of_income",
                    Param::RigidExpenditureShare,
                );
            }
        }
        let property_note = self.property_note();
        let cited = self.reasons.on().then(|| {
            (
                self.short(disposable_param),
                self.short(Param::RigidExpenditureShare),
                self.short(Param::RigidValidityMonths),
                self.snapshot.pending_text(disposable_param),
                self.snapshot.pending_text(Param::RigidExpenditureShare),
            )
        });
        self.reasons.add_test("rigid_expenditure.share_of_income", holds, pending, &params, || {
            let (disposable_cite, share_cite, validity_cite, disposable_pending, share_pending) =
                cited.unwrap_or_default();
            let income_part = match income_ok {
                Some(below) => format!(
                    "人均年收入 {income_year} 元，{}{disposable_cite}",
                    if below { "低于" } else { "不低于" }
                ),
                None => format!("人均年收入 {income_year} 元，{disposable_pending}"),
            };
            let share_part = match (share_ok, share) {
                (Some(false), _) if rigid == Yuan::ZERO => "近12个月无刚性支出".to_owned(),
                (Some(ok), Some(share)) => format!(
                    "近12个月刚性支出 {rigid} 元，{}家庭收入的 {} 即 {} 元（{share_cite}）",
                    if ok { "不低于" } else { "低于" },
                    share.normalize(),
                    scale(self.countable_income, share),
                ),
                _ => format!("近12个月刚性支出 {rigid} 元，{share_pending}"),
            };
            let verdict = match (holds, pending) {
                (true, false) => format!("认定为刚性支出困难家庭{property_note}，{validity_cite}"),
                (true, true) => format!("待人工核定：如上述条件符合，认定为刚性支出困难家庭，{validity_cite}"),
                (false, _) => "不认定刚性支出困难".to_owned(),
            };
            format!(
                "{income_part}；{share_part}{}；{verdict}",
                if property_ok { "" } else { "；财产状况不符合规定" },
            )
        });
        holds
    }

    fn has_risk(&self) -> bool {
        !self.household.risks.is_empty() || !self.household.guarantees.all_secured()
    }

    fn risk_text(&self) -> String {
        let mut parts: Vec<&str> = self
            .household
            .risks
            .iter()
            .map(|risk| risk.label())
            .collect();
        let guarantees = self.household.guarantees;
        for (secured, label) in [
            (guarantees.education, "义务教育保障缺失"),
            (guarantees.medical, "基本医疗保障缺失"),
            (guarantees.housing, "住房安全保障缺失"),
            (guarantees.drinking_water, "饮水安全缺失"),
        ] {
            if !secured {
                parts.push(label);
            }
        }
        if parts.is_empty() {
            "无风险点".to_owned()
        } else {
            parts.join("、")
        }
    }

    /// Rule 6 (防止返贫监测对象), a tag beside rules 1–5.
    fn monitoring(&mut self) -> Option<MonitoringKind> {
        let risk = self.has_risk();
        let params: &[Param] = if risk {
            &[Param::MonitoringIncomeLine]
        } else {
            &[]
        };
        let line = self.snapshot.money(Param::MonitoringIncomeLine);
        let pci_year = self.income_per_capita_year;
        let rigid = self.household.rigid_expenditure_12m.total();
        let net_per_capita = (self.countable_income - rigid).div_round(self.n_members);
        // Without a line the income test is pending: proposed as if the income were below it.
        let line_pending = risk && line.is_none();
        let kind = match line {
            _ if !risk => None,
            None => Some(if self.household.lifted_from_poverty {
                MonitoringKind::UnstableLifted
            } else {
                MonitoringKind::EdgeProne
            }),
            Some(line) if self.per_capita_year_below(self.countable_income, line) => {
                Some(if self.household.lifted_from_poverty {
                    MonitoringKind::UnstableLifted
                } else {
                    MonitoringKind::EdgeProne
                })
            }
            Some(line) if self.per_capita_year_below(self.countable_income - rigid, line) => {
                Some(MonitoringKind::SuddenHardship)
            }
            Some(_) => None,
        };
        if line_pending {
            self.pend("monitoring.tag", Param::MonitoringIncomeLine);
        }
        if self.reasons.on() {
            let risks = self.risk_text();
            let cited = self.short(Param::MonitoringIncomeLine);
            let pending_text = self.snapshot.pending_text(Param::MonitoringIncomeLine);
            let lifted = if self.household.lifted_from_poverty {
                "脱贫户"
            } else {
                "非脱贫户"
            };
            self.reasons.add_test("monitoring.tag", kind.is_some(), line_pending, params, || match (risk, line, kind) {
                (false, _, _) => "未记录返贫致贫风险或三保障、饮水安全缺失，不纳入监测".to_owned(),
                (true, None, kind) => format!(
                    "有风险（{risks}），{lifted}；人均年收入 {pci_year} 元，{pending_text}：如低于监测收入线，纳入监测，类型为{}",
                    kind.map_or("", MonitoringKind::label)
                ),
                (true, Some(_), Some(kind)) => format!(
                    "有风险（{risks}），{lifted}；人均年收入 {pci_year} 元，扣除刚性支出后人均 {net_per_capita} 元，对照{cited}：纳入监测，类型为{}",
                    kind.label()
                ),
                (true, Some(_), None) => format!(
                    "有风险（{risks}）；人均年收入 {pci_year} 元，扣除刚性支出后人均 {net_per_capita} 元，均不低于{cited}，不纳入监测"
                ),
            });
        }
        kind
    }

    /// Rule 7 (其他困难人员): none of rules 1–6, but a risk or a gap is recorded.
    fn other_needy(&mut self, held: bool) -> bool {
        let risk = self.has_risk();
        let holds = !held && risk;
        // Explained where a risk is recorded, or where nothing else holds.
        if self.reasons.on() && (risk || !held) {
            let risks = self.risk_text();
            self.reasons
                .add("other_needy.risk_without_category", holds, &[], || {
                    match (held, risk) {
                        (true, _) => "已认定其他类别或监测对象，不再认定其他困难人员".to_owned(),
                        (false, true) => {
                            format!("未认定其他类别，但记录有困难（{risks}）：认定为其他困难人员")
                        }
                        (false, false) => "未认定其他类别，也无风险记录".to_owned(),
                    }
                });
        }
        holds
    }

    /// Rule 9 (风险消除, X2): income above the line for `monitoring.stable_months`, no open
    /// gap, no open risk; a household without labour capacity (no member aged 18–59 with full
    /// or partial labour capacity) keeps monitoring; this year's per-capita income must also be
    /// at or above the line. A test whose parameter has no value is pending: the result is what
    /// holds if it passes.
    fn risk_eliminated(&mut self) -> bool {
        let months = self.household.months_above_monitoring_line;
        let stable = self.int(Param::MonitoringStableMonths);
        let long_enough = stable.map(|stable| i64::from(months) >= stable);
        let line = self.snapshot.money(Param::MonitoringIncomeLine);
        let above_now = line.map(|line| !self.per_capita_year_below(self.countable_income, line));
        let no_risk = !self.has_risk();
        let capacity = (0..self.members.len()).any(|idx| self.working_age_with_capacity(idx));
        let holds = long_enough != Some(false) && above_now != Some(false) && no_risk && capacity;
        let pending = holds && (long_enough.is_none() || above_now.is_none());
        if pending {
            if long_enough.is_none() {
                self.pend("monitoring.risk_eliminated", Param::MonitoringStableMonths);
            }
            if above_now.is_none() {
                self.pend("monitoring.risk_eliminated", Param::MonitoringIncomeLine);
            }
        }
        if self.reasons.on() {
            let months_text = match (long_enough, stable) {
                (Some(enough), Some(stable)) => format!(
                    "收入连续 {months} 个月高于监测收入线，{}{stable}个月",
                    if enough { "已满" } else { "未满" }
                ),
                _ => format!(
                    "收入连续 {months} 个月高于监测收入线，{}",
                    self.snapshot.pending_text(Param::MonitoringStableMonths)
                ),
            };
            let line_text = match (line, above_now) {
                (Some(line), Some(above)) => format!(
                    "当前人均年收入 {} 元{}监测收入线 {} 元",
                    self.income_per_capita_year,
                    if above { "不低于" } else { "低于" },
                    ShortYuan(line)
                ),
                _ => format!(
                    "当前人均年收入 {} 元，{}",
                    self.income_per_capita_year,
                    self.snapshot.pending_text(Param::MonitoringIncomeLine)
                ),
            };
            let risks = self.risk_text();
            self.reasons.add_test(
                "monitoring.risk_eliminated",
                holds,
                pending,
                &[
                    Param::MonitoringStableMonths,
                    Param::MonitoringIncomeLine,
                    Param::TekunAgeSupportUntil,
                    Param::TekunAgeElderly,
                ],
                || {
                    format!(
                        "{months_text}；{line_text}；风险情况：{risks}；{}；{}",
                        if capacity {
                            "有劳动能力成员"
                        } else {
                            "无劳动能力家庭，继续监测"
                        },
                        match (holds, pending) {
                            (true, false) => "可标注风险消除",
                            (true, true) => "待人工核定：如上述条件符合，可标注风险消除",
                            (false, _) => "不能标注风险消除",
                        }
                    )
                },
            );
        }
        holds
    }

    /// Rule 10 (定期核查, W1). Our reading of "a recorded emergency": an accident or a disaster
    /// among the household's risks; the re-check is then due at once (0 months).
    /// Rule 10's regular cycle (the parameter's value, if any) and whether an emergency is recorded.
    fn recheck_parts(&mut self) -> (Option<u32>, bool) {
        let emergency = self
            .household
            .risks
            .iter()
            .any(|risk| matches!(risk, Risk::Accident | Risk::Disaster));
        let configured = self
            .int(self.recheck_param())
            .map(|months| u32::try_from(months).unwrap_or(0));
        (configured, emergency)
    }

    fn recheck_param(&self) -> Param {
        let unstable = (0..self.members.len()).any(|idx| self.working_age_with_capacity(idx));
        if unstable {
            Param::RecheckUnstableMonths
        } else {
            Param::RecheckStableMonths
        }
    }

    fn recheck_months(&mut self) -> u32 {
        let (configured, emergency) = self.recheck_parts();
        let param = self.recheck_param();
        let unstable = param == Param::RecheckUnstableMonths;
        let months = if emergency {
            0
        } else {
            configured.unwrap_or(0)
        };
        if self.reasons.on() {
            let cited = self.short(param);
            let ages = self.working_age_text();
            self.reasons.add(
                "recheck.cycle",
                true,
                &[param, Param::TekunAgeSupportUntil, Param::TekunAgeElderly],
                || {
                    if emergency {
                        "记录有突发意外或自然灾害：立即核查".to_owned()
                    } else if configured.is_none() {
                        format!("{cited}：立即核查")
                    } else if unstable {
                        format!("有{ages}有劳动能力的成员，收入可能变化：{cited}")
                    } else {
                        format!("成员均为重点保障人员或无劳动能力：{cited}")
                    }
                },
            );
        }
        months
    }
}

/// `1级`, `1至3级`: a range of disability grades from the most severe, as a caseworker writes it.
fn grade_range(up_to: i64) -> String {
    if up_to <= 1 {
        "1级".to_owned()
    } else {
        format!("1至{up_to}级")
    }
}

/// The school stage in a sentence (`中等职业学校`).
fn school_label(schooling: Schooling) -> &'static str {
    match schooling {
        Schooling::Compulsory => "义务教育阶段",
        Schooling::SeniorHigh => "普通高中",
        Schooling::Vocational => "中等职业学校",
        other => other.label(),
    }
}
