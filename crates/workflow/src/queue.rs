//! 待办队列 (P9, issue 12): who acts next on a case and under which limit, as lines the store
//! keeps beside the case so that a work queue is one indexed read, never a replay.
//!
//! A case's lines change only when the case moves (a new event) or when its notice period
//! ends (公示期满: the town hands over to the confirming departments). So each line carries
//! the days it holds (`from`..=`until`): a case at 公示 has the town's lines up to the last
//! day of the notice and the departments' from the day after. Every other line holds from
//! the move until the next move.

use crate::calendar::Calendar;
use crate::case::{Case, Step};
use crate::deadline::{Deadline, DeadlineParams, deadlines};
use chrono::NaiveDate;
use domain::Role;

/// One stored line of the work queue: `role` acts next on the case from `from` to `until`
/// (inclusive; `None` is unbounded), under `deadline`, the running limit due first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueLine {
    pub role: Role,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub deadline: Deadline,
    /// The case's other running limits, by due date.
    pub others: Vec<Deadline>,
    /// 跟踪 (P2): a district department that does not act next follows the case read-only
    /// from intake; `false` for a line of a role that acts next.
    pub watching: bool,
}

/// The departments that decide a category and follow every case from intake (P2).
pub const WATCHING_ROLES: [Role; 2] = [Role::DistrictCivilAffairs, Role::DistrictAgriculture];

/// Whether `role` takes the next move of `case` on `today` (P9 work queues).
pub fn acts_next(case: &Case, role: Role, today: NaiveDate) -> bool {
    match case.step() {
        Step::Surveying => matches!(
            role,
            Role::VillageAssistant | Role::GridWorker | Role::TownReviewer
        ),
        Step::VillageReview => matches!(role, Role::VillageAssistant | Role::TownReviewer),
        Step::Received | Step::Comparing | Step::JointReview => role == Role::TownReviewer,
        Step::Notice => match case.notice() {
            Some(notice) if !notice.is_running(today) && !case.has_open_objection() => {
                awaits_department(case, role)
            }
            Some(_) => role == Role::TownReviewer,
            None => matches!(role, Role::VillageAssistant | Role::TownReviewer),
        },
        Step::Confirming => awaits_department(case, role),
        Step::Refused | Step::Confirmed => {
            role == Role::TownReviewer
                && case.owes_refusal_notice()
                && case.refusal_notice_delivered_on().is_none()
        }
        Step::Withdrawn => false,
    }
}

/// Whether `role` is a department that has still to confirm or decline a category of `case`.
pub fn awaits_department(case: &Case, role: Role) -> bool {
    case.decided()
        .iter()
        .any(|decided| decided.decision.is_none() && decided.department() == role)
}

/// The work-queue lines of `case` as it stands: for each role that acts next, the days it
/// does and the limit due first (the same line `due_list` gives on any of those days); and,
/// while the case runs (P2), a read-only 跟踪 line (`watching`) for each district department
/// that does not act next on those days, under the same limit.
pub fn queue_lines(case: &Case, calendar: &Calendar, params: &DeadlineParams) -> Vec<QueueLine> {
    // The days between which what `deadlines` and `acts_next` answer cannot change, each
    // with a day inside it to ask on.
    let phases: Vec<(Option<NaiveDate>, Option<NaiveDate>, NaiveDate)> =
        match (case.step(), case.notice()) {
            (Step::Notice, Some(notice)) => match notice.ends_on.succ_opt() {
                Some(after) => vec![
                    (None, Some(notice.ends_on), notice.ends_on),
                    (Some(after), None, after),
                ],
                None => vec![(None, None, notice.ends_on)],
            },
            _ => vec![(None, None, case.step_since())],
        };
    let mut lines = Vec::new();
    for (from, until, day) in phases {
        let mut running = deadlines(case, day, calendar, params);
        // Stable: of two limits due the same day, the one `deadlines` lists first leads.
        running.sort_by_key(|deadline| deadline.due_on);
        let mut running = running.into_iter();
        let Some(deadline) = running.next() else {
            continue;
        };
        let others: Vec<Deadline> = running.collect();
        let running_case = !matches!(
            case.step(),
            Step::Refused | Step::Confirmed | Step::Withdrawn
        );
        for role in Role::ALL {
            let acts = acts_next(case, *role, day);
            let watching = !acts && running_case && WATCHING_ROLES.contains(role);
            if acts || watching {
                lines.push(QueueLine {
                    role: *role,
                    from,
                    until,
                    deadline: deadline.clone(),
                    others: others.clone(),
                    watching,
                });
            }
        }
    }
    lines
}
