//! The audit log: every write leaves who, what, when, before and after; the hash chain shows
//! an edited, deleted or truncated row.

use crate::helpers::{TestApp, backends, household_form, household_json, id_number};
use reqwest::StatusCode;
use serde_json::Value;
use store::audit::Verification;

async fn execute(app: &TestApp, sql: &str, seq: i64) {
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(seq)
        .execute(app.app.store().pool())
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
}

async fn n_audit_rows(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(app.app.store().pool())
        .await
        .unwrap();
    n
}

/// A series of writes through the API and the pages, by two users.
async fn write_a_little(app: &TestApp) {
    let api = app.api_user("bachuan").await;
    let head = id_number("50022419550505006");
    let (status, _) = api
        .post(
            "/api/v1/households",
            &household_json("AUD-1", "500151001200", &[(head.as_str(), "冯一", "head")]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let household = &app.bachuan_village;
    let body = household_json(
        household.external_id,
        household.area,
        &[(household.head_id.as_str(), "张三", "head")],
    );
    assert_eq!(
        api.put(
            &format!("/api/v1/households/{}?version=1", household.id),
            &body
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let page = app.page_user("tuqiao").await;
    let tuqiao = &app.tuqiao_village;
    let form = household_form(
        Some(&page.csrf),
        1,
        tuqiao.external_id,
        tuqiao.area,
        &[(tuqiao.head_id.as_str(), "赵铁柱", "head")],
    );
    assert_eq!(
        page.post_form(&format!("/households/{}", tuqiao.id), &form)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let wangge = app.api_user("wangge").await;
    assert_eq!(
        wangge
            .get(&format!("/api/v1/households/{}?full=true", household.id))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn always_audit_verify_detects_an_edited_row() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        write_a_little(&app).await;
        let n_rows = n_audit_rows(&app).await;
        assert!(
            matches!(app.app.verify_audit(None).await.unwrap(), Verification::Intact { rows, .. } if rows == n_rows),
            "{backend}"
        );

        let update = app
            .audit_of("household", app.bachuan_village.external_id)
            .await;
        let update = update
            .iter()
            .find(|entry| entry.event.action == "household.update")
            .unwrap();
        let seq = update.seq;
        assert!(
            seq > 1 && seq < n_rows,
            "{backend}: a row in the middle of the chain"
        );

        // Someone rewrites who made the change.
        execute(
            &app,
            "UPDATE audit_log SET actor = 'someone-else' WHERE seq = $1",
            seq,
        )
        .await;
        match app.app.verify_audit(None).await.unwrap() {
            Verification::Broken {
                seq: broken,
                reason,
            } => {
                assert_eq!(broken, seq, "{backend}");
                assert!(reason.contains("edited"), "{backend}: {reason}");
            }
            intact => panic!("{backend}: tampering went unnoticed: {intact:?}"),
        }
        // Put back, the chain holds again.
        let actor = update.event.actor.clone();
        sqlx::query("UPDATE audit_log SET actor = $1 WHERE seq = $2")
            .bind(actor)
            .bind(seq)
            .execute(app.app.store().pool())
            .await
            .unwrap();
        assert!(
            matches!(app.app.verify_audit(None).await.unwrap(), Verification::Intact { rows, .. } if rows == n_rows),
            "{backend}"
        );

        // Someone edits what the record looked like before.
        execute(&app, "UPDATE audit_log SET before_json = replace(before_json, '李秀英', '王秀英') WHERE seq = $1", seq).await;
        assert!(
            matches!(app.app.verify_audit(None).await.unwrap(), Verification::Broken { seq: broken, .. } if broken == seq),
            "{backend}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn always_audit_verify_detects_a_deleted_row_and_a_cut_tail() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        write_a_little(&app).await;
        let n_rows = n_audit_rows(&app).await;
        execute(&app, "DELETE FROM audit_log WHERE seq = $1", n_rows).await;
        assert!(
            matches!(app.app.verify_audit(None).await.unwrap(), Verification::Broken { seq, .. } if seq == n_rows),
            "{backend}: the head still names the deleted last row"
        );
        execute(&app, "DELETE FROM audit_log WHERE seq = $1", 3).await;
        assert!(
            matches!(
                app.app.verify_audit(None).await.unwrap(),
                Verification::Broken { seq: 3, .. }
            ),
            "{backend}"
        );
        app.stop().await;
    }
}

fn parse(json: Option<&str>) -> Value {
    serde_json::from_str(json.unwrap()).unwrap()
}

#[tokio::test]
async fn always_every_api_write_is_audited_with_before_and_after() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = app.api_user("bachuan").await;
        let head = id_number("50022419550505006");
        let spouse = id_number("50022419570707008");
        let record = household_json("AUD-2", "500151001200", &[(head.as_str(), "冯一", "head")]);
        let (status, created) = api.post("/api/v1/households", &record).await;
        assert_eq!(status, StatusCode::CREATED, "{backend}");
        let id = created["id"].as_i64().unwrap();

        let audit = app.audit_of("household", "AUD-2").await;
        assert_eq!(audit.len(), 1, "{backend}");
        let create = &audit[0].event;
        assert_eq!(create.action, "household.create", "{backend}");
        assert!(
            create.actor.starts_with("bachuan#"),
            "{backend}: {}",
            create.actor
        );
        assert_eq!(
            create.area_code.as_deref(),
            Some("500151001200"),
            "{backend}"
        );
        assert!(
            create.at.starts_with(crate::helpers::TODAY),
            "{backend}: {}",
            create.at
        );
        assert_eq!(create.before, None, "{backend}");
        assert_eq!(
            parse(create.after.as_deref())["members"][0]["name"],
            "冯一",
            "{backend}"
        );

        let changed = household_json(
            "AUD-2",
            "500151001200",
            &[
                (head.as_str(), "冯一", "head"),
                (spouse.as_str(), "卫二", "spouse"),
            ],
        );
        assert_eq!(
            api.put(&format!("/api/v1/households/{id}?version=1"), &changed)
                .await
                .0,
            StatusCode::NO_CONTENT,
            "{backend}"
        );
        let audit = app.audit_of("household", "AUD-2").await;
        assert_eq!(audit.len(), 2, "{backend}");
        let update = &audit[1].event;
        assert_eq!(update.action, "household.update", "{backend}");
        assert!(update.actor.starts_with("bachuan#"), "{backend}");
        assert_eq!(
            update.before, create.after,
            "{backend}: before is the record as it was"
        );
        let after = parse(update.after.as_deref());
        assert_eq!(after["members"].as_array().unwrap().len(), 2, "{backend}");
        assert_eq!(after["members"][1]["name"], "卫二", "{backend}");
        assert_eq!(
            audit[1].seq,
            audit[0].seq + 1,
            "{backend}: no other write in between"
        );

        // Refused writes leave nothing behind.
        let n_rows = n_audit_rows(&app).await;
        let (status, _) = api
            .put(&format!("/api/v1/households/{id}?version=1"), &changed)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend}");
        let (status, _) = api.post("/api/v1/households", &record).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert_eq!(n_audit_rows(&app).await, n_rows, "{backend}");

        // Set-up writes were audited too: places, users, the import, sign-ins.
        let mut conn = app.app.store().read().await.unwrap();
        let actions: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT action FROM audit_log ORDER BY action")
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let actions: Vec<&str> = actions.iter().map(|(action,)| action.as_str()).collect();
        for action in [
            "places.load",
            "user.create",
            "household.import",
            "session.login",
            "household.create",
            "household.update",
        ] {
            assert!(
                actions.contains(&action),
                "{backend}: no {action} in {actions:?}"
            );
        }
        drop(conn);
        assert!(
            matches!(
                app.app.verify_audit(None).await.unwrap(),
                Verification::Intact { .. }
            ),
            "{backend}"
        );
        app.stop().await;
    }
}
