//! 帮扶建议 (A1, A2): from what a household lacks (缺啥) the fitting items (补啥), the better of
//! overlapping items (就高不就低), nothing given twice and no need left without a word (不重不漏).

use crate::catalogue::{AssistCatalogue, Item, Need, Signal};
use chrono::NaiveDate;
use domain::{CareNeed, Category, Household, MonitoringKind, Risk, Schooling};
use policy::Snapshot;
use std::collections::{BTreeMap, BTreeSet};

/// What the proposal looks at: the household's survey record, the categories it holds on the
/// date (registry category periods, as confirmed), and its monitoring type.
#[derive(Clone, Debug)]
pub struct Situation<'a> {
    pub household: &'a Household,
    pub categories: BTreeSet<Category>,
    pub monitoring: Option<MonitoringKind>,
    pub as_of: NaiveDate,
    /// The categories are being decided by a running case, not yet held (预计帮扶): the
    /// reasons say 拟认定 instead of 已认定.
    pub pending: bool,
}

impl Situation<'_> {
    /// `已认定为` for held categories, `拟认定为` for categories a case is deciding.
    fn held_word(&self) -> &'static str {
        if self.pending {
            "拟认定为"
        } else {
            "已认定为"
        }
    }
}

/// An item already sent or given to the household (an open or delivered referral).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    pub referral_id: i64,
    pub item_code: String,
    /// The period of the referral (`ItemPeriod::key`).
    pub period: domain::GivenPeriod,
    /// True once delivered; false while sent or accepted.
    pub delivered: bool,
    /// 补充帮扶: sent on top of the item that answers the need; it does not answer the need
    /// itself, so a declined main item is proposed again.
    pub supplementary: bool,
}

/// A need found, with the facts that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedFound {
    pub need: Need,
    pub evidence: Vec<String>,
}

/// 建议: an item to send to its department, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub item_code: String,
    pub item_name: String,
    pub item_version: i64,
    pub department: String,
    pub department_name: String,
    pub needs: Vec<Need>,
    pub period: domain::GivenPeriod,
    pub amount: Option<domain::Yuan>,
    pub reason: String,
}

/// A need already answered by an open or delivered referral of this period (不重).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Covered {
    pub need: Need,
    pub item_code: String,
    pub referral_id: i64,
    pub reason: String,
}

/// An eligible item not proposed because a better one answers the same need (就高不就低).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassedOver {
    pub need: Need,
    pub item_code: String,
    pub item_name: String,
    pub reason: String,
}

/// A need no item of the catalogue answers for this household (不漏: flagged, not dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmet {
    pub need: Need,
    pub reason: String,
}

/// 补充帮扶: a further fitting item for a need already answered in its period (e.g. the
/// charity's after 医疗救助), sent only with a written reason (补充理由).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplement {
    /// The item as it would be sent; `reason` says which item answers the need already.
    pub proposal: Proposal,
    /// The name of the item that answers the need.
    pub covered_by: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proposals {
    pub needs: Vec<NeedFound>,
    pub proposed: Vec<Proposal>,
    pub covered: Vec<Covered>,
    pub passed_over: Vec<PassedOver>,
    pub unmet: Vec<Unmet>,
    pub supplements: Vec<Supplement>,
}

impl Proposals {
    pub fn proposal(&self, item_code: &str) -> Option<&Proposal> {
        self.proposed.iter().find(|p| p.item_code == item_code)
    }

    pub fn supplement(&self, item_code: &str) -> Option<&Supplement> {
        self.supplements
            .iter()
            .find(|s| s.proposal.item_code == item_code)
    }
}

