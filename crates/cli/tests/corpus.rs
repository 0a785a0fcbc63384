//! Issue 16, item 7: the household files of the bad-input corpus (`tests/corpus/households`,
//! see its README) through `safetynet import households` on SQLite and, when
//! `TEST_DATABASE_URL` is set, PostgreSQL: no panic, no 系统内部错误, each refusal names
//! `FILE:LINE:` and the field, and the database is left exactly as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .env_remove("DATABASE_URL")
        .env_remove("SAFETYNET_AUDIT_KEY")
        .env("USER", "cli-test")
        .args(args)
        .output()
        .unwrap()
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// Households, persons, memberships, imports and audit rows.
async fn contents(url: &str) -> Vec<i64> {
    let store = store::Store::connect(url).await.unwrap();
    let mut counts = Vec::new();
    for table in [
        "households",
        "persons",
        "memberships",
        "imports",
        "audit_log",
    ] {
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(store.pool())
                .await
                .unwrap();
        counts.push(n);
    }
    store.close().await;
    counts
}

async fn databases(dir: &Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}", dir.join("corpus.db").display())];
    if testkit::postgres_url().is_some() {
        urls.push(testkit::fresh_postgres("safetynet_corpus").await.0);
    }
    urls
}

#[tokio::test]
async fn corpus_household_files_are_refused_by_line_and_field_and_change_nothing() {
    let text = std::fs::read_to_string(corpus().join("expected.tsv")).unwrap();
    let rows: Vec<(String, String, String)> = text
        .lines()
        .filter(|line| line.starts_with("households/"))
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (
                cells[0].to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect();
    assert!(rows.len() >= 10, "{rows:?}");
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        // A first good import, so that "unchanged" is more than "empty".
        let accepted = corpus().join("households/bom-accepted.jsonl");
        let first = run(&[
            "import",
            "households",
            accepted.to_str().unwrap(),
            "--db",
            &db,
        ]);
        assert!(
            first.status.success(),
            "{db}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let before = contents(&db).await;
        assert_eq!(before[0], 2, "{db}: the BOM file's two households");
        for (file, line, field) in &rows {
            if field == "accepted" {
                continue;
            }
            let path = corpus().join(file);
            let output = run(&["import", "households", path.to_str().unwrap(), "--db", &db]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{db} {file}: {stderr}");
            assert!(!stderr.contains("panicked"), "{db} {file}: {stderr}");
            assert!(!stderr.contains("系统内部错误"), "{db} {file}: {stderr}");
            let at = format!("{}:{line}: ", path.display());
            let reported = stderr
                .lines()
                .find(|reported| reported.starts_with(&at))
                .unwrap_or_else(|| panic!("{db} {file}: no {at} in {stderr}"));
            assert!(reported.contains(field.as_str()), "{db} {file}: {reported}");
            assert!(!reported.contains('\u{0}'), "{db} {file}");
            assert_eq!(contents(&db).await, before, "{db} {file}: nothing written");
        }
    }
}
