//! 政策参数 page (`/policy`): every parameter of the catalogue, grouped as in the catalogue, with
//! the value in force today and its dated history; a form per parameter to add a dated value
//! for the administrator and district civil affairs (district level).

use crate::WebState;
use crate::chrome::Chrome;
use crate::error::PageError;
use crate::session::{PageUser, Signed};
use app::AppError;
use app::parameters::{AddedValue, ParameterView, PolicyPage, ValueView};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The form of one parameter, as typed (so a fault loses nothing).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

impl ValueForm {
    fn added(&self, name: &str) -> AddedValue {
        AddedValue {
            param: name.to_owned(),
            since: self.since.clone(),
            value: self.value.clone(),
            source: self.source.clone(),
            status: self.status.clone(),
            note: self.note.clone(),
        }
    }
}

/// The statuses a value may carry, as (code, label) for the form.
fn statuses() -> Vec<(&'static str, &'static str)> {
    policy::Status::ENTERED
        .iter()
        .map(|status| (status.code(), status.label()))
        .collect()
}

/// A refused form: the parameter, what was typed, the message and the faulty fields.
pub struct Failed {
    name: String,
    form: ValueForm,
    message: String,
    fields: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "policy.html")]
pub struct PolicyTemplate {
    chrome: Chrome,
    page: PolicyPage,
    golive: app::golive::GoLive,
    failed: Option<Failed>,
    statuses: Vec<(&'static str, &'static str)>,
}

impl PolicyTemplate {
    /// The form's input for `name`: what was typed if this form was refused, else blank.
    fn form_of(&self, name: &str) -> ValueForm {
        match &self.failed {
            Some(failed) if failed.name == name => failed.form.clone(),
            _ => ValueForm {
                status: "confirmed".to_owned(),
                ..ValueForm::default()
            },
        }
    }

    fn error_of(&self, name: &str) -> &str {
        match &self.failed {
            Some(failed) if failed.name == name => &failed.message,
            _ => "",
        }
    }

    /// `invalid` for the input of a faulty field of the refused form.
    fn invalid(&self, name: &str, field: &str) -> &'static str {
        match &self.failed {
            Some(failed) if failed.name == name && failed.fields.iter().any(|f| f == field) => {
                "invalid"
            }
            _ => "",
        }
    }

    /// 数据截至 of the checklist's counts, or 统计中.
    fn golive_counted(&self) -> String {
        match self.golive.counted_at {
            Some(at) if self.golive.recounting => format!(
                "户数为 {} 的统计，参数或日期已变，正在重新统计",
                app::report::counted_at_text(at)
            ),
            Some(at) => format!("户数统计截至 {}", app::report::counted_at_text(at)),
            None => "户数统计中，稍后刷新本页".to_owned(),
        }
    }

    fn households_of(&self, item: &app::golive::GoLiveItem) -> String {
        item.households
            .map_or_else(|| "统计中".to_owned(), |n| format!("{n} 户"))
    }

    fn blocks_of(&self, item: &app::golive::GoLiveItem) -> String {
        if item.blocks.is_empty() {
            "—".to_owned()
        } else {
            item.blocks.join("；")
        }
    }

    fn unit_of(&self, parameter: &ParameterView) -> String {
        let label = parameter.unit_label();
        if label.is_empty() {
            String::new()
        } else {
            format!(" {label}")
        }
    }

    fn origin_of(&self, value: &ValueView) -> String {
        match &value.origin {
            app::parameters::Origin::Builtin => "内置".to_owned(),
            app::parameters::Origin::Added { by, at, .. } => {
                // Stored in UTC; shown in China Standard Time like every date of the product.
                let shown = chrono::DateTime::parse_from_rfc3339(at).map_or_else(
                    |_| at.clone(),
                    |instant| {
                        (instant.naive_utc() + chrono::Duration::hours(8))
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    },
                );
                format!("平台添加：{by}，{shown}")
            }
        }
    }
}

async fn render(
    state: &WebState,
    signed: &Signed,
    failed: Option<Failed>,
) -> Result<PolicyTemplate, PageError> {
    let page = state.app.policy_parameters(&signed.actor).await?;
    let golive = state.app.go_live(&signed.actor).await?;
    Ok(PolicyTemplate {
        chrome: Chrome::of(signed),
        page,
        golive,
        failed,
        statuses: statuses(),
    })
}

/// `GET /policy`.
pub async fn parameters(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
) -> Result<PolicyTemplate, PageError> {
    render(&state, &signed, None).await
}

/// `POST /policy/{name}/values`: adds a dated value; a refused one shows the page again with
/// the message beside the parameter's form and the input kept.
pub async fn add_value(
    State(state): State<WebState>,
    PageUser(signed): PageUser,
    Path(name): Path<String>,
    Form(form): Form<ValueForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(Some(&form.csrf))?;
    match state
        .app
        .add_policy_value(&signed.actor, &form.added(&name))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/policy#p-{name}")).into_response()),
        Err(AppError::Invalid(faults)) => {
            let failed = Failed {
                name,
                form,
                message: faults
                    .iter()
                    .map(|fault| fault.message.clone())
                    .collect::<Vec<_>>()
                    .join("；"),
                fields: faults.into_iter().map(|fault| fault.field).collect(),
            };
            let page = render(&state, &signed, Some(failed)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(PageError(other)),
    }
}
