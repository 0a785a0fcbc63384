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
        let mut scratch = String::new();
        for (line, row) in lines.enumerate() {
            let line_no = line as u64 + 2;
            match columns.parse_line_in(row, line_no, &mut scratch) {
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
        format!("{stranger},某人,disaster,6000,2025-06-01,"),
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
        out[1].starts_with("rejected 0:3 身份证号：身份证号校验位错误"),
        "{out:?}"
    );
    assert_eq!(out[2], "rejected 0:4 类别：未知类别“salary”");
    assert_eq!(out[3], "rejected 0:5 数值：数值“三千”无法识别");
    assert!(out[4].starts_with("rejected 0:6 日期：日期“2025/06/01”"));
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
    let period = domain::StatPeriod::parse("2025-06").unwrap();
    let one = crate::FeedIdentity::of("医保", &period, b"a,b\n");
    assert_eq!(one, crate::FeedIdentity::of("医保", &period, b"a,b\n"));
    assert_ne!(one, crate::FeedIdentity::of("医保", &period, b"a,c\n"));
}

/// A household of one person with `wages` a year, for categories below 低保.
fn single(hh: &str, first17: &str, name: &str, wages: u32) -> String {
    household(hh, &[(first17, name)], wages)
}

const EDGE: &str = "50022419750505005"; // in H3: wages a little above the line (低保边缘)

#[test]
fn every_rule_fires_on_its_own_kind_and_nowhere_else() {
    let all_set = [
        "property.vehicle_value_limit=50000",
        "property.extra_houses_limit=0",
        "property.business_allowed=false",
        "property.financial_assets_months=12",
        "comparison.medical_large_yuan=20000",
        "comparison.income_tolerance=0.1",
    ];
    // One row of every kind, all above any threshold, for an inside (低保) person, for an
    // outside person and for a stranger.
    let kinds = [
        ("vehicle", "900000", "渝B1"),
        ("real_estate", "90", "一号"),
        ("business", "100000", "某公司"),
        ("wage", "90000", ""),
        ("provident_fund", "500", ""),
        ("tax", "900000", ""),
        ("deposit", "9000000", ""),
        ("public_payroll", "9000", ""),
        ("medical", "90000", ""),
        ("death", "", ""),
        ("disability", "1", "physical"),
        ("school", "", "dropout"),
        ("unemployment", "", ""),
        ("disaster", "90000", ""),
        ("monitoring", "", "脱贫不稳定户"),
    ];
    let mut rows = Vec::new();
    for (who, name) in [
        (id(POOR), "张三"),
        (id(RICH), "王五"),
        (id("50022419900101009"), "某人"),
    ] {
        for (kind, value, detail) in kinds {
            rows.push(format!("{who},{name},{kind},{value},2025-06-01,{detail}"));
        }
    }
    let text = feed(&rows);
    assert_eq!(
        check(&[&text], &all_set, &[]),
        [
            // 低保 person (lines 2–16): every contradiction, and death; no possible need.
            "0:2 vehicle_over_limit in",
            "0:4 business_owner in",
            "0:5 income_over_declared in",
            "0:5 income_over_line in",
            "0:6 formal_job_undeclared in",
            // tax: the same income facts as the wage (one warning per person and rule).
            "0:8 deposit_over_limit in",
            "0:9 public_payroll in",
            "0:11 death in",
            // Outside person (lines 17–31): death and possible needs only.
            "0:25 large_medical_cost out",
            "0:26 death out",
            "0:27 new_disability out",
            "0:28 school_dropout out",
            "0:29 unemployment out",
            "0:30 disaster_loss out",
            "0:31 monitored_elsewhere out",
            // Stranger (lines 32–46): possible needs, no death (nobody to stop).
            "0:40 large_medical_cost out",
            "0:42 new_disability out",
            "0:43 school_dropout out",
            "0:44 unemployment out",
            "0:45 disaster_loss out",
            "0:46 monitored_elsewhere out",
            // One house is the one lived in: no extra_house (see duplicate_enrolment_and_extra_houses).
        ]
    );
}

