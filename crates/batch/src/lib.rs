//! Streaming batch jobs over JSON Lines files (shell): `assess`.
//!
//! Boundary: this crate does IO (files, standard input and output, threads, the clock for the
//! default as-of date); every decision is `policy`'s.

pub mod assess;
mod fastparse;

pub use assess::{
    AssessArgs, Options, Summary, assess_stream, assess_to, load_snapshot, read_household,
    run_assess,
};

#[cfg(test)]
mod tests;
