//! 审计密钥: where the audit chain's key comes from. In order: `--audit-key-file FILE`, the
//! environment variable `SAFETYNET_AUDIT_KEY` (the key itself, hexadecimal), else the default
//! file — beside a SQLite database (`<file>.audit-key`), or `$XDG_CONFIG_HOME/safetynet/audit.key`
//! (`~/.config/…`) for PostgreSQL. A process that writes creates the default (or named) file on
//! first start, readable by its owner only (0600), and says how to back it up; `audit verify`
//! never creates one.

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use store::audit::AuditKey;

/// The environment variable holding the key itself (hexadecimal).
pub const KEY_ENV: &str = "SAFETYNET_AUDIT_KEY";

/// Whether a missing key file is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Writers: create the key on first start.
    CreateIfMissing,
    /// Readers (`audit verify`, backups): use a key only if one exists.
    Existing,
}

/// A key and where it came from (for messages: a path or the variable's name, never the key).
#[derive(Debug)]
pub struct Found {
    pub key: AuditKey,
    pub source: String,
}

/// The SQLite file a URL names (`None` for PostgreSQL and in-memory databases).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

fn default_path(db: &str) -> Option<PathBuf> {
    if let Some(path) = sqlite_path(db) {
        let mut name = path.file_name()?.to_os_string();
        name.push(".audit-key");
        return Some(path.with_file_name(name));
    }
    if db.contains(":memory:") {
        return None;
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("safetynet").join("audit.key"))
}

/// The audit key for database `db` (see the module doc). An in-memory database with no key
/// given gets a fresh one for the life of the process.
pub fn resolve(db: &str, file: Option<&Path>, need: Need) -> anyhow::Result<Option<Found>> {
    if let Some(path) = file {
        return read_or_create(path, need);
    }
    if let Some(text) = std::env::var_os(KEY_ENV) {
        let key = AuditKey::parse(&text.to_string_lossy()).with_context(|| KEY_ENV)?;
        return Ok(Some(Found {
            key,
            source: format!("${KEY_ENV}"),
        }));
    }
    match default_path(db) {
        Some(path) => read_or_create(&path, need),
        None if need == Need::CreateIfMissing => Ok(Some(Found {
            key: app::new_audit_key(),
            source: "临时密钥 (in-memory database)".to_owned(),
        })),
        None => Ok(None),
    }
}

fn read_or_create(path: &Path, need: Need) -> anyhow::Result<Option<Found>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            let key = AuditKey::parse(&text)
                .with_context(|| format!("audit key file {}", path.display()))?;
            Ok(Some(Found {
                key,
                source: path.display().to_string(),
            }))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => match need {
            Need::Existing => Ok(None),
            Need::CreateIfMissing => create(path).map(Some),
        },
        Err(error) => Err(error).with_context(|| format!("read audit key {}", path.display())),
    }
}

fn create(path: &Path) -> anyhow::Result<Found> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).with_context(|| format!("create {}", parent.display()))?;
    }
    let key = app::new_audit_key();
    // Written whole to a file of this process, then linked into place: two processes starting
    // at once never read a half-written key, and the one that links second takes the first's.
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&partial)
        .with_context(|| format!("create audit key {}", partial.display()))?;
    writeln!(file, "{}", key.to_hex())?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&partial, path);
    std::fs::remove_file(&partial).with_context(|| format!("remove {}", partial.display()))?;
    match linked {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return read_or_create(path, Need::Existing)?
                .with_context(|| format!("audit key {}", path.display()));
        }
        Err(error) => {
            return Err(error).with_context(|| format!("create audit key {}", path.display()));
        }
    }
    tracing::warn!(
        "已创建审计密钥 created the audit key {} (fingerprint {}): back it up now, apart from the \
         database backups (e.g. a sealed copy or a password safe); without it `safetynet audit \
         verify` cannot check the chain, and whoever holds it can rewrite history",
        path.display(),
        key.fingerprint()
    );
    Ok(Found {
        key,
        source: path.display().to_string(),
    })
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "审计密钥文件可被他人读取 the audit key file {} is readable by others: chmod 600 it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Refuses a database that does not exist (a SQLite file that is absent or empty, or a server
/// database without the safetynet schema) instead of creating one.
pub async fn require_database(db: &str) -> anyhow::Result<()> {
    if let Some(path) = sqlite_path(db) {
        let metadata = std::fs::metadata(&path)
            .with_context(|| format!("没有数据库 no database at {}", path.display()))?;
        if metadata.len() == 0 {
            bail!(
                "数据库文件为空 the database file {} is empty",
                path.display()
            );
        }
    } else if db.contains(":memory:") {
        bail!("内存数据库没有审计链 an in-memory database holds no audit chain");
    }
    let store = store::Store::connect_unmigrated(db)
        .await
        .with_context(|| format!("没有数据库 no database at {}", crate::redact(db)))?;
    let mut conn = store.read().await?;
    let found = store::audit::anchor(&mut conn).await;
    drop(conn);
    store.close().await;
    if found.is_err() {
        bail!(
            "不是 safetynet 数据库 no safetynet database (no audit chain) at {}",
            crate::redact(db)
        );
    }
    Ok(())
}
