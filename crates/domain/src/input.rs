//! 输入校验 (issue 16, "input, one way in"): one typed parser per kind of value that enters the
//! product — text, calendar dates, past dates, money in fen, positive decimals, periods, ID
//! numbers, place codes. Every entry (forms, API bodies, query parameters, household import,
//! department feeds, rolls, policy values, the calendar file) reads its values through these,
//! so the same input gets the same answer everywhere and on either store.
//!
//! A failure is an [`InputError`]: the English field name (the API's `field`), its Chinese label
//! and a Chinese message. "Today" is always passed in (Beijing's date, chosen by the shell); the
//! core never reads the clock.

use crate::{NationalId, PlaceCode, Yuan};
use chrono::NaiveDate;
use std::fmt;

/// A value refused at the door: which field, in English and Chinese, and why (Chinese).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// English name or path, e.g. `members[0].name`, `period`.
    pub field: String,
    /// Chinese label shown to people, e.g. 姓名, 统计期.
    pub label: String,
    /// Chinese message without the label.
    pub message: String,
}

impl InputError {
    pub fn new(
        field: impl Into<String>,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            label: label.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    /// `姓名：含有不允许的控制字符（第3个字符 U+0000）`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}：{}", self.label, self.message)
    }
}

impl std::error::Error for InputError {}

/// The first character text may not hold: a control character other than newline, carriage
/// return (of a CRLF line end) and tab. PostgreSQL cannot store NUL at all; the others have no
/// place in a name, a note or a code. Returns the 1-based character position and the character.
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    // Fast path: printable ASCII and multi-byte text without C0/C1 controls are the rule.
    let suspicious = text
        .bytes()
        .any(|b| (b < 0x20 && b != b'\n' && b != b'\t' && b != b'\r') || b == 0x7f || b == 0xc2);
    if !suspicious {
        return None;
    }
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        .map(|(at, c)| (at + 1, c))
}

/// The message for a forbidden character found by [`forbidden_char`].
pub fn forbidden_message(at: usize, c: char) -> String {
    format!(
        "含有不允许的控制字符（第{at}个字符 U+{:04X}），请删除后重新提交",
        u32::from(c)
    )
}

/// Free text (说明, 备注): trimmed, at most `max_chars` characters, no control characters other
/// than newline and tab. CRLF line ends become LF. Empty is allowed (callers require it if needed).
pub fn text(field: &str, label: &str, raw: &str, max_chars: usize) -> Result<String, InputError> {
    let trimmed = raw.trim();
    if let Some((at, c)) = forbidden_char(trimmed) {
        return Err(InputError::new(field, label, forbidden_message(at, c)));
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(InputError::new(
            field,
            label,
            format!("过长：{count}个字，至多{max_chars}个字"),
        ));
    }
    Ok(trimmed.replace("\r\n", "\n"))
}

/// One line of text (姓名, 名称, 编号): as [`text`], and no line break or tab either.
pub fn line(field: &str, label: &str, raw: &str, max_chars: usize) -> Result<String, InputError> {
    let value = text(field, label, raw, max_chars)?;
    if let Some((at, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(InputError::new(field, label, forbidden_message(at + 1, c)));
    }
    Ok(value)
}

/// A non-empty [`line`].
pub fn required_line(
    field: &str,
    label: &str,
    raw: &str,
    max_chars: usize,
) -> Result<String, InputError> {
    let value = line(field, label, raw, max_chars)?;
    if value.is_empty() {
        return Err(InputError::new(field, label, "不能为空"));
    }
    Ok(value)
}

/// A calendar date that exists, `YYYY-MM-DD` (2025-02-30 and 2025-13-01 are refused).
pub fn date(field: &str, label: &str, raw: &str) -> Result<NaiveDate, InputError> {
    let text = raw.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(at, b)| {
            if at == 4 || at == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(InputError::new(
            field,
            label,
            format!("“{}”不是日期（应为 YYYY-MM-DD）", shown(text)),
        ));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| InputError::new(field, label, format!("日期“{text}”不存在")))
}

/// A date that has happened: a real date not after `today` (Beijing's date, passed in). For
/// birth dates and the dates of events already past.
pub fn past_date(
    field: &str,
    label: &str,
    raw: &str,
    today: NaiveDate,
) -> Result<NaiveDate, InputError> {
    let day = date(field, label, raw)?;
    not_after(field, label, day, today)
}

/// `day` if it is not after `today`.
pub fn not_after(
    field: &str,
    label: &str,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, InputError> {
    if day > today {
        return Err(InputError::new(
            field,
            label,
            format!("日期{day}晚于今天（{today}），应为已经发生的日期"),
        ));
    }
    Ok(day)
}

/// Money of at least zero, at most two decimals, as exact fen (`412.5` → 41250 fen).
pub fn money(field: &str, label: &str, raw: &str) -> Result<Yuan, InputError> {
    let amount =
        Yuan::parse(raw).map_err(|error| InputError::new(field, label, error.to_string()))?;
    if amount < Yuan::ZERO {
        return Err(InputError::new(field, label, "金额不能为负数"));
    }
    Ok(amount)
}

/// A decimal greater than zero (rates, standards, limits whose unit cannot be zero or less):
/// digits with at most one decimal point; `0`, `-1`, `1e3`, `NaN` are refused.
pub fn positive_decimal(field: &str, label: &str, raw: &str) -> Result<f64, InputError> {
    let text = raw.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let shaped = !whole.is_empty()
        && whole.len() <= 15
        && fraction.len() <= 6
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !shaped {
        return Err(InputError::new(
            field,
            label,
            format!("“{}”不是大于零的数", shown(text)),
        ));
    }
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(InputError::new(field, label, "应大于零")),
    }
}

/// A count (人数, 次数): a whole number ≥ 0.
pub fn count(field: &str, label: &str, raw: &str) -> Result<u32, InputError> {
    let text = raw.trim();
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InputError::new(
            field,
            label,
            format!("“{}”不是非负整数", shown(text)),
        ));
    }
    text.parse()
        .map_err(|_| InputError::new(field, label, "超出范围"))
}

