//! 转介 and 走访/来电 lists (issue 12): each page is one keyset read served by an index, newest
//! first, none repeated or lost, its total counted up to `search::TOTAL_CAP`; on SQLite always
//! and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use store::Store;
use store::assistance::{self, ReferralFilter};
use store::search::TOTAL_CAP;
use store::watch::{self, ContactCursor};

async fn stores() -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), "paging").await;
    let mut stores = vec![("sqlite", Store::connect(&url).await.unwrap(), dir)];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres("safetynet_referral_contact_paging").await;
        stores.push((
            "postgres",
            Store::connect(&url).await.unwrap(),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}

/// A plan that reads every referral or every contact. When every line matches (`whole`: the
/// district, no filter), an unsorted walk of the table stops at the statement's
/// `LIMIT` having read only that many lines, so it is allowed there and only there (SQLite's
/// `SCAN r` walks the rowid b-tree in id order; PostgreSQL may walk the heap under `Limit`).
fn scans_list(plan: &[String], whole: bool) -> bool {
    let sorts = plan
        .iter()
        .any(|line| line.contains("USE TEMP B-TREE") || line.contains("Sort"));
    if whole && !sorts {
        return false;
    }
    plan.iter().any(|line| {
        let line = line.trim_start_matches(['|', '-', '`', ' ']);
        ["referrals", "contacts"].iter().any(|table| {
            line.contains(&format!("Seq Scan on {table} "))
                || line.ends_with(&format!("Seq Scan on {table}"))
                || (line.starts_with(&format!("SCAN {table}")) && !line.contains(" USING "))
        }) || line == "SCAN r"
    })
}

const N: usize = 3_000;

async fn exec(conn: &mut store::Conn, sql: String) {
    sqlx::Executor::execute(&mut *conn, sqlx::AssertSqlSafe(sql))
        .await
        .unwrap();
}

/// Ten villages of ten towns, one household each, `N` referrals and `N` contacts among them.
async fn seed(store: &Store, villages: &[String]) {
    let mut tx = store.begin().await.unwrap();
    exec(
        &mut tx,
        "INSERT INTO places (code, name, level, parent) VALUES ('500151', '区', 'district', NULL)"
            .to_owned(),
    )
    .await;
    for (n, village) in villages.iter().enumerate() {
        let town = &village[..9];
        // A head's ID number the store reads back as a NationalId.
        let first17 = format!("5001511990010100{n}");
        let head_id_number = format!(
            "{first17}{}",
            domain::national_id::check_char(first17.as_bytes())
        );
        exec(&mut tx, format!(
            "INSERT INTO places (code, name, level, parent) VALUES ('{town}', '镇{n}', 'town', '500151'), ('{village}', '村{n}', 'village', '{town}')"
        ))
        .await;
        exec(&mut tx, format!(
            "INSERT INTO households (id, external_id, area_code, hukou, head_name, head_id_number, n_members, record, version, created_at, updated_at) \
             VALUES ({id}, 'H{n}', '{village}', 'rural', '户主{n}', '{head_id_number}', 1, '{{}}', 1, 't', 't')",
            id = n + 1
        ))
        .await;
    }
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        let referrals: Vec<String> = chunk
            .iter()
            .map(|n| {
                let state = ["sent", "accepted", "declined", "accepted", "declined"][n % 5];
                let department = ["civil", "health", "education", "housing", "labour", "water", "power"][n % 7];
                format!(
                    "({id}, {household}, '{area}', 'item', 1, '{department}', '', '', '2026-11', '{state}', '2026-11-01', 'u', '2026-11-01T00:00:00.000000Z', 1)",
                    id = n + 1,
                    household = n % 10 + 1,
                    area = villages[n % 10],
                )
            })
            .collect();
        exec(&mut tx, format!(
            "INSERT INTO referrals (id, household_id, area_code, item_code, item_version, department, needs, reason, period, state, created_on, created_by, updated_at, version) VALUES {}",
            referrals.join(", ")
        ))
        .await;
        let contacts: Vec<String> = chunk
            .iter()
            .map(|n| {
                format!(
                    "({id}, 'visit', '2026-{month:02}-{day:02}', '姓名{n}', '', '{area}', '', 'recorded', 1, 'u', '2026-01-01T00:00:00.000000Z')",
                    id = n + 1,
                    month = 1 + n % 11,
                    day = 1 + n % 28,
                    area = villages[n % 10],
                )
            })
            .collect();
        exec(&mut tx, format!(
            "INSERT INTO contacts (id, channel, on_date, person_name, phone, area_code, findings, outcome, recorded_by_user_id, recorded_by, recorded_at) VALUES {}",
            contacts.join(", ")
        ))
        .await;
    }
    store::commit(tx).await.unwrap();
    testkit::refresh_statistics(store).await;
}

