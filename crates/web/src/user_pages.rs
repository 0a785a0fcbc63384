//! 用户管理 pages (U2) for the administrator (系统管理员): the users of their area
//! (`/admin/users`), a new user, and a user's page with its profile form, 停用/启用 and
//! 重置密码. Role and area are checked by the use cases of `app::users`; every form carries
//! the session's CSRF token; a fault comes back beside its field with what was typed (never
//! the password).

use crate::WebState;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::session::{PageUser, Signed};
use app::AppError;
use app::users::{UserChoices, UserDraft, UserEdit, UserList, UserQuery, UserView};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::Role;
use serde::Deserialize;
use std::collections::BTreeMap;

fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// The fields at fault, by field name; a fault of no field goes under `form`.
fn errors_of(error: &AppError) -> BTreeMap<String, String> {
    match error {
        AppError::Invalid(list) => list
            .iter()
            .map(|fault| (fault.field.clone(), fault.message.clone()))
            .collect(),
        AppError::Conflict(_) => BTreeMap::from([(
            "form".to_owned(),
            "该用户已被他人修改，请刷新页面后再试".to_owned(),
        )]),
        other => BTreeMap::from([("form".to_owned(), other.message())]),
    }
}

fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `?role=&area=&after=` of the user list, read by the page and the API alike.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    role: String,
    #[serde(default)]
    area: String,
    /// Where the page starts (the `next` of the page before).
    #[serde(default)]
    after: Option<i64>,
}

impl ListQuery {
    /// The filter it asks for (the first page when no `after` is given).
    pub(crate) fn filter(&self) -> UserQuery {
        UserQuery {
            role: self.role.clone(),
            area: self.area.clone(),
            after: self.after,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct ListPage {
    chrome: Chrome,
    role: String,
    area: String,
    errors: BTreeMap<String, String>,
    list: UserList,
    /// Not the first page (a link back to it is shown).
    paged: bool,
    choices: UserChoices,
    /// 登录限制 (district administrator only).
    login_limits: Option<app::auth::LoginLimits>,
}

impl ListPage {
    fn err(&self, key: &str) -> &str {
        self.errors.get(key).map_or("", String::as_str)
    }
}

/// `GET /admin/users`: the users of the administrator's area, by role and place.
pub async fn list(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let choices = state.app.user_choices(&signed.actor).await?;
    let filter = query.filter();
    let (list, errors, status) = match state.app.list_users(&signed.actor, &filter).await {
        Ok(list) => (list, BTreeMap::new(), StatusCode::OK),
        Err(error @ AppError::Invalid(_)) => (
            UserList {
                items: Vec::new(),
                total: 0,
                next: None,
                per_page: 1,
            },
            errors_of(&error),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => return Err(PageError(other)),
    };
    // 登录限制: the district administrator also sees the sign-in limits and who is held back.
    let login_limits = match state.app.login_limits(&signed.actor).await {
        Ok(limits) => Some(limits),
        Err(AppError::Forbidden) => None,
        Err(other) => return Err(PageError(other)),
    };
    let page = ListPage {
        chrome: Chrome::of(&signed),
        role: query.role,
        area: query.area,
        errors,
        list,
        paged: query.after.is_some(),
        choices,
        login_limits,
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "user_form.html")]
pub struct FormPage {
    chrome: Chrome,
    /// The user being edited; `None` on the new-user form.
    user: Option<UserView>,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    choices: UserChoices,
    /// Set after a change was saved (`?saved=1`).
    saved: bool,
}

impl FormPage {
    fn v(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    fn err(&self, key: &str) -> &str {
        self.errors.get(key).map_or("", String::as_str)
    }

    fn invalid(&self, key: &str) -> &'static str {
        if self.errors.contains_key(key) {
            "invalid"
        } else {
            ""
        }
    }

    fn role_code(&self, role: &Role) -> &'static str {
        role.code()
    }
}

async fn form_page(
    state: &WebState,
    signed: &Signed,
    user: Option<UserView>,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
) -> Result<FormPage, PageError> {
    Ok(FormPage {
        chrome: Chrome::of(signed),
        choices: state.app.user_choices(&signed.actor).await?,
        user,
        values,
        errors,
        saved: false,
    })
}

/// The profile fields of a form (never the password).
fn profile_values(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    ["username", "display_name", "role", "area", "department"]
        .iter()
        .map(|key| ((*key).to_owned(), pair(pairs, key).to_owned()))
        .collect()
}

fn values_of(user: &UserView) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("username".to_owned(), user.username.clone()),
        ("display_name".to_owned(), user.display_name.clone()),
        ("role".to_owned(), user.role.code().to_owned()),
        ("area".to_owned(), user.area.as_str().to_owned()),
        (
            "department".to_owned(),
            user.department.clone().unwrap_or_default(),
        ),
    ])
}

