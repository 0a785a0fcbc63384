//! 公开 (disclosure, migration 0032): the dated lines of the public lists and their
//! publications. Lines are opened and ended, never rewritten; every list is read by area
//! prefix from `disclosure_entries_area`, keyset-paged.

use crate::decode;
use crate::search::{Bind, Statement};
use crate::{Conn, Result, StoreError, area_range};
use chrono::NaiveDate;
use domain::{Category, PlaceCode};

/// One line of a public list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub id: i64,
    pub area_code: PlaceCode,
    pub household_id: i64,
    pub disclosed_name: String,
    pub category: Category,
    pub household_size: i64,
    pub monthly_fen: Option<i64>,
    pub start_date: NaiveDate,
    pub in_force_from: NaiveDate,
    pub in_force_to: Option<NaiveDate>,
    pub opened_by: String,
    pub ended_by: Option<String>,
}

/// A `disclosure_entries` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawEntry {
    pub(crate) id: i64,
    pub(crate) area_code: String,
    pub(crate) household_id: i64,
    pub(crate) disclosed_name: String,
    pub(crate) category: String,
    pub(crate) household_size: i64,
    pub(crate) monthly_fen: Option<i64>,
    pub(crate) start_date: String,
    pub(crate) in_force_from: String,
    pub(crate) in_force_to: Option<String>,
    pub(crate) opened_by: String,
    pub(crate) ended_by: Option<String>,
}

impl TryFrom<RawEntry> for EntryRow {
    type Error = StoreError;

    fn try_from(raw: RawEntry) -> Result<Self> {
        const TABLE: &str = "disclosure_entries";
        Ok(EntryRow {
            id: raw.id,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            household_id: raw.household_id,
            disclosed_name: raw.disclosed_name,
            category: decode::code(TABLE, "category", raw.category, Category::from_code)?,
            household_size: raw.household_size,
            monthly_fen: raw.monthly_fen,
            start_date: decode::date(TABLE, "start_date", raw.start_date)?,
            in_force_from: decode::date(TABLE, "in_force_from", raw.in_force_from)?,
            in_force_to: decode::date_opt(TABLE, "in_force_to", raw.in_force_to)?,
            opened_by: raw.opened_by,
            ended_by: raw.ended_by,
        })
    }
}

const ENTRY_COLUMNS: &str = "id, area_code, household_id, disclosed_name, category, household_size, monthly_fen, start_date, in_force_from, in_force_to, opened_by, ended_by";

pub struct NewEntry<'a> {
    pub area_code: &'a str,
    pub household_id: i64,
    pub disclosed_name: &'a str,
    pub category: &'a str,
    pub household_size: i64,
    pub monthly_fen: Option<i64>,
    pub start_date: &'a str,
    pub in_force_from: &'a str,
    pub opened_by: &'a str,
    pub written_at: &'a str,
}

