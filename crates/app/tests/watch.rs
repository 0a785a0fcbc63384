//! Warning use cases (issue 5) end to end: feeds, comparison jobs, the W3 loop and W4 visits
//! and hotline tickets, on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use common::{FixedClock, date, stores};

use app::cases::CaseAction;
use app::contacts::{ContactChannel, ContactOutcome, NewContactInput};
use app::feeds::{FeedUpload, JobOutcome};
use app::users::{Creator, NewUser};
use app::warnings::{Disposal, Disposition, Judgement, LoopAction, WarningQuery, WarningState};
use app::{Actor, App, AppError, AppSettings};
use chrono::Utc;
use domain::{HouseholdNo, PlaceCode, Role};
use std::sync::{Arc, Mutex};
use workflow::{Action, CaseKind, Channel, Consent, Step};

fn id(first17: &str) -> String {
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

const YONGYUAN: &str = "500151001200";
const GUANGQIAO: &str = "500151100201";

struct World {
    backend: &'static str,
    app: App,
    clock: Arc<FixedClock>,
    console: Actor,
    department: Actor,
    town: Actor,
    other_town: Actor,
    village: Actor,
    other_village: Actor,
    grid: Actor,
    /// Head of H1 (巴川 永院村).
    a: String,
    /// Second member of H1.
    b: String,
    /// Head of H2 (土桥 广桥村).
    c: String,
    /// Not in the registry.
    outsider: String,
    _dir: tempfile::TempDir,
}

async fn make_actor(app: &App, username: &str, role: Role, area: &str) -> Actor {
    let area = PlaceCode::parse(area).unwrap();
    let user_id = app
        .create_user(
            Creator::Console("test"),
            NewUser {
                username,
                display_name: username,
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
        display_name: username.to_owned(),
        role,
        area,
    }
}

/// A poor household (12 000 yuan of wages a year for two or three persons).
fn household(external_id: &str, area: &str, members: &[(&str, &str, &str)]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(id_number, name, relation)| {
            format!(r#"{{"id_number": "{id_number}", "name": "{name}", "relation": "{relation}"}}"#)
        })
        .collect();
    format!(
        r#"{{"id": "{external_id}", "area_code": "{area}", "hukou": "rural", "members": [{}], "income_12m": {{"wages": 12000}}}}"#,
        members.join(", ")
    )
}

async fn worlds() -> Vec<World> {
    let mut worlds = Vec::new();
    for (backend, store, dir) in stores("watch").await {
        let clock = Arc::new(FixedClock(Mutex::new(Utc::now())));
        clock.set(date("2026-11-02"));
        let app = App::new(store, clock.clone(), AppSettings::default());
        let places =
            domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
        app.load_places("test", &places).await.unwrap();
        let a = id("50022419700101001");
        let b = id("50022419720101002");
        let c = id("50022419600101003");
        let outsider = id("50022419800101004");
        let lines = [
            household(
                "H1",
                YONGYUAN,
                &[(&a, "韩一", "head"), (&b, "杨二", "spouse")],
            ),
            household("H2", GUANGQIAO, &[(&c, "赵三", "head")]),
        ]
        .join("\n");
        app.import_households("test", "h.jsonl", &lines, &|_| {})
            .await
            .unwrap();
        worlds.push(World {
            backend,
            console: Actor::console("test", PlaceCode::parse("500151").unwrap()),
            department: make_actor(&app, "bumen", Role::Department, "500151").await,
            town: make_actor(&app, "bachuan", Role::TownReviewer, "500151001").await,
            other_town: make_actor(&app, "tuqiao", Role::TownReviewer, "500151100").await,
            village: make_actor(&app, "yongyuan", Role::VillageAssistant, YONGYUAN).await,
            other_village: make_actor(&app, "guangqiao", Role::VillageAssistant, GUANGQIAO).await,
            grid: make_actor(&app, "wangge", Role::GridWorker, "500151001200001").await,
            app,
            clock,
            a,
            b,
            c,
            outsider,
            _dir: dir,
        });
    }
    worlds
}

impl World {
    async fn import(&self, source: &str, csv: &str) -> app::feeds::FeedReceipt {
        self.app
            .import_feed(
                &self.department,
                FeedUpload {
                    source,
                    period: "2026-10",
                    file_name: "feed.csv",
                    bytes: csv.as_bytes(),
                },
            )
            .await
            .unwrap_or_else(|error| panic!("{}: {}", self.backend, error.message()))
    }

    async fn run(&self) -> store::watch::JobCounts {
        match self.app.run_next_job(&self.console, "test").await.unwrap() {
            Some(JobOutcome::Done { counts, .. }) => counts,
            other => panic!("{}: {other:?}", self.backend),
        }
    }

    async fn all(&self, actor: &Actor) -> Vec<app::warnings::WarningItem> {
        self.app
            .warnings(
                actor,
                &WarningQuery {
                    ..WarningQuery::default()
                },
            )
            .await
            .unwrap()
            .items
    }

    async fn audit_intact(&self) {
        testkit::builders::assert_audit_intact(&self.app, self.backend).await;
    }
}

const HEADER: &str = "id_number,name,kind,value,date,detail\n";

#[tokio::test]
async fn w2_a_repeated_feed_changes_nothing_and_one_fact_from_two_feeds_is_one_warning() {
    for world in worlds().await {
        let backend = world.backend;
        let feed = format!(
            "{HEADER}{a},韩一,death,,2026-10-03,\n{b},杨小二,unemployment,,2026-10,\n123456,坏行,death,,2026-10-01,\n{o},钱五,disaster,8000,2026-10-01,洪灾\n",
            a = world.a,
            b = world.b,
            o = world.outsider
        );
        let first = world.import("公安", &feed).await;
        assert!(!first.repeated, "{backend}");
        assert_eq!((first.rows_read, first.rows_rejected), (3, 1), "{backend}");
        assert_eq!(first.rejections[0].0, 4, "{backend}: the bad row's line");
        assert!(
            first.rejections[0].1.contains("身份证"),
            "{backend}: {:?}",
            first.rejections
        );
        let again = world.import("公安", &feed).await;
        assert!(again.repeated && again.job_id.is_none(), "{backend}");
        assert_eq!(again.feed_id, first.feed_id, "{backend}");
        assert_eq!(again.rejections, first.rejections, "{backend}");

        let counts = world.run().await;
        // Death of 韩一, name mismatch of 杨二 (unemployment in a 低保 household is no
        // possible need), disaster of the outsider.
        assert_eq!(counts.new_warnings, 3, "{backend}: {counts:?}");
        assert!(
            world
                .app
                .run_next_job(&world.console, "test")
                .await
                .unwrap()
                .is_none(),
            "{backend}: the repeated feed queued no second run"
        );
        let warnings = world.all(&world.console).await;
        assert_eq!(warnings.len(), 3, "{backend}");
        let outsider = warnings
            .iter()
            .find(|item| item.rule == "disaster_loss")
            .unwrap();
        assert_eq!(outsider.household_external_id, None, "{backend}");
        assert_eq!(
            outsider.area_code, "500151",
            "{backend}: on the person, at district"
        );
        let death = warnings.iter().find(|item| item.rule == "death").unwrap();
        assert_eq!(
            death.household_external_id.as_deref(),
            Some("H1"),
            "{backend}"
        );
        assert_eq!(death.person_name, "韩一", "{backend}");
        assert_eq!(death.state, WarningState::Open, "{backend}");

        // The same death from another department: a new feed, a new run, no new warning.
        let other = world
            .import(
                "殡葬",
                &format!("{HEADER}{a},韩一,death,,2026-10-03,\n", a = world.a),
            )
            .await;
        assert!(!other.repeated, "{backend}");
        let counts = world.run().await;
        assert_eq!((counts.findings, counts.new_warnings), (1, 0), "{backend}");
        assert_eq!(world.all(&world.console).await.len(), 3, "{backend}");

        // Scope: the other town sees none of 巴川's; the department reads them all, masked.
        let tuqiao = world.all(&world.other_town).await;
        assert!(tuqiao.is_empty(), "{backend}: {tuqiao:?}");
        let department = world.all(&world.department).await;
        assert_eq!(department.len(), 3, "{backend}");
        assert!(
            warnings.iter().any(|item| item.rule == "name_mismatch"),
            "{backend}"
        );
        assert!(
            department.iter().all(|item| item.person_name.contains('*')),
            "{backend}"
        );
        // Only district users import feeds.
        let refused = world
            .app
            .import_feed(
                &world.town,
                FeedUpload {
                    source: "公安",
                    period: "2026-11",
                    file_name: "x.csv",
                    bytes: feed.as_bytes(),
                },
            )
            .await;
        assert!(matches!(refused, Err(AppError::Forbidden)), "{backend}");
        // A file that cannot be read changes nothing.
        let unreadable = world
            .app
            .import_feed(
                &world.department,
                FeedUpload {
                    source: "公安",
                    period: "2026-12",
                    file_name: "x.csv",
                    bytes: b"id_number,name\n1,2\n",
                },
            )
            .await;
        assert!(matches!(unreadable, Err(AppError::Invalid(_))), "{backend}");
        assert_eq!(
            world.app.feed_overview(&world.console).await.unwrap().len(),
            2,
            "{backend}"
        );
        world.audit_intact().await;
    }
}

impl World {
    /// The warning a police feed raises on H1's head (韩一 died on 10-03), H1 holding 低保 so
    /// that the disposal can open a re-check of it (a re-check needs a held category).
    async fn raised_death(&self) -> app::warnings::WarningItem {
        let world = self;
        let app = &self.app;
        // H1 holds 低保, so the disposal can open a re-check of it (a re-check needs a held
        // category).
        let mut tx = app.store().begin().await.unwrap();
        let h1 = store::households::by_external_id(&mut tx, "H1")
            .await
            .unwrap()
            .unwrap();
        store::households::open_category(
            &mut tx,
            &store::households::NewCategoryPeriod {
                household_id: h1.id,
                id_number: None,
                category: "dibao",
                monitoring_kind: None,
                start_date: "2026-01-15",
                monthly_fen: None,
                reason: "测试",
                support_mode: None,
                care_level: None,
            },
        )
        .await
        .unwrap();
        store::commit(tx).await.unwrap();
        world
            .import(
                "公安",
                &format!("{HEADER}{a},韩一,death,,2026-10-03,\n", a = world.a),
            )
            .await;
        world.run().await;
        world.all(&world.town).await.remove(0)
    }

    /// One step of the loop on warning `id` by `actor`, at the version it reads.
    async fn loop_step(
        &self,
        actor: &Actor,
        id: i64,
        action: LoopAction,
    ) -> Result<WarningState, AppError> {
        let version = self.app.warning_detail(actor, id).await?.version;
        self.app.act_on_warning(actor, id, version, action).await
    }
}

/// W3: a raised warning is due for assignment in two working days and late after; another
/// town does not find it; the town assigns it within its own team.
#[tokio::test]
async fn w3_a_raised_warning_is_due_in_two_working_days_and_read_in_its_town() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        let warning = world.raised_death().await;

        assert_eq!(
            warning.due_on, "2026-11-04",
            "{backend}: two working days to assign"
        );
        // Late once the assignment limit passed.
        world.clock.set(date("2026-11-06"));
        let late = app
            .warnings(
                &world.town,
                &WarningQuery {
                    late: true,
                    ..WarningQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(late.items.len(), 1, "{backend}");
        assert!(late.items[0].late, "{backend}");
        // Out of area: not found; a village assistant may not judge.
        assert!(
            matches!(
                app.warning_detail(&world.other_town, warning.id).await,
                Err(AppError::NotFound)
            ),
            "{backend}"
        );
        let detail = app.warning_detail(&world.town, warning.id).await.unwrap();
        assert!(detail.can_assign && !detail.can_judge, "{backend}");
        assert!(
            detail
                .team
                .iter()
                .any(|choice| choice.user_id == world.village.user_id)
                && !detail
                    .team
                    .iter()
                    .any(|choice| choice.user_id == world.other_village.user_id),
            "{backend}: the team is the town's"
        );
        world.audit_intact().await;
    }
}

/// W3: assigned only within the town's team, verified before it is judged, judged by the town
/// and not the village, a disposal with no action needs its reason.
#[tokio::test]
async fn w3_each_step_of_the_loop_is_taken_by_its_role_in_order() {
    for world in worlds().await {
        let backend = world.backend;
        let warning = world.raised_death().await;
        world.clock.set(date("2026-11-06"));
        let step = |actor: &Actor, action: LoopAction| {
            let (actor, world) = (actor.clone(), &world);
            async move { world.loop_step(&actor, warning.id, action).await }
        };
        let outside_team = step(
            &world.town,
            LoopAction::Assign {
                assignee_user_id: world.other_village.user_id,
            },
        )
        .await;
        assert!(
            matches!(outside_team, Err(AppError::Invalid(_))),
            "{backend}"
        );
        let assigned = step(
            &world.town,
            LoopAction::Assign {
                assignee_user_id: world.village.user_id,
            },
        )
        .await
        .unwrap();
        assert_eq!(assigned, WarningState::Assigned, "{backend}");
        let judged_early = step(
            &world.town,
            LoopAction::Judge {
                judgement: Judgement::Confirmed,
                note: "属实".into(),
            },
        )
        .await;
        assert!(
            matches!(judged_early, Err(AppError::Conflict(_))),
            "{backend}"
        );
        let verified = step(
            &world.village,
            LoopAction::Verify {
                visited_on: world.app.today(),
                visitors: "yongyuan、wangge".into(),
                findings: "户主韩一已于10月3日去世，家中仅余杨二一人".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(verified, WarningState::Verified, "{backend}");
        let by_village = step(
            &world.village,
            LoopAction::Judge {
                judgement: Judgement::Confirmed,
                note: "属实".into(),
            },
        )
        .await;
        assert!(matches!(by_village, Err(AppError::Forbidden)), "{backend}");
        step(
            &world.town,
            LoopAction::Judge {
                judgement: Judgement::Confirmed,
                note: "死亡信息属实，家庭人口变化，需重新核查".into(),
            },
        )
        .await
        .unwrap();
        let no_reason = step(
            &world.town,
            LoopAction::Dispose(Disposal::NoAction {
                reason: "  ".into(),
            }),
        )
        .await;
        assert!(matches!(no_reason, Err(AppError::Invalid(_))), "{backend}");
        world.audit_intact().await;
    }
}

/// W3: judged, the disposal opens a re-check case (channel 监测预警) of the household; the
/// loop closes with its whole history; a stale version is a conflict.
#[tokio::test]
async fn w3_a_disposal_opens_a_recheck_case_and_the_loop_closes_with_its_history() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        let warning = world.raised_death().await;
        world.clock.set(date("2026-11-06"));
        let step = |actor: &Actor, action: LoopAction| {
            let (actor, world) = (actor.clone(), &world);
            async move { world.loop_step(&actor, warning.id, action).await }
        };
        for (actor, action) in [
            (
                &world.town,
                LoopAction::Assign {
                    assignee_user_id: world.village.user_id,
                },
            ),
            (
                &world.village,
                LoopAction::Verify {
                    visited_on: world.app.today(),
                    visitors: "yongyuan、wangge".into(),
                    findings: "户主韩一已于10月3日去世，家中仅余杨二一人".into(),
                },
            ),
            (
                &world.town,
                LoopAction::Judge {
                    judgement: Judgement::Confirmed,
                    note: "死亡信息属实，家庭人口变化，需重新核查".into(),
                },
            ),
        ] {
            step(actor, action).await.unwrap();
        }
        let disposed = step(
            &world.town,
            LoopAction::Dispose(Disposal::OpenCase {
                kind: CaseKind::Recheck,
                applicant: "杨二".into(),
                consent: None,
                household_id: None,
                area: None,
                summary: "成员死亡，重新核查家庭经济状况".into(),
            }),
        )
        .await
        .unwrap();
        assert_eq!(disposed, WarningState::Disposed, "{backend}");
        let detail = app.warning_detail(&world.town, warning.id).await.unwrap();
        assert_eq!(
            detail.item.disposition,
            Some(Disposition::OpenCase),
            "{backend}"
        );
        let (case_id, tracking_number) = detail.case.clone().unwrap();
        let case = app.case_detail(&world.town, case_id).await.unwrap();
        assert_eq!(case.case.intake().channel, Channel::Warning, "{backend}");
        assert_eq!(case.case.kind(), CaseKind::Recheck, "{backend}");
        assert_eq!(
            case.case.tracking_number().as_str(),
            tracking_number,
            "{backend}"
        );
        let closed = step(
            &world.town,
            LoopAction::Close {
                note: "已转入核查".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(closed, WarningState::Closed, "{backend}");
        let detail = app
            .warning_detail(&world.department, warning.id)
            .await
            .unwrap();
        assert_eq!(
            detail.item.closed_on.as_deref(),
            Some("2026-11-06"),
            "{backend}"
        );
        assert_eq!(
            detail
                .history
                .iter()
                .map(|step| step.action.as_str())
                .collect::<Vec<_>>(),
            ["raise", "assign", "verify", "judge", "dispose", "close"],
            "{backend}"
        );
        assert_eq!(
            detail.history[0].actor_name, "信息比对（系统）",
            "{backend}"
        );
        assert!(
            detail.history[0].summary.contains("比对第"),
            "{backend}: {:?}",
            detail.history[0]
        );
        assert!(
            detail.history[4].summary.contains(&tracking_number),
            "{backend}: {:?}",
            detail.history[4]
        );
        // A stale version is a conflict.
        let stale = app
            .act_on_warning(
                &world.town,
                warning.id,
                1,
                LoopAction::Close {
                    note: String::new(),
                },
            )
            .await;
        assert!(matches!(stale, Err(AppError::Conflict(_))), "{backend}");
        world.audit_intact().await;
    }
}

#[tokio::test]
async fn p3_a_fact_about_a_household_whose_case_is_at_comparison_becomes_a_discrepancy() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        let (case_id, _) = app
            .open_case(
                &world.other_town,
                app::cases::NewIntake {
                    kind: CaseKind::Application,
                    channel: Channel::TownWindow,
                    household_no: HouseholdNo::parse("H2").unwrap(),
                    area: PlaceCode::parse(GUANGQIAO).unwrap(),
                    applicant: "赵三".into(),
                    consent: Some(Consent {
                        signed_on: app.today(),
                        signer: "赵三".into(),
                    }),
                    summary: "申请救助".into(),
                },
            )
            .await
            .unwrap();
        app.act_on_case(
            &world.other_town,
            case_id,
            CaseAction::Move(Action::BeginComparison),
        )
        .await
        .unwrap();
        world
            .import(
                "民政殡葬",
                &format!("{HEADER}{c},赵三,death,,2026-10-20,\n", c = world.c),
            )
            .await;
        let counts = world.run().await;
        assert_eq!(
            (counts.discrepancies, counts.new_warnings),
            (1, 0),
            "{backend}"
        );
        let case = app.case_detail(&world.other_town, case_id).await.unwrap();
        assert_eq!(case.case.step(), Step::Comparing, "{backend}");
        let discrepancies = case.case.discrepancies();
        assert_eq!(discrepancies.len(), 1, "{backend}");
        assert!(
            discrepancies[0].discrepancy.description.contains("死亡"),
            "{backend}: {discrepancies:?}"
        );
        let recorded = case.timeline.last().unwrap();
        assert_eq!(recorded.actor_name, "信息比对（系统）", "{backend}");
        let warnings = world.all(&world.other_town).await;
        assert_eq!(warnings.len(), 1, "{backend}");
        assert_eq!(warnings[0].state, WarningState::Closed, "{backend}");
        assert_eq!(
            warnings[0].disposition,
            Some(Disposition::Discrepancy),
            "{backend}"
        );
        let history = app
            .warning_detail(&world.other_town, warnings[0].id)
            .await
            .unwrap()
            .history;
        assert_eq!(
            history
                .iter()
                .map(|step| step.action.as_str())
                .collect::<Vec<_>>(),
            ["raise", "close"],
            "{backend}"
        );
        world.audit_intact().await;
    }
}

#[tokio::test]
async fn p3_at_intake_the_stored_feeds_and_open_warnings_become_the_cases_discrepancies() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        // A feed whose run has raised an open warning on 杨二 (H1), and one whose run has
        // not happened yet, with 韩一's death: both are known before H1 applies.
        world
            .import(
                "人社",
                &format!("{HEADER}{b},杨二,unemployment,,2026-10,\n", b = world.b),
            )
            .await;
        world.run().await;
        let open_before = world.all(&world.town).await;
        assert_eq!(
            open_before.len(),
            0,
            "{backend}: unemployment in no category is no warning"
        );
        world
            .import(
                "公安",
                &format!("{HEADER}{b},杨小二,unemployment,,2026-10,\n", b = world.b),
            )
            .await;
        world.run().await;
        let open_before = world.all(&world.town).await;
        assert_eq!(open_before.len(), 1, "{backend}: the name mismatch");
        assert_eq!(open_before[0].state, WarningState::Open, "{backend}");
        world
            .import(
                "民政殡葬",
                &format!("{HEADER}{a},韩一,death,,2026-10-20,\n", a = world.a),
            )
            .await;
        // Feeds stored before their rows were kept (migration 0035) are filled in at start-up.
        let mut tx = app.store().begin().await.unwrap();
        sqlx::query("DELETE FROM feed_facts")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("UPDATE feeds SET facts_stored = 0")
            .execute(&mut *tx)
            .await
            .unwrap();
        store::commit(tx).await.unwrap();
        assert_eq!(app.sync_feed_facts().await.unwrap(), 3, "{backend}");
        assert_eq!(app.sync_feed_facts().await.unwrap(), 0, "{backend}");

        let (case_id, _) = app
            .open_case(
                &world.town,
                app::cases::NewIntake {
                    kind: CaseKind::Application,
                    channel: Channel::TownWindow,
                    household_no: HouseholdNo::parse("H1").unwrap(),
                    area: PlaceCode::parse(YONGYUAN).unwrap(),
                    applicant: "韩一".into(),
                    consent: Some(Consent {
                        signed_on: app.today(),
                        signer: "韩一".into(),
                    }),
                    summary: "申请救助".into(),
                },
            )
            .await
            .unwrap();
        app.act_on_case(
            &world.town,
            case_id,
            CaseAction::Move(Action::BeginComparison),
        )
        .await
        .unwrap();
        let case = app.case_detail(&world.town, case_id).await.unwrap();
        let discrepancies = case.case.discrepancies();
        assert_eq!(discrepancies.len(), 2, "{backend}: {discrepancies:?}");
        assert!(
            discrepancies
                .iter()
                .any(|record| record.discrepancy.source == "民政殡葬（2026-10）"
                    && record.discrepancy.description.contains("死亡")),
            "{backend}: the stored feed, compared at intake: {discrepancies:?}"
        );
        assert!(
            discrepancies
                .iter()
                .any(|record| record.discrepancy.source == format!("预警{}", open_before[0].id)),
            "{backend}: the open warning: {discrepancies:?}"
        );
        assert_eq!(
            case.timeline.last().unwrap().actor_name,
            "信息比对（系统）",
            "{backend}"
        );
        // Both are answered in the case now: the open warning is closed into it, and the
        // death is kept as a warning of the case, so the feed's own run adds nothing twice.
        let warnings = world.all(&world.town).await;
        assert_eq!(warnings.len(), 2, "{backend}");
        assert!(
            warnings
                .iter()
                .all(|item| item.state == WarningState::Closed
                    && item.disposition == Some(Disposition::Discrepancy)),
            "{backend}: {warnings:?}"
        );
        let counts = world.run().await;
        assert_eq!(
            (counts.discrepancies, counts.new_warnings),
            (0, 0),
            "{backend}"
        );
        assert_eq!(
            app.case_detail(&world.town, case_id)
                .await
                .unwrap()
                .case
                .discrepancies()
                .len(),
            2,
            "{backend}"
        );
        // They must be answered at this step.
        let refused = app
            .act_on_case(
                &world.town,
                case_id,
                CaseAction::Move(Action::CompleteComparison),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                AppError::Refused(workflow::Refusal::DiscrepancyUnexplained { .. })
            ),
            "{backend}: {refused:?}"
        );
        world.audit_intact().await;
    }
}

