//! 救助帮扶 use cases (A1–A3): the assistance catalogue (seeded from `policy/assistance.toml`,
//! edited by district civil affairs, every version kept), a household's proposals (缺啥补啥),
//! referrals (转介) to departments and their handling, and the household's assistance chain.
//!
//! Who may do what: readers of the registry see proposals, chains and referrals of their area;
//! town reviewers and district approvers send referrals in their area; a department user
//! (`Role::Department` with a department set) handles the referrals of their department in
//! their area, and district civil affairs handles those of 区民政局; only district civil
//! affairs edits the catalogue.

use crate::households::household_from_record;
use crate::users::Creator;
use crate::{Actor, App, AppError};
use assist::{
    AssistCatalogue, Given, Item, ItemDef, Proposals, ReferralAction, ReferralState, Situation,
};
use chrono::{DateTime, NaiveDate, Utc};
use domain::national_id::{ShownId, mask_name};
use domain::{Category, ItemCode, MonitoringKind, Role, Yuan};
use store::assistance::{ItemVersionRow, ReferralEventRow, ReferralRow};
use store::audit::AuditEvent;

/// The department whose items district civil-affairs users handle themselves.
pub const CIVIL_AFFAIRS: &str = "civil_affairs";
const QUEUE_LIMIT: i64 = 50;

/// The catalogue in force, with who changed each item last.
#[derive(Clone, Debug)]
pub struct CatalogueView {
    pub catalogue: AssistCatalogue,
    /// (code, changed_at, changed_by) of each item's newest version.
    pub changes: Vec<(ItemCode, DateTime<Utc>, String)>,
    pub can_edit: bool,
}

/// One version of an item, for its history.
#[derive(Clone, Debug)]
pub struct ItemVersion {
    pub item: Item,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

/// A referral as pages and the API show it.
#[derive(Clone, Debug)]
pub struct ReferralView {
    pub row: ReferralRow,
    pub item_name: String,
    pub department_name: String,
    pub state: ReferralState,
    pub period_label: String,
    pub events: Vec<ReferralEventRow>,
    /// The head's ID number as shown: masked when `masked`.
    pub payee_id_number: ShownId,
    /// True when the head's name and ID number are masked in `row.head_name` and
    /// `payee_id_number`.
    pub masked: bool,
    /// The payee is shown unmasked to the department user who delivers the referral
    /// (`Actor::sees_payee`); the view is audited as `referral.reveal` when served.
    pub revealed: bool,
    /// Whether the actor may accept / deliver / decline it now.
    pub actions: Vec<ReferralAction>,
}

impl ReferralView {
    pub fn amount(&self) -> Option<Yuan> {
        self.row.amount_fen.map(Yuan::from_fen)
    }
}

/// The 救助帮扶 section of a household page or a case page.
#[derive(Clone, Debug)]
pub struct HouseholdAssistance {
    pub as_of: NaiveDate,
    pub categories: Vec<Category>,
    pub proposals: Proposals,
    pub chain: Vec<ReferralView>,
    /// The actor may send referrals and supplements from this view now.
    pub can_refer: bool,
    /// The registry row of the household (`None` for a first application not yet confirmed).
    pub household_id: Option<i64>,
    /// On a case page: the case, so that a referral sent from it returns there.
    pub case_id: Option<i64>,
    /// 预计帮扶: what the household would get once the case's categories stand; nothing can be
    /// sent from it.
    pub preview: bool,
    /// What the proposals rest on, in Chinese (`在册类别`, `本案入户调查（…）和联合研判认定意见`).
    pub basis: String,
}

/// What a household's proposals are computed from: its record and the categories it holds
/// (or, on a case, will hold).
struct Basis {
    household: domain::Household,
    categories: Vec<Category>,
    monitoring: Option<MonitoringKind>,
    /// The categories are a running case's, not yet held.
    pending: bool,
}

/// The referrals that count as given (不重), for the core.
fn given_of(referrals: &[ReferralRow]) -> Vec<Given> {
    referrals
        .iter()
        .filter(|r| r.state.counts_as_given())
        .map(|r| Given {
            referral_id: r.id,
            item_code: r.item_code.to_string(),
            period: r.period,
            delivered: r.state == ReferralState::Delivered,
            supplementary: r.supplementary_reason.is_some(),
        })
        .collect()
}

/// What a department user does to a referral.
#[derive(Clone, Debug)]
pub enum ReferralAct {
    Accept {
        note: String,
    },
    Deliver {
        amount: String,
        on: String,
        note: String,
    },
    Decline {
        reason: String,
    },
}

impl ReferralAct {
    pub fn action(&self) -> ReferralAction {
        match self {
            ReferralAct::Accept { .. } => ReferralAction::Accept,
            ReferralAct::Deliver { .. } => ReferralAction::Deliver,
            ReferralAct::Decline { .. } => ReferralAction::Decline,
        }
    }
}

/// The referral queue of an actor.
#[derive(Clone, Debug)]
pub struct ReferralQueue {
    pub items: Vec<ReferralView>,
    /// The actor's department (department users), with its name.
    pub department: Option<(String, String)>,
    /// A department user without a department sees nothing; this says why.
    pub notice: String,
    pub state: Option<ReferralState>,
    /// Referrals of the queue, counted up to `store::search::TOTAL_CAP` (`total_capped` past it).
    pub total: i64,
    pub total_capped: bool,
    /// The `after=` of the next page (newest first), when there is one.
    pub next: Option<String>,
    pub per_page: i64,
}

fn sends_referrals(role: Role) -> bool {
    matches!(
        role,
        Role::TownReviewer | Role::DistrictCivilAffairs | Role::DistrictAgriculture
    )
}

fn item_of(row: &ItemVersionRow, departments: &[assist::Department]) -> Result<Item, AppError> {
    let def: ItemDef = serde_json::from_str(&row.definition).map_err(|error| {
        anyhow::anyhow!("assistance item {} v{}: {error}", row.code, row.version)
    })?;
    Item::from_def(&def, departments, row.version).map_err(|error| {
        AppError::Internal(anyhow::anyhow!(
            "assistance item {} v{}: {error}",
            row.code,
            row.version
        ))
    })
}

/// A department code of the assistance catalogue, or a fault on the `department` field.
pub fn check_department(department: &str) -> Result<(), AppError> {
    if departments()?.iter().any(|d| d.code == department) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "department",
            format!("未知部门“{department}”"),
        ))
    }
}

