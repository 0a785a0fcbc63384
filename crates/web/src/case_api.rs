//! 办件 API under `/api/v1/cases` (issue 4): the work queue, intake, a case with its timeline,
//! and one action at a time. A refused move answers 409 with the workflow's stable code and
//! Chinese message; malformed input answers 422 naming the field.

use crate::WebState;
use crate::api::{ApiJson, Path, Query};
use crate::case_input::{ActionFields, INTAKE_FIELDS, refuse_unknown};
use crate::error::ApiError;
use crate::session::ApiUser;
use app::cases::{CaseDetail, WorkQuery, offered_actions};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use workflow::{ActionKind, DepartmentDecision, ObjectionStatus, Outcome, Verdict};

/// `?overdue=1&mine=1&after=CURSOR` of the work queue.
#[derive(Deserialize)]
pub struct CaseListQuery {
    #[serde(default)]
    overdue: Option<String>,
    /// 待我办理: without the 跟踪 (`watching`) lines.
    #[serde(default)]
    mine: Option<String>,
    /// The `next` of the page before.
    #[serde(default)]
    after: Option<String>,
}

/// `GET /api/v1/cases`: the caller's work queue, one line per case, late ones first, then by
/// due date, a page at a time (`next` is the `after=` of the following page).
pub async fn case_list(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<CaseListQuery>,
) -> Result<Json<Value>, ApiError> {
    let today = state.app.today();
    let work = WorkQuery {
        overdue_only: crate::input::query_flag(query.overdue.as_deref(), "overdue", "逾期清单")?,
        acting_only: crate::input::query_flag(query.mine.as_deref(), "mine", "待我办理")?,
        after: query.after,
    };
    let queue = state.app.work_queue(&signed.actor, today, work).await?;
    let items: Vec<Value> = queue
        .items
        .iter()
        .map(|item| {
            json!({
                "id": item.case_id,
                "tracking_number": item.tracking_number.as_str(),
                "kind": item.kind.code(),
                "household_id": item.household_no.as_str(),
                "area_code": item.area.as_str(),
                "step": item.step.code(),
                "limit": item.limit.code(),
                "due_on": item.due_on.to_string(),
                "due_pending": item.pending,
                "late": item.late,
                "watching": item.watching,
                "other_limits": item.others.iter().map(|other| json!({
                    "limit": other.limit.code(),
                    "label": other.limit.label(),
                    "due_on": other.due_on.to_string(),
                    "due_pending": other.pending,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "today": today.to_string(),
        "items": items,
        "total": queue.total,
        "total_capped": queue.capped,
        "n_late": queue.n_late,
        "next": queue.next_after,
        "per_page": queue.per_page,
    })))
}

/// `POST /api/v1/cases`: 受理登记.
pub async fn case_create(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    if let Some(object) = body.as_object() {
        refuse_unknown(object, |key| INTAKE_FIELDS.contains(&key), "")?;
        if let Some(consent) = object.get("consent").and_then(Value::as_object) {
            refuse_unknown(
                consent,
                |key| matches!(key, "signer" | "signed_on"),
                "consent.",
            )?;
        }
    }
    let mut fields = ActionFields::from_json(&body)?;
    // The consent is an object in the API: {"signer": "...", "signed_on": "YYYY-MM-DD"}.
    if let Some(consent) = body.get("consent").filter(|value| value.is_object()) {
        fields = ActionFields::from_json(&json!({
            "kind": body.get("kind"),
            "channel": body.get("channel"),
            "household_id": body.get("household_id"),
            "area_code": body.get("area_code"),
            "applicant": body.get("applicant"),
            "summary": body.get("summary"),
            "received_on": body.get("received_on"),
            "consent": "true",
            "consent_signer": consent.get("signer"),
            "consent_signed_on": consent.get("signed_on"),
        }))?;
    }
    let intake = fields.to_intake(state.app.today())?;
    let received_on = fields.received_on()?;
    let (id, tracking_number) = state
        .app
        .open_case_on(&signed.actor, intake, received_on)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "tracking_number": tracking_number.as_str() })),
    )
        .into_response())
}

