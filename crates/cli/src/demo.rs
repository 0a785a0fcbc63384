//! `serve --demo`: a demo data set on the embedded SQLite store, created once.

use anyhow::{Context, bail};
use app::cases::{CaseAction, JointReviewInput, NewIntake};
use app::imports::DemoState;
use app::{Actor, App, AppError};
use domain::{HouseholdNo, PlaceCode, Role};
use workflow::{
    Action, CaseKind, Channel, Consent, Discrepancy, ReviewOutcome, Step, Survey, TeamMember,
    VillageReview,
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

/// The demo's 监督电话 (a made-up number of the 023 area; `serve --supervision-phone` sets
/// the real one).
pub const SUPERVISION_PHONE: &str = "023-4567 0000";
/// The demo's 行政复议机关 and court for 行政诉讼 on the 告知书 (`serve --reconsideration-body`
/// and `--litigation-court` set the real ones): the seed names neither, so these are marked
/// （演示） and are not policy.
pub const RECONSIDERATION_BODY: &str = "铜梁区人民政府（演示）";
pub const LITIGATION_COURT: &str = "铜梁区人民法院（演示）";

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
    let actors = create_demo_users(app).await?;
    let mut content = Vec::new();
    synth::write_households_jsonl(&places, DEMO_HOUSEHOLDS, DEMO_SEED, &mut content)?;
    let content = String::from_utf8(content).context("generated households")?;
    app.import_households("demo", "demo-households.jsonl", &content, &|_| {})
        .await
        .map_err(|error| anyhow::anyhow!("demo households: {error}"))?;
    app.mark_demo().await?;
    enter_demo_values(app, &actors).await?;
    let enrolled_on =
        chrono::NaiveDate::from_ymd_opt(DEMO_ENROLMENT.0, DEMO_ENROLMENT.1, DEMO_ENROLMENT.2)
            .context("demo date")?;
    app.seed_demo_categories(enrolled_on)
        .await
        .map_err(|error| anyhow::anyhow!("demo categories: {}", error.message()))?;
    app.seed_demo_rechecks()
        .await
        .map_err(|error| anyhow::anyhow!("demo re-checks: {}", error.message()))?;
    let by = |username: &str| {
        actors
            .iter()
            .find(|actor| actor.username == username)
            .cloned()
            .with_context(|| format!("demo user {username}"))
    };
    let unit = Unit {
        number: 0,
        village: PlaceCode::parse(DEMO_CASE_VILLAGE)
            .map_err(|error| anyhow::anyhow!("demo village: {error}"))?,
        town: by("bachuan")?,
        assistant: by("cunshe")?,
        grid: by("wangge")?,
    };
    let district = district(app).await?;
    seed_cases(app, &unit, &district, None, CaseSet::WholeLoop)
        .await
        .map_err(|error| anyhow::anyhow!("demo cases: {}", error.message()))?;
    let persons = first_heads(content.lines(), "500151001", DEMO_WARNED_PERSONS)?;
    demo_warnings(app, &persons, std::slice::from_ref(&unit))
        .await
        .map_err(|error| anyhow::anyhow!("demo warnings: {error}"))?;
    record_visit(app, &unit)
        .await
        .map_err(|error| anyhow::anyhow!("demo contact: {}", error.message()))?;
    let (civil, department) = referral_handlers(app)
        .await
        .map_err(|error| anyhow::anyhow!("demo referrals: {}", error.message()))?;
    let mut candidates = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..DEMO_PAGES_SCANNED {
        let list = app.search_households(&civil, "", after.as_deref()).await?;
        candidates.extend(list.items.iter().map(|household| household.id));
        match list.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    demo_referrals(app, &civil, &department, &candidates)
        .await
        .map_err(|error| anyhow::anyhow!("demo referrals: {}", error.message()))?;
    Ok(())
}

/// The demo users of `DEMO_USERS` (the department user with its department).
async fn create_demo_users(app: &App) -> anyhow::Result<Vec<Actor>> {
    let mut actors = Vec::new();
    for (username, name, role, area) in DEMO_USERS {
        actors.push(demo_user(app, username, name, role, area).await?);
    }
    app.set_user_department(
        app::users::Creator::Console("demo"),
        DEMO_DEPARTMENT.0,
        DEMO_DEPARTMENT.1,
    )
    .await
    .map_err(|error| anyhow::anyhow!("demo department: {}", error.message()))?;
    Ok(actors)
}

/// 演示数值: enters `policy/demo-values.toml` (status 演示, note 演示数值，非正式政策), each value
/// by its parameter's owner (区民政局, or 区农业农村委 for `monitoring.*`), audited like any value
/// added on the 政策参数 page; with them every category, tag and comparison rule can be reached.
async fn enter_demo_values(app: &App, actors: &[Actor]) -> anyhow::Result<()> {
    let catalogue = policy::Catalogue::builtin()?;
    for value in policy::demo_values()? {
        let owner = catalogue.by_name(&value.param)?.owner;
        let actor = actors
            .iter()
            .find(|actor| actor.role == owner)
            .with_context(|| format!("demo user of {owner:?}"))?;
        app.add_policy_value(actor, &value)
            .await
            .map_err(|error| anyhow::anyhow!("demo value {}: {}", value.param, error.message()))?;
    }
    Ok(())
}

/// Creates one demo user (password `DEMO_PASSWORD`) and returns it as an actor.
async fn demo_user(
    app: &App,
    username: &str,
    name: &str,
    role: Role,
    area: &str,
) -> anyhow::Result<Actor> {
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
    Ok(Actor {
        user_id,
        username: username.to_owned(),
        display_name: name.to_owned(),
        role,
        area,
    })
}

/// One demo unit: a village and the town reviewer, village assistant and grid worker who
/// work its cases, warnings and visits. The demo has one; `seed_scaled` one per
/// `households_per_unit` households of the registry.
#[derive(Clone, Debug)]
struct Unit {
    number: u32,
    village: PlaceCode,
    town: Actor,
    assistant: Actor,
    grid: Actor,
}

impl Unit {
    /// The external id of the unit's `n`th application (`DEMO-A001` in unit 0).
    /// The 户编号 of `external_id`.
    fn household_no(&self, n: u32) -> Result<HouseholdNo, AppError> {
        HouseholdNo::parse(&self.external_id(n))
            .map_err(|error| AppError::Internal(anyhow::anyhow!("demo household number: {error}")))
    }

    fn external_id(&self, n: u32) -> String {
        if self.number == 0 {
            format!("DEMO-A{n:03}")
        } else {
            format!("DEMO-{}-A{n:03}", self.number)
        }
    }
}

/// Persons a demo feed reports on per unit (deaths, changed names).
const DEMO_WARNED_PERSONS: usize = 6;

/// The (ID number, name) of the heads of the first `limit` households under `area` among
/// `lines` (households in the interchange format).
fn first_heads<'a>(
    lines: impl Iterator<Item = &'a str>,
    area: &str,
    limit: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut persons = Vec::new();
    for line in lines {
        if persons.len() == limit {
            break;
        }
        let record: serde_json::Value = serde_json::from_str(line)?;
        if !record["area_code"]
            .as_str()
            .is_some_and(|code| code.starts_with(area))
        {
            continue;
        }
        if let Some(member) = record["members"].get(0) {
            persons.push((
                member["id_number"].as_str().unwrap_or("").to_owned(),
                member["name"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    Ok(persons)
}

/// A grid worker's visit that found a possible need (W4).
async fn record_visit(app: &App, unit: &Unit) -> Result<(), AppError> {
    app.record_contact(
        &unit.grid,
        app::contacts::NewContactInput {
            channel: app::contacts::ContactChannel::Visit,
            on_date: app.today(),
            household_id: None,
            person_name: "孙大娘".to_owned(),
            id_number: None,
            phone: String::new(),
            area: Some(unit.village.clone()),
            findings: "走访发现：独居老人，子女在外务工，近期摔伤行动不便".to_owned(),
            outcome: app::contacts::ContactOutcome::Warning,
            consent: None,
            new_household_id: None,
        },
    )
    .await?;
    Ok(())
}

/// The demo village of the village assistant and the grid worker (巴川街道).
const DEMO_CASE_VILLAGE: &str = "500151001200";

/// A valid ID number for the demo's applicants: member `member` (1 head, born 1975; 2
/// spouse, 1977; 3 child, 2005) of application `n` (below 100), each unit on its own
/// birthday. Its sequence code (≥ 100) is beyond those the generated households use on a
/// birthday (handed out from 001), so it is nobody else's.
fn demo_id(unit: u32, n: u32, member: u32) -> String {
    let year = match member {
        1 => 1975,
        2 => 1977,
        _ => 2005,
    };
    let first17 = format!(
        "500224{year:04}{:02}{:02}{:03}",
        1 + unit % 12,
        1 + (unit / 12) % 28,
        (member * 100 + n % 100) % 1000
    );
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

/// What the survey of a demo application finds, and so what the rules engine proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// 6 000 yuan of wages a year for three: 低保 (区民政局 confirms).
    Poor,
    /// The same, and the head is ill: 低保 and 防止返贫监测 (both departments confirm).
    PoorAndIll,
    /// 66 000 yuan of wages and 50 000 of medical costs a year, the head ill: above the
    /// 低保 lines, but below the monitoring line after the costs — 防止返贫监测 only
    /// (突发严重困难户, 区农业农村委 confirms).
    MedicalHardship,
}

/// A household of three for the demo's applications, as the survey finds it (`need`).
fn demo_household(unit: &Unit, n: u32, need: Need) -> Result<domain::Household, AppError> {
    domain::interchange::parse_household_line(&demo_household_need(unit, n, need))
        .map_err(|error| AppError::invalid("household", error))
}

/// `demo_household` in the interchange format (one JSON line), a poor household.
fn demo_household_line(unit: &Unit, n: u32) -> String {
    demo_household_need(unit, n, Need::Poor)
}

/// `demo_household` of `need` in the interchange format (one JSON line).
fn demo_household_need(unit: &Unit, n: u32, need: Need) -> String {
    let head = ["何一", "何二", "何三", "何四", "何五"][n as usize % 5];
    let situation = match need {
        Need::Poor => r#""income_12m": {"wages": 6000}"#,
        Need::PoorAndIll => r#""income_12m": {"wages": 6000}, "risks": ["illness"]"#,
        Need::MedicalHardship => {
            r#""income_12m": {"wages": 66000}, "rigid_expenditure_12m": {"medical": 50000}, "risks": ["illness"]"#
        }
    };
    format!(
        r#"{{"id": "{}", "area_code": "{}", "hukou": "rural", "members": [{{"id_number": "{}", "name": "{head}", "relation": "head", "labour_capacity": "partial"}}, {{"id_number": "{}", "name": "罗秀兰", "relation": "spouse"}}, {{"id_number": "{}", "name": "何小军", "relation": "child"}}], {situation}}}"#,
        unit.external_id(n),
        unit.village,
        demo_id(unit.number, n, 1),
        demo_id(unit.number, n, 2),
        demo_id(unit.number, n, 3)
    )
}

/// The district departments that confirm the demo's cases (P8): 区民政局 and 区农业农村委.
struct District {
    civil: Actor,
    agriculture: Actor,
}

/// The demo's two district users.
async fn district(app: &App) -> anyhow::Result<District> {
    Ok(District {
        civil: demo_actor(app, "minzheng").await?,
        agriculture: demo_actor(app, "nongye").await?,
    })
}

/// How many of the demo's cases a unit gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CaseSet {
    /// The first steps only (the scaled demo's units after the first, kept quick to seed).
    Start,
    /// Every step of the workflow, from intake to 公开 (issue 14 item 7).
    WholeLoop,
}

/// The days before today on which the demo's finished applications were taken in: their
/// notice (posted 9 days later) has run its full period by today, so that the district can
/// confirm them now (`deadline.notice_days` is 7 in the shipped catalogue).
const DEMO_PAST_INTAKE_DAYS: u64 = 20;

/// The demo's cases, so that the work queues are not empty and a new user can follow the
/// whole loop (`CaseSet::WholeLoop`; see the README's demo section):
/// - A001 just taken in, A002 in comparison with a 疑点, A003 on public notice posted today,
///   A005 refused awaiting its 告知书, and a re-check of an enrolled household;
/// - with the whole loop, one at each other step — A004 at 入户调查, A006 at 村社评议, A007
///   at 镇街联合研判 — and, taken in `DEMO_PAST_INTAKE_DAYS` ago with each step dated on its
///   own day: A008 (低保, special limit recorded) and A009 (防止返贫监测) past their notice,
///   awaiting 区民政局 and 区农业农村委; A010 (低保 + monitoring) at 审核确认, monitoring
///   confirmed, 低保 awaiting 区民政局; A011 partially declined (低保 confirmed, monitoring
///   declined) with its 告知书 delivered; A012 confirmed and published (公开, its posting on
///   the village board recorded); A013 withdrawn; and an exit (退出) of an enrolled household
///   of the village (else of the town) in comparison.
///
/// `recheck_due`, when given, are the re-checks due in the unit's village (else they are read).
async fn seed_cases(
    app: &App,
    unit: &Unit,
    district: &District,
    recheck_due: Option<Vec<workflow::RecheckDue>>,
    set: CaseSet,
) -> Result<(), AppError> {
    let (town, village, grid) = (&unit.town, &unit.assistant, &unit.grid);
    let today = app.today();
    let step = |action: Action| CaseAction::Move(action);

    open_demo(app, unit, village, 1, "何一", "因病致贫，申请救助", today).await?;

    let comparing = open_demo(app, unit, village, 2, "何二", "家庭主要劳动力残疾", today).await?;
    app.act_on_case(town, comparing, step(Action::BeginComparison))
        .await?;
    app.act_on_case(
        town,
        comparing,
        step(Action::RecordDiscrepancy(Discrepancy {
            source: "车辆登记".to_owned(),
            description: "户主名下登记有一辆小型货车".to_owned(),
        })),
    )
    .await?;

    let noticed = open_demo(app, unit, grid, 3, "何三", "突发重病，医疗支出大", today).await?;
    let walk = Walk {
        case_id: noticed,
        n: 3,
        need: Need::Poor,
        start: today,
        until: Step::Notice,
        special_limit: None,
    };
    walk.run(app, unit).await?;

    let refused = open_demo(app, unit, village, 5, "何五", "申请低保", today).await?;
    app.act_on_case(
        town,
        refused,
        step(Action::Refuse {
            reason: "申请人户籍不在本村，且未在本村共同生活".to_owned(),
        }),
    )
    .await?;

    // A re-check of the first enrolled household of the village; with the whole loop, an
    // exit of the second.
    let far = today
        .checked_add_months(chrono::Months::new(24))
        .unwrap_or(today);
    let due = match recheck_due {
        Some(due) => due,
        None => rechecks_due(app, town, far).await?,
    };
    let mut due = due;
    let in_village =
        |due: &workflow::RecheckDue| due.area.as_str().starts_with(unit.village.as_str());
    if let Some(at) = due.iter().position(in_village) {
        let due = due.remove(at);
        app.open_recheck(town, due.household_no.as_str(), "定期核查")
            .await?;
    }
    if set == CaseSet::Start {
        return Ok(());
    }
    // The exit: another enrolled household of the village, else of the town.
    let exiting = due
        .iter()
        .position(in_village)
        .or((!due.is_empty()).then_some(0));
    if let Some(due) = exiting.map(|at| due.remove(at)) {
        let applicant = {
            let mut conn = app.store().read().await?;
            store::households::by_external_id(&mut conn, due.household_no.as_str())
                .await?
                .map(|row| row.head_name)
                .unwrap_or_default()
        };
        let (exit, _) = app
            .open_case(
                town,
                NewIntake {
                    kind: CaseKind::Exit,
                    channel: Channel::TownWindow,
                    household_no: due.household_no.clone(),
                    area: due.area.clone(),
                    applicant,
                    consent: None,
                    summary: "家庭成员稳定就业，收入持续超过标准，申请退出".to_owned(),
                },
            )
            .await?;
        app.act_on_case(town, exit, step(Action::BeginComparison))
            .await?;
    }

    // One case waiting at each step of the survey and the reviews, taken in three days ago.
    let recent = days_before(today, 3);
    for (n, applicant, until) in [
        (4, "何四", Step::Surveying),
        (6, "何一", Step::VillageReview),
        (7, "何二", Step::JointReview),
    ] {
        let case_id = open_demo(
            app,
            unit,
            village,
            n,
            applicant,
            "因病致贫，申请救助",
            recent,
        )
        .await?;
        Walk {
            case_id,
            n,
            need: Need::Poor,
            start: recent,
            until,
            special_limit: None,
        }
        .run(app, unit)
        .await?;
    }

    // Past their notice: each step on its own day, the notice over before today.
    let past = days_before(today, DEMO_PAST_INTAKE_DAYS);
    let decided_on = days_before(today, 3);
    let delivered_on = days_before(today, 2);
    let mut finished = Vec::new();
    for (n, applicant, need, special_limit) in [
        (
            8,
            "何三",
            Need::Poor,
            Some("申请人家庭成员在外地务工，收入证明需异地核实"),
        ),
        (9, "何四", Need::MedicalHardship, None),
        (10, "何五", Need::PoorAndIll, None),
        (11, "何一", Need::PoorAndIll, None),
        (12, "何二", Need::Poor, None),
    ] {
        let case_id = open_demo(app, unit, village, n, applicant, "申请救助帮扶", past).await?;
        Walk {
            case_id,
            n,
            need,
            start: past,
            until: Step::Notice,
            special_limit,
        }
        .run(app, unit)
        .await?;
        finished.push(case_id);
    }
    let [_, _, confirming, partial, published] = finished[..] else {
        return Ok(());
    };
    // A010: 区农业农村委 has confirmed the monitoring tag; 低保 awaits 区民政局.
    decide(app, &district.agriculture, confirming, decided_on, None).await?;
    // A011: 低保 confirmed, the monitoring tag declined; the 告知书 of the part declined
    // delivered the day after.
    decide(
        app,
        &district.agriculture,
        partial,
        decided_on,
        Some("经区级核实，该户已纳入低保，基本生活有保障，暂不纳入防止返贫监测"),
    )
    .await?;
    decide(app, &district.civil, partial, decided_on, None).await?;
    app.act_on_case_on(
        town,
        partial,
        step(Action::DeliverRefusalNotice),
        Some(delivered_on),
    )
    .await?;
    // A012: confirmed, on the village's public list (公开); the list, published when the
    // decision was entered (today), posted on the village board.
    decide(app, &district.civil, published, decided_on, None).await?;
    app.record_disclosure_posting(village, unit.village.as_str(), today)
        .await?;

    let withdrawn = open_demo(app, unit, grid, 13, "何三", "申请救助", recent).await?;
    app.act_on_case_on(
        village,
        withdrawn,
        step(Action::Withdraw {
            reason: "申请人已外出务工，主动撤回申请".to_owned(),
        }),
        Some(days_before(today, 1)),
    )
    .await?;
    Ok(())
}

/// `days` days before `today` (today itself when that is out of range).
fn days_before(today: chrono::NaiveDate, days: u64) -> chrono::NaiveDate {
    today
        .checked_sub_days(chrono::Days::new(days))
        .unwrap_or(today)
}

/// Takes in application `n` of `unit` on `on` (the consent signed that day) by `actor`.
async fn open_demo(
    app: &App,
    unit: &Unit,
    actor: &Actor,
    n: u32,
    applicant: &str,
    summary: &str,
    on: chrono::NaiveDate,
) -> Result<i64, AppError> {
    let intake = NewIntake {
        kind: CaseKind::Application,
        channel: Channel::VillageWindow,
        household_no: unit.household_no(n)?,
        area: unit.village.clone(),
        applicant: applicant.to_owned(),
        consent: Some(Consent {
            signed_on: on,
            signer: applicant.to_owned(),
        }),
        summary: summary.to_owned(),
    };
    let (case_id, _) = app.open_case_on(actor, intake, Some(on)).await?;
    Ok(case_id)
}

/// A demo application taken from intake through the steps until it waits at `until`
/// (入户调查, 村社评议, 镇街联合研判, or 公示 with the notice posted), each step dated on its own
/// day after `start` (never after today): comparison the next day, the survey on day 3, the
/// village review on day 5, the joint review on day 7 and the notice on day 9.
struct Walk {
    case_id: i64,
    n: u32,
    need: Need,
    start: chrono::NaiveDate,
    until: Step,
    /// 特殊情况: the reason the town records after the joint review.
    special_limit: Option<&'static str>,
}

impl Walk {
    async fn run(&self, app: &App, unit: &Unit) -> Result<(), AppError> {
        let today = app.today();
        let day = |offset: u64| {
            self.start
                .checked_add_days(chrono::Days::new(offset))
                .unwrap_or(today)
                .min(today)
        };
        let (town, village) = (&unit.town, &unit.assistant);
        let act = |actor: &Actor, action: Action, on: chrono::NaiveDate| {
            let actor = actor.clone();
            async move {
                app.act_on_case_on(&actor, self.case_id, CaseAction::Move(action), Some(on))
                    .await
            }
        };
        act(town, Action::BeginComparison, day(1)).await?;
        act(town, Action::CompleteComparison, day(1)).await?;
        if self.until == Step::Surveying {
            return Ok(());
        }
        let survey = Survey {
            household: demo_household(unit, self.n, self.need)?,
            team: [village, &unit.grid]
                .iter()
                .map(|actor| TeamMember {
                    user_id: actor.user_id,
                    name: actor.display_name.clone(),
                })
                .collect(),
            surveyed_on: day(3),
        };
        act(village, Action::RecordSurvey(survey), day(3)).await?;
        if self.until == Step::VillageReview {
            return Ok(());
        }
        // P5: the village assistant records her own village's review.
        let review = VillageReview {
            held_on: day(5),
            attendance: 11,
            outcome: ReviewOutcome::Agreed,
            note: "一致同意".to_owned(),
        };
        act(village, Action::RecordVillageReview(review), day(5)).await?;
        if self.until == Step::JointReview {
            return Ok(());
        }
        let proposal = app.case_proposal(town, self.case_id).await?;
        app.act_on_case_on(
            town,
            self.case_id,
            // 人工核定 of each pending test as a meeting records it, and (D2) the 供养方式 of a
            // 特困 it starts.
            CaseAction::RecordJointReview(JointReviewInput::agreeing_with(
                &proposal,
                day(7),
                "入户核实：存款、车辆等财产在本镇掌握的范围内",
            )),
            Some(day(7)),
        )
        .await?;
        if let Some(reason) = self.special_limit {
            let action = Action::RecordSpecialLimit {
                reason: reason.to_owned(),
            };
            act(town, action, day(7)).await?;
        }
        // P7: the village assistant posts the notice in her own village.
        act(village, Action::PostNotice, day(9)).await?;
        Ok(())
    }
}

/// A district department's decision on each of its categories of `case_id` on `on`: each
/// confirmed, or each declined with `decline` as the reason.
async fn decide(
    app: &App,
    department: &Actor,
    case_id: i64,
    on: chrono::NaiveDate,
    decline: Option<&str>,
) -> Result<(), AppError> {
    let detail = app.case_detail(department, case_id).await?;
    let categories: Vec<domain::Category> = detail
        .case
        .decided()
        .iter()
        .filter(|decided| decided.decision.is_none() && decided.department() == department.role)
        .map(|decided| decided.category)
        .collect();
    for category in categories {
        let action = match decline {
            Some(reason) => Action::Decline {
                category,
                reason: reason.to_owned(),
            },
            None => Action::Confirm { category },
        };
        app.act_on_case_on(department, case_id, CaseAction::Move(action), Some(on))
            .await?;
    }
    Ok(())
}

/// Every re-check due by `until` in `actor`'s area, read page by page.
async fn rechecks_due(
    app: &App,
    actor: &Actor,
    until: chrono::NaiveDate,
) -> Result<Vec<workflow::RecheckDue>, AppError> {
    let mut due = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app.recheck_due(actor, until, after.as_deref()).await?;
        due.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(due),
        }
    }
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

/// A department feed about `persons` (deaths and names that differ from the registry's, in
/// turn by `DEMO_WARNED_PERSONS`), a bad row and a disaster of someone outside the registry;
/// its comparison run; and the warnings it raised left at different steps of the loop, by the
/// town reviewer of each unit and the village assistant of the warning's village.
async fn demo_warnings(
    app: &App,
    persons: &[(String, String)],
    units: &[Unit],
) -> anyhow::Result<()> {
    use app::warnings::{Disposal, Judgement, LoopAction};
    let mut feed = String::from("身份证号,姓名,类别,数值,日期,说明\n");
    for (at, (id_number, name)) in persons.iter().enumerate() {
        let at = at % DEMO_WARNED_PERSONS;
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
    let steps = [
        LoopAction::Assign {
            assignee_user_id: 0,
        },
        LoopAction::Verify {
            visited_on: app.today(),
            visitors: "镇街审核人员、村社协理员".to_owned(),
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
    // Per town, warning i goes through the first i steps (mod 6): one open, one assigned, …
    // one closed. A unit's village assistant verifies in her village, the town reviewer
    // elsewhere.
    let mut towns_done: Vec<&str> = Vec::new();
    for unit in units {
        let town = &unit.town;
        if towns_done.contains(&town.username.as_str()) {
            continue;
        }
        towns_done.push(&town.username);
        let assistants: Vec<&Actor> = units
            .iter()
            .filter(|other| other.town.username == town.username)
            .map(|other| &other.assistant)
            .collect();
        let ids: Vec<i64> = app
            .warnings(town, &app::warnings::WarningQuery::default())
            .await
            .map_err(message)?
            .items
            .iter()
            .map(|item| item.id)
            .collect();
        for (at, id) in ids.iter().enumerate() {
            let team = app.warning_detail(town, *id).await.map_err(message)?.team;
            let verifier = assistants
                .iter()
                .find(|assistant| {
                    team.iter()
                        .any(|choice| choice.user_id == assistant.user_id)
                })
                .copied()
                .unwrap_or(town);
            for action in steps.iter().take(at % (steps.len() + 1)) {
                let (actor, action) = match action {
                    LoopAction::Assign { .. } => (
                        town,
                        LoopAction::Assign {
                            assignee_user_id: verifier.user_id,
                        },
                    ),
                    LoopAction::Verify { .. } => (verifier, action.clone()),
                    _ => (town, action.clone()),
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
    }
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

/// The handlers of the demo referrals: 区民政局 (its own items) and 区医保局.
async fn referral_handlers(app: &App) -> Result<(Actor, Actor), AppError> {
    let civil = app.login("minzheng", DEMO_PASSWORD, "console").await?;
    let department = app
        .login(DEMO_DEPARTMENT.0, DEMO_PASSWORD, "console")
        .await?;
    Ok((civil.actor, department.actor))
}

/// 救助帮扶 demo: proposals of the households `candidates` sent as referrals, and handled by
/// 区民政局 (its own items) or 区医保局 (medical assistance) to different states.
async fn demo_referrals(
    app: &App,
    civil: &Actor,
    department: &Actor,
    candidates: &[i64],
) -> Result<(), app::AppError> {
    use app::assistance::{CIVIL_AFFAIRS, ReferralAct};
    let today = app.today().to_string();
    // Per handling department, how many were sent: each gets every state in turn.
    let mut counts = [0usize; 2];
    for household_id in candidates {
        let assistance = app.household_assistance(civil, *household_id).await?;
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
            (civil, 0)
        } else {
            (department, 1)
        };
        if counts[slot] >= DEMO_REFERRALS / 2 {
            continue;
        }
        let id = app
            .create_referral(civil, *household_id, &proposal.item_code)
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
    Ok(())
}

/// A user of the scaled demo, as the load benchmark signs in: (username, role, area).
pub type SeededUser = (String, Role, String);

/// A case of the scaled demo left at 入户调查 for the load benchmark's survey saves: its id,
/// the surveyed household (interchange JSON) and a survey team of two user ids.
pub struct SurveyCase {
    pub case_id: i64,
    pub household: String,
    pub team: [i64; 2],
}

/// Applications per unit that `seed_scaled` opens after the demo's (numbered from here).
const SURVEY_CASES_FROM: u32 = 20;

/// `safetynet demo seed`: on a registry just imported from generated households (and no users
/// yet), the demo's users, categories, cases, warnings, visits and referrals **scaled with
/// it**: one demo unit (what the demo seeds in one village for 3 000 households) per
/// `households_per_unit` households, the units spread evenly over the villages that hold
/// households, each worked by the town reviewer of its town (`town-CODE`), a village assistant
/// (`village-CODE`) and a grid worker (`grid-CODE`), all with `DEMO_PASSWORD`; plus the
/// demo's district users. Everything goes through the use cases, so every invariant (audit
/// chain, events, areas) holds. Returns the users made.
/// With `surveys` > 0, each unit also gets that many applications taken through comparison to
/// 入户调查, returned for the benchmark's survey saves.
pub async fn seed_scaled(
    app: &App,
    households_per_unit: usize,
    surveys: u32,
    progress: &dyn Fn(&str),
) -> anyhow::Result<(Vec<SeededUser>, Vec<SurveyCase>)> {
    let (n_users, villages) = {
        let mut conn = app.store().read().await?;
        let n_users = store::users::count(&mut conn).await?;
        let rows = store::households::count_by_area(&mut conn).await?;
        // Households by village (a household may be filed under a grid of its village).
        let mut villages: Vec<(String, i64)> = Vec::new();
        for (code, n) in rows {
            let village = code.get(..12).unwrap_or(&code).to_owned();
            match villages.last_mut() {
                Some((last, count)) if *last == village => *count += n,
                _ => villages.push((village, n)),
            }
        }
        (n_users, villages)
    };
    let households: i64 = villages.iter().map(|(_, n)| n).sum();
    if households == 0 {
        bail!(
            "登记库中没有家庭：请先导入生成的家庭 (import generated households first: safetynet gen households | safetynet import households)"
        );
    }
    if n_users > 0 || app.demo_state().await? == DemoState::Demo {
        bail!("该数据库已有用户，拒绝生成演示数据 (refusing: the store already has users)");
    }
    app.mark_demo().await?;
    let units_wanted = usize::try_from(households)?
        .div_ceil(households_per_unit.max(1))
        .max(1);
    progress(&format!(
        "{households} households in {} villages: {units_wanted} demo units",
        villages.len()
    ));
    let mut users: Vec<SeededUser> = DEMO_USERS
        .iter()
        .map(|(username, _, role, area)| ((*username).to_owned(), *role, (*area).to_owned()))
        .collect();
    create_demo_users(app).await?;

    // The units, each in its own village, spread over the villages in code order.
    let mut units: Vec<Unit> = Vec::new();
    let mut towns: Vec<Actor> = Vec::new();
    for number in 0..units_wanted {
        let (village, _) = &villages[number * villages.len() / units_wanted];
        if units.iter().any(|unit| unit.village.as_str() == village) {
            continue;
        }
        let town_code = village.get(..9).unwrap_or(village);
        let town = match towns.iter().find(|town| town.area.as_str() == town_code) {
            Some(town) => town.clone(),
            None => {
                let username = format!("town-{town_code}");
                let town =
                    demo_user(app, &username, &username, Role::TownReviewer, town_code).await?;
                users.push((username, Role::TownReviewer, town_code.to_owned()));
                towns.push(town.clone());
                town
            }
        };
        let village_code =
            PlaceCode::parse(village).map_err(|error| anyhow::anyhow!("{village}: {error}"))?;
        let grid_area = {
            let mut conn = app.store().read().await?;
            store::places::under(&mut conn, &village_code, domain::PlaceLevel::Grid)
                .await?
                .into_iter()
                .next()
                .map_or_else(|| village.clone(), |grid| grid.code.as_str().to_owned())
        };
        let assistant_name = format!("village-{village}");
        let assistant = demo_user(
            app,
            &assistant_name,
            &assistant_name,
            Role::VillageAssistant,
            village,
        )
        .await?;
        users.push((assistant_name, Role::VillageAssistant, village.clone()));
        let grid_name = format!("grid-{village}");
        let grid = demo_user(app, &grid_name, &grid_name, Role::GridWorker, &grid_area).await?;
        users.push((grid_name, Role::GridWorker, grid_area));
        units.push(Unit {
            // Unit numbers from 1: unit 0 is the small demo's (its ids stay as they were).
            number: u32::try_from(units.len() + 1)?,
            village: village_code,
            town,
            assistant,
            grid,
        });
    }
    progress(&format!("{} users", users.len()));

    let enrolled_on =
        chrono::NaiveDate::from_ymd_opt(DEMO_ENROLMENT.0, DEMO_ENROLMENT.1, DEMO_ENROLMENT.2)
            .context("demo date")?;
    let periods = app
        .seed_demo_categories(enrolled_on)
        .await
        .map_err(|error| anyhow::anyhow!("demo categories: {}", error.message()))?;
    progress(&format!("{periods} category periods"));
    let scheduled = app
        .seed_demo_rechecks()
        .await
        .map_err(|error| anyhow::anyhow!("demo re-checks: {}", error.message()))?;
    progress(&format!("{scheduled} re-checks scheduled"));

    let far = app
        .today()
        .checked_add_months(chrono::Months::new(24))
        .unwrap_or(app.today());
    let message = |error: AppError| anyhow::anyhow!("{}", error.message());
    let district = district(app).await?;
    let mut survey_cases = Vec::new();
    for (at, unit) in units.iter().enumerate() {
        let due = rechecks_due(app, &unit.assistant, far)
            .await
            .map_err(message)?;
        // The first unit holds the whole loop (the district's queues have something to
        // confirm); the others the first steps, so that seeding a district stays quick.
        let set = if at == 0 {
            CaseSet::WholeLoop
        } else {
            CaseSet::Start
        };
        seed_cases(app, unit, &district, Some(due), set)
            .await
            .map_err(|error| anyhow::anyhow!("cases of {}: {}", unit.village, error.message()))?;
        record_visit(app, unit).await.map_err(message)?;
        for n in SURVEY_CASES_FROM..SURVEY_CASES_FROM + surveys {
            survey_cases.push(
                case_at_survey(app, unit, n)
                    .await
                    .map_err(|error| anyhow::anyhow!("survey case: {}", error.message()))?,
            );
        }
        if (at + 1) % 10 == 0 {
            progress(&format!("cases: {}/{} units", at + 1, units.len()));
        }
    }

    let mut persons = Vec::new();
    for unit in &units {
        let mut conn = app.store().read().await?;
        let records = store::households::records_page(
            &mut conn,
            unit.village.as_str(),
            0,
            i64::try_from(DEMO_WARNED_PERSONS)?,
        )
        .await?;
        let lines: Vec<&str> = records.iter().map(|(_, record)| record.as_str()).collect();
        persons.extend(first_heads(
            lines.into_iter(),
            unit.village.as_str(),
            DEMO_WARNED_PERSONS,
        )?);
    }
    demo_warnings(app, &persons, &units).await?;
    progress(&format!("warnings over {} persons", persons.len()));

    let (civil, department) = referral_handlers(app).await.map_err(message)?;
    for (at, unit) in units.iter().enumerate() {
        let candidates: Vec<i64> = {
            let mut conn = app.store().read().await?;
            store::households::records_page(&mut conn, unit.village.as_str(), 0, DEMO_CANDIDATES)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        demo_referrals(app, &civil, &department, &candidates)
            .await
            .map_err(message)?;
        if (at + 1) % 10 == 0 {
            progress(&format!("referrals: {}/{} units", at + 1, units.len()));
        }
    }
    Ok((users, survey_cases))
}

/// Application `n` of `unit`, opened by its village assistant and taken through comparison by
/// its town reviewer, so that it waits at 入户调查.
async fn case_at_survey(app: &App, unit: &Unit, n: u32) -> Result<SurveyCase, AppError> {
    let intake = NewIntake {
        kind: CaseKind::Application,
        channel: Channel::VillageWindow,
        household_no: unit.household_no(n)?,
        area: unit.village.clone(),
        applicant: "何一".to_owned(),
        consent: Some(Consent {
            signed_on: app.today(),
            signer: "何一".to_owned(),
        }),
        summary: "因病致贫，申请救助".to_owned(),
    };
    let (case_id, _) = app.open_case(&unit.assistant, intake).await?;
    for action in [Action::BeginComparison, Action::CompleteComparison] {
        app.act_on_case(&unit.town, case_id, CaseAction::Move(action))
            .await?;
    }
    Ok(SurveyCase {
        case_id,
        household: demo_household_line(unit, n),
        team: [unit.assistant.user_id, unit.grid.user_id],
    })
}

/// Households of a unit's village looked at for referral proposals.
const DEMO_CANDIDATES: i64 = 60;
