//! 预警闭环 use cases (issue 5: W3): the warning list and page, and the loop — assign to a
//! member of the town team, verify on the spot, judge (研判), dispose (open a case, adjust, or
//! no action with a reason) and close. Each step has a deadline in working days (catalogue
//! `warning.*`, working-day calendar); a warning past its due date shows up as late.
//!
//! Every step checks role and area, appends to the warning's history and the audit log, and
//! updates the warning at the version it was read at, in one transaction. Every district
//! department reads state and result (names and ID numbers masked where the role requires).

use crate::calendar::working_days;
use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::national_id::mask_name;
pub use domain::states::WarningRule;
use domain::{HouseholdNo, PlaceLevel, Role};
use store::audit::AuditEvent;
use store::watch::{WarningEventRow, WarningFilter, WarningRow, WarningUpdate};
use workflow::warning::{self as machine, WarningActor, WarningRefusal, scope_of};
pub use workflow::warning::{
    Disposal, Disposition, Judgement, LoopAction, WarningAction, WarningState,
};
use workflow::{CaseKind, Channel};

/// The disposition of a warning that became a 疑点 of the household's open case.
pub const RULE_DISCREPANCY_STATE: &str = "discrepancy";

/// The rule codes a list can filter by, with their labels (`WarningRule`, in its order).
pub fn rule_choices() -> Vec<(&'static str, &'static str)> {
    WarningRule::ALL
        .iter()
        .map(|rule| (rule.code(), rule.label()))
        .collect()
}

/// Roles that read warnings: all but the administrator.
fn reads_warnings(role: Role) -> bool {
    role != Role::Admin
}

/// One line of the warning list.
#[derive(Clone, Debug)]
pub struct WarningItem {
    pub id: i64,
    pub rule: String,
    pub rule_label: &'static str,
    pub severity: String,
    pub person_name: String,
    pub id_number: String,
    pub household_external_id: Option<String>,
    pub household_id: Option<i64>,
    pub inside_net: bool,
    pub area_code: String,
    pub state: WarningState,
    pub disposition: Option<Disposition>,
    pub created_on: String,
    pub due_on: String,
    pub closed_on: Option<String>,
    pub late: bool,
}

/// A page of the warning list.
#[derive(Clone, Debug)]
pub struct WarningPage {
    pub items: Vec<WarningItem>,
    /// Warnings matching, counted up to `store::search::TOTAL_CAP`.
    pub total: i64,
    /// More than `total` match.
    pub total_capped: bool,
    /// The `after=` of the next page, when there is one (keyset pages).
    pub next: Option<String>,
    pub per_page: i64,
    pub masked: bool,
    pub today: NaiveDate,
}

/// What the list is filtered by.
#[derive(Clone, Debug, Default)]
pub struct WarningQuery {
    pub state: Option<WarningState>,
    pub rule: Option<String>,
    pub late: bool,
    /// Where the page starts: the `next` of the page before; `None` for the first page.
    pub after: Option<String>,
}

/// One step of a warning's history.
#[derive(Clone, Debug)]
pub struct WarningStep {
    pub seq: i64,
    pub on: String,
    pub actor_name: String,
    pub action: String,
    pub action_label: &'static str,
    /// The step's record in Chinese (visit findings, judgement, disposal, reason …).
    pub summary: String,
    pub recorded_at: String,
}

/// A user the warning can be assigned to.
#[derive(Clone, Debug)]
pub struct TeamChoice {
    pub user_id: i64,
    pub label: String,
}

/// Everything the warning page shows.
#[derive(Clone, Debug)]
pub struct WarningDetail {
    pub item: WarningItem,
    pub version: i64,
    pub kind: String,
    pub origin: String,
    pub description: String,
    pub feed: Option<(String, domain::StatPeriod)>,
    pub line: Option<i64>,
    pub assignee: Option<String>,
    pub assignee_user_id: Option<i64>,
    pub judgement: Option<Judgement>,
    pub case: Option<(i64, String)>,
    pub history: Vec<WarningStep>,
    /// The team the warning may be assigned to (empty when the actor cannot assign).
    pub team: Vec<TeamChoice>,
    /// The steps the actor may take now.
    pub can_assign: bool,
    pub can_verify: bool,
    pub can_judge: bool,
    pub can_dispose: bool,
    pub can_close: bool,
}

/// The machine's refusal as the shell answers it: another role's step is forbidden, a step
/// out of order a conflict, the rest an input named by its field.
fn refused(refusal: WarningRefusal) -> AppError {
    match (&refusal, refusal.field()) {
        (WarningRefusal::WrongRole { .. }, _) => AppError::Forbidden,
        (_, Some(field)) => AppError::invalid(field, refusal.message()),
        (_, None) => AppError::Conflict(refusal.message()),
    }
}

