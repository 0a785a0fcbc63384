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
