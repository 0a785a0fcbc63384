use super::*;
use crate::fields::{self, Field, FieldKind, Input};
use chrono::NaiveDate;
use domain::{Category, Household, HouseholdNo, MonitoringKind, PlaceCode, Role};
use policy::Catalogue;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn place(code: &str) -> PlaceCode {
    PlaceCode::parse(code).unwrap()
}

const VILLAGE: &str = "500151102201";
const TOWN: &str = "500151102";
const DISTRICT: &str = "500151";

fn actor(user_id: i64, role: Role, area: &str) -> ActorRef {
    ActorRef {
        user_id,
        role,
        area: place(area),
    }
}

fn village_assistant() -> ActorRef {
    actor(1, Role::VillageAssistant, VILLAGE)
}
fn grid_worker() -> ActorRef {
    actor(2, Role::GridWorker, "500151102201001")
}
fn town() -> ActorRef {
    actor(3, Role::TownReviewer, TOWN)
}
fn civil_affairs() -> ActorRef {
    actor(4, Role::DistrictCivilAffairs, DISTRICT)
}
fn agriculture() -> ActorRef {
    actor(5, Role::DistrictAgriculture, DISTRICT)
}
fn other_town() -> ActorRef {
    actor(6, Role::TownReviewer, "500151103")
}

fn params() -> DeadlineParams {
    let catalogue = Catalogue::builtin().unwrap();
    DeadlineParams::from_snapshot(&catalogue.snapshot(date("2026-11-28"))).unwrap()
}

fn calendar() -> Calendar {
    Calendar::builtin().unwrap()
}

fn household(id: &str) -> Household {
    domain::interchange::parse_household_line(&format!(
        r#"{{"id":"{id}","area_code":"{VILLAGE}","members":[{{"id_number":"50022419850101001X","relation":"head"}}],"income_12m":{{"wages":3000}}}}"#
    ))
    .unwrap()
}

fn intake(kind: CaseKind, held: &[Category]) -> Intake {
    Intake {
        kind,
        channel: Channel::VillageWindow,
        tracking_number: TrackingNumber::parse("TL-2026-000123").unwrap(),
        household_no: HouseholdNo::parse("H1").unwrap(),
        area: place(VILLAGE),
        applicant: "张三".to_owned(),
        consent: Some(Consent {
            signed_on: date("2026-10-08"),
            signer: "张三".to_owned(),
        }),
        held: held.to_vec(),
        summary: "因病致贫申请救助".to_owned(),
    }
}

fn survey(team: &[(i64, &str)]) -> Action {
    Action::RecordSurvey(Survey {
        household: household("H1"),
        team: team
            .iter()
            .map(|(user_id, name)| TeamMember {
                user_id: *user_id,
                name: (*name).to_owned(),
            })
            .collect(),
        surveyed_on: date("2026-10-12"),
    })
}

fn team_survey() -> Action {
    survey(&[(1, "李村干"), (3, "王镇干")])
}

fn confirm_all(categories: &[Category]) -> Vec<CategoryVerdict> {
    categories
        .iter()
        .map(|category| CategoryVerdict {
            category: *category,
            verdict: Verdict::Confirm,
        })
        .collect()
}

fn joint_review(
    proposed: &[Category],
    kind: Option<MonitoringKind>,
    verdicts: Vec<CategoryVerdict>,
) -> Action {
    judged_review(proposed, kind, verdicts, Vec::new(), Vec::new())
}

/// A joint review on a proposal with pending tests, and the meeting's judgements of them.
fn judged_review(
    proposed: &[Category],
    kind: Option<MonitoringKind>,
    verdicts: Vec<CategoryVerdict>,
    pending: Vec<PendingTest>,
    judgements: Vec<PendingJudgement>,
) -> Action {
    Action::RecordJointReview(JointReview {
        held_on: date("2026-10-16"),
        proposal: Proposal {
            categories: proposed.to_vec(),
            monitoring_kind: kind,
            explanation: "规则2：人均收入低于低保标准".to_owned(),
            pending,
        },
        verdicts,
        monitoring_kind: kind,
        monitoring_kind_reason: String::new(),
        judgements,
        support_mode: proposed
            .contains(&Category::Tekun)
            .then_some(domain::SupportMode::Dispersed),
    })
}

/// 低保 proposed and confirmed, with `pending` tests and the meeting's `judgements`.
fn dibao_judged(pending: Vec<PendingTest>, judgements: Vec<PendingJudgement>) -> Action {
    judged_review(
        &[Category::Dibao],
        None,
        confirm_all(&[Category::Dibao]),
        pending,
        judgements,
    )
}

fn savings_pending() -> PendingTest {
    PendingTest {
        rule: "property.within_limits".to_owned(),
        param: "property.financial_assets_months".to_owned(),
        text: "金融资产上限未配置，需人工核定".to_owned(),
    }
}

fn savings_judged(holds: bool, reason: &str) -> PendingJudgement {
    PendingJudgement {
        rule: "property.within_limits".to_owned(),
        param: "property.financial_assets_months".to_owned(),
        holds,
        reason: reason.to_owned(),
    }
}

fn village_review() -> Action {
    Action::RecordVillageReview(VillageReview {
        held_on: date("2026-10-14"),
        attendance: 23,
        outcome: ReviewOutcome::Agreed,
        note: "无异议".to_owned(),
    })
}

/// A case driven by actions, checking after every move that its history replays to it.
struct Run {
    case: Case,
    history: Vec<Event>,
}

impl Run {
    fn open(intake: Intake, by: &ActorRef, on: &str) -> Run {
        let (case, history) = open(intake, by, date(on)).unwrap().into_parts();
        Run { case, history }
    }

    fn try_do(&self, action: Action, by: &ActorRef, on: &str) -> Result<Transition, Refusal> {
        apply(&self.case, action, by, date(on), &params())
    }

    fn go(&mut self, action: Action, by: &ActorRef, on: &str) -> &mut Run {
        let transition = self
            .try_do(action.clone(), by, on)
            .unwrap_or_else(|refusal| panic!("{action:?} refused: {}", refusal.code()));
        let (case, events) = transition.into_parts();
        self.history.extend(events);
        assert_eq!(
            Case::replay(&self.history).unwrap(),
            case,
            "history replays to the case"
        );
        self.case = case;
        self
    }

    fn refused(&self, action: Action, by: &ActorRef, on: &str) -> &'static str {
        match self.try_do(action, by, on) {
            Ok(transition) => panic!("not refused; moved to {}", transition.step()),
            Err(refusal) => {
                assert!(!refusal.message().is_empty());
                refusal.code()
            }
        }
    }

    fn steps(&self) -> Vec<&'static str> {
        self.history
            .iter()
            .filter_map(|event| match event.fact {
                Fact::StepEntered { step } => Some(step.code()),
                _ => None,
            })
            .collect()
    }
}

const DIBAO_AND_MONITORING: &[Category] = &[Category::Dibao, Category::Monitoring];

/// Drives an application of household H1 (dibao and edge-prone monitoring proposed) up to
/// `until`, by the right users on dates in October 2026.
fn application_until(until: Step) -> Run {
    let mut run = Run::open(
        intake(CaseKind::Application, &[]),
        &grid_worker(),
        "2026-10-09",
    );
    let script: Vec<(Step, Action, ActorRef, &str)> = vec![
        (
            Step::Comparing,
            Action::BeginComparison,
            town(),
            "2026-10-09",
        ),
        (
            Step::Surveying,
            Action::CompleteComparison,
            town(),
            "2026-10-10",
        ),
        (
            Step::VillageReview,
            team_survey(),
            village_assistant(),
            "2026-10-12",
        ),
        (Step::JointReview, village_review(), town(), "2026-10-14"),
        (
            Step::Notice,
            joint_review(
                DIBAO_AND_MONITORING,
                Some(MonitoringKind::EdgeProne),
                confirm_all(DIBAO_AND_MONITORING),
            ),
            town(),
            "2026-10-16",
        ),
    ];
    for (reached, action, by, on) in script {
        if run.case.step() == until {
            return run;
        }
        run.go(action, &by, on);
        assert_eq!(run.case.step(), reached);
    }
    assert_eq!(run.case.step(), until, "the script stops at the notice");
    run
}

/// An application whose notice was posted on 2026-10-19 (7 days: runs through 10-26).
fn noticed_application() -> Run {
    let mut run = application_until(Step::Notice);
    run.go(Action::PostNotice, &town(), "2026-10-19");
    run
}

#[test]
fn p1_to_p8_application_runs_every_step_by_the_right_users_to_confirmed() {
    let mut run = Run::open(
        intake(CaseKind::Application, &[]),
        &grid_worker(),
        "2026-10-09",
    );
    // P2: both deciding departments see the case from intake.
    let shared: Vec<Role> = run
        .history
        .iter()
        .filter_map(|event| match event.fact {
            Fact::SharedWith { department } => Some(department),
            _ => None,
        })
        .collect();
    assert_eq!(
        shared,
        [Role::DistrictCivilAffairs, Role::DistrictAgriculture]
    );
    assert_eq!(run.case.tracking_number().as_str(), "TL-2026-000123");

    run.go(Action::BeginComparison, &town(), "2026-10-09")
        .go(
            Action::RecordDiscrepancy(Discrepancy {
                source: "车辆登记".to_owned(),
                description: "户主名下登记小汽车一辆".to_owned(),
            }),
            &town(),
            "2026-10-09",
        )
        .go(
            Action::ExplainDiscrepancy {
                number: 1,
                explanation: Explanation::Resolved {
                    note: "车辆已于2024年报废，有注销证明".to_owned(),
                },
            },
            &town(),
            "2026-10-10",
        )
        .go(Action::CompleteComparison, &town(), "2026-10-10")
        .go(team_survey(), &village_assistant(), "2026-10-12")
        .go(village_review(), &town(), "2026-10-14")
        .go(
            joint_review(
                DIBAO_AND_MONITORING,
                Some(MonitoringKind::EdgeProne),
                confirm_all(DIBAO_AND_MONITORING),
            ),
            &town(),
            "2026-10-16",
        )
        .go(Action::PostNotice, &town(), "2026-10-19");
    let notice = *run.case.notice().unwrap();
    assert_eq!((notice.days, notice.ends_on), (7, date("2026-10-26")));

    // P8: each department its own category, in any order.
    run.go(
        Action::Confirm {
            category: Category::Monitoring,
        },
        &agriculture(),
        "2026-10-27",
    );
    assert_eq!(run.case.step(), Step::Confirming);
    run.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-28",
    );
    assert_eq!(run.case.step(), Step::Confirmed);
    assert_eq!(
        run.steps(),
        [
            "comparing",
            "surveying",
            "village_review",
            "joint_review",
            "notice",
            "confirming",
            "confirmed"
        ]
    );
    let Some(Outcome::Confirmed { changes }) = run.case.outcome() else {
        panic!("not confirmed: {:?}", run.case.outcome());
    };
    assert_eq!(
        changes,
        &[
            DatedChange {
                category: Category::Dibao,
                monitoring_kind: None,
                change: Change::Start,
                on: date("2026-10-28"),
            },
            DatedChange {
                category: Category::Monitoring,
                monitoring_kind: Some(MonitoringKind::EdgeProne),
                change: Change::Start,
                on: date("2026-10-28"),
            },
        ]
    );
    assert!(!run.case.monitoring_continues());
    assert_eq!(run.case.closed_on(), Some(date("2026-10-28")));
}

