use crate::joint::*;
use crate::schedule::*;
use chrono::NaiveDate;
use domain::Category;
use std::io::Read;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[test]
fn periods_and_due_dates_come_from_the_schedule() {
    let schedule = Schedule::builtin().unwrap();
    let h2 = schedule.period("2026H2").unwrap();
    assert_eq!((h2.start, h2.end), (day("2026-07-01"), day("2026-12-31")));
    assert_eq!(h2.due, Some(day("2026-11-30")));
    assert_eq!(h2.label, "2026年下半年");
    let h1 = schedule.period("2026h1").unwrap();
    assert_eq!(
        (h1.start, h1.end, h1.due),
        (
            day("2026-01-01"),
            day("2026-06-30"),
            Some(day("2026-06-25"))
        )
    );
    for bad in ["2026H3", "26H1", "2026", "H1", "abcdH1", ""] {
        let error = schedule.period(bad).unwrap_err().to_string();
        assert!(
            error.contains("报告期") && error.contains("2026H2"),
            "{bad}: {error}"
        );
    }
    // Another schedule (e.g. a quarterly trial) is data, not code.
    let quarterly = Schedule::parse(
        "source = \"试行\"\n[[period]]\ncode = \"Q1\"\nname = \"一季度\"\nfrom = \"01-01\"\nto = \"03-31\"\ndue = \"04-10\"\n",
    )
    .unwrap();
    let q1 = quarterly.period("2027Q1").unwrap();
    assert_eq!(
        (q1.end, q1.due),
        (day("2027-03-31"), Some(day("2027-04-10")))
    );
    assert!(matches!(
        Schedule::parse(
            "source = \"x\"\n[[period]]\ncode = \"H1\"\nname = \"a\"\nfrom = \"13-01\"\nto = \"06-30\"\ndue = \"06-25\"\n"
        ),
        Err(ScheduleError::Date { .. })
    ));
}

#[test]
fn a_running_period_counts_to_today_and_lists_its_months() {
    let schedule = Schedule::builtin().unwrap();
    let h2 = schedule.period("2026H2").unwrap();
    assert_eq!(h2.as_of(day("2026-11-28")), day("2026-11-28"));
    assert_eq!(h2.as_of(day("2027-03-01")), day("2026-12-31"));
    let months: Vec<String> = h2
        .months(day("2026-11-28"))
        .iter()
        .map(|m| m.key())
        .collect();
    assert_eq!(
        months,
        ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    );
    assert_eq!(h2.months(day("2027-01-05")).len(), 6);
    assert_eq!(schedule.current(day("2026-11-28")).code, "2026H2");
    assert_eq!(schedule.current(day("2026-03-01")).code, "2026H1");
    let recent: Vec<String> = schedule
        .recent(day("2026-11-28"), 3)
        .into_iter()
        .map(|p| p.code)
        .collect();
    assert_eq!(recent, ["2026H2", "2026H1", "2025H2"]);
    let window = ReportPeriod::months_to(day("2026-02-10"), 12);
    assert_eq!(
        (window.start, window.end),
        (day("2025-03-01"), day("2026-02-28"))
    );
    assert_eq!(window.months(day("2026-02-10")).len(), 12);
}

