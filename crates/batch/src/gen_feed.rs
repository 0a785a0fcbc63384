//! `safetynet gen feed`: a synthetic department feed (`spec/FEEDS.md` CSV) over a households
//! file, with a known share of planted facts and bad rows. Deterministic for a seed.

use anyhow::Context;
use domain::national_id::check_char;
use std::io::{BufRead, Write};
use std::path::Path;

/// What was planted, by share of rows (written on standard error by the command).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedPlan {
    pub rows: u64,
    /// Rows naming a registry person.
    pub registry_rows: u64,
    /// Deaths of registry persons (each a true `death` fact).
    pub deaths: u64,
    /// Registry persons under another name (each a true `name_mismatch`).
    pub name_mismatches: u64,
    /// Rows with a 15-digit legacy ID number (converted on reading).
    pub legacy_ids: u64,
    /// Exact repeats of an earlier row (the same fact again: no new warning).
    pub repeats: u64,
    /// Rows that must be rejected (bad checksum, unknown kind, bad number or date, columns).
    pub bad_rows: u64,
}

/// Kinds and weights (per 100 rows), after `shared/bench/gen_feed.py`.
const KINDS: [(&str, u64); 15] = [
    ("medical", 28),
    ("wage", 20),
    ("vehicle", 8),
    ("real_estate", 8),
    ("deposit", 10),
    ("tax", 6),
    ("business", 4),
    ("provident_fund", 4),
    ("public_payroll", 2),
    ("death", 2),
    ("disability", 2),
    ("school", 2),
    ("unemployment", 1),
    ("disaster", 1),
    ("monitoring", 2),
];

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(bound.max(1))) >> 64) as u64
    }
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }
}

/// Registry persons (ID number, name) in file order, read the quick way.
fn registry_persons(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut persons = Vec::new();
    const ID: &[u8] = b"\"id_number\":\"";
    const NAME: &[u8] = b"\"name\":\"";
    let id_finder = memchr::memmem::Finder::new(ID);
    let name_finder = memchr::memmem::Finder::new(NAME);
    for line in reader.split(b'\n') {
        let line = line?;
        let mut at = 0;
        while let Some(found) = id_finder.find(&line[at..]) {
            let start = at + found + ID.len();
            let Some(end) = memchr::memchr(b'"', &line[start..]).map(|end| start + end) else {
                break;
            };
            let id = String::from_utf8_lossy(&line[start..end]).into_owned();
            at = end;
            let name = name_finder.find(&line[at..]).and_then(|found| {
                let start = at + found + NAME.len();
                memchr::memchr(b'"', &line[start..])
                    .map(|end| String::from_utf8_lossy(&line[start..start + end]).into_owned())
            });
            persons.push((id, name.unwrap_or_default()));
        }
    }
    Ok(persons)
}

fn outside_id(rng: &mut SplitMix) -> String {
    let mut first17 = format!(
        "500224{}{:02}{:02}{:03}",
        rng.range(1940, 2015),
        rng.range(1, 12),
        rng.range(1, 28),
        rng.below(1000)
    )
    .into_bytes();
    let check = check_char(&first17);
    first17.push(check as u8);
    String::from_utf8_lossy(&first17).into_owned()
}

