//! Feed rows per `spec/FEEDS.md`: CSV (UTF-8 or GB18030, English or Chinese headers) and JSON
//! Lines. A row that cannot be read becomes a `Rejection` with its line number and a Chinese
//! reason; the caller goes on with the next row.

use domain::StatPeriod;
use domain::national_id::check_char;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// A valid 18-character ID number (15-digit legacy numbers converted), as bytes: the key of
/// the registry index. The check character is upper case.
pub type IdKey = [u8; 18];

/// 比对数据类别 and the file formats: words of `domain::states`, where the stored feed rows
/// decode to them.
pub use domain::states::{FeedFormat, FeedKind};

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
    #[error("表头无法读取（引号未闭合）")]
    BadHeader,
    #[error("XLSX 文件无法读取：{0}")]
    Xlsx(String),
}

/// 数据批次标识: a feed is the same feed when source, period and content hash agree, so a
/// repeated import is recognised and changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FeedIdentity {
    pub source: String,
    pub period: StatPeriod,
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: String,
}

impl FeedIdentity {
    pub fn of(source: &str, period: &StatPeriod, bytes: &[u8]) -> FeedIdentity {
        FeedIdentity {
            source: source.to_owned(),
            period: period.clone(),
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
        let cells = split_csv(header).map_err(|_| FeedError::BadHeader)?;
        Columns::from_cells(cells.iter().map(|cell| cell.as_ref()))
    }

    /// Reads a header row given as cells (XLSX); the same names as `from_header`.
    pub fn from_cells<'c>(cells: impl IntoIterator<Item = &'c str>) -> Result<Columns, FeedError> {
        let mut at = [usize::MAX; 6];
        let mut count = 0;
        for (position, cell) in cells.into_iter().enumerate() {
            count += 1;
            let cell = cell.trim().trim_start_matches('\u{feff}');
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
        if count == 0 {
            return Err(FeedError::Empty);
        }
        for (slot, (english, _)) in COLUMNS.iter().enumerate() {
            if at[slot] == usize::MAX {
                return Err(FeedError::MissingColumn(english));
            }
        }
        let plain = count == 6 && at == [0, 1, 2, 3, 4, 5];
        Ok(Columns { at, count, plain })
    }

    /// Reads one data line (without its line end). A quoted cell holding a doubled quote
    /// (`""`) cannot be borrowed from the line: such a row is rejected here and read by
    /// `parse_line_in`, which unquotes into a caller's buffer.
    pub fn parse_line<'a>(&self, line: &'a str, line_no: u64) -> Result<FeedRecord<'a>, Rejection> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.plain && memchr::memchr(b'"', line.as_bytes()).is_none() {
            return plain_record(line, line_no);
        }
        let cells = split_csv(line).map_err(|fault| Rejection {
            line: line_no,
            reason: fault.to_string(),
        })?;
        let cells = self.pick(&cells, line_no)?;
        let mut picked: [&str; 6] = [""; 6];
        for (slot, cell) in cells.into_iter().enumerate() {
            match cell {
                Cow::Borrowed(text) => picked[slot] = text,
                Cow::Owned(_) => {
                    return Err(Rejection {
                        line: line_no,
                        reason: "带转义引号的单元格需用 parse_line_in 读取".to_owned(),
                    });
                }
            }
        }
        record(line_no, picked)
    }

    /// Reads one data line (without its line end); cells with doubled quotes (`""`) are
    /// unquoted into `scratch`, which the record then borrows.
    pub fn parse_line_in<'a>(
        &self,
        line: &'a str,
        line_no: u64,
        scratch: &'a mut String,
    ) -> Result<FeedRecord<'a>, Rejection> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if self.plain && memchr::memchr(b'"', line.as_bytes()).is_none() {
            return plain_record(line, line_no);
        }
        let cells = split_csv(line).map_err(|fault| Rejection {
            line: line_no,
            reason: fault.to_string(),
        })?;
        let cells = self.pick(&cells, line_no)?;
        scratch.clear();
        let mut spans: [Result<&'a str, (usize, usize)>; 6] = [Ok(""); 6];
        for (slot, cell) in cells.into_iter().enumerate() {
            spans[slot] = match cell {
                Cow::Borrowed(text) => Ok(text),
                Cow::Owned(text) => {
                    let from = scratch.len();
                    scratch.push_str(&text);
                    Err((from, scratch.len()))
                }
            };
        }
        let held: &'a str = scratch.as_str();
        let picked = spans.map(|span| match span {
            Ok(text) => text,
            Err((from, to)) => &held[from..to],
        });
        record(line_no, picked)
    }

    /// The six FEEDS.md cells of a split row, in column order.
    fn pick<'a>(
        &self,
        cells: &[Cow<'a, str>],
        line_no: u64,
    ) -> Result<[Cow<'a, str>; 6], Rejection> {
        if cells.len() != self.count {
            return Err(Rejection {
                line: line_no,
                reason: column_count(cells.len(), self.count),
            });
        }
        Ok(self.at.map(|position| cells[position].clone()))
    }
}

