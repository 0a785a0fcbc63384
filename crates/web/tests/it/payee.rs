//! Paying a referral (issue 15 item 8): the department user to whom a referral is assigned
//! sees its payee — the head's full name and ID number — on the queue page and in the API
//! while the referral is theirs to deliver, each such view audited (`referral.reveal`); a user
//! of another department does not see the referral at all; the assigned user accepts and
//! delivers it (no 403); delivered, the payee is masked again and no longer audited.

use crate::assistance::department_user;
use crate::cases::{
    VILLAGE, confirm_all, ids, joint_review_without_monitoring, ok, open_application, past_notice,
    survey_team, through_review,
};
use crate::helpers::{TestApp, backends};
use app::users::Creator;
use reqwest::StatusCode;
use serde_json::json;

async fn reveals(app: &TestApp, rid: i64) -> usize {
    app.audit_of("referral", &rid.to_string())
        .await
        .iter()
        .filter(|e| e.event.action == store::audit::REFERRAL_REVEAL)
        .count()
}

/// BC-0100 (`ids()`, its head seriously ill) confirmed with 低保 through every step, then
/// 医疗救助 sent to 区医保局 by the town reviewer, and the demo's department user `bumen` made
/// one of 区医保局. Answers the household's row id, the referral as sent and its id.
async fn medical_referral_sent(app: &TestApp) -> (i64, serde_json::Value, i64) {
    let ids = ids();
    let team = survey_team(app).await;
    let case_id = open_application(app, "BC-0100", "因病致贫，申请救助").await;
    let mut survey = crate::cases::household("BC-0100", &ids, 12000.0);
    survey["members"][0]["serious_illness"] = json!(true);
    through_review(app, case_id, &team, survey).await;
    let town = app.api_user("bachuan").await;
    assert_eq!(
        joint_review_without_monitoring(&town, case_id).await,
        "notice"
    );
    ok(&town, case_id, json!({"action": "post_notice"})).await;
    past_notice(app, &town, case_id).await;
    assert_eq!(
        confirm_all(app, case_id).await,
        "confirmed",
        "{}",
        app.backend
    );
    // A fresh session: the notice period moved the clock on.
    let town = app.api_user("bachuan").await;
    let (_, detail) = town.get(&format!("/api/v1/cases/{case_id}")).await;
    let hid = detail["household_row_id"].as_i64().unwrap();
    let body = json!({ "household_id": hid, "item_code": "medical_assistance" });
    let (status, sent) = town.post("/api/v1/referrals", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{}: {sent}", app.backend);
    let rid = sent["id"].as_i64().unwrap();
    app.app
        .set_user_department(Creator::Console("test"), "bumen", "medical_security")
        .await
        .unwrap();
    (hid, sent, rid)
}

/// The sender reads the payee as any registry list shows it to them (no reveal); the assigned
/// department user sees the head's full name and ID number in the API and on the queue page,
/// each view audited (`referral.reveal`); the printout stays masked and is not a reveal.
#[tokio::test]
async fn a3_the_assigned_department_user_sees_the_payee_unmasked_and_audited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let (_, sent, rid) = medical_referral_sent(&app).await;
        // The town reviewer who sent it reads its payee as any registry list shows it to
        // them; that is not a reveal.
        assert_eq!(sent["payee_revealed"], false, "{backend}");
        assert_eq!(reveals(&app, rid).await, 0, "{backend}");

        // The demo's department user of 区医保局 (the referral's department).
        let bumen = app.api_user("bumen").await;
        let (status, one) = bumen.get(&format!("/api/v1/referrals/{rid}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {one}");
        assert_eq!(
            (
                &one["head_name"],
                &one["head_id_number"],
                &one["masked"],
                &one["payee_revealed"]
            ),
            (&json!("韩一"), &json!(ids[0]), &json!(false), &json!(true)),
            "{backend}: {one}"
        );
        assert_eq!(
            reveals(&app, rid).await,
            1,
            "{backend}: the API view is audited"
        );
        let audit = app.audit_of("referral", &rid.to_string()).await;
        let reveal = audit.last().unwrap();
        assert_eq!(reveal.event.action, "referral.reveal", "{backend}");
        assert!(reveal.event.actor.starts_with("bumen#"), "{backend}");
        assert_eq!(
            reveal.event.area_code.as_deref(),
            Some(VILLAGE),
            "{backend}"
        );
        assert!(
            reveal
                .event
                .after
                .as_deref()
                .unwrap()
                .contains("head_id_number"),
            "{backend}"
        );

        // The queue page shows the full name and ID number, says the view is recorded, and
        // records it.
        let bumen_page = app.page_user("bumen").await;
        // Signing in lands on the same queue (the department's start page): a view already.
        assert_eq!(reveals(&app, rid).await, 2, "{backend}: the start page");
        let (status, html) = bumen_page.get("/referrals").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("韩一") && html.contains(&ids[0]) && html.contains("已记入审计日志"),
            "{backend}: {html}"
        );
        assert_eq!(
            reveals(&app, rid).await,
            3,
            "{backend}: the page view is audited"
        );
        // The printout stays masked and is not a reveal.
        let (status, slip) = bumen_page.get(&format!("/referrals/{rid}/slip")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            slip.contains("韩*") && !slip.contains("韩一") && !slip.contains(&ids[0]),
            "{backend}"
        );
        assert_eq!(reveals(&app, rid).await, 3, "{backend}");
        app.stop().await;
    }
}

