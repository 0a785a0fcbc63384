//! 审计日志 (issue 15 item 7): the auditor reads the chain filtered by 操作人, 户编号, 办件号,
//! 操作类型 and Beijing dates, newest first and keyset-paged; exports it to XLSX; starts a check
//! of the whole chain in the background and sees the latest one's result.
//!
//! Reading is read-only and not audited; an export (`audit.export`) and the start of a check
//! (`audit.check`) are. The log covers the whole district (sessions, users and policy have no
//! place), so only an auditor at district level reads it (`may_read_audit_log`).

use crate::{Actor, App, AppError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use domain::{PlaceLevel, Role};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::audit::{AuditEntry, AuditEvent, AuditFilter, Entity, Verification};

/// Rows on one page of the log.
pub const AUDIT_PER_PAGE: i64 = 50;
/// The most rows one export holds (the newest of the filter).
pub const EXPORT_ROWS: usize = 100_000;
/// Rows read per statement while exporting.
const EXPORT_BATCH: i64 = 5_000;

/// 操作类型: each action code the product writes, with its Chinese name (the filter's choices).
pub const ACTIONS: &[(&str, &str)] = &[
    ("session.login", "登录"),
    ("session.login_failed", "登录失败"),
    ("session.logout", "退出登录"),
    ("household.create", "新建家庭档案"),
    ("household.update", "修改家庭档案"),
    ("household.import", "导入家庭档案"),
    ("household.view_full", "查看完整身份信息"),
    ("household.categories", "变更救助类别"),
    ("category.open", "导入救助类别"),
    ("case.open", "受理办件"),
    ("case.act", "办理办件"),
    ("case.online_duplicate", "重复网上申请"),
    ("warning.raise", "生成预警"),
    ("warning.assign", "分派预警"),
    ("warning.verify", "核实预警"),
    ("warning.judge", "研判预警"),
    ("warning.dispose", "处置预警"),
    ("warning.close", "办结预警"),
    ("contact.visit", "记录走访"),
    ("contact.hotline", "记录热线"),
    ("assistance_item.seed", "初始化救助帮扶事项"),
    ("assistance_item.save", "保存救助帮扶事项"),
    ("referral.create", "转介"),
    ("referral.create_supplementary", "补充转介"),
    ("referral.accept", "部门受理转介"),
    ("referral.deliver", "落实转介"),
    ("referral.decline", "退回转介"),
    ("referral.reveal", "查看收款人完整信息"),
    ("user.create", "新建用户"),
    ("user.update", "修改用户"),
    ("user.enable", "启用用户"),
    ("user.disable", "停用用户"),
    ("user.reset_password", "重置密码"),
    ("user.set_department", "设置所属部门"),
    ("roll.stage", "上传名册"),
    ("roll.import", "名册入库"),
    ("feed.import", "导入部门数据"),
    ("comparison.run", "数据比对"),
    ("comparison.claim", "领取比对任务"),
    ("comparison.fail", "数据比对失败"),
    ("places.load", "载入行政区划"),
    ("policy_value.add", "新增政策参数值"),
    ("calendar.add_year", "录入工作日历"),
    ("disclosure.publish", "公开名单变更"),
    ("disclosure.posted", "张贴公开名单"),
    ("warning.to_case", "预警转入办件"),
    (store::audit::ROSTER_EXPORT, "导出名册"),
    ("store.mark_demo", "标记演示数据"),
    (store::audit::KEYED_ACTION, "审计链启用密钥"),
    (store::audit::AUDIT_EXPORT, "导出审计日志"),
    (store::audit::AUDIT_CHECK, "校验审计链"),
    ("case.survey_draft", "暂存入户调查草稿"),
    (crate::documents::UPLOAD_ACTION, "上传材料"),
    (crate::documents::VIEW_ACTION, "查看材料原件"),
    (crate::documents::WITHDRAW_ACTION, "撤回材料"),
];

/// The Chinese name of an action code; an unknown code is shown as it is.
pub fn action_label(code: &str) -> &str {
    ACTIONS
        .iter()
        .find(|(known, _)| *known == code)
        .map_or(code, |(_, label)| label)
}

/// Who reads the audit log: an auditor (审计人员) at district level.
pub fn may_read_audit_log(actor: &Actor) -> bool {
    actor.role == Role::Auditor && actor.area.level() == PlaceLevel::District
}

/// The auditor's filter, as typed (each field empty: not filtered).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AuditLogQuery {
    /// 操作人: a user name (or a stored actor such as `console:…`).
    pub actor: Option<String>,
    /// 户编号.
    pub household: Option<String>,
    /// 办件号 (受理编号).
    pub case: Option<String>,
    /// 操作类型: one of `ACTIONS`.
    pub action: Option<String>,
    /// 起始日期 (Beijing day, inclusive).
    pub from: Option<NaiveDate>,
    /// 截止日期 (Beijing day, inclusive).
    pub until: Option<NaiveDate>,
}

