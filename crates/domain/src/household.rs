//! 家庭 and 家庭成员: the household record with every indicator of the unified survey (D1, D3).

use crate::{HouseholdNo, NationalId, PlaceCode, Yuan, vocabulary};

vocabulary!(
    /// 户籍性质: which dibao standard applies.
    Hukou { Rural = "rural" / "农村", Urban = "urban" / "城市", }
);

vocabulary!(
    /// 与户主关系
    Relation {
        Head = "head" / "户主",
        Spouse = "spouse" / "配偶",
        Child = "child" / "子女",
        Parent = "parent" / "父母",
        Grandchild = "grandchild" / "孙子女",
        Grandparent = "grandparent" / "祖父母",
        Sibling = "sibling" / "兄弟姐妹",
        ChildInLaw = "child_in_law" / "儿媳女婿",
        Other = "other" / "其他",
    }
);

vocabulary!(
    /// 劳动能力
    LabourCapacity { Full = "full" / "有劳动能力", Partial = "partial" / "部分劳动能力", None = "none" / "无劳动能力", }
);

vocabulary!(
    /// 残疾类别
    DisabilityKind {
        Physical = "physical" / "肢体",
        Intellectual = "intellectual" / "智力",
        Mental = "mental" / "精神",
        Visual = "visual" / "视力",
        Hearing = "hearing" / "听力",
        Speech = "speech" / "言语",
        Multiple = "multiple" / "多重",
    }
);

vocabulary!(
    /// 在学阶段
    Schooling {
        None = "none" / "不在学",
        Preschool = "preschool" / "学前",
        Compulsory = "compulsory" / "义务教育",
        SeniorHigh = "senior_high" / "普通高中",
        Vocational = "vocational" / "中职",
        College = "college" / "高等教育",
    }
);

vocabulary!(
    /// 生活自理能力 (特困照料护理标准)
    CareNeed { Full = "full" / "全护理", Partial = "partial" / "半护理", SelfCare = "self" / "自理", }
);

vocabulary!(
    /// 车辆类型
    VehicleKind { Car = "car" / "小汽车", Truck = "truck" / "货车", Motorcycle = "motorcycle" / "摩托车", FarmMachine = "farm_machine" / "农用机械", }
);

vocabulary!(
    /// 返贫致贫风险点
    Risk {
        Illness = "illness" / "因病",
        Disability = "disability" / "因残",
        SchoolingCost = "schooling_cost" / "因学",
        Accident = "accident" / "因意外事故",
        Disaster = "disaster" / "因自然灾害",
        Unemployment = "unemployment" / "因失业",
        BusinessFailure = "business_failure" / "因经营失败",
        Other = "other" / "其他",
    }
);

/// 残疾: kind and grade (1 is the most severe, 4 the least).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disability {
    pub kind: DisabilityKind,
    pub grade: u8,
}

/// 法定赡养、抚养、扶养义务人 living outside the household.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Supporter {
    pub relation: Relation,
    pub able: bool,
}

/// 家庭成员 (共同生活家庭成员).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id_number: NationalId,
    pub name: String,
    pub relation: Relation,
    pub labour_capacity: LabourCapacity,
    pub disability: Option<Disability>,
    pub serious_illness: bool,
    pub schooling: Schooling,
    pub care_need: CareNeed,
    /// The member's own income over 12 months where the survey recorded it.
    pub income_12m: Option<Yuan>,
    pub supporters: Vec<Supporter>,
}

/// 家庭收入 over the 12 months before the survey, by kind; `excluded` is recorded, not counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Income {
    pub wages: Yuan,
    pub business: Yuan,
    pub property: Yuan,
    pub transfer: Yuan,
    pub other: Yuan,
    pub excluded: Yuan,
}

impl Income {
    /// 可计算收入: every kind but `excluded`.
    pub fn countable(&self) -> Yuan {
        self.wages + self.business + self.property + self.transfer + self.other
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vehicle {
    pub kind: VehicleKind,
    pub value: Yuan,
}

/// 家庭财产
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Property {
    pub financial_assets: Yuan,
    pub vehicles: Vec<Vehicle>,
    pub extra_houses: u32,
    pub business_registered: bool,
}

/// 刚性支出 over 12 months, out of pocket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RigidExpenditure {
    pub medical: Yuan,
    pub education: Yuan,
    pub rehabilitation: Yuan,
    pub other: Yuan,
}

impl RigidExpenditure {
    pub fn total(&self) -> Yuan {
        self.medical + self.education + self.rehabilitation + self.other
    }
}

/// 三保障和饮水安全: `true` means secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guarantees {
    pub education: bool,
    pub medical: bool,
    pub housing: bool,
    pub drinking_water: bool,
}

impl Default for Guarantees {
    fn default() -> Self {
        Self {
            education: true,
            medical: true,
            housing: true,
            drinking_water: true,
        }
    }
}

impl Guarantees {
    pub fn all_secured(&self) -> bool {
        self.education && self.medical && self.housing && self.drinking_water
    }
}

/// 家庭 (户): the unit of the registry and of most determinations.
/// Invariant: at least one member and exactly one `head`; members' ID numbers are distinct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Household {
    /// The caller's household id (户编号), echoed in determinations.
    pub id: HouseholdNo,
    pub area: PlaceCode,
    pub hukou: Hukou,
    /// 脱贫户
    pub lifted_from_poverty: bool,
    pub members: Vec<Person>,
    pub income_12m: Income,
    pub property: Property,
    pub rigid_expenditure_12m: RigidExpenditure,
    pub guarantees: Guarantees,
    pub risks: Vec<Risk>,
    pub months_above_monitoring_line: u32,
}

impl Household {
    pub fn head(&self) -> Option<&Person> {
        self.members
            .iter()
            .find(|person| person.relation == Relation::Head)
    }
}
