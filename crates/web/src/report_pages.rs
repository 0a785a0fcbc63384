//! 报表 and 驾驶舱 (R1): the semi-annual joint report on screen, as an XLSX download and as a
//! print-ready A4 page; the dashboard with ECharts (a vendored asset served from here).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::session::PageUser;
use app::AppError;
use app::report::AreaChoice;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use report::JointReport;
use serde::Deserialize;

/// A section as the templates show it: cells as text with a flag for figures, charts as SVG.
pub struct ShownSection {
    pub title: String,
    pub notes: Vec<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<(String, bool)>>,
    pub charts: Vec<String>,
    pub connected: bool,
}

fn shown_sections(report: &JointReport) -> Vec<ShownSection> {
    let common = report.notes().len();
    report
        .sections()
        .iter()
        .map(|section| ShownSection {
            title: section.table.title.clone(),
            // The period and due-date lines are shown once, under the document's title.
            notes: section.table.notes.iter().skip(common).cloned().collect(),
            headers: section.table.headers.clone(),
            rows: section
                .table
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|cell| (cell.display(), cell.is_number()))
                        .collect()
                })
                .collect(),
            charts: section
                .charts
                .iter()
                .map(|spec| report::print::svg(section, spec))
                .filter(|svg| !svg.is_empty())
                .collect(),
            connected: section.connected,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "report_print.html")]
struct PrintPage {
    title: String,
    notes: Vec<String>,
    sections: Vec<ShownSection>,
    back: String,
    /// The print stylesheet inside the page, for a file that stands alone; `None` links it.
    standalone_css: Option<&'static str>,
}

/// The printable document on the shared print layout (A4 landscape, `@media print`), linking
/// `/static/print.css`.
fn printable_report(report: &JointReport, back: &str) -> Result<String, askama::Error> {
    print_page(report, back, None)
}

/// The printable document as one file (`safetynet report --html`): the same page with the
/// shared print stylesheet inside it.
pub fn standalone_report(report: &JointReport) -> Result<String, askama::Error> {
    print_page(report, "/reports", Some(crate::pages::PRINT_CSS))
}

fn print_page(
    report: &JointReport,
    back: &str,
    standalone_css: Option<&'static str>,
) -> Result<String, askama::Error> {
    PrintPage {
        title: report.title(),
        notes: report.notes(),
        sections: shown_sections(report),
        back: back.to_owned(),
        standalone_css,
    }
    .render()
}

#[derive(Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    area: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    chrome: Chrome,
    periods: Vec<(String, String)>,
    period: String,
    areas: Vec<AreaChoice>,
    area: String,
    error: String,
    title: String,
    notes: Vec<String>,
    sections: Vec<ShownSection>,
    query: String,
    /// 数据截至: when the figures were counted (`HH:MM`, they are cached for a few minutes).
    counted_at: String,
    /// The minutes the figures are kept.
    kept_minutes: i64,
}

