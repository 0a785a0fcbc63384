//! The JSON of a case event's fact (stored in `case_events.fact`): a serde mirror of
//! `workflow::Fact`, which derives no serde (core). Codes are the vocabulary's stable codes;
//! the survey's household is the interchange record.

use chrono::NaiveDate;
use domain::interchange::HouseholdRecord;
use domain::{Category, Household, HouseholdNo, MonitoringKind, PlaceCode, Role};
use serde::{Deserialize, Serialize};
use workflow::{
    CaseKind, CategoryVerdict, Change, Channel, Consent, DatedChange, DecidedCategory,
    DepartmentDecision, Discrepancy, Explanation, Fact, Intake, JointReview, Notice,
    PendingJudgement, PendingTest, Proposal, ReviewOutcome, Step, Survey, TeamMember,
    TrackingNumber, Verdict, VillageReview,
};

/// A stored fact that does not read back (a code or record no longer valid).
#[derive(Debug, thiserror::Error)]
#[error("stored case fact: {0}")]
pub struct InvalidFact(pub String);

fn code<T>(text: &str, from_code: fn(&str) -> Option<T>, what: &str) -> Result<T, InvalidFact> {
    from_code(text).ok_or_else(|| InvalidFact(format!("unknown {what} {text:?}")))
}

fn household_no(text: &str) -> Result<HouseholdNo, InvalidFact> {
    HouseholdNo::parse(text).map_err(|error| InvalidFact(format!("household number: {error}")))
}

fn categories(codes: &[String]) -> Result<Vec<Category>, InvalidFact> {
    codes
        .iter()
        .map(|text| code(text, Category::from_code, "category"))
        .collect()
}

fn category_codes(categories: &[Category]) -> Vec<String> {
    categories.iter().map(|c| c.code().to_owned()).collect()
}