#[test]
fn p6_override_with_reason_adds_and_drops_categories() {
    let mut run = application_until(Step::JointReview);
    run.go(
        joint_review(
            &[Category::DibaoEdge],
            None,
            vec![
                CategoryVerdict {
                    category: Category::DibaoEdge,
                    verdict: Verdict::Override {
                        reason: "会议核实户主已无务工收入".to_owned(),
                    },
                },
                CategoryVerdict {
                    category: Category::Dibao,
                    verdict: Verdict::Override {
                        reason: "会议核实户主已无务工收入".to_owned(),
                    },
                },
            ],
        ),
        &town(),
        "2026-10-16",
    );
    let decided: Vec<(Category, Change)> = run
        .case
        .decided()
        .iter()
        .map(|decided| (decided.category, decided.change))
        .collect();
    assert_eq!(decided, [(Category::Dibao, Change::Start)]);
}

/// One wrong move: where the case stands, the move, who makes it, when, and the refusal.
struct WrongMove {
    name: &'static str,
    case: fn() -> Run,
    action: Action,
    by: ActorRef,
    on: &'static str,
    code: &'static str,
}

/// Each move of `table` is refused with its code, and leaves its case as it was.
fn check_wrong_moves(table: Vec<WrongMove>) {
    let mut failures = Vec::new();
    for wrong in table {
        let run = (wrong.case)();
        let before = run.case.clone();
        let code = match run.try_do(wrong.action, &wrong.by, wrong.on) {
            Ok(transition) => format!("moved to {}", transition.step()),
            Err(refusal) => refusal.code().to_owned(),
        };
        assert_eq!(run.case, before);
        if code != wrong.code {
            failures.push(format!(
                "{}: expected {}, got {code}",
                wrong.name, wrong.code
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn received() -> Run {
    application_until(Step::Received)
}

fn comparing() -> Run {
    application_until(Step::Comparing)
}

fn surveying() -> Run {
    application_until(Step::Surveying)
}

fn at_village_review() -> Run {
    application_until(Step::VillageReview)
}

fn joint() -> Run {
    application_until(Step::JointReview)
}

fn notice() -> Run {
    application_until(Step::Notice)
}

/// At 信息比对 with a 疑点 entered by hand.
fn with_discrepancy() -> Run {
    let mut run = application_until(Step::Comparing);
    run.go(
        Action::RecordDiscrepancy(Discrepancy {
            source: "人工录入".to_owned(),
            description: "邻居反映家中有经营性货车".to_owned(),
        }),
        &town(),
        "2026-10-09",
    );
    run
}

/// At 公示 with an objection recorded.
fn with_objection() -> Run {
    let mut run = noticed_application();
    run.go(
        Action::RecordObjection {
            summary: "村民反映其子在外务工收入较高".to_owned(),
        },
        &town(),
        "2026-10-20",
    );
    run
}

/// 已认定: dibao and monitoring confirmed by their departments.
fn confirmed() -> Run {
    let mut run = noticed_application();
    run.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-27",
    )
    .go(
        Action::Confirm {
            category: Category::Monitoring,
        },
        &agriculture(),
        "2026-10-27",
    );
    run
}

fn dibao_only() -> Action {
    joint_review(&[Category::Dibao], None, confirm_all(&[Category::Dibao]))
}

/// A move of another step than the case's (U2).
#[test]
fn u2_a_move_out_of_its_step_is_refused() {
    check_wrong_moves(vec![
        WrongMove {
            name: "skipping the comparison to the survey",
            case: received,
            action: team_survey(),
            by: village_assistant(),
            on: "2026-10-09",
            code: "step_out_of_order",
        },
        WrongMove {
            name: "skipping to the joint review",
            case: surveying,
            action: dibao_only(),
            by: town(),
            on: "2026-10-12",
            code: "step_out_of_order",
        },
        WrongMove {
            name: "confirming before the notice",
            case: joint,
            action: Action::Confirm {
                category: Category::Dibao,
            },
            by: civil_affairs(),
            on: "2026-10-16",
            code: "step_out_of_order",
        },
    ]);
}

/// A move by a role that may not take it, at the wrong level, or outside the actor's area (U2).
#[test]
fn u2_a_move_by_the_wrong_role_level_or_area_is_refused() {
    check_wrong_moves(vec![
        WrongMove {
            name: "a village assistant runs the comparison",
            case: received,
            action: Action::BeginComparison,
            by: village_assistant(),
            on: "2026-10-09",
            code: "wrong_role",
        },
        WrongMove {
            name: "an auditor records a survey",
            case: surveying,
            action: team_survey(),
            by: actor(9, Role::Auditor, DISTRICT),
            on: "2026-10-12",
            code: "wrong_role",
        },
        WrongMove {
            name: "a district bureau runs the joint review",
            case: joint,
            action: dibao_only(),
            by: civil_affairs(),
            on: "2026-10-16",
            code: "wrong_role",
        },
        WrongMove {
            name: "a town reviewer placed at a village",
            case: received,
            action: Action::BeginComparison,
            by: actor(7, Role::TownReviewer, VILLAGE),
            on: "2026-10-09",
            code: "wrong_level",
        },
        WrongMove {
            name: "another town's reviewer",
            case: received,
            action: Action::BeginComparison,
            by: other_town(),
            on: "2026-10-09",
            code: "outside_area",
        },
        WrongMove {
            name: "another village's assistant surveys",
            case: surveying,
            action: team_survey(),
            by: actor(8, Role::VillageAssistant, "500151102202"),
            on: "2026-10-12",
            code: "outside_area",
        },
    ]);
}

/// P3–P5: an unexplained 疑点, a survey team of fewer than two or of another household, a village review without attendance.
#[test]
fn p3_p5_the_comparison_survey_and_village_review_are_checked() {
    check_wrong_moves(vec![
        WrongMove {
            name: "P4 a one-person team",
            case: surveying,
            action: survey(&[(1, "李村干")]),
            by: village_assistant(),
            on: "2026-10-12",
            code: "team_too_small",
        },
        WrongMove {
            name: "P4 one person named twice",
            case: surveying,
            action: survey(&[(1, "李村干"), (1, "李村干")]),
            by: village_assistant(),
            on: "2026-10-12",
            code: "team_too_small",
        },
        WrongMove {
            name: "P4 a survey of another household",
            case: surveying,
            action: Action::RecordSurvey(Survey {
                household: household("H2"),
                team: vec![
                    TeamMember {
                        user_id: 1,
                        name: "李村干".to_owned(),
                    },
                    TeamMember {
                        user_id: 3,
                        name: "王镇干".to_owned(),
                    },
                ],
                surveyed_on: date("2026-10-12"),
            }),
            by: village_assistant(),
            on: "2026-10-12",
            code: "survey_of_another_household",
        },
        WrongMove {
            name: "P3 an unexplained discrepancy",
            case: with_discrepancy,
            action: Action::CompleteComparison,
            by: town(),
            on: "2026-10-10",
            code: "discrepancy_unexplained",
        },
        WrongMove {
            name: "P3 a discrepancy explained without a note",
            case: with_discrepancy,
            action: Action::ExplainDiscrepancy {
                number: 1,
                explanation: Explanation::Confirmed {
                    note: " ".to_owned(),
                },
            },
            by: town(),
            on: "2026-10-10",
            code: "note_missing",
        },
        WrongMove {
            name: "P5 a village review without attendance",
            case: at_village_review,
            action: Action::RecordVillageReview(VillageReview {
                held_on: date("2026-10-14"),
                attendance: 0,
                outcome: ReviewOutcome::Agreed,
                note: String::new(),
            }),
            by: town(),
            on: "2026-10-14",
            code: "attendance_missing",
        },
    ]);
}

/// P6: the joint review's verdicts, pending tests and monitoring kind.
#[test]
fn p6_the_joint_review_is_checked() {
    check_wrong_moves(vec![
        WrongMove {
            name: "P6 an override without a reason",
            case: joint,
            action: joint_review(
                &[Category::Dibao],
                None,
                vec![CategoryVerdict {
                    category: Category::Dibao,
                    verdict: Verdict::Override {
                        reason: "  ".to_owned(),
                    },
                }],
            ),
            by: town(),
            on: "2026-10-16",
            code: "reason_missing",
        },
        WrongMove {
            name: "P6 a proposed category left undecided (同步认定)",
            case: joint,
            action: joint_review(
                DIBAO_AND_MONITORING,
                Some(MonitoringKind::EdgeProne),
                confirm_all(&[Category::Dibao]),
            ),
            by: town(),
            on: "2026-10-16",
            code: "proposal_undecided",
        },
        WrongMove {
            name: "P6 a pending test left unjudged (待人工核定)",
            case: joint,
            action: dibao_judged(vec![savings_pending()], Vec::new()),
            by: town(),
            on: "2026-10-16",
            code: "pending_unjudged",
        },
        WrongMove {
            name: "P6 a pending test judged without a reason",
            case: joint,
            action: dibao_judged(vec![savings_pending()], vec![savings_judged(true, " ")]),
            by: town(),
            on: "2026-10-16",
            code: "judgement_reason_missing",
        },
        WrongMove {
            name: "P6 a judgement of a test that is not pending",
            case: joint,
            action: dibao_judged(
                Vec::new(),
                vec![savings_judged(true, "存款 3000 元，低于当地惯例")],
            ),
            by: town(),
            on: "2026-10-16",
            code: "not_pending",
        },
        WrongMove {
            name: "P6 a pending test judged twice",
            case: joint,
            action: dibao_judged(
                vec![savings_pending()],
                vec![
                    savings_judged(true, "存款 3000 元"),
                    savings_judged(false, "存款 30 万元"),
                ],
            ),
            by: town(),
            on: "2026-10-16",
            code: "judged_twice",
        },
        WrongMove {
            name: "P6 confirming a category nobody proposed",
            case: joint,
            action: joint_review(
                &[Category::Dibao],
                None,
                confirm_all(&[Category::Dibao, Category::Tekun]),
            ),
            by: town(),
            on: "2026-10-16",
            code: "not_proposed",
        },
        WrongMove {
            name: "P6 monitoring without its kind",
            case: joint,
            action: joint_review(
                DIBAO_AND_MONITORING,
                None,
                confirm_all(DIBAO_AND_MONITORING),
            ),
            by: town(),
            on: "2026-10-16",
            code: "monitoring_kind_missing",
        },
        WrongMove {
            name: "P6 an application that starts nothing",
            case: joint,
            action: joint_review(&[], None, Vec::new()),
            by: town(),
            on: "2026-10-16",
            code: "nothing_changes",
        },
    ]);
}

/// P7, P8: the notice must be posted and have run without an open objection; each department decides its own decided categories, a decline or refusal with its reason.
#[test]
fn p7_p8_the_notice_and_the_departments_decisions_are_checked() {
    check_wrong_moves(vec![
        WrongMove {
            name: "P7 confirming while the notice runs",
            case: noticed_application,
            action: Action::Confirm {
                category: Category::Dibao,
            },
            by: civil_affairs(),
            on: "2026-10-26",
            code: "notice_running",
        },
        WrongMove {
            name: "P7 confirming with an open objection",
            case: with_objection,
            action: Action::Confirm {
                category: Category::Dibao,
            },
            by: civil_affairs(),
            on: "2026-10-27",
            code: "objection_open",
        },
        WrongMove {
            name: "P7 confirming before the notice is posted",
            case: notice,
            action: Action::Confirm {
                category: Category::Dibao,
            },
            by: civil_affairs(),
            on: "2026-10-27",
            code: "notice_not_posted",
        },
        WrongMove {
            name: "P8 agriculture confirms dibao",
            case: noticed_application,
            action: Action::Confirm {
                category: Category::Dibao,
            },
            by: agriculture(),
            on: "2026-10-27",
            code: "other_departments_category",
        },
        WrongMove {
            name: "P8 civil affairs confirms the monitoring tag",
            case: noticed_application,
            action: Action::Confirm {
                category: Category::Monitoring,
            },
            by: civil_affairs(),
            on: "2026-10-27",
            code: "other_departments_category",
        },
        WrongMove {
            name: "P8 confirming a category the meeting did not decide",
            case: noticed_application,
            action: Action::Confirm {
                category: Category::Tekun,
            },
            by: civil_affairs(),
            on: "2026-10-27",
            code: "category_not_decided",
        },
        WrongMove {
            name: "P8 a decline without a reason",
            case: noticed_application,
            action: Action::Decline {
                category: Category::Dibao,
                reason: String::new(),
            },
            by: civil_affairs(),
            on: "2026-10-27",
            code: "reason_missing",
        },
        WrongMove {
            name: "P8 a refusal without a reason",
            case: comparing,
            action: Action::Refuse {
                reason: String::new(),
            },
            by: town(),
            on: "2026-10-10",
            code: "reason_missing",
        },
    ]);
}

/// A closed case does not move; no move is dated after today.
#[test]
fn a_closed_case_and_a_move_dated_tomorrow_are_refused() {
    check_wrong_moves(vec![
        WrongMove {
            name: "moving a closed case",
            case: confirmed,
            action: Action::Withdraw {
                reason: "申请人撤回".to_owned(),
            },
            by: town(),
            on: "2026-10-28",
            code: "case_closed",
        },
        WrongMove {
            name: "a survey dated tomorrow",
            case: surveying,
            action: team_survey(),
            by: village_assistant(),
            on: "2026-10-11",
            code: "date_in_future",
        },
    ]);
}

#[test]
fn p1_intake_needs_consent_an_applicant_and_a_village() {
    let cases: Vec<(Intake, ActorRef, &str)> = vec![
        (
            Intake {
                consent: None,
                ..intake(CaseKind::Application, &[])
            },
            grid_worker(),
            "consent_missing",
        ),
        (
            Intake {
                applicant: " ".to_owned(),
                ..intake(CaseKind::Application, &[])
            },
            grid_worker(),
            "applicant_missing",
        ),
        (
            Intake {
                area: place(TOWN),
                ..intake(CaseKind::Application, &[])
            },
            town(),
            "area_not_village",
        ),
        (
            intake(CaseKind::Application, &[]),
            other_town(),
            "outside_area",
        ),
        (
            intake(CaseKind::Application, &[]),
            civil_affairs(),
            "wrong_role",
        ),
        (
            intake(CaseKind::RiskElimination, &[Category::Dibao]),
            town(),
            "not_monitored",
        ),
        (intake(CaseKind::Exit, &[]), town(), "nothing_changes"),
        (intake(CaseKind::Recheck, &[]), town(), "nothing_held"),
    ];
    for (intake, by, code) in cases {
        let refusal = open(intake, &by, date("2026-10-09")).unwrap_err();
        assert_eq!(refusal.code(), code);
    }
    // Re-checks and exits rest on the consent given at entry.
    let recheck = Intake {
        consent: None,
        ..intake(CaseKind::Recheck, &[Category::Dibao])
    };
    assert!(open(recheck, &town(), date("2026-10-09")).is_ok());
}

#[test]
fn p7_an_objection_sends_the_case_back_to_verification_and_a_new_notice() {
    let mut run = noticed_application();
    run.go(
        Action::RecordObjection {
            summary: "村民反映其子在外务工收入较高".to_owned(),
        },
        &town(),
        "2026-10-20",
    );
    assert_eq!(
        run.refused(
            Action::AnswerObjection {
                number: 1,
                answer: "经核实".to_owned()
            },
            &town(),
            "2026-10-21"
        ),
        "objection_not_reverified"
    );
    run.go(Action::SendBackForVerification, &town(), "2026-10-21");
    assert_eq!(run.case.step(), Step::Surveying);
    assert!(run.case.notice().is_none());
    let Action::RecordSurvey(mut resurvey) = team_survey() else {
        unreachable!()
    };
    resurvey.surveyed_on = date("2026-10-23");
    run.go(Action::RecordSurvey(resurvey), &grid_worker(), "2026-10-23");
    // The village review is not held again: the town reviews the new survey.
    assert_eq!(run.case.step(), Step::JointReview);
    let Action::RecordJointReview(mut second_review) = joint_review(
        DIBAO_AND_MONITORING,
        Some(MonitoringKind::EdgeProne),
        confirm_all(DIBAO_AND_MONITORING),
    ) else {
        unreachable!()
    };
    second_review.held_on = date("2026-10-26");
    run.go(
        Action::RecordJointReview(second_review),
        &town(),
        "2026-10-26",
    );
    assert_eq!(
        run.refused(Action::PostNotice, &town(), "2026-10-26"),
        "objection_open"
    );
    run.go(
        Action::AnswerObjection {
            number: 1,
            answer: "其子已另立户且无赡养能力，异议不成立".to_owned(),
        },
        &town(),
        "2026-10-26",
    )
    .go(Action::PostNotice, &town(), "2026-10-27");
    assert_eq!(run.case.notices_posted(), 2);
    assert_eq!(
        run.refused(
            Action::Confirm {
                category: Category::Dibao
            },
            &civil_affairs(),
            "2026-11-02"
        ),
        "notice_running"
    );
    run.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-11-04",
    )
    .go(
        Action::Confirm {
            category: Category::Monitoring,
        },
        &agriculture(),
        "2026-11-05",
    );
    assert_eq!(run.case.step(), Step::Confirmed);
}

#[test]
fn x1_exit_goes_the_way_in_and_ends_the_periods_and_monitoring_continues() {
    let mut run = Run::open(
        Intake {
            consent: None,
            summary: "家庭成员务工收入稳定超过低保标准".to_owned(),
            ..intake(CaseKind::Exit, &[Category::Dibao])
        },
        &town(),
        "2026-10-09",
    );
    run.go(Action::BeginComparison, &town(), "2026-10-09");
    assert_eq!(
        run.refused(team_survey(), &village_assistant(), "2026-10-12"),
        "step_out_of_order"
    );
    run.go(Action::CompleteComparison, &town(), "2026-10-10")
        .go(team_survey(), &village_assistant(), "2026-10-12")
        .go(village_review(), &town(), "2026-10-14")
        // The rules engine now proposes nothing; the meeting agrees.
        .go(joint_review(&[], None, Vec::new()), &town(), "2026-10-16")
        .go(Action::PostNotice, &town(), "2026-10-19");
    assert_eq!(
        run.refused(
            Action::Confirm {
                category: Category::Dibao
            },
            &civil_affairs(),
            "2026-10-20"
        ),
        "notice_running"
    );
    run.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-27",
    );
    assert_eq!(run.case.step(), Step::Confirmed);
    let Some(Outcome::Confirmed { changes }) = run.case.outcome() else {
        panic!("not confirmed");
    };
    assert_eq!(
        changes,
        &[DatedChange {
            category: Category::Dibao,
            monitoring_kind: None,
            change: Change::End,
            on: date("2026-10-27"),
        }]
    );
    assert!(run.case.monitoring_continues());
    assert!(run.history.iter().any(|event| event.fact
        == Fact::MonitoringContinues {
            household_no: HouseholdNo::parse("H1").unwrap()
        }));
}

#[test]
fn x2_risk_elimination_ends_only_the_monitoring_tag() {
    let open_case = || {
        let mut run = Run::open(
            Intake {
                consent: None,
                ..intake(
                    CaseKind::RiskElimination,
                    &[Category::Dibao, Category::Monitoring],
                )
            },
            &town(),
            "2026-10-09",
        );
        run.go(Action::BeginComparison, &town(), "2026-10-09")
            .go(Action::CompleteComparison, &town(), "2026-10-10")
            .go(team_survey(), &village_assistant(), "2026-10-12")
            .go(village_review(), &town(), "2026-10-14");
        run
    };
    let run = open_case();
    assert_eq!(
        run.refused(
            joint_review(
                &[Category::Dibao],
                None,
                vec![CategoryVerdict {
                    category: Category::Dibao,
                    verdict: Verdict::Override {
                        reason: "一并退出低保".to_owned()
                    }
                }]
            ),
            &town(),
            "2026-10-16"
        ),
        "risk_elimination_ends_only_monitoring"
    );
    let mut run = open_case();
    run.go(
        joint_review(&[Category::Dibao], None, confirm_all(&[Category::Dibao])),
        &town(),
        "2026-10-16",
    )
    .go(Action::PostNotice, &town(), "2026-10-19");
    // Both categories are touched: civil affairs affirms dibao goes on (同步认定).
    assert_eq!(run.case.notice().unwrap().days, 7);
    run.go(
        Action::Confirm {
            category: Category::Monitoring,
        },
        &agriculture(),
        "2026-10-27",
    )
    .go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-27",
    );
    let Some(Outcome::Confirmed { changes }) = run.case.outcome() else {
        panic!("not confirmed");
    };
    let summary: Vec<(Category, Change)> = changes
        .iter()
        .map(|change| (change.category, change.change))
        .collect();
    assert_eq!(
        summary,
        [
            (Category::Dibao, Change::Continue),
            (Category::Monitoring, Change::End)
        ]
    );
    assert!(run.case.monitoring_continues());
}

#[test]
fn w1_recheck_runs_end_to_end_and_moves_dibao_to_edge() {
    let mut run = Run::open(
        Intake {
            consent: None,
            channel: Channel::TownWindow,
            summary: "定期核查（半年）".to_owned(),
            ..intake(CaseKind::Recheck, &[Category::Dibao])
        },
        &town(),
        "2026-10-09",
    );
    run.go(Action::BeginComparison, &town(), "2026-10-09")
        .go(Action::CompleteComparison, &town(), "2026-10-10")
        .go(team_survey(), &grid_worker(), "2026-10-12")
        .go(village_review(), &town(), "2026-10-14")
        .go(
            joint_review(
                &[Category::DibaoEdge],
                None,
                confirm_all(&[Category::DibaoEdge]),
            ),
            &town(),
            "2026-10-16",
        )
        .go(Action::PostNotice, &town(), "2026-10-19")
        .go(
            Action::Confirm {
                category: Category::DibaoEdge,
            },
            &civil_affairs(),
            "2026-10-27",
        )
        .go(
            Action::Confirm {
                category: Category::Dibao,
            },
            &civil_affairs(),
            "2026-10-27",
        );
    let Some(Outcome::Confirmed { changes }) = run.case.outcome() else {
        panic!("not confirmed");
    };
    let summary: Vec<(Category, Change)> = changes
        .iter()
        .map(|change| (change.category, change.change))
        .collect();
    assert_eq!(
        summary,
        [
            (Category::Dibao, Change::End),
            (Category::DibaoEdge, Change::Start)
        ]
    );
}

#[test]
fn p8_every_category_declined_refuses_the_case_and_starts_the_refusal_notice_limit() {
    let mut run = noticed_application();
    run.go(
        Action::Decline {
            category: Category::Dibao,
            reason: "家庭财产超过规定".to_owned(),
        },
        &civil_affairs(),
        "2026-10-27",
    );
    assert_eq!(
        run.refused(
            Action::Decline {
                category: Category::Dibao,
                reason: "再次".to_owned()
            },
            &civil_affairs(),
            "2026-10-27"
        ),
        "category_already_decided"
    );
    run.go(
        Action::Decline {
            category: Category::Monitoring,
            reason: "无返贫致贫风险".to_owned(),
        },
        &agriculture(),
        "2026-10-28",
    );
    assert_eq!(run.case.step(), Step::Refused);
    let Some(Outcome::Refused { reason }) = run.case.outcome() else {
        panic!("not refused");
    };
    assert_eq!(
        reason,
        "低保：家庭财产超过规定；防止返贫监测对象：无返贫致贫风险"
    );
    let limits = deadlines(&run.case, date("2026-10-28"), &calendar(), &params());
    assert_eq!(
        limits,
        [Deadline {
            limit: TimeLimit::RefusalNotice,
            started_on: date("2026-10-28"),
            due_on: date("2026-11-02"),
            pending: false,
        }]
    );
    run.go(Action::DeliverRefusalNotice, &town(), "2026-10-29");
    assert!(deadlines(&run.case, date("2026-10-29"), &calendar(), &params()).is_empty());
}

#[test]
fn withdrawal_closes_the_case() {
    let mut run = application_until(Step::Surveying);
    assert_eq!(
        run.refused(
            Action::Withdraw {
                reason: String::new()
            },
            &grid_worker(),
            "2026-10-11"
        ),
        "reason_missing"
    );
    run.go(
        Action::Withdraw {
            reason: "申请人主动撤回".to_owned(),
        },
        &grid_worker(),
        "2026-10-11",
    );
    assert_eq!(run.case.step(), Step::Withdrawn);
}

#[test]
fn p7_notice_days_follow_the_categories() {
    let params = params();
    assert_eq!(params.notice_days(&[Category::Dibao]), 7);
    assert_eq!(params.notice_days(&[Category::Monitoring]), 5);
    assert_eq!(params.notice_days(DIBAO_AND_MONITORING), 7);
    assert_eq!(params.span(TimeLimit::TownReview), Span::WorkingDays(15));
    assert_eq!(
        params.span(TimeLimit::MonitoringIdentification),
        Span::Days(15)
    );
}

#[test]
fn p9_calendar_counts_working_days_across_national_day_and_adjusted_saturdays() {
    let calendar = calendar();
    let checks = [
        // 国庆节、中秋节 2025: 10/1–10/8 off, 9/28 (Sun) and 10/11 (Sat) worked.
        ("2025-09-30", 1, "2025-10-09"),
        ("2025-09-30", 2, "2025-10-10"),
        ("2025-09-30", 3, "2025-10-11"),
        ("2025-09-30", 4, "2025-10-13"),
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-10-10", 1, "2025-10-11"),
        // 春节 2025: 1/28–2/4 off, 1/26 (Sun) and 2/8 (Sat) worked.
        ("2025-01-24", 1, "2025-01-26"),
        ("2025-01-27", 1, "2025-02-05"),
        // 春节 2026: 2/15–2/23 off, 2/14 and 2/28 (Sat) worked.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        // 国庆节 2026: 10/1–10/7 off, 10/10 (Sat) worked.
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 3, "2026-10-10"),
        // An ordinary week, and n = 0.
        ("2026-11-27", 1, "2026-11-30"),
        ("2026-11-28", 0, "2026-11-28"),
    ];
    for (from, n, expected) in checks {
        assert_eq!(
            calendar.add_working_days(date(from), n),
            date(expected),
            "{from} + {n}"
        );
    }
    let working = [
        ("2025-10-11", true),
        ("2025-10-12", false),
        ("2025-10-01", false),
        ("2025-10-08", false),
        ("2025-09-28", true),
        ("2026-01-04", true),
        ("2026-05-09", true),
        ("2026-06-19", false),
        ("2026-09-25", false),
        ("2026-11-28", false),
        // 2027 is not entered: the statutory 国庆节 (10-01..10-03) is off (issue 14 item 5).
        ("2027-10-01", false),
        ("2027-10-04", true),
    ];
    for (day, expected) in working {
        assert_eq!(calendar.is_working_day(date(day)), expected, "{day}");
    }
    assert!(calendar.covers(date("2026-11-28")));
    assert!(!calendar.covers(date("2027-01-01")));
    assert_eq!(
        calendar.working_days_between(date("2025-09-30"), date("2025-10-11")),
        3
    );
}

