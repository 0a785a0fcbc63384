//! 线上申请 (P1): the public online application, taken without an account.
//!
//! The applicant is not a user: the case is opened by `ONLINE_APPLICANT`, a named system actor
//! standing at the village's intake (the case lands in the town's 办件 queue like a window
//! application). A registered member applies for the registry household (its area wins); anyone
//! else gets a new household id (`WS` + the date and sequence of its tracking number).
//!
//! Privacy (issue 15): the applicant's answer never depends on anyone else's records. Every
//! application gets a random receipt (查询码, `new_receipt`), the only number it is followed by
//! on `/track`, together with the applicant's phone or the ID number's last digits. An
//! application for a household or ID number with a case already running opens no case: it is
//! kept as a duplicate of that case (the town sees it on the case page) and answered exactly
//! as a new one, with a receipt of its own that shows 受理 and its date.

use crate::actors::online_actor;
use crate::cases::NewIntake;
use crate::cases::applications::cst_date;
use crate::{App, AppError, FieldError};
use chrono::NaiveDate;
use domain::{HouseholdNo, NationalId, PlaceCode, PlaceLevel};
use rand_core::{OsRng, RngCore};
use store::audit::AuditEvent;
use workflow::{CaseKind, Channel, Consent, Fact, Outcome, Step};

/// Longest applicant name accepted, in characters.
pub const NAME_CHARS: usize = 30;
/// Longest 困难情况 accepted, in characters.
pub const HARDSHIP_CHARS: usize = 500;
/// Largest household size accepted (a typing slip beyond it, not a policy limit).
pub const HOUSEHOLD_SIZE_MAX: u32 = 30;

/// The authorization (授权) the applicant agrees to, shown in full on the form and kept with
/// the case as the consent's wording.
pub const CONSENT_TEXT: &str = "本人自愿申请最低生活保障、特困人员救助供养、低收入人口认定等社会救助，\
并代表全体家庭成员授权铜梁区民政部门及乡镇（街道）人民政府，通过公安、人力资源社会保障、住房城乡建设、\
自然资源、市场监管、税务、医保、金融机构等部门和单位的数据，核对本人及家庭成员的户籍、收入、财产、\
车辆、房产、社会保险、工商登记、存款等家庭经济状况信息。本人承诺所填信息真实完整，如有隐瞒或虚报，\
愿承担相应法律责任。核对信息仅用于社会救助审核认定，不作他用。";

/// What the applicant typed, as text.
#[derive(Clone, Debug, Default)]
pub struct OnlineForm {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    /// The village or community (村社区) code.
    pub village: String,
    pub household_size: String,
    /// 困难情况.
    pub hardship: String,
    /// The authorization checkbox was ticked.
    pub consent: bool,
}

/// The answer to an online application: its receipt (查询码), the same whether a case was
/// opened or the application was kept with a case already running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub receipt: String,
}

/// The receipt's characters: digits and capitals without 0, O, 1 and I (read over the phone
/// and typed on one without confusion); 32 of them, so a random byte maps without bias.
const RECEIPT_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters of a receipt: 12 × 5 bits = 60 random bits, far beyond what the per-client
/// limit on `/track` lets anyone try.
const RECEIPT_CHARS: usize = 12;

/// A new random receipt, as `XXXX-XXXX-XXXX`.
fn new_receipt() -> String {
    let mut bytes = [0u8; RECEIPT_CHARS];
    OsRng.fill_bytes(&mut bytes);
    let mut receipt = String::with_capacity(RECEIPT_CHARS + 2);
    for (index, byte) in bytes.iter().enumerate() {
        if index > 0 && index % 4 == 0 {
            receipt.push('-');
        }
        receipt.push(char::from(RECEIPT_ALPHABET[usize::from(byte % 32)]));
    }
    receipt
}

/// A receipt as typed: upper case, spaces dropped, hyphens where they belong.
fn normalise_receipt(typed: &str) -> Option<String> {
    let characters: Vec<u8> = typed
        .bytes()
        .filter(|byte| !matches!(byte, b' ' | b'-'))
        .map(|byte| byte.to_ascii_uppercase())
        .collect();
    if characters.len() != RECEIPT_CHARS || !characters.iter().all(|c| RECEIPT_ALPHABET.contains(c))
    {
        return None;
    }
    let groups: Vec<&str> = characters
        .chunks(4)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    Some(groups.join("-"))
}

