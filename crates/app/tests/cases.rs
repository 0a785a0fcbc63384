//! Case use cases (issue 4) end to end: on SQLite always, and on a fresh PostgreSQL database
//! per test when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use common::{FixedClock, date, stores};

use app::cases::{CaseAction, JointReviewInput, NewIntake, WORK_QUEUE_PER_PAGE, WorkQuery};
use app::users::{Creator, NewUser};
use app::{Actor, App, AppError, AppSettings};
use chrono::{NaiveDate, Utc};
use domain::interchange::parse_household_line;
use domain::{Category, HouseholdNo, PlaceCode, Role};
use std::sync::{Arc, Mutex};
use store::audit::Verification;
use workflow::{
    Action, CaseKind, CategoryVerdict, Channel, Consent, Discrepancy, Explanation, ReviewOutcome,
    Step, Survey, TeamMember, TimeLimit, Verdict, VillageReview,
};

const BACHUAN: &str = "500151001";
const YONGYUAN: &str = "500151001200";
const TUQIAO: &str = "500151100";
const GUANGQIAO: &str = "500151100201";

struct World {
    backend: &'static str,
    app: App,
    clock: Arc<FixedClock>,
    town: Actor,
    other_town: Actor,
    village: Actor,
    other_village: Actor,
    civil: Actor,
    agriculture: Actor,
    _dir: tempfile::TempDir,
}

async fn make_actor(app: &App, username: &str, name: &str, role: Role, area: &str) -> Actor {
    let area = PlaceCode::parse(area).unwrap();
    let user_id = app
        .create_user(
            Creator::Console("test"),
            NewUser {
                username,
                display_name: name,
                role,
                area: &area,
                password: "correct-horse-1",
            },
        )
        .await
        .unwrap();
    Actor {
        user_id,
        username: username.to_owned(),
        display_name: name.to_owned(),
        role,
        area,
    }
}

async fn worlds() -> Vec<World> {
    let mut worlds = Vec::new();
    for (backend, store, dir) in stores("cases").await {
        let clock = Arc::new(FixedClock(Mutex::new(Utc::now())));
        clock.set(date("2026-11-02"));
        let app = App::new(store, clock.clone(), AppSettings::default());
        let places =
            domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
        app.load_places("test", &places).await.unwrap();
        let town = make_actor(&app, "bachuan", "巴川审核员", Role::TownReviewer, BACHUAN).await;
        let other_town = make_actor(&app, "tuqiao", "土桥审核员", Role::TownReviewer, TUQIAO).await;
        let village = make_actor(
            &app,
            "yongyuan",
            "永院协理员",
            Role::VillageAssistant,
            YONGYUAN,
        )
        .await;
        let other_village = make_actor(
            &app,
            "guangqiao",
            "广桥协理员",
            Role::VillageAssistant,
            GUANGQIAO,
        )
        .await;
        let civil = make_actor(
            &app,
            "minzheng",
            "区民政局",
            Role::DistrictCivilAffairs,
            "500151",
        )
        .await;
        let agriculture = make_actor(
            &app,
            "nongye",
            "区农业农村委",
            Role::DistrictAgriculture,
            "500151",
        )
        .await;
        worlds.push(World {
            backend,
            app,
            clock,
            town,
            other_town,
            village,
            other_village,
            civil,
            agriculture,
            _dir: dir,
        });
    }
    worlds
}

/// A poor household of three: 12 000 yuan of wages a year, 333 yuan per head and month.
fn household_line(id: &str, area: &str, first_id: &str) -> String {
    format!(
        r#"{{"id": "{id}", "area_code": "{area}", "hukou": "rural", "members": [{{"id_number": "{first_id}", "name": "韩一", "relation": "head"}}, {{"id_number": "500224198601011407", "name": "杨二", "relation": "spouse"}}, {{"id_number": "500224199001011432", "name": "韩三", "relation": "sibling"}}], "income_12m": {{"wages": 12000}}}}"#
    )
}

