//! `TestApp`: a store of its own (SQLite in a tempdir; PostgreSQL too when `TEST_DATABASE_URL`
//! is set) holding the Tongliang place list, one user per role and a few households in two
//! towns (a copy of the fixture's database, built once per test process), and the web server on
//! a port-0 listener with a oneshot shutdown.

use app::users::{Creator, NewUser};
use app::{App, AppSettings, Clock};
use chrono::{DateTime, TimeZone, Utc};
use domain::{PlaceCode, Role};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use store::Store;
use tokio::sync::oneshot;

/// The password of every test user.
pub const PASSWORD: &str = "correct-horse-1";

/// The day the fixtures were filed (CST): memberships start here.
pub const FILED_ON: &str = "2026-01-15";
/// The day the tests run (CST): edits are dated here.
pub const TODAY: &str = "2026-11-28";

/// A clock the test sets and moves.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn at(year: i32, month: u32, day: u32) -> Self {
        // 10:00 in China Standard Time.
        TestClock(Mutex::new(
            Utc.with_ymd_and_hms(year, month, day, 2, 0, 0).unwrap(),
        ))
    }

    pub fn set(&self, year: i32, month: u32, day: u32) {
        *self.0.lock().unwrap() = Utc.with_ymd_and_hms(year, month, day, 2, 0, 0).unwrap();
    }

    pub fn advance(&self, duration: chrono::Duration) {
        let mut now = self.0.lock().unwrap();
        *now += duration;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// SQLite always; PostgreSQL as well when `TEST_DATABASE_URL` names a server.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if testkit::postgres_url().is_some() {
        backends.push(Backend::Postgres);
    }
    backends
}

/// The users of every role: (username, role, area).
pub const USERS: [(&str, Role, &str); 9] = [
    ("bachuan", Role::TownReviewer, "500151001"),
    ("tuqiao", Role::TownReviewer, "500151100"),
    ("cunshe", Role::VillageAssistant, "500151001200"),
    ("wangge", Role::GridWorker, "500151001200001"),
    ("minzheng", Role::DistrictCivilAffairs, "500151"),
    ("nongye", Role::DistrictAgriculture, "500151"),
    ("bumen", Role::Department, "500151"),
    ("shenji", Role::Auditor, "500151"),
    ("admin", Role::Admin, "500151"),
];

