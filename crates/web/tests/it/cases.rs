//! Issue 4 over HTTP: an application driven through every step by the right users to
//! enrolment, each wrong move refused with its stable code, an exit and a re-check end to end,
//! the work queue, the printouts and the public tracking page.

use crate::helpers::{ApiUser, PageUser, TestApp, backends, household_form, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const VILLAGE: &str = "500151001200";

pub(crate) async fn user_id(app: &TestApp, username: &str) -> i64 {
    let mut conn = app.app.store().read().await.unwrap();
    store::users::by_username(&mut conn, username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A poor household of three in 永院村: 12 000 yuan of wages a year (or `wages`).
pub(crate) fn household(external_id: &str, ids: &[String; 3], wages: f64) -> Value {
    json!({
        "id": external_id, "area_code": VILLAGE, "hukou": "rural",
        "members": [
            {"id_number": ids[0], "name": "韩一", "relation": "head"},
            {"id_number": ids[1], "name": "杨二", "relation": "spouse"},
            {"id_number": ids[2], "name": "韩三", "relation": "sibling"},
        ],
        "income_12m": {"wages": wages},
    })
}

/// The joint survey team of the tests: the village assistant and the town reviewer.
pub(crate) async fn survey_team(app: &TestApp) -> [i64; 2] {
    [user_id(app, "cunshe").await, user_id(app, "bachuan").await]
}

/// 受理 by the village assistant: a first application of household `household_id` in 永院村,
/// with the applicant's consent; returns the case id.
pub(crate) async fn open_application(app: &TestApp, household_id: &str, summary: &str) -> i64 {
    open_application_tracked(app, household_id, summary).await.0
}

/// `open_application`, answering the case's id and its tracking number (受理编号).
pub(crate) async fn open_application_tracked(
    app: &TestApp,
    household_id: &str,
    summary: &str,
) -> (i64, String) {
    let village = app.api_user("cunshe").await;
    let (status, body) = village
        .post(
            "/api/v1/cases",
            &json!({
                "kind": "application", "channel": "village_window", "household_id": household_id,
                "area_code": VILLAGE, "applicant": "韩一", "summary": summary,
                "consent": {"signer": "韩一", "signed_on": "2026-11-28"},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["tracking_number"].as_str().unwrap().to_owned(),
    )
}

pub(crate) fn ids() -> [String; 3] {
    [
        id_number("50022419850101139"),
        id_number("50022419860101140"),
        id_number("50022419900101143"),
    ]
}

pub(crate) async fn act(user: &ApiUser, id: i64, body: Value) -> (StatusCode, Value) {
    user.post(&format!("/api/v1/cases/{id}/actions"), &body)
        .await
}

/// Asserts the move goes through and returns the new step.
pub(crate) async fn ok(user: &ApiUser, id: i64, body: Value) -> String {
    let (status, answer) = act(user, id, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body} → {answer}");
    answer["step"].as_str().unwrap().to_owned()
}

/// Asserts the move is refused with `code` (409 for a workflow refusal) and a Chinese message.
async fn refused(user: &ApiUser, id: i64, body: Value, code: &str) {
    let (status, answer) = act(user, id, body.clone()).await;
    assert_eq!(answer["code"], code, "{body} → {answer}");
    assert!(
        matches!(
            status,
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "{status}"
    );
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "{answer}"
    );
}

/// The joint review agreeing with the rules engine (`agree`) or overriding every proposed
/// category with a written reason.
pub(crate) async fn joint_review(town: &ApiUser, id: i64, agree: bool) -> String {
    let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
    let proposal = &detail["proposal"];
    assert!(
        proposal["explanation"].as_str().is_some(),
        "the proposal comes with its explanation: {detail}"
    );
    let verdicts: Vec<Value> = proposal["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|category| {
            if agree {
                json!({"category": category, "verdict": "confirm"})
            } else {
                json!({"category": category, "verdict": "override", "reason": "务工收入稳定，已超过标准"})
            }
        })
        .collect();
    let monitoring_kind = if agree {
        proposal["monitoring_kind"].clone()
    } else {
        Value::Null
    };
    // 待人工核定: while a pending test is unjudged the meeting cannot pass; each is judged with
    // a reason and kept with the review.
    let pending = proposal["pending"].as_array().unwrap().clone();
    if let Some(first) = pending.first() {
        let body = json!({"action": "record_joint_review", "verdicts": verdicts, "monitoring_kind": monitoring_kind});
        let (_, answer) = act(town, id, body).await;
        assert_eq!(answer["code"], "pending_unjudged", "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains(first["text"].as_str().unwrap()),
            "the refusal names the pending test: {answer}"
        );
    }
    let judgements: Vec<Value> = pending
        .iter()
        .map(|test| {
            json!({"rule": test["rule"], "param": test["param"], "holds": agree, "reason": "入户核实后由会议核定"})
        })
        .collect();
    // D2: a 特困 the meeting starts records its 供养方式.
    let support_mode = if agree
        && proposal["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("tekun"))
    {
        json!("dispersed")
    } else {
        Value::Null
    };
    let step = ok(
        town,
        id,
        json!({"action": "record_joint_review", "verdicts": verdicts, "monitoring_kind": monitoring_kind, "judgements": judgements, "support_mode": support_mode}),
    )
    .await;
    let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(
        detail["joint_review"]["judgements"]
            .as_array()
            .unwrap()
            .len(),
        pending.len(),
        "the judgements are kept with the review: {detail}"
    );
    step
}

/// The joint review confirming every proposed category but the monitoring tag, which the
/// meeting leaves out because the monitoring line has no value yet: the pending line test is
/// judged 不符合, every other pending test 符合.
pub(crate) async fn joint_review_without_monitoring(town: &ApiUser, id: i64) -> String {
    let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
    let proposal = &detail["proposal"];
    let verdicts: Vec<Value> = proposal["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|category| {
            if category == "monitoring" {
                json!({"category": category, "verdict": "override", "reason": "监测收入线尚未公布，暂不纳入监测"})
            } else {
                json!({"category": category, "verdict": "confirm"})
            }
        })
        .collect();
    let judgements: Vec<Value> = proposal["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| {
            let line = test["param"] == "monitoring.income_line";
            json!({"rule": test["rule"], "param": test["param"], "holds": !line, "reason": "会议核定"})
        })
        .collect();
    ok(
        town,
        id,
        json!({"action": "record_joint_review", "verdicts": verdicts, "judgements": judgements}),
    )
    .await
}

/// Each district department confirms its own categories; returns the last step.
pub(crate) async fn confirm_all(app: &TestApp, id: i64) -> String {
    let civil = app.api_user("minzheng").await;
    let agriculture = app.api_user("nongye").await;
    let (_, detail) = civil.get(&format!("/api/v1/cases/{id}")).await;
    let mut step = String::new();
    for decided in detail["decided"].as_array().unwrap() {
        let department = if decided["department"] == "district_agriculture" {
            &agriculture
        } else {
            &civil
        };
        step = ok(
            department,
            id,
            json!({"action": "confirm", "category": decided["category"]}),
        )
        .await;
    }
    step
}

/// Moves the clock to the day after the notice ends.
pub(crate) async fn past_notice(app: &TestApp, town: &ApiUser, id: i64) {
    let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
    let ends: chrono::NaiveDate = detail["notice"]["ends_on"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let next = ends.succ_opt().unwrap();
    use chrono::Datelike;
    app.clock.set(next.year(), next.month(), next.day());
}

/// The survey from the case page's form, by the village assistant with `team`.
async fn survey_by_page(
    page: &PageUser,
    id: i64,
    external_id: &str,
    ids: &[String; 3],
    wages: &str,
    team: &[i64],
) -> reqwest::Response {
    let mut pairs = household_form(
        Some(&page.csrf),
        0,
        external_id,
        VILLAGE,
        &[
            (ids[0].as_str(), "韩一", "head"),
            (ids[1].as_str(), "杨二", "spouse"),
            (ids[2].as_str(), "韩三", "sibling"),
        ],
    );
    pairs.push(("action".into(), "record_survey".into()));
    pairs.push(("inc_wages".into(), wages.into()));
    for member in team {
        pairs.push(("team".into(), member.to_string()));
    }
    page.post_form(&format!("/cases/{id}/actions"), &pairs)
        .await
}

/// 受理 → 信息比对 → 入户调查 → 村社评议 of a first application of BC-0100 (by cunshe and
/// bachuan, `household` with 12 000 yuan of wages), standing at 镇街联合研判. Answers its id and
/// tracking number.
async fn at_joint_review(app: &TestApp) -> (i64, String) {
    let (id, tracking) = open_application_tracked(app, "BC-0100", "因病致贫，申请救助").await;
    let team = survey_team(app).await;
    through_review(app, id, &team, household("BC-0100", &ids(), 12000.0)).await;
    (id, tracking)
}

/// `at_joint_review`, agreed with the proposal and its notice posted today.
async fn noticed(app: &TestApp) -> (i64, String) {
    let (id, tracking) = at_joint_review(app).await;
    let town = app.api_user("bachuan").await;
    assert_eq!(joint_review(&town, id, true).await, "notice");
    ok(&town, id, json!({"action": "post_notice"})).await;
    (id, tracking)
}

/// P1: no consent, no intake; U2: the wrong role, a skipped step, the wrong area are refused;
/// unknown actions and bad fields are 422 naming the field.
#[tokio::test]
async fn p1_u2_an_application_needs_consent_and_each_move_the_right_user() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let town = app.api_user("bachuan").await;
        let other_town = app.api_user("tuqiao").await;
        // P1: no consent, no intake — the workflow's code.
        let intake = json!({
            "kind": "application", "channel": "village_window", "household_id": "BC-0100",
            "area_code": VILLAGE, "applicant": "韩一", "summary": "因病致贫，申请救助",
        });
        let (status, body) = village.post("/api/v1/cases", &intake).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("consent_missing")),
            "{backend}: {body}"
        );
        let mut with_consent = intake.clone();
        with_consent["consent"] = json!({"signer": "韩一", "signed_on": "2026-11-28"});
        let (status, body) = village.post("/api/v1/cases", &with_consent).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let id = body["id"].as_i64().unwrap();
        let tracking = body["tracking_number"].as_str().unwrap().to_owned();
        assert_eq!(tracking, "TL20261128-0001", "{backend}");

        // U2: the wrong role, a skipped step, the wrong area.
        let begin = json!({"action": "begin_comparison"});
        refused(&village, id, begin.clone(), "wrong_role").await;
        refused(
            &town,
            id,
            json!({"action": "post_notice"}),
            "step_out_of_order",
        )
        .await;
        let (status, _) = act(&other_town, id, begin.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        // Unknown actions and bad fields are 422 naming the field.
        let (status, body) = act(&town, id, json!({"action": "jump"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(body["fields"][0]["field"], "action", "{backend}");
        app.stop().await;
    }
}

/// P3: a 疑点 must be explained before the comparison completes; P4: a one-person team is
/// refused over the API and on the page (the typed survey kept), a bad amount named next to its
/// field; the survey report prints with the team's signature lines.
#[tokio::test]
async fn p3_p4_the_comparison_and_the_survey_are_checked_and_the_report_prints() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let town = app.api_user("bachuan").await;
        let ids = ids();
        let cunshe = user_id(&app, "cunshe").await;
        let bachuan = user_id(&app, "bachuan").await;
        let id = open_application(&app, "BC-0100", "因病致贫，申请救助").await;
        let begin = json!({"action": "begin_comparison"});
        // P3: comparison with a 疑点 that must be explained.
        assert_eq!(ok(&town, id, begin).await, "comparing");
        ok(
            &town,
            id,
            json!({"action": "record_discrepancy", "source": "车辆登记", "description": "登记有一辆货车"}),
        )
        .await;
        refused(
            &town,
            id,
            json!({"action": "complete_comparison"}),
            "discrepancy_unexplained",
        )
        .await;
        ok(
            &town,
            id,
            json!({"action": "explain_discrepancy", "number": 1, "resolution": "resolved", "note": "货车已于2025年报废"}),
        )
        .await;
        assert_eq!(
            ok(&town, id, json!({"action": "complete_comparison"})).await,
            "surveying"
        );

        // P4: a one-person team is refused (and two entries of one user are one person).
        let survey = |team: Vec<i64>| json!({"action": "record_survey", "team": team, "household": household("BC-0100", &ids, 12000.0)});
        refused(&village, id, survey(vec![cunshe]), "team_too_small").await;
        refused(&village, id, survey(vec![cunshe, cunshe]), "team_too_small").await;
        // The page form: the same refusal shown in Chinese next to the team, nothing lost.
        let page = app.page_user("cunshe").await;
        let response = survey_by_page(&page, id, "BC-0100", &ids, "12000", &[cunshe]).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{backend}");
        let html = response.text().await.unwrap();
        assert!(html.contains("联合核查小组"), "{backend}");
        assert!(
            html.contains(&ids[1]),
            "{backend}: the typed survey is kept"
        );
        // A bad amount is named next to its field.
        let response = survey_by_page(&page, id, "BC-0100", &ids, "abc", &[cunshe, bachuan]).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response.text().await.unwrap().contains("工资性收入应为"),
            "{backend}"
        );
        let response =
            survey_by_page(&page, id, "BC-0100", &ids, "12000", &[cunshe, bachuan]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");

        // The survey report prints with the team's signature lines.
        let (status, report) = page.get(&format!("/cases/{id}/print/survey")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            report.contains("入户调查报告") && report.contains("调查人：cunshe"),
            "{backend}"
        );
        assert!(report.contains("/static/print.css"), "{backend}");
        app.stop().await;
    }
}

/// P5: the village review; P6: an override without a reason is refused, agreeing with the
/// proposal moves on; P7: no confirmation while the notice runs; the notice prints with
/// masked ID numbers only.
#[tokio::test]
async fn p5_p7_the_reviews_are_checked_and_the_notice_prints_masked() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let team = survey_team(&app).await;
        let town = app.api_user("bachuan").await;
        let id = open_application(&app, "BC-0100", "因病致贫，申请救助").await;
        ok(&town, id, json!({"action": "begin_comparison"})).await;
        ok(&town, id, json!({"action": "complete_comparison"})).await;
        let village = app.api_user("cunshe").await;
        let survey = json!({"action": "record_survey", "team": team, "household": household("BC-0100", &ids, 12000.0)});
        ok(&village, id, survey).await;
        // P5: village review.
        assert_eq!(
            ok(
                &town,
                id,
                json!({"action": "record_village_review", "attendance": 12, "outcome": "agreed", "note": "一致同意"}),
            )
            .await,
            "joint_review"
        );
        // P6: an override without a reason is refused; agreeing with the proposal moves on.
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        let proposed = detail["proposal"]["categories"].as_array().unwrap().clone();
        assert!(proposed.contains(&json!("dibao")), "{backend}: {detail}");
        refused(
            &town,
            id,
            json!({"action": "record_joint_review", "verdicts": [{"category": "dibao", "verdict": "override"}]}),
            "reason_missing",
        )
        .await;
        assert_eq!(joint_review(&town, id, true).await, "notice");

        // P7: notice; no confirmation while it runs.
        ok(&town, id, json!({"action": "post_notice"})).await;
        let civil = app.api_user("minzheng").await;
        refused(
            &civil,
            id,
            json!({"action": "confirm", "category": "dibao"}),
            "notice_running",
        )
        .await;
        // The notice prints with masked ID numbers only.
        let town_page = app.page_user("bachuan").await;
        let (status, notice) = town_page.get(&format!("/cases/{id}/print/notice")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            notice.contains("公示") && notice.contains("韩*") && !notice.contains("韩一"),
            "{backend}: names are masked"
        );
        for full in &ids {
            assert!(
                !notice.contains(full.as_str()),
                "{backend}: {full} unmasked"
            );
        }
        assert!(notice.contains(&format!("{}********{}", &ids[0][..6], &ids[0][14..])));
        app.stop().await;
    }
}

