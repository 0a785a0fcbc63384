//! 救助帮扶 (issue 6): the versioned assistance catalogue, referrals (转介) and their history,
//! and the department (提供部门) of department users.
//!
//! Invariant: `assistance_items` and `referral_events` rows are only inserted; a `referrals`
//! row is a summary of its events, updated only with the version it was read at; at most one
//! delivered referral per household, item and period (a unique index, `Conflict` otherwise).

use crate::decode;
use crate::search::{Bind, Statement, TOTAL_CAP};
use crate::{Conn, Result, StoreError, area_range};
use chrono::{DateTime, NaiveDate, Utc};
use domain::states::ReferralState;
use domain::{HouseholdNo, ItemCode, NationalId, PlaceCode};

/// One version of an item; `definition` is the item's JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemVersionRow {
    pub code: ItemCode,
    pub version: i64,
    pub definition: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

/// An `assistance_items` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawItemVersion {
    code: String,
    version: i64,
    definition: String,
    changed_at: String,
    changed_by: String,
}

impl TryFrom<RawItemVersion> for ItemVersionRow {
    type Error = StoreError;

    fn try_from(raw: RawItemVersion) -> Result<Self> {
        const TABLE: &str = "assistance_items";
        Ok(ItemVersionRow {
            code: decode::item_code(TABLE, "code", raw.code)?,
            version: raw.version,
            definition: raw.definition,
            changed_at: decode::instant(TABLE, "changed_at", raw.changed_at)?,
            changed_by: raw.changed_by,
        })
    }
}

