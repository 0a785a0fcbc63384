//! 构建测试世界 in a line (feature `builders`): an `App` on a template-copied store with the
//! Tongliang places and a clock the test moves (`World::on`), then users of any role and
//! area (and 专项部门 users of a department), households, cases at any step, warnings at any
//! state of the loop and referrals at any state, each one call:
//!
//! ```ignore
//! let world = World::on(store, "2026-11-02").await;
//! let town = world.user(Role::TownReviewer, "500151001").await;
//! let h1 = world.household("H1", "500151001200").head("50022419700101001", "韩一").add().await;
//! let warning = world.warning_at(&town, &h1, WarningState::Verified).await;
//! let case = world.case_at(&town, &h1, Step::VillageReview).await;
//! let photo = world.document(&town, Owner::Case(case), "id_card", "id.png", &png).await;
//! let h2 = world.household("H2", "500151001200").head("50022419700101002", "韩二").add().await;
//! world.case_at(&town, &h2, Step::Confirmed).await;
//! let referral = world.referral_at(&town, &h2, ReferralState::Delivered).await;
//! ```
//!
//! Everything goes through the use cases (no rows written by hand), so a built world holds
//! what the product would hold, audited.

use app::assistance::ReferralAct;
use app::cases::{CaseAction, JointReviewInput, NewIntake};
use app::contacts::{ContactChannel, ContactOutcome, NewContactInput};
use app::documents::{DocumentUpload, Owner};
use app::users::{Creator, NewUser};
use app::warnings::{Judgement, LoopAction, WarningState};
use app::{Actor, App, AppSettings, Clock};
use assist::ReferralState;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{HouseholdNo, PlaceCode, Role};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use store::Store;
use workflow::{
    Action, CaseKind, Channel, Consent, ReviewOutcome, Step, Survey, TeamMember, VillageReview,
};

