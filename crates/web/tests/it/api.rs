//! The JSON API: create and read in the interchange format, Chinese field errors, and an
//! OpenAPI document that lists every API route of the router.

use crate::access::router_routes;
use crate::helpers::{TestApp, backends, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every route under /api (and /healthz), with its methods: the document must describe them.
/// The document itself (`GET /api/openapi.json`) is the one route it need not describe.
const API_ROUTES: [(&str, &[&str]); 26] = [
    ("/healthz", &["get"]),
    ("/api/v1/assistance/items", &["get"]),
    ("/api/v1/proposals/{household_id}", &["get"]),
    ("/api/v1/referrals", &["get", "post"]),
    ("/api/v1/referrals/{id}", &["get"]),
    ("/api/v1/referrals/{id}/actions", &["post"]),
    ("/api/v1/session", &["post", "delete"]),
    ("/api/v1/households", &["get", "post"]),
    ("/api/v1/households/{id}", &["get", "put"]),
    ("/api/v1/cases", &["get", "post"]),
    ("/api/v1/cases/{id}", &["get"]),
    ("/api/v1/cases/{id}/actions", &["post"]),
    ("/api/v1/cases/{id}/team-candidates", &["get"]),
    ("/api/v1/feeds", &["post"]),
    ("/api/v1/warnings", &["get"]),
    ("/api/v1/monitoring/candidates", &["get"]),
    ("/api/v1/users", &["get", "post"]),
    ("/api/v1/policy/parameters", &["get"]),
    ("/api/v1/policy/parameters/{name}/values", &["post"]),
    ("/api/v1/disclosure/{area}", &["get"]),
    ("/api/v1/audit", &["get"]),
    ("/api/v1/calendar", &["get", "post"]),
    ("/api/v1/roster", &["get"]),
    ("/api/v1/cases/{id}/documents", &["get", "post"]),
    ("/api/v1/households/{id}/documents", &["get", "post"]),
    ("/api/v1/documents/{id}", &["get"]),
];

fn full_record(external_id: &str, head: &str, spouse: &str) -> Value {
    json!({
        "id": external_id,
        "area_code": "500151001200",
        "hukou": "rural",
        "lifted_from_poverty": true,
        "members": [
            { "id_number": head, "name": "吴大河", "relation": "head", "labour_capacity": "partial",
              "disability": { "kind": "physical", "grade": 2 }, "serious_illness": true, "care_need": "partial",
              "supporters": [{ "relation": "child", "able": false }] },
            { "id_number": spouse, "name": "郑小梅", "relation": "spouse", "income_12m": 3600.5 }
        ],
        "income_12m": { "wages": 12000, "transfer": 2400.75, "excluded": 500 },
        "property": { "financial_assets": 8000, "vehicles": [{ "kind": "motorcycle", "value": 2000 }], "extra_houses": 0 },
        "rigid_expenditure_12m": { "medical": 15000 },
        "guarantees": { "housing": false },
        "risks": ["illness", "disability"],
        "months_above_monitoring_line": 0
    })
}

#[tokio::test]
async fn d1_api_creates_household_from_interchange_json() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.api_user("bachuan").await;
        let head = id_number("50022419550505006");
        let spouse = id_number("50022419570707008");
        let record = full_record("API-0001", &head, &spouse);
        let (status, created) = api.post("/api/v1/households", &record).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {created}");
        let id = created["id"].as_i64().unwrap();

        let (status, detail) = api.get(&format!("/api/v1/households/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(detail["version"], 1, "{backend}");
        assert_eq!(detail["place_name"], "铜梁区 巴川街道 永院村", "{backend}");
        // What comes back is the record that went in (defaults filled in).
        let stored = &detail["household"];
        for key in [
            "id",
            "area_code",
            "hukou",
            "lifted_from_poverty",
            "risks",
            "months_above_monitoring_line",
        ] {
            assert_eq!(stored[key], record[key], "{backend} {key}");
        }
        assert_eq!(
            stored["members"][0]["disability"],
            json!({ "kind": "physical", "grade": 2 }),
            "{backend}"
        );
        assert_eq!(stored["members"][1]["income_12m"], 3600.5, "{backend}");
        assert_eq!(
            stored["members"][1]["labour_capacity"], "full",
            "{backend}: the spec's default"
        );
        assert_eq!(stored["income_12m"]["transfer"], 2400.75, "{backend}");
        assert_eq!(
            stored["guarantees"],
            json!({ "education": true, "medical": true, "housing": false, "drinking_water": true }),
            "{backend}"
        );
        assert_eq!(
            detail["memberships"].as_array().unwrap().len(),
            2,
            "{backend}"
        );

        // The same id again is refused with a Chinese field error.
        let (status, again) = api.post("/api/v1/households", &record).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(
            again["fields"][0],
            json!({ "field": "id", "message": "户编号已存在" }),
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn d1_api_unknown_field_refused_with_chinese_message() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.api_user("bachuan").await;
        let n_before = app.household_count().await;
        let head = id_number("50022419550505006");
        let spouse = id_number("50022419570707008");
        let mut top = full_record("API-0002", &head, &spouse);
        top["favourite_colour"] = json!("red");
        let mut nested = full_record("API-0002", &head, &spouse);
        nested["members"][1]["nickname"] = json!("小梅");
        for (body, field) in [(top, "favourite_colour"), (nested, "nickname")] {
            let (status, answer) = api.post("/api/v1/households", &body).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {field}"
            );
            assert_eq!(answer["code"], "invalid_input", "{backend}");
            let message = answer["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("未知字段“{field}”")),
                "{backend}: {message}"
            );
            // And on update.
            let (status, answer) = api
                .put(
                    &format!("/api/v1/households/{}?version=1", app.bachuan_village.id),
                    &body,
                )
                .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {field}"
            );
            assert!(
                answer["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("未知字段“{field}”")),
                "{backend}"
            );
        }
        // A bad ID number names the member.
        let bad = full_record(
            "API-0002",
            &head,
            &crate::helpers::with_wrong_check(&spouse),
        );
        let (status, answer) = api.post("/api/v1/households", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(
            answer["fields"][0]["field"], "members[1].id_number",
            "{backend}"
        );
        assert!(
            answer["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("身份证号"),
            "{backend}"
        );
        assert_eq!(app.household_count().await, n_before, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn d1_api_update_replaces_record_and_bumps_version() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let household = &app.bachuan_village;
        let api = app.api_user("bachuan").await;
        let body = crate::helpers::household_json(
            household.external_id,
            household.area,
            &[(household.head_id.as_str(), "张三", "head")],
        );
        let (status, _) = api
            .put(
                &format!("/api/v1/households/{}?version=1", household.id),
                &body,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{backend}");
        let (_, detail) = api
            .get(&format!("/api/v1/households/{}", household.id))
            .await;
        assert_eq!(detail["version"], 2, "{backend}");
        assert_eq!(
            detail["household"]["members"].as_array().unwrap().len(),
            1,
            "{backend}"
        );
        assert_eq!(app.stored(household.id).await.n_members, 1, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn u1_openapi_document_lists_every_api_route() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let response = app
            .anonymous()
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{backend}"
        );
        let document: Value =
            serde_json::from_str(&response.text().await.unwrap()).expect("valid JSON");
        assert!(
            document["openapi"].as_str().unwrap().starts_with("3."),
            "{backend}"
        );
        let paths = document["paths"].as_object().unwrap();
        for (path, methods) in API_ROUTES {
            for method in methods {
                assert!(
                    paths.get(path).and_then(|item| item.get(method)).is_some(),
                    "{backend}: {method} {path} is not documented"
                );
            }
        }
        // The list above is the router's: a new API route fails here until it is documented.
        for (path, methods) in router_routes()
            .into_iter()
            .filter(|(path, _)| path.starts_with("/api") || path == "/healthz")
        {
            if path == "/api/openapi.json" {
                continue;
            }
            for method in &methods {
                let listed = API_ROUTES
                    .iter()
                    .any(|(p, ms)| *p == path && ms.contains(&method.as_str()));
                assert!(
                    listed,
                    "{method} {path} is in the router but not in API_ROUTES"
                );
            }
        }
        // … and the router has every route of the list.
        let routed = router_routes();
        for (path, methods) in API_ROUTES {
            for method in methods {
                let found = routed
                    .iter()
                    .any(|(p, ms)| p == path && ms.iter().any(|m| m == method));
                assert!(found, "{method} {path} was not found in the router");
            }
        }
        // Every documented path is one the router serves.
        for path in paths.keys() {
            assert!(
                API_ROUTES.iter().any(|(p, _)| p == path),
                "{path} is documented but not routed"
            );
        }
        // Every $ref resolves.
        let text = document.to_string();
        for reference in text
            .split("\"$ref\":\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
        {
            let pointer = reference.strip_prefix('#').unwrap();
            assert!(
                document.pointer(pointer).is_some(),
                "{backend}: dangling $ref {reference}"
            );
        }
        // Every word list is the vocabulary's, in its order; no list of words is spelled.
        let mut enums = Vec::new();
        collect_enums(&document, &mut enums);
        assert!(!enums.is_empty());
        for (word, mut listed, nullable) in enums {
            // An empty query parameter is one left out (`openapi::admit_empty_query_values`).
            listed.retain(|choice| choice != "");
            match word {
                Some(word) => {
                    let mut expected: Vec<Value> =
                        vocabulary(&word).into_iter().map(Value::from).collect();
                    if nullable {
                        expected.push(Value::Null);
                    }
                    assert_eq!(listed, expected, "{backend}: the enum of {word}");
                }
                None => assert!(
                    NOT_WORDS.iter().any(|list| listed
                        == list
                            .iter()
                            .map(|code| Value::from(*code))
                            .collect::<Vec<_>>()),
                    "{backend}: {listed:?} is spelled in openapi.json; name its word list (x-vocabulary)"
                ),
            }
        }
        app.stop().await;
    }
}

/// The codes of the word list `word` of the vocabulary, as `openapi.json` names it.
fn vocabulary(word: &str) -> Vec<&'static str> {
    fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|item| code(*item)).collect()
    }
    match word {
        "ActionKind" => codes(workflow::ActionKind::ALL, workflow::ActionKind::code),
        "CareNeed" => codes(domain::CareNeed::ALL, domain::CareNeed::code),
        "CaseKind" => codes(workflow::CaseKind::ALL, workflow::CaseKind::code),
        "Category" => codes(domain::Category::ALL, domain::Category::code),
        "Channel" => codes(workflow::Channel::ALL, workflow::Channel::code),
        "Disposition" => codes(
            workflow::warning::Disposition::ALL,
            workflow::warning::Disposition::code,
        ),
        "EnteredStatus" => codes(policy::Status::ENTERED, policy::Status::code),
        "Hukou" => codes(domain::Hukou::ALL, domain::Hukou::code),
        "ItemPeriod" => codes(assist::ItemPeriod::ALL, assist::ItemPeriod::code),
        "MonitoringKind" => codes(domain::MonitoringKind::ALL, domain::MonitoringKind::code),
        "Need" => codes(assist::Need::ALL, assist::Need::code),
        "ParamOwner" => codes(&policy::OWNERS, domain::Role::code),
        "ParamStatus" => codes(policy::Status::ALL, policy::Status::code),
        "ParamUnit" => codes(policy::Unit::ALL, policy::Unit::code),
        "ReferralAction" => codes(assist::ReferralAction::ALL, assist::ReferralAction::code),
        "ReferralState" => codes(assist::ReferralState::ALL, assist::ReferralState::code),
        "ReviewOutcome" => codes(workflow::ReviewOutcome::ALL, workflow::ReviewOutcome::code),
        "Role" => codes(domain::Role::ALL, domain::Role::code),
        "Step" => codes(workflow::Step::ALL, workflow::Step::code),
        "SupportMode" => codes(domain::SupportMode::ALL, domain::SupportMode::code),
        "WarningState" => codes(
            workflow::warning::WarningState::ALL,
            workflow::warning::WarningState::code,
        ),
        other => panic!("no word list {other}"),
    }
}

/// The lists in the description that are not words of the domain: flags, the search kinds, the
/// file types, a verdict's and a finding's choices, sources and origins.
const NOT_WORDS: &[&[&str]] = &[
    &["1", "true", "on"],
    &["1"],
    &["true", "1"],
    &["confirm", "override", "none"],
    &["resolved", "confirmed"],
    &["builtin", "added"],
    &["entered", "statutory"],
    &[
        "everything",
        "area_code",
        "place_name",
        "id_number",
        "household_number",
        "name",
    ],
    &["image/jpeg", "application/pdf"],
    &["low", "medium", "high"],
    &["roll", "case", "demo", "other"],
];

/// Every schema with an `enum`: its `x-vocabulary` word, the list and whether it admits null.
fn collect_enums(value: &Value, found: &mut Vec<(Option<String>, Vec<Value>, bool)>) {
    match value {
        Value::Object(object) => {
            let word_list = object.contains_key("x-vocabulary").then(Vec::new);
            if let Some(listed) = object
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .or(word_list)
            {
                let nullable = object
                    .get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|types| types.iter().any(|kind| kind == "null"));
                let word = object
                    .get("x-vocabulary")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                found.push((word, listed, nullable));
            }
            object
                .values()
                .for_each(|child| collect_enums(child, found));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_enums(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn d1_api_unreadable_requests_get_the_json_error_in_chinese() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.api_user("bachuan").await;
        let id = app.bachuan_village.id;
        let malformed = api
            .client
            .post(app.url("/api/v1/households"))
            .header("X-CSRF-Token", &api.csrf)
            .header("content-type", "application/json")
            .body("{ not json")
            .send()
            .await
            .unwrap();
        let (status, body) = crate::helpers::json_of(malformed).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {body}"
        );
        assert_eq!(body["code"], "invalid_input", "{backend}");
        assert!(
            body["message"].as_str().unwrap().contains("请求体应为JSON"),
            "{backend}: {body}"
        );

        let (status, body) = api
            .put(&format!("/api/v1/households/{id}"), &json!({}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: missing version"
        );
        assert!(
            body["message"].as_str().unwrap().contains("查询参数有误"),
            "{backend}: {body}"
        );

        let (status, body) = api.get("/api/v1/households/not-a-number").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        assert_eq!(body["code"], "not_found", "{backend}");

        let (status, body) = api.get(&format!("/api/v1/households/{id}?full=1")).await;
        assert_eq!(status, StatusCode::OK, "{backend}: {body}");
        assert_eq!(body["masked"], false, "{backend}");
        app.stop().await;
    }
}

/// A value a schema of the case actions accepts: the first of an enum, 1, two user ids, an
/// empty list of verdicts, a household of the fixture's village, or some text.
fn sample(schema: &Value) -> Value {
    if schema["$ref"] == "#/components/schemas/Household" {
        return json!({
            "id": "BC-0900", "area_code": "500151001200", "hukou": "rural",
            "members": [{ "id_number": id_number("50022419850101139"), "name": "韩一", "relation": "head" }],
        });
    }
    if let Some(first) = schema["enum"]
        .as_array()
        .and_then(|values| values.iter().find(|value| !value.is_null()))
    {
        return first.clone();
    }
    match schema["type"].as_str() {
        Some("integer") => json!(1),
        Some("array") if schema["items"]["type"] == "integer" => json!([1, 2]),
        Some("array") => json!([]),
        _ => json!("经核实"),
    }
}

#[tokio::test]
async fn p1_p8_the_action_schemas_list_what_the_handler_requires() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, document) = app.api_user("bachuan").await.get("/api/openapi.json").await;
        let schemas = &document["components"]["schemas"];
        let action_schema = &schemas["CaseAction"];
        let variants = action_schema["oneOf"].as_array().unwrap();
        assert_eq!(
            action_schema["discriminator"]["propertyName"], "action",
            "{backend}"
        );
        // A case of the fixture's village; the auditor may act on none of it, so a body the
        // handler takes is refused by the workflow (409), and the case stays where it is.
        let village = app.api_user("cunshe").await;
        let (status, body) = village
            .post(
                "/api/v1/cases",
                &json!({
                    "kind": "application", "channel": "village_window", "household_id": "BC-0900",
                    "area_code": "500151001200", "applicant": "韩一",
                    "consent": {"signer": "韩一", "signed_on": "2026-11-28"},
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {body}");
        let path = format!("/api/v1/cases/{}/actions", body["id"]);
        let auditor = app.api_user("shenji").await;
        let mut actions = Vec::new();
        for variant in variants {
            let reference = variant["$ref"].as_str().unwrap();
            let name = reference.trim_start_matches("#/components/schemas/");
            let schema = &schemas[name];
            let action = schema["properties"]["action"]["const"].as_str().unwrap();
            assert_eq!(
                action_schema["discriminator"]["mapping"][action], reference,
                "{backend}"
            );
            actions.push(action.to_owned());
            let required: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|field| field.as_str().unwrap())
                .collect();
            assert_eq!(required.first(), Some(&"action"), "{backend} {action}");
            let mut complete = json!({ "action": action });
            for field in &required[1..] {
                let property = &schema["properties"][field];
                assert!(
                    property.is_object(),
                    "{backend}: {action}.{field} described"
                );
                complete[field] = sample(property);
            }
            // Everything the schema requires: the handler takes it (the workflow refuses).
            let (status, answer) = auditor.post(&path, &complete).await;
            assert_eq!(
                status,
                StatusCode::CONFLICT,
                "{backend}: {complete} → {answer}"
            );
            // Each required field left out (or null): 422 naming it, in Chinese.
            for field in &required[1..] {
                for missing in [None, Some(Value::Null)] {
                    let mut body = complete.clone();
                    match &missing {
                        None => {
                            body.as_object_mut().unwrap().remove(*field);
                        }
                        Some(null) => body[field] = null.clone(),
                    }
                    let (status, answer) = auditor.post(&path, &body).await;
                    assert_eq!(
                        status,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "{backend}: {body} → {answer}"
                    );
                    let named: Vec<&str> = answer["fields"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|error| error["field"].as_str().unwrap())
                        .collect();
                    assert_eq!(named, [*field], "{backend}: {body} → {answer}");
                    assert!(
                        answer["fields"][0]["message"]
                            .as_str()
                            .unwrap()
                            .starts_with("缺少"),
                        "{backend}: {answer}"
                    );
                }
            }
        }
        // One schema per action the handler knows, and no other.
        let words: Vec<&str> = workflow::ActionKind::ALL
            .iter()
            .map(|kind| kind.code())
            .collect();
        assert_eq!(actions, words, "{backend}");
        let (status, answer) = auditor.post(&path, &json!({"action": "jump"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(answer["fields"][0]["field"], "action", "{backend}");
        let (_, detail) = village.get(&format!("/api/v1/cases/{}", body["id"])).await;
        assert_eq!(detail["step"], "received", "{backend}: nothing moved");
        app.stop().await;
    }
}
