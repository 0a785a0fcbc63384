//! The registry as a whole under the rules: re-assessment on a date (P6, D2) and the what-if
//! simulation of changed parameters (政策模拟), both by town, inside the actor's scope.

use crate::households::household_from_record;
use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::{Category, PlaceCode, PlaceLevel, Role, Yuan};
use policy::{Override, Scope, TownComparison};
use std::collections::BTreeMap;

/// Households and persons holding one category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Headcount {
    pub households: u64,
    pub persons: u64,
}

/// One town's figures of a re-assessment.
#[derive(Clone, Debug, Default)]
pub struct TownAssessment {
    pub code: String,
    pub name: String,
    pub households: u64,
    /// Households whose determination has a pending test (待人工核定), counted apart.
    pub pending: u64,
    /// By primary category (就高不就低) and, under `Category::Monitoring`, the monitoring tag.
    pub by_category: BTreeMap<Category, Headcount>,
    pub monthly_benefit: Yuan,
}

impl TownAssessment {
    pub fn count(&self, category: &Category) -> Headcount {
        self.by_category.get(category).copied().unwrap_or_default()
    }

    fn merge(&mut self, other: &TownAssessment) {
        self.households += other.households;
        self.pending += other.pending;
        for (category, count) in &other.by_category {
            let entry = self.by_category.entry(*category).or_default();
            entry.households += count.households;
            entry.persons += count.persons;
        }
        self.monthly_benefit += other.monthly_benefit;
    }
}

#[derive(Clone, Debug)]
pub struct RegistryAssessment {
    pub as_of: NaiveDate,
    pub towns: Vec<TownAssessment>,
    pub total: TownAssessment,
}

#[derive(Clone, Debug)]
pub struct Simulation {
    pub as_of: NaiveDate,
    pub overrides: Vec<String>,
    /// (town code, town name, comparison)
    pub towns: Vec<(String, String, TownComparison)>,
    pub total: TownComparison,
}

const PAGE: i64 = 2000;

impl App {
    async fn town_names(&self, scope: &PlaceCode) -> Result<BTreeMap<String, String>, AppError> {
        let mut conn = self.store.read().await?;
        let district = scope
            .at_level(PlaceLevel::District)
            .unwrap_or_else(|| scope.clone());
        Ok(store::places::under(&mut conn, &district, PlaceLevel::Town)
            .await?
            .into_iter()
            .map(|town| (town.code.as_str().to_owned(), town.name))
            .collect())
    }

