//! 公示 (P7): what a public notice shows of a case — names and ID numbers masked (`张*`,
//! `500224********0011`), no health, income or bank data — for one case (`CaseNotice::of`, the
//! per-case printout) and for every case of a village at the notice step (`App::village_notice`,
//! 村级公示).

use super::replay;
use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::national_id::mask_name;
use domain::{Person, PlaceCode, PlaceLevel};
use std::collections::{BTreeMap, HashMap};
use store::cases::CaseEventRow;
use workflow::{Case, CaseKind, Notice, Step, TrackingNumber};

/// One member line of a notice: masked name, relation, masked ID number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeMember {
    pub name: String,
    pub relation: &'static str,
    pub id_masked: String,
}

impl NoticeMember {
    fn of(person: &Person) -> NoticeMember {
        NoticeMember {
            name: mask_name(&person.name),
            relation: person.relation.label(),
            id_masked: person.id_number.masked(),
        }
    }
}

/// One category the joint review proposes (拟认定事项): its label, with the monitoring kind,
/// and its change (纳入, 退出, 继续).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeCategory {
    pub label: String,
    pub change: &'static str,
}

/// What the public notice shows of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseNotice {
    pub case_id: i64,
    pub tracking_number: TrackingNumber,
    pub kind: CaseKind,
    /// The household head as surveyed, masked.
    pub head: NoticeMember,
    /// Every member as surveyed, masked (the family size is their number).
    pub members: Vec<NoticeMember>,
    pub categories: Vec<NoticeCategory>,
    /// The notice as posted; `None` until the town posts it.
    pub posted: Option<Notice>,
}

impl CaseNotice {
    /// The notice of `case` once it has a survey and the joint review's decisions; `None`
    /// before (nothing to notice yet).
    pub fn of(case_id: i64, case: &Case) -> Option<CaseNotice> {
        if case.decided().is_empty() {
            return None;
        }
        let household = &case.survey()?.household;
        let head = household.head().or(household.members.first())?;
        Some(CaseNotice {
            case_id,
            tracking_number: case.tracking_number().clone(),
            kind: case.kind(),
            head: NoticeMember::of(head),
            members: household.members.iter().map(NoticeMember::of).collect(),
            categories: case
                .decided()
                .iter()
                .map(|decided| NoticeCategory {
                    label: match decided.monitoring_kind {
                        Some(kind) => format!("{}（{}）", decided.category.label(), kind.label()),
                        None => decided.category.label().to_owned(),
                    },
                    change: decided.change.label(),
                })
                .collect(),
            posted: case.notice().copied(),
        })
    }
}

/// 村级公示: one village's cases at the notice step, by tracking number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VillageNotice {
    pub village: PlaceCode,
    /// From the district down: `铜梁区 巴川街道 永院村`.
    pub place_name: String,
    pub village_name: String,
    pub town_name: String,
    pub entries: Vec<CaseNotice>,
    pub today: NaiveDate,
}

/// A village with cases at the notice step (the links of the 办件 page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeVillage {
    pub code: PlaceCode,
    pub name: String,
    pub cases: usize,
}

impl App {
    /// 村级公示 of `village` (a village or community code): every case under it at the notice
    /// step. A malformed code or one that is not a village is `Invalid`; a village outside the
    /// actor's area, or unknown, is `NotFound` (as a case outside it is).
    pub async fn village_notice(
        &self,
        actor: &Actor,
        village: &str,
    ) -> Result<VillageNotice, AppError> {
        let village = PlaceCode::parse(village).map_err(|_| {
            AppError::invalid("village", format!("村（社区）区划代码“{village}”无效"))
        })?;
        if village.level() != PlaceLevel::Village {
            return Err(AppError::invalid(
                "village",
                format!("“{village}”不是村（社区）的区划代码"),
            ));
        }
        if !actor.covers(&village) {
            return Err(AppError::NotFound);
        }
        let mut conn = self.store.read().await?;
        let place = store::places::get(&mut conn, &village)
            .await?
            .ok_or(AppError::NotFound)?;
        let town_name = match village.parent() {
            Some(town) => store::places::get(&mut conn, &town)
                .await?
                .map(|row| row.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let step = Step::Notice.code();
        let rows = store::cases::at_step_in_area(&mut conn, village.as_str(), step).await?;
        let events =
            store::cases::events_at_step_in_area(&mut conn, village.as_str(), step).await?;
        let mut histories: HashMap<i64, Vec<CaseEventRow>> = HashMap::new();
        for event in events {
            histories.entry(event.case_id).or_default().push(event);
        }
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let events = histories.remove(&row.id).unwrap_or_default();
            let case = replay(row.id, &events)?;
            let entry = CaseNotice::of(row.id, &case).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "case {} at notice without a survey or decisions",
                    row.id
                ))
            })?;
            entries.push(entry);
        }
        Ok(VillageNotice {
            place_name: store::places::full_name(&mut conn, &village).await?,
            village,
            village_name: place.name,
            town_name,
            entries,
            today: self.today(),
        })
    }

    /// The villages of the actor's area with cases at the notice step, by code; an actor of
    /// one village (村社协理员, 网格员) always gets their own village, even with none.
    pub async fn notice_villages(&self, actor: &Actor) -> Result<Vec<NoticeVillage>, AppError> {
        let scope = actor.scope();
        let mut conn = self.store.read().await?;
        let rows =
            store::cases::at_step_in_area(&mut conn, scope.as_str(), Step::Notice.code()).await?;
        let mut counts: BTreeMap<PlaceCode, usize> = BTreeMap::new();
        if scope.level() == PlaceLevel::Village {
            counts.insert(scope.clone(), 0);
        }
        for row in rows {
            let area = row.area_code.clone();
            if let Some(village) = area.at_level(PlaceLevel::Village) {
                *counts.entry(village).or_default() += 1;
            }
        }
        let mut villages = Vec::with_capacity(counts.len());
        for (code, cases) in counts {
            let name = store::places::get(&mut conn, &code)
                .await?
                .map_or_else(|| code.as_str().to_owned(), |row| row.name);
            villages.push(NoticeVillage { code, name, cases });
        }
        Ok(villages)
    }
}
