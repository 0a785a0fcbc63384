//! The household interchange format, version 1 (`spec/HOUSEHOLD.md`): serde records and their
//! conversion to and from `Household`. Unknown fields are refused and named; missing optional
//! fields take the spec's defaults; every other fault names the field it concerns.

use crate::household::{
    CareNeed, Disability, DisabilityKind, Guarantees, Household, Hukou, Income, LabourCapacity,
    Person, Property, Relation, RigidExpenditure, Risk, Schooling, Supporter, Vehicle, VehicleKind,
};
use crate::{NationalId, PlaceCode, Yuan};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The longest name a member may have, in characters.
pub const NAME_MAX_CHARS: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdRecord {
    pub id: String,
    pub area_code: String,
    #[serde(default = "rural")]
    pub hukou: String,
    #[serde(default)]
    pub lifted_from_poverty: bool,
    pub members: Vec<PersonRecord>,
    #[serde(default)]
    pub income_12m: IncomeRecord,
    #[serde(default)]
    pub property: PropertyRecord,
    #[serde(default)]
    pub rigid_expenditure_12m: RigidRecord,
    #[serde(default)]
    pub guarantees: GuaranteesRecord,
    #[serde(default)]
    pub risks: Vec<String>,
    #[serde(default)]
    pub months_above_monitoring_line: u32,
}

