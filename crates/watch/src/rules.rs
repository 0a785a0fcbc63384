//! 比对规则: which warnings one feed record raises against the registry.
//!
//! Each rule is named (`Rule::code`) and reads its threshold from the catalogue; a rule whose
//! parameter has no value on the run's date does not fire and is listed in
//! `Thresholds::skipped`. Readings (where RULES.md leaves room) are written on each rule.

use crate::feed::{FeedKind, FeedRecord, IdKey};
use crate::registry::{HouseholdEntry, Registry};
use policy::{Param, Snapshot, Value};
use rust_decimal::prelude::ToPrimitive;
use std::hash::{Hash, Hasher};

macro_rules! rules {
    ($($(#[$meta:meta])* $variant:ident = $code:literal / $kind:ident / $severity:ident,)+) => {
        /// A named comparison rule.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $($(#[$meta])* $variant,)+ }
        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)+];
            pub fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code,)+ }
            }
            pub fn kind(self) -> WarningKind {
                match self { $(Rule::$variant => WarningKind::$kind,)+ }
            }
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)+ }
            }
        }
    };
}

rules! {
    /// A registry person has died (any feed saying so; inside or outside the net).
    Death = "death" / Contradiction / High,
    /// The department's name differs from the registry's for the same ID number.
    NameMismatch = "name_mismatch" / NameMismatch / Low,
    /// One ID number listed by two households (不重不漏), found while indexing.
    DuplicateEnrolment = "duplicate_enrolment" / Duplicate / Medium,
    /// Inside the net: a vehicle assessed above `property.vehicle_value_limit`.
    VehicleOverLimit = "vehicle_over_limit" / Contradiction / High,
    /// Inside the net: the household's members hold more houses than the one lived in plus
    /// `property.extra_houses_limit` (real-estate records counted per household, one per
    /// person and `detail`).
    ExtraHouse = "extra_house" / Contradiction / High,
    /// Inside the net: a registered business where `property.business_allowed` is `false`.
    BusinessOwner = "business_owner" / Contradiction / High,
    /// Inside the net: one deposit balance above `property.financial_assets_months` ×
    /// 低保标准 (hukou) × members.
    DepositOverLimit = "deposit_over_limit" / Contradiction / High,
    /// Inside the net: fed monthly income (wage, public payroll; tax ÷ 12) above the person's
    /// declared monthly income × (1 + `comparison.income_tolerance`).
    IncomeOverDeclared = "income_over_declared" / Contradiction / Medium,
    /// Inside the net: with the person's declared income replaced by the fed one, the
    /// household's income per person-month is above its category's line (低保标准 by hukou for
    /// 低保, 特困基本生活标准 for 特困, × `dibao_edge.income_multiplier` for 低保边缘,
    /// `monitoring.income_line` ÷ 12 for monitoring objects).
    IncomeOverLine = "income_over_line" / Contradiction / High,
    /// Inside the net: a provident-fund deposit for a person who declared no income (a formal job).
    FormalJobUndeclared = "formal_job_undeclared" / Contradiction / Medium,
    /// Inside the net: on the public payroll (财政供养).
    PublicPayroll = "public_payroll" / Contradiction / High,
    /// Outside the net or below 低保 (特困 and 低保 are "high"): out-of-pocket medical cost above `comparison.medical_large_yuan`.
    LargeMedicalCost = "large_medical_cost" / PossibleNeed / Medium,
    /// Outside the net or below 低保: a disability grade not recorded (none, or a lighter one).
    NewDisability = "new_disability" / PossibleNeed / Medium,
    /// Outside the net or below 低保: a disaster loss above `comparison.disaster_large_yuan`.
    DisasterLoss = "disaster_loss" / PossibleNeed / Medium,
    /// Outside the net or below 低保: unemployment registered.
    Unemployment = "unemployment" / PossibleNeed / Low,
    /// Outside the net or below 低保: school drop-out (`detail` = `dropout` or 辍学).
    SchoolDropout = "school_dropout" / PossibleNeed / Medium,
    /// Outside the net: listed as a monitoring object by 农业农村.
    MonitoredElsewhere = "monitored_elsewhere" / PossibleNeed / Low,
}

