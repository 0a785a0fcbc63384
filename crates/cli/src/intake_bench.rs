//! `safetynet intake-bench`: times 信息比对 at intake (issue 14 item 3, P3) on an existing
//! database — use it on a copy, it writes. First it stores synthetic department facts until
//! `feed_facts` holds `--facts` rows (about persons of the registry drawn at random, in feeds
//! of one million rows, written straight through the store: benchmark data, not audited). Then,
//! for `--rounds` households drawn at random without an open case, it opens an application as
//! the household's town and times its 开始比对 (`BeginComparison`: every stored fact about the
//! members and every open warning on them, compared by the run's rules and recorded as 疑点),
//! as a request runs it. Prints the median, 95th percentile and slowest in milliseconds.

use anyhow::Context;
use app::cases::{CaseAction, NewIntake};
use app::{Actor, App, AppError};
use domain::Role;
use domain::states::FeedKind;
use std::time::{Duration, Instant};
use store::watch::{FeedFact, NewFeed};
use synth::Rng;
use workflow::{Action, CaseKind, Channel, Consent};

/// Rows per synthetic feed and per transaction while they are stored.
const FEED_ROWS: usize = 1_000_000;
const BATCH: usize = 50_000;

/// A fact of a kind departments send often, with a plausible value (hundredths).
fn fact(draw: &mut Rng, id_number: &str, line: i64) -> anyhow::Result<FeedFact> {
    let (kind, value, detail) = match draw.below(10) {
        0..=3 => (
            FeedKind::Wage,
            Some(100_000 + draw.below(600_000) as i64),
            "",
        ),
        4 | 5 => (FeedKind::Medical, Some(draw.below(2_000_000) as i64), ""),
        6 => (FeedKind::Deposit, Some(draw.below(10_000_000) as i64), ""),
        7 => (
            FeedKind::Vehicle,
            Some(draw.below(20_000_000) as i64),
            "渝A00000",
        ),
        8 => (
            FeedKind::RealEstate,
            Some(8_000 + draw.below(20_000) as i64),
            "铜梁区某地",
        ),
        _ => (
            FeedKind::ProvidentFund,
            Some(draw.below(300_000) as i64),
            "",
        ),
    };
    Ok(FeedFact {
        feed_id: 0,
        line,
        id_number: domain::NationalId::parse(id_number)?,
        name: String::new(),
        kind,
        value,
        on_date: Some(domain::FeedDate::Day(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 1).ok_or_else(|| anyhow::anyhow!("date"))?,
        )),
        detail: detail.to_owned(),
    })
}

