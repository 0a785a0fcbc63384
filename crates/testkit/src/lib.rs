//! Test support shared by the store, app and web suites (a dev-dependency only): each test that
//! runs on PostgreSQL gets a database of its own on the server named by `TEST_DATABASE_URL`.
//!
//! Template databases: migrating a fresh database for every test is most of a short test's
//! time, so the suites copy one that is migrated already. `sqlite_url` copies a file migrated
//! once (per set of migrations, kept in the temp directory); `fresh_postgres` creates each
//! database with `CREATE DATABASE … TEMPLATE` from one migrated once per set of migrations on
//! the server. Both are named by a hash of the migration files, so a new migration makes a new
//! template, and a template is built under a private name and renamed into place, so test
//! processes starting at once never copy a half-migrated one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support fails loudly

use sha2::{Digest, Sha256};
use sqlx::Executor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use store::Store;
use tokio::sync::OnceCell;

#[cfg(feature = "builders")]
pub mod builders;

/// The server of `TEST_DATABASE_URL`, when the PostgreSQL suites should run.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

fn unique_suffix() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u64::from(nanos) * 1000 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `url` with its database name replaced by `name` (query string kept).
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

async fn try_on_server(statement: String) -> Result<(), sqlx::Error> {
    let admin = Store::connect_unmigrated(&postgres_url().expect("TEST_DATABASE_URL"))
        .await
        .unwrap();
    let done = admin.pool().execute(sqlx::AssertSqlSafe(statement)).await;
    admin.close().await;
    done.map(|_| ())
}

async fn on_server(statement: String) {
    try_on_server(statement).await.unwrap();
}

/// A short hash of one backend's migration files (names and contents, in name order).
fn migrations_hash(backend: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../store/migrations/{backend}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.file_name().unwrap().as_encoded_bytes());
        hasher.update(std::fs::read(&file).unwrap());
    }
    hex::encode(hasher.finalize())[..12].to_owned()
}

/// The migrated template database on the test server (made once per set of migrations).
async fn postgres_template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("safetynet_tpl_{}", migrations_hash("postgres"));
            let server = postgres_url().expect("TEST_DATABASE_URL");
            let admin = Store::connect_unmigrated(&server).await.unwrap();
            sweep_stale_postgres(&admin, &name).await;
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(&name)
                    .fetch_optional(admin.pool())
                    .await
                    .unwrap();
            admin.close().await;
            if exists.is_none() {
                let building = format!("{name}_b{}_{}", std::process::id(), unique_suffix());
                on_server(format!("CREATE DATABASE {building}")).await;
                Store::connect(&replace_database(&server, &building))
                    .await
                    .unwrap()
                    .close()
                    .await;
                // Another process may have renamed its copy into place first: then use that.
                if try_on_server(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .await
                    .is_err()
                {
                    drop_postgres(&building).await;
                }
            }
            name
        })
        .await
}

/// Drops what earlier test processes left on the test server (their databases are not dropped
/// when they end): every `safetynet_…_{pid}_{n}` database whose process is gone, and every
/// template of other migrations than `template`'s. Runs once per test process.
async fn sweep_stale_postgres(admin: &Store, template: &str) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'safetynet\\_%'",
    )
    .fetch_all(admin.pool())
    .await
    .unwrap();
    for name in names {
        let mut parts = name.rsplit('_');
        let (n, pid) = (parts.next(), parts.next());
        let process_gone = match (n, pid) {
            (Some(n), Some(pid)) if n.parse::<u64>().is_ok() => {
                let pid = pid.trim_start_matches('b');
                pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists()
            }
            _ => false,
        };
        let old_template =
            name.starts_with("safetynet_tpl_") && name.len() == template.len() && name != template;
        if process_gone || old_template {
            // A database another process still uses is left for the next sweep.
            let _in_use = try_on_server(format!("DROP DATABASE IF EXISTS {name}")).await;
        }
    }
}