/// A line of the plain layout without quotes: six cells split at the commas.
#[inline]
fn plain_record(line: &str, line_no: u64) -> Result<FeedRecord<'_>, Rejection> {
    let bytes = line.as_bytes();
    let mut cells = [""; 6];
    let mut start = 0;
    let mut found = 0;
    for comma in memchr::memchr_iter(b',', bytes) {
        if found == 5 {
            found += 1;
            break;
        }
        cells[found] = &line[start..comma];
        start = comma + 1;
        found += 1;
    }
    if found != 5 {
        let count = memchr::memchr_iter(b',', bytes).count() + 1;
        return Err(Rejection {
            line: line_no,
            reason: column_count(count, 6),
        });
    }
    cells[5] = &line[start..];
    record(line_no, cells)
}

fn column_count(found: usize, expected: usize) -> String {
    format!("列数为 {found}，应为 {expected}")
}

/// Why a CSV line could not be split into cells (`column` counts from 1).
#[derive(Debug)]
enum SplitError {
    /// A quoted cell runs to the end of the text: in a file, it may go on on the next line.
    Unclosed {
        column: usize,
    },
    AfterQuote {
        column: usize,
    },
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::Unclosed { column } => write!(f, "第 {column} 列的引号未闭合"),
            SplitError::AfterQuote { column } => write!(f, "第 {column} 列的右引号后应为逗号"),
        }
    }
}

/// Splits a CSV line: a cell that starts with `"` runs to the closing quote and may hold
/// commas (and, read from a file, line breaks), and `""` inside it is one quote; such a cell
/// must end at the closing quote. A quote elsewhere is an ordinary character. A quote left
/// open is an error.
fn split_csv(line: &str) -> Result<Vec<Cow<'_, str>>, SplitError> {
    let mut cells = Vec::with_capacity(8);
    let bytes = line.as_bytes();
    let mut start = 0;
    loop {
        let column = cells.len() + 1;
        if bytes.get(start) == Some(&b'"') {
            let mut unquoted: Option<String> = None;
            let mut at = start + 1;
            let close = loop {
                let Some(offset) = memchr::memchr(b'"', &bytes[at..]) else {
                    return Err(SplitError::Unclosed { column });
                };
                let quote = at + offset;
                if bytes.get(quote + 1) == Some(&b'"') {
                    unquoted
                        .get_or_insert_with(String::new)
                        .push_str(&line[at..=quote]);
                    at = quote + 2;
                } else {
                    if let Some(text) = &mut unquoted {
                        text.push_str(&line[at..quote]);
                    }
                    break quote;
                }
            };
            cells.push(match unquoted {
                Some(text) => Cow::Owned(text),
                None => Cow::Borrowed(&line[start + 1..close]),
            });
            match bytes.get(close + 1) {
                None => return Ok(cells),
                Some(b',') => start = close + 2,
                Some(_) => return Err(SplitError::AfterQuote { column }),
            }
        } else {
            match memchr::memchr(b',', &bytes[start..]) {
                Some(offset) => {
                    cells.push(Cow::Borrowed(&line[start..start + offset]));
                    start += offset + 1;
                }
                None => {
                    cells.push(Cow::Borrowed(&line[start..]));
                    return Ok(cells);
                }
            }
        }
    }
}

