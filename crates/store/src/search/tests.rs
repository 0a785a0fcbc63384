use super::*;
use crate::name_index::name_grams;

#[test]
fn name_grams_are_every_part_of_one_to_three_characters_once() {
    let grams: Vec<String> = name_grams("李李华").into_iter().collect();
    assert_eq!(grams, ["华", "李", "李华", "李李", "李李华"]);
    assert_eq!(name_grams("王").len(), 1);
    assert_eq!(name_grams("欧阳娜娜").len(), 4 + 3 + 2 - 1);
    assert!(name_grams("").is_empty());
}

#[test]
fn i12_query_shapes_are_recognised_before_any_lookup() {
    let check = |query: &str, expect: QueryShape| assert_eq!(shape(query), expect, "{query}");
    check("", QueryShape::Everything);
    check("   ", QueryShape::Everything);
    check("500224195003", QueryShape::Digits("500224195003".into()));
    check(" 500151100 ", QueryShape::Digits("500151100".into()));
    check(
        "50022419500315031x",
        QueryShape::IdPrefix("50022419500315031X".into()),
    );
    check("tl0001", QueryShape::HouseholdNumber("TL0001".into()));
    check("WS2026", QueryShape::HouseholdNumber("WS2026".into()));
    check("张", QueryShape::Text("张".into()));
    check("张三丰", QueryShape::Text("张三丰".into()));
    check("土桥", QueryShape::Text("土桥".into()));
    check("%", QueryShape::Text("%".into()));
    check("X", QueryShape::HouseholdNumber("X".into()));
    check("T_1", QueryShape::Text("T_1".into()));
    check("bc-0001", QueryShape::HouseholdNumber("BC-0001".into()));
}

#[test]
fn like_patterns_escape_wildcards() {
    assert_eq!(like_containing("欧阳娜娜"), "%欧阳娜娜%");
    assert_eq!(like_containing("a%b_c\\"), "%a\\%b\\_c\\\\%");
}

#[test]
fn cursors_read_back_what_they_wrote_and_nothing_else() {
    for cursor in [
        SearchCursor::Place {
            area_code: domain::PlaceCode::parse("500151100201").unwrap(),
            household_id: 42,
        },
        SearchCursor::Person {
            id_number: domain::NationalId::parse("11010519491231002X").unwrap(),
        },
        SearchCursor::Household {
            external_id: domain::HouseholdNo::parse("BC-0001").unwrap(),
        },
    ] {
        assert_eq!(SearchCursor::decode(&cursor.encode()), Some(cursor));
    }
    for bad in [
        "",
        "p",
        "p5001",
        "p5001.x",
        "pab.1",
        "p5001.1",
        "p500151000000.1",
        "i",
        "i1'--",
        "i11010519491231002x",
        "i 11010519491231002X",
        "i50022419500315031X",
        "h",
        "z1",
        "h%",
    ] {
        assert_eq!(SearchCursor::decode(bad), None, "{bad}");
    }
}

#[test]
fn area_prefixes_are_narrowed_to_the_scope_and_nested_ones_dropped() {
    assert_eq!(inside("500151100", "500151").as_deref(), Some("500151100"));
    assert_eq!(inside("500151", "500151100").as_deref(), Some("500151100"));
    assert_eq!(inside("500151001", "500151100"), None);
    assert_eq!(
        outermost(vec![
            "500151100201".into(),
            "500151001".into(),
            "500151100".into()
        ]),
        ["500151001", "500151100"]
    );
}
