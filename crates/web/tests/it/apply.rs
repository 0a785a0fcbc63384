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

/// The receipt (查询码) the confirmation page shows.
fn number_shown(html: &str) -> String {
    let marker = "id=\"apply-number\">";
    let start = html.find(marker).unwrap() + marker.len();
    let end = html[start..].find('<').unwrap() + start;
    html[start..end].to_owned()
}

/// Whether `receipt` has the shape of a random receipt: 3 groups of 4 unambiguous characters.
fn is_receipt(receipt: &str) -> bool {
    receipt.len() == 14
        && receipt.split('-').all(|group| {
            group.len() == 4
                && group.bytes().all(|c| {
                    c.is_ascii_digit() && c >= b'2'
                        || c.is_ascii_uppercase() && c != b'O' && c != b'I'
                })
        })
}

/// `POST /track` with `number` and `proof`: the status and the page.
async fn track(app: &TestApp, number: &str, proof: &str) -> (StatusCode, String) {
    let response = app
        .anonymous()
        .post(app.url("/track"))
        .form(&[("number", number), ("proof", proof)])
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The confirmation page without its receipt, to compare two answers.
fn without_receipt(html: &str) -> String {
    html.replace(&number_shown(html), "RECEIPT")
}

/// How many cases the store holds.
async fn case_count(app: &TestApp) -> i64 {
    let mut conn = app.app.store().read().await.unwrap();
    store::cases::count_tracking_prefix(&mut conn, "TL")
        .await
        .unwrap()
}

/// 王小梅's online application in 永院村 (`VILLAGE`), as the town's queue lists it.
struct Applied {
    visitor: Visitor,
    applicant_id: String,
    /// The confirmation page.
    done: String,
    /// Its receipt (查询码).
    receipt: String,
    /// The case's tracking number.
    number: String,
    case_id: i64,
}

async fn applied(app: &TestApp) -> Applied {
    let visitor = Visitor::open(app).await;
    let applicant_id = id_number("50022419800101002");
    let (status, done) = visitor
        .submit(&filled("王小梅", &applicant_id, VILLAGE))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let receipt = number_shown(&done);
    let (_, queue) = app.api_user("bachuan").await.get("/api/v1/cases").await;
    let item = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["household_id"] == "WS20261128-0001")
        .unwrap_or_else(|| panic!("not in the town's queue: {queue}"))
        .clone();
    Applied {
        visitor,
        applicant_id,
        done,
        receipt,
        number: item["tracking_number"].as_str().unwrap().to_owned(),
        case_id: item["id"].as_i64().unwrap(),
    }
}

/// The login and tracking pages link to the public form (towns and villages to choose, the
/// authorisation); a filled form is confirmed with a receipt (查询码) linking to /track and
/// nothing of what was typed.
#[tokio::test]
async fn p1_the_form_is_linked_and_an_application_is_confirmed_with_a_receipt_only() {
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
        let receipt = number_shown(&done);
        assert!(is_receipt(&receipt), "{backend}: {receipt}");
        assert!(
            done.contains(&format!("/track?number={receipt}")),
            "{backend}: the confirmation links to /track"
        );
        for private in ["13812345678", "尿毒症", applicant_id.as_str(), "TL2026"] {
            assert!(
                !done.contains(private),
                "{backend}: confirmation shows {private}"
            );
        }
        app.stop().await;
    }
}

/// The town's queue lists the case (at 受理, in the chosen village), the other town's does
/// not; channel 线上申请, the consent signed by the applicant today; the case page shows what
/// was typed, the ID number masked for the village; the audit row names the online applicant.
#[tokio::test]
async fn p1_an_online_application_opens_a_case_at_intake_in_the_chosen_village() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let Applied {
            applicant_id,
            number,
            case_id,
            ..
        } = applied(&app).await;
        // The town's queue lists it; the other town's does not.
        let town = app.api_user("bachuan").await;
        let (_, queue) = town.get("/api/v1/cases").await;
        let items = queue["items"].as_array().unwrap();
        let item = items
            .iter()
            .find(|item| item["household_id"] == "WS20261128-0001")
            .unwrap_or_else(|| panic!("{backend}: not in the town's queue: {queue}"));
        assert_eq!(item["tracking_number"], number.as_str(), "{backend}");
        assert_eq!(item["id"], case_id, "{backend}");
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
        app.stop().await;
    }
}

