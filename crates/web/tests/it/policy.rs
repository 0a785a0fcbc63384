//! 政策参数 (rules are data): a dated value added in the product applies from its date, leaves
//! decisions on earlier dates as they were, is audited, and reaches every process on the
//! store after `refresh_policy`.

use crate::helpers::{TestApp, backends};
use app::{App, AppSettings};
use reqwest::StatusCode;
use serde_json::json;

/// The explanation table of a household's page on `as_of`.
async fn explanation(user: &crate::helpers::PageUser, id: i64, as_of: &str) -> String {
    let (status, page) = user.get(&format!("/households/{id}?as_of={as_of}")).await;
    assert_eq!(status, StatusCode::OK, "{as_of}");
    let start = page.find("id=\"explanation\"").unwrap();
    let end = start + page[start..].find("</table>").unwrap();
    page[start..end].to_owned()
}

fn form(csrf: &str, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs = vec![("csrf".to_owned(), csrf.to_owned())];
    pairs.extend(
        fields
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    pairs
}

/// The section of one parameter on the 政策参数 page.
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page.find(&format!("id=\"p-{name}\"")).unwrap();
    let end = start + page[start..].find("</section>").unwrap();
    &page[start..end]
}

/// District civil affairs adds 660 yuan from 2026-07-01 (渝民规〔2026〕3号) to the rural dibao
/// standard on the 政策参数 page.
async fn rural_standard_added(minzheng: &crate::helpers::PageUser) {
    // The value is added.
    let response = minzheng
        .post_form(
            "/policy/dibao.standard.rural/values",
            &form(
                &minzheng.csrf,
                &[
                    ("since", "2026-07-01"),
                    ("value", " 660 "),
                    ("source", "渝民规〔2026〕3号"),
                    ("status", "confirmed"),
                    ("note", "2026年度标准"),
                ],
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/policy#p-dibao.standard.rural"
    );
}

/// Before any value is added 2026 decisions cite the 2025 standard; the 政策参数 page lists
/// every parameter with its value in force and history, a provisional one without a value
/// marked as still to be supplied.
#[tokio::test]
async fn the_policy_page_lists_every_parameter_with_its_value_in_force() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.page_user("minzheng").await;
        let household = app.bachuan_village.id;
        // Before: 2026 decisions cite the 2025 standard.
        let before = explanation(&minzheng, household, "2026-07-02").await;
        assert!(
            before.contains("农村低保标准 630 元（渝民规〔2025〕6号，2025-07-01 起）"),
            "{backend}: {before}"
        );

        // The page lists every parameter with its value in force and history.
        let (status, page) = minzheng.get("/policy").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(page.contains("<h2 id=\"g-1\">低保标准与特困基本生活标准</h2>"));
        let rural = section(&page, "dibao.standard.rural");
        assert!(rural.contains("农村低保标准"), "{rural}");
        assert!(rural.contains("元/人·月"), "{rural}");
        assert!(
            rural.contains("<b>630 元/人·月</b>（已确认；渝民规〔2025〕6号；2025-07-01 起）"),
            "{rural}"
        );
        assert!(rural.contains("内置"), "{rural}");
        assert!(
            rural.contains("action=\"/policy/dibao.standard.rural/values#p-dibao.standard.rural\"")
        );
        // A provisional parameter without any value is marked as still to be supplied.
        assert!(page.contains("待补充"), "{backend}");
        app.stop().await;
    }
}

