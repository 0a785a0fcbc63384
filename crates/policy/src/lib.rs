//! 认定规则 (core): the eligibility rules of `shared/policy/RULES.md` over dated parameters,
//! with explanations (D2, P6, X2, W1).
//!
//! - `catalogue`: the parameter catalogue as data (`policy/catalogue.toml`), validated on load,
//!   resolved once per run into a `Snapshot`; `--set` overrides; values added in the product
//!   (`AddedValue`, stored by the shell) taken on top of the file by `Catalogue::with_added`.
//! - `rules`: rules 1–10 as pure functions; `determine` explains every rule it evaluates,
//!   `determine_quiet` yields the same determination without building text.
//! - `income_history`: the months above the monitoring line from the recorded incomes (rule 9).
//! - `record`: the determination in the output format of `spec/HOUSEHOLD.md`.
//! - `whatif`: the same households under two snapshots, compared by town.
//! - `money`: how amounts are written, in sentences and in JSON (below all the others).
//!
//! Invariants: no IO, no clock, no randomness; no policy number is written in the code — every
//! age, amount, multiplier, share and month count comes from the catalogue; money is exact fen,
//! rounded half-up to 0.01 where a derived amount is formed.

pub mod catalogue;
pub mod explain;
pub mod income_history;
pub mod money;
pub mod record;
pub mod rules;
pub mod whatif;

pub use catalogue::{
    AddedField, AddedValue, Catalogue, CatalogueError, DEMO_NOTE, DatedValue, OWNERS, Override,
    Param, Parameter, Snapshot, Status, Unit, Value, demo_values,
};
pub use explain::{ParamUse, Pending, Reason, blocked_by, rule_title};
pub use income_history::{IncomeRecord, months_above_line, with_income_history};
pub use record::{DeterminationRecord, LineError};
pub use rules::{
    Determination, Grant, RecheckCycle, Scope, determine, determine_monitored, determine_quiet,
    recheck_cycle, recheck_months, risk_eliminated,
};
pub use whatif::{Comparison, Flow, TownComparison, simulate};

#[cfg(test)]
mod tests;