/// The newest version of every item, by code.
pub async fn current_items(conn: &mut Conn) -> Result<Vec<ItemVersionRow>> {
    decode::all::<RawItemVersion, _>(sqlx::query_as(
        "SELECT i.code, i.version, i.definition, i.changed_at, i.changed_by FROM assistance_items i \
         WHERE i.version = (SELECT MAX(j.version) FROM assistance_items j WHERE j.code = i.code) \
         ORDER BY i.code",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Every version of one item, newest first.
pub async fn item_history(conn: &mut Conn, code: &str) -> Result<Vec<ItemVersionRow>> {
    decode::all::<RawItemVersion, _>(
        sqlx::query_as(
            "SELECT code, version, definition, changed_at, changed_by FROM assistance_items \
         WHERE code = $1 ORDER BY version DESC",
        )
        .bind(code)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// One version of an item (what a referral was sent for).
pub async fn item_version(
    conn: &mut Conn,
    code: &str,
    version: i64,
) -> Result<Option<ItemVersionRow>> {
    decode::one::<RawItemVersion, _>(
        sqlx::query_as(
            "SELECT code, version, definition, changed_at, changed_by FROM assistance_items \
         WHERE code = $1 AND version = $2",
        )
        .bind(code)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

/// Inserts a version; a version already taken (a concurrent edit) is a `Conflict`.
pub async fn insert_item_version(conn: &mut Conn, row: &ItemVersionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO assistance_items (code, version, definition, changed_at, changed_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(row.code.as_str())
    .bind(row.version)
    .bind(&row.definition)
    .bind(crate::instant_text(row.changed_at))
    .bind(&row.changed_by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn count_items(conn: &mut Conn) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM assistance_items")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// The department of a user (`None` for users who belong to none).
pub async fn department_of(conn: &mut Conn, user_id: i64) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT department FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.and_then(|(department,)| department))
}

/// Sets the department of a user (a change: the user's version moves, so an administrator's
/// form read before it conflicts); an unknown user is `NotFound`.
pub async fn set_department(conn: &mut Conn, username: &str, department: &str) -> Result<()> {
    let updated =
        sqlx::query("UPDATE users SET department = $1, version = version + 1 WHERE username = $2")
            .bind(department)
            .bind(username)
            .execute(&mut *conn)
            .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A referral as lists read it, with the household's external id and head for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralRow {
    pub id: i64,
    pub household_id: i64,
    pub household_external_id: HouseholdNo,
    pub head_name: String,
    /// The head's ID number (the payee's, issue 15 item 8); masked by `app` for most roles.
    pub head_id_number: NationalId,
    pub area_code: PlaceCode,
    pub item_code: ItemCode,
    pub item_version: i64,
    pub department: String,
    pub needs: String,
    pub reason: String,
    pub period: domain::GivenPeriod,
    pub state: ReferralState,
    pub created_on: NaiveDate,
    pub created_by: String,
    pub accepted_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    pub note: Option<String>,
    pub declined_on: Option<NaiveDate>,
    pub decline_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// 补充理由 of a supplementary referral (补充帮扶); `None` for an ordinary one.
    pub supplementary_reason: Option<String>,
}

/// A `referrals` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawReferral {
    pub(crate) id: i64,
    pub(crate) household_id: i64,
    pub(crate) household_external_id: String,
    pub(crate) head_name: String,
    pub(crate) head_id_number: String,
    pub(crate) area_code: String,
    pub(crate) item_code: String,
    pub(crate) item_version: i64,
    pub(crate) department: String,
    pub(crate) needs: String,
    pub(crate) reason: String,
    pub(crate) period: String,
    pub(crate) state: String,
    pub(crate) created_on: String,
    pub(crate) created_by: String,
    pub(crate) accepted_on: Option<String>,
    pub(crate) delivered_on: Option<String>,
    pub(crate) amount_fen: Option<i64>,
    pub(crate) note: Option<String>,
    pub(crate) declined_on: Option<String>,
    pub(crate) decline_reason: Option<String>,
    pub(crate) updated_at: String,
    pub(crate) version: i64,
    pub(crate) supplementary_reason: Option<String>,
}

impl TryFrom<RawReferral> for ReferralRow {
    type Error = StoreError;

    fn try_from(raw: RawReferral) -> Result<Self> {
        const TABLE: &str = "referrals";
        Ok(ReferralRow {
            id: raw.id,
            household_id: raw.household_id,
            household_external_id: decode::household_no(
                "referrals",
                "household_external_id",
                raw.household_external_id,
            )?,
            head_name: raw.head_name,
            head_id_number: decode::national_id(
                "households",
                "head_id_number",
                raw.head_id_number,
            )?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            item_code: decode::item_code(TABLE, "item_code", raw.item_code)?,
            item_version: raw.item_version,
            department: raw.department,
            needs: raw.needs,
            reason: raw.reason,
            period: domain::GivenPeriod::parse(&raw.period)
                .map_err(|error| decode::bad(TABLE, "period", raw.period.clone(), error))?,
            state: decode::code(TABLE, "state", raw.state, ReferralState::from_code)?,
            created_on: decode::date(TABLE, "created_on", raw.created_on)?,
            created_by: raw.created_by,
            accepted_on: decode::date_opt(TABLE, "accepted_on", raw.accepted_on)?,
            delivered_on: decode::date_opt(TABLE, "delivered_on", raw.delivered_on)?,
            amount_fen: raw.amount_fen,
            note: raw.note,
            declined_on: decode::date_opt(TABLE, "declined_on", raw.declined_on)?,
            decline_reason: raw.decline_reason,
            updated_at: decode::instant(TABLE, "updated_at", raw.updated_at)?,
            version: raw.version,
            supplementary_reason: raw.supplementary_reason,
        })
    }
}

const COLUMNS: &str = "r.id, r.household_id, h.external_id AS household_external_id, h.head_name, h.head_id_number, r.area_code, \
     r.item_code, r.item_version, r.department, r.needs, r.reason, r.period, r.state, r.created_on, r.created_by, \
     r.accepted_on, r.delivered_on, r.amount_fen, r.note, r.declined_on, r.decline_reason, r.updated_at, r.version, \
     r.supplementary_reason";

pub struct NewReferral<'a> {
    pub household_id: i64,
    pub area_code: &'a str,
    pub item_code: &'a str,
    pub item_version: i64,
    pub department: &'a str,
    pub needs: &'a str,
    pub reason: &'a str,
    pub period: &'a str,
    pub state: &'a str,
    pub created_on: &'a str,
    pub created_by: &'a str,
    pub now: &'a str,
    pub supplementary_reason: Option<&'a str>,
}

pub async fn insert_referral(conn: &mut Conn, referral: &NewReferral<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO referrals (household_id, area_code, item_code, item_version, department, needs, reason, period, state, created_on, created_by, updated_at, version, supplementary_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13) RETURNING id",
    )
    .bind(referral.household_id)
    .bind(referral.area_code)
    .bind(referral.item_code)
    .bind(referral.item_version)
    .bind(referral.department)
    .bind(referral.needs)
    .bind(referral.reason)
    .bind(referral.period)
    .bind(referral.state)
    .bind(referral.created_on)
    .bind(referral.created_by)
    .bind(referral.now)
    .bind(referral.supplementary_reason)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

pub async fn get_referral(conn: &mut Conn, id: i64) -> Result<Option<ReferralRow>> {
    decode::one::<RawReferral, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM referrals r JOIN households h ON h.id = r.household_id WHERE r.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Every referral of a household, oldest first (一户一条救助链).
pub async fn for_household(conn: &mut Conn, household_id: i64) -> Result<Vec<ReferralRow>> {
    decode::all::<RawReferral, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM referrals r JOIN households h ON h.id = r.household_id \
         WHERE r.household_id = $1 ORDER BY r.id"
        )))
        .bind(household_id)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The length of a village's area code (the leaf of the place tree).
const VILLAGE_CODE_LEN: usize = 12;

/// Which referrals to list: under `area_prefix`, optionally of one department and one state,
/// newest first, after the referral `after` (the last of the page before).
#[derive(Clone, Debug, Default)]
pub struct ReferralFilter<'a> {
    pub area_prefix: &'a str,
    pub department: Option<&'a str>,
    pub state: Option<&'a str>,
    pub after: Option<i64>,
    pub limit: i64,
}

/// The statements of the referral list: its count up to `search::TOTAL_CAP` and its page
/// (`limit + 1` lines, newest first).
pub fn referral_statements(filter: &ReferralFilter<'_>) -> [Statement; 2] {
    // A village's code (the 12-digit leaf) is matched whole, so that `referrals_area_id` gives
    // its referrals in id order; a town or the district is a range of codes.
    let (mut clauses, mut binds) = if filter.area_prefix.len() == VILLAGE_CODE_LEN {
        (
            vec!["r.area_code = $1".to_owned()],
            vec![Bind::Text(filter.area_prefix.to_owned())],
        )
    } else {
        let (low, high) = area_range(filter.area_prefix);
        (
            vec![
                "r.area_code >= $1".to_owned(),
                "r.area_code < $2".to_owned(),
            ],
            vec![Bind::Text(low), Bind::Text(high)],
        )
    };
    for (column, value) in [
        ("r.department", filter.department),
        ("r.state", filter.state),
    ] {
        if let Some(value) = value {
            binds.push(Bind::Text(value.to_owned()));
            clauses.push(format!("{column} = ${}", binds.len()));
        }
    }
    let predicate = clauses.join(" AND ");
    let mut count_binds = binds.clone();
    count_binds.push(Bind::Int(TOTAL_CAP + 1));
    let count = Statement::new(
        format!(
            "SELECT COUNT(*) FROM (SELECT r.id FROM referrals r WHERE {predicate} LIMIT ${}) c",
            count_binds.len()
        ),
        count_binds,
    );
    let mut keyset = String::new();
    if let Some(after) = filter.after {
        binds.push(Bind::Int(after));
        keyset = format!(" AND r.id < ${}", binds.len());
    }
    binds.push(Bind::Int(filter.limit + 1));
    let page = Statement::new(
        format!(
            "SELECT {COLUMNS} FROM referrals r JOIN households h ON h.id = r.household_id \
             WHERE {predicate}{keyset} ORDER BY r.id DESC LIMIT ${}",
            binds.len()
        ),
        binds,
    );
    [count, page]
}

/// One page of referrals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralList {
    pub rows: Vec<ReferralRow>,
    /// Referrals matching the filter, counted up to `search::TOTAL_CAP`.
    pub total: i64,
    pub capped: bool,
    /// The `after` of the next page, when there is one.
    pub next: Option<i64>,
}

/// One page of the referrals `filter` names (see `referral_statements`).
pub async fn in_area(conn: &mut Conn, filter: &ReferralFilter<'_>) -> Result<ReferralList> {
    let [count, page] = referral_statements(filter);
    let total = count
        .fetch::<(i64,)>(conn)
        .await?
        .first()
        .map_or(0, |(n,)| *n);
    let mut rows: Vec<ReferralRow> = decode::all(page.fetch::<RawReferral>(conn).await?)?;
    let more = rows.len() as i64 > filter.limit;
    rows.truncate(filter.limit.max(0) as usize);
    Ok(ReferralList {
        next: rows.last().filter(|_| more).map(|last| last.id),
        rows,
        total: total.min(TOTAL_CAP),
        capped: total > TOTAL_CAP,
    })
}

/// The summary after a move.
pub struct ReferralUpdate<'a> {
    pub state: &'a str,
    pub accepted_on: Option<&'a str>,
    pub delivered_on: Option<&'a str>,
    pub amount_fen: Option<i64>,
    pub note: Option<&'a str>,
    pub declined_on: Option<&'a str>,
    pub decline_reason: Option<&'a str>,
    pub now: &'a str,
}

/// Updates the summary if it still has `expected_version`; otherwise `Conflict`.
pub async fn update_referral(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    update: &ReferralUpdate<'_>,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE referrals SET state = $1, accepted_on = $2, delivered_on = $3, amount_fen = $4, note = $5, \
         declined_on = $6, decline_reason = $7, updated_at = $8, version = version + 1 \
         WHERE id = $9 AND version = $10",
    )
    .bind(update.state)
    .bind(update.accepted_on)
    .bind(update.delivered_on)
    .bind(update.amount_fen)
    .bind(update.note)
    .bind(update.declined_on)
    .bind(update.decline_reason)
    .bind(update.now)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?;
    crate::changed_at_version(updated, "referral", id, expected_version)
}

/// One step of a referral's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralEventRow {
    pub referral_id: i64,
    pub seq: i64,
    pub on_date: NaiveDate,
    pub state: ReferralState,
    pub actor: String,
    pub note: String,
    pub recorded_at: DateTime<Utc>,
}

