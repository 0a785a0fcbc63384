//! 参数目录: the named, dated parameters of RULES.md, loaded from TOML, resolved at a date.
//!
//! Invariant: a loaded `Catalogue` holds every `Param` exactly once, with the unit the rules
//! expect, and dated values in strictly increasing order (no two values start on one day, so no
//! two overlap). A `Snapshot` is the catalogue resolved at one date, once per run.

pub(crate) mod json;

use chrono::NaiveDate;
use domain::{Role, Yuan};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use toml::Spanned;

pub use domain::states::Status;

macro_rules! params {
    ($($(#[$meta:meta])* $variant:ident = $name:literal : $unit:ident,)+) => {
        /// A parameter a rule or a later workflow reads, by its name in RULES.md.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Param {
            $($(#[$meta])* $variant,)+
        }

        impl Param {
            pub const ALL: &'static [Param] = &[$(Param::$variant,)+];

            /// The name exactly as in RULES.md (and in the catalogue file and `--set`).
            pub fn name(self) -> &'static str {
                match self { $(Param::$variant => $name,)+ }
            }

            /// The unit the rules expect; the catalogue must declare the same.
            pub fn unit(self) -> Unit {
                match self { $(Param::$variant => Unit::$unit,)+ }
            }

            pub fn from_name(name: &str) -> Option<Param> {
                match name { $($name => Some(Param::$variant),)+ _ => None }
            }

            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

params! {
    DibaoStandardUrban = "dibao.standard.urban": YuanPerPersonMonth,
    DibaoStandardRural = "dibao.standard.rural": YuanPerPersonMonth,
    TekunBasicLiving = "tekun.basic_living": YuanPerPersonMonth,
    TekunCareFull = "tekun.care.full": YuanPerPersonMonth,
    TekunCarePartial = "tekun.care.partial": YuanPerPersonMonth,
    TekunCareSelf = "tekun.care.self": YuanPerPersonMonth,
    DibaoTopupStudent = "dibao.topup.student": YuanPerPersonMonth,
    DibaoTopupSevere = "dibao.topup.severe": YuanPerPersonMonth,
    DibaoTopupDisabled = "dibao.topup.disabled": YuanPerPersonMonth,
    /// The age from which a member gets the `severe` top-up (RULES.md: age ≥ 70).
    DibaoTopupSevereAge = "dibao.topup.severe_age": Years,
    /// The disability grade up to which a member gets the `severe` top-up (grade 1–2).
    DibaoTopupSevereDisabilityGrade = "dibao.topup.severe_disability_grade": Grade,
    /// Rule 3: any disability up to this grade (1–2).
    DibaoSingleDisabilityGrade = "dibao_single.disability_grade": Grade,
    /// Rule 3: intellectual or mental disability up to this grade (3).
    DibaoSingleDisabilityGradeIntellectualMental = "dibao_single.disability_grade.intellectual_mental": Grade,
    DibaoEdgeIncomeMultiplier = "dibao_edge.income_multiplier": Multiplier,
    RigidExpenditureShare = "rigid.expenditure_share": Share,
    RigidDisposableIncomeRural = "rigid.disposable_income.rural": YuanPerPersonYear,
    RigidDisposableIncomeUrban = "rigid.disposable_income.urban": YuanPerPersonYear,
    RigidValidityMonths = "rigid.validity_months": Months,
    TekunAgeElderly = "tekun.age.elderly": Years,
    TekunAgeMinor = "tekun.age.minor": Years,
    TekunAgeSupportUntil = "tekun.age.support_until": Years,
    /// No labour capacity: intellectual or mental disability up to this grade (1–3).
    TekunDisabilityGradeIntellectualMental = "tekun.disability_grade.intellectual_mental": Grade,
    /// No labour capacity: physical disability up to this grade (1–2).
    TekunDisabilityGradePhysical = "tekun.disability_grade.physical": Grade,
    /// No labour capacity: visual disability up to this grade (1).
    TekunDisabilityGradeVisual = "tekun.disability_grade.visual": Grade,
    MonitoringIncomeLine = "monitoring.income_line": YuanPerPersonYear,
    MonitoringStableMonths = "monitoring.stable_months": Months,
    PropertyFinancialAssetsMonths = "property.financial_assets_months": Months,
    PropertyVehicleValueLimit = "property.vehicle_value_limit": Yuan,
    PropertyExtraHousesLimit = "property.extra_houses_limit": Houses,
    PropertyBusinessAllowed = "property.business_allowed": Flag,
    ComparisonMedicalLargeYuan = "comparison.medical_large_yuan": Yuan,
    /// A disaster loss above this is a possible need (active discovery).
    ComparisonDisasterLargeYuan = "comparison.disaster_large_yuan": Yuan,
    ComparisonIncomeTolerance = "comparison.income_tolerance": Share,
    RecheckStableMonths = "recheck.stable_months": Months,
    RecheckUnstableMonths = "recheck.unstable_months": Months,
    DeadlineTownReviewWorkingDays = "deadline.town_review_working_days": WorkingDays,
    DeadlineDistrictConfirmationWorkingDays = "deadline.district_confirmation_working_days": WorkingDays,
    DeadlineDibaoTotalWorkingDays = "deadline.dibao_total_working_days": WorkingDays,
    DeadlineDibaoTotalSpecialWorkingDays = "deadline.dibao_total_special_working_days": WorkingDays,
    DeadlineNoticeDays = "deadline.notice_days": Days,
    DeadlineMonitoringNoticeDays = "deadline.monitoring_notice_days": Days,
    DeadlineMonitoringIdentificationDays = "deadline.monitoring_identification_days": Days,
    DeadlineObjectionRecheckWorkingDays = "deadline.objection_recheck_working_days": WorkingDays,
    DeadlineRefusalNoticeWorkingDays = "deadline.refusal_notice_working_days": WorkingDays,
    /// 告知书 (issue 14): days from receipt to apply for 行政复议.
    ReviewReconsiderationDays = "review.reconsideration_days": Days,
    /// 告知书 (issue 14): months from receipt to bring 行政诉讼.
    ReviewLitigationMonths = "review.litigation_months": Months,
    /// 公开 (issue 14): days from a change of a village's disclosure list to its posting on
    /// the village board.
    DisclosurePostingDays = "disclosure.posting_days": Days,
    /// 预警闭环 (W3): working days to assign a new warning to a team member.
    WarningAssignWorkingDays = "warning.assign_working_days": WorkingDays,
    /// W3: working days for the on-the-spot check after assignment.
    WarningVerifyWorkingDays = "warning.verify_working_days": WorkingDays,
    /// W3: working days to judge (研判) after the check.
    WarningJudgeWorkingDays = "warning.judge_working_days": WorkingDays,
    /// W3: working days to dispose after the judgement.
    WarningDisposeWorkingDays = "warning.dispose_working_days": WorkingDays,
    /// W3: working days to close after the disposal.
    WarningCloseWorkingDays = "warning.close_working_days": WorkingDays,
}

const PARAM_COUNT: usize = Param::ALL.len();

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// 单位: what a parameter's number means; it fixes the kind of value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    YuanPerPersonMonth,
    YuanPerPersonYear,
    Yuan,
    Multiplier,
    Share,
    Years,
    Months,
    Days,
    WorkingDays,
    Houses,
    Grade,
    Flag,
}

impl Unit {
    pub const ALL: &'static [Unit] = &[
        Unit::YuanPerPersonMonth,
        Unit::YuanPerPersonYear,
        Unit::Yuan,
        Unit::Multiplier,
        Unit::Share,
        Unit::Years,
        Unit::Months,
        Unit::Days,
        Unit::WorkingDays,
        Unit::Houses,
        Unit::Grade,
        Unit::Flag,
    ];

    /// The code used in the catalogue file.
    pub fn code(self) -> &'static str {
        match self {
            Unit::YuanPerPersonMonth => "yuan/person/month",
            Unit::YuanPerPersonYear => "yuan/person/year",
            Unit::Yuan => "yuan",
            Unit::Multiplier => "multiplier",
            Unit::Share => "share",
            Unit::Years => "years",
            Unit::Months => "months",
            Unit::Days => "days",
            Unit::WorkingDays => "working_days",
            Unit::Houses => "houses",
            Unit::Grade => "grade",
            Unit::Flag => "flag",
        }
    }

    /// The Chinese unit written after a number in explanations.
    pub fn label(self) -> &'static str {
        match self {
            Unit::YuanPerPersonMonth => "元/人·月",
            Unit::YuanPerPersonYear => "元/人·年",
            Unit::Yuan => "元",
            Unit::Multiplier => "倍",
            Unit::Share => "",
            Unit::Years => "周岁",
            Unit::Months => "个月",
            Unit::Days => "日",
            Unit::WorkingDays => "个工作日",
            Unit::Houses => "套",
            Unit::Grade => "级",
            Unit::Flag => "",
        }
    }

    pub fn from_code(code: &str) -> Option<Unit> {
        Unit::ALL.iter().copied().find(|unit| unit.code() == code)
    }

    fn kind(self) -> Kind {
        match self {
            Unit::YuanPerPersonMonth | Unit::YuanPerPersonYear | Unit::Yuan => Kind::Money,
            Unit::Multiplier | Unit::Share => Kind::Decimal,
            Unit::Years
            | Unit::Months
            | Unit::Days
            | Unit::WorkingDays
            | Unit::Houses
            | Unit::Grade => Kind::Integer,
            Unit::Flag => Kind::Flag,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Money,
    Decimal,
    Integer,
    Flag,
}

/// The note every demo value carries (演示数值).
pub const DEMO_NOTE: &str = "演示数值，非正式政策";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFile {
    value: Vec<DemoEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoEntry {
    param: String,
    since: String,
    value: String,
    source: String,
}

/// The demo values (`policy/demo-values.toml`): what `serve --demo` enters, with status
/// 演示 and `DEMO_NOTE`, for the parameters the shipped catalogue leaves without a value.
pub fn demo_values() -> Result<Vec<AddedValue>, CatalogueError> {
    let file: DemoFile =
        toml::from_str(include_str!("../../../policy/demo-values.toml")).map_err(|error| {
            CatalogueError::Invalid {
                file: "policy/demo-values.toml".to_owned(),
                line: 0,
                reason: error.message().trim().to_owned(),
            }
        })?;
    Ok(file
        .value
        .into_iter()
        .map(|entry| AddedValue {
            param: entry.param,
            since: entry.since,
            value: entry.value,
            source: entry.source,
            status: Status::Demo.code().to_owned(),
            note: DEMO_NOTE.to_owned(),
        })
        .collect())
}

/// A parameter's value; its kind follows the parameter's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Money(Yuan),
    Decimal(Decimal),
    Integer(i64),
    Flag(bool),
}

impl fmt::Display for Value {
    /// Money without trailing zero decimals (`630`, `412.5` is written `412.50`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Money(yuan) => write!(f, "{}", crate::money::ShortYuan(*yuan)),
            Value::Decimal(decimal) => write!(f, "{}", decimal.normalize()),
            Value::Integer(integer) => write!(f, "{integer}"),
            Value::Flag(true) => f.write_str("是"),
            Value::Flag(false) => f.write_str("否"),
        }
    }
}

/// One dated value: it holds from `since` until the next value of the same parameter starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatedValue {
    pub since: NaiveDate,
    pub value: Value,
    pub source: String,
    pub status: Status,
    pub note: Option<String>,
}

