//! 政策参数 API: the catalogue in force with each parameter's history, and adding a dated value.

use crate::WebState;
use crate::api::{ApiJson, Path};
use crate::error::ApiError;
use crate::session::ApiUser;
use app::parameters::{AddedValue, Origin, ParameterView, ValueView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

fn value_json(value: &ValueView) -> Value {
    let (origin, added_by, added_at) = match &value.origin {
        Origin::Builtin => ("builtin", None, None),
        Origin::Added { by, at, .. } => ("added", Some(by.as_str()), Some(at.as_str())),
    };
    json!({
        "since": value.since.to_string(),
        "value": value.value,
        "status": value.status.code(),
        "status_label": value.status.label(),
        "source": value.source,
        "note": value.note,
        "origin": origin,
        "added_by": added_by,
        "added_at": added_at,
        "in_effect": value.in_effect,
    })
}

fn parameter_json(parameter: &ParameterView) -> Value {
    json!({
        "name": parameter.name(),
        "label": parameter.label,
        "group": parameter.group,
        "unit": parameter.unit_code(),
        "unit_label": parameter.unit_label(),
        "status": parameter.status.code(),
        "source": parameter.source,
        "owner": parameter.owner.code(),
        "owner_label": parameter.owner.label(),
        "can_add": parameter.can_add,
        "in_force": parameter.in_force.as_ref().map(value_json),
        "history": parameter.history.iter().map(value_json).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/policy/parameters`: every parameter with today's value and its history.
pub async fn parameters(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let page = state.app.policy_parameters(&signed.actor).await?;
    Ok(Json(json!({
        "as_of": page.today.to_string(),
        "can_add": page.can_add,
        "parameters": page
            .groups
            .iter()
            .flat_map(|group| &group.parameters)
            .map(parameter_json)
            .collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueBody {
    #[serde(default)]
    since: String,
    /// A number, a string or a boolean, read by the parameter's unit.
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/policy/parameters/{name}/values`: adds a dated value (201 with the parameter).
pub async fn add_value(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<ValueBody>,
) -> Result<Response, ApiError> {
    let value = match body.value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    let added = AddedValue {
        param: name,
        since: body.since,
        value,
        source: body.source,
        status: body.status.unwrap_or_else(|| "confirmed".to_owned()),
        note: body.note.unwrap_or_default(),
    };
    let parameter = state.app.add_policy_value(&signed.actor, &added).await?;
    Ok((StatusCode::CREATED, Json(parameter_json(&parameter))).into_response())
}