/// Shortest ID-number ending accepted as proof on `/track`.
pub const PROOF_ID_DIGITS: usize = 4;

/// Whether `proof` is the application's phone number or the last digits (at least
/// `PROOF_ID_DIGITS`) of its ID number.
fn proves(row: &store::cases::ReceiptRow, proof: &str) -> bool {
    let proof = proof.trim().to_ascii_uppercase();
    if proof.is_empty() {
        return false;
    }
    proof == row.phone
        || (proof.len() >= PROOF_ID_DIGITS
            && proof.len() < row.id_number.as_str().len()
            && row
                .id_number
                .as_str()
                .to_ascii_uppercase()
                .ends_with(&proof))
}

/// One step of an application as `/track` shows it, with the day it began.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedStep {
    pub step: Step,
    pub on: NaiveDate,
}

/// The result of an application, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackedResult {
    /// 已认定; on a partial decline, each category declined with its reason (`低保：…`), the
    /// part its 告知书 is about.
    Confirmed { declined: Vec<String> },
    /// 不予认定, with the reason of the 告知书.
    Refused { reason: String },
    /// 已撤回.
    Withdrawn,
}

/// 进度查询 (issue 15): what the applicant sees of their own application — the steps with
/// their dates, the result and, on a decline, the 告知书's reason. Nothing about the household.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked {
    pub receipt: String,
    pub kind: CaseKind,
    pub received_on: NaiveDate,
    pub steps: Vec<TrackedStep>,
    pub closed_on: Option<NaiveDate>,
    pub result: Option<TrackedResult>,
    /// The day the 告知书 of a decline (whole or partial) was delivered, once recorded.
    pub refusal_notice_delivered_on: Option<NaiveDate>,
}

impl Tracked {
    pub fn step(&self) -> Step {
        self.steps.last().map_or(Step::Received, |step| step.step)
    }
}

struct OnlineApplication {
    name: String,
    id_number: NationalId,
    phone: String,
    village: PlaceCode,
    household_size: u32,
    hardship: String,
}

