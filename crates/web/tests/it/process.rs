//! Issue 14 over HTTP: the survey team (who may survey a household, listed and checked by
//! name), the date each step happened (entered afterwards, never in the future nor before the
//! step before it, time limits counted from it), and the village assistant's review and notice.

use crate::cases::{VILLAGE, act, household, ids, joint_review, ok, survey_team, user_id};
use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A user of `role` at `area` added straight to the store, then disabled when `active` is false.
async fn add_user(app: &TestApp, username: &str, role: &str, area: &str, active: bool) -> i64 {
    let mut tx = app.app.store().begin().await.unwrap();
    let id = store::users::insert(
        &mut tx,
        &store::users::NewUser {
            username,
            display_name: username,
            role,
            area_code: area,
            department: None,
            password_hash: "x",
            created_at: "2026-01-15T00:00:00Z",
        },
    )
    .await
    .unwrap();
    if !active {
        store::users::set_active(&mut tx, id, 1, false)
            .await
            .unwrap();
    }
    store::commit(tx).await.unwrap();
    id
}

fn code_of(answer: &Value) -> &str {
    answer["code"].as_str().unwrap_or_default()
}

/// BC-0140 received by the village assistant on 2026-12-01 (entered on 12-04, the clock's
/// day), compared on 12-01 and 12-02: at 入户调查. Answers the case's id.
async fn compared_in_december(app: &TestApp) -> i64 {
    app.clock.set(2026, 12, 4);
    let village = app.api_user("cunshe").await;
    let town = app.api_user("bachuan").await;
    let (status, answer) = village
        .post(
            "/api/v1/cases",
            &json!({
                "kind": "application", "channel": "village_window", "household_id": "BC-0140",
                "area_code": VILLAGE, "applicant": "韩一", "summary": "补录受理",
                "consent": {"signer": "韩一", "signed_on": "2026-11-30"},
                "received_on": "2026-12-01",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let id = answer["id"].as_i64().unwrap();
    ok(
        &town,
        id,
        json!({"action": "begin_comparison", "on": "2026-12-01"}),
    )
    .await;
    ok(
        &town,
        id,
        json!({"action": "complete_comparison", "on": "2026-12-02"}),
    )
    .await;
    id
}

/// Intake entered afterwards is dated as it happened, not in the future; a step dated before
/// the step before it is refused, naming both dates.
#[tokio::test]
async fn p4_a_step_entered_afterwards_is_dated_as_it_happened() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        app.clock.set(2026, 12, 4);
        let village = app.api_user("cunshe").await;
        let town = app.api_user("bachuan").await;
        // Intake entered afterwards: not in the future, dated as it happened.
        let intake = json!({
            "kind": "application", "channel": "village_window", "household_id": "BC-0140",
            "area_code": VILLAGE, "applicant": "韩一", "summary": "补录受理",
            "consent": {"signer": "韩一", "signed_on": "2026-11-30"},
        });
        let mut future = intake.clone();
        future["received_on"] = json!("2026-12-05");
        let (status, answer) = village.post("/api/v1/cases", &future).await;
        assert_eq!(
            (status, code_of(&answer)),
            (StatusCode::CONFLICT, "date_in_future"),
            "{backend}: {answer}"
        );
        let mut dated = intake.clone();
        dated["received_on"] = json!("2026-12-01");
        let (status, answer) = village.post("/api/v1/cases", &dated).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {answer}");
        let id = answer["id"].as_i64().unwrap();

        // A step dated before the step before it is refused, naming both dates.
        let (status, answer) = act(
            &town,
            id,
            json!({"action": "begin_comparison", "on": "2026-11-30"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}");
        assert_eq!(code_of(&answer), "date_before_previous_step", "{backend}");
        assert!(
            answer["message"].as_str().unwrap().contains("2026-12-01"),
            "{backend}: {answer}"
        );
        ok(
            &town,
            id,
            json!({"action": "begin_comparison", "on": "2026-12-01"}),
        )
        .await;
        ok(
            &town,
            id,
            json!({"action": "complete_comparison", "on": "2026-12-02"}),
        )
        .await;
        app.stop().await;
    }
}

/// The picker lists the active users whose role surveys and whose area covers the household;
/// another town cannot see the case; the team is checked by name: another town, a district
/// role, a disabled account.
#[tokio::test]
async fn p4_the_team_is_picked_from_who_may_survey() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = compared_in_december(&app).await;
        let village = app.api_user("cunshe").await;
        let ids = ids();
        let other_town_id = user_id(&app, "tuqiao").await;
        let district_id = user_id(&app, "minzheng").await;
        let disabled_id = add_user(&app, "tingyong", "village_assistant", VILLAGE, false).await;
        // The picker: active users whose role surveys and whose area covers the household.
        let (status, candidates) = village
            .get(&format!("/api/v1/cases/{id}/team-candidates"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {candidates}");
        let names: Vec<&str> = candidates["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap())
            .collect();
        for expected in ["bachuan", "cunshe", "wangge"] {
            assert!(names.contains(&expected), "{backend}: {names:?}");
        }
        for absent in ["tuqiao", "minzheng", "tingyong", "bumen"] {
            assert!(!names.contains(&absent), "{backend}: {absent} in {names:?}");
        }
        // Another town cannot even see the case.
        let (status, _) = app
            .api_user("tuqiao")
            .await
            .get(&format!("/api/v1/cases/{id}/team-candidates"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");

        // The team is checked by name: another town, a district role, a disabled account.
        let [cunshe, _] = survey_team(&app).await;
        let survey = |team: Vec<i64>, on: &str| {
            json!({"action": "record_survey", "team": team, "surveyed_on": on,
                   "household": household("BC-0140", &ids, 12000.0)})
        };
        for (member, name, code) in [
            (other_town_id, "tuqiao", "team_member_may_not_survey"),
            (district_id, "minzheng", "team_member_may_not_survey"),
            (disabled_id, "tingyong", "team_member_inactive"),
        ] {
            let (status, answer) =
                act(&village, id, survey(vec![cunshe, member], "2026-12-03")).await;
            assert_eq!(
                (status, code_of(&answer)),
                (StatusCode::CONFLICT, code),
                "{backend}: {answer}"
            );
            assert!(
                answer["message"].as_str().unwrap().contains(name),
                "{backend}: the refusal names {name}: {answer}"
            );
        }
        app.stop().await;
    }
}

/// The survey's own date: not before the comparison ended, not in the future; the village
/// assistant records the village review and posts the notice; every step keeps the date it
/// happened, the notice runs from its posting date.
#[tokio::test]
async fn p4_the_team_is_picked_from_who_may_survey_and_each_step_keeps_its_date() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = compared_in_december(&app).await;
        let village = app.api_user("cunshe").await;
        let town = app.api_user("bachuan").await;
        let ids = ids();
        let [cunshe, bachuan] = survey_team(&app).await;
        let survey = |team: Vec<i64>, on: &str| {
            json!({"action": "record_survey", "team": team, "surveyed_on": on,
                   "household": household("BC-0140", &ids, 12000.0)})
        };
        // The survey's own date: not before the comparison ended, not in the future.
        let (_, answer) = act(&village, id, survey(vec![cunshe, bachuan], "2026-12-01")).await;
        assert_eq!(code_of(&answer), "date_before_previous_step", "{backend}");
        let (_, answer) = act(&village, id, survey(vec![cunshe, bachuan], "2026-12-05")).await;
        assert_eq!(code_of(&answer), "date_in_future", "{backend}");
        ok(&village, id, survey(vec![cunshe, bachuan], "2026-12-02")).await;

        // The village assistant records the village review and posts the notice.
        assert_eq!(
            ok(
                &village,
                id,
                json!({"action": "record_village_review", "held_on": "2026-12-03", "attendance": 15, "outcome": "agreed"}),
            )
            .await,
            "joint_review"
        );
        assert_eq!(joint_review(&town, id, true).await, "notice");
        let (_, detail) = village.get(&format!("/api/v1/cases/{id}")).await;
        assert!(
            detail["offered_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("post_notice")),
            "{backend}: {detail}"
        );
        ok(
            &village,
            id,
            json!({"action": "post_notice", "on": "2026-12-04"}),
        )
        .await;

        // Every step keeps the date it happened; the notice runs from its posting date.
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(detail["received_on"], "2026-12-01", "{backend}");
        assert_eq!(detail["survey"]["surveyed_on"], "2026-12-02", "{backend}");
        assert_eq!(
            detail["village_review"]["held_on"], "2026-12-03",
            "{backend}"
        );
        assert_eq!(detail["notice"]["posted_on"], "2026-12-04", "{backend}");
        let on_of = |text: &str| -> Vec<String> {
            detail["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|entry| entry["text"].as_str().unwrap_or_default().contains(text))
                .map(|entry| entry["on"].as_str().unwrap().to_owned())
                .collect()
        };
        assert!(
            on_of("受理").contains(&"2026-12-01".to_owned()),
            "{backend}: {detail}"
        );
        let deadlines = detail["deadlines"].as_array().unwrap();
        assert!(
            deadlines
                .iter()
                .any(|deadline| deadline["started_on"] == "2026-12-04"),
            "{backend}: the notice's limit counts from its posting date: {deadlines:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn p4_the_case_page_offers_the_picker_and_the_date_of_each_step() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = crate::cases::open_application(&app, "BC-0141", "页面补录").await;
        let town_page = app.page_user("bachuan").await;
        let (status, html) = town_page.get(&format!("/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("name=\"on\""),
            "{backend}: a date on each form"
        );
        // A date after today is refused on the page, named in Chinese.
        let response = town_page
            .post_form(
                &format!("/cases/{id}/actions"),
                &[
                    ("csrf".into(), town_page.csrf.clone()),
                    ("action".into(), "begin_comparison".into()),
                    ("on".into(), "2026-11-29".into()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{backend}");
        assert!(
            response.text().await.unwrap().contains("晚于今天"),
            "{backend}"
        );
        let town = app.api_user("bachuan").await;
        ok(&town, id, json!({"action": "begin_comparison"})).await;
        ok(&town, id, json!({"action": "complete_comparison"})).await;
        let village_page = app.page_user("cunshe").await;
        let (_, html) = village_page.get(&format!("/cases/{id}")).await;
        assert!(
            html.contains("name=\"team\"") && html.contains("wangge") && !html.contains("tuqiao"),
            "{backend}: the picker lists who may survey"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn i14_unknown_body_fields_are_refused_by_name_and_a_recheck_needs_a_held_category() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = crate::cases::open_application(&app, "BC-0142", "字段检查").await;
        let town = app.api_user("bachuan").await;
        let village = app.api_user("cunshe").await;
        // (who, path, body, the field named): a misspelt field is never silently ignored.
        let table: Vec<(&crate::helpers::ApiUser, String, Value, &str)> = vec![
            (
                &town,
                format!("/api/v1/cases/{id}/actions"),
                json!({"action": "begin_comparison", "note": "多余"}),
                "note",
            ),
            (
                &town,
                format!("/api/v1/cases/{id}/actions"),
                json!({"action": "refuse", "reason": "不符合", "reasons": "拼错"}),
                "reasons",
            ),
            (
                &town,
                format!("/api/v1/cases/{id}/actions"),
                json!({"action": "record_joint_review", "verdicts": [{"category": "dibao", "verdict": "confirm", "why": "x"}]}),
                "verdicts[0].why",
            ),
            (
                &village,
                "/api/v1/cases".to_owned(),
                json!({"kind": "application", "channel": "village_window", "household_id": "BC-0143",
                       "area_code": VILLAGE, "applicant": "韩一", "consent": {"signer": "韩一", "signed_on": "2026-11-28"},
                       "recieved_on": "2026-11-27"}),
                "recieved_on",
            ),
            (
                &village,
                "/api/v1/cases".to_owned(),
                json!({"kind": "application", "channel": "village_window", "household_id": "BC-0143",
                       "area_code": VILLAGE, "applicant": "韩一", "consent": {"signer": "韩一", "date": "2026-11-28"}}),
                "consent.date",
            ),
            (
                &town,
                "/api/v1/households".to_owned(),
                json!({"id": "BC-0144", "area_code": VILLAGE, "members": [], "colour": "red"}),
                "colour",
            ),
        ];
        for (user, path, body, field) in table {
            let (status, answer) = user.post(&path, &body).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend}: {path} {answer}"
            );
            assert_eq!(answer["fields"][0]["field"], field, "{backend}: {answer}");
            assert!(
                answer["fields"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("未知字段"),
                "{backend}: {answer}"
            );
        }
        // Sign-in names the unknown field too.
        let response = app
            .anonymous()
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "bachuan", "password": "x", "remember": true}))
            .send()
            .await
            .unwrap();
        let (status, answer) = crate::helpers::json_of(response).await;
        assert_eq!(
            (status, answer["fields"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("remember")),
            "{backend}: {answer}"
        );
        // A re-check of a household that holds no category is refused.
        let (status, answer) = town
            .post(
                "/api/v1/cases",
                &json!({"kind": "recheck", "channel": "town_window",
                        "household_id": app.bachuan_community.external_id,
                        "area_code": app.bachuan_community.area, "applicant": app.bachuan_community.head_name}),
            )
            .await;
        assert_eq!(
            (status, code_of(&answer)),
            (StatusCode::CONFLICT, "nothing_held"),
            "{backend}: {answer}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn i14_registry_search_finds_households_by_town_or_village_name() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let district = app.api_user("minzheng").await;
        for (query, area) in [
            ("永院村", app.bachuan_village.area),
            ("永院", app.bachuan_village.area),
            ("巴川街道", "500151001"),
            ("巴川", "500151001"),
            ("土桥镇", "500151100"),
        ] {
            let (status, body) = district.get(&format!("/api/v1/households?q={query}")).await;
            assert_eq!(status, StatusCode::OK, "{backend}: {query} {body}");
            let items = body["items"].as_array().unwrap();
            assert!(
                !items.is_empty(),
                "{backend}: {query} finds nothing: {body}"
            );
            for item in items {
                assert!(
                    item["area_code"].as_str().unwrap().starts_with(area),
                    "{backend}: {query}: {item}"
                );
            }
        }
        app.stop().await;
    }
}

/// An application made online (so that the applicant follows it on /track by the receipt),
/// through to a joint review that confirms the proposal and adds the monitoring tag (改判纳入),
/// so that two departments decide: district civil affairs declines its categories (家庭财产超过
/// 规定), agriculture confirms the tag; the case is confirmed in part. Answers the receipt and
/// the case's id.
async fn partly_declined(app: &TestApp) -> (String, i64) {
    let backend = app.backend;
    // Applied online, so that the applicant follows it on /track by the receipt.
    let (receipt, household_id) = apply_online(app).await;
    let town = app.api_user("bachuan").await;
    let (_, queue) = town.get("/api/v1/cases").await;
    let id = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["household_id"] == household_id.as_str())
        .unwrap_or_else(|| panic!("{backend}: {queue}"))["id"]
        .as_i64()
        .unwrap();
    let village = app.api_user("cunshe").await;
    ok(&town, id, json!({"action": "begin_comparison"})).await;
    ok(&town, id, json!({"action": "complete_comparison"})).await;
    let team = survey_team(app).await;
    ok(
        &village,
        id,
        json!({"action": "record_survey", "team": team, "household": household(&household_id, &ids(), 12000.0)}),
    )
    .await;
    ok(
        &village,
        id,
        json!({"action": "record_village_review", "attendance": 9, "outcome": "agreed"}),
    )
    .await;
    // The meeting confirms the proposal and adds the monitoring tag (改判纳入), so two
    // departments decide.
    let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
    let proposal = &detail["proposal"];
    let mut verdicts: Vec<Value> = proposal["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|category| *category != "monitoring")
        .map(|category| json!({"category": category, "verdict": "confirm"}))
        .collect();
    let proposed_monitoring = proposal["categories"]
        .as_array()
        .unwrap()
        .contains(&json!("monitoring"));
    verdicts.push(if proposed_monitoring {
        json!({"category": "monitoring", "verdict": "confirm"})
    } else {
        json!({"category": "monitoring", "verdict": "override", "reason": "因病支出大，纳入监测"})
    });
    let judgements: Vec<Value> = proposal["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| json!({"rule": test["rule"], "param": test["param"], "holds": true, "reason": "会议核定"}))
        .collect();
    let kind = match proposal["monitoring_kind"].as_str() {
        Some(kind) => kind.to_owned(),
        None => "edge_prone".to_owned(),
    };
    assert_eq!(
        ok(
            &town,
            id,
            json!({"action": "record_joint_review", "verdicts": verdicts, "judgements": judgements,
                   "monitoring_kind": kind, "monitoring_kind_reason": "会议确定"}),
        )
        .await,
        "notice",
        "{backend}"
    );
    ok(&town, id, json!({"action": "post_notice"})).await;
    crate::cases::past_notice(app, &town, id).await;
    // Sessions idle out while the notice runs: sign in again.
    let civil = app.api_user("minzheng").await;
    let agriculture = app.api_user("nongye").await;
    let (_, detail) = civil.get(&format!("/api/v1/cases/{id}")).await;
    let decided: Vec<(String, String)> = detail["decided"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["category"].as_str().unwrap().to_owned(),
                d["department"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        decided
            .iter()
            .any(|(_, department)| department == "district_agriculture"),
        "{backend}: {decided:?}"
    );
    let mut step = String::new();
    for (category, department) in &decided {
        step = if department == "district_civil_affairs" {
            ok(
                &civil,
                id,
                json!({"action": "decline", "category": category, "reason": "家庭财产超过规定"}),
            )
            .await
        } else {
            ok(
                &agriculture,
                id,
                json!({"action": "confirm", "category": category}),
            )
            .await
        };
    }
    assert_eq!(step, "confirmed", "{backend}");
    (receipt, id)
}

/// P8, P9: confirmed in part, the case offers the delivery of the refusal notice under its time
/// limit; the 告知书 names the part declined and the rights of review; until delivered the case
/// page says so, the town's queue holds it and /track names the part declined.
#[tokio::test]
async fn p8_a_partial_decline_prints_its_refusal_notice_and_waits_for_its_delivery() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (receipt, id) = partly_declined(&app).await;
        let town = app.api_user("bachuan").await;

        let (status, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {detail}");
        assert!(
            detail["offered_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("deliver_refusal_notice")),
            "{backend}: {detail}"
        );
        assert!(
            detail["deadlines"]
                .as_array()
                .unwrap()
                .iter()
                .any(|deadline| deadline["limit"] == "refusal_notice"),
            "{backend}: the notice's time limit runs: {detail}"
        );
        let page = app.page_user("bachuan").await;
        let (status, letter) = page.get(&format!("/cases/{id}/print/refusal")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            letter.contains("部分类别予以认定") && letter.contains("家庭财产超过规定"),
            "{backend}: {letter}"
        );
        assert!(
            letter.contains("60日内依法申请行政复议") && letter.contains("6个月内"),
            "{backend}: {letter}"
        );
        // Unset, the 告知书 names no review body and the court generically.
        assert!(
            letter.contains("依法向人民法院提起行政诉讼")
                && !letter.contains("reconsideration-body"),
            "{backend}: {letter}"
        );
        // Not delivered yet: the case page says so, the town's queue holds the case under the
        // delivery limit (3 working days from the decision), and /track names the part declined
        // with the rights of review.
        let (_, case_page) = page.get(&format!("/cases/{id}")).await;
        assert!(
            case_page.contains("id=\"refusal-notice\"") && case_page.contains("待送达"),
            "{backend}"
        );
        let (_, queue) = town.get("/api/v1/cases?mine=1").await;
        let line = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["id"] == id)
            .unwrap_or_else(|| panic!("{backend}: {queue}"))
            .clone();
        assert_eq!(line["limit"], "refusal_notice", "{backend}: {line}");
        assert_eq!(line["late"], false, "{backend}: {line}");
        let (status, tracked) = track(&app, &app.base, &receipt).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {tracked}");
        assert!(
            tracked.contains("不予认定告知书（部分）")
                && tracked.contains("家庭财产超过规定")
                && tracked.contains("60日内依法申请行政复议")
                && tracked.contains("6个月内依法向人民法院提起行政诉讼")
                && tracked.contains("书面告知书由所在镇街送达"),
            "{backend}: {tracked}"
        );
        app.stop().await;
    }
}

/// P9: the delivery is recorded with the day it happened, never in the future; delivered, the
/// case leaves the queue.
#[tokio::test]
async fn p9_the_delivery_of_a_refusal_notice_is_dated_never_in_the_future() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, id) = partly_declined(&app).await;
        let town = app.api_user("bachuan").await;
        let page = app.page_user("bachuan").await;
        // The delivery is recorded with the day it happened: never in the future.
        let today = app.app.today();
        let tomorrow = today.succ_opt().unwrap().to_string();
        let (status, answer) = act(
            &town,
            id,
            json!({"action": "deliver_refusal_notice", "on": tomorrow}),
        )
        .await;
        assert_eq!(
            (status, code_of(&answer)),
            (StatusCode::CONFLICT, "date_in_future"),
            "{backend}: {answer}"
        );
        ok(
            &town,
            id,
            json!({"action": "deliver_refusal_notice", "on": today.to_string()}),
        )
        .await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(
            detail["refusal_notice_delivered_on"],
            today.to_string(),
            "{backend}: {detail}"
        );
        let (_, case_page) = page.get(&format!("/cases/{id}")).await;
        assert!(
            case_page.contains(&format!("已于 {today} 送达申请人")),
            "{backend}"
        );
        let (_, queue) = town.get("/api/v1/cases?mine=1").await;
        assert!(
            !queue["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["id"] == id),
            "{backend}: delivered, off the queue: {queue}"
        );
        app.stop().await;
    }
}

/// The review bodies are settings: served with them, the 告知书, the notice's rights and
/// /track name them.
#[tokio::test]
async fn p9_the_review_bodies_set_are_named_by_the_letters_and_track() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (receipt, id) = partly_declined(&app).await;
        let town = app.api_user("bachuan").await;
        let page = app.page_user("bachuan").await;
        let today = app.app.today();
        ok(
            &town,
            id,
            json!({"action": "deliver_refusal_notice", "on": today.to_string()}),
        )
        .await;
        // The review bodies are settings: served with them, the 告知书, the notice's rights
        // and /track name them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = web::WebConfig {
            review_bodies: web::ReviewBodies {
                reconsideration: Some("测试区人民政府".to_owned()),
                court: Some("测试区人民法院".to_owned()),
            },
            ..web::WebConfig::default()
        };
        tokio::spawn(web::serve(listener, app.app.clone(), config, async move {
            let _ = stopped.await;
        }));
        for path in [
            format!("/cases/{id}/print/refusal"),
            format!("/cases/{id}/print/notice"),
        ] {
            let letter = page
                .client
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                letter.contains(
                    "依法向<span id=\"reconsideration-body\">测试区人民政府</span>申请行政复议"
                ) && letter.contains(
                    "依法向<span id=\"litigation-court\">测试区人民法院</span>提起行政诉讼"
                ),
                "{backend}: {path}: {letter}"
            );
        }
        let (status, tracked) = track(&app, &base, &receipt).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            tracked.contains("60日内依法向测试区人民政府申请行政复议")
                && tracked.contains("6个月内依法向测试区人民法院提起行政诉讼")
                && tracked.contains(&format!("书面告知书已于{today}送达")),
            "{backend}: {tracked}"
        );
        let _ = stop.send(());
        app.stop().await;
    }
}

/// An online application (`POST /apply`) of the fixture's village: its receipt (查询码) and
/// the household id it was given.
async fn apply_online(app: &TestApp) -> (String, String) {
    let client = app.anonymous();
    let csrf = app.form_csrf(&client, "/apply").await;
    let applicant = ids()[0].clone();
    let response = client
        .post(app.url("/apply"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "韩一"),
            ("id_number", applicant.as_str()),
            ("phone", "13812345678"),
            ("village", VILLAGE),
            ("household_size", "3"),
            ("hardship", "家庭财产情况待核实"),
            ("consent", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let done = response.text().await.unwrap();
    let marker = "id=\"apply-number\">";
    let start = done.find(marker).unwrap() + marker.len();
    let end = done[start..].find('<').unwrap() + start;
    let today = app.app.today().format("%Y%m%d");
    (done[start..end].to_owned(), format!("WS{today}-0001"))
}

/// `POST /track` on the server at `base` with the receipt and the applicant's phone.
async fn track(app: &TestApp, base: &str, receipt: &str) -> (StatusCode, String) {
    let response = app
        .anonymous()
        .post(format!("{base}/track"))
        .form(&[("number", receipt), ("proof", "13812345678")])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn p8_a_decline_of_a_category_held_per_person_names_the_member_on_the_notice() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let team = [
            user_id(&app, "cunshe").await,
            user_id(&app, "bachuan").await,
        ];
        // 特困 for the old man alone (as in `d2_p8_tekun_is_confirmed_for_the_one_member_who_qualifies`).
        let household_record = json!({
            "id": "BC-0810", "area_code": VILLAGE, "hukou": "rural",
            "members": [
                {"id_number": crate::helpers::id_number("50022419500315102"), "name": "韩老", "relation": "head", "care_need": "partial", "income_12m": 0},
                {"id_number": crate::helpers::id_number("50022419580505106"), "name": "杨婆", "relation": "spouse", "income_12m": 30000},
            ],
            "income_12m": {"wages": 30000},
        });
        let (id, _) = crate::cases::apply(&village, "BC-0810").await;
        crate::cases::through_review(&app, id, &team, household_record).await;
        let town = app.api_user("bachuan").await;
        assert_eq!(joint_review(&town, id, true).await, "notice", "{backend}");
        ok(&town, id, json!({"action": "post_notice"})).await;
        crate::cases::past_notice(&app, &town, id).await;
        let civil = app.api_user("minzheng").await;
        assert_eq!(
            ok(
                &civil,
                id,
                json!({"action": "decline", "category": "tekun", "reason": "有赡养能力的义务人"})
            )
            .await,
            "refused",
            "{backend}"
        );
        let page = app.page_user("bachuan").await;
        let (status, letter) = page.get(&format!("/cases/{id}/print/refusal")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            letter.contains("特困人员（韩老）：有赡养能力的义务人") && !letter.contains("杨婆"),
            "{backend}: {letter}"
        );
        app.stop().await;
    }
}