fn intake(kind: CaseKind, household_id: &str, area: &str, on: NaiveDate) -> NewIntake {
    NewIntake {
        kind,
        channel: Channel::VillageWindow,
        household_no: HouseholdNo::parse(household_id).unwrap(),
        area: PlaceCode::parse(area).unwrap(),
        applicant: "韩一".to_owned(),
        consent: Some(Consent {
            signed_on: on,
            signer: "韩一".to_owned(),
        }),
        summary: "因病致贫，申请救助".to_owned(),
    }
}

fn refused(result: Result<Step, AppError>) -> &'static str {
    match result {
        Err(error) => error.code(),
        Ok(step) => panic!("expected a refusal, the case moved to {step:?}"),
    }
}

fn step(action: Action) -> CaseAction {
    CaseAction::Move(action)
}

impl World {
    fn today(&self) -> NaiveDate {
        self.app.today()
    }

    /// The village assistant opens an application for household YY-0001 of 永院村 today;
    /// returns the case and the household's line.
    async fn yongyuan_application(&self) -> (i64, String) {
        let household = household_line("YY-0001", YONGYUAN, "500224198501011397");
        let new_case = intake(CaseKind::Application, "YY-0001", YONGYUAN, self.today());
        let (case_id, _) = self.app.open_case(&self.village, new_case).await.unwrap();
        (case_id, household)
    }

    fn survey(&self, household: &str, team: &[&Actor]) -> Survey {
        Survey {
            household: parse_household_line(household).unwrap(),
            team: team
                .iter()
                .map(|actor| TeamMember {
                    user_id: actor.user_id,
                    name: actor.display_name.clone(),
                })
                .collect(),
            surveyed_on: self.today(),
        }
    }

    async fn act(&self, actor: &Actor, case_id: i64, action: CaseAction) -> Step {
        self.app
            .act_on_case(actor, case_id, action)
            .await
            .unwrap_or_else(|error| {
                panic!("{}: {} {}", self.backend, error.code(), error.message())
            })
    }

    /// The joint review agreeing with the proposal (`agree`), or overriding every proposed
    /// category (an exit).
    async fn joint_review(&self, case_id: i64, agree: bool) -> Step {
        let proposal = self.app.case_proposal(&self.town, case_id).await.unwrap();
        let verdicts = proposal
            .categories
            .iter()
            .map(|category| CategoryVerdict {
                category: *category,
                verdict: if agree {
                    Verdict::Confirm
                } else {
                    Verdict::Override {
                        reason: "务工收入稳定，超过标准".to_owned(),
                    }
                },
            })
            .collect();
        let monitoring_kind = if agree {
            proposal.monitoring_kind
        } else {
            None
        };
        let input = JointReviewInput {
            held_on: self.today(),
            verdicts,
            monitoring_kind,
            monitoring_kind_reason: String::new(),
            judgements: Vec::new(),
            support_mode: proposal
                .categories
                .contains(&Category::Tekun)
                .then_some(domain::SupportMode::Dispersed),
        };
        // 待人工核定: the meeting must judge each pending test before the case moves on.
        if let Some(first) = proposal.pending.first() {
            let refused = self
                .app
                .act_on_case(
                    &self.town,
                    case_id,
                    CaseAction::RecordJointReview(input.clone()),
                )
                .await
                .unwrap_err();
            assert_eq!(refused.code(), "pending_unjudged", "{}", self.backend);
            assert!(refused.message().contains(&first.text));
        }
        let judgements = proposal
            .pending
            .iter()
            .map(|test| workflow::PendingJudgement {
                rule: test.rule.clone(),
                param: test.param.clone(),
                holds: agree,
                reason: "入户核实，存款为子女学费".to_owned(),
            })
            .collect();
        self.act(
            &self.town,
            case_id,
            CaseAction::RecordJointReview(JointReviewInput {
                judgements,
                ..input
            }),
        )
        .await
    }

