//! The online applications kept with a case (issue 15): what the applicant typed beyond the
//! intake, and the duplicates that opened no case, as the case page shows them.

use crate::AppError;
use chrono::NaiveDate;
use domain::NationalId;

/// The China Standard Time date of an RFC 3339 instant.
pub(crate) fn cst_date(at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    (at + chrono::Duration::hours(8)).date_naive()
}

/// An online application kept with a running case (重复申请), as the town sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    pub submitted_on: String,
    pub applicant: String,
    pub id_number: NationalId,
    pub phone: String,
    pub household_size: i64,
    pub hardship: String,
}

/// What the applicant typed online beyond the intake, as the case page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnlineDetails {
    pub id_number: NationalId,
    pub phone: String,
    pub household_size: i64,
}

/// The online details of a case, if it was taken online.
pub(crate) async fn details(
    conn: &mut store::Conn,
    case_id: i64,
) -> Result<Option<OnlineDetails>, AppError> {
    let Some(row) = store::cases::online_application(conn, case_id).await? else {
        return Ok(None);
    };
    Ok(Some(OnlineDetails {
        id_number: row.id_number,
        phone: row.phone,
        household_size: row.household_size,
    }))
}

/// 重复申请: the online applications kept with a case because it was already running
/// (issue 15), for the case page; the first `limit`.
pub(crate) async fn duplicates(
    conn: &mut store::Conn,
    case_id: i64,
    limit: i64,
) -> Result<Vec<Duplicate>, AppError> {
    Ok(store::cases::duplicate_receipts(conn, case_id, limit)
        .await?
        .into_iter()
        .map(|row| Duplicate {
            submitted_on: cst_date(row.submitted_at).to_string(),
            applicant: row.applicant,
            id_number: row.id_number,
            phone: row.phone,
            household_size: row.household_size,
            hardship: row.hardship,
        })
        .collect())
}
