//! 线上申请 (P1): the public online application, no login.

use crate::helpers::{TestApp, backends, id_number, with_wrong_check};
use reqwest::StatusCode;

/// 巴川街道 永院村, the fixture's village in the first town.
const VILLAGE: &str = "500151001200";

/// An anonymous visitor with the form's token (read from `GET /apply`).
struct Visitor {
    client: reqwest::Client,
    csrf: String,
    base: String,
}

impl Visitor {
    async fn open(app: &TestApp) -> Visitor {
        let client = app.anonymous();
        Visitor {
            csrf: app.form_csrf(&client, "/apply").await,
            client,
            base: app.base.clone(),
        }
    }

    async fn submit(&self, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut pairs: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        pairs.extend_from_slice(fields);
        let response = self
            .client
            .post(format!("{}/apply", self.base))
            .form(&pairs)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

/// The form filled in for `name` with `id`, in `village`, consent ticked.
fn filled<'a>(name: &'a str, id: &'a str, village: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("id_number", id),
        ("phone", "13812345678"),
        ("village", village),
        ("household_size", "3"),
        ("hardship", "丈夫患尿毒症长期透析，家中无稳定收入"),
        ("consent", "on"),
    ]
}

/// The tracking number the confirmation page shows.
fn number_shown(html: &str) -> String {
    let marker = "id=\"apply-number\">";
    let start = html.find(marker).unwrap() + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].to_owned()
}

/// How many cases the store holds.
async fn case_count(app: &TestApp) -> i64 {
    let mut conn = app.app.store().read().await.unwrap();
    store::cases::count_tracking_prefix(&mut conn, "TL")
        .await
        .unwrap()
}