fn warning_actor(actor: &Actor, row: &WarningRow) -> WarningActor {
    WarningActor {
        role: actor.role,
        is_assignee: row.assignee_user_id == Some(actor.user_id),
    }
}

fn item_of(row: &WarningRow, masked: bool, today: &str) -> Result<WarningItem, AppError> {
    Ok(WarningItem {
        id: row.id,
        rule: row.rule.code().to_owned(),
        rule_label: row.rule.label(),
        severity: row.severity.code().to_owned(),
        person_name: if masked {
            mask_name(&row.person_name)
        } else {
            row.person_name.clone()
        },
        id_number: match &row.id_number {
            Some(id_number) if masked => id_number.masked(),
            Some(id_number) => id_number.as_str().to_owned(),
            None => String::new(),
        },
        household_external_id: row
            .household_external_id
            .as_ref()
            .map(|no| no.as_str().to_owned()),
        household_id: row.household_id,
        inside_net: row.inside_net != 0,
        area_code: row.area_code.as_str().to_owned(),
        state: row.state,
        disposition: row.disposition,
        created_on: row.created_on.to_string(),
        due_on: row.due_on.to_string(),
        closed_on: row.closed_on.map(|day| day.to_string()),
        late: row.closed_on.is_none() && row.due_on.to_string().as_str() < today,
    })
}

/// The due date a warning had on a day, replayed from its history: the limit of the step it
/// waited for after the last step taken by then (`last`: action and date; none: to be assigned
/// from the day it was raised), counted in working days of the catalogue then in force — the
/// rule by which the loop set `due_on` at the time. `None` once closed.
pub(crate) fn due_on_day(
    catalogue: &policy::Catalogue,
    calendar: &workflow::Calendar,
    created_on: NaiveDate,
    last: Option<(WarningAction, NaiveDate)>,
) -> Result<Option<NaiveDate>, AppError> {
    let (state, since) = match last {
        Some((action, on)) => (machine::state_after(action), on),
        None => (WarningState::Open, created_on),
    };
    let Some(param) = machine::next_limit(state) else {
        return Ok(None);
    };
    let days = working_days(&catalogue.snapshot(since), param)?;
    Ok(Some(calendar.add_working_days(since, days)))
}

impl App {
    /// 预警列表 (W3): the warnings in the actor's area, open ones first by due date.
    pub async fn warnings(
        &self,
        actor: &Actor,
        query: &WarningQuery,
    ) -> Result<WarningPage, AppError> {
        if !reads_warnings(actor.role) {
            return Err(AppError::Forbidden);
        }
        const PER_PAGE: i64 = 50;
        let after =
            match query.after.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(store::watch::WarningCursor::decode(text).ok_or_else(|| {
                    AppError::invalid("after", "翻页位置无效，请从第一页重新查看")
                })?),
            };
        let today = self.today();
        let today_text = today.to_string();
        let scope = actor.scope();
        let mut conn = self.store.read().await?;
        let list = store::watch::list_warnings(
            &mut conn,
            &WarningFilter {
                area_prefix: scope.as_str(),
                state: query.state.map(WarningState::code),
                rule: query.rule.as_deref().filter(|rule| !rule.is_empty()),
                late_on: query.late.then_some(today_text.as_str()),
                limit: PER_PAGE,
                after: after.as_ref(),
            },
        )
        .await?;
        let masked = !actor.sees_unmasked();
        let items = list
            .rows
            .iter()
            .map(|row| item_of(row, masked, &today_text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WarningPage {
            items,
            total: list.total,
            total_capped: list.capped,
            next: list.next.map(|cursor| cursor.encode()),
            per_page: PER_PAGE,
            masked,
            today,
        })
    }

