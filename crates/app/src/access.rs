//! 权限: who may do what where (U2). Deny by default.

use domain::{PlaceCode, PlaceLevel, Role};

/// The signed-in user on whose behalf a use case runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: PlaceCode,
}

impl Actor {
    /// The operator at the console (who holds the database credentials anyway), acting over
    /// the whole district for read-only batch work such as `safetynet simulate`.
    pub fn console(operator: &str, district: PlaceCode) -> Actor {
        Actor {
            user_id: 0,
            username: format!("console:{operator}"),
            display_name: operator.to_owned(),
            role: Role::DistrictCivilAffairs,
            area: district,
        }
    }

    /// The actor name written into audit events.
    pub fn audit_name(&self) -> String {
        format!("{}#{}", self.username, self.user_id)
    }

    /// The part of the tree the actor works in. Households are recorded at village level, so
    /// a grid worker's scope is the grid's village.
    pub fn scope(&self) -> PlaceCode {
        self.area
            .at_level(PlaceLevel::Village)
            .filter(|_| self.area.level() == PlaceLevel::Grid)
            .unwrap_or_else(|| self.area.clone())
    }

    /// True when `place` lies inside the actor's scope.
    pub fn covers(&self, place: &PlaceCode) -> bool {
        self.scope().contains(place)
    }

    pub fn may_read_household(&self, place: &PlaceCode) -> bool {
        self.role.reads_households() && self.covers(place)
    }

    /// Whether lists show full names and ID numbers to this actor.
    pub fn sees_unmasked(&self) -> bool {
        self.role.sees_unmasked_lists()
    }
}