fn query_string(period: &str, area: &str) -> String {
    format!("period={}&area={}", encode(period), encode(area))
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `GET /reports?period=2026H2&area=500151`: pickers scoped by the user's area, the report.
pub async fn reports(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<ReportQuery>,
) -> Result<(StatusCode, ReportsPage), PageError> {
    let actor = &signed.actor;
    let areas = state.app.report_areas(actor).await?;
    let schedule = state.app.report_schedule()?;
    let today = state.app.today();
    let periods: Vec<(String, String)> = schedule
        .recent(today, 6)
        .into_iter()
        .map(|p| {
            let due = p
                .due
                .map(|due| format!("，{due}前报送"))
                .unwrap_or_default();
            (p.code.clone(), format!("{}（{}{due}）", p.label, p.code))
        })
        .collect();
    let period = query
        .period
        .filter(|text| !text.trim().is_empty())
        .unwrap_or_else(|| schedule.current(today).code);
    let area = query
        .area
        .filter(|text| !text.trim().is_empty())
        .unwrap_or_else(|| actor.scope().as_str().to_owned());
    let mut page = ReportsPage {
        chrome: Chrome::of(&signed),
        periods,
        query: query_string(&period, &area),
        period: period.clone(),
        areas,
        area: area.clone(),
        error: String::new(),
        title: String::new(),
        notes: Vec::new(),
        sections: Vec::new(),
        counted_at: String::new(),
        kept_minutes: state.app.figures_kept_minutes(),
    };
    match state
        .app
        .joint_report_figures(actor, &period, Some(&area))
        .await
    {
        Ok(figures) => {
            page.counted_at = figures.counted_at_text();
            let report = &figures.report;
            page.title = report.title();
            page.notes = report.notes();
            page.sections = shown_sections(report);
        }
        Err(AppError::Invalid(errors)) => {
            page.error = errors
                .iter()
                .map(|error| error.message.clone())
                .collect::<Vec<_>>()
                .join("；");
        }
        // A period that is not one (period=abc): the page, saying so, answered 400.
        Err(AppError::BadQuery(error)) => {
            page.error = error.message;
            return Ok((StatusCode::BAD_REQUEST, page));
        }
        Err(other) => return Err(PageError(other)),
    }
    Ok((StatusCode::OK, page))
}

async fn report_of(
    state: &WebState,
    signed: &crate::session::Signed,
    query: &ReportQuery,
) -> Result<JointReport, AppError> {
    let period = match query
        .period
        .as_deref()
        .filter(|text| !text.trim().is_empty())
    {
        Some(period) => period.to_owned(),
        None => state.app.report_schedule()?.current(state.app.today()).code,
    };
    state
        .app
        .joint_report(&signed.actor, &period, query.area.as_deref())
        .await
}

/// `GET /reports/xlsx?period=…&area=…`: the workbook.
pub async fn report_xlsx(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let report = report_of(&state, &signed, &query).await?;
    // Building a workbook is CPU work: off the async runtime.
    let (report, bytes) = tokio::task::spawn_blocking(move || {
        let bytes = report.to_xlsx();
        (report, bytes)
    })
    .await
    .map_err(|error| PageError(AppError::Internal(error.into())))?;
    let bytes = bytes.map_err(|error| PageError(AppError::Internal(error.into())))?;
    let file_name = format!(
        "joint-report-{}-{}.xlsx",
        report.area_code, report.period_code
    );
    Ok(crate::pages::xlsx_download(&file_name, bytes))
}

/// `GET /reports/print?period=…&area=…`: the print-ready page.
pub async fn report_print(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let report = report_of(&state, &signed, &query).await?;
    let back = format!(
        "/reports?{}",
        query_string(&report.period_code, &report.area_code)
    );
    let html = printable_report(&report, &back)
        .map_err(|error| PageError(AppError::Internal(error.into())))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

#[derive(Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    area: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    chrome: Chrome,
    r: JointReport,
    crumbs: Vec<AreaChoice>,
    drill: bool,
    /// (label, households, persons) of each category.
    categories: Vec<(String, i64, i64)>,
    warnings_connected: bool,
    referrals_connected: bool,
    referral_yuan: String,
    /// The report's area for the link to the joint report (a village links to its town).
    report_area: String,
    /// The figures as JSON for the charts, safe inside a script element.
    data: String,
    /// 数据截至: when the figures were counted (`HH:MM`, they are cached for a few minutes).
    counted_at: String,
    kept_minutes: i64,
    /// 上线检查 on a district's dashboard until every parameter has a value: (parameters
    /// without value, households pending because of them as last counted).
    go_live: Option<(usize, Option<u64>)>,
    /// 上线检查 of the 工作日历: this year and the next when not entered (`2027、2028`), on a
    /// district's dashboard.
    calendar_missing: String,
}

/// JSON that cannot close the script element it sits in.
fn script_json(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string(value)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// `GET /dashboard?area=CODE`: figures and charts of a district, town or village.
pub async fn dashboard(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<DashboardQuery>,
) -> Result<DashboardPage, PageError> {
    let dashboard = state
        .app
        .dashboard(&signed.actor, query.area.as_deref())
        .await?;
    let r = dashboard.report;
    let (go_live, calendar_missing) = if r.area_code.len() == 6 {
        let checklist = state.app.go_live(&signed.actor).await?;
        (
            (!checklist.is_clear())
                .then_some((checklist.items.len(), checklist.pending_households)),
            crate::calendar_pages::years_text(&checklist.calendar_missing),
        )
    } else {
        (None, String::new())
    };
    let data = script_json(&r).map_err(|error| PageError(AppError::Internal(error.into())))?;
    let report_area = if r.area_code.len() > 9 {
        r.area_code[..9].to_owned()
    } else {
        r.area_code.clone()
    };
    Ok(DashboardPage {
        chrome: Chrome::of(&signed),
        categories: r
            .category_labels
            .iter()
            .zip(&r.total.by_category)
            .map(|(label, count)| (label.clone(), count.households, count.persons))
            .collect(),
        warnings_connected: r.warnings.is_some(),
        referrals_connected: r.referrals.is_some(),
        referral_yuan: report::Cell::Fen(r.total.referral_fen).display(),
        report_area,
        crumbs: dashboard.trail,
        drill: dashboard.drills_down,
        counted_at: app::report::counted_at_text(dashboard.computed_at),
        kept_minutes: state.app.figures_kept_minutes(),
        go_live,
        calendar_missing,
        data,
        r,
    })
}

/// The vendored ECharts (Apache-2.0, `static/vendor/echarts/`), cached for a year: its URL
/// carries the version.
pub async fn echarts() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        &include_bytes!("../static/vendor/echarts/echarts.min.js")[..],
    )
}

pub async fn dashboard_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/dashboard.js"),
    )
}
