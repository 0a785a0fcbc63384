//! 名册查询 (issue 13 item 5, D2): who was in category C on date D within an area — a page,
//! an API answer and an XLSX export, read from the dated category periods whoever wrote them
//! (a confirmed case, a roll brought in by 一门入库, the demo's enrolment).
//!
//! Who: every role that reads households, within its own area (a district user any place of
//! the district, a town or village user its own town or village; another area is refused).
//! Pages are keyset pages of `ROSTER_PER_PAGE` lines read by the roster index
//! (`store::roster`), the total counted from the same index on the first page only. The export
//! reads the same pages up to `ROSTER_EXPORT_CAP` lines and is audited (`roster.export`).

use crate::report::AreaChoice;
use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::{CareNeed, Category, HouseholdNo, NationalId, PlaceCode, PlaceLevel, Yuan};
use store::audit::AuditEvent;
use store::roster::{RosterCursor, RosterFilter, RosterRow};
use watch::roll::SupportMode;

/// Lines of a roster page.
pub const ROSTER_PER_PAGE: i64 = 50;
/// Lines an export holds at most (a district's largest roll is far below it).
pub const ROSTER_EXPORT_CAP: usize = 200_000;
/// Lines read per statement while exporting.
const EXPORT_BLOCK: i64 = 5_000;

/// What the user asks: a category, a date (today by default), an area (their own by
/// default), and the cursor of the page (`after=`).
#[derive(Clone, Debug, Default)]
pub struct RosterQuery<'a> {
    pub category: &'a str,
    pub date: Option<&'a str>,
    pub area: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// Where a period came from, read from its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RosterSource {
    /// 名册导入 (一门入库).
    Roll,
    /// A confirmed case (its tracking number is the reason).
    Case,
    /// The demo's enrolment.
    Demo,
    Other,
}

impl RosterSource {
    fn of(reason: &str) -> RosterSource {
        if reason.starts_with("名册导入") {
            RosterSource::Roll
        } else if reason.starts_with("演示数据") {
            RosterSource::Demo
        } else if workflow::TrackingNumber::parse(reason).is_ok() {
            RosterSource::Case
        } else {
            RosterSource::Other
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            RosterSource::Roll => "roll",
            RosterSource::Case => "case",
            RosterSource::Demo => "demo",
            RosterSource::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RosterSource::Roll => "名册导入",
            RosterSource::Case => "认定办件",
            RosterSource::Demo => "演示登记",
            RosterSource::Other => "其他",
        }
    }
}

/// One line of the roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterLine {
    /// The household's row id (its page is `/households/{id}`).
    pub household_row_id: i64,
    /// 户编号
    pub household_no: HouseholdNo,
    pub head_name: String,
    pub area_code: String,
    /// The village's name.
    pub place_name: String,
    pub n_members: i64,
    /// The person who holds the category alone (特困, 低保单人保), with their ID number.
    pub person_name: Option<String>,
    pub id_number: Option<NationalId>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub monthly: Option<Yuan>,
    pub monitoring_kind: Option<domain::MonitoringKind>,
    pub support_mode: Option<SupportMode>,
    pub care_level: Option<CareNeed>,
    pub source: RosterSource,
    /// The period's reason: the case's tracking number or the roll's document.
    pub reason: String,
}

impl RosterLine {
    fn of(row: RosterRow) -> RosterLine {
        RosterLine {
            source: RosterSource::of(&row.reason),
            household_row_id: row.household_id,
            household_no: row.external_id,
            head_name: row.head_name,
            area_code: row.area_code.as_str().to_owned(),
            place_name: row.place_name,
            n_members: row.n_members,
            person_name: row.person_name,
            id_number: row.id_number,
            start_date: row.start_date.to_string(),
            end_date: row.end_date.map(|day| day.to_string()),
            monthly: row.monthly_fen.map(Yuan::from_fen),
            monitoring_kind: row.monitoring_kind,
            support_mode: row.support_mode,
            care_level: row.care_level,
            reason: row.reason,
        }
    }

    /// 供养方式 in Chinese, or empty.
    pub fn support_mode_label(&self) -> &'static str {
        self.support_mode.map_or("", SupportMode::label)
    }

    /// 照料护理等级 in Chinese, or empty.
    pub fn care_level_label(&self) -> &'static str {
        self.care_level.map_or("", CareNeed::label)
    }

    /// 月保障金额 in yuan, or empty.
    pub fn monthly_text(&self) -> String {
        self.monthly
            .map(|yuan| yuan.to_string())
            .unwrap_or_default()
    }
}

