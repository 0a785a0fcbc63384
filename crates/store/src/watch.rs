//! 监测预警 (issue 5): department feeds, comparison jobs, warnings and their loop, visit logs
//! and hotline tickets.
//!
//! Invariants: a feed is stored once per (source, period, content hash); a warning once per
//! `dedupe_key` (`insert_warning` answers `None` for a fact already known); a job is claimed
//! by one worker only (`claim_job`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, a guarded
//! `UPDATE` inside SQLite's single-writer transaction); `warning_events` rows are only
//! inserted, numbered from 1 per warning; the `warnings` row changes only at the version it
//! was read at.

use crate::decode;
use crate::instant_text;
use crate::search::{Bind, Statement};
use crate::{Conn, Result, StoreError, area_range};
use chrono::{DateTime, NaiveDate, Utc};
use domain::states::{
    ContactChannel, ContactOutcome, Disposition, FeedFormat, FeedKind, JobState, Judgement,
    Severity, WarningAction, WarningKind, WarningOrigin, WarningRule, WarningState,
};
use domain::{FeedDate, HouseholdNo, NationalId, PlaceCode, Role, StatPeriod};

/// A stored feed without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedRow {
    pub id: i64,
    /// 数据来源: the department as the importer named it (free text, not a closed list).
    pub source: String,
    pub period: StatPeriod,
    pub content_hash: String,
    pub file_name: String,
    pub format: FeedFormat,
    pub rows_read: i64,
    pub rows_rejected: i64,
    pub imported_by: String,
    pub imported_by_user_id: i64,
    pub imported_at: DateTime<Utc>,
}

/// A `feeds` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawFeed {
    id: i64,
    source: String,
    period: String,
    content_hash: String,
    file_name: String,
    format: String,
    rows_read: i64,
    rows_rejected: i64,
    imported_by: String,
    imported_by_user_id: i64,
    imported_at: String,
}

impl TryFrom<RawFeed> for FeedRow {
    type Error = StoreError;

    fn try_from(raw: RawFeed) -> Result<Self> {
        const TABLE: &str = "feeds";
        Ok(FeedRow {
            id: raw.id,
            source: raw.source,
            period: StatPeriod::parse(&raw.period)
                .map_err(|error| decode::bad(TABLE, "period", raw.period, error))?,
            content_hash: raw.content_hash,
            file_name: raw.file_name,
            format: decode::code(TABLE, "format", raw.format, FeedFormat::from_code)?,
            rows_read: raw.rows_read,
            rows_rejected: raw.rows_rejected,
            imported_by: raw.imported_by,
            imported_by_user_id: raw.imported_by_user_id,
            imported_at: decode::instant(TABLE, "imported_at", raw.imported_at)?,
        })
    }
}

const FEED_COLUMNS: &str = "id, source, period, content_hash, file_name, format, rows_read, rows_rejected, imported_by, imported_by_user_id, imported_at";

pub struct NewFeed<'a> {
    pub source: &'a str,
    pub period: &'a StatPeriod,
    pub content_hash: &'a str,
    pub file_name: &'a str,
    pub format: &'a str,
    pub content: &'a [u8],
    pub rows_read: i64,
    pub rows_rejected: i64,
    pub imported_by: &'a str,
    pub imported_by_user_id: i64,
    pub imported_at: &'a str,
}

/// The feed with this identity, if it was imported before.
pub async fn feed_by_identity(
    conn: &mut Conn,
    source: &str,
    period: &StatPeriod,
    content_hash: &str,
) -> Result<Option<FeedRow>> {
    decode::one::<RawFeed, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {FEED_COLUMNS} FROM feeds WHERE source = $1 AND period = $2 AND content_hash = $3"
        )))
        .bind(source)
        .bind(period.as_str())
        .bind(content_hash)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// Stores a feed and its rejected rows; an identity already stored is a `Conflict`.
