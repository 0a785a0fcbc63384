//! 用户管理 over the JSON API (U2): `GET /api/v1/users` lists the users of the administrator's
//! area, `POST /api/v1/users` creates one. The same use cases as the pages (`app::users`):
//! other roles get 403, a fault answers 422 naming its fields.

use crate::WebState;
use crate::api::{ApiJson, Query};
use crate::error::ApiError;
use crate::session::ApiUser;
use crate::user_pages::ListQuery;
use app::users::{UserDraft, UserView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

fn user_json(user: &UserView) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.code(),
        "role_label": user.role.label(),
        "area": user.area.as_str(),
        "area_name": user.area_name,
        "department": user.department,
        "department_name": user.department_name,
        "active": user.active,
        "last_login": user.last_login,
        "version": user.version,
    })
}

/// `GET /api/v1/users?role=&area=&after=`
pub async fn user_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let list = state.app.list_users(&signed.actor, &query.filter()).await?;
    let items: Vec<Value> = list.items.iter().map(user_json).collect();
    Ok(Json(json!({
        "items": items,
        "total": list.total,
        "next": list.next,
        "per_page": list.per_page,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    username: String,
    #[serde(default)]
    display_name: String,
    role: String,
    /// A place code, as in the session's `area` (and the field faults name).
    area: String,
    #[serde(default)]
    department: Option<String>,
    password: String,
}

/// `POST /api/v1/users`: 新增用户; 201 with the user.
pub async fn user_create(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<Response, ApiError> {
    let draft = UserDraft {
        username: body.username,
        display_name: body.display_name,
        role: body.role,
        area: body.area,
        department: body.department.unwrap_or_default(),
        password: body.password,
    };
    let id = state.app.admin_create_user(&signed.actor, &draft).await?;
    let user = state.app.user(&signed.actor, id).await?;
    Ok((StatusCode::CREATED, Json(user_json(&user))).into_response())
}
