//! 政策参数: the policy catalogue in force, and new dated values added in the product.
//!
//! The catalogue every use case reads is the base catalogue (built into the binary, or the one
//! given by `with_catalogue`) with the values stored in `store::policy` taken on top of it
//! (`policy::Catalogue::with_added`). `catalogue()` stays synchronous: it reads the last
//! catalogue built, held behind a lock; `refresh_policy` rebuilds it from the store. It runs at
//! start-up (`safetynet` opens the store), after each value added in this process, before each
//! comparison job, on every view of the 政策参数 page, and every minute in `safetynet serve`, so
//! that several processes on one database agree within a minute.
//!
//! Invariant: a value is written only after the core has taken it against the parameter's unit,
//! with its audit event in the same transaction; stored values are never changed, a correction
//! is a later row at the same date.

use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::{PlaceLevel, Role};
use policy::{Catalogue, CatalogueError, DatedValue, Param, Status};
use std::sync::{Arc, RwLock};
use store::audit::AuditEvent;
use store::policy::{NewPolicyValue, PolicyValueRow};

pub use policy::AddedValue;

/// The catalogue in force, shared by every clone of an `App`.
#[derive(Debug, Default)]
pub(crate) struct PolicyInForce {
    /// The catalogue the stored values are taken on; the built-in one when `None`.
    base: Option<Arc<Catalogue>>,
    in_force: RwLock<Option<Built>>,
}

#[derive(Debug, Clone)]
struct Built {
    /// The id of the last stored value taken (0 for none). Rows are only appended, so a larger
    /// id means a newer state: a slow refresh does not overwrite a newer one.
    last_row: i64,
    catalogue: Arc<Catalogue>,
}

impl PolicyInForce {
    pub(crate) fn with_base(base: Arc<Catalogue>) -> Self {
        PolicyInForce {
            base: Some(base),
            in_force: RwLock::new(None),
        }
    }

    fn base(&self) -> Result<Arc<Catalogue>, AppError> {
        match &self.base {
            Some(base) => Ok(base.clone()),
            None => Catalogue::builtin().map(Arc::new).map_err(|error| {
                AppError::Internal(anyhow::anyhow!("built-in policy catalogue: {error}"))
            }),
        }
    }

    fn current(&self) -> Option<Built> {
        // A writer that panicked left a whole `Built` behind (it only assigns): still usable.
        self.in_force
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn install(&self, built: Built) {
        let mut slot = self
            .in_force
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot
            .as_ref()
            .is_none_or(|current| current.last_row <= built.last_row)
        {
            *slot = Some(built);
        }
    }
}

/// Where a dated value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// 内置: `policy/catalogue.toml` (or the catalogue given at start).
    Builtin,
    /// 平台添加: stored in the product by a user.
    Added {
        id: i64,
        by: String,
        /// RFC 3339 UTC.
        at: String,
    },
}

impl Origin {
    pub fn label(&self) -> &'static str {
        match self {
            Origin::Builtin => "内置",
            Origin::Added { .. } => "平台添加",
        }
    }
}

/// One dated value of a parameter as shown.
#[derive(Clone, Debug)]
pub struct ValueView {
    pub since: NaiveDate,
    /// The value as written in explanations (`630`, `1.5`, `是`).
    pub value: String,
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
    pub origin: Origin,
    /// False when a later value at the same date corrected it (已更正).
    pub in_effect: bool,
}

/// A parameter with its value in force today and its whole history.
#[derive(Clone, Debug)]
pub struct ParameterView {
    pub param: Param,
    pub label: String,
    pub group: String,
    /// The catalogue's status of the parameter (a provisional one may have no value yet).
    pub status: Status,
    pub source: String,
    /// 参数归口: the district department that enters its values.
    pub owner: Role,
    /// The page's actor may add a dated value to this parameter (`may_add_value_of`).
    pub can_add: bool,
    /// The value in force on the page's date.
    pub in_force: Option<ValueView>,
    /// Newest first; corrected values follow the value that replaced them.
    pub history: Vec<ValueView>,
}

