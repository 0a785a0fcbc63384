//! 登录与会话: Argon2 password hashes, server-side sessions with expiry, CSRF tokens, throttling.
//!
//! Sign-in resists abuse without a lock anyone can trigger (issue 16): failures are counted
//! per client address and account pair — after `login_max_failures` that pair backs off (a
//! wait that doubles with each failure, up to the window) — and per address (over
//! `login_client_max_failures` the address is refused for any account); failures of one
//! account from every address only slow its attempts (a short delay), so an attacker's
//! failures never stop the real user signing in from elsewhere. An unknown user name gets
//! the same Argon2 work (a verification against `DUMMY_HASH`) and the same answer as a wrong
//! password. Argon2 runs on the blocking pool (`spawn_blocking`), off the async runtime.

use crate::{Actor, App, AppError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use domain::Role;
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

/// An Argon2 hash (of no user's password, default parameters) verified for unknown user names
/// and disabled accounts, so that they cost the same work as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dOY07uUMt3drdOTQeAjECQ$+qapg5441RUB/LbNEILgLuAb08r/0BtWv8kmuEvQ0l8";

/// The most an account's attempts are slowed (`AppSettings::login_account_delay_ms`).
pub const LOGIN_DELAY_CAP_MS: i64 = 2_000;

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
    let role = row.role;
    let area = row.area_code.clone();
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
    /// 登录: checks the password (limited per address and account pair and per address, see
    /// the module doc) and opens a session. `client` is the caller's address (as text).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<NewSession, AppError> {
        let now = self.now();
        let since =
            crate::timestamp(now - chrono::Duration::minutes(self.settings.login_window_minutes));
        let now_text = self.now_text();
        let mut conn = self.store.read().await?;
        let (pair_failures, pair_last) =
            store::users::pair_failures_since(&mut conn, client, username, &since).await?;
        let client_failures =
            store::users::client_failures_since(&mut conn, client, &since).await?;
        let account_failures =
            store::users::login_failures_since(&mut conn, username, &since).await?;
        let user = store::users::by_username(&mut conn, username).await?;
        drop(conn);
        let pair_last = pair_last.and_then(|at| DateTime::parse_from_rfc3339(&at).ok());
        if let Some(until) = refused_until(
            &self.settings,
            pair_failures,
            pair_last,
            client_failures,
            now,
        ) {
            tracing::info!(client, username, %until, "sign-in refused (back-off)");
            return Err(AppError::Throttled);
        }
        let delay = account_delay_ms(&self.settings, account_failures);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay.unsigned_abs())).await;
        }
        let stored = user
            .as_ref()
            .filter(|user| user.active == 1)
            .map_or_else(|| DUMMY_HASH.to_owned(), |user| user.password_hash.clone());
        // Checked on a reader and off the runtime, before the write lock is taken: Argon2
        // must not hold up every other writer.
        let verified = verify_password(password, &stored).await?;
        let mut tx = self.store.begin().await?;
        // Re-read under the write lock: a disable or password reset committed meanwhile wins.
        let current = store::users::by_username(&mut tx, username).await?;
        let still_same = matches!((&user, &current), (Some(read), Some(now))
            if now.active == 1 && now.password_hash == read.password_hash);
        let user = match current {
            Some(user) if verified && still_same => user,
            _ => {
                store::users::record_login_failure(&mut tx, username, client, &now_text).await?;
                let mut event = login_event(&now_text, username, "session.login_failed");
                event.after = Some(serde_json::json!({ "client": client }).to_string());
                store::audit::append_one(&mut tx, self.store.audit_key(), &event).await?;
                store::commit(tx).await?;
                return Err(AppError::Unauthenticated);
            }
        };
        let actor = actor_from(&user)?;
        let token = random_token();
        let csrf_token = random_token();
        let expires = crate::timestamp(now + chrono::Duration::hours(self.settings.session_hours));
        store::users::clear_login_failures(&mut tx, username, client).await?;
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
            self.store.audit_key(),
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

    /// 登录限制: the sign-in limits in force and the addresses and accounts held back now
    /// (the administrator at district level; 用户管理).
    pub async fn login_limits(&self, actor: &Actor) -> Result<LoginLimits, AppError> {
        if actor.role != Role::Admin || actor.area.level() != domain::PlaceLevel::District {
            return Err(AppError::Forbidden);
        }
        let now = self.now();
        let since =
            crate::timestamp(now - chrono::Duration::minutes(self.settings.login_window_minutes));
        let mut conn = self.store.read().await?;
        let pairs = store::users::login_failure_pairs(&mut conn, &since, 200).await?;
        let mut by_client: std::collections::BTreeMap<String, i64> = Default::default();
        let mut by_account: std::collections::BTreeMap<String, i64> = Default::default();
        for (client, username, failures, _) in &pairs {
            *by_client.entry(client.clone()).or_default() += failures;
            *by_account.entry(username.clone()).or_default() += failures;
        }
        let held_back = pairs
            .into_iter()
            .filter_map(|(client, username, failures, last)| {
                let last_at = DateTime::parse_from_rfc3339(&last).ok();
                let client_failures = by_client.get(&client).copied().unwrap_or(0);
                let until = refused_until(&self.settings, failures, last_at, client_failures, now)?;
                Some(HeldBack {
                    client,
                    username,
                    failures,
                    until: crate::timestamp(until),
                })
            })
            .collect();
        let slowed_accounts = by_account
            .into_iter()
            .filter(|(_, failures)| account_delay_ms(&self.settings, *failures) > 0)
            .collect();
        let refused_clients = by_client
            .into_iter()
            .filter(|(_, failures)| *failures >= self.settings.login_client_max_failures)
            .collect();
        Ok(LoginLimits {
            settings: self.settings.clone(),
            held_back,
            refused_clients,
            slowed_accounts,
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
            self.store.audit_key(),
            &login_event(&now, &actor.audit_name(), "session.logout"),
        )
        .await?;
        store::commit(tx).await?;
        Ok(())
    }
}