/// A statistical or data period: a year `2026`, a half year `2026H1`/`2026H2`, a quarter
/// `2026Q1`…`2026Q4` or a month `2026-07`. Returned as written (upper-case H/Q).
pub fn period(field: &str, label: &str, raw: &str) -> Result<String, InputError> {
    let text = raw.trim();
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let year_ok = bytes.len() >= 4
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && (1949..=2200).contains(&upper[..4].parse::<u32>().unwrap_or(0));
    let ok = year_ok
        && match &bytes[4..] {
            [] => true,
            [b'H', b'1' | b'2'] => true,
            [b'Q', b'1'..=b'4'] => true,
            [b'-', m1, m2] if m1.is_ascii_digit() && m2.is_ascii_digit() => {
                (1..=12).contains(&((m1 - b'0') * 10 + (m2 - b'0')))
            }
            _ => false,
        };
    if !ok {
        return Err(InputError::new(
            field,
            label,
            format!(
                "“{}”不是统计期（应为年 2026、半年 2026H1、季度 2026Q3 或月份 2026-07）",
                shown(text)
            ),
        ));
    }
    Ok(upper)
}

/// A citizen ID number (GB 11643 checksum, real birth date) whose holder is already born on
/// `today`.
pub fn national_id(
    field: &str,
    label: &str,
    raw: &str,
    today: NaiveDate,
) -> Result<NationalId, InputError> {
    let id = NationalId::parse(raw.trim())
        .map_err(|error| InputError::new(field, label, error.to_string()))?;
    if id.birth_date() > today {
        return Err(InputError::new(
            field,
            label,
            format!("出生日期{}晚于今天（{today}）", id.birth_date()),
        ));
    }
    Ok(id)
}

/// A Tongliang place code (区划代码).
pub fn place_code(field: &str, label: &str, raw: &str) -> Result<PlaceCode, InputError> {
    PlaceCode::parse(raw.trim()).map_err(|error| InputError::new(field, label, error.to_string()))
}

