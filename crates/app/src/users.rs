//! 用户管理 (U2): accounts are created by an administrator (系统管理员) in the product or by the
//! operator at the console; the administrator lists, edits, disables and re-enables the users of
//! their own area and resets their passwords.
//!
//! Invariant: an administrator sees and changes only users whose area lies inside their own
//! (others answer `NotFound`), gives a role only at a level that fits it, and a 专项部门 user
//! exactly one department of the assistance catalogue; every change is audited in its
//! transaction, and disabling a user or resetting their password ends their sessions in it.

use crate::auth::{check_password_strength, hash_password};
use crate::{Actor, App, AppError, FieldError};
use domain::{PlaceCode, PlaceLevel, Role};
use std::collections::HashMap;
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

/// A new user as the administrator's form (or the API) sends it, as typed: the use case
/// checks every field and names each one at fault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDraft {
    pub username: String,
    pub display_name: String,
    /// A `Role` code.
    pub role: String,
    /// A place code.
    pub area: String,
    /// 所属部门: a department code of the assistance catalogue, for 专项部门 users only.
    pub department: String,
    pub password: String,
}

/// A change of a user's profile as typed (the user name never changes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserEdit {
    pub display_name: String,
    pub role: String,
    pub area: String,
    pub department: String,
}

/// A user as the administrator's pages show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: PlaceCode,
    /// The area's full name from the district down (`铜梁区 巴川街道 永院村`).
    pub area_name: String,
    pub department: Option<String>,
    /// The department's Chinese name ('' when none).
    pub department_name: String,
    pub active: bool,
    /// The last sign-in in China Standard Time (`2026-11-28 10:00`), if any.
    pub last_login: Option<String>,
    pub version: i64,
    /// The administrator looking at their own account.
    pub is_self: bool,
}

/// The list filter as typed: a role code and a place code, both optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub role: String,
    pub area: String,
    /// Where the page starts: the `next` of the page before (a user's id); `None` for the first.
    pub after: Option<i64>,
}

/// One page of the users of the administrator's area (keyset paged).
#[derive(Clone, Debug)]
pub struct UserList {
    pub items: Vec<UserView>,
    pub total: i64,
    /// The `after=` of the next page, when there is one.
    pub next: Option<i64>,
    pub per_page: i64,
}

/// What the user forms offer: the places of the administrator's area (district, towns and
/// villages, with their full names; a grid is typed as its code), the departments and roles.
#[derive(Clone, Debug)]
pub struct UserChoices {
    pub places: Vec<(String, String)>,
    pub departments: Vec<(String, String)>,
    pub roles: &'static [Role],
}

/// Users per page of the list.
const USERS_PER_PAGE: i64 = 50;
/// The longest display name (characters).
const DISPLAY_NAME_MAX: usize = 64;

/// U2: district approvers and auditors and departments work at district level or below,
/// town reviewers at a town, village assistants at a village, grid workers at a village or grid.
pub fn role_fits_level(role: Role, area: &PlaceCode) -> bool {
    use domain::PlaceLevel::{District, Grid, Town, Village};
    match role {
        Role::DistrictCivilAffairs | Role::DistrictAgriculture => area.level() == District,
        Role::TownReviewer => area.level() == Town,
        Role::VillageAssistant => area.level() == Village,
        Role::GridWorker => matches!(area.level(), Village | Grid),
        Role::Department | Role::Auditor | Role::Admin => matches!(area.level(), District | Town),
    }
}

const LEVEL_MESSAGE: &str = "该角色的管辖区域层级不符（区级角色须为区，镇街审核须为镇街，村社协理须为村社，网格员须为村社或网格，专项部门、审计和管理员须为区或镇街）";

/// The departments of the assistance catalogue (提供部门), as (code, name).
fn departments() -> Result<Vec<(String, String)>, AppError> {
    assist::AssistCatalogue::builtin_departments()
        .map(|list| list.into_iter().map(|d| (d.code, d.name)).collect())
        .map_err(|error| AppError::Internal(anyhow::anyhow!("policy/assistance.toml: {error}")))
}