fn detail_json(detail: &CaseDetail, offered: &[ActionKind], masked: bool) -> Value {
    let case = &detail.case;
    let intake = case.intake();
    let timeline: Vec<Value> = detail
        .timeline
        .iter()
        .map(|entry| {
            let fact = app::cases::codec::fact_json(&entry.fact)
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .unwrap_or(Value::Null);
            json!({
                "seq": entry.seq,
                "on": entry.on.to_string(),
                "actor_user_id": entry.actor_user_id,
                "actor_name": entry.actor_name,
                "actor_role": entry.actor_role.code(),
                "text": crate::case_pages::describe(&entry.fact),
                "fact": if masked { Value::Null } else { fact },
                "recorded_at": entry.recorded_at,
            })
        })
        .collect();
    json!({
        "id": detail.id,
        "version": detail.version,
        "tracking_number": case.tracking_number().as_str(),
        "kind": case.kind().code(),
        "channel": intake.channel.code(),
        "household_id": case.household_no().as_str(),
        "household_row_id": detail.household_row_id,
        "area_code": case.area().as_str(),
        "place_name": detail.place_name,
        "applicant": intake.applicant,
        "consent": intake.consent.as_ref().map(|c| json!({"signer": c.signer, "signed_on": c.signed_on.to_string()})),
        "received_on": case.received_on().to_string(),
        "step": case.step().code(),
        "step_since": case.step_since().to_string(),
        "closed_on": case.closed_on().map(|d| d.to_string()),
        "offered_actions": offered.iter().map(|kind| kind.code()).collect::<Vec<_>>(),
        "discrepancies": case.discrepancies().iter().map(|d| json!({
            "number": d.number, "source": d.discrepancy.source, "description": d.discrepancy.description,
            "explanation": d.explanation.as_ref().map(|e| match e {
                workflow::Explanation::Resolved { note } => json!({"resolution": "resolved", "note": note}),
                workflow::Explanation::Confirmed { note } => json!({"resolution": "confirmed", "note": note}),
            }),
        })).collect::<Vec<_>>(),
        "survey": case.survey().map(|s| json!({
            "surveyed_on": s.surveyed_on.to_string(),
            "team": s.team.iter().map(|m| json!({"user_id": m.user_id, "name": m.name})).collect::<Vec<_>>(),
            "n_members": s.household.members.len(),
        })),
        "village_review": case.village_review().map(|r| json!({
            "held_on": r.held_on.to_string(), "attendance": r.attendance, "outcome": r.outcome.code(), "note": r.note,
        })),
        "joint_review": case.joint_review().map(|r| json!({
            "held_on": r.held_on.to_string(),
            "proposal": {
                "categories": r.proposal.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
                "monitoring_kind": r.proposal.monitoring_kind.map(|k| k.code()),
                "explanation": r.proposal.explanation,
                "pending": pending_json(&r.proposal.pending),
            },
            "verdicts": r.verdicts.iter().map(|v| match &v.verdict {
                Verdict::Confirm => json!({"category": v.category.code(), "verdict": "confirm"}),
                Verdict::Override { reason } => json!({"category": v.category.code(), "verdict": "override", "reason": reason}),
            }).collect::<Vec<_>>(),
            "monitoring_kind": r.monitoring_kind.map(|k| k.code()),
            "judgements": r.judgements.iter().map(|j| json!({
                "rule": j.rule, "param": j.param, "holds": j.holds, "reason": j.reason,
            })).collect::<Vec<_>>(),
            "support_mode": r.support_mode.map(|m| m.code()),
        })),
        "decided": case.decided().iter().map(|d| json!({
            "category": d.category.code(),
            "monitoring_kind": d.monitoring_kind.map(|k| k.code()),
            "change": d.change.code(),
            "department": d.department().code(),
            "decision": match &d.decision {
                None => Value::Null,
                Some(DepartmentDecision::Confirmed { on, by }) => json!({"decision": "confirmed", "on": on.to_string(), "by": by}),
                Some(DepartmentDecision::Declined { on, by, reason }) => json!({"decision": "declined", "on": on.to_string(), "by": by, "reason": reason}),
            },
        })).collect::<Vec<_>>(),
        "notice": case.notice().map(|n| json!({
            "posted_on": n.posted_on.to_string(), "ends_on": n.ends_on.to_string(), "days": n.days,
        })),
        "objections": case.objections().iter().map(|o| json!({
            "number": o.number, "raised_on": o.raised_on.to_string(), "summary": o.summary,
            "status": match &o.status {
                ObjectionStatus::Open => json!({"status": "open"}),
                ObjectionStatus::Reverifying => json!({"status": "reverifying"}),
                ObjectionStatus::Answered { on, answer } => json!({"status": "answered", "on": on.to_string(), "answer": answer}),
            },
        })).collect::<Vec<_>>(),
        "outcome": case.outcome().map(|o| match o {
            Outcome::Confirmed { changes } => json!({"outcome": "confirmed", "changes": changes.iter().map(|c| json!({
                "category": c.category.code(), "change": c.change.code(), "on": c.on.to_string(),
                "monitoring_kind": c.monitoring_kind.map(|k| k.code()),
            })).collect::<Vec<_>>()}),
            Outcome::Refused { reason } => json!({"outcome": "refused", "reason": reason}),
            Outcome::Withdrawn { reason } => json!({"outcome": "withdrawn", "reason": reason}),
        }),
        "refusal_notice_delivered_on": case.refusal_notice_delivered_on().map(|d| d.to_string()),
        "special_limit_reason": case.special_limit_reason(),
        "deadlines": detail.deadlines.iter().map(|d| json!({
            "limit": d.limit.code(), "label": d.limit.label(),
            "started_on": d.started_on.to_string(), "due_on": d.due_on.to_string(),
            "late": d.due_on < detail.today,
            "due_pending": d.pending,
        })).collect::<Vec<_>>(),
        "timeline": timeline,
    })
}

