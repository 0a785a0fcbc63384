//! 金额: exact money in fen (分), never a float.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

/// 元: an exact amount of money, held as whole fen (0.01 yuan).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Yuan(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidYuan {
    #[error("金额格式无效：{0}")]
    Format(String),
    #[error("金额最多两位小数：{0}")]
    TooPrecise(String),
    #[error("金额超出范围")]
    Range,
}

impl Yuan {
    pub const ZERO: Yuan = Yuan(0);

    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Self(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses `412.5`, `-3`, `1200.00`; at most two decimals.
    pub fn parse(input: &str) -> Result<Self, InvalidYuan> {
        let text = input.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let valid = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(InvalidYuan::Format(input.to_owned()));
        }
        if fraction.len() > 2 {
            return Err(InvalidYuan::TooPrecise(input.to_owned()));
        }
        let whole: i64 = whole.parse().map_err(|_| InvalidYuan::Range)?;
        let mut cents: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| InvalidYuan::Range)?
        };
        if fraction.len() == 1 {
            cents *= 10;
        }
        let fen = whole
            .checked_mul(100)
            .and_then(|f| f.checked_add(cents))
            .ok_or(InvalidYuan::Range)?;
        Ok(Self(if negative { -fen } else { fen }))
    }

    /// From a JSON number; refuses more than two decimals.
    pub fn from_f64(value: f64) -> Result<Self, InvalidYuan> {
        if !value.is_finite() || value.abs() > 1e13 {
            return Err(InvalidYuan::Range);
        }
        let scaled = value * 100.0;
        let rounded = scaled.round();
        if (scaled - rounded).abs() > 1e-6 * rounded.abs().max(1.0) {
            return Err(InvalidYuan::TooPrecise(value.to_string()));
        }
        #[allow(clippy::cast_possible_truncation)] // bounded above to 1e15 fen
        Ok(Self(rounded as i64))
    }

    /// The amount as a JSON number (exact for any real amount of money).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn max(self, other: Yuan) -> Yuan {
        Yuan(self.0.max(other.0))
    }

    /// Divides and rounds half-up (away from zero) to the fen.
    pub fn div_round(self, divisor: i64) -> Yuan {
        Yuan(div_half_up(self.0, divisor))
    }
}

/// Integer division rounding half away from zero; `divisor` must be positive.
pub fn div_half_up(numerator: i64, divisor: i64) -> i64 {
    let quotient = numerator / divisor;
    let remainder = numerator % divisor;
    if remainder.abs() * 2 >= divisor {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

impl fmt::Display for Yuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Yuan {
    type Output = Yuan;
    fn add(self, rhs: Yuan) -> Yuan {
        Yuan(self.0 + rhs.0)
    }
}

impl AddAssign for Yuan {
    fn add_assign(&mut self, rhs: Yuan) {
        self.0 += rhs.0;
    }
}

impl Sub for Yuan {
    type Output = Yuan;
    fn sub(self, rhs: Yuan) -> Yuan {
        Yuan(self.0 - rhs.0)
    }
}

impl Neg for Yuan {
    type Output = Yuan;
    fn neg(self) -> Yuan {
        Yuan(-self.0)
    }
}

impl Mul<i64> for Yuan {
    type Output = Yuan;
    fn mul(self, rhs: i64) -> Yuan {
        Yuan(self.0 * rhs)
    }
}

impl Sum for Yuan {
    fn sum<I: Iterator<Item = Yuan>>(iter: I) -> Yuan {
        Yuan(iter.map(|y| y.0).sum())
    }
}