/// A valid GB 11643 number from its first 17 digits.
pub fn id_number(first17: &str) -> String {
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

/// The same number with a wrong check character.
pub fn with_wrong_check(id_number: &str) -> String {
    let last = if id_number.ends_with('1') { '2' } else { '1' };
    format!("{}{last}", &id_number[..17])
}

/// A household of the fixture.
pub struct Fixture {
    pub external_id: &'static str,
    pub area: &'static str,
    pub head_name: &'static str,
    pub head_id: String,
    /// The internal id, known after the import.
    pub id: i64,
}

/// The JSON line of a household in the interchange format.
pub fn household_json(external_id: &str, area: &str, members: &[(&str, &str, &str)]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|(id_number, name, relation)| serde_json::json!({ "id_number": id_number, "name": name, "relation": relation }))
        .collect();
    serde_json::json!({ "id": external_id, "area_code": area, "hukou": "rural", "members": members })
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub app: App,
    pub clock: Arc<TestClock>,
    /// 巴川街道 永院村 (inside the village assistant's and grid worker's village).
    pub bachuan_village: Fixture,
    /// 巴川街道 东阳社区 (same town, another village).
    pub bachuan_community: Fixture,
    /// 土桥镇 万槽村 (the other town).
    pub tuqiao_village: Fixture,
    /// The PostgreSQL database of this app, dropped by `stop`.
    database: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// The fixture's database (the place list, the users, the households), built once per test
/// process and per store and copied for each `TestApp`: building it (nine Argon2 hashes, the
/// place list, an import) is most of a short test's time.
static FIXTURE: testkit::Seeded = testkit::Seeded::new("it");

/// The fixture's households: 巴川街道 永院村, 巴川街道 东阳社区, 土桥镇 万槽村 (ids not yet known).
fn fixtures() -> [Fixture; 3] {
    [
        Fixture {
            external_id: "BC-0001",
            area: "500151001200",
            head_name: "张三",
            head_id: "500224194503120011".to_owned(),
            id: 0,
        },
        Fixture {
            external_id: "BC-0002",
            area: "500151001001",
            head_name: "钱东阳",
            head_id: id_number("50022419620704031"),
            id: 0,
        },
        Fixture {
            external_id: "TQ-0001",
            area: "500151100200",
            head_name: "赵铁柱",
            head_id: id_number("50022419580211051"),
            id: 0,
        },
    ]
}

/// Fills a migrated store with the fixture, through the use cases, on the day it was filed.
async fn seed_fixture(store: Store) {
    let backend = store.backend();
    let clock = Arc::new(TestClock::at(2026, 1, 15));
    let app = App::new(
        store.with_audit_key(testkit::audit_key()),
        clock,
        AppSettings::default(),
    );
    let places =
        domain::parse_place_list(include_str!("../../../../data/places/tongliang.csv")).unwrap();
    app.load_places("test", &places).await.unwrap();
    for (username, role, area) in USERS {
        let area = PlaceCode::parse(area).unwrap();
        let user = NewUser {
            username,
            display_name: username,
            role,
            area: &area,
            password: PASSWORD,
        };
        app.create_user(Creator::Console("test"), user)
            .await
            .unwrap();
    }
    let [bachuan_village, bachuan_community, tuqiao_village] = fixtures();
    let lines = [
        household_json(
            bachuan_village.external_id,
            bachuan_village.area,
            &[
                (
                    bachuan_village.head_id.as_str(),
                    bachuan_village.head_name,
                    "head",
                ),
                ("500224195003150315", "李秀英", "spouse"),
            ],
        ),
        household_json(
            bachuan_community.external_id,
            bachuan_community.area,
            &[(
                bachuan_community.head_id.as_str(),
                bachuan_community.head_name,
                "head",
            )],
        ),
        household_json(
            tuqiao_village.external_id,
            tuqiao_village.area,
            &[
                (
                    tuqiao_village.head_id.as_str(),
                    tuqiao_village.head_name,
                    "head",
                ),
                (
                    id_number("50022420160909071").as_str(),
                    "赵小花",
                    "grandchild",
                ),
            ],
        ),
    ];
    let content: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let report = app
        .import_households("test", "fixture.jsonl", &content, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.created, 3, "{backend:?}");
}

/// A copy of the fixture's store, and on PostgreSQL the name of the database created for it.
async fn fixture_store(backend: Backend, dir: &tempfile::TempDir) -> (Store, Option<String>) {
    let (url, database) = match backend {
        Backend::Sqlite => (FIXTURE.sqlite_url(dir.path(), seed_fixture).await, None),
        Backend::Postgres => {
            let (url, name) = FIXTURE.postgres(seed_fixture).await;
            (url, Some(name))
        }
    };
    let store = Store::connect(&url)
        .await
        .unwrap()
        .with_audit_key(testkit::audit_key());
    (store, database)
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (store, database) = fixture_store(backend, &dir).await;
        let clock = Arc::new(TestClock::at(2026, 1, 15));
        let app = App::new(store, clock.clone(), AppSettings::default());
        let [
            mut bachuan_village,
            mut bachuan_community,
            mut tuqiao_village,
        ] = fixtures();
        {
            let mut conn = app.store().read().await.unwrap();
            for fixture in [
                &mut bachuan_village,
                &mut bachuan_community,
                &mut tuqiao_village,
            ] {
                fixture.id = store::households::by_external_id(&mut conn, fixture.external_id)
                    .await
                    .unwrap()
                    .unwrap()
                    .id;
            }
        }
        clock.set(2026, 11, 28);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        let server = tokio::spawn(web::serve(
            listener,
            app.clone(),
            web::WebConfig::default(),
            async move {
                let _ = on_shutdown.await;
            },
        ));
        TestApp {
            backend,
            base,
            app,
            clock,
            bachuan_village,
            bachuan_community,
            tuqiao_village,
            database,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client without a session; it does not follow redirects, so tests see them.
    pub fn anonymous(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// A client without a session whose connections come from `local` (another loopback
    /// address, such as 127.0.0.2, is another client to the server).
    pub fn anonymous_from(&self, local: std::net::IpAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(local)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// A client signed in through `POST /api/v1/session`.
    pub async fn api_user(&self, username: &str) -> ApiUser {
        let client = self.anonymous();
        let response = client
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{} login {username}",
            self.backend
        );
        let body: Value = response.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        ApiUser {
            client,
            csrf,
            base: self.base.clone(),
        }
    }

    /// The hidden `csrf` field of the form at `path`, as `client` is served it.
    pub async fn form_csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let page = client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        hidden_field(&page, "csrf").unwrap()
    }

    /// A client signed in through the login form (GET /login, then POST /login); the CSRF token
    /// of the session is read from the registry page.
    pub async fn page_user(&self, username: &str) -> PageUser {
        let client = self.anonymous();
        let login_csrf = self.form_csrf(&client, "/login").await;
        let response = client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("csrf", &login_csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{} login form {username}",
            self.backend
        );
        // Every signed-in page carries the session's token (the sign-out form): the role's
        // start page, where `/` sends it, has it.
        let start = client.get(self.url("/")).send().await.unwrap();
        let location = start.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_owned();
        let page = client.get(self.url(&location)).send().await.unwrap();
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "{} {username}: {location}",
            self.backend
        );
        let csrf = hidden_field(&page.text().await.unwrap(), "csrf").unwrap_or_default();
        assert!(
            !csrf.is_empty(),
            "{} {username}: signed-in pages carry the csrf token",
            self.backend
        );
        PageUser {
            client,
            csrf,
            base: self.base.clone(),
        }
    }

    /// The stored row of a household, read straight from the store.
    pub async fn stored(&self, id: i64) -> store::households::HouseholdRow {
        let mut conn = self.app.store().read().await.unwrap();
        store::households::get(&mut conn, id)
            .await
            .unwrap()
            .unwrap()
    }

    pub async fn household_count(&self) -> i64 {
        let mut conn = self.app.store().read().await.unwrap();
        store::households::count(&mut conn).await.unwrap()
    }

    /// Audit events about one record, oldest first.
    pub async fn audit_of(&self, entity: &str, entity_id: &str) -> Vec<store::audit::AuditEntry> {
        let mut conn = self.app.store().read().await.unwrap();
        let mut entries = store::audit::for_entity(&mut conn, entity, entity_id, 1000)
            .await
            .unwrap();
        entries.reverse();
        entries
    }

    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.app.store().close().await;
        if let Some(database) = self.database.take() {
            testkit::drop_postgres(&database).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The value of the first `<input type="hidden" name="NAME" value="…">` of a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// A client signed in through the API, with its CSRF token for writes.
pub struct ApiUser {
    pub client: reqwest::Client,
    pub csrf: String,
    base: String,
}

impl ApiUser {
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .put(format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(body)
            .send()
            .await
            .unwrap();
        json_of(response).await
    }
}

/// The status and JSON body (`null` when empty).
pub async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// A client signed in through the login form, with the session's CSRF token for forms.
pub struct PageUser {
    pub client: reqwest::Client,
    pub csrf: String,
    base: String,
}

impl PageUser {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form as is (the caller decides about the csrf field).
    pub async fn post_form(&self, path: &str, pairs: &[(String, String)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(pairs)
            .send()
            .await
            .unwrap()
    }
}

/// The household form's fields for the given members (id number, name, relation), with the
/// session's csrf token and the record version.
pub fn household_form(
    csrf: Option<&str>,
    version: i64,
    external_id: &str,
    area: &str,
    members: &[(&str, &str, &str)],
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut add = |key: &str, value: &str| pairs.push((key.to_owned(), value.to_owned()));
    if let Some(csrf) = csrf {
        add("csrf", csrf);
    }
    add("version", &version.to_string());
    add("id", external_id);
    add("area_code", area);
    add("hukou", "rural");
    for key in ["g_education", "g_medical", "g_housing", "g_drinking_water"] {
        add(key, "on");
    }
    for (i, (id_number, name, relation)) in members.iter().enumerate() {
        add(&format!("m{i}_id_number"), id_number);
        add(&format!("m{i}_name"), name);
        add(&format!("m{i}_relation"), relation);
        add(&format!("m{i}_labour_capacity"), "full");
        add(&format!("m{i}_schooling"), "none");
        add(&format!("m{i}_care_need"), "self");
    }
    pairs
}

// 材料 and the other uploads in a line (issue 17 item 6): a document as one call of the API
// or of the page form, a file read as it is served, a case opened to attach it to.

const BOUNDARY: &str = "----safetynet-documents-test";

/// A multipart body: text fields, then the file part.
pub fn multipart(fields: &[(&str, &str)], file_name: &str, media: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {media}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The `Content-Type` of a `multipart` body.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A file to upload: its kind (材料种类), name, media type and bytes.
#[derive(Clone, Copy)]
pub struct Upload<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub media: &'a str,
    pub bytes: &'a [u8],
}

impl<'a> Upload<'a> {
    pub fn new(kind: &'a str, file_name: &'a str, media: &'a str, bytes: &'a [u8]) -> Self {
        Upload {
            kind,
            file_name,
            media,
            bytes,
        }
    }
}

impl ApiUser {
    /// Posts `upload` to `path` (`/api/v1/cases/{id}/documents`, …) with the CSRF header.
    pub async fn upload(&self, path: &str, upload: Upload<'_>) -> (StatusCode, Value) {
        let body = multipart(
            &[("kind", upload.kind)],
            upload.file_name,
            upload.media,
            upload.bytes,
        );
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Content-Type", multipart_type())
            .header("X-CSRF-Token", &self.csrf)
            .body(body)
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    /// A GET answered as it is (a file, its headers).
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
}

impl PageUser {
    /// Posts `upload` through a page's form (`/cases/{id}/documents`, …) with the csrf field.
    pub async fn upload(&self, path: &str, upload: Upload<'_>) -> reqwest::Response {
        let body = multipart(
            &[("csrf", &self.csrf), ("kind", upload.kind)],
            upload.file_name,
            upload.media,
            upload.bytes,
        );
        self.client
            .post(format!("{}{path}", self.base))
            .header("Content-Type", multipart_type())
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A GET answered as it is (a file, its headers).
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// An application (救助帮扶申请) on the 永院村 household (巴川街道), taken in by `bachuan`
    /// through the API: its case id and tracking number.
    pub async fn open_application(&self) -> (i64, String) {
        let api = self.api_user("bachuan").await;
        let village = &self.bachuan_village;
        let (status, body) = api
            .post(
                "/api/v1/cases",
                &serde_json::json!({
                    "kind": "application", "channel": "town_window", "household_id": village.external_id,
                    "area_code": village.area, "applicant": village.head_name,
                    "consent": {"signer": village.head_name, "signed_on": "2026-11-28"},
                    "summary": "因病致贫",
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_i64().unwrap(),
            body["tracking_number"].as_str().unwrap().to_owned(),
        )
    }

    /// The audit log's actions on an entity that start with `prefix`, oldest first.
    pub async fn audit_actions(&self, entity: &str, entity_id: &str, prefix: &str) -> Vec<String> {
        self.audit_of(entity, entity_id)
            .await
            .into_iter()
            .map(|entry| entry.event.action)
            .filter(|action| action.starts_with(prefix))
            .collect()
    }
}

/// A form's fields as `post_form` sends them.
pub fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The text of the `<span … id="FIELD-error">` beside a field.
pub fn field_error<'a>(page: &'a str, field: &str) -> &'a str {
    let marker = format!("id=\"{field}-error\">");
    let Some(start) = page.find(&marker).map(|at| at + marker.len()) else {
        return "";
    };
    let end = page[start..]
        .find("</span>")
        .map_or(page.len(), |end| start + end);
    &page[start..end]
}