#[test]
fn p9_due_dates_of_each_limit() {
    let calendar = calendar();
    let params = params();
    let checks = [
        // 15 working days from intake, across National Day 2025.
        (TimeLimit::TownReview, "2025-09-26", "2025-10-23"),
        (TimeLimit::DistrictConfirmation, "2025-09-30", "2025-10-21"),
        (TimeLimit::RefusalNotice, "2025-09-30", "2025-10-11"),
        // Calendar days; a due day off moves to the next working day (民法典第二百零三条) ...
        (
            TimeLimit::MonitoringIdentification,
            "2025-09-17",
            "2025-10-09",
        ),
        (
            TimeLimit::MonitoringIdentification,
            "2026-11-01",
            "2026-11-16",
        ),
        // ... but a notice ends when it ends.
        (TimeLimit::Notice, "2025-09-24", "2025-10-01"),
    ];
    for (limit, started, due) in checks {
        assert_eq!(
            calendar.due_date(limit, date(started), &params),
            date(due),
            "{limit} from {started}"
        );
    }
}

#[test]
fn p9_due_list_shows_what_is_due_and_what_is_late_in_an_area() {
    let calendar = calendar();
    let params = params();
    let waiting_town = application_until(Step::Comparing).case;
    let noticed = noticed_application().case;
    let closed = confirmed().case;
    let cases = [waiting_town.clone(), noticed.clone(), closed];
    // Received 2026-10-09 (Fri): 15 working days, Saturday 10-10 among them → 2026-10-29.
    let limits = deadlines(&waiting_town, date("2026-11-28"), &calendar, &params);
    assert_eq!(limits[0].limit, TimeLimit::TownReview);
    assert_eq!(limits[0].due_on, date("2026-10-29"));

    // On 10-20 the notice runs (ends 10-26); the town stage is due 10-29; dibao total (25
    // working days from 10-09) 11-12; monitoring identification (15 days) 10-24 → Mon 10-26.
    // One line per case, under its nearest limit, the others beside it.
    type Line = (TimeLimit, NaiveDate, Vec<(TimeLimit, NaiveDate)>);
    let lines = |items: &[DueItem]| -> Vec<Line> {
        items
            .iter()
            .map(|item| {
                (
                    item.deadline.limit,
                    item.deadline.due_on,
                    item.others
                        .iter()
                        .map(|other| (other.limit, other.due_on))
                        .collect(),
                )
            })
            .collect()
    };
    let list = due_list(&cases, &place(TOWN), date("2026-10-20"), &calendar, &params);
    assert!(list.late.is_empty());
    assert_eq!(
        lines(&list.due),
        [
            (
                TimeLimit::Notice,
                date("2026-10-26"),
                vec![
                    (TimeLimit::MonitoringIdentification, date("2026-10-26")),
                    (TimeLimit::DibaoTotal, date("2026-11-12")),
                ]
            ),
            (TimeLimit::TownReview, date("2026-10-29"), vec![]),
        ]
    );
    assert_eq!(list.due[0].tracking_number, *noticed.tracking_number());

    // Today, 2026-11-28: everything open is late; the district's 10 working days after the
    // notice ended on 10-26 ran out on 11-09.
    let list = due_list(&cases, &place(TOWN), date("2026-11-28"), &calendar, &params);
    assert_eq!(
        lines(&list.late),
        [
            (
                TimeLimit::MonitoringIdentification,
                date("2026-10-26"),
                vec![
                    (TimeLimit::DistrictConfirmation, date("2026-11-09")),
                    (TimeLimit::DibaoTotal, date("2026-11-12")),
                ]
            ),
            (TimeLimit::TownReview, date("2026-10-29"), vec![]),
        ]
    );
    assert!(list.due.is_empty());
    // Another town sees none of them.
    let elsewhere = due_list(
        &cases,
        &place("500151103"),
        date("2026-11-28"),
        &calendar,
        &params,
    );
    assert_eq!(elsewhere, DueList::default());
}

