use crate::household::{civil_from_days, days_from_civil};
use crate::{REFERENCE_DATE, households, place_tree, write_households_jsonl};
use chrono::NaiveDate;
use domain::interchange::{HouseholdRecord, parse_household_line};
use domain::{Household, Place, PlaceLevel, Relation, parse_place_list};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

fn place_list_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/places/tongliang.csv")
}

fn places() -> Vec<Place> {
    let text = std::fs::read_to_string(place_list_path()).unwrap();
    parse_place_list(&text).unwrap()
}

fn reference_date() -> NaiveDate {
    let (year, month, day) = REFERENCE_DATE;
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// Freshness check: the committed list is what `place_tree::expand` makes of its own district
/// and town rows. Run with `UPDATE_EXPECT=1` to rewrite it after changing the generator.
#[test]
fn u1_place_list_is_fresh() {
    let committed = std::fs::read_to_string(place_list_path()).unwrap();
    let parsed = parse_place_list(&committed).unwrap();
    let (district, towns) = place_tree::district_and_towns(&parsed).unwrap();
    let expected = place_tree::expand(&district, &towns);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(place_list_path(), &expected).unwrap();
        return;
    }
    assert!(
        committed == expected,
        "data/places/tongliang.csv is stale: run the test with UPDATE_EXPECT=1"
    );
}

#[test]
fn u1_place_list_has_every_town_and_villages_200_to_215() {
    let places = places();
    assert_eq!(places[0].code.as_str(), "500151");
    assert_eq!(places[0].name, "铜梁区");
    let towns: Vec<&Place> = places
        .iter()
        .filter(|place| place.code.level() == PlaceLevel::Town)
        .collect();
    assert_eq!(towns.len(), 28);
    let town_codes: HashSet<&str> = towns.iter().map(|town| town.code.as_str()).collect();
    for code in (1..=5).chain(100..=122) {
        assert!(
            town_codes.contains(format!("500151{code:03}").as_str()),
            "town {code:03} missing"
        );
    }
    let codes: HashSet<&str> = places.iter().map(|place| place.code.as_str()).collect();
    for town in &towns {
        for village in 200..=215 {
            assert!(
                codes.contains(format!("{}{village:03}", town.code).as_str()),
                "{} {village}",
                town.name
            );
        }
        let units: Vec<&Place> = places
            .iter()
            .filter(|place| {
                place.code.level() == PlaceLevel::Village && town.code.contains(&place.code)
            })
            .collect();
        let names: HashSet<&str> = units.iter().map(|unit| unit.name.as_str()).collect();
        assert_eq!(names.len(), units.len(), "names repeat in {}", town.name);
        for unit in units {
            assert!(
                unit.name.ends_with('村') || unit.name.ends_with("社区"),
                "{}",
                unit.name
            );
            let n_grids = places
                .iter()
                .filter(|place| {
                    place.code.level() == PlaceLevel::Grid && unit.code.contains(&place.code)
                })
                .count();
            assert!(
                (2..=4).contains(&n_grids),
                "{} has {n_grids} grids",
                unit.name
            );
        }
    }
}

#[test]
fn civil_dates_round_trip() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(1900, 1, 1), -25_567);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    for days in -25_567..21_000 {
        let (year, month, day) = civil_from_days(days);
        let date = epoch + chrono::Duration::days(i64::from(days));
        assert_eq!(NaiveDate::from_ymd_opt(year, month, day), Some(date));
        assert_eq!(days_from_civil(year, month, day), days);
    }
}

#[test]
fn same_seed_same_households_and_shorter_runs_are_prefixes() {
    let places = places();
    let render = |count, seed| {
        let mut out = Vec::new();
        write_households_jsonl(&places, count, seed, &mut out).unwrap();
        out
    };
    let long = render(500, 7);
    assert_eq!(long, render(500, 7));
    assert!(long.starts_with(&render(200, 7)));
    assert_ne!(long, render(500, 8));
}

