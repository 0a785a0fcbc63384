//! 批量导入: the bulk path of a household import. A batch at a time, it looks up what the store
//! already holds of the batch and writes the batch's new households, their persons,
//! memberships and audit events — all inside the caller's one write transaction, so that a
//! refused, failed or killed import leaves nothing behind.
//!
//! SQLite writes each batch with multi-row statements on the transaction's own connection, with
//! a larger page cache for the length of the load (index pages stay in memory). PostgreSQL
//! streams each batch with `COPY … FROM STDIN` on a side connection into UNLOGGED staging
//! tables of this load alone, then moves it with `INSERT … SELECT` inside the transaction:
//! `COPY` cannot run through the `Any` driver, and the registry rows, their audit events and
//! the caller's other writes must commit or vanish together. Staging rows are never visible in
//! the registry; the staging tables of a killed load are dropped by the next load. The side
//! connection works in a task of its own, and the caller stages a batch ahead (`stage`), so
//! that batch N+1 streams in (and the audit rows of batch N) while the transaction moves
//! batch N: two server backends at work instead of one after the other.
//!
//! A large load writes bare tables where it can and builds their indexes at its end, inside
//! the same transaction (DDL is transactional on both stores, so a refused or killed load
//! leaves every index as it was): on SQLite the narrow tables' secondary indexes when the load
//! is at least as large as the registry (those the load reads only while the registry holds
//! households, too, when it holds none); on PostgreSQL, into an empty or nearly empty registry
//! only (`PG_DEFER_INDEXES_SHARE`: dropping an index locks its table until the load ends),
//! every secondary index and foreign key of the loaded tables (but those it reads when the
//! registry holds households), and the persons' key when no person is stored.
//!
//! The name index rows (`name_index::name_grams` of each member, once per household) are made in
//! Rust and kept packed in memory (`PackedGrams`, 20 bytes a row), then written sorted at the
//! end: each row goes to the end of the index instead of a random page of it (SQLite), and
//! the index's key is built from sorted rows (PostgreSQL, which streams them into a staging
//! table while the transaction builds the other indexes, then moves them with a plain
//! `INSERT … SELECT`: the households are new, so no row is there already). A PostgreSQL load
//! into an empty registry makes that table a durable copy of the (empty) name index and builds
//! its key on the side connection, beside the transaction's index builds; the transaction
//! then drops the empty name index and renames the copy into its place (`place_grams`), so
//! the rows are written once and the key costs no time of the transaction's. Until the load
//! commits the copy is a staging table like the others: a refused load drops it, and the next
//! load drops a killed one's.
//!
//! Invariant: what the ordinary writes keep (`households::insert_many`, `audit::Chain`): a
//! membership's `area_code` is its household's; a person is added or has their name refreshed;
//! one audit event per household, chained in order.
//!
//! A further table derived from a batch's persons or memberships (such as a name index) is
//! written in `insert_new`, after the memberships, on the same transaction.

use crate::audit::{AuditEvent, Chain};
use crate::households::{HouseholdRow, by_external_ids, head_of, open_memberships_of, sex_code};
use crate::{Backend, Result, SQLITE_CACHE_KIB, Store, StoreError, Tx};
use domain::Household;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// SQLite's page cache during a load, in KiB: the indexes on ID numbers that a load inserts in
/// random order stay in memory instead of going back and forth to the WAL.
const LOAD_CACHE_KIB: i64 = 393_216;

/// SQLite's page cache during a load whose name index rows are kept in memory
/// (`PackedGrams`), in KiB: the largest random inserts left are the ID numbers', and the cache
/// also bounds the sorter of the index builds at the end, so that the load stays within 1 GiB
/// (measured at 700 000 households with 384 MiB: 1.15 GB).
const PACKED_LOAD_CACHE_KIB: i64 = 262_144;

/// One household of a batch with its record as stored (the interchange JSON).
pub type BatchHousehold<'a> = (&'a Household, &'a str);

/// What the store already holds of a batch.
#[derive(Debug, Default)]
pub struct Lookup {
    /// The batch's households that are stored already.
    pub stored: Vec<HouseholdRow>,
    /// For each member of the batch who is a member of a stored household now: (ID number,
    /// household id, household external id).
    pub open_memberships: Vec<(String, i64, String)>,
}

/// A bulk load in progress (see the module doc).
pub struct HouseholdLoad {
    staging: Option<Staging>,
    /// The batches staged so far and looked up so far (`stage` runs a batch ahead).
    staged: i64,
    batch: i64,
    stored: HashSet<String>,
    /// The secondary indexes dropped for this load (name, definition), built again before it
    /// commits.
    deferred_indexes: Vec<(String, String)>,
    /// PostgreSQL: the constraints dropped for this load, by table, as the statements that add
    /// them again before it commits.
    deferred_constraints: Vec<(String, String)>,

    /// The registry held no household when the load began: then whatever a lookup could find
    /// was written by this load, from a file the caller already checked against itself.
    registry_was_empty: bool,
    /// The registry held no person either: persons are inserted, not upserted.
    no_persons: bool,
    /// PostgreSQL, a large load into an empty registry: the ids this load gives its
    /// households itself, from a block taken from the households' sequence when it began
    /// (`reserve_ids`) — the next for a batch staged, and the next for a batch inserted. Each
    /// member's row is then staged with its household's id, and moved without a join.
    ids: Option<Ids>,
    /// The name index rows of the load's new households, written in key order before it
    /// commits (PostgreSQL; SQLite, a load whose indexes are built at its end).
    grams: Option<PackedGrams>,
    /// Where the load's time went, logged when it ends (`RUST_LOG=store=debug`).
    phases: Phases,
}

/// The ids a load gives its households: the next for a batch staged and the next for a batch
/// inserted (every household of a load into an empty registry is new, in the order staged).
struct Ids {
    staged: i64,
    inserted: i64,
}

impl Ids {
    /// The first of the next `n` ids from `next`, which moves past them.
    fn take(next: &mut i64, n: usize) -> i64 {
        let first = *next;
        *next += n as i64;
        first
    }
}

