//! 公民身份号码 (GB 11643-1999): the 18-character citizen ID number.

use chrono::NaiveDate;
use std::fmt;

/// 身份证号: a GB 11643 citizen ID number, always 18 characters with a valid check character.
/// Legacy 15-digit numbers are converted on parsing (year prefixed with 19, check computed).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NationalId(String);

/// 性别 read from the sequence code: odd is male, even is female.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNationalId {
    #[error("身份证号应为18位（或旧式15位），实际{0}位")]
    Length(usize),
    #[error("身份证号含有非法字符")]
    Characters,
    #[error("身份证号中的出生日期无效")]
    BirthDate,
    #[error("身份证号校验位错误，应为{expected}")]
    Checksum { expected: char },
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// The GB 11643 check character of the first 17 digits.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

impl NationalId {
    pub fn parse(input: &str) -> Result<Self, InvalidNationalId> {
        let text = input.trim();
        let bytes = text.as_bytes();
        match bytes.len() {
            18 => {
                if !bytes[..17].iter().all(u8::is_ascii_digit) {
                    return Err(InvalidNationalId::Characters);
                }
                let last = bytes[17].to_ascii_uppercase();
                if !(last.is_ascii_digit() || last == b'X') {
                    return Err(InvalidNationalId::Characters);
                }
                birth_date_of(&bytes[6..14]).ok_or(InvalidNationalId::BirthDate)?;
                let expected = check_char(&bytes[..17]);
                if char::from(last) != expected {
                    return Err(InvalidNationalId::Checksum { expected });
                }
                let mut normalized = text[..17].to_owned();
                normalized.push(expected);
                Ok(Self(normalized))
            }
            15 => {
                if !bytes.iter().all(u8::is_ascii_digit) {
                    return Err(InvalidNationalId::Characters);
                }
                // Legacy numbers (before 1999) carry a two-digit year of the 1900s.
                let mut first17 = String::with_capacity(18);
                first17.push_str(&text[..6]);
                first17.push_str("19");
                first17.push_str(&text[6..15]);
                birth_date_of(&first17.as_bytes()[6..14]).ok_or(InvalidNationalId::BirthDate)?;
                let check = check_char(first17.as_bytes());
                first17.push(check);
                Ok(Self(first17))
            }
            _ => Err(InvalidNationalId::Length(text.chars().count())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 出生日期 encoded in digits 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        // Checked in `parse`; the fallback is never reached.
        birth_date_of(&self.0.as_bytes()[6..14]).unwrap_or_default()
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in whole years on `date` (a birthday counts from its day).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        use chrono::Datelike;
        let birth = self.birth_date();
        let mut years = date.year() - birth.year();
        if (date.month(), date.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }

    /// 脱敏: `500224********0011` — region code and the last four kept.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

fn birth_date_of(digits: &[u8]) -> Option<NaiveDate> {
    let text = std::str::from_utf8(digits).ok()?;
    let year: i32 = text[..4].parse().ok()?;
    let month: u32 = text[4..6].parse().ok()?;
    let day: u32 = text[6..8].parse().ok()?;
    if year < 1880 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NationalId {
    // Debug output lands in logs: it never shows the full number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.masked())
    }
}

/// 身份证号 as a reader is shown it: whole, or 脱敏 (`NationalId::masked`) for a role that
/// need not see it. A view carries this beside the rows, which keep the `NationalId`.
#[derive(Clone, PartialEq, Eq)]
pub enum ShownId {
    Full(NationalId),
    Masked(String),
}

impl ShownId {
    /// `id` as shown: masked when `masked`.
    pub fn of(id: &NationalId, masked: bool) -> ShownId {
        if masked {
            ShownId::Masked(id.masked())
        } else {
            ShownId::Full(id.clone())
        }
    }

    /// The text shown.
    pub fn as_str(&self) -> &str {
        match self {
            ShownId::Full(id) => id.as_str(),
            ShownId::Masked(text) => text,
        }
    }
}

impl fmt::Display for ShownId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ShownId {
    // As `NationalId`'s: never the full number in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShownId::Full(id) => write!(f, "Full({id:?})"),
            ShownId::Masked(text) => write!(f, "Masked({text})"),
        }
    }
}

/// 姓名脱敏: `张*` — the first character kept.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            let mut masked = String::with_capacity(4 + rest);
            masked.push(first);
            masked.extend(std::iter::repeat_n('*', rest));
            masked
        }
        None => String::new(),
    }
}
