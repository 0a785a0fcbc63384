//! 工作日历 (issue 14 item 5): a year not entered counts the statutory holidays and marks the
//! due dates across it 待确认; district civil affairs enters the year on the page or through
//! the API (others are refused), the entry is audited, and the due dates are recomputed.

use crate::cases::open_application;
use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The town-review deadline of a case as the API shows it: (due_on, due_pending).
async fn town_review(user: &crate::helpers::ApiUser, id: i64) -> (String, bool) {
    let (status, case) = user.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    let deadline = case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|deadline| deadline["limit"] == "town_review")
        .unwrap_or_else(|| panic!("{case}"))
        .clone();
    (
        deadline["due_on"].as_str().unwrap().to_owned(),
        deadline["due_pending"].as_bool().unwrap(),
    )
}

/// The queue line of case `id` in `user`'s work queue: (due_on, due_pending).
async fn queue_line(user: &crate::helpers::ApiUser, id: i64) -> (String, bool) {
    let (status, queue) = user.get("/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{queue}"))
        .clone();
    (
        item["due_on"].as_str().unwrap().to_owned(),
        item["due_pending"].as_bool().unwrap(),
    )
}

fn year_of(calendar: &Value, year: i64) -> Value {
    calendar["years"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["year"] == year)
        .unwrap_or_else(|| panic!("{calendar}"))
        .clone()
}

/// A first application received on Mon 2026-12-21 (the clock set there): its town-review
/// limit of 15 working days runs into 2027. Answers its id.
async fn received_before_new_year(app: &TestApp) -> i64 {
    app.clock.set(2026, 12, 21);
    open_application(app, app.bachuan_village.external_id, "跨年受理").await
}

/// 2027 as district civil affairs enters it: 元旦 01-01..01-03 with Saturday 01-09 worked,
/// 春节 02-05..02-11.
fn year_2027() -> Value {
    json!({
        "year": 2027,
        "source": "国办发明电〔2026〕9号",
        "holidays": [
            {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03",
             "adjusted_working_days": ["2027-01-09"]},
            {"name": "春节", "from": "2027-02-05", "to": "2027-02-11"},
        ],
    })
}

/// A due date across a year not entered is 待确认 on the API, the queue and the page; every
/// signed-in user reads the calendar, the year counted from the statutory holidays; the
/// district dashboard and the calendar page ask for the year.
#[tokio::test]
async fn a_due_date_in_a_year_not_entered_is_pending_and_the_year_is_asked_for() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;

        // Received Mon 2026-12-21: 15 working days into 2027, not entered; 元旦 (statutory)
        // is no working day.
        app.clock.set(2026, 12, 21);
        let id = open_application(&app, app.bachuan_village.external_id, "跨年受理").await;
        let town = app.api_user("bachuan").await;
        assert_eq!(
            town_review(&town, id).await,
            ("2027-01-12".to_owned(), true),
            "{backend}"
        );
        assert_eq!(queue_line(&town, id).await, ("2027-01-12".to_owned(), true));
        let (_, page) = app
            .page_user("bachuan")
            .await
            .get(&format!("/cases/{id}"))
            .await;
        assert!(page.contains(">待确认</span>"), "{backend}");

        // Every signed-in user reads the calendar; 2027 is 法定假日推算·待确认 with the 办法's
        // holidays, 春节 from 除夕.
        let (status, calendar) = town.get("/api/v1/calendar").await;
        assert_eq!(status, StatusCode::OK, "{calendar}");
        assert_eq!(calendar["can_add"], false);
        assert_eq!(calendar["missing"], json!([2027]));
        let year = year_of(&calendar, 2027);
        assert_eq!(year["state"], "statutory");
        assert!(
            year["source"]
                .as_str()
                .unwrap()
                .contains("全国年节及纪念日放假办法")
        );
        assert!(year["holidays"].as_array().unwrap().iter().any(|holiday| {
            holiday["name"] == "春节"
                && holiday["from"] == "2027-02-05"
                && holiday["to"] == "2027-02-08"
        }));
        assert_eq!(year_of(&calendar, 2026)["state"], "entered");

        // The district dashboard asks for the year.
        let minzheng_page = app.page_user("minzheng").await;
        let (status, dashboard) = minzheng_page.get("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(dashboard.contains("id=\"calendar-missing\""), "{backend}");
        assert!(dashboard.contains("2027年放假安排尚未录入"), "{backend}");
        let (_, page) = minzheng_page.get("/policy/calendar").await;
        assert!(page.contains("法定假日推算·待确认"));
        assert!(page.contains("action=\"/policy/calendar#add-year\""));
        app.stop().await;
    }
}

