//! `serve --demo`: a demo data set on the embedded SQLite store, created once.

use anyhow::{Context, bail};
use app::cases::{CaseAction, JointReviewInput, NewIntake};
use app::imports::DemoState;
use app::{Actor, App, AppError};
use domain::{PlaceCode, Role};
use workflow::{
    Action, CaseKind, CategoryVerdict, Channel, Consent, Discrepancy, ReviewOutcome, Survey,
    TeamMember, Verdict, VillageReview,
};

/// Households generated for the demo.
const DEMO_HOUSEHOLDS: usize = 3000;
const DEMO_SEED: u64 = 2025;
/// The date the demo households' categories start (the 2025 standards' start).
const DEMO_ENROLMENT: (i32, u32, u32) = (2025, 7, 1);
/// The password of every demo user (listed in the README).
pub const DEMO_PASSWORD: &str = "demo-2025";

/// One user per role: (username, display name, role, area).
pub const DEMO_USERS: [(&str, &str, Role, &str); 9] = [
    (
        "minzheng",
        "区民政局 李审批",
        Role::DistrictCivilAffairs,
        "500151",
    ),
    (
        "nongye",
        "区农业农村委 王审批",
        Role::DistrictAgriculture,
        "500151",
    ),
    (
        "bachuan",
        "巴川街道 张审核",
        Role::TownReviewer,
        "500151001",
    ),
    ("tuqiao", "土桥镇 刘审核", Role::TownReviewer, "500151100"),
    (
        "cunshe",
        "村社协理员 陈协理",
        Role::VillageAssistant,
        "500151001200",
    ),
    (
        "wangge",
        "网格员 赵网格",
        Role::GridWorker,
        "500151001200001",
    ),
    ("bumen", "区医保局 周专干", Role::Department, "500151"),
    ("shenji", "审计人员 吴审计", Role::Auditor, "500151"),
    ("admin", "系统管理员", Role::Admin, "500151"),
];

/// Creates the demo data on an empty store; accepts a demo store as it is; refuses real data.
pub async fn ensure(app: &App) -> anyhow::Result<()> {
    match app.demo_state().await? {
        DemoState::Demo => return Ok(()),
        DemoState::RealData => bail!(
            "该数据库含有非演示数据，拒绝以 --demo 启动 (refusing --demo on a database with real data)"
        ),
        DemoState::Empty => {}
    }
    eprintln!("正在创建演示数据 creating demo data…");
    let places = domain::parse_place_list(crate::PLACES)?;
    app.load_places("demo", &places).await?;
    let mut actors = Vec::new();
    for (username, name, role, area) in DEMO_USERS {
        let area =
            PlaceCode::parse(area).map_err(|error| anyhow::anyhow!("demo area {area}: {error}"))?;
        let user = app::users::NewUser {
            username,
            display_name: name,
            role,
            area: &area,
            password: DEMO_PASSWORD,
        };
        let user_id = app
            .create_user(app::users::Creator::Console("demo"), user)
            .await
            .map_err(|error| anyhow::anyhow!("demo user {username}: {}", error.message()))?;
        actors.push(Actor {
            user_id,
            username: username.to_owned(),
            display_name: name.to_owned(),
            role,
            area: area.clone(),
        });
    }
    let mut content = Vec::new();
    synth::write_households_jsonl(&places, DEMO_HOUSEHOLDS, DEMO_SEED, &mut content)?;
    let content = String::from_utf8(content).context("generated households")?;
    app.import_households("demo", "demo-households.jsonl", &content, &|_| {})
        .await
        .map_err(|error| anyhow::anyhow!("demo households: {error}"))?;
    app.mark_demo().await?;
    let enrolled_on =
        chrono::NaiveDate::from_ymd_opt(DEMO_ENROLMENT.0, DEMO_ENROLMENT.1, DEMO_ENROLMENT.2)
            .context("demo date")?;
    app.seed_demo_categories(enrolled_on)
        .await
        .map_err(|error| anyhow::anyhow!("demo categories: {}", error.message()))?;
    app.seed_demo_rechecks()
        .await
        .map_err(|error| anyhow::anyhow!("demo re-checks: {}", error.message()))?;
    seed_cases(app, &actors)
        .await
        .map_err(|error| anyhow::anyhow!("demo cases: {}", error.message()))?;
    demo_warnings(app, &content)
        .await
        .map_err(|error| anyhow::anyhow!("demo warnings: {error}"))?;
    demo_referrals(app)
        .await
        .map_err(|error| anyhow::anyhow!("demo referrals: {}", error.message()))?;
    Ok(())
}

