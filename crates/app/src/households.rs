//! 家庭档案 use cases: search, view (masked or full, the full view logged), create, edit (D1, U2).

use crate::{Actor, App, AppError};
use domain::interchange::HouseholdRecord;
use domain::national_id::mask_name;
use domain::{Household, HouseholdNo, NationalId, PlaceCode, ShownId};
use store::audit::AuditEvent;
use store::households::{CategoryPeriodRow, HouseholdRow, MembershipRow};
pub use store::search::SearchBy;

/// One line of the registry list, masked for roles that need not see names and ID numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdListItem {
    pub id: i64,
    pub external_id: HouseholdNo,
    pub area_code: PlaceCode,
    pub place_name: String,
    pub head_name: String,
    pub head_id_number: ShownId,
    pub n_members: i64,
    /// The member an ID number search found, masked as the rest of the line.
    pub matched: Option<(String, ShownId)>,
}

/// One page of a registry search (检索), keyset paged.
#[derive(Clone, Debug)]
pub struct HouseholdPage {
    pub items: Vec<HouseholdListItem>,
    /// Lines counted from the search's index, up to `store::search::TOTAL_CAP`.
    pub total: i64,
    /// More than `total` lines (counting stopped at the cap).
    pub total_capped: bool,
    /// What the query was taken as.
    pub by: SearchBy,
    /// The `after=` of the next page, when there is one.
    pub next: Option<String>,
    pub per_page: i64,
    pub masked: bool,
}

/// Everything the household page shows.
#[derive(Clone, Debug)]
pub struct HouseholdDetail {
    pub id: i64,
    pub version: i64,
    pub household: Household,
    pub place_name: String,
    pub memberships: Vec<MembershipRow>,
    pub categories: Vec<CategoryPeriodRow>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// True when names in this value are masked and its ID numbers are to be shown masked
    /// (`shown`).
    pub masked: bool,
    /// The date ages are shown on.
    pub today: chrono::NaiveDate,
    /// 收入记录 (X2): the household's recorded incomes, oldest first; rule 9 reads the months
    /// above the monitoring line from them (`assess_household`).
    pub incomes: Vec<policy::IncomeRecord>,
}

impl HouseholdDetail {
    /// An ID number of this household (a member's, a membership's, a category holder's) as
    /// the reader is shown it: masked when the detail is.
    pub fn shown(&self, id: &NationalId) -> ShownId {
        ShownId::of(id, self.masked)
    }
}

fn household_of(row: &HouseholdRow) -> Result<Household, AppError> {
    household_from_record(row.id, &row.record)
}

/// A stored record back to the domain household (stored records were valid when written).
pub(crate) fn household_from_record(id: i64, record: &str) -> Result<Household, AppError> {
    let record: HouseholdRecord = serde_json::from_str(record)
        .map_err(|error| anyhow::anyhow!("household {id} record: {error}"))?;
    Household::try_from(&record)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("household {id} record: {error}")))
}

pub(crate) fn record_json(household: &Household) -> Result<String, AppError> {
    serde_json::to_string(&HouseholdRecord::from(household))
        .map_err(|error| AppError::Internal(error.into()))
}

pub const PER_PAGE: i64 = 50;

