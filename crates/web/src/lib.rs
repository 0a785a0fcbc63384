//! The web shell: Simplified-Chinese HTML pages and the JSON API under `/api/v1/`.
//!
//! Boundary: handlers translate HTTP to use cases of `app` and back; no SQL, no rules here
//! (this crate does not depend on `store`). Every page and API route but `/login`, `/healthz`,
//! `/static/*`, `/track`, `/apply`, `/public/{area}`, `GET /api/v1/disclosure/{area}` and `POST /api/v1/session` requires a live session; every state-changing request
//! carries the session's CSRF token (a form field for pages, the `X-CSRF-Token` header for the API).

mod api;
mod apply_pages;
mod assist_api;
mod assist_pages;
mod audit_pages;
mod calendar_pages;
mod capacity;
mod case_api;
mod case_input;
mod case_pages;
mod chrome;
mod cookies;
mod disclosure_pages;
mod document_pages;
mod documents_view;
mod error;
mod forms;
mod guard;
mod home_pages;
mod input;
mod monitoring_pages;
mod openapi;
mod pages;
mod policy_api;
mod policy_pages;
mod recheck_pages;
mod registry_pages;
mod report_pages;
mod roll_pages;
mod roster_pages;
mod session;
mod throttle;
mod upload;
mod user_api;
mod user_pages;
mod watch_pages;

use app::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use capacity::{Capacity, CapacityConfig, CapacityCounts};
pub use throttle::{TRACK_CLIENTS_KEPT, TRACK_LOOKUPS_PER_MINUTE, TrackThrottle};

/// The body limit of the routes that take a document (材料): the file's limit and a margin.
const DOCUMENT_BODY_BYTES: usize = app::documents::content::upload_body_limit();

/// Settings of the web shell.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Adds `Secure` to cookies (set it behind HTTPS).
    pub secure_cookies: bool,
    /// The server is reached only through one trusted reverse proxy that appends the client's
    /// address to `X-Forwarded-For`: the public tracking page counts lookups (and the online
    /// application its submissions) against that address instead of the proxy's. Off by default (the header is anyone's to write).
    pub behind_proxy: bool,
    /// Back-pressure: requests at once, queue wait, deadline (`capacity`).
    pub capacity: CapacityConfig,
    /// 监督电话 (issue 15 item 9): shown on the public disclosure pages, the board sheet,
    /// notices and 告知书 (`serve --supervision-phone`).
    pub supervision_phone: Option<String>,
    /// 救济机关 (issue 14 item 2): the bodies a 告知书 and a notice name for 行政复议 and
    /// 行政诉讼 (`serve --reconsideration-body`, `--litigation-court`).
    pub review_bodies: ReviewBodies,
}

/// 救济机关: where an applicant may apply for 行政复议 and bring 行政诉讼 against a decision,
/// named on the 不予认定告知书, the notices and `/track` beside the time limits (`review.*`).
/// Settings of the deployment, like the supervision telephone: the seed names neither body,
/// so none is assumed — unset, the documents say 依法申请行政复议 / 向人民法院提起行政诉讼 without a name.
/// `serve --demo` sets demo names marked （演示）.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewBodies {
    /// 行政复议机关, e.g. the district's people's government.
    pub reconsideration: Option<String>,
    /// The people's court for 行政诉讼.
    pub court: Option<String>,
}

#[derive(Clone, Debug)]
pub struct WebState {
    pub app: App,
    pub config: WebConfig,
    /// The public tracking page's lookups, counted per client.
    pub track_throttle: Arc<TrackThrottle>,
    /// The public online application's submissions (`POST /apply`), counted per client the
    /// same way.
    pub apply_throttle: Arc<TrackThrottle>,
    /// The public disclosure pages (`/public/{area}`, `/api/v1/disclosure/{area}`), counted
    /// per client the same way.
    pub disclosure_throttle: Arc<TrackThrottle>,
}

/// The whole router: pages, API, health.
pub fn router(app: App, config: WebConfig) -> Router {
    let capacity = Arc::new(Capacity::new(config.capacity.clone()));
    router_with(app, config, capacity)
}

