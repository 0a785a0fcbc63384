//! 用户管理: accounts are created by an administrator or from the command line.

use crate::auth::{check_password_strength, hash_password};
use crate::{Actor, App, AppError};
use domain::{PlaceCode, Role};
use store::audit::AuditEvent;

/// Who creates a user: an administrator through the product, or the operator at the console.
pub enum Creator<'a> {
    Admin(&'a Actor),
    Console(&'a str),
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub area: &'a PlaceCode,
    pub password: &'a str,
}

impl App {
    /// 创建用户: validates the name, role level and area, hashes the password, audits.
    pub async fn create_user(
        &self,
        creator: Creator<'_>,
        user: NewUser<'_>,
    ) -> Result<i64, AppError> {
        let actor_name = match &creator {
            Creator::Admin(actor) => {
                if actor.role != Role::Admin || !actor.covers(user.area) {
                    return Err(AppError::Forbidden);
                }
                actor.audit_name()
            }
            Creator::Console(operator) => format!("console:{operator}"),
        };
        let username = user.username.trim();
        let valid_name = (3..=32).contains(&username.len())
            && username
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !valid_name {
            return Err(AppError::invalid(
                "username",
                "用户名应为3至32位字母、数字、下划线、点或连字符",
            ));
        }
        check_password_strength(user.password)?;
        if !role_fits_level(user.role, user.area) {
            return Err(AppError::invalid(
                "area",
                "该角色的管辖区域层级不符（区级角色须为区，镇街审核须为镇街，村社协理须为村社，网格员须为村社或网格）",
            ));
        }
        let hash = hash_password(user.password)?;
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        if store::places::get(&mut tx, user.area).await?.is_none() {
            return Err(AppError::invalid(
                "area",
                format!("区划{}不存在", user.area),
            ));
        }
        if store::users::by_username(&mut tx, username)
            .await?
            .is_some()
        {
            return Err(AppError::invalid("username", "用户名已存在"));
        }
        let display_name = if user.display_name.trim().is_empty() {
            username
        } else {
            user.display_name.trim()
        };
        let id = store::users::insert(
            &mut tx,
            &store::users::NewUser {
                username,
                display_name,
                role: user.role.code(),
                area_code: user.area.as_str(),
                password_hash: &hash,
                created_at: &now,
            },
        )
        .await?;
        let after = serde_json::json!({ "username": username, "display_name": display_name, "role": user.role.code(), "area": user.area.as_str() });
        store::audit::append_one(
            &mut tx,
            &AuditEvent {
                at: now,
                actor: actor_name,
                action: "user.create".into(),
                entity: "user".into(),
                entity_id: id.to_string(),
                area_code: Some(user.area.as_str().to_owned()),
                before: None,
                after: Some(after.to_string()),
            },
        )
        .await?;
        store::commit(tx).await?;
        Ok(id)
    }
}

/// U2: district approvers and auditors and departments work at district level or below,
/// town reviewers at a town, village assistants at a village, grid workers at a village or grid.
fn role_fits_level(role: Role, area: &PlaceCode) -> bool {
    use domain::PlaceLevel::{District, Grid, Town, Village};
    match role {
        Role::DistrictCivilAffairs | Role::DistrictAgriculture => area.level() == District,
        Role::TownReviewer => area.level() == Town,
        Role::VillageAssistant => area.level() == Village,
        Role::GridWorker => matches!(area.level(), Village | Grid),
        Role::Department | Role::Auditor | Role::Admin => matches!(area.level(), District | Town),
    }
}
