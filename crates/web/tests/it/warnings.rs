//! Warnings over HTTP (issue 5): a department pushes a feed through the API, a run raises a
//! warning, and the town takes it through the loop on its pages to an opened case; the routes
//! stay inside each user's area.

use crate::helpers::{TestApp, backends, form, hidden_field, json_of};
use reqwest::StatusCode;
use serde_json::Value;

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let mut conn = app.app.store().read().await.unwrap();
    store::users::by_username(&mut conn, username)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn push_feed(app: &TestApp, source: &str, csv: &str) -> (StatusCode, Value) {
    let bumen = app.api_user("bumen").await;
    let response = bumen
        .client
        .post(app.url(&format!(
            "/api/v1/feeds?source={source}&period=2026-10&file_name=feed.csv"
        )))
        .header("X-CSRF-Token", &bumen.csrf)
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    json_of(response).await
}

/// Posts one loop step with the csrf token and the version the page shows.
async fn step(
    user: &crate::helpers::PageUser,
    path: &str,
    pairs: Vec<(&str, String)>,
) -> reqwest::Response {
    let (_, page) = user.get(path).await;
    let version = hidden_field(&page, "version").unwrap_or_default();
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), user.csrf.clone()),
        ("version".into(), version),
    ];
    fields.extend(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)));
    user.post_form(path, &fields).await
}

/// The police feed of the tests: 张三 (BC-0001's head) died on 10-03, and a bad row.
fn death_feed(app: &TestApp) -> String {
    let head = app.bachuan_village.head_id.clone();
    format!(
        "id_number,name,kind,value,date,detail\n{head},张三,death,,2026-10-03,\n12345,坏行,death,,2026-10-01,\n"
    )
}

/// BC-0001 holds 低保, so a warning's disposal can open a re-check of it.
async fn dibao_held(app: &TestApp) {
    let mut tx = app.app.store().begin().await.unwrap();
    store::households::open_category(
        &mut tx,
        &store::households::NewCategoryPeriod {
            household_id: app.bachuan_village.id,
            id_number: None,
            category: "dibao",
            monitoring_kind: None,
            start_date: "2026-01-15",
            monthly_fen: None,
            reason: "测试",
            support_mode: None,
            care_level: None,
        },
    )
    .await
    .unwrap();
    store::commit(tx).await.unwrap();
}

/// `death_feed` pushed by the department and compared by a run: answers the warning's id.
async fn death_raised(app: &TestApp) -> i64 {
    let (status, body) = push_feed(app, "公安", &death_feed(app)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let console = app::Actor::console("test", domain::PlaceCode::parse("500151").unwrap());
    app.app.run_next_job(&console, "test").await.unwrap();
    let (_, list) = app
        .api_user("minzheng")
        .await
        .get("/api/v1/warnings?state=open")
        .await;
    list["items"][0]["id"].as_i64().unwrap()
}

/// W2: a department pushes a feed through the API (a bad row rejected with its line); the same
/// feed again changes nothing; a town reviewer may not push; a run raises the warning.
#[tokio::test]
async fn w2_a_pushed_feed_is_read_once_and_a_run_raises_its_warning() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        dibao_held(&app).await;
        let csv = death_feed(&app);
        let (status, body) = push_feed(&app, "公安", &csv).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        assert_eq!(body["rows_read"], 1, "{backend}");
        assert_eq!(body["rejections"][0]["line"], 3, "{backend}: {body}");
        let (status, again) = push_feed(&app, "公安", &csv).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(again["repeated"], true, "{backend}");
        assert_eq!(again["feed_id"], body["feed_id"], "{backend}");
        // A town reviewer may not push feeds.
        let bachuan_api = app.api_user("bachuan").await;
        let refused = bachuan_api
            .client
            .post(app.url("/api/v1/feeds?source=x&period=y"))
            .header("X-CSRF-Token", &bachuan_api.csrf)
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{backend}");

        let console = app::Actor::console("test", domain::PlaceCode::parse("500151").unwrap());
        let outcome = app.app.run_next_job(&console, "test").await.unwrap();
        assert!(
            matches!(outcome, Some(app::feeds::JobOutcome::Done { ref counts, .. }) if counts.new_warnings == 1),
            "{backend}: {outcome:?}"
        );
        assert!(
            app.app
                .run_next_job(&console, "test")
                .await
                .unwrap()
                .is_none(),
            "{backend}"
        );

        let minzheng = app.api_user("minzheng").await;
        let (status, list) = minzheng.get("/api/v1/warnings?state=open").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(list["total"], 1, "{backend}: {list}");
        let warning = list["items"][0].clone();
        assert_eq!(warning["rule"], "death", "{backend}");
        assert_eq!(
            warning["household_id"], app.bachuan_village.external_id,
            "{backend}"
        );
        app.stop().await;
    }
}