/// The signals of a household with the fact behind each, in a stable order.
pub fn signals(situation: &Situation<'_>) -> BTreeMap<Signal, String> {
    let household = situation.household;
    let mut found = BTreeMap::new();
    let guarantees = &household.guarantees;
    for (secured, signal) in [
        (guarantees.education, Signal::GapEducation),
        (guarantees.medical, Signal::GapMedical),
        (guarantees.housing, Signal::GapHousing),
        (guarantees.drinking_water, Signal::GapDrinkingWater),
    ] {
        if !secured {
            found.insert(signal, signal.label().to_owned());
        }
    }
    for risk in &household.risks {
        let signal = match risk {
            Risk::Illness => Signal::RiskIllness,
            Risk::Disability => Signal::RiskDisability,
            Risk::SchoolingCost => Signal::RiskSchoolingCost,
            Risk::Accident => Signal::RiskAccident,
            Risk::Disaster => Signal::RiskDisaster,
            Risk::Unemployment => Signal::RiskUnemployment,
            Risk::BusinessFailure => Signal::RiskBusinessFailure,
            Risk::Other => Signal::RiskOther,
        };
        found.insert(signal, format!("风险点：{}", risk.label()));
    }
    let names = |pick: &dyn Fn(&domain::Person) -> bool| -> Vec<String> {
        household
            .members
            .iter()
            .filter(|p| pick(p))
            .map(|p| p.relation.label().to_owned())
            .collect()
    };
    let members = |signal: Signal, who: Vec<String>, found: &mut BTreeMap<Signal, String>| {
        if !who.is_empty() {
            found.insert(signal, format!("{}（{}）", signal.label(), who.join("、")));
        }
    };
    members(
        Signal::SeriousIllness,
        names(&|p| p.serious_illness),
        &mut found,
    );
    members(
        Signal::Disability,
        names(&|p| p.disability.is_some()),
        &mut found,
    );
    members(
        Signal::InSchool,
        names(&|p| {
            matches!(
                p.schooling,
                Schooling::Compulsory
                    | Schooling::SeniorHigh
                    | Schooling::Vocational
                    | Schooling::College
            )
        }),
        &mut found,
    );
    members(
        Signal::CareNeeded,
        names(&|p| matches!(p.care_need, CareNeed::Full | CareNeed::Partial)),
        &mut found,
    );
    if situation.monitoring == Some(MonitoringKind::SuddenHardship) {
        found.insert(
            Signal::SuddenHardship,
            "防止返贫监测：突发严重困难户".to_owned(),
        );
    }
    found
}

/// The signals that show a need (the vocabulary's meaning, not a policy threshold).
fn need_signals(need: Need) -> &'static [Signal] {
    match need {
        Need::BasicLiving => &[],
        Need::Medical => &[
            Signal::GapMedical,
            Signal::SeriousIllness,
            Signal::RiskIllness,
        ],
        Need::Schooling => &[Signal::GapEducation, Signal::RiskSchoolingCost],
        Need::HousingSafety => &[Signal::GapHousing],
        Need::DrinkingWater => &[Signal::GapDrinkingWater],
        Need::Employment => &[Signal::RiskUnemployment, Signal::RiskBusinessFailure],
        Need::Care => &[Signal::CareNeeded],
        Need::Emergency => &[
            Signal::RiskAccident,
            Signal::RiskDisaster,
            Signal::SuddenHardship,
        ],
    }
}

/// The categories whose holders need basic-living assistance.
const BASIC_LIVING: [Category; 3] = [Category::Tekun, Category::Dibao, Category::DibaoSingle];

/// 缺啥: the household's needs with their evidence, in the vocabulary's order.
pub fn needs(situation: &Situation<'_>, signals: &BTreeMap<Signal, String>) -> Vec<NeedFound> {
    let mut found = Vec::new();
    let in_category = situation
        .categories
        .iter()
        .any(|c| *c != Category::Monitoring)
        || situation.monitoring.is_some();
    for need in Need::ALL.iter().copied() {
        let mut evidence: Vec<String> = need_signals(need)
            .iter()
            .filter_map(|signal| signals.get(signal).cloned())
            .collect();
        match need {
            Need::BasicLiving => {
                for category in BASIC_LIVING {
                    if situation.categories.contains(&category) {
                        evidence.push(format!("{}{}", situation.held_word(), category.label()));
                    }
                }
            }
            // A pupil in a low-income household needs schooling help even without a gap.
            Need::Schooling if in_category => {
                if let Some(text) = signals.get(&Signal::InSchool) {
                    evidence.push(text.clone());
                }
            }
            _ => {}
        }
        if !evidence.is_empty() {
            found.push(NeedFound { need, evidence });
        }
    }
    found
}

