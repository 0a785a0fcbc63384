//! 信息共享比对 use cases (issue 5: P3, W2): import a department feed, queue a comparison run
//! for it, and run queued comparisons as jobs that several workers share.
//!
//! A run compares the feed with every household of the registry (`watch::summarise` on the
//! run's date, the catalogue's thresholds as of that date). Each new fact becomes a 疑点 on the
//! household's open case when that case is at 信息比对 (through `act_on_case`), otherwise a
//! warning on the household, or on the person when they are outside the registry. Facts known
//! before (same dedupe key) change nothing.

use crate::actors::{COMPARISON_NAME, COMPARISON_USER_ID, comparison_actor};
use crate::calendar::working_days;
use crate::warnings::{RULE_DISCREPANCY_STATE, WarningState};
use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::{PlaceLevel, Role};
use policy::Param;
use store::audit::AuditEvent;
use store::watch::{
    FeedFact, FeedRow, JobCounts, JobRow, NewFeed, NewWarning, WarningEventRow, WarningRow,
    WarningUpdate,
};
use watch::{FeedIdentity, FeedKind, FeedRecord, IdKey, Registry, Rejection, Thresholds};
use workflow::warning::{Judgement, WarningAction};

/// A feed as a department hands it in.
#[derive(Clone, Debug)]
pub struct FeedUpload<'a> {
    /// 数据来源 (the department: 公安交管, 医保 …).
    pub source: &'a str,
    /// 数据期间 (`YYYY-MM`, `YYYY` …).
    pub period: &'a str,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// What an import answers: the feed's identity, its counts and rejected rows. A repeated feed
/// answers `repeated` with what was stored the first time, and changes nothing.
#[derive(Clone, Debug)]
pub struct FeedReceipt {
    pub feed_id: i64,
    pub identity: FeedIdentity,
    pub repeated: bool,
    pub rows_read: i64,
    pub rows_rejected: i64,
    pub rejections: Vec<(i64, String)>,
    /// The comparison run queued for a new feed.
    pub job_id: Option<i64>,
}

/// One feed row, owned.
#[derive(Clone, Debug)]
pub(crate) struct OwnedRecord {
    line: u64,
    id_number: IdKey,
    name: String,
    kind: FeedKind,
    value: Option<i64>,
    date: String,
    detail: String,
}

impl OwnedRecord {
    fn of(record: &FeedRecord<'_>) -> OwnedRecord {
        OwnedRecord {
            line: record.line,
            id_number: record.id_number,
            name: record.name.to_owned(),
            kind: record.kind,
            value: record.value,
            date: record.date.to_owned(),
            detail: record.detail.to_owned(),
        }
    }

    /// The row as kept for comparison at intake.
    fn fact(&self) -> Result<FeedFact, AppError> {
        // The key was checked by `watch::feed::parse_id`, as strictly as `NationalId::parse`.
        let id_number = std::str::from_utf8(&self.id_number)
            .ok()
            .and_then(|text| domain::NationalId::parse(text).ok())
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("feed line {}: an unread ID key", self.line))
            })?;
        // The date was checked by `watch::feed`'s reader, as strictly as `FeedDate::parse`.
        let on_date = (!self.date.is_empty())
            .then(|| domain::FeedDate::parse(&self.date))
            .transpose()
            .map_err(|error| {
                AppError::Internal(anyhow::anyhow!("feed line {}: {error}", self.line))
            })?;
        Ok(FeedFact {
            feed_id: 0,
            line: self.line as i64,
            id_number,
            name: self.name.clone(),
            kind: self.kind,
            value: self.value,
            on_date,
            detail: self.detail.clone(),
        })
    }

    /// A kept row read back (`None`: a row this version cannot read, which it never wrote).
    fn from_fact(fact: &FeedFact) -> Option<OwnedRecord> {
        Some(OwnedRecord {
            line: u64::try_from(fact.line).ok()?,
            id_number: fact.id_number.as_str().as_bytes().try_into().ok()?,
            name: fact.name.clone(),
            kind: fact.kind,
            value: fact.value,
            date: fact
                .on_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
            detail: fact.detail.clone(),
        })
    }

    fn record(&self) -> FeedRecord<'_> {
        FeedRecord {
            line: self.line,
            id_number: self.id_number,
            name: &self.name,
            kind: self.kind,
            value: self.value,
            date: &self.date,
            detail: &self.detail,
        }
    }
}

