//! 线上申请 (P1): the public online application at `/apply`, no login.
//!
//! The form carries a double-submit token (a cookie set with the form and the same value in a
//! hidden field, as the login form does), submissions are limited per client like `/track`
//! (`throttle::client_of`, `APPLICATIONS_PER_MINUTE`), and the body to `APPLY_BYTES`.

use crate::error::PageError;
use crate::forms::FormError;
use crate::session::{constant_time_eq, random_token};
use crate::{WebState, cookies};
use app::AppError;
use app::online::{
    Applied, CONSENT_TEXT, HARDSHIP_CHARS, HOUSEHOLD_SIZE_MAX, NAME_CHARS, OnlineForm, TownPlaces,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// The largest application body accepted: the form's fields with a 500-character 困难情况
/// fit in a few kilobytes.
pub const APPLY_BYTES: usize = 16 * 1024;

/// Online applications one client may submit a minute (an operating limit of this service,
/// not a policy parameter): a family applies once; a few corrections after a refused field fit.
pub const APPLICATIONS_PER_MINUTE: u32 = 10;

/// The 线上申请 form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ApplyForm {
    csrf: String,
    name: String,
    id_number: String,
    phone: String,
    village: String,
    household_size: String,
    hardship: String,
    consent: String,
}

impl ApplyForm {
    /// The form as typed, to show again (never the token).
    fn typed(&self) -> FormError {
        FormError::of([
            ("name", &self.name),
            ("id_number", &self.id_number),
            ("phone", &self.phone),
            ("village", &self.village),
            ("household_size", &self.household_size),
            ("hardship", &self.hardship),
            ("consent", &self.consent),
        ])
    }
}

impl From<&ApplyForm> for OnlineForm {
    fn from(form: &ApplyForm) -> Self {
        OnlineForm {
            name: form.name.clone(),
            id_number: form.id_number.clone(),
            phone: form.phone.clone(),
            village: form.village.clone(),
            household_size: form.household_size.clone(),
            hardship: form.hardship.clone(),
            consent: matches!(form.consent.as_str(), "on" | "true" | "1"),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "apply.html")]
pub struct ApplyPage {
    csrf: String,
    /// The form as typed and what was wrong with it.
    form: FormError,
    towns: Vec<TownPlaces>,
    consent_text: &'static str,
    name_chars: usize,
    hardship_chars: usize,
    size_max: u32,
}

impl ApplyPage {
    fn v(&self, key: &str) -> &str {
        self.form.v(key)
    }

    fn err(&self, key: &str) -> &str {
        self.form.err(key)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "apply_done.html")]
pub struct ApplyDone {
    receipt: String,
    name: String,
}

/// The form; `csrf` is the token a valid submission carried (kept, so another tab's form stays
/// good), or none for a fresh one.
async fn form_page(
    state: &WebState,
    csrf: Option<String>,
    form: FormError,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = csrf.unwrap_or_else(random_token);
    let cookie = cookies::set(
        cookies::APPLY_CSRF,
        &csrf,
        3600,
        state.config.secure_cookies,
    );
    let page = ApplyPage {
        csrf,
        form,
        towns: state.app.application_places().await?,
        consent_text: CONSENT_TEXT,
        name_chars: NAME_CHARS,
        hardship_chars: HARDSHIP_CHARS,
        size_max: HOUSEHOLD_SIZE_MAX,
    };
    Ok((status, [(header::SET_COOKIE, cookie)], page).into_response())
}

/// `GET /static/apply.js`: narrows the village list by town (a static file, as the
/// Content-Security-Policy allows no inline script).
pub async fn apply_script() -> impl axum::response::IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/apply.js"),
    )
}

/// `GET /apply`: the empty form.
pub async fn apply_form(State(state): State<WebState>) -> Result<Response, PageError> {
    form_page(&state, None, FormError::default(), StatusCode::OK).await
}

/// `POST /apply`: 线上申请. A new case answers with its tracking number; an application
/// already running for the household or person answers with that one's.
pub async fn apply_submit(
    State(state): State<WebState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<ApplyForm>,
) -> Result<Response, PageError> {
    let values = form.typed();
    let cookie = cookies::read(&headers, cookies::APPLY_CSRF).unwrap_or_default();
    if cookie.is_empty() || !constant_time_eq(cookie.as_bytes(), form.csrf.as_bytes()) {
        let failed = values.with("form", "申请页面已过期，请核对后重新提交");
        return form_page(&state, None, failed, StatusCode::FORBIDDEN).await;
    }
    let client = crate::throttle::client_of(
        peer.map(|Extension(ConnectInfo(address))| address),
        &headers,
        state.config.behind_proxy,
    );
    if !state
        .apply_throttle
        .allow(client, std::time::Instant::now())
    {
        let failed = values.with("form", "提交过于频繁，请稍后再试");
        return form_page(&state, Some(cookie), failed, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let application = OnlineForm::from(&form);
    match state.app.apply_online(&application).await {
        // The same answer whether a case was opened or the application was kept with one
        // already running (issue 15).
        Ok(Applied { receipt }) => {
            let done = ApplyDone {
                receipt,
                name: application.name.trim().to_owned(),
            };
            Ok((StatusCode::CREATED, done).into_response())
        }
        Err(error @ (AppError::Invalid(_) | AppError::Refused(_) | AppError::Conflict(_))) => {
            let failed = values.failed(&error);
            let status = failed.status();
            form_page(&state, Some(cookie), failed, status).await
        }
        Err(other) => Err(PageError(other)),
    }
}
