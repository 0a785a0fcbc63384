//! 比对规则: which warnings one feed record raises against the registry.
//!
//! Each rule is named (`WarningRule::code`, a word of `domain::states`) and reads its threshold from the catalogue; a rule whose
//! parameter has no value on the run's date does not fire and is listed in
//! `Thresholds::skipped`. Readings (where RULES.md leaves room) are written on each rule.

use crate::feed::{FeedKind, FeedRecord, IdKey};
use crate::registry::{HouseholdEntry, Registry};
use policy::{Param, Snapshot, Value};
use rust_decimal::prelude::ToPrimitive;
use std::hash::{Hash, Hasher};

/// 预警规则, 预警类型 and 预警等级: words of `domain::states`, where the stored warnings decode
/// to them (the rules' readings are written on `WarningRule`'s variants there).
pub use domain::states::{Severity, WarningKind, WarningRule};

/// 预警: one fact about one person that a rule found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warning {
    pub id_number: IdKey,
    /// Index in the registry (`None`: the person is not in the registry).
    pub household: Option<u32>,
    pub rule: WarningRule,
    pub inside_net: bool,
    /// Which feed of the run (index in the caller's list) and which line of it.
    pub feed: u32,
    pub line: u64,
    pub feed_kind: FeedKind,
    /// The record's value, hundredths.
    pub value: Option<i64>,
    /// The parameter the record broke.
    pub param: Option<Param>,
    /// Hash of the fact's identity beyond person and rule (the plate, the address …).
    fact: u64,
}

impl Warning {
    /// Same person, same rule, same fact: one warning however many feeds or lines say it.
    pub fn dedupe_key(&self) -> (u64, u64, u8) {
        (
            crate::registry::pack(&self.id_number),
            self.fact,
            self.rule as u8,
        )
    }
}

/// A real-estate record of an inside-net person, counted per household after the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HouseFact {
    household: u32,
    id_number: IdKey,
    fact: u64,
    feed: u32,
    line: u64,
    value: Option<i64>,
}

/// What comparing records produced so far (one per worker; merged by the caller).
#[derive(Clone, Debug, Default)]
pub struct Findings {
    pub warnings: Vec<Warning>,
    pub houses: Vec<HouseFact>,
}

/// The thresholds of a run, resolved once from the snapshot.
#[derive(Clone, Debug)]
pub struct Thresholds {
    vehicle_fen: Option<i64>,
    extra_houses: Option<i64>,
    business_allowed: Option<bool>,
    assets_months: Option<i64>,
    medical_fen: Option<i64>,
    disaster_fen: Option<i64>,
    tolerance: Option<f64>,
    /// `{"name":…,"value":…,"since":…,"source":…}` per parameter, indexed like `Param::ALL`.
    param_json: Vec<String>,
}

impl Thresholds {
    pub fn new(snapshot: &Snapshot) -> Thresholds {
        let param_json = Param::ALL
            .iter()
            .map(|param| {
                let dated = snapshot.get(*param);
                serde_json::json!({
                    "name": param.name(),
                    "value": dated.map(|dated| match dated.value {
                        Value::Money(yuan) => serde_json::json!(yuan.to_f64()),
                        Value::Decimal(decimal) => serde_json::json!(decimal.to_f64()),
                        Value::Integer(integer) => serde_json::json!(integer),
                        Value::Flag(flag) => serde_json::json!(flag),
                    }),
                    "since": dated.map(|dated| dated.since.to_string()),
                    "source": dated.map(|dated| dated.source.clone()),
                })
                .to_string()
            })
            .collect();
        Thresholds {
            vehicle_fen: snapshot
                .money(Param::PropertyVehicleValueLimit)
                .map(|yuan| yuan.fen()),
            extra_houses: snapshot.integer(Param::PropertyExtraHousesLimit),
            business_allowed: snapshot.flag(Param::PropertyBusinessAllowed),
            assets_months: snapshot.integer(Param::PropertyFinancialAssetsMonths),
            medical_fen: snapshot
                .money(Param::ComparisonMedicalLargeYuan)
                .map(|yuan| yuan.fen()),
            disaster_fen: snapshot
                .money(Param::ComparisonDisasterLargeYuan)
                .map(|yuan| yuan.fen()),
            tolerance: snapshot
                .decimal(Param::ComparisonIncomeTolerance)
                .and_then(|share| share.to_f64()),
            param_json,
        }
    }

