//! R1: the joint report's figures against an independent recount. The store is filled with
//! generated households, dated memberships and category periods (some ending, some starting in
//! the period, some person-wide) and cases; the recount reads the raw rows with plain SELECTs
//! and tallies them household by household in Rust — a different path from the report's
//! grouped SQL. On SQLite always, and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use common::{FixedClock, date, stores};

use app::cases::NewIntake;
use app::users::{Creator, NewUser};
use app::{Actor, App, AppError, AppSettings, Clock};
use chrono::{NaiveDate, Utc};
use domain::{HouseholdNo, PlaceCode, Role};
use report::JointReport;
use report::joint::{CATEGORIES, Headcount};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use store::Store;
use workflow::{CaseKind, Channel, Consent};

async fn actor(app: &App, username: &str, role: Role, area: &str) -> Actor {
    let area = PlaceCode::parse(area).unwrap();
    let user_id = app
        .create_user(
            Creator::Console("test"),
            NewUser {
                username,
                display_name: username,
                role,
                area: &area,
                password: "correct-horse-1",
            },
        )
        .await
        .unwrap();
    Actor {
        user_id,
        username: username.to_owned(),
        display_name: username.to_owned(),
        role,
        area,
    }
}

/// A small deterministic generator (the fixture needs variety, not statistics).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const DAYS: [&str; 10] = [
    "2025-11-03",
    "2026-01-20",
    "2026-03-15",
    "2026-06-30",
    "2026-07-01",
    "2026-08-31",
    "2026-09-15",
    "2026-11-28",
    "2026-11-29",
    "2026-12-20",
];

/// The loop's steps in order (W3).
const LOOP: [&str; 5] = ["assign", "verify", "judge", "dispose", "close"];

/// The due date after the last step taken (none: to be assigned from the day raised), by the
/// catalogue's working-day limits on the built-in calendar; `None` once closed.
fn due_on_day(created: NaiveDate, last: Option<(&str, NaiveDate)>) -> Option<NaiveDate> {
    use policy::Param::*;
    let (param, since) = match last {
        None => (WarningAssignWorkingDays, created),
        Some(("assign", on)) => (WarningVerifyWorkingDays, on),
        Some(("verify", on)) => (WarningJudgeWorkingDays, on),
        Some(("judge", on)) => (WarningDisposeWorkingDays, on),
        Some(("dispose", on)) => (WarningCloseWorkingDays, on),
        Some(_) => return None,
    };
    let days = policy::Catalogue::builtin()
        .unwrap()
        .snapshot(since)
        .integer(param)
        .unwrap();
    Some(
        workflow::Calendar::builtin()
            .unwrap()
            .add_working_days(since, u32::try_from(days).unwrap()),
    )
}

struct World {
    backend: &'static str,
    app: App,
    store: Store,
    clock: Arc<FixedClock>,
    district: Actor,
    town: Actor,
    village: Actor,
    _dir: tempfile::TempDir,
}

const BACHUAN: &str = "500151001";
const YONGYUAN: &str = "500151001200";
const TUQIAO_VILLAGE: &str = "500151100201";

async fn worlds() -> Vec<World> {
    let mut worlds = Vec::new();
    for (backend, store, dir) in stores("report").await {
        let clock = Arc::new(FixedClock(Mutex::new(Utc::now())));
        clock.set(date("2025-10-01"));
        let app = App::new(store.clone(), clock.clone(), AppSettings::default());
        let places =
            domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
        app.load_places("test", &places).await.unwrap();
        let mut lines = Vec::new();
        synth::write_households_jsonl(&places, 400, 7, &mut lines).unwrap();
        // The synthetic registry is as of its reference day (2026-11-28); on the import day
        // (2025-10-01) the babies born since are not yet on it (a birth after today is refused).
        let lines: String = String::from_utf8(lines)
            .unwrap()
            .lines()
            .map(|line| {
                let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
                record["members"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|member| member["id_number"].as_str().unwrap()[6..14] <= *"20251001");
                format!("{record}\n")
            })
            .collect();
        app.import_households("test", "gen.jsonl", &lines, &|_| {})
            .await
            .unwrap();
        let district = actor(&app, "minzheng", Role::DistrictCivilAffairs, "500151").await;
        let town = actor(&app, "bachuan", Role::TownReviewer, BACHUAN).await;
        let village = actor(&app, "yongyuan", Role::VillageAssistant, YONGYUAN).await;
        vary(&store).await;
        // Every tenth household moves to another village after its periods began: the report
        // counts it (and its periods) where it lives now.
        let moved: String = lines
            .lines()
            .step_by(10)
            .map(|line| {
                let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
                let to = if record["area_code"].as_str().unwrap().starts_with(BACHUAN) {
                    TUQIAO_VILLAGE
                } else {
                    YONGYUAN
                };
                record["area_code"] = serde_json::Value::from(to);
                format!("{record}\n")
            })
            .collect();
        let summary = app
            .import_households("test", "moves.jsonl", &moved, &|_| {})
            .await
            .unwrap();
        assert_eq!(summary.updated, 40, "{summary:?}");
        worlds.push(World {
            backend,
            app,
            store,
            clock,
            district,
            town,
            village,
            _dir: dir,
        });
    }
    worlds
}

