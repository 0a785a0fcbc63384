//! The JSON API under `/api/v1/` (described by `/api/openapi.json`).

use crate::error::ApiError;
use crate::session::ApiUser;
use crate::{WebState, cookies};
use app::AppError;
use app::households::HouseholdDetail;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Household;
use domain::interchange::HouseholdRecord;
use serde::Deserialize;
use serde_json::{Value, json};

/// JSON bodies: faults named by field path, answered as `ApiError` (`input::ApiJson`).
pub use crate::input::ApiJson;

/// `axum::extract::Query` with rejections answered as `ApiError`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub(crate) T);

/// `axum::extract::Path` with rejections answered as `ApiError` (a malformed id is not found).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub(crate) T);

pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /api/v1/session`: signs in; the cookie carries the session, the body the CSRF token.
pub async fn session_create(
    State(state): State<WebState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: axum::http::HeaderMap,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let client = crate::throttle::client_of(
        peer.map(|axum::Extension(axum::extract::ConnectInfo(address))| address),
        &headers,
        state.config.behind_proxy,
    );
    let session = state
        .app
        .login(
            credentials.username.trim(),
            &credentials.password,
            &client.to_string(),
        )
        .await?;
    let cookie = cookies::set(
        cookies::SESSION,
        &session.token,
        8 * 3600,
        state.config.secure_cookies,
    );
    let body = json!({
        "username": session.actor.username,
        "role": session.actor.role.code(),
        "area": session.actor.area.as_str(),
        "csrf_token": session.csrf_token,
    });
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(body),
    )
        .into_response())
}

pub async fn session_delete(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
) -> Result<Response, ApiError> {
    state.app.logout(&signed.token, &signed.actor).await?;
    let cookie = cookies::set(cookies::SESSION, "", 0, state.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

pub async fn household_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<crate::pages::ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = state
        .app
        .search_households(&signed.actor, &query.q, query.after.as_deref())
        .await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|item| {
            json!({
                "id": item.id,
                "household_id": item.external_id.as_str(),
                "area_code": item.area_code.as_str(),
                "place_name": item.place_name,
                "head_name": item.head_name,
                "head_id_number": item.head_id_number.as_str(),
                "n_members": item.n_members,
                "matched": item.matched.as_ref().map(|(name, id_number)| json!({ "name": name, "id_number": id_number.as_str() })),
            })
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "by": crate::pages::search_by_code(page.by),
        "total": page.total,
        "total_capped": page.total_capped,
        "next": page.next,
        "per_page": page.per_page,
        "masked": page.masked,
    })))
}

fn detail_json(detail: &HouseholdDetail) -> Value {
    let mut record = HouseholdRecord::from(&detail.household);
    for (member, person) in record.members.iter_mut().zip(&detail.household.members) {
        member.id_number = detail.shown(&person.id_number).to_string();
    }
    json!({
        "id": detail.id,
        "version": detail.version,
        "place_name": detail.place_name,
        "masked": detail.masked,
        "updated_at": detail.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "household": record,
        "memberships": detail.memberships.iter().map(|m| json!({
            "id_number": detail.shown(&m.id_number).as_str(), "name": m.name, "relation": m.relation.code(),
            "start_date": m.start_date, "end_date": m.end_date,
        })).collect::<Vec<_>>(),
        "categories": detail.categories.iter().map(|c| json!({
            "category": c.category.code(), "monitoring_kind": c.monitoring_kind.map(|kind| kind.code()), "id_number": c.id_number.as_ref().map(|id| detail.shown(id).to_string()),
            "start_date": c.start_date, "end_date": c.end_date,
            "monthly_yuan": c.monthly_fen.map(|fen| domain::Yuan::from_fen(fen).to_f64()), "reason": c.reason,
        })).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    full: Option<String>,
}

pub async fn household_get(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<Json<Value>, ApiError> {
    let detail = state
        .app
        .household_detail(
            &signed.actor,
            id,
            crate::input::query_flag(query.full.as_deref(), "full", "完整信息")?,
        )
        .await?;
    Ok(Json(detail_json(&detail)))
}

fn household_from(body: &Value) -> Result<Household, AppError> {
    let record: HouseholdRecord = crate::input::record_from(body, "")?;
    Household::try_from(&record).map_err(|error| AppError::invalid(error.field, error.reason))
}

pub async fn household_create(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let household = household_from(&body)?;
    let id = state
        .app
        .create_household(&signed.actor, &household)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

#[derive(Deserialize)]
pub struct UpdateQuery {
    version: i64,
}

/// `PUT /api/v1/households/{id}?version=N`: replaces the record if it is still at version N.
pub async fn household_update(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<UpdateQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let household = household_from(&body)?;
    state
        .app
        .update_household(&signed.actor, id, query.version, &household)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    source: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    file_name: String,
}

/// `POST /api/v1/feeds?source=S&period=P[&file_name=F]`: the body is the feed file (CSV or
/// JSON Lines). A new feed answers 201 with its identity, counts, rejected rows and queued
/// run; the same feed again answers 200 with `repeated: true` and changes nothing.
pub async fn feed_create(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<FeedQuery>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let receipt = state
        .app
        .import_feed(
            &signed.actor,
            app::feeds::FeedUpload {
                source: &query.source,
                period: &query.period,
                file_name: &query.file_name,
                bytes: &body,
            },
        )
        .await
        .map_err(|error| match error {
            // 统计期 is a query parameter here: a bad one is a bad query (400), not a bad body.
            AppError::Invalid(mut list) if list.len() == 1 && list[0].field == "period" => {
                AppError::BadQuery(list.remove(0))
            }
            other => other,
        })?;
    let status = if receipt.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = json!({
        "feed_id": receipt.feed_id,
        "source": receipt.identity.source,
        "period": receipt.identity.period.as_str(),
        "content_hash": receipt.identity.content_hash,
        "repeated": receipt.repeated,
        "rows_read": receipt.rows_read,
        "rows_rejected": receipt.rows_rejected,
        "rejections": receipt.rejections.iter().map(|(line, reason)| json!({ "line": line, "reason": reason })).collect::<Vec<_>>(),
        "job_id": receipt.job_id,
    });
    Ok((status, Json(body)).into_response())
}

/// `GET /api/v1/warnings?state=&rule=&late=1&after=`: the warnings in the actor's area.
pub async fn warning_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<crate::watch_pages::WarningListQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = state
        .app
        .warnings(&signed.actor, &query.to_query()?)
        .await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|item| {
            json!({
                "id": item.id,
                "rule": item.rule,
                "rule_label": item.rule_label,
                "severity": item.severity,
                "person_name": item.person_name,
                "id_number": item.id_number,
                "household_id": item.household_external_id,
                "inside_net": item.inside_net,
                "area_code": item.area_code,
                "state": item.state.code(),
                "disposition": item.disposition.map(|disposition| disposition.code()),
                "created_on": item.created_on,
                "due_on": item.due_on,
                "closed_on": item.closed_on,
                "late": item.late,
            })
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "total": page.total,
        "total_capped": page.total_capped,
        "next": page.next,
        "per_page": page.per_page,
        "masked": page.masked,
    })))
}
