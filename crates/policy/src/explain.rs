//! 说明: the reasons a determination gives, one per rule evaluated, each citing its parameters.

use crate::catalogue::{DatedValue, Param, Snapshot};
use domain::Yuan;
use std::fmt;

/// One line of explanation: a rule (or a test within a rule), whether it held, a Chinese
/// sentence with the numbers, and each parameter it read as it stood on the as-of date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason<'s> {
    /// Stable id such as `dibao.income_below_standard`.
    pub rule: &'static str,
    pub holds: bool,
    pub text: String,
    pub params: Vec<ParamUse<'s>>,
}

/// A parameter read by a rule: its value, start date and source (`None` when not configured).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamUse<'s> {
    pub param: Param,
    pub value: Option<&'s DatedValue>,
    /// Its JSON in the output record, written once per snapshot.
    pub(crate) json: &'s str,
}

/// Collects reasons when explaining; does nothing (and builds no text) otherwise.
pub(crate) struct Reasons<'s> {
    snapshot: &'s Snapshot,
    on: bool,
    pub(crate) list: Vec<Reason<'s>>,
}

impl<'s> Reasons<'s> {
    pub(crate) fn new(snapshot: &'s Snapshot, on: bool) -> Self {
        Reasons {
            snapshot,
            on,
            list: if on {
                Vec::with_capacity(24)
            } else {
                Vec::new()
            },
        }
    }

    pub(crate) fn on(&self) -> bool {
        self.on
    }

    /// Records a reason; `text` runs only when explaining.
    pub(crate) fn add(
        &mut self,
        rule: &'static str,
        holds: bool,
        params: &[Param],
        text: impl FnOnce() -> String,
    ) {
        if !self.on {
            return;
        }
        let params = params
            .iter()
            .map(|&param| ParamUse {
                param,
                value: self.snapshot.get(param),
                json: self.snapshot.param_json(param),
            })
            .collect();
        self.list.push(Reason {
            rule,
            holds,
            text: text(),
            params,
        });
    }
}

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
