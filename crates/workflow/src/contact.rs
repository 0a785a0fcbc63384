//! 主动发现 (W4) as a machine: who records a visit (走访) or a hotline ticket (热线), what a
//! contact must carry, and what its outcome opens — nothing, a warning that enters the loop of
//! `warning`, or an application case. Checked in this order, as `machine` checks cases: the
//! role may record on the channel (`check_actor`), the entry (`check_entry`: date, findings),
//! then, once the shell knows whether the household is registered, the place and the person
//! (`place`, `person_name`) and the outcome (`opens`).
//!
//! No IO: the shell (`app::contacts`) loads the household, asks, writes and audits.

use crate::case::{CaseKind, Channel};
use crate::warning::WarningState;
use chrono::NaiveDate;
use domain::{HouseholdNo, PlaceCode, PlaceLevel, Role};
use policy::Param;

pub use domain::states::{ContactChannel, ContactOutcome, WarningRule};

/// Why a contact was not recorded. `field()` names the input it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactRefusal {
    /// W4: visits are the village's and town's, tickets the town's and district's.
    #[error("“{}”无权记录{}", role.label(), channel.label())]
    WrongRole { role: Role, channel: ContactChannel },
    #[error("日期不能晚于今天")]
    DateInFuture,
    #[error("请填写走访或来电情况")]
    FindingsMissing,
    #[error("新发现人员请选择所在村（社区）")]
    AreaMissing,
    #[error("所在村（社区）须在您的管辖范围内")]
    AreaOutsideScope,
    #[error("请填写姓名")]
    NameMissing,
    #[error("新发现人员受理申请须填写新户编号")]
    NewHouseholdMissing,
}

impl ContactRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ContactRefusal::WrongRole { .. } => "wrong_role",
            ContactRefusal::DateInFuture => "date_in_future",
            ContactRefusal::FindingsMissing => "findings_missing",
            ContactRefusal::AreaMissing => "area_missing",
            ContactRefusal::AreaOutsideScope => "area_outside_scope",
            ContactRefusal::NameMissing => "name_missing",
            ContactRefusal::NewHouseholdMissing => "new_household_missing",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            ContactRefusal::WrongRole { .. } => None,
            ContactRefusal::DateInFuture => Some("on_date"),
            ContactRefusal::FindingsMissing => Some("findings"),
            ContactRefusal::AreaMissing | ContactRefusal::AreaOutsideScope => Some("area"),
            ContactRefusal::NameMissing => Some("person_name"),
            ContactRefusal::NewHouseholdMissing => Some("new_household_id"),
        }
    }

    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// The roles that record on a channel.
pub fn roles(channel: ContactChannel) -> &'static [Role] {
    match channel {
        ContactChannel::Visit => &[Role::GridWorker, Role::VillageAssistant, Role::TownReviewer],
        ContactChannel::Hotline => &[
            Role::TownReviewer,
            Role::DistrictCivilAffairs,
            Role::DistrictAgriculture,
        ],
    }
}

pub fn check_actor(channel: ContactChannel, role: Role) -> Result<(), ContactRefusal> {
    if roles(channel).contains(&role) {
        Ok(())
    } else {
        Err(ContactRefusal::WrongRole { role, channel })
    }
}

/// The channels a role records on (what the 走访/热线 page offers).
pub fn offered(role: Role) -> Vec<ContactChannel> {
    ContactChannel::ALL
        .iter()
        .copied()
        .filter(|&channel| check_actor(channel, role).is_ok())
        .collect()
}

/// The entry itself: a date not after today, findings written.
pub fn check_entry(
    on_date: NaiveDate,
    today: NaiveDate,
    findings: &str,
) -> Result<(), ContactRefusal> {
    if on_date > today {
        return Err(ContactRefusal::DateInFuture);
    }
    if findings.trim().is_empty() {
        return Err(ContactRefusal::FindingsMissing);
    }
    Ok(())
}

/// The contact's place: a registered household's own area wins; a new person's village is
/// chosen and must be a village or grid the actor covers (`covers`).
pub fn place(
    household_area: Option<&PlaceCode>,
    chosen: Option<&PlaceCode>,
    covers: impl Fn(&PlaceCode) -> bool,
) -> Result<PlaceCode, ContactRefusal> {
    match (household_area, chosen) {
        (Some(area), _) => Ok(area.clone()),
        (None, Some(area)) => {
            if !matches!(area.level(), PlaceLevel::Village | PlaceLevel::Grid) || !covers(area) {
                return Err(ContactRefusal::AreaOutsideScope);
            }
            Ok(area.clone())
        }
        (None, None) => Err(ContactRefusal::AreaMissing),
    }
}

/// The person's name: as entered, or the registered household's head when left empty.
pub fn person_name(head_name: Option<&str>, entered: &str) -> Result<String, ContactRefusal> {
    match (head_name, entered.trim()) {
        (Some(head), "") => Ok(head.to_owned()),
        (None, "") => Err(ContactRefusal::NameMissing),
        (_, name) => Ok(name.to_owned()),
    }
}

/// What an outcome opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opens {
    Nothing,
    /// A warning of `rule` (its kind and severity the rule's) in `state`, due within `limit`
    /// (the loop's first step).
    Warning {
        rule: WarningRule,
        state: WarningState,
        limit: Param,
    },
    /// An application case for the household `household_no` (户编号), on `channel`.
    Case {
        kind: CaseKind,
        channel: Channel,
        household_no: HouseholdNo,
    },
}

