//! 导入: household files (JSON Lines, `spec/HOUSEHOLD.md`) and the place list.
//!
//! Invariant: an import is one transaction. A file with any bad line imports nothing and reports
//! every bad line with its number; a file already imported (same content hash) changes nothing;
//! a household already stored with the same record is left as it is.
//!
//! Each household an import writes has its audit event. A new household's event names the
//! record rather than repeating it (the household row holds it): the record's SHA-256, the
//! file's SHA-256 and name, and its line (`import_after`); a changed household's event holds
//! the records before and after, as every other write's does.

use crate::households::household_event;
use crate::{App, AppError};
use domain::{Household, HouseholdNo, NationalId, Place};
use std::collections::HashMap;
use store::audit::{AuditEvent, Chain};
use store::bulk::HouseholdLoad;
use stream::ParsedLine;

mod stream;

pub use stream::OpenFile;

/// Households looked up and written per batch of an import (one transaction throughout; the
/// batch bounds memory and the statements' size, and paces the progress bar).
const IMPORT_BATCH: usize = 4000;

/// At most this many bad lines are reported; reading stops there.
const MAX_LINE_ERRORS: usize = 100;

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

/// A key for an ID number that is cheaper to keep than its text, for the 2 M persons of a
/// district: the first 17 digits (the 18th is their checksum).
fn person_key(id_number: &domain::NationalId) -> u64 {
    id_number.as_str().bytes().take(17).fold(0, |key, byte| {
        key * 10 + u64::from(byte.wrapping_sub(b'0') % 10)
    })
}

/// What an import has seen of the file so far: for each household id and each person, the
/// first line that holds it (a second one is refused).
#[derive(Default)]
struct SeenInFile {
    households: HashMap<HouseholdNo, usize>,
    persons: HashMap<u64, usize>,
}

impl SeenInFile {
    /// 不重不漏 inside the file: a household id once, a person in one household.
    fn check(&mut self, line: usize, household: &Household, errors: &mut Vec<LineError>) {
        if let Some(first) = self.households.insert(household.id.clone(), line) {
            errors.push(LineError {
                line,
                message: format!("户编号{}与第{first}行重复", household.id),
            });
        }
        for person in &household.members {
            if let Some(first) = self.persons.insert(person_key(&person.id_number), line)
                && first != line
            {
                errors.push(LineError {
                    line,
                    message: format!(
                        "身份证号{}已出现在第{first}行的家庭中",
                        person.id_number.masked()
                    ),
                });
            }
        }
    }
}

/// The `after` of a new household's import event: its record's SHA-256, the file it came from
/// (SHA-256 and name, as `imports` records them) and its line there.
fn import_after(record_sha256: &str, file: &FileRef, line: usize) -> String {
    serde_json::json!({
        "record_sha256": record_sha256,
        "file_sha256": file.content_hash,
        "file": file.name,
        "line": line,
    })
    .to_string()
}

/// The file an import reads, as its audit events name it.
struct FileRef {
    content_hash: String,
    name: String,
}

/// One import in progress: the transaction, the bulk writer and what has been decided so far.
struct Import {
    file: FileRef,
    tx: store::Tx,
    load: HouseholdLoad,
    chain: Chain,
    actor: String,
    now: String,
    today: String,
    report: ImportReport,
    errors: Vec<LineError>,
    /// Members who left a stored household that this import updated, with that household:
    /// they still count as its members for the rest of the file, as they did before it.
    leavers: HashMap<NationalId, HouseholdNo>,
    done: u64,
}

/// A batch of an import file: each household with its line, its record as stored and the
/// record's SHA-256.
type Batch = Vec<(usize, Household, String, String)>;

/// A batch as the bulk writer takes it.
fn bulk_rows(batch: &Batch) -> Vec<store::bulk::BatchHousehold<'_>> {
    batch
        .iter()
        .map(|(_, household, json, _)| (household, json.as_str()))
        .collect()
}

impl Import {
    /// Hands the next batch to the bulk writer ahead of `batch` (see `HouseholdLoad::stage`).
    async fn stage(&mut self, batch: &Batch) -> Result<(), ImportError> {
        self.load.stage(&bulk_rows(batch)).await?;
        Ok(())
    }