fn departments() -> Result<Vec<assist::Department>, AppError> {
    AssistCatalogue::builtin_departments()
        .map_err(|error| AppError::Internal(anyhow::anyhow!("policy/assistance.toml: {error}")))
}

fn duplicate_message(item: &str, period: &str, state: &str, id: i64) -> String {
    format!("该户“{item}”{period}已{state}（转介单第{id}号），同一项目同一期间不得重复发放")
}

/// The code of a validated item (`Item::from_def` checked it as `ItemCode` does).
fn code_of(item: &Item) -> Result<ItemCode, AppError> {
    ItemCode::parse(&item.code)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("item {}: {error}", item.code)))
}

impl App {
    /// The catalogue in force, seeding the shipped one on first use (one audited transaction).
    pub(crate) async fn assist_catalogue(
        &self,
    ) -> Result<(AssistCatalogue, Vec<ItemVersionRow>), AppError> {
        let departments = departments()?;
        let mut conn = self.store.read().await?;
        let mut rows = store::assistance::current_items(&mut conn).await?;
        drop(conn);
        if rows.is_empty() {
            self.seed_assistance_catalogue().await?;
            let mut conn = self.store.read().await?;
            rows = store::assistance::current_items(&mut conn).await?;
        }
        let items = rows
            .iter()
            .map(|row| item_of(row, &departments))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((AssistCatalogue { departments, items }, rows))
    }

    /// Stores the shipped catalogue as version 1 of each item, once.
    pub async fn seed_assistance_catalogue(&self) -> Result<(), AppError> {
        let builtin = AssistCatalogue::builtin()
            .map_err(|error| AppError::Internal(anyhow::anyhow!("{error}")))?;
        let at = self.now();
        let now = crate::timestamp(at);
        let mut tx = self.store.begin().await?;
        if store::assistance::count_items(&mut tx).await? > 0 {
            return Ok(());
        }
        let mut events = Vec::new();
        for item in &builtin.items {
            let definition = serde_json::to_string(&item.to_def())
                .map_err(|error| AppError::Internal(error.into()))?;
            store::assistance::insert_item_version(
                &mut tx,
                &ItemVersionRow {
                    code: code_of(item)?,
                    version: 1,
                    definition: definition.clone(),
                    changed_at: at,
                    changed_by: "policy/assistance.toml".into(),
                },
            )
            .await?;
            events.push(
                AuditEvent::assistance_item(
                    now.clone(),
                    "system",
                    "assistance_item.seed",
                    item.code.clone(),
                )
                .after(definition),
            );
        }
        let mut chain = store::audit::Chain::lock(&mut tx, self.store.audit_key()).await?;
        chain.append_many(&mut tx, &events).await?;
        chain.finish(&mut tx).await?;
        store::commit(tx).await?;
        Ok(())
    }

    /// 救助帮扶目录 as in force; every signed-in role but the administrator reads it.
    pub async fn assistance_catalogue(&self, actor: &Actor) -> Result<CatalogueView, AppError> {
        if actor.role == Role::Admin {
            return Err(AppError::Forbidden);
        }
        let (catalogue, rows) = self.assist_catalogue().await?;
        Ok(CatalogueView {
            catalogue,
            changes: rows
                .into_iter()
                .map(|row| (row.code, row.changed_at, row.changed_by))
                .collect(),
            can_edit: actor.role == Role::DistrictCivilAffairs,
        })
    }