/// 参数: a named parameter with its dated values (possibly none yet, when provisional).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    pub param: Param,
    pub label: String,
    /// The section of the catalogue the parameter is listed under (e.g. 低保标准), for display.
    pub group: String,
    pub unit: Unit,
    pub source: String,
    pub status: Status,
    /// 参数归口: the district department that enters the parameter's values (区民政局 for
    /// social assistance, 区农业农村委 for 防止返贫监测); one of `OWNERS`.
    pub owner: Role,
    /// Strictly increasing by `since`.
    pub values: Vec<DatedValue>,
}

/// The roles a parameter may be owned by (the `owner` of the catalogue file).
pub const OWNERS: [Role; 2] = [Role::DistrictCivilAffairs, Role::DistrictAgriculture];

impl Parameter {
    /// The value in force on `date`, if any.
    pub fn value_at(&self, date: NaiveDate) -> Option<&DatedValue> {
        self.values.iter().rev().find(|dated| dated.since <= date)
    }
}

/// A catalogue that cannot be loaded, a name that is not a parameter, or a bad override.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}:{line}: {reason}")]
    Invalid {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("未知参数“{0}”")]
    UnknownParameter(String),
    #[error("参数覆盖“{0}”应写作 名称=取值")]
    OverrideSyntax(String),
    #[error("参数{name}的取值“{value}”无效：{reason}")]
    InvalidValue {
        name: String,
        value: String,
        reason: String,
    },
    /// A value added in the product that cannot be taken; `field` names the faulty input.
    #[error("{reason}")]
    InvalidAddition { field: AddedField, reason: String },
}

