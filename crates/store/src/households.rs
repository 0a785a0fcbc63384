//! 家庭档案: households, persons, dated composition (memberships) and dated category periods (D1, D2).
//!
//! Invariant: a person has at most one open membership (不重不漏): `open_membership` reports
//! where before a caller adds a person to a household. Composition changes close a membership
//! with an end date and open a new one; rows are never deleted.

use crate::decode;
use crate::sql::{
    BULK_ROWS, execute_pipelined, fetch_pipelined, insert_many_into, placeholders, positional,
    values_list,
};
use crate::{Conn, Result, StoreError, area_range};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    CareNeed, Category, Household, HouseholdNo, Hukou, MonitoringKind, NationalId, PlaceCode,
    Relation, Sex, SupportMode,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdRow {
    pub id: i64,
    pub external_id: HouseholdNo,
    pub area_code: PlaceCode,
    pub hukou: Hukou,
    pub head_name: String,
    pub head_id_number: NationalId,
    pub n_members: i64,
    /// The household in the interchange format (JSON), every survey indicator included.
    pub record: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A `households` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawHousehold {
    id: i64,
    external_id: String,
    area_code: String,
    hukou: String,
    head_name: String,
    head_id_number: String,
    n_members: i64,
    record: String,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl TryFrom<RawHousehold> for HouseholdRow {
    type Error = StoreError;

    fn try_from(raw: RawHousehold) -> Result<Self> {
        const TABLE: &str = "households";
        Ok(HouseholdRow {
            id: raw.id,
            external_id: decode::household_no(TABLE, "external_id", raw.external_id)?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            hukou: decode::code(TABLE, "hukou", raw.hukou, Hukou::from_code)?,
            head_name: raw.head_name,
            head_id_number: decode::national_id(TABLE, "head_id_number", raw.head_id_number)?,
            n_members: raw.n_members,
            record: raw.record,
            version: raw.version,
            created_at: decode::instant(TABLE, "created_at", raw.created_at)?,
            updated_at: decode::instant(TABLE, "updated_at", raw.updated_at)?,
        })
    }
}

const COLUMNS: &str = "id, external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at";

/// The head's (户主) name and ID number, as `households` stores them beside the record. A
/// household without one is refused: the interchange format requires exactly one
/// (`domain::interchange`), so only a caller that built a `Household` by hand can pass one.
pub(crate) fn head_of(household: &Household) -> Result<(&str, &str)> {
    household
        .head()
        .map(|head| (head.name.as_str(), head.id_number.as_str()))
        .ok_or_else(|| {
            decode::bad(
                "households",
                "head_id_number",
                household.id.as_str().to_owned(),
                "household has no head (户主)",
            )
        })
}

/// Inserts a new household with its members' memberships starting `today`.
pub async fn insert(
    conn: &mut Conn,
    household: &Household,
    record_json: &str,
    today: &str,
    now: &str,
) -> Result<i64> {
    let ids = insert_many(conn, &[(household, record_json)], today, now).await?;
    ids.get(household.id.as_str())
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("no id for {}", household.id)))
}

