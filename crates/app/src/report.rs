//! 半年联合报告与驾驶舱 (R1): reads the aggregates of one jurisdiction from the store (in SQL,
//! by village), replays the period's cases on the report's day for their step and time limits,
//! and hands plain rows to `report::JointReport::compute`.
//!
//! Access: district and town users (区民政局, 区农业农村委, 镇街审核人员, 审计) over their own
//! area; another area answers `NotFound`, other roles `Forbidden`.

use crate::{Actor, App, AppError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Category, PlaceCode, PlaceLevel, Role};
use report::joint::{
    BenefitCount, CaseFact, CategoryCount, FlowCount, JointInput, PaymentCount, PlaceCount,
    ReferralCount, Source, Unit, WarningCount,
};
use report::{JointReport, ReportPeriod, Schedule};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use workflow::Step;

/// The months the dashboard's trends cover.
pub const DASHBOARD_MONTHS: u32 = 12;

/// A place a user may pick for a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaChoice {
    pub code: String,
    pub name: String,
}

/// The dashboard of one place.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub report: JointReport,
    /// From the highest place the actor sees down to this one.
    pub trail: Vec<AreaChoice>,
    /// Whether the units are places one may open in turn (towns, villages).
    pub drills_down: bool,
    /// When the figures were counted (they are cached, see `FiguresCache`).
    pub computed_at: DateTime<Utc>,
}

/// A report's figures and the time they were counted.
#[derive(Debug)]
pub struct Figures {
    pub report: JointReport,
    pub computed_at: DateTime<Utc>,
}

impl Figures {
    /// The counting time as 数据截至 shows it: `HH:MM` in China Standard Time.
    pub fn counted_at_text(&self) -> String {
        counted_at_text(self.computed_at)
    }
}