    /// Rules that cannot fire in this run because their parameter has no value.
    pub fn skipped(&self) -> Vec<(WarningRule, Param)> {
        let mut skipped = Vec::new();
        let mut check = |present: bool, rule: WarningRule, param: Param| {
            if !present {
                skipped.push((rule, param));
            }
        };
        check(
            self.vehicle_fen.is_some(),
            WarningRule::VehicleOverLimit,
            Param::PropertyVehicleValueLimit,
        );
        check(
            self.extra_houses.is_some(),
            WarningRule::ExtraHouse,
            Param::PropertyExtraHousesLimit,
        );
        check(
            self.business_allowed.is_some(),
            WarningRule::BusinessOwner,
            Param::PropertyBusinessAllowed,
        );
        check(
            self.assets_months.is_some(),
            WarningRule::DepositOverLimit,
            Param::PropertyFinancialAssetsMonths,
        );
        check(
            self.medical_fen.is_some(),
            WarningRule::LargeMedicalCost,
            Param::ComparisonMedicalLargeYuan,
        );
        check(
            self.disaster_fen.is_some(),
            WarningRule::DisasterLoss,
            Param::ComparisonDisasterLargeYuan,
        );
        check(
            self.tolerance.is_some(),
            WarningRule::IncomeOverDeclared,
            Param::ComparisonIncomeTolerance,
        );
        skipped
    }

    pub fn param_json(&self, param: Param) -> &str {
        // `param_json` follows `Param::ALL`, which lists the variants in declaration order.
        self.param_json
            .get(param as usize)
            .filter(|_| Param::ALL.get(param as usize) == Some(&param))
            .map_or("null", String::as_str)
    }
}

