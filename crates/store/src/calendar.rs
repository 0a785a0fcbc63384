//! 工作日历 added in the product (`calendar_years`): a year's holiday arrangement taken on top
//! of the shipped `policy/calendar.toml`, so that a new year needs no release.
//!
//! Invariant: rows are only inserted, never updated or deleted; `list` returns them in the
//! order they were added, so that of two rows for one year the later one wins.

use crate::{Conn, Result, StoreError, decode};
use chrono::NaiveDate;
use domain::states::Status;

/// A year to add, as entered and already checked by the core.
pub struct NewCalendarYear<'a> {
    pub year: i64,
    /// The holidays as JSON text: a list of `{name, from, to, adjusted_working_days}`, the
    /// days as `YYYY-MM-DD` (as `list` reads them back).
    pub holidays: &'a str,
    /// 文号.
    pub source: &'a str,
    /// `confirmed`, `secondary` or `provisional`.
    pub status: &'a str,
    pub note: Option<&'a str>,
    pub created_at: &'a str,
    /// The user who entered it.
    pub created_by: i64,
}

/// One holiday of an added year (放假安排), as it was entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarHoliday {
    pub name: String,
    /// First day off.
    pub from: NaiveDate,
    /// Last day off (inclusive).
    pub to: NaiveDate,
    /// 调休上班: weekend days worked in exchange.
    pub adjusted_working_days: Vec<NaiveDate>,
}

/// A holiday as stored in the JSON of `calendar_years.holidays`, before `decode`.
#[derive(serde::Deserialize)]
struct RawHoliday {
    #[serde(default)]
    name: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    adjusted_working_days: Vec<String>,
}

/// A year's holidays, stored as a JSON list of `{name, from, to, adjusted_working_days}` with
/// the days as `YYYY-MM-DD`.
fn holidays(value: String) -> Result<Vec<CalendarHoliday>> {
    const TABLE: &str = "calendar_years";
    let raw: Vec<RawHoliday> = match serde_json::from_str(&value) {
        Ok(raw) => raw,
        Err(error) => return Err(decode::bad(TABLE, "holidays", value, error)),
    };
    let day = |text: String| decode::date(TABLE, "holidays", text);
    raw.into_iter()
        .map(|holiday| {
            Ok(CalendarHoliday {
                name: holiday.name,
                from: day(holiday.from)?,
                to: day(holiday.to)?,
                adjusted_working_days: holiday
                    .adjusted_working_days
                    .into_iter()
                    .map(day)
                    .collect::<Result<_>>()?,
            })
        })
        .collect()
}

/// One added year with the name of the user who entered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarYearRow {
    pub id: i64,
    pub year: i64,
    pub holidays: Vec<CalendarHoliday>,
    /// 文号 (free text).
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: i64,
    pub created_by_name: String,
}

/// A `calendar_years` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawCalendarYear {
    id: i64,
    year: i64,
    holidays: String,
    source: String,
    status: String,
    note: Option<String>,
    created_at: String,
    created_by: i64,
    created_by_name: String,
}

impl TryFrom<RawCalendarYear> for CalendarYearRow {
    type Error = StoreError;

    fn try_from(raw: RawCalendarYear) -> Result<Self> {
        Ok(CalendarYearRow {
            id: raw.id,
            year: raw.year,
            holidays: holidays(raw.holidays)?,
            source: raw.source,
            status: decode::code("calendar_years", "status", raw.status, Status::from_code)?,
            note: raw.note,
            created_at: decode::instant("calendar_years", "created_at", raw.created_at)?,
            created_by: raw.created_by,
            created_by_name: raw.created_by_name,
        })
    }
}

/// Appends a year; returns its id.
pub async fn insert(conn: &mut Conn, year: &NewCalendarYear<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO calendar_years (year, holidays, source, status, note, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(year.year)
    .bind(year.holidays)
    .bind(year.source)
    .bind(year.status)
    .bind(year.note)
    .bind(year.created_at)
    .bind(year.created_by)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Every added year, in the order they were added.
pub async fn list(conn: &mut Conn) -> Result<Vec<CalendarYearRow>> {
    decode::all::<RawCalendarYear, _>(
        sqlx::query_as(
            "SELECT c.id, CAST(c.year AS BIGINT) AS year, c.holidays, c.source, c.status, c.note, \
         c.created_at, c.created_by, u.display_name AS created_by_name \
         FROM calendar_years c JOIN users u ON u.id = c.created_by ORDER BY c.id",
        )
        .fetch_all(&mut *conn)
        .await?,
    )
}
