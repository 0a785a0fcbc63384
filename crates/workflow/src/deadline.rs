//! 办理时限 (P9): each step's time limit from the parameter catalogue (`deadline.*`), counted
//! in working days on the `Calendar` or in calendar days, and the list of what is due and
//! what is late on a day.
//!
//! Counting: the day a period starts is not counted (民法典第二百零一条), so 1 working day after
//! 2025-09-30 is 2025-10-09. A deadline in calendar days that falls on a day off moves to the
//! next working day (民法典第二百零三条); a notice period does not move — it ends when it ends.

use crate::calendar::Calendar;
use crate::case::{Case, Change, Step, TrackingNumber};
use chrono::{Days, NaiveDate};
use domain::{Category, HouseholdNo, PlaceCode};
use policy::{Param, Snapshot, Unit};

pub use domain::states::TimeLimit;

/// A time limit's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// 工作日
    WorkingDays(u32),
    /// 日（自然日）
    Days(u32),
}

/// The catalogue parameter that gives a limit.
pub fn limit_param(limit: TimeLimit) -> Param {
    match limit {
        TimeLimit::TownReview => Param::DeadlineTownReviewWorkingDays,
        TimeLimit::Notice => Param::DeadlineNoticeDays,
        TimeLimit::MonitoringNotice => Param::DeadlineMonitoringNoticeDays,
        TimeLimit::DistrictConfirmation => Param::DeadlineDistrictConfirmationWorkingDays,
        TimeLimit::DibaoTotal => Param::DeadlineDibaoTotalWorkingDays,
        TimeLimit::DibaoTotalSpecial => Param::DeadlineDibaoTotalSpecialWorkingDays,
        TimeLimit::MonitoringIdentification => Param::DeadlineMonitoringIdentificationDays,
        TimeLimit::ObjectionRecheck => Param::DeadlineObjectionRecheckWorkingDays,
        TimeLimit::RefusalNotice => Param::DeadlineRefusalNoticeWorkingDays,
    }
}

/// A notice period ends where it ends; other calendar-day limits move off days off.
fn is_notice(limit: TimeLimit) -> bool {
    matches!(limit, TimeLimit::Notice | TimeLimit::MonitoringNotice)
}

/// A `deadline.*` parameter with no value on the snapshot's date, or a negative one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineParamsError {
    #[error("办理时限参数“{0}”未配置")]
    Missing(Param),
    #[error("办理时限参数“{0}”应为非负整数")]
    Negative(Param),
}

/// 办理时限参数: every `deadline.*` parameter resolved at one date (P9).
/// Invariant: each limit is present, with the unit the catalogue gives its parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlineParams {
    /// Indexed like `TimeLimit::ALL`.
    spans: Vec<Span>,
}

impl DeadlineParams {
    /// Reads the limits from a catalogue snapshot.
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<DeadlineParams, DeadlineParamsError> {
        let spans = TimeLimit::ALL
            .iter()
            .map(|limit| {
                let param = limit_param(*limit);
                let value = snapshot
                    .integer(param)
                    .ok_or(DeadlineParamsError::Missing(param))?;
                let count =
                    u32::try_from(value).map_err(|_| DeadlineParamsError::Negative(param))?;
                Ok(match param.unit() {
                    Unit::WorkingDays => Span::WorkingDays(count),
                    _ => Span::Days(count),
                })
            })
            .collect::<Result<Vec<Span>, DeadlineParamsError>>()?;
        Ok(DeadlineParams { spans })
    }

    /// The length of a limit.
    pub fn span(&self, limit: TimeLimit) -> Span {
        // `spans` holds one entry per `TimeLimit::ALL`, in declaration order.
        self.spans
            .get(limit as usize)
            .copied()
            .unwrap_or(Span::Days(0))
    }

    /// P7: the notice's length in days for the decided categories — `deadline.notice_days`
    /// for assistance categories, `deadline.monitoring_notice_days` for the monitoring tag,
    /// the longer when both are decided.
    pub fn notice_days(&self, categories: &[Category]) -> u32 {
        let days = |limit| match self.span(limit) {
            Span::Days(days) | Span::WorkingDays(days) => days,
        };
        let assistance = categories
            .iter()
            .any(|category| *category != Category::Monitoring);
        let monitoring = categories.contains(&Category::Monitoring);
        match (assistance, monitoring) {
            (_, false) => days(TimeLimit::Notice),
            (false, true) => days(TimeLimit::MonitoringNotice),
            (true, true) => days(TimeLimit::Notice).max(days(TimeLimit::MonitoringNotice)),
        }
    }
}

impl Calendar {
    /// The last day to meet `limit` when its period started on `started_on` (P9).
    pub fn due_date(
        &self,
        limit: TimeLimit,
        started_on: NaiveDate,
        params: &DeadlineParams,
    ) -> NaiveDate {
        match params.span(limit) {
            Span::WorkingDays(days) => self.add_working_days(started_on, days),
            Span::Days(days) => {
                let end = started_on
                    .checked_add_days(Days::new(u64::from(days)))
                    .unwrap_or(NaiveDate::MAX);
                if is_notice(limit) {
                    end
                } else {
                    self.working_day_on_or_after(end)
                }
            }
        }
    }
}