/// One row of the log as the auditor reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLogLine {
    pub seq: i64,
    /// The instant in Beijing time, to the second.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub action_label: String,
    pub entity_label: String,
    pub record: String,
    /// The place's full name (empty when the row has none).
    pub area_name: String,
    pub before: String,
    pub after: String,
}

/// One page of the log.
#[derive(Clone, Debug)]
pub struct AuditLogPage {
    pub rows: Vec<AuditLogLine>,
    /// The `after` of the next page, when there is one.
    pub next: Option<String>,
    pub per_page: i64,
}

/// The latest check of the chain, for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckLine {
    /// When it finished, Beijing time.
    pub finished_at: String,
    pub actor: String,
    pub intact: bool,
    /// 结果, in Chinese.
    pub result: String,
    /// 检查到第几条: the last row found sound.
    pub checked_to: i64,
}

/// The chain's check status: one running now, and the latest finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckStatus {
    pub running: bool,
    pub latest: Option<AuditCheckLine>,
    pub head_seq: i64,
}

/// The outcome of asking for a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStart {
    Started,
    /// One is running already; no second one was started.
    AlreadyRunning,
}

/// Only one check of the chain runs at once (it reads every row).
#[derive(Debug, Default)]
pub struct AuditCheckGate(AtomicBool);

/// Clears the gate when the check ends, however it ends.
struct GateHeld(Arc<AuditCheckGate>);

impl Drop for GateHeld {
    fn drop(&mut self) {
        (self.0).0.store(false, Ordering::SeqCst);
    }
}

/// The start of a Beijing day as a UTC instant.
fn beijing_day_start(day: NaiveDate) -> DateTime<Utc> {
    (day.and_time(NaiveTime::MIN) - chrono::Duration::hours(8)).and_utc()
}

