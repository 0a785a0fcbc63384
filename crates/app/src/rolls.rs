//! 一门入库 (issue 12 item 4): a district's existing rolls brought into the registry.
//!
//! Dry run first: `plan_roll` reads the roll (`watch::read_roll`), loads what the registry
//! says about the persons it names, and returns the report (`watch::roll::plan`) without
//! writing. `import_roll` plans again inside one transaction and writes the dated category
//! periods (the roll's 文号 as their reason), each household's re-check schedule, and one
//! audit event; a roll already imported plans nothing and writes nothing. The page stages an
//! upload (`stage_roll`) and accepts it by its plan token, the file's SHA-256 (`accept_roll`).
//!
//! Who: district civil affairs for the assistance rolls, district agriculture for the
//! 防止返贫监测 roll (`Category::confirmed_by_agriculture`), at district level; rows of
//! households outside the actor's area are unmatched.

use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::{Category, Period, PlaceCode, PlaceLevel, Role};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use store::Conn;
use store::audit::AuditEvent;
use watch::roll::{Facts, Holding, Roll};
use watch::{FeedFormat, IdKey};
use workflow::CheckKind;

pub use watch::roll::{BadRow, Plan, RowNote, parse_category};

/// A roll as the user hands it in.
#[derive(Clone, Debug)]
pub struct RollUpload<'a> {
    pub category: Category,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// The dry-run report, or what an import wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollReport {
    /// 计划凭据: the SHA-256 of the file; accepting on the page names it.
    pub token: String,
    pub file_name: String,
    pub plan: Plan,
    /// Households whose periods are (or were) written.
    pub n_households: usize,
    /// True once written (an accepted import); false for a dry run.
    pub written: bool,
}

impl RollReport {
    /// Nothing in the roll is left to write (re-importing it is a no-op).
    pub fn nothing_to_write(&self) -> bool {
        self.plan.writes.is_empty()
    }
}

/// Whether `actor` may bring in a roll of `category`.
pub fn may_import_roll(actor: &Actor, category: Category) -> bool {
    let role = if category.confirmed_by_agriculture() {
        Role::DistrictAgriculture
    } else {
        Role::DistrictCivilAffairs
    };
    actor.role == role && actor.area.level() == PlaceLevel::District
}

fn format_of(file_name: &str, bytes: &[u8]) -> FeedFormat {
    file_name
        .rsplit_once('.')
        .and_then(|(_, extension)| FeedFormat::from_extension(extension))
        .unwrap_or(if bytes.starts_with(b"PK") {
            FeedFormat::Xlsx
        } else {
            FeedFormat::Csv
        })
}

fn token_of(category: Category, bytes: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(category.code().as_bytes());
    hash.update(b"\n");
    hash.update(bytes);
    hex::encode(hash.finalize())
}

fn id_text(id: &IdKey) -> &str {
    std::str::from_utf8(id).unwrap_or_default()
}

fn read(upload: &RollUpload<'_>, today: NaiveDate) -> Result<Roll, AppError> {
    let format = format_of(upload.file_name, upload.bytes);
    watch::roll::read_roll(upload.bytes, format, upload.category, today)
        .map_err(|error| AppError::invalid("file", error.to_string()))
}

/// What the registry says about the persons `roll` names, limited to the actor's area, and
/// the area of each household.
async fn facts_of(
    conn: &mut Conn,
    actor: &Actor,
    roll: &Roll,
) -> Result<(Facts, HashMap<i64, PlaceCode>), AppError> {
    let mut ids: Vec<&str> = roll
        .rows
        .iter()
        .map(|row| id_text(&row.id_number))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let scope = actor.scope();
    let mut facts = Facts::default();
    let mut areas: HashMap<i64, PlaceCode> = HashMap::new();
    for member in store::rolls::members_of(conn, &ids).await? {
        if !member.area_code.as_str().starts_with(scope.as_str()) {
            continue;
        }
        // A `NationalId` is the 18 characters of an `IdKey` (check character upper case).
        if let Ok(key) = IdKey::try_from(member.id_number.as_str().as_bytes()) {
            facts.household_of.insert(key, member.household_id);
            areas.insert(member.household_id, member.area_code);
        }
    }
    let mut households: Vec<i64> = areas.keys().copied().collect();
    households.sort_unstable();
    for period in store::rolls::periods_of(conn, &households).await? {
        let (category, start, end) = (period.category, period.start_date, period.end_date);
        facts
            .holdings
            .entry(period.household_id)
            .or_default()
            .push(Holding {
                category,
                id_number: period.id_number.as_ref().map(watch::feed::key_of),
                monitoring_kind: period.monitoring_kind,
                period: Period { start, end },
            });
    }
    Ok((facts, areas))
}

