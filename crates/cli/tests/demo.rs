//! `serve --demo`: the demo enters a value (演示) for every parameter the shipped catalogue
//! leaves without one, by the parameter's owner, so that the go-live checklist is clear and
//! every category, monitoring tag and comparison rule can be reached in the demo.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Runs a batch command of `safetynet`, with `--db URL` when given.
fn batch(args: &[&str], db: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_safetynet"));
    command.env_remove("DATABASE_URL").args(args);
    if let Some(db) = db {
        command.args(["--db", db]);
    }
    command.output().unwrap()
}

/// The demo after its whole loop, run once per test process: `serve --demo` on a new SQLite
/// database, `whole_loop` through its API, the server stopped; each test reads a copy of the
/// database it left.
struct Demo {
    _dir: tempfile::TempDir,
    /// The database the demo left, one self-contained file.
    template: PathBuf,
    /// The case 区民政局 confirmed in the whole loop.
    confirmed_case: i64,
}

async fn demo() -> &'static Demo {
    static DEMO: OnceCell<Demo> = OnceCell::const_new();
    DEMO.get_or_init(|| async {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("demo.db").display());
        let mut server = Command::new(env!("CARGO_BIN_EXE_safetynet"))
            .env_remove("DATABASE_URL")
            .env_remove("SAFETYNET_AUDIT_KEY")
            .env("USER", "cli-test")
            .args(["serve", "--demo", "--db", &db, "--addr", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
        let mut log = String::new();
        let started = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    log.push_str(&line);
                    log.push('\n');
                    if line.contains("safetynet 已启动") {
                        break true;
                    }
                }
                _ => break false,
            }
        };
        let base = log
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|address| format!("http://{address}"));
        let whole_loop = match (started, &base) {
            (true, Some(base)) => Some(whole_loop(base).await),
            _ => None,
        };
        server.kill().unwrap();
        server.wait().unwrap();
        assert!(started, "serve --demo did not start:\n{log}");
        let confirmed_case = whole_loop.expect("the server's address");
        let template = dir.path().join("template.db");
        let store = store::Store::connect(&db).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "VACUUM INTO '{}'",
            template.display()
        )))
        .execute(store.pool())
        .await
        .unwrap();
        store.close().await;
        Demo {
            _dir: dir,
            template,
            confirmed_case,
        }
    })
    .await
}

/// The URL of a copy of the demo's database in `dir`.
async fn demo_db(dir: &Path) -> String {
    let path = dir.join("demo.db");
    std::fs::copy(&demo().await.template, &path).unwrap();
    format!("sqlite://{}", path.display())
}