impl ParameterView {
    pub fn name(&self) -> &'static str {
        self.param.name()
    }

    pub fn unit_code(&self) -> &'static str {
        self.param.unit().code()
    }

    /// The unit in Chinese; money units spelled out, and a word for unitless kinds.
    pub fn unit_label(&self) -> &'static str {
        match self.param.unit() {
            policy::Unit::Share => "比例",
            policy::Unit::Flag => "是/否",
            other => other.label(),
        }
    }
}

/// Parameters under one heading of the catalogue.
#[derive(Clone, Debug)]
pub struct ParameterGroup {
    pub name: String,
    pub parameters: Vec<ParameterView>,
}

/// 政策参数 page: every parameter as in force on `today`, grouped as in the catalogue.
#[derive(Clone, Debug)]
pub struct PolicyPage {
    pub today: NaiveDate,
    pub groups: Vec<ParameterGroup>,
    /// The actor may add dated values to at least one parameter.
    pub can_add: bool,
}

impl PolicyPage {
    pub fn parameter(&self, param: Param) -> Option<&ParameterView> {
        self.groups
            .iter()
            .flat_map(|group| &group.parameters)
            .find(|parameter| parameter.param == param)
    }
}

/// Who may read the parameters: every signed-in role. The values, their dates and 文号 are
/// public policy, and a town or village worker explains decisions with them; the page shows
/// no household and no personal data beyond the name of the district user who added a value.
pub fn may_read_policy(actor: &Actor) -> bool {
    Role::ALL.contains(&actor.role)
}

/// Who may add a dated value of a parameter owned by `owner` (参数归口, the catalogue's `owner`):
/// that district department, or the administrator, at district level. District civil affairs
/// enters the social-assistance parameters, district agriculture (农业农村委) the 防止返贫监测
/// ones (`monitoring.*`); neither enters the other's.
pub fn may_add_value_of(actor: &Actor, owner: Role) -> bool {
    (actor.role == Role::Admin || actor.role == owner) && actor.area.level() == PlaceLevel::District
}

/// Whether the actor may add a dated value to any parameter (an owner, or the administrator).
pub fn may_add_policy_value(actor: &Actor) -> bool {
    policy::OWNERS
        .iter()
        .any(|&owner| may_add_value_of(actor, owner))
}

fn added_of(row: &PolicyValueRow) -> AddedValue {
    AddedValue {
        param: row.param.clone(),
        since: row.since.to_string(),
        value: row.value.clone(),
        source: row.source.clone(),
        status: row.status.code().to_owned(),
        note: row.note.clone().unwrap_or_default(),
    }
}

fn refused(error: CatalogueError) -> AppError {
    match error {
        CatalogueError::InvalidAddition { field, reason } => {
            AppError::invalid(field.code(), reason)
        }
        other => AppError::invalid("value", other.to_string()),
    }
}

fn value_json(param: Param, dated: &DatedValue) -> String {
    serde_json::json!({
        "param": param.name(),
        "since": dated.since.to_string(),
        "value": dated.value.to_string(),
        "source": dated.source,
        "status": dated.status.code(),
        "note": dated.note,
    })
    .to_string()
}

impl App {
    /// Uses `catalogue` as the base of every determination (instead of the built-in one); the
    /// values stored in the product are taken on top of it by `refresh_policy`.
    pub fn with_catalogue(mut self, catalogue: Arc<Catalogue>) -> Self {
        self.policy = Arc::new(PolicyInForce::with_base(catalogue));
        self
    }

    /// Which stored values the catalogue in force holds (the id of the last one taken, 0 for
    /// none): a larger number is a newer catalogue (`golive` recounts on a change).
    pub(crate) fn catalogue_version(&self) -> i64 {
        self.policy.current().map_or(0, |built| built.last_row)
    }

    /// The catalogue in force (the base with the values added in the product), for batch
    /// work outside the use cases (`assess`, `compare`, `simulate` with `--db`, and tests).
    pub fn catalogue_in_force(&self) -> Result<Arc<Catalogue>, AppError> {
        self.catalogue()
    }

