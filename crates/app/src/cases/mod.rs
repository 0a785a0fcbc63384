//! 案件办理 use cases (issue 4: P1–P9, X1, X2, W1): take a case in, move it, read it, list
//! what is due, follow it by its tracking number, and open re-checks.
//!
//! Each move loads the case's history, replays it (`workflow::Case::replay`), asks
//! `workflow::apply`, and writes the new events, the summary, any registry change and the
//! audit event in one transaction. A case outside the actor's area answers `NotFound`; a move
//! the workflow does not allow is `AppError::Refused` with the workflow's reason.

pub mod applications;
pub mod codec;
pub mod notice;
#[cfg(test)]
mod tests;

use crate::{Actor, App, AppError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Category, Household, HouseholdNo, PlaceCode, Role};
use std::collections::{BTreeSet, HashMap};
use store::audit::AuditEvent;
use store::cases::{CaseEventRow, CaseRow, CaseSummary, NewCase};
use workflow::{
    Action, ActorRef, Calendar, Case, CaseKind, Change, Channel, Consent, DatedChange, Deadline,
    DeadlineParams, Event, Fact, Intake, JointReview, Proposal, Step, TimeLimit, TrackingNumber,
};

/// 受理登记 as the caller gives it; the registry supplies what the household holds, the
/// shell the tracking number.
#[derive(Clone, Debug)]
pub struct NewIntake {
    pub kind: CaseKind,
    pub channel: Channel,
    /// 户编号: of a registered household, or a new one for a first application.
    pub household_no: HouseholdNo,
    /// The household's village or grid (a registered household's own area wins).
    pub area: PlaceCode,
    pub applicant: String,
    pub consent: Option<Consent>,
    pub summary: String,
}

/// 镇街联合研判 as the meeting records it, and what an actor does to a case: declared next to
/// the machine (`workflow::CaseAction::from_input` builds one from an action's fields).
pub use workflow::{CaseAction, JointReviewInput};

/// One entry of a case's timeline: who did what when.
#[derive(Clone, Debug)]
pub struct TimelineEntry {
    pub seq: i64,
    pub on: NaiveDate,
    pub actor_user_id: i64,
    pub actor_name: String,
    pub actor_role: Role,
    pub fact: Fact,
    /// When it was recorded, in the stored form of an instant (`store::instant_text`).
    pub recorded_at: String,
}

/// Everything the case page shows.
#[derive(Clone, Debug)]
pub struct CaseDetail {
    pub id: i64,
    pub version: i64,
    /// The registry row of the household, once it is in the registry.
    pub household_row_id: Option<i64>,
    /// The full name of the case's village (or grid).
    pub place_name: String,
    pub case: Case,
    pub timeline: Vec<TimelineEntry>,
    /// The running time limits on the day.
    pub deadlines: Vec<Deadline>,
    pub today: NaiveDate,
    /// What the applicant typed online beyond the intake (线上申请), for a case taken online.
    pub online: Option<applications::OnlineDetails>,
    /// 重复申请: online applications kept with this case while it runs (issue 15).
    pub duplicates: Vec<applications::Duplicate>,
}

/// How many duplicate online applications the case page lists.
const DUPLICATES_SHOWN: i64 = 20;

/// One line of a work queue (P9): one case, under its nearest running time limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkItem {
    pub case_id: i64,
    pub tracking_number: TrackingNumber,
    pub kind: CaseKind,
    pub household_no: HouseholdNo,
    pub area: PlaceCode,
    pub step: Step,
    /// The running limit due first.
    pub limit: TimeLimit,
    pub due_on: NaiveDate,
    /// 待确认: the due date is counted across a year whose holiday arrangement is not entered.
    pub pending: bool,
    /// Past the due date.
    pub late: bool,
    /// The case's other running limits, by due date (shown in the same line).
    pub others: Vec<Deadline>,
    /// 跟踪 (P2): the actor's department follows the case read-only; another role acts next.
    pub watching: bool,
}

/// Lines of the work queue on one page.
pub const WORK_QUEUE_PER_PAGE: usize = 50;

/// Which part of the work queue to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkQuery {
    /// 只看逾期: only the late lines.
    pub overdue_only: bool,
    /// 待我办理: only the lines the actor acts on, without the 跟踪 lines.
    pub acting_only: bool,
    /// The cursor of the page (`after=`, a page's `next_after`); `None` for the first page.
    pub after: Option<String>,
}

/// One page of the work queue (P9), late lines first, then by due date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkPage {
    pub items: Vec<WorkItem>,
    /// Lines of the queue (or of the overdue list, when asked for), all pages, counted up to
    /// `store::search::TOTAL_CAP`.
    pub total: usize,
    /// More lines than `total` (counting stopped at the cap).
    pub capped: bool,
    /// Late lines of the whole queue, whatever was asked for (up to the cap).
    pub n_late: usize,
    /// The cursor of the next page (`after=`), when there is one.
    pub next_after: Option<String>,
    pub per_page: usize,
}

/// The meta key of the time limits the stored queue lines were computed with.
const QUEUE_BASIS_KEY: &str = "case_queue_basis";

/// What the stored queue lines hold: 2 since migration 0030 added the 跟踪 lines (P2).
const QUEUE_LINES_VERSION: u32 = 2;

impl App {
    pub(crate) fn deadline_params(&self, today: NaiveDate) -> Result<DeadlineParams, AppError> {
        let catalogue = self.catalogue()?;
        DeadlineParams::from_snapshot(&catalogue.snapshot(today))
            .map_err(|error| AppError::Internal(anyhow::anyhow!("deadline parameters: {error}")))
    }

    /// 受理 (P1, P2): takes a case in and issues its tracking number (`TL` + date + sequence).
    pub async fn open_case(
        &self,
        actor: &Actor,
        intake: NewIntake,
    ) -> Result<(i64, TrackingNumber), AppError> {
        self.open_case_on(actor, intake, None).await
    }

