//! The API document's action schemas and the handler's table of required fields agree.

use super::{ACTIONS, REQUIRED_FIELDS};
use serde_json::Value;

#[test]
fn each_action_has_its_schema_with_the_fields_the_handler_requires() {
    let document: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let schemas = &document["components"]["schemas"];
    let one_of = schemas["CaseAction"]["oneOf"].as_array().unwrap();
    assert_eq!(one_of.len(), ACTIONS.len());
    assert_eq!(REQUIRED_FIELDS.len(), ACTIONS.len());
    for ((code, _), (table_code, required)) in ACTIONS.iter().zip(REQUIRED_FIELDS) {
        assert_eq!(*code, table_code, "REQUIRED_FIELDS follows ACTIONS");
        let name = format!("CaseAction.{code}");
        assert!(
            one_of
                .iter()
                .any(|variant| variant["$ref"] == format!("#/components/schemas/{name}")),
            "{name} in oneOf"
        );
        let schema = &schemas[name.as_str()];
        assert_eq!(schema["properties"]["action"]["const"], *code);
        let listed: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let expected: Vec<&str> = std::iter::once("action")
            .chain(required.iter().copied())
            .collect();
        assert_eq!(listed, expected, "{code}");
        for field in required {
            assert!(schema["properties"][field].is_object(), "{code}.{field}");
        }
    }
}
