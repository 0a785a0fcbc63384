//! 救助帮扶 API: the catalogue, a household's proposals, referrals and their handling.

use crate::WebState;
use crate::api::{ApiJson, Path, Query};
use crate::error::ApiError;
use crate::session::ApiUser;
use app::AppError;
use app::assistance::{HouseholdAssistance, ReferralAct, ReferralView};
use assist::{Item, Proposal, ReferralState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

fn item_json(item: &Item, department_name: &str) -> Value {
    json!({
        "code": item.code,
        "name": item.name,
        "version": item.version,
        "needs": item.needs.iter().map(|n| n.code()).collect::<Vec<_>>(),
        "department": item.department,
        "department_name": department_name,
        "categories": item.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
        "signals": item.signals.iter().map(|s| s.code()).collect::<Vec<_>>(),
        "rank": item.rank,
        "amount_param": item.amount_param.map(|p| p.name()),
        "period": item.period.code(),
        "source": item.source,
        "status": item.status.code(),
        "active": item.active,
        "note": item.note,
    })
}

pub(crate) fn referral_json(view: &ReferralView) -> Value {
    let row = &view.row;
    json!({
        "id": row.id,
        "household_id": row.household_id,
        "household_external_id": row.household_external_id.as_str(),
        "head_name": row.head_name,
        "head_id_number": view.payee_id_number.as_str(),
        "masked": view.masked,
        "payee_revealed": view.revealed,
        "area_code": row.area_code.as_str(),
        "item_code": row.item_code.as_str(),
        "item_version": row.item_version,
        "item_name": view.item_name,
        "department": row.department,
        "department_name": view.department_name,
        "needs": row.needs.split(',').filter(|n| !n.is_empty()).collect::<Vec<_>>(),
        "reason": row.reason,
        "period": row.period.to_string(),
        "state": row.state.code(),
        "state_label": view.state.label(),
        "created_on": row.created_on,
        "accepted_on": row.accepted_on,
        "delivered_on": row.delivered_on,
        "amount_fen": row.amount_fen,
        "note": row.note,
        "declined_on": row.declined_on,
        "decline_reason": row.decline_reason,
        "supplementary_reason": row.supplementary_reason,
        "version": row.version,
        "actions": view.actions.iter().map(|a| a.code()).collect::<Vec<_>>(),
        "events": view.events.iter().map(|e| json!({
            "seq": e.seq, "on_date": e.on_date, "state": e.state.code(), "actor": e.actor, "note": e.note,
        })).collect::<Vec<_>>(),
    })
}

fn proposal_json(x: &Proposal) -> Value {
    json!({
        "item_code": x.item_code, "item_name": x.item_name, "item_version": x.item_version,
        "department": x.department, "department_name": x.department_name,
        "needs": x.needs.iter().map(|n| n.code()).collect::<Vec<_>>(),
        "period": x.period.to_string(), "amount_fen": x.amount.map(|y| y.fen()), "reason": x.reason,
    })
}

fn assistance_json(a: &HouseholdAssistance) -> Value {
    let p = &a.proposals;
    json!({
        "as_of": a.as_of.to_string(),
        "basis": a.basis,
        "preview": a.preview,
        "categories": a.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
        "needs": p.needs.iter().map(|n| json!({ "need": n.need.code(), "evidence": n.evidence })).collect::<Vec<_>>(),
        "proposed": p.proposed.iter().map(proposal_json).collect::<Vec<_>>(),
        "supplements": p.supplements.iter().map(|s| {
            let mut value = proposal_json(&s.proposal);
            value["covered_by"] = json!(s.covered_by);
            value
        }).collect::<Vec<_>>(),
        "covered": p.covered.iter().map(|x| json!({
            "need": x.need.code(), "item_code": x.item_code, "referral_id": x.referral_id, "reason": x.reason,
        })).collect::<Vec<_>>(),
        "passed_over": p.passed_over.iter().map(|x| json!({
            "need": x.need.code(), "item_code": x.item_code, "reason": x.reason,
        })).collect::<Vec<_>>(),
        "unmet": p.unmet.iter().map(|x| json!({ "need": x.need.code(), "reason": x.reason })).collect::<Vec<_>>(),
        "chain": a.chain.iter().map(referral_json).collect::<Vec<_>>(),
        "can_refer": a.can_refer,
    })
}

/// `GET /api/v1/assistance/items`: the catalogue in force.
pub async fn items(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let view = state.app.assistance_catalogue(&signed.actor).await?;
    let c = &view.catalogue;
    Ok(Json(json!({
        "departments": c.departments.iter().map(|d| json!({ "code": d.code, "name": d.name })).collect::<Vec<_>>(),
        "items": c.items.iter().map(|i| item_json(i, c.department_name(&i.department))).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/proposals/{household_id}`: needs, proposals, unmet needs and the chain.
pub async fn proposals(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let assistance = state.app.household_assistance(&signed.actor, id).await?;
    Ok(Json(assistance_json(&assistance)))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    state: Option<String>,
    /// Where the page starts (the `next` of the page before).
    #[serde(default)]
    after: Option<String>,
}

pub(crate) fn parse_state(text: Option<&str>) -> Result<Option<ReferralState>, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(code) => ReferralState::from_code(code).map(Some).ok_or_else(|| {
            AppError::invalid(
                "state",
                format!("状态“{code}”无效，应为 sent、accepted、delivered 或 declined"),
            )
        }),
    }
}

/// `GET /api/v1/referrals[?state=&after=]`: one page of the actor's queue (`next` for more).
pub async fn referral_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    let wanted = parse_state(query.state.as_deref())?;
    let queue = state
        .app
        .referral_queue(&signed.actor, wanted, query.after.as_deref())
        .await?;
    Ok(Json(json!({
        "items": queue.items.iter().map(referral_json).collect::<Vec<_>>(),
        "total": queue.total,
        "total_capped": queue.total_capped,
        "next": queue.next,
        "department": queue.department.as_ref().map(|(code, _)| code),
        "notice": queue.notice,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    household_id: i64,
    item_code: String,
    /// Present: a supplement (补充帮扶) with this reason, which must not be blank.
    #[serde(default)]
    supplementary_reason: Option<String>,
}

/// `POST /api/v1/referrals`: sends a proposal to its department, or a supplement.
pub async fn referral_create(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiJson(body): ApiJson<NewReferral>,
) -> Result<Response, ApiError> {
    let item_code = body.item_code.trim();
    let id = match &body.supplementary_reason {
        None => {
            state
                .app
                .create_referral(&signed.actor, body.household_id, item_code)
                .await?
        }
        Some(reason) => {
            state
                .app
                .create_supplementary_referral(&signed.actor, body.household_id, item_code, reason)
                .await?
        }
    };
    let view = state.app.referral(&signed.actor, id).await?;
    Ok((StatusCode::CREATED, Json(referral_json(&view))).into_response())
}

/// `GET /api/v1/referrals/{id}`
pub async fn referral_get(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let view = state.app.referral(&signed.actor, id).await?;
    Ok(Json(referral_json(&view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    action: String,
    #[serde(default)]
    amount: Option<Value>,
    #[serde(default)]
    delivered_on: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// The act of a form or JSON body: `accept`, `deliver` (amount, date, note) or `decline` (reason).
pub(crate) fn act_of(
    action: &str,
    amount: String,
    delivered_on: String,
    note: String,
    reason: String,
) -> Result<ReferralAct, AppError> {
    match action.trim() {
        "accept" => Ok(ReferralAct::Accept { note }),
        "deliver" => Ok(ReferralAct::Deliver {
            amount,
            on: delivered_on,
            note,
        }),
        "decline" => Ok(ReferralAct::Decline { reason }),
        other => Err(AppError::invalid(
            "action",
            format!("动作“{other}”无效，应为 accept、deliver 或 decline"),
        )),
    }
}

/// `POST /api/v1/referrals/{id}/actions`: accept, deliver or decline.
pub async fn referral_action(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ActionBody>,
) -> Result<Json<Value>, ApiError> {
    let amount = match body.amount {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    let act = act_of(
        &body.action,
        amount,
        body.delivered_on.unwrap_or_default(),
        body.note.unwrap_or_default(),
        body.reason.unwrap_or_default(),
    )?;
    state.app.act_on_referral(&signed.actor, id, &act).await?;
    let view = state.app.referral(&signed.actor, id).await?;
    Ok(Json(referral_json(&view)))
}
