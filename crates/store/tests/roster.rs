//! 名册查询 (issue 13 item 5): who was in category C on date D within an area, as keyset pages
//! read from the roster index (migration 0034), none repeated or lost, with the 特困 period's
//! 供养方式 and 照料护理等级; on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use store::Store;
use store::households::{self, NewCategoryPeriod};
use store::roster::{self, RosterCursor, RosterFilter};

/// The seeded district, seeded once per test process and per store.
static SEEDED: testkit::Seeded = testkit::Seeded::new("roster");

/// A copy of the seeded district on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    SEEDED
        .stores(|store| async move { seed(&store, &villages()).await })
        .await
}

/// One village in each of ten towns.
fn villages() -> Vec<String> {
    (0..10)
        .map(|town| format!("500151{}201", 100 + town))
        .collect()
}

async fn exec(conn: &mut store::Conn, sql: String) {
    sqlx::Executor::execute(&mut *conn, sqlx::AssertSqlSafe(sql))
        .await
        .unwrap();
}

const CATEGORIES: [&str; 7] = [
    "dibao",
    "tekun",
    "dibao_edge",
    "rigid_expenditure",
    "monitoring",
    "other_needy",
    "dibao_single",
];
const HOUSEHOLDS: usize = 200;
const PERIODS: usize = 7_000;

/// Period `n`: its household, category and dates (every third ended on 2026-01-01).
fn period(n: usize) -> (usize, &'static str, String, Option<&'static str>) {
    let household = n % HOUSEHOLDS + 1;
    let category = CATEGORIES[n % CATEGORIES.len()];
    let start = format!("20{:02}-{:02}-01", 20 + n % 6, 1 + n % 12);
    let end = n.is_multiple_of(3).then_some("2026-01-01");
    (household, category, start, end)
}

/// A district of ten towns of one village each, `HOUSEHOLDS` households and `PERIODS` periods
/// (period `n` gets id `n + 1`: the rows are inserted in order into an empty table).
async fn seed(store: &Store, villages: &[String]) {
    let mut tx = store.begin().await.unwrap();
    exec(
        &mut tx,
        "INSERT INTO places (code, name, level, parent) VALUES ('500151', '区', 'district', NULL)"
            .to_owned(),
    )
    .await;
    for (n, village) in villages.iter().enumerate() {
        let town = &village[..9];
        exec(&mut tx, format!(
            "INSERT INTO places (code, name, level, parent) VALUES ('{town}', '镇{n}', 'town', '500151'), ('{village}', '村{n}', 'village', '{town}')"
        ))
        .await;
    }
    let households: Vec<String> = (1..=HOUSEHOLDS)
        .map(|id| {
            format!(
                "({id}, 'H{id}', '{village}', 'rural', '户主{id}', '5001511990010100{id:02}', 2, '{{}}', 1, 't', 't')",
                village = villages[id % villages.len()]
            )
        })
        .collect();
    exec(&mut tx, format!(
        "INSERT INTO households (id, external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at) VALUES {}",
        households.join(", ")
    ))
    .await;
    for chunk in (0..PERIODS).collect::<Vec<_>>().chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&n| {
                let (household, category, start, end) = period(n);
                format!(
                    "({household}, '{area}', '{category}', '{start}', {end}, 100000, '测试')",
                    area = villages[household % villages.len()],
                    end = end.map_or("NULL".to_owned(), |end| format!("'{end}'")),
                )
            })
            .collect();
        exec(&mut tx, format!(
            "INSERT INTO category_periods (household_id, area_code, category, start_date, end_date, monthly_fen, reason) VALUES {}",
            rows.join(", ")
        ))
        .await;
    }
    store::commit(tx).await.unwrap();
    testkit::refresh_statistics(store).await;
}

/// The periods of `category` open on `date` under `prefix`, as (area code, id), in page order.
fn expected(villages: &[String], category: &str, date: &str, prefix: &str) -> Vec<(String, i64)> {
    let mut lines: Vec<(String, i64)> = (0..PERIODS)
        .filter_map(|n| {
            let (household, cat, start, end) = period(n);
            let area = &villages[household % villages.len()];
            (cat == category
                && start.as_str() <= date
                && end.is_none_or(|end| end > date)
                && area.starts_with(prefix))
            .then(|| (area.clone(), n as i64 + 1))
        })
        .collect();
    lines.sort();
    lines
}

/// A plan line that reads category periods without an index.
fn scans_periods(plan: &[String]) -> bool {
    plan.iter().any(|line| {
        let line = line.trim_start_matches(['|', '-', '`', ' ']);
        line.contains("Seq Scan on category_periods")
            || (line.starts_with("SCAN category_periods") && !line.contains(" USING "))
            || line == "SCAN c"
    })
}

