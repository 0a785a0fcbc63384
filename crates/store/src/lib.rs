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
pub mod calendar;
pub mod cases;
mod decode;
pub mod disclosure;
pub mod documents;
pub mod households;
pub mod imports;
pub mod incomes;
pub mod name_index;
pub mod places;
pub mod policy;
pub mod rechecks;
pub mod report;
pub mod rolls;
pub mod roster;
pub mod search;
pub mod sessions;
pub mod sql;
pub mod users;
pub mod watch;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

pub use decode::instant_text;
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
    /// A value that does not fit `table`.`column`: a stored one that does not decode into its
    /// domain type (`decode`; the store is corrupt there), or one a writer was handed that
    /// breaks the column's rule (a household without a head, `households::head_of`).
    #[error("stored value {value:?} in {table}.{column} is invalid: {reason}")]
    BadValue {
        table: &'static str,
        column: &'static str,
        value: String,
        reason: String,
    },
    /// The audit chain cannot be written with this process's key (none, or another).
    #[error("audit key: {0}")]
    AuditKey(String),
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// No connection freed up in time, or a statement ran past its timeout: the store is
    /// saturated, and the caller should answer "busy, retry later" rather than wait on.
    #[error("database busy")]
    Busy(#[source] sqlx::Error),
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
            sqlx::Error::PoolTimedOut => StoreError::Busy(error),
            // PostgreSQL's query_canceled (57014): the statement timeout fired.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                StoreError::Busy(error)
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

/// How a store's connections are pooled and bounded. `Default` suits the CLI's batch verbs
/// (long statements allowed, a generous wait for a connection); `serving()` suits the web
/// server under load: a short wait for a connection (the caller answers "busy" rather than
/// hang), a statement timeout on PostgreSQL, and enough readers for concurrent pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// SQLite: reader connections beside the single writer. PostgreSQL: the pool's size.
    pub connections: u32,
    /// How long a caller waits for a pooled connection before `StoreError::Busy`.
    pub acquire_timeout: Duration,
    /// PostgreSQL `statement_timeout` on every connection (none when `None`). SQLite has no
    /// such setting: the web layer bounds each request instead, and a dropped query stops at
    /// its next row (see `web::capacity`).
    pub statement_timeout: Option<Duration>,
    /// SQLite `busy_timeout`: how long a writer waits for another process's write lock.
    pub busy_timeout: Duration,
    /// SQLite: a large bulk load may take the database file for itself and write it through a
    /// rollback journal instead of the WAL (see `bulk::begin`), when no other connection has
    /// it open. For the CLI's batch verbs; never for the server, whose readers must not wait.
    pub exclusive_loads: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            connections: 4,
            acquire_timeout: Duration::from_secs(30),
            statement_timeout: None,
            busy_timeout: Duration::from_secs(10),
            exclusive_loads: true,
        }
    }
}

impl StoreOptions {
    /// The web server's settings (`safetynet serve`): 8 SQLite readers or 24 PostgreSQL
    /// connections, a 2 s wait for a connection, 10 s per statement.
    pub fn serving() -> Self {
        Self {
            connections: 8,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Some(Duration::from_secs(10)),
            busy_timeout: Duration::from_secs(5),
            exclusive_loads: false,
        }
    }
}

