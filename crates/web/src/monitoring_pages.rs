//! 监测待识别 (rules 6 and 9, 同步认定): the households of the user's area that meet a
//! monitoring condition today but are not monitored — 低保 and 特困 households included — as a
//! page (`/monitoring`) and in the API (`/api/v1/monitoring/candidates`), 50 a page after the
//! cursor `after=`, read from the district's last count (`app::golive`), never a registry scan.

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::{ApiError, PageError};
use crate::session::{ApiUser, PageUser};
use app::golive::MonitoringWorklist;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklistQuery {
    #[serde(default)]
    after: Option<String>,
}

impl WorklistQuery {
    fn after(&self) -> Option<&str> {
        self.after.as_deref().filter(|text| !text.is_empty())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "monitoring.html")]
pub struct MonitoringPage {
    chrome: Chrome,
    list: MonitoringWorklist,
    first_page: bool,
}

impl MonitoringPage {
    /// 数据截至 of the list, or 统计中.
    fn counted(&self) -> String {
        match self.list.counted_at {
            Some(at) if self.list.recounting => format!(
                "名单为 {} 的统计，参数或日期已变，正在重新统计",
                app::report::counted_at_text(at)
            ),
            Some(at) => format!("名单统计截至 {}", app::report::counted_at_text(at)),
            None => "名单统计中，稍后刷新本页".to_owned(),
        }
    }
}

/// `GET /monitoring[?after=…]`.
pub async fn worklist(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<WorklistQuery>,
) -> Result<MonitoringPage, PageError> {
    let list = state
        .app
        .monitoring_worklist(&signed.actor, query.after())
        .await?;
    Ok(MonitoringPage {
        chrome: Chrome::of(&signed),
        list,
        first_page: query.after().is_none(),
    })
}

/// `GET /api/v1/monitoring/candidates[?after=…]`.
pub async fn worklist_api(
    State(state): State<WebState>,
    ApiUser(signed): ApiUser,
    Query(query): Query<WorklistQuery>,
) -> Result<Json<Value>, ApiError> {
    let list = state
        .app
        .monitoring_worklist(&signed.actor, query.after())
        .await?;
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|item| {
            let candidate = &item.candidate;
            json!({
                "household_row_id": candidate.household_id,
                "household_id": candidate.external_id,
                "area_code": candidate.area_code,
                "place_name": item.place_name,
                "head_name": candidate.head_name,
                "members": candidate.members,
                "monitoring_kind": candidate.kind.code(),
                "primary_category": candidate.primary.map(|category| category.code()),
                "pending": candidate.pending,
            })
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "total": list.total,
        "next": list.next,
        "counted_at": list.counted_at.map(|at| at.to_rfc3339()),
        "recounting": list.recounting,
    })))
}
