#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
//! Golden cases: `tests/cases/*.toml` (household + as_of + overrides → expected determination
//! and the rules that held) and the worked examples of `shared/spec/examples/*.json`.
//!
//! A case file:
//! ```toml
//! as_of = "2025-08-01"
//! set = ["monitoring.income_line=9000"]      # optional
//! household = '''{ … HOUSEHOLD.md JSON … }'''
//! # optional: the recorded incomes, "day:12-month countable income/members"; when given, the
//! # months above the monitoring line are computed from them (rule 9) and the household's
//! # `months_above_monitoring_line` is not read
//! income_records = ["2025-02-01:24000/2"]
//! [expect]
//! primary = "dibao"                           # "none" for no category
//! monitoring = "none"                         # optional, default "none"
//! monthly_benefit_yuan = 790.0                # optional
//! income_per_capita_month_yuan = 400.0        # optional
//! recheck_months = 6                          # optional
//! risk_eliminated = false                     # optional
//! categories = [{ category = "dibao", scope = "household", monthly_yuan = 790.0 }]  # optional, exact
//! holds = ["dibao.income_below_standard"]     # some reason with this rule id held
//! fails = ["dibao_edge.income_in_band"]       # some reason with this rule id did not hold
//! pending = ["property.vehicle_value_limit"]  # the parameters pending (待人工核定), in order;
//!                                             # default: none, the determination is decided
//! ```

