//! 信息共享比对 (department data comparison), core: feed rows in, warnings out.
//!
//! Boundary: no IO, no clock, no threads. The caller hands in bytes and lines (`feed`), the
//! registry's households (`registry`) and a policy `Snapshot` (`rules::Thresholds`); `rules`
//! decides which warnings a record raises, and `Warning::write_json` renders one.
//!
//! Invariants: every threshold comes from the catalogue (a rule whose parameter has no value
//! does not fire and is listed in `Thresholds::skipped`); one fact about one person is one
//! warning (`Warning::dedupe_key`).

pub mod feed;
pub mod registry;
pub mod roll;
pub mod rules;

pub use feed::{
    Columns, FeedError, FeedFormat, FeedIdentity, FeedKind, FeedRecord, IdKey, Rejection, decode,
    read_csv, read_feed, read_table, read_xlsx,
};
pub use registry::{Duplicate, HouseholdEntry, PersonEntry, Registry, Summary, summarise};
pub use rules::{
    Findings, HouseFact, Severity, Thresholds, Warning, WarningKind, WarningRule, compare_found,
    compare_household, compare_record, distinct, duplicate_warnings, extra_houses,
};

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