/// A store: its connection pools with the migrations applied.
///
/// On a SQLite file there are two pools over the same WAL database: **one writer** connection
/// (every `begin()`), so that writes queue in the pool instead of spinning on the file lock, and
/// several **reader** connections (`read()`), opened `query_only`, which read their WAL
/// snapshot without ever waiting for the writer. An in-memory SQLite database and PostgreSQL
/// use one pool for both.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    readers: AnyPool,
    backend: Backend,
    /// The key of the audit chain's HMAC (`audit`), given by the caller; none in tests of an
    /// unkeyed chain.
    audit_key: Option<audit::AuditKey>,
    /// SQLite file with `StoreOptions::exclusive_loads`: set while the writer runs a bulk load
    /// through a rollback journal (`bulk::begin`). The writer's connection is closed when it
    /// comes back to its pool, so that the next one opens in WAL mode again.
    pub(crate) exclusive_load: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The page size of a new SQLite database, in bytes (a database keeps the size it was made
/// with). SQLite's default is 4 KiB; with 16 KiB a district import of 2 M persons took 80 s
/// instead of 94 s (fewer pages to balance, to log in the WAL and to copy back at the
/// checkpoint), while a read of one household still reads a handful of pages.
const SQLITE_PAGE_BYTES: u32 = 16_384;

/// The pragmas of every SQLite connection; readers add `query_only`. The page size first: it
/// applies to a database not yet written, before the switch to WAL writes its header.
fn sqlite_pragmas(busy_timeout: Duration, reader: bool) -> String {
    format!(
        "PRAGMA page_size = {SQLITE_PAGE_BYTES}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA cache_size = -{SQLITE_CACHE_KIB};{}",
        busy_timeout.as_millis(),
        if reader {
            " PRAGMA query_only = ON;"
        } else {
            ""
        }
    )
}

fn sqlite_pool(max: u32, options: &StoreOptions, reader: bool) -> AnyPoolOptions {
    let pragmas = sqlite_pragmas(options.busy_timeout, reader);
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(options.acquire_timeout)
        .after_connect(move |conn, _meta| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                Ok(())
            })
        })
}

impl Store {
    /// Connects to `url` (`sqlite://file.db`, `sqlite::memory:`, `postgres://…`), creating a
    /// SQLite file if absent, and applies pending migrations, with the batch settings.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// Connects as `connect` does, with the given pool settings.
    pub async fn connect_with(url: &str, settings: &StoreOptions) -> Result<Store> {
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
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let url = match backend {
            Backend::Sqlite if !in_memory && !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let exclusive_load = (backend == Backend::Sqlite && !in_memory && settings.exclusive_loads)
            .then(|| std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)));
        let (pool, readers) = match backend {
            // An in-memory database lives in its one connection.
            Backend::Sqlite if in_memory => {
                let pool = sqlite_pool(1, settings, false)
                    .connect_with(options)
                    .await?;
                (pool.clone(), pool)
            }
            // One writer; the readers are opened after the migrations, which the writer runs.
            Backend::Sqlite => {
                let mut writer = sqlite_pool(1, settings, false);
                if let Some(flag) = &exclusive_load {
                    let flag = flag.clone();
                    writer = writer.after_release(move |_conn, _meta| {
                        let keep = !flag.swap(false, std::sync::atomic::Ordering::SeqCst);
                        Box::pin(async move { Ok(keep) })
                    });
                }
                let writer = writer.connect_with(options.clone()).await?;
                let readers = sqlite_pool(settings.connections.max(1), settings, true)
                    .connect_lazy_with(options);
                (writer, readers)
            }
            Backend::Postgres => {
                let statement_timeout = settings.statement_timeout;
                let pool = AnyPoolOptions::new()
                    .max_connections(settings.connections.max(2))
                    .acquire_timeout(settings.acquire_timeout)
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            if let Some(timeout) = statement_timeout {
                                conn.execute(sqlx::AssertSqlSafe(format!(
                                    "SET statement_timeout = {}",
                                    timeout.as_millis()
                                )))
                                .await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?;
                (pool.clone(), pool)
            }
        };
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
            readers,
            backend,
            audit_key: None,
            exclusive_load,
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
            readers: pool.clone(),
            pool,
            backend,
            audit_key: None,
            exclusive_load: None,
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

    /// The writer pool (all of PostgreSQL's connections).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The reader pool: on a SQLite file, `query_only` connections beside the writer; else
    /// the same pool as `pool()`.
    pub fn readers(&self) -> &AnyPool {
        &self.readers
    }

    /// Begins a write transaction (see `Tx`).
    pub async fn begin(&self) -> Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// A pooled reader connection for reads outside a transaction (never waits for the
    /// writer on SQLite).
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.readers.acquire().await?)
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
        self.readers.close().await;
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
