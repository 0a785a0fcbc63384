#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use crate::feed::{Columns, decode, parse_id, parse_json_line};
use crate::registry::{Registry, summarise};
use crate::rules::{Findings, Thresholds, compare_record, duplicate_warnings, extra_houses};
use domain::national_id::check_char;
use policy::{Catalogue, Override};
use std::collections::HashSet;

fn id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()))
}

/// A household line: `members` are (first 17 digits, name); `wages` a year's wages.
fn household(hh: &str, members: &[(&str, &str)], wages: u32) -> String {
    let members: Vec<String> = members
        .iter()
        .enumerate()
        .map(|(at, (first17, name))| {
            format!(
                r#"{{"id_number":"{}","name":"{name}","relation":"{}","labour_capacity":"full","disability":null,"serious_illness":false,"schooling":"none","care_need":"self","supporters":[]}}"#,
                id(first17),
                if at == 0 { "head" } else { "spouse" }
            )
        })
        .collect();
    format!(
        r#"{{"id":"{hh}","area_code":"500151100204","hukou":"rural","lifted_from_poverty":false,"members":[{}],"income_12m":{{"wages":{wages},"business":0,"property":0,"transfer":0,"other":0,"excluded":0}},"property":{{"financial_assets":0,"vehicles":[],"extra_houses":0,"business_registered":false}},"rigid_expenditure_12m":{{"medical":0,"education":0,"rehabilitation":0,"other":0}},"guarantees":{{"education":true,"medical":true,"housing":true,"drinking_water":true}},"risks":[],"months_above_monitoring_line":0}}"#,
        members.join(",")
    )
}

const POOR: &str = "50022419800101001"; // in H1: no income (低保)
const POOR2: &str = "50022419820202002";
const RICH: &str = "50022419700303003"; // in H2: high wages (outside the net)

fn registry(snapshot: &policy::Snapshot, extra: &[String]) -> Registry {
    let mut lines = vec![
        household("H1", &[(POOR, "张三"), (POOR2, "李四")], 0),
        household("H2", &[(RICH, "王五")], 240_000),
    ];
    lines.extend_from_slice(extra);
    let mut registry = Registry::default();
    for line in lines {
        let household = domain::interchange::parse_household_line(&line).unwrap();
        registry.add(summarise(&household, snapshot));
    }
    registry
}

fn snapshot(sets: &[&str]) -> policy::Snapshot {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|set| Override::parse(set).unwrap())
        .collect();
    Catalogue::builtin()
        .unwrap()
        .snapshot(chrono::NaiveDate::from_ymd_opt(2025, 8, 1).unwrap())
        .with_overrides(&overrides)
}

/// Runs the feeds (CSV text) and renders `feed:line rule inside_net` per deduplicated warning,
/// then `rejected feed:line reason`.
fn check(feeds: &[&str], sets: &[&str], extra: &[String]) -> Vec<String> {
    let snapshot = snapshot(sets);
    let thresholds = Thresholds::new(&snapshot);
    let registry = registry(&snapshot, extra);
    let mut findings = Findings::default();
    let mut rejected = Vec::new();
    for (feed, text) in feeds.iter().enumerate() {
        let mut lines = text.lines();
        let columns = Columns::from_header(lines.next().unwrap()).unwrap();
        for (line, row) in lines.enumerate() {
            let line_no = line as u64 + 2;
            match columns.parse_line(row, line_no) {
                Ok(record) => {
                    compare_record(&record, feed as u32, &registry, &thresholds, &mut findings)
                }
                Err(rejection) => rejected.push(format!(
                    "rejected {feed}:{} {}",
                    rejection.line, rejection.reason
                )),
            }
        }
    }
    let mut warnings = duplicate_warnings(&registry);
    warnings.extend(findings.warnings);
    warnings.extend(extra_houses(&mut findings.houses, &registry, &thresholds));
    let mut seen = HashSet::new();
    let mut out: Vec<String> = warnings
        .iter()
        .filter(|warning| seen.insert(warning.dedupe_key()))
        .map(|warning| {
            format!(
                "{}:{} {} {}",
                warning.feed,
                warning.line,
                warning.rule.code(),
                if warning.inside_net { "in" } else { "out" }
            )
        })
        .collect();
    out.extend(rejected);
    out
}

