//! 救助帮扶 storage on SQLite and PostgreSQL: item versions are kept, referrals and their
//! history round-trip, and the database itself refuses a second delivery of an item to a
//! household in one period (the backstop behind `app`'s check, for concurrent deliveries).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use domain::interchange::parse_household_line;
use domain::parse_place_list;
use store::assistance::{self, ItemVersionRow, NewReferral, ReferralEventRow, ReferralUpdate};
use store::{Store, StoreError};

async fn stores() -> Vec<(String, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), "store").await;
    let mut stores = vec![(
        "sqlite".to_owned(),
        Store::connect(&url).await.unwrap(),
        dir,
    )];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_assist").await;
        stores.push((
            "postgres".to_owned(),
            Store::connect(&url).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

fn referral<'a>(household_id: i64, period: &'a str) -> NewReferral<'a> {
    NewReferral {
        household_id,
        area_code: "500151001201",
        item_code: "medical_assistance",
        item_version: 1,
        department: "medical_security",
        needs: "medical",
        reason: "有医疗需求",
        period,
        state: "sent",
        created_on: "2026-11-02",
        created_by: "bachuan#1",
        now: "2026-11-02T02:00:00Z",
        supplementary_reason: None,
    }
}

fn delivered(on: &str) -> ReferralUpdate<'_> {
    ReferralUpdate {
        state: "delivered",
        accepted_on: Some(on),
        delivered_on: Some(on),
        amount_fen: Some(120_050),
        note: None,
        declined_on: None,
        decline_reason: None,
        now: "2026-11-03T02:00:00Z",
    }
}

/// What `seeded` wrote: the household H1 in 金龙村 and its referrals.
struct Seeded {
    hid: i64,
    /// 医疗救助 of 2026, with its first event.
    first: i64,
    /// 医疗救助 of 2026 again.
    second: i64,
    /// 医疗救助 of 2027.
    next_year: i64,
    /// 补充帮扶: the charity's item of 2026, with its written reason.
    charity: i64,
}