/// The demo village of the village assistant and the grid worker (巴川街道).
const DEMO_CASE_VILLAGE: &str = "500151001200";

/// A valid ID number for the demo's applicants (born 1931–1939, so unlike the generated ones).
fn demo_id(n: u32, sequence: u32) -> String {
    let first17 = format!("50022419{:02}0101{:03}", 31 + n % 9, sequence % 1000);
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

/// A poor household of three for the demo's applications: 6 000 yuan of wages a year.
fn demo_household(external_id: &str, n: u32) -> Result<domain::Household, AppError> {
    let head = ["何一", "何二", "何三", "何四", "何五"][n as usize % 5];
    let line = format!(
        r#"{{"id": "{external_id}", "area_code": "{DEMO_CASE_VILLAGE}", "hukou": "rural", "members": [{{"id_number": "{}", "name": "{head}", "relation": "head", "labour_capacity": "partial"}}, {{"id_number": "{}", "name": "罗秀兰", "relation": "spouse"}}, {{"id_number": "{}", "name": "何小军", "relation": "child"}}], "income_12m": {{"wages": 6000}}}}"#,
        demo_id(n, 101),
        demo_id(n, 202),
        demo_id(n, 303)
    );
    domain::interchange::parse_household_line(&line)
        .map_err(|error| AppError::invalid("household", error))
}

/// A few cases at different steps, so the work queues are not empty: an application just
/// taken in, one in comparison with a 疑点, one on public notice (with survey and reviews),
/// one refused awaiting its notice, and a re-check of an enrolled household.
async fn seed_cases(app: &App, actors: &[Actor]) -> Result<(), AppError> {
    let by = |username: &str| {
        actors
            .iter()
            .find(|actor| actor.username == username)
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo user {username}")))
    };
    let (town, village, grid) = (by("bachuan")?, by("cunshe")?, by("wangge")?);
    let area = PlaceCode::parse(DEMO_CASE_VILLAGE)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("demo village: {error}")))?;
    let today = app.today();
    let open = |external_id: &str, applicant: &str, summary: &str| NewIntake {
        kind: CaseKind::Application,
        channel: Channel::VillageWindow,
        household_id: external_id.to_owned(),
        area: area.clone(),
        applicant: applicant.to_owned(),
        consent: Some(Consent {
            signed_on: today,
            signer: applicant.to_owned(),
        }),
        summary: summary.to_owned(),
    };
    let step = |action: Action| CaseAction::Move(action);

    app.open_case(&village, open("DEMO-A001", "何一", "因病致贫，申请救助"))
        .await?;

    let (comparing, _) = app
        .open_case(&village, open("DEMO-A002", "何二", "家庭主要劳动力残疾"))
        .await?;
    app.act_on_case(&town, comparing, step(Action::BeginComparison))
        .await?;
    app.act_on_case(
        &town,
        comparing,
        step(Action::RecordDiscrepancy(Discrepancy {
            source: "车辆登记".to_owned(),
            description: "户主名下登记有一辆小型货车".to_owned(),
        })),
    )
    .await?;

    let (noticed, _) = app
        .open_case(&grid, open("DEMO-A003", "何三", "突发重病，医疗支出大"))
        .await?;
    app.act_on_case(&town, noticed, step(Action::BeginComparison))
        .await?;
    app.act_on_case(&town, noticed, step(Action::CompleteComparison))
        .await?;
    let survey = Survey {
        household: demo_household("DEMO-A003", 3)?,
        team: [&village, &grid]
            .iter()
            .map(|actor| TeamMember {
                user_id: actor.user_id,
                name: actor.display_name.clone(),
            })
            .collect(),
        surveyed_on: today,
    };
    app.act_on_case(&village, noticed, step(Action::RecordSurvey(survey)))
        .await?;
    app.act_on_case(
        &town,
        noticed,
        step(Action::RecordVillageReview(VillageReview {
            held_on: today,
            attendance: 11,
            outcome: ReviewOutcome::Agreed,
            note: "一致同意".to_owned(),
        })),
    )
    .await?;
    let proposal = app.case_proposal(&town, noticed).await?;
    app.act_on_case(
        &town,
        noticed,
        CaseAction::RecordJointReview(JointReviewInput {
            held_on: today,
            verdicts: proposal
                .categories
                .iter()
                .map(|category| CategoryVerdict {
                    category: *category,
                    verdict: Verdict::Confirm,
                })
                .collect(),
            monitoring_kind: proposal.monitoring_kind,
            monitoring_kind_reason: String::new(),
            // 人工核定 of each pending test, as a meeting records it.
            judgements: proposal
                .pending
                .iter()
                .map(|test| workflow::PendingJudgement {
                    rule: test.rule.clone(),
                    param: test.param.clone(),
                    holds: true,
                    reason: "入户核实：存款、车辆等财产在本镇掌握的范围内".to_owned(),
                })
                .collect(),
        }),
    )
    .await?;
    app.act_on_case(&town, noticed, step(Action::PostNotice))
        .await?;

    let (refused, _) = app
        .open_case(&village, open("DEMO-A005", "何五", "申请低保"))
        .await?;
    app.act_on_case(
        &town,
        refused,
        step(Action::Refuse {
            reason: "申请人户籍不在本村，且未在本村共同生活".to_owned(),
        }),
    )
    .await?;

    // A re-check of the first enrolled household of the village.
    let far = today
        .checked_add_months(chrono::Months::new(24))
        .unwrap_or(today);
    let mut after: Option<String> = None;
    loop {
        let page = app.recheck_due(&town, far, after.as_deref()).await?;
        if let Some(due) = page
            .items
            .iter()
            .find(|due| due.area.as_str().starts_with(DEMO_CASE_VILLAGE))
        {
            app.open_recheck(&town, &due.household_id, "定期核查")
                .await?;
            break;
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(())
}

/// The demo user `username` as an actor.
async fn demo_actor(app: &App, username: &str) -> anyhow::Result<app::Actor> {
    let (_, name, role, area) = DEMO_USERS
        .iter()
        .find(|user| user.0 == username)
        .context("demo user")?;
    let mut conn = app.store().read().await?;
    let user = store::users::by_username(&mut conn, username)
        .await?
        .context("demo user stored")?;
    Ok(app::Actor {
        user_id: user.id,
        username: username.to_owned(),
        display_name: (*name).to_owned(),
        role: *role,
        area: PlaceCode::parse(area).map_err(|error| anyhow::anyhow!("{error}"))?,
    })
}

/// A department feed about people of 巴川街道 (deaths, names that differ from the registry's,
/// a disaster of someone outside the registry), its comparison run, and the warnings it raised
/// left at different steps of the loop, plus a grid worker's visit.
async fn demo_warnings(app: &App, households: &str) -> anyhow::Result<()> {
    use app::warnings::{Disposal, Judgement, LoopAction};
    let mut persons: Vec<(String, String)> = Vec::new();
    for line in households.lines() {
        let record: serde_json::Value = serde_json::from_str(line)?;
        if !record["area_code"]
            .as_str()
            .is_some_and(|area| area.starts_with("500151001"))
        {
            continue;
        }
        if let Some(member) = record["members"].get(0) {
            persons.push((
                member["id_number"].as_str().unwrap_or("").to_owned(),
                member["name"].as_str().unwrap_or("").to_owned(),
            ));
        }
        if persons.len() == 6 {
            break;
        }
    }
    let mut feed = String::from("身份证号,姓名,类别,数值,日期,说明\n");
    for (at, (id_number, name)) in persons.iter().enumerate() {
        if at < 3 {
            feed.push_str(&format!("{id_number},{name},death,,2025-10-0{},\n", at + 1));
        } else {
            feed.push_str(&format!("{id_number},{name}某,wage,3200,2025-10,\n"));
        }
    }
    feed.push_str("500224198805050000,坏行,death,,2025-10-01,\n");
    feed.push_str("500224199001011432,钱某,disaster,8000,2025-10-12,房屋受损\n");
    let department = demo_actor(app, "bumen").await?;
    let message = |error: app::AppError| anyhow::anyhow!("{}", error.message());
    app.import_feed(
        &department,
        app::feeds::FeedUpload {
            source: "区公安分局",
            period: "2025-10",
            file_name: "demo-feed.csv",
            bytes: feed.as_bytes(),
        },
    )
    .await
    .map_err(message)?;
    let district = PlaceCode::parse("500151").map_err(|error| anyhow::anyhow!("{error}"))?;
    app.run_next_job(&app::Actor::console("demo", district), "demo")
        .await
        .map_err(message)?;
    let town = demo_actor(app, "bachuan").await?;
    let village = demo_actor(app, "cunshe").await?;
    let ids: Vec<i64> = app
        .warnings(&town, &app::warnings::WarningQuery::default())
        .await
        .map_err(message)?
        .items
        .iter()
        .map(|item| item.id)
        .collect();
    let steps = [
        LoopAction::Assign {
            assignee_user_id: village.user_id,
        },
        LoopAction::Verify {
            visited_on: app.today(),
            visitors: "巴川街道 张审核、村社协理员 陈协理".to_owned(),
            findings: "入户核实：情况与部门数据一致".to_owned(),
        },
        LoopAction::Judge {
            judgement: Judgement::NotConfirmed,
            note: "部门登记姓名为曾用名，系同一人".to_owned(),
        },
        LoopAction::Dispose(Disposal::NoAction {
            reason: "曾用名，家庭情况无变化".to_owned(),
        }),
        LoopAction::Close {
            note: "已办结".to_owned(),
        },
    ];
    // Warning i goes through the first i steps: one open, one assigned, … one closed. The
    // village assistant verifies in her village, the town reviewer elsewhere.
    for (at, id) in ids.iter().enumerate().skip(1) {
        let team = app.warning_detail(&town, *id).await.map_err(message)?.team;
        let verifier = if team.iter().any(|choice| choice.user_id == village.user_id) {
            &village
        } else {
            &town
        };
        for action in steps.iter().take(at.min(steps.len())) {
            let (actor, action) = match action {
                LoopAction::Assign { .. } => (
                    &town,
                    LoopAction::Assign {
                        assignee_user_id: verifier.user_id,
                    },
                ),
                LoopAction::Verify { .. } => (verifier, action.clone()),
                _ => (&town, action.clone()),
            };
            let version = app
                .warning_detail(actor, *id)
                .await
                .map_err(message)?
                .version;
            app.act_on_warning(actor, *id, version, action)
                .await
                .map_err(message)?;
        }
    }
    let grid = demo_actor(app, "wangge").await?;
    app.record_contact(
        &grid,
        app::contacts::NewContactInput {
            channel: app::contacts::ContactChannel::Visit,
            on_date: app.today(),
            household_id: None,
            person_name: "孙大娘".to_owned(),
            id_number: None,
            phone: String::new(),
            area: Some(
                PlaceCode::parse("500151001200").map_err(|error| anyhow::anyhow!("{error}"))?,
            ),
            findings: "走访发现：独居老人，子女在外务工，近期摔伤行动不便".to_owned(),
            outcome: app::contacts::ContactOutcome::Warning,
            consent: None,
            new_household_id: None,
        },
    )
    .await
    .map_err(message)?;
    Ok(())
}

/// The department of the demo department user (区医保局).
const DEMO_DEPARTMENT: (&str, &str) = ("bumen", "medical_security");
/// The amount recorded for a demo delivery of an item without a fixed amount (demo figure, not policy).
const DEMO_AMOUNT_YUAN: &str = "300";
/// How many pages of the registry the demo looks through for proposals.
const DEMO_PAGES_SCANNED: i64 = 20;
/// How many demo referrals to send, cycling through 待受理, 已受理, 已落实 and 已退回.
const DEMO_REFERRALS: usize = 12;

/// 救助帮扶 demo: proposals of the first households sent as referrals, and handled by 区民政局
/// (its own items) or 区医保局 (medical assistance) to different states.
async fn demo_referrals(app: &App) -> Result<(), app::AppError> {
    use app::assistance::{CIVIL_AFFAIRS, ReferralAct};
    app.set_user_department(
        app::users::Creator::Console("demo"),
        DEMO_DEPARTMENT.0,
        DEMO_DEPARTMENT.1,
    )
    .await?;
    let civil = app.login("minzheng", DEMO_PASSWORD, "console").await?;
    let department = app
        .login(DEMO_DEPARTMENT.0, DEMO_PASSWORD, "console")
        .await?;
    let today = app.today().to_string();
    // Per handling department, how many were sent: each gets every state in turn.
    let mut counts = [0usize; 2];
    let mut n_pages = 0;
    let mut after: Option<String> = None;
    while counts.iter().sum::<usize>() < DEMO_REFERRALS && n_pages < DEMO_PAGES_SCANNED {
        let list = app
            .search_households(&civil.actor, "", after.as_deref())
            .await?;
        if list.items.is_empty() {
            break;
        }
        for household in &list.items {
            let assistance = app.household_assistance(&civil.actor, household.id).await?;
            let proposals = &assistance.proposals.proposed;
            // The department's items first, so that its queue has something to show.
            let Some(proposal) = proposals
                .iter()
                .find(|p| p.department == DEMO_DEPARTMENT.1)
                .or_else(|| proposals.iter().find(|p| p.department == CIVIL_AFFAIRS))
            else {
                continue;
            };
            let (handler, slot) = if proposal.department == CIVIL_AFFAIRS {
                (&civil.actor, 0)
            } else {
                (&department.actor, 1)
            };
            if counts[slot] >= DEMO_REFERRALS / 2 {
                continue;
            }
            let id = app
                .create_referral(&civil.actor, household.id, &proposal.item_code)
                .await?;
            let accept = ReferralAct::Accept {
                note: String::new(),
            };
            match counts[slot] % 4 {
                1 => {
                    app.act_on_referral(handler, id, &accept).await?;
                }
                2 => {
                    app.act_on_referral(handler, id, &accept).await?;
                    let amount = proposal
                        .amount
                        .map_or_else(|| DEMO_AMOUNT_YUAN.to_owned(), |amount| amount.to_string());
                    let deliver = ReferralAct::Deliver {
                        amount,
                        on: today.clone(),
                        note: "演示数据".to_owned(),
                    };
                    app.act_on_referral(handler, id, &deliver).await?;
                }
                3 => {
                    let decline = ReferralAct::Decline {
                        reason: "演示数据：经核实已由其他渠道解决".to_owned(),
                    };
                    app.act_on_referral(handler, id, &decline).await?;
                }
                _ => {}
            }
            counts[slot] += 1;
            if counts.iter().sum::<usize>() >= DEMO_REFERRALS {
                break;
            }
        }
        n_pages += 1;
        after = list.next;
        if after.is_none() {
            break;
        }
    }
    Ok(())
}