impl App {
    /// 检索 (issue 12): one page of the households inside the actor's area that `query` finds —
    /// an ID number prefix, a household number prefix, an area code prefix, a town's or
    /// village's name, or part of a member's name (recognised in that order; see
    /// `store::search`) — after the page cursor `after` (the `next` of the page before).
    pub async fn search_households(
        &self,
        actor: &Actor,
        query: &str,
        after: Option<&str>,
    ) -> Result<HouseholdPage, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let after =
            match after.map(str::trim).filter(|text| !text.is_empty()) {
                None => None,
                Some(text) => Some(store::search::SearchCursor::decode(text).ok_or_else(|| {
                    AppError::invalid("after", "翻页位置无效，请从第一页重新检索")
                })?),
            };
        let mut conn = self.store.read().await?;
        let page = store::search::search(
            &mut conn,
            actor.scope().as_str(),
            query,
            after.as_ref(),
            PER_PAGE,
        )
        .await
        .map_err(|error| match error {
            store::StoreError::Conflict(_) => {
                AppError::invalid("after", "翻页位置与检索词不符，请从第一页重新检索")
            }
            other => other.into(),
        })?;
        let masked = !actor.sees_unmasked();
        let shown_name = |name: String| if masked { mask_name(&name) } else { name };
        let shown_id = |id_number: NationalId| ShownId::of(&id_number, masked);
        let items = page
            .rows
            .into_iter()
            .map(|row| HouseholdListItem {
                id: row.id,
                external_id: row.external_id,
                area_code: row.area_code,
                place_name: row.place_name,
                head_name: shown_name(row.head_name),
                head_id_number: shown_id(row.head_id_number),
                n_members: row.n_members,
                matched: row
                    .matched_name
                    .zip(row.matched_id_number)
                    .map(|(name, id_number)| (shown_name(name), shown_id(id_number))),
            })
            .collect();
        Ok(HouseholdPage {
            items,
            total: page.total.count,
            total_capped: page.total.capped,
            by: page.by,
            next: page.next.map(|cursor| cursor.encode()),
            per_page: PER_PAGE,
            masked,
        })
    }

    async fn load_in_area(
        &self,
        conn: &mut store::Conn,
        actor: &Actor,
        id: i64,
    ) -> Result<HouseholdRow, AppError> {
        let row = store::households::get(conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let place = row.area_code.clone();
        if !actor.may_read_household(&place) {
            return Err(AppError::NotFound);
        }
        Ok(row)
    }

    /// 户详情. Roles that see masked lists get a masked record unless they ask for the full
    /// record (`full`); any unmasked view is written to the audit log.
    pub async fn household_detail(
        &self,
        actor: &Actor,
        id: i64,
        full: bool,
    ) -> Result<HouseholdDetail, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let mut tx = self.store.begin().await?;
        let row = self.load_in_area(&mut tx, actor, id).await?;
        let mut household = household_of(&row)?;
        let place_name = store::places::full_name(&mut tx, &household.area).await?;
        let mut memberships = store::households::membership_history(&mut tx, id).await?;
        let categories = store::households::category_history(&mut tx, id).await?;
        let incomes = crate::incomes::records_of(&mut tx, row.external_id.as_str()).await?;
        let masked = !(full || actor.sees_unmasked());
        if masked {
            for person in &mut household.members {
                person.name = mask_name(&person.name);
            }
            for membership in &mut memberships {
                membership.name = mask_name(&membership.name);
            }
        } else {
            store::audit::append_one(
                &mut tx,
                self.store.audit_key(),
                &AuditEvent::household(
                    self.now_text(),
                    actor.audit_name(),
                    "household.view_full",
                    row.external_id.clone(),
                )
                .in_area(&row.area_code),
            )
            .await?;
        }
        store::commit(tx).await?;
        Ok(HouseholdDetail {
            id,
            version: row.version,
            household,
            place_name,
            memberships,
            categories,
            updated_at: row.updated_at,
            incomes,
            masked,
            today: self.today(),
        })
    }

    /// 新建家庭档案 inside the actor's area; its members may not be members elsewhere (不重不漏).
    pub async fn create_household(
        &self,
        actor: &Actor,
        household: &Household,
    ) -> Result<i64, AppError> {
        if !actor.role.edits_households() {
            return Err(AppError::Forbidden);
        }
        if !actor.covers(&household.area) {
            return Err(AppError::invalid(
                "area_code",
                "所选村（社区）不在您的管辖范围内",
            ));
        }
        born_by_today(household, self.today())?;
        let json = record_json(household)?;
        let now = self.now_text();
        let today = self.today().to_string();
        let mut tx = self.store.begin().await?;
        check_place(&mut tx, &household.area).await?;
        if store::households::by_external_id(&mut tx, household.id.as_str())
            .await?
            .is_some()
        {
            return Err(AppError::invalid("id", "户编号已存在"));
        }
        check_members_free(&mut tx, actor, household, None).await?;
        let id = store::households::insert(&mut tx, household, &json, &today, &now).await?;
        // X2: the income entered joins the household's income history.
        crate::incomes::record(
            &mut tx,
            actor,
            household.id.as_str(),
            household,
            self.today(),
            crate::incomes::Source::Household,
            &now,
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &household_event(
                actor.audit_name(),
                &now,
                "household.create",
                household,
                None,
                Some(json),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(id)
    }

    /// 修改家庭档案: optimistic on `version`; composition changes are dated today.
    pub async fn update_household(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        household: &Household,
    ) -> Result<(), AppError> {
        if !actor.role.edits_households() {
            return Err(AppError::Forbidden);
        }
        born_by_today(household, self.today())?;
        let json = record_json(household)?;
        let now = self.now_text();
        let today = self.today().to_string();
        let mut tx = self.store.begin().await?;
        let row = self.load_in_area(&mut tx, actor, id).await?;
        if !actor.covers(&household.area) {
            return Err(AppError::invalid(
                "area_code",
                "所选村（社区）不在您的管辖范围内",
            ));
        }
        if household.id != row.external_id {
            return Err(AppError::invalid("id", "户编号不能修改"));
        }
        check_place(&mut tx, &household.area).await?;
        check_members_free(&mut tx, actor, household, Some(id)).await?;
        store::households::update(&mut tx, id, version, household, &json, &today, &now).await?;
        // X2: a changed income (or member count) joins the household's income history.
        let before = household_of(&row)?;
        if policy::IncomeRecord::of(&before, self.today())
            != policy::IncomeRecord::of(household, self.today())
        {
            crate::incomes::record(
                &mut tx,
                actor,
                household.id.as_str(),
                household,
                self.today(),
                crate::incomes::Source::Household,
                &now,
            )
            .await?;
        }
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &household_event(
                actor.audit_name(),
                &now,
                "household.update",
                household,
                Some(row.record),
                Some(json),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }
}

impl App {
    /// The villages and communities an actor may file households under, as (code, full name).
    pub async fn villages_for(&self, actor: &Actor) -> Result<Vec<(String, String)>, AppError> {
        let mut conn = self.store.read().await?;
        let scope = actor.scope();
        let towns = store::places::under(
            &mut conn,
            &scope
                .at_level(domain::PlaceLevel::District)
                .unwrap_or(scope.clone()),
            domain::PlaceLevel::Town,
        )
        .await?;
        let villages = store::places::under(&mut conn, &scope, domain::PlaceLevel::Village).await?;
        Ok(villages
            .into_iter()
            .map(|village| {
                let town = towns
                    .iter()
                    .find(|town| town.code.contains(&village.code))
                    .map_or("", |town| town.name.as_str());
                let label = format!("{town} {}", village.name);
                (village.code.as_str().to_owned(), label)
            })
            .collect())
    }
}

pub(crate) async fn check_place(conn: &mut store::Conn, area: &PlaceCode) -> Result<(), AppError> {
    if store::places::get(conn, area).await?.is_none() {
        return Err(AppError::invalid(
            "area_code",
            format!("区划代码{area}不存在"),
        ));
    }
    Ok(())
}

/// 不重不漏: a person belongs to one household at a time. The other household is named
/// only when it lies in the actor's area: a household elsewhere is not revealed (issue 15),
/// the refusal sends the user to the district instead.
pub(crate) async fn check_members_free(
    conn: &mut store::Conn,
    actor: &Actor,
    household: &Household,
    except: Option<i64>,
) -> Result<(), AppError> {
    for (idx, person) in household.members.iter().enumerate() {
        if let Some((other, area_code)) =
            store::households::open_membership_area(conn, &person.id_number, except).await?
        {
            let ours = actor.covers(&area_code);
            let message = if ours {
                format!("该成员已是户{other}的成员，同一人不能同时在两户")
            } else {
                "该成员已在本辖区以外的家庭中登记，同一人不能同时在两户；请联系区民政局核实"
                    .to_owned()
            };
            return Err(AppError::invalid(
                format!("members[{idx}].id_number"),
                message,
            ));
        }
    }
    Ok(())
}

pub(crate) fn household_event(
    actor: String,
    at: &str,
    action: &str,
    household: &Household,
    before: Option<String>,
    after: Option<String>,
) -> AuditEvent {
    AuditEvent::household(
        at.to_owned(),
        actor,
        action.to_owned(),
        household.id.clone(),
    )
    .in_area(household.area.as_str())
    .before(before)
    .after(after)
}

/// A member born after today (an ID number whose birth date is in the future) is refused,
/// naming the member's field.
fn born_by_today(household: &Household, today: chrono::NaiveDate) -> Result<(), AppError> {
    domain::interchange::check_born_by(household, today)
        .map_err(|error| AppError::invalid(error.field, error.reason))
}
