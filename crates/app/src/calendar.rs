//! 工作日历 (P9, issue 14 item 5): the working-day calendar in force — the shipped
//! `policy/calendar.toml` (or the calendar given by `with_calendar`) with the years entered on
//! the 工作日历 page taken on top of it — and entering a year.
//!
//! Like the policy parameters (`parameters`): `calendar()` stays synchronous and reads the last
//! calendar built; `refresh_calendar` rebuilds it from the store (at start-up and with every
//! policy refresh, so several processes agree within a minute, and after each year entered
//! here). A year entered again is a correction: the later row wins, the earlier stays.
//!
//! Invariant: a year is written only after the core took it (`Calendar::with_year`), with its
//! audit event in the same transaction; after it, the work queue's due dates are recomputed.

use crate::parameters::{Origin, may_read_policy};
use crate::{Actor, App, AppError};
use chrono::{Datelike, NaiveDate};
use domain::{PlaceLevel, Role};
use policy::{Param, Status};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
use store::audit::AuditEvent;
use store::calendar::{CalendarYearRow, NewCalendarYear};
use workflow::{Calendar, Holiday, HolidayInput, YearSchedule};

/// The calendar in force, shared by every clone of an `App`.
#[derive(Debug, Default)]
pub(crate) struct CalendarInForce {
    /// The calendar the stored years are taken on; the built-in one when `None`.
    base: Option<Arc<Calendar>>,
    /// The id of the last stored row taken and the calendar built.
    in_force: RwLock<Option<(i64, Arc<Calendar>)>>,
}

impl CalendarInForce {
    pub(crate) fn with_base(base: Arc<Calendar>) -> Self {
        CalendarInForce {
            base: Some(base),
            in_force: RwLock::new(None),
        }
    }

    fn base(&self) -> Result<Arc<Calendar>, AppError> {
        match &self.base {
            Some(base) => Ok(base.clone()),
            None => Calendar::builtin().map(Arc::new).map_err(|error| {
                AppError::Internal(anyhow::anyhow!("built-in working-day calendar: {error}"))
            }),
        }
    }

    fn current(&self) -> Option<Arc<Calendar>> {
        self.in_force
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(_, calendar)| calendar.clone())
    }

    fn install(&self, last_row: i64, calendar: Arc<Calendar>) {
        let mut slot = self
            .in_force
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot
            .as_ref()
            .is_none_or(|(current, _)| *current <= last_row)
        {
            *slot = Some((last_row, calendar));
        }
    }
}

/// A holiday as the API takes it and as `calendar_years.holidays` stores it (dates as text;
/// `store::calendar` reads it back typed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayText {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub adjusted_working_days: Vec<String>,
}

/// 录入年度放假安排 as entered (form or API), before the core takes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YearInput {
    pub year: String,
    pub holidays: Vec<HolidayText>,
    pub source: String,
    /// `confirmed` (default when empty), `secondary` or `provisional`.
    pub status: String,
    pub note: String,
}

/// How a year's holidays are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum YearState {
    /// 已录入: the State Council's arrangement, from the file or entered here.
    Entered,
    /// 法定假日推算·待确认: not entered; the statutory holidays of the 办法 count.
    Statutory,
}

impl YearState {
    pub fn code(&self) -> &'static str {
        match self {
            YearState::Entered => "entered",
            YearState::Statutory => "statutory",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            YearState::Entered => "已录入",
            YearState::Statutory => "法定假日推算·待确认",
        }
    }
}

/// One entry of a year: the file's arrangement or a row entered here.
#[derive(Clone, Debug)]
pub struct YearEntry {
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
    pub origin: Origin,
    /// False when a later entry of the year corrected it (已更正).
    pub in_effect: bool,
}

/// One year of the 工作日历 page.
#[derive(Clone, Debug)]
pub struct YearView {
    pub year: i32,
    pub state: YearState,
    /// The holidays that count this year (entered, or statutory).
    pub holidays: Vec<Holiday>,
    /// Where the year's arrangement comes from, newest first; empty when not entered.
    pub entries: Vec<YearEntry>,
}

