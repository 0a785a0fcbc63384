//! U2: sign-in, sessions, CSRF on every state-changing request, login throttling.

use crate::helpers::{
    PASSWORD, TestApp, backends, hidden_field, household_form, household_json, json_of,
};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::json;

/// A client that keeps no cookies: the test sends them by hand.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of the cookie called `name` among the Set-Cookie headers.
fn cookie_pair(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .filter_map(|header| header.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

#[tokio::test]
async fn u2_csrf_page_post_without_or_with_wrong_token_changes_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let bachuan = app.page_user("bachuan").await;
        let other_session = app.page_user("bachuan").await;
        assert_ne!(
            bachuan.csrf, other_session.csrf,
            "{backend}: each session has its own token"
        );
        let before = app.stored(household.id).await;
        let n_before = app.household_count().await;
        let new_head = crate::helpers::id_number("50022419900101003");
        for csrf in [
            None,
            Some(""),
            Some("0000"),
            Some(other_session.csrf.as_str()),
        ] {
            let form = household_form(
                csrf,
                1,
                household.external_id,
                household.area,
                &[(household.head_id.as_str(), "伪造改名", "head")],
            );
            let response = bachuan
                .post_form(&format!("/households/{}", household.id), &form)
                .await;
            let status = response.status();
            let page = response.text().await.unwrap();
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} csrf {csrf:?}");
            assert!(
                page.contains("表单已过期或来源不明"),
                "{backend} csrf {csrf:?}"
            );

            let form = household_form(
                csrf,
                0,
                "CSRF-NEW",
                household.area,
                &[(new_head.as_str(), "伪造新建", "head")],
            );
            let status = bachuan.post_form("/households", &form).await.status();
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} csrf {csrf:?}");

            let logout: Vec<(String, String)> = csrf
                .map(|c| vec![("csrf".to_owned(), c.to_owned())])
                .unwrap_or_default();
            let status = bachuan.post_form("/logout", &logout).await.status();
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{backend} logout csrf {csrf:?}"
            );
        }
        assert_eq!(app.stored(household.id).await, before, "{backend}");
        assert_eq!(app.household_count().await, n_before, "{backend}");
        // The refused logouts left the session alive.
        assert_eq!(
            bachuan.get("/households").await.0,
            StatusCode::OK,
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_csrf_api_write_without_header_is_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let api = app.api_user("bachuan").await;
        let other_session = app.api_user("bachuan").await;
        let before = app.stored(household.id).await;
        let n_before = app.household_count().await;
        let update = household_json(
            household.external_id,
            household.area,
            &[(household.head_id.as_str(), "伪造改名", "head")],
        );
        let new_head = crate::helpers::id_number("50022419900101003");
        let create = household_json(
            "CSRF-NEW",
            household.area,
            &[(new_head.as_str(), "伪造新建", "head")],
        );
        for token in [None, Some("wrong"), Some(other_session.csrf.as_str())] {
            let with_token = |request: reqwest::RequestBuilder| match token {
                Some(token) => request.header("X-CSRF-Token", token),
                None => request,
            };
            let requests = [
                with_token(
                    api.client
                        .put(app.url(&format!("/api/v1/households/{}?version=1", household.id)))
                        .json(&update),
                ),
                with_token(api.client.post(app.url("/api/v1/households")).json(&create)),
                with_token(api.client.delete(app.url("/api/v1/session"))),
            ];
            for request in requests {
                let (status, body) = json_of(request.send().await.unwrap()).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{backend} token {token:?}");
                assert_eq!(body["code"], "csrf_rejected", "{backend} token {token:?}");
                assert!(
                    body["message"]
                        .as_str()
                        .unwrap()
                        .contains("表单已过期或来源不明"),
                    "{backend}"
                );
            }
        }
        assert_eq!(app.stored(household.id).await, before, "{backend}");
        assert_eq!(app.household_count().await, n_before, "{backend}");
        assert_eq!(
            api.get("/api/v1/households").await.0,
            StatusCode::OK,
            "{backend}: the session is still alive"
        );
        // With the token the same write goes through.
        let (status, _) = api
            .put(
                &format!("/api/v1/households/{}?version=1", household.id),
                &update,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_csrf_login_form_without_login_cookie_is_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The field comes from a real login page, but the cookie set with it is not sent back.
        let client = bare_client();
        let page = client.get(app.url("/login")).send().await.unwrap();
        let login_cookie = cookie_pair(&set_cookies(&page), "sn_login_csrf").unwrap();
        let field = hidden_field(&page.text().await.unwrap(), "csrf").unwrap();
        let attempts = [
            (None, field.clone()),
            (Some(login_cookie.clone()), "forged".to_owned()),
            (Some(login_cookie.clone()), String::new()),
            (Some("sn_login_csrf=".to_owned()), String::new()),
        ];
        for (cookie, csrf) in attempts {
            let mut request = client.post(app.url("/login")).form(&[
                ("username", "bachuan"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ]);
            if let Some(cookie) = &cookie {
                request = request.header("Cookie", cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{backend} cookie {cookie:?} field {csrf:?}"
            );
            assert!(
                cookie_pair(&set_cookies(&response), "sn_session").is_none(),
                "{backend}: no session"
            );
            assert!(
                response.text().await.unwrap().contains("登录页面已过期"),
                "{backend}"
            );
        }
        // Cookie and field together sign in.
        let response = client
            .post(app.url("/login"))
            .header("Cookie", &login_cookie)
            .form(&[
                ("username", "bachuan"),
                ("password", PASSWORD),
                ("csrf", &field),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert!(
            cookie_pair(&set_cookies(&response), "sn_session").is_some(),
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_login_backs_off_after_five_wrong_passwords_from_one_address() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = app.anonymous();
        let login = |password: &'static str| {
            client
                .post(app.url("/api/v1/session"))
                .json(&json!({ "username": "bachuan", "password": password }))
                .send()
        };
        for attempt in 1..=5 {
            let (status, body) = json_of(login("wrong-password").await.unwrap()).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{backend} attempt {attempt}"
            );
            assert_eq!(body["code"], "unauthenticated", "{backend}");
        }
        let (status, body) = json_of(login(PASSWORD).await.unwrap()).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}: even the right password"
        );
        assert_eq!(body["code"], "login_throttled", "{backend}");
        assert_eq!(body["message"], "登录失败次数过多，请稍后再试", "{backend}");
        assert!(!body.to_string().contains("csrf_token"), "{backend}");

        // The login form says the same in Chinese.
        let page = client
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden_field(&page, "csrf").unwrap();
        let response = client
            .post(app.url("/login"))
            .form(&[
                ("username", "bachuan"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{backend}"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("登录失败次数过多，请稍后再试"),
            "{backend}"
        );

        // Other users are not affected, nor the same user from another address (no lock an
        // attacker can trigger); the back-off lifts after the window.
        app.api_user("tuqiao").await;
        assert!(
            app.app.login("bachuan", PASSWORD, "10.9.8.7").await.is_ok(),
            "{backend}: the real user signs in from elsewhere"
        );
        app.clock
            .advance(chrono::Duration::minutes(15) + chrono::Duration::seconds(1));
        let (status, _) = json_of(login(PASSWORD).await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}");
        // Failed logins are audited.
        let failures = app.audit_of("session", "bachuan").await;
        assert_eq!(
            failures
                .iter()
                .filter(|entry| entry.event.action == "session.login_failed")
                .count(),
            5,
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_unknown_user_and_wrong_password_get_the_same_answer_and_an_address_is_limited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = app.anonymous();
        let login = |username: &'static str| {
            client
                .post(app.url("/api/v1/session"))
                .json(&json!({ "username": username, "password": "wrong-password" }))
                .send()
        };
        let unknown = json_of(login("nobody-here").await.unwrap()).await;
        let wrong = json_of(login("bachuan").await.unwrap()).await;
        assert_eq!(unknown, wrong, "{backend}: no user-name oracle");
        assert_eq!(unknown.0, StatusCode::UNAUTHORIZED, "{backend}");

        // One address spraying many user names is refused after the address limit, for
        // every account; another address is not.
        let settings = app::AppSettings::default();
        for n in 0..settings.login_client_max_failures {
            let _ = app
                .app
                .login(&format!("spray{n}"), "wrong-password", "10.1.1.1")
                .await;
        }
        assert!(matches!(
            app.app.login("tuqiao", PASSWORD, "10.1.1.1").await,
            Err(app::AppError::Throttled)
        ));
        assert!(app.app.login("tuqiao", PASSWORD, "10.1.1.2").await.is_ok());

        // The administrator sees the limits and who is held back.
        let admin = app.page_user("admin").await;
        let (status, page) = admin.get("/admin/users").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("登录限制"), "{backend}");
        assert!(page.contains("10.1.1.1"), "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_session_cookie_is_httponly_and_samesite_strict() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = bare_client();
        let response = client
            .post(app.url("/api/v1/session"))
            .json(&json!({ "username": "bachuan", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        let from_api = set_cookies(&response);
        let page = client.get(app.url("/login")).send().await.unwrap();
        let login_cookies = set_cookies(&page);
        let login_cookie = cookie_pair(&login_cookies, "sn_login_csrf").unwrap();
        let csrf = hidden_field(&page.text().await.unwrap(), "csrf").unwrap();
        let response = client
            .post(app.url("/login"))
            .header("Cookie", login_cookie)
            .form(&[
                ("username", "bachuan"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        let from_form = set_cookies(&response);
        for (origin, cookies, name) in [
            ("api", &from_api, "sn_session"),
            ("form", &from_form, "sn_session"),
            ("login page", &login_cookies, "sn_login_csrf"),
        ] {
            let header = cookies
                .iter()
                .find(|header| header.starts_with(&format!("{name}=")))
                .unwrap();
            let attributes: Vec<&str> = header.split(';').map(str::trim).collect();
            assert!(
                attributes.contains(&"HttpOnly"),
                "{backend} {origin}: {header}"
            );
            assert!(
                attributes.contains(&"SameSite=Strict"),
                "{backend} {origin}: {header}"
            );
            assert!(
                attributes.contains(&"Path=/"),
                "{backend} {origin}: {header}"
            );
        }
        app.stop().await;
    }
}

/// Signs in through the API without a cookie store: (the `sn_session=…` pair, csrf token).
async fn api_session(app: &TestApp, client: &reqwest::Client, username: &str) -> (String, String) {
    let response = client
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = cookie_pair(&set_cookies(&response), "sn_session").unwrap();
    let (_, body) = json_of(response).await;
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn u2_logout_ends_the_session() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = bare_client();

        // API: DELETE /api/v1/session, then the old cookie answers 401.
        let (cookie, csrf) = api_session(&app, &client, "bachuan").await;
        let list = || {
            client
                .get(app.url("/api/v1/households"))
                .header("Cookie", &cookie)
                .send()
        };
        assert_eq!(list().await.unwrap().status(), StatusCode::OK, "{backend}");
        let response = client
            .delete(app.url("/api/v1/session"))
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{backend}");
        assert!(
            set_cookies(&response)
                .iter()
                .any(|c| c.starts_with("sn_session=;") && c.contains("Max-Age=0")),
            "{backend}"
        );
        let (status, body) = json_of(list().await.unwrap()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{backend}"
        );

        // Pages: POST /logout, then the old cookie is sent back to /login.
        let page_user = app.page_user("bachuan").await;
        let (cookie, _) = api_session(&app, &client, "bachuan").await;
        let csrf = hidden_field(
            &client
                .get(app.url("/households"))
                .header("Cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "csrf",
        )
        .unwrap();
        let response = client
            .post(app.url("/logout"))
            .header("Cookie", &cookie)
            .form(&[("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(response.headers()["location"], "/login", "{backend}");
        let response = client
            .get(app.url("/households"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(response.headers()["location"], "/login", "{backend}");
        // Another session of the same user lives on.
        assert_eq!(
            page_user.get("/households").await.0,
            StatusCode::OK,
            "{backend}"
        );
        let logouts = app.audit_of("session", "bachuan#1").await;
        assert_eq!(
            logouts
                .iter()
                .filter(|entry| entry.event.action == "session.logout")
                .count(),
            2,
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_session_expires_after_eight_hours() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.api_user("bachuan").await;
        app.clock
            .advance(chrono::Duration::hours(8) - chrono::Duration::seconds(1));
        assert_eq!(
            api.get("/api/v1/households").await.0,
            StatusCode::OK,
            "{backend}"
        );
        app.clock.advance(chrono::Duration::seconds(1));
        let (status, body) = api.get("/api/v1/households").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{backend}"
        );
        app.stop().await;
    }
}
