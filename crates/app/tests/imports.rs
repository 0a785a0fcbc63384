//! D1 household import at district size, in small: a file of several batches is one
//! all-or-nothing load (a bad line late in the file leaves the store as it was), a re-import
//! changes nothing, a changed household is updated with its composition and audit trail, and
//! 不重不漏 holds across the file and the store. On SQLite always, and on PostgreSQL (the COPY
//! path) when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use app::imports::{ImportError, ImportReport, LineError};
use app::{App, AppSettings};
use common::{FixedClock, stores};
use serde_json::Value;
use std::sync::Arc;
use store::Store;
use store::audit::Verification;

/// More than two batches of an import (4 000 households each).
const N_HOUSEHOLDS: usize = 9_000;

struct World {
    backend: &'static str,
    app: App,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn worlds(name: &str) -> Vec<World> {
    let mut worlds = Vec::new();
    for (backend, store, dir) in stores(name).await {
        let clock = Arc::new(FixedClock::on("2026-12-01"));
        let app = App::new(store.clone(), clock, AppSettings::default());
        app.load_places("test", &places()).await.unwrap();
        worlds.push(World {
            backend,
            app,
            store,
            _dir: dir,
        });
    }
    worlds
}

fn places() -> Vec<domain::Place> {
    domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap()
}

/// Generated households as JSON values, one per line.
fn generated(count: usize, seed: u64) -> Vec<Value> {
    let mut bytes = Vec::new();
    synth::write_households_jsonl(&places(), count, seed, &mut bytes).unwrap();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn file(lines: &[Value]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

fn id_number(household: &Value, member: usize) -> String {
    household["members"][member]["id_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn count(store: &Store, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(store.pool())
        .await
        .unwrap();
    n
}

/// The store's tables, indexes and constraints by name, and SQLite's journal mode: a load that
/// drops some of them for its length (a large load on SQLite, a first load on PostgreSQL), or
/// stages its rows in tables of its own, leaves them all as they were, whether it is refused
/// or committed, and so does a SQLite load written
/// through a rollback journal (`store::bulk::begin`): the writer opens in WAL mode again.
async fn schema(store: &Store) -> Vec<String> {
    let sql = match store.backend() {
        store::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type IN ('index', 'table') ORDER BY name"
        }
        store::Backend::Postgres => {
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
             UNION ALL SELECT c.conname::text FROM pg_constraint c \
             JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() \
             UNION ALL SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY 1"
        }
    };
    let mut names: Vec<(String,)> = sqlx::query_as(sql).fetch_all(store.pool()).await.unwrap();
    if store.backend() == store::Backend::Sqlite {
        names.push(
            sqlx::query_as("PRAGMA journal_mode")
                .fetch_one(store.pool())
                .await
                .unwrap(),
        );
    }
    names.into_iter().map(|(name,)| name).collect()
}

/// Households, persons, memberships, imports, audit rows.
async fn contents(store: &Store) -> [i64; 5] {
    let mut counts = [0; 5];
    for (idx, table) in [
        "households",
        "persons",
        "memberships",
        "imports",
        "audit_log",
    ]
    .into_iter()
    .enumerate()
    {
        counts[idx] = count(store, &format!("SELECT COUNT(*) FROM {table}")).await;
    }
    counts
}

async fn verify(store: &Store) -> Verification {
    let mut conn = store.read().await.unwrap();
    store::audit::verify(&mut conn, store.audit_key(), None)
        .await
        .unwrap()
}

async fn import(world: &World, name: &str, lines: &[Value]) -> Result<ImportReport, ImportError> {
    world
        .app
        .import_households("test", name, &file(lines), &|_| {})
        .await
}

fn bad_lines(result: Result<ImportReport, ImportError>) -> Vec<LineError> {
    match result {
        Err(ImportError::BadLines(errors)) => errors,
        other => panic!("expected bad lines, got {other:?}"),
    }
}

#[tokio::test]
async fn d1_bad_lines_late_in_a_file_of_many_batches_import_nothing() {
    let mut lines = generated(N_HOUSEHOLDS, 5);
    // A broken line in the second batch, a person already on line 3 in the third, a place
    // that does not exist after it.
    let on_line_3 = id_number(&lines[2], 0);
    lines[8_499]["members"][0]["id_number"] = Value::from(on_line_3.clone());
    lines[8_699]["area_code"] = Value::from("500151999999");
    let mut text = file(&lines);
    let line_6500 = text.lines().nth(6_499).unwrap().to_owned();
    text = text.replacen(&line_6500, "{\"id\": \"broken", 1);
    for world in worlds("import_bad").await {
        let before = contents(&world.store).await;
        let schema_before = schema(&world.store).await;
        let result = world
            .app
            .import_households("test", "bad.jsonl", &text, &|_| {})
            .await;
        let errors = bad_lines(result);
        let numbers: Vec<usize> = errors.iter().map(|error| error.line).collect();
        assert_eq!(
            numbers,
            [6_500, 8_500, 8_700],
            "{}: {errors:?}",
            world.backend
        );
        assert!(errors[0].message.contains("JSON"), "{errors:?}");
        assert!(errors[1].message.contains("已出现在第3行"), "{errors:?}");
        assert!(errors[2].message.contains("500151999999"), "{errors:?}");
        assert_eq!(contents(&world.store).await, before, "{}", world.backend);
        assert_eq!(
            schema(&world.store).await,
            schema_before,
            "{}",
            world.backend
        );
        assert!(
            matches!(verify(&world.store).await, Verification::Intact { rows, .. } if rows == before[4])
        );

        // The same file mended loads whole: nothing of the refused load stood in its way.
        let mended = generated(N_HOUSEHOLDS, 5);
        let report = import(&world, "mended.jsonl", &mended).await.unwrap();
        assert_eq!(report.created, N_HOUSEHOLDS as u64, "{}", world.backend);
        assert_eq!(
            schema(&world.store).await,
            schema_before,
            "{}",
            world.backend
        );
    }
}

#[tokio::test]
async fn d1_reimport_changes_nothing_and_a_changed_household_is_updated_and_audited() {
    let lines = generated(N_HOUSEHOLDS, 6);
    for world in worlds("import_again").await {
        let audit_before = contents(&world.store).await[4];
        let first = import(&world, "first.jsonl", &lines).await.unwrap();
        assert_eq!(
            first,
            ImportReport {
                created: N_HOUSEHOLDS as u64,
                ..ImportReport::default()
            },
            "{}",
            world.backend
        );
        let after_first = contents(&world.store).await;
        let n_persons: usize = lines
            .iter()
            .map(|line| line["members"].as_array().unwrap().len())
            .sum();
        assert_eq!(
            after_first,
            [
                N_HOUSEHOLDS as i64,
                n_persons as i64,
                n_persons as i64,
                1,
                audit_before + N_HOUSEHOLDS as i64
            ],
            "{}",
            world.backend
        );
        // The name index has every loaded household, and no staging table is left. (PostgreSQL
        // builds it as a table of the load's own and renames that into the empty one's place,
        // key and all.)
        assert_eq!(
            count(
                &world.store,
                "SELECT COUNT(DISTINCT household_id) FROM person_name_grams"
            )
            .await,
            N_HOUSEHOLDS as i64,
            "{}",
            world.backend
        );
        if world.backend == "postgres" {
            assert_eq!(
                count(
                    &world.store,
                    "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'person_name_grams' \
                     AND indexname = 'person_name_grams_pkey' \
                     AND indexdef LIKE '%(gram, area_code, household_id)'"
                )
                .await,
                1
            );
            assert_eq!(
                count(
                    &world.store,
                    "SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'bulk\\_stage\\_%'"
                )
                .await,
                0
            );
        }
        // PostgreSQL: the loaded tables were vacuumed and analysed once the load committed,
        // so the first searches plan with the load's statistics.
        if world.backend == "postgres" {
            assert_eq!(
                count(
                    &world.store,
                    "SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname IN ('households', 'persons', 'memberships') \
                     AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL"
                )
                .await,
                3
            );
        }
        // Every household has its audit event, naming the record as stored (its SHA-256) and
        // the file and line it came from.
        let events: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.after_json, h.record FROM audit_log a JOIN households h ON h.external_id = a.entity_id \
             WHERE a.action = 'household.import' AND a.entity = 'household' \
             AND a.area_code = h.area_code AND a.before_json IS NULL",
        )
        .fetch_all(world.store.pool())
        .await
        .unwrap();
        assert_eq!(events.len(), N_HOUSEHOLDS, "{}", world.backend);
        let (content_hash,): (String,) =
            sqlx::query_as("SELECT content_hash FROM imports WHERE file_name = 'first.jsonl'")
                .fetch_one(world.store.pool())
                .await
                .unwrap();
        for (after, record) in &events {
            let after: Value = serde_json::from_str(after).unwrap();
            assert_eq!(
                after["record_sha256"],
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(record.as_bytes())),
                "{}",
                world.backend
            );
            assert_eq!(after["file_sha256"], content_hash.as_str());
            assert_eq!(after["file"], "first.jsonl");
            assert!(after["line"].as_u64().unwrap() >= 1);
        }

        let again = import(&world, "first-again.jsonl", &lines).await.unwrap();
        assert!(again.already_imported, "{}", world.backend);
        assert_eq!(contents(&world.store).await, after_first);

        // Another file: household 5 moves to another village and loses its last member, one
        // household is new, the rest as before.
        let mut changed = lines.clone();
        let moved_to = if changed[4]["area_code"] == "500151001200" {
            "500151100201"
        } else {
            "500151001200"
        };
        changed[4]["area_code"] = Value::from(moved_to);
        let members = changed[4]["members"].as_array_mut().unwrap();
        assert!(members.len() > 1, "household 5 has several members");
        let leaver = members.pop().unwrap()["id_number"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut extra = generated(N_HOUSEHOLDS + 1, 6).pop().unwrap();
        extra["id"] = Value::from("EXTRA-1");
        changed.push(extra);
        let report = import(&world, "changed.jsonl", &changed).await.unwrap();
        assert_eq!(
            report,
            ImportReport {
                created: 1,
                updated: 1,
                unchanged: N_HOUSEHOLDS as u64 - 1,
                already_imported: false,
            },
            "{}",
            world.backend
        );
        let external_id = changed[4]["id"].as_str().unwrap();
        let mut conn = world.store.read().await.unwrap();
        let row = store::households::by_external_id(&mut conn, external_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.area_code.as_str(), moved_to);
        let history = store::households::membership_history(&mut conn, row.id)
            .await
            .unwrap();
        let left = history
            .iter()
            .find(|membership| membership.id_number.as_str() == leaver)
            .unwrap();
        assert_eq!(
            left.end_date.map(|day| day.to_string()).as_deref(),
            Some("2026-12-01")
        );
        let events = store::audit::for_entity(&mut conn, "household", external_id, 10)
            .await
            .unwrap();
        assert_eq!(events.len(), 2, "imported, then updated");
        assert_eq!(events[0].event.after.as_deref(), Some(row.record.as_str()));
        assert!(events[0].event.before.is_some());
        drop(conn);
        // A membership's place is its household's, for the bulk path as for the update.
        assert_eq!(
            count(
                &world.store,
                "SELECT COUNT(*) FROM memberships m JOIN households h ON h.id = m.household_id \
                 WHERE m.area_code <> h.area_code"
            )
            .await,
            0
        );
        assert!(matches!(
            verify(&world.store).await,
            Verification::Intact { rows, .. } if rows == audit_before + N_HOUSEHOLDS as i64 + 2
        ));
    }
}

#[tokio::test]
async fn d1_a_member_of_a_stored_household_is_refused_in_another_whatever_the_order() {
    let lines = generated(3, 7);
    let stored = &lines[0];
    let member = id_number(stored, stored["members"].as_array().unwrap().len() - 1);
    // Household 1 is updated without its last member, who appears in household 2 instead: the
    // member still belongs to household 1 until a move is recorded, before or after it in the
    // file.
    let mut without = stored.clone();
    without["members"].as_array_mut().unwrap().pop();
    let mut elsewhere = lines[1].clone();
    let last = elsewhere["members"].as_array().unwrap().len() - 1;
    elsewhere["members"][last]["id_number"] = Value::from(member.clone());
    for world in worlds("import_twice").await {
        import(&world, "stored.jsonl", &lines[..1]).await.unwrap();
        let before = contents(&world.store).await;
        for (file_lines, bad_line) in [
            (vec![without.clone(), elsewhere.clone()], 2),
            (vec![elsewhere.clone(), without.clone()], 1),
        ] {
            let errors = bad_lines(import(&world, "move.jsonl", &file_lines).await);
            assert_eq!(errors.len(), 1, "{}: {errors:?}", world.backend);
            assert_eq!(errors[0].line, bad_line);
            assert!(
                errors[0]
                    .message
                    .contains(&format!("已是户{}的成员", stored["id"].as_str().unwrap())),
                "{errors:?}"
            );
            assert_eq!(contents(&world.store).await, before, "{}", world.backend);
        }
    }
}