    async fn load_warning(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        id: i64,
    ) -> Result<WarningRow, AppError> {
        let row = store::watch::warning(conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !reads_warnings(actor.role) || !actor.covers(&row.area_code) {
            return Err(AppError::NotFound);
        }
        Ok(row)
    }

    /// 预警详情: the warning, its history and the steps the actor may take.
    pub async fn warning_detail(&self, actor: &Actor, id: i64) -> Result<WarningDetail, AppError> {
        let today = self.today().to_string();
        let mut conn = self.store.read().await?;
        let row = self.load_warning(&mut conn, actor, id).await?;
        let masked = !actor.sees_unmasked();
        let item = item_of(&row, masked, &today)?;
        let feed = match row.feed_id {
            Some(feed_id) => store::watch::feed(&mut conn, feed_id)
                .await?
                .map(|feed| (feed.source, feed.period)),
            None => None,
        };
        let assignee = match row.assignee_user_id {
            Some(user_id) => store::users::by_id(&mut conn, user_id)
                .await?
                .map(|user| user.display_name),
            None => None,
        };
        let case = match row.case_id {
            Some(case_id) => store::cases::get(&mut conn, case_id)
                .await?
                .map(|case| (case.id, case.tracking_number.to_string())),
            None => None,
        };
        let history = store::watch::warning_events(&mut conn, id)
            .await?
            .into_iter()
            .map(|event| WarningStep {
                summary: summary_of(&event.detail),
                action_label: event.action.label(),
                seq: event.seq,
                on: event.on_date.to_string(),
                actor_name: event.actor_name,
                action: event.action.code().to_owned(),
                recorded_at: crate::timestamp(event.recorded_at),
            })
            .collect();
        let offered = machine::offered(item.state, warning_actor(actor, &row));
        let can = |action: WarningAction| offered.contains(&action);
        let can_assign = can(WarningAction::Assign);
        let team = if can_assign {
            let area = row.area_code.clone();
            let town = area
                .at_level(PlaceLevel::Town)
                .unwrap_or_else(|| actor.scope());
            let roles: Vec<&str> = machine::TEAM_ROLES.iter().map(|role| role.code()).collect();
            let placed = area.level() != PlaceLevel::District;
            store::watch::team_users(&mut conn, town.as_str(), &roles)
                .await?
                .into_iter()
                .filter(|user| !placed || scope_of(&user.area_code).contains(&area))
                .map(|user| TeamChoice {
                    user_id: user.id,
                    label: format!(
                        "{}（{}，{}）",
                        user.display_name,
                        user.role.label(),
                        user.area_code
                    ),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(WarningDetail {
            version: row.version,
            kind: row.kind.code().to_owned(),
            origin: row.origin.code().to_owned(),
            description: row.description.clone(),
            feed,
            line: row.line,
            assignee,
            assignee_user_id: row.assignee_user_id,
            judgement: row.judgement,
            case,
            history,
            team,
            can_assign,
            can_verify: can(WarningAction::Verify),
            can_judge: can(WarningAction::Judge),
            can_dispose: can(WarningAction::Dispose),
            can_close: can(WarningAction::Close),
            item,
        })
    }

    /// One step of the loop on a warning, at the version the actor saw. Answers the new state.
    pub async fn act_on_warning(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        action: LoopAction,
    ) -> Result<WarningState, AppError> {
        let today = self.today();
        let recorded_at = self.now();
        let now = crate::timestamp(recorded_at);
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(today);
        let calendar = self.calendar()?;
        let mut tx = self.store.begin().await?;
        let row = self.load_warning(&mut tx, actor, id).await?;
        let state = row.state;
        let code = action.code();
        let step = action.action();
        let who = warning_actor(actor, &row);
        machine::check_actor(action.action(), who).map_err(refused)?;
        if row.version != version {
            return Err(AppError::Conflict(
                "该预警已被他人处理，请刷新页面后再操作".to_owned(),
            ));
        }
        let registered = row.household_external_id.is_some();
        let transition = machine::apply(state, &action, who, registered, today).map_err(refused)?;
        let next = transition.next;
        let mut area = row.area_code.clone();
        let mut assignee = row.assignee_user_id;
        let mut judgement = row.judgement;
        let disposition = transition.disposition.or(row.disposition);
        let mut case_id = row.case_id;
        let detail = match action {
            LoopAction::Assign { assignee_user_id } => {
                let user = store::users::by_id(&mut tx, assignee_user_id)
                    .await?
                    .filter(|user| user.active == 1)
                    .ok_or_else(|| refused(WarningRefusal::AssigneeUnknown))?;
                area = machine::assign_to(
                    &area,
                    Some(user.role),
                    &user.area_code,
                    actor.covers(&user.area_code),
                )
                .map_err(refused)?;
                assignee = Some(user.id);
                serde_json::json!({ "assignee_user_id": user.id, "assignee": user.display_name })
            }
            LoopAction::Verify {
                visited_on,
                visitors,
                findings,
            } => serde_json::json!({
                "visited_on": visited_on.to_string(), "visitors": visitors.trim(),
                "findings": findings.trim(),
            }),
            LoopAction::Judge {
                judgement: verdict,
                note,
            } => {
                judgement = Some(verdict);
                serde_json::json!({ "judgement": verdict.code(), "note": note.trim() })
            }
            LoopAction::Dispose(disposal) => match disposal {
                Disposal::Adjust { note } => {
                    serde_json::json!({ "disposition": "adjust", "note": note.trim() })
                }
                Disposal::NoAction { reason } => {
                    serde_json::json!({ "disposition": "no_action", "reason": reason.trim() })
                }
                Disposal::OpenCase {
                    kind,
                    applicant,
                    consent,
                    household_id,
                    area: case_area,
                    summary,
                } => {
                    let summary = summary.trim();
                    // `apply` checked that a person outside the registry has both.
                    let new_no = household_id.as_deref().map(HouseholdNo::parse);
                    let (household_no, case_area) =
                        match (&row.household_external_id, new_no, case_area) {
                            (Some(household_no), _, _) => (household_no.clone(), area.clone()),
                            (None, Some(Ok(new_no)), Some(village)) => (new_no, village),
                            _ => return Err(refused(WarningRefusal::NewHouseholdMissing)),
                        };
                    let (opened, tracking_number) = self
                        .open_case_in(
                            &mut tx,
                            actor,
                            crate::cases::NewIntake {
                                kind,
                                channel: Channel::Warning,
                                household_no,
                                area: case_area,
                                applicant: applicant.trim().to_owned(),
                                consent,
                                summary: format!("{summary}（预警{id}）"),
                            },
                            None,
                        )
                        .await?;
                    case_id = Some(opened);
                    serde_json::json!({
                        "disposition": "open_case", "case_kind": kind.code(),
                        "case_id": opened, "tracking_number": tracking_number.as_str(),
                        "summary": summary,
                    })
                }
            },
            LoopAction::Close { note } => serde_json::json!({ "note": note.trim() }),
        };
        let due_on = match transition.limit {
            Some(param) => calendar
                .add_working_days(today, working_days(&snapshot, param)?)
                .to_string(),
            None => row.due_on.to_string(),
        };
        let today_text = today.to_string();
        let closed_on = (next == WarningState::Closed).then_some(today_text.as_str());
        store::watch::update_warning(
            &mut tx,
            id,
            row.version,
            &WarningUpdate {
                state: next.code(),
                area_code: area.as_str(),
                assignee_user_id: assignee,
                judgement: judgement.map(Judgement::code),
                disposition: disposition.map(Disposition::code),
                case_id,
                due_on: &due_on,
                closed_on,
                now: &now,
            },
        )
        .await?;
        let detail = detail.to_string();
        store::watch::append_warning_event(
            &mut tx,
            &WarningEventRow {
                warning_id: id,
                seq: 0,
                on_date: today,
                actor_user_id: actor.user_id,
                actor_name: actor.display_name.clone(),
                action: step,
                detail: detail.clone(),
                recorded_at,
            },
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::warning(now, actor.audit_name(), format!("warning.{code}"), id)
                .in_area(area.as_str())
                .before(state.code().to_owned())
                .after(format!("{} {detail}", next.code())),
        )
        .await?;
        store::commit(tx).await?;
        Ok(next)
    }
}

/// A history entry's record in Chinese.
fn summary_of(detail: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(detail) else {
        return detail.to_owned();
    };
    let text = |key: &str| value[key].as_str().unwrap_or("").to_owned();
    let mut parts = Vec::new();
    if let Some(name) = value["assignee"].as_str() {
        parts.push(format!("分派给 {name}"));
    }
    if value["visited_on"].is_string() {
        parts.push(format!(
            "{} 由 {} 实地核实：{}",
            text("visited_on"),
            text("visitors"),
            text("findings")
        ));
    }
    if let Some(code) = value["judgement"].as_str() {
        parts.push(format!(
            "研判结论：{}",
            Judgement::from_code(code).map_or_else(|| code.to_owned(), |j| j.label().to_owned())
        ));
    }
    if let Some(code) = value["disposition"].as_str() {
        parts.push(format!(
            "处置：{}",
            Disposition::from_code(code).map_or_else(|| code.to_owned(), |d| d.label().to_owned())
        ));
    }
    if let Some(number) = value["tracking_number"].as_str() {
        let kind = value["case_kind"]
            .as_str()
            .and_then(CaseKind::from_code)
            .map_or("", CaseKind::label);
        parts.push(format!("已启动{kind}案件 {number}"));
    }
    for (key, label) in [
        ("note", "意见"),
        ("reason", "理由"),
        ("summary", "事由"),
        ("origin", "来源"),
    ] {
        let value = text(key);
        if !value.is_empty() {
            parts.push(format!("{label}：{value}"));
        }
    }
    parts.join("；")
}