#[tokio::test]
async fn w4_a_visit_raises_a_warning_and_a_hotline_call_opens_an_application() {
    for world in worlds().await {
        let backend = world.backend;
        let app = &world.app;
        let visit = |outcome| NewContactInput {
            channel: ContactChannel::Visit,
            on_date: date("2026-11-01"),
            household_id: Some("H1".into()),
            person_name: String::new(),
            id_number: None,
            phone: "13800000000".into(),
            area: None,
            findings: "户主突发重病住院，家中无劳动力".into(),
            outcome,
            consent: None,
            new_household_id: None,
        };
        let receipt = app
            .record_contact(&world.grid, visit(ContactOutcome::Warning))
            .await
            .unwrap();
        let warning_id = receipt.warning_id.unwrap();
        let detail = app.warning_detail(&world.town, warning_id).await.unwrap();
        assert_eq!(detail.item.rule, "visit_report", "{backend}");
        assert_eq!(
            detail.item.household_external_id.as_deref(),
            Some("H1"),
            "{backend}"
        );
        assert_eq!(detail.history[0].action, "raise", "{backend}");
        // Another village's household is not the grid worker's.
        let mut elsewhere = visit(ContactOutcome::Recorded);
        elsewhere.household_id = Some("H2".into());
        assert!(
            matches!(
                app.record_contact(&world.grid, elsewhere).await,
                Err(AppError::NotFound)
            ),
            "{backend}"
        );
        // A hotline call about a new person opens an application.
        let call = NewContactInput {
            channel: ContactChannel::Hotline,
            on_date: date("2026-11-02"),
            household_id: None,
            person_name: "孙六".into(),
            id_number: Some(id("50022419900101005")),
            phone: "13900000000".into(),
            area: Some(PlaceCode::parse(YONGYUAN).unwrap()),
            findings: "来电反映：独居老人，无收入来源".into(),
            outcome: ContactOutcome::Application,
            consent: Some(Consent {
                signed_on: date("2026-11-02"),
                signer: "孙六".into(),
            }),
            new_household_id: Some("ZD-0001".into()),
        };
        let receipt = app.record_contact(&world.town, call.clone()).await.unwrap();
        let case = app
            .case_detail(&world.town, receipt.case_id.unwrap())
            .await
            .unwrap();
        assert_eq!(case.case.intake().channel, Channel::Hotline, "{backend}");
        assert_eq!(case.case.household_no(), "ZD-0001", "{backend}");
        // Grid workers do not take hotline tickets.
        assert!(
            matches!(
                app.record_contact(&world.grid, call).await,
                Err(AppError::Forbidden)
            ),
            "{backend}"
        );
        let contacts = app.contacts(&world.town, None).await.unwrap();
        assert_eq!(contacts.rows.len(), 2, "{backend}");
        assert_eq!((contacts.total, contacts.next), (2, None), "{backend}");
        assert!(
            matches!(
                app.contacts(&world.town, Some("2026-13-01.x")).await,
                Err(AppError::Invalid(_))
            ),
            "{backend}"
        );
        world.audit_intact().await;
    }
}

