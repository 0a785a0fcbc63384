//! 角色 (U2): what a user may do; where is given by the user's place.

use crate::vocabulary;

vocabulary!(
    /// 用户角色
    Role {
        /// 区民政局 (confirms 低保/特困/边缘/刚性)
        DistrictCivilAffairs = "district_civil_affairs" / "区民政局",
        /// 区农业农村委 (confirms monitoring objects)
        DistrictAgriculture = "district_agriculture" / "区农业农村委",
        /// 镇街审核人员
        TownReviewer = "town_reviewer" / "镇街审核人员",
        /// 村社协理员
        VillageAssistant = "village_assistant" / "村社协理员",
        /// 网格员
        GridWorker = "grid_worker" / "网格员",
        /// 专项部门 (卫健, 医保, 教育, 住建, 人社, 残联, 应急 …)
        Department = "department" / "专项部门",
        /// 审计（只读）
        Auditor = "auditor" / "审计人员",
        /// 系统管理员
        Admin = "admin" / "系统管理员",
    }
);

impl Role {
    /// Roles that may create and change household records.
    pub fn edits_households(self) -> bool {
        matches!(
            self,
            Role::DistrictCivilAffairs
                | Role::DistrictAgriculture
                | Role::TownReviewer
                | Role::VillageAssistant
                | Role::GridWorker
        )
    }

    /// Roles that see full names and ID numbers in lists; the others see them masked.
    pub fn sees_unmasked_lists(self) -> bool {
        matches!(
            self,
            Role::DistrictCivilAffairs | Role::DistrictAgriculture | Role::TownReviewer
        )
    }

    /// Roles that may read household records at all (least privilege: the administrator
    /// manages users and places, departments receive referrals, neither browses the registry).
    pub fn reads_households(self) -> bool {
        !matches!(self, Role::Admin | Role::Department)
    }
}
