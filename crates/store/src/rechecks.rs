//! 定期核查 (W1): each enrolled household's next re-check due date, kept on every category
//! change so that the due list is read with an index in due order, keyset-paged.
//!
//! Invariant: a household has a schedule row exactly while it holds an open category period
//! (the writers of categories keep it so); `area_code` equals its household's.

use crate::decode;
use crate::sql::{BULK_ROWS, positional, values_list};
use crate::{Conn, Result, StoreError, area_range};
use chrono::NaiveDate;
use domain::states::CheckKind;
use domain::{HouseholdNo, PlaceCode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRow {
    pub household_id: i64,
    pub area_code: PlaceCode,
    pub last_check: NaiveDate,
    pub last_check_kind: CheckKind,
    pub due_on: NaiveDate,
}

/// A `recheck_schedule` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawSchedule {
    household_id: i64,
    area_code: String,
    last_check: String,
    last_check_kind: String,
    due_on: String,
}

impl TryFrom<RawSchedule> for ScheduleRow {
    type Error = StoreError;

    fn try_from(raw: RawSchedule) -> Result<Self> {
        const TABLE: &str = "recheck_schedule";
        Ok(ScheduleRow {
            household_id: raw.household_id,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            last_check: decode::date(TABLE, "last_check", raw.last_check)?,
            last_check_kind: decode::code(
                TABLE,
                "last_check_kind",
                raw.last_check_kind,
                CheckKind::from_code,
            )?,
            due_on: decode::date(TABLE, "due_on", raw.due_on)?,
        })
    }
}

/// Writes (or replaces) the schedule of each household, in multi-row statements.
pub async fn upsert_many(conn: &mut Conn, rows: &[ScheduleRow]) -> Result<()> {
    for chunk in rows.chunks(BULK_ROWS) {
        let sql = format!(
            "INSERT INTO recheck_schedule (household_id, area_code, last_check, last_check_kind, due_on) VALUES {} \
             ON CONFLICT (household_id) DO UPDATE SET area_code = excluded.area_code, last_check = excluded.last_check, \
             last_check_kind = excluded.last_check_kind, due_on = excluded.due_on",
            values_list(chunk.len(), 5, positional(conn))
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.household_id)
                .bind(row.area_code.as_str())
                .bind(row.last_check.to_string())
                .bind(row.last_check_kind.code())
                .bind(row.due_on.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes a household's schedule (it holds no category any more).
pub async fn remove(conn: &mut Conn, household_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM recheck_schedule WHERE household_id = $1")
        .bind(household_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, household_id: i64) -> Result<Option<ScheduleRow>> {
    decode::one::<RawSchedule, _>(sqlx::query_as(
        "SELECT household_id, area_code, last_check, last_check_kind, due_on FROM recheck_schedule WHERE household_id = $1",
    )
    .bind(household_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A line of the due list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueRow {
    pub household_id: i64,
    pub external_id: HouseholdNo,
    pub area_code: PlaceCode,
    pub last_check: NaiveDate,
    pub due_on: NaiveDate,
}

/// A `recheck_schedule` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawDue {
    pub(crate) household_id: i64,
    pub(crate) external_id: String,
    pub(crate) area_code: String,
    pub(crate) last_check: String,
    pub(crate) due_on: String,
}

impl TryFrom<RawDue> for DueRow {
    type Error = StoreError;

    fn try_from(raw: RawDue) -> Result<Self> {
        const TABLE: &str = "recheck_schedule";
        Ok(DueRow {
            household_id: raw.household_id,
            external_id: decode::household_no("households", "external_id", raw.external_id)?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            last_check: decode::date(TABLE, "last_check", raw.last_check)?,
            due_on: decode::date(TABLE, "due_on", raw.due_on)?,
        })
    }
}

/// The households under `area_prefix` due on or before `until`, in (due date, household)
/// order after the cursor `after` (the last line of the previous page), at most `limit`.
pub async fn due_page(
    conn: &mut Conn,
    area_prefix: &str,
    until: &str,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> Result<Vec<DueRow>> {
    let (low, high) = area_range(area_prefix);
    // The first page starts after the empty text, which sorts before every stored date.
    let (after_due, after_id) = after.map_or((String::new(), 0), |(due_on, household_id)| {
        (due_on.to_string(), household_id)
    });
    decode::all::<RawDue, _>(
        sqlx::query_as(
            "SELECT s.household_id, h.external_id, s.area_code, s.last_check, s.due_on \
         FROM recheck_schedule s JOIN households h ON h.id = s.household_id \
         WHERE s.area_code >= $1 AND s.area_code < $2 AND s.due_on <= $3 \
         AND (s.due_on > $4 OR (s.due_on = $4 AND s.household_id > $5)) \
         ORDER BY s.due_on, s.household_id LIMIT $6",
        )
        .bind(low)
        .bind(high)
        .bind(until)
        .bind(after_due)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// An enrolled household as the schedule is computed from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolledRow {
    pub household_id: i64,
    pub area_code: PlaceCode,
    pub record: String,
    /// The latest start of its category periods open on the day.
    pub last_start: NaiveDate,
    /// Its schedule, if it has one.
    pub last_check: Option<NaiveDate>,
    pub last_check_kind: Option<CheckKind>,
}

/// A `recheck_schedule` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawEnrolled {
    pub(crate) household_id: i64,
    pub(crate) area_code: String,
    pub(crate) record: String,
    pub(crate) last_start: String,
    pub(crate) last_check: Option<String>,
    pub(crate) last_check_kind: Option<String>,
}

impl TryFrom<RawEnrolled> for EnrolledRow {
    type Error = StoreError;

    fn try_from(raw: RawEnrolled) -> Result<Self> {
        const TABLE: &str = "recheck_schedule";
        Ok(EnrolledRow {
            household_id: raw.household_id,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            record: raw.record,
            last_start: decode::date(TABLE, "last_start", raw.last_start)?,
            last_check: decode::date_opt(TABLE, "last_check", raw.last_check)?,
            last_check_kind: decode::code_opt(
                TABLE,
                "last_check_kind",
                raw.last_check_kind,
                CheckKind::from_code,
            )?,
        })
    }
}

/// The households holding a category period open on `date`, in id order after `after_id`.
pub async fn enrolled_page(
    conn: &mut Conn,
    date: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<EnrolledRow>> {
    decode::all::<RawEnrolled, _>(sqlx::query_as(
        "SELECT h.id AS household_id, h.area_code, h.record, MAX(p.start_date) AS last_start, \
         s.last_check, s.last_check_kind \
         FROM households h JOIN category_periods p ON p.household_id = h.id \
         LEFT JOIN recheck_schedule s ON s.household_id = h.id \
         WHERE p.start_date <= $1 AND (p.end_date IS NULL OR p.end_date > $1) AND h.id > $2 \
         GROUP BY h.id, h.area_code, h.record, s.last_check, s.last_check_kind ORDER BY h.id LIMIT $3",
    )
    .bind(date)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// Removes the schedules of households that hold no open category on `date`.
pub async fn remove_unenrolled(conn: &mut Conn, date: &str) -> Result<u64> {
    let removed = sqlx::query(
        "DELETE FROM recheck_schedule WHERE NOT EXISTS (SELECT 1 FROM category_periods p \
         WHERE p.household_id = recheck_schedule.household_id AND p.start_date <= $1 \
         AND (p.end_date IS NULL OR p.end_date > $1))",
    )
    .bind(date)
    .execute(&mut *conn)
    .await?;
    Ok(removed.rows_affected())
}
