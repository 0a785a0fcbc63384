//! 工作日历 (P9): Chinese statutory holidays and the weekend days worked in their place
//! (调休上班), as data in `policy/calendar.toml`, so an administrator can correct a year
//! without a release.
//!
//! Invariant: a loaded `Calendar` has holidays that do not overlap, each inside a year it
//! covers, and adjusted working days that are Saturdays or Sundays outside every holiday.
//! A year whose arrangement is not entered (in the file or added in the product, `with_year`)
//! counts Monday to Friday outside the statutory holidays of 《全国年节及纪念日放假办法》
//! (`Statutory`, when given); a due date counted across such a year is 待确认 (`is_pending`).

use crate::holiday::toml_date;
pub use crate::holiday::{CalendarError, Holiday};
use crate::statutory::Statutory;
use chrono::{Datelike, NaiveDate, Weekday};
use policy::Status;
use serde::Deserialize;
use std::collections::BTreeSet;
use toml::Spanned;

/// 工作日历 (P9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeSet<i32>,
    holidays: Vec<Holiday>,
    days_off: BTreeSet<NaiveDate>,
    working_weekend_days: BTreeSet<NaiveDate>,
    /// 法定节假日推算 for the years not entered; `None`: Monday to Friday count there.
    statutory: Option<Statutory>,
}

/// 录入年度放假安排: one year's arrangement as entered on the 工作日历 page, replacing the
/// year's holidays (a year entered again is a correction).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearSchedule {
    pub year: i32,
    pub holidays: Vec<HolidayInput>,
    /// 文号 of the State Council's notice.
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
}

/// One holiday of a `YearSchedule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayInput {
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub adjusted_working_days: Vec<NaiveDate>,
}

/// A `YearSchedule` the calendar cannot take: the field (`year`, `source`, `holidays`) and
/// the reason in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct YearError {
    pub field: &'static str,
    pub reason: String,
}

/// The earliest and latest year a calendar takes.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    years: Spanned<Vec<i64>>,
    #[serde(default)]
    holiday: Vec<Spanned<HolidayEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    name: String,
    from: Spanned<toml::value::Datetime>,
    to: Spanned<toml::value::Datetime>,
    #[serde(default)]
    adjusted_working_days: Vec<Spanned<toml::value::Datetime>>,
    source: String,
    status: Spanned<String>,
    note: Option<String>,
}

/// The calendar shipped with the binary (`policy/calendar.toml` at the repository root).
const BUILTIN: &str = include_str!("../../../policy/calendar.toml");

impl Calendar {
    /// The calendar built into the binary, with the statutory holidays for the years it does
    /// not hold. The tests load it, so it cannot fail in a release; the `Result` stays for
    /// honesty.
    pub fn builtin() -> Result<Calendar, CalendarError> {
        Ok(Calendar::from_toml(BUILTIN, "policy/calendar.toml")?
            .with_statutory(Statutory::builtin()?))
    }

    /// Uses `statutory` for the years whose arrangement is not entered.
    pub fn with_statutory(mut self, statutory: Statutory) -> Calendar {
        self.statutory = Some(statutory);
        self
    }

