//! 救助帮扶目录: assistance items as data (`policy/assistance.toml`), validated on load.
//!
//! Invariant: an `Item` that exists is valid — its needs, categories and signals are known
//! words, its department is declared, its amount (where fixed) names a money parameter of the
//! policy catalogue, its rank and period are set. `ItemDef` is the serde form kept in the file
//! and in the database (one JSON row per version).

use chrono::{Datelike, NaiveDate};
use domain::{Category, vocabulary};
use policy::{Param, Status, Unit};
use serde::{Deserialize, Serialize};

vocabulary!(
    /// 救助需求: what a household lacks (缺啥), and what an item answers (补啥).
    Need {
        BasicLiving = "basic_living" / "基本生活",
        Medical = "medical" / "医疗",
        Schooling = "schooling" / "就学",
        HousingSafety = "housing_safety" / "住房安全",
        DrinkingWater = "drinking_water" / "饮水安全",
        Employment = "employment" / "就业",
        Care = "care" / "照料护理",
        Emergency = "emergency" / "急难",
    }
);

vocabulary!(
    /// 情形: a fact of the household's survey, gaps or risks that an item's conditions name.
    Signal {
        GapEducation = "gap.education" / "义务教育未保障",
        GapMedical = "gap.medical" / "基本医疗未保障",
        GapHousing = "gap.housing" / "住房安全未保障",
        GapDrinkingWater = "gap.drinking_water" / "饮水安全未保障",
        RiskIllness = "risk.illness" / "因病风险",
        RiskDisability = "risk.disability" / "因残风险",
        RiskSchoolingCost = "risk.schooling_cost" / "因学风险",
        RiskAccident = "risk.accident" / "因意外事故风险",
        RiskDisaster = "risk.disaster" / "因自然灾害风险",
        RiskUnemployment = "risk.unemployment" / "因失业风险",
        RiskBusinessFailure = "risk.business_failure" / "因经营失败风险",
        RiskOther = "risk.other" / "其他风险",
        SeriousIllness = "serious_illness" / "成员患重特大疾病",
        Disability = "disability" / "成员持证残疾",
        InSchool = "in_school" / "成员在学",
        CareNeeded = "care_needed" / "成员需照料护理",
        SuddenHardship = "sudden_hardship" / "突发严重困难户",
    }
);

vocabulary!(
    /// 发放周期: the same item is given to a household at most once per period (不重).
    ItemPeriod {
        Month = "month" / "按月",
        Year = "year" / "按年",
        Once = "once" / "一次性",
    }
);

impl ItemPeriod {
    /// The period a date falls in: the month, the year, or once for all.
    pub fn key(self, date: NaiveDate) -> domain::GivenPeriod {
        match self {
            ItemPeriod::Month => domain::GivenPeriod::Month {
                year: date.year(),
                month: date.month(),
            },
            ItemPeriod::Year => domain::GivenPeriod::Year(date.year()),
            ItemPeriod::Once => domain::GivenPeriod::Once,
        }
    }
}

/// 部门 (U2): a department that has users, sends data and receives the referrals of the items
/// it provides (提供部门), as `policy/departments.toml` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// Where the plan or the specs name it.
    #[serde(default)]
    pub source: String,
}

/// The serde form of an item (file and database).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDef {
    pub code: String,
    pub name: String,
    pub needs: Vec<String>,
    pub department: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub signals: Vec<String>,
    pub rank: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_param: Option<String>,
    pub period: String,
    pub source: String,
    pub status: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

/// 救助帮扶项目: one validated item of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub needs: Vec<Need>,
    pub department: String,
    /// Empty: any household.
    pub categories: Vec<Category>,
    /// Empty: no situation needed; otherwise at least one.
    pub signals: Vec<Signal>,
    pub rank: i64,
    pub amount_param: Option<Param>,
    pub period: ItemPeriod,
    pub source: String,
    pub status: Status,
    pub active: bool,
    pub note: String,
    /// The stored version (1 for the shipped item, +1 per edit); 0 before it is stored.
    pub version: i64,
}

/// A fault of one field of an item, in Chinese.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{where_}字段{field}：{reason}")]
pub struct ItemError {
    /// Which item (`第3个项目（medical_assistance）`).
    pub where_: String,
    pub field: String,
    pub reason: String,
}

/// A catalogue file that cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssistCatalogueError {
    #[error("{file}: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: {error}")]
    Item { file: String, error: ItemError },
}

