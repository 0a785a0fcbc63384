//! The store contract: one story, run on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (each test gets a fresh database of its own).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use domain::interchange::parse_household_line;
use domain::{Household, PlaceCode, parse_place_list};
use sqlx::Executor;
use store::audit::{AuditEvent, Chain, Verification};
use store::{Store, households};

async fn stores() -> Vec<(String, Store, tempfile::TempDir)> {
    let mut stores = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    stores.push((
        "sqlite".to_owned(),
        Store::connect(&url).await.unwrap(),
        dir,
    ));
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_store").await;
        stores.push((
            "postgres".to_owned(),
            Store::connect(&url).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

const PLACES: &str = "500151,铜梁区\n500151001,巴川街道\n500151001201,金龙村\n500151100,土桥镇\n500151100201,石河村\n";

fn household(id: &str, area: &str, members: &[(&str, &str, &str)]) -> Household {
    let members: Vec<String> = members
        .iter()
        .map(|(id_number, name, relation)| {
            format!(r#"{{"id_number":"{id_number}","name":"{name}","relation":"{relation}"}}"#)
        })
        .collect();
    parse_household_line(&format!(
        r#"{{"id":"{id}","area_code":"{area}","members":[{}]}}"#,
        members.join(",")
    ))
    .unwrap()
}

fn json(household: &Household) -> String {
    serde_json::to_string(&domain::interchange::HouseholdRecord::from(household)).unwrap()
}

#[tokio::test]
async fn d1_composition_history_answers_who_was_in_the_household_on_a_date() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
            .await
            .unwrap();
        let first = household(
            "H1",
            "500151001201",
            &[
                ("500224194503120011", "张三", "head"),
                ("500224195003150315", "李秀英", "spouse"),
            ],
        );
        let id = households::insert(
            &mut tx,
            &first,
            &json(&first),
            "2025-01-01",
            "2025-01-01T08:00:00Z",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let second = household(
            "H1",
            "500151001201",
            &[
                ("500224194503120011", "张三", "head"),
                ("500224201609090714", "王小明", "grandchild"),
            ],
        );
        households::update(
            &mut tx,
            id,
            1,
            &second,
            &json(&second),
            "2025-07-01",
            "2025-07-01T08:00:00Z",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        let names = |rows: Vec<households::MembershipRow>| {
            rows.into_iter().map(|row| row.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(
                households::members_on(&mut conn, id, "2025-06-30")
                    .await
                    .unwrap()
            ),
            ["张三", "李秀英"],
            "{backend}"
        );
        assert_eq!(
            names(
                households::members_on(&mut conn, id, "2025-07-01")
                    .await
                    .unwrap()
            ),
            ["张三", "王小明"],
            "{backend}"
        );
        assert_eq!(
            households::membership_history(&mut conn, id)
                .await
                .unwrap()
                .len(),
            3,
            "{backend}"
        );
        // A stale version is refused instead of overwriting someone else's change.
        drop(conn);
        let mut tx = store.begin().await.unwrap();
        let stale = households::update(
            &mut tx,
            id,
            1,
            &second,
            &json(&second),
            "2025-08-01",
            "2025-08-01T08:00:00Z",
        )
        .await;
        assert!(
            matches!(stale, Err(store::StoreError::Conflict(_))),
            "{backend}"
        );
        tx.rollback().await.unwrap();
        // 不重不漏: the person is a member here, and nowhere else.
        let mut conn = store.read().await.unwrap();
        assert_eq!(
            households::open_membership(&mut conn, "500224201609090714", None)
                .await
                .unwrap()
                .as_deref(),
            Some("H1")
        );
        assert_eq!(
            households::open_membership(&mut conn, "500224201609090714", Some(id))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            households::open_membership(&mut conn, "500224195003150315", None)
                .await
                .unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn d2_category_periods_answer_who_was_in_which_category_on_a_date() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
            .await
            .unwrap();
        let a = household(
            "HA",
            "500151001201",
            &[("500224194503120011", "张三", "head")],
        );
        let b = household(
            "HB",
            "500151100201",
            &[("500224195003150315", "李秀英", "head")],
        );
        let a_id = households::insert(&mut tx, &a, &json(&a), "2025-01-01", "t")
            .await
            .unwrap();
        let b_id = households::insert(&mut tx, &b, &json(&b), "2025-01-01", "t")
            .await
            .unwrap();
        let period = |household_id, start| households::NewCategoryPeriod {
            household_id,
            id_number: None,
            category: "dibao",
            monitoring_kind: None,
            start_date: start,
            monthly_fen: Some(79_000),
            reason: "case C-1",
        };
        let a_period = households::open_category(&mut tx, &period(a_id, "2025-03-01"))
            .await
            .unwrap();
        households::open_category(&mut tx, &period(b_id, "2025-05-01"))
            .await
            .unwrap();
        households::close_category(&mut tx, a_period, "2025-09-01")
            .await
            .unwrap();
        assert!(matches!(
            households::close_category(&mut tx, a_period, "2025-10-01").await,
            Err(store::StoreError::NotFound)
        ));
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        let on = |date: &'static str, area: &'static str| {
            let store = store.clone();
            async move {
                let mut conn = store.read().await.unwrap();
                households::in_category_on(&mut conn, "dibao", date, area)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            on("2025-02-28", "500151").await,
            Vec::<i64>::new(),
            "{backend}"
        );
        assert_eq!(on("2025-04-01", "500151").await, [a_id]);
        assert_eq!(on("2025-06-01", "500151").await, [a_id, b_id]);
        assert_eq!(on("2025-06-01", "500151100").await, [b_id]);
        assert_eq!(on("2025-09-01", "500151").await, [b_id]);
        assert_eq!(
            households::category_history(&mut conn, a_id).await.unwrap()[0]
                .end_date
                .as_deref(),
            Some("2025-09-01")
        );
    }
}

#[tokio::test]
async fn u2_search_stays_inside_the_area() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
            .await
            .unwrap();
        let a = household(
            "HA",
            "500151001201",
            &[("500224194503120011", "张三", "head")],
        );
        let b = household(
            "HB",
            "500151100201",
            &[("500224195003150315", "张四", "head")],
        );
        households::insert(&mut tx, &a, &json(&a), "2025-01-01", "t")
            .await
            .unwrap();
        households::insert(&mut tx, &b, &json(&b), "2025-01-01", "t")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let ids = |(rows, _): (Vec<households::HouseholdSummary>, i64)| {
            rows.into_iter().map(|r| r.external_id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(households::search(&mut conn, "500151", "张", 50, 0)
                .await
                .unwrap()),
            ["HA", "HB"],
            "{backend}"
        );
        assert_eq!(
            ids(households::search(&mut conn, "500151001", "张", 50, 0)
                .await
                .unwrap()),
            ["HA"],
            "{backend}"
        );
        assert_eq!(
            ids(households::search(&mut conn, "500151001", "张四", 50, 0)
                .await
                .unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(
                households::search(&mut conn, "500151", "500224195003", 50, 0)
                    .await
                    .unwrap()
            ),
            ["HB"]
        );
        assert_eq!(
            ids(households::search(&mut conn, "500151", "土桥", 50, 0)
                .await
                .unwrap()),
            Vec::<String>::new()
        );
        assert_eq!(
            ids(households::search(&mut conn, "500151", "500151100", 50, 0)
                .await
                .unwrap()),
            ["HB"]
        );
        assert_eq!(
            ids(households::search(&mut conn, "500151", "金龙", 50, 0)
                .await
                .unwrap()),
            ["HA"]
        );
        assert_eq!(
            households::search(&mut conn, "500151", "", 1, 0)
                .await
                .unwrap()
                .1,
            2
        );
        let _ = PlaceCode::parse("500151").unwrap();
    }
}

fn event(n: usize) -> AuditEvent {
    AuditEvent {
        at: format!("2025-01-01T00:00:{n:02}Z"),
        actor: "tester".into(),
        action: "household.update".into(),
        entity: "household".into(),
        entity_id: format!("H{n}"),
        area_code: Some("500151001201".into()),
        before: Some(r#"{"a":1}"#.into()),
        after: Some(r#"{"a":2}"#.into()),
    }
}

#[tokio::test]
async fn audit_verify_finds_an_edited_a_deleted_and_a_truncated_row() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        let mut chain = Chain::lock(&mut tx).await.unwrap();
        for n in 0..5 {
            chain.append(&mut tx, &event(n)).await.unwrap();
        }
        chain.finish(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        store::audit::append_one(&mut tx, &event(5)).await.unwrap();
        tx.commit().await.unwrap();

        // Tampering goes through the writer (readers are query-only on SQLite).
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(
            store::audit::verify(&mut conn).await.unwrap(),
            Verification::Intact { rows: 6 },
            "{backend}"
        );
        conn.execute("UPDATE audit_log SET after_json = '{\"a\":3}' WHERE seq = 3")
            .await
            .unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn).await.unwrap(),
                Verification::Broken { seq: 3, .. }
            ),
            "{backend}"
        );
        conn.execute("UPDATE audit_log SET after_json = '{\"a\":2}' WHERE seq = 3")
            .await
            .unwrap();
        conn.execute("DELETE FROM audit_log WHERE seq = 4")
            .await
            .unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn).await.unwrap(),
                Verification::Broken { seq: 4, .. }
            ),
            "{backend}"
        );
        conn.execute("DELETE FROM audit_log WHERE seq >= 4")
            .await
            .unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn).await.unwrap(),
                Verification::Broken { seq: 4, .. }
            ),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn p1_case_history_is_appended_in_order_and_the_summary_moves_only_at_its_version() {
    use store::cases::{CaseEventRow, CaseSummary, NewCase};
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        let new_case = |tracking_number| NewCase {
            tracking_number,
            kind: "application",
            household_external_id: "H9",
            household_id: None,
            area_code: "500151001201",
            step: "received",
            received_on: "2026-11-02",
            now: "2026-11-02T02:00:00Z",
        };
        let id = store::cases::insert(&mut tx, &new_case("TL20261102-0001"))
            .await
            .unwrap();
        let event = |seq: i64, fact: &str| CaseEventRow {
            case_id: id,
            seq,
            on_date: "2026-11-02".to_owned(),
            actor_user_id: 1,
            actor_role: "town_reviewer".to_owned(),
            actor_area: "500151001".to_owned(),
            fact: fact.to_owned(),
            recorded_at: "2026-11-02T02:00:00Z".to_owned(),
        };
        store::cases::append_events(&mut tx, &[event(1, "{\"a\":1}"), event(2, "{\"b\":2}")])
            .await
            .unwrap();
        let summary = CaseSummary {
            household_id: None,
            step: "comparing",
            step_since: "2026-11-03",
            closed_on: None,
            refusal_notice_on: None,
            now: "2026-11-03T02:00:00Z",
        };
        store::cases::update_summary(&mut tx, id, 1, &summary)
            .await
            .unwrap();
        store::commit(tx).await.unwrap();

        let mut conn = store.read().await.unwrap();
        let facts: Vec<String> = store::cases::events(&mut conn, id)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.fact)
            .collect();
        assert_eq!(facts, ["{\"a\":1}", "{\"b\":2}"], "{backend}");
        let row = store::cases::by_tracking_number(&mut conn, "TL20261102-0001")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.step.as_str(), row.version),
            ("comparing", 2),
            "{backend}"
        );
        let open = store::cases::open_in_area(&mut conn, "500151001")
            .await
            .unwrap();
        assert_eq!(open.len(), 1, "{backend}");
        let in_work = store::cases::events_in_work(&mut conn, "500151001")
            .await
            .unwrap();
        assert_eq!(
            in_work
                .iter()
                .map(|e| (e.case_id, e.seq))
                .collect::<Vec<_>>(),
            [(id, 1), (id, 2)],
            "{backend}: one query reads the histories of the cases in work"
        );
        assert!(
            store::cases::events_in_work(&mut conn, "500151100")
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );
        assert_eq!(
            store::cases::count_tracking_prefix(&mut conn, "TL20261102-")
                .await
                .unwrap(),
            1
        );
        drop(conn);

        // A stale version, a taken sequence number and a taken tracking number are conflicts.
        let mut tx = store.begin().await.unwrap();
        let stale = store::cases::update_summary(&mut tx, id, 1, &summary).await;
        assert!(
            matches!(stale, Err(store::StoreError::Conflict(_))),
            "{backend}"
        );
        store::rollback(tx).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let taken = store::cases::append_events(&mut tx, &[event(2, "{}")]).await;
        assert!(
            matches!(taken, Err(store::StoreError::Conflict(_))),
            "{backend}"
        );
        store::rollback(tx).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let twice = store::cases::insert(&mut tx, &new_case("TL20261102-0001")).await;
        assert!(
            matches!(twice, Err(store::StoreError::Conflict(_))),
            "{backend}"
        );
        store::rollback(tx).await.unwrap();
    }
}

