//! Serving under load (issue 12): a saturated server answers at once with 503, `Retry-After`
//! and a Chinese page (JSON `{code, message}` under `/api/`) instead of hanging; a held place
//! is freed when its client goes away; the dashboard's figures are counted once and kept for
//! their time to live (数据截至 on the page), then counted again.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// A second server over the same app with room for one request and a short queue.
async fn narrow_server(app: &TestApp) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = web::WebConfig {
        capacity: web::CapacityConfig {
            max_in_flight: 1,
            queue_wait: Duration::from_millis(100),
            deadline: Duration::from_secs(10),
        },
        ..web::WebConfig::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(web::serve(listener, app.app.clone(), config, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

#[tokio::test]
async fn a_saturated_server_answers_503_with_retry_after_at_once_and_recovers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (base, stop) = narrow_server(&app).await;
        // The one place is held by a request whose body never finishes arriving.
        let mut slow = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
            .await
            .unwrap();
        slow.write_all(
            b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=a",
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;

        let client = app.anonymous();
        let started = Instant::now();
        let page = client.get(format!("{base}/login")).send().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{backend}: waited {:?}",
            started.elapsed()
        );
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE, "{backend}");
        assert_eq!(
            page.headers()["retry-after"],
            app::RETRY_AFTER_SECONDS.to_string().as_str(),
            "{backend}"
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("系统繁忙"), "{backend}: {html}");

        let api = client
            .get(format!("{base}/api/v1/warnings"))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE, "{backend}");
        assert!(api.headers().contains_key("retry-after"), "{backend}");
        let (_, body) = json_of(api).await;
        assert_eq!(body["code"], "busy", "{backend}");
        assert!(
            body["message"].as_str().unwrap().contains("系统繁忙"),
            "{backend}: {body}"
        );

        // Health checks are not limited.
        let health = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK, "{backend}");

        // The held request's client goes away: its handler is dropped and the place freed.
        drop(slow);
        let mut status = StatusCode::SERVICE_UNAVAILABLE;
        for _ in 0..40 {
            status = client
                .get(format!("{base}/login"))
                .send()
                .await
                .unwrap()
                .status();
            if status == StatusCode::OK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status, StatusCode::OK, "{backend}: the place was not freed");
        let _ = stop.send(());
        app.stop().await;
    }
}

#[tokio::test]
async fn dashboard_figures_are_counted_once_and_recounted_in_the_background_after_their_ttl() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let actor = app
            .app
            .login("minzheng", PASSWORD, "test")
            .await
            .unwrap()
            .actor;
        let households =
            |dashboard: &app::report::Dashboard| dashboard.report.total.registry.households;
        let first = app.app.dashboard(&actor, Some("500151001")).await.unwrap();

        // A household filed meanwhile: the dashboard answers from its figures until they expire.
        let line = household_json(
            "BC-0100",
            "500151001200",
            &[(id_number("50022419700101001").as_str(), "周新", "head")],
        );
        app.app
            .import_households("test", "more.jsonl", &format!("{line}\n"), &|_| {})
            .await
            .unwrap();
        app.clock.advance(chrono::Duration::minutes(4));
        let cached = app.app.dashboard(&actor, Some("500151001")).await.unwrap();
        assert_eq!(households(&cached), households(&first), "{backend}");
        assert_eq!(cached.computed_at, first.computed_at, "{backend}");

        let minzheng = app.page_user("minzheng").await;
        let (status, page) = minzheng.get("/dashboard?area=500151001").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains("数据截至 10:00（每5分钟更新）"),
            "{backend}: {page}"
        );

        // Past the time to live the first view is shown the previous figures at once and
        // starts one recount; the views after it show the new figures.
        app.clock.advance(chrono::Duration::minutes(2));
        let stale = app.app.dashboard(&actor, Some("500151001")).await.unwrap();
        assert_eq!(stale.computed_at, first.computed_at, "{backend}");
        let mut recounted = stale;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            recounted = app.app.dashboard(&actor, Some("500151001")).await.unwrap();
            if recounted.computed_at != first.computed_at {
                break;
            }
        }
        assert_eq!(households(&recounted), households(&first) + 1, "{backend}");
        assert!(recounted.computed_at > first.computed_at, "{backend}");
        let (_, page) = minzheng.get("/dashboard?area=500151001").await;
        assert!(page.contains("数据截至 10:06"), "{backend}");
        app.stop().await;
    }
}
