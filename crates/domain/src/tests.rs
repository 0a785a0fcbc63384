use super::*;
use chrono::NaiveDate;
use proptest::prelude::*;

fn make_id(first17: &str) -> String {
    let mut id = first17.to_owned();
    id.push(national_id::check_char(first17.as_bytes()));
    id
}

#[test]
fn d1_national_id_accepts_valid_and_reads_birth_and_sex() {
    let id = NationalId::parse("500224194503120011").unwrap();
    assert_eq!(
        id.birth_date(),
        NaiveDate::from_ymd_opt(1945, 3, 12).unwrap()
    );
    assert_eq!(id.sex(), Sex::Male);
    assert_eq!(id.masked(), "500224********0011");
    assert_eq!(id.age_on(NaiveDate::from_ymd_opt(2025, 3, 11).unwrap()), 79);
    assert_eq!(id.age_on(NaiveDate::from_ymd_opt(2025, 3, 12).unwrap()), 80);
}

#[test]
fn a_shown_id_is_the_number_or_its_masked_form() {
    let id = NationalId::parse("500224194503120011").unwrap();
    assert_eq!(ShownId::of(&id, false).to_string(), "500224194503120011");
    assert_eq!(ShownId::of(&id, true).as_str(), "500224********0011");
    // Debug lands in logs: the full number never.
    assert_eq!(
        format!("{:?}", ShownId::of(&id, false)),
        "Full(NationalId(500224********0011))"
    );
}

#[test]
fn d1_national_id_refuses_bad_checksum_length_and_date() {
    assert!(matches!(
        NationalId::parse("500224194503120012"),
        Err(InvalidNationalId::Checksum { expected: '1' })
    ));
    assert!(matches!(
        NationalId::parse("5002241945"),
        Err(InvalidNationalId::Length(10))
    ));
    assert!(matches!(
        NationalId::parse(&make_id("50022419450230001")),
        Err(InvalidNationalId::BirthDate)
    ));
    assert!(matches!(
        NationalId::parse("50022419450312001A"),
        Err(InvalidNationalId::Characters)
    ));
}

#[test]
fn d1_legacy_fifteen_digit_number_is_converted() {
    let id = NationalId::parse("500224450312001").unwrap();
    assert_eq!(id.as_str(), "500224194503120011");
}

#[test]
fn lowercase_x_is_normalised() {
    let id = make_id("11010519491231002");
    assert!(id.ends_with('X'));
    assert_eq!(NationalId::parse(&id.to_lowercase()).unwrap().as_str(), id);
}

#[test]
fn u1_place_codes_nest() {
    let district = PlaceCode::parse("500151000000").unwrap();
    let town = PlaceCode::parse("500151102").unwrap();
    let village = PlaceCode::parse("500151102201").unwrap();
    let other_town = PlaceCode::parse("500151100000").unwrap();
    assert_eq!(district.as_str(), "500151");
    assert_eq!(town.level(), PlaceLevel::Town);
    assert!(district.contains(&village) && town.contains(&village) && village.contains(&village));
    assert!(!other_town.contains(&village));
    assert_eq!(village.parent(), Some(town.clone()));
    assert_eq!(village.statistical(), "500151102201");
    assert_eq!(town.statistical(), "500151102000");
    assert!(PlaceCode::parse("50015").is_err());
    assert!(PlaceCode::parse("500151000201").is_err());
}

#[test]
fn yuan_parses_formats_and_rounds_half_up() {
    assert_eq!(Yuan::parse("412.5").unwrap().to_string(), "412.50");
    assert_eq!(Yuan::parse("-3").unwrap().to_string(), "-3.00");
    assert!(Yuan::parse("1.234").is_err());
    assert!(Yuan::parse("abc").is_err());
    assert_eq!(Yuan::from_f64(14400.57).unwrap().fen(), 1_440_057);
    assert!(Yuan::from_f64(0.001).is_err());
    assert_eq!(Yuan::from_fen(1000).div_round(3).fen(), 333);
    assert_eq!(Yuan::from_fen(1001).div_round(2).fen(), 501);
    assert_eq!(Yuan::from_fen(-1001).div_round(2).fen(), -501);
}

