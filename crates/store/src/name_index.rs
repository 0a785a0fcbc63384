//! The name index (`person_name_grams`, issue 12): every 1-, 2- and 3-character part of each
//! current member's name once per household, under the household's area code, which
//! `search` reads a name part by.
//!
//! Invariant: a household's rows are written in the transaction of every write that changes
//! its members, their names or its place — `insert_name_grams` for new households
//! (`households::insert_many`), `reindex` for a changed one (`households::update`); a bulk
//! load of new households writes their rows itself (`bulk`: from the same `name_grams`). The
//! rows are found by their key only (no index by household): `reindex` deletes the parts the
//! household held before its write.

use crate::sql::{BULK_ROWS, execute_pipelined, placeholders, positional, values_list};
use crate::{Conn, Result};
use std::collections::{BTreeMap, BTreeSet};

/// The longest name part the index holds; a longer query looks up its first `GRAM_MAX` characters.
pub const GRAM_MAX: usize = 3;

/// Every 1-, 2- and 3-character part of `name`, each once.
pub fn name_grams(name: &str) -> BTreeSet<String> {
    let mut grams = Vec::new();
    push_gram_slices(name, &mut grams);
    grams.into_iter().map(str::to_owned).collect()
}

/// Pushes every 1-, 2- and 3-character part of `name` (repeats included), borrowed from it.
fn push_gram_slices<'a>(name: &'a str, grams: &mut Vec<&'a str>) {
    let bounds: Vec<usize> = name
        .char_indices()
        .map(|(at, _)| at)
        .chain([name.len()])
        .collect();
    for width in 1..=GRAM_MAX {
        grams.extend(bounds.windows(width + 1).map(|w| &name[w[0]..w[width]]));
    }
}

/// The parts of `household`'s members' names as `household_grams` has them (each once, in
/// order), borrowed from the names instead of each part copied: for a bulk load's millions.
pub(crate) fn household_gram_slices(household: &domain::Household) -> Vec<&str> {
    let mut grams = Vec::new();
    for person in &household.members {
        push_gram_slices(&person.name, &mut grams);
    }
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// A household's rows of the index: the parts of every member's name, each once.
pub(crate) fn household_grams(household: &domain::Household) -> BTreeSet<String> {
    household
        .members
        .iter()
        .flat_map(|person| name_grams(&person.name))
        .collect()
}

/// A household's rows of the index as they stand, by area code: the parts of its current
/// members' names. Read before a write changes them, for `reindex` after it.
pub(crate) async fn indexed_grams(
    conn: &mut Conn,
    household_id: i64,
) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let members: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.area_code, p.name FROM memberships m JOIN persons p ON p.id_number = m.id_number \
         WHERE m.household_id = $1 AND m.end_date IS NULL",
    )
    .bind(household_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut grams: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (area_code, name) in members {
        grams
            .entry(area_code)
            .or_default()
            .extend(name_grams(&name));
    }
    Ok(grams)
}

/// Brings a household's rows of the index from `before` (`indexed_grams`, read before the
/// write) to what `household` (as now stored) holds: the rows that went are deleted by their
/// key, the new ones inserted. Call it in the transaction that changed its members, their
/// names or its place.
pub(crate) async fn reindex(
    conn: &mut Conn,
    household_id: i64,
    before: &BTreeMap<String, BTreeSet<String>>,
    household: &domain::Household,
) -> Result<()> {
    let area = household.area.as_str();
    let after = household_grams(household);
    let none = BTreeSet::new();
    for (area_code, grams) in before {
        let kept = if area_code == area { &after } else { &none };
        let gone: Vec<&String> = grams.difference(kept).collect();
        for chunk in gone.chunks(BULK_ROWS) {
            let positional = positional(conn);
            let list = placeholders(chunk.len(), positional);
            let [area_at, household_at] = [1, 2].map(|offset| {
                if positional {
                    "?".to_owned()
                } else {
                    format!("${}", chunk.len() + offset)
                }
            });
            let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM person_name_grams WHERE gram IN ({list}) AND area_code = {area_at} \
                 AND household_id = {household_at}"
            )));
            for gram in chunk {
                delete = delete.bind(gram.as_str());
            }
            delete = delete.bind(area_code.as_str()).bind(household_id);
            delete.execute(&mut *conn).await?;
        }
    }
    let had = before.get(area).unwrap_or(&none);
    let rows: Vec<(&str, &str, i64)> = after
        .difference(had)
        .map(|gram| (gram.as_str(), area, household_id))
        .collect();
    insert_gram_rows(conn, &rows, true).await
}

/// Rows per statement of `insert_name_grams` (three values each).
const GRAM_ROWS: usize = 1000;

/// Rows per statement on SQLite, where a statement binds one JSON array of them.
const JSON_ROWS: usize = 10_000;

/// Adds the name index rows of current members given as (household row id, area code, name):
/// for households written just now whose rows are not there yet (a bulk load calls it per batch).
pub async fn insert_name_grams(conn: &mut Conn, members: &[(i64, &str, &str)]) -> Result<()> {
    let rows: BTreeSet<(String, &str, i64)> = members
        .iter()
        .flat_map(|(household_id, area_code, name)| {
            name_grams(name)
                .into_iter()
                .map(move |gram| (gram, *area_code, *household_id))
        })
        .collect();
    let rows: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|(gram, area_code, household_id)| (gram.as_str(), *area_code, *household_id))
        .collect();
    insert_gram_rows(conn, &rows, true).await
}

/// Inserts name index rows (gram, area code, household row id) as given, `GRAM_ROWS` to a
/// statement (`JSON_ROWS` on SQLite); `skip_present` skips a row already there (else a row present is an error).
pub(crate) async fn insert_gram_rows(
    conn: &mut Conn,
    rows: &[(&str, &str, i64)],
    skip_present: bool,
) -> Result<()> {
    let on_conflict = if skip_present {
        " ON CONFLICT DO NOTHING"
    } else {
        ""
    };
    if positional(conn) {
        // SQLite: one bound value a statement, the rows as a JSON array that SQLite reads
        // itself (`json_each`), instead of three bound values a row.
        let where_true = if skip_present { " WHERE true" } else { "" };
        let sql = format!(
            "INSERT OR FAIL INTO person_name_grams (gram, area_code, household_id) \
             SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?){where_true}{on_conflict}"
        );
        let statements = rows.chunks(JSON_ROWS).map(|chunk| {
            // Tuples of text and integers always serialise; were one not to, the empty text
            // would fail the statement as malformed JSON, and with it the write.
            let json = serde_json::to_string(chunk).unwrap_or_default();
            sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(json)
        });
        return execute_pipelined(conn, statements).await;
    }
    let statements = rows.chunks(GRAM_ROWS).map(|chunk| {
        let sql = format!(
            "INSERT INTO person_name_grams (gram, area_code, household_id) VALUES {}{on_conflict}",
            values_list(chunk.len(), 3, false)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (gram, area_code, household_id) in chunk {
            insert = insert.bind(*gram).bind(*area_code).bind(*household_id);
        }
        insert
    });
    execute_pipelined(conn, statements).await
}
