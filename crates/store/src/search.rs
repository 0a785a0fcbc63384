//! 检索: finding households in the registry at district size (issue 12).
//!
//! The kind of query is recognised before any SQL runs (`shape`, then `resolve`, which asks the
//! small `places` table whether digits are an area code and whether text is a place's name),
//! and each kind is one B-tree range read in the order it pages by, so a page costs the same
//! whatever the registry's size: an ID number prefix reads `memberships_open_person`, a household
//! number prefix the unique `external_id`, an area code or place the households' area index, and
//! a name part `person_name_grams`. Pages are keyset pages (`SearchCursor`), never an OFFSET; the
//! total is counted from the same index and stops at `TOTAL_CAP`.
//!
//! The name index it reads (`person_name_grams`) is written by `name_index`, with its invariant.

use crate::households::HouseholdSummary;
use crate::name_index::GRAM_MAX;
use crate::sql::{placeholders, positional};
use crate::{Conn, Result, StoreError, area_range};
use domain::{HouseholdNo, NationalId, PlaceCode};

/// Totals are counted up to this many and then shown as "more than" (never a registry recount).
pub const TOTAL_CAP: i64 = 1000;

/// The place-name endings a town or village name may be typed without (土桥 finds 土桥镇).
const PLACE_SUFFIXES: [&str; 6] = ["镇", "乡", "街道", "村", "社区", "居委会"];

/// What a query looks like, before the store is asked anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryShape {
    /// Nothing typed: every household of the area.
    Everything,
    /// Digits only: an area code prefix when a place's code starts with them, else an ID number prefix.
    Digits(String),
    /// Digits ending in X (身份证号 with its check character): an ID number prefix.
    IdPrefix(String),
    /// A Latin letter, then letters, digits and `-` (户编号 such as `TL…`, `WS…`), upper-cased.
    HouseholdNumber(String),
    /// Anything else: a town's or village's name, else part of a person's name.
    Text(String),
}

/// Recognises the kind of `query` from its characters alone.
pub fn shape(query: &str) -> QueryShape {
    let query = query.trim();
    let upper = query.to_uppercase();
    if query.is_empty() {
        QueryShape::Everything
    } else if query.bytes().all(|byte| byte.is_ascii_digit()) {
        QueryShape::Digits(query.to_owned())
    } else if upper.len() >= 2
        && upper.ends_with('X')
        && upper[..upper.len() - 1]
            .bytes()
            .all(|byte| byte.is_ascii_digit())
    {
        QueryShape::IdPrefix(upper)
    } else if upper.starts_with(|c: char| c.is_ascii_alphabetic())
        && upper
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    {
        QueryShape::HouseholdNumber(upper)
    } else {
        QueryShape::Text(query.to_owned())
    }
}

/// How a search is answered, once the store has been asked about places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchKind {
    /// Households under these area code prefixes (sorted, none inside another): the actor's
    /// area, an area code typed, or the places of a name typed.
    Areas { by: SearchBy, prefixes: Vec<String> },
    /// Current members whose ID number starts with this, one line each.
    IdPrefix(String),
    /// Households whose number (户编号) starts with this.
    HouseholdNumber(String),
    /// Households with a current member whose name contains this.
    Name(String),
}

/// What the query was taken as (shown beside the results).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchBy {
    Everything,
    AreaCode,
    PlaceName,
    IdNumber,
    HouseholdNumber,
    Name,
}

impl SearchKind {
    pub fn by(&self) -> SearchBy {
        match self {
            SearchKind::Areas { by, .. } => *by,
            SearchKind::IdPrefix(_) => SearchBy::IdNumber,
            SearchKind::HouseholdNumber(_) => SearchBy::HouseholdNumber,
            SearchKind::Name(_) => SearchBy::Name,
        }
    }
}

/// The part of `prefix` inside `scope`: the longer of the two when one contains the other.
fn inside(prefix: &str, scope: &str) -> Option<String> {
    if prefix.starts_with(scope) {
        Some(prefix.to_owned())
    } else if scope.starts_with(prefix) {
        Some(scope.to_owned())
    } else {
        None
    }
}

/// Sorted prefixes with any prefix inside another one dropped.
fn outermost(mut prefixes: Vec<String>) -> Vec<String> {
    prefixes.sort();
    let mut kept: Vec<String> = Vec::with_capacity(prefixes.len());
    for prefix in prefixes {
        if !kept.iter().any(|outer| prefix.starts_with(outer.as_str())) {
            kept.push(prefix);
        }
    }
    kept
}

