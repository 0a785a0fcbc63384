//! 案件: the case summary that work lists read, and each case's append-only history (issue 4).
//!
//! Invariant: `case_events` rows are only inserted, numbered from 1 without gaps per case; the
//! `cases` row is a summary of them, updated only with the version it was read at.

use crate::decode;
use crate::search::{Bind, Statement, TOTAL_CAP};
use crate::{Conn, Result, StoreError, area_range};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use domain::states::{CaseKind, Step, TimeLimit};
use domain::{HouseholdNo, NationalId, PlaceCode, Role, TrackingNumber};

/// The summary of a case, as work lists read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    pub id: i64,
    pub tracking_number: TrackingNumber,
    pub kind: CaseKind,
    pub household_external_id: HouseholdNo,
    pub household_id: Option<i64>,
    pub area_code: PlaceCode,
    pub step: Step,
    pub received_on: NaiveDate,
    pub step_since: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// The day the refusal notice reached the applicant (a refused case is worked on until then).
    pub refusal_notice_on: Option<NaiveDate>,
}

/// A `cases` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawCase {
    pub(crate) id: i64,
    pub(crate) tracking_number: String,
    pub(crate) kind: String,
    pub(crate) household_external_id: String,
    pub(crate) household_id: Option<i64>,
    pub(crate) area_code: String,
    pub(crate) step: String,
    pub(crate) received_on: String,
    pub(crate) step_since: String,
    pub(crate) closed_on: Option<String>,
    pub(crate) updated_at: String,
    pub(crate) version: i64,
    pub(crate) refusal_notice_on: Option<String>,
}

impl TryFrom<RawCase> for CaseRow {
    type Error = StoreError;

    fn try_from(raw: RawCase) -> Result<Self> {
        const TABLE: &str = "cases";
        Ok(CaseRow {
            id: raw.id,
            tracking_number: tracking_number(TABLE, raw.tracking_number)?,
            kind: decode::code(TABLE, "kind", raw.kind, CaseKind::from_code)?,
            household_external_id: decode::household_no(
                "cases",
                "household_external_id",
                raw.household_external_id,
            )?,
            household_id: raw.household_id,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            step: decode::code(TABLE, "step", raw.step, Step::from_code)?,
            received_on: decode::date(TABLE, "received_on", raw.received_on)?,
            step_since: decode::date(TABLE, "step_since", raw.step_since)?,
            closed_on: decode::date_opt(TABLE, "closed_on", raw.closed_on)?,
            updated_at: decode::instant(TABLE, "updated_at", raw.updated_at)?,
            version: raw.version,
            refusal_notice_on: decode::date_opt(TABLE, "refusal_notice_on", raw.refusal_notice_on)?,
        })
    }
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseEventRow {
    pub case_id: i64,
    pub seq: i64,
    pub on_date: NaiveDate,
    pub actor_user_id: i64,
    pub actor_role: Role,
    pub actor_area: PlaceCode,
    pub fact: String,
    pub recorded_at: DateTime<Utc>,
}

/// A `case_events` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawCaseEvent {
    pub(crate) case_id: i64,
    pub(crate) seq: i64,
    pub(crate) on_date: String,
    pub(crate) actor_user_id: i64,
    pub(crate) actor_role: String,
    pub(crate) actor_area: String,
    pub(crate) fact: String,
    pub(crate) recorded_at: String,
}

impl TryFrom<RawCaseEvent> for CaseEventRow {
    type Error = StoreError;

