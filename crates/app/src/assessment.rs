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
    /// The rule id (API, exports); pages show `title`.
    pub rule: &'static str,
    /// The rule's Chinese name (`财产状况`).
    pub title: &'static str,
    pub holds: bool,
    /// 待人工核定: a parameter the test needs has no value on the date.
    pub pending: bool,
    pub text: String,
    pub params: Vec<ParamView>,
}

impl ReasonView {
    /// 成立 / 不成立 / 待人工核定.
    pub fn verdict(&self) -> &'static str {
        verdict(self.holds, self.pending)
    }
}

/// A test the determination rests on that could not be decided (待人工核定).
#[derive(Clone, Debug)]
pub struct PendingView {
    pub rule: &'static str,
    pub param: &'static str,
    /// The parameter's Chinese label.
    pub label: String,
    pub text: String,
}

fn verdict(holds: bool, pending: bool) -> &'static str {
    match (holds, pending) {
        (_, true) => "待人工核定",
        (true, false) => "成立",
        (false, false) => "不成立",
    }
}

/// One line of explanation for a case's record and printouts: the rule's Chinese name, its
/// verdict, the sentence, and each parameter read with its value, start date and source.
pub fn reason_line(reason: &policy::Reason<'_>) -> String {
    let mut line = format!(
        "{}（{}）：{}",
        policy::rule_title(reason.rule),
        verdict(reason.holds, reason.pending),
        reason.text
    );
    let params: Vec<String> = reason
        .params
        .iter()
        .map(|used| match used.value {
            Some(dated) => format!(
                "{} {}（{} 起，{}）",
                used.param.name(),
                dated.value,
                dated.since,
                dated.source
            ),
            None => format!("{} 未配置", used.param.name()),
        })
        .collect();
    if !params.is_empty() {
        line.push_str(&format!("〔参数：{}〕", params.join("；")));
    }
    line
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
    /// 待人工核定: empty when every test was decided.
    pub pending: Vec<PendingView>,
    pub reasons: Vec<ReasonView>,
}

impl AssessmentView {
    /// `金融资产上限…、机动车价值上限…`: the parameters the pending tests wait for.
    pub fn pending_labels(&self) -> String {
        let mut labels: Vec<&str> = Vec::new();
        for pending in &self.pending {
            if !labels.contains(&pending.label.as_str()) {
                labels.push(&pending.label);
            }
        }
        labels.join("、")
    }
}

impl App {
    /// The determination of a household the caller has already loaded through a use case that
    /// checked access (`household_detail`, with its recorded `incomes`: rule 9 reads the
    /// months above the monitoring line from them); `name_of` gives the name shown for a member.
    pub fn assess_household(
        &self,
        household: &Household,
        incomes: &[policy::IncomeRecord],
        as_of: NaiveDate,
        name_of: impl Fn(&domain::NationalId) -> String,
    ) -> Result<AssessmentView, AppError> {
        let catalogue = self.catalogue()?;
        let snapshot = catalogue.snapshot(as_of);
        let household = &policy::with_income_history(household, incomes, &snapshot, as_of);
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
                title: policy::rule_title(reason.rule),
                holds: reason.holds,
                pending: reason.pending,
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
            pending: determination
                .pending
                .iter()
                .map(|pending| PendingView {
                    rule: pending.rule,
                    param: pending.param.name(),
                    label: snapshot.label(pending.param).to_owned(),
                    text: pending.text.to_owned(),
                })
                .collect(),
            reasons,
        })
    }
}
