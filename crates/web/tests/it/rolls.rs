//! 一门入库 (`/rolls`, issue 12 item 4) and the re-check due list (`/rechecks`, W1) through
//! the real server.

use crate::helpers::{PageUser, TestApp, backends, hidden_field};
use reqwest::StatusCode;

const HEADER: &str = "身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关";

/// A multipart form (csrf, category, file) as a browser sends it.
pub(crate) async fn upload(
    user: &PageUser,
    app: &TestApp,
    category: &str,
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, String) {
    let boundary = "----safetynet-roll-boundary";
    let mut body = Vec::new();
    for (name, value) in [("csrf", user.csrf.as_str()), ("category", category)] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = user
        .client
        .post(app.url("/rolls"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn periods_of(app: &TestApp, household_id: i64) -> usize {
    let mut conn = app.app.store().read().await.unwrap();
    store::households::category_history(&mut conn, household_id)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn issue12_the_roll_page_runs_dry_run_then_accept() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // Only district civil affairs and agriculture reach the page; each sees its rolls.
        for username in ["bachuan", "cunshe", "wangge", "bumen", "shenji", "admin"] {
            let (status, _) = app.page_user(username).await.get("/rolls").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username}");
        }
        let nongye = app.page_user("nongye").await;
        let (status, page) = nongye.get("/rolls").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains("防止返贫监测对象") && !page.contains(">低保<"),
            "{backend}"
        );
        let minzheng = app.page_user("minzheng").await;
        let (status, page) = minzheng.get("/rolls").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains("一门入库") && page.contains(">低保<"),
            "{backend}"
        );

        // Upload: the dry-run report, nothing written.
        let head = &app.bachuan_village.head_id;
        let roll = format!(
            "{HEADER}\n{head},张三,整户,2025-07-01,1260,铜民发〔2025〕12号,铜梁区民政局\n\
             {head},张三,整户,2025-07-01,-3,铜民发〔2025〕12号,铜梁区民政局\n"
        );
        let (gb, _, _) = encoding_rs::GB18030.encode(&roll);
        let (status, page) = upload(&minzheng, &app, "dibao", "低保名册.csv", &gb).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {page}");
        assert!(page.contains("id=\"dry-run\""), "{backend}: {page}");
        assert!(
            page.contains("<td>3</td><td>月保障金额</td><td>“-3”为负数</td>"),
            "{backend}: {page}"
        );
        assert_eq!(
            periods_of(&app, app.bachuan_village.id).await,
            0,
            "{backend}"
        );
        let token = hidden_field(&page, "token").unwrap();

        // Another role may not accept it.
        let refused = nongye
            .post_form(
                "/rolls/accept",
                &[
                    ("csrf".into(), nongye.csrf.clone()),
                    ("category".into(), "dibao".into()),
                    ("token".into(), token.clone()),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{backend}");

        // 确认导入: written once, with its audit event.
        let accept = [
            ("csrf".to_owned(), minzheng.csrf.clone()),
            ("category".to_owned(), "dibao".to_owned()),
            ("token".to_owned(), token.clone()),
        ];
        let response = minzheng.post_form("/rolls/accept", &accept).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{backend}");
        let page = response.text().await.unwrap();
        assert!(page.contains("已导入低保名册"), "{backend}: {page}");
        assert_eq!(
            periods_of(&app, app.bachuan_village.id).await,
            1,
            "{backend}"
        );
        // The upload kept for acceptance (roll.stage) and the import (roll.import).
        assert_eq!(app.audit_of("roll", &token).await.len(), 2, "{backend}");
        let response = minzheng.post_form("/rolls/accept", &accept).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("没有可导入的行，未作任何更改")
        );
        assert_eq!(
            periods_of(&app, app.bachuan_village.id).await,
            1,
            "{backend}"
        );

        // A file without a required column: 422 naming it.
        let (status, page) = upload(&minzheng, &app, "tekun", "t.csv", HEADER.as_bytes()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(page.contains("供养方式"), "{backend}: {page}");

        // The household is now due for its re-check (W1), in its town only.
        let (_, page) = app.page_user("bachuan").await.get("/rechecks").await;
        assert!(
            page.contains(app.bachuan_village.external_id),
            "{backend}: {page}"
        );
        let (_, page) = app.page_user("tuqiao").await.get("/rechecks").await;
        assert!(!page.contains(app.bachuan_village.external_id), "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn w1_the_recheck_page_lists_the_area_paged() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.page_user("bachuan").await;
        let (status, page) = bachuan.get("/rechecks").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("暂无到期的核查"), "{backend}");
        let (status, _) = bachuan.get("/rechecks?after=not-a-cursor").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let (status, _) = app.page_user("admin").await.get("/rechecks").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        app.stop().await;
    }
}