/// Why an item fits the household, or why not (`Err` with the unmet condition).
pub(crate) fn fits(
    item: &Item,
    situation: &Situation<'_>,
    signals: &BTreeMap<Signal, String>,
) -> Result<String, String> {
    if !item.active {
        return Err(format!("“{}”已停用", item.name));
    }
    let mut why = Vec::new();
    if !item.categories.is_empty() {
        let held: Vec<&str> = item
            .categories
            .iter()
            .filter(|c| situation.categories.contains(c))
            .map(|c| c.label())
            .collect();
        if held.is_empty() {
            let wanted: Vec<&str> = item.categories.iter().map(|c| c.label()).collect();
            return Err(format!(
                "“{}”须已认定为{}之一",
                item.name,
                wanted.join("、")
            ));
        }
        why.push(format!("{}{}", situation.held_word(), held.join("、")));
    }
    if !item.signals.is_empty() {
        let present: Vec<&str> = item
            .signals
            .iter()
            .filter_map(|s| signals.get(s).map(String::as_str))
            .collect();
        if present.is_empty() {
            let wanted: Vec<&str> = item.signals.iter().map(|s| s.label()).collect();
            return Err(format!(
                "“{}”须有以下情形之一：{}",
                item.name,
                wanted.join("、")
            ));
        }
        why.push(present.join("、"));
    }
    Ok(why.join("；"))
}

