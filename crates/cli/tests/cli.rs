//! Smoke tests of the `safetynet` binary: gen, import (all or nothing, idempotent, a killed
//! import leaves the database as it was), admin create-user, audit verify.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn safetynet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_safetynet"));
    // The tests name the database on the command line; a stray DATABASE_URL must not win.
    command
        .env_remove("DATABASE_URL")
        .env_remove("SAFETYNET_AUDIT_KEY")
        .env("USER", "cli-test");
    command
}

fn run(args: &[&str]) -> Output {
    safetynet().args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn generate(count: usize, seed: u64) -> Vec<u8> {
    let output = run(&[
        "gen",
        "households",
        "--count",
        &count.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
    assert!(output.status.success(), "gen: {}", text(&output.stderr));
    output.stdout
}

fn write_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("safetynet.db").display())
}

/// What the database holds: households, persons, memberships, imports, audit rows.
async fn contents(url: &str) -> [i64; 5] {
    let store = store::Store::connect(url).await.unwrap();
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
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(store.pool())
                .await
                .unwrap();
        counts[idx] = n;
    }
    store.close().await;
    counts
}

#[test]
fn d1_gen_households_is_deterministic_for_a_seed() {
    let first = generate(50, 3);
    let second = generate(50, 3);
    assert_eq!(first, second, "same seed, same file");
    assert_ne!(first, generate(50, 4), "another seed, another file");
    let lines: Vec<&str> = std::str::from_utf8(&first).unwrap().lines().collect();
    assert_eq!(lines.len(), 50);
    for (idx, line) in lines.iter().enumerate() {
        let household = domain::interchange::parse_household_line(line)
            .unwrap_or_else(|error| panic!("line {}: {error}", idx + 1));
        assert!(
            household.area.as_str().starts_with("500151"),
            "line {}: a Tongliang place",
            idx + 1
        );
    }
}