#[test]
fn p9_after_an_objection_the_recheck_limit_runs() {
    let mut run = noticed_application();
    run.go(
        Action::RecordObjection {
            summary: "反映有隐瞒收入".to_owned(),
        },
        &town(),
        "2026-10-20",
    )
    .go(Action::SendBackForVerification, &town(), "2026-10-21");
    let limits = deadlines(&run.case, date("2026-10-21"), &calendar(), &params());
    assert_eq!(limits[0].limit, TimeLimit::ObjectionRecheck);
    assert_eq!(limits[0].due_on, date("2026-11-11"));
}

#[test]
fn p9_calendar_file_errors_name_the_line() {
    let builtin = include_str!("../../../policy/calendar.toml");
    let checks = [
        (
            "adjusted_working_days = [2025-04-27]",
            "adjusted_working_days = [2025-04-28]",
            "不是周六或周日",
        ),
        ("to = 2025-06-02", "to = 2025-05-30", "早于开始日期"),
        (
            "from = 2025-10-01",
            "from = 2025-09-27",
            "既是节假日又是调休上班日",
        ),
        ("status = \"confirmed\"", "status = \"maybe\"", "未知状态"),
        (
            "from = 2025-01-01",
            "from = 2024-12-31",
            "不在 years 所列年份内",
        ),
        ("from = 2025-05-31", "from = 2025-05-05", "重叠"),
        // Issue 16: a day that does not exist, a control character in a name.
        ("to = 2025-06-02", "to = 2025-02-30", ""),
        ("name = \"端午节\"", "name = \"端午\\u0000节\"", "U+0000"),
    ];
    for (find, replacement, reason) in checks {
        assert!(builtin.contains(find), "{find}");
        let text = builtin.replacen(find, replacement, 1);
        let error = Calendar::from_toml(&text, "calendar.toml").unwrap_err();
        assert_eq!(error.file, "calendar.toml");
        assert!(error.reason.contains(reason), "{find}: {}", error.reason);
        if reason != "既是节假日又是调休上班日" && reason != "U+0000" {
            let line = builtin[..builtin.find(find).unwrap()].matches('\n').count() + 1;
            assert_eq!(error.line, line, "{find}");
        }
    }
    let error =
        Calendar::from_toml("years = [2025]\n[[holiday]]\nname = 1\n", "x.toml").unwrap_err();
    assert_eq!(error.line, 3);
    let calendar = calendar();
    assert_eq!(calendar.holidays().len(), 13);
    assert!(
        calendar
            .holidays()
            .iter()
            .filter(|holiday| holiday.from.format("%Y").to_string() == "2026")
            .all(|holiday| holiday.status == policy::Status::Secondary && holiday.note.is_some())
    );
}

