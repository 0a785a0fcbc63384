//! 待办队列 (issue 12): the work queue's stored lines are read by index, in due order, a page
//! at a time, on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use store::Store;
use store::cases::{self, NewCase, QueueCursor, QueueFilter, QueueRow};

/// The seeded queue, seeded once per test process and per store.
static SEEDED: testkit::Seeded = testkit::Seeded::new("case_queue");

/// A copy of the seeded queue on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    SEEDED.stores(seed).await
}

/// One village in each of ten towns.
fn areas() -> Vec<String> {
    (0..10)
        .map(|town| format!("500151{}201", 100 + town))
        .collect()
}

/// A plan step that reads every line of the queue (or every case).
fn scans_queue(line: &str) -> bool {
    let line = line.trim_start_matches(['|', '-', '`', ' ']);
    ["case_queue", "cases"].iter().any(|table| {
        line.contains(&format!("Seq Scan on {table} "))
            || line.ends_with(&format!("Seq Scan on {table}"))
            || (line.starts_with(&format!("SCAN {table}")) && !line.contains(" USING "))
    })
}

const N_CASES: usize = 6_000;

/// `N_CASES` cases in ten villages of ten towns (`areas()`), each with its queue lines: most are
/// the town's; every tenth case is at 公示 and hands over to the district on 11-01, and
/// agriculture follows it (跟踪). The tables analysed afterwards.
async fn seed(store: Store) {
    let areas = areas();
    let mut tx = store.begin().await.unwrap();
    for n in 0..N_CASES {
        let tracking_number = format!("TL20261001-{n:05}");
        let area = &areas[n % 10];
        let id = cases::insert(
            &mut tx,
            &NewCase {
                tracking_number: &tracking_number,
                kind: "application",
                household_external_id: &format!("H{n}"),
                household_id: None,
                area_code: area,
                step: "received",
                received_on: "2026-10-01",
                now: "t",
            },
        )
        .await
        .unwrap();
        // Most lines are the town's; every tenth case is at 公示 and hands over to the
        // district on 11-01.
        let line = |role: &str, from: Option<&str>, until: Option<&str>, due: &str| QueueRow {
            case_id: id,
            role: domain::Role::from_code(role).unwrap(),
            shown_from: from.map(|day| day.parse().unwrap()),
            shown_until: until.map(|day| day.parse().unwrap()),
            area_code: domain::PlaceCode::parse(area).unwrap(),
            due_on: due.parse().unwrap(),
            tracking_number: domain::TrackingNumber::parse(&tracking_number).unwrap(),
            kind: domain::states::CaseKind::Application,
            household_external_id: domain::HouseholdNo::parse(&format!("H{n}")).unwrap(),
            step: domain::states::Step::Notice,
            limit: domain::states::TimeLimit::TownReview,
            started_on: "2026-10-01".parse().unwrap(),
            others: Vec::new(),
            watching: 0,
        };
        let due = format!("2026-{:02}-{:02}", 10 + n % 3, 1 + n % 28);
        let lines = if n % 10 == 0 {
            vec![
                line("town_reviewer", None, Some("2026-10-31"), &due),
                line("district_civil_affairs", Some("2026-11-01"), None, &due),
                // 跟踪 (issue 14): agriculture follows the case read-only.
                QueueRow {
                    watching: 1,
                    ..line("district_agriculture", None, None, &due)
                },
            ]
        } else {
            vec![line("town_reviewer", None, None, &due)]
        };
        cases::insert_queue(&mut tx, &lines).await.unwrap();
    }
    store::commit(tx).await.unwrap();
    testkit::refresh_statistics(&store).await;
}