    /// Checks a batch against the store (不重不漏 across households) and, while the file has
    /// no bad line, writes it: new households in bulk, changed ones one by one.
    async fn batch(&mut self, batch: &Batch) -> Result<(), ImportError> {
        let rows = bulk_rows(batch);
        let lookup = self.load.lookup(&mut self.tx, &rows).await?;
        let stored: HashMap<&str, &store::households::HouseholdRow> = lookup
            .stored
            .iter()
            .map(|row| (row.external_id.as_str(), row))
            .collect();
        let member_of: HashMap<&str, &str> = lookup
            .open_memberships
            .iter()
            .map(|(id_number, _, external_id)| (id_number.as_str(), external_id.as_str()))
            .collect();
        let mut changed = Vec::new();
        let mut new_events = Vec::new();
        for (line, household, json, digest) in batch {
            // 不重不漏: a person belongs to one household at a time.
            for (idx, person) in household.members.iter().enumerate() {
                let other = member_of
                    .get(person.id_number.as_str())
                    .copied()
                    .or_else(|| self.leavers.get(&person.id_number).map(HouseholdNo::as_str));
                if let Some(other) = other
                    && household.id != other
                {
                    self.errors.push(LineError {
                        line: *line,
                        message: format!("members[{idx}].id_number: 该成员已是户{other}的成员，同一人不能同时在两户"),
                    });
                }
            }
            match stored.get(household.id.as_str()) {
                None => new_events.push(household_event(
                    self.actor.clone(),
                    &self.now,
                    "household.import",
                    household,
                    None,
                    Some(import_after(digest, &self.file, *line)),
                )),
                Some(row) if row.record == *json => self.report.unchanged += 1,
                Some(row) => changed.push((household, *row, json)),
            }
        }
        if !self.errors.is_empty() {
            return Ok(());
        }
        self.report.created += self
            .load
            .insert_new(&mut self.tx, &rows, &self.today, &self.now)
            .await?;
        self.load
            .append_audit(&mut self.tx, &mut self.chain, &new_events)
            .await?;
        for (household, row, json) in changed {
            let leavers = store::households::update(
                &mut self.tx,
                row.id,
                row.version,
                household,
                json,
                &self.today,
                &self.now,
            )
            .await?;
            self.leavers.extend(
                leavers
                    .into_iter()
                    .map(|id_number| (id_number, household.id.clone())),
            );
            let event = household_event(
                self.actor.clone(),
                &self.now,
                "household.import",
                household,
                Some(row.record.clone()),
                Some(json.clone()),
            );
            self.chain.append(&mut self.tx, &event).await?;
            self.report.updated += 1;
        }
        self.done += batch.len() as u64;
        Ok(())
    }
}