/// The household's lines in force now (not ended).
pub async fn open_of(conn: &mut Conn, household_id: i64) -> Result<Vec<EntryRow>> {
    decode::all::<RawEntry, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM disclosure_entries WHERE household_id = $1 AND in_force_to IS NULL ORDER BY id"
    )))
    .bind(household_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn insert(conn: &mut Conn, entry: &NewEntry<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO disclosure_entries (area_code, household_id, disclosed_name, category, household_size, \
         monthly_fen, start_date, in_force_from, opened_by, written_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(entry.area_code)
    .bind(entry.household_id)
    .bind(entry.disclosed_name)
    .bind(entry.category)
    .bind(entry.household_size)
    .bind(entry.monthly_fen)
    .bind(entry.start_date)
    .bind(entry.in_force_from)
    .bind(entry.opened_by)
    .bind(entry.written_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Ends an open line from `on` (exclusive end), naming what ended it.
pub async fn end(conn: &mut Conn, id: i64, on: &str, ended_by: &str) -> Result<()> {
    let ended = sqlx::query(
        "UPDATE disclosure_entries SET in_force_to = $1, ended_by = $2 WHERE id = $3 AND in_force_to IS NULL",
    )
    .bind(on)
    .bind(ended_by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if ended.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The lines under `area_prefix` in force on `date`, by (area code, id), after the cursor
/// `after` (the last line's area code and id), at most `limit`.
pub async fn in_force(
    conn: &mut Conn,
    area_prefix: &str,
    date: &str,
    after: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<EntryRow>> {
    decode::all(
        in_force_statement(area_prefix, date, after, limit)
            .fetch::<RawEntry>(conn)
            .await?,
    )
}

/// The statement `in_force` runs (tests explain it).
pub fn in_force_statement(
    area_prefix: &str,
    date: &str,
    after: Option<(&str, i64)>,
    limit: i64,
) -> Statement {
    let (low, high) = area_range(area_prefix);
    let (after_area, after_id) = after.unwrap_or(("", 0));
    Statement::new(
        format!(
            "SELECT {ENTRY_COLUMNS} FROM disclosure_entries \
             WHERE area_code >= $1 AND area_code < $2 \
             AND (area_code > $3 OR (area_code = $3 AND id > $4)) \
             AND in_force_from <= $5 AND (in_force_to IS NULL OR in_force_to > $5) \
             ORDER BY area_code, id LIMIT $6"
        ),
        vec![
            Bind::Text(low),
            Bind::Text(high),
            Bind::Text(after_area.to_owned()),
            Bind::Int(after_id),
            Bind::Text(date.to_owned()),
            Bind::Int(limit),
        ],
    )
}

/// How many lines under `area_prefix` are in force on `date`.
pub async fn count_in_force(conn: &mut Conn, area_prefix: &str, date: &str) -> Result<i64> {
    let (low, high) = area_range(area_prefix);
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM disclosure_entries WHERE area_code >= $1 AND area_code < $2 \
         AND in_force_from <= $3 AND (in_force_to IS NULL OR in_force_to > $3)",
    )
    .bind(low)
    .bind(high)
    .bind(date)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Whether any line was ever written (the one-off backfill runs on an empty table only).
pub async fn any(conn: &mut Conn) -> Result<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM disclosure_entries LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// One publication of a village's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicationRow {
    pub id: i64,
    pub village_code: PlaceCode,
    pub published_on: NaiveDate,
    pub published_by: String,
    pub cause: String,
    pub entries_count: i64,
    pub posted_on: Option<NaiveDate>,
    pub posted_by: Option<String>,
}

/// A `disclosure_publications` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawPublication {
    pub(crate) id: i64,
    pub(crate) village_code: String,
    pub(crate) published_on: String,
    pub(crate) published_by: String,
    pub(crate) cause: String,
    pub(crate) entries_count: i64,
    pub(crate) posted_on: Option<String>,
    pub(crate) posted_by: Option<String>,
}

impl TryFrom<RawPublication> for PublicationRow {
    type Error = StoreError;

    fn try_from(raw: RawPublication) -> Result<Self> {
        const TABLE: &str = "disclosure_publications";
        Ok(PublicationRow {
            id: raw.id,
            village_code: decode::place(TABLE, "village_code", raw.village_code)?,
            published_on: decode::date(TABLE, "published_on", raw.published_on)?,
            published_by: raw.published_by,
            cause: raw.cause,
            entries_count: raw.entries_count,
            posted_on: decode::date_opt(TABLE, "posted_on", raw.posted_on)?,
            posted_by: raw.posted_by,
        })
    }
}

const PUBLICATION_COLUMNS: &str =
    "id, village_code, published_on, published_by, cause, entries_count, posted_on, posted_by";

pub struct NewPublication<'a> {
    pub village_code: &'a str,
    pub published_on: &'a str,
    pub published_by: &'a str,
    pub cause: &'a str,
    pub entries_count: i64,
    pub written_at: &'a str,
}

pub async fn publish(conn: &mut Conn, publication: &NewPublication<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO disclosure_publications (village_code, published_on, published_by, cause, entries_count, written_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(publication.village_code)
    .bind(publication.published_on)
    .bind(publication.published_by)
    .bind(publication.cause)
    .bind(publication.entries_count)
    .bind(publication.written_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// The publications of villages under `area_prefix`, newest first (by village, then id
/// descending), after the cursor (village code, id), at most `limit`.
pub async fn publications(
    conn: &mut Conn,
    area_prefix: &str,
    after: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<PublicationRow>> {
    let (low, high) = area_range(area_prefix);
    let (after_village, after_id) = after.unwrap_or(("", i64::MAX));
    decode::all::<RawPublication, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PUBLICATION_COLUMNS} FROM disclosure_publications \
         WHERE village_code >= $1 AND village_code < $2 \
         AND (village_code > $3 OR (village_code = $3 AND id < $4)) \
         ORDER BY village_code, id DESC LIMIT $5"
        )))
        .bind(low)
        .bind(high)
        .bind(after_village)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The village's latest publication.
pub async fn latest(conn: &mut Conn, village_code: &str) -> Result<Option<PublicationRow>> {
    decode::one::<RawPublication, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PUBLICATION_COLUMNS} FROM disclosure_publications WHERE village_code = $1 ORDER BY id DESC LIMIT 1"
    )))
    .bind(village_code)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records that the village's sheet was posted on `posted_on`: every publication not yet
/// posted and published on or before that day. Returns how many.
pub async fn mark_posted(
    conn: &mut Conn,
    village_code: &str,
    posted_on: &str,
    posted_by: &str,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE disclosure_publications SET posted_on = $1, posted_by = $2 \
         WHERE village_code = $3 AND posted_on IS NULL AND published_on <= $1",
    )
    .bind(posted_on)
    .bind(posted_by)
    .bind(village_code)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// One household's open category periods with what a line shows, for the backfill: the
/// households after `after_id` (`limit` households a page, in household id order) that hold a
/// category and have no line in force (enrolled before 公开, or by a roll import).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldRow {
    pub household_id: i64,
    pub area_code: PlaceCode,
    pub head_name: String,
    pub n_members: i64,
    pub category: Category,
    pub start_date: NaiveDate,
    pub monthly_fen: Option<i64>,
}

/// A `category_periods` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawHeld {
    pub(crate) household_id: i64,
    pub(crate) area_code: String,
    pub(crate) head_name: String,
    pub(crate) n_members: i64,
    pub(crate) category: String,
    pub(crate) start_date: String,
    pub(crate) monthly_fen: Option<i64>,
}

