//! Issue 16, item 7: property tests of the household interchange parser (both the owned and
//! the borrowed path): never a panic, valid households round-trip, invalid ones are refused
//! naming the field.

use crate::interchange::{HouseholdRecord, parse_household_bytes, parse_household_line};
use crate::national_id::check_char;
use proptest::prelude::*;

fn id(seq: u32, days: i64) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + chrono::Duration::days(days);
    let first17 = format!("500224{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    format!("{first17}{}", check_char(first17.as_bytes()))
}

/// A valid household line: `n` members (the first the head), names and money as given.
fn valid_line(n: usize, days: i64, names: &[String], wages_fen: i64, assets_fen: i64) -> String {
    let members: Vec<serde_json::Value> = (0..n)
        .map(|idx| {
            serde_json::json!({
                "id_number": id(idx as u32, days + idx as i64 * 400),
                "name": names[idx % names.len()],
                "relation": if idx == 0 { "head" } else { "sibling" },
            })
        })
        .collect();
    serde_json::json!({
        "id": "P1",
        "area_code": "500151102201",
        "members": members,
        "income_12m": { "wages": wages_fen as f64 / 100.0 },
        "property": { "financial_assets": assets_fen as f64 / 100.0 },
    })
    .to_string()
}

proptest! {
    #[test]
    fn prop_household_parsers_never_panic_and_agree(line in "\\PC{0,200}|[\\x00-\\x7f]{0,200}") {
        let owned = parse_household_line(&line);
        let borrowed = parse_household_bytes(line.as_bytes());
        prop_assert_eq!(owned.is_ok(), borrowed.is_ok());
        if let Err(message) = owned {
            prop_assert!(!message.contains('\u{0}'), "{}", message);
        }
    }

    #[test]
    fn prop_household_json_with_noise_never_panics(
        cut in 0usize..400,
        noise in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let line = valid_line(2, 9000, &["张三".to_owned()], 120_050, 0);
        let mut bytes = line.as_bytes()[..cut.min(line.len())].to_vec();
        bytes.extend(noise);
        let _ = parse_household_bytes(&bytes);
    }

    #[test]
    fn prop_valid_households_round_trip(
        n in 1usize..5,
        days in 0i64..25_000,
        names in proptest::collection::vec("[\\u{4e00}-\\u{9fa5}]{1,6}", 1..4),
        wages_fen in 0i64..100_000_000,
        assets_fen in 0i64..100_000_000,
    ) {
        let line = valid_line(n, days, &names, wages_fen, assets_fen);
        let household = parse_household_line(&line).unwrap();
        prop_assert_eq!(household.members.len(), n);
        prop_assert_eq!(household.income_12m.wages.fen(), wages_fen);
        let again = serde_json::to_string(&HouseholdRecord::from(&household)).unwrap();
        prop_assert_eq!(parse_household_line(&again).unwrap(), household);
    }

    #[test]
    fn prop_a_control_character_in_a_name_is_refused_naming_the_member(
        n in 1usize..4,
        which in 0usize..4,
        control in prop_oneof![0u32..9, 11u32..13, 14u32..32, 127u32..160],
    ) {
        let which = which % n;
        let mut record: serde_json::Value =
            serde_json::from_str(&valid_line(n, 12_000, &["李四".to_owned()], 0, 0)).unwrap();
        let bad = format!("李{}四", char::from_u32(control).unwrap());
        record["members"][which]["name"] = serde_json::Value::from(bad);
        let message = parse_household_line(&record.to_string()).unwrap_err();
        let expected = format!("members[{which}].name: ");
        prop_assert!(message.starts_with(&expected), "{}", message);
    }

    #[test]
    fn prop_negative_money_is_refused_naming_the_field(fen in 1i64..100_000_000) {
        let line = valid_line(1, 12_000, &["王五".to_owned()], -fen, 0);
        let message = parse_household_line(&line).unwrap_err();
        prop_assert!(message.starts_with("income_12m.wages: "), "{}", message);
    }
}
