//! Page forms: the one failure type every page form comes back with ([`FormError`]: the values
//! as typed and a Chinese message beside each field), the Chinese names of form fields, and the
//! household form (form fields ↔ the interchange record, field errors ↔ form fields).
//!
//! Each page form is a `Deserialize` struct read with axum's `Form`, turned into the use case's
//! input once, at the edge, by a `TryFrom` through the `domain::input` parsers; what it refuses
//! and what the use case refuses both become a [`FormError`], and the page is shown again with it.

use app::{AppError, FieldError};
use axum::http::StatusCode;
use domain::interchange::{
    DisabilityRecord, GuaranteesRecord, HouseholdRecord, IncomeRecord, PersonRecord,
    PropertyRecord, RigidRecord, SupporterRecord, VehicleRecord,
};
use domain::{
    CareNeed, DisabilityKind, Household, Hukou, LabourCapacity, Relation, Risk, Schooling,
    VehicleKind,
};
use std::collections::BTreeMap;

/// A page form shown again: every value as typed (by field name) and a Chinese message per
/// failing field (`form` for the form as a whole). A fresh form is one without errors.
#[derive(Clone, Debug, Default)]
pub struct FormError {
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    status: Option<StatusCode>,
    /// The page's own names of its fields, before the common ones of [`label`].
    labels: &'static [(&'static str, &'static str)],
}

impl FormError {
    /// A form holding `values` and no error yet (a fresh form, or one about to be checked).
    pub fn of<K: Into<String>, V: Into<String>>(values: impl IntoIterator<Item = (K, V)>) -> Self {
        FormError {
            values: values
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
            ..FormError::default()
        }
    }

    /// Records a message on `field` (the first message of a field stays).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// This form with a message on `field`.
    pub fn with(mut self, field: &str, message: impl Into<String>) -> Self {
        self.add(field, message);
        self
    }

    /// This form with the page's own Chinese names of fields (`name` is 名称 on the
    /// assistance item form, not 姓名).
    pub fn labelled(mut self, labels: &'static [(&'static str, &'static str)]) -> Self {
        self.labels = labels;
        self
    }

    /// The answer's status (422 unless a use case said otherwise).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// What a use case refused, beside the fields it names: a field fault beside its field
    /// (422), a conflict or a workflow refusal above the form (409), a record not found (404).
    pub fn failed(mut self, error: &AppError) -> Self {
        match error {
            AppError::Invalid(list) => {
                for FieldError { field, message } in list {
                    self.add(field, message.clone());
                }
                self.status.get_or_insert(StatusCode::UNPROCESSABLE_ENTITY);
            }
            AppError::Refused(_) | AppError::Conflict(_) => {
                self.add("form", error.message());
                self.status.get_or_insert(StatusCode::CONFLICT);
            }
            AppError::NotFound => {
                self.add("form", error.message());
                self.status.get_or_insert(StatusCode::NOT_FOUND);
            }
            other => {
                self.add("form", other.message());
                self.status.get_or_insert(StatusCode::UNPROCESSABLE_ENTITY);
            }
        }
        self
    }