/// 缺啥补啥、就高不就低、不重不漏: the proposals for one household on `situation.as_of`.
///
/// For each need: the items of the catalogue that answer it and fit the household, best rank
/// first (then by code, so the answer is stable). If any of them was sent or given in its
/// current period, the need is covered and nothing is proposed again; otherwise the best is
/// proposed and the others are passed over with the reason. A need no item answers is unmet.
/// An item answering several needs is proposed once.
pub fn propose(
    catalogue: &AssistCatalogue,
    situation: &Situation<'_>,
    given: &[Given],
    snapshot: &Snapshot,
) -> Proposals {
    let signals = signals(situation);
    let needs = needs(situation, &signals);
    let mut out = Proposals::default();
    for found in &needs {
        let need = found.need;
        let answering: Vec<&Item> = catalogue
            .items
            .iter()
            .filter(|item| item.answers(need))
            .collect();
        let mut fitting: Vec<(&Item, String)> = Vec::new();
        let mut refused = Vec::new();
        for item in &answering {
            match fits(item, situation, &signals) {
                Ok(why) => fitting.push((item, why)),
                Err(why) => refused.push(why),
            }
        }
        fitting.sort_by(|(a, _), (b, _)| b.rank.cmp(&a.rank).then_with(|| a.code.cmp(&b.code)));
        let Some((best, why)) = fitting.first() else {
            let reason = if answering.is_empty() {
                format!(
                    "有{}需求（{}），目录中没有回应该需求的救助项目，请联系相关部门研究解决或补充目录",
                    need.label(),
                    found.evidence.join("、")
                )
            } else {
                format!(
                    "有{}需求（{}），但没有符合条件的项目：{}",
                    need.label(),
                    found.evidence.join("、"),
                    refused.join("；")
                )
            };
            out.unmet.push(Unmet { need, reason });
            continue;
        };
        let already = fitting.iter().find_map(|(item, _)| {
            let key = item.period.key(situation.as_of);
            given
                .iter()
                .find(|g| !g.supplementary && g.item_code == item.code && g.period == key)
                .map(|g| (item, g, key))
        });
        if let Some((item, g, key)) = already {
            // 补充帮扶: the other fitting items not yet given in their period.
            for (other, why) in &fitting {
                let other_key = other.period.key(situation.as_of);
                let other_given = given
                    .iter()
                    .any(|g| g.item_code == other.code && g.period == other_key);
                if other.code == item.code || other_given {
                    continue;
                }
                if let Some(existing) = out
                    .supplements
                    .iter_mut()
                    .find(|s| s.proposal.item_code == other.code)
                {
                    existing.proposal.needs.push(need);
                    continue;
                }
                let mut proposal = proposal_of(catalogue, snapshot, situation, other, need);
                proposal.reason = format!(
                    "补充帮扶：{}需求已由“{}”回应（转介单第{}号），仍有困难的可补充；符合“{}”条件（{}）；由{}办理，{}{}",
                    need.label(),
                    item.name,
                    g.referral_id,
                    other.name,
                    why,
                    proposal.department_name,
                    other.period.label(),
                    amount_text(other, snapshot)
                );
                out.supplements.push(Supplement {
                    proposal,
                    covered_by: item.name.clone(),
                });
            }
            let state = if g.delivered {
                "已落实"
            } else {
                "已转介、正在办理"
            };
            out.covered.push(Covered {
                need,
                item_code: item.code.clone(),
                referral_id: g.referral_id,
                reason: format!(
                    "{}需求已由“{}”回应（{}{}，转介单第{}号），不再重复提出",
                    need.label(),
                    item.name,
                    key.label(),
                    state,
                    g.referral_id
                ),
            });
            continue;
        }
        for (other, _) in fitting.iter().skip(1) {
            out.passed_over.push(PassedOver {
                need,
                item_code: other.code.clone(),
                item_name: other.name.clone(),
                reason: format!(
                    "同属{}需求，“{}”（排序{}）优于“{}”（排序{}），就高不就低，不另行提出；转介“{}”后仍有困难的，可作为补充帮扶转介",
                    need.label(),
                    best.name,
                    best.rank,
                    other.name,
                    other.rank,
                    best.name
                ),
            });
        }
        if let Some(existing) = out.proposed.iter_mut().find(|p| p.item_code == best.code) {
            existing.needs.push(need);
            existing.reason.push_str(&format!(
                "；同时回应{}需求（{}）",
                need.label(),
                found.evidence.join("、")
            ));
            continue;
        }
        let mut proposal = proposal_of(catalogue, snapshot, situation, best, need);
        proposal.reason = format!(
            "有{}需求（{}）；符合“{}”条件（{}）；由{}办理，{}{}",
            need.label(),
            found.evidence.join("、"),
            best.name,
            why,
            proposal.department_name,
            best.period.label(),
            amount_text(best, snapshot)
        );
        out.proposed.push(proposal);
    }
    // An item proposed for one need is not also a supplement for another.
    let proposed = out.proposed.clone();
    out.supplements
        .retain(|s| !proposed.iter().any(|p| p.item_code == s.proposal.item_code));
    out.needs = needs;
    out
}

/// The item as a proposal for `need` on the situation's date (the caller writes the reason).
fn proposal_of(
    catalogue: &AssistCatalogue,
    snapshot: &Snapshot,
    situation: &Situation<'_>,
    item: &Item,
    need: Need,
) -> Proposal {
    Proposal {
        item_code: item.code.clone(),
        item_name: item.name.clone(),
        item_version: item.version,
        department: item.department.clone(),
        department_name: catalogue.department_name(&item.department).to_owned(),
        needs: vec![need],
        period: item.period.key(situation.as_of),
        amount: item.amount_param.and_then(|param| snapshot.money(param)),
        reason: String::new(),
    }
}

/// Where the amount comes from: the parameter cited with its value, or the item's note.
fn amount_text(item: &Item, snapshot: &Snapshot) -> String {
    match item.amount_param {
        Some(param) => format!("；金额参照{}", snapshot.cite(param)),
        None if !item.note.is_empty() => format!("；{}", item.note),
        None => String::new(),
    }
}