impl YearView {
    /// The source shown for the year: its entry in force, or the 办法.
    pub fn source(&self) -> String {
        match self.entries.iter().find(|entry| entry.in_effect) {
            Some(entry) => entry.source.clone(),
            None => self
                .holidays
                .first()
                .map(|holiday| holiday.source.clone())
                .unwrap_or_default(),
        }
    }
}

/// 工作日历 page: every entered year, and this year and the next when not entered.
#[derive(Clone, Debug)]
pub struct CalendarPage {
    pub today: NaiveDate,
    pub years: Vec<YearView>,
    /// This year and the next when their arrangement is not entered (the dashboard asks).
    pub missing: Vec<i32>,
    /// The actor may enter a year.
    pub can_add: bool,
}

/// Who may enter a year's arrangement: district civil affairs at district level (the
/// calendar's time limits are those of social assistance, 民政).
pub fn may_add_calendar_year(actor: &Actor) -> bool {
    actor.role == Role::DistrictCivilAffairs && actor.area.level() == PlaceLevel::District
}

/// Reads the form's text, one holiday per line: `名称 开始日期 结束日期 [调休上班日 …]`, the
/// parts separated by spaces, commas or 、 (e.g. `春节 2027-02-05 2027-02-11 2027-02-14`).
pub fn parse_holiday_lines(text: &str) -> Result<Vec<HolidayText>, AppError> {
    let mut holidays = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、'))
            .filter(|part| !part.is_empty())
            .collect();
        let Some((name, rest)) = parts.split_first() else {
            continue;
        };
        let [from, to, adjusted @ ..] = rest else {
            return Err(AppError::invalid(
                "holidays",
                format!(
                    "节假日第{}行：应为“名称 开始日期 结束日期 [调休上班日…]”",
                    index + 1
                ),
            ));
        };
        holidays.push(HolidayText {
            name: (*name).to_owned(),
            from: (*from).to_owned(),
            to: (*to).to_owned(),
            adjusted_working_days: adjusted.iter().map(|day| (*day).to_owned()).collect(),
        });
    }
    Ok(holidays)
}

/// Reads an entered year into the core's schedule; a fault names its field.
fn schedule_of(input: &YearInput) -> Result<YearSchedule, AppError> {
    let year: i32 = input
        .year
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("year", format!("年份“{}”无效", input.year.trim())))?;
    let status_code = match input.status.trim() {
        "" => "confirmed",
        code => code,
    };
    let status = Status::from_code(status_code)
        .filter(|status| *status != Status::Demo)
        .ok_or_else(|| {
            AppError::invalid(
                "status",
                format!("状态“{status_code}”无效，应为 confirmed、secondary 或 provisional"),
            )
        })?;
    let mut holidays = Vec::with_capacity(input.holidays.len());
    for (index, holiday) in input.holidays.iter().enumerate() {
        let field = format!("holidays[{index}]");
        let date = |raw: &str, label: &str| {
            domain::input::date(&field, label, raw).map_err(AppError::input)
        };
        holidays.push(HolidayInput {
            name: holiday.name.trim().to_owned(),
            from: date(&holiday.from, "开始日期")?,
            to: date(&holiday.to, "结束日期")?,
            adjusted_working_days: holiday
                .adjusted_working_days
                .iter()
                .map(|day| date(day, "调休上班日"))
                .collect::<Result<_, _>>()?,
        });
    }
    let note = input.note.trim();
    Ok(YearSchedule {
        year,
        holidays,
        source: input.source.trim().to_owned(),
        status,
        note: (!note.is_empty()).then(|| note.to_owned()),
    })
}

