//! U2 用户管理: the administrator creates, edits, disables and re-enables the users of their own
//! area and resets their passwords, through `/admin/users`; each fault is named beside its
//! field in Chinese; other roles and other areas get nothing; disabling a user or resetting
//! their password ends their sessions at once; every change is audited.

use crate::cases::user_id;
use crate::helpers::{PASSWORD, PageUser, TestApp, backends, field_error, form, hidden_field};
use app::users::{Creator, NewUser, UserDraft};
use app::{Actor, AppError};
use domain::{PlaceCode, Role};
use reqwest::StatusCode;
use serde_json::json;

/// The session's CSRF token as a signed-in page of `path` carries it.
async fn csrf_from(user: &PageUser, path: &str) -> String {
    let (status, page) = user.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    hidden_field(&page, "csrf").expect("the page carries the csrf token")
}

/// An administrator signed in through the form, with the token of their pages.
async fn admin_page(app: &TestApp, username: &str) -> PageUser {
    let mut admin = app.page_user(username).await;
    admin.csrf = csrf_from(&admin, "/admin/users").await;
    admin
}

/// The form of a new user with the session's token.
fn new_user_form(
    csrf: &str,
    username: &str,
    role: &str,
    area: &str,
    department: &str,
    password: &str,
) -> Vec<(String, String)> {
    form(&[
        ("csrf", csrf),
        ("username", username),
        ("display_name", "新用户"),
        ("role", role),
        ("area", area),
        ("department", department),
        ("password", password),
    ])
}

