//! 名册查询 (issue 13 item 5, D2): who was in category C on date D within an area, as
//! keyset pages of category periods — whichever wrote them (a confirmed case, a roll import,
//! the demo's enrolment).
//!
//! Every statement reads the index `category_periods_roster` (migration 0034): the periods of
//! C whose area code lies in the prefix's range, in (area code, period id) order, the dates
//! tested in the index itself. The count walks the same index range and no table row.

use crate::decode;
use crate::search::{Bind, Statement};
use crate::{Conn, Result, StoreError, area_range};
use chrono::NaiveDate;
use domain::{CareNeed, HouseholdNo, MonitoringKind, NationalId, PlaceCode, SupportMode};

/// Which periods: of `category`, open on `date` (`YYYY-MM-DD`: started on or before it and
/// not ended by it), under `area_prefix`, after the cursor `after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterFilter<'a> {
    pub category: &'a str,
    pub date: &'a str,
    pub area_prefix: &'a str,
    pub after: Option<&'a RosterCursor>,
    pub limit: i64,
}

/// Where a page ends: the last line's area code and period id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterCursor {
    pub area_code: PlaceCode,
    pub period_id: i64,
}

impl RosterCursor {
    /// The cursor as text for a link or the API (`after=`): `500151103201.17`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.area_code, self.period_id)
    }

    /// Reads `encode`'s text back; `None` when it is not a cursor.
    pub fn decode(text: &str) -> Option<RosterCursor> {
        let (area_code, id) = text.split_once('.')?;
        if area_code.trim() != area_code {
            return None;
        }
        Some(RosterCursor {
            area_code: PlaceCode::parse(area_code).ok()?,
            period_id: id.parse().ok()?,
        })
    }
}

/// One line of the roster: a category period and its household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterRow {
    pub period_id: i64,
    pub household_id: i64,
    /// 户编号
    pub external_id: HouseholdNo,
    pub head_name: String,
    pub area_code: PlaceCode,
    /// The village's (or the place's) name.
    pub place_name: String,
    pub n_members: i64,
    /// The person who holds the category alone (特困, 低保单人保); `None` for the household.
    pub id_number: Option<NationalId>,
    pub person_name: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub monthly_fen: Option<i64>,
    pub monitoring_kind: Option<MonitoringKind>,
    pub support_mode: Option<SupportMode>,
    pub care_level: Option<CareNeed>,
    pub reason: String,
}

/// A `category_periods` row as stored, before `decode`.
#[derive(sqlx::FromRow)]
pub(crate) struct RawRoster {
    pub(crate) period_id: i64,
    pub(crate) household_id: i64,
    pub(crate) external_id: String,
    pub(crate) head_name: String,
    pub(crate) area_code: String,
    pub(crate) place_name: String,
    pub(crate) n_members: i64,
    pub(crate) id_number: Option<String>,
    pub(crate) person_name: Option<String>,
    pub(crate) start_date: String,
    pub(crate) end_date: Option<String>,
    pub(crate) monthly_fen: Option<i64>,
    pub(crate) monitoring_kind: Option<String>,
    pub(crate) support_mode: Option<String>,
    pub(crate) care_level: Option<String>,
    pub(crate) reason: String,
}

impl TryFrom<RawRoster> for RosterRow {
    type Error = StoreError;

    fn try_from(raw: RawRoster) -> Result<Self> {
        const TABLE: &str = "category_periods";
        Ok(RosterRow {
            period_id: raw.period_id,
            household_id: raw.household_id,
            external_id: decode::household_no("households", "external_id", raw.external_id)?,
            head_name: raw.head_name,
            area_code: decode::place(TABLE, "area_code", raw.area_code)?,
            place_name: raw.place_name,
            n_members: raw.n_members,
            id_number: decode::national_id_opt(TABLE, "id_number", raw.id_number)?,
            person_name: raw.person_name,
            start_date: decode::date(TABLE, "start_date", raw.start_date)?,
            end_date: decode::date_opt(TABLE, "end_date", raw.end_date)?,
            monthly_fen: raw.monthly_fen,
            monitoring_kind: decode::code_opt(
                TABLE,
                "monitoring_kind",
                raw.monitoring_kind,
                MonitoringKind::from_code,
            )?,
            support_mode: decode::code_opt(
                TABLE,
                "support_mode",
                raw.support_mode,
                SupportMode::from_code,
            )?,
            care_level: decode::code_opt(TABLE, "care_level", raw.care_level, CareNeed::from_code)?,
            reason: raw.reason,
        })
    }
}