#[tokio::test]
async fn i12_referrals_and_contacts_are_keyset_pages_read_by_index() {
    let villages: Vec<String> = (0..10)
        .map(|town| format!("500151{}201", 100 + town))
        .collect();
    for (backend, store, _dir) in stores().await {
        seed(&store, &villages).await;
        let mut conn = store.read().await.unwrap();

        // Every statement of both lists, for the district, a town and a village, filtered and
        // after a cursor, is read by index.
        let cursor = ContactCursor {
            on_date: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            id: 1500,
        };
        for area_prefix in ["500151", "500151103", "500151103201"] {
            for (department, state, after) in [
                (None, None, None),
                (Some("civil"), Some("sent"), None),
                (None, None, Some(1500)),
            ] {
                let filter = ReferralFilter {
                    area_prefix,
                    department,
                    state,
                    after,
                    limit: 50,
                };
                for statement in assistance::referral_statements(&filter) {
                    let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                    // The rowid walk in id order (`SCAN r`, unsorted) reads about `limit` over the
                    // share of the area: fine for a district or a town, not for a village.
                    let whole = area_prefix == "500151" && state.is_none()
                        || area_prefix.len() < 12 && plan.iter().any(|line| line == "SCAN r");
                    assert!(
                        !scans_list(&plan, whole),
                        "{backend}: {filter:?} reads every referral:\n{}\n{}",
                        statement.sql,
                        plan.join("\n")
                    );
                }
            }
            for after in [None, Some(&cursor)] {
                for statement in watch::contact_statements(area_prefix, after, 50) {
                    let plan = store::search::explain(&mut conn, &statement).await.unwrap();
                    let whole = area_prefix == "500151";
                    assert!(
                        !scans_list(&plan, whole),
                        "{backend}: contacts of {area_prefix} after {after:?} read every contact:\n{}\n{}",
                        statement.sql,
                        plan.join("\n")
                    );
                }
            }
        }

        // A town's referrals, page by page: newest first, none twice, none lost, total capped.
        let town = "500151103";
        let expected: Vec<i64> = (0..N)
            .rev()
            .filter(|n| villages[n % 10].starts_with(town))
            .map(|n| n as i64 + 1)
            .collect();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let list = assistance::in_area(
                &mut conn,
                &ReferralFilter {
                    area_prefix: town,
                    department: None,
                    state: None,
                    after,
                    limit: 70,
                },
            )
            .await
            .unwrap();
            assert_eq!(list.total, expected.len() as i64, "{backend}");
            assert!(!list.capped, "{backend}");
            seen.extend(list.rows.iter().map(|row| row.id));
            match list.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{backend}: referral pages");
        let district = assistance::in_area(
            &mut conn,
            &ReferralFilter {
                area_prefix: "500151",
                limit: 50,
                ..ReferralFilter::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (district.total, district.capped),
            (TOTAL_CAP, true),
            "{backend}"
        );
        assert_eq!(district.rows.len(), 50, "{backend}");

        // The district's contacts, page by page: by date then id, newest first, none twice,
        // none lost.
        let mut expected: Vec<(String, i64)> = (0..N)
            .map(|n| {
                (
                    format!("2026-{:02}-{:02}", 1 + n % 11, 1 + n % 28),
                    n as i64 + 1,
                )
            })
            .collect();
        expected.sort();
        expected.reverse();
        let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();
        let mut seen = Vec::new();
        let mut after: Option<ContactCursor> = None;
        loop {
            let list = watch::contacts_in_area(&mut conn, "500151", after.as_ref(), 200)
                .await
                .unwrap();
            assert_eq!((list.total, list.capped), (TOTAL_CAP, true), "{backend}");
            seen.extend(list.rows.iter().map(|row| row.id));
            match list.next {
                Some(next) => {
                    assert_eq!(ContactCursor::decode(&next.encode()), Some(next.clone()));
                    after = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "{backend}: contact pages");
        assert_eq!(ContactCursor::decode("2026-13-01.4"), None);
        assert_eq!(ContactCursor::decode("17"), None);
    }
}