/// One page of the roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterPage {
    pub category: Category,
    pub date: NaiveDate,
    pub area: PlaceCode,
    /// The area's full name (`铜梁区 巴川街道`).
    pub area_name: String,
    pub lines: Vec<RosterLine>,
    /// Lines of the whole query, on the first page only.
    pub total: Option<i64>,
    /// The cursor of the next page (`after=`), if there is one.
    pub next: Option<String>,
}

/// An export: the workbook and what it holds.
#[derive(Clone, Debug)]
pub struct RosterExport {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub rows: usize,
    /// The query had more lines than `ROSTER_EXPORT_CAP`.
    pub capped: bool,
}

/// The query checked: category, date, area (inside the actor's scope), cursor.
struct Checked {
    category: Category,
    date: NaiveDate,
    area: PlaceCode,
    after: Option<RosterCursor>,
}

fn check(actor: &Actor, query: &RosterQuery<'_>, today: NaiveDate) -> Result<Checked, AppError> {
    if !actor.role.reads_households() {
        return Err(AppError::Forbidden);
    }
    let category = match query.category.trim() {
        "" => return Err(AppError::invalid("category", "请选择救助类别")),
        text => watch::roll::parse_category(text)
            .ok_or_else(|| AppError::invalid("category", format!("救助类别“{text}”无法识别")))?,
    };
    let date = match query.date.map(str::trim).filter(|text| !text.is_empty()) {
        None => today,
        Some(text) => text.parse::<NaiveDate>().map_err(|_| {
            AppError::invalid("date", format!("查询日期“{text}”无效（应为 YYYY-MM-DD）"))
        })?,
    };
    let area = match query.area.map(str::trim).filter(|text| !text.is_empty()) {
        None => actor.scope(),
        Some(text) => PlaceCode::parse(text)
            .map_err(|error| AppError::invalid("area", format!("区划代码“{text}”无效：{error}")))?,
    };
    if !actor.covers(&area) {
        return Err(AppError::Forbidden);
    }
    let after = match query.after.map(str::trim).filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(
            RosterCursor::decode(text)
                .ok_or_else(|| AppError::invalid("after", format!("翻页位置“{text}”无效")))?,
        ),
    };
    Ok(Checked {
        category,
        date,
        area,
        after,
    })
}

