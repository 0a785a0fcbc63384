//! 救助帮扶 pages: the catalogue and its editing (district civil affairs), the referral queue
//! (转介队列) with the department's actions, and the printable referral slip (转介单).

use crate::WebState;
use crate::assist_api::{act_of, parse_state};
use crate::error::PageError;
use crate::pages::Chrome;
use crate::session::PageUser;
use app::AppError;
use app::assistance::{CatalogueView, ItemVersion, ReferralQueue, ReferralView};
use askama::Template;
use askama_web::WebTemplate;
use assist::{ItemDef, ItemPeriod, Need, Signal};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::Category;
use serde::Deserialize;

fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

fn yuan_of(fen: &Option<i64>) -> String {
    fen.map(|fen| domain::Yuan::from_fen(fen).to_string())
        .unwrap_or_default()
}

#[derive(Template, WebTemplate)]
#[template(path = "assistance.html")]
pub struct CataloguePage {
    chrome: Chrome,
    v: CatalogueView,
}

impl CataloguePage {
    fn changed(&self, code: &str) -> String {
        self.v
            .changes
            .iter()
            .find(|(c, _, _)| c == code)
            .map(|(_, at, by)| format!("{}（{}）", at.get(..10).unwrap_or(at), by))
            .unwrap_or_default()
    }
}