/// Only district civil affairs enters a year: others are refused, nothing written; a fault
/// names its field, an unknown field is refused.
#[tokio::test]
async fn only_district_civil_affairs_enters_a_year_and_a_fault_names_its_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let year_2027 = year_2027();
        // Only district civil affairs enters a year: others are refused, nothing written.
        for username in ["bachuan", "nongye", "admin", "shenji"] {
            let user = app.api_user(username).await;
            let (status, body) = user.post("/api/v1/calendar", &year_2027).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{username}: {body}");
        }
        let (_, page) = app.page_user("bachuan").await.get("/policy/calendar").await;
        assert!(!page.contains("录入年度放假安排"));
        assert!(
            app.audit_of("policy_parameter", "calendar.2027")
                .await
                .is_empty()
        );

        // A fault names its field; an unknown field is refused.
        let minzheng = app.api_user("minzheng").await;
        let mut wrong = year_2027.clone();
        wrong["holidays"][1]["to"] = json!("2027-02-30");
        let (status, body) = minzheng.post("/api/v1/calendar", &wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("holidays[1]"), "{body}");
        let mut wrong = year_2027.clone();
        wrong["source"] = json!("");
        let (status, body) = minzheng.post("/api/v1/calendar", &wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("source"), "{body}");
        let mut wrong = year_2027.clone();
        wrong["days"] = json!(3);
        let (status, body) = minzheng.post("/api/v1/calendar", &wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("days"), "{body}");
        app.stop().await;
    }
}

/// District civil affairs enters 2027: written, audited, the due dates recomputed and
/// settled, the dashboard no longer asks.
#[tokio::test]
async fn district_civil_affairs_enters_next_year_and_the_due_dates_are_no_longer_pending() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = received_before_new_year(&app).await;
        let town = app.api_user("bachuan").await;
        let minzheng = app.api_user("minzheng").await;
        let minzheng_page = app.page_user("minzheng").await;
        let year_2027 = year_2027();
        // District civil affairs enters 2027: written, audited, due dates recomputed.
        let (status, body) = minzheng.post("/api/v1/calendar", &year_2027).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        assert_eq!(body["state"], "entered");
        assert_eq!(body["source"], "国办发明电〔2026〕9号");
        assert_eq!(body["entries"][0]["added_by"], "minzheng");
        let audit = app.audit_of("policy_parameter", "calendar.2027").await;
        assert_eq!(audit.len(), 1, "{backend}");
        assert_eq!(audit[0].event.action, "calendar.add_year");
        assert!(audit[0].event.before.is_none());
        assert!(
            audit[0]
                .event
                .after
                .as_deref()
                .unwrap()
                .contains("国办发明电〔2026〕9号")
        );
        // Saturday 2027-01-09 is worked: due a working day earlier, and settled.
        assert_eq!(
            town_review(&town, id).await,
            ("2027-01-11".to_owned(), false)
        );
        assert_eq!(
            queue_line(&town, id).await,
            ("2027-01-11".to_owned(), false)
        );
        let (_, calendar) = town.get("/api/v1/calendar").await;
        assert_eq!(calendar["missing"], json!([]));
        assert_eq!(year_of(&calendar, 2027)["state"], "entered");
        let (_, dashboard) = minzheng_page.get("/dashboard").await;
        assert!(!dashboard.contains("id=\"calendar-missing\""), "{backend}");
        app.stop().await;
    }
}