/// Decides how `query` is answered inside `scope` (an area code prefix).
pub async fn resolve(conn: &mut Conn, scope: &str, query: &str) -> Result<SearchKind> {
    Ok(match shape(query) {
        QueryShape::Everything => SearchKind::Areas {
            by: SearchBy::Everything,
            prefixes: vec![scope.to_owned()],
        },
        QueryShape::Digits(digits) => {
            let (low, high) = area_range(&digits);
            let place: Option<(String,)> =
                sqlx::query_as("SELECT code FROM places WHERE code >= $1 AND code < $2 LIMIT 1")
                    .bind(low)
                    .bind(high)
                    .fetch_optional(&mut *conn)
                    .await?;
            if place.is_some() {
                SearchKind::Areas {
                    by: SearchBy::AreaCode,
                    prefixes: inside(&digits, scope).into_iter().collect(),
                }
            } else {
                SearchKind::IdPrefix(digits)
            }
        }
        QueryShape::IdPrefix(prefix) => SearchKind::IdPrefix(prefix),
        QueryShape::HouseholdNumber(prefix) => SearchKind::HouseholdNumber(prefix),
        QueryShape::Text(text) => {
            let names: Vec<String> = std::iter::once(text.clone())
                .chain(
                    PLACE_SUFFIXES
                        .iter()
                        .map(|suffix| format!("{text}{suffix}")),
                )
                .collect();
            let sql = format!(
                "SELECT code FROM places WHERE name IN ({}) ORDER BY code",
                placeholders(names.len(), positional(conn))
            );
            let mut lookup = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for name in &names {
                lookup = lookup.bind(name.as_str());
            }
            let codes = lookup.fetch_all(&mut *conn).await?;
            if codes.is_empty() {
                SearchKind::Name(text)
            } else {
                SearchKind::Areas {
                    by: SearchBy::PlaceName,
                    prefixes: outermost(
                        codes
                            .iter()
                            .filter_map(|(code,)| inside(code, scope))
                            .collect(),
                    ),
                }
            }
        }
    })
}

/// Where the next page starts: the last line of this one, in the order of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchCursor {
    /// Areas and names: lines in (area code, household row id) order.
    Place {
        area_code: PlaceCode,
        household_id: i64,
    },
    /// ID number prefixes: lines in member ID number order (the matched number).
    Person { id_number: NationalId },
    /// Household number prefixes: lines in household number order.
    Household { external_id: HouseholdNo },
}

impl SearchCursor {
    /// The cursor as text for a link or the API (`after=`).
    pub fn encode(&self) -> String {
        match self {
            SearchCursor::Place {
                area_code,
                household_id,
            } => format!("p{area_code}.{household_id}"),
            SearchCursor::Person { id_number } => format!("i{id_number}"),
            SearchCursor::Household { external_id } => format!("h{external_id}"),
        }
    }

    /// Reads `encode`'s text back; `None` when it is not a cursor.
    pub fn decode(text: &str) -> Option<SearchCursor> {
        let plain = |rest: &str| {
            (!rest.is_empty()
                && rest
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-'))
            .then(|| rest.to_owned())
        };
        match text.split_at_checked(1)? {
            ("p", rest) => {
                let (area_code, household_id) = rest.split_once('.')?;
                // Exactly as `encode` writes it: the code's own digits, nothing to trim.
                let area_code = PlaceCode::parse(area_code)
                    .ok()
                    .filter(|code| code.as_str() == area_code)?;
                Some(SearchCursor::Place {
                    area_code,
                    household_id: household_id.parse().ok()?,
                })
            }
            // As `encode` writes it: a whole number in its stored form (trimmed, upper-case X).
            ("i", rest) => NationalId::parse(rest)
                .ok()
                .filter(|id_number| id_number.as_str() == rest)
                .map(|id_number| SearchCursor::Person { id_number }),
            ("h", rest) => plain(rest)
                .and_then(|external_id| HouseholdNo::parse(&external_id).ok())
                .map(|external_id| SearchCursor::Household { external_id }),
            _ => None,
        }
    }
}

/// How many lines a search has, counted from its index up to `TOTAL_CAP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Total {
    pub count: i64,
    /// More than `count` (counting stopped at the cap).
    pub capped: bool,
}

/// One page of a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    pub by: SearchBy,
    pub rows: Vec<HouseholdSummary>,
    /// Set when there are lines after this page.
    pub next: Option<SearchCursor>,
    pub total: Total,
}