/// P7: with an objection open there is no confirmation, even after the notice ends; it sends
/// the case back to a new survey, then the joint review, an answer, and a new notice.
#[tokio::test]
async fn p7_an_objection_holds_the_confirmation_and_sends_the_case_back_to_a_new_survey() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let cunshe = user_id(&app, "cunshe").await;
        let wangge = user_id(&app, "wangge").await;
        let survey = |team: Vec<i64>| json!({"action": "record_survey", "team": team, "household": household("BC-0100", &ids, 12000.0)});
        let (id, _) = noticed(&app).await;
        let town = app.api_user("bachuan").await;
        // An objection: no confirmation with it open, even after the notice ends.
        ok(
            &town,
            id,
            json!({"action": "record_objection", "summary": "村民反映该户有务工收入未申报"}),
        )
        .await;
        past_notice(&app, &town, id).await;
        // Sessions end when the clock moves on: sign in again.
        let (village, town, civil) = (
            app.api_user("cunshe").await,
            app.api_user("bachuan").await,
            app.api_user("minzheng").await,
        );
        refused(
            &civil,
            id,
            json!({"action": "confirm", "category": "dibao"}),
            "objection_open",
        )
        .await;
        // The objection sends the case back to a new survey, then the joint review, an
        // answer, and a new notice.
        assert_eq!(
            ok(&town, id, json!({"action": "send_back"})).await,
            "surveying"
        );
        assert_eq!(
            ok(&village, id, survey(vec![cunshe, wangge])).await,
            "joint_review"
        );
        ok(
            &town,
            id,
            json!({"action": "answer_objection", "number": 1, "answer": "经核实务工收入已计入"}),
        )
        .await;
        assert_eq!(joint_review(&town, id, true).await, "notice");
        ok(&town, id, json!({"action": "post_notice"})).await;
        app.stop().await;
    }
}