/// 参数目录: every parameter of RULES.md with its dated values, unit, source and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalogue {
    /// Indexed by `Param`.
    parameters: Vec<Parameter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    parameter: Vec<Spanned<ParameterEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterEntry {
    name: Spanned<String>,
    #[serde(default)]
    label: String,
    #[serde(default)]
    group: String,
    unit: Spanned<String>,
    source: String,
    status: Spanned<String>,
    owner: Spanned<String>,
    values: Vec<Spanned<ValueEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueEntry {
    since: Spanned<toml::value::Datetime>,
    value: Spanned<toml::Value>,
    source: Option<String>,
    status: Option<Spanned<String>>,
    note: Option<String>,
}

/// The catalogue shipped with the binary (`policy/catalogue.toml` at the repository root).
const BUILTIN: &str = include_str!("../../../policy/catalogue.toml");

impl Catalogue {
    /// The catalogue built into the binary. It is checked by the tests, so loading cannot fail
    /// in a released build; the `Result` stays for honesty.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_toml(BUILTIN, "policy/catalogue.toml")
    }

    /// Loads and validates a catalogue; errors name `file_name`, the line and the reason.
    pub fn from_toml(text: &str, file_name: &str) -> Result<Catalogue, CatalogueError> {
        let line_of = |offset: usize| {
            text[..offset.min(text.len())]
                .bytes()
                .filter(|&b| b == b'\n')
                .count()
                + 1
        };
        let fail = |offset: usize, reason: String| CatalogueError::Invalid {
            file: file_name.to_owned(),
            line: line_of(offset),
            reason,
        };
        let file: CatalogueFile = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            fail(offset, error.message().trim().to_owned())
        })?;
        let mut slots: Vec<Option<Parameter>> = vec![None; PARAM_COUNT];
        for entry in file.parameter {
            let start = entry.span().start;
            let entry = entry.into_inner();
            let name_at = entry.name.span().start;
            let param = Param::from_name(entry.name.get_ref())
                .ok_or_else(|| fail(name_at, format!("未知参数“{}”", entry.name.get_ref())))?;
            if slots[param.index()].is_some() {
                return Err(fail(name_at, format!("参数“{param}”重复定义")));
            }
            let unit_at = entry.unit.span().start;
            let unit = Unit::from_code(entry.unit.get_ref().trim())
                .ok_or_else(|| fail(unit_at, format!("未知单位“{}”", entry.unit.get_ref())))?;
            if unit != param.unit() {
                return Err(fail(
                    unit_at,
                    format!("参数“{param}”的单位应为“{}”", param.unit().code()),
                ));
            }
            if entry.source.trim().is_empty() {
                return Err(fail(start, format!("参数“{param}”缺少来源（source）")));
            }
            let status = parse_status(&entry.status).map_err(|(at, reason)| fail(at, reason))?;
            let owner_at = entry.owner.span().start;
            let owner = Role::from_code(entry.owner.get_ref().trim())
                .filter(|role| OWNERS.contains(role))
                .ok_or_else(|| {
                    fail(
                        owner_at,
                        format!(
                            "参数“{param}”的归口（owner）应为 district_civil_affairs 或 district_agriculture"
                        ),
                    )
                })?;
            let mut values: Vec<DatedValue> = Vec::with_capacity(entry.values.len());
            for dated in entry.values {
                let dated = dated.into_inner();
                let since_at = dated.since.span().start;
                let since = toml_date(dated.since.get_ref())
                    .ok_or_else(|| fail(since_at, "since 应为日期，如 2025-07-01".to_owned()))?;
                if let Some(previous) = values.last() {
                    if previous.since == since {
                        return Err(fail(
                            since_at,
                            format!("参数“{param}”在 {since} 有两个取值"),
                        ));
                    }
                    if previous.since > since {
                        return Err(fail(
                            since_at,
                            format!(
                                "参数“{param}”的取值应按日期递增：{since} 在 {} 之后列出",
                                previous.since
                            ),
                        ));
                    }
                }
                let value_at = dated.value.span().start;
                let value = toml_value(unit, dated.value.get_ref())
                    .map_err(|reason| fail(value_at, reason))?;
                let status = match &dated.status {
                    Some(status) => {
                        parse_status(status).map_err(|(at, reason)| fail(at, reason))?
                    }
                    None => status,
                };
                values.push(DatedValue {
                    since,
                    value,
                    source: dated.source.unwrap_or_else(|| entry.source.clone()),
                    status,
                    note: dated.note,
                });
            }
            slots[param.index()] = Some(Parameter {
                param,
                label: entry.label,
                group: entry.group,
                unit,
                source: entry.source,
                status,
                owner,
                values,
            });
        }
        let mut parameters = Vec::with_capacity(PARAM_COUNT);
        for (param, slot) in Param::ALL.iter().zip(slots) {
            match slot {
                Some(parameter) => parameters.push(parameter),
                None => return Err(fail(text.len(), format!("缺少规则所需的参数“{param}”"))),
            }
        }
        Ok(Catalogue { parameters })
    }

    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    pub fn parameter(&self, param: Param) -> &Parameter {
        &self.parameters[param.index()]
    }

    /// Looks a parameter up by its name.
    pub fn by_name(&self, name: &str) -> Result<&Parameter, CatalogueError> {
        Param::from_name(name)
            .map(|param| self.parameter(param))
            .ok_or_else(|| CatalogueError::UnknownParameter(name.to_owned()))
    }

    /// The value of a named parameter in force on `date` (`None` when none is configured then).
    pub fn value_at(
        &self,
        name: &str,
        date: NaiveDate,
    ) -> Result<Option<&DatedValue>, CatalogueError> {
        Ok(self.by_name(name)?.value_at(date))
    }

    /// Resolves every parameter at `date`: do this once per run, not per household.
    pub fn snapshot(&self, date: NaiveDate) -> Snapshot {
        let entries: Vec<Option<DatedValue>> = self
            .parameters
            .iter()
            .map(|parameter| parameter.value_at(date).cloned())
            .collect();
        let labels: Vec<String> = self
            .parameters
            .iter()
            .map(|parameter| parameter.label.clone())
            .collect();
        let cites = Param::ALL
            .iter()
            .map(|&param| cite_text(param, &labels, &entries))
            .collect();
        let json = Param::ALL
            .iter()
            .map(|&param| param_json(param, entries[param.index()].as_ref()))
            .collect();
        let pending_texts = Param::ALL
            .iter()
            .map(|&param| format!("{}未配置，需人工核定", labels[param.index()]))
            .collect();
        Snapshot {
            date,
            entries,
            labels,
            cites,
            json,
            pending_texts,
        }
    }

    /// Replaces every dated value of the parameter with `value`, valid on any date.
    pub fn apply_override(&mut self, change: &Override) {
        let parameter = &mut self.parameters[change.param.index()];
        parameter.values = vec![change.dated(NaiveDate::MIN)];
    }
}

