//! 权限: who may do what where (U2). Deny by default.

use domain::{PlaceCode, PlaceLevel, Role};

/// The signed-in user on whose behalf a use case runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: PlaceCode,
}

impl Actor {
    /// The operator at the console (who holds the database credentials anyway), acting over
    /// the whole district for read-only batch work such as `safetynet simulate`.
    pub fn console(operator: &str, district: PlaceCode) -> Actor {
        Actor {
            user_id: 0,
            username: format!("console:{operator}"),
            display_name: operator.to_owned(),
            role: Role::DistrictCivilAffairs,
            area: district,
        }
    }

    /// The actor name written into audit events.
    pub fn audit_name(&self) -> String {
        format!("{}#{}", self.username, self.user_id)
    }

    /// The part of the tree the actor works in. Households are recorded at village level, so
    /// a grid worker's scope is the grid's village.
    pub fn scope(&self) -> PlaceCode {
        self.area
            .at_level(PlaceLevel::Village)
            .filter(|_| self.area.level() == PlaceLevel::Grid)
            .unwrap_or_else(|| self.area.clone())
    }

    /// True when `place` lies inside the actor's scope.
    pub fn covers(&self, place: &PlaceCode) -> bool {
        self.scope().contains(place)
    }

    pub fn may_read_household(&self, place: &PlaceCode) -> bool {
        self.role.reads_households()
            && self.reads(HouseholdPart::IncomeProperty)
            && self.covers(place)
    }

    /// Whether this actor's role may read `part` of a household (`role_reads`).
    pub fn reads(&self, part: HouseholdPart) -> bool {
        role_reads(self.role, part)
    }

    /// Whether lists show full names and ID numbers to this actor.
    pub fn sees_unmasked(&self) -> bool {
        self.role.sees_unmasked_lists()
    }

    /// Whether this actor is shown a referral's payee unmasked — full name and ID number, what
    /// paying it needs (issue 15 item 8): a department user whose recorded department is the
    /// referral's, over the referral's place, while the referral is theirs to deliver (`open`:
    /// 待受理 or 已受理), never after delivery or decline. Each such view is audited
    /// (`referral.reveal`).
    pub fn sees_payee(
        &self,
        own_department: Option<&str>,
        referral_department: &str,
        place: &PlaceCode,
        open: bool,
    ) -> bool {
        self.role == Role::Department
            && open
            && own_department == Some(referral_department)
            && self.covers(place)
    }
}

/// 户档案的部分 (least privilege, issue 16): the parts of a household's record a role may or
/// may not read. The survey, the case page, its printouts and the rules engine's explanation
/// hold income, property and health, so reading a case needs `IncomeProperty` and `Health`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HouseholdPart {
    /// 身份信息: names, ID numbers, relations, address (masked in lists for some roles).
    Identity,
    /// 收入与财产: income by kind, deposits, vehicles, houses, businesses, expenditure.
    IncomeProperty,
    /// 健康: illness, disability, medical expenditure.
    Health,
    /// 银行账户: the account assistance is paid to (not recorded by the product yet).
    Bank,
}

/// The one access matrix (`docs/ACCESS.md` shows it as a table): the roles that decide or
/// review (district approvers, town reviewers) and the auditors read everything; village and
/// grid assistants, who take the survey, read all but the bank account; a department reads
/// identity only (masked on its referrals, but the payee's name and ID number unmasked while it
/// delivers one: `Actor::sees_payee`); the administrator manages users and reads none.
pub fn role_reads(role: Role, part: HouseholdPart) -> bool {
    use HouseholdPart::{Health, Identity, IncomeProperty};
    match role {
        Role::DistrictCivilAffairs
        | Role::DistrictAgriculture
        | Role::TownReviewer
        | Role::Auditor => true,
        Role::VillageAssistant | Role::GridWorker => {
            matches!(part, Identity | IncomeProperty | Health)
        }
        Role::Department => part == Identity,
        Role::Admin => false,
    }
}
