//! 公开 (disclosure, P8, issue 14): what a confirmed household shows on its village's and
//! town's public list, and how the list changes when a case changes the registry.
//!
//! A line shows the disclosed name, the category, the household size, the monthly amount and
//! the start date — never an ID number, health, disability or bank data (the type has no room
//! for them). Pure functions: the shell reads the open lines and the held periods, asks `plan`
//! and writes what it says.

use chrono::NaiveDate;

/// The name as the public list shows it (docs/GLOSSARY.md, 公开): the surname (first
/// character) and, for names of three characters or more, the last character, every other
/// character replaced by `*`. A two-character name shows its first character and `*`; a
/// one-character name shows `*`. Whitespace is dropped first; an empty name stays empty.
///
/// 张三 → 张*, 张小明 → 张*明, 欧阳小明 → 欧**明.
pub fn disclosed_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    match chars.as_slice() {
        [] => String::new(),
        [_] => "*".to_owned(),
        [first, _] => format!("{first}*"),
        [first, middle @ .., last] => {
            let mut out = String::with_capacity(name.len());
            out.push(*first);
            out.extend(middle.iter().map(|_| '*'));
            out.push(*last);
            out
        }
    }
}

/// What one category of one household shows on the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The category's code (`Category::code`).
    pub category: String,
    pub disclosed_name: String,
    pub household_size: i64,
    /// The monthly amount in fen where the registry holds one.
    pub monthly_fen: Option<i64>,
    /// The day the household started to hold the category.
    pub start_date: NaiveDate,
}

/// A line in force now, with its stored id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenLine {
    pub id: i64,
    pub line: Line,
}

/// What a change of the registry does to a household's lines: the ids to end (from the day
/// of the change) and the lines to add (in force from that day).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub end: Vec<i64>,
    pub add: Vec<Line>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.end.is_empty() && self.add.is_empty()
    }
}

/// The lines to end and to add so that the household's open lines become `wanted` (one per
/// category it holds after the change): a line equal to a wanted one stays; a line whose
/// amount, size or name changed is ended and replaced; a category no longer held (an exit)
/// is ended.
pub fn plan(open: &[OpenLine], wanted: &[Line]) -> Plan {
    let mut plan = Plan::default();
    for current in open {
        if !wanted.contains(&current.line) {
            plan.end.push(current.id);
        }
    }
    for line in wanted {
        if !open.iter().any(|current| &current.line == line) {
            plan.add.push(line.clone());
        }
    }
    plan
}

/// One held category period, as the shell reads it from the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldPeriod {
    pub category: String,
    pub start_date: NaiveDate,
    pub monthly_fen: Option<i64>,
}

/// The lines a household shows, from its open category periods: one per category, its
/// amount the sum of the periods' amounts (特困 is held per person) or none if no period has
/// one, its start the earliest period's. Sorted by category code.
pub fn lines_of(head_name: &str, household_size: i64, held: &[HeldPeriod]) -> Vec<Line> {
    let name = disclosed_name(head_name);
    let mut lines: Vec<Line> = Vec::new();
    for period in held {
        match lines
            .iter_mut()
            .find(|line| line.category == period.category)
        {
            Some(line) => {
                line.monthly_fen = match (line.monthly_fen, period.monthly_fen) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                line.start_date = line.start_date.min(period.start_date);
            }
            None => lines.push(Line {
                category: period.category.clone(),
                disclosed_name: name.clone(),
                household_size,
                monthly_fen: period.monthly_fen,
                start_date: period.start_date,
            }),
        }
    }
    lines.sort_by(|a, b| a.category.cmp(&b.category));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default()
    }

    #[test]
    fn names_keep_the_surname_and_the_last_character() {
        let cases = [
            ("", ""),
            ("李", "*"),
            ("张三", "张*"),
            ("张小明", "张*明"),
            ("欧阳小明", "欧**明"),
            (" 王 五 ", "王*"),
            ("Ayşe Kaya", "A******a"),
        ];
        let got: Vec<(&str, String)> = cases
            .iter()
            .map(|(name, _)| (*name, disclosed_name(name)))
            .collect();
        let want: Vec<(&str, String)> = cases
            .iter()
            .map(|(name, masked)| (*name, (*masked).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    fn held(category: &str, d: u32, fen: Option<i64>) -> HeldPeriod {
        HeldPeriod {
            category: category.to_owned(),
            start_date: day(d),
            monthly_fen: fen,
        }
    }

    #[test]
    fn lines_sum_per_person_periods_and_take_the_earliest_start() {
        let lines = lines_of(
            "张小明",
            3,
            &[
                held("tekun", 5, Some(100 * 100)),
                held("tekun", 2, Some(50 * 100)),
                held("dibao", 9, None),
            ],
        );
        let shown: Vec<(String, String, i64, Option<i64>, NaiveDate)> = lines
            .into_iter()
            .map(|l| {
                (
                    l.category,
                    l.disclosed_name,
                    l.household_size,
                    l.monthly_fen,
                    l.start_date,
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                ("dibao".into(), "张*明".into(), 3, None, day(9)),
                ("tekun".into(), "张*明".into(), 3, Some(150 * 100), day(2)),
            ]
        );
    }

    #[test]
    fn a_plan_keeps_equal_lines_replaces_changed_ones_and_ends_exits() {
        let line = |category: &str, fen: i64| Line {
            category: category.to_owned(),
            disclosed_name: "张*".to_owned(),
            household_size: 2,
            monthly_fen: Some(fen),
            start_date: day(1),
        };
        let open = vec![
            OpenLine {
                id: 1,
                line: line("dibao", 500 * 100),
            },
            OpenLine {
                id: 2,
                line: line("monitoring", 0),
            },
        ];
        // Same: nothing to do.
        assert!(plan(&open, &[line("dibao", 500 * 100), line("monitoring", 0)]).is_empty());
        // The amount changed and monitoring ended.
        assert_eq!(
            plan(&open, &[line("dibao", 620 * 100)]),
            Plan {
                end: vec![1, 2],
                add: vec![line("dibao", 620 * 100)],
            }
        );
        // Exit: nothing wanted.
        assert_eq!(
            plan(&open, &[]),
            Plan {
                end: vec![1, 2],
                add: vec![],
            }
        );
    }
}
