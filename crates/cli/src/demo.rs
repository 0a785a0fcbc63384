//! `serve --demo`: a demo data set on the embedded SQLite store, created once.

use anyhow::{Context, bail};
use app::App;
use app::imports::DemoState;
use domain::{PlaceCode, Role};

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
        app.create_user(app::users::Creator::Console("demo"), user)
            .await
            .map_err(|error| anyhow::anyhow!("demo user {username}: {}", error.message()))?;
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
    Ok(())
}
