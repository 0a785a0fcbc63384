//! 办理事项的输入: one action on a case, read from the API's JSON body or from a page form into
//! the same fields, then read by the action's fields as the vocabulary describes them
//! (`ActionKind::fields`: one reader for every action) and built by
//! `workflow::CaseAction::from_input`. Bad input is
//! `AppError::Invalid` naming the field in Chinese; whether the move is allowed is the
//! workflow's business (its refusal comes back from `app`).

#[cfg(test)]
mod tests;

use app::AppError;
use app::cases::{CaseAction, NewIntake};
use chrono::NaiveDate;
use domain::interchange::HouseholdRecord;
use domain::{Household, HouseholdNo, PlaceCode};
use serde_json::Value;
use std::collections::BTreeMap;
use workflow::fields::{self, Field, FieldKind, Input, ON, Value as FieldValue};
use workflow::{ActionKind, CaseKind, Channel, Consent};

/// The fields of an intake in the API's body (`POST /api/v1/cases`).
pub const INTAKE_FIELDS: [&str; 8] = [
    "kind",
    "channel",
    "household_id",
    "area_code",
    "applicant",
    "summary",
    "consent",
    "received_on",
];

/// The first key of `object` outside `known`, refused naming it; `prefix` names the enclosing
/// field (`verdicts[0].`).
pub fn refuse_unknown(
    object: &serde_json::Map<String, Value>,
    known: impl Fn(&str) -> bool,
    prefix: &str,
) -> Result<(), AppError> {
    match object.keys().find(|key| !known(key)) {
        Some(key) => Err(crate::error::unknown_field_error(&format!("{prefix}{key}"))),
        None => Ok(()),
    }
}

pub fn action_label(code: &str) -> &'static str {
    ActionKind::from_code(code).map_or("", ActionKind::label)
}

/// The fields of one action (or of an intake), whatever the source, as sent: read by the
/// action's fields (`ActionKind::fields`) in `to_action`.
#[derive(Clone, Debug, Default)]
pub struct ActionFields {
    pub action: String,
    scalars: BTreeMap<String, String>,
    /// The repeated fields (a survey's `team`), blanks left out.
    lists: BTreeMap<&'static str, Vec<String>>,
    /// The lists of records (a joint review's `verdicts` and `judgements`), each field as text.
    records: BTreeMap<&'static str, Vec<BTreeMap<&'static str, String>>>,
    pub household: Option<Household>,
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The household of a survey in the interchange format, errors named `household.<field>`.
pub fn household_from_json(value: &Value) -> Result<Household, AppError> {
    let record: HouseholdRecord = crate::input::record_from(value, "household.")?;
    Household::try_from(&record)
        .map_err(|error| AppError::invalid(format!("household.{}", error.field), error.reason))
}

/// The field of `kind` named `key`, when the action takes one.
fn described(kind: Option<ActionKind>, key: &str) -> Option<&'static Field> {
    kind?.fields().iter().find(|field| field.name == key)
}

impl ActionFields {
    pub fn get(&self, key: &str) -> &str {
        self.scalars.get(key).map_or("", |text| text.trim())
    }

    /// The values of a repeated field (a survey's `team`).
    pub fn list(&self, key: &str) -> &[String] {
        self.lists.get(key).map_or(&[], Vec::as_slice)
    }

