//! The system actors: who acts on a case when no user does — the comparison run at 信息比对
//! and the online applicant at intake. Their user ids belong to no account, and timelines and
//! the audit log name them.

use crate::Actor;
use domain::{PlaceCode, PlaceLevel, Role};

/// The user id the comparison run acts under: no account has it (ids start at 1).
pub(crate) const COMPARISON_USER_ID: i64 = 0;

/// How timelines name the comparison run.
pub(crate) const COMPARISON_NAME: &str = "信息比对（系统）";

/// The comparison run acting on a case at 信息比对: P3 is the town's step, so the run records
/// its 疑点 as the town's comparison (`COMPARISON_USER_ID`, named in the audit log).
pub(crate) fn comparison_actor(case_area: &PlaceCode) -> Actor {
    Actor {
        user_id: COMPARISON_USER_ID,
        username: "system:comparison".to_owned(),
        display_name: COMPARISON_NAME.to_owned(),
        role: Role::TownReviewer,
        area: case_area
            .at_level(PlaceLevel::Town)
            .unwrap_or_else(|| case_area.clone()),
    }
}

/// The user id the online applicant acts under: no account has it (ids start at 1, and 0 is
/// the comparison run).
pub(crate) const ONLINE_APPLICANT_USER_ID: i64 = -1;

/// How timelines name the online applicant.
pub(crate) const ONLINE_APPLICANT_NAME: &str = "线上申请（申请人本人）";

/// The online applicant standing at `village`'s intake.
pub(crate) fn online_actor(village: &PlaceCode) -> Actor {
    Actor {
        user_id: ONLINE_APPLICANT_USER_ID,
        username: "online:applicant".to_owned(),
        display_name: ONLINE_APPLICANT_NAME.to_owned(),
        role: Role::VillageAssistant,
        area: village.clone(),
    }
}
