//! Every `Fact` variant reads back from its stored JSON as the same fact.

use super::codec::{fact_from_json, fact_json};
use chrono::NaiveDate;
use domain::interchange::parse_household_line;
use domain::{Category, HouseholdNo, MonitoringKind, PlaceCode, Role};
use workflow::{
    CaseKind, CategoryVerdict, Change, Channel, Consent, DatedChange, DecidedCategory,
    DepartmentDecision, Discrepancy, Explanation, Fact, Intake, JointReview, Notice, Proposal,
    ReviewOutcome, Step, Survey, TeamMember, TrackingNumber, Verdict, VillageReview,
};

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, n).unwrap_or_default()
}

fn no(text: &str) -> HouseholdNo {
    HouseholdNo::parse(text).unwrap_or_else(|error| panic!("{error}"))
}

fn every_fact() -> Vec<Fact> {
    let household = parse_household_line(
        r#"{"id": "YY-0001", "area_code": "500151001200", "hukou": "rural", "members": [{"id_number": "500224198501011397", "name": "韩一", "relation": "head"}], "income_12m": {"wages": 12000}}"#,
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let area = PlaceCode::parse("500151001200").unwrap_or_else(|error| panic!("{error}"));
    let tracking_number =
        TrackingNumber::parse("TL20261102-0001").unwrap_or_else(|error| panic!("{error}"));
    vec![
        Fact::Received(Intake {
            kind: CaseKind::Application,
            channel: Channel::GridWorker,
            tracking_number,
            household_no: no("YY-0001"),
            area,
            applicant: "韩一".to_owned(),
            consent: Some(Consent {
                signed_on: day(1),
                signer: "韩一".to_owned(),
            }),
            held: vec![Category::Monitoring],
            summary: "因病致贫".to_owned(),
        }),
        Fact::SharedWith {
            department: Role::DistrictAgriculture,
        },
        Fact::StepEntered {
            step: Step::Comparing,
        },
        Fact::DiscrepancyRecorded {
            number: 1,
            discrepancy: Discrepancy {
                source: "车辆登记".to_owned(),
                description: "货车一辆".to_owned(),
            },
        },
        Fact::DiscrepancyExplained {
            number: 1,
            explanation: Explanation::Resolved {
                note: "已报废".to_owned(),
            },
        },
        Fact::DiscrepancyExplained {
            number: 2,
            explanation: Explanation::Confirmed {
                note: "属实".to_owned(),
            },
        },
        Fact::SurveyRecorded(Survey {
            household,
            team: vec![
                TeamMember {
                    user_id: 3,
                    name: "甲".to_owned(),
                },
                TeamMember {
                    user_id: 4,
                    name: "乙".to_owned(),
                },
            ],
            surveyed_on: day(3),
        }),
        Fact::VillageReviewRecorded(VillageReview {
            held_on: day(4),
            attendance: 12,
            outcome: ReviewOutcome::Disagreed,
            note: "意见".to_owned(),
        }),
        Fact::JointReviewRecorded {
            review: JointReview {
                held_on: day(5),
                proposal: Proposal {
                    categories: vec![Category::Dibao, Category::Monitoring],
                    monitoring_kind: Some(MonitoringKind::ALL[0]),
                    explanation: "规则2".to_owned(),
                    pending: vec![workflow::PendingTest {
                        rule: "property.within_limits".to_owned(),
                        param: "property.vehicle_value_limit".to_owned(),
                        text: "机动车价值上限未配置，需人工核定".to_owned(),
                    }],
                },
                verdicts: vec![
                    CategoryVerdict {
                        category: Category::Dibao,
                        verdict: Verdict::Confirm,
                    },
                    CategoryVerdict {
                        category: Category::Monitoring,
                        verdict: Verdict::Override {
                            reason: "理由".to_owned(),
                        },
                    },
                ],
                monitoring_kind: None,
                judgements: vec![workflow::PendingJudgement {
                    rule: "property.within_limits".to_owned(),
                    param: "property.vehicle_value_limit".to_owned(),
                    holds: true,
                    reason: "农用三轮车".to_owned(),
                }],
                support_mode: Some(domain::SupportMode::Centralised),
                monitoring_kind_reason: String::new(),
            },
            decided: vec![
                DecidedCategory {
                    category: Category::Dibao,
                    monitoring_kind: None,
                    change: Change::Start,
                    decision: Some(DepartmentDecision::Confirmed { on: day(20), by: 5 }),
                },
                DecidedCategory {
                    category: Category::Monitoring,
                    monitoring_kind: Some(MonitoringKind::ALL[0]),
                    change: Change::End,
                    decision: Some(DepartmentDecision::Declined {
                        on: day(21),
                        by: 6,
                        reason: "不同意".to_owned(),
                    }),
                },
                DecidedCategory {
                    category: Category::Tekun,
                    monitoring_kind: None,
                    change: Change::Continue,
                    decision: None,
                },
            ],
        },
        Fact::NoticePosted(Notice {
            posted_on: day(6),
            ends_on: day(13),
            days: 7,
        }),
        Fact::ObjectionRecorded {
            number: 1,
            summary: "异议".to_owned(),
        },
        Fact::SentBackForVerification,
        Fact::ObjectionAnswered {
            number: 1,
            answer: "答复".to_owned(),
        },
        Fact::CategoryConfirmed {
            category: Category::Dibao,
        },
        Fact::CategoryDeclined {
            category: Category::Monitoring,
            reason: "不同意".to_owned(),
        },
        Fact::Concluded {
            changes: vec![DatedChange {
                category: Category::Monitoring,
                monitoring_kind: Some(MonitoringKind::ALL[0]),
                change: Change::Start,
                on: day(22),
            }],
        },
        Fact::MonitoringContinues {
            household_no: no("YY-0001"),
        },
        Fact::Refused {
            reason: "收入超标".to_owned(),
        },
        Fact::RefusalNoticeDelivered,
        Fact::Withdrawn {
            reason: "申请人撤回".to_owned(),
        },
        Fact::SpecialLimitRecorded {
            reason: "人户分离".to_owned(),
        },
    ]
}

#[test]
fn every_fact_variant_reads_back_from_its_json() {
    let facts = every_fact();
    // One of each of the 20 variants (and both explanations).
    assert_eq!(facts.len(), 21);
    for fact in facts {
        let json = fact_json(&fact).unwrap_or_else(|error| panic!("{fact:?}: {error}"));
        let back = fact_from_json(&json).unwrap_or_else(|error| panic!("{json}: {error}"));
        assert_eq!(back, fact, "{json}");
    }
}

#[test]
fn a_stored_fact_with_an_unknown_code_is_reported_not_guessed() {
    let error = fact_from_json(r#"{"fact":"step_entered","step":"teleported"}"#);
    assert!(error.is_err());
}

/// Events stored before the 户编号 had its own name and type read back, and are written again
/// in the same text (the stored key stays `household_id`).
#[test]
fn a_stored_intake_and_monitoring_fact_keep_their_household_id_key() {
    let received = r#"{"fact":"received","kind":"application","channel":"grid_worker","tracking_number":"TL20261102-0001","household_id":"YY-0001","area":"500151001200","applicant":"韩一","consent":null,"held":[],"summary":"因病致贫"}"#;
    let continues = r#"{"fact":"monitoring_continues","household_id":"YY-0001"}"#;
    for stored in [received, continues] {
        let fact = fact_from_json(stored).unwrap_or_else(|error| panic!("{stored}: {error}"));
        let household_no = match &fact {
            Fact::Received(intake) => &intake.household_no,
            Fact::MonitoringContinues { household_no } => household_no,
            other => panic!("{other:?}"),
        };
        assert_eq!(household_no, &no("YY-0001"));
        let json = fact_json(&fact).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(json, stored);
    }
    let bad = r#"{"fact":"monitoring_continues","household_id":""}"#;
    assert!(fact_from_json(bad).is_err());
}
