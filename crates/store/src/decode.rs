//! Stored text decoded into domain types, once, at the store's edge (issue 17): a row is read
//! as a private raw row of primitive columns (`sqlx::FromRow`) and converted by `TryFrom` into
//! the public row, whose fields are domain types. A value that does not decode is
//! `StoreError::BadValue`, naming the table, the column and the value: the store is corrupt.
//!
//! `domain` has no sqlx dependency, so the conversion lives here rather than in
//! `sqlx::Type` impls on the domain types.

use crate::{Result, StoreError};
use chrono::NaiveDate;
use domain::{HouseholdNo, NationalId, PlaceCode, Role};

pub(crate) fn bad(
    table: &'static str,
    column: &'static str,
    value: String,
    reason: impl ToString,
) -> StoreError {
    StoreError::BadValue {
        table,
        column,
        value,
        reason: reason.to_string(),
    }
}

/// An area code (`area_code`, `actor_area`).
pub(crate) fn place(table: &'static str, column: &'static str, value: String) -> Result<PlaceCode> {
    PlaceCode::parse(&value).map_err(|error| bad(table, column, value, error))
}

/// A 户编号 (`external_id`, `household_external_id`).
pub(crate) fn household_no(
    table: &'static str,
    column: &'static str,
    value: String,
) -> Result<HouseholdNo> {
    HouseholdNo::parse(&value).map_err(|error| bad(table, column, value, error))
}

/// A 户编号 that may be absent (a warning or contact about someone not registered).
pub(crate) fn household_no_opt(
    table: &'static str,
    column: &'static str,
    value: Option<String>,
) -> Result<Option<HouseholdNo>> {
    value
        .map(|value| household_no(table, column, value))
        .transpose()
}

/// An item code (`item_code`), which every writer took from a validated item.
pub(crate) fn item_code(
    table: &'static str,
    column: &'static str,
    value: String,
) -> Result<domain::ItemCode> {
    domain::ItemCode::parse(&value).map_err(|error| bad(table, column, value, error))
}

/// A 身份证号 (`id_number`, `head_id_number`), checked by every writer before it is stored.
pub(crate) fn national_id(
    table: &'static str,
    column: &'static str,
    value: String,
) -> Result<NationalId> {
    NationalId::parse(&value).map_err(|error| bad(table, column, value, error))
}

/// A 身份证号 that may be absent (a household's category period, held by no one member).
pub(crate) fn national_id_opt(
    table: &'static str,
    column: &'static str,
    value: Option<String>,
) -> Result<Option<NationalId>> {
    value
        .map(|value| national_id(table, column, value))
        .transpose()
}

/// A day, stored `YYYY-MM-DD`.
pub(crate) fn date(table: &'static str, column: &'static str, value: String) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|error| bad(table, column, value, error))
}

/// A day that may be absent (an open end date, a step not reached yet).
pub(crate) fn date_opt(
    table: &'static str,
    column: &'static str,
    value: Option<String>,
) -> Result<Option<NaiveDate>> {
    value.map(|value| date(table, column, value)).transpose()
}

/// A word of a closed list (`Role`, `Category`, `Hukou`, …), stored as its code.
pub(crate) fn code<T>(
    table: &'static str,
    column: &'static str,
    value: String,
    from_code: fn(&str) -> Option<T>,
) -> Result<T> {
    from_code(&value).ok_or_else(|| bad(table, column, value, "not a known code"))
}

/// A word of a closed list that may be absent.
pub(crate) fn code_opt<T>(
    table: &'static str,
    column: &'static str,
    value: Option<String>,
    from_code: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    value
        .map(|value| code(table, column, value, from_code))
        .transpose()
}

/// A user's role.
pub(crate) fn role(table: &'static str, column: &'static str, value: String) -> Result<Role> {
    code(table, column, value, Role::from_code)
}

/// Every raw row of `rows` converted, the first bad value failing the whole read.
pub(crate) fn all<Raw, Row: TryFrom<Raw, Error = StoreError>>(rows: Vec<Raw>) -> Result<Vec<Row>> {
    rows.into_iter().map(Row::try_from).collect()
}

/// A raw row, if any, converted.
pub(crate) fn one<Raw, Row: TryFrom<Raw, Error = StoreError>>(
    row: Option<Raw>,
) -> Result<Option<Row>> {
    row.map(Row::try_from).transpose()
}

/// An instant as stored: UTC text to the microsecond (`%Y-%m-%dT%H:%M:%S%.6fZ`), which sorts
/// in time order and which `instant` reads back (a row stored to the second compares the same
/// way against it). Every `*_at` column is written in this form.
pub fn instant_text(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// An instant, stored as UTC text (`instant_text`, which sorts in time order).
pub(crate) fn instant(
    table: &'static str,
    column: &'static str,
    value: String,
) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(&value)
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|error| bad(table, column, value, error))
}

/// An instant that may be absent (a step not reached yet).
pub(crate) fn instant_opt(
    table: &'static str,
    column: &'static str,
    value: Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    value.map(|value| instant(table, column, value)).transpose()
}
