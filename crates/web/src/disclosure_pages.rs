//! 公开 (disclosure, issue 14 item 1): the public list of a village or town as in force on a
//! day (`/public/{area}`, no sign-in, limited per client as `/track`; the same as JSON at
//! `/api/v1/disclosure/{area}`), the printable board sheet of a village
//! (`/villages/{code}/print/disclosure`), its posting (`POST /villages/{code}/disclosure/posted`)
//! and the signed-in list of publications (`/disclosure`). Each shows the supervision
//! telephone set by `serve --supervision-phone` (`WebConfig::supervision_phone`).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::{ApiError, PageError};
use crate::session::PageUser;
use app::AppError;
use app::disclosure::{DisclosureList, PublicationPage};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

fn parse_date(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            AppError::invalid(field, format!("日期“{text}”无效，应为 YYYY-MM-DD 格式"))
        }),
    }
}

/// The public list after the per-client limit: `Throttled` (429) once a client is over it.
async fn public_list(
    state: &WebState,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    area: &str,
    query: &ListQuery,
) -> Result<DisclosureList, AppError> {
    let client = crate::throttle::client_of(
        peer.map(|Extension(ConnectInfo(address))| address),
        headers,
        state.config.behind_proxy,
    );
    if !state
        .disclosure_throttle
        .allow(client, std::time::Instant::now())
    {
        return Err(AppError::Throttled);
    }
    let on = parse_date("date", query.date.as_deref())?;
    let after = query.after.as_deref().filter(|text| !text.is_empty());
    state.app.public_disclosure(area, on, after).await
}

#[derive(Template, WebTemplate)]
#[template(path = "public_disclosure.html")]
pub struct PublicPage {
    l: DisclosureList,
    phone: Option<String>,
}

/// `GET /public/{area}[?date=YYYY-MM-DD&after=…]`: anyone, no sign-in.
pub async fn public_page(
    State(state): State<WebState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(area): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<PublicPage, PageError> {
    let l = public_list(&state, peer, &headers, &area, &query).await?;
    Ok(PublicPage {
        l,
        phone: state.config.supervision_phone.clone(),
    })
}

/// `GET /api/v1/disclosure/{area}[?date=…&after=…]`: the same list as JSON, no sign-in.
pub async fn public_api(
    State(state): State<WebState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(area): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let l = public_list(&state, peer, &headers, &area, &query).await?;
    let lines: Vec<Value> = l
        .lines
        .iter()
        .map(|line| {
            json!({
                "village_code": line.village_code,
                "village_name": line.village_name,
                "name": line.name,
                "category": line.category,
                "category_label": line.category_label,
                "household_size": line.household_size,
                "monthly_yuan": line.monthly.map(|yuan| yuan.to_string()),
                "start_date": line.start_date,
            })
        })
        .collect();
    Ok(Json(json!({
        "area": l.area,
        "place_name": l.place_name,
        "date": l.on.to_string(),
        "supervision_phone": state.config.supervision_phone,
        "lines": lines,
        "next_after": l.next_after,
        "published_on": l.latest.as_ref().map(|p| p.published_on.clone()),
        "posted_on": l.latest.as_ref().and_then(|p| p.posted_on.clone()),
    })))
}

#[derive(Template, WebTemplate)]
#[template(path = "print_disclosure.html")]
pub struct SheetPrint {
    l: DisclosureList,
    phone: Option<String>,
}

/// `GET /villages/{code}/print/disclosure`: the board sheet (公开栏) of the village.
pub async fn print_sheet(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(code): Path<String>,
) -> Result<SheetPrint, PageError> {
    let l = state.app.disclosure_sheet(&signed.actor, &code).await?;
    Ok(SheetPrint {
        l,
        phone: state.config.supervision_phone.clone(),
    })
}

#[derive(Deserialize)]
pub struct PostedForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    posted_on: Option<String>,
}

/// `POST /villages/{code}/disclosure/posted`: the sheet was posted on the board on
/// `posted_on` (default today); back to `/disclosure`.
pub async fn record_posted(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(code): Path<String>,
    Form(form): Form<PostedForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(form.csrf.as_deref())?;
    let posted_on =
        parse_date("posted_on", form.posted_on.as_deref())?.unwrap_or_else(|| state.app.today());
    state
        .app
        .record_disclosure_posting(&signed.actor, &code, posted_on)
        .await?;
    Ok(Redirect::to(&format!("/disclosure#v-{code}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "disclosure.html")]
pub struct PublicationsPage {
    chrome: Chrome,
    page: PublicationPage,
    may_post: bool,
    first_page: bool,
    phone: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    after: Option<String>,
}

/// `GET /disclosure[?after=…]`: the publications of the user's villages with their posting.
pub async fn publications(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<PageQuery>,
) -> Result<PublicationsPage, PageError> {
    let after = query.after.as_deref().filter(|text| !text.is_empty());
    let page = state
        .app
        .disclosure_publications(&signed.actor, after)
        .await?;
    Ok(PublicationsPage {
        chrome: Chrome::of(&signed),
        may_post: matches!(
            signed.actor.role,
            domain::Role::VillageAssistant | domain::Role::TownReviewer
        ),
        page,
        first_page: after.is_none(),
        phone: state.config.supervision_phone.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_are_optional_and_named_when_wrong() {
        assert_eq!(parse_date("date", None).ok(), Some(None));
        assert_eq!(parse_date("date", Some(" ")).ok(), Some(None));
        assert!(matches!(
            parse_date("date", Some("2026-02-30")),
            Err(app::AppError::Invalid(ref f)) if f[0].field == "date"
        ));
    }
}
