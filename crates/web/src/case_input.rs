//! 办理事项的输入: one action on a case, read from the API's JSON body or from a page form into
//! the same fields, then turned into `app::cases::CaseAction`. Bad input is
//! `AppError::Invalid` naming the field in Chinese; whether the move is allowed is the
//! workflow's business (its refusal comes back from `app`).

#[cfg(test)]
mod tests;

use app::AppError;
use app::cases::{CaseAction, JointReviewInput, NewIntake};
use chrono::NaiveDate;
use domain::interchange::HouseholdRecord;
use domain::{Category, Household, MonitoringKind, PlaceCode};
use serde_json::Value;
use std::collections::BTreeMap;
use workflow::{
    Action, ActionKind, CaseKind, CategoryVerdict, Channel, Consent, Discrepancy, Explanation,
    ReviewOutcome, Survey, TeamMember, Verdict, VillageReview,
};

/// The fields each action needs in the API's JSON body besides `action`, as each action's
/// schema in `/api/openapi.json` lists them (`required`): a body without one (or with `null`)
/// answers 422 naming it. Whether a present text may be empty is the workflow's business.
pub fn required_fields(kind: ActionKind) -> &'static [&'static str] {
    match kind {
        ActionKind::BeginComparison
        | ActionKind::CompleteComparison
        | ActionKind::PostNotice
        | ActionKind::SendBackForVerification
        | ActionKind::DeliverRefusalNotice => &[],
        ActionKind::RecordDiscrepancy => &["source", "description"],
        ActionKind::ExplainDiscrepancy => &["number", "resolution", "note"],
        ActionKind::RecordSurvey => &["team", "household"],
        ActionKind::RecordVillageReview => &["attendance", "outcome"],
        ActionKind::RecordJointReview => &["verdicts"],
        ActionKind::RecordObjection => &["summary"],
        ActionKind::AnswerObjection => &["number", "answer"],
        ActionKind::Confirm => &["category"],
        ActionKind::Decline => &["category", "reason"],
        ActionKind::Refuse | ActionKind::Withdraw | ActionKind::RecordSpecialLimit => &["reason"],
    }
}

/// The fields each action takes besides its required ones and `action` and `on`: any other
/// field of the API's body is refused naming it (issue 14).
pub fn optional_fields(kind: ActionKind) -> &'static [&'static str] {
    match kind {
        ActionKind::RecordSurvey => &["surveyed_on"],
        ActionKind::RecordVillageReview => &["held_on", "note"],
        ActionKind::RecordJointReview => &[
            "held_on",
            "monitoring_kind",
            "monitoring_kind_reason",
            "judgements",
            "support_mode",
        ],
        _ => &[],
    }
}

/// The fields of an intake in the API's body (`POST /api/v1/cases`).
pub const INTAKE_FIELDS: [&str; 8] = [
    "kind",
    "channel",
    "household_id",
    "area_code",
    "applicant",
    "summary",
    "consent",
    "received_on",
];

/// The first key of `object` outside `known`, refused naming it; `prefix` names the enclosing
/// field (`verdicts[0].`).
pub fn refuse_unknown(
    object: &serde_json::Map<String, Value>,
    known: impl Fn(&str) -> bool,
    prefix: &str,
) -> Result<(), AppError> {
    match object.keys().find(|key| !known(key)) {
        Some(key) => Err(crate::error::unknown_field_error(&format!("{prefix}{key}"))),
        None => Ok(()),
    }
}

/// The Chinese name of a required field, for its error message.
fn field_label(field: &str) -> &'static str {
    match field {
        "source" => "疑点来源",
        "description" => "疑点内容",
        "number" => "编号",
        "resolution" => "核实结果",
        "note" => "说明",
        "team" => "调查组成员",
        "household" => "入户调查的家庭情况",
        "attendance" => "参会人数",
        "outcome" => "评议结果",
        "verdicts" => "研判意见",
        "summary" => "异议内容",
        "answer" => "答复内容",
        "category" => "类别",
        "reason" => "理由",
        _ => "必填字段",
    }
}

pub fn action_label(code: &str) -> &'static str {
    ActionKind::from_code(code).map_or("", ActionKind::label)
}

/// One category's verdict as submitted: `confirm`, `override` or `none`, and the reason.
#[derive(Clone, Debug, Default)]
pub struct VerdictField {
    pub category: String,
    pub verdict: String,
    pub reason: String,
}

