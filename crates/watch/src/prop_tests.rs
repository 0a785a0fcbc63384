//! Issue 16, item 7: property tests of the feed reader and the roll reader. Any bytes: no
//! panic, every rejection has a line and a reason without the control character it refuses.
//! Valid rows round-trip; a row with a control character in a text cell is rejected alone,
//! naming its column, and the rows around it are read.

use crate::feed::{FeedFormat, read_feed};
use crate::roll::read_roll;
use chrono::NaiveDate;
use domain::Category;
use domain::national_id::check_char;
use proptest::prelude::*;

fn id(seq: u32, days: i64) -> String {
    let birth = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + chrono::Duration::days(days);
    let first17 = format!("500224{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    format!("{first17}{}", check_char(first17.as_bytes()))
}

fn day(days: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(days)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
}

const FORMATS: [FeedFormat; 3] = [FeedFormat::Csv, FeedFormat::JsonLines, FeedFormat::Xlsx];

proptest! {
    #[test]
    fn prop_feed_reader_never_panics_on_any_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        format in 0usize..3,
    ) {
        let _ = read_feed(&bytes, FORMATS[format], |row| {
            if let Err(rejection) = row {
                assert!(rejection.line >= 1);
                assert!(!rejection.reason.is_empty());
                assert!(!rejection.reason.contains('\u{0}'), "{}", rejection.reason);
            }
        });
    }

    #[test]
    fn prop_feed_reader_never_panics_on_csv_like_text(
        text in "(身份证号,姓名,类别,数值,日期,说明\n)?([0-9X\",\\-. a-z\u{0}\u{7}\r\n]{0,40}\n){0,6}",
    ) {
        let _ = read_feed(text.as_bytes(), FeedFormat::Csv, |row| {
            if let Err(rejection) = row {
                assert!(!rejection.reason.contains('\u{0}'), "{}", rejection.reason);
            }
        });
    }

    #[test]
    fn prop_valid_feed_rows_round_trip(
        rows in proptest::collection::vec((0u32..1000, 0i64..25_000, 0i64..1_000_000_000, 0i64..2500), 1..8),
    ) {
        let mut text = String::from("身份证号,姓名,类别,数值,日期,说明\n");
        for (seq, birth, fen, on) in &rows {
            text.push_str(&format!(
                "{},张三,wage,{}.{:02},{},\n",
                id(*seq, *birth), fen / 100, fen % 100, day(*on)
            ));
        }
        let mut seen = Vec::new();
        let n = read_feed(text.as_bytes(), FeedFormat::Csv, |row| match row {
            Ok(record) => seen.push((
                String::from_utf8(record.id_number.to_vec()).unwrap(),
                record.value,
                record.date.to_owned(),
            )),
            Err(rejection) => panic!("{rejection:?}"),
        })
        .unwrap();
        prop_assert_eq!(n as usize, rows.len());
        let expected: Vec<_> = rows
            .iter()
            .map(|(seq, birth, fen, on)| (id(*seq, *birth), Some(*fen), day(*on).to_string()))
            .collect();
        prop_assert_eq!(seen, expected);
    }

    #[test]
    fn prop_a_bad_feed_row_is_rejected_alone_naming_its_column(
        at in 0usize..3,
        control in prop_oneof![0u32..9, 14u32..32, 127u32..160],
        which in 0usize..4,
    ) {
        let bad = char::from_u32(control).unwrap();
        let (row, label) = match which {
            0 => (format!("{},李{bad}四,wage,3000,2026-06-01,", id(7, 9000)), "姓名"),
            1 => (format!("{},李四,wage,3000,2026-06-01,说{bad}明", id(7, 9000)), "说明"),
            2 => (format!("{},李四,wage,-3000,2026-06-01,", id(7, 9000)), "数值"),
            _ => (format!("{},李四,wage,3000,2026-02-30,", id(7, 9000)), "日期"),
        };
        let mut lines: Vec<String> = (0..3).map(|k| format!("{},张三,wage,1,2026-06-01,", id(k, 8000))).collect();
        lines.insert(at, row);
        let text = format!("身份证号,姓名,类别,数值,日期,说明\n{}\n", lines.join("\n"));
        let mut read = 0;
        let mut rejected = Vec::new();
        read_feed(text.as_bytes(), FeedFormat::Csv, |row| match row {
            Ok(_) => read += 1,
            Err(rejection) => rejected.push(rejection),
        })
        .unwrap();
        prop_assert_eq!(read, 3);
        prop_assert_eq!(rejected.len(), 1);
        prop_assert_eq!(rejected[0].line, at as u64 + 2);
        let prefix = format!("{label}：");
        prop_assert!(rejected[0].reason.starts_with(&prefix), "{}", rejected[0].reason);
    }

    #[test]
    fn prop_roll_reader_never_panics_on_any_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        xlsx in any::<bool>(),
    ) {
        let format = if xlsx { FeedFormat::Xlsx } else { FeedFormat::Csv };
        if let Ok(roll) = read_roll(&bytes, format, Category::Dibao, today()) {
            for bad in roll.bad {
                assert!(bad.line >= 1);
                assert!(!bad.reason.contains('\u{0}'), "{}", bad.reason);
            }
        }
    }

    #[test]
    fn prop_valid_roll_rows_round_trip_and_a_control_character_is_named(
        rows in proptest::collection::vec((0u32..1000, 0i64..25_000, 1i64..10_000_000, 0i64..2000), 1..6),
        control in prop_oneof![0u32..9, 14u32..32, 127u32..160],
    ) {
        let mut text = String::from("身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关\n");
        for (seq, birth, fen, on) in &rows {
            text.push_str(&format!(
                "{},张三,整户,{},{}.{:02},铜民〔2025〕1号,铜梁区民政局\n",
                id(*seq, *birth), day(*on), fen / 100, fen % 100
            ));
        }
        let bad = char::from_u32(control).unwrap();
        text.push_str(&format!("{},王{bad}五,整户,2025-01-01,100,铜民〔2025〕1号,铜梁区民政局\n", id(999, 100)));
        let roll = read_roll(text.as_bytes(), FeedFormat::Csv, Category::Dibao, today()).unwrap();
        prop_assert_eq!(roll.rows.len(), rows.len());
        for (row, (seq, birth, fen, on)) in roll.rows.iter().zip(&rows) {
            prop_assert_eq!(String::from_utf8(row.id_number.to_vec()).unwrap(), id(*seq, *birth));
            prop_assert_eq!(row.start, day(*on));
            prop_assert_eq!(row.monthly_fen, Some(*fen));
        }
        prop_assert_eq!(roll.bad.len(), 1);
        prop_assert_eq!(roll.bad[0].line, rows.len() as u64 + 2);
        prop_assert_eq!(roll.bad[0].column, Some("姓名"));
    }
}