fn kind_of(text: &Option<String>) -> Result<Option<MonitoringKind>, InvalidFact> {
    text.as_deref()
        .map(|text| code(text, MonitoringKind::from_code, "monitoring kind"))
        .transpose()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum FactDto {
    Received(IntakeDto),
    SharedWith {
        department: String,
    },
    StepEntered {
        step: String,
    },
    DiscrepancyRecorded {
        number: u32,
        source: String,
        description: String,
    },
    DiscrepancyExplained {
        number: u32,
        explanation: ExplanationDto,
    },
    SurveyRecorded(SurveyDto),
    VillageReviewRecorded(VillageReviewDto),
    JointReviewRecorded {
        review: JointReviewDto,
        decided: Vec<DecidedDto>,
    },
    NoticePosted {
        posted_on: NaiveDate,
        ends_on: NaiveDate,
        days: u32,
    },
    ObjectionRecorded {
        number: u32,
        summary: String,
    },
    SentBackForVerification,
    ObjectionAnswered {
        number: u32,
        answer: String,
    },
    CategoryConfirmed {
        category: String,
    },
    CategoryDeclined {
        category: String,
        reason: String,
    },
    Concluded {
        changes: Vec<DatedChangeDto>,
    },
    MonitoringContinues {
        /// 户编号 (stored under its first name).
        #[serde(rename = "household_id")]
        household_no: String,
    },
    Refused {
        reason: String,
    },
    RefusalNoticeDelivered,
    Withdrawn {
        reason: String,
    },
    SpecialLimitRecorded {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntakeDto {
    pub kind: String,
    pub channel: String,
    pub tracking_number: String,
    /// 户编号, stored under its first name, which old events carry.
    #[serde(rename = "household_id")]
    pub household_no: String,
    pub area: String,
    pub applicant: String,
    pub consent: Option<ConsentDto>,
    pub held: Vec<String>,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentDto {
    pub signed_on: NaiveDate,
    pub signer: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExplanationDto {
    Resolved { note: String },
    Confirmed { note: String },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SurveyDto {
    pub household: HouseholdRecord,
    pub team: Vec<TeamMemberDto>,
    pub surveyed_on: NaiveDate,
}

impl PartialEq for SurveyDto {
    fn eq(&self, other: &Self) -> bool {
        self.team == other.team
            && self.surveyed_on == other.surveyed_on
            && serde_json::to_value(&self.household).ok()
                == serde_json::to_value(&other.household).ok()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamMemberDto {
    pub user_id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VillageReviewDto {
    pub held_on: NaiveDate,
    pub attendance: u32,
    pub outcome: String,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalDto {
    pub categories: Vec<String>,
    pub monitoring_kind: Option<String>,
    pub explanation: String,
    /// 待人工核定 (absent in events written before pending tests existed).
    #[serde(default)]
    pub pending: Vec<PendingTestDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingTestDto {
    pub rule: String,
    pub param: String,
    pub text: String,
}

/// 人工核定: the meeting's judgement on a pending test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgementDto {
    pub rule: String,
    pub param: String,
    pub holds: bool,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictDto {
    pub category: String,
    /// `None` for 同意建议, the written reason for 改判.
    pub override_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointReviewDto {
    pub held_on: NaiveDate,
    pub proposal: ProposalDto,
    pub verdicts: Vec<VerdictDto>,
    pub monitoring_kind: Option<String>,
    pub monitoring_kind_reason: String,
    #[serde(default)]
    pub judgements: Vec<JudgementDto>,
    /// D2: 供养方式 of the 特困 the meeting starts (absent in reviews stored before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_mode: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum DecisionDto {
    Confirmed {
        on: NaiveDate,
        by: i64,
    },
    Declined {
        on: NaiveDate,
        by: i64,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecidedDto {
    pub category: String,
    pub monitoring_kind: Option<String>,
    pub change: String,
    pub decision: Option<DecisionDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatedChangeDto {
    pub category: String,
    pub monitoring_kind: Option<String>,
    pub change: String,
    pub on: NaiveDate,
}

impl From<&Intake> for IntakeDto {
    fn from(intake: &Intake) -> Self {
        IntakeDto {
            kind: intake.kind.code().to_owned(),
            channel: intake.channel.code().to_owned(),
            tracking_number: intake.tracking_number.as_str().to_owned(),
            household_no: intake.household_no.as_str().to_owned(),
            area: intake.area.as_str().to_owned(),
            applicant: intake.applicant.clone(),
            consent: intake.consent.as_ref().map(|consent| ConsentDto {
                signed_on: consent.signed_on,
                signer: consent.signer.clone(),
            }),
            held: category_codes(&intake.held),
            summary: intake.summary.clone(),
        }
    }
}

impl TryFrom<&IntakeDto> for Intake {
    type Error = InvalidFact;
    fn try_from(dto: &IntakeDto) -> Result<Self, InvalidFact> {
        Ok(Intake {
            kind: code(&dto.kind, CaseKind::from_code, "case kind")?,
            channel: code(&dto.channel, Channel::from_code, "channel")?,
            tracking_number: TrackingNumber::parse(&dto.tracking_number)
                .map_err(|error| InvalidFact(error.to_string()))?,
            household_no: household_no(&dto.household_no)?,
            area: PlaceCode::parse(&dto.area).map_err(|error| InvalidFact(error.to_string()))?,
            applicant: dto.applicant.clone(),
            consent: dto.consent.as_ref().map(|consent| Consent {
                signed_on: consent.signed_on,
                signer: consent.signer.clone(),
            }),
            held: categories(&dto.held)?,
            summary: dto.summary.clone(),
        })
    }
}

impl From<&Explanation> for ExplanationDto {
    fn from(explanation: &Explanation) -> Self {
        match explanation {
            Explanation::Resolved { note } => ExplanationDto::Resolved { note: note.clone() },
            Explanation::Confirmed { note } => ExplanationDto::Confirmed { note: note.clone() },
        }
    }
}

impl From<&ExplanationDto> for Explanation {
    fn from(dto: &ExplanationDto) -> Self {
        match dto {
            ExplanationDto::Resolved { note } => Explanation::Resolved { note: note.clone() },
            ExplanationDto::Confirmed { note } => Explanation::Confirmed { note: note.clone() },
        }
    }
}

impl From<&Survey> for SurveyDto {
    fn from(survey: &Survey) -> Self {
        SurveyDto {
            household: HouseholdRecord::from(&survey.household),
            team: survey
                .team
                .iter()
                .map(|member| TeamMemberDto {
                    user_id: member.user_id,
                    name: member.name.clone(),
                })
                .collect(),
            surveyed_on: survey.surveyed_on,
        }
    }
}

impl TryFrom<&SurveyDto> for Survey {
    type Error = InvalidFact;
    fn try_from(dto: &SurveyDto) -> Result<Self, InvalidFact> {
        Ok(Survey {
            household: Household::try_from(&dto.household)
                .map_err(|error| InvalidFact(error.to_string()))?,
            team: dto
                .team
                .iter()
                .map(|member| TeamMember {
                    user_id: member.user_id,
                    name: member.name.clone(),
                })
                .collect(),
            surveyed_on: dto.surveyed_on,
        })
    }
}

impl From<&JointReview> for JointReviewDto {
    fn from(review: &JointReview) -> Self {
        JointReviewDto {
            held_on: review.held_on,
            proposal: ProposalDto {
                categories: category_codes(&review.proposal.categories),
                monitoring_kind: review
                    .proposal
                    .monitoring_kind
                    .map(|kind| kind.code().to_owned()),
                explanation: review.proposal.explanation.clone(),
                pending: review
                    .proposal
                    .pending
                    .iter()
                    .map(|test| PendingTestDto {
                        rule: test.rule.clone(),
                        param: test.param.clone(),
                        text: test.text.clone(),
                    })
                    .collect(),
            },
            verdicts: review
                .verdicts
                .iter()
                .map(|verdict| VerdictDto {
                    category: verdict.category.code().to_owned(),
                    override_reason: match &verdict.verdict {
                        Verdict::Confirm => None,
                        Verdict::Override { reason } => Some(reason.clone()),
                    },
                })
                .collect(),
            monitoring_kind: review.monitoring_kind.map(|kind| kind.code().to_owned()),
            monitoring_kind_reason: review.monitoring_kind_reason.clone(),
            judgements: review
                .judgements
                .iter()
                .map(|judgement| JudgementDto {
                    rule: judgement.rule.clone(),
                    param: judgement.param.clone(),
                    holds: judgement.holds,
                    reason: judgement.reason.clone(),
                })
                .collect(),
            support_mode: review.support_mode.map(|mode| mode.code().to_owned()),
        }
    }
}

impl TryFrom<&JointReviewDto> for JointReview {
    type Error = InvalidFact;
    fn try_from(dto: &JointReviewDto) -> Result<Self, InvalidFact> {
        Ok(JointReview {
            held_on: dto.held_on,
            proposal: Proposal {
                categories: categories(&dto.proposal.categories)?,
                monitoring_kind: kind_of(&dto.proposal.monitoring_kind)?,
                explanation: dto.proposal.explanation.clone(),
                pending: dto
                    .proposal
                    .pending
                    .iter()
                    .map(|test| PendingTest {
                        rule: test.rule.clone(),
                        param: test.param.clone(),
                        text: test.text.clone(),
                    })
                    .collect(),
            },
            verdicts: dto
                .verdicts
                .iter()
                .map(|verdict| {
                    Ok(CategoryVerdict {
                        category: code(&verdict.category, Category::from_code, "category")?,
                        verdict: match &verdict.override_reason {
                            None => Verdict::Confirm,
                            Some(reason) => Verdict::Override {
                                reason: reason.clone(),
                            },
                        },
                    })
                })
                .collect::<Result<_, InvalidFact>>()?,
            monitoring_kind: kind_of(&dto.monitoring_kind)?,
            monitoring_kind_reason: dto.monitoring_kind_reason.clone(),
            judgements: dto
                .judgements
                .iter()
                .map(|judgement| PendingJudgement {
                    rule: judgement.rule.clone(),
                    param: judgement.param.clone(),
                    holds: judgement.holds,
                    reason: judgement.reason.clone(),
                })
                .collect(),
            support_mode: dto
                .support_mode
                .as_deref()
                .map(|text| code(text, domain::SupportMode::from_code, "support mode"))
                .transpose()?,
        })
    }
}

impl From<&DecidedCategory> for DecidedDto {
    fn from(decided: &DecidedCategory) -> Self {
        DecidedDto {
            category: decided.category.code().to_owned(),
            monitoring_kind: decided.monitoring_kind.map(|kind| kind.code().to_owned()),
            change: decided.change.code().to_owned(),
            decision: decided.decision.as_ref().map(|decision| match decision {
                DepartmentDecision::Confirmed { on, by } => {
                    DecisionDto::Confirmed { on: *on, by: *by }
                }
                DepartmentDecision::Declined { on, by, reason } => DecisionDto::Declined {
                    on: *on,
                    by: *by,
                    reason: reason.clone(),
                },
            }),
        }
    }
}

impl TryFrom<&DecidedDto> for DecidedCategory {
    type Error = InvalidFact;
    fn try_from(dto: &DecidedDto) -> Result<Self, InvalidFact> {
        Ok(DecidedCategory {
            category: code(&dto.category, Category::from_code, "category")?,
            monitoring_kind: kind_of(&dto.monitoring_kind)?,
            change: code(&dto.change, Change::from_code, "change")?,
            decision: dto.decision.as_ref().map(|decision| match decision {
                DecisionDto::Confirmed { on, by } => {
                    DepartmentDecision::Confirmed { on: *on, by: *by }
                }
                DecisionDto::Declined { on, by, reason } => DepartmentDecision::Declined {
                    on: *on,
                    by: *by,
                    reason: reason.clone(),
                },
            }),
        })
    }
}

impl From<&DatedChange> for DatedChangeDto {
    fn from(change: &DatedChange) -> Self {
        DatedChangeDto {
            category: change.category.code().to_owned(),
            monitoring_kind: change.monitoring_kind.map(|kind| kind.code().to_owned()),
            change: change.change.code().to_owned(),
            on: change.on,
        }
    }
}

impl TryFrom<&DatedChangeDto> for DatedChange {
    type Error = InvalidFact;
    fn try_from(dto: &DatedChangeDto) -> Result<Self, InvalidFact> {
        Ok(DatedChange {
            category: code(&dto.category, Category::from_code, "category")?,
            monitoring_kind: kind_of(&dto.monitoring_kind)?,
            change: code(&dto.change, Change::from_code, "change")?,
            on: dto.on,
        })
    }
}

impl From<&Fact> for FactDto {
    fn from(fact: &Fact) -> Self {
        match fact {
            Fact::Received(intake) => FactDto::Received(intake.into()),
            Fact::SharedWith { department } => FactDto::SharedWith {
                department: department.code().to_owned(),
            },
            Fact::StepEntered { step } => FactDto::StepEntered {
                step: step.code().to_owned(),
            },
            Fact::DiscrepancyRecorded {
                number,
                discrepancy,
            } => FactDto::DiscrepancyRecorded {
                number: *number,
                source: discrepancy.source.clone(),
                description: discrepancy.description.clone(),
            },
            Fact::DiscrepancyExplained {
                number,
                explanation,
            } => FactDto::DiscrepancyExplained {
                number: *number,
                explanation: explanation.into(),
            },
            Fact::SurveyRecorded(survey) => FactDto::SurveyRecorded(survey.into()),
            Fact::VillageReviewRecorded(review) => {
                FactDto::VillageReviewRecorded(VillageReviewDto {
                    held_on: review.held_on,
                    attendance: review.attendance,
                    outcome: review.outcome.code().to_owned(),
                    note: review.note.clone(),
                })
            }
            Fact::JointReviewRecorded { review, decided } => FactDto::JointReviewRecorded {
                review: review.into(),
                decided: decided.iter().map(DecidedDto::from).collect(),
            },
            Fact::NoticePosted(notice) => FactDto::NoticePosted {
                posted_on: notice.posted_on,
                ends_on: notice.ends_on,
                days: notice.days,
            },
            Fact::ObjectionRecorded { number, summary } => FactDto::ObjectionRecorded {
                number: *number,
                summary: summary.clone(),
            },
            Fact::SentBackForVerification => FactDto::SentBackForVerification,
            Fact::ObjectionAnswered { number, answer } => FactDto::ObjectionAnswered {
                number: *number,
                answer: answer.clone(),
            },
            Fact::CategoryConfirmed { category } => FactDto::CategoryConfirmed {
                category: category.code().to_owned(),
            },
            Fact::CategoryDeclined { category, reason } => FactDto::CategoryDeclined {
                category: category.code().to_owned(),
                reason: reason.clone(),
            },
            Fact::Concluded { changes } => FactDto::Concluded {
                changes: changes.iter().map(DatedChangeDto::from).collect(),
            },
            Fact::MonitoringContinues { household_no } => FactDto::MonitoringContinues {
                household_no: household_no.as_str().to_owned(),
            },
            Fact::Refused { reason } => FactDto::Refused {
                reason: reason.clone(),
            },
            Fact::RefusalNoticeDelivered => FactDto::RefusalNoticeDelivered,
            Fact::Withdrawn { reason } => FactDto::Withdrawn {
                reason: reason.clone(),
            },
            Fact::SpecialLimitRecorded { reason } => FactDto::SpecialLimitRecorded {
                reason: reason.clone(),
            },
        }
    }
}

impl TryFrom<&FactDto> for Fact {
    type Error = InvalidFact;
    fn try_from(dto: &FactDto) -> Result<Self, InvalidFact> {
        Ok(match dto {
            FactDto::Received(intake) => Fact::Received(intake.try_into()?),
            FactDto::SharedWith { department } => Fact::SharedWith {
                department: code(department, Role::from_code, "role")?,
            },
            FactDto::StepEntered { step } => Fact::StepEntered {
                step: code(step, Step::from_code, "step")?,
            },
            FactDto::DiscrepancyRecorded {
                number,
                source,
                description,
            } => Fact::DiscrepancyRecorded {
                number: *number,
                discrepancy: Discrepancy {
                    source: source.clone(),
                    description: description.clone(),
                },
            },
            FactDto::DiscrepancyExplained {
                number,
                explanation,
            } => Fact::DiscrepancyExplained {
                number: *number,
                explanation: explanation.into(),
            },
            FactDto::SurveyRecorded(survey) => Fact::SurveyRecorded(survey.try_into()?),
            FactDto::VillageReviewRecorded(review) => Fact::VillageReviewRecorded(VillageReview {
                held_on: review.held_on,
                attendance: review.attendance,
                outcome: code(&review.outcome, ReviewOutcome::from_code, "review outcome")?,
                note: review.note.clone(),
            }),
            FactDto::JointReviewRecorded { review, decided } => Fact::JointReviewRecorded {
                review: review.try_into()?,
                decided: decided
                    .iter()
                    .map(DecidedCategory::try_from)
                    .collect::<Result<_, _>>()?,
            },
            FactDto::NoticePosted {
                posted_on,
                ends_on,
                days,
            } => Fact::NoticePosted(Notice {
                posted_on: *posted_on,
                ends_on: *ends_on,
                days: *days,
            }),
            FactDto::ObjectionRecorded { number, summary } => Fact::ObjectionRecorded {
                number: *number,
                summary: summary.clone(),
            },
            FactDto::SentBackForVerification => Fact::SentBackForVerification,
            FactDto::ObjectionAnswered { number, answer } => Fact::ObjectionAnswered {
                number: *number,
                answer: answer.clone(),
            },
            FactDto::CategoryConfirmed { category } => Fact::CategoryConfirmed {
                category: code(category, Category::from_code, "category")?,
            },
            FactDto::CategoryDeclined { category, reason } => Fact::CategoryDeclined {
                category: code(category, Category::from_code, "category")?,
                reason: reason.clone(),
            },
            FactDto::Concluded { changes } => Fact::Concluded {
                changes: changes
                    .iter()
                    .map(DatedChange::try_from)
                    .collect::<Result<_, _>>()?,
            },
            FactDto::MonitoringContinues {
                household_no: stored,
            } => Fact::MonitoringContinues {
                household_no: household_no(stored)?,
            },
            FactDto::Refused { reason } => Fact::Refused {
                reason: reason.clone(),
            },
            FactDto::RefusalNoticeDelivered => Fact::RefusalNoticeDelivered,
            FactDto::Withdrawn { reason } => Fact::Withdrawn {
                reason: reason.clone(),
            },
            FactDto::SpecialLimitRecorded { reason } => Fact::SpecialLimitRecorded {
                reason: reason.clone(),
            },
        })
    }
}

/// The stored JSON of a fact.
pub fn fact_json(fact: &Fact) -> Result<String, serde_json::Error> {
    serde_json::to_string(&FactDto::from(fact))
}

/// A stored fact read back.
pub fn fact_from_json(text: &str) -> Result<Fact, InvalidFact> {
    let dto: FactDto =
        serde_json::from_str(text).map_err(|error| InvalidFact(error.to_string()))?;
    Fact::try_from(&dto)
}