#[test]
fn no_villages_no_households() {
    let district = parse_place_list("500151,铜梁区\n500151001,巴川街道\n").unwrap();
    assert_eq!(households(&district, 10, 1).count(), 0);
}

#[test]
fn d1_every_household_converts_with_unique_ids_and_consistent_members() {
    let places = places();
    let villages: HashSet<&str> = places
        .iter()
        .filter(|place| place.code.level() == PlaceLevel::Village)
        .map(|place| place.code.as_str())
        .collect();
    let today = reference_date();
    let mut id_numbers = HashSet::new();
    let mut household_ids = HashSet::new();
    for record in households(&places, 20_000, 42) {
        let household =
            Household::try_from(&record).unwrap_or_else(|error| panic!("{}: {error}", record.id));
        assert!(household_ids.insert(record.id.clone()));
        assert!(
            record.id.len() == 9 && record.id.starts_with('H'),
            "{}",
            record.id
        );
        assert!(
            villages.contains(record.area_code.as_str()),
            "{}",
            record.area_code
        );
        assert!((1..=6).contains(&household.members.len()));
        let head = household.head().unwrap();
        let head_age = head.id_number.age_on(today);
        for person in &household.members {
            assert!(
                id_numbers.insert(person.id_number.clone()),
                "{} repeats",
                person.id_number
            );
            assert!(person.id_number.as_str().starts_with("500224"));
            let age = person.id_number.age_on(today);
            match person.relation {
                Relation::Child => assert!(age + 20 <= head_age, "child {age} of {head_age}"),
                Relation::Grandchild => {
                    assert!(age + 36 <= head_age, "grandchild {age} of {head_age}")
                }
                Relation::Parent => assert!(age >= head_age + 18, "parent {age} of {head_age}"),
                _ => {}
            }
            if person.relation == Relation::Spouse {
                assert_ne!(person.id_number.sex(), head.id_number.sex());
            }
            let surname = person.name.chars().next().unwrap();
            if matches!(person.relation, Relation::Child | Relation::Grandchild) {
                assert_eq!(Some(surname), head.name.chars().next());
            }
            let expected_schooling = match age {
                6..=15 => Some(domain::Schooling::Compulsory),
                0..=2 | 23.. => Some(domain::Schooling::None),
                _ => None,
            };
            if let Some(schooling) = expected_schooling {
                assert_eq!(person.schooling, schooling, "age {age}");
            }
            if age < 16 {
                assert_eq!(person.labour_capacity, domain::LabourCapacity::None);
            }
        }
    }
    assert!(id_numbers.len() > 40_000);
}

/// Shares over a sample, by the policy definitions (pci_month = countable income / 12 / members).
struct Shares {
    below_standard: f64,
    edge_band: f64,
    lifted: f64,
    disabled_members: f64,
    ill_members: f64,
    living_alone: f64,
    with_risk: f64,
    with_gap: f64,
    sizes: [usize; 7],
}

fn shares(records: &[HouseholdRecord]) -> Shares {
    let mut below = 0;
    let mut edge = 0;
    let mut lifted = 0;
    let mut n_members = 0;
    let mut disabled = 0;
    let mut ill = 0;
    let mut with_risk = 0;
    let mut with_gap = 0;
    let mut sizes = [0; 7];
    for record in records {
        let household = Household::try_from(record).unwrap();
        let standard = match household.hukou {
            domain::Hukou::Rural => 630.0,
            domain::Hukou::Urban => 770.0,
        };
        let members = household.members.len();
        let pci_month = household.income_12m.countable().to_f64() / 12.0 / members as f64;
        below += usize::from(pci_month < standard);
        edge += usize::from(pci_month >= standard && pci_month < 1.5 * standard);
        lifted += usize::from(household.lifted_from_poverty);
        n_members += members;
        disabled += household
            .members
            .iter()
            .filter(|person| person.disability.is_some())
            .count();
        ill += household
            .members
            .iter()
            .filter(|person| person.serious_illness)
            .count();
        with_risk += usize::from(!household.risks.is_empty());
        with_gap += usize::from(!household.guarantees.all_secured());
        sizes[members] += 1;
    }
    let n_households = records.len() as f64;
    Shares {
        below_standard: below as f64 / n_households,
        edge_band: edge as f64 / n_households,
        lifted: lifted as f64 / n_households,
        disabled_members: disabled as f64 / n_members as f64,
        ill_members: ill as f64 / n_members as f64,
        living_alone: sizes[1] as f64 / n_households,
        with_risk: with_risk as f64 / n_households,
        with_gap: with_gap as f64 / n_households,
        sizes,
    }
}

