//! A fast reader for the usual household line, beside `domain::interchange`.
//!
//! Invariant: `household` returns `Some` only for a line that `domain::interchange` accepts,
//! and then the same `Household`. Anything it does not expect — an escape in a string, a
//! number with an exponent or a sign, a duplicate or unknown key, a value out of range, any
//! fault at all — gives `None`, and the caller reads the line with `domain`, which accepts it
//! or names the fault. So this module decides nothing; it only saves time on the common case
//! (serde's generic path costs about three times as much on a million lines).

use domain::{
    CareNeed, Disability, DisabilityKind, Guarantees, Household, Hukou, Income, LabourCapacity,
    NationalId, Person, PlaceCode, PlaceLevel, Property, Relation, RigidExpenditure, Risk,
    Schooling, Supporter, Vehicle, VehicleKind, Yuan,
};

/// Mirrors `Yuan::from_f64`'s range (1e13 yuan); larger amounts go to the general path.
const MAX_WHOLE_DIGITS: usize = 12;
/// Mirrors the 50-character limit on names in `domain::interchange`.
const MAX_NAME_CHARS: usize = 50;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first byte at or after `from` that ends a plain string: a quote, a backslash or a
/// control character. Eight bytes at a time (the lowest flagged byte of each word is exact).
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut idx = from;
    while let Some(word) = bytes.get(idx..idx + 8) {
        let word = u64::from_le_bytes(word.try_into().ok()?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flagged = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        let flagged = flagged & HIGHS;
        if flagged != 0 {
            return Some(idx + usize::try_from(flagged.trailing_zeros() / 8).ok()?);
        }
        idx += 8;
    }
    bytes[idx..]
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .map(|offset| idx + offset)
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn literal(&mut self, word: &str) -> bool {
        self.skip_ws();
        if self.text.as_bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// A string without escapes (an escape sends the line to the general path).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let end = string_end(bytes, start)?;
        if bytes[end] != b'"' {
            return None;
        }
        self.pos = end + 1;
        self.text.get(start..end)
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.literal("true") {
            Some(true)
        } else if self.literal("false") {
            Some(false)
        } else {
            None
        }
    }

    fn null(&mut self) -> bool {
        self.literal("null")
    }

    fn digits(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// A non-negative amount with at most two decimals, as exact fen.
    fn money(&mut self) -> Option<Yuan> {
        self.skip_ws();
        let whole = self.digits();
        if whole.is_empty()
            || whole.len() > MAX_WHOLE_DIGITS
            || (whole.len() > 1 && whole.starts_with('0'))
        {
            return None;
        }
        let mut fen = whole.parse::<i64>().ok()? * 100;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let fraction = self.digits();
            match fraction.len() {
                1 => fen += i64::from(fraction.as_bytes()[0] - b'0') * 10,
                2 => fen += fraction.parse::<i64>().ok()?,
                _ => return None,
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            return None;
        }
        Some(Yuan::from_fen(fen))
    }

    fn unsigned<T: TryFrom<u64>>(&mut self) -> Option<T> {
        self.skip_ws();
        let digits = self.digits();
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        T::try_from(digits.parse::<u64>().ok()?).ok()
    }

    /// Calls `field` for each key of an object. The callers refuse a repeated key by filling
    /// each field once (`set`).
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Calls `element` for each element of an array.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(());
        }
        loop {
            element(self)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Fills `slot` once: a second value for the same key gives `None`.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.replace(value).is_none().then_some(())
}

fn person(cursor: &mut Cursor<'_>) -> Option<Person> {
    let mut id_number = None;
    let mut name = None;
    let mut relation = None;
    let mut labour_capacity = None;
    let mut disability = None;
    let mut serious_illness = None;
    let mut schooling = None;
    let mut care_need = None;
    let mut income_12m = None;
    let mut supporters = None;
    cursor.object(|cursor, key| match key {
        "id_number" => set(&mut id_number, NationalId::parse(cursor.string()?).ok()?),
        "name" => set(&mut name, cursor.string()?),
        "relation" => set(&mut relation, Relation::from_code(cursor.string()?)?),
        "labour_capacity" => set(
            &mut labour_capacity,
            LabourCapacity::from_code(cursor.string()?)?,
        ),
        "disability" => {
            let value = if cursor.null() {
                None
            } else {
                let mut kind = None;
                let mut grade = None;
                cursor.object(|cursor, key| match key {
                    "kind" => set(&mut kind, DisabilityKind::from_code(cursor.string()?)?),
                    "grade" => set(
                        &mut grade,
                        cursor
                            .unsigned::<u8>()
                            .filter(|grade| (1..=4).contains(grade))?,
                    ),
                    _ => None,
                })?;
                Some(Disability {
                    kind: kind?,
                    grade: grade?,
                })
            };
            set(&mut disability, value)
        }
        "serious_illness" => set(&mut serious_illness, cursor.boolean()?),
        "schooling" => set(&mut schooling, Schooling::from_code(cursor.string()?)?),
        "care_need" => set(&mut care_need, CareNeed::from_code(cursor.string()?)?),
        "income_12m" => {
            let value = if cursor.null() {
                None
            } else {
                Some(cursor.money()?)
            };
            set(&mut income_12m, value)
        }
        "supporters" => {
            let mut list = Vec::new();
            cursor.array(|cursor| {
                let mut relation = None;
                let mut able = None;
                cursor.object(|cursor, key| match key {
                    "relation" => set(&mut relation, Relation::from_code(cursor.string()?)?),
                    "able" => set(&mut able, cursor.boolean()?),
                    _ => None,
                })?;
                list.push(Supporter {
                    relation: relation?,
                    able: able.unwrap_or(false),
                });
                Some(())
            })?;
            set(&mut supporters, list)
        }
        _ => None,
    })?;
    let name = name.unwrap_or_default().trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return None;
    }
    Some(Person {
        id_number: id_number?,
        name: name.to_owned(),
        relation: relation?,
        labour_capacity: labour_capacity.unwrap_or(LabourCapacity::Full),
        disability: disability.flatten(),
        serious_illness: serious_illness.unwrap_or(false),
        schooling: schooling.unwrap_or(Schooling::None),
        care_need: care_need.unwrap_or(CareNeed::SelfCare),
        income_12m: income_12m.flatten(),
        supporters: supporters.unwrap_or_default(),
    })
}

