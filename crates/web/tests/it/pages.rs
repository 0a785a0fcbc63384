//! D1: the household forms in Chinese, with server-side validation per field, and the dated
//! composition history an edit leaves behind.

use crate::helpers::{FILED_ON, TODAY, TestApp, backends, household_form, id_number};
use reqwest::StatusCode;

#[tokio::test]
async fn d1_form_with_bad_id_number_rerenders_422_naming_the_member_row() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let user = app.page_user("bachuan").await;
        let (status, form_page) = user.get("/households/new").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            form_page.contains("新建家庭档案") && form_page.contains("永院村"),
            "{backend}"
        );
        let n_before = app.household_count().await;
        let head = id_number("50022419660606002");
        // The second member's check character is wrong.
        let bad = crate::helpers::with_wrong_check(&id_number("50022419930303004"));
        let form = household_form(
            Some(&user.csrf),
            0,
            "BC-FORM-1",
            "500151001200",
            &[
                (head.as_str(), "周大山", "head"),
                (bad.as_str(), "周小川", "child"),
            ],
        );
        let response = user.post_form("/households", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains("第2位成员 身份证号：身份证号校验位错误"),
            "{backend}: {page}"
        );
        // The form comes back with what was typed.
        assert!(
            page.contains(&bad) && page.contains("周小川") && page.contains("BC-FORM-1"),
            "{backend}"
        );
        // Each fault names its field: a short number, two heads, a member of another
        // household (不重不漏).
        let second_head = id_number("50022419930303004");
        let faults = [
            (
                ("5002241993", "周小川", "child"),
                "第2位成员 身份证号：身份证号应为18位（或旧式15位），实际10位",
            ),
            (
                (second_head.as_str(), "周小川", "head"),
                "应有且仅有一名户主，实际2名",
            ),
            (
                ("500224195003150315", "李秀英", "spouse"),
                "该成员已是户BC-0001的成员，同一人不能同时在两户",
            ),
            // A member of a household in another town: refused, its number not revealed
            // (issue 15).
            (
                (app.tuqiao_village.head_id.as_str(), "赵某", "spouse"),
                "该成员已在本辖区以外的家庭中登记",
            ),
        ];
        for (second, expected) in faults {
            let form = household_form(
                Some(&user.csrf),
                0,
                "BC-FORM-1",
                "500151001200",
                &[(head.as_str(), "周大山", "head"), second],
            );
            let response = user.post_form("/households", &form).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {expected}"
            );
            let page = response.text().await.unwrap();
            assert!(page.contains(expected), "{backend}: {expected}");
            assert!(
                !page.contains(app.tuqiao_village.external_id),
                "{backend}: another town's household number is revealed"
            );
        }
        assert_eq!(
            app.household_count().await,
            n_before,
            "{backend}: nothing was created"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn d1_valid_form_creates_the_household_and_redirects() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let user = app.page_user("bachuan").await;
        let head = id_number("50022419660606002");
        let child = id_number("50022419930303004");
        let form = household_form(
            Some(&user.csrf),
            0,
            "BC-FORM-2",
            "500151001200",
            &[
                (head.as_str(), "周大山", "head"),
                (child.as_str(), "周小川", "child"),
            ],
        );
        let response = user.post_form("/households", &form).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let id: i64 = location
            .strip_prefix("/households/")
            .unwrap()
            .parse()
            .unwrap();
        let row = app.stored(id).await;
        assert_eq!(
            (
                row.external_id.as_str(),
                row.head_name.as_str(),
                row.n_members
            ),
            ("BC-FORM-2", "周大山", 2),
            "{backend}"
        );
        let (status, page) = user.get(&location).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains("家庭档案 BC-FORM-2")
                && page.contains("周小川")
                && page.contains("铜梁区 巴川街道 永院村"),
            "{backend}"
        );
        let audit = app.audit_of("household", "BC-FORM-2").await;
        assert_eq!(audit[0].event.action, "household.create", "{backend}");
        assert!(audit[0].event.actor.starts_with("bachuan#"), "{backend}");
        app.stop().await;
    }
}