/// Entered again through the page: a correction, the earlier entry kept as history; a
/// refused form keeps the input and names the line.
#[tokio::test]
async fn a_year_entered_again_on_the_page_is_a_correction_and_a_refused_form_keeps_its_input() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = received_before_new_year(&app).await;
        let town = app.api_user("bachuan").await;
        let minzheng = app.api_user("minzheng").await;
        let (status, body) = minzheng.post("/api/v1/calendar", &year_2027()).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let minzheng_page = app.page_user("minzheng").await;
        // Entered again through the page: a correction, the earlier entry kept as history.
        let response = minzheng_page
            .post_form(
                "/policy/calendar",
                &[
                    ("csrf".to_owned(), minzheng_page.csrf.clone()),
                    ("year".to_owned(), "2027".to_owned()),
                    ("source".to_owned(), "国办发明电〔2026〕10号".to_owned()),
                    ("status".to_owned(), "confirmed".to_owned()),
                    (
                        "holidays".to_owned(),
                        "元旦 2027-01-01 2027-01-03\n春节 2027-02-05 2027-02-11".to_owned(),
                    ),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let (_, page) = minzheng_page.get("/policy/calendar").await;
        assert!(page.contains("国办发明电〔2026〕10号"), "{backend}");
        assert!(page.contains("（已更正）"), "{backend}");
        assert_eq!(
            town_review(&town, id).await,
            ("2027-01-12".to_owned(), false)
        );
        let audit = app.audit_of("policy_parameter", "calendar.2027").await;
        assert_eq!(audit.len(), 2);
        assert!(
            audit[1]
                .event
                .before
                .as_deref()
                .unwrap()
                .contains("2027-01-09")
        );

        // A refused form keeps the input and names the line.
        let response = minzheng_page
            .post_form(
                "/policy/calendar",
                &[
                    ("csrf".to_owned(), minzheng_page.csrf.clone()),
                    ("year".to_owned(), "2028".to_owned()),
                    ("source".to_owned(), "国办发明电〔2027〕1号".to_owned()),
                    ("status".to_owned(), "confirmed".to_owned()),
                    ("holidays".to_owned(), "元旦 2028-01-01".to_owned()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        assert!(page.contains("节假日第1行"), "{page}");
        assert!(page.contains("元旦 2028-01-01</textarea>"), "{page}");
        app.stop().await;
    }
}

/// The dibao total limit of a case as the API shows it: (limit, due_on).
async fn dibao_total(user: &crate::helpers::ApiUser, id: i64) -> (String, String) {
    let (_, case) = user.get(&format!("/api/v1/cases/{id}")).await;
    let deadline = case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|deadline| {
            deadline["limit"]
                .as_str()
                .is_some_and(|limit| limit.starts_with("dibao_total"))
        })
        .unwrap_or_else(|| panic!("{case}"))
        .clone();
    (
        deadline["limit"].as_str().unwrap().to_owned(),
        deadline["due_on"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_town_records_the_special_circumstance_and_the_total_limit_becomes_the_special_one() {
    use crate::cases::{act, apply, household, ids, joint_review, survey_team, through_review};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let (id, _) = apply(&village, "BC-0100").await;
        let team = survey_team(&app).await;
        through_review(&app, id, &team, household("BC-0100", &ids(), 12000.0)).await;
        let town = app.api_user("bachuan").await;
        assert_eq!(joint_review(&town, id, true).await, "notice", "{backend}");
        // Received Sat 2026-11-28: 25 working days (deadline.dibao_total_working_days).
        assert_eq!(
            dibao_total(&town, id).await,
            ("dibao_total".to_owned(), "2027-01-04".to_owned()),
            "{backend}"
        );
        let town_page = app.page_user("bachuan").await;
        let (_, page) = town_page.get(&format!("/cases/{id}")).await;
        assert!(page.contains("特殊情况的理由"), "{backend}");

        // Only the town records it, with a reason, once.
        let special =
            json!({"action": "record_special_limit", "reason": "申请人人户分离，须跨区县核实"});
        let (status, body) = act(&village, id, special.clone()).await;
        assert_ne!(status, StatusCode::OK, "{body}");
        assert_eq!(body["code"], "wrong_role");
        let (status, body) = act(&town, id, json!({"action": "record_special_limit"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("reason"), "{body}");
        let (status, body) = act(&town, id, special.clone()).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["step"], "notice");
        // 40 working days (deadline.dibao_total_special_working_days), 2027-01-01 off.
        assert_eq!(
            dibao_total(&town, id).await,
            ("dibao_total_special".to_owned(), "2027-01-25".to_owned()),
            "{backend}"
        );
        let (_, case) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(case["special_limit_reason"], "申请人人户分离，须跨区县核实");
        let (status, body) = act(&town, id, special).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "special_limit_already_recorded");
        let (_, page) = town_page.get(&format!("/cases/{id}")).await;
        assert!(page.contains("id=\"special-limit\""), "{backend}");
        assert!(
            page.contains("特殊情况延长审核确认总时限：申请人人户分离"),
            "{backend}"
        );
        assert!(!page.contains("特殊情况的理由"), "{backend}");
        app.stop().await;
    }
}
