//! The comparison job queue and warning dedupe (issue 5), on SQLite always and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::collections::BTreeSet;
use store::Store;
use store::watch::{self, NewFeed, NewWarning};

async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), "watch").await;
    let mut stores = vec![("sqlite", Store::connect(&url).await.unwrap(), dir)];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_queue").await;
        stores.push((
            "postgres",
            Store::connect(&url).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

async fn feed(store: &Store, period: &str) -> i64 {
    let period = &domain::StatPeriod::parse(period).unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = watch::insert_feed(
        &mut tx,
        &NewFeed {
            source: "公安",
            period,
            content_hash: "abc",
            file_name: "f.csv",
            format: "csv",
            content: b"id_number,name,kind,value,date,detail\n",
            rows_read: 0,
            rows_rejected: 1,
            imported_by: "test",
            imported_by_user_id: 1,
            imported_at: "2026-11-02T02:00:00Z",
        },
        &[(3, "列数为 3，应为 6".to_owned())],
    )
    .await
    .unwrap();
    store::commit(tx).await.unwrap();
    id
}

async fn claim(store: &Store, worker: &str) -> Option<i64> {
    let mut tx = store.begin().await.unwrap();
    let job = watch::claim_job(
        &mut tx,
        worker,
        "2026-11-02T02:00:00Z",
        "2026-11-02T00:00:00Z",
    )
    .await
    .unwrap();
    store::commit(tx).await.unwrap();
    job.map(|job| job.id)
}

#[tokio::test]
async fn w2_a_job_is_claimed_once_and_two_workers_share_the_queue() {
    for (backend, store, _dir) in stores().await {
        let feed_id = feed(&store, "2026-10").await;
        // The same identity again is a conflict (the app answers it as a repeat).
        let mut tx = store.begin().await.unwrap();
        let again = watch::insert_feed(
            &mut tx,
            &NewFeed {
                source: "公安",
                period: &domain::StatPeriod::parse("2026-10").unwrap(),
                content_hash: "abc",
                file_name: "g.csv",
                format: "csv",
                content: b"",
                rows_read: 0,
                rows_rejected: 0,
                imported_by: "test",
                imported_by_user_id: 1,
                imported_at: "2026-11-02T02:00:00Z",
            },
            &[],
        )
        .await;
        assert!(
            matches!(again, Err(store::StoreError::Conflict(_))),
            "{backend}"
        );
        store::rollback(tx).await.unwrap();
        let mut conn = store.read().await.unwrap();
        assert_eq!(
            watch::feed_rejections(&mut conn, feed_id, 10)
                .await
                .unwrap(),
            [(3, "列数为 3，应为 6".to_owned())],
            "{backend}"
        );
        drop(conn);

        let mut tx = store.begin().await.unwrap();
        let first = watch::enqueue_job(
            &mut tx,
            feed_id,
            "2026-11-02",
            "2026-11-02T01:00:00.000000Z",
        )
        .await
        .unwrap();
        store::commit(tx).await.unwrap();
        assert_eq!(claim(&store, "a").await, Some(first), "{backend}");
        assert_eq!(claim(&store, "b").await, None, "{backend}: claimed twice");
        let mut conn = store.read().await.unwrap();
        let job = watch::job(&mut conn, first).await.unwrap().unwrap();
        assert_eq!(
            (job.state.code(), job.worker.as_deref()),
            ("running", Some("a")),
            "{backend}"
        );
        drop(conn);
        // Worker a died: once its lease has run out, another worker takes the job again.
        let mut tx = store.begin().await.unwrap();
        let again = watch::claim_job(&mut tx, "c", "2026-11-02T05:00:00Z", "2026-11-02T03:00:00Z")
            .await
            .unwrap();
        store::commit(tx).await.unwrap();
        assert_eq!(
            again.map(|job| (job.id, job.worker)),
            Some((first, Some("c".to_owned()))),
            "{backend}: an abandoned job is taken again"
        );
        assert_eq!(
            claim(&store, "b").await,
            None,
            "{backend}: the new lease holds"
        );

        let mut tx = store.begin().await.unwrap();
        let mut queued = BTreeSet::new();
        for _ in 0..12 {
            queued.insert(
                watch::enqueue_job(
                    &mut tx,
                    feed_id,
                    "2026-11-02",
                    "2026-11-02T01:00:00.000000Z",
                )
                .await
                .unwrap(),
            );
        }
        store::commit(tx).await.unwrap();
        let worker = |name: &'static str| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(id) = claim(&store, name).await {
                    mine.push(id);
                    tokio::task::yield_now().await;
                }
                mine
            })
        };
        let (left, right) = (worker("left"), worker("right"));
        let (left, right) = (left.await.unwrap(), right.await.unwrap());
        let both: BTreeSet<i64> = left.iter().chain(&right).copied().collect();
        assert_eq!(
            both.len(),
            left.len() + right.len(),
            "{backend}: a job claimed by both"
        );
        assert_eq!(both, queued, "{backend}: every job claimed");
    }
}

