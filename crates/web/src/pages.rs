//! HTML pages (Simplified Chinese).

use crate::chrome::{Chrome, start_page};
use crate::error::PageError;
use crate::forms::{HouseholdForm, Vocabulary};
use crate::session::{PageUser, Signed, constant_time_eq, random_token};
use crate::{WebState, cookies};
use app::assessment::AssessmentView;
use app::households::{HouseholdDetail, HouseholdPage};
use app::{AppError, FieldError};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// `/`: the signed-in user's start page (a visitor is sent to sign in first).
pub async fn home(PageUser(signed): PageUser) -> Redirect {
    Redirect::to(start_page(signed.actor.role))
}

/// An XLSX workbook as a download named `file_name` (reports, exports).
pub(crate) fn xlsx_download(file_name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn not_found() -> PageError {
    PageError(AppError::NotFound)
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/app.css"),
    )
}

/// `GET /static/cards.js`: labels each table cell with its column for the phone layout (issue 15).
pub async fn cards_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/cards.js"),
    )
}

/// `GET /static/members.js`: 添加成员 / 删除 member rows on the household and survey forms
/// without a round trip (the buttons also work without JavaScript).
pub async fn members_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/members.js"),
    )
}

/// The print layout's stylesheet (A4, `@media print`), shared by every printout.
pub(crate) const PRINT_CSS: &str = include_str!("../static/print.css");

/// `GET /static/print.css`.
pub async fn print_stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        PRINT_CSS,
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    csrf: String,
    error: String,
    username: String,
}

fn login_page(error: &str, username: &str, status: StatusCode) -> Response {
    let csrf = random_token();
    let cookie = cookies::set(cookies::LOGIN_CSRF, &csrf, 3600, false);
    let page = LoginPage {
        csrf,
        error: error.to_owned(),
        username: username.to_owned(),
    };
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

pub async fn login_form() -> Response {
    login_page("", "", StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login_submit(
    State(state): State<WebState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    // Double-submit check: the form's token must equal the cookie set with the form.
    let cookie = cookies::read(&headers, cookies::LOGIN_CSRF).unwrap_or_default();
    if cookie.is_empty() || !constant_time_eq(cookie.as_bytes(), form.csrf.as_bytes()) {
        return login_page(
            "登录页面已过期，请重新输入",
            &form.username,
            StatusCode::FORBIDDEN,
        );
    }
    let client = crate::throttle::client_of(
        peer.map(|axum::Extension(axum::extract::ConnectInfo(address))| address),
        &headers,
        state.config.behind_proxy,
    );
    match state
        .app
        .login(form.username.trim(), &form.password, &client.to_string())
        .await
    {
        Ok(session) => {
            let cookie = cookies::set(
                cookies::SESSION,
                &session.token,
                8 * 3600,
                state.config.secure_cookies,
            );
            let start = start_page(session.actor.role);
            ([(header::SET_COOKIE, cookie)], Redirect::to(start)).into_response()
        }
        Err(AppError::Unauthenticated) => {
            login_page("用户名或密码错误", &form.username, StatusCode::UNAUTHORIZED)
        }
        Err(AppError::Throttled) => login_page(
            &AppError::Throttled.message(),
            &form.username,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(other) => PageError(other).into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

pub async fn logout(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    state.app.logout(&signed.token, &signed.actor).await?;
    let cookie = cookies::set(cookies::SESSION, "", 0, state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// 检索's query: the text typed and, past the first page, where the page starts (`after`).
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "households.html")]
pub struct ListPage {
    chrome: Chrome,
    q: String,
    list: HouseholdPage,
    /// Not the first page (a link back to it is shown).
    paged: bool,
}

impl ListPage {
    fn by_label(&self) -> &'static str {
        search_by_label(self.list.by)
    }
}

/// What a query was taken as, in Chinese (检索方式).
pub(crate) fn search_by_label(by: app::households::SearchBy) -> &'static str {
    use app::households::SearchBy;
    match by {
        SearchBy::Everything => "全部家庭",
        SearchBy::AreaCode => "按区划代码",
        SearchBy::PlaceName => "按镇街、村社名称",
        SearchBy::IdNumber => "按身份证号",
        SearchBy::HouseholdNumber => "按户编号",
        SearchBy::Name => "按姓名",
    }
}

/// The wire name of what a query was taken as (API `by`).
pub(crate) fn search_by_code(by: app::households::SearchBy) -> &'static str {
    use app::households::SearchBy;
    match by {
        SearchBy::Everything => "everything",
        SearchBy::AreaCode => "area_code",
        SearchBy::PlaceName => "place_name",
        SearchBy::IdNumber => "id_number",
        SearchBy::HouseholdNumber => "household_number",
        SearchBy::Name => "name",
    }
}

pub async fn household_list(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Query(query): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let list = state
        .app
        .search_households(&signed.actor, &query.q, query.after.as_deref())
        .await?;
    Ok(ListPage {
        chrome: Chrome::of(&signed),
        q: query.q,
        list,
        paged: query.after.is_some_and(|after| !after.trim().is_empty()),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "household.html")]
pub struct DetailPage {
    chrome: Chrome,
    takes_cases: bool,
    d: HouseholdDetail,
    a: AssessmentView,
    as_of_error: String,
    /// 救助帮扶: proposals and the assistance chain (issue 6).
    assist: Option<app::assistance::HouseholdAssistance>,
    /// A referral form of the 救助帮扶 section that failed, with what was typed.
    pub(crate) assist_failure: crate::forms::FormError,
    /// 材料 (D4): the household's documents (its own and its cases') and its upload form.
    pub(crate) docs: crate::documents_view::DocumentsView,
}

impl DetailPage {
    fn yuan(&self, value: impl std::fmt::Display) -> String {
        value.to_string()
    }

    fn relation_label(&self, relation: &domain::Relation) -> &'static str {
        relation.label()
    }

    fn primary_label(&self) -> &'static str {
        self.a
            .primary
            .map_or("不符合救助类别", domain::Category::label)
    }

    fn category_label(&self, category: &domain::Category) -> &'static str {
        category.label()
    }

    fn monitoring_label(&self, kind: &Option<domain::MonitoringKind>) -> &'static str {
        kind.map_or("", domain::MonitoringKind::label)
    }

    fn money_fen(&self, fen: &Option<i64>) -> String {
        fen.map(|fen| domain::Yuan::from_fen(fen).to_string())
            .unwrap_or_default()
    }

    fn id_shown(&self, id: &domain::NationalId) -> domain::ShownId {
        self.d.shown(id)
    }

    /// Who holds a category period: the member by name and ID number (masked as the page
    /// is), the number alone for someone no longer a member, 整户 for the household.
    fn holder(&self, id_number: &Option<domain::NationalId>) -> String {
        let Some(number) = id_number else {
            return "整户".to_owned();
        };
        let shown = self.id_shown(number);
        self.d
            .household
            .members
            .iter()
            .find(|person| person.id_number == *number)
            .map_or_else(
                || shown.to_string(),
                |person| format!("{}（{shown}）", person.name),
            )
    }

    fn age(&self, id: &domain::NationalId) -> u32 {
        id.age_on(self.d.today)
    }

    /// Whether the user takes cases in (受理): village, grid and town workers.
    fn takes_cases(&self) -> bool {
        self.takes_cases
    }

    /// The intake form for this household (受理申请, 发起退出).
    fn intake_link(&self, kind: &str) -> String {
        let applicant = self
            .d
            .household
            .head()
            .map_or("", |head| head.name.as_str());
        crate::case_pages::intake_link(
            kind,
            self.d.household.id.as_str(),
            self.d.household.area.as_str(),
            applicant,
        )
    }
}

