//! The API's description served at `/api/openapi.json`: the paths and schemas written in
//! `openapi.json`, every word list taken from the vocabulary. A schema there names its list by
//! `"x-vocabulary": "<name>"` and never spells the codes; the document served carries the
//! codes of that word's `ALL` as its `enum` (with `null` when the schema's type admits null),
//! so a word added to the vocabulary is described at once and a description cannot drift from
//! the words the server reads. The case actions' request schemas are not written there at all:
//! `describe_case_actions` writes one per `ActionKind` from its fields.

use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use workflow::ActionKind;
use workflow::fields::{Field, FieldKind, ON};

/// Each word list the description names, with its codes in the vocabulary's order.
pub fn vocabulary() -> Vec<(&'static str, Vec<&'static str>)> {
    fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|word| code(*word)).collect()
    }
    vec![
        (
            "ActionKind",
            codes(workflow::ActionKind::ALL, workflow::ActionKind::code),
        ),
        (
            "CareNeed",
            codes(domain::CareNeed::ALL, domain::CareNeed::code),
        ),
        (
            "CaseKind",
            codes(workflow::CaseKind::ALL, workflow::CaseKind::code),
        ),
        (
            "Category",
            codes(domain::Category::ALL, domain::Category::code),
        ),
        (
            "Channel",
            codes(workflow::Channel::ALL, workflow::Channel::code),
        ),
        (
            "Disposition",
            codes(
                workflow::warning::Disposition::ALL,
                workflow::warning::Disposition::code,
            ),
        ),
        (
            "EnteredStatus",
            codes(policy::Status::ENTERED, policy::Status::code),
        ),
        ("Hukou", codes(domain::Hukou::ALL, domain::Hukou::code)),
        (
            "ItemPeriod",
            codes(assist::ItemPeriod::ALL, assist::ItemPeriod::code),
        ),
        (
            "MonitoringKind",
            codes(domain::MonitoringKind::ALL, domain::MonitoringKind::code),
        ),
        ("Need", codes(assist::Need::ALL, assist::Need::code)),
        ("ParamOwner", codes(&policy::OWNERS, domain::Role::code)),
        (
            "ParamStatus",
            codes(policy::Status::ALL, policy::Status::code),
        ),
        ("ParamUnit", codes(policy::Unit::ALL, policy::Unit::code)),
        (
            "ReferralAction",
            codes(assist::ReferralAction::ALL, assist::ReferralAction::code),
        ),
        (
            "ReferralState",
            codes(assist::ReferralState::ALL, assist::ReferralState::code),
        ),
        (
            "ReviewOutcome",
            codes(workflow::ReviewOutcome::ALL, workflow::ReviewOutcome::code),
        ),
        ("Role", codes(domain::Role::ALL, domain::Role::code)),
        ("Step", codes(workflow::Step::ALL, workflow::Step::code)),
        (
            "SupportMode",
            codes(domain::SupportMode::ALL, domain::SupportMode::code),
        ),
        (
            "WarningState",
            codes(
                workflow::warning::WarningState::ALL,
                workflow::warning::WarningState::code,
            ),
        ),
    ]
}

/// The document served, built once.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // `openapi.json` is JSON (the API test reads the document served); were it not, it
        // would be served as written and that test would fail.
        let Ok(mut document) = serde_json::from_str::<Value>(include_str!("openapi.json")) else {
            return include_str!("openapi.json").to_owned();
        };
        describe_case_actions(&mut document);
        let words = vocabulary();
        fill(&mut document, &words);
        close_request_bodies(&mut document);
        admit_empty_query_values(&mut document);
        add_common_responses(&mut document);
        document.to_string()
    })
}

/// The case actions' request schemas, written from the vocabulary: `CaseAction` (marked
/// `"x-actions": "ActionKind"` in `openapi.json`, with its prose) becomes the `oneOf` of one
/// schema per `ActionKind`, `CaseAction.<code>`, titled by its label, whose properties are
/// `action`, `on` and the action's fields (`ActionKind::fields`) and whose `required` are
/// `action` and its required fields; `discriminator` maps each code to its schema. A note on
/// an action as a whole (`"x-action-notes": {"<code>": "..."}`) is its schema's description.
fn describe_case_actions(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let Some(case_action) = schemas.get_mut("CaseAction").and_then(Value::as_object_mut) else {
        return;
    };
    let notes = case_action.remove("x-action-notes").unwrap_or_default();
    if case_action.remove("x-actions").is_none() {
        return;
    }
    let mut variants = Vec::new();
    let mut mapping = Map::new();
    let mut described = Vec::new();
    for kind in ActionKind::ALL {
        let name = format!("CaseAction.{}", kind.code());
        let reference = format!("#/components/schemas/{name}");
        variants.push(json!({ "$ref": reference }));
        mapping.insert(kind.code().to_owned(), Value::from(reference));
        let mut schema = action_schema(*kind);
        if let Some(note) = notes.get(kind.code()) {
            schema["description"] = note.clone();
        }
        described.push((name, schema));
    }
    case_action.insert("oneOf".to_owned(), Value::Array(variants));
    case_action.insert(
        "discriminator".to_owned(),
        json!({ "propertyName": "action", "mapping": mapping }),
    );
    schemas.extend(described);
}

/// The request schema of one case action.
pub fn action_schema(kind: ActionKind) -> Value {
    let mut schema = object_schema(
        kind.fields(),
        &[
            ("action", json!({ "const": kind.code() })),
            (ON.name, field_schema(&ON)),
        ],
    );
    schema["title"] = Value::from(kind.label());
    schema
}