#[test]
fn distribution_is_plausible() {
    let places = places();
    let records: Vec<HouseholdRecord> = households(&places, 20_000, 2026).collect();
    let shares = shares(&records);
    println!(
        "below {:.3} edge {:.3} lifted {:.3} disabled {:.3} ill {:.3} alone {:.3} risk {:.3} gap {:.3} sizes {:?}",
        shares.below_standard,
        shares.edge_band,
        shares.lifted,
        shares.disabled_members,
        shares.ill_members,
        shares.living_alone,
        shares.with_risk,
        shares.with_gap,
        shares.sizes
    );
    let within = |value: f64, low: f64, high: f64| (low..=high).contains(&value);
    assert!(
        within(shares.below_standard, 0.05, 0.10),
        "below {}",
        shares.below_standard
    );
    assert!(
        within(shares.edge_band, 0.03, 0.12),
        "edge {}",
        shares.edge_band
    );
    assert!(
        within(shares.lifted, 0.07, 0.13),
        "lifted {}",
        shares.lifted
    );
    assert!(
        within(shares.disabled_members, 0.04, 0.08),
        "disabled {}",
        shares.disabled_members
    );
    assert!(
        within(shares.ill_members, 0.025, 0.055),
        "ill {}",
        shares.ill_members
    );
    assert!(
        within(shares.living_alone, 0.12, 0.25),
        "alone {}",
        shares.living_alone
    );
    assert!(
        within(shares.with_risk, 0.03, 0.15),
        "risk {}",
        shares.with_risk
    );
    assert!(
        within(shares.with_gap, 0.005, 0.06),
        "gap {}",
        shares.with_gap
    );
    assert!(shares.sizes[6] > 0 && shares.sizes[0] == 0);
}

#[test]
fn jsonl_lines_parse_back() {
    let places = places();
    let mut out = Vec::new();
    write_households_jsonl(&places, 300, 3, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 300);
    let expected: Vec<HouseholdRecord> = households(&places, 300, 3).collect();
    for (line, record) in lines.iter().zip(&expected) {
        let household = parse_household_line(line).unwrap();
        assert_eq!(household, Household::try_from(record).unwrap());
    }
}

#[test]
fn supporters_are_recorded_for_elderly_households_and_left_behind_children() {
    let places = places();
    let mut by_kind: HashMap<&str, (usize, usize)> = HashMap::new();
    for record in households(&places, 5_000, 11) {
        let household = Household::try_from(&record).unwrap();
        let today = reference_date();
        let elderly_only = household
            .members
            .iter()
            .all(|person| person.id_number.age_on(today) >= 60);
        for person in &household.members {
            let kind = match person.relation {
                Relation::Head if elderly_only => "elderly head",
                Relation::Grandchild => "grandchild",
                _ => continue,
            };
            let entry = by_kind.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += usize::from(!person.supporters.is_empty());
            if kind == "grandchild" {
                assert!(
                    person
                        .supporters
                        .iter()
                        .all(|supporter| supporter.relation == Relation::Parent)
                );
            }
        }
    }
    let (heads, heads_with) = by_kind["elderly head"];
    assert!(
        heads_with * 100 > heads * 85 && heads_with < heads,
        "{heads_with}/{heads}"
    );
    let (grandchildren, grandchildren_with) = by_kind["grandchild"];
    assert_eq!(grandchildren, grandchildren_with);
}
