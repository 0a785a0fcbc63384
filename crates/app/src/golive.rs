//! 上线检查 (go-live checklist): the parameters with no value in force today, what each
//! blocks (`policy::blocked_by`), and how many households of the district's registry are
//! 待人工核定 because of it; and the years of the 工作日历 (this and the next) not entered. Shown first on the 政策参数 page; the district dashboard shows the
//! count until it is zero.
//!
//! **Counting rule (no registry scan per view):** the counts of a district are made by one
//! pass over its registry (`determine_quiet` per household, in the background) and kept until
//! the catalogue in force changes (a value added: `catalogue_version`) or the day changes;
//! a view in between reads the kept counts. A view that finds none (or stale ones) starts
//! one count unless one is running, and shows the stale counts with their time, or 统计中.
//!
//! The same pass keeps the district's 监测待识别 worklist (rules 6 and 9, 同步认定): the
//! households that meet a monitoring condition today (and whose risk is not eliminated) but do
//! not hold the monitoring tag — 低保 and 特困 households included — read by area and paged in
//! memory by `monitoring_worklist`, under the same counting rule.

use crate::{Actor, App, AppError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Category, MonitoringKind, PlaceCode, PlaceLevel, Role};
use policy::Param;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// One parameter without a value in force today.
#[derive(Clone, Debug)]
pub struct GoLiveItem {
    pub param: Param,
    pub label: String,
    pub group: String,
    /// 参数归口: who enters the value.
    pub owner: Role,
    /// The rules left undecided (or comparison rules that do not fire) without it.
    pub blocks: &'static [&'static str],
    /// Households of the district registry pending because of it, as last counted.
    pub households: Option<u64>,
}

/// 上线检查 of a district on `today`.
#[derive(Clone, Debug)]
pub struct GoLive {
    pub today: NaiveDate,
    pub items: Vec<GoLiveItem>,
    /// Households with at least one pending test, as last counted.
    pub pending_households: Option<u64>,
    /// When the counts shown were made; `None` while the first count runs (统计中).
    pub counted_at: Option<DateTime<Utc>>,
    /// The counts shown are of an earlier catalogue or day; a new count is running.
    pub recounting: bool,
    /// 工作日历: this year and the next when their holiday arrangement is not entered (their
    /// due dates are 待确认 until district civil affairs enters it on the 工作日历 page).
    pub calendar_missing: Vec<i32>,
}

impl GoLive {
    /// Whether every parameter has a value in force (the checklist is done).
    pub fn is_clear(&self) -> bool {
        self.items.is_empty()
    }
}

/// 监测待识别: a household that meets a monitoring condition today but is not monitored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringCandidate {
    /// The registry row.
    pub household_id: i64,
    /// 户编号.
    pub external_id: String,
    pub area_code: String,
    pub head_name: String,
    pub members: usize,
    /// The monitoring tag the rules propose (身份标识).
    pub kind: MonitoringKind,
    /// The primary category the rules propose beside it (低保, 特困 …), if any.
    pub primary: Option<Category>,
    /// The determination has a pending test (待人工核定).
    pub pending: bool,
}

/// A candidate as a page lists it, with its village's name.
#[derive(Clone, Debug)]
pub struct WorklistItem {
    pub candidate: MonitoringCandidate,
    pub place_name: String,
}

/// One page of the worklist of the actor's area.
#[derive(Clone, Debug)]
pub struct MonitoringWorklist {
    pub items: Vec<WorklistItem>,
    /// Candidates in the actor's area, as last counted.
    pub total: usize,
    /// The `after` of the next page (`area_code:household_id`); `None` on the last.
    pub next: Option<String>,
    /// When the list was made; `None` while the first count runs (统计中).
    pub counted_at: Option<DateTime<Utc>>,
    /// The list is of an earlier catalogue or day; a new count is running.
    pub recounting: bool,
}

/// Candidates shown per page.
const WORKLIST_PAGE: usize = 50;

#[derive(Clone, Debug)]
struct Counted {
    /// (catalogue version, day) the counts are of.
    key: (i64, NaiveDate),
    at: DateTime<Utc>,
    households: u64,
    by_param: BTreeMap<Param, u64>,
    /// By area code, then household row.
    candidates: Arc<Vec<MonitoringCandidate>>,
}