/// 预警类型 and 预警等级: words of `domain::states`, where the stored warnings decode to them.
pub use domain::states::{Severity, WarningKind};

/// 预警: one fact about one person that a rule found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warning {
    pub id_number: IdKey,
    /// Index in the registry (`None`: the person is not in the registry).
    pub household: Option<u32>,
    pub rule: Rule,
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
    pub fn skipped(&self) -> Vec<(Rule, Param)> {
        let mut skipped = Vec::new();
        let mut check = |present: bool, rule: Rule, param: Param| {
            if !present {
                skipped.push((rule, param));
            }
        };
        check(
            self.vehicle_fen.is_some(),
            Rule::VehicleOverLimit,
            Param::PropertyVehicleValueLimit,
        );
        check(
            self.extra_houses.is_some(),
            Rule::ExtraHouse,
            Param::PropertyExtraHousesLimit,
        );
        check(
            self.business_allowed.is_some(),
            Rule::BusinessOwner,
            Param::PropertyBusinessAllowed,
        );
        check(
            self.assets_months.is_some(),
            Rule::DepositOverLimit,
            Param::PropertyFinancialAssetsMonths,
        );
        check(
            self.medical_fen.is_some(),
            Rule::LargeMedicalCost,
            Param::ComparisonMedicalLargeYuan,
        );
        check(
            self.disaster_fen.is_some(),
            Rule::DisasterLoss,
            Param::ComparisonDisasterLargeYuan,
        );
        check(
            self.tolerance.is_some(),
            Rule::IncomeOverDeclared,
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
    let mut warn = |rule: Rule, param: Option<Param>, fact: u64| {
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
        warn(Rule::NameMismatch, None, 0);
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
                FeedKind::Death => warn(Rule::Death, None, 0),
                FeedKind::Vehicle => {
                    if let Some(limit) = thresholds.vehicle_fen
                        && value > limit
                    {
                        warn(
                            Rule::VehicleOverLimit,
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
                        Rule::BusinessOwner,
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
                                Rule::DepositOverLimit,
                                Some(Param::PropertyFinancialAssetsMonths),
                                fact_of(record.detail),
                            );
                        }
                    }
                }
                FeedKind::ProvidentFund if value > 0 && person.declared_month_fen == 0 => {
                    warn(Rule::FormalJobUndeclared, None, 0);
                }
                _ => {}
            }
            if record.kind == FeedKind::PublicPayroll {
                warn(Rule::PublicPayroll, None, 0);
            }
            if let Some(fed_month) = fed_month {
                if let Some(tolerance) = thresholds.tolerance {
                    let allowed = person.declared_month_fen as f64 * (1.0 + tolerance);
                    if fed_month as f64 > allowed {
                        warn(
                            Rule::IncomeOverDeclared,
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
                        warn(Rule::IncomeOverLine, household.line_param, 0);
                    }
                }
            }
        }
    }
    {
        {
            if person.is_some() && !inside_net && record.kind == FeedKind::Death {
                warn(Rule::Death, None, 0);
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
                            Rule::LargeMedicalCost,
                            Some(Param::ComparisonMedicalLargeYuan),
                            0,
                        );
                    }
                }
                FeedKind::Disability => {
                    let recorded = person.map_or(0, |person| person.disability_grade);
                    let fed = u8::try_from(value / 100).unwrap_or(0);
                    if recorded == 0 || fed < recorded {
                        warn(Rule::NewDisability, None, u64::from(fed));
                    }
                }
                FeedKind::Disaster => {
                    if let Some(limit) = thresholds.disaster_fen
                        && value > limit
                    {
                        warn(
                            Rule::DisasterLoss,
                            Some(Param::ComparisonDisasterLargeYuan),
                            0,
                        );
                    }
                }
                FeedKind::Unemployment => warn(Rule::Unemployment, None, 0),
                FeedKind::School if record.detail == "dropout" || record.detail == "辍学" => {
                    warn(Rule::SchoolDropout, None, 0);
                }
                FeedKind::Monitoring if !inside_net => warn(Rule::MonitoredElsewhere, None, 0),
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
                rule: Rule::ExtraHouse,
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
            rule: Rule::DuplicateEnrolment,
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
        if self.rule != Rule::DuplicateEnrolment {
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
