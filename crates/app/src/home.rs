//! 我的工作 (issue 15, item 6): what a user finds on arrival — the cases waiting on them, their
//! village's or grid's cases in progress, the open warnings and the re-checks falling due in
//! their area, each with its count and due dates, first page only (each list is keyset-paged
//! or bounded on its own page).

use crate::cases::{WorkPage, WorkQuery};
use crate::rechecks::RecheckPage;
use crate::warnings::{WarningPage, WarningQuery};
use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::Role;

/// What the home page shows.
#[derive(Clone, Debug)]
pub struct Home {
    /// The name of the user's area (村、网格 or 镇街), never its code.
    pub area_name: String,
    /// 待我办理: cases on which the user's role acts next.
    pub queue: WorkPage,
    /// 本村（网格）在办: every case in progress in a village or grid (village roles only).
    pub area_cases: Option<WorkPage>,
    /// 预警: open warnings of the area, due first.
    pub warnings: WarningPage,
    /// 定期核查: re-checks due up to `recheck_until`.
    pub rechecks: Option<RecheckPage>,
    pub recheck_until: NaiveDate,
}

impl App {
    /// 我的工作 of `actor` on `today`; re-checks due up to `recheck_until`.
    pub async fn home(
        &self,
        actor: &Actor,
        today: NaiveDate,
        recheck_until: NaiveDate,
    ) -> Result<Home, AppError> {
        if matches!(actor.role, Role::Admin | Role::Department) {
            return Err(AppError::Forbidden);
        }
        let area_name = {
            // A grid is not in the place list: it is named by its village.
            let mut conn = self.store.read().await?;
            let mut place = Some(actor.area.clone());
            let mut name = None;
            while let Some(code) = place {
                if let Some(row) = store::places::get(&mut conn, &code).await? {
                    name = Some(if code == actor.area {
                        row.name
                    } else {
                        format!("{}网格", row.name)
                    });
                    break;
                }
                place = code.parent();
            }
            name.unwrap_or_else(|| actor.area.to_string())
        };
        // The home page lists what the user acts on (待我办理); the 跟踪 lines are on /cases.
        let acting = WorkQuery {
            acting_only: true,
            ..WorkQuery::default()
        };
        let queue = self.work_queue(actor, today, acting).await?;
        let area_cases = match actor.role {
            Role::VillageAssistant | Role::GridWorker => Some(self.area_queue(actor, today).await?),
            _ => None,
        };
        let warnings = self.warnings(actor, &WarningQuery::default()).await?;
        let rechecks = if actor.role.reads_households() {
            Some(self.recheck_due(actor, recheck_until, None).await?)
        } else {
            None
        };
        Ok(Home {
            area_name,
            queue,
            area_cases,
            warnings,
            rechecks,
            recheck_until,
        })
    }
}