impl App {
    fn check_roll_actor(&self, actor: &Actor, category: Category) -> Result<(), AppError> {
        if may_import_roll(actor, category) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// 一门入库, dry run: the report of what importing `upload` would write; writes nothing.
    pub async fn plan_roll(
        &self,
        actor: &Actor,
        upload: &RollUpload<'_>,
    ) -> Result<RollReport, AppError> {
        self.check_roll_actor(actor, upload.category)?;
        let roll = read(upload, self.today())?;
        let mut conn = self.store.read().await?;
        let (facts, _) = facts_of(&mut conn, actor, &roll).await?;
        let plan = watch::roll::plan(&roll, &facts);
        Ok(RollReport {
            token: token_of(upload.category, upload.bytes),
            file_name: upload.file_name.to_owned(),
            n_households: plan.households().len(),
            plan,
            written: false,
        })
    }

    /// 一门入库, accepted: plans `upload` again and writes it in one transaction (periods,
    /// re-check schedules, one audit event). A roll with nothing to write changes nothing.
    pub async fn import_roll(
        &self,
        actor: &Actor,
        upload: &RollUpload<'_>,
    ) -> Result<RollReport, AppError> {
        self.check_roll_actor(actor, upload.category)?;
        let today = self.today();
        let roll = read(upload, today)?;
        let token = token_of(upload.category, upload.bytes);
        let mut tx = self.store.begin().await?;
        let (facts, areas) = facts_of(&mut tx, actor, &roll).await?;
        let plan = watch::roll::plan(&roll, &facts);
        let households = plan.households();
        if plan.writes.is_empty() {
            store::rollback(tx).await?;
            return Ok(RollReport {
                token,
                file_name: upload.file_name.to_owned(),
                n_households: 0,
                plan,
                written: false,
            });
        }
        let periods: Vec<store::rolls::RollPeriod<'_>> = plan
            .writes
            .iter()
            .map(|write| store::rolls::RollPeriod {
                household_id: write.household,
                area_code: areas.get(&write.household).map_or("", PlaceCode::as_str),
                id_number: write.id_number.as_ref().map(id_text),
                category: write.category.code(),
                monitoring_kind: write.monitoring_kind.map(|kind| kind.code()),
                start_date: write.start,
                monthly_fen: write.monthly_fen,
                reason: write.reason(),
                support_mode: write.support_mode.map(|mode| mode.code()),
                care_level: write.care_level.map(|care| care.code()),
            })
            .collect();
        store::rolls::insert_periods(&mut tx, &periods).await?;
        self.schedule_roll_rechecks(&mut tx, &plan, &households)
            .await?;
        let mut documents: Vec<&str> = plan.writes.iter().map(|w| w.document.as_str()).collect();
        documents.sort_unstable();
        documents.dedup();
        let now = self.now_text();
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::roll(
                now.clone(),
                actor.audit_name(),
                "roll.import",
                token.clone(),
            )
            .in_area(actor.scope().as_str())
            .after(
                serde_json::json!({
                    "category": upload.category.code(),
                    "file_name": upload.file_name,
                    "documents": documents,
                    "rows": plan.n_rows,
                    "periods": plan.writes.len(),
                    "households": households.len(),
                    "unmatched": plan.unmatched.len(),
                    "already": plan.already.len(),
                    "conflicts": plan.conflicts.len(),
                    "bad": plan.bad.len(),
                })
                .to_string(),
            ),
        )
        .await?;
        if let Some(staged) = store::rolls::upload_by_hash(
            &mut tx,
            &token,
            upload.category.code(),
            &actor.audit_name(),
        )
        .await?
        {
            store::rolls::mark_accepted(&mut tx, staged.id, &now).await?;
        }
        store::commit(tx).await?;
        Ok(RollReport {
            token,
            file_name: upload.file_name.to_owned(),
            n_households: households.len(),
            plan,
            written: true,
        })
    }

