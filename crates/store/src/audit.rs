//! 审计日志: the append-only, hash-chained audit log.
//!
//! Invariant: row `seq = n` carries `prev_hash` = the `hash` of row `n - 1` ('' for the first)
//! and `hash = mac(prev_hash, seq, at, actor, action, entity, entity_id, area, before, after)`,
//! where `mac` is HMAC-SHA256 under the audit key (审计密钥, kept outside the database) for
//! rows from `audit_head.keyed_from` on, and plain SHA-256 for the rows written before the
//! chain was keyed. The row at `keyed_from` is the `audit.keyed` event naming the key's
//! fingerprint. `audit_head` holds the last seq and hash; appending locks it first, so
//! concurrent writers are serialised and the chain never forks.
//!
//! What it proves: without the key nobody can edit, delete, insert, reorder or re-hash a keyed
//! row without `verify` naming the first row that fails; with an anchor (`Anchor`, the head
//! kept elsewhere) a cut-off tail or a chain rolled back to an earlier state is found too.
//! What it does not: rows written before the switch-over are only as strong as an unkeyed
//! chain; whoever holds the key can rewrite history; a write that never reached the log is
//! not in it.

use crate::search::{Bind, Statement};
use crate::{Conn, Result, StoreError, instant_text};
use hmac::{KeyInit, Mac};
use sha2::digest::Update;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The action of the switch-over row: from it on, rows are keyed.
pub const KEYED_ACTION: &str = "audit.keyed";

/// Bytes an audit key must have at least (HMAC-SHA256's block of security).
pub const AUDIT_KEY_MIN_BYTES: usize = 32;

/// 审计密钥: the secret of the chain's HMAC. `Debug` shows the fingerprint, never the key.
#[derive(Clone)]
pub struct AuditKey {
    bytes: Arc<[u8]>,
    fingerprint: String,
}

/// Why a text is no audit key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidAuditKey {
    #[error("the audit key is not hexadecimal")]
    NotHex,
    #[error("the audit key has {0} bytes; at least {AUDIT_KEY_MIN_BYTES} are needed")]
    TooShort(usize),
}

impl AuditKey {
    /// A key from its bytes (at least `AUDIT_KEY_MIN_BYTES`).
    pub fn from_bytes(bytes: &[u8]) -> Result<AuditKey, InvalidAuditKey> {
        if bytes.len() < AUDIT_KEY_MIN_BYTES {
            return Err(InvalidAuditKey::TooShort(bytes.len()));
        }
        let mut hasher = Sha256::new();
        Digest::update(&mut hasher, b"safetynet audit key fingerprint\0");
        Digest::update(&mut hasher, bytes);
        let fingerprint = hex::encode(hasher.finalize())[..16].to_owned();
        Ok(AuditKey {
            bytes: bytes.into(),
            fingerprint,
        })
    }

    /// A key from its text form: hexadecimal, surrounding white space ignored.
    pub fn parse(text: &str) -> Result<AuditKey, InvalidAuditKey> {
        let bytes = hex::decode(text.trim()).map_err(|_| InvalidAuditKey::NotHex)?;
        AuditKey::from_bytes(&bytes)
    }

    /// The text form written to a key file.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// A short public name of the key (16 hex digits of a hash of it): says which key was
    /// used without revealing it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.fingerprint)
    }
}

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

/// 审计对象: the kinds of record the log names, each rendered to the `entity` text stored in
/// the chain (the stored form never changes: old rows must verify).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Audit,
    AssistanceItem,
    Case,
    ComparisonJob,
    Contact,
    Feed,
    Household,
    Meta,
    Places,
    PolicyParameter,
    Referral,
    Roll,
    Session,
    User,
    Warning,
    /// 公开: a village's disclosure list, by its village code.
    Disclosure,
}

impl Entity {
    pub const ALL: &'static [Entity] = &[
        Entity::Audit,
        Entity::AssistanceItem,
        Entity::Case,
        Entity::ComparisonJob,
        Entity::Contact,
        Entity::Feed,
        Entity::Household,
        Entity::Meta,
        Entity::Places,
        Entity::PolicyParameter,
        Entity::Referral,
        Entity::Roll,
        Entity::Session,
        Entity::User,
        Entity::Warning,
        Entity::Disclosure,
    ];

    /// The text stored in `audit_log.entity`.
    pub fn code(self) -> &'static str {
        match self {
            Entity::Audit => "audit",
            Entity::AssistanceItem => "assistance_item",
            Entity::Case => "case",
            Entity::ComparisonJob => "comparison_job",
            Entity::Contact => "contact",
            Entity::Feed => "feed",
            Entity::Household => "household",
            Entity::Meta => "meta",
            Entity::Places => "places",
            Entity::PolicyParameter => "policy_parameter",
            Entity::Referral => "referral",
            Entity::Roll => "roll",
            Entity::Session => "session",
            Entity::User => "user",
            Entity::Warning => "warning",
            Entity::Disclosure => "disclosure",
        }
    }

    /// The kind stored as `code`, if it is one.
    pub fn from_code(code: &str) -> Option<Entity> {
        Entity::ALL
            .iter()
            .copied()
            .find(|entity| entity.code() == code)
    }

    /// The kind as the auditor's page names it.
    pub fn label(self) -> &'static str {
        match self {
            Entity::Audit => "审计链",
            Entity::AssistanceItem => "救助帮扶事项",
            Entity::Case => "办件",
            Entity::ComparisonJob => "数据比对",
            Entity::Contact => "走访热线",
            Entity::Feed => "部门数据",
            Entity::Household => "家庭",
            Entity::Meta => "系统",
            Entity::Places => "行政区划",
            Entity::PolicyParameter => "政策参数",
            Entity::Referral => "转介单",
            Entity::Roll => "名册入库",
            Entity::Session => "登录",
            Entity::User => "用户",
            Entity::Warning => "预警",
            Entity::Disclosure => "公开",
        }
    }
}