/// Stores synthetic facts until the table holds `target` rows.
async fn fill_facts(
    app: &App,
    target: usize,
    persons: &[&str],
    draw: &mut Rng,
) -> anyhow::Result<()> {
    let have = {
        let mut conn = app.store().read().await?;
        usize::try_from(store::watch::fact_count(&mut conn).await?)?
    };
    if have >= target {
        return Ok(());
    }
    anyhow::ensure!(!persons.is_empty(), "the registry is empty");
    let period = domain::StatPeriod::parse("2026-10")?;
    let started = Instant::now();
    let mut left = target - have;
    let mut feed_no = have / FEED_ROWS;
    while left > 0 {
        let rows = left.min(FEED_ROWS);
        feed_no += 1;
        let now = chrono::Utc::now().to_rfc3339();
        // Each synthetic feed is told apart by its content hash; all cover one period.
        let content_hash = format!("bench-{feed_no}");
        let mut tx = app.store().begin().await?;
        let feed_id = store::watch::insert_feed(
            &mut tx,
            &NewFeed {
                source: "intake-bench",
                period: &period,
                content_hash: &content_hash,
                file_name: "intake-bench.csv",
                format: "csv",
                content: b"",
                rows_read: rows as i64,
                rows_rejected: 0,
                imported_by: "intake-bench",
                imported_by_user_id: 0,
                imported_at: &now,
            },
            &[],
        )
        .await?;
        store::commit(tx).await?;
        let mut line = 1;
        let mut written = 0;
        while written < rows {
            let batch = BATCH.min(rows - written);
            let facts: Vec<FeedFact> = (0..batch)
                .map(|_| {
                    line += 1;
                    let person = persons[draw.below(persons.len())];
                    fact(draw, person, line)
                })
                .collect::<anyhow::Result<_>>()?;
            let mut tx = app.store().begin().await?;
            store::watch::insert_feed_facts(&mut tx, feed_id, &facts).await?;
            store::commit(tx).await?;
            written += batch;
        }
        left -= rows;
        eprintln!(
            "intake-bench: {} facts stored ({:.0} s)",
            target - left,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn app_error(error: AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", error.message())
}

/// Fills the facts, then times `rounds` comparisons at intake.
pub async fn run(app: &App, facts: usize, rounds: usize) -> anyhow::Result<()> {
    let mut draw = Rng::new(0x5AFE_7E70, 0);
    let members = {
        let mut conn = app.store().read().await?;
        store::households::open_members(&mut conn).await?
    };
    let persons: Vec<&str> = members.iter().map(|(_, id)| id.as_str()).collect();
    let mut households: Vec<i64> = members.iter().map(|(household, _)| *household).collect();
    households.dedup();
    anyhow::ensure!(!households.is_empty(), "the registry is empty");
    fill_facts(app, facts, &persons, &mut draw).await?;
    let stored = {
        let mut conn = app.store().read().await?;
        store::watch::fact_count(&mut conn).await?
    };
    let mut times = Vec::with_capacity(rounds);
    let mut discrepancies = 0;
    let mut attempts = 0;
    while times.len() < rounds && attempts < rounds * 10 {
        attempts += 1;
        let row_id = households[draw.below(households.len())];
        let row = {
            let mut conn = app.store().read().await?;
            store::households::get(&mut conn, row_id).await?
        };
        let Some(row) = row else { continue };
        let village = row.area_code;
        let town = village
            .at_level(domain::PlaceLevel::Town)
            .context("a household above town level")?;
        let actor = Actor {
            user_id: 0,
            username: "console:intake-bench".to_owned(),
            display_name: "intake-bench".to_owned(),
            role: Role::TownReviewer,
            area: town,
        };
        let opened = app
            .open_case(
                &actor,
                NewIntake {
                    kind: CaseKind::Application,
                    channel: Channel::TownWindow,
                    household_no: row.external_id.clone(),
                    area: village,
                    applicant: "intake-bench".to_owned(),
                    consent: Some(Consent {
                        signed_on: app.today(),
                        signer: "intake-bench".to_owned(),
                    }),
                    summary: "intake-bench".to_owned(),
                },
            )
            .await;
        let case_id = match opened {
            Ok((case_id, _)) => case_id,
            // A household with a case running already.
            Err(AppError::Conflict(_)) => continue,
            Err(error) => return Err(app_error(error)),
        };
        let started = Instant::now();
        app.act_on_case(&actor, case_id, CaseAction::Move(Action::BeginComparison))
            .await
            .map_err(app_error)?;
        times.push(started.elapsed());
        let detail = app.case_detail(&actor, case_id).await.map_err(app_error)?;
        discrepancies += detail.case.discrepancies().len();
    }
    anyhow::ensure!(
        !times.is_empty(),
        "no household without a running case was found"
    );
    times.sort();
    let at = |q: f64| millis(times[((times.len() - 1) as f64 * q).round() as usize]);
    println!(
        "信息比对 at intake: {} persons, {stored} stored facts, {} cases ({discrepancies} 疑点 recorded)",
        persons.len(),
        times.len()
    );
    println!(
        "BeginComparison ms: median {:.1}, p95 {:.1}, max {:.1}",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    Ok(())
}