#[tokio::test]
async fn i12_every_statement_of_the_work_queue_is_read_by_index() {
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // Every statement of the queue, for a district, a town and a village, late only and
        // after a cursor, is read by index.
        let cursor = QueueCursor {
            due_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            tracking_number: domain::TrackingNumber::parse("TL20261001-00010").unwrap(),
        };
        for role in ["town_reviewer", "district_civil_affairs", "grid_worker"] {
            for area_prefix in ["500151", "500151103", "500151103201"] {
                for (late_only, acting_only, after) in [
                    (false, false, None),
                    (true, false, None),
                    (false, true, None),
                    (false, false, Some(&cursor)),
                    (false, true, Some(&cursor)),
                ] {
                    let filter = QueueFilter {
                        role,
                        area_prefix,
                        today: "2026-11-15",
                        late_only,
                        acting_only,
                        after,
                        limit: 50,
                    };
                    for statement in cases::queue_statements(&filter) {
                        let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                        assert!(
                            !plan.iter().any(|line| scans_queue(line)),
                            "{backend}: {filter:?} reads the whole queue:\n{}\n{}",
                            statement.sql,
                            plan.join("\n")
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn i12_a_towns_work_queue_is_paged_by_due_date_none_twice_none_lost() {
    let areas = areas();
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // A town's queue, page by page: by due date then tracking number, none twice, none
        // lost, the total capped.
        let town = "500151103";
        let expected: Vec<String> = {
            let mut lines: Vec<(String, String)> = (0..N_CASES)
                .filter(|n| areas[n % 10].starts_with(town))
                .map(|n| {
                    (
                        format!("2026-{:02}-{:02}", 10 + n % 3, 1 + n % 28),
                        format!("TL20261001-{n:05}"),
                    )
                })
                .collect();
            lines.sort();
            lines.into_iter().map(|(_, number)| number).collect()
        };
        let mut seen = Vec::new();
        let mut after: Option<QueueCursor> = None;
        loop {
            let page = cases::queue_page(
                &mut conn,
                &QueueFilter {
                    role: "town_reviewer",
                    area_prefix: town,
                    today: "2026-10-15",
                    late_only: false,
                    acting_only: false,
                    after: after.as_ref(),
                    limit: 50,
                },
            )
            .await
            .unwrap();
            assert_eq!(page.total, expected.len() as i64, "{backend}");
            assert!(!page.capped, "{backend}");
            seen.extend(page.rows.iter().map(|row| row.tracking_number.to_string()));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{backend}");
    }
}

#[tokio::test]
async fn i12_the_districts_lines_show_from_the_day_after_the_notice_and_late_counts_are_capped() {
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // The district's lines show from the day after the notice; late counts are of the
        // whole queue, capped.
        let district = |today: &'static str| QueueFilter {
            role: "district_civil_affairs",
            area_prefix: "500151",
            today,
            late_only: false,
            acting_only: false,
            after: None,
            limit: 50,
        };
        let before = cases::queue_page(&mut conn, &district("2026-10-31"))
            .await
            .unwrap();
        assert_eq!((before.total, before.rows.len()), (0, 0), "{backend}");
        let after_notice = cases::queue_page(&mut conn, &district("2026-11-01"))
            .await
            .unwrap();
        assert_eq!(after_notice.total, (N_CASES / 10) as i64, "{backend}");

        let all = cases::queue_page(
            &mut conn,
            &QueueFilter {
                role: "town_reviewer",
                area_prefix: "500151",
                today: "2026-12-31",
                late_only: true,
                acting_only: false,
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (all.total, all.n_late, all.capped),
            (store::search::TOTAL_CAP, store::search::TOTAL_CAP, true),
            "{backend}"
        );
        assert!(
            all.rows
                .windows(2)
                .all(|pair| (&pair[0].due_on, &pair[0].tracking_number)
                    < (&pair[1].due_on, &pair[1].tracking_number)),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn i14_lines_of_a_case_followed_are_listed_never_late_and_not_to_act_on() {
    for (backend, store, _dir) in stores().await {
        let mut conn = store.read().await.unwrap();
        // 跟踪 lines are listed with the others but never late, and 待我办理 leaves them out.
        let agriculture = |acting_only: bool| QueueFilter {
            role: "district_agriculture",
            area_prefix: "500151",
            today: "2026-12-31",
            late_only: false,
            acting_only,
            after: None,
            limit: 50,
        };
        let watched = cases::queue_page(&mut conn, &agriculture(false))
            .await
            .unwrap();
        assert_eq!(
            (watched.total, watched.n_late, watched.rows.len()),
            ((N_CASES / 10) as i64, 0, 50),
            "{backend}"
        );
        assert!(
            watched.rows.iter().all(|row| row.watching == 1),
            "{backend}"
        );
        let acting = cases::queue_page(&mut conn, &agriculture(true))
            .await
            .unwrap();
        assert_eq!((acting.total, acting.rows.len()), (0, 0), "{backend}");
    }
}
