//! 我的工作 (`/home`, issue 15 item 6): each role's arrival page — what waits on the user and
//! what is due first in their area (`app::home`), each list cut to its first lines with a
//! count and a link to the full, paged list.

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::recheck_pages::horizon;
use crate::session::PageUser;
use app::home::Home;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

/// Lines of each list shown on the home page (the full lists are a link away).
const LINES_SHOWN: usize = 5;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    chrome: Chrome,
    home: Home,
    lines: usize,
    today: chrono::NaiveDate,
}

impl HomePage {
    fn queue_shown(&self) -> &[app::cases::WorkItem] {
        let items = &self.home.queue.items;
        &items[..items.len().min(self.lines)]
    }

    fn more_queue(&self) -> bool {
        self.home.queue.total > self.lines
    }

    fn area_shown(&self) -> &[app::cases::WorkItem] {
        self.home
            .area_cases
            .as_ref()
            .map_or(&[], |area| &area.items[..area.items.len().min(self.lines)])
    }

    fn rechecks_shown(&self) -> &[workflow::RecheckDue] {
        self.home.rechecks.as_ref().map_or(&[], |rechecks| {
            &rechecks.items[..rechecks.items.len().min(self.lines)]
        })
    }

    /// Open warnings among the first page, the ones shown.
    fn open_warnings(&self) -> Vec<&app::warnings::WarningItem> {
        self.home
            .warnings
            .items
            .iter()
            .filter(|warning| warning.closed_on.is_none())
            .take(self.lines)
            .collect()
    }
}

/// `GET /home`.
pub async fn home(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<HomePage, PageError> {
    let today = state.app.today();
    let home = state.app.home(&signed.actor, today, horizon(today)).await?;
    Ok(HomePage {
        chrome: Chrome::of(&signed),
        home,
        lines: LINES_SHOWN,
        today,
    })
}