/// The use cases on a copy of the demo's database, the district and a console actor of it.
async fn demo_app(dir: &Path) -> (app::App, domain::PlaceCode, app::Actor) {
    let store = store::Store::connect(&demo_db(dir).await).await.unwrap();
    let app = app::App::new(
        store,
        Arc::new(app::SystemClock),
        app::AppSettings::default(),
    );
    app.refresh_policy().await.unwrap();
    let district = domain::PlaceCode::parse("500151").unwrap();
    let console = app::Actor::console("test", district.clone());
    (app, district, console)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_names_every_audit_action_it_wrote_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::connect(&demo_db(dir.path()).await)
        .await
        .unwrap();
    // Every action the demo and its whole loop wrote has its Chinese name on the audit page
    // (`app::audit_log::ACTIONS`, extended by hand with each new action code).
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(actions.len() > 20, "{actions:?}");
    let unnamed: Vec<&String> = actions
        .iter()
        .filter(|code| app::audit_log::action_label(code) == code.as_str())
        .collect();
    assert!(
        unnamed.is_empty(),
        "audit actions without a name: {unnamed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_enters_a_demo_value_for_each_parameter_by_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _district, console) = demo_app(dir.path()).await;
    // Every demo value is on the 政策参数 page as 演示, entered by its owner.
    let page = app.policy_parameters(&console).await.unwrap();
    let demo: Vec<_> = page
        .groups
        .iter()
        .flat_map(|group| &group.parameters)
        .filter_map(|parameter| {
            let value = parameter.in_force.as_ref()?;
            (value.status == policy::Status::Demo).then_some((parameter, value))
        })
        .collect();
    assert_eq!(demo.len(), policy::demo_values().unwrap().len());
    for (parameter, value) in &demo {
        assert_eq!(value.note.as_deref(), Some("演示数值，非正式政策"));
        let app::parameters::Origin::Added { by, .. } = &value.origin else {
            panic!("{}: not added", parameter.name());
        };
        let owner = if parameter.name().starts_with("monitoring.") {
            "区农业农村委 王审批"
        } else {
            "区民政局 李审批"
        };
        assert_eq!(by, owner, "{}", parameter.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_publishes_yongyuan_and_the_cases_confirmed_three_days_ago() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _district, _console) = demo_app(dir.path()).await;
    // 公开: the demo's enrolled households of 永院村 are on its public list (filled at start-up,
    // once: a second fill finds nothing to do).
    let yongyuan = app
        .public_disclosure("500151001200", None, None)
        .await
        .unwrap();
    assert!(!yongyuan.lines.is_empty(), "永院村 has no public lines");
    assert!(yongyuan.latest.is_some(), "永院村's list was published");
    assert_eq!(app.backfill_disclosure("cli-test").await.unwrap(), 0);

    // A012 (and A011's 低保) confirmed three days ago are on 永院村's public list (公开).
    let decided_on = (app.today() - chrono::Days::new(3)).to_string();
    let mut after: Option<String> = None;
    let mut published = 0;
    loop {
        let page = app
            .public_disclosure("500151001200", None, after.as_deref())
            .await
            .unwrap();
        published += page
            .lines
            .iter()
            .filter(|line| line.start_date == decided_on && line.category == "dibao")
            .count();
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(published, 2, "A011 and A012 on the public list");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_holds_a_case_at_every_step_a_partial_decline_an_exit_and_a_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let confirmed_case = demo().await.confirmed_case;
    let (app, _district, console) = demo_app(dir.path()).await;
    // Every step of the workflow holds a case in the demo village (the one 区民政局 just
    // confirmed among the confirmed).
    {
        let mut conn = app.store().read().await.unwrap();
        for step in workflow::Step::ALL {
            let rows = store::cases::at_step_in_area(&mut conn, "500151001200", step.code())
                .await
                .unwrap();
            assert!(!rows.is_empty(), "no demo case at {}", step.label());
        }
        let confirmed = store::cases::at_step_in_area(&mut conn, "500151001200", "confirmed")
            .await
            .unwrap();
        assert!(confirmed.iter().any(|row| row.id == confirmed_case));
        // A011: partially declined, its 告知书 delivered (dated after the decision).
        let partial = confirmed
            .iter()
            .find(|row| row.household_external_id == "DEMO-A011")
            .expect("A011 confirmed");
        assert!(partial.refusal_notice_on.is_some(), "{partial:?}");
        let detail = app.case_detail(&console, partial.id).await.unwrap();
        let declined = detail.case.declined();
        assert_eq!(declined.len(), 1, "{declined:?}");
        assert_eq!(declined[0].0, domain::Category::Monitoring);
        assert!(detail.case.refusal_notice_delivered_on() > detail.case.closed_on());
        // An exit and a re-check are open in the town.
        for kind in ["exit", "recheck"] {
            let open = store::cases::open_in_area(&mut conn, "500151001")
                .await
                .unwrap();
            assert!(open.iter().any(|row| row.kind.code() == kind), "no {kind}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reaches_every_category_tag_and_comparison_rule_and_is_ready_to_go_live() {
    let dir = tempfile::tempdir().unwrap();
    let (app, district, console) = demo_app(dir.path()).await;
    // The go-live checklist is clear, and no household is pending.
    app.count_go_live(&district).await.unwrap();
    let checklist = app.go_live(&console).await.unwrap();
    assert!(checklist.is_clear(), "{:?}", checklist.items);
    assert_eq!(checklist.pending_households, Some(0));

    // Every comparison rule can fire with the catalogue in force.
    let snapshot = app.catalogue_in_force().unwrap().snapshot(app.today());
    let thresholds = watch::rules::Thresholds::new(&snapshot);
    assert!(
        thresholds.skipped().is_empty(),
        "{:?}",
        thresholds.skipped()
    );

    // Every category and the monitoring tag are reached in the demo's registry.
    let registry = app.assess_registry(&console, app.today()).await.unwrap();
    for category in app::registry::SIMULATED {
        assert!(
            registry.total.count(&category).households > 0,
            "{category:?} not reached in the demo"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_values_are_read_by_assess_and_compare_with_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path()).await;
    // `assess --db` and `compare --db` read the values added in the product (here the demo's
    // monitoring line), where without `--db` the same test is pending / the rule is skipped.
    let households = dir.path().join("h.jsonl");
    std::fs::write(
        &households,
        r#"{"id": "MM1", "area_code": "500151102201", "hukou": "rural", "members": [{"id_number": "500224198001013177", "name": "车一", "relation": "head"}, {"id_number": "50022419820101318X", "name": "车二", "relation": "spouse"}], "income_12m": {"wages": 15199.98}, "risks": ["illness"], "lifted_from_poverty": false}"#,
    )
    .unwrap();
    let h = households.to_str().unwrap();
    let assess = |with_db: bool| {
        let output = batch(
            &["assess", "--as-of", "2026-01-01", "--no-explain", h],
            with_db.then_some(db.as_str()),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8(output.stdout).unwrap();
        serde_json::from_str::<serde_json::Value>(line.trim()).unwrap()
    };
    let shipped = assess(false);
    assert!(
        shipped["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|pending| pending["param"] == "monitoring.income_line"),
        "{shipped}"
    );
    let in_product = assess(true);
    assert_eq!(in_product["pending"], serde_json::json!([]), "{in_product}");
    assert_eq!(in_product["monitoring"], "edge_prone", "{in_product}");

    let feed = dir.path().join("f.csv");
    std::fs::write(&feed, "id_number,name,kind,value,date,detail\n").unwrap();
    let compare = |with_db: bool| {
        let args = [
            "compare",
            "--households",
            h,
            "--feed",
            feed.to_str().unwrap(),
            "--as-of",
            "2026-01-01",
        ];
        let output = batch(&args, with_db.then_some(db.as_str()));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let shipped = compare(false);
    assert!(shipped.contains("comparison.income_tolerance"), "{shipped}");
    let in_product = compare(true);
    assert!(!in_product.contains("未执行"), "{in_product}");
}

/// A client of the demo server signed in as `username` through the API, with its CSRF token.
async fn sign_in(base: &str, username: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let response = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": username, "password": "demo-2025"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::CREATED,
        "{username}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    (client, body["csrf_token"].as_str().unwrap().to_owned())
}

/// `GET path` as JSON.
async fn get_json(client: &reqwest::Client, base: &str, path: &str) -> serde_json::Value {
    let response = client.get(format!("{base}{path}")).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// The lines of the caller's own work (待我办理) by household id: (household id, case id, step).
async fn own_work(client: &reqwest::Client, base: &str) -> Vec<(String, i64, String)> {
    let queue = get_json(client, base, "/api/v1/cases?mine=1").await;
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["household_id"].as_str().unwrap().to_owned(),
                item["id"].as_i64().unwrap(),
                item["step"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Issue 14 item 7, on the running demo: the district departments' queues hold the cases
/// past their notice that each confirms (区民政局: 低保 of A008 at 公示 and of A010 at 审核确认;
/// 区农业农村委: the monitoring tag of A009), 区民政局 confirms A008 through the API, and the
/// partial decline A011 has its 告知书 delivered. Answers the id of the case confirmed.
async fn whole_loop(base: &str) -> i64 {
    let (civil, civil_csrf) = sign_in(base, "minzheng").await;
    let civil_work = own_work(&civil, base).await;
    let find = |work: &[(String, i64, String)], household: &str| {
        work.iter()
            .find(|(id, _, _)| id == household)
            .cloned()
            .unwrap_or_else(|| panic!("{household} not in the queue: {work:?}"))
    };
    let (_, dibao_case, step) = find(&civil_work, "DEMO-A008");
    assert_eq!(step, "notice");
    assert_eq!(find(&civil_work, "DEMO-A010").2, "confirming");
    assert!(!civil_work.iter().any(|(id, _, _)| id == "DEMO-A009"));
    let (agriculture, _) = sign_in(base, "nongye").await;
    let agriculture_work = own_work(&agriculture, base).await;
    let (_, monitoring_case, _) = find(&agriculture_work, "DEMO-A009");
    let monitoring = get_json(
        &agriculture,
        base,
        &format!("/api/v1/cases/{monitoring_case}"),
    )
    .await;
    assert!(
        monitoring["offered_actions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("confirm")),
        "{monitoring}"
    );
    assert_eq!(
        monitoring["decided"][0]["category"], "monitoring",
        "{monitoring}"
    );

    // A008: dated steps, the special limit recorded, the notice over; 区民政局 confirms it.
    let detail = get_json(&civil, base, &format!("/api/v1/cases/{dibao_case}")).await;
    assert!(detail["special_limit_reason"].is_string(), "{detail}");
    assert!(
        detail["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|deadline| deadline["limit"] == "dibao_total_special"),
        "{detail}"
    );
    let response = civil
        .post(format!("{base}/api/v1/cases/{dibao_case}/actions"))
        .header("X-CSRF-Token", &civil_csrf)
        .json(&serde_json::json!({"action": "confirm", "category": "dibao"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: serde_json::Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {answer}");
    let detail = get_json(&civil, base, &format!("/api/v1/cases/{dibao_case}")).await;
    assert_eq!(detail["step"], "confirmed", "{detail}");

    dibao_case
}