/// The conditions of `filter` on the periods (table alias `c`), and their binds: the roster
/// index's range (category, then the area prefix's range of codes), the dates, the cursor.
fn conditions(filter: &RosterFilter<'_>) -> (String, Vec<Bind>) {
    let (low, high) = area_range(filter.area_prefix);
    let mut binds = vec![
        Bind::Text(filter.category.to_owned()),
        Bind::Text(low),
        Bind::Text(high),
        Bind::Text(filter.date.to_owned()),
    ];
    let mut keyset = String::new();
    if let Some(after) = filter.after {
        binds.push(Bind::Text(after.area_code.as_str().to_owned()));
        binds.push(Bind::Int(after.period_id));
        keyset = " AND c.area_code >= $5 AND (c.area_code > $5 OR c.id > $6)".to_owned();
    }
    (
        format!(
            "c.category = $1 AND c.area_code >= $2 AND c.area_code < $3 \
             AND c.start_date <= $4 AND (c.end_date IS NULL OR c.end_date > $4){keyset}"
        ),
        binds,
    )
}

/// The statements of a roster page: its count (of the whole filter, the cursor aside) and its
/// page (`limit + 1` lines, to tell whether another follows).
pub fn roster_statements(filter: &RosterFilter<'_>) -> [Statement; 2] {
    let (count_where, count_binds) = conditions(&RosterFilter {
        after: None,
        ..filter.clone()
    });
    let count = Statement::new(
        format!("SELECT COUNT(*) FROM category_periods c WHERE {count_where}"),
        count_binds,
    );
    let (page_where, mut binds) = conditions(filter);
    binds.push(Bind::Int(filter.limit + 1));
    let page = Statement::new(
        format!(
            "SELECT c.id AS period_id, c.household_id, h.external_id, h.head_name, c.area_code, \
             COALESCE(pl.name, c.area_code) AS place_name, h.n_members, c.id_number, p.name AS person_name, \
             c.start_date, c.end_date, c.monthly_fen, c.monitoring_kind, c.support_mode, c.care_level, c.reason \
             FROM category_periods c JOIN households h ON h.id = c.household_id \
             LEFT JOIN places pl ON pl.code = c.area_code LEFT JOIN persons p ON p.id_number = c.id_number \
             WHERE {page_where} ORDER BY c.area_code, c.id LIMIT ${limit}",
            limit = binds.len()
        ),
        binds,
    );
    [count, page]
}

/// One page of the roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterPage {
    pub rows: Vec<RosterRow>,
    /// Lines of the whole filter; counted only for a first page (`after` empty).
    pub total: Option<i64>,
    pub next: Option<RosterCursor>,
}

/// One page of the periods of `filter`, in (area code, id) order.
pub async fn roster_page(conn: &mut Conn, filter: &RosterFilter<'_>) -> Result<RosterPage> {
    let [count, page] = roster_statements(filter);
    let total = match filter.after {
        Some(_) => None,
        None => Some(
            count
                .fetch::<(i64,)>(conn)
                .await?
                .first()
                .map_or(0, |(n,)| *n),
        ),
    };
    let mut rows: Vec<RosterRow> = decode::all(page.fetch::<RawRoster>(conn).await?)?;
    let more = rows.len() as i64 > filter.limit;
    rows.truncate(filter.limit.max(0) as usize);
    Ok(RosterPage {
        next: rows.last().filter(|_| more).map(|last| RosterCursor {
            area_code: last.area_code.clone(),
            period_id: last.period_id,
        }),
        rows,
        total,
    })
}
