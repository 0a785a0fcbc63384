//! 公开 (disclosure, issue 14 item 1, P8): after a case changes a household's categories —
//! confirmation, a change of amount, an exit — its lines on the village's and town's public
//! list change in the same transaction (`disclose_household`, called by `cases`), and the
//! village's list is published again (dated, kept). Anyone reads the list of a village or a
//! town as in force on a day (`public_disclosure`); the village's users print the board sheet
//! and record its posting; `/disclosure` lists the publications and the overdue postings.
//!
//! What a line holds is `domain::disclosure`: the disclosed name, category, household size,
//! monthly amount and start date — never an ID number, health, disability or bank data.

use crate::{Actor, App, AppError};
use chrono::NaiveDate;
use domain::disclosure::{HeldPeriod, Line, OpenLine};
use domain::{PlaceCode, PlaceLevel, Role, Yuan};
use std::collections::{BTreeMap, HashMap};
use store::Conn;
use store::audit::{AuditEvent, Entity};

/// Lines of a public list per page.
pub const LINES_PER_PAGE: i64 = 200;
/// Publications per page of `/disclosure`.
pub const PUBLICATIONS_PER_PAGE: i64 = 50;
/// What opened the lines of the one-off backfill (households enrolled before 公开 existed).
pub const BACKFILL_CAUSE: &str = "存量认定";

/// One line of a public list as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisclosedLine {
    pub village_code: String,
    pub village_name: String,
    pub name: String,
    pub category: String,
    pub category_label: String,
    pub household_size: i64,
    pub monthly: Option<Yuan>,
    pub start_date: String,
}

/// A village's latest publication and its posting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub id: i64,
    pub village_code: String,
    pub village_name: String,
    pub published_on: String,
    pub cause: String,
    pub entries_count: i64,
    pub posted_on: Option<String>,
    /// The last day to post it (`disclosure.posting_days` after publication), if set.
    pub post_by: Option<NaiveDate>,
    /// Not posted and past `post_by`.
    pub overdue: bool,
}

/// A village's or town's list as in force on `on`, one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisclosureList {
    pub area: String,
    pub place_name: String,
    pub is_town: bool,
    pub on: NaiveDate,
    pub today: NaiveDate,
    pub lines: Vec<DisclosedLine>,
    /// The cursor of the next page (`after=`), if there is one.
    pub next_after: Option<String>,
    /// A village's latest publication (none for a town).
    pub latest: Option<Publication>,
}

/// A page of publications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicationPage {
    pub items: Vec<Publication>,
    pub next_after: Option<String>,
    pub today: NaiveDate,
}

fn cursor(area: &str, id: i64) -> String {
    format!("{area}.{id}")
}

fn parse_cursor(text: &str) -> Result<(String, i64), AppError> {
    let bad = || AppError::invalid("after", format!("翻页位置“{text}”无效"));
    let (area, id) = text.split_once('.').ok_or_else(bad)?;
    let area = PlaceCode::parse(area).map_err(|_| bad())?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    Ok((area.as_str().to_owned(), id))
}

/// The village a household's area lies in (a grid's village; a village itself).
fn village_of(area: &PlaceCode) -> PlaceCode {
    area.at_level(PlaceLevel::Village)
        .unwrap_or_else(|| area.clone())
}

/// A village or town code of a list, or the field error naming it.
fn list_area(area: &str) -> Result<PlaceCode, AppError> {
    let code = PlaceCode::parse(area)
        .map_err(|_| AppError::invalid("area", format!("区划代码“{area}”无效")))?;
    match code.level() {
        PlaceLevel::Village | PlaceLevel::Town => Ok(code),
        _ => Err(AppError::invalid(
            "area",
            format!("“{area}”不是镇街或村（社区）的区划代码"),
        )),
    }
}

fn village_code(village: &str) -> Result<PlaceCode, AppError> {
    let code = list_area(village)?;
    if code.level() != PlaceLevel::Village {
        return Err(AppError::invalid(
            "village",
            format!("“{village}”不是村（社区）的区划代码"),
        ));
    }
    Ok(code)
}

impl App {
    /// Days to post a publication on the board, from the catalogue on `on`.
    fn posting_days(&self, on: NaiveDate) -> Result<Option<i64>, AppError> {
        Ok(self
            .catalogue()?
            .snapshot(on)
            .integer(policy::Param::DisclosurePostingDays))
    }

