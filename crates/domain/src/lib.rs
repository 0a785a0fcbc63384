//! Vocabulary of safetynet (低收入人口救助帮扶平台): the values every other crate speaks in.
//!
//! Invariant: a value of any type here is valid once it exists. `NationalId` has passed the
//! GB 11643 checksum, `PlaceCode` is a well-formed Tongliang statistical code, `Yuan` is an
//! exact number of fen (分). No IO, no clock, no randomness.
//!
//! `interchange` holds the serde form of `spec/HOUSEHOLD.md` (the JSON households) and its
//! conversion to and from `Household`; the domain types themselves derive no serde.

pub mod category;
pub mod disclosure;
pub mod feed_date;
pub mod given_period;
pub mod household;
pub mod household_no;
pub mod input;
pub mod interchange;
pub mod item_code;
pub mod money;
pub mod national_id;
pub mod place;
pub mod role;
pub mod stat_period;
pub mod states;
pub mod tracking_number;
pub mod vocabulary;

pub use category::{Category, MonitoringKind, Period, SupportMode};
pub use feed_date::{FeedDate, InvalidFeedDate};
pub use given_period::{GivenPeriod, InvalidGivenPeriod};
pub use household::{
    CareNeed, Disability, DisabilityKind, Guarantees, Household, Hukou, Income, LabourCapacity,
    Person, Property, Relation, RigidExpenditure, Risk, Schooling, Supporter, Vehicle, VehicleKind,
};
pub use household_no::{HouseholdNo, InvalidHouseholdNo};
pub use input::InputError;
pub use item_code::{InvalidItemCode, ItemCode};
pub use money::Yuan;
pub use national_id::{InvalidNationalId, NationalId, Sex, ShownId};
pub use place::{
    InvalidPlaceCode, InvalidPlaceList, Place, PlaceCode, PlaceLevel, parse_place_list,
};
pub use role::Role;
pub use stat_period::{InvalidStatPeriod, StatPeriod};
pub use tracking_number::{InvalidTrackingNumber, TrackingNumber};
pub use vocabulary::Words;

#[cfg(test)]
mod interchange_props;
#[cfg(test)]
mod tests;
