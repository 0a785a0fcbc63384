use super::*;
use chrono::NaiveDate;
use domain::{Category, Household, Yuan};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn builtin() -> Catalogue {
    Catalogue::builtin().unwrap()
}

fn household(json: &str) -> Household {
    domain::interchange::parse_household_line(json).unwrap()
}

/// A household of `n` adults born 1985 (valid ID numbers) with `wages` a year in `area`.
fn adults(id: &str, area: &str, n: usize, wages: &str) -> Household {
    let ids = [
        "50022419850101001X",
        "500224198501010028",
        "500224198501010036",
        "500224198501010044",
    ];
    let members: Vec<String> = ids[..n]
        .iter()
        .enumerate()
        .map(|(idx, id_number)| {
            let relation = if idx == 0 { "head" } else { "sibling" };
            format!(r#"{{"id_number":"{id_number}","relation":"{relation}"}}"#)
        })
        .collect();
    household(&format!(
        r#"{{"id":"{id}","area_code":"{area}","members":[{}],"income_12m":{{"wages":{wages}}}}}"#,
        members.join(",")
    ))
}

/// Replaces the catalogue's text of one parameter's table by `replacement`.
fn edited(find: &str, replacement: &str) -> String {
    let text = include_str!("../../../policy/catalogue.toml");
    assert!(text.contains(find), "{find}");
    text.replacen(find, replacement, 1)
}

fn load_error(text: &str) -> (usize, String) {
    match Catalogue::from_toml(text, "test.toml") {
        Err(CatalogueError::Invalid { file, line, reason }) => {
            assert_eq!(file, "test.toml");
            (line, reason)
        }
        other => panic!("expected a load error, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn builtin_catalogue_holds_every_parameter_of_rules_md() {
    let catalogue = builtin();
    assert_eq!(catalogue.parameters().len(), Param::ALL.len());
    for parameter in catalogue.parameters() {
        assert!(!parameter.source.is_empty(), "{}", parameter.param);
        assert!(!parameter.label.is_empty(), "{}", parameter.param);
        assert_eq!(parameter.unit, parameter.param.unit());
    }
    for name in [
        "tekun.care.partial",
        "tekun.care.self",
        "rigid.disposable_income.rural",
        "recheck.stable_months",
    ] {
        assert!(catalogue.by_name(name).is_ok(), "{name}");
    }
    let provisional_without_value = [
        "monitoring.income_line",
        "property.vehicle_value_limit",
        "rigid.disposable_income.urban",
    ];
    for name in provisional_without_value {
        let parameter = catalogue.by_name(name).unwrap();
        assert_eq!(parameter.status, Status::Provisional);
        assert!(parameter.values.is_empty());
    }
}

#[test]
fn p6_values_are_looked_up_by_date() {
    let catalogue = builtin();
    let rural = |day: &str| {
        catalogue
            .value_at("dibao.standard.rural", date(day))
            .unwrap()
            .map(|dated| dated.value)
    };
    assert_eq!(
        rural("2025-06-30"),
        Some(Value::Money(Yuan::from_yuan(610)))
    );
    assert_eq!(
        rural("2025-07-01"),
        Some(Value::Money(Yuan::from_yuan(630)))
    );
    assert_eq!(
        rural("2023-09-01"),
        Some(Value::Money(Yuan::from_yuan(600)))
    );
    assert_eq!(rural("2021-08-31"), None);
    let dated = catalogue
        .value_at("dibao.standard.rural", date("2025-08-01"))
        .unwrap()
        .unwrap();
    assert_eq!(dated.source, "渝民规〔2025〕6号");
    assert_eq!(dated.since, date("2025-07-01"));
    assert!(matches!(
        catalogue.value_at("dibao.standard.village", date("2025-08-01")),
        Err(CatalogueError::UnknownParameter(_))
    ));
    let snapshot = catalogue.snapshot(date("2025-08-01"));
    assert_eq!(
        snapshot.money(Param::DibaoStandardUrban),
        Some(Yuan::from_yuan(770))
    );
    assert_eq!(
        snapshot.decimal(Param::DibaoEdgeIncomeMultiplier),
        Some("1.5".parse().unwrap())
    );
    assert_eq!(snapshot.integer(Param::TekunAgeElderly), Some(60));
    assert_eq!(snapshot.money(Param::MonitoringIncomeLine), None);
    assert_eq!(
        snapshot.cite(Param::DibaoStandardRural),
        "农村低保标准 630 元（渝民规〔2025〕6号，2025-07-01 起）"
    );
    assert_eq!(
        snapshot.cite(Param::MonitoringIncomeLine),
        "防止返贫监测收入线（未配置）"
    );
}

#[test]
fn malformed_toml_is_refused_with_file_line_and_reason() {
    let text = "[[parameter]]\nname = \"dibao.standard.rural\"\nunit = \n";
    let (line, reason) = load_error(text);
    assert_eq!(line, 3);
    assert!(!reason.is_empty());
}

#[test]
fn unknown_parameter_is_refused_at_its_line() {
    let text = edited("name = \"tekun.care.self\"", "name = \"tekun.care.selff\"");
    let (line, reason) = load_error(&text);
    assert_eq!(line, line_of(&text, "tekun.care.selff"));
    assert!(reason.contains("未知参数"), "{reason}");
}

#[test]
fn duplicate_and_unordered_dates_are_refused() {
    let duplicate = edited(
        "{ since = 2023-09-01, value = 600",
        "{ since = 2021-09-01, value = 600",
    );
    let (line, reason) = load_error(&duplicate);
    assert!(reason.contains("两个取值"), "{reason}");
    assert_eq!(
        line,
        line_of(&duplicate, "{ since = 2021-09-01, value = 600")
    );
    let unordered = edited(
        "{ since = 2023-09-01, value = 600",
        "{ since = 2020-09-01, value = 600",
    );
    let (_, reason) = load_error(&unordered);
    assert!(reason.contains("递增"), "{reason}");
}

#[test]
fn units_must_be_present_and_right() {
    let wrong = edited("unit = \"multiplier\"", "unit = \"yuan\"");
    let (line, reason) = load_error(&wrong);
    assert!(reason.contains("单位应为“multiplier”"), "{reason}");
    assert!(line > 1);
    let unknown = edited("unit = \"multiplier\"", "unit = \"furlongs\"");
    assert!(load_error(&unknown).1.contains("未知单位"));
    let missing = edited("unit = \"multiplier\"\n", "");
    assert!(load_error(&missing).1.contains("unit"));
}

#[test]
fn every_parameter_a_rule_reads_must_exist() {
    let text = edited("name = \"tekun.care.self\"", "name = \"tekun.care.full\"");
    let (_, reason) = load_error(&text);
    assert!(reason.contains("重复定义"), "{reason}");
    let start = include_str!("../../../policy/catalogue.toml")
        .find("[[parameter]]\nname = \"deadline.refusal_notice_working_days\"")
        .unwrap();
    let truncated = &include_str!("../../../policy/catalogue.toml")[..start];
    let (_, reason) = load_error(truncated);
    assert!(
        reason.contains("deadline.refusal_notice_working_days"),
        "{reason}"
    );
}

#[test]
fn bad_status_and_value_are_refused() {
    let status = edited("status = \"secondary\"", "status = \"rumour\"");
    assert!(load_error(&status).1.contains("未知状态"));
    let value = edited("value = 1.5", "value = \"一点五\"");
    assert!(load_error(&value).1.contains("小数"));
    let money = edited("value = 1001,", "value = 1001.001,");
    assert!(!load_error(&money).1.is_empty());
}

#[test]
fn overrides_parse_against_the_unit() {
    let line = Override::parse("monitoring.income_line=9000").unwrap();
    assert_eq!(line.param, Param::MonitoringIncomeLine);
    assert_eq!(line.value, Value::Money(Yuan::from_yuan(9000)));
    assert_eq!(
        Override::parse("dibao_edge.income_multiplier=1.6")
            .unwrap()
            .value,
        Value::Decimal("1.6".parse().unwrap())
    );
    assert_eq!(
        Override::parse("property.business_allowed=false")
            .unwrap()
            .value,
        Value::Flag(false)
    );
    assert_eq!(
        Override::parse(" tekun.age.elderly = 65 ").unwrap().value,
        Value::Integer(65)
    );
    assert!(
        matches!(Override::parse("no.such=1"), Err(CatalogueError::UnknownParameter(name)) if name == "no.such")
    );
    assert!(matches!(
        Override::parse("tekun.age.elderly=sixty"),
        Err(CatalogueError::InvalidValue { .. })
    ));
    assert!(matches!(
        Override::parse("tekun.age.elderly"),
        Err(CatalogueError::OverrideSyntax(_))
    ));
    assert!(Override::parse("property.business_allowed=maybe").is_err());
}

#[test]
fn overrides_apply_to_snapshot_and_catalogue() {
    let mut catalogue = builtin();
    let change = Override::parse("dibao.standard.rural=700").unwrap();
    let snapshot = catalogue
        .snapshot(date("2025-08-01"))
        .with_overrides(std::slice::from_ref(&change));
    let dated = snapshot.get(Param::DibaoStandardRural).unwrap();
    assert_eq!(dated.value, Value::Money(Yuan::from_yuan(700)));
    assert_eq!(dated.source, catalogue::OVERRIDE_SOURCE);
    assert!(snapshot.cite(Param::DibaoStandardRural).contains("700"));
    catalogue.apply_override(&change);
    assert_eq!(
        catalogue
            .snapshot(date("2019-01-01"))
            .money(Param::DibaoStandardRural),
        Some(Yuan::from_yuan(700))
    );
}

#[test]
fn p6_explanation_names_numbers_and_sources() {
    let snapshot = builtin().snapshot(date("2025-08-01"));
    let family = adults("H-1", "500151102201", 2, "9900");
    let determination = determine(&family, &snapshot, date("2025-08-01"));
    assert_eq!(determination.income_per_capita_month.to_string(), "412.50");
    let reason = determination
        .explanation
        .iter()
        .find(|reason| reason.rule == "dibao.income_below_standard")
        .unwrap();
    assert!(reason.holds);
    assert_eq!(
        reason.text,
        "人均月收入 412.50 元，低于农村低保标准 630 元（渝民规〔2025〕6号，2025-07-01 起）"
    );
    assert_eq!(reason.params.len(), 1);
    assert_eq!(reason.params[0].param, Param::DibaoStandardRural);
    assert_eq!(reason.params[0].value.unwrap().since, date("2025-07-01"));
    // (630 − 412.50) × 2
    assert_eq!(determination.monthly_benefit, Yuan::from_yuan(435));
    assert_eq!(determination.primary, Some(Category::Dibao));
}

#[test]
fn p6_quiet_path_gives_the_same_determination_without_text() {
    let snapshot = builtin().snapshot(date("2025-08-01"));
    for wages in [
        "0", "7559.88", "7560", "11339.88", "11340", "24000", "99999.99",
    ] {
        for n in 1..=4 {
            let family = adults("H-2", "500151102201", n, wages);
            let explained = determine(&family, &snapshot, date("2025-08-01"));
            let quiet = determine_quiet(&family, &snapshot, date("2025-08-01"));
            assert!(quiet.explanation.is_empty());
            assert!(!explained.explanation.is_empty());
            assert_eq!(
                Determination {
                    explanation: Vec::new(),
                    ..explained
                },
                quiet
            );
        }
    }
}

#[test]
fn rules_without_parameters_on_an_early_date_say_so_and_hold_nothing() {
    // Before 2020 no standard is configured: nothing can be decided, and nothing panics.
    let snapshot = builtin().snapshot(date("2015-01-01"));
    let elderly = household(
        r#"{"id":"H-3","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}]}"#,
    );
    let determination = determine(&elderly, &snapshot, date("2015-01-01"));
    assert_eq!(determination.primary, None);
    assert_eq!(determination.recheck_months, 0);
    assert!(
        determination
            .explanation
            .iter()
            .any(|reason| reason.text.contains("未配置"))
    );
}

#[test]
fn record_writer_matches_serde() {
    let snapshot = builtin()
        .snapshot(date("2025-08-01"))
        .with_overrides(&[Override::parse("monitoring.income_line=9000").unwrap()]);
    let lines = [
        r#"{"id":"q\"uote","area_code":"500151102201","members":[{"id_number":"500224194503120011","name":"张\\三","relation":"head","care_need":"full"}]}"#,
        r#"{"id":"E4","area_code":"500151102201","lifted_from_poverty":true,"risks":["illness"],"members":[{"id_number":"500224198201011010","relation":"head"},{"id_number":"500224201201011218","relation":"child","schooling":"compulsory"}],"income_12m":{"wages":6600}}"#,
    ];
    for line in lines {
        let family = household(line);
        let determination = determine(&family, &snapshot, date("2025-08-01"));
        for explain in [true, false] {
            let record = DeterminationRecord {
                household_id: family.id.as_str(),
                as_of: date("2025-08-01"),
                determination: &determination,
                explain,
            };
            let mut fast = Vec::new();
            record.write_json(&mut fast);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                serde_json::to_string(&record).unwrap()
            );
        }
    }
}

#[test]
fn record_has_the_fields_of_household_md() {
    let snapshot = builtin().snapshot(date("2025-08-01"));
    let elderly = household(
        r#"{"id":"H-0001","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head","care_need":"partial","disability":{"kind":"physical","grade":2}}],"income_12m":{"transfer":1200}}"#,
    );
    let determination = determine(&elderly, &snapshot, date("2025-08-01"));
    let record = DeterminationRecord {
        household_id: elderly.id.as_str(),
        as_of: date("2025-08-01"),
        determination: &determination,
        explain: true,
    };
    let json: serde_json::Value = serde_json::to_value(record).unwrap();
    assert_eq!(json["household_id"], "H-0001");
    assert_eq!(json["as_of"], "2025-08-01");
    assert_eq!(json["primary"], "tekun");
    assert_eq!(json["categories"][0]["scope"], "person");
    assert_eq!(json["categories"][0]["id_number"], "500224194503120011");
    assert_eq!(json["categories"][0]["monthly_yuan"], 1201.0);
    assert_eq!(json["monitoring"], serde_json::Value::Null);
    assert_eq!(json["monthly_benefit_yuan"], 1201.0);
    assert_eq!(json["income_per_capita_month_yuan"], 100.0);
    assert_eq!(json["recheck_months"], 12);
    let param = &json["explanation"][1]["params"][0];
    assert!(param["name"].is_string());
    let quiet = DeterminationRecord {
        explain: false,
        ..record
    };
    assert!(
        serde_json::to_value(quiet)
            .unwrap()
            .get("explanation")
            .is_none()
    );
}

#[test]
fn what_if_counts_entries_exits_and_cost_by_town() {
    let base = builtin().snapshot(date("2025-08-01"));
    let changed = base.with_overrides(&[Override::parse("dibao.standard.rural=700").unwrap()]);
    let households = [
        // pci 650: edge under 630, dibao under 700: enters dibao, leaves edge; (700-650) × 2.
        adults("A", "500151102201", 2, "15600"),
        // pci 400: dibao under both; 230 × 2 → 300 × 2.
        adults("B", "500151102202", 2, "9600"),
        // Another town, pci 2000: nothing either way.
        adults("C", "500151104201", 1, "24000"),
    ];
    let comparison = simulate(households.iter(), &base, &changed, date("2025-08-01"));
    assert_eq!(comparison.by_town.len(), 2);
    let town = &comparison.by_town[&domain::PlaceCode::parse("500151102").unwrap()];
    assert_eq!(town.households, 2);
    assert_eq!(
        town.flows[&Category::Dibao],
        Flow {
            households_entering: 1,
            households_leaving: 0,
            persons_entering: 2,
            persons_leaving: 0
        }
    );
    assert_eq!(
        town.flows[&Category::DibaoEdge],
        Flow {
            households_entering: 0,
            households_leaving: 1,
            persons_entering: 0,
            persons_leaving: 2
        }
    );
    assert_eq!(town.monthly_cost_base, Yuan::from_yuan(460));
    assert_eq!(town.monthly_cost_changed, Yuan::from_yuan(700));
    assert_eq!(town.monthly_cost_difference(), Yuan::from_yuan(240));
    let quiet_town = &comparison.by_town[&domain::PlaceCode::parse("500151104").unwrap()];
    assert!(quiet_town.flows.is_empty());
    // Accumulating in two halves and merging gives the same answer.
    let mut left = simulate(households[..1].iter(), &base, &changed, date("2025-08-01"));
    left.merge(&simulate(
        households[1..].iter(),
        &base,
        &changed,
        date("2025-08-01"),
    ));
    assert_eq!(left, comparison);
    assert_eq!(
        comparison.total().monthly_cost_difference(),
        Yuan::from_yuan(240)
    );
}

#[test]
fn rule_functions_agree_with_the_determination() {
    let snapshot = builtin().snapshot(date("2025-08-01"));
    let family = adults("R", "500151102201", 2, "24000");
    let determination = determine(&family, &snapshot, date("2025-08-01"));
    assert_eq!(
        recheck_months(&family, &snapshot, date("2025-08-01")),
        determination.recheck_months
    );
    assert!(!risk_eliminated(&family, &snapshot, date("2025-08-01")));
}

/// "No policy number as a literal in Rust code": the rules carry no number but 0 and 1
/// (and the 12-month window of the record format, declared once as a named constant).
#[test]
fn rules_code_holds_no_policy_number() {
    let source = include_str!("rules.rs");
    for (idx, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        if code.contains("const MONTHS_IN_RECORD") {
            continue;
        }
        // Drop string literals (sentences may name units) before looking for numbers.
        let mut outside = String::new();
        let mut in_string = false;
        for ch in code.chars() {
            if ch == '"' {
                in_string = !in_string;
            } else if !in_string {
                outside.push(ch);
            }
        }
        let mut number = String::new();
        let mut previous = ' ';
        for ch in outside.chars().chain(std::iter::once(' ')) {
            if ch.is_ascii_digit()
                && (number.is_empty() && !(previous.is_alphanumeric() || previous == '_')
                    || !number.is_empty())
            {
                number.push(ch);
            } else {
                assert!(
                    number.is_empty() || number == "0" || number == "1",
                    "rules.rs:{}: literal {number}",
                    idx + 1
                );
                number.clear();
            }
            previous = ch;
        }
    }
}

fn added(param: &str, since: &str, value: &str, source: &str) -> AddedValue {
    AddedValue {
        param: param.to_owned(),
        since: since.to_owned(),
        value: value.to_owned(),
        source: source.to_owned(),
        status: "confirmed".to_owned(),
        note: String::new(),
    }
}

fn addition_error(result: Result<Catalogue, CatalogueError>) -> (AddedField, String) {
    match result {
        Err(CatalogueError::InvalidAddition { field, reason }) => (field, reason),
        other => panic!("expected a refused addition, got {other:?}"),
    }
}

#[test]
fn added_value_applies_from_its_date_and_past_dates_replay_unchanged() {
    let base = builtin();
    let catalogue = base
        .with_added(&[added(
            "dibao.standard.rural",
            "2026-07-01",
            "660",
            "渝民规〔2026〕3号",
        )])
        .unwrap();
    let after = catalogue.snapshot(date("2026-07-01"));
    assert_eq!(
        after.money(Param::DibaoStandardRural),
        Some(Yuan::from_yuan(660))
    );
    assert_eq!(
        after.cite(Param::DibaoStandardRural),
        "农村低保标准 660 元（渝民规〔2026〕3号，2026-07-01 起）"
    );
    // The day before, and a decision replayed for 2025, see what they saw then.
    for day in ["2026-06-30", "2025-08-01"] {
        assert_eq!(
            catalogue.snapshot(date(day)),
            base.snapshot(date(day)),
            "{day}"
        );
    }
    // The other parameters are untouched and the values stay ordered.
    let values = &catalogue.parameter(Param::DibaoStandardRural).values;
    assert!(values.windows(2).all(|pair| pair[0].since < pair[1].since));
    assert_eq!(
        catalogue.parameter(Param::DibaoStandardUrban),
        base.parameter(Param::DibaoStandardUrban)
    );
}

#[test]
fn added_value_between_two_dates_is_inserted_in_order() {
    let catalogue = builtin()
        .with_added(&[added(
            "dibao.standard.rural",
            "2022-01-01",
            "520.50",
            "测试文号",
        )])
        .unwrap();
    let sinces: Vec<String> = catalogue
        .parameter(Param::DibaoStandardRural)
        .values
        .iter()
        .map(|dated| dated.since.to_string())
        .collect();
    assert_eq!(
        sinces,
        [
            "2021-09-01",
            "2022-01-01",
            "2023-09-01",
            "2024-07-01",
            "2025-07-01"
        ]
    );
    assert_eq!(
        catalogue
            .snapshot(date("2022-06-01"))
            .money(Param::DibaoStandardRural),
        Some(Yuan::from_fen(52050))
    );
}

#[test]
fn added_value_at_the_same_date_is_a_correction_and_the_latest_wins() {
    let mut correction = added(
        "dibao.standard.rural",
        "2025-07-01",
        "635",
        "渝民规〔2025〕6号（更正）",
    );
    correction.status = "secondary".to_owned();
    correction.note = " 更正录入错误 ".to_owned();
    let catalogue = builtin()
        .with_added(&[
            added("dibao.standard.rural", "2026-07-01", "660", "甲"),
            added("dibao.standard.rural", "2026-07-01", "665", "乙"),
            correction,
        ])
        .unwrap();
    let parameter = catalogue.parameter(Param::DibaoStandardRural);
    assert_eq!(parameter.values.len(), 5, "{:?}", parameter.values);
    let july_2025 = parameter.value_at(date("2025-07-01")).unwrap();
    assert_eq!(july_2025.value, Value::Money(Yuan::from_yuan(635)));
    assert_eq!(july_2025.status, Status::Secondary);
    assert_eq!(july_2025.note.as_deref(), Some("更正录入错误"));
    let july_2026 = parameter.value_at(date("2026-07-01")).unwrap();
    assert_eq!(july_2026.value, Value::Money(Yuan::from_yuan(665)));
    assert_eq!(july_2026.source, "乙");
}

#[test]
fn added_value_is_parsed_by_the_parameter_unit() {
    let base = builtin();
    let take = |param: &str, value: &str| {
        base.with_added(&[added(param, "2026-07-01", value, "文号")])
            .map(|catalogue| {
                catalogue
                    .snapshot(date("2026-07-01"))
                    .get(Param::from_name(param).unwrap())
                    .unwrap()
                    .value
            })
    };
    assert_eq!(
        take("dibao_edge.income_multiplier", "1.6").unwrap(),
        Value::Decimal("1.6".parse().unwrap())
    );
    assert_eq!(
        take("tekun.age.elderly", " 65 ").unwrap(),
        Value::Integer(65)
    );
    assert_eq!(
        take("property.business_allowed", "false").unwrap(),
        Value::Flag(false)
    );
    assert_eq!(
        take("monitoring.income_line", "8000.5").unwrap(),
        Value::Money(Yuan::from_fen(800_050))
    );
    for (param, value, expected) in [
        ("dibao.standard.rural", "六百六", "金额格式无效"),
        ("dibao.standard.rural", "660.001", "最多两位小数"),
        ("tekun.age.elderly", "60.5", "应为整数"),
        ("dibao_edge.income_multiplier", "x1.5", "应为小数"),
        ("property.business_allowed", "maybe", "true 或 false"),
        ("tekun.age.elderly", "", "请填写数值"),
    ] {
        let (field, reason) = addition_error(take(param, value).map(|_| base.clone()));
        assert_eq!(field, AddedField::Value, "{param}={value}");
        assert!(reason.contains("数值"), "{reason}");
        assert!(reason.contains(expected), "{param}={value}: {reason}");
    }
}

#[test]
fn added_value_refuses_unknown_parameter_bad_date_and_missing_source() {
    let base = builtin();
    let (field, reason) = addition_error(base.with_added(&[added(
        "dibao.standard.moon",
        "2026-07-01",
        "660",
        "文号",
    )]));
    assert_eq!(field, AddedField::Param);
    assert!(reason.contains("参数“dibao.standard.moon”"), "{reason}");
    for since in ["2026-13-01", "2026/07/01", "", "+12026-07-01"] {
        let (field, reason) =
            addition_error(base.with_added(&[added("dibao.standard.rural", since, "660", "文号")]));
        assert_eq!(field, AddedField::Since, "{since}");
        assert!(reason.contains("起始日期"), "{reason}");
    }
    let (field, reason) = addition_error(base.with_added(&[added(
        "dibao.standard.rural",
        "2026-07-01",
        "660",
        "  ",
    )]));
    assert_eq!(field, AddedField::Source);
    assert!(reason.contains("来源"), "{reason}");
    let mut rumour = added("dibao.standard.rural", "2026-07-01", "660", "文号");
    rumour.status = "rumour".to_owned();
    let (field, reason) = addition_error(base.with_added(&[rumour]));
    assert_eq!(field, AddedField::Status);
    assert!(reason.contains("状态"), "{reason}");
    // A refused addition leaves the catalogue as it was.
    let mut catalogue = base.clone();
    assert!(
        catalogue
            .add_value(&added("tekun.age.elderly", "2026-07-01", "sixty", "文号"))
            .is_err()
    );
    assert_eq!(catalogue, base);
}

#[test]
fn provisional_parameter_without_value_takes_an_added_one() {
    let base = builtin();
    let empty = base
        .parameters()
        .iter()
        .find(|parameter| parameter.values.is_empty())
        .unwrap();
    let value = match empty.unit.code() {
        "flag" => "true",
        _ => "3",
    };
    let catalogue = base
        .with_added(&[added(empty.param.name(), "2026-01-01", value, "文号")])
        .unwrap();
    assert!(
        catalogue
            .snapshot(date("2026-01-01"))
            .get(empty.param)
            .is_some()
    );
    assert!(
        catalogue
            .snapshot(date("2025-12-31"))
            .get(empty.param)
            .is_none()
    );
}

#[test]
fn every_builtin_parameter_is_listed_under_a_group() {
    for parameter in builtin().parameters() {
        assert!(!parameter.group.is_empty(), "{}", parameter.param);
    }
}

/// Issue 16: policy values are never negative, and not zero where the unit says so.
#[test]
fn added_value_refuses_negative_and_zero_where_the_unit_says_so() {
    let base = builtin();
    for (param, value, expected) in [
        ("dibao.standard.rural", "-1", "不能为负数"),
        ("dibao.standard.rural", "0", "应大于零"),
        ("dibao_edge.income_multiplier", "0", "应大于零"),
        ("dibao_edge.income_multiplier", "-1.5", "不能为负数"),
        ("tekun.age.elderly", "-60", "不能为负数"),
    ] {
        let (field, reason) =
            addition_error(base.with_added(&[added(param, "2026-07-01", value, "文号")]));
        assert_eq!(field, AddedField::Value, "{param}={value}");
        assert!(reason.contains(expected), "{param}={value}: {reason}");
    }
    let mut noted = added("dibao.standard.rural", "2026-07-01", "700", "文号");
    noted.note = "说\u{0}明".to_owned();
    let (field, reason) = addition_error(base.with_added(&[noted]));
    assert_eq!(field, AddedField::Note);
    assert!(reason.contains("U+0000"), "{reason}");
    let (field, _) = addition_error(base.with_added(&[added(
        "dibao.standard.rural",
        "2026-07-01",
        "700",
        "文\u{0}号",
    )]));
    assert_eq!(field, AddedField::Source);
}

proptest::proptest! {
    /// Policy-value parsing never panics; a value it takes is shown and taken back as the same
    /// value; a value it refuses names the field.
    #[test]
    fn prop_policy_values_parse_round_trip_or_name_the_field(
        idx in 0usize..Param::ALL.len(),
        raw in "-?[0-9]{0,7}(\\.[0-9]{0,3})?|\\PC{0,12}|true|false",
    ) {
        let base = builtin();
        let param = Param::ALL[idx];
        match base.with_added(&[added(param.name(), "2026-07-01", &raw, "文号")]) {
            Ok(catalogue) => {
                let value = catalogue.snapshot(date("2026-07-01")).get(param).unwrap().value;
                let again = base
                    .with_added(&[added(param.name(), "2026-07-01", &value.to_string(), "文号")])
                    .unwrap();
                proptest::prop_assert_eq!(
                    again.snapshot(date("2026-07-01")).get(param).unwrap().value,
                    value
                );
            }
            Err(CatalogueError::InvalidAddition { field, .. }) => {
                proptest::prop_assert_eq!(field, AddedField::Value);
            }
            Err(other) => proptest::prop_assert!(false, "{other:?}"),
        }
    }
}

#[test]
fn each_parameter_has_its_owner_monitoring_by_agriculture_the_rest_by_civil_affairs() {
    let catalogue = Catalogue::builtin().unwrap();
    for parameter in catalogue.parameters() {
        let expected = if parameter.param.name().starts_with("monitoring.") {
            domain::Role::DistrictAgriculture
        } else {
            domain::Role::DistrictCivilAffairs
        };
        assert_eq!(parameter.owner, expected, "{}", parameter.param);
    }
    // An owner that is no owning department is refused on its line.
    let text = edited(
        "status = \"provisional\"\nowner = \"district_agriculture\"",
        "status = \"provisional\"\nowner = \"town_reviewer\"",
    );
    let (line, reason) = load_error(&text);
    assert_eq!(line, line_of(&text, "owner = \"town_reviewer\""));
    assert!(reason.contains("归口（owner）"), "{reason}");
}

#[test]
fn demo_values_fill_exactly_the_parameters_the_catalogue_leaves_without_value() {
    let catalogue = Catalogue::builtin().unwrap();
    let demo = demo_values().unwrap();
    let date = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let mut missing: Vec<&str> = catalogue
        .parameters()
        .iter()
        .filter(|parameter| parameter.value_at(date).is_none())
        .map(|parameter| parameter.param.name())
        .collect();
    let mut entered: Vec<&str> = demo.iter().map(|value| value.param.as_str()).collect();
    missing.sort_unstable();
    entered.sort_unstable();
    assert_eq!(missing, entered);
    let with_demo = catalogue.with_added(&demo).unwrap();
    for parameter in with_demo.parameters() {
        let value = parameter.value_at(date).unwrap();
        if entered.contains(&parameter.param.name()) {
            assert_eq!(value.status, Status::Demo, "{}", parameter.param);
            assert_eq!(value.status.label(), "演示");
            assert_eq!(value.note.as_deref(), Some("演示数值，非正式政策"));
        }
    }
}

/// Rule 9 from the recorded incomes: each case is "day:income/members" records, the line (or
/// none) and the date asked, with the months above the line expected.
#[test]
fn x2_months_above_the_line_from_recorded_incomes() {
    fn check(records: &[&str], line: Option<&str>, as_of: &str, expected: u32) {
        let records: Vec<IncomeRecord> = records
            .iter()
            .map(|text| {
                let (day, rest) = text.split_once(':').unwrap();
                let (income, members) = rest.split_once('/').unwrap();
                IncomeRecord {
                    on: date(day),
                    income_12m: Yuan::parse(income).unwrap(),
                    n_members: members.parse().unwrap(),
                }
            })
            .collect();
        let line = line.map(|text| Yuan::parse(text).unwrap());
        assert_eq!(
            months_above_line(&records, line, date(as_of)),
            expected,
            "{records:?} line {line:?} on {as_of}"
        );
    }
    // No record: no month above the line.
    check(&[], Some("9000"), "2026-10-01", 0);
    // One record above, six whole months before.
    check(&["2026-04-01:20000/2"], Some("9000"), "2026-10-01", 6);
    // The day before six whole months is five.
    check(&["2026-04-01:20000/2"], Some("9000"), "2026-09-30", 5);
    // Exactly at the line counts as above (rule 6 tags below it); one fen under does not.
    check(&["2026-04-01:18000/2"], Some("9000"), "2026-10-01", 6);
    check(&["2026-04-01:17999.99/2"], Some("9000"), "2026-10-01", 0);
    // A record below the line restarts the count from the next record above it.
    check(
        &[
            "2026-01-01:20000/2",
            "2026-05-01:10000/2",
            "2026-07-01:20000/2",
            "2026-10-01:20000/2",
        ],
        Some("9000"),
        "2026-10-01",
        3,
    );
    // The last record below the line: none.
    check(
        &["2026-01-01:20000/2", "2026-09-01:10000/2"],
        Some("9000"),
        "2026-10-01",
        0,
    );
    // Records after the date asked are not read; order does not matter.
    check(
        &["2026-11-01:10000/2", "2026-02-01:20000/2"],
        Some("9000"),
        "2026-10-01",
        8,
    );
    // Without a line every record reads as above (rule 9 pending on the line).
    check(
        &["2026-01-01:1000/2", "2026-09-01:1000/2"],
        None,
        "2026-10-01",
        9,
    );
    // Per capita: the same income shared by more members falls below.
    check(&["2026-04-01:20000/3"], Some("9000"), "2026-10-01", 0);
}

/// Rule 9 reads the months from the records, not the number typed into the household.
#[test]
fn x2_risk_elimination_reads_the_recorded_incomes() {
    let catalogue = builtin();
    let overrides = [
        Override::parse("monitoring.income_line=9000").unwrap(),
        Override::parse("monitoring.stable_months=6").unwrap(),
    ];
    let as_of = date("2026-10-01");
    let snapshot = catalogue.snapshot(as_of).with_overrides(&overrides);
    let mut typed = adults("RE", "500151102201", 2, "24000");
    typed.months_above_monitoring_line = 60;
    let after = |records: &[IncomeRecord]| {
        let household = with_income_history(&typed, records, &snapshot, as_of);
        (
            household.months_above_monitoring_line,
            determine(&household, &snapshot, as_of).risk_eliminated,
        )
    };
    assert_eq!(after(&[]), (0, false));
    let surveyed = IncomeRecord::of(&typed, date("2026-04-01"));
    assert_eq!(surveyed.per_capita_year(), Yuan::parse("12000").unwrap());
    assert_eq!(after(&[surveyed]), (6, true));
    let later = IncomeRecord::of(&typed, date("2026-05-01"));
    assert_eq!(after(&[later]), (5, false));
}