/// P8: each department confirms only its own category; D2: the household is in the registry
/// with its category period, dated, the case as reason; the timeline says who did what when;
/// the public tracking page finds nothing by a case number alone.
#[tokio::test]
async fn p8_d2_each_department_confirms_its_own_and_the_household_enters_the_registry() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let (id, tracking) = noticed(&app).await;
        let town = app.api_user("bachuan").await;
        past_notice(&app, &town, id).await;
        let (town, agriculture) = (app.api_user("bachuan").await, app.api_user("nongye").await);
        let town_page = app.page_user("bachuan").await;
        // P8: each department only its own category.
        refused(
            &agriculture,
            id,
            json!({"action": "confirm", "category": "dibao"}),
            "other_departments_category",
        )
        .await;
        assert_eq!(confirm_all(&app, id).await, "confirmed", "{backend}");

        // D2: the household is in the registry with its category period, dated, the case
        // as reason.
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        let row = detail["household_row_id"].as_i64().unwrap();
        let (status, household_page) = town_page.get(&format!("/households/{row}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let categories = &household_page[household_page.find("id=\"categories\"").unwrap()..];
        assert!(
            categories.contains("低保")
                && categories.contains(&tracking)
                && categories.contains("至今"),
            "{backend}: {categories}"
        );
        // The timeline says who did what when.
        let (_, page_html) = town_page.get(&format!("/cases/{id}")).await;
        let timeline = &page_html[page_html.find("id=\"timeline\"").unwrap()..];
        for said in [
            "受理",
            "入户调查",
            "村社评议",
            "镇街联合研判",
            "张贴公示",
            "审核确认",
            "cunshe",
            "minzheng",
        ] {
            assert!(timeline.contains(said), "{backend}: timeline lacks {said}");
        }

        // The public tracking page: a case number alone finds nothing (issue 15), nothing
        // personal.
        let anonymous = app.anonymous();
        let tracked = anonymous
            .post(app.url("/track"))
            .form(&[
                ("number", tracking.as_str()),
                ("proof", &ids[0][ids[0].len() - 4..]),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(tracked.status(), StatusCode::NOT_FOUND, "{backend}");
        let tracked = tracked.text().await.unwrap();
        assert!(!tracked.contains("已认定"), "{backend}");
        for private in ["韩一", "BC-0100", ids[0].as_str(), "低保"] {
            assert!(
                !tracked.contains(private),
                "{backend}: /track shows {private}"
            );
        }
        app.stop().await;
    }
}