fn input() -> JointInput {
    let schedule = Schedule::builtin().unwrap();
    let unit = |code: &str, name: &str| Unit {
        code: code.into(),
        name: name.into(),
    };
    JointInput {
        area_code: "500151".into(),
        area_name: "铜梁区".into(),
        unit_label: "镇街".into(),
        units: vec![unit("500151001", "巴川街道"), unit("500151100", "土桥镇")],
        period: schedule.period("2026H2").unwrap(),
        as_of: day("2026-11-28"),
        generated_on: day("2026-11-28"),
        registry: vec![
            PlaceCount {
                place: "500151001200".into(),
                households: 3,
                persons: 7,
            },
            PlaceCount {
                place: "500151001201".into(),
                households: 2,
                persons: 5,
            },
            PlaceCount {
                place: "500151100201".into(),
                households: 4,
                persons: 9,
            },
            PlaceCount {
                place: "500151".into(),
                households: 1,
                persons: 1,
            },
        ],
        categories: vec![
            CategoryCount {
                place: "500151001200".into(),
                category: Category::Dibao,
                households: 2,
                persons: 5,
            },
            CategoryCount {
                place: "500151001201".into(),
                category: Category::Dibao,
                households: 1,
                persons: 2,
            },
            CategoryCount {
                place: "500151100201".into(),
                category: Category::Tekun,
                households: 1,
                persons: 1,
            },
            CategoryCount {
                place: "500151100201".into(),
                category: Category::Monitoring,
                households: 2,
                persons: 6,
            },
        ],
        flows: vec![
            FlowCount {
                month: "2026-07".into(),
                place: "500151001200".into(),
                category: Category::Dibao,
                entries: 2,
                exits: 0,
            },
            FlowCount {
                month: "2026-09".into(),
                place: "500151100201".into(),
                category: Category::Monitoring,
                entries: 1,
                exits: 1,
            },
        ],
        benefits: vec![
            BenefitCount {
                month: "2026-07".into(),
                place: "500151001200".into(),
                category: Category::Dibao,
                fen: 150_000,
            },
            BenefitCount {
                month: "2026-08".into(),
                place: "500151001200".into(),
                category: Category::Dibao,
                fen: 150_000,
            },
            BenefitCount {
                month: "2026-08".into(),
                place: "500151100201".into(),
                category: Category::Tekun,
                fen: 120_100,
            },
            // Outside the months counted: ignored.
            BenefitCount {
                month: "2026-12".into(),
                place: "500151100201".into(),
                category: Category::Tekun,
                fen: 999,
            },
        ],
        cases: vec![
            CaseFact {
                place: "500151001200".into(),
                step: "入户调查".into(),
                step_order: 2,
                received: true,
                closed: false,
                open: true,
                overdue: true,
            },
            CaseFact {
                place: "500151100201".into(),
                step: "已认定".into(),
                step_order: 7,
                received: false,
                closed: true,
                open: false,
                overdue: false,
            },
        ],
        warnings: Source::Missing,
        referrals: Source::Connected(vec![ReferralCount {
            place: "500151100201".into(),
            item: "临时救助".into(),
            referred: 3,
            delivered: 2,
            declined: 1,
            pending: 0,
            fen: 200_000,
        }]),
        payments: Source::Connected(vec![PaymentCount {
            month: "2026-10".into(),
            item: "临时救助".into(),
            fen: 200_000,
        }]),
    }
}

#[test]
fn rows_roll_up_to_units_and_total() {
    let report = JointReport::compute(&input());
    let dibao = CATEGORIES
        .iter()
        .position(|c| *c == Category::Dibao)
        .unwrap();
    let tekun = CATEGORIES
        .iter()
        .position(|c| *c == Category::Tekun)
        .unwrap();
    let names: Vec<&str> = report.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["巴川街道", "土桥镇", "（直属铜梁区）"]);
    let bachuan = &report.units[0];
    assert_eq!(
        (bachuan.registry.households, bachuan.registry.persons),
        (5, 12)
    );
    assert_eq!(
        bachuan.by_category[dibao],
        Headcount {
            households: 3,
            persons: 7
        }
    );
    assert_eq!(report.units[1].by_category[tekun].persons, 1);
    assert_eq!(
        (
            report.total.registry.households,
            report.total.registry.persons
        ),
        (10, 22)
    );
    assert_eq!(report.total.entries, 3);
    assert_eq!(report.total.exits, 1);
    assert_eq!(report.total.benefit_fen, 420_100);
    assert_eq!(report.months.len(), 5);
    assert_eq!(report.months[1].benefit_total_fen, 270_100);
    assert_eq!(report.months[3].payment_fen, 200_000);
    assert_eq!(
        (
            report.total.cases_open,
            report.total.cases_overdue,
            report.total.cases_closed
        ),
        (1, 1, 1)
    );
    assert_eq!(
        report
            .steps
            .iter()
            .map(|s| s.step.as_str())
            .collect::<Vec<_>>(),
        ["入户调查", "已认定"]
    );
    assert!(report.warnings.is_none());
    assert_eq!(report.referrals.as_ref().unwrap()[0].delivered, 2);
    assert_eq!(
        report.title(),
        "铜梁区 2026年下半年低收入人口救助帮扶工作情况"
    );
    assert!(report.notes()[1].contains("2026-11-30") && report.notes()[1].contains("铜民发"));
}

#[test]
fn a_section_without_its_source_says_so() {
    let report = JointReport::compute(&input());
    let sections = report.sections();
    let warnings = sections.iter().find(|s| s.sheet == "预警处置").unwrap();
    assert!(!warnings.connected);
    assert!(warnings.charts.is_empty());
    assert_eq!(
        warnings.table.rows[0][0],
        crate::Cell::Text(NOT_CONNECTED.into())
    );
    let referrals = sections.iter().find(|s| s.sheet == "转介帮扶").unwrap();
    assert!(referrals.connected && referrals.data_rows == 1);
}

