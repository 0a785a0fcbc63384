//! 审计日志 (issue 15 item 7): the district's auditor reads the log other users' writes left,
//! filtered by 操作人, 户编号, 操作类型 and date, page after page; exports it to a real XLSX (the
//! export audited); starts a check of the chain whose result the page shows. Other roles are
//! refused in Chinese.

use crate::helpers::{TestApp, backends, household_json};
use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use store::audit::AuditEvent;

/// The seqs of the rows of a page, in page order.
fn seqs(html: &str) -> Vec<i64> {
    html.split("<td data-label=\"序号\">")
        .skip(1)
        .filter_map(|cell| cell.split('<').next()?.parse().ok())
        .collect()
}

/// The table of the page (the filter's select names every action).
fn table(html: &str) -> &str {
    html.split_once("<table id=\"audit-log\"")
        .map_or("", |(_, table)| table)
}

/// The href of the 下一页 link, if any.
fn next_link(html: &str) -> Option<String> {
    let (before, _) = html.split_once("\" id=\"next\"")?;
    let start = before.rfind("href=\"")? + "href=\"".len();
    Some(before[start..].replace("&amp;", "&").replace("&#38;", "&"))
}

/// Writes by two town reviewers through the API: bachuan adds AUD-9 (冯九), tuqiao edits
/// TQ-0001, both today (2026-11-28).
async fn two_writes(app: &TestApp) {
    // Writes by two town reviewers through the API.
    let bachuan = app.api_user("bachuan").await;
    let head = crate::helpers::id_number("50022419550505006");
    let (status, _) = bachuan
        .post(
            "/api/v1/households",
            &household_json("AUD-9", "500151001200", &[(head.as_str(), "冯九", "head")]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{}", app.backend);
    let tuqiao = app.api_user("tuqiao").await;
    let fixture = &app.tuqiao_village;
    let body = household_json(
        fixture.external_id,
        fixture.area,
        &[(fixture.head_id.as_str(), "赵铁柱", "head")],
    );
    let (status, _) = tuqiao
        .put(
            &format!("/api/v1/households/{}?version=1", fixture.id),
            &body,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{}", app.backend);
}

/// The auditor sees other users' writes (Beijing time, Chinese action names, record, place
/// name), filtered by user, household, action and Beijing date; bad filters name their field
/// in Chinese and keep what was typed.
#[tokio::test]
async fn i15_the_auditor_reads_the_log_in_chinese_and_filters_it() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        two_writes(&app).await;
        // The auditor sees them: Beijing time, Chinese action names, record, place name.
        let auditor = app.page_user("shenji").await;
        let (status, html) = auditor.get("/audit").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains("<a href=\"/audit\">审计日志</a>"),
            "{backend}"
        );
        assert!(html.contains("尚未在本页校验过审计链"), "{backend}");
        let html = table(&html);
        for text in [
            "新建家庭档案",
            "修改家庭档案",
            "家庭 AUD-9",
            "家庭 TQ-0001",
            "土桥镇",
            "2026-11-28 10:00:00",
        ] {
            assert!(html.contains(text), "{backend}: /audit shows {text}");
        }
        assert!(!html.contains("household.update<"), "{backend}");

        // Filters: by user, by household, by action, by Beijing date.
        let by_user = auditor.get("/audit?actor=tuqiao").await.1;
        let by_user = table(&by_user);
        assert!(by_user.contains("tuqiao#"), "{backend}");
        assert!(!by_user.contains("bachuan#"), "{backend}");
        let by_household = auditor.get("/audit?household=AUD-9").await.1;
        let by_household = table(&by_household);
        assert!(by_household.contains("家庭 AUD-9"), "{backend}");
        assert!(!by_household.contains("TQ-0001"), "{backend}");
        let (_, by_action) = auditor.get("/audit?action=household.update").await;
        assert!(
            by_action.contains("<option value=\"household.update\" selected>"),
            "{backend}: the filter is kept"
        );
        let by_action = table(&by_action);
        assert!(by_action.contains("家庭 TQ-0001"), "{backend}");
        assert!(!by_action.contains("家庭 AUD-9"), "{backend}");
        // The fixture was imported on 2026-01-15; the writes above are of 2026-11-28.
        let today = auditor
            .get("/audit?from=2026-11-28&until=2026-11-28")
            .await
            .1;
        let today = table(&today);
        assert!(today.contains("家庭 AUD-9"), "{backend}");
        assert!(!today.contains("导入家庭档案"), "{backend}");
        let earlier = auditor.get("/audit?until=2026-11-27").await.1;
        let earlier = table(&earlier);
        assert!(earlier.contains("导入家庭档案"), "{backend}");
        assert!(!earlier.contains("家庭 AUD-9"), "{backend}");
        let nothing = auditor.get("/audit?case=SN-NONE").await.1;
        let nothing = table(&nothing);
        assert!(nothing.contains("没有符合条件的记录"), "{backend}");

        // Bad filters name their field in Chinese and keep what was typed.
        for (query, message) in [
            ("from=2026-13-01", "起始日期：“2026-13-01”不是日期"),
            ("actor=nobody", "操作人：没有用户名为“nobody”的用户"),
            ("action=made.up", "操作类型：没有“made.up”这一类操作"),
            (
                "from=2026-11-28&until=2026-11-01",
                "截止日期：不能早于起始日期",
            ),
            ("household=H1&case=C1", "户编号与办件号请只填一项"),
        ] {
            let (status, html) = auditor.get(&format!("/audit?{query}")).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend}: {query}"
            );
            assert!(html.contains(message), "{backend}: {query}");
            assert!(!html.contains("输入有误：from"), "{backend}: {query}");
        }
        let (_, kept) = auditor.get("/audit?from=2026-13-01&actor=tuqiao").await;
        assert!(kept.contains("value=\"tuqiao\""), "{backend}");
        app.stop().await;
    }
}

