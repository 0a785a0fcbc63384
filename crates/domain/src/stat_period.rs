//! 统计期 / 数据期间: the period a department feed or a report covers.

use std::fmt;

/// 统计期. Invariant: a year `2026`, a half year `2026H1`/`2026H2`, a quarter `2026Q1`…`2026Q4`
/// or a month `2026-07`, the year from 1949 to 2200, H and Q upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatPeriod(String);

/// Why a text is not a 统计期 (the message in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}”不是统计期（应为年 2026、半年 2026H1、季度 2026Q3 或月份 2026-07）")]
pub struct InvalidStatPeriod(String);

impl StatPeriod {
    /// A period from text as entered (surrounding blanks dropped, `h`/`q` read as `H`/`Q`).
    pub fn parse(raw: &str) -> Result<StatPeriod, InvalidStatPeriod> {
        let text = raw.trim();
        let upper = text.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        let year_ok = bytes.len() >= 4
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && (1949..=2200).contains(&upper[..4].parse::<u32>().unwrap_or(0));
        let ok = year_ok
            && match &bytes[4..] {
                [] => true,
                [b'H', b'1' | b'2'] => true,
                [b'Q', b'1'..=b'4'] => true,
                [b'-', m1, m2] if m1.is_ascii_digit() && m2.is_ascii_digit() => {
                    (1..=12).contains(&((m1 - b'0') * 10 + (m2 - b'0')))
                }
                _ => false,
            };
        if ok {
            Ok(StatPeriod(upper))
        } else {
            Err(InvalidStatPeriod(crate::input::shown(text)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StatPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for StatPeriod {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for StatPeriod {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for StatPeriod {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
