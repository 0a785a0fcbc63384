//! The registry index: every registry person by ID number, holding only what the rules read.
//!
//! Invariant: a person is indexed once, under the first household that lists them; a later
//! household listing the same ID number is kept in `duplicates` (不重不漏), not indexed again.

use crate::feed::IdKey;
use domain::{Category, Household, Hukou};
use policy::{Param, Snapshot, determine_quiet};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// What the rules need of a household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdEntry {
    pub id: Box<str>,
    /// The highest category the rules give on the run's date (`None`: outside the net).
    pub primary: Option<Category>,
    /// 防止返贫监测对象 on the run's date.
    pub monitoring: bool,
    pub members: u16,
    /// Declared countable income per month, fen (12-month income ÷ 12).
    pub income_month_fen: i64,
    /// The per-person monthly line of the household's category, fen (`None`: no line configured).
    pub line_month_fen: Option<i64>,
    /// The parameter that line comes from.
    pub line_param: Option<Param>,
    /// The 低保标准 for the household's hukou, fen per person-month.
    pub standard_month_fen: Option<i64>,
}

impl HouseholdEntry {
    /// 在保: holds any category or is a monitoring object.
    pub fn inside_net(&self) -> bool {
        self.primary.is_some() || self.monitoring
    }

    /// In the net with 特困 or 低保 (either kind): active discovery does not apply.
    pub fn high_category(&self) -> bool {
        matches!(
            self.primary,
            Some(Category::Tekun | Category::Dibao | Category::DibaoSingle)
        )
    }
}

/// What the rules need of a person: 24 bytes, so that the index of two million persons stays
/// small and a lookup touches one cache line. The household's net flags are copied here so
/// that most records never read the household entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersonEntry {
    pub household: u32,
    /// A 32-bit hash of the registry name (`name_hash`): a mismatch is told by the hash, so a
    /// different name with the same hash (about one in four billion) goes unreported.
    name_hash: u32,
    /// Declared own income per month, fen.
    pub declared_month_fen: i64,
    /// Recorded disability grade (1–4), 0 for none.
    pub disability_grade: u8,
    /// The household is in the net.
    pub inside_net: bool,
    /// The household holds 特困 or 低保.
    pub high_category: bool,
}

impl PersonEntry {
    /// Whether `name` is the registry's name (by hash).
    pub fn same_name(&self, name: &str) -> bool {
        name_hash(name) == self.name_hash
    }
}