/// `str::trim`, skipping the work for the usual cell that starts and ends with a visible
/// ASCII character.
#[inline]
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        (None, _) | (_, None) => text,
        _ => text.trim(),
    }
}

fn record<'a>(line: u64, cells: [&'a str; 6]) -> Result<FeedRecord<'a>, Rejection> {
    let [id, name, kind, value, date, detail] = cells;
    let (id, name, kind, value, date, detail) = (
        trim(id),
        trim(name),
        trim(kind),
        trim(value),
        trim(date),
        trim(detail),
    );
    // Every field-level refusal names its column (the FEEDS.md Chinese header) first.
    let at = |label: &'static str| {
        move |reason: String| Rejection {
            line,
            reason: format!("{label}：{reason}"),
        }
    };
    let id_number = parse_id(id).map_err(at("身份证号"))?;
    checked_text(name).map_err(at("姓名"))?;
    checked_text(detail).map_err(at("说明"))?;
    let kind = FeedKind::from_code(kind)
        .ok_or_else(|| at("类别")(format!("未知类别“{}”", domain::input::shown(kind))))?;
    let value = parse_value(value).map_err(at("数值"))?;
    check_date(date).map_err(at("日期"))?;
    let value = match (kind, value) {
        (FeedKind::Disability, Some(grade))
            if !(100..=400).contains(&grade) || grade % 100 != 0 =>
        {
            return Err(at("数值")("残疾等级应为 1–4".to_owned()));
        }
        (FeedKind::Disability, None) => {
            return Err(at("数值")("残疾记录缺少等级".to_owned()));
        }
        (_, value) => value,
    };
    if value.is_none() && needs_value(kind) {
        return Err(at("数值")(format!("类别“{}”缺少数值", kind.code())));
    }
    Ok(FeedRecord {
        line,
        id_number,
        name,
        kind,
        value,
        date,
        detail,
    })
}