#[test]
fn p9_a_year_not_entered_uses_the_statutory_holidays() {
    let calendar = calendar();
    assert!(!calendar.covers(date("2027-01-01")));
    let checks = [
        // 元旦 (fixed date), a Friday.
        ("2027-01-01", false),
        ("2027-01-04", true),
        // 春节: 除夕 (2027-02-05, the day before 正月初一 2027-02-06) to 初三, from the file.
        ("2027-02-04", true),
        ("2027-02-05", false),
        ("2027-02-08", false),
        ("2027-02-09", true),
        // 清明, 端午, 中秋 from the file; 劳动节 is 05-01 and 05-02 (a weekend in 2027).
        ("2027-04-05", false),
        ("2027-05-03", true),
        ("2027-06-09", false),
        ("2027-09-15", false),
        // 2031: 中秋 on 10-01 falls inside 国庆节; both are days off.
        ("2031-10-01", false),
        ("2031-10-03", false),
        // A year past the dated ones keeps its fixed-date holidays.
        ("2040-05-01", false),
        ("2040-05-02", false),
        ("2040-05-03", true),
    ];
    for (day, expected) in checks {
        assert_eq!(calendar.is_working_day(date(day)), expected, "{day}");
    }
    let spring = calendar
        .holidays_of(2027)
        .into_iter()
        .find(|holiday| holiday.name == "春节")
        .unwrap();
    assert_eq!(
        (spring.from, spring.to),
        (date("2027-02-05"), date("2027-02-08"))
    );
    assert_eq!(spring.status, policy::Status::Provisional);
    assert!(spring.source.contains("全国年节及纪念日放假办法"));
    assert_eq!(calendar.holidays_of(2027).len(), 7);
    assert_eq!(calendar.holidays_of(2040).len(), 3);
    assert_eq!(calendar.holidays_of(2026).len(), 7);
    assert!(
        calendar
            .holidays_of(2026)
            .iter()
            .all(|h| h.status == policy::Status::Secondary)
    );
}

/// District civil affairs enters 2027: 元旦 01-01..01-03, Saturday 01-09 worked; 春节
/// 02-05..02-11.
fn schedule_2027() -> YearSchedule {
    YearSchedule {
        year: 2027,
        holidays: vec![
            HolidayInput {
                name: "元旦".to_owned(),
                from: date("2027-01-01"),
                to: date("2027-01-03"),
                adjusted_working_days: vec![date("2027-01-09")],
            },
            HolidayInput {
                name: "春节".to_owned(),
                from: date("2027-02-05"),
                to: date("2027-02-11"),
                adjusted_working_days: vec![],
            },
        ],
        source: "国办发明电〔2026〕1号".to_owned(),
        status: policy::Status::Confirmed,
        note: None,
    }
}

#[test]
fn p9_due_dates_across_a_year_not_entered_are_pending_until_it_is() {
    let calendar = calendar();
    let params = params();
    // Received Mon 2026-12-21: 15 working days; 2027-01-01 (元旦, statutory) is not one.
    let run = Run::open(
        intake(CaseKind::Application, &[]),
        &grid_worker(),
        "2026-12-21",
    );
    let limits = deadlines(&run.case, date("2026-12-21"), &calendar, &params);
    assert_eq!(limits[0].limit, TimeLimit::TownReview);
    assert_eq!(limits[0].due_on, date("2027-01-12"));
    assert!(limits[0].pending);
    // A period inside an entered year is not pending; one ending on 12-31 neither.
    assert!(!calendar.is_pending(date("2026-12-01"), date("2026-12-31")));
    assert!(calendar.is_pending(date("2026-12-31"), date("2027-01-04")));
    assert!(!calendar.is_pending(date("2025-12-20"), date("2026-01-10")));

    // District civil affairs enters 2027.
    let schedule = schedule_2027();
    let entered = calendar.with_year(&schedule).unwrap();
    assert!(entered.covers(date("2027-06-09")));
    // 端午 by the 办法 no longer counts: the entered arrangement is the year's calendar.
    assert!(entered.is_working_day(date("2027-06-09")));
    assert!(entered.is_working_day(date("2027-01-09")));
    assert!(!entered.is_working_day(date("2027-02-10")));
    let limits = deadlines(&run.case, date("2026-12-21"), &entered, &params);
    assert_eq!(limits[0].due_on, date("2027-01-11"));
    assert!(!limits[0].pending);
    assert_eq!(entered.holidays_of(2027).len(), 2);
    assert_eq!(entered.holidays_of(2027)[0].source, "国办发明电〔2026〕1号");
}

/// P9: a year entered again is replaced (a correction), not added to; the shipped years stay.
#[test]
fn p9_a_year_entered_again_is_replaced() {
    let calendar = calendar();
    let schedule = schedule_2027();
    let entered = calendar.with_year(&schedule).unwrap();
    // Entered again, the year is replaced (a correction), not added to.
    let corrected = entered
        .with_year(&YearSchedule {
            holidays: schedule.holidays[..1].to_vec(),
            ..schedule.clone()
        })
        .unwrap();
    assert_eq!(corrected.holidays_of(2027).len(), 1);
    assert!(corrected.is_working_day(date("2027-02-10")));
    // The shipped years stay as they are.
    assert_eq!(corrected.holidays_of(2026), calendar.holidays_of(2026));
}

/// P9: each fault of an entered year names its field.
#[test]
fn p9_a_year_with_a_fault_is_refused_naming_its_field() {
    let calendar = calendar();
    let schedule = schedule_2027();
    // Each fault names its field.
    let faults = [
        (
            YearSchedule {
                year: 1999,
                ..schedule.clone()
            },
            "year",
            "年份",
        ),
        (
            YearSchedule {
                source: " ".to_owned(),
                ..schedule.clone()
            },
            "source",
            "来源",
        ),
        (
            YearSchedule {
                holidays: vec![],
                ..schedule.clone()
            },
            "holidays",
            "至少",
        ),
    ];
    for (wrong, field, reason) in faults {
        let error = calendar.with_year(&wrong).unwrap_err();
        assert_eq!(error.field, field);
        assert!(error.reason.contains(reason), "{}", error.reason);
    }
    let with = |holiday: HolidayInput| YearSchedule {
        holidays: vec![schedule.holidays[0].clone(), holiday],
        ..schedule.clone()
    };
    let bad_holidays = [
        (
            HolidayInput {
                name: "清明节".to_owned(),
                from: date("2027-04-06"),
                to: date("2027-04-05"),
                adjusted_working_days: vec![],
            },
            "早于开始日期",
        ),
        (
            HolidayInput {
                name: "重叠".to_owned(),
                from: date("2027-01-03"),
                to: date("2027-01-04"),
                adjusted_working_days: vec![],
            },
            "重叠",
        ),
        (
            HolidayInput {
                name: "国庆节".to_owned(),
                from: date("2028-10-01"),
                to: date("2028-10-07"),
                adjusted_working_days: vec![],
            },
            "不在2027年",
        ),
        (
            HolidayInput {
                name: "国庆节".to_owned(),
                from: date("2027-10-01"),
                to: date("2027-10-07"),
                adjusted_working_days: vec![date("2027-10-08")],
            },
            "不是周六或周日",
        ),
        (
            HolidayInput {
                name: "国庆节".to_owned(),
                from: date("2027-10-01"),
                to: date("2027-10-07"),
                adjusted_working_days: vec![date("2027-10-02")],
            },
            "既是节假日又是调休上班日",
        ),
        (
            HolidayInput {
                name: "劳动\u{0}节".to_owned(),
                from: date("2027-05-01"),
                to: date("2027-05-05"),
                adjusted_working_days: vec![],
            },
            "U+0000",
        ),
    ];
    for (holiday, reason) in bad_holidays {
        let error = calendar.with_year(&with(holiday)).unwrap_err();
        assert_eq!(error.field, "holidays");
        assert!(error.reason.contains(reason), "{reason}: {}", error.reason);
    }
}

#[test]
fn p9_statutory_file_errors_are_refused() {
    let builtin = include_str!("../../../policy/lunar-dates.toml");
    assert!(Statutory::from_toml(builtin, "lunar-dates.toml").is_ok());
    let checks = [
        ("mid_autumn = 2027-09-15\n", "", "缺少 mid_autumn"),
        (
            "qingming = 2028-04-04",
            "qingming = 2029-04-04",
            "应为该年的日期",
        ),
        (
            "month_day = \"10-01\"",
            "month_day = \"10-32\"",
            "month_day",
        ),
        ("days = 3", "days = 0", "天数无效"),
        (
            "dates_status = \"secondary\"",
            "dates_status = \"sure\"",
            "未知状态",
        ),
        (
            "offset = -1",
            "offset = -1\nlunar_extra = 1",
            "unknown field",
        ),
    ];
    for (find, replacement, reason) in checks {
        assert!(builtin.contains(find), "{find}");
        let text = builtin.replacen(find, replacement, 1);
        let error = Statutory::from_toml(&text, "lunar-dates.toml").unwrap_err();
        assert_eq!(error.file, "lunar-dates.toml");
        assert!(error.reason.contains(reason), "{find}: {}", error.reason);
    }
}

#[test]
fn p9_the_special_total_limit_applies_once_the_case_records_its_reason() {
    let calendar = calendar();
    let params = params();
    let mut run = noticed_application();
    let total = |run: &Run| {
        deadlines(&run.case, date("2026-10-20"), &calendar, &params)
            .into_iter()
            .find(|deadline| {
                matches!(
                    deadline.limit,
                    TimeLimit::DibaoTotal | TimeLimit::DibaoTotalSpecial
                )
            })
            .map(|deadline| (deadline.limit, deadline.due_on))
    };
    // Received 2026-10-09: 25 working days → 11-12.
    assert_eq!(
        total(&run),
        Some((TimeLimit::DibaoTotal, date("2026-11-12")))
    );
    // Only the town records it, with a reason.
    assert_eq!(
        run.refused(
            Action::RecordSpecialLimit {
                reason: "人户分离".to_owned()
            },
            &grid_worker(),
            "2026-10-20"
        ),
        "wrong_role"
    );
    assert_eq!(
        run.refused(
            Action::RecordSpecialLimit {
                reason: " ".to_owned()
            },
            &town(),
            "2026-10-20"
        ),
        "reason_missing"
    );
    run.go(
        Action::RecordSpecialLimit {
            reason: "申请人人户分离，须跨区县核实".to_owned(),
        },
        &town(),
        "2026-10-20",
    );
    assert_eq!(run.case.step(), Step::Notice, "the step does not change");
    assert_eq!(
        run.case.special_limit_reason(),
        Some("申请人人户分离，须跨区县核实")
    );
    // deadline.dibao_total_special_working_days (40) from intake; 10-10 (Sat) is worked.
    assert_eq!(
        params.span(TimeLimit::DibaoTotalSpecial),
        Span::WorkingDays(40)
    );
    assert_eq!(
        total(&run),
        Some((TimeLimit::DibaoTotalSpecial, date("2026-12-03")))
    );
    assert_eq!(
        run.refused(
            Action::RecordSpecialLimit {
                reason: "再次".to_owned()
            },
            &town(),
            "2026-10-21"
        ),
        "special_limit_already_recorded"
    );
    // A closed case takes no reason.
    let refused = {
        let mut run = application_until(Step::JointReview);
        run.go(
            Action::Refuse {
                reason: "不符合".to_owned(),
            },
            &town(),
            "2026-10-20",
        );
        run
    };
    assert_eq!(
        refused.refused(
            Action::RecordSpecialLimit {
                reason: "人户分离".to_owned()
            },
            &town(),
            "2026-10-20"
        ),
        "case_closed"
    );
}

