//! 用户: accounts with a role and an area.

use crate::{Conn, Result};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub area_code: String,
    pub password_hash: String,
    pub active: i64,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub area_code: &'a str,
    pub password_hash: &'a str,
    pub created_at: &'a str,
}

pub async fn insert(conn: &mut Conn, user: &NewUser<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (username, display_name, role, area_code, password_hash, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
    )
    .bind(user.username)
    .bind(user.display_name)
    .bind(user.role)
    .bind(user.area_code)
    .bind(user.password_hash)
    .bind(user.created_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

const COLUMNS: &str = "id, username, display_name, role, area_code, password_hash, active";

pub async fn by_username(conn: &mut Conn, username: &str) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE username = $1"
    )))
    .bind(username)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn by_id(conn: &mut Conn, id: i64) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn count(conn: &mut Conn) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// Records a failed login for throttling.
pub async fn record_login_failure(conn: &mut Conn, username: &str, at: &str) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
        .bind(username)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Failed logins for `username` at or after `since`.
pub async fn login_failures_since(conn: &mut Conn, username: &str, since: &str) -> Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at >= $2")
            .bind(username)
            .bind(since)
            .fetch_one(&mut *conn)
            .await?;
    Ok(n)
}

pub async fn clear_login_failures(conn: &mut Conn, username: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The active users whose area lies under `area_prefix`, by display name.
pub async fn under(conn: &mut Conn, area_prefix: &str) -> Result<Vec<UserRow>> {
    let (low, high) = crate::area_range(area_prefix);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE area_code >= $1 AND area_code < $2 AND active = 1 \
         ORDER BY display_name, id"
    )))
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}