    /// Loads and checks a calendar; errors name `file_name`, the line and the reason.
    pub fn from_toml(text: &str, file_name: &str) -> Result<Calendar, CalendarError> {
        let fail = |offset: usize, reason: String| CalendarError {
            file: file_name.to_owned(),
            line: text[..offset.min(text.len())]
                .bytes()
                .filter(|&byte| byte == b'\n')
                .count()
                + 1,
            reason,
        };
        let file: CalendarFile = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            fail(offset, error.message().trim().to_owned())
        })?;
        let years_at = file.years.span().start;
        let mut years = BTreeSet::new();
        for year in file.years.into_inner() {
            let year = i32::try_from(year)
                .ok()
                .filter(|year| YEARS.contains(year))
                .ok_or_else(|| fail(years_at, format!("年份{year}无效")))?;
            if !years.insert(year) {
                return Err(fail(years_at, format!("年份{year}重复")));
            }
        }
        let mut calendar = Calendar {
            years,
            holidays: Vec::new(),
            days_off: BTreeSet::new(),
            working_weekend_days: BTreeSet::new(),
            statutory: None,
        };
        for entry in file.holiday {
            let start = entry.span().start;
            let entry = entry.into_inner();
            let name = entry.name.trim().to_owned();
            if name.is_empty() {
                return Err(fail(start, "节假日名称不能为空".to_owned()));
            }
            if entry.source.trim().is_empty() {
                return Err(fail(start, format!("“{name}”缺少来源（source）")));
            }
            // Names and sources are text like any other: no control characters.
            domain::input::line("name", "节假日名称", &name, 50)
                .and_then(|_| domain::input::line("source", "来源", &entry.source, 200))
                .map_err(|error| fail(start, error.to_string()))?;
            let status = Status::from_code(entry.status.get_ref().trim()).ok_or_else(|| {
                fail(
                    entry.status.span().start,
                    format!(
                        "未知状态“{}”，应为 confirmed、secondary 或 provisional",
                        entry.status.get_ref()
                    ),
                )
            })?;
            let date_at = |spanned: &Spanned<toml::value::Datetime>| {
                toml_date(spanned.get_ref())
                    .ok_or_else(|| fail(spanned.span().start, "应为日期，如 2025-10-01".to_owned()))
            };
            let from = date_at(&entry.from)?;
            let to = date_at(&entry.to)?;
            if to < from {
                return Err(fail(
                    entry.to.span().start,
                    format!("“{name}”的结束日期{to}早于开始日期{from}"),
                ));
            }
            if !calendar.years.contains(&from.year()) || !calendar.years.contains(&to.year()) {
                return Err(fail(
                    entry.from.span().start,
                    format!("“{name}”不在 years 所列年份内"),
                ));
            }
            for day in from.iter_days().take_while(|day| *day <= to) {
                if !calendar.days_off.insert(day) {
                    return Err(fail(
                        entry.from.span().start,
                        format!("“{name}”与其他节假日重叠（{day}）"),
                    ));
                }
            }
            let mut adjusted_working_days = Vec::with_capacity(entry.adjusted_working_days.len());
            for spanned in &entry.adjusted_working_days {
                let day = date_at(spanned)?;
                if !is_weekend(day) {
                    return Err(fail(
                        spanned.span().start,
                        format!("调休上班日{day}不是周六或周日"),
                    ));
                }
                if !calendar.years.contains(&day.year()) {
                    return Err(fail(
                        spanned.span().start,
                        format!("调休上班日{day}不在 years 所列年份内"),
                    ));
                }
                if !calendar.working_weekend_days.insert(day) {
                    return Err(fail(spanned.span().start, format!("调休上班日{day}重复")));
                }
                adjusted_working_days.push(day);
            }
            calendar.holidays.push(Holiday {
                year: to.year(),
                name,
                from,
                to,
                adjusted_working_days,
                source: entry.source.trim().to_owned(),
                status,
                note: entry.note,
            });
        }
        // A worked weekend day inside a holiday would contradict it; it is checked once all
        // holidays are known, since an adjustment may be listed under a neighbouring holiday.
        if let Some(day) = calendar
            .working_weekend_days
            .intersection(&calendar.days_off)
            .next()
        {
            return Err(fail(text.len(), format!("{day}既是节假日又是调休上班日")));
        }
        calendar.holidays.sort_by_key(|holiday| holiday.from);
        Ok(calendar)
    }

    /// The years whose arrangements the calendar holds.
    pub fn years(&self) -> &BTreeSet<i32> {
        &self.years
    }

    /// True when the calendar holds the arrangement of `date`'s year.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
    }

    /// The entered holidays (file and added years), by first day.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The statutory rules used for the years not entered, if any.
    pub fn statutory(&self) -> Option<&Statutory> {
        self.statutory.as_ref()
    }

    /// The holidays that count in `year`: its entered arrangement, or else the statutory
    /// holidays (each `Provisional`).
    pub fn holidays_of(&self, year: i32) -> Vec<Holiday> {
        if self.years.contains(&year) {
            return self
                .holidays
                .iter()
                .filter(|holiday| holiday.year == year)
                .cloned()
                .collect();
        }
        self.statutory
            .as_ref()
            .map_or_else(Vec::new, |statutory| statutory.holidays(year))
    }

    /// 待确认: a period from `started_on` (not counted) to `due_on` crosses a year whose
    /// arrangement is not entered, so its due date may move when the year is entered.
    pub fn is_pending(&self, started_on: NaiveDate, due_on: NaiveDate) -> bool {
        let first = started_on.succ_opt().unwrap_or(started_on).min(due_on);
        (first.year()..=due_on.year()).any(|year| !self.years.contains(&year))
    }

    /// 工作日: Monday to Friday outside the holidays, and the adjusted working weekend days; in
    /// a year not entered, Monday to Friday outside the statutory holidays.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.days_off.contains(&date) {
            return false;
        }
        if self.working_weekend_days.contains(&date) {
            return true;
        }
        if is_weekend(date) {
            return false;
        }
        self.years.contains(&date.year())
            || !self
                .statutory
                .as_ref()
                .is_some_and(|statutory| statutory.is_day_off(date))
    }

    /// The calendar with `schedule` as its year's arrangement (replacing the year's holidays,
    /// from the file or added before). Checks what `from_toml` checks; a fault names its field.
    pub fn with_year(&self, schedule: &YearSchedule) -> Result<Calendar, YearError> {
        let year = schedule.year;
        let fault = |field: &'static str, reason: String| YearError { field, reason };
        if !YEARS.contains(&year) {
            return Err(fault("year", format!("年份{year}无效")));
        }
        if schedule.source.trim().is_empty() {
            return Err(fault("source", "来源（文号）不能为空".to_owned()));
        }
        domain::input::line("source", "来源", &schedule.source, 200)
            .map_err(|error| fault("source", error.to_string()))?;
        if schedule.holidays.is_empty() {
            return Err(fault("holidays", "至少录入一个节假日".to_owned()));
        }
        let mut next = self.clone();
        next.holidays.retain(|holiday| holiday.year != year);
        next.years.insert(year);
        next.days_off = BTreeSet::new();
        next.working_weekend_days = BTreeSet::new();
        for holiday in &next.holidays {
            next.days_off.extend(
                holiday
                    .from
                    .iter_days()
                    .take_while(|day| *day <= holiday.to),
            );
            next.working_weekend_days
                .extend(holiday.adjusted_working_days.iter().copied());
        }
        let in_reach = |day: NaiveDate| day.year() == year || day.year() + 1 == year;
        for (index, entry) in schedule.holidays.iter().enumerate() {
            let at = format!("第{}个节假日", index + 1);
            let name = domain::input::line("holidays", "节假日名称", &entry.name, 50)
                .map_err(|error| fault("holidays", format!("{at}：{error}")))?;
            if name.is_empty() {
                return Err(fault("holidays", format!("{at}：名称不能为空")));
            }
            let (from, to) = (entry.from, entry.to);
            if to < from {
                return Err(fault(
                    "holidays",
                    format!("“{name}”的结束日期{to}早于开始日期{from}"),
                ));
            }
            if to.year() != year || !in_reach(from) {
                return Err(fault(
                    "holidays",
                    format!("“{name}”（{from}至{to}）不在{year}年"),
                ));
            }
            for day in from.iter_days().take_while(|day| *day <= to) {
                if !next.days_off.insert(day) {
                    return Err(fault(
                        "holidays",
                        format!("“{name}”与其他节假日重叠（{day}）"),
                    ));
                }
            }
            for day in &entry.adjusted_working_days {
                if !is_weekend(*day) {
                    return Err(fault(
                        "holidays",
                        format!("“{name}”的调休上班日{day}不是周六或周日"),
                    ));
                }
                if !in_reach(*day) {
                    return Err(fault(
                        "holidays",
                        format!("“{name}”的调休上班日{day}不在{year}年"),
                    ));
                }
                if !next.working_weekend_days.insert(*day) {
                    return Err(fault("holidays", format!("“{name}”的调休上班日{day}重复")));
                }
            }
            next.holidays.push(Holiday {
                year,
                name,
                from,
                to,
                adjusted_working_days: entry.adjusted_working_days.clone(),
                source: schedule.source.trim().to_owned(),
                status: schedule.status,
                note: schedule.note.clone(),
            });
        }
        if let Some(day) = next
            .working_weekend_days
            .intersection(&next.days_off)
            .next()
        {
            return Err(fault("holidays", format!("{day}既是节假日又是调休上班日")));
        }
        next.holidays.sort_by_key(|holiday| holiday.from);
        Ok(next)
    }

    /// The `n`th working day after `date` (`date` itself is not counted; `n = 0` gives `date`).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            let Some(next) = day.succ_opt() else {
                return NaiveDate::MAX;
            };
            day = next;
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        day
    }

    /// `date` if it is a working day, else the first working day after it.
    pub fn working_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        while !self.is_working_day(day) {
            let Some(next) = day.succ_opt() else {
                return NaiveDate::MAX;
            };
            day = next;
        }
        day
    }

    /// Working days from `from` (not counted) through `to` (counted); 0 when `to <= from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|day| *day <= to)
            .filter(|day| self.is_working_day(*day))
            .fold(0u32, |count, _| count.saturating_add(1))
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}
