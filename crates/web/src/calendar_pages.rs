//! 工作日历 (`/policy/calendar`, `GET/POST /api/v1/calendar`, issue 14 item 5): each year with
//! its source and status (已录入 / 法定假日推算·待确认) and the holidays that count; a form for
//! district civil affairs to enter a year's arrangement (a year entered again is corrected).

use crate::WebState;
use crate::api::ApiJson;
use crate::chrome::Chrome;
use crate::error::{ApiError, PageError};
use crate::session::{ApiUser, PageUser, Signed};
use app::AppError;
use app::calendar::{CalendarPage, HolidayText, YearEntry, YearInput, YearView};
use app::parameters::Origin;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Value, json};

/// The form, as typed (so a fault loses nothing). `holidays`: one holiday per line.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct YearForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

/// The statuses an arrangement may carry, as (code, label) for the form.
fn statuses() -> Vec<(&'static str, &'static str)> {
    policy::Status::ENTERED
        .iter()
        .map(|status| (status.code(), status.label()))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
pub struct CalendarTemplate {
    chrome: Chrome,
    page: CalendarPage,
    form: YearForm,
    error: String,
    fields: Vec<String>,
    statuses: Vec<(&'static str, &'static str)>,
}

impl CalendarTemplate {
    /// `invalid` for the input of a faulty field of the refused form.
    fn invalid(&self, field: &str) -> &'static str {
        if self
            .fields
            .iter()
            .any(|f| f == field || f.starts_with(&format!("{field}[")))
        {
            "invalid"
        } else {
            ""
        }
    }

    fn origin_of(&self, entry: &YearEntry) -> String {
        origin_text(&entry.origin)
    }

    fn adjusted_of(&self, holiday: &workflow::Holiday) -> String {
        holiday
            .adjusted_working_days
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("、")
    }

    fn missing_text(&self) -> String {
        years_text(&self.page.missing)
    }
}

/// `2027、2028`.
pub fn years_text(years: &[i32]) -> String {
    years
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("、")
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Builtin => "内置（policy/calendar.toml）".to_owned(),
        Origin::Added { by, at, .. } => {
            // Stored in UTC; shown in China Standard Time like every date of the product.
            let shown = chrono::DateTime::parse_from_rfc3339(at).map_or_else(
                |_| at.clone(),
                |instant| {
                    (instant.naive_utc() + chrono::Duration::hours(8))
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                },
            );
            format!("平台录入：{by}，{shown}")
        }
    }
}

async fn render(
    state: &WebState,
    signed: &Signed,
    form: YearForm,
    error: String,
    fields: Vec<String>,
) -> Result<CalendarTemplate, PageError> {
    let page = state.app.calendar_page(&signed.actor).await?;
    let form = if form.year.is_empty() && form.status.is_empty() {
        YearForm {
            year: page
                .missing
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            status: "confirmed".to_owned(),
            ..form
        }
    } else {
        form
    };
    Ok(CalendarTemplate {
        chrome: Chrome::of(signed),
        page,
        form,
        error,
        fields,
        statuses: statuses(),
    })
}

/// `GET /policy/calendar`.
pub async fn calendar(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<CalendarTemplate, PageError> {
    render(
        &state,
        &signed,
        YearForm::default(),
        String::new(),
        Vec::new(),
    )
    .await
}

/// `POST /policy/calendar`: enters a year; a refused one shows the page again with the
/// message and the input kept.
pub async fn add_year(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<YearForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let entered = match app::calendar::parse_holiday_lines(&form.holidays) {
        Ok(holidays) => {
            let input = YearInput {
                year: form.year.clone(),
                holidays,
                source: form.source.clone(),
                status: form.status.clone(),
                note: form.note.clone(),
            };
            state.app.add_calendar_year(&signed.actor, &input).await
        }
        Err(error) => Err(error),
    };
    match entered {
        Ok(view) => Ok(Redirect::to(&format!("/policy/calendar#y-{}", view.year)).into_response()),
        Err(AppError::Invalid(faults)) => {
            let message = faults
                .iter()
                .map(|fault| fault.message.clone())
                .collect::<Vec<_>>()
                .join("；");
            let fields = faults.into_iter().map(|fault| fault.field).collect();
            let page = render(&state, &signed, form, message, fields).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

fn year_json(view: &YearView) -> Value {
    json!({
        "year": view.year,
        "state": view.state.code(),
        "state_label": view.state.label(),
        "source": view.source(),
        "holidays": view.holidays.iter().map(|holiday| json!({
            "name": holiday.name,
            "from": holiday.from.to_string(),
            "to": holiday.to.to_string(),
            "adjusted_working_days": holiday
                .adjusted_working_days
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            "status": holiday.status.code(),
        })).collect::<Vec<_>>(),
        "entries": view.entries.iter().map(|entry| {
            let (origin, added_by, added_at) = match &entry.origin {
                Origin::Builtin => ("builtin", None, None),
                Origin::Added { by, at, .. } => ("added", Some(by.as_str()), Some(at.as_str())),
            };
            json!({
                "source": entry.source,
                "status": entry.status.code(),
                "note": entry.note,
                "origin": origin,
                "added_by": added_by,
                "added_at": added_at,
                "in_effect": entry.in_effect,
            })
        }).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/calendar`: each year with its state, source, holidays and entries.
pub async fn calendar_api(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let page = state.app.calendar_page(&signed.actor).await?;
    Ok(Json(json!({
        "as_of": page.today.to_string(),
        "can_add": page.can_add,
        "missing": page.missing,
        "years": page.years.iter().map(year_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearBody {
    #[serde(default)]
    year: Option<Value>,
    #[serde(default)]
    holidays: Vec<HolidayText>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/calendar`: enters a year's arrangement (201 with the year).
pub async fn add_year_api(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiJson(body): ApiJson<YearBody>,
) -> Result<Response, ApiError> {
    let year = match body.year {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    let input = YearInput {
        year,
        holidays: body.holidays,
        source: body.source,
        status: body.status.unwrap_or_default(),
        note: body.note.unwrap_or_default(),
    };
    let view = state.app.add_calendar_year(&signed.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(year_json(&view))).into_response())
}
