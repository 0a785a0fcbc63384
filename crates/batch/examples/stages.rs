//! Single-thread timing of each stage (parse, determine, serialise) on the first N lines.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read(&args[1]).unwrap();
    let n: usize = args[2].parse().unwrap();
    let explain = args.get(3).is_some_and(|a| a == "explain");
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .take(n)
        .collect();
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
    let snapshot = policy::Catalogue::builtin().unwrap().snapshot(as_of);
    let (mut parse, mut det, mut ser) = (
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
        std::time::Duration::ZERO,
    );
    let mut out = Vec::with_capacity(1 << 20);
    let mut total = 0;
    for _round in 0..2 {
        for l in &lines {
            let t = Instant::now();
            let h = batch::read_household(l).unwrap();
            let t2 = Instant::now();
            let d = if explain {
                policy::determine(&h, &snapshot, as_of)
            } else {
                policy::determine_quiet(&h, &snapshot, as_of)
            };
            let t3 = Instant::now();
            out.clear();
            policy::DeterminationRecord {
                household_id: h.id.as_str(),
                as_of,
                determination: &d,
                explain,
            }
            .write_json(&mut out);
            total += out.len();
            let t4 = Instant::now();
            parse += t2 - t;
            det += t3 - t2;
            ser += t4 - t3;
        }
    }
    let n = n * 2;
    let per = |d: std::time::Duration| d.as_nanos() as f64 / n as f64 / 1000.0;
    println!(
        "parse {:.2} us, determine {:.2} us, serialise {:.2} us, {} bytes/household",
        per(parse),
        per(det),
        per(ser),
        total / n
    );
}
