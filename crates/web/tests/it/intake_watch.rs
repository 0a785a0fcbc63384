//! Issue 14 item 6 (P2): both district departments see a case from intake in their 办件 queue,
//! read-only (跟踪) with its step and due date, and act on it when it reaches them.

use crate::cases::{
    household, ids, joint_review, ok, open_application_tracked, past_notice, survey_team,
    through_review,
};
use crate::helpers::{ApiUser, TestApp, backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The caller's queue line of the case `tracking`, if any (`query`: `""` or `?mine=1`).
async fn line_of(user: &ApiUser, query: &str, tracking: &str) -> Option<Value> {
    let (status, queue) = user.get(&format!("/api/v1/cases{query}")).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["tracking_number"] == tracking)
        .cloned()
}

/// A case written before migration 0030 has no 跟踪 lines: the start-up rebuild adds them.
#[tokio::test]
async fn p2_the_start_up_rebuild_adds_the_follow_lines_a_case_lacks() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, tracking) = open_application_tracked(&app, "BC-0100", "申请救助").await;
        let civil = app.api_user("minzheng").await;
        assert!(line_of(&civil, "", &tracking).await.is_some(), "{backend}");
        // A case written before migration 0030 has no 跟踪 lines: the start-up rebuild
        // (`App::sync_case_queue`, the lines' version in its basis) adds them.
        sqlx::query("DELETE FROM case_queue WHERE watching = 1")
            .execute(app.app.store().pool())
            .await
            .unwrap();
        sqlx::query("UPDATE meta SET value = 'before 0030' WHERE key = 'case_queue_basis'")
            .execute(app.app.store().pool())
            .await
            .unwrap();
        assert!(line_of(&civil, "", &tracking).await.is_none(), "{backend}");
        assert!(app.app.sync_case_queue().await.unwrap() >= 1, "{backend}");
        assert!(line_of(&civil, "", &tracking).await.is_some(), "{backend}");

        app.stop().await;
    }
}

/// Just received: both departments see the case as 跟踪 with its step and the town's due date,
/// not under 待我办理, and can do nothing with it on the API or the pages; the village
/// assistant does not follow it.
#[tokio::test]
async fn p2_both_departments_follow_a_case_from_intake_read_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (id, tracking) = open_application_tracked(&app, "BC-0100", "申请救助").await;
        let town = app.api_user("bachuan").await;
        let village = app.api_user("cunshe").await;
        let town_line = line_of(&town, "", &tracking).await.unwrap();
        assert_eq!(town_line["watching"], false, "{backend}");
        // Just received: both departments see it as 跟踪, with its step and due date, and
        // can do nothing with it.
        for username in ["minzheng", "nongye"] {
            let user = app.api_user(username).await;
            let line = line_of(&user, "", &tracking)
                .await
                .unwrap_or_else(|| panic!("{backend}: {username} does not see the case"));
            assert_eq!(
                (&line["watching"], &line["step"], &line["late"]),
                (&json!(true), &json!("received"), &json!(false)),
                "{backend}: {username}: {line}"
            );
            assert_eq!(line["due_on"], town_line["due_on"], "{backend}: {username}");
            assert!(
                line_of(&user, "?mine=1", &tracking).await.is_none(),
                "{backend}: {username}: 待我办理 leaves 跟踪 out"
            );
            let (_, detail) = user.get(&format!("/api/v1/cases/{id}")).await;
            assert_eq!(
                detail["offered_actions"],
                json!([]),
                "{backend}: {username}"
            );
            for action in [
                json!({"action": "begin_comparison"}),
                json!({"action": "confirm", "category": "dibao"}),
            ] {
                let (status, answer) = user
                    .post(&format!("/api/v1/cases/{id}/actions"), &action)
                    .await;
                assert!(
                    matches!(status, StatusCode::FORBIDDEN | StatusCode::CONFLICT),
                    "{backend}: {username} {action} → {status} {answer}"
                );
            }

            let page = app.page_user(username).await;
            let (_, html) = page.get("/cases").await;
            let table = &html[html.find("id=\"queue\"").unwrap()..];
            let row = &table[table.find(&tracking).unwrap()..];
            let row = &row[..row.find("</tr>").unwrap()];
            assert!(
                row.contains("跟踪") && row.contains("受理") && !row.contains("逾期"),
                "{backend}: {username}: {row}"
            );
            assert!(html.contains("id=\"queue-mine\""), "{backend}");
            let (_, mine) = page.get("/cases?mine=1").await;
            let table = &mine[mine.find("id=\"queue\"").unwrap()..];
            assert!(!table.contains(&tracking), "{backend}: {username}");
            let (_, case_page) = page.get(&format!("/cases/{id}")).await;
            assert!(
                !case_page.contains("id=\"actions\""),
                "{backend}: {username}: the case page offers an action"
            );
            let version = detail["version"].as_i64().unwrap_or_default().to_string();
            let _ = page
                .post_form(
                    &format!("/cases/{id}/actions"),
                    &[
                        ("csrf".to_owned(), page.csrf.clone()),
                        ("version".to_owned(), version),
                        ("action".to_owned(), "begin_comparison".to_owned()),
                    ],
                )
                .await;
            let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
            assert_eq!(detail["step"], "received", "{backend}: {username}");
        }
        // The village assistant does not follow the district's way.
        assert!(
            line_of(&village, "", &tracking).await.is_none(),
            "{backend}"
        );
        app.stop().await;
    }
}