/// Comparison, survey (by `team`) and village review, by freshly signed-in users.
pub(crate) async fn through_review(app: &TestApp, id: i64, team: &[i64], household: Value) {
    let village = app.api_user("cunshe").await;
    let town = app.api_user("bachuan").await;
    ok(&town, id, json!({"action": "begin_comparison"})).await;
    ok(&town, id, json!({"action": "complete_comparison"})).await;
    ok(
        &village,
        id,
        json!({"action": "record_survey", "team": team, "household": household}),
    )
    .await;
    ok(
        &town,
        id,
        json!({"action": "record_village_review", "attendance": 9, "outcome": "agreed"}),
    )
    .await;
}

#[tokio::test]
async fn x1_w1_a_recheck_and_an_exit_run_end_to_end() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let ids = ids();
        let cunshe = user_id(&app, "cunshe").await;
        let bachuan = user_id(&app, "bachuan").await;
        let team = [cunshe, bachuan];
        // Enrolment.
        let (status, body) = village
            .post(
                "/api/v1/cases",
                &json!({
                    "kind": "application", "channel": "grid_worker", "household_id": "BC-0100",
                    "area_code": VILLAGE, "applicant": "韩一",
                    "consent": {"signer": "韩一", "signed_on": "2026-11-28"},
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let id = body["id"].as_i64().unwrap();
        through_review(&app, id, &team, household("BC-0100", &ids, 12000.0)).await;
        let town = app.api_user("bachuan").await;
        joint_review(&town, id, true).await;
        ok(&town, id, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, id).await;
        assert_eq!(confirm_all(&app, id).await, "confirmed", "{backend}");
        let town = app.api_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        let row = detail["household_row_id"].as_i64().unwrap();

        // W1: a year on, the household is on the re-check due list; the page's button opens
        // the re-check case.
        app.clock.set(2027, 12, 20);
        let page = app.page_user("bachuan").await;
        let (_, queue) = page.get("/cases").await;
        let rechecks = &queue[queue.find("id=\"rechecks\"").unwrap()..];
        assert!(rechecks.contains("BC-0100"), "{backend}: {rechecks}");
        let response = page
            .post_form(
                "/cases/recheck",
                &[
                    ("csrf".to_owned(), page.csrf.clone()),
                    ("household_id".to_owned(), "BC-0100".to_owned()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let recheck: i64 = location.trim_start_matches("/cases/").parse().unwrap();
        let town = app.api_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{recheck}")).await;
        assert_eq!(detail["kind"], "recheck", "{backend}");
        // The re-check survey finds a little more income; the categories continue.
        through_review(&app, recheck, &team, household("BC-0100", &ids, 13000.0)).await;
        joint_review(&town, recheck, true).await;
        ok(&town, recheck, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, recheck).await;
        assert_eq!(confirm_all(&app, recheck).await, "confirmed", "{backend}");
        let town = app.api_user("bachuan").await;
        // The registry holds the re-checked household.
        let (_, record) = town.get(&format!("/api/v1/households/{row}")).await;
        assert_eq!(
            record["household"]["income_12m"]["wages"], 13000.0,
            "{backend}"
        );

        // X1: the exit goes the same way; its survey finds steady wages; the period ends.
        let (status, body) = town
            .post(
                "/api/v1/cases",
                &json!({"kind": "exit", "channel": "town_window", "household_id": "BC-0100", "area_code": VILLAGE, "applicant": "韩一", "summary": "务工收入稳定"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let exit = body["id"].as_i64().unwrap();
        // Skipping straight to the notice is refused.
        refused(
            &town,
            exit,
            json!({"action": "post_notice"}),
            "step_out_of_order",
        )
        .await;
        through_review(&app, exit, &team, household("BC-0100", &ids, 150000.0)).await;
        joint_review(&town, exit, false).await;
        ok(&town, exit, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, exit).await;
        assert_eq!(confirm_all(&app, exit).await, "confirmed", "{backend}");
        let town = app.api_user("bachuan").await;
        let (_, record) = town.get(&format!("/api/v1/households/{row}")).await;
        assert_eq!(
            record["household"]["income_12m"]["wages"], 150000.0,
            "{backend}"
        );
        let periods = record["categories"].as_array().unwrap();
        assert!(!periods.is_empty(), "{backend}");
        assert!(
            periods.iter().all(|p| !p["end_date"].is_null()),
            "{backend}: every period ended: {record}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn p9_the_queue_lists_what_the_role_does_next_and_a_refused_case_until_its_notice() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let town = app.api_user("bachuan").await;
        let (status, body) = village
            .post(
                "/api/v1/cases",
                &json!({
                    "kind": "application", "channel": "village_window", "household_id": "BC-0200",
                    "area_code": VILLAGE, "applicant": "周五",
                    "consent": {"signer": "周五", "signed_on": "2026-11-28"},
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let id = body["id"].as_i64().unwrap();
        let tracking = body["tracking_number"].as_str().unwrap().to_owned();
        let (_, queue) = town.get("/api/v1/cases").await;
        let item = &queue["items"][0];
        assert_eq!(
            item["tracking_number"],
            tracking.as_str(),
            "{backend}: {queue}"
        );
        assert_eq!(item["late"], false, "{backend}");
        // The village assistant acts next only at the survey.
        let (_, queue) = village.get("/api/v1/cases").await;
        assert!(
            queue["items"].as_array().unwrap().is_empty(),
            "{backend}: {queue}"
        );

        // Weeks later the town's time limit has passed: late, on the overdue list.
        app.clock.set(2027, 1, 20);
        let town = app.api_user("bachuan").await;
        let page = app.page_user("bachuan").await;
        let (_, html) = page.get("/cases?overdue=1").await;
        let table = &html[html.find("id=\"queue\"").unwrap()..];
        assert!(
            table.contains(&tracking) && table.contains("逾期"),
            "{backend}"
        );

        // Refused: the refusal notice is still to deliver, so the case stays in the queue.
        ok(
            &town,
            id,
            json!({"action": "refuse", "reason": "申请人户籍不在本村"}),
        )
        .await;
        let (_, queue) = town.get("/api/v1/cases").await;
        assert!(
            queue["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["tracking_number"] == tracking.as_str()
                    && item["step"] == "refused"),
            "{backend}: {queue}"
        );
        let (status, letter) = page.get(&format!("/cases/{id}/print/refusal")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            letter.contains("不予认定告知书") && letter.contains("申请人户籍不在本村"),
            "{backend}"
        );
        ok(&town, id, json!({"action": "deliver_refusal_notice"})).await;
        let (_, queue) = town.get("/api/v1/cases").await;
        assert!(
            !queue.to_string().contains(&tracking),
            "{backend}: delivered, the case leaves the queue: {queue}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn p1_intake_form_needs_consent_and_public_tracking_shows_nothing_personal() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let page = app.page_user("cunshe").await;
        // The household page offers intake with the household filled in.
        let (_, household) = page
            .get(&format!("/households/{}", app.bachuan_village.id))
            .await;
        assert!(household.contains("受理申请"), "{backend}");
        let (status, form) = page
            .get("/cases/new?kind=application&household_id=BC-0001")
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            form.contains("BC-0001") && form.contains("授权"),
            "{backend}"
        );

        let fields = |consent: bool| {
            let mut pairs = vec![
                ("csrf".to_owned(), page.csrf.clone()),
                ("kind".to_owned(), "application".to_owned()),
                ("channel".to_owned(), "village_window".to_owned()),
                ("household_id".to_owned(), "BC-0001".to_owned()),
                ("area_code".to_owned(), "500151001200".to_owned()),
                ("applicant".to_owned(), "张三".to_owned()),
                ("summary".to_owned(), "老人无人照料".to_owned()),
            ];
            if consent {
                pairs.push(("consent".to_owned(), "on".to_owned()));
            }
            pairs
        };
        let response = page.post_form("/cases", &fields(false)).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{backend}");
        let html = response.text().await.unwrap();
        assert!(html.contains("尚未签署家庭经济状况核对授权"), "{backend}");
        assert!(
            html.contains("老人无人照料"),
            "{backend}: the form keeps what was typed"
        );
        // Without the CSRF token the form is refused.
        let mut no_csrf = fields(true);
        no_csrf.remove(0);
        let response = page.post_form("/cases", &no_csrf).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        let response = page.post_form("/cases", &fields(true)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let (status, case_page) = page.get(&location).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let tracking = "TL20261128-0001";
        assert!(case_page.contains(tracking), "{backend}");

        // The public tracking page takes an online application's receipt with the applicant's
        // phone (issue 15): a case number alone, or with a member's ID number's last digits,
        // finds nothing, and a malformed one gets the same plain answer.
        let anonymous = app.anonymous();
        let post = |number: String, proof: String| {
            let request = anonymous
                .post(app.url("/track"))
                .form(&[("number", number), ("proof", proof)]);
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        let head_id = app.bachuan_village.head_id.clone();
        let (status, html) =
            post(tracking.to_owned(), head_id[head_id.len() - 4..].to_owned()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        for private in [
            "张三",
            "BC-0001",
            app.bachuan_village.head_id.as_str(),
            "老人无人照料",
            "2026-11-28",
        ] {
            assert!(!html.contains(private), "{backend}: /track shows {private}");
        }
        let (bad_status, bad) = post("<script>".to_owned(), String::new()).await;
        assert_eq!(bad_status, StatusCode::NOT_FOUND, "{backend}");
        assert!(
            bad.contains("未查到该申请") && !bad.contains("<script>"),
            "{backend}"
        );
        app.stop().await;
    }
}

/// Opens an application for `external_id` in the test village; returns (id, tracking number).
pub(crate) async fn apply(village: &ApiUser, external_id: &str) -> (i64, String) {
    let (status, body) = village
        .post(
            "/api/v1/cases",
            &json!({
                "kind": "application", "channel": "village_window", "household_id": external_id,
                "area_code": VILLAGE, "applicant": "韩一",
                "consent": {"signer": "韩一", "signed_on": "2026-11-28"},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_i64().unwrap(),
        body["tracking_number"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn p7_village_notice_lists_every_case_at_notice_masked_for_the_area_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let team = [
            user_id(&app, "cunshe").await,
            user_id(&app, "bachuan").await,
        ];
        let first = ids();
        let second = [
            id_number("50022419700301151"),
            id_number("50022419720401162"),
            id_number("50022419950501173"),
        ];
        // Two cases of the village at 公示 (one posted, one not yet), one still at 受理.
        let (posted, posted_number) = apply(&village, "BC-0301").await;
        let (unposted, unposted_number) = apply(&village, "BC-0302").await;
        let (_, received_number) = apply(&village, "BC-0303").await;
        through_review(&app, posted, &team, household("BC-0301", &first, 6000.0)).await;
        through_review(&app, unposted, &team, household("BC-0302", &second, 6000.0)).await;
        let town = app.api_user("bachuan").await;
        assert_eq!(joint_review(&town, posted, true).await, "notice");
        assert_eq!(joint_review(&town, unposted, true).await, "notice");
        ok(&town, posted, json!({"action": "post_notice"})).await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{posted}")).await;
        let (posted_on, ends_on) = (
            detail["notice"]["posted_on"].as_str().unwrap().to_owned(),
            detail["notice"]["ends_on"].as_str().unwrap().to_owned(),
        );

        let path = format!("/villages/{VILLAGE}/print/notice");
        for username in ["bachuan", "cunshe", "wangge", "minzheng"] {
            let page = app.page_user(username).await;
            let (status, notice) = page.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{backend} {username}");
            let table = &notice[notice.find("id=\"village-notice\"").unwrap()..];
            let table = &table[..table.find("</table>").unwrap()];
            assert!(
                table.contains(&posted_number) && table.contains(&unposted_number),
                "{backend} {username}: both cases at 公示 are listed: {table}"
            );
            assert!(
                !notice.contains(&received_number),
                "{backend} {username}: a case at 受理 is not on the notice"
            );
            assert_eq!(
                table.matches("<tr>").count(),
                3,
                "{backend}: head and two rows"
            );
            // Heads masked, name and ID number; nobody's full number, no health data.
            for id in [&first[0], &second[0]] {
                let masked = format!("{}********{}", &id[..6], &id[14..]);
                assert!(table.contains(&masked), "{backend}: {masked}");
            }
            for full in first.iter().chain(&second) {
                assert!(
                    !notice.contains(full.as_str()),
                    "{backend}: {full} unmasked"
                );
            }
            assert!(
                table.contains("韩*") && !notice.contains("韩一"),
                "{backend}"
            );
            assert!(
                table.contains("低保") && table.contains("3 人"),
                "{backend}"
            );
            assert!(
                table.contains(&posted_on) && table.contains(&ends_on),
                "{backend}: the posted notice's period"
            );
            assert!(table.contains("张贴之日起"), "{backend}: not yet posted");
            for private in ["残疾", "重病", "银行", "收入"] {
                assert!(!table.contains(private), "{backend}: {private}");
            }
            // The objection channel: where and by when; the shared print layout.
            let objection = &notice[notice.find("id=\"village-notice-objection\"").unwrap()..];
            assert!(
                objection.contains("永院村")
                    && objection.contains("巴川街道社会救助经办机构")
                    && objection.contains("公示期截止之日前"),
                "{backend}"
            );
            assert!(
                notice.contains("/static/print.css")
                    && notice.contains("class=\"toolbar\"")
                    && !notice.contains("<style"),
                "{backend}"
            );
        }

        // Linked from the queue (by village for the town, 本村 for the village) and the case page.
        let town_page = app.page_user("bachuan").await;
        let (_, queue) = town_page.get("/cases").await;
        let links = &queue[queue.find("id=\"village-notices\"").unwrap()..];
        assert!(
            links.contains(&format!("href=\"{path}\"")) && links.contains("永院村公示（2 户）"),
            "{backend}"
        );
        let (_, queue) = app.page_user("cunshe").await.get("/cases").await;
        assert!(queue.contains("打印本村公示（2 户）"), "{backend}");
        let (_, case_page) = town_page.get(&format!("/cases/{posted}")).await;
        assert!(
            case_page.contains(&format!("href=\"{path}\"")) && case_page.contains("打印本村公示"),
            "{backend}"
        );
        // The per-case notice masks the same way.
        let (_, single) = town_page
            .get(&format!("/cases/{posted}/print/notice"))
            .await;
        assert!(
            single.contains("韩*") && !single.contains("韩一"),
            "{backend}"
        );

        // Another village of the town: empty, said so; outside the area: 404, nothing shown.
        let (status, empty) = town_page.get("/villages/500151001001/print/notice").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(empty.contains("本村当前无公示事项"), "{backend}");
        for (username, path) in [
            ("tuqiao", path.as_str()),
            ("cunshe", "/villages/500151001001/print/notice"),
            ("wangge", "/villages/500151100200/print/notice"),
        ] {
            let (status, page) = app.page_user(username).await.get(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {username} {path}");
            assert!(!page.contains(&posted_number), "{backend}");
        }
        // A code that is not a village is named.
        for bad in ["500151001", "abc"] {
            let (status, page) = town_page
                .get(&format!("/villages/{bad}/print/notice"))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend} {bad}");
            assert!(page.contains("村（社区）"), "{backend} {bad}");
        }
        app.stop().await;
    }
}

/// The rows of the queue table of a `/cases` page (the header row aside).
fn queue_rows(html: &str) -> Vec<&str> {
    let table = &html[html.find("id=\"queue\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    table.split("<tr class=").skip(1).collect()
}

#[tokio::test]
async fn p9_the_queue_shows_a_case_once_with_its_other_limits_and_pages_by_fifty() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let team = [
            user_id(&app, "cunshe").await,
            user_id(&app, "bachuan").await,
        ];
        // At 公示, not yet posted, with 低保 decided: the town stage and the 低保 total run.
        let (two_limits, two_limits_number) = apply(&village, "BC-0500").await;
        through_review(
            &app,
            two_limits,
            &team,
            household("BC-0500", &ids(), 6000.0),
        )
        .await;
        let town = app.api_user("bachuan").await;
        assert_eq!(joint_review(&town, two_limits, true).await, "notice");
        let (_, detail) = town.get(&format!("/api/v1/cases/{two_limits}")).await;
        let dibao_total_due = detail["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|deadline| deadline["limit"] == "dibao_total")
            .unwrap_or_else(|| panic!("{backend}: {detail}"))["due_on"]
            .as_str()
            .unwrap()
            .to_owned();

        // Three weeks on the town stage has run out; fifty new applications come in.
        app.clock.set(2026, 12, 21);
        let village = app.api_user("cunshe").await;
        let mut later = Vec::new();
        for n in 0..50 {
            later.push(apply(&village, &format!("BC-{:04}", 600 + n)).await.1);
        }
        let page = app.page_user("bachuan").await;
        let (status, html) = page.get("/cases").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let rows = queue_rows(&html);
        assert_eq!(rows.len(), 50, "{backend}: fifty lines a page");
        let lines_of_case = rows
            .iter()
            .filter(|row| row.contains(&two_limits_number))
            .count();
        assert_eq!(lines_of_case, 1, "{backend}: one line per case");
        // Late first, under its nearest limit, the 低保 total beside it.
        assert!(
            rows[0].contains(&two_limits_number)
                && rows[0].contains("逾期")
                && rows[0].contains("镇街审核")
                && rows[0].contains(&format!("另有：低保审核确认总时限 {dibao_total_due}")),
            "{backend}: {}",
            rows[0]
        );
        assert!(
            html.contains("共 <span id=\"queue-total\">51</span> 件"),
            "{backend}"
        );
        assert!(html.contains("只看逾期（1）"), "{backend}");
        // Keyset pages: the pager links the page after the last line shown.
        let pager = &html[html.find("id=\"queue-pager\"").unwrap()..];
        assert!(
            pager.contains("下一页") && !pager.contains("第一页"),
            "{backend}"
        );
        let start = pager.find("href=\"/cases?after=").unwrap() + "href=\"".len();
        let next = &pager[start..start + pager[start..].find('"').unwrap()];
        let (_, html) = page.get(next).await;
        let rows = queue_rows(&html);
        assert_eq!(rows.len(), 1, "{backend}");
        assert!(rows[0].contains(&later[49]), "{backend}: the last one in");
        let pager = &html[html.find("id=\"queue-pager\"").unwrap()..];
        assert!(
            pager.contains("href=\"/cases\"")
                && pager.contains("第一页")
                && !pager.contains("下一页"),
            "{backend}"
        );
        // The overdue list: the one late case, one page, the filter kept.
        let (_, html) = page.get("/cases?overdue=1").await;
        let rows = queue_rows(&html);
        assert_eq!(rows.len(), 1, "{backend}");
        assert!(rows[0].contains(&two_limits_number), "{backend}");
        assert!(
            html.contains("共 <span id=\"queue-total\">1</span> 件"),
            "{backend}"
        );
        assert!(!html.contains("id=\"queue-pager\""), "{backend}");
        let (_, html) = page
            .get("/cases?overdue=1&after=2099-01-01.TL20990101-0001")
            .await;
        assert!(html.contains("没有逾期案件"), "{backend}");
        // A bad cursor is named.
        let (status, html) = page.get("/cases?after=abc").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(html.contains("分页位置“abc”无效"), "{backend}");

        // The API pages the same way.
        let town = app.api_user("bachuan").await;
        let (_, queue) = town.get("/api/v1/cases").await;
        assert_eq!(
            (
                &queue["total"],
                &queue["n_late"],
                &queue["total_capped"],
                &queue["per_page"]
            ),
            (&json!(51), &json!(1), &json!(false), &json!(50)),
            "{backend}"
        );
        assert_eq!(queue["items"].as_array().unwrap().len(), 50, "{backend}");
        let first = &queue["items"][0];
        assert_eq!(first["id"], two_limits, "{backend}");
        assert_eq!(
            (first["limit"].as_str(), first["late"].as_bool()),
            (Some("town_review"), Some(true)),
            "{backend}"
        );
        assert!(
            first["other_limits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|other| other["limit"] == "dibao_total"
                    && other["due_on"] == dibao_total_due.as_str()),
            "{backend}: {first}"
        );
        let next = queue["next"].as_str().unwrap().to_owned();
        let (_, queue) = town.get(&format!("/api/v1/cases?after={next}")).await;
        assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{backend}");
        assert_eq!(queue["next"], Value::Null, "{backend}");
        assert_eq!(
            queue["items"][0]["tracking_number"],
            later[49].as_str(),
            "{backend}"
        );
        let (_, queue) = town.get("/api/v1/cases?overdue=1").await;
        assert_eq!((&queue["total"], &queue["n_late"]), (&json!(1), &json!(1)));
        let (status, body) = town.get("/api/v1/cases?after=0").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(body["fields"][0]["field"], "after", "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn p1_the_tracking_limit_counts_per_client_so_one_over_it_stops_no_one_else() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let (_, tracking) = apply(&village, "BC-0700").await;
        let abuser = app.anonymous_from([127, 0, 0, 2].into());
        let neighbour = app.anonymous_from([127, 0, 0, 3].into());
        let lookup = |client: &reqwest::Client, number: String| {
            let request = client
                .post(app.url("/track"))
                .form(&[("number", number.as_str()), ("proof", "13812345678")]);
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        // Trying numbers in bulk: answered up to the limit, then refused in Chinese.
        for n in 0..web::TRACK_LOOKUPS_PER_MINUTE {
            let (status, _) = lookup(&abuser, format!("TL20261128-{:04}", 9000 + n)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: lookup {n}");
        }
        let (status, html) = lookup(&abuser, tracking.clone()).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend}");
        assert!(html.contains("查询过于频繁，请稍后再试"), "{backend}");
        assert!(
            !html.contains("未查到该申请"),
            "{backend}: nothing is looked up"
        );
        // Another client is still answered.
        let (status, html) = lookup(&neighbour, tracking.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        assert!(html.contains("未查到该申请"), "{backend}");
        app.stop().await;
    }
}

/// The household of `d2_p8_…`, BC-0800 in 永院村, through the village review: a man of 76
/// with no income and no able supporter (特困), his wife of 68 with a pension of 30 000 a year.
/// Answers the case's id, its tracking number and the two ID numbers.
async fn tekun_at_joint_review(app: &TestApp) -> (i64, String, String, String) {
    let village = app.api_user("cunshe").await;
    let team = [user_id(app, "cunshe").await, user_id(app, "bachuan").await];
    // A man of 76 with no income and no able supporter (特困), his wife of 68 with a
    // pension of 30 000 a year: 特困 for him alone; per head the household is above the
    // 低保 edge line, so nothing for her.
    let (old, wife) = (
        id_number("50022419500315102"),
        id_number("50022419580505106"),
    );
    let household_record = json!({
        "id": "BC-0800", "area_code": VILLAGE, "hukou": "rural",
        "members": [
            {"id_number": old, "name": "韩老", "relation": "head", "care_need": "partial", "income_12m": 0},
            {"id_number": wife, "name": "杨婆", "relation": "spouse", "income_12m": 30000},
        ],
        "income_12m": {"wages": 30000},
    });
    let (id, tracking) = apply(&village, "BC-0800").await;
    through_review(app, id, &team, household_record).await;
    (id, tracking, old, wife)
}

/// `tekun_at_joint_review`, then agreed (分散供养), its notice run and confirmed. Answers as
/// it does.
pub(crate) async fn tekun_confirmed(app: &TestApp) -> (i64, String, String, String) {
    let (id, tracking, old, wife) = tekun_at_joint_review(app).await;
    let town = app.api_user("bachuan").await;
    assert_eq!(joint_review(&town, id, true).await, "notice");
    ok(&town, id, json!({"action": "post_notice"})).await;
    past_notice(app, &town, id).await;
    assert_eq!(confirm_all(app, id).await, "confirmed");
    (id, tracking, old, wife)
}

/// D2: 特困 is proposed for the man alone; the meeting that starts it names its 供养方式
/// (分散供养 / 集中供养): refused without one, an unknown one named; the case page's form
/// offers the two; the review keeps it.
#[tokio::test]
async fn d2_the_meeting_that_starts_tekun_names_its_support_mode() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (id, _, _, _) = tekun_at_joint_review(&app).await;
        let town = app.api_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(
            detail["proposal"]["categories"],
            json!(["tekun"]),
            "{backend}: {detail}"
        );
        // D2: the meeting that starts 特困 names its 供养方式 (分散供养 / 集中供养): refused
        // without one, and an unknown one is named.
        refused(
            &town,
            id,
            json!({"action": "record_joint_review", "verdicts": [{"category": "tekun", "verdict": "confirm"}]}),
            "support_mode_missing",
        )
        .await;
        let (status, answer) = act(
            &town,
            id,
            json!({"action": "record_joint_review", "verdicts": [{"category": "tekun", "verdict": "confirm"}], "support_mode": "home"}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {answer}"
        );
        assert!(
            answer.to_string().contains("供养方式"),
            "{backend}: {answer}"
        );
        // The case page's joint-review form offers the two modes.
        let page = app.page_user("bachuan").await;
        let (_, html) = page.get(&format!("/cases/{id}")).await;
        assert!(
            html.contains("name=\"support_mode\"")
                && html.contains("value=\"dispersed\">分散供养")
                && html.contains("value=\"centralised\">集中供养"),
            "{backend}: {html}"
        );
        assert_eq!(joint_review(&town, id, true).await, "notice");
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(
            detail["joint_review"]["support_mode"], "dispersed",
            "{backend}: {detail}"
        );
        app.stop().await;
    }
}

/// D2, P8: confirmed, the registry holds one 特困 period, his (with the meeting's 供养方式 and
/// the surveyed care level), none for her and none for the household; the household page names
/// him against it.
#[tokio::test]
async fn d2_p8_tekun_is_confirmed_for_the_one_member_who_qualifies() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (id, tracking, old, wife) = tekun_confirmed(&app).await;
        let confirmed_on = app.app.today().to_string();
        // The registry: one 特困 period, his, none for her and none for the household.
        let town = app.api_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        let row = detail["household_row_id"].as_i64().unwrap();
        let periods = {
            let mut conn = app.app.store().read().await.unwrap();
            store::households::category_history(&mut conn, row)
                .await
                .unwrap()
        };
        let held: Vec<(&str, Option<&str>, &str, Option<i64>)> = periods
            .iter()
            .map(|period| {
                (
                    period.category.code(),
                    period.id_number.as_ref().map(domain::NationalId::as_str),
                    period.reason.as_str(),
                    period.monthly_fen,
                )
            })
            .collect();
        // 1 001 yuan basic living + 200 yuan for partial care, a month.
        assert_eq!(
            held,
            [(
                "tekun",
                Some(old.as_str()),
                tracking.as_str(),
                Some(120_100)
            )],
            "{backend}"
        );
        assert!(
            periods
                .iter()
                .all(|period| period.start_date.to_string() == confirmed_on
                    && period.end_date.is_none()),
            "{backend}: {periods:?}"
        );
        // D2: the period holds the meeting's 供养方式 and the surveyed care level.
        assert_eq!(
            (
                periods[0].support_mode.map(|mode| mode.code()),
                periods[0].care_level.map(|care| care.code())
            ),
            (Some("dispersed"), Some("partial")),
            "{backend}"
        );

        // The household page names him against the period, not her, not the household.
        let page = app.page_user("bachuan").await;
        let (_, html) = page.get(&format!("/households/{row}")).await;
        let categories = &html[html.find("id=\"categories\"").unwrap()..];
        let categories = &categories[..categories.find("</table>").unwrap()];
        assert!(
            categories.contains("特困")
                && categories.contains(&format!("韩老（{old}）"))
                && categories.contains(&tracking),
            "{backend}: {categories}"
        );
        for absent in ["杨婆", wife.as_str(), "整户"] {
            assert!(!categories.contains(absent), "{backend}: {absent}");
        }
        app.stop().await;
    }
}

/// The report's "who was in the category on the day": one person in one household on the day
/// of confirmation, no one the half-year before.
#[tokio::test]
async fn d2_the_joint_report_counts_the_tekun_member_from_the_day_of_confirmation() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        tekun_confirmed(&app).await;
        // The report's "who was in the category on the day": one person in one household on
        // the day of confirmation, no one the day before.
        let district = app::Actor {
            user_id: user_id(&app, "minzheng").await,
            username: "minzheng".to_owned(),
            display_name: "minzheng".to_owned(),
            role: domain::Role::DistrictCivilAffairs,
            area: domain::PlaceCode::parse("500151").unwrap(),
        };
        let tekun = report::joint::CATEGORIES
            .iter()
            .position(|category| *category == domain::Category::Tekun)
            .unwrap();
        let report = app
            .app
            .joint_report(&district, "2026H2", Some("500151001"))
            .await
            .unwrap();
        let yongyuan = report
            .units
            .iter()
            .find(|unit| unit.code == VILLAGE)
            .unwrap();
        assert_eq!(
            (
                yongyuan.by_category[tekun].households,
                yongyuan.by_category[tekun].persons
            ),
            (1, 1),
            "{backend}: {yongyuan:?}"
        );
        let everyone: i64 = report
            .units
            .iter()
            .flat_map(|unit| unit.by_category.iter())
            .map(|count| count.persons)
            .sum();
        assert_eq!(everyone, 1, "{backend}: no one else is in any category");
        let before = app
            .app
            .joint_report(&district, "2026H1", Some("500151001"))
            .await
            .unwrap();
        assert!(
            before
                .units
                .iter()
                .all(|unit| unit.by_category[tekun].persons == 0),
            "{backend}"
        );
        app.stop().await;
    }
}
