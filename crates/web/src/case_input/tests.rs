//! The served API description's action schemas are the vocabulary's field descriptions
//! (`ActionKind::fields`), and the reader takes what they say.

use super::ActionFields;
use serde_json::{Value, json};
use workflow::fields::{Field, FieldKind, ON};
use workflow::{ActionKind, CaseAction};

/// What a field's schema must say, read from its description alone (not from the builder of
/// the document): its type, its word list or choices, its items, its note.
fn check_field(schema: &Value, field: &Field, words: &[(&str, Vec<&str>)], at: &str) {
    let expected_type = match field.kind {
        FieldKind::Text | FieldKind::Date | FieldKind::Choice(_) => json!("string"),
        FieldKind::Word(_) if field.required => json!("string"),
        FieldKind::Word(_) => json!(["string", "null"]),
        FieldKind::Number { .. } => json!("integer"),
        FieldKind::Bool => json!("boolean"),
        FieldKind::Users | FieldKind::Records(_) => json!("array"),
        FieldKind::Household => Value::Null,
    };
    assert_eq!(schema["type"], expected_type, "{at}: type");
    match field.kind {
        FieldKind::Date => assert_eq!(schema["format"], "date", "{at}"),
        FieldKind::Number { minimum } => {
            let written = schema["minimum"].as_u64().unwrap_or(0);
            assert_eq!(written, u64::from(minimum), "{at}: minimum");
        }
        FieldKind::Word(list) => {
            assert_eq!(schema["x-vocabulary"], list.name, "{at}");
            let (_, codes) = words.iter().find(|(name, _)| *name == list.name).unwrap();
            assert_eq!(
                codes.as_slice(),
                list.codes,
                "{at}: the word list is the vocabulary's"
            );
            let mut expected: Vec<Value> = list.codes.iter().map(|code| json!(code)).collect();
            if !field.required {
                expected.push(Value::Null);
            }
            assert_eq!(schema["enum"], Value::Array(expected), "{at}: enum");
        }
        FieldKind::Choice(codes) => assert_eq!(schema["enum"], json!(codes), "{at}: enum"),
        FieldKind::Users => assert_eq!(schema["items"], json!({"type": "integer"}), "{at}"),
        FieldKind::Records(item_fields) => {
            check_object(&schema["items"], &[], item_fields, words, at);
        }
        FieldKind::Household => {
            assert_eq!(schema["$ref"], "#/components/schemas/Household", "{at}");
        }
        FieldKind::Text | FieldKind::Bool => {}
    }
    if field.about.is_empty() {
        assert!(schema.get("description").is_none(), "{at}: no note");
    } else {
        assert_eq!(schema["description"], field.about, "{at}: note");
    }
}

/// An object schema: exactly `leading` and `fields` as properties, the required ones listed in
/// order, nothing else taken.
fn check_object(
    schema: &Value,
    leading: &[&str],
    fields: &[Field],
    words: &[(&str, Vec<&str>)],
    at: &str,
) {
    assert_eq!(schema["type"], "object", "{at}");
    assert_eq!(schema["additionalProperties"], false, "{at}: closed");
    let properties = schema["properties"].as_object().unwrap();
    let mut described: Vec<&str> = properties.keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = leading
        .iter()
        .copied()
        .chain(fields.iter().map(|field| field.name))
        .collect();
    described.sort_unstable();
    expected.sort_unstable();
    assert_eq!(described, expected, "{at}: properties");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected_required: Vec<&str> = leading
        .iter()
        .take(1)
        .copied()
        .chain(
            fields
                .iter()
                .filter(|field| field.required)
                .map(|field| field.name),
        )
        .collect();
    assert_eq!(required, expected_required, "{at}: required");
    for field in fields {
        check_field(
            &properties[field.name],
            field,
            words,
            &format!("{at}.{}", field.name),
        );
    }
}

#[test]
fn the_served_action_schemas_are_the_vocabularys_field_descriptions() {
    let document: Value = serde_json::from_str(crate::openapi::document()).unwrap();
    let words = crate::openapi::vocabulary();
    let schemas = &document["components"]["schemas"];
    let one_of = schemas["CaseAction"]["oneOf"].as_array().unwrap();
    let mapping = &schemas["CaseAction"]["discriminator"]["mapping"];
    assert_eq!(one_of.len(), ActionKind::ALL.len());
    assert_eq!(mapping.as_object().unwrap().len(), ActionKind::ALL.len());
    for (kind, variant) in ActionKind::ALL.iter().zip(one_of) {
        let code = kind.code();
        let reference = format!("#/components/schemas/CaseAction.{code}");
        assert_eq!(
            variant["$ref"],
            reference.as_str(),
            "{code}: in the vocabulary's order"
        );
        assert_eq!(mapping[code], reference.as_str(), "{code}");
        let schema = &schemas[format!("CaseAction.{code}").as_str()];
        assert_eq!(schema["title"], kind.label(), "{code}");
        assert_eq!(
            schema["properties"]["action"],
            json!({"const": code}),
            "{code}"
        );
        check_field(&schema["properties"]["on"], &ON, &words, code);
        check_object(schema, &["action", "on"], kind.fields(), &words, code);
    }
    // No schema of an action the vocabulary does not have.
    let extra: Vec<&String> = schemas
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| name.starts_with("CaseAction."))
        .filter(|name| ActionKind::from_code(&name["CaseAction.".len()..]).is_none())
        .collect();
    assert!(extra.is_empty(), "{extra:?}");
}

