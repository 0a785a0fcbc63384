//! 构建测试世界 in a line (feature `builders`): an `App` on a template-copied store with the
//! Tongliang places and a clock the test moves (`World::on`), then users of any role and
//! area, households and warnings at any state of the loop, each one call:
//!
//! ```ignore
//! let world = World::on(store, "2026-11-02").await;
//! let town = world.user(Role::TownReviewer, "500151001").await;
//! let h1 = world.household("H1", "500151001200").head("50022419700101001", "韩一").add().await;
//! let warning = world.warning_at(&town, &h1, WarningState::Verified).await;
//! let case = world.case_at(&town, &h1, Step::VillageReview).await;
//! let photo = world.document(&town, Owner::Case(case), "id_card", "id.png", &png).await;
//! ```
//!
//! Everything goes through the use cases (no rows written by hand), so a built world holds
//! what the product would hold, audited.

use app::cases::{CaseAction, JointReviewInput, NewIntake};
use app::contacts::{ContactChannel, ContactOutcome, NewContactInput};
use app::documents::{DocumentUpload, Owner};
use app::users::{Creator, NewUser};
use app::warnings::{Judgement, LoopAction, WarningState};
use app::{Actor, App, AppSettings, Clock};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{PlaceCode, Role};
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

/// The steps `World::case_at` builds a case up to, in the order of the process.
const BUILT_STEPS: [Step; 6] = [
    Step::Received,
    Step::Comparing,
    Step::Surveying,
    Step::VillageReview,
    Step::JointReview,
    Step::Notice,
];

impl World {
    /// 救助帮扶申请 of `household`, taken in by `town` (a town reviewer) at the village window
    /// with the head's consent signed today, then moved until it stands at `step` — 受理,
    /// 信息比对, 入户调查, 村社评议, 镇街联合研判 or 公示: the survey records the household as
    /// imported, by `town` and a new village assistant of its village; the village review
    /// agrees; the joint review agrees with the proposal, each pending test judged to hold
    /// (特困 dispersed); the notice is posted today. Answers the case's id.
    pub async fn case_at(&self, town: &Actor, household: &Household, step: Step) -> i64 {
        let reach = BUILT_STEPS
            .iter()
            .position(|built| *built == step)
            .unwrap_or_else(|| panic!("case_at builds a case up to 公示, not {}", step.label()));
        let today = self.app.today();
        let intake = NewIntake {
            kind: CaseKind::Application,
            channel: Channel::VillageWindow,
            household_id: household.external_id.clone(),
            area: PlaceCode::parse(&household.area).unwrap(),
            applicant: household.head_name.clone(),
            consent: Some(Consent {
                signed_on: today,
                signer: household.head_name.clone(),
            }),
            summary: "因病致贫，申请救助".to_owned(),
        };
        let (case_id, _) = self
            .app
            .open_case(town, intake)
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
                surveyed_on: today,
            })));
        }
        if reach >= 4 {
            moves.push(CaseAction::Move(Action::RecordVillageReview(
                VillageReview {
                    held_on: today,
                    attendance: 12,
                    outcome: ReviewOutcome::Agreed,
                    note: "同意".to_owned(),
                },
            )));
        }
        for action in moves {
            self.act_on_case(town, case_id, action).await;
        }
        if reach >= 5 {
            let proposal = self.app.case_proposal(town, case_id).await.unwrap();
            let review = JointReviewInput::agreeing_with(&proposal, today, "入户核实");
            self.act_on_case(town, case_id, CaseAction::RecordJointReview(review))
                .await;
            self.act_on_case(town, case_id, CaseAction::Move(Action::PostNotice))
                .await;
        }
        case_id
    }

    async fn act_on_case(&self, actor: &Actor, case_id: i64, action: CaseAction) {
        self.app
            .act_on_case(actor, case_id, action)
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