/// The time a load spent in each of its phases, summed over its batches.
#[derive(Default)]
struct Phases(Vec<(&'static str, std::time::Duration)>);

impl Phases {
    /// Adds the time since `since` to `phase`; returns now, for the next phase.
    fn add(&mut self, phase: &'static str, since: std::time::Instant) -> std::time::Instant {
        let now = std::time::Instant::now();
        match self.0.iter_mut().find(|(name, _)| *name == phase) {
            Some((_, total)) => *total += now - since,
            None => self.0.push((phase, now - since)),
        }
        now
    }

    fn log(&self, outcome: &str) {
        let phases: Vec<String> = self
            .0
            .iter()
            .map(|(name, total)| format!("{name} {:.1} s", total.as_secs_f64()))
            .collect();
        tracing::debug!("household load {outcome}: {}", phases.join(", "));
    }
}

/// The tables a load writes, whose secondary indexes a large PostgreSQL load into an empty
/// registry builds at its end.
const LOADED_TABLES: [&str; 5] = [
    "households",
    "persons",
    "memberships",
    "audit_log",
    "person_name_grams",
];

/// The narrow tables whose secondary indexes a large SQLite load builds at its end (sorted,
/// from a quick scan). The other tables' indexes stay: `households` and `audit_log` rows are
/// wide (each holds a record), so a build would read gigabytes, while their indexes are small
/// or written in key order (the audit log's by time, actor and action) and cheap to keep. (The
/// name index's rows themselves are written at the end in key order, `PackedGrams`; it has no
/// secondary index since migration 0040.)
const SQLITE_DEFERRED_TABLES: [&str; 3] = ["persons", "memberships", "person_name_grams"];

/// Indexes the load itself reads when the registry holds households, kept up to date
/// throughout: who is a member where, and a household's memberships (for an updated household).
const INDEXES_THE_LOAD_READS: [&str; 2] = ["memberships_person", "memberships_household"];

/// PostgreSQL: the staging tables of a load and the side connection that fills them. The
/// connection works in a task of its own (`copy_worker`), one `COPY` after another in the
/// order they were asked for, so that a batch streams in while the transaction writes the one
/// before it: both the server's backends and the load work at once.
struct Staging {
    prefix: String,
    copies: tokio::sync::mpsc::Sender<Job>,
    worker: tokio::task::JoinHandle<PgConnection>,
    /// For each batch staged and not yet looked up, the word that its rows are in.
    staged: std::collections::VecDeque<tokio::sync::oneshot::Receiver<Result<()>>>,
    /// The batch whose audit rows are staged and not yet moved into the audit log, and the
    /// word that they are in.
    audit_pending: Option<(i64, tokio::sync::oneshot::Receiver<Result<()>>)>,
    /// A load into an empty registry builds the name index as a table of its own on the side
    /// connection, key and all, while the transaction builds the other indexes; the table then
    /// takes the place of the registry's empty one (`place_grams`). This is that one's key.
    own_grams: Option<GramsKey>,
}

/// The name index's key as the registry's table has it: its name and definition.
struct GramsKey {
    name: String,
    definition: String,
}

/// One piece of work for the side connection, and where to say that it is done (or why it, or
/// any before it, failed).
struct Job {
    work: Work,
    done: Option<tokio::sync::oneshot::Sender<Result<()>>>,
}

enum Work {
    /// `statement` (a `COPY … FROM STDIN`) with `rows` in `COPY`'s text format.
    Copy { statement: String, rows: Vec<u8> },
    /// A statement on this load's own tables (building the name index's key).
    Execute(String),
    /// Nothing: the word that the work asked for before it is done.
    Mark,
}

/// A batch whose new households `Staging::insert_new` moves: its number, its new households
/// (all of the batch, in order, when the load gives the ids), the id of its first household
/// when the load gave them at staging (`first_id`), and whether persons are inserted rather
/// than upserted (`no_persons`: the registry held none and the file holds each once).
struct Inserting<'b, 'h> {
    batch_no: i64,
    new: &'b [BatchHousehold<'h>],
    first_id: Option<i64>,
    no_persons: bool,
}

/// PostgreSQL: the memory an index build of a load sorts in (the server's, `maintenance_work_mem`).
const SORT_MEMORY: &str = "256MB";

/// How many `COPY`s may wait for the side connection: the batch ahead's households and
/// members and the batch before's audit rows.
const COPIES_AHEAD: usize = 4;

/// Begins the write transaction of a load of about `n_households` households.
///
/// On a SQLite file opened with `StoreOptions::exclusive_loads` that no other connection has
/// open, a load large enough to build its indexes at its end is written through a rollback
/// journal instead of the WAL. The WAL would take every page the load writes and copy it into
/// the database again at the checkpoint (at 700 000 households, 2.2 GB written twice); a
/// rollback journal keeps only the original of each page the load changes (on an empty
/// registry, next to nothing), and the new pages go to the file once. It stays one
/// transaction: a refused load rolls back, and a killed one leaves a hot journal that the next
/// opening rolls back. The writer's connection is closed when the load's transaction ends
/// (`Store::exclusive_load`), and the next one opens in WAL mode again. Elsewhere, or when
/// another connection (of this process or another) has the file open, the load runs as every
/// other write does.
pub async fn begin(store: &Store, n_households: u64) -> Result<Tx> {
    if let Some(flag) = &store.exclusive_load
        && n_households >= DEFER_INDEXES_FROM
    {
        // The batch verbs' idle readers (they read the policy values at start) go first.
        while let Some(reader) = store.readers.try_acquire() {
            reader.close().await?;
        }
        if store.readers.size() == 0 && rollback_journal(store).await? {
            tracing::debug!("household load: rollback journal");
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    store.begin().await
}

/// Ends what `begin` began, whatever became of the load: a writer that wrote through a rollback
/// journal has been closed, and the one opened here is in WAL mode again, so that the file is
/// left as every other connection expects it.
pub async fn settle(store: &Store) -> Result<()> {
    if store.exclusive_load.is_some() {
        drop(store.pool.acquire().await?);
    }
    Ok(())
}

/// Switches the writer's SQLite file from the WAL to a rollback journal, unless another
/// connection has it open (then it does not wait, and says so).
async fn rollback_journal(store: &Store) -> Result<bool> {
    let mut conn = store.pool.acquire().await?;
    let (busy_ms,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::raw_sql("PRAGMA busy_timeout = 0")
        .execute(&mut *conn)
        .await?;
    let switched = sqlx::query_as::<_, (String,)>("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut *conn)
        .await
        .is_ok_and(|(mode,)| mode.eq_ignore_ascii_case("delete"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PRAGMA busy_timeout = {busy_ms}"
    )))
    .execute(&mut *conn)
    .await?;
    // Back in the pool before the flag is set, which would close it.
    conn.return_to_pool().await;
    Ok(switched)
}

impl HouseholdLoad {
    /// Prepares a load of about `n_households` inside `tx`. Call it after `Chain::lock`:
    /// holding the chain's head is what tells this load that no other load is running, so
    /// stale staging tables can go.
    ///
    /// On SQLite a load at least as large as the registry drops the secondary indexes of the
    /// tables it writes and builds them again, sorted, before it commits — far less work than
    /// inserting millions of keys one by one in random order. It is safe because SQLite's
    /// schema changes are part of the transaction: a failed or killed load leaves the indexes
    /// as they were, and readers keep seeing them meanwhile. (On PostgreSQL dropping an index
    /// locks readers out of the table until the load commits, so it is done there only into an
    /// empty or nearly empty registry, `PG_DEFER_INDEXES_SHARE`.)
    pub async fn start(store: &Store, tx: &mut Tx, n_households: u64) -> Result<HouseholdLoad> {
        let mut deferred_indexes = Vec::new();
        let mut deferred_constraints = Vec::new();
        // The highest id bounds the number of stored households without counting them (ids
        // start at 1: none, none stored).
        let (highest_id,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM households")
            .fetch_one(&mut **tx)
            .await?;
        let highest_id = highest_id as u64;
        let registry_was_empty = highest_id == 0;
        let (any_person,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM persons LIMIT 1) AS one")
                .fetch_one(&mut **tx)
                .await?;
        let no_persons = registry_was_empty && any_person == 0;
        let mut grams = None;
        let mut ids = None;
        let staging = match store.backend() {
            Backend::Sqlite => {
                let mut cache_kib = LOAD_CACHE_KIB;
                if n_households >= DEFER_INDEXES_FROM && n_households >= highest_id {
                    deferred_indexes = drop_secondary_indexes(tx, !registry_was_empty).await?;
                    grams = Some(PackedGrams::default());
                    cache_kib = PACKED_LOAD_CACHE_KIB;
                }
                // The index builds at the end sort with a helper thread per core. Foreign keys
                // are checked when the load commits (SQLite ends the setting there): a
                // statement that checked its own would keep a statement journal.
                let threads = std::thread::available_parallelism().map_or(1, usize::from);
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "PRAGMA cache_size = -{cache_kib}; PRAGMA threads = {threads}; \
                     PRAGMA defer_foreign_keys = ON"
                )))
                .execute(&mut **tx)
                .await?;
                None
            }
            Backend::Postgres => {
                // The planner's statistics are the registry's before the load (its rows are not
                // analysed until it commits), so it would take the tables the load is filling
                // for small and scan them on every batch. Every query of a load is a lookup by
                // key; an index it is, for the rest of this transaction.
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("SET LOCAL enable_hashjoin = off")
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("SET LOCAL enable_mergejoin = off")
                    .execute(&mut **tx)
                    .await?;
                let defer = n_households >= DEFER_INDEXES_FROM
                    && highest_id.saturating_mul(PG_DEFER_INDEXES_SHARE) <= n_households;
                if defer {
                    (deferred_indexes, deferred_constraints) =
                        drop_pg_indexes(tx, no_persons, !registry_was_empty).await?;
                }
                if defer && registry_was_empty {
                    let first = reserve_ids(tx, n_households).await?;
                    ids = Some(Ids {
                        staged: first,
                        inserted: first,
                    });
                }
                grams = Some(PackedGrams::default());
                Some(Staging::create(store, defer).await?)
            }
        };
        Ok(HouseholdLoad {
            staging,
            staged: 0,
            batch: 0,
            stored: HashSet::new(),
            deferred_indexes,
            deferred_constraints,
            registry_was_empty,
            no_persons,
            ids,
            grams,
            phases: Phases::default(),
        })
    }

    /// Hands the load its next batch, before `lookup` takes it, and may return before it is
    /// written anywhere: PostgreSQL streams it into the staging tables in the background, so
    /// that a caller who stages a batch ahead keeps both the side connection and the
    /// transaction at work. Every batch is staged once, in order.
    pub async fn stage(&mut self, batch: &[BatchHousehold<'_>]) -> Result<()> {
        self.staged += 1;
        let since = std::time::Instant::now();
        if let Some(staging) = &mut self.staging {
            let first_id = (self.ids.as_mut()).map(|ids| Ids::take(&mut ids.staged, batch.len()));
            staging.stage_batch(self.staged, batch, first_id).await?;
        }
        self.phases.add("stage", since);
        Ok(())
    }

    /// Looks up the stored households among `batch` (the oldest staged and not yet looked
    /// up) and the open memberships of its members. (Whether it finds what this load wrote
    /// itself does not matter: the caller refuses a file that repeats a household or a person.)
    pub async fn lookup(&mut self, tx: &mut Tx, batch: &[BatchHousehold<'_>]) -> Result<Lookup> {
        self.batch += 1;
        let mut since = std::time::Instant::now();
        if let Some(staging) = &mut self.staging {
            staging.staged().await?;
            since = self.phases.add("wait for staging", since);
        }
        let lookup = match &mut self.staging {
            _ if self.registry_was_empty => Lookup::default(),
            None => {
                let external_ids: Vec<&str> = batch
                    .iter()
                    .map(|(household, _)| household.id.as_str())
                    .collect();
                let id_numbers: Vec<&str> = batch
                    .iter()
                    .flat_map(|(household, _)| &household.members)
                    .map(|person| person.id_number.as_str())
                    .collect();
                Lookup {
                    stored: by_external_ids(tx, &external_ids).await?,
                    open_memberships: open_memberships_of(tx, &id_numbers).await?,
                }
            }
            Some(staging) => staging.lookup(tx, self.batch).await?,
        };
        self.phases.add("look up", since);
        self.stored = lookup
            .stored
            .iter()
            .map(|row| row.external_id.as_str().to_owned())
            .collect();
        Ok(lookup)
    }

    /// Inserts the households of `batch` (the batch last passed to `lookup`) that are not
    /// stored, with their persons and their memberships from `today`; returns how many.
    pub async fn insert_new(
        &mut self,
        tx: &mut Tx,
        batch: &[BatchHousehold<'_>],
        today: &str,
        now: &str,
    ) -> Result<u64> {
        let new: Vec<BatchHousehold<'_>> = batch
            .iter()
            .filter(|(household, _)| !self.stored.contains(household.id.as_str()))
            .copied()
            .collect();
        let since = std::time::Instant::now();
        match (&mut self.staging, &mut self.grams) {
            (None, None) => {
                crate::households::insert_many(tx, &new, today, now).await?;
            }
            (None, Some(grams)) => {
                let ids =
                    crate::households::insert_many_unindexed(tx, &new, self.no_persons, today, now)
                        .await?;
                let unpacked = grams.add_batch(&new, &ids)?;
                crate::name_index::insert_gram_rows(tx, &unpacked.rows(), true).await?;
            }
            (Some(staging), grams) => {
                let first_id =
                    (self.ids.as_mut()).map(|ids| Ids::take(&mut ids.inserted, new.len()));
                let inserting = Inserting {
                    batch_no: self.batch,
                    new: &new,
                    first_id,
                    no_persons: self.no_persons,
                };
                let ids = staging.insert_new(tx, inserting, today, now).await?;
                if let Some(grams) = grams {
                    let unpacked = grams.add_batch(&new, &ids)?;
                    staging.stage_grams(&unpacked.rows()).await?;
                }
            }
        }
        self.phases.add("insert", since);
        Ok(new.len() as u64)
    }

    /// Appends `events` to the audit chain, in order.
    pub async fn append_audit(
        &mut self,
        tx: &mut Tx,
        chain: &mut Chain,
        events: &[AuditEvent],
    ) -> Result<()> {
        let since = std::time::Instant::now();
        match &mut self.staging {
            None => chain.append_many(tx, events).await?,
            Some(staging) => staging.append_audit(tx, self.batch, chain, events).await?,
        }
        self.phases.add("audit", since);
        Ok(())
    }

    /// Commits `tx` (the caller's other writes and `Chain::finish` done) after building the
    /// deferred indexes, then drops the staging tables (PostgreSQL: after refreshing the loaded
    /// tables' statistics, see `Staging::drop_tables`).
    pub async fn commit(mut self, mut tx: Tx) -> Result<()> {
        let mut since = std::time::Instant::now();
        if let Some(staging) = &mut self.staging {
            staging.move_audit(&mut tx).await?;
        }
        // PostgreSQL: the name index rows stream into their staging table (and its key is built
        // there, `Staging::own_grams`) while the transaction builds the other indexes.
        let mut grams_staged = None;
        if let Some(grams) = self.grams.take() {
            let sorted = grams.sorted();
            match &mut self.staging {
                None => {
                    for chunk in sorted.chunks() {
                        crate::name_index::insert_gram_rows(&mut tx, &chunk?, false).await?;
                    }
                }
                Some(staging) => grams_staged = Some(staging.stage_sorted_grams(sorted)),
            }
        }
        since = self.phases.add("name index", since);
        if !self.deferred_indexes.is_empty() && self.staging.is_some() {
            // Index builds sort in memory up to this much (the server's, for this transaction),
            // and a foreign key is checked by one join of whole tables, for which the load's
            // lookups by key (see `start`) are the slowest plan.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "SET LOCAL maintenance_work_mem = '{SORT_MEMORY}'; SET LOCAL enable_seqscan = on; \
                 SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on"
            )))
            .execute(&mut *tx)
            .await?;
        }
        let indexes = self.deferred_indexes.iter();
        let constraints = self.deferred_constraints.iter();
        execute_each(&mut tx, indexes.chain(constraints).map(|(_, sql)| sql)).await?;
        since = self.phases.add("build indexes", since);
        if let (Some(staged), Some(staging)) = (grams_staged, &mut self.staging) {
            staged.await.map_err(|_| stopped())??;
            staging.place_grams(&mut tx).await?;
        }
        since = self.phases.add("name index key", since);
        self.restore_cache(&mut tx).await?;
        tx.commit().await?;
        since = self.phases.add("commit", since);
        self.close(true, since).await;
        Ok(())
    }

    /// Abandons `tx`: nothing of the load remains.
    pub async fn rollback(self, mut tx: Tx) -> Result<()> {
        self.restore_cache(&mut tx).await?;
        tx.rollback().await?;
        self.close(false, std::time::Instant::now()).await;
        Ok(())
    }

    /// SQLite: the connection's page cache and sorting threads as they were before the load.
    async fn restore_cache(&self, tx: &mut Tx) -> Result<()> {
        if self.staging.is_none() {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "PRAGMA cache_size = -{SQLITE_CACHE_KIB}; PRAGMA threads = 0"
            )))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    async fn close(mut self, committed: bool, since: std::time::Instant) {
        if let Some(staging) = self.staging.take() {
            staging.drop_tables(committed).await;
            self.phases.add("analyse", since);
        }
        self.phases.log(if committed {
            "committed"
        } else {
            "rolled back"
        });
    }
}

/// Runs each of `statements` (DDL read back from the catalogue) in `tx`, in order.
async fn execute_each(tx: &mut Tx, statements: impl Iterator<Item = &String>) -> Result<()> {
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Takes a block of `n` ids from the households' sequence (not given back if the load rolls
/// back; another writer meanwhile takes ids above the block) and returns its first.
async fn reserve_ids(tx: &mut Tx, n: u64) -> Result<i64> {
    let n = i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} households")))?;
    let (first,): (i64,) =
        sqlx::query_as("SELECT nextval(pg_get_serial_sequence('households', 'id'))")
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("SELECT setval(pg_get_serial_sequence('households', 'id'), $1)")
        .bind(first + n - 1)
        .execute(&mut **tx)
        .await?;
    Ok(first)
}

/// The smallest load (households) that builds SQLite's secondary indexes at its end: one
/// batch of an import.
const DEFER_INDEXES_FROM: u64 = 4_000;

/// PostgreSQL builds the indexes of a load at its end when the registry holds at most one
/// household for this many of the load's: an empty registry, or a few households entered
/// before the district's file (readers of the loaded tables wait until the load ends, and
/// there is next to nothing to read). A larger registry keeps its indexes and its readers.
const PG_DEFER_INDEXES_SHARE: u64 = 100;

/// `names` as an SQL list of string literals (`'a', 'b'`), for the catalogue queries.
fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the load reads index `name` (one of `INDEXES_THE_LOAD_READS`, which it reads when
/// the registry holds households: `reads`), so that it is kept through the load.
fn read_by_load(name: &str, reads: bool) -> bool {
    reads && INDEXES_THE_LOAD_READS.contains(&name)
}

/// Drops the non-unique indexes of the loaded tables that the load does not read
/// (`read_by_load`); returns their names and definitions (as the migrations wrote them), to
/// build them again.
async fn drop_secondary_indexes(tx: &mut Tx, reads: bool) -> Result<Vec<(String, String)>> {
    let tables = quoted_list(&SQLITE_DEFERRED_TABLES);
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ({tables}) ORDER BY name"
    )))
    .fetch_all(&mut **tx)
    .await?;
    let mut dropped = Vec::new();
    for (name, definition) in indexes {
        let unique = definition
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE UNIQUE");
        if unique || read_by_load(&name, reads) {
            continue;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
            .execute(&mut **tx)
            .await?;
        dropped.push((name, definition));
    }
    Ok(dropped)
}