    fn publication(
        &self,
        row: store::disclosure::PublicationRow,
        village_name: String,
        today: NaiveDate,
    ) -> Result<Publication, AppError> {
        let published_on = row.published_on;
        let post_by = self
            .posting_days(published_on)?
            .map(|days| published_on + chrono::Duration::days(days));
        let overdue = row.posted_on.is_none() && post_by.is_some_and(|by| today > by);
        Ok(Publication {
            id: row.id,
            village_code: row.village_code.as_str().to_owned(),
            village_name,
            published_on: row.published_on.to_string(),
            cause: row.cause,
            entries_count: row.entries_count,
            posted_on: row.posted_on.map(|day| day.to_string()),
            post_by,
            overdue,
        })
    }

    /// The household's lines after a change of its categories dated `on`: lines no longer
    /// true end on `on`, new ones start on `on`; if anything changed, the village's list is
    /// published again (dated today) and audited. In the caller's transaction.
    pub(crate) async fn disclose_household(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        household_row_id: i64,
        on: NaiveDate,
        cause: &str,
        now: &str,
    ) -> Result<(), AppError> {
        let household = store::households::get(conn, household_row_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut held = Vec::new();
        for period in store::households::category_history(conn, household_row_id).await? {
            if period.end_date.is_none() {
                held.push(HeldPeriod {
                    category: period.category.code().to_owned(),
                    start_date: period.start_date,
                    monthly_fen: period.monthly_fen,
                });
            }
        }
        let wanted = domain::disclosure::lines_of(&household.head_name, household.n_members, &held);
        let mut open = Vec::new();
        for row in store::disclosure::open_of(conn, household_row_id).await? {
            open.push(OpenLine {
                id: row.id,
                line: Line {
                    start_date: row.start_date,
                    category: row.category.code().to_owned(),
                    disclosed_name: row.disclosed_name,
                    household_size: row.household_size,
                    monthly_fen: row.monthly_fen,
                },
            });
        }
        let plan = domain::disclosure::plan(&open, &wanted);
        if plan.is_empty() {
            return Ok(());
        }
        let on_text = on.to_string();
        for id in &plan.end {
            store::disclosure::end(conn, *id, &on_text, cause).await?;
        }
        for line in &plan.add {
            store::disclosure::insert(
                conn,
                &store::disclosure::NewEntry {
                    area_code: household.area_code.as_str(),
                    household_id: household_row_id,
                    disclosed_name: &line.disclosed_name,
                    category: &line.category,
                    household_size: line.household_size,
                    monthly_fen: line.monthly_fen,
                    start_date: &line.start_date.to_string(),
                    in_force_from: &on_text,
                    opened_by: cause,
                    written_at: now,
                },
            )
            .await?;
        }
        let village = village_of(&household.area_code);
        let change = (plan.end.len(), plan.add.len());
        self.publish(conn, actor, village.as_str(), cause, now, change)
            .await
    }

    async fn publish(
        &self,
        conn: &mut Conn,
        actor: &Actor,
        village: &str,
        cause: &str,
        now: &str,
        (ended, added): (usize, usize),
    ) -> Result<(), AppError> {
        let today = self.today().to_string();
        let entries_count = store::disclosure::count_in_force(conn, village, &today).await?;
        let id = store::disclosure::publish(
            conn,
            &store::disclosure::NewPublication {
                village_code: village,
                published_on: &today,
                published_by: &actor.audit_name(),
                cause,
                entries_count,
                written_at: now,
            },
        )
        .await?;
        store::audit::append_one(
            conn,
            self.store.audit_key(),
            &AuditEvent::new(
                Entity::Disclosure,
                village,
                now,
                actor.audit_name(),
                "disclosure.publish",
            )
            .in_area(village)
            .after(format!(
                "publication {id} ({cause}): ended {ended}, added {added}, {entries_count} in force"
            )),
        )
        .await?;
        Ok(())
    }

    /// The backfill: every household holding categories without a line in force (enrolled
    /// before 公开 existed, or by a roll import) gets its lines, in force from each category's
    /// start, and each village touched one publication. Run at start-up (`serve`), one pass
    /// over the households in pages; a second run finds nothing to do. Returns the lines written.
    pub async fn backfill_disclosure(&self, operator: &str) -> Result<u64, AppError> {
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let mut after_id = 0;
        let mut written = 0u64;
        let mut villages: BTreeMap<PlaceCode, u64> = BTreeMap::new();
        while let Some(last) =
            store::disclosure::last_household_of_page(&mut tx, after_id, 1000).await?
        {
            let rows = store::disclosure::held_page(&mut tx, after_id, 1000).await?;
            after_id = last;
            let mut by_household: BTreeMap<i64, Vec<store::disclosure::HeldRow>> = BTreeMap::new();
            for row in rows {
                by_household.entry(row.household_id).or_default().push(row);
            }
            for (household_id, rows) in by_household {
                let Some(first) = rows.first() else { continue };
                let (area, head, size) = (
                    first.area_code.clone(),
                    first.head_name.clone(),
                    first.n_members,
                );
                let mut held = Vec::with_capacity(rows.len());
                for row in rows {
                    held.push(HeldPeriod {
                        start_date: row.start_date,
                        category: row.category.code().to_owned(),
                        monthly_fen: row.monthly_fen,
                    });
                }
                for line in domain::disclosure::lines_of(&head, size, &held) {
                    let start = line.start_date.to_string();
                    store::disclosure::insert(
                        &mut tx,
                        &store::disclosure::NewEntry {
                            area_code: area.as_str(),
                            household_id,
                            disclosed_name: &line.disclosed_name,
                            category: &line.category,
                            household_size: line.household_size,
                            monthly_fen: line.monthly_fen,
                            start_date: &start,
                            in_force_from: &start,
                            opened_by: BACKFILL_CAUSE,
                            written_at: &now,
                        },
                    )
                    .await?;
                    written += 1;
                    *villages.entry(village_of(&area)).or_default() += 1;
                }
            }
        }
        if let Some(district) = villages
            .keys()
            .next()
            .and_then(|village| village.at_level(PlaceLevel::District))
        {
            let actor = Actor::console(operator, district);
            for (village, added) in &villages {
                let added = usize::try_from(*added).unwrap_or(usize::MAX);
                self.publish(
                    &mut tx,
                    &actor,
                    village.as_str(),
                    BACKFILL_CAUSE,
                    &now,
                    (0, added),
                )
                .await?;
            }
        }
        store::commit(tx).await?;
        Ok(written)
    }

    /// The names of the villages of `codes` (each looked up once).
    async fn village_names(
        &self,
        conn: &mut Conn,
        codes: impl Iterator<Item = PlaceCode>,
    ) -> Result<HashMap<String, String>, AppError> {
        let mut names = HashMap::new();
        for code in codes {
            if names.contains_key(code.as_str()) {
                continue;
            }
            let name = store::places::get(conn, &code)
                .await?
                .map_or_else(|| code.as_str().to_owned(), |row| row.name);
            names.insert(code.as_str().to_owned(), name);
        }
        Ok(names)
    }

    async fn list(
        &self,
        area: &PlaceCode,
        on: NaiveDate,
        after: Option<&str>,
        limit: i64,
    ) -> Result<DisclosureList, AppError> {
        let today = self.today();
        let after = after.map(parse_cursor).transpose()?;
        let mut conn = self.store.read().await?;
        let place = store::places::get(&mut conn, area)
            .await?
            .ok_or(AppError::NotFound)?;
        let rows = store::disclosure::in_force(
            &mut conn,
            area.as_str(),
            &on.to_string(),
            after.as_ref().map(|(area, id)| (area.as_str(), *id)),
            limit + 1,
        )
        .await?;
        let more = rows.len() as i64 > limit;
        let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
        let next_after = if more {
            rows.last()
                .map(|row| cursor(row.area_code.as_str(), row.id))
        } else {
            None
        };
        let names = self
            .village_names(&mut conn, rows.iter().map(|row| village_of(&row.area_code)))
            .await?;
        let lines = rows
            .into_iter()
            .map(|row| {
                let village_code = village_of(&row.area_code).as_str().to_owned();
                DisclosedLine {
                    village_name: names.get(&village_code).cloned().unwrap_or_default(),
                    village_code,
                    name: row.disclosed_name,
                    category_label: row.category.label().to_owned(),
                    category: row.category.code().to_owned(),
                    household_size: row.household_size,
                    monthly: row.monthly_fen.map(Yuan::from_fen),
                    start_date: row.start_date.to_string(),
                }
            })
            .collect();
        let latest = if area.level() == PlaceLevel::Village {
            match store::disclosure::latest(&mut conn, area.as_str()).await? {
                Some(row) => Some(self.publication(row, place.name.clone(), today)?),
                None => None,
            }
        } else {
            None
        };
        Ok(DisclosureList {
            area: area.as_str().to_owned(),
            place_name: store::places::full_name(&mut conn, area).await?,
            is_town: area.level() == PlaceLevel::Town,
            on,
            today,
            lines,
            next_after,
            latest,
        })
    }

    /// 公开 for anyone (no sign-in): the list of a village or town as in force on `on`
    /// (default today; never after today), `LINES_PER_PAGE` a page after the cursor.
    pub async fn public_disclosure(
        &self,
        area: &str,
        on: Option<NaiveDate>,
        after: Option<&str>,
    ) -> Result<DisclosureList, AppError> {
        let area = list_area(area)?;
        let today = self.today();
        let on = on.unwrap_or(today);
        if on > today {
            return Err(AppError::invalid("date", "查询日期不能晚于今天"));
        }
        self.list(&area, on, after, LINES_PER_PAGE).await
    }

    /// A village's users (the village assistant, grid workers, the town and the district over
    /// it): the village only; another area is `Forbidden` (the list itself is public).
    fn check_village_user(&self, actor: &Actor, village: &PlaceCode) -> Result<(), AppError> {
        if !actor.role.reads_households() || !actor.covers(village) {
            return Err(AppError::Forbidden);
        }
        Ok(())
    }

    /// The board sheet (公开栏): the village's whole list in force today with its latest
    /// publication.
    pub async fn disclosure_sheet(
        &self,
        actor: &Actor,
        village: &str,
    ) -> Result<DisclosureList, AppError> {
        let village = village_code(village)?;
        self.check_village_user(actor, &village)?;
        let mut list = self
            .list(&village, self.today(), None, LINES_PER_PAGE)
            .await?;
        while let Some(after) = list.next_after.take() {
            let more = self
                .list(&village, list.on, Some(&after), LINES_PER_PAGE)
                .await?;
            list.lines.extend(more.lines);
            list.next_after = more.next_after;
        }
        Ok(list)
    }

    /// Records that the village's sheet was posted on the board on `posted_on` (not after
    /// today): every publication of the village not yet posted and published by then. The
    /// village assistant of the village or a town reviewer over it; audited.
    pub async fn record_disclosure_posting(
        &self,
        actor: &Actor,
        village: &str,
        posted_on: NaiveDate,
    ) -> Result<u64, AppError> {
        let village = village_code(village)?;
        if !matches!(actor.role, Role::VillageAssistant | Role::TownReviewer)
            || !actor.covers(&village)
        {
            return Err(AppError::Forbidden);
        }
        if posted_on > self.today() {
            return Err(AppError::invalid("posted_on", "张贴日期不能晚于今天"));
        }
        let now = self.now_text();
        let mut tx = self.store.begin().await?;
        let posted = store::disclosure::mark_posted(
            &mut tx,
            village.as_str(),
            &posted_on.to_string(),
            &actor.audit_name(),
        )
        .await?;
        if posted == 0 {
            store::rollback(tx).await?;
            return Err(AppError::invalid(
                "posted_on",
                format!("{posted_on} 及以前没有待张贴的公开名单"),
            ));
        }
        store::audit::append_one(
            &mut tx,
            self.store.audit_key(),
            &AuditEvent::new(
                Entity::Disclosure,
                village.as_str(),
                &now,
                actor.audit_name(),
                "disclosure.posted",
            )
            .in_area(village.as_str())
            .after(format!("posted on {posted_on}: {posted} publication(s)")),
        )
        .await?;
        store::commit(tx).await?;
        Ok(posted)
    }

    /// The publications of the villages in the actor's area, by village and newest first,
    /// `PUBLICATIONS_PER_PAGE` a page after the cursor, each with its posting deadline.
    pub async fn disclosure_publications(
        &self,
        actor: &Actor,
        after: Option<&str>,
    ) -> Result<PublicationPage, AppError> {
        if !actor.role.reads_households() {
            return Err(AppError::Forbidden);
        }
        let today = self.today();
        let after = after.map(parse_cursor).transpose()?;
        let mut conn = self.store.read().await?;
        let rows = store::disclosure::publications(
            &mut conn,
            actor.scope().as_str(),
            after.as_ref().map(|(area, id)| (area.as_str(), *id)),
            PUBLICATIONS_PER_PAGE + 1,
        )
        .await?;
        let more = rows.len() as i64 > PUBLICATIONS_PER_PAGE;
        let rows: Vec<_> = rows
            .into_iter()
            .take(PUBLICATIONS_PER_PAGE as usize)
            .collect();
        let next_after = if more {
            rows.last()
                .map(|row| cursor(row.village_code.as_str(), row.id))
        } else {
            None
        };
        let names = self
            .village_names(&mut conn, rows.iter().map(|row| row.village_code.clone()))
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let name = names
                .get(row.village_code.as_str())
                .cloned()
                .unwrap_or_default();
            items.push(self.publication(row, name, today)?);
        }
        Ok(PublicationPage {
            items,
            next_after,
            today,
        })
    }
}
