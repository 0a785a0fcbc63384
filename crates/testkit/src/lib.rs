//! Test support shared by the store, app and web suites (a dev-dependency only): each test that
//! runs on PostgreSQL gets a database of its own on the server named by `TEST_DATABASE_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support fails loudly

use sqlx::Executor;
use std::sync::atomic::{AtomicU64, Ordering};
use store::Store;

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

async fn on_server(statement: String) {
    let admin = Store::connect_unmigrated(&postgres_url().expect("TEST_DATABASE_URL"))
        .await
        .unwrap();
    admin
        .pool()
        .execute(sqlx::AssertSqlSafe(statement))
        .await
        .unwrap();
    admin.close().await;
}

/// Creates an empty database `{prefix}_{pid}_{n}` on the test server; returns its URL and name.
pub async fn fresh_postgres(prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}_{}", std::process::id(), unique_suffix());
    on_server(format!("CREATE DATABASE {name}")).await;
    (
        replace_database(&postgres_url().expect("TEST_DATABASE_URL"), &name),
        name,
    )
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
