//! 预警闭环 (W3) as a machine: a warning's state, the step an actor takes, and what follows —
//! the next state and the limit of the step it then waits for — or the `WarningRefusal` with
//! its code. Read like `machine` (cases): each step is checked in this order: the role may take
//! it (`check_actor`), the warning is in a state the step belongs to, then the step's own
//! conditions (texts that must be written, dates not after today, an assignee of the team, a
//! household for a case). `offered` says what each state offers to which actor.
//!
//! No IO: the shell (`app::warnings`) loads the warning, asks `apply`, writes and audits.

use crate::case::{CaseKind, Consent};
use chrono::NaiveDate;
use domain::{PlaceCode, PlaceLevel, Role};
use policy::Param;

pub use domain::states::{Disposition, Judgement, WarningAction, WarningState};

/// Roles that may be sent to verify (the town team).
pub const TEAM_ROLES: [Role; 3] = [Role::TownReviewer, Role::VillageAssistant, Role::GridWorker];

/// 处置 as the town records it.
#[derive(Clone, Debug)]
pub enum Disposal {
    /// Opens an application, re-check or exit case (`app::cases::open_case`, channel 监测预警).
    OpenCase {
        kind: CaseKind,
        applicant: String,
        consent: Option<Consent>,
        /// 户编号 for a person outside the registry (a registered household's own otherwise).
        household_id: Option<String>,
        /// The village of a person outside the registry.
        area: Option<PlaceCode>,
        summary: String,
    },
    Adjust {
        note: String,
    },
    NoAction {
        reason: String,
    },
}

impl Disposal {
    pub fn disposition(&self) -> Disposition {
        match self {
            Disposal::OpenCase { .. } => Disposition::OpenCase,
            Disposal::Adjust { .. } => Disposition::Adjust,
            Disposal::NoAction { .. } => Disposition::NoAction,
        }
    }
}

/// One step of the loop, with its record.
#[derive(Clone, Debug)]
pub enum LoopAction {
    Assign {
        assignee_user_id: i64,
    },
    /// 实地核实: the visit record.
    Verify {
        visited_on: NaiveDate,
        visitors: String,
        findings: String,
    },
    Judge {
        judgement: Judgement,
        note: String,
    },
    Dispose(Disposal),
    Close {
        note: String,
    },
}

impl LoopAction {
    pub fn action(&self) -> WarningAction {
        match self {
            LoopAction::Assign { .. } => WarningAction::Assign,
            LoopAction::Verify { .. } => WarningAction::Verify,
            LoopAction::Judge { .. } => WarningAction::Judge,
            LoopAction::Dispose(_) => WarningAction::Dispose,
            LoopAction::Close { .. } => WarningAction::Close,
        }
    }

    pub fn code(&self) -> &'static str {
        self.action().code()
    }
}

/// Who acts on a warning: the role, and whether the warning is assigned to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarningActor {
    pub role: Role,
    pub is_assignee: bool,
}

/// Why a step of the loop was not taken. `code()` is stable; `field()` names the input a
/// refusal is about (the shell shows those beside the field).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WarningRefusal {
    /// W3: the step belongs to another role (the assignee verifies; the town judges).
    #[error("“{}”无权办理此事项", role.label())]
    WrongRole { role: Role },
    /// The warning is not in a state the step belongs to.
    #[error("预警当前为“{}”，不能进行“{}”", state.label(), action.label())]
    StateOutOfOrder {
        state: WarningState,
        action: WarningAction,
    },
    /// A text the step records is empty.
    #[error("请填写{label}")]
    TextMissing {
        field: &'static str,
        label: &'static str,
    },
    #[error("核实日期不能晚于今天")]
    VisitInFuture,
    #[error("请选择核实人员")]
    AssigneeUnknown,
    #[error("核实人员须为该预警所在地的工作队伍（本镇街审核人员，或本村社协理员、网格员）")]
    AssigneeOutsideTeam,
    #[error("该人员不在档案中：请填写新户编号和所在村（社区）")]
    NewHouseholdMissing,
}