    /// 受理 entered afterwards: the case was received `on` (default today; never in the future).
    pub async fn open_case_on(
        &self,
        actor: &Actor,
        intake: NewIntake,
        on: Option<NaiveDate>,
    ) -> Result<(i64, TrackingNumber), AppError> {
        let mut tx = self.store.begin().await?;
        let opened = self.open_case_in(&mut tx, actor, intake, on).await?;
        store::commit(tx).await?;
        Ok(opened)
    }

    /// `open_case` inside the caller's transaction (a warning's disposal opens its case and
    /// records the link in one transaction).
    pub(crate) async fn open_case_in(
        &self,
        tx: &mut store::Conn,
        actor: &Actor,
        intake: NewIntake,
        on: Option<NaiveDate>,
    ) -> Result<(i64, TrackingNumber), AppError> {
        let today = self.today();
        let received_on = on.unwrap_or(today);
        let at = self.now();
        let now = crate::timestamp(at);
        let registered =
            store::households::by_external_id(&mut *tx, intake.household_no.as_str()).await?;
        let (area, held, household_row_id) = match &registered {
            Some(row) => {
                let area = row.area_code.clone();
                if !actor.covers(&area) {
                    return Err(AppError::NotFound);
                }
                (area, held_on(&mut *tx, row.id, today).await?, Some(row.id))
            }
            None => {
                if intake.kind != CaseKind::Application {
                    return Err(AppError::NotFound);
                }
                crate::households::check_place(&mut *tx, &intake.area).await?;
                (intake.area.clone(), Vec::new(), None)
            }
        };
        // P1: 一次申请受理 — one case at a time per household.
        if let Some(open) =
            store::cases::open_for_household(&mut *tx, intake.household_no.as_str()).await?
        {
            return Err(AppError::Conflict(format!(
                "该户已有在办案件 {}",
                open.tracking_number
            )));
        }
        let prefix = format!("TL{}-", today.format("%Y%m%d"));
        let sequence = store::cases::count_tracking_prefix(&mut *tx, &prefix).await? + 1;
        let tracking_number = TrackingNumber::parse(&format!("{prefix}{sequence:04}"))
            .map_err(|error| anyhow::anyhow!("tracking number: {error}"))?;
        let intake = Intake {
            kind: intake.kind,
            channel: intake.channel,
            tracking_number: tracking_number.clone(),
            household_no: intake.household_no,
            area,
            applicant: intake.applicant,
            consent: intake.consent,
            held,
            summary: intake.summary,
        };
        let transition = workflow::open_on(intake, &actor_ref(actor), received_on, today)?;
        let case = transition.case();
        let case_id = store::cases::insert(
            &mut *tx,
            &NewCase {
                tracking_number: tracking_number.as_str(),
                kind: case.kind().code(),
                household_external_id: case.household_no().as_str(),
                household_id: household_row_id,
                area_code: case.area().as_str(),
                step: case.step().code(),
                received_on: &received_on.to_string(),
                now: &now,
            },
        )
        .await?;
        let facts = append(tx, case_id, 0, transition.events(), at).await?;
        let lines = self.queue_rows(case_id, case, today)?;
        store::cases::insert_queue(tx, &lines).await?;
        store::audit::append_one(
            tx,
            self.store.audit_key(),
            &case_event(actor, &now, "case.open", case, None, Some(facts)),
        )
        .await?;
        Ok((case_id, tracking_number))
    }

    /// 办理: one move of one actor on a case, or the workflow's refusal. On confirmation the
    /// category periods are written to the registry (dated, the tracking number as reason).
    pub async fn act_on_case(
        &self,
        actor: &Actor,
        case_id: i64,
        action: CaseAction,
    ) -> Result<Step, AppError> {
        self.act_on_case_on(actor, case_id, action, None).await
    }

    /// 办理 entered afterwards: the move happened `on` (default today; a survey's or a
    /// meeting's own date wins), never in the future nor before the case's previous step.
    pub async fn act_on_case_on(
        &self,
        actor: &Actor,
        case_id: i64,
        action: CaseAction,
        on: Option<NaiveDate>,
    ) -> Result<Step, AppError> {
        let mut tx = self.store.begin().await?;
        let step = self
            .act_on_case_in(&mut tx, actor, case_id, action, on)
            .await?;
        store::commit(tx).await?;
        Ok(step)
    }

