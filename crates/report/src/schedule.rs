//! 报告期 (R1): the half-years of the joint report and their due dates, as data
//! (`policy/reports.toml`), and the months a report counts.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

/// The schedule shipped with the product.
pub const BUILTIN: &str = include_str!("../../../policy/reports.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("报告期配置无法读取：{0}")]
    Syntax(String),
    #[error("报告期配置“{code}”的日期“{text}”无效，应为MM-DD")]
    Date { code: String, text: String },
    #[error("报告期配置为空")]
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("报告期“{0}”无效，应为年份加期别，如{1}")]
pub struct InvalidPeriod(pub String, pub String);

#[derive(Deserialize)]
struct File {
    source: String,
    period: Vec<RuleFile>,
}

#[derive(Deserialize)]
struct RuleFile {
    code: String,
    name: String,
    from: String,
    to: String,
    due: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    code: String,
    name: String,
    from: (u32, u32),
    to: (u32, u32),
    due: (u32, u32),
}

/// The reporting periods of a year, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    source: String,
    rules: Vec<Rule>,
}

fn month_day(code: &str, text: &str) -> Result<(u32, u32), ScheduleError> {
    let bad = || ScheduleError::Date {
        code: code.to_owned(),
        text: text.to_owned(),
    };
    let (month, day) = text.split_once('-').ok_or_else(bad)?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    let day: u32 = day.parse().map_err(|_| bad())?;
    // Checked on a leap year, so 02-29 is accepted (and clamped on other years).
    NaiveDate::from_ymd_opt(2024, month, day).ok_or_else(bad)?;
    Ok((month, day))
}

fn date_in(year: i32, (month, day): (u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| NaiveDate::from_ymd_opt(year, month, day - 1))
        .unwrap_or(NaiveDate::MIN)
}

impl Schedule {
    pub fn builtin() -> Result<Schedule, ScheduleError> {
        Schedule::parse(BUILTIN)
    }

    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let file: File =
            toml::from_str(text).map_err(|error| ScheduleError::Syntax(error.to_string()))?;
        if file.period.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let rules = file
            .period
            .iter()
            .map(|rule| {
                Ok(Rule {
                    code: rule.code.clone(),
                    name: rule.name.clone(),
                    from: month_day(&rule.code, &rule.from)?,
                    to: month_day(&rule.code, &rule.to)?,
                    due: month_day(&rule.code, &rule.due)?,
                })
            })
            .collect::<Result<Vec<Rule>, ScheduleError>>()?;
        Ok(Schedule {
            source: file.source,
            rules,
        })
    }

    fn period_of(&self, year: i32, rule: &Rule) -> ReportPeriod {
        ReportPeriod {
            code: format!("{year}{}", rule.code),
            label: format!("{year}年{}", rule.name),
            start: date_in(year, rule.from),
            end: date_in(year, rule.to),
            due: Some(date_in(year, rule.due)),
            source: self.source.clone(),
        }
    }

    /// The period named like `2026H2`.
    pub fn period(&self, code: &str) -> Result<ReportPeriod, InvalidPeriod> {
        let code = code.trim();
        let example = self
            .rules
            .last()
            .map(|rule| format!("2026{}", rule.code))
            .unwrap_or_default();
        let invalid = || InvalidPeriod(code.to_owned(), example.clone());
        let (year, rest) = code.split_at_checked(4).ok_or_else(invalid)?;
        let year: i32 = year
            .parse()
            .ok()
            .filter(|year| (2000..=2100).contains(year))
            .ok_or_else(invalid)?;
        let rule = self
            .rules
            .iter()
            .find(|rule| rule.code.eq_ignore_ascii_case(rest))
            .ok_or_else(invalid)?;
        Ok(self.period_of(year, rule))
    }

    /// The period holding `day`, or failing that the latest one that started before it.
    pub fn current(&self, day: NaiveDate) -> ReportPeriod {
        self.recent(day, 1)
            .into_iter()
            .next()
            .unwrap_or_else(|| ReportPeriod::months_to(day, 6))
    }

    /// The `n` periods that started on or before `day`, the latest first (for pickers).
    pub fn recent(&self, day: NaiveDate, n: usize) -> Vec<ReportPeriod> {
        let mut periods = Vec::new();
        let mut year = day.year();
        while periods.len() < n && year > day.year() - 10 {
            for rule in self.rules.iter().rev() {
                let period = self.period_of(year, rule);
                if period.start <= day && periods.len() < n {
                    periods.push(period);
                }
            }
            year -= 1;
        }
        periods
    }
}

/// One month, `2026-07`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(day: NaiveDate) -> Month {
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MIN)
    }

    /// `2026-07`, the form the store groups by.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `2026年7月`
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }
}

/// A reporting period: its days `[start, end]` (both counted), and when the report is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPeriod {
    /// `2026H2`
    pub code: String,
    /// `2026年下半年`
    pub label: String,
    pub start: NaiveDate,
    /// The last day of the period (counted).
    pub end: NaiveDate,
    /// The day the report is due, for the semi-annual periods.
    pub due: Option<NaiveDate>,
    pub source: String,
}

impl ReportPeriod {
    /// The `n` months up to and including `day`'s month (the dashboard's trend window).
    pub fn months_to(day: NaiveDate, n: u32) -> ReportPeriod {
        let mut first = Month::of(day);
        for _ in 1..n.max(1) {
            first = if first.month == 1 {
                Month {
                    year: first.year - 1,
                    month: 12,
                }
            } else {
                Month {
                    year: first.year,
                    month: first.month - 1,
                }
            };
        }
        ReportPeriod {
            code: format!("{}M", n.max(1)),
            label: format!("近{}个月", n.max(1)),
            start: first.first_day(),
            end: Month::of(day).last_day(),
            due: None,
            source: String::new(),
        }
    }

    /// The day the figures are taken: the period's last day, or `today` while it runs.
    pub fn as_of(&self, today: NaiveDate) -> NaiveDate {
        self.end.min(today).max(self.start)
    }

    /// The months of the period up to `as_of`'s month.
    pub fn months(&self, as_of: NaiveDate) -> Vec<Month> {
        let last = Month::of(self.end.min(as_of));
        let mut month = Month::of(self.start);
        let mut months = Vec::new();
        while month <= last {
            months.push(month);
            month = month.next();
        }
        months
    }
}
