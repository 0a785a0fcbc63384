//! 导入: household files (JSON Lines, `spec/HOUSEHOLD.md`) and the place list.
//!
//! Invariant: an import is one transaction. A file with any bad line imports nothing and reports
//! every bad line with its number; a file already imported (same content hash) changes nothing;
//! a household already stored with the same record is left as it is.

use crate::households::household_event;
use crate::{App, AppError};
use domain::interchange::{HouseholdRecord, parse_household_line};
use domain::{Household, Place};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use store::audit::{AuditEvent, Chain};

/// Households written per step of an import (one transaction throughout; the step only
/// paces the progress bar and bounds the statements' size).
const IMPORT_CHUNK: usize = 2000;

/// A bad line of an import file: its 1-based number and the reason, in Chinese.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// True when this very file was imported before: nothing was read into the store.
    pub already_imported: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} bad lines", .0.len())]
    BadLines(Vec<LineError>),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<store::StoreError> for ImportError {
    fn from(error: store::StoreError) -> Self {
        ImportError::App(error.into())
    }
}

/// Parses every line first; returns the households or every bad line (at most `max_errors`).
pub fn parse_household_file(
    content: &str,
    max_errors: usize,
) -> Result<Vec<(usize, Household)>, Vec<LineError>> {
    let mut households = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let mut person_line: HashMap<String, usize> = HashMap::new();
    for (idx, line) in content.lines().enumerate() {
        let number = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        match parse_household_line(line) {
            Ok(household) => {
                if let Some(first) = first_line_of.insert(household.id.clone(), number) {
                    errors.push(LineError {
                        line: number,
                        message: format!("户编号{}与第{first}行重复", household.id),
                    });
                }
                for person in &household.members {
                    if let Some(first) =
                        person_line.insert(person.id_number.as_str().to_owned(), number)
                        && first != number
                    {
                        errors.push(LineError {
                            line: number,
                            message: format!(
                                "身份证号{}已出现在第{first}行的家庭中",
                                person.id_number.masked()
                            ),
                        });
                    }
                }
                households.push((number, household));
            }
            Err(message) => errors.push(LineError {
                line: number,
                message,
            }),
        }
        if errors.len() >= max_errors {
            break;
        }
    }
    if errors.is_empty() {
        Ok(households)
    } else {
        Err(errors)
    }
}