/// `GET /assistance`: the catalogue in force.
pub async fn catalogue(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<CataloguePage, PageError> {
    let v = state.app.assistance_catalogue(&signed.actor).await?;
    Ok(CataloguePage {
        chrome: Chrome::of(&signed),
        v,
    })
}

/// The form's values (strings as typed, so a fault loses nothing).
pub struct ItemForm {
    code: String,
    name: String,
    needs: Vec<String>,
    department: String,
    categories: Vec<String>,
    signals: Vec<String>,
    rank: String,
    amount_param: String,
    period: String,
    source: String,
    status: String,
    active: bool,
    note: String,
    version: i64,
}

impl ItemForm {
    fn of(def: &ItemDef, version: i64) -> Self {
        ItemForm {
            code: def.code.clone(),
            name: def.name.clone(),
            needs: def.needs.clone(),
            department: def.department.clone(),
            categories: def.categories.clone(),
            signals: def.signals.clone(),
            rank: def.rank.to_string(),
            amount_param: def.amount_param.clone().unwrap_or_default(),
            period: def.period.clone(),
            source: def.source.clone(),
            status: def.status.clone(),
            active: def.active,
            note: def.note.clone().unwrap_or_default(),
            version,
        }
    }

    fn blank() -> Self {
        ItemForm {
            code: String::new(),
            name: String::new(),
            needs: Vec::new(),
            department: String::new(),
            categories: Vec::new(),
            signals: Vec::new(),
            rank: "50".into(),
            amount_param: String::new(),
            period: "year".into(),
            source: String::new(),
            status: "provisional".into(),
            active: true,
            note: String::new(),
            version: 0,
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        ItemForm {
            code: pair(pairs, "code").trim().to_owned(),
            name: pair(pairs, "name").to_owned(),
            needs: all(pairs, "needs"),
            department: pair(pairs, "department").to_owned(),
            categories: all(pairs, "categories"),
            signals: all(pairs, "signals"),
            rank: pair(pairs, "rank").to_owned(),
            amount_param: pair(pairs, "amount_param").to_owned(),
            period: pair(pairs, "period").to_owned(),
            source: pair(pairs, "source").to_owned(),
            status: pair(pairs, "status").to_owned(),
            active: !pair(pairs, "active").is_empty(),
            note: pair(pairs, "note").to_owned(),
            version: pair(pairs, "version").parse().unwrap_or(0),
        }
    }

    fn def(&self) -> Result<ItemDef, AppError> {
        let rank: i64 = self
            .rank
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("rank", format!("排序“{}”应为整数", self.rank)))?;
        Ok(ItemDef {
            code: self.code.clone(),
            name: self.name.clone(),
            needs: self.needs.clone(),
            department: self.department.clone(),
            categories: self.categories.clone(),
            signals: self.signals.clone(),
            rank,
            amount_param: Some(self.amount_param.trim().to_owned()).filter(|p| !p.is_empty()),
            period: self.period.clone(),
            source: self.source.clone(),
            status: self.status.clone(),
            active: self.active,
            note: Some(self.note.trim().to_owned()).filter(|n| !n.is_empty()),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "assistance_item.html")]
pub struct ItemPage {
    chrome: Chrome,
    f: ItemForm,
    error: String,
    departments: Vec<(String, String)>,
    history: Vec<ItemVersion>,
    can_edit: bool,
    needs: &'static [Need],
    categories: &'static [Category],
    signals: &'static [Signal],
    periods: &'static [ItemPeriod],
}

impl ItemPage {
    fn has(&self, list: &[String], code: &str) -> bool {
        list.iter().any(|c| c == code)
    }
}

async fn item_page(
    state: &WebState,
    signed: &crate::session::Signed,
    form: ItemForm,
    error: String,
) -> Result<ItemPage, PageError> {
    let view = state.app.assistance_catalogue(&signed.actor).await?;
    let history = if form.version > 0 {
        state
            .app
            .assistance_item_history(&signed.actor, &form.code)
            .await?
    } else {
        Vec::new()
    };
    Ok(ItemPage {
        chrome: Chrome::of(signed),
        f: form,
        error,
        departments: view
            .catalogue
            .departments
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        history,
        can_edit: view.can_edit,
        needs: Need::ALL,
        categories: Category::ALL,
        signals: Signal::ALL,
        periods: ItemPeriod::ALL,
    })
}

/// `GET /assistance/{code}`: an item with its history, editable by district civil affairs;
/// `new` is a blank form.
pub async fn item(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(code): Path<String>,
) -> Result<ItemPage, PageError> {
    let view = state.app.assistance_catalogue(&signed.actor).await?;
    let form = if code == "new" {
        if !view.can_edit {
            return Err(PageError(AppError::Forbidden));
        }
        ItemForm::blank()
    } else {
        let item = view.catalogue.item(&code).ok_or(AppError::NotFound)?;
        ItemForm::of(&item.to_def(), item.version)
    };
    item_page(&state, &signed, form, String::new()).await
}

/// `POST /assistance`: saves a new version of an item (or a new item when version is 0).
pub async fn item_save(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    if signed.actor.role != domain::Role::DistrictCivilAffairs {
        return Err(PageError(AppError::Forbidden));
    }
    let form = ItemForm::from_pairs(&pairs);
    let saved = match form.def() {
        Ok(def) => {
            state
                .app
                .save_assistance_item(&signed.actor, &def, form.version)
                .await
        }
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/assistance/{}", form.code)).into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let page = item_page(&state, &signed, form, error.message()).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals.html")]
pub struct QueuePage {
    chrome: Chrome,
    q: ReferralQueue,
    /// Not the first page (a link back to it is shown).
    paged: bool,
    error: String,
    states: &'static [assist::ReferralState],
    today: String,
}

impl QueuePage {
    fn yuan(&self, fen: &Option<i64>) -> String {
        yuan_of(fen)
    }

    fn selected(&self, state: &assist::ReferralState) -> bool {
        self.q.state == Some(*state)
    }

    /// The state filter of the page links ("" for all).
    fn state_code(&self) -> &'static str {
        self.q.state.map_or("", assist::ReferralState::code)
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    /// Where the page starts (the `next` of the page before).
    #[serde(default)]
    after: Option<String>,
}

/// `GET /referrals`: the department's queue, or the referrals of the actor's area.
pub async fn queue(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<QueueQuery>,
) -> Result<QueuePage, PageError> {
    let wanted = parse_state(query.state.as_deref())?;
    let q = state
        .app
        .referral_queue(&signed.actor, wanted, query.after.as_deref())
        .await?;
    Ok(QueuePage {
        chrome: Chrome::of(&signed),
        paged: query.after.is_some_and(|after| !after.trim().is_empty()),
        q,
        error: query.error.unwrap_or_default(),
        states: assist::ReferralState::ALL,
        today: state.app.today().to_string(),
    })
}

/// A referral form of the 救助帮扶 section that failed: which item, why, and the 补充理由 as
/// typed (kept, not lost).
#[derive(Clone, Debug, Default)]
pub struct AssistFailure {
    pub item_code: String,
    pub message: String,
    pub reason: String,
}

impl AssistFailure {
    /// The 补充理由 typed into the form of `item_code`, when that form failed.
    pub fn reason_for(&self, item_code: &str) -> &str {
        if self.item_code == item_code {
            &self.reason
        } else {
            ""
        }
    }
}

/// `POST /referrals`: sends a proposal (household_id, item_code) to its department, or with
/// `supplementary_reason` a supplement (补充帮扶). The form comes from the household page or,
/// with `case_id`, from a case page; it returns there, with a refusal shown in the section.
pub async fn create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    let household_id: i64 = pair(&pairs, "household_id")
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let case_id: Option<i64> = match pair(&pairs, "case_id").trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| AppError::NotFound)?),
    };
    let item_code = pair(&pairs, "item_code").trim();
    let supplementary = pairs.iter().any(|(k, _)| k == "supplementary_reason");
    let reason = pair(&pairs, "supplementary_reason");
    let sent = if supplementary {
        state
            .app
            .create_supplementary_referral(&signed.actor, household_id, item_code, reason)
            .await
    } else {
        state
            .app
            .create_referral(&signed.actor, household_id, item_code)
            .await
    };
    match sent {
        Ok(_) => Ok(Redirect::to(&match case_id {
            Some(case_id) => format!("/cases/{case_id}#assistance"),
            None => format!("/households/{household_id}#assistance"),
        })
        .into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = match error {
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let failure = AssistFailure {
                item_code: item_code.to_owned(),
                message: error.message(),
                reason: reason.to_owned(),
            };
            match case_id {
                Some(case_id) => {
                    let mut page = crate::case_pages::case_page(
                        &state,
                        &signed,
                        case_id,
                        crate::case_pages::Failure::default(),
                        None,
                    )
                    .await?;
                    page.assist_failure = failure;
                    Ok((status, page).into_response())
                }
                None => {
                    let page = crate::pages::household_page_after_referral(
                        &state,
                        &signed,
                        household_id,
                        failure,
                    )
                    .await?;
                    Ok((status, page).into_response())
                }
            }
        }
        Err(other) => Err(PageError(other)),
    }
}

