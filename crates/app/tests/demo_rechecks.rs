//! 定期核查 in the demo (issue 13 item 5, W1): the demo's enrolments, seeded as `serve --demo`
//! seeds them, fall due over the year ahead by RULES.md rule 10 — not all overdue, and a
//! household with a recorded emergency not due again and again. On SQLite always and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use common::{FixedClock, date, stores};

use app::users::{Creator, NewUser};
use app::{Actor, App, AppSettings};
use domain::{PlaceCode, Role};
use std::sync::Arc;

#[tokio::test]
async fn issue13_the_demo_enrolments_fall_due_over_the_year_not_all_overdue() {
    for (backend, store, _dir) in stores("demo_rechecks").await {
        let today = date("2026-11-02");
        let app = App::new(
            store,
            Arc::new(FixedClock::on("2026-11-02")),
            AppSettings::default(),
        );
        let places =
            domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
        app.load_places("demo", &places).await.unwrap();
        let mut content = Vec::new();
        synth::write_households_jsonl(&places, 400, 7, &mut content).unwrap();
        app.import_households(
            "demo",
            "demo.jsonl",
            &String::from_utf8(content).unwrap(),
            &|_| {},
        )
        .await
        .unwrap();
        app.mark_demo().await.unwrap();
        // As `cli::demo` does: enrolled on 2025-07-01, then re-checks spread over the past year.
        app.seed_demo_categories(date("2025-07-01")).await.unwrap();
        let scheduled = app.seed_demo_rechecks().await.unwrap();
        assert!(scheduled > 50, "{backend}: {scheduled} enrolled");

        let area = PlaceCode::parse("500151").unwrap();
        let user_id = app
            .create_user(
                Creator::Console("test"),
                NewUser {
                    username: "minzheng",
                    display_name: "minzheng",
                    role: Role::DistrictCivilAffairs,
                    area: &area,
                    password: "correct-horse-1",
                },
            )
            .await
            .unwrap();
        let district = Actor {
            user_id,
            username: "minzheng".to_owned(),
            display_name: "minzheng".to_owned(),
            role: Role::DistrictCivilAffairs,
            area,
        };
        // Every enrolled household's next re-check, two years ahead.
        let mut due = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = app
                .recheck_due(&district, date("2028-11-02"), after.as_deref())
                .await
                .unwrap();
            due.extend(page.items);
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(due.len() as u64, scheduled, "{backend}");
        let overdue = due.iter().filter(|line| line.overdue).count();
        let within_a_year = due
            .iter()
            .filter(|line| line.due_on <= date("2027-11-02"))
            .count();
        // Checked 5 to 334 days ago: a 12-month household is never overdue, a 6-month one only
        // when checked more than six months ago; every one falls due within a year.
        assert!(
            overdue * 2 < due.len(),
            "{backend}: {overdue} of {} overdue",
            due.len()
        );
        assert!(
            due.iter().any(|line| line.due_on > today),
            "{backend}: none due later"
        );
        assert_eq!(within_a_year, due.len(), "{backend}");
        // No household falls due on the day of its last check: an emergency recorded before a
        // re-check is not due again at once (RULES.md rule 10, `CheckKind::Recheck`).
        let mut conn = app.store().read().await.unwrap();
        let (at_once,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM recheck_schedule WHERE due_on <= last_check")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert_eq!(at_once, 0, "{backend}");
    }
}
