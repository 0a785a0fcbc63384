#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
//! `assess` over small JSON Lines inputs: order, error lines, the exit flag, options.

use batch::{AssessArgs, Options, Summary, assess_stream, assess_to, load_snapshot};
use chrono::NaiveDate;
use serde_json::Value;
use std::io::Write;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 8, 1).unwrap()
}

/// A valid household line: a 40-year-old alone with `wages` a year.
fn household(id: &str, wages: u32) -> String {
    format!(
        r#"{{"id":"{id}","area_code":"500151102201","members":[{{"id_number":"50022419850101001X","name":"某甲","relation":"head"}}],"income_12m":{{"wages":{wages}}}}}"#
    )
}

fn run(input: &str, explain: bool, workers: usize, block_bytes: usize) -> (Vec<Value>, Summary) {
    let args = AssessArgs {
        as_of: Some(as_of()),
        ..AssessArgs::default()
    };
    let snapshot = load_snapshot(&args, as_of()).unwrap();
    let options = Options {
        as_of: as_of(),
        explain,
        workers,
        block_bytes,
    };
    let mut output = Vec::new();
    let summary = assess_stream(input.as_bytes(), &mut output, &snapshot, &options).unwrap();
    let text = String::from_utf8(output).unwrap();
    let lines = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (lines, summary)
}

#[test]
fn output_keeps_input_order_across_many_blocks_and_workers() {
    let input: String = (0..600)
        .map(|idx| household(&format!("H{idx:04}"), idx * 97) + "\n")
        .collect();
    // Blocks of ~300 bytes: about one line each, three workers finishing out of order.
    let (lines, summary) = run(&input, false, 3, 300);
    assert_eq!(
        summary,
        Summary {
            households: 600,
            pending: 0,
            errors: 0
        }
    );
    let ids: Vec<&str> = lines
        .iter()
        .map(|line| line["household_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..600).map(|idx| format!("H{idx:04}")).collect();
    assert_eq!(ids, expected);
    assert!(lines.iter().all(|line| line.get("explanation").is_none()));
}

#[test]
fn unreadable_lines_become_error_lines_in_place() {
    let input = [
        household("A", 0),
        r#"{"id":"B","area_code":"500151102201","members":[],"colour":1}"#.to_owned(),
        "not json".to_owned(),
        String::new(),
        household("C", 24000),
        r#"{"id":"D","area_code":"500151102201","members":[{"id_number":"500224194503120012","relation":"head"}]}"#.to_owned(),
    ]
    .join("\n");
    let (lines, summary) = run(&input, true, 2, 64);
    assert_eq!(
        summary,
        Summary {
            households: 2,
            pending: 0,
            errors: 3
        }
    );
    assert_eq!(lines.len(), 5, "the blank line 4 holds no household");
    assert_eq!(lines[0]["household_id"], "A");
    assert_eq!(lines[0]["primary"], "dibao");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["error"], "未知字段“colour”");
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().unwrap().contains("JSON"));
    assert_eq!(lines[3]["household_id"], "C");
    assert_eq!(lines[4]["line"], 6);
    assert!(
        lines[4]["error"]
            .as_str()
            .unwrap()
            .starts_with("members[0].id_number")
    );
}

#[test]
fn crlf_and_a_missing_final_newline_are_read() {
    let input = format!("{}\r\n{}", household("A", 0), household("B", 0));
    let (lines, summary) = run(&input, false, 1, 1 << 20);
    assert_eq!(summary.households, 2);
    assert_eq!(lines[1]["household_id"], "B");
}

#[test]
fn explained_and_quiet_runs_agree() {
    let input: String = (0..50)
        .map(|idx| household(&format!("H{idx}"), idx * 1013) + "\n")
        .collect();
    let (explained, _) = run(&input, true, 2, 512);
    let (quiet, _) = run(&input, false, 2, 512);
    for (mut full, short) in explained.into_iter().zip(quiet) {
        assert!(full["explanation"].as_array().unwrap().len() > 3);
        full.as_object_mut().unwrap().remove("explanation");
        assert_eq!(full, short);
    }
}

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn assess_reads_a_file_with_as_of_and_set() {
    let file = temp_file(&(household("A", 4800) + "\nbroken\n"));
    let args = AssessArgs {
        as_of: Some(as_of()),
        set: vec!["dibao.standard.rural=700".to_owned()],
        no_explain: true,
        file: file.path().display().to_string(),
        ..AssessArgs::default()
    };
    let mut output = Vec::new();
    let summary = assess_to(&args, &mut output).unwrap();
    assert_eq!(
        summary,
        Summary {
            households: 1,
            pending: 0,
            errors: 1
        }
    );
    let first: Value =
        serde_json::from_str(String::from_utf8(output).unwrap().lines().next().unwrap()).unwrap();
    // (700 − 400) × 1
    assert_eq!(first["monthly_benefit_yuan"], 300.0);
    assert_eq!(first["as_of"], "2025-08-01");
}

