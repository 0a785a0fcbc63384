//! 受理编号: the number an applicant follows a case by; in `domain` because the store's case
//! rows carry it decoded.

use std::fmt;

/// 受理编号 (P1): the number an applicant follows the case by. Issued by the caller (the core
/// draws no random numbers); 1–32 ASCII letters, digits or hyphens.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingNumber(String);

/// A tracking number that is empty, too long, or has other characters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("受理编号应为1至32位字母、数字或连字符")]
pub struct InvalidTrackingNumber;

impl TrackingNumber {
    pub fn parse(input: &str) -> Result<TrackingNumber, InvalidTrackingNumber> {
        let text = input.trim();
        let well_formed = (1..=32).contains(&text.len())
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        if well_formed {
            Ok(TrackingNumber(text.to_owned()))
        } else {
            Err(InvalidTrackingNumber)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TrackingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingNumber({})", self.0)
    }
}