/// PostgreSQL, a load into an empty or nearly empty registry (`PG_DEFER_INDEXES_SHARE`): drops
/// the loaded tables' secondary indexes — but for those it reads (`read_by_load`) — and their
/// foreign keys (and with
/// `no_persons` the persons' key), for the load to write bare tables; returns the index
/// definitions and, by table, the statements that add the constraints again. The tables stay
/// locked until the load commits or rolls back (a reader waits; there is next to nothing to
/// read yet), and a failed or killed load leaves them as they were.
async fn drop_pg_indexes(
    tx: &mut Tx,
    no_persons: bool,
    reads: bool,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
    let tables = quoted_list(&LOADED_TABLES);
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.relname::text, pg_get_indexdef(c.oid) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relnamespace = current_schema()::regnamespace AND t.relname IN ({tables}) \
         AND NOT i.indisunique ORDER BY 1"
    )))
    .fetch_all(&mut **tx)
    .await?;
    let indexes: Vec<(String, String)> = indexes
        .into_iter()
        .filter(|(name, _)| !read_by_load(name, reads))
        .collect();
    // Foreign keys from the loaded tables; with no person stored either, the persons' key too
    // (the file holds no person twice, and the load inserts them without asking for a
    // conflict), with the foreign keys of other tables that refer to it. (The name index is
    // built as a table of its own, `Staging::create`, and takes the place of the empty one.)
    let constraints: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT t.relname::text, c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         WHERE t.relnamespace = current_schema()::regnamespace AND (\
         (t.relname IN ({tables}) AND c.contype = 'f') \
         OR ($1 AND c.contype = 'f' AND c.confrelid = 'persons'::regclass) \
         OR ($1 AND c.contype = 'p' AND t.relname = 'persons')) \
         ORDER BY c.contype DESC, 1, 2"
    )))
    .bind(no_persons)
    .fetch_all(&mut **tx)
    .await?;
    let mut restore = Vec::new();
    // The foreign keys before the keys they refer to (`ORDER BY contype DESC`: p before f).
    for (table, name, definition) in constraints.into_iter().rev() {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE \"{table}\" DROP CONSTRAINT \"{name}\""
        )))
        .execute(&mut **tx)
        .await?;
        let statement = format!("ALTER TABLE \"{table}\" ADD CONSTRAINT \"{name}\" {definition}");
        restore.push((table, statement));
    }
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
            .execute(&mut **tx)
            .await?;
    }
    // The keys first, then the foreign keys that refer to them.
    restore.reverse();
    Ok((indexes, restore))
}