/// `POST /referrals/{id}`: accept, deliver or decline; a refused move comes back to the queue
/// with its Chinese message.
pub async fn act(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(pair(&pairs, "csrf")))?;
    let act = act_of(
        pair(&pairs, "action"),
        pair(&pairs, "amount").to_owned(),
        pair(&pairs, "delivered_on").to_owned(),
        pair(&pairs, "note").to_owned(),
        pair(&pairs, "reason").to_owned(),
    )?;
    match state.app.act_on_referral(&signed.actor, id, &act).await {
        Ok(_) => Ok(Redirect::to("/referrals").into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let q = state.app.referral_queue(&signed.actor, None, None).await?;
            let page = QueuePage {
                chrome: Chrome::of(&signed),
                paged: false,
                q,
                error: format!("转介单第{id}号：{}", error.message()),
                states: assist::ReferralState::ALL,
                today: state.app.today().to_string(),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "referral_slip.html")]
pub struct SlipPage {
    r: ReferralView,
    head_name: String,
    printed_on: String,
}

impl SlipPage {
    fn yuan(&self, fen: &Option<i64>) -> String {
        yuan_of(fen)
    }
}

/// `GET /referrals/{id}/slip`: the printable 转介单, personal data masked for every role.
pub async fn slip(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<SlipPage, PageError> {
    let r = state.app.referral_slip(&signed.actor, id).await?;
    let head_name = r.row.head_name.clone();
    Ok(SlipPage {
        r,
        head_name,
        printed_on: state.app.today().to_string(),
    })
}
