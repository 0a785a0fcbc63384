//! 救助帮扶项目编码: the code of an assistance item (`item_code`), in `domain` because the
//! store's item versions and referrals carry it decoded.

use std::fmt;

/// The code of a 救助帮扶项目. Invariant: 2–48 bytes of lower-case ASCII letters, digits and
/// `_`, starting with a letter (codes end up in URLs and reports).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemCode(String);

/// A text that is not an item code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("项目编码应为2至48位小写字母、数字或下划线，以字母开头")]
pub struct InvalidItemCode;

impl ItemCode {
    pub fn parse(text: &str) -> Result<ItemCode, InvalidItemCode> {
        let well_formed = (2..=48).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && text.as_bytes()[0].is_ascii_lowercase();
        if well_formed {
            Ok(ItemCode(text.to_owned()))
        } else {
            Err(InvalidItemCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ItemCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for ItemCode {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<ItemCode> for String {
    fn eq(&self, other: &ItemCode) -> bool {
        *self == other.0
    }
}