/// The staging tables: (suffix, columns). `batch` keeps each batch apart, `seq` its order;
/// the name index rows are staged once, sorted, for the whole load.
const STAGING_TABLES: [(&str, &str); 4] = [
    (
        "households",
        "batch BIGINT NOT NULL, seq BIGINT NOT NULL, id BIGINT, external_id TEXT NOT NULL, area_code TEXT NOT NULL, \
         hukou TEXT NOT NULL, head_name TEXT NOT NULL, head_id_number TEXT NOT NULL, n_members BIGINT NOT NULL, \
         record TEXT NOT NULL",
    ),
    (
        "members",
        "batch BIGINT NOT NULL, seq BIGINT NOT NULL, external_id TEXT NOT NULL, household_id BIGINT, \
         area_code TEXT NOT NULL, id_number TEXT NOT NULL, name TEXT NOT NULL, birth_date TEXT NOT NULL, \
         sex TEXT NOT NULL, relation TEXT NOT NULL",
    ),
    (
        "audit",
        "batch BIGINT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, \
         entity TEXT NOT NULL, entity_id TEXT NOT NULL, area_code TEXT, before_json TEXT, after_json TEXT, \
         prev_hash TEXT NOT NULL, hash TEXT NOT NULL",
    ),
    (
        "grams",
        "gram TEXT NOT NULL, area_code TEXT NOT NULL, household_id BIGINT NOT NULL",
    ),
];

