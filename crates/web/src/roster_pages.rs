//! 名册查询 (issue 13 item 5, D2): who was in a category on a date within an area — the page
//! (`/roster`, keyset pages with 下一页), its XLSX export (`/roster/xlsx`, audited) and the API
//! (`GET /api/v1/roster`). The use cases are `app::roster`.

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::{ApiError, PageError};
use crate::session::{ApiUser, PageUser};
use app::AppError;
use app::report::AreaChoice;
use app::roster::{ROSTER_PER_PAGE, RosterPage, RosterQuery};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::Category;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RosterParams {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    area: Option<String>,
    #[serde(default)]
    after: Option<String>,
    /// The first page's total, carried to the next pages for display only.
    #[serde(default)]
    total: Option<i64>,
}

impl RosterParams {
    fn query(&self) -> RosterQuery<'_> {
        RosterQuery {
            category: self.category.as_deref().unwrap_or(""),
            date: self.date.as_deref(),
            area: self.area.as_deref(),
            after: self.after.as_deref(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "roster.html")]
pub struct RosterPageView {
    chrome: Chrome,
    categories: Vec<(&'static str, &'static str)>,
    areas: Vec<AreaChoice>,
    category: String,
    date: String,
    area: String,
    result: Option<RosterPage>,
    total: Option<i64>,
    error: String,
    per_page: i64,
    first_page: bool,
}

impl RosterPageView {
    /// The query string of this roster (category, date, area), for links.
    fn base_query(&self) -> String {
        let mut query = url_pairs(&[
            ("category", &self.category),
            ("date", &self.date),
            ("area", &self.area),
        ]);
        if query.is_empty() {
            query.push('?');
        }
        query
    }
}

/// `?k=v&…` with the values percent-encoded (empty values left out).
fn url_pairs(pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| {
            let value: String = value
                .bytes()
                .map(|byte| match byte {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (byte as char).to_string()
                    }
                    _ => format!("%{byte:02X}"),
                })
                .collect();
            format!("{key}={value}")
        })
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

/// `GET /roster[?category=&date=&area=&after=]`: the form, and the page of the roster asked.
pub async fn roster(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(params): Query<RosterParams>,
) -> Result<RosterPageView, PageError> {
    let areas = state.app.roster_areas(&signed.actor).await?;
    let mut view = RosterPageView {
        chrome: Chrome::of(&signed),
        categories: Category::ALL
            .iter()
            .map(|category| (category.code(), category.label()))
            .collect(),
        category: params.category.clone().unwrap_or_default(),
        date: params
            .date
            .clone()
            .unwrap_or_else(|| state.app.today().to_string()),
        area: params
            .area
            .clone()
            .unwrap_or_else(|| signed.actor.scope().as_str().to_owned()),
        areas,
        result: None,
        total: params.total,
        error: String::new(),
        per_page: ROSTER_PER_PAGE,
        first_page: params.after.as_deref().is_none_or(str::is_empty),
    };
    if params
        .category
        .as_deref()
        .is_some_and(|text| !text.is_empty())
    {
        match state.app.roster(&signed.actor, &params.query()).await {
            Ok(page) => {
                view.total = page.total.or(params.total);
                view.category = page.category.code().to_owned();
                view.date = page.date.to_string();
                view.area = page.area.as_str().to_owned();
                if !view.areas.iter().any(|choice| choice.code == view.area) {
                    view.areas.push(AreaChoice {
                        code: view.area.clone(),
                        name: page.area_name.clone(),
                    });
                }
                view.result = Some(page);
            }
            Err(AppError::Invalid(errors)) => {
                view.error = errors
                    .iter()
                    .map(|error| error.message.clone())
                    .collect::<Vec<_>>()
                    .join("；");
            }
            Err(error) => return Err(PageError(error)),
        }
    }
    Ok(view)
}

/// `GET /roster/xlsx?category=&date=&area=`: every line of the roster as a workbook.
pub async fn roster_xlsx(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(params): Query<RosterParams>,
) -> Result<Response, PageError> {
    let query = RosterQuery {
        after: None,
        ..params.query()
    };
    let export = state.app.roster_xlsx(&signed.actor, &query).await?;
    Ok(crate::pages::xlsx_download(&export.file_name, export.bytes))
}

/// `GET /api/v1/roster?category=&date=&area=&after=`: one page of the roster as JSON.
pub async fn roster_api(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    crate::api::Query(params): crate::api::Query<RosterParams>,
) -> Result<Json<Value>, ApiError> {
    let page = state.app.roster(&signed.actor, &params.query()).await?;
    let items: Vec<Value> = page
        .lines
        .iter()
        .map(|line| {
            json!({
                "household_id": line.household_no.as_str(),
                "head_name": line.head_name,
                "person_name": line.person_name,
                "id_number": line.id_number.as_ref().map(domain::NationalId::as_str),
                "area_code": line.area_code,
                "place_name": line.place_name,
                "n_members": line.n_members,
                "start_date": line.start_date,
                "end_date": line.end_date,
                "monthly_fen": line.monthly.map(domain::Yuan::fen),
                "monitoring_kind": line.monitoring_kind.map(|kind| kind.code()),
                "support_mode": line.support_mode.map(|mode| mode.code()),
                "care_level": line.care_level.map(|care| care.code()),
                "source": line.source.code(),
                "reason": line.reason,
            })
        })
        .collect();
    Ok(Json(json!({
        "category": page.category.code(),
        "date": page.date,
        "area_code": page.area.as_str(),
        "area_name": page.area_name,
        "items": items,
        "total": page.total,
        "next": page.next,
        "per_page": ROSTER_PER_PAGE,
    })))
}
