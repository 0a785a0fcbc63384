//! 认定 on the household page (P6, D2): the rules engine's determination for one household on a
//! date, with the explanation and every parameter read, as owned values for the shell.

use crate::{App, AppError};
use chrono::NaiveDate;
use domain::{Category, Household, MonitoringKind, Yuan};
use policy::Scope;

#[derive(Clone, Debug)]
pub struct GrantView {
    pub category: Category,
    pub person: Option<String>,
    pub monthly: Option<Yuan>,
}

#[derive(Clone, Debug)]
pub struct ParamView {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub since: String,
    pub source: String,
    pub status: &'static str,
}

#[derive(Clone, Debug)]
pub struct ReasonView {
    pub rule: &'static str,
    pub holds: bool,
    pub text: String,
    pub params: Vec<ParamView>,
}

/// What the rules propose for one household on `as_of`, explained.
#[derive(Clone, Debug)]
pub struct AssessmentView {
    pub as_of: NaiveDate,
    pub primary: Option<Category>,
    pub grants: Vec<GrantView>,
    pub monitoring: Option<MonitoringKind>,
    pub risk_eliminated: bool,
    pub monthly_benefit: Yuan,
    pub income_per_capita_month: Yuan,
    pub recheck_months: u32,
    pub reasons: Vec<ReasonView>,
}

impl App {
    /// The determination of a household the caller has already loaded through a use case that
    /// checked access (`household_detail`); `name_of` gives the name shown for a member.
    pub fn assess_household(
        &self,
        household: &Household,
        as_of: NaiveDate,
        name_of: impl Fn(&domain::NationalId) -> String,
    ) -> Result<AssessmentView, AppError> {
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(as_of);
        let determination = policy::determine(household, &snapshot, as_of);
        let grants = determination
            .categories
            .iter()
            .map(|grant| GrantView {
                category: grant.category,
                person: match grant.scope {
                    Scope::Person => grant.id_number.as_ref().map(&name_of),
                    Scope::Household => None,
                },
                monthly: grant.monthly,
            })
            .collect();
        let reasons = determination
            .explanation
            .iter()
            .map(|reason| ReasonView {
                rule: reason.rule,
                holds: reason.holds,
                text: reason.text.clone(),
                params: reason
                    .params
                    .iter()
                    .map(|used| ParamView {
                        name: used.param.name(),
                        label: snapshot.label(used.param).to_owned(),
                        value: used
                            .value
                            .map_or_else(|| "未配置".to_owned(), |dated| dated.value.to_string()),
                        since: used
                            .value
                            .map(|dated| dated.since.to_string())
                            .unwrap_or_default(),
                        source: used
                            .value
                            .map(|dated| dated.source.clone())
                            .unwrap_or_default(),
                        status: used.value.map_or("待录入", |dated| dated.status.label()),
                    })
                    .collect(),
            })
            .collect();
        Ok(AssessmentView {
            as_of,
            primary: determination.primary,
            grants,
            monitoring: determination.monitoring,
            risk_eliminated: determination.risk_eliminated,
            monthly_benefit: determination.monthly_benefit,
            income_per_capita_month: determination.income_per_capita_month,
            recheck_months: determination.recheck_months,
            reasons,
        })
    }
}