/// A feed read: its format, the readable rows and the rejected ones.
pub(crate) struct ParsedFeed {
    format: watch::FeedFormat,
    records: Vec<OwnedRecord>,
    rejections: Vec<Rejection>,
}

/// Reads a feed file (FEEDS.md) through `watch::read_feed`: CSV (UTF-8 or GB18030), JSON
/// Lines or XLSX, told by the file name's extension or, failing that, by the content (an XLSX
/// file is a zip archive; JSON Lines start with `{`). A file that cannot be read at all is
/// `Invalid`.
pub(crate) fn read_feed(bytes: &[u8], file_name: &str) -> Result<ParsedFeed, AppError> {
    let by_name = std::path::Path::new(file_name)
        .extension()
        .and_then(|extension| extension.to_str())
        .and_then(watch::FeedFormat::from_extension);
    let format = by_name.unwrap_or_else(|| {
        if bytes.starts_with(b"PK\x03\x04") {
            watch::FeedFormat::Xlsx
        } else if bytes.iter().find(|byte| {
            !byte.is_ascii_whitespace() && **byte != 0xEF && **byte != 0xBB && **byte != 0xBF
        }) == Some(&b'{')
        {
            watch::FeedFormat::JsonLines
        } else {
            watch::FeedFormat::Csv
        }
    });
    let mut records = Vec::new();
    let mut rejections = Vec::new();
    watch::read_feed(bytes, format, |row| match row {
        Ok(record) => records.push(OwnedRecord::of(record)),
        Err(rejection) => rejections.push(rejection),
    })
    .map_err(|error| AppError::invalid("file", error.to_string()))?;
    if records.is_empty() && rejections.is_empty() {
        return Err(AppError::invalid(
            "file",
            watch::FeedError::Empty.to_string(),
        ));
    }
    Ok(ParsedFeed {
        format,
        records,
        rejections,
    })
}

fn check_label(field: &str, label: &str, text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid(field, format!("请填写{label}")));
    }
    if text.chars().count() > 40 || text.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            format!("{label}“{text}”过长或含有控制字符（至多40个字）"),
        ));
    }
    Ok(text.to_owned())
}

/// The outcome of one worker step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    Done { job_id: i64, counts: JobCounts },
    Failed { job_id: i64, reason: String },
}

/// A feed with its runs, for the feeds page.
#[derive(Clone, Debug)]
pub struct FeedOverview {
    pub feed: FeedRow,
    pub jobs: Vec<JobRow>,
    pub rejections: Vec<(i64, String)>,
}

/// Rejected rows shown per feed on the feeds page.
const REJECTIONS_SHOWN: i64 = 200;
const FEEDS_SHOWN: i64 = 50;
const PAGE: i64 = 2000;
/// How long a claimed job may run before another worker takes it as abandoned (an operating
/// setting, not policy: far longer than a run over the whole registry takes).
const JOB_LEASE: chrono::Duration = chrono::Duration::hours(2);

/// Who may hand in a feed: department users and the district's departments (W2).
fn imports_feeds(role: Role) -> bool {
    matches!(
        role,
        Role::Department | Role::DistrictCivilAffairs | Role::DistrictAgriculture
    )
}

/// Who sees feeds and runs: the district level (departments, approvers, auditors).
fn reads_feeds(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::Department | Role::DistrictCivilAffairs | Role::DistrictAgriculture | Role::Auditor
    ) && actor.area.level() == PlaceLevel::District
}