/// Creates a migrated database `{prefix}_{pid}_{n}` on the test server, copied from the
/// template; returns its URL and name.
pub async fn fresh_postgres(prefix: &str) -> (String, String) {
    let template = postgres_template().await;
    copy_postgres(template, prefix).await
}

/// Creates `{prefix}_{pid}_{n}` on the test server as a copy of `template`; returns its URL and
/// name.
async fn copy_postgres(template: &str, prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}_{}", std::process::id(), unique_suffix());
    // Copies from one template are serialised by the server; retry while another copy holds
    // it, for up to two minutes (many suites may be copying at once on a loaded server).
    let started = std::time::Instant::now();
    let mut tries: u64 = 0;
    while let Err(error) =
        try_on_server(format!("CREATE DATABASE {name} TEMPLATE {template}")).await
    {
        tries += 1;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "CREATE DATABASE {name} TEMPLATE {template} ({tries} tries): {error}"
        );
        let wait = (20 * tries).min(500) + unique_suffix() % 50;
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    }
    (
        replace_database(&postgres_url().expect("TEST_DATABASE_URL"), &name),
        name,
    )
}

/// Creates an empty, unmigrated database `{prefix}_{pid}_{n}` on the test server (for tests
/// of the migrations themselves); returns its URL and name.
pub async fn empty_postgres(prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}_{}", std::process::id(), unique_suffix());
    on_server(format!("CREATE DATABASE {name}")).await;
    (
        replace_database(&postgres_url().expect("TEST_DATABASE_URL"), &name),
        name,
    )
}

/// The migrated SQLite template file (made once per set of migrations, in the temp directory).
async fn sqlite_template() -> &'static Path {
    static TEMPLATE: OnceCell<PathBuf> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let path = std::env::temp_dir()
                .join(format!("safetynet_tpl_{}.db", migrations_hash("sqlite")));
            if !path.exists() {
                let dir = tempfile::tempdir().unwrap();
                let work = dir.path().join("template.db");
                let store = Store::connect(&format!("sqlite://{}", work.display()))
                    .await
                    .unwrap();
                let building =
                    path.with_extension(format!("b{}_{}", std::process::id(), unique_suffix()));
                // One self-contained file (no WAL beside it), then renamed into place at once.
                store
                    .pool()
                    .execute(sqlx::AssertSqlSafe(format!(
                        "VACUUM INTO '{}'",
                        building.display()
                    )))
                    .await
                    .unwrap();
                store.close().await;
                std::fs::rename(&building, &path).unwrap();
            }
            path
        })
        .await
}

/// The URL of a migrated SQLite database `{name}.db` in `dir`, a copy of the template.
pub async fn sqlite_url(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.db"));
    std::fs::copy(sqlite_template().await, &path).unwrap();
    format!("sqlite://{}", path.display())
}

/// Refreshes the planner's statistics of a seeded store (and on PostgreSQL its visibility
/// map), as a running database keeps them, before a test checks which plan a query gets.
pub async fn refresh_statistics(store: &Store) {
    let refresh = match store.backend() {
        store::Backend::Postgres => "VACUUM ANALYZE",
        store::Backend::Sqlite => "ANALYZE",
    };
    let mut conn = store.pool().acquire().await.unwrap();
    sqlx::Executor::execute(&mut *conn, refresh).await.unwrap();
}

/// A database seeded once per test process and per store, which each test copies: for the
/// suites whose tests read a large seeded registry (the checks of query plans), so that splitting
/// one such test by behaviour does not seed it again for each part. SQLite: the seeded file,
/// made self-contained with `VACUUM INTO`, is copied; PostgreSQL: the seeded database is the
/// `TEMPLATE` of each copy. Planner statistics (`ANALYZE`) are kept in both copies.
///
/// Declared as a `static` in the test file (`static SEEDED: Seeded = Seeded::new("roster");`),
/// it is seeded by the first test that asks, whatever the order the tests run in.
pub struct Seeded {
    name: &'static str,
    sqlite: OnceCell<PathBuf>,
    postgres: OnceCell<String>,
}

