//! Issue 15 item 2: any household size on the survey and household forms — 添加成员 / 删除 without
//! JavaScript, errors kept with every value and named in Chinese, and the API without a cap.

use crate::cases::{VILLAGE, act, ok, open_application, survey_team};
use crate::helpers::{PageUser, TestApp, backends, household_form, id_number, with_wrong_check};
use reqwest::StatusCode;
use serde_json::json;

/// `n` members of one household: a head and children, with valid ID numbers.
fn members(n: usize) -> Vec<(String, String, &'static str)> {
    (0..n)
        .map(|i| {
            (
                id_number(&format!("50022419800101{:03}", 300 + i)),
                format!("成员{}", i + 1),
                if i == 0 { "head" } else { "child" },
            )
        })
        .collect()
}

fn survey_pairs(
    page: &PageUser,
    people: &[(String, String, &'static str)],
    team: &[i64],
) -> Vec<(String, String)> {
    let borrowed: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|(id, name, relation)| (id.as_str(), name.as_str(), *relation))
        .collect();
    let mut pairs = household_form(Some(&page.csrf), 0, "BC-0700", VILLAGE, &borrowed);
    pairs.push(("action".into(), "record_survey".into()));
    pairs.push(("member_rows".into(), people.len().to_string()));
    for member in team {
        pairs.push(("team".into(), member.to_string()));
    }
    pairs
}

/// A case of BC-0700 at the survey step.
async fn case_at_survey(app: &TestApp) -> i64 {
    let id = open_application(app, "BC-0700", "七口之家，因病致贫").await;
    let town = app.api_user("bachuan").await;
    ok(&town, id, json!({"action": "begin_comparison"})).await;
    assert_eq!(
        ok(&town, id, json!({"action": "complete_comparison"})).await,
        "surveying"
    );
    id
}

fn count_rows(html: &str) -> usize {
    html.matches("class=\"member-row\"").count()
}

#[tokio::test]
async fn a_seven_member_survey_through_the_page_form_without_javascript() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = case_at_survey(&app).await;
        let team = survey_team(&app).await;
        let page = app.page_user("cunshe").await;
        let path = format!("/cases/{id}/actions");

        let (status, html) = page.get(&format!("/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("name=\"add_member\"") && html.contains("/static/members.js"),
            "{backend}"
        );

        // Four rows typed, 添加成员 pressed three times: every value kept, one row more each time.
        let people = members(7);
        let mut pairs = survey_pairs(&page, &people[..4], &team);
        pairs.push(("inc_wages".into(), "15000".into()));
        for rows in 4..7 {
            pairs.retain(|(k, _)| k != "member_rows" && k != "add_member");
            pairs.push(("member_rows".into(), rows.to_string()));
            pairs.push(("add_member".into(), "1".into()));
            let response = page.post_form(&path, &pairs).await;
            assert_eq!(response.status(), StatusCode::OK, "{backend}");
            let html = response.text().await.unwrap();
            assert_eq!(count_rows(&html), rows + 1, "{backend}");
            assert!(
                html.contains(&format!("name=\"m{rows}_id_number\" value=\"\"")),
                "{backend}: the new row is empty"
            );
            assert!(
                html.contains(&people[3].0) && html.contains("value=\"15000\""),
                "{backend}: every value kept"
            );
            assert!(!html.contains("id=\"action-error\""), "{backend}");
        }
        // 删除 on the second row: the rows below move up, nothing else changes.
        let mut with_seven = survey_pairs(&page, &people, &team);
        with_seven.push(("remove_member".into(), "1".into()));
        let response = page.post_form(&path, &with_seven).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let html = response.text().await.unwrap();
        assert_eq!(count_rows(&html), 6, "{backend}");
        assert!(!html.contains(&people[1].0), "{backend}: row 2 removed");
        assert!(
            html.contains(&format!("name=\"m1_id_number\" value=\"{}\"", people[2].0)),
            "{backend}: row 3 moved up"
        );

        // An error on member 6: 422, all values kept, the field named in Chinese beside it.
        let mut bad_people = people.clone();
        bad_people[5].0 = with_wrong_check(&bad_people[5].0);
        let response = page
            .post_form(&path, &survey_pairs(&page, &bad_people, &team))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("id=\"member-error-5\"")
                && html.contains("第6位成员 身份证号：身份证号校验位错误"),
            "{backend}"
        );
        assert!(!html.contains("id_number："), "{backend}: no internal code");
        for (id_number, name, _) in &bad_people {
            assert!(
                html.contains(id_number.as_str()) && html.contains(name.as_str()),
                "{backend}: {name} kept"
            );
        }

        // Submitted: the survey holds seven members.
        let response = page
            .post_form(&path, &survey_pairs(&page, &people, &team))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let town = app.api_user("bachuan").await;
        let (status, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(detail["survey"]["n_members"], 7, "{backend}: {detail}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_api_takes_a_survey_and_a_household_of_twelve() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = case_at_survey(&app).await;
        let team = survey_team(&app).await;
        let village = app.api_user("cunshe").await;
        let people: Vec<_> = members(12)
            .into_iter()
            .map(|(id_number, name, relation)| {
                json!({"id_number": id_number, "name": name, "relation": relation})
            })
            .collect();
        let household = json!({
            "id": "BC-0700", "area_code": VILLAGE, "hukou": "rural", "members": people,
            "income_12m": {"wages": 30000.0},
        });
        let (status, body) = act(
            &village,
            id,
            json!({"action": "record_survey", "team": team, "household": household}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        let (_, detail) = village.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(detail["survey"]["n_members"], 12, "{backend}");

        let town = app.api_user("bachuan").await;
        let mut record = household.clone();
        record["id"] = json!("BC-1200");
        for (i, member) in record["members"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            member["id_number"] = json!(id_number(&format!("50022419810101{:03}", 400 + i)));
        }
        let (status, body) = town.post("/api/v1/households", &record).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let row = body["id"].as_i64().unwrap();
        assert_eq!(app.stored(row).await.n_members, 12, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_household_form_adds_rows_and_names_a_member_field_in_chinese() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let user = app.page_user("bachuan").await;
        let people = members(6);
        let borrowed: Vec<(&str, &str, &str)> = people
            .iter()
            .map(|(id, name, relation)| (id.as_str(), name.as_str(), *relation))
            .collect();
        let mut form = household_form(Some(&user.csrf), 0, "BC-FORM-6", VILLAGE, &borrowed);
        form.push(("member_rows".into(), "6".into()));
        let n_before = app.household_count().await;
        let mut adding = form.clone();
        adding.push(("add_member".into(), "1".into()));
        let response = user.post_form("/households", &adding).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let html = response.text().await.unwrap();
        assert_eq!(count_rows(&html), 7, "{backend}");
        assert!(html.contains(&people[5].0), "{backend}");
        assert_eq!(
            app.household_count().await,
            n_before,
            "{backend}: nothing saved"
        );

        let mut bad = form.clone();
        bad.push(("m5_income_12m".into(), "abc".into()));
        let response = user.post_form("/households", &bad).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("id=\"member-error-5\"") && html.contains("第6位成员 本人年收入应为"),
            "{backend}"
        );
        assert!(html.contains(&people[4].1), "{backend}: values kept");

        let response = user.post_form("/households", &form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_survey_saved_as_a_draft_over_two_visits_enters_the_case_only_when_submitted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = case_at_survey(&app).await;
        let team = survey_team(&app).await;
        let page = app.page_user("cunshe").await;
        let path = format!("/cases/{id}/actions");
        let people = members(5);

        // First visit: three members typed, one ID number still wrong, 暂存草稿 pressed.
        let mut first = people[..3].to_vec();
        first[2].0 = with_wrong_check(&first[2].0);
        let mut pairs = survey_pairs(&page, &first, &team);
        pairs.push(("inc_wages".into(), "12000".into()));
        pairs.push(("save_draft".into(), "1".into()));
        let response = page.post_form(&path, &pairs).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");

        // Nothing entered the case; the next visit (another session) finds every value.
        let town = app.api_user("bachuan").await;
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(detail["step"], "surveying", "{backend}");
        assert!(detail["survey"].is_null(), "{backend}: {detail}");
        let again = app.page_user("cunshe").await;
        let (status, html) = again.get(&format!("/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(html.contains("草稿已暂存"), "{backend}");
        for (id_number, name, _) in &first {
            assert!(
                html.contains(&format!("value=\"{id_number}\"")) && html.contains(name.as_str()),
                "{backend}: {name} kept in the draft"
            );
        }
        assert!(html.contains("value=\"12000\""), "{backend}");
        for member in &team {
            assert!(
                html.contains(&format!("name=\"team\" value=\"{member}\" checked")),
                "{backend}: the team kept"
            );
        }

        // Second visit: five members, all valid, submitted: the survey is recorded and the
        // draft is gone.
        let response = again
            .post_form(&path, &survey_pairs(&again, &people, &team))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let (_, detail) = town.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(detail["survey"]["n_members"], 5, "{backend}: {detail}");
        let (_, html) = again.get(&format!("/cases/{id}")).await;
        assert!(!html.contains("草稿已暂存"), "{backend}");

        // Who may not survey the case may not save its draft.
        let other = app.page_user("tuqiao").await;
        let mut pairs = survey_pairs(&other, &people, &team);
        pairs.push(("save_draft".into(), "1".into()));
        let status = other.post_form(&path, &pairs).await.status();
        assert!(status.is_client_error(), "{backend}: {status}");
        app.stop().await;
    }
}