/// One running time limit of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub limit: TimeLimit,
    pub started_on: NaiveDate,
    pub due_on: NaiveDate,
    /// 待确认: counted across a year whose arrangement is not entered (`Calendar::is_pending`).
    pub pending: bool,
}

/// The time limits that run for `case` on `today`: the current step's, and after the joint
/// review the overall limit of what it decided (dibao total, monitoring identification).
pub fn deadlines(
    case: &Case,
    today: NaiveDate,
    calendar: &Calendar,
    params: &DeadlineParams,
) -> Vec<Deadline> {
    let deadline = |limit: TimeLimit, started_on: NaiveDate| {
        let due_on = calendar.due_date(limit, started_on, params);
        Deadline {
            limit,
            started_on,
            due_on,
            pending: calendar.is_pending(started_on, due_on),
        }
    };
    let town_stage = || match case.reverification_since() {
        Some(since) => deadline(TimeLimit::ObjectionRecheck, since),
        None => deadline(TimeLimit::TownReview, case.received_on()),
    };
    let mut running = Vec::new();
    match case.step() {
        Step::Received
        | Step::Comparing
        | Step::Surveying
        | Step::VillageReview
        | Step::JointReview => running.push(town_stage()),
        Step::Notice => match case.notice() {
            None => running.push(town_stage()),
            Some(notice) if notice.is_running(today) => running.push(Deadline {
                limit: if case
                    .decided()
                    .iter()
                    .all(|decided| decided.category == Category::Monitoring)
                {
                    TimeLimit::MonitoringNotice
                } else {
                    TimeLimit::Notice
                },
                started_on: notice.posted_on,
                due_on: notice.ends_on,
                // A notice runs in calendar days: no day off moves its end.
                pending: false,
            }),
            Some(notice) => running.push(deadline(TimeLimit::DistrictConfirmation, notice.ends_on)),
        },
        Step::Confirming => {
            let started_on = case
                .notice()
                .map_or(case.step_since(), |notice| notice.ends_on);
            running.push(deadline(TimeLimit::DistrictConfirmation, started_on));
        }
        Step::Refused | Step::Confirmed => {
            if case.owes_refusal_notice() && case.refusal_notice_delivered_on().is_none() {
                running.push(deadline(TimeLimit::RefusalNotice, case.step_since()));
            }
        }
        Step::Withdrawn => {}
    }
    if !case.step().is_final() {
        let starts = |wanted: &[Category]| {
            case.decided().iter().any(|decided| {
                decided.change == Change::Start && wanted.contains(&decided.category)
            })
        };
        if starts(&[Category::Dibao, Category::DibaoSingle]) {
            // 特殊情况: the longer limit once the case records its reason.
            let limit = if case.special_limit_reason().is_some() {
                TimeLimit::DibaoTotalSpecial
            } else {
                TimeLimit::DibaoTotal
            };
            running.push(deadline(limit, case.received_on()));
        }
        if starts(&[Category::Monitoring]) {
            running.push(deadline(
                TimeLimit::MonitoringIdentification,
                case.received_on(),
            ));
        }
    }
    running
}

/// A case on a work list: one line per case, under its nearest time limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueItem {
    pub tracking_number: TrackingNumber,
    pub household_no: HouseholdNo,
    pub area: PlaceCode,
    pub step: Step,
    /// The running limit due first; the line is late when it is.
    pub deadline: Deadline,
    /// The case's other running limits, by due date (another limit due later does not make
    /// a second line: the worker acts on the case once).
    pub others: Vec<Deadline>,
}

/// 待办与逾期 (P9): what is due and what is late on a day, each sorted by due date.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DueList {
    /// Past the nearest due date.
    pub late: Vec<DueItem>,
    /// Nearest due date today or later.
    pub due: Vec<DueItem>,
}

/// The work list of the cases lying in `area` on `today` (a user's own area, or a town for
/// its overdue list): one item per case with a running limit.
pub fn due_list<'c>(
    cases: impl IntoIterator<Item = &'c Case>,
    area: &PlaceCode,
    today: NaiveDate,
    calendar: &Calendar,
    params: &DeadlineParams,
) -> DueList {
    let mut list = DueList::default();
    for case in cases {
        if !area.contains(case.area()) {
            continue;
        }
        let mut running = deadlines(case, today, calendar, params);
        // Stable: of two limits due the same day, the one `deadlines` lists first leads.
        running.sort_by_key(|deadline| deadline.due_on);
        let mut running = running.into_iter();
        let Some(deadline) = running.next() else {
            continue;
        };
        let late = deadline.due_on < today;
        let item = DueItem {
            tracking_number: case.tracking_number().clone(),
            household_no: case.household_no().clone(),
            area: case.area().clone(),
            step: case.step(),
            deadline,
            others: running.collect(),
        };
        if late {
            list.late.push(item);
        } else {
            list.due.push(item);
        }
    }
    let order = |item: &DueItem| (item.deadline.due_on, item.tracking_number.clone());
    list.late.sort_by_key(order);
    list.due.sort_by_key(order);
    list
}