#[test]
fn exit_flag_is_false_when_a_line_failed() {
    let good = temp_file(&(household("A", 0) + "\n"));
    let bad = temp_file("{}\n");
    let args = |file: &tempfile::NamedTempFile| AssessArgs {
        as_of: Some(as_of()),
        no_explain: true,
        file: file.path().display().to_string(),
        ..AssessArgs::default()
    };
    assert!(batch::run_assess(&args(&good)).unwrap());
    assert!(!batch::run_assess(&args(&bad)).unwrap());
}

#[test]
fn bad_options_fail_the_run() {
    let file = temp_file(&household("A", 0));
    let with = |set: &str, policy: Option<std::path::PathBuf>| AssessArgs {
        as_of: Some(as_of()),
        set: vec![set.to_owned()],
        policy,
        file: file.path().display().to_string(),
        ..AssessArgs::default()
    };
    let unknown = assess_to(&with("no.such.parameter=1", None), Vec::new()).unwrap_err();
    assert!(format!("{unknown:#}").contains("no.such.parameter"));
    let policy = temp_file("[[parameter]]\nname = 1\n");
    let error = assess_to(
        &with("tekun.age.elderly=60", Some(policy.path().to_owned())),
        Vec::new(),
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains(&policy.path().display().to_string()) && message.contains(":2:"),
        "{message}"
    );
    let missing = AssessArgs {
        file: "/nonexistent/households.jsonl".to_owned(),
        ..with("tekun.age.elderly=60", None)
    };
    assert!(assess_to(&missing, Vec::new()).is_err());
}

#[test]
fn as_of_is_a_command_line_flag() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        assess: AssessArgs,
    }
    let cli = Cli::try_parse_from([
        "assess",
        "--as-of",
        "2025-06-30",
        "--set",
        "a=1",
        "--set",
        "b=2",
        "--no-explain",
        "-",
    ])
    .unwrap();
    assert_eq!(cli.assess.as_of, NaiveDate::from_ymd_opt(2025, 6, 30));
    assert_eq!(cli.assess.set, ["a=1", "b=2"]);
    assert!(cli.assess.no_explain);
    assert_eq!(cli.assess.file, "-");
    let defaults = Cli::try_parse_from(["assess"]).unwrap();
    assert_eq!(defaults.assess.file, "-");
    assert_eq!(defaults.assess.as_of, None);
    assert!(Cli::try_parse_from(["assess", "--as-of", "2025-13-01"]).is_err());
}

#[test]
fn a_line_longer_than_a_block_is_read_whole() {
    let long = household("LONG", 0).replacen('{', &format!("{{{}", " ".repeat(20_000)), 1);
    let input: String = (0..40)
        .map(|idx| if idx == 7 { long.clone() } else { household(&format!("H{idx}"), 0) } + "\n")
        .collect();
    let (lines, summary) = run(&input, false, 2, 256);
    assert_eq!(
        summary,
        Summary {
            households: 40,
            pending: 0,
            errors: 0
        }
    );
    assert_eq!(lines[7]["household_id"], "LONG");
    assert_eq!(lines[39]["household_id"], "H39");
}

/// A determination with a pending test (savings and no financial-assets limit on the date) says so
/// in its record and is counted apart; one without savings is decided.
#[test]
fn pending_determinations_are_listed_and_counted_apart() {
    let with_savings = household("S", 0).replacen(
        r#""income_12m""#,
        r#""property":{"financial_assets":50000},"income_12m""#,
        1,
    );
    let input = [household("A", 0), with_savings, household("B", 0)].join("\n");
    let (lines, summary) = run(&input, true, 2, 64);
    assert_eq!(
        summary,
        Summary {
            households: 3,
            pending: 1,
            errors: 0
        }
    );
    assert_eq!(lines[0]["pending"], serde_json::json!([]));
    assert_eq!(
        lines[1]["primary"], "dibao",
        "what holds if the test passes"
    );
    assert_eq!(
        lines[1]["pending"][0]["param"],
        "property.financial_assets_months"
    );
    assert_eq!(lines[1]["pending"][0]["rule"], "property.within_limits");
    assert!(
        lines[1]["pending"][0]["text"]
            .as_str()
            .unwrap()
            .contains("需人工核定")
    );
    let property = lines[1]["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|reason| reason["rule"] == "property.within_limits")
        .unwrap();
    assert_eq!(property["pending"], true);
}