async fn open_membership_row(
    conn: &mut Conn,
    household_id: i64,
    area_code: &str,
    id_number: &str,
    relation: &str,
    today: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO memberships (household_id, area_code, id_number, relation, start_date) VALUES ($1, $2, $3, $4, $5)")
        .bind(household_id)
        .bind(area_code)
        .bind(id_number)
        .bind(relation)
        .bind(today)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces a household's record (optimistic: `expected_version` must match) and brings its
/// composition up to date: leavers' memberships end `today`, newcomers' start `today`, a
/// changed relation ends the old membership and starts a new one. Returns the ID numbers of
/// the leavers (members no longer).
pub async fn update(
    conn: &mut Conn,
    id: i64,
    expected_version: i64,
    household: &Household,
    record_json: &str,
    today: &str,
    now: &str,
) -> Result<Vec<NationalId>> {
    let indexed = crate::name_index::indexed_grams(conn, id).await?;
    upsert_persons(conn, &household.members.iter().collect::<Vec<_>>()).await?;
    let (head_name, head_id_number) = head_of(household)?;
    let updated = sqlx::query(
        "UPDATE households SET area_code = $1, hukou = $2, head_name = $3, head_id_number = $4, n_members = $5, \
         record = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9",
    )
    .bind(household.area.as_str())
    .bind(household.hukou.code())
    .bind(head_name)
    .bind(head_id_number)
    .bind(household.members.len() as i64)
    .bind(record_json)
    .bind(now)
    .bind(id)
    .bind(expected_version)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "household {id} was changed by someone else"
        )));
    }
    // The place the report counts by moves with the household (migration 0006).
    for table in ["memberships", "category_periods", "recheck_schedule"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET area_code = $1 WHERE household_id = $2 AND area_code <> $1"
        )))
        .bind(household.area.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    let current = open_memberships(conn, id).await?;
    let mut leavers = Vec::new();
    for (id_number, relation) in &current {
        let still = household
            .members
            .iter()
            .any(|person| person.id_number == *id_number && person.relation == *relation);
        if !still {
            sqlx::query(
                "UPDATE memberships SET end_date = $1 WHERE household_id = $2 AND id_number = $3 AND end_date IS NULL",
            )
            .bind(today)
            .bind(id)
            .bind(id_number.as_str())
            .execute(&mut *conn)
            .await?;
            if !household
                .members
                .iter()
                .any(|person| person.id_number == *id_number)
            {
                leavers.push(id_number.clone());
            }
        }
    }
    for person in &household.members {
        let unchanged = current.iter().any(|(id_number, relation)| {
            *id_number == person.id_number && *relation == person.relation
        });
        if !unchanged {
            open_membership_row(
                conn,
                id,
                household.area.as_str(),
                person.id_number.as_str(),
                person.relation.code(),
                today,
            )
            .await?;
        }
    }
    // Members, their names or the place may have changed: the name index follows (migration 0011).
    crate::name_index::reindex(conn, id, &indexed, household).await?;
    Ok(leavers)
}

/// A household's open memberships: (ID number, relation).
async fn open_memberships(
    conn: &mut Conn,
    household_id: i64,
) -> Result<Vec<(NationalId, Relation)>> {
    const TABLE: &str = "memberships";
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id_number, relation FROM memberships WHERE household_id = $1 AND end_date IS NULL",
    )
    .bind(household_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id_number, relation)| {
            Ok((
                decode::national_id(TABLE, "id_number", id_number)?,
                decode::code(TABLE, "relation", relation, Relation::from_code)?,
            ))
        })
        .collect()
}

/// The household (its 户编号 and area code) `id_number` is a current member of, other than
/// `except_household`, if any.
pub async fn open_membership_area(
    conn: &mut Conn,
    id_number: &NationalId,
    except_household: Option<i64>,
) -> Result<Option<(HouseholdNo, PlaceCode)>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT h.external_id, h.area_code FROM memberships m JOIN households h ON h.id = m.household_id \
         WHERE m.id_number = $1 AND m.end_date IS NULL AND m.household_id <> $2 LIMIT 1",
    )
    .bind(id_number.as_str())
    .bind(except_household.unwrap_or(-1))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(external_id, area_code)| {
        Ok((
            decode::household_no("households", "external_id", external_id)?,
            decode::place("households", "area_code", area_code)?,
        ))
    })
    .transpose()
}

pub async fn open_membership(
    conn: &mut Conn,
    id_number: &str,
    except_household: Option<i64>,
) -> Result<Option<HouseholdNo>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT h.external_id FROM memberships m JOIN households h ON h.id = m.household_id \
         WHERE m.id_number = $1 AND m.end_date IS NULL AND m.household_id <> $2 LIMIT 1",
    )
    .bind(id_number)
    .bind(except_household.unwrap_or(-1))
    .fetch_optional(&mut *conn)
    .await?;
    decode::household_no_opt(
        "households",
        "external_id",
        row.map(|(external_id,)| external_id),
    )
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<HouseholdRow>> {
    decode::one::<RawHousehold, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM households WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

pub async fn by_external_id(conn: &mut Conn, external_id: &str) -> Result<Option<HouseholdRow>> {
    decode::one::<RawHousehold, _>(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM households WHERE external_id = $1"
        )))
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

