//! Golden proposal cases (`tests/golden/cases.toml`): a household, its categories and what was
//! already given, and the items proposed, covered, passed over and the unmet needs expected.
//! ID numbers in the cases are written with 17 digits; the check character is added here.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use assist::{AssistCatalogue, Given, Situation, propose};
use domain::interchange::HouseholdRecord;
use domain::{Category, Household, MonitoringKind};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    as_of: toml::value::Datetime,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    monitoring: Option<String>,
    #[serde(default)]
    given: Vec<GivenCase>,
    household: String,
    proposed: Vec<String>,
    #[serde(default)]
    covered: Vec<String>,
    #[serde(default)]
    passed_over: Vec<String>,
    #[serde(default)]
    unmet: Vec<String>,
    /// 补充帮扶 offered, by item.
    #[serde(default)]
    supplements: Vec<String>,
    /// Words each proposal's reason must contain, as `item: word`.
    #[serde(default)]
    reasons: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GivenCase {
    item: String,
    period: String,
    delivered: bool,
    #[serde(default)]
    supplementary: bool,
}

fn household_of(json: &str) -> Household {
    let mut record: HouseholdRecord = serde_json::from_str(json).unwrap();
    for member in &mut record.members {
        if member.id_number.len() == 17 {
            let check = domain::national_id::check_char(member.id_number.as_bytes());
            member.id_number.push(check);
        }
    }
    Household::try_from(&record).unwrap()
}

#[test]
fn golden_proposals() {
    let cases: Cases = toml::from_str(include_str!("golden/cases.toml")).unwrap();
    let catalogue = AssistCatalogue::builtin().unwrap();
    let policy = policy::Catalogue::builtin().unwrap();
    assert!(cases.case.len() >= 6);
    for case in &cases.case {
        let as_of = chrono::NaiveDate::parse_from_str(&case.as_of.to_string(), "%Y-%m-%d").unwrap();
        let household = household_of(&case.household);
        let situation = Situation {
            household: &household,
            categories: case
                .categories
                .iter()
                .map(|c| Category::from_code(c).unwrap())
                .collect(),
            monitoring: case
                .monitoring
                .as_deref()
                .map(|m| MonitoringKind::from_code(m).unwrap()),
            as_of,
            pending: false,
        };
        let given: Vec<Given> = case
            .given
            .iter()
            .enumerate()
            .map(|(i, g)| Given {
                referral_id: i as i64 + 1,
                item_code: g.item.clone(),
                period: domain::GivenPeriod::parse(&g.period).unwrap(),
                delivered: g.delivered,
                supplementary: g.supplementary,
            })
            .collect();
        let result = propose(&catalogue, &situation, &given, &policy.snapshot(as_of));
        let codes = |items: Vec<&str>| items.into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            codes(
                result
                    .proposed
                    .iter()
                    .map(|p| p.item_code.as_str())
                    .collect()
            ),
            case.proposed,
            "{}: proposed",
            case.name
        );
        assert_eq!(
            codes(
                result
                    .covered
                    .iter()
                    .map(|c| c.item_code.as_str())
                    .collect()
            ),
            case.covered,
            "{}: covered",
            case.name
        );
        assert_eq!(
            codes(
                result
                    .passed_over
                    .iter()
                    .map(|p| p.item_code.as_str())
                    .collect()
            ),
            case.passed_over,
            "{}: passed over",
            case.name
        );
        assert_eq!(
            codes(result.unmet.iter().map(|u| u.need.code()).collect()),
            case.unmet,
            "{}: unmet",
            case.name
        );
        assert_eq!(
            codes(
                result
                    .supplements
                    .iter()
                    .map(|s| s.proposal.item_code.as_str())
                    .collect()
            ),
            case.supplements,
            "{}: supplements",
            case.name
        );
        for expectation in &case.reasons {
            let (item, word) = expectation.split_once(": ").unwrap();
            let proposal = result
                .proposal(item)
                .unwrap_or_else(|| panic!("{}: {item} not proposed", case.name));
            assert!(
                proposal.reason.contains(word),
                "{}: {item} reason lacks “{word}”: {}",
                case.name,
                proposal.reason
            );
        }
        // Every proposal explains itself and names its department.
        for proposal in &result.proposed {
            assert!(
                proposal.reason.contains(&proposal.department_name),
                "{}: {}",
                case.name,
                proposal.reason
            );
        }
    }
}
