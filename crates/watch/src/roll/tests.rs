use super::*;
use domain::national_id::check_char;

fn id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()))
}

fn key(first17: &str) -> IdKey {
    parse_id(&id(first17)).unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

const TODAY: &str = "2026-12-01";
const HEADER: &str = "身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关";

fn read(category: Category, csv: &str) -> Roll {
    read_roll(csv.as_bytes(), FeedFormat::Csv, category, date(TODAY)).unwrap()
}

/// The plan in one line per row kind, for table tests.
fn summary(plan: &Plan) -> String {
    let mut out = String::new();
    for write in &plan.writes {
        out.push_str(&format!(
            "write h{} {} {} {} {:?} {} lines {:?}\n",
            write.household,
            write
                .id_number
                .map_or("户".to_owned(), |id| String::from_utf8_lossy(&id)
                    .into_owned()),
            write.category.code(),
            write.start,
            write.monthly_fen,
            write.reason(),
            write.lines
        ));
    }
    for (kind, notes) in [
        ("unmatched", &plan.unmatched),
        ("already", &plan.already),
        ("conflict", &plan.conflicts),
    ] {
        for note in notes {
            out.push_str(&format!("{kind} {}: {}\n", note.line, note.reason));
        }
    }
    for bad in &plan.bad {
        out.push_str(&format!("bad {bad}\n"));
    }
    out
}

fn check(category: Category, body: &str, facts: &Facts, expect: &str) {
    let roll = read(category, &format!("{HEADER}\n{body}"));
    let got = summary(&plan(&roll, facts));
    assert_eq!(got.trim(), expect.trim(), "\n{got}");
}

fn facts() -> Facts {
    let mut facts = Facts::default();
    facts.household_of.insert(key("50022419500101001"), 1);
    facts.household_of.insert(key("50022419520101002"), 1);
    facts.household_of.insert(key("50022419600101003"), 2);
    facts.household_of.insert(key("50022419700101004"), 3);
    facts.holdings.insert(
        2,
        vec![Holding {
            category: Category::Dibao,
            id_number: None,
            monitoring_kind: None,
            period: Period {
                start: date("2025-07-01"),
                end: None,
            },
        }],
    );
    facts.holdings.insert(
        3,
        vec![Holding {
            category: Category::Tekun,
            id_number: Some(key("50022419700101004")),
            monitoring_kind: None,
            period: Period {
                start: date("2024-01-01"),
                end: None,
            },
        }],
    );
    facts
}

#[test]
fn issue12_roll_rows_of_one_household_merge_into_one_period() {
    let a = id("50022419500101001");
    let b = id("50022419520101002");
    check(
        Category::Dibao,
        &format!(
            "{a},张一,整户,2025-07-01,1260,铜民发〔2025〕1号,铜梁区民政局\n\
             {b},李二,户,2025/7/1,\"1,260.00\",铜民发〔2025〕1号,铜梁区民政局\n"
        ),
        &facts(),
        "write h1 户 dibao 2025-07-01 Some(126000) 名册导入（一门入库）：铜梁区民政局〔铜民发〔2025〕1号〕 lines [2, 3]",
    );
}

#[test]
fn issue12_unmatched_already_and_registry_conflicts() {
    let stranger = id("11010119800101005");
    let in_dibao = id("50022419600101003");
    let tekun = id("50022419700101004");
    check(
        Category::Dibao,
        &format!(
            "{stranger},外人,整户,2025-07-01,630,文1,机关\n\
             {in_dibao},王三,整户,2025-08-01,630,文1,机关\n\
             {tekun},赵四,个人,2025-08-01,630,文1,机关\n"
        ),
        &facts(),
        "unmatched 2: 身份证号不在本系统任何家庭中\n\
         already 3: 2025-07-01 起已登记为低保\n\
         conflict 4: 2024-01-01 起已登记为特困人员，与低保互斥",
    );
}

#[test]
fn issue12_tekun_beside_household_dibao_is_rule_2_not_a_conflict() {
    let in_dibao = id("50022419600101003");
    let roll = read(
        Category::Tekun,
        &format!("{HEADER},供养方式\n{in_dibao},王三,个人,2025-08-01,1001,文2,机关,集中供养\n"),
    );
    let got = summary(&plan(&roll, &facts()));
    assert!(
        got.starts_with(&format!(
            "write h2 {in_dibao} tekun 2025-08-01 Some(100100) 名册导入（一门入库）：机关〔文2〕，集中供养"
        )),
        "{got}"
    );
}

#[test]
fn issue12_the_same_person_twice_with_different_data_is_a_conflict_on_both_lines() {
    let a = id("50022419500101001");
    check(
        Category::Dibao,
        &format!(
            "{a},张一,个人,2025-07-01,630,文1,机关\n\
             {a},张一,个人,2025-07-01,630,文1,机关\n\
             {a},张一,个人,2025-09-01,630,文1,机关\n"
        ),
        &facts(),
        "conflict 2: 同一人在文件中出现于第 2、3、4 行，数据不一致（如第 2 行与第 4 行）\n\
         conflict 3: 同一人在文件中出现于第 2、3、4 行，数据不一致（如第 2 行与第 4 行）\n\
         conflict 4: 同一人在文件中出现于第 2、3、4 行，数据不一致（如第 2 行与第 4 行）",
    );
}

#[test]
fn issue12_every_kind_of_bad_row_names_its_line_and_column() {
    let a = id("50022419500101001");
    let bad_check = format!("{}0", &a[..17]);
    let bad_check = if bad_check == a {
        format!("{}1", &a[..17])
    } else {
        bad_check
    };
    check(
        Category::Dibao,
        &format!(
            "{bad_check},张一,整户,2025-07-01,630,文1,机关\n\
             {a},张一,整户,2025-02-30,630,文1,机关\n\
             {a},张一,整户,2027-01-01,630,文1,机关\n\
             {a},张一,整户,2025-07-01,-5,文1,机关\n\
             {a},张一,整户,2025-07-01,六百,文1,机关\n\
             {a},张一,全家,2025-07-01,630,文1,机关\n\
             {a},张一,整户,2025-07-01,630,,机关\n\
             {a},张一,整户,2025-07-01,,文1,机关\n\
             {a},张一,整户,2025-07-01,630,文1,机关,多余\n\
             \"{a},张一\n"
        ),
        &Facts::default(),
        &format!(
            "unmatched 10: 身份证号不在本系统任何家庭中\n\
             bad 第 2 行“身份证号”列：身份证号校验位错误（应为 {}）\n\
             bad 第 3 行“起始日期”列：“2025-02-30”不是有效日期\n\
             bad 第 4 行“起始日期”列：2027-01-01 晚于今天（2026-12-01）\n\
             bad 第 5 行“月保障金额”列：“-5”为负数\n\
             bad 第 6 行“月保障金额”列：“六百”不是金额（元，至多两位小数）\n\
             bad 第 7 行“保障范围”列：“全家”无法识别（应为 整户 或 个人）\n\
             bad 第 8 行“审批文号”列：为空\n\
             bad 第 9 行“月保障金额”列：为空\n\
             bad 第 11 行：第 1 列的引号未闭合",
            &a[17..]
        ),
    );
}

#[test]
fn issue12_category_scope_kind_and_support_mode_are_checked_by_roll() {
    let a = id("50022419500101001");
    let roll = read(
        Category::Monitoring,
        &format!(
            "id_number,name,category,scope,start_date,document,authority,monitoring_kind\n\
             {a},张一,低保,household,2025-07-01,文1,农业农村委,边缘易致贫户\n\
             {a},张一,防止返贫监测对象,person,2025-07-01,文1,农业农村委,边缘易致贫户\n\
             {a},张一,monitoring,household,2025-07-01,文1,农业农村委,贫困户\n\
             {a},张一,monitoring,household,2025-07-01,文1,农业农村委,edge_prone\n"
        ),
    );
    let got = summary(&plan(&roll, &facts()));
    assert_eq!(
        got.trim(),
        "write h1 户 monitoring 2025-07-01 None 名册导入（一门入库）：农业农村委〔文1〕 lines [5]\n\
         bad 第 2 行“救助类别”列：为“低保”，与导入的防止返贫监测对象名册不符\n\
         bad 第 3 行“保障范围”列：防止返贫监测对象名册不能按“个人”登记\n\
         bad 第 4 行“监测类型”列：“贫困户”无法识别（应为 脱贫不稳定户、边缘易致贫户 或 突发严重困难户）"
    );
    assert_eq!(
        plan(&roll, &facts()).writes[0].monitoring_kind,
        Some(MonitoringKind::EdgeProne)
    );
}

#[test]
fn issue12_a_missing_required_column_refuses_the_file() {
    for (category, header, missing) in [
        (
            Category::Dibao,
            "身份证号,姓名,保障范围,起始日期,审批文号,审批机关",
            "月保障金额",
        ),
        (
            Category::DibaoEdge,
            "身份证号,姓名,起始日期,审批文号,审批机关",
            "保障范围",
        ),
        (Category::Tekun, HEADER, "供养方式"),
        (
            Category::Monitoring,
            "身份证号,姓名,保障范围,起始日期,审批文号,审批机关",
            "监测类型",
        ),
    ] {
        let error = read_roll(
            format!("{header}\n").as_bytes(),
            FeedFormat::Csv,
            category,
            date(TODAY),
        )
        .unwrap_err();
        assert!(
            matches!(error, RollError::MissingColumn { chinese, .. } if chinese == missing),
            "{category}: {error}"
        );
    }
    let error = read_roll(
        "身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关,姓名\n".as_bytes(),
        FeedFormat::Csv,
        Category::Dibao,
        date(TODAY),
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "表头列“姓名”重复");
}

#[test]
fn issue12_a_roll_reads_the_same_from_gb18030_csv_and_from_xlsx() {
    let a = id("50022419500101001");
    let text = format!("{HEADER}\n{a},张一,整户,2025-07-01,630.5,铜民发〔2025〕1号,铜梁区民政局\n");
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    let from_gb = read_roll(&gb, FeedFormat::Csv, Category::Dibao, date(TODAY)).unwrap();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, name) in HEADER.split(',').enumerate() {
        sheet.write_string(0, col as u16, name).unwrap();
    }
    sheet.write_string(1, 0, &a).unwrap();
    sheet.write_string(1, 1, "张一").unwrap();
    sheet.write_string(1, 2, "整户").unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet
        .write_datetime_with_format(
            1,
            3,
            rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 7, 1).unwrap(),
            &format,
        )
        .unwrap();
    sheet.write_number(1, 4, 630.5).unwrap();
    sheet.write_string(1, 5, "铜民发〔2025〕1号").unwrap();
    sheet.write_string(1, 6, "铜梁区民政局").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let from_xlsx = read_roll(&bytes, FeedFormat::Xlsx, Category::Dibao, date(TODAY)).unwrap();
    assert!(
        from_gb.bad.is_empty() && from_xlsx.bad.is_empty(),
        "{from_xlsx:?}"
    );
    assert_eq!(from_gb.rows, read(Category::Dibao, &text).rows);
    assert_eq!(from_gb.rows, from_xlsx.rows);
    assert_eq!(from_gb.rows[0].monthly_fen, Some(63050));
}