    /// Each department confirms its own decided categories.
    async fn confirm_all(&self, case_id: i64) -> Step {
        let detail = self.app.case_detail(&self.town, case_id).await.unwrap();
        let mut last = detail.case.step();
        for decided in detail.case.decided() {
            let department = if decided.department() == Role::DistrictAgriculture {
                &self.agriculture
            } else {
                &self.civil
            };
            let category = decided.category;
            last = self
                .act(department, case_id, step(Action::Confirm { category }))
                .await;
        }
        last
    }

    /// Comparison, survey and village review of an opened case, up to the joint review.
    async fn to_joint_review(&self, case_id: i64, household: &str) {
        self.act(&self.town, case_id, step(Action::BeginComparison))
            .await;
        self.act(&self.town, case_id, step(Action::CompleteComparison))
            .await;
        let survey = self.survey(household, &[&self.village, &self.town]);
        self.act(&self.village, case_id, step(Action::RecordSurvey(survey)))
            .await;
        let review = VillageReview {
            held_on: self.today(),
            attendance: 12,
            outcome: ReviewOutcome::Agreed,
            note: "一致同意".to_owned(),
        };
        self.act(
            &self.town,
            case_id,
            step(Action::RecordVillageReview(review)),
        )
        .await;
    }

    /// The notice posted today, then the clock past its end.
    async fn run_notice(&self, case_id: i64) {
        self.act(&self.town, case_id, step(Action::PostNotice))
            .await;
        let detail = self.app.case_detail(&self.town, case_id).await.unwrap();
        let ends_on = detail.case.notice().unwrap().ends_on;
        self.clock.set(ends_on.succ_opt().unwrap());
    }

    async fn periods(&self, external_id: &str) -> Vec<store::households::CategoryPeriodRow> {
        let mut conn = self.app.store().read().await.unwrap();
        let row = store::households::by_external_id(&mut conn, external_id)
            .await
            .unwrap()
            .expect("household in the registry");
        store::households::category_history(&mut conn, row.id)
            .await
            .unwrap()
    }

    /// Drives a first application of `external_id` to enrolment; returns its case id.
    async fn enrol(&self, external_id: &str, first_id: &str) -> i64 {
        let household = household_line(external_id, YONGYUAN, first_id);
        let new_case = intake(CaseKind::Application, external_id, YONGYUAN, self.today());
        let (case_id, _) = self.app.open_case(&self.village, new_case).await.unwrap();
        self.to_joint_review(case_id, &household).await;
        assert_eq!(self.joint_review(case_id, true).await, Step::Notice);
        self.run_notice(case_id).await;
        assert_eq!(self.confirm_all(case_id).await, Step::Confirmed);
        case_id
    }

    async fn audit_intact(&self) {
        testkit::builders::assert_audit_intact(&self.app, self.backend).await;
    }
}

/// P1: no consent, no intake; one case in progress per household; U2: the wrong role, the
/// wrong area, a skipped step are refused.
#[tokio::test]
async fn p1_u2_an_application_needs_consent_one_at_a_time_and_the_right_user() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        let today = world.today();

        // P1: no consent, no intake.
        let mut no_consent = intake(CaseKind::Application, "YY-0001", YONGYUAN, today);
        no_consent.consent = None;
        let error = app.open_case(&world.village, no_consent).await.unwrap_err();
        assert_eq!(error.code(), "consent_missing", "{backend}");

        let new_case = intake(CaseKind::Application, "YY-0001", YONGYUAN, today);
        let (case_id, tracking_number) = app.open_case(&world.village, new_case).await.unwrap();
        assert_eq!(tracking_number.as_str(), "TL20261102-0001", "{backend}");
        // P1: one case in progress per household.
        let again = intake(CaseKind::Application, "YY-0001", YONGYUAN, today);
        let error = app.open_case(&world.town, again).await.unwrap_err();
        assert_eq!(error.code(), "conflict", "{backend}");
        assert_eq!(app.track("TL20261102-0001").await.unwrap(), Step::Received);

        // U2: the wrong role, the wrong area, a skipped step.
        let begin = || step(Action::BeginComparison);
        let result = app.act_on_case(&world.village, case_id, begin()).await;
        assert_eq!(refused(result), "wrong_role", "{backend}");
        let result = app.act_on_case(&world.other_town, case_id, begin()).await;
        assert_eq!(refused(result), "not_found", "{backend}");
        let result = app
            .act_on_case(&world.other_village, case_id, begin())
            .await;
        assert_eq!(refused(result), "not_found", "{backend}");
        let result = app
            .act_on_case(&world.town, case_id, step(Action::PostNotice))
            .await;
        assert_eq!(refused(result), "step_out_of_order", "{backend}");
        assert!(matches!(
            app.case_detail(&world.other_town, case_id).await,
            Err(AppError::NotFound)
        ));
        world.audit_intact().await;
    }
}

