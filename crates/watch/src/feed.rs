//! Feed rows per `spec/FEEDS.md`: CSV (UTF-8 or GB18030, English or Chinese headers) and JSON
//! Lines. A row that cannot be read becomes a `Rejection` with its line number and a Chinese
//! reason; the caller goes on with the next row.

use domain::national_id::check_char;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// A valid 18-character ID number (15-digit legacy numbers converted), as bytes: the key of
/// the registry index. The check character is upper case.
pub type IdKey = [u8; 18];

macro_rules! kinds {
    ($($variant:ident = $code:literal,)+) => {
        /// 比对数据类别: what a feed row is about (FEEDS.md).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FeedKind { $($variant,)+ }
        impl FeedKind {
            pub const ALL: &'static [FeedKind] = &[$(FeedKind::$variant,)+];
            pub fn code(self) -> &'static str {
                match self { $(FeedKind::$variant => $code,)+ }
            }
            pub fn from_code(code: &str) -> Option<FeedKind> {
                match code { $($code => Some(FeedKind::$variant),)+ _ => None }
            }
        }
    };
}

kinds! {
    Vehicle = "vehicle",
    RealEstate = "real_estate",
    Business = "business",
    Wage = "wage",
    ProvidentFund = "provident_fund",
    Tax = "tax",
    Deposit = "deposit",
    PublicPayroll = "public_payroll",
    Medical = "medical",
    Death = "death",
    Disability = "disability",
    School = "school",
    Unemployment = "unemployment",
    Disaster = "disaster",
    Monitoring = "monitoring",
}

/// One readable feed row. `value` is in hundredths (fen for money, 0.01 m² for area, grade×100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedRecord<'a> {
    /// 1-based line in the file (the header is line 1 of a CSV file).
    pub line: u64,
    pub id_number: IdKey,
    pub name: &'a str,
    pub kind: FeedKind,
    pub value: Option<i64>,
    pub date: &'a str,
    pub detail: &'a str,
}

/// 拒收行: a row that could not be read, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

/// A file that cannot be read at all (nothing of it is compared).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("表头缺少列“{0}”")]
    MissingColumn(&'static str),
    #[error("表头列“{0}”重复")]
    DuplicateColumn(String),
    #[error("文件为空")]
    Empty,
    #[error("文件编码无法识别（应为 UTF-8 或 GB18030）")]
    Encoding,
}

/// 数据批次标识: a feed is the same feed when source, period and content hash agree, so a
/// repeated import is recognised and changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FeedIdentity {
    pub source: String,
    pub period: String,
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: String,
}

impl FeedIdentity {
    pub fn of(source: &str, period: &str, bytes: &[u8]) -> FeedIdentity {
        FeedIdentity {
            source: source.to_owned(),
            period: period.to_owned(),
            content_hash: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// The text of a feed file: UTF-8 (a BOM is dropped) or else GB18030.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, FeedError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(FeedError::Encoding);
    }
    Ok(text)
}

const COLUMNS: [(&str, &str); 6] = [
    ("id_number", "身份证号"),
    ("name", "姓名"),
    ("kind", "类别"),
    ("value", "数值"),
    ("date", "日期"),
    ("detail", "说明"),
];

/// Where each FEEDS.md column is in a CSV file, read from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Columns {
    /// Position of id_number, name, kind, value, date, detail.
    at: [usize; 6],
    count: usize,
    /// The common layout `id_number,name,kind,value,date,detail`.
    plain: bool,
}

