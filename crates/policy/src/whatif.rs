//! 政策模拟 (what-if): the same households under two parameter snapshots, compared by town.
//!
//! Streaming: a `Comparison` accumulates one household at a time and two comparisons merge, so
//! a caller can feed a registry of any size, split across threads, in bounded memory.

use crate::catalogue::Snapshot;
use crate::rules::{Determination, Scope, determine_quiet};
use chrono::NaiveDate;
use domain::{Category, Household, PlaceCode, PlaceLevel, Yuan};
use std::collections::BTreeMap;

/// Households and persons entering and leaving one category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    pub households_entering: u64,
    pub households_leaving: u64,
    pub persons_entering: u64,
    pub persons_leaving: u64,
}

impl Flow {
    fn merge(&mut self, other: &Flow) {
        self.households_entering += other.households_entering;
        self.households_leaving += other.households_leaving;
        self.persons_entering += other.persons_entering;
        self.persons_leaving += other.persons_leaving;
    }
}

/// The comparison for one town (or for all towns together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TownComparison {
    pub households: u64,
    /// By category; the monitoring tag counts as `Category::Monitoring`.
    pub flows: BTreeMap<Category, Flow>,
    pub monthly_cost_base: Yuan,
    pub monthly_cost_changed: Yuan,
    /// Households whose determination has a pending test (待人工核定), under each snapshot.
    pub pending_base: u64,
    pub pending_changed: u64,
}

impl TownComparison {
    /// Changed minus base: positive when the change costs more per month.
    pub fn monthly_cost_difference(&self) -> Yuan {
        self.monthly_cost_changed - self.monthly_cost_base
    }

    fn merge(&mut self, other: &TownComparison) {
        self.households += other.households;
        for (category, flow) in &other.flows {
            self.flows.entry(*category).or_default().merge(flow);
        }
        self.monthly_cost_base += other.monthly_cost_base;
        self.monthly_cost_changed += other.monthly_cost_changed;
        self.pending_base += other.pending_base;
        self.pending_changed += other.pending_changed;
    }
}

/// 政策模拟结果: by town (镇街), with the total over all towns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub by_town: BTreeMap<PlaceCode, TownComparison>,
}

/// Which members a determination covers in each category, as a bit per member (the first 64).
fn coverage(household: &Household, determination: &Determination<'_>) -> BTreeMap<Category, u64> {
    let mut covered: BTreeMap<Category, u64> = BTreeMap::new();
    let bit = |idx: usize| if idx < 64 { 1u64 << idx } else { 0 };
    let mut tekun_members = 0u64;
    for grant in &determination.categories {
        if grant.scope == Scope::Person {
            let idx = household
                .members
                .iter()
                .position(|person| Some(&person.id_number) == grant.id_number.as_ref());
            let mask = idx.map_or(0, bit);
            if grant.category == Category::Tekun {
                tekun_members |= mask;
            }
            *covered.entry(grant.category).or_default() |= mask;
        }
    }
    let everyone = (0..household.members.len()).fold(0u64, |mask, idx| mask | bit(idx));
    for grant in &determination.categories {
        if grant.scope == Scope::Household {
            // 特困 members are not counted again in the household's 低保 (rule 2).
            let mask = if grant.category == Category::Dibao {
                everyone & !tekun_members
            } else {
                everyone
            };
            *covered.entry(grant.category).or_default() |= mask;
        }
    }
    if determination.monitoring.is_some() {
        covered.insert(Category::Monitoring, everyone);
    }
    covered
}

impl Comparison {
    pub fn new() -> Self {
        Self::default()
    }

    /// Assesses one household under both snapshots and adds the difference.
    pub fn add(
        &mut self,
        household: &Household,
        base: &Snapshot,
        changed: &Snapshot,
        as_of: NaiveDate,
    ) {
        let before = determine_quiet(household, base, as_of);
        let after = determine_quiet(household, changed, as_of);
        let town = household
            .area
            .at_level(PlaceLevel::Town)
            .unwrap_or_else(|| household.area.clone());
        let entry = self.by_town.entry(town).or_default();
        entry.households += 1;
        entry.monthly_cost_base += before.monthly_benefit;
        entry.monthly_cost_changed += after.monthly_benefit;
        entry.pending_base += u64::from(!before.pending.is_empty());
        entry.pending_changed += u64::from(!after.pending.is_empty());
        let covered_before = coverage(household, &before);
        let covered_after = coverage(household, &after);
        for category in Category::ALL {
            let old = covered_before.get(category).copied().unwrap_or(0);
            let new = covered_after.get(category).copied().unwrap_or(0);
            if old == new {
                continue;
            }
            let flow = entry.flows.entry(*category).or_default();
            flow.households_entering += u64::from(old == 0 && new != 0);
            flow.households_leaving += u64::from(old != 0 && new == 0);
            flow.persons_entering += u64::from((new & !old).count_ones());
            flow.persons_leaving += u64::from((old & !new).count_ones());
        }
    }

    /// Adds another partial comparison (e.g. from another thread).
    pub fn merge(&mut self, other: &Comparison) {
        for (town, comparison) in &other.by_town {
            self.by_town
                .entry(town.clone())
                .or_default()
                .merge(comparison);
        }
    }

    /// All towns together.
    pub fn total(&self) -> TownComparison {
        let mut total = TownComparison::default();
        for comparison in self.by_town.values() {
            total.merge(comparison);
        }
        total
    }
}

/// Compares `base` with `changed` over `households` on `as_of` (issue 3 part 6, the pure core).
pub fn simulate<'h, I>(
    households: I,
    base: &Snapshot,
    changed: &Snapshot,
    as_of: NaiveDate,
) -> Comparison
where
    I: IntoIterator<Item = &'h Household>,
{
    let mut comparison = Comparison::new();
    for household in households {
        comparison.add(household, base, changed, as_of);
    }
    comparison
}
