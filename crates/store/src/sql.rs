//! SQL text written once for both backends: placeholders and multi-row `VALUES` lists, and
//! how many rows a multi-row statement takes.

use crate::Conn;

/// Rows per multi-row statement in the bulk functions: well inside SQLite's and PostgreSQL's
/// limits on bound parameters (32 766 and 65 535) for the widest row here.
pub const BULK_ROWS: usize = 400;

/// Whether a connection takes plain `?` placeholders. SQLite looks each `$N` up by name, a
/// scan per parameter, which makes wide multi-row statements quadratic; `?` binds by position.
pub(crate) fn positional(conn: &Conn) -> bool {
    conn.backend_name() == "SQLite"
}

/// `($1, $2, …), ($k, …)` (or `(?, ?, …)` where `positional`) for `n_rows` rows of `n_columns` parameters.
pub(crate) fn values_list(n_rows: usize, n_columns: usize, positional: bool) -> String {
    let mut sql = String::with_capacity(n_rows * n_columns * 5);
    for row in 0..n_rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..n_columns {
            if column > 0 {
                sql.push_str(", ");
            }
            if positional {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(row * n_columns + column + 1).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// The start of a multi-row insert: on SQLite `INSERT OR FAIL`, which stops at a failing row
/// and keeps the rows before it rather than undoing them — every write here is one
/// transaction that a failure abandons whole, so nothing is kept — and in exchange needs no
/// statement journal. (With it, SQLite copied every index page such a statement touched to a
/// temporary file first: a tenth of a district import's time.)
pub(crate) fn insert_many_into(conn: &Conn) -> &'static str {
    if positional(conn) {
        "INSERT OR FAIL INTO"
    } else {
        "INSERT INTO"
    }
}

pub(crate) fn placeholders(n: usize, positional: bool) -> String {
    (1..=n)
        .map(|i| {
            if positional {
                "?".to_owned()
            } else {
                format!("${i}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement with its values bound, ready to run (`execute_pipelined`).
pub(crate) type Bound<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// The same, for a statement whose rows are read (`fetch_pipelined`).
pub(crate) type BoundAs<'q, O> = sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>;

/// Runs `statements` in order, each built (its SQL and its values bound) while the one before
/// it runs. A SQLite statement runs on its connection's worker thread, and a PostgreSQL one on
/// the server: a bulk write that built each statement only after the one before it had
/// returned kept this thread and the one that writes waiting on each other by turns.
pub(crate) async fn execute_pipelined<'q>(
    conn: &mut Conn,
    mut statements: impl Iterator<Item = Bound<'q>>,
) -> crate::Result<()> {
    let mut next = statements.next();
    while let Some(statement) = next {
        // `join!` polls the statement first, which hands it to the writer, then builds the
        // next one on this thread while the writer works.
        let (done, following) =
            tokio::join!(statement.execute(&mut *conn), async { statements.next() });
        done?;
        next = following;
    }
    Ok(())
}

/// `execute_pipelined` for statements that return rows: every statement's rows, in order.
pub(crate) async fn fetch_pipelined<'q, O>(
    conn: &mut Conn,
    mut statements: impl Iterator<Item = BoundAs<'q, O>>,
) -> crate::Result<Vec<O>>
where
    O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    let mut rows = Vec::new();
    let mut next = statements.next();
    while let Some(statement) = next {
        let (fetched, following) =
            tokio::join!(statement.fetch_all(&mut *conn), async { statements.next() });
        rows.extend(fetched?);
        next = following;
    }
    Ok(rows)
}