fn parse_status(status: &Spanned<String>) -> Result<Status, (usize, String)> {
    Status::from_code(status.get_ref().trim()).ok_or_else(|| {
        (
            status.span().start,
            format!(
                "未知状态“{}”，应为 confirmed、secondary 或 provisional",
                status.get_ref()
            ),
        )
    })
}

/// A TOML date without time or offset, as the policy files and the calendars write days (the
/// one reader of such a day; `workflow`'s calendars use it too).
pub fn toml_date(datetime: &toml::value::Datetime) -> Option<NaiveDate> {
    if datetime.time.is_some() || datetime.offset.is_some() {
        return None;
    }
    let date = datetime.date?;
    NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
}

fn toml_value(unit: Unit, value: &toml::Value) -> Result<Value, String> {
    let text = match value {
        toml::Value::Integer(integer) => integer.to_string(),
        toml::Value::Float(float) => float.to_string(),
        toml::Value::String(text) => text.clone(),
        toml::Value::Boolean(flag) => flag.to_string(),
        _ => return Err(format!("取值应为数字或布尔值（单位{}）", unit.code())),
    };
    parse_value(unit, &text)
}

impl Unit {
    /// Whether a value of this unit may be zero: a limit in yuan, a number of houses, months or
    /// years may be; a standard per person, a multiplier, a share, a grade or a number of days
    /// may not. No unit takes a negative value.
    pub fn allows_zero(self) -> bool {
        matches!(
            self,
            Unit::Yuan | Unit::Houses | Unit::Months | Unit::Years | Unit::Flag
        )
    }
}

