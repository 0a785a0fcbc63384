//! 登录与会话: Argon2 password hashes, server-side sessions with expiry, CSRF tokens, throttling.

use crate::{Actor, App, AppError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use domain::{PlaceCode, Role};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use store::audit::AuditEvent;

/// A new session: the secret token for the cookie and the CSRF token for forms.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub actor: Actor,
}

fn hash_password_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::Internal(anyhow::anyhow!("hash password: {error}")))
}

fn verify_password_now(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Argon2 runs at most this many at once (one per core): each takes tens of milliseconds of
/// CPU and about 19 MiB, so a burst of sign-ins queues here instead of starving the server.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// Runs CPU-heavy `work` on the blocking pool, at most one per core, off the async runtime.
pub(crate) async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("hashing permits: {error}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AppError::Internal(anyhow::anyhow!("blocking task: {error}")))
}

/// An Argon2 hash of `password`, computed off the async runtime.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    off_runtime(move || hash_password_now(&password)).await?
}

/// Whether `password` matches the stored Argon2 hash, checked off the async runtime.
async fn verify_password(password: &str, stored: &str) -> Result<bool, AppError> {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    off_runtime(move || verify_password_now(&password, &stored)).await
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn actor_from(row: &store::users::UserRow) -> Result<Actor, AppError> {
    let role = Role::from_code(&row.role)
        .ok_or_else(|| anyhow::anyhow!("user {} has unknown role {}", row.id, row.role))?;
    let area = PlaceCode::parse(&row.area_code)
        .map_err(|error| anyhow::anyhow!("user {} area: {error}", row.id))?;
    Ok(Actor {
        user_id: row.id,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        role,
        area,
    })
}

/// A password the users must not pick: short ones are refused.
pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 {
        return Err(AppError::invalid("password", "密码至少8位"));
    }
    Ok(())
}

impl App {
    /// 登录: checks the password (throttled per user name) and opens a session.
    pub async fn login(&self, username: &str, password: &str) -> Result<NewSession, AppError> {
        let now = self.now();
        let since = (now - chrono::Duration::minutes(self.settings.login_window_minutes))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let now_text = self.now_text();
        // The password is checked on a reader and off the runtime, before the write lock is
        // taken: Argon2 must not hold up every other writer.
        let (failures, user) = {
            let mut conn = self.store.read().await?;
            (
                store::users::login_failures_since(&mut conn, username, &since).await?,
                store::users::by_username(&mut conn, username).await?,
            )
        };
        if failures >= self.settings.login_max_failures {
            return Err(AppError::Throttled);
        }
        let matches = match &user {
            Some(user) if user.active == 1 => {
                verify_password(password, &user.password_hash).await?
            }
            _ => false,
        };
        let mut tx = self.store.begin().await?;
        // Re-read under the write lock: a disable, password reset or burst of failures
        // committed meanwhile wins.
        let current = store::users::by_username(&mut tx, username).await?;
        let still_same = matches!((&user, &current), (Some(read), Some(now))
            if now.active == 1 && now.password_hash == read.password_hash);
        let throttled = store::users::login_failures_since(&mut tx, username, &since).await?
            >= self.settings.login_max_failures;
        if throttled {
            store::commit(tx).await?;
            return Err(AppError::Throttled);
        }
        let user = match current {
            Some(user) if matches && still_same => user,
            _ => {
                store::users::record_login_failure(&mut tx, username, &now_text).await?;
                store::audit::append_one(
                    &mut tx,
                    &login_event(&now_text, username, "session.login_failed"),
                )
                .await?;
                store::commit(tx).await?;
                return Err(AppError::Unauthenticated);
            }
        };
        let actor = actor_from(&user)?;
        let token = random_token();
        let csrf_token = random_token();
        let expires = (now + chrono::Duration::hours(self.settings.session_hours))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        store::users::clear_login_failures(&mut tx, username).await?;
        store::users::record_login(&mut tx, user.id, &now_text).await?;
        store::sessions::delete_expired(&mut tx, &now_text).await?;
        store::sessions::insert(
            &mut tx,
            &token_hash(&token),
            user.id,
            &csrf_token,
            &now_text,
            &expires,
        )
        .await?;
        store::audit::append_one(
            &mut tx,
            &login_event(&now_text, &actor.audit_name(), "session.login"),
        )
        .await?;
        store::commit(tx).await?;
        Ok(NewSession {
            token,
            csrf_token,
            actor,
        })
    }

    /// The actor and CSRF token of a live session.
    pub async fn authenticate(&self, token: &str) -> Result<(Actor, String), AppError> {
        let mut conn = self.store.read().await?;
        let session = store::sessions::live(&mut conn, &token_hash(token), &self.now_text())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let user = store::users::by_id(&mut conn, session.user_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if user.active != 1 {
            return Err(AppError::Unauthenticated);
        }
        Ok((actor_from(&user)?, session.csrf_token))
    }

    /// 退出: ends the session.
    pub async fn logout(&self, token: &str, actor: &Actor) -> Result<(), AppError> {
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        store::sessions::delete(&mut tx, &token_hash(token)).await?;
        store::audit::append_one(
            &mut tx,
            &login_event(&now, &actor.audit_name(), "session.logout"),
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }
}

fn login_event(at: &str, actor: &str, action: &str) -> AuditEvent {
    AuditEvent {
        at: at.to_owned(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        entity: "session".to_owned(),
        entity_id: actor.to_owned(),
        area_code: None,
        before: None,
        after: None,
    }
}
