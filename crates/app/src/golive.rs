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

use crate::{Actor, App, AppError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{PlaceCode, PlaceLevel, Role};
use policy::Param;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

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

#[derive(Clone, Debug)]
struct Counted {
    /// (catalogue version, day) the counts are of.
    key: (i64, NaiveDate),
    at: DateTime<Utc>,
    households: u64,
    by_param: BTreeMap<Param, u64>,
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
        self.each_household(&console, |household| {
            let determination = policy::determine_quiet(household, &snapshot, today);
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
        lock(&self.golive.counted).insert(
            district.as_str().to_owned(),
            Counted {
                key,
                at: self.now(),
                households,
                by_param,
            },
        );
        Ok(())
    }
}