fn zip_file(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// A0 → column letters.
fn column(index: u16) -> String {
    let mut n = u32::from(index) + 1;
    let mut out = String::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.insert(0, char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out
}

#[test]
fn workbook_has_a_sheet_per_section_and_charts_on_the_data_rows() {
    let report = JointReport::compute(&input());
    let bytes = report.to_xlsx().unwrap();
    let workbook = zip_file(&bytes, "xl/workbook.xml");
    for sheet in [
        "在册对象",
        "纳入退出",
        "救助金额",
        "案件办理",
        "预警处置",
        "转介帮扶",
    ] {
        assert!(workbook.contains(&format!("name=\"{sheet}\"")), "{sheet}");
    }
    // Chart 1: households by town, one series per category, over the unit rows only.
    let sections = report.sections();
    let registry = &sections[0];
    let ranges = &registry.chart_ranges()[0];
    assert_eq!(
        ranges.last_row - ranges.first_row + 1,
        report.units.len() as u32
    );
    let chart = zip_file(&bytes, "xl/charts/chart1.xml");
    assert!(chart.contains("<c:barChart>"));
    let categories = format!(
        "在册对象!$A${}:$A${}",
        ranges.first_row + 1,
        ranges.last_row + 1
    );
    assert!(
        chart.contains(&format!("<c:f>{categories}</c:f>")),
        "{chart}"
    );
    let dibao = 4 + 2 * CATEGORIES
        .iter()
        .position(|c| *c == Category::Dibao)
        .unwrap() as u16;
    let col = column(dibao);
    assert!(chart.contains(&format!(
        "<c:f>在册对象!${col}${}:${col}${}</c:f>",
        ranges.first_row + 1,
        ranges.last_row + 1
    )));
    assert!(chart.contains(&format!(
        "<c:f>在册对象!${col}${}</c:f>",
        ranges.header_row + 1
    )));
    assert_eq!(chart.matches("<c:ser>").count(), CATEGORIES.len());
    // The header cell the series is named by holds the category's households.
    let strings = zip_file(&bytes, "xl/sharedStrings.xml");
    assert!(strings.contains("低保（户）"));
    // The amounts sheet has a line chart over the months.
    let charts: Vec<String> = (1..=6)
        .filter_map(|i| {
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).ok()?;
            let mut text = String::new();
            archive
                .by_name(&format!("xl/charts/chart{i}.xml"))
                .ok()?
                .read_to_string(&mut text)
                .ok()?;
            Some(text)
        })
        .collect();
    let amounts = charts.iter().find(|c| c.contains("救助金额!")).unwrap();
    assert!(amounts.contains("<c:lineChart>"));
    let first = 1 + sections[2].table.notes.len() as u32 + 2;
    assert!(
        amounts.contains(&format!("救助金额!$A${first}:$A${}", first + 4)),
        "{amounts}"
    );
    // Frozen header and a yuan format.
    let sheet3 = zip_file(&bytes, "xl/worksheets/sheet3.xml");
    assert!(sheet3.contains("state=\"frozen\""));
    let styles = zip_file(&bytes, "xl/styles.xml");
    assert!(styles.contains("#,##0.00"));
}

#[test]
fn print_charts_draw_the_same_series() {
    let report = JointReport::compute(&input());
    let sections = report.sections();
    let svg = crate::print::svg(&sections[0], &sections[0].charts[0]);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains("巴川街道") && svg.contains("低保（户）"));
    // One bar per unit and category.
    assert_eq!(
        svg.matches("<rect x=").count(),
        report.units.len() * CATEGORIES.len() + CATEGORIES.len()
    );
    let line = crate::print::svg(&sections[2], &sections[2].charts[0]);
    assert!(line.contains("<polyline"));
    assert!(crate::print::escape("<a&\"b>") == "&lt;a&amp;&quot;b&gt;");
}

#[test]
fn display_groups_thousands() {
    assert_eq!(crate::Cell::Integer(1_234_567).display(), "1,234,567");
    assert_eq!(crate::Cell::Fen(-12_345_678).display(), "-123,456.78");
    assert_eq!(crate::Cell::Fen(5).display(), "0.05");
}
