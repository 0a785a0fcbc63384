//! 过载保护 (back-pressure): beyond capacity a request gets a fast `503 Service Unavailable`
//! with `Retry-After` — a Chinese page, or `{code: "busy", message}` under `/api/` — instead
//! of a hang.
//!
//! - At most `max_in_flight` requests are handled at once; one more waits up to `queue_wait`
//!   for a place, then is answered busy.
//! - A request is given `deadline` in all; past it, it is answered busy and its handler dropped.
//!   This is the bound SQLite has for a statement (PostgreSQL also has `statement_timeout`,
//!   `store::StoreOptions`): a dropped SQLite query stops at its next row.
//! - A request whose client has gone is cancelled: hyper drops the handler's future when it
//!   sees the connection closed, and with it every query the handler was awaiting (the
//!   connection returns to its pool). Such requests are counted and logged here.
//! - Database connections wait at most `store::StoreOptions::acquire_timeout`; a timeout is
//!   `AppError::Busy`, answered the same way (`error.rs`).
//!
//! `/healthz` and `/static/*` are not limited.

use crate::error::{ApiError, PageError};
use app::AppError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The limits of the web server (`safetynet serve --max-in-flight … --queue-wait-ms …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityConfig {
    /// Requests handled at once.
    pub max_in_flight: usize,
    /// How long a request beyond `max_in_flight` waits for a place before a 503.
    pub queue_wait: Duration,
    /// How long one request may take in all before a 503 (its handler is then dropped).
    pub deadline: Duration,
}

impl Default for CapacityConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            queue_wait: Duration::from_millis(1000),
            deadline: Duration::from_secs(15),
        }
    }
}

/// The shared state of the limit: its places and what it has counted.
#[derive(Debug)]
pub struct Capacity {
    config: CapacityConfig,
    places: Arc<Semaphore>,
    refused: AtomicU64,
    timed_out: AtomicU64,
    cancelled: AtomicU64,
}

/// What the limit has counted since the server started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapacityCounts {
    /// Answered 503 because no place freed up within `queue_wait`.
    pub refused: u64,
    /// Answered 503 because they ran past `deadline`.
    pub timed_out: u64,
    /// Dropped because their client went away before the answer.
    pub cancelled: u64,
}

impl Capacity {
    pub fn new(config: CapacityConfig) -> Self {
        Self {
            places: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            config,
            refused: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
        }
    }

    pub fn counts(&self) -> CapacityCounts {
        CapacityCounts {
            refused: self.refused.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
        }
    }
}

/// Whether `path` is outside the limit (health checks and static files are cheap and must
/// answer even when the server is saturated).
fn exempt(path: &str) -> bool {
    path == "/healthz" || path.starts_with("/static/")
}

/// The busy answer in the form the path expects.
fn busy(api: bool) -> Response {
    if api {
        ApiError(AppError::Busy).into_response()
    } else {
        PageError(AppError::Busy).into_response()
    }
}

/// Counts a request dropped before it finished: its client went away.
struct InFlight<'a> {
    capacity: &'a Capacity,
    finished: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.capacity.cancelled.fetch_add(1, Ordering::Relaxed);
            tracing::info!("request cancelled: the client went away");
        }
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn limit(
    State(capacity): State<Arc<Capacity>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if exempt(path) {
        return next.run(request).await;
    }
    let api = path.starts_with("/api/");
    let mut in_flight = InFlight {
        capacity: &capacity,
        finished: false,
    };
    let place = tokio::time::timeout(
        capacity.config.queue_wait,
        Arc::clone(&capacity.places).acquire_owned(),
    )
    .await;
    let Ok(Ok(_place)) = place else {
        in_flight.finished = true;
        capacity.refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path, "busy: no place within the queue wait");
        return busy(api);
    };
    let path = path.to_owned();
    let answer = tokio::time::timeout(capacity.config.deadline, next.run(request)).await;
    in_flight.finished = true;
    match answer {
        Ok(response) => response,
        Err(_) => {
            capacity.timed_out.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(path, "busy: the request ran past its deadline");
            busy(api)
        }
    }
}