/// The kept counts per district, and the districts whose count is running.
#[derive(Debug, Default)]
pub(crate) struct GoLiveCounts {
    counted: Mutex<HashMap<String, Counted>>,
    running: Mutex<HashSet<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn district_of(area: &PlaceCode) -> PlaceCode {
    area.at_level(PlaceLevel::District)
        .unwrap_or_else(|| area.clone())
}

impl App {
    /// 上线检查 for the actor's district: any signed-in role reads it (it is about policy, and
    /// holds counts only). Never scans the registry itself: see the module's counting rule.
    pub async fn go_live(&self, actor: &Actor) -> Result<GoLive, AppError> {
        if !crate::parameters::may_read_policy(actor) {
            return Err(AppError::Forbidden);
        }
        let today = self.today();
        let catalogue = self.catalogue()?;
        let key = (self.catalogue_version(), today);
        let district = district_of(&actor.area);
        let kept = lock(&self.golive.counted).get(district.as_str()).cloned();
        let fresh = kept.as_ref().is_some_and(|counted| counted.key == key);
        if !fresh {
            self.start_go_live_count(district);
        }
        let items = catalogue
            .parameters()
            .iter()
            .filter(|parameter| parameter.value_at(today).is_none())
            .map(|parameter| GoLiveItem {
                param: parameter.param,
                label: parameter.label.clone(),
                group: parameter.group.clone(),
                owner: parameter.owner,
                blocks: policy::blocked_by(parameter.param),
                households: kept
                    .as_ref()
                    .map(|counted| counted.by_param.get(&parameter.param).copied().unwrap_or(0)),
            })
            .collect();
        Ok(GoLive {
            today,
            items,
            pending_households: kept.as_ref().map(|counted| counted.households),
            counted_at: kept.as_ref().map(|counted| counted.at),
            recounting: kept.is_some() && !fresh,
            calendar_missing: self.calendar_missing_years()?,
        })
    }

    /// 监测待识别 (rules 6 and 9, 同步认定): the households of the actor's area that meet a
    /// monitoring condition today but are not monitored, by area, 50 a page after `after`.
    /// Read from the district's last count (see the module's counting rule), never a scan.
    pub async fn monitoring_worklist(
        &self,
        actor: &Actor,
        after: Option<&str>,
    ) -> Result<MonitoringWorklist, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let after = match after {
            None => None,
            Some(text) => Some(
                text.split_once(':')
                    .and_then(|(area, id)| Some((area.to_owned(), id.parse::<i64>().ok()?)))
                    .ok_or_else(|| {
                        AppError::bad_query(domain::InputError::new(
                            "after",
                            "翻页位置",
                            format!("“{text}”不是有效的翻页位置"),
                        ))
                    })?,
            ),
        };
        let key = (self.catalogue_version(), self.today());
        let district = district_of(&actor.area);
        let kept = lock(&self.golive.counted).get(district.as_str()).cloned();
        let fresh = kept.as_ref().is_some_and(|counted| counted.key == key);
        if !fresh {
            self.start_go_live_count(district);
        }
        let scope = actor.scope();
        let mut items = Vec::new();
        let mut total = 0;
        let mut more = false;
        if let Some(counted) = &kept {
            for candidate in counted
                .candidates
                .iter()
                .filter(|candidate| candidate.area_code.starts_with(scope.as_str()))
            {
                total += 1;
                let past = after.as_ref().is_none_or(|(area, id)| {
                    (candidate.area_code.as_str(), candidate.household_id) > (area.as_str(), *id)
                });
                if !past {
                    continue;
                }
                if items.len() == WORKLIST_PAGE {
                    more = true;
                    continue;
                }
                items.push(candidate.clone());
            }
        }
        let next = more
            .then(|| items.last())
            .flatten()
            .map(|last: &MonitoringCandidate| format!("{}:{}", last.area_code, last.household_id));
        let mut names: HashMap<String, String> = HashMap::new();
        let mut listed = Vec::with_capacity(items.len());
        {
            let mut conn = self.store.read().await?;
            for candidate in items {
                if !names.contains_key(&candidate.area_code) {
                    let name = match PlaceCode::parse(&candidate.area_code) {
                        Ok(code) => store::places::full_name(&mut conn, &code).await?,
                        Err(_) => candidate.area_code.clone(),
                    };
                    names.insert(candidate.area_code.clone(), name);
                }
                let place_name = names[&candidate.area_code].clone();
                listed.push(WorklistItem {
                    candidate,
                    place_name,
                });
            }
        }
        Ok(MonitoringWorklist {
            items: listed,
            total,
            next,
            counted_at: kept.as_ref().map(|counted| counted.at),
            recounting: kept.is_some() && !fresh,
        })
    }