/// A value the unit does not take, or without its 文号, is refused beside the form, the input
/// kept; without the session's CSRF token nothing is written.
#[tokio::test]
async fn a_value_the_unit_does_not_take_is_refused_beside_the_form_and_nothing_is_written() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.page_user("minzheng").await;
        // A value the unit does not take is refused beside the form, naming 数值, input kept.
        let response = minzheng
            .post_form(
                "/policy/dibao.standard.rural/values",
                &form(
                    &minzheng.csrf,
                    &[
                        ("since", "2026-07-01"),
                        ("value", "六百六十"),
                        ("source", "渝民规〔2026〕3号"),
                        ("status", "confirmed"),
                        ("note", ""),
                    ],
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = response.text().await.unwrap();
        let rural = section(&page, "dibao.standard.rural");
        assert!(rural.contains("数值“六百六十”无效"), "{backend}: {rural}");
        assert!(
            rural.contains("<details class=\"add-value\" open>"),
            "{rural}"
        );
        assert!(
            rural.contains("value=\"六百六十\" class=\"invalid\""),
            "{rural}"
        );
        assert!(rural.contains("value=\"渝民规〔2026〕3号\""), "{rural}");
        // A missing 文号 is refused too.
        let response = minzheng
            .post_form(
                "/policy/dibao.standard.rural/values",
                &form(
                    &minzheng.csrf,
                    &[
                        ("since", "2026-07-01"),
                        ("value", "660"),
                        ("source", " "),
                        ("status", "confirmed"),
                    ],
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("请填写来源（文号）")
        );
        // Without the session's CSRF token nothing is written.
        let response = minzheng
            .post_form(
                "/policy/dibao.standard.rural/values",
                &form(
                    "forged",
                    &[
                        ("since", "2026-07-01"),
                        ("value", "660"),
                        ("source", "渝民规〔2026〕3号"),
                        ("status", "confirmed"),
                    ],
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(
            app.audit_of("policy_parameter", "dibao.standard.rural")
                .await
                .is_empty()
        );
        app.stop().await;
    }
}

/// An added value applies from its date only: a decision after it cites the new value and
/// its 文号, before it the old one; the page shows it in force, by whom and when; one audit
/// event.
#[tokio::test]
async fn district_civil_affairs_adds_a_dated_value_that_applies_from_its_date_only() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.page_user("minzheng").await;
        let household = app.bachuan_village.id;
        rural_standard_added(&minzheng).await;
        // A decision after the date cites the new value and its 文号; before it, the old one.
        let after = explanation(&minzheng, household, "2026-07-02").await;
        assert!(
            after.contains("农村低保标准 660 元（渝民规〔2026〕3号，2026-07-01 起）"),
            "{backend}: {after}"
        );
        let replay = explanation(&minzheng, household, "2026-06-30").await;
        assert!(
            replay.contains("农村低保标准 630 元（渝民规〔2025〕6号，2025-07-01 起）"),
            "{backend}: {replay}"
        );
        assert!(!replay.contains("渝民规〔2026〕3号"), "{backend}");

        // The page shows it in force today (2026-11-28), added by whom and when.
        let (_, page) = minzheng.get("/policy").await;
        let rural = section(&page, "dibao.standard.rural");
        assert!(
            rural.contains("<b>660 元/人·月</b>（已确认；渝民规〔2026〕3号；2026-07-01 起）"),
            "{rural}"
        );
        assert!(
            rural.contains("平台添加：minzheng，2026-11-28 10:00"),
            "{rural}"
        );
        assert!(rural.contains("2026年度标准"), "{rural}");

        // One audit event, with the value as entered (trimmed) and who added it.
        let audit = app
            .audit_of("policy_parameter", "dibao.standard.rural")
            .await;
        assert_eq!(audit.len(), 1, "{backend}");
        assert_eq!(audit[0].event.action, "policy_value.add");
        assert!(
            audit[0].event.actor.starts_with("minzheng#"),
            "{}",
            audit[0].event.actor
        );
        let after_json: serde_json::Value =
            serde_json::from_str(audit[0].event.after.as_deref().unwrap()).unwrap();
        assert_eq!(after_json["value"], "660");
        assert_eq!(after_json["since"], "2026-07-01");
        assert_eq!(after_json["source"], "渝民规〔2026〕3号");
        assert!(audit[0].event.before.is_none());
        app.stop().await;
    }
}

/// A second process on the same store sees the value once it refreshes its catalogue.
#[tokio::test]
async fn another_process_sees_an_added_value_once_it_refreshes() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.page_user("minzheng").await;
        let household = app.bachuan_village.id;
        rural_standard_added(&minzheng).await;
        // A second process on the same store sees the value once it refreshes.
        let other = App::new(
            app.app.store().clone(),
            app.clock.clone(),
            AppSettings::default(),
        );
        let console = app::Actor::console("test", domain::PlaceCode::parse("500151").unwrap());
        let detail = other
            .household_detail(&console, household, false)
            .await
            .unwrap();
        let cited_source = |process: &App| {
            let assessment = process
                .assess_household(
                    &detail.household,
                    &detail.incomes,
                    chrono::NaiveDate::from_ymd_opt(2026, 7, 2).unwrap(),
                    |_| String::new(),
                )
                .unwrap();
            assessment
                .reasons
                .iter()
                .flat_map(|reason| &reason.params)
                .find(|param| param.name == "dibao.standard.rural")
                .map(|param| (param.value.clone(), param.source.clone()))
                .unwrap()
        };
        assert_eq!(
            cited_source(&other),
            ("630".to_owned(), "渝民规〔2025〕6号".to_owned()),
            "{backend}: not refreshed yet"
        );
        other.refresh_policy().await.unwrap();
        assert_eq!(
            cited_source(&other),
            ("660".to_owned(), "渝民规〔2026〕3号".to_owned()),
            "{backend}"
        );
        app.stop().await;
    }
}

