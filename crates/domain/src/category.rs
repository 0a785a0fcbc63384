//! 救助类别 and 监测对象 with their dated periods (D2).

use crate::vocabulary;
use chrono::NaiveDate;

vocabulary!(
    /// 救助类别: the primary categories, highest first (就高不就低 order of RULES.md rule 8),
    /// and the monitoring tag (防止返贫监测对象), which stands beside a primary category.
    Category {
        /// 特困供养人员
        Tekun = "tekun" / "特困人员",
        /// 最低生活保障
        Dibao = "dibao" / "低保",
        /// 低保单人保
        DibaoSingle = "dibao_single" / "低保单人保",
        /// 低保边缘家庭
        DibaoEdge = "dibao_edge" / "低保边缘",
        /// 刚性支出困难家庭
        RigidExpenditure = "rigid_expenditure" / "刚性支出困难",
        /// 其他困难人员
        OtherNeedy = "other_needy" / "其他困难人员",
        /// 防止返贫监测对象
        Monitoring = "monitoring" / "防止返贫监测对象",
    }
);

vocabulary!(
    /// 监测对象类型
    MonitoringKind {
        /// 脱贫不稳定户
        UnstableLifted = "unstable_lifted" / "脱贫不稳定户",
        /// 边缘易致贫户
        EdgeProne = "edge_prone" / "边缘易致贫户",
        /// 突发严重困难户
        SuddenHardship = "sudden_hardship" / "突发严重困难户",
    }
);

vocabulary!(
    /// 供养方式 of a 特困 person (D2): recorded on the 特困 category period.
    SupportMode {
        /// 分散供养
        Dispersed = "dispersed" / "分散供养",
        /// 集中供养
        Centralised = "centralised" / "集中供养",
    }
);

impl Category {
    /// The department that confirms this category (U2): 民政 for assistance, 农业农村 for monitoring.
    pub fn confirmed_by_agriculture(self) -> bool {
        self == Category::Monitoring
    }
}

/// A dated period `[start, end)`; an open period has no end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl Period {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date < end)
    }
}
