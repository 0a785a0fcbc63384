//! 救助帮扶 pages: the catalogue and its editing (district civil affairs), the referral queue
//! (转介队列) with the department's actions, and the printable referral slip (转介单).

use crate::WebState;
use crate::assist_api::{act_of, parse_state};
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::forms::{FormError, FormFields};
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
            .map(|(_, at, by)| format!("{}（{}）", at.date_naive(), by))
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

/// The item form's values (strings as typed, so a fault loses nothing); `needs`,
/// `categories` and `signals` are repeated checkboxes.
#[derive(Deserialize)]
#[serde(from = "FormFields")]
pub struct ItemForm {
    csrf: String,
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
            csrf: String::new(),
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
            csrf: String::new(),
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

/// The item form's names of its fields.
const ITEM_LABELS: &[(&str, &str)] = &[
    ("code", "编码"),
    ("name", "名称"),
    ("needs", "回应的需求"),
    ("department", "提供部门"),
    ("categories", "须已认定的类别"),
    ("signals", "须有的情形"),
    ("rank", "排序"),
    ("amount_param", "固定金额所引参数"),
    ("period", "发放周期"),
    ("source", "政策依据"),
    ("status", "状态"),
];

impl From<FormFields> for ItemForm {
    fn from(sent: FormFields) -> Self {
        ItemForm {
            csrf: sent.get("csrf").to_owned(),
            code: sent.get("code").trim().to_owned(),
            name: sent.get("name").to_owned(),
            needs: sent.all("needs"),
            department: sent.get("department").to_owned(),
            categories: sent.all("categories"),
            signals: sent.all("signals"),
            rank: sent.get("rank").to_owned(),
            amount_param: sent.get("amount_param").to_owned(),
            period: sent.get("period").to_owned(),
            source: sent.get("source").to_owned(),
            status: sent.get("status").to_owned(),
            active: !sent.get("active").is_empty(),
            note: sent.get("note").to_owned(),
            version: sent.get("version").parse().unwrap_or(0),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "assistance_item.html")]
pub struct ItemPage {
    chrome: Chrome,
    f: ItemForm,
    /// What was wrong with the form, beside its fields.
    failed: FormError,
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
    failed: FormError,
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
        failed,
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
    item_page(&state, &signed, form, FormError::default()).await
}

/// `POST /assistance`: saves a new version of an item (or a new item when version is 0).
pub async fn item_save(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<ItemForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    if signed.actor.role != domain::Role::DistrictCivilAffairs {
        return Err(PageError(AppError::Forbidden));
    }
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
            let failed = FormError::default().labelled(ITEM_LABELS).failed(&error);
            let page = item_page(&state, &signed, form, failed).await?;
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

/// The 转介 and 补充转介 forms of a 救助帮扶 section (household or case page).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReferralForm {
    csrf: String,
    household_id: String,
    case_id: String,
    item_code: String,
    /// Present (even empty) on the 补充转介 form only.
    supplementary_reason: Option<String>,
}

/// `POST /referrals`: sends a proposal (household_id, item_code) to its department, or with
/// `supplementary_reason` a supplement (补充帮扶). The form comes from the household page or,
/// with `case_id`, from a case page; it returns there, with a refusal shown in the section.
pub async fn create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<ReferralForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let household_id: i64 = form.household_id.parse().map_err(|_| AppError::NotFound)?;
    let case_id: Option<i64> = match form.case_id.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| AppError::NotFound)?),
    };
    let item_code = form.item_code.trim();
    let supplementary = form.supplementary_reason.is_some();
    let reason = form.supplementary_reason.as_deref().unwrap_or_default();
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
            let failure =
                FormError::of([("item_code", item_code), ("supplementary_reason", reason)])
                    .failed(&error);
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

/// The 接收 / 落实 / 退回 forms of the referral queue.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReferralActForm {
    csrf: String,
    action: String,
    amount: String,
    delivered_on: String,
    note: String,
    reason: String,
}

/// `POST /referrals/{id}`: accept, deliver or decline; a refused move comes back to the queue
/// with its Chinese message.
pub async fn act(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(form): Form<ReferralActForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    let act = act_of(
        &form.action,
        form.amount,
        form.delivered_on,
        form.note,
        form.reason,
    )?;
    match state.app.act_on_referral(&signed.actor, id, &act).await {
        Ok(_) => Ok(Redirect::to("/referrals").into_response()),
        Err(error @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let q = state.app.referral_queue(&signed.actor, None, None).await?;
            let page = QueuePage {
                chrome: Chrome::of(&signed),
                paged: false,
                q,
                error: format!(
                    "转介单第{id}号：{}",
                    FormError::default().failed(&error).summary()
                ),
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
