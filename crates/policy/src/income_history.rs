//! 收入记录 (X2, rule 9): the household's recorded incomes, and from them the months its
//! per-capita income has stood above the monitoring line (`months_above_monitoring_line`).
//!
//! Each record is one observation: on its day, the household's countable income over the 12
//! months before and the members it was shared by (a survey, a re-check's survey, a registry
//! edit). The income is above the line from the first record of the unbroken run of records
//! at or above it that reaches the last record, and counts in whole months from that record
//! to the date asked — a record below the line restarts the count, and a household with no
//! record at or above the line has none. Without a line in force every record counts as above
//! (rule 9 is then pending on the line, and the count is what holds if it passes).

use crate::catalogue::{Param, Snapshot};
use chrono::{Months, NaiveDate};
use domain::{Household, Yuan};

/// One recorded income of a household.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncomeRecord {
    /// The day the income was recorded (the survey's day).
    pub on: NaiveDate,
    /// 近12个月家庭可计算收入.
    pub income_12m: Yuan,
    /// The members it is shared by (at least one).
    pub n_members: u32,
}

impl IncomeRecord {
    /// The record of `household` as surveyed on `on`.
    pub fn of(household: &Household, on: NaiveDate) -> IncomeRecord {
        IncomeRecord {
            on,
            income_12m: household.income_12m.countable(),
            n_members: u32::try_from(household.members.len()).unwrap_or(u32::MAX),
        }
    }

    /// 人均年收入, rounded half-up to 0.01.
    pub fn per_capita_year(&self) -> Yuan {
        self.income_12m.div_round(i64::from(self.n_members.max(1)))
    }

    /// Exactly: is the per-capita annual income at or above `line`?
    fn at_or_above(&self, line: Yuan) -> bool {
        i128::from(self.income_12m.fen())
            >= i128::from(line.fen()) * i128::from(self.n_members.max(1))
    }
}

/// Whole months from `from` to `to` (0 when `to` is not later).
fn whole_months(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut months = 0;
    while from
        .checked_add_months(Months::new(months + 1))
        .is_some_and(|next| next <= to)
    {
        months += 1;
    }
    months
}

/// The months up to `as_of` the per-capita income has stood at or above `line` by the records
/// (in any order; those after `as_of` are not read). `line: None` reads every record as above.
pub fn months_above_line(records: &[IncomeRecord], line: Option<Yuan>, as_of: NaiveDate) -> u32 {
    let mut known: Vec<&IncomeRecord> =
        records.iter().filter(|record| record.on <= as_of).collect();
    known.sort_by_key(|record| record.on);
    let above = |record: &IncomeRecord| line.is_none_or(|line| record.at_or_above(line));
    let run_start = known
        .iter()
        .rev()
        .take_while(|record| above(record))
        .last()
        .map(|record| record.on);
    run_start.map_or(0, |start| whole_months(start, as_of))
}

/// The household with `months_above_monitoring_line` taken from its recorded incomes on
/// `as_of`, with the monitoring line of `snapshot` (the value typed in is not read).
pub fn with_income_history(
    household: &Household,
    records: &[IncomeRecord],
    snapshot: &Snapshot,
    as_of: NaiveDate,
) -> Household {
    let line = snapshot.money(Param::MonitoringIncomeLine);
    Household {
        months_above_monitoring_line: months_above_line(records, line, as_of),
        ..household.clone()
    }
}
