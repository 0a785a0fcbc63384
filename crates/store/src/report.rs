//! 报表 (R1): the joint report's figures, aggregated in SQL by village (the first 12 digits of a
//! household's place) so that a million households come back as a few thousand rows. The
//! place is read from the memberships and category periods themselves (they carry their
//! household's `area_code`, migration 0006), never from the wide household rows.
//!
//! Dates are `YYYY-MM-DD` text, compared as text. A membership or category period is open on
//! `day` when `start_date <= day` and it has no end or ends after `day` (periods are `[start, end)`).

use crate::{Conn, Result, StoreError, area_range, decode};
use chrono::NaiveDate;
use domain::states::{WarningAction, WarningKind};
use domain::{Category, PlaceCode};

/// Households and persons with an open membership on the day, by village.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceCountRow {
    pub place: PlaceCode,
    pub households: i64,
    pub persons: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawPlaceCount {
    place: String,
    households: i64,
    persons: i64,
}

impl TryFrom<RawPlaceCount> for PlaceCountRow {
    type Error = StoreError;

    fn try_from(raw: RawPlaceCount) -> Result<Self> {
        Ok(PlaceCountRow {
            place: village("memberships", raw.place)?,
            households: raw.households,
            persons: raw.persons,
        })
    }
}

/// A village: the first 12 digits of a row's `area_code`.
fn village(table: &'static str, code: String) -> Result<PlaceCode> {
    decode::place(table, "area_code", code)
}

/// A month (`YYYY-MM`, the first 7 characters of a date) as its first day.
fn month(table: &'static str, column: &'static str, key: String) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
        .map_err(|error| decode::bad(table, column, key, error))
}

