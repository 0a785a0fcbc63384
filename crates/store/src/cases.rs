//! 案件: the case summary that work lists read, and each case's append-only history (issue 4).
//!
//! Invariant: `case_events` rows are only inserted, numbered from 1 without gaps per case; the
//! `cases` row is a summary of them, updated only with the version it was read at.

use crate::{Conn, Result, area_range};

/// The summary of a case, as work lists read it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub tracking_number: String,
    pub kind: String,
    pub household_external_id: String,
    pub household_id: Option<i64>,
    pub area_code: String,
    pub step: String,
    pub received_on: String,
    pub step_since: String,
    pub closed_on: Option<String>,
    pub updated_at: String,
    pub version: i64,
    /// The day the refusal notice reached the applicant (a refused case is worked on until then).
    pub refusal_notice_on: Option<String>,
}

const COLUMNS: &str = "id, tracking_number, kind, household_external_id, household_id, area_code, step, received_on, step_since, closed_on, updated_at, version, refusal_notice_on";

/// The cases someone still works on: open ones, and refused ones whose notice is not delivered.
const IN_WORK: &str = "(closed_on IS NULL OR (step = 'refused' AND refusal_notice_on IS NULL))";

pub struct NewCase<'a> {
    pub tracking_number: &'a str,
    pub kind: &'a str,
    pub household_external_id: &'a str,
    pub household_id: Option<i64>,
    pub area_code: &'a str,
    pub step: &'a str,
    pub received_on: &'a str,
    pub now: &'a str,
}

/// One entry of a case's history; `fact` is the JSON the caller serialised.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseEventRow {
    pub case_id: i64,
    pub seq: i64,
    pub on_date: String,
    pub actor_user_id: i64,
    pub actor_role: String,
    pub actor_area: String,
    pub fact: String,
    pub recorded_at: String,
}

/// Inserts a case summary at version 1; a tracking number already taken is a `Conflict`.
pub async fn insert(conn: &mut Conn, case: &NewCase<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO cases (tracking_number, kind, household_external_id, household_id, area_code, step, received_on, step_since, closed_on, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, NULL, $8, 1) RETURNING id",
    )
    .bind(case.tracking_number)
    .bind(case.kind)
    .bind(case.household_external_id)
    .bind(case.household_id)
    .bind(case.area_code)
    .bind(case.step)
    .bind(case.received_on)
    .bind(case.now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// How many tracking numbers start with `prefix` (the caller issues the next one).
pub async fn count_tracking_prefix(conn: &mut Conn, prefix: &str) -> Result<i64> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM cases WHERE tracking_number >= $1 AND tracking_number < $2",
    )
    .bind(prefix)
    .bind(format!("{prefix}~"))
    .fetch_one(&mut *conn)
    .await?;
    Ok(count)
}

/// Appends events after the last one; their `seq` must follow on (a concurrent append is a
/// `Conflict` through the primary key).
pub async fn append_events(conn: &mut Conn, events: &[CaseEventRow]) -> Result<()> {
    for event in events {
        sqlx::query(
            "INSERT INTO case_events (case_id, seq, on_date, actor_user_id, actor_role, actor_area, fact, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(event.case_id)
        .bind(event.seq)
        .bind(&event.on_date)
        .bind(event.actor_user_id)
        .bind(&event.actor_role)
        .bind(&event.actor_area)
        .bind(&event.fact)
        .bind(&event.recorded_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The history of a case, in order.
pub async fn events(conn: &mut Conn, case_id: i64) -> Result<Vec<CaseEventRow>> {
    Ok(sqlx::query_as(
        "SELECT case_id, seq, on_date, actor_user_id, actor_role, actor_area, fact, recorded_at \
         FROM case_events WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<CaseRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn by_tracking_number(conn: &mut Conn, tracking_number: &str) -> Result<Option<CaseRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE tracking_number = $1"
    )))
    .bind(tracking_number)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The cases in work under `area_prefix` — open ones (no `closed_on`) and refused ones whose
/// refusal notice is not yet delivered — by step then tracking number.
pub async fn open_in_area(conn: &mut Conn, area_prefix: &str) -> Result<Vec<CaseRow>> {
    let (low, high) = area_range(area_prefix);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE area_code >= $1 AND area_code < $2 AND {IN_WORK} \
         ORDER BY step, tracking_number"
    )))
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// The histories of every case `open_in_area` lists, in one query: ordered by case, then `seq`.
pub async fn events_in_work(conn: &mut Conn, area_prefix: &str) -> Result<Vec<CaseEventRow>> {
    let (low, high) = area_range(area_prefix);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT e.case_id, e.seq, e.on_date, e.actor_user_id, e.actor_role, e.actor_area, e.fact, e.recorded_at \
         FROM case_events e WHERE e.case_id IN \
         (SELECT id FROM cases WHERE area_code >= $1 AND area_code < $2 AND {IN_WORK}) \
         ORDER BY e.case_id, e.seq"
    )))
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// The cases at `step` under `area_prefix`, by tracking number (the village's 公示 lists those
/// at `notice`).
pub async fn at_step_in_area(
    conn: &mut Conn,
    area_prefix: &str,
    step: &str,
) -> Result<Vec<CaseRow>> {
    let (low, high) = area_range(area_prefix);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE area_code >= $1 AND area_code < $2 AND step = $3 \
         ORDER BY tracking_number"
    )))
    .bind(low)
    .bind(high)
    .bind(step)
    .fetch_all(&mut *conn)
    .await?)
}