impl App {
    /// `import_household_file` of a file held in memory (tests, the demo).
    pub async fn import_households(
        &self,
        operator: &str,
        file_name: &str,
        content: &str,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport, ImportError> {
        let bytes: std::sync::Arc<[u8]> = content.as_bytes().into();
        let open: OpenFile = Box::new(move || {
            Ok(Box::new(std::io::Cursor::new(bytes.clone())) as Box<dyn std::io::Read + Send>)
        });
        self.import_household_file(operator, file_name, open, &|done, _| progress(done))
            .await
    }

    /// `safetynet import households FILE` (D1): all or nothing, idempotent, audited per
    /// household. The file is read as a stream twice — once for its fingerprint (a file
    /// imported before changes nothing), once to load it in batches — so memory does not grow
    /// with it. Any bad line (every one reported with its number, up to 100) leaves the store
    /// as it was, and so does a crash: it is one transaction. `progress` is called with the
    /// households read so far and the file's number of lines.
    pub async fn import_household_file(
        &self,
        operator: &str,
        file_name: &str,
        open: OpenFile,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<ImportReport, ImportError> {
        let outcome = self
            .load_household_file(operator, file_name, open, progress)
            .await;
        store::bulk::settle(&self.store).await?;
        outcome
    }

    async fn load_household_file(
        &self,
        operator: &str,
        file_name: &str,
        open: OpenFile,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<ImportReport, ImportError> {
        let (open, fingerprint) = tokio::task::spawn_blocking(move || {
            let fingerprint = stream::fingerprint(&open);
            (open, fingerprint)
        })
        .await
        .map_err(|error| AppError::Internal(error.into()))?;
        let (content_hash, n_lines) = fingerprint.map_err(|error| {
            AppError::Internal(anyhow::Error::new(error).context("read the file"))
        })?;
        progress(0, n_lines);
        let mut tx = store::bulk::begin(&self.store, n_lines).await?;
        if store::imports::seen(&mut tx, &content_hash).await? {
            store::commit(tx).await?;
            return Ok(ImportReport {
                already_imported: true,
                ..ImportReport::default()
            });
        }
        let chain = Chain::lock(&mut tx, self.store.audit_key()).await?;
        let place_codes = store::places::all_codes(&mut tx).await?;
        let load = HouseholdLoad::start(&self.store, &mut tx, n_lines).await?;
        let mut import = Import {
            file: FileRef {
                content_hash: content_hash.clone(),
                name: file_name.to_owned(),
            },
            tx,
            load,
            chain,
            actor: format!("console:{operator}"),
            now: self.now_text(),
            today: self.today().to_string(),
            report: ImportReport::default(),
            errors: Vec::new(),
            leavers: HashMap::new(),
            done: 0,
        };
        let n_workers = std::thread::available_parallelism().map_or(2, usize::from);
        let mut blocks = stream::ParsedBlocks::spawn(open, n_workers);
        let mut seen = SeenInFile::default();
        let mut batch: Batch = Vec::with_capacity(IMPORT_BATCH);
        // The batch staged and not yet written: each batch is staged one ahead of its writing.
        let mut pending: Option<Batch> = None;
        let mut n_households = 0_i64;
        'file: while let Some(block) = blocks.next().await {
            let block = block.map_err(|error| {
                AppError::Internal(anyhow::Error::new(error).context("read the file"))
            })?;
            for ParsedLine { line, outcome } in block {
                match outcome {
                    Err(message) => import.errors.push(LineError { line, message }),
                    Ok((household, json, digest)) => {
                        n_households += 1;
                        if let Err(error) =
                            domain::interchange::check_born_by(&household, self.today())
                        {
                            import.errors.push(LineError {
                                line,
                                message: error.to_string(),
                            });
                        }
                        seen.check(line, &household, &mut import.errors);
                        if place_codes.contains(household.area.as_str()) {
                            batch.push((line, household, json, digest));
                        } else {
                            import.errors.push(LineError {
                                line,
                                message: format!("area_code: 区划代码{}不存在", household.area),
                            });
                        }
                    }
                }
                if import.errors.len() >= MAX_LINE_ERRORS {
                    break 'file;
                }
                if batch.len() >= IMPORT_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH));
                    import.stage(&full).await?;
                    if let Some(previous) = pending.replace(full) {
                        import.batch(&previous).await?;
                        progress(import.done, n_lines);
                    }
                }
            }
        }
        drop(blocks);
        if import.errors.len() < MAX_LINE_ERRORS {
            if !batch.is_empty() {
                import.stage(&batch).await?;
            }
            for last in pending
                .iter()
                .chain(Some(&batch).filter(|batch| !batch.is_empty()))
            {
                import.batch(last).await?;
            }
        }
        let Import {
            mut tx,
            load,
            chain,
            actor,
            now,
            report,
            mut errors,
            ..
        } = import;
        if !errors.is_empty() {
            load.rollback(tx).await?;
            errors.sort_by_key(|error| error.line);
            errors.truncate(MAX_LINE_ERRORS);
            return Err(ImportError::BadLines(errors));
        }
        store::imports::record(
            &mut tx,
            &content_hash,
            file_name,
            n_households,
            &now,
            &actor,
        )
        .await?;
        chain.finish(&mut tx).await?;
        load.commit(tx).await?;
        progress(n_lines, n_lines);
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
            self.store.audit_key(),
            &AuditEvent::places(
                now,
                format!("console:{operator}"),
                "places.load",
                places
                    .first()
                    .map(|p| p.code.as_str().to_owned())
                    .unwrap_or_default(),
            )
            .before(format!("{{\"count\":{before}}}"))
            .after(format!("{{\"count\":{after}}}")),
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
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::meta(
                self.now_text(),
                "system:demo".to_owned(),
                "store.mark_demo",
                "demo".to_owned(),
            )
            .after("true".to_owned()),
        )
        .await?;
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
        let mut chain = Chain::lock(&mut tx, self.store.audit_key()).await?;
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
                    // A 特困 person's 照料护理等级 is their recorded care need.
                    let care_level = grant
                        .id_number
                        .as_ref()
                        .filter(|_| grant.category == domain::Category::Tekun)
                        .and_then(|id| household.members.iter().find(|p| &p.id_number == id))
                        .map(|person| person.care_need.code());
                    periods.push((
                        grant.category.code(),
                        grant.id_number.as_ref().map(|id| id.as_str().to_owned()),
                        None,
                        grant.monthly,
                        care_level,
                    ));
                }
                if let Some(kind) = determination.monitoring {
                    periods.push((
                        domain::Category::Monitoring.code(),
                        None,
                        Some(kind.code()),
                        None,
                        None,
                    ));
                }
                for (category, id_number, monitoring_kind, monthly, care_level) in &periods {
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
                            support_mode: None,
                            care_level: *care_level,
                        },
                    )
                    .await?;
                    n_periods += 1;
                }
                if !periods.is_empty() {
                    let after = serde_json::json!(periods
                        .iter()
                        .map(|(category, id_number, kind, _, _)| serde_json::json!({"category": category, "id_number": id_number, "monitoring_kind": kind, "start_date": start}))
                        .collect::<Vec<_>>());
                    chain
                        .append(
                            &mut tx,
                            &AuditEvent::household(
                                now.clone(),
                                "console:demo".to_owned(),
                                "category.open",
                                household.id.clone(),
                            )
                            .in_area(household.area.as_str())
                            .after(after.to_string()),
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
