//! The API document's action schemas and the handler's table of required fields agree.

use super::{optional_fields, required_fields};
use serde_json::Value;
use workflow::ActionKind;

#[test]
fn each_action_has_its_schema_with_the_fields_the_handler_requires() {
    let document: Value = serde_json::from_str(crate::openapi::document()).unwrap();
    let schemas = &document["components"]["schemas"];
    let one_of = schemas["CaseAction"]["oneOf"].as_array().unwrap();
    assert_eq!(one_of.len(), ActionKind::ALL.len());
    for kind in ActionKind::ALL {
        let (code, required) = (kind.code(), required_fields(*kind));
        let name = format!("CaseAction.{code}");
        assert!(
            one_of
                .iter()
                .any(|variant| variant["$ref"] == format!("#/components/schemas/{name}")),
            "{name} in oneOf"
        );
        let schema = &schemas[name.as_str()];
        assert_eq!(schema["properties"]["action"]["const"], code);
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
        assert_eq!(schema["title"], kind.label(), "{code}");
        // The schema lists exactly the fields the handler takes (any other is refused).
        let mut described: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut taken: Vec<&str> = ["action", "on"]
            .into_iter()
            .chain(required.iter().copied())
            .chain(optional_fields(*kind).iter().copied())
            .collect();
        described.sort_unstable();
        taken.sort_unstable();
        assert_eq!(described, taken, "{code}");
    }
}