impl Seeded {
    /// `name` names the databases (letters and underscores).
    pub const fn new(name: &'static str) -> Self {
        Seeded {
            name,
            sqlite: OnceCell::const_new(),
            postgres: OnceCell::const_new(),
        }
    }

    /// A copy of the seeded database on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is
    /// set, each with its backend's name and a directory that lives as long as it must; `seed`
    /// runs on a migrated store the first time a backend is asked for.
    pub async fn stores<F, Fut>(&self, seed: F) -> Vec<(&'static str, Store, tempfile::TempDir)>
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let dir = tempfile::tempdir().unwrap();
        let url = self.sqlite_url(dir.path(), &seed).await;
        let mut stores = vec![("sqlite", Store::connect(&url).await.unwrap(), dir)];
        if postgres_url().is_some() {
            let (url, _name) = self.postgres(&seed).await;
            stores.push((
                "postgres",
                Store::connect(&url).await.unwrap(),
                tempfile::tempdir().unwrap(),
            ));
        }
        stores
    }

    /// The URL of a copy of the seeded SQLite database, `{name}.db` in `dir`.
    pub async fn sqlite_url<F, Fut>(&self, dir: &Path, seed: F) -> String
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let template = self
            .sqlite
            .get_or_init(|| async {
                sweep_stale_sqlite_seeds();
                let work = tempfile::tempdir().unwrap();
                let url = sqlite_url(work.path(), "seeding").await;
                let store = Store::connect(&url).await.unwrap();
                seed(store.clone()).await;
                let path = std::env::temp_dir().join(format!(
                    "safetynet_seed_{}_{}_{}.db",
                    self.name,
                    std::process::id(),
                    unique_suffix()
                ));
                store
                    .pool()
                    .execute(sqlx::AssertSqlSafe(format!(
                        "VACUUM INTO '{}'",
                        path.display()
                    )))
                    .await
                    .unwrap();
                store.close().await;
                path
            })
            .await;
        let path = dir.join(format!("{}.db", self.name));
        std::fs::copy(template, &path).unwrap();
        format!("sqlite://{}", path.display())
    }

    /// A copy of the seeded PostgreSQL database on the test server: its URL and name.
    pub async fn postgres<F, Fut>(&self, seed: F) -> (String, String)
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let template = self
            .postgres
            .get_or_init(|| async {
                let (url, name) = fresh_postgres(&format!("safetynet_seed_{}", self.name)).await;
                let store = Store::connect(&url).await.unwrap();
                seed(store.clone()).await;
                // A template is copied only while no one is connected to it.
                store.close().await;
                name
            })
            .await;
        copy_postgres(template, &format!("safetynet_{}", self.name)).await
    }
}

/// Removes the seeded SQLite files of test processes that are gone
/// (`safetynet_seed_{name}_{pid}_{n}.db` in the temp directory).
fn sweep_stale_sqlite_seeds() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(stem) = file_name
            .to_str()
            .and_then(|name| name.strip_prefix("safetynet_seed_"))
            .and_then(|name| name.strip_suffix(".db"))
        else {
            continue;
        };
        let mut parts = stem.rsplit('_');
        let (_n, pid) = (parts.next(), parts.next());
        if let Some(pid) = pid.filter(|pid| pid.parse::<u32>().is_ok())
            && !Path::new("/proc").join(pid).exists()
        {
            // Another process's sweep may have removed it first.
            let _gone = std::fs::remove_file(entry.path());
        }
    }
}

/// Drops a database made by `fresh_postgres` (its pools must be closed first).
pub async fn drop_postgres(name: &str) {
    on_server(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
}

/// The audit key of the test suites: a fixed one, so that their chains are keyed as the
/// product's are.
pub fn audit_key() -> store::audit::AuditKey {
    store::audit::AuditKey::from_bytes(&[7u8; 32]).unwrap()
}