/// 政策参数: a threshold added in another process (the web server) applies to the worker's
/// next comparison run without a restart: the worker rereads the stored values before each job.
#[tokio::test]
async fn w2_a_threshold_added_in_another_process_applies_to_the_next_run() {
    for world in worlds().await {
        let backend = world.backend;
        let district =
            make_actor(&world.app, "minzheng", Role::DistrictCivilAffairs, "500151").await;
        // The worker has its catalogue in memory already.
        world
            .import(
                "应急",
                &format!(
                    "{HEADER}{o},钱五,disaster,8000,2026-10-01,洪灾\n",
                    o = world.outsider
                ),
            )
            .await;
        assert_eq!(world.run().await.new_warnings, 1, "{backend}: 8000 > 5000");

        let web = App::new(
            world.app.store().clone(),
            world.clock.clone(),
            AppSettings::default(),
        );
        let refused = web
            .add_policy_value(
                &world.town,
                &app::parameters::AddedValue {
                    param: "comparison.disaster_large_yuan".into(),
                    since: "2026-01-01".into(),
                    value: "10000".into(),
                    source: "铜民发〔2026〕1号".into(),
                    status: "confirmed".into(),
                    note: String::new(),
                },
            )
            .await;
        assert!(matches!(refused, Err(AppError::Forbidden)), "{backend}");
        web.add_policy_value(
            &district,
            &app::parameters::AddedValue {
                param: "comparison.disaster_large_yuan".into(),
                since: "2026-01-01".into(),
                value: "10000".into(),
                source: "铜民发〔2026〕1号".into(),
                status: "confirmed".into(),
                note: String::new(),
            },
        )
        .await
        .unwrap();

        let other = id("50022419810101005");
        world
            .import(
                "应急",
                &format!("{HEADER}{other},孙六,disaster,8000,2026-10-02,洪灾\n"),
            )
            .await;
        let counts = world.run().await;
        assert_eq!(
            (counts.findings, counts.new_warnings),
            (0, 0),
            "{backend}: 8000 is not above the new line of 10000"
        );
        world.audit_intact().await;
    }
}

