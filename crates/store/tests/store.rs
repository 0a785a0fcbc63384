//! The store contract: one story, run on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set (each test gets a fresh database of its own).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use domain::interchange::parse_household_line;
use domain::{Household, parse_place_list};
use sqlx::Executor;
use store::audit::{AuditEvent, Chain, Verification};
use store::{Store, households, search};

async fn stores() -> Vec<(String, Store, tempfile::TempDir)> {
    let mut stores = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), "store").await;
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

/// Loads `PLACES` into `store`.
async fn load_places(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();
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
                .as_ref()
                .map(|household_no| household_no.as_str()),
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
        let a_id = households::insert(
            &mut tx,
            &a,
            &json(&a),
            "2025-01-01",
            "2025-01-01T00:00:00.000000Z",
        )
        .await
        .unwrap();
        let b_id = households::insert(
            &mut tx,
            &b,
            &json(&b),
            "2025-01-01",
            "2025-01-01T00:00:00.000000Z",
        )
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
            support_mode: None,
            care_level: None,
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
                .map(|day| day.to_string()),
            Some("2025-09-01".to_owned())
        );
    }
}

/// A valid 18-digit ID number, different for each `serial` (born 1950–1999).
fn id_number(serial: u32) -> String {
    let year = 1950 + serial / 28_000;
    let day = 1 + (serial / 1000) % 28;
    let first17 = format!("500224{year:04}07{day:02}{:03}", serial % 1000);
    let check = domain::national_id::check_char(first17.as_bytes());
    format!("{first17}{check}")
}

/// The external ids of one search page.
async fn found(
    conn: &mut store::Conn,
    scope: &str,
    query: &str,
) -> (Vec<String>, store::search::SearchBy) {
    let page = search::search(conn, scope, query, None, 50).await.unwrap();
    (
        page.rows
            .into_iter()
            .map(|row| row.external_id.into_string())
            .collect(),
        page.by,
    )
}

/// An ID number ending in X, for the check character typed in lower case.
fn id_number_with_x() -> String {
    (100..).map(id_number).find(|id| id.ends_with('X')).unwrap()
}