/// Parses a value written as text (`630`, `412.5`, `1.5`, `true`) for a parameter of `unit`:
/// the unit's form, never negative, and not zero where the unit says so (`allows_zero`).
fn parse_value(unit: Unit, text: &str) -> Result<Value, String> {
    let value = parse_value_form(unit, text)?;
    let sign = match value {
        Value::Money(yuan) => yuan.fen().signum(),
        Value::Decimal(decimal) => {
            if decimal.is_zero() {
                0
            } else if decimal.is_sign_negative() {
                -1
            } else {
                1
            }
        }
        Value::Integer(integer) => integer.signum(),
        Value::Flag(_) => 1,
    };
    match sign {
        -1 => Err(format!("不能为负数（单位{}）", unit.code())),
        0 if !unit.allows_zero() => Err(format!("应大于零（单位{}）", unit.code())),
        _ => Ok(value),
    }
}

fn parse_value_form(unit: Unit, text: &str) -> Result<Value, String> {
    let text = text.trim();
    match unit.kind() {
        Kind::Money => Yuan::parse(text)
            .map(Value::Money)
            .map_err(|error| error.to_string()),
        Kind::Decimal => Decimal::from_str(text)
            .map(Value::Decimal)
            .map_err(|_| format!("应为小数（单位{}）", unit.code())),
        Kind::Integer => text
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("应为整数（单位{}）", unit.code())),
        Kind::Flag => match text {
            "true" | "是" => Ok(Value::Flag(true)),
            "false" | "否" => Ok(Value::Flag(false)),
            _ => Err("应为 true 或 false".to_owned()),
        },
    }
}

