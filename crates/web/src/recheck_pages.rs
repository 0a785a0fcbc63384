//! 定期核查 due list (`/rechecks`, W1): the households of the user's area whose re-check
//! falls due within the planning horizon, in due order, 50 a page after the cursor `after=`
//! (`app::rechecks`, read with an index from the stored schedule).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::session::PageUser;
use app::rechecks::RecheckPage;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use serde::Deserialize;

/// Days ahead the re-check due list looks (planning horizon of the list, not a policy number).
pub(crate) const RECHECK_HORIZON_DAYS: u64 = 30;

/// The last day the due list covers.
pub(crate) fn horizon(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_days(chrono::Days::new(RECHECK_HORIZON_DAYS))
        .unwrap_or(today)
}

#[derive(Deserialize)]
pub struct RecheckQuery {
    #[serde(default)]
    after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "rechecks.html")]
pub struct RechecksPage {
    chrome: Chrome,
    today: NaiveDate,
    until: NaiveDate,
    page: RecheckPage,
    can_open: bool,
    first_page: bool,
}

/// `GET /rechecks[?after=…]`.
pub async fn rechecks(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<RecheckQuery>,
) -> Result<RechecksPage, PageError> {
    let today = state.app.today();
    let until = horizon(today);
    let after = query.after.as_deref().filter(|text| !text.is_empty());
    let page = state.app.recheck_due(&signed.actor, until, after).await?;
    Ok(RechecksPage {
        chrome: Chrome::of(&signed),
        today,
        until,
        page,
        can_open: workflow::INTAKE_ROLES.contains(&signed.actor.role),
        first_page: after.is_none(),
    })
}
