//! 政策参数 added in the product (`policy_values`): dated values of catalogue parameters taken
//! on top of the built-in catalogue, so that a new year's value needs no release.
//!
//! Invariant: rows are only inserted, never updated or deleted; `list` returns them in the
//! order they were added, so that of two values at the same `since` the later one wins.

use crate::{Conn, Result, StoreError, decode};
use chrono::NaiveDate;
use domain::states::Status;

/// A value to add, as entered and already checked against the parameter's unit.
pub struct NewPolicyValue<'a> {
    pub param: &'a str,
    /// `YYYY-MM-DD`.
    pub since: &'a str,
    pub value: &'a str,
    /// 文号.
    pub source: &'a str,
    /// `confirmed`, `secondary` or `provisional`.
    pub status: &'a str,
    pub note: Option<&'a str>,
    pub created_at: &'a str,
    /// The user who added it.
    pub created_by: i64,
}

/// One added value with the name of the user who added it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyValueRow {
    pub id: i64,
    /// The parameter's name (`policy::Param`, a word of `policy`).
    pub param: String,
    pub since: NaiveDate,
    /// The value as entered; its parameter's unit says how it reads (`policy` parses it).
    pub value: String,
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: i64,
    pub created_by_name: String,
}

/// A `policy_values` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawPolicyValue {
    id: i64,
    param: String,
    since: String,
    value: String,
    source: String,
    status: String,
    note: Option<String>,
    created_at: String,
    created_by: i64,
    created_by_name: String,
}

impl TryFrom<RawPolicyValue> for PolicyValueRow {
    type Error = StoreError;

    fn try_from(raw: RawPolicyValue) -> Result<Self> {
        const TABLE: &str = "policy_values";
        Ok(PolicyValueRow {
            id: raw.id,
            param: raw.param,
            since: decode::date(TABLE, "since", raw.since)?,
            value: raw.value,
            source: raw.source,
            status: decode::code(TABLE, "status", raw.status, Status::from_code)?,
            note: raw.note,
            created_at: decode::instant("policy_values", "created_at", raw.created_at)?,
            created_by: raw.created_by,
            created_by_name: raw.created_by_name,
        })
    }
}

/// Appends a value; returns its id.
pub async fn insert(conn: &mut Conn, value: &NewPolicyValue<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO policy_values (param, since, value, source, status, note, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(value.param)
    .bind(value.since)
    .bind(value.value)
    .bind(value.source)
    .bind(value.status)
    .bind(value.note)
    .bind(value.created_at)
    .bind(value.created_by)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Every added value, in the order they were added.
pub async fn list(conn: &mut Conn) -> Result<Vec<PolicyValueRow>> {
    decode::all::<RawPolicyValue, _>(
        sqlx::query_as(
            "SELECT v.id, v.param, v.since, v.value, v.source, v.status, v.note, v.created_at, \
         v.created_by, u.display_name AS created_by_name \
         FROM policy_values v JOIN users u ON u.id = v.created_by ORDER BY v.id",
        )
        .fetch_all(&mut *conn)
        .await?,
    )
}
