//! 备份与恢复: `safetynet backup FILE` and `safetynet restore FILE`. Every copy is checked with
//! `audit verify` (under the source's audit key) before it is called good.

use crate::keys;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;

/// A consistent online copy: SQLite through `VACUUM INTO` while the server writes; on
/// PostgreSQL `pg_dump --format=custom` when it is installed, else the command to run.
pub async fn backup(db: &str, key_file: Option<&Path>, file: &Path) -> anyhow::Result<ExitCode> {
    keys::require_database(db).await?;
    if file.exists() {
        bail!(
            "备份文件已存在 {} exists: choose a new name",
            file.display()
        );
    }
    if keys::sqlite_path(db).is_none() {
        return pg_dump(db, file);
    }
    let key = keys::resolve(db, key_file, keys::Need::Existing)?;
    let source = store::Store::connect(db)
        .await
        .with_context(|| format!("open database {}", crate::redact(db)))?;
    let target = file.to_str().context("the backup path must be UTF-8")?;
    source
        .backup_to(target)
        .await
        .with_context(|| format!("VACUUM INTO {}", file.display()))?;
    source.close().await;
    let copy = format!("sqlite://{target}");
    let code = verify_copy(&copy, key).await?;
    if code == ExitCode::SUCCESS {
        eprintln!(
            "已备份 backed up to {} ({} bytes); keep the audit key apart from it",
            file.display(),
            std::fs::metadata(file).map(|meta| meta.len()).unwrap_or(0)
        );
    }
    Ok(code)
}

fn pg_dump(db: &str, file: &Path) -> anyhow::Result<ExitCode> {
    let command = format!(
        "pg_dump --format=custom --file {} '{}'",
        file.display(),
        crate::redact(db)
    );
    let verify_hint = "then check the copy: pg_restore --create --dbname postgres FILE into a \
                       scratch server, and `safetynet audit verify --db postgres://…/scratch`";
    match std::process::Command::new("pg_dump")
        .arg("--format=custom")
        .arg("--file")
        .arg(file)
        .arg(db)
        .status()
    {
        Ok(status) if status.success() => {
            eprintln!("已备份 pg_dump wrote {}; {verify_hint}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Ok(status) => bail!("pg_dump failed ({status})"),
        Err(_) => {
            eprintln!(
                "未找到 pg_dump (not installed here). On a machine with PostgreSQL's client tools run:\n  {command}\n{verify_hint}"
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn verify_copy(copy: &str, key: Option<keys::Found>) -> anyhow::Result<ExitCode> {
    let mut store = store::Store::connect(copy)
        .await
        .with_context(|| format!("open copy {copy}"))?;
    if let Some(found) = key {
        eprintln!(
            "审计密钥 audit key: fingerprint {}",
            found.key.fingerprint()
        );
        store = store.with_audit_key(found.key);
    }
    let mut conn = store.read().await?;
    let verification = store::audit::verify(&mut conn, store.audit_key(), None).await?;
    drop(conn);
    store.close().await;
    Ok(crate::report_verification(verification, false))
}

/// Restores a SQLite backup over `db` (the server stopped): the backup is copied beside the
/// target and verified there, then renamed over it in one step. A target that holds data is
/// kept unless `force`.
pub async fn restore(
    db: &str,
    key_file: Option<&Path>,
    file: &Path,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let Some(target) = keys::sqlite_path(db) else {
        eprintln!(
            "PostgreSQL: restore with pg_restore into an empty database, e.g.\n  createdb safetynet_restored && pg_restore --dbname safetynet_restored {}\nthen `safetynet audit verify --db postgres://…/safetynet_restored` before switching over",
            file.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    if !file.is_file() {
        bail!("没有备份文件 no backup at {}", file.display());
    }
    if target.exists() && std::fs::metadata(&target)?.len() > 0 {
        let existing = store::Store::connect(db).await?;
        let holds_data = existing.holds_data().await?;
        existing.close().await;
        if holds_data && !force {
            bail!(
                "目标数据库已有数据 {} holds data: restore refuses to overwrite it without --force",
                target.display()
            );
        }
    }
    let key = keys::resolve(db, key_file, keys::Need::Existing)?;
    let mut staging = target.clone().into_os_string();
    staging.push(".restoring");
    let staging = std::path::PathBuf::from(staging);
    std::fs::copy(file, &staging)
        .with_context(|| format!("copy {} to {}", file.display(), staging.display()))?;
    let staging_url = format!("sqlite://{}", staging.display());
    let code = verify_copy(&staging_url, key).await?;
    if code != ExitCode::SUCCESS {
        let _ = std::fs::remove_file(&staging);
        bail!("备份未通过审计校验 the backup fails audit verify: nothing restored");
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(side);
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("rename {} to {}", staging.display(), target.display()))?;
    eprintln!(
        "已恢复 restored {} from {}",
        target.display(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