/// P3: a 疑点 is explained before the comparison ends; P4: a one-person team and a team
/// member who is no user are refused.
#[tokio::test]
async fn p3_p4_a_discrepancy_is_explained_and_the_survey_team_is_checked() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        let (case_id, household) = world.yongyuan_application().await;
        let begin = || step(Action::BeginComparison);
        // P3: a 疑点 is explained before the comparison ends.
        world.act(&world.town, case_id, begin()).await;
        let discrepancy = Discrepancy {
            source: "车辆登记".to_owned(),
            description: "登记有一辆货车".to_owned(),
        };
        world
            .act(
                &world.town,
                case_id,
                step(Action::RecordDiscrepancy(discrepancy)),
            )
            .await;
        let result = app
            .act_on_case(&world.town, case_id, step(Action::CompleteComparison))
            .await;
        assert_eq!(refused(result), "discrepancy_unexplained", "{backend}");
        let explanation = Explanation::Resolved {
            note: "货车已于2025年报废".to_owned(),
        };
        let explain = Action::ExplainDiscrepancy {
            number: 1,
            explanation,
        };
        world.act(&world.town, case_id, step(explain)).await;
        let moved = world
            .act(&world.town, case_id, step(Action::CompleteComparison))
            .await;
        assert_eq!(moved, Step::Surveying);

        // P4: a one-person team is refused.
        let alone = world.survey(&household, &[&world.village, &world.village]);
        let result = app
            .act_on_case(&world.village, case_id, step(Action::RecordSurvey(alone)))
            .await;
        assert_eq!(refused(result), "team_too_small", "{backend}");
        let mut stranger = world.survey(&household, &[&world.village, &world.town]);
        stranger.team[1].user_id = 9999;
        let result = app
            .act_on_case(
                &world.village,
                case_id,
                step(Action::RecordSurvey(stranger)),
            )
            .await;
        assert_eq!(refused(result), "invalid_input", "{backend}");
        let survey = world.survey(&household, &[&world.village, &world.town]);
        let moved = world
            .act(&world.village, case_id, step(Action::RecordSurvey(survey)))
            .await;
        assert_eq!(moved, Step::VillageReview);
        let review = VillageReview {
            held_on: world.today(),
            attendance: 15,
            outcome: ReviewOutcome::Agreed,
            note: "同意".to_owned(),
        };
        world
            .act(
                &world.town,
                case_id,
                step(Action::RecordVillageReview(review)),
            )
            .await;
        world.audit_intact().await;
    }
}

