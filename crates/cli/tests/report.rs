//! `safetynet report` (R1): the workbook and the printable document from a generated registry.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::io::Read;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .env_remove("DATABASE_URL")
        .env("USER", "cli-test")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn r1_report_writes_the_workbook_with_charts_and_the_printable_page() {
    let dir = tempfile::tempdir().unwrap();
    let households = dir.path().join("hh.jsonl");
    let output = run(&["gen", "households", "--count", "600", "--seed", "3"]);
    assert!(output.status.success());
    std::fs::write(&households, &output.stdout).unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let output = run(&[
        "import",
        "households",
        households.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let persons: usize = text(&output.stdout).len(); // nothing on stdout
    assert_eq!(persons, 0);
    let members: usize = std::fs::read_to_string(&households)
        .unwrap()
        .lines()
        .map(|line| line.matches("\"id_number\"").count())
        .sum();

    // The households joined today (China Standard Time): the running half-year counts them.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let current = format!(
        "{}H{}",
        chrono::Datelike::year(&today),
        if chrono::Datelike::month(&today) <= 6 {
            1
        } else {
            2
        }
    );
    let title = format!(
        "铜梁区 {}年{}半年低收入人口救助帮扶工作情况",
        &current[..4],
        if current.ends_with('1') { "上" } else { "下" }
    );
    let xlsx = dir.path().join("r.xlsx");
    let html = dir.path().join("r.html");
    let output = run(&[
        "report",
        "--period",
        &current,
        "--out",
        xlsx.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let said = text(&output.stderr);
    assert!(
        said.contains(&format!("在册 600 户 {members} 人")),
        "{said}"
    );

    let bytes = std::fs::read(&xlsx).unwrap();
    // The total row of the first sheet holds the registry's households and persons.
    let sheet = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<v>600</v>") && sheet.contains(&format!("<v>{members}</v>")));
    let chart = part(&bytes, "xl/charts/chart1.xml");
    assert!(
        chart.contains("<c:f>在册对象!$A$6:$A$33</c:f>"),
        "28 towns under a 5-row head"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(&title));
    // One file: the shared print stylesheet inside it, the landscape sheet.
    assert!(page.contains("@page landscape { size: A4 landscape"));
    assert!(page.contains("class=\"sheet landscape report\""));
    assert!(!page.contains("/static/print.css"));

    // A town's report; bad input is named in Chinese and writes nothing.
    let town = dir.path().join("town.xlsx");
    let output = run(&[
        "report",
        "--period",
        "2026H2",
        "--area",
        "500151001",
        "--out",
        town.to_str().unwrap(),
        "--db",
        &db,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("铜梁区 巴川街道 2026年下半年"));
    let bad = dir.path().join("bad.xlsx");
    for (args, message) in [
        (
            ["--period", "2026H3", "--area", "500151"],
            "统计期：“2026H3”不是统计期",
        ),
        (
            ["--period", "2026H2", "--area", "500151001200"],
            "请选择区县或镇街",
        ),
        (
            ["--period", "2026H2", "--area", "5001x"],
            "区划代码“5001x”无效",
        ),
    ] {
        let mut all = vec!["report"];
        all.extend(args);
        all.extend(["--out", bad.to_str().unwrap(), "--db", &db]);
        let output = run(&all);
        assert!(!output.status.success());
        assert!(
            text(&output.stderr).contains(message),
            "{}",
            text(&output.stderr)
        );
        assert!(!bad.exists());
    }
}