/// An object of `fields` after the `leading` properties (required, given first).
fn object_schema(fields: &[Field], leading: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for (name, schema) in leading {
        properties.insert((*name).to_owned(), schema.clone());
    }
    if let Some((name, _)) = leading.first() {
        required.push(Value::from(*name));
    }
    for field in fields {
        properties.insert(field.name.to_owned(), field_schema(field));
        if field.required {
            required.push(Value::from(field.name));
        }
    }
    json!({ "type": "object", "required": required, "properties": properties })
}

/// The schema of one field by its type: a word list is named (`x-vocabulary`, its codes put
/// in by `fill`) and admits null when the field is optional (none chosen).
fn field_schema(field: &Field) -> Value {
    let mut schema = match field.kind {
        FieldKind::Text => json!({ "type": "string" }),
        FieldKind::Date => json!({ "type": "string", "format": "date" }),
        FieldKind::Number { minimum: 0 } => json!({ "type": "integer" }),
        FieldKind::Number { minimum } => json!({ "type": "integer", "minimum": minimum }),
        FieldKind::Bool => json!({ "type": "boolean" }),
        FieldKind::Word(words) if field.required => {
            json!({ "type": "string", "x-vocabulary": words.name })
        }
        FieldKind::Word(words) => json!({ "type": ["string", "null"], "x-vocabulary": words.name }),
        FieldKind::Choice(codes) => json!({ "type": "string", "enum": codes }),
        FieldKind::Users => json!({ "type": "array", "items": { "type": "integer" } }),
        FieldKind::Records(fields) => {
            json!({ "type": "array", "items": object_schema(fields, &[]) })
        }
        FieldKind::Household => json!({ "$ref": "#/components/schemas/Household" }),
    };
    if !field.about.is_empty() {
        schema["description"] = Value::from(field.about);
    }
    schema
}

/// Puts each `x-vocabulary` word list in place as the schema's `enum` (a name of no word list
/// gets none, which the API test names).
fn fill(value: &mut Value, words: &[(&'static str, Vec<&'static str>)]) {
    match value {
        Value::Object(object) => {
            if let Some(name) = object.get("x-vocabulary").and_then(Value::as_str) {
                let codes = words
                    .iter()
                    .find(|(word, _)| *word == name)
                    .map_or(&[][..], |(_, codes)| codes.as_slice());
                let mut list: Vec<Value> = codes.iter().map(|code| Value::from(*code)).collect();
                if admits_null(object) {
                    list.push(Value::Null);
                }
                object.insert("enum".to_owned(), Value::Array(list));
            }
            for child in object.values_mut() {
                fill(child, words);
            }
        }
        Value::Array(items) => {
            for item in items {
                fill(item, words);
            }
        }
        _ => {}
    }
}

/// The server refuses a field it does not know in every JSON body (named, 422): each object
/// schema of a request body, and of the schemas it refers to, says so
/// (`additionalProperties: false`) unless it says otherwise.
fn close_request_bodies(document: &mut Value) {
    let mut referred = Vec::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for body in operation
                .values_mut()
                .filter_map(|op| op.get_mut("requestBody"))
            {
                if let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) {
                    for media in content.values_mut() {
                        if let Some(schema) = media.get_mut("schema") {
                            close(schema, &mut referred);
                        }
                    }
                }
            }
        }
    }
    let mut done: Vec<String> = Vec::new();
    while let Some(name) = referred.pop() {
        if done.contains(&name) {
            continue;
        }
        if let Some(schema) =
            document.pointer_mut(&format!("/components/schemas/{}", name.replace('/', "~1")))
        {
            close(schema, &mut referred);
        }
        done.push(name);
    }
}

/// Closes `schema` and the schemas inside it; names the components it refers to in `referred`.
fn close(schema: &mut Value, referred: &mut Vec<String>) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(name) = object
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
    {
        referred.push(name.to_owned());
    }
    if object.contains_key("properties") && !object.contains_key("additionalProperties") {
        object.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        properties
            .values_mut()
            .for_each(|child| close(child, referred));
    }
    if let Some(items) = object.get_mut("items") {
        close(items, referred);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(variants)) = object.get_mut(key) {
            variants
                .iter_mut()
                .for_each(|variant| close(variant, referred));
        }
    }
}

/// A query parameter given empty (`?state=`, as a page's form sends an empty choice) is one
/// left out: each choice of a query parameter admits the empty text.
fn admit_empty_query_values(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in item.values_mut() {
            let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
                if let Some(Value::Array(choices)) = parameter.pointer_mut("/schema/enum")
                    && !choices.iter().any(|choice| choice == "")
                {
                    choices.insert(0, Value::from(""));
                }
            }
        }
    }
}

/// The answers any operation may give besides its own, written once here: 400 for a request
/// that cannot be read at all (a repeated query parameter, a control character in a field,
/// `input`), 403 where the operation needs the CSRF header (`csrf_rejected`) or a role, and
/// 422 naming the parameter where it reads query parameters.
fn add_common_responses(document: &mut Value) {
    let error = serde_json::json!({ "$ref": "#/components/responses/Error" });
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            let parameters = operation
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let csrf = parameters
                .iter()
                .any(|parameter| parameter["$ref"] == "#/components/parameters/Csrf");
            let query = parameters
                .iter()
                .any(|parameter| parameter["in"] == "query");
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            if path.starts_with("/api/") {
                responses.entry("400").or_insert_with(|| error.clone());
            }
            if csrf {
                responses.entry("403").or_insert_with(|| error.clone());
            }
            if query {
                responses.entry("422").or_insert_with(|| error.clone());
            }
        }
    }
}

fn admits_null(schema: &Map<String, Value>) -> bool {
    schema
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|kind| kind == "null"))
}
