//! 收入记录 (X2, rule 9): the household's dated incomes, written where the system learns one (a
//! case's survey, a registry create or edit) and read back for the months above the monitoring
//! line (`policy::months_above_line`).

use crate::access::Actor;
use crate::error::AppError;
use chrono::NaiveDate;
use domain::states::IncomeSource;
use domain::{Household, Yuan};
use std::borrow::Cow;
use std::collections::HashMap;

/// Where a recorded income came from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// A case's 入户调查, by tracking number.
    Survey(&'a str),
    /// A registry create or edit of the household.
    Household,
}

/// Appends the income of `household` as known on `on`.
pub(crate) async fn record(
    conn: &mut store::Conn,
    actor: &Actor,
    household_external_id: &str,
    household: &Household,
    on: NaiveDate,
    source: Source<'_>,
    now: &str,
) -> Result<(), AppError> {
    let income = policy::IncomeRecord::of(household, on);
    let (source, reference) = match source {
        Source::Survey(tracking_number) => (IncomeSource::Survey, tracking_number),
        Source::Household => (IncomeSource::Household, ""),
    };
    store::incomes::append(
        conn,
        &store::incomes::NewIncome {
            household_external_id,
            on_date: &on.to_string(),
            income_12m_fen: income.income_12m.fen(),
            n_members: i64::from(income.n_members),
            source: source.code(),
            reference,
            recorded_by: &actor.audit_name(),
            recorded_at: now,
        },
    )
    .await?;
    Ok(())
}

/// The household's recorded incomes, oldest first.
pub(crate) async fn records_of(
    conn: &mut store::Conn,
    household_external_id: &str,
) -> Result<Vec<policy::IncomeRecord>, AppError> {
    store::incomes::of_household(conn, household_external_id)
        .await?
        .iter()
        .map(record_of)
        .collect()
}

fn record_of(row: &store::incomes::IncomeRow) -> Result<policy::IncomeRecord, AppError> {
    let on = row.on_date;
    Ok(policy::IncomeRecord {
        on,
        income_12m: Yuan::from_fen(row.income_12m_fen),
        n_members: u32::try_from(row.n_members)
            .map_err(|error| anyhow::anyhow!("income record {}: {error}", row.id))?,
    })
}

/// Every household's recorded incomes under `area`, by 户编号: for a pass over the registry.
pub(crate) async fn records_under(
    conn: &mut store::Conn,
    area: &domain::PlaceCode,
) -> Result<HashMap<String, Vec<policy::IncomeRecord>>, AppError> {
    let mut by_household: HashMap<String, Vec<policy::IncomeRecord>> = HashMap::new();
    for row in store::incomes::under_area(conn, area.as_str()).await? {
        let record = record_of(&row)?;
        by_household
            .entry(row.household_external_id.into_string())
            .or_default()
            .push(record);
    }
    Ok(by_household)
}

/// `household` with its months above the monitoring line from `records` (X2, rule 9); the
/// household itself where that changes nothing.
pub(crate) fn with_history<'h>(
    household: &'h Household,
    records: Option<&Vec<policy::IncomeRecord>>,
    snapshot: &policy::Snapshot,
    as_of: NaiveDate,
) -> Cow<'h, Household> {
    let records = records.map_or(&[][..], Vec::as_slice);
    if records.is_empty() && household.months_above_monitoring_line == 0 {
        return Cow::Borrowed(household);
    }
    Cow::Owned(policy::with_income_history(
        household, records, snapshot, as_of,
    ))
}