/// P6: the proposal comes from the rules engine; P7: no confirmation while the notice runs,
/// nor with an open objection, which sends the case back to a new survey, an answer and a new
/// notice.
#[tokio::test]
async fn p6_p7_the_proposal_is_the_engines_and_the_notice_holds_the_confirmation() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        let (case_id, household) = world.yongyuan_application().await;
        world.to_joint_review(case_id, &household).await;
        // P6: the proposal comes from the rules engine.
        let proposal = app.case_proposal(&world.town, case_id).await.unwrap();
        assert!(
            proposal.categories.contains(&Category::Dibao),
            "{proposal:?}"
        );
        assert_eq!(world.joint_review(case_id, true).await, Step::Notice);

        // P7: no confirmation while the notice runs, nor with an open objection.
        world
            .act(&world.town, case_id, step(Action::PostNotice))
            .await;
        let confirm_dibao = || {
            step(Action::Confirm {
                category: Category::Dibao,
            })
        };
        let result = app
            .act_on_case(&world.civil, case_id, confirm_dibao())
            .await;
        assert_eq!(refused(result), "notice_running", "{backend}");
        let objection = Action::RecordObjection {
            summary: "群众反映家中有商铺出租".to_owned(),
        };
        world.act(&world.town, case_id, step(objection)).await;
        let detail = app.case_detail(&world.town, case_id).await.unwrap();
        let ends_on = detail.case.notice().unwrap().ends_on;
        world.clock.set(ends_on.succ_opt().unwrap());
        let result = app
            .act_on_case(&world.civil, case_id, confirm_dibao())
            .await;
        assert_eq!(refused(result), "objection_open", "{backend}");
        let moved = world
            .act(&world.town, case_id, step(Action::SendBackForVerification))
            .await;
        assert_eq!(moved, Step::Surveying);
        let survey = world.survey(&household, &[&world.village, &world.town]);
        let moved = world
            .act(&world.village, case_id, step(Action::RecordSurvey(survey)))
            .await;
        assert_eq!(moved, Step::JointReview);
        let answer = Action::AnswerObjection {
            number: 1,
            answer: "经核实无商铺".to_owned(),
        };
        world.act(&world.town, case_id, step(answer)).await;
        assert_eq!(world.joint_review(case_id, true).await, Step::Notice);
        world.run_notice(case_id).await;
        world.audit_intact().await;
    }
}

/// P8, U2: each department confirms only its own; D2: the registry holds the household and
/// its dated period, the case as reason; the closed case moves no more; the timeline names
/// who did what.
#[tokio::test]
async fn p8_d2_each_department_confirms_its_own_and_the_registry_holds_the_period() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        let (case_id, household) = world.yongyuan_application().await;
        world.to_joint_review(case_id, &household).await;
        assert_eq!(world.joint_review(case_id, true).await, Step::Notice);
        world.run_notice(case_id).await;
        let confirm_dibao = || {
            step(Action::Confirm {
                category: Category::Dibao,
            })
        };
        // P8, U2: each department confirms only its own.
        let result = app
            .act_on_case(&world.agriculture, case_id, confirm_dibao())
            .await;
        assert_eq!(refused(result), "other_departments_category", "{backend}");
        assert_eq!(
            world.confirm_all(case_id).await,
            Step::Confirmed,
            "{backend}"
        );

        // D2: the registry holds the household and its dated period, the case as reason.
        let periods = world.periods("YY-0001").await;
        let confirmed_on = world.today().to_string();
        assert!(
            periods
                .iter()
                .any(|period| period.category.code() == "dibao"
                    && period.start_date.to_string() == confirmed_on
                    && period.end_date.is_none()
                    && period.reason == "TL20261102-0001"),
            "{backend}: {periods:?}"
        );
        let result = app
            .act_on_case(&world.town, case_id, step(Action::PostNotice))
            .await;
        assert_eq!(refused(result), "case_closed", "{backend}");

        // The timeline names who did what.
        let detail = app.case_detail(&world.town, case_id).await.unwrap();
        assert_eq!(detail.timeline[0].actor_name, "永院协理员");
        assert!(
            detail
                .timeline
                .iter()
                .any(|entry| entry.actor_name == "区民政局")
        );
        world.audit_intact().await;
    }
}

#[tokio::test]
async fn p1_track_shows_only_the_step_of_a_known_tracking_number() {
    for world in worlds().await {
        let new_case = intake(CaseKind::Application, "YY-0009", YONGYUAN, world.today());
        let (_, tracking_number) = world.app.open_case(&world.village, new_case).await.unwrap();
        let step = world.app.track(tracking_number.as_str()).await.unwrap();
        assert_eq!(step, Step::Received, "{}", world.backend);
        for unknown in ["TL20261102-0999", "", "不是编号"] {
            let result = world.app.track(unknown).await;
            assert!(matches!(result, Err(AppError::NotFound)), "{unknown:?}");
        }
    }
}