/// Paging: 下一页 walks the whole log, newest first, none twice or lost, a filter kept.
#[tokio::test]
async fn i15_the_log_is_paged_newest_first_none_twice_or_lost() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let auditor = app.page_user("shenji").await;
        // Paging: 130 more rows; 下一页 walks the whole log, newest first, none twice or lost.
        {
            let mut tx = app.app.store().begin().await.unwrap();
            for n in 0..130 {
                store::audit::append_one(
                    &mut tx,
                    app.app.audit_key(),
                    &AuditEvent::meta(
                        "2026-11-28T02:00:00.000000Z",
                        "console:test",
                        "store.mark_demo",
                        n,
                    ),
                )
                .await
                .unwrap();
            }
            store::commit(tx).await.unwrap();
        }
        let head = {
            let mut conn = app.app.store().read().await.unwrap();
            store::audit::head_seq(&mut conn).await.unwrap()
        };
        let mut seen = Vec::new();
        let mut path = "/audit".to_owned();
        loop {
            let (status, html) = auditor.get(&path).await;
            assert!(seen.len() as i64 <= 2 * head, "{backend}: {path} pages on");
            assert_eq!(status, StatusCode::OK, "{backend}: {path}");
            let page = seqs(&html);
            assert!(page.len() <= 50, "{backend}");
            seen.extend(page);
            match next_link(&html) {
                Some(next) => path = next,
                None => break,
            }
        }
        // Signing in writes rows too: every row up to the head as the walk began.
        assert!(seen.len() as i64 >= head, "{backend}");
        assert!(seen.windows(2).all(|pair| pair[0] > pair[1]), "{backend}");
        assert_eq!(*seen.last().unwrap(), 1, "{backend}");
        let (_, filtered) = auditor.get("/audit?action=store.mark_demo").await;
        let first = seqs(&filtered);
        assert_eq!(first.len(), 50, "{backend}");
        let next = next_link(&filtered).unwrap();
        assert!(next.contains("action=store.mark_demo"), "{backend}: {next}");
        let (_, second) = auditor.get(&next).await;
        assert!(seqs(&second).iter().all(|seq| seq < first.last().unwrap()));
        app.stop().await;
    }
}