/// A stored row as the core's schedule (the core checks it again as it takes it).
fn schedule_of_row(row: &CalendarYearRow) -> Result<YearSchedule, AppError> {
    let year = i32::try_from(row.year)
        .map_err(|_| AppError::invalid("year", format!("年份“{}”无效", row.year)))?;
    if row.status == Status::Demo {
        return Err(AppError::invalid(
            "status",
            format!(
                "状态“{}”无效，应为 confirmed、secondary 或 provisional",
                row.status.code()
            ),
        ));
    }
    let note = row.note.as_deref().map(str::trim).unwrap_or_default();
    Ok(YearSchedule {
        year,
        holidays: row
            .holidays
            .iter()
            .map(|holiday| HolidayInput {
                name: holiday.name.trim().to_owned(),
                from: holiday.from,
                to: holiday.to,
                adjusted_working_days: holiday.adjusted_working_days.clone(),
            })
            .collect(),
        source: row.source.trim().to_owned(),
        status: row.status,
        note: (!note.is_empty()).then(|| note.to_owned()),
    })
}

fn holidays_json(holidays: &[Holiday]) -> String {
    let texts: Vec<HolidayText> = holidays
        .iter()
        .map(|holiday| HolidayText {
            name: holiday.name.clone(),
            from: holiday.from.to_string(),
            to: holiday.to.to_string(),
            adjusted_working_days: holiday
                .adjusted_working_days
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
        .collect();
    serde_json::to_string(&texts).unwrap_or_default()
}

impl App {
    /// Uses `calendar` as the base of every time limit (instead of the built-in one); the
    /// years entered in the product are taken on top of it by `refresh_calendar`.
    pub fn with_calendar(mut self, calendar: Arc<Calendar>) -> Self {
        self.calendar = Arc::new(CalendarInForce::with_base(calendar));
        self
    }

    /// The calendar in force: the base with the stored years as of the last refresh.
    pub(crate) fn calendar(&self) -> Result<Arc<Calendar>, AppError> {
        match self.calendar.current() {
            Some(calendar) => Ok(calendar),
            None => self.calendar.base(),
        }
    }

    /// The base calendar with `rows` taken in order. A stored year the core no longer takes
    /// is left out and logged, not fatal: the row stays and every other year applies.
    fn build_calendar(&self, rows: &[CalendarYearRow]) -> Result<Calendar, AppError> {
        let mut calendar = (*self.calendar.base()?).clone();
        for row in rows {
            match schedule_of_row(row).and_then(|schedule| {
                calendar
                    .with_year(&schedule)
                    .map_err(|error| AppError::invalid(error.field, error.reason))
            }) {
                Ok(next) => calendar = next,
                Err(error) => {
                    tracing::warn!(row = row.id, year = row.year, error = %error.message(), "stored calendar year not applied");
                }
            }
        }
        Ok(calendar)
    }

    async fn stored_calendar_years(&self) -> Result<Vec<CalendarYearRow>, AppError> {
        let mut conn = self.store.read().await?;
        Ok(store::calendar::list(&mut conn).await?)
    }

    /// Rebuilds the calendar in force from the base and the years stored in the product.
    pub async fn refresh_calendar(&self) -> Result<(), AppError> {
        let rows = self.stored_calendar_years().await?;
        let calendar = self.build_calendar(&rows)?;
        self.calendar
            .install(rows.last().map_or(0, |row| row.id), Arc::new(calendar));
        Ok(())
    }

    /// This year and the next, when their arrangement is not entered (上线检查 asks for them).
    pub fn calendar_missing_years(&self) -> Result<Vec<i32>, AppError> {
        let calendar = self.calendar()?;
        let year = self.today().year();
        Ok([year, year + 1]
            .into_iter()
            .filter(|year| !calendar.years().contains(year))
            .collect())
    }

    /// 工作日历: every entered year with its source and history, and this year and the next
    /// when not entered (with the statutory holidays that count meanwhile). Any signed-in
    /// user reads it, like the policy parameters.
    pub async fn calendar_page(&self, actor: &Actor) -> Result<CalendarPage, AppError> {
        if !may_read_policy(actor) {
            return Err(AppError::Forbidden);
        }
        let rows = self.stored_calendar_years().await?;
        let calendar = self.build_calendar(&rows)?;
        self.calendar.install(
            rows.last().map_or(0, |row| row.id),
            Arc::new(calendar.clone()),
        );
        let base = self.calendar.base()?;
        let today = self.today();
        let missing: Vec<i32> = [today.year(), today.year() + 1]
            .into_iter()
            .filter(|year| !calendar.years().contains(year))
            .collect();
        let mut years: Vec<i32> = calendar.years().iter().copied().collect();
        years.extend(&missing);
        years.sort_unstable();
        years.dedup();
        let views = years
            .into_iter()
            .rev()
            .map(|year| {
                let mut entries: Vec<YearEntry> = Vec::new();
                if base.years().contains(&year) {
                    let holidays = base.holidays_of(year);
                    if let Some(first) = holidays.first() {
                        entries.push(YearEntry {
                            source: first.source.clone(),
                            status: first.status,
                            note: first.note.clone(),
                            origin: Origin::Builtin,
                            in_effect: true,
                        });
                    }
                }
                for row in rows.iter().filter(|row| row.year == i64::from(year)) {
                    for entry in &mut entries {
                        entry.in_effect = false;
                    }
                    entries.push(YearEntry {
                        source: row.source.clone(),
                        status: row.status,
                        note: row.note.clone(),
                        origin: Origin::Added {
                            id: row.id,
                            by: row.created_by_name.clone(),
                            at: crate::timestamp(row.created_at),
                        },
                        in_effect: true,
                    });
                }
                entries.reverse();
                YearView {
                    year,
                    state: if calendar.years().contains(&year) {
                        YearState::Entered
                    } else {
                        YearState::Statutory
                    },
                    holidays: calendar.holidays_of(year),
                    entries,
                }
            })
            .collect();
        Ok(CalendarPage {
            today,
            years: views,
            missing,
            can_add: may_add_calendar_year(actor),
        })
    }

    /// 录入年度放假安排: district civil affairs enters a year's arrangement (another role is
    /// `Forbidden`); the core takes it against the calendar in force (a fault names its field);
    /// the row and its audit event are written in one transaction; then the calendar is
    /// rebuilt and the work queue's due dates recomputed. A year already entered is corrected.
    pub async fn add_calendar_year(
        &self,
        actor: &Actor,
        input: &YearInput,
    ) -> Result<YearView, AppError> {
        if !may_add_calendar_year(actor) {
            return Err(AppError::Forbidden);
        }
        let schedule = schedule_of(input)?;
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let rows = store::calendar::list(&mut tx).await?;
        let before_calendar = self.build_calendar(&rows)?;
        let taken = before_calendar
            .with_year(&schedule)
            .map_err(|error| AppError::invalid(error.field, error.reason))?;
        let holidays = holidays_json(&taken.holidays_of(schedule.year));
        let before = before_calendar
            .years()
            .contains(&schedule.year)
            .then(|| holidays_json(&before_calendar.holidays_of(schedule.year)));
        let id = store::calendar::insert(
            &mut tx,
            &NewCalendarYear {
                year: i64::from(schedule.year),
                holidays: &holidays,
                source: &schedule.source,
                status: schedule.status.code(),
                note: schedule.note.as_deref(),
                created_at: &now,
                created_by: actor.user_id,
            },
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::policy_parameter(
                now,
                actor.audit_name(),
                "calendar.add_year",
                format!("calendar.{}", schedule.year),
            )
            .in_area(actor.area.as_str())
            .before(before)
            .after(
                serde_json::json!({
                    "id": id,
                    "year": schedule.year,
                    "holidays": serde_json::from_str::<serde_json::Value>(&holidays).unwrap_or_default(),
                    "source": schedule.source,
                    "status": schedule.status.code(),
                    "note": schedule.note,
                })
                .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        self.refresh_calendar().await?;
        self.sync_case_queue().await?;
        let page = self.calendar_page(actor).await?;
        page.years
            .into_iter()
            .find(|view| view.year == schedule.year)
            .ok_or(AppError::NotFound)
    }
}

/// A day count of the catalogue on the snapshot's date.
pub(crate) fn working_days(snapshot: &policy::Snapshot, param: Param) -> Result<u32, AppError> {
    snapshot
        .integer(param)
        .and_then(|days| u32::try_from(days).ok())
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "parameter {} has no value on {}",
                param.name(),
                snapshot.date()
            ))
        })
}
