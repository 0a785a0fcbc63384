//! Streaming batch jobs over JSON Lines files (shell): `assess`.
//!
//! Boundary: this crate does IO (files, standard input and output, threads, the clock for the
//! default as-of date); every decision is `policy`'s.

pub mod assess;

pub use assess::{
    AssessArgs, Options, Summary, assess_stream, assess_to, load_snapshot, run_assess,
};