pub async fn count(conn: &mut Conn) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

/// One line of the registry list (`search::search`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdSummary {
    pub id: i64,
    pub external_id: HouseholdNo,
    pub area_code: PlaceCode,
    pub place_name: String,
    pub head_name: String,
    pub head_id_number: NationalId,
    pub n_members: i64,
    /// The member an ID number search found (the line is theirs), with their name.
    pub matched_name: Option<String>,
    pub matched_id_number: Option<NationalId>,
}

/// A `households` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawHouseholdSummary {
    pub(crate) id: i64,
    pub(crate) external_id: String,
    pub(crate) area_code: String,
    pub(crate) place_name: String,
    pub(crate) head_name: String,
    pub(crate) head_id_number: String,
    pub(crate) n_members: i64,
    pub(crate) matched_name: Option<String>,
    pub(crate) matched_id_number: Option<String>,
}

impl TryFrom<RawHouseholdSummary> for HouseholdSummary {
    type Error = StoreError;

    fn try_from(raw: RawHouseholdSummary) -> Result<Self> {
        const TABLE: &str = "households";
        Ok(HouseholdSummary {
            id: raw.id,
            external_id: decode::household_no(TABLE, "external_id", raw.external_id)?,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            place_name: raw.place_name,
            head_name: raw.head_name,
            head_id_number: decode::national_id(TABLE, "head_id_number", raw.head_id_number)?,
            n_members: raw.n_members,
            matched_name: raw.matched_name,
            matched_id_number: decode::national_id_opt(
                "memberships",
                "id_number",
                raw.matched_id_number,
            )?,
        })
    }
}

/// One membership of the composition history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipRow {
    pub id_number: NationalId,
    pub name: String,
    pub relation: Relation,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct RawMembership {
    id_number: String,
    name: String,
    relation: String,
    start_date: String,
    end_date: Option<String>,
}

impl TryFrom<RawMembership> for MembershipRow {
    type Error = StoreError;

    fn try_from(raw: RawMembership) -> Result<Self> {
        const TABLE: &str = "memberships";
        Ok(MembershipRow {
            id_number: decode::national_id(TABLE, "id_number", raw.id_number)?,
            name: raw.name,
            relation: decode::code(TABLE, "relation", raw.relation, Relation::from_code)?,
            start_date: decode::date(TABLE, "start_date", raw.start_date)?,
            end_date: decode::date_opt(TABLE, "end_date", raw.end_date)?,
        })
    }
}