impl App {
    /// 导入比对数据 (W2): stores a feed once per identity with its counts and rejected rows
    /// and queues a comparison run; a repeated feed answers what was stored and changes nothing.
    pub async fn import_feed(
        &self,
        actor: &Actor,
        upload: FeedUpload<'_>,
    ) -> Result<FeedReceipt, AppError> {
        if !imports_feeds(actor.role) || actor.area.level() != PlaceLevel::District {
            return Err(AppError::Forbidden);
        }
        let source = check_label("source", "数据来源", upload.source)?;
        let period = domain::StatPeriod::parse(upload.period)
            .map_err(|error| domain::InputError::new("period", "统计期", error.to_string()))?;
        let identity = FeedIdentity::of(&source, &period, upload.bytes);
        if let Some(receipt) = self.known_feed(&identity).await? {
            return Ok(receipt);
        }
        let parsed = read_feed(upload.bytes, upload.file_name)?;
        let rejections: Vec<(i64, String)> = parsed
            .rejections
            .iter()
            .map(|rejection| (rejection.line as i64, rejection.reason.clone()))
            .collect();
        let now = self.now_text();
        let today = self.today().to_string();
        let mut tx = self.store.begin().await?;
        let file_name = if upload.file_name.trim().is_empty() {
            format!("{source}-{period}.{}", parsed.format)
        } else {
            upload.file_name.trim().to_owned()
        };
        let inserted = store::watch::insert_feed(
            &mut tx,
            &NewFeed {
                source: &source,
                period: &period,
                content_hash: &identity.content_hash,
                file_name: &file_name,
                format: parsed.format.code(),
                content: upload.bytes,
                rows_read: parsed.records.len() as i64,
                rows_rejected: rejections.len() as i64,
                imported_by: &actor.display_name,
                imported_by_user_id: actor.user_id,
                imported_at: &now,
            },
            &rejections,
        )
        .await;
        let feed_id = match inserted {
            Ok(id) => id,
            Err(store::StoreError::Conflict(_)) => {
                // The same feed was imported at the same moment by someone else.
                store::rollback(tx).await?;
                return self
                    .known_feed(&identity)
                    .await?
                    .ok_or_else(|| AppError::Conflict("数据批次正在导入，请稍后再试".into()));
            }
            Err(other) => return Err(other.into()),
        };
        store::watch::insert_feed_facts(&mut tx, feed_id, &facts_of(&parsed.records)?).await?;
        let job_id = store::watch::enqueue_job(&mut tx, feed_id, &today, &now).await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::feed(now.clone(), actor.audit_name(), "feed.import", feed_id)
                .in_area(actor.area.as_str())
                .after(
                    serde_json::json!({
                        "source": source, "period": period.as_str(), "content_hash": identity.content_hash,
                        "file_name": file_name, "rows_read": parsed.records.len(),
                        "rows_rejected": rejections.len(), "job_id": job_id,
                    })
                    .to_string(),
                ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(FeedReceipt {
            feed_id,
            identity,
            repeated: false,
            rows_read: parsed.records.len() as i64,
            rows_rejected: rejections.len() as i64,
            rejections,
            job_id: Some(job_id),
        })
    }

    async fn known_feed(&self, identity: &FeedIdentity) -> Result<Option<FeedReceipt>, AppError> {
        let mut conn = self.store.read().await?;
        let Some(row) = store::watch::feed_by_identity(
            &mut conn,
            &identity.source,
            &identity.period,
            &identity.content_hash,
        )
        .await?
        else {
            return Ok(None);
        };
        let rejections = store::watch::feed_rejections(&mut conn, row.id, i64::MAX).await?;
        Ok(Some(FeedReceipt {
            feed_id: row.id,
            identity: identity.clone(),
            repeated: true,
            rows_read: row.rows_read,
            rows_rejected: row.rows_rejected,
            rejections,
            job_id: None,
        }))
    }

    /// 数据比对 page: the latest feeds with their runs and rejected rows (district level).
    pub async fn feed_overview(&self, actor: &Actor) -> Result<Vec<FeedOverview>, AppError> {
        if !reads_feeds(actor) {
            return Err(AppError::Forbidden);
        }
        let mut conn = self.store.read().await?;
        let feeds = store::watch::recent_feeds(&mut conn, FEEDS_SHOWN).await?;
        let jobs = store::watch::recent_jobs(&mut conn, FEEDS_SHOWN * 4).await?;
        let mut overview = Vec::with_capacity(feeds.len());
        for feed in feeds {
            let rejections =
                store::watch::feed_rejections(&mut conn, feed.id, REJECTIONS_SHOWN).await?;
            overview.push(FeedOverview {
                jobs: jobs
                    .iter()
                    .filter(|job| job.feed_id == feed.id)
                    .cloned()
                    .collect(),
                feed,
                rejections,
            });
        }
        Ok(overview)
    }

    /// `safetynet worker`: claims the oldest queued comparison job and runs it; `None` when no
    /// job is queued. A run that fails is marked `failed` with its reason and nothing it wrote
    /// remains. The actor is the console operator over the district.
    pub async fn run_next_job(
        &self,
        actor: &Actor,
        worker: &str,
    ) -> Result<Option<JobOutcome>, AppError> {
        if actor.role != Role::DistrictCivilAffairs || actor.area.level() != PlaceLevel::District {
            return Err(AppError::Forbidden);
        }
        let now = self.now_text();
        let stale_before = crate::timestamp(self.now() - JOB_LEASE);
        let mut tx = self.store.begin().await?;
        let claimed = store::watch::claim_job(&mut tx, worker, &now, &stale_before).await?;
        if let Some(job) = &claimed {
            // A claim is a state change (the job's worker and lease): audited like the others.
            store::audit::append_one(
                &mut tx,
                self.store.audit_key(),
                &job_event(
                    actor,
                    &now,
                    "comparison.claim",
                    job,
                    serde_json::json!({ "worker": worker }).to_string(),
                ),
            )
            .await?;
        }
        store::commit(tx).await?;
        let Some(job) = claimed else {
            return Ok(None);
        };
        match self.run_job(actor, &job).await {
            Ok(counts) => Ok(Some(JobOutcome::Done {
                job_id: job.id,
                counts,
            })),
            Err(error) => {
                let reason = match &error {
                    AppError::Internal(cause) => format!("{}（{cause:#}）", error.message()),
                    other => other.message(),
                };
                let now = self.now_text();
                let mut tx = self.store.begin().await?;
                store::watch::fail_job(&mut tx, job.id, &reason, &now).await?;
                store::audit::append_one(
                    &mut tx,
                    self.store.audit_key(),
                    &job_event(actor, &now, "comparison.fail", &job, reason.clone()),
                )
                .await?;
                store::commit(tx).await?;
                Ok(Some(JobOutcome::Failed {
                    job_id: job.id,
                    reason,
                }))
            }
        }
    }

    async fn run_job(&self, actor: &Actor, job: &JobRow) -> Result<JobCounts, AppError> {
        let as_of = job.as_of;
        let (feed, content) = {
            let mut conn = self.store.read().await?;
            let feed = store::watch::feed(&mut conn, job.feed_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let content = store::watch::feed_content(&mut conn, job.feed_id).await?;
            (feed, content)
        };
        let parsed = read_feed(&content, &feed.file_name)?;
        // Thresholds added on the 政策参数 page by another process apply to this run.
        self.refresh_policy().await?;
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(as_of);
        let thresholds = Thresholds::new(&snapshot);
        // The registry index over every household, and where each one is.
        let mut registry = Registry::default();
        let mut places: Vec<(i64, String, String)> = Vec::new();
        let mut after_id = 0;
        loop {
            let mut conn = self.store.read().await?;
            let rows = store::households::records_page(&mut conn, "", after_id, PAGE).await?;
            drop(conn);
            let Some(last) = rows.last() else { break };
            after_id = last.0;
            for (id, record) in &rows {
                let household = crate::households::household_from_record(*id, record)?;
                places.push((
                    *id,
                    household.id.as_str().to_owned(),
                    household.area.as_str().to_owned(),
                ));
                registry.add(watch::summarise(&household, &snapshot));
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        let mut findings = watch::Findings::default();
        for record in &parsed.records {
            watch::compare_record(&record.record(), 0, &registry, &thresholds, &mut findings);
        }
        let mut found = std::mem::take(&mut findings.warnings);
        found.extend(watch::extra_houses(
            &mut findings.houses,
            &registry,
            &thresholds,
        ));
        found.extend(watch::duplicate_warnings(&registry));
        watch::distinct(&mut found);

        let today = self.today();
        let recorded_at = self.now();
        let now = crate::timestamp(recorded_at);
        let calendar = self.calendar()?;
        let assign_days = working_days(&snapshot, Param::WarningAssignWorkingDays)?;
        let due_on = calendar.add_working_days(today, assign_days).to_string();
        let mut counts = JobCounts {
            households: registry.household_count() as i64,
            records: parsed.records.len() as i64,
            findings: found.len() as i64,
            ..JobCounts::default()
        };
        let mut new_ids = Vec::new();
        let mut tx = self.store.begin().await?;
        for warning in &found {
            let id_number = String::from_utf8_lossy(&warning.id_number).into_owned();
            let rule = warning.rule;
            let key = warning_key(warning);
            let record = parsed.records.iter().find(|record| {
                record.line == warning.line && record.id_number == warning.id_number
            });
            let household = warning
                .household
                .and_then(|index| places.get(index as usize));
            let person_name = match household {
                Some((row_id, _, _)) => registry_name(&mut tx, *row_id, &id_number).await?,
                None => None,
            }
            .or_else(|| record.map(|record| record.name.clone()))
            .unwrap_or_default();
            let param_json = warning
                .param
                .map(|param| thresholds.param_json(param).to_owned());
            let description = describe(warning, &feed, record, param_json.as_deref());
            let open_case = match household {
                Some((_, external_id, _)) => {
                    store::cases::open_for_household(&mut tx, external_id).await?
                }
                None => None,
            };
            let at_comparison = open_case
                .as_ref()
                .filter(|case| case.step == workflow::Step::Comparing);
            let area = household
                .map(|(_, _, area)| area.clone())
                .unwrap_or_else(|| actor.area.as_str().to_owned());
            let today_text = today.to_string();
            let (state, disposition, closed_on) = if at_comparison.is_some() {
                (
                    WarningState::Closed.code(),
                    Some(RULE_DISCREPANCY_STATE),
                    Some(today_text.as_str()),
                )
            } else {
                (WarningState::Open.code(), None, None)
            };
            let inserted = store::watch::insert_warning(
                &mut tx,
                &NewWarning {
                    dedupe_key: &key,
                    origin: "comparison",
                    rule: rule.code(),
                    kind: rule.kind().code(),
                    severity: rule.severity().code(),
                    id_number: Some(&id_number),
                    person_name: &person_name,
                    household_external_id: household
                        .map(|(_, external_id, _)| external_id.as_str()),
                    household_id: household.map(|(row_id, _, _)| *row_id),
                    inside_net: warning.inside_net,
                    area_code: &area,
                    feed_id: Some(feed.id),
                    job_id: Some(job.id),
                    line: (warning.line > 0).then_some(warning.line as i64),
                    description: &description,
                    param_json: param_json.as_deref(),
                    state,
                    disposition,
                    case_id: open_case.as_ref().map(|case| case.id),
                    created_on: &today_text,
                    due_on: if closed_on.is_some() {
                        &today_text
                    } else {
                        &due_on
                    },
                    closed_on,
                    now: &now,
                },
            )
            .await?;
            let Some(warning_id) = inserted else {
                continue;
            };
            new_ids.push(warning_id);
            // Its history starts with the run that raised it (and, for a 疑点 put on the case
            // at 信息比对, ends with that).
            let mut history = vec![(
                WarningAction::Raise,
                serde_json::json!({
                    "origin": format!(
                        "{}（{}）比对第{}号：{}",
                        feed.source,
                        feed.period,
                        job.id,
                        rule.label()
                    ),
                }),
            )];
            if let Some(case) = at_comparison {
                history.push(closed_into(case.id));
            }
            comparison_history(&mut tx, warning_id, today, recorded_at, &history).await?;
            if let Some(case) = at_comparison {
                // P3: the 疑点 goes on the case at 信息比对, by the same path as one entered by hand.
                let area = case.area_code.clone();
                let comparison = comparison_actor(&area);
                self.act_on_case_in(
                    &mut tx,
                    &comparison,
                    case.id,
                    crate::cases::CaseAction::Move(workflow::Action::RecordDiscrepancy(
                        workflow::Discrepancy {
                            source: format!("{}（{}）", feed.source, feed.period),
                            description: format!("{description}（预警{warning_id}）"),
                        },
                    )),
                    None,
                )
                .await?;
                counts.discrepancies += 1;
            } else {
                counts.new_warnings += 1;
            }
        }
        store::watch::finish_job(&mut tx, job.id, &counts, &now).await?;
        store::audit::append_one(&mut tx, self.store.audit_key(),
            &job_event(
                actor,
                &now,
                "comparison.run",
                job,
                serde_json::json!({
                    "feed_id": feed.id, "households": counts.households, "records": counts.records,
                    "findings": counts.findings, "new_warnings": counts.new_warnings,
                    "discrepancies": counts.discrepancies, "warning_ids": new_ids,
                    "skipped_rules": thresholds.skipped().iter().map(|(rule, param)| format!("{}:{}", rule.code(), param.name())).collect::<Vec<_>>(),
                })
                .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(counts)
    }
}

impl App {
    /// Keeps the rows of the feeds stored before migration 0035 as facts for comparison at
    /// intake (called at start-up); returns how many feeds it read.
    pub async fn sync_feed_facts(&self) -> Result<u64, AppError> {
        let feed_ids = {
            let mut conn = self.store.read().await?;
            store::watch::feeds_without_facts(&mut conn).await?
        };
        for &feed_id in &feed_ids {
            let (feed, content) = {
                let mut conn = self.store.read().await?;
                let feed = store::watch::feed(&mut conn, feed_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                (feed, store::watch::feed_content(&mut conn, feed_id).await?)
            };
            let parsed = read_feed(&content, &feed.file_name)?;
            let mut tx = self.store.begin().await?;
            store::watch::insert_feed_facts(&mut tx, feed_id, &facts_of(&parsed.records)?).await?;
            store::commit(tx).await?;
        }
        Ok(feed_ids.len() as u64)
    }

    /// 信息比对 at intake (P3): the 疑点 of what the system already knows about a case's
    /// household, for its 信息比对 step — every stored feed's facts about its members (the
    /// rules of a comparison run, on this household alone, with the thresholds of `today`) and
    /// the open warnings on the household or its members (and on an online applicant). Each new
    /// fact is kept as a warning closed into the case, as a run's finding on a case at 信息比对
    /// is; a fact whose warning was raised before is named by that warning while it is open,
    /// and not again once it was answered. The open warnings become the case's (closed as 疑点,
    /// linked to the case, audited), so that one check answers them once.
    pub(crate) async fn intake_discrepancies(
        &self,
        tx: &mut store::Conn,
        actor: &Actor,
        case_id: i64,
        household_external_id: &str,
        today: NaiveDate,
    ) -> Result<Vec<workflow::Discrepancy>, AppError> {
        let registered = store::households::by_external_id(&mut *tx, household_external_id).await?;
        let household = match &registered {
            Some(row) => Some(crate::households::household_from_record(
                row.id,
                &row.record,
            )?),
            None => None,
        };
        let mut id_numbers: Vec<String> = household
            .iter()
            .flat_map(|household| household.members.iter())
            .map(|person| person.id_number.as_str().to_owned())
            .collect();
        if let Some(online) = store::cases::online_application(&mut *tx, case_id).await?
            && !id_numbers
                .iter()
                .any(|id_number| online.id_number.as_str() == id_number)
        {
            id_numbers.push(online.id_number.as_str().to_owned());
        }
        let id_refs: Vec<&str> = id_numbers.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        if let Some(household) = &household {
            let facts = store::watch::facts_about(&mut *tx, &id_refs).await?;
            if !facts.is_empty() {
                let catalogue = self.catalogue()?;
                let snapshot = catalogue.snapshot(today);
                let thresholds = Thresholds::new(&snapshot);
                // `facts` come ordered by feed: its feeds in that order, indexed by position.
                let mut feed_ids: Vec<i64> = facts.iter().map(|fact| fact.feed_id).collect();
                feed_ids.dedup();
                let mut feeds = Vec::with_capacity(feed_ids.len());
                for &feed_id in &feed_ids {
                    feeds.push(
                        store::watch::feed(&mut *tx, feed_id)
                            .await?
                            .ok_or(AppError::NotFound)?,
                    );
                }
                let records: Vec<(u32, OwnedRecord)> = facts
                    .iter()
                    .filter_map(|fact| {
                        let feed = feed_ids.binary_search(&fact.feed_id).ok()?;
                        Some((u32::try_from(feed).ok()?, OwnedRecord::from_fact(fact)?))
                    })
                    .collect();
                let warnings = watch::compare_household(
                    watch::summarise(household, &snapshot),
                    records
                        .iter()
                        .map(|(feed, record)| (*feed, record.record())),
                    &thresholds,
                );
                let recorded_at = self.now();
                let now = crate::timestamp(recorded_at);
                let today_text = today.to_string();
                let area = registered.as_ref().map_or("", |row| row.area_code.as_str());
                for warning in &warnings {
                    let Some(feed) = feeds.get(warning.feed as usize) else {
                        continue;
                    };
                    let record = records
                        .iter()
                        .find(|(index, record)| {
                            *index == warning.feed
                                && record.line == warning.line
                                && record.id_number == warning.id_number
                        })
                        .map(|(_, record)| record);
                    let id_number = String::from_utf8_lossy(&warning.id_number).into_owned();
                    let person_name = household
                        .members
                        .iter()
                        .find(|person| person.id_number.as_str() == id_number)
                        .map(|person| person.name.clone())
                        .or_else(|| record.map(|record| record.name.clone()))
                        .unwrap_or_default();
                    let param_json = warning
                        .param
                        .map(|param| thresholds.param_json(param).to_owned());
                    let description = describe(warning, feed, record, param_json.as_deref());
                    // Kept as a warning closed into the case (as a run's finding on a case at
                    // 信息比对 is), so that a later run over the same feed knows the fact.
                    let inserted = store::watch::insert_warning(
                        &mut *tx,
                        &NewWarning {
                            dedupe_key: &warning_key(warning),
                            origin: "comparison",
                            rule: warning.rule.code(),
                            kind: warning.rule.kind().code(),
                            severity: warning.rule.severity().code(),
                            id_number: Some(&id_number),
                            person_name: &person_name,
                            household_external_id: Some(household_external_id),
                            household_id: registered.as_ref().map(|row| row.id),
                            inside_net: warning.inside_net,
                            area_code: area,
                            feed_id: Some(feed.id),
                            job_id: None,
                            line: (warning.line > 0).then_some(warning.line as i64),
                            description: &description,
                            param_json: param_json.as_deref(),
                            state: WarningState::Closed.code(),
                            disposition: Some(RULE_DISCREPANCY_STATE),
                            case_id: Some(case_id),
                            created_on: &today_text,
                            due_on: &today_text,
                            closed_on: Some(&today_text),
                            now: &now,
                        },
                    )
                    .await?;
                    // A fact raised before: its warning is open (taken below) or was answered.
                    let Some(warning_id) = inserted else {
                        continue;
                    };
                    let history = [
                        (
                            WarningAction::Raise,
                            serde_json::json!({
                                "origin": format!(
                                    "{}（{}）受理后比对：{}",
                                    feed.source,
                                    feed.period,
                                    warning.rule.label()
                                ),
                            }),
                        ),
                        closed_into(case_id),
                    ];
                    comparison_history(&mut *tx, warning_id, today, recorded_at, &history).await?;
                    found.push(workflow::Discrepancy {
                        source: format!("{}（{}）", feed.source, feed.period),
                        description: format!("{description}（预警{warning_id}）"),
                    });
                }
            }
        }
        let open = store::watch::open_warnings_about(
            &mut *tx,
            registered.as_ref().map(|row| row.external_id.as_str()),
            &id_refs,
        )
        .await?;
        for warning in open {
            self.warning_to_case(&mut *tx, actor, &warning, case_id, today)
                .await?;
            found.push(workflow::Discrepancy {
                source: format!("预警{}", warning.id),
                description: warning.description,
            });
        }
        Ok(found)
    }

    /// An open warning taken into a case's 信息比对 as a 疑点: closed with the disposition
    /// 转入办件, linked to the case, its history and the audit log saying so.
    async fn warning_to_case(
        &self,
        tx: &mut store::Conn,
        actor: &Actor,
        warning: &WarningRow,
        case_id: i64,
        today: NaiveDate,
    ) -> Result<(), AppError> {
        let recorded_at = self.now();
        let now = crate::timestamp(recorded_at);
        let today_text = today.to_string();
        store::watch::update_warning(
            &mut *tx,
            warning.id,
            warning.version,
            &WarningUpdate {
                state: WarningState::Closed.code(),
                area_code: warning.area_code.as_str(),
                assignee_user_id: warning.assignee_user_id,
                judgement: warning.judgement.map(Judgement::code),
                disposition: Some(RULE_DISCREPANCY_STATE),
                case_id: Some(case_id),
                due_on: &warning.due_on.to_string(),
                closed_on: Some(&today_text),
                now: &now,
            },
        )
        .await?;
        comparison_history(
            &mut *tx,
            warning.id,
            today,
            recorded_at,
            &[closed_into(case_id)],
        )
        .await?;
        store::audit::append_one(
            &mut *tx,
            self.store.audit_key(),
            &AuditEvent::warning(now, actor.audit_name(), "warning.to_case", warning.id)
                .in_area(warning.area_code.as_str())
                .before(warning.state.code().to_owned())
                .after(serde_json::json!({ "case_id": case_id }).to_string()),
        )
        .await?;
        Ok(())
    }
}

/// The history step of a warning closed into case `case_id` as one of its 疑点.
fn closed_into(case_id: i64) -> (WarningAction, serde_json::Value) {
    (
        WarningAction::Close,
        serde_json::json!({ "disposition": RULE_DISCREPANCY_STATE, "case_id": case_id }),
    )
}

/// Appends the comparison's own steps (raise, close into a case) to a warning's history.
async fn comparison_history(
    tx: &mut store::Conn,
    warning_id: i64,
    on_date: NaiveDate,
    recorded_at: chrono::DateTime<chrono::Utc>,
    history: &[(WarningAction, serde_json::Value)],
) -> Result<(), AppError> {
    for (action, detail) in history {
        store::watch::append_warning_event(
            &mut *tx,
            &WarningEventRow {
                warning_id,
                seq: 0,
                on_date,
                actor_user_id: COMPARISON_USER_ID,
                actor_name: COMPARISON_NAME.to_owned(),
                action: *action,
                detail: detail.to_string(),
                recorded_at,
            },
        )
        .await?;
    }
    Ok(())
}

/// A stored warning's key: same rule, same person, same fact (`Warning::dedupe_key`).
fn warning_key(warning: &watch::Warning) -> String {
    let (_, fact, _) = warning.dedupe_key();
    format!(
        "{}:{}:{fact:016x}",
        warning.rule.code(),
        String::from_utf8_lossy(&warning.id_number)
    )
}

/// A feed's readable rows as kept for comparison at intake.
fn facts_of(records: &[OwnedRecord]) -> Result<Vec<FeedFact>, AppError> {
    records.iter().map(OwnedRecord::fact).collect()
}

fn job_event(actor: &Actor, now: &str, action: &str, job: &JobRow, after: String) -> AuditEvent {
    AuditEvent::comparison_job(
        now.to_owned(),
        actor.audit_name(),
        action.to_owned(),
        job.id,
    )
    .in_area(actor.area.as_str())
    .after(after)
}

/// The registry's name of a member.
async fn registry_name(
    conn: &mut store::Conn,
    household_row_id: i64,
    id_number: &str,
) -> Result<Option<String>, AppError> {
    let Some(row) = store::households::get(conn, household_row_id).await? else {
        return Ok(None);
    };
    let household = crate::households::household_from_record(row.id, &row.record)?;
    Ok(household
        .members
        .iter()
        .find(|person| person.id_number.as_str() == id_number)
        .map(|person| person.name.clone()))
}

fn hundredths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let absolute = value.unsigned_abs();
    if absolute.is_multiple_of(100) {
        format!("{sign}{}", absolute / 100)
    } else {
        format!("{sign}{}.{:02}", absolute / 100, absolute % 100)
    }
}

/// The warning in Chinese: the rule, the feed and line, the record, the parameter it broke.
fn describe(
    warning: &watch::Warning,
    feed: &FeedRow,
    record: Option<&OwnedRecord>,
    param_json: Option<&str>,
) -> String {
    let mut text = warning.rule.label().to_owned();
    if warning.rule == watch::WarningRule::DuplicateEnrolment {
        text.push_str("：同一身份证号登记在两户（不重不漏）");
    } else {
        text.push_str(&format!(
            "：{}（{}）第{}行，{}",
            feed.source,
            feed.period,
            warning.line,
            warning.feed_kind.label()
        ));
        if let Some(value) = warning.value {
            text.push_str(&format!(" 数值{}", hundredths(value)));
        }
        if let Some(record) = record {
            if !record.date.is_empty() {
                text.push_str(&format!("，日期{}", record.date));
            }
            if !record.detail.is_empty() {
                text.push_str(&format!("，说明“{}”", record.detail));
            }
            if warning.rule == watch::WarningRule::NameMismatch {
                text.push_str(&format!("，部门登记姓名“{}”", record.name));
            }
        }
    }
    if let Some(param) =
        param_json.and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
    {
        let name = param["name"].as_str().unwrap_or("");
        let label = policy::Param::from_name(name)
            .map(|param| param.name().to_owned())
            .unwrap_or_default();
        text.push_str(&format!(
            "；超过参数 {label} = {}（{}起，{}）",
            param["value"],
            param["since"].as_str().unwrap_or(""),
            param["source"].as_str().unwrap_or("")
        ));
    }
    text
}
