//! 法定节假日推算 (P9, issue 14 item 5): the holidays of 《全国年节及纪念日放假办法》 for a year
//! whose State Council arrangement is not entered yet, from `policy/lunar-dates.toml`: the
//! fixed-date holidays by month and day, the lunar ones (春节, 端午, 中秋) and 清明 from the
//! Gregorian dates listed per year. The lunar calendar is never computed here.
//!
//! Invariant: every rule gives at least one day; every lunar key a rule names is dated in every
//! listed year, inside that year.

use crate::holiday::toml_date;
use crate::holiday::{CalendarError, Holiday};
use chrono::{Datelike, Days, NaiveDate};
use policy::Status;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Where a statutory holiday falls each year.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Anchor {
    /// A fixed month and day (元旦 1-1).
    MonthDay(u32, u32),
    /// A key of the per-year dates (`spring_festival`).
    Lunar(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    name: String,
    anchor: Anchor,
    offset: i64,
    days: u32,
}

/// The statutory holidays of the 办法 and the dates of its lunar festivals per year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statutory {
    source: String,
    dates_source: String,
    dates_status: Status,
    rules: Vec<Rule>,
    dates: BTreeMap<i32, BTreeMap<String, NaiveDate>>,
    /// The days off of the lunar rules, every listed year.
    lunar_days_off: BTreeSet<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatutoryFile {
    source: String,
    dates_source: String,
    dates_status: String,
    holiday: Vec<RuleEntry>,
    #[serde(default)]
    dates: BTreeMap<String, BTreeMap<String, toml::value::Datetime>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    month_day: Option<String>,
    lunar: Option<String>,
    #[serde(default)]
    offset: i64,
    days: u32,
}

/// The file shipped with the binary (`policy/lunar-dates.toml`).
const BUILTIN: &str = include_str!("../../../policy/lunar-dates.toml");

/// The longest holiday or offset the file may give (days).
const MAX_SPAN: u32 = 15;

impl Statutory {
    /// The rules built into the binary; the tests load them.
    pub fn builtin() -> Result<Statutory, CalendarError> {
        Statutory::from_toml(BUILTIN, "policy/lunar-dates.toml")
    }

    /// Loads and checks the rules; errors name `file_name` and the reason.
    pub fn from_toml(text: &str, file_name: &str) -> Result<Statutory, CalendarError> {
        let fail = |offset: usize, reason: String| CalendarError {
            file: file_name.to_owned(),
            line: text[..offset.min(text.len())]
                .bytes()
                .filter(|&byte| byte == b'\n')
                .count()
                + 1,
            reason,
        };
        let file: StatutoryFile = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            fail(offset, error.message().trim().to_owned())
        })?;
        let dates_status = Status::from_code(file.dates_status.trim())
            .ok_or_else(|| fail(0, format!("未知状态“{}”", file.dates_status)))?;
        let mut rules = Vec::new();
        for entry in file.holiday {
            let name = entry.name.trim().to_owned();
            if name.is_empty() || entry.days == 0 || entry.days > MAX_SPAN {
                return Err(fail(0, format!("节日“{name}”的名称或天数无效")));
            }
            if entry.offset.unsigned_abs() > u64::from(MAX_SPAN) {
                return Err(fail(0, format!("节日“{name}”的 offset 无效")));
            }
            let anchor = match (entry.month_day, entry.lunar) {
                (Some(month_day), None) => month_day
                    .split_once('-')
                    .and_then(|(month, day)| Some((month.parse().ok()?, day.parse().ok()?)))
                    .filter(|(month, day)| NaiveDate::from_ymd_opt(2001, *month, *day).is_some())
                    .map(|(month, day)| Anchor::MonthDay(month, day))
                    .ok_or_else(|| fail(0, format!("节日“{name}”的 month_day 应如 10-01")))?,
                (None, Some(key)) => Anchor::Lunar(key.trim().to_owned()),
                _ => {
                    return Err(fail(0, format!("节日“{name}”应有 month_day 或 lunar 之一")));
                }
            };
            rules.push(Rule {
                name,
                anchor,
                offset: entry.offset,
                days: entry.days,
            });
        }
        let mut dates = BTreeMap::new();
        for (year_text, keyed) in file.dates {
            let year: i32 = year_text
                .parse()
                .ok()
                .filter(|year| (2000..=2100).contains(year))
                .ok_or_else(|| fail(0, format!("年份“{year_text}”无效")))?;
            let mut of_year = BTreeMap::new();
            for (key, datetime) in keyed {
                let day = toml_date(&datetime)
                    .filter(|day| day.year() == year)
                    .ok_or_else(|| fail(0, format!("{year}年的 {key} 应为该年的日期")))?;
                of_year.insert(key, day);
            }
            for rule in &rules {
                if let Anchor::Lunar(key) = &rule.anchor
                    && !of_year.contains_key(key)
                {
                    return Err(fail(0, format!("{year}年缺少 {key} 的日期")));
                }
            }
            dates.insert(year, of_year);
        }
        let mut statutory = Statutory {
            source: file.source.trim().to_owned(),
            dates_source: file.dates_source.trim().to_owned(),
            dates_status,
            rules,
            dates,
            lunar_days_off: BTreeSet::new(),
        };
        let lunar_days_off: BTreeSet<NaiveDate> = statutory
            .dates
            .keys()
            .flat_map(|year| {
                statutory
                    .rules
                    .iter()
                    .filter(|rule| matches!(rule.anchor, Anchor::Lunar(_)))
                    .filter_map(|rule| statutory.span_of(rule, *year))
            })
            .flat_map(|(from, to)| from.iter_days().take_while(move |day| *day <= to))
            .collect();
        statutory.lunar_days_off = lunar_days_off;
        Ok(statutory)
    }

    /// The 办法 (its source).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the lunar festivals of `year` are dated (else only the fixed-date holidays apply).
    pub fn has_dates(&self, year: i32) -> bool {
        self.dates.contains_key(&year)
    }

    /// The years whose lunar festivals are dated.
    pub fn dated_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.dates.keys().copied()
    }

    /// The holidays of `year` by the 办法, each `Provisional`: the fixed-date ones always, the
    /// lunar ones when the year is dated. A lunar holiday's source names the dates' source too.
    pub fn holidays(&self, year: i32) -> Vec<Holiday> {
        let mut holidays: Vec<Holiday> = self
            .rules
            .iter()
            .filter_map(|rule| {
                let (from, to) = self.span_of(rule, year)?;
                let source = match rule.anchor {
                    Anchor::MonthDay(..) => self.source.clone(),
                    Anchor::Lunar(_) => format!("{}；日期：{}", self.source, self.dates_source),
                };
                Some(Holiday {
                    year,
                    name: rule.name.clone(),
                    from,
                    to,
                    adjusted_working_days: Vec::new(),
                    source,
                    status: Status::Provisional,
                    note: Some(format!(
                        "法定假日推算，待录入{year}年国务院办公厅放假安排（日期来源状态：{}）",
                        self.dates_status.label()
                    )),
                })
            })
            .collect();
        holidays.sort_by_key(|holiday| holiday.from);
        holidays
    }

    /// Whether `date` is a statutory day off of the 办法.
    pub fn is_day_off(&self, date: NaiveDate) -> bool {
        self.lunar_days_off.contains(&date)
            || self
                .rules
                .iter()
                .filter(|rule| matches!(rule.anchor, Anchor::MonthDay(..)))
                .filter_map(|rule| self.span_of(rule, date.year()))
                .any(|(from, to)| from <= date && date <= to)
    }

    /// The first and last day off a rule gives in `year`; `None` when the year is not dated.
    fn span_of(&self, rule: &Rule, year: i32) -> Option<(NaiveDate, NaiveDate)> {
        let anchor = match &rule.anchor {
            Anchor::MonthDay(month, day) => NaiveDate::from_ymd_opt(year, *month, *day)?,
            Anchor::Lunar(key) => *self.dates.get(&year)?.get(key)?,
        };
        let from = if rule.offset < 0 {
            anchor.checked_sub_days(Days::new(rule.offset.unsigned_abs()))?
        } else {
            anchor.checked_add_days(Days::new(rule.offset.unsigned_abs()))?
        };
        let to = from.checked_add_days(Days::new(u64::from(rule.days.saturating_sub(1))))?;
        Some((from, to))
    }
}
