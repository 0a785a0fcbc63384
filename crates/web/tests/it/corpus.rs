//! Issue 16, item 7: the bad-input corpus (`tests/corpus/`, see its README) against the real
//! server on each store: department feeds, API household bodies, policy values, query
//! parameters and a form. No 5xx; every refusal names its line (files) and its field; nothing
//! half-written (households unchanged, a feed's other rows read and its comparison run done).
//! The household files go through the CLI in `crates/cli/tests/corpus.rs`.

use crate::helpers::{TestApp, backends, json_of};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// `expected.tsv` rows under `prefix`: (file, line, field).
fn expected(prefix: &str) -> Vec<(String, Option<u64>, String)> {
    let text = std::fs::read_to_string(corpus().join("expected.tsv")).unwrap();
    let rows: Vec<_> = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), 3, "expected.tsv: {line}");
            (
                cells[0].to_owned(),
                cells[1].parse().ok(),
                cells[2].to_owned(),
            )
        })
        .filter(|(file, _, _)| file.starts_with(prefix))
        .collect();
    assert!(!rows.is_empty(), "{prefix}");
    rows
}

#[tokio::test]
async fn corpus_feeds_reject_the_bad_row_alone_naming_line_and_column() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let bumen = app.api_user("bumen").await;
        let console = app::Actor::console("test", domain::PlaceCode::parse("500151").unwrap());
        for (idx, (file, line, field)) in expected("feeds/").into_iter().enumerate() {
            let bytes = std::fs::read(corpus().join(&file)).unwrap();
            let name = file.trim_start_matches("feeds/");
            let response = bumen
                .client
                .post(app.url(&format!(
                    "/api/v1/feeds?source=corpus{idx}&period=2026-10&file_name={name}"
                )))
                .header("X-CSRF-Token", &bumen.csrf)
                .body(bytes)
                .send()
                .await
                .unwrap();
            let (status, body) = json_of(response).await;
            assert!(
                !status.is_server_error(),
                "{backend} {file}: {status} {body}"
            );
            if field == "file" {
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{backend} {file}: {body}"
                );
                assert_eq!(body["fields"][0]["field"], "file", "{backend} {file}");
                continue;
            }
            assert_eq!(status, StatusCode::CREATED, "{backend} {file}: {body}");
            let rejections = body["rejections"].as_array().unwrap();
            if field == "accepted" {
                assert!(rejections.is_empty(), "{backend} {file}: {body}");
                assert_eq!(body["rows_read"], 2, "{backend} {file}: {body}");
            } else {
                assert_eq!(rejections.len(), 1, "{backend} {file}: {body}");
                assert_eq!(
                    rejections[0]["line"].as_u64(),
                    line,
                    "{backend} {file}: {body}"
                );
                let reason = rejections[0]["reason"].as_str().unwrap();
                if field != "-" {
                    assert!(reason.starts_with(&field), "{backend} {file}: {reason}");
                }
                assert!(!reason.contains('\u{0}'), "{backend} {file}");
            }
            // The comparison run of the feed completes (a NUL row does not fail the job).
            let outcome = app.app.run_next_job(&console, "test").await.unwrap();
            assert!(
                matches!(outcome, Some(app::feeds::JobOutcome::Done { .. })),
                "{backend} {file}: {outcome:?}"
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn corpus_api_household_bodies_are_refused_naming_the_field_and_nothing_is_written() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let town = app.api_user("bachuan").await;
        let before = app.household_count().await;
        for (file, _, field) in expected("api/households/") {
            let text = std::fs::read_to_string(corpus().join(&file))
                .unwrap()
                .replace("AREA", app.bachuan_village.area);
            let response = town
                .client
                .post(app.url("/api/v1/households"))
                .header("X-CSRF-Token", &town.csrf)
                .header("content-type", "application/json")
                .body(text)
                .send()
                .await
                .unwrap();
            let (status, body) = json_of(response).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {file}: {body}"
            );
            assert_eq!(
                body["fields"][0]["field"], field,
                "{backend} {file}: {body}"
            );
            let message = body["message"].as_str().unwrap();
            assert!(!message.contains('\u{0}'), "{backend} {file}");
        }
        assert_eq!(app.household_count().await, before, "{backend}");
        app.stop().await;
    }
}

#[tokio::test]
async fn corpus_policy_values_negative_zero_or_malformed_are_refused_naming_the_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let minzheng = app.api_user("minzheng").await;
        let text = std::fs::read_to_string(corpus().join("policy-values.jsonl")).unwrap();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).unwrap();
            let path = format!(
                "/api/v1/policy/parameters/{}/values",
                case["param"].as_str().unwrap()
            );
            let (status, body) = minzheng.post(&path, &case["body"]).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {line}: {body}"
            );
            assert_eq!(
                body["fields"][0]["field"], case["field"],
                "{backend} {line}: {body}"
            );
        }
        // Nothing was added.
        let (_, list) = minzheng.get("/api/v1/policy/parameters").await;
        assert!(
            !list.to_string().contains("\"origin\":\"added\""),
            "{backend}: {list}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn corpus_bad_query_parameters_are_400_naming_the_parameter() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let text = std::fs::read_to_string(corpus().join("queries.tsv")).unwrap();
        for row in text.lines().filter(|line| !line.starts_with('#')) {
            let cells: Vec<&str> = row.split('\t').collect();
            let [user, method, path, status, field] = cells[..] else {
                panic!("queries.tsv: {row}");
            };
            let expected: u16 = status.parse().unwrap();
            match method {
                "PAGE" => {
                    let page = app.page_user(user).await;
                    let (status, html) = page.get(path).await;
                    assert_eq!(status.as_u16(), expected, "{backend} {path}: {html}");
                    assert!(html.contains(field), "{backend} {path}: {html}");
                }
                _ => {
                    let api = app.api_user(user).await;
                    let request = match method {
                        "GET" => api.client.get(app.url(path)),
                        _ => api
                            .client
                            .post(app.url(path))
                            .header("X-CSRF-Token", &api.csrf)
                            .body("身份证号,姓名,类别,数值,日期,说明\n"),
                    };
                    let (status, body) = json_of(request.send().await.unwrap()).await;
                    assert_eq!(status.as_u16(), expected, "{backend} {path}: {body}");
                    assert_eq!(
                        body["fields"][0]["field"], field,
                        "{backend} {path}: {body}"
                    );
                }
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_form_field_with_a_nul_is_refused_on_a_page_naming_the_field() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let town = app.page_user("bachuan").await;
        let id = app.bachuan_village.id;
        let response = town
            .post_form(
                &format!("/households/{id}/edit"),
                &[
                    ("csrf".to_owned(), town.csrf.clone()),
                    ("note".to_owned(), "说\u{0}明".to_owned()),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("备注（note）"), "{backend}: {html}");
        assert!(html.contains("U+0000"), "{backend}: {html}");
        app.stop().await;
    }
}
