//! How money is written: in sentences (`ShortYuan`: `630`, `412.50`) and in JSON records
//! (`Money`: a number of yuan). Below the catalogue, the rules and their explanations, which
//! all write amounts.

use domain::Yuan;
use serde::{Serialize, Serializer};
use std::fmt;

/// Money for sentences: whole yuan without decimals (`630`), otherwise two (`412.50`).
#[derive(Clone, Copy, Debug)]
pub struct ShortYuan(pub Yuan);

impl fmt::Display for ShortYuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fen = self.0.fen();
        if fen % 100 == 0 {
            write!(f, "{}", fen / 100)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Money as a JSON number of yuan (exact for any real amount: at most two decimals).
pub(crate) struct Money(pub(crate) Yuan);

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0.to_f64())
    }
}