#[tokio::test]
async fn w1_x1_a_recheck_and_an_exit_run_end_to_end_through_the_same_steps() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        world.enrol("YY-0002", "500224198501011397").await;
        let household = household_line("YY-0002", YONGYUAN, "500224198501011397");

        // W1: the household is due for its re-check within the cycle of rule 10.
        let until = world.today() + chrono::Months::new(12);
        let due = app.recheck_due(&world.town, until, None).await.unwrap();
        assert_eq!(due.items.len(), 1, "{backend}: {due:?}");
        assert_eq!(due.next_after, None, "{backend}");
        let due = due.items;
        assert_eq!(due[0].household_no, "YY-0002");
        assert!(due[0].due_on > world.today(), "{backend}: not due at once");
        let elsewhere = app
            .recheck_due(&world.other_town, until, None)
            .await
            .unwrap();
        assert!(elsewhere.items.is_empty(), "{backend}");
        world.clock.set(due[0].due_on);
        let (recheck_id, _) = app
            .open_recheck(&world.town, "YY-0002", "定期核查")
            .await
            .unwrap();
        world.to_joint_review(recheck_id, &household).await;
        assert_eq!(world.joint_review(recheck_id, true).await, Step::Notice);
        world.run_notice(recheck_id).await;
        assert_eq!(world.confirm_all(recheck_id).await, Step::Confirmed);
        let periods = world.periods("YY-0002").await;
        assert!(
            periods.iter().all(|period| period.end_date.is_none()),
            "{backend}: a re-check that confirms changes nothing: {periods:?}"
        );
        // W1: the completed re-check starts the next cycle from its own day.
        let next = app
            .recheck_due(&world.town, until + chrono::Months::new(24), None)
            .await
            .unwrap();
        assert_eq!(next.items.len(), 1, "{backend}");
        assert!(next.items[0].due_on > world.today(), "{backend}: {next:?}");

        // X1: the exit ends the periods, dated, through the same steps.
        let exit = intake(CaseKind::Exit, "YY-0002", YONGYUAN, world.today());
        let (exit_id, exit_number) = app.open_case(&world.town, exit).await.unwrap();
        world.to_joint_review(exit_id, &household).await;
        assert_eq!(world.joint_review(exit_id, false).await, Step::Notice);
        world.run_notice(exit_id).await;
        assert_eq!(world.confirm_all(exit_id).await, Step::Confirmed);
        let ended_on = world.today().to_string();
        let periods = world.periods("YY-0002").await;
        assert!(
            periods
                .iter()
                .all(|period| period.end_date.map(|day| day.to_string()) == Some(ended_on.clone())),
            "{backend}: {periods:?}"
        );
        let gone = app
            .recheck_due(&world.town, until + chrono::Months::new(24), None)
            .await
            .unwrap();
        assert!(
            gone.items.is_empty(),
            "{backend}: an exit ends the schedule: {gone:?}"
        );
        let detail = app.case_detail(&world.town, exit_id).await.unwrap();
        assert!(
            detail.case.monitoring_continues(),
            "X2: stays under monitoring"
        );
        assert_eq!(
            app.track(exit_number.as_str()).await.unwrap(),
            Step::Confirmed
        );
        world.audit_intact().await;
    }
}

