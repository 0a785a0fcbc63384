//! 定期核查 (W1) at district size: each enrolled household's next re-check is stored
//! (`store::rechecks`), written whenever its categories change — a case's confirmation or
//! a re-check's completion (`cases`), an exit, a roll import (`rolls`) — and recomputed by
//! `sync_recheck_schedule` when the catalogue's re-check cycles change. The due list reads
//! it in due order with an index, 50 a page, after a cursor.

use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::Household;
use policy::{Catalogue, Param};
use store::Conn;
use store::rechecks::ScheduleRow;
use workflow::{CheckKind, RecheckDue};

/// Lines of the due list per page.
pub const RECHECKS_PER_PAGE: usize = 50;

/// The `store::meta` key holding the re-check cycles the schedule was computed with.
const CYCLES_KEY: &str = "recheck_cycles";

/// One page of the due list and the cursor of the next (`after=`), if there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecheckPage {
    pub items: Vec<RecheckDue>,
    pub next_after: Option<String>,
}

/// The cursor after a line: its due date and the household's row id (`2026-07-01.123`).
fn cursor(due_on: NaiveDate, household_id: i64) -> String {
    format!("{due_on}.{household_id}")
}

fn parse_cursor(text: &str) -> Result<(NaiveDate, i64), AppError> {
    let bad = || AppError::invalid("after", format!("翻页位置“{text}”无效"));
    let (due, id) = text.split_once('.').ok_or_else(bad)?;
    let due: NaiveDate = due.parse().map_err(|_| bad())?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    Ok((due, id))
}

/// The schedule of one household last checked on `last_check` (RULES.md rule 10 with the
/// cycles in force on that day).
pub(crate) fn schedule_row(
    household_id: i64,
    household: &Household,
    catalogue: &Catalogue,
    last_check: NaiveDate,
    kind: CheckKind,
) -> ScheduleRow {
    schedule_row_in(
        household_id,
        household,
        &catalogue.snapshot(last_check),
        last_check,
        kind,
    )
}

/// `schedule_row` with the catalogue's snapshot on `last_check` already taken (a snapshot is
/// costly: a roll import takes one per date, not one per household).
pub(crate) fn schedule_row_in(
    household_id: i64,
    household: &Household,
    snapshot: &policy::Snapshot,
    last_check: NaiveDate,
    kind: CheckKind,
) -> ScheduleRow {
    let cycle = policy::recheck_cycle(household, snapshot, last_check);
    let due_on =
        workflow::schedule_recheck(last_check, cycle.regular_months, cycle.emergency, kind);
    ScheduleRow {
        household_id,
        area_code: household.area.clone(),
        last_check,
        last_check_kind: kind,
        due_on,
    }
}

/// The cycles a schedule depends on, as text: recomputation is due when it changes.
fn cycles_fingerprint(catalogue: &Catalogue) -> String {
    [Param::RecheckStableMonths, Param::RecheckUnstableMonths]
        .iter()
        .map(|param| format!("{}={:?}", param.name(), catalogue.parameter(*param).values))
        .collect::<Vec<_>>()
        .join(";")
}

