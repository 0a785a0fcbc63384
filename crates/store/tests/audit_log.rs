//! 审计日志 (issue 15 item 7): the auditor's filtered, keyset-paged view of the chain. Each
//! page is a few index reads whatever the log's length (issue 12); filters by 操作人, record,
//! 操作类型 and dates give exactly the rows they name, newest first, none twice, none lost; the
//! checks of the chain are recorded. On SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use chrono::{DateTime, Duration, TimeZone, Utc};
use store::Store;
use store::audit::{self, AuditEvent, AuditFilter, Entity, Verification, VerificationRecord};

/// The seeded log, seeded once per test process and per store.
static SEEDED: testkit::Seeded = testkit::Seeded::new("audit_log");

/// A copy of the seeded log on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    SEEDED.stores(seed).await
}

const N: usize = 4_000;
const ACTORS: [&str; 5] = ["zhen#2", "cun#3", "qu#1", "wangge#4", "console:op"];
const ACTIONS: [&str; 4] = [
    "case.act",
    "household.update",
    "session.login",
    "warning.assign",
];

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

/// Row `n` (seq `n + 1`): an actor, an action and a record that cycle, written 7 minutes after
/// the one before, each instant's microseconds shown as the app stores them.
fn event(n: usize) -> AuditEvent {
    let at = (start() + Duration::minutes(7 * n as i64))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let (entity, id) = match n % 3 {
        0 => (Entity::Case, format!("TN{}", n % 40)),
        1 => (Entity::Household, format!("H{}", n % 50)),
        _ => (Entity::Session, ACTORS[n % 5].to_owned()),
    };
    AuditEvent::new(entity, id, at, ACTORS[n % 5], ACTIONS[n % 4]).in_area("500151103201")
}

async fn seed(store: Store) {
    let events: Vec<AuditEvent> = (0..N).map(event).collect();
    let mut tx = store.begin().await.unwrap();
    let mut chain = audit::Chain::lock(&mut tx, None).await.unwrap();
    chain.append_many(&mut tx, &events).await.unwrap();
    chain.finish(&mut tx).await.unwrap();
    store::commit(tx).await.unwrap();
    testkit::refresh_statistics(&store).await;
}

/// A plan that reads the whole log, or sorts what it read when `sorting` is not allowed. The
/// rows of one record are few: PostgreSQL may read them all from `audit_log_entity_seq` and
/// sort them, which stays bounded by that record's rows.
fn reads_all_or_sorts(plan: &[String], sorting: bool) -> bool {
    plan.iter().any(|line| {
        let line = line.trim_start_matches(['|', '-', '`', ' ']);
        line.contains("Seq Scan on audit_log")
            || (line.starts_with("SCAN audit_log") && !line.contains(" USING "))
            || (!sorting && (line.contains("USE TEMP B-TREE") || line.contains("Sort")))
    })
}

/// Every page of `filter`, `per_page` at a time: the seqs in page order.
async fn all_pages(conn: &mut store::Conn, filter: &AuditFilter, per_page: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = audit::search(conn, filter, after, per_page).await.unwrap();
        assert!(page.rows.len() as i64 <= per_page);
        seen.extend(page.rows.iter().map(|row| row.seq));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    seen
}

/// The seqs `keep` selects, newest first.
fn expected(keep: impl Fn(usize, &AuditEvent) -> bool) -> Vec<i64> {
    (0..N)
        .rev()
        .filter(|n| keep(*n, &event(*n)))
        .map(|n| n as i64 + 1)
        .collect()
}

/// The first day of the log, Beijing time, shifted by `d` days.
fn day(d: i64) -> DateTime<Utc> {
    start() - Duration::hours(8) + Duration::days(d)
}

/// Filters by each field and by their pairs.
fn filters() -> [AuditFilter; 8] {
    [
        AuditFilter::default(),
        AuditFilter {
            actor: Some("cun#3".into()),
            ..AuditFilter::default()
        },
        AuditFilter {
            action: Some("warning.assign".into()),
            ..AuditFilter::default()
        },
        AuditFilter {
            record: Some((Entity::Household, "H7".into())),
            ..AuditFilter::default()
        },
        AuditFilter {
            record: Some((Entity::Case, "TN12".into())),
            actor: Some("qu#1".into()),
            ..AuditFilter::default()
        },
        AuditFilter {
            from: Some(day(3)),
            until: Some(day(5)),
            ..AuditFilter::default()
        },
        AuditFilter {
            actor: Some("qu#1".into()),
            from: Some(day(10)),
            ..AuditFilter::default()
        },
        AuditFilter {
            action: Some("case.act".into()),
            until: Some(day(2)),
            ..AuditFilter::default()
        },
    ]
}

