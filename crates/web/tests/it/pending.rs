//! Issue 13, 待人工核定: a determination resting on a test whose parameter has no value on the
//! date is marked on the case page, the survey printout, the household page and the registry
//! re-assessment, with the missing parameter named; the joint review cannot pass until the
//! meeting has judged each pending test, and the judgement is kept with the case.

use crate::cases::{
    confirm_all, household, ids, ok, open_application, past_notice, survey_team, through_review,
};
use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;
use serde_json::json;

const SAVINGS_TEST: &str = "judgement:property.within_limits:property.financial_assets_months";

/// PD-0001 (`ids()`), poor but with savings (the shipped catalogue has no financial-assets
/// limit), through the village review. Answers the case's id.
async fn with_savings(app: &TestApp) -> i64 {
    let team = survey_team(app).await;
    let case_id = open_application(app, "PD-0001", "申请低保").await;
    let mut survey = household("PD-0001", &ids(), 6000.0);
    survey["property"] = json!({ "financial_assets": 80000 });
    through_review(app, case_id, &team, survey).await;
    case_id
}

/// The API's proposal lists the pending test (低保 is what holds if it passes) and explains
/// every rule evaluated; the case page marks it and asks the meeting for a judgement; so does
/// the survey printout.
#[tokio::test]
async fn pending_property_test_is_proposed_marked_on_the_case_page_and_printed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let case_id = with_savings(&app).await;

        // The API's proposal lists the pending test; 低保 is what holds if it passes.
        let town = app.api_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{case_id}")).await;
        let proposal = &detail["proposal"];
        assert_eq!(
            proposal["categories"],
            json!(["dibao"]),
            "{backend}: {detail}"
        );
        assert_eq!(
            proposal["pending"],
            json!([{
                "rule": "property.within_limits",
                "param": "property.financial_assets_months",
                "text": "金融资产上限（低保标准×家庭人数的月数）未配置，需人工核定",
            }]),
            "{backend}"
        );
        // Every rule evaluated is in the explanation, not only those that held.
        let explanation = proposal["explanation"].as_str().unwrap();
        assert!(
            explanation.contains("财产状况（待人工核定）"),
            "{backend}: {explanation}"
        );
        assert!(
            explanation.contains("（不成立）"),
            "{backend}: {explanation}"
        );

        // The case page marks it and asks the meeting for a judgement of it.
        let town_page = app.page_user("bachuan").await;
        let (_, html) = town_page.get(&format!("/cases/{case_id}")).await;
        assert!(html.contains("id=\"proposal-pending\""), "{backend}");
        assert!(html.contains("金融资产上限（低保标准×家庭人数的月数）未配置，需人工核定"));
        assert!(
            html.contains(SAVINGS_TEST),
            "{backend}: the judgement field"
        );
        // So does the survey printout.
        let (status, print) = town_page
            .get(&format!("/cases/{case_id}/print/survey"))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            print.contains("待人工核定") && print.contains("金融资产上限"),
            "{backend}"
        );
        app.stop().await;
    }
}

