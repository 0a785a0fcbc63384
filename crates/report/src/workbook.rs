//! The joint report as an XLSX workbook: one sheet per section, and native Excel charts whose
//! series point at the section's cells (so they follow an edit of the figures).

use crate::SpreadsheetError;
use crate::joint::{ChartKind, JointReport, Section};
use rust_xlsxwriter::{Chart, ChartLegendPosition, ChartType, Workbook};

/// Where a section's chart reads its data: rows and columns of its sheet (0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartRanges {
    pub sheet: String,
    pub first_row: u32,
    pub last_row: u32,
    pub categories_column: u16,
    pub value_columns: Vec<u16>,
    /// The row of the series' names (the header).
    pub header_row: u32,
}

impl Section {
    /// The header row of this section's table on its sheet (title, then one row per note).
    pub fn header_row(&self) -> u32 {
        1 + self.table.notes.len() as u32
    }

    /// The cell ranges of each chart of the section.
    pub fn chart_ranges(&self) -> Vec<ChartRanges> {
        let header_row = self.header_row();
        self.charts
            .iter()
            .map(|chart| ChartRanges {
                sheet: self.sheet.clone(),
                first_row: header_row + 1,
                last_row: header_row + self.data_rows.max(1) as u32,
                categories_column: chart.categories_column,
                value_columns: chart.value_columns.clone(),
                header_row,
            })
            .collect()
    }
}

impl JointReport {
    /// The workbook: a sheet per section (titles, notes, frozen headers, yuan formats) with
    /// its charts below the table, and a first sheet that says what the report is.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, SpreadsheetError> {
        let fail = |error: rust_xlsxwriter::XlsxError| SpreadsheetError(error.to_string());
        let mut workbook = Workbook::new();
        for section in self.sections() {
            let sheet = workbook.add_worksheet();
            sheet.set_name(&section.sheet).map_err(fail)?;
            let header_row = section.table.write_to(sheet)?;
            let mut anchor = header_row + section.table.rows.len() as u32 + 3;
            for (spec, ranges) in section.charts.iter().zip(section.chart_ranges()) {
                if section.data_rows == 0 {
                    continue;
                }
                let mut chart = Chart::new(match spec.kind {
                    ChartKind::Column => ChartType::Column,
                    ChartKind::Line => ChartType::Line,
                });
                for column in &ranges.value_columns {
                    chart
                        .add_series()
                        .set_name((ranges.sheet.as_str(), ranges.header_row, *column))
                        .set_categories((
                            ranges.sheet.as_str(),
                            ranges.first_row,
                            ranges.categories_column,
                            ranges.last_row,
                            ranges.categories_column,
                        ))
                        .set_values((
                            ranges.sheet.as_str(),
                            ranges.first_row,
                            *column,
                            ranges.last_row,
                            *column,
                        ));
                }
                chart.title().set_name(&spec.title);
                chart.y_axis().set_name(&spec.y_title);
                chart.legend().set_position(ChartLegendPosition::Bottom);
                chart.set_width(900).set_height(420);
                sheet.insert_chart(anchor, 0, &chart).map_err(fail)?;
                anchor += 23;
            }
        }
        workbook.save_to_buffer().map_err(fail)
    }
}
