//! A1–A3 end to end: a household reaches its category through a case driven by the workflow
//! (受理 → 信息比对 → 入户调查 → 村社评议 → 联合研判 → 公示 → 审核确认); the case page previews its
//! proposals (预计帮扶) while the case runs and offers them once confirmed, as the household page
//! does (缺啥补啥); one is sent to its department (转介), accepted and delivered; a second
//! delivery of the same item in the same period is refused (不重), a need without an item is
//! flagged (不漏); a supplement (补充帮扶) needs its reason; out-of-area or other-department
//! users see nothing.

use crate::cases::{
    VILLAGE, confirm_all, ids, joint_review_without_monitoring, ok, open_application, past_notice,
    survey_team, through_review,
};
use crate::helpers::{TestApp, backends, hidden_field};
use app::users::{Creator, NewUser};
use domain::{PlaceCode, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn codes(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap().to_owned())
        .collect()
}

/// The 救助帮扶 section of a page (from its heading to the end of its card).
fn assist_section(html: &str) -> &str {
    let start = html
        .find("id=\"assistance\"")
        .expect("the 救助帮扶 section");
    let rest = &html[start..];
    let end = rest.find("</section>").map_or(rest.len(), |end| end);
    &rest[..end]
}

/// Creates a department user of `department` over `area`.
pub(crate) async fn department_user(app: &TestApp, username: &str, area: &str, department: &str) {
    let area = PlaceCode::parse(area).unwrap();
    app.app
        .create_user(
            Creator::Console("test"),
            NewUser {
                username,
                display_name: username,
                role: Role::Department,
                area: &area,
                password: crate::helpers::PASSWORD,
            },
        )
        .await
        .unwrap();
    app.app
        .set_user_department(Creator::Console("test"), username, department)
        .await
        .unwrap();
}

/// A form sending `item_code` of household `id` from a page (with `case_id`, a case page).
fn referral_form(
    csrf: &str,
    id: i64,
    case_id: Option<i64>,
    item_code: &str,
    supplementary_reason: Option<&str>,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("csrf".to_owned(), csrf.to_owned()),
        ("household_id".to_owned(), id.to_string()),
        ("item_code".to_owned(), item_code.to_owned()),
    ];
    if let Some(case_id) = case_id {
        form.push(("case_id".to_owned(), case_id.to_string()));
    }
    if let Some(reason) = supplementary_reason {
        form.push(("supplementary_reason".to_owned(), reason.to_owned()));
    }
    form
}

/// The survey of BC-0100 (`ids`): a household of three in 永院村 whose head is seriously ill,
/// with an unsafe house and no safe drinking water.
fn survey_with_needs(ids: &[String; 3]) -> Value {
    let mut survey = crate::cases::household("BC-0100", ids, 12000.0);
    survey["members"][0]["serious_illness"] = json!(true);
    survey["guarantees"] = json!({ "housing": false, "drinking_water": false });
    survey
}

/// A first application of BC-0100 confirmed over the API (受理 → … → 审核确认, the monitoring
/// tag left out at the joint review, the clock past the notice): the household holds 低保.
struct Confirmed {
    case_id: i64,
    /// The household's registry row.
    id: i64,
    today: String,
}

impl Confirmed {
    fn year(&self) -> &str {
        &self.today[..4]
    }
}

async fn confirmed_with_needs(app: &TestApp) -> Confirmed {
    let team = survey_team(app).await;
    let case_id = open_application(app, "BC-0100", "因病致贫，申请救助").await;
    through_review(app, case_id, &team, survey_with_needs(&ids())).await;
    let town = app.api_user("bachuan").await;
    assert_eq!(
        joint_review_without_monitoring(&town, case_id).await,
        "notice"
    );
    ok(&town, case_id, json!({"action": "post_notice"})).await;
    past_notice(app, &town, case_id).await;
    assert_eq!(confirm_all(app, case_id).await, "confirmed");
    // Sessions idle out while the notice runs: sign in again.
    let town = app.api_user("bachuan").await;
    let (_, detail) = town.get(&format!("/api/v1/cases/{case_id}")).await;
    Confirmed {
        case_id,
        id: detail["household_row_id"].as_i64().unwrap(),
        today: app.app.today().to_string(),
    }
}

