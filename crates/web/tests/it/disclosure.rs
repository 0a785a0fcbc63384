//! 公开 (issue 14 item 1) over HTTP: a confirmed household enters its village's and town's
//! public list (no ID numbers, the name masked), dated — the list as in force on an earlier
//! day leaves it out, an exit takes it off from its date — the board sheet and its posting
//! (audited) by the village's users only, the supervision telephone (issue 15 item 9), and
//! the public pages' per-client limit.

use crate::cases::{
    VILLAGE, confirm_all, household, ids, joint_review, ok, past_notice, through_review, user_id,
};
use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOWN: &str = "500151001";

/// Enrols BC-0100 of 永院村 through every step; returns the day it was confirmed.
async fn enrol(app: &TestApp) -> String {
    let village = app.api_user("cunshe").await;
    let team = [user_id(app, "cunshe").await, user_id(app, "bachuan").await];
    let (status, body) = village
        .post(
            "/api/v1/cases",
            &json!({
                "kind": "application", "channel": "village_window", "household_id": "BC-0100",
                "area_code": VILLAGE, "applicant": "韩一",
                "consent": {"signer": "韩一", "signed_on": "2026-11-28"},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    through_review(app, id, &team, household("BC-0100", &ids(), 12000.0)).await;
    let town = app.api_user("bachuan").await;
    joint_review(&town, id, true).await;
    ok(&town, id, json!({"action": "post_notice"})).await;
    past_notice(app, &town, id).await;
    assert_eq!(confirm_all(app, id).await, "confirmed");
    app.app.today().to_string()
}

/// The exit of BC-0100 through every step, confirmed on the clock's day.
async fn exit(app: &TestApp) {
    let town = app.api_user("bachuan").await;
    let team = [user_id(app, "cunshe").await, user_id(app, "bachuan").await];
    let (status, body) = town
        .post(
            "/api/v1/cases",
            &json!({"kind": "exit", "channel": "town_window", "household_id": "BC-0100", "area_code": VILLAGE, "applicant": "韩一", "summary": "务工收入稳定"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    through_review(app, id, &team, household("BC-0100", &ids(), 150000.0)).await;
    joint_review(&town, id, false).await;
    ok(&town, id, json!({"action": "post_notice"})).await;
    past_notice(app, &town, id).await;
    assert_eq!(confirm_all(app, id).await, "confirmed");
}

async fn public_json(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let response = app
        .anonymous()
        .get(app.url(&format!("/api/v1/disclosure/{query}")))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn public_page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app.anonymous().get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn names(list: &Value) -> Vec<String> {
    list["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A confirmed household enters its village's and town's public lists, without ID numbers or
/// full names, dated: not in another town's, nor in the list as in force before; a grid, the
/// district, a bad date or a day to come are refused naming the field.
#[tokio::test]
async fn i14_a_confirmed_household_is_disclosed_masked_and_dated() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let before = app.app.today().to_string();
        let confirmed_on = enrol(&app).await;
        let ids = ids();
        // The village's and the town's lists, public, without ID numbers or full names.
        for area in [VILLAGE, TOWN] {
            let (status, list) = public_json(&app, area).await;
            assert_eq!(status, StatusCode::OK, "{backend}: {list}");
            assert_eq!(names(&list), vec!["韩*"], "{backend}: {list}");
            let line = &list["lines"][0];
            assert_eq!(line["household_size"], 3, "{backend}: {list}");
            assert_eq!(line["start_date"], confirmed_on.as_str(), "{backend}");
            assert_eq!(line["village_name"], "永院村", "{backend}");
            assert!(line["category_label"].as_str().is_some(), "{backend}");
            let text = list.to_string();
            for private in [ids[0].as_str(), ids[1].as_str(), "韩一", "杨二"] {
                assert!(!text.contains(private), "{backend}: {private} in {text}");
            }
            let (status, page) = public_page(&app, &format!("/public/{area}")).await;
            assert_eq!(status, StatusCode::OK, "{backend}");
            assert!(
                page.contains("韩*") && page.contains("公开名单"),
                "{backend}"
            );
            assert!(!page.contains(ids[0].as_str()), "{backend}");
        }
        // Another town's list does not have it; the list as in force before does not either.
        let (_, other) = public_json(&app, "500151100").await;
        assert!(names(&other).is_empty(), "{backend}: {other}");
        let (_, earlier) = public_json(&app, &format!("{VILLAGE}?date={before}")).await;
        assert!(names(&earlier).is_empty(), "{backend}: {earlier}");
        // A grid, a district, a bad date, a day to come: refused naming the field.
        for (query, field) in [
            ("500151001200001", "area"),
            ("500151", "area"),
            (&format!("{VILLAGE}?date=2026-13-01") as &str, "date"),
            (&format!("{VILLAGE}?date=2099-01-01"), "date"),
        ] {
            let (status, body) = public_json(&app, query).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend}: {query}"
            );
            assert_eq!(body["fields"][0]["field"], field, "{backend}: {body}");
        }
        app.stop().await;
    }
}

/// The publication is listed on /disclosure and posted by the village assistant only (once),
/// audited; the exit takes the household off the list from its date, the list as in force
/// before it still has it, and is published too.
#[tokio::test]
async fn i14_the_village_posts_its_board_sheet_once_and_an_exit_is_published() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let confirmed_on = enrol(&app).await;
        // The publication: listed on /disclosure, posted by the village assistant, audited.
        let assistant = app.page_user("cunshe").await;
        let (status, publications) = assistant.get("/disclosure").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            publications.contains(&confirmed_on) && publications.contains("未张贴"),
            "{backend}: {publications}"
        );
        let (status, sheet) = assistant
            .get(&format!("/villages/{VILLAGE}/print/disclosure"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            sheet.contains("韩*") && sheet.contains("id=\"disclosure-sign-block\""),
            "{backend}: {sheet}"
        );
        // Another town's reviewer and a grid worker may not post; the other town may not print.
        let other_town = app.page_user("tuqiao").await;
        let (status, _) = other_town
            .get(&format!("/villages/{VILLAGE}/print/disclosure"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        for user in [&other_town, &app.page_user("wangge").await] {
            let response = user
                .post_form(
                    &format!("/villages/{VILLAGE}/disclosure/posted"),
                    &[("csrf".to_owned(), user.csrf.clone())],
                )
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        }
        let response = assistant
            .post_form(
                &format!("/villages/{VILLAGE}/disclosure/posted"),
                &[
                    ("csrf".to_owned(), assistant.csrf.clone()),
                    ("posted_on".to_owned(), confirmed_on.clone()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let (_, publications) = assistant.get("/disclosure").await;
        assert!(
            !publications.contains("未张贴"),
            "{backend}: {publications}"
        );
        let actions: Vec<String> = app
            .audit_of("disclosure", VILLAGE)
            .await
            .into_iter()
            .map(|entry| entry.event.action)
            .collect();
        assert_eq!(
            actions,
            vec!["disclosure.publish", "disclosure.posted"],
            "{backend}"
        );
        // Nothing left to post: a second posting names the field.
        let response = assistant
            .post_form(
                &format!("/villages/{VILLAGE}/disclosure/posted"),
                &[("csrf".to_owned(), assistant.csrf.clone())],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );

        // The exit takes the household off the list from its date; the list as in force
        // before it still has it.
        app.clock.set(2027, 3, 1);
        exit(&app).await;
        let exited_on = app.app.today();
        let (_, now) = public_json(&app, VILLAGE).await;
        assert!(names(&now).is_empty(), "{backend}: {now}");
        let day_before = exited_on.pred_opt().unwrap();
        let (_, then) = public_json(&app, &format!("{VILLAGE}?date={day_before}")).await;
        assert_eq!(names(&then), vec!["韩*"], "{backend}: {then}");
        let actions = app.audit_of("disclosure", VILLAGE).await;
        assert_eq!(actions.len(), 3, "{backend}: the exit is published");
        app.stop().await;
    }
}

/// A household enrolled without a case (a roll import, or before 公开) gets its line from the
/// start-up fill, once.
#[tokio::test]
async fn i14_a_household_enrolled_without_a_case_is_disclosed_by_the_start_up_fill_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;

        // A household enrolled without a case (a roll import, or before 公开) gets its line
        // from the start-up fill, once.
        let community = &app.bachuan_community;
        let mut tx = app.app.store().begin().await.unwrap();
        store::households::open_category(
            &mut tx,
            &store::households::NewCategoryPeriod {
                household_id: community.id,
                id_number: None,
                category: "dibao",
                monitoring_kind: None,
                start_date: "2026-01-01",
                monthly_fen: Some(50_000),
                reason: "一门入库",
                support_mode: None,
                care_level: None,
            },
        )
        .await
        .unwrap();
        store::commit(tx).await.unwrap();
        assert_eq!(
            app.app.backfill_disclosure("test").await.unwrap(),
            1,
            "{backend}"
        );
        assert_eq!(
            app.app.backfill_disclosure("test").await.unwrap(),
            0,
            "{backend}"
        );
        let (_, list) = public_json(&app, community.area).await;
        assert_eq!(names(&list), vec!["钱*阳"], "{backend}: {list}");
        assert_eq!(list["lines"][0]["monthly_yuan"], "500.00", "{backend}");
        assert_eq!(list["lines"][0]["start_date"], "2026-01-01", "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn i15_the_supervision_phone_is_a_setting_shown_publicly_and_the_public_pages_are_limited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The same app served with the supervision telephone set.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = web::WebConfig {
            supervision_phone: Some("023-4567 1234".to_owned()),
            ..web::WebConfig::default()
        };
        tokio::spawn(web::serve(listener, app.app.clone(), config, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let page = client
            .get(format!("{base}/public/{VILLAGE}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"supervision-phone\">023-4567 1234<"),
            "{backend}: {page}"
        );
        let list: Value = client
            .get(format!("{base}/api/v1/disclosure/{VILLAGE}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["supervision_phone"], "023-4567 1234", "{backend}");
        // The board sheet and the village notice carry it with the rights of review.
        let assistant = app.page_user("cunshe").await;
        for path in [
            format!("/villages/{VILLAGE}/print/disclosure"),
            format!("/villages/{VILLAGE}/print/notice"),
        ] {
            let sheet = assistant
                .client
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                sheet.contains("023-4567 1234"),
                "{backend}: {path}: {sheet}"
            );
            assert!(sheet.contains("class=\"sign-block\""), "{backend}: {path}");
        }
        // Without the setting there is no telephone line.
        let (_, plain) = public_page(&app, &format!("/public/{VILLAGE}")).await;
        assert!(!plain.contains("supervision-phone"), "{backend}");
        let _ = stop.send(());

        // Each client is limited, as on /track; another client is not held up.
        let crowd = app.anonymous_from("127.0.0.3".parse().unwrap());
        let mut last = StatusCode::OK;
        for _ in 0..=web::TRACK_LOOKUPS_PER_MINUTE {
            last = crowd
                .get(app.url(&format!("/api/v1/disclosure/{VILLAGE}")))
                .send()
                .await
                .unwrap()
                .status();
        }
        assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "{backend}");
        let page = crowd
            .get(app.url(&format!("/public/{VILLAGE}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS, "{backend}");
        let (status, _) = public_page(&app, &format!("/public/{VILLAGE}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        app.stop().await;
    }
}
