//! 分类救助帮扶 (core, A1–A3): the assistance catalogue as data, the proposals for a household
//! (缺啥补啥、就高不就低、不重不漏) and the referral state machine.
//!
//! - `catalogue`: items (`policy/assistance.toml`, then edited and versioned in the database)
//!   with the needs they answer, the providing department, conditions, rank, amount parameter,
//!   period and source.
//! - `propose`: from the household's survey, gaps, risks and held categories, its needs and the
//!   best fitting item for each, with a Chinese reason; items already given in their period are
//!   not proposed again; a need without an item is flagged; the further fitting items of a
//!   need already answered are offered as supplements.
//! - `supplement`: 补充帮扶 — a further item sent with a written reason, after the best one.
//! - `referral`: 待受理 → 已受理 → 已落实, or 已退回 with a reason.
//!
//! Invariants: no IO, no clock; no amount is written in the code — an item's fixed amount is a
//! parameter of the policy catalogue, resolved at the proposal's date.

pub mod catalogue;
pub mod propose;
pub mod referral;
pub mod supplement;

pub use catalogue::{
    AssistCatalogue, AssistCatalogueError, Department, Item, ItemDef, ItemError, ItemPeriod, Need,
    Signal,
};
pub use propose::{
    Covered, Given, NeedFound, PassedOver, Proposal, Proposals, Situation, Supplement, Unmet,
    propose,
};
pub use referral::{ReferralAction, ReferralState, next_state};
pub use supplement::{SupplementRefusal, supplement};

#[cfg(test)]
mod tests;