fn action_of(body: Value) -> Result<CaseAction, app::AppError> {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
    ActionFields::from_json(&body)?.to_action(today)
}

fn refusal_of(body: Value) -> Vec<(String, String)> {
    match action_of(body.clone()) {
        Err(app::AppError::Invalid(list)) => list
            .into_iter()
            .map(|error| (error.field, error.message))
            .collect(),
        other => panic!("{body} was read: {other:?}"),
    }
}

#[test]
fn the_reader_names_each_field_as_before() {
    let cases = [
        (
            json!({"action": "explain_discrepancy"}),
            vec![
                ("number", "缺少编号（number）"),
                ("resolution", "缺少核实结果（resolution）"),
                ("note", "缺少说明（note）"),
            ],
        ),
        (
            json!({"action": "explain_discrepancy", "number": "x", "resolution": "resolved", "note": ""}),
            vec![("number", "疑点编号应为正整数")],
        ),
        (
            json!({"action": "explain_discrepancy", "number": "", "resolution": "resolved", "note": ""}),
            vec![("number", "请填写疑点编号")],
        ),
        (
            json!({"action": "explain_discrepancy", "number": 1, "resolution": "maybe", "note": ""}),
            vec![("resolution", "请选择疑点核实结果（已排除或已核实）")],
        ),
        (
            json!({"action": "answer_objection", "number": "x", "answer": ""}),
            vec![("number", "异议编号应为正整数")],
        ),
        (
            json!({"action": "record_village_review", "attendance": 3, "outcome": "maybe"}),
            vec![("outcome", "请选择评议结果（同意或不同意）")],
        ),
        (
            json!({"action": "record_village_review", "attendance": 3, "outcome": "agreed", "held_on": "10/12"}),
            vec![("held_on", "评议日期“10/12”无效，应为YYYY-MM-DD")],
        ),
        (
            json!({"action": "confirm", "category": "gold"}),
            vec![("category", "请选择要审核的类别")],
        ),
        (
            json!({"action": "record_survey", "team": "1,2"}),
            vec![("team", "调查组成员应为用户编号的数组")],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": {}}),
            vec![("verdicts", "研判意见应为数组")],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": [], "judgements": 1}),
            vec![("judgements", "人工核定意见应为数组")],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": [], "monitoring_kind": "x"}),
            vec![("monitoring_kind", "监测类型“x”无效")],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": [], "support_mode": "x"}),
            vec![(
                "support_mode",
                "供养方式“x”无效，应为分散供养（dispersed）或集中供养（centralised）",
            )],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": [{"category": "gold", "verdict": "confirm"}]}),
            vec![("verdicts", "类别“gold”无效")],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": [{"category": "dibao", "verdict": "maybe"}]}),
            vec![("verdict_dibao", "“低保”的研判意见“maybe”无效")],
        ),
        (
            json!({"action": "record_joint_review", "verdicts": [{"category": "dibao", "verdict": "confirm", "why": "x"}]}),
            vec![("verdicts[0].why", "")],
        ),
        (
            json!({"action": "refuse", "reason": "x", "on": "soon"}),
            vec![("on", "办理日期“soon”无效，应为YYYY-MM-DD")],
        ),
        (
            json!({"action": "jump"}),
            vec![("action", "未知的办理事项“jump”")],
        ),
    ];
    for (body, expected) in cases {
        let named = refusal_of(body.clone());
        let fields: Vec<&str> = named.iter().map(|(field, _)| field.as_str()).collect();
        let expected_fields: Vec<&str> = expected.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, expected_fields, "{body}");
        for ((_, message), (_, wanted)) in named.iter().zip(&expected) {
            if !wanted.is_empty() {
                assert_eq!(message, wanted, "{body}");
            }
        }
    }
}

#[test]
fn a_form_and_a_body_give_the_same_action() {
    let form = [
        ("action", "record_joint_review"),
        ("held_on", "2026-10-11"),
        ("verdict_dibao", "confirm"),
        ("verdict_tekun", "none"),
        ("reason_tekun", ""),
        ("monitoring_kind", ""),
        (
            "judgement:property.within_limits:property.financial_assets_months",
            "true",
        ),
        (
            "judgement_reason:property.within_limits:property.financial_assets_months",
            "存款少",
        ),
        ("support_mode", ""),
    ]
    .map(|(key, value)| (key.to_owned(), value.to_owned()));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
    let from_form = ActionFields::from_form(&form).to_action(today).unwrap();
    let from_body = action_of(json!({
        "action": "record_joint_review",
        "held_on": "2026-10-11",
        "verdicts": [{"category": "dibao", "verdict": "confirm"}, {"category": "tekun", "verdict": "none"}],
        "judgements": [{"rule": "property.within_limits", "param": "property.financial_assets_months", "holds": true, "reason": "存款少"}],
        "monitoring_kind": null,
    }))
    .unwrap();
    assert_eq!(from_form, from_body);
    let team = [
        ("action", "record_survey"),
        ("team", "1"),
        ("team", " "),
        ("team", "3"),
    ]
    .map(|(key, value)| (key.to_owned(), value.to_owned()));
    assert_eq!(ActionFields::from_form(&team).list("team"), ["1", "3"]);
}
