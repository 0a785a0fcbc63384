//! U2: roles by area. Out-of-area records answer 404 on every household route, pages and API;
//! roles that may not read the registry get 403; masking for grid and village roles.

use crate::helpers::{Backend, TestApp, backends, household_form, household_json};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every household route of the router, as (method, path). `u2_route_table_covers_the_router`
/// keeps it complete, so a new route cannot skip the isolation tests below.
const HOUSEHOLD_ROUTES: [(&str, &str); 11] = [
    ("GET", "/households"),
    ("POST", "/households"),
    ("GET", "/households/{id}"),
    ("POST", "/households/{id}"),
    ("GET", "/households/{id}/edit"),
    ("GET", "/api/v1/households"),
    ("POST", "/api/v1/households"),
    ("GET", "/api/v1/households/{id}"),
    // 材料 (D4): isolation in `crate::documents::d4_documents_are_read_only_inside_the_role_and_area_of_their_case`.
    ("POST", "/households/{id}/documents"),
    ("GET", "/api/v1/households/{id}/documents"),
    ("POST", "/api/v1/households/{id}/documents"),
];
const HOUSEHOLD_API_PUT: (&str, &str) = ("PUT", "/api/v1/households/{id}");
/// Registry-wide pages: aggregates over the actor's area (`u2_registry_pages_cover_only_the_actor_area`).
const REGISTRY_ROUTES: [&str; 2] = ["/assessment", "/simulation"];
/// 救助帮扶 routes: area, role and department isolation is tested in `assistance.rs`.
const ASSISTANCE_ROUTES: [&str; 10] = [
    "/assistance",
    "/assistance/{code}",
    "/referrals",
    "/referrals/{id}",
    "/referrals/{id}/slip",
    "/api/v1/assistance/items",
    "/api/v1/proposals/{household_id}",
    "/api/v1/referrals",
    "/api/v1/referrals/{id}",
    "/api/v1/referrals/{id}/actions",
];
/// 报表 and 驾驶舱: figures of the actor's area for district and town users
/// (`u2_reports_and_dashboard_cover_only_the_actor_area`).
const REPORT_ROUTES: [&str; 4] = ["/reports", "/reports/xlsx", "/reports/print", "/dashboard"];
/// Warning routes (issue 5): scoped by area (`crate::warnings::u2_warning_routes_stay_in_area`;
/// 监测待识别 in `crate::monitoring`).
const WATCH_ROUTES: [&str; 8] = [
    "/monitoring",
    "/api/v1/monitoring/candidates",
    "/warnings",
    "/warnings/{id}",
    "/feeds",
    "/contacts",
    "/api/v1/feeds",
    "/api/v1/warnings",
];
/// 一门入库 and the re-check due list: district civil affairs and agriculture only, refused
/// with 403 to every other role (`crate::rolls::issue12_the_roll_page_runs_dry_run_then_accept`);
/// the due list in the user's area (`crate::rolls::w1_the_recheck_page_lists_the_area_paged`).
const ROLL_ROUTES: [&str; 3] = ["/rolls", "/rolls/accept", "/rechecks"];
/// 名册查询: every role that reads households, within its own area, another area refused with
/// 403 (`crate::roster::issue13_the_roster_answers_from_cases_and_imported_rolls_by_date_and_area`).
const ROSTER_ROUTES: [&str; 3] = ["/roster", "/roster/xlsx", "/api/v1/roster"];
/// 政策参数: public policy values, read by every role, added by district civil affairs and the
/// administrator only (`crate::policy::only_district_civil_affairs_and_the_administrator_add_values_and_everyone_reads_them`).
/// 工作日历: read by every role, a year entered by district civil affairs only
/// (`crate::calendar::district_civil_affairs_enters_next_year_and_the_due_dates_are_no_longer_pending`).
const POLICY_ROUTES: [&str; 6] = [
    "/policy",
    "/policy/{name}/values",
    "/api/v1/policy/parameters",
    "/api/v1/policy/parameters/{name}/values",
    "/policy/calendar",
    "/api/v1/calendar",
];
/// 用户管理 (administrators only, inside their own area): tested in `crate::users`
/// (`u2_a_town_admin_sees_and_changes_only_users_of_their_town`,
/// `u2_roles_other_than_admin_are_refused_user_administration`).
const USER_ROUTES: [&str; 6] = [
    "/admin/users",
    "/api/v1/users",
    "/admin/users/new",
    "/admin/users/{id}",
    "/admin/users/{id}/status",
    "/admin/users/{id}/password",
];
/// Routes that show no household: sign-in, the form skeleton, static files, the API document.
const ROUTES_WITHOUT_RECORDS: [&str; 13] = [
    "/",
    "/login",
    "/logout",
    "/households/new",
    "/static/app.css",
    "/static/dashboard.js",
    "/static/apply.js",
    "/static/cards.js",
    "/static/members.js",
    "/static/vendor/echarts.min.js",
    "/healthz",
    "/api/openapi.json",
    "/api/v1/session",
];