/// The prefix of every staging table's name.
const STAGING_PREFIX: &str = "bulk_stage_";

impl Staging {
    /// Opens the side connection and creates this load's staging tables; with `own_grams` (a
    /// load that builds its indexes at its end) and an empty name index (`grams_key`), the
    /// name index rows' one as a durable copy of the registry's name index, to replace it.
    async fn create(store: &Store, own_grams: bool) -> Result<Staging> {
        let url = store.pool().connect_options().database_url.to_string();
        let options = PgConnectOptions::from_str(&url).map_err(StoreError::Unavailable)?;
        let mut conn = PgConnection::connect_with(&options).await?;
        // A stale table is one a killed load left: the caller holds the chain's head, so no
        // other load is running.
        let stale: Vec<(String,)> = sqlx::query_as(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1",
        )
        .bind(format!("{}%", STAGING_PREFIX.replace('_', "\\_")))
        .fetch_all(&mut conn)
        .await?;
        for (table,) in stale {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS \"{table}\""
            )))
            .execute(&mut conn)
            .await?;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default();
        let prefix = format!("{STAGING_PREFIX}{}_{nanos}", std::process::id());
        let own_grams = if own_grams {
            grams_key(&mut conn).await?
        } else {
            None
        };
        for (suffix, columns) in STAGING_TABLES {
            let statement = match suffix {
                "grams" if own_grams.is_some() => {
                    format!("CREATE TABLE {prefix}_{suffix} (LIKE person_name_grams)")
                }
                _ => format!("CREATE UNLOGGED TABLE {prefix}_{suffix} ({columns})"),
            };
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await?;
        }
        for (suffix, columns) in [
            ("households", "batch, external_id"),
            ("members", "batch, external_id"),
            ("audit", "batch"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE INDEX ON {prefix}_{suffix} ({columns})"
            )))
            .execute(&mut conn)
            .await?;
        }
        let (copies, queue) = tokio::sync::mpsc::channel(COPIES_AHEAD);
        Ok(Staging {
            prefix,
            copies,
            worker: tokio::spawn(copy_worker(conn, queue)),
            staged: std::collections::VecDeque::new(),
            audit_pending: None,
            own_grams,
        })
    }

    /// The `COPY` of `columns` into the staging table `suffix`.
    fn copy_statement(&self, suffix: &str, columns: &str) -> String {
        format!("COPY {}_{suffix} ({columns}) FROM STDIN", self.prefix)
    }

    /// Asks the side connection to copy `rows` into the staging table `suffix`; returns the
    /// word that it is done when `wait`.
    async fn copy(
        &mut self,
        suffix: &str,
        columns: &str,
        rows: Vec<u8>,
        wait: bool,
    ) -> Result<Option<tokio::sync::oneshot::Receiver<Result<()>>>> {
        let (done, copied) = if wait {
            let (done, copied) = tokio::sync::oneshot::channel();
            (Some(done), Some(copied))
        } else {
            (None, None)
        };
        let copy = Job {
            work: Work::Copy {
                statement: self.copy_statement(suffix, columns),
                rows,
            },
            done,
        };
        self.copies.send(copy).await.map_err(|_| stopped())?;
        Ok(copied)
    }

    /// Streams batch `batch_no` into the staging tables, in the background (`lookup` waits);
    /// with `first_id`, its households take the ids from there on, in order.
    async fn stage_batch(
        &mut self,
        batch_no: i64,
        batch: &[BatchHousehold<'_>],
        first_id: Option<i64>,
    ) -> Result<()> {
        let mut households = Vec::new();
        let mut members = Vec::new();
        let batch_text = batch_no.to_string();
        for (seq, (household, record)) in batch.iter().enumerate() {
            let seq_text = seq.to_string();
            let id_text = first_id.map(|first| (first + seq as i64).to_string());
            let (head_name, head_id_number) = head_of(household)?;
            let n_members = household.members.len().to_string();
            copy_row(
                &mut households,
                &[
                    Some(&batch_text),
                    Some(&seq_text),
                    id_text.as_deref(),
                    Some(household.id.as_str()),
                    Some(household.area.as_str()),
                    Some(household.hukou.code()),
                    Some(head_name),
                    Some(head_id_number),
                    Some(&n_members),
                    Some(record),
                ],
            );
            for person in &household.members {
                copy_row(
                    &mut members,
                    &[
                        Some(&batch_text),
                        Some(&seq_text),
                        Some(household.id.as_str()),
                        id_text.as_deref(),
                        Some(household.area.as_str()),
                        Some(person.id_number.as_str()),
                        Some(&person.name),
                        Some(&person.id_number.birth_date().to_string()),
                        Some(sex_code(person)),
                        Some(person.relation.code()),
                    ],
                );
            }
        }
        self.copy(
            "households",
            "batch, seq, id, external_id, area_code, hukou, head_name, head_id_number, n_members, record",
            households,
            false,
        )
        .await?;
        let staged = self
            .copy(
                "members",
                "batch, seq, external_id, household_id, area_code, id_number, name, birth_date, sex, relation",
                members,
                true,
            )
            .await?;
        self.staged.extend(staged);
        Ok(())
    }

    /// Waits until the oldest batch staged is in its tables.
    async fn staged(&mut self) -> Result<()> {
        match self.staged.pop_front() {
            Some(copied) => said(copied).await,
            None => Err(StoreError::Corrupt(
                "a batch looked up before it was staged".to_owned(),
            )),
        }
    }

    /// The batch's stored households and its members' open memberships. Like every statement
    /// of a batch, each reads the batch's staged rows and looks each one up by key (`LATERAL`
    /// subqueries and `EXISTS` behind `OFFSET 0`, which the planner keeps as they are): the
    /// registry's statistics are those of before the load, and a registry of a few households
    /// would otherwise be planned as such — scanned whole once for each staged row — while the
    /// load makes it thousands.
    async fn lookup(&self, tx: &mut Tx, batch_no: i64) -> Result<Lookup> {
        let prefix = &self.prefix;
        let stored = sqlx::query_as::<_, crate::households::RawHousehold>(sqlx::AssertSqlSafe(format!(
            "SELECT h.id, h.external_id, h.area_code, h.hukou, h.head_name, h.head_id_number, h.n_members, h.record, \
             h.version, h.created_at, h.updated_at FROM {prefix}_households s CROSS JOIN LATERAL \
             (SELECT * FROM households h WHERE h.external_id = s.external_id OFFSET 0) h \
             WHERE s.batch = $1"
        )))
        .bind(batch_no)
        .fetch_all(&mut **tx)
        .await?;
        let stored = crate::decode::all(stored)?;
        let open_memberships = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT k.id_number, k.household_id, k.external_id FROM {prefix}_members s CROSS JOIN LATERAL \
             (SELECT m.id_number, m.household_id, h.external_id FROM memberships m \
              JOIN households h ON h.id = m.household_id \
              WHERE m.id_number = s.id_number AND m.end_date IS NULL OFFSET 0) k \
             WHERE s.batch = $1"
        )))
        .bind(batch_no)
        .fetch_all(&mut **tx)
        .await?;
        Ok(Lookup {
            stored,
            open_memberships,
        })
    }

    /// Moves the new households of a batch into the registry (see `Inserting`). Returns each
    /// new household's id by external id. Moves the audit rows of the batch before, which
    /// have streamed in meanwhile, too.
    async fn insert_new(
        &mut self,
        tx: &mut Tx,
        inserting: Inserting<'_, '_>,
        today: &str,
        now: &str,
    ) -> Result<HashMap<String, i64>> {
        let Inserting {
            batch_no,
            new,
            first_id,
            no_persons,
        } = inserting;
        self.move_audit(tx).await?;
        let prefix = self.prefix.clone();
        // With no household stored, every staged one is new. (Each statement looks each staged
        // row up by key, see `lookup`.)
        let not_stored = if no_persons {
            "TRUE"
        } else {
            "NOT EXISTS (SELECT 1 FROM households h WHERE h.external_id = s.external_id OFFSET 0)"
        };
        let upsert = if no_persons {
            ""
        } else {
            " ON CONFLICT (id_number) DO UPDATE SET name = excluded.name"
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO persons (id_number, name, birth_date, sex) \
             SELECT s.id_number, s.name, s.birth_date, s.sex FROM {prefix}_members s WHERE s.batch = $1 AND {not_stored}{upsert}"
        )))
        .bind(batch_no)
        .execute(&mut **tx)
        .await?;
        if let Some(first_id) = first_id {
            // The ids were given when the batch was staged, in its order: every household of
            // a load into an empty registry is new.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO households (id, external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at) \
                 SELECT s.id, s.external_id, s.area_code, s.hukou, s.head_name, s.head_id_number, s.n_members, s.record, 1, $2, $2 \
                 FROM {prefix}_households s WHERE s.batch = $1 ORDER BY s.seq"
            )))
            .bind(batch_no)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO memberships (household_id, area_code, id_number, relation, start_date) \
                 SELECT m.household_id, m.area_code, m.id_number, m.relation, $2 FROM {prefix}_members m \
                 WHERE m.batch = $1 ORDER BY m.seq"
            )))
            .bind(batch_no)
            .bind(today)
            .execute(&mut **tx)
            .await?;
            return Ok((first_id..)
                .zip(new)
                .map(|(id, (household, _))| (household.id.as_str().to_owned(), id))
                .collect());
        }
        // The new households' ids are those above the highest before: no other writer
        // inserts meanwhile (the caller holds the chain's head).
        let (highest_id,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM households")
            .fetch_one(&mut **tx)
            .await?;
        let ids: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO households (external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at) \
             SELECT s.external_id, s.area_code, s.hukou, s.head_name, s.head_id_number, s.n_members, s.record, 1, $2, $2 \
             FROM {prefix}_households s WHERE s.batch = $1 AND {not_stored} ORDER BY s.seq RETURNING id, external_id"
        )))
        .bind(batch_no)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
        // Each staged member finds its household by the unique index on `external_id`; a new
        // one is above the highest before (outside the subquery, which takes no condition in:
        // inside, the planner would scan the new ids' range for each member).
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO memberships (household_id, area_code, id_number, relation, start_date) \
             SELECT h.id, h.area_code, m.id_number, m.relation, $3 FROM {prefix}_members m CROSS JOIN LATERAL \
             (SELECT h.id, h.area_code FROM households h WHERE h.external_id = m.external_id OFFSET 0) h \
             WHERE m.batch = $1 AND h.id > $2 ORDER BY m.seq"
        )))
        .bind(batch_no)
        .bind(highest_id)
        .bind(today)
        .execute(&mut **tx)
        .await?;
        Ok(ids
            .into_iter()
            .map(|(id, external_id)| (external_id, id))
            .collect())
    }

    /// Streams name index rows into their staging table, in the background.
    async fn stage_grams(&mut self, rows: &[(&str, &str, i64)]) -> Result<()> {
        if !rows.is_empty() {
            self.copy("grams", GRAM_COLUMNS, gram_copy_rows(rows), false)
                .await?;
        }
        Ok(())
    }

    /// Streams the load's name index rows (`sorted`) into their staging table, in key order,
    /// from a task of their own, and (`own_grams`) then builds that table's key, sorted rows
    /// already; the task ends when they are written. `place_grams` puts them in the registry.
    fn stage_sorted_grams(&self, sorted: SortedGrams) -> tokio::task::JoinHandle<Result<()>> {
        let copies = self.copies.clone();
        let statement = self.copy_statement("grams", GRAM_COLUMNS);
        let key = self.own_grams.as_ref().map(|key| {
            format!(
                "SET maintenance_work_mem = '{SORT_MEMORY}'; \
                 ALTER TABLE {prefix}_grams ADD CONSTRAINT {prefix}_grams_key {definition}",
                prefix = self.prefix,
                definition = key.definition,
            )
        });
        tokio::spawn(async move {
            for chunk in sorted.chunks() {
                let copy = Job {
                    work: Work::Copy {
                        statement: statement.clone(),
                        rows: gram_copy_rows(&chunk?),
                    },
                    done: None,
                };
                copies.send(copy).await.map_err(|_| stopped())?;
            }
            let (done, built) = tokio::sync::oneshot::channel();
            let work = key.map_or(Work::Mark, Work::Execute);
            let job = Job {
                work,
                done: Some(done),
            };
            copies.send(job).await.map_err(|_| stopped())?;
            said(built).await
        })
    }

    /// Puts the staged name index rows of the whole load (`stage_sorted_grams` done) into the
    /// registry. With `own_grams` their table takes the place of the registry's, empty as the
    /// registry was, keeping its key's name; else they are moved into it in key order. Either
    /// way they are new, their households are, so none is there already.
    async fn place_grams(&mut self, tx: &mut Tx) -> Result<()> {
        let prefix = &self.prefix;
        let statement = match &self.own_grams {
            Some(key) => format!(
                "DROP TABLE person_name_grams; \
                 ALTER TABLE {prefix}_grams RENAME TO person_name_grams; \
                 ALTER TABLE person_name_grams RENAME CONSTRAINT {prefix}_grams_key TO \"{}\"",
                key.name
            ),
            None => format!(
                "INSERT INTO person_name_grams ({GRAM_COLUMNS}) SELECT {GRAM_COLUMNS} FROM {prefix}_grams"
            ),
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Links `events` into the chain and streams their rows into the staging table, in the
    /// background; `move_audit` moves them into the audit log with the next batch.
    async fn append_audit(
        &mut self,
        tx: &mut Tx,
        batch_no: i64,
        chain: &mut Chain,
        events: &[AuditEvent],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        chain.switch_over(tx, events).await?;
        let batch_text = batch_no.to_string();
        let mut rows = Vec::new();
        for event in events {
            let link = chain.link(event);
            copy_row(
                &mut rows,
                &[
                    Some(&batch_text),
                    Some(&link.seq.to_string()),
                    Some(&event.at),
                    Some(&event.actor),
                    Some(&event.action),
                    Some(&event.entity),
                    Some(&event.entity_id),
                    event.area_code.as_deref(),
                    event.before.as_deref(),
                    event.after.as_deref(),
                    Some(&link.prev_hash),
                    Some(&link.hash),
                ],
            );
        }
        let copied = self
            .copy("audit", &format!("batch, {AUDIT_COLUMNS}"), rows, true)
            .await?;
        self.audit_pending = copied.map(|copied| (batch_no, copied));
        Ok(())
    }

    /// Moves the audit rows staged last into the audit log, once they are in (not waiting for
    /// the batch staged ahead, which follows them on the side connection).
    async fn move_audit(&mut self, tx: &mut Tx) -> Result<()> {
        let Some((batch_no, copied)) = self.audit_pending.take() else {
            return Ok(());
        };
        said(copied).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT {AUDIT_COLUMNS} FROM {}_audit WHERE batch = $1 ORDER BY seq",
            self.prefix
        )))
        .bind(batch_no)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Ends the side connection's work: drops this load's tables; after a committed load
    /// (`analyse`), refreshes the planner's statistics and the visibility map of the loaded
    /// tables (`VACUUM (ANALYZE)`), so that the first searches after a district load use their
    /// indexes — index-only scans too — instead of waiting for autovacuum (measured on 350 000
    /// households: a household-number search from 65 ms to 0.4 ms, an ID-prefix count from
    /// 160 ms to 29 ms). A failure there is left to autovacuum; a table that cannot be dropped
    /// now is dropped by the next load.
    async fn drop_tables(self, analyse: bool) {
        let Staging {
            prefix,
            copies,
            worker,
            ..
        } = self;
        drop(copies);
        let Ok(mut conn) = worker.await else {
            return;
        };
        if analyse {
            let _left_to_autovacuum =
                sqlx::raw_sql("VACUUM (ANALYZE) households, persons, memberships")
                    .execute(&mut conn)
                    .await;
        }
        for (suffix, _) in STAGING_TABLES {
            let _left_for_next_load = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS {prefix}_{suffix}"
            )))
            .execute(&mut conn)
            .await;
        }
        let _closed = conn.close().await;
    }
}