    fn try_from(raw: RawCaseEvent) -> Result<Self> {
        const TABLE: &str = "case_events";
        Ok(CaseEventRow {
            case_id: raw.case_id,
            seq: raw.seq,
            on_date: decode::date(TABLE, "on_date", raw.on_date)?,
            actor_user_id: raw.actor_user_id,
            actor_role: decode::role(TABLE, "actor_role", raw.actor_role)?,
            actor_area: decode::place(TABLE, "actor_area", raw.actor_area)?,
            fact: raw.fact,
            recorded_at: decode::instant(TABLE, "recorded_at", raw.recorded_at)?,
        })
    }
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
        .bind(event.on_date.to_string())
        .bind(event.actor_user_id)
        .bind(event.actor_role.code())
        .bind(event.actor_area.as_str())
        .bind(&event.fact)
        .bind(crate::instant_text(event.recorded_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The history of a case, in order.
pub async fn events(conn: &mut Conn, case_id: i64) -> Result<Vec<CaseEventRow>> {
    decode::all::<RawCaseEvent, _>(sqlx::query_as(
        "SELECT case_id, seq, on_date, actor_user_id, actor_role, actor_area, fact, recorded_at \
         FROM case_events WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<CaseRow>> {
    decode::one::<RawCase, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM cases WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

pub async fn by_tracking_number(conn: &mut Conn, tracking_number: &str) -> Result<Option<CaseRow>> {
    decode::one::<RawCase, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM cases WHERE tracking_number = $1"
        )))
        .bind(tracking_number)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// The cases in work under `area_prefix` — open ones (no `closed_on`) and refused ones whose
/// refusal notice is not yet delivered — by step then tracking number.
pub async fn open_in_area(conn: &mut Conn, area_prefix: &str) -> Result<Vec<CaseRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawCase, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM cases WHERE area_code >= $1 AND area_code < $2 AND {IN_WORK} \
         ORDER BY step, tracking_number"
        )))
        .bind(low)
        .bind(high)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The histories of every case `open_in_area` lists, in one query: ordered by case, then `seq`.
pub async fn events_in_work(conn: &mut Conn, area_prefix: &str) -> Result<Vec<CaseEventRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawCaseEvent, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
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
    decode::all::<RawCase, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM cases WHERE area_code >= $1 AND area_code < $2 AND step = $3 \
         ORDER BY tracking_number"
        )))
        .bind(low)
        .bind(high)
        .bind(step)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The histories of every case `at_step_in_area` lists, in one query: ordered by case, then `seq`.
pub async fn events_at_step_in_area(
    conn: &mut Conn,
    area_prefix: &str,
    step: &str,
) -> Result<Vec<CaseEventRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawCaseEvent, _>(sqlx::query_as(
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
    decode::one::<RawCase, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
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
    decode::one::<RawCase, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {columns} FROM cases c JOIN online_applications o ON o.case_id = c.id \
         WHERE o.id_number = $1 AND c.closed_on IS NULL ORDER BY c.id LIMIT 1"
        )))
        .bind(id_number)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// What an online application added to its case. `phone` is free text as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineApplicationRow {
    pub id_number: NationalId,
    pub phone: String,
    pub household_size: i64,
    pub submitted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawOnlineApplication {
    id_number: String,
    phone: String,
    household_size: i64,
    submitted_at: String,
}

impl TryFrom<RawOnlineApplication> for OnlineApplicationRow {
    type Error = StoreError;

    fn try_from(raw: RawOnlineApplication) -> Result<Self> {
        const TABLE: &str = "online_applications";
        Ok(OnlineApplicationRow {
            id_number: decode::national_id(TABLE, "id_number", raw.id_number)?,
            phone: raw.phone,
            household_size: raw.household_size,
            submitted_at: decode::instant(TABLE, "submitted_at", raw.submitted_at)?,
        })
    }
}

/// A 受理编号 (`tracking_number`), which every writer issued as a `TrackingNumber`.
fn tracking_number(table: &'static str, value: String) -> Result<TrackingNumber> {
    TrackingNumber::parse(&value)
        .map_err(|error| decode::bad(table, "tracking_number", value, error))
}

