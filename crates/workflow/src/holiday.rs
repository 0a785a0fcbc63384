//! What the working-day calendar (`policy/calendar.toml`) and the statutory holidays
//! (`policy/lunar-dates.toml`) are both read into: a holiday, the error of a file that cannot
//! be loaded, and (from `policy`, which reads days the same way) a TOML date.

use chrono::NaiveDate;
use policy::Status;
pub(crate) use policy::catalogue::toml_date;

/// 法定节假日: one holiday of the State Council's yearly arrangement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    /// The year whose arrangement lists it (its last day's year in the file).
    pub year: i32,
    pub name: String,
    /// First day off.
    pub from: NaiveDate,
    /// Last day off (inclusive).
    pub to: NaiveDate,
    /// 调休上班: weekend days worked in exchange.
    pub adjusted_working_days: Vec<NaiveDate>,
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
}

/// A calendar file that cannot be loaded, with the file, the 1-based line and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct CalendarError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}