/// Dates the memberships differently and gives households category periods of every shape.
async fn vary(store: &Store) {
    let mut rng = Lcg(42);
    let mut tx = store.begin().await.unwrap();
    let memberships: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT m.id, m.household_id, m.id_number FROM memberships m ORDER BY m.id")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    for (id, _, _) in &memberships {
        match rng.next(10) {
            // Left during the second half-year, before it, or joined after the report's day.
            0 => sqlx::query("UPDATE memberships SET end_date = $1 WHERE id = $2")
                .bind(DAYS[5 + rng.next(3) as usize])
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap(),
            1 => sqlx::query("UPDATE memberships SET start_date = $1 WHERE id = $2")
                .bind(DAYS[rng.next(10) as usize])
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap(),
            _ => continue,
        };
    }
    let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (_, household, id_number) in memberships {
        members.entry(household).or_default().push(id_number);
    }
    for (household, ids) in &members {
        let n_periods = rng.next(3);
        for _ in 0..n_periods {
            let category = CATEGORIES[rng.next(CATEGORIES.len() as u64) as usize];
            let person =
                (rng.next(3) == 0).then(|| ids[rng.next(ids.len() as u64) as usize].clone());
            let start = DAYS[rng.next(9) as usize];
            let monthly = (rng.next(4) != 0).then(|| 10_000 + 100 * rng.next(9000) as i64);
            let period = store::households::open_category(
                &mut tx,
                &store::households::NewCategoryPeriod {
                    household_id: *household,
                    id_number: person.as_deref(),
                    category: category.code(),
                    monitoring_kind: None,
                    start_date: start,
                    monthly_fen: monthly,
                    reason: "测试",
                    support_mode: None,
                    care_level: None,
                },
            )
            .await
            .unwrap();
            let ends: Vec<&str> = DAYS.iter().copied().filter(|day| *day > start).collect();
            if !ends.is_empty() && rng.next(3) == 0 {
                let end = ends[rng.next(ends.len() as u64) as usize];
                store::households::close_category(&mut tx, period, end)
                    .await
                    .unwrap();
            }
        }
    }
    // Warnings at every stage: raised before or in the period, closed or not, due or late.
    let places: Vec<(String,)> = sqlx::query_as("SELECT area_code FROM households ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let kinds = [
        "contradiction",
        "name_mismatch",
        "duplicate",
        "possible_need",
    ];
    for i in 0..120 {
        let created = DAYS[rng.next(8) as usize];
        let later: Vec<&str> = DAYS.iter().copied().filter(|day| *day >= created).collect();
        // The loop's steps taken so far, on non-decreasing days; all five: closed.
        let mut days: Vec<&str> = (0..rng.next(6))
            .map(|_| later[rng.next(later.len() as u64) as usize])
            .collect();
        days.sort_unstable();
        let steps: Vec<(&str, &str)> = LOOP.iter().copied().zip(days).collect();
        let closed = (steps.len() == LOOP.len()).then(|| steps[LOOP.len() - 1].1);
        let last = steps.last().map(|(action, on)| (*action, date(on)));
        let due = due_on_day(date(created), last).unwrap_or(date(created));
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO warnings (dedupe_key, origin, rule, kind, severity, person_name, inside_net, area_code, description, state, created_on, due_on, closed_on, updated_at, version) \
             VALUES ($1, 'feed', 'test', $2, 'high', '某人', 1, $3, '测试', $4, $5, $6, $7, '2026-01-01T00:00:00Z', 1) RETURNING id",
        )
        .bind(format!("w{i}"))
        .bind(kinds[rng.next(4) as usize])
        .bind(&places[rng.next(places.len() as u64) as usize].0)
        .bind(if closed.is_some() { "closed" } else { "open" })
        .bind(created)
        .bind(due.to_string())
        .bind(closed)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        for (seq, (action, on)) in steps.iter().enumerate() {
            sqlx::query(
                "INSERT INTO warning_events (warning_id, seq, on_date, actor_user_id, actor_name, action, detail, recorded_at) \
                 VALUES ($1, $2, $3, 1, '测试', $4, '{}', '2026-01-01T00:00:00Z')",
            )
            .bind(id)
            .bind(seq as i64 + 1)
            .bind(*on)
            .bind(*action)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    // Referrals of catalogue items: sent, delivered with an amount, declined, on many days.
    let households: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, area_code FROM households ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let items = [
        "medical_assistance",
        "education_assistance",
        "housing_renovation",
    ];
    for i in 0..150 {
        let (household, area) = &households[rng.next(households.len() as u64) as usize];
        let created = DAYS[rng.next(8) as usize];
        let later: Vec<&str> = DAYS.iter().copied().filter(|day| *day >= created).collect();
        let ended = later[rng.next(later.len() as u64) as usize];
        let (state, delivered, declined, fen) = match rng.next(3) {
            0 => ("sent", None, None, None),
            1 => (
                "delivered",
                Some(ended),
                None,
                Some(10_000 * (1 + rng.next(50) as i64)),
            ),
            _ => ("declined", None, Some(ended), None),
        };
        sqlx::query(
            "INSERT INTO referrals (household_id, area_code, item_code, item_version, department, needs, reason, period, state, created_on, created_by, delivered_on, amount_fen, declined_on, updated_at, version) \
             VALUES ($1, $2, $3, 1, 'medical_security', '[]', '测试', $4, $5, $6, 'test', $7, $8, $9, '2026-01-01T00:00:00Z', 1)",
        )
        .bind(household)
        .bind(area)
        .bind(items[rng.next(3) as usize])
        .bind(format!("p{i}"))
        .bind(state)
        .bind(created)
        .bind(delivered)
        .bind(fen)
        .bind(declined)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    store::commit(tx).await.unwrap();
}

/// The recount: raw rows, tallied in Rust by the definitions of the report.
struct Recount {
    /// unit code → (registry, per category, entries, exits, benefit fen)
    units: BTreeMap<String, (Headcount, Vec<Headcount>, i64, i64, i64)>,
    /// month key → (entries, exits, benefit fen)
    months: BTreeMap<String, (i64, i64, i64)>,
    /// unit code → (warnings raised, closed, overdue)
    warnings: BTreeMap<String, (i64, i64, i64)>,
    /// unit code → (referred, delivered, declined, pending, fen)
    referrals: BTreeMap<String, (i64, i64, i64, i64, i64)>,
    /// month key → fen delivered
    payments: BTreeMap<String, i64>,
}

async fn recount(store: &Store, area: &str, unit_len: usize, start: &str, as_of: &str) -> Recount {
    let mut conn = store.read().await.unwrap();
    let households: Vec<(i64, String)> = sqlx::query_as("SELECT id, area_code FROM households")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let memberships: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT household_id, start_date, end_date FROM memberships")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    type PeriodRow = (
        i64,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<i64>,
    );
    let periods: Vec<PeriodRow> = sqlx::query_as(
        "SELECT household_id, id_number, category, start_date, end_date, monthly_fen FROM category_periods",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let open_on = |s: &str, e: &Option<String>, day: &str| {
        s <= day && e.as_deref().is_none_or(|end| end > day)
    };
    let mut persons_on: HashMap<i64, i64> = HashMap::new();
    for (household, s, e) in &memberships {
        if open_on(s, e, as_of) {
            *persons_on.entry(*household).or_default() += 1;
        }
    }
    let place: HashMap<i64, &str> = households
        .iter()
        .filter(|(_, code)| code.starts_with(area))
        .map(|(id, code)| (*id, code.as_str()))
        .collect();
    let unit_of = |id: i64| {
        place
            .get(&id)
            .map(|code| code[..unit_len.min(code.len())].to_owned())
    };
    let mut units: BTreeMap<String, (Headcount, Vec<Headcount>, i64, i64, i64)> = BTreeMap::new();
    let blank = || {
        (
            Headcount::default(),
            vec![Headcount::default(); CATEGORIES.len()],
            0,
            0,
            0,
        )
    };
    for (id, _) in &households {
        let (Some(unit), Some(n)) = (unit_of(*id), persons_on.get(id)) else {
            continue;
        };
        let entry = units.entry(unit).or_insert_with(blank);
        entry.0.households += 1;
        entry.0.persons += n;
    }
    let mut holders: HashSet<(i64, usize)> = HashSet::new();
    let mut entered: HashSet<(String, i64, usize)> = HashSet::new();
    let mut exited: HashSet<(String, i64, usize)> = HashSet::new();
    let mut months: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let first = NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap();
    let last = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    let mut month_spans = Vec::new();
    let mut day = first;
    while day <= last {
        let next = if day.format("%m").to_string() == "12" {
            NaiveDate::from_ymd_opt(
                day.format("%Y").to_string().parse::<i32>().unwrap() + 1,
                1,
                1,
            )
            .unwrap()
        } else {
            day.checked_add_months(chrono::Months::new(1)).unwrap()
        };
        let month_last = next.pred_opt().unwrap().min(last);
        month_spans.push((
            day.format("%Y-%m").to_string(),
            day.to_string(),
            month_last.to_string(),
        ));
        months.insert(day.format("%Y-%m").to_string(), (0, 0, 0));
        day = next;
    }
    for (household, person, category, s, e, monthly) in &periods {
        let Some(unit) = unit_of(*household) else {
            continue;
        };
        let c = CATEGORIES
            .iter()
            .position(|x| x.code() == category)
            .unwrap();
        let entry = units.entry(unit.clone()).or_insert_with(blank);
        if open_on(s, e, as_of) {
            if holders.insert((*household, c)) {
                entry.1[c].households += 1;
            }
            entry.1[c].persons += match person {
                None => persons_on.get(household).copied().unwrap_or(0),
                Some(_) => 1,
            };
        }
        if s.as_str() >= start
            && s.as_str() <= as_of
            && entered.insert((s[..7].to_owned(), *household, c))
        {
            entry.2 += 1;
            months.get_mut(&s[..7]).unwrap().0 += 1;
        }
        if let Some(end) = e
            && end.as_str() >= start
            && end.as_str() <= as_of
            && exited.insert((end[..7].to_owned(), *household, c))
        {
            entry.3 += 1;
            months.get_mut(&end[..7]).unwrap().1 += 1;
        }
        if let Some(fen) = monthly {
            for (key, m_first, m_last) in &month_spans {
                if s.as_str() <= m_last.as_str()
                    && e.as_deref().is_none_or(|end| end > m_first.as_str())
                {
                    entry.4 += fen;
                    months.get_mut(key).unwrap().2 += fen;
                }
            }
        }
    }
    let raw_warnings: Vec<(i64, String, String, Option<String>)> =
        sqlx::query_as("SELECT id, area_code, created_on, closed_on FROM warnings")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let raw_events: Vec<(i64, i64, String, String)> =
        sqlx::query_as("SELECT warning_id, seq, action, on_date FROM warning_events")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut warnings: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for (id, code, created, closed) in &raw_warnings {
        if !code.starts_with(area) {
            continue;
        }
        let entry = warnings.entry(code[..unit_len].to_owned()).or_default();
        // Its due date on the report's day: from the last step taken by then.
        let last = raw_events
            .iter()
            .filter(|(warning, _, _, on)| warning == id && on.as_str() <= as_of)
            .max_by_key(|(_, seq, _, _)| *seq)
            .map(|(_, _, action, on)| (action.as_str(), date(on)));
        let due = due_on_day(date(created), last).map(|day| day.to_string());
        let (created, closed) = (created.as_str(), closed.as_deref());
        if start <= created && created <= as_of {
            entry.0 += 1;
        }
        if closed.is_some_and(|day| start <= day && day <= as_of) {
            entry.1 += 1;
        }
        if created <= as_of
            && closed.is_none_or(|day| day > as_of)
            && due.is_some_and(|due| due.as_str() < as_of)
        {
            entry.2 += 1;
        }
    }
    type ReferralRaw = (String, String, Option<String>, Option<String>, Option<i64>);
    let raw_referrals: Vec<ReferralRaw> = sqlx::query_as(
        "SELECT area_code, created_on, delivered_on, declined_on, amount_fen FROM referrals",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut referrals: BTreeMap<String, (i64, i64, i64, i64, i64)> = BTreeMap::new();
    let mut payments: BTreeMap<String, i64> = BTreeMap::new();
    let within = |day: Option<&str>| day.is_some_and(|day| start <= day && day <= as_of);
    for (code, created, delivered, declined, fen) in &raw_referrals {
        let (created, delivered, declined) =
            (created.as_str(), delivered.as_deref(), declined.as_deref());
        // Made after the day, or finished before the period: not in this report.
        if !code.starts_with(area)
            || created > as_of
            || delivered.is_some_and(|d| d < start)
            || declined.is_some_and(|d| d < start)
        {
            continue;
        }
        let entry = referrals.entry(code[..unit_len].to_owned()).or_default();
        entry.0 += i64::from(start <= created);
        if within(delivered) {
            entry.1 += 1;
            entry.4 += fen.unwrap_or(0);
            *payments
                .entry(delivered.unwrap_or_default()[..7].to_owned())
                .or_default() += fen.unwrap_or(0);
        }
        entry.2 += i64::from(within(declined));
        entry.3 +=
            i64::from(delivered.is_none_or(|d| d > as_of) && declined.is_none_or(|d| d > as_of));
    }
    Recount {
        units,
        months,
        warnings,
        referrals,
        payments,
    }
}

fn check(report: &JointReport, recount: &Recount, what: &str) {
    let mut total = (
        Headcount::default(),
        vec![Headcount::default(); CATEGORIES.len()],
        0,
        0,
        0,
    );
    for unit in &report.units {
        let expected = recount.units.get(&unit.code).cloned().unwrap_or((
            Headcount::default(),
            vec![Headcount::default(); CATEGORIES.len()],
            0,
            0,
            0,
        ));
        assert_eq!(unit.registry, expected.0, "{what} {} registry", unit.name);
        for (c, category) in CATEGORIES.iter().enumerate() {
            assert_eq!(
                unit.by_category[c], expected.1[c],
                "{what} {} {category:?}",
                unit.name
            );
        }
        assert_eq!(
            (unit.entries, unit.exits),
            (expected.2, expected.3),
            "{what} {} flows",
            unit.name
        );
        assert_eq!(
            unit.benefit_fen, expected.4,
            "{what} {} benefits",
            unit.name
        );
    }
    for expected in recount.units.values() {
        total.0.households += expected.0.households;
        total.0.persons += expected.0.persons;
        for c in 0..CATEGORIES.len() {
            total.1[c].households += expected.1[c].households;
            total.1[c].persons += expected.1[c].persons;
        }
        total.2 += expected.2;
        total.3 += expected.3;
        total.4 += expected.4;
    }
    assert_eq!(report.total.registry, total.0, "{what} total");
    assert_eq!(
        report.total.by_category, total.1,
        "{what} total by category"
    );
    assert_eq!(
        (
            report.total.entries,
            report.total.exits,
            report.total.benefit_fen
        ),
        (total.2, total.3, total.4),
        "{what}"
    );
    let mut warnings_total = (0, 0, 0);
    for unit in &report.units {
        let expected = recount
            .warnings
            .get(&unit.code)
            .copied()
            .unwrap_or_default();
        assert_eq!(
            (
                unit.warnings_raised,
                unit.warnings_closed,
                unit.warnings_overdue
            ),
            expected,
            "{what} {} warnings",
            unit.name
        );
        warnings_total.0 += expected.0;
        warnings_total.1 += expected.1;
        warnings_total.2 += expected.2;
    }
    let mut referred_total = 0;
    for unit in &report.units {
        let expected = recount
            .referrals
            .get(&unit.code)
            .copied()
            .unwrap_or_default();
        assert_eq!(
            (unit.referrals, unit.referrals_delivered, unit.referral_fen),
            (expected.0, expected.1, expected.4),
            "{what} {} referrals",
            unit.name
        );
        referred_total += expected.0;
    }
    let items = report.referrals.as_ref().unwrap();
    let summed: (i64, i64, i64, i64, i64) = items.iter().fold((0, 0, 0, 0, 0), |t, i| {
        (
            t.0 + i.referred,
            t.1 + i.delivered,
            t.2 + i.declined,
            t.3 + i.pending,
            t.4 + i.fen,
        )
    });
    let expected = recount.referrals.values().fold((0, 0, 0, 0, 0), |t, r| {
        (t.0 + r.0, t.1 + r.1, t.2 + r.2, t.3 + r.3, t.4 + r.4)
    });
    assert_eq!(summed, expected, "{what} referrals by item");
    assert_eq!(summed.0, referred_total);
    let paid: BTreeMap<String, i64> = report
        .months
        .iter()
        .filter(|m| m.payment_fen != 0)
        .map(|m| (m.key.clone(), m.payment_fen))
        .collect();
    assert_eq!(paid, recount.payments, "{what} payments by month");
    let by_kind = report.warnings.as_ref().unwrap();
    let summed = by_kind.iter().fold((0, 0, 0), |t, k| {
        (t.0 + k.raised, t.1 + k.closed, t.2 + k.overdue)
    });
    assert_eq!(summed, warnings_total, "{what} warnings by kind");
    let months: Vec<(String, (i64, i64, i64))> = report
        .months
        .iter()
        .map(|m| {
            (
                m.key.clone(),
                (m.entries_total, m.exits_total, m.benefit_total_fen),
            )
        })
        .collect();
    let expected: Vec<(String, (i64, i64, i64))> = recount.months.clone().into_iter().collect();
    assert_eq!(months, expected, "{what} months");
    // The fixture exercises every part (a report of zeros would prove nothing).
    assert!(
        total.0.persons > 0 && total.2 > 0 && total.3 > 0 && total.4 > 0,
        "{what}: {total:?}"
    );
    if report.unit_label == "镇街" {
        assert!(
            total.1.iter().all(|c| c.households > 0),
            "{what}: {total:?}"
        );
    }
}

#[tokio::test]
async fn r1_report_figures_match_an_independent_recount() {
    for world in worlds().await {
        let backend = world.backend;
        world.clock.set(date("2026-11-28"));
        // The running half-year counts to today; the past one to its last day.
        let h2 = world
            .app
            .joint_report(&world.district, "2026H2", None)
            .await
            .unwrap();
        assert_eq!(h2.as_of, date("2026-11-28"));
        assert_eq!(h2.due, Some(date("2026-11-30")));
        assert_eq!(h2.units.len(), 28, "{backend}: the district's towns");
        check(
            &h2,
            &recount(&world.store, "500151", 9, "2026-07-01", "2026-11-28").await,
            &format!("{backend} district H2"),
        );
        let h1 = world
            .app
            .joint_report(&world.district, "2026H1", Some("500151"))
            .await
            .unwrap();
        assert_eq!(h1.as_of, date("2026-06-30"));
        check(
            &h1,
            &recount(&world.store, "500151", 9, "2026-01-01", "2026-06-30").await,
            &format!("{backend} district H1"),
        );
        // A town's report is by village, and the town reviewer gets the same figures.
        let town = world
            .app
            .joint_report(&world.town, "2026H2", None)
            .await
            .unwrap();
        assert_eq!(town.unit_label, "村社");
        assert!(
            town.units
                .iter()
                .all(|u| u.code.starts_with(BACHUAN) && u.code.len() == 12)
        );
        check(
            &town,
            &recount(&world.store, BACHUAN, 12, "2026-07-01", "2026-11-28").await,
            &format!("{backend} town H2"),
        );
        let same = world
            .app
            .joint_report(&world.district, "2026H2", Some(BACHUAN))
            .await
            .unwrap();
        assert_eq!(same, town, "{backend}");
        let bachuan = h2.units.iter().find(|u| u.code == BACHUAN).unwrap();
        assert_eq!(bachuan.registry, town.total.registry, "{backend}");
        assert_eq!(bachuan.by_category, town.total.by_category, "{backend}");
        // Warnings are counted by kind with Chinese names; unwired sources say so.
        let kinds: Vec<&str> = h2
            .warnings
            .as_ref()
            .unwrap()
            .iter()
            .map(|k| k.kind.as_str())
            .collect();
        assert!(
            kinds.contains(&"重复享受") && kinds.contains(&"主动发现（可能困难）"),
            "{kinds:?}"
        );
        assert!(
            h2.total.warnings_raised > 0
                && h2.total.warnings_closed > 0
                && h2.total.warnings_overdue > 0
        );
    }
}

fn intake(household_id: &str, area: &str, on: NaiveDate) -> NewIntake {
    NewIntake {
        kind: CaseKind::Application,
        channel: Channel::VillageWindow,
        household_no: HouseholdNo::parse(household_id).unwrap(),
        area: PlaceCode::parse(area).unwrap(),
        applicant: "韩一".to_owned(),
        consent: Some(Consent {
            signed_on: on,
            signer: "韩一".to_owned(),
        }),
        summary: "因病致贫，申请救助".to_owned(),
    }
}

#[tokio::test]
async fn r1_cases_by_step_and_overdue_on_the_report_day() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        // Received 25 September: the town review (15 working days) is due 22 October.
        world.clock.set(date("2026-09-25"));
        app.open_case(
            &world.village,
            intake("YY-9001", YONGYUAN, date("2026-09-25")),
        )
        .await
        .unwrap();
        // Received 20 November: not yet due on the 28th.
        world.clock.set(date("2026-11-20"));
        app.open_case(
            &world.village,
            intake("YY-9002", YONGYUAN, date("2026-11-20")),
        )
        .await
        .unwrap();
        // Received in the first half-year, still open: counted as in progress, not as received.
        world.clock.set(date("2026-06-01"));
        let other = actor(app, "guangqiao", Role::VillageAssistant, TUQIAO_VILLAGE).await;
        app.open_case(
            &other,
            intake("GQ-9003", TUQIAO_VILLAGE, date("2026-06-01")),
        )
        .await
        .unwrap();
        world.clock.set(date("2026-11-28"));
        let report = app
            .joint_report(&world.district, "2026H2", None)
            .await
            .unwrap();
        assert_eq!(
            (
                report.total.cases_received,
                report.total.cases_open,
                report.total.cases_overdue,
                report.total.cases_closed
            ),
            (2, 3, 2, 0),
            "{backend}"
        );
        let bachuan = report.units.iter().find(|u| u.code == BACHUAN).unwrap();
        assert_eq!(
            (
                bachuan.cases_received,
                bachuan.cases_open,
                bachuan.cases_overdue
            ),
            (2, 2, 1),
            "{backend}"
        );
        assert_eq!(report.steps.len(), 1);
        assert_eq!(
            (
                report.steps[0].step.as_str(),
                report.steps[0].cases,
                report.steps[0].overdue
            ),
            ("受理", 3, 2)
        );
        // On 21 October (the first half of the window) nothing was late yet in 巴川; the H1
        // report sees only the case received then, in progress and within its limit on 30 June?
        let h1 = app
            .joint_report(&world.district, "2026H1", None)
            .await
            .unwrap();
        assert_eq!(
            (h1.total.cases_received, h1.total.cases_open),
            (1, 1),
            "{backend}"
        );
        assert_eq!(
            h1.total.cases_overdue, 1,
            "{backend}: due 22 June, late on 30 June"
        );
        // The town reviewer's report holds its own cases only.
        let town = app.joint_report(&world.town, "2026H2", None).await.unwrap();
        assert_eq!(
            (town.total.cases_open, town.total.cases_overdue),
            (2, 1),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn r1_reports_are_for_district_and_town_users_over_their_own_area() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        world.clock.set(date("2026-11-28"));
        // Another town: as if it did not exist.
        assert!(
            matches!(
                app.joint_report(&world.town, "2026H2", Some("500151100"))
                    .await,
                Err(AppError::NotFound)
            ),
            "{backend}"
        );
        assert!(matches!(
            app.dashboard(&world.town, Some("500151")).await,
            Err(AppError::NotFound)
        ));
        // Village users and departments make no report.
        for (name, role, area) in [
            ("cunshe2", Role::VillageAssistant, YONGYUAN),
            ("wangge2", Role::GridWorker, "500151001200001"),
            ("bumen2", Role::Department, "500151"),
            ("admin2", Role::Admin, "500151"),
        ] {
            let user = actor(app, name, role, area).await;
            assert!(
                matches!(
                    app.joint_report(&user, "2026H2", None).await,
                    Err(AppError::Forbidden)
                ),
                "{backend} {name}"
            );
            assert!(
                matches!(app.dashboard(&user, None).await, Err(AppError::Forbidden)),
                "{backend} {name}"
            );
        }
        // A report is by district or town; the dashboard drills down to a village.
        let error = app
            .joint_report(&world.town, "2026H2", Some(YONGYUAN))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "invalid_input", "{backend}");
        let error = app
            .joint_report(&world.town, "2026Q3", None)
            .await
            .unwrap_err();
        assert!(
            error.message().contains("报告期“2026Q3”无效"),
            "{}",
            error.message()
        );
        let village = app.dashboard(&world.town, Some(YONGYUAN)).await.unwrap();
        assert_eq!(village.report.units.len(), 1);
        assert_eq!(village.report.months.len(), 12);
        assert!(!village.drills_down);
        let trail: Vec<&str> = village.trail.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            trail,
            [BACHUAN, YONGYUAN],
            "{backend}: a town user's trail starts at the town"
        );
        let district = app
            .dashboard(&world.district, Some(YONGYUAN))
            .await
            .unwrap();
        assert_eq!(district.trail.len(), 3);
        assert_eq!(district.trail[0].name, "铜梁区");
        let top = app.dashboard(&world.district, None).await.unwrap();
        assert!(top.drills_down && top.report.units.len() == 28);
        let choices = app.report_areas(&world.district).await.unwrap();
        assert_eq!(choices.len(), 29, "the district and its towns");
        let choices = app.report_areas(&world.town).await.unwrap();
        assert_eq!(choices.len(), 1);
        assert_eq!(choices[0].code, BACHUAN);
    }
}

