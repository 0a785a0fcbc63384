//! The page chrome: what every signed-in page shows in its header and menu (`Chrome`), the
//! page a role starts at, and how pages show an instant. Every page module imports it; it
//! imports no page module.

use crate::session::Signed;
use app::Actor;
use app::rolls::may_import_roll;
use domain::Category;

/// What every signed-in page shows in its header.
pub struct Chrome {
    pub display_name: String,
    pub role_label: &'static str,
    pub area: String,
    pub csrf: String,
    pub can_edit: bool,
    /// 家庭档案, 重新认定: every role that reads the registry (not departments, not the admin).
    pub reads_households: bool,
    /// 办件, 救助帮扶, 预警, 走访热线: every role but the administrator.
    pub works_cases: bool,
    pub can_simulate: bool,
    /// 报表 and 驾驶舱: district and town users.
    pub can_report: bool,
    /// 数据比对 (feeds and runs): the district level.
    pub sees_feeds: bool,
    /// 用户管理: the administrator.
    pub manages_users: bool,
    /// Where the brand link leads: the page the role starts at after signing in.
    pub home: &'static str,
    /// 政策参数: every signed-in role reads the parameters (they are public policy); adding
    /// values is for the administrator and district civil affairs (`app::parameters`).
    pub reads_policy: bool,
    /// 一门入库 (`/rolls`): district civil affairs and district agriculture.
    pub imports_rolls: bool,
    /// 审计日志 (`/audit`): the district's auditor.
    pub reads_audit_log: bool,
}

impl Chrome {
    pub(crate) fn of(signed: &Signed) -> Self {
        Chrome {
            display_name: signed.actor.display_name.clone(),
            role_label: signed.actor.role.label(),
            area: signed.actor.area.to_string(),
            csrf: signed.csrf_token.clone(),
            can_edit: signed.actor.role.edits_households(),
            reads_households: signed.actor.role.reads_households(),
            works_cases: signed.actor.role != domain::Role::Admin,
            can_simulate: matches!(
                signed.actor.role,
                domain::Role::DistrictCivilAffairs
                    | domain::Role::DistrictAgriculture
                    | domain::Role::Auditor
            ),
            can_report: app::report::may_report(signed.actor.role),
            sees_feeds: matches!(
                signed.actor.role,
                domain::Role::Department
                    | domain::Role::DistrictCivilAffairs
                    | domain::Role::DistrictAgriculture
                    | domain::Role::Auditor
            ) && signed.actor.area.level() == domain::PlaceLevel::District,
            manages_users: signed.actor.role == domain::Role::Admin,
            home: start_page(signed.actor.role),
            reads_policy: app::parameters::may_read_policy(&signed.actor),
            imports_rolls: roll_categories(&signed.actor).next().is_some(),
            reads_audit_log: app::audit_log::may_read_audit_log(&signed.actor),
        }
    }
}

/// An instant shown in Beijing time to the minute (issue 15: no UTC timestamps on pages).
pub(crate) fn beijing_minute_of(at: &chrono::DateTime<chrono::Utc>) -> String {
    (*at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The page a role starts at: department users do not read the registry, their work is the
/// referral queue; the administrator's is 用户管理.
pub(crate) fn start_page(role: domain::Role) -> &'static str {
    match role {
        domain::Role::Department => "/referrals",
        domain::Role::Admin => "/admin/users",
        // 我的工作 (issue 15): the field roles start at what waits on them in their village.
        domain::Role::VillageAssistant | domain::Role::GridWorker => "/home",
        _ => "/households",
    }
}

/// The categories whose roll `actor` may bring in.
pub(crate) fn roll_categories(actor: &Actor) -> impl Iterator<Item = Category> + '_ {
    Category::ALL
        .iter()
        .copied()
        .filter(|category| *category != Category::DibaoSingle)
        .filter(move |category| may_import_roll(actor, *category))
}