#[tokio::test]
async fn p9_a_town_work_queue_holds_its_own_cases_by_due_date_late_across_national_day() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        // Received Friday 25 September 2026: 15 working days skip 1–7 October and count the
        // adjusted working Saturday 10 October, so the town review is due 22 October.
        world.clock.set(date("2026-09-25"));
        let first = intake(CaseKind::Application, "YY-0101", YONGYUAN, world.today());
        let (early_id, _) = app.open_case(&world.village, first).await.unwrap();
        let elsewhere = intake(CaseKind::Application, "GQ-0101", GUANGQIAO, world.today());
        app.open_case(&world.other_village, elsewhere)
            .await
            .unwrap();
        world.clock.set(date("2026-10-09"));
        let second = intake(CaseKind::Application, "YY-0102", YONGYUAN, world.today());
        let (later_id, _) = app.open_case(&world.village, second).await.unwrap();

        let today = date("2026-10-23");
        world.clock.set(today);
        let queue = app
            .work_queue(&world.town, today, WorkQuery::default())
            .await
            .unwrap();
        let seen: Vec<(i64, TimeLimit, NaiveDate, bool)> = queue
            .items
            .iter()
            .map(|item| (item.case_id, item.limit, item.due_on, item.late))
            .collect();
        assert_eq!(
            seen,
            vec![
                (early_id, TimeLimit::TownReview, date("2026-10-22"), true),
                (later_id, TimeLimit::TownReview, date("2026-10-29"), false),
            ],
            "{backend}"
        );
        // The village assistant acts on neither case at intake; the other town sees only its own.
        assert!(
            app.work_queue(&world.village, today, WorkQuery::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let other = app
            .work_queue(&world.other_town, today, WorkQuery::default())
            .await
            .unwrap();
        assert_eq!((other.total, other.items.len()), (1, 1), "{backend}");
        assert_eq!(other.items[0].household_no, "GQ-0101");
    }
}