    /// From the API's body: `{"action": "...", ...}`, each field as the action's entry in the
    /// vocabulary describes it (a list of user ids, a list of records, a household, a value).
    pub fn from_json(body: &Value) -> Result<ActionFields, AppError> {
        let object = body
            .as_object()
            .ok_or_else(|| AppError::invalid("body", "请求体应为JSON对象"))?;
        let mut fields = ActionFields::default();
        let action = object
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // An unknown action is named by `to_action`; its fields are not judged here.
        let kind = ActionKind::from_code(action);
        if let Some(kind) = kind {
            refuse_unknown(
                object,
                |key| key == "action" || key == ON.name || described(Some(kind), key).is_some(),
                "",
            )?;
        }
        // `null` is no value: a field given as null is a field left out.
        for (key, value) in object.iter().filter(|(_, value)| !value.is_null()) {
            let Some(field) = described(kind, key) else {
                if let Some(text) = scalar(value) {
                    fields.scalars.insert(key.clone(), text);
                }
                continue;
            };
            match field.kind {
                FieldKind::Users => {
                    let items = value.as_array().ok_or_else(|| {
                        AppError::invalid(field.name, format!("{}应为用户编号的数组", field.noun()))
                    })?;
                    fields
                        .lists
                        .insert(field.name, items.iter().filter_map(scalar).collect());
                }
                FieldKind::Records(item_fields) => {
                    let items = value.as_array().ok_or_else(|| {
                        AppError::invalid(field.name, format!("{}应为数组", field.noun()))
                    })?;
                    let mut records = Vec::with_capacity(items.len());
                    for (idx, item) in items.iter().enumerate() {
                        if let Some(entry) = item.as_object() {
                            refuse_unknown(
                                entry,
                                |key| item_fields.iter().any(|item| item.name == key),
                                &format!("{}[{idx}].", field.name),
                            )?;
                        }
                        records.push(
                            item_fields
                                .iter()
                                .map(|item_field| {
                                    let text = item
                                        .get(item_field.name)
                                        .and_then(scalar)
                                        .unwrap_or_default();
                                    (item_field.name, text)
                                })
                                .collect(),
                        );
                    }
                    fields.records.insert(field.name, records);
                }
                FieldKind::Household => fields.household = Some(household_from_json(value)?),
                _ => {
                    if let Some(text) = scalar(value) {
                        fields.scalars.insert(key.clone(), text);
                    }
                }
            }
        }
        fields.action = fields.get("action").to_owned();
        let missing: Vec<app::FieldError> = kind
            .map_or(&[][..], ActionKind::fields)
            .iter()
            .filter(|field| field.required && object.get(field.name).is_none_or(Value::is_null))
            .map(|field| app::FieldError {
                field: field.name.to_owned(),
                message: format!("缺少{}（{}）", field.label, field.name),
            })
            .collect();
        if !missing.is_empty() {
            return Err(AppError::Invalid(missing));
        }
        Ok(fields)
    }

    /// From a page form: a repeated field (`team`) as its values, and the joint review's
    /// records as the case page names them — `verdict_<category>` and `reason_<category>`,
    /// `judgement:<rule>:<param>` and `judgement_reason:<rule>:<param>`.
    pub fn from_form(pairs: &[(String, String)]) -> ActionFields {
        let mut fields = ActionFields::default();
        let kind = pairs
            .iter()
            .find(|(key, _)| key == "action")
            .and_then(|(_, code)| ActionKind::from_code(code.trim()));
        let mut verdicts: BTreeMap<String, BTreeMap<&'static str, String>> = BTreeMap::new();
        let mut judgements: BTreeMap<String, BTreeMap<&'static str, String>> = BTreeMap::new();
        for (key, value) in pairs {
            let judged = key
                .strip_prefix("judgement:")
                .map(|test| (test, "holds"))
                .or_else(|| {
                    key.strip_prefix("judgement_reason:")
                        .map(|test| (test, "reason"))
                });
            if let Some((test, part)) = judged {
                let entry = judgements.entry(test.to_owned()).or_default();
                let (rule, param) = test.split_once(':').unwrap_or((test, ""));
                entry.insert("rule", rule.to_owned());
                entry.insert("param", param.to_owned());
                entry.insert(part, value.clone());
            } else if let Some(field) =
                described(kind, key).filter(|field| field.kind == FieldKind::Users)
            {
                let list = fields.lists.entry(field.name).or_default();
                if !value.trim().is_empty() {
                    list.push(value.clone());
                }
            } else if let Some((code, part)) = key
                .strip_prefix("verdict_")
                .map(|code| (code, "verdict"))
                .or_else(|| key.strip_prefix("reason_").map(|code| (code, "reason")))
            {
                let entry = verdicts.entry(code.to_owned()).or_default();
                entry.insert("category", code.to_owned());
                entry.insert(part, value.clone());
            } else {
                fields.scalars.insert(key.clone(), value.clone());
            }
        }
        if !verdicts.is_empty() {
            fields
                .records
                .insert("verdicts", verdicts.into_values().collect());
        }
        if !judgements.is_empty() {
            fields
                .records
                .insert("judgements", judgements.into_values().collect());
        }
        fields.action = fields.get("action").to_owned();
        fields
    }

    /// `received_on` (受理日期) of an intake entered afterwards; `None` (today) when left out.
    pub fn received_on(&self) -> Result<Option<NaiveDate>, AppError> {
        if self.get("received_on").is_empty() {
            return Ok(None);
        }
        self.date("received_on", "受理日期", NaiveDate::MIN)
            .map(Some)
    }

    /// `on` (办理日期): the date the action happened, when it is entered afterwards; `None`
    /// (today) when left out.
    pub fn on(&self) -> Result<Option<NaiveDate>, AppError> {
        if self.get("on").is_empty() {
            return Ok(None);
        }
        self.date("on", "办理日期", NaiveDate::MIN).map(Some)
    }

