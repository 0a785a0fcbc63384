//! Use cases of safetynet. Each public method of `App` is one use case: it checks the actor's
//! role and area, loads what it needs, calls the core, and writes the result together with its
//! audit events in one transaction.
//!
//! Invariant: every write to the store made by the product goes through this crate and leaves
//! an audit event in the same transaction; a record outside the actor's area answers `NotFound`
//! (its existence is not leaked).
//! Boundary: no HTTP here (`web` maps `AppError` to responses); time comes from the injected `Clock`.

pub mod access;
mod actors;
pub mod assessment;
pub mod assistance;
pub mod audit_log;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod contacts;
pub mod disclosure;
pub mod documents;
pub mod error;
pub mod feeds;
pub mod golive;
pub mod home;
pub mod households;
pub mod imports;
pub mod incomes;
pub mod online;
pub mod parameters;
pub mod rechecks;
pub mod registry;
pub mod report;
pub mod rolls;
pub mod roster;
pub mod users;
pub mod warnings;

pub use access::Actor;
pub use error::{AppError, FieldError, RETRY_AFTER_SECONDS};

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use store::Store;

/// The source of the current time, injected so that tests fix it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The stored form of an instant (UTC, microseconds): text that sorts in time order, and the
/// form the API sends an instant in.
pub fn timestamp(at: DateTime<Utc>) -> String {
    store::instant_text(at)
}

/// A new random audit key (审计密钥) of 32 bytes, for the first start of a writer.
pub fn new_audit_key() -> store::audit::AuditKey {
    use rand_core::RngCore;
    let mut bytes = [0u8; store::audit::AUDIT_KEY_MIN_BYTES];
    rand_core::OsRng.fill_bytes(&mut bytes);
    match store::audit::AuditKey::from_bytes(&bytes) {
        Ok(key) => key,
        // The length is the minimum by construction.
        Err(_) => unreachable!("a key of AUDIT_KEY_MIN_BYTES bytes"),
    }
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Settings of the use cases (not policy: policy thresholds live in the catalogue).
/// The sign-in limits (`auth`) are operating limits of the service, shown to the
/// administrator on 用户管理.
#[derive(Clone, Debug)]
pub struct AppSettings {
    pub session_hours: i64,
    /// Failures of one address and account pair in the window before that pair backs off.
    pub login_max_failures: i64,
    /// The window failures are counted in.
    pub login_window_minutes: i64,
    /// The first back-off of a pair; it doubles with each further failure, up to the window.
    pub login_backoff_seconds: i64,
    /// Failures from one address (any user names) in the window before it is refused.
    pub login_client_max_failures: i64,
    /// Failures of one account (from any address) in the window before each further attempt
    /// on it waits `login_account_delay_ms` more per failure (at most `LOGIN_DELAY_CAP_MS`):
    /// slower, never locked.
    pub login_account_slow_after: i64,
    pub login_account_delay_ms: i64,
    /// How long the dashboard's and joint report's figures are kept before they are counted
    /// again (see `report::FiguresCache`).
    pub figures_ttl_seconds: i64,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            session_hours: 8,
            login_max_failures: 5,
            login_window_minutes: 15,
            login_backoff_seconds: 30,
            login_client_max_failures: 50,
            login_account_slow_after: 10,
            login_account_delay_ms: 250,
            figures_ttl_seconds: 300,
        }
    }
}

#[derive(Clone, Debug)]
pub struct App {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: AppSettings,
    /// The policy catalogue in force (the base with the values added in the product), shared
    /// by every clone; see `parameters`.
    policy: Arc<parameters::PolicyInForce>,
    /// The working-day calendar of time limits (the base with the years added in the
    /// product), shared by every clone; see `calendar`.
    calendar: Arc<calendar::CalendarInForce>,
    /// The dashboard's and joint report's figures, shared by every clone.
    figures_cache: Arc<report::FiguresCache>,
    /// 上线检查: the registry's pending counts per missing parameter, shared by every clone.
    golive: Arc<golive::GoLiveCounts>,
    /// 审计日志: held while a check of the chain runs, shared by every clone.
    audit_check: Arc<audit_log::AuditCheckGate>,
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: AppSettings) -> Self {
        Self {
            store,
            clock,
            settings,
            policy: Arc::default(),
            calendar: Arc::default(),
            figures_cache: Arc::default(),
            golive: Arc::default(),
            audit_check: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn now_text(&self) -> String {
        timestamp(self.now())
    }

    /// Today in China Standard Time (UTC+8), the date every record and deadline uses.
    pub fn today(&self) -> NaiveDate {
        (self.now() + chrono::Duration::hours(8)).date_naive()
    }

    /// The audit key in use (its fingerprint names it in messages), if any.
    pub fn audit_key(&self) -> Option<&store::audit::AuditKey> {
        self.store.audit_key()
    }

    /// `safetynet audit verify`: walks the chain and reports the first broken link.
    pub async fn verify_audit(
        &self,
        anchor: Option<&store::audit::Anchor>,
    ) -> Result<store::audit::Verification, AppError> {
        let mut conn = self.store.read().await?;
        Ok(store::audit::verify(&mut conn, self.store.audit_key(), anchor).await?)
    }
}