/// The histories of every case `at_step_in_area` lists, in one query: ordered by case, then `seq`.
pub async fn events_at_step_in_area(
    conn: &mut Conn,
    area_prefix: &str,
    step: &str,
) -> Result<Vec<CaseEventRow>> {
    let (low, high) = area_range(area_prefix);
    Ok(sqlx::query_as(
        "SELECT e.case_id, e.seq, e.on_date, e.actor_user_id, e.actor_role, e.actor_area, e.fact, e.recorded_at \
         FROM case_events e WHERE e.case_id IN \
         (SELECT id FROM cases WHERE area_code >= $1 AND area_code < $2 AND step = $3) \
         ORDER BY e.case_id, e.seq",
    )
    .bind(low)
    .bind(high)
    .bind(step)
    .fetch_all(&mut *conn)
    .await?)
}

/// The summary after a move.
pub struct CaseSummary<'a> {
    pub household_id: Option<i64>,
    pub step: &'a str,
    pub step_since: &'a str,
    pub closed_on: Option<&'a str>,
    pub refusal_notice_on: Option<&'a str>,
    pub now: &'a str,
}

/// Updates the summary if it still has `expected_version`; otherwise `Conflict`.
pub async fn update_summary(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    summary: &CaseSummary<'_>,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE cases SET household_id = $1, step = $2, step_since = $3, closed_on = $4, updated_at = $5, version = version + 1, \
         refusal_notice_on = $8 WHERE id = $6 AND version = $7",
    )
    .bind(summary.household_id)
    .bind(summary.step)
    .bind(summary.step_since)
    .bind(summary.closed_on)
    .bind(summary.now)
    .bind(id)
    .bind(expected_version)
    .bind(summary.refusal_notice_on)
    .execute(&mut *conn)
    .await?;
    crate::changed_at_version(updated, "case", id, expected_version)
}

/// The open case of a household, if any (a household has at most one case in progress).
pub async fn open_for_household(conn: &mut Conn, external_id: &str) -> Result<Option<CaseRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM cases WHERE household_external_id = $1 AND closed_on IS NULL ORDER BY id LIMIT 1"
    )))
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// What an online application (线上申请, P1) adds to its case.
pub struct NewOnlineApplication<'a> {
    pub case_id: i64,
    pub id_number: &'a str,
    pub phone: &'a str,
    pub household_size: i64,
    pub now: &'a str,
}

pub async fn insert_online_application(
    conn: &mut Conn,
    application: &NewOnlineApplication<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO online_applications (case_id, id_number, phone, household_size, submitted_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(application.case_id)
    .bind(application.id_number)
    .bind(application.phone)
    .bind(application.household_size)
    .bind(application.now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The open case of an online application made with `id_number`, if any.
pub async fn open_online_application(conn: &mut Conn, id_number: &str) -> Result<Option<CaseRow>> {
    let columns = COLUMNS
        .split(", ")
        .map(|column| format!("c.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM cases c JOIN online_applications o ON o.case_id = c.id \
         WHERE o.id_number = $1 AND c.closed_on IS NULL ORDER BY c.id LIMIT 1"
    )))
    .bind(id_number)
    .fetch_optional(&mut *conn)
    .await?)
}

/// What an online application added to its case.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OnlineApplicationRow {
    pub id_number: String,
    pub phone: String,
    pub household_size: i64,
    pub submitted_at: String,
}

/// The online application of a case, if it was taken online.
pub async fn online_application(
    conn: &mut Conn,
    case_id: i64,
) -> Result<Option<OnlineApplicationRow>> {
    Ok(sqlx::query_as(
        "SELECT id_number, phone, household_size, submitted_at FROM online_applications WHERE case_id = $1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// An online application's receipt (查询码, issue 15) and what was typed with it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceiptRow {
    pub receipt: String,
    pub case_id: i64,
    /// 1 when the application duplicates a case already running (no case was opened for it).
    pub duplicate: i64,
    pub applicant: String,
    pub id_number: String,
    pub phone: String,
    pub household_size: i64,
    pub hardship: String,
    pub submitted_at: String,
}

const RECEIPT_COLUMNS: &str = "receipt, case_id, duplicate, applicant, id_number, phone, household_size, hardship, submitted_at";

pub async fn insert_receipt(conn: &mut Conn, row: &ReceiptRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO online_receipts ({RECEIPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )))
    .bind(&row.receipt)
    .bind(row.case_id)
    .bind(row.duplicate)
    .bind(&row.applicant)
    .bind(&row.id_number)
    .bind(&row.phone)
    .bind(row.household_size)
    .bind(&row.hardship)
    .bind(&row.submitted_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The online application with `receipt`, if any.
pub async fn receipt(conn: &mut Conn, receipt: &str) -> Result<Option<ReceiptRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM online_receipts WHERE receipt = $1"
    )))
    .bind(receipt)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The duplicate online applications kept with a case (重复申请), oldest first; at most
/// `limit` (the case page shows the first few).
pub async fn duplicate_receipts(
    conn: &mut Conn,
    case_id: i64,
    limit: i64,
) -> Result<Vec<ReceiptRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RECEIPT_COLUMNS} FROM online_receipts WHERE case_id = $1 AND duplicate = 1 \
         ORDER BY submitted_at, receipt LIMIT $2"
    )))
    .bind(case_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}