#[tokio::test]
async fn p9_the_queue_holds_one_line_per_case_a_page_at_a_time_late_first() {
    for world in worlds().await {
        let app = &world.app;
        let backend = world.backend;
        // A case at 公示 (not yet posted) whose joint review decided 低保: the town stage's
        // limit and the 低保 total both run.
        let household = household_line("YY-0200", YONGYUAN, "500224198501011397");
        let opened = intake(CaseKind::Application, "YY-0200", YONGYUAN, world.today());
        let (two_limits, _) = app.open_case(&world.village, opened).await.unwrap();
        world.to_joint_review(two_limits, &household).await;
        assert_eq!(world.joint_review(two_limits, true).await, Step::Notice);

        // Three weeks on, a page's worth of new applications and one more.
        world.clock.set(date("2026-11-25"));
        let mut later = Vec::new();
        for n in 0..WORK_QUEUE_PER_PAGE {
            let household_id = format!("YY-{:04}", 1000 + n);
            let opened = intake(
                CaseKind::Application,
                &household_id,
                YONGYUAN,
                world.today(),
            );
            later.push(app.open_case(&world.village, opened).await.unwrap().0);
        }
        let today = world.today();
        let detail = app.case_detail(&world.town, two_limits).await.unwrap();
        let mut running = detail.deadlines.clone();
        running.sort_by_key(|deadline| deadline.due_on);
        assert!(
            running.len() >= 2
                && running
                    .iter()
                    .any(|deadline| deadline.limit == TimeLimit::DibaoTotal),
            "{backend}: {running:?}"
        );
        assert!(
            running[0].due_on < today,
            "{backend}: the town stage ran out"
        );

        let first = app
            .work_queue(&world.town, today, WorkQuery::default())
            .await
            .unwrap();
        assert_eq!(
            (first.total, first.n_late, first.capped, first.items.len()),
            (WORK_QUEUE_PER_PAGE + 1, 1, false, WORK_QUEUE_PER_PAGE),
            "{backend}"
        );
        assert!(first.next_after.is_some(), "{backend}");
        // One line for the case, under its nearest limit, late and first; the others beside it.
        let lines_of_case = first
            .items
            .iter()
            .filter(|item| item.case_id == two_limits)
            .count();
        assert_eq!(lines_of_case, 1, "{backend}");
        let line = &first.items[0];
        assert_eq!(line.case_id, two_limits, "{backend}");
        assert_eq!(
            (line.limit, line.due_on, line.late),
            (running[0].limit, running[0].due_on, true)
        );
        assert_eq!(line.others, running[1..].to_vec(), "{backend}");
        // The rest by due date (all due the same day: by tracking number, i.e. intake order).
        let ids: Vec<i64> = first.items[1..].iter().map(|item| item.case_id).collect();
        assert_eq!(ids, later[..WORK_QUEUE_PER_PAGE - 1], "{backend}");
        assert!(first.items[1..].iter().all(|item| !item.late));

        let second = app
            .work_queue(
                &world.town,
                today,
                WorkQuery {
                    overdue_only: false,
                    acting_only: false,
                    after: first.next_after.clone(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (second.total, second.next_after.as_deref()),
            (WORK_QUEUE_PER_PAGE + 1, None)
        );
        let ids: Vec<i64> = second.items.iter().map(|item| item.case_id).collect();
        assert_eq!(ids, [later[WORK_QUEUE_PER_PAGE - 1]], "{backend}");
        let past = app
            .work_queue(
                &world.town,
                today,
                WorkQuery {
                    overdue_only: false,
                    acting_only: false,
                    after: Some(format!(
                        "{}.{}",
                        second.items[0].due_on,
                        second.items[0].tracking_number.as_str()
                    )),
                },
            )
            .await
            .unwrap();
        assert!(past.items.is_empty(), "{backend}");

        // The overdue list pages the same way: one late case, one page.
        let overdue = app
            .work_queue(
                &world.town,
                today,
                WorkQuery {
                    overdue_only: true,
                    acting_only: false,
                    after: None,
                },
            )
            .await
            .unwrap();
        assert_eq!((overdue.total, overdue.n_late), (1, 1), "{backend}");
        assert_eq!(overdue.next_after, None);
        assert_eq!(overdue.items[0].case_id, two_limits, "{backend}");
    }
}

/// Issue 16: case events are inside the audit chain — an event edited, deleted or added in
/// `case_events` without its audit row is named by its case and number.
#[tokio::test]
async fn case_events_changed_outside_the_chain_are_named_by_audit_verify() {
    for world in worlds().await {
        let backend = world.backend;
        let case_id = world.enrol("YY-0901", "500224198501011397").await;
        world.audit_intact().await;
        let pool = world.app.store().pool();
        let (tracking_number,): (String,) =
            sqlx::query_as("SELECT tracking_number FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(pool)
                .await
                .unwrap();
        let (n_events,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM case_events WHERE case_id = $1")
                .bind(case_id)
                .fetch_one(pool)
                .await
                .unwrap();
        assert!(n_events >= 3, "{backend}");
        let (fact,): (String,) =
            sqlx::query_as("SELECT fact FROM case_events WHERE case_id = $1 AND seq = 2")
                .bind(case_id)
                .fetch_one(pool)
                .await
                .unwrap();
        let named = |verification: Verification| match verification {
            Verification::CaseEventBroken {
                tracking_number,
                seq,
                ..
            } => Some((tracking_number, seq)),
            _ => None,
        };
        let tampering = [
            (
                "UPDATE case_events SET fact = $2 WHERE case_id = $1 AND seq = 2",
                r#"{"kind":"forged"}"#.to_owned(),
                2,
            ),
            (
                "UPDATE case_events SET recorded_at = $2 WHERE case_id = $1 AND seq = 2",
                "2020-01-01T00:00:00.000000Z".to_owned(),
                2,
            ),
            (
                "DELETE FROM case_events WHERE case_id = $1 AND seq = $2",
                n_events.to_string(),
                n_events,
            ),
        ];
        for (statement, value, seq) in tampering {
            let mut tx = pool.begin().await.unwrap();
            let query = sqlx::query(sqlx::AssertSqlSafe(statement)).bind(case_id);
            let query = if statement.starts_with("DELETE") {
                query.bind(value.parse::<i64>().unwrap())
            } else {
                query.bind(value)
            };
            query.execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(
                named(world.app.verify_audit(None).await.unwrap()),
                Some((tracking_number.clone(), seq)),
                "{backend}: {statement}"
            );
            if statement.starts_with("UPDATE") {
                sqlx::query(
                    "UPDATE case_events SET fact = $2, recorded_at = (SELECT recorded_at FROM case_events WHERE case_id = $1 AND seq = 1) WHERE case_id = $1 AND seq = 2",
                )
                .bind(case_id)
                .bind(&fact)
                .execute(pool)
                .await
                .unwrap();
            }
        }
    }
}
