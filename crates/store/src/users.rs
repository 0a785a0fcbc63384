//! 用户: accounts with a role and an area.

use crate::decode;
use crate::{Conn, Result, StoreError};
use chrono::{DateTime, Utc};
use domain::{PlaceCode, Role};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area_code: PlaceCode,
    pub password_hash: String,
    pub active: i64,
    /// 所属部门 of a department user (a department code of the assistance catalogue).
    pub department: Option<String>,
    /// Bumped by every administrator's edit (optimistic concurrency).
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A `users` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawUser {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) area_code: String,
    pub(crate) password_hash: String,
    pub(crate) active: i64,
    pub(crate) department: Option<String>,
    pub(crate) version: i64,
    pub(crate) created_at: String,
    pub(crate) last_login_at: Option<String>,
}

impl TryFrom<RawUser> for UserRow {
    type Error = StoreError;

    fn try_from(raw: RawUser) -> Result<Self> {
        const TABLE: &str = "users";
        Ok(UserRow {
            id: raw.id,
            username: raw.username,
            display_name: raw.display_name,
            role: decode::role(TABLE, "role", raw.role)?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            password_hash: raw.password_hash,
            active: raw.active,
            department: raw.department,
            version: raw.version,
            created_at: decode::instant(TABLE, "created_at", raw.created_at)?,
            last_login_at: decode::instant_opt(TABLE, "last_login_at", raw.last_login_at)?,
        })
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub area_code: &'a str,
    pub department: Option<&'a str>,
    pub password_hash: &'a str,
    pub created_at: &'a str,
}

pub async fn insert(conn: &mut Conn, user: &NewUser<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (username, display_name, role, area_code, department, password_hash, active, version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, 1, $7) RETURNING id",
    )
    .bind(user.username)
    .bind(user.display_name)
    .bind(user.role)
    .bind(user.area_code)
    .bind(user.department)
    .bind(user.password_hash)
    .bind(user.created_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

const COLUMNS: &str = "id, username, display_name, role, area_code, password_hash, active, \
                       department, version, created_at, last_login_at";

pub async fn by_username(conn: &mut Conn, username: &str) -> Result<Option<UserRow>> {
    decode::one::<RawUser, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

pub async fn by_id(conn: &mut Conn, id: i64) -> Result<Option<UserRow>> {
    decode::one::<RawUser, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

pub async fn count(conn: &mut Conn) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Records a failed login for throttling.
/// A failed sign-in of `username` from `client` (an address) at `at`.
pub async fn record_login_failure(
    conn: &mut Conn,
    username: &str,
    client: &str,
    at: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (username, client, at) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(client)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Failed logins for `username` (from any address) at or after `since`.
pub async fn login_failures_since(conn: &mut Conn, username: &str, since: &str) -> Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at >= $2")
            .bind(username)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    Ok(n)
}

/// Failed logins of the pair `client` + `username` at or after `since`: the count and the
/// latest instant.
pub async fn pair_failures_since(
    conn: &mut Conn,
    client: &str,
    username: &str,
    since: &str,
) -> Result<(i64, Option<String>)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), MAX(at) FROM login_failures WHERE client = $1 AND username = $2 AND at >= $3",
    )
    .bind(client)
    .bind(username)
    .bind(since)
    .fetch_one(&mut *conn)
    .await?)
}

/// Failed logins from `client` (for any user name) at or after `since`.
pub async fn client_failures_since(conn: &mut Conn, client: &str, since: &str) -> Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE client = $1 AND at >= $2")
            .bind(client)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    Ok(n)
}

/// A successful sign-in forgets the failures of its address and account pair (those of other
/// addresses stay counted).
pub async fn clear_login_failures(conn: &mut Conn, username: &str, client: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1 AND client = $2")
        .bind(username)
        .bind(client)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Failed logins at or after `since` grouped by address and account pair: the client, the
/// user name, the count and the latest instant, most failures first.
pub async fn login_failure_pairs(
    conn: &mut Conn,
    since: &str,
    limit: i64,
) -> Result<Vec<(String, String, i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT client, username, COUNT(*), MAX(at) FROM login_failures WHERE at >= $1 \
         GROUP BY client, username ORDER BY COUNT(*) DESC, MAX(at) DESC, client, username LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// The active users whose area lies under `area_prefix`, by display name.
pub async fn under(conn: &mut Conn, area_prefix: &str) -> Result<Vec<UserRow>> {
    let (low, high) = crate::area_range(area_prefix);
    decode::all::<RawUser, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE area_code >= $1 AND area_code < $2 AND active = 1 \
         ORDER BY display_name, id"
        )))
        .bind(low)
        .bind(high)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// Which users a list shows: those under `area_prefix`, of one role if given.
pub struct UserFilter<'a> {
    pub area_prefix: &'a str,
    pub role: Option<&'a str>,
}

/// The users matching `filter` (active or not), by area then user name, one keyset page of
/// them: those after the user `after_id` in that order (`users_area_username`, migration 0011).
pub async fn list(
    conn: &mut Conn,
    filter: &UserFilter<'_>,
    limit: i64,
    after_id: Option<i64>,
) -> Result<Vec<UserRow>> {
    let (low, high) = crate::area_range(filter.area_prefix);
    let after = if after_id.is_some() {
        " AND (area_code, username, id) > (SELECT area_code, username, id FROM users WHERE id = $5)"
    } else {
        ""
    };
    decode::all::<RawUser, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE area_code >= $1 AND area_code < $2 \
         AND ($3 = '' OR role = $3){after} ORDER BY area_code, username, id LIMIT $4"
        )))
        .bind(low)
        .bind(high)
        .bind(filter.role.unwrap_or(""))
        .bind(limit)
        .bind(after_id.unwrap_or_default())
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// How many users match `filter`.
pub async fn count_matching(conn: &mut Conn, filter: &UserFilter<'_>) -> Result<i64> {
    let (low, high) = crate::area_range(filter.area_prefix);
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM users WHERE area_code >= $1 AND area_code < $2 \
         AND ($3 = '' OR role = $3)",
    )
    .bind(low)
    .bind(high)
    .bind(filter.role.unwrap_or(""))
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// What an administrator may change of a user (the user name never changes).
pub struct UserChange<'a> {
    pub display_name: &'a str,
    pub role: &'a str,
    pub area_code: &'a str,
    pub department: Option<&'a str>,
}

/// Changes a user read at `expected_version`; someone else's edit since is a `Conflict`.
pub async fn update(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    change: &UserChange<'_>,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE users SET display_name = $1, role = $2, area_code = $3, department = $4, \
         version = version + 1 WHERE id = $5 AND version = $6",
    )
    .bind(change.display_name)
    .bind(change.role)
    .bind(change.area_code)
    .bind(change.department)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?;
    crate::changed_at_version(updated, "user", id, expected_version)
}

/// Disables (`active = false`) or re-enables a user read at `expected_version`.
pub async fn set_active(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    active: bool,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE users SET active = $1, version = version + 1 WHERE id = $2 AND version = $3",
    )
    .bind(i64::from(active))
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?;
    crate::changed_at_version(updated, "user", id, expected_version)
}

/// Replaces the password hash of a user read at `expected_version`.
pub async fn set_password_hash(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    password_hash: &str,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE users SET password_hash = $1, version = version + 1 WHERE id = $2 AND version = $3",
    )
    .bind(password_hash)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?;
    crate::changed_at_version(updated, "user", id, expected_version)
}

/// Notes a successful sign-in (not an edit: the version stays).
pub async fn record_login(conn: &mut Conn, id: i64, at: &str) -> Result<()> {
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