/// The places, H1, two versions of 医疗救助 and H1's referrals, in one transaction.
async fn seeded(store: &Store) -> Seeded {
    let mut tx = store.begin().await.unwrap();
    store::places::upsert_all(
        &mut tx,
        &parse_place_list("500151,铜梁区\n500151001,巴川街道\n500151001201,金龙村\n").unwrap(),
    )
    .await
    .unwrap();
    let household = parse_household_line(
        r#"{"id":"H1","area_code":"500151001201","members":[{"id_number":"500224194503120011","name":"张三","relation":"head"}]}"#,
    )
    .unwrap();
    let record =
        serde_json::to_string(&domain::interchange::HouseholdRecord::from(&household)).unwrap();
    let hid = store::households::insert(
        &mut tx,
        &household,
        &record,
        "2026-01-01",
        "2026-01-01T00:00:00Z",
    )
    .await
    .unwrap();
    for version in [1, 2] {
        assistance::insert_item_version(
            &mut tx,
            &ItemVersionRow {
                code: domain::ItemCode::parse("medical_assistance").unwrap(),
                version,
                definition: format!("{{\"v\":{version}}}"),
                changed_at: "2026-11-01T00:00:00Z".parse().unwrap(),
                changed_by: "test".into(),
            },
        )
        .await
        .unwrap();
    }
    let first = assistance::insert_referral(&mut tx, &referral(hid, "2026"))
        .await
        .unwrap();
    let second = assistance::insert_referral(&mut tx, &referral(hid, "2026"))
        .await
        .unwrap();
    let next_year = assistance::insert_referral(&mut tx, &referral(hid, "2027"))
        .await
        .unwrap();
    // 补充帮扶: the charity's item on top, with its written reason.
    let charity = assistance::insert_referral(
        &mut tx,
        &NewReferral {
            item_code: "charity_medical",
            department: "charity",
            supplementary_reason: Some("住院自付仍超过两万元"),
            ..referral(hid, "2026")
        },
    )
    .await
    .unwrap();
    assistance::append_event(
        &mut tx,
        &ReferralEventRow {
            referral_id: first,
            seq: 1,
            on_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            state: domain::states::ReferralState::Sent,
            actor: "bachuan#1".into(),
            note: "转介".into(),
            recorded_at: "2026-11-02T02:00:00Z".parse().unwrap(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Seeded {
        hid,
        first,
        second,
        next_year,
        charity,
    }
}

/// Referral `id` (at version 1) delivered `on`.
async fn deliver(store: &Store, id: i64, on: &str) {
    let mut tx = store.begin().await.unwrap();
    assistance::update_referral(&mut tx, id, 1, &delivered(on))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A stale version is a conflict; a second delivery in the same period is refused by the
/// database and nothing changes; another period is another payment; the history round-trips.
#[tokio::test]
async fn a2_one_delivery_per_household_item_and_period() {
    for (backend, store, _dir) in stores().await {
        let Seeded {
            hid,
            first,
            second,
            next_year,
            ..
        } = seeded(&store).await;
        let mut tx = store.begin().await.unwrap();
        assistance::update_referral(&mut tx, first, 1, &delivered("2026-11-03"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // A stale version is a conflict.
        let mut tx = store.begin().await.unwrap();
        let stale = assistance::update_referral(&mut tx, first, 1, &delivered("2026-11-03")).await;
        assert!(
            matches!(stale, Err(StoreError::Conflict(_))),
            "{backend}: {stale:?}"
        );
        tx.rollback().await.unwrap();
        // A second delivery in the same period is refused by the database, and nothing changes.
        let mut tx = store.begin().await.unwrap();
        let twice = assistance::update_referral(&mut tx, second, 1, &delivered("2026-11-04")).await;
        assert!(
            matches!(twice, Err(StoreError::Conflict(_))),
            "{backend}: {twice:?}"
        );
        tx.rollback().await.unwrap();
        // Another period is another payment.
        let mut tx = store.begin().await.unwrap();
        assistance::update_referral(&mut tx, next_year, 1, &delivered("2026-11-04"))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut conn = store.read().await.unwrap();
        let rows = assistance::for_household(&mut conn, hid).await.unwrap();
        let states: Vec<(&str, domain::GivenPeriod)> =
            rows.iter().map(|r| (r.state.code(), r.period)).collect();
        assert_eq!(
            states,
            [
                ("delivered", domain::GivenPeriod::Year(2026)),
                ("sent", domain::GivenPeriod::Year(2026)),
                ("delivered", domain::GivenPeriod::Year(2027)),
                ("sent", domain::GivenPeriod::Year(2026))
            ],
            "{backend}"
        );
        assert_eq!(rows[0].amount_fen, Some(120_050), "{backend}");
        assert_eq!(rows[0].household_external_id, "H1", "{backend}");
        let events = assistance::events(&mut conn, first).await.unwrap();
        assert_eq!(events.len(), 1, "{backend}");
    }
}

/// 补充帮扶: a supplementary referral keeps its written reason; the others have none.
#[tokio::test]
async fn a2_a_supplement_keeps_its_written_reason() {
    for (backend, store, _dir) in stores().await {
        let Seeded { hid, charity, .. } = seeded(&store).await;
        let mut conn = store.read().await.unwrap();
        let rows = assistance::for_household(&mut conn, hid).await.unwrap();
        let reasons: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.supplementary_reason.as_deref())
            .collect();
        assert_eq!(
            reasons,
            [None, None, None, Some("住院自付仍超过两万元")],
            "{backend}"
        );
        assert_eq!(
            assistance::get_referral(&mut conn, charity)
                .await
                .unwrap()
                .unwrap()
                .supplementary_reason
                .as_deref(),
            Some("住院自付仍超过两万元"),
            "{backend}"
        );
    }
}

/// Both versions of an item remain, the newest current; the referral queue reads by area,
/// department and state.
#[tokio::test]
async fn a2_item_versions_are_kept_and_the_queue_reads_by_area_department_and_state() {
    for (backend, store, _dir) in stores().await {
        let Seeded {
            first,
            second,
            next_year,
            ..
        } = seeded(&store).await;
        deliver(&store, first, "2026-11-03").await;
        deliver(&store, next_year, "2026-11-04").await;
        let mut conn = store.read().await.unwrap();
        // Both versions of the item remain; the newest is current.
        let current = assistance::current_items(&mut conn).await.unwrap();
        assert_eq!(current.len(), 1, "{backend}");
        assert_eq!(current[0].version, 2, "{backend}");
        assert_eq!(
            assistance::item_version(&mut conn, "medical_assistance", 1)
                .await
                .unwrap()
                .unwrap()
                .definition,
            "{\"v\":1}",
            "{backend}"
        );
        let queue = assistance::in_area(
            &mut conn,
            &assistance::ReferralFilter {
                area_prefix: "500151001",
                department: Some("medical_security"),
                state: Some("sent"),
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            queue.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [second],
            "{backend}"
        );
        let other = assistance::in_area(
            &mut conn,
            &assistance::ReferralFilter {
                area_prefix: "500151100",
                limit: 10,
                ..assistance::ReferralFilter::default()
            },
        )
        .await
        .unwrap();
        assert!(other.rows.is_empty(), "{backend}");
    }
}