#[test]
fn w1_next_recheck_follows_the_cycle() {
    let checks = [
        ("2026-05-31", 6, "2026-11-30"),
        ("2026-08-31", 6, "2027-02-28"),
        ("2025-11-28", 12, "2026-11-28"),
        ("2026-11-20", 0, "2026-11-20"),
    ];
    for (last, months, expected) in checks {
        assert_eq!(
            next_recheck(date(last), months),
            date(expected),
            "{last} + {months}"
        );
    }
}

#[test]
fn w1_an_emergency_falls_due_once_then_the_regular_cycle() {
    // (last check, regular months, emergency, kind of last check) -> due
    let checks = [
        ("2026-05-31", Some(6), false, CheckKind::Entry, "2026-11-30"),
        ("2025-11-01", Some(12), false, CheckKind::Roll, "2026-11-01"),
        ("2026-11-20", Some(12), true, CheckKind::Entry, "2026-11-20"),
        ("2026-11-20", Some(12), true, CheckKind::Roll, "2026-11-20"),
        (
            "2026-11-25",
            Some(12),
            true,
            CheckKind::Recheck,
            "2027-11-25",
        ),
        (
            "2026-11-25",
            Some(6),
            false,
            CheckKind::Recheck,
            "2027-05-25",
        ),
        ("2026-11-25", None, false, CheckKind::Recheck, "2026-11-25"),
    ];
    for (last, months, emergency, kind, expected) in checks {
        assert_eq!(
            schedule_recheck(date(last), months, emergency, kind),
            date(expected),
            "{last} {months:?} {emergency} {kind}"
        );
    }
}

#[test]
fn refusal_codes_are_unique_snake_case() {
    let samples = [
        Refusal::ConsentMissing,
        Refusal::WrongRole {
            role: Role::Auditor,
        },
        Refusal::NoticeRunning {
            until: date("2026-10-26"),
        },
        Refusal::OtherDepartmentsCategory {
            category: Category::Dibao,
        },
        Refusal::TeamTooSmall { distinct: 1 },
    ];
    for refusal in samples {
        assert!(
            refusal
                .code()
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte == b'_')
        );
    }
    assert_eq!(
        Refusal::NoticeRunning {
            until: date("2026-10-26")
        }
        .message(),
        "公示期至2026-10-26结束，公示期内不能审核确认"
    );
    assert_eq!(
        Refusal::OtherDepartmentsCategory {
            category: Category::Monitoring
        }
        .message(),
        "“防止返贫监测对象”由其他部门审核确认"
    );
}

#[test]
fn replay_refuses_a_history_without_intake() {
    assert_eq!(Case::replay(&[]), Err(HistoryError::Empty));
    let run = application_until(Step::Comparing);
    assert_eq!(
        Case::replay(&run.history[1..]),
        Err(HistoryError::FirstNotReceived)
    );
    let mut twice = run.history.clone();
    twice.push(run.history[0].clone());
    assert!(matches!(
        Case::replay(&twice),
        Err(HistoryError::ReceivedTwice { .. })
    ));
}

#[test]
fn p1_tracking_numbers_are_short_and_plain() {
    assert!(TrackingNumber::parse("TL-2026-000123").is_ok());
    for bad in ["", "有中文", "a b", &"x".repeat(33)] {
        assert_eq!(TrackingNumber::parse(bad), Err(InvalidTrackingNumber));
    }
}

#[test]
fn a2_what_the_household_holds_after_the_review_honours_declined_starts_and_ends() {
    // Before the joint review nothing is decided yet.
    let before = application_until(Step::JointReview);
    assert_eq!(before.case.holds_after_review(), None);
    let noticed = application_until(Step::Notice);
    assert_eq!(
        noticed.case.holds_after_review(),
        Some((
            vec![Category::Dibao, Category::Monitoring],
            Some(MonitoringKind::EdgeProne)
        ))
    );
    // A re-check ending 低保 and starting 低保边缘: the end declined, 低保 stays held.
    let mut run = Run::open(
        Intake {
            consent: None,
            ..intake(CaseKind::Recheck, &[Category::Dibao])
        },
        &town(),
        "2026-10-09",
    );
    run.go(Action::BeginComparison, &town(), "2026-10-09")
        .go(Action::CompleteComparison, &town(), "2026-10-10")
        .go(team_survey(), &grid_worker(), "2026-10-12")
        .go(village_review(), &town(), "2026-10-14")
        .go(
            joint_review(
                &[Category::DibaoEdge],
                None,
                confirm_all(&[Category::DibaoEdge]),
            ),
            &town(),
            "2026-10-16",
        )
        .go(Action::PostNotice, &town(), "2026-10-19");
    assert_eq!(
        run.case.holds_after_review(),
        Some((vec![Category::DibaoEdge], None))
    );
    run.go(
        Action::Decline {
            category: Category::Dibao,
            reason: "收入核算有误，继续保障".to_owned(),
        },
        &civil_affairs(),
        "2026-10-27",
    )
    .go(
        Action::Decline {
            category: Category::DibaoEdge,
            reason: "仍在低保标准以下".to_owned(),
        },
        &civil_affairs(),
        "2026-10-27",
    );
    assert_eq!(
        run.case.holds_after_review(),
        Some((vec![Category::Dibao], None))
    );
}

/// P6, 待人工核定: a proposal with a pending test moves on once the meeting has judged it, and
/// the judgement is kept with the review (the case replays to it).
#[test]
fn p6_judged_pending_test_moves_on_and_is_kept() {
    let mut run = application_until(Step::JointReview);
    let judgement = savings_judged(true, "存款 3000 元，为日常生活备用，核定符合");
    run.go(
        dibao_judged(vec![savings_pending()], vec![judgement.clone()]),
        &town(),
        "2026-10-16",
    );
    assert_eq!(run.case.step(), Step::Notice);
    let review = run.case.joint_review().unwrap();
    assert_eq!(review.judgements, vec![judgement]);
    assert_eq!(review.proposal.pending, vec![savings_pending()]);
}

/// Issue 12: the stored queue lines of a case, read on any day, are what the replayed case's
/// `due_list` and `acts_next` give that day, for every role — across the end of a notice,
/// an objection, one department's confirmation and a refusal.
#[test]
fn p9_stored_queue_lines_match_the_replayed_due_list_on_every_day() {
    let calendar = calendar();
    let params = params();
    let mut cases: Vec<Case> = [
        Step::Received,
        Step::Comparing,
        Step::Surveying,
        Step::VillageReview,
        Step::JointReview,
        Step::Notice,
    ]
    .into_iter()
    .map(|step| application_until(step).case)
    .collect();
    cases.push(noticed_application().case);
    let mut objected = noticed_application();
    objected.go(
        Action::RecordObjection {
            summary: "反映有隐瞒收入".to_owned(),
        },
        &town(),
        "2026-10-20",
    );
    cases.push(objected.case);
    let mut half_confirmed = noticed_application();
    half_confirmed.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-27",
    );
    cases.push(half_confirmed.case.clone());
    let mut refused = noticed_application();
    refused
        .go(
            Action::Decline {
                category: Category::Dibao,
                reason: "家庭财产超过规定".to_owned(),
            },
            &civil_affairs(),
            "2026-10-27",
        )
        .go(
            Action::Decline {
                category: Category::Monitoring,
                reason: "收入稳定".to_owned(),
            },
            &agriculture(),
            "2026-10-27",
        );
    assert_eq!(refused.case.step(), Step::Refused);
    cases.push(refused.case);
    let mut n_checked = 0;
    for case in &cases {
        let lines = queue_lines(case, &calendar, &params);
        let mut day = date("2026-10-15");
        while day <= date("2026-12-15") {
            let listed = due_list([case], &place(TOWN), day, &calendar, &params);
            let item = listed.late.iter().chain(&listed.due).next();
            for role in Role::ALL {
                let stored: Vec<&QueueLine> = lines
                    .iter()
                    .filter(|line| {
                        line.role == *role
                            && !line.watching
                            && line.from.is_none_or(|from| from <= day)
                            && line.until.is_none_or(|until| day <= until)
                    })
                    .collect();
                let expected = item.filter(|_| acts_next(case, *role, day));
                match (stored.as_slice(), expected) {
                    ([], None) => {}
                    ([line], Some(item)) => {
                        assert_eq!(
                            (&line.deadline, &line.others),
                            (&item.deadline, &item.others),
                            "{} {role} on {day}",
                            case.step()
                        );
                        n_checked += 1;
                    }
                    (stored, expected) => panic!(
                        "{} {role} on {day}: stored {stored:?}, replayed {expected:?}",
                        case.step()
                    ),
                }
            }
            day = day.succ_opt().unwrap();
        }
    }
    assert!(n_checked > 500, "{n_checked}");
}

/// Issue 14 (P2): both district departments follow a case from intake: on every day a case
/// runs, each has exactly one line, read-only (跟踪) unless it acts next, under the limit the
/// acting role's line carries; no other role has a 跟踪 line, and a decided case has none.
#[test]
fn p2_both_departments_follow_a_case_from_intake_read_only_until_they_act() {
    let calendar = calendar();
    let params = params();
    let received = application_until(Step::Received).case;
    let lines = queue_lines(&received, &calendar, &params);
    let town_line = lines
        .iter()
        .find(|line| line.role == Role::TownReviewer)
        .unwrap();
    assert!(!town_line.watching);
    for department in WATCHING_ROLES {
        let line = lines.iter().find(|line| line.role == department).unwrap();
        assert!(line.watching, "{department}");
        assert_eq!(
            (&line.deadline, &line.others, line.from, line.until),
            (&town_line.deadline, &town_line.others, None, None),
            "{department}"
        );
    }
    assert_eq!(lines.len(), 3, "{lines:?}");

    let mut cases: Vec<Case> = [
        Step::Received,
        Step::Comparing,
        Step::Surveying,
        Step::VillageReview,
        Step::JointReview,
        Step::Notice,
    ]
    .into_iter()
    .map(|step| application_until(step).case)
    .collect();
    cases.push(noticed_application().case);
    let mut half_confirmed = noticed_application();
    half_confirmed.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-27",
    );
    cases.push(half_confirmed.case.clone());
    let mut n_acting = 0;
    for case in &cases {
        let lines = queue_lines(case, &calendar, &params);
        assert!(
            lines
                .iter()
                .all(|line| !line.watching || WATCHING_ROLES.contains(&line.role)),
            "{lines:?}"
        );
        let mut day = date("2026-10-15");
        while day <= date("2026-12-15") {
            for department in WATCHING_ROLES {
                let shown: Vec<&QueueLine> = lines
                    .iter()
                    .filter(|line| {
                        line.role == department
                            && line.from.is_none_or(|from| from <= day)
                            && line.until.is_none_or(|until| day <= until)
                    })
                    .collect();
                let [line] = shown.as_slice() else {
                    panic!("{} {department} on {day}: {shown:?}", case.step());
                };
                let acts = acts_next(case, department, day);
                assert_eq!(
                    line.watching,
                    !acts,
                    "{} {department} on {day}",
                    case.step()
                );
                n_acting += usize::from(acts);
            }
            day = day.succ_opt().unwrap();
        }
    }
    // Past the notice each department confirms its own category (then only 农业农村 is left).
    assert!(n_acting > 50, "{n_acting}");
    assert!(
        queue_lines(&half_confirmed.case, &calendar, &params)
            .iter()
            .any(|line| line.role == Role::DistrictCivilAffairs && line.watching)
    );

    let mut refused = noticed_application();
    refused
        .go(
            Action::Decline {
                category: Category::Dibao,
                reason: "家庭财产超过规定".to_owned(),
            },
            &civil_affairs(),
            "2026-10-27",
        )
        .go(
            Action::Decline {
                category: Category::Monitoring,
                reason: "收入稳定".to_owned(),
            },
            &agriculture(),
            "2026-10-27",
        );
    assert!(
        queue_lines(&refused.case, &calendar, &params)
            .iter()
            .all(|line| !line.watching)
    );
}