/// `GET /api/v1/cases/{id}`: the case with its timeline and running time limits; at the joint
/// review the rules engine's proposal is included for the town.
pub async fn case_get(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let detail = state.app.case_detail(&signed.actor, id).await?;
    let offered = offered_actions(&detail.case, signed.actor.role, detail.today);
    let mut body = detail_json(&detail, &offered, !signed.actor.sees_unmasked());
    if offered.contains(&ActionKind::RecordJointReview)
        && let Ok(proposal) = state.app.case_proposal(&signed.actor, id).await
    {
        body["proposal"] = json!({
            "categories": proposal.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
            "monitoring_kind": proposal.monitoring_kind.map(|k| k.code()),
            "explanation": proposal.explanation,
            "pending": pending_json(&proposal.pending),
        });
    }
    Ok(Json(body))
}

/// `[{"rule", "param", "text"}]`: the proposal's tests 待人工核定.
fn pending_json(pending: &[workflow::PendingTest]) -> Vec<Value> {
    pending
        .iter()
        .map(|test| json!({"rule": test.rule, "param": test.param, "text": test.text}))
        .collect()
}

/// `POST /api/v1/cases/{id}/actions`: one action (`{"action": "...", ...}`); answers the new step.
pub async fn case_act(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let fields = ActionFields::from_json(&body)?;
    let action = fields.to_action(state.app.today())?;
    let step = state
        .app
        .act_on_case_on(&signed.actor, id, action, fields.on()?)
        .await?;
    Ok(Json(
        json!({ "id": id, "step": step.code(), "step_label": step.label() }),
    ))
}

/// `GET /api/v1/cases/{id}/team-candidates`: who may sit on this case's survey team (P4):
/// active users whose role surveys and whose area covers the household.
pub async fn team_candidates(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let candidates = state.app.team_candidates(&signed.actor, id).await?;
    let items: Vec<Value> = candidates
        .iter()
        .map(|candidate| {
            json!({
                "user_id": candidate.user_id,
                "name": candidate.name,
                "role": candidate.role.code(),
                "role_label": candidate.role.label(),
                "area_code": candidate.area.as_str(),
            })
        })
        .collect();
    Ok(Json(json!({ "id": id, "items": items })))
}