impl Columns {
    /// Reads a header line; English or Chinese names, any order, extra columns ignored.
    pub fn from_header(header: &str) -> Result<Columns, FeedError> {
        let header = header.strip_prefix('\u{feff}').unwrap_or(header);
        let header = header.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            return Err(FeedError::Empty);
        }
        let mut at = [usize::MAX; 6];
        let mut count = 0;
        for (position, cell) in split_csv(header).iter().enumerate() {
            count += 1;
            let cell = cell.trim();
            if let Some(slot) = COLUMNS
                .iter()
                .position(|(english, chinese)| cell == *english || cell == *chinese)
            {
                if at[slot] != usize::MAX {
                    return Err(FeedError::DuplicateColumn(cell.to_owned()));
                }
                at[slot] = position;
            }
        }
        for (slot, (english, _)) in COLUMNS.iter().enumerate() {
            if at[slot] == usize::MAX {
                return Err(FeedError::MissingColumn(english));
            }
        }
        let plain = count == 6 && at == [0, 1, 2, 3, 4, 5];
        Ok(Columns { at, count, plain })
    }

    /// Reads one data line (without its line end).
    pub fn parse_line<'a>(&self, line: &'a str, line_no: u64) -> Result<FeedRecord<'a>, Rejection> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let reject = |reason: String| Rejection {
            line: line_no,
            reason,
        };
        if self.plain && !line.contains('"') {
            let mut cells = [""; 6];
            let mut parts = line.split(',');
            for cell in &mut cells {
                *cell = parts
                    .next()
                    .ok_or_else(|| reject(column_count(line.split(',').count(), 6)))?;
            }
            if parts.next().is_some() {
                return Err(reject(column_count(line.split(',').count(), 6)));
            }
            return record(line_no, cells);
        }
        let cells = split_csv(line);
        if cells.len() != self.count {
            return Err(reject(column_count(cells.len(), self.count)));
        }
        let mut picked: [&str; 6] = [""; 6];
        // Quoted cells are borrowed only when unquoting left them unchanged; otherwise the
        // row is read from an owned copy, which cannot outlive this call.
        for (slot, position) in self.at.iter().enumerate() {
            match &cells[*position] {
                Cow::Borrowed(text) => picked[slot] = text,
                Cow::Owned(_) => {
                    return Err(reject("带转义引号的单元格暂不支持".to_owned()));
                }
            }
        }
        record(line_no, picked)
    }
}

fn column_count(found: usize, expected: usize) -> String {
    format!("列数为 {found}，应为 {expected}")
}

/// Splits a CSV line; `"…"` cells may hold commas, `""` is a quote.
fn split_csv(line: &str) -> Vec<Cow<'_, str>> {
    let mut cells = Vec::new();
    let bytes = line.as_bytes();
    let mut start = 0;
    while start <= bytes.len() {
        if bytes.get(start) == Some(&b'"') {
            let mut text = String::new();
            let mut at = start + 1;
            let mut plain = true;
            loop {
                match memchr_quote(&bytes[at..]) {
                    Some(offset) => {
                        text.push_str(&line[at..at + offset]);
                        at += offset + 1;
                        if bytes.get(at) == Some(&b'"') {
                            text.push('"');
                            plain = false;
                            at += 1;
                        } else {
                            break;
                        }
                    }
                    None => {
                        text.push_str(&line[at..]);
                        at = bytes.len();
                        break;
                    }
                }
            }
            let end = bytes[at..]
                .iter()
                .position(|&b| b == b',')
                .map_or(bytes.len(), |offset| at + offset);
            if plain && end == at {
                cells.push(Cow::Borrowed(
                    &line[start + 1..at.saturating_sub(1).max(start + 1)],
                ));
            } else {
                text.push_str(&line[at..end]);
                cells.push(Cow::Owned(text));
            }
            start = end + 1;
        } else {
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b',')
                .map_or(bytes.len(), |offset| start + offset);
            cells.push(Cow::Borrowed(&line[start..end]));
            start = end + 1;
        }
    }
    cells
}

fn memchr_quote(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'"')
}

fn record<'a>(line: u64, cells: [&'a str; 6]) -> Result<FeedRecord<'a>, Rejection> {
    let [id, name, kind, value, date, detail] = cells;
    let reject = |reason: String| Rejection { line, reason };
    let id_number = parse_id(id.trim()).map_err(reject)?;
    let kind_text = kind.trim();
    let kind = FeedKind::from_code(kind_text).ok_or_else(|| Rejection {
        line,
        reason: format!("未知类别“{kind_text}”"),
    })?;
    let value = parse_value(value.trim()).map_err(|reason| Rejection { line, reason })?;
    let date = date.trim();
    check_date(date).map_err(|reason| Rejection { line, reason })?;
    let value = match (kind, value) {
        (FeedKind::Disability, Some(grade))
            if !(100..=400).contains(&grade) || grade % 100 != 0 =>
        {
            return Err(Rejection {
                line,
                reason: "残疾等级应为 1–4".to_owned(),
            });
        }
        (FeedKind::Disability, None) => {
            return Err(Rejection {
                line,
                reason: "残疾记录缺少等级".to_owned(),
            });
        }
        (_, value) => value,
    };
    if value.is_none() && needs_value(kind) {
        return Err(Rejection {
            line,
            reason: format!("类别“{}”缺少数值", kind.code()),
        });
    }
    Ok(FeedRecord {
        line,
        id_number,
        name: name.trim(),
        kind,
        value,
        date,
        detail: detail.trim(),
    })
}

fn needs_value(kind: FeedKind) -> bool {
    !matches!(
        kind,
        FeedKind::Death
            | FeedKind::School
            | FeedKind::Unemployment
            | FeedKind::Monitoring
            | FeedKind::Business
    )
}