/// Issue 14: a move entered afterwards carries the date it happened; a date after today or
/// before the case's latest event is refused; the village assistant reviews and posts.
#[test]
fn p4_p7_each_step_keeps_the_date_it_happened() {
    let run = application_until(Step::Surveying);
    let survey_on = |on: &str| {
        let Action::RecordSurvey(mut survey) = team_survey() else {
            unreachable!()
        };
        survey.surveyed_on = date(on);
        Action::RecordSurvey(survey)
    };
    let check = |action: Action, by: ActorRef, on: &str, today: &str| match apply_on(
        &run.case,
        action,
        &by,
        date(on),
        date(today),
        &params(),
    ) {
        Ok(transition) => format!("{} on {}", transition.step(), transition.events()[0].on),
        Err(refusal) => refusal.code().to_owned(),
    };
    // (action, on, today, expected): the comparison ended 2026-10-10.
    let table = [
        (
            survey_on("2026-10-09"),
            "2026-10-20",
            "2026-10-20",
            "date_before_previous_step",
        ),
        (
            survey_on("2026-10-21"),
            "2026-10-20",
            "2026-10-20",
            "date_in_future",
        ),
        (
            survey_on("2026-10-10"),
            "2026-10-20",
            "2026-10-20",
            "village_review on 2026-10-10",
        ),
        (
            survey_on("2026-10-15"),
            "2026-10-20",
            "2026-10-20",
            "village_review on 2026-10-15",
        ),
    ];
    for (action, on, today, expected) in table {
        assert_eq!(check(action, village_assistant(), on, today), expected);
    }
    // The village assistant records the village review and posts the notice, dated.
    let mut run = application_until(Step::VillageReview);
    run.go(village_review(), &village_assistant(), "2026-10-14");
    assert_eq!(run.case.step(), Step::JointReview);
    let mut run = application_until(Step::Notice);
    let posted = apply_on(
        &run.case,
        Action::PostNotice,
        &village_assistant(),
        date("2026-10-17"),
        date("2026-10-30"),
        &params(),
    )
    .unwrap();
    let notice = posted.case().notice().copied().unwrap();
    assert_eq!(notice.posted_on, date("2026-10-17"));
    run.case = posted.case().clone();
    // A department deciding on a date inside the notice is refused, after it goes through.
    assert_eq!(
        apply_on(
            &run.case,
            Action::Confirm {
                category: Category::Dibao
            },
            &civil_affairs(),
            notice.ends_on,
            date("2026-10-30"),
            &params(),
        )
        .map(|transition| transition.step())
        .map_err(|refusal| refusal.code()),
        Err("notice_running")
    );
    // Another village's assistant may not.
    let other_village = actor(7, Role::VillageAssistant, "500151102202");
    assert_eq!(
        run.refused(Action::PostNotice, &other_village, "2026-10-20"),
        "outside_area"
    );
}

#[test]
fn p4_a_survey_team_is_two_active_users_who_may_survey_the_household() {
    let member = |user_id: i64, role: Role, area: &str, active: bool| Surveyor {
        user_id,
        name: format!("成员{user_id}"),
        role,
        area: place(area),
        active,
    };
    let village_member = member(1, Role::VillageAssistant, VILLAGE, true);
    let town_member = member(3, Role::TownReviewer, TOWN, true);
    let check = |team: Vec<Surveyor>| match check_team(&team, &place(VILLAGE)) {
        Ok(()) => "ok".to_owned(),
        Err(refusal) => format!("{}: {}", refusal.code(), refusal.message()),
    };
    let table: Vec<(Vec<Surveyor>, &str)> = vec![
        (vec![village_member.clone(), town_member.clone()], "ok"),
        (
            vec![
                village_member.clone(),
                member(2, Role::GridWorker, "500151102201001", true),
            ],
            "ok",
        ),
        (
            vec![village_member.clone(), village_member.clone()],
            "team_too_small",
        ),
        (
            vec![
                village_member.clone(),
                member(6, Role::TownReviewer, "500151103", true),
            ],
            "team_member_may_not_survey: 调查组成员“成员6”",
        ),
        (
            vec![
                village_member.clone(),
                member(7, Role::VillageAssistant, "500151102202", true),
            ],
            "team_member_may_not_survey: 调查组成员“成员7”",
        ),
        (
            vec![
                village_member.clone(),
                member(4, Role::DistrictCivilAffairs, DISTRICT, true),
            ],
            "team_member_may_not_survey: 调查组成员“成员4”",
        ),
        (
            vec![
                village_member.clone(),
                member(8, Role::TownReviewer, TOWN, false),
            ],
            "team_member_inactive: 调查组成员“成员8”",
        ),
        // A town reviewer placed at a village is at the wrong level and surveys nothing.
        (
            vec![village_member, member(9, Role::TownReviewer, VILLAGE, true)],
            "team_member_may_not_survey",
        ),
    ];
    for (team, expected) in table {
        let got = check(team);
        assert!(got.starts_with(expected), "expected {expected}, got {got}");
    }
}

/// Issue 14: a partial decline (one category confirmed, another declined) concludes the case
/// and owes the applicant a 告知书 for the part declined, within its time limit, delivered once.
#[test]
fn p8_a_partial_decline_owes_a_refusal_notice_for_the_part_declined() {
    let mut run = noticed_application();
    run.go(
        Action::Decline {
            category: Category::Dibao,
            reason: "家庭财产超过规定".into(),
        },
        &civil_affairs(),
        "2026-10-27",
    );
    run.go(
        Action::Confirm {
            category: Category::Monitoring,
        },
        &agriculture(),
        "2026-10-27",
    );
    assert_eq!(run.case.step(), Step::Confirmed);
    assert!(run.case.owes_refusal_notice());
    assert_eq!(
        run.case.declined(),
        vec![(Category::Dibao, "家庭财产超过规定")]
    );
    let limits: Vec<TimeLimit> = deadlines(&run.case, date("2026-10-27"), &calendar(), &params())
        .iter()
        .map(|deadline| deadline.limit)
        .collect();
    assert_eq!(limits, vec![TimeLimit::RefusalNotice]);
    run.go(Action::DeliverRefusalNotice, &town(), "2026-10-28");
    assert_eq!(
        run.case.refusal_notice_delivered_on(),
        Some(date("2026-10-28"))
    );
    assert_eq!(
        run.refused(Action::DeliverRefusalNotice, &town(), "2026-10-29"),
        "refusal_notice_already_delivered"
    );
    // A case confirmed in whole owes no notice.
    let mut whole = noticed_application();
    whole.go(
        Action::Confirm {
            category: Category::Dibao,
        },
        &civil_affairs(),
        "2026-10-27",
    );
    whole.go(
        Action::Confirm {
            category: Category::Monitoring,
        },
        &agriculture(),
        "2026-10-27",
    );
    assert_eq!(
        whole.refused(Action::DeliverRefusalNotice, &town(), "2026-10-28"),
        "case_closed"
    );
}

/// A case of `kind` for a household holding 低保 and the monitoring tag, taken to the joint
/// review.
fn monitored_case(kind: CaseKind, summary: &str) -> Run {
    let mut run = Run::open(
        Intake {
            consent: None,
            summary: summary.to_owned(),
            ..intake(kind, &[Category::Dibao, Category::Monitoring])
        },
        &town(),
        "2026-10-09",
    );
    run.go(Action::BeginComparison, &town(), "2026-10-09")
        .go(Action::CompleteComparison, &town(), "2026-10-10")
        .go(team_survey(), &village_assistant(), "2026-10-12")
        .go(village_review(), &town(), "2026-10-14");
    run
}

#[test]
fn x2_risk_elimination_needs_a_written_reason() {
    for summary in ["", "  "] {
        let refusal = open(
            Intake {
                consent: None,
                summary: summary.to_owned(),
                ..intake(
                    CaseKind::RiskElimination,
                    &[Category::Dibao, Category::Monitoring],
                )
            },
            &town(),
            date("2026-10-09"),
        )
        .unwrap_err();
        assert_eq!(refusal.code(), "risk_elimination_reason_missing");
        assert_eq!(refusal.message(), "办理风险消除须写明理由");
    }
    // An exit or a re-check rests on the reason it is given, as before.
    assert!(
        open(
            Intake {
                consent: None,
                summary: String::new(),
                ..intake(CaseKind::Exit, &[Category::Dibao, Category::Monitoring])
            },
            &town(),
            date("2026-10-09"),
        )
        .is_ok()
    );
}

#[test]
fn x2_monitoring_ends_only_by_risk_elimination() {
    // An exit that would end the tag with 低保 (the meeting overrides the kept tag) is refused.
    for kind in [CaseKind::Exit, CaseKind::Recheck] {
        let run = monitored_case(kind, "收入超过低保标准");
        assert_eq!(
            run.refused(
                joint_review(
                    &[Category::Monitoring],
                    None,
                    vec![CategoryVerdict {
                        category: Category::Monitoring,
                        verdict: Verdict::Override {
                            reason: "一并解除监测".to_owned()
                        }
                    }]
                ),
                &town(),
                "2026-10-16"
            ),
            "monitoring_ends_only_by_risk_elimination",
            "{kind:?}"
        );
    }
    // The exit keeps the tag and ends 低保 alone.
    let mut run = monitored_case(CaseKind::Exit, "收入超过低保标准");
    run.go(
        joint_review(
            &[Category::Monitoring],
            Some(MonitoringKind::EdgeProne),
            confirm_all(&[Category::Monitoring]),
        ),
        &town(),
        "2026-10-16",
    );
    let decided: Vec<(Category, Change)> = run
        .case
        .decided()
        .iter()
        .map(|decided| (decided.category, decided.change))
        .collect();
    assert_eq!(
        decided,
        [
            (Category::Dibao, Change::End),
            (Category::Monitoring, Change::Continue)
        ]
    );
}

