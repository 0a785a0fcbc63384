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
