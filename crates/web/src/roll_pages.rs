//! 一门入库 (`/rolls`, issue 12 item 4): upload a roll → its dry-run report on the page →
//! 确认导入 → the result. District civil affairs (assistance rolls) and district agriculture
//! (the 防止返贫监测 roll); other roles get 403. The use cases are `app::rolls`.

use crate::WebState;
use crate::chrome::{Chrome, roll_categories};
use crate::error::PageError;
use crate::session::{PageUser, Signed};
use crate::upload::UploadForm;
use app::AppError;
use app::rolls::{RollReport, RollUpload};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::Category;
use serde::Deserialize;

/// The largest roll a page accepts (a district's whole roll as XLSX or CSV).
pub const ROLL_BYTES: usize = 256 << 20;

/// Rows of each kind the report lists on the page (the counts cover them all; the command
/// line lists every row).
const ROWS_SHOWN: usize = 200;

/// A line of the report as the page shows it.
pub struct ReportLine {
    pub line: u64,
    pub name: String,
    pub column: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "rolls.html")]
pub struct RollsPage {
    chrome: Chrome,
    categories: Vec<(&'static str, &'static str)>,
    category: String,
    report: Option<RollReport>,
    unmatched: Vec<ReportLine>,
    conflicts: Vec<ReportLine>,
    bad: Vec<ReportLine>,
    already: Vec<ReportLine>,
    error: String,
}

impl RollsPage {
    fn new(signed: &Signed, category: Option<Category>) -> Result<RollsPage, PageError> {
        let categories: Vec<(&'static str, &'static str)> = roll_categories(&signed.actor)
            .map(|category| (category.code(), category.label()))
            .collect();
        if categories.is_empty() {
            return Err(PageError(AppError::Forbidden));
        }
        Ok(RollsPage {
            chrome: Chrome::of(signed),
            category: category.map_or(categories[0].0, Category::code).to_owned(),
            categories,
            report: None,
            unmatched: Vec::new(),
            conflicts: Vec::new(),
            bad: Vec::new(),
            already: Vec::new(),
            error: String::new(),
        })
    }

    fn with_report(mut self, report: RollReport) -> RollsPage {
        let notes = |notes: &[app::rolls::RowNote]| -> Vec<ReportLine> {
            notes
                .iter()
                .take(ROWS_SHOWN)
                .map(|note| ReportLine {
                    line: note.line,
                    name: note.name.clone(),
                    column: String::new(),
                    reason: note.reason.clone(),
                })
                .collect()
        };
        self.unmatched = notes(&report.plan.unmatched);
        self.conflicts = notes(&report.plan.conflicts);
        self.already = notes(&report.plan.already);
        self.bad = report
            .plan
            .bad
            .iter()
            .take(ROWS_SHOWN)
            .map(|bad| ReportLine {
                line: bad.line,
                name: String::new(),
                column: bad.column.unwrap_or("").to_owned(),
                reason: bad.reason.clone(),
            })
            .collect();
        self.report = Some(report);
        self
    }

    fn category_label(&self) -> &'static str {
        Category::from_code(&self.category).map_or("", Category::label)
    }

    fn more(&self, total: usize) -> usize {
        total.saturating_sub(ROWS_SHOWN)
    }
}

fn category_field(text: &str) -> Result<Category, AppError> {
    Category::from_code(text.trim())
        .ok_or_else(|| AppError::invalid("category", format!("类别“{text}”不存在")))
}

/// `GET /rolls`: the upload form.
pub async fn rolls(PageUser(signed): PageUser) -> Result<RollsPage, PageError> {
    RollsPage::new(&signed, None)
}

/// `POST /rolls` (multipart: csrf, category, file): the dry run — the report on the page,
/// nothing written to the registry; the upload waits for 确认导入.
pub async fn roll_upload(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let form = UploadForm::read(multipart, &["csrf", "category"]).await?;
    signed.check_csrf(Some(form.field("csrf")))?;
    let category = category_field(form.field("category"))?;
    let page = RollsPage::new(&signed, Some(category))?;
    let upload = RollUpload {
        category,
        file_name: &form.file_name,
        bytes: &form.bytes,
    };
    match state.app.stage_roll(&signed.actor, &upload).await {
        Ok(report) => Ok(page.with_report(report).into_response()),
        Err(error @ AppError::Invalid(_)) => {
            let page = RollsPage {
                error: error.message(),
                ..page
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    csrf: String,
    category: String,
    token: String,
}

/// `POST /rolls/accept` (csrf, category, token): 确认导入 — writes the staged roll and shows
/// what was written.
pub async fn roll_accept(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<AcceptForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let category = category_field(&form.category)?;
    let page = RollsPage::new(&signed, Some(category))?;
    let report = state
        .app
        .accept_roll(&signed.actor, category, form.token.trim())
        .await?;
    let status = if report.written {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, page.with_report(report)).into_response())
}