/// 李秀英 leaves BC-0001 and a grandchild, 张小宝, joins: the edit form posted by `user` at
/// version 1.
async fn composition_changed(app: &TestApp, user: &crate::helpers::PageUser) {
    let household = &app.bachuan_village;
    let grandchild = id_number("50022420180808002");
    let form = household_form(
        Some(&user.csrf),
        1,
        household.external_id,
        household.area,
        &[
            (household.head_id.as_str(), "张三", "head"),
            (grandchild.as_str(), "张小宝", "grandchild"),
        ],
    );
    let response = user
        .post_form(&format!("/households/{}", household.id), &form)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// The edit form is read at its version; 李秀英 leaves and a grandchild joins: the page and the
/// API show the history with the leaver's end date, and the leaver is free to join another
/// household.
#[tokio::test]
async fn d1_edit_records_composition_change_dated_on_the_page_and_in_the_api() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let user = app.page_user("bachuan").await;

        let (status, edit) = user
            .get(&format!("/households/{}/edit", household.id))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            edit.contains("修改家庭档案") && edit.contains("李秀英"),
            "{backend}"
        );
        assert_eq!(
            crate::helpers::hidden_field(&edit, "version").as_deref(),
            Some("1"),
            "{backend}"
        );

        // 李秀英 leaves; a grandchild joins.
        let grandchild = id_number("50022420180808002");
        let form = household_form(
            Some(&user.csrf),
            1,
            household.external_id,
            household.area,
            &[
                (household.head_id.as_str(), "张三", "head"),
                (grandchild.as_str(), "张小宝", "grandchild"),
            ],
        );
        let response = user
            .post_form(&format!("/households/{}", household.id), &form)
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            response.headers()["location"],
            format!("/households/{}", household.id).as_str(),
            "{backend}"
        );
        assert_eq!(app.stored(household.id).await.version, 2, "{backend}");

        // The page shows the history with the leaver's end date.
        let (_, page) = user.get(&format!("/households/{}", household.id)).await;
        let history = &page[page.find("家庭成员变动").unwrap()..];
        let leaver = history.find("李秀英").unwrap();
        let leaver_row = &history[leaver..leaver + history[leaver..].find("</tr>").unwrap()];
        assert!(
            leaver_row.contains(FILED_ON) && leaver_row.contains(TODAY),
            "{backend}: {leaver_row}"
        );
        let joiner = history.find("张小宝").unwrap();
        let joiner_row = &history[joiner..joiner + history[joiner..].find("</tr>").unwrap()];
        assert!(
            joiner_row.contains(TODAY) && joiner_row.contains("至今"),
            "{backend}: {joiner_row}"
        );

        // The API shows the same history.
        let api = app.api_user("bachuan").await;
        let (_, detail) = api
            .get(&format!("/api/v1/households/{}", household.id))
            .await;
        let memberships = detail["memberships"].as_array().unwrap();
        assert_eq!(memberships.len(), 3, "{backend}: {memberships:?}");
        let of = |name: &str| {
            memberships
                .iter()
                .find(|m| m["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (
                of("李秀英")["start_date"].clone(),
                of("李秀英")["end_date"].clone()
            ),
            (FILED_ON.into(), TODAY.into()),
            "{backend}"
        );
        assert_eq!(
            (
                of("张小宝")["start_date"].clone(),
                of("张小宝")["end_date"].clone()
            ),
            (TODAY.into(), serde_json::Value::Null),
            "{backend}"
        );
        assert_eq!(of("张三")["end_date"], serde_json::Value::Null, "{backend}");
        // The leaver is free to join another household now.
        {
            let mut conn = app.app.store().read().await.unwrap();
            assert_eq!(
                store::households::open_membership(&mut conn, "500224195003150315", None)
                    .await
                    .unwrap(),
                None,
                "{backend}"
            );
        }
        app.stop().await;
    }
}

/// Submitting the form read at version 1 again, after an edit, is a conflict on the page and
/// (409) through the API, and changes nothing.
#[tokio::test]
async fn d1_a_stale_version_conflicts_and_changes_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let user = app.page_user("bachuan").await;
        composition_changed(&app, &user).await;
        let api = app.api_user("bachuan").await;
        // Submitting the form read at version 1 again is a conflict, and changes nothing.
        let stored = app.stored(household.id).await;
        let stale = household_form(
            Some(&user.csrf),
            1,
            household.external_id,
            household.area,
            &[(household.head_id.as_str(), "张三丰", "head")],
        );
        let response = user
            .post_form(&format!("/households/{}", household.id), &stale)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("该档案已被他人修改，请重新打开后再修改"),
            "{backend}"
        );
        assert_eq!(app.stored(household.id).await, stored, "{backend}");
        // And through the API: 409.
        let body = crate::helpers::household_json(
            household.external_id,
            household.area,
            &[(household.head_id.as_str(), "张三丰", "head")],
        );
        let (status, answer) = api
            .put(
                &format!("/api/v1/households/{}?version=1", household.id),
                &body,
            )
            .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::CONFLICT, Some("conflict")),
            "{backend}"
        );
        assert!(
            answer["message"].as_str().unwrap().starts_with("操作冲突"),
            "{backend}"
        );
        assert_eq!(app.stored(household.id).await, stored, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn d1_household_id_cannot_be_changed_by_edit() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let user = app.page_user("bachuan").await;
        let before = app.stored(household.id).await;
        let form = household_form(
            Some(&user.csrf),
            1,
            "BC-RENAMED",
            household.area,
            &[(household.head_id.as_str(), "张三", "head")],
        );
        let response = user
            .post_form(&format!("/households/{}", household.id), &form)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            response.text().await.unwrap().contains("户编号不能修改"),
            "{backend}"
        );
        assert_eq!(app.stored(household.id).await, before, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u1_pages_are_in_chinese_and_healthz_answers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = app.anonymous();
        let login = client.get(app.url("/login")).send().await.unwrap();
        assert_eq!(login.status(), StatusCode::OK, "{backend}");
        let html = login.text().await.unwrap();
        assert!(
            html.contains("lang=\"zh-CN\"") && html.contains("用户名") && html.contains("密码"),
            "{backend}"
        );
        let health = client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK, "{backend}");
        assert_eq!(health.text().await.unwrap(), "ok", "{backend}");
        let user = app.page_user("bachuan").await;
        let (status, page) = user.get("/no/such/page").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        assert!(page.contains("未找到"), "{backend}");
        app.stop().await;
    }
}