/// 医疗救助 of the household sent by the town reviewer over the API, for `bumen`, made a
/// 区医保局 user. Answers the referral's id.
async fn medical_sent(app: &TestApp, confirmed: &Confirmed) -> i64 {
    let reviewer = app.api_user("bachuan").await;
    let body = json!({ "household_id": confirmed.id, "item_code": "medical_assistance" });
    let (status, sent) = reviewer.post("/api/v1/referrals", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    app.app
        .set_user_department(Creator::Console("test"), "bumen", "medical_security")
        .await
        .unwrap();
    sent["id"].as_i64().unwrap()
}

/// `medical_sent`, then accepted and delivered by `bumen` (1 200.50 yuan today, 住院救助).
async fn medical_delivered(app: &TestApp, confirmed: &Confirmed) -> i64 {
    let rid = medical_sent(app, confirmed).await;
    let bumen = app.api_user("bumen").await;
    for action in [
        json!({ "action": "accept" }),
        json!({ "action": "deliver", "amount": "1200.50", "delivered_on": confirmed.today, "note": "住院救助" }),
    ] {
        let (status, answer) = bumen
            .post(&format!("/api/v1/referrals/{rid}/actions"), &action)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    rid
}

/// The charity's 补充帮扶 after 医疗救助 sent from the case page with `reason`.
async fn charity_supplement_sent(app: &TestApp, confirmed: &Confirmed, reason: &str) {
    let town_page = app.page_user("bachuan").await;
    let form = referral_form(
        &town_page.csrf,
        confirmed.id,
        Some(confirmed.case_id),
        "charity_medical",
        Some(reason),
    );
    let response = town_page.post_form("/referrals", &form).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// A2 while the case runs: before the survey nothing is proposed; at the joint review the case
/// page previews the proposals (预计帮扶) from the survey and the rules engine's proposal, then
/// from the meeting's decisions; nothing can be sent until the case is confirmed.
#[tokio::test]
async fn a2_a_running_case_previews_its_proposals_and_sends_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let team = survey_team(&app).await;
        // 受理: a first application of a household of three in 永院村.
        let case_id = open_application(&app, "BC-0100", "因病致贫，申请救助").await;

        // Before the survey there is nothing to propose from.
        let town_page = app.page_user("bachuan").await;
        let (status, html) = town_page.get(&format!("/cases/{case_id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            assist_section(&html).contains("入户调查后按调查情况显示预计帮扶"),
            "{backend}"
        );

        // The survey records a seriously ill head, an unsafe house and no safe drinking water.
        through_review(&app, case_id, &team, survey_with_needs(&ids)).await;

        // At the joint review the case page previews the proposals (预计帮扶) from the survey
        // and the rules engine's proposal; nothing can be sent yet.
        let (_, html) = town_page.get(&format!("/cases/{case_id}")).await;
        let section = assist_section(&html);
        for said in [
            "救助帮扶（预计帮扶）",
            "本案入户调查",
            "规则引擎认定建议",
            "低保",
            "最低生活保障金（低保金）",
            "医疗救助（资助参保、门诊和住院救助）",
            "农村危房改造",
            "成员患重特大疾病（户主）",
            "饮水安全需求",
            "目录中没有",
            "审核确认后转介",
            "拟认定为低保",
        ] {
            assert!(section.contains(said), "{backend}: preview lacks {said}");
        }
        assert!(!section.contains("已认定为"), "{backend}: not held yet");
        assert!(
            !section.contains("action=\"/referrals\""),
            "{backend}: no referral form before confirmation"
        );
        let town = app.api_user("bachuan").await;
        assert_eq!(
            joint_review_without_monitoring(&town, case_id).await,
            "notice"
        );
        // After the meeting the preview rests on its decisions.
        let (_, html) = town_page.get(&format!("/cases/{case_id}")).await;
        let section = assist_section(&html);
        assert!(
            section.contains("联合研判认定意见") && section.contains("预计帮扶"),
            "{backend}"
        );
        assert!(!section.contains("action=\"/referrals\""), "{backend}");
        ok(&town, case_id, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, case_id).await;
        assert_eq!(confirm_all(&app, case_id).await, "confirmed", "{backend}");
        app.stop().await;
    }
}

/// A2 once confirmed: the case page offers the household's proposals to the town reviewer
/// (缺啥补啥, 就高不就低 with the reason, 不漏 flagged), the household page and the API show the
/// same; the village assistant and the grid worker do not send, the other town sees nothing.
#[tokio::test]
async fn a2_a_confirmed_case_offers_its_proposals_to_whom_sends_referrals() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let Confirmed { case_id, id, .. } = confirmed_with_needs(&app).await;
        let reviewer = app.api_user("bachuan").await;
        // Confirmed: the household is in the registry with 低保, and the case page offers the
        // proposals to the town reviewer, returning to the case.
        let town_page = app.page_user("bachuan").await;
        let (_, html) = town_page.get(&format!("/cases/{case_id}")).await;
        let section = assist_section(&html);
        assert!(
            !section.contains("预计帮扶")
                && section.contains("在册类别（本案审核确认后）")
                && section.contains("已认定为低保"),
            "{backend}: {section}"
        );
        assert!(
            section.contains("转介至区医保局")
                && section.contains(&format!("name=\"case_id\" value=\"{case_id}\"")),
            "{backend}"
        );
        // The village assistant sees them but does not send referrals.
        let village_page = app.page_user("cunshe").await;
        let (_, html) = village_page.get(&format!("/cases/{case_id}")).await;
        let section = assist_section(&html);
        assert!(
            section.contains("医疗救助") && !section.contains("action=\"/referrals\""),
            "{backend}"
        );

        // The household page and the API show the same proposals.
        let (status, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {proposals}");
        assert_eq!(proposals["categories"], json!(["dibao"]), "{backend}");
        assert_eq!(
            codes(&proposals["proposed"], "item_code"),
            [
                "dibao_allowance",
                "medical_assistance",
                "housing_renovation"
            ],
            "{backend}: {proposals}"
        );
        let (_, household_html) = town_page.get(&format!("/households/{id}")).await;
        assert!(
            assist_section(&household_html).contains("转介至区医保局"),
            "{backend}"
        );
        // 就高不就低: medical assistance over the charity's, with the reason.
        assert_eq!(
            codes(&proposals["passed_over"], "item_code"),
            ["charity_medical"],
            "{backend}"
        );
        assert!(
            proposals["passed_over"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("就高不就低"),
            "{backend}"
        );
        // 不漏: the water gap has no item and is flagged.
        assert_eq!(
            codes(&proposals["unmet"], "need"),
            ["drinking_water"],
            "{backend}"
        );
        let medical = &proposals["proposed"][1];
        assert!(
            medical["reason"]
                .as_str()
                .unwrap()
                .contains("成员患重特大疾病（户主）"),
            "{backend}: {medical}"
        );
        assert_eq!(medical["department_name"], "区医保局", "{backend}");

        // Out of area: the other town's reviewer cannot read or refer this household.
        let other_town = app.api_user("tuqiao").await;
        assert_eq!(
            other_town.get(&format!("/api/v1/proposals/{id}")).await.0,
            StatusCode::NOT_FOUND,
            "{backend}"
        );
        let body = json!({ "household_id": id, "item_code": "medical_assistance" });
        assert_eq!(
            other_town.post("/api/v1/referrals", &body).await.0,
            StatusCode::NOT_FOUND,
            "{backend}"
        );
        // A grid worker reads the proposals but does not send referrals.
        let grid = app.api_user("wangge").await;
        assert_eq!(
            grid.post("/api/v1/referrals", &body).await.0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );

        app.stop().await;
    }
}

/// A3: 转介 from the case page to 区医保局 returns to the case; sent, the item is not proposed
/// again; only that department's user in the area sees it (one page of the queue), and the
/// town reviewer who sent it may not handle it.
#[tokio::test]
async fn a3_a_referral_from_the_case_page_is_seen_by_its_department_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let confirmed = confirmed_with_needs(&app).await;
        let (case_id, id, year) = (confirmed.case_id, confirmed.id, confirmed.year());
        let reviewer = app.api_user("bachuan").await;
        let town_page = app.page_user("bachuan").await;
        // 转介 to 区医保局, from the case page: back to the case.
        let response = town_page
            .post_form(
                "/referrals",
                &referral_form(
                    &town_page.csrf,
                    id,
                    Some(case_id),
                    "medical_assistance",
                    None,
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            response.headers()["location"],
            format!("/cases/{case_id}#assistance").as_str(),
            "{backend}"
        );
        let (_, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        let referral = &proposals["chain"][0];
        assert_eq!(referral["state"], "sent", "{backend}");
        assert_eq!(referral["department"], "medical_security", "{backend}");
        assert_eq!(referral["period"], year, "{backend}");
        assert_eq!(referral["supplementary_reason"], Value::Null, "{backend}");
        let rid = referral["id"].as_i64().unwrap();
        // Sent, it is not proposed again.
        assert!(
            !codes(&proposals["proposed"], "item_code").contains(&"medical_assistance".to_owned()),
            "{backend}"
        );
        assert_eq!(
            codes(&proposals["covered"], "item_code"),
            ["medical_assistance"],
            "{backend}"
        );

        // The department user sees it in the queue; other departments and places do not.
        app.app
            .set_user_department(Creator::Console("test"), "bumen", "medical_security")
            .await
            .unwrap();
        department_user(&app, "jiaowei", "500151", "education").await;
        department_user(&app, "tq-yibao", "500151100", "medical_security").await;
        let bumen = app.api_user("bumen").await;
        let (status, queue) = bumen.get("/api/v1/referrals").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{backend}");
        // One page (issue 12): its capped total, no next page; a cursor that is not one is 422.
        assert_eq!(
            (&queue["total"], &queue["total_capped"], &queue["next"]),
            (&json!(1), &json!(false), &Value::Null),
            "{backend}"
        );
        let (status, after) = bumen.get(&format!("/api/v1/referrals?after={rid}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(after["items"], json!([]), "{backend}: none older than it");
        let (status, bad) = bumen.get("/api/v1/referrals?after=x1").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {bad}");
        assert!(bad.to_string().contains("翻页位置无效"), "{backend}: {bad}");
        // The payee unmasked to the department that delivers it (issue 15 item 8; `payee.rs`).
        assert_eq!(
            queue["items"][0]["head_name"], "韩一",
            "{backend}: its payee"
        );
        assert_eq!(
            queue["items"][0]["actions"],
            json!(["accept", "decline"]),
            "{backend}"
        );
        for (username, expected) in [("jiaowei", 0), ("tq-yibao", 0)] {
            let user = app.api_user(username).await;
            let (_, queue) = user.get("/api/v1/referrals").await;
            assert_eq!(
                queue["items"].as_array().unwrap().len(),
                expected,
                "{backend} {username}"
            );
            assert_eq!(
                user.get(&format!("/api/v1/referrals/{rid}")).await.0,
                StatusCode::NOT_FOUND,
                "{backend} {username}"
            );
            let (status, _) = user
                .post(
                    &format!("/api/v1/referrals/{rid}/actions"),
                    &json!({ "action": "accept" }),
                )
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {username}");
        }
        // The town reviewer who sent it may not handle it.
        let (status, _) = reviewer
            .post(
                &format!("/api/v1/referrals/{rid}/actions"),
                &json!({ "action": "accept" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        app.stop().await;
    }
}

/// A3: delivery before acceptance is refused; accepted, then delivered once (a wrong amount
/// names its field); a second delivery or sending it again in the period is refused (不重);
/// every step is audited with the household's place.
#[tokio::test]
async fn a3_a_referral_is_accepted_then_delivered_once_and_audited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let confirmed = confirmed_with_needs(&app).await;
        let (today, year) = (confirmed.today.clone(), confirmed.year());
        let rid = medical_sent(&app, &confirmed).await;
        let reviewer = app.api_user("bachuan").await;
        let bumen = app.api_user("bumen").await;
        let body = json!({ "household_id": confirmed.id, "item_code": "medical_assistance" });
        // Delivery before acceptance is refused; accept, then deliver.
        let deliver = json!({ "action": "deliver", "amount": "1200.50", "delivered_on": today, "note": "住院救助" });
        let (status, refused) = bumen
            .post(&format!("/api/v1/referrals/{rid}/actions"), &deliver)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}");
        assert!(
            refused["message"].as_str().unwrap().contains("请先受理"),
            "{backend}: {refused}"
        );
        let (status, accepted) = bumen
            .post(
                &format!("/api/v1/referrals/{rid}/actions"),
                &json!({ "action": "accept" }),
            )
            .await;
        assert_eq!(
            (status, accepted["state"].as_str()),
            (StatusCode::OK, Some("accepted")),
            "{backend}"
        );
        let bad = json!({ "action": "deliver", "amount": "12.345", "delivered_on": today });
        let (status, fault) = bumen
            .post(&format!("/api/v1/referrals/{rid}/actions"), &bad)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(fault["fields"][0]["field"], "amount", "{backend}");
        let (status, delivered) = bumen
            .post(&format!("/api/v1/referrals/{rid}/actions"), &deliver)
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {delivered}");
        assert_eq!(delivered["state"], "delivered", "{backend}");
        assert_eq!(delivered["amount_fen"], 120_050, "{backend}");
        assert_eq!(delivered["delivered_on"], today.as_str(), "{backend}");
        assert_eq!(
            delivered["events"].as_array().unwrap().len(),
            3,
            "{backend}: sent, accepted, delivered"
        );

        // 不重: a second delivery of the item in the period is refused, and so is sending it
        // again, with a clear message.
        let (status, twice) = bumen
            .post(&format!("/api/v1/referrals/{rid}/actions"), &deliver)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}: {twice}");
        let (status, duplicate) = reviewer.post("/api/v1/referrals", &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}");
        let message = duplicate["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{year}年度已发放")) && message.contains("不得重复发放"),
            "{backend}: {message}"
        );

        // Every step is audited with the household's place.
        let audit = app.audit_of("referral", &rid.to_string()).await;
        let actions: Vec<&str> = audit
            .iter()
            .map(|e| e.event.action.as_str())
            .filter(|action| *action != store::audit::REFERRAL_REVEAL)
            .collect();
        assert_eq!(
            actions,
            ["referral.create", "referral.accept", "referral.deliver"],
            "{backend}"
        );
        assert!(
            audit
                .iter()
                .all(|e| e.event.area_code.as_deref() == Some(VILLAGE)),
            "{backend}"
        );

        app.stop().await;
    }
}

/// 补充帮扶: after 医疗救助 was delivered the charity's help is offered as a supplement; it
/// needs its reason (from the API and the case page); an item that does not fit, or one
/// proposed, is not a supplement; sent, it is offered no more (不重) and the chain, the pages
/// and the slip show its reason.
#[tokio::test]
async fn a3_a_supplement_needs_its_reason_and_is_sent_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let confirmed = confirmed_with_needs(&app).await;
        let (case_id, id) = (confirmed.case_id, confirmed.id);
        medical_delivered(&app, &confirmed).await;
        let reviewer = app.api_user("bachuan").await;
        let town_page = app.page_user("bachuan").await;
        // 补充帮扶: the charity's help after 医疗救助 is offered as a supplement; it needs its
        // reason; an item that does not fit, or one proposed, is not a supplement.
        let (_, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        assert_eq!(
            codes(&proposals["supplements"], "item_code"),
            ["charity_medical"],
            "{backend}: {proposals}"
        );
        assert_eq!(
            proposals["supplements"][0]["covered_by"], "医疗救助（资助参保、门诊和住院救助）",
            "{backend}"
        );
        let supplement = |item: &str, reason: &str| json!({ "household_id": id, "item_code": item, "supplementary_reason": reason });
        let (status, fault) = reviewer
            .post("/api/v1/referrals", &supplement("charity_medical", "  "))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(
            fault["fields"][0]["field"], "supplementary_reason",
            "{backend}"
        );
        assert!(
            fault["message"].as_str().unwrap().contains("补充理由"),
            "{backend}: {fault}"
        );
        for (item, words) in [
            ("tekun_support", "须已认定为特困人员"),
            ("housing_renovation", "请直接转介"),
            ("charity_emergency", "须有以下情形之一"),
        ] {
            let (status, fault) = reviewer
                .post("/api/v1/referrals", &supplement(item, "仍有困难"))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend} {item}");
            assert_eq!(fault["fields"][0]["field"], "item_code", "{backend} {item}");
            assert!(
                fault["message"].as_str().unwrap().contains(words),
                "{backend} {item}: {fault}"
            );
        }
        // From the case page, a blank reason comes back to the case in Chinese, nothing sent.
        let response = town_page
            .post_form(
                "/referrals",
                &referral_form(
                    &town_page.csrf,
                    id,
                    Some(case_id),
                    "charity_medical",
                    Some(""),
                ),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("id=\"assist-error\"") && html.contains("须填写补充理由"),
            "{backend}"
        );
        assert!(html.contains("id=\"timeline\""), "{backend}: the case page");
        let reason = "住院自付费用仍超过两万元，家庭仍有困难";
        let response = town_page
            .post_form(
                "/referrals",
                &referral_form(
                    &town_page.csrf,
                    id,
                    Some(case_id),
                    "charity_medical",
                    Some(reason),
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let (_, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        let chain = proposals["chain"].as_array().unwrap();
        let charity = chain
            .iter()
            .find(|r| r["item_code"] == "charity_medical")
            .unwrap();
        assert_eq!(charity["supplementary_reason"], reason, "{backend}");
        assert_eq!(charity["department"], "charity", "{backend}");
        assert!(
            charity["reason"].as_str().unwrap().contains("补充帮扶"),
            "{backend}: {charity}"
        );
        let charity_id = charity["id"].as_i64().unwrap();
        assert!(
            proposals["supplements"].as_array().unwrap().is_empty(),
            "{backend}: sent, it is offered no more"
        );
        // 不重 holds for supplements too.
        let (status, _) = reviewer
            .post("/api/v1/referrals", &supplement("charity_medical", reason))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}");
        let audit = app.audit_of("referral", &charity_id.to_string()).await;
        assert_eq!(
            audit[0].event.action, "referral.create_supplementary",
            "{backend}"
        );
        assert!(
            audit[0].event.after.as_deref().unwrap().contains(reason),
            "{backend}"
        );
        // The chain on the case and household pages, and the slip, show the reason.
        let (_, html) = town_page.get(&format!("/cases/{case_id}")).await;
        let section = assist_section(&html);
        assert!(
            section.contains("补充帮扶") && section.contains(reason) && section.contains("已落实"),
            "{backend}"
        );
        let (_, slip) = town_page
            .get(&format!("/referrals/{charity_id}/slip"))
            .await;
        assert!(
            slip.contains("补充理由") && slip.contains(reason),
            "{backend}"
        );

        app.stop().await;
    }
}

/// Pages: the household's 救助帮扶 section and chain (一户一条救助链); a referral sent from the
/// page (a forged token refused), declined by district civil affairs (区民政局 handles its own
/// items) only with a reason; declined, the item is proposed again.
#[tokio::test]
async fn a3_the_household_page_sends_and_civil_affairs_declines_with_a_reason() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let confirmed = confirmed_with_needs(&app).await;
        let id = confirmed.id;
        medical_delivered(&app, &confirmed).await;
        let reason = "住院自付费用仍超过两万元，家庭仍有困难";
        charity_supplement_sent(&app, &confirmed, reason).await;
        let reviewer = app.api_user("bachuan").await;
        // Pages: the household's 救助帮扶 section and chain; a referral sent from the page,
        // declined by district civil affairs (区民政局 handles its own items) with a reason.
        let page = app.page_user("bachuan").await;
        let (status, html) = page.get(&format!("/households/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("救助帮扶") && html.contains("id=\"chain\""),
            "{backend}"
        );
        assert!(
            html.contains("已落实") && html.contains("住院救助") && html.contains(reason),
            "{backend}"
        );
        assert!(
            html.contains("饮水安全需求") && html.contains("目录中没有"),
            "{backend}: unmet need shown"
        );
        let response = page
            .post_form(
                "/referrals",
                &referral_form(&page.csrf, id, None, "dibao_allowance", None),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            response.headers()["location"],
            format!("/households/{id}#assistance").as_str(),
            "{backend}"
        );
        let forged = referral_form("forged", id, None, "housing_renovation", None);
        assert_eq!(
            page.post_form("/referrals", &forged).await.status(),
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let civil = app.page_user("minzheng").await;
        let (status, queue_html) = civil.get("/referrals?state=sent").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(queue_html.contains("最低生活保障金"), "{backend}");
        let (_, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        let dibao_id = proposals["chain"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["item_code"] == "dibao_allowance")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let decline = |reason: &str| {
            vec![
                ("csrf".to_owned(), civil.csrf.clone()),
                ("action".to_owned(), "decline".to_owned()),
                ("reason".to_owned(), reason.to_owned()),
            ]
        };
        let response = civil
            .post_form(&format!("/referrals/{dibao_id}"), &decline(" "))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response.text().await.unwrap().contains("退回须说明理由"),
            "{backend}"
        );
        let response = civil
            .post_form(
                &format!("/referrals/{dibao_id}"),
                &decline("本月已随批次发放"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        // Declined, the item is proposed again.
        let (_, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        assert!(
            codes(&proposals["proposed"], "item_code").contains(&"dibao_allowance".to_owned()),
            "{backend}"
        );
        let chain = &proposals["chain"];
        assert_eq!(
            codes(chain, "state"),
            ["delivered", "sent", "declined"],
            "{backend}: 一户一条救助链"
        );

        app.stop().await;
    }
}

/// Editing the catalogue does not change what a past referral meant: it keeps its item's
/// version.
#[tokio::test]
async fn a1_a_referral_keeps_its_items_version_when_the_catalogue_is_edited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let confirmed = confirmed_with_needs(&app).await;
        let id = confirmed.id;
        medical_delivered(&app, &confirmed).await;
        let reviewer = app.api_user("bachuan").await;
        let civil = app.page_user("minzheng").await;
        // Editing the catalogue does not change what a past referral meant.
        let edit: Vec<(String, String)> = [
            ("csrf", civil.csrf.as_str()),
            ("version", "1"),
            ("code", "medical_assistance"),
            ("name", "医疗救助（新版）"),
            ("needs", "medical"),
            ("department", "medical_security"),
            ("categories", "dibao"),
            ("signals", "serious_illness"),
            ("rank", "90"),
            ("period", "year"),
            ("source", "测试"),
            ("status", "secondary"),
            ("active", "1"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            civil.post_form("/assistance", &edit).await.status(),
            StatusCode::SEE_OTHER,
            "{backend}"
        );
        let (_, proposals) = reviewer.get(&format!("/api/v1/proposals/{id}")).await;
        assert_eq!(
            (
                proposals["chain"][0]["item_name"].clone(),
                proposals["chain"][0]["item_version"].clone()
            ),
            (json!("医疗救助（资助参保、门诊和住院救助）"), json!(1)),
            "{backend}: the referral keeps its item's version"
        );

        app.stop().await;
    }
}

/// The department's queue page shows its own referrals; the printable slip is masked, on the
/// shared print layout, with the item's catalogue version; another department's slip is not
/// found.
#[tokio::test]
async fn a3_the_department_queue_page_and_the_slip_are_its_own_and_masked() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let confirmed = confirmed_with_needs(&app).await;
        let rid = medical_delivered(&app, &confirmed).await;
        let reviewer = app.api_user("bachuan").await;
        let body = json!({ "household_id": confirmed.id, "item_code": "dibao_allowance" });
        let (status, sent) = reviewer.post("/api/v1/referrals", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {sent}");
        let dibao_id = sent["id"].as_i64().unwrap();
        // The department's queue page and the printable slip, masked.
        let bumen_page = app.page_user("bumen").await;
        let (status, queue_html) = bumen_page.get("/referrals").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(hidden_field(&queue_html, "csrf").is_some(), "{backend}");
        assert!(
            queue_html.contains("区医保局") && !queue_html.contains("最低生活保障金"),
            "{backend}"
        );
        let (status, slip) = bumen_page.get(&format!("/referrals/{rid}/slip")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            slip.contains("救助帮扶转介单") && slip.contains("韩*"),
            "{backend}"
        );
        assert!(
            !slip.contains("韩一") && !slip.contains(&ids[0]),
            "{backend}: the slip is masked"
        );
        assert!(!slip.contains("补充理由"), "{backend}: not a supplement");
        assert!(
            slip.contains("/static/print.css")
                && slip.contains("class=\"toolbar\"")
                && !slip.contains("<style"),
            "{backend}: the slip is on the shared print layout"
        );
        assert!(slip.contains("目录第1版"), "{backend}");
        assert_eq!(
            bumen_page
                .get(&format!("/referrals/{dibao_id}/slip"))
                .await
                .0,
            StatusCode::NOT_FOUND,
            "{backend}: another department's referral"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a1_catalogue_is_edited_by_district_civil_affairs_with_versions() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let civil = app.page_user("minzheng").await;
        let (status, html) = civil.get("/assistance").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("区慈善救助服务联合体") && html.contains("农村危房改造"),
            "{backend}"
        );
        let (status, html) = civil.get("/assistance/charity_medical").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(html.contains("保存为新版本"), "{backend}");

        let mut form = vec![
            ("csrf".to_owned(), civil.csrf.clone()),
            ("version".to_owned(), "1".to_owned()),
            ("code".to_owned(), "charity_medical".to_owned()),
            ("name".to_owned(), "慈善医疗帮扶（大病）".to_owned()),
            ("needs".to_owned(), "medical".to_owned()),
            ("department".to_owned(), "charity".to_owned()),
            ("signals".to_owned(), "serious_illness".to_owned()),
            ("rank".to_owned(), "abc".to_owned()),
            ("period".to_owned(), "year".to_owned()),
            ("source".to_owned(), "区慈善会2026年方案".to_owned()),
            ("status".to_owned(), "provisional".to_owned()),
            ("active".to_owned(), "1".to_owned()),
        ];
        let response = civil.post_form("/assistance", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let text = response.text().await.unwrap();
        assert!(
            text.contains("rank") && text.contains("应为整数"),
            "{backend}"
        );
        assert!(
            text.contains("慈善医疗帮扶（大病）"),
            "{backend}: input kept"
        );
        form.retain(|(k, _)| k != "rank");
        form.push(("rank".to_owned(), "60".to_owned()));
        assert_eq!(
            civil.post_form("/assistance", &form).await.status(),
            StatusCode::SEE_OTHER,
            "{backend}"
        );
        // A stale version is a conflict, not a silent overwrite.
        let response = civil.post_form("/assistance", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response.text().await.unwrap().contains("已被他人修改"),
            "{backend}"
        );
        let api = app.api_user("minzheng").await;
        let (_, items) = api.get("/api/v1/assistance/items").await;
        let item = items["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "charity_medical")
            .unwrap()
            .clone();
        assert_eq!(
            (
                item["version"].clone(),
                item["rank"].clone(),
                item["name"].clone()
            ),
            (json!(2), json!(60), json!("慈善医疗帮扶（大病）")),
            "{backend}"
        );
        let (_, html) = civil.get("/assistance/charity_medical").await;
        assert!(
            html.contains("版本历史") && html.contains("minzheng#"),
            "{backend}"
        );
        let audit = app.audit_of("assistance_item", "charity_medical").await;
        assert_eq!(
            audit
                .iter()
                .map(|e| e.event.action.as_str())
                .collect::<Vec<_>>(),
            ["assistance_item.seed", "assistance_item.save"],
            "{backend}"
        );
        // Other roles read the catalogue but may not edit it.
        for username in ["bachuan", "bumen"] {
            let page = app.page_user(username).await;
            assert_eq!(
                page.get("/assistance").await.0,
                StatusCode::OK,
                "{backend} {username}"
            );
            let (_, html) = page.get("/referrals").await;
            let csrf = hidden_field(&html, "csrf").unwrap();
            let mut form = form.clone();
            form[0].1 = csrf;
            form[1].1 = "2".to_owned();
            assert_eq!(
                page.post_form("/assistance", &form).await.status(),
                StatusCode::FORBIDDEN,
                "{backend} {username}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a3_assistance_routes_need_a_session() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let client = app.anonymous();
    for path in [
        "/api/v1/assistance/items",
        "/api/v1/proposals/1",
        "/api/v1/referrals",
        "/api/v1/referrals/1",
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let response = client
        .post(app.url("/api/v1/referrals/1/actions"))
        .json(&json!({ "action": "accept" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for path in [
        "/assistance",
        "/assistance/new",
        "/referrals",
        "/referrals/1/slip",
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["location"], "/login", "{path}");
    }
    // The administrator manages users, not assistance.
    let admin = app.api_user("admin").await;
    assert_eq!(
        admin.get("/api/v1/referrals").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.get("/api/v1/assistance/items").await.0,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}