/// Every case route (issue 4): scoped by the case's area, tested by
/// `u2_town_reviewer_cannot_read_or_act_on_other_town_case` (and the 村级公示 by the village's
/// area, also in `cases::p7_village_notice_lists_every_case_at_notice_masked_for_the_area_only`).
const CASE_ROUTES: [(&str, &str); 15] = [
    ("GET", "/cases"),
    ("POST", "/cases"),
    ("GET", "/cases/new"),
    ("POST", "/cases/recheck"),
    ("GET", "/cases/{id}"),
    ("POST", "/cases/{id}/actions"),
    ("GET", "/cases/{id}/print/survey"),
    ("GET", "/cases/{id}/print/notice"),
    ("GET", "/cases/{id}/print/refusal"),
    ("GET", "/villages/{code}/print/notice"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("POST", "/api/v1/cases/{id}/actions"),
    ("GET", "/api/v1/cases/{id}/team-candidates"),
];
/// Public or record-free routes of issue 4: the tracking page shows a step and dates only
/// (`cases::public_tracking_shows_the_step_and_nothing_personal`), the print stylesheet, and
/// the online application, which shows back only what the applicant typed
/// (`apply::p1_an_online_application_opens_a_case_at_intake_in_the_chosen_village`).
const CASE_PUBLIC_ROUTES: [&str; 3] = ["/track", "/static/print.css", "/apply"];
/// 我的工作: the user's own area only (`home::i15_field_roles_arrive_at_their_village_cases_with_due_dates`).
const HOME_ROUTES: [&str; 1] = ["/home"];
/// 公开 (issue 14 item 1): the public lists (no sign-in, nothing but what a line discloses),
/// the board sheet, its posting and the publications, by role and area
/// (`crate::disclosure::i14_a_confirmed_household_is_disclosed_dated_and_posted`).
const DISCLOSURE_ROUTES: [&str; 5] = [
    "/public/{area}",
    "/api/v1/disclosure/{area}",
    "/villages/{code}/print/disclosure",
    "/villages/{code}/disclosure/posted",
    "/disclosure",
];
/// 审计日志: the district's auditor only, 403 to every other role
/// (`crate::audit_log::i15_auditor_reads_filters_pages_exports_and_checks_the_audit_log`).
const AUDIT_LOG_ROUTES: [&str; 4] = ["/audit", "/audit/xlsx", "/audit/verify", "/api/v1/audit"];
/// 材料 (D4): read by who reads the case or household, in its area; added by the roles that
/// edit households (`crate::documents::d4_documents_are_read_only_inside_the_role_and_area_of_their_case`).
const DOCUMENT_ROUTES: [&str; 6] = [
    "/cases/{id}/documents",
    "/documents/{id}",
    "/documents/{id}/thumbnail",
    "/documents/{id}/withdraw",
    "/api/v1/cases/{id}/documents",
    "/api/v1/documents/{id}",
];

/// The (path, methods) of every `.route(…)` in the router's source, however it is formatted.
pub fn router_routes() -> Vec<(String, Vec<String>)> {
    let source = include_str!("../../src/lib.rs");
    let mut routes = Vec::new();
    for call in source.split(".route(").skip(1) {
        // The call's text runs to the next builder method.
        let call = [".route(", ".fallback(", ".layer(", ".with_state("]
            .iter()
            .filter_map(|next| call.find(next))
            .min()
            .map_or(call, |end| &call[..end]);
        let Some((_, rest)) = call.split_once('"') else {
            continue;
        };
        let Some((path, handlers)) = rest.split_once('"') else {
            continue;
        };
        let methods = ["get", "post", "put", "delete", "patch"]
            .into_iter()
            .filter(|method| {
                handlers
                    .match_indices(&format!("{method}("))
                    .any(|(at, _)| {
                        !handlers[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
            })
            .map(str::to_owned)
            .collect();
        routes.push((path.to_owned(), methods));
    }
    routes
}

#[test]
fn u2_route_table_covers_the_router() {
    let routes = router_routes();
    let has = |method: &str, path: &str| {
        routes
            .iter()
            .any(|(p, methods)| p == path && methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
    };
    // The table names routes that exist (so the scan of the source works) …
    for (method, path) in HOUSEHOLD_ROUTES.iter().chain([&HOUSEHOLD_API_PUT]) {
        assert!(
            has(method, path),
            "{method} {path} was not found in the router"
        );
    }
    for (method, path) in CASE_ROUTES {
        assert!(
            has(method, path),
            "{method} {path} was not found in the router"
        );
    }
    // … every route of the router is accounted for …
    for (path, _) in &routes {
        let accounted = HOUSEHOLD_ROUTES.iter().any(|(_, p)| p == path)
            || REGISTRY_ROUTES.contains(&path.as_str())
            || ASSISTANCE_ROUTES.contains(&path.as_str())
            || REPORT_ROUTES.contains(&path.as_str())
            || WATCH_ROUTES.contains(&path.as_str())
            || ROLL_ROUTES.contains(&path.as_str())
            || ROSTER_ROUTES.contains(&path.as_str())
            || USER_ROUTES.contains(&path.as_str())
            || ROUTES_WITHOUT_RECORDS.contains(&path.as_str())
            || CASE_ROUTES.iter().any(|(_, p)| p == path)
            || CASE_PUBLIC_ROUTES.contains(&path.as_str())
            || HOME_ROUTES.contains(&path.as_str())
            || DISCLOSURE_ROUTES.contains(&path.as_str())
            || POLICY_ROUTES.contains(&path.as_str())
            || AUDIT_LOG_ROUTES.contains(&path.as_str())
            || DOCUMENT_ROUTES.contains(&path.as_str());
        assert!(
            accounted,
            "{path} is new: add it to a table of access.rs and test who may see what there"
        );
    }
    // … and every household route of the router is in the table.
    for (path, methods) in routes
        .iter()
        .filter(|(path, _)| path.contains("households"))
    {
        for method in methods {
            let method = method.to_uppercase();
            let known = HOUSEHOLD_ROUTES
                .iter()
                .chain([&HOUSEHOLD_API_PUT])
                .any(|(m, p)| *m == method && p == path)
                || path == "/households/new";
            assert!(
                known,
                "{method} {path} is a household route without an isolation test"
            );
        }
    }
}

/// The registry table of a list page.
fn list_of(page: &str) -> &str {
    let start = page.find("<table id=\"households\">").unwrap();
    let end = start + page[start..].find("</table>").unwrap();
    &page[start..end]
}

#[tokio::test]
async fn u2_town_reviewer_list_pages_omit_other_town() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.page_user("bachuan").await;
        let other = &app.tuqiao_village;
        let queries = [
            String::new(),
            format!("?q={}", other.head_name),
            format!("?q={}", other.external_id),
            format!("?q={}", other.head_id),
            format!("?q={}", &other.head_id[..10]),
            format!("?q={}", other.area),
            "?q=500151100".to_owned(),
            "?q=万槽村".to_owned(),
            "?q=赵".to_owned(),
        ];
        for query in &queries {
            let (status, page) = bachuan.get(&format!("/households{query}")).await;
            assert_eq!(status, StatusCode::OK, "{backend} /households{query}");
            // The search box echoes the query; the list below it must not show the household.
            let body = list_of(&page);
            for leak in [
                other.external_id,
                other.head_name,
                other.head_id.as_str(),
                "赵小花",
            ] {
                assert!(
                    !body.contains(leak),
                    "{backend}: /households{query} shows {leak}"
                );
            }
        }
        // The reviewer's own town is listed, so the page is not simply empty.
        let (_, page) = bachuan.get("/households").await;
        let body = list_of(&page);
        assert!(
            body.contains(app.bachuan_village.external_id)
                && body.contains(app.bachuan_community.external_id),
            "{backend}"
        );
        assert!(page.contains("共 2 条"), "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_api_search_omits_other_town() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.api_user("bachuan").await;
        let other = &app.tuqiao_village;
        for query in [
            "",
            other.head_name,
            other.external_id,
            other.head_id.as_str(),
            other.area,
            "500151100",
            "万槽村",
            "赵",
        ] {
            let (status, body) = bachuan.get(&format!("/api/v1/households?q={query}")).await;
            assert_eq!(status, StatusCode::OK, "{backend} q={query}");
            let text = body.to_string();
            assert!(
                !text.contains(other.external_id) && !text.contains(other.head_name),
                "{backend} q={query}: {text}"
            );
            assert!(
                body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|item| item["area_code"].as_str().unwrap().starts_with("500151001"))
            );
        }
        let (_, body) = bachuan.get("/api/v1/households").await;
        assert_eq!(body["total"], 2, "{backend}");
        // The other town's reviewer finds it by name.
        let tuqiao = app.api_user("tuqiao").await;
        let (_, body) = tuqiao
            .get(&format!("/api/v1/households?q={}", other.head_name))
            .await;
        assert_eq!(
            body["items"][0]["household_id"], other.external_id,
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_cannot_read_other_town_pages() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.page_user("bachuan").await;
        let other = app.tuqiao_village.id;
        for path in [
            format!("/households/{other}"),
            format!("/households/{other}?full=1"),
            format!("/households/{other}/edit"),
        ] {
            let (status, body) = bachuan.get(&path).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend} {path}: 404, not 403, so existence is not leaked"
            );
            assert!(
                body.contains("未找到该记录，或不在您的管辖范围内"),
                "{backend} {path}"
            );
            assert!(
                !body.contains(app.tuqiao_village.head_name),
                "{backend} {path}"
            );
        }
        // An id that does not exist answers the same.
        let (status, _) = bachuan.get("/households/999999").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        // The own town's household is readable, so the 404s above are about the area.
        let own = app.bachuan_village.id;
        for path in [
            format!("/households/{own}"),
            format!("/households/{own}?full=1"),
            format!("/households/{own}/edit"),
        ] {
            assert_eq!(
                bachuan.get(&path).await.0,
                StatusCode::OK,
                "{backend} {path}"
            );
        }
        // An out-of-area full view leaves no audit row about the household.
        let viewed = app
            .audit_of("household", app.tuqiao_village.external_id)
            .await;
        assert!(
            viewed
                .iter()
                .all(|entry| entry.event.action != "household.view_full"),
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_cannot_change_other_town_household_page() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.page_user("bachuan").await;
        let other = &app.tuqiao_village;
        let before = app.stored(other.id).await;
        for area in [other.area, app.bachuan_village.area] {
            let form = household_form(
                Some(&bachuan.csrf),
                1,
                other.external_id,
                area,
                &[(other.head_id.as_str(), "改过的名字", "head")],
            );
            let response = bachuan
                .post_form(&format!("/households/{}", other.id), &form)
                .await;
            assert_eq!(
                response.status(),
                StatusCode::NOT_FOUND,
                "{backend} area {area}"
            );
        }
        assert_eq!(
            app.stored(other.id).await,
            before,
            "{backend}: the record is unchanged"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_cannot_read_other_town_api() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.api_user("bachuan").await;
        let other = app.tuqiao_village.id;
        for path in [
            format!("/api/v1/households/{other}"),
            format!("/api/v1/households/{other}?full=true"),
        ] {
            let (status, body) = bachuan.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}");
            assert_eq!(body["code"], "not_found", "{backend} {path}");
            assert_eq!(
                body["message"], "未找到该记录，或不在您的管辖范围内",
                "{backend} {path}"
            );
        }
        let (status, _) = bachuan
            .get(&format!("/api/v1/households/{}", app.bachuan_village.id))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_cannot_change_other_town_household_api() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bachuan = app.api_user("bachuan").await;
        let other = &app.tuqiao_village;
        let before = app.stored(other.id).await;
        for area in [other.area, app.bachuan_village.area] {
            let body = household_json(
                other.external_id,
                area,
                &[(other.head_id.as_str(), "改过的名字", "head")],
            );
            let (status, answer) = bachuan
                .put(&format!("/api/v1/households/{}?version=1", other.id), &body)
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} area {area}");
            assert_eq!(answer["code"], "not_found", "{backend}");
        }
        assert_eq!(
            app.stored(other.id).await,
            before,
            "{backend}: the record is unchanged"
        );
        let audit = app.audit_of("household", other.external_id).await;
        assert_eq!(audit.len(), 1, "{backend}: only the import is audited");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_cannot_create_household_in_other_town() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let n_before = app.household_count().await;
        let head = crate::helpers::id_number("50022419700101001");

        let bachuan = app.page_user("bachuan").await;
        let form = household_form(
            Some(&bachuan.csrf),
            0,
            "BC-NEW-1",
            "500151100201",
            &[(head.as_str(), "孙新", "head")],
        );
        let response = bachuan.post_form("/households", &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains("所选村（社区）不在您的管辖范围内"),
            "{backend}: {page}"
        );

        let api = app.api_user("bachuan").await;
        let (status, body) = api
            .post(
                "/api/v1/households",
                &household_json(
                    "BC-NEW-2",
                    "500151100201",
                    &[(head.as_str(), "孙新", "head")],
                ),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(body["code"], "invalid_input", "{backend}");
        assert_eq!(body["fields"][0]["field"], "area_code", "{backend}");
        assert_eq!(
            body["fields"][0]["message"], "所选村（社区）不在您的管辖范围内",
            "{backend}"
        );

        assert_eq!(
            app.household_count().await,
            n_before,
            "{backend}: nothing was created"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_village_roles_cannot_read_other_village_of_their_town() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let community = app.bachuan_community.id;
        for username in ["cunshe", "wangge"] {
            let api = app.api_user(username).await;
            let (status, _) = api.get(&format!("/api/v1/households/{community}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {username}");
            let (_, list) = api.get("/api/v1/households").await;
            assert_eq!(
                list["total"], 1,
                "{backend} {username}: only their own village"
            );
            let page = app.page_user(username).await;
            assert_eq!(
                page.get(&format!("/households/{community}")).await.0,
                StatusCode::NOT_FOUND,
                "{backend} {username}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_department_and_admin_cannot_read_households() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let id = app.bachuan_village.id;
        for username in ["bumen", "admin"] {
            let api = app.api_user(username).await;
            for path in [
                "/api/v1/households".to_owned(),
                format!("/api/v1/households/{id}"),
                format!("/api/v1/households/{id}?full=true"),
            ] {
                let (status, body) = api.get(&path).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username} {path}");
                assert_eq!(body["code"], "forbidden", "{backend} {username} {path}");
            }
            let page = app.page_user(username).await;
            for path in [
                "/households".to_owned(),
                format!("/households/{id}"),
                format!("/households/{id}/edit"),
                "/households/new".to_owned(),
            ] {
                let (status, body) = page.get(&path).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username} {path}");
                assert!(
                    body.contains("您的角色无权进行此操作"),
                    "{backend} {username} {path}"
                );
                assert!(
                    !body.contains(app.bachuan_village.head_name),
                    "{backend} {username} {path}"
                );
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_auditor_reads_but_cannot_write() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let before = app.stored(household.id).await;
        let n_before = app.household_count().await;

        let api = app.api_user("shenji").await;
        assert_eq!(
            api.get("/api/v1/households").await.1["total"],
            3,
            "{backend}: the auditor reads the district"
        );
        assert_eq!(
            api.get(&format!("/api/v1/households/{}", household.id))
                .await
                .0,
            StatusCode::OK,
            "{backend}"
        );
        let body = household_json(
            household.external_id,
            household.area,
            &[(household.head_id.as_str(), "审计改名", "head")],
        );
        let (status, answer) = api
            .put(
                &format!("/api/v1/households/{}?version=1", household.id),
                &body,
            )
            .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{backend}"
        );
        let new_head = crate::helpers::id_number("50022419800101002");
        let (status, _) = api
            .post(
                "/api/v1/households",
                &household_json(
                    "SJ-1",
                    household.area,
                    &[(new_head.as_str(), "审计新建", "head")],
                ),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");

        let page = app.page_user("shenji").await;
        assert_eq!(
            page.get(&format!("/households/{}", household.id)).await.0,
            StatusCode::OK,
            "{backend}"
        );
        assert_eq!(
            page.get(&format!("/households/{}/edit", household.id))
                .await
                .0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        assert_eq!(
            page.get("/households/new").await.0,
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let form = household_form(
            Some(&page.csrf),
            1,
            household.external_id,
            household.area,
            &[(household.head_id.as_str(), "审计改名", "head")],
        );
        assert_eq!(
            page.post_form(&format!("/households/{}", household.id), &form)
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{backend}"
        );
        let form = household_form(
            Some(&page.csrf),
            0,
            "SJ-2",
            household.area,
            &[(new_head.as_str(), "审计新建", "head")],
        );
        assert_eq!(
            page.post_form("/households", &form).await.status(),
            StatusCode::FORBIDDEN,
            "{backend}"
        );

        assert_eq!(app.stored(household.id).await, before, "{backend}");
        assert_eq!(app.household_count().await, n_before, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_grid_worker_and_village_assistant_see_masked_lists() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        for username in ["wangge", "cunshe"] {
            let api = app.api_user(username).await;
            let (status, list) = api.get("/api/v1/households").await;
            assert_eq!(status, StatusCode::OK, "{backend} {username}");
            assert_eq!(list["masked"], true, "{backend} {username}");
            let item = &list["items"][0];
            assert_eq!(
                item["household_id"], household.external_id,
                "{backend} {username}"
            );
            assert_eq!(item["head_name"], "张*", "{backend} {username}");
            assert_eq!(
                item["head_id_number"], "500224********0011",
                "{backend} {username}"
            );
            // Searching by the full ID number still finds the household, masked.
            let (_, found) = api
                .get(&format!("/api/v1/households?q={}", household.head_id))
                .await;
            assert_eq!(
                found["items"][0]["head_id_number"], "500224********0011",
                "{backend} {username}"
            );

            let page = app.page_user(username).await;
            let (_, html) = page.get("/households").await;
            assert!(
                html.contains("张*") && html.contains("500224********0011"),
                "{backend} {username}"
            );
            assert!(
                !html.contains("张三") && !html.contains(&household.head_id),
                "{backend} {username}"
            );
            assert!(!html.contains("李秀英"), "{backend} {username}");
        }
        // The town reviewer sees the list unmasked.
        let reviewer = app.api_user("bachuan").await;
        let (_, list) = reviewer
            .get(&format!("/api/v1/households?q={}", household.external_id))
            .await;
        assert_eq!(
            (
                list["masked"].clone(),
                list["items"][0]["head_name"].clone()
            ),
            (json!(false), json!("张三")),
            "{backend}"
        );
        app.stop().await;
    }
}

fn view_full_rows(entries: &[store::audit::AuditEntry], actor_prefix: &str) -> usize {
    entries
        .iter()
        .filter(|entry| {
            entry.event.action == "household.view_full"
                && entry.event.actor.starts_with(actor_prefix)
        })
        .count()
}

#[tokio::test]
async fn u2_masked_detail_unless_full_and_full_view_is_audited() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let api = app.api_user("wangge").await;
        let path = format!("/api/v1/households/{}", household.id);

        let (status, detail) = api.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(detail["masked"], true, "{backend}");
        assert_eq!(
            detail["household"]["members"][0]["name"], "张*",
            "{backend}"
        );
        assert_eq!(
            detail["household"]["members"][0]["id_number"], "500224********0011",
            "{backend}"
        );
        assert_eq!(detail["memberships"][1]["name"], "李**", "{backend}");
        let text = detail.to_string();
        assert!(
            !text.contains(&household.head_id) && !text.contains("李秀英"),
            "{backend}: {text}"
        );
        assert_eq!(
            view_full_rows(
                &app.audit_of("household", household.external_id).await,
                "wangge#"
            ),
            0,
            "{backend}"
        );

        let (status, full) = api.get(&format!("{path}?full=true")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(full["masked"], false, "{backend}");
        assert_eq!(full["household"]["members"][0]["name"], "张三", "{backend}");
        assert_eq!(
            full["household"]["members"][0]["id_number"], household.head_id,
            "{backend}"
        );
        let audit = app.audit_of("household", household.external_id).await;
        assert_eq!(
            view_full_rows(&audit, "wangge#"),
            1,
            "{backend}: the full view is logged"
        );
        let row = audit.last().unwrap();
        assert_eq!(
            row.event.area_code.as_deref(),
            Some(household.area),
            "{backend}"
        );
        assert!(
            row.event.at.starts_with(crate::helpers::TODAY),
            "{backend}: {}",
            row.event.at
        );

        // The page: masked by default, full with ?full=1 (and logged once more).
        let page = app.page_user("wangge").await;
        let (_, html) = page.get(&format!("/households/{}", household.id)).await;
        assert!(
            html.contains("500224********0011") && !html.contains(&household.head_id),
            "{backend}"
        );
        assert!(html.contains("查看完整信息"), "{backend}");
        let (status, html) = page
            .get(&format!("/households/{}?full=1", household.id))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            html.contains(&household.head_id) && html.contains("李秀英"),
            "{backend}"
        );
        assert_eq!(
            view_full_rows(
                &app.audit_of("household", household.external_id).await,
                "wangge#"
            ),
            2,
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_unauthenticated_pages_redirect_to_login() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = app.anonymous();
        let id = app.bachuan_village.id;
        let gets = [
            "/".to_owned(),
            "/households".to_owned(),
            "/households/new".to_owned(),
            format!("/households/{id}"),
            format!("/households/{id}?full=1"),
            format!("/households/{id}/edit"),
        ];
        for path in &gets {
            let response = client.get(app.url(path)).send().await.unwrap();
            assert!(
                response.status().is_redirection(),
                "{backend} GET {path}: {}",
                response.status()
            );
            let location = response.headers()["location"].to_str().unwrap();
            // `/` goes to the registry first, which sends the anonymous visitor on to /login.
            assert!(
                location == "/login" || (path == "/" && location == "/households"),
                "{backend} GET {path} → {location}"
            );
        }
        let before = app.stored(id).await;
        let form = household_form(
            Some("whatever"),
            1,
            app.bachuan_village.external_id,
            app.bachuan_village.area,
            &[("500224194503120011", "匿名改名", "head")],
        );
        for path in [
            "/households".to_owned(),
            format!("/households/{id}"),
            "/logout".to_owned(),
        ] {
            let response = client
                .post(app.url(&path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::SEE_OTHER,
                "{backend} POST {path}"
            );
            assert_eq!(
                response.headers()["location"],
                "/login",
                "{backend} POST {path}"
            );
        }
        assert_eq!(app.stored(id).await, before, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_unauthenticated_api_answers_401() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let client = app.anonymous();
        let id = app.bachuan_village.id;
        let body = household_json(
            "ANON-1",
            app.bachuan_village.area,
            &[("500224194503120011", "匿名", "head")],
        );
        let requests = [
            client.get(app.url("/api/v1/households")),
            client.get(app.url("/api/v1/households?q=张")),
            client.get(app.url(&format!("/api/v1/households/{id}"))),
            client.post(app.url("/api/v1/households")).json(&body),
            client
                .put(app.url(&format!("/api/v1/households/{id}?version=1")))
                .json(&body),
            client.delete(app.url("/api/v1/session")),
            // A forged or stale session cookie is no better than none.
            client
                .get(app.url("/api/v1/households"))
                .header("Cookie", "sn_session=0123456789abcdef"),
        ];
        for request in requests {
            let (status, answer): (StatusCode, Value) =
                crate::helpers::json_of(request.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
            assert_eq!(answer["code"], "unauthenticated", "{backend}");
            assert_eq!(answer["message"], "请先登录", "{backend}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_registry_pages_cover_only_the_actor_area() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        for (username, n_households) in [
            ("bachuan", 2),
            ("tuqiao", 1),
            ("cunshe", 1),
            ("minzheng", 3),
        ] {
            let page = app.page_user(username).await;
            let (status, html) = page.get("/assessment").await;
            assert_eq!(status, StatusCode::OK, "{backend} {username}");
            assert!(
                html.contains(&format!("对辖区内 {n_households} 户逐户认定")),
                "{backend} {username}"
            );
            if username == "bachuan" {
                assert!(
                    !html.contains("500151100") && !html.contains("土桥镇"),
                    "{backend}: another town's row"
                );
            }
        }
        for username in ["bumen", "admin"] {
            let page = app.page_user(username).await;
            assert_eq!(
                page.get("/assessment").await.0,
                StatusCode::FORBIDDEN,
                "{backend} {username}"
            );
        }
        // The what-if over the registry is for district approvers and auditors only.
        for username in ["bachuan", "cunshe", "wangge", "bumen", "admin"] {
            let page = app.page_user(username).await;
            assert_eq!(
                page.get("/simulation").await.0,
                StatusCode::FORBIDDEN,
                "{backend} {username}"
            );
        }
        for username in ["minzheng", "shenji"] {
            let page = app.page_user(username).await;
            assert_eq!(
                page.get("/simulation").await.0,
                StatusCode::OK,
                "{backend} {username}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_town_reviewer_cannot_read_or_act_on_other_town_case() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let tuqiao = app.api_user("tuqiao").await;
        let other = &app.tuqiao_village;
        let (status, body) = tuqiao
            .post(
                "/api/v1/cases",
                &json!({
                    "kind": "application", "channel": "town_window", "household_id": other.external_id,
                    "area_code": other.area, "applicant": other.head_name,
                    "consent": {"signer": other.head_name, "signed_on": "2026-11-28"},
                    "summary": "因病致贫",
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let id = body["id"].as_i64().unwrap();
        let tracking = body["tracking_number"].as_str().unwrap().to_owned();
        // The owner sees it, so the 404s below are about the area, not a missing case.
        let (status, _) = tuqiao.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");

        let bachuan = app.api_user("bachuan").await;
        for path in [
            format!("/api/v1/cases/{id}"),
            format!("/api/v1/cases/{id}/team-candidates"),
        ] {
            let (status, body) = bachuan.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{backend} GET {path}");
            assert!(!body.to_string().contains(other.head_name), "{backend}");
        }
        let (status, _) = bachuan
            .post(
                &format!("/api/v1/cases/{id}/actions"),
                &json!({"action": "begin_comparison"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (_, list) = bachuan.get("/api/v1/cases").await;
        assert!(!list.to_string().contains(&tracking), "{backend}: {list}");
        // Nor can a case be opened on the other town's household.
        let (status, _) = bachuan
            .post(
                "/api/v1/cases",
                &json!({
                    "kind": "exit", "channel": "town_window", "household_id": other.external_id,
                    "area_code": other.area, "applicant": other.head_name,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");

        let pages = app.page_user("bachuan").await;
        for suffix in ["", "/print/survey", "/print/notice", "/print/refusal"] {
            let (status, page) = pages.get(&format!("/cases/{id}{suffix}")).await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{backend} /cases/{id}{suffix}"
            );
            assert!(!page.contains(other.head_name), "{backend}");
        }
        // Nor the 村级公示 of the other town's village.
        let (status, _) = pages
            .get(&format!("/villages/{}/print/notice", other.area))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let response = pages
            .post_form(
                &format!("/cases/{id}/actions"),
                &[
                    ("csrf".to_owned(), pages.csrf.clone()),
                    ("action".to_owned(), "begin_comparison".to_owned()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{backend}");
        let response = pages
            .post_form(
                "/cases/recheck",
                &[
                    ("csrf".to_owned(), pages.csrf.clone()),
                    ("household_id".to_owned(), other.external_id.to_owned()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{backend}");
        let (status, page) = pages.get("/cases").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(!page.contains(&tracking), "{backend}");
        // The case did not move.
        let (_, body) = tuqiao.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(body["step"], "received", "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u2_reports_and_dashboard_cover_only_the_actor_area() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The town reviewer: their town by village, never the other town.
        let bachuan = app.page_user("bachuan").await;
        for path in REPORT_ROUTES {
            let (status, body) = bachuan.get(path).await;
            assert_eq!(status, StatusCode::OK, "{backend} {path}");
            assert!(
                !body.contains("土桥镇") && !body.contains("500151100"),
                "{backend} {path}"
            );
            for query in [
                "?area=500151100",
                "?area=500151",
                "?area=500151100200&period=2026H2",
            ] {
                let (status, _) = bachuan.get(&format!("{path}{query}")).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{backend} {path}{query}");
            }
        }
        let (_, page) = bachuan.get("/reports").await;
        assert!(
            page.contains("巴川街道 2026年下半年低收入人口救助帮扶工作情况"),
            "{backend}"
        );
        assert!(
            page.contains("永院村") && page.contains("东阳社区"),
            "{backend}: by village"
        );
        let (_, page) = bachuan.get("/dashboard").await;
        assert!(
            page.contains(r#"<b id="kpi-households">2</b>"#),
            "{backend}"
        );
        // A district user: every town; may pick one.
        let minzheng = app.page_user("minzheng").await;
        let (_, page) = minzheng.get("/reports?period=2026H2&area=500151").await;
        assert!(
            page.contains("巴川街道") && page.contains("土桥镇"),
            "{backend}"
        );
        let (_, page) = minzheng.get("/dashboard").await;
        assert!(
            page.contains(r#"<b id="kpi-households">3</b>"#),
            "{backend}"
        );
        assert!(
            page.contains(r#"href="/dashboard?area=500151100""#),
            "{backend}: drill-down"
        );
        let (status, _) = minzheng.get("/dashboard?area=500151100200").await;
        assert_eq!(status, StatusCode::OK, "{backend}: down to a village");
        // Village, grid, department and administrator users make no report.
        for username in ["cunshe", "wangge", "bumen", "admin"] {
            let user = app.page_user(username).await;
            for path in REPORT_ROUTES {
                assert_eq!(
                    user.get(path).await.0,
                    StatusCode::FORBIDDEN,
                    "{backend} {username} {path}"
                );
            }
        }
        // Without a session: to the login page.
        let client = app.anonymous();
        for path in REPORT_ROUTES {
            let response = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.headers()["location"], "/login", "{backend} {path}");
        }
        // The vendored chart library is served from the binary with a long cache.
        let response = client
            .get(app.url("/static/vendor/echarts.min.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        assert!(response.bytes().await.unwrap().len() > 500_000);
        app.stop().await;
    }
}

/// The navigation offers only pages the role may open: every link a user sees answers 200
/// (用户管理 for the administrator alone).
#[tokio::test]
async fn u2_navigation_links_only_what_the_role_opens() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin_hidden = [
        "/households\"",
        "/cases\"",
        "/assessment\"",
        "/referrals\"",
        "/reports\"",
        "/warnings\"",
        "/feeds\"",
    ];
    for (username, start, hidden, shown) in [
        (
            "bumen",
            "/cases",
            &["/households\"", "/assessment\"", "/admin/users\""][..],
            &[][..],
        ),
        ("bachuan", "/cases", &["/admin/users\""][..], &[][..]),
        (
            "wangge",
            "/cases",
            &["/simulation\"", "/feeds\"", "/admin/users\""][..],
            &[][..],
        ),
        ("shenji", "/cases", &["/admin/users\""][..], &[][..]),
        ("minzheng", "/cases", &["/admin/users\""][..], &[][..]),
        (
            "admin",
            "/admin/users",
            &admin_hidden[..],
            &["/admin/users\">用户管理"][..],
        ),
    ] {
        let user = app.page_user(username).await;
        let (_, page) = user.get(start).await;
        let nav = &page[page.find("<nav>").unwrap()..page.find("</nav>").unwrap()];
        for link in hidden {
            assert!(!nav.contains(link), "{username} sees {link}: {nav}");
        }
        // 政策参数 is read by every role.
        assert!(
            nav.contains("<a href=\"/policy\">政策参数</a>"),
            "{username}: {nav}"
        );
        for link in shown {
            assert!(nav.contains(link), "{username} misses {link}: {nav}");
        }
        // The brand link leads to the role's start page, which opens too.
        let brand = "class=\"brand\" href=\"";
        let brand = &page[page.find(brand).unwrap() + brand.len()..];
        let links = std::iter::once(brand).chain(nav.split("href=\"").skip(1));
        for href in links {
            let path = &href[..href.find('"').unwrap()];
            let (status, _) = user.get(path).await;
            assert_eq!(status, StatusCode::OK, "{username}: {path}");
        }
        // `/` sends each role to its start page, the brand link's.
        let root = user.client.get(app.url("/")).send().await.unwrap();
        assert_eq!(
            root.headers()["location"].to_str().unwrap(),
            &brand[..brand.find('"').unwrap()],
            "{username}: /"
        );
    }
    app.stop().await;
}

/// Issue 16, least privilege: a case holds the survey (income, property, health) and the
/// rules engine's explanation; the administrator and a department user read none of it — not
/// the case page, the survey printout, the refusal notice or the case API — while the town
/// reviewer and the auditor do.
#[tokio::test]
async fn u2_admin_and_department_read_no_case_with_income_or_health() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let village = app.api_user("cunshe").await;
        let (status, body) = village
            .post(
                "/api/v1/cases",
                &json!({
                    "kind": "application", "channel": "village_window",
                    "household_id": app.bachuan_village.external_id,
                    "area_code": app.bachuan_village.area, "applicant": "韩一",
                    "consent": {"signer": "韩一", "signed_on": "2026-01-10"},
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let id = body["id"].as_i64().unwrap();
        for username in ["bumen", "admin"] {
            let page = app.page_user(username).await;
            for path in [
                format!("/cases/{id}"),
                format!("/cases/{id}/print/survey"),
                format!("/cases/{id}/print/refusal"),
            ] {
                assert_eq!(
                    page.get(&path).await.0,
                    StatusCode::FORBIDDEN,
                    "{backend} {username} {path}"
                );
            }
            let api = app.api_user(username).await;
            assert_eq!(
                api.get(&format!("/api/v1/cases/{id}")).await.0,
                StatusCode::FORBIDDEN,
                "{backend} {username}"
            );
        }
        for username in ["bachuan", "shenji", "cunshe"] {
            let page = app.page_user(username).await;
            assert_eq!(
                page.get(&format!("/cases/{id}")).await.0,
                StatusCode::OK,
                "{backend} {username}"
            );
        }
        app.stop().await;
    }
}
