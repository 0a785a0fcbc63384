//! Registry-wide pages: re-assessment on a date (重新认定) and the policy what-if (政策模拟).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::session::PageUser;
use app::AppError;
use app::registry::{RegistryAssessment, SIMULATED, Simulation};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::Category;
use serde::Deserialize;

fn parse_date(text: Option<&str>, today: chrono::NaiveDate) -> Result<chrono::NaiveDate, AppError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(today),
        Some(text) => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            AppError::invalid("as_of", format!("认定日期“{text}”无效，应为YYYY-MM-DD"))
        }),
    }
}

#[derive(Deserialize)]
pub struct AssessQuery {
    #[serde(default)]
    as_of: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "assessment.html")]
pub struct AssessmentPage {
    chrome: Chrome,
    r: RegistryAssessment,
    categories: Vec<Category>,
}

pub async fn assessment(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<AssessQuery>,
) -> Result<AssessmentPage, PageError> {
    let as_of = parse_date(query.as_of.as_deref(), state.app.today())?;
    let report = state.app.assess_registry(&signed.actor, as_of).await?;
    Ok(AssessmentPage {
        chrome: Chrome::of(&signed),
        r: report,
        categories: SIMULATED.to_vec(),
    })
}

#[derive(Deserialize)]
pub struct SimulateQuery {
    #[serde(default)]
    set: String,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "simulation.html")]
pub struct SimulationPage {
    chrome: Chrome,
    set: String,
    as_of: String,
    error: String,
    s: Option<Simulation>,
    categories: Vec<Category>,
    export_query: String,
}

impl SimulationPage {
    fn yuan(&self, value: impl std::fmt::Display) -> String {
        value.to_string()
    }
}

/// `GET /simulation?set=NAME%3DVALUE%0A…&as_of=…[&format=csv|xlsx]`: a read, so a GET form.
pub async fn simulation(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<SimulateQuery>,
) -> Result<Response, PageError> {
    if !matches!(
        signed.actor.role,
        domain::Role::DistrictCivilAffairs
            | domain::Role::DistrictAgriculture
            | domain::Role::Auditor
    ) {
        return Err(PageError(AppError::Forbidden));
    }
    let today = state.app.today();
    let chrome = Chrome::of(&signed);
    let page = |set: String, as_of: String, error: String, s: Option<Simulation>| SimulationPage {
        export_query: format!("set={}&as_of={}", urlencode(&set), urlencode(&as_of)),
        chrome,
        set,
        as_of,
        error,
        s,
        categories: SIMULATED.to_vec(),
    };
    if query.set.trim().is_empty() {
        return Ok(page(String::new(), today.to_string(), String::new(), None).into_response());
    }
    let as_of = match parse_date(query.as_of.as_deref(), today) {
        Ok(date) => date,
        Err(error) => {
            return Ok(page(
                query.set,
                query.as_of.unwrap_or_default(),
                error.message(),
                None,
            )
            .into_response());
        }
    };
    let lines: Vec<String> = query.set.lines().map(str::to_owned).collect();
    let simulation = match state
        .app
        .simulate_registry(&signed.actor, &lines, as_of)
        .await
    {
        Ok(simulation) => simulation,
        Err(AppError::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("；");
            return Ok(page(query.set, as_of.to_string(), message, None).into_response());
        }
        Err(other) => return Err(PageError(other)),
    };
    match query.format.as_deref() {
        Some("csv") => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"simulation.csv\"",
                ),
            ],
            simulation.table().to_csv(),
        )
            .into_response()),
        Some("xlsx") => {
            let bytes = simulation
                .table()
                .to_xlsx()
                .map_err(|error| PageError(AppError::Internal(error.into())))?;
            Ok(crate::pages::xlsx_download("simulation.xlsx", bytes))
        }
        _ => Ok(page(
            query.set,
            as_of.to_string(),
            String::new(),
            Some(simulation),
        )
        .into_response()),
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
