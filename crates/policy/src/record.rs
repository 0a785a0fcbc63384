//! The determination in the output format of `spec/HOUSEHOLD.md` (one JSON object per household).
//!
//! Serialised by hand (no intermediate structs, no allocation) because `assess` writes a million
//! of these; money is a JSON number with at most two decimals.

use crate::catalogue::json::{Date, ParamJson};
use crate::explain::{ParamUse, Pending, Reason};
use crate::money::Money;
use crate::rules::{Determination, Grant};
use chrono::NaiveDate;
use domain::Yuan;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

/// A determination as written by `safetynet assess`: the household id and date beside it.
/// `explain: false` leaves the `explanation` array out (`--no-explain`).
#[derive(Clone, Copy, Debug)]
pub struct DeterminationRecord<'a, 's> {
    pub household_id: &'a str,
    pub as_of: NaiveDate,
    pub determination: &'a Determination<'s>,
    pub explain: bool,
}

impl Serialize for DeterminationRecord<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let determination = self.determination;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("household_id", self.household_id)?;
        map.serialize_entry("as_of", &Date(self.as_of))?;
        map.serialize_entry(
            "primary",
            &determination.primary.map(|category| category.code()),
        )?;
        map.serialize_entry("categories", &determination.categories)?;
        map.serialize_entry(
            "monitoring",
            &determination.monitoring.map(|kind| kind.code()),
        )?;
        map.serialize_entry(
            "monthly_benefit_yuan",
            &Money(determination.monthly_benefit),
        )?;
        map.serialize_entry(
            "income_per_capita_month_yuan",
            &Money(determination.income_per_capita_month),
        )?;
        map.serialize_entry("recheck_months", &determination.recheck_months)?;
        map.serialize_entry("pending", &determination.pending)?;
        if self.explain {
            map.serialize_entry("explanation", &determination.explanation)?;
        }
        map.end()
    }
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("category", self.category.code())?;
        map.serialize_entry("scope", self.scope.code())?;
        if let Some(id_number) = &self.id_number {
            map.serialize_entry("id_number", id_number.as_str())?;
        }
        map.serialize_entry("monthly_yuan", &self.monthly.map(Money))?;
        map.end()
    }
}

impl Serialize for Pending<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("rule", self.rule)?;
        map.serialize_entry("param", self.param.name())?;
        map.serialize_entry("text", self.text)?;
        map.end()
    }
}

impl Serialize for Reason<'_> {
    /// `pending` is written only for a pending test (待人工核定).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("rule", self.rule)?;
        map.serialize_entry("holds", &self.holds)?;
        if self.pending {
            map.serialize_entry("pending", &true)?;
        }
        map.serialize_entry("text", &self.text)?;
        map.serialize_entry("params", &Params(&self.params))?;
        map.end()
    }
}

struct Params<'a, 's>(&'a [ParamUse<'s>]);

impl Serialize for Params<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for used in self.0 {
            seq.serialize_element(used)?;
        }
        seq.end()
    }
}

impl Serialize for ParamUse<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ParamJson {
            param: self.param,
            value: self.value,
        }
        .serialize(serializer)
    }
}

/// `{"line": N, "error": "…"}`: the output line for an input line that cannot be read.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LineError<'a> {
    pub line: u64,
    pub error: &'a str,
}

/// True when a byte of `bytes` must be escaped in a JSON string. Folds whole blocks without
/// stopping early, which the compiler turns into vector instructions.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.chunks(32).any(|block| {
        block.iter().fold(false, |found, &byte| {
            found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
        })
    })
}

/// Appends `text` as a JSON string.
fn push_str_json(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    if !needs_escape(text.as_bytes()) {
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        out.pop();
        push_json(out, &text);
    }
}

/// Appends any value as serde_json writes it (into memory this cannot fail).
fn push_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

fn push_money(out: &mut Vec<u8>, amount: Option<Yuan>) {
    match amount {
        Some(yuan) => push_json(out, &yuan.to_f64()),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_code(out: &mut Vec<u8>, code: Option<&str>) {
    match code {
        Some(code) => push_str_json(out, code),
        None => out.extend_from_slice(b"null"),
    }
}

impl DeterminationRecord<'_, '_> {
    /// Appends the record as compact JSON: the same bytes as `serde_json::to_writer(out, self)`,
    /// several times faster, because each parameter's JSON was written once per snapshot.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let determination = self.determination;
        out.extend_from_slice(b"{\"household_id\":");
        push_str_json(out, self.household_id);
        out.extend_from_slice(b",\"as_of\":");
        push_json(out, &Date(self.as_of));
        out.extend_from_slice(b",\"primary\":");
        push_code(out, determination.primary.map(|category| category.code()));
        out.extend_from_slice(b",\"categories\":[");
        for (idx, grant) in determination.categories.iter().enumerate() {
            if idx > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"category\":");
            push_str_json(out, grant.category.code());
            out.extend_from_slice(b",\"scope\":");
            push_str_json(out, grant.scope.code());
            if let Some(id_number) = &grant.id_number {
                out.extend_from_slice(b",\"id_number\":");
                push_str_json(out, id_number.as_str());
            }
            out.extend_from_slice(b",\"monthly_yuan\":");
            push_money(out, grant.monthly);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"monitoring\":");
        push_code(out, determination.monitoring.map(|kind| kind.code()));
        out.extend_from_slice(b",\"monthly_benefit_yuan\":");
        push_money(out, Some(determination.monthly_benefit));
        out.extend_from_slice(b",\"income_per_capita_month_yuan\":");
        push_money(out, Some(determination.income_per_capita_month));
        out.extend_from_slice(b",\"recheck_months\":");
        push_json(out, &determination.recheck_months);
        out.extend_from_slice(b",\"pending\":[");
        for (idx, pending) in determination.pending.iter().enumerate() {
            if idx > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"rule\":");
            push_str_json(out, pending.rule);
            out.extend_from_slice(b",\"param\":");
            push_str_json(out, pending.param.name());
            out.extend_from_slice(b",\"text\":");
            push_str_json(out, pending.text);
            out.push(b'}');
        }
        out.push(b']');
        if self.explain {
            out.extend_from_slice(b",\"explanation\":[");
            for (idx, reason) in determination.explanation.iter().enumerate() {
                if idx > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"rule\":");
                push_str_json(out, reason.rule);
                out.extend_from_slice(match (reason.holds, reason.pending) {
                    (true, false) => b",\"holds\":true,\"text\":",
                    (false, false) => b",\"holds\":false,\"text\":",
                    (true, true) => b",\"holds\":true,\"pending\":true,\"text\":",
                    (false, true) => b",\"holds\":false,\"pending\":true,\"text\":",
                });
                push_str_json(out, &reason.text);
                out.extend_from_slice(b",\"params\":[");
                for (pidx, used) in reason.params.iter().enumerate() {
                    if pidx > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(used.json.as_bytes());
                }
                out.extend_from_slice(b"]}");
            }
            out.push(b']');
        }
        out.push(b'}');
    }
}