    /// Calls `visit` for every household in the actor's scope, page by page.
    pub(crate) async fn each_household(
        &self,
        actor: &Actor,
        mut visit: impl FnMut(i64, &domain::Household),
    ) -> Result<(), AppError> {
        let scope = actor.scope();
        let mut after_id = 0;
        loop {
            let mut conn = self.store.read().await?;
            let rows =
                store::households::records_page(&mut conn, scope.as_str(), after_id, PAGE).await?;
            drop(conn);
            let Some(last) = rows.last() else { break };
            after_id = last.0;
            for (id, record) in &rows {
                visit(*id, &household_from_record(*id, record)?);
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        Ok(())
    }

    /// 重新认定: every household of the actor's scope under the rules on `as_of`, by town.
    pub async fn assess_registry(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
    ) -> Result<RegistryAssessment, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(as_of);
        let mut by_town: BTreeMap<String, TownAssessment> = BTreeMap::new();
        self.each_household(actor, |_, household| {
            let determination = policy::determine_quiet(household, &snapshot, as_of);
            let town = household
                .area
                .at_level(PlaceLevel::Town)
                .unwrap_or_else(|| household.area.clone());
            let entry = by_town.entry(town.as_str().to_owned()).or_default();
            entry.households += 1;
            entry.pending += u64::from(!determination.pending.is_empty());
            entry.monthly_benefit += determination.monthly_benefit;
            if let Some(primary) = determination.primary {
                let persons = determination
                    .categories
                    .iter()
                    .filter(|grant| grant.category == primary)
                    .map(|grant| {
                        if grant.scope == Scope::Person {
                            1
                        } else {
                            household.members.len() as u64
                        }
                    })
                    .max()
                    .unwrap_or(0);
                let count = entry.by_category.entry(primary).or_default();
                count.households += 1;
                count.persons += persons;
            }
            if determination.monitoring.is_some() {
                let count = entry.by_category.entry(Category::Monitoring).or_default();
                count.households += 1;
                count.persons += household.members.len() as u64;
            }
        })
        .await?;
        let names = self.town_names(&actor.scope()).await?;
        let mut total = TownAssessment {
            name: "合计".to_owned(),
            ..TownAssessment::default()
        };
        let towns = by_town
            .into_iter()
            .map(|(code, mut town)| {
                total.merge(&town);
                town.name = names.get(&code).cloned().unwrap_or_default();
                town.code = code;
                town
            })
            .collect();
        Ok(RegistryAssessment {
            as_of,
            towns,
            total,
        })
    }

    /// 政策模拟 (what-if): today's parameters against the changed ones (`NAME=VALUE`) over the
    /// registry: households and persons entering and leaving each category, and the monthly cost
    /// difference, by town. District approvers (and auditors) only.
    pub async fn simulate_registry(
        &self,
        actor: &Actor,
        overrides: &[String],
        as_of: NaiveDate,
    ) -> Result<Simulation, AppError> {
        if !matches!(
            actor.role,
            Role::DistrictCivilAffairs | Role::DistrictAgriculture | Role::Auditor
        ) {
            return Err(AppError::Forbidden);
        }
        let mut parsed = Vec::with_capacity(overrides.len());
        for text in overrides
            .iter()
            .map(|text| text.trim())
            .filter(|text| !text.is_empty())
        {
            parsed.push(
                Override::parse(text)
                    .map_err(|error| AppError::invalid("set", format!("{text}：{error}")))?,
            );
        }
        if parsed.is_empty() {
            return Err(AppError::invalid(
                "set",
                "请至少填写一项参数调整，格式为 参数名=取值",
            ));
        }
        let catalogue = self.catalogue()?;
        let base = catalogue.snapshot(as_of);
        let changed = base.with_overrides(&parsed);
        let mut comparison = policy::Comparison::new();
        self.each_household(actor, |_, household| {
            comparison.add(household, &base, &changed, as_of)
        })
        .await?;
        let names = self.town_names(&actor.scope()).await?;
        let total = comparison.total();
        let towns = comparison
            .by_town
            .into_iter()
            .map(|(code, town)| {
                let name = names.get(code.as_str()).cloned().unwrap_or_default();
                (code.as_str().to_owned(), name, town)
            })
            .collect();
        Ok(Simulation {
            as_of,
            overrides: overrides
                .iter()
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
                .collect(),
            towns,
            total,
        })
    }
}

/// The categories a simulation reports on, in priority order, then the monitoring tag.
pub const SIMULATED: [Category; 7] = [
    Category::Tekun,
    Category::Dibao,
    Category::DibaoSingle,
    Category::DibaoEdge,
    Category::RigidExpenditure,
    Category::OtherNeedy,
    Category::Monitoring,
];

impl Simulation {
    /// The simulation as a table: one row per town and a total row.
    pub fn table(&self) -> report::Table {
        use report::Cell;
        let mut headers = vec!["镇街".to_owned(), "区划代码".to_owned(), "户数".to_owned()];
        for category in SIMULATED {
            for what in ["新增户", "退出户", "新增人", "退出人"] {
                headers.push(format!("{}{what}", category.label()));
            }
        }
        headers.extend([
            "现月支出（元）".to_owned(),
            "调整后月支出（元）".to_owned(),
            "月支出变化（元）".to_owned(),
            "现待人工核定户".to_owned(),
            "调整后待人工核定户".to_owned(),
        ]);
        let row = |name: &str, code: &str, town: &TownComparison| {
            let mut cells = vec![
                Cell::Text(name.to_owned()),
                Cell::Text(code.to_owned()),
                Cell::Integer(town.households as i64),
            ];
            for category in SIMULATED {
                let flow = town.flows.get(&category).copied().unwrap_or_default();
                for value in [
                    flow.households_entering,
                    flow.households_leaving,
                    flow.persons_entering,
                    flow.persons_leaving,
                ] {
                    cells.push(Cell::Integer(value as i64));
                }
            }
            cells.push(Cell::Fen(town.monthly_cost_base.fen()));
            cells.push(Cell::Fen(town.monthly_cost_changed.fen()));
            cells.push(Cell::Fen(town.monthly_cost_difference().fen()));
            cells.push(Cell::Integer(town.pending_base as i64));
            cells.push(Cell::Integer(town.pending_changed as i64));
            cells
        };
        let mut rows: Vec<Vec<Cell>> = self
            .towns
            .iter()
            .map(|(code, name, town)| row(name, code, town))
            .collect();
        rows.push(row("合计", "", &self.total));
        report::Table {
            title: "政策模拟：参数调整对各类对象和月支出的影响".to_owned(),
            notes: vec![
                format!("认定日期：{}", self.as_of),
                format!("参数调整：{}", self.overrides.join("；")),
                "待人工核定户：有条件因参数未配置而无法判定的户，按各项条件均符合计入各类别"
                    .to_owned(),
            ],
            headers,
            rows,
        }
    }
}