fn item_fault(def: &ItemDef, field: &str, reason: impl Into<String>) -> ItemError {
    ItemError {
        where_: format!("项目（{}）", def.code),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Codes are lower-case ASCII words joined by `_` (`domain::ItemCode`: they end up in URLs
/// and reports).
pub fn valid_code(code: &str) -> bool {
    domain::ItemCode::parse(code).is_ok()
}

impl Item {
    /// Validates a definition against the declared departments.
    pub fn from_def(
        def: &ItemDef,
        departments: &[Department],
        version: i64,
    ) -> Result<Item, ItemError> {
        if !valid_code(&def.code) {
            return Err(item_fault(
                def,
                "code",
                "代码应为2至48位小写字母、数字或下划线，以字母开头",
            ));
        }
        let name = def.name.trim();
        if name.is_empty() {
            return Err(item_fault(def, "name", "名称不能为空"));
        }
        let mut needs = Vec::new();
        for code in &def.needs {
            let need = Need::from_code(code.trim())
                .ok_or_else(|| item_fault(def, "needs", format!("未知需求“{code}”")))?;
            if !needs.contains(&need) {
                needs.push(need);
            }
        }
        if needs.is_empty() {
            return Err(item_fault(def, "needs", "至少应回应一项需求"));
        }
        if !departments.iter().any(|d| d.code == def.department) {
            return Err(item_fault(
                def,
                "department",
                format!("未知部门“{}”", def.department),
            ));
        }
        let mut categories = Vec::new();
        for code in &def.categories {
            let category = Category::from_code(code.trim())
                .ok_or_else(|| item_fault(def, "categories", format!("未知类别“{code}”")))?;
            if !categories.contains(&category) {
                categories.push(category);
            }
        }
        let mut signals = Vec::new();
        for code in &def.signals {
            let signal = Signal::from_code(code.trim())
                .ok_or_else(|| item_fault(def, "signals", format!("未知情形“{code}”")))?;
            if !signals.contains(&signal) {
                signals.push(signal);
            }
        }
        if !(0..=1000).contains(&def.rank) {
            return Err(item_fault(
                def,
                "rank",
                "排序应为0至1000的整数（越大越优先）",
            ));
        }
        let amount_param = match def.amount_param.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => {
                let param = Param::from_name(name).ok_or_else(|| {
                    item_fault(def, "amount_param", format!("参数目录中没有“{name}”"))
                })?;
                if !matches!(
                    param.unit(),
                    Unit::YuanPerPersonMonth | Unit::YuanPerPersonYear | Unit::Yuan
                ) {
                    return Err(item_fault(
                        def,
                        "amount_param",
                        format!("参数“{name}”不是金额参数"),
                    ));
                }
                Some(param)
            }
        };
        let period = ItemPeriod::from_code(def.period.trim())
            .ok_or_else(|| item_fault(def, "period", "发放周期应为 month、year 或 once"))?;
        if def.source.trim().is_empty() {
            return Err(item_fault(def, "source", "应注明政策依据（来源）"));
        }
        let status = Status::from_code(def.status.trim()).ok_or_else(|| {
            item_fault(
                def,
                "status",
                "状态应为 confirmed、secondary 或 provisional",
            )
        })?;
        Ok(Item {
            code: def.code.clone(),
            name: name.to_owned(),
            needs,
            department: def.department.clone(),
            categories,
            signals,
            rank: def.rank,
            amount_param,
            period,
            source: def.source.trim().to_owned(),
            status,
            active: def.active,
            note: def.note.clone().unwrap_or_default().trim().to_owned(),
            version,
        })
    }

    pub fn to_def(&self) -> ItemDef {
        ItemDef {
            code: self.code.clone(),
            name: self.name.clone(),
            needs: self.needs.iter().map(|n| n.code().to_owned()).collect(),
            department: self.department.clone(),
            categories: self
                .categories
                .iter()
                .map(|c| c.code().to_owned())
                .collect(),
            signals: self.signals.iter().map(|s| s.code().to_owned()).collect(),
            rank: self.rank,
            amount_param: self.amount_param.map(|p| p.name().to_owned()),
            period: self.period.code().to_owned(),
            source: self.source.clone(),
            status: self.status.code().to_owned(),
            active: self.active,
            note: (!self.note.is_empty()).then(|| self.note.clone()),
        }
    }

    pub fn answers(&self, need: Need) -> bool {
        self.needs.contains(&need)
    }

    /// The needs in Chinese, joined (`基本生活、照料护理`).
    pub fn needs_label(&self) -> String {
        self.needs
            .iter()
            .map(|n| n.label())
            .collect::<Vec<_>>()
            .join("、")
    }

    /// The conditions in Chinese (`类别：低保、特困人员；情形之一：成员患重特大疾病`).
    pub fn conditions_label(&self) -> String {
        let categories = if self.categories.is_empty() {
            "类别不限".to_owned()
        } else {
            format!(
                "类别：{}",
                self.categories
                    .iter()
                    .map(|c| c.label())
                    .collect::<Vec<_>>()
                    .join("、")
            )
        };
        if self.signals.is_empty() {
            categories
        } else {
            format!(
                "{categories}；情形之一：{}",
                self.signals
                    .iter()
                    .map(|s| s.label())
                    .collect::<Vec<_>>()
                    .join("、")
            )
        }
    }
}

/// 救助帮扶目录: the departments and the items in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssistCatalogue {
    pub departments: Vec<Department>,
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    item: Vec<ItemDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentsFile {
    department: Vec<Department>,
}

/// The catalogue shipped with the binary.
const BUILTIN: &str = include_str!("../../../policy/assistance.toml");
/// The departments shipped with the binary (one list for the whole product).
const DEPARTMENTS: &str = include_str!("../../../policy/departments.toml");

/// Reads a departments file: each code once, each with a name.
pub(crate) fn departments_from_toml(
    text: &str,
    file: &str,
) -> Result<Vec<Department>, AssistCatalogueError> {
    let syntax = |reason: String| AssistCatalogueError::Syntax {
        file: file.to_owned(),
        reason,
    };
    let parsed: DepartmentsFile =
        toml::from_str(text).map_err(|error| syntax(error.to_string()))?;
    for (index, department) in parsed.department.iter().enumerate() {
        if department.code.trim().is_empty() || department.name.trim().is_empty() {
            return Err(syntax(format!("第{}个部门缺少代码或名称", index + 1)));
        }
        if parsed.department[..index]
            .iter()
            .any(|other| other.code == department.code)
        {
            return Err(syntax(format!(
                "第{}个部门代码“{}”重复",
                index + 1,
                department.code
            )));
        }
    }
    Ok(parsed.department)
}

impl AssistCatalogue {
    /// The shipped catalogue (checked by the tests, so it loads).
    pub fn builtin() -> Result<AssistCatalogue, AssistCatalogueError> {
        AssistCatalogue::from_toml(BUILTIN, "policy/assistance.toml")
    }

    /// The departments of `policy/departments.toml` (every item, user and referral names one).
    pub fn builtin_departments() -> Result<Vec<Department>, AssistCatalogueError> {
        departments_from_toml(DEPARTMENTS, "policy/departments.toml")
    }

    /// An items file, its items checked against the shipped departments.
    pub fn from_toml(text: &str, file: &str) -> Result<AssistCatalogue, AssistCatalogueError> {
        let departments = AssistCatalogue::builtin_departments()?;
        let parsed: CatalogueFile =
            toml::from_str(text).map_err(|error| AssistCatalogueError::Syntax {
                file: file.to_owned(),
                reason: error.to_string(),
            })?;
        let mut items: Vec<Item> = Vec::with_capacity(parsed.item.len());
        for (index, def) in parsed.item.iter().enumerate() {
            let mut item = Item::from_def(def, &departments, 1).map_err(|mut error| {
                error.where_ = format!("第{}个项目（{}）", index + 1, def.code);
                AssistCatalogueError::Item {
                    file: file.to_owned(),
                    error,
                }
            })?;
            if items.iter().any(|other| other.code == item.code) {
                return Err(AssistCatalogueError::Item {
                    file: file.to_owned(),
                    error: ItemError {
                        where_: format!("第{}个项目（{}）", index + 1, def.code),
                        field: "code".to_owned(),
                        reason: "代码重复".to_owned(),
                    },
                });
            }
            item.version = 1;
            items.push(item);
        }
        Ok(AssistCatalogue { departments, items })
    }

    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|item| item.code == code)
    }

    /// The department's Chinese name (its code when undeclared).
    pub fn department_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.departments
            .iter()
            .find(|d| d.code == code)
            .map_or(code, |d| d.name.as_str())
    }
}
