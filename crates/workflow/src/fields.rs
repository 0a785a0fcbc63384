//! The fields an action takes, as data: each case action's entry in the vocabulary
//! (`ActionKind`) lists them — name, type, Chinese label, whether required — and the rest is
//! derived: `web` reads a JSON body or a page form by them into an `Input`, the API description
//! writes each action's request schema from them, and `CaseAction::from_input` (next to the
//! machine) builds the typed action from the `Input`.

use chrono::NaiveDate;
use domain::{Household, Words};
use std::collections::BTreeMap;

/// One field of an action: its wire name, its type, its Chinese label (the name a missing
/// field is called by: 缺少{label}（{name}）) and whether a body must give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// What a message about the value calls it when that differs from `label` (a `number`
    /// labelled 编号 is 疑点编号 in 疑点编号应为正整数; a choice's hint: 评议结果（同意或不同意）);
    /// "" for the label.
    pub noun: &'static str,
    /// What the API description says of the field beyond its type; "" for nothing.
    pub about: &'static str,
}

/// The type of a field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text (the workflow judges whether it may be empty).
    Text,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// A whole number, at least `minimum` in the API's description (0: no bound written).
    Number { minimum: u32 },
    /// true / false.
    Bool,
    /// A code of a word list of the vocabulary.
    Word(&'static Words),
    /// One of a few codes that are no word of the domain (a form's choice).
    Choice(&'static [&'static str]),
    /// A list of user ids (a survey's team).
    Users,
    /// A list of records, each with these fields (read as text; the builder judges them).
    Records(&'static [Field]),
    /// A household in the interchange form (`spec/HOUSEHOLD.md`).
    Household,
}

impl Field {
    const fn of(name: &'static str, label: &'static str, kind: FieldKind) -> Field {
        Field {
            name,
            label,
            kind,
            required: false,
            noun: "",
            about: "",
        }
    }

    pub const fn text(name: &'static str, label: &'static str) -> Field {
        Field::of(name, label, FieldKind::Text)
    }

    pub const fn date(name: &'static str, label: &'static str) -> Field {
        Field::of(name, label, FieldKind::Date)
    }

    pub const fn number(name: &'static str, label: &'static str) -> Field {
        Field::of(name, label, FieldKind::Number { minimum: 0 })
    }

    pub const fn bool(name: &'static str, label: &'static str) -> Field {
        Field::of(name, label, FieldKind::Bool)
    }

    pub const fn word(name: &'static str, label: &'static str, words: &'static Words) -> Field {
        Field::of(name, label, FieldKind::Word(words))
    }

    pub const fn choice(
        name: &'static str,
        label: &'static str,
        codes: &'static [&'static str],
    ) -> Field {
        Field::of(name, label, FieldKind::Choice(codes))
    }

    pub const fn users(name: &'static str, label: &'static str) -> Field {
        Field::of(name, label, FieldKind::Users)
    }

    pub const fn records(
        name: &'static str,
        label: &'static str,
        fields: &'static [Field],
    ) -> Field {
        Field::of(name, label, FieldKind::Records(fields))
    }

    pub const fn household(name: &'static str, label: &'static str) -> Field {
        Field::of(name, label, FieldKind::Household)
    }

    /// A body must give it (a missing one is named).
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// What messages about its value call it.
    pub const fn called(mut self, noun: &'static str) -> Field {
        self.noun = noun;
        self
    }

    /// A number of at least `minimum`, as the API's description says.
    pub const fn at_least(mut self, minimum: u32) -> Field {
        self.kind = FieldKind::Number { minimum };
        self
    }

    /// The API description's note on the field.
    pub const fn about(mut self, about: &'static str) -> Field {
        self.about = about;
        self
    }

    /// What a message about the value calls it.
    pub fn noun(&self) -> &'static str {
        if self.noun.is_empty() {
            self.label
        } else {
            self.noun
        }
    }
}

/// `on` (办理日期): every action takes it, the day the action happened when it is entered
/// afterwards (default today).
pub const ON: Field = Field::date("on", "办理日期");

/// A field's value as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Date(NaiveDate),
    Number(u32),
    Bool(bool),
    /// A code of the field's word list or choice, known to be one of them.
    Code(String),
    Users(Vec<i64>),
    /// Each record's fields as text, by name.
    Records(Vec<BTreeMap<&'static str, String>>),
    Household(Box<Household>),
}

