//! Deterministic synthetic Tongliang households for demos, load tests and benchmarks.
//!
//! Invariants:
//! - The same place list, count and seed give the same households, byte for byte, on every
//!   platform and release: the random stream is this crate's own (`rng`), and ages are taken
//!   as of a fixed day ([`REFERENCE_DATE`]), never the clock.
//! - Household `i` does not depend on the count: a shorter run is a prefix of a longer one.
//! - Every household converts to `domain::Household`: valid GB 11643 numbers whose birth
//!   date and sex agree with the member's age and name, exactly one head, and ID numbers
//!   unique across the whole generated set (up to about 35 million members).
//! - Area codes are the villages and communities (12-digit codes) of the given place list.

mod household;
mod names;
mod rng;
pub use rng::Rng;

use domain::Place;
use domain::interchange::HouseholdRecord;
use household::Generator;

/// The day (year, month, day) on which the generated members have their ages.
pub const REFERENCE_DATE: (i32, u32, u32) = household::REFERENCE_DATE;

/// `count` synthetic rural Chongqing households in the interchange format, living in the
/// villages and communities of `places`, with ids `H00000001`, `H00000002`, …
/// Yields nothing when `places` holds no village or community.
pub fn households(
    places: &[Place],
    count: usize,
    seed: u64,
) -> impl Iterator<Item = HouseholdRecord> + use<> {
    let mut generator = Generator::new(places, seed);
    let count = if generator.has_areas() { count } else { 0 };
    (0..count as u64).map(move |index| generator.household(index))
}

/// Writes [`households`] as JSON lines (one household per line) to `out`, through one
/// reused buffer.
pub fn write_households_jsonl(
    places: &[Place],
    count: usize,
    seed: u64,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    const FLUSH_AT: usize = 1 << 16;
    let mut buffer: Vec<u8> = Vec::with_capacity(FLUSH_AT + 8 * 1024);
    for record in households(places, count, seed) {
        serde_json::to_writer(&mut buffer, &record)?;
        buffer.push(b'\n');
        if buffer.len() >= FLUSH_AT {
            out.write_all(&buffer)?;
            buffer.clear();
        }
    }
    out.write_all(&buffer)?;
    out.flush()
}

#[cfg(test)]
mod place_tree;
#[cfg(test)]
mod tests;
