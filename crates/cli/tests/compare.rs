//! Smoke tests of `safetynet gen feed` and `safetynet compare`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_generated_feed_gives_warnings_and_names_its_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let households = dir.path().join("h.jsonl");
    let feed = dir.path().join("f.csv");
    let generated = run(&["gen", "households", "--count", "300", "--seed", "3"]);
    assert!(generated.status.success());
    std::fs::write(&households, &generated.stdout).unwrap();
    let h = households.to_str().unwrap();
    let args = [
        "gen",
        "feed",
        "--households",
        h,
        "--rows",
        "5000",
        "--seed",
        "9",
    ];
    let first = run(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(first.stdout, run(&args).stdout, "deterministic for a seed");
    std::fs::write(&feed, &first.stdout).unwrap();
    let f = feed.to_str().unwrap();

    let compared = run(&[
        "compare",
        "--households",
        h,
        "--feed",
        f,
        "--as-of",
        "2025-08-01",
    ]);
    let stdout = text(&compared.stdout);
    let stderr = text(&compared.stderr);
    assert!(
        !compared.status.success(),
        "planted bad rows make the exit non-zero"
    );
    assert!(stderr.contains(&format!("{f}:")), "{stderr}");
    assert!(
        stderr.contains("未执行"),
        "skipped rules are reported: {stderr}"
    );
    assert!(stdout.lines().count() > 10, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|line| line.starts_with("{\"id_number\":\"")
                && line.contains("\"rule\":")
                && line.contains("\"line\":"))
    );
    assert!(stdout.contains("\"rule\":\"death\""));

    // The same feed twice: every fact is already known, no new warning.
    let twice = run(&[
        "compare",
        "--households",
        h,
        "--feed",
        f,
        "--feed",
        f,
        "--as-of",
        "2025-08-01",
    ]);
    assert_eq!(text(&twice.stdout).lines().count(), stdout.lines().count());
}
