//! 一门入库 (issue 12 item 4): rolls waiting for their dry run to be accepted, and the bulk
//! reads and writes of a roll import (category periods in multi-row statements).
//!
//! Invariant: an import writes category periods only by appending (as every category change
//! does); an upload row is never changed but for its acceptance.

use crate::households::{CategoryPeriodRow, PERIOD_COLUMNS, RawCategoryPeriod};
use crate::sql::{BULK_ROWS, positional, values_list};
use crate::{Conn, Result, StoreError, decode};
use chrono::{DateTime, NaiveDate, Utc};
use domain::states::FeedFormat;
use domain::{Category, NationalId, PlaceCode};
use futures_util::TryStreamExt;
use std::collections::HashSet;

/// A roll naming at least this many persons (or households) is matched by one streamed read
/// of the table (open memberships, category periods, household records) instead of lookups
/// by key in `IN` lists: at district size the lookups cost a statement per 400 keys, each an
/// index descent per key, while the read is one pass in storage order.
pub const STREAM_FROM: usize = 20_000;

/// A roll uploaded on the page for its dry run.
pub struct NewRollUpload<'a> {
    pub category: &'a str,
    pub file_name: &'a str,
    pub format: &'a str,
    pub content_hash: &'a str,
    pub content: &'a [u8],
    pub uploaded_by: &'a str,
    pub uploaded_at: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollUploadRow {
    pub id: i64,
    pub category: Category,
    pub file_name: String,
    /// The file's format as read (`csv`, `xlsx`).
    pub format: FeedFormat,
    pub content_hash: String,
    pub content: Vec<u8>,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// A `roll_uploads` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawRollUpload {
    id: i64,
    category: String,
    file_name: String,
    format: String,
    content_hash: String,
    content: Vec<u8>,
    uploaded_by: String,
    uploaded_at: String,
    accepted_at: Option<String>,
}

impl TryFrom<RawRollUpload> for RollUploadRow {
    type Error = StoreError;

    fn try_from(raw: RawRollUpload) -> Result<Self> {
        Ok(RollUploadRow {
            id: raw.id,
            category: crate::decode::code(
                "roll_uploads",
                "category",
                raw.category,
                Category::from_code,
            )?,
            file_name: raw.file_name,
            format: crate::decode::code(
                "roll_uploads",
                "format",
                raw.format,
                FeedFormat::from_code,
            )?,
            content_hash: raw.content_hash,
            content: raw.content,
            uploaded_by: raw.uploaded_by,
            uploaded_at: crate::decode::instant("roll_uploads", "uploaded_at", raw.uploaded_at)?,
            accepted_at: crate::decode::instant_opt(
                "roll_uploads",
                "accepted_at",
                raw.accepted_at,
            )?,
        })
    }
}