/// Town, village, grid and the other district roles read the parameters and may not add a
/// value, nor an administrator of a town, nor a town reviewer's form post: nothing written.
#[tokio::test]
async fn only_the_owner_and_the_administrator_add_values_and_everyone_reads_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "since": "2026-07-01", "value": 660, "source": "渝民规〔2026〕3号", "status": "confirmed",
        });
        let path = "/api/v1/policy/parameters/dibao.standard.rural/values";

        // Town, village, grid, the other district roles: they read, they may not add.
        for username in ["bachuan", "cunshe", "wangge", "bumen", "shenji"] {
            let user = app.api_user(username).await;
            let (status, list) = user.get("/api/v1/policy/parameters").await;
            assert_eq!(status, StatusCode::OK, "{backend} {username}");
            assert_eq!(list["can_add"], false, "{backend} {username}");
            let (status, error) = user.post(path, &body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend} {username}");
            assert_eq!(error["code"], "forbidden");
            let page = app.page_user(username).await;
            let (status, html) = page.get("/policy").await;
            assert_eq!(status, StatusCode::OK, "{backend} {username}");
            assert!(html.contains("农村低保标准"));
            assert!(!html.contains("添加取值"), "{backend} {username}");
        }
        // An administrator of a town is not at district level: refused too.
        app.app
            .create_user(
                app::users::Creator::Console("test"),
                app::users::NewUser {
                    username: "bc-admin",
                    display_name: "巴川管理员",
                    role: domain::Role::Admin,
                    area: &domain::PlaceCode::parse("500151001").unwrap(),
                    password: crate::helpers::PASSWORD,
                },
            )
            .await
            .unwrap();
        let (status, _) = app.api_user("bc-admin").await.post(path, &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}: town admin");
        // A town reviewer's form post is refused as well.
        let town = app.page_user("bachuan").await;
        let response = town
            .post_form(
                "/policy/dibao.standard.rural/values",
                &form(
                    &town.csrf,
                    &[
                        ("since", "2026-07-01"),
                        ("value", "660"),
                        ("source", "渝民规〔2026〕3号"),
                        ("status", "confirmed"),
                    ],
                ),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend}");
        assert!(
            app.audit_of("policy_parameter", "dibao.standard.rural")
                .await
                .is_empty()
        );
        app.stop().await;
    }
}