/// 参数覆盖: `NAME=VALUE` from `--set`, parsed against the parameter's unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub param: Param,
    pub value: Value,
}

/// The source written beside an overridden value in explanations.
pub const OVERRIDE_SOURCE: &str = "本次运行参数覆盖（--set）";

impl Override {
    pub fn parse(text: &str) -> Result<Override, CatalogueError> {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| CatalogueError::OverrideSyntax(text.to_owned()))?;
        let name = name.trim();
        let param = Param::from_name(name)
            .ok_or_else(|| CatalogueError::UnknownParameter(name.to_owned()))?;
        let value =
            parse_value(param.unit(), value).map_err(|reason| CatalogueError::InvalidValue {
                name: name.to_owned(),
                value: value.trim().to_owned(),
                reason,
            })?;
        Ok(Override { param, value })
    }

    fn dated(&self, since: NaiveDate) -> DatedValue {
        DatedValue {
            since,
            value: self.value,
            source: OVERRIDE_SOURCE.to_owned(),
            status: Status::Provisional,
            note: None,
        }
    }
}

impl FromStr for Override {
    type Err = CatalogueError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Override::parse(text)
    }
}

/// 平台添加的取值: a dated value added in the product (the 政策参数 page) on top of the
/// catalogue file, as entered. `Catalogue::add_value` parses it against the parameter's unit
/// exactly as the file loader parses the file's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedValue {
    /// The parameter's name, as in RULES.md.
    pub param: String,
    /// 起始日期, `YYYY-MM-DD`.
    pub since: String,
    /// 数值, written as in the catalogue file (`630`, `412.5`, `1.5`, `true`).
    pub value: String,
    /// 来源: the document the value comes from (文号); required.
    pub source: String,
    /// 状态: `confirmed`, `secondary` or `provisional`.
    pub status: String,
    /// 说明; empty for none.
    pub note: String,
}

