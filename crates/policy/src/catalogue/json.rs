//! The JSON of the catalogue's values and of a parameter use (`{"name", "value", "since",
//! "source"}`), and of dates in records; the output record (`crate::record`) writes them.

use super::{DatedValue, Param, Value};
use crate::money::Money;
use chrono::NaiveDate;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// A date in JSON records (`YYYY-MM-DD`).
pub(crate) struct Date(pub(crate) NaiveDate);

impl Serialize for Date {
    /// `YYYY-MM-DD` written digit by digit: chrono's formatter parses its pattern on every call,
    /// which shows in a profile of a million records.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use chrono::Datelike;
        let year = self.0.year();
        if !(0..=9999).contains(&year) {
            return serializer.collect_str(&self.0);
        }
        let digit = |value: u32| b'0' + u8::try_from(value % 10).unwrap_or(0);
        let year = year.unsigned_abs();
        let (month, day) = (self.0.month(), self.0.day());
        let text = [
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            b'-',
            digit(month / 10),
            digit(month),
            b'-',
            digit(day / 10),
            digit(day),
        ];
        serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

pub(crate) struct ParamJson<'a> {
    pub(crate) param: Param,
    pub(crate) value: Option<&'a DatedValue>,
}

/// The JSON of a parameter use, rendered once per snapshot.
pub(crate) fn render_param_use(param: Param, value: Option<&DatedValue>) -> String {
    serde_json::to_string(&ParamJson { param, value }).unwrap_or_default()
}

impl Serialize for ParamJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("name", self.param.name())?;
        match self.value {
            Some(dated) => {
                map.serialize_entry("value", &dated.value)?;
                map.serialize_entry("since", &Date(dated.since))?;
                map.serialize_entry("source", &dated.source)?;
            }
            None => map.serialize_entry("value", &())?,
        }
        map.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Money(yuan) => Money(*yuan).serialize(serializer),
            Value::Decimal(decimal) => {
                let number = f64::try_from(*decimal).unwrap_or_default();
                serializer.serialize_f64(number)
            }
            Value::Integer(integer) => serializer.serialize_i64(*integer),
            Value::Flag(flag) => serializer.serialize_bool(*flag),
        }
    }
}