/// One constructor per kind of record: `AuditEvent::warning(at, actor, "warning.assign", id)`,
/// then `in_area`, `before` and `after` as the change has them. They build the same struct a
/// literal would (the struct stays public for callers not converted yet).
impl AuditEvent {
    /// An event about `entity` `entity_id`, with no area, before or after yet.
    pub fn new(
        entity: Entity,
        entity_id: impl ToString,
        at: impl Into<String>,
        actor: impl Into<String>,
        action: impl Into<String>,
    ) -> AuditEvent {
        AuditEvent {
            at: at.into(),
            actor: actor.into(),
            action: action.into(),
            entity: entity.code().to_owned(),
            entity_id: entity_id.to_string(),
            area_code: None,
            before: None,
            after: None,
        }
    }

    /// The area (place code) the record lies in.
    pub fn in_area(mut self, area_code: impl AsRef<str>) -> AuditEvent {
        self.area_code = Some(area_code.as_ref().to_owned());
        self
    }

    /// The record before the change (`None`: nothing, as for a new record).
    pub fn before(mut self, before: impl Into<Option<String>>) -> AuditEvent {
        self.before = before.into();
        self
    }

    /// The record after the change.
    pub fn after(mut self, after: impl Into<Option<String>>) -> AuditEvent {
        self.after = after.into();
        self
    }
}

