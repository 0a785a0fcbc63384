//! 审计日志: the append-only, hash-chained audit log.
//!
//! Invariant: row `seq = n` carries `prev_hash` = the `hash` of row `n - 1` ('' for the first)
//! and `hash = sha256(prev_hash, seq, at, actor, action, entity, entity_id, area, before, after)`.
//! `audit_head` holds the last seq and hash; appending locks it first, so concurrent writers
//! are serialised and the chain never forks.

use crate::{Conn, Result};
use sha2::{Digest, Sha256};

/// One audited change: who did what to which record, with the record before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub area_code: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The locked head of the chain for the length of one transaction.
pub struct Chain {
    seq: i64,
    hash: String,
    start_seq: i64,
}

impl Chain {
    /// Locks the chain's head for this transaction (a row lock on PostgreSQL; SQLite's write
    /// transaction already excludes other writers).
    pub async fn lock(conn: &mut Conn) -> Result<Chain> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *conn)
                .await?;
        Ok(Chain {
            seq,
            hash,
            start_seq: seq,
        })
    }

    pub async fn append(&mut self, conn: &mut Conn, event: &AuditEvent) -> Result<i64> {
        self.append_many(conn, std::slice::from_ref(event)).await?;
        Ok(self.seq)
    }

    /// Appends many events in order, in multi-row statements.
    pub async fn append_many(&mut self, conn: &mut Conn, events: &[AuditEvent]) -> Result<()> {
        for chunk in events.chunks(crate::households::BULK_ROWS) {
            let sql = format!(
                "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash, hash) VALUES {}",
                crate::households::values_list(
                    chunk.len(),
                    11,
                    crate::households::positional(conn)
                )
            );
            let links: Vec<Link> = chunk.iter().map(|event| self.link(event)).collect();
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (
                event,
                Link {
                    seq,
                    prev_hash,
                    hash,
                },
            ) in chunk.iter().zip(links)
            {
                query = query
                    .bind(seq)
                    .bind(&event.at)
                    .bind(&event.actor)
                    .bind(&event.action)
                    .bind(&event.entity)
                    .bind(&event.entity_id)
                    .bind(&event.area_code)
                    .bind(&event.before)
                    .bind(&event.after)
                    .bind(prev_hash)
                    .bind(hash);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Takes the next place in the chain for `event`: its seq and the hashes that link it. The
    /// caller must write the row in this transaction (the bulk import writes it with COPY).
    pub(crate) fn link(&mut self, event: &AuditEvent) -> Link {
        let seq = self.seq + 1;
        let hash = event_hash(&self.hash, seq, event);
        let prev_hash = std::mem::replace(&mut self.hash, hash.clone());
        self.seq = seq;
        Link {
            seq,
            prev_hash,
            hash,
        }
    }

    /// Writes the new head; call before committing the transaction.
    pub async fn finish(self, conn: &mut Conn) -> Result<()> {
        if self.seq != self.start_seq {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(self.seq)
                .bind(&self.hash)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// An event's place in the chain.
pub(crate) struct Link {
    pub(crate) seq: i64,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
}

/// Appends one event in its own chain lock (for single-event use cases).
pub async fn append_one(conn: &mut Conn, event: &AuditEvent) -> Result<i64> {
    let mut chain = Chain::lock(conn).await?;
    let seq = chain.append(conn, event).await?;
    chain.finish(conn).await?;
    Ok(seq)
}

fn event_hash(prev_hash: &str, seq: i64, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    let fields: [&str; 8] = [
        &event.at,
        &event.actor,
        &event.action,
        &event.entity,
        &event.entity_id,
        event.area_code.as_deref().unwrap_or("\u{0}"),
        event.before.as_deref().unwrap_or("\u{0}"),
        event.after.as_deref().unwrap_or("\u{0}"),
    ];
    hasher.update(prev_hash.as_bytes());
    hasher.update(seq.to_le_bytes());
    for field in fields {
        // Length-prefixed, so that moving text between fields changes the hash.
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The outcome of `verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every row links to the one before and the head matches: `rows` checked.
    Intact { rows: i64 },
    /// The first row whose content or link does not match, with what is wrong.
    Broken { seq: i64, reason: String },
}

type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// Walks the whole chain in order and reports the first broken link: an edited row (its hash
/// no longer matches), a deleted row (a gap in seq or a prev_hash that does not link), or a
/// truncated tail (the head names a later row).
pub async fn verify(conn: &mut Conn) -> Result<Verification> {
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    let mut expected_seq = 1;
    let mut prev_hash = String::new();
    let page = 5000;
    loop {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash, hash \
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected_seq)
        .bind(page)
        .fetch_all(&mut *conn)
        .await?;
        let n_rows = rows.len();
        for (
            seq,
            at,
            actor,
            action,
            entity,
            entity_id,
            area_code,
            before,
            after,
            stored_prev,
            stored_hash,
        ) in rows
        {
            if seq != expected_seq {
                return Ok(Verification::Broken {
                    seq: expected_seq,
                    reason: format!("row {expected_seq} is missing"),
                });
            }
            if stored_prev != prev_hash {
                return Ok(Verification::Broken {
                    seq,
                    reason: "prev_hash does not link to the row before".into(),
                });
            }
            let event = AuditEvent {
                at,
                actor,
                action,
                entity,
                entity_id,
                area_code,
                before,
                after,
            };
            let hash = event_hash(&prev_hash, seq, &event);
            if hash != stored_hash {
                return Ok(Verification::Broken {
                    seq,
                    reason: "content does not match its hash (edited)".into(),
                });
            }
            prev_hash = hash;
            expected_seq += 1;
        }
        if n_rows < page as usize {
            break;
        }
    }
    let last = expected_seq - 1;
    if last != head_seq || prev_hash != head_hash {
        return Ok(Verification::Broken {
            seq: last + 1,
            reason: format!("chain ends at row {last} but the head records row {head_seq}"),
        });
    }
    Ok(Verification::Intact { rows: last })
}

/// One row as shown to auditors.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub seq: i64,
    pub event: AuditEvent,
}

/// The latest events about one record, newest first.
pub async fn for_entity(
    conn: &mut Conn,
    entity: &str,
    entity_id: &str,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash, hash \
         FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(entity)
    .bind(entity_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(seq, at, actor, action, entity, entity_id, area_code, before, after, _, _)| {
                AuditEntry {
                    seq,
                    event: AuditEvent {
                        at,
                        actor,
                        action,
                        entity,
                        entity_id,
                        area_code,
                        before,
                        after,
                    },
                }
            },
        )
        .collect())
}