impl WarningRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            WarningRefusal::WrongRole { .. } => "wrong_role",
            WarningRefusal::StateOutOfOrder { .. } => "state_out_of_order",
            WarningRefusal::TextMissing { .. } => "text_missing",
            WarningRefusal::VisitInFuture => "visit_in_future",
            WarningRefusal::AssigneeUnknown => "assignee_unknown",
            WarningRefusal::AssigneeOutsideTeam => "assignee_outside_team",
            WarningRefusal::NewHouseholdMissing => "new_household_missing",
        }
    }

    /// The input the refusal is about, when it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            WarningRefusal::WrongRole { .. } | WarningRefusal::StateOutOfOrder { .. } => None,
            WarningRefusal::TextMissing { field, .. } => Some(field),
            WarningRefusal::VisitInFuture => Some("visited_on"),
            WarningRefusal::AssigneeUnknown | WarningRefusal::AssigneeOutsideTeam => {
                Some("assignee")
            }
            WarningRefusal::NewHouseholdMissing => Some("household_id"),
        }
    }

    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// The roles that may take a step (W3: 镇街 assigns, judges, disposes and closes, the district
/// may assign; the assignee verifies — `check_actor` adds them).
pub fn roles(action: WarningAction) -> &'static [Role] {
    const TOWN: &[Role] = &[Role::TownReviewer];
    const ASSIGN: &[Role] = &[
        Role::TownReviewer,
        Role::DistrictCivilAffairs,
        Role::DistrictAgriculture,
    ];
    match action {
        WarningAction::Raise => &[],
        WarningAction::Assign => ASSIGN,
        WarningAction::Verify
        | WarningAction::Judge
        | WarningAction::Dispose
        | WarningAction::Close => TOWN,
    }
}

/// The states a step is taken from (re-assigning an assigned warning is allowed).
pub fn from_states(action: WarningAction) -> &'static [WarningState] {
    match action {
        WarningAction::Raise => &[],
        WarningAction::Assign => &[WarningState::Open, WarningState::Assigned],
        WarningAction::Verify => &[WarningState::Assigned],
        WarningAction::Judge => &[WarningState::Verified],
        WarningAction::Dispose => &[WarningState::Judged],
        WarningAction::Close => &[WarningState::Disposed],
    }
}

/// The state a step leaves a warning in (`Raise` leaves it to be assigned).
pub fn state_after(action: WarningAction) -> WarningState {
    match action {
        WarningAction::Raise => WarningState::Open,
        WarningAction::Assign => WarningState::Assigned,
        WarningAction::Verify => WarningState::Verified,
        WarningAction::Judge => WarningState::Judged,
        WarningAction::Dispose => WarningState::Disposed,
        WarningAction::Close => WarningState::Closed,
    }
}

/// The parameter limiting the step a state waits for (none once closed).
pub fn next_limit(state: WarningState) -> Option<Param> {
    match state {
        WarningState::Open => Some(Param::WarningAssignWorkingDays),
        WarningState::Assigned => Some(Param::WarningVerifyWorkingDays),
        WarningState::Verified => Some(Param::WarningJudgeWorkingDays),
        WarningState::Judged => Some(Param::WarningDisposeWorkingDays),
        WarningState::Disposed => Some(Param::WarningCloseWorkingDays),
        WarningState::Closed => None,
    }
}

/// The first check: the actor may take the step at all (before the warning's version and state).
pub fn check_actor(action: WarningAction, actor: WarningActor) -> Result<(), WarningRefusal> {
    let assignee_verifies = action == WarningAction::Verify && actor.is_assignee;
    if roles(action).contains(&actor.role) || assignee_verifies {
        Ok(())
    } else {
        Err(WarningRefusal::WrongRole { role: actor.role })
    }
}