    /// Starts the district's count in the background unless one is running.
    fn start_go_live_count(&self, district: PlaceCode) {
        if !lock(&self.golive.running).insert(district.as_str().to_owned()) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            lock(&self.golive.running).remove(district.as_str());
            return;
        };
        let app = self.clone();
        runtime.spawn(async move {
            if let Err(error) = app.count_go_live_inner(&district).await {
                tracing::warn!(error = format!("{error:#}"), "go-live count failed");
            }
            lock(&app.golive.running).remove(district.as_str());
        });
    }

    /// Counts, now, the households of `district`'s registry pending for each parameter on
    /// today's catalogue, and keeps the counts (the background count does the same; tests and
    /// `serve --demo` call this to have the counts at once).
    pub async fn count_go_live(&self, district: &PlaceCode) -> Result<(), AppError> {
        self.count_go_live_inner(&district_of(district)).await
    }

    async fn count_go_live_inner(&self, district: &PlaceCode) -> Result<(), AppError> {
        let today = self.today();
        let key = (self.catalogue_version(), today);
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(today);
        let mut households = 0_u64;
        let mut by_param: BTreeMap<Param, u64> = BTreeMap::new();
        let console = Actor::console("go-live", district.clone());
        let mut candidates = Vec::new();
        // X2, rule 9: the months above the monitoring line from the recorded incomes.
        let incomes = {
            let mut conn = self.store.read().await?;
            crate::incomes::records_under(&mut conn, district).await?
        };
        self.each_household(&console, |row_id, household| {
            let household = &*crate::incomes::with_history(
                household,
                incomes.get(household.id.as_str()),
                &snapshot,
                today,
            );
            let determination = policy::determine_quiet(household, &snapshot, today);
            if let Some(kind) = determination.monitoring
                && !determination.risk_eliminated
            {
                candidates.push(MonitoringCandidate {
                    household_id: row_id,
                    external_id: household.id.as_str().to_owned(),
                    area_code: household.area.as_str().to_owned(),
                    head_name: household
                        .head()
                        .map(|head| head.name.clone())
                        .unwrap_or_default(),
                    members: household.members.len(),
                    kind,
                    primary: determination.primary,
                    pending: !determination.pending.is_empty(),
                });
            }
            if determination.pending.is_empty() {
                return;
            }
            households += 1;
            let mut params: Vec<Param> = determination
                .pending
                .iter()
                .map(|pending| pending.param)
                .collect();
            params.sort();
            params.dedup();
            for param in params {
                *by_param.entry(param).or_default() += 1;
            }
        })
        .await?;
        // Those already monitored today are not candidates.
        let monitored: HashSet<i64> = {
            let mut conn = self.store.read().await?;
            store::households::in_category_on(
                &mut conn,
                Category::Monitoring.code(),
                &today.to_string(),
                district.as_str(),
            )
            .await?
            .into_iter()
            .collect()
        };
        candidates.retain(|candidate| !monitored.contains(&candidate.household_id));
        candidates.sort_by(|a, b| {
            (a.area_code.as_str(), a.household_id).cmp(&(b.area_code.as_str(), b.household_id))
        });
        lock(&self.golive.counted).insert(
            district.as_str().to_owned(),
            Counted {
                key,
                at: self.now(),
                households,
                by_param,
                candidates: Arc::new(candidates),
            },
        );
        Ok(())
    }
}
