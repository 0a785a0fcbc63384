//! 我的工作 (`/home`, issue 15 item 6): the field roles arrive at what waits on them and at
//! their village's cases in progress; every list is of the user's own area.

use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;

/// 巴川街道 永院村, the village assistant's village (the grid worker's grid is in it).
const VILLAGE: &str = "500151001200";

#[tokio::test]
async fn i15_field_roles_arrive_at_their_village_cases_with_due_dates() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // A case in the village, waiting on the town at 受理.
        let village = app.api_user("cunshe").await;
        let (_, tracking) = crate::cases::apply(&village, app.bachuan_village.external_id).await;

        for username in ["cunshe", "wangge"] {
            // 我的工作 is where the field roles start.
            let user = app.page_user(username).await;
            let response = user.client.get(app.url("/")).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
            assert_eq!(
                response.headers()["location"],
                "/home",
                "{backend} {username}"
            );
            let (status, html) = user.get("/home").await;
            assert_eq!(status, StatusCode::OK, "{backend} {username}");
            // The village's case in progress, with its step and due date, though the town acts.
            assert!(html.contains("id=\"home-area-cases\""), "{backend}");
            assert!(html.contains(&tracking), "{backend} {username}: {html}");
            assert!(
                html.contains("受理") && html.contains("到期日"),
                "{backend}"
            );
            assert!(
                html.contains("id=\"count-area\">1<"),
                "{backend} {username}"
            );
            // The place by its name, never its code.
            assert!(
                username != "cunshe" || html.contains("（永院村，"),
                "{backend} {username}"
            );
            assert!(!html.contains(VILLAGE), "{backend} {username}");
        }

        // Another town's reviewer: a home of its own, without this case.
        let (status, html) = app.page_user("tuqiao").await.get("/home").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(!html.contains(&tracking), "{backend}");
        assert!(!html.contains("id=\"home-area-cases\""), "{backend}");
        // The town's own reviewer finds it waiting on them.
        let (_, html) = app.page_user("bachuan").await.get("/home").await;
        assert!(html.contains(&tracking), "{backend}");
        // Department users and the administrator have homes of their own elsewhere.
        for username in ["bumen", "admin"] {
            let (status, _) = app.page_user(username).await.get("/home").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username}");
        }
        app.stop().await;
    }
}
