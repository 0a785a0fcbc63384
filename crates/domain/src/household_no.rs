//! 户编号: the household number the registry and the interchange format know a household by,
//! distinct from the store's integer row key.

use std::fmt;

/// 户编号. Invariant: one line of at most 64 characters, not empty, without surrounding
/// blanks or control characters (the rule `interchange` applies to a record's `id`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HouseholdNo(String);

/// Why a text is not a 户编号 (the message in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidHouseholdNo(String);

impl HouseholdNo {
    /// The longest 户编号, in characters.
    pub const MAX_CHARS: usize = 64;

    /// A 户编号 from text as entered (surrounding blanks dropped).
    pub fn parse(raw: &str) -> Result<HouseholdNo, InvalidHouseholdNo> {
        if raw.trim().is_empty() {
            return Err(InvalidHouseholdNo("户编号不能为空".to_owned()));
        }
        crate::input::line("id", "户编号", raw, Self::MAX_CHARS)
            .map(HouseholdNo)
            .map_err(|error| InvalidHouseholdNo(error.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for HouseholdNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for HouseholdNo {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for HouseholdNo {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for HouseholdNo {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
