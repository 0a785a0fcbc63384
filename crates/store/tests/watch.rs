//! The comparison job queue and warning dedupe (issue 5), on SQLite always and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::collections::BTreeSet;
use store::Store;
use store::watch::{self, NewFeed, NewWarning};

async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("watch.db").display());
    let mut stores = vec![("sqlite", Store::connect(&url).await.unwrap(), dir)];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_queue").await;
        stores.push((
            "postgres",
            Store::connect(&url).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

async fn feed(store: &Store, period: &str) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = watch::insert_feed(
        &mut tx,
        &NewFeed {
            source: "公安",
            period,
            content_hash: "abc",
            file_name: "f.csv",
            format: "csv",
            content: b"id_number,name,kind,value,date,detail\n",
            rows_read: 0,
            rows_rejected: 1,
            imported_by: "test",
            imported_by_user_id: 1,
            imported_at: "2026-11-02T02:00:00Z",
        },
        &[(3, "列数为 3，应为 6".to_owned())],
    )
    .await
    .unwrap();
    store::commit(tx).await.unwrap();
    id
}

async fn claim(store: &Store, worker: &str) -> Option<i64> {
    let mut tx = store.begin().await.unwrap();
    let job = watch::claim_job(
        &mut tx,
        worker,
        "2026-11-02T02:00:00Z",
        "2026-11-02T00:00:00Z",
    )
    .await
    .unwrap();
    store::commit(tx).await.unwrap();
    job.map(|job| job.id)
}

#[tokio::test]
async fn w2_a_job_is_claimed_once_and_two_workers_share_the_queue() {
    for (backend, store, _dir) in stores().await {
        let feed_id = feed(&store, "2026-10").await;
        // The same identity again is a conflict (the app answers it as a repeat).
        let mut tx = store.begin().await.unwrap();
        let again = watch::insert_feed(
            &mut tx,
            &NewFeed {
                source: "公安",
                period: "2026-10",
                content_hash: "abc",
                file_name: "g.csv",
                format: "csv",
                content: b"",
                rows_read: 0,
                rows_rejected: 0,
                imported_by: "test",
                imported_by_user_id: 1,
                imported_at: "2026-11-02T02:00:00Z",
            },
            &[],
        )
        .await;
        assert!(
            matches!(again, Err(store::StoreError::Conflict(_))),
            "{backend}"
        );
        store::rollback(tx).await.unwrap();
        let mut conn = store.read().await.unwrap();
        assert_eq!(
            watch::feed_rejections(&mut conn, feed_id, 10)
                .await
                .unwrap(),
            [(3, "列数为 3，应为 6".to_owned())],
            "{backend}"
        );
        drop(conn);

        let mut tx = store.begin().await.unwrap();
        let first = watch::enqueue_job(&mut tx, feed_id, "2026-11-02", "t")
            .await
            .unwrap();
        store::commit(tx).await.unwrap();
        assert_eq!(claim(&store, "a").await, Some(first), "{backend}");
        assert_eq!(claim(&store, "b").await, None, "{backend}: claimed twice");
        let mut conn = store.read().await.unwrap();
        let job = watch::job(&mut conn, first).await.unwrap().unwrap();
        assert_eq!(
            (job.state.as_str(), job.worker.as_deref()),
            ("running", Some("a")),
            "{backend}"
        );
        drop(conn);
        // Worker a died: once its lease has run out, another worker takes the job again.
        let mut tx = store.begin().await.unwrap();
        let again = watch::claim_job(&mut tx, "c", "2026-11-02T05:00:00Z", "2026-11-02T03:00:00Z")
            .await
            .unwrap();
        store::commit(tx).await.unwrap();
        assert_eq!(
            again.map(|job| (job.id, job.worker)),
            Some((first, Some("c".to_owned()))),
            "{backend}: an abandoned job is taken again"
        );
        assert_eq!(
            claim(&store, "b").await,
            None,
            "{backend}: the new lease holds"
        );

        let mut tx = store.begin().await.unwrap();
        let mut queued = BTreeSet::new();
        for _ in 0..12 {
            queued.insert(
                watch::enqueue_job(&mut tx, feed_id, "2026-11-02", "t")
                    .await
                    .unwrap(),
            );
        }
        store::commit(tx).await.unwrap();
        let worker = |name: &'static str| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(id) = claim(&store, name).await {
                    mine.push(id);
                    tokio::task::yield_now().await;
                }
                mine
            })
        };
        let (left, right) = (worker("left"), worker("right"));
        let (left, right) = (left.await.unwrap(), right.await.unwrap());
        let both: BTreeSet<i64> = left.iter().chain(&right).copied().collect();
        assert_eq!(
            both.len(),
            left.len() + right.len(),
            "{backend}: a job claimed by both"
        );
        assert_eq!(both, queued, "{backend}: every job claimed");
    }
}

#[tokio::test]
async fn w3_the_same_fact_is_one_warning() {
    for (backend, store, _dir) in stores().await {
        let warning = |key| NewWarning {
            dedupe_key: key,
            origin: "comparison",
            rule: "death",
            kind: "contradiction",
            severity: "high",
            id_number: Some("500224197001010011"),
            person_name: "韩一",
            household_external_id: None,
            household_id: None,
            inside_net: false,
            area_code: "500151",
            feed_id: None,
            job_id: None,
            line: Some(2),
            description: "死亡",
            param_json: None,
            state: "open",
            disposition: None,
            case_id: None,
            created_on: "2026-11-02",
            due_on: "2026-11-04",
            closed_on: None,
            now: "t",
        };
        let mut tx = store.begin().await.unwrap();
        let first = watch::insert_warning(&mut tx, &warning("death:x:0"))
            .await
            .unwrap();
        let second = watch::insert_warning(&mut tx, &warning("death:x:0"))
            .await
            .unwrap();
        let other = watch::insert_warning(&mut tx, &warning("death:y:0"))
            .await
            .unwrap();
        store::commit(tx).await.unwrap();
        assert!(first.is_some() && other.is_some(), "{backend}");
        assert_eq!(second, None, "{backend}");
        let mut conn = store.read().await.unwrap();
        let (rows, total) = watch::list_warnings(
            &mut conn,
            &watch::WarningFilter {
                area_prefix: "500151",
                late_on: Some("2026-11-05"),
                limit: 10,
                ..watch::WarningFilter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (rows.len(), total),
            (2, 2),
            "{backend}: both late on the 5th"
        );
    }
}