    /// Every version of one item, newest first.
    pub async fn assistance_item_history(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<Vec<ItemVersion>, AppError> {
        if actor.role == Role::Admin {
            return Err(AppError::Forbidden);
        }
        self.assist_catalogue().await?;
        let departments = departments()?;
        let mut conn = self.store.read().await?;
        let rows = store::assistance::item_history(&mut conn, code).await?;
        if rows.is_empty() {
            return Err(AppError::NotFound);
        }
        rows.iter()
            .map(|row| {
                Ok(ItemVersion {
                    item: item_of(row, &departments)?,
                    changed_at: row.changed_at,
                    changed_by: row.changed_by.clone(),
                })
            })
            .collect()
    }

    /// 编辑目录项目: a new version of an item (or a new item when `expected_version` is 0),
    /// by district civil affairs only; an item changed meanwhile is a `Conflict`.
    pub async fn save_assistance_item(
        &self,
        actor: &Actor,
        def: &ItemDef,
        expected_version: i64,
    ) -> Result<i64, AppError> {
        if actor.role != Role::DistrictCivilAffairs {
            return Err(AppError::Forbidden);
        }
        self.assist_catalogue().await?;
        let departments = departments()?;
        let item = Item::from_def(def, &departments, expected_version + 1)
            .map_err(|error| AppError::invalid(error.field.clone(), error.reason.clone()))?;
        let definition = serde_json::to_string(&item.to_def())
            .map_err(|error| AppError::Internal(error.into()))?;
        let at = self.now();
        let now = crate::timestamp(at);
        let mut tx = self.store.begin().await?;
        let history = store::assistance::item_history(&mut tx, &item.code).await?;
        let current = history.first().map_or(0, |row| row.version);
        if current != expected_version {
            return Err(AppError::Conflict(if expected_version == 0 {
                format!("代码“{}”已被使用", item.code)
            } else {
                "该项目已被他人修改，请重新打开后再修改".to_owned()
            }));
        }
        let version = current + 1;
        store::assistance::insert_item_version(
            &mut tx,
            &ItemVersionRow {
                code: code_of(&item)?,
                version,
                definition: definition.clone(),
                changed_at: at,
                changed_by: actor.audit_name(),
            },
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::assistance_item(
                now,
                actor.audit_name(),
                "assistance_item.save",
                item.code.clone(),
            )
            .in_area(actor.area.as_str())
            .before(history.first().map(|row| row.definition.clone()))
            .after(definition),
        )
        .await?;
        store::commit(tx).await?;
        Ok(version)
    }

    /// 设置所属部门 of a department user (by an administrator, or at the console).
    pub async fn set_user_department(
        &self,
        creator: Creator<'_>,
        username: &str,
        department: &str,
    ) -> Result<(), AppError> {
        let actor_name = match &creator {
            Creator::Admin(actor) if actor.role == Role::Admin => actor.audit_name(),
            Creator::Admin(_) => return Err(AppError::Forbidden),
            Creator::Console(operator) => format!("console:{operator}"),
        };
        check_department(department)?;
        let mut tx = self.store.begin().await?;
        let user = store::users::by_username(&mut tx, username)
            .await?
            .ok_or(AppError::NotFound)?;
        if user.role != Role::Department {
            return Err(AppError::invalid(
                "department",
                "只有专项部门用户可以设置所属部门",
            ));
        }
        if let Creator::Admin(actor) = &creator
            && !actor.covers(&user.area_code)
        {
            return Err(AppError::NotFound);
        }
        let before = store::assistance::department_of(&mut tx, user.id).await?;
        store::assistance::set_department(&mut tx, username, department).await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::user(
                self.now_text(),
                actor_name,
                "user.set_department",
                username.to_owned(),
            )
            .in_area(&user.area_code)
            .before(before)
            .after(department.to_owned()),
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }

    /// The categories held on `date` (registry periods) and the monitoring type.
    fn held_on(
        periods: &[store::households::CategoryPeriodRow],
        date: NaiveDate,
    ) -> (Vec<Category>, Option<MonitoringKind>) {
        let mut categories = Vec::new();
        let mut monitoring = None;
        for period in periods {
            let open = period.start_date <= date && period.end_date.is_none_or(|end| end > date);
            if !open {
                continue;
            }
            let category = period.category;
            if !categories.contains(&category) {
                categories.push(category);
            }
            if category == Category::Monitoring {
                monitoring = period.monitoring_kind;
            }
        }
        categories.sort();
        (categories, monitoring)
    }

    /// The department of the actor (department users), read from the store.
    async fn department_of(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
    ) -> Result<Option<String>, AppError> {
        if actor.role != Role::Department {
            return Ok(None);
        }
        Ok(store::assistance::department_of(conn, actor.user_id).await?)
    }

    /// Whether the actor handles referrals of `department` (not yet checking the area).
    fn handles(actor: &Actor, actor_department: Option<&str>, department: &str) -> bool {
        match actor.role {
            Role::Department => actor_department == Some(department),
            Role::DistrictCivilAffairs => department == CIVIL_AFFAIRS,
            _ => false,
        }
    }

    fn referral_view(
        &self,
        actor: &Actor,
        actor_department: Option<&str>,
        catalogue: &AssistCatalogue,
        items: &[ItemVersionRow],
        mut row: ReferralRow,
        events: Vec<ReferralEventRow>,
    ) -> Result<ReferralView, AppError> {
        let state = row.state;
        // The name and period of the version the referral was sent for.
        let sent_version = items
            .iter()
            .find(|v| v.code == row.item_code && v.version == row.item_version)
            .map(|v| item_of(v, &catalogue.departments))
            .transpose()?;
        let item = sent_version
            .as_ref()
            .or_else(|| catalogue.item(row.item_code.as_str()));
        let item_name = item.map_or_else(|| row.item_code.to_string(), |item| item.name.clone());
        let period_label = row.period.label();
        let area = row.area_code.clone();
        let revealed = actor.sees_payee(actor_department, &row.department, &area, state.is_open());
        let masked = !(actor.sees_unmasked() || revealed);
        if masked {
            row.head_name = mask_name(&row.head_name);
        }
        let payee_id_number = ShownId::of(&row.head_id_number, masked);
        let may_act =
            Self::handles(actor, actor_department, &row.department) && actor.covers(&area);
        let actions = if may_act {
            ReferralAction::ALL
                .iter()
                .copied()
                .filter(|action| assist::next_state(state, *action).is_ok())
                .collect()
        } else {
            Vec::new()
        };
        Ok(ReferralView {
            department_name: catalogue.department_name(&row.department).to_owned(),
            item_name,
            state,
            period_label,
            events,
            payee_id_number,
            masked,
            revealed,
            actions,
            row,
        })
    }

    /// Item versions the referrals were sent for (to show each with its own meaning).
    async fn sent_versions(
        conn: &mut store::Conn,
        rows: &[ReferralRow],
    ) -> Result<Vec<ItemVersionRow>, AppError> {
        let mut versions: Vec<ItemVersionRow> = Vec::new();
        for row in rows {
            if versions
                .iter()
                .any(|v| v.code == row.item_code && v.version == row.item_version)
            {
                continue;
            }
            if let Some(version) =
                store::assistance::item_version(conn, row.item_code.as_str(), row.item_version)
                    .await?
            {
                versions.push(version);
            }
        }
        Ok(versions)
    }

    /// The registered household as the registry holds it on `today`: its record and the
    /// categories of its open periods. Out of the actor's area is `NotFound`.
    async fn registry_basis(
        &self,
        actor: &Actor,
        household_id: i64,
        today: NaiveDate,
    ) -> Result<Basis, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let mut conn = self.store.read().await?;
        let row = store::households::get(&mut conn, household_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !actor.may_read_household(&row.area_code) {
            return Err(AppError::NotFound);
        }
        let household = household_from_record(row.id, &row.record)?;
        let periods = store::households::category_history(&mut conn, household_id).await?;
        drop(conn);
        let (categories, monitoring) = Self::held_on(&periods, today);
        Ok(Basis {
            household,
            categories,
            monitoring,
            pending: false,
        })
    }

    /// The proposals on `basis` against what the registered household (if any) was already
    /// sent or given, with its chain. The one place both pages get their proposals from.
    async fn assistance_of(
        &self,
        actor: &Actor,
        basis: Basis,
        household_id: Option<i64>,
        today: NaiveDate,
    ) -> Result<HouseholdAssistance, AppError> {
        let (catalogue, _) = self.assist_catalogue().await?;
        let (referrals, events, versions) = match household_id {
            Some(id) => {
                let mut conn = self.store.read().await?;
                let referrals = store::assistance::for_household(&mut conn, id).await?;
                let events = store::assistance::events_for_household(&mut conn, id).await?;
                let versions = Self::sent_versions(&mut conn, &referrals).await?;
                (referrals, events, versions)
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        let given = given_of(&referrals);
        let policy = self.catalogue()?;
        let snapshot = policy.snapshot(today);
        let situation = Situation {
            household: &basis.household,
            categories: basis.categories.iter().copied().collect(),
            monitoring: basis.monitoring,
            as_of: today,
            pending: basis.pending,
        };
        let proposals = assist::propose(&catalogue, &situation, &given, &snapshot);
        let chain = referrals
            .into_iter()
            .map(|referral| {
                let own: Vec<ReferralEventRow> = events
                    .iter()
                    .filter(|e| e.referral_id == referral.id)
                    .cloned()
                    .collect();
                self.referral_view(actor, None, &catalogue, &versions, referral, own)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HouseholdAssistance {
            as_of: today,
            categories: basis.categories,
            proposals,
            chain,
            can_refer: sends_referrals(actor.role) && household_id.is_some(),
            household_id,
            case_id: None,
            preview: false,
            basis: "在册类别".to_owned(),
        })
    }

    /// 救助帮扶 of one household: its needs and proposals on today's date, and its chain.
    pub async fn household_assistance(
        &self,
        actor: &Actor,
        household_id: i64,
    ) -> Result<HouseholdAssistance, AppError> {
        let today = self.today();
        let basis = self.registry_basis(actor, household_id, today).await?;
        self.assistance_of(actor, basis, Some(household_id), today)
            .await
    }

    /// 救助帮扶 on a case page (A2: shown on the household and case pages). While the case
    /// runs, a preview (预计帮扶) on the case's survey — the newer truth — and the categories
    /// the case is deciding: the joint review's (declined ones left out), or before it the
    /// rules engine's proposal; nothing can be sent. Once the case is closed, the household's
    /// own proposals as the registry holds them (confirmation wrote the survey and the
    /// categories there), sendable as on the household page. `None` while there is nothing
    /// to go on (no survey, and the household not in the registry).
    pub async fn case_assistance(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> Result<Option<HouseholdAssistance>, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let today = self.today();
        let mut conn = self.store.read().await?;
        let (row, events) = self.load_case(&mut conn, actor, case_id).await?;
        drop(conn);
        let case = crate::cases::replay(case_id, &events)?;
        let step = case.step();
        if step.is_final() {
            let Some(household_id) = row.household_id else {
                return Ok(None);
            };
            let mut assistance = self.household_assistance(actor, household_id).await?;
            assistance.case_id = Some(case_id);
            if step == workflow::Step::Confirmed {
                assistance.basis = "在册类别（本案审核确认后）".to_owned();
            }
            return Ok(Some(assistance));
        }
        let (household, record) = match (case.survey(), row.household_id) {
            (Some(survey), _) => (
                survey.household.clone(),
                format!("本案入户调查（{}）", survey.surveyed_on),
            ),
            (None, Some(household_id)) => {
                // Before the survey the registry's record is all there is.
                let basis = self.registry_basis(actor, household_id, today).await?;
                let mut assistance = self
                    .assistance_of(actor, basis, Some(household_id), today)
                    .await?;
                assistance.case_id = Some(case_id);
                assistance.preview = true;
                assistance.can_refer = false;
                assistance.basis = "家庭档案和在册类别（本案尚未入户调查）".to_owned();
                return Ok(Some(assistance));
            }
            (None, None) => return Ok(None),
        };
        let (categories, monitoring, decided_by) = match case.holds_after_review() {
            Some((categories, monitoring)) => (categories, monitoring, "联合研判认定意见"),
            None => {
                let mut conn = self.store.read().await?;
                let proposal = self.proposal(&mut conn, &case, today).await?;
                (
                    proposal.categories,
                    proposal.monitoring_kind,
                    "规则引擎认定建议",
                )
            }
        };
        let basis = Basis {
            household,
            categories,
            monitoring,
            pending: true,
        };
        let mut assistance = self
            .assistance_of(actor, basis, row.household_id, today)
            .await?;
        assistance.case_id = Some(case_id);
        assistance.preview = true;
        assistance.can_refer = false;
        assistance.basis = format!("{record}和{decided_by}");
        Ok(Some(assistance))
    }

    /// 转介: sends a proposal of the household to the item's department. The item must be
    /// proposed today; the same item in the same period is never sent or paid twice.
    pub async fn create_referral(
        &self,
        actor: &Actor,
        household_id: i64,
        item_code: &str,
    ) -> Result<i64, AppError> {
        self.send_referral(actor, household_id, item_code, None)
            .await
    }

    /// 补充帮扶: sends a further fitting item of a need already answered in its period, with
    /// the written reason (补充理由), kept on the referral. `assist::supplement` decides: no
    /// reason, the better item not sent yet, an item that does not fit the household, or one
    /// already sent or given in its period are refused.
    pub async fn create_supplementary_referral(
        &self,
        actor: &Actor,
        household_id: i64,
        item_code: &str,
        reason: &str,
    ) -> Result<i64, AppError> {
        self.send_referral(actor, household_id, item_code, Some(reason))
            .await
    }

    async fn send_referral(
        &self,
        actor: &Actor,
        household_id: i64,
        item_code: &str,
        supplementary_reason: Option<&str>,
    ) -> Result<i64, AppError> {
        let today = self.today();
        // Reads the household in the actor's area first: out of area is NotFound for every role.
        let basis = self.registry_basis(actor, household_id, today).await?;
        if !sends_referrals(actor.role) {
            return Err(AppError::Forbidden);
        }
        let supplementary_reason = supplementary_reason.map(str::trim);
        // The core refuses a blank reason too; asked first, it is the answer whatever else.
        if supplementary_reason == Some("") {
            return Err(AppError::invalid(
                "supplementary_reason",
                assist::SupplementRefusal::ReasonMissing.to_string(),
            ));
        }
        let (catalogue, _) = self.assist_catalogue().await?;
        let item = catalogue.item(item_code).ok_or_else(|| {
            AppError::invalid("item_code", format!("目录中没有救助项目“{item_code}”"))
        })?;
        let period = item.period.key(today);
        let policy = self.catalogue()?;
        let snapshot = policy.snapshot(today);
        let at = self.now();
        let now = crate::timestamp(at);
        let mut tx = self.store.begin().await?;
        let household = store::households::get(&mut tx, household_id)
            .await?
            .ok_or(AppError::NotFound)?;
        // 不重: checked again inside the write transaction.
        let referrals = store::assistance::for_household(&mut tx, household_id).await?;
        for existing in &referrals {
            let state = existing.state;
            if existing.item_code == item.code
                && existing.period == period
                && state.counts_as_given()
            {
                let state_label = if state == ReferralState::Delivered {
                    "发放"
                } else {
                    "转介、正在办理"
                };
                return Err(AppError::Conflict(duplicate_message(
                    &item.name,
                    &period.label(),
                    state_label,
                    existing.id,
                )));
            }
        }
        let given = given_of(&referrals);
        let situation = Situation {
            household: &basis.household,
            categories: basis.categories.iter().copied().collect(),
            monitoring: basis.monitoring,
            as_of: today,
            pending: basis.pending,
        };
        let proposal = match supplementary_reason {
            None => assist::propose(&catalogue, &situation, &given, &snapshot)
                .proposal(&item.code)
                .cloned()
                .ok_or_else(|| {
                    AppError::invalid(
                        "item_code",
                        format!(
                            "“{}”不在本户当前的帮扶建议中（缺啥补啥、就高不就低），不能转介；已转介项目之外仍有困难的，可作为补充帮扶转介",
                            item.name
                        ),
                    )
                })?,
            Some(reason) => assist::supplement(
                &catalogue, &situation, &given, &snapshot, &item.code, reason,
            )
            .map_err(|refusal| match refusal {
                assist::SupplementRefusal::AlreadyGiven { .. } => {
                    AppError::Conflict(refusal.to_string())
                }
                other => AppError::invalid(other.field(), other.to_string()),
            })?,
        };
        let needs: Vec<&str> = proposal.needs.iter().map(|n| n.code()).collect();
        let id = store::assistance::insert_referral(
            &mut tx,
            &store::assistance::NewReferral {
                household_id,
                area_code: household.area_code.as_str(),
                item_code: &item.code,
                item_version: item.version,
                department: &item.department,
                needs: &needs.join(","),
                reason: &proposal.reason,
                period: &period.to_string(),
                state: ReferralState::Sent.code(),
                created_on: &today.to_string(),
                created_by: &actor.audit_name(),
                now: &now,
                supplementary_reason,
            },
        )
        .await?;
        let note = match supplementary_reason {
            None => format!("转介至{}：{}", proposal.department_name, proposal.reason),
            Some(reason) => format!(
                "补充转介至{}（补充理由：{reason}）：{}",
                proposal.department_name, proposal.reason
            ),
        };
        store::assistance::append_event(
            &mut tx,
            &ReferralEventRow {
                referral_id: id,
                seq: 1,
                on_date: today,
                state: ReferralState::Sent,
                actor: actor.audit_name(),
                note,
                recorded_at: at,
            },
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::referral(
                now,
                actor.audit_name(),
                if supplementary_reason.is_some() {
                    "referral.create_supplementary"
                } else {
                    "referral.create"
                },
                id,
            )
            .in_area(&household.area_code)
            .after(
                serde_json::json!({
                    "household": household.external_id.as_str(),
                    "item_code": item.code,
                    "item_version": item.version,
                    "department": item.department,
                    "period": period.to_string(),
                    "state": "sent",
                    "supplementary_reason": supplementary_reason,
                })
                .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(id)
    }

    /// 转介队列: a department user's referrals (their department, their area); readers of the
    /// registry see every referral of their area.
    pub async fn referral_queue(
        &self,
        actor: &Actor,
        state: Option<ReferralState>,
        after: Option<&str>,
    ) -> Result<ReferralQueue, AppError> {
        if !(actor.role == Role::Department || actor.role.reads_households()) {
            return Err(AppError::Forbidden);
        }
        let after =
            match after.map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(text.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(
                    || AppError::invalid("after", "翻页位置无效，请从第一页重新查看"),
                )?),
            };
        let (catalogue, _) = self.assist_catalogue().await?;
        let mut conn = self.store.read().await?;
        let department = self.department_of(&mut conn, actor).await?;
        if actor.role == Role::Department && department.is_none() {
            return Ok(ReferralQueue {
                items: Vec::new(),
                department: None,
                notice: "您的账户尚未设置所属部门，请联系系统管理员".to_owned(),
                state,
                total: 0,
                total_capped: false,
                next: None,
                per_page: QUEUE_LIMIT,
            });
        }
        let scope = actor.scope();
        let list = store::assistance::in_area(
            &mut conn,
            &store::assistance::ReferralFilter {
                area_prefix: scope.as_str(),
                department: department.as_deref(),
                state: state.map(ReferralState::code),
                after,
                limit: QUEUE_LIMIT,
            },
        )
        .await?;
        let rows = list.rows;
        let versions = Self::sent_versions(&mut conn, &rows).await?;
        drop(conn);
        let items = rows
            .into_iter()
            .map(|row| {
                self.referral_view(
                    actor,
                    department.as_deref(),
                    &catalogue,
                    &versions,
                    row,
                    Vec::new(),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.audit_reveals(actor, &items).await?;
        Ok(ReferralQueue {
            items,
            department: department.map(|code| {
                let name = catalogue.department_name(&code).to_owned();
                (code, name)
            }),
            notice: String::new(),
            state,
            total: list.total,
            total_capped: list.capped,
            next: list.next.map(|id| id.to_string()),
            per_page: QUEUE_LIMIT,
        })
    }

    /// Loads a referral the actor may see: their area, and for department users their department.
    async fn referral_in_scope(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        id: i64,
    ) -> Result<(ReferralRow, Option<String>), AppError> {
        if !(actor.role == Role::Department || actor.role.reads_households()) {
            return Err(AppError::Forbidden);
        }
        let row = store::assistance::get_referral(conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let department = self.department_of(conn, actor).await?;
        let visible = actor.covers(&row.area_code)
            && (actor.role != Role::Department || department.as_deref() == Some(&row.department));
        if !visible {
            return Err(AppError::NotFound);
        }
        Ok((row, department))
    }

    /// One referral with its history (the API); a payee shown unmasked to the department user
    /// who delivers it is audited (`referral.reveal`).
    pub async fn referral(&self, actor: &Actor, id: i64) -> Result<ReferralView, AppError> {
        let view = self.referral_unaudited(actor, id).await?;
        self.audit_reveals(actor, std::slice::from_ref(&view))
            .await?;
        Ok(view)
    }

    /// The printable 转介单: personal data masked for every role (a printout leaves the
    /// platform), so nothing is revealed and nothing audited.
    pub async fn referral_slip(&self, actor: &Actor, id: i64) -> Result<ReferralView, AppError> {
        let mut view = self.referral_unaudited(actor, id).await?;
        view.row.head_name = mask_name(&view.row.head_name);
        view.payee_id_number = ShownId::of(&view.row.head_id_number, true);
        view.masked = true;
        view.revealed = false;
        Ok(view)
    }

    /// One `referral.reveal` per view served with its payee unmasked, in one transaction.
    async fn audit_reveals(&self, actor: &Actor, views: &[ReferralView]) -> Result<(), AppError> {
        let now = self.now_text();
        let events: Vec<AuditEvent> = views
            .iter()
            .filter(|view| view.revealed)
            .map(|view| {
                AuditEvent::referral_reveal(
                    now.clone(),
                    actor.audit_name(),
                    view.row.id,
                    view.row.area_code.clone(),
                    view.row.state.code(),
                )
            })
            .collect();
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        let mut chain = store::audit::Chain::lock(&mut tx, self.store.audit_key()).await?;
        chain.append_many(&mut tx, &events).await?;
        chain.finish(&mut tx).await?;
        store::commit(tx).await?;
        Ok(())
    }

    async fn referral_unaudited(&self, actor: &Actor, id: i64) -> Result<ReferralView, AppError> {
        let (catalogue, _) = self.assist_catalogue().await?;
        let mut conn = self.store.read().await?;
        let (row, department) = self.referral_in_scope(&mut conn, actor, id).await?;
        let events = store::assistance::events(&mut conn, id).await?;
        let versions = Self::sent_versions(&mut conn, std::slice::from_ref(&row)).await?;
        drop(conn);
        self.referral_view(
            actor,
            department.as_deref(),
            &catalogue,
            &versions,
            row,
            events,
        )
    }

    /// 受理 / 落实 / 退回 by the referral's department (U2: role, department and area checked).
    pub async fn act_on_referral(
        &self,
        actor: &Actor,
        id: i64,
        act: &ReferralAct,
    ) -> Result<ReferralState, AppError> {
        let (catalogue, _) = self.assist_catalogue().await?;
        let today = self.today();
        let at = self.now();
        let now = crate::timestamp(at);
        let mut tx = self.store.begin().await?;
        let (row, department) = self.referral_in_scope(&mut tx, actor, id).await?;
        if !Self::handles(actor, department.as_deref(), &row.department) {
            return Err(AppError::Forbidden);
        }
        let state = row.state;
        let next = assist::next_state(state, act.action()).map_err(AppError::Conflict)?;
        let item_name = catalogue
            .item(row.item_code.as_str())
            .map_or_else(|| row.item_code.to_string(), |item| item.name.clone());
        let period_label = row.period.label();
        let day_text = |day: Option<NaiveDate>| day.map(|day| day.to_string());
        let (stored_accepted, stored_delivered, stored_declined) = (
            day_text(row.accepted_on),
            day_text(row.delivered_on),
            day_text(row.declined_on),
        );
        let mut update = store::assistance::ReferralUpdate {
            state: next.code(),
            accepted_on: stored_accepted.as_deref(),
            delivered_on: stored_delivered.as_deref(),
            amount_fen: row.amount_fen,
            note: row.note.as_deref(),
            declined_on: stored_declined.as_deref(),
            decline_reason: row.decline_reason.as_deref(),
            now: &now,
        };
        let today_text = today.to_string();
        let event_note;
        let on_date;
        let delivered_text;
        match act {
            ReferralAct::Accept { note } => {
                update.accepted_on = Some(&today_text);
                on_date = today;
                event_note = if note.trim().is_empty() {
                    "已受理".to_owned()
                } else {
                    format!("已受理：{}", note.trim())
                };
            }
            ReferralAct::Deliver { amount, on, note } => {
                let amount = Yuan::parse(amount).map_err(|_| {
                    AppError::invalid(
                        "amount",
                        format!("发放金额“{amount}”无效，应为元，最多两位小数"),
                    )
                })?;
                if amount.fen() < 0 {
                    return Err(AppError::invalid("amount", "发放金额不能为负数"));
                }
                let date = NaiveDate::parse_from_str(on.trim(), "%Y-%m-%d").map_err(|_| {
                    AppError::invalid(
                        "delivered_on",
                        format!("落实日期“{on}”无效，应为YYYY-MM-DD"),
                    )
                })?;
                if date > today {
                    return Err(AppError::invalid("delivered_on", "落实日期不能晚于今天"));
                }
                if date < row.created_on {
                    return Err(AppError::invalid(
                        "delivered_on",
                        format!("落实日期不能早于转介日期{}", row.created_on),
                    ));
                }
                // 不重: no second payment of the item to the household in the period.
                for other in store::assistance::for_household(&mut tx, row.household_id).await? {
                    if other.id != row.id
                        && other.item_code == row.item_code
                        && other.period == row.period
                        && other.state == ReferralState::Delivered
                    {
                        return Err(AppError::Conflict(duplicate_message(
                            &item_name,
                            &period_label,
                            "发放",
                            other.id,
                        )));
                    }
                }
                delivered_text = date.to_string();
                update.delivered_on = Some(&delivered_text);
                update.amount_fen = Some(amount.fen());
                update.note = Some(note.trim()).filter(|n| !n.is_empty());
                on_date = date;
                event_note = if note.trim().is_empty() {
                    format!("已落实，金额{amount}元")
                } else {
                    format!("已落实，金额{amount}元：{}", note.trim())
                };
            }
            ReferralAct::Decline { reason } => {
                if reason.trim().is_empty() {
                    return Err(AppError::invalid("reason", "退回须说明理由"));
                }
                update.declined_on = Some(&today_text);
                update.decline_reason = Some(reason.trim());
                on_date = today;
                event_note = format!("已退回：{}", reason.trim());
            }
        }
        store::assistance::update_referral(&mut tx, id, row.version, &update)
            .await
            .map_err(|error| match error {
                // The unique index caught a concurrent second delivery.
                store::StoreError::Conflict(_) if next == ReferralState::Delivered => {
                    AppError::Conflict(duplicate_message(&item_name, &period_label, "发放", id))
                }
                other => other.into(),
            })?;
        let seq = store::assistance::events(&mut tx, id).await?.len() as i64 + 1;
        store::assistance::append_event(
            &mut tx,
            &ReferralEventRow {
                referral_id: id,
                seq,
                on_date,
                state: next,
                actor: actor.audit_name(),
                note: event_note.clone(),
                recorded_at: at,
            },
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::referral(
                now.clone(),
                actor.audit_name(),
                format!("referral.{}", act.action().code()),
                id,
            )
            .in_area(&row.area_code)
            .before(serde_json::json!({ "state": row.state.code() }).to_string())
            .after(
                serde_json::json!({
                    "state": next.code(),
                    "amount_fen": update.amount_fen,
                    "delivered_on": update.delivered_on,
                    "note": event_note,
                })
                .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(next)
    }
}