/// The meeting cannot pass without the judgement (the page names the pending test), nor with
/// one without a reason or of an unknown value; judged with a reason, the case moves on and
/// keeps the judgement.
#[tokio::test]
async fn pending_property_test_is_judged_at_the_joint_review_with_its_reason() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let case_id = with_savings(&app).await;
        let town = app.api_user("bachuan").await;
        let town_page = app.page_user("bachuan").await;
        // The meeting cannot pass without the judgement: the page names the pending test.
        let form = |judged: bool| {
            let mut pairs: Vec<(String, String)> = vec![
                ("csrf".into(), town_page.csrf.clone()),
                ("action".into(), "record_joint_review".into()),
                ("verdict_dibao".into(), "confirm".into()),
            ];
            if judged {
                pairs.push((SAVINGS_TEST.into(), "true".into()));
            }
            pairs
        };
        let response = town_page
            .post_form(&format!("/cases/{case_id}/actions"), &form(false))
            .await;
        let html = response.text().await.unwrap();
        assert!(
            html.contains("待人工核定事项未作出核定（符合或不符合，并写明理由）：金融资产上限"),
            "{backend}: {html}"
        );
        // Judged without a reason: refused, naming it.
        let response = town_page
            .post_form(&format!("/cases/{case_id}/actions"), &form(true))
            .await;
        let html = response.text().await.unwrap();
        assert!(html.contains("待人工核定事项须写明核定理由"), "{backend}");
        // An unknown judgement value is named by its field.
        let (status, answer) = town
            .post(
                &format!("/api/v1/cases/{case_id}/actions"),
                &json!({"action": "record_joint_review",
                        "verdicts": [{"category": "dibao", "verdict": "confirm"}],
                        "judgements": [{"rule": "property.within_limits", "param": "property.financial_assets_months", "holds": "maybe", "reason": "x"}]}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {answer}"
        );
        // Judged with a reason: the case moves on and keeps the judgement.
        let mut judged = form(true);
        judged.push((
            "judgement_reason:property.within_limits:property.financial_assets_months".into(),
            "存款为子女大学学费，会议核定符合".into(),
        ));
        let response = town_page
            .post_form(&format!("/cases/{case_id}/actions"), &judged)
            .await;
        assert!(response.status().is_redirection() || response.status().is_success());
        let (_, detail) = town.get(&format!("/api/v1/cases/{case_id}")).await;
        assert_eq!(detail["step"], "notice", "{backend}: {detail}");
        assert_eq!(
            detail["joint_review"]["judgements"],
            json!([{
                "rule": "property.within_limits",
                "param": "property.financial_assets_months",
                "holds": true,
                "reason": "存款为子女大学学费，会议核定符合",
            }]),
            "{backend}"
        );
        let (_, html) = town_page.get(&format!("/cases/{case_id}")).await;
        assert!(
            html.contains("id=\"judgements\"") && html.contains("存款为子女大学学费，会议核定符合"),
            "{backend}"
        );
        app.stop().await;
    }
}

/// Confirmed: the household page marks the determination and names the parameter, every rule
/// in Chinese without rule ids; the registry re-assessment counts pending determinations apart.
#[tokio::test]
async fn pending_property_test_is_shown_everywhere_and_judged_at_the_joint_review() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let case_id = with_savings(&app).await;
        let town = app.api_user("bachuan").await;
        let judged = json!({"action": "record_joint_review",
                "verdicts": [{"category": "dibao", "verdict": "confirm"}],
                "judgements": [{"rule": "property.within_limits", "param": "property.financial_assets_months", "holds": true, "reason": "存款为子女大学学费，会议核定符合"}]});
        assert_eq!(ok(&town, case_id, judged).await, "notice", "{backend}");
        // Confirmed: the household page marks the determination and names the parameter,
        // lists every rule evaluated in Chinese, without rule ids.
        ok(&town, case_id, json!({"action": "post_notice"})).await;
        past_notice(&app, &town, case_id).await;
        assert_eq!(confirm_all(&app, case_id).await, "confirmed", "{backend}");
        // (The notice period moved the clock past the sessions' lifetime: sign in again.)
        let town = app.api_user("bachuan").await;
        let town_page = app.page_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{case_id}")).await;
        let id = detail["household_row_id"].as_i64().unwrap();
        let (_, html) = town_page.get(&format!("/households/{id}")).await;
        assert!(html.contains("id=\"pending-mark\""), "{backend}");
        assert!(
            html.contains("金融资产上限（低保标准×家庭人数的月数）"),
            "{backend}"
        );
        let table = &html[html.find("id=\"explanation\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        for shown in [
            "财产状况",
            "待人工核定",
            "不成立",
            "低保：人均收入低于低保标准",
        ] {
            assert!(table.contains(shown), "{backend}: {shown}");
        }
        for hidden in [
            "property.within_limits",
            "dibao.income_below_standard",
            "<code>",
        ] {
            assert!(!table.contains(hidden), "{backend}: {hidden} on the page");
        }

        // The registry re-assessment counts pending determinations apart.
        let district = app.page_user("minzheng").await;
        let (status, html) = district.get("/assessment").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(html.contains("id=\"pending-note\""), "{backend}");
        assert!(html.contains("其中待人工核定（户）"), "{backend}");
        app.stop().await;
    }
}
