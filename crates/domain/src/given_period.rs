//! 发放期: the period an assistance item is given in — a month, a year, or once for all — in
//! which the same item goes to a household at most once (不重). `assist::ItemPeriod::key`
//! gives a date's; in `domain` because the store's referral rows carry it decoded.

use std::fmt;

/// 发放期, stored as `2026-11` (a month), `2026` (a year) or `once`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GivenPeriod {
    Month { year: i32, month: u32 },
    Year(i32),
    Once,
}

/// A text that is not a 发放期.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("发放期应为年月（如2026-11）、年份（如2026）或once")]
pub struct InvalidGivenPeriod;

impl GivenPeriod {
    pub fn parse(text: &str) -> Result<GivenPeriod, InvalidGivenPeriod> {
        if text == "once" {
            return Ok(GivenPeriod::Once);
        }
        let year = |digits: &str| {
            (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse::<i32>().ok())
                .flatten()
        };
        match text.split_once('-') {
            None => year(text).map(GivenPeriod::Year),
            Some((y, m)) => {
                let month = (m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| m.parse::<u32>().ok())
                    .flatten()
                    .filter(|month| (1..=12).contains(month));
                year(y)
                    .zip(month)
                    .map(|(year, month)| GivenPeriod::Month { year, month })
            }
        }
        .ok_or(InvalidGivenPeriod)
    }

    /// In Chinese: `2026年11月`, `2026年度`, `一次性（不再重复）`.
    pub fn label(&self) -> String {
        match self {
            GivenPeriod::Month { year, month } => format!("{year}年{month}月"),
            GivenPeriod::Year(year) => format!("{year}年度"),
            GivenPeriod::Once => "一次性（不再重复）".to_owned(),
        }
    }
}

/// The stored form.
impl fmt::Display for GivenPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GivenPeriod::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            GivenPeriod::Year(year) => write!(f, "{year:04}"),
            GivenPeriod::Once => f.write_str("once"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GivenPeriod;

    #[test]
    fn a_given_period_reads_back_what_it_writes_and_nothing_else() {
        for text in ["2026-11", "2026-03", "2026", "once"] {
            assert_eq!(GivenPeriod::parse(text).unwrap().to_string(), text);
        }
        for text in [
            "",
            "26",
            "2026-13",
            "2026-3",
            "2026-00",
            "Once",
            "2026-11-01",
            "x026",
        ] {
            assert!(GivenPeriod::parse(text).is_err(), "{text}");
        }
        assert_eq!(GivenPeriod::parse("2026-03").unwrap().label(), "2026年3月");
        assert_eq!(GivenPeriod::Year(2026).label(), "2026年度");
    }
}