/// A clock the test sets: 10:00 China Standard Time on the day.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn on(day: NaiveDate) -> TestClock {
        let clock = TestClock(Mutex::new(Utc::now()));
        clock.set(day);
        clock
    }

    pub fn set(&self, day: NaiveDate) {
        *self.0.lock().unwrap() = Utc.from_utc_datetime(&day.and_hms_opt(2, 0, 0).unwrap());
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// A valid GB 11643 number from its first 17 digits.
pub fn id_number(first17: &str) -> String {
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

/// The App of a test, and the builders of its world.
pub struct World {
    pub app: App,
    pub clock: Arc<TestClock>,
    users: AtomicU32,
}

impl World {
    /// An App on `store` (migrated, e.g. from `crate::sqlite_url`), the places of Tongliang
    /// loaded, the clock on `day`.
    pub async fn on(store: Store, day: &str) -> World {
        let clock = Arc::new(TestClock::on(date(day)));
        let app = App::new(
            store.with_audit_key(crate::audit_key()),
            clock.clone(),
            AppSettings::default(),
        );
        let places =
            domain::parse_place_list(include_str!("../../../data/places/tongliang.csv")).unwrap();
        app.load_places("test", &places).await.unwrap();
        World {
            app,
            clock,
            users: AtomicU32::new(0),
        }
    }

    /// A user of `role` at `area` (named `{role}{n}`), as the actor the use cases take.
    pub async fn user(&self, role: Role, area: &str) -> Actor {
        let n = self.users.fetch_add(1, Ordering::Relaxed);
        let username = format!("{}{n}", role.code().replace('_', ""));
        let area = PlaceCode::parse(area).unwrap();
        let user_id = self
            .app
            .create_user(
                Creator::Console("test"),
                NewUser {
                    username: &username,
                    display_name: &username,
                    role,
                    area: &area,
                    password: "correct-horse-1",
                },
            )
            .await
            .unwrap_or_else(|error| panic!("user {username}: {}", error.message()));
        Actor {
            user_id,
            username: username.clone(),
            display_name: username,
            role,
            area,
        }
    }

    /// A household to add: `external_id` (户编号) at the village `area`.
    pub fn household<'w>(&'w self, external_id: &str, area: &str) -> HouseholdBuilder<'w> {
        HouseholdBuilder {
            world: self,
            external_id: external_id.to_owned(),
            area: area.to_owned(),
            members: Vec::new(),
            wages: 12_000,
            lifted: false,
            risks: Vec::new(),
        }
    }

    /// A warning on the household's head raised by a visit of `town`'s (a town reviewer),
    /// then taken through the loop by `town` until it is in `state` (assigned to `town`).
    /// Answers its id.
    pub async fn warning_at(
        &self,
        town: &Actor,
        household: &Household,
        state: WarningState,
    ) -> i64 {
        let today = self.app.today();
        let receipt = self
            .app
            .record_contact(
                town,
                NewContactInput {
                    channel: ContactChannel::Visit,
                    on_date: today,
                    household_id: Some(household.external_id.clone()),
                    person_name: String::new(),
                    id_number: None,
                    phone: String::new(),
                    area: None,
                    findings: "走访发现家庭困难".to_owned(),
                    outcome: ContactOutcome::Warning,
                    consent: None,
                    new_household_id: None,
                },
            )
            .await
            .unwrap_or_else(|error| panic!("warning: {}", error.message()));
        let id = receipt.warning_id.unwrap();
        let steps = [
            (
                WarningState::Assigned,
                LoopAction::Assign {
                    assignee_user_id: town.user_id,
                },
            ),
            (
                WarningState::Verified,
                LoopAction::Verify {
                    visited_on: today,
                    visitors: "张三、李四".to_owned(),
                    findings: "情况属实".to_owned(),
                },
            ),
            (
                WarningState::Judged,
                LoopAction::Judge {
                    judgement: Judgement::Confirmed,
                    note: "建议调整帮扶".to_owned(),
                },
            ),
            (
                WarningState::Disposed,
                LoopAction::Dispose(app::warnings::Disposal::Adjust {
                    note: "增加临时救助".to_owned(),
                }),
            ),
            (
                WarningState::Closed,
                LoopAction::Close {
                    note: String::new(),
                },
            ),
        ];
        for (version, (reached, action)) in (1..).zip(steps) {
            if state < reached {
                break;
            }
            self.app
                .act_on_warning(town, id, version, action)
                .await
                .unwrap_or_else(|error| panic!("warning {id} to {reached}: {}", error.message()));
        }
        id
    }
}

/// The steps `World::case_at` walks a case through, in the order of the process.
const BUILT_STEPS: [Step; 6] = [
    Step::Received,
    Step::Comparing,
    Step::Surveying,
    Step::VillageReview,
    Step::JointReview,
    Step::Notice,
];

/// How many days before today `World::case_at` takes in a case it builds beyond 公示, so
/// that its notice has run by today (a notice runs 7 days, or the monitoring notice's).
const DECIDED_CASE_AGE_DAYS: u64 = 30;