/// Through the town's steps the departments keep following the case, at its current step.
#[tokio::test]
async fn p2_the_departments_follow_the_case_through_the_towns_steps() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (id, tracking) = open_application_tracked(&app, "BC-0100", "申请救助").await;
        let town = app.api_user("bachuan").await;

        // Through the town's steps the departments keep following it, at its current step.
        let team = survey_team(&app).await;
        through_review(&app, id, &team, household("BC-0100", &ids(), 12000.0)).await;
        let civil = app.api_user("minzheng").await;
        let line = line_of(&civil, "", &tracking).await.unwrap();
        assert_eq!(
            (&line["watching"], &line["step"]),
            (&json!(true), &json!("joint_review")),
            "{backend}: {line}"
        );
        joint_review(&town, id, true).await;
        ok(&town, id, json!({"action": "post_notice"})).await;
        let line = line_of(&civil, "", &tracking).await.unwrap();
        assert_eq!(
            (&line["watching"], &line["step"]),
            (&json!(true), &json!("notice")),
            "{backend}"
        );
        app.stop().await;
    }
}

/// At district confirmation the line turns actionable for the department that confirms each
/// category; a department with nothing to decide keeps following it; confirmed, the case
/// leaves its 待我办理.
#[tokio::test]
async fn p2_at_confirmation_the_line_turns_actionable_for_the_deciding_department() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (id, tracking) = open_application_tracked(&app, "BC-0100", "申请救助").await;
        let town = app.api_user("bachuan").await;
        let team = survey_team(&app).await;
        through_review(&app, id, &team, household("BC-0100", &ids(), 12000.0)).await;
        joint_review(&town, id, true).await;
        ok(&town, id, json!({"action": "post_notice"})).await;
        // At district confirmation, the line turns actionable for the department that
        // confirms each category; a department with nothing to decide keeps following it.
        past_notice(&app, &town, id).await;
        let civil = app.api_user("minzheng").await;
        let (_, detail) = civil.get(&format!("/api/v1/cases/{id}")).await;
        let decided = detail["decided"].as_array().unwrap().clone();
        assert!(!decided.is_empty(), "{backend}: {detail}");
        for (username, role) in [
            ("minzheng", "district_civil_affairs"),
            ("nongye", "district_agriculture"),
        ] {
            let user = app.api_user(username).await;
            let confirms = decided.iter().any(|d| d["department"] == role);
            let line = line_of(&user, "", &tracking).await.unwrap();
            assert_eq!(line["watching"], !confirms, "{backend}: {username}: {line}");
            assert_eq!(
                line_of(&user, "?mine=1", &tracking).await.is_some(),
                confirms,
                "{backend}: {username}"
            );
            let (_, detail) = user.get(&format!("/api/v1/cases/{id}")).await;
            assert_eq!(
                detail["offered_actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == "confirm"),
                confirms,
                "{backend}: {username}: {}",
                detail["offered_actions"]
            );
            let page = app.page_user(username).await;
            let (_, case_page) = page.get(&format!("/cases/{id}")).await;
            assert_eq!(
                case_page.contains("id=\"action-confirm\""),
                confirms,
                "{backend}: {username}"
            );
        }
        assert!(
            decided
                .iter()
                .any(|d| d["department"] == "district_civil_affairs"),
            "{backend}: {detail}"
        );
        // Civil affairs confirms its categories: the case leaves its 待我办理.
        for d in decided
            .iter()
            .filter(|d| d["department"] == "district_civil_affairs")
        {
            ok(
                &civil,
                id,
                json!({"action": "confirm", "category": d["category"]}),
            )
            .await;
        }
        assert!(
            line_of(&civil, "?mine=1", &tracking).await.is_none(),
            "{backend}"
        );
        app.stop().await;
    }
}
