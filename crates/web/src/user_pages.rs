//! 用户管理 pages (U2) for the administrator (系统管理员): the users of their area
//! (`/admin/users`), a new user, and a user's page with its profile form, 停用/启用 and
//! 重置密码. Role and area are checked by the use cases of `app::users`; every form carries
//! the session's CSRF token; a fault comes back beside its field with what was typed (never
//! the password).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::forms::FormError;
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

/// The fields at fault (by field name; a fault of no field goes under `form`), with `values`.
fn failed(values: FormError, error: &AppError) -> FormError {
    match error {
        AppError::Conflict(_) => values
            .with("form", "该用户已被他人修改，请刷新页面后再试")
            .with_status(StatusCode::CONFLICT),
        other => values
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .failed(other),
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
    errors: FormError,
    list: UserList,
    /// Not the first page (a link back to it is shown).
    paged: bool,
    choices: UserChoices,
    /// 登录限制 (district administrator only).
    login_limits: Option<app::auth::LoginLimits>,
}

impl ListPage {
    fn err(&self, key: &str) -> &str {
        self.errors.err(key)
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
        Ok(list) => (list, FormError::default(), StatusCode::OK),
        Err(error @ AppError::Invalid(_)) => (
            UserList {
                items: Vec::new(),
                total: 0,
                next: None,
                per_page: 1,
            },
            failed(FormError::default(), &error),
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
    /// The profile form as typed (or as stored) and what was wrong with a form of the page.
    form: FormError,
    choices: UserChoices,
    /// Set after a change was saved (`?saved=1`).
    saved: bool,
}

impl FormPage {
    fn v(&self, key: &str) -> &str {
        self.form.v(key)
    }

    fn err(&self, key: &str) -> &str {
        self.form.err(key)
    }

    fn invalid(&self, key: &str) -> &'static str {
        self.form.invalid(key)
    }

    fn role_code(&self, role: &Role) -> &'static str {
        role.code()
    }
}

async fn form_page(
    state: &WebState,
    signed: &Signed,
    user: Option<UserView>,
    form: FormError,
) -> Result<FormPage, PageError> {
    Ok(FormPage {
        chrome: Chrome::of(signed),
        choices: state.app.user_choices(&signed.actor).await?,
        user,
        form,
        saved: false,
    })
}

/// The 新增用户 form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    area: String,
    department: String,
    password: String,
}

impl From<CreateForm> for UserDraft {
    fn from(form: CreateForm) -> Self {
        UserDraft {
            username: form.username,
            display_name: form.display_name,
            role: form.role,
            area: form.area,
            department: form.department,
            password: form.password,
        }
    }
}

/// The profile fields of a form as typed (never the password).
fn profile_values(draft: &UserDraft) -> FormError {
    FormError::of([
        ("username", &draft.username),
        ("display_name", &draft.display_name),
        ("role", &draft.role),
        ("area", &draft.area),
        ("department", &draft.department),
    ])
}

fn values_of(user: &UserView) -> FormError {
    FormError::of([
        ("username", user.username.clone()),
        ("display_name", user.display_name.clone()),
        ("role", user.role.code().to_owned()),
        ("area", user.area.as_str().to_owned()),
        ("department", user.department.clone().unwrap_or_default()),
    ])
}

/// `GET /admin/users/new`: the new-user form.
pub async fn new_form(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<FormPage, PageError> {
    let values = FormError::of([("area", signed.actor.area.as_str())]);
    form_page(&state, &signed, None, values).await
}

/// `POST /admin/users`: 新增用户.
pub async fn create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<CreateForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let draft = UserDraft::from(form);
    match state.app.admin_create_user(&signed.actor, &draft).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let failed = failed(profile_values(&draft), &error);
            let status = failed.status();
            let page = form_page(&state, &signed, None, failed).await?;
            Ok((status, page).into_response())
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
    let mut page = form_page(&state, &signed, Some(user), values).await?;
    page.saved = query.saved.is_some();
    Ok(page)
}

/// The user's page again after a form of it failed: the typed values when it was the profile
/// form, the stored ones otherwise.
async fn show_failed(
    state: &WebState,
    signed: &Signed,
    id: i64,
    typed: Option<FormError>,
    error: &AppError,
) -> Result<Response, PageError> {
    let user = state.app.user(&signed.actor, id).await?;
    let values = match typed {
        Some(mut typed) => {
            typed.set("username", user.username.clone());
            typed
        }
        None => values_of(&user),
    };
    let failed = failed(values, error);
    let status = failed.status();
    let page = form_page(state, signed, Some(user), failed).await?;
    Ok((status, page).into_response())
}

fn version_of(text: &str) -> i64 {
    text.trim().parse().unwrap_or(0)
}

/// The 修改用户 form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditForm {
    csrf: String,
    version: String,
    display_name: String,
    role: String,
    area: String,
    department: String,
}

impl From<&EditForm> for UserEdit {
    fn from(form: &EditForm) -> Self {
        UserEdit {
            display_name: form.display_name.clone(),
            role: form.role.clone(),
            area: form.area.clone(),
            department: form.department.clone(),
        }
    }
}

/// `POST /admin/users/{id}`: 修改用户 (display name, role, area, department).
pub async fn update(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let edit = UserEdit::from(&form);
    match state
        .app
        .update_user(&signed.actor, id, version_of(&form.version), &edit)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let typed = FormError::of([
                ("display_name", &edit.display_name),
                ("role", &edit.role),
                ("area", &edit.area),
                ("department", &edit.department),
            ]);
            show_failed(&state, &signed, id, Some(typed), &error).await
        }
        Err(other) => Err(PageError(other)),
    }
}

/// The 停用/启用 form: `active` is `0` or `1`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    csrf: String,
    version: String,
    active: String,
}

/// `POST /admin/users/{id}/status`: 停用 (`active=0`) or 启用 (`active=1`).
pub async fn set_status(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let active = match form.active.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            let error = AppError::invalid("active", "请选择停用或启用");
            return show_failed(&state, &signed, id, None, &error).await;
        }
    };
    match state
        .app
        .set_user_active(&signed.actor, id, version_of(&form.version), active)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=1")).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            show_failed(&state, &signed, id, None, &error).await
        }
        Err(other) => Err(PageError(other)),
    }
}

/// The 重置密码 form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    version: String,
    password: String,
    password_confirm: String,
}

/// `POST /admin/users/{id}/password`: 重置密码; the user's sessions end.
pub async fn reset_password(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let result = if form.password != form.password_confirm {
        Err(AppError::invalid(
            "password_confirm",
            "两次输入的密码不一致",
        ))
    } else {
        state
            .app
            .reset_user_password(&signed.actor, id, version_of(&form.version), &form.password)
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
