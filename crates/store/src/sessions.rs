//! 会话: server-side sessions. Only a hash of the session token is stored.

use crate::{Conn, Result, StoreError, decode};
use chrono::{DateTime, Utc};

/// A live session; `csrf_token` is a random token, compared as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawSession {
    user_id: i64,
    csrf_token: String,
    expires_at: String,
}

impl TryFrom<RawSession> for SessionRow {
    type Error = StoreError;

    fn try_from(raw: RawSession) -> Result<Self> {
        Ok(SessionRow {
            user_id: raw.user_id,
            csrf_token: raw.csrf_token,
            expires_at: decode::instant("sessions", "expires_at", raw.expires_at)?,
        })
    }
}

pub async fn insert(
    conn: &mut Conn,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    created_at: &str,
    expires_at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(created_at)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The session for a token hash if it has not expired at `now`.
pub async fn live(conn: &mut Conn, token_hash: &str, now: &str) -> Result<Option<SessionRow>> {
    decode::one::<RawSession, _>(sqlx::query_as(
        "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn delete(conn: &mut Conn, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut Conn, now: &str) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Ends every session of a user (disabled, or given a new password); how many ended.
pub async fn delete_for_user(conn: &mut Conn, user_id: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}