/// Reads a household line the quick way, or `None` to leave it to `domain::interchange`.
pub(crate) fn household(text: &str) -> Option<Household> {
    let mut cursor = Cursor { text, pos: 0 };
    let mut id = None;
    let mut area = None;
    let mut hukou = None;
    let mut lifted_from_poverty = None;
    let mut members: Option<Vec<Person>> = None;
    let mut income = None;
    let mut property = None;
    let mut rigid = None;
    let mut guarantees = None;
    let mut risks = None;
    let mut months_above_monitoring_line = None;
    cursor.object(|cursor, key| match key {
        "id" => set(&mut id, cursor.string()?.trim()),
        "area_code" => set(
            &mut area,
            PlaceCode::parse(cursor.string()?)
                .ok()
                .filter(|area| area.level() >= PlaceLevel::Village)?,
        ),
        "hukou" => set(&mut hukou, Hukou::from_code(cursor.string()?)?),
        "lifted_from_poverty" => set(&mut lifted_from_poverty, cursor.boolean()?),
        "members" => {
            let mut list: Vec<Person> = Vec::new();
            cursor.array(|cursor| {
                let person = person(cursor)?;
                if list
                    .iter()
                    .any(|earlier| earlier.id_number == person.id_number)
                {
                    return None;
                }
                list.push(person);
                Some(())
            })?;
            set(&mut members, list)
        }
        "income_12m" => {
            let [
                mut wages,
                mut business,
                mut property,
                mut transfer,
                mut other,
                mut excluded,
            ] = [None; 6];
            cursor.object(|cursor, key| {
                let amount = cursor.money()?;
                match key {
                    "wages" => set(&mut wages, amount),
                    "business" => set(&mut business, amount),
                    "property" => set(&mut property, amount),
                    "transfer" => set(&mut transfer, amount),
                    "other" => set(&mut other, amount),
                    "excluded" => set(&mut excluded, amount),
                    _ => None,
                }
            })?;
            let or_zero = |amount: Option<Yuan>| amount.unwrap_or(Yuan::ZERO);
            set(
                &mut income,
                Income {
                    wages: or_zero(wages),
                    business: or_zero(business),
                    property: or_zero(property),
                    transfer: or_zero(transfer),
                    other: or_zero(other),
                    excluded: or_zero(excluded),
                },
            )
        }
        "property" => {
            let mut financial_assets = None;
            let mut vehicles = None;
            let mut extra_houses = None;
            let mut business_registered = None;
            cursor.object(|cursor, key| match key {
                "financial_assets" => set(&mut financial_assets, cursor.money()?),
                "vehicles" => {
                    let mut list = Vec::new();
                    cursor.array(|cursor| {
                        let mut kind = None;
                        let mut value = None;
                        cursor.object(|cursor, key| match key {
                            "kind" => set(&mut kind, VehicleKind::from_code(cursor.string()?)?),
                            "value" => set(&mut value, cursor.money()?),
                            _ => None,
                        })?;
                        list.push(Vehicle {
                            kind: kind?,
                            value: value?,
                        });
                        Some(())
                    })?;
                    set(&mut vehicles, list)
                }
                "extra_houses" => set(&mut extra_houses, cursor.unsigned()?),
                "business_registered" => set(&mut business_registered, cursor.boolean()?),
                _ => None,
            })?;
            set(
                &mut property,
                Property {
                    financial_assets: financial_assets.unwrap_or(Yuan::ZERO),
                    vehicles: vehicles.unwrap_or_default(),
                    extra_houses: extra_houses.unwrap_or(0),
                    business_registered: business_registered.unwrap_or(false),
                },
            )
        }
        "rigid_expenditure_12m" => {
            let [mut medical, mut education, mut rehabilitation, mut other] = [None; 4];
            cursor.object(|cursor, key| {
                let amount = cursor.money()?;
                match key {
                    "medical" => set(&mut medical, amount),
                    "education" => set(&mut education, amount),
                    "rehabilitation" => set(&mut rehabilitation, amount),
                    "other" => set(&mut other, amount),
                    _ => None,
                }
            })?;
            let or_zero = |amount: Option<Yuan>| amount.unwrap_or(Yuan::ZERO);
            set(
                &mut rigid,
                RigidExpenditure {
                    medical: or_zero(medical),
                    education: or_zero(education),
                    rehabilitation: or_zero(rehabilitation),
                    other: or_zero(other),
                },
            )
        }
        "guarantees" => {
            let [mut education, mut medical, mut housing, mut drinking_water] = [None; 4];
            cursor.object(|cursor, key| {
                let secured = cursor.boolean()?;
                match key {
                    "education" => set(&mut education, secured),
                    "medical" => set(&mut medical, secured),
                    "housing" => set(&mut housing, secured),
                    "drinking_water" => set(&mut drinking_water, secured),
                    _ => None,
                }
            })?;
            // A missing guarantee defaults to secured (HOUSEHOLD.md).
            let or_secured = |secured: Option<bool>| secured.unwrap_or(true);
            set(
                &mut guarantees,
                Guarantees {
                    education: or_secured(education),
                    medical: or_secured(medical),
                    housing: or_secured(housing),
                    drinking_water: or_secured(drinking_water),
                },
            )
        }
        "risks" => {
            let mut list = Vec::new();
            cursor.array(|cursor| {
                list.push(Risk::from_code(cursor.string()?)?);
                Some(())
            })?;
            set(&mut risks, list)
        }
        "months_above_monitoring_line" => {
            set(&mut months_above_monitoring_line, cursor.unsigned()?)
        }
        _ => None,
    })?;
    cursor.skip_ws();
    let members = members?;
    let heads = members
        .iter()
        .filter(|person| person.relation == Relation::Head)
        .count();
    if cursor.pos != text.len() || heads != 1 {
        return None;
    }
    Some(Household {
        id: domain::HouseholdNo::parse(id?).ok()?,
        area: area?,
        hukou: hukou.unwrap_or(Hukou::Rural),
        lifted_from_poverty: lifted_from_poverty.unwrap_or(false),
        members,
        income_12m: income.unwrap_or_default(),
        property: property.unwrap_or_default(),
        rigid_expenditure_12m: rigid.unwrap_or_default(),
        guarantees: guarantees.unwrap_or_default(),
        risks: risks.unwrap_or_default(),
        months_above_monitoring_line: months_above_monitoring_line.unwrap_or(0),
    })
}