/// The fields of one action as read, by name: a field left out (or empty) is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    values: BTreeMap<&'static str, Value>,
}

impl Input {
    pub fn set(&mut self, name: &'static str, value: Value) {
        self.values.insert(name, value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The text of `name` ("" when absent).
    pub fn text(&self, name: &str) -> String {
        match self.get(name) {
            Some(Value::Text(text) | Value::Code(text)) => text.clone(),
            _ => String::new(),
        }
    }

    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        match self.get(name) {
            Some(Value::Date(date)) => Some(*date),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<u32> {
        match self.get(name) {
            Some(Value::Number(number)) => Some(*number),
            _ => None,
        }
    }

    pub fn code(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Code(code)) => Some(code),
            _ => None,
        }
    }

    pub fn users(&self, name: &str) -> &[i64] {
        match self.get(name) {
            Some(Value::Users(users)) => users,
            _ => &[],
        }
    }

    pub fn records(&self, name: &str) -> &[BTreeMap<&'static str, String>] {
        match self.get(name) {
            Some(Value::Records(records)) => records,
            _ => &[],
        }
    }

    pub fn household(&self, name: &str) -> Option<&Household> {
        match self.get(name) {
            Some(Value::Household(household)) => Some(household),
            _ => None,
        }
    }
}

/// A field whose value the action cannot take: the field (English, as the form or body names
/// it) and the Chinese message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidField {
    pub field: String,
    pub message: String,
}

impl InvalidField {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads one field's text as its type (`Input`'s `Value`), with the Chinese message that names
/// it when it cannot be read; `None` for an optional field left empty. The web's JSON and form
/// readers call this for every scalar field (dates, numbers, codes, flags, text).
pub fn read_scalar(field: &Field, text: &str) -> Result<Option<Value>, InvalidField> {
    let text = text.trim();
    let noun = field.noun();
    let fail = |message: String| Err(InvalidField::new(field.name, message));
    match field.kind {
        FieldKind::Text => Ok(Some(Value::Text(text.to_owned()))),
        _ if text.is_empty() && !field.required => Ok(None),
        FieldKind::Date => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Ok(Some(Value::Date(date))),
            Err(_) => fail(format!("{noun}“{text}”无效，应为YYYY-MM-DD")),
        },
        FieldKind::Number { .. } if text.is_empty() => fail(format!("请填写{noun}")),
        FieldKind::Number { .. } => match text.parse() {
            Ok(number) => Ok(Some(Value::Number(number))),
            Err(_) => fail(format!("{noun}应为正整数")),
        },
        FieldKind::Bool => match text {
            "true" | "1" | "on" => Ok(Some(Value::Bool(true))),
            "false" | "0" => Ok(Some(Value::Bool(false))),
            _ => fail(format!("{noun}“{text}”无效，应为true或false")),
        },
        FieldKind::Word(words) => {
            if words.codes.contains(&text) {
                Ok(Some(Value::Code(text.to_owned())))
            } else if field.required {
                fail(format!("请选择{noun}"))
            } else {
                fail(format!("{noun}“{text}”无效{}", choices_of_two(words)))
            }
        }
        FieldKind::Choice(codes) => {
            if codes.contains(&text) {
                Ok(Some(Value::Code(text.to_owned())))
            } else if field.required {
                fail(format!("请选择{noun}"))
            } else {
                fail(format!("{noun}“{text}”无效"))
            }
        }
        FieldKind::Users | FieldKind::Records(_) | FieldKind::Household => {
            fail(format!("{noun}“{text}”无效"))
        }
    }
}

/// A choice between two words names both (`，应为分散供养（dispersed）或集中供养（centralised）`).
fn choices_of_two(words: &Words) -> String {
    match (words.codes, words.labels) {
        ([first, second], [first_label, second_label]) => {
            format!("，应为{first_label}（{first}）或{second_label}（{second}）")
        }
        _ => String::new(),
    }
}

/// The user ids of a list field, each named when it is not one.
pub fn read_users(field: &Field, items: &[String]) -> Result<Value, InvalidField> {
    let mut users = Vec::with_capacity(items.len());
    for item in items {
        let user_id = item.trim().parse::<i64>().map_err(|_| {
            InvalidField::new(field.name, format!("{}“{item}”应为用户编号", field.noun()))
        })?;
        users.push(user_id);
    }
    Ok(Value::Users(users))
}