/// A world built in a line per thing (`testkit::builders`): the machine's refusals reach the
/// use case as the shell answers them (another role: forbidden; out of order: conflict; a
/// missing text: the field), and the page offers what the machine offers.
#[tokio::test]
async fn w3_the_loop_refuses_as_the_machine_decides() {
    use testkit::builders::World;
    for (backend, store, _dir) in stores("built").await {
        let world = World::on(store, "2026-11-02").await;
        let town = world.user(Role::TownReviewer, "500151001").await;
        let grid = world.user(Role::GridWorker, "500151001200001").await;
        let h1 = world
            .household("H1", YONGYUAN)
            .head("50022419700101001", "韩一")
            .add()
            .await;
        let id = world.warning_at(&town, &h1, WarningState::Verified).await;
        let detail = world.app.warning_detail(&town, id).await.unwrap();
        assert_eq!(detail.item.state, WarningState::Verified, "{backend}");
        assert!(
            detail.can_judge && !detail.can_verify && !detail.can_assign,
            "{backend}"
        );
        let judge = |note: &str| LoopAction::Judge {
            judgement: Judgement::Partly,
            note: note.to_owned(),
        };
        let app = &world.app;
        let forbidden = app
            .act_on_warning(&grid, id, detail.version, judge("x"))
            .await;
        assert!(matches!(forbidden, Err(AppError::Forbidden)), "{backend}");
        let blank = app
            .act_on_warning(&town, id, detail.version, judge(" "))
            .await;
        match blank {
            Err(AppError::Invalid(errors)) => assert_eq!(errors[0].field, "note", "{backend}"),
            other => panic!("{backend}: {other:?}"),
        }
        let out_of_order = app
            .act_on_warning(
                &town,
                id,
                detail.version,
                LoopAction::Close {
                    note: String::new(),
                },
            )
            .await;
        match out_of_order {
            Err(AppError::Conflict(message)) => {
                assert_eq!(message, "预警当前为“待研判”，不能进行“办结”", "{backend}")
            }
            other => panic!("{backend}: {other:?}"),
        }
        let next = app
            .act_on_warning(&town, id, detail.version, judge("属实"))
            .await
            .unwrap();
        assert_eq!(next, WarningState::Judged, "{backend}");
    }
}