impl App {
    /// `safetynet import households FILE`: all or nothing, idempotent, audited per household.
    /// `progress` is called with the number of households written so far.
    pub async fn import_households(
        &self,
        operator: &str,
        file_name: &str,
        content: &str,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport, ImportError> {
        let content_hash = hex::encode(Sha256::digest(content.as_bytes()));
        let households = parse_household_file(content, 100).map_err(ImportError::BadLines)?;
        let actor = format!("console:{operator}");
        let now = self.now_text();
        let today = self.today().to_string();
        let mut report = ImportReport::default();
        let mut tx = self.store.begin().await?;
        if store::imports::seen(&mut tx, &content_hash).await? {
            store::commit(tx).await?;
            return Ok(ImportReport {
                already_imported: true,
                ..ImportReport::default()
            });
        }
        let mut chain = Chain::lock(&mut tx).await?;
        let mut errors = Vec::new();
        let place_codes = store::places::all_codes(&mut tx).await?;
        let external_ids: Vec<&str> = households
            .iter()
            .map(|(_, household)| household.id.as_str())
            .collect();
        let existing: HashMap<String, store::households::HouseholdRow> =
            store::households::by_external_ids(&mut tx, &external_ids)
                .await?
                .into_iter()
                .map(|row| (row.external_id.clone(), row))
                .collect();
        let id_numbers: Vec<&str> = households
            .iter()
            .flat_map(|(_, household)| {
                household
                    .members
                    .iter()
                    .map(|person| person.id_number.as_str())
            })
            .collect();
        let member_of: HashMap<String, String> =
            store::households::open_memberships_of(&mut tx, &id_numbers)
                .await?
                .into_iter()
                .map(|(id_number, _, external_id)| (id_number, external_id))
                .collect();
        let mut new = Vec::new();
        let mut changed = Vec::new();
        for (line, household) in &households {
            if !place_codes.contains(household.area.as_str()) {
                errors.push(LineError {
                    line: *line,
                    message: format!("area_code: 区划代码{}不存在", household.area),
                });
                continue;
            }
            // 不重不漏: a person belongs to one household at a time.
            for (idx, person) in household.members.iter().enumerate() {
                if let Some(other) = member_of.get(person.id_number.as_str())
                    && *other != household.id
                {
                    errors.push(LineError {
                        line: *line,
                        message: format!("members[{idx}].id_number: 该成员已是户{other}的成员，同一人不能同时在两户"),
                    });
                }
            }
            let json = serde_json::to_string(&HouseholdRecord::from(household))
                .map_err(|error| AppError::Internal(error.into()))?;
            match existing.get(&household.id) {
                None => new.push((household, json)),
                Some(row) if row.record == json => report.unchanged += 1,
                Some(row) => changed.push((household, row, json)),
            }
        }
        if !errors.is_empty() {
            store::rollback(tx).await?;
            return Err(ImportError::BadLines(errors));
        }
        let mut done = 0;
        for chunk in new.chunks(IMPORT_CHUNK) {
            let rows: Vec<(&Household, &str)> = chunk
                .iter()
                .map(|(household, json)| (*household, json.as_str()))
                .collect();
            store::households::insert_many(&mut tx, &rows, &today, &now).await?;
            let events: Vec<AuditEvent> = chunk
                .iter()
                .map(|(household, json)| {
                    household_event(
                        actor.clone(),
                        &now,
                        "household.import",
                        household,
                        None,
                        Some(json.clone()),
                    )
                })
                .collect();
            chain.append_many(&mut tx, &events).await?;
            report.created += chunk.len() as u64;
            done += chunk.len() as u64;
            progress(done);
        }
        for (household, row, json) in changed {
            store::households::update(&mut tx, row.id, row.version, household, &json, &today, &now)
                .await?;
            let event = household_event(
                actor.clone(),
                &now,
                "household.import",
                household,
                Some(row.record.clone()),
                Some(json),
            );
            chain.append(&mut tx, &event).await?;
            report.updated += 1;
            done += 1;
            progress(done);
        }
        store::imports::record(
            &mut tx,
            &content_hash,
            file_name,
            households.len() as i64,
            &now,
            &actor,
        )
        .await?;
        chain.finish(&mut tx).await?;
        store::commit(tx).await?;
        progress(households.len() as u64);
        Ok(report)
    }

    /// Loads (or refreshes) the jurisdiction tree from a parsed place list.
    pub async fn load_places(&self, operator: &str, places: &[Place]) -> Result<usize, AppError> {
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let before = store::places::count(&mut tx).await?;
        let n = store::places::upsert_all(&mut tx, places).await?;
        let after = store::places::count(&mut tx).await?;
        store::audit::append_one(
            &mut tx,
            &AuditEvent {
                at: now,
                actor: format!("console:{operator}"),
                action: "places.load".into(),
                entity: "places".into(),
                entity_id: places
                    .first()
                    .map(|p| p.code.as_str().to_owned())
                    .unwrap_or_default(),
                area_code: None,
                before: Some(format!("{{\"count\":{before}}}")),
                after: Some(format!("{{\"count\":{after}}}")),
            },
        )
        .await?;
        store::commit(tx).await?;
        Ok(n)
    }

    /// Whether the store holds only demo data (or nothing yet): `serve --demo` refuses otherwise.
    pub async fn demo_state(&self) -> Result<DemoState, AppError> {
        let mut conn = self.store.read().await?;
        if store::meta_get(&mut conn, "demo").await?.as_deref() == Some("true") {
            return Ok(DemoState::Demo);
        }
        let n_households = store::households::count(&mut conn).await?;
        let n_users = store::users::count(&mut conn).await?;
        Ok(if n_households == 0 && n_users == 0 {
            DemoState::Empty
        } else {
            DemoState::RealData
        })
    }

    /// Marks the store as a demo store (done once, when the demo data are created).
    pub async fn mark_demo(&self) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        store::meta_set(&mut tx, "demo", "true").await?;
        store::commit(tx).await?;
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoState {
    Empty,
    Demo,
    RealData,
}

impl App {
    /// Demo only: gives each household the categories the rules determine on `as_of`, as
    /// periods starting then — so the demo registry has category history to show. Refused on a
    /// store that is not a demo store (real enrolment goes through the case workflow).
    pub async fn seed_demo_categories(&self, as_of: chrono::NaiveDate) -> Result<u64, AppError> {
        if self.demo_state().await? == DemoState::RealData {
            return Err(AppError::Forbidden);
        }
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(as_of);
        let now = self.now_text();
        let start = as_of.to_string();
        let reason = format!("演示数据：按 {as_of} 规则引擎认定结果登记");
        let mut tx = self.store.begin().await?;
        let mut chain = Chain::lock(&mut tx).await?;
        let mut after_id = 0;
        let mut n_periods = 0;
        loop {
            let rows = store::households::records_page(&mut tx, "", after_id, 1000).await?;
            let Some(last) = rows.last() else { break };
            after_id = last.0;
            for (id, record) in &rows {
                let household = crate::households::household_from_record(*id, record)?;
                let determination = policy::determine_quiet(&household, &snapshot, as_of);
                // A determination with pending tests (待人工核定) says so in its periods' reason.
                let reason = if determination.pending.is_empty() {
                    reason.clone()
                } else {
                    let texts: Vec<&str> = determination
                        .pending
                        .iter()
                        .map(|pending| pending.text)
                        .collect();
                    format!("{reason}（待人工核定：{}）", texts.join("；"))
                };
                let mut periods = Vec::new();
                for grant in &determination.categories {
                    periods.push((
                        grant.category.code(),
                        grant.id_number.as_ref().map(|id| id.as_str().to_owned()),
                        None,
                        grant.monthly,
                    ));
                }
                if let Some(kind) = determination.monitoring {
                    periods.push((
                        domain::Category::Monitoring.code(),
                        None,
                        Some(kind.code()),
                        None,
                    ));
                }
                for (category, id_number, monitoring_kind, monthly) in &periods {
                    store::households::open_category(
                        &mut tx,
                        &store::households::NewCategoryPeriod {
                            household_id: *id,
                            id_number: id_number.as_deref(),
                            category,
                            monitoring_kind: *monitoring_kind,
                            start_date: &start,
                            monthly_fen: monthly.map(|yuan| yuan.fen()),
                            reason: &reason,
                        },
                    )
                    .await?;
                    n_periods += 1;
                }
                if !periods.is_empty() {
                    let after = serde_json::json!(periods
                        .iter()
                        .map(|(category, id_number, kind, _)| serde_json::json!({"category": category, "id_number": id_number, "monitoring_kind": kind, "start_date": start}))
                        .collect::<Vec<_>>());
                    chain
                        .append(
                            &mut tx,
                            &AuditEvent {
                                at: now.clone(),
                                actor: "console:demo".to_owned(),
                                action: "category.open".to_owned(),
                                entity: "household".to_owned(),
                                entity_id: household.id.clone(),
                                area_code: Some(household.area.as_str().to_owned()),
                                before: None,
                                after: Some(after.to_string()),
                            },
                        )
                        .await?;
                }
            }
        }
        chain.finish(&mut tx).await?;
        store::commit(tx).await?;
        Ok(n_periods)
    }
}