/// The other town and the administrator see nothing of a warning.
#[tokio::test]
async fn w3_a_warning_is_seen_only_inside_its_town() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        dibao_held(&app).await;
        let id = death_raised(&app).await;
        let path = format!("/warnings/{id}");
        // The other town and the administrator see nothing of it.
        let tuqiao = app.page_user("tuqiao").await;
        assert_eq!(
            tuqiao.get(&path).await.0,
            StatusCode::NOT_FOUND,
            "{backend}"
        );
        let (_, list) = tuqiao.get("/warnings").await;
        assert!(!list.contains(&path), "{backend}");
        let (status, _) = app.api_user("tuqiao").await.get("/api/v1/warnings").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(
            app.page_user("admin").await.get("/warnings").await.0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        app.stop().await;
    }
}

/// W3 on the pages: assigned to the village assistant, verified (not without the csrf token),
/// judged by the town only and with its note, disposed by opening a re-check case, closed; every
/// department reads the result, every step audited.
#[tokio::test]
async fn w3_the_town_takes_a_warning_through_the_loop_on_its_pages_to_a_case() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        dibao_held(&app).await;
        let id = death_raised(&app).await;
        let path = format!("/warnings/{id}");
        let bachuan = app.page_user("bachuan").await;
        let cunshe = app.page_user("cunshe").await;
        let (status, list) = bachuan.get("/warnings?late=&state=open").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(list.contains(&path), "{backend}");
        let assignee = user_id(&app, "cunshe").await.to_string();
        let response = step(
            &bachuan,
            &path,
            vec![("action", "assign".into()), ("assignee", assignee)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        // Without the csrf token nothing moves.
        let forged = cunshe
            .post_form(&path, &form(&[("action", "verify"), ("version", "2")]))
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{backend}");
        let response = step(
            &cunshe,
            &path,
            vec![
                ("action", "verify".into()),
                ("visited_on", "2026-11-27".into()),
                ("visitors", "cunshe、wangge".into()),
                ("findings", "张三已于10月3日去世，李秀英独居".into()),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        // The village assistant may not judge: the form is not offered and a post is refused.
        let (_, page) = cunshe.get(&path).await;
        assert!(!page.contains("id=\"judge\""), "{backend}");
        let response = step(
            &bachuan,
            &path,
            vec![
                ("action", "judge".into()),
                ("judgement", "confirmed".into()),
                ("note", "".into()),
            ],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response.text().await.unwrap().contains("研判意见"),
            "{backend}"
        );
        let response = step(
            &bachuan,
            &path,
            vec![
                ("action", "judge".into()),
                ("judgement", "confirmed".into()),
                ("note", "死亡属实，家庭人口变化".into()),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let response = step(
            &bachuan,
            &path,
            vec![
                ("action", "dispose".into()),
                ("disposition", "open_case".into()),
                ("case_kind", "recheck".into()),
                ("applicant", "李秀英".into()),
                ("summary", "成员死亡，重新核查".into()),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let (_, page) = bachuan.get(&path).await;
        assert!(page.contains("启动案件办理"), "{backend}");
        let case_start = page.find("<span id=\"case\">").unwrap() + "<span id=\"case\">".len();
        let tracking_number = &page[case_start..case_start + page[case_start..].find('<').unwrap()];
        assert!(
            tracking_number.starts_with("TL20261128-"),
            "{backend}: {tracking_number}"
        );
        assert_eq!(
            app.app.track(tracking_number).await.unwrap(),
            workflow::Step::Received,
            "{backend}: the case is open"
        );
        let response = step(
            &bachuan,
            &path,
            vec![("action", "close".into()), ("note", "已转入核查".into())],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        // Every department reads the state and the result.
        let (status, list) = app
            .api_user("nongye")
            .await
            .get("/api/v1/warnings?state=closed")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(
            list["items"][0]["disposition"], "open_case",
            "{backend}: {list}"
        );
        assert_eq!(list["items"][0]["closed_on"], "2026-11-28", "{backend}");
        let (_, page) = app.page_user("shenji").await.get(&path).await;
        assert!(
            page.contains("已办结") && page.contains(tracking_number),
            "{backend}"
        );
        let actions: Vec<String> = app
            .audit_of("warning", &id.to_string())
            .await
            .into_iter()
            .map(|entry| entry.event.action)
            .collect();
        assert_eq!(
            actions,
            [
                "warning.assign",
                "warning.verify",
                "warning.judge",
                "warning.dispose",
                "warning.close"
            ],
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_warning_routes_stay_in_area() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // Feeds are the district's: a town reviewer is refused the page, a department reads it.
        let bachuan = app.page_user("bachuan").await;
        assert_eq!(
            bachuan.get("/feeds").await.0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let (status, page) = app.page_user("minzheng").await.get("/feeds").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("id=\"upload\""), "{backend}");
        let (status, page) = app.page_user("shenji").await.get("/feeds").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            !page.contains("id=\"upload\""),
            "{backend}: auditors do not upload"
        );
        // A grid worker's visit raises a warning in the village; the other town never sees it.
        let wangge = app.page_user("wangge").await;
        let response = wangge
            .post_form(
                "/contacts",
                &form(&[
                    ("csrf", &wangge.csrf),
                    ("channel", "visit"),
                    ("on_date", "2026-11-28"),
                    ("household_id", app.bachuan_village.external_id),
                    ("outcome", "warning"),
                    ("findings", "户主卧床，无人照料"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/warnings/"), "{backend}: {location}");
        let (status, page) = bachuan.get(&location).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("走访发现"), "{backend}");
        let tuqiao = app.page_user("tuqiao").await;
        assert_eq!(
            tuqiao.get(&location).await.0,
            StatusCode::NOT_FOUND,
            "{backend}"
        );
        let (status, list) = app.api_user("tuqiao").await.get("/api/v1/warnings").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(list["total"], 0, "{backend}");
        // A household of the other town is not found for the grid worker's visit.
        let response = wangge
            .post_form(
                "/contacts",
                &form(&[
                    ("csrf", &wangge.csrf),
                    ("channel", "visit"),
                    ("on_date", "2026-11-28"),
                    ("household_id", app.tuqiao_village.external_id),
                    ("outcome", "recorded"),
                    ("findings", "x"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{backend}");
        // Masked for the department.
        let (_, list) = app.api_user("bumen").await.get("/api/v1/warnings").await;
        assert_eq!(list["masked"], true, "{backend}");
        assert!(
            list["items"][0]["person_name"]
                .as_str()
                .unwrap()
                .contains('*'),
            "{backend}: {list}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn w3_a_late_warning_shows_in_the_towns_work_queue() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let wangge = app.page_user("wangge").await;
        let response = wangge
            .post_form(
                "/contacts",
                &form(&[
                    ("csrf", &wangge.csrf),
                    ("channel", "visit"),
                    ("on_date", "2026-11-28"),
                    ("household_id", app.bachuan_village.external_id),
                    ("outcome", "warning"),
                    ("findings", "户主卧床，无人照料"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let warning = response.headers()["location"].to_str().unwrap().to_owned();
        let late_table = |page: &str| {
            let start = page
                .find("id=\"late-warnings\"")
                .expect("late warnings table");
            page[start..].to_owned()
        };

        // Fresh: in the queue's warning table only once it is late.
        let (_, page) = app.page_user("bachuan").await.get("/cases").await;
        assert!(!late_table(&page).contains(&warning), "{backend}");

        // Weeks later nobody has assigned it: late, in the town's queue, not in the other town's.
        app.clock.set(2027, 1, 20);
        let (status, page) = app.page_user("bachuan").await.get("/cases").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let table = late_table(&page);
        assert!(
            table.contains(&warning) && table.contains("逾期"),
            "{backend}: {table}"
        );
        let (_, page) = app.page_user("tuqiao").await.get("/cases").await;
        assert!(!late_table(&page).contains(&warning), "{backend}");
        app.stop().await;
    }
}