/// Another department's user does not see the referral (404) nor its payee, and no reveal is
/// recorded; the household page stays closed to a department (least privilege).
#[tokio::test]
async fn a3_another_department_sees_neither_the_referral_nor_its_payee() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let (hid, _, rid) = medical_referral_sent(&app).await;
        let bumen_page = app.page_user("bumen").await;
        let before = reveals(&app, rid).await;
        // Another department's user does not see the referral (404), nor its payee.
        department_user(&app, "jiaowei", "500151", "education").await;
        let jiaowei = app.api_user("jiaowei").await;
        assert_eq!(
            jiaowei.get(&format!("/api/v1/referrals/{rid}")).await.0,
            StatusCode::NOT_FOUND,
            "{backend}"
        );
        let jiaowei_page = app.page_user("jiaowei").await;
        let (status, html) = jiaowei_page.get("/referrals").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            !html.contains("韩一") && !html.contains(&ids[0]),
            "{backend}"
        );
        assert_eq!(reveals(&app, rid).await, before, "{backend}");
        // The household page stays closed to a department (least privilege): what paying
        // needs is on the referral.
        assert_eq!(
            bumen_page.get(&format!("/households/{hid}")).await.0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        app.stop().await;
    }
}

/// The assigned user accepts and pays (登记落实) from the page (no 403); delivered, the payee
/// is masked again and no longer a reveal.
#[tokio::test]
async fn a3_the_assigned_user_delivers_and_the_payee_is_masked_again() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let ids = ids();
        let (_, _, rid) = medical_referral_sent(&app).await;
        let bumen = app.api_user("bumen").await;
        let bumen_page = app.page_user("bumen").await;
        // The assigned user accepts and pays (登记落实) from the page: no 403.
        let today = app.app.today().to_string();
        let csrf = bumen_page.csrf.clone();
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut all = vec![("csrf".to_owned(), csrf.clone())];
            all.extend(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            );
            all
        };
        let response = bumen_page
            .post_form(&format!("/referrals/{rid}"), &form(&[("action", "accept")]))
            .await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend}: {text}");
        let response = bumen_page
            .post_form(
                &format!("/referrals/{rid}"),
                &form(&[
                    ("action", "deliver"),
                    ("amount", "800"),
                    ("delivered_on", today.as_str()),
                    ("note", "住院救助"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");

        // Delivered: masked again, no longer a reveal.
        let before = reveals(&app, rid).await;
        let (status, done) = bumen.get(&format!("/api/v1/referrals/{rid}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(done["state"], "delivered", "{backend}");
        assert_eq!(
            (&done["head_name"], &done["masked"], &done["payee_revealed"]),
            (&json!("韩*"), &json!(true), &json!(false)),
            "{backend}: {done}"
        );
        let masked_id = done["head_id_number"].as_str().unwrap();
        assert!(
            masked_id.contains("********") && masked_id != ids[0],
            "{backend}: {masked_id}"
        );
        let (_, html) = bumen_page.get("/referrals").await;
        assert!(
            !html.contains("韩一") && !html.contains(&ids[0]),
            "{backend}"
        );
        assert_eq!(reveals(&app, rid).await, before, "{backend}");
        let actions: Vec<String> = app
            .audit_of("referral", &rid.to_string())
            .await
            .into_iter()
            .map(|e| e.event.action)
            .filter(|a| a != "referral.reveal")
            .collect();
        assert_eq!(
            actions,
            ["referral.create", "referral.accept", "referral.deliver"],
            "{backend}"
        );
        app.stop().await;
    }
}
