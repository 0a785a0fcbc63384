//! 半年联合报告 (R1): the figures of one jurisdiction (district or town) for one period, from
//! plain rows the shell has aggregated — persons and households by category and place as of the
//! period's end, entries and exits, benefit amounts by month, cases by step and overdue,
//! warnings and referrals. Pure: the same input gives the same report.
//!
//! Places: the store groups by village (or any code under the jurisdiction); the report rolls
//! the rows up to its units — the towns of a district report, the villages of a town report.

use crate::schedule::{Month, ReportPeriod};
use crate::{Cell, Table};
use chrono::NaiveDate;
use domain::Category;
use std::collections::BTreeMap;

/// A place the report shows a row for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub code: String,
    pub name: String,
}

/// Households and persons on the registry under one place (open memberships on the day).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceCount {
    pub place: String,
    pub households: i64,
    pub persons: i64,
}

/// Households and persons of one category under one place on the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryCount {
    pub place: String,
    pub category: Category,
    pub households: i64,
    pub persons: i64,
}

/// Category periods that started (entries) or ended (exits) in one month under one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowCount {
    /// `2026-07`
    pub month: String,
    pub place: String,
    pub category: Category,
    pub entries: i64,
    pub exits: i64,
}

/// The monthly amounts of category periods running in one month under one place (应发).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenefitCount {
    pub month: String,
    pub place: String,
    pub category: Category,
    pub fen: i64,
}

/// One case as the report sees it, its state on the report's day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFact {
    pub place: String,
    /// The step's label on the day (`入户调查`, `已认定` …), in process order `step_order`.
    pub step: String,
    pub step_order: usize,
    /// Received within the period.
    pub received: bool,
    /// Closed (confirmed, refused, withdrawn) within the period.
    pub closed: bool,
    /// Still in progress on the day.
    pub open: bool,
    /// In progress and past a time limit on the day.
    pub overdue: bool,
}

/// A data source that may not be connected yet: a section without it says so (数据源未接入).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source<T> {
    Connected(T),
    Missing,
}

impl<T> Source<T> {
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Source::Connected(value) => Some(value),
            Source::Missing => None,
        }
    }
}

/// Warnings of one kind under one place: raised and closed in the period, overdue on the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningCount {
    pub place: String,
    pub kind: String,
    pub raised: i64,
    pub closed: i64,
    pub overdue: i64,
}

/// Referrals of one assistance item under one place made in the period, by how they stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralCount {
    pub place: String,
    pub item: String,
    pub referred: i64,
    pub delivered: i64,
    pub declined: i64,
    pub pending: i64,
    /// Amount delivered, fen.
    pub fen: i64,
}

/// Amounts delivered by referral in one month for one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentCount {
    pub month: String,
    pub item: String,
    pub fen: i64,
}

/// Everything the shell read for one report.
#[derive(Clone, Debug)]
pub struct JointInput {
    pub area_code: String,
    /// `铜梁区` or `铜梁区 巴川街道`
    pub area_name: String,
    /// `镇街` or `村社`
    pub unit_label: String,
    pub units: Vec<Unit>,
    pub period: ReportPeriod,
    pub as_of: NaiveDate,
    pub generated_on: NaiveDate,
    pub registry: Vec<PlaceCount>,
    pub categories: Vec<CategoryCount>,
    pub flows: Vec<FlowCount>,
    pub benefits: Vec<BenefitCount>,
    pub cases: Vec<CaseFact>,
    pub warnings: Source<Vec<WarningCount>>,
    pub referrals: Source<Vec<ReferralCount>>,
    pub payments: Source<Vec<PaymentCount>>,
}

/// Households and persons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Headcount {
    pub households: i64,
    pub persons: i64,
}

/// One row of the place tables.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub registry: Headcount,
    /// Aligned with `CATEGORIES`.
    pub by_category: Vec<Headcount>,
    pub entries: i64,
    pub exits: i64,
    /// Benefit amounts over the period's months, fen.
    pub benefit_fen: i64,
    pub cases_received: i64,
    pub cases_closed: i64,
    pub cases_open: i64,
    pub cases_overdue: i64,
    pub warnings_raised: i64,
    pub warnings_closed: i64,
    pub warnings_overdue: i64,
    pub referrals: i64,
    pub referrals_delivered: i64,
    pub referral_fen: i64,
}