/// Signs in through the form with `password`; the status of `POST /login`.
async fn login_status(app: &TestApp, username: &str, password: &str) -> StatusCode {
    let client = app.anonymous();
    let csrf = app.form_csrf(&client, "/login").await;
    client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn user_count(app: &TestApp) -> i64 {
    let mut conn = app.app.store().read().await.unwrap();
    store::users::count(&mut conn).await.unwrap()
}

async fn stored_user(app: &TestApp, username: &str) -> store::users::UserRow {
    let mut conn = app.app.store().read().await.unwrap();
    store::users::by_username(&mut conn, username)
        .await
        .unwrap()
        .unwrap()
}

async fn actor_of(app: &TestApp, username: &str) -> Actor {
    let row = stored_user(app, username).await;
    Actor {
        user_id: row.id,
        username: row.username,
        display_name: row.display_name,
        role: row.role,
        area: row.area_code,
    }
}

/// A town administrator of 巴川街道, created at the console.
async fn town_admin(app: &TestApp) -> PageUser {
    let area = PlaceCode::parse("500151001").unwrap();
    app.app
        .create_user(
            Creator::Console("test"),
            NewUser {
                username: "bc-admin",
                display_name: "巴川管理员",
                role: Role::Admin,
                area: &area,
                password: PASSWORD,
            },
        )
        .await
        .unwrap();
    admin_page(app, "bc-admin").await
}

/// A referral of household `household_id` to `department`, written straight to the store
/// (how it came about is the business of the 救助帮扶 tests).
async fn referral_to(app: &TestApp, household_id: i64, area: &str, item: &str, department: &str) {
    let mut tx = app.app.store().begin().await.unwrap();
    store::assistance::insert_referral(
        &mut tx,
        &store::assistance::NewReferral {
            household_id,
            area_code: area,
            item_code: item,
            item_version: 1,
            department,
            needs: "medical",
            reason: "测试转介",
            period: "2026",
            state: "sent",
            created_on: crate::helpers::TODAY,
            created_by: "test",
            now: "2026-11-28T02:00:00.000000Z",
            supplementary_reason: None,
        },
    )
    .await
    .unwrap();
    store::commit(tx).await.unwrap();
}

#[tokio::test]
async fn u2_admin_creates_a_department_user_who_works_their_department_queue() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = admin_page(&app, "admin").await;
        let (status, list) = admin.get("/admin/users").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(list.contains("共 9 个用户"), "{backend}: {list}");
        assert!(
            list.contains("镇街审核人员") && list.contains("铜梁区 巴川街道 永院村"),
            "{backend}: role labels and full area names"
        );
        assert!(list.contains("从未登录"), "{backend}");
        let (status, blank) = admin.get("/admin/users/new").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            blank.contains("区医保局") && blank.contains("铜梁区 土桥镇"),
            "{backend}: departments and places to choose from"
        );

        let response = admin
            .post_form(
                "/admin/users",
                &new_user_form(
                    &admin.csrf,
                    "yibao2",
                    "department",
                    "500151",
                    "medical_security",
                    PASSWORD,
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let created = stored_user(&app, "yibao2").await;
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            format!("/admin/users/{}?saved=1", created.id),
            "{backend}"
        );
        assert_eq!(
            (
                created.role.code(),
                created.area_code.as_str(),
                created.department.as_deref(),
                created.active
            ),
            ("department", "500151", Some("medical_security"), 1),
            "{backend}"
        );
        let (status, page) = admin
            .get(&format!("/admin/users/{}?saved=1", created.id))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains("已保存") && page.contains("区医保局"),
            "{backend}"
        );

        // The new user signs in to the queue of their department, not another's.
        let household = &app.bachuan_village;
        referral_to(
            &app,
            household.id,
            household.area,
            "medical_assistance",
            "medical_security",
        )
        .await;
        referral_to(
            &app,
            household.id,
            household.area,
            "education_assistance",
            "education",
        )
        .await;
        let client = app.anonymous();
        let csrf = app.form_csrf(&client, "/login").await;
        let response = client
            .post(app.url("/login"))
            .form(&[
                ("username", "yibao2"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            "/referrals",
            "{backend}"
        );
        let queue = client
            .get(app.url("/referrals"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            queue.contains("救助帮扶转介：区医保局"),
            "{backend}: {queue}"
        );
        assert!(queue.contains("医疗救助"), "{backend}");
        assert!(
            !queue.contains("教育救助"),
            "{backend}: another department's"
        );

        // Audited, without the password.
        let audit = app.audit_of("user", &created.id.to_string()).await;
        assert_eq!(audit.len(), 1, "{backend}");
        let event = &audit[0].event;
        assert_eq!(event.action, "user.create", "{backend}");
        assert_eq!(
            event.actor,
            format!("admin#{}", user_id(&app, "admin").await),
            "{backend}"
        );
        let after = event.after.as_deref().unwrap();
        assert!(
            after.contains("medical_security") && !after.contains(PASSWORD),
            "{backend}: {after}"
        );
        // The list shows the new user and their last sign-in.
        let (_, list) = admin.get("/admin/users?role=department").await;
        assert!(
            list.contains("yibao2") && list.contains("区医保局") && !list.contains(">bachuan<"),
            "{backend}: {list}"
        );
        assert!(list.contains("2026-11-28 10:00"), "{backend}: last sign-in");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_new_user_form_names_each_fault_in_chinese_and_keeps_the_input() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = admin_page(&app, "admin").await;
        let n_before = user_count(&app).await;
        let cases = [
            // A town reviewer must work at a town.
            (
                ("zhen1", "town_reviewer", "500151", "", PASSWORD),
                "area",
                "该角色的管辖区域层级不符",
            ),
            // A department user needs their department …
            (
                ("bumen2", "department", "500151", "", PASSWORD),
                "department",
                "专项部门用户须选择所属部门",
            ),
            // … of the catalogue …
            (
                ("bumen3", "department", "500151", "weather", PASSWORD),
                "department",
                "未知部门“weather”",
            ),
            // … and nobody else has one.
            (
                ("zhen2", "town_reviewer", "500151001", "education", PASSWORD),
                "department",
                "只有专项部门用户设置所属部门",
            ),
            (
                ("zhen3", "town_reviewer", "500151001", "", "short"),
                "password",
                "密码至少8位",
            ),
            (
                ("bachuan", "town_reviewer", "500151001", "", PASSWORD),
                "username",
                "用户名已存在",
            ),
            (
                ("zhen4", "", "500151001", "", PASSWORD),
                "role",
                "请选择角色",
            ),
            (
                ("zhen5", "town_reviewer", "5001x", "", PASSWORD),
                "area",
                "区划代码“5001x”无效",
            ),
            (
                ("z", "town_reviewer", "500151001", "", PASSWORD),
                "username",
                "用户名应为3至32位",
            ),
            (
                ("zhen6", "town_reviewer", "500151999", "", PASSWORD),
                "area",
                "区划500151999不存在",
            ),
        ];
        for ((username, role, area, department, password), field, message) in cases {
            let response = admin
                .post_form(
                    "/admin/users",
                    &new_user_form(&admin.csrf, username, role, area, department, password),
                )
                .await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {username}"
            );
            let page = response.text().await.unwrap();
            assert!(
                field_error(&page, field).contains(message),
                "{backend} {username}: {field} should say {message}: {}",
                field_error(&page, field)
            );
            // What was typed is kept, but never the password.
            assert!(
                page.contains(&format!("name=\"username\" value=\"{username}\"")),
                "{backend} {username}"
            );
            assert!(
                page.contains(&format!("name=\"area\" list=\"places\" value=\"{area}\"")),
                "{backend} {username}"
            );
            assert!(
                !page.contains(&format!("value=\"{password}\"")),
                "{backend} {username}: the password is not echoed"
            );
        }
        assert_eq!(user_count(&app).await, n_before, "{backend}");
        // Faults of several fields are named together.
        let response = admin
            .post_form(
                "/admin/users",
                &new_user_form(&admin.csrf, "x", "department", "500151", "", "1"),
            )
            .await;
        let page = response.text().await.unwrap();
        for field in ["username", "department", "password"] {
            assert!(
                !field_error(&page, field).is_empty(),
                "{backend}: {field} named"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_a_town_admin_sees_and_changes_only_users_of_their_town() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let town = town_admin(&app).await;
        let (status, list) = town.get("/admin/users").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        for inside in ["bachuan", "cunshe", "wangge", "bc-admin"] {
            assert!(
                list.contains(&format!(">{inside}</a>")),
                "{backend}: {inside}"
            );
        }
        for outside in ["tuqiao", "minzheng", "admin", "bumen"] {
            assert!(
                !list.contains(&format!(">{outside}</a>")),
                "{backend}: {outside} is outside 巴川街道"
            );
        }
        let (status, page) = town.get("/admin/users?area=500151100").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(
            field_error(&page, "filter-area").contains("区划500151100不在您的管辖范围内"),
            "{backend}"
        );

        let tuqiao = stored_user(&app, "tuqiao").await;
        let district = user_id(&app, "minzheng").await;
        for id in [tuqiao.id, district] {
            assert_eq!(
                town.get(&format!("/admin/users/{id}")).await.0,
                StatusCode::NOT_FOUND,
                "{backend} {id}"
            );
            let version = "1";
            for (path, fields) in [
                (
                    format!("/admin/users/{id}"),
                    form(&[
                        ("csrf", town.csrf.as_str()),
                        ("version", version),
                        ("display_name", "改名"),
                        ("role", "town_reviewer"),
                        ("area", "500151001"),
                    ]),
                ),
                (
                    format!("/admin/users/{id}/status"),
                    form(&[
                        ("csrf", town.csrf.as_str()),
                        ("version", version),
                        ("active", "0"),
                    ]),
                ),
                (
                    format!("/admin/users/{id}/password"),
                    form(&[
                        ("csrf", town.csrf.as_str()),
                        ("version", version),
                        ("password", "another-pass-1"),
                        ("password_confirm", "another-pass-1"),
                    ]),
                ),
            ] {
                let status = town.post_form(&path, &fields).await.status();
                assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}");
            }
        }
        assert_eq!(stored_user(&app, "tuqiao").await, tuqiao, "{backend}");
        assert_eq!(
            login_status(&app, "tuqiao", PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{backend}"
        );

        // Nor is a user created in another town, or moved there.
        let response = town
            .post_form(
                "/admin/users",
                &new_user_form(
                    &town.csrf,
                    "tq-new",
                    "town_reviewer",
                    "500151100",
                    "",
                    PASSWORD,
                ),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            field_error(&page, "area").contains("区划500151100不在您的管辖范围内"),
            "{backend}"
        );
        let cunshe = stored_user(&app, "cunshe").await;
        let response = town
            .post_form(
                &format!("/admin/users/{}", cunshe.id),
                &form(&[
                    ("csrf", town.csrf.as_str()),
                    ("version", &cunshe.version.to_string()),
                    ("display_name", "陈协理"),
                    ("role", "village_assistant"),
                    ("area", "500151100200"),
                ]),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert_eq!(stored_user(&app, "cunshe").await, cunshe, "{backend}");
        let mut conn = app.app.store().read().await.unwrap();
        assert!(
            store::users::by_username(&mut conn, "tq-new")
                .await
                .unwrap()
                .is_none(),
            "{backend}"
        );
        drop(conn);
        // Inside the town it works: a village assistant of 东阳社区.
        let response = town
            .post_form(
                "/admin/users",
                &new_user_form(
                    &town.csrf,
                    "dongyang",
                    "village_assistant",
                    "500151001001",
                    "",
                    PASSWORD,
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_roles_other_than_admin_are_refused_user_administration() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let n_before = user_count(&app).await;
        let target = user_id(&app, "cunshe").await;
        for (username, start) in [
            ("bachuan", "/households"),
            ("minzheng", "/households"),
            ("wangge", "/households"),
            ("shenji", "/households"),
            ("bumen", "/referrals"),
        ] {
            let user = app.page_user(username).await;
            let csrf = csrf_from(&user, start).await;
            for path in [
                "/admin/users".to_owned(),
                "/admin/users/new".to_owned(),
                format!("/admin/users/{target}"),
            ] {
                let (status, page) = user.get(&path).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username} {path}");
                assert!(page.contains("您的角色无权进行此操作"), "{backend}");
            }
            let status = user
                .post_form(
                    "/admin/users",
                    &new_user_form(&csrf, "sneaky", "admin", "500151", "", PASSWORD),
                )
                .await
                .status();
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username}");
            for (path, fields) in [
                (
                    format!("/admin/users/{target}/status"),
                    form(&[("csrf", &csrf), ("version", "1"), ("active", "0")]),
                ),
                (
                    format!("/admin/users/{target}/password"),
                    form(&[
                        ("csrf", &csrf),
                        ("version", "1"),
                        ("password", "another-pass-1"),
                        ("password_confirm", "another-pass-1"),
                    ]),
                ),
            ] {
                let status = user.post_form(&path, &fields).await.status();
                assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username} {path}");
            }
            // The use case refuses by itself, whatever the web layer does.
            let actor = actor_of(&app, username).await;
            let draft = UserDraft {
                username: "sneaky".into(),
                role: "admin".into(),
                area: actor.area.as_str().into(),
                password: PASSWORD.into(),
                ..UserDraft::default()
            };
            assert!(
                matches!(
                    app.app.admin_create_user(&actor, &draft).await,
                    Err(AppError::Forbidden)
                ),
                "{backend} {username}"
            );
        }
        assert_eq!(user_count(&app).await, n_before, "{backend}");
        assert_eq!(stored_user(&app, "cunshe").await.active, 1, "{backend}");
        // A form without the session's token changes nothing, even the administrator's.
        let admin = admin_page(&app, "admin").await;
        for csrf in ["", "forged"] {
            let response = admin
                .post_form(
                    "/admin/users",
                    &new_user_form(csrf, "forged1", "auditor", "500151", "", PASSWORD),
                )
                .await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
            let status = admin
                .post_form(
                    &format!("/admin/users/{target}/status"),
                    &form(&[("csrf", csrf), ("version", "1"), ("active", "0")]),
                )
                .await
                .status();
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        }
        assert_eq!(user_count(&app).await, n_before, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_disabling_a_user_ends_their_sessions_and_blocks_sign_in() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = admin_page(&app, "admin").await;
        let cunshe_page = app.page_user("cunshe").await;
        let cunshe_api = app.api_user("cunshe").await;
        assert_eq!(
            cunshe_page.get("/households").await.0,
            StatusCode::OK,
            "{backend}"
        );
        let cunshe = stored_user(&app, "cunshe").await;
        let disable = |version: i64| {
            form(&[
                ("csrf", admin.csrf.as_str()),
                ("version", &version.to_string()),
                ("active", "0"),
            ])
        };
        let response = admin
            .post_form(
                &format!("/admin/users/{}/status", cunshe.id),
                &disable(cunshe.version),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        // The open sessions end at once: the page goes back to sign-in, the API answers 401.
        let response = cunshe_page
            .client
            .get(app.url("/households"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            "/login",
            "{backend}"
        );
        assert_eq!(
            cunshe_api.get("/api/v1/households").await.0,
            StatusCode::UNAUTHORIZED,
            "{backend}"
        );
        assert_eq!(
            login_status(&app, "cunshe", PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "{backend}: a disabled user cannot sign in"
        );
        let (_, list) = admin.get("/admin/users").await;
        let row = &list[list.find(&format!("id=\"user-{}\"", cunshe.id)).unwrap()..];
        assert!(
            row[..row.find("</tr>").unwrap()].contains("已停用"),
            "{backend}"
        );
        // A stale form (read before the change) conflicts.
        let response = admin
            .post_form(
                &format!("/admin/users/{}/status", cunshe.id),
                &form(&[
                    ("csrf", admin.csrf.as_str()),
                    ("version", &cunshe.version.to_string()),
                    ("active", "1"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{backend}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("该用户已被他人修改"),
            "{backend}"
        );
        // Re-enabled, the user signs in again.
        let response = admin
            .post_form(
                &format!("/admin/users/{}/status", cunshe.id),
                &form(&[
                    ("csrf", admin.csrf.as_str()),
                    ("version", &(cunshe.version + 1).to_string()),
                    ("active", "1"),
                ]),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            login_status(&app, "cunshe", PASSWORD).await,
            StatusCode::SEE_OTHER,
            "{backend}"
        );
        // The administrator does not disable themself.
        let me = stored_user(&app, "admin").await;
        let response = admin
            .post_form(
                &format!("/admin/users/{}/status", me.id),
                &disable(me.version),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            field_error(&response.text().await.unwrap(), "active").contains("不能停用自己的账户"),
            "{backend}"
        );
        assert_eq!(stored_user(&app, "admin").await.active, 1, "{backend}");
        let actions: Vec<String> = app
            .audit_of("user", &cunshe.id.to_string())
            .await
            .into_iter()
            .map(|entry| entry.event.action)
            .collect();
        assert_eq!(
            actions,
            ["user.create", "user.disable", "user.enable"],
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_password_reset_ends_sessions_and_the_old_password_fails() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = admin_page(&app, "admin").await;
        let bachuan_page = app.page_user("bachuan").await;
        let bachuan = stored_user(&app, "bachuan").await;
        let reset = |password: &str, confirm: &str| {
            form(&[
                ("csrf", admin.csrf.as_str()),
                ("version", &bachuan.version.to_string()),
                ("password", password),
                ("password_confirm", confirm),
            ])
        };
        let path = format!("/admin/users/{}/password", bachuan.id);
        for ((password, confirm), field, message) in [
            (("short", "short"), "password", "密码至少8位"),
            (
                ("new-secret-22", "new-secret-23"),
                "password_confirm",
                "两次输入的密码不一致",
            ),
        ] {
            let response = admin.post_form(&path, &reset(password, confirm)).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend}"
            );
            let page = response.text().await.unwrap();
            assert!(
                field_error(&page, field).contains(message),
                "{backend}: {message}"
            );
        }
        assert_eq!(
            stored_user(&app, "bachuan").await,
            bachuan,
            "{backend}: nothing changed"
        );
        let response = admin
            .post_form(&path, &reset("new-secret-22", "new-secret-22"))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let response = bachuan_page
            .client
            .get(app.url("/households"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            "/login",
            "{backend}: the session ended"
        );
        assert_eq!(
            login_status(&app, "bachuan", PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "{backend}: the old password fails"
        );
        assert_eq!(
            login_status(&app, "bachuan", "new-secret-22").await,
            StatusCode::SEE_OTHER,
            "{backend}: the new one works"
        );
        let audit = app.audit_of("user", &bachuan.id.to_string()).await;
        let event = &audit.last().unwrap().event;
        assert_eq!(event.action, "user.reset_password", "{backend}");
        let after = event.after.as_deref().unwrap();
        assert!(
            after.contains("\"sessions_ended\":1")
                && !after.contains("new-secret-22")
                && !after.contains("argon2"),
            "{backend}: {after}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_admin_edits_name_role_area_and_department_with_the_version_read() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = admin_page(&app, "admin").await;
        let wangge = stored_user(&app, "wangge").await;
        let path = format!("/admin/users/{}", wangge.id);
        let (status, page) = admin.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            page.contains(&format!("name=\"version\" value=\"{}\"", wangge.version)),
            "{backend}"
        );
        let edit = |version: i64, role: &str, area: &str, department: &str| {
            form(&[
                ("csrf", admin.csrf.as_str()),
                ("version", &version.to_string()),
                ("display_name", "赵专干"),
                ("role", role),
                ("area", area),
                ("department", department),
            ])
        };
        // A 专项部门 user at a grid: both faults are named, the input kept.
        let response = admin
            .post_form(
                &path,
                &edit(wangge.version, "department", "500151001200001", ""),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            field_error(&page, "area").contains("层级不符")
                && field_error(&page, "department").contains("须选择所属部门"),
            "{backend}"
        );
        assert!(
            page.contains("value=\"赵专干\""),
            "{backend}: typed name kept"
        );
        assert_eq!(stored_user(&app, "wangge").await, wangge, "{backend}");

        let response = admin
            .post_form(
                &path,
                &edit(wangge.version, "department", "500151", "housing"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        let changed = stored_user(&app, "wangge").await;
        assert_eq!(
            (
                changed.display_name.as_str(),
                changed.role.code(),
                changed.area_code.as_str(),
                changed.department.as_deref(),
                changed.version
            ),
            (
                "赵专干",
                "department",
                "500151",
                Some("housing"),
                wangge.version + 1
            ),
            "{backend}"
        );
        // The form read before that change conflicts and changes nothing.
        let response = admin
            .post_form(
                &path,
                &edit(wangge.version, "grid_worker", "500151001200001", ""),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{backend}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("该用户已被他人修改"),
            "{backend}"
        );
        assert_eq!(stored_user(&app, "wangge").await, changed, "{backend}");
        // Back to a grid worker: the department goes.
        let response = admin
            .post_form(
                &path,
                &edit(changed.version, "grid_worker", "500151001200001", ""),
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            stored_user(&app, "wangge").await.department,
            None,
            "{backend}"
        );
        let audit = app.audit_of("user", &wangge.id.to_string()).await;
        let updates: Vec<_> = audit
            .iter()
            .filter(|entry| entry.event.action == "user.update")
            .collect();
        assert_eq!(updates.len(), 2, "{backend}");
        assert!(
            updates[0]
                .event
                .before
                .as_deref()
                .unwrap()
                .contains("grid_worker")
                && updates[0]
                    .event
                    .after
                    .as_deref()
                    .unwrap()
                    .contains("housing"),
            "{backend}"
        );
        app.stop().await;
    }
}

/// The administrator keeps their own role and area.
#[tokio::test]
async fn u2_the_administrator_keeps_their_own_role() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = admin_page(&app, "admin").await;
        // The administrator keeps their own role and area.
        let me = stored_user(&app, "admin").await;
        let response = admin
            .post_form(
                &format!("/admin/users/{}", me.id),
                &form(&[
                    ("csrf", admin.csrf.as_str()),
                    ("version", &me.version.to_string()),
                    ("display_name", "管理员"),
                    ("role", "auditor"),
                    ("area", "500151"),
                ]),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        assert!(
            field_error(&response.text().await.unwrap(), "role").contains("不能修改自己的角色"),
            "{backend}"
        );
        assert_eq!(stored_user(&app, "admin").await, me, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_users_api_lists_and_creates_for_administrators_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let admin = app.api_user("admin").await;
        let (status, list) = admin.get("/api/v1/users?role=town_reviewer").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(list["total"], 2, "{backend}");
        assert_eq!(list["items"][0]["username"], "bachuan", "{backend}");
        assert_eq!(
            list["items"][0]["area_name"], "铜梁区 巴川街道",
            "{backend}"
        );
        let body = json!({
            "username": "jiaowei2",
            "display_name": "区教委 孙专干",
            "role": "department",
            "area": "500151",
            "department": "education",
            "password": PASSWORD,
        });
        let (status, user) = admin.post("/api/v1/users", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {user}");
        assert_eq!(
            (
                user["role"].clone(),
                user["department"].clone(),
                user["department_name"].clone(),
                user["active"].clone()
            ),
            (
                json!("department"),
                json!("education"),
                json!("区教委"),
                json!(true)
            ),
            "{backend}"
        );
        let (status, error) = admin
            .post(
                "/api/v1/users",
                &json!({ "username": "jiaowei3", "role": "town_reviewer", "area": "500151", "department": "education", "password": "short" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(error["code"], "invalid_input", "{backend}");
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|fault| fault["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["area", "department", "password"], "{backend}");
        // Without the CSRF header nothing is created.
        let response = admin
            .client
            .post(app.url("/api/v1/users"))
            .json(&json!({ "username": "nocsrf", "role": "auditor", "area": "500151", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        let reviewer = app.api_user("bachuan").await;
        assert_eq!(
            reviewer.get("/api/v1/users").await.0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let (status, error) = reviewer
            .post(
                "/api/v1/users",
                &json!({ "username": "sneaky", "role": "admin", "area": "500151001", "password": PASSWORD }),
            )
            .await;
        assert_eq!(
            (status, error["code"].clone()),
            (StatusCode::FORBIDDEN, json!("forbidden")),
            "{backend}"
        );
        let mut conn = app.app.store().read().await.unwrap();
        for username in ["jiaowei3", "nocsrf", "sneaky"] {
            assert!(
                store::users::by_username(&mut conn, username)
                    .await
                    .unwrap()
                    .is_none(),
                "{backend} {username}"
            );
        }
        drop(conn);
        app.stop().await;
    }
}