    /// `act_on_case` inside the caller's transaction (a comparison run records its 疑点 on
    /// open cases in the run's transaction).
    pub(crate) async fn act_on_case_in(
        &self,
        tx: &mut store::Conn,
        actor: &Actor,
        case_id: i64,
        action: CaseAction,
        on: Option<NaiveDate>,
    ) -> Result<Step, AppError> {
        let today = self.today();
        let on = on.unwrap_or(today);
        let at = self.now();
        let now = crate::timestamp(at);
        let params = self.deadline_params(today)?;
        let (row, events) = self.load_case(&mut *tx, actor, case_id).await?;
        let case = replay(case_id, &events)?;
        let action = match action {
            CaseAction::Move(Action::RecordJointReview(_)) => {
                return Err(AppError::invalid(
                    "action",
                    "联合研判的认定建议由规则引擎生成，请填写会议意见",
                ));
            }
            CaseAction::Move(Action::RecordSurvey(mut survey)) => {
                // P4: the team are active users of the system who may survey this household,
                // named as they are registered.
                let mut surveyors = Vec::with_capacity(survey.team.len());
                for member in &mut survey.team {
                    let user = store::users::by_id(&mut *tx, member.user_id)
                        .await?
                        .ok_or_else(|| AppError::invalid("team", "调查组成员须为本系统的用户"))?;
                    member.name = user.display_name.clone();
                    surveyors.push(surveyor(user));
                }
                if case.step() == Step::Surveying {
                    workflow::check_team(&surveyors, case.area())?;
                }
                Action::RecordSurvey(survey)
            }
            CaseAction::Move(action) => action,
            CaseAction::RecordJointReview(input) => {
                Action::RecordJointReview(self.joint_review(&mut *tx, &case, input, today).await?)
            }
        };
        let transition = workflow::apply_on(&case, action, &actor_ref(actor), on, today, &params)?;
        let (mut moved, mut new_events) = transition.into_parts();
        if moved.step() == Step::Comparing && case.step() != Step::Comparing {
            // P3: what the system already knows becomes the step's 疑点, recorded by the
            // comparison as a run over a new feed records its own.
            let comparison = actor_ref(&crate::actors::comparison_actor(moved.area()));
            let household_id = moved.household_no().as_str().to_owned();
            for discrepancy in self
                .intake_discrepancies(&mut *tx, actor, case_id, &household_id, today)
                .await?
            {
                let (next, events) = workflow::apply_on(
                    &moved,
                    Action::RecordDiscrepancy(discrepancy),
                    &comparison,
                    on,
                    today,
                    &params,
                )?
                .into_parts();
                moved = next;
                new_events.extend(events);
            }
        }
        let moved = &moved;
        let facts = append(&mut *tx, case_id, events.len() as i64, &new_events, at).await?;
        for event in &new_events {
            if let Fact::SurveyRecorded(survey) = &event.fact {
                // X2: the surveyed income joins the household's income history (audited with
                // the case move that records the survey).
                crate::incomes::record(
                    &mut *tx,
                    actor,
                    moved.household_no().as_str(),
                    &survey.household,
                    survey.surveyed_on,
                    crate::incomes::Source::Survey(moved.tracking_number().as_str()),
                    &now,
                )
                .await?;
            }
        }
        let mut household_row_id = row.household_id;
        for event in &new_events {
            if let Fact::Concluded { changes } = &event.fact {
                household_row_id = Some(
                    self.write_registry(&mut *tx, actor, moved, row.household_id, changes, &now)
                        .await?,
                );
            }
        }
        let step_since = moved.step_since().to_string();
        let closed_on = moved.closed_on().map(|date| date.to_string());
        let refusal_notice_on = moved
            .refusal_notice_delivered_on()
            .map(|date| date.to_string());
        store::cases::update_summary(
            &mut *tx,
            case_id,
            row.version,
            &CaseSummary {
                household_id: household_row_id,
                step: moved.step().code(),
                step_since: &step_since,
                closed_on: closed_on.as_deref(),
                refusal_notice_on: refusal_notice_on.as_deref(),
                now: &now,
            },
        )
        .await?;
        let lines = self.queue_rows(case_id, moved, today)?;
        store::cases::replace_queue(&mut *tx, case_id, &lines).await?;
        if new_events
            .iter()
            .any(|event| matches!(event.fact, Fact::SurveyRecorded(_)))
        {
            // The survey is submitted: its draft is done with.
            store::cases::delete_survey_draft(&mut *tx, case_id).await?;
        }
        store::audit::append_one(
            &mut *tx,
            self.store.audit_key(),
            &case_event(
                actor,
                &now,
                "case.act",
                moved,
                Some(case.step().code().to_owned()),
                Some(facts),
            ),
        )
        .await?;
        Ok(moved.step())
    }

    /// P6: the rules engine's proposal on the case's surveyed household, for the meeting to
    /// decide on (the joint review records the same proposal).
    pub async fn case_proposal(&self, actor: &Actor, case_id: i64) -> Result<Proposal, AppError> {
        let today = self.today();
        let mut conn = self.store.read().await?;
        let (_, events) = self.load_case(&mut conn, actor, case_id).await?;
        let case = replay(case_id, &events)?;
        self.proposal(&mut conn, &case, today).await
    }

    pub(crate) async fn proposal(
        &self,
        conn: &mut store::Conn,
        case: &Case,
        today: NaiveDate,
    ) -> Result<Proposal, AppError> {
        let survey = case
            .survey()
            .ok_or(AppError::Refused(workflow::Refusal::StepOutOfOrder {
                step: case.step(),
            }))?;
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(today);
        // X2, rule 9: the months above the monitoring line come from the recorded incomes
        // (this case's survey among them), not from a number typed in.
        let records = crate::incomes::records_of(conn, case.household_no().as_str()).await?;
        let household = policy::with_income_history(&survey.household, &records, &snapshot, today);
        let held = &case.intake().held;
        let holds_monitoring = held.contains(&Category::Monitoring);
        let determination = if holds_monitoring {
            policy::determine_monitored(&household, &snapshot, today)
        } else {
            policy::determine(&household, &snapshot, today)
        };
        // X2: 未消除的风险 — a warning about the household or its members still open.
        let open_warnings = if holds_monitoring && case.kind() == CaseKind::RiskElimination {
            let id_numbers: Vec<&str> = household
                .members
                .iter()
                .map(|person| person.id_number.as_str())
                .collect();
            store::watch::open_warnings_about(conn, Some(case.household_no().as_str()), &id_numbers)
                .await?
                .len()
        } else {
            0
        };
        let proposed =
            workflow::propose_categories(case.kind(), held, &determination, open_warnings);
        // A held tag kept where rule 6 no longer tags the household keeps its kind.
        let monitoring_kind = match determination.monitoring {
            Some(kind) => Some(kind),
            None if proposed.categories.contains(&Category::Monitoring) => {
                self.held_monitoring_kind(conn, case.household_no().as_str())
                    .await?
            }
            None => None,
        };
        // Every rule evaluated, held, not held or pending, with the parameters it read.
        let mut explanation: Vec<String> = determination
            .explanation
            .iter()
            .map(crate::assessment::reason_line)
            .collect();
        explanation.extend(proposed.notes.iter().cloned());
        Ok(Proposal {
            categories: proposed.categories.into_iter().collect(),
            monitoring_kind,
            explanation: explanation.join("\n"),
            pending: determination
                .pending
                .iter()
                .map(|pending| workflow::PendingTest {
                    rule: pending.rule.to_owned(),
                    param: pending.param.name().to_owned(),
                    text: pending.text.to_owned(),
                })
                .collect(),
        })
    }