#[tokio::test]
async fn r1_figures_past_their_time_are_shown_at_once_while_one_recount_runs() {
    for world in worlds().await {
        let (backend, app) = (world.backend, &world.app);
        assert_eq!(
            app.warm_figures().await.unwrap(),
            29,
            "{backend}: the district and its towns"
        );
        let first = app.dashboard(&world.district, None).await.unwrap();
        let counted = first.computed_at;
        assert_eq!(
            counted,
            world.clock.now(),
            "{backend}: counted by the warm-up"
        );
        let later = |minutes: i64| {
            *world.clock.0.lock().unwrap() = counted + chrono::Duration::minutes(minutes)
        };
        later(4);
        assert_eq!(
            app.dashboard(&world.district, None)
                .await
                .unwrap()
                .computed_at,
            counted,
            "{backend}"
        );
        // Past the time to live: the previous count at once, and a recount behind it.
        later(6);
        assert_eq!(
            app.dashboard(&world.district, None)
                .await
                .unwrap()
                .computed_at,
            counted,
            "{backend}"
        );
        let mut recounted = None;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let shown = app
                .dashboard(&world.district, None)
                .await
                .unwrap()
                .computed_at;
            if shown != counted {
                recounted = Some(shown);
                break;
            }
        }
        assert_eq!(
            recounted,
            Some(world.clock.now()),
            "{backend}: the recount replaced it"
        );
        assert_eq!(
            app.dashboard(&world.district, None)
                .await
                .unwrap()
                .report
                .units
                .len(),
            first.report.units.len(),
            "{backend}"
        );
    }
}
