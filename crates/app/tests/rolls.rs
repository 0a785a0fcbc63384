//! 一门入库 (issue 12 item 4) end to end on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: the dry run writes nothing; accepting writes the periods, the
//! re-check schedule and one audit event; importing again is a no-op; every kind of bad row
//! is refused by line and column; GB18030 CSV and XLSX read alike; D2 answers from the roll.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use common::{FixedClock, date, stores};

use app::rolls::{RollReport, RollUpload};
use app::users::{Creator, NewUser};
use app::{Actor, App, AppError, AppSettings};
use domain::{Category, PlaceCode, Role};
use std::sync::Arc;

fn id(first17: &str) -> String {
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

const YONGYUAN: &str = "500151001200";
const GUANGQIAO: &str = "500151100201";
const HEADER: &str = "身份证号,姓名,保障范围,起始日期,月保障金额,审批文号,审批机关";

struct World {
    backend: &'static str,
    app: App,
    civil: Actor,
    agriculture: Actor,
    town: Actor,
    /// Head and spouse of H1 (巴川 永院村), head of H2 (土桥 广桥村), a single elder H3.
    a: String,
    b: String,
    c: String,
    d: String,
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

fn household(external_id: &str, area: &str, members: &[(&str, &str, &str)]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(id_number, name, relation)| {
            format!(r#"{{"id_number": "{id_number}", "name": "{name}", "relation": "{relation}"}}"#)
        })
        .collect();
    format!(
        r#"{{"id": "{external_id}", "area_code": "{area}", "hukou": "rural", "members": [{}], "income_12m": {{"wages": 6000}}}}"#,
        members.join(", ")
    )
}

async fn worlds() -> Vec<World> {
    let mut worlds = Vec::new();
    for (backend, store, dir) in stores("rolls").await {
        let clock = Arc::new(FixedClock::on("2026-11-02"));
        let app = App::new(store, clock, AppSettings::default());
        let places =
            domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
        app.load_places("test", &places).await.unwrap();
        let (a, b, c, d) = (
            id("50022419700101001"),
            id("50022419720101002"),
            id("50022419600101003"),
            id("50022419400101004"),
        );
        let lines = [
            household(
                "H1",
                YONGYUAN,
                &[(&a, "韩一", "head"), (&b, "杨二", "spouse")],
            ),
            household("H2", GUANGQIAO, &[(&c, "赵三", "head")]),
            household("H3", GUANGQIAO, &[(&d, "钱四", "head")]),
        ]
        .join("\n");
        app.import_households("test", "h.jsonl", &lines, &|_| {})
            .await
            .unwrap();
        worlds.push(World {
            backend,
            civil: make_actor(&app, "minzheng", Role::DistrictCivilAffairs, "500151").await,
            agriculture: make_actor(&app, "nongye", Role::DistrictAgriculture, "500151").await,
            town: make_actor(&app, "bachuan", Role::TownReviewer, "500151001").await,
            app,
            a,
            b,
            c,
            d,
            outsider: id("11010119800101005"),
            _dir: dir,
        });
    }
    worlds
}

impl World {
    async fn plan(
        &self,
        actor: &Actor,
        category: Category,
        name: &str,
        bytes: &[u8],
    ) -> RollReport {
        let upload = RollUpload {
            category,
            file_name: name,
            bytes,
        };
        self.app
            .plan_roll(actor, &upload)
            .await
            .unwrap_or_else(|error| panic!("{}: {}", self.backend, error.message()))
    }

    async fn import(
        &self,
        actor: &Actor,
        category: Category,
        name: &str,
        bytes: &[u8],
    ) -> RollReport {
        let upload = RollUpload {
            category,
            file_name: name,
            bytes,
        };
        self.app
            .import_roll(actor, &upload)
            .await
            .unwrap_or_else(|error| panic!("{}: {}", self.backend, error.message()))
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.app.store().read().await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        n
    }

    async fn in_category_on(&self, category: &str, day: &str) -> Vec<i64> {
        let mut conn = self.app.store().read().await.unwrap();
        store::households::in_category_on(&mut conn, category, day, "500151")
            .await
            .unwrap()
    }
}

/// A 低保 roll: H1 by both members (one household), H2 by its head, one person not in the
/// registry, and every kind of bad row.
fn dibao_roll(world: &World) -> String {
    let (a, b, c, outsider) = (&world.a, &world.b, &world.c, &world.outsider);
    let bad_check = format!("{}{}", &a[..17], if a.ends_with('0') { '1' } else { '0' });
    format!(
        "{HEADER}\n\
         {a},韩一,整户,2025-07-01,1260,铜民发〔2025〕12号,铜梁区民政局\n\
         {b},杨二,整户,2025-07-01,1260,铜民发〔2025〕12号,铜梁区民政局\n\
         {c},赵三,整户,2025-08-01,630,铜民发〔2025〕13号,铜梁区民政局\n\
         {outsider},外人,整户,2025-07-01,630,铜民发〔2025〕12号,铜梁区民政局\n\
         {bad_check},错号,整户,2025-07-01,630,铜民发〔2025〕12号,铜梁区民政局\n\
         {a},韩一,整户,2025-13-01,630,铜民发〔2025〕12号,铜梁区民政局\n\
         {a},韩一,整户,2027-01-01,630,铜民发〔2025〕12号,铜梁区民政局\n\
         {a},韩一,整户,2025-07-01,-1,铜民发〔2025〕12号,铜梁区民政局\n\
         {a},韩一,单位,2025-07-01,630,铜民发〔2025〕12号,铜梁区民政局\n\
         {a},韩一,整户,2025-07-01,630,,铜梁区民政局\n"
    )
}

/// Dry run: the report (matched, unmatched, each bad row named by line and column), nothing
/// written.
#[tokio::test]
async fn issue12_a_roll_is_planned_first_and_nothing_is_written() {
    for world in worlds().await {
        let backend = world.backend;
        let roll = dibao_roll(&world);
        let periods_before = world.count("SELECT COUNT(*) FROM category_periods").await;
        let audit_before = world.count("SELECT COUNT(*) FROM audit_log").await;

        // Dry run: the report, nothing written.
        let report = world
            .plan(&world.civil, Category::Dibao, "dibao.csv", roll.as_bytes())
            .await;
        let plan = &report.plan;
        assert!(!report.written, "{backend}");
        assert_eq!(plan.n_rows, 10, "{backend}");
        assert_eq!(
            (plan.n_matched, plan.writes.len(), report.n_households),
            (3, 2, 2)
        );
        assert_eq!(
            plan.unmatched.iter().map(|n| n.line).collect::<Vec<_>>(),
            [5]
        );
        let bad: Vec<String> = plan.bad.iter().map(ToString::to_string).collect();
        assert_eq!(
            bad[1..],
            [
                "第 7 行“起始日期”列：“2025-13-01”不是有效日期",
                "第 8 行“起始日期”列：2027-01-01 晚于今天（2026-11-02）",
                "第 9 行“月保障金额”列：“-1”为负数",
                "第 10 行“保障范围”列：“单位”无法识别（应为 整户 或 个人）",
                "第 11 行“审批文号”列：为空",
            ],
            "{backend}"
        );
        assert!(
            bad[0].starts_with("第 6 行“身份证号”列：身份证号校验位错误"),
            "{backend}: {bad:?}"
        );
        assert_eq!(
            world.count("SELECT COUNT(*) FROM category_periods").await,
            periods_before
        );
        assert_eq!(
            world.count("SELECT COUNT(*) FROM audit_log").await,
            audit_before
        );
        assert_eq!(
            world.count("SELECT COUNT(*) FROM recheck_schedule").await,
            0
        );
        testkit::builders::assert_audit_intact(&world.app, backend).await;
    }
}

/// Accept: the planned token, periods with the roll as their reason, the re-check schedule,
/// one audit event; again, nothing to write and nothing written.
#[tokio::test]
async fn issue12_a_roll_is_planned_first_then_accepted_once() {
    for world in worlds().await {
        let backend = world.backend;
        let roll = dibao_roll(&world);
        let periods_before = world.count("SELECT COUNT(*) FROM category_periods").await;
        let audit_before = world.count("SELECT COUNT(*) FROM audit_log").await;
        let report = world
            .plan(&world.civil, Category::Dibao, "dibao.csv", roll.as_bytes())
            .await;
        // Accept: periods with the roll as their reason, the schedule, one audit event.
        let written = world
            .import(&world.civil, Category::Dibao, "dibao.csv", roll.as_bytes())
            .await;
        assert!(written.written, "{backend}");
        assert_eq!(written.token, report.token);
        assert_eq!(
            world.count("SELECT COUNT(*) FROM category_periods").await,
            periods_before + 2
        );
        assert_eq!(
            world
                .count("SELECT COUNT(*) FROM category_periods WHERE reason LIKE '%铜民发〔2025〕12号%' AND id_number IS NULL AND monthly_fen = 126000")
                .await,
            1,
            "{backend}"
        );
        assert_eq!(
            world.count("SELECT COUNT(*) FROM audit_log").await,
            audit_before + 1
        );
        assert_eq!(
            world
                .count("SELECT COUNT(*) FROM audit_log WHERE action = 'roll.import'")
                .await,
            1
        );
        assert_eq!(
            world.count("SELECT COUNT(*) FROM recheck_schedule").await,
            2
        );

        // Again: nothing to write, nothing written.
        let again = world
            .import(&world.civil, Category::Dibao, "dibao.csv", roll.as_bytes())
            .await;
        assert!(!again.written && again.nothing_to_write(), "{backend}");
        assert_eq!(again.plan.already.len(), 3, "{backend}");
        assert_eq!(
            world.count("SELECT COUNT(*) FROM category_periods").await,
            periods_before + 2
        );
        assert_eq!(
            world.count("SELECT COUNT(*) FROM audit_log").await,
            audit_before + 1
        );
        testkit::builders::assert_audit_intact(&world.app, backend).await;
    }
}

/// Accepted: the re-checks fall due by rule 10 with the catalogue's cycles; who was in 低保 on
/// a date answers from the roll; a 特困 roll of one person is written (rule 2) and a 低保单人保
/// row for that person is a conflict.
#[tokio::test]
async fn issue12_an_accepted_roll_schedules_rechecks_and_answers_who_held_the_category() {
    for world in worlds().await {
        let backend = world.backend;
        let roll = dibao_roll(&world);
        world
            .import(&world.civil, Category::Dibao, "dibao.csv", roll.as_bytes())
            .await;
        // RULES.md rule 10 with the catalogue's cycles: H1 has a working-age member (6
        // months), H2's head too; both due six months after the roll's dates.
        let due = world
            .app
            .recheck_due(&world.town, date("2027-12-31"), None)
            .await
            .unwrap();
        assert_eq!(
            due.items.len(),
            1,
            "{backend}: the town sees its own household"
        );
        assert_eq!(due.items[0].household_no.as_str(), "H1");
        assert_eq!(due.items[0].due_on, date("2026-01-01"), "{backend}");
        assert!(due.items[0].overdue);

        // D2: who was in 低保 on a date answers from the roll.
        assert_eq!(world.in_category_on("dibao", "2025-06-30").await.len(), 0);
        assert_eq!(world.in_category_on("dibao", "2025-07-15").await.len(), 1);
        assert_eq!(world.in_category_on("dibao", "2025-08-01").await.len(), 2);

        // A 特困 roll naming H2's head alone: exclusive with nothing held by that person, but
        // a 低保单人保 row for a person holding 特困 would be a conflict.
        let tekun = format!(
            "{HEADER},供养方式\n{},赵三,个人,2025-09-01,1001,铜民发〔2025〕20号,铜梁区民政局,分散供养\n",
            world.c
        );
        let tekun = world
            .import(&world.civil, Category::Tekun, "tekun.csv", tekun.as_bytes())
            .await;
        assert!(tekun.written, "{backend}: rule 2");
        let single = format!(
            "{HEADER}\n{},赵三,个人,2025-10-01,630,文,铜梁区民政局\n",
            world.c
        );
        let single = world
            .plan(
                &world.civil,
                Category::DibaoSingle,
                "single.csv",
                single.as_bytes(),
            )
            .await;
        assert_eq!(single.plan.conflicts.len(), 1, "{backend}: {single:?}");
        assert!(
            single.plan.conflicts[0].reason.contains("特困人员"),
            "{backend}"
        );
        testkit::builders::assert_audit_intact(&world.app, backend).await;
    }
}

#[tokio::test]
async fn issue12_gb18030_csv_and_xlsx_rolls_plan_alike_and_roles_are_checked() {
    for world in worlds().await {
        let backend = world.backend;
        let text = format!(
            "{HEADER},监测类型\n{},钱四,整户,2025-03-01,,渝乡振〔2025〕3号,铜梁区农业农村委,边缘易致贫户\n",
            world.d
        );
        let (gb, _, _) = encoding_rs::GB18030.encode(&text);
        let from_gb = world
            .plan(&world.agriculture, Category::Monitoring, "jc.csv", &gb)
            .await;
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (row, line) in text.lines().enumerate() {
            for (col, cell) in line.split(',').enumerate() {
                sheet.write_string(row as u32, col as u16, cell).unwrap();
            }
        }
        let xlsx = workbook.save_to_buffer().unwrap();
        let from_xlsx = world
            .plan(&world.agriculture, Category::Monitoring, "jc.xlsx", &xlsx)
            .await;
        assert_eq!(from_gb.plan.writes, from_xlsx.plan.writes, "{backend}");
        assert_eq!(from_gb.plan.writes.len(), 1, "{backend}: {from_gb:?}");

        // The monitoring roll is agriculture's; the assistance rolls civil affairs'.
        let upload = RollUpload {
            category: Category::Monitoring,
            file_name: "jc.csv",
            bytes: &gb,
        };
        for actor in [&world.civil, &world.town] {
            let refused = world.app.plan_roll(actor, &upload).await;
            assert!(matches!(refused, Err(AppError::Forbidden)), "{backend}");
        }
        let dibao = RollUpload {
            category: Category::Dibao,
            file_name: "d.csv",
            bytes: HEADER.as_bytes(),
        };
        let refused = world.app.plan_roll(&world.agriculture, &dibao).await;
        assert!(matches!(refused, Err(AppError::Forbidden)), "{backend}");

        // A file without a required column is refused as a whole, naming the column.
        let missing = RollUpload {
            category: Category::Dibao,
            file_name: "d.csv",
            bytes: "身份证号,姓名,保障范围,起始日期,审批文号,审批机关\n".as_bytes(),
        };
        match world.app.plan_roll(&world.civil, &missing).await {
            Err(error @ AppError::Invalid(_)) => {
                assert!(
                    error.message().contains("月保障金额"),
                    "{backend}: {}",
                    error.message()
                )
            }
            other => panic!("{backend}: {other:?}"),
        }

        // Staged on the page, accepted by its token.
        let staged = world
            .app
            .stage_roll(&world.agriculture, &upload)
            .await
            .unwrap();
        assert_eq!(
            world.count("SELECT COUNT(*) FROM category_periods").await,
            0
        );
        let accepted = world
            .app
            .accept_roll(&world.agriculture, Category::Monitoring, &staged.token)
            .await
            .unwrap();
        assert!(accepted.written, "{backend}");
        assert_eq!(
            world
                .count("SELECT COUNT(*) FROM category_periods WHERE category = 'monitoring' AND monitoring_kind = 'edge_prone'")
                .await,
            1
        );
        let unknown = world
            .app
            .accept_roll(&world.agriculture, Category::Monitoring, "0000")
            .await;
        assert!(matches!(unknown, Err(AppError::NotFound)), "{backend}");
    }
}

#[tokio::test]
async fn w1_the_recheck_list_is_keyset_paged_in_due_order_within_the_area() {
    for world in worlds().await {
        let backend = world.backend;
        let n = 120;
        let ids: Vec<String> = (0..n)
            .map(|i| {
                id(&format!(
                    "5002241970{:02}{:02}{:03}",
                    1 + i / 28,
                    1 + i % 28,
                    i
                ))
            })
            .collect();
        let lines: Vec<String> = ids
            .iter()
            .enumerate()
            .map(|(i, id_number)| {
                household(
                    &format!("P{i:03}"),
                    YONGYUAN,
                    &[(id_number, "某人", "head")],
                )
            })
            .collect();
        world
            .app
            .import_households("test", "more.jsonl", &lines.join("\n"), &|_| {})
            .await
            .unwrap();
        let mut roll = format!("{HEADER}\n");
        for (i, id_number) in ids.iter().enumerate() {
            let start = date("2025-01-01") + chrono::Days::new((i % 40) as u64);
            roll.push_str(&format!(
                "{id_number},某人,整户,{start},630,文{i},铜梁区民政局\n"
            ));
        }
        let written = world
            .import(&world.civil, Category::Dibao, "many.csv", roll.as_bytes())
            .await;
        assert_eq!(written.plan.writes.len(), n, "{backend}");

        let until = date("2030-01-01");
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = world
                .app
                .recheck_due(&world.town, until, after.as_deref())
                .await
                .unwrap();
            sizes.push(page.items.len());
            seen.extend(
                page.items
                    .iter()
                    .map(|item| (item.due_on, item.household_no.clone())),
            );
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(sizes, [50, 50, 20], "{backend}");
        let dues: Vec<_> = seen.iter().map(|(due, _)| *due).collect();
        assert!(dues.is_sorted(), "{backend}: in due order");
        let mut households: Vec<_> = seen.iter().map(|(_, id)| id.clone()).collect();
        households.sort();
        households.dedup();
        assert_eq!(households.len(), n, "{backend}: each once");
        // Another town sees none of them; a horizon before the first due date shows none.
        let elsewhere = make_actor(&world.app, "tuqiao", Role::TownReviewer, "500151100").await;
        let other = world
            .app
            .recheck_due(&elsewhere, until, None)
            .await
            .unwrap();
        assert!(other.items.is_empty(), "{backend}");
        let early = world
            .app
            .recheck_due(&world.town, date("2025-06-30"), None)
            .await
            .unwrap();
        assert!(early.items.is_empty(), "{backend}");
    }
}

/// A roll of district size is matched by one streamed read of each table instead of keyed
/// lookups (`store::rolls::STREAM_FROM`): both reads find the same open memberships, periods
/// and records, and the streamed ones leave out what the roll does not name.
#[tokio::test]
async fn issue12_streamed_roll_reads_find_what_keyed_lookups_find() {
    for world in worlds().await {
        let backend = world.backend;
        let roll = dibao_roll(&world);
        world
            .import(&world.civil, Category::Dibao, "dibao.csv", roll.as_bytes())
            .await;
        let mut conn = world.app.store().read().await.unwrap();
        let named = [world.a.as_str(), world.c.as_str(), world.outsider.as_str()];
        let mut keyed = store::rolls::members_of(&mut conn, &named).await.unwrap();
        let mut streamed = store::rolls::members_among(&mut conn, &named)
            .await
            .unwrap();
        keyed.sort();
        streamed.sort();
        assert_eq!(keyed.len(), 2, "{backend}: a and c, not the outsider");
        assert_eq!(keyed, streamed, "{backend}");

        let households: Vec<i64> = keyed.iter().map(|member| member.household_id).collect();
        let first = &households[..1];
        let key = |row: &store::households::CategoryPeriodRow| row.id;
        let mut keyed = store::rolls::periods_of(&mut conn, first).await.unwrap();
        let mut streamed = store::rolls::periods_among(&mut conn, first).await.unwrap();
        keyed.sort_by_key(key);
        streamed.sort_by_key(key);
        assert!(!keyed.is_empty(), "{backend}");
        assert!(keyed.iter().all(|row| row.household_id == first[0]));
        assert_eq!(keyed, streamed, "{backend}");

        let mut sorted = households.clone();
        sorted.sort_unstable();
        let mut keyed = Vec::new();
        store::rolls::for_each_record(&mut conn, &sorted, |row| {
            keyed.push(row);
            Ok::<_, store::StoreError>(())
        })
        .await
        .unwrap();
        let mut streamed = Vec::new();
        store::rolls::records_among(&mut conn, &sorted, |row| {
            streamed.push(row);
            Ok::<_, store::StoreError>(())
        })
        .await
        .unwrap();
        keyed.sort();
        streamed.sort();
        assert_eq!(keyed.len(), 2, "{backend}");
        assert!(
            keyed.iter().all(|row| row.last_check.is_some()),
            "{backend}: scheduled"
        );
        assert_eq!(keyed, streamed, "{backend}");
    }
}