/// The district administrator adds a value through the API; a value the unit does not take,
/// a day that is none or an unknown parameter are refused, naming the field.
#[tokio::test]
async fn the_administrator_adds_a_value_through_the_api_each_error_naming_its_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "since": "2026-07-01", "value": 660, "source": "渝民规〔2026〕3号", "status": "confirmed",
        });
        let path = "/api/v1/policy/parameters/dibao.standard.rural/values";

        // The administrator adds through the API; errors name the field.
        let admin = app.api_user("admin").await;
        let (status, error) = admin
            .post(
                path,
                &json!({ "since": "2026-07-01", "value": "660.001", "source": "文号" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(error["fields"][0]["field"], "value");
        assert!(
            error["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("数值“660.001”无效"),
            "{error}"
        );
        let (status, error) = admin
            .post(
                path,
                &json!({ "since": "2026-02-30", "value": 660, "source": "文号" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error["fields"][0]["field"], "since");
        let (status, _) = admin
            .post(
                "/api/v1/policy/parameters/dibao.standard.moon/values",
                &body,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, parameter) = admin.post(path, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {parameter}");
        assert_eq!(parameter["in_force"]["value"], "660");
        assert_eq!(parameter["in_force"]["origin"], "added");
        assert_eq!(parameter["in_force"]["added_by"], "admin");
        app.stop().await;
    }
}

/// A correction at the same date replaces the value, the first kept in the history and named
/// by the audit; everyone reads the same values, provisional ones without a value marked so.
#[tokio::test]
async fn a_correction_at_the_same_date_replaces_the_value_and_everyone_reads_it() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let body = json!({
            "since": "2026-07-01", "value": 660, "source": "渝民规〔2026〕3号", "status": "confirmed",
        });
        let path = "/api/v1/policy/parameters/dibao.standard.rural/values";
        let admin = app.api_user("admin").await;
        let (status, parameter) = admin.post(path, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {parameter}");
        // A correction at the same date replaces it; the first stays in the history.
        let (status, parameter) = admin
            .post(
                path,
                &json!({
                    "since": "2026-07-01", "value": "665", "source": "渝民规〔2026〕3号（更正）",
                    "status": "secondary", "note": "更正录入错误",
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}");
        assert_eq!(parameter["in_force"]["value"], "665");
        assert_eq!(parameter["in_force"]["status"], "secondary");
        let history: Vec<(String, bool, String)> = parameter["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| {
                (
                    value["value"].as_str().unwrap().to_owned(),
                    value["in_effect"].as_bool().unwrap(),
                    value["origin"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            history[..3],
            [
                ("665".to_owned(), true, "added".to_owned()),
                ("660".to_owned(), false, "added".to_owned()),
                ("630".to_owned(), true, "builtin".to_owned()),
            ],
            "{backend}"
        );
        let audit = app
            .audit_of("policy_parameter", "dibao.standard.rural")
            .await;
        assert_eq!(audit.len(), 2, "{backend}");
        let before: serde_json::Value =
            serde_json::from_str(audit[1].event.before.as_deref().unwrap()).unwrap();
        assert_eq!(
            before["value"], "660",
            "the correction names what it replaced"
        );

        // Everyone reads the same values, provisional ones without a value marked so.
        let (_, list) = app
            .api_user("cunshe")
            .await
            .get("/api/v1/policy/parameters")
            .await;
        let parameters = list["parameters"].as_array().unwrap();
        let rural = parameters
            .iter()
            .find(|parameter| parameter["name"] == "dibao.standard.rural")
            .unwrap();
        assert_eq!(rural["in_force"]["value"], "665");
        assert_eq!(rural["unit"], "yuan/person/month");
        assert!(
            parameters
                .iter()
                .any(|parameter| parameter["in_force"].is_null()
                    && parameter["history"].as_array().unwrap().is_empty()
                    && parameter["status"] == "provisional")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn agriculture_enters_the_monitoring_parameters_and_civil_affairs_the_social_assistance_ones()
{
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let line = json!({
            "since": "2026-01-01", "value": 8000, "source": "渝农发〔2026〕1号", "status": "confirmed",
        });
        let standard = json!({
            "since": "2026-07-01", "value": 660, "source": "渝民规〔2026〕3号", "status": "confirmed",
        });
        let monitoring = "/api/v1/policy/parameters/monitoring.income_line/values";
        let dibao = "/api/v1/policy/parameters/dibao.standard.rural/values";
        let nongye = app.api_user("nongye").await;
        let minzheng = app.api_user("minzheng").await;

        // The list says who owns each parameter and which the caller may add to.
        let (status, list) = nongye.get("/api/v1/policy/parameters").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(list["can_add"], true, "{backend}");
        let of = |list: &serde_json::Value, name: &str| {
            list["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|parameter| parameter["name"] == name)
                .cloned()
                .unwrap()
        };
        let line_param = of(&list, "monitoring.income_line");
        assert_eq!(line_param["owner"], "district_agriculture");
        assert_eq!(line_param["owner_label"], "区农业农村委");
        assert_eq!(line_param["can_add"], true);
        let rural = of(&list, "dibao.standard.rural");
        assert_eq!(rural["owner"], "district_civil_affairs");
        assert_eq!(rural["can_add"], false);
        let (_, list) = minzheng.get("/api/v1/policy/parameters").await;
        assert_eq!(of(&list, "monitoring.income_line")["can_add"], false);
        assert_eq!(of(&list, "dibao.standard.rural")["can_add"], true);

        // Civil affairs may not set the monitoring line; agriculture may not set 低保标准.
        let (status, error) = minzheng.post(monitoring, &line).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        assert_eq!(error["code"], "forbidden");
        let (status, _) = nongye.post(dibao, &standard).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        assert!(
            app.audit_of("policy_parameter", "dibao.standard.rural")
                .await
                .is_empty()
        );

        // Each sets its own: agriculture the monitoring line, civil affairs the standard.
        let (status, added) = nongye.post(monitoring, &line).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {added}");
        assert_eq!(added["in_force"]["value"], "8000", "{added}");
        let (status, _) = minzheng.post(dibao, &standard).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}");
        assert_eq!(
            app.audit_of("policy_parameter", "monitoring.income_line")
                .await
                .len(),
            1
        );

        // The page shows the owner, and a form only where the user owns the parameter.
        let page = app.page_user("nongye").await;
        let (status, html) = page.get("/policy").await;
        assert_eq!(status, StatusCode::OK);
        let line_section = section(&html, "monitoring.income_line");
        assert!(
            line_section.contains("归口：区农业农村委"),
            "{line_section}"
        );
        assert!(line_section.contains("添加取值"), "{line_section}");
        let rural_section = section(&html, "dibao.standard.rural");
        assert!(rural_section.contains("归口：区民政局"), "{rural_section}");
        assert!(!rural_section.contains("添加取值"), "{rural_section}");
        app.stop().await;
    }
}

/// The go-live checklist (上线检查) of the shipped catalogue: exactly the parameters without a
/// value, what each blocks, the registry's pending households once counted (the same number
/// 重新认定 counts), shown on the district dashboard until every parameter has a value.
#[tokio::test]
async fn go_live_checklist_lists_exactly_the_parameters_without_value_and_their_pending_households()
{
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let district = domain::PlaceCode::parse("500151").unwrap();
        let without_value = [
            "rigid.disposable_income.rural",
            "rigid.disposable_income.urban",
            "monitoring.income_line",
            "property.financial_assets_months",
            "property.vehicle_value_limit",
            "property.extra_houses_limit",
            "property.business_allowed",
            "comparison.medical_large_yuan",
            "comparison.income_tolerance",
        ];
        let nongye = app.page_user("nongye").await;
        let (status, html) = nongye.get("/policy").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let start = html.find("id=\"golive\"").unwrap();
        let checklist = &html[start..start + html[start..].find("</section>").unwrap()];
        assert!(checklist.contains("9 个参数"), "{backend}: {checklist}");
        for name in without_value {
            assert!(
                checklist.contains(&format!("href=\"#p-{name}\"")),
                "{backend}: {name}"
            );
        }
        assert_eq!(
            checklist.matches("<tr><td><a href=").count(),
            9,
            "{checklist}"
        );
        assert!(checklist.contains("防止返贫监测：风险与收入（三类监测对象）"));
        assert!(checklist.contains("区农业农村委"));

        // Counted once over the registry; the page reads the kept counts.
        app.app.count_go_live(&district).await.unwrap();
        let checklist_view = app
            .app
            .go_live(&app::Actor::console("test", district.clone()))
            .await
            .unwrap();
        let registry = app
            .app
            .assess_registry(
                &app::Actor::console("test", district.clone()),
                app.app.today(),
            )
            .await
            .unwrap();
        assert_eq!(
            checklist_view.pending_households,
            Some(registry.total.pending),
            "{backend}"
        );
        assert!(!checklist_view.recounting);
        let (_, html) = nongye.get("/policy").await;
        assert!(html.contains("户数统计截至"), "{backend}");

        // The district dashboard shows the count until zero.
        let minzheng = app.page_user("minzheng").await;
        let (status, dashboard) = minzheng.get("/dashboard").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert!(
            dashboard.contains("上线检查：9 个政策参数尚无现行取值"),
            "{backend}"
        );

        // Agriculture enters the monitoring line: it leaves the checklist, and the counts
        // kept are of the earlier catalogue (recounted).
        let (status, _) = app
            .api_user("nongye")
            .await
            .post(
                "/api/v1/policy/parameters/monitoring.income_line/values",
                &json!({ "since": "2026-01-01", "value": 8000, "source": "渝农发〔2026〕1号" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}");
        let after = app
            .app
            .go_live(&app::Actor::console("test", district.clone()))
            .await
            .unwrap();
        assert_eq!(after.items.len(), 8, "{backend}");
        assert!(
            after
                .items
                .iter()
                .all(|item| item.param.name() != "monitoring.income_line")
        );
        app.stop().await;
    }
}