impl App {
    /// 定期核查 (W1): one page of the households in the actor's area whose re-check falls due
    /// on or before `until`, earliest first, after the cursor `after` of the previous page.
    pub async fn recheck_due(
        &self,
        actor: &Actor,
        until: NaiveDate,
        after: Option<&str>,
    ) -> Result<RecheckPage, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let after = after
            .filter(|text| !text.is_empty())
            .map(parse_cursor)
            .transpose()?;
        let today = self.today();
        let mut conn = self.store.read().await?;
        let rows = store::rechecks::due_page(
            &mut conn,
            actor.scope().as_str(),
            &until.to_string(),
            after,
            RECHECKS_PER_PAGE as i64 + 1,
        )
        .await?;
        let more = rows.len() > RECHECKS_PER_PAGE;
        let mut items = Vec::with_capacity(RECHECKS_PER_PAGE);
        let mut last = None;
        for row in rows.into_iter().take(RECHECKS_PER_PAGE) {
            let due_on = row.due_on;
            let area = row.area_code.clone();
            last = Some(cursor(row.due_on, row.household_id));
            items.push(RecheckDue {
                household_no: row.external_id,
                area,
                due_on,
                overdue: due_on < today,
            });
        }
        Ok(RecheckPage {
            items,
            next_after: last.filter(|_| more),
        })
    }

    /// Brings one household's schedule up to date after its categories changed on
    /// `checked_on` (inside the caller's transaction): removed when it holds no category
    /// any more, else due by its cycle from this check.
    pub(crate) async fn reschedule_recheck(
        &self,
        conn: &mut Conn,
        household_id: i64,
        checked_on: NaiveDate,
        kind: CheckKind,
    ) -> Result<(), AppError> {
        let open = store::households::category_history(conn, household_id)
            .await?
            .iter()
            .any(|period| {
                period.start_date <= checked_on
                    && period.end_date.is_none_or(|end| end > checked_on)
            });
        if !open {
            store::rechecks::remove(conn, household_id).await?;
            return Ok(());
        }
        let Some(store::rolls::RecordRow { record, .. }) =
            store::rolls::records_of(conn, &[household_id])
                .await?
                .into_iter()
                .next()
        else {
            return Err(AppError::NotFound);
        };
        let household = crate::households::household_from_record(household_id, &record)?;
        let catalogue = self.catalogue()?;
        let row = schedule_row(household_id, &household, &catalogue, checked_on, kind);
        store::rechecks::upsert_many(conn, &[row]).await?;
        Ok(())
    }

    /// Recomputes every enrolled household's next re-check when the catalogue's re-check
    /// cycles differ from those the schedule was computed with (or it never was, as after
    /// migration 0013); each keeps its last check. Returns the households rescheduled.
    pub async fn sync_recheck_schedule(&self) -> Result<u64, AppError> {
        let catalogue = self.catalogue()?;
        let fingerprint = cycles_fingerprint(&catalogue);
        {
            let mut conn = self.store.read().await?;
            if store::meta_get(&mut conn, CYCLES_KEY).await?.as_deref() == Some(&fingerprint) {
                return Ok(0);
            }
        }
        self.reschedule_all(&catalogue, &fingerprint, None).await
    }

    async fn reschedule_all(
        &self,
        catalogue: &Catalogue,
        fingerprint: &str,
        demo_checks: Option<&(dyn Fn(i64, NaiveDate) -> NaiveDate + Sync)>,
    ) -> Result<u64, AppError> {
        let today = self.today();
        let day = today.to_string();
        let mut tx = self.store.begin().await?;
        store::rechecks::remove_unenrolled(&mut tx, &day).await?;
        let mut after_id = 0;
        let mut n = 0;
        loop {
            let rows = store::rechecks::enrolled_page(&mut tx, &day, after_id, 2000).await?;
            let Some(last) = rows.last() else { break };
            after_id = last.household_id;
            let mut schedule = Vec::with_capacity(rows.len());
            for row in &rows {
                let household =
                    crate::households::household_from_record(row.household_id, &row.record)?;
                let start = row.last_start;
                let (mut last_check, mut kind) = match (row.last_check, row.last_check_kind) {
                    (Some(check), Some(kind)) => (check, kind),
                    _ => (start, CheckKind::Entry),
                };
                if let Some(demo) = demo_checks {
                    last_check = demo(row.household_id, start).max(start);
                    kind = CheckKind::Recheck;
                }
                schedule.push(schedule_row(
                    row.household_id,
                    &household,
                    catalogue,
                    last_check,
                    kind,
                ));
            }
            store::rechecks::upsert_many(&mut tx, &schedule).await?;
            n += schedule.len() as u64;
        }
        store::meta_set(&mut tx, CYCLES_KEY, fingerprint).await?;
        store::commit(tx).await?;
        Ok(n)
    }

    /// `serve --demo`: the demo's enrolled households get re-checks done over the past year
    /// (spread by household), so that their next re-checks fall due over the year ahead and
    /// only a few are overdue, as in a district that keeps its schedule.
    pub async fn seed_demo_rechecks(&self) -> Result<u64, AppError> {
        if self.demo_state().await? == crate::imports::DemoState::RealData {
            return Err(AppError::Forbidden);
        }
        let catalogue = self.catalogue()?;
        let fingerprint = cycles_fingerprint(&catalogue);
        let today = self.today();
        let spread = move |household_id: i64, _start: NaiveDate| {
            let days_ago = household_id.rem_euclid(330) as u64 + 5;
            today
                .checked_sub_days(chrono::Days::new(days_ago))
                .unwrap_or(today)
        };
        self.reschedule_all(&catalogue, &fingerprint, Some(&spread))
            .await
    }
}