/// What the administrator sees of the sign-in limits.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    pub settings: crate::AppSettings,
    /// Address and account pairs backing off now.
    pub held_back: Vec<HeldBack>,
    /// Addresses refused for every account now, with their failures in the window.
    pub refused_clients: Vec<(String, i64)>,
    /// Accounts whose attempts are slowed now, with their failures in the window.
    pub slowed_accounts: Vec<(String, i64)>,
}

/// One address and account pair backing off until `until` (a stored instant).
#[derive(Clone, Debug)]
pub struct HeldBack {
    pub client: String,
    pub username: String,
    pub failures: i64,
    pub until: String,
}

/// Until when a sign-in from this pair is refused, if it is: the address over its limit
/// (until the window moves on), or the pair backing off after `login_max_failures`.
fn refused_until(
    settings: &crate::AppSettings,
    pair_failures: i64,
    pair_last: Option<DateTime<chrono::FixedOffset>>,
    client_failures: i64,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let window = chrono::Duration::minutes(settings.login_window_minutes);
    let last = pair_last.map(|at| at.with_timezone(&Utc));
    if client_failures >= settings.login_client_max_failures {
        return Some(last.unwrap_or(now) + window);
    }
    let over = pair_failures - settings.login_max_failures;
    let last = last?;
    if over < 0 {
        return None;
    }
    let wait = chrono::Duration::seconds(
        settings
            .login_backoff_seconds
            .saturating_mul(1_i64 << over.min(20)),
    )
    .min(window);
    let until = last + wait;
    (now < until).then_some(until)
}

/// How long an attempt on an account with `failures` in the window waits first.
fn account_delay_ms(settings: &crate::AppSettings, failures: i64) -> i64 {
    let over = failures - settings.login_account_slow_after;
    if over <= 0 {
        return 0;
    }
    over.saturating_mul(settings.login_account_delay_ms)
        .min(LOGIN_DELAY_CAP_MS)
}

fn login_event(at: &str, actor: &str, action: &str) -> AuditEvent {
    AuditEvent::session(
        at.to_owned(),
        actor.to_owned(),
        action.to_owned(),
        actor.to_owned(),
    )
}