impl TryFrom<RawHeld> for HeldRow {
    type Error = StoreError;

    fn try_from(raw: RawHeld) -> Result<Self> {
        const TABLE: &str = "category_periods";
        Ok(HeldRow {
            household_id: raw.household_id,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            head_name: raw.head_name,
            n_members: raw.n_members,
            category: decode::code(TABLE, "category", raw.category, Category::from_code)?,
            start_date: decode::date(TABLE, "start_date", raw.start_date)?,
            monthly_fen: raw.monthly_fen,
        })
    }
}

pub async fn held_page(conn: &mut Conn, after_id: i64, limit: i64) -> Result<Vec<HeldRow>> {
    decode::all::<RawHeld, _>(sqlx::query_as(
        "SELECT h.id AS household_id, h.area_code, h.head_name, h.n_members, c.category, c.start_date, c.monthly_fen \
         FROM households h JOIN category_periods c ON c.household_id = h.id \
         WHERE h.id IN (SELECT id FROM households WHERE id > $1 ORDER BY id LIMIT $2) AND c.end_date IS NULL \
         AND NOT EXISTS (SELECT 1 FROM disclosure_entries d WHERE d.household_id = h.id AND d.in_force_to IS NULL) \
         ORDER BY h.id, c.id",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// The last household id of the page after `after_id` (the backfill's cursor).
pub async fn last_household_of_page(
    conn: &mut Conn,
    after_id: i64,
    limit: i64,
) -> Result<Option<i64>> {
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT MAX(id) FROM (SELECT id FROM households WHERE id > $1 ORDER BY id LIMIT $2) page",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.and_then(|(id,)| id))
}
