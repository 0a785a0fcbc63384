//! The dependency direction of ARCHITECTURE.md, checked on the manifests: core crates do no IO
//! and know no shell crate; `web` never reaches `store` (every write goes through `app`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::collections::BTreeSet;
use std::path::Path;

const CORE: [&str; 7] = [
    "domain", "policy", "synth", "report", "workflow", "watch", "assist",
];
const SHELL_ONLY: [&str; 12] = [
    "tokio", "sqlx", "axum", "reqwest", "tracing", "hyper", "store", "app", "web", "cli", "batch",
    "rand",
];

fn dependencies(krate: &str) -> Option<BTreeSet<String>> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: toml::Value = toml::from_str(&text).unwrap();
    let names = value
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|table| table.keys().cloned().collect())
        .unwrap_or_default();
    Some(names)
}

#[test]
fn core_crates_depend_on_no_shell_crate_and_do_no_io() {
    for krate in CORE {
        let Some(deps) = dependencies(krate) else {
            continue;
        };
        for banned in SHELL_ONLY {
            assert!(
                !deps.contains(banned),
                "core crate {krate} depends on {banned}"
            );
        }
    }
}

#[test]
fn web_never_depends_on_store_and_app_never_on_http() {
    let web = dependencies("web").unwrap();
    assert!(
        !web.contains("store"),
        "web must reach the store only through app"
    );
    let app = dependencies("app").unwrap();
    for banned in ["axum", "web", "tower", "tower-http", "askama"] {
        assert!(!app.contains(banned), "app depends on {banned}");
    }
    let store = dependencies("store").unwrap();
    for banned in ["app", "web", "axum"] {
        assert!(!store.contains(banned), "store depends on {banned}");
    }
}