    /// The catalogue in force: the base with the stored values as of the last refresh.
    pub(crate) fn catalogue(&self) -> Result<Arc<Catalogue>, AppError> {
        if let Some(built) = self.policy.current() {
            return Ok(built.catalogue);
        }
        let base = self.policy.base()?;
        self.policy.install(Built {
            last_row: 0,
            catalogue: base.clone(),
        });
        Ok(base)
    }

    /// The base catalogue with `rows` taken in order. A stored value that no longer fits the
    /// catalogue (a parameter a later release renamed) is left out and logged, not fatal: the
    /// row stays in the store and every other value applies.
    fn build_catalogue(&self, rows: &[PolicyValueRow]) -> Result<Built, AppError> {
        let mut catalogue = (*self.policy.base()?).clone();
        for row in rows {
            if let Err(error) = catalogue.add_value(&added_of(row)) {
                tracing::warn!(row = row.id, param = %row.param, %error, "stored policy value not applied");
            }
        }
        Ok(Built {
            last_row: rows.last().map_or(0, |row| row.id),
            catalogue: Arc::new(catalogue),
        })
    }

    async fn stored_policy_values(&self) -> Result<Vec<PolicyValueRow>, AppError> {
        let mut conn = self.store.read().await?;
        Ok(store::policy::list(&mut conn).await?)
    }

    /// Rebuilds the catalogue in force from the base and the values stored in the product.
    pub async fn refresh_policy(&self) -> Result<(), AppError> {
        let rows = self.stored_policy_values().await?;
        let built = self.build_catalogue(&rows)?;
        self.policy.install(built);
        // The years added on the 工作日历 page are refreshed with the parameters.
        self.refresh_calendar().await
    }