pub async fn registry_by_village(
    conn: &mut Conn,
    area_prefix: &str,
    day: &str,
) -> Result<Vec<PlaceCountRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawPlaceCount, _>(sqlx::query_as(
        "SELECT substr(area_code, 1, 12) AS place, COUNT(*) AS households, CAST(SUM(n) AS BIGINT) AS persons \
         FROM ( \
             SELECT area_code, household_id, COUNT(*) AS n FROM memberships \
             WHERE area_code >= $2 AND area_code < $3 \
             AND start_date <= $1 AND (end_date IS NULL OR end_date > $1) \
             GROUP BY area_code, household_id \
         ) m GROUP BY substr(area_code, 1, 12) ORDER BY 1",
    )
    .bind(day)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// Households and persons of each category on the day, by village: a household-wide period
/// counts the household's members on the day, a person's period that person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryCountRow {
    pub place: PlaceCode,
    pub category: Category,
    pub households: i64,
    pub persons: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawCategoryCount {
    place: String,
    category: String,
    households: i64,
    persons: i64,
}

impl TryFrom<RawCategoryCount> for CategoryCountRow {
    type Error = StoreError;

    fn try_from(raw: RawCategoryCount) -> Result<Self> {
        Ok(CategoryCountRow {
            place: village("category_periods", raw.place)?,
            category: category(raw.category)?,
            households: raw.households,
            persons: raw.persons,
        })
    }
}

/// A category read from `category_periods`.
fn category(code: String) -> Result<Category> {
    decode::code("category_periods", "category", code, Category::from_code)
}

pub async fn categories_by_village(
    conn: &mut Conn,
    area_prefix: &str,
    day: &str,
) -> Result<Vec<CategoryCountRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawCategoryCount, _>(sqlx::query_as(
        "SELECT substr(c.area_code, 1, 12) AS place, c.category, COUNT(DISTINCT c.household_id) AS households, \
         CAST(SUM(CASE WHEN c.id_number IS NULL THEN ( \
             SELECT COUNT(*) FROM memberships m WHERE m.household_id = c.household_id \
             AND m.start_date <= $1 AND (m.end_date IS NULL OR m.end_date > $1)) ELSE 1 END) AS BIGINT) AS persons \
         FROM category_periods c \
         WHERE c.start_date <= $1 AND (c.end_date IS NULL OR c.end_date > $1) \
         AND c.area_code >= $2 AND c.area_code < $3 \
         GROUP BY substr(c.area_code, 1, 12), c.category ORDER BY 1, 2",
    )
    .bind(day)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// Households whose period of a category started (entries) or ended (exits) in a month, by
/// village, for days `from..=to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRow {
    /// The month, as its first day.
    pub month: NaiveDate,
    pub place: PlaceCode,
    pub category: Category,
    pub households: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawFlow {
    month: String,
    place: String,
    category: String,
    households: i64,
}

impl TryFrom<RawFlow> for FlowRow {
    type Error = StoreError;

    fn try_from(raw: RawFlow) -> Result<Self> {
        Ok(FlowRow {
            month: month("category_periods", "start_date, end_date", raw.month)?,
            place: village("category_periods", raw.place)?,
            category: category(raw.category)?,
            households: raw.households,
        })
    }
}

async fn flows(
    conn: &mut Conn,
    column: &str,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<FlowRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawFlow, _>(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT substr(c.{column}, 1, 7) AS month, substr(c.area_code, 1, 12) AS place, c.category, \
         COUNT(DISTINCT c.household_id) AS households \
         FROM category_periods c \
         WHERE c.{column} >= $1 AND c.{column} <= $2 AND c.area_code >= $3 AND c.area_code < $4 \
         GROUP BY substr(c.{column}, 1, 7), substr(c.area_code, 1, 12), c.category ORDER BY 1, 2, 3"
    )))
    .bind(from)
    .bind(to)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn entries_by_month(
    conn: &mut Conn,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<FlowRow>> {
    flows(conn, "start_date", area_prefix, from, to).await
}

pub async fn exits_by_month(
    conn: &mut Conn,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<FlowRow>> {
    flows(conn, "end_date", area_prefix, from, to).await
}

/// A month the benefit query counts: its key (`2026-07`), first and last day.
pub struct MonthSpan<'a> {
    pub key: &'a str,
    pub first: &'a str,
    pub last: &'a str,
}

/// The monthly amounts of the category periods running in each month (any day of it), by
/// village and category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenefitRow {
    /// The month, as its first day.
    pub month: NaiveDate,
    pub place: PlaceCode,
    pub category: Category,
    pub fen: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawBenefit {
    month: String,
    place: String,
    category: String,
    fen: i64,
}

impl TryFrom<RawBenefit> for BenefitRow {
    type Error = StoreError;

    fn try_from(raw: RawBenefit) -> Result<Self> {
        Ok(BenefitRow {
            month: month("category_periods", "start_date", raw.month)?,
            place: village("category_periods", raw.place)?,
            category: category(raw.category)?,
            fen: raw.fen,
        })
    }
}

pub async fn benefits_by_month(
    conn: &mut Conn,
    area_prefix: &str,
    months: &[MonthSpan<'_>],
) -> Result<Vec<BenefitRow>> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(Vec::new());
    };
    let (low, high) = area_range(area_prefix);
    // One scan of the periods that overlap the months (materialised, so it is not repeated per
    // month); then each is matched to its months.
    let values: Vec<String> = (0..months.len())
        .map(|i| format!("(${}, ${}, ${})", 5 + 3 * i, 6 + 3 * i, 7 + 3 * i))
        .collect();
    let sql = format!(
        "WITH months (mkey, mfirst, mlast) AS (VALUES {}), \
         p AS MATERIALIZED ( \
             SELECT substr(c.area_code, 1, 12) AS place, c.category, c.monthly_fen, c.start_date, c.end_date \
             FROM category_periods c \
             WHERE c.monthly_fen IS NOT NULL AND c.start_date <= $1 AND (c.end_date IS NULL OR c.end_date > $2) \
             AND c.area_code >= $3 AND c.area_code < $4) \
         SELECT months.mkey AS month, p.place, p.category, CAST(SUM(p.monthly_fen) AS BIGINT) AS fen \
         FROM p JOIN months ON p.start_date <= months.mlast AND (p.end_date IS NULL OR p.end_date > months.mfirst) \
         GROUP BY months.mkey, p.place, p.category ORDER BY 1, 2, 3",
        values.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(last.last)
        .bind(first.first)
        .bind(low)
        .bind(high);
    for month in months {
        query = query.bind(month.key).bind(month.first).bind(month.last);
    }
    decode::all::<RawBenefit, _>(query.fetch_all(&mut *conn).await?)
}

/// The cases under `area_prefix` that were in progress at some time in `from..=to`, with
/// their histories (events in order), for replaying each on the report's day.
pub async fn cases_in_period(
    conn: &mut Conn,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<(crate::cases::CaseRow, Vec<crate::cases::CaseEventRow>)>> {
    let (low, high) = area_range(area_prefix);
    let rows: Vec<crate::cases::RawCase> = sqlx::query_as(
        "SELECT id, tracking_number, kind, household_external_id, household_id, area_code, step, received_on, step_since, closed_on, updated_at, version, refusal_notice_on \
         FROM cases WHERE area_code >= $1 AND area_code < $2 AND received_on <= $3 AND (closed_on IS NULL OR closed_on >= $4) ORDER BY id",
    )
    .bind(&low)
    .bind(&high)
    .bind(to)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    let rows: Vec<crate::cases::CaseRow> = crate::decode::all(rows)?;
    let events: Vec<crate::cases::RawCaseEvent> = sqlx::query_as(
        "SELECT e.case_id, e.seq, e.on_date, e.actor_user_id, e.actor_role, e.actor_area, e.fact, e.recorded_at \
         FROM case_events e JOIN cases k ON k.id = e.case_id \
         WHERE k.area_code >= $1 AND k.area_code < $2 AND k.received_on <= $3 AND (k.closed_on IS NULL OR k.closed_on >= $4) \
         ORDER BY e.case_id, e.seq",
    )
    .bind(&low)
    .bind(&high)
    .bind(to)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    let events: Vec<crate::cases::CaseEventRow> = crate::decode::all(events)?;
    let mut grouped: Vec<(crate::cases::CaseRow, Vec<crate::cases::CaseEventRow>)> =
        rows.into_iter().map(|row| (row, Vec::new())).collect();
    let mut at = 0;
    for event in events {
        while at < grouped.len() && grouped[at].0.id < event.case_id {
            at += 1;
        }
        if let Some((row, list)) = grouped.get_mut(at)
            && row.id == event.case_id
        {
            list.push(event);
        }
    }
    Ok(grouped)
}

/// Warnings of one kind under one village raised and closed in `from..=to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarningCountRow {
    pub place: PlaceCode,
    pub kind: WarningKind,
    pub raised: i64,
    pub closed: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawWarningCount {
    place: String,
    kind: String,
    raised: i64,
    closed: i64,
}

impl TryFrom<RawWarningCount> for WarningCountRow {
    type Error = StoreError;

    fn try_from(raw: RawWarningCount) -> Result<Self> {
        Ok(WarningCountRow {
            place: village("warnings", raw.place)?,
            kind: decode::code("warnings", "kind", raw.kind, WarningKind::from_code)?,
            raised: raw.raised,
            closed: raw.closed,
        })
    }
}

pub async fn warnings_by_village(
    conn: &mut Conn,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<WarningCountRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawWarningCount, _>(sqlx::query_as(
        "SELECT substr(area_code, 1, 12) AS place, kind, \
         CAST(SUM(CASE WHEN created_on >= $1 THEN 1 ELSE 0 END) AS BIGINT) AS raised, \
         CAST(SUM(CASE WHEN closed_on >= $1 AND closed_on <= $2 THEN 1 ELSE 0 END) AS BIGINT) AS closed \
         FROM warnings WHERE area_code >= $3 AND area_code < $4 \
         AND created_on <= $2 AND (closed_on IS NULL OR closed_on >= $1) \
         GROUP BY substr(area_code, 1, 12), kind ORDER BY 1, 2",
    )
    .bind(from)
    .bind(to)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// A warning still open on a day, with the last step of its loop taken by then (none: it
/// waited to be assigned), from which its due date on that day follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenWarningRow {
    pub place: PlaceCode,
    pub kind: WarningKind,
    pub created_on: NaiveDate,
    /// The last step taken by the day, and its date.
    pub last: Option<(WarningAction, NaiveDate)>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawOpenWarning {
    place: String,
    kind: String,
    created_on: String,
    last_action: Option<String>,
    last_on: Option<String>,
}

impl TryFrom<RawOpenWarning> for OpenWarningRow {
    type Error = StoreError;

    fn try_from(raw: RawOpenWarning) -> Result<Self> {
        let action = decode::code_opt(
            "warning_events",
            "action",
            raw.last_action,
            WarningAction::from_code,
        )?;
        let on = decode::date_opt("warning_events", "on_date", raw.last_on)?;
        Ok(OpenWarningRow {
            place: village("warnings", raw.place)?,
            kind: decode::code("warnings", "kind", raw.kind, WarningKind::from_code)?,
            created_on: decode::date("warnings", "created_on", raw.created_on)?,
            last: action.zip(on),
        })
    }
}

pub async fn warnings_open_on(
    conn: &mut Conn,
    area_prefix: &str,
    day: &str,
) -> Result<Vec<OpenWarningRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawOpenWarning, _>(sqlx::query_as(
        "SELECT substr(w.area_code, 1, 12) AS place, w.kind, w.created_on, \
         e.action AS last_action, e.on_date AS last_on \
         FROM warnings w LEFT JOIN warning_events e ON e.warning_id = w.id AND e.seq = ( \
             SELECT MAX(x.seq) FROM warning_events x WHERE x.warning_id = w.id AND x.on_date <= $1) \
         WHERE w.area_code >= $2 AND w.area_code < $3 \
         AND w.created_on <= $1 AND (w.closed_on IS NULL OR w.closed_on > $1) ORDER BY w.id",
    )
    .bind(day)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// Referrals of one item under one village: made in `from..=to`, delivered (已落实) and
/// declined (已退回) in it with the amount delivered, and still in progress on `to`.
/// `item` is an item code of the assistance catalogue (its items are data, not a closed list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralCountRow {
    pub place: PlaceCode,
    pub item: domain::ItemCode,
    pub referred: i64,
    pub delivered: i64,
    pub declined: i64,
    pub pending: i64,
    pub fen: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawReferralCount {
    place: String,
    item: String,
    referred: i64,
    delivered: i64,
    declined: i64,
    pending: i64,
    fen: i64,
}

impl TryFrom<RawReferralCount> for ReferralCountRow {
    type Error = StoreError;

    fn try_from(raw: RawReferralCount) -> Result<Self> {
        Ok(ReferralCountRow {
            place: village("referrals", raw.place)?,
            item: decode::item_code("referrals", "item_code", raw.item)?,
            referred: raw.referred,
            delivered: raw.delivered,
            declined: raw.declined,
            pending: raw.pending,
            fen: raw.fen,
        })
    }
}

pub async fn referrals_by_village(
    conn: &mut Conn,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<ReferralCountRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawReferralCount, _>(sqlx::query_as(
        "SELECT substr(area_code, 1, 12) AS place, item_code AS item, \
         CAST(SUM(CASE WHEN created_on >= $1 THEN 1 ELSE 0 END) AS BIGINT) AS referred, \
         CAST(SUM(CASE WHEN delivered_on >= $1 AND delivered_on <= $2 THEN 1 ELSE 0 END) AS BIGINT) AS delivered, \
         CAST(SUM(CASE WHEN declined_on >= $1 AND declined_on <= $2 THEN 1 ELSE 0 END) AS BIGINT) AS declined, \
         CAST(SUM(CASE WHEN (delivered_on IS NULL OR delivered_on > $2) AND (declined_on IS NULL OR declined_on > $2) THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN delivered_on >= $1 AND delivered_on <= $2 THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS fen \
         FROM referrals WHERE area_code >= $3 AND area_code < $4 AND created_on <= $2 \
         AND (delivered_on IS NULL OR delivered_on >= $1) AND (declined_on IS NULL OR declined_on >= $1) \
         GROUP BY substr(area_code, 1, 12), item_code ORDER BY 1, 2",
    )
    .bind(from)
    .bind(to)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}

/// Amounts delivered by referral in each month of `from..=to`, by item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRow {
    /// The month, as its first day.
    pub month: NaiveDate,
    pub item: domain::ItemCode,
    pub fen: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RawPayment {
    month: String,
    item: String,
    fen: i64,
}

impl TryFrom<RawPayment> for PaymentRow {
    type Error = StoreError;

    fn try_from(raw: RawPayment) -> Result<Self> {
        Ok(PaymentRow {
            month: month("referrals", "delivered_on", raw.month)?,
            item: decode::item_code("referrals", "item_code", raw.item)?,
            fen: raw.fen,
        })
    }
}

pub async fn payments_by_month(
    conn: &mut Conn,
    area_prefix: &str,
    from: &str,
    to: &str,
) -> Result<Vec<PaymentRow>> {
    let (low, high) = area_range(area_prefix);
    decode::all::<RawPayment, _>(sqlx::query_as(
        "SELECT substr(delivered_on, 1, 7) AS month, item_code AS item, CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS fen \
         FROM referrals WHERE delivered_on >= $1 AND delivered_on <= $2 AND area_code >= $3 AND area_code < $4 \
         GROUP BY substr(delivered_on, 1, 7), item_code ORDER BY 1, 2",
    )
    .bind(from)
    .bind(to)
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await?)
}