/// The form's fields read into values, every fault named in Chinese beside its field.
fn parse(form: &OnlineForm) -> Result<OnlineApplication, AppError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        });
    };
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        fail("name", "请填写申请人姓名".to_owned());
    } else if name.chars().count() > NAME_CHARS {
        fail("name", format!("申请人姓名不能超过{NAME_CHARS}个字"));
    }
    let id_number = match NationalId::parse(&form.id_number) {
        Ok(id_number) => Some(id_number),
        Err(_) if form.id_number.trim().is_empty() => {
            fail("id_number", "请填写身份证号".to_owned());
            None
        }
        Err(error) => {
            fail("id_number", error.to_string());
            None
        }
    };
    let phone = form.phone.trim().to_owned();
    if phone.is_empty() {
        fail("phone", "请填写手机号码".to_owned());
    } else if !(phone.len() == 11
        && phone.starts_with('1')
        && phone.bytes().all(|byte| byte.is_ascii_digit()))
    {
        fail("phone", "手机号码应为以1开头的11位数字".to_owned());
    }
    let village = PlaceCode::parse(form.village.trim())
        .ok()
        .filter(|code| code.level() == PlaceLevel::Village);
    if village.is_none() {
        fail("village", "请选择所在镇街和村（社区）".to_owned());
    }
    let household_size = form.household_size.trim().parse::<u32>().ok();
    let household_size = match household_size {
        Some(size) if (1..=HOUSEHOLD_SIZE_MAX).contains(&size) => Some(size),
        _ => {
            fail(
                "household_size",
                format!("家庭人口应为1至{HOUSEHOLD_SIZE_MAX}之间的整数"),
            );
            None
        }
    };
    let hardship = form.hardship.trim().to_owned();
    if hardship.is_empty() {
        fail("hardship", "请填写家庭困难情况".to_owned());
    } else if hardship.chars().count() > HARDSHIP_CHARS {
        fail(
            "hardship",
            format!("困难情况不能超过{HARDSHIP_CHARS}个字，请精简后提交"),
        );
    }
    if !form.consent {
        fail(
            "consent",
            "请阅读并勾选家庭经济状况核对授权，未授权无法受理".to_owned(),
        );
    }
    match (id_number, village, household_size) {
        (Some(id_number), Some(village), Some(household_size)) if errors.is_empty() => {
            Ok(OnlineApplication {
                name,
                id_number,
                phone,
                village,
                household_size,
                hardship,
            })
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

/// One town of the application form's place list with its villages and communities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TownPlaces {
    pub name: String,
    /// (code, name) of each village or community.
    pub villages: Vec<(String, String)>,
}

impl App {
    /// The towns and their villages the online form offers (the whole place list; no login).
    pub async fn application_places(&self) -> Result<Vec<TownPlaces>, AppError> {
        let mut conn = self.store.read().await?;
        let towns = store::places::of_level(&mut conn, PlaceLevel::Town).await?;
        let villages = store::places::of_level(&mut conn, PlaceLevel::Village).await?;
        Ok(towns
            .into_iter()
            .map(|town| TownPlaces {
                villages: villages
                    .iter()
                    .filter(|village| town.code.contains(&village.code))
                    .map(|village| (village.code.as_str().to_owned(), village.name.clone()))
                    .collect(),
                name: town.name,
            })
            .filter(|town| !town.villages.is_empty())
            .collect())
    }

    /// 线上申请 (P1): takes an application typed by the applicant, with the consent to the
    /// economic check signed by the applicant today, in one transaction with its audit event.
    pub async fn apply_online(&self, form: &OnlineForm) -> Result<Applied, AppError> {
        let application = parse(form)?;
        let today = self.today();
        let at = self.now();
        let now = crate::timestamp(at);
        let mut tx = self.store.begin().await?;
        let village_row = store::places::get(&mut tx, &application.village).await?;
        if village_row.is_none_or(|row| row.level != PlaceLevel::Village) {
            return Err(AppError::invalid(
                "village",
                "所选村（社区）不在本区的区划名录中，请重新选择",
            ));
        }
        let id_number = application.id_number.as_str();
        let member_of = store::households::open_membership(&mut tx, id_number, None).await?;
        let (registered, area) = match member_of {
            Some(household_no) => {
                let row = store::households::by_external_id(&mut tx, household_no.as_str())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("household {household_no} of a membership"))?;
                let area = row.area_code.clone();
                (Some(household_no), area)
            }
            None => (None, application.village.clone()),
        };
        // P1: 一次申请受理 — a running application of the household or of the person answers.
        let running = match &registered {
            Some(household_no) => {
                store::cases::open_for_household(&mut tx, household_no.as_str()).await?
            }
            None => None,
        };
        let running = match running {
            Some(row) => Some(row),
            None => store::cases::open_online_application(&mut tx, id_number).await?,
        };
        let receipt = new_receipt();
        let receipt_row = |case_id: i64, duplicate: bool| store::cases::ReceiptRow {
            receipt: receipt.clone(),
            case_id,
            duplicate: i64::from(duplicate),
            applicant: application.name.clone(),
            id_number: application.id_number.clone(),
            phone: application.phone.clone(),
            household_size: i64::from(application.household_size),
            hardship: application.hardship.clone(),
            submitted_at: at,
        };
        if let Some(row) = running {
            // Kept with the running case for the town; the applicant is told nothing of it.
            store::cases::insert_receipt(&mut tx, &receipt_row(row.id, true)).await?;
            store::audit::append_one(
                &mut tx,
                self.store.audit_key(),
                &AuditEvent::case(
                    now.clone(),
                    online_actor(&application.village).audit_name(),
                    "case.online_duplicate",
                    &row.tracking_number,
                )
                .in_area(&row.area_code)
                .after(
                    serde_json::json!({ "receipt": receipt, "applicant": application.name })
                        .to_string(),
                ),
            )
            .await?;
            store::commit(tx).await?;
            return Ok(Applied { receipt });
        }
        // A new household's id carries its case's tracking number (`WS…` beside `TL…`): the
        // tracking number is unique, so the id is too.
        let new_household = registered.is_none();
        let household_no = match registered {
            Some(household_no) => household_no,
            None => {
                let date = today.format("%Y%m%d");
                let sequence =
                    store::cases::count_tracking_prefix(&mut tx, &format!("TL{date}-")).await? + 1;
                HouseholdNo::parse(&format!("WS{date}-{sequence:04}"))
                    .map_err(|error| anyhow::anyhow!("new household number: {error}"))?
            }
        };
        let expected_suffix = household_no
            .as_str()
            .get(2..)
            .unwrap_or_default()
            .to_owned();
        let actor = online_actor(
            &area
                .at_level(PlaceLevel::Village)
                .unwrap_or_else(|| area.clone()),
        );
        let intake = NewIntake {
            kind: CaseKind::Application,
            channel: Channel::Online,
            household_no,
            area,
            applicant: application.name.clone(),
            consent: Some(Consent {
                signed_on: today,
                signer: application.name.clone(),
            }),
            summary: application.hardship.clone(),
        };
        let (case_id, tracking_number) = self.open_case_in(&mut tx, &actor, intake, None).await?;
        if new_household && tracking_number.as_str().get(2..) != Some(expected_suffix.as_str()) {
            // Another application took a number between the two reads: nothing is kept.
            return Err(AppError::Conflict(
                "同时提交的申请较多，请重新提交".to_owned(),
            ));
        }
        store::cases::insert_online_application(
            &mut tx,
            &store::cases::NewOnlineApplication {
                case_id,
                id_number,
                phone: &application.phone,
                household_size: i64::from(application.household_size),
                now: &now,
            },
        )
        .await?;
        store::cases::insert_receipt(&mut tx, &receipt_row(case_id, false)).await?;
        store::commit(tx).await?;
        Ok(Applied { receipt })
    }

    /// 进度查询 (public, issue 15): the application with `receipt`, when `proof` is its phone
    /// number or its ID number's last digits. Anything else — an unknown receipt, a wrong
    /// proof — is the same `NotFound`. A duplicate shows 受理 on the day it was submitted.
    pub async fn track_receipt(&self, receipt: &str, proof: &str) -> Result<Tracked, AppError> {
        let receipt = normalise_receipt(receipt).ok_or(AppError::NotFound)?;
        let mut conn = self.store.read().await?;
        let row = store::cases::receipt(&mut conn, &receipt)
            .await?
            .filter(|row| proves(row, proof))
            .ok_or(AppError::NotFound)?;
        let submitted_on = cst_date(row.submitted_at);
        if row.duplicate != 0 {
            return Ok(Tracked {
                receipt,
                kind: CaseKind::Application,
                received_on: submitted_on,
                steps: vec![TrackedStep {
                    step: Step::Received,
                    on: submitted_on,
                }],
                closed_on: None,
                result: None,
                refusal_notice_delivered_on: None,
            });
        }
        let rows = store::cases::events(&mut conn, row.case_id).await?;
        let case = crate::cases::replay(row.case_id, &rows)?;
        let events = crate::cases::events_of(row.case_id, &rows)?;
        let mut steps = vec![TrackedStep {
            step: Step::Received,
            on: case.received_on(),
        }];
        for event in events {
            if let Fact::StepEntered { step } = event.fact {
                steps.push(TrackedStep { step, on: event.on });
            }
        }
        // What the departments declined, as the 告知书 names it (members of a category held
        // per person included).
        let declined: Vec<String> = self
            .declined_parts(&case)?
            .iter()
            .map(crate::cases::DeclinedPart::line)
            .collect();
        let result = case.outcome().map(|outcome| match outcome {
            Outcome::Confirmed { .. } => TrackedResult::Confirmed {
                declined: declined.clone(),
            },
            Outcome::Refused { reason } => TrackedResult::Refused {
                reason: if declined.is_empty() {
                    reason.clone()
                } else {
                    declined.join("；")
                },
            },
            Outcome::Withdrawn { .. } => TrackedResult::Withdrawn,
        });
        Ok(Tracked {
            receipt,
            kind: case.kind(),
            received_on: case.received_on(),
            steps,
            closed_on: case.closed_on(),
            result,
            refusal_notice_delivered_on: case.refusal_notice_delivered_on(),
        })
    }
}