/// A `referral_events` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawReferralEvent {
    pub(crate) referral_id: i64,
    pub(crate) seq: i64,
    pub(crate) on_date: String,
    pub(crate) state: String,
    pub(crate) actor: String,
    pub(crate) note: String,
    pub(crate) recorded_at: String,
}

impl TryFrom<RawReferralEvent> for ReferralEventRow {
    type Error = StoreError;

    fn try_from(raw: RawReferralEvent) -> Result<Self> {
        const TABLE: &str = "referral_events";
        Ok(ReferralEventRow {
            referral_id: raw.referral_id,
            seq: raw.seq,
            on_date: decode::date(TABLE, "on_date", raw.on_date)?,
            state: decode::code(TABLE, "state", raw.state, ReferralState::from_code)?,
            actor: raw.actor,
            note: raw.note,
            recorded_at: decode::instant(TABLE, "recorded_at", raw.recorded_at)?,
        })
    }
}

pub async fn append_event(conn: &mut Conn, event: &ReferralEventRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO referral_events (referral_id, seq, on_date, state, actor, note, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.referral_id)
    .bind(event.seq)
    .bind(event.on_date.to_string())
    .bind(event.state.code())
    .bind(&event.actor)
    .bind(&event.note)
    .bind(crate::instant_text(event.recorded_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The history of the household's referrals, by referral then step.
pub async fn events_for_household(
    conn: &mut Conn,
    household_id: i64,
) -> Result<Vec<ReferralEventRow>> {
    decode::all::<RawReferralEvent, _>(
        sqlx::query_as(
            "SELECT e.referral_id, e.seq, e.on_date, e.state, e.actor, e.note, e.recorded_at \
         FROM referral_events e JOIN referrals r ON r.id = e.referral_id \
         WHERE r.household_id = $1 ORDER BY e.referral_id, e.seq",
        )
        .bind(household_id)
        .fetch_all(&mut *conn)
        .await?,
    )
}

pub async fn events(conn: &mut Conn, referral_id: i64) -> Result<Vec<ReferralEventRow>> {
    decode::all::<RawReferralEvent, _>(
        sqlx::query_as(
            "SELECT referral_id, seq, on_date, state, actor, note, recorded_at \
         FROM referral_events WHERE referral_id = $1 ORDER BY seq",
        )
        .bind(referral_id)
        .fetch_all(&mut *conn)
        .await?,
    )
}
