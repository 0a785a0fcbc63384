//! 转介 (A3): the states of a referral and the moves between them.
//!
//! 待受理 (sent) → 已受理 (accepted) → 已落实 (delivered); 待受理 or 已受理 → 已退回 (declined,
//! with a reason). Delivered and declined are final.

pub use domain::states::ReferralState;
use domain::vocabulary;

vocabulary!(
    /// 部门办理动作
    ReferralAction {
        Accept = "accept" / "受理",
        Deliver = "deliver" / "落实",
        Decline = "decline" / "退回",
    }
);

/// The state after `action`, or the Chinese reason it is not allowed now.
pub fn next_state(state: ReferralState, action: ReferralAction) -> Result<ReferralState, String> {
    match (state, action) {
        (ReferralState::Sent, ReferralAction::Accept) => Ok(ReferralState::Accepted),
        (ReferralState::Accepted, ReferralAction::Deliver) => Ok(ReferralState::Delivered),
        (ReferralState::Sent | ReferralState::Accepted, ReferralAction::Decline) => {
            Ok(ReferralState::Declined)
        }
        (ReferralState::Sent, ReferralAction::Deliver) => {
            Err("该转介尚未受理，请先受理再登记落实".to_owned())
        }
        (state, action) => Err(format!(
            "该转介当前为“{}”，不能{}",
            state.label(),
            action.label()
        )),
    }
}