pub async fn insert_upload(conn: &mut Conn, upload: &NewRollUpload<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO roll_uploads (category, file_name, format, content_hash, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(upload.category)
    .bind(upload.file_name)
    .bind(upload.format)
    .bind(upload.content_hash)
    .bind(upload.content)
    .bind(upload.uploaded_by)
    .bind(upload.uploaded_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// The latest upload of this content for this category by `uploaded_by`, if any.
pub async fn upload_by_hash(
    conn: &mut Conn,
    content_hash: &str,
    category: &str,
    uploaded_by: &str,
) -> Result<Option<RollUploadRow>> {
    crate::decode::one::<RawRollUpload, _>(sqlx::query_as(
        "SELECT id, category, file_name, format, content_hash, content, uploaded_by, uploaded_at, accepted_at \
         FROM roll_uploads WHERE content_hash = $1 AND category = $2 AND uploaded_by = $3 ORDER BY id DESC LIMIT 1",
    )
    .bind(content_hash)
    .bind(category)
    .bind(uploaded_by)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn mark_accepted(conn: &mut Conn, upload_id: i64, now: &str) -> Result<()> {
    sqlx::query("UPDATE roll_uploads SET accepted_at = $1 WHERE id = $2")
        .bind(now)
        .bind(upload_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The category periods of `household_ids` (every period, open or closed).
pub async fn periods_of(conn: &mut Conn, household_ids: &[i64]) -> Result<Vec<CategoryPeriodRow>> {
    if household_ids.len() >= STREAM_FROM {
        return periods_among(conn, household_ids).await;
    }
    let mut rows = Vec::new();
    for chunk in household_ids.chunks(BULK_ROWS) {
        let sql = format!(
            "SELECT {PERIOD_COLUMNS} FROM category_periods WHERE household_id IN ({})",
            in_list(chunk.len(), positional(conn))
        );
        let mut query = sqlx::query_as::<_, RawCategoryPeriod>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        rows.extend(crate::decode::all::<_, CategoryPeriodRow>(
            query.fetch_all(&mut *conn).await?,
        )?);
    }
    Ok(rows)
}

/// `periods_of` by one streamed read of every category period, keeping those of
/// `household_ids`.
pub async fn periods_among(
    conn: &mut Conn,
    household_ids: &[i64],
) -> Result<Vec<CategoryPeriodRow>> {
    let wanted: HashSet<i64> = household_ids.iter().copied().collect();
    let mut rows = Vec::new();
    let sql = format!("SELECT {PERIOD_COLUMNS} FROM category_periods");
    let mut stream =
        sqlx::query_as::<_, RawCategoryPeriod>(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
    while let Some(row) = stream.try_next().await? {
        if wanted.contains(&row.household_id) {
            rows.push(CategoryPeriodRow::try_from(row)?);
        }
    }
    Ok(rows)
}

/// A household's record with its re-check schedule's last check, if any.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordRow {
    pub household_id: i64,
    pub area_code: PlaceCode,
    /// The household as its interchange JSON (`domain::interchange`).
    pub record: String,
    pub last_check: Option<NaiveDate>,
}

/// A `RecordRow` as stored, before `decode`.
type RawRecord = (i64, String, String, Option<String>);

impl TryFrom<RawRecord> for RecordRow {
    type Error = StoreError;

    fn try_from((household_id, area_code, record, last_check): RawRecord) -> Result<Self> {
        Ok(RecordRow {
            household_id,
            area_code: decode::place("households", "area_code", area_code)?,
            record,
            last_check: decode::date_opt("recheck_schedule", "last_check", last_check)?,
        })
    }
}

/// A current member of a household: the person's ID number, the household and its area.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberRow {
    pub id_number: NationalId,
    pub household_id: i64,
    pub area_code: PlaceCode,
}

/// A `MemberRow` as stored, before `decode`.
type RawMember = (String, i64, String);

impl TryFrom<RawMember> for MemberRow {
    type Error = StoreError;

    fn try_from((id_number, household_id, area_code): RawMember) -> Result<Self> {
        const TABLE: &str = "memberships";
        Ok(MemberRow {
            id_number: decode::national_id(TABLE, "id_number", id_number)?,
            household_id,
            area_code: decode::place(TABLE, "area_code", area_code)?,
        })
    }
}

/// The record and last check of each of `household_ids`.
pub async fn records_of(conn: &mut Conn, household_ids: &[i64]) -> Result<Vec<RecordRow>> {
    let mut rows = Vec::new();
    for chunk in household_ids.chunks(BULK_ROWS) {
        let sql = format!(
            "SELECT h.id, h.area_code, h.record, s.last_check FROM households h \
             LEFT JOIN recheck_schedule s ON s.household_id = h.id WHERE h.id IN ({})",
            in_list(chunk.len(), positional(conn))
        );
        let mut query = sqlx::query_as::<_, RawRecord>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        rows.extend(decode::all::<_, RecordRow>(
            query.fetch_all(&mut *conn).await?,
        )?);
    }
    Ok(rows)
}

/// Calls `each` with the `RecordRow` of every one of `household_ids` (sorted, distinct), in
/// blocks of lookups by key, or for a large set in one streamed read of the registry, so that
/// the records (the registry's widest rows) are never all held at once.
pub async fn for_each_record<E: From<StoreError>>(
    conn: &mut Conn,
    household_ids: &[i64],
    mut each: impl FnMut(RecordRow) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    if household_ids.len() >= STREAM_FROM {
        return records_among(conn, household_ids, each).await;
    }
    for block in household_ids.chunks(BULK_ROWS) {
        for row in records_of(conn, block).await? {
            each(row)?;
        }
    }
    Ok(())
}

/// `for_each_record` by one streamed read of the registry's records.
pub async fn records_among<E: From<StoreError>>(
    conn: &mut Conn,
    household_ids: &[i64],
    mut each: impl FnMut(RecordRow) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let wanted: HashSet<i64> = household_ids.iter().copied().collect();
    let mut stream = sqlx::query_as::<_, RawRecord>(
        "SELECT h.id, h.area_code, h.record, s.last_check FROM households h \
         LEFT JOIN recheck_schedule s ON s.household_id = h.id",
    )
    .fetch(&mut *conn);
    while let Some(row) = stream.try_next().await.map_err(StoreError::from)? {
        if wanted.contains(&row.0) {
            each(RecordRow::try_from(row)?)?;
        }
    }
    Ok(())
}

/// A category period a roll import writes; `area_code` is its household's.
pub struct RollPeriod<'a> {
    pub household_id: i64,
    pub area_code: &'a str,
    pub id_number: Option<&'a str>,
    pub category: &'a str,
    pub monitoring_kind: Option<&'a str>,
    pub start_date: NaiveDate,
    pub monthly_fen: Option<i64>,
    pub reason: String,
    /// 特困 only: 供养方式 and 照料护理等级 codes (migration 0034).
    pub support_mode: Option<&'a str>,
    pub care_level: Option<&'a str>,
}

/// Appends category periods in multi-row statements.
pub async fn insert_periods(conn: &mut Conn, periods: &[RollPeriod<'_>]) -> Result<()> {
    for chunk in periods.chunks(BULK_ROWS) {
        let sql = format!(
            "INSERT INTO category_periods (household_id, area_code, id_number, category, monitoring_kind, start_date, monthly_fen, reason, support_mode, care_level) VALUES {}",
            values_list(chunk.len(), 10, positional(conn))
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for period in chunk {
            query = query
                .bind(period.household_id)
                .bind(period.area_code)
                .bind(period.id_number)
                .bind(period.category)
                .bind(period.monitoring_kind)
                .bind(period.start_date.to_string())
                .bind(period.monthly_fen)
                .bind(period.reason.as_str())
                .bind(period.support_mode)
                .bind(period.care_level);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `$1, $2, …` (or `?, ?, …`) for an `IN` list of `n` values.
pub(crate) fn in_list(n: usize, positional: bool) -> String {
    values_list(1, n, positional)
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_owned()
}

/// For each of `id_numbers` that is a member of a household now: its membership.
pub async fn members_of(conn: &mut Conn, id_numbers: &[&str]) -> Result<Vec<MemberRow>> {
    if id_numbers.len() >= STREAM_FROM {
        return members_among(conn, id_numbers).await;
    }
    let mut rows = Vec::new();
    for chunk in id_numbers.chunks(BULK_ROWS) {
        let sql = format!(
            "SELECT m.id_number, m.household_id, m.area_code FROM memberships m \
             WHERE m.end_date IS NULL AND m.id_number IN ({})",
            in_list(chunk.len(), positional(conn))
        );
        let mut query = sqlx::query_as::<_, RawMember>(sqlx::AssertSqlSafe(sql));
        for id_number in chunk {
            query = query.bind(*id_number);
        }
        rows.extend(decode::all::<_, MemberRow>(
            query.fetch_all(&mut *conn).await?,
        )?);
    }
    Ok(rows)
}

/// `members_of` by one streamed read of every open membership (the partial index on open
/// memberships covers it), keeping those of `id_numbers`.
pub async fn members_among(conn: &mut Conn, id_numbers: &[&str]) -> Result<Vec<MemberRow>> {
    let wanted: HashSet<&str> = id_numbers.iter().copied().collect();
    let mut rows = Vec::with_capacity(id_numbers.len());
    let mut stream = sqlx::query_as::<_, RawMember>(
        "SELECT id_number, household_id, area_code FROM memberships WHERE end_date IS NULL",
    )
    .fetch(&mut *conn);
    while let Some(row) = stream.try_next().await? {
        if wanted.contains(row.0.as_str()) {
            rows.push(MemberRow::try_from(row)?);
        }
    }
    Ok(rows)
}