/// A value bound to a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A statement and its values, so that the same text is run and explained (`explain`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Statement {
    pub(crate) fn new(sql: impl Into<String>, binds: Vec<Bind>) -> Statement {
        Statement {
            sql: sql.into(),
            binds,
        }
    }

    pub(crate) async fn fetch<T>(&self, conn: &mut Conn) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(self.sql.clone()));
        for bind in &self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.clone()),
                Bind::Int(number) => query.bind(*number),
            };
        }
        Ok(query.fetch_all(&mut *conn).await?)
    }
}

fn text(value: &str) -> Bind {
    Bind::Text(value.to_owned())
}

/// `'%' || part || '%'` for LIKE with `\` as the escape: `%` and `_` typed are themselves.
fn like_containing(part: &str) -> String {
    let mut pattern = String::with_capacity(part.len() + 2);
    pattern.push('%');
    for c in part.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The half-open range of text starting with `prefix` (ID and household numbers are ASCII letters,
/// digits and `-`, all below `~`).
fn text_prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}~"))
}

/// The values of a prefix range read inside the scope, after `after`: `$1`–`$6` are the
/// prefix's low and high bounds, the last key read, the scope's bounds and the row limit.
/// The smallest area (code digits: a village) whose members are read by area for an ID number
/// prefix: a village holds a few thousand members, while a short prefix (`500224`, the
/// county of birth) spans the whole registry, and walking the ID-number index for the
/// village's matches read hundreds of thousands of keys (66 ms for a count of 1 000 at
/// 350 000 households, against 4 ms by area).
const READ_BY_AREA_FROM_DIGITS: usize = 12;

/// How an ID-number prefix statement names the column: as it is (read from the ID-number
/// index), or, for a village or smaller (`READ_BY_AREA_FROM_DIGITS`), as an expression no
/// index serves — in the filter and the order alike, else PostgreSQL walks the ID-number index
/// for its order — so that both stores read the area's members from the area index, filter
/// them and sort the few that match.
fn id_number_term(scope: &str) -> &'static str {
    if scope.len() >= READ_BY_AREA_FROM_DIGITS {
        "(id_number || '')"
    } else {
        "id_number"
    }
}

fn prefix_binds(prefix: &str, after: String, scope: &str, limit: i64) -> Vec<Bind> {
    let (low, high) = text_prefix_range(prefix);
    let (scope_low, scope_high) = area_range(scope);
    vec![
        Bind::Text(low),
        Bind::Text(high),
        Bind::Text(after),
        Bind::Text(scope_low),
        Bind::Text(scope_high),
        Bind::Int(limit),
    ]
}

const SUMMARY: &str = "h.id, h.external_id, h.area_code, pl.name AS place_name, h.head_name, h.head_id_number, h.n_members";

/// The keys of one page of households under one area range, after `(after_area, after_id)`,
/// in (area code, id) order: from the households' area index, or from the name index.
fn place_keys(
    kind: &SearchKind,
    (low, high): (&str, &str),
    after: Option<(&str, i64)>,
    limit: i64,
) -> (String, Vec<Bind>) {
    let (after_area, after_id) = after.unwrap_or((low, -1));
    let start = if after_area > low { after_area } else { low };
    match kind {
        SearchKind::Name(part) => {
            let gram: String = part.chars().take(GRAM_MAX).collect();
            let mut binds = vec![
                Bind::Text(gram),
                text(start),
                text(high),
                text(after_area),
                Bind::Int(after_id),
                Bind::Int(limit),
            ];
            let check = if part.chars().count() > GRAM_MAX {
                binds.push(Bind::Text(like_containing(part)));
                // The gram finds the candidates; the names of their current members decide. A
                // count, not EXISTS, so that PostgreSQL checks each candidate by its index
                // rather than joining every name that matches the pattern.
                " AND 0 < (SELECT COUNT(*) FROM memberships m JOIN persons n ON n.id_number = m.id_number \
                 WHERE m.household_id = g.household_id AND m.end_date IS NULL AND n.name LIKE $7 ESCAPE '\\')"
            } else {
                ""
            };
            (
                format!(
                    "SELECT g.area_code, g.household_id FROM person_name_grams g WHERE g.gram = $1 \
                     AND g.area_code >= $2 AND g.area_code < $3 AND (g.area_code > $4 OR g.household_id > $5){check} \
                     ORDER BY g.area_code, g.household_id LIMIT $6"
                ),
                binds,
            )
        }
        _ => (
            "SELECT area_code, id AS household_id FROM households WHERE area_code >= $1 AND area_code < $2 \
             AND (area_code > $3 OR id > $4) ORDER BY area_code, id LIMIT $5"
                .to_owned(),
            vec![
                text(start),
                text(high),
                text(after_area),
                Bind::Int(after_id),
                Bind::Int(limit),
            ],
        ),
    }
}