impl App {
    /// The places the roster's area picker offers `actor`: their own area and the places one
    /// level down (a district's towns, a town's villages).
    pub async fn roster_areas(&self, actor: &Actor) -> Result<Vec<AreaChoice>, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let scope = actor.scope();
        let mut conn = self.store.read().await?;
        let mut choices = vec![AreaChoice {
            code: scope.as_str().to_owned(),
            name: store::places::full_name(&mut conn, &scope).await?,
        }];
        let below = match scope.level() {
            PlaceLevel::District => Some(PlaceLevel::Town),
            PlaceLevel::Town => Some(PlaceLevel::Village),
            _ => None,
        };
        if let Some(level) = below {
            for place in store::places::under(&mut conn, &scope, level).await? {
                choices.push(AreaChoice {
                    code: place.code.as_str().to_owned(),
                    name: place.name,
                });
            }
        }
        Ok(choices)
    }

    /// 名册查询: one page of the periods of the category open on the date in the area.
    pub async fn roster(
        &self,
        actor: &Actor,
        query: &RosterQuery<'_>,
    ) -> Result<RosterPage, AppError> {
        let checked = check(actor, query, self.today())?;
        let date = checked.date.to_string();
        let mut conn = self.store.read().await?;
        let page = store::roster::roster_page(
            &mut conn,
            &RosterFilter {
                category: checked.category.code(),
                date: &date,
                area_prefix: checked.area.as_str(),
                after: checked.after.as_ref(),
                limit: ROSTER_PER_PAGE,
            },
        )
        .await?;
        let area_name = store::places::full_name(&mut conn, &checked.area).await?;
        Ok(RosterPage {
            category: checked.category,
            date: checked.date,
            area: checked.area,
            area_name,
            lines: page.rows.into_iter().map(RosterLine::of).collect(),
            total: page.total,
            next: page.next.map(|next| next.encode()),
        })
    }

    /// 名册查询 as an XLSX workbook: every line of the query (the cursor aside) up to
    /// `ROSTER_EXPORT_CAP`, audited as `roster.export`.
    pub async fn roster_xlsx(
        &self,
        actor: &Actor,
        query: &RosterQuery<'_>,
    ) -> Result<RosterExport, AppError> {
        let checked = check(actor, query, self.today())?;
        let date = checked.date.to_string();
        let mut lines = Vec::new();
        let mut capped = false;
        let area_name = {
            let mut conn = self.store.read().await?;
            let mut after: Option<RosterCursor> = None;
            loop {
                let page = store::roster::roster_page(
                    &mut conn,
                    &RosterFilter {
                        category: checked.category.code(),
                        date: &date,
                        area_prefix: checked.area.as_str(),
                        after: after.as_ref(),
                        limit: EXPORT_BLOCK,
                    },
                )
                .await?;
                lines.extend(page.rows.into_iter().map(RosterLine::of));
                if lines.len() > ROSTER_EXPORT_CAP {
                    lines.truncate(ROSTER_EXPORT_CAP);
                    capped = true;
                    break;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            store::places::full_name(&mut conn, &checked.area).await?
        };
        let title = format!(
            "{} {} {}名册（{} 条{}）",
            area_name,
            date,
            checked.category.label(),
            lines.len(),
            if capped { "，已达导出上限" } else { "" }
        );
        let rows = lines.len();
        // Building a workbook is CPU work: off the async runtime.
        let bytes = tokio::task::spawn_blocking(move || workbook(&title, &lines))
            .await
            .map_err(|error| AppError::Internal(error.into()))??;
        let mut tx = self.store.begin().await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::roster_export(
                self.now_text(),
                actor.audit_name(),
                checked.category.code(),
                &date,
                checked.area.as_str(),
                rows,
                capped,
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(RosterExport {
            file_name: format!(
                "roster-{}-{}-{}.xlsx",
                checked.category.code(),
                date,
                checked.area.as_str()
            ),
            bytes,
            rows,
            capped,
        })
    }
}

/// The columns of the export.
const HEADERS: [&str; 14] = [
    "户编号",
    "户主姓名",
    "享受人",
    "享受人身份证号",
    "区划代码",
    "村社",
    "家庭人数",
    "起始日期",
    "终止日期",
    "月保障金额（元）",
    "供养方式",
    "照料护理等级",
    "来源",
    "依据",
];

/// The workbook: a title row, the header, one row per line.
fn workbook(title: &str, lines: &[RosterLine]) -> Result<Vec<u8>, AppError> {
    let fail = |error: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!(error));
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("名册").map_err(fail)?;
    sheet.write_string(0, 0, title).map_err(fail)?;
    for (column, header) in HEADERS.iter().enumerate() {
        sheet
            .write_string(1, column as u16, *header)
            .map_err(fail)?;
    }
    for (at, line) in lines.iter().enumerate() {
        let row = at as u32 + 2;
        let texts = [
            line.household_no.as_str(),
            line.head_name.as_str(),
            line.person_name.as_deref().unwrap_or(""),
            line.id_number.as_ref().map_or("", NationalId::as_str),
            line.area_code.as_str(),
            line.place_name.as_str(),
        ];
        for (column, text) in texts.iter().enumerate() {
            sheet
                .write_string(row, column as u16, *text)
                .map_err(fail)?;
        }
        sheet
            .write_number(row, 6, line.n_members as f64)
            .map_err(fail)?;
        sheet.write_string(row, 7, &line.start_date).map_err(fail)?;
        sheet
            .write_string(row, 8, line.end_date.as_deref().unwrap_or(""))
            .map_err(fail)?;
        if let Some(monthly) = line.monthly {
            sheet.write_number(row, 9, monthly.to_f64()).map_err(fail)?;
        }
        let tail = [
            line.support_mode_label(),
            line.care_level_label(),
            line.source.label(),
            line.reason.as_str(),
        ];
        for (column, text) in tail.iter().enumerate() {
            sheet
                .write_string(row, 10 + column as u16, *text)
                .map_err(fail)?;
        }
    }
    sheet.set_freeze_panes(2, 0).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}