/// Three households for the search: HA (张三 and 张三丰) in 金龙村 of 巴川街道, HB (张四) and
/// HW (李小_ and 李小华明, the head's ID number ending in X) in 石河村 of 土桥镇.
async fn seed_search(store: &Store) {
    let with_x = id_number_with_x();
    let mut tx = store.begin().await.unwrap();
    store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
        .await
        .unwrap();
    let a = household(
        "HA",
        "500151001201",
        &[
            ("500224194503120011", "张三", "head"),
            (&id_number(1), "张三丰", "child"),
        ],
    );
    let b = household(
        "HB",
        "500151100201",
        &[("500224195003150315", "张四", "head")],
    );
    let w = household(
        "HW",
        "500151100201",
        &[
            (&with_x, "李小_", "head"),
            (&id_number(2), "李小华明", "spouse"),
        ],
    );
    households::insert_many(
        &mut tx,
        &[(&a, &json(&a)), (&b, &json(&b)), (&w, &json(&w))],
        "2025-01-01",
        "2025-01-01T00:00:00.000000Z",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn i12_search_recognises_each_kind_inside_the_area() {
    use store::search::SearchBy::*;
    let with_x = id_number_with_x();
    for (backend, store, _dir) in stores().await {
        seed_search(&store).await;
        let mut conn = store.read().await.unwrap();
        let cases: &[(&str, &str, &[&str], store::search::SearchBy)] = &[
            // Name parts of one, two, three and more characters; a household once however
            // many of its members match.
            ("500151", "张", &["HA", "HB"], Name),
            ("500151001", "张", &["HA"], Name),
            ("500151", "张三", &["HA"], Name),
            ("500151", "张三丰", &["HA"], Name),
            ("500151", "三丰", &["HA"], Name),
            ("500151001", "张四", &[], Name),
            ("500151", "李小华明", &["HW"], Name),
            // Wildcards typed are plain characters: `_` is a name's underscore, `%` nothing.
            ("500151", "%", &[], Name),
            ("500151", "_", &["HW"], Name),
            ("500151", "李小_明", &[], Name),
            // ID number prefixes, down to the check character (x as X), one line per member.
            ("500151", "500224195003", &["HB"], IdNumber),
            ("500151", &with_x.to_lowercase(), &["HW"], IdNumber),
            ("500151001", "500224195003", &[], IdNumber),
            // Household numbers (户编号) by prefix, any case.
            ("500151", "hb", &["HB"], HouseholdNumber),
            ("500151", "H", &["HA", "HB", "HW"], HouseholdNumber),
            ("500151001", "H", &["HA"], HouseholdNumber),
            // Area codes and the names of towns and villages, with or without 镇/村.
            ("500151", "500151100", &["HB", "HW"], AreaCode),
            ("500151", "500151", &["HA", "HB", "HW"], AreaCode),
            ("500151001", "500151100", &[], AreaCode),
            ("500151", "土桥", &["HB", "HW"], PlaceName),
            ("500151", "土桥镇", &["HB", "HW"], PlaceName),
            ("500151", "金龙", &["HA"], PlaceName),
            ("500151", "金龙村", &["HA"], PlaceName),
            ("500151001", "土桥", &[], PlaceName),
            ("500151100", "铜梁区", &["HB", "HW"], PlaceName),
            ("500151", "", &["HA", "HB", "HW"], Everything),
            ("500151100", "", &["HB", "HW"], Everything),
        ];
        for (scope, query, expected, by) in cases {
            assert_eq!(
                found(&mut conn, scope, query).await,
                (expected.iter().map(|id| id.to_string()).collect(), *by),
                "{backend}: {query:?} in {scope}"
            );
        }
        let page = search::search(&mut conn, "500151", "500224195003", None, 50)
            .await
            .unwrap();
        assert_eq!(
            page.rows[0].matched_name.as_deref(),
            Some("张四"),
            "{backend}"
        );
        assert_eq!(
            page.total,
            search::Total {
                count: 1,
                capped: false
            }
        );
    }
}

#[tokio::test]
async fn i12_the_name_index_follows_a_rename_a_move_and_a_member_leaving() {
    for (backend, store, _dir) in stores().await {
        seed_search(&store).await;
        // The name index follows a rename, a move to another town and a member leaving.
        let mut tx = store.begin().await.unwrap();
        let stored = households::by_external_id(&mut tx, "HB")
            .await
            .unwrap()
            .unwrap();
        let moved = household(
            "HB",
            "500151001201",
            &[("500224195003150315", "赵四", "head")],
        );
        households::update(
            &mut tx,
            stored.id,
            1,
            &moved,
            &json(&moved),
            "2025-02-01",
            "2025-02-01T00:00:00.000000Z",
        )
        .await
        .unwrap();
        let stored = households::by_external_id(&mut tx, "HA")
            .await
            .unwrap()
            .unwrap();
        let left = household(
            "HA",
            "500151001201",
            &[("500224194503120011", "张三", "head")],
        );
        households::update(
            &mut tx,
            stored.id,
            1,
            &left,
            &json(&left),
            "2025-02-01",
            "2025-02-01T00:00:00.000000Z",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        for (scope, query, expected) in [
            ("500151001", "赵", vec!["HB"]),
            ("500151100", "赵四", vec![]),
            ("500151", "张四", vec![]),
            ("500151", "张", vec!["HA"]),
            ("500151", "三丰", vec![]),
        ] {
            assert_eq!(
                found(&mut conn, scope, query).await.0,
                expected,
                "{backend}: {query} in {scope} after the update"
            );
        }
    }
}

#[tokio::test]
async fn i12_keyset_pages_have_no_duplicates_or_gaps_while_rows_are_inserted() {
    for (backend, store, _dir) in stores().await {
        load_places(&store).await;
        let villages = ["500151001201", "500151100201"];
        let insert = |from: u32, to: u32| {
            let store = store.clone();
            async move {
                let made: Vec<Household> = (from..to)
                    .map(|n| {
                        household(
                            &format!("TL{n:05}"),
                            villages[(n % 2) as usize],
                            &[(&id_number(n), &format!("周{n}"), "head")],
                        )
                    })
                    .collect();
                let records: Vec<String> = made.iter().map(json).collect();
                let rows: Vec<(&Household, &str)> = made
                    .iter()
                    .zip(&records)
                    .map(|(household, record)| (household, record.as_str()))
                    .collect();
                let mut tx = store.begin().await.unwrap();
                households::insert_many(
                    &mut tx,
                    &rows,
                    "2025-01-01",
                    "2025-01-01T00:00:00.000000Z",
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        };
        insert(0, 130).await;
        let mut next_serial = 130;
        for query in ["周", "", "TL", "5002241950"] {
            let mut seen: Vec<String> = Vec::new();
            let mut after = None;
            let mut n_pages = 0;
            loop {
                let mut conn = store.read().await.unwrap();
                let page = search::search(&mut conn, "500151", query, after.as_ref(), 50)
                    .await
                    .unwrap();
                drop(conn);
                assert!(page.rows.len() <= 50, "{backend}: {query}");
                seen.extend(page.rows.into_iter().map(|row| {
                    row.matched_id_number
                        .map_or_else(|| row.external_id.into_string(), |id| id.to_string())
                }));
                n_pages += 1;
                // Rows arrive between pages: those after the cursor are read, none twice.
                if n_pages == 1 {
                    insert(next_serial, next_serial + 10).await;
                    next_serial += 10;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
            assert_eq!(
                unique.len(),
                seen.len(),
                "{backend}: {query} has duplicates"
            );
            assert!(
                seen.len() >= 130,
                "{backend}: {query} has gaps: {}",
                seen.len()
            );
            assert!(n_pages >= 3, "{backend}: {query}");
        }
        // Totals stop at the cap instead of recounting the registry.
        let mut conn = store.read().await.unwrap();
        let page = search::search(&mut conn, "500151", "周", None, 50)
            .await
            .unwrap();
        assert!(!page.total.capped, "{backend}");
        assert!(page.total.count >= 130, "{backend}");
        // A cursor of another kind of search is refused, not misread.
        let cursor = search::SearchCursor::Household {
            external_id: domain::HouseholdNo::parse("TL00001").unwrap(),
        };
        assert!(
            search::search(&mut conn, "500151", "周", Some(&cursor), 50)
                .await
                .is_err()
        );
    }
}

/// The large tables a request must never read whole.
const LARGE_TABLES: [&str; 9] = [
    "households",
    "persons",
    "memberships",
    "person_name_grams",
    "category_periods",
    "cases",
    "warnings",
    "referrals",
    "contacts",
];

/// Whether a plan line reads a table whole: a PostgreSQL `Seq Scan` of a large table, or a
/// SQLite `SCAN` of any table without an index (a `SCAN … USING INDEX` walks an index in the
/// page's order and stops at the page; a `SCAN` of a subquery's result, `k` or `c`, is its rows).
fn scans_whole_table(line: &str) -> bool {
    let line = line.trim_start_matches([' ', '-', '>']).trim();
    if let Some(rest) = line.split("Seq Scan on ").nth(1) {
        let table = rest.split_whitespace().next().unwrap_or("");
        return LARGE_TABLES.contains(&table);
    }
    match line.strip_prefix("SCAN ") {
        Some(rest) => {
            !rest.contains(" USING ") && !matches!(rest.split_whitespace().next(), Some("k" | "c"))
        }
        None => false,
    }
}

#[tokio::test]
async fn i12_every_search_query_is_served_by_an_index() {
    const N_HOUSEHOLDS: u32 = 4000;
    let surnames = [
        "张", "李", "王", "刘", "陈", "杨", "赵", "黄", "周", "吴", "欧阳",
    ];
    let given = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军"];
    // Eight towns of two villages each: one town holds an eighth of the registry, as a town
    // holds a small part of a district.
    let mut places = PLACES.to_owned();
    let mut villages = vec!["500151001201".to_owned(), "500151100201".to_owned()];
    for town in 101..107 {
        places.push_str(&format!("500151{town},第{town}镇\n"));
        for village in [201, 202] {
            places.push_str(&format!("500151{town}{village},第{town}镇{village}村\n"));
            villages.push(format!("500151{town}{village}"));
        }
    }
    villages.extend(["500151001202".to_owned(), "500151100202".to_owned()]);
    places.push_str("500151001202,金凤村\n500151100202,石龙村\n");
    let made: Vec<Household> = (0..N_HOUSEHOLDS)
        .map(|n| {
            let surname = surnames[(n % 11) as usize];
            household(
                &format!("TL{n:06}"),
                &villages[n as usize % villages.len()],
                &[
                    (
                        &id_number(3 * n),
                        &format!("{surname}{}", given[(n % 10) as usize]),
                        "head",
                    ),
                    (
                        &id_number(3 * n + 1),
                        &format!(
                            "{surname}{}{}",
                            given[(n / 10 % 10) as usize],
                            given[(n / 100 % 10) as usize]
                        ),
                        "child",
                    ),
                    (&id_number(3 * n + 2), "孙小红", "spouse"),
                ],
            )
        })
        .collect();
    let records: Vec<String> = made.iter().map(json).collect();
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(&places).unwrap())
            .await
            .unwrap();
        let rows: Vec<(&Household, &str)> = made
            .iter()
            .zip(&records)
            .map(|(household, record)| (household, record.as_str()))
            .collect();
        households::insert_many(&mut tx, &rows, "2025-01-01", "2025-01-01T00:00:00.000000Z")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        testkit::refresh_statistics(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let queries = [
            "",
            "500151100",
            "500151001201",
            "土桥",
            "金龙村",
            "张",
            "欧阳",
            "张秀英",
            "欧阳秀英",
            "孙",
            "5002241950",
            "50022419500701",
            "TL0001",
            "tl",
            "%",
        ];
        // The district, a town, and a village (whose ID-number prefixes are read by area).
        for scope in ["500151", "500151100", "500151001201"] {
            for query in queries {
                for statement in search::statements(&mut conn, scope, query).await.unwrap() {
                    let plan = search::explain(&mut conn, &statement).await.unwrap();
                    assert!(
                        !plan.iter().any(|line| scans_whole_table(line)),
                        "{backend}: {query:?} in {scope} reads a table whole:\n{}\n{}",
                        statement.sql,
                        plan.join("\n")
                    );
                }
            }
        }
        // A name part found everywhere is counted up to the cap, not through the registry.
        let page = search::search(&mut conn, "500151", "孙", None, 50)
            .await
            .unwrap();
        assert_eq!(
            page.total,
            search::Total {
                count: search::TOTAL_CAP,
                capped: true
            },
            "{backend}"
        );
    }
}

#[tokio::test]
async fn i12_the_user_list_is_keyset_paged_by_area_then_name() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
            .await
            .unwrap();
        let areas = ["500151001", "500151100", "500151001201"];
        for n in 0..130 {
            store::users::insert(
                &mut tx,
                &store::users::NewUser {
                    username: &format!("u{:03}", (n * 37) % 130),
                    display_name: "用户",
                    role: "village_assistant",
                    area_code: areas[n % 3],
                    department: None,
                    password_hash: "x",
                    created_at: "2026-06-01T00:00:00.000000Z",
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let filter = store::users::UserFilter {
            area_prefix: "500151",
            role: None,
        };
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut after = None;
        loop {
            let page = store::users::list(&mut conn, &filter, 50, after)
                .await
                .unwrap();
            seen.extend(
                page.iter()
                    .map(|row| (row.area_code.as_str().to_owned(), row.username.clone())),
            );
            match page.last() {
                Some(last) if page.len() == 50 => after = Some(last.id),
                _ => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            (seen.len(), &seen),
            (130, &sorted),
            "{backend}: in order, each once"
        );
    }
}

fn event(n: usize) -> AuditEvent {
    AuditEvent::household(
        format!("2025-01-01T00:00:{n:02}Z"),
        "tester",
        "household.update",
        format!("H{n}"),
    )
    .in_area("500151001201")
    .before(r#"{"a":1}"#.to_owned())
    .after(r#"{"a":2}"#.to_owned())
}

#[tokio::test]
async fn audit_verify_finds_an_edited_a_deleted_and_a_truncated_row() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        let mut chain = Chain::lock(&mut tx, None).await.unwrap();
        for n in 0..5 {
            chain.append(&mut tx, &event(n)).await.unwrap();
        }
        chain.finish(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        store::audit::append_one(&mut tx, None, &event(5))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // Tampering goes through the writer (readers are query-only on SQLite).
        let mut conn = store.pool().acquire().await.unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn, None, None).await.unwrap(),
                Verification::Intact {
                    rows: 6,
                    keyed_from: None,
                    ..
                }
            ),
            "{backend}"
        );
        conn.execute("UPDATE audit_log SET after_json = '{\"a\":3}' WHERE seq = 3")
            .await
            .unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn, None, None).await.unwrap(),
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
                store::audit::verify(&mut conn, None, None).await.unwrap(),
                Verification::Broken { seq: 4, .. }
            ),
            "{backend}"
        );
        conn.execute("DELETE FROM audit_log WHERE seq >= 4")
            .await
            .unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn, None, None).await.unwrap(),
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
            on_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            actor_user_id: 1,
            actor_role: domain::Role::TownReviewer,
            actor_area: domain::PlaceCode::parse("500151001").unwrap(),
            fact: fact.to_owned(),
            recorded_at: "2026-11-02T02:00:00Z".parse().unwrap(),
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
            (row.step.code(), row.version),
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

fn other_key() -> store::audit::AuditKey {
    store::audit::AuditKey::from_bytes(&[9u8; 32]).unwrap()
}

/// Three rows written before the chain was keyed, then three written with the key (the
/// switch-over row is row 4): seven rows.
async fn half_keyed_chain(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    let mut chain = Chain::lock(&mut tx, None).await.unwrap();
    for n in 0..3 {
        chain.append(&mut tx, &event(n)).await.unwrap();
    }
    chain.finish(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let key = testkit::audit_key();
    for n in 3..6 {
        let mut tx = store.begin().await.unwrap();
        store::audit::append_one(&mut tx, Some(&key), &event(n))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

type RawAuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// What someone who can write the database but has no key can do: recompute every hash from
/// row `from` on with plain SHA-256 (the hash of an unkeyed row) and move the head.
async fn rehash_without_key(conn: &mut sqlx::AnyConnection, from: i64) {
    use sha2::{Digest, Sha256};
    let rows: Vec<RawAuditRow> =
        sqlx::query_as("SELECT seq, at, actor, action, entity, entity_id, area_code, before_json, after_json, prev_hash FROM audit_log ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut prev = String::new();
    let mut last = 0;
    for (seq, at, actor, action, entity, entity_id, area, before, after, _) in rows {
        if seq < from {
            let (hash,): (String,) = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(seq)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            prev = hash;
            last = seq;
            continue;
        }
        let mut hasher = Sha256::new();
        hasher.update(prev.as_bytes());
        hasher.update(seq.to_le_bytes());
        for field in [
            at.as_str(),
            &actor,
            &action,
            &entity,
            &entity_id,
            area.as_deref().unwrap_or("\u{0}"),
            before.as_deref().unwrap_or("\u{0}"),
            after.as_deref().unwrap_or("\u{0}"),
        ] {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        let hash = hex::encode(hasher.finalize());
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(seq)
            .execute(&mut *conn)
            .await
            .unwrap();
        prev = hash;
        last = seq;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last)
        .bind(&prev)
        .execute(&mut *conn)
        .await
        .unwrap();
}

fn broken_at(verification: &Verification) -> Option<i64> {
    match verification {
        Verification::Broken { seq, .. } => Some(*seq),
        _ => None,
    }
}

#[tokio::test]
async fn audit_keyed_chain_keeps_its_unkeyed_rows_and_refuses_other_keys() {
    for (backend, store, _dir) in stores().await {
        half_keyed_chain(&store).await;
        let key = testkit::audit_key();
        let mut conn = store.read().await.unwrap();
        let verification = store::audit::verify(&mut conn, Some(&key), None)
            .await
            .unwrap();
        let Verification::Intact {
            rows: 7,
            keyed_from: Some(4),
            head: Some(head),
        } = verification
        else {
            panic!("{backend}: {verification:?}");
        };
        assert_eq!(head.seq, 7, "{backend}");
        assert_eq!(
            head.to_string().parse::<store::audit::Anchor>(),
            Ok(head.clone())
        );
        let (action, after): (String, String) =
            sqlx::query_as("SELECT action, after_json FROM audit_log WHERE seq = 4")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert_eq!(action, store::audit::KEYED_ACTION, "{backend}");
        assert!(after.contains(key.fingerprint()), "{backend}: {after}");
        for given in [None, Some(other_key())] {
            assert!(
                matches!(
                    store::audit::verify(&mut conn, given.as_ref(), None)
                        .await
                        .unwrap(),
                    Verification::KeyMismatch { keyed_from: 4, .. }
                ),
                "{backend}"
            );
        }
        drop(conn);
        for given in [None, Some(other_key())] {
            let mut tx = store.begin().await.unwrap();
            assert!(
                matches!(
                    store::audit::append_one(&mut tx, given.as_ref(), &event(9)).await,
                    Err(store::StoreError::AuditKey(_))
                ),
                "{backend}: a writer without the chain's key is refused"
            );
        }
    }
}

#[tokio::test]
async fn audit_tampering_without_the_key_is_named_by_its_row() {
    let key = testkit::audit_key();
    type Tamper = &'static [&'static str];
    // Each: the statements, the row from which the attacker then recomputes the hashes (if
    // any), and the row verify must name.
    let cases: [(&str, Tamper, Option<i64>, i64); 5] = [
        (
            "an edited keyed row, re-hashed",
            &["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 6"],
            Some(6),
            6,
        ),
        (
            "an edited unkeyed row, left as it was",
            &["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2"],
            None,
            2,
        ),
        (
            "a deleted keyed row",
            &["DELETE FROM audit_log WHERE seq = 6"],
            None,
            6,
        ),
        (
            "two keyed rows swapped",
            &[
                "UPDATE audit_log SET seq = -5 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = 6",
                "UPDATE audit_log SET seq = 6 WHERE seq = -5",
            ],
            None,
            5,
        ),
        (
            "the key removed: the head unkeyed and every row re-hashed",
            &["UPDATE audit_head SET keyed_from = NULL, key_fingerprint = NULL"],
            Some(1),
            4,
        ),
    ];
    for (what, statements, rehash, expected) in cases {
        for (backend, store, _dir) in stores().await {
            half_keyed_chain(&store).await;
            let mut conn = store.pool().acquire().await.unwrap();
            for statement in statements {
                conn.execute(*statement).await.unwrap();
            }
            if let Some(from) = rehash {
                rehash_without_key(&mut conn, from).await;
            }
            let verification = store::audit::verify(&mut conn, Some(&key), None)
                .await
                .unwrap();
            assert_eq!(
                broken_at(&verification),
                Some(expected),
                "{backend}: {what}: {verification:?}"
            );
        }
    }
}

#[tokio::test]
async fn audit_anchor_finds_a_tail_cut_back_to_an_earlier_head() {
    let key = testkit::audit_key();
    for (backend, store, _dir) in stores().await {
        half_keyed_chain(&store).await;
        let mut conn = store.read().await.unwrap();
        let anchor = store::audit::anchor(&mut conn).await.unwrap().unwrap();
        assert_eq!(anchor.seq, 7, "{backend}");
        drop(conn);
        let mut tx = store.begin().await.unwrap();
        store::audit::append_one(&mut tx, Some(&key), &event(8))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn, Some(&key), Some(&anchor))
                    .await
                    .unwrap(),
                Verification::Intact { rows: 8, .. }
            ),
            "{backend}"
        );
        // Rows 6 to 8 removed and the head moved back to row 5: nothing is left to disagree
        // without the anchor — with it, the cut is found.
        conn.execute("DELETE FROM audit_log WHERE seq >= 6")
            .await
            .unwrap();
        conn.execute(
            "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_log WHERE seq = 5)",
        )
        .await
        .unwrap();
        assert!(
            matches!(
                store::audit::verify(&mut conn, Some(&key), None)
                    .await
                    .unwrap(),
                Verification::Intact { rows: 5, .. }
            ),
            "{backend}"
        );
        assert_eq!(
            broken_at(
                &store::audit::verify(&mut conn, Some(&key), Some(&anchor))
                    .await
                    .unwrap()
            ),
            Some(6),
            "{backend}"
        );
    }
}

/// 备份: copies taken while another task keeps writing are consistent: each verifies whole.
#[tokio::test]
async fn backup_copies_taken_under_concurrent_writes_verify() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let store = Store::connect(&url)
        .await
        .unwrap()
        .with_audit_key(testkit::audit_key());
    let writer_store = store.clone();
    let writer = tokio::spawn(async move {
        for n in 0..300 {
            let mut tx = writer_store.begin().await.unwrap();
            let mut chain = Chain::lock(&mut tx, writer_store.audit_key())
                .await
                .unwrap();
            chain.append(&mut tx, &event(n % 60)).await.unwrap();
            chain.append(&mut tx, &event(n % 60)).await.unwrap();
            chain.finish(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    });
    let mut rows_seen = Vec::new();
    for copy in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let path = dir.path().join(format!("copy{copy}.db"));
        store.backup_to(path.to_str().unwrap()).await.unwrap();
        let copy_store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let mut conn = copy_store.read().await.unwrap();
        match store::audit::verify(&mut conn, Some(&testkit::audit_key()), None)
            .await
            .unwrap()
        {
            Verification::Intact { rows, .. } => rows_seen.push(rows),
            other => panic!("copy {copy}: {other:?}"),
        }
    }
    writer.await.unwrap();
    assert!(
        rows_seen.iter().all(|rows| rows % 2 == 1 || *rows == 0),
        "each copy holds whole transactions (two rows each after the switch-over): {rows_seen:?}"
    );
    let mut conn = store.read().await.unwrap();
    assert!(matches!(
        store::audit::verify(&mut conn, store.audit_key(), None)
            .await
            .unwrap(),
        Verification::Intact { rows: 601, .. }
    ));
}

/// Issue 17: a stored value is decoded into its domain type once, at the store's edge; one
/// that does not decode is `BadValue`, naming the table, the column and the value.
#[tokio::test]
async fn a_stored_value_that_does_not_decode_names_its_table_column_and_value() {
    for (backend, store, _dir) in stores().await {
        let mut tx = store.begin().await.unwrap();
        store::places::upsert_all(&mut tx, &parse_place_list(PLACES).unwrap())
            .await
            .unwrap();
        let held = household(
            "H9",
            "500151001201",
            &[("500224194503120011", "张三", "head")],
        );
        let id = households::insert(
            &mut tx,
            &held,
            &json(&held),
            "2025-01-01",
            "2025-01-01T08:00:00Z",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        {
            let mut conn = store.read().await.unwrap();
            let row = households::get(&mut conn, id).await.unwrap().unwrap();
            assert_eq!(row.area_code.as_str(), "500151001201", "{backend}");
            assert_eq!(row.hukou, held.hukou, "{backend}");
            let history = households::membership_history(&mut conn, id).await.unwrap();
            assert_eq!(history[0].relation, domain::Relation::Head, "{backend}");
            assert_eq!(history[0].start_date.to_string(), "2025-01-01", "{backend}");
        }

        let mut tx = store.begin().await.unwrap();
        sqlx::query("UPDATE households SET hukou = 'nomad' WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        assert_bad_value(
            households::get(&mut conn, id).await,
            ("households", "hukou", "nomad"),
            &backend,
        );
    }
}

/// `outcome` is `BadValue` naming `expected`: (table, column, value).
fn assert_bad_value<T: std::fmt::Debug>(
    outcome: store::Result<T>,
    expected: (&str, &str, &str),
    backend: &str,
) {
    match outcome {
        Err(store::StoreError::BadValue {
            table,
            column,
            value,
            ..
        }) => assert_eq!((table, column, value.as_str()), expected, "{backend}"),
        other => panic!("{backend}: {other:?}"),
    }
}

/// `households.head_id_number` is every household's head: a household without one (which only
/// a `Household` built by hand can be; the interchange format requires one) is refused, by the
/// single write and by the bulk one, and nothing of it is stored.
#[tokio::test]
async fn a_household_without_a_head_is_refused_by_name() {
    for (backend, store, _dir) in stores().await {
        load_places(&store).await;
        let mut headless = household(
            "H8",
            "500151001201",
            &[("500224194503120011", "张三", "head")],
        );
        headless.members[0].relation = domain::Relation::Spouse;
        let record = json(&headless);
        let mut tx = store.begin().await.unwrap();
        let single = households::insert(
            &mut tx,
            &headless,
            &record,
            "2025-01-01",
            "2025-01-01T08:00:00Z",
        )
        .await;
        let bulk = households::insert_many(
            &mut tx,
            &[(&headless, record.as_str())],
            "2025-01-01",
            "2025-01-01T08:00:00Z",
        )
        .await;
        for outcome in [single.map(|_| ()), bulk.map(|_| ())] {
            assert_bad_value(outcome, ("households", "head_id_number", "H8"), &backend);
        }
        tx.commit().await.unwrap();
        let mut conn = store.read().await.unwrap();
        let (persons,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM persons")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(persons, 0, "{backend}");
    }
}
