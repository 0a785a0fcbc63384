//! Streaming batch jobs over JSON Lines files (shell): `assess`, `compare`, `gen feed`.
//!
//! Boundary: this crate does IO (files, standard input and output, threads, the clock for the
//! default as-of date); every decision is `policy`'s.

pub mod assess;
pub mod compare;
mod fastparse;
pub mod gen_feed;

pub use assess::{
    AssessArgs, Options, Summary, assess_stream, assess_to, load_snapshot, read_household,
    run_assess,
};

pub use compare::{CompareArgs, CompareSummary, compare_to, run_compare};
pub use gen_feed::{FeedPlan, write_feed};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compare;

/// Today in China Standard Time (UTC+8, no daylight saving): the default `--as-of` of
/// `assess` and `compare`, whatever the machine's time zone (a server on UTC would otherwise
/// date the morning's work before 08:00 with yesterday).
pub fn beijing_today() -> chrono::NaiveDate {
    beijing_day(chrono::Utc::now())
}

/// The day in China Standard Time of the instant `now`.
pub fn beijing_day(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    (now + chrono::Duration::hours(8)).date_naive()
}
