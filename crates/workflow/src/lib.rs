//! 救助帮扶案件办理 (core): one case — an application, a re-check, an exit or a risk
//! elimination — through 受理 → 信息比对 → 入户调查 → 村社评议 → 镇街联合研判 → 公示 → 审核确认,
//! by the right role at the right level in the right area; the time limits of each step on a
//! working-day calendar; the re-check cycle (P1–P9, X1, X2, W1, U2).
//!
//! - `case`: the case, its values (intake, 疑点, survey, reviews, notice, objections) and its
//!   append-only history of `Event`s; `Case::replay` rebuilds a case from them.
//! - `machine`: `open` and `apply`, the only ways a case is made or moved; a wrong move is a
//!   `Refusal` with a stable code and a Chinese message. Each action's word (`ActionKind`) is
//!   declared there with its fields (`fields`: name, type, label, required), from which the
//!   action is read, described and built (`CaseAction::from_input`).
//! - `calendar`: statutory holidays and adjusted working days as data (`policy/calendar.toml`,
//!   years added in the product); `statutory`: the 办法's holidays for a year not entered yet.
//! - `deadline`: the `deadline.*` parameters, due dates, and what is due or late.
//! - `recheck`: when each enrolled household is next checked (W1).
//! - `proposal`: the categories proposed to the meeting; a held monitoring tag ends only by
//!   风险消除 (X2).
//! - `queue`: who acts next on a case and under which limit, the work queue's stored lines.
//! - `warning`: the warning loop (W3: assign → verify → judge → dispose → close) as a machine,
//!   read the same way: state + step + actor → `WarningTransition` or `WarningRefusal`.
//! - `contact`: visits and hotline tickets (W4): who records, what an outcome opens.
//!
//! Invariants: no IO, no clock, no randomness — `today`, tracking numbers and the rules
//! engine's proposal come in as values. A case reaches a step only through the steps before
//! it; the comparison step is never skipped; exits take the same path as entry (怎么进怎么出).
//! The events `apply` returns, folded by `Case::replay`, give the case it returns.

pub mod calendar;
pub mod case;
pub mod contact;
pub mod deadline;
pub mod fields;
pub mod holiday;
pub mod machine;
pub mod proposal;
pub mod queue;
pub mod recheck;
pub mod refusal;
pub mod statutory;
pub mod warning;

pub use calendar::{Calendar, CalendarError, Holiday, HolidayInput, YearError, YearSchedule};
pub use case::{
    ActorRef, Case, CaseKind, CategoryVerdict, Change, Channel, Consent, DatedChange,
    DecidedCategory, DepartmentDecision, Discrepancy, DiscrepancyRecord, Event, Explanation, Fact,
    HistoryError, Intake, InvalidTrackingNumber, JointReview, Notice, Objection, ObjectionStatus,
    Outcome, PendingJudgement, PendingTest, Proposal, ReviewOutcome, Step, Survey, TeamMember,
    TrackingNumber, Verdict, VillageReview, department_of,
};
pub use deadline::{
    Deadline, DeadlineParams, DeadlineParamsError, DueItem, DueList, Span, TimeLimit, deadlines,
    due_list,
};
pub use fields::{Field, FieldKind, Input, InvalidField};
pub use machine::{
    Action, ActionKind, CaseAction, INTAKE_ROLES, JointReviewInput, SURVEY_ROLES, Surveyor,
    Transition, apply, apply_on, check_team, may_survey, offered, open, open_on,
};
pub use proposal::{ProposedCategories, propose_categories};
pub use queue::{QueueLine, WATCHING_ROLES, acts_next, awaits_department, queue_lines};
pub use recheck::{CheckKind, RecheckDue, next_recheck, schedule_recheck};
pub use refusal::Refusal;
pub use statutory::Statutory;

#[cfg(test)]
mod tests;