/// Writes `rows` rows (plus the header) for the persons of `households`.
pub fn write_feed<W: Write>(
    households: &Path,
    rows: u64,
    seed: u64,
    output: &mut W,
) -> anyhow::Result<FeedPlan> {
    let persons = registry_persons(households)?;
    anyhow::ensure!(
        !persons.is_empty(),
        "no persons in {}",
        households.display()
    );
    let mut rng = SplitMix(seed ^ 0x5EED_F00D);
    let total_weight: u64 = KINDS.iter().map(|(_, weight)| weight).sum();
    let mut plan = FeedPlan {
        rows,
        ..FeedPlan::default()
    };
    let mut out = Vec::with_capacity(1 << 20);
    out.extend_from_slice(b"id_number,name,kind,value,date,detail\n");
    let mut recent: Vec<Vec<u8>> = Vec::with_capacity(64);
    for row in 0..rows {
        let start = out.len();
        let roll = rng.below(1000);
        if roll < 20 && !recent.is_empty() {
            // 2 %: the same fact again (another department, another line).
            let earlier = &recent[rng.below(recent.len() as u64) as usize];
            out.extend_from_slice(earlier);
            plan.repeats += 1;
            continue;
        }
        if roll < 25 {
            // 0.5 %: a bad row.
            plan.bad_rows += 1;
            let _ = match rng.below(5) {
                0 => writeln!(out, "500224199001011230,某人,wage,3000,2025-03-01,"),
                1 => writeln!(out, "{},某人,salary,3000,2025-03-01,", outside_id(&mut rng)),
                2 => writeln!(out, "{},某人,wage,三千,2025-03-01,", outside_id(&mut rng)),
                3 => writeln!(out, "{},某人,wage,3000,2025/03/01,", outside_id(&mut rng)),
                _ => writeln!(out, "{},某人,wage", outside_id(&mut rng)),
            };
            continue;
        }
        let mut pick = rng.below(total_weight);
        let mut kind = "medical";
        for (candidate, weight) in KINDS {
            if pick < weight {
                kind = candidate;
                break;
            }
            pick -= weight;
        }
        let (mut id, mut name) = if rng.below(10) < 7 {
            plan.registry_rows += 1;
            let (id, name) = &persons[rng.below(persons.len() as u64) as usize];
            if kind == "death" {
                plan.deaths += 1;
            }
            if rng.below(100) < 2 {
                plan.name_mismatches += 1;
                (id.clone(), format!("{name}某"))
            } else {
                (id.clone(), name.clone())
            }
        } else {
            (outside_id(&mut rng), "某人".to_owned())
        };
        if rng.below(100) == 0 && id.len() == 18 && id[6..8] == *"19" {
            // 1 %: the legacy 15-digit form of the same number.
            plan.legacy_ids += 1;
            id = format!("{}{}", &id[..6], &id[8..17]);
        }
        if name.contains(',') {
            name = name.replace(',', " ");
        }
        let value = match kind {
            "medical" => rng.range(100, 80_000),
            "wage" => rng.range(1_500, 9_000),
            "vehicle" => rng.range(3_000, 300_000),
            "real_estate" => rng.range(40, 200),
            "deposit" => rng.below(200_001),
            "tax" => rng.below(120_001),
            "business" => rng.range(10_000, 1_000_000),
            "provident_fund" => rng.range(100, 2_000),
            "public_payroll" => rng.range(3_000, 9_000),
            "disability" => rng.range(1, 4),
            "disaster" => rng.range(1_000, 50_000),
            _ => u64::MAX,
        };
        let detail = match kind {
            "vehicle" => format!("渝B{:05}", rng.below(100_000)),
            "real_estate" => format!("巴川街道{}号", rng.range(1, 999)),
            "school" if rng.below(4) == 0 => "dropout".to_owned(),
            "school" => "compulsory".to_owned(),
            _ => String::new(),
        };
        let _ = write!(out, "{id},{name},{kind},");
        if value != u64::MAX {
            let _ = write!(out, "{value}");
        }
        let _ = writeln!(
            out,
            ",2025-{:02}-{:02},{detail}",
            rng.range(1, 7),
            rng.range(1, 28)
        );
        let written = out[start..].to_vec();
        if recent.len() < 64 {
            recent.push(written);
        } else {
            let slot = (row % 64) as usize;
            recent[slot] = written;
        }
        if out.len() > (1 << 20) {
            output.write_all(&out)?;
            out.clear();
        }
    }
    output.write_all(&out)?;
    output.flush()?;
    Ok(plan)
}