/// One month of the period.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MonthRow {
    pub key: String,
    pub label: String,
    /// Aligned with `CATEGORIES`.
    pub entries: Vec<i64>,
    pub exits: Vec<i64>,
    pub benefit_fen: Vec<i64>,
    pub entries_total: i64,
    pub exits_total: i64,
    pub benefit_total_fen: i64,
    /// Delivered by referral (when connected).
    pub payment_fen: i64,
}

/// Cases on one step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StepRow {
    pub step: String,
    /// Cases on this step on the day (open steps) or that reached it in the period (final).
    pub cases: i64,
    pub overdue: i64,
}

/// Warnings of one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WarningRow {
    pub kind: String,
    pub raised: i64,
    pub closed: i64,
    pub overdue: i64,
}

/// Referrals of one item.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReferralRow {
    pub item: String,
    pub referred: i64,
    pub delivered: i64,
    pub declined: i64,
    pub pending: i64,
    pub fen: i64,
}

/// The categories of the report, in the order of its columns.
pub const CATEGORIES: &[Category] = Category::ALL;

/// The report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JointReport {
    pub area_code: String,
    pub area_name: String,
    pub unit_label: String,
    pub period_code: String,
    pub period_label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub due: Option<NaiveDate>,
    pub source: String,
    pub as_of: NaiveDate,
    pub generated_on: NaiveDate,
    pub category_labels: Vec<String>,
    pub units: Vec<UnitRow>,
    pub total: UnitRow,
    pub months: Vec<MonthRow>,
    pub steps: Vec<StepRow>,
    /// None: 数据源未接入.
    pub warnings: Option<Vec<WarningRow>>,
    pub referrals: Option<Vec<ReferralRow>>,
    pub payments_connected: bool,
}

/// The text of a section whose source is not connected.
pub const NOT_CONNECTED: &str = "数据源未接入";

fn category_index(category: Category) -> usize {
    CATEGORIES
        .iter()
        .position(|c| *c == category)
        .unwrap_or_default()
}

impl JointReport {
    /// Rolls the rows up to the units and the total.
    pub fn compute(input: &JointInput) -> JointReport {
        let n_categories = CATEGORIES.len();
        let mut units: Vec<UnitRow> = input
            .units
            .iter()
            .map(|unit| UnitRow {
                code: unit.code.clone(),
                name: unit.name.clone(),
                by_category: vec![Headcount::default(); n_categories],
                ..UnitRow::default()
            })
            .collect();
        // Rows under no unit (a household filed at the jurisdiction itself) get a row of their own.
        let mut other = UnitRow {
            code: input.area_code.clone(),
            name: format!("（直属{}）", input.area_name),
            by_category: vec![Headcount::default(); n_categories],
            ..UnitRow::default()
        };
        let mut total = UnitRow {
            code: input.area_code.clone(),
            name: "合计".to_owned(),
            by_category: vec![Headcount::default(); n_categories],
            ..UnitRow::default()
        };
        // Longest code first, so a unit nested in another (never in practice) takes its own rows.
        let codes: Vec<String> = units.iter().map(|unit| unit.code.clone()).collect();
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(codes[i].len()));
        let unit_of = |place: &str| {
            order
                .iter()
                .copied()
                .find(|&i| place.starts_with(codes[i].as_str()))
        };
        let mut apply = |place: &str, f: &mut dyn FnMut(&mut UnitRow)| {
            match unit_of(place) {
                Some(i) => f(&mut units[i]),
                None => f(&mut other),
            }
            f(&mut total);
        };