    /// The value typed into `field` ("" when none).
    pub fn v(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    /// The message beside `field` ("" when it is fine).
    pub fn err(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }

    /// `invalid` (the class of a field in error) or "".
    pub fn invalid(&self, field: &str) -> &'static str {
        if self.errors.contains_key(field) {
            "invalid"
        } else {
            ""
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every value, by field name.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// Sets a value shown on the form (a default, or a stored value beside the typed ones).
    pub fn set(&mut self, field: &str, value: impl Into<String>) {
        self.values.insert(field.to_owned(), value.into());
    }

    /// Sets a value unless one was typed.
    pub fn default_value(&mut self, field: &str, value: impl Into<String>) {
        self.values
            .entry(field.to_owned())
            .or_insert_with(|| value.into());
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or(StatusCode::OK)
    }

    /// Every message, each naming its field in Chinese (`身份证号：校验位不符`), for the line
    /// above the form; "" when there is none.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|(field, message)| {
                let own = self
                    .labels
                    .iter()
                    .find(|(code, _)| code == field)
                    .map(|(_, label)| *label);
                (field, message, own.or_else(|| label(field)))
            })
            .map(|(field, message, label)| match label {
                Some(label) if field != "form" && !message.starts_with(label) => {
                    format!("{label}：{message}")
                }
                _ => message.clone(),
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else if self.errors.contains_key("form") && parts.len() == 1 {
            parts.join("")
        } else {
            format!("输入有误：{}", parts.join("；"))
        }
    }
}

/// The fields of a form whose names are data (a member row's `m3_name`, a category's
/// `verdict_dibao`, a repeated `team`): every field as sent, in order, repeated names kept.
/// Only typed forms read it (`#[serde(from = "FormFields")]`), never a handler.
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of `key` ("" when it was not sent).
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a repeated `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl From<FormFields> for HouseholdForm {
    fn from(fields: FormFields) -> Self {
        HouseholdForm::from_pairs(fields.0)
    }
}

impl<'de> serde::Deserialize<'de> for FormFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = FormFields;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("form fields")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FormFields, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(FormFields(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// The Chinese name of a page form's field (or a query parameter, or the last part of an API
/// path such as `members[0].name`); `None` for a field it does not know.
pub fn label(field: &str) -> Option<&'static str> {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    Some(match last {
        "name" | "head_name" | "person_name" => "姓名",
        "display_name" => "显示名称",
        "username" => "用户名",
        "password" => "密码",
        "password_confirm" => "再次输入的密码",
        "role" => "角色",
        "department" => "所属部门",
        "active" => "账户状态",
        "note" | "notes" => "备注",
        "reason" | "supplementary_reason" => "理由",
        "detail" => "说明",
        "comment" | "opinion" => "意见",
        "period" => "统计期",
        "q" => "查询内容",
        "area" | "area_code" | "village" => "区划",
        "source" => "数据来源",
        "value" => "参数值",
        "effective_from" | "from" => "生效日期",
        "on" | "date" => "日期",
        "on_date" => "日期",
        "received_on" => "受理日期",
        "id_number" => "身份证号",
        "phone" => "电话",
        "address" => "地址",
        "after" => "翻页位置",
        "channel" => "渠道",
        "kind" | "case_kind" => "案件类型",
        "household_id" => "户编号",
        "new_household_id" => "新户编号",
        "applicant" => "申请人",
        "consent" => "核对授权",
        "consent_signer" => "授权签字人",
        "consent_on" | "consent_signed_on" => "授权签字日期",
        "summary" => "事由",
        "findings" => "情况",
        "outcome" => "处理方式",
        "assignee" => "核实人员",
        "visited_on" => "核实日期",
        "visitors" => "核实人员",
        "judgement" => "研判结论",
        "disposition" => "处置方式",
        "household_size" => "家庭人口",
        "hardship" => "困难情况",
        "amount" => "金额",
        "delivered_on" => "落实日期",
        "item_code" => "帮扶事项",
        _ => return None,
    })
}

/// Member rows shown on a freshly opened form (blank rows are ignored on submit). Rows are
/// added (`add_member`) and removed (`remove_member=N`) without a limit but the data's.
pub const MEMBER_ROWS_MIN: usize = 4;
/// The per-member fields of the form, in order, with their Chinese names.
const MEMBER_FIELDS: [(&str, &str); 11] = [
    ("id_number", "身份证号"),
    ("name", "姓名"),
    ("relation", "与户主关系"),
    ("labour_capacity", "劳动能力"),
    ("disability_kind", "残疾类别"),
    ("disability_grade", "残疾等级"),
    ("serious_illness", "重病"),
    ("schooling", "在学阶段"),
    ("care_need", "护理需求"),
    ("income_12m", "本人年收入"),
    ("supporter", "外部赡养人"),
];
pub const VEHICLE_ROWS: usize = 2;

/// A code and its Chinese label, for a `<select>`.
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|&item| Choice {
            code: code(item),
            label: label(item),
        })
        .collect()
}

pub struct Vocabulary {
    pub hukou: Vec<Choice>,
    pub relation: Vec<Choice>,
    pub labour: Vec<Choice>,
    pub disability: Vec<Choice>,
    pub schooling: Vec<Choice>,
    pub care: Vec<Choice>,
    pub vehicle: Vec<Choice>,
    pub risks: Vec<Choice>,
}

impl Vocabulary {
    pub fn new() -> Self {
        Vocabulary {
            hukou: choices(Hukou::ALL, Hukou::code, Hukou::label),
            relation: choices(Relation::ALL, Relation::code, Relation::label),
            labour: choices(
                LabourCapacity::ALL,
                LabourCapacity::code,
                LabourCapacity::label,
            ),
            disability: choices(
                DisabilityKind::ALL,
                DisabilityKind::code,
                DisabilityKind::label,
            ),
            schooling: choices(Schooling::ALL, Schooling::code, Schooling::label),
            care: choices(CareNeed::ALL, CareNeed::code, CareNeed::label),
            vehicle: choices(VehicleKind::ALL, VehicleKind::code, VehicleKind::label),
            risks: choices(Risk::ALL, Risk::code, Risk::label),
        }
    }
}

/// One member row of the form, values as typed and errors per field.
#[derive(Default)]
pub struct MemberRow {
    pub i: usize,
    pub id_number: String,
    pub name: String,
    pub relation: String,
    pub labour_capacity: String,
    pub disability_kind: String,
    pub disability_grade: String,
    pub serious_illness: bool,
    pub schooling: String,
    pub care_need: String,
    pub income_12m: String,
    pub supporter: String,
    pub errors: Vec<String>,
    /// The fields of this row in error (`id_number`, …), marked on the form.
    pub bad: Vec<String>,
}

impl MemberRow {
    pub fn is_bad(&self, field: &str) -> bool {
        self.bad.iter().any(|f| f == field)
    }
}

/// The household form (新增/修改档案, 入户调查): values (by field name) and errors (by field
/// name). Its member rows are numbered (`m0_name`, `m1_name`, …) without a limit, so it is read
/// from the fields as sent.
#[derive(Default, serde::Deserialize)]
#[serde(from = "FormFields")]
pub struct HouseholdForm {
    values: BTreeMap<String, String>,
    flags: std::collections::BTreeSet<String>,
    errors: BTreeMap<String, String>,
    /// The form row of each member of the built record (blank rows skipped).
    member_map: Vec<usize>,
}

const MONEY_FIELDS: [(&str, &str); 11] = [
    ("inc_wages", "工资性收入"),
    ("inc_business", "经营净收入"),
    ("inc_property", "财产净收入"),
    ("inc_transfer", "转移净收入"),
    ("inc_other", "其他收入"),
    ("inc_excluded", "不计入收入"),
    ("prop_financial_assets", "金融资产"),
    ("rig_medical", "自付医疗费用"),
    ("rig_education", "教育支出"),
    ("rig_rehabilitation", "康复支出"),
    ("rig_other", "其他刚性支出"),
];

impl HouseholdForm {
    pub fn v(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    pub fn on(&self, key: &str) -> bool {
        self.flags.contains(key)
    }

    pub fn err(&self, key: &str) -> &str {
        self.errors.get(key).map_or("", String::as_str)
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn error_list(&self) -> Vec<String> {
        self.errors.values().cloned().collect()
    }

    pub fn add_error(&mut self, key: &str, message: &str) {
        self.errors
            .entry(key.to_owned())
            .or_insert_with(|| message.to_owned());
    }

    /// Rows up to the last member row that holds an ID number or a name (no cap: every
    /// `m{i}_…` field submitted counts).
    fn member_count(&self) -> usize {
        self.values
            .iter()
            .filter(|(key, value)| {
                (key.ends_with("_id_number") || key.ends_with("_name")) && !value.trim().is_empty()
            })
            .filter_map(|(key, _)| member_index(key))
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }

    /// The number of member rows the form shows: as many as were on the submitted form
    /// (`member_rows`), at least every filled one; a fresh form has two spare rows.
    pub fn member_rows(&self) -> usize {
        let count = self.member_count();
        match self.v("member_rows").trim().parse::<usize>() {
            Ok(rows) => rows.max(count).max(1),
            Err(_) => (count + 2).max(MEMBER_ROWS_MIN),
        }
    }

    /// Applies an `add_member` or `remove_member=N` button of the no-JavaScript form: returns
    /// whether one was pressed (then the form is shown again, nothing is saved).
    pub fn row_command(&mut self) -> bool {
        let rows = self.member_rows();
        if self.values.remove("add_member").is_some() {
            self.values
                .insert("member_rows".into(), (rows + 1).to_string());
            return true;
        }
        let Some(remove) = self
            .values
            .remove("remove_member")
            .map(|value| value.trim().parse::<usize>().ok())
        else {
            return false;
        };
        if let Some(gone) = remove.filter(|&n| n < rows) {
            for i in gone..rows {
                for (field, _) in MEMBER_FIELDS {
                    let from = format!("m{}_{field}", i + 1);
                    let to = format!("m{i}_{field}");
                    match self.values.remove(&from) {
                        Some(value) => {
                            self.values.insert(to.clone(), value);
                        }
                        None => {
                            self.values.remove(&to);
                        }
                    }
                    if self.flags.remove(&from) {
                        self.flags.insert(to);
                    } else {
                        self.flags.remove(&to);
                    }
                }
            }
            self.values
                .insert("member_rows".into(), (rows - 1).max(1).to_string());
        }
        true
    }

    pub fn members(&self) -> Vec<MemberRow> {
        let n_rows = self.member_rows();
        (0..n_rows)
            .map(|i| {
                let get = |field: &str| self.v(&format!("m{i}_{field}")).to_owned();
                let prefix = format!("m{i}_");
                let mine: Vec<(&String, &String)> = self
                    .errors
                    .iter()
                    .filter(|(key, _)| key.starts_with(&prefix))
                    .collect();
                MemberRow {
                    i,
                    id_number: get("id_number"),
                    name: get("name"),
                    relation: get("relation"),
                    labour_capacity: get("labour_capacity"),
                    disability_kind: get("disability_kind"),
                    disability_grade: get("disability_grade"),
                    serious_illness: self.on(&format!("m{i}_serious_illness")),
                    schooling: get("schooling"),
                    care_need: get("care_need"),
                    income_12m: get("income_12m"),
                    supporter: get("supporter"),
                    errors: mine.iter().map(|(_, message)| (*message).clone()).collect(),
                    bad: mine
                        .iter()
                        .map(|(key, _)| key[prefix.len()..].to_owned())
                        .collect(),
                }
            })
            .collect()
    }

    /// Records an error the application reported on a field of the household record
    /// (`members[5].id_number`), against the form field and named in Chinese.
    pub fn add_record_error(&mut self, field: &str, message: &str) {
        let key = form_key(field, &self.member_map);
        let label = field_label(field, &self.member_map);
        self.add_error(&key, &format!("{label}：{message}"));
    }

    pub fn vehicle_rows(&self) -> Vec<(usize, String, String)> {
        (0..VEHICLE_ROWS)
            .map(|k| {
                (
                    k,
                    self.v(&format!("veh{k}_kind")).to_owned(),
                    self.v(&format!("veh{k}_value")).to_owned(),
                )
            })
            .collect()
    }

    /// The form as submitted (checkboxes are present only when ticked).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = HouseholdForm::default();
        for (key, value) in pairs {
            if value == "on" {
                form.flags.insert(key.clone());
            }
            form.values.insert(key, value);
        }
        form
    }

    /// The form as sent, for the typed forms that hold it.
    pub fn from_fields(fields: &FormFields) -> Self {
        HouseholdForm::from_pairs(fields.pairs().to_vec())
    }

    /// An empty form with the spec's defaults.
    pub fn blank(area_code: &str) -> Self {
        let mut form = HouseholdForm::default();
        form.values.insert("hukou".into(), "rural".into());
        form.values.insert("area_code".into(), area_code.to_owned());
        for key in ["g_education", "g_medical", "g_housing", "g_drinking_water"] {
            form.flags.insert(key.into());
        }
        form
    }

    /// The form filled from a stored household.
    pub fn from_household(household: &Household) -> Self {
        let record = HouseholdRecord::from(household);
        let mut form = HouseholdForm::default();
        let mut set = |key: String, value: String| {
            form.values.insert(key, value);
        };
        set("id".into(), record.id.clone());
        set("area_code".into(), record.area_code.clone());
        set("hukou".into(), record.hukou.clone());
        set(
            "months_above_monitoring_line".into(),
            record.months_above_monitoring_line.to_string(),
        );
        let money = |value: f64| {
            if value == 0.0 {
                String::new()
            } else {
                format!("{value:.2}")
            }
        };
        let income = &record.income_12m;
        for (key, value) in [
            ("inc_wages", income.wages),
            ("inc_business", income.business),
            ("inc_property", income.property),
            ("inc_transfer", income.transfer),
            ("inc_other", income.other),
            ("inc_excluded", income.excluded),
            ("prop_financial_assets", record.property.financial_assets),
            ("rig_medical", record.rigid_expenditure_12m.medical),
            ("rig_education", record.rigid_expenditure_12m.education),
            (
                "rig_rehabilitation",
                record.rigid_expenditure_12m.rehabilitation,
            ),
            ("rig_other", record.rigid_expenditure_12m.other),
        ] {
            set(key.into(), money(value));
        }
        set(
            "prop_extra_houses".into(),
            record.property.extra_houses.to_string(),
        );
        for (k, vehicle) in record
            .property
            .vehicles
            .iter()
            .enumerate()
            .take(VEHICLE_ROWS)
        {
            set(format!("veh{k}_kind"), vehicle.kind.clone());
            set(format!("veh{k}_value"), money(vehicle.value));
        }
        for (i, member) in record.members.iter().enumerate() {
            set(format!("m{i}_id_number"), member.id_number.clone());
            set(format!("m{i}_name"), member.name.clone());
            set(format!("m{i}_relation"), member.relation.clone());
            set(
                format!("m{i}_labour_capacity"),
                member.labour_capacity.clone(),
            );
            set(format!("m{i}_schooling"), member.schooling.clone());
            set(format!("m{i}_care_need"), member.care_need.clone());
            if let Some(disability) = &member.disability {
                set(format!("m{i}_disability_kind"), disability.kind.clone());
                set(
                    format!("m{i}_disability_grade"),
                    disability.grade.to_string(),
                );
            }
            if let Some(income) = member.income_12m {
                set(format!("m{i}_income_12m"), format!("{income:.2}"));
            }
            let supporter = if member.supporters.is_empty() {
                ""
            } else if member.supporters.iter().any(|s| s.able) {
                "able"
            } else {
                "unable"
            };
            set(format!("m{i}_supporter"), supporter.to_owned());
        }
        let mut flags = Vec::new();
        if record.lifted_from_poverty {
            flags.push("lifted_from_poverty".to_owned());
        }
        if record.property.business_registered {
            flags.push("prop_business_registered".to_owned());
        }
        let guarantees = &record.guarantees;
        for (key, on) in [
            ("g_education", guarantees.education),
            ("g_medical", guarantees.medical),
            ("g_housing", guarantees.housing),
            ("g_drinking_water", guarantees.drinking_water),
        ] {
            if on {
                flags.push(key.to_owned());
            }
        }
        for risk in &record.risks {
            flags.push(format!("risk_{risk}"));
        }
        for (i, member) in record.members.iter().enumerate() {
            if member.serious_illness {
                flags.push(format!("m{i}_serious_illness"));
            }
        }
        for flag in flags {
            form.values.insert(flag.clone(), "on".into());
            form.flags.insert(flag);
        }
        form
    }

    /// Builds the household the form describes, or records the errors per field.
    /// `previous` keeps detail the form does not show (each member's list of supporters).
    pub fn build_household(&mut self, previous: Option<&Household>) -> Option<Household> {
        let number = |form: &mut HouseholdForm, key: &str, label: &str| -> f64 {
            let text = form.v(key).trim().to_owned();
            if text.is_empty() {
                return 0.0;
            }
            match domain::Yuan::parse(&text) {
                Ok(yuan) if yuan >= domain::Yuan::ZERO => yuan.to_f64(),
                _ => {
                    form.add_error(key, &format!("{label}应为不小于0、最多两位小数的金额"));
                    0.0
                }
            }
        };
        let mut money = BTreeMap::new();
        for (key, label) in MONEY_FIELDS {
            money.insert(key, number(self, key, label));
        }
        let count = |form: &mut HouseholdForm, key: &str, label: &str| -> u32 {
            let text = form.v(key).trim().to_owned();
            if text.is_empty() {
                return 0;
            }
            text.parse().unwrap_or_else(|_| {
                form.add_error(key, &format!("{label}应为非负整数"));
                0
            })
        };
        let extra_houses = count(self, "prop_extra_houses", "其他住房套数");
        let months = count(self, "months_above_monitoring_line", "连续高于监测线月数");
        let mut vehicles = Vec::new();
        for k in 0..VEHICLE_ROWS {
            let kind = self.v(&format!("veh{k}_kind")).to_owned();
            if kind.is_empty() {
                continue;
            }
            let value = number(self, &format!("veh{k}_value"), "车辆价值");
            vehicles.push(VehicleRecord { kind, value });
        }
        let mut members = Vec::new();
        let mut member_rows = Vec::new();
        for row in self.members() {
            if row.id_number.trim().is_empty() && row.name.trim().is_empty() {
                continue;
            }
            let income = if row.income_12m.trim().is_empty() {
                None
            } else {
                Some(number(
                    self,
                    &format!("m{}_income_12m", row.i),
                    &format!("第{}位成员 本人年收入", row.i + 1),
                ))
            };
            let disability = if row.disability_kind.is_empty() {
                None
            } else {
                match row.disability_grade.parse::<u8>() {
                    Ok(grade) => Some(DisabilityRecord {
                        kind: row.disability_kind.clone(),
                        grade,
                    }),
                    Err(_) => {
                        self.add_error(
                            &format!("m{}_disability_grade", row.i),
                            &format!("第{}位成员 残疾等级：请选择1至4级", row.i + 1),
                        );
                        None
                    }
                }
            };
            let kept = previous.and_then(|household| {
                household
                    .members
                    .iter()
                    .find(|p| p.id_number.as_str() == row.id_number.trim())
                    .map(|p| {
                        p.supporters
                            .iter()
                            .map(|s| SupporterRecord {
                                relation: s.relation.code().to_owned(),
                                able: s.able,
                            })
                            .collect::<Vec<_>>()
                    })
            });
            let supporters = match (row.supporter.as_str(), kept) {
                ("", _) => Vec::new(),
                (choice, Some(kept))
                    if !kept.is_empty() && kept.iter().any(|s| s.able) == (choice == "able") =>
                {
                    kept
                }
                (choice, _) => vec![SupporterRecord {
                    relation: "child".into(),
                    able: choice == "able",
                }],
            };
            members.push(PersonRecord {
                id_number: row.id_number.trim().to_owned(),
                name: row.name.trim().to_owned(),
                relation: row.relation.clone(),
                labour_capacity: if row.labour_capacity.is_empty() {
                    "full".into()
                } else {
                    row.labour_capacity.clone()
                },
                disability,
                serious_illness: row.serious_illness,
                schooling: if row.schooling.is_empty() {
                    "none".into()
                } else {
                    row.schooling.clone()
                },
                care_need: if row.care_need.is_empty() {
                    "self".into()
                } else {
                    row.care_need.clone()
                },
                income_12m: income,
                supporters,
            });
            member_rows.push(row.i);
        }
        self.member_map = member_rows.clone();
        let risks = Risk::ALL
            .iter()
            .filter(|risk| self.on(&format!("risk_{}", risk.code())))
            .map(|r| r.code().to_owned())
            .collect();
        let record = HouseholdRecord {
            id: self.v("id").trim().to_owned(),
            area_code: self.v("area_code").to_owned(),
            hukou: self.v("hukou").to_owned(),
            lifted_from_poverty: self.on("lifted_from_poverty"),
            members,
            income_12m: IncomeRecord {
                wages: money["inc_wages"],
                business: money["inc_business"],
                property: money["inc_property"],
                transfer: money["inc_transfer"],
                other: money["inc_other"],
                excluded: money["inc_excluded"],
            },
            property: PropertyRecord {
                financial_assets: money["prop_financial_assets"],
                vehicles,
                extra_houses,
                business_registered: self.on("prop_business_registered"),
            },
            rigid_expenditure_12m: RigidRecord {
                medical: money["rig_medical"],
                education: money["rig_education"],
                rehabilitation: money["rig_rehabilitation"],
                other: money["rig_other"],
            },
            guarantees: GuaranteesRecord {
                education: self.on("g_education"),
                medical: self.on("g_medical"),
                housing: self.on("g_housing"),
                drinking_water: self.on("g_drinking_water"),
            },
            risks,
            months_above_monitoring_line: months,
        };
        if self.has_errors() {
            return None;
        }
        match Household::try_from(&record) {
            Ok(household) => Some(household),
            Err(error) => {
                self.add_record_error(&error.field, &error.reason);
                None
            }
        }
    }
}

/// `members[1].id_number` → `m{row}_id_number`; `income_12m.wages` → `inc_wages`; …
pub fn form_key(field: &str, member_rows: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("members[") {
        if let Some((idx, sub)) = rest.split_once("].") {
            let row = idx
                .parse::<usize>()
                .ok()
                .and_then(|idx| member_rows.get(idx).copied())
                .unwrap_or(0);
            let sub = sub.replace('.', "_");
            return format!("m{row}_{}", sub.split('[').next().unwrap_or(&sub));
        }
        return "members".to_owned();
    }
    if let Some(rest) = field.strip_prefix("property.vehicles[") {
        let (idx, sub) = rest.split_once("].").unwrap_or(("0", "value"));
        return format!("veh{idx}_{sub}");
    }
    field
        .replace("income_12m.", "inc_")
        .replace("property.", "prop_")
        .replace("rigid_expenditure_12m.", "rig_")
        .replace('.', "_")
}

/// `m12_id_number` → 12.
fn member_index(key: &str) -> Option<usize> {
    key.strip_prefix('m')?.split('_').next()?.parse().ok()
}

/// The Chinese name of a record field, for error messages: a member's field names the form
/// row it was typed in (`第3位成员 身份证号`), never the record's code.
pub fn field_label(field: &str, member_rows: &[usize]) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    let person = field
        .strip_prefix("members[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|idx| idx.parse::<usize>().ok())
        .map(|idx| {
            format!(
                "第{}位成员",
                member_rows.get(idx).copied().unwrap_or(idx) + 1
            )
        });
    let member_field = MEMBER_FIELDS
        .iter()
        .find(|(code, _)| *code == last)
        .map(|(_, label)| *label);
    let name = match last {
        "id" => "户编号",
        "area_code" => "所在村（社区）",
        "hukou" => "户籍性质",
        "members" => "家庭成员",
        "grade" => "残疾等级",
        "kind" if field.contains("vehicles") => "车辆类别",
        "kind" => "残疾类别",
        "value" => "车辆价值",
        "supporters" => "外部赡养人",
        "disability" => "残疾情况",
        _ => member_field
            .or_else(|| {
                let key = form_key(field, member_rows);
                MONEY_FIELDS
                    .iter()
                    .find(|(code, _)| *code == key)
                    .map(|(_, label)| *label)
            })
            .unwrap_or(match last {
                "extra_houses" => "自住以外住房",
                "months_above_monitoring_line" => "连续高于监测线月数",
                "risks" => "风险点",
                _ => "家庭情况",
            }),
    };
    match person {
        Some(person) => format!("{person} {name}"),
        None => name.to_owned(),
    }
}