/// The JSON API gives the filter's rows; the export is a real workbook of them, audited.
#[tokio::test]
async fn i15_the_api_and_the_export_give_the_filters_rows_and_the_export_is_audited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        two_writes(&app).await;
        let auditor = app.page_user("shenji").await;
        // The JSON API gives the same rows.
        let api = app.api_user("shenji").await;
        let (status, body) = api.get("/api/v1/audit?actor=bachuan").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let items = body["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{backend}");
        assert!(
            items
                .iter()
                .all(|item| item["actor"].as_str().unwrap().starts_with("bachuan#")),
            "{backend}"
        );
        assert_eq!(body["check"]["running"], false, "{backend}");

        // The export is a real workbook of the filter's rows, and is audited.
        let response = auditor
            .client
            .get(app.url("/audit/xlsx?actor=bachuan"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let bytes = response.bytes().await.unwrap();
        let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = workbook.worksheet_range_at(0).unwrap().unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::Float(value) => format!("{value}"),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        let header = rows.iter().position(|row| row[0] == "序号").unwrap();
        assert_eq!(rows[header][2], "操作人", "{backend}");
        let data = &rows[header + 1..];
        assert!(
            data.iter()
                .any(|row| row[3] == "新建家庭档案" && row[6] == "AUD-9"),
            "{backend}"
        );
        assert!(
            data.iter().all(|row| row[2].starts_with("bachuan#")),
            "{backend}"
        );
        let exports = app.audit_of("audit", "log").await;
        assert_eq!(exports.len(), 1, "{backend}");
        assert_eq!(exports[0].event.action, "audit.export");
        assert!(exports[0].event.actor.starts_with("shenji#"));
        assert!(
            exports[0]
                .event
                .after
                .as_deref()
                .unwrap()
                .contains(&format!("\"rows\":{}", data.len())),
            "{backend}"
        );
        app.stop().await;
    }
}

/// A check of the chain: CSRF required; started once; its result shown and audited.
#[tokio::test]
async fn i15_a_check_of_the_chain_is_started_once_and_its_result_shown() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let auditor = app.page_user("shenji").await;
        // A check of the chain: CSRF required; started once; its result shown.
        let refused = auditor.post_form("/audit/verify", &[]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{backend}");
        let started = auditor
            .post_form("/audit/verify", &[("csrf".into(), auditor.csrf.clone())])
            .await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER, "{backend}");
        let mut shown = String::new();
        for _ in 0..100 {
            let (_, html) = auditor.get("/audit").await;
            if html.contains("id=\"check-result\"") {
                shown = html;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(shown.contains("完整，共"), "{backend}: {shown}");
        assert!(shown.contains("shenji#"), "{backend}");
        let checks = app.audit_of("audit", "chain").await;
        assert!(
            checks
                .iter()
                .any(|entry| entry.event.action == "audit.check"),
            "{backend}"
        );
        app.stop().await;
    }
}

/// Other roles: no link, and a Chinese refusal of the page, the export, the check and the API.
#[tokio::test]
async fn i15_other_roles_are_refused_the_audit_log_in_chinese() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;

        // Other roles: no link, and a Chinese refusal of the page, the export, the check and
        // the API.
        for username in ["minzheng", "bachuan", "cunshe", "admin"] {
            let user = app.page_user(username).await;
            let (_, home) = user.get("/households").await;
            assert!(!home.contains("href=\"/audit\""), "{backend}: {username}");
            for path in ["/audit", "/audit/xlsx"] {
                let (status, html) = user.get(path).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{backend}: {username} {path}"
                );
                assert!(html.contains("无权"), "{backend}: {username} {path}");
            }
            let posted = user
                .post_form("/audit/verify", &[("csrf".into(), user.csrf.clone())])
                .await;
            assert_eq!(
                posted.status(),
                StatusCode::FORBIDDEN,
                "{backend}: {username}"
            );
        }
        let (status, _) = app.api_user("minzheng").await.get("/api/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        app.stop().await;
    }
}