    /// Refreshes the catalogue every `period`, for ever (`safetynet serve` runs it in the
    /// background); a failed refresh is logged and the previous catalogue stays in force.
    pub async fn refresh_policy_every(&self, period: std::time::Duration) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once; the store was read at start-up.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if let Err(error) = self.refresh_policy().await {
                tracing::warn!(error = format!("{error:#}"), "policy refresh failed");
            }
            // A changed re-check cycle reschedules every enrolled household (W1).
            if let Err(error) = self.sync_recheck_schedule().await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "re-check schedule sync failed"
                );
            }
            // Changed time limits (a dated value coming into force) recompute the work queue.
            if let Err(error) = self.sync_case_queue().await {
                tracing::warn!(error = format!("{error:#}"), "work queue sync failed");
            }
        }
    }

    /// 政策参数: every parameter with today's value and its history; any signed-in user reads
    /// it (the values are public policy), `can_add` says whether the actor may add values.
    pub async fn policy_parameters(&self, actor: &Actor) -> Result<PolicyPage, AppError> {
        if !may_read_policy(actor) {
            return Err(AppError::Forbidden);
        }
        let rows = self.stored_policy_values().await?;
        let built = self.build_catalogue(&rows)?;
        self.policy.install(built.clone());
        let base = self.policy.base()?;
        let today = self.today();
        let mut groups: Vec<ParameterGroup> = Vec::new();
        for parameter in built.catalogue.parameters() {
            let param = parameter.param;
            let mut entries: Vec<(DatedValue, Origin)> = base
                .parameter(param)
                .values
                .iter()
                .map(|dated| (dated.clone(), Origin::Builtin))
                .collect();
            for row in rows.iter().filter(|row| row.param == param.name()) {
                // Rows that no longer fit were left out of the catalogue; so here.
                if let Ok((_, dated)) = added_of(row).parse() {
                    entries.push((
                        dated,
                        Origin::Added {
                            id: row.id,
                            by: row.created_by_name.clone(),
                            at: crate::timestamp(row.created_at),
                        },
                    ));
                }
            }
            let n_entries = entries.len();
            let mut history: Vec<(usize, ValueView)> = entries
                .iter()
                .enumerate()
                .map(|(order, (dated, origin))| {
                    let in_effect = !entries[order + 1..n_entries]
                        .iter()
                        .any(|(later, _)| later.since == dated.since);
                    (
                        order,
                        ValueView {
                            since: dated.since,
                            value: dated.value.to_string(),
                            source: dated.source.clone(),
                            status: dated.status,
                            note: dated.note.clone(),
                            origin: origin.clone(),
                            in_effect,
                        },
                    )
                })
                .collect();
            history.sort_by(|(order_a, a), (order_b, b)| {
                b.since.cmp(&a.since).then(order_b.cmp(order_a))
            });
            let history: Vec<ValueView> = history.into_iter().map(|(_, view)| view).collect();
            let in_force = parameter.value_at(today).and_then(|dated| {
                history
                    .iter()
                    .find(|view| view.in_effect && view.since == dated.since)
                    .cloned()
            });
            let view = ParameterView {
                param,
                label: parameter.label.clone(),
                group: parameter.group.clone(),
                status: parameter.status,
                source: parameter.source.clone(),
                owner: parameter.owner,
                can_add: may_add_value_of(actor, parameter.owner),
                in_force,
                history,
            };
            match groups.last_mut() {
                Some(group) if group.name == parameter.group => group.parameters.push(view),
                _ => groups.push(ParameterGroup {
                    name: parameter.group.clone(),
                    parameters: vec![view],
                }),
            }
        }
        Ok(PolicyPage {
            today,
            groups,
            can_add: may_add_policy_value(actor),
        })
    }

    /// 添加参数取值: a dated value of `added.param`, by the parameter's owner (区民政局 or
    /// 区农业农村委) or the administrator, at district level (another role is `Forbidden`). The core takes it against the parameter's unit before it is
    /// written (a fault names its field); the row and its audit event are written in one
    /// transaction; then this process's catalogue is rebuilt. A value at the date of an
    /// existing one corrects it (the earlier stays in the history). Returns the parameter; a
    /// name that is no parameter is `NotFound` (it names the record written to).
    pub async fn add_policy_value(
        &self,
        actor: &Actor,
        added: &AddedValue,
    ) -> Result<ParameterView, AppError> {
        if !may_add_policy_value(actor) {
            return Err(AppError::Forbidden);
        }
        let Some(named) = Param::from_name(added.param.trim()) else {
            return Err(AppError::NotFound);
        };
        if !may_add_value_of(actor, self.catalogue()?.parameter(named).owner) {
            return Err(AppError::Forbidden);
        }
        let (param, dated) = added.parse().map_err(refused)?;
        let now = self.now_text();
        let since = dated.since.to_string();
        let value_text = added.value.trim();
        let mut tx = self.store.begin().await?;
        let rows = store::policy::list(&mut tx).await?;
        // What the value replaces, if it corrects one at the same date (for the audit event).
        let before = self
            .build_catalogue(&rows)?
            .catalogue
            .parameter(param)
            .values
            .iter()
            .find(|existing| existing.since == dated.since)
            .map(|existing| value_json(param, existing));
        let id = store::policy::insert(
            &mut tx,
            &NewPolicyValue {
                param: param.name(),
                since: &since,
                value: value_text,
                source: &dated.source,
                status: dated.status.code(),
                note: dated.note.as_deref(),
                created_at: &now,
                created_by: actor.user_id,
            },
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::policy_parameter(
                now,
                actor.audit_name(),
                "policy_value.add",
                param.name().to_owned(),
            )
            .in_area(actor.area.as_str())
            .before(before)
            .after(
                serde_json::json!({
                    "id": id,
                    "param": param.name(),
                    "since": since,
                    "value": value_text,
                    "source": dated.source,
                    "status": dated.status.code(),
                    "note": dated.note,
                })
                .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        self.refresh_policy().await?;
        let page = self.policy_parameters(actor).await?;
        page.parameter(param).cloned().ok_or(AppError::NotFound)
    }
}