macro_rules! entity_constructors {
    ($($(#[$meta:meta])* $name:ident => $entity:ident,)+) => {
        impl AuditEvent {
            $(
                $(#[$meta])*
                pub fn $name(
                    at: impl Into<String>,
                    actor: impl Into<String>,
                    action: impl Into<String>,
                    entity_id: impl ToString,
                ) -> AuditEvent {
                    AuditEvent::new(Entity::$entity, entity_id, at, actor, action)
                }
            )+
        }
    };
}

entity_constructors! {
    /// A case, named by its tracking number (受理编号).
    case => Case,
    /// A household, named by its 户编号.
    household => Household,
    /// A sign-in session, named by the user.
    session => Session,
    /// A warning, by its id.
    warning => Warning,
    /// A visit or hotline ticket, by its id.
    contact => Contact,
    /// An assistance item, by its code.
    assistance_item => AssistanceItem,
    /// A referral, by its id.
    referral => Referral,
    /// A user, by id or user name.
    user => User,
    /// A roll upload, by its token.
    roll => Roll,
    /// A department feed, by its id.
    feed => Feed,
    /// A comparison job, by its id.
    comparison_job => ComparisonJob,
    /// The place tree, named by its first code.
    places => Places,
    /// A fact about the store itself (`meta`).
    meta => Meta,
    /// A policy parameter, by its catalogue name.
    policy_parameter => PolicyParameter,
    /// The chain itself.
    audit => Audit,
}

/// The action of `AuditEvent::referral_reveal`.
pub const REFERRAL_REVEAL: &str = "referral.reveal";

impl AuditEvent {
    /// 查看收款人完整信息 (issue 15 item 8): the department user who delivers referral
    /// `referral_id` was shown its payee unmasked (full name and ID number) when a page or an
    /// API answer was served; `state` is the referral's state at that moment.
    pub fn referral_reveal(
        at: impl Into<String>,
        actor: impl Into<String>,
        referral_id: i64,
        area_code: impl AsRef<str>,
        state: &str,
    ) -> AuditEvent {
        AuditEvent::referral(at, actor, REFERRAL_REVEAL, referral_id)
            .in_area(area_code)
            .after(
                serde_json::json!({ "fields": ["head_name", "head_id_number"], "state": state })
                    .to_string(),
            )
    }
}

/// The action of `AuditEvent::audit_export`.
pub const AUDIT_EXPORT: &str = "audit.export";
/// The action of `AuditEvent::audit_check`.
pub const AUDIT_CHECK: &str = "audit.check";

impl AuditEvent {
    /// 导出审计日志 (issue 15 item 7): `rows` rows of the log, chosen by `filter` (as the
    /// auditor gave it, JSON), were exported by `actor`.
    pub fn audit_export(
        at: impl Into<String>,
        actor: impl Into<String>,
        filter: serde_json::Value,
        rows: usize,
    ) -> AuditEvent {
        AuditEvent::audit(at, actor, AUDIT_EXPORT, "log")
            .after(serde_json::json!({ "filter": filter, "rows": rows }).to_string())
    }

    /// 校验审计链: `actor` started a check of the whole chain, whose head was row `head_seq`.
    pub fn audit_check(
        at: impl Into<String>,
        actor: impl Into<String>,
        head_seq: i64,
    ) -> AuditEvent {
        AuditEvent::audit(at, actor, AUDIT_CHECK, "chain")
            .after(serde_json::json!({ "head_seq": head_seq }).to_string())
    }
}

/// The action of `AuditEvent::roster_export`.
pub const ROSTER_EXPORT: &str = "roster.export";

impl AuditEvent {
    /// 名册查询导出 (issue 13 item 5): `actor` took the roster of `category` on `date` under
    /// `area_code` away as a workbook of `rows` lines (`capped`: the export's limit cut it).
    pub fn roster_export(
        at: impl Into<String>,
        actor: impl Into<String>,
        category: &str,
        date: &str,
        area_code: &str,
        rows: usize,
        capped: bool,
    ) -> AuditEvent {
        AuditEvent::roll(at, actor, ROSTER_EXPORT, format!("{category}@{date}"))
            .in_area(area_code)
            .after(
                serde_json::json!({
                    "category": category,
                    "date": date,
                    "area": area_code,
                    "rows": rows,
                    "capped": capped,
                })
                .to_string(),
            )
    }
}

/// The locked head of the chain for the length of one transaction.
pub struct Chain {
    seq: i64,
    hash: String,
    start_seq: i64,
    key: Option<AuditKey>,
    keyed_from: Option<i64>,
    /// The switch-over row is written before this transaction's first event.
    switch_pending: bool,
}

impl Chain {
    /// Locks the chain's head for this transaction (a row lock on PostgreSQL; SQLite's write
    /// transaction already excludes other writers). A keyed chain refuses a writer without
    /// its key or with another key (its rows would not verify); an unkeyed chain locked with
    /// a key is switched over at the first append.
    pub async fn lock(conn: &mut Conn, key: Option<&AuditKey>) -> Result<Chain> {
        let (seq, hash, keyed_from, fingerprint): (i64, String, Option<i64>, Option<String>) =
            sqlx::query_as(
                "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash, keyed_from, key_fingerprint",
            )
            .fetch_one(&mut *conn)
            .await?;
        if let Some(from) = keyed_from {
            let stored = fingerprint.unwrap_or_default();
            match key {
                None => {
                    return Err(StoreError::AuditKey(format!(
                        "the audit chain is keyed from row {from} (key {stored}); this process has no audit key"
                    )));
                }
                Some(key) if key.fingerprint() != stored => {
                    return Err(StoreError::AuditKey(format!(
                        "the audit chain is keyed with key {stored}; this process has key {}",
                        key.fingerprint()
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(Chain {
            seq,
            hash,
            start_seq: seq,
            key: key.cloned(),
            keyed_from,
            switch_pending: keyed_from.is_none() && key.is_some(),
        })
    }

    pub async fn append(&mut self, conn: &mut Conn, event: &AuditEvent) -> Result<i64> {
        self.append_many(conn, std::slice::from_ref(event)).await?;
        Ok(self.seq)
    }

    /// Appends many events in order, in multi-row statements.
    pub async fn append_many(&mut self, conn: &mut Conn, events: &[AuditEvent]) -> Result<()> {
        self.switch_over(conn, events).await?;
        self.insert(conn, events).await
    }

    /// Links and writes `events`, `BULK_ROWS` to a statement.
    async fn insert(&mut self, conn: &mut Conn, events: &[AuditEvent]) -> Result<()> {
        let (insert, positional) = (
            crate::sql::insert_many_into(conn),
            crate::sql::positional(conn),
        );
        let sql = |n_rows| {
            format!(
                "{insert} audit_log (seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash, hash) VALUES {}",
                crate::sql::values_list(n_rows, 11, positional)
            )
        };
        let statements = events.chunks(crate::sql::BULK_ROWS).map(|chunk| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql(chunk.len())));
            for event in chunk {
                let Link {
                    seq,
                    prev_hash,
                    hash,
                } = self.link(event);
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
            query
        });
        crate::sql::execute_pipelined(conn, statements).await
    }

    /// On an unkeyed chain locked with a key, writes the switch-over row before the first of
    /// `events` (every writer, the bulk import's too, calls this before linking its events).
    pub(crate) async fn switch_over(
        &mut self,
        conn: &mut Conn,
        events: &[AuditEvent],
    ) -> Result<()> {
        if let (true, Some(first), Some(key)) =
            (self.switch_pending, events.first(), self.key.clone())
        {
            self.switch_pending = false;
            self.keyed_from = Some(self.seq + 1);
            let switch =
                AuditEvent::audit(first.at.clone(), "system:safetynet", KEYED_ACTION, "chain")
                    .after(Some(
                        serde_json::json!({
                            "key_fingerprint": key.fingerprint(),
                            "unkeyed_rows": self.seq,
                        })
                        .to_string(),
                    ));
            self.insert(conn, std::slice::from_ref(&switch)).await?;
        }
        Ok(())
    }

    /// Takes the next place in the chain for `event`: its seq and the hashes that link it
    /// (keyed from the switch-over row on). The caller must write the row in this transaction
    /// (the bulk import writes it with COPY) after `switch_over`.
    pub(crate) fn link(&mut self, event: &AuditEvent) -> Link {
        let seq = self.seq + 1;
        let key = self
            .keyed_from
            .filter(|from| seq >= *from)
            .and(self.key.as_ref());
        let hash = link_hash(key, &self.hash, seq, event);
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
            sqlx::query(
                "UPDATE audit_head SET seq = $1, hash = $2, keyed_from = $3, key_fingerprint = $4 WHERE id = 1",
            )
            .bind(self.seq)
            .bind(&self.hash)
            .bind(self.keyed_from)
            .bind(
                self.keyed_from
                    .and(self.key.as_ref())
                    .map(|key| key.fingerprint().to_owned()),
            )
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
pub async fn append_one(
    conn: &mut Conn,
    key: Option<&AuditKey>,
    event: &AuditEvent,
) -> Result<i64> {
    let mut chain = Chain::lock(conn, key).await?;
    let seq = chain.append(conn, event).await?;
    chain.finish(conn).await?;
    Ok(seq)
}

/// Feeds one row's link into a hash or a MAC.
fn feed_link(digest: &mut impl Update, prev_hash: &str, seq: i64, event: &AuditEvent) {
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
    digest.update(prev_hash.as_bytes());
    digest.update(&seq.to_le_bytes());
    for field in fields {
        // Length-prefixed, so that moving text between fields changes the hash.
        digest.update(&(field.len() as u64).to_le_bytes());
        digest.update(field.as_bytes());
    }
}

/// The hash of one row: HMAC-SHA256 under `key` for a keyed row, SHA-256 for one before the
/// switch-over.
fn link_hash(key: Option<&AuditKey>, prev_hash: &str, seq: i64, event: &AuditEvent) -> String {
    match key.and_then(|key| hmac::Hmac::<Sha256>::new_from_slice(&key.bytes).ok()) {
        Some(mut mac) => {
            feed_link(&mut mac, prev_hash, seq, event);
            hex::encode(mac.finalize().into_bytes())
        }
        None => {
            let mut hasher = Sha256::new();
            feed_link(&mut hasher, prev_hash, seq, event);
            hex::encode(hasher.finalize())
        }
    }
}

/// 审计锚点: the head of the chain at one moment, short enough to print, mail or file
/// elsewhere (`SN1-<seq>-<first 32 hex digits of its hash>`). A chain later cut back, rolled
/// back or rewritten before that row no longer matches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    /// The first `ANCHOR_HEX` hex digits of row `seq`'s hash.
    pub hash_prefix: String,
}

/// Hex digits of the hash an anchor keeps (128 bits).
const ANCHOR_HEX: usize = 32;

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SN1-{}-{}", self.seq, self.hash_prefix)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(text: &str) -> Result<Anchor, String> {
        let bad = || format!("锚点格式应为 SN1-<行号>-<32位十六进制> (anchor): {text}");
        let rest = text.trim().strip_prefix("SN1-").ok_or_else(bad)?;
        let (seq, hash_prefix) = rest.split_once('-').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let hex_ok = hash_prefix.len() == ANCHOR_HEX
            && hash_prefix
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if seq < 1 || !hex_ok {
            return Err(bad());
        }
        Ok(Anchor {
            seq,
            hash_prefix: hash_prefix.to_owned(),
        })
    }
}

/// The chain's current head as an anchor; `None` for an empty chain.
pub async fn anchor(conn: &mut Conn) -> Result<Option<Anchor>> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    Ok((seq > 0).then(|| Anchor {
        seq,
        hash_prefix: hash.chars().take(ANCHOR_HEX).collect(),
    }))
}

/// The outcome of `verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every row links to the one before, the head matches, and every case event is the one
    /// its audit row recorded: `rows` checked, keyed from row `keyed_from`, ending at `head`.
    Intact {
        rows: i64,
        keyed_from: Option<i64>,
        head: Option<Anchor>,
    },
    /// The first row whose content or link does not match, with what is wrong.
    Broken { seq: i64, reason: String },
    /// A case event (`case_events`, case `tracking_number`, its `seq`) that is not what the
    /// chain recorded for it.
    CaseEventBroken {
        tracking_number: String,
        seq: i64,
        reason: String,
    },
    /// The chain is keyed (from row `keyed_from`, key `fingerprint`) and no key, or another
    /// key, was given: its keyed rows cannot be checked.
    KeyMismatch {
        keyed_from: i64,
        fingerprint: String,
        given: Option<String>,
    },
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

fn broken(seq: i64, reason: impl Into<String>) -> Verification {
    Verification::Broken {
        seq,
        reason: reason.into(),
    }
}

/// Walks the whole chain in order and reports the first broken link: an edited or re-hashed
/// row (its hash no longer matches), a deleted or reordered row (a gap in seq or a prev_hash
/// that does not link), a truncated tail (the head names a later row), or a switch-over row
/// that is not where the head says; then checks every case event against the chain
/// (`verify_case_events`). Keyed rows need `key`. With `anchor`, row `anchor.seq` must still
/// carry the anchored hash.
pub async fn verify(
    conn: &mut Conn,
    key: Option<&AuditKey>,
    anchor: Option<&Anchor>,
) -> Result<Verification> {
    let (head_seq, head_hash, keyed_from, fingerprint): (i64, String, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT seq, hash, keyed_from, key_fingerprint FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    if let Some(from) = keyed_from {
        let stored = fingerprint.unwrap_or_default();
        if key.is_none_or(|key| key.fingerprint() != stored) {
            return Ok(Verification::KeyMismatch {
                keyed_from: from,
                fingerprint: stored,
                given: key.map(|key| key.fingerprint().to_owned()),
            });
        }
    }
    let mut expected_seq = 1;
    let mut prev_hash = String::new();
    let mut anchored = false;
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
                return Ok(broken(
                    expected_seq,
                    format!("row {expected_seq} is missing"),
                ));
            }
            if stored_prev != prev_hash {
                return Ok(broken(
                    seq,
                    "prev_hash does not link to the row before (deleted, inserted or reordered)",
                ));
            }
            let keyed = keyed_from.is_some_and(|from| seq >= from);
            let is_switch = action == KEYED_ACTION;
            if is_switch != (keyed_from == Some(seq)) {
                return Ok(broken(
                    seq,
                    if is_switch {
                        "a switch-over row where the head names none"
                    } else {
                        "the head names this row as the switch-over to the key, but it is not"
                    },
                ));
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
            let hash = link_hash(key.filter(|_| keyed), &prev_hash, seq, &event);
            if hash != stored_hash {
                return Ok(broken(
                    seq,
                    if keyed {
                        "content does not match its keyed hash (edited or re-hashed without the key)"
                    } else {
                        "content does not match its hash (edited)"
                    },
                ));
            }
            if let Some(anchor) = anchor.filter(|anchor| anchor.seq == seq) {
                if !hash.starts_with(&anchor.hash_prefix) {
                    return Ok(broken(
                        seq,
                        format!(
                            "row {seq} is not the one anchored ({anchor}): history was rewritten"
                        ),
                    ));
                }
                anchored = true;
            }
            prev_hash = hash;
            expected_seq += 1;
        }
        if n_rows < page as usize {
            break;
        }
    }
    let last = expected_seq - 1;
    if let Some(anchor) = anchor.filter(|_| !anchored) {
        return Ok(broken(
            last + 1,
            format!(
                "the chain ends at row {last}, before the anchored row {} ({anchor}): rows were cut off",
                anchor.seq
            ),
        ));
    }
    if last != head_seq || prev_hash != head_hash {
        return Ok(broken(
            last + 1,
            format!("chain ends at row {last} but the head records row {head_seq}"),
        ));
    }
    if keyed_from.is_some_and(|from| from > last) {
        return Ok(broken(
            last + 1,
            "the head names a switch-over row that is not in the chain",
        ));
    }
    if let Some(case_break) = verify_case_events(conn).await? {
        return Ok(case_break);
    }
    Ok(Verification::Intact {
        rows: last,
        keyed_from,
        head: (last > 0).then(|| Anchor {
            seq: last,
            hash_prefix: prev_hash.chars().take(ANCHOR_HEX).collect(),
        }),
    })
}

/// Every case event must be the fact its case's `case.open` or `case.act` audit row recorded
/// (the rows' `after` lists the facts written, in order) at that row's instant: a case event
/// edited, deleted, added or reordered outside the chain is named by its case and number.
async fn verify_case_events(conn: &mut Conn) -> Result<Option<Verification>> {
    let audited: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT entity_id, after_json, at FROM audit_log \
         WHERE entity = 'case' AND action IN ('case.open', 'case.act') ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut recorded: HashMap<String, Vec<(serde_json::Value, String)>> = HashMap::new();
    for (tracking_number, after, at) in audited {
        let facts: Vec<serde_json::Value> = after
            .as_deref()
            .and_then(|after| serde_json::from_str(after).ok())
            .unwrap_or_default();
        let list = recorded.entry(tracking_number).or_default();
        list.extend(facts.into_iter().map(|fact| (fact, at.clone())));
    }
    let events: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT c.tracking_number, e.seq, e.fact, e.recorded_at FROM case_events e \
         JOIN cases c ON c.id = e.case_id ORDER BY c.tracking_number, e.seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    let case_break = |tracking_number: &str, seq: i64, reason: &str| {
        Some(Verification::CaseEventBroken {
            tracking_number: tracking_number.to_owned(),
            seq,
            reason: reason.to_owned(),
        })
    };
    let mut counted: HashMap<&str, usize> = HashMap::new();
    for (tracking_number, seq, fact, recorded_at) in &events {
        let index = counted.entry(tracking_number.as_str()).or_default();
        *index += 1;
        let Some((expected, at)) = recorded
            .get(tracking_number)
            .and_then(|list| list.get(*index - 1))
        else {
            return Ok(case_break(
                tracking_number,
                *seq,
                "a case event no audit row recorded (added outside the chain)",
            ));
        };
        if *seq != *index as i64 {
            return Ok(case_break(
                tracking_number,
                *index as i64,
                "a case event is missing (deleted)",
            ));
        }
        let stored: Option<serde_json::Value> = serde_json::from_str(fact).ok();
        if stored.as_ref() != Some(expected) || recorded_at != at {
            return Ok(case_break(
                tracking_number,
                *seq,
                "the case event differs from what the chain recorded (edited)",
            ));
        }
    }
    for (tracking_number, list) in &recorded {
        let n_stored = counted.get(tracking_number.as_str()).copied().unwrap_or(0);
        if n_stored < list.len() {
            return Ok(case_break(
                tracking_number,
                n_stored as i64 + 1,
                "a case event the chain recorded is missing (deleted)",
            ));
        }
    }
    Ok(None)
}

/// One row as shown to auditors: the event as its chain hashes it (text, verbatim), and its
/// instant and area decoded once here (`None` where the stored text is not one: the chain
/// keeps every row as written).
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub seq: i64,
    pub event: AuditEvent,
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub area: Option<domain::PlaceCode>,
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
    Ok(rows.into_iter().map(entry_of).collect())
}

/// How far apart in time two rows may be written out of seq order: a writer takes its instant
/// before it locks the chain, so a row can carry an earlier instant than the row before it, by
/// at most the time a write transaction waits and runs (far less than this). Two rows whose
/// instants differ by more are in seq order, which turns a date range into a range of seq.
pub const AT_ORDER_SLACK_MINUTES: i64 = 30;

/// 审计日志的筛选 (issue 15 item 7). Every field narrows; none set is the whole log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The stored actor, exactly (`username#id`, `console:…`, `system:…`).
    pub actor: Option<String>,
    /// The record: its kind and id (a household's 户编号, a case's 受理编号 …).
    pub record: Option<(Entity, String)>,
    /// The action code (`case.act`, `household.update` …).
    pub action: Option<String>,
    /// From this instant on (inclusive).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this instant (exclusive).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// One page of the log, newest first.
#[derive(Clone, Debug)]
pub struct AuditPage {
    pub rows: Vec<AuditEntry>,
    /// The seq to pass as `after_seq` for the next page, when there are rows after this one.
    pub next: Option<i64>,
}

/// The statements that turn the filter's dates into a range of seq: the last row written
/// more than the slack before `from` (the window starts after it) and the first written more
/// than the slack after `until` (the window ends before it); each one read of
/// `audit_log_at_seq`.
fn window_bounds(filter: &AuditFilter) -> [Option<Statement>; 2] {
    let slack = chrono::Duration::minutes(AT_ORDER_SLACK_MINUTES);
    [
        filter.from.map(|from| {
            Statement::new(
                "SELECT seq FROM audit_log WHERE at < $1 ORDER BY at DESC, seq DESC LIMIT 1",
                vec![Bind::Text(instant_text(from - slack))],
            )
        }),
        filter.until.map(|until| {
            Statement::new(
                "SELECT seq FROM audit_log WHERE at >= $1 ORDER BY at, seq LIMIT 1",
                vec![Bind::Text(instant_text(until + slack))],
            )
        }),
    ]
}

/// The range of seq (`low..=high`) that holds every row of the filter's dates.
async fn seq_window(conn: &mut Conn, filter: &AuditFilter) -> Result<(i64, Option<i64>)> {
    let mut found = [None, None];
    for (slot, statement) in found.iter_mut().zip(window_bounds(filter)) {
        if let Some(statement) = statement {
            let rows: Vec<(i64,)> = statement.fetch(conn).await?;
            *slot = rows.first().map(|(seq,)| *seq);
        }
    }
    let [low, high] = found;
    Ok((low.map_or(1, |seq| seq + 1), high.map(|seq| seq - 1)))
}

/// The page statement: rows of `filter` inside `low..=high` before `after_seq`, newest first,
/// `limit + 1` of them (the last says whether there is a next page). Each equality filter has
/// an index ending in seq, so the read is a range of one index in seq order.
pub fn page_statement(
    filter: &AuditFilter,
    (low, high): (i64, Option<i64>),
    after_seq: Option<i64>,
    limit: i64,
) -> Statement {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    let mut equal = |column: &str, value: &str, binds: &mut Vec<Bind>| {
        binds.push(Bind::Text(value.to_owned()));
        clauses.push(format!("{column} = ${}", binds.len()));
    };
    if let Some((entity, id)) = &filter.record {
        equal("entity", entity.code(), &mut binds);
        equal("entity_id", id, &mut binds);
    }
    if let Some(actor) = &filter.actor {
        equal("actor", actor, &mut binds);
    }
    if let Some(action) = &filter.action {
        equal("action", action, &mut binds);
    }
    for (bound, operator) in [(filter.from, ">="), (filter.until, "<")] {
        if let Some(at) = bound {
            binds.push(Bind::Text(instant_text(at)));
            clauses.push(format!("at {operator} ${}", binds.len()));
        }
    }
    if low > 1 {
        binds.push(Bind::Int(low));
        clauses.push(format!("seq >= ${}", binds.len()));
    }
    let upper = match (high, after_seq) {
        (Some(high), Some(after)) => Some((high + 1).min(after)),
        (Some(high), None) => Some(high + 1),
        (None, after) => after,
    };
    if let Some(upper) = upper {
        binds.push(Bind::Int(upper));
        clauses.push(format!("seq < ${}", binds.len()));
    }
    let predicate = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    binds.push(Bind::Int(limit + 1));
    Statement::new(
        format!(
            "SELECT seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash, hash \
             FROM audit_log{predicate} ORDER BY seq DESC LIMIT ${}",
            binds.len()
        ),
        binds,
    )
}

/// Every statement a search of `filter` runs (to check their plans).
pub async fn search_statements(
    conn: &mut Conn,
    filter: &AuditFilter,
    after_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Statement>> {
    let window = seq_window(conn, filter).await?;
    let mut statements: Vec<Statement> = window_bounds(filter).into_iter().flatten().collect();
    statements.push(page_statement(filter, window, after_seq, limit));
    Ok(statements)
}

/// 审计日志: the rows of `filter` before row `after_seq` (none: from the newest), newest first,
/// at most `limit`. Each page is at most three index reads, whatever the log's length.
pub async fn search(
    conn: &mut Conn,
    filter: &AuditFilter,
    after_seq: Option<i64>,
    limit: i64,
) -> Result<AuditPage> {
    let window = seq_window(conn, filter).await?;
    if window.1.is_some_and(|high| high < window.0) {
        return Ok(AuditPage {
            rows: Vec::new(),
            next: None,
        });
    }
    let rows: Vec<AuditRow> = page_statement(filter, window, after_seq, limit)
        .fetch(conn)
        .await?;
    let mut rows: Vec<AuditEntry> = rows.into_iter().map(entry_of).collect();
    let next = if rows.len() as i64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or_default());
        rows.last().map(|row| row.seq)
    } else {
        None
    };
    Ok(AuditPage { rows, next })
}

fn entry_of(
    (seq, at, actor, action, entity, entity_id, area_code, before, after, _, _): AuditRow,
) -> AuditEntry {
    AuditEntry {
        seq,
        at: chrono::DateTime::parse_from_rfc3339(&at)
            .ok()
            .map(|at| at.with_timezone(&chrono::Utc)),
        area: area_code
            .as_deref()
            .and_then(|code| domain::PlaceCode::parse(code).ok()),
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
}

/// The last row of the chain (0 when empty).
pub async fn head_seq(conn: &mut Conn) -> Result<i64> {
    let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(seq)
}

/// 链校验记录: one finished check of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationRecord {
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    /// The outcome; read back, an intact chain's `keyed_from` and `head` are not kept.
    pub result: Verification,
    /// The head of the chain when the check started (the rows it covers).
    pub head_seq: i64,
}

/// Records a finished check (`audit_verifications`).
pub async fn record_verification(conn: &mut Conn, record: &VerificationRecord) -> Result<()> {
    let (outcome, broken_seq, broken_case, reason) = match &record.result {
        Verification::Intact { .. } => ("intact", None, None, None),
        Verification::Broken { seq, reason } => ("broken", Some(*seq), None, Some(reason.clone())),
        Verification::CaseEventBroken {
            tracking_number,
            seq,
            reason,
        } => (
            "case_event_broken",
            Some(*seq),
            Some(tracking_number.clone()),
            Some(reason.clone()),
        ),
        Verification::KeyMismatch {
            keyed_from,
            fingerprint,
            ..
        } => (
            "key_mismatch",
            Some(*keyed_from),
            None,
            Some(fingerprint.clone()),
        ),
    };
    sqlx::query(
        "INSERT INTO audit_verifications (started_at, finished_at, actor, outcome, head_seq, broken_seq, broken_case, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(instant_text(record.started_at))
    .bind(instant_text(record.finished_at))
    .bind(&record.actor)
    .bind(outcome)
    .bind(record.head_seq)
    .bind(broken_seq)
    .bind(broken_case)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type VerificationRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// The latest recorded check, if any.
pub async fn latest_verification(conn: &mut Conn) -> Result<Option<VerificationRecord>> {
    let row: Option<VerificationRow> = sqlx::query_as(
        "SELECT started_at, finished_at, actor, outcome, head_seq, broken_seq, broken_case, reason \
         FROM audit_verifications ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((started_at, finished_at, actor, outcome, head_seq, broken_seq, broken_case, reason)) =
        row
    else {
        return Ok(None);
    };
    let reason = reason.unwrap_or_default();
    let seq = broken_seq.unwrap_or_default();
    let result = match outcome.as_str() {
        "intact" => Verification::Intact {
            rows: head_seq,
            keyed_from: None,
            head: None,
        },
        "broken" => Verification::Broken { seq, reason },
        "case_event_broken" => Verification::CaseEventBroken {
            tracking_number: broken_case.unwrap_or_default(),
            seq,
            reason,
        },
        "key_mismatch" => Verification::KeyMismatch {
            keyed_from: seq,
            fingerprint: reason,
            given: None,
        },
        other => {
            return Err(StoreError::Corrupt(format!(
                "audit verification outcome {other}"
            )));
        }
    };
    const TABLE: &str = "audit_verifications";
    Ok(Some(VerificationRecord {
        started_at: crate::decode::instant(TABLE, "started_at", started_at)?,
        finished_at: crate::decode::instant(TABLE, "finished_at", finished_at)?,
        actor,
        result,
        head_seq,
    }))
}

#[cfg(test)]
mod constructor_tests {
    use super::{AuditEvent, Entity};

    /// The constructors build exactly what the literals they replaced built (the chain's HMAC
    /// covers these texts, so the stored form must not move).
    #[test]
    fn constructors_render_the_stored_form() {
        let built = AuditEvent::warning("2026-03-02T08:00:00Z", "u:town", "warning.assign", 42)
            .in_area("500151001001")
            .before("open".to_owned())
            .after(Some("assigned {}".to_owned()));
        let literal = AuditEvent {
            at: "2026-03-02T08:00:00Z".to_owned(),
            actor: "u:town".to_owned(),
            action: "warning.assign".to_owned(),
            entity: "warning".to_owned(),
            entity_id: "42".to_owned(),
            area_code: Some("500151001001".to_owned()),
            before: Some("open".to_owned()),
            after: Some("assigned {}".to_owned()),
        };
        assert_eq!(built, literal);
        let bare = AuditEvent::session("t", "u", "session.logout", "u").before(None);
        assert_eq!(
            (
                bare.entity.as_str(),
                bare.area_code,
                bare.before,
                bare.after
            ),
            ("session", None, None, None)
        );
        let rendered: Vec<(&str, String)> = [
            (AuditEvent::case("t", "a", "x", "TN1"), "case"),
            (AuditEvent::household("t", "a", "x", "H1"), "household"),
            (AuditEvent::contact("t", "a", "x", 1), "contact"),
            (
                AuditEvent::assistance_item("t", "a", "x", "I"),
                "assistance_item",
            ),
            (AuditEvent::referral("t", "a", "x", 1), "referral"),
            (AuditEvent::user("t", "a", "x", 1), "user"),
            (AuditEvent::roll("t", "a", "x", "tok"), "roll"),
            (AuditEvent::feed("t", "a", "x", 1), "feed"),
            (
                AuditEvent::comparison_job("t", "a", "x", 1),
                "comparison_job",
            ),
            (AuditEvent::places("t", "a", "x", "500151"), "places"),
            (AuditEvent::meta("t", "a", "x", "demo"), "meta"),
            (
                AuditEvent::policy_parameter("t", "a", "x", "p"),
                "policy_parameter",
            ),
            (AuditEvent::audit("t", "a", "x", "chain"), "audit"),
        ]
        .into_iter()
        .map(|(event, expect)| (expect, event.entity))
        .collect();
        for (expect, entity) in rendered {
            assert_eq!(entity, expect);
        }
        let codes: Vec<&str> = Entity::ALL.iter().map(|entity| entity.code()).collect();
        assert_eq!(
            codes.join(" "),
            "audit assistance_item case comparison_job contact feed household meta places \
             policy_parameter referral roll session user warning disclosure"
        );
    }
}