/// The steps a warning in `state` offers to `actor`.
pub fn offered(state: WarningState, actor: WarningActor) -> Vec<WarningAction> {
    WarningAction::ALL
        .iter()
        .copied()
        .filter(|&action| {
            from_states(action).contains(&state) && check_actor(action, actor).is_ok()
        })
        .collect()
}

/// What a step does: the state it leaves the warning in and, for a disposal, how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarningTransition {
    pub action: WarningAction,
    pub next: WarningState,
    pub disposition: Option<Disposition>,
    /// The limit of the step the warning then waits for (`None` once closed).
    pub limit: Option<Param>,
}

fn require(field: &'static str, label: &'static str, text: &str) -> Result<(), WarningRefusal> {
    if text.trim().is_empty() {
        Err(WarningRefusal::TextMissing { field, label })
    } else {
        Ok(())
    }
}

/// A step on a warning in `state`: the transition, or why not. `registered` says whether the
/// warning's person belongs to a registered household (a case for one outside the registry
/// needs a new 户编号 and a village). The assignee's fit is `assignee_area`'s.
pub fn apply(
    state: WarningState,
    action: &LoopAction,
    actor: WarningActor,
    registered: bool,
    today: NaiveDate,
) -> Result<WarningTransition, WarningRefusal> {
    let step = action.action();
    check_actor(step, actor)?;
    if !from_states(step).contains(&state) {
        return Err(WarningRefusal::StateOutOfOrder {
            state,
            action: step,
        });
    }
    let mut disposition = None;
    match action {
        LoopAction::Assign { .. } | LoopAction::Close { .. } => {}
        LoopAction::Verify {
            visited_on,
            visitors,
            findings,
        } => {
            if *visited_on > today {
                return Err(WarningRefusal::VisitInFuture);
            }
            require("visitors", "核实人员", visitors)?;
            require("findings", "核实情况", findings)?;
        }
        LoopAction::Judge { note, .. } => require("note", "研判意见", note)?,
        LoopAction::Dispose(disposal) => {
            match disposal {
                Disposal::Adjust { note } => require("note", "调整内容", note)?,
                Disposal::NoAction { reason } => require("reason", "无需处置的理由", reason)?,
                Disposal::OpenCase {
                    summary,
                    household_id,
                    area,
                    ..
                } => {
                    require("summary", "处置事由", summary)?;
                    let new_household = household_id
                        .as_deref()
                        .is_some_and(|id| !id.trim().is_empty());
                    let has_household = registered || (new_household && area.is_some());
                    if !has_household {
                        return Err(WarningRefusal::NewHouseholdMissing);
                    }
                }
            }
            disposition = Some(disposal.disposition());
        }
    }
    let next = state_after(step);
    Ok(WarningTransition {
        action: step,
        next,
        disposition,
        limit: next_limit(next),
    })
}

/// Where a user works: a grid worker's scope is the grid's village (as `ActorRef::scope`).
pub fn scope_of(area: &PlaceCode) -> PlaceCode {
    area.at_level(PlaceLevel::Village)
        .filter(|_| area.level() == PlaceLevel::Grid)
        .unwrap_or_else(|| area.clone())
}

