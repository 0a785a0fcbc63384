//! The name index (`person_name_grams`, issue 12): every 1-, 2- and 3-character part of each
//! current member's name once per household, under the household's area code, which
//! `search` reads a name part by.
//!
//! Invariant: `index_names` rebuilds a household's rows and is called in the transaction of
//! every write that changes members, names or the household's place (`households::insert_many`,
//! `households::update`); a bulk load of new households writes their rows itself (`bulk`: from
//! the same `name_grams`).

use crate::sql::{BULK_ROWS, placeholders, positional, values_list};
use crate::{Conn, Result};
use std::collections::BTreeSet;

/// The longest name part the index holds; a longer query looks up its first `GRAM_MAX` characters.
pub const GRAM_MAX: usize = 3;

/// Every 1-, 2- and 3-character part of `name`, each once.
pub fn name_grams(name: &str) -> BTreeSet<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut grams = BTreeSet::new();
    for width in 1..=GRAM_MAX {
        for window in chars.windows(width) {
            grams.insert(window.iter().collect());
        }
    }
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

/// Rebuilds the name index rows of `household_ids` from their current members; call it in the
/// transaction that changed their members, their members' names or their place.
pub async fn index_names(conn: &mut Conn, household_ids: &[i64]) -> Result<()> {
    for chunk in household_ids.chunks(BULK_ROWS) {
        let list = placeholders(chunk.len(), positional(conn));
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM person_name_grams WHERE household_id IN ({list})"
        )));
        let mut members = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT m.household_id, m.area_code, p.name FROM memberships m JOIN persons p ON p.id_number = m.id_number \
             WHERE m.end_date IS NULL AND m.household_id IN ({list})"
        )));
        for id in chunk {
            delete = delete.bind(*id);
            members = members.bind(*id);
        }
        delete.execute(&mut *conn).await?;
        let members = members.fetch_all(&mut *conn).await?;
        let members: Vec<(i64, &str, &str)> = members
            .iter()
            .map(|(id, area_code, name)| (*id, area_code.as_str(), name.as_str()))
            .collect();
        insert_name_grams(conn, &members).await?;
    }
    Ok(())
}

/// Rows per statement of `insert_name_grams` (three values each).
const GRAM_ROWS: usize = 1000;

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
/// statement; `skip_present` skips a row already there (else a row present is an error).
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
    for chunk in rows.chunks(GRAM_ROWS) {
        let sql = format!(
            "INSERT INTO person_name_grams (gram, area_code, household_id) VALUES {}{on_conflict}",
            values_list(chunk.len(), 3, positional(conn))
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (gram, area_code, household_id) in chunk {
            insert = insert.bind(*gram).bind(*area_code).bind(*household_id);
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}
