//! 监测待识别 (issue 13 item 4, rules 6 and 9, 同步认定): the households that meet a monitoring
//! condition but are not monitored — one proposed for a primary category too — are listed for
//! their area, by page and API, from the district's last count; without a monitoring line they
//! are listed as 待人工核定.

use crate::helpers::{TestApp, backends, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VILLAGE: &str = "500151001200";

fn household(external_id: &str, first17: [&str; 2], wages: u32, lifted: bool) -> Value {
    json!({
        "id": external_id, "area_code": VILLAGE, "hukou": "rural", "lifted_from_poverty": lifted,
        "members": [
            {"id_number": id_number(first17[0]), "name": "冯一", "relation": "head"},
            {"id_number": id_number(first17[1]), "name": "冯二", "relation": "spouse"},
        ],
        "income_12m": {"wages": wages},
        "risks": ["illness"],
    })
}

fn listed(list: &Value, external_id: &str) -> Option<Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["household_id"] == external_id)
        .cloned()
}

#[tokio::test]
async fn monitoring_candidates_are_listed_by_area_low_income_households_included() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let town = app.api_user("bachuan").await;
        // Poor and lifted out of poverty, with an illness: 脱贫不稳定户 beside 低保.
        let (status, body) = town
            .post(
                "/api/v1/households",
                &household(
                    "MON-0001",
                    ["50022419610101001", "50022419630101002"],
                    3000,
                    true,
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        // Well above any line: not a candidate.
        let (status, body) = town
            .post(
                "/api/v1/households",
                &household(
                    "MON-0002",
                    ["50022419620101003", "50022419640101004"],
                    200_000,
                    false,
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");

        // Without a monitoring line the test cannot be decided: both households are listed as
        // 待人工核定 (pending), never passed over in silence.
        let district = domain::PlaceCode::parse("500151").unwrap();
        app.app.count_go_live(&district).await.unwrap();
        let (status, list) = town.get("/api/v1/monitoring/candidates").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {list}");
        for external_id in ["MON-0001", "MON-0002"] {
            let item = listed(&list, external_id).unwrap_or_else(|| panic!("{backend}: {list}"));
            assert_eq!(item["pending"], true, "{backend}: {item}");
        }

        // District agriculture sets the line; the next count lists the poor household.
        let nongye = app.api_user("nongye").await;
        let (status, body) = nongye
            .post(
                "/api/v1/policy/parameters/monitoring.income_line/values",
                &json!({ "since": "2025-01-01", "value": 8000, "source": "渝农发〔2026〕1号", "status": "confirmed" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        app.app.count_go_live(&district).await.unwrap();
        let (status, list) = town.get("/api/v1/monitoring/candidates").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {list}");
        let poor = listed(&list, "MON-0001").unwrap_or_else(|| panic!("{backend}: {list}"));
        assert_eq!(poor["monitoring_kind"], "unstable_lifted", "{backend}");
        assert_eq!(poor["head_name"], "冯一", "{backend}");
        assert!(
            poor["place_name"].as_str().unwrap().contains("永院村"),
            "{backend}"
        );
        assert!(
            !poor["primary_category"].is_null(),
            "{backend}: 同步认定 beside a category: {poor}"
        );
        assert!(listed(&list, "MON-0002").is_none(), "{backend}");
        assert!(
            list["counted_at"].is_string() && list["recounting"] == false,
            "{backend}"
        );

        // Another town sees none of 巴川's; a department reads no household list.
        let (_, other) = app
            .api_user("tuqiao")
            .await
            .get("/api/v1/monitoring/candidates")
            .await;
        assert!(listed(&other, "MON-0001").is_none(), "{backend}");
        let (status, _) = town.get("/api/v1/monitoring/candidates?after=oops").await;
        assert!(
            status.is_client_error(),
            "{backend}: a bad cursor is refused"
        );

        // The page, in Chinese with the place's name, for the village assistant.
        let village = app.page_user("cunshe").await;
        let (status, html) = village.get("/monitoring").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("MON-0001")
                && html.contains("脱贫不稳定户")
                && !html.contains("MON-0002"),
            "{backend}: {html}"
        );
    }
}

/// Opens a case of `kind` for `external_id` at the town's window with `summary`.
async fn open_case(
    town: &crate::helpers::ApiUser,
    kind: &str,
    external_id: &str,
    summary: &str,
) -> (StatusCode, Value) {
    town.post(
        "/api/v1/cases",
        &json!({"kind": kind, "channel": "town_window", "household_id": external_id,
                "area_code": VILLAGE, "applicant": "户主", "summary": summary}),
    )
    .await
}

/// The categories the registry holds open for the case's household.
async fn open_periods(town: &crate::helpers::ApiUser, case_id: i64) -> Vec<String> {
    let (_, detail) = town.get(&format!("/api/v1/cases/{case_id}")).await;
    let row = detail["household_row_id"].as_i64().unwrap();
    let (_, record) = town.get(&format!("/api/v1/households/{row}")).await;
    let mut open: Vec<String> = record["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|period| period["end_date"].is_null())
        .map(|period| period["category"].as_str().unwrap().to_owned())
        .collect();
    open.sort();
    open
}

/// The meeting ends the monitoring tag against the proposal: refused with `code`.
async fn end_monitoring_refused(town: &crate::helpers::ApiUser, id: i64, code: &str) {
    let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
    let proposal = &detail["proposal"];
    let verdicts: Vec<Value> = proposal["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|category| {
            if category == "monitoring" {
                json!({"category": category, "verdict": "override", "reason": "村里反映已稳定"})
            } else {
                json!({"category": category, "verdict": "confirm"})
            }
        })
        .collect();
    let judgements: Vec<Value> = proposal["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| json!({"rule": test["rule"], "param": test["param"], "holds": true, "reason": "会议核定"}))
        .collect();
    let (status, answer) = crate::cases::act(
        town,
        id,
        json!({"action": "record_joint_review", "verdicts": verdicts, "judgements": judgements}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], code, "{answer}");
}

/// A (RE-0001): two working-age adults with `wages`, an illness among `risks` at first.
fn working(wages: u32, risks: Value) -> Value {
    let ids = [
        id_number("50022419850101201"),
        id_number("50022419870101202"),
    ];
    json!({
        "id": "RE-0001", "area_code": VILLAGE, "hukou": "rural",
        "members": [
            {"id_number": ids[0], "name": "向一", "relation": "head"},
            {"id_number": ids[1], "name": "向二", "relation": "spouse"},
        ],
        "income_12m": {"wages": wages}, "risks": risks,
    })
}

/// B (RE-0002): an elderly couple without labour capacity living on `transfer`, a son able to
/// support them (so not 特困).
fn elderly(transfer: u32, risks: Value) -> Value {
    let ids = [
        id_number("50022419480101203"),
        id_number("50022419500101204"),
    ];
    json!({
        "id": "RE-0002", "area_code": VILLAGE, "hukou": "rural",
        "members": [
            {"id_number": ids[0], "name": "古一", "relation": "head", "labour_capacity": "none",
             "supporters": [{"relation": "child", "able": true}]},
            {"id_number": ids[1], "name": "古二", "relation": "spouse", "labour_capacity": "none",
             "supporters": [{"relation": "child", "able": true}]},
        ],
        "income_12m": {"transfer": transfer}, "risks": risks,
    })
}

/// The monitoring line set at 15 000 by district agriculture, then A (12 000 a head, an
/// illness: 边缘易致贫户 and no other category) and B (6 000 a head, an illness: 低保 and
/// 边缘易致贫户) enrolled by first applications. Answers the survey team.
async fn a_and_b_enrolled(app: &TestApp) -> [i64; 2] {
    use crate::cases::{
        apply, confirm_all, joint_review, ok, past_notice, through_review, user_id,
    };
    let backend = app.backend;
    let team = [user_id(app, "cunshe").await, user_id(app, "bachuan").await];
    let nongye = app.api_user("nongye").await;
    let (status, body) = nongye
        .post(
            "/api/v1/policy/parameters/monitoring.income_line/values",
            &json!({ "since": "2025-01-01", "value": 15000, "source": "渝农发〔2026〕1号", "status": "confirmed" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
    for (external_id, household, held) in [
        (
            "RE-0001",
            working(24000, json!(["illness"])),
            vec!["monitoring"],
        ),
        (
            "RE-0002",
            elderly(12000, json!(["illness"])),
            vec!["dibao", "monitoring"],
        ),
    ] {
        let village = app.api_user("cunshe").await;
        let (id, _) = apply(&village, external_id).await;
        through_review(app, id, &team, household).await;
        let town = app.api_user("bachuan").await;
        assert_eq!(joint_review(&town, id, true).await, "notice", "{backend}");
        ok(&town, id, json!({"action": "post_notice"})).await;
        past_notice(app, &town, id).await;
        assert_eq!(confirm_all(app, id).await, "confirmed", "{backend}");
        let town = app.api_user("bachuan").await;
        assert_eq!(open_periods(&town, id).await, held, "{backend}");
    }
    team
}

/// Rules 6 and 9, X2 (issue 13 item 4): 风险消除 needs a written reason; it reads the months
/// above the monitoring line from the incomes the system recorded (the surveys, a withdrawn
/// case's too) and cannot be decided against the engine; after six months it is proposed and
/// confirmed, every income kept.
#[tokio::test]
async fn x2_risk_elimination_needs_its_reason_and_six_months_of_recorded_incomes() {
    use crate::cases::{confirm_all, joint_review, ok, past_notice, through_review};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let team = a_and_b_enrolled(&app).await;
        let mut town = app.api_user("bachuan").await;

        // 风险消除 needs its written reason.
        let (status, answer) = open_case(&town, "risk_elimination", "RE-0001", " ").await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {answer}");
        assert_eq!(
            answer["code"], "risk_elimination_reason_missing",
            "{backend}"
        );
        assert_eq!(answer["message"], "办理风险消除须写明理由", "{backend}");

        // A, now: income above the line on today's survey only — no month of recorded
        // income above it yet, so the engine keeps the tag and the meeting cannot end it.
        let (status, body) = open_case(
            &town,
            "risk_elimination",
            "RE-0001",
            "务工收入稳定，申请风险消除",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let early = body["id"].as_i64().unwrap();
        through_review(&app, early, &team, working(36000, json!([]))).await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{early}")).await;
        assert_eq!(
            detail["proposal"]["categories"],
            json!(["monitoring"]),
            "{backend}: {detail}"
        );
        let explanation = detail["proposal"]["explanation"].as_str().unwrap();
        assert!(
            explanation.contains("收入连续 0 个月高于监测收入线，未满6个月")
                && explanation.contains("风险消除条件未满足，继续监测"),
            "{backend}: {explanation}"
        );
        end_monitoring_refused(&town, early, "risk_not_eliminated").await;
        ok(
            &town,
            early,
            json!({"action": "withdraw", "reason": "未满稳定月数"}),
        )
        .await;

        // Seven months on.
        app.clock.set(2027, 7, 20);
        town = app.api_user("bachuan").await;

        // A: the earlier survey (recorded though its case was withdrawn) and today's are both
        // above the line, seven months apart: 风险消除 is proposed and confirmed.
        let (status, body) =
            open_case(&town, "risk_elimination", "RE-0001", "务工收入稳定七个月").await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let late = body["id"].as_i64().unwrap();
        through_review(&app, late, &team, working(36000, json!([]))).await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{late}")).await;
        assert_eq!(
            detail["proposal"]["categories"],
            json!([]),
            "{backend}: {detail}"
        );
        let explanation = detail["proposal"]["explanation"].as_str().unwrap();
        assert!(
            explanation.contains("收入连续 7 个月高于监测收入线，已满6个月")
                && explanation.contains("可标注风险消除"),
            "{backend}: {explanation}"
        );
        assert_eq!(joint_review(&town, late, true).await, "notice", "{backend}");
        ok(&town, late, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, late).await;
        assert_eq!(confirm_all(&app, late).await, "confirmed", "{backend}");
        town = app.api_user("bachuan").await;
        assert!(open_periods(&town, late).await.is_empty(), "{backend}");

        // Every income the system learnt is kept: A's application and two 风险消除 surveys.
        let mut conn = app.app.store().read().await.unwrap();
        let incomes = store::incomes::of_household(&mut conn, "RE-0001")
            .await
            .unwrap();
        let seen: Vec<(&str, i64)> = incomes
            .iter()
            .map(|row| (row.source.code(), row.income_12m_fen))
            .collect();
        assert_eq!(
            seen,
            [
                ("survey", 2_400_000),
                ("survey", 3_600_000),
                ("survey", 3_600_000)
            ],
            "{backend}"
        );
        drop(conn);
        app.stop().await;
    }
}

/// Rule 9, X2: a household without labour capacity stays monitored after it leaves 低保 by
/// exit (the meeting may not end the tag in an exit), and 风险消除 cannot end its monitoring
/// even with stable income seven months on.
#[tokio::test]
async fn x2_a_household_without_labour_capacity_stays_monitored() {
    use crate::cases::{confirm_all, joint_review, ok, past_notice, through_review};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let team = a_and_b_enrolled(&app).await;
        let mut town = app.api_user("bachuan").await;

        // B leaves 低保 by exit: income above the line and no risk now, but the tag stays
        // (按规退出并持续做好监测); the meeting may not end it in an exit.
        let (status, body) = open_case(&town, "exit", "RE-0002", "子女赡养费增加").await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let exit = body["id"].as_i64().unwrap();
        through_review(&app, exit, &team, elderly(36000, json!([]))).await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{exit}")).await;
        assert_eq!(
            detail["proposal"]["categories"],
            json!(["monitoring"]),
            "{backend}: {detail}"
        );
        assert_eq!(
            detail["proposal"]["monitoring_kind"], "edge_prone",
            "{backend}: the kept tag keeps its kind"
        );
        end_monitoring_refused(&town, exit, "monitoring_ends_only_by_risk_elimination").await;
        assert_eq!(joint_review(&town, exit, true).await, "notice", "{backend}");
        ok(&town, exit, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, exit).await;
        assert_eq!(confirm_all(&app, exit).await, "confirmed", "{backend}");
        town = app.api_user("bachuan").await;
        assert_eq!(open_periods(&town, exit).await, ["monitoring"], "{backend}");

        // Seven months on.
        app.clock.set(2027, 7, 20);
        town = app.api_user("bachuan").await;
        // B: stable income and no risk, but no labour capacity: monitoring continues.
        let (status, body) = open_case(
            &town,
            "risk_elimination",
            "RE-0002",
            "收入稳定，申请风险消除",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let elderly_case = body["id"].as_i64().unwrap();
        through_review(&app, elderly_case, &team, elderly(36000, json!([]))).await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{elderly_case}")).await;
        assert_eq!(
            detail["proposal"]["categories"],
            json!(["monitoring"]),
            "{backend}"
        );
        assert!(
            detail["proposal"]["explanation"]
                .as_str()
                .unwrap()
                .contains("无劳动能力家庭，继续监测"),
            "{backend}: {detail}"
        );
        end_monitoring_refused(&town, elderly_case, "risk_not_eliminated").await;
        app.stop().await;
    }
}