/// Free text of a row (姓名, 说明): no control characters (a NUL cannot be stored by
/// PostgreSQL; the row is refused alone and the run goes on).
fn checked_text(text: &str) -> Result<(), String> {
    match domain::input::forbidden_char(text) {
        Some((at, c)) => Err(domain::input::forbidden_message(at, c)),
        None => Ok(()),
    }
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

/// The key of an ID number already parsed (a stored one): its 18 characters.
pub fn key_of(id: &domain::NationalId) -> IdKey {
    let mut key = [0u8; 18];
    // A `NationalId` is always 18 ASCII characters.
    key.copy_from_slice(id.as_str().as_bytes());
    key
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
    (1900..=2100).contains(&year) && (1..=days_in_month(year, month)).contains(&day)
}

/// Days of a month of the Gregorian calendar; 0 for a month that is not 1–12.
fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// `12`, `12.5`, `-3.25` in hundredths; empty is `None`.
fn parse_value(text: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || format!("数值“{}”无法识别", domain::input::shown(text));
    // Amounts, areas and grades are never below zero.
    if text.starts_with('-') {
        return Err(format!(
            "数值“{}”为负数，应不小于 0",
            domain::input::shown(text)
        ));
    }
    let body = text;
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
    Ok(Some(hundredths))
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
                let year = digits(&bytes[..4]);
                let month = digits(&bytes[5..7]);
                let day = if bytes.len() == 10 {
                    digits(&bytes[8..10])
                } else {
                    1
                };
                (1..=days_in_month(year, month)).contains(&day)
            }
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "日期“{}”不存在或无法识别（应为 YYYY-MM-DD 或 YYYY-MM）",
            domain::input::shown(text)
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
        reason: match domain::interchange::json_path::<JsonRow<'_>>(line) {
            Some(path) => format!(
                "字段“{path}”：JSON 无法读取：{}",
                domain::input::shown_all(&error.to_string())
            ),
            None => format!(
                "JSON 无法读取：{}",
                domain::input::shown_all(&error.to_string())
            ),
        },
    })?;
    let value = match &row.value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::Number(number)) => number.to_string(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => {
            return Err(Rejection {
                line: line_no,
                reason: format!(
                    "数值：数值“{}”无法识别",
                    domain::input::shown(&other.to_string())
                ),
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

/// Reads a whole feed file from its bytes: every readable row goes to `visit` as `Ok`, every
/// bad row as `Err` with its line (CSV and JSON Lines: the file's line, the header being line 1
/// of a CSV file; XLSX: the worksheet's row number). Returns the number of data rows.
/// `Err` only when the file cannot be read at all (then nothing was visited).
pub fn read_feed(
    bytes: &[u8],
    format: FeedFormat,
    mut visit: impl FnMut(Result<&FeedRecord<'_>, Rejection>),
) -> Result<u64, FeedError> {
    match format {
        FeedFormat::Xlsx => read_xlsx(bytes, visit),
        FeedFormat::Csv => read_csv(&decode(bytes)?, visit),
        FeedFormat::JsonLines => {
            let text = decode(bytes)?;
            let mut rows = 0;
            for (line_no, line) in (1..).zip(text.split('\n')) {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line.trim().is_empty() {
                    continue;
                }
                rows += 1;
                if let Err(rejection) = parse_json_line(line, line_no, |record| visit(Ok(record))) {
                    visit(Err(rejection));
                }
            }
            Ok(rows)
        }
    }
}

/// Reads CSV text (header line first); see `read_feed`.
pub fn read_csv(
    text: &str,
    mut visit: impl FnMut(Result<&FeedRecord<'_>, Rejection>),
) -> Result<u64, FeedError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (header, body) = text.split_once('\n').unwrap_or((text, ""));
    let columns = Columns::from_header(header)?;
    let mut scratch = String::new();
    let mut probe = String::new();
    let mut rows = 0;
    // The line number of the next line, and where it starts.
    let mut next_no = 2;
    let mut at = 0;
    while at < body.len() {
        let line_no = next_no;
        let end = line_end(body, at);
        let mut line = &body[at..end];
        let start = at;
        at = end + 1;
        next_no += 1;
        if line.is_empty() || line == "\r" {
            continue;
        }
        rows += 1;
        // A quoted cell may hold line breaks: the record then goes on over the next lines,
        // as long as it closes within `MAX_RECORD_LINES` lines and the joined record reads;
        // otherwise the line stands alone (and is rejected for its open quote).
        if memchr::memchr(b'"', line.as_bytes()).is_some()
            && matches!(split_csv(line), Err(SplitError::Unclosed { .. }))
        {
            let (mut more_at, mut more_lines) = (at, 0);
            while more_at < body.len() && more_lines + 1 < MAX_RECORD_LINES {
                let more_end = line_end(body, more_at);
                let joined = &body[start..more_end];
                more_at = more_end + 1;
                more_lines += 1;
                match split_csv(joined) {
                    Err(SplitError::Unclosed { .. }) => continue,
                    Ok(_) if columns.parse_line_in(joined, line_no, &mut probe).is_ok() => {
                        line = joined;
                        at = more_at;
                        next_no += more_lines;
                    }
                    _ => {}
                }
                break;
            }
        }
        match columns.parse_line_in(line, line_no, &mut scratch) {
            Ok(record) => visit(Ok(&record)),
            Err(rejection) => visit(Err(rejection)),
        }
    }
    Ok(rows)
}

/// The most lines one CSV record may span through quoted line breaks.
const MAX_RECORD_LINES: u64 = 50;

/// Where the line starting at `from` ends (its `\n`, or the end of the text).
fn line_end(text: &str, from: usize) -> usize {
    memchr::memchr(b'\n', &text.as_bytes()[from..]).map_or(text.len(), |offset| from + offset)
}

/// Reads the first worksheet of an XLSX file; see `read_feed`. Cells may be text, numbers or
/// dates: a whole number is read as its digits, a date cell as `YYYY-MM-DD`. An ID number
/// stored as a number of 16 or more digits has lost its last digits in Excel and is rejected.
pub fn read_xlsx(
    bytes: &[u8],
    mut visit: impl FnMut(Result<&FeedRecord<'_>, Rejection>),
) -> Result<u64, FeedError> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|error| FeedError::Xlsx(error.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(FeedError::Empty)?
        .map_err(|error| FeedError::Xlsx(error.to_string()))?;
    let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
    let blank = |row: &[Data]| {
        row.iter()
            .all(|cell| matches!(cell, Data::Empty) || cell_text(cell).trim().is_empty())
    };
    let mut rows = (first_row + 1..)
        .zip(range.rows())
        .skip_while(|(_, row)| blank(row));
    let (_, header) = rows.next().ok_or(FeedError::Empty)?;
    let header: Vec<String> = header.iter().map(cell_text).collect();
    let columns = Columns::from_cells(header.iter().map(String::as_str))?;
    let mut count = 0;
    let mut texts: [String; 6] = Default::default();
    for (line_no, row) in rows {
        if blank(row) {
            continue;
        }
        count += 1;
        let mut fault = None;
        for (slot, position) in columns.at.iter().enumerate() {
            let cell = row.get(*position).unwrap_or(&Data::Empty);
            texts[slot] = match (slot, cell) {
                (0, Data::Float(number)) if number.abs() >= 1e15 => {
                    fault = Some("身份证号：身份证号被存为数字，末几位已丢失（请将该列设为文本）");
                    String::new()
                }
                (4, Data::DateTime(date)) => {
                    let (year, month, day, ..) = date.to_ymd_hms_milli();
                    format!("{year:04}-{month:02}-{day:02}")
                }
                (4, Data::DateTimeIso(text)) => text.chars().take(10).collect(),
                _ => cell_text(cell),
            };
        }
        if let Some(reason) = fault {
            visit(Err(Rejection {
                line: line_no,
                reason: reason.to_owned(),
            }));
            continue;
        }
        let cells = [0, 1, 2, 3, 4, 5].map(|slot| texts[slot].as_str());
        match record(line_no, cells) {
            Ok(record) => visit(Ok(&record)),
            Err(rejection) => visit(Err(rejection)),
        }
    }
    Ok(count)
}

/// A cell as text: whole numbers as digits, other numbers in their shortest form.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => format_number(*number),
        Data::DateTime(date) => format_number(date.as_f64()),
        Data::Bool(flag) => flag.to_string(),
        Data::Error(error) => error.to_string(),
    }
}

/// Whole numbers as digits; a number within rounding noise of whole hundredths (as a formula
/// leaves it) with two decimals; anything else in its shortest form (then rejected as a value).
fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        return format!("{}", number as i64);
    }
    let cents = (number * 100.0).round();
    if (cents - number * 100.0).abs() < 1e-6 && cents.abs() < 1e17 {
        let cents = cents as i64;
        let sign = if cents < 0 { "-" } else { "" };
        let absolute = cents.unsigned_abs();
        return format!("{sign}{}.{:02}", absolute / 100, absolute % 100);
    }
    format!("{number}")
}

/// Reads any table in CSV (UTF-8 with or without BOM, or GB18030) or XLSX (first worksheet)
/// cell by cell, for files whose columns are not FEEDS.md's (the rolls of `roll`): `header`
/// gets the first non-empty row, then `visit` every later non-empty row with its line (CSV:
/// the file's line, the header being line 1; XLSX: the worksheet's row number). A quoted CSV
/// cell may hold commas, `""` and line breaks, as in `read_csv`. A date cell of a workbook is
/// read as `YYYY-MM-DD`. Returns the number of data rows; `Err` when the file cannot be read at
/// all, or when `header` refuses the header (then no row was visited).
pub fn read_table<H, E: From<FeedError>>(
    bytes: &[u8],
    format: FeedFormat,
    header: impl FnOnce(&[&str]) -> Result<H, E>,
    mut visit: impl FnMut(&H, u64, Result<&[&str], Rejection>),
) -> Result<u64, E> {
    match format {
        FeedFormat::Csv => read_csv_table(&decode(bytes)?, header, visit),
        FeedFormat::Xlsx => {
            use calamine::{Data, Reader, Xlsx};
            let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
                .map_err(|error| FeedError::Xlsx(error.to_string()))?;
            let range = workbook
                .worksheet_range_at(0)
                .ok_or(FeedError::Empty)?
                .map_err(|error| FeedError::Xlsx(error.to_string()))?;
            let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
            let text = |cell: &Data| match cell {
                Data::DateTime(date) => {
                    let (year, month, day, ..) = date.to_ymd_hms_milli();
                    format!("{year:04}-{month:02}-{day:02}")
                }
                Data::DateTimeIso(text) => text.chars().take(10).collect(),
                other => cell_text(other),
            };
            let mut rows = (first_row + 1..)
                .zip(range.rows())
                .filter_map(|(line, row)| {
                    let cells: Vec<String> = row.iter().map(text).collect();
                    (!cells.iter().all(|cell| cell.trim().is_empty())).then_some((line, cells))
                });
            let (_, names) = rows.next().ok_or(FeedError::Empty)?;
            let header = header(&names.iter().map(String::as_str).collect::<Vec<_>>())?;
            let mut count = 0;
            for (line, cells) in rows {
                count += 1;
                visit(
                    &header,
                    line,
                    Ok(&cells.iter().map(String::as_str).collect::<Vec<_>>()),
                );
            }
            Ok(count)
        }
        FeedFormat::JsonLines => {
            Err(FeedError::Xlsx("此类文件只接受 CSV 或 XLSX".to_owned()).into())
        }
    }
}

fn read_csv_table<H, E: From<FeedError>>(
    text: &str,
    header: impl FnOnce(&[&str]) -> Result<H, E>,
    mut visit: impl FnMut(&H, u64, Result<&[&str], Rejection>),
) -> Result<u64, E> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (first, body) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.strip_suffix('\r').unwrap_or(first);
    if first.trim().is_empty() {
        return Err(FeedError::Empty.into());
    }
    let names = split_csv(first).map_err(|_| FeedError::BadHeader)?;
    let header = header(&names.iter().map(|name| name.as_ref()).collect::<Vec<_>>())?;
    let mut rows = 0;
    let mut next_no = 2;
    let mut at = 0;
    while at < body.len() {
        let line_no = next_no;
        let start = at;
        let mut end = line_end(body, at);
        at = end + 1;
        next_no += 1;
        let mut split = split_csv(
            body[start..end]
                .strip_suffix('\r')
                .unwrap_or(&body[start..end]),
        );
        // A quoted cell may go on over the next lines (up to `MAX_RECORD_LINES`).
        let mut more_lines = 1;
        while matches!(split, Err(SplitError::Unclosed { .. }))
            && at < body.len()
            && more_lines < MAX_RECORD_LINES
        {
            end = line_end(body, at);
            at = end + 1;
            next_no += 1;
            more_lines += 1;
            let joined = &body[start..end];
            split = split_csv(joined.strip_suffix('\r').unwrap_or(joined));
        }
        let line = &body[start..end];
        if line.trim().is_empty() {
            continue;
        }
        rows += 1;
        match split {
            Ok(split) => {
                let cells: Vec<&str> = split.iter().map(|cell| cell.as_ref()).collect();
                visit(&header, line_no, Ok(&cells));
            }
            Err(fault) => visit(
                &header,
                line_no,
                Err(Rejection {
                    line: line_no,
                    reason: fault.to_string(),
                }),
            ),
        }
    }
    Ok(rows)
}
