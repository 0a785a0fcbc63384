//! 公开 (issue 14 item 1, migration 0032): a village's or town's list as in force on a day is
//! one indexed keyset read of `disclosure_entries`, never a scan of the table or the registry,
//! on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use store::Store;
use store::disclosure::{self, NewEntry};

async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), "disclosure").await;
    let mut stores = vec![("sqlite", Store::connect(&url).await.unwrap(), dir)];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_disclosure").await;
        stores.push((
            "postgres",
            Store::connect(&url).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

/// A plan step that reads the whole list table or the registry.
fn scans(line: &str) -> bool {
    let line = line.trim_start_matches(['|', '-', '`', ' ']);
    ["disclosure_entries", "households", "category_periods"]
        .iter()
        .any(|table| {
            line.contains(&format!("Seq Scan on {table} "))
                || line.ends_with(&format!("Seq Scan on {table}"))
                || (line.starts_with(&format!("SCAN {table}")) && !line.contains(" USING "))
        })
}

const PER_VILLAGE: usize = 150;

#[tokio::test]
async fn i14_a_public_list_is_an_indexed_keyset_read_of_its_lines() {
    let places =
        domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
    let villages: Vec<String> = places
        .iter()
        .map(|place| place.code.as_str().to_owned())
        .filter(|code| code.len() == 12)
        .take(30)
        .collect();
    let town = villages[0][..9].to_owned();
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &places).await.unwrap();
        let mut n = 0;
        for village in &villages {
            for _ in 0..PER_VILLAGE {
                n += 1;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO households (external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at) \
                     VALUES ($1, $2, 'rural', '张小明', $3, 3, '{}', 1, 't', 't') RETURNING id",
                )
                .bind(format!("H{n}"))
                .bind(village)
                .bind(format!("ID{n}"))
                .fetch_one(&mut *tx)
                .await
                .unwrap();
                // Every third line ended on 2026-06-01 (an exit).
                let entry = disclosure::insert(
                    &mut tx,
                    &NewEntry {
                        area_code: village,
                        household_id: id,
                        disclosed_name: "张*明",
                        category: "dibao",
                        household_size: 3,
                        monthly_fen: Some(n as i64 * 100),
                        start_date: "2026-01-01",
                        in_force_from: "2026-01-01",
                        opened_by: "test",
                        written_at: "t",
                    },
                )
                .await
                .unwrap();
                if n % 3 == 0 {
                    disclosure::end(&mut tx, entry, "2026-06-01", "exit")
                        .await
                        .unwrap();
                }
            }
        }
        store::commit(tx).await.unwrap();
        testkit::refresh_statistics(&store).await;
        let mut conn = store.read().await.unwrap();
        for area in [villages[3].as_str(), town.as_str()] {
            for after in [None, Some((area, 40))] {
                let statement = disclosure::in_force_statement(area, "2026-07-01", after, 201);
                let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                assert!(
                    !plan.iter().any(|line| scans(line)),
                    "{backend}: {area} scans:\n{}\n{}",
                    statement.sql,
                    plan.join("\n")
                );
            }
        }
        // The town's list on a day, page by page: in order, none twice, the exits left out
        // after their day and kept before it.
        for (day, expect_share) in [("2026-07-01", 2), ("2026-05-31", 3)] {
            let in_town = villages.iter().filter(|v| v.starts_with(&town)).count();
            let expected = in_town * PER_VILLAGE * expect_share / 3;
            let mut seen: Vec<(String, i64)> = Vec::new();
            let mut after: Option<(String, i64)> = None;
            loop {
                let page = disclosure::in_force(
                    &mut conn,
                    &town,
                    day,
                    after.as_ref().map(|(a, id)| (a.as_str(), *id)),
                    200,
                )
                .await
                .unwrap();
                let Some(last) = page.last() else { break };
                after = Some((last.area_code.as_str().to_owned(), last.id));
                seen.extend(
                    page.iter()
                        .map(|row| (row.area_code.as_str().to_owned(), row.id)),
                );
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted, seen, "{backend}: in order, none twice");
            assert_eq!(seen.len(), expected, "{backend}: {day}");
            assert_eq!(
                disclosure::count_in_force(&mut conn, &town, day)
                    .await
                    .unwrap(),
                expected as i64,
                "{backend}"
            );
        }
    }
}