fn check_username(username: &str) -> Option<FieldError> {
    let valid = (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    (!valid).then(|| FieldError {
        field: "username".into(),
        message: "用户名应为3至32位字母、数字、下划线、点或连字符".into(),
    })
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A role, area and department checked together; faults are pushed to `errors`.
struct Profile {
    display_name: String,
    role: Role,
    area: PlaceCode,
    department: Option<String>,
}

/// Checks the fields an administrator sets (display name, role, area in their own area and
/// at the role's level, department exactly for 专项部门); `None` when any is at fault.
fn check_profile(
    actor: &Actor,
    display_name: &str,
    role: &str,
    area: &str,
    department: &str,
    fallback_name: &str,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Profile>, AppError> {
    let display_name = match display_name.trim() {
        "" => fallback_name.to_owned(),
        name => name.to_owned(),
    };
    if display_name.chars().count() > DISPLAY_NAME_MAX {
        errors.push(field(
            "display_name",
            format!("姓名不超过{DISPLAY_NAME_MAX}个字"),
        ));
    }
    let role = match role.trim() {
        "" => {
            errors.push(field("role", "请选择角色"));
            None
        }
        code => {
            let role = Role::from_code(code);
            if role.is_none() {
                errors.push(field("role", format!("未知角色“{code}”")));
            }
            role
        }
    };
    let area = match area.trim() {
        "" => {
            errors.push(field("area", "请填写管辖区域（区划代码）"));
            None
        }
        text => match PlaceCode::parse(text) {
            Ok(area) if actor.covers(&area) => Some(area),
            Ok(area) => {
                errors.push(field("area", format!("区划{area}不在您的管辖范围内")));
                None
            }
            Err(error) => {
                errors.push(field("area", format!("区划代码“{text}”无效：{error}")));
                None
            }
        },
    };
    if let (Some(role), Some(area)) = (role, &area)
        && !role_fits_level(role, area)
    {
        errors.push(field("area", LEVEL_MESSAGE));
    }
    let department = match (role, department.trim()) {
        (Some(Role::Department), "") => {
            errors.push(field("department", "专项部门用户须选择所属部门"));
            None
        }
        (Some(Role::Department), code) => {
            if departments()?.iter().any(|(known, _)| known == code) {
                Some(code.to_owned())
            } else {
                errors.push(field("department", format!("未知部门“{code}”")));
                None
            }
        }
        (_, "") => None,
        (_, _) => {
            errors.push(field(
                "department",
                "只有专项部门用户设置所属部门，其他角色请留空",
            ));
            None
        }
    };
    Ok(match (role, area) {
        (Some(role), Some(area)) if errors.is_empty() => Some(Profile {
            display_name,
            role,
            area,
            department,
        }),
        _ => None,
    })
}

fn invalid_unless_empty(errors: Vec<FieldError>) -> Result<(), AppError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The audited form of a user's profile (never the password hash).
fn profile_json(row: &store::users::UserRow) -> String {
    serde_json::json!({
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role.code(),
        "area": row.area_code.as_str(),
        "department": row.department,
        "active": row.active == 1,
    })
    .to_string()
}

/// An instant stored as RFC 3339 UTC, shown in China Standard Time.
fn cst_minute(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Place names by code: `scope`, everything under it and its ancestors.
async fn place_names(
    conn: &mut store::Conn,
    scope: &PlaceCode,
) -> Result<HashMap<String, String>, AppError> {
    let mut names: HashMap<String, String> = store::places::all_under(conn, scope)
        .await?
        .into_iter()
        .map(|row| (row.code.as_str().to_owned(), row.name))
        .collect();
    let mut ancestor = scope.parent();
    while let Some(place) = ancestor {
        if let Some(row) = store::places::get(conn, &place).await? {
            names.insert(row.code.as_str().to_owned(), row.name);
        }
        ancestor = place.parent();
    }
    Ok(names)
}

/// The full name of `code` from the district down, from `names`.
fn full_name(names: &HashMap<String, String>, code: &PlaceCode) -> String {
    let mut parts = Vec::new();
    let mut current = Some(code.clone());
    while let Some(place) = current {
        if let Some(name) = names.get(place.as_str()) {
            parts.push(name.clone());
        }
        current = place.parent();
    }
    parts.reverse();
    if parts.is_empty() {
        code.to_string()
    } else {
        parts.join(" ")
    }
}

fn require_admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

impl App {
    /// 创建用户 (console, or an administrator through `Creator::Admin`): validates the name,
    /// role level and area, hashes the password, audits. A 专项部门 user's department is set
    /// afterwards (`set_user_department`); the product's form uses `admin_create_user`.
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
        if let Some(error) = check_username(username) {
            return Err(AppError::Invalid(vec![error]));
        }
        check_password_strength(user.password)?;
        if !role_fits_level(user.role, user.area) {
            return Err(AppError::invalid("area", LEVEL_MESSAGE));
        }
        let display_name = match user.display_name.trim() {
            "" => username,
            name => name,
        };
        let profile = Profile {
            display_name: display_name.to_owned(),
            role: user.role,
            area: user.area.clone(),
            department: None,
        };
        self.insert_user(actor_name, username, &profile, user.password)
            .await
    }

    /// 新增用户 by an administrator: every field checked (the user name's form and that it is
    /// free, the role's level, the area inside the administrator's, the department exactly for
    /// 专项部门, the password's strength), each fault naming its field; then one audited
    /// transaction.
    pub async fn admin_create_user(
        &self,
        actor: &Actor,
        draft: &UserDraft,
    ) -> Result<i64, AppError> {
        require_admin(actor)?;
        let username = draft.username.trim();
        let mut errors: Vec<FieldError> = check_username(username).into_iter().collect();
        let profile = check_profile(
            actor,
            &draft.display_name,
            &draft.role,
            &draft.area,
            &draft.department,
            username,
            &mut errors,
        )?;
        if let Err(AppError::Invalid(password_errors)) = check_password_strength(&draft.password) {
            errors.extend(password_errors);
        }
        invalid_unless_empty(errors)?;
        let profile = profile.ok_or_else(|| anyhow::anyhow!("profile checked without faults"))?;
        self.insert_user(actor.audit_name(), username, &profile, &draft.password)
            .await
    }

    async fn insert_user(
        &self,
        actor_name: String,
        username: &str,
        profile: &Profile,
        password: &str,
    ) -> Result<i64, AppError> {
        let hash = hash_password(password).await?;
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        if store::places::get(&mut tx, &profile.area).await?.is_none() {
            return Err(AppError::invalid(
                "area",
                format!("区划{}不存在", profile.area),
            ));
        }
        if store::users::by_username(&mut tx, username)
            .await?
            .is_some()
        {
            return Err(AppError::invalid("username", "用户名已存在"));
        }
        let id = store::users::insert(
            &mut tx,
            &store::users::NewUser {
                username,
                display_name: &profile.display_name,
                role: profile.role.code(),
                area_code: profile.area.as_str(),
                department: profile.department.as_deref(),
                password_hash: &hash,
                created_at: &now,
            },
        )
        .await?;
        let mut after = serde_json::json!({
            "username": username,
            "display_name": profile.display_name,
            "role": profile.role.code(),
            "area": profile.area.as_str(),
        });
        if let Some(department) = &profile.department {
            after["department"] = serde_json::json!(department);
        }
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::user(now, actor_name, "user.create", id)
                .in_area(profile.area.as_str())
                .after(after.to_string()),
        )
        .await?;
        store::commit(tx).await?;
        Ok(id)
    }

    /// 用户列表: the users of the administrator's area, filtered by role and place, a page
    /// at a time.
    pub async fn list_users(&self, actor: &Actor, query: &UserQuery) -> Result<UserList, AppError> {
        require_admin(actor)?;
        let role = match query.role.trim() {
            "" => None,
            code => Some(
                Role::from_code(code)
                    .ok_or_else(|| AppError::invalid("role", format!("未知角色“{code}”")))?,
            ),
        };
        let area = match query.area.trim() {
            "" => actor.scope(),
            text => match PlaceCode::parse(text) {
                Ok(area) if actor.covers(&area) => area,
                Ok(area) => {
                    return Err(AppError::invalid(
                        "area",
                        format!("区划{area}不在您的管辖范围内"),
                    ));
                }
                Err(error) => {
                    return Err(AppError::invalid(
                        "area",
                        format!("区划代码“{text}”无效：{error}"),
                    ));
                }
            },
        };
        let filter = store::users::UserFilter {
            area_prefix: area.as_str(),
            role: role.map(Role::code),
        };
        let mut conn = self.store.read().await?;
        let total = store::users::count_matching(&mut conn, &filter).await?;
        let mut rows =
            store::users::list(&mut conn, &filter, USERS_PER_PAGE + 1, query.after).await?;
        let more = rows.len() as i64 > USERS_PER_PAGE;
        rows.truncate(USERS_PER_PAGE as usize);
        let next = rows.last().filter(|_| more).map(|row| row.id);
        let names = place_names(&mut conn, &actor.scope()).await?;
        drop(conn);
        let departments = departments()?;
        let items = rows
            .iter()
            .map(|row| Self::user_view(actor, row, &names, &departments))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UserList {
            items,
            total,
            next,
            per_page: USERS_PER_PAGE,
        })
    }

    fn user_view(
        actor: &Actor,
        row: &store::users::UserRow,
        names: &HashMap<String, String>,
        departments: &[(String, String)],
    ) -> Result<UserView, AppError> {
        let role = row.role;
        let area = row.area_code.clone();
        let department_name = row
            .department
            .as_deref()
            .map(|code| {
                departments
                    .iter()
                    .find(|(known, _)| known == code)
                    .map_or(code, |(_, name)| name.as_str())
                    .to_owned()
            })
            .unwrap_or_default();
        Ok(UserView {
            id: row.id,
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            role,
            area_name: full_name(names, &area),
            area,
            department: row.department.clone(),
            department_name,
            active: row.active == 1,
            last_login: row.last_login_at.map(cst_minute),
            version: row.version,
            is_self: row.id == actor.user_id,
        })
    }

    /// A user of the administrator's area (others are not found).
    pub async fn user(&self, actor: &Actor, id: i64) -> Result<UserView, AppError> {
        require_admin(actor)?;
        let mut conn = self.store.read().await?;
        let row = store::users::by_id(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !actor.covers(&row.area_code) {
            return Err(AppError::NotFound);
        }
        let names = place_names(&mut conn, &actor.scope()).await?;
        drop(conn);
        Self::user_view(actor, &row, &names, &departments()?)
    }

    /// What the user forms offer inside the administrator's area.
    pub async fn user_choices(&self, actor: &Actor) -> Result<UserChoices, AppError> {
        require_admin(actor)?;
        let scope = actor.scope();
        let mut conn = self.store.read().await?;
        let names = place_names(&mut conn, &scope).await?;
        let rows = store::places::all_under(&mut conn, &scope).await?;
        drop(conn);
        let places = rows
            .into_iter()
            .map(|row| row.code)
            .filter(|code| code.level() != PlaceLevel::Grid)
            .map(|code| {
                let label = full_name(&names, &code);
                (code.as_str().to_owned(), label)
            })
            .collect();
        Ok(UserChoices {
            places,
            departments: departments()?,
            roles: Role::ALL,
        })
    }

    /// Loads a user the administrator may change, in the transaction.
    async fn user_in_scope(
        tx: &mut store::Tx,
        actor: &Actor,
        id: i64,
    ) -> Result<store::users::UserRow, AppError> {
        require_admin(actor)?;
        let row = store::users::by_id(tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !actor.covers(&row.area_code) {
            return Err(AppError::NotFound);
        }
        Ok(row)
    }

    /// 修改用户: display name, role, area and department, guarded by the version the form
    /// was read at. An administrator does not change their own role or area (they would lose
    /// the rights they act with).
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        edit: &UserEdit,
    ) -> Result<(), AppError> {
        require_admin(actor)?;
        let mut tx = self.store.begin().await?;
        let before = Self::user_in_scope(&mut tx, actor, id).await?;
        let mut errors = Vec::new();
        let profile = check_profile(
            actor,
            &edit.display_name,
            &edit.role,
            &edit.area,
            &edit.department,
            &before.username,
            &mut errors,
        )?;
        if let Some(profile) = &profile
            && before.id == actor.user_id
        {
            if profile.role != actor.role {
                errors.push(field("role", "不能修改自己的角色"));
            }
            if profile.area != actor.area {
                errors.push(field("area", "不能修改自己的管辖区域"));
            }
        }
        invalid_unless_empty(errors)?;
        let profile = profile.ok_or_else(|| anyhow::anyhow!("profile checked without faults"))?;
        if store::places::get(&mut tx, &profile.area).await?.is_none() {
            return Err(AppError::invalid(
                "area",
                format!("区划{}不存在", profile.area),
            ));
        }
        store::users::update(
            &mut tx,
            id,
            version,
            &store::users::UserChange {
                display_name: &profile.display_name,
                role: profile.role.code(),
                area_code: profile.area.as_str(),
                department: profile.department.as_deref(),
            },
        )
        .await?;
        let after = store::users::by_id(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.audit_user(&mut tx, actor, "user.update", &before, &after)
            .await?;
        store::commit(tx).await?;
        Ok(())
    }

    /// 停用 / 启用: a disabled user cannot sign in and their sessions end now; an
    /// administrator does not disable themself.
    pub async fn set_user_active(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        active: bool,
    ) -> Result<(), AppError> {
        require_admin(actor)?;
        let mut tx = self.store.begin().await?;
        let before = Self::user_in_scope(&mut tx, actor, id).await?;
        if !active && before.id == actor.user_id {
            return Err(AppError::invalid("active", "不能停用自己的账户"));
        }
        store::users::set_active(&mut tx, id, version, active).await?;
        if !active {
            store::sessions::delete_for_user(&mut tx, id).await?;
        }
        let after = store::users::by_id(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let action = if active {
            "user.enable"
        } else {
            "user.disable"
        };
        self.audit_user(&mut tx, actor, action, &before, &after)
            .await?;
        store::commit(tx).await?;
        Ok(())
    }

    /// 重置密码: the administrator sets a new password (strength checked); the user's
    /// sessions end, so the old password and any open session stop working at once.
    pub async fn reset_user_password(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        password: &str,
    ) -> Result<(), AppError> {
        require_admin(actor)?;
        check_password_strength(password)?;
        let hash = hash_password(password).await?;
        let mut tx = self.store.begin().await?;
        let user = Self::user_in_scope(&mut tx, actor, id).await?;
        store::users::set_password_hash(&mut tx, id, version, &hash).await?;
        let ended = store::sessions::delete_for_user(&mut tx, id).await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::user(
                self.now_text(),
                actor.audit_name(),
                "user.reset_password",
                id,
            )
            .in_area(&user.area_code)
            .after(
                serde_json::json!({ "username": user.username, "sessions_ended": ended })
                    .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }

    async fn audit_user(
        &self,
        tx: &mut store::Tx,
        actor: &Actor,
        action: &str,
        before: &store::users::UserRow,
        after: &store::users::UserRow,
    ) -> Result<(), AppError> {
        store::audit::append_one(
            tx,
            self.store.audit_key(),
            &AuditEvent::user(
                self.now_text(),
                actor.audit_name(),
                action.to_owned(),
                after.id,
            )
            .in_area(&after.area_code)
            .before(profile_json(before))
            .after(profile_json(after)),
        )
        .await?;
        Ok(())
    }
}