/// The online application of a case, if it was taken online.
pub async fn online_application(
    conn: &mut Conn,
    case_id: i64,
) -> Result<Option<OnlineApplicationRow>> {
    decode::one::<RawOnlineApplication, _>(sqlx::query_as(
        "SELECT id_number, phone, household_size, submitted_at FROM online_applications WHERE case_id = $1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// One stored line of the work queue (待办队列, migration 0016): `role` acts next on the case
/// from `shown_from` to `shown_until` (inclusive dates; none: from the case's move on, until
/// its next move), under the limit `limit` (column `limit_code`) due on `due_on`; `others`
/// are the case's other running limits (stored as `limit,started_on,due_on;…`).
/// `watching` is 1 on a read-only 跟踪 line (migration 0030: a district department follows
/// the case but does not act next), 0 when `role` acts next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRow {
    pub case_id: i64,
    pub role: Role,
    pub shown_from: Option<NaiveDate>,
    pub shown_until: Option<NaiveDate>,
    pub area_code: PlaceCode,
    pub due_on: NaiveDate,
    pub tracking_number: TrackingNumber,
    pub kind: CaseKind,
    pub household_external_id: HouseholdNo,
    pub step: Step,
    pub limit: TimeLimit,
    pub started_on: NaiveDate,
    pub others: Vec<QueueLimit>,
    pub watching: i64,
}

/// Another running limit of a queue line's case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimit {
    pub limit: TimeLimit,
    pub started_on: NaiveDate,
    pub due_on: NaiveDate,
}

/// `others` as stored: `limit,started_on,due_on;…`.
fn encode_others(others: &[QueueLimit]) -> String {
    others
        .iter()
        .map(|other| {
            format!(
                "{},{},{}",
                other.limit.code(),
                other.started_on,
                other.due_on
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn decode_others(table: &'static str, stored: String) -> Result<Vec<QueueLimit>> {
    let mut others = Vec::new();
    for other in stored.split(';').filter(|other| !other.is_empty()) {
        let mut parts = other.split(',');
        let (Some(code), Some(started_on), Some(due_on), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(decode::bad(
                table,
                "others",
                stored.clone(),
                "not limit,start,due",
            ));
        };
        others.push(QueueLimit {
            limit: decode::code(table, "others", code.to_owned(), TimeLimit::from_code)?,
            started_on: decode::date(table, "others", started_on.to_owned())?,
            due_on: decode::date(table, "others", due_on.to_owned())?,
        });
    }
    Ok(others)
}

/// `shown_from`/`shown_until` as stored: a day, or the bound that stands for none.
fn decode_shown(
    table: &'static str,
    column: &'static str,
    stored: String,
    none: &str,
) -> Result<Option<NaiveDate>> {
    if stored == none {
        Ok(None)
    } else {
        decode::date(table, column, stored).map(Some)
    }
}

/// A `case_queue` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawQueue {
    pub(crate) case_id: i64,
    pub(crate) role: String,
    pub(crate) shown_from: String,
    pub(crate) shown_until: String,
    pub(crate) area_code: String,
    pub(crate) due_on: String,
    pub(crate) tracking_number: String,
    pub(crate) kind: String,
    pub(crate) household_external_id: String,
    pub(crate) step: String,
    pub(crate) limit_code: String,
    pub(crate) started_on: String,
    pub(crate) others: String,
    pub(crate) watching: i64,
}

impl TryFrom<RawQueue> for QueueRow {
    type Error = StoreError;

    fn try_from(raw: RawQueue) -> Result<Self> {
        const TABLE: &str = "case_queue";
        Ok(QueueRow {
            case_id: raw.case_id,
            role: decode::role(TABLE, "role", raw.role)?,
            shown_from: decode_shown(TABLE, "shown_from", raw.shown_from, QUEUE_ALWAYS_FROM)?,
            shown_until: decode_shown(TABLE, "shown_until", raw.shown_until, QUEUE_ALWAYS_UNTIL)?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            due_on: decode::date(TABLE, "due_on", raw.due_on)?,
            tracking_number: tracking_number(TABLE, raw.tracking_number)?,
            kind: decode::code(TABLE, "kind", raw.kind, CaseKind::from_code)?,
            household_external_id: decode::household_no(
                "case_queue",
                "household_external_id",
                raw.household_external_id,
            )?,
            step: decode::code(TABLE, "step", raw.step, Step::from_code)?,
            limit: decode::code(TABLE, "limit_code", raw.limit_code, TimeLimit::from_code)?,
            started_on: decode::date(TABLE, "started_on", raw.started_on)?,
            others: decode_others(TABLE, raw.others)?,
            watching: raw.watching,
        })
    }
}

const QUEUE_COLUMNS: &str = "case_id, role, shown_from, shown_until, area_code, due_on, tracking_number, kind, household_external_id, step, limit_code, started_on, others, watching";

/// `shown_from` of a line that holds from the case's move on.
const QUEUE_ALWAYS_FROM: &str = "0000-01-01";
/// `shown_until` of a line that holds until the case's next move.
const QUEUE_ALWAYS_UNTIL: &str = "9999-12-31";

/// Replaces the queue lines of `case_id` with `lines`: call it in the transaction of every
/// case event.
pub async fn replace_queue(conn: &mut Conn, case_id: i64, lines: &[QueueRow]) -> Result<()> {
    sqlx::query("DELETE FROM case_queue WHERE case_id = $1")
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    insert_queue(conn, lines).await
}

/// Adds queue lines (of cases that have none yet).
pub async fn insert_queue(conn: &mut Conn, lines: &[QueueRow]) -> Result<()> {
    for line in lines {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO case_queue ({QUEUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(line.case_id)
        .bind(line.role.code())
        .bind(line.shown_from.map_or_else(|| QUEUE_ALWAYS_FROM.to_owned(), |day| day.to_string()))
        .bind(line.shown_until.map_or_else(|| QUEUE_ALWAYS_UNTIL.to_owned(), |day| day.to_string()))
        .bind(line.area_code.as_str())
        .bind(line.due_on.to_string())
        .bind(line.tracking_number.as_str())
        .bind(line.kind.code())
        .bind(line.household_external_id.as_str())
        .bind(line.step.code())
        .bind(line.limit.code())
        .bind(line.started_on.to_string())
        .bind(encode_others(&line.others))
        .bind(line.watching)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Removes every queue line (before they are all rebuilt, `App::sync_case_queue`).
pub async fn clear_queue(conn: &mut Conn) -> Result<()> {
    sqlx::query("DELETE FROM case_queue")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Where a page of the work queue starts: after the line due on `due_on` with this tracking
/// number (the queue's order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueCursor {
    pub due_on: NaiveDate,
    pub tracking_number: TrackingNumber,
}

impl QueueCursor {
    /// The cursor as text for a link or the API (`after=`): `2026-10-22.TL20260925-0001`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.due_on, self.tracking_number)
    }

    /// Reads `encode`'s text back; `None` when it is not a cursor.
    pub fn decode(text: &str) -> Option<QueueCursor> {
        let (due_on, tracking_number) = text.split_once('.')?;
        Some(QueueCursor {
            due_on: NaiveDate::parse_from_str(due_on, "%Y-%m-%d").ok()?,
            tracking_number: TrackingNumber::parse(tracking_number)
                .ok()
                .filter(|number| number.as_str() == tracking_number)?,
        })
    }
}

/// Which lines of the work queue to read.
#[derive(Clone, Debug)]
pub struct QueueFilter<'a> {
    pub role: &'a str,
    pub area_prefix: &'a str,
    /// The day the queue is read on (`YYYY-MM-DD`): lines shown that day; late is before it.
    pub today: &'a str,
    /// Only the late lines (due before `today`) the role acts on.
    pub late_only: bool,
    /// Only the lines the role acts on (待我办理), not its 跟踪 lines.
    pub acting_only: bool,
    pub after: Option<&'a QueueCursor>,
    pub limit: i64,
}

/// The statements of the work queue for `filter`: the count of its lines and of its late
/// lines (late: due before today on a line the role acts on, never a 跟踪 line), each up to
/// the cap, and its page (`limit + 1` lines, by due date then tracking
/// number), read from `case_queue_role_due` or, for a small area, `case_queue_role_area`.
pub fn queue_statements(filter: &QueueFilter<'_>) -> [Statement; 3] {
    let (low, high) = area_range(filter.area_prefix);
    let base = vec![
        Bind::Text(filter.role.to_owned()),
        Bind::Text(low),
        Bind::Text(high),
        Bind::Text(filter.today.to_owned()),
    ];
    let shown = "role = $1 AND area_code >= $2 AND area_code < $3 AND shown_from <= $4 AND shown_until >= $4";
    let count = |late: bool| {
        let mut binds = base.clone();
        binds.push(Bind::Int(TOTAL_CAP + 1));
        let late = if late {
            " AND due_on < $4 AND watching = 0"
        } else if filter.acting_only {
            " AND watching = 0"
        } else {
            ""
        };
        Statement::new(
            format!(
                "SELECT COUNT(*) FROM (SELECT case_id FROM case_queue WHERE {shown}{late} \
                 ORDER BY due_on, tracking_number LIMIT $5) c"
            ),
            binds,
        )
    };
    let mut binds = base.clone();
    let mut clauses = String::new();
    if filter.late_only {
        clauses.push_str(" AND due_on < $4 AND watching = 0");
    } else if filter.acting_only {
        clauses.push_str(" AND watching = 0");
    }
    if let Some(after) = filter.after {
        binds.push(Bind::Text(after.due_on.to_string()));
        let due = binds.len();
        binds.push(Bind::Text(after.tracking_number.as_str().to_owned()));
        clauses.push_str(&format!(
            " AND due_on >= ${due} AND (due_on > ${due} OR tracking_number > ${})",
            due + 1
        ));
    }
    binds.push(Bind::Int(filter.limit + 1));
    let page = Statement::new(
        format!(
            "SELECT {QUEUE_COLUMNS} FROM case_queue WHERE {shown}{clauses} \
             ORDER BY due_on, tracking_number LIMIT ${}",
            binds.len()
        ),
        binds,
    );
    [count(filter.late_only), count(true), page]
}

/// One page of the work queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueList {
    pub rows: Vec<QueueRow>,
    /// Lines matching the filter, counted up to `search::TOTAL_CAP`.
    pub total: i64,
    /// Late lines of the whole queue, whatever was asked for, up to the cap.
    pub n_late: i64,
    /// More lines match than `total` (counting stopped at the cap).
    pub capped: bool,
    pub next: Option<QueueCursor>,
}

/// One page of the work queue for `filter` (see `queue_statements`).
pub async fn queue_page(conn: &mut Conn, filter: &QueueFilter<'_>) -> Result<QueueList> {
    let [count, late, page] = queue_statements(filter);
    let count_of = |rows: Vec<(i64,)>| rows.first().map_or(0, |(n,)| *n);
    let total = count_of(count.fetch(conn).await?);
    let n_late = count_of(late.fetch(conn).await?);
    let mut rows: Vec<QueueRow> = decode::all(page.fetch::<RawQueue>(conn).await?)?;
    let more = rows.len() as i64 > filter.limit;
    rows.truncate(filter.limit.max(0) as usize);
    let next = rows.last().filter(|_| more).map(|last| QueueCursor {
        due_on: last.due_on,
        tracking_number: last.tracking_number.clone(),
    });
    Ok(QueueList {
        rows,
        total: total.min(TOTAL_CAP),
        n_late: n_late.min(TOTAL_CAP),
        capped: total > TOTAL_CAP,
        next,
    })
}

/// An online application's receipt (查询码, issue 15) and what was typed with it (`phone`
/// and `hardship` free text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRow {
    pub receipt: String,
    pub case_id: i64,
    /// 1 when the application duplicates a case already running (no case was opened for it).
    pub duplicate: i64,
    pub applicant: String,
    pub id_number: NationalId,
    pub phone: String,
    pub household_size: i64,
    pub hardship: String,
    pub submitted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawReceipt {
    receipt: String,
    case_id: i64,
    duplicate: i64,
    applicant: String,
    id_number: String,
    phone: String,
    household_size: i64,
    hardship: String,
    submitted_at: String,
}

impl TryFrom<RawReceipt> for ReceiptRow {
    type Error = StoreError;

    fn try_from(raw: RawReceipt) -> Result<Self> {
        Ok(ReceiptRow {
            receipt: raw.receipt,
            case_id: raw.case_id,
            duplicate: raw.duplicate,
            applicant: raw.applicant,
            id_number: decode::national_id("online_receipts", "id_number", raw.id_number)?,
            phone: raw.phone,
            household_size: raw.household_size,
            hardship: raw.hardship,
            submitted_at: decode::instant("online_receipts", "submitted_at", raw.submitted_at)?,
        })
    }
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
    .bind(row.id_number.as_str())
    .bind(&row.phone)
    .bind(row.household_size)
    .bind(&row.hardship)
    .bind(crate::instant_text(row.submitted_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The online application with `receipt`, if any.
pub async fn receipt(conn: &mut Conn, receipt: &str) -> Result<Option<ReceiptRow>> {
    decode::one::<RawReceipt, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECEIPT_COLUMNS} FROM online_receipts WHERE receipt = $1"
        )))
        .bind(receipt)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// The duplicate online applications kept with a case (重复申请), oldest first; at most
/// `limit` (the case page shows the first few).
pub async fn duplicate_receipts(
    conn: &mut Conn,
    case_id: i64,
    limit: i64,
) -> Result<Vec<ReceiptRow>> {
    decode::all::<RawReceipt, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RECEIPT_COLUMNS} FROM online_receipts WHERE case_id = $1 AND duplicate = 1 \
         ORDER BY submitted_at, receipt LIMIT $2"
        )))
        .bind(case_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// 入户调查草稿: a case's survey form saved part-way (fields as JSON text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyDraftRow {
    pub fields: String,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

/// A `survey_drafts` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawSurveyDraft {
    fields: String,
    saved_by: String,
    saved_at: String,
}

impl TryFrom<RawSurveyDraft> for SurveyDraftRow {
    type Error = StoreError;

    fn try_from(raw: RawSurveyDraft) -> Result<Self> {
        Ok(SurveyDraftRow {
            fields: raw.fields,
            saved_by: raw.saved_by,
            saved_at: decode::instant("survey_drafts", "saved_at", raw.saved_at)?,
        })
    }
}

/// Saves (or replaces) the survey draft of a case.
pub async fn save_survey_draft(
    conn: &mut Conn,
    case_id: i64,
    fields: &str,
    saved_by: &str,
    saved_at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO survey_drafts (case_id, fields, saved_by, saved_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (case_id) DO UPDATE SET fields = excluded.fields, saved_by = excluded.saved_by, saved_at = excluded.saved_at",
    )
    .bind(case_id)
    .bind(fields)
    .bind(saved_by)
    .bind(saved_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The survey draft of a case, if one is saved.
pub async fn survey_draft(conn: &mut Conn, case_id: i64) -> Result<Option<SurveyDraftRow>> {
    decode::one::<RawSurveyDraft, _>(
        sqlx::query_as("SELECT fields, saved_by, saved_at FROM survey_drafts WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Deletes the survey draft of a case (its survey was recorded).
pub async fn delete_survey_draft(conn: &mut Conn, case_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM survey_drafts WHERE case_id = $1")
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