/// Text quoted in a message: control characters shown as `U+XXXX`, at most 40 characters, so a
/// message never carries the NUL it refuses.
pub fn shown(text: &str) -> String {
    let mut out = String::new();
    for (at, c) in text.chars().enumerate() {
        if at == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("U+{:04X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// [`shown`] without the length limit: control characters as `U+XXXX`.
pub fn shown_all(text: &str) -> String {
    if forbidden_char(text).is_none() && !text.contains(['\n', '\t', '\r']) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("U+{:04X}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn text_refuses_nul_and_names_the_field() {
        let error = text("name", "姓名", "张\u{0}三", 50).unwrap_err();
        assert_eq!(error.field, "name");
        assert_eq!(error.label, "姓名");
        assert!(
            error
                .to_string()
                .starts_with("姓名：含有不允许的控制字符（第2个字符 U+0000）")
        );
        assert!(text("note", "说明", "a\u{85}b", 50).is_err(), "C1 control");
        assert!(text("note", "说明", "a\u{7f}", 50).is_err(), "DEL");
        assert_eq!(
            text("note", "说明", " 第一行\r\n第二行\t ", 50).unwrap(),
            "第一行\n第二行"
        );
        assert!(line("name", "姓名", "a\nb", 50).is_err());
        assert!(text("name", "姓名", &"字".repeat(51), 50).is_err());
        assert_eq!(
            required_line("name", "姓名", "  ", 5).unwrap_err().message,
            "不能为空"
        );
    }

    #[test]
    fn dates_exist_and_past_dates_are_past() {
        assert_eq!(date("on", "日期", "2024-02-29").unwrap(), day("2024-02-29"));
        for bad in [
            "2025-02-30",
            "2025-13-01",
            "2025-1-01",
            "20250101",
            "abc",
            "",
            "２０２５-01-01",
        ] {
            let error = date("on", "日期", bad).unwrap_err();
            assert_eq!(error.field, "on", "{bad}");
        }
        let today = day("2026-12-06");
        assert!(past_date("born", "出生日期", "2026-12-06", today).is_ok());
        assert!(past_date("born", "出生日期", "2099-01-01", today).is_err());
    }

    #[test]
    fn money_positive_and_periods() {
        assert_eq!(
            money("amount", "金额", "412.5").unwrap(),
            Yuan::from_fen(41250)
        );
        assert_eq!(
            money("amount", "金额", "-1").unwrap_err().message,
            "金额不能为负数"
        );
        assert!(money("amount", "金额", "1.234").is_err());
        assert_eq!(positive_decimal("value", "参数值", "0.5").unwrap(), 0.5);
        for bad in ["0", "0.00", "-1", "1e3", "NaN", "inf", "", "1.2.3"] {
            assert!(positive_decimal("value", "参数值", bad).is_err(), "{bad}");
        }
        for good in ["2026", "2026H1", "2026h2", "2026Q4", "2026-07", "2026-12"] {
            assert!(period("period", "统计期", good).is_ok(), "{good}");
        }
        for bad in [
            "abc", "2026H3", "2026-13", "2026-00", "26H1", "2026Q5", "", "2026-7", "1800",
        ] {
            let error = period("period", "统计期", bad).unwrap_err();
            assert!(error.to_string().starts_with("统计期："), "{bad}");
        }
    }

    #[test]
    fn id_numbers_of_the_unborn_are_refused() {
        let today = day("2026-12-06");
        assert!(national_id("id_number", "身份证号", "11010519491231002X", today).is_ok());
        // 2099-01-01, a valid checksum.
        let first17 = "50022420990101001";
        let id = format!(
            "{first17}{}",
            crate::national_id::check_char(first17.as_bytes())
        );
        let error = national_id("id_number", "身份证号", &id, today).unwrap_err();
        assert!(error.message.contains("晚于今天"), "{error}");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(raw in "\\PC{0,30}|[\\x00-\\x7f]{0,30}") {
            let today = day("2026-12-06");
            let _ = text("f", "字段", &raw, 10);
            let _ = line("f", "字段", &raw, 10);
            let _ = date("f", "字段", &raw);
            let _ = past_date("f", "字段", &raw, today);
            let _ = money("f", "字段", &raw);
            let _ = positive_decimal("f", "字段", &raw);
            let _ = count("f", "字段", &raw);
            let _ = period("f", "字段", &raw);
            let _ = national_id("f", "字段", &raw, today);
            let _ = place_code("f", "字段", &raw);
        }

        #[test]
        fn accepted_text_has_no_forbidden_character(raw in any::<String>()) {
            match text("f", "字段", &raw, 1000) {
                Ok(value) => prop_assert!(forbidden_char(&value).is_none()),
                Err(error) => prop_assert_eq!(error.field, "f"),
            }
        }

        #[test]
        fn real_dates_round_trip(days in 0i64..80_000) {
            let on = day("1900-01-01") + chrono::Duration::days(days);
            let written = on.format("%Y-%m-%d").to_string();
            prop_assert_eq!(date("f", "字段", &written).unwrap(), on);
        }

        #[test]
        fn fen_round_trip(fen in 0i64..1_000_000_000_000) {
            let written = Yuan::from_fen(fen).to_string();
            prop_assert_eq!(money("f", "字段", &written).unwrap().fen(), fen);
        }

        #[test]
        fn negative_money_is_refused(fen in 1i64..1_000_000_000_000) {
            let written = Yuan::from_fen(-fen).to_string();
            prop_assert!(money("f", "字段", &written).is_err());
        }
    }
}