#[tokio::test]
async fn d1_import_households_once_then_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let file = write_file(dir.path(), "households.jsonl", &generate(50, 3));
    let file = file.to_str().unwrap();

    let first = run(&["import", "households", file, "--db", &db]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("导入完成：新增 50 户"),
        "{}",
        text(&first.stderr)
    );
    let after_first = contents(&db).await;
    assert_eq!(after_first[0], 50);

    let second = run(&["import", "households", file, "--db", &db]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("该文件此前已导入，未作任何更改"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(
        contents(&db).await,
        after_first,
        "the second import changed nothing"
    );
}

#[tokio::test]
async fn d1_import_with_one_bad_line_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let generated = text(&generate(5, 3));
    let mut lines: Vec<String> = generated.lines().map(str::to_owned).collect();
    // Line 3: the first member's ID number gets a wrong check character.
    let marker = "\"id_number\":\"";
    let start = lines[2].find(marker).unwrap() + marker.len();
    let id_number = lines[2][start..start + 18].to_owned();
    let wrong = format!(
        "{}{}",
        &id_number[..17],
        if id_number.ends_with('1') { '2' } else { '1' }
    );
    lines[2] = lines[2].replacen(&id_number, &wrong, 1);
    let file = write_file(dir.path(), "bad.jsonl", lines.join("\n").as_bytes());

    let output = run(&["import", "households", file.to_str().unwrap(), "--db", &db]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3: ", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("身份证号校验位错误"), "{stderr}");
    assert!(stderr.contains("未导入任何数据"), "{stderr}");
    assert!(
        !stderr.contains(":1: ") && !stderr.contains(":2: "),
        "only line 3 is reported: {stderr}"
    );
    let [households, persons, memberships, imports, _] = contents(&db).await;
    assert_eq!([households, persons, memberships, imports], [0, 0, 0, 0]);
}

fn create_user(db: &str, username: &str, role: &str, area: &str, password: &str) -> Output {
    create_user_with(db, username, role, area, password, &[])
}

fn create_user_with(
    db: &str,
    username: &str,
    role: &str,
    area: &str,
    password: &str,
    extra: &[&str],
) -> Output {
    let mut child = safetynet()
        .args([
            "admin",
            "create-user",
            "--username",
            username,
            "--role",
            role,
            "--area",
            area,
            "--db",
            db,
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn u2_admin_create_user_reads_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let output = create_user(&db, "zhang", "town_reviewer", "500151001", "long-enough-1");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("已创建用户 zhang"),
        "{}",
        text(&output.stderr)
    );

    // The new user signs in with the password given on stdin, with the role and area given
    // (a process writing to the keyed chain needs the key the binary created beside the file).
    let key = std::fs::read_to_string(dir.path().join("safetynet.db.audit-key")).unwrap();
    let store = store::Store::connect(&db)
        .await
        .unwrap()
        .with_audit_key(store::audit::AuditKey::parse(&key).unwrap());
    let app = app::App::new(
        store,
        std::sync::Arc::new(app::SystemClock),
        app::AppSettings::default(),
    );
    let session = app
        .login("zhang", "long-enough-1", "127.0.0.1")
        .await
        .unwrap();
    assert_eq!(session.actor.role, domain::Role::TownReviewer);
    assert_eq!(session.actor.area.as_str(), "500151001");
    assert!(
        app.login("zhang", "wrong-password", "127.0.0.1")
            .await
            .is_err()
    );
    app.store().close().await;

    let refusals = [
        (
            "lisi",
            "mayor",
            "500151001",
            "long-enough-1",
            "unknown role mayor",
        ),
        (
            "lisi",
            "village_assistant",
            "500151001",
            "long-enough-1",
            "该角色的管辖区域层级不符",
        ),
        ("lisi", "town_reviewer", "500151001", "short", "密码至少8位"),
        (
            "zhang",
            "town_reviewer",
            "500151001",
            "long-enough-1",
            "用户名已存在",
        ),
    ];
    for (username, role, area, password, reason) in refusals {
        let output = create_user(&db, username, role, area, password);
        assert!(!output.status.success(), "{username} {role}");
        assert!(
            text(&output.stderr).contains(reason),
            "{role}: {}",
            text(&output.stderr)
        );
    }
    // A bad department creates no account: the name stays free for the right one.
    for (role, department, reason) in [
        ("department", "nope", "未知部门“nope”"),
        ("town_reviewer", "medical_security", "只适用于专项部门"),
    ] {
        let area = if role == "department" {
            "500151"
        } else {
            "500151001"
        };
        let extra = ["--department", department];
        let output = create_user_with(&db, "wangwu", role, area, "long-enough-1", &extra);
        assert!(!output.status.success(), "{role} {department}");
        assert!(
            text(&output.stderr).contains(reason),
            "{}",
            text(&output.stderr)
        );
    }
    let extra = ["--department", "medical_security"];
    let output = create_user_with(
        &db,
        "wangwu",
        "department",
        "500151",
        "long-enough-1",
        &extra,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("所属部门：medical_security"));
}

#[tokio::test]
async fn always_audit_verify_reports_the_edited_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let file = write_file(dir.path(), "households.jsonl", &generate(10, 3));
    assert!(
        run(&["import", "households", file.to_str().unwrap(), "--db", &db])
            .status
            .success()
    );
    assert!(
        create_user(&db, "zhang", "town_reviewer", "500151001", "long-enough-1")
            .status
            .success()
    );

    let intact = run(&["audit", "verify", "--db", &db]);
    assert!(intact.status.success(), "{}", text(&intact.stdout));
    let rows = contents(&db).await[4];
    assert!(
        text(&intact.stdout).contains(&format!("audit chain intact: {rows} rows")),
        "{}",
        text(&intact.stdout)
    );

    // Someone edits the fifth row (an imported household) behind the product's back.
    let store = store::Store::connect(&db).await.unwrap();
    let edited = sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5")
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(edited.rows_affected(), 1);
    store.close().await;

    let broken = run(&["audit", "verify", "--db", &db]);
    assert!(!broken.status.success());
    assert!(
        text(&broken.stdout).contains("audit chain broken at row 5"),
        "{}",
        text(&broken.stdout)
    );
}

/// Issue 16: the key is created beside the database (0600) on the first write and named by
/// its fingerprint; a missing database is refused, not created; an anchor printed earlier is
/// checked; a backup verifies and a restore refuses a database that holds data.
#[tokio::test]
async fn audit_key_anchor_backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let missing = format!("sqlite://{}", dir.path().join("typo.db").display());
    let refused = run(&["audit", "verify", "--db", &missing]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("no database at"),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        !dir.path().join("typo.db").exists(),
        "verify must not create a database"
    );

    let file = write_file(dir.path(), "households.jsonl", &generate(5, 4));
    let import = run(&["import", "households", file.to_str().unwrap(), "--db", &db]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let key_path = dir.path().join("safetynet.db.audit-key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        text(&import.stderr).contains("back it up"),
        "{}",
        text(&import.stderr)
    );

    let anchor = run(&["audit", "anchor", "--db", &db]);
    assert!(anchor.status.success(), "{}", text(&anchor.stderr));
    let anchor = text(&anchor.stdout).trim().to_owned();
    assert!(anchor.starts_with("SN1-"), "{anchor}");
    assert!(
        create_user(&db, "zhang", "town_reviewer", "500151001", "long-enough-1")
            .status
            .success()
    );
    let verify = run(&["audit", "verify", "--db", &db, "--anchor", &anchor]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    let key = store::audit::AuditKey::parse(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    assert!(
        text(&verify.stderr).contains(key.fingerprint()),
        "{}",
        text(&verify.stderr)
    );
    assert!(
        !text(&verify.stderr).contains(&key.to_hex()),
        "the key itself is never shown"
    );

    let other_key = write_file(dir.path(), "other.key", "ab".repeat(32).as_bytes());
    let wrong = run(&[
        "audit",
        "verify",
        "--db",
        &db,
        "--audit-key-file",
        other_key.to_str().unwrap(),
    ]);
    assert!(!wrong.status.success());
    assert!(
        text(&wrong.stdout).contains("is keyed from row"),
        "{}",
        text(&wrong.stdout)
    );

    let copy = dir.path().join("copy.db");
    let backup = run(&["backup", copy.to_str().unwrap(), "--db", &db]);
    assert!(
        backup.status.success(),
        "{}{}",
        text(&backup.stdout),
        text(&backup.stderr)
    );
    assert!(text(&backup.stdout).contains("audit chain intact"));

    let refused = run(&["restore", copy.to_str().unwrap(), "--db", &db]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("--force"),
        "{}",
        text(&refused.stderr)
    );
    let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let restored = run(&[
        "restore",
        copy.to_str().unwrap(),
        "--db",
        &fresh,
        "--audit-key-file",
        key_path.to_str().unwrap(),
    ]);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    let verify = run(&[
        "audit",
        "verify",
        "--db",
        &fresh,
        "--audit-key-file",
        key_path.to_str().unwrap(),
        "--anchor",
        &anchor,
    ]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

/// The databases a test runs on: SQLite in `dir`, and a fresh PostgreSQL database when
/// `TEST_DATABASE_URL` is set.
async fn databases(dir: &Path) -> Vec<String> {
    let mut urls = vec![sqlite_url(dir)];
    if testkit::postgres_url().is_some() {
        urls.push(testkit::fresh_postgres("safetynet_cli").await.0);
    }
    urls
}

#[tokio::test]
async fn d1_killed_import_leaves_the_database_as_before() {
    let dir = tempfile::tempdir().unwrap();
    // Several batches, so that the import is killed with written batches in its transaction.
    let generated = generate(30_000, 11);
    let first_20: usize = generated
        .split_inclusive(|&byte| byte == b'\n')
        .take(20)
        .map(<[u8]>::len)
        .sum();
    let earlier = write_file(dir.path(), "earlier.jsonl", &generated[..first_20]);
    let big = write_file(dir.path(), "big.jsonl", &generated);
    for db in databases(dir.path()).await {
        killed_import_leaves_the_database_as_before(&db, &earlier, &big).await;
    }
}

async fn killed_import_leaves_the_database_as_before(db: &str, earlier: &Path, big: &Path) {
    // Into the empty registry (a load that drops indexes for its length, and on PostgreSQL
    // builds the name index as a table of its own): nothing of it stays, every index stays.
    // (The audit rows the command wrote before its load, such as its new key's, stay.)
    let empty = contents(db).await;
    let indexes = index_names(db).await;
    kill_at_first_progress(db, big);
    assert_eq!(contents(db).await[..4], empty[..4], "{db}");
    assert_eq!(index_names(db).await, indexes, "{db}");

    assert!(
        run(&[
            "import",
            "households",
            earlier.to_str().unwrap(),
            "--db",
            db
        ])
        .status
        .success()
    );
    let before = contents(db).await;
    assert_eq!(before[0], 20);

    kill_at_first_progress(db, big);

    assert_eq!(
        contents(db).await,
        before,
        "households, persons, memberships, imports, audit rows"
    );
    let verify = run(&["audit", "verify", "--db", db]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    assert!(
        text(&verify.stdout).contains(&format!("audit chain intact: {} rows", before[4])),
        "{}",
        text(&verify.stdout)
    );

    // The same file again, not killed: it loads whole (on PostgreSQL, over what the killed
    // load left in its staging tables).
    let again = run(&["import", "households", big.to_str().unwrap(), "--db", db]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("新增 29980 户，更新 0 户，未变 20 户"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(contents(db).await[0], 30_000);
    // A load into a registry a hundredth of its size builds its indexes at its end on
    // PostgreSQL too (`store::bulk::PG_DEFER_INDEXES_SHARE`): all of them are back.
    assert_eq!(index_names(db).await, indexes, "{db}");
    if db.starts_with("postgres") {
        let store = store::Store::connect(db).await.unwrap();
        let (n_staging,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'bulk\\_stage\\_%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        store.close().await;
        assert_eq!(n_staging, 0, "the staging tables are gone");
    }
}

/// Starts `import households BIG` and kills it (kill -9) once it has written a batch.
fn kill_at_first_progress(db: &str, big: &Path) {
    let mut child = safetynet()
        .args(["import", "households", big.to_str().unwrap(), "--db", db])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Without a terminal the import reports each tenth of the file it has written (inside its
    // transaction); at the first report, kill -9.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n_read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(n_read > 0, "the import ended before it was killed: {seen}");
        seen.push_str(&line);
        if line.contains("导入进度") {
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    assert!(!seen.contains("导入完成"), "{seen}");
}

/// The store's index names, in order, but for a PostgreSQL load's staging tables' (a killed
/// load leaves those to the next load, which drops them).
async fn index_names(url: &str) -> Vec<String> {
    let store = store::Store::connect(url).await.unwrap();
    let sql = match store.backend() {
        store::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"
        }
        store::Backend::Postgres => {
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        }
    };
    let names: Vec<(String,)> = sqlx::query_as(sql).fetch_all(store.pool()).await.unwrap();
    store.close().await;
    names
        .into_iter()
        .map(|(name,)| name)
        .filter(|name| !name.starts_with("bulk_stage_"))
        .collect()
}
