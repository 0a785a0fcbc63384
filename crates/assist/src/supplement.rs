//! 补充帮扶 (A2, A3): a further fitting item sent on top of the one that answers a need — the
//! district charity's help after 医疗救助 for a household still in difficulty.
//!
//! 就高不就低 still leads: the best item of a need is sent first, and a lower one follows only
//! as a supplement, with a written reason (补充理由). 不重 still holds: an item sent or given in
//! its period is not sent again, supplement or not. An item that does not fit the household
//! (wrong category, no situation it names) is not sent at all.

use crate::catalogue::{AssistCatalogue, Need};
use crate::propose::{Given, Proposal, Situation, fits, propose, signals};
use policy::Snapshot;

/// Why an item may not be sent as a supplement, in Chinese; `field` names the form field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SupplementRefusal {
    #[error("补充帮扶须填写补充理由（说明已转介项目之外仍有的困难）")]
    ReasonMissing,
    #[error("目录中没有救助项目“{code}”")]
    UnknownItem { code: String },
    /// 不重: the item was sent or given in its period (`delivered` once paid).
    #[error("该户“{item}”{period_label}已{}（转介单第{referral_id}号），同一项目同一期间不得重复发放", given_word(.delivered))]
    AlreadyGiven {
        item: String,
        period_label: String,
        referral_id: i64,
        delivered: bool,
    },
    #[error("“{item}”是本户当前的帮扶建议，请直接转介，无需作为补充帮扶")]
    Proposed { item: String },
    /// The item's conditions do not hold for the household (`why` names the one missing).
    #[error("{why}，不能转介")]
    NotFitting { why: String },
    #[error("本户没有“{item}”回应的{needs}需求，不能转介")]
    NoNeed { item: String, needs: String },
    /// 就高不就低: the better item of the need is proposed but not yet sent.
    #[error("同属{}需求，请先转介“{better}”（就高不就低）；转介后仍有困难的，再以补充帮扶转介“{item}”", .need.label())]
    BetterFirst {
        need: Need,
        better: String,
        item: String,
    },
}

fn given_word(delivered: &bool) -> &'static str {
    if *delivered {
        "发放"
    } else {
        "转介、正在办理"
    }
}

impl SupplementRefusal {
    /// The field of the request the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            SupplementRefusal::ReasonMissing => "supplementary_reason",
            _ => "item_code",
        }
    }
}

/// 补充帮扶: the item `item_code` as a supplement for the household, or why not.
///
/// Allowed when the item fits the household and answers a need that another item already
/// answers in its period (sent or given, not itself a supplement), the item was not sent or
/// given in its own period, and `reason` says why the household needs more. The proposal's
/// reason names the item that answers the need; the caller keeps `reason` beside it.
pub fn supplement(
    catalogue: &AssistCatalogue,
    situation: &Situation<'_>,
    given: &[Given],
    snapshot: &Snapshot,
    item_code: &str,
    reason: &str,
) -> Result<Proposal, SupplementRefusal> {
    if reason.trim().is_empty() {
        return Err(SupplementRefusal::ReasonMissing);
    }
    let item = catalogue
        .item(item_code)
        .ok_or_else(|| SupplementRefusal::UnknownItem {
            code: item_code.to_owned(),
        })?;
    let period = item.period.key(situation.as_of);
    if let Some(g) = given
        .iter()
        .find(|g| g.item_code == item.code && g.period == period)
    {
        return Err(SupplementRefusal::AlreadyGiven {
            item: item.name.clone(),
            period_label: period.label(),
            referral_id: g.referral_id,
            delivered: g.delivered,
        });
    }
    let proposals = propose(catalogue, situation, given, snapshot);
    if proposals.proposal(&item.code).is_some() {
        return Err(SupplementRefusal::Proposed {
            item: item.name.clone(),
        });
    }
    if let Some(found) = proposals.supplement(&item.code) {
        return Ok(found.proposal.clone());
    }
    fits(item, situation, &signals(situation))
        .map_err(|why| SupplementRefusal::NotFitting { why })?;
    if !proposals.needs.iter().any(|n| item.answers(n.need)) {
        return Err(SupplementRefusal::NoNeed {
            item: item.name.clone(),
            needs: item.needs_label(),
        });
    }
    // The item fits and answers a need whose better item is proposed, not yet sent.
    let better = proposals
        .passed_over
        .iter()
        .filter(|p| p.item_code == item.code)
        .find_map(|p| {
            proposals
                .proposed
                .iter()
                .find(|proposal| proposal.needs.contains(&p.need))
                .map(|proposal| (p.need, proposal.item_name.clone()))
        });
    match better {
        Some((need, better)) => Err(SupplementRefusal::BetterFirst {
            need,
            better,
            item: item.name.clone(),
        }),
        None => Err(SupplementRefusal::NotFitting {
            why: format!("“{}”不在本户可补充的救助项目中", item.name),
        }),
    }
}