/// The statement of one page of `kind` inside `scope`, after `after`, for one of its area
/// ranges (`range`, for `Areas` and `Name`) — `limit` lines.
fn page_statement(
    kind: &SearchKind,
    scope: &str,
    range: (&str, &str),
    after: Option<&SearchCursor>,
    limit: i64,
) -> Result<Statement> {
    let wrong_cursor = || StoreError::Conflict("the page cursor belongs to another search".into());
    Ok(match kind {
        SearchKind::Areas { .. } | SearchKind::Name(_) => {
            let after = match after {
                None => None,
                Some(SearchCursor::Place {
                    area_code,
                    household_id,
                }) => Some((area_code.as_str(), *household_id)),
                Some(_) => return Err(wrong_cursor()),
            };
            let (keys, binds) = place_keys(kind, range, after, limit);
            Statement::new(
                format!(
                    "SELECT {SUMMARY}, CAST(NULL AS TEXT) AS matched_name, CAST(NULL AS TEXT) AS matched_id_number \
                     FROM ({keys}) k JOIN households h ON h.id = k.household_id JOIN places pl ON pl.code = h.area_code \
                     ORDER BY k.area_code, k.household_id"
                ),
                binds,
            )
        }
        SearchKind::IdPrefix(prefix) => {
            let after = match after {
                None => String::new(),
                Some(SearchCursor::Person { id_number }) => id_number.as_str().to_owned(),
                Some(_) => return Err(wrong_cursor()),
            };
            let id = id_number_term(scope);
            Statement::new(
                format!(
                    "SELECT {SUMMARY}, (SELECT n.name FROM persons n WHERE n.id_number = k.id_number) AS matched_name, \
                     k.id_number AS matched_id_number FROM \
                     (SELECT id_number, household_id FROM memberships WHERE end_date IS NULL \
                      AND {id} >= $1 AND {id} < $2 AND {id} > $3 AND area_code >= $4 AND area_code < $5 \
                      ORDER BY {id} LIMIT $6) k \
                     JOIN households h ON h.id = k.household_id JOIN places pl ON pl.code = h.area_code \
                     ORDER BY k.id_number"
                ),
                prefix_binds(prefix, after, scope, limit),
            )
        }
        SearchKind::HouseholdNumber(prefix) => {
            let after = match after {
                None => String::new(),
                Some(SearchCursor::Household { external_id }) => external_id.as_str().to_owned(),
                Some(_) => return Err(wrong_cursor()),
            };
            Statement::new(
                format!(
                    "SELECT {SUMMARY}, CAST(NULL AS TEXT) AS matched_name, CAST(NULL AS TEXT) AS matched_id_number \
                     FROM households h JOIN places pl ON pl.code = h.area_code \
                     WHERE h.external_id >= $1 AND h.external_id < $2 AND h.external_id > $3 \
                     AND h.area_code >= $4 AND h.area_code < $5 ORDER BY h.external_id LIMIT $6"
                ),
                prefix_binds(prefix, after, scope, limit),
            )
        }
    })
}

/// The statement counting up to `cap` lines of `kind` inside `scope` (for one area range).
fn count_statement(kind: &SearchKind, scope: &str, range: (&str, &str), cap: i64) -> Statement {
    // The first page's keys, read up to the cap: the same index range. (The order makes
    // PostgreSQL walk the index even when the range holds most of the table.)
    let (inner, binds) = match kind {
        SearchKind::Areas { .. } | SearchKind::Name(_) => place_keys(kind, range, None, cap),
        SearchKind::IdPrefix(prefix) => {
            let id = id_number_term(scope);
            (
                format!(
                    "SELECT id_number FROM memberships WHERE end_date IS NULL AND {id} >= $1 AND {id} < $2 \
                     AND {id} > $3 AND area_code >= $4 AND area_code < $5 ORDER BY {id} LIMIT $6"
                ),
                prefix_binds(prefix, String::new(), scope, cap),
            )
        }
        SearchKind::HouseholdNumber(prefix) => (
            "SELECT id FROM households WHERE external_id >= $1 AND external_id < $2 AND external_id > $3 \
             AND area_code >= $4 AND area_code < $5 ORDER BY external_id LIMIT $6"
                .to_owned(),
            prefix_binds(prefix, String::new(), scope, cap),
        ),
    };
    Statement::new(format!("SELECT COUNT(*) FROM ({inner}) c"), binds)
}