impl World {
    /// 救助帮扶申请 of `household`, taken in by `town` (a town reviewer) at the village window
    /// with the head's consent signed that day, then moved until it stands at `step`:
    /// - 受理, 信息比对, 入户调查, 村社评议, 镇街联合研判 or 公示, each move dated today: the
    ///   survey records the household as imported, by `town` and a new village assistant of its
    ///   village; the village review agrees; the joint review agrees with the proposal, each
    ///   pending test judged to hold (特困 dispersed); the notice is posted.
    /// - 审核确认 or 已认定: the same moves, all dated 30 days before today (so the notice has
    ///   run), then decided today by new users of the district departments: at 审核确认 the
    ///   first decided category is confirmed (the case must decide two or more), at 已认定
    ///   each one — the household then holds them in the registry from today.
    /// - 不予认定 or 已撤回: refused or withdrawn by `town` at 受理, today.
    ///
    /// Answers the case's id.
    pub async fn case_at(&self, town: &Actor, household: &Household, step: Step) -> i64 {
        let today = self.app.today();
        let notice = BUILT_STEPS.len() - 1;
        match step {
            Step::Refused | Step::Withdrawn => {
                let case_id = self.case_through(town, household, 0, today).await;
                let reason = "经核查不符合条件".to_owned();
                let action = if step == Step::Refused {
                    Action::Refuse { reason }
                } else {
                    Action::Withdraw { reason }
                };
                self.act_on_case(town, case_id, CaseAction::Move(action), today)
                    .await;
                case_id
            }
            Step::Confirming | Step::Confirmed => {
                let start = today
                    .checked_sub_days(chrono::Days::new(DECIDED_CASE_AGE_DAYS))
                    .unwrap();
                let case_id = self.case_through(town, household, notice, start).await;
                self.decide(town, household, case_id, step == Step::Confirming)
                    .await;
                case_id
            }
            _ => {
                let reach = BUILT_STEPS
                    .iter()
                    .position(|built| *built == step)
                    .expect("a step up to 公示");
                self.case_through(town, household, reach, today).await
            }
        }
    }

    /// The case of `case_at`, moved through `BUILT_STEPS[..=reach]`, every move dated `on`.
    async fn case_through(
        &self,
        town: &Actor,
        household: &Household,
        reach: usize,
        on: NaiveDate,
    ) -> i64 {
        let intake = NewIntake {
            kind: CaseKind::Application,
            channel: Channel::VillageWindow,
            household_no: HouseholdNo::parse(&household.external_id).unwrap(),
            area: PlaceCode::parse(&household.area).unwrap(),
            applicant: household.head_name.clone(),
            consent: Some(Consent {
                signed_on: on,
                signer: household.head_name.clone(),
            }),
            summary: "因病致贫，申请救助".to_owned(),
        };
        let (case_id, _) = self
            .app
            .open_case_on(town, intake, Some(on))
            .await
            .unwrap_or_else(|error| {
                panic!("case of {}: {}", household.external_id, error.message())
            });
        let mut moves = Vec::new();
        if reach >= 1 {
            moves.push(CaseAction::Move(Action::BeginComparison));
        }
        if reach >= 2 {
            moves.push(CaseAction::Move(Action::CompleteComparison));
        }
        if reach >= 3 {
            let village = self.user(Role::VillageAssistant, &household.area).await;
            let team = [town, &village]
                .iter()
                .map(|member| TeamMember {
                    user_id: member.user_id,
                    name: member.display_name.clone(),
                })
                .collect();
            moves.push(CaseAction::Move(Action::RecordSurvey(Survey {
                household: domain::interchange::parse_household_line(&household.line).unwrap(),
                team,
                surveyed_on: on,
            })));
        }
        if reach >= 4 {
            moves.push(CaseAction::Move(Action::RecordVillageReview(
                VillageReview {
                    held_on: on,
                    attendance: 12,
                    outcome: ReviewOutcome::Agreed,
                    note: "同意".to_owned(),
                },
            )));
        }
        for action in moves {
            self.act_on_case(town, case_id, action, on).await;
        }
        if reach >= 5 {
            let proposal = self.app.case_proposal(town, case_id).await.unwrap();
            let review = JointReviewInput::agreeing_with(&proposal, on, "入户核实");
            self.act_on_case(town, case_id, CaseAction::RecordJointReview(review), on)
                .await;
            self.act_on_case(town, case_id, CaseAction::Move(Action::PostNotice), on)
                .await;
        }
        case_id
    }

