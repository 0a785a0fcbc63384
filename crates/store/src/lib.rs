//! The store: the only crate with SQL. One schema, kept in `migrations/sqlite` and
//! `migrations/postgres` under the same numbered names, reached through sqlx's `Any` driver so
//! that every query is written once and the same story runs on both backends.
//!
//! Invariant: history tables (memberships, category periods, audit log) are append-only or
//! closed by an end date, never rewritten; every write a caller makes happens inside a
//! transaction it commits, together with its audit events (see `audit`).
//! Boundary: row structs live here; conversion to domain types happens at this edge.

pub mod assistance;
pub mod audit;
pub mod bulk;
pub mod cases;
pub mod households;
pub mod imports;
pub mod places;
pub mod policy;
pub mod rechecks;
pub mod report;
pub mod rolls;
pub mod search;
pub mod sessions;
pub mod users;
pub mod watch;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

pub use sqlx::AnyConnection as Conn;

/// SQLite's page cache per connection, in KiB.
pub(crate) const SQLITE_CACHE_KIB: i64 = 65_536;

/// A write transaction. On SQLite it is `BEGIN IMMEDIATE`, so that read-then-write use cases
/// take the single writer lock up front instead of failing on upgrade.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The audit chain cannot be written with this process's key (none, or another).
    #[error("audit key: {0}")]
    AuditKey(String),
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
}

/// The outcome of an update guarded by `version = expected_version`: exactly one row changed,
/// else someone changed `entity` `id` since it was read.
pub(crate) fn changed_at_version(
    updated: sqlx::any::AnyQueryResult,
    entity: &str,
    id: i64,
    expected_version: i64,
) -> Result<()> {
    if updated.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "{entity} {id} changed since version {expected_version}"
        )))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            _ => StoreError::Unavailable(error),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool with its migrations applied.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The key of the audit chain's HMAC (`audit`), given by the caller; none in tests of an
    /// unkeyed chain.
    audit_key: Option<audit::AuditKey>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://file.db`, `sqlite::memory:`, `postgres://…`), creating a
    /// SQLite file if absent, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Conflict(format!(
                "unsupported database url scheme: {url}"
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains(":memory:") && !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool_options = match backend {
            // One writer at a time is SQLite's rule; a few readers share WAL snapshots.
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(if url.contains(":memory:") { 1 } else { 4 })
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;").await?;
                        conn.execute(sqlx::AssertSqlSafe(format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))).await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|error| StoreError::Unavailable(error.into()))?;
        Ok(Store {
            pool,
            backend,
            audit_key: None,
        })
    }

    /// Connects without applying migrations (to administer a server, e.g. create databases).
    pub async fn connect_unmigrated(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .connect(url)
            .await?;
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        Ok(Store {
            pool,
            backend,
            audit_key: None,
        })
    }

    /// This store with the audit chain's key: its writes are keyed (see `audit`).
    pub fn with_audit_key(self, key: audit::AuditKey) -> Store {
        Store {
            audit_key: Some(key),
            ..self
        }
    }

    /// The audit key every append of this store uses.
    pub fn audit_key(&self) -> Option<&audit::AuditKey> {
        self.audit_key.as_ref()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction (see `Tx`).
    pub async fn begin(&self) -> Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// A pooled connection for reads outside a transaction.
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// 备份 (SQLite): a consistent copy of the whole database at `path` (`VACUUM INTO`, one
    /// read transaction: writers go on meanwhile, and the copy holds what was committed when
    /// it began). `path` must not exist.
    pub async fn backup_to(&self, path: &str) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "VACUUM INTO copies SQLite databases only; use pg_dump on PostgreSQL".to_owned(),
            ));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the database holds anything a restore would overwrite: users, households or
    /// audit rows.
    pub async fn holds_data(&self) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM households) + (SELECT COUNT(*) FROM audit_log)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads a flag of the `meta` table.
pub async fn meta_get(conn: &mut Conn, key: &str) -> Result<Option<String>> {
    let value: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(value.map(|(value,)| value))
}

pub async fn meta_set(conn: &mut Conn, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The half-open text range `[prefix, prefix + ":")` that holds every code under `prefix`
/// (digits sort before ':'), so area scoping uses a plain b-tree index on both backends.
pub fn area_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}:"))
}

/// Commits a write transaction.
pub async fn commit(tx: Tx) -> Result<()> {
    Ok(tx.commit().await?)
}

/// Abandons a write transaction: nothing it wrote remains.
pub async fn rollback(tx: Tx) -> Result<()> {
    Ok(tx.rollback().await?)
}