/// An 18-character number with a valid check character and birth date, or a 15-digit legacy
/// number converted (19 inserted before the year, check character computed).
pub fn parse_id(text: &str) -> Result<IdKey, String> {
    let bytes = text.as_bytes();
    let mut key = [0u8; 18];
    match bytes.len() {
        18 => {
            if !bytes[..17].iter().all(u8::is_ascii_digit) {
                return Err("身份证号含非数字字符".to_owned());
            }
            key.copy_from_slice(bytes);
            key[17] = key[17].to_ascii_uppercase();
            if !(key[17].is_ascii_digit() || key[17] == b'X') {
                return Err("身份证号校验位应为数字或 X".to_owned());
            }
        }
        15 => {
            if !bytes.iter().all(u8::is_ascii_digit) {
                return Err("身份证号含非数字字符".to_owned());
            }
            key[..6].copy_from_slice(&bytes[..6]);
            key[6..8].copy_from_slice(b"19");
            key[8..17].copy_from_slice(&bytes[6..15]);
            key[17] = check_char(&key[..17]) as u8;
        }
        0 => return Err("身份证号为空".to_owned()),
        other => return Err(format!("身份证号长度为 {other}，应为 18 或 15")),
    }
    if !valid_birth_date(&key[6..14]) {
        return Err("身份证号中的出生日期无效".to_owned());
    }
    let expected = check_char(&key[..17]) as u8;
    if key[17] != expected {
        return Err(format!(
            "身份证号校验位错误（应为 {}）",
            char::from(expected)
        ));
    }
    Ok(key)
}

fn digits(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0, |total, digit| total * 10 + u32::from(digit - b'0'))
}

fn valid_birth_date(bytes: &[u8]) -> bool {
    let year = digits(&bytes[..4]);
    let month = digits(&bytes[4..6]);
    let day = digits(&bytes[6..8]);
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2100).contains(&year) && (1..=days).contains(&day)
}

/// `12`, `12.5`, `-3.25` in hundredths; empty is `None`.
fn parse_value(text: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || format!("数值“{text}”无法识别");
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty() || whole.len() > 15 || fraction.len() > 2 {
        return Err(bad());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut hundredths: i64 = 0;
    for digit in whole.bytes() {
        hundredths = hundredths * 10 + i64::from(digit - b'0');
    }
    hundredths *= 100;
    let mut scale = 10;
    for digit in fraction.bytes() {
        hundredths += i64::from(digit - b'0') * scale;
        scale /= 10;
    }
    Ok(Some(if negative { -hundredths } else { hundredths }))
}

/// `YYYY-MM-DD` or `YYYY-MM`; empty is allowed (the department gave no date).
fn check_date(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let ok = match bytes.len() {
        0 => true,
        7 | 10 => {
            let shape = bytes.iter().enumerate().all(|(at, b)| {
                if at == 4 || at == 7 {
                    *b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
            shape && {
                let month = digits(&bytes[5..7]);
                let day = if bytes.len() == 10 {
                    digits(&bytes[8..10])
                } else {
                    1
                };
                (1..=12).contains(&month) && (1..=31).contains(&day)
            }
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "日期“{text}”无法识别（应为 YYYY-MM-DD 或 YYYY-MM）"
        ))
    }
}

#[derive(serde::Deserialize)]
struct JsonRow<'a> {
    #[serde(alias = "身份证号", borrow)]
    id_number: Cow<'a, str>,
    #[serde(alias = "姓名", borrow, default)]
    name: Cow<'a, str>,
    #[serde(alias = "类别", borrow)]
    kind: Cow<'a, str>,
    #[serde(alias = "数值", default)]
    value: Option<serde_json::Value>,
    #[serde(alias = "日期", borrow, default)]
    date: Cow<'a, str>,
    #[serde(alias = "说明", borrow, default)]
    detail: Cow<'a, str>,
}

/// Reads one JSON Lines row into owned text and hands the record to `visit` (the borrowed
/// record lives only during the call).
pub fn parse_json_line<T>(
    line: &str,
    line_no: u64,
    visit: impl FnOnce(&FeedRecord<'_>) -> T,
) -> Result<T, Rejection> {
    let row: JsonRow<'_> = serde_json::from_str(line).map_err(|error| Rejection {
        line: line_no,
        reason: format!("JSON 无法读取：{error}"),
    })?;
    let value = match &row.value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::Number(number)) => number.to_string(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => {
            return Err(Rejection {
                line: line_no,
                reason: format!("数值“{other}”无法识别"),
            });
        }
    };
    let record = record(
        line_no,
        [
            &row.id_number,
            &row.name,
            &row.kind,
            &value,
            &row.date,
            &row.detail,
        ],
    )?;
    Ok(visit(&record))
}