/// The rule a contact's warning is raised under.
pub fn warning_rule(channel: ContactChannel) -> WarningRule {
    match channel {
        ContactChannel::Visit => WarningRule::VisitReport,
        ContactChannel::Hotline => WarningRule::HotlineReport,
    }
}

/// What recording a contact with `outcome` opens. `registered` is the household's 户编号 when
/// it is registered; a new person's application needs `new_household_id`, a 户编号 as entered
/// (one that is not a 户编号 is missing).
pub fn opens(
    channel: ContactChannel,
    outcome: ContactOutcome,
    registered: Option<&HouseholdNo>,
    new_household_id: Option<&str>,
) -> Result<Opens, ContactRefusal> {
    Ok(match outcome {
        ContactOutcome::Recorded => Opens::Nothing,
        ContactOutcome::Warning => Opens::Warning {
            rule: warning_rule(channel),
            state: WarningState::Open,
            limit: Param::WarningAssignWorkingDays,
        },
        ContactOutcome::Application => {
            let household_no = match (registered, new_household_id.map(HouseholdNo::parse)) {
                (Some(household_no), _) => household_no.clone(),
                (None, Some(Ok(new_no))) => new_no,
                _ => return Err(ContactRefusal::NewHouseholdMissing),
            };
            Opens::Case {
                kind: CaseKind::Application,
                channel: match channel {
                    ContactChannel::Visit => Channel::GridWorker,
                    ContactChannel::Hotline => Channel::Hotline,
                },
                household_no,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Who records on which channel, as one table.
    #[test]
    fn channels_by_role() {
        let table: Vec<String> = Role::ALL
            .iter()
            .map(|&role| {
                let channels: Vec<&str> = offered(role).iter().map(|c| c.code()).collect();
                format!("{}: {}", role.code(), channels.join(","))
            })
            .collect();
        assert_eq!(
            table.join("\n"),
            "\
district_civil_affairs: hotline
district_agriculture: hotline
town_reviewer: visit,hotline
village_assistant: visit
grid_worker: visit
department: 
auditor: 
admin: "
        );
        assert_eq!(
            check_actor(ContactChannel::Visit, Role::Department),
            Err(ContactRefusal::WrongRole {
                role: Role::Department,
                channel: ContactChannel::Visit
            })
        );
    }

    /// `input`: "channel outcome registered|new [new_id]"; `expect`: what it opens or the
    /// refusal's code and field.
    fn check(input: &str, expect: &str) {
        let words: Vec<&str> = input.split_whitespace().collect();
        let channel = ContactChannel::from_code(words[0]).unwrap_or(ContactChannel::Visit);
        let outcome = ContactOutcome::from_code(words[1]).unwrap_or(ContactOutcome::Recorded);
        let registered_no = HouseholdNo::parse("H001").unwrap_or_else(|e| panic!("{e}"));
        let registered = (words[2] == "registered").then_some(&registered_no);
        let got = match opens(channel, outcome, registered, words.get(3).copied()) {
            Ok(Opens::Nothing) => "nothing".to_owned(),
            Ok(Opens::Warning {
                rule, state, limit, ..
            }) => format!("warning {rule} {} {}", state.code(), limit.name()),
            Ok(Opens::Case {
                kind,
                channel,
                household_no,
            }) => format!("case {} {} {household_no}", kind.code(), channel.code()),
            Err(refusal) => format!(
                "refused {} {}",
                refusal.code(),
                refusal.field().unwrap_or("-")
            ),
        };
        assert_eq!(got, expect, "{input}");
    }

    #[test]
    fn outcomes() {
        for (input, expect) in [
            ("visit recorded new", "nothing"),
            (
                "visit warning registered",
                "warning visit_report open warning.assign_working_days",
            ),
            (
                "hotline warning new",
                "warning hotline_report open warning.assign_working_days",
            ),
            (
                "visit application registered",
                "case application grid_worker H001",
            ),
            (
                "hotline application new H777",
                "case application hotline H777",
            ),
            (
                "hotline application new",
                "refused new_household_missing new_household_id",
            ),
        ] {
            check(input, expect);
        }
    }

    #[test]
    fn entry_place_and_person() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default();
        let code = |text: &str| PlaceCode::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            check_entry(day(3), day(2), "x"),
            Err(ContactRefusal::DateInFuture)
        );
        assert_eq!(
            check_entry(day(2), day(2), "  "),
            Err(ContactRefusal::FindingsMissing)
        );
        assert_eq!(check_entry(day(1), day(2), "家中无人"), Ok(()));
        let village = code("500151001001");
        let town = code("500151001");
        let all = |_: &PlaceCode| true;
        let none = |_: &PlaceCode| false;
        assert_eq!(
            place(Some(&village), Some(&town), none),
            Ok(village.clone())
        );
        assert_eq!(place(None, None, all), Err(ContactRefusal::AreaMissing));
        assert_eq!(
            place(None, Some(&town), all),
            Err(ContactRefusal::AreaOutsideScope)
        );
        assert_eq!(
            place(None, Some(&village), none),
            Err(ContactRefusal::AreaOutsideScope)
        );
        assert_eq!(place(None, Some(&village), all), Ok(village));
        assert_eq!(person_name(Some("王五"), " "), Ok("王五".to_owned()));
        assert_eq!(person_name(None, ""), Err(ContactRefusal::NameMissing));
        assert_eq!(person_name(Some("王五"), "赵六"), Ok("赵六".to_owned()));
    }
}