/// 人工核定 of one pending test as submitted: `true` (符合), `false` (不符合) or empty, and the
/// reason.
#[derive(Clone, Debug, Default)]
pub struct JudgementField {
    pub rule: String,
    pub param: String,
    pub holds: String,
    pub reason: String,
}

/// The fields of one action, whatever the source.
#[derive(Clone, Debug, Default)]
pub struct ActionFields {
    pub action: String,
    scalars: BTreeMap<String, String>,
    pub team: Vec<String>,
    pub verdicts: Vec<VerdictField>,
    pub judgements: Vec<JudgementField>,
    pub household: Option<Household>,
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The household of a survey in the interchange format, errors named `household.<field>`.
pub fn household_from_json(value: &Value) -> Result<Household, AppError> {
    let record: HouseholdRecord = crate::input::record_from(value, "household.")?;
    Household::try_from(&record)
        .map_err(|error| AppError::invalid(format!("household.{}", error.field), error.reason))
}

impl ActionFields {
    pub fn get(&self, key: &str) -> &str {
        self.scalars.get(key).map_or("", |text| text.trim())
    }

    /// From the API's body: `{"action": "...", ...}`.
    pub fn from_json(body: &Value) -> Result<ActionFields, AppError> {
        let object = body
            .as_object()
            .ok_or_else(|| AppError::invalid("body", "请求体应为JSON对象"))?;
        let mut fields = ActionFields::default();
        let action = object
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // An unknown action is named by `to_action`; its fields are not judged here.
        if let Some(kind) = ActionKind::from_code(action) {
            let (required, optional) = (required_fields(kind), optional_fields(kind));
            refuse_unknown(
                object,
                |key| {
                    key == "action"
                        || key == "on"
                        || required.contains(&key)
                        || optional.contains(&key)
                },
                "",
            )?;
        }
        // `null` is no value: a field given as null is a field left out.
        for (key, value) in object.iter().filter(|(_, value)| !value.is_null()) {
            match key.as_str() {
                "team" => {
                    fields.team = value
                        .as_array()
                        .ok_or_else(|| AppError::invalid("team", "调查组成员应为用户编号的数组"))?
                        .iter()
                        .filter_map(scalar)
                        .collect();
                }
                "verdicts" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| AppError::invalid("verdicts", "研判意见应为数组"))?;
                    for (idx, item) in list.iter().enumerate() {
                        if let Some(entry) = item.as_object() {
                            refuse_unknown(
                                entry,
                                |key| matches!(key, "category" | "verdict" | "reason"),
                                &format!("verdicts[{idx}]."),
                            )?;
                        }
                        let text = |key: &str| item.get(key).and_then(scalar).unwrap_or_default();
                        fields.verdicts.push(VerdictField {
                            category: text("category"),
                            verdict: text("verdict"),
                            reason: text("reason"),
                        });
                    }
                }
                "judgements" => {
                    let list = value
                        .as_array()
                        .ok_or_else(|| AppError::invalid("judgements", "人工核定意见应为数组"))?;
                    for (idx, item) in list.iter().enumerate() {
                        if let Some(entry) = item.as_object() {
                            refuse_unknown(
                                entry,
                                |key| matches!(key, "rule" | "param" | "holds" | "reason"),
                                &format!("judgements[{idx}]."),
                            )?;
                        }
                        let text = |key: &str| item.get(key).and_then(scalar).unwrap_or_default();
                        fields.judgements.push(JudgementField {
                            rule: text("rule"),
                            param: text("param"),
                            holds: text("holds"),
                            reason: text("reason"),
                        });
                    }
                }
                "household" => fields.household = Some(household_from_json(value)?),
                _ => {
                    if let Some(text) = scalar(value) {
                        fields.scalars.insert(key.clone(), text);
                    }
                }
            }
        }
        fields.action = fields.get("action").to_owned();
        let required = ActionKind::from_code(&fields.action).map_or(&[][..], required_fields);
        let missing: Vec<app::FieldError> = required
            .iter()
            .filter(|field| object.get(**field).is_none_or(Value::is_null))
            .map(|field| app::FieldError {
                field: (*field).to_owned(),
                message: format!("缺少{}（{field}）", field_label(field)),
            })
            .collect();
        if !missing.is_empty() {
            return Err(AppError::Invalid(missing));
        }
        Ok(fields)
    }

    /// From a page form: repeated `team` fields, `verdict_<category>` and `reason_<category>`,
    /// `judgement:<rule>:<param>` and `judgement_reason:<rule>:<param>`.
    pub fn from_form(pairs: &[(String, String)]) -> ActionFields {
        let mut fields = ActionFields::default();
        let mut verdicts: BTreeMap<String, VerdictField> = BTreeMap::new();
        let mut judgements: BTreeMap<String, JudgementField> = BTreeMap::new();
        for (key, value) in pairs {
            let judged = key
                .strip_prefix("judgement:")
                .map(|test| (test, false))
                .or_else(|| {
                    key.strip_prefix("judgement_reason:")
                        .map(|test| (test, true))
                });
            if let Some((test, is_reason)) = judged {
                let entry = judgements.entry(test.to_owned()).or_default();
                let (rule, param) = test.split_once(':').unwrap_or((test, ""));
                entry.rule = rule.to_owned();
                entry.param = param.to_owned();
                if is_reason {
                    entry.reason = value.clone();
                } else {
                    entry.holds = value.clone();
                }
            } else if key == "team" {
                if !value.trim().is_empty() {
                    fields.team.push(value.clone());
                }
            } else if let Some(code) = key.strip_prefix("verdict_") {
                let entry = verdicts.entry(code.to_owned()).or_default();
                entry.category = code.to_owned();
                entry.verdict = value.clone();
            } else if let Some(code) = key.strip_prefix("reason_") {
                let entry = verdicts.entry(code.to_owned()).or_default();
                entry.category = code.to_owned();
                entry.reason = value.clone();
            } else {
                fields.scalars.insert(key.clone(), value.clone());
            }
        }
        fields.verdicts = verdicts.into_values().collect();
        fields.judgements = judgements.into_values().collect();
        fields.action = fields.get("action").to_owned();
        fields
    }

    /// `received_on` (受理日期) of an intake entered afterwards; `None` (today) when left out.
    pub fn received_on(&self) -> Result<Option<NaiveDate>, AppError> {
        if self.get("received_on").is_empty() {
            return Ok(None);
        }
        self.date("received_on", "受理日期", NaiveDate::MIN)
            .map(Some)
    }

    /// `on` (办理日期): the date the action happened, when it is entered afterwards; `None`
    /// (today) when left out.
    pub fn on(&self) -> Result<Option<NaiveDate>, AppError> {
        if self.get("on").is_empty() {
            return Ok(None);
        }
        self.date("on", "办理日期", NaiveDate::MIN).map(Some)
    }

    /// The date field `key`; when it is left out, `on` if given, else `today`.
    fn date(&self, key: &str, label: &str, today: NaiveDate) -> Result<NaiveDate, AppError> {
        let text = self.get(key);
        if text.is_empty() {
            if key != "on" && !self.get("on").is_empty() {
                return self.date("on", "办理日期", today);
            }
            return Ok(today);
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| AppError::invalid(key, format!("{label}“{text}”无效，应为YYYY-MM-DD")))
    }

    fn number(&self, key: &str, label: &str) -> Result<u32, AppError> {
        let text = self.get(key);
        if text.is_empty() {
            return Err(AppError::invalid(key, format!("请填写{label}")));
        }
        text.parse()
            .map_err(|_| AppError::invalid(key, format!("{label}应为正整数")))
    }

    fn category(&self) -> Result<Category, AppError> {
        Category::from_code(self.get("category"))
            .ok_or_else(|| AppError::invalid("category", "请选择要审核的类别"))
    }

    fn text(&self, key: &str) -> String {
        self.get(key).to_owned()
    }

    /// The action these fields describe.
    pub fn to_action(&self, today: NaiveDate) -> Result<CaseAction, AppError> {
        let step = |action: Action| Ok(CaseAction::Move(action));
        let kind = match self.action.as_str() {
            "" => return Err(AppError::invalid("action", "请指明办理事项（action）")),
            code => ActionKind::from_code(code)
                .ok_or_else(|| AppError::invalid("action", format!("未知的办理事项“{code}”")))?,
        };
        match kind {
            ActionKind::BeginComparison => step(Action::BeginComparison),
            ActionKind::RecordDiscrepancy => step(Action::RecordDiscrepancy(Discrepancy {
                source: self.text("source"),
                description: self.text("description"),
            })),
            ActionKind::ExplainDiscrepancy => {
                let number = self.number("number", "疑点编号")?;
                let note = self.text("note");
                let explanation = match self.get("resolution") {
                    "resolved" => Explanation::Resolved { note },
                    "confirmed" => Explanation::Confirmed { note },
                    _ => {
                        return Err(AppError::invalid(
                            "resolution",
                            "请选择疑点核实结果（已排除或已核实）",
                        ));
                    }
                };
                step(Action::ExplainDiscrepancy {
                    number,
                    explanation,
                })
            }
            ActionKind::CompleteComparison => step(Action::CompleteComparison),
            ActionKind::RecordSurvey => {
                let household = self
                    .household
                    .clone()
                    .ok_or_else(|| AppError::invalid("household", "请填写入户调查的家庭情况"))?;
                let mut team = Vec::with_capacity(self.team.len());
                for member in &self.team {
                    let user_id = member.trim().parse::<i64>().map_err(|_| {
                        AppError::invalid("team", format!("调查组成员“{member}”应为用户编号"))
                    })?;
                    team.push(TeamMember {
                        user_id,
                        name: String::new(),
                    });
                }
                step(Action::RecordSurvey(Survey {
                    household,
                    team,
                    surveyed_on: self.date("surveyed_on", "调查日期", today)?,
                }))
            }
            ActionKind::RecordVillageReview => {
                let outcome = ReviewOutcome::from_code(self.get("outcome")).ok_or_else(|| {
                    AppError::invalid("outcome", "请选择评议结果（同意或不同意）")
                })?;
                step(Action::RecordVillageReview(VillageReview {
                    held_on: self.date("held_on", "评议日期", today)?,
                    attendance: self.number("attendance", "参会人数")?,
                    outcome,
                    note: self.text("note"),
                }))
            }
            ActionKind::RecordJointReview => {
                let mut verdicts = Vec::new();
                for field in &self.verdicts {
                    let category = Category::from_code(field.category.trim()).ok_or_else(|| {
                        AppError::invalid(
                            "verdicts",
                            format!("类别“{}”无效", field.category.trim()),
                        )
                    })?;
                    let verdict = match field.verdict.trim() {
                        "confirm" => Verdict::Confirm,
                        "override" => Verdict::Override {
                            reason: field.reason.trim().to_owned(),
                        },
                        "" | "none" => continue,
                        other => {
                            return Err(AppError::invalid(
                                format!("verdict_{}", category.code()),
                                format!("“{}”的研判意见“{other}”无效", category.label()),
                            ));
                        }
                    };
                    verdicts.push(CategoryVerdict { category, verdict });
                }
                let monitoring_kind = match self.get("monitoring_kind") {
                    "" => None,
                    code => Some(MonitoringKind::from_code(code).ok_or_else(|| {
                        AppError::invalid("monitoring_kind", format!("监测类型“{code}”无效"))
                    })?),
                };
                // A pending test left without 符合 / 不符合 is left out: the workflow names it.
                let mut judgements = Vec::new();
                for field in &self.judgements {
                    let holds = match field.holds.trim() {
                        "true" | "holds" => true,
                        "false" | "fails" => false,
                        "" => continue,
                        other => {
                            return Err(AppError::invalid(
                                format!("judgement:{}:{}", field.rule, field.param),
                                format!(
                                    "参数{}的人工核定意见“{other}”无效，应为符合（true）或不符合（false）",
                                    field.param
                                ),
                            ));
                        }
                    };
                    judgements.push(workflow::PendingJudgement {
                        rule: field.rule.trim().to_owned(),
                        param: field.param.trim().to_owned(),
                        holds,
                        reason: field.reason.trim().to_owned(),
                    });
                }
                // D2: 供养方式 of a 特困 the meeting starts; the workflow refuses its absence then
                // and does not record it otherwise.
                let support_mode = match self.get("support_mode") {
                    "" => None,
                    code => Some(domain::SupportMode::from_code(code).ok_or_else(|| {
                        AppError::invalid(
                            "support_mode",
                            format!("供养方式“{code}”无效，应为分散供养（dispersed）或集中供养（centralised）"),
                        )
                    })?),
                };
                Ok(CaseAction::RecordJointReview(JointReviewInput {
                    held_on: self.date("held_on", "会议日期", today)?,
                    verdicts,
                    monitoring_kind,
                    monitoring_kind_reason: self.text("monitoring_kind_reason"),
                    judgements,
                    support_mode,
                }))
            }
            ActionKind::PostNotice => step(Action::PostNotice),
            ActionKind::RecordObjection => step(Action::RecordObjection {
                summary: self.text("summary"),
            }),
            ActionKind::SendBackForVerification => step(Action::SendBackForVerification),
            ActionKind::AnswerObjection => step(Action::AnswerObjection {
                number: self.number("number", "异议编号")?,
                answer: self.text("answer"),
            }),
            ActionKind::Confirm => step(Action::Confirm {
                category: self.category()?,
            }),
            ActionKind::Decline => step(Action::Decline {
                category: self.category()?,
                reason: self.text("reason"),
            }),
            ActionKind::Refuse => step(Action::Refuse {
                reason: self.text("reason"),
            }),
            ActionKind::DeliverRefusalNotice => step(Action::DeliverRefusalNotice),
            ActionKind::Withdraw => step(Action::Withdraw {
                reason: self.text("reason"),
            }),
            ActionKind::RecordSpecialLimit => step(Action::RecordSpecialLimit {
                reason: self.text("reason"),
            }),
        }
    }

    /// 受理登记 from these fields (`kind`, `channel`, `household_id`, `area_code`,
    /// `applicant`, `consent` (on/true) with `consent_signer` and `consent_signed_on`, `summary`).
    pub fn to_intake(&self, today: NaiveDate) -> Result<NewIntake, AppError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(app::FieldError {
                field: field.to_owned(),
                message,
            });
        };
        let kind = CaseKind::from_code(self.get("kind"));
        if kind.is_none() {
            fail("kind", "请选择案件类型".to_owned());
        }
        let channel = Channel::from_code(self.get("channel"));
        if channel.is_none() {
            fail("channel", "请选择受理渠道".to_owned());
        }
        let household_id = self.text("household_id");
        if household_id.is_empty() {
            fail("household_id", "请填写户编号".to_owned());
        }
        let area = PlaceCode::parse(self.get("area_code")).ok();
        if area.is_none() {
            fail("area_code", "请选择所在村（社区）".to_owned());
        }
        let applicant = self.text("applicant");
        if applicant.is_empty() {
            fail("applicant", "请填写申请人姓名".to_owned());
        }
        let consent = if matches!(self.get("consent"), "on" | "true" | "1") {
            let signer = match self.get("consent_signer") {
                "" => applicant.clone(),
                signer => signer.to_owned(),
            };
            match self.date("consent_signed_on", "授权签署日期", today) {
                Ok(signed_on) => Some(Consent { signed_on, signer }),
                Err(AppError::Invalid(list)) => {
                    for error in list {
                        fail(&error.field, error.message);
                    }
                    None
                }
                Err(other) => return Err(other),
            }
        } else {
            None
        };
        match (kind, channel, area) {
            (Some(kind), Some(channel), Some(area)) if errors.is_empty() => Ok(NewIntake {
                kind,
                channel,
                household_id,
                area,
                applicant,
                consent,
                summary: self.text("summary"),
            }),
            _ => Err(AppError::Invalid(errors)),
        }
    }
}

/// The form field a workflow refusal is about, so the page shows it next to that field.
pub fn refusal_field(code: &str) -> &'static str {
    match code {
        "consent_missing" => "consent",
        "applicant_missing" => "applicant",
        "area_not_village" => "area_code",
        "team_too_small"
        | "team_member_unnamed"
        | "team_member_inactive"
        | "team_member_may_not_survey" => "team",
        "date_in_future" | "date_before_previous_step" => "date",
        "attendance_missing" => "attendance",
        "reason_missing" | "note_missing" => "reason",
        "proposal_undecided" | "not_proposed" | "decided_twice" => "verdicts",
        "monitoring_kind_missing" | "monitoring_kind_unexpected" => "monitoring_kind",
        "support_mode_missing" => "support_mode",
        "risk_elimination_reason_missing" => "summary",
        "monitoring_ends_only_by_risk_elimination" | "risk_not_eliminated" => "verdicts",
        _ => "",
    }
}