#[tokio::test]
async fn i15_each_audit_log_statement_is_an_index_read_in_seq_order() {
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // Each statement of each filter, first page and after a cursor, is an index read in
        // seq order: no walk of the log, no sort (but of one record's rows).
        for filter in &filters() {
            for after in [None, Some(2_000)] {
                for statement in audit::search_statements(&mut conn, filter, after, 50)
                    .await
                    .unwrap()
                {
                    let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                    assert!(
                        !reads_all_or_sorts(&plan, filter.record.is_some()),
                        "{backend}: {filter:?} after {after:?}:\n{}\n{}",
                        statement.sql,
                        plan.join("\n")
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn i15_each_audit_log_filter_pages_exactly_its_rows_newest_first() {
    let in_days = |n: usize, from: i64, until: i64| {
        let at = start() + Duration::minutes(7 * n as i64);
        at >= day(from) && at < day(until)
    };
    let wanted: Vec<Vec<i64>> = vec![
        expected(|_, _| true),
        expected(|_, e| e.actor == "cun#3"),
        expected(|_, e| e.action == "warning.assign"),
        expected(|_, e| e.entity == "household" && e.entity_id == "H7"),
        expected(|_, e| e.entity == "case" && e.entity_id == "TN12" && e.actor == "qu#1"),
        expected(|n, _| in_days(n, 3, 5)),
        expected(|n, e| e.actor == "qu#1" && in_days(n, 10, 1000)),
        expected(|n, e| e.action == "case.act" && in_days(n, -1000, 2)),
    ];
    // Two Beijing days of rows written every 7 minutes: rows 549 to 959 (row 960 is written
    // at the very instant the second day ends, and is not in it).
    assert_eq!(wanted[5].len(), 411);
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // Each filter's pages are exactly its rows, newest first, none twice, none lost.
        for (filter, wanted) in filters().iter().zip(&wanted) {
            assert!(!wanted.is_empty(), "{filter:?} selects rows");
            assert_eq!(
                &all_pages(&mut conn, filter, 37).await,
                wanted,
                "{backend}: {filter:?}"
            );
        }
    }
}

#[tokio::test]
async fn i15_an_audit_log_page_carries_the_row_as_stored_and_no_match_is_an_empty_page() {
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        let page = audit::search(&mut conn, &AuditFilter::default(), None, 1)
            .await
            .unwrap();
        assert_eq!(page.rows[0].seq, N as i64, "{backend}");
        assert_eq!(page.rows[0].event, event(N - 1), "{backend}");
        assert_eq!(page.next, Some(N as i64), "{backend}");
        // An unknown actor and an empty date range give none.
        for filter in [
            AuditFilter {
                actor: Some("nobody#9".into()),
                ..AuditFilter::default()
            },
            AuditFilter {
                from: Some(day(5)),
                until: Some(day(5)),
                ..AuditFilter::default()
            },
            AuditFilter {
                from: Some(day(400)),
                ..AuditFilter::default()
            },
        ] {
            let page = audit::search(&mut conn, &filter, None, 50).await.unwrap();
            assert!(
                page.rows.is_empty() && page.next.is_none(),
                "{backend}: {filter:?}"
            );
        }
        assert_eq!(audit::head_seq(&mut conn).await.unwrap(), N as i64);
    }
    assert_eq!(Entity::from_code("household"), Some(Entity::Household));
    assert_eq!(Entity::from_code("nothing"), None);
    assert_eq!(Entity::Case.label(), "办件");
}

#[tokio::test]
async fn i15_checks_of_the_audit_chain_are_recorded_and_the_latest_read_back() {
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        assert_eq!(
            audit::latest_verification(&mut conn).await.unwrap(),
            None,
            "{backend}"
        );
        drop(conn);
        let mut tx = store.begin().await.unwrap();
        let verified = audit::verify(&mut tx, None, None).await.unwrap();
        assert!(
            matches!(verified, Verification::Intact { rows, .. } if rows == N as i64),
            "{backend}: {verified:?}"
        );
        for (at, result) in [
            ("2026-12-01T01:00:00.000000Z", verified),
            (
                "2026-12-01T02:00:00.000000Z",
                Verification::Broken {
                    seq: 17,
                    reason: "content does not match its hash (edited)".into(),
                },
            ),
        ] {
            audit::record_verification(
                &mut tx,
                &VerificationRecord {
                    started_at: at.parse().unwrap(),
                    finished_at: at.parse().unwrap(),
                    actor: "shenji#8".into(),
                    result,
                    head_seq: N as i64,
                },
            )
            .await
            .unwrap();
        }
        store::commit(tx).await.unwrap();
        let mut conn = store.read().await.unwrap();
        let latest = audit::latest_verification(&mut conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (latest.actor.as_str(), latest.head_seq, latest.result),
            (
                "shenji#8",
                N as i64,
                Verification::Broken {
                    seq: 17,
                    reason: "content does not match its hash (edited)".into(),
                }
            ),
            "{backend}"
        );
    }
}