    /// The kind of the household's open monitoring period in the registry, if any.
    async fn held_monitoring_kind(
        &self,
        conn: &mut store::Conn,
        household_external_id: &str,
    ) -> Result<Option<domain::MonitoringKind>, AppError> {
        let Some(row) = store::households::by_external_id(conn, household_external_id).await?
        else {
            return Ok(None);
        };
        let periods = store::households::category_history(conn, row.id).await?;
        Ok(periods
            .iter()
            .filter(|period| period.category == Category::Monitoring && period.end_date.is_none())
            .find_map(|period| period.monitoring_kind))
    }

    /// P6: the meeting's verdicts on the rules engine's proposal.
    async fn joint_review(
        &self,
        conn: &mut store::Conn,
        case: &Case,
        input: JointReviewInput,
        today: NaiveDate,
    ) -> Result<JointReview, AppError> {
        Ok(input.on_proposal(self.proposal(conn, case, today).await?))
    }

    /// D2: the confirmed changes as dated category periods; a first application's household
    /// enters the registry from its survey (the checks of `create_household`).
    async fn write_registry(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        case: &Case,
        known_row_id: Option<i64>,
        changes: &[DatedChange],
        now: &str,
    ) -> Result<i64, AppError> {
        let reason = case.tracking_number().as_str();
        let known_row_id = match known_row_id {
            Some(id) => Some(id),
            None => store::households::by_external_id(conn, case.household_no().as_str())
                .await?
                .map(|row| row.id),
        };
        let household_row_id = match known_row_id {
            Some(id) => {
                // The registry takes the case's survey: the household as last verified.
                if let Some(survey) = case.survey() {
                    self.refresh_household(conn, actor, id, &survey.household, now)
                        .await?;
                }
                id
            }
            None => {
                let survey = case
                    .survey()
                    .ok_or_else(|| anyhow::anyhow!("case {reason} confirmed without a survey"))?;
                self.register_household(conn, actor, &survey.household, now)
                    .await?
            }
        };
        // Who holds each started category, and its monthly amount: the rules engine's grants
        // on the surveyed household (特困 is held per person, 低保 by the household).
        let grants = match case.survey() {
            Some(survey) => {
                let catalogue = self.catalogue()?;
                let on = changes.first().map_or(self.today(), |change| change.on);
                policy::determine(&survey.household, &catalogue.snapshot(on), on).categories
            }
            None => Vec::new(),
        };
        let periods = store::households::category_history(conn, household_row_id).await?;
        for change in changes {
            let on = change.on.to_string();
            match change.change {
                Change::Start => {
                    let holders: Vec<(Option<String>, Option<i64>)> = {
                        let granted: Vec<_> = grants
                            .iter()
                            .filter(|grant| grant.category == change.category)
                            .map(|grant| {
                                (
                                    match grant.scope {
                                        policy::Scope::Person => grant
                                            .id_number
                                            .as_ref()
                                            .map(|id| id.as_str().to_owned()),
                                        policy::Scope::Household => None,
                                    },
                                    grant.monthly.map(domain::Yuan::fen),
                                )
                            })
                            .collect();
                        if granted.is_empty() {
                            // Held by the meeting's override, not by the rules: the household.
                            vec![(None, None)]
                        } else {
                            granted
                        }
                    };
                    for (id_number, monthly_fen) in holders {
                        // 特困: the 照料护理等级 is the person's surveyed care need (the level
                        // the rules priced); the 供养方式 is the joint review's.
                        let care_level = case
                            .survey()
                            .filter(|_| change.category == Category::Tekun)
                            .and_then(|survey| {
                                survey.household.members.iter().find(|person| {
                                    Some(person.id_number.as_str()) == id_number.as_deref()
                                })
                            })
                            .map(|person| person.care_need.code());
                        store::households::open_category(
                            conn,
                            &store::households::NewCategoryPeriod {
                                household_id: household_row_id,
                                id_number: id_number.as_deref(),
                                category: change.category.code(),
                                monitoring_kind: change.monitoring_kind.map(|kind| kind.code()),
                                start_date: &on,
                                monthly_fen,
                                reason,
                                support_mode: case
                                    .joint_review()
                                    .filter(|_| change.category == Category::Tekun)
                                    .and_then(|review| review.support_mode)
                                    .map(domain::SupportMode::code),
                                care_level,
                            },
                        )
                        .await?;
                    }
                }
                Change::End => {
                    for period in periods.iter().filter(|period| {
                        period.category == change.category && period.end_date.is_none()
                    }) {
                        store::households::close_category(conn, period.id, &on).await?;
                    }
                }
                Change::Continue => {}
            }
        }
        // 公开: the household's lines on its village's and town's list, in this transaction.
        if let Some(first) = changes.first() {
            self.disclose_household(conn, actor, household_row_id, first.on, reason, now)
                .await?;
        }
        if let Some(first) = changes.first() {
            let kind = if case.kind() == CaseKind::Recheck {
                workflow::CheckKind::Recheck
            } else {
                workflow::CheckKind::Entry
            };
            self.reschedule_recheck(conn, household_row_id, first.on, kind)
                .await?;
        }
        store::audit::append_one(
            conn,
            self.store.audit_key(),
            &AuditEvent::household(
                now.to_owned(),
                actor.audit_name(),
                "household.categories",
                case.household_no().as_str().to_owned(),
            )
            .in_area(case.area().as_str())
            .after(
                changes
                    .iter()
                    .map(|change| {
                        format!(
                            "{} {} {} ({reason})",
                            change.change.code(),
                            change.category.code(),
                            change.on
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        )
        .await?;
        Ok(household_row_id)
    }

    /// Replaces the registry's record of a household with the surveyed one (composition
    /// changes dated today), audited like an edit.
    async fn refresh_household(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        id: i64,
        household: &Household,
        now: &str,
    ) -> Result<(), AppError> {
        let row = store::households::get(conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let json = crate::households::record_json(household)?;
        if json == row.record {
            return Ok(());
        }
        crate::households::check_place(conn, &household.area).await?;
        crate::households::check_members_free(conn, actor, household, Some(id)).await?;
        store::households::update(
            conn,
            id,
            row.version,
            household,
            &json,
            &self.today().to_string(),
            now,
        )
        .await?;
        store::audit::append_one(
            conn,
            self.store.audit_key(),
            &crate::households::household_event(
                actor.audit_name(),
                now,
                "household.update",
                household,
                Some(row.record),
                Some(json),
            ),
        )
        .await?;
        Ok(())
    }

    async fn register_household(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        household: &Household,
        now: &str,
    ) -> Result<i64, AppError> {
        let json = crate::households::record_json(household)?;
        crate::households::check_place(conn, &household.area).await?;
        crate::households::check_members_free(conn, actor, household, None).await?;
        let id = store::households::insert(conn, household, &json, &self.today().to_string(), now)
            .await?;
        store::audit::append_one(
            conn,
            self.store.audit_key(),
            &crate::households::household_event(
                actor.audit_name(),
                now,
                "household.create",
                household,
                None,
                Some(json),
            ),
        )
        .await?;
        Ok(id)
    }

    pub(crate) async fn load_case(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        case_id: i64,
    ) -> Result<(CaseRow, Vec<CaseEventRow>), AppError> {
        let row = store::cases::get(conn, case_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let area = row.area_code.clone();
        if !actor.covers(&area) {
            return Err(AppError::NotFound);
        }
        let events = store::cases::events(conn, case_id).await?;
        Ok((row, events))
    }

    /// 案件详情: the case, its timeline with the actors' names, and its running time limits.
    /// Needs income and health (`access::role_reads`): the case holds the survey and the
    /// rules engine's explanation, so the administrator and department users are refused.
    pub async fn case_detail(&self, actor: &Actor, case_id: i64) -> Result<CaseDetail, AppError> {
        if !(actor.reads(crate::access::HouseholdPart::IncomeProperty)
            && actor.reads(crate::access::HouseholdPart::Health))
        {
            return Err(AppError::Forbidden);
        }
        let today = self.today();
        let mut conn = self.store.read().await?;
        let (row, rows) = self.load_case(&mut conn, actor, case_id).await?;
        let events = events_of(case_id, &rows)?;
        let case = Case::replay(&events)
            .map_err(|error| anyhow::anyhow!("case {case_id} history: {error}"))?;
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut timeline = Vec::with_capacity(events.len());
        for (row, event) in rows.iter().zip(events) {
            let actor_name = match names.get(&row.actor_user_id) {
                Some(name) => name.clone(),
                None if row.actor_user_id == crate::actors::COMPARISON_USER_ID => {
                    crate::actors::COMPARISON_NAME.to_owned()
                }
                None if row.actor_user_id == crate::actors::ONLINE_APPLICANT_USER_ID => {
                    crate::actors::ONLINE_APPLICANT_NAME.to_owned()
                }
                None => {
                    let name = store::users::by_id(&mut conn, row.actor_user_id)
                        .await?
                        .map_or_else(
                            || format!("用户{}", row.actor_user_id),
                            |user| user.display_name,
                        );
                    names.insert(row.actor_user_id, name.clone());
                    name
                }
            };
            timeline.push(TimelineEntry {
                seq: row.seq,
                on: event.on,
                actor_user_id: row.actor_user_id,
                actor_name,
                actor_role: event.actor.role,
                fact: event.fact,
                recorded_at: crate::timestamp(row.recorded_at),
            });
        }
        let deadlines = workflow::deadlines(
            &case,
            today,
            &*self.calendar()?,
            &self.deadline_params(today)?,
        );
        Ok(CaseDetail {
            id: case_id,
            version: row.version,
            household_row_id: row.household_id,
            place_name: store::places::full_name(&mut conn, case.area()).await?,
            online: applications::details(&mut conn, case_id).await?,
            duplicates: applications::duplicates(&mut conn, case_id, DUPLICATES_SHOWN).await?,
            case,
            timeline,
            deadlines,
            today,
        })
    }

    /// 待办 (P9): the open cases in the actor's area that the actor's role acts on next, one
    /// line per case under its nearest time limit, late ones first, then by due date; one
    /// page of them (`WORK_QUEUE_PER_PAGE`, keyset: `after`). A district department's queue
    /// also holds, in the same order, the 跟踪 lines (`watching`, P2) of every running case it
    /// does not act on yet (read-only, never late); `acting_only` leaves them out (待我办理).
    ///
    /// The lines are stored beside the cases (`store::cases::QueueRow`, written with every
    /// case event from `workflow::queue_lines`), so the queue is one indexed read whatever
    /// the number of open cases; late is a due date before `today`.
    pub async fn work_queue(
        &self,
        actor: &Actor,
        today: NaiveDate,
        query: WorkQuery,
    ) -> Result<WorkPage, AppError> {
        let after = match query.after.as_deref().filter(|text| !text.is_empty()) {
            None => None,
            Some(text) => Some(
                store::cases::QueueCursor::decode(text)
                    .ok_or_else(|| AppError::invalid("after", format!("分页位置“{text}”无效")))?,
            ),
        };
        let scope = actor.scope();
        let day = today.to_string();
        let mut conn = self.store.read().await?;
        let list = store::cases::queue_page(
            &mut conn,
            &store::cases::QueueFilter {
                role: actor.role.code(),
                area_prefix: scope.as_str(),
                today: &day,
                late_only: query.overdue_only,
                acting_only: query.acting_only,
                after: after.as_ref(),
                limit: WORK_QUEUE_PER_PAGE as i64,
            },
        )
        .await?;
        let calendar = self.calendar()?;
        let items = list
            .rows
            .iter()
            .map(|row| work_item(row, today, &calendar))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WorkPage {
            items,
            total: list.total as usize,
            capped: list.capped,
            n_late: list.n_late as usize,
            next_after: list.next.map(|next| next.encode()),
            per_page: WORK_QUEUE_PER_PAGE,
        })
    }

    /// 本村（网格）在办: every case in progress in the actor's area, whoever acts next, in the
    /// work queue's order (issue 15: the village assistant and the grid worker follow their
    /// village's cases, most of which wait on the town). A village's or a grid's cases are
    /// few, so they are replayed; a wider area is the town's work queue.
    pub async fn area_queue(&self, actor: &Actor, today: NaiveDate) -> Result<WorkPage, AppError> {
        if !matches!(actor.role, Role::VillageAssistant | Role::GridWorker) {
            return Err(AppError::Forbidden);
        }
        let calendar = self.calendar()?;
        let params = self.deadline_params(today)?;
        let scope = actor.scope();
        let mut conn = self.store.read().await?;
        let rows = store::cases::open_in_area(&mut conn, scope.as_str()).await?;
        let events = store::cases::events_in_work(&mut conn, scope.as_str()).await?;
        let mut histories: HashMap<i64, Vec<CaseEventRow>> = HashMap::new();
        for event in events {
            histories.entry(event.case_id).or_default().push(event);
        }
        let mut cases = Vec::new();
        for row in rows {
            if let Some(events) = histories.get(&row.id) {
                cases.push((row.id, replay(row.id, events)?));
            }
        }
        let case_ids: HashMap<&str, (i64, CaseKind)> = cases
            .iter()
            .map(|(id, case)| (case.tracking_number().as_str(), (*id, case.kind())))
            .collect();
        let list = workflow::due_list(
            cases.iter().map(|(_, case)| case),
            &scope,
            today,
            &calendar,
            &params,
        );
        let n_late = list.late.len();
        let lines: Vec<(workflow::DueItem, bool)> = list
            .late
            .into_iter()
            .map(|item| (item, true))
            .chain(list.due.into_iter().map(|item| (item, false)))
            .collect();
        let total = lines.len();
        let items = lines
            .into_iter()
            .take(WORK_QUEUE_PER_PAGE)
            .filter_map(|(item, late)| {
                let (case_id, kind) = *case_ids.get(item.tracking_number.as_str())?;
                Some(WorkItem {
                    case_id,
                    tracking_number: item.tracking_number,
                    kind,
                    household_no: item.household_no,
                    area: item.area,
                    step: item.step,
                    limit: item.deadline.limit,
                    due_on: item.deadline.due_on,
                    pending: item.deadline.pending,
                    late,
                    others: item.others,
                    watching: false,
                })
            })
            .collect();
        Ok(WorkPage {
            items,
            total,
            capped: false,
            n_late,
            next_after: None,
            per_page: WORK_QUEUE_PER_PAGE,
        })
    }

    /// The stored work-queue lines of `case` (`workflow::queue_lines`) with the time limits
    /// in force on `today`.
    fn queue_rows(
        &self,
        case_id: i64,
        case: &Case,
        today: NaiveDate,
    ) -> Result<Vec<store::cases::QueueRow>, AppError> {
        let lines = workflow::queue_lines(case, &*self.calendar()?, &self.deadline_params(today)?);
        let household_no = case.household_no();
        Ok(lines
            .into_iter()
            .map(|line| store::cases::QueueRow {
                case_id,
                role: line.role,
                shown_from: line.from,
                shown_until: line.until,
                area_code: case.area().clone(),
                due_on: line.deadline.due_on,
                tracking_number: case.tracking_number().clone(),
                kind: case.kind(),
                household_external_id: household_no.clone(),
                step: case.step(),
                limit: line.deadline.limit,
                started_on: line.deadline.started_on,
                others: line
                    .others
                    .iter()
                    .map(|other| store::cases::QueueLimit {
                        limit: other.limit,
                        started_on: other.started_on,
                        due_on: other.due_on,
                    })
                    .collect(),
                watching: i64::from(line.watching),
            })
            .collect())
    }

    /// Rebuilds every stored work-queue line when the time limits in force (the `deadline.*`
    /// values on today and the working-day calendar) differ from those they were computed
    /// with, or were never computed (cases written before migration 0016). Called at
    /// start-up and with each policy refresh; returns the number of cases replayed.
    pub async fn sync_case_queue(&self) -> Result<u64, AppError> {
        let today = self.today();
        let basis = self.queue_basis(today)?;
        {
            let mut conn = self.store.read().await?;
            if store::meta_get(&mut conn, QUEUE_BASIS_KEY)
                .await?
                .as_deref()
                == Some(&basis)
            {
                return Ok(0);
            }
        }
        let mut tx = self.store.begin().await?;
        let rows = store::cases::open_in_area(&mut tx, "").await?;
        let events = store::cases::events_in_work(&mut tx, "").await?;
        let mut histories: HashMap<i64, Vec<CaseEventRow>> = HashMap::new();
        for event in events {
            histories.entry(event.case_id).or_default().push(event);
        }
        store::cases::clear_queue(&mut tx).await?;
        let mut n = 0;
        for row in rows {
            let Some(events) = histories.get(&row.id) else {
                continue;
            };
            let case = replay(row.id, events)?;
            store::cases::insert_queue(&mut tx, &self.queue_rows(row.id, &case, today)?).await?;
            n += 1;
        }
        store::meta_set(&mut tx, QUEUE_BASIS_KEY, &basis).await?;
        store::commit(tx).await?;
        Ok(n)
    }

    /// What the stored queue lines depend on beyond the cases: the time limits on `today`
    /// and the calendar, as a digest.
    fn queue_basis(&self, today: NaiveDate) -> Result<String, AppError> {
        use sha2::Digest;
        // `QUEUE_LINES_VERSION` changes when what a line holds changes (0030: 跟踪 lines), so
        // the lines of existing cases are rebuilt once.
        let text = format!(
            "{QUEUE_LINES_VERSION}|{:?}|{:?}",
            self.deadline_params(today)?,
            self.calendar()?
        );
        Ok(hex::encode(sha2::Sha256::digest(text.as_bytes())))
    }

    /// 进度查询 (public): the current step of the case with this tracking number, nothing else.
    pub async fn track(&self, tracking_number: &str) -> Result<Step, AppError> {
        let tracking_number =
            TrackingNumber::parse(tracking_number).map_err(|_| AppError::NotFound)?;
        let mut conn = self.store.read().await?;
        let row = store::cases::by_tracking_number(&mut conn, tracking_number.as_str())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(row.step)
    }

    /// Opens the re-check case of a registered household from the due list (W1); the
    /// consent given at entry covers it.
    pub async fn open_recheck(
        &self,
        actor: &Actor,
        household_no: &str,
        summary: &str,
    ) -> Result<(i64, TrackingNumber), AppError> {
        let row = {
            let mut conn = self.store.read().await?;
            store::households::by_external_id(&mut conn, household_no)
                .await?
                .ok_or(AppError::NotFound)?
        };
        let area = row.area_code.clone();
        self.open_case(
            actor,
            NewIntake {
                kind: CaseKind::Recheck,
                channel: Channel::TownWindow,
                household_no: row.external_id.clone(),
                area,
                applicant: row.head_name,
                consent: None,
                summary: summary.to_owned(),
            },
        )
        .await
    }
}

/// 可办事项: the actions offered to a role on a case, decided next to the machine.
pub use workflow::offered as offered_actions;

/// 调查组候选人: a user of the system who may sit on a survey team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamCandidate {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub area: PlaceCode,
}

impl App {
    /// P4: the users who may survey this case's household — active users of the case's town
    /// whose role surveys and whose area covers the household (`workflow::may_survey`), by name.
    pub async fn team_candidates(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> Result<Vec<TeamCandidate>, AppError> {
        let mut conn = self.store.read().await?;
        let (row, _) = self.load_case(&mut conn, actor, case_id).await?;
        let area = row.area_code.clone();
        let town = area
            .at_level(domain::PlaceLevel::Town)
            .unwrap_or_else(|| area.clone());
        let users = store::users::under(&mut conn, town.as_str()).await?;
        Ok(users
            .into_iter()
            .map(surveyor)
            .filter(|user| user.active && workflow::may_survey(user.role, &user.area, &area))
            .map(|user| TeamCandidate {
                user_id: user.user_id,
                name: user.name,
                role: user.role,
                area: user.area,
            })
            .collect())
    }
}

/// 告知书 (issue 14 item 2): one category a district department declined, with its reason
/// and, for a category held per person (特困), the members it was declined for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclinedPart {
    pub category: Category,
    pub reason: String,
    /// The surveyed members the rules engine granted the category to (empty for a category
    /// held by the household).
    pub members: Vec<String>,
}

impl DeclinedPart {
    /// `特困人员（韩老）：理由`, `低保：理由`: the line of the 告知书.
    pub fn line(&self) -> String {
        if self.members.is_empty() {
            format!("{}：{}", self.category.label(), self.reason)
        } else {
            format!(
                "{}（{}）：{}",
                self.category.label(),
                self.members.join("、"),
                self.reason
            )
        }
    }
}

impl App {
    /// 告知书: what the departments declined on `case`, each category with its reason and, for
    /// a category held per person, the members — the persons the rules engine grants it on
    /// the surveyed household on the day the case closed (as the registry writes the
    /// confirmed ones).
    pub fn declined_parts(&self, case: &Case) -> Result<Vec<DeclinedPart>, AppError> {
        let declined = case.declined();
        if declined.is_empty() {
            return Ok(Vec::new());
        }
        let grants = match case.survey() {
            Some(survey) => {
                let on = case.closed_on().unwrap_or_else(|| self.today());
                let catalogue = self.catalogue()?;
                policy::determine(&survey.household, &catalogue.snapshot(on), on).categories
            }
            None => Vec::new(),
        };
        Ok(declined
            .into_iter()
            .map(|(category, reason)| DeclinedPart {
                category,
                reason: reason.to_owned(),
                members: grants
                    .iter()
                    .filter(|grant| {
                        grant.category == category && grant.scope == policy::Scope::Person
                    })
                    .filter_map(|grant| {
                        let id_number = grant.id_number.as_ref()?;
                        case.survey()?
                            .household
                            .members
                            .iter()
                            .find(|person| person.id_number == *id_number)
                            .map(|person| person.name.clone())
                    })
                    .collect(),
            })
            .collect())
    }

    /// 救济途径 of a 告知书 on `on`: days to apply for 行政复议 and months to bring 行政诉讼,
    /// from the catalogue (`review.*`); `None` where a value is not set.
    pub fn review_periods(&self, on: NaiveDate) -> Result<(Option<i64>, Option<i64>), AppError> {
        let snapshot = self.catalogue()?.snapshot(on);
        Ok((
            snapshot.integer(policy::Param::ReviewReconsiderationDays),
            snapshot.integer(policy::Param::ReviewLitigationMonths),
        ))
    }
}

/// A stored user as the survey team check sees them.
fn surveyor(user: store::users::UserRow) -> workflow::Surveyor {
    workflow::Surveyor {
        role: user.role,
        area: user.area_code,
        active: user.active == 1,
        user_id: user.id,
        name: user.display_name,
    }
}

/// A stored queue line as the work queue shows it; late when due before `today`.
fn work_item(
    row: &store::cases::QueueRow,
    today: NaiveDate,
    calendar: &Calendar,
) -> Result<WorkItem, AppError> {
    let others = row
        .others
        .iter()
        .map(|other| Deadline {
            limit: other.limit,
            started_on: other.started_on,
            due_on: other.due_on,
            pending: pending(calendar, other.limit, other.started_on, other.due_on),
        })
        .collect();
    let due_on = row.due_on;
    let first = row.limit;
    Ok(WorkItem {
        case_id: row.case_id,
        tracking_number: row.tracking_number.clone(),
        kind: row.kind,
        household_no: row.household_external_id.clone(),
        area: row.area_code.clone(),
        step: row.step,
        limit: first,
        due_on,
        pending: pending(calendar, first, row.started_on, due_on),
        late: due_on < today && row.watching == 0,
        others,
        watching: row.watching != 0,
    })
}

/// 待确认 of a stored line's limit (as `workflow::deadlines` gives it: a notice never is).
fn pending(
    calendar: &Calendar,
    limit: TimeLimit,
    started_on: NaiveDate,
    due_on: NaiveDate,
) -> bool {
    !matches!(limit, TimeLimit::Notice | TimeLimit::MonitoringNotice)
        && calendar.is_pending(started_on, due_on)
}

fn actor_ref(actor: &Actor) -> ActorRef {
    ActorRef {
        user_id: actor.user_id,
        role: actor.role,
        area: actor.area.clone(),
    }
}

/// The categories the household holds on `today` (open periods).
async fn held_on(
    conn: &mut store::Conn,
    household_row_id: i64,
    today: NaiveDate,
) -> Result<Vec<Category>, AppError> {
    let held: BTreeSet<Category> = store::households::category_history(conn, household_row_id)
        .await?
        .iter()
        .filter(|period| {
            period.start_date <= today && period.end_date.is_none_or(|end_date| end_date > today)
        })
        .map(|period| period.category)
        .collect();
    Ok(held.into_iter().collect())
}

pub(crate) fn events_of(case_id: i64, rows: &[CaseEventRow]) -> Result<Vec<Event>, AppError> {
    rows.iter()
        .map(|row| {
            let corrupt =
                |what: String| anyhow::anyhow!("case {case_id} event {}: {what}", row.seq);
            Ok(Event {
                on: row.on_date,
                actor: ActorRef {
                    user_id: row.actor_user_id,
                    role: row.actor_role,
                    area: row.actor_area.clone(),
                },
                fact: codec::fact_from_json(&row.fact)
                    .map_err(|error| corrupt(error.to_string()))?,
            })
        })
        .collect()
}

pub(crate) fn replay(case_id: i64, rows: &[CaseEventRow]) -> Result<Case, AppError> {
    let events = events_of(case_id, rows)?;
    Case::replay(&events)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("case {case_id} history: {error}")))
}

/// Appends `events` after `already` stored ones; returns their facts as one JSON array (the
/// audit event's `after`).
async fn append(
    conn: &mut store::Conn,
    case_id: i64,
    already: i64,
    events: &[Event],
    at: DateTime<Utc>,
) -> Result<String, AppError> {
    let mut rows = Vec::with_capacity(events.len());
    let mut facts = Vec::with_capacity(events.len());
    for (offset, event) in events.iter().enumerate() {
        let fact =
            codec::fact_json(&event.fact).map_err(|error| AppError::Internal(error.into()))?;
        rows.push(CaseEventRow {
            case_id,
            seq: already + offset as i64 + 1,
            on_date: event.on,
            actor_user_id: event.actor.user_id,
            actor_role: event.actor.role,
            actor_area: event.actor.area.clone(),
            fact: fact.clone(),
            recorded_at: at,
        });
        facts.push(fact);
    }
    store::cases::append_events(conn, &rows).await?;
    Ok(format!("[{}]", facts.join(",")))
}

/// 入户调查草稿 (issue 15 item 2): a case's survey form as typed, saved part-way and
/// completed over several visits; it enters the case only when the survey is recorded
/// (`record_survey`, the "submitted" moment), which deletes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyDraft {
    /// The form's fields as typed (names of the page's survey form).
    pub fields: Vec<(String, String)>,
    pub saved_by: String,
    /// When it was saved (Beijing time, to the second).
    pub saved_at: String,
}

impl App {
    /// Saves the survey form of a case as a draft (replacing an earlier one): only a user who
    /// may record the case's survey now, in their area; audited.
    pub async fn save_survey_draft(
        &self,
        actor: &Actor,
        case_id: i64,
        fields: &[(String, String)],
    ) -> Result<(), AppError> {
        let today = self.today();
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let (_, events) = self.load_case(&mut tx, actor, case_id).await?;
        let case = replay(case_id, &events)?;
        if !offered_actions(&case, actor.role, today).contains(&workflow::ActionKind::RecordSurvey)
        {
            return Err(AppError::Forbidden);
        }
        let text = serde_json::to_string(fields)
            .map_err(|error| anyhow::anyhow!("survey draft of case {case_id}: {error}"))?;
        store::cases::save_survey_draft(&mut tx, case_id, &text, &actor.audit_name(), &now).await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &case_event(actor, &now, "case.survey_draft", &case, None, None),
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }

    /// The survey draft of a case the actor may read, if one is saved.
    pub async fn survey_draft(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> Result<Option<SurveyDraft>, AppError> {
        let mut conn = self.store.read().await?;
        self.load_case(&mut conn, actor, case_id).await?;
        let Some(row) = store::cases::survey_draft(&mut conn, case_id).await? else {
            return Ok(None);
        };
        let fields: Vec<(String, String)> = serde_json::from_str(&row.fields)
            .map_err(|error| anyhow::anyhow!("survey draft of case {case_id}: {error}"))?;
        Ok(Some(SurveyDraft {
            fields,
            saved_by: row.saved_by,
            saved_at: crate::audit_log::beijing_second_of(row.saved_at),
        }))
    }
}

fn case_event(
    actor: &Actor,
    now: &str,
    action: &str,
    case: &Case,
    before: Option<String>,
    after: Option<String>,
) -> AuditEvent {
    AuditEvent::case(
        now.to_owned(),
        actor.audit_name(),
        action.to_owned(),
        case.tracking_number().as_str().to_owned(),
    )
    .in_area(case.area().as_str())
    .before(before)
    .after(after)
}