/// FNV-1a over the name's bytes.
pub fn name_hash(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// The index key: the first 17 digits of an ID number as a number (the 18th is their check).
/// Eight digits at a time (SWAR); a byte that is not a digit gives some other key, never a
/// panic (an `IdKey` holds digits there).
#[inline]
pub fn pack(id_number: &IdKey) -> u64 {
    let [
        a0,
        a1,
        a2,
        a3,
        a4,
        a5,
        a6,
        a7,
        b0,
        b1,
        b2,
        b3,
        b4,
        b5,
        b6,
        b7,
        last,
        ..,
    ] = *id_number;
    let high = eight_digits([a0, a1, a2, a3, a4, a5, a6, a7]);
    let low = eight_digits([b0, b1, b2, b3, b4, b5, b6, b7]);
    (high * 100_000_000 + low) * 10 + u64::from(last.wrapping_sub(b'0') % 10)
}

#[inline]
fn eight_digits(bytes: [u8; 8]) -> u64 {
    let mut value = u64::from_le_bytes(bytes).wrapping_sub(0x3030_3030_3030_3030);
    value = value.wrapping_mul(10).wrapping_add(value >> 8) & 0x00ff_00ff_00ff_00ff;
    value = value.wrapping_mul(100).wrapping_add(value >> 16) & 0x0000_ffff_0000_ffff;
    value.wrapping_mul(10_000).wrapping_add(value >> 32) & 0xffff_ffff
}

/// One household ready to index: computed on any thread, indexed in order by `Registry::add`.
#[derive(Clone, Debug)]
pub struct Summary {
    entry: HouseholdEntry,
    /// (ID number, name hash, declared monthly income in fen, disability grade).
    persons: Vec<(IdKey, u32, i64, u8)>,
}

/// Determines the household's category on the snapshot's date and keeps what the rules read.
pub fn summarise(household: &Household, snapshot: &Snapshot) -> Summary {
    let determination = determine_quiet(household, snapshot, snapshot.date());
    let members = u16::try_from(household.members.len()).unwrap_or(u16::MAX);
    let standard_param = match household.hukou {
        Hukou::Urban => Param::DibaoStandardUrban,
        Hukou::Rural => Param::DibaoStandardRural,
    };
    let standard = snapshot.money(standard_param).map(|yuan| yuan.fen());
    let (line_month_fen, line_param) = match determination.primary {
        Some(Category::Tekun) => (
            snapshot
                .money(Param::TekunBasicLiving)
                .map(|yuan| yuan.fen()),
            Some(Param::TekunBasicLiving),
        ),
        Some(Category::Dibao | Category::DibaoSingle) => (standard, Some(standard_param)),
        Some(Category::DibaoEdge) => {
            let multiplier = snapshot
                .decimal(Param::DibaoEdgeIncomeMultiplier)
                .and_then(|multiplier| rust_decimal::prelude::ToPrimitive::to_f64(&multiplier));
            (
                standard
                    .zip(multiplier)
                    .map(|(fen, times)| (fen as f64 * times).round() as i64),
                Some(Param::DibaoEdgeIncomeMultiplier),
            )
        }
        _ if determination.monitoring.is_some() => (
            snapshot
                .money(Param::MonitoringIncomeLine)
                .map(|yuan| yuan.fen() / 12),
            Some(Param::MonitoringIncomeLine),
        ),
        _ => (None, None),
    };
    let entry = HouseholdEntry {
        id: household.id.as_str().into(),
        primary: determination.primary,
        monitoring: determination.monitoring.is_some(),
        members,
        income_month_fen: household.income_12m.countable().fen() / 12,
        line_month_fen,
        line_param,
        standard_month_fen: standard,
    };
    let persons = household
        .members
        .iter()
        .filter_map(|person| {
            let key: IdKey = person.id_number.as_str().as_bytes().try_into().ok()?;
            Some((
                key,
                name_hash(&person.name),
                person.income_12m.map_or(0, |yuan| yuan.fen() / 12),
                person.disability.map_or(0, |disability| disability.grade),
            ))
        })
        .collect();
    Summary { entry, persons }
}

/// A fast, fixed hash for ID numbers (digits; not exposed to untrusted request rates).
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// The person index: open addressing with linear probing, key and entry in one 32-byte slot,
/// so that a lookup is usually one cache miss (a general hash map takes two: control bytes,
/// then the entry). Key 0 marks an empty slot (no ID number packs to 0: its area code is not
/// zero). At most half full.
#[derive(Debug, Default)]
struct PersonIndex {
    slots: Vec<(u64, PersonEntry)>,
    len: usize,
}

/// The most keys `Registry::persons` looks up at once.
pub const BATCH: usize = 32;

const EMPTY: PersonEntry = PersonEntry {
    household: 0,
    name_hash: 0,
    declared_month_fen: 0,
    disability_grade: 0,
    inside_net: false,
    high_category: false,
};

fn slot_of(key: u64, mask: usize) -> usize {
    let mixed = (key ^ (key >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    ((mixed ^ (mixed >> 32)) as usize) & mask
}

impl PersonIndex {
    fn with_capacity(persons: usize) -> PersonIndex {
        let slots = (persons.max(8) * 2).next_power_of_two();
        PersonIndex {
            slots: vec![(0, EMPTY); slots],
            len: 0,
        }
    }

    fn get(&self, key: u64) -> Option<&PersonEntry> {
        if self.slots.is_empty() || key == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = slot_of(key, mask);
        loop {
            let (slot_key, entry) = &self.slots[at];
            if *slot_key == key {
                return Some(entry);
            }
            if *slot_key == 0 {
                return None;
            }
            at = (at + 1) & mask;
        }
    }

    /// Looks up `keys` (at most `BATCH`) into `found`. Every key's first slot is read before
    /// any is probed: those reads do not depend on each other, so their cache misses overlap
    /// (a probe loop's branches would otherwise let only a few be in flight at once).
    fn get_batch(&self, keys: &[u64], found: &mut Vec<Option<PersonEntry>>) {
        found.clear();
        if self.slots.is_empty() {
            found.extend(keys.iter().map(|_| None));
            return;
        }
        let mask = self.slots.len() - 1;
        let mut first = [0usize; BATCH];
        for (at, key) in first.iter_mut().zip(keys) {
            *at = slot_of(*key, mask);
        }
        let count = keys.len().min(BATCH);
        let mut touched = 0u64;
        for at in &first[..count] {
            touched ^= self.slots[*at & mask].0;
        }
        std::hint::black_box(touched);
        for (key, at) in keys.iter().zip(&first[..count]) {
            found.push(self.probe(*key, *at, mask).copied());
        }
    }

    #[inline]
    fn probe(&self, key: u64, mut at: usize, mask: usize) -> Option<&PersonEntry> {
        if key == 0 {
            return None;
        }
        loop {
            let (slot_key, entry) = &self.slots[at & mask];
            if *slot_key == key {
                return Some(entry);
            }
            if *slot_key == 0 {
                return None;
            }
            at = (at + 1) & mask;
        }
    }

    /// Inserts a key not yet present.
    fn insert(&mut self, key: u64, entry: PersonEntry) {
        if key == 0 {
            return;
        }
        if (self.len + 1) * 2 > self.slots.len() {
            let old = std::mem::take(&mut self.slots);
            *self = PersonIndex::with_capacity((self.len + 1) * 2);
            for (old_key, old_entry) in old {
                if old_key != 0 {
                    self.insert(old_key, old_entry);
                }
            }
        }
        let mask = self.slots.len() - 1;
        let mut at = slot_of(key, mask);
        while self.slots[at].0 != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = (key, entry);
        self.len += 1;
    }
}

/// 不重不漏: one ID number listed by two households.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duplicate {
    pub id_number: IdKey,
    pub first: u32,
    pub second: u32,
}

/// The registry index over all households of a run.
#[derive(Default, Debug)]
pub struct Registry {
    households: Vec<HouseholdEntry>,
    /// Every household's ID, one after another (`household_id`): small enough to stay in the
    /// cache while warnings are written, unlike the entries themselves.
    household_ids: String,
    /// Where each household's ID ends in `household_ids`.
    household_id_ends: Vec<u32>,
    persons: PersonIndex,
    duplicates: Vec<Duplicate>,
}

impl Registry {
    pub fn with_capacity(households: usize, persons: usize) -> Registry {
        Registry {
            households: Vec::with_capacity(households),
            household_ids: String::with_capacity(households * 10),
            household_id_ends: Vec::with_capacity(households),
            persons: PersonIndex::with_capacity(persons),
            duplicates: Vec::new(),
        }
    }

    /// Indexes a household (in file order, so the first listing of a person wins).
    pub fn add(&mut self, summary: Summary) {
        let household = u32::try_from(self.households.len()).unwrap_or(u32::MAX);
        let inside_net = summary.entry.inside_net();
        let high_category = summary.entry.high_category();
        self.household_ids.push_str(&summary.entry.id);
        self.household_id_ends
            .push(u32::try_from(self.household_ids.len()).unwrap_or(u32::MAX));
        self.households.push(summary.entry);
        for (key, name_hash, declared_month_fen, disability_grade) in summary.persons {
            let packed = pack(&key);
            if let Some(first) = self.persons.get(packed) {
                self.duplicates.push(Duplicate {
                    id_number: key,
                    first: first.household,
                    second: household,
                });
                continue;
            }
            self.persons.insert(
                packed,
                PersonEntry {
                    household,
                    name_hash,
                    declared_month_fen,
                    disability_grade,
                    inside_net,
                    high_category,
                },
            );
        }
    }

    /// Looks up a batch of ID numbers (at most `BATCH`; the rest are not looked up) into
    /// `found`, one entry per ID number: faster than one `person` call each, as the memory
    /// reads of the batch overlap.
    pub fn persons<'k>(
        &self,
        id_numbers: impl IntoIterator<Item = &'k IdKey>,
        found: &mut Vec<Option<PersonEntry>>,
    ) {
        let mut keys = [0u64; BATCH];
        let mut count = 0;
        for (key, id_number) in keys.iter_mut().zip(id_numbers) {
            *key = pack(id_number);
            count += 1;
        }
        self.persons.get_batch(&keys[..count], found);
    }

    /// Indexes households in order, as `add` does one by one; each batch of persons' slots is
    /// read before any is written, so that their cache misses overlap.
    pub fn add_all(&mut self, summaries: impl IntoIterator<Item = Summary>) {
        let mut pending: Vec<Summary> = Vec::with_capacity(16);
        let flush = |registry: &mut Registry, pending: &mut Vec<Summary>| {
            if !registry.persons.slots.is_empty() {
                let mask = registry.persons.slots.len() - 1;
                let mut touched = 0u64;
                for summary in pending.iter() {
                    for (key, ..) in &summary.persons {
                        touched ^= registry.persons.slots[slot_of(pack(key), mask)].0;
                    }
                }
                std::hint::black_box(touched);
            }
            for summary in pending.drain(..) {
                registry.add(summary);
            }
        };
        for summary in summaries {
            pending.push(summary);
            if pending.len() == 16 {
                flush(self, &mut pending);
            }
        }
        flush(self, &mut pending);
    }

    #[inline]
    pub fn person(&self, id_number: &IdKey) -> Option<&PersonEntry> {
        self.persons.get(pack(id_number))
    }

    /// The ID of household `index` (as `household(index)?.id`, from a compact copy).
    pub fn household_id(&self, index: u32) -> Option<&str> {
        let index = index as usize;
        let end = *self.household_id_ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => *self.household_id_ends.get(index - 1)? as usize,
        };
        self.household_ids.get(start..end)
    }

    pub fn household(&self, index: u32) -> Option<&HouseholdEntry> {
        self.households.get(index as usize)
    }

    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    pub fn household_count(&self) -> usize {
        self.households.len()
    }

    pub fn person_count(&self) -> usize {
        self.persons.len
    }
}
