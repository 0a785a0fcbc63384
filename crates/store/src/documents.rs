//! 材料 (D4, issue 15 item 3): documents attached to a case or a household, their bytes in the
//! database (BLOB on SQLite, BYTEA on PostgreSQL), read and written only here.
//!
//! Invariant: a document row is inserted once and never deleted; its bytes, hash and owner
//! never change; withdrawing it (撤回) only sets `withdrawn_*`.
//!
//! The bytes are addressed by the row (and checked by `content_hash`); a deployment that
//! outgrows the database would keep `content` and `thumbnail` in S3-compatible object storage
//! under their hash and this table's columns as the keys — the functions here are the only
//! readers and writers of the bytes, so only this module changes.

use crate::decode;
use crate::{Conn, Result, StoreError};
use chrono::{DateTime, Utc};
use domain::PlaceCode;

/// A document as sent, in its stored form.
pub struct NewDocument<'a> {
    pub case_id: Option<i64>,
    pub household_id: Option<i64>,
    pub area_code: &'a str,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub media_type: &'a str,
    pub content_hash: &'a str,
    pub content: &'a [u8],
    pub thumbnail: Option<&'a [u8]>,
    pub uploaded_by: i64,
    pub uploaded_at: &'a str,
}

/// A document's description, without its bytes. `kind` is the code of a 材料种类 as the data
/// file `policy/documents.toml` lists it (an open list, read by `app`; a kind no longer listed
/// stays stored), so it is text here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: i64,
    pub case_id: Option<i64>,
    pub household_id: Option<i64>,
    pub area_code: PlaceCode,
    pub kind: String,
    pub file_name: String,
    pub media_type: String,
    pub byte_size: i64,
    pub content_hash: String,
    pub has_thumbnail: i64,
    pub uploaded_by: i64,
    pub uploader_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
}

/// A `documents` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawDocument {
    pub(crate) id: i64,
    pub(crate) case_id: Option<i64>,
    pub(crate) household_id: Option<i64>,
    pub(crate) area_code: String,
    pub(crate) kind: String,
    pub(crate) file_name: String,
    pub(crate) media_type: String,
    pub(crate) byte_size: i64,
    pub(crate) content_hash: String,
    pub(crate) has_thumbnail: i64,
    pub(crate) uploaded_by: i64,
    pub(crate) uploader_name: Option<String>,
    pub(crate) uploaded_at: String,
    pub(crate) withdrawn_at: Option<String>,
    pub(crate) withdrawn_reason: Option<String>,
}

impl TryFrom<RawDocument> for DocumentRow {
    type Error = StoreError;

    fn try_from(raw: RawDocument) -> Result<Self> {
        const TABLE: &str = "documents";
        Ok(DocumentRow {
            id: raw.id,
            case_id: raw.case_id,
            household_id: raw.household_id,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            kind: raw.kind,
            file_name: raw.file_name,
            media_type: raw.media_type,
            byte_size: raw.byte_size,
            content_hash: raw.content_hash,
            has_thumbnail: raw.has_thumbnail,
            uploaded_by: raw.uploaded_by,
            uploader_name: raw.uploader_name,
            uploaded_at: decode::instant(TABLE, "uploaded_at", raw.uploaded_at)?,
            withdrawn_at: decode::instant_opt(TABLE, "withdrawn_at", raw.withdrawn_at)?,
            withdrawn_reason: raw.withdrawn_reason,
        })
    }
}

const COLUMNS: &str = "d.id, d.case_id, d.household_id, d.area_code, d.kind, d.file_name, \
     d.media_type, d.byte_size, d.content_hash, \
     CASE WHEN d.thumbnail IS NULL THEN 0 ELSE 1 END AS has_thumbnail, d.uploaded_by, \
     u.display_name AS uploader_name, d.uploaded_at, d.withdrawn_at, d.withdrawn_reason";

pub async fn insert(conn: &mut Conn, document: &NewDocument<'_>) -> Result<i64> {
    let byte_size = i64::try_from(document.content.len()).unwrap_or(i64::MAX);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO documents (case_id, household_id, area_code, kind, file_name, media_type, \
         byte_size, content_hash, content, thumbnail, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(document.case_id)
    .bind(document.household_id)
    .bind(document.area_code)
    .bind(document.kind)
    .bind(document.file_name)
    .bind(document.media_type)
    .bind(byte_size)
    .bind(document.content_hash)
    .bind(document.content)
    .bind(document.thumbnail)
    .bind(document.uploaded_by)
    .bind(document.uploaded_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<DocumentRow>> {
    decode::one::<RawDocument, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM documents d LEFT JOIN users u ON u.id = d.uploaded_by WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The documents of a case, oldest first.
pub async fn of_case(conn: &mut Conn, case_id: i64) -> Result<Vec<DocumentRow>> {
    decode::all::<RawDocument, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM documents d LEFT JOIN users u ON u.id = d.uploaded_by \
         WHERE d.case_id = $1 ORDER BY d.id"
        )))
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The documents of a household: attached to it, or to one of its cases; oldest first.
pub async fn of_household(conn: &mut Conn, household_id: i64) -> Result<Vec<DocumentRow>> {
    decode::all::<RawDocument, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM documents d LEFT JOIN users u ON u.id = d.uploaded_by \
         WHERE d.household_id = $1 \
            OR d.case_id IN (SELECT c.id FROM cases c WHERE c.household_id = $1) \
         ORDER BY d.id"
        )))
        .bind(household_id)
        .fetch_all(&mut *conn)
        .await?,
    )
}

/// The stored bytes of a document.
pub async fn content(conn: &mut Conn, id: i64) -> Result<Vec<u8>> {
    let (content,): (Vec<u8>,) = sqlx::query_as("SELECT content FROM documents WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(content)
}

/// The thumbnail of a document (an image's), if it has one.
pub async fn thumbnail(conn: &mut Conn, id: i64) -> Result<Option<Vec<u8>>> {
    let row: Option<(Option<Vec<u8>>,)> =
        sqlx::query_as("SELECT thumbnail FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.and_then(|(thumbnail,)| thumbnail))
}

/// Marks a document withdrawn (撤回); false when it already was.
pub async fn withdraw(conn: &mut Conn, id: i64, by: i64, reason: &str, at: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE documents SET withdrawn_at = $1, withdrawn_by = $2, withdrawn_reason = $3 \
         WHERE id = $4 AND withdrawn_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many documents are stored (all, withdrawn too).
pub async fn count(conn: &mut Conn) -> Result<i64> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents")
        .fetch_one(&mut *conn)
        .await?;
    Ok(count)
}
