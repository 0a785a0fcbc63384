//! 导入记录: which files were imported, so that a repeated import is a no-op.

use crate::{Conn, Result};

pub async fn seen(conn: &mut Conn, content_hash: &str) -> Result<bool> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT content_hash FROM imports WHERE content_hash = $1")
            .bind(content_hash)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.is_some())
}

pub async fn record(
    conn: &mut Conn,
    content_hash: &str,
    file_name: &str,
    n_households: i64,
    imported_at: &str,
    actor: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO imports (content_hash, file_name, n_households, imported_at, actor) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(content_hash)
    .bind(file_name)
    .bind(n_households)
    .bind(imported_at)
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