use chrono::NaiveDate;
use domain::Yuan;
use policy::{
    Catalogue, Determination, DeterminationRecord, IncomeRecord, Override, determine,
    determine_quiet, with_income_history,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    as_of: String,
    #[serde(default)]
    set: Vec<String>,
    household: String,
    #[serde(default)]
    income_records: Vec<String>,
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    primary: Option<String>,
    monitoring: Option<String>,
    monthly_benefit_yuan: Option<f64>,
    income_per_capita_month_yuan: Option<f64>,
    recheck_months: Option<u32>,
    risk_eliminated: Option<bool>,
    categories: Option<Vec<ExpectGrant>>,
    #[serde(default)]
    holds: Vec<String>,
    #[serde(default)]
    fails: Vec<String>,
    #[serde(default)]
    pending: Vec<String>,
    /// Free text in the shared examples.
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct ExpectGrant {
    category: String,
    scope: String,
    id_number: Option<String>,
    monthly_yuan: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Example {
    as_of: String,
    set: Vec<String>,
    household: serde_json::Value,
    expect: Expect,
}

fn money(value: f64) -> Yuan {
    Yuan::from_f64(value).unwrap()
}

/// `"2025-02-01:24000/2"`: recorded on that day, 24 000 yuan over 12 months, 2 members.
fn income_record(name: &str, text: &str) -> IncomeRecord {
    let parsed = text.split_once(':').and_then(|(day, rest)| {
        let (income, members) = rest.split_once('/')?;
        Some(IncomeRecord {
            on: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
            income_12m: Yuan::parse(income).ok()?,
            n_members: members.parse().ok()?,
        })
    });
    parsed.unwrap_or_else(|| panic!("{name}: income record {text:?} is not day:income/members"))
}

fn code(value: Option<&'static str>) -> String {
    value.unwrap_or("none").to_owned()
}

/// Runs one case; returns the list of mismatches.
fn check(
    name: &str,
    as_of: &str,
    set: &[String],
    household_json: &str,
    income_records: &[String],
    expect: &Expect,
) -> Vec<String> {
    let catalogue = Catalogue::builtin().unwrap();
    let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    let overrides: Vec<Override> = set
        .iter()
        .map(|text| Override::parse(text).unwrap())
        .collect();
    let snapshot = catalogue.snapshot(as_of).with_overrides(&overrides);
    let typed = domain::interchange::parse_household_line(household_json)
        .unwrap_or_else(|error| panic!("{name}: household does not parse: {error}"));
    let household = if income_records.is_empty() {
        typed
    } else {
        let records: Vec<IncomeRecord> = income_records
            .iter()
            .map(|text| income_record(name, text))
            .collect();
        with_income_history(&typed, &records, &snapshot, as_of)
    };
    let explained = determine(&household, &snapshot, as_of);
    let quiet = determine_quiet(&household, &snapshot, as_of);
    let mut faults = Vec::new();
    let mut fault = |text: String| faults.push(format!("{name}: {text}"));

    let without_text = Determination {
        explanation: Vec::new(),
        ..explained.clone()
    };
    if without_text != quiet {
        fault(format!(
            "quiet path differs:\n{quiet:#?}\nvs\n{without_text:#?}"
        ));
    }
    let primary = code(explained.primary.map(|category| category.code()));
    if let Some(expected) = &expect.primary
        && *expected != primary
    {
        fault(format!("primary {primary}, expected {expected}"));
    }
    let monitoring = code(explained.monitoring.map(|kind| kind.code()));
    let expected_monitoring = expect
        .monitoring
        .clone()
        .unwrap_or_else(|| "none".to_owned());
    if monitoring != expected_monitoring {
        fault(format!(
            "monitoring {monitoring}, expected {expected_monitoring}"
        ));
    }
    if let Some(expected) = expect.monthly_benefit_yuan
        && explained.monthly_benefit != money(expected)
    {
        fault(format!(
            "monthly benefit {}, expected {expected}",
            explained.monthly_benefit
        ));
    }
    if let Some(expected) = expect.income_per_capita_month_yuan
        && explained.income_per_capita_month != money(expected)
    {
        fault(format!(
            "pci {}, expected {expected}",
            explained.income_per_capita_month
        ));
    }
    if let Some(expected) = expect.recheck_months
        && explained.recheck_months != expected
    {
        fault(format!(
            "recheck {}, expected {expected}",
            explained.recheck_months
        ));
    }
    if let Some(expected) = expect.risk_eliminated
        && explained.risk_eliminated != expected
    {
        fault(format!(
            "risk eliminated {}, expected {expected}",
            explained.risk_eliminated
        ));
    }
    if let Some(expected) = &expect.categories {
        let actual: Vec<ExpectGrant> = explained
            .categories
            .iter()
            .map(|grant| ExpectGrant {
                category: grant.category.code().to_owned(),
                scope: grant.scope.code().to_owned(),
                id_number: grant.id_number.as_ref().map(|id| id.as_str().to_owned()),
                monthly_yuan: grant.monthly.map(Yuan::to_f64),
            })
            .collect();
        if actual != *expected {
            fault(format!("categories {actual:?}, expected {expected:?}"));
        }
    }
    for rule in &expect.holds {
        if !explained
            .explanation
            .iter()
            .any(|reason| reason.rule == rule && reason.holds)
        {
            fault(format!("rule {rule} did not hold"));
        }
    }
    for rule in &expect.fails {
        if !explained
            .explanation
            .iter()
            .any(|reason| reason.rule == rule && !reason.holds)
        {
            fault(format!("rule {rule} did not fail"));
        }
    }
    let pending: Vec<&str> = explained
        .pending
        .iter()
        .map(|pending| pending.param.name())
        .collect();
    if pending != expect.pending {
        fault(format!(
            "pending {pending:?}, expected {:?}",
            expect.pending
        ));
    }
    // A pending test is shown as such in the explanation, and never as a pass of a decided test.
    for pending in &explained.pending {
        if !explained
            .explanation
            .iter()
            .any(|reason| reason.rule == pending.rule && reason.pending && reason.holds)
        {
            fault(format!(
                "pending {} is not marked in the explanation",
                pending.rule
            ));
        }
    }
    // The output record carries the same figures.
    let record = DeterminationRecord {
        household_id: household.id.as_str(),
        as_of,
        determination: &explained,
        explain: true,
    };
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
    if json["primary"].as_str().unwrap_or("none") != primary {
        fault("record primary differs".to_owned());
    }
    if json["monthly_benefit_yuan"].as_f64() != Some(explained.monthly_benefit.to_f64()) {
        fault("record benefit differs".to_owned());
    }
    let record_pending: Vec<&str> = json["pending"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|item| item["param"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if record_pending != pending {
        fault(format!("record pending {record_pending:?} differs"));
    }
    let mut bytes = Vec::new();
    record.write_json(&mut bytes);
    if bytes != serde_json::to_vec(&record).unwrap() {
        fault("write_json differs from the serde form".to_owned());
    }
    if faults.is_empty() {
        return faults;
    }
    for reason in &explained.explanation {
        faults.push(format!(
            "    [{}] {} {}",
            match (reason.holds, reason.pending) {
                (_, true) => "?",
                (true, false) => "x",
                (false, false) => " ",
            },
            reason.rule,
            reason.text
        ));
    }
    faults
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    files
}

#[test]
fn golden_cases() {
    let cases = files(&manifest().join("tests/cases"), "toml");
    assert!(
        cases.len() >= 30,
        "expected the golden cases, found {}",
        cases.len()
    );
    let mut faults = Vec::new();
    for path in &cases {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let case: Case = toml::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(
            case.expect.primary.is_some(),
            "{name}: expect.primary is required"
        );
        faults.extend(check(
            &name,
            &case.as_of,
            &case.set,
            &case.household,
            &case.income_records,
            &case.expect,
        ));
    }
    assert!(
        faults.is_empty(),
        "{} golden case faults:\n{}",
        faults.len(),
        faults.join("\n")
    );
}

#[test]
fn e_shared_examples_give_the_expected_results() {
    let dir = manifest().join("../../../shared/spec/examples");
    let examples = files(&dir, "json");
    assert_eq!(
        examples.len(),
        4,
        "the four worked examples of shared/spec/examples"
    );
    let mut faults = Vec::new();
    for path in &examples {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let example: Example =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(!example.expect.note.is_empty());
        let household = serde_json::to_string(&example.household).unwrap();
        faults.extend(check(
            &name,
            &example.as_of,
            &example.set,
            &household,
            &[],
            &example.expect,
        ));
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// Every parameter name in RULES.md's table is in the catalogue, spelled the same.
#[test]
fn catalogue_uses_the_parameter_names_of_rules_md() {
    let rules_md =
        std::fs::read_to_string(manifest().join("../../../shared/policy/RULES.md")).unwrap();
    let catalogue = Catalogue::builtin().unwrap();
    let mut named = 0;
    for row in rules_md.lines().filter(|line| line.starts_with("| `")) {
        let cell = row.split('|').nth(1).unwrap();
        let names: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
        // `a.b.c` / `.d` names a sibling by its last part; `deadline.*` is checked below.
        let first = names[0];
        for name in &names {
            let full = match name.strip_prefix('.') {
                Some(last) => format!("{}.{last}", first.rsplit_once('.').unwrap().0),
                None if name.contains('*') => continue,
                None => (*name).to_owned(),
            };
            assert!(
                catalogue.by_name(&full).is_ok(),
                "{full} (RULES.md) is not in the catalogue"
            );
            named += 1;
        }
    }
    assert_eq!(named, 27, "names read from RULES.md");
    let deadlines = catalogue
        .parameters()
        .iter()
        .filter(|parameter| parameter.param.name().starts_with("deadline."))
        .count();
    assert_eq!(deadlines, 9);
}