#[test]
fn a_lower_category_gets_possible_needs_but_not_the_high_ones() {
    let snapshot = snapshot(&[]);
    let extra = [single("H3", EDGE, "赵六", 11_000)];
    let registry = registry(&snapshot, &extra);
    let edge = registry.person(id(EDGE).as_bytes().try_into().unwrap());
    let household = registry.household(edge.unwrap().household).unwrap();
    assert_eq!(household.primary, Some(domain::Category::DibaoEdge));
    let text = feed(&[
        format!("{},赵六,medical,30000,2025-06-01,", id(EDGE)),
        format!("{},赵六,disaster,6000,2025-06-01,", id(EDGE)),
        format!("{},张三,disaster,6000,2025-06-01,", id(POOR)),
    ]);
    assert_eq!(
        check(&[&text], &["comparison.medical_large_yuan=20000"], &extra),
        ["0:2 large_medical_cost in", "0:3 disaster_loss in"]
    );
}

#[test]
fn disaster_loss_fires_above_its_catalogue_line_only() {
    let thresholds = Thresholds::new(&snapshot(&[]));
    assert!(
        !thresholds
            .skipped()
            .iter()
            .any(|(rule, _)| rule.code() == "disaster_loss"),
        "the catalogue gives comparison.disaster_large_yuan a value"
    );
    let text = feed(&[
        format!("{},王五,disaster,5000,2025-06-01,", id(RICH)),
        format!("{},王五,disaster,5000.01,2025-06-01,", id(RICH)),
    ]);
    assert_eq!(check(&[&text], &[], &[]), ["0:3 disaster_loss out"]);
    assert_eq!(
        check(&[&text], &["comparison.disaster_large_yuan=6000"], &[]),
        Vec::<String>::new()
    );
    // The warning names the parameter it broke.
    let snapshot = snapshot(&[]);
    let registry = registry(&snapshot, &[]);
    let columns = Columns::from_header("id_number,name,kind,value,date,detail").unwrap();
    let row = format!("{},王五,disaster,9000,2025-06-01,", id(RICH));
    let record = columns.parse_line(&row, 2).unwrap();
    let mut findings = Findings::default();
    compare_record(&record, 0, &registry, &thresholds, &mut findings);
    let mut json = Vec::new();
    findings.warnings[0].write_json(&registry, &thresholds, &["f.csv".to_owned()], &mut json);
    let json = String::from_utf8(json).unwrap();
    assert!(
        json.contains(r#""param":{"name":"comparison.disaster_large_yuan","#)
            && json.contains(r#""value":5000.0}"#),
        "{json}"
    );
}

#[test]
fn a_repeated_feed_changes_nothing() {
    let text = feed(&[
        format!("{},张叁,death,,2025-06-01,", id(POOR)),
        format!("{},王五,unemployment,,2025-06-01,", id(RICH)),
        format!("{},张三,real_estate,80,2025-06-01,一号", id(POOR)),
        format!("{},张三,real_estate,80,2025-06-01,二号", id(POOR)),
    ]);
    let sets = ["property.extra_houses_limit=0"];
    let once = check(&[&text], &sets, &[]);
    assert_eq!(
        once,
        [
            "0:2 name_mismatch in",
            "0:2 death in",
            "0:3 unemployment out",
            // Two houses, one lived in, none more allowed: one of them is extra.
            "0:4 extra_house in"
        ]
    );
    assert_eq!(check(&[&text, &text, &text], &sets, &[]), once);
}

#[test]
fn quoted_cells_with_doubled_quotes_are_read_whole() {
    let columns = Columns::from_header("id_number,name,kind,value,date,detail").unwrap();
    let row = format!(
        r#""{}","张""三",vehicle,"60000.5",2025-06-01,"渝B""1"",2号""#,
        id(POOR)
    );
    let mut scratch = String::new();
    let record = columns.parse_line_in(&row, 5, &mut scratch).unwrap();
    assert_eq!(record.name, "张\"三");
    assert_eq!(record.detail, "渝B\"1\",2号");
    assert_eq!(record.value, Some(6_000_050));
    assert_eq!(record.line, 5);
    // Quoted cells without doubled quotes are borrowed, by either reader.
    let plain = format!(r#""{}","张,三",death,,2025-06-01,"#, id(POOR));
    assert_eq!(columns.parse_line(&plain, 6).unwrap().name, "张,三");
    assert_eq!(
        columns.parse_line_in(&plain, 6, &mut scratch).unwrap().name,
        "张,三"
    );
    // Faults name the line and the column.
    let open = format!(r#"{},"张三,death,,2025-06-01,"#, id(POOR));
    let fault = columns.parse_line_in(&open, 7, &mut scratch).unwrap_err();
    assert_eq!(
        (fault.line, fault.reason.as_str()),
        (7, "第 2 列的引号未闭合")
    );
    let junk = format!(r#"{},"张三"x,death,,2025-06-01,"#, id(POOR));
    let fault = columns.parse_line_in(&junk, 8, &mut scratch).unwrap_err();
    assert_eq!(fault.reason, "第 2 列的右引号后应为逗号");
    // A name with a doubled quote is still compared with the registry's.
    let text = format!(
        "\u{feff}身份证号,姓名,类别,数值,日期,说明\n{},\"张\"\"三\",death,,2025-06-01,\n{open}\n",
        id(POOR)
    );
    let mut seen = Vec::new();
    let rows = crate::read_csv(&text, |row| {
        seen.push(match row {
            Ok(record) => format!("{} {} {}", record.line, record.name, record.kind.code()),
            Err(rejection) => format!("{} {}", rejection.line, rejection.reason),
        })
    })
    .unwrap();
    assert_eq!(rows, 2);
    assert_eq!(seen, ["2 张\"三 death", "3 第 2 列的引号未闭合"]);
    let without_fault = format!(
        "身份证号,姓名,类别,数值,日期,说明\n{},\"张\"\"三\",death,,2025-06-01,\n",
        id(POOR)
    );
    assert_eq!(
        check(&[&without_fault], &[], &[]),
        ["0:2 name_mismatch in", "0:2 death in"]
    );
}

#[test]
fn a_quoted_cell_may_hold_line_breaks_in_a_csv_file() {
    // Line 2: a detail over three lines (one CRLF inside); line 5: the next record; line 6: an
    // open quote that never closes stands alone and is rejected; line 7 is read after it.
    let text = format!(
        "身份证号,姓名,类别,数值,日期,说明\n\
         {poor},张三,death,,2025-06-01,\"巴川街道\r\n永院村\n\"\"3\"\"组\"\n\
         {poor2},李四,death,,2025-06-02,\n\
         {poor},\"王五,death,,2025-06-03,\n\
         {poor2},李四,vehicle,60000,2025-06-04,\n",
        poor = id(POOR),
        poor2 = id(POOR2)
    );
    let mut seen = Vec::new();
    let rows = crate::read_csv(&text, |row| {
        seen.push(match row {
            Ok(record) => format!(
                "{} {} {} {:?}",
                record.line,
                record.name,
                record.kind.code(),
                record.detail
            ),
            Err(rejection) => format!("{} {}", rejection.line, rejection.reason),
        })
    })
    .unwrap();
    assert_eq!(rows, 4);
    assert_eq!(
        seen,
        [
            "2 张三 death \"巴川街道\\r\\n永院村\\n\\\"3\\\"组\"",
            "5 李四 death \"\"",
            "6 第 2 列的引号未闭合",
            "7 李四 vehicle \"\"",
        ]
    );
}

#[test]
fn xlsx_feeds_are_read_like_csv_with_row_numbers() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    // Chinese headers in another order, an extra column, a title row left blank above.
    let header = ["姓名", "类别", "身份证号", "数值", "日期", "说明", "备注"];
    for (column, title) in header.iter().enumerate() {
        sheet.write_string(1, column as u16, *title).unwrap();
    }
    // name, kind, id as text, id as number, value
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<f64>, Option<f64>);
    let rows: [Row<'_>; 6] = [
        ("张三", "vehicle", Some(&id(POOR)), None, Some(60000.5)),
        ("王五", "medical", Some(&id(RICH)), None, Some(30000.0)),
        ("张三", "death", None, Some(500224800101001.0), None), // 15-digit legacy as a number
        ("张三", "salary", Some(&id(POOR)), None, Some(1.0)),
        ("李四", "death", None, Some(500224198202020020.0), None), // 18 digits as a number
        (
            "李四",
            "wage",
            Some("500224198202020021"),
            None,
            Some(3000.0),
        ),
    ];
    for (at, (name, kind, text_id, number_id, value)) in rows.iter().enumerate() {
        let row = at as u32 + 2;
        sheet.write_string(row, 0, *name).unwrap();
        sheet.write_string(row, 1, *kind).unwrap();
        if let Some(text_id) = text_id {
            sheet.write_string(row, 2, *text_id).unwrap();
        }
        if let Some(number_id) = number_id {
            sheet.write_number(row, 2, *number_id).unwrap();
        }
        if let Some(value) = value {
            sheet.write_number(row, 3, *value).unwrap();
        }
        let day = ExcelDateTime::from_ymd(2025, 6, at as u8 + 1).unwrap();
        sheet
            .write_datetime_with_format(row, 4, &day, &date)
            .unwrap();
        sheet.write_string(row, 6, "备注").unwrap();
    }
    // A blank row in between is skipped; a text date is read as it is.
    sheet.write_string(9, 0, "王五").unwrap();
    sheet.write_string(9, 1, "unemployment").unwrap();
    sheet.write_string(9, 2, id(RICH)).unwrap();
    sheet.write_string(9, 4, "2025-07").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.xlsx");
    workbook.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let mut seen = Vec::new();
    let rows = crate::read_feed(&bytes, crate::FeedFormat::Xlsx, |row| {
        seen.push(match row {
            Ok(record) => format!(
                "{} {} {} {} {:?} {}",
                record.line,
                std::str::from_utf8(&record.id_number).unwrap(),
                record.name,
                record.kind.code(),
                record.value,
                record.date
            ),
            Err(rejection) => format!("{} {}", rejection.line, rejection.reason),
        })
    })
    .unwrap();
    assert_eq!(rows, 7);
    assert_eq!(
        seen,
        [
            format!("3 {} 张三 vehicle Some(6000050) 2025-06-01", id(POOR)),
            format!("4 {} 王五 medical Some(3000000) 2025-06-02", id(RICH)),
            format!("5 {} 张三 death None 2025-06-03", id(POOR)),
            "6 类别：未知类别“salary”".to_owned(),
            "7 身份证号：身份证号被存为数字，末几位已丢失（请将该列设为文本）".to_owned(),
            "8 身份证号：身份证号校验位错误（应为 3）".to_owned(),
            format!("10 {} 王五 unemployment None 2025-07", id(RICH)),
        ]
    );
    // The same workbook through the rules.
    let snapshot = snapshot(&["comparison.medical_large_yuan=20000"]);
    let thresholds = Thresholds::new(&snapshot);
    let registry = registry(&snapshot, &[]);
    let mut findings = Findings::default();
    crate::read_xlsx(&bytes, |row| {
        if let Ok(record) = row {
            compare_record(record, 0, &registry, &thresholds, &mut findings);
        }
    })
    .unwrap();
    let rules: Vec<&str> = findings.warnings.iter().map(|w| w.rule.code()).collect();
    assert_eq!(rules, ["large_medical_cost", "death", "unemployment"]);
    // Not a workbook at all: nothing is read.
    assert!(matches!(
        crate::read_xlsx(b"id_number,name\n", |_| ()),
        Err(crate::FeedError::Xlsx(_))
    ));
}

#[test]
fn batched_lookups_and_indexing_agree_with_one_at_a_time() {
    // `pack` (eight digits at a time) is the 17 digits as a number.
    for first17 in [POOR, POOR2, RICH, "11010519491231002", "99999999999999999"] {
        let key: crate::IdKey = id(first17).as_bytes().try_into().unwrap();
        assert_eq!(crate::registry::pack(&key), first17.parse::<u64>().unwrap());
    }
    let snapshot = snapshot(&[]);
    let lines: Vec<String> = (0..200)
        .map(|at| {
            let first = format!("500224198{:05}{:03}", 10_101 + at % 28, at);
            let second = format!("500224197{:05}{:03}", 10_101 + at % 5, at % 10);
            household(&format!("H{at}"), &[(&first, "甲"), (&second, "乙")], 0)
        })
        .collect();
    let mut one_by_one = Registry::default();
    let mut all = Registry::with_capacity(4, 4); // grows while indexing
    let mut summaries = Vec::new();
    for line in &lines {
        let household = domain::interchange::parse_household_line(line).unwrap();
        one_by_one.add(summarise(&household, &snapshot));
        summaries.push(summarise(&household, &snapshot));
    }
    all.add_all(summaries);
    assert_eq!(all.duplicates(), one_by_one.duplicates());
    assert!(!all.duplicates().is_empty(), "some second members repeat");
    assert_eq!(all.person_count(), one_by_one.person_count());
    let ids: Vec<crate::IdKey> = lines
        .iter()
        .flat_map(|line| {
            let household = domain::interchange::parse_household_line(line).unwrap();
            household
                .members
                .iter()
                .map(|person| person.id_number.as_str().as_bytes().try_into().unwrap())
                .collect::<Vec<crate::IdKey>>()
        })
        .chain([*id("50022419900101009").as_bytes().first_chunk().unwrap()])
        .collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(crate::registry::BATCH) {
        all.persons(chunk, &mut found);
        assert_eq!(found.len(), chunk.len());
        for (key, entry) in chunk.iter().zip(&found) {
            assert_eq!(entry.as_ref(), one_by_one.person(key));
        }
    }
    assert_eq!(found.last().unwrap(), &None, "a stranger is not found");
    for index in 0..200 {
        assert_eq!(
            all.household_id(index),
            Some(all.household(index).unwrap().id.as_ref())
        );
    }
    assert_eq!(all.household_id(200), None);
}

#[test]
fn plain_lines_split_eight_bytes_at_a_time_as_the_general_reader_does() {
    let columns = Columns::from_header("id_number,name,kind,value,date,detail").unwrap();
    let reordered = Columns::from_header("id_number,name,kind,value,date,detail,x").unwrap();
    let base = format!("{},张三,vehicle,60000,2025-06-01,渝B1", id(POOR));
    // Every length of detail, so that commas fall at every place in an eight-byte word, and
    // lines with too few or too many cells.
    for extra in 0..17 {
        let line = format!("{base}{}", "x".repeat(extra));
        let fast = columns.parse_line(&line, 2).unwrap();
        let with_extra_column = format!("{line},");
        let general = reordered.parse_line(&with_extra_column, 2).unwrap();
        assert_eq!(fast, general);
        assert_eq!(fast.detail.len(), "渝B1".len() + extra);
        let short = line.replacen(',', ";", 1 + extra % 5);
        let fault = columns.parse_line(&short, 3).unwrap_err();
        assert_eq!(fault.reason, format!("列数为 {}，应为 6", 5 - extra % 5));
        let long = format!("{line}{}", ",".repeat(1 + extra % 3));
        let fault = columns.parse_line(&long, 4).unwrap_err();
        assert_eq!(fault.reason, format!("列数为 {}，应为 6", 7 + extra % 3));
    }
    // A quote anywhere sends the line to the general reader.
    let quoted = format!("{},张三,vehicle,60000,2025-06-01,\"渝B1,2\"", id(POOR));
    assert_eq!(columns.parse_line(&quoted, 5).unwrap().detail, "渝B1,2");
}