/// The router with a given back-pressure limit (whose counts the caller keeps).
pub fn router_with(app: App, config: WebConfig, capacity: Arc<Capacity>) -> Router {
    let state = WebState {
        app,
        config,
        track_throttle: Arc::new(TrackThrottle::default()),
        apply_throttle: Arc::new(TrackThrottle::new(
            apply_pages::APPLICATIONS_PER_MINUTE,
            std::time::Duration::from_secs(60),
            TRACK_CLIENTS_KEPT,
        )),
        disclosure_throttle: Arc::new(TrackThrottle::default()),
    };
    Router::new()
        .route("/", get(pages::home))
        .route("/home", get(home_pages::home))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route(
            "/households",
            get(pages::household_list).post(pages::household_create),
        )
        .route("/households/new", get(pages::household_new))
        .route(
            "/households/{id}",
            get(pages::household_show).post(pages::household_update),
        )
        .route("/households/{id}/edit", get(pages::household_edit))
        .route("/assessment", get(registry_pages::assessment))
        .route("/simulation", get(registry_pages::simulation))
        .route(
            "/assistance",
            get(assist_pages::catalogue).post(assist_pages::item_save),
        )
        .route("/assistance/{code}", get(assist_pages::item))
        .route(
            "/referrals",
            get(assist_pages::queue).post(assist_pages::create),
        )
        .route("/referrals/{id}", post(assist_pages::act))
        .route("/referrals/{id}/slip", get(assist_pages::slip))
        .route("/reports", get(report_pages::reports))
        .route("/reports/xlsx", get(report_pages::report_xlsx))
        .route("/reports/print", get(report_pages::report_print))
        .route("/dashboard", get(report_pages::dashboard))
        .route("/warnings", get(watch_pages::warning_list))
        .route(
            "/warnings/{id}",
            get(watch_pages::warning_show).post(watch_pages::warning_act),
        )
        .route(
            "/feeds",
            get(watch_pages::feeds)
                .post(watch_pages::feed_upload)
                .layer(DefaultBodyLimit::max(watch_pages::FEED_BYTES)),
        )
        .route(
            "/rolls",
            get(roll_pages::rolls)
                .post(roll_pages::roll_upload)
                .layer(DefaultBodyLimit::max(roll_pages::ROLL_BYTES)),
        )
        .route("/rolls/accept", post(roll_pages::roll_accept))
        .route("/rechecks", get(recheck_pages::rechecks))
        .route("/monitoring", get(monitoring_pages::worklist))
        .route(
            "/contacts",
            get(watch_pages::contacts).post(watch_pages::contact_create),
        )
        .route("/policy", get(policy_pages::parameters))
        .route("/policy/{name}/values", post(policy_pages::add_value))
        .route(
            "/admin/users",
            get(user_pages::list).post(user_pages::create),
        )
        .route("/admin/users/new", get(user_pages::new_form))
        .route(
            "/admin/users/{id}",
            get(user_pages::show).post(user_pages::update),
        )
        .route("/admin/users/{id}/status", post(user_pages::set_status))
        .route(
            "/admin/users/{id}/password",
            post(user_pages::reset_password),
        )
        .route("/static/app.css", get(pages::stylesheet))
        .route("/static/dashboard.js", get(report_pages::dashboard_script))
        .route("/static/apply.js", get(apply_pages::apply_script))
        .route("/static/cards.js", get(pages::cards_script))
        .route("/static/members.js", get(pages::members_script))
        .route("/static/vendor/echarts.min.js", get(report_pages::echarts))
        .route(
            "/cases",
            get(case_pages::queue).post(case_pages::intake_submit),
        )
        .route("/cases/new", get(case_pages::intake_form))
        .route("/cases/recheck", post(case_pages::open_recheck))
        .route("/cases/{id}", get(case_pages::case_show))
        .route("/cases/{id}/actions", post(case_pages::case_act))
        .route("/cases/{id}/print/survey", get(case_pages::print_survey))
        .route("/cases/{id}/print/notice", get(case_pages::print_notice))
        .route("/cases/{id}/print/refusal", get(case_pages::print_refusal))
        .route(
            "/villages/{code}/print/notice",
            get(case_pages::print_village_notice),
        )
        .route(
            "/track",
            get(case_pages::track).post(case_pages::track_lookup),
        )
        .route(
            "/apply",
            get(apply_pages::apply_form)
                .post(apply_pages::apply_submit)
                .layer(DefaultBodyLimit::max(apply_pages::APPLY_BYTES)),
        )
        .route("/static/print.css", get(pages::print_stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/openapi.json", get(api::openapi))
        .route(
            "/api/v1/session",
            post(api::session_create).delete(api::session_delete),
        )
        .route(
            "/api/v1/households",
            get(api::household_list).post(api::household_create),
        )
        .route(
            "/api/v1/households/{id}",
            get(api::household_get).put(api::household_update),
        )
        .route(
            "/api/v1/cases",
            get(case_api::case_list).post(case_api::case_create),
        )
        .route("/api/v1/cases/{id}", get(case_api::case_get))
        .route("/api/v1/cases/{id}/actions", post(case_api::case_act))
        .route(
            "/api/v1/cases/{id}/team-candidates",
            get(case_api::team_candidates),
        )
        .route(
            "/api/v1/feeds",
            post(api::feed_create).layer(DefaultBodyLimit::max(watch_pages::FEED_BYTES)),
        )
        .route("/api/v1/warnings", get(api::warning_list))
        .route(
            "/api/v1/monitoring/candidates",
            get(monitoring_pages::worklist_api),
        )
        .route("/api/v1/assistance/items", get(assist_api::items))
        .route(
            "/api/v1/proposals/{household_id}",
            get(assist_api::proposals),
        )
        .route(
            "/api/v1/referrals",
            get(assist_api::referral_list).post(assist_api::referral_create),
        )
        .route("/api/v1/referrals/{id}", get(assist_api::referral_get))
        .route(
            "/api/v1/referrals/{id}/actions",
            post(assist_api::referral_action),
        )
        .route("/api/v1/policy/parameters", get(policy_api::parameters))
        .route(
            "/api/v1/policy/parameters/{name}/values",
            post(policy_api::add_value),
        )
        .route(
            "/api/v1/users",
            get(user_api::user_list).post(user_api::user_create),
        )
        // 公开 (issue 14 item 1): public lists, the board sheet, its posting, publications.
        .route("/public/{area}", get(disclosure_pages::public_page))
        .route(
            "/api/v1/disclosure/{area}",
            get(disclosure_pages::public_api),
        )
        .route(
            "/villages/{code}/print/disclosure",
            get(disclosure_pages::print_sheet),
        )
        .route(
            "/villages/{code}/disclosure/posted",
            post(disclosure_pages::record_posted),
        )
        .route("/disclosure", get(disclosure_pages::publications))
        .route("/audit", get(audit_pages::audit_log))
        .route("/audit/xlsx", get(audit_pages::audit_xlsx))
        .route("/audit/verify", post(audit_pages::audit_verify))
        .route("/api/v1/audit", get(audit_pages::api_audit_log))
        // 工作日历 (issue 14 item 5).
        .route(
            "/policy/calendar",
            get(calendar_pages::calendar).post(calendar_pages::add_year),
        )
        .route(
            "/api/v1/calendar",
            get(calendar_pages::calendar_api).post(calendar_pages::add_year_api),
        )
        // 名册查询 (issue 13 item 5).
        .route("/roster", get(roster_pages::roster))
        .route("/roster/xlsx", get(roster_pages::roster_xlsx))
        .route("/api/v1/roster", get(roster_pages::roster_api))
        // 材料 (D4, issue 15 item 3): a file's routes take its limit and a margin.
        .route(
            "/cases/{id}/documents",
            post(document_pages::case_upload).layer(DefaultBodyLimit::max(DOCUMENT_BODY_BYTES)),
        )
        .route(
            "/households/{id}/documents",
            post(document_pages::household_upload)
                .layer(DefaultBodyLimit::max(DOCUMENT_BODY_BYTES)),
        )
        .route("/documents/{id}", get(document_pages::document_show))
        .route(
            "/documents/{id}/thumbnail",
            get(document_pages::document_thumbnail),
        )
        .route(
            "/documents/{id}/withdraw",
            post(document_pages::document_withdraw),
        )
        .route(
            "/api/v1/cases/{id}/documents",
            get(document_pages::api_case_list)
                .post(document_pages::api_case_upload)
                .layer(DefaultBodyLimit::max(DOCUMENT_BODY_BYTES)),
        )
        .route(
            "/api/v1/households/{id}/documents",
            get(document_pages::api_household_list)
                .post(document_pages::api_household_upload)
                .layer(DefaultBodyLimit::max(DOCUMENT_BODY_BYTES)),
        )
        .route("/api/v1/documents/{id}", get(document_pages::api_document))
        .fallback(pages::not_found)
        // Inside the back-pressure limit: a body still arriving holds its place.
        .layer(axum::middleware::from_fn(input::screen))
        .layer(axum::middleware::from_fn_with_state(
            capacity,
            capacity::limit,
        ))
        .layer(axum::middleware::from_fn(guard::harden))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

pub use apply_pages::APPLICATIONS_PER_MINUTE;
pub use report_pages::standalone_report;

/// Serves on an already bound listener until `shutdown` completes (tests pass port 0). Each
/// request knows its peer's address (`ConnectInfo`), which the tracking page's throttle counts by.
/// On shutdown it logs how many requests the back-pressure limit refused, timed out and saw
/// cancelled.
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: WebConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let capacity = Arc::new(Capacity::new(config.capacity.clone()));
    let served = axum::serve(
        listener,
        router_with(app, config, Arc::clone(&capacity))
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let counts = capacity.counts();
    tracing::info!(
        refused = counts.refused,
        timed_out = counts.timed_out,
        cancelled = counts.cancelled,
        "server stopped"
    );
    served
}