#[test]
fn names_are_masked() {
    assert_eq!(national_id::mask_name("张三"), "张*");
    assert_eq!(national_id::mask_name("欧阳娜娜"), "欧***");
    assert_eq!(national_id::mask_name("李"), "李*");
}

#[test]
fn d3_interchange_example_round_trips_with_defaults() {
    let line = r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","name":"张三","relation":"head"}],"income_12m":{"wages":1200.5}}"#;
    let household = interchange::parse_household_line(line).unwrap();
    assert_eq!(household.hukou, Hukou::Rural);
    assert_eq!(household.members[0].labour_capacity, LabourCapacity::Full);
    assert_eq!(household.income_12m.countable().to_string(), "1200.50");
    assert!(household.guarantees.all_secured());
    let record = interchange::HouseholdRecord::from(&household);
    let again = Household::try_from(&record).unwrap();
    assert_eq!(again, household);
}

#[test]
fn d3_interchange_errors_name_the_field() {
    let unknown = r#"{"id":"H-1","area_code":"500151102201","members":[],"colour":1}"#;
    assert_eq!(
        interchange::parse_household_line(unknown).unwrap_err(),
        "未知字段“colour”"
    );
    let bad_id = r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120012","relation":"head"}]}"#;
    assert!(
        interchange::parse_household_line(bad_id)
            .unwrap_err()
            .starts_with("members[0].id_number: ")
    );
    let two_heads = r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"},{"id_number":"500224195003150315","relation":"head"}]}"#;
    assert!(
        interchange::parse_household_line(two_heads)
            .unwrap_err()
            .contains("户主")
    );
}

#[test]
fn period_contains_is_half_open() {
    let d = |day| NaiveDate::from_ymd_opt(2025, 7, day).unwrap();
    let period = Period {
        start: d(1),
        end: Some(d(10)),
    };
    assert!(period.contains(d(1)) && period.contains(d(9)) && !period.contains(d(10)));
}

proptest! {
    #[test]
    fn prop_generated_ids_parse_back(region in 110000u32..660000, days in 0i64..40000, seq in 0u32..1000) {
        let birth = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        let first17 = format!("{region:06}{}{seq:03}", birth.format("%Y%m%d"));
        let id = NationalId::parse(&make_id(&first17)).unwrap();
        prop_assert_eq!(id.birth_date(), birth);
        prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
    }

    #[test]
    fn prop_any_single_digit_change_breaks_the_checksum(pos in 0usize..17, delta in 1u8..10) {
        let id = make_id("50022419450312001");
        let mut bytes = id.clone().into_bytes();
        bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(NationalId::parse(&changed).is_err());
    }

    #[test]
    fn prop_yuan_display_parses_back(fen in -1_000_000_000i64..1_000_000_000) {
        let yuan = Yuan::from_fen(fen);
        prop_assert_eq!(Yuan::parse(&yuan.to_string()).unwrap(), yuan);
        prop_assert_eq!(Yuan::from_f64(yuan.to_f64()).unwrap(), yuan);
    }
}

#[test]
fn a_feed_date_is_a_real_day_or_month_and_reads_back_as_given() {
    let check = |raw: &str| match FeedDate::parse(raw) {
        Ok(date) => format!("ok {date} {date:?}"),
        Err(error) => format!("err {error}"),
    };
    let got: Vec<String> = [
        "2026-10-03",
        "2026-10",
        "2024-02-29",
        "2025-02-29",
        "2026-13",
        "2026-1-03",
        "",
        "2026/10/03",
    ]
    .iter()
    .map(|raw| check(raw))
    .collect();
    assert_eq!(
        got,
        [
            "ok 2026-10-03 Day(2026-10-03)",
            "ok 2026-10 Month(2026-10-01)",
            "ok 2024-02-29 Day(2024-02-29)",
            "err 日期“2025-02-29”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）",
            "err 日期“2026-13”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）",
            "err 日期“2026-1-03”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）",
            "err 日期“”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）",
            "err 日期“2026/10/03”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）",
        ]
    );
}

