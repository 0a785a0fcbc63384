//! 报表 (core): tables of figures and their outputs as bytes — CSV (UTF-8 with BOM, so that
//! Excel on a Chinese desktop opens it right) and XLSX workbooks.
//!
//! Invariant: no IO; the same table gives the same bytes for CSV, and the same cells for XLSX.

/// A cell of a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// Money in fen, written as yuan with two decimals.
    Fen(i64),
}

fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

impl Cell {
    /// The cell as a reader sees it: integers and yuan with thousands separators.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Integer(value) => {
                let sign = if *value < 0 { "-" } else { "" };
                format!("{sign}{}", grouped(value.unsigned_abs()))
            }
            Cell::Fen(fen) => {
                let sign = if *fen < 0 { "-" } else { "" };
                format!(
                    "{sign}{}.{:02}",
                    grouped(fen.unsigned_abs() / 100),
                    fen.unsigned_abs() % 100
                )
            }
        }
    }

    /// True for figures (right-aligned in print).
    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }

    fn csv(&self) -> String {
        match self {
            Cell::Text(text) => {
                if text.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", text.replace('"', "\"\""))
                } else {
                    text.clone()
                }
            }
            Cell::Integer(value) => value.to_string(),
            Cell::Fen(fen) => {
                let sign = if *fen < 0 { "-" } else { "" };
                format!(
                    "{sign}{}.{:02}",
                    fen.unsigned_abs() / 100,
                    fen.unsigned_abs() % 100
                )
            }
        }
    }
}

/// A titled table with one header row.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub title: String,
    /// Lines shown above the header (parameters, dates).
    pub notes: Vec<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, thiserror::Error)]
#[error("spreadsheet: {0}")]
pub struct SpreadsheetError(pub String);

impl Table {
    /// CSV with a UTF-8 byte-order mark; notes become leading comment-like rows.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut out = String::from("\u{feff}");
        for note in &self.notes {
            out.push_str(&Cell::Text(note.clone()).csv());
            out.push_str("\r\n");
        }
        let header: Vec<String> = self
            .headers
            .iter()
            .map(|h| Cell::Text(h.clone()).csv())
            .collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(Cell::csv).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out.into_bytes()
    }

    /// An XLSX workbook with one formatted sheet.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, SpreadsheetError> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        self.write_to(sheet)?;
        workbook.save_to_buffer().map_err(SpreadsheetError::of)
    }

    /// Writes the table on `sheet` (title, notes, a frozen header, Chinese widths, number
    /// formats: thousands for integers, two decimals for yuan) and answers the header's row.
    pub fn write_to(
        &self,
        sheet: &mut rust_xlsxwriter::Worksheet,
    ) -> Result<u32, SpreadsheetError> {
        use rust_xlsxwriter::{Format, FormatAlign, FormatBorder};
        let fail = SpreadsheetError::of;
        let title = Format::new().set_bold().set_font_size(14);
        let header = Format::new()
            .set_bold()
            .set_background_color("#EEF2F7")
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap();
        let text = Format::new().set_border(FormatBorder::Thin);
        let money = Format::new()
            .set_border(FormatBorder::Thin)
            .set_num_format("#,##0.00");
        let integer = Format::new()
            .set_border(FormatBorder::Thin)
            .set_num_format("#,##0");
        sheet
            .write_string_with_format(0, 0, &self.title, &title)
            .map_err(fail)?;
        let mut row_idx: u32 = 1;
        for note in &self.notes {
            sheet.write_string(row_idx, 0, note).map_err(fail)?;
            row_idx += 1;
        }
        let header_row = row_idx;
        for (col, name) in self.headers.iter().enumerate() {
            let col =
                u16::try_from(col).map_err(|_| SpreadsheetError("too many columns".into()))?;
            sheet
                .write_string_with_format(header_row, col, name, &header)
                .map_err(fail)?;
            // A CJK character is about two Latin widths; headers wrap past 14.
            let width = name
                .chars()
                .map(|c| if c.is_ascii() { 1.1 } else { 2.1 })
                .sum::<f64>();
            let width = if col == 0 {
                width.max(16.0)
            } else {
                width.clamp(10.0, 16.0)
            };
            sheet.set_column_width(col, width).map_err(fail)?;
        }
        sheet.set_row_height(header_row, 32).map_err(fail)?;
        for row in &self.rows {
            row_idx += 1;
            for (col, cell) in row.iter().enumerate() {
                let col =
                    u16::try_from(col).map_err(|_| SpreadsheetError("too many columns".into()))?;
                match cell {
                    Cell::Text(value) => sheet.write_string_with_format(row_idx, col, value, &text),
                    Cell::Integer(value) => {
                        sheet.write_number_with_format(row_idx, col, *value as f64, &integer)
                    }
                    Cell::Fen(fen) => {
                        sheet.write_number_with_format(row_idx, col, *fen as f64 / 100.0, &money)
                    }
                }
                .map_err(fail)?;
            }
        }
        sheet.set_freeze_panes(header_row + 1, 1).map_err(fail)?;
        Ok(header_row)
    }
}

impl SpreadsheetError {
    fn of(error: rust_xlsxwriter::XlsxError) -> SpreadsheetError {
        SpreadsheetError(error.to_string())
    }
}

pub mod joint;
pub mod print;
pub mod schedule;
mod workbook;

pub use joint::{JointInput, JointReport, Source};
pub use schedule::{InvalidPeriod, Month, ReportPeriod, Schedule, ScheduleError};

#[cfg(test)]
mod joint_tests;
#[cfg(test)]
mod tests;
