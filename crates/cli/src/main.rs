//! `safetynet`: the one binary. CLI verbs and the web server share one configuration: the
//! database URL (`--db` or `DATABASE_URL`, default the embedded SQLite file `safetynet.db`).

mod backup;
mod demo;
mod intake_bench;
mod keys;
mod search_bench;

use anyhow::{Context, bail};
use app::{App, AppSettings, SystemClock};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "safetynet",
    version,
    about = "低收入人口救助帮扶平台 (Tongliang low-income population assistance platform)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The audit chain's key file (审计密钥, hexadecimal). Default: the key in
    /// SAFETYNET_AUDIT_KEY, else `<database file>.audit-key` beside a SQLite file, else
    /// `~/.config/safetynet/audit.key`; created (0600) on a writer's first start.
    #[arg(long, global = true, value_name = "FILE")]
    audit_key_file: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web server (pages and API).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Database URL; with --demo the default is the demo file `safetynet-demo.db`.
        #[arg(long, env = "DATABASE_URL")]
        db: Option<String>,
        /// Creates (if absent) a demo data set: places, generated households, one user per role.
        #[arg(long)]
        demo: bool,
        /// Marks cookies Secure (behind HTTPS).
        #[arg(long)]
        secure_cookies: bool,
        /// Behind one trusted reverse proxy that appends the client's address to
        /// X-Forwarded-For: the public tracking page's limit counts per that address.
        #[arg(long)]
        behind_proxy: bool,
        /// Requests handled at once; more wait up to --queue-wait-ms, then get 503 (系统繁忙).
        #[arg(long, default_value_t = web::CapacityConfig::default().max_in_flight)]
        max_in_flight: usize,
        /// How long a request beyond --max-in-flight waits for a place (milliseconds).
        #[arg(long, default_value_t = 1000)]
        queue_wait_ms: u64,
        /// Database connections: SQLite readers beside the one writer, or the PostgreSQL pool.
        #[arg(long, default_value_t = store::StoreOptions::serving().connections)]
        connections: u32,
        /// 监督电话: shown on the public disclosure pages, the board sheet, notices and
        /// 告知书 (with --demo, a demo number when not given).
        #[arg(long)]
        supervision_phone: Option<String>,
        /// 行政复议机关 named on the 告知书 and notices (with --demo, a demo name when not given).
        #[arg(long)]
        reconsideration_body: Option<String>,
        /// The people's court for 行政诉讼 named on the 告知书 and notices (with --demo, a demo
        /// name when not given).
        #[arg(long)]
        litigation_court: Option<String>,
    },
    /// Assesses households (JSON Lines) and writes one determination per line.
    Assess(batch::AssessArgs),
    /// Compares department feeds with the registry; one warning per line (JSON) on stdout.
    Compare(batch::CompareArgs),
    /// What-if over the registry: today's parameters against changed ones, by town.
    Simulate {
        /// A changed parameter, `NAME=VALUE` (repeatable), e.g. `dibao.standard.rural=700`.
        #[arg(long = "set", required = true)]
        set: Vec<String>,
        /// The date of the parameters (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Writes the table to FILE.xlsx or FILE.csv instead of CSV on standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// 半年联合报告 (R1): a district's or town's figures for a half-year as an XLSX workbook
    /// with charts, and optionally the print-ready HTML document.
    Report {
        /// The period, e.g. `2026H2` (H1: January–June, H2: July–December).
        #[arg(long)]
        period: String,
        /// The district or town code (default: the district).
        #[arg(long)]
        area: Option<String>,
        /// The workbook to write (FILE.xlsx).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Also writes the printable document (FILE.html, A4).
        #[arg(long)]
        html: Option<std::path::PathBuf>,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// Imports data into the store.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Generates synthetic data (deterministic for a seed).
    Gen {
        #[command(subcommand)]
        what: GenWhat,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        what: AdminWhat,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Times the registry search (检索) of each kind for a district and a town user on an
    /// existing database (median and slowest of `--rounds`), tab-separated on stdout.
    SearchBench {
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// The district's code (the district user's area).
        #[arg(long, default_value = "500151")]
        district: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// Times 信息比对 at intake (P3) on an existing database (a copy: it writes): stores
    /// synthetic department facts up to `--facts` rows, then opens `--rounds` applications and
    /// times each one's comparison step.
    IntakeBench {
        #[arg(long, default_value_t = 10_000_000)]
        facts: usize,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// 备份: a consistent copy of the database while the server runs (SQLite: `VACUUM INTO`;
    /// PostgreSQL: `pg_dump` when present, else the command to run), verified by `audit verify`.
    Backup {
        /// The copy to write (must not exist).
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// 恢复: a backup verified, then copied to the database (SQLite; the server stopped).
    /// Refuses a database that holds data unless --force.
    Restore {
        /// The backup to restore.
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
        /// Replaces a database that holds data.
        #[arg(long)]
        force: bool,
    },
    /// Demo and benchmark data.
    Demo {
        #[command(subcommand)]
        what: DemoWhat,
    },
    /// Runs queued comparison jobs (several workers can share the queue).
    Worker {
        /// Exits when no job is queued instead of waiting for the next one.
        #[arg(long)]
        once: bool,
        /// Seconds between looks at an empty queue.
        #[arg(long, default_value_t = 5)]
        poll_seconds: u64,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Households in the interchange format (JSON Lines): all or nothing, idempotent.
    Households {
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// A department feed (`spec/FEEDS.md`: CSV or JSON Lines); queues its comparison run.
    /// Re-importing the same file for the same source and period changes nothing.
    Feed {
        /// 数据来源, e.g. 公安交管, 医保.
        #[arg(long)]
        source: String,
        /// 数据期间, e.g. 2026-10.
        #[arg(long)]
        period: String,
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// 一门入库: a district's roll of one category (`docs/ROLL.md`: CSV in UTF-8 or GB18030,
    /// or XLSX). Prints the dry-run report and writes nothing unless `--accept` is given;
    /// re-importing the same roll changes nothing.
    Roll {
        /// 救助类别: dibao, tekun, dibao_edge, rigid_expenditure, monitoring, other_needy (or 低保, 特困人员 …).
        #[arg(long)]
        category: String,
        /// Writes the plan (periods, re-check schedules, one audit event) in one transaction.
        #[arg(long)]
        accept: bool,
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
    /// The jurisdiction tree (`code,name` lines), replacing names of known codes.
    Places {
        file: std::path::PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand)]
enum GenWhat {
    /// Synthetic rural Tongliang households in the interchange format, to stdout.
    Households {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A synthetic department feed (CSV, `spec/FEEDS.md`) over a households file, to stdout.
    Feed {
        #[arg(long)]
        households: std::path::PathBuf,
        #[arg(long)]
        rows: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A synthetic 低保 roll (`docs/ROLL.md`, CSV) naming every member of every household of
    /// a households file, one row a person, household scope, to stdout (the roll benchmark).
    Roll {
        #[arg(long)]
        households: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum DemoWhat {
    /// On a registry just imported from `gen households` (no users yet): the demo's users,
    /// categories, cases, warnings, visits and referrals scaled with it, one demo unit per
    /// --per households spread over the villages, each with its town reviewer (town-CODE),
    /// village assistant (village-CODE) and grid worker (grid-CODE); password `demo-2025`.
    Seed {
        /// Households per demo unit (the demo seeds one unit for 3 000 households).
        #[arg(long, default_value_t = 3000)]
        per: usize,
        /// Writes the users made as CSV (`username,role,area`) to FILE.
        #[arg(long)]
        users_out: Option<std::path::PathBuf>,
        /// Also leaves N applications per unit at 入户调查 (for the benchmark's survey saves),
        /// written as JSON Lines (`case_id`, `household`, `team`) to --surveys-out.
        #[arg(long, default_value_t = 0)]
        surveys: u32,
        #[arg(long)]
        surveys_out: Option<std::path::PathBuf>,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand)]
enum AdminWhat {
    /// Creates a user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        area: String,
        #[arg(long, default_value = "")]
        name: String,
        /// The department of a `department` user (救助帮扶: whose referrals they handle),
        /// a code of policy/assistance.toml such as `medical_security`.
        #[arg(long)]
        department: Option<String>,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Checks the chain (keyed rows with the audit key) and every case event against it, and
    /// names the first row that fails. Refuses a database that does not exist.
    Verify {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
        /// An anchor printed earlier by `audit anchor`: its row must still be there, unchanged.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Verifies the chain and prints its head as a short anchor (审计锚点) to keep elsewhere.
    Anchor {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        db: String,
    },
}

const DEFAULT_DB: &str = "sqlite://safetynet.db";
const DEMO_DB: &str = "sqlite://safetynet-demo.db";
/// The jurisdiction tree shipped with the product (an administrator may load the official list).
pub const PLACES: &str = include_str!("../../../data/places/tongliang.csv");

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("错误 error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--db` of `assess` and `compare`: the catalogue in force on that database (the built-in
/// one with the values added on the 政策参数 page), read once before the run.
fn catalogue_of(db: &str) -> anyhow::Result<Arc<policy::Catalogue>> {
    runtime()?.block_on(async {
        // Read only: no audit key, no re-check sync (that is `serve`'s and the writers' work).
        let store = store::Store::connect(db)
            .await
            .with_context(|| format!("open database {}", redact(db)))?;
        let catalogue = policy::Catalogue::builtin().map_err(|error| anyhow::anyhow!("{error}"))?;
        let app = App::new(store, Arc::new(SystemClock), AppSettings::default())
            .with_catalogue(Arc::new(catalogue));
        app.refresh_policy()
            .await
            .map_err(|error| anyhow::anyhow!("policy values in the database: {error:#}"))?;
        app.catalogue_in_force()
            .map_err(|error| anyhow::anyhow!("{}", error.message()))
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Assess(mut args) => {
            if let Some(db) = &args.db {
                args.catalogue = Some(catalogue_of(db)?);
            }
            Ok(if batch::run_assess(&args)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Compare(mut args) => {
            if let Some(db) = &args.db {
                args.catalogue = Some(catalogue_of(db)?);
            }
            Ok(if batch::run_compare(&args)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Gen {
            what:
                GenWhat::Feed {
                    households,
                    rows,
                    seed,
                },
        } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let plan = batch::write_feed(&households, rows, seed, &mut out)?;
            eprintln!("{plan:?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen {
            what: GenWhat::Roll { households },
        } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            write_roll(&households, &mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen {
            what: GenWhat::Households { count, seed },
        } => {
            let places = domain::parse_place_list(PLACES).context("shipped place list")?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            synth::write_households_jsonl(&places, count, seed, &mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        other => runtime()?.block_on(run_async(other, cli.audit_key_file.as_deref())),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Opens the database for a writer: its audit key is read, or created on first start.
async fn open(db: &str, key_file: Option<&std::path::Path>) -> anyhow::Result<App> {
    let key = keys::resolve(db, key_file, keys::Need::CreateIfMissing)?;
    open_with(db, key, &store::StoreOptions::default()).await
}

async fn open_with(
    db: &str,
    key: Option<keys::Found>,
    options: &store::StoreOptions,
) -> anyhow::Result<App> {
    let mut store = store::Store::connect_with(db, options)
        .await
        .with_context(|| format!("open database {}", redact(db)))?;
    if let Some(found) = key {
        store = store.with_audit_key(found.key);
    }
    let catalogue = policy::Catalogue::builtin().map_err(|error| anyhow::anyhow!("{error}"))?;
    // The working-day calendar is read once, not on every use.
    let calendar = workflow::Calendar::builtin().map_err(|error| anyhow::anyhow!("{error}"))?;
    let app = App::new(store, Arc::new(SystemClock), AppSettings::default())
        .with_catalogue(Arc::new(catalogue))
        .with_calendar(Arc::new(calendar));
    // The values added on the 政策参数 page apply on top of the built-in catalogue.
    app.refresh_policy()
        .await
        .map_err(|error| anyhow::anyhow!("policy values in the database: {error:#}"))?;
    // The stored re-check due dates follow the cycles in force (and are filled after migration 0013).
    app.sync_recheck_schedule()
        .await
        .map_err(|error| anyhow::anyhow!("re-check schedule: {}", error.message()))?;
    // The stored work-queue lines follow the time limits in force (and are filled after migration 0016).
    app.sync_case_queue()
        .await
        .map_err(|error| anyhow::anyhow!("work queue: {}", error.message()))?;
    // Feeds stored before migration 0035 keep their rows as facts for comparison at intake.
    app.sync_feed_facts()
        .await
        .map_err(|error| anyhow::anyhow!("feed facts: {}", error.message()))?;
    Ok(app)
}

/// How often `serve` rereads the values added on the 政策参数 page, so that values added
/// through another process (or another server on the same database) apply within a minute.
const POLICY_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn operator() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".to_owned())
}

async fn run_async(
    command: Command,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            addr,
            db,
            demo,
            secure_cookies,
            behind_proxy,
            max_in_flight,
            queue_wait_ms,
            connections,
            supervision_phone,
            reconsideration_body,
            litigation_court,
        } => {
            let db = db.unwrap_or_else(|| if demo { DEMO_DB } else { DEFAULT_DB }.to_owned());
            let app = open_with(
                &db,
                keys::resolve(&db, key_file, keys::Need::CreateIfMissing)?,
                &store::StoreOptions {
                    connections,
                    ..store::StoreOptions::serving()
                },
            )
            .await?;
            if demo {
                demo::ensure(&app).await?;
            } else if app.demo_state().await? == app::imports::DemoState::Empty {
                let places = domain::parse_place_list(PLACES)?;
                app.load_places(&operator(), &places).await?;
            }
            // 公开: households enrolled before disclosure existed get their lines once.
            let backfilled = app
                .backfill_disclosure(&operator())
                .await
                .map_err(|error| anyhow::anyhow!("disclosure backfill: {}", error.message()))?;
            if backfilled > 0 {
                eprintln!("公开名单：已为存量认定家庭写入 {backfilled} 条");
            }
            let supervision_phone = supervision_phone
                .filter(|phone| !phone.trim().is_empty())
                .or_else(|| demo.then(|| demo::SUPERVISION_PHONE.to_owned()));
            let setting = |given: Option<String>, demo_value: &str| {
                given
                    .filter(|text| !text.trim().is_empty())
                    .or_else(|| demo.then(|| demo_value.to_owned()))
            };
            let review_bodies = web::ReviewBodies {
                reconsideration: setting(reconsideration_body, demo::RECONSIDERATION_BODY),
                court: setting(litigation_court, demo::LITIGATION_COURT),
            };
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("bind {addr}"))?;
            eprintln!(
                "safetynet 已启动: http://{} （数据库 {}）",
                listener.local_addr()?,
                redact(&db)
            );
            let refresher = app.clone();
            tokio::spawn(async move { refresher.refresh_policy_every(POLICY_REFRESH).await });
            // The district's and the towns' dashboards and current reports are counted before
            // anyone asks.
            let warmer = app.clone();
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                match warmer.warm_figures().await {
                    Ok(areas) => eprintln!(
                        "统计数据已就绪 figures warmed: {areas} areas in {:.1} s",
                        started.elapsed().as_secs_f64()
                    ),
                    Err(error) => {
                        eprintln!("统计数据预计算失败 figures not warmed: {}", error.message())
                    }
                }
            });
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            web::serve(
                listener,
                app,
                web::WebConfig {
                    secure_cookies,
                    behind_proxy,
                    capacity: web::CapacityConfig {
                        max_in_flight,
                        queue_wait: std::time::Duration::from_millis(queue_wait_ms),
                        ..web::CapacityConfig::default()
                    },
                    supervision_phone,
                    review_bodies,
                },
                shutdown,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            what:
                DemoWhat::Seed {
                    per,
                    users_out,
                    surveys,
                    surveys_out,
                    db,
                },
        } => {
            let app = open(&db, key_file).await?;
            let started = std::time::Instant::now();
            let progress = |line: &str| {
                eprintln!("[{:>5.0} s] {line}", started.elapsed().as_secs_f64());
            };
            let (users, survey_cases) = demo::seed_scaled(&app, per, surveys, &progress).await?;
            if let Some(path) = surveys_out {
                let mut lines = String::new();
                for case in &survey_cases {
                    let household: serde_json::Value = serde_json::from_str(&case.household)?;
                    let line = serde_json::json!({
                        "case_id": case.case_id,
                        "household": household,
                        "team": case.team,
                    });
                    lines.push_str(&format!("{line}\n"));
                }
                std::fs::write(&path, lines)
                    .with_context(|| format!("write {}", path.display()))?;
            }
            if let Some(path) = users_out {
                let mut csv = String::from("username,role,area\n");
                for (username, role, area) in &users {
                    csv.push_str(&format!("{username},{},{area}\n", role.code()));
                }
                std::fs::write(&path, csv).with_context(|| format!("write {}", path.display()))?;
            }
            progress(&format!("done: {} users", users.len()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            set,
            as_of,
            out,
            db,
        } => {
            let app = open(&db, key_file).await?;
            let as_of = match as_of {
                Some(text) => chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                    .with_context(|| format!("--as-of {text}"))?,
                None => app.today(),
            };
            let district = domain::parse_place_list(PLACES)?
                .first()
                .map(|place| place.code.clone())
                .context("place list")?;
            let simulation = app
                .simulate_registry(&app::Actor::console(&operator(), district), &set, as_of)
                .await
                .map_err(|error| anyhow::anyhow!("{}", error.message()))?;
            let table = simulation.table();
            match out {
                Some(path) if path.extension().is_some_and(|ext| ext == "xlsx") => {
                    std::fs::write(&path, table.to_xlsx()?)?
                }
                Some(path) => std::fs::write(&path, table.to_csv())?,
                None => std::io::stdout().write_all(&table.to_csv())?,
            }
            let total = &simulation.total;
            eprintln!(
                "{} 户；每月救助支出 {} → {} 元（变化 {} 元）",
                total.households,
                total.monthly_cost_base,
                total.monthly_cost_changed,
                total.monthly_cost_difference()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            period,
            area,
            out,
            html,
            db,
        } => {
            report(
                &period,
                area.as_deref(),
                &out,
                html.as_deref(),
                &db,
                key_file,
            )
            .await
        }
        Command::Import {
            what: ImportWhat::Households { file, db },
        } => import_households(&file, &db, key_file).await,
        Command::Import {
            what:
                ImportWhat::Roll {
                    category,
                    accept,
                    file,
                    db,
                },
        } => import_roll(&category, accept, &file, &db, key_file).await,
        Command::Import {
            what: ImportWhat::Places { file, db },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("read {}", file.display()))?;
            let places = domain::parse_place_list(&text)
                .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
            let n = open(&db, key_file)
                .await?
                .load_places(&operator(), &places)
                .await?;
            eprintln!("已载入区划 {n} 个");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            what:
                AdminWhat::CreateUser {
                    username,
                    role,
                    area,
                    name,
                    department,
                    db,
                },
        } => {
            let role = domain::Role::from_code(&role).with_context(|| {
                let roles: Vec<&str> = domain::Role::ALL.iter().map(|r| r.code()).collect();
                format!("unknown role {role}; one of {}", roles.join(", "))
            })?;
            let area = domain::PlaceCode::parse(&area)
                .map_err(|error| anyhow::anyhow!("--area: {error}"))?;
            // A department is checked before the account exists, so a bad one creates nothing.
            if let Some(department) = &department {
                if role != domain::Role::Department {
                    bail!("--department 只适用于专项部门（department）用户");
                }
                app::assistance::check_department(department)
                    .map_err(|error| anyhow::anyhow!("{}", error.message()))?;
            }
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let app = open(&db, key_file).await?;
            ensure_places(&app).await?;
            let user = app::users::NewUser {
                username: &username,
                display_name: &name,
                role,
                area: &area,
                password,
            };
            match app
                .create_user(app::users::Creator::Console(&operator()), user)
                .await
            {
                Ok(id) => {
                    eprintln!("已创建用户 {username}（id {id}）");
                    if let Some(department) = department {
                        app.set_user_department(
                            app::users::Creator::Console(&operator()),
                            &username,
                            &department,
                        )
                        .await
                        .map_err(|error| anyhow::anyhow!("{}", error.message()))?;
                        eprintln!("所属部门：{department}");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => bail!("{}", error.message()),
            }
        }
        Command::Audit {
            what: AuditWhat::Verify { db, anchor },
        } => audit_verify(&db, key_file, anchor.as_deref(), false).await,
        Command::Audit {
            what: AuditWhat::Anchor { db },
        } => audit_verify(&db, key_file, None, true).await,
        Command::Backup { file, db } => backup::backup(&db, key_file, &file).await,
        Command::Restore { file, db, force } => backup::restore(&db, key_file, &file, force).await,
        Command::Import {
            what:
                ImportWhat::Feed {
                    source,
                    period,
                    file,
                    db,
                },
        } => import_feed(&source, &period, &file, &db, key_file).await,
        Command::SearchBench {
            rounds,
            district,
            db,
        } => {
            search_bench::run(&open(&db, key_file).await?, &district, rounds).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::IntakeBench { facts, rounds, db } => {
            intake_bench::run(&open(&db, key_file).await?, facts, rounds).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker {
            once,
            poll_seconds,
            db,
        } => worker(once, poll_seconds, &db, key_file).await,
        Command::Assess(_) | Command::Compare(_) | Command::Gen { .. } => unreachable_sync(),
    }
}

/// `audit verify` (and `audit anchor`, which prints the verified head): refuses a database
/// that does not exist, says which key it used, and names the first row that fails.
async fn audit_verify(
    db: &str,
    key_file: Option<&std::path::Path>,
    anchor: Option<&str>,
    print_anchor: bool,
) -> anyhow::Result<ExitCode> {
    let anchor = anchor
        .map(str::parse::<store::audit::Anchor>)
        .transpose()
        .map_err(|error| anyhow::anyhow!("--anchor: {error}"))?;
    keys::require_database(db).await?;
    let key = keys::resolve(db, key_file, keys::Need::Existing)?;
    match &key {
        Some(found) => eprintln!(
            "审计密钥 audit key: fingerprint {} ({})",
            found.key.fingerprint(),
            found.source
        ),
        None => eprintln!("审计密钥 audit key: none found (only unkeyed rows can be checked)"),
    }
    let app = open_with(db, key, &store::StoreOptions::default()).await?;
    let verification = app.verify_audit(anchor.as_ref()).await?;
    app.store().close().await;
    Ok(report_verification(verification, print_anchor))
}

fn report_verification(verification: store::audit::Verification, print_anchor: bool) -> ExitCode {
    use store::audit::Verification;
    match verification {
        Verification::Intact {
            rows,
            keyed_from,
            head,
        } => {
            let keyed = match keyed_from {
                Some(1) => "all keyed".to_owned(),
                Some(from) => format!("rows 1–{} unkeyed, keyed from row {from}", from - 1),
                None => "unkeyed".to_owned(),
            };
            let head = head.map(|anchor| anchor.to_string());
            if print_anchor {
                match head {
                    Some(anchor) => {
                        println!("{anchor}");
                        eprintln!(
                            "审计锚点 audit anchor of row {rows} ({keyed}): keep it apart from the database \
                             (print it, mail it); later `safetynet audit verify --anchor {anchor}`"
                        );
                    }
                    None => {
                        eprintln!("审计链为空 the audit chain is empty: no anchor");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                println!(
                    "审计链完整 audit chain intact: {rows} rows ({keyed}); head {}",
                    head.unwrap_or_else(|| "-".to_owned())
                );
            }
            ExitCode::SUCCESS
        }
        Verification::Broken { seq, reason } => {
            println!("审计链断裂 audit chain broken at row {seq}: {reason}");
            ExitCode::FAILURE
        }
        Verification::CaseEventBroken {
            tracking_number,
            seq,
            reason,
        } => {
            println!(
                "案件事件与审计链不符 case event {seq} of case {tracking_number} fails: {reason}"
            );
            ExitCode::FAILURE
        }
        Verification::KeyMismatch {
            keyed_from,
            fingerprint,
            given,
        } => {
            println!(
                "审计密钥不符 the chain is keyed from row {keyed_from} with key {fingerprint}; {}",
                given.map_or_else(
                    || "no key was given (--audit-key-file or SAFETYNET_AUDIT_KEY)".to_owned(),
                    |given| format!("the key given is {given}")
                )
            );
            ExitCode::FAILURE
        }
    }
}

/// The console operator over the district of the shipped place list.
fn console_actor() -> anyhow::Result<app::Actor> {
    let district = domain::parse_place_list(PLACES)?
        .first()
        .map(|place| place.code.clone())
        .context("place list")?;
    Ok(app::Actor::console(&operator(), district))
}

async fn import_feed(
    source: &str,
    period: &str,
    file: &std::path::Path,
    db: &str,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let app = open(db, key_file).await?;
    ensure_places(&app).await?;
    let file_name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let upload = app::feeds::FeedUpload {
        source,
        period,
        file_name: &file_name,
        bytes: &bytes,
    };
    let receipt = match app.import_feed(&console_actor()?, upload).await {
        Ok(receipt) => receipt,
        Err(error) => bail!("{}: {}", file.display(), error.message()),
    };
    for (line, reason) in &receipt.rejections {
        eprintln!("{}:{line}: {reason}", file.display());
    }
    if receipt.repeated {
        eprintln!(
            "该数据批次此前已导入（批次 {}），未作任何更改 (already imported: nothing changed)",
            receipt.feed_id
        );
    } else {
        eprintln!(
            "已导入数据批次 {}：读入 {} 行，拒收 {} 行；比对任务 {} 已排队",
            receipt.feed_id,
            receipt.rows_read,
            receipt.rows_rejected,
            receipt.job_id.map_or_else(String::new, |id| id.to_string())
        );
    }
    println!(
        "{}",
        serde_json::json!({
            "feed_id": receipt.feed_id, "source": receipt.identity.source,
            "period": receipt.identity.period.as_str(), "content_hash": receipt.identity.content_hash,
            "repeated": receipt.repeated, "rows_read": receipt.rows_read,
            "rows_rejected": receipt.rows_rejected, "job_id": receipt.job_id,
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// `gen roll`: every member of every household as a row of a household-scope 低保 roll,
/// start dates spread over 2025 (by household), the amount a made-up 630 yuan per member.
fn write_roll(households: &std::path::Path, out: &mut impl Write) -> anyhow::Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(households)
        .with_context(|| format!("read {}", households.display()))?;
    writeln!(
        out,
        "身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关"
    )?;
    let first = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("date")?;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}", households.display(), n + 1))?;
        let members = record["members"].as_array().cloned().unwrap_or_default();
        let start = first + chrono::Days::new((n % 365) as u64);
        let amount = 630 * members.len();
        for member in &members {
            writeln!(
                out,
                "{},{},整户,{start},{amount},铜民发〔2025〕{}号,铜梁区民政局",
                member["id_number"].as_str().unwrap_or_default(),
                member["name"].as_str().unwrap_or_default(),
                1 + n % 200
            )?;
        }
    }
    Ok(())
}

async fn import_roll(
    category: &str,
    accept: bool,
    file: &std::path::Path,
    db: &str,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let category = app::rolls::parse_category(category).with_context(|| {
        let codes: Vec<&str> = domain::Category::ALL.iter().map(|c| c.code()).collect();
        format!("unknown category {category}; one of {}", codes.join(", "))
    })?;
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let app = open(db, key_file).await?;
    ensure_places(&app).await?;
    let mut actor = console_actor()?;
    if category.confirmed_by_agriculture() {
        actor.role = domain::Role::DistrictAgriculture;
    }
    let file_name = file.display().to_string();
    let upload = app::rolls::RollUpload {
        category,
        file_name: &file_name,
        bytes: &bytes,
    };
    let started = std::time::Instant::now();
    let result = if accept {
        app.import_roll(&actor, &upload).await
    } else {
        app.plan_roll(&actor, &upload).await
    };
    let report = match result {
        Ok(report) => report,
        Err(error) => bail!("{}: {}", file.display(), error.message()),
    };
    let plan = &report.plan;
    for note in plan.unmatched.iter() {
        eprintln!("{}:{}: 未匹配 {}", file.display(), note.line, note.reason);
    }
    for note in plan.conflicts.iter() {
        eprintln!("{}:{}: 冲突 {}", file.display(), note.line, note.reason);
    }
    for bad in plan.bad.iter() {
        eprintln!("{}:{}: 问题行 {bad}", file.display(), bad.line);
    }
    eprintln!(
        "{}名册：共 {} 行；可导入 {} 行（{} 户，{} 个类别期间）；未匹配 {}；已在册 {}；冲突 {}；问题行 {}",
        category.label(),
        plan.n_rows,
        plan.n_matched,
        report.n_households,
        plan.writes.len(),
        plan.unmatched.len(),
        plan.already.len(),
        plan.conflicts.len(),
        plan.bad.len()
    );
    if report.written {
        eprintln!(
            "已导入，用时 {:.1} 秒 (written)",
            started.elapsed().as_secs_f64()
        );
    } else if accept {
        eprintln!("没有可写入的行，未作任何更改 (nothing to write: nothing changed)");
    } else {
        eprintln!("试导入：未写入任何数据；确认后加 --accept 导入 (dry run: nothing written)");
    }
    println!(
        "{}",
        serde_json::json!({
            "category": category.code(), "token": report.token, "written": report.written,
            "rows": plan.n_rows, "matched": plan.n_matched, "households": report.n_households,
            "periods": plan.writes.len(), "unmatched": plan.unmatched.len(),
            "already": plan.already.len(), "conflicts": plan.conflicts.len(), "bad": plan.bad.len(),
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

async fn worker(
    once: bool,
    poll_seconds: u64,
    db: &str,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let app = open(db, key_file).await?;
    let actor = console_actor()?;
    let name = format!("{}@{}", operator(), std::process::id());
    loop {
        match app.run_next_job(&actor, &name).await {
            Ok(Some(app::feeds::JobOutcome::Done { job_id, counts })) => eprintln!(
                "比对任务 {job_id} 完成：{} 户，{} 行，发现 {} 条，新预警 {} 条，并入在办案件疑点 {} 条",
                counts.households,
                counts.records,
                counts.findings,
                counts.new_warnings,
                counts.discrepancies
            ),
            Ok(Some(app::feeds::JobOutcome::Failed { job_id, reason })) => {
                eprintln!("比对任务 {job_id} 失败：{reason}")
            }
            Ok(None) if once => return Ok(ExitCode::SUCCESS),
            Ok(None) => tokio::time::sleep(std::time::Duration::from_secs(poll_seconds)).await,
            Err(error) => bail!("{}", error.message()),
        }
    }
}

fn unreachable_sync() -> anyhow::Result<ExitCode> {
    bail!("this command runs without the async runtime")
}

async fn report(
    period: &str,
    area: Option<&str>,
    out: &std::path::Path,
    html: Option<&std::path::Path>,
    db: &str,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let app = open(db, key_file).await?;
    let district = domain::parse_place_list(PLACES)?
        .first()
        .map(|place| place.code.clone())
        .context("place list")?;
    let actor = app::Actor::console(&operator(), district);
    let report = app
        .joint_report(&actor, period, area)
        .await
        .map_err(|error| anyhow::anyhow!("{}", error.message()))?;
    let figures = started.elapsed();
    std::fs::write(out, report.to_xlsx()?).with_context(|| format!("write {}", out.display()))?;
    if let Some(path) = html {
        let page = web::standalone_report(&report)?;
        std::fs::write(path, page).with_context(|| format!("write {}", path.display()))?;
    }
    eprintln!(
        "{}：在册 {} 户 {} 人，期内纳入 {} 户、退出 {} 户，统计截至 {}；数据 {:.2} 秒，合计 {:.2} 秒",
        report.title(),
        report.total.registry.households,
        report.total.registry.persons,
        report.total.entries,
        report.total.exits,
        report.as_of,
        figures.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// A fresh database gets the shipped place list before anything refers to a place.
async fn ensure_places(app: &App) -> anyhow::Result<()> {
    let mut conn = app.store().read().await?;
    if store::places::count(&mut conn).await? == 0 {
        drop(conn);
        app.load_places(&operator(), &domain::parse_place_list(PLACES)?)
            .await?;
    }
    Ok(())
}

async fn import_households(
    file: &std::path::Path,
    db: &str,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    // Fail early on a missing file, before the store is opened.
    std::fs::metadata(file).with_context(|| format!("read {}", file.display()))?;
    let app = open(db, key_file).await?;
    ensure_places(&app).await?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} 户 {elapsed_precise} 剩余 {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    // Without a terminal (a log, a pipe), a line at each tenth of the file.
    let tenths_reported = std::sync::atomic::AtomicU64::new(0);
    let progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        } else if total > 0 && done < total {
            let tenths = done * 10 / total;
            if tenths > tenths_reported.swap(tenths, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("导入进度：已处理 {done}/{total} 户");
            }
        }
    };
    let started = std::time::Instant::now();
    let file_name = file.display().to_string();
    let path = file.to_path_buf();
    let open_file: app::imports::OpenFile = Box::new(move || {
        let reader = std::fs::File::open(&path)?;
        Ok(Box::new(reader) as Box<dyn std::io::Read + Send>)
    });
    let result = app
        .import_household_file(&operator(), &file_name, open_file, &progress)
        .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(report) if report.already_imported => {
            eprintln!("该文件此前已导入，未作任何更改 (already imported: nothing changed)");
            Ok(ExitCode::SUCCESS)
        }
        Ok(report) => {
            eprintln!(
                "导入完成：新增 {} 户，更新 {} 户，未变 {} 户，用时 {:.1} 秒",
                report.created,
                report.updated,
                report.unchanged,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(app::imports::ImportError::BadLines(errors)) => {
            for error in &errors {
                eprintln!("{}:{}: {}", file.display(), error.line, error.message);
            }
            eprintln!(
                "导入失败：{} 行有误，未导入任何数据 (nothing imported)",
                errors.len()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(app::imports::ImportError::App(error)) => {
            Err(anyhow::anyhow!("{}: {error:#}", error.message()))
        }
    }
}