/// /track finds it by the receipt with the phone or the ID number's last digits, in lower
/// case too; a wrong proof, the case's own number or an unknown receipt: the same "not
/// found"; the phone is posted, never in an address.
#[tokio::test]
async fn p1_track_finds_an_online_application_by_its_receipt_and_a_proof_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let Applied {
            applicant_id,
            receipt,
            number,
            ..
        } = applied(&app).await;
        let anonymous = app.anonymous();
        // /track finds it by the receipt with the phone or the ID number's last digits, in
        // lower case too; a wrong proof, the case's own number or an unknown receipt: the same
        // "not found".
        let (status, tracked) = track(&app, &receipt, "13812345678").await;
        assert_eq!(status, StatusCode::OK, "{backend}: {tracked}");
        assert!(
            tracked.contains("已受理您的申请") && tracked.contains("2026-11-28"),
            "{backend}"
        );
        let last_digits = &applicant_id[applicant_id.len() - 4..];
        let (status, _) = track(&app, &receipt.to_lowercase(), last_digits).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let (_, refused) = track(&app, &receipt, "13800000000").await;
        for (number, proof) in [
            (receipt.as_str(), "13800000000"),
            (receipt.as_str(), ""),
            (receipt.as_str(), &applicant_id[applicant_id.len() - 2..]),
            (number.as_str(), "13812345678"),
            ("ABCD-EFGH-JKLM", "13812345678"),
        ] {
            let (status, html) = track(&app, number, proof).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend}: {number} {proof}");
            // The same answer but for the number typed, which the form keeps.
            assert_eq!(
                html.replace(number, "N"),
                refused.replace(receipt.as_str(), "N"),
                "{backend}: the same answer for {number} {proof}"
            );
        }
        // The phone is posted, never in an address: a GET only fills the receipt in.
        let get_page = anonymous
            .get(app.url(&format!("/track?number={receipt}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            get_page.contains(&format!("value=\"{receipt}\"")),
            "{backend}"
        );
        assert!(!get_page.contains("id=\"progress\""), "{backend}");
        app.stop().await;
    }
}

/// A second application of the same person while the first runs (even in another village):
/// the same answer as anyone gets, a receipt of its own, no new case, no word of the first;
/// the town sees it on the case page, audited.
#[tokio::test]
async fn p1_a_second_application_of_the_same_person_opens_no_case() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let Applied {
            visitor,
            applicant_id,
            done,
            receipt,
            number,
            case_id,
        } = applied(&app).await;
        let case_path = format!("/cases/{case_id}");
        // A second application of the same person while the first runs (even in another
        // village): the same answer as anyone gets, a receipt of its own, no new case, no
        // word of the first; the town sees it on the case page, audited.
        let (status, again) = visitor
            .submit(&filled("王小梅", &applicant_id, "500151100200"))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {again}");
        let second = number_shown(&again);
        assert!(is_receipt(&second) && second != receipt, "{backend}");
        assert_eq!(without_receipt(&again), without_receipt(&done), "{backend}");
        assert!(
            !again.contains(&number) && !again.contains(&receipt),
            "{backend}"
        );
        assert_eq!(case_count(&app).await, 1, "{backend}");
        let (_, town_page) = app.page_user("bachuan").await.get(&case_path).await;
        assert!(town_page.contains("id=\"duplicates\""), "{backend}");
        let audit = app.audit_of("case", &number).await;
        assert_eq!(audit.len(), 2, "{backend}");
        assert_eq!(audit[1].event.action, "case.online_duplicate", "{backend}");
        // Its receipt shows 受理 on its own day, nothing of the running case.
        let (status, tracked) = track(&app, &second, "13812345678").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            tracked.contains("已受理您的申请") && !tracked.contains(&number),
            "{backend}"
        );
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
        let town = app.api_user("tuqiao").await;
        let (_, queue) = town.get("/api/v1/cases").await;
        let item = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["household_id"] == app.tuqiao_village.external_id)
            .cloned()
            .unwrap_or_else(|| panic!("{backend}: {queue}"));
        let number = item["tracking_number"].as_str().unwrap().to_owned();
        assert_eq!(item["household_id"], app.tuqiao_village.external_id);
        assert_eq!(item["area_code"], app.tuqiao_village.area, "{backend}");
        let (_, bachuan_queue) = app.api_user("bachuan").await.get("/api/v1/cases").await;
        assert!(!bachuan_queue.to_string().contains(&number), "{backend}");

        // Anyone typing another member's ID number while it runs gets the neutral answer:
        // no case number, no household number; kept with the running case.
        let grandchild = id_number("50022420160909071");
        let (status, again) = visitor
            .submit(&filled("赵小花", &grandchild, VILLAGE))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {again}");
        for secret in [number.as_str(), app.tuqiao_village.external_id, "已有"] {
            assert!(
                !again.contains(secret),
                "{backend}: the answer reveals {secret}"
            );
        }
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
