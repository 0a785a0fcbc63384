use crate::fastparse;
use domain::interchange::{parse_household_bytes, parse_household_line};

/// The invariant of `fastparse`: `Some` only where `domain` accepts, with the same household.
fn check(line: &str) -> bool {
    let fast = fastparse::household(line);
    if let Some(household) = &fast {
        assert_eq!(parse_household_line(line).as_ref(), Ok(household), "{line}");
    }
    fast.is_some()
}

/// A small deterministic generator (no dependency): xorshift.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

const IDS: [&str; 4] = [
    "500224194503120011",
    "500224195003150315",
    "50022419850101001X",
    "500224201609090714",
];

fn random_line(dice: &mut Dice) -> String {
    let space = if dice.below(4) == 0 { " " } else { "" };
    let mut members = Vec::new();
    let n = 1 + dice.below(4);
    for idx in 0..n {
        let mut fields = vec![
            format!(
                r#""id_number":{space}"{}""#,
                IDS[usize::try_from(idx).unwrap()]
            ),
            format!(
                r#""relation":"{}""#,
                if idx == 0 {
                    "head"
                } else {
                    dice.pick(&["child", "spouse", "parent", "other"])
                }
            ),
        ];
        if dice.below(2) == 0 {
            fields.push(format!(
                r#""name":"{}""#,
                dice.pick(&["张三", "李", " 王五 ", ""])
            ));
        }
        if dice.below(3) == 0 {
            fields.push(format!(
                r#""labour_capacity":"{}""#,
                dice.pick(&["full", "partial", "none"])
            ));
        }
        match dice.below(4) {
            0 => fields.push(r#""disability":null"#.to_owned()),
            1 => fields.push(format!(
                r#""disability":{{"kind":"{}","grade":{}}}"#,
                dice.pick(&["physical", "intellectual", "mental", "visual", "multiple"]),
                1 + dice.below(4)
            )),
            _ => {}
        }
        if dice.below(3) == 0 {
            fields.push(format!(
                r#""serious_illness":{}"#,
                dice.pick(&["true", "false"])
            ));
        }
        if dice.below(3) == 0 {
            fields.push(format!(
                r#""schooling":"{}""#,
                dice.pick(&["none", "preschool", "compulsory", "college"])
            ));
        }
        if dice.below(3) == 0 {
            fields.push(format!(
                r#""care_need":"{}""#,
                dice.pick(&["full", "partial", "self"])
            ));
        }
        match dice.below(4) {
            0 => fields.push(format!(
                r#""income_12m":{}"#,
                dice.pick(&["0", "1200.5", "7559.88", "null", "10"])
            )),
            1 => fields.push(format!(
                r#""supporters":[{{"relation":"child","able":{}}}]"#,
                dice.pick(&["true", "false"])
            )),
            _ => fields.push(r#""supporters":[]"#.to_owned()),
        }
        members.push(format!("{{{}}}", fields.join(&format!(",{space}"))));
    }
    let mut fields = vec![
        format!(r#""id":"H-{}""#, dice.below(1000)),
        format!(
            r#""area_code":"{}""#,
            dice.pick(&["500151102201", "500151004210", "500151102201001"])
        ),
        format!(r#""members":[{}]"#, members.join(",")),
    ];
    if dice.below(2) == 0 {
        fields.push(format!(r#""hukou":"{}""#, dice.pick(&["rural", "urban"])));
    }
    if dice.below(2) == 0 {
        fields.push(format!(
            r#""income_12m":{{"wages":{},"transfer":{}}}"#,
            dice.pick(&["27813.1", "0", "14400", "3.05"]),
            dice.pick(&["532.66", "0.0", "1"])
        ));
    }
    if dice.below(3) == 0 {
        fields.push(
            r#""property":{"financial_assets":2000,"vehicles":[{"kind":"motorcycle","value":1500}],"extra_houses":1,"business_registered":false}"#
                .to_owned(),
        );
    }
    if dice.below(3) == 0 {
        fields.push(r#""rigid_expenditure_12m":{"medical":5310.06,"education":0}"#.to_owned());
    }
    if dice.below(3) == 0 {
        fields.push(r#""guarantees":{"education":true,"drinking_water":false}"#.to_owned());
    }
    if dice.below(2) == 0 {
        fields.push(format!(
            r#""risks":[{}]"#,
            dice.pick(&["", r#""illness""#, r#""illness","disaster""#])
        ));
    }
    if dice.below(3) == 0 {
        fields.push(format!(
            r#""months_above_monitoring_line":{}"#,
            dice.below(13)
        ));
    }
    if dice.below(2) == 0 {
        fields.push(format!(
            r#""lifted_from_poverty":{}"#,
            dice.pick(&["true", "false"])
        ));
    }
    // Key order does not matter to either reader.
    let shift = usize::try_from(dice.below(fields.len() as u64)).unwrap();
    fields.rotate_left(shift);
    format!("{{{}}}", fields.join(&format!(",{space}")))
}

#[test]
fn fast_reader_reads_generated_lines_as_domain_does() {
    let mut dice = Dice(0x5eed);
    let mut fast = 0;
    for _ in 0..3000 {
        if check(&random_line(&mut dice)) {
            fast += 1;
        }
    }
    // Most valid lines take the fast path (the rest are refused or left to `domain`).
    assert!(fast > 2000, "only {fast} of 3000 lines took the fast path");
}

#[test]
fn fast_reader_never_accepts_a_mutated_line_that_domain_refuses() {
    let mut dice = Dice(0xfeed);
    let mutations: &[&str] = &[
        "\"", "\\", ",", "}", "]", "-", "e5", ".123", "null", " ", "0", "x", "\u{1}",
    ];
    for _ in 0..3000 {
        let line = random_line(&mut dice);
        let at = usize::try_from(dice.below(line.len() as u64)).unwrap();
        if !line.is_char_boundary(at) {
            continue;
        }
        let insert = dice.pick(mutations);
        let mut mutated = line.clone();
        match dice.below(3) {
            0 => mutated.insert_str(at, insert),
            1 => {
                let end = (at + 1..=line.len())
                    .find(|&end| line.is_char_boundary(end))
                    .unwrap_or(line.len());
                mutated.replace_range(at..end, "");
            }
            _ => {
                let end = (at + 1..=line.len())
                    .find(|&end| line.is_char_boundary(end))
                    .unwrap_or(line.len());
                mutated.replace_range(at..end, insert);
            }
        }
        check(&mutated);
    }
}

#[test]
fn fast_reader_leaves_unusual_lines_to_domain() {
    let unusual = [
        // An escape in a string, an exponent, a negative zero, three decimals, a duplicate key.
        r#"{"id":"H\u0031","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}]}"#,
        r#"{"id":"H1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"income_12m":{"wages":1e3}}"#,
        r#"{"id":"H1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"income_12m":{"wages":-0}}"#,
        r#"{"id":"H1","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}],"income_12m":{"wages":1.250}}"#,
        r#"{"id":"H1","id":"H2","area_code":"500151102201","members":[{"id_number":"500224194503120011","relation":"head"}]}"#,
    ];
    for line in unusual {
        assert!(fastparse::household(line).is_none(), "{line}");
        // `domain` still reads or refuses them, with its own message.
        let _ = parse_household_bytes(line.as_bytes());
    }
    let spec_example = r#"{"id":"H-0001","area_code":"500151102201","hukou":"rural","lifted_from_poverty":false,"members":[{"id_number":"500224194503120011","name":"张三","relation":"head","labour_capacity":"none","disability":{"kind":"physical","grade":2},"serious_illness":false,"schooling":"none","care_need":"partial","income_12m":0,"supporters":[{"relation":"child","able":false}]}],"income_12m":{"wages":0,"business":0,"property":0,"transfer":1200,"other":0,"excluded":3600},"property":{"financial_assets":2000,"vehicles":[{"kind":"motorcycle","value":1500}],"extra_houses":0,"business_registered":false},"rigid_expenditure_12m":{"medical":0,"education":0,"rehabilitation":0,"other":0},"guarantees":{"education":true,"medical":true,"housing":true,"drinking_water":true},"risks":["illness"],"months_above_monitoring_line":0}"#;
    assert!(check(spec_example));
}

#[test]
fn the_default_as_of_date_is_beijings_day_not_utcs() {
    let evening_utc = chrono::DateTime::parse_from_rfc3339("2026-12-05T16:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(
        crate::beijing_day(evening_utc).to_string(),
        "2026-12-06",
        "00:30 in Beijing is already the next day"
    );
    let morning_utc = chrono::DateTime::parse_from_rfc3339("2026-12-05T15:59:59Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(crate::beijing_day(morning_utc).to_string(), "2026-12-05");
}
