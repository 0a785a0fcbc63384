//! The world builders of `testkit::builders` (issue 17 item 6), each on SQLite and, when
//! `TEST_DATABASE_URL` is set, PostgreSQL: a user of any role and area, a case at every step,
//! a warning at every state of the loop, a referral at every state.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod common;

use app::documents::Owner;
use app::warnings::WarningState;
use assist::ReferralState;
use common::stores;
use domain::Role;
use testkit::builders::{Household, World};
use workflow::Step;

const YONGYUAN: &str = "500151001200";

/// A poor household of one in 永院村, `H{n}`.
async fn household(world: &World, n: u32) -> Household {
    world
        .household(&format!("H{n}"), YONGYUAN)
        .head(&format!("500224197001010{n:02}"), "韩一")
        .wages(3_000)
        .add()
        .await
}

#[tokio::test]
async fn i17_a_user_is_built_of_any_role_at_any_area() {
    for (backend, store, _dir) in stores("builtuser").await {
        let world = World::on(store, "2026-11-02").await;
        for (role, area) in [
            (Role::DistrictCivilAffairs, "500151"),
            (Role::DistrictAgriculture, "500151"),
            (Role::TownReviewer, "500151001"),
            (Role::VillageAssistant, YONGYUAN),
            (Role::GridWorker, "500151001200001"),
            (Role::Department, "500151"),
            (Role::Auditor, "500151"),
            (Role::Admin, "500151"),
        ] {
            let user = world.user(role, area).await;
            assert_eq!((user.role, user.area.as_str()), (role, area), "{backend}");
        }
        let health = world.department_user("health", "500151").await;
        assert_eq!(health.role, Role::Department, "{backend}");
    }
}

/// A case built at any step up to 公示 and a document, each in a line: the case stands where
/// it was asked to, the document is on its case.
#[tokio::test]
async fn i17_a_case_is_built_at_each_step_up_to_the_notice_and_a_document_in_a_line() {
    for (backend, store, _dir) in stores("builtcase").await {
        let world = World::on(store, "2026-11-02").await;
        let town = world.user(Role::TownReviewer, "500151001").await;
        let steps = [
            Step::Received,
            Step::Comparing,
            Step::Surveying,
            Step::VillageReview,
            Step::JointReview,
            Step::Notice,
        ];
        let mut case_ids = Vec::new();
        for (n, step) in (0..).zip(steps) {
            let household = household(&world, n).await;
            let case_id = world.case_at(&town, &household, step).await;
            let detail = world.app.case_detail(&town, case_id).await.unwrap();
            assert_eq!(detail.case.step(), step, "{backend}");
            case_ids.push(case_id);
        }
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n";
        let case = Owner::Case(case_ids[2]);
        let id = world
            .document(&town, case, "diagnosis", "诊断证明.pdf", pdf)
            .await;
        let list = world.app.documents(&town, case).await.unwrap();
        assert_eq!(list.documents[0].id, id, "{backend}");
    }
}

/// Beyond 公示: a case built at 已认定 has run its notice and its household holds the decided
/// categories from today; one at 审核确认 has one category confirmed and one awaited; refused
/// and withdrawn cases are closed.
#[tokio::test]
async fn i17_a_case_is_built_decided_refused_or_withdrawn() {
    for (backend, store, _dir) in stores("builtdecided").await {
        let world = World::on(store, "2026-11-02").await;
        let town = world.user(Role::TownReviewer, "500151001").await;
        let confirmed = household(&world, 1).await;
        let case_id = world.case_at(&town, &confirmed, Step::Confirmed).await;
        let detail = world.app.case_detail(&town, case_id).await.unwrap();
        assert_eq!(detail.case.step(), Step::Confirmed, "{backend}");
        let notice = detail.case.notice().unwrap();
        assert!(notice.ends_on < world.app.today(), "{backend}: {notice:?}");
        let row_id = world.household_row_id(&confirmed).await;
        let held = world
            .app
            .household_assistance(&town, row_id)
            .await
            .unwrap()
            .categories;
        let decided: Vec<domain::Category> = detail
            .case
            .decided()
            .iter()
            .map(|decided| decided.category)
            .collect();
        assert!(!held.is_empty(), "{backend}");
        assert_eq!(held, decided, "{backend}");
        // Poor, lifted out of poverty and ill: 低保 and the monitoring tag are decided, by
        // two departments; at 审核确认 the first is confirmed, the other awaited.
        let two = world
            .household("H4", YONGYUAN)
            .head("50022419700101004", "韩四")
            .wages(3_000)
            .lifted()
            .risk("illness")
            .add()
            .await;
        let case_id = world.case_at(&town, &two, Step::Confirming).await;
        let detail = world.app.case_detail(&town, case_id).await.unwrap();
        assert_eq!(detail.case.step(), Step::Confirming, "{backend}");
        let awaited: Vec<bool> = detail
            .case
            .decided()
            .iter()
            .map(|decided| decided.decision.is_none())
            .collect();
        assert_eq!(awaited, [false, true], "{backend}");
        for (n, step) in [(2, Step::Refused), (3, Step::Withdrawn)] {
            let household = household(&world, n).await;
            let case_id = world.case_at(&town, &household, step).await;
            let detail = world.app.case_detail(&town, case_id).await.unwrap();
            assert_eq!(detail.case.step(), step, "{backend}");
        }
    }
}

/// A warning built at each state of the loop stands in it.
#[tokio::test]
async fn i17_a_warning_is_built_at_each_state_of_the_loop() {
    for (backend, store, _dir) in stores("builtwarning").await {
        let world = World::on(store, "2026-11-02").await;
        let town = world.user(Role::TownReviewer, "500151001").await;
        for (n, state) in (0..).zip([
            WarningState::Open,
            WarningState::Assigned,
            WarningState::Verified,
            WarningState::Judged,
            WarningState::Disposed,
            WarningState::Closed,
        ]) {
            let household = household(&world, n).await;
            let id = world.warning_at(&town, &household, state).await;
            let detail = world.app.warning_detail(&town, id).await.unwrap();
            assert_eq!(detail.item.state, state, "{backend}");
        }
    }
}

/// A referral built at each state stands in it, sent for the household's first proposal and
/// handled by a user of its department.
#[tokio::test]
async fn i17_a_referral_is_built_at_each_state() {
    for (backend, store, _dir) in stores("builtreferral").await {
        let world = World::on(store, "2026-11-02").await;
        let town = world.user(Role::TownReviewer, "500151001").await;
        for (n, state) in (0..).zip([
            ReferralState::Sent,
            ReferralState::Accepted,
            ReferralState::Delivered,
            ReferralState::Declined,
        ]) {
            let household = household(&world, n).await;
            world.case_at(&town, &household, Step::Confirmed).await;
            let referral = world.referral_at(&town, &household, state).await;
            let view = world
                .app
                .referral(&referral.handler, referral.id)
                .await
                .unwrap();
            assert_eq!(view.state, state, "{backend}");
            assert_eq!(
                (view.row.item_code.as_str(), view.row.department.as_str()),
                (referral.item_code.as_str(), referral.department.as_str()),
                "{backend}"
            );
        }
    }
}
