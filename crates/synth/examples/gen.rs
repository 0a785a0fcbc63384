//! Writes synthetic households as JSON lines to standard output and their timing to standard error.
//!
//! `cargo run --release -p synth --example gen -- [COUNT] [SEED] [PLACE_LIST] > households.jsonl`

use std::io::Write;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(1_000_000), |arg| arg.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |arg| arg.parse())?;
    let path = args
        .next()
        .unwrap_or_else(|| "data/places/tongliang.csv".to_owned());
    let places = domain::parse_place_list(&std::fs::read_to_string(&path)?)?;
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    synth::write_households_jsonl(&places, count, seed, &mut out)?;
    out.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{count} households in {seconds:.2} s ({:.0} per second)",
        count as f64 / seconds
    );
    Ok(())
}
