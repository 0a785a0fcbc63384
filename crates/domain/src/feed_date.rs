//! 日期 of a department feed row (`spec/FEEDS.md`): the day something happened, or the month a
//! figure covers.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A feed row's date. Invariant: a real day (`YYYY-MM-DD`) or a real month (`YYYY-MM`); a row
/// without a date has none (`Option<FeedDate>`), not an empty one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedDate {
    /// The month a figure covers, as its first day.
    Month(NaiveDate),
    Day(NaiveDate),
}

/// Why a text is not a feed row's date (the message in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("日期“{0}”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）")]
pub struct InvalidFeedDate(String);

impl FeedDate {
    /// `YYYY-MM-DD` or `YYYY-MM`, exactly (four-digit year, two-digit month and day).
    pub fn parse(text: &str) -> Result<FeedDate, InvalidFeedDate> {
        let bytes = text.as_bytes();
        let shape = matches!(bytes.len(), 7 | 10)
            && bytes.iter().enumerate().all(|(at, byte)| {
                if at == 4 || at == 7 {
                    *byte == b'-'
                } else {
                    byte.is_ascii_digit()
                }
            });
        let number = |from: usize, to: usize| text[from..to].parse::<u32>().ok();
        let date = shape
            .then(|| {
                let year = i32::try_from(number(0, 4)?).ok()?;
                let month = number(5, 7)?;
                if bytes.len() == 10 {
                    NaiveDate::from_ymd_opt(year, month, number(8, 10)?).map(FeedDate::Day)
                } else {
                    NaiveDate::from_ymd_opt(year, month, 1).map(FeedDate::Month)
                }
            })
            .flatten();
        date.ok_or_else(|| InvalidFeedDate(crate::input::shown(text)))
    }
}

/// The text the department gave: `YYYY-MM-DD` or `YYYY-MM`.
impl fmt::Display for FeedDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeedDate::Month(day) => write!(f, "{:04}-{:02}", day.year(), day.month()),
            FeedDate::Day(day) => write!(f, "{}", day.format("%Y-%m-%d")),
        }
    }
}
