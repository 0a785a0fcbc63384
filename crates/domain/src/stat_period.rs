//! 统计期 / 数据期间: the period a department feed or a report covers.

use std::fmt;

/// 统计期. Invariant: a year `2026`, a half year `2026H1`/`2026H2`, a quarter `2026Q1`…`2026Q4`
/// or a month `2026-07`, the year from 1949 to 2200, H and Q upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatPeriod(String);

/// Why a text is not a 统计期 (the message in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidStatPeriod(String);

impl StatPeriod {
    /// A period from text as entered (surrounding blanks dropped, `h`/`q` read as `H`/`Q`),
    /// by `input::period`.
    pub fn parse(raw: &str) -> Result<StatPeriod, InvalidStatPeriod> {
        crate::input::period("period", "统计期", raw)
            .map(StatPeriod)
            .map_err(|error| InvalidStatPeriod(error.message))
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