#[tokio::test]
async fn w3_the_same_fact_is_one_warning() {
    for (backend, store, _dir) in stores().await {
        let warning = |key| NewWarning {
            dedupe_key: key,
            origin: "comparison",
            rule: "death",
            kind: "contradiction",
            severity: "high",
            id_number: Some("500224197001010019"),
            person_name: "韩一",
            household_external_id: None,
            household_id: None,
            inside_net: false,
            area_code: "500151",
            feed_id: None,
            job_id: None,
            line: Some(2),
            description: "死亡",
            param_json: None,
            state: "open",
            disposition: None,
            case_id: None,
            created_on: "2026-11-02",
            due_on: "2026-11-04",
            closed_on: None,
            now: "2026-11-02T01:00:00.000000Z",
        };
        let mut tx = store.begin().await.unwrap();
        let first = watch::insert_warning(&mut tx, &warning("death:x:0"))
            .await
            .unwrap();
        let second = watch::insert_warning(&mut tx, &warning("death:x:0"))
            .await
            .unwrap();
        let other = watch::insert_warning(&mut tx, &warning("death:y:0"))
            .await
            .unwrap();
        store::commit(tx).await.unwrap();
        assert!(first.is_some() && other.is_some(), "{backend}");
        assert_eq!(second, None, "{backend}");
        let mut conn = store.read().await.unwrap();
        let list = watch::list_warnings(
            &mut conn,
            &watch::WarningFilter {
                area_prefix: "500151",
                late_on: Some("2026-11-05"),
                limit: 10,
                ..watch::WarningFilter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (list.rows.len(), list.total),
            (2, 2),
            "{backend}: both late on the 5th"
        );
    }
}

/// Whether a plan line reads the warnings whole: PostgreSQL's `Seq Scan on warnings`, SQLite's
/// `SCAN warnings` without an index (a `SCAN warnings USING INDEX` walks an index in the list's
/// order and stops at the page; a `SCAN c` is the rows of the counted subquery).
fn scans_warnings(line: &str) -> bool {
    let line = line.trim_start_matches(['|', '-', '`', ' ']);
    line.contains("Seq Scan on warnings")
        || (line.starts_with("SCAN warnings") && !line.contains(" USING "))
}

/// Enough that a part of the list holds more than the count's cap, as a district's does.
const N_WARNINGS: usize = 12_000;

/// The seeded warnings' texts, kept so that a `NewWarning` can borrow them.
struct WarningTexts {
    keys: Vec<String>,
    dues: Vec<String>,
    areas: Vec<String>,
}

impl WarningTexts {
    /// Texts for the seeded warnings and for 20 more that arrive while a list is paged.
    fn new() -> Self {
        WarningTexts {
            keys: (0..N_WARNINGS + 20)
                .map(|n| format!("death:p{n}:0"))
                .collect(),
            dues: (0..N_WARNINGS + 20)
                .map(|n| format!("2026-{:02}-{:02}", 1 + n % 12, 1 + n % 28))
                .collect(),
            areas: (0..10)
                .map(|town| format!("500151{}201", 100 + town))
                .collect(),
        }
    }

    /// Warning `n`: in town `n % 10`, every other one a death, every third one closed.
    fn warning(&self, n: usize) -> NewWarning<'_> {
        NewWarning {
            dedupe_key: &self.keys[n],
            origin: "comparison",
            rule: if n.is_multiple_of(2) {
                "death"
            } else {
                "vehicle_over_limit"
            },
            kind: "contradiction",
            severity: "high",
            id_number: None,
            person_name: "韩一",
            household_external_id: None,
            household_id: None,
            inside_net: false,
            area_code: &self.areas[n % 10],
            feed_id: None,
            job_id: None,
            line: None,
            description: "死亡",
            param_json: None,
            state: if n.is_multiple_of(3) {
                "closed"
            } else {
                "open"
            },
            disposition: None,
            case_id: None,
            created_on: "2026-01-01",
            due_on: &self.dues[n],
            closed_on: n.is_multiple_of(3).then_some("2026-02-01"),
            now: "2026-11-02T01:00:00.000000Z",
        }
    }
}

