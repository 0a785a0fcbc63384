//! 区划: the jurisdiction tree.

use crate::decode;
use crate::{Conn, Result, StoreError};
use domain::{Place, PlaceCode, PlaceLevel};

fn level_code(level: PlaceLevel) -> &'static str {
    match level {
        PlaceLevel::District => "district",
        PlaceLevel::Town => "town",
        PlaceLevel::Village => "village",
        PlaceLevel::Grid => "grid",
    }
}

/// Loads a place list, adding new places and renaming existing ones (codes never change meaning).
pub async fn upsert_all(conn: &mut Conn, places: &[Place]) -> Result<usize> {
    for place in places {
        sqlx::query(
            "INSERT INTO places (code, name, level, parent) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(place.code.as_str())
        .bind(&place.name)
        .bind(level_code(place.code.level()))
        .bind(place.code.parent().map(|parent| parent.as_str().to_owned()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(places.len())
}

fn level_of(code: &str) -> Option<PlaceLevel> {
    [
        PlaceLevel::District,
        PlaceLevel::Town,
        PlaceLevel::Village,
        PlaceLevel::Grid,
    ]
    .into_iter()
    .find(|level| level_code(*level) == code)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceRow {
    pub code: PlaceCode,
    pub name: String,
    pub level: PlaceLevel,
}

/// A `places` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
struct RawPlace {
    code: String,
    name: String,
    level: String,
}

impl TryFrom<RawPlace> for PlaceRow {
    type Error = StoreError;

    fn try_from(raw: RawPlace) -> Result<Self> {
        Ok(PlaceRow {
            code: decode::place("places", "code", raw.code)?,
            name: raw.name,
            level: decode::code("places", "level", raw.level, level_of)?,
        })
    }
}

pub async fn get(conn: &mut Conn, code: &PlaceCode) -> Result<Option<PlaceRow>> {
    decode::one::<RawPlace, _>(
        sqlx::query_as("SELECT code, name, level FROM places WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The direct children of a place, ordered by code.
pub async fn children(conn: &mut Conn, code: &PlaceCode) -> Result<Vec<PlaceRow>> {
    decode::all::<RawPlace, _>(
        sqlx::query_as("SELECT code, name, level FROM places WHERE parent = $1 ORDER BY code")
            .bind(code.as_str())
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// Every place of one level under `within`, ordered by code.
pub async fn under(
    conn: &mut Conn,
    within: &PlaceCode,
    level: PlaceLevel,
) -> Result<Vec<PlaceRow>> {
    let (low, high) = crate::area_range(within.as_str());
    decode::all::<RawPlace, _>(sqlx::query_as(
        "SELECT code, name, level FROM places WHERE code >= $1 AND code < $2 AND level = $3 ORDER BY code",
    )
    .bind(low)
    .bind(high)
    .bind(level_code(level))
    .fetch_all(&mut *conn)
    .await?)
}

/// `within` and every place under it, of any level, ordered by code.
pub async fn all_under(conn: &mut Conn, within: &PlaceCode) -> Result<Vec<PlaceRow>> {
    let (low, high) = crate::area_range(within.as_str());
    decode::all::<RawPlace, _>(
        sqlx::query_as(
            "SELECT code, name, level FROM places WHERE code >= $1 AND code < $2 ORDER BY code",
        )
        .bind(low)
        .bind(high)
        .fetch_all(&mut *conn)
        .await?,
    )
}

pub async fn count(conn: &mut Conn) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM places")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// The full name of a place from the district down: `铜梁区 水口镇 金龙村`.
pub async fn full_name(conn: &mut Conn, code: &PlaceCode) -> Result<String> {
    let mut names = Vec::new();
    let mut current = Some(code.clone());
    while let Some(place) = current {
        if let Some(row) = get(conn, &place).await? {
            names.push(row.name);
        }
        current = place.parent();
    }
    names.reverse();
    Ok(names.join(" "))
}

/// Every place code, for checking many records at once.
pub async fn all_codes(conn: &mut Conn) -> Result<std::collections::HashSet<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT code FROM places")
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|(code,)| code).collect())
}

/// Every place of one level, ordered by code (the public application form's place list).
pub async fn of_level(conn: &mut Conn, level: PlaceLevel) -> Result<Vec<PlaceRow>> {
    decode::all::<RawPlace, _>(
        sqlx::query_as("SELECT code, name, level FROM places WHERE level = $1 ORDER BY code")
            .bind(level_code(level))
            .fetch_all(&mut *conn)
            .await?,
    )
}
