//! The store's pools under load, on SQLite and PostgreSQL: a read never waits for an open
//! write transaction and sees only committed data; writes queue for the one writer and a
//! writer that does not come in time is `Busy` (not a hang); SQLite readers cannot write;
//! PostgreSQL bounds every statement (`statement_timeout` → `Busy`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::time::{Duration, Instant};
use store::{Backend, Store, StoreError, StoreOptions};

/// Serving settings with a short wait for a connection, so the test sees `Busy` quickly.
fn options() -> StoreOptions {
    StoreOptions {
        connections: 3,
        acquire_timeout: Duration::from_millis(300),
        statement_timeout: Some(Duration::from_millis(300)),
        ..StoreOptions::serving()
    }
}

async fn stores() -> Vec<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), "pools").await;
    let mut stores = vec![(Store::connect_with(&url, &options()).await.unwrap(), dir)];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_pools").await;
        stores.push((
            Store::connect_with(&url, &options()).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

async fn meta_count(conn: &mut store::Conn) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM meta WHERE key = 'pools.test'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    count
}

/// The test's row is there once, seen by a reader; then the pools are closed.
async fn assert_committed_once_and_close(store: Store) {
    let backend = store.backend();
    let mut conn = store.read().await.unwrap();
    assert_eq!(meta_count(&mut conn).await, 1, "{backend:?}");
    drop(conn);
    store.close().await;
}

#[tokio::test]
async fn a_read_does_not_wait_for_an_open_write_and_sees_only_committed_data() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let mut tx = store.begin().await.unwrap();
        store::meta_set(&mut tx, "pools.test", "uncommitted")
            .await
            .unwrap();
        // The writer holds its transaction open; readers go on at once.
        let started = Instant::now();
        for _ in 0..3 {
            let mut conn = store.read().await.unwrap();
            assert_eq!(meta_count(&mut conn).await, 0, "{backend:?}");
        }
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "{backend:?}: reads waited {:?}",
            started.elapsed()
        );
        store::commit(tx).await.unwrap();
        assert_committed_once_and_close(store).await;
    }
}

#[tokio::test]
async fn writes_queue_for_the_writer_and_one_that_waits_too_long_is_busy() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let first = store.begin().await.unwrap();
        match backend {
            // One writer connection: a second write waits in the pool, then is `Busy`.
            Backend::Sqlite => {
                let started = Instant::now();
                let second = store.begin().await;
                assert!(
                    matches!(second, Err(StoreError::Busy(_))),
                    "{backend:?}: {second:?}"
                );
                assert!(started.elapsed() < Duration::from_secs(2), "{backend:?}");
                // Queued writes go through in turn once the writer is free.
                let waiting = {
                    let store = store.clone();
                    tokio::spawn(async move {
                        let mut tx = store.begin().await.unwrap();
                        store::meta_set(&mut tx, "pools.test", "second")
                            .await
                            .unwrap();
                        store::commit(tx).await.unwrap();
                    })
                };
                tokio::time::sleep(Duration::from_millis(50)).await;
                store::commit(first).await.unwrap();
                waiting.await.unwrap();
            }
            // The pool's connections are shared: all taken, the next caller is `Busy`.
            Backend::Postgres => {
                let mut held = vec![first];
                loop {
                    match store.begin().await {
                        Ok(tx) => held.push(tx),
                        Err(StoreError::Busy(_)) => break,
                        Err(other) => panic!("{backend:?}: {other:?}"),
                    }
                    assert!(held.len() <= 3, "{backend:?}: the pool grew past its size");
                }
                for tx in held {
                    store::rollback(tx).await.unwrap();
                }
                let mut tx = store.begin().await.unwrap();
                store::meta_set(&mut tx, "pools.test", "second")
                    .await
                    .unwrap();
                store::commit(tx).await.unwrap();
            }
        }
        assert_committed_once_and_close(store).await;
    }
}

#[tokio::test]
async fn readers_cannot_write_and_statements_are_bounded() {
    for (store, _dir) in stores().await {
        let backend = store.backend();
        let mut conn = store.read().await.unwrap();
        match backend {
            Backend::Sqlite => {
                // SQLite readers are `query_only`: a write through one is refused.
                let written = store::meta_set(&mut conn, "pools.test", "from a reader").await;
                assert!(written.is_err(), "{backend:?}: {written:?}");
            }
            Backend::Postgres => {
                let slept = sqlx::query("SELECT pg_sleep(2)")
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::from);
                assert!(
                    matches!(slept, Err(StoreError::Busy(_))),
                    "{backend:?}: {slept:?}"
                );
            }
        }
        drop(conn);
        store.close().await;
    }
}
