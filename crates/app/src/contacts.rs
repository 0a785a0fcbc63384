//! 主动发现 use cases (issue 5: W4, 救助通+铁脚板): grid workers' visit logs (走访) and hotline
//! tickets (热线), recorded against a registered household or a new person. Either can raise a
//! warning (which then goes through the loop of `warnings`) or open an application
//! (`app::cases::open_case`, channel 网格员代办 or 服务热线), in the same transaction.

use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::{NationalId, PlaceCode, Role};
use store::audit::AuditEvent;
use store::watch::{ContactRow, NewContact, NewWarning};
use workflow::Consent;
use workflow::contact::{self as machine, ContactRefusal, Opens};
pub use workflow::contact::{ContactChannel, ContactOutcome};
use workflow::warning::WarningAction;

/// Contacts a page (`App::contacts`).
const CONTACTS_PER_PAGE: i64 = 50;

/// One page of contacts, newest first, and the cursor of the next (`after=`), if there is one.
#[derive(Clone, Debug)]
pub struct ContactPage {
    pub rows: Vec<ContactRow>,
    /// Contacts of the area, counted up to `store::search::TOTAL_CAP` (`total_capped` past it).
    pub total: i64,
    pub total_capped: bool,
    pub next: Option<String>,
    pub per_page: i64,
}

/// A visit or hotline ticket as recorded.
#[derive(Clone, Debug)]
pub struct NewContactInput {
    pub channel: ContactChannel,
    pub on_date: NaiveDate,
    /// 户编号 of a registered household, or `None` for a new person.
    pub household_id: Option<String>,
    pub person_name: String,
    pub id_number: Option<String>,
    pub phone: String,
    /// The village of a new person (a registered household's own area wins).
    pub area: Option<PlaceCode>,
    pub findings: String,
    pub outcome: ContactOutcome,
    /// For `Application`: the applicant's signed consent (P1).
    pub consent: Option<Consent>,
    /// For `Application` of a new person: the new household's 户编号.
    pub new_household_id: Option<String>,
}

/// What recording a contact produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactReceipt {
    pub contact_id: i64,
    pub warning_id: Option<i64>,
    pub case_id: Option<i64>,
    pub tracking_number: Option<String>,
}

/// The machine's refusal as the shell answers it: another role's channel is forbidden, the
/// rest an input named by its field.
fn refused(refusal: ContactRefusal) -> AppError {
    match refusal.field() {
        None => AppError::Forbidden,
        Some(field) => AppError::invalid(field, refusal.message()),
    }
}