    /// 审核确认 today of the decided categories of `case_id` (past its notice), each by a new
    /// user of its district department: only the first one when `first_only`.
    async fn decide(&self, town: &Actor, household: &Household, case_id: i64, first_only: bool) {
        let detail = self.app.case_detail(town, case_id).await.unwrap();
        let decided: Vec<(domain::Category, Role)> = detail
            .case
            .decided()
            .iter()
            .map(|decided| (decided.category, decided.department()))
            .collect();
        assert!(
            !first_only || decided.len() >= 2,
            "case_at 审核确认 needs a case deciding two categories or more; case {case_id} decides {decided:?}"
        );
        let district = &household.area[..6];
        let today = self.app.today();
        let count = if first_only { 1 } else { decided.len() };
        for (category, department) in decided.into_iter().take(count) {
            let user = self.user(department, district).await;
            let action = CaseAction::Move(Action::Confirm { category });
            self.act_on_case(&user, case_id, action, today).await;
        }
    }

    async fn act_on_case(&self, actor: &Actor, case_id: i64, action: CaseAction, on: NaiveDate) {
        self.app
            .act_on_case_on(actor, case_id, action, Some(on))
            .await
            .unwrap_or_else(|error| panic!("case {case_id}: {}", error.message()));
    }

    /// 材料: `bytes` uploaded by `actor` as a document of `kind` (`id_card`, `authorisation`,
    /// …) named `file_name` on `owner` (a case or a household row). Answers its id.
    pub async fn document(
        &self,
        actor: &Actor,
        owner: Owner,
        kind: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> i64 {
        let upload = DocumentUpload {
            kind,
            file_name,
            bytes,
        };
        self.app
            .upload_document(actor, owner, upload)
            .await
            .unwrap_or_else(|error| panic!("document {file_name}: {}", error.message()))
            .id
    }
}

/// A referral as built: its id, the item sent, and the department user who handles it.
#[derive(Clone, Debug)]
pub struct Referral {
    pub id: i64,
    pub item_code: String,
    /// The item's department (a code of `policy/departments.toml`).
    pub department: String,
    /// The 专项部门 user of that department at the district who took it to its state.
    pub handler: Actor,
}

impl World {
    /// A 专项部门 user (`Role::Department`) of `department` (a code of
    /// `policy/departments.toml`) at `area`.
    pub async fn department_user(&self, department: &str, area: &str) -> Actor {
        let user = self.user(Role::Department, area).await;
        self.app
            .set_user_department(Creator::Console("test"), &user.username, department)
            .await
            .unwrap_or_else(|error| panic!("department {department}: {}", error.message()));
        user
    }

    /// The registry row id of a household built by `household(…).add()`.
    pub async fn household_row_id(&self, household: &Household) -> i64 {
        let mut conn = self.app.store().read().await.unwrap();
        store::households::by_external_id(&mut conn, &household.external_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("household {} is not registered", household.external_id))
            .id
    }