    /// The date field `key`; when it is left out, `on` if given, else `today`.
    fn date(&self, key: &str, label: &str, today: NaiveDate) -> Result<NaiveDate, AppError> {
        let text = self.get(key);
        if text.is_empty() {
            if key != "on" && !self.get("on").is_empty() {
                return self.date("on", "办理日期", today);
            }
            return Ok(today);
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| AppError::invalid(key, format!("{label}“{text}”无效，应为YYYY-MM-DD")))
    }

    fn text(&self, key: &str) -> String {
        self.get(key).to_owned()
    }

    /// The action these fields describe: each field of its entry in the vocabulary read as its
    /// type (the first that cannot be is named), then the action built next to the machine
    /// (`CaseAction::from_input`), a date left out being `on` if given, else `today`.
    pub fn to_action(&self, today: NaiveDate) -> Result<CaseAction, AppError> {
        let kind = match self.action.as_str() {
            "" => return Err(AppError::invalid("action", "请指明办理事项（action）")),
            code => ActionKind::from_code(code)
                .ok_or_else(|| AppError::invalid("action", format!("未知的办理事项“{code}”")))?,
        };
        let mut input = Input::default();
        for field in kind.fields() {
            let value = match field.kind {
                FieldKind::Users => Some(fields::read_users(field, self.list(field.name))?),
                FieldKind::Records(_) => self
                    .records
                    .get(field.name)
                    .map(|records| FieldValue::Records(records.clone())),
                FieldKind::Household => self
                    .household
                    .clone()
                    .map(|household| FieldValue::Household(Box::new(household))),
                _ => fields::read_scalar(field, self.get(field.name))?,
            };
            if let Some(value) = value {
                input.set(field.name, value);
            }
        }
        let day = self.on()?.unwrap_or(today);
        Ok(CaseAction::from_input(kind, &input, day)?)
    }

    /// 受理登记 from these fields (`kind`, `channel`, `household_id`, `area_code`,
    /// `applicant`, `consent` (on/true) with `consent_signer` and `consent_signed_on`, `summary`).
    pub fn to_intake(&self, today: NaiveDate) -> Result<NewIntake, AppError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(app::FieldError {
                field: field.to_owned(),
                message,
            });
        };
        let kind = CaseKind::from_code(self.get("kind"));
        if kind.is_none() {
            fail("kind", "请选择案件类型".to_owned());
        }
        let channel = Channel::from_code(self.get("channel"));
        if channel.is_none() {
            fail("channel", "请选择受理渠道".to_owned());
        }
        let household_no = match self.get("household_id") {
            "" => {
                fail("household_id", "请填写户编号".to_owned());
                None
            }
            text => HouseholdNo::parse(text)
                .map_err(|error| fail("household_id", error.to_string()))
                .ok(),
        };
        let area = PlaceCode::parse(self.get("area_code")).ok();
        if area.is_none() {
            fail("area_code", "请选择所在村（社区）".to_owned());
        }
        let applicant = self.text("applicant");
        if applicant.is_empty() {
            fail("applicant", "请填写申请人姓名".to_owned());
        }
        let consent = if matches!(self.get("consent"), "on" | "true" | "1") {
            let signer = match self.get("consent_signer") {
                "" => applicant.clone(),
                signer => signer.to_owned(),
            };
            match self.date("consent_signed_on", "授权签署日期", today) {
                Ok(signed_on) => Some(Consent { signed_on, signer }),
                Err(AppError::Invalid(list)) => {
                    for error in list {
                        fail(&error.field, error.message);
                    }
                    None
                }
                Err(other) => return Err(other),
            }
        } else {
            None
        };
        match (kind, channel, household_no, area) {
            (Some(kind), Some(channel), Some(household_no), Some(area)) if errors.is_empty() => {
                Ok(NewIntake {
                    kind,
                    channel,
                    household_no,
                    area,
                    applicant,
                    consent,
                    summary: self.text("summary"),
                })
            }
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// The form field a workflow refusal is about, so the page shows it next to that field.
pub fn refusal_field(code: &str) -> &'static str {
    match code {
        "consent_missing" => "consent",
        "applicant_missing" => "applicant",
        "area_not_village" => "area_code",
        "team_too_small"
        | "team_member_unnamed"
        | "team_member_inactive"
        | "team_member_may_not_survey" => "team",
        "date_in_future" | "date_before_previous_step" => "date",
        "attendance_missing" => "attendance",
        "reason_missing" | "note_missing" => "reason",
        "proposal_undecided" | "not_proposed" | "decided_twice" => "verdicts",
        "monitoring_kind_missing" | "monitoring_kind_unexpected" => "monitoring_kind",
        "support_mode_missing" => "support_mode",
        "risk_elimination_reason_missing" => "summary",
        "monitoring_ends_only_by_risk_elimination" | "risk_not_eliminated" => "verdicts",
        _ => "",
    }
}