impl App {
    /// 走访 / 热线: records the contact and, as asked, raises a warning or opens an application.
    pub async fn record_contact(
        &self,
        actor: &Actor,
        input: NewContactInput,
    ) -> Result<ContactReceipt, AppError> {
        machine::check_actor(input.channel, actor.role).map_err(refused)?;
        let today = self.today();
        machine::check_entry(input.on_date, today, &input.findings).map_err(refused)?;
        let findings = input.findings.trim();
        let id_number = match input.id_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                NationalId::parse(text)
                    .map_err(|error| AppError::invalid("id_number", error.to_string()))?,
            ),
        };
        let recorded_at = self.now();
        let now = crate::timestamp(recorded_at);
        let mut tx = self.store.begin().await?;
        let household = match input.household_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(external_id) => Some(
                store::households::by_external_id(&mut tx, external_id)
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid("household_id", format!("户编号“{external_id}”不存在"))
                    })?,
            ),
        };
        let household_area = household.as_ref().map(|row| row.area_code.clone());
        if let Some(area) = &household_area
            && !actor.covers(area)
        {
            return Err(AppError::NotFound);
        }
        let area = machine::place(household_area.as_ref(), input.area.as_ref(), |area| {
            actor.covers(area)
        })
        .map_err(refused)?;
        if household.is_none() {
            crate::households::check_place(&mut tx, &area).await?;
        }
        let person_name = machine::person_name(
            household.as_ref().map(|row| row.head_name.as_str()),
            &input.person_name,
        )
        .map_err(refused)?;
        let opens = machine::opens(
            input.channel,
            input.outcome,
            household.as_ref().map(|row| &row.external_id),
            input.new_household_id.as_deref(),
        )
        .map_err(refused)?;
        let on_date = input.on_date.to_string();
        let contact_id = store::watch::insert_contact(
            &mut tx,
            &NewContact {
                channel: input.channel.code(),
                on_date: &on_date,
                household_external_id: household.as_ref().map(|row| row.external_id.as_str()),
                household_id: household.as_ref().map(|row| row.id),
                person_name: &person_name,
                id_number: id_number.as_ref().map(NationalId::as_str),
                phone: input.phone.trim(),
                area_code: area.as_str(),
                findings,
                outcome: input.outcome.code(),
                recorded_by_user_id: actor.user_id,
                recorded_by: &actor.display_name,
                recorded_at: &now,
            },
        )
        .await?;
        let mut receipt = ContactReceipt {
            contact_id,
            warning_id: None,
            case_id: None,
            tracking_number: None,
        };
        match opens {
            Opens::Nothing => {}
            Opens::Warning { rule, state, limit } => {
                let catalogue = self.catalogue()?;
                let days = crate::calendar::working_days(&catalogue.snapshot(today), limit)?;
                let due_on = self.calendar()?.add_working_days(today, days).to_string();
                let today_text = today.to_string();
                let description = format!(
                    "{}（{}，{}记录）：{findings}",
                    rule.label(),
                    on_date,
                    actor.display_name
                );
                let inside_net = match &household {
                    Some(row) => store::households::category_history(&mut tx, row.id)
                        .await?
                        .iter()
                        .any(|period| period.end_date.is_none()),
                    None => false,
                };
                let warning_id = store::watch::insert_warning(
                    &mut tx,
                    &NewWarning {
                        dedupe_key: &format!("contact:{contact_id}"),
                        origin: domain::states::WarningOrigin::from(input.channel).code(),
                        rule: rule.code(),
                        kind: rule.kind().code(),
                        severity: rule.severity().code(),
                        id_number: id_number.as_ref().map(NationalId::as_str),
                        person_name: &person_name,
                        household_external_id: household
                            .as_ref()
                            .map(|row| row.external_id.as_str()),
                        household_id: household.as_ref().map(|row| row.id),
                        inside_net,
                        area_code: area.as_str(),
                        feed_id: None,
                        job_id: None,
                        line: None,
                        description: &description,
                        param_json: None,
                        state: state.code(),
                        disposition: None,
                        case_id: None,
                        created_on: &today_text,
                        due_on: &due_on,
                        closed_on: None,
                        now: &now,
                    },
                )
                .await?
                .ok_or_else(|| anyhow::anyhow!("contact {contact_id} warning key taken"))?;
                store::watch::append_warning_event(
                    &mut tx,
                    &store::watch::WarningEventRow {
                        warning_id,
                        seq: 0,
                        on_date: today,
                        actor_user_id: actor.user_id,
                        actor_name: actor.display_name.clone(),
                        action: WarningAction::Raise,
                        detail: serde_json::json!({ "origin": description }).to_string(),
                        recorded_at,
                    },
                )
                .await?;
                receipt.warning_id = Some(warning_id);
            }
            Opens::Case {
                kind,
                channel,
                household_no,
            } => {
                let (case_id, tracking_number) = self
                    .open_case_in(
                        &mut tx,
                        actor,
                        crate::cases::NewIntake {
                            kind,
                            channel,
                            household_no,
                            area: area.clone(),
                            applicant: person_name.clone(),
                            consent: input.consent.clone(),
                            summary: format!("{}发现：{findings}", input.channel.label()),
                        },
                        None,
                    )
                    .await?;
                receipt.case_id = Some(case_id);
                receipt.tracking_number = Some(tracking_number.as_str().to_owned());
            }
        }
        store::watch::link_contact(&mut tx, contact_id, receipt.warning_id, receipt.case_id)
            .await?;
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::contact(
                now,
                actor.audit_name(),
                format!("contact.{}", input.channel.code()),
                contact_id,
            )
            .in_area(area.as_str())
            .after(
                serde_json::json!({
                    "household_id": household.as_ref().map(|row| row.external_id.as_str()),
                    "person_name": person_name, "outcome": input.outcome.code(),
                    "warning_id": receipt.warning_id, "case_id": receipt.case_id,
                })
                .to_string(),
            ),
        )
        .await?;
        store::commit(tx).await?;
        Ok(receipt)
    }

    /// The visits and hotline tickets in the actor's area, newest first, a page at a time after
    /// the cursor `after` (the `next` of the page before).
    pub async fn contacts(
        &self,
        actor: &Actor,
        after: Option<&str>,
    ) -> Result<ContactPage, AppError> {
        if actor.role == Role::Admin {
            return Err(AppError::Forbidden);
        }
        let after =
            match after.map(str::trim) {
                None | Some("") => None,
                Some(text) => Some(store::watch::ContactCursor::decode(text).ok_or_else(|| {
                    AppError::invalid("after", "翻页位置无效，请从第一页重新查看")
                })?),
            };
        let mut conn = self.store.read().await?;
        let list = store::watch::contacts_in_area(
            &mut conn,
            actor.scope().as_str(),
            after.as_ref(),
            CONTACTS_PER_PAGE,
        )
        .await?;
        let mut rows = list.rows;
        if !actor.sees_unmasked() {
            for row in &mut rows {
                row.person_name = domain::national_id::mask_name(&row.person_name);
                // The list shows no ID number: a masked reader's page carries none.
                row.id_number = None;
                row.phone = String::new();
            }
        }
        Ok(ContactPage {
            rows,
            total: list.total,
            total_capped: list.capped,
            next: list.next.map(|cursor| cursor.encode()),
            per_page: CONTACTS_PER_PAGE,
        })
    }
}