#[test]
fn issue12_the_category_argument_reads_codes_labels_and_platform_names() {
    for (text, expected) in [
        ("dibao", Some(Category::Dibao)),
        ("低保", Some(Category::Dibao)),
        ("特困供养人员", Some(Category::Tekun)),
        ("刚性支出困难家庭", Some(Category::RigidExpenditure)),
        ("防止返贫监测对象", Some(Category::Monitoring)),
        ("其他困难人员", Some(Category::OtherNeedy)),
        ("五保", None),
    ] {
        assert_eq!(parse_category(text), expected, "{text}");
    }
}

#[test]
fn issue13_a_tekun_roll_carries_support_mode_and_an_optional_care_level() {
    let a = id("50022419500101001");
    let b = id("50022419600101002");
    let c = id("50022419700101003");
    let roll = read(
        Category::Tekun,
        &format!(
            "{HEADER},供养方式,照料护理等级\n\
             {a},张一,个人,2025-07-01,1001,文1,区民政局,集中供养,全护理\n\
             {b},张二,个人,2025-07-01,1001,文1,区民政局,分散供养,全自理\n\
             {c},张三,个人,2025-07-01,1001,文1,区民政局,分散供养,\n\
             {c},张三,个人,2025-07-01,1001,文1,区民政局,分散供养,特级护理\n"
        ),
    );
    let levels: Vec<(Option<SupportMode>, Option<CareNeed>)> = roll
        .rows
        .iter()
        .map(|row| (row.support_mode, row.care_level))
        .collect();
    assert_eq!(
        levels,
        [
            (Some(SupportMode::Centralised), Some(CareNeed::Full)),
            (Some(SupportMode::Dispersed), Some(CareNeed::SelfCare)),
            (Some(SupportMode::Dispersed), None),
        ]
    );
    assert_eq!(
        roll.bad.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["第 5 行“照料护理等级”列：“特级护理”无法识别（应为 全护理、半护理 或 自理）"]
    );
    // The care level reaches the planned period; another category's roll refuses the column.
    let mut facts = Facts::default();
    facts.household_of.insert(key("50022419500101001"), 1);
    let planned = plan(&roll, &facts);
    assert_eq!(planned.writes[0].care_level, Some(CareNeed::Full));
    assert_eq!(
        planned.writes[0].support_mode,
        Some(SupportMode::Centralised)
    );
    let dibao = read(
        Category::Dibao,
        &format!("{HEADER},照料护理等级\n{a},张一,整户,2025-07-01,600,文1,区民政局,全护理\n"),
    );
    assert_eq!(
        dibao
            .bad
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["第 2 行“照料护理等级”列：仅特困人员名册填写"]
    );
}
