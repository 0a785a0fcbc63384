//! The charts of the printable report as inline SVG (drawn from the same section data and
//! chart specifications as the workbook's, so print and spreadsheet agree, no script needed).

use crate::Cell;
use crate::joint::{ChartKind, ChartSpec, Section};

/// Series colours (print-safe, distinguishable in grey).
pub const PALETTE: [&str; 8] = [
    "#1f4e79", "#c0504d", "#9bbb59", "#8064a2", "#f79646", "#4bacc6", "#7f7f7f", "#2c8c5a",
];

/// Escapes text for SVG/HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn value(cell: Option<&Cell>) -> f64 {
    match cell {
        Some(Cell::Integer(value)) => *value as f64,
        Some(Cell::Fen(fen)) => *fen as f64 / 100.0,
        _ => 0.0,
    }
}

/// A round upper bound for the axis: 1, 2 or 5 times a power of ten.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if max <= step * power {
            return step * power;
        }
    }
    10.0 * power
}

fn axis_label(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{}万", value / 10_000.0)
    } else {
        format!("{value}")
    }
}

/// The series of a chart: (name, values per category).
pub fn chart_data(section: &Section, spec: &ChartSpec) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let rows = &section.table.rows[..section.data_rows.min(section.table.rows.len())];
    let categories = rows
        .iter()
        .map(|row| {
            row.get(usize::from(spec.categories_column))
                .map(Cell::display)
                .unwrap_or_default()
        })
        .collect();
    let series = spec
        .value_columns
        .iter()
        .map(|&column| {
            let name = section
                .table
                .headers
                .get(usize::from(column))
                .cloned()
                .unwrap_or_default();
            let values = rows
                .iter()
                .map(|row| value(row.get(usize::from(column))))
                .collect();
            (name, values)
        })
        .collect();
    (categories, series)
}

/// One chart as an SVG element (empty when the section has no data rows).
pub fn svg(section: &Section, spec: &ChartSpec) -> String {
    let (categories, series) = chart_data(section, spec);
    if categories.is_empty() || series.is_empty() {
        return String::new();
    }
    let (width, height) = (760.0, 300.0);
    let (left, right, top, bottom) = (64.0, 12.0, 34.0, 86.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = series
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .fold(0.0, f64::max);
    let max = nice_max(max);
    let y = |v: f64| top + plot_h - v / max * plot_h;
    let mut out = format!(
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{title}"><title>{title}</title><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{title}</text>"#,
        title = escape(&spec.title),
        cx = width / 2.0
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        out.push_str(&format!(
            r##"<line x1="{left}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end" font-size="10">{label}</text>"##,
            x2 = width - right,
            y = y(v),
            tx = left - 4.0,
            ty = y(v) + 3.0,
            label = axis_label(v)
        ));
    }
    out.push_str(&format!(
        r#"<text x="12" y="{}" font-size="10">{}</text>"#,
        top - 6.0,
        escape(&spec.y_title)
    ));
    let band = plot_w / categories.len() as f64;
    for (i, category) in categories.iter().enumerate() {
        let cx = left + band * (i as f64 + 0.5);
        out.push_str(&format!(
            r#"<text x="{cx:.1}" y="{ty}" font-size="10" text-anchor="end" transform="rotate(-35 {cx:.1} {ty})">{}</text>"#,
            escape(category),
            ty = top + plot_h + 14.0
        ));
    }
    match spec.kind {
        ChartKind::Column => {
            let bar = band * 0.8 / series.len() as f64;
            for (k, (_, values)) in series.iter().enumerate() {
                let colour = PALETTE[k % PALETTE.len()];
                for (i, v) in values.iter().enumerate() {
                    let x = left + band * i as f64 + band * 0.1 + bar * k as f64;
                    out.push_str(&format!(
                        r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{colour}"/>"#,
                        y = y(*v),
                        h = (top + plot_h - y(*v)).max(0.0)
                    ));
                }
            }
        }
        ChartKind::Line => {
            for (k, (_, values)) in series.iter().enumerate() {
                let colour = PALETTE[k % PALETTE.len()];
                let points: Vec<String> = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("{:.1},{:.1}", left + band * (i as f64 + 0.5), y(*v)))
                    .collect();
                out.push_str(&format!(
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                    points.join(" ")
                ));
                for point in &points {
                    let (px, py) = point.split_once(',').unwrap_or(("0", "0"));
                    out.push_str(&format!(
                        r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#
                    ));
                }
            }
        }
    }
    // Legend along the bottom.
    let mut lx = left;
    for (k, (name, _)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let ly = height - 10.0;
        out.push_str(&format!(
            r#"<rect x="{lx:.1}" y="{ry}" width="10" height="10" fill="{colour}"/><text x="{tx:.1}" y="{ly}" font-size="10">{}</text>"#,
            escape(name),
            ry = ly - 9.0,
            tx = lx + 13.0
        ));
        lx += 20.0 + name.chars().count() as f64 * 10.5;
    }
    out.push_str("</svg>");
    out
}