pub async fn insert_feed(
    conn: &mut Conn,
    feed: &NewFeed<'_>,
    rejections: &[(i64, String)],
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO feeds (source, period, content_hash, file_name, format, content, rows_read, rows_rejected, imported_by, imported_by_user_id, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(feed.source)
    .bind(feed.period.as_str())
    .bind(feed.content_hash)
    .bind(feed.file_name)
    .bind(feed.format)
    .bind(feed.content.to_vec())
    .bind(feed.rows_read)
    .bind(feed.rows_rejected)
    .bind(feed.imported_by)
    .bind(feed.imported_by_user_id)
    .bind(feed.imported_at)
    .fetch_one(&mut *conn)
    .await?;
    let positional = crate::sql::positional(conn);
    for chunk in rejections.chunks(crate::sql::BULK_ROWS) {
        let sql = format!(
            "INSERT INTO feed_rejections (feed_id, line, reason) VALUES {}",
            crate::sql::values_list(chunk.len(), 3, positional)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (line, reason) in chunk {
            query = query.bind(id).bind(*line).bind(reason.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(id)
}

/// One readable row of a stored feed: a fact about one person (P3 at intake). `on_date` is
/// the row's date as the department gave it, a day or a month, or none (FEEDS.md); it is
/// stored as that text (`YYYY-MM-DD`, `YYYY-MM` or empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedFact {
    pub feed_id: i64,
    pub line: i64,
    /// Only a readable row is kept, and its number was checked (`watch::feed::parse_id`).
    pub id_number: NationalId,
    pub name: String,
    pub kind: FeedKind,
    pub value: Option<i64>,
    pub on_date: Option<FeedDate>,
    pub detail: String,
}

/// A `feed_facts` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawFeedFact {
    feed_id: i64,
    line: i64,
    id_number: String,
    name: String,
    kind: String,
    value: Option<i64>,
    on_date: String,
    detail: String,
}

impl TryFrom<RawFeedFact> for FeedFact {
    type Error = StoreError;

    fn try_from(raw: RawFeedFact) -> Result<Self> {
        Ok(FeedFact {
            feed_id: raw.feed_id,
            line: raw.line,
            id_number: decode::national_id("feed_facts", "id_number", raw.id_number)?,
            name: raw.name,
            kind: decode::code("feed_facts", "kind", raw.kind, FeedKind::from_code)?,
            value: raw.value,
            on_date: feed_date(raw.on_date)?,
            detail: raw.detail,
        })
    }
}

/// A stored feed row's date: empty when the department gave none.
fn feed_date(value: String) -> Result<Option<FeedDate>> {
    if value.is_empty() {
        return Ok(None);
    }
    FeedDate::parse(&value)
        .map(Some)
        .map_err(|error| decode::bad("feed_facts", "on_date", value, error))
}

/// Stores a feed's readable rows (in the feed's transaction) and marks the feed as indexed.
pub async fn insert_feed_facts(conn: &mut Conn, feed_id: i64, facts: &[FeedFact]) -> Result<()> {
    let positional = crate::sql::positional(conn);
    for chunk in facts.chunks(crate::sql::BULK_ROWS) {
        let sql = format!(
            "INSERT INTO feed_facts (feed_id, line, id_number, name, kind, value, on_date, detail) VALUES {}",
            crate::sql::values_list(chunk.len(), 8, positional)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for fact in chunk {
            query = query
                .bind(feed_id)
                .bind(fact.line)
                .bind(fact.id_number.as_str())
                .bind(fact.name.as_str())
                .bind(fact.kind.code())
                .bind(fact.value)
                .bind(
                    fact.on_date
                        .map(|date| date.to_string())
                        .unwrap_or_default(),
                )
                .bind(fact.detail.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE feeds SET facts_stored = 1 WHERE id = $1")
        .bind(feed_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many feed rows are kept as facts.
pub async fn fact_count(conn: &mut Conn) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM feed_facts")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Feeds stored before their rows were kept as facts (filled in at start-up), oldest first.
pub async fn feeds_without_facts(conn: &mut Conn) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM feeds WHERE facts_stored = 0 ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Every stored fact about these persons, by the ID-number index, oldest feed first.
pub async fn facts_about(conn: &mut Conn, id_numbers: &[&str]) -> Result<Vec<FeedFact>> {
    let mut facts = Vec::new();
    for chunk in id_numbers.chunks(crate::sql::BULK_ROWS) {
        let sql = format!(
            "SELECT feed_id, line, id_number, name, kind, value, on_date, detail FROM feed_facts \
             WHERE id_number IN ({}) ORDER BY feed_id, line",
            crate::sql::placeholders(chunk.len(), crate::sql::positional(conn))
        );
        let mut query = sqlx::query_as::<_, RawFeedFact>(sqlx::AssertSqlSafe(sql));
        for id_number in chunk {
            query = query.bind(*id_number);
        }
        facts.extend(decode::all::<_, FeedFact>(
            query.fetch_all(&mut *conn).await?,
        )?);
    }
    Ok(facts)
}

/// The open warnings on a household or on any of these persons, oldest first.
pub async fn open_warnings_about(
    conn: &mut Conn,
    household_external_id: Option<&str>,
    id_numbers: &[&str],
) -> Result<Vec<WarningRow>> {
    let mut rows: Vec<WarningRow> = Vec::new();
    if let Some(external_id) = household_external_id {
        rows.extend(
            sqlx::query_as::<_, RawWarning>(sqlx::AssertSqlSafe(format!(
                "SELECT {WARNING_COLUMNS} FROM warnings WHERE household_external_id = $1 AND closed_on IS NULL"
            )))
            .bind(external_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(WarningRow::try_from)
            .collect::<Result<Vec<_>>>()?,
        );
    }
    for chunk in id_numbers.chunks(crate::sql::BULK_ROWS) {
        let sql = format!(
            "SELECT {WARNING_COLUMNS} FROM warnings WHERE id_number IN ({}) AND closed_on IS NULL",
            crate::sql::placeholders(chunk.len(), crate::sql::positional(conn))
        );
        let mut query = sqlx::query_as::<_, RawWarning>(sqlx::AssertSqlSafe(sql));
        for id_number in chunk {
            query = query.bind(*id_number);
        }
        rows.extend(decode::all::<_, WarningRow>(
            query.fetch_all(&mut *conn).await?,
        )?);
    }
    rows.sort_by_key(|row| row.id);
    rows.dedup_by_key(|row| row.id);
    Ok(rows)
}

pub async fn feed(conn: &mut Conn, id: i64) -> Result<Option<FeedRow>> {
    decode::one::<RawFeed, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {FEED_COLUMNS} FROM feeds WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// The bytes of a stored feed.
pub async fn feed_content(conn: &mut Conn, id: i64) -> Result<Vec<u8>> {
    let (content,): (Vec<u8>,) = sqlx::query_as("SELECT content FROM feeds WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(content)
}

/// The latest feeds, newest first.
pub async fn recent_feeds(conn: &mut Conn, limit: i64) -> Result<Vec<FeedRow>> {
    decode::all::<RawFeed, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {FEED_COLUMNS} FROM feeds ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The rejected rows of a feed, by line (at most `limit`).
pub async fn feed_rejections(
    conn: &mut Conn,
    feed_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT line, reason FROM feed_rejections WHERE feed_id = $1 ORDER BY line LIMIT $2",
    )
    .bind(feed_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// 比对任务.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub feed_id: i64,
    pub state: JobState,
    pub as_of: NaiveDate,
    pub enqueued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub worker: Option<String>,
    pub households: Option<i64>,
    pub records: Option<i64>,
    pub findings: Option<i64>,
    pub new_warnings: Option<i64>,
    pub discrepancies: Option<i64>,
    pub error: Option<String>,
}

/// A `comparison_jobs` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawJob {
    id: i64,
    feed_id: i64,
    state: String,
    as_of: String,
    enqueued_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    worker: Option<String>,
    households: Option<i64>,
    records: Option<i64>,
    findings: Option<i64>,
    new_warnings: Option<i64>,
    discrepancies: Option<i64>,
    error: Option<String>,
}

impl TryFrom<RawJob> for JobRow {
    type Error = StoreError;

    fn try_from(raw: RawJob) -> Result<Self> {
        const TABLE: &str = "comparison_jobs";
        Ok(JobRow {
            id: raw.id,
            feed_id: raw.feed_id,
            state: decode::code(TABLE, "state", raw.state, JobState::from_code)?,
            as_of: decode::date(TABLE, "as_of", raw.as_of)?,
            enqueued_at: decode::instant(TABLE, "enqueued_at", raw.enqueued_at)?,
            started_at: decode::instant_opt(TABLE, "started_at", raw.started_at)?,
            finished_at: decode::instant_opt(TABLE, "finished_at", raw.finished_at)?,
            worker: raw.worker,
            households: raw.households,
            records: raw.records,
            findings: raw.findings,
            new_warnings: raw.new_warnings,
            discrepancies: raw.discrepancies,
            error: raw.error,
        })
    }
}

const JOB_COLUMNS: &str = "id, feed_id, state, as_of, enqueued_at, started_at, finished_at, worker, households, records, findings, new_warnings, discrepancies, error";

pub async fn enqueue_job(conn: &mut Conn, feed_id: i64, as_of: &str, now: &str) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO comparison_jobs (feed_id, state, as_of, enqueued_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(feed_id)
    .bind(JobState::Queued.code())
    .bind(as_of)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Claims the oldest queued job for `worker` (state `running`), or `None` when none is queued.
/// Two workers never claim the same job: on PostgreSQL the candidate row is locked with
/// `FOR UPDATE SKIP LOCKED` (a concurrent claimer takes the next one); on SQLite the caller's
/// write transaction excludes other writers and the `state` guard re-checks the row.
/// A job still `running` that was started before `stale_before` belongs to a worker that died
/// (its run writes everything in one transaction, so nothing of it remains) and is taken again.
pub async fn claim_job(
    conn: &mut Conn,
    worker: &str,
    now: &str,
    stale_before: &str,
) -> Result<Option<JobRow>> {
    let lock = if crate::sql::positional(conn) {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    };
    decode::one::<RawJob, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE comparison_jobs SET state = $1, worker = $2, started_at = $3 \
         WHERE id = (SELECT id FROM comparison_jobs \
             WHERE state = $4 OR (state = $1 AND started_at < $5) ORDER BY id LIMIT 1{lock}) \
         AND (state = $4 OR (state = $1 AND started_at < $5)) \
         RETURNING {JOB_COLUMNS}"
        )))
        .bind(JobState::Running.code())
        .bind(worker)
        .bind(now)
        .bind(JobState::Queued.code())
        .bind(stale_before)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// What a finished run counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub households: i64,
    pub records: i64,
    pub findings: i64,
    pub new_warnings: i64,
    pub discrepancies: i64,
}

/// Marks a running job done with its counts (only from `running`, else `Conflict`).
pub async fn finish_job(conn: &mut Conn, id: i64, counts: &JobCounts, now: &str) -> Result<()> {
    let done = sqlx::query(
        "UPDATE comparison_jobs SET state = $1, finished_at = $2, households = $3, records = $4, findings = $5, new_warnings = $6, discrepancies = $7 \
         WHERE id = $8 AND state = $9",
    )
    .bind(JobState::Done.code())
    .bind(now)
    .bind(counts.households)
    .bind(counts.records)
    .bind(counts.findings)
    .bind(counts.new_warnings)
    .bind(counts.discrepancies)
    .bind(id)
    .bind(JobState::Running.code())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!("job {id} is not running")));
    }
    Ok(())
}

/// Marks a running job failed with the reason.
pub async fn fail_job(conn: &mut Conn, id: i64, error: &str, now: &str) -> Result<()> {
    sqlx::query(
        "UPDATE comparison_jobs SET state = $1, finished_at = $2, error = $3 WHERE id = $4 AND state = $5",
    )
    .bind(JobState::Failed.code())
    .bind(now)
    .bind(error)
    .bind(id)
    .bind(JobState::Running.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn job(conn: &mut Conn, id: i64) -> Result<Option<JobRow>> {
    decode::one::<RawJob, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM comparison_jobs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// The latest jobs, newest first.
pub async fn recent_jobs(conn: &mut Conn, limit: i64) -> Result<Vec<JobRow>> {
    decode::all::<RawJob, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM comparison_jobs ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// 预警.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningRow {
    pub id: i64,
    pub dedupe_key: String,
    pub origin: WarningOrigin,
    pub rule: WarningRule,
    pub kind: WarningKind,
    pub severity: Severity,
    /// Checked before it is stored: a feed row's number is read by `watch::feed::parse_id`,
    /// a contact's by `NationalId::parse`.
    pub id_number: Option<NationalId>,
    pub person_name: String,
    pub household_external_id: Option<HouseholdNo>,
    pub household_id: Option<i64>,
    pub inside_net: i64,
    pub area_code: PlaceCode,
    pub feed_id: Option<i64>,
    pub job_id: Option<i64>,
    pub line: Option<i64>,
    pub description: String,
    pub param_json: Option<String>,
    pub state: WarningState,
    pub assignee_user_id: Option<i64>,
    pub judgement: Option<Judgement>,
    pub disposition: Option<Disposition>,
    pub case_id: Option<i64>,
    pub created_on: NaiveDate,
    pub due_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A `warnings` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawWarning {
    pub(crate) id: i64,
    pub(crate) dedupe_key: String,
    pub(crate) origin: String,
    pub(crate) rule: String,
    pub(crate) kind: String,
    pub(crate) severity: String,
    pub(crate) id_number: Option<String>,
    pub(crate) person_name: String,
    pub(crate) household_external_id: Option<String>,
    pub(crate) household_id: Option<i64>,
    pub(crate) inside_net: i64,
    pub(crate) area_code: String,
    pub(crate) feed_id: Option<i64>,
    pub(crate) job_id: Option<i64>,
    pub(crate) line: Option<i64>,
    pub(crate) description: String,
    pub(crate) param_json: Option<String>,
    pub(crate) state: String,
    pub(crate) assignee_user_id: Option<i64>,
    pub(crate) judgement: Option<String>,
    pub(crate) disposition: Option<String>,
    pub(crate) case_id: Option<i64>,
    pub(crate) created_on: String,
    pub(crate) due_on: String,
    pub(crate) closed_on: Option<String>,
    pub(crate) updated_at: String,
    pub(crate) version: i64,
}

impl TryFrom<RawWarning> for WarningRow {
    type Error = StoreError;

    fn try_from(raw: RawWarning) -> Result<Self> {
        const TABLE: &str = "warnings";
        Ok(WarningRow {
            id: raw.id,
            dedupe_key: raw.dedupe_key,
            origin: decode::code(TABLE, "origin", raw.origin, WarningOrigin::from_code)?,
            rule: decode::code(TABLE, "rule", raw.rule, WarningRule::from_code)?,
            kind: decode::code(TABLE, "kind", raw.kind, WarningKind::from_code)?,
            severity: decode::code(TABLE, "severity", raw.severity, Severity::from_code)?,
            id_number: decode::national_id_opt(TABLE, "id_number", raw.id_number)?,
            person_name: raw.person_name,
            household_external_id: decode::household_no_opt(
                "warnings",
                "household_external_id",
                raw.household_external_id,
            )?,
            household_id: raw.household_id,
            inside_net: raw.inside_net,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            feed_id: raw.feed_id,
            job_id: raw.job_id,
            line: raw.line,
            description: raw.description,
            param_json: raw.param_json,
            state: decode::code(TABLE, "state", raw.state, WarningState::from_code)?,
            assignee_user_id: raw.assignee_user_id,
            judgement: decode::code_opt(TABLE, "judgement", raw.judgement, Judgement::from_code)?,
            disposition: decode::code_opt(
                TABLE,
                "disposition",
                raw.disposition,
                Disposition::from_code,
            )?,
            case_id: raw.case_id,
            created_on: decode::date(TABLE, "created_on", raw.created_on)?,
            due_on: decode::date(TABLE, "due_on", raw.due_on)?,
            closed_on: decode::date_opt(TABLE, "closed_on", raw.closed_on)?,
            updated_at: decode::instant(TABLE, "updated_at", raw.updated_at)?,
            version: raw.version,
        })
    }
}

const WARNING_COLUMNS: &str = "id, dedupe_key, origin, rule, kind, severity, id_number, person_name, household_external_id, household_id, inside_net, area_code, feed_id, job_id, line, description, param_json, state, assignee_user_id, judgement, disposition, case_id, created_on, due_on, closed_on, updated_at, version";

pub struct NewWarning<'a> {
    pub dedupe_key: &'a str,
    pub origin: &'a str,
    pub rule: &'a str,
    pub kind: &'a str,
    pub severity: &'a str,
    pub id_number: Option<&'a str>,
    pub person_name: &'a str,
    pub household_external_id: Option<&'a str>,
    pub household_id: Option<i64>,
    pub inside_net: bool,
    pub area_code: &'a str,
    pub feed_id: Option<i64>,
    pub job_id: Option<i64>,
    pub line: Option<i64>,
    pub description: &'a str,
    pub param_json: Option<&'a str>,
    pub state: &'a str,
    pub disposition: Option<&'a str>,
    pub case_id: Option<i64>,
    pub created_on: &'a str,
    pub due_on: &'a str,
    pub closed_on: Option<&'a str>,
    pub now: &'a str,
}

/// Inserts a warning unless one with the same `dedupe_key` exists (then `None`: the same fact
/// about the same person is one warning).
pub async fn insert_warning(conn: &mut Conn, warning: &NewWarning<'_>) -> Result<Option<i64>> {
    let id: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO warnings (dedupe_key, origin, rule, kind, severity, id_number, person_name, household_external_id, household_id, inside_net, area_code, feed_id, job_id, line, description, param_json, state, assignee_user_id, judgement, disposition, case_id, created_on, due_on, closed_on, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, NULL, NULL, $18, $19, $20, $21, $22, $23, 1) \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(warning.dedupe_key)
    .bind(warning.origin)
    .bind(warning.rule)
    .bind(warning.kind)
    .bind(warning.severity)
    .bind(warning.id_number)
    .bind(warning.person_name)
    .bind(warning.household_external_id)
    .bind(warning.household_id)
    .bind(i64::from(warning.inside_net))
    .bind(warning.area_code)
    .bind(warning.feed_id)
    .bind(warning.job_id)
    .bind(warning.line)
    .bind(warning.description)
    .bind(warning.param_json)
    .bind(warning.state)
    .bind(warning.disposition)
    .bind(warning.case_id)
    .bind(warning.created_on)
    .bind(warning.due_on)
    .bind(warning.closed_on)
    .bind(warning.now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(id.map(|(id,)| id))
}

pub async fn warning(conn: &mut Conn, id: i64) -> Result<Option<WarningRow>> {
    decode::one::<RawWarning, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {WARNING_COLUMNS} FROM warnings WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// A filter of the warning list; `late_on` keeps the open ones due before that day.
#[derive(Clone, Debug, Default)]
pub struct WarningFilter<'a> {
    pub area_prefix: &'a str,
    pub state: Option<&'a str>,
    pub rule: Option<&'a str>,
    pub late_on: Option<&'a str>,
    pub limit: i64,
    /// Where the page starts (the `next` of the page before); `None` for the first page.
    pub after: Option<&'a WarningCursor>,
}

/// Where the next page of the warning list starts: its last line, in the list's order (open
/// ones first, then by due date and id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningCursor {
    pub closed: bool,
    pub due_on: NaiveDate,
    pub id: i64,
}

impl WarningCursor {
    /// The cursor as text for a link or the API (`after=`).
    pub fn encode(&self) -> String {
        let part = if self.closed { 'c' } else { 'o' };
        format!("{part}{}.{}", self.due_on, self.id)
    }

    /// Reads `encode`'s text back; `None` when it is not a cursor.
    pub fn decode(text: &str) -> Option<WarningCursor> {
        let closed = match text.get(..1)? {
            "o" => false,
            "c" => true,
            _ => return None,
        };
        let (due_on, id) = text[1..].split_once('.')?;
        Some(WarningCursor {
            closed,
            due_on: NaiveDate::parse_from_str(due_on, "%Y-%m-%d").ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// One page of the warning list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningList {
    pub rows: Vec<WarningRow>,
    /// Warnings matching the filter, counted up to `search::TOTAL_CAP`.
    pub total: i64,
    /// More than `total` match (counting stopped at the cap).
    pub capped: bool,
    pub next: Option<WarningCursor>,
}

/// The statements of the warning list for `filter`, one pair per part of the list (open ones,
/// then closed ones): its count up to the cap and its page (`limit + 1` lines, in order).
pub fn warning_statements(filter: &WarningFilter<'_>) -> Vec<(bool, Statement, Statement)> {
    let (low, high) = area_range(filter.area_prefix);
    let mut clauses = vec!["area_code >= $1".to_owned(), "area_code < $2".to_owned()];
    let mut binds = vec![Bind::Text(low), Bind::Text(high)];
    for (column, value) in [
        ("state =", filter.state),
        ("rule =", filter.rule),
        ("due_on <", filter.late_on),
    ] {
        if let Some(value) = value {
            binds.push(Bind::Text(value.to_owned()));
            clauses.push(format!("{column} ${}", binds.len()));
        }
    }
    let parts: &[(bool, &str)] = if filter.late_on.is_some() {
        &[(false, "closed_on IS NULL")]
    } else {
        &[
            (false, "closed_on IS NULL"),
            (true, "closed_on IS NOT NULL"),
        ]
    };
    let mut statements = Vec::new();
    for (closed, part) in parts {
        let predicate = format!("{} AND {part}", clauses.join(" AND "));
        let mut count_binds = binds.clone();
        count_binds.push(Bind::Int(crate::search::TOTAL_CAP + 1));
        let count = Statement::new(
            format!(
                "SELECT COUNT(*) FROM (SELECT id FROM warnings WHERE {predicate} ORDER BY due_on, id LIMIT ${}) c",
                count_binds.len()
            ),
            count_binds,
        );
        let mut page_binds = binds.clone();
        let mut keyset = String::new();
        if let Some(after) = filter.after.filter(|after| after.closed == *closed) {
            page_binds.push(Bind::Text(after.due_on.to_string()));
            let due = page_binds.len();
            page_binds.push(Bind::Int(after.id));
            keyset = format!(
                " AND due_on >= ${due} AND (due_on > ${due} OR id > ${})",
                due + 1
            );
        }
        page_binds.push(Bind::Int(filter.limit + 1));
        let page = Statement::new(
            format!(
                "SELECT {WARNING_COLUMNS} FROM warnings WHERE {predicate}{keyset} ORDER BY due_on, id LIMIT ${}",
                page_binds.len()
            ),
            page_binds,
        );
        statements.push((*closed, count, page));
    }
    statements
}

/// The warnings matching `filter`, open ones first, each part by due date and id, read in
/// that order from a partial index of its part (`warnings_open_due`, `warnings_closed_due`,
/// migration 0011) and keyset paged; the total is counted from the same index up to the cap.
pub async fn list_warnings(conn: &mut Conn, filter: &WarningFilter<'_>) -> Result<WarningList> {
    let mut rows: Vec<WarningRow> = Vec::new();
    let mut count = 0;
    for (closed, count_statement, page_statement) in warning_statements(filter) {
        count += count_statement
            .fetch::<(i64,)>(conn)
            .await?
            .first()
            .map_or(0, |(n,)| *n);
        let before_cursor = filter.after.is_some_and(|after| after.closed && !closed);
        if rows.len() as i64 <= filter.limit && !before_cursor {
            rows.extend(decode::all::<_, WarningRow>(
                page_statement.fetch::<RawWarning>(conn).await?,
            )?);
        }
    }
    let more = rows.len() as i64 > filter.limit;
    rows.truncate(filter.limit.max(0) as usize);
    let next = rows.last().filter(|_| more).map(|last| WarningCursor {
        closed: last.closed_on.is_some(),
        due_on: last.due_on,
        id: last.id,
    });
    Ok(WarningList {
        rows,
        total: count.min(crate::search::TOTAL_CAP),
        capped: count > crate::search::TOTAL_CAP,
        next,
    })
}

/// A warning's loop fields after a step.
pub struct WarningUpdate<'a> {
    pub state: &'a str,
    pub area_code: &'a str,
    pub assignee_user_id: Option<i64>,
    pub judgement: Option<&'a str>,
    pub disposition: Option<&'a str>,
    pub case_id: Option<i64>,
    pub due_on: &'a str,
    pub closed_on: Option<&'a str>,
    pub now: &'a str,
}

/// Updates the warning if it still has `expected_version`; otherwise `Conflict`.
pub async fn update_warning(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    update: &WarningUpdate<'_>,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE warnings SET state = $1, area_code = $2, assignee_user_id = $3, judgement = $4, disposition = $5, case_id = $6, due_on = $7, closed_on = $8, updated_at = $9, version = version + 1 \
         WHERE id = $10 AND version = $11",
    )
    .bind(update.state)
    .bind(update.area_code)
    .bind(update.assignee_user_id)
    .bind(update.judgement)
    .bind(update.disposition)
    .bind(update.case_id)
    .bind(update.due_on)
    .bind(update.closed_on)
    .bind(update.now)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?;
    crate::changed_at_version(updated, "warning", id, expected_version)
}

/// One step of a warning's loop; `detail` is the JSON the caller serialised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningEventRow {
    pub warning_id: i64,
    pub seq: i64,
    pub on_date: NaiveDate,
    pub actor_user_id: i64,
    pub actor_name: String,
    pub action: WarningAction,
    pub detail: String,
    pub recorded_at: DateTime<Utc>,
}

/// A `warning_events` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawWarningEvent {
    pub(crate) warning_id: i64,
    pub(crate) seq: i64,
    pub(crate) on_date: String,
    pub(crate) actor_user_id: i64,
    pub(crate) actor_name: String,
    pub(crate) action: String,
    pub(crate) detail: String,
    pub(crate) recorded_at: String,
}

impl TryFrom<RawWarningEvent> for WarningEventRow {
    type Error = StoreError;

    fn try_from(raw: RawWarningEvent) -> Result<Self> {
        const TABLE: &str = "warning_events";
        Ok(WarningEventRow {
            warning_id: raw.warning_id,
            seq: raw.seq,
            on_date: decode::date(TABLE, "on_date", raw.on_date)?,
            actor_user_id: raw.actor_user_id,
            actor_name: raw.actor_name,
            action: decode::code(TABLE, "action", raw.action, WarningAction::from_code)?,
            detail: raw.detail,
            recorded_at: decode::instant(TABLE, "recorded_at", raw.recorded_at)?,
        })
    }
}

/// Appends an event after the warning's last one (its `seq` is set here).
pub async fn append_warning_event(conn: &mut Conn, event: &WarningEventRow) -> Result<i64> {
    let (last,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(seq) FROM warning_events WHERE warning_id = $1")
            .bind(event.warning_id)
            .fetch_one(&mut *conn)
            .await?;
    let seq = last.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO warning_events (warning_id, seq, on_date, actor_user_id, actor_name, action, detail, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.warning_id)
    .bind(seq)
    .bind(event.on_date.to_string())
    .bind(event.actor_user_id)
    .bind(&event.actor_name)
    .bind(event.action.code())
    .bind(&event.detail)
    .bind(instant_text(event.recorded_at))
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

pub async fn warning_events(conn: &mut Conn, warning_id: i64) -> Result<Vec<WarningEventRow>> {
    decode::all::<RawWarningEvent, _>(sqlx::query_as(
        "SELECT warning_id, seq, on_date, actor_user_id, actor_name, action, detail, recorded_at \
         FROM warning_events WHERE warning_id = $1 ORDER BY seq",
    )
    .bind(warning_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// A user who can be sent to verify a warning (a member of a town team).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamUser {
    pub id: i64,
    pub display_name: String,
    pub role: Role,
    pub area_code: PlaceCode,
}

/// A `users` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawTeamUser {
    pub(crate) id: i64,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) area_code: String,
}

impl TryFrom<RawTeamUser> for TeamUser {
    type Error = StoreError;

    fn try_from(raw: RawTeamUser) -> Result<Self> {
        const TABLE: &str = "users";
        Ok(TeamUser {
            id: raw.id,
            display_name: raw.display_name,
            role: decode::role(TABLE, "role", raw.role)?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
        })
    }
}

/// The active users with one of `roles` whose area lies under `area_prefix`.
pub async fn team_users(
    conn: &mut Conn,
    area_prefix: &str,
    roles: &[&str],
) -> Result<Vec<TeamUser>> {
    let (low, high) = area_range(area_prefix);
    let rows: Vec<RawTeamUser> = sqlx::query_as(
        "SELECT id, display_name, role, area_code FROM users \
         WHERE active = 1 AND area_code >= $1 AND area_code < $2 ORDER BY area_code, id",
    )
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?;
    decode::all(
        rows.into_iter()
            .filter(|user| roles.contains(&user.role.as_str()))
            .collect(),
    )
}

/// 走访记录 / 热线工单.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRow {
    pub id: i64,
    pub channel: ContactChannel,
    pub on_date: NaiveDate,
    pub household_external_id: Option<HouseholdNo>,
    pub household_id: Option<i64>,
    pub person_name: String,
    /// Checked by `NationalId::parse` before it is stored.
    pub id_number: Option<NationalId>,
    pub phone: String,
    pub area_code: PlaceCode,
    pub findings: String,
    pub outcome: ContactOutcome,
    pub warning_id: Option<i64>,
    pub case_id: Option<i64>,
    pub recorded_by_user_id: i64,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A `contacts` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawContact {
    pub(crate) id: i64,
    pub(crate) channel: String,
    pub(crate) on_date: String,
    pub(crate) household_external_id: Option<String>,
    pub(crate) household_id: Option<i64>,
    pub(crate) person_name: String,
    pub(crate) id_number: Option<String>,
    pub(crate) phone: String,
    pub(crate) area_code: String,
    pub(crate) findings: String,
    pub(crate) outcome: String,
    pub(crate) warning_id: Option<i64>,
    pub(crate) case_id: Option<i64>,
    pub(crate) recorded_by_user_id: i64,
    pub(crate) recorded_by: String,
    pub(crate) recorded_at: String,
}

impl TryFrom<RawContact> for ContactRow {
    type Error = StoreError;

    fn try_from(raw: RawContact) -> Result<Self> {
        const TABLE: &str = "contacts";
        Ok(ContactRow {
            id: raw.id,
            channel: decode::code(TABLE, "channel", raw.channel, ContactChannel::from_code)?,
            on_date: decode::date(TABLE, "on_date", raw.on_date)?,
            household_external_id: decode::household_no_opt(
                "contacts",
                "household_external_id",
                raw.household_external_id,
            )?,
            household_id: raw.household_id,
            person_name: raw.person_name,
            id_number: decode::national_id_opt(TABLE, "id_number", raw.id_number)?,
            phone: raw.phone,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            findings: raw.findings,
            outcome: decode::code(TABLE, "outcome", raw.outcome, ContactOutcome::from_code)?,
            warning_id: raw.warning_id,
            case_id: raw.case_id,
            recorded_by_user_id: raw.recorded_by_user_id,
            recorded_by: raw.recorded_by,
            recorded_at: decode::instant(TABLE, "recorded_at", raw.recorded_at)?,
        })
    }
}

const CONTACT_COLUMNS: &str = "id, channel, on_date, household_external_id, household_id, person_name, id_number, phone, area_code, findings, outcome, warning_id, case_id, recorded_by_user_id, recorded_by, recorded_at";

pub struct NewContact<'a> {
    pub channel: &'a str,
    pub on_date: &'a str,
    pub household_external_id: Option<&'a str>,
    pub household_id: Option<i64>,
    pub person_name: &'a str,
    pub id_number: Option<&'a str>,
    pub phone: &'a str,
    pub area_code: &'a str,
    pub findings: &'a str,
    pub outcome: &'a str,
    pub recorded_by_user_id: i64,
    pub recorded_by: &'a str,
    pub recorded_at: &'a str,
}

pub async fn insert_contact(conn: &mut Conn, contact: &NewContact<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO contacts (channel, on_date, household_external_id, household_id, person_name, id_number, phone, area_code, findings, outcome, warning_id, case_id, recorded_by_user_id, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11, $12, $13) RETURNING id",
    )
    .bind(contact.channel)
    .bind(contact.on_date)
    .bind(contact.household_external_id)
    .bind(contact.household_id)
    .bind(contact.person_name)
    .bind(contact.id_number)
    .bind(contact.phone)
    .bind(contact.area_code)
    .bind(contact.findings)
    .bind(contact.outcome)
    .bind(contact.recorded_by_user_id)
    .bind(contact.recorded_by)
    .bind(contact.recorded_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Links a contact to the warning or case it raised.
pub async fn link_contact(
    conn: &mut Conn,
    id: i64,
    warning_id: Option<i64>,
    case_id: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE contacts SET warning_id = $1, case_id = $2 WHERE id = $3")
        .bind(warning_id)
        .bind(case_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Where a page of contacts starts: after the contact of `on_date` with this id (newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactCursor {
    pub on_date: NaiveDate,
    pub id: i64,
}

impl ContactCursor {
    /// The cursor as text for a link or the API (`after=`): `2026-11-02.17`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.on_date, self.id)
    }

    /// Reads `encode`'s text back; `None` when it is not a cursor.
    pub fn decode(text: &str) -> Option<ContactCursor> {
        let (on_date, id) = text.split_once('.')?;
        Some(ContactCursor {
            on_date: NaiveDate::parse_from_str(on_date, "%Y-%m-%d").ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// The statements of the contact list under `area_prefix` after `after`: its count up to
/// `search::TOTAL_CAP` and its page (`limit + 1` lines, newest first), from `contacts_area`.
pub fn contact_statements(
    area_prefix: &str,
    after: Option<&ContactCursor>,
    limit: i64,
) -> [Statement; 2] {
    let (low, high) = area_range(area_prefix);
    let binds = vec![Bind::Text(low), Bind::Text(high)];
    let mut count_binds = binds.clone();
    count_binds.push(Bind::Int(crate::search::TOTAL_CAP + 1));
    let count = Statement::new(
        "SELECT COUNT(*) FROM (SELECT id FROM contacts WHERE area_code >= $1 AND area_code < $2 LIMIT $3) c",
        count_binds,
    );
    let mut binds = binds;
    let mut keyset = String::new();
    if let Some(after) = after {
        binds.push(Bind::Text(after.on_date.to_string()));
        binds.push(Bind::Int(after.id));
        keyset = " AND on_date <= $3 AND (on_date < $3 OR id < $4)".to_owned();
    }
    binds.push(Bind::Int(limit + 1));
    let page = Statement::new(
        format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE area_code >= $1 AND area_code < $2{keyset} \
             ORDER BY on_date DESC, id DESC LIMIT ${}",
            binds.len()
        ),
        binds,
    );
    [count, page]
}

/// One page of contacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactList {
    pub rows: Vec<ContactRow>,
    /// Contacts of the area, counted up to `search::TOTAL_CAP`.
    pub total: i64,
    pub capped: bool,
    pub next: Option<ContactCursor>,
}

/// One page of the contacts under `area_prefix`, newest first, after `after`.
pub async fn contacts_in_area(
    conn: &mut Conn,
    area_prefix: &str,
    after: Option<&ContactCursor>,
    limit: i64,
) -> Result<ContactList> {
    let [count, page] = contact_statements(area_prefix, after, limit);
    let total = count
        .fetch::<(i64,)>(conn)
        .await?
        .first()
        .map_or(0, |(n,)| *n);
    let mut rows: Vec<ContactRow> = decode::all(page.fetch::<RawContact>(conn).await?)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    Ok(ContactList {
        next: rows.last().filter(|_| more).map(|last| ContactCursor {
            on_date: last.on_date,
            id: last.id,
        }),
        rows,
        total: total.min(crate::search::TOTAL_CAP),
        capped: total > crate::search::TOTAL_CAP,
    })
}
