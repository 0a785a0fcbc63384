//! `safetynet search-bench`: times the registry search (检索) of each kind of query for a
//! district user and a town user on an existing database, as a request runs it (the first
//! page with its capped count, through `App::search_households`). The queries are taken from
//! the registry itself, so any generated or imported database serves.

use anyhow::Context;
use app::{Actor, App};
use domain::{PlaceCode, PlaceLevel, Role};
use std::time::{Duration, Instant};

/// One timed kind of query.
struct Probe {
    kind: &'static str,
    query: String,
}

fn actor(role: Role, area: &str) -> anyhow::Result<Actor> {
    Ok(Actor {
        user_id: 0,
        username: "console:search-bench".to_owned(),
        display_name: "search-bench".to_owned(),
        role,
        area: PlaceCode::parse(area).map_err(|error| anyhow::anyhow!("{area}: {error}"))?,
    })
}

/// The queries of each kind, from a household of the registry and the town it lies in.
async fn probes(app: &App, district: &Actor) -> anyhow::Result<(Vec<Probe>, String)> {
    let first = app
        .search_households(district, "", None)
        .await
        .map_err(|error| anyhow::anyhow!("{}", error.message()))?;
    let household = first.items.first().context("the registry is empty")?;
    let mut conn = app.store().read().await?;
    let members = store::households::membership_history(&mut conn, household.id).await?;
    let names: Vec<String> = members.iter().map(|member| member.name.clone()).collect();
    let two = names
        .iter()
        .find(|name| name.chars().count() == 2)
        .or(names.first())
        .context("a household without members")?;
    let three = names
        .iter()
        .find(|name| name.chars().count() >= 3)
        .unwrap_or(two);
    let id_number = members
        .first()
        .map(|member| member.id_number.as_str().to_owned())
        .context("a household without members")?;
    let town_code = household
        .area_code
        .at_level(PlaceLevel::Town)
        .context("a household recorded above town level")?;
    let town_name = store::places::get(&mut conn, &town_code)
        .await?
        .context("the household's town is not a place")?
        .name;
    let probes = vec![
        ("everything", String::new()),
        ("name, 1 character", two.chars().take(1).collect()),
        ("name, 2 characters", two.chars().take(2).collect()),
        ("name, 3 characters", three.chars().take(3).collect()),
        (
            "ID number prefix (10)",
            id_number.chars().take(10).collect(),
        ),
        ("ID number (18)", id_number.clone()),
        (
            "household number prefix",
            household.external_id.as_str().chars().take(6).collect(),
        ),
        (
            "area code (village)",
            household.area_code.as_str().to_owned(),
        ),
        ("town name", town_name),
    ];
    Ok((
        probes
            .into_iter()
            .map(|(kind, query)| Probe { kind, query })
            .collect(),
        town_code.as_str().to_owned(),
    ))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Runs each probe `rounds` times for each user and prints the median and the slowest.
pub async fn run(app: &App, district_code: &str, rounds: usize) -> anyhow::Result<()> {
    let district = actor(Role::DistrictCivilAffairs, district_code)?;
    let (probes, town_code) = probes(app, &district).await?;
    let town = actor(Role::TownReviewer, &town_code)?;
    println!("kind\tquery\tuser\tlines\ttotal\tmedian_ms\tmax_ms");
    for probe in &probes {
        for (label, user) in [("district", &district), ("town", &town)] {
            let mut times = Vec::with_capacity(rounds);
            let mut shown = (0, String::new());
            for _ in 0..rounds.max(1) {
                let started = Instant::now();
                let page = app
                    .search_households(user, &probe.query, None)
                    .await
                    .map_err(|error| anyhow::anyhow!("{}", error.message()))?;
                times.push(started.elapsed());
                let total = if page.total_capped {
                    format!("{}+", page.total)
                } else {
                    page.total.to_string()
                };
                shown = (page.items.len(), total);
            }
            times.sort();
            println!(
                "{}\t{}\t{label}\t{}\t{}\t{:.2}\t{:.2}",
                probe.kind,
                probe.query,
                shown.0,
                shown.1,
                millis(times[times.len() / 2]),
                millis(times[times.len() - 1]),
            );
        }
    }
    Ok(())
}
