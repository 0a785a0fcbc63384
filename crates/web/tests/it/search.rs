//! 检索 at district size (issue 12): the registry list and its API are keyset paged.

use crate::helpers::{TestApp, backends, household_json, id_number};
use reqwest::StatusCode;

/// Adds `n` households of one member named 窦… to `area`, straight into the store.
async fn add_households(app: &TestApp, area: &str, n: u32) {
    let households: Vec<domain::Household> = (0..n)
        .map(|i| {
            let line = household_json(
                &format!("TL9{i:05}"),
                area,
                &[(
                    &id_number(&format!("50022419800101{i:03}")),
                    &format!("窦{i}"),
                    "head",
                )],
            );
            domain::interchange::parse_household_line(&line.to_string()).unwrap()
        })
        .collect();
    let records: Vec<String> = households
        .iter()
        .map(|household| {
            serde_json::to_string(&domain::interchange::HouseholdRecord::from(household)).unwrap()
        })
        .collect();
    let rows: Vec<(&domain::Household, &str)> = households
        .iter()
        .zip(&records)
        .map(|(household, record)| (household, record.as_str()))
        .collect();
    let mut tx = app.app.store().begin().await.unwrap();
    store::households::insert_many(&mut tx, &rows, "2026-01-15", "t")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn i12_search_api_pages_by_cursor() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        add_households(&app, app.bachuan_village.area, 60).await;
        let bachuan = app.api_user("bachuan").await;
        let (status, first) = bachuan.get("/api/v1/households?q=窦").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(
            (&first["by"], &first["total"], &first["total_capped"]),
            (&"name".into(), &60.into(), &false.into()),
            "{backend}"
        );
        let next = first["next"].as_str().unwrap();
        let (_, second) = bachuan
            .get(&format!("/api/v1/households?q=窦&after={next}"))
            .await;
        assert!(second["next"].is_null(), "{backend}");
        let mut ids: Vec<&str> = [&first, &second]
            .iter()
            .flat_map(|page| page["items"].as_array().unwrap())
            .map(|item| item["household_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            (first["items"].as_array().unwrap().len(), ids.len()),
            (50, 60),
            "{backend}"
        );
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 60, "{backend}: no line twice");
        // A cursor that is not one is refused by name; `%` is not a wildcard.
        let (status, body) = bachuan.get("/api/v1/households?q=窦&after=zz").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(body["fields"][0]["field"], "after", "{backend}");
        let (_, body) = bachuan.get("/api/v1/households?q=%25").await;
        assert_eq!(body["items"].as_array().unwrap().len(), 0, "{backend}");
        // An ID number prefix names the member it found.
        let (_, body) = bachuan.get("/api/v1/households?q=50022419800101005").await;
        assert_eq!(
            (&body["by"], &body["items"][0]["matched"]["name"]),
            (&"id_number".into(), &"窦5".into()),
            "{backend}: {body}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn i12_search_page_links_the_next_page() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        add_households(&app, app.bachuan_village.area, 55).await;
        let page = app.page_user("bachuan").await;
        let (status, html) = page.get("/households?q=窦").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(html.contains("按姓名：共 55 条"), "{backend}");
        let href = html
            .split("href=\"")
            .filter_map(|rest| rest.split('"').next())
            .find(|href| href.contains("after="))
            .unwrap()
            .replace("&amp;", "&");
        let (status, html) = page.get(&href).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(html.contains(">第一页</a>"), "{backend}");
        assert!(!html.contains(">下一页</a>"), "{backend}");
        assert_eq!(html.matches("TL9").count(), 5, "{backend}");
        app.stop().await;
    }
}