/// The whole composition history of a household, oldest first.
pub async fn membership_history(conn: &mut Conn, household_id: i64) -> Result<Vec<MembershipRow>> {
    decode::all::<RawMembership, _>(sqlx::query_as(
        "SELECT m.id_number, p.name, m.relation, m.start_date, m.end_date FROM memberships m \
         JOIN persons p ON p.id_number = m.id_number WHERE m.household_id = $1 ORDER BY m.start_date, m.id",
    )
    .bind(household_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Who was in household `household_id` on `date` (`YYYY-MM-DD`).
pub async fn members_on(
    conn: &mut Conn,
    household_id: i64,
    date: &str,
) -> Result<Vec<MembershipRow>> {
    decode::all::<RawMembership, _>(sqlx::query_as(
        "SELECT m.id_number, p.name, m.relation, m.start_date, m.end_date FROM memberships m \
         JOIN persons p ON p.id_number = m.id_number \
         WHERE m.household_id = $1 AND m.start_date <= $2 AND (m.end_date IS NULL OR m.end_date > $2) ORDER BY m.id",
    )
    .bind(household_id)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?)
}

/// A dated category period (D2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryPeriodRow {
    pub id: i64,
    pub household_id: i64,
    pub id_number: Option<NationalId>,
    pub category: Category,
    pub monitoring_kind: Option<MonitoringKind>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub monthly_fen: Option<i64>,
    pub reason: String,
    /// 供养方式 of a 特困 period (`dispersed` / `centralised`), where known (migration 0034).
    pub support_mode: Option<SupportMode>,
    /// 照料护理等级 of a 特困 period, where known.
    pub care_level: Option<CareNeed>,
}

/// A `category_periods` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawCategoryPeriod {
    id: i64,
    pub(crate) household_id: i64,
    id_number: Option<String>,
    category: String,
    monitoring_kind: Option<String>,
    start_date: String,
    end_date: Option<String>,
    monthly_fen: Option<i64>,
    reason: String,
    support_mode: Option<String>,
    care_level: Option<String>,
}

impl TryFrom<RawCategoryPeriod> for CategoryPeriodRow {
    type Error = StoreError;

    fn try_from(raw: RawCategoryPeriod) -> Result<Self> {
        const TABLE: &str = "category_periods";
        Ok(CategoryPeriodRow {
            id: raw.id,
            household_id: raw.household_id,
            id_number: decode::national_id_opt(TABLE, "id_number", raw.id_number)?,
            category: decode::code(TABLE, "category", raw.category, Category::from_code)?,
            monitoring_kind: decode::code_opt(
                TABLE,
                "monitoring_kind",
                raw.monitoring_kind,
                MonitoringKind::from_code,
            )?,
            start_date: decode::date(TABLE, "start_date", raw.start_date)?,
            end_date: decode::date_opt(TABLE, "end_date", raw.end_date)?,
            monthly_fen: raw.monthly_fen,
            reason: raw.reason,
            support_mode: decode::code_opt(
                TABLE,
                "support_mode",
                raw.support_mode,
                SupportMode::from_code,
            )?,
            care_level: decode::code_opt(TABLE, "care_level", raw.care_level, CareNeed::from_code)?,
        })
    }
}

pub struct NewCategoryPeriod<'a> {
    pub household_id: i64,
    pub id_number: Option<&'a str>,
    pub category: &'a str,
    pub monitoring_kind: Option<&'a str>,
    pub start_date: &'a str,
    pub monthly_fen: Option<i64>,
    pub reason: &'a str,
    /// 特困 only: 供养方式 and 照料护理等级 codes, where the source says.
    pub support_mode: Option<&'a str>,
    pub care_level: Option<&'a str>,
}

