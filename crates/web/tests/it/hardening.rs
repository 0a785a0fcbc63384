//! Issue 16: security headers on every response, no inline script or style a strict
//! Content-Security-Policy would block, 413 for a body over the limit, and the extractors'
//! rejections in Chinese.

use crate::helpers::{TestApp, backends};
use reqwest::StatusCode;

fn has_inline_script_or_style(page: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    for (at, _) in lower.match_indices("<script") {
        let tag_end = lower[at..].find('>').map_or(lower.len(), |end| at + end);
        let tag = &lower[at..tag_end];
        if !tag.contains(" src=") && !tag.contains("application/json") {
            return Some(page[at..tag_end.min(at + 80)].to_owned());
        }
    }
    for marker in [
        " style=\"",
        "<style",
        " onclick=",
        " onchange=",
        " onsubmit=",
        " onload=",
    ] {
        if let Some(at) = lower.find(marker) {
            return Some(page[at..(at + 60).min(page.len())].to_owned());
        }
    }
    None
}

#[tokio::test]
async fn security_headers_on_every_page_and_no_inline_script_or_style() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anonymous = app.anonymous();
        for path in ["/login", "/apply", "/track", "/healthz", "/static/app.css"] {
            let response = anonymous.get(app.url(path)).send().await.unwrap();
            let headers = response.headers();
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("script-src 'self'"), "{backend} {path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{backend} {path}");
            assert!(csp.contains("frame-ancestors 'none'"), "{backend} {path}");
            assert_eq!(headers["x-frame-options"], "DENY", "{backend} {path}");
            assert_eq!(
                headers["x-content-type-options"], "nosniff",
                "{backend} {path}"
            );
            assert_eq!(
                headers["referrer-policy"], "same-origin",
                "{backend} {path}"
            );
        }
        for path in ["/login", "/apply"] {
            let page = anonymous
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(has_inline_script_or_style(&page), None, "{backend} {path}");
        }
        let town = app.page_user("bachuan").await;
        let household = format!("/households/{}", app.bachuan_village.id);
        for path in [
            "/households",
            household.as_str(),
            "/cases",
            "/cases/new",
            "/warnings",
            "/contacts",
            "/policy",
            "/dashboard",
            "/reports",
            "/assessment",
        ] {
            let (status, page) = town.get(path).await;
            assert!(status.is_success(), "{backend} {path}: {status}");
            assert_eq!(has_inline_script_or_style(&page), None, "{backend} {path}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_rejections_are_in_chinese() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.api_user("bachuan").await;
        let big = format!("{{\"household_id\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
        let response = api
            .client
            .post(app.url("/api/v1/households"))
            .header("content-type", "application/json")
            .header("x-csrf-token", &api.csrf)
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{backend}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large", "{backend}");

        let anonymous = app.anonymous();
        let big_form = format!("username=a&password={}", "x".repeat(3 * 1024 * 1024));
        let response = anonymous
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big_form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("提交的内容过大"), "{backend}: {page}");

        let response = anonymous
            .post(app.url("/login"))
            .header("content-type", "text/plain")
            .body("username=a")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{backend}"
        );
        assert!(
            response.text().await.unwrap().contains("内容类型不受支持"),
            "{backend}"
        );

        for path in ["/login", "/apply"] {
            let page = anonymous
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(has_inline_script_or_style(&page), None, "{backend} {path}");
        }
        let town = app.page_user("bachuan").await;
        let (status, page) = town.get("/households?q=a&q=b").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(page.contains("请求无法读取"), "{backend}: {page}");
        assert!(!page.contains("Failed to deserialize"), "{backend}");
        app.stop().await;
    }
}
