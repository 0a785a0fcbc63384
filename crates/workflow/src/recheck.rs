//! 统一定期核查 (W1): when each enrolled household is next checked, and the due list a town
//! opens re-check cases from. The cycle itself (`recheck_months`: 12, 6, or 0 after an
//! emergency) comes from the rules engine (RULES.md rule 10, `policy::recheck_months`).

use chrono::{Months, NaiveDate};
use domain::PlaceCode;

/// W1: the day the next re-check falls due — `recheck_months` after `last_check`, on the same
/// day of the month (or the month's last day); `0` means at once (the day of the last check,
/// so it is due already).
pub fn next_recheck(last_check: NaiveDate, recheck_months: u32) -> NaiveDate {
    last_check
        .checked_add_months(Months::new(recheck_months))
        .unwrap_or(NaiveDate::MAX)
}

/// An enrolled household as the re-check list needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub household_id: String,
    pub area: PlaceCode,
    /// The last household check (entry survey or re-check).
    pub last_check: NaiveDate,
    /// From `policy::recheck_months` (0 after a recorded emergency).
    pub recheck_months: u32,
}

/// A household whose re-check falls due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecheckDue {
    pub household_id: String,
    pub area: PlaceCode,
    pub due_on: NaiveDate,
    /// True when `due_on` is before today.
    pub overdue: bool,
}

/// W1: the households in `area` whose re-check falls due on or before `until` (today for
/// what is due now, later to plan ahead), earliest first. One check serves every department.
pub fn recheck_due_list<'e>(
    enrolments: impl IntoIterator<Item = &'e Enrolment>,
    area: &PlaceCode,
    today: NaiveDate,
    until: NaiveDate,
) -> Vec<RecheckDue> {
    let mut due: Vec<RecheckDue> = enrolments
        .into_iter()
        .filter(|enrolment| area.contains(&enrolment.area))
        .filter_map(|enrolment| {
            let due_on = next_recheck(enrolment.last_check, enrolment.recheck_months);
            (due_on <= until).then(|| RecheckDue {
                household_id: enrolment.household_id.clone(),
                area: enrolment.area.clone(),
                due_on,
                overdue: due_on < today,
            })
        })
        .collect();
    due.sort_by(|left, right| {
        (left.due_on, &left.household_id).cmp(&(right.due_on, &right.household_id))
    });
    due
}