/// `N_WARNINGS` warnings across ten towns, the planner's statistics refreshed.
async fn seed_warnings(store: Store) {
    let texts = WarningTexts::new();
    let mut tx = store.begin().await.unwrap();
    for n in 0..N_WARNINGS {
        watch::insert_warning(&mut tx, &texts.warning(n))
            .await
            .unwrap();
    }
    store::commit(tx).await.unwrap();
    testkit::refresh_statistics(&store).await;
}

/// The seeded warnings, seeded once per test process and per store.
static SEEDED: testkit::Seeded = testkit::Seeded::new("warnings");

async fn seeded_stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    SEEDED.stores(seed_warnings).await
}

#[tokio::test]
async fn i12_every_statement_of_the_warning_list_reads_by_index() {
    for (backend, store, _dir) in seeded_stores().await {
        let mut conn = store.pool().acquire().await.unwrap();
        let cursor = watch::WarningCursor {
            closed: false,
            due_on: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            id: 10,
        };
        let filters = [
            watch::WarningFilter {
                area_prefix: "500151",
                limit: 50,
                ..Default::default()
            },
            watch::WarningFilter {
                area_prefix: "500151103",
                limit: 50,
                ..Default::default()
            },
            watch::WarningFilter {
                area_prefix: "500151",
                state: Some("open"),
                rule: Some("death"),
                limit: 50,
                ..Default::default()
            },
            watch::WarningFilter {
                area_prefix: "500151103",
                late_on: Some("2026-06-01"),
                limit: 50,
                ..Default::default()
            },
            watch::WarningFilter {
                area_prefix: "500151",
                limit: 50,
                after: Some(&cursor),
                ..Default::default()
            },
        ];
        for filter in &filters {
            for (_, count, page) in watch::warning_statements(filter) {
                for statement in [count, page] {
                    let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                    assert!(
                        !plan.iter().any(|line| scans_warnings(line)),
                        "{backend}: {filter:?} reads every warning:\n{}\n{}",
                        statement.sql,
                        plan.join("\n")
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn i12_the_warning_list_is_keyset_paged_while_warnings_arrive() {
    let texts = WarningTexts::new();
    for (backend, store, _dir) in seeded_stores().await {
        // Page through a town's list while new warnings arrive: none read twice, none lost.
        let town = watch::WarningFilter {
            area_prefix: "500151103",
            limit: 50,
            ..Default::default()
        };
        let mut seen: Vec<i64> = Vec::new();
        let mut after: Option<watch::WarningCursor> = None;
        let mut n_pages = 0;
        loop {
            let mut conn = store.read().await.unwrap();
            let list = watch::list_warnings(
                &mut conn,
                &watch::WarningFilter {
                    after: after.as_ref(),
                    ..town.clone()
                },
            )
            .await
            .unwrap();
            drop(conn);
            if n_pages == 0 {
                let in_town = N_WARNINGS as i64 / 10;
                assert_eq!(
                    (list.total, list.capped),
                    (
                        in_town.min(store::search::TOTAL_CAP),
                        in_town > store::search::TOTAL_CAP
                    ),
                    "{backend}"
                );
            }
            let open_then_closed = list.rows.windows(2).all(|pair| {
                (pair[0].closed_on.is_some(), &pair[0].due_on, pair[0].id)
                    < (pair[1].closed_on.is_some(), &pair[1].due_on, pair[1].id)
            });
            assert!(open_then_closed, "{backend}: page {n_pages} out of order");
            seen.extend(list.rows.iter().map(|row| row.id));
            n_pages += 1;
            if n_pages == 2 {
                let mut tx = store.begin().await.unwrap();
                for n in (N_WARNINGS..N_WARNINGS + 20).filter(|n| n % 10 == 3) {
                    watch::insert_warning(&mut tx, &texts.warning(n))
                        .await
                        .unwrap();
                }
                store::commit(tx).await.unwrap();
            }
            match list.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let unique: BTreeSet<i64> = seen.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{backend}: a warning listed twice"
        );
        assert!(seen.len() >= N_WARNINGS / 10, "{backend}: warnings lost");
    }
}