#[test]
fn x2_risk_elimination_is_not_overridden_into_being() {
    // The engine keeps the tag (risk not eliminated): the meeting may not end it.
    let run = monitored_case(CaseKind::RiskElimination, "收入稳定超过监测线");
    assert_eq!(
        run.refused(
            joint_review(
                &[Category::Dibao, Category::Monitoring],
                None,
                vec![
                    CategoryVerdict {
                        category: Category::Dibao,
                        verdict: Verdict::Confirm,
                    },
                    CategoryVerdict {
                        category: Category::Monitoring,
                        verdict: Verdict::Override {
                            reason: "村里反映已稳定".to_owned()
                        }
                    }
                ]
            ),
            &town(),
            "2026-10-16"
        ),
        "risk_not_eliminated"
    );
}

#[test]
fn d2_tekun_start_records_its_support_mode() {
    let open_application = || {
        let mut run = Run::open(
            intake(CaseKind::Application, &[]),
            &village_assistant(),
            "2026-10-09",
        );
        run.go(Action::BeginComparison, &town(), "2026-10-09")
            .go(Action::CompleteComparison, &town(), "2026-10-10")
            .go(team_survey(), &village_assistant(), "2026-10-12")
            .go(village_review(), &town(), "2026-10-14");
        run
    };
    let with_mode = |proposed: &[Category], mode: Option<domain::SupportMode>| {
        let Action::RecordJointReview(review) = joint_review(proposed, None, confirm_all(proposed))
        else {
            unreachable!()
        };
        Action::RecordJointReview(JointReview {
            support_mode: mode,
            ..review
        })
    };
    let run = open_application();
    let refusal = run.refused(with_mode(&[Category::Tekun], None), &town(), "2026-10-16");
    assert_eq!(refusal, "support_mode_missing");
    let mut run = open_application();
    run.go(
        with_mode(&[Category::Tekun], Some(domain::SupportMode::Centralised)),
        &town(),
        "2026-10-16",
    );
    assert_eq!(
        run.case.joint_review().unwrap().support_mode,
        Some(domain::SupportMode::Centralised)
    );
    // Another category: the mode given is not recorded, and none is needed.
    let mut run = open_application();
    run.go(
        with_mode(&[Category::Dibao], Some(domain::SupportMode::Dispersed)),
        &town(),
        "2026-10-16",
    );
    assert_eq!(run.case.joint_review().unwrap().support_mode, None);
    let mut run = open_application();
    run.go(with_mode(&[Category::Dibao], None), &town(), "2026-10-16");
    assert_eq!(run.case.step(), Step::Notice);
}

/// X2: what is proposed for a household, by case kind, held tag, rule 6/9 and open warnings:
/// (kind, holds the tag, rules tag it, risk eliminated, open warnings) → monitoring proposed.
#[test]
fn x2_a_held_monitoring_tag_is_proposed_until_risk_elimination() {
    let check = |kind: CaseKind,
                 held_tag: bool,
                 tagged: bool,
                 eliminated: bool,
                 warnings: usize,
                 expected: bool| {
        let determination = policy::Determination {
            primary: None,
            categories: Vec::new(),
            monitoring: tagged.then_some(MonitoringKind::EdgeProne),
            risk_eliminated: eliminated,
            monthly_benefit: domain::Yuan::ZERO,
            income_per_capita_month: domain::Yuan::ZERO,
            recheck_months: 12,
            pending: Vec::new(),
            explanation: Vec::new(),
        };
        let held: &[Category] = if held_tag {
            &[Category::Dibao, Category::Monitoring]
        } else {
            &[Category::Dibao]
        };
        let proposed = propose_categories(kind, held, &determination, warnings);
        assert_eq!(
            proposed.categories.contains(&Category::Monitoring),
            expected,
            "{kind:?} held {held_tag} tagged {tagged} eliminated {eliminated} warnings {warnings}: {:?}",
            proposed.notes
        );
        // A kept tag says why, unless rules 6 and 9 keep it themselves.
        let rules_keep_it = tagged && !eliminated;
        assert_eq!(
            !proposed.notes.is_empty(),
            held_tag && expected && !rules_keep_it
        );
    };
    use CaseKind::*;
    // Not held: the rules decide (tagged and not eliminated).
    check(Application, false, true, false, 0, true);
    check(Application, false, false, false, 0, false);
    check(Exit, false, true, true, 0, false);
    // Held, other cases: kept whatever the rules say (按规退出并持续做好监测).
    check(Exit, true, false, false, 0, true);
    check(Exit, true, false, true, 0, true);
    check(Recheck, true, false, true, 0, true);
    // 风险消除: ends only where rule 9 holds and no warning is open.
    check(RiskElimination, true, false, false, 0, true);
    check(RiskElimination, true, true, false, 0, true);
    check(RiskElimination, true, false, true, 1, true);
    check(RiskElimination, true, false, true, 0, false);
    check(RiskElimination, true, true, true, 0, false);
}

/// One move of each kind at a step where it is taken, by whom and on which day: a kind added
/// to the vocabulary does not compile here until its transition is written.
fn a_move_of(kind: ActionKind) -> (Run, Action, ActorRef, &'static str) {
    let objection = || Action::RecordObjection {
        summary: "村民反映其子在外务工收入较高".to_owned(),
    };
    let discrepancy = || {
        Action::RecordDiscrepancy(Discrepancy {
            source: "人工录入".to_owned(),
            description: "名下有车辆".to_owned(),
        })
    };
    let reason = || "申请人主动撤回".to_owned();
    match kind {
        ActionKind::BeginComparison => (
            application_until(Step::Received),
            Action::BeginComparison,
            town(),
            "2026-10-09",
        ),
        ActionKind::RecordDiscrepancy => (
            application_until(Step::Comparing),
            discrepancy(),
            town(),
            "2026-10-10",
        ),
        ActionKind::ExplainDiscrepancy => {
            let mut run = application_until(Step::Comparing);
            run.go(discrepancy(), &town(), "2026-10-10");
            let explain = Action::ExplainDiscrepancy {
                number: 1,
                explanation: Explanation::Resolved {
                    note: "车辆已过户".to_owned(),
                },
            };
            (run, explain, town(), "2026-10-10")
        }
        ActionKind::CompleteComparison => (
            application_until(Step::Comparing),
            Action::CompleteComparison,
            town(),
            "2026-10-10",
        ),
        ActionKind::RecordSurvey => (
            application_until(Step::Surveying),
            team_survey(),
            village_assistant(),
            "2026-10-12",
        ),
        ActionKind::RecordVillageReview => (
            application_until(Step::VillageReview),
            village_review(),
            town(),
            "2026-10-14",
        ),
        ActionKind::RecordJointReview => (
            application_until(Step::JointReview),
            joint_review(
                DIBAO_AND_MONITORING,
                Some(MonitoringKind::EdgeProne),
                confirm_all(DIBAO_AND_MONITORING),
            ),
            town(),
            "2026-10-16",
        ),
        ActionKind::PostNotice => (
            application_until(Step::Notice),
            Action::PostNotice,
            town(),
            "2026-10-19",
        ),
        ActionKind::RecordObjection => (noticed_application(), objection(), town(), "2026-10-20"),
        ActionKind::SendBackForVerification => {
            let mut run = noticed_application();
            run.go(objection(), &town(), "2026-10-20");
            (run, Action::SendBackForVerification, town(), "2026-10-21")
        }
        ActionKind::AnswerObjection => {
            let mut run = noticed_application();
            run.go(objection(), &town(), "2026-10-20").go(
                Action::SendBackForVerification,
                &town(),
                "2026-10-21",
            );
            let Action::RecordSurvey(mut resurvey) = team_survey() else {
                unreachable!()
            };
            resurvey.surveyed_on = date("2026-10-23");
            run.go(Action::RecordSurvey(resurvey), &grid_worker(), "2026-10-23");
            let answer = Action::AnswerObjection {
                number: 1,
                answer: "其子已另立户且无赡养能力，异议不成立".to_owned(),
            };
            (run, answer, town(), "2026-10-24")
        }
        ActionKind::Confirm => (
            noticed_application(),
            Action::Confirm {
                category: Category::Dibao,
            },
            civil_affairs(),
            "2026-10-27",
        ),
        ActionKind::Decline => (
            noticed_application(),
            Action::Decline {
                category: Category::Dibao,
                reason: "家庭财产超过规定".to_owned(),
            },
            civil_affairs(),
            "2026-10-27",
        ),
        ActionKind::Refuse => (
            application_until(Step::Surveying),
            Action::Refuse {
                reason: "家庭收入超过低保标准".to_owned(),
            },
            town(),
            "2026-10-11",
        ),
        ActionKind::DeliverRefusalNotice => {
            let mut run = application_until(Step::Surveying);
            let refuse = Action::Refuse {
                reason: "家庭收入超过低保标准".to_owned(),
            };
            run.go(refuse, &town(), "2026-10-11");
            (run, Action::DeliverRefusalNotice, town(), "2026-10-13")
        }
        ActionKind::Withdraw => (
            application_until(Step::Surveying),
            Action::Withdraw { reason: reason() },
            grid_worker(),
            "2026-10-11",
        ),
        ActionKind::RecordSpecialLimit => (
            application_until(Step::Surveying),
            Action::RecordSpecialLimit {
                reason: "需补充残疾等级鉴定".to_owned(),
            },
            town(),
            "2026-10-11",
        ),
    }
}

#[test]
fn every_action_kind_has_a_transition() {
    for kind in ActionKind::ALL {
        let (run, action, by, on) = a_move_of(*kind);
        assert_eq!(action.kind(), *kind, "the move of {kind} is of its kind");
        assert!(
            offered(&run.case, by.role, date(on)).contains(kind),
            "{kind} is offered where it moves"
        );
        let transition = run
            .try_do(action, &by, on)
            .unwrap_or_else(|refusal| panic!("{kind}: refused ({})", refusal.code()));
        assert!(
            !transition.events().is_empty(),
            "{kind} records what it did"
        );
    }
}

/// A value of each type a field can have, as read.
fn sample_value(field: &Field) -> fields::Value {
    match field.kind {
        FieldKind::Text => fields::Value::Text("经核实".to_owned()),
        FieldKind::Date => fields::Value::Date(date("2026-10-12")),
        FieldKind::Number { .. } => fields::Value::Number(1),
        FieldKind::Bool => fields::Value::Bool(true),
        FieldKind::Word(words) => fields::Value::Code(words.codes[0].to_owned()),
        FieldKind::Choice(codes) => fields::Value::Code(codes[0].to_owned()),
        FieldKind::Users => fields::Value::Users(vec![1, 3]),
        FieldKind::Records(_) => fields::Value::Records(Vec::new()),
        FieldKind::Household => fields::Value::Household(Box::new(household("H1"))),
    }
}

#[test]
fn every_action_kind_is_built_from_its_described_fields() {
    for kind in ActionKind::ALL {
        let mut input = Input::default();
        for field in kind.fields() {
            input.set(field.name, sample_value(field));
        }
        let action = CaseAction::from_input(*kind, &input, date("2026-10-12"))
            .unwrap_or_else(|invalid| panic!("{kind}: {invalid:?}"));
        assert_eq!(action.kind(), *kind);
        // Each field is named once, and a required one by a label for its message.
        let mut names: Vec<&str> = kind.fields().iter().map(|field| field.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            kind.fields().len(),
            "{kind}: a field named twice"
        );
        assert!(
            kind.fields().iter().all(|field| !field.label.is_empty()
                && field.name != "action"
                && field.name != "on"),
            "{kind}"
        );
    }
}