/// The columns of a name index row.
const GRAM_COLUMNS: &str = "gram, area_code, household_id";

/// Name index rows in `COPY`'s text format.
fn gram_copy_rows(rows: &[(&str, &str, i64)]) -> Vec<u8> {
    let mut buffer = Vec::new();
    for (gram, area_code, household_id) in rows {
        copy_row(
            &mut buffer,
            &[Some(gram), Some(area_code), Some(&household_id.to_string())],
        );
    }
    buffer
}

/// The columns of an audit row as the load writes them.
const AUDIT_COLUMNS: &str = "seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash, hash";

/// What the side connection's task says of a `COPY`: its outcome, or that the task stopped.
async fn said(copied: tokio::sync::oneshot::Receiver<Result<()>>) -> Result<()> {
    copied.await.map_err(|_| stopped())?
}

/// The name index's key, if the registry's name index is empty (as it is when the registry
/// is): then a load may build a table to take its place.
async fn grams_key(conn: &mut PgConnection) -> Result<Option<GramsKey>> {
    let any_row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM person_name_grams LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    if any_row.is_some() {
        return Ok(None);
    }
    let key: Option<(String, String)> = sqlx::query_as(
        "SELECT c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         WHERE t.relnamespace = current_schema()::regnamespace \
         AND t.relname = 'person_name_grams' AND c.contype = 'p'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(key.map(|(name, definition)| GramsKey { name, definition }))
}

/// The side connection's task ended before the load did (it panicked).
fn stopped() -> StoreError {
    StoreError::Unavailable(sqlx::Error::Protocol(
        "the staging connection has stopped".to_owned(),
    ))
}

/// The side connection's task: runs the `COPY`s in the order asked, each sent in pieces so
/// that one message stays small, and says how each went where asked. After one fails, every
/// later one fails with it (the load is refused; its tables are dropped). Returns the
/// connection when the load drops its end of the queue.
async fn copy_worker(
    mut conn: PgConnection,
    mut queue: tokio::sync::mpsc::Receiver<Job>,
) -> PgConnection {
    let mut failed: Option<String> = None;
    while let Some(Job { work, done }) = queue.recv().await {
        if failed.is_none() {
            let worked = match work {
                Work::Copy { rows, .. } if rows.is_empty() => Ok(()),
                Work::Copy { statement, rows } => {
                    async {
                        let mut copy = conn.copy_in_raw(&statement).await?;
                        for piece in rows.chunks(1 << 20) {
                            copy.send(piece).await?;
                        }
                        copy.finish().await?;
                        Ok::<(), sqlx::Error>(())
                    }
                    .await
                }
                Work::Execute(statement) => sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                    .execute(&mut conn)
                    .await
                    .map(drop),
                Work::Mark => Ok(()),
            };
            if let Err(error) = worked {
                failed = Some(error.to_string());
            }
        }
        if let Some(done) = done {
            let outcome = match &failed {
                None => Ok(()),
                Some(error) => Err(StoreError::Unavailable(sqlx::Error::Protocol(format!(
                    "staging failed: {error}"
                )))),
            };
            let _nobody_waits = done.send(outcome);
        }
    }
    conn
}

/// Appends one row in `COPY`'s text format: tab-separated, `\N` for NULL, and backslash,
/// tab, newline and carriage return escaped.
fn copy_row(buffer: &mut Vec<u8>, fields: &[Option<&str>]) {
    for (idx, field) in fields.iter().enumerate() {
        if idx > 0 {
            buffer.push(b'\t');
        }
        match field {
            None => buffer.extend_from_slice(b"\\N"),
            Some(text) => {
                // Runs of plain bytes are copied whole; only the four that `COPY` reads
                // specially are escaped one by one.
                let bytes = text.as_bytes();
                let mut plain_from = 0;
                for (at, byte) in bytes.iter().enumerate() {
                    let escaped: &[u8] = match byte {
                        b'\\' => b"\\\\",
                        b'\t' => b"\\t",
                        b'\n' => b"\\n",
                        b'\r' => b"\\r",
                        _ => continue,
                    };
                    buffer.extend_from_slice(&bytes[plain_from..at]);
                    buffer.extend_from_slice(escaped);
                    plain_from = at + 1;
                }
                buffer.extend_from_slice(&bytes[plain_from..]);
            }
        }
    }
    buffer.push(b'\n');
}

/// The longest gram `PackedGram` holds, in bytes (`name_index::GRAM_MAX` characters of up to four
/// bytes each).
const PACKED_GRAM_BYTES: usize = 12;

/// A row of the name index in 20 bytes: the gram's UTF-8 padded with zero bytes (so that the
/// bytes compare as SQLite compares the text), the area code's number in `PackedGrams::areas`
/// and the household's row id.
#[derive(Clone, Copy)]
struct PackedGram {
    gram: [u8; PACKED_GRAM_BYTES],
    area: u32,
    household: u32,
}

impl PackedGram {
    fn gram(&self) -> Result<&str> {
        let len = self
            .gram
            .iter()
            .position(|&byte| byte == 0)
            .unwrap_or(PACKED_GRAM_BYTES);
        std::str::from_utf8(&self.gram[..len])
            .map_err(|_| StoreError::Corrupt("packed name gram".to_owned()))
    }
}

/// SQLite, a load at least as large as the registry: the name index rows of its new
/// households, kept packed in memory (20 bytes a row: 8.6 M rows for 2 M persons take 172 MB)
/// and written at the end in key order, so that each goes to the end of the index instead of
/// a random page of it.
#[derive(Default)]
struct PackedGrams {
    /// One run per batch.
    runs: Vec<Vec<PackedGram>>,
    areas: Vec<String>,
    area_numbers: HashMap<String, u32>,
}

impl PackedGrams {
    /// Keeps the rows of `new` (households just inserted, with their `ids`); returns the rows
    /// of a household that cannot be packed (an id beyond 32 bits, a name with a NUL), for
    /// the caller to write now.
    fn add_batch(
        &mut self,
        new: &[BatchHousehold<'_>],
        ids: &HashMap<String, i64>,
    ) -> Result<Unpacked> {
        let mut run = Vec::new();
        let mut unpacked = Vec::new();
        for (household, _) in new {
            let id = *ids
                .get(household.id.as_str())
                .ok_or_else(|| StoreError::Corrupt(format!("no id for {}", household.id)))?;
            let area = household.area.as_str();
            let grams = crate::name_index::household_gram_slices(household);
            let packable = grams
                .iter()
                .all(|gram| gram.len() <= PACKED_GRAM_BYTES && !gram.contains('\0'));
            match u32::try_from(id) {
                Ok(household_id) if packable => {
                    let area = match self.area_numbers.get(area) {
                        Some(number) => *number,
                        None => {
                            let number = self.areas.len() as u32;
                            self.areas.push(area.to_owned());
                            self.area_numbers.insert(area.to_owned(), number);
                            number
                        }
                    };
                    for gram in &grams {
                        let mut packed = [0_u8; PACKED_GRAM_BYTES];
                        packed[..gram.len()].copy_from_slice(gram.as_bytes());
                        run.push(PackedGram {
                            gram: packed,
                            area,
                            household: household_id,
                        });
                    }
                }
                _ => unpacked.extend(
                    grams
                        .into_iter()
                        .map(|gram| (gram.to_owned(), area.to_owned(), id)),
                ),
            }
        }
        run.shrink_to_fit();
        self.runs.push(run);
        Ok(Unpacked(unpacked))
    }

    /// The rows kept, in the index's key order (gram, area code, household: bytewise, as
    /// SQLite compares text and as PostgreSQL compares the index's `COLLATE "C"` text), for
    /// `write` a chunk at a time.
    fn sorted(self) -> SortedGrams {
        let PackedGrams { runs, areas, .. } = self;
        let mut rows: Vec<PackedGram> = Vec::with_capacity(runs.iter().map(Vec::len).sum());
        for run in runs {
            rows.extend(run);
        }
        // Area codes compared as text, by their rank among the codes seen.
        let mut by_code: Vec<u32> = (0..areas.len() as u32).collect();
        by_code.sort_by(|a, b| areas[*a as usize].cmp(&areas[*b as usize]));
        let mut rank = vec![0_u32; areas.len()];
        for (position, number) in by_code.iter().enumerate() {
            rank[*number as usize] = position as u32;
        }
        rows.sort_unstable_by_key(|row| (row.gram, rank[row.area as usize], row.household));
        SortedGrams { rows, areas }
    }
}

/// Name index rows that `PackedGrams` could not hold: (gram, area code, household id).
struct Unpacked(Vec<(String, String, i64)>);

impl Unpacked {
    fn rows(&self) -> Vec<(&str, &str, i64)> {
        self.0
            .iter()
            .map(|(gram, area, id)| (gram.as_str(), area.as_str(), *id))
            .collect()
    }
}

/// The rows of `PackedGrams`, sorted.
struct SortedGrams {
    rows: Vec<PackedGram>,
    areas: Vec<String>,
}

impl SortedGrams {
    /// The rows as text, `WRITE_CHUNK` at a time, in order.
    fn chunks(&self) -> impl Iterator<Item = Result<Vec<(&str, &str, i64)>>> {
        self.rows.chunks(WRITE_CHUNK).map(|chunk| {
            chunk
                .iter()
                .map(|row| {
                    Ok((
                        row.gram()?,
                        self.areas[row.area as usize].as_str(),
                        i64::from(row.household),
                    ))
                })
                .collect()
        })
    }
}

/// Rows of the name index turned back into text at a time by `SortedGrams::chunks`.
const WRITE_CHUNK: usize = 100_000;

#[cfg(test)]
mod tests;