/// 政策参数 added in the product: rows are appended and listed in the order they were added,
/// with the name of the user who added them; a correction at the same date is a new row.
#[tokio::test]
async fn policy_values_are_appended_and_listed_in_order() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
            .await
            .unwrap();
        let user = store::users::insert(
            &mut tx,
            &store::users::NewUser {
                username: "minzheng",
                display_name: "区民政局甲",
                role: "district_civil_affairs",
                area_code: "500151",
                department: None,
                password_hash: "x",
                created_at: "2026-06-01T00:00:00Z",
            },
        )
        .await
        .unwrap();
        for (value, source, note) in [
            ("660", "渝民规〔2026〕3号", None),
            ("665", "渝民规〔2026〕3号（更正）", Some("录入错误")),
        ] {
            store::policy::insert(
                &mut tx,
                &store::policy::NewPolicyValue {
                    param: "dibao.standard.rural",
                    since: "2026-07-01",
                    value,
                    source,
                    status: "confirmed",
                    note,
                    created_at: "2026-06-02T00:00:00Z",
                    created_by: user,
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let rows = store::policy::list(&mut conn).await.unwrap();
        let values: Vec<(&str, Option<&str>, &str)> = rows
            .iter()
            .map(|row| {
                (
                    row.value.as_str(),
                    row.note.as_deref(),
                    row.created_by_name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                ("660", None, "区民政局甲"),
                ("665", Some("录入错误"), "区民政局甲")
            ],
            "{backend}"
        );
        assert!(rows[0].id < rows[1].id, "{backend}");
        // An unknown status is refused by the table itself.
        let mut tx = store.begin().await.unwrap();
        let refused = store::policy::insert(
            &mut tx,
            &store::policy::NewPolicyValue {
                param: "dibao.standard.rural",
                since: "2026-07-01",
                value: "1",
                source: "x",
                status: "rumour",
                note: None,
                created_at: "2026-06-02T00:00:00Z",
                created_by: user,
            },
        )
        .await;
        assert!(refused.is_err(), "{backend}");
    }
}