/// The input of an `AddedValue` an error concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddedField {
    Param,
    Since,
    Value,
    Source,
    Status,
    Note,
}

impl AddedField {
    /// The field's key in forms and in the API.
    pub fn code(self) -> &'static str {
        match self {
            AddedField::Param => "param",
            AddedField::Since => "since",
            AddedField::Value => "value",
            AddedField::Source => "source",
            AddedField::Status => "status",
            AddedField::Note => "note",
        }
    }
}

fn addition_fault(field: AddedField, reason: String) -> CatalogueError {
    CatalogueError::InvalidAddition { field, reason }
}

impl AddedValue {
    /// The parameter and the dated value this addition becomes, or the first faulty field.
    pub fn parse(&self) -> Result<(Param, DatedValue), CatalogueError> {
        let name = self.param.trim();
        let param = Param::from_name(name).ok_or_else(|| {
            addition_fault(AddedField::Param, format!("参数“{name}”不在参数目录中"))
        })?;
        let since_text = self.since.trim();
        let since = NaiveDate::parse_from_str(since_text, "%Y-%m-%d")
            .ok()
            // Dates are stored as text that must sort in time order: four-digit years only.
            .filter(|_| since_text.len() == 10)
            .ok_or_else(|| {
                addition_fault(
                    AddedField::Since,
                    if since_text.is_empty() {
                        "请填写起始日期".to_owned()
                    } else {
                        format!(
                            "起始日期“{}”无效，应写作如 2026-07-01",
                            domain::input::shown(since_text)
                        )
                    },
                )
            })?;
        let value_text = self.value.trim();
        if value_text.is_empty() {
            return Err(addition_fault(AddedField::Value, "请填写数值".to_owned()));
        }
        let value = parse_value(param.unit(), value_text).map_err(|reason| {
            addition_fault(
                AddedField::Value,
                format!("数值“{}”无效：{reason}", domain::input::shown(value_text)),
            )
        })?;
        let source = self.source.trim();
        if source.is_empty() {
            return Err(addition_fault(
                AddedField::Source,
                "请填写来源（文号）".to_owned(),
            ));
        }
        // Source and note are free text: no control characters (PostgreSQL cannot hold a NUL).
        domain::input::line("source", "来源", source, 200)
            .map_err(|error| addition_fault(AddedField::Source, error.to_string()))?;
        domain::input::text("note", "说明", &self.note, 2000)
            .map_err(|error| addition_fault(AddedField::Note, error.to_string()))?;
        let status = Status::from_code(self.status.trim()).ok_or_else(|| {
            addition_fault(
                AddedField::Status,
                format!(
                    "状态“{}”无效，应为 confirmed、secondary 或 provisional",
                    self.status.trim()
                ),
            )
        })?;
        let note = Some(self.note.trim().to_owned()).filter(|note| !note.is_empty());
        Ok((
            param,
            DatedValue {
                since,
                value,
                source: source.to_owned(),
                status,
                note,
            },
        ))
    }
}

impl Catalogue {
    /// Takes one added value: it starts on its `since`, and replaces a value that starts on the
    /// same day (a correction); the values stay ordered by `since`. On error nothing changes.
    pub fn add_value(&mut self, added: &AddedValue) -> Result<(), CatalogueError> {
        let (param, dated) = added.parse()?;
        let values = &mut self.parameters[param.index()].values;
        match values.binary_search_by_key(&dated.since, |existing| existing.since) {
            Ok(at) => values[at] = dated,
            Err(at) => values.insert(at, dated),
        }
        Ok(())
    }