/// An instant in Beijing time to the second.
pub(crate) fn beijing_second_of(at: DateTime<Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The Chinese result of a check and the last row it found sound (`head`: the head checked).
fn check_result(result: &Verification, head: i64) -> (bool, String, i64) {
    match result {
        Verification::Intact { rows, .. } => (true, format!("完整，共 {rows} 条"), *rows),
        Verification::Broken { seq, .. } => (
            false,
            format!("第 {seq} 条起不符（被修改、删除、插入或重排）"),
            seq - 1,
        ),
        Verification::CaseEventBroken {
            tracking_number,
            seq,
            ..
        } => (
            false,
            format!("办件 {tracking_number} 的第 {seq} 个事件与审计链不符"),
            head,
        ),
        Verification::KeyMismatch { keyed_from, .. } => (
            false,
            format!("审计密钥不符，第 {keyed_from} 条起无法校验"),
            keyed_from - 1,
        ),
    }
}

fn trimmed(text: &Option<String>) -> Option<&str> {
    text.as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

impl App {
    /// The store's filter of `query`: the user name resolved to the actor the log names, the
    /// action checked, the Beijing days turned into instants.
    async fn audit_filter(
        &self,
        conn: &mut store::Conn,
        query: &AuditLogQuery,
    ) -> Result<AuditFilter, AppError> {
        let mut filter = AuditFilter::default();
        if let Some(name) = trimmed(&query.actor) {
            filter.actor = Some(match store::users::by_username(conn, name).await? {
                Some(user) => format!("{}#{}", user.username, user.id),
                None if name.contains(['#', ':']) => name.to_owned(),
                None => {
                    return Err(AppError::invalid(
                        "actor",
                        format!("操作人：没有用户名为“{name}”的用户"),
                    ));
                }
            });
        }
        filter.record = match (trimmed(&query.household), trimmed(&query.case)) {
            (Some(_), Some(_)) => {
                return Err(AppError::invalid("case", "户编号与办件号请只填一项"));
            }
            (Some(household), None) => Some((Entity::Household, household.to_owned())),
            (None, Some(case)) => Some((Entity::Case, case.to_owned())),
            (None, None) => None,
        };
        if let Some(action) = trimmed(&query.action) {
            if !ACTIONS.iter().any(|(code, _)| *code == action) {
                return Err(AppError::invalid(
                    "action",
                    format!("操作类型：没有“{action}”这一类操作"),
                ));
            }
            filter.action = Some(action.to_owned());
        }
        if let (Some(from), Some(until)) = (query.from, query.until)
            && until < from
        {
            return Err(AppError::invalid("until", "截止日期：不能早于起始日期"));
        }
        filter.from = query.from.map(beijing_day_start);
        filter.until = query
            .until
            .and_then(|until| until.succ_opt())
            .map(beijing_day_start);
        Ok(filter)
    }

    /// The rows of `entries` as read: Beijing time, Chinese names, place names.
    async fn audit_lines(
        conn: &mut store::Conn,
        entries: Vec<AuditEntry>,
        names: &mut HashMap<String, String>,
    ) -> Result<Vec<AuditLogLine>, AppError> {
        let mut lines = Vec::with_capacity(entries.len());
        for AuditEntry {
            seq,
            event,
            at,
            area,
        } in entries
        {
            let area_name = match event.area_code.as_deref() {
                None | Some("") => String::new(),
                Some(code) => match names.get(code) {
                    Some(name) => name.clone(),
                    None => {
                        let name = match &area {
                            Some(place) => store::places::full_name(conn, place).await?,
                            None => code.to_owned(),
                        };
                        names.insert(code.to_owned(), name.clone());
                        name
                    }
                },
            };
            lines.push(AuditLogLine {
                seq,
                at: at.map_or_else(|| event.at.clone(), beijing_second_of),
                action_label: action_label(&event.action).to_owned(),
                entity_label: Entity::from_code(&event.entity)
                    .map_or_else(|| event.entity.clone(), |entity| entity.label().to_owned()),
                actor: event.actor,
                action: event.action,
                record: event.entity_id,
                area_name,
                before: event.before.unwrap_or_default(),
                after: event.after.unwrap_or_default(),
            });
        }
        Ok(lines)
    }

    /// `GET /audit`: one page of the log, newest first, after row `after` (the `next` of the
    /// page before).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        query: &AuditLogQuery,
        after: Option<&str>,
    ) -> Result<AuditLogPage, AppError> {
        if !may_read_audit_log(actor) {
            return Err(AppError::Forbidden);
        }
        let after =
            match after.map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(text.parse::<i64>().ok().filter(|seq| *seq > 0).ok_or_else(
                    || AppError::invalid("after", "翻页位置无效，请从第一页重新查看"),
                )?),
            };
        let mut conn = self.store.read().await?;
        let filter = self.audit_filter(&mut conn, query).await?;
        let page = store::audit::search(&mut conn, &filter, after, AUDIT_PER_PAGE).await?;
        let rows = Self::audit_lines(&mut conn, page.rows, &mut HashMap::new()).await?;
        Ok(AuditLogPage {
            rows,
            next: page.next.map(|seq| seq.to_string()),
            per_page: AUDIT_PER_PAGE,
        })
    }

    /// `GET /audit/xlsx`: the newest `EXPORT_ROWS` rows of the filter as a workbook; the export
    /// itself is audited (`audit.export`, with the filter and the number of rows).
    pub async fn audit_log_export(
        &self,
        actor: &Actor,
        query: &AuditLogQuery,
    ) -> Result<Vec<u8>, AppError> {
        if !may_read_audit_log(actor) {
            return Err(AppError::Forbidden);
        }
        let mut lines = Vec::new();
        let mut capped = false;
        {
            let mut conn = self.store.read().await?;
            let filter = self.audit_filter(&mut conn, query).await?;
            let mut names = HashMap::new();
            let mut after = None;
            loop {
                let wanted = EXPORT_BATCH.min((EXPORT_ROWS - lines.len()) as i64);
                let page = store::audit::search(&mut conn, &filter, after, wanted).await?;
                lines.extend(Self::audit_lines(&mut conn, page.rows, &mut names).await?);
                match page.next {
                    Some(_) if lines.len() >= EXPORT_ROWS => {
                        capped = true;
                        break;
                    }
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        let n_rows = lines.len();
        let mut notes = vec![format!(
            "导出人：{}；导出时间：{}（北京时间）",
            actor.display_name,
            beijing_second_of(self.now())
        )];
        if capped {
            notes.push(format!(
                "超过 {EXPORT_ROWS} 条，仅导出最新的 {EXPORT_ROWS} 条，请缩小筛选范围"
            ));
        }
        let table = report::Table {
            title: "审计日志".to_owned(),
            notes,
            headers: [
                "序号",
                "时间（北京时间）",
                "操作人",
                "操作类型",
                "操作代码",
                "对象",
                "对象编号",
                "区划",
                "变更前",
                "变更后",
            ]
            .map(str::to_owned)
            .to_vec(),
            rows: lines
                .into_iter()
                .map(|line| {
                    use report::Cell::{Integer, Text};
                    vec![
                        Integer(line.seq),
                        Text(line.at),
                        Text(line.actor),
                        Text(line.action_label),
                        Text(line.action),
                        Text(line.entity_label),
                        Text(line.record),
                        Text(line.area_name),
                        Text(line.before),
                        Text(line.after),
                    ]
                })
                .collect(),
        };
        let bytes = tokio::task::spawn_blocking(move || table.to_xlsx())
            .await
            .map_err(|error| AppError::Internal(error.into()))?
            .map_err(|error| AppError::Internal(error.into()))?;
        let mut tx = self.store.begin().await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::audit_export(
                self.now_text(),
                actor.audit_name(),
                serde_json::to_value(query).unwrap_or_default(),
                n_rows,
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(bytes)
    }

    /// The chain's check status for the page.
    pub async fn audit_check_status(&self, actor: &Actor) -> Result<AuditCheckStatus, AppError> {
        if !may_read_audit_log(actor) {
            return Err(AppError::Forbidden);
        }
        let mut conn = self.store.read().await?;
        let latest = store::audit::latest_verification(&mut conn)
            .await?
            .map(|record| {
                let (intact, result, checked_to) = check_result(&record.result, record.head_seq);
                AuditCheckLine {
                    finished_at: beijing_second_of(record.finished_at),
                    actor: record.actor,
                    intact,
                    result,
                    checked_to,
                }
            });
        Ok(AuditCheckStatus {
            running: self.audit_check.0.load(Ordering::SeqCst),
            latest,
            head_seq: store::audit::head_seq(&mut conn).await?,
        })
    }

    /// `POST /audit/verify`: starts a check of the whole chain (`store::audit::verify`, as
    /// `safetynet audit verify` does) in the background, unless one is running; its start is
    /// audited (`audit.check`) and its result recorded (`audit_verifications`).
    pub async fn start_audit_check(&self, actor: &Actor) -> Result<CheckStart, AppError> {
        if !may_read_audit_log(actor) {
            return Err(AppError::Forbidden);
        }
        if self
            .audit_check
            .0
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(CheckStart::AlreadyRunning);
        }
        let held = GateHeld(self.audit_check.clone());
        let started_at = self.now();
        let mut tx = self.store.begin().await?;
        let head = store::audit::head_seq(&mut tx).await? + 1;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::audit_check(crate::timestamp(started_at), actor.audit_name(), head),
        )
        .await?;
        store::commit(tx).await?;
        let app = self.clone();
        let actor_name = actor.audit_name();
        tokio::spawn(async move {
            let _held = held;
            if let Err(error) = app.finish_audit_check(started_at, actor_name, head).await {
                tracing::error!(%error, "the check of the audit chain did not finish");
            }
        });
        Ok(CheckStart::Started)
    }

    async fn finish_audit_check(
        &self,
        started_at: DateTime<Utc>,
        actor: String,
        head: i64,
    ) -> Result<(), AppError> {
        let result = self.verify_audit(None).await?;
        let head_seq = match &result {
            Verification::Intact { rows, .. } => *rows,
            _ => head,
        };
        let mut tx = self.store.begin().await?;
        store::audit::record_verification(
            &mut tx,
            &store::audit::VerificationRecord {
                started_at,
                finished_at: self.now(),
                actor,
                result,
                head_seq,
            },
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_unique_codes_with_chinese_names() {
        let mut codes: Vec<&str> = ACTIONS.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ACTIONS.len());
        assert!(
            ACTIONS
                .iter()
                .all(|(code, label)| code.contains('.') && !label.is_empty() && !label.is_ascii())
        );
        assert_eq!(action_label("case.act"), "办理办件");
        assert_eq!(action_label("made.up"), "made.up");
    }

    #[test]
    fn beijing_days_start_at_16_utc_the_day_before() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
        assert_eq!(
            beijing_day_start(day).to_rfc3339(),
            "2026-12-05T16:00:00+00:00"
        );
        assert_eq!(
            beijing_second_of(beijing_day_start(day)),
            "2026-12-06 00:00:00"
        );
    }
}
