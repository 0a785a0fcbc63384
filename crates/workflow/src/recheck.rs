//! 统一定期核查 (W1): when each enrolled household is next checked (`schedule_recheck`), and
//! the line of the due list a town opens re-check cases from. The cycle itself comes from the
//! rules engine (RULES.md rule 10, `policy::recheck_cycle`); the schedule is stored
//! (`store::rechecks`) and read in due order.

use chrono::{Months, NaiveDate};
use domain::{HouseholdNo, PlaceCode};

pub use domain::states::CheckKind;

/// W1: the day the next re-check falls due — `recheck_months` after `last_check`, on the same
/// day of the month (or the month's last day); `0` means at once (the day of the last check,
/// so it is due already).
pub fn next_recheck(last_check: NaiveDate, recheck_months: u32) -> NaiveDate {
    last_check
        .checked_add_months(Months::new(recheck_months))
        .unwrap_or(NaiveDate::MAX)
}

/// A household whose re-check falls due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecheckDue {
    /// 户编号
    pub household_no: HouseholdNo,
    pub area: PlaceCode,
    pub due_on: NaiveDate,
    /// True when `due_on` is before today.
    pub overdue: bool,
}

/// W1 (RULES.md rule 10): the next re-check of a household last checked on `last_check`. A
/// recorded emergency falls due at once after an entry or a roll import, and once only: a
/// completed re-check has seen it, so the regular cycle follows. Without a regular cycle
/// (its parameter has no value on the date) the re-check is due at once.
pub fn schedule_recheck(
    last_check: NaiveDate,
    regular_months: Option<u32>,
    emergency: bool,
    kind: CheckKind,
) -> NaiveDate {
    if emergency && kind != CheckKind::Recheck {
        return last_check;
    }
    regular_months.map_or(last_check, |months| next_recheck(last_check, months))
}