        for row in &input.registry {
            apply(&row.place, &mut |u| {
                u.registry.households += row.households;
                u.registry.persons += row.persons;
            });
        }
        for row in &input.categories {
            let i = category_index(row.category);
            apply(&row.place, &mut |u| {
                u.by_category[i].households += row.households;
                u.by_category[i].persons += row.persons;
            });
        }
        let months_of_period = input.period.months(input.as_of);
        let mut months: BTreeMap<String, MonthRow> = months_of_period
            .iter()
            .map(|month: &Month| {
                (
                    month.key(),
                    MonthRow {
                        key: month.key(),
                        label: month.label(),
                        entries: vec![0; n_categories],
                        exits: vec![0; n_categories],
                        benefit_fen: vec![0; n_categories],
                        ..MonthRow::default()
                    },
                )
            })
            .collect();
        for row in &input.flows {
            let i = category_index(row.category);
            apply(&row.place, &mut |u| {
                u.entries += row.entries;
                u.exits += row.exits;
            });
            if let Some(month) = months.get_mut(&row.month) {
                month.entries[i] += row.entries;
                month.exits[i] += row.exits;
                month.entries_total += row.entries;
                month.exits_total += row.exits;
            }
        }
        for row in &input.benefits {
            if !months.contains_key(&row.month) {
                continue;
            }
            let i = category_index(row.category);
            apply(&row.place, &mut |u| u.benefit_fen += row.fen);
            if let Some(month) = months.get_mut(&row.month) {
                month.benefit_fen[i] += row.fen;
                month.benefit_total_fen += row.fen;
            }
        }
        let mut steps: BTreeMap<(usize, String), StepRow> = BTreeMap::new();
        for case in &input.cases {
            apply(&case.place, &mut |u| {
                u.cases_received += i64::from(case.received);
                u.cases_closed += i64::from(case.closed);
                u.cases_open += i64::from(case.open);
                u.cases_overdue += i64::from(case.overdue);
            });
            if case.open || case.closed {
                let step = steps
                    .entry((case.step_order, case.step.clone()))
                    .or_insert_with(|| StepRow {
                        step: case.step.clone(),
                        cases: 0,
                        overdue: 0,
                    });
                step.cases += 1;
                step.overdue += i64::from(case.overdue);
            }
        }
        let warnings = input.warnings.as_ref().map(|rows| {
            let mut kinds: BTreeMap<String, WarningRow> = BTreeMap::new();
            for row in rows {
                apply(&row.place, &mut |u| {
                    u.warnings_raised += row.raised;
                    u.warnings_closed += row.closed;
                    u.warnings_overdue += row.overdue;
                });
                let kind = kinds.entry(row.kind.clone()).or_insert_with(|| WarningRow {
                    kind: row.kind.clone(),
                    ..WarningRow::default()
                });
                kind.raised += row.raised;
                kind.closed += row.closed;
                kind.overdue += row.overdue;
            }
            kinds.into_values().collect::<Vec<_>>()
        });
        let referrals = input.referrals.as_ref().map(|rows| {
            let mut items: BTreeMap<String, ReferralRow> = BTreeMap::new();
            for row in rows {
                apply(&row.place, &mut |u| {
                    u.referrals += row.referred;
                    u.referrals_delivered += row.delivered;
                    u.referral_fen += row.fen;
                });
                let item = items
                    .entry(row.item.clone())
                    .or_insert_with(|| ReferralRow {
                        item: row.item.clone(),
                        ..ReferralRow::default()
                    });
                item.referred += row.referred;
                item.delivered += row.delivered;
                item.declined += row.declined;
                item.pending += row.pending;
                item.fen += row.fen;
            }
            items.into_values().collect::<Vec<_>>()
        });
        if let Some(rows) = input.payments.as_ref() {
            for row in rows {
                if let Some(month) = months.get_mut(&row.month) {
                    month.payment_fen += row.fen;
                }
            }
        }
        if other
            != (UnitRow {
                code: other.code.clone(),
                name: other.name.clone(),
                by_category: vec![Headcount::default(); n_categories],
                ..UnitRow::default()
            })
        {
            units.push(other);
        }
        JointReport {
            area_code: input.area_code.clone(),
            area_name: input.area_name.clone(),
            unit_label: input.unit_label.clone(),
            period_code: input.period.code.clone(),
            period_label: input.period.label.clone(),
            start: input.period.start,
            end: input.period.end,
            due: input.period.due,
            source: input.period.source.clone(),
            as_of: input.as_of,
            generated_on: input.generated_on,
            category_labels: CATEGORIES.iter().map(|c| c.label().to_owned()).collect(),
            units,
            total,
            months: months.into_values().collect(),
            steps: steps.into_values().collect(),
            warnings,
            referrals,
            payments_connected: matches!(input.payments, Source::Connected(_)),
        }
    }

    /// `铜梁区 2026年下半年 低收入人口救助帮扶工作情况`
    pub fn title(&self) -> String {
        format!(
            "{} {}低收入人口救助帮扶工作情况",
            self.area_name, self.period_label
        )
    }

    /// Lines under the title of every output.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "报告期 {} 至 {}；统计截至 {}；生成日期 {}",
            self.start, self.end, self.as_of, self.generated_on
        )];
        if let Some(due) = self.due {
            notes.push(format!("报送截止 {due} 前（{}）", self.source));
        }
        notes
    }

    /// The report's sections as tables, in the order of the workbook's sheets.
    pub fn sections(&self) -> Vec<Section> {
        let mut sections = vec![
            self.registry_section(),
            self.flow_section(),
            self.benefit_section(),
            self.case_section(),
            self.warning_section(),
            self.referral_section(),
        ];
        sections.retain(|section| !section.sheet.is_empty());
        sections
    }

    fn registry_section(&self) -> Section {
        let mut headers = vec![
            self.unit_label.clone(),
            "区划代码".to_owned(),
            "在册户数".to_owned(),
            "在册人数".to_owned(),
        ];
        for label in &self.category_labels {
            headers.push(format!("{label}（户）"));
            headers.push(format!("{label}（人）"));
        }
        let row = |u: &UnitRow| {
            let mut cells = vec![
                Cell::Text(u.name.clone()),
                Cell::Text(u.code.clone()),
                Cell::Integer(u.registry.households),
                Cell::Integer(u.registry.persons),
            ];
            for count in &u.by_category {
                cells.push(Cell::Integer(count.households));
                cells.push(Cell::Integer(count.persons));
            }
            cells
        };
        let mut rows: Vec<Vec<Cell>> = self.units.iter().map(row).collect();
        rows.push(row(&self.total));
        let mut notes = self.notes();
        notes.push(format!(
            "在册对象按 {} 当日有效的家庭成员与类别期间统计；各类别分别计数（监测对象与救助类别可同时计入）",
            self.as_of
        ));
        Section {
            sheet: "在册对象".to_owned(),
            table: Table {
                title: format!("一、在册对象（按{}、类别）", self.unit_label),
                notes,
                headers,
                rows,
            },
            data_rows: self.units.len(),
            connected: true,
            charts: vec![ChartSpec {
                kind: ChartKind::Column,
                title: format!("各{}在册户数（按类别）", self.unit_label),
                categories_column: 0,
                value_columns: (0..self.category_labels.len())
                    .map(|i| 4 + 2 * i as u16)
                    .collect(),
                y_title: "户".to_owned(),
            }],
        }
    }

    fn flow_section(&self) -> Section {
        let mut headers = vec!["月份".to_owned()];
        for label in &self.category_labels {
            headers.push(format!("{label}纳入"));
        }
        for label in &self.category_labels {
            headers.push(format!("{label}退出"));
        }
        headers.push("纳入合计".to_owned());
        headers.push("退出合计".to_owned());
        let mut rows = Vec::new();
        let mut totals = vec![0i64; 2 * self.category_labels.len() + 2];
        for month in &self.months {
            let values: Vec<i64> = month
                .entries
                .iter()
                .chain(&month.exits)
                .copied()
                .chain([month.entries_total, month.exits_total])
                .collect();
            for (total, value) in totals.iter_mut().zip(&values) {
                *total += value;
            }
            let mut cells = vec![Cell::Text(month.label.clone())];
            cells.extend(values.into_iter().map(Cell::Integer));
            rows.push(cells);
        }
        let mut cells = vec![Cell::Text("合计".to_owned())];
        cells.extend(totals.into_iter().map(Cell::Integer));
        rows.push(cells);
        let n = self.category_labels.len() as u16;
        let mut notes = self.notes();
        notes.push("纳入：类别期间在当月开始；退出：类别期间在当月结束（按户计）".to_owned());
        Section {
            sheet: "纳入退出".to_owned(),
            table: Table {
                title: "二、纳入与退出（按月）".to_owned(),
                notes,
                headers,
                rows,
            },
            data_rows: self.months.len(),
            connected: true,
            charts: vec![ChartSpec {
                kind: ChartKind::Line,
                title: "每月纳入与退出户数".to_owned(),
                categories_column: 0,
                value_columns: vec![1 + 2 * n, 2 + 2 * n],
                y_title: "户".to_owned(),
            }],
        }
    }

    fn benefit_section(&self) -> Section {
        let mut headers = vec!["月份".to_owned()];
        for label in &self.category_labels {
            headers.push(format!("{label}（元）"));
        }
        headers.push("应发合计（元）".to_owned());
        headers.push(if self.payments_connected {
            "转介落实金额（元）".to_owned()
        } else {
            format!("转介落实金额（{NOT_CONNECTED}）")
        });
        let mut rows = Vec::new();
        let mut totals = vec![0i64; self.category_labels.len() + 2];
        for month in &self.months {
            let values: Vec<i64> = month
                .benefit_fen
                .iter()
                .copied()
                .chain([month.benefit_total_fen, month.payment_fen])
                .collect();
            for (total, value) in totals.iter_mut().zip(&values) {
                *total += value;
            }
            let mut cells = vec![Cell::Text(month.label.clone())];
            cells.extend(values.into_iter().map(Cell::Fen));
            rows.push(cells);
        }
        let mut cells = vec![Cell::Text("合计".to_owned())];
        cells.extend(totals.into_iter().map(Cell::Fen));
        rows.push(cells);
        let n = self.category_labels.len() as u16;
        let mut notes = self.notes();
        notes.push(
            "应发：当月有效的类别期间所登记的月救助金之和；实际发放：转介办结时登记的金额"
                .to_owned(),
        );
        let mut value_columns = vec![n + 1];
        if self.payments_connected {
            value_columns.push(n + 2);
        }
        Section {
            sheet: "救助金额".to_owned(),
            table: Table {
                title: "三、救助金额（按月）".to_owned(),
                notes,
                headers,
                rows,
            },
            data_rows: self.months.len(),
            connected: true,
            charts: vec![ChartSpec {
                kind: ChartKind::Line,
                title: "每月救助金额（元）".to_owned(),
                categories_column: 0,
                value_columns,
                y_title: "元".to_owned(),
            }],
        }
    }

    fn case_section(&self) -> Section {
        let headers = vec![
            format!("{}／环节", self.unit_label),
            "期内受理".to_owned(),
            "期内办结".to_owned(),
            "在办".to_owned(),
            "逾期".to_owned(),
        ];
        let mut rows: Vec<Vec<Cell>> = self
            .units
            .iter()
            .chain([&self.total])
            .map(|u| {
                vec![
                    Cell::Text(u.name.clone()),
                    Cell::Integer(u.cases_received),
                    Cell::Integer(u.cases_closed),
                    Cell::Integer(u.cases_open),
                    Cell::Integer(u.cases_overdue),
                ]
            })
            .collect();
        let data_rows = rows.len() - 1;
        rows.push(vec![Cell::Text("按环节".to_owned())]);
        for step in &self.steps {
            rows.push(vec![
                Cell::Text(step.step.clone()),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Integer(step.cases),
                Cell::Integer(step.overdue),
            ]);
        }
        let mut notes = self.notes();
        notes.push(format!(
            "在办、逾期按 {} 当日状态统计，时限按工作日历与办理时限参数计算；按环节：在办案件的当前环节及期内办结案件的结果",
            self.as_of
        ));
        Section {
            sheet: "案件办理".to_owned(),
            table: Table {
                title: "四、案件办理（受理、办结、在办、逾期）".to_owned(),
                notes,
                headers,
                rows,
            },
            data_rows,
            connected: true,
            charts: vec![ChartSpec {
                kind: ChartKind::Column,
                title: format!("各{}在办与逾期案件", self.unit_label),
                categories_column: 0,
                value_columns: vec![3, 4],
                y_title: "件".to_owned(),
            }],
        }
    }

    fn warning_section(&self) -> Section {
        self.sourced_section(
            SourcedSection {
                sheet: "预警处置",
                title: "五、预警（新增、办结、逾期）",
                headers: &["预警类型", "期内新增", "期内办结", "逾期未办结"],
                missing: "预警处置数据尚未接入本报告",
                chart: ChartSpec {
                    kind: ChartKind::Column,
                    title: "各类预警新增与办结".to_owned(),
                    categories_column: 0,
                    value_columns: vec![1, 2, 3],
                    y_title: "条".to_owned(),
                },
            },
            self.warnings.as_deref(),
            |kinds| {
                let mut rows: Vec<Vec<Cell>> = kinds
                    .iter()
                    .map(|k| {
                        vec![
                            Cell::Text(k.kind.clone()),
                            Cell::Integer(k.raised),
                            Cell::Integer(k.closed),
                            Cell::Integer(k.overdue),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    Cell::Text("合计".to_owned()),
                    Cell::Integer(self.total.warnings_raised),
                    Cell::Integer(self.total.warnings_closed),
                    Cell::Integer(self.total.warnings_overdue),
                ]);
                rows
            },
        )
    }

    fn referral_section(&self) -> Section {
        self.sourced_section(
            SourcedSection {
                sheet: "转介帮扶",
                title: "六、转介帮扶（按项目、办理情况）",
                headers: &[
                    "救助项目",
                    "期内转介",
                    "期内落实",
                    "期内退回",
                    "办理中",
                    "落实金额（元）",
                ],
                missing: "转介与发放数据尚未接入本报告",
                chart: ChartSpec {
                    kind: ChartKind::Column,
                    title: "各救助项目转介与落实".to_owned(),
                    categories_column: 0,
                    value_columns: vec![1, 2],
                    y_title: "件".to_owned(),
                },
            },
            self.referrals.as_deref(),
            |items| {
                let mut rows: Vec<Vec<Cell>> = items
                    .iter()
                    .map(|i| {
                        vec![
                            Cell::Text(i.item.clone()),
                            Cell::Integer(i.referred),
                            Cell::Integer(i.delivered),
                            Cell::Integer(i.declined),
                            Cell::Integer(i.pending),
                            Cell::Fen(i.fen),
                        ]
                    })
                    .collect();
                let sum = |f: fn(&ReferralRow) -> i64| items.iter().map(f).sum::<i64>();
                rows.push(vec![
                    Cell::Text("合计".to_owned()),
                    Cell::Integer(sum(|i| i.referred)),
                    Cell::Integer(sum(|i| i.delivered)),
                    Cell::Integer(sum(|i| i.declined)),
                    Cell::Integer(sum(|i| i.pending)),
                    Cell::Fen(sum(|i| i.fen)),
                ]);
                rows
            },
        )
    }

    /// A section fed by a source that may not be connected: its data rows and a total row
    /// (`rows`), or one 数据源未接入 cell with a note saying what is missing; a chart only
    /// when there is data.
    fn sourced_section<T>(
        &self,
        shape: SourcedSection,
        source: Option<&[T]>,
        rows: impl FnOnce(&[T]) -> Vec<Vec<Cell>>,
    ) -> Section {
        let mut notes = self.notes();
        let (rows, data_rows, connected) = match source {
            None => {
                notes.push(format!("{NOT_CONNECTED}：{}", shape.missing));
                (vec![vec![Cell::Text(NOT_CONNECTED.to_owned())]], 0, false)
            }
            Some(data) => (rows(data), data.len(), true),
        };
        Section {
            sheet: shape.sheet.to_owned(),
            table: Table {
                title: shape.title.to_owned(),
                notes,
                headers: shape.headers.iter().map(|h| (*h).to_owned()).collect(),
                rows,
            },
            data_rows,
            connected,
            charts: if data_rows > 0 {
                vec![shape.chart]
            } else {
                Vec::new()
            },
        }
    }
}

/// The fixed parts of a section fed by a source that may not be connected.
struct SourcedSection {
    sheet: &'static str,
    title: &'static str,
    headers: &'static [&'static str],
    /// What the note says is missing when the source is not connected.
    missing: &'static str,
    chart: ChartSpec,
}

/// A chart of a section: the categories are the first `data_rows` cells of one column, each
/// series one value column over the same rows (its name the column's header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartSpec {
    pub kind: ChartKind,
    pub title: String,
    pub categories_column: u16,
    pub value_columns: Vec<u16>,
    pub y_title: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartKind {
    Column,
    Line,
}

/// One sheet of the workbook and one part of the printable document.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// The sheet's name.
    pub sheet: String,
    pub table: Table,
    /// How many rows from the first are data rows (the rest are totals and sub-tables).
    pub data_rows: usize,
    /// False when the section's source is not connected (数据源未接入).
    pub connected: bool,
    pub charts: Vec<ChartSpec>,
}