    /// The catalogue with `added` taken in order (a later value at the same `since` wins), or
    /// the first addition that cannot be taken.
    pub fn with_added(&self, added: &[AddedValue]) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = self.clone();
        for value in added {
            catalogue.add_value(value)?;
        }
        Ok(catalogue)
    }
}

/// 参数快照: every parameter resolved at one date. Cheap to read, built once per run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    date: NaiveDate,
    /// Indexed by `Param`; `None` where no value is configured on `date`.
    entries: Vec<Option<DatedValue>>,
    /// The catalogue's labels, indexed by `Param`.
    labels: Vec<String>,
    /// Each parameter as cited in sentences, written once per run (indexed by `Param`).
    cites: Vec<String>,
    /// Each parameter's JSON in output records, written once per run (indexed by `Param`).
    json: Vec<String>,
    /// `金融资产上限…未配置，需人工核定`: the text of a test pending on the parameter.
    pending_texts: Vec<String>,
}

fn param_json(param: Param, value: Option<&DatedValue>) -> String {
    json::render_param_use(param, value)
}

/// `农村低保标准 630 元（渝民规〔2025〕6号，2025-07-01 起）`, or `…（未配置）`.
fn cite_text(param: Param, labels: &[String], entries: &[Option<DatedValue>]) -> String {
    let label = labels[param.index()].as_str();
    let label = if label.is_empty() {
        param.name()
    } else {
        label
    };
    let unit = match param.unit() {
        Unit::YuanPerPersonMonth | Unit::YuanPerPersonYear | Unit::Yuan => "元",
        other => other.label(),
    };
    match &entries[param.index()] {
        Some(dated) if unit.is_empty() => format!(
            "{label} {}（{}，{} 起）",
            dated.value, dated.source, dated.since
        ),
        Some(dated) => format!(
            "{label} {} {unit}（{}，{} 起）",
            dated.value, dated.source, dated.since
        ),
        None => format!("{label}（未配置）"),
    }
}

impl Snapshot {
    /// The date the values were resolved at.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The value in force, with its start date and source.
    pub fn get(&self, param: Param) -> Option<&DatedValue> {
        self.entries[param.index()].as_ref()
    }

    /// The same snapshot with `--set` values in force (start date: the snapshot's date).
    pub fn with_overrides(&self, overrides: &[Override]) -> Snapshot {
        let mut snapshot = self.clone();
        for change in overrides {
            snapshot.entries[change.param.index()] = Some(change.dated(self.date));
        }
        for change in overrides {
            snapshot.cites[change.param.index()] =
                cite_text(change.param, &snapshot.labels, &snapshot.entries);
            snapshot.json[change.param.index()] = param_json(
                change.param,
                snapshot.entries[change.param.index()].as_ref(),
            );
        }
        snapshot
    }

    /// The parameter as cited in explanations: label, value, unit, source and start date.
    pub fn cite(&self, param: Param) -> &str {
        &self.cites[param.index()]
    }

    pub(crate) fn param_json(&self, param: Param) -> &str {
        &self.json[param.index()]
    }

    /// The text of a test that is pending because the parameter has no value (待人工核定).
    pub fn pending_text(&self, param: Param) -> &str {
        &self.pending_texts[param.index()]
    }

    /// The catalogue's Chinese label of the parameter.
    pub fn label(&self, param: Param) -> &str {
        &self.labels[param.index()]
    }

    pub fn money(&self, param: Param) -> Option<Yuan> {
        match self.get(param)?.value {
            Value::Money(yuan) => Some(yuan),
            _ => None,
        }
    }

    pub fn decimal(&self, param: Param) -> Option<Decimal> {
        match self.get(param)?.value {
            Value::Decimal(decimal) => Some(decimal),
            _ => None,
        }
    }

    pub fn integer(&self, param: Param) -> Option<i64> {
        match self.get(param)?.value {
            Value::Integer(integer) => Some(integer),
            _ => None,
        }
    }

    pub fn flag(&self, param: Param) -> Option<bool> {
        match self.get(param)?.value {
            Value::Flag(flag) => Some(flag),
            _ => None,
        }
    }
}