#[tokio::test]
async fn p1_an_online_application_opens_a_case_at_intake_in_the_chosen_village() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The login page and the tracking page link to the form.
        let anonymous = app.anonymous();
        for page in ["/login", "/track"] {
            let html = anonymous
                .get(app.url(page))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains("href=\"/apply\""), "{backend}: {page}");
        }
        let visitor = Visitor::open(&app).await;
        let form = visitor
            .client
            .get(app.url("/apply"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            form.contains("<optgroup label=\"巴川街道\">") && form.contains("授权"),
            "{backend}"
        );
        let visitor = Visitor::open(&app).await;

        let applicant_id = id_number("50022419800101002");
        let (status, done) = visitor
            .submit(&filled("王小梅", &applicant_id, VILLAGE))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {done}");
        let number = number_shown(&done);
        assert_eq!(number, "TL20261128-0001", "{backend}");
        assert!(
            done.contains(&format!("/track?number={number}")),
            "{backend}: the confirmation links to /track"
        );
        for private in ["13812345678", "尿毒症", applicant_id.as_str()] {
            assert!(
                !done.contains(private),
                "{backend}: confirmation shows {private}"
            );
        }

        // The town's queue lists it; the other town's does not.
        let town = app.api_user("bachuan").await;
        let (_, queue) = town.get("/api/v1/cases").await;
        let items = queue["items"].as_array().unwrap();
        let item = items
            .iter()
            .find(|item| item["tracking_number"] == number.as_str())
            .unwrap_or_else(|| panic!("{backend}: not in the town's queue: {queue}"));
        assert_eq!(item["area_code"], VILLAGE, "{backend}");
        assert_eq!(item["step"], "received", "{backend}");
        let household_id = item["household_id"].as_str().unwrap().to_owned();
        assert_eq!(household_id, "WS20261128-0001", "{backend}");
        let other_town = app.api_user("tuqiao").await;
        let (_, other_queue) = other_town.get("/api/v1/cases").await;
        assert!(
            !other_queue.to_string().contains(&number),
            "{backend}: {other_queue}"
        );

        // Channel 线上申请, the consent signed by the applicant today.
        let (status, case) = town
            .get(&format!("/api/v1/cases/{}", item["id"].as_i64().unwrap()))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {case}");
        assert_eq!(case["channel"], "online", "{backend}");
        assert_eq!(case["applicant"], "王小梅", "{backend}");
        assert_eq!(
            case["consent"],
            serde_json::json!({"signer": "王小梅", "signed_on": "2026-11-28"}),
            "{backend}"
        );
        assert_eq!(
            case["timeline"][0]["actor_name"], "线上申请（申请人本人）",
            "{backend}"
        );

        // The case page shows what the applicant typed; the ID number masked for the village.
        let case_path = format!("/cases/{}", item["id"].as_i64().unwrap());
        let (_, town_page) = app.page_user("bachuan").await.get(&case_path).await;
        assert!(
            town_page.contains(&applicant_id)
                && town_page.contains("13812345678")
                && town_page.contains("尿毒症")
                && town_page.contains("线上申请"),
            "{backend}"
        );
        let (status, village_page) = app.page_user("cunshe").await.get(&case_path).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            village_page.contains("id=\"online-id\"") && !village_page.contains(&applicant_id),
            "{backend}"
        );

        // The audit row names the online applicant.
        let audit = app.audit_of("case", &number).await;
        assert_eq!(audit.len(), 1, "{backend}");
        assert_eq!(audit[0].event.action, "case.open", "{backend}");
        assert!(
            audit[0].event.actor.starts_with("online:applicant"),
            "{backend}: {}",
            audit[0].event.actor
        );

        // /track finds it by the number shown.
        let response = anonymous
            .get(app.url(&format!("/track?number={number}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert!(response.text().await.unwrap().contains("受理"), "{backend}");

        // A second application of the same person while the first runs: the same number,
        // no new case (even in another village).
        let (status, again) = visitor
            .submit(&filled("王小梅", &applicant_id, "500151100200"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {again}");
        assert_eq!(number_shown(&again), number, "{backend}");
        assert!(again.contains("合并"), "{backend}");
        assert_eq!(case_count(&app).await, 1, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn p1_a_registered_member_applies_for_the_registry_household() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let visitor = Visitor::open(&app).await;
        // The member lives in 土桥镇 but picks a village of 巴川街道: the household's area wins.
        let head_id = app.tuqiao_village.head_id.clone();
        let (status, done) = visitor
            .submit(&filled(app.tuqiao_village.head_name, &head_id, VILLAGE))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {done}");
        let number = number_shown(&done);
        let town = app.api_user("tuqiao").await;
        let (_, queue) = town.get("/api/v1/cases").await;
        let item = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["tracking_number"] == number.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{backend}: {queue}"));
        assert_eq!(item["household_id"], app.tuqiao_village.external_id);
        assert_eq!(item["area_code"], app.tuqiao_village.area, "{backend}");
        let (_, bachuan_queue) = app.api_user("bachuan").await.get("/api/v1/cases").await;
        assert!(!bachuan_queue.to_string().contains(&number), "{backend}");

        // Another member of the same household applies while it runs: merged.
        let grandchild = id_number("50022420160909071");
        let (status, again) = visitor
            .submit(&filled("赵小花", &grandchild, VILLAGE))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {again}");
        assert_eq!(number_shown(&again), number, "{backend}");
        assert_eq!(case_count(&app).await, 1, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn p1_a_bad_online_application_is_refused_naming_the_field_and_keeping_the_input() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let visitor = Visitor::open(&app).await;
        let good_id = id_number("50022419800101002");
        let bad_id = with_wrong_check(&good_id);

        let (status, html) = visitor.submit(&filled("王小梅", &bad_id, VILLAGE)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(
            field_error(&html, "id_number").contains("校验位错误"),
            "{backend}: {html}"
        );
        assert!(
            html.contains("尿毒症") && html.contains(&bad_id),
            "{backend}: input kept"
        );

        let mut no_consent = filled("王小梅", &good_id, VILLAGE);
        no_consent.retain(|(key, _)| *key != "consent");
        let (status, html) = visitor.submit(&no_consent).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(
            field_error(&html, "consent").contains("授权"),
            "{backend}: {html}"
        );

        // A well-formed village code that is not on the place list.
        let (status, html) = visitor
            .submit(&filled("王小梅", &good_id, "500151001999"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(
            field_error(&html, "village").contains("村（社区）"),
            "{backend}: {html}"
        );

        let mut bad_phone = filled("王小梅", &good_id, VILLAGE);
        bad_phone[2] = ("phone", "2381234567");
        let (status, html) = visitor.submit(&bad_phone).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(
            field_error(&html, "phone").contains("手机号码"),
            "{backend}"
        );

        // Without the form's token nothing is taken.
        let response = app
            .anonymous()
            .post(app.url("/apply"))
            .form(&filled("王小梅", &good_id, VILLAGE))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        // An oversized body is refused before it is read.
        let huge = "困".repeat(20_000);
        let mut oversized = filled("王小梅", &good_id, VILLAGE);
        oversized[5] = ("hardship", huge.as_str());
        let (status, _) = visitor.submit(&oversized).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{backend}");
        assert_eq!(case_count(&app).await, 0, "{backend}");

        // Submissions are limited per client: past the minute's allowance, 429 in Chinese,
        // what was typed kept.
        let mut statuses = Vec::new();
        for _ in 0..12 {
            let (status, html) = visitor.submit(&no_consent).await;
            statuses.push(status);
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert!(
                    html.contains("提交过于频繁") && html.contains("尿毒症"),
                    "{backend}"
                );
            }
        }
        // Four submissions above counted already (the tokenless and oversized ones did not).
        let allowed = statuses
            .iter()
            .filter(|status| **status == StatusCode::UNPROCESSABLE_ENTITY)
            .count();
        assert_eq!(
            allowed + 4,
            web::APPLICATIONS_PER_MINUTE as usize,
            "{backend}: {statuses:?}"
        );
        assert_eq!(
            statuses.last(),
            Some(&StatusCode::TOO_MANY_REQUESTS),
            "{backend}"
        );
        app.stop().await;
    }
}

/// The error shown beside `field`.
fn field_error(html: &str, field: &str) -> String {
    let marker = format!("id=\"{field}-error\">");
    let Some(start) = html.find(&marker).map(|at| at + marker.len()) else {
        return String::new();
    };
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].to_owned()
}
