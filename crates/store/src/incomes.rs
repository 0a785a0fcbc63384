//! 收入记录 (X2, rule 9): the dated incomes recorded for each household, append-only; the
//! months above the monitoring line are computed from them by `policy::months_above_line`.

use crate::decode;
use crate::{Conn, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::states::IncomeSource;
use domain::{HouseholdNo, TrackingNumber};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomeRow {
    pub id: i64,
    pub household_external_id: HouseholdNo,
    pub on_date: NaiveDate,
    pub income_12m_fen: i64,
    pub n_members: i64,
    pub source: IncomeSource,
    /// The case's tracking number for a survey; none for a registry edit (stored empty).
    pub reference: Option<TrackingNumber>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A `incomes` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawIncome {
    pub(crate) id: i64,
    pub(crate) household_external_id: String,
    pub(crate) on_date: String,
    pub(crate) income_12m_fen: i64,
    pub(crate) n_members: i64,
    pub(crate) source: String,
    pub(crate) reference: String,
    pub(crate) recorded_by: String,
    pub(crate) recorded_at: String,
}

impl TryFrom<RawIncome> for IncomeRow {
    type Error = StoreError;

    fn try_from(raw: RawIncome) -> Result<Self> {
        const TABLE: &str = "income_records";
        Ok(IncomeRow {
            id: raw.id,
            household_external_id: decode::household_no(
                TABLE,
                "household_external_id",
                raw.household_external_id,
            )?,
            on_date: decode::date(TABLE, "on_date", raw.on_date)?,
            income_12m_fen: raw.income_12m_fen,
            n_members: raw.n_members,
            source: decode::code(TABLE, "source", raw.source, IncomeSource::from_code)?,
            reference: match raw.reference.as_str() {
                "" => None,
                text => Some(TrackingNumber::parse(text).map_err(|error| {
                    decode::bad(TABLE, "reference", raw.reference.clone(), error)
                })?),
            },
            recorded_by: raw.recorded_by,
            recorded_at: decode::instant(TABLE, "recorded_at", raw.recorded_at)?,
        })
    }
}

/// A record to append.
#[derive(Clone, Copy, Debug)]
pub struct NewIncome<'a> {
    pub household_external_id: &'a str,
    pub on_date: &'a str,
    pub income_12m_fen: i64,
    pub n_members: i64,
    pub source: &'a str,
    pub reference: &'a str,
    pub recorded_by: &'a str,
    pub recorded_at: &'a str,
}

pub async fn append(conn: &mut Conn, record: &NewIncome<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO income_records (household_external_id, on_date, income_12m_fen, n_members, source, reference, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(record.household_external_id)
    .bind(record.on_date)
    .bind(record.income_12m_fen)
    .bind(record.n_members)
    .bind(record.source)
    .bind(record.reference)
    .bind(record.recorded_by)
    .bind(record.recorded_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A household's records, oldest first.
pub async fn of_household(conn: &mut Conn, household_external_id: &str) -> Result<Vec<IncomeRow>> {
    decode::all::<RawIncome, _>(sqlx::query_as(
        "SELECT id, household_external_id, on_date, income_12m_fen, n_members, source, reference, recorded_by, recorded_at \
         FROM income_records WHERE household_external_id = $1 ORDER BY on_date, id",
    )
    .bind(household_external_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Every household's records under `area_prefix` (by the household's area in the registry),
/// oldest first: for a pass over the registry.
pub async fn under_area(conn: &mut Conn, area_prefix: &str) -> Result<Vec<IncomeRow>> {
    let (low, high) = crate::area_range(area_prefix);
    decode::all::<RawIncome, _>(sqlx::query_as(
        "SELECT i.id, i.household_external_id, i.on_date, i.income_12m_fen, i.n_members, i.source, i.reference, i.recorded_by, i.recorded_at \
         FROM income_records i JOIN households h ON h.external_id = i.household_external_id \
         WHERE h.area_code >= $1 AND h.area_code < $2 ORDER BY i.household_external_id, i.on_date, i.id",
    )
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}