/// Whether a user of `role` at `area` belongs to the team of a warning placed at `warning_area`
/// (placed at village level: that village's or its town's team; above it — a person outside
/// the registry — anyone of the team the assigning actor covers, `actor_covers`). Answers the
/// warning's area after the assignment: a warning above town level moves to the assignee's.
pub fn assign_to(
    warning_area: &PlaceCode,
    role: Option<Role>,
    area: &PlaceCode,
    actor_covers: bool,
) -> Result<PlaceCode, WarningRefusal> {
    let in_team = role.is_some_and(|role| TEAM_ROLES.contains(&role));
    let town = warning_area.at_level(PlaceLevel::Town);
    let fits = match &town {
        Some(_) => scope_of(area).contains(warning_area),
        None => actor_covers,
    };
    if !in_team || !fits {
        return Err(WarningRefusal::AssigneeOutsideTeam);
    }
    Ok(match town {
        Some(_) => warning_area.clone(),
        None => scope_of(area),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default()
    }

    fn action(code: &str) -> LoopAction {
        let text = |s: &str| s.to_owned();
        match code {
            "assign" => LoopAction::Assign {
                assignee_user_id: 7,
            },
            "verify" => LoopAction::Verify {
                visited_on: today(),
                visitors: text("张三"),
                findings: text("属实"),
            },
            "verify_future" => LoopAction::Verify {
                visited_on: today().succ_opt().unwrap_or_default(),
                visitors: text("张三"),
                findings: text("属实"),
            },
            "verify_blank" => LoopAction::Verify {
                visited_on: today(),
                visitors: text(" "),
                findings: text("属实"),
            },
            "judge" => LoopAction::Judge {
                judgement: Judgement::Confirmed,
                note: text("属实"),
            },
            "judge_blank" => LoopAction::Judge {
                judgement: Judgement::Partly,
                note: text(""),
            },
            "adjust" => LoopAction::Dispose(Disposal::Adjust {
                note: text("调整")
            }),
            "no_action" => LoopAction::Dispose(Disposal::NoAction { reason: text("") }),
            "open_case" => LoopAction::Dispose(Disposal::OpenCase {
                kind: CaseKind::Recheck,
                applicant: text("李四"),
                consent: None,
                household_id: None,
                area: None,
                summary: text("复核"),
            }),
            "close" => LoopAction::Close { note: text("") },
            other => panic!("no action {other}"),
        }
    }

    /// `input`: "state action role [assignee] [unregistered]"; `expect`: the next state and the
    /// disposition, or `refused <code> [field]`.
    fn check(input: &str, expect: &str) {
        let words: Vec<&str> = input.split_whitespace().collect();
        let state = WarningState::from_code(words[0]).unwrap_or_else(|| panic!("{input}"));
        let role = Role::from_code(words[2]).unwrap_or_else(|| panic!("{input}"));
        let actor = WarningActor {
            role,
            is_assignee: words.contains(&"assignee"),
        };
        let registered = !words.contains(&"unregistered");
        let got = match apply(state, &action(words[1]), actor, registered, today()) {
            Ok(t) => {
                let limit = t.limit.map_or("-", Param::name);
                match t.disposition {
                    Some(d) => format!("{} {} {limit}", t.next.code(), d.code()),
                    None => format!("{} {limit}", t.next.code()),
                }
            }
            Err(refusal) => match refusal.field() {
                Some(field) => format!("refused {} {field}", refusal.code()),
                None => format!("refused {}", refusal.code()),
            },
        };
        assert_eq!(got, expect, "{input}");
    }

    #[test]
    fn transitions() {
        for (input, expect) in [
            (
                "open assign town_reviewer",
                "assigned warning.verify_working_days",
            ),
            (
                "open assign district_civil_affairs",
                "assigned warning.verify_working_days",
            ),
            (
                "assigned assign district_agriculture",
                "assigned warning.verify_working_days",
            ),
            ("open assign village_assistant", "refused wrong_role"),
            ("open assign department", "refused wrong_role"),
            (
                "assigned verify grid_worker assignee",
                "verified warning.judge_working_days",
            ),
            (
                "assigned verify town_reviewer",
                "verified warning.judge_working_days",
            ),
            ("assigned verify grid_worker", "refused wrong_role"),
            ("open verify town_reviewer", "refused state_out_of_order"),
            (
                "assigned verify_future town_reviewer",
                "refused visit_in_future visited_on",
            ),
            (
                "assigned verify_blank town_reviewer",
                "refused text_missing visitors",
            ),
            (
                "verified judge town_reviewer",
                "judged warning.dispose_working_days",
            ),
            (
                "verified judge_blank town_reviewer",
                "refused text_missing note",
            ),
            ("verified judge grid_worker assignee", "refused wrong_role"),
            (
                "judged adjust town_reviewer",
                "disposed adjust warning.close_working_days",
            ),
            (
                "judged no_action town_reviewer",
                "refused text_missing reason",
            ),
            (
                "judged open_case town_reviewer",
                "disposed open_case warning.close_working_days",
            ),
            (
                "judged open_case town_reviewer unregistered",
                "refused new_household_missing household_id",
            ),
            (
                "verified adjust town_reviewer",
                "refused state_out_of_order",
            ),
            ("disposed close town_reviewer", "closed -"),
            ("closed close town_reviewer", "refused state_out_of_order"),
            (
                "disposed close district_civil_affairs",
                "refused wrong_role",
            ),
        ] {
            check(input, expect);
        }
    }

    /// What each state offers to which role, as one table (`*`: the warning's assignee).
    #[test]
    fn offered_by_state_and_role() {
        let mut table = String::new();
        for &state in WarningState::ALL {
            for &role in Role::ALL {
                for is_assignee in [false, true] {
                    let actions = offered(state, WarningActor { role, is_assignee });
                    if actions.is_empty() {
                        continue;
                    }
                    let names: Vec<&str> = actions.iter().map(|a| a.code()).collect();
                    let star = if is_assignee { "*" } else { "" };
                    table.push_str(&format!(
                        "{} {}{star}: {}\n",
                        state.code(),
                        role.code(),
                        names.join(",")
                    ));
                }
            }
        }
        let expect = "\
open district_civil_affairs: assign
open district_civil_affairs*: assign
open district_agriculture: assign
open district_agriculture*: assign
open town_reviewer: assign
open town_reviewer*: assign
assigned district_civil_affairs: assign
assigned district_civil_affairs*: assign,verify
assigned district_agriculture: assign
assigned district_agriculture*: assign,verify
assigned town_reviewer: assign,verify
assigned town_reviewer*: assign,verify
assigned village_assistant*: verify
assigned grid_worker*: verify
assigned department*: verify
assigned auditor*: verify
assigned admin*: verify
verified town_reviewer: judge
verified town_reviewer*: judge
judged town_reviewer: dispose
judged town_reviewer*: dispose
disposed town_reviewer: close
disposed town_reviewer*: close
";
        assert_eq!(table, expect);
    }

    #[test]
    fn assignee_must_be_of_the_warnings_team() {
        let code = |text: &str| PlaceCode::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let village = code("500151001001");
        let grid = code("500151001001001");
        let other_village = code("500151001002");
        let town = code("500151001");
        let district = code("500151");
        let team = |role: Role, area: &PlaceCode, warning: &PlaceCode, covers: bool| {
            assign_to(warning, Some(role), area, covers).map(|area| area.as_str().to_owned())
        };
        assert_eq!(
            team(Role::GridWorker, &grid, &village, false),
            Ok(village.as_str().to_owned())
        );
        assert_eq!(
            team(Role::TownReviewer, &town, &village, false),
            Ok(village.as_str().to_owned())
        );
        assert_eq!(
            team(Role::VillageAssistant, &other_village, &village, true),
            Err(WarningRefusal::AssigneeOutsideTeam)
        );
        assert_eq!(
            team(Role::DistrictCivilAffairs, &district, &village, true),
            Err(WarningRefusal::AssigneeOutsideTeam)
        );
        // A warning above town level moves to the assignee's village.
        assert_eq!(
            team(Role::GridWorker, &grid, &district, true),
            Ok(village.as_str().to_owned())
        );
        assert_eq!(
            team(Role::GridWorker, &grid, &district, false),
            Err(WarningRefusal::AssigneeOutsideTeam)
        );
    }
}