    /// Each written household's re-check falls due by its cycle from the roll's date (the
    /// latest start written), unless it was checked later than that.
    async fn schedule_roll_rechecks(
        &self,
        conn: &mut Conn,
        plan: &Plan,
        households: &[i64],
    ) -> Result<(), AppError> {
        let mut checked: HashMap<i64, NaiveDate> = HashMap::with_capacity(households.len());
        for write in &plan.writes {
            let entry = checked.entry(write.household).or_insert(write.start);
            *entry = (*entry).max(write.start);
        }
        let catalogue = self.catalogue()?;
        let mut schedule = Vec::with_capacity(households.len());
        // The catalogue as of each roll date (a roll has few).
        let mut snapshots: HashMap<NaiveDate, policy::Snapshot> = HashMap::new();
        store::rolls::for_each_record(
            conn,
            households,
            |row: store::rolls::RecordRow| -> Result<(), AppError> {
                let household_id = row.household_id;
                let record = row.record;
                let Some(&roll_date) = checked.get(&household_id) else {
                    return Ok(());
                };
                let later = row.last_check.is_some_and(|last| last >= roll_date);
                if !later {
                    let household =
                        crate::households::household_from_record(household_id, &record)?;
                    let snapshot = snapshots
                        .entry(roll_date)
                        .or_insert_with(|| catalogue.snapshot(roll_date));
                    schedule.push(crate::rechecks::schedule_row_in(
                        household_id,
                        &household,
                        snapshot,
                        roll_date,
                        CheckKind::Roll,
                    ));
                }
                Ok(())
            },
        )
        .await?;
        store::rechecks::upsert_many(conn, &schedule).await?;
        Ok(())
    }

    /// The page's dry run: keeps the upload until it is accepted and returns its report.
    pub async fn stage_roll(
        &self,
        actor: &Actor,
        upload: &RollUpload<'_>,
    ) -> Result<RollReport, AppError> {
        let report = self.plan_roll(actor, upload).await?;
        let mut tx = self.store.begin().await?;
        let staged = store::rolls::upload_by_hash(
            &mut tx,
            &report.token,
            upload.category.code(),
            &actor.audit_name(),
        )
        .await?;
        if staged.is_none_or(|row| row.accepted_at.is_some()) {
            // A roll is read as CSV unless it is XLSX (JSON Lines is refused before this).
            let format = match format_of(upload.file_name, upload.bytes) {
                FeedFormat::Xlsx => FeedFormat::Xlsx,
                _ => FeedFormat::Csv,
            }
            .code();
            let now = self.now_text();
            store::rolls::insert_upload(
                &mut tx,
                &store::rolls::NewRollUpload {
                    category: upload.category.code(),
                    file_name: upload.file_name,
                    format,
                    content_hash: &report.token,
                    content: upload.bytes,
                    uploaded_by: &actor.audit_name(),
                    uploaded_at: &now,
                },
            )
            .await?;
            store::audit::append_one(
                &mut tx,
                self.store.audit_key(),
                &AuditEvent::roll(now, actor.audit_name(), "roll.stage", report.token.clone())
                    .in_area(actor.scope().as_str())
                    .after(
                        serde_json::json!({
                            "category": upload.category.code(),
                            "file_name": upload.file_name,
                            "rows": report.plan.n_rows,
                        })
                        .to_string(),
                    ),
            )
            .await?;
        }
        store::commit(tx).await?;
        Ok(report)
    }

    /// The page's 确认导入: imports the upload this actor staged under `token`.
    pub async fn accept_roll(
        &self,
        actor: &Actor,
        category: Category,
        token: &str,
    ) -> Result<RollReport, AppError> {
        self.check_roll_actor(actor, category)?;
        let staged = {
            let mut conn = self.store.read().await?;
            store::rolls::upload_by_hash(&mut conn, token, category.code(), &actor.audit_name())
                .await?
                .ok_or(AppError::NotFound)?
        };
        self.import_roll(
            actor,
            &RollUpload {
                category,
                file_name: &staged.file_name,
                bytes: &staged.content,
            },
        )
        .await
    }
}