fn feed(rows: &[String]) -> String {
    let mut text = "id_number,name,kind,value,date,detail\n".to_owned();
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

#[test]
fn death_fires_inside_and_outside_the_net_and_not_for_strangers() {
    let text = feed(&[
        format!("{},张三,death,,2025-06-01,", id(POOR)),
        format!("{},王五,death,,2025-06,", id(RICH)),
        format!("{},某人,death,,2025-06-01,", id("50022419900101009")),
    ]);
    assert_eq!(check(&[&text], &[], &[]), ["0:2 death in", "0:3 death out"]);
}

#[test]
fn vehicle_limit_fires_above_not_at_the_limit_and_only_inside_the_net() {
    let text = feed(&[
        format!("{},张三,vehicle,50000,2025-06-01,渝B00001", id(POOR)),
        format!("{},张三,vehicle,50000.01,2025-06-01,渝B00002", id(POOR)),
        format!("{},王五,vehicle,900000,2025-06-01,渝B00003", id(RICH)),
    ]);
    assert_eq!(
        check(&[&text], &["property.vehicle_value_limit=50000"], &[]),
        ["0:3 vehicle_over_limit in"]
    );
    // No value configured: the rule does not fire.
    assert_eq!(check(&[&text], &[], &[]), Vec::<String>::new());
    let thresholds = Thresholds::new(&snapshot(&[]));
    assert!(
        thresholds
            .skipped()
            .iter()
            .any(|(rule, _)| rule.code() == "vehicle_over_limit")
    );
}

#[test]
fn income_over_line_and_over_declared() {
    // H1 has two members and no income; rural 低保标准 on 2025-08-01 is 630 a person-month,
    // so the line is 1260 for the household.
    let text = feed(&[
        format!("{},张三,wage,1260,2025-06-01,", id(POOR)),
        format!("{},李四,wage,1260.01,2025-06-01,", id(POOR2)),
        format!("{},王五,wage,90000,2025-06-01,", id(RICH)),
    ]);
    assert_eq!(check(&[&text], &[], &[]), ["0:3 income_over_line in"]);
    assert_eq!(
        check(&[&text], &["comparison.income_tolerance=0.1"], &[]),
        [
            "0:2 income_over_declared in",
            "0:3 income_over_declared in",
            "0:3 income_over_line in"
        ]
    );
}

#[test]
fn possible_need_fires_outside_the_net_only() {
    let stranger = id("50022419900101009");
    let text = feed(&[
        format!("{},王五,medical,20000,2025-06-01,", id(RICH)),
        format!("{},王五,medical,20000.5,2025-06-01,", id(RICH)),
        format!("{},张三,medical,90000,2025-06-01,", id(POOR)),
        format!("{stranger},某人,disaster,3000,2025-06-01,"),
        format!("{},王五,school,,2025-06-01,dropout", id(RICH)),
        format!("{},王五,school,,2025-06-01,compulsory", id(RICH)),
        format!("{},王五,disability,2,2025-06-01,physical", id(RICH)),
        format!("{},张三,disability,2,2025-06-01,physical", id(POOR)),
        format!("{},王五,unemployment,,2025-06-01,", id(RICH)),
    ]);
    assert_eq!(
        check(&[&text], &["comparison.medical_large_yuan=20000"], &[]),
        [
            "0:3 large_medical_cost out",
            "0:5 disaster_loss out",
            "0:6 school_dropout out",
            "0:8 new_disability out",
            "0:10 unemployment out"
        ]
    );
}

#[test]
fn name_mismatch_and_duplicates_across_feeds_are_one_warning() {
    let one = feed(&[
        format!("{},张叁,death,,2025-06-01,", id(POOR)),
        format!("{},张叁,death,,2025-06-01,", id(POOR)),
    ]);
    let two = feed(&[format!("{},张三,death,,2025-07,", id(POOR))]);
    assert_eq!(
        check(&[&one, &two], &[], &[]),
        ["0:2 name_mismatch in", "0:2 death in"]
    );
}

#[test]
fn duplicate_enrolment_and_extra_houses() {
    let extra = [household("H3", &[(POOR2, "李四")], 0)];
    let text = feed(&[
        format!("{},张三,real_estate,80,2025-06-01,一号", id(POOR)),
        format!("{},张三,real_estate,80,2025-06-01,一号", id(POOR)),
        format!("{},李四,real_estate,60,2025-06-01,二号", id(POOR2)),
        format!("{},李四,real_estate,60,2025-06-01,三号", id(POOR2)),
    ]);
    assert_eq!(
        check(&[&text], &["property.extra_houses_limit=1"], &extra),
        ["4294967295:0 duplicate_enrolment in", "0:5 extra_house in"]
    );
}

#[test]
fn bad_rows_are_rejected_with_their_lines_and_the_rest_is_read() {
    let legacy = "500224800101001"; // 15 digits: 50022419800101001 + check
    let text = feed(&[
        format!("{legacy},张三,death,,2025-06-01,"),
        "500224198001010010,张三,death,,2025-06-01,".to_owned(),
        format!("{},张三,salary,1,2025-06-01,", id(POOR)),
        format!("{},张三,wage,三千,2025-06-01,", id(POOR)),
        format!("{},张三,wage,3000,2025/06/01,", id(POOR)),
        format!("{},张三,wage", id(POOR)),
    ]);
    let out = check(&[&text], &[], &[]);
    assert_eq!(out[0], "0:2 death in");
    assert_eq!(out.len(), 6);
    assert!(
        out[1].starts_with("rejected 0:3 身份证号校验位错误"),
        "{out:?}"
    );
    assert_eq!(out[2], "rejected 0:4 未知类别“salary”");
    assert_eq!(out[3], "rejected 0:5 数值“三千”无法识别");
    assert!(out[4].starts_with("rejected 0:6 日期“2025/06/01”"));
    assert_eq!(out[5], "rejected 0:7 列数为 3，应为 6");
    assert_eq!(parse_id(legacy).unwrap(), *id(POOR).as_bytes());
}

#[test]
fn gb18030_with_chinese_headers_in_any_order() {
    let text = format!(
        "姓名,身份证号,类别,数值,日期,说明\n张三,{},death,,2025-06-01,\n",
        id(POOR)
    );
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    assert!(std::str::from_utf8(&bytes).is_err());
    let decoded = decode(&bytes).unwrap();
    assert_eq!(decoded, text);
    assert_eq!(check(&[&decoded], &[], &[]), ["0:2 death in"]);
}

#[test]
fn json_lines_rows_read_like_csv_rows() {
    let line = format!(
        r#"{{"身份证号":"{}","姓名":"张三","类别":"wage","数值":1260.01,"日期":"2025-06"}}"#,
        id(POOR)
    );
    let kind = parse_json_line(&line, 7, |record| (record.line, record.kind, record.value));
    assert_eq!(kind.unwrap(), (7, crate::FeedKind::Wage, Some(126_001)));
    assert!(parse_json_line("{", 8, |_| ()).unwrap_err().line == 8);
}

#[test]
fn feed_identity_is_the_same_for_the_same_bytes() {
    let one = crate::FeedIdentity::of("医保", "2025-06", b"a,b\n");
    assert_eq!(one, crate::FeedIdentity::of("医保", "2025-06", b"a,b\n"));
    assert_ne!(one, crate::FeedIdentity::of("医保", "2025-06", b"a,c\n"));
}