#[tokio::test]
async fn issue13_every_roster_statement_reads_the_roster_index() {
    let villages = villages();
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // Every statement, for the district, a town and a village, first page and after a
        // cursor, reads the roster index and never walks the periods.
        let cursor = RosterCursor {
            area_code: domain::PlaceCode::parse(&villages[3]).unwrap(),
            period_id: 2_000,
        };
        for area_prefix in ["500151", "500151103", "500151103201"] {
            for after in [None, Some(&cursor)] {
                let filter = RosterFilter {
                    category: "tekun",
                    date: "2025-06-30",
                    area_prefix,
                    after,
                    limit: 50,
                };
                for statement in roster::roster_statements(&filter) {
                    let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                    assert!(
                        !scans_periods(&plan)
                            && plan
                                .iter()
                                .any(|line| line.contains("category_periods_roster")),
                        "{backend}: {filter:?}:\n{}\n{}",
                        statement.sql,
                        plan.join("\n")
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn issue13_the_roster_on_a_date_is_keyset_pages_none_twice_none_lost() {
    let villages = villages();
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // Page by page: in (area, id) order, none twice, none lost; the total on the first page.
        for (category, date, prefix) in [
            ("dibao", "2025-06-30", "500151"),
            ("tekun", "2026-03-01", "500151104"),
            ("dibao_edge", "2020-01-01", "500151105201"),
            ("tekun", "2019-12-31", "500151"),
        ] {
            let want = expected(&villages, category, date, prefix);
            let mut seen = Vec::new();
            let mut after: Option<RosterCursor> = None;
            let mut first = true;
            loop {
                let page = roster::roster_page(
                    &mut conn,
                    &RosterFilter {
                        category,
                        date,
                        area_prefix: prefix,
                        after: after.as_ref(),
                        limit: 70,
                    },
                )
                .await
                .unwrap();
                if first {
                    assert_eq!(page.total, Some(want.len() as i64), "{backend} {category}");
                } else {
                    assert_eq!(page.total, None, "{backend}");
                }
                first = false;
                for row in &page.rows {
                    assert_eq!(row.external_id.as_str(), format!("H{}", row.household_id));
                    assert!(row.place_name.starts_with('村'), "{backend}");
                    seen.push((row.area_code.as_str().to_owned(), row.period_id));
                }
                match page.next {
                    Some(next) => {
                        assert_eq!(RosterCursor::decode(&next.encode()), Some(next.clone()));
                        after = Some(next);
                    }
                    None => break,
                }
            }
            assert_eq!(seen, want, "{backend}: {category} on {date} under {prefix}");
        }
    }
}

#[tokio::test]
async fn issue13_a_tekun_period_keeps_its_support_mode_and_care_level_on_the_roster() {
    let villages = villages();
    for (backend, store, _dir) in stores().await {
        // A 特困 period keeps its 供养方式 and 照料护理等级; the roster and the history show them.
        let mut tx = store.begin().await.unwrap();
        exec(
            &mut tx,
            "INSERT INTO persons (id_number, name, birth_date, sex) VALUES ('500151194001010019', '王五', '1940-01-01', 'male')"
                .to_owned(),
        )
        .await;
        let id = households::open_category(
            &mut tx,
            &NewCategoryPeriod {
                household_id: 4,
                id_number: Some("500151194001010019"),
                category: "tekun",
                monitoring_kind: None,
                start_date: "2026-11-01",
                monthly_fen: Some(130_100),
                reason: "名册导入（一门入库）：区民政局〔文1〕",
                support_mode: Some("centralised"),
                care_level: Some("full"),
            },
        )
        .await
        .unwrap();
        store::commit(tx).await.unwrap();
        let mut conn = store.read().await.unwrap();
        let page = roster::roster_page(
            &mut conn,
            &RosterFilter {
                category: "tekun",
                date: "2026-11-15",
                area_prefix: &villages[4],
                after: None,
                limit: 500,
            },
        )
        .await
        .unwrap();
        let line = page.rows.iter().find(|row| row.period_id == id).unwrap();
        assert_eq!(
            (
                line.person_name.as_deref(),
                line.support_mode.map(|mode| mode.code()),
                line.care_level.map(|care| care.code()),
                line.monthly_fen
            ),
            (
                Some("王五"),
                Some("centralised"),
                Some("full"),
                Some(130_100)
            ),
            "{backend}"
        );
        let history = households::category_history(&mut conn, 4).await.unwrap();
        let period = history.iter().find(|period| period.id == id).unwrap();
        assert_eq!(
            period.care_level.map(|care| care.code()),
            Some("full"),
            "{backend}"
        );
        assert!(
            !roster::roster_page(
                &mut conn,
                &RosterFilter {
                    category: "tekun",
                    date: "2026-10-31",
                    area_prefix: &villages[4],
                    after: None,
                    limit: 500,
                },
            )
            .await
            .unwrap()
            .rows
            .iter()
            .any(|row| row.period_id == id),
            "{backend}: not before its start"
        );
    }
}
