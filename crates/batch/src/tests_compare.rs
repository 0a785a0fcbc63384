//! `compare` end to end on small hand-made files: CSV with quoted cells, XLSX, a repeated feed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use crate::compare::{CompareArgs, compare_to};
use domain::national_id::check_char;
use std::path::Path;

fn id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()))
}

fn household(hh: &str, first17: &str, name: &str, wages: u32) -> String {
    format!(
        r#"{{"id":"{hh}","area_code":"500151100204","hukou":"rural","lifted_from_poverty":false,"members":[{{"id_number":"{}","name":"{name}","relation":"head","labour_capacity":"full","disability":null,"serious_illness":false,"schooling":"none","care_need":"self","supporters":[]}}],"income_12m":{{"wages":{wages},"business":0,"property":0,"transfer":0,"other":0,"excluded":0}},"property":{{"financial_assets":0,"vehicles":[],"extra_houses":0,"business_registered":false}},"rigid_expenditure_12m":{{"medical":0,"education":0,"rehabilitation":0,"other":0}},"guarantees":{{"education":true,"medical":true,"housing":true,"drinking_water":true}},"risks":[],"months_above_monitoring_line":0}}"#,
        id(first17)
    )
}

const POOR: &str = "50022419800101001";
const RICH: &str = "50022419700303003";

fn run(dir: &Path, feeds: &[&str]) -> (Vec<String>, String) {
    let households = dir.join("h.jsonl");
    std::fs::write(
        &households,
        format!(
            "{}\n{}\n",
            household("H1", POOR, "张三", 0),
            household("H2", RICH, "王五", 240_000)
        ),
    )
    .unwrap();
    let args = CompareArgs {
        households,
        feed: feeds.iter().map(|feed| dir.join(feed)).collect(),
        as_of: chrono::NaiveDate::from_ymd_opt(2025, 8, 1),
        set: vec!["comparison.medical_large_yuan=20000".to_owned()],
        ..CompareArgs::default()
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    compare_to(&args, &mut out, &mut errors).unwrap();
    let out = String::from_utf8(out).unwrap();
    let warnings = out
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            format!(
                "{}:{} {} {}",
                value["feed"].as_str().unwrap().rsplit('/').next().unwrap(),
                value["line"],
                value["rule"].as_str().unwrap(),
                value["id_number"].as_str().unwrap()
            )
        })
        .collect();
    let errors = String::from_utf8(errors)
        .unwrap()
        .lines()
        .filter(|line| !line.contains("未执行"))
        .map(|line| line.rsplit('/').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    (warnings, errors)
}

#[test]
fn csv_cells_with_doubled_quotes_are_read_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.csv"),
        format!(
            "id_number,name,kind,value,date,detail\n\
             {poor},张三,unemployment,,2025-06-01,\n\
             \"{poor}\",\"张\"\"三\",death,,2025-06-01,\"说明，含\"\"引号\"\"\"\n\
             {rich},\"王五\",medical,\"20000.01\",2025-06,\n\
             {rich},王五,medical,20000.01,2025-06,\"未闭合\n",
            poor = id(POOR),
            rich = id(RICH)
        ),
    )
    .unwrap();
    let (warnings, errors) = run(dir.path(), &["f.csv"]);
    assert_eq!(
        warnings,
        [
            format!("f.csv:3 name_mismatch {}", id(POOR)),
            format!("f.csv:3 death {}", id(POOR)),
            format!("f.csv:4 large_medical_cost {}", id(RICH)),
        ]
    );
    assert_eq!(errors, "f.csv:5: 第 6 列的引号未闭合");
}

#[test]
fn xlsx_feeds_are_compared_and_a_repeat_adds_nothing() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, title) in ["身份证号", "姓名", "类别", "数值", "日期", "说明"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, column as u16, *title).unwrap();
    }
    let rows = [
        [
            id(POOR),
            "张三".into(),
            "death".into(),
            "".into(),
            "2025-06-01".into(),
        ],
        [
            id(RICH),
            "王六".into(),
            "medical".into(),
            "30000".into(),
            "2025-06".into(),
        ],
        [
            id(RICH),
            "王五".into(),
            "salary".into(),
            "1".into(),
            "2025-06".into(),
        ],
    ];
    for (at, row) in rows.iter().enumerate() {
        for (column, cell) in row.iter().enumerate() {
            if column == 3 && !cell.is_empty() {
                let number: f64 = cell.parse().unwrap();
                sheet.write_number(at as u32 + 1, 3, number).unwrap();
            } else {
                sheet
                    .write_string(at as u32 + 1, column as u16, cell.as_str())
                    .unwrap();
            }
        }
    }
    workbook.save(dir.path().join("f.xlsx")).unwrap();
    let (warnings, errors) = run(dir.path(), &["f.xlsx"]);
    assert_eq!(
        warnings,
        [
            format!("f.xlsx:2 death {}", id(POOR)),
            format!("f.xlsx:3 name_mismatch {}", id(RICH)),
            format!("f.xlsx:3 large_medical_cost {}", id(RICH)),
        ]
    );
    assert_eq!(errors, "f.xlsx:4: 类别：未知类别“salary”");
    // The same workbook twice: the same warnings, the bad row named twice.
    let (again, errors) = run(dir.path(), &["f.xlsx", "f.xlsx"]);
    assert_eq!(again, warnings);
    assert_eq!(
        errors,
        "f.xlsx:4: 类别：未知类别“salary”\nf.xlsx:4: 类别：未知类别“salary”"
    );
}