/// `at` as `HH:MM` in China Standard Time.
pub fn counted_at_text(at: DateTime<Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%H:%M")
        .to_string()
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FiguresKey {
    area: String,
    period: String,
    as_of: NaiveDate,
}

#[derive(Debug)]
struct FiguresEntry {
    created: DateTime<Utc>,
    cell: Arc<tokio::sync::OnceCell<Arc<Figures>>>,
    /// A recount of these figures is running (one at a time).
    refreshing: bool,
}

/// The dashboard's and the joint report's figures, counted once per (area, period, day) and
/// kept for `AppSettings::figures_ttl_seconds` (5 minutes by default): a page view under load
/// answers from here instead of counting the whole area again. **Invalidation rule:** an
/// entry older than its time to live is recounted in the background by the first view after
/// it, while that view and the others are shown the previous count; a new day (the day is part
/// of the key) or `App::forget_figures` counts afresh; the pages show 数据截至 HH:MM. Concurrent
/// views of a missing entry wait for one count (`OnceCell`); a count that fails is not kept.
/// `App::warm_figures` counts the district's and every town's dashboard at start-up, so that
/// no view waits for them.
#[derive(Debug, Default)]
pub(crate) struct FiguresCache {
    entries: std::sync::Mutex<HashMap<FiguresKey, FiguresEntry>>,
}

/// What a view gets from the cache.
enum Lookup {
    /// Figures being counted, or counted within their time to live: wait for the cell.
    Wait(Arc<tokio::sync::OnceCell<Arc<Figures>>>),
    /// Figures past their time to live, shown at once; `recount`: this view starts the
    /// background recount.
    Stale {
        figures: Arc<Figures>,
        recount: bool,
    },
}

/// Entries kept at most (every district, town and village with a few periods fits).
const FIGURES_KEPT: usize = 4096;

impl FiguresCache {
    fn lookup(&self, key: &FiguresKey, now: DateTime<Utc>, ttl: chrono::Duration) -> Lookup {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = |entry: &FiguresEntry| now - entry.created < ttl && entry.created <= now;
        if let Some(entry) = entries.get_mut(key) {
            if fresh(entry) {
                return Lookup::Wait(Arc::clone(&entry.cell));
            }
            if let Some(figures) = entry.cell.get() {
                let recount = !entry.refreshing;
                entry.refreshing = true;
                return Lookup::Stale {
                    figures: Arc::clone(figures),
                    recount,
                };
            }
        }
        if entries.len() >= FIGURES_KEPT {
            entries.retain(|_, entry| fresh(entry));
        }
        let cell = Arc::new(tokio::sync::OnceCell::new());
        entries.insert(
            key.clone(),
            FiguresEntry {
                created: now,
                cell: Arc::clone(&cell),
                refreshing: false,
            },
        );
        Lookup::Wait(cell)
    }

    /// A recount's result replaces the entry (or, failed, lets the next view try again).
    fn recounted(&self, key: FiguresKey, figures: Option<Arc<Figures>>) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match figures {
            Some(figures) => {
                entries.insert(
                    key,
                    FiguresEntry {
                        created: figures.computed_at,
                        cell: Arc::new(tokio::sync::OnceCell::new_with(Some(figures))),
                        refreshing: false,
                    },
                );
            }
            None => {
                if let Some(entry) = entries.get_mut(&key) {
                    entry.refreshing = false;
                }
            }
        }
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// Whether the role makes reports and sees the dashboard (district and town users).
pub fn may_report(role: Role) -> bool {
    matches!(
        role,
        Role::DistrictCivilAffairs | Role::DistrictAgriculture | Role::TownReviewer | Role::Auditor
    )
}

/// A month as the report keys it (`2026-07`).
fn month_key(first_day: NaiveDate) -> String {
    first_day.format("%Y-%m").to_string()
}

fn internal(what: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("report: {what}"))
}

impl App {
    /// The reporting periods (`policy/reports.toml`).
    pub fn report_schedule(&self) -> Result<Schedule, AppError> {
        Schedule::builtin().map_err(internal)
    }

    /// The jurisdiction a report of `actor` covers: `area` when given (inside the actor's
    /// scope, else `NotFound`), the actor's own area otherwise.
    fn report_area(
        &self,
        actor: &Actor,
        area: Option<&str>,
        lowest: PlaceLevel,
    ) -> Result<PlaceCode, AppError> {
        if !may_report(actor.role) {
            return Err(AppError::Forbidden);
        }
        let area = match area.map(str::trim).filter(|text| !text.is_empty()) {
            None => actor.scope(),
            Some(text) => PlaceCode::parse(text).map_err(|error| {
                AppError::invalid("area", format!("区划代码“{text}”无效：{error}"))
            })?,
        };
        if !actor.covers(&area) {
            return Err(AppError::NotFound);
        }
        if area.level() > lowest {
            return Err(AppError::invalid(
                "area",
                if lowest == PlaceLevel::Town {
                    "联合报告按区县或镇街生成，请选择区县或镇街"
                } else {
                    "驾驶舱按区县、镇街或村社查看"
                },
            ));
        }
        Ok(area)
    }

    /// The places a user may pick: their own area and, for a district user, its towns.
    pub async fn report_areas(&self, actor: &Actor) -> Result<Vec<AreaChoice>, AppError> {
        if !may_report(actor.role) {
            return Err(AppError::Forbidden);
        }
        let scope = actor.scope();
        let mut conn = self.store.read().await?;
        let mut choices = vec![AreaChoice {
            code: scope.as_str().to_owned(),
            name: store::places::full_name(&mut conn, &scope).await?,
        }];
        if scope.level() == PlaceLevel::District {
            for town in store::places::under(&mut conn, &scope, PlaceLevel::Town).await? {
                choices.push(AreaChoice {
                    code: town.code.as_str().to_owned(),
                    name: town.name,
                });
            }
        }
        Ok(choices)
    }

    /// 半年联合报告: the figures of `area` (district or town; the actor's own by default) for
    /// the period named like `2026H2`, counted up to the period's end or today while it runs.
    pub async fn joint_report(
        &self,
        actor: &Actor,
        period: &str,
        area: Option<&str>,
    ) -> Result<JointReport, AppError> {
        Ok(self
            .joint_report_figures(actor, period, area)
            .await?
            .report
            .clone())
    }

    /// The joint report as `joint_report` gives it, with the time its figures were counted
    /// (they are cached, see `FiguresCache`).
    pub async fn joint_report_figures(
        &self,
        actor: &Actor,
        period: &str,
        area: Option<&str>,
    ) -> Result<Arc<Figures>, AppError> {
        let area = self.report_area(actor, area, PlaceLevel::Town)?;
        // 统计期 comes from a query parameter: a period that is not one is a bad query (400).
        domain::input::period("period", "统计期", period).map_err(AppError::bad_query)?;
        let period = self.report_schedule()?.period(period).map_err(|error| {
            AppError::bad_query(domain::InputError::new(
                "period",
                "统计期",
                error.to_string(),
            ))
        })?;
        self.figures(&area, period).await
    }

    /// 驾驶舱: the same figures over the last twelve months, for a district, town or village,
    /// with the way back up (district → town → village, as far as the actor's area reaches).
    pub async fn dashboard(
        &self,
        actor: &Actor,
        area: Option<&str>,
    ) -> Result<Dashboard, AppError> {
        let area = self.report_area(actor, area, PlaceLevel::Village)?;
        let period = ReportPeriod::months_to(self.today(), DASHBOARD_MONTHS);
        let figures = self.figures(&area, period).await?;
        let mut trail = Vec::new();
        let mut conn = self.store.read().await?;
        let mut place = Some(area.clone());
        while let Some(code) = place {
            if !actor.covers(&code) {
                break;
            }
            let name = store::places::get(&mut conn, &code)
                .await?
                .map_or_else(|| code.as_str().to_owned(), |row| row.name);
            trail.push(AreaChoice {
                code: code.as_str().to_owned(),
                name,
            });
            place = code.parent();
        }
        trail.reverse();
        Ok(Dashboard {
            drills_down: area.level() < PlaceLevel::Village,
            report: figures.report.clone(),
            computed_at: figures.computed_at,
            trail,
        })
    }

    /// The figures of `area` for `period`, from the cache when computed less than
    /// `AppSettings::figures_ttl_seconds` ago (see `FiguresCache`).
    async fn figures(
        &self,
        area: &PlaceCode,
        period: ReportPeriod,
    ) -> Result<Arc<Figures>, AppError> {
        let now = self.now();
        let key = FiguresKey {
            area: area.as_str().to_owned(),
            period: format!("{}..{}", period.start, period.end),
            as_of: period.as_of(self.today()),
        };
        let ttl = chrono::Duration::seconds(self.settings.figures_ttl_seconds);
        let cell = match self.figures_cache.lookup(&key, now, ttl) {
            Lookup::Wait(cell) => cell,
            Lookup::Stale { figures, recount } => {
                if recount {
                    let app = self.clone();
                    let area = area.clone();
                    tokio::spawn(async move {
                        let now = app.now();
                        let figures = match app.compute_figures(&area, period).await {
                            Ok(report) => Some(Arc::new(Figures {
                                report,
                                computed_at: now,
                            })),
                            Err(error) => {
                                tracing::warn!(area = %area.as_str(), "recounting figures: {}", error.message());
                                None
                            }
                        };
                        app.figures_cache.recounted(key, figures);
                    });
                }
                return Ok(figures);
            }
        };
        let figures = cell
            .get_or_try_init(|| async {
                let report = self.compute_figures(area, period).await?;
                Ok::<_, AppError>(Arc::new(Figures {
                    report,
                    computed_at: now,
                }))
            })
            .await?;
        Ok(Arc::clone(figures))
    }

    /// Counts the figures of the district and of every town for the dashboard and for the
    /// current report period (at start-up, in the background), so that no view of theirs
    /// waits for a count; returns how many areas.
    pub async fn warm_figures(&self) -> Result<usize, AppError> {
        let areas = {
            let mut conn = self.store.read().await?;
            let mut areas = store::places::of_level(&mut conn, PlaceLevel::District).await?;
            areas.extend(store::places::of_level(&mut conn, PlaceLevel::Town).await?);
            areas
        };
        let today = self.today();
        let periods = [
            ReportPeriod::months_to(today, DASHBOARD_MONTHS),
            self.report_schedule()?.current(today),
        ];
        for place in &areas {
            for period in &periods {
                self.figures(&place.code, period.clone()).await?;
            }
        }
        Ok(areas.len())
    }

    /// The minutes figures are kept before they are counted again (shown on the pages).
    pub fn figures_kept_minutes(&self) -> i64 {
        (self.settings.figures_ttl_seconds + 59) / 60
    }

    /// Forgets every cached figure, so that the next view counts afresh (after a bulk load in
    /// this process, and in tests).
    pub fn forget_figures(&self) {
        self.figures_cache.clear();
    }

    async fn compute_figures(
        &self,
        area: &PlaceCode,
        period: ReportPeriod,
    ) -> Result<JointReport, AppError> {
        let today = self.today();
        let as_of = period.as_of(today);
        let months = period.months(as_of);
        let (units, area_name, unit_label) = {
            let mut conn = self.store.read().await?;
            let area_name = store::places::full_name(&mut conn, area).await?;
            let (level, label) = match area.level() {
                PlaceLevel::District => (Some(PlaceLevel::Town), "镇街"),
                PlaceLevel::Town => (Some(PlaceLevel::Village), "村社"),
                _ => (None, "村社"),
            };
            let units: Vec<Unit> = match level {
                Some(level) => store::places::under(&mut conn, area, level)
                    .await?
                    .into_iter()
                    .map(|place| Unit {
                        code: place.code.as_str().to_owned(),
                        name: place.name,
                    })
                    .collect(),
                None => vec![Unit {
                    code: area.as_str().to_owned(),
                    name: store::places::get(&mut conn, area)
                        .await?
                        .map_or_else(|| area.as_str().to_owned(), |place| place.name),
                }],
            };
            (units, area_name, label.to_owned())
        };
        let prefix = area.as_str();
        let day = as_of.to_string();
        let from = period.start.to_string();
        let month_texts: Vec<(String, String, String)> = months
            .iter()
            .map(|month| {
                (
                    month.key(),
                    month.first_day().to_string(),
                    month.last_day().min(as_of).to_string(),
                )
            })
            .collect();
        // Independent reads, each on its own pooled connection, run at the same time.
        let store = &self.store;
        let registry = async {
            let mut conn = store.read().await?;
            store::report::registry_by_village(&mut conn, prefix, &day).await
        };
        let categories = async {
            let mut conn = store.read().await?;
            store::report::categories_by_village(&mut conn, prefix, &day).await
        };
        let flows = async {
            let mut conn = store.read().await?;
            let entries = store::report::entries_by_month(&mut conn, prefix, &from, &day).await?;
            let exits = store::report::exits_by_month(&mut conn, prefix, &from, &day).await?;
            Ok::<_, store::StoreError>((entries, exits))
        };
        let benefits = async {
            let mut conn = store.read().await?;
            let spans: Vec<store::report::MonthSpan<'_>> = month_texts
                .iter()
                .map(|(key, first, last)| store::report::MonthSpan { key, first, last })
                .collect();
            store::report::benefits_by_month(&mut conn, prefix, &spans).await
        };
        let cases = async {
            let mut conn = store.read().await?;
            store::report::cases_in_period(&mut conn, prefix, &from, &day).await
        };
        let warnings = async {
            let mut conn = store.read().await?;
            let counts = store::report::warnings_by_village(&mut conn, prefix, &from, &day).await?;
            let open = store::report::warnings_open_on(&mut conn, prefix, &day).await?;
            Ok::<_, store::StoreError>((counts, open))
        };
        let referrals = async {
            let mut conn = store.read().await?;
            let referrals =
                store::report::referrals_by_village(&mut conn, prefix, &from, &day).await?;
            let payments = store::report::payments_by_month(&mut conn, prefix, &from, &day).await?;
            Ok::<_, store::StoreError>((referrals, payments))
        };
        let (
            registry,
            categories,
            (entries, exits),
            benefits,
            cases,
            (warnings, open_warnings),
            (referrals, payments),
        ) = tokio::try_join!(
            registry, categories, flows, benefits, cases, warnings, referrals
        )?;
        // Items by their catalogue names (the code when an item has left the catalogue).
        let item_names: BTreeMap<domain::ItemCode, String> =
            if referrals.is_empty() && payments.is_empty() {
                BTreeMap::new()
            } else {
                let (catalogue, _) = self.assist_catalogue().await?;
                referrals
                    .iter()
                    .map(|row| row.item.clone())
                    .chain(payments.iter().map(|row| row.item.clone()))
                    .map(|code| {
                        let name = catalogue
                            .item(code.as_str())
                            .map_or_else(|| code.to_string(), |item| item.name.clone());
                        (code, name)
                    })
                    .collect()
            };
        let item_name = |code: &domain::ItemCode| {
            item_names
                .get(code)
                .cloned()
                .unwrap_or_else(|| code.to_string())
        };

        let registry = registry
            .into_iter()
            .map(|row| PlaceCount {
                place: row.place.as_str().to_owned(),
                households: row.households,
                persons: row.persons,
            })
            .collect();
        let categories = categories
            .into_iter()
            .map(|row| {
                Ok(CategoryCount {
                    category: row.category,
                    place: row.place.as_str().to_owned(),
                    households: row.households,
                    persons: row.persons,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let mut flows: BTreeMap<(String, String, Category), FlowCount> = BTreeMap::new();
        for (row, is_entry) in entries
            .into_iter()
            .map(|row| (row, true))
            .chain(exits.into_iter().map(|row| (row, false)))
        {
            let (month, place) = (month_key(row.month), row.place.as_str().to_owned());
            let flow = flows
                .entry((month.clone(), place.clone(), row.category))
                .or_insert(FlowCount {
                    month,
                    place,
                    category: row.category,
                    entries: 0,
                    exits: 0,
                });
            if is_entry {
                flow.entries += row.households;
            } else {
                flow.exits += row.households;
            }
        }
        let benefits = benefits
            .into_iter()
            .map(|row| {
                Ok(BenefitCount {
                    category: row.category,
                    month: month_key(row.month),
                    place: row.place.as_str().to_owned(),
                    fen: row.fen,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let cases = self.case_facts(&cases, &period, as_of)?;
        let mut warnings: BTreeMap<(String, String), WarningCount> = warnings
            .into_iter()
            .map(|row| {
                let place = row.place.as_str().to_owned();
                let count = WarningCount {
                    kind: row.kind.label().to_owned(),
                    place: place.clone(),
                    raised: row.raised,
                    closed: row.closed,
                    overdue: 0,
                };
                ((place, row.kind.code().to_owned()), count)
            })
            .collect();
        // Overdue on the report's day by the due date the warning had then, not its current one.
        let (catalogue, calendar) = (self.catalogue()?, self.calendar()?);
        for row in open_warnings {
            let due = crate::warnings::due_on_day(&catalogue, &calendar, row.created_on, row.last)?;
            if due.is_some_and(|due| due < as_of) {
                let place = row.place.as_str().to_owned();
                warnings
                    .entry((place.clone(), row.kind.code().to_owned()))
                    .or_insert_with(|| WarningCount {
                        kind: row.kind.label().to_owned(),
                        place,
                        raised: 0,
                        closed: 0,
                        overdue: 0,
                    })
                    .overdue += 1;
            }
        }

        let input = JointInput {
            area_code: area.as_str().to_owned(),
            area_name,
            unit_label,
            units,
            period,
            as_of,
            generated_on: today,
            registry,
            categories,
            flows: flows.into_values().collect(),
            benefits,
            cases,
            warnings: Source::Connected(warnings.into_values().collect()),
            referrals: Source::Connected(
                referrals
                    .iter()
                    .map(|row| ReferralCount {
                        place: row.place.as_str().to_owned(),
                        item: item_name(&row.item),
                        referred: row.referred,
                        delivered: row.delivered,
                        declined: row.declined,
                        pending: row.pending,
                        fen: row.fen,
                    })
                    .collect(),
            ),
            payments: Source::Connected(
                payments
                    .iter()
                    .map(|row| PaymentCount {
                        month: month_key(row.month),
                        item: item_name(&row.item),
                        fen: row.fen,
                    })
                    .collect(),
            ),
        };
        Ok(JointReport::compute(&input))
    }

    /// Each case as it stood on `as_of` (its history up to that day replayed), with its time
    /// limits on the working-day calendar.
    fn case_facts(
        &self,
        cases: &[(store::cases::CaseRow, Vec<store::cases::CaseEventRow>)],
        period: &ReportPeriod,
        as_of: NaiveDate,
    ) -> Result<Vec<CaseFact>, AppError> {
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        let calendar = self.calendar()?;
        let params = self.deadline_params(as_of)?;
        let in_period = |date: NaiveDate| period.start <= date && date <= as_of;
        let mut facts = Vec::with_capacity(cases.len());
        for (row, events) in cases {
            let upto: Vec<store::cases::CaseEventRow> = events
                .iter()
                .filter(|event| event.on_date <= as_of)
                .cloned()
                .collect();
            if upto.is_empty() {
                continue;
            }
            let case = crate::cases::replay(row.id, &upto)?;
            let step = case.step();
            let open = !step.is_final();
            let overdue = open
                && workflow::deadlines(&case, as_of, &calendar, &params)
                    .iter()
                    .any(|deadline| deadline.due_on < as_of);
            facts.push(CaseFact {
                place: row.area_code.as_str().to_owned(),
                step: step.label().to_owned(),
                step_order: Step::ALL
                    .iter()
                    .position(|s| *s == step)
                    .unwrap_or_default(),
                received: in_period(case.received_on()),
                closed: !open && in_period(case.step_since()),
                open,
                overdue,
            });
        }
        Ok(facts)
    }
}
