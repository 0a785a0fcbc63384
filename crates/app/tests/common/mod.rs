//! What the app suites share: a clock the test sets, dates from text, and the stores each test
//! runs on (SQLite in a tempdir always, a fresh PostgreSQL database when `TEST_DATABASE_URL` is
//! set).
#![allow(dead_code, clippy::unwrap_used)] // each suite uses its part; tests fail loudly

use app::Clock;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::sync::Mutex;
use store::Store;

#[derive(Debug)]
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    /// Starts at 10:00 China Standard Time on `day`.
    pub fn on(day: &str) -> Self {
        let clock = FixedClock(Mutex::new(Utc::now()));
        clock.set(date(day));
        clock
    }

    /// 10:00 China Standard Time on `date`.
    pub fn set(&self, date: NaiveDate) {
        *self.0.lock().unwrap() = Utc.from_utc_datetime(&date.and_hms_opt(2, 0, 0).unwrap());
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

pub fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The suite's stores, named by backend; `name` tells the databases apart.
pub async fn stores(name: &str) -> Vec<(&'static str, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = testkit::sqlite_url(dir.path(), name).await;
    let mut stores = vec![(
        "sqlite",
        Store::connect(&url)
            .await
            .unwrap()
            .with_audit_key(testkit::audit_key()),
        dir,
    )];
    if testkit::postgres_url().is_some() {
        let (url, _name) = testkit::fresh_postgres(&format!("safetynet_{name}")).await;
        stores.push((
            "postgres",
            Store::connect(&url)
                .await
                .unwrap()
                .with_audit_key(testkit::audit_key()),
            tempfile::tempdir().unwrap(),
        ));
    }
    stores
}
