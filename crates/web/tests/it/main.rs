//! App and web tests: one binary. Each test spawns a `TestApp` (fresh store, places, one user
//! per role, households in two towns, the server on a port-0 listener) on SQLite, and again on
//! a fresh PostgreSQL database when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod access;
mod api;
mod apply;
mod assistance;
mod audit;
mod audit_log;
mod calendar;
mod capacity;
mod cases;
mod corpus;
mod disclosure;
mod forms;
mod hardening;
mod helpers;
mod home;
mod intake_watch;
mod monitoring;
mod pages;
mod payee;
mod pending;
mod policy;
mod process;
mod reports;
mod rolls;
mod roster;
mod search;
mod sessions;
mod survey;
mod users;
mod warnings;