fn rural() -> String {
    "rural".to_owned()
}
fn full() -> String {
    "full".to_owned()
}
fn none() -> String {
    "none".to_owned()
}
fn self_care() -> String {
    "self".to_owned()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    pub id_number: String,
    #[serde(default)]
    pub name: String,
    pub relation: String,
    #[serde(default = "full")]
    pub labour_capacity: String,
    #[serde(default)]
    pub disability: Option<DisabilityRecord>,
    #[serde(default)]
    pub serious_illness: bool,
    #[serde(default = "none")]
    pub schooling: String,
    #[serde(default = "self_care")]
    pub care_need: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_12m: Option<f64>,
    #[serde(default)]
    pub supporters: Vec<SupporterRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabilityRecord {
    pub kind: String,
    pub grade: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupporterRecord {
    pub relation: String,
    #[serde(default)]
    pub able: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomeRecord {
    #[serde(default)]
    pub wages: f64,
    #[serde(default)]
    pub business: f64,
    #[serde(default)]
    pub property: f64,
    #[serde(default)]
    pub transfer: f64,
    #[serde(default)]
    pub other: f64,
    #[serde(default)]
    pub excluded: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyRecord {
    #[serde(default)]
    pub financial_assets: f64,
    #[serde(default)]
    pub vehicles: Vec<VehicleRecord>,
    #[serde(default)]
    pub extra_houses: u32,
    #[serde(default)]
    pub business_registered: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VehicleRecord {
    pub kind: String,
    pub value: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RigidRecord {
    #[serde(default)]
    pub medical: f64,
    #[serde(default)]
    pub education: f64,
    #[serde(default)]
    pub rehabilitation: f64,
    #[serde(default)]
    pub other: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuaranteesRecord {
    #[serde(default = "yes")]
    pub education: bool,
    #[serde(default = "yes")]
    pub medical: bool,
    #[serde(default = "yes")]
    pub housing: bool,
    #[serde(default = "yes")]
    pub drinking_water: bool,
}

impl Default for GuaranteesRecord {
    fn default() -> Self {
        Self {
            education: true,
            medical: true,
            housing: true,
            drinking_water: true,
        }
    }
}

/// A fault in one field of a household record; `field` is a path such as `members[1].id_number`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidHousehold {
    pub field: String,
    pub reason: String,
}

fn fault(field: impl Into<String>, reason: impl Into<String>) -> InvalidHousehold {
    InvalidHousehold {
        field: field.into(),
        reason: reason.into(),
    }
}

impl TryFrom<&HouseholdRecord> for Household {
    type Error = InvalidHousehold;

    /// The same checks as the parsers, on a borrowed view of the record.
    fn try_from(record: &HouseholdRecord) -> Result<Self, Self::Error> {
        household_from_ref(&HouseholdRef::from(record))
    }
}

impl<'a> From<&'a HouseholdRecord> for HouseholdRef<'a> {
    fn from(record: &'a HouseholdRecord) -> Self {
        let text = |value: &'a String| Cow::Borrowed(value.as_str());
        HouseholdRef {
            id: text(&record.id),
            area_code: text(&record.area_code),
            hukou: text(&record.hukou),
            lifted_from_poverty: record.lifted_from_poverty,
            members: record
                .members
                .iter()
                .map(|member| PersonRef {
                    id_number: text(&member.id_number),
                    name: text(&member.name),
                    relation: text(&member.relation),
                    labour_capacity: text(&member.labour_capacity),
                    disability: member.disability.as_ref().map(|disability| DisabilityRef {
                        kind: text(&disability.kind),
                        grade: disability.grade,
                    }),
                    serious_illness: member.serious_illness,
                    schooling: text(&member.schooling),
                    care_need: text(&member.care_need),
                    income_12m: member.income_12m,
                    supporters: member
                        .supporters
                        .iter()
                        .map(|supporter| SupporterRef {
                            relation: text(&supporter.relation),
                            able: supporter.able,
                        })
                        .collect(),
                })
                .collect(),
            income_12m: record.income_12m.clone(),
            property: PropertyRef {
                financial_assets: record.property.financial_assets,
                vehicles: record
                    .property
                    .vehicles
                    .iter()
                    .map(|vehicle| VehicleRef {
                        kind: text(&vehicle.kind),
                        value: vehicle.value,
                    })
                    .collect(),
                extra_houses: record.property.extra_houses,
                business_registered: record.property.business_registered,
            },
            rigid_expenditure_12m: record.rigid_expenditure_12m.clone(),
            guarantees: record.guarantees.clone(),
            risks: record.risks.iter().map(text).collect(),
            months_above_monitoring_line: record.months_above_monitoring_line,
        }
    }
}

impl From<&Household> for HouseholdRecord {
    fn from(household: &Household) -> Self {
        let income = &household.income_12m;
        let rigid = &household.rigid_expenditure_12m;
        HouseholdRecord {
            id: household.id.as_str().to_owned(),
            area_code: household.area.as_str().to_owned(),
            hukou: household.hukou.code().to_owned(),
            lifted_from_poverty: household.lifted_from_poverty,
            members: household
                .members
                .iter()
                .map(|person| PersonRecord {
                    id_number: person.id_number.as_str().to_owned(),
                    name: person.name.clone(),
                    relation: person.relation.code().to_owned(),
                    labour_capacity: person.labour_capacity.code().to_owned(),
                    disability: person.disability.map(|d| DisabilityRecord {
                        kind: d.kind.code().to_owned(),
                        grade: d.grade,
                    }),
                    serious_illness: person.serious_illness,
                    schooling: person.schooling.code().to_owned(),
                    care_need: person.care_need.code().to_owned(),
                    income_12m: person.income_12m.map(Yuan::to_f64),
                    supporters: person
                        .supporters
                        .iter()
                        .map(|s| SupporterRecord {
                            relation: s.relation.code().to_owned(),
                            able: s.able,
                        })
                        .collect(),
                })
                .collect(),
            income_12m: IncomeRecord {
                wages: income.wages.to_f64(),
                business: income.business.to_f64(),
                property: income.property.to_f64(),
                transfer: income.transfer.to_f64(),
                other: income.other.to_f64(),
                excluded: income.excluded.to_f64(),
            },
            property: PropertyRecord {
                financial_assets: household.property.financial_assets.to_f64(),
                vehicles: household
                    .property
                    .vehicles
                    .iter()
                    .map(|v| VehicleRecord {
                        kind: v.kind.code().to_owned(),
                        value: v.value.to_f64(),
                    })
                    .collect(),
                extra_houses: household.property.extra_houses,
                business_registered: household.property.business_registered,
            },
            rigid_expenditure_12m: RigidRecord {
                medical: rigid.medical.to_f64(),
                education: rigid.education.to_f64(),
                rehabilitation: rigid.rehabilitation.to_f64(),
                other: rigid.other.to_f64(),
            },
            guarantees: GuaranteesRecord {
                education: household.guarantees.education,
                medical: household.guarantees.medical,
                housing: household.guarantees.housing,
                drinking_water: household.guarantees.drinking_water,
            },
            risks: household
                .risks
                .iter()
                .map(|r| r.code().to_owned())
                .collect(),
            months_above_monitoring_line: household.months_above_monitoring_line,
        }
    }
}

/// Parses one JSON line into a household; the error is a Chinese sentence naming the field.
pub fn parse_household_line(line: &str) -> Result<Household, String> {
    let record: HouseholdRecord = serde_json::from_str(line)
        .map_err(|error| describe_json_error_at(&error, json_path::<HouseholdRecord>(line)))?;
    Household::try_from(&record).map_err(|error| error.to_string())
}

/// The path (`members[1].income_12m`) of the first fault in `text` read as `T`, found by
/// reading it again with the path tracked: only failures pay for it.
pub fn json_path<'de, T: Deserialize<'de>>(text: &'de str) -> Option<String> {
    let mut reader = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Ok(_) => None,
        Err(error) => {
            let path = error.path().to_string();
            (path != "." && path != "?").then_some(path)
        }
    }
}

/// [`describe_json_error`] naming the field at `path` (from [`json_path`]).
pub fn describe_json_error_at(error: &serde_json::Error, path: Option<String>) -> String {
    let message = describe_json_error(error);
    match path {
        Some(path) if !message.starts_with("未知字段") && !message.starts_with("缺少必填字段") =>
        {
            format!("字段“{path}”：{message}")
        }
        _ => message,
    }
}

/// Renders a serde_json error in Chinese, keeping the field name serde reports.
pub fn describe_json_error(error: &serde_json::Error) -> String {
    let message = crate::input::shown_all(&error.to_string());
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return format!("未知字段“{field}”");
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return format!("缺少必填字段“{field}”");
    }
    format!("JSON格式错误（第{}列）：{message}", error.column())
}

// The borrowed fast path: the same format, read without allocating a string per field. It is
// what batch assessment uses for a million lines; `tests.rs` checks that it accepts and refuses
// exactly what `parse_household_line` does, with the same messages.

fn rural_code<'a>() -> Cow<'a, str> {
    Cow::Borrowed("rural")
}
fn full_code<'a>() -> Cow<'a, str> {
    Cow::Borrowed("full")
}
fn none_code<'a>() -> Cow<'a, str> {
    Cow::Borrowed("none")
}
fn self_code<'a>() -> Cow<'a, str> {
    Cow::Borrowed("self")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HouseholdRef<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    area_code: Cow<'a, str>,
    #[serde(borrow, default = "rural_code")]
    hukou: Cow<'a, str>,
    #[serde(default)]
    lifted_from_poverty: bool,
    #[serde(borrow)]
    members: Vec<PersonRef<'a>>,
    #[serde(default)]
    income_12m: IncomeRecord,
    #[serde(borrow, default)]
    property: PropertyRef<'a>,
    #[serde(default)]
    rigid_expenditure_12m: RigidRecord,
    #[serde(default)]
    guarantees: GuaranteesRecord,
    #[serde(borrow, default)]
    risks: Vec<Cow<'a, str>>,
    #[serde(default)]
    months_above_monitoring_line: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonRef<'a> {
    #[serde(borrow)]
    id_number: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    relation: Cow<'a, str>,
    #[serde(borrow, default = "full_code")]
    labour_capacity: Cow<'a, str>,
    #[serde(borrow, default)]
    disability: Option<DisabilityRef<'a>>,
    #[serde(default)]
    serious_illness: bool,
    #[serde(borrow, default = "none_code")]
    schooling: Cow<'a, str>,
    #[serde(borrow, default = "self_code")]
    care_need: Cow<'a, str>,
    #[serde(default)]
    income_12m: Option<f64>,
    #[serde(borrow, default)]
    supporters: Vec<SupporterRef<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisabilityRef<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    grade: u8,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupporterRef<'a> {
    #[serde(borrow)]
    relation: Cow<'a, str>,
    #[serde(default)]
    able: bool,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PropertyRef<'a> {
    #[serde(default)]
    financial_assets: f64,
    #[serde(borrow, default)]
    vehicles: Vec<VehicleRef<'a>>,
    #[serde(default)]
    extra_houses: u32,
    #[serde(default)]
    business_registered: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VehicleRef<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    value: f64,
}

/// `word` with the field path built only on failure.
fn word_at<T>(
    code: &str,
    from_code: fn(&str) -> Option<T>,
    field: impl FnOnce() -> String,
) -> Result<T, InvalidHousehold> {
    from_code(code)
        .ok_or_else(|| fault(field(), format!("无效取值“{}”", crate::input::shown(code))))
}

fn money_at(value: f64, field: impl FnOnce() -> String) -> Result<Yuan, InvalidHousehold> {
    match Yuan::from_f64(value) {
        Ok(yuan) if yuan < Yuan::ZERO => Err(fault(field(), "金额不能为负数")),
        Ok(yuan) => Ok(yuan),
        Err(error) => Err(fault(field(), error.to_string())),
    }
}

fn person_from_ref(idx: usize, member: &PersonRef<'_>) -> Result<Person, InvalidHousehold> {
    let path = |field: &str| format!("members[{idx}].{field}");
    let id_number = NationalId::parse(&member.id_number)
        .map_err(|error| fault(path("id_number"), error.to_string()))?;
    let disability = match &member.disability {
        None => None,
        Some(record) => {
            if !(1..=4).contains(&record.grade) {
                return Err(fault(path("disability.grade"), "残疾等级应为1至4级"));
            }
            Some(Disability {
                kind: word_at(&record.kind, DisabilityKind::from_code, || {
                    path("disability.kind")
                })?,
                grade: record.grade,
            })
        }
    };
    let mut supporters = Vec::with_capacity(member.supporters.len());
    for (sidx, supporter) in member.supporters.iter().enumerate() {
        supporters.push(Supporter {
            relation: word_at(&supporter.relation, Relation::from_code, || {
                path(&format!("supporters[{sidx}].relation"))
            })?,
            able: supporter.able,
        });
    }
    let name = member.name.trim();
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(fault(path("name"), "姓名过长"));
    }
    if let Some((at, c)) = crate::input::forbidden_char(name).or_else(|| {
        name.chars()
            .enumerate()
            .find(|(_, c)| matches!(c, '\n' | '\t' | '\r'))
            .map(|(at, c)| (at + 1, c))
    }) {
        return Err(fault(
            path("name"),
            format!("姓名{}", crate::input::forbidden_message(at, c)),
        ));
    }
    Ok(Person {
        id_number,
        name: name.to_owned(),
        relation: word_at(&member.relation, Relation::from_code, || path("relation"))?,
        labour_capacity: word_at(&member.labour_capacity, LabourCapacity::from_code, || {
            path("labour_capacity")
        })?,
        disability,
        serious_illness: member.serious_illness,
        schooling: word_at(&member.schooling, Schooling::from_code, || {
            path("schooling")
        })?,
        care_need: word_at(&member.care_need, CareNeed::from_code, || path("care_need"))?,
        income_12m: member
            .income_12m
            .map(|value| money_at(value, || path("income_12m")))
            .transpose()?,
        supporters,
    })
}

fn household_from_ref(record: &HouseholdRef<'_>) -> Result<Household, InvalidHousehold> {
    let id =
        crate::HouseholdNo::parse(&record.id).map_err(|error| fault("id", error.to_string()))?;
    let area = PlaceCode::parse(&record.area_code)
        .map_err(|error| fault("area_code", error.to_string()))?;
    if area.level() < crate::PlaceLevel::Village {
        return Err(fault("area_code", "应为村（社区）级区划代码"));
    }
    if record.members.is_empty() {
        return Err(fault("members", "至少需要一名家庭成员"));
    }
    let mut members: Vec<Person> = Vec::with_capacity(record.members.len());
    for (idx, member) in record.members.iter().enumerate() {
        let person = person_from_ref(idx, member)?;
        // Households are small: a scan beats hashing every number.
        if members
            .iter()
            .any(|earlier| earlier.id_number == person.id_number)
        {
            return Err(fault(
                format!("members[{idx}].id_number"),
                "同一户内身份证号重复",
            ));
        }
        members.push(person);
    }
    let heads = members
        .iter()
        .filter(|person| person.relation == Relation::Head)
        .count();
    if heads != 1 {
        return Err(fault(
            "members",
            format!("应有且仅有一名户主，实际{heads}名"),
        ));
    }
    let income = &record.income_12m;
    let property = &record.property;
    let rigid = &record.rigid_expenditure_12m;
    let mut vehicles = Vec::with_capacity(property.vehicles.len());
    for (idx, vehicle) in property.vehicles.iter().enumerate() {
        vehicles.push(Vehicle {
            kind: word_at(&vehicle.kind, VehicleKind::from_code, || {
                format!("property.vehicles[{idx}].kind")
            })?,
            value: money_at(vehicle.value, || format!("property.vehicles[{idx}].value"))?,
        });
    }
    let mut risks = Vec::with_capacity(record.risks.len());
    for (idx, risk) in record.risks.iter().enumerate() {
        risks.push(word_at(risk, Risk::from_code, || format!("risks[{idx}]"))?);
    }
    let named = |field: &'static str| move || field.to_owned();
    Ok(Household {
        id,
        area,
        hukou: word_at(&record.hukou, Hukou::from_code, named("hukou"))?,
        lifted_from_poverty: record.lifted_from_poverty,
        members,
        income_12m: Income {
            wages: money_at(income.wages, named("income_12m.wages"))?,
            business: money_at(income.business, named("income_12m.business"))?,
            property: money_at(income.property, named("income_12m.property"))?,
            transfer: money_at(income.transfer, named("income_12m.transfer"))?,
            other: money_at(income.other, named("income_12m.other"))?,
            excluded: money_at(income.excluded, named("income_12m.excluded"))?,
        },
        property: Property {
            financial_assets: money_at(
                property.financial_assets,
                named("property.financial_assets"),
            )?,
            vehicles,
            extra_houses: property.extra_houses,
            business_registered: property.business_registered,
        },
        rigid_expenditure_12m: RigidExpenditure {
            medical: money_at(rigid.medical, named("rigid_expenditure_12m.medical"))?,
            education: money_at(rigid.education, named("rigid_expenditure_12m.education"))?,
            rehabilitation: money_at(
                rigid.rehabilitation,
                named("rigid_expenditure_12m.rehabilitation"),
            )?,
            other: money_at(rigid.other, named("rigid_expenditure_12m.other"))?,
        },
        guarantees: Guarantees {
            education: record.guarantees.education,
            medical: record.guarantees.medical,
            housing: record.guarantees.housing,
            drinking_water: record.guarantees.drinking_water,
        },
        risks,
        months_above_monitoring_line: record.months_above_monitoring_line,
    })
}

/// `parse_household_line` over raw bytes, borrowing strings from the line while it reads
/// (the fast path of batch assessment). Same acceptance and messages; invalid UTF-8 is refused.
pub fn parse_household_bytes(line: &[u8]) -> Result<Household, String> {
    // One UTF-8 check of the whole line is cheaper than serde_json's check of every string.
    let text = std::str::from_utf8(line)
        .map_err(|error| format!("不是有效的UTF-8文本（第{}字节）", error.valid_up_to() + 1))?;
    let record: HouseholdRef<'_> = serde_json::from_str(text)
        .map_err(|error| describe_json_error_at(&error, json_path::<HouseholdRef<'_>>(text)))?;
    household_from_ref(&record).map_err(|error| error.to_string())
}

/// What a household record says that only "today" can refuse: a member born after `today`
/// (Beijing's date, passed in by the shell). The importers call it after parsing.
pub fn check_born_by(
    household: &Household,
    today: chrono::NaiveDate,
) -> Result<(), InvalidHousehold> {
    for (idx, person) in household.members.iter().enumerate() {
        let born = person.id_number.birth_date();
        if born > today {
            return Err(fault(
                format!("members[{idx}].id_number"),
                format!("身份证号中的出生日期{born}晚于今天（{today}）"),
            ));
        }
    }
    Ok(())
}