#[derive(Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    full: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
}

pub async fn household_show(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<DetailPage, PageError> {
    household_page(&state, &signed, id, query).await
}

/// The household page as a referral form sent from it comes back to, with its failure.
pub(crate) async fn household_page_after_referral(
    state: &WebState,
    signed: &Signed,
    id: i64,
    assist_failure: crate::forms::FormError,
) -> Result<DetailPage, PageError> {
    let query = DetailQuery {
        full: None,
        as_of: None,
    };
    let mut page = household_page(state, signed, id, query).await?;
    page.assist_failure = assist_failure;
    Ok(page)
}

/// The household page as an upload sent from it comes back to (masked, dated today).
pub(crate) async fn household_page_plain(
    state: &WebState,
    signed: &Signed,
    id: i64,
) -> Result<DetailPage, PageError> {
    let query = DetailQuery {
        full: None,
        as_of: None,
    };
    household_page(state, signed, id, query).await
}

async fn household_page(
    state: &WebState,
    signed: &Signed,
    id: i64,
    query: DetailQuery,
) -> Result<DetailPage, PageError> {
    let detail = state
        .app
        .household_detail(&signed.actor, id, query.full.is_some())
        .await?;
    let (as_of, as_of_error) = match query.as_of.as_deref().filter(|text| !text.is_empty()) {
        None => (detail.today, String::new()),
        Some(text) => match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => (date, String::new()),
            Err(_) => (
                detail.today,
                format!("认定日期“{text}”无效，应为YYYY-MM-DD，已按今天认定"),
            ),
        },
    };
    let masked = detail.masked;
    let members = &detail.household.members;
    let name_of = |id: &domain::NationalId| {
        let name = members
            .iter()
            .find(|p| &p.id_number == id)
            .map_or("", |p| p.name.as_str());
        let shown = if masked { id.masked() } else { id.to_string() };
        format!("{name}（{shown}）")
    };
    let assessment =
        state
            .app
            .assess_household(&detail.household, &detail.incomes, as_of, name_of)?;
    let assist = Some(state.app.household_assistance(&signed.actor, id).await?);
    let docs = crate::documents_view::DocumentsView::load(
        state,
        signed,
        app::documents::Owner::Household(id),
    )
    .await;
    Ok(DetailPage {
        docs,
        takes_cases: workflow::INTAKE_ROLES.contains(&signed.actor.role),
        chrome: Chrome::of(signed),
        d: detail,
        a: assessment,
        as_of_error,
        assist,
        assist_failure: crate::forms::FormError::default(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "household_form.html")]
pub struct FormPage {
    chrome: Chrome,
    title: String,
    action: String,
    editing: bool,
    version: i64,
    form: HouseholdForm,
    villages: Vec<(String, String)>,
    vocab: Vocabulary,
}

async fn form_page(
    state: &WebState,
    signed: &Signed,
    form: HouseholdForm,
    edit: Option<(i64, i64)>,
) -> Result<FormPage, PageError> {
    let villages = state.app.villages_for(&signed.actor).await?;
    let (title, action, editing, version) = match edit {
        Some((id, version)) => (
            "修改家庭档案".to_owned(),
            format!("/households/{id}"),
            true,
            version,
        ),
        None => (
            "新建家庭档案".to_owned(),
            "/households".to_owned(),
            false,
            0,
        ),
    };
    Ok(FormPage {
        chrome: Chrome::of(signed),
        title,
        action,
        editing,
        version,
        form,
        villages,
        vocab: Vocabulary::new(),
    })
}

pub async fn household_new(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<FormPage, PageError> {
    if !signed.actor.role.edits_households() {
        return Err(PageError(AppError::Forbidden));
    }
    let form = HouseholdForm::blank("");
    form_page(&state, &signed, form, None).await
}

pub async fn household_edit(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
) -> Result<FormPage, PageError> {
    if !signed.actor.role.edits_households() {
        return Err(PageError(AppError::Forbidden));
    }
    let detail = state.app.household_detail(&signed.actor, id, true).await?;
    form_page(
        &state,
        &signed,
        HouseholdForm::from_household(&detail.household),
        Some((id, detail.version)),
    )
    .await
}

fn apply_field_errors(form: &mut HouseholdForm, errors: &[FieldError]) {
    for error in errors {
        form.add_record_error(&error.field, &error.message);
    }
}

async fn rerender(
    state: &WebState,
    signed: &Signed,
    form: HouseholdForm,
    edit: Option<(i64, i64)>,
) -> Result<Response, PageError> {
    let page = form_page(state, signed, form, edit).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn household_create(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Form(mut form): Form<HouseholdForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(form.v("csrf")))?;
    if !signed.actor.role.edits_households() {
        return Err(PageError(AppError::Forbidden));
    }
    if form.row_command() {
        return Ok(form_page(&state, &signed, form, None)
            .await?
            .into_response());
    }
    let Some(household) = form.build_household(None) else {
        return rerender(&state, &signed, form, None).await;
    };
    match state.app.create_household(&signed.actor, &household).await {
        Ok(id) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            apply_field_errors(&mut form, &errors);
            rerender(&state, &signed, form, None).await
        }
        Err(other) => Err(PageError(other)),
    }
}

pub async fn household_update(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(id): Path<i64>,
    Form(mut form): Form<HouseholdForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(form.v("csrf")))?;
    if !signed.actor.role.edits_households() {
        return Err(PageError(AppError::Forbidden));
    }
    let version: i64 = form.v("version").parse().unwrap_or(0);
    let previous = state.app.household_detail(&signed.actor, id, true).await?;
    if form.row_command() {
        let page = form_page(&state, &signed, form, Some((id, version))).await?;
        return Ok(page.into_response());
    }
    let Some(household) = form.build_household(Some(&previous.household)) else {
        return rerender(&state, &signed, form, Some((id, version))).await;
    };
    match state
        .app
        .update_household(&signed.actor, id, version, &household)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            apply_field_errors(&mut form, &errors);
            rerender(&state, &signed, form, Some((id, version))).await
        }
        Err(AppError::Conflict(_)) => {
            form.add_error("version", "该档案已被他人修改，请重新打开后再修改");
            rerender(&state, &signed, form, Some((id, version))).await
        }
        Err(other) => Err(PageError(other)),
    }
}