/// The area ranges `kind` reads, in order (one, the scope, for kinds not read by area).
fn ranges(kind: &SearchKind, scope: &str) -> Vec<(String, String)> {
    match kind {
        SearchKind::Areas { prefixes, .. } => prefixes.iter().map(|p| area_range(p)).collect(),
        _ => vec![area_range(scope)],
    }
}

/// One page (`per_page` lines) of the search `query` inside `scope`, after `after`.
pub async fn search(
    conn: &mut Conn,
    scope: &str,
    query: &str,
    after: Option<&SearchCursor>,
    per_page: i64,
) -> Result<SearchPage> {
    let kind = resolve(conn, scope, query).await?;
    let mut rows: Vec<HouseholdSummary> = Vec::new();
    let mut more = false;
    let after_area = match after {
        Some(SearchCursor::Place { area_code, .. }) => Some(area_code.as_str()),
        _ => None,
    };
    let mut count = 0;
    for (low, high) in ranges(&kind, scope) {
        if count <= TOTAL_CAP {
            let (n,): (i64,) = count_statement(&kind, scope, (&low, &high), TOTAL_CAP + 1 - count)
                .fetch(conn)
                .await?
                .into_iter()
                .next()
                .unwrap_or((0,));
            count += n;
        }
        let wanted = per_page + 1 - rows.len() as i64;
        let before_cursor = after_area.is_some_and(|area| high.as_str() <= area);
        if wanted <= 0 || before_cursor {
            continue;
        }
        let statement = page_statement(&kind, scope, (&low, &high), after, wanted)?;
        rows.extend(crate::decode::all::<_, HouseholdSummary>(
            statement
                .fetch::<crate::households::RawHouseholdSummary>(conn)
                .await?,
        )?);
    }
    if rows.len() as i64 > per_page {
        rows.truncate(per_page as usize);
        more = true;
    }
    let next = match more.then(|| rows.last()).flatten() {
        None => None,
        Some(last) => Some(match &kind {
            SearchKind::IdPrefix(_) => SearchCursor::Person {
                // Every line of an ID number search has the number it matched.
                id_number: last.matched_id_number.clone().ok_or_else(|| {
                    StoreError::Corrupt(format!("no matched ID number in {}", last.external_id))
                })?,
            },
            SearchKind::HouseholdNumber(_) => SearchCursor::Household {
                external_id: last.external_id.clone(),
            },
            _ => SearchCursor::Place {
                area_code: last.area_code.clone(),
                household_id: last.id,
            },
        }),
    };
    Ok(SearchPage {
        by: kind.by(),
        rows,
        next,
        total: Total {
            count: count.min(TOTAL_CAP),
            capped: count > TOTAL_CAP,
        },
    })
}

/// The statements a search runs for `query` inside `scope` (its count and first page), to
/// check their plans (`crate::plans`).
pub async fn statements(conn: &mut Conn, scope: &str, query: &str) -> Result<Vec<Statement>> {
    let kind = resolve(conn, scope, query).await?;
    let mut statements = Vec::new();
    for (low, high) in ranges(&kind, scope) {
        statements.push(count_statement(&kind, scope, (&low, &high), TOTAL_CAP + 1));
        statements.push(page_statement(&kind, scope, (&low, &high), None, 51)?);
    }
    Ok(statements)
}

/// The plan the database chooses for `statement`, one line per step: SQLite's `EXPLAIN QUERY
/// PLAN` details (`SEARCH …`, `SCAN …`) or PostgreSQL's `EXPLAIN` lines (`Index Scan …`).
pub async fn explain(conn: &mut Conn, statement: &Statement) -> Result<Vec<String>> {
    if positional(conn) {
        let explained = Statement::new(
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.binds.clone(),
        );
        let rows: Vec<(i64, i64, i64, String)> = explained.fetch(conn).await?;
        Ok(rows.into_iter().map(|(_, _, _, detail)| detail).collect())
    } else {
        let explained = Statement::new(
            format!("EXPLAIN {}", statement.sql),
            statement.binds.clone(),
        );
        let rows: Vec<(String,)> = explained.fetch(conn).await?;
        Ok(rows.into_iter().map(|(line,)| line).collect())
    }
}

#[cfg(test)]
mod tests;
