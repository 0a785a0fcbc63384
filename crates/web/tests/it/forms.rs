//! Typed page forms (issue 17 item 4, issue 15 item 2): a form with one bad field comes back
//! with every other value as typed and a Chinese message beside the failing field, never an
//! internal field code; nothing is saved.

use crate::helpers::{PageUser, TestApp, backends, field_error, form, hidden_field};
use reqwest::StatusCode;

/// No internal field code leaks into the page's messages (`on_date：`, `household_id：`).
fn assert_no_codes(page: &str, fields: &[&str], context: &str) {
    for field in fields {
        assert!(
            !page.contains(&format!("{field}：")),
            "{context}: the code {field} is named on the page"
        );
    }
}

async fn contact_count(user: &PageUser) -> usize {
    let (status, page) = user.get("/contacts").await;
    assert_eq!(status, StatusCode::OK);
    page.matches("<tr><td>").count()
}

#[tokio::test]
async fn i17_contact_form_keeps_every_value_and_names_the_bad_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let wangge = app.page_user("wangge").await;
        let before = contact_count(&wangge).await;
        let response = wangge
            .post_form(
                "/contacts",
                &form(&[
                    ("csrf", &wangge.csrf),
                    ("channel", "visit"),
                    ("on_date", "2026-13-45"),
                    ("household_id", app.bachuan_village.external_id),
                    ("person_name", "李四"),
                    ("phone", "13800000000"),
                    ("outcome", "warning"),
                    ("findings", "独居老人，行动不便"),
                ]),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            field_error(&page, "on_date").contains("日期“2026-13-45”不存在"),
            "{backend}: {}",
            field_error(&page, "on_date")
        );
        for kept in [
            "name=\"on_date\" value=\"2026-13-45\"",
            &format!(
                "name=\"household_id\" value=\"{}\"",
                app.bachuan_village.external_id
            ),
            "name=\"person_name\" value=\"李四\"",
            "name=\"phone\" value=\"13800000000\"",
            "<option value=\"warning\" selected>",
            "独居老人，行动不便</textarea>",
        ] {
            assert!(page.contains(kept), "{backend}: {kept} kept");
        }
        assert!(field_error(&page, "person_name").is_empty(), "{backend}");
        assert_no_codes(
            &page,
            &["on_date", "household_id", "outcome"],
            &backend.to_string(),
        );
        assert_eq!(
            contact_count(&wangge).await,
            before,
            "{backend}: nothing saved"
        );

        // A fault the use case finds (a new person without a village) is named beside its
        // field too, the values kept.
        let response = wangge
            .post_form(
                "/contacts",
                &form(&[
                    ("csrf", &wangge.csrf),
                    ("channel", "visit"),
                    ("on_date", "2026-11-28"),
                    ("person_name", "王五"),
                    ("outcome", "recorded"),
                    ("findings", "新发现人员"),
                ]),
            )
            .await;
        let status = response.status();
        let page = response.text().await.unwrap();
        assert!(status.is_client_error(), "{backend}: {status}");
        assert!(
            page.contains("name=\"person_name\" value=\"王五\""),
            "{backend}"
        );
        assert!(page.contains("新发现人员</textarea>"), "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn i17_intake_form_keeps_every_value_and_names_the_bad_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.page_user("bachuan").await;
        let (status, blank) = bachuan.get("/cases/new").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let csrf = hidden_field(&blank, "csrf").unwrap();
        let response = bachuan
            .post_form(
                "/cases",
                &form(&[
                    ("csrf", &csrf),
                    ("kind", "application"),
                    ("channel", "town_window"),
                    ("household_id", app.bachuan_village.external_id),
                    ("area_code", app.bachuan_village.area),
                    ("applicant", "赵六"),
                    ("consent", "on"),
                    ("consent_signer", "赵六之子"),
                    ("consent_signed_on", "2026-02-30"),
                    ("summary", "因病致贫，申请低保"),
                ]),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            field_error(&page, "consent_signed_on").contains("授权签署日期"),
            "{backend}: {}",
            field_error(&page, "consent_signed_on")
        );
        for kept in [
            &format!(
                "name=\"household_id\" value=\"{}\"",
                app.bachuan_village.external_id
            ),
            "name=\"applicant\" value=\"赵六\"",
            "name=\"consent\" checked",
            "name=\"consent_signer\" value=\"赵六之子\"",
            "name=\"consent_signed_on\" value=\"2026-02-30\"",
            "因病致贫，申请低保</textarea>",
            "<option value=\"town_window\" selected>",
        ] {
            assert!(page.contains(kept), "{backend}: {kept} kept");
        }
        assert!(field_error(&page, "applicant").is_empty(), "{backend}");
        assert_no_codes(
            &page,
            &["consent_signed_on", "household_id", "applicant"],
            &backend.to_string(),
        );

        // A required field left out is named beside it; the rest is kept.
        let response = bachuan
            .post_form(
                "/cases",
                &form(&[
                    ("csrf", &csrf),
                    ("kind", "application"),
                    ("channel", "town_window"),
                    ("household_id", app.bachuan_village.external_id),
                    ("area_code", app.bachuan_village.area),
                    ("applicant", ""),
                    ("summary", "子女上学"),
                ]),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            field_error(&page, "applicant").contains("请填写申请人姓名"),
            "{backend}"
        );
        assert!(page.contains("子女上学</textarea>"), "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn i17_user_edit_form_keeps_every_value_and_names_the_bad_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let mut admin = app.page_user("admin").await;
        let (status, list) = admin.get("/admin/users").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        admin.csrf = hidden_field(&list, "csrf").unwrap_or(admin.csrf);
        let start = list.find("<tr id=\"user-").unwrap() + "<tr id=\"user-".len();
        let id: i64 = list[start..].split('"').next().unwrap().parse().unwrap();
        let (_, shown) = admin.get(&format!("/admin/users/{id}")).await;
        let version = hidden_field(&shown, "version").unwrap();
        let response = admin
            .post_form(
                &format!("/admin/users/{id}"),
                &form(&[
                    ("csrf", &admin.csrf),
                    ("version", &version),
                    ("display_name", "改过的名字"),
                    ("role", "town_reviewer"),
                    ("area", "5001x"),
                    ("department", ""),
                ]),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            field_error(&page, "area").contains("区划代码“5001x”无效"),
            "{backend}: {}",
            field_error(&page, "area")
        );
        assert!(
            page.contains("name=\"display_name\" value=\"改过的名字\""),
            "{backend}"
        );
        assert!(page.contains("value=\"5001x\""), "{backend}");
        assert!(
            page.contains("<option value=\"town_reviewer\" selected>"),
            "{backend}"
        );
        assert_no_codes(&page, &["area", "display_name"], &backend.to_string());
        app.stop().await;
    }
}