pub async fn open_category(conn: &mut Conn, period: &NewCategoryPeriod<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO category_periods (household_id, area_code, id_number, category, monitoring_kind, start_date, monthly_fen, reason, support_mode, care_level) \
         VALUES ($1, (SELECT area_code FROM households WHERE id = $1), $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(period.household_id)
    .bind(period.id_number)
    .bind(period.category)
    .bind(period.monitoring_kind)
    .bind(period.start_date)
    .bind(period.monthly_fen)
    .bind(period.reason)
    .bind(period.support_mode)
    .bind(period.care_level)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Ends an open category period on `end_date` (exclusive).
pub async fn close_category(conn: &mut Conn, period_id: i64, end_date: &str) -> Result<()> {
    let closed =
        sqlx::query("UPDATE category_periods SET end_date = $1 WHERE id = $2 AND end_date IS NULL")
            .bind(end_date)
            .bind(period_id)
            .execute(&mut *conn)
            .await?;
    if closed.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) const PERIOD_COLUMNS: &str = "id, household_id, id_number, category, monitoring_kind, start_date, end_date, monthly_fen, reason, support_mode, care_level";

pub async fn category_history(
    conn: &mut Conn,
    household_id: i64,
) -> Result<Vec<CategoryPeriodRow>> {
    decode::all::<RawCategoryPeriod, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERIOD_COLUMNS} FROM category_periods WHERE household_id = $1 ORDER BY start_date, id"
    )))
    .bind(household_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Which households of `area_prefix` held `category` on `date`, by household id.
pub async fn in_category_on(
    conn: &mut Conn,
    category: &str,
    date: &str,
    area_prefix: &str,
) -> Result<Vec<i64>> {
    let (low, high) = area_range(area_prefix);
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT c.household_id FROM category_periods c JOIN households h ON h.id = c.household_id \
         WHERE c.category = $1 AND c.start_date <= $2 AND (c.end_date IS NULL OR c.end_date > $2) \
         AND h.area_code >= $3 AND h.area_code < $4 ORDER BY c.household_id",
    )
    .bind(category)
    .bind(date)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Every open membership as (household id, ID number): a whole-registry read for benchmarks
/// and checks, never on a request path.
pub async fn open_members(conn: &mut Conn) -> Result<Vec<(i64, String)>> {
    Ok(
        sqlx::query_as("SELECT household_id, id_number FROM memberships WHERE end_date IS NULL")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// Every household's record under `area_prefix`, in id order, one page at a time.
pub async fn records_page(
    conn: &mut Conn,
    area_prefix: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let (low, high) = area_range(area_prefix);
    Ok(sqlx::query_as(
        "SELECT id, record FROM households WHERE area_code >= $1 AND area_code < $2 AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(low)
    .bind(high)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// The stored households among `external_ids`.
pub async fn by_external_ids(conn: &mut Conn, external_ids: &[&str]) -> Result<Vec<HouseholdRow>> {
    let mut rows = Vec::new();
    for chunk in external_ids.chunks(BULK_ROWS) {
        let sql = format!(
            "SELECT {COLUMNS} FROM households WHERE external_id IN ({})",
            placeholders(chunk.len(), positional(conn))
        );
        let mut query = sqlx::query_as::<_, RawHousehold>(sqlx::AssertSqlSafe(sql));
        for external_id in chunk {
            query = query.bind(*external_id);
        }
        rows.extend(decode::all::<_, HouseholdRow>(
            query.fetch_all(&mut *conn).await?,
        )?);
    }
    Ok(rows)
}

/// For each of `id_numbers` that is a member of a household now: (id number, household id, household external id).
pub async fn open_memberships_of(
    conn: &mut Conn,
    id_numbers: &[&str],
) -> Result<Vec<(String, i64, String)>> {
    let mut rows = Vec::new();
    for chunk in id_numbers.chunks(BULK_ROWS) {
        let sql = format!(
            "SELECT m.id_number, m.household_id, h.external_id FROM memberships m JOIN households h ON h.id = m.household_id \
             WHERE m.end_date IS NULL AND m.id_number IN ({})",
            placeholders(chunk.len(), positional(conn))
        );
        let mut query = sqlx::query_as::<_, (String, i64, String)>(sqlx::AssertSqlSafe(sql));
        for id_number in chunk {
            query = query.bind(*id_number);
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// 性别 as stored: read from the ID number.
pub(crate) fn sex_code(person: &domain::Person) -> &'static str {
    match person.id_number.sex() {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// Adds persons (or refreshes their names), in multi-row statements.
pub(crate) async fn upsert_persons(conn: &mut Conn, persons: &[&domain::Person]) -> Result<()> {
    write_persons(conn, persons, false).await
}

/// Adds persons, in multi-row statements: all of them new when `new` (a load into a registry
/// that held no person), else refreshing the names of those stored.
async fn write_persons(conn: &mut Conn, persons: &[&domain::Person], new: bool) -> Result<()> {
    let upsert = if new {
        ""
    } else {
        " ON CONFLICT (id_number) DO UPDATE SET name = excluded.name"
    };
    let (insert, positional) = (insert_many_into(conn), positional(conn));
    let statements = persons.chunks(BULK_ROWS).map(|chunk| {
        let sql = format!(
            "{insert} persons (id_number, name, birth_date, sex) VALUES {}{upsert}",
            values_list(chunk.len(), 4, positional)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for person in chunk {
            query = query
                .bind(person.id_number.as_str())
                .bind(person.name.as_str())
                .bind(person.id_number.birth_date().to_string())
                .bind(sex_code(person));
        }
        query
    });
    execute_pipelined(conn, statements).await
}

/// Inserts many new households at once (persons, households, memberships from `today`, and
/// their rows of the name index), in multi-row statements; returns each household's new id by
/// external id.
pub async fn insert_many(
    conn: &mut Conn,
    households: &[(&Household, &str)],
    today: &str,
    now: &str,
) -> Result<std::collections::HashMap<String, i64>> {
    let ids = insert_many_unindexed(conn, households, false, today, now).await?;
    let mut names = Vec::new();
    for (household, _) in households {
        let id = *ids
            .get(household.id.as_str())
            .ok_or_else(|| StoreError::Corrupt(format!("no id for {}", household.id)))?;
        names.extend(
            household
                .members
                .iter()
                .map(|person| (id, household.area.as_str(), person.name.as_str())),
        );
    }
    crate::name_index::insert_name_grams(conn, &names).await?;
    Ok(ids)
}

/// `insert_many` without the households' rows of the name index, which the caller writes
/// (a large SQLite load, at its end: `bulk::PackedGrams`); `new_persons`: none of the
/// members is stored yet (see `write_persons`).
pub(crate) async fn insert_many_unindexed(
    conn: &mut Conn,
    households: &[(&Household, &str)],
    new_persons: bool,
    today: &str,
    now: &str,
) -> Result<std::collections::HashMap<String, i64>> {
    let persons: Vec<&domain::Person> = households
        .iter()
        .flat_map(|(household, _)| &household.members)
        .collect();
    let heads = households
        .iter()
        .map(|(household, _)| head_of(household))
        .collect::<Result<Vec<_>>>()?;
    write_persons(conn, &persons, new_persons).await?;
    let (insert, positional) = (insert_many_into(conn), positional(conn));
    let rows: Vec<_> = households.iter().zip(heads).collect();
    let statements = rows.chunks(BULK_ROWS).map(|chunk| {
        let sql = format!(
            "{insert} households (external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at) \
             VALUES {} RETURNING id, external_id",
            values_list(chunk.len(), 10, positional)
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for ((household, record_json), (head_name, head_id_number)) in chunk {
            query = query
                .bind(household.id.as_str())
                .bind(household.area.as_str())
                .bind(household.hukou.code())
                .bind(*head_name)
                .bind(*head_id_number)
                .bind(household.members.len() as i64)
                .bind(*record_json)
                .bind(1_i64)
                .bind(now)
                .bind(now);
        }
        query
    });
    let ids: std::collections::HashMap<String, i64> = fetch_pipelined(conn, statements)
        .await?
        .into_iter()
        .map(|(id, external_id)| (external_id, id))
        .collect();
    let mut memberships = Vec::with_capacity(persons.len());
    for (household, _) in households {
        let id = *ids
            .get(household.id.as_str())
            .ok_or_else(|| StoreError::Corrupt(format!("no id for {}", household.id)))?;
        memberships.extend(
            household
                .members
                .iter()
                .map(|person| (id, household.area.as_str(), person)),
        );
    }
    let statements = memberships.chunks(BULK_ROWS).map(|chunk| {
        let sql = format!(
            "{insert} memberships (household_id, area_code, id_number, relation, start_date) VALUES {}",
            values_list(chunk.len(), 5, positional)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (household_id, area_code, person) in chunk {
            query = query
                .bind(*household_id)
                .bind(*area_code)
                .bind(person.id_number.as_str())
                .bind(person.relation.code())
                .bind(today);
        }
        query
    });
    execute_pipelined(conn, statements).await?;
    Ok(ids)
}

/// Households per area code, in code order: a count over the whole registry, for batch
/// tools (`safetynet demo seed`), never for a request.
pub async fn count_by_area(conn: &mut Conn) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT area_code, COUNT(*) FROM households GROUP BY area_code ORDER BY area_code",
    )
    .fetch_all(&mut *conn)
    .await?)
}
