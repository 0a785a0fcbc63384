//! Use cases of safetynet. Each public method of `App` is one use case: it checks the actor's
//! role and area, loads what it needs, calls the core, and writes the result together with its
//! audit events in one transaction.
//!
//! Invariant: every write to the store made by the product goes through this crate and leaves
//! an audit event in the same transaction; a record outside the actor's area answers `NotFound`
//! (its existence is not leaked).
//! Boundary: no HTTP here (`web` maps `AppError` to responses); time comes from the injected `Clock`.

pub mod access;
pub mod assessment;
pub mod assistance;
pub mod auth;
pub mod cases;
pub mod contacts;
pub mod error;
pub mod feeds;
pub mod households;
pub mod imports;
pub mod online;
pub mod parameters;
pub mod registry;
pub mod report;
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

/// The stored form of an instant (UTC, microseconds): text that sorts in time order.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Settings of the use cases (not policy: policy thresholds live in the catalogue).
#[derive(Clone, Debug)]
pub struct AppSettings {
    pub session_hours: i64,
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
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
    /// The working-day calendar of time limits; the built-in one when none was given.
    calendar: Option<Arc<workflow::Calendar>>,
    /// The dashboard's and joint report's figures, shared by every clone.
    figures_cache: Arc<report::FiguresCache>,
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: AppSettings) -> Self {
        Self {
            store,
            clock,
            settings,
            policy: Arc::default(),
            calendar: None,
            figures_cache: Arc::default(),
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

    /// `safetynet audit verify`: walks the chain and reports the first broken link.
    pub async fn verify_audit(&self) -> Result<store::audit::Verification, AppError> {
        let mut conn = self.store.read().await?;
        Ok(store::audit::verify(&mut conn).await?)
    }
}