    /// 转介: the first proposal of `household` today sent by `sender` (a town reviewer or a
    /// district approver of its area; the household must hold a category — e.g. a case built
    /// at 已认定 — so that something is proposed), then taken by a new 专项部门 user of the
    /// item's department at the district until it is in `state`: 已受理 accepted; 已落实
    /// accepted, then delivered today for the proposed amount (or 0); 已退回 declined with a
    /// reason. Answers the referral.
    pub async fn referral_at(
        &self,
        sender: &Actor,
        household: &Household,
        state: ReferralState,
    ) -> Referral {
        let row_id = self.household_row_id(household).await;
        let assistance = self
            .app
            .household_assistance(sender, row_id)
            .await
            .unwrap_or_else(|error| panic!("assistance: {}", error.message()));
        let proposal = assistance.proposals.proposed.first().unwrap_or_else(|| {
            panic!(
                "nothing is proposed to {} (it holds {:?}): build a case at 已认定 first",
                household.external_id, assistance.categories
            )
        });
        let id = self
            .app
            .create_referral(sender, row_id, &proposal.item_code)
            .await
            .unwrap_or_else(|error| panic!("referral: {}", error.message()));
        let handler = self
            .department_user(&proposal.department, &household.area[..6])
            .await;
        let today = self.app.today().to_string();
        let acts = match state {
            ReferralState::Sent => vec![],
            ReferralState::Accepted => vec![accept()],
            ReferralState::Delivered => vec![
                accept(),
                ReferralAct::Deliver {
                    amount: proposal
                        .amount
                        .map_or_else(|| "0".to_owned(), |amount| amount.to_string()),
                    on: today,
                    note: "已发放".to_owned(),
                },
            ],
            ReferralState::Declined => vec![ReferralAct::Decline {
                reason: "不符合本项目条件".to_owned(),
            }],
        };
        for act in acts {
            self.app
                .act_on_referral(&handler, id, &act)
                .await
                .unwrap_or_else(|error| panic!("referral {id}: {}", error.message()));
        }
        Referral {
            id,
            item_code: proposal.item_code.clone(),
            department: proposal.department.clone(),
            handler,
        }
    }
}

fn accept() -> ReferralAct {
    ReferralAct::Accept {
        note: String::new(),
    }
}

/// A registered household, as built.
#[derive(Clone, Debug)]
pub struct Household {
    pub external_id: String,
    pub area: String,
    /// The head's name (the applicant of the cases built on it).
    pub head_name: String,
    /// Its line in the interchange format, as imported (what a survey records).
    pub line: String,
    /// The members' ID numbers, head first.
    pub id_numbers: Vec<String>,
}

pub struct HouseholdBuilder<'w> {
    world: &'w World,
    external_id: String,
    area: String,
    members: Vec<(String, String, &'static str)>,
    wages: i64,
    lifted: bool,
    risks: Vec<&'static str>,
}

impl HouseholdBuilder<'_> {
    /// The head, by the first 17 digits of the ID number.
    pub fn head(self, first17: &str, name: &str) -> Self {
        self.member(first17, name, "head")
    }

    pub fn member(mut self, first17: &str, name: &str, relation: &'static str) -> Self {
        self.members
            .push((id_number(first17), name.to_owned(), relation));
        self
    }

    /// Wages of the last 12 months in yuan (12 000 unless set: a poor household).
    pub fn wages(mut self, yuan: i64) -> Self {
        self.wages = yuan;
        self
    }

    /// 脱贫户: lifted out of poverty (`lifted_from_poverty`).
    pub fn lifted(mut self) -> Self {
        self.lifted = true;
        self
    }

    /// A risk of the household (`illness`, `disability`, … of `spec/HOUSEHOLD.md`).
    pub fn risk(mut self, risk: &'static str) -> Self {
        self.risks.push(risk);
        self
    }

    /// The household's line in the interchange format (`spec/HOUSEHOLD.md`).
    pub fn json(&self) -> String {
        let members: Vec<serde_json::Value> = self
            .members
            .iter()
            .map(|(id, name, relation)| {
                serde_json::json!({ "id_number": id, "name": name, "relation": relation })
            })
            .collect();
        serde_json::json!({
            "id": self.external_id, "area_code": self.area, "hukou": "rural",
            "members": members, "income_12m": { "wages": self.wages },
            "lifted_from_poverty": self.lifted, "risks": self.risks,
        })
        .to_string()
    }

    /// Imports it (as the console's household import does).
    pub async fn add(self) -> Household {
        self.world
            .app
            .import_households("test", "built.jsonl", &self.json(), &|_| {})
            .await
            .unwrap_or_else(|error| panic!("household {}: {error:?}", self.external_id));
        Household {
            head_name: self
                .members
                .first()
                .map(|(_, name, _)| name.clone())
                .unwrap_or_default(),
            line: self.json(),
            external_id: self.external_id,
            area: self.area,
            id_numbers: self.members.into_iter().map(|(id, _, _)| id).collect(),
        }
    }
}

/// Asserts that `app`'s audit chain verifies whole (`backend` names the store in a failure).
pub async fn assert_audit_intact(app: &app::App, backend: &str) {
    let verification = app.verify_audit(None).await.unwrap();
    assert!(
        matches!(verification, store::audit::Verification::Intact { .. }),
        "{backend}: {verification:?}"
    );
}