fn fact_of(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Applies every rule to one record. Warnings and house records go to `findings`.
pub fn compare_record(
    record: &FeedRecord<'_>,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
    findings: &mut Findings,
) {
    let person = registry.person(&record.id_number).copied();
    compare_found(
        record,
        person.as_ref(),
        feed,
        registry,
        thresholds,
        findings,
    );
}

/// `compare_record` with the registry lookup already done (`person`: the record's person, if
/// any). Callers look up a batch of records first, so that the lookups' memory accesses
/// overlap, then apply the rules.
pub fn compare_found(
    record: &FeedRecord<'_>,
    person: Option<&crate::registry::PersonEntry>,
    feed: u32,
    registry: &Registry,
    thresholds: &Thresholds,
    findings: &mut Findings,
) {
    let inside_net = person.is_some_and(|person| person.inside_net);
    let mut warn = |rule: WarningRule, param: Option<Param>, fact: u64| {
        findings.warnings.push(Warning {
            id_number: record.id_number,
            household: person.map(|person| person.household),
            rule,
            inside_net,
            feed,
            line: record.line,
            feed_kind: record.kind,
            value: record.value,
            param,
            fact,
        });
    };
    if let Some(person) = person
        && !record.name.is_empty()
        && !person.same_name(record.name)
    {
        warn(WarningRule::NameMismatch, None, 0);
    }
    let value = record.value.unwrap_or(0);
    if let Some(person) = person.filter(|_| inside_net) {
        {
            let Some(household) = registry.household(person.household) else {
                return;
            };
            let fed_month = match record.kind {
                FeedKind::Wage | FeedKind::PublicPayroll => Some(value),
                FeedKind::Tax => Some(value / 12),
                _ => None,
            };
            match record.kind {
                FeedKind::Death => warn(WarningRule::Death, None, 0),
                FeedKind::Vehicle => {
                    if let Some(limit) = thresholds.vehicle_fen
                        && value > limit
                    {
                        warn(
                            WarningRule::VehicleOverLimit,
                            Some(Param::PropertyVehicleValueLimit),
                            fact_of(record.detail),
                        );
                    }
                }
                FeedKind::RealEstate if thresholds.extra_houses.is_some() => {
                    findings.houses.push(HouseFact {
                        household: person.household,
                        id_number: record.id_number,
                        fact: fact_of(record.detail),
                        feed,
                        line: record.line,
                        value: record.value,
                    });
                }
                FeedKind::Business if thresholds.business_allowed == Some(false) => {
                    warn(
                        WarningRule::BusinessOwner,
                        Some(Param::PropertyBusinessAllowed),
                        fact_of(record.detail),
                    );
                }
                FeedKind::Deposit => {
                    if let (Some(months), Some(standard)) =
                        (thresholds.assets_months, household.standard_month_fen)
                    {
                        let limit = months * standard * i64::from(household.members);
                        if value > limit {
                            warn(
                                WarningRule::DepositOverLimit,
                                Some(Param::PropertyFinancialAssetsMonths),
                                fact_of(record.detail),
                            );
                        }
                    }
                }
                FeedKind::ProvidentFund if value > 0 && person.declared_month_fen == 0 => {
                    warn(WarningRule::FormalJobUndeclared, None, 0);
                }
                _ => {}
            }
            if record.kind == FeedKind::PublicPayroll {
                warn(WarningRule::PublicPayroll, None, 0);
            }
            if let Some(fed_month) = fed_month {
                if let Some(tolerance) = thresholds.tolerance {
                    let allowed = person.declared_month_fen as f64 * (1.0 + tolerance);
                    if fed_month as f64 > allowed {
                        warn(
                            WarningRule::IncomeOverDeclared,
                            Some(Param::ComparisonIncomeTolerance),
                            0,
                        );
                    }
                }
                if let Some(line) = household.line_month_fen {
                    let members = i64::from(household.members.max(1));
                    let income = household.income_month_fen - person.declared_month_fen + fed_month;
                    // Per person-month above the line: income > line × members.
                    if income > line * members {
                        warn(WarningRule::IncomeOverLine, household.line_param, 0);
                    }
                }
            }
        }
    }
    {
        {
            if person.is_some() && !inside_net && record.kind == FeedKind::Death {
                warn(WarningRule::Death, None, 0);
            }
            if person.is_some_and(|person| person.high_category) {
                return;
            }
            match record.kind {
                FeedKind::Medical => {
                    if let Some(limit) = thresholds.medical_fen
                        && value > limit
                    {
                        warn(
                            WarningRule::LargeMedicalCost,
                            Some(Param::ComparisonMedicalLargeYuan),
                            0,
                        );
                    }
                }
                FeedKind::Disability => {
                    let recorded = person.map_or(0, |person| person.disability_grade);
                    let fed = u8::try_from(value / 100).unwrap_or(0);
                    if recorded == 0 || fed < recorded {
                        warn(WarningRule::NewDisability, None, u64::from(fed));
                    }
                }
                FeedKind::Disaster => {
                    if let Some(limit) = thresholds.disaster_fen
                        && value > limit
                    {
                        warn(
                            WarningRule::DisasterLoss,
                            Some(Param::ComparisonDisasterLargeYuan),
                            0,
                        );
                    }
                }
                FeedKind::Unemployment => warn(WarningRule::Unemployment, None, 0),
                FeedKind::School if record.detail == "dropout" || record.detail == "辍学" => {
                    warn(WarningRule::SchoolDropout, None, 0);
                }
                FeedKind::Monitoring if !inside_net => {
                    warn(WarningRule::MonitoredElsewhere, None, 0)
                }
                _ => {}
            }
        }
    }
}

/// The `extra_house` rule over the run's house records: per household, distinct (person,
/// detail) houses beyond the one lived in plus `property.extra_houses_limit` each give a warning.
pub fn extra_houses(
    houses: &mut Vec<HouseFact>,
    registry: &Registry,
    thresholds: &Thresholds,
) -> Vec<Warning> {
    let Some(limit) = thresholds.extra_houses else {
        return Vec::new();
    };
    houses.sort_unstable();
    houses.dedup_by(|later, earlier| {
        (later.household, later.id_number, later.fact)
            == (earlier.household, earlier.id_number, earlier.fact)
    });
    let mut warnings = Vec::new();
    let mut start = 0;
    while start < houses.len() {
        let household = houses[start].household;
        let end = houses[start..]
            .iter()
            .position(|house| house.household != household)
            .map_or(houses.len(), |offset| start + offset);
        let allowed = usize::try_from(limit.max(0)).unwrap_or(0) + 1;
        for house in houses[start..end].iter().skip(allowed) {
            warnings.push(Warning {
                id_number: house.id_number,
                household: Some(household),
                rule: WarningRule::ExtraHouse,
                inside_net: registry
                    .household(household)
                    .is_some_and(HouseholdEntry::inside_net),
                feed: house.feed,
                line: house.line,
                feed_kind: FeedKind::RealEstate,
                value: house.value,
                param: Some(Param::PropertyExtraHousesLimit),
                fact: house.fact,
            });
        }
        start = end;
    }
    warnings
}

/// The 不重不漏 warnings of the registry itself (one per duplicate listing).
pub fn duplicate_warnings(registry: &Registry) -> Vec<Warning> {
    registry
        .duplicates()
        .iter()
        .map(|duplicate| Warning {
            id_number: duplicate.id_number,
            household: Some(duplicate.second),
            rule: WarningRule::DuplicateEnrolment,
            inside_net: registry
                .household(duplicate.second)
                .is_some_and(HouseholdEntry::inside_net),
            feed: u32::MAX,
            line: 0,
            feed_kind: FeedKind::Monitoring,
            value: None,
            param: None,
            fact: u64::from(duplicate.first),
        })
        .collect()
}

/// Decimal digits of `value`, without the formatting machinery (this runs once a warning).
fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn push_hundredths(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    let absolute = value.unsigned_abs();
    push_u64(out, absolute / 100);
    let cents = absolute % 100;
    if cents != 0 {
        out.extend_from_slice(&[b'.', b'0' + (cents / 10) as u8, b'0' + (cents % 10) as u8]);
    }
}

fn push_json_string(out: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

impl Warning {
    /// One JSON line (with `\n`): `feeds` names the run's feeds by index.
    pub fn write_json(
        &self,
        registry: &Registry,
        thresholds: &Thresholds,
        feeds: &[String],
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(b"{\"id_number\":\"");
        out.extend_from_slice(&self.id_number);
        out.extend_from_slice(b"\",\"household_id\":");
        match self
            .household
            .and_then(|index| registry.household_id(index))
        {
            Some(id) => push_json_string(out, id),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(self.rule.kind().code().as_bytes());
        out.extend_from_slice(b"\",\"rule\":\"");
        out.extend_from_slice(self.rule.code().as_bytes());
        out.extend_from_slice(if self.inside_net {
            b"\",\"inside_net\":true,\"severity\":\""
        } else {
            b"\",\"inside_net\":false,\"severity\":\""
        });
        out.extend_from_slice(self.rule.severity().code().as_bytes());
        out.extend_from_slice(b"\",\"feed\":");
        match feeds.get(self.feed as usize) {
            Some(feed) => push_json_string(out, feed),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"line\":");
        push_u64(out, self.line);
        if self.rule != WarningRule::DuplicateEnrolment {
            out.extend_from_slice(b",\"feed_kind\":\"");
            out.extend_from_slice(self.feed_kind.code().as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b",\"value\":");
        match self.value {
            Some(value) => push_hundredths(out, value),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"param\":");
        match self.param {
            Some(param) => out.extend_from_slice(thresholds.param_json(param).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}\n");
    }
}

/// One warning per fact (same person, rule and fact), the first kept.
pub fn distinct(warnings: &mut Vec<Warning>) {
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|warning| seen.insert(warning.dedupe_key()));
}

/// P3 at intake: what every stored fact about one household's members raises against that
/// household alone (`records`: each with the index of its feed in the caller's list), by the
/// same rules as a comparison run over the registry.
pub fn compare_household<'r>(
    household: crate::registry::Summary,
    records: impl IntoIterator<Item = (u32, FeedRecord<'r>)>,
    thresholds: &Thresholds,
) -> Vec<Warning> {
    let mut registry = Registry::default();
    registry.add(household);
    let mut findings = Findings::default();
    for (feed, record) in records {
        compare_record(&record, feed, &registry, thresholds, &mut findings);
    }
    let mut found = std::mem::take(&mut findings.warnings);
    found.extend(extra_houses(&mut findings.houses, &registry, thresholds));
    distinct(&mut found);
    found
}