/// `GET /admin/users/new`: the new-user form.
pub async fn new_form(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<FormPage, PageError> {
    let values = BTreeMap::from([("area".to_owned(), signed.actor.area.as_str().to_owned())]);
    form_page(&state, &signed, None, values, BTreeMap::new()).await
}

/// `POST /admin/users`: 新增用户.
pub async fn create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    let draft = UserDraft {
        username: pair(&pairs, "username").to_owned(),
        display_name: pair(&pairs, "display_name").to_owned(),
        role: pair(&pairs, "role").to_owned(),
        area: pair(&pairs, "area").to_owned(),
        department: pair(&pairs, "department").to_owned(),
        password: pair(&pairs, "password").to_owned(),
    };
    match state.app.admin_create_user(&signed.actor, &draft).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let page = form_page(
                &state,
                &signed,
                None,
                profile_values(&pairs),
                errors_of(&error),
            )
            .await?;
            Ok((status_of(&error), page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /admin/users/{id}`: a user of the administrator's area with the forms that change it.
pub async fn show(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Query(query): Query<ShowQuery>,
) -> Result<FormPage, PageError> {
    let user = state.app.user(&signed.actor, id).await?;
    let values = values_of(&user);
    let mut page = form_page(&state, &signed, Some(user), values, BTreeMap::new()).await?;
    page.saved = query.saved.is_some();
    Ok(page)
}

/// The user's page again after a form of it failed: the typed values when it was the profile
/// form, the stored ones otherwise.
async fn show_failed(
    state: &WebState,
    signed: &Signed,
    id: i64,
    typed: Option<BTreeMap<String, String>>,
    error: &AppError,
) -> Result<Response, PageError> {
    let user = state.app.user(&signed.actor, id).await?;
    let values = match typed {
        Some(mut typed) => {
            typed.insert("username".to_owned(), user.username.clone());
            typed
        }
        None => values_of(&user),
    };
    let page = form_page(state, signed, Some(user), values, errors_of(error)).await?;
    Ok((status_of(error), page).into_response())
}

fn version_of(pairs: &[(String, String)]) -> i64 {
    pair(pairs, "version").trim().parse().unwrap_or(0)
}

/// `POST /admin/users/{id}`: 修改用户 (display name, role, area, department).
pub async fn update(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    let edit = UserEdit {
        display_name: pair(&pairs, "display_name").to_owned(),
        role: pair(&pairs, "role").to_owned(),
        area: pair(&pairs, "area").to_owned(),
        department: pair(&pairs, "department").to_owned(),
    };
    match state
        .app
        .update_user(&signed.actor, id, version_of(&pairs), &edit)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let typed = profile_values(&pairs);
            show_failed(&state, &signed, id, Some(typed), &error).await
        }
        Err(other) => Err(PageError(other)),
    }
}

/// `POST /admin/users/{id}/status`: 停用 (`active=0`) or 启用 (`active=1`).
pub async fn set_status(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    let active = match pair(&pairs, "active") {
        "1" => true,
        "0" => false,
        _ => {
            let error = AppError::invalid("active", "请选择停用或启用");
            return show_failed(&state, &signed, id, None, &error).await;
        }
    };
    match state
        .app
        .set_user_active(&signed.actor, id, version_of(&pairs), active)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            show_failed(&state, &signed, id, None, &error).await
        }
        Err(other) => Err(PageError(other)),
    }
}

/// `POST /admin/users/{id}/password`: 重置密码; the user's sessions end.
pub async fn reset_password(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    let password = pair(&pairs, "password");
    let confirm = pair(&pairs, "password_confirm");
    let result = if password != confirm {
        Err(AppError::invalid(
            "password_confirm",
            "两次输入的密码不一致",
        ))
    } else {
        state
            .app
            .reset_user_password(&signed.actor, id, version_of(&pairs), password)
            .await
    };
    match result {
        // The administrator who reset their own password signed themself out too.
        Ok(()) if id == signed.actor.user_id => Ok(Redirect::to("/login").into_response()),
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            show_failed(&state, &signed, id, None, &error).await
        }
        Err(other) => Err(PageError(other)),
    }
}