#[test]
fn a_stat_period_is_read_upper_case_and_shown_as_stored() {
    for (raw, stored) in [
        ("2026", "2026"),
        (" 2026h1 ", "2026H1"),
        ("2026q3", "2026Q3"),
        ("2026-07", "2026-07"),
    ] {
        let period = StatPeriod::parse(raw).unwrap();
        assert_eq!(period.as_str(), stored);
        assert_eq!(StatPeriod::parse(period.as_str()).unwrap(), period);
    }
    assert!(StatPeriod::parse("bench-1").is_err());
}

#[test]
fn u1_place_list_requires_parents_first() {
    let places =
        parse_place_list("code,name\n500151,铜梁区\n500151001,巴川街道\n500151001001,第一社区\n")
            .unwrap();
    assert_eq!(places.len(), 3);
    let orphan = parse_place_list("500151,铜梁区\n500151001001,第一社区\n").unwrap_err();
    assert_eq!(orphan.line, 2);
    assert!(
        parse_place_list("500151,铜梁区\n500151001\n")
            .unwrap_err()
            .to_string()
            .starts_with("第2行")
    );
}

#[test]
fn d3_borrowed_parse_path_agrees_with_the_owned_one() {
    let lines = [
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","name":"张三","relation":"head"}],"income_12m":{"wages":1200.5}}"#,
        r#"{"id":" H-2 ","area_code":"500151102201","hukou":"urban","lifted_from_poverty":true,"members":[{"id_number":"500224194503120011","name":"张\"三","relation":"head","labour_capacity":"none","disability":{"kind":"visual","grade":1},"serious_illness":true,"schooling":"college","care_need":"full","income_12m":100,"supporters":[{"relation":"child","able":true}]}],"income_12m":{"wages":1,"business":2,"property":3,"transfer":4,"other":5,"excluded":6},"property":{"financial_assets":7,"vehicles":[{"kind":"car","value":8}],"extra_houses":1,"business_registered":true},"rigid_expenditure_12m":{"medical":9,"education":10,"rehabilitation":11,"other":12},"guarantees":{"education":false,"drinking_water":false},"risks":["illness","disaster"],"months_above_monitoring_line":3}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[],"colour":1}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[]}"#,
        r#"{"id":"","area_code":"500151102201","members":[]}"#,
        r#"{"id":"H-1","area_code":"500151102","members":[]}"#,
        r#"{"id":"H-1","members":[]}"#,
        r#"{"id":"H-1","area_code":"500151102201","hukou":"town","members":[{"id_number":"500224194503120011","relation":"head"}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120012","relation":"head"}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"},{"id_number":"500224194503120011","relation":"child"}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"child"}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","disability":{"kind":"physical","grade":5}}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","schooling":"phd"}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"income_12m":{"wages":-1}}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"income_12m":{"wages":1.234}}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"property":{"vehicles":[{"kind":"boat","value":1}]}}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"risks":["boredom"]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","supporters":[{"relation":"cousin"}]}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}]"#,
        r#"not json"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","labour_capacity":null}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","schooling":null,"care_need":null}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","hukou":null,"members":[{"id_number":"500224194503120011","relation":"head","disability":null,"income_12m":null}]}"#,
        r#"{"id":"H-1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","disability":null,"income_12m":null}],"risks":[],"guarantees":{}}"#,
    ];
    for line in lines {
        assert_eq!(
            interchange::parse_household_bytes(line.as_bytes()),
            interchange::parse_household_line(line),
            "{line}"
        );
    }
    assert!(
        interchange::parse_household_bytes(b"{\"id\":\"\xff\"}")
            .unwrap_err()
            .contains("UTF-8")
    );
}

#[test]
fn household_no_is_one_line_of_at_most_64_characters() {
    let check = |raw: &str| match HouseholdNo::parse(raw) {
        Ok(no) => format!("ok {no}"),
        Err(error) => format!("err {error}"),
    };
    let long = "户".repeat(65);
    let got: Vec<String> = ["H-1", "  TL-0001 ", "", "  ", "a\tb", long.as_str()]
        .iter()
        .map(|raw| check(raw))
        .collect();
    assert_eq!(
        got,
        [
            "ok H-1",
            "ok TL-0001",
            "err 户编号不能为空",
            "err 户编号不能为空",
            "err 户编号：含有不允许的控制字符（第2个字符 U+0009），请删除后重新提交",
            "err 户编号：过长：65个字，至多64个字",
        ]
    );
}
