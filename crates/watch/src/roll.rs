//! 一门入库 (issue 12 item 4): a district's existing rolls (低保, 特困, 低保边缘, 刚性支出困难,
//! 防止返贫监测对象, 其他困难人员 名册) read per `docs/ROLL.md`, and the import plan.
//!
//! `read_roll` turns a file (CSV or XLSX, through `feed::read_table`) into rows, each bad row
//! named by its line and column in Chinese. `plan` takes the rows and what the registry says
//! about the persons they name (`Facts`: household of each ID number, category periods held)
//! and decides what to write: one dated category period per household (household scope) or
//! per person (person scope), and which rows are unmatched, already held, or in conflict.
//!
//! Invariants: a row is written only when nothing in the file or the registry contradicts
//! it; a roll already imported plans nothing (every row is `already`), so importing it again
//! is a no-op; the plan is a pure function of its inputs (rows in file order).

use crate::feed::{FeedError, FeedFormat, IdKey, Rejection, parse_id, read_table};
use chrono::NaiveDate;
use domain::{CareNeed, Category, MonitoringKind, Period};
use std::collections::HashMap;

/// 保障范围: whether a roll row is about a whole household or one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// 整户: the row names one member (usually the head) of a household that holds the category.
    Household,
    /// 个人: the person alone holds the category (特困, 低保单人保, 单人户).
    Person,
}

impl Scope {
    pub fn code(self) -> &'static str {
        match self {
            Scope::Household => "household",
            Scope::Person => "person",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Household => "整户",
            Scope::Person => "个人",
        }
    }

    fn parse(text: &str) -> Option<Scope> {
        match text {
            "household" | "整户" | "户" | "家庭" => Some(Scope::Household),
            "person" | "个人" | "人" | "单人" => Some(Scope::Person),
            _ => None,
        }
    }
}

/// 供养方式 of a 特困 person (now a domain word, re-exported here for the roll's users).
pub use domain::SupportMode;

/// The mode a roll's cell names, in English or Chinese.
fn parse_support_mode(text: &str) -> Option<SupportMode> {
    match text {
        "dispersed" | "分散供养" | "分散" => Some(SupportMode::Dispersed),
        "centralised" | "centralized" | "集中供养" | "集中" => Some(SupportMode::Centralised),
        _ => None,
    }
}

/// A roll's column: its English and Chinese header, and whether the file must have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    IdNumber,
    Name,
    Category,
    Scope,
    StartDate,
    MonthlyAmount,
    Document,
    Authority,
    SupportMode,
    MonitoringKind,
    CareLevel,
}

impl Column {
    const ALL: [Column; 11] = [
        Column::IdNumber,
        Column::Name,
        Column::Category,
        Column::Scope,
        Column::StartDate,
        Column::MonthlyAmount,
        Column::Document,
        Column::Authority,
        Column::SupportMode,
        Column::MonitoringKind,
        Column::CareLevel,
    ];

    pub fn english(self) -> &'static str {
        match self {
            Column::IdNumber => "id_number",
            Column::Name => "name",
            Column::Category => "category",
            Column::Scope => "scope",
            Column::StartDate => "start_date",
            Column::MonthlyAmount => "monthly_amount",
            Column::Document => "document",
            Column::Authority => "authority",
            Column::SupportMode => "support_mode",
            Column::MonitoringKind => "monitoring_kind",
            Column::CareLevel => "care_level",
        }
    }

    /// The Chinese header, also the column's name in every message.
    pub fn chinese(self) -> &'static str {
        match self {
            Column::IdNumber => "身份证号",
            Column::Name => "姓名",
            Column::Category => "救助类别",
            Column::Scope => "保障范围",
            Column::StartDate => "起始日期",
            Column::MonthlyAmount => "月保障金额",
            Column::Document => "审批文号",
            Column::Authority => "审批机关",
            Column::SupportMode => "供养方式",
            Column::MonitoringKind => "监测类型",
            Column::CareLevel => "照料护理等级",
        }
    }

    /// Whether a roll of `category` must have this column (ROLL.md).
    fn required(self, category: Category) -> bool {
        match self {
            Column::IdNumber
            | Column::Name
            | Column::Scope
            | Column::StartDate
            | Column::Document
            | Column::Authority => true,
            Column::MonthlyAmount => paid(category),
            Column::SupportMode => category == Category::Tekun,
            Column::MonitoringKind => category == Category::Monitoring,
            Column::Category | Column::CareLevel => false,
        }
    }
}

/// Categories whose roll must state the monthly amount paid (特困 and 低保 are paid monthly).
fn paid(category: Category) -> bool {
    matches!(
        category,
        Category::Tekun | Category::Dibao | Category::DibaoSingle
    )
}

/// The category a roll cell or a `--category` argument names: its code, its label, or the
/// names the national and Chongqing platforms use.
pub fn parse_category(text: &str) -> Option<Category> {
    let text = text.trim();
    Category::from_code(text)
        .or_else(|| Category::ALL.iter().copied().find(|c| c.label() == text))
        .or(match text {
            "特困"
            | "特困供养人员"
            | "特困供养"
            | "特困人员（分散供养）"
            | "特困人员（集中供养）" => Some(Category::Tekun),
            "最低生活保障" | "低保对象" | "低保户" => Some(Category::Dibao),
            "低保边缘家庭" | "低保边缘户" => Some(Category::DibaoEdge),
            "刚性支出困难家庭" | "支出型困难家庭" => {
                Some(Category::RigidExpenditure)
            }
            "监测对象" | "防止返贫监测" => Some(Category::Monitoring),
            _ => None,
        })
}

/// 照料护理等级 as the platforms write it: the code or label of `CareNeed` (the levels whose
/// standards the catalogue's `tekun.care.*` carry), or the usual other names of each.
fn parse_care_level(text: &str) -> Option<CareNeed> {
    CareNeed::from_code(text)
        .or_else(|| {
            CareNeed::ALL
                .iter()
                .copied()
                .find(|care| care.label() == text)
        })
        .or(match text {
            "全失能" | "失能" | "完全失能" | "全部护理" => Some(CareNeed::Full),
            "半失能" | "部分失能" | "半自理" | "部分护理" => Some(CareNeed::Partial),
            "全自理" | "生活自理" | "完全自理" | "生活能自理" => {
                Some(CareNeed::SelfCare)
            }
            _ => None,
        })
}

fn parse_monitoring_kind(text: &str) -> Option<MonitoringKind> {
    MonitoringKind::from_code(text).or_else(|| {
        MonitoringKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.label() == text)
    })
}

/// One readable roll row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollRow {
    /// The file's line (CSV, the header being line 1) or the worksheet's row (XLSX).
    pub line: u64,
    pub id_number: IdKey,
    pub name: String,
    pub scope: Scope,
    pub start: NaiveDate,
    /// 月保障金额 in fen; `None` where the roll's category is not paid monthly and the cell is empty.
    pub monthly_fen: Option<i64>,
    /// 审批文号
    pub document: String,
    /// 审批机关
    pub authority: String,
    pub support_mode: Option<SupportMode>,
    /// 照料护理等级 of a 特困 person, where the roll has the column and the cell is filled.
    pub care_level: Option<CareNeed>,
    pub monitoring_kind: Option<MonitoringKind>,
}

/// 问题行: a row that cannot be read, with its line and the column at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub line: u64,
    /// The Chinese header of the column at fault; `None` when the row as a whole is bad.
    pub column: Option<&'static str>,
    pub reason: String,
}

impl std::fmt::Display for BadRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(column) => write!(f, "第 {} 行“{column}”列：{}", self.line, self.reason),
            None => write!(f, "第 {} 行：{}", self.line, self.reason),
        }
    }
}

/// A roll file that cannot be read at all (nothing of it is planned).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RollError {
    #[error("表头缺少必填列“{chinese}”（{english}）")]
    MissingColumn {
        chinese: &'static str,
        english: &'static str,
    },
    #[error("表头列“{0}”重复")]
    DuplicateColumn(String),
    #[error("文件类型不受支持：应为 CSV 或 XLSX")]
    Format,
    #[error("{0}")]
    File(#[from] FeedError),
}

/// A roll as read: its category (given by the user, and checked against a 救助类别 column),
/// its good rows in file order, and its bad rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roll {
    pub category: Category,
    pub rows: Vec<RollRow>,
    pub bad: Vec<BadRow>,
}

/// Reads a roll of `category` (ROLL.md). A start date after `today` is a bad row.
pub fn read_roll(
    bytes: &[u8],
    format: FeedFormat,
    category: Category,
    today: NaiveDate,
) -> Result<Roll, RollError> {
    if format == FeedFormat::JsonLines {
        return Err(RollError::Format);
    }
    let mut roll = Roll {
        category,
        rows: Vec::new(),
        bad: Vec::new(),
    };
    let header = |names: &[&str]| -> Result<Positions, RollError> {
        let mut at: Positions = [None; Column::ALL.len()];
        for (position, name) in names.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            if let Some(slot) = Column::ALL
                .iter()
                .position(|column| name == column.english() || name == column.chinese())
            {
                if at[slot].is_some() {
                    return Err(RollError::DuplicateColumn(name.to_owned()));
                }
                at[slot] = Some(position);
            }
        }
        match Column::ALL
            .iter()
            .enumerate()
            .find(|(slot, column)| column.required(category) && at[*slot].is_none())
        {
            Some((_, missing)) => Err(RollError::MissingColumn {
                chinese: missing.chinese(),
                english: missing.english(),
            }),
            None => Ok(at),
        }
    };
    read_table(bytes, format, header, |at, line, cells| match cells {
        Err(Rejection { reason, .. }) => roll.bad.push(BadRow {
            line,
            column: None,
            reason,
        }),
        Ok(cells) => {
            if cells.iter().all(|cell| cell.trim().is_empty()) {
                return;
            }
            match read_row(line, cells, at, category, today) {
                Ok(row) => roll.rows.push(row),
                Err(bad) => roll.bad.push(bad),
            }
        }
    })?;
    Ok(roll)
}

/// Where each of `Column::ALL` is in the file, read from its header.
type Positions = [Option<usize>; Column::ALL.len()];

fn read_row(
    line: u64,
    cells: &[&str],
    at: &Positions,
    category: Category,
    today: NaiveDate,
) -> Result<RollRow, BadRow> {
    let cell = |column: Column| -> &str {
        let slot = Column::ALL
            .iter()
            .position(|known| *known == column)
            .and_then(|slot| at[slot]);
        slot.and_then(|position| cells.get(position))
            .map_or("", |text| text.trim())
    };
    let bad = |column: Column, reason: String| BadRow {
        line,
        column: Some(column.chinese()),
        reason,
    };
    // No cell may hold a control character (a NUL cannot be stored on PostgreSQL).
    for column in Column::ALL {
        if let Some((at, c)) = domain::input::forbidden_char(cell(column)) {
            return Err(bad(column, domain::input::forbidden_message(at, c)));
        }
    }
    let required = |column: Column| -> Result<&str, BadRow> {
        match cell(column) {
            "" => Err(bad(column, "为空".to_owned())),
            text => Ok(text),
        }
    };
    let id_number =
        parse_id(required(Column::IdNumber)?).map_err(|reason| bad(Column::IdNumber, reason))?;
    let name = required(Column::Name)?.to_owned();
    match cell(Column::Category) {
        "" => {}
        text => match parse_category(text) {
            Some(named) if named == category => {}
            Some(named) => {
                return Err(bad(
                    Column::Category,
                    format!(
                        "为“{}”，与导入的{}名册不符",
                        named.label(),
                        category.label()
                    ),
                ));
            }
            None => return Err(bad(Column::Category, format!("“{text}”不是已知类别"))),
        },
    }
    let scope_text = required(Column::Scope)?;
    let scope = Scope::parse(scope_text).ok_or_else(|| {
        bad(
            Column::Scope,
            format!("“{scope_text}”无法识别（应为 整户 或 个人）"),
        )
    })?;
    let fitting = match category {
        Category::Tekun | Category::DibaoSingle => scope == Scope::Person,
        Category::DibaoEdge | Category::RigidExpenditure | Category::Monitoring => {
            scope == Scope::Household
        }
        Category::Dibao | Category::OtherNeedy => true,
    };
    if !fitting {
        return Err(bad(
            Column::Scope,
            format!("{}名册不能按“{}”登记", category.label(), scope.label()),
        ));
    }
    let start = parse_date(required(Column::StartDate)?)
        .map_err(|reason| bad(Column::StartDate, reason))?;
    if start > today {
        return Err(bad(
            Column::StartDate,
            format!("{start} 晚于今天（{today}）"),
        ));
    }
    let monthly_fen = match cell(Column::MonthlyAmount) {
        "" if paid(category) => return Err(bad(Column::MonthlyAmount, "为空".to_owned())),
        "" => None,
        text => Some(parse_yuan(text).map_err(|reason| bad(Column::MonthlyAmount, reason))?),
    };
    let document = required(Column::Document)?.to_owned();
    let authority = required(Column::Authority)?.to_owned();
    let support_mode = match cell(Column::SupportMode) {
        "" if category == Category::Tekun => {
            return Err(bad(Column::SupportMode, "为空".to_owned()));
        }
        "" => None,
        _ if category != Category::Tekun => {
            return Err(bad(Column::SupportMode, "仅特困人员名册填写".to_owned()));
        }
        text => Some(parse_support_mode(text).ok_or_else(|| {
            bad(
                Column::SupportMode,
                format!("“{text}”无法识别（应为 分散供养 或 集中供养）"),
            )
        })?),
    };
    let care_level = match cell(Column::CareLevel) {
        "" => None,
        _ if category != Category::Tekun => {
            return Err(bad(Column::CareLevel, "仅特困人员名册填写".to_owned()));
        }
        text => Some(parse_care_level(text).ok_or_else(|| {
            bad(
                Column::CareLevel,
                format!("“{text}”无法识别（应为 全护理、半护理 或 自理）"),
            )
        })?),
    };
    let monitoring_kind = match cell(Column::MonitoringKind) {
        "" if category == Category::Monitoring => {
            return Err(bad(Column::MonitoringKind, "为空".to_owned()));
        }
        "" => None,
        _ if category != Category::Monitoring => {
            return Err(bad(
                Column::MonitoringKind,
                "仅防止返贫监测对象名册填写".to_owned(),
            ));
        }
        text => Some(parse_monitoring_kind(text).ok_or_else(|| {
            bad(
                Column::MonitoringKind,
                format!("“{text}”无法识别（应为 脱贫不稳定户、边缘易致贫户 或 突发严重困难户）"),
            )
        })?),
    };
    Ok(RollRow {
        line,
        id_number,
        name,
        scope,
        start,
        monthly_fen,
        document,
        authority,
        support_mode,
        care_level,
        monitoring_kind,
    })
}

/// `2025-07-01`, `2025/7/1`, `20250701` or `2025年7月1日`.
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bad = || format!("“{text}”无法识别（应为 YYYY-MM-DD）");
    let parts: Vec<&str> = if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        vec![&text[..4], &text[4..6], &text[6..]]
    } else {
        text.trim_end_matches('日')
            .split(['-', '/', '.', '年', '月'])
            .collect()
    };
    let [year, month, day] = parts.as_slice() else {
        return Err(bad());
    };
    let number = |part: &str| -> Result<u32, String> {
        if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let year = i32::try_from(number(year)?).map_err(|_| bad())?;
    if year < 1950 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
        .ok_or_else(|| format!("“{text}”不是有效日期"))
}

/// Yuan with at most two decimals (`1001`, `630.5`, `1,001.00`), not negative, in fen.
fn parse_yuan(text: &str) -> Result<i64, String> {
    let plain: String = text
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    if plain.starts_with('-') {
        return Err(format!("“{text}”为负数"));
    }
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return Err(format!("“{text}”不是金额（元，至多两位小数）"));
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| format!("“{text}”不是金额（元，至多两位小数）"))?;
    let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    Ok(whole * 100 + fraction)
}

/// A category period the registry holds (what `plan` checks a row against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub category: Category,
    /// The person who holds it alone; `None` for the whole household.
    pub id_number: Option<IdKey>,
    pub monitoring_kind: Option<MonitoringKind>,
    pub period: Period,
}

/// What the registry says about the persons a roll names: the household each ID number is a
/// member of now (the store's household key), and the category periods of those households.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub household_of: HashMap<IdKey, i64>,
    pub holdings: HashMap<i64, Vec<Holding>>,
}

/// A category period the import writes, with the roll rows it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPeriod {
    pub household: i64,
    /// The person for a person-scope period.
    pub id_number: Option<IdKey>,
    pub category: Category,
    pub monitoring_kind: Option<MonitoringKind>,
    pub support_mode: Option<SupportMode>,
    pub care_level: Option<CareNeed>,
    pub start: NaiveDate,
    pub monthly_fen: Option<i64>,
    pub document: String,
    pub authority: String,
    pub lines: Vec<u64>,
}

impl PlannedPeriod {
    /// The period's reason: the roll and its deciding document (文号) and body.
    pub fn reason(&self) -> String {
        let mode = self
            .support_mode
            .map_or(String::new(), |mode| format!("，{}", mode.label()));
        format!(
            "名册导入（一门入库）：{}〔{}〕{mode}",
            self.authority, self.document
        )
    }
}

/// Why a matched row is not written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowNote {
    pub line: u64,
    pub id_number: IdKey,
    pub name: String,
    pub reason: String,
}

/// The dry-run report and what accepting it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub category: Category,
    /// Data rows read (good and bad).
    pub n_rows: usize,
    /// Rows that will be written (matched, no conflict).
    pub n_matched: usize,
    pub writes: Vec<PlannedPeriod>,
    /// 未匹配: the ID number is not a member of any household now.
    pub unmatched: Vec<RowNote>,
    /// 已在册: the household or person already holds the category on the row's date.
    pub already: Vec<RowNote>,
    /// 冲突: two rows of the file disagree, or the registry holds an exclusive category.
    pub conflicts: Vec<RowNote>,
    pub bad: Vec<BadRow>,
}

impl Plan {
    /// The households the import writes to, in key order (their re-checks are rescheduled).
    pub fn households(&self) -> Vec<i64> {
        let mut households: Vec<i64> = self.writes.iter().map(|p| p.household).collect();
        households.sort_unstable();
        households.dedup();
        households
    }
}

/// What a household-scope period or a person-scope period is keyed by within one roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    Household(i64),
    Person(IdKey),
}

/// Decides the import of `roll` (see the module doc). Rows about one target (a household for
/// household scope, a person for person scope) merge into one period when they agree on
/// date, amount, document, body and kind; when they do not, every one of them is a conflict.
/// A target already holding the roll's category on the row's date is `already`. A primary
/// category (rule 8) excludes another primary category at the same scope on that date: a
/// household holds one household-wide category, a person one category of their own (特困 of
/// a member beside the household's 低保 is rule 2's case, not a conflict); the monitoring tag
/// excludes nothing.
pub fn plan(roll: &Roll, facts: &Facts) -> Plan {
    let category = roll.category;
    let mut plan = Plan {
        category,
        n_rows: roll.rows.len() + roll.bad.len(),
        n_matched: 0,
        writes: Vec::new(),
        unmatched: Vec::new(),
        already: Vec::new(),
        conflicts: Vec::new(),
        bad: roll.bad.clone(),
    };
    plan.bad.sort_by_key(|bad| bad.line);
    let note = |row: &RollRow, reason: String| RowNote {
        line: row.line,
        id_number: row.id_number,
        name: row.name.clone(),
        reason,
    };
    // Rows grouped by target, in order of first appearance.
    let mut order: Vec<Target> = Vec::new();
    let mut groups: HashMap<Target, Vec<&RollRow>> = HashMap::new();
    for row in &roll.rows {
        let Some(&household) = facts.household_of.get(&row.id_number) else {
            plan.unmatched
                .push(note(row, "身份证号不在本系统任何家庭中".to_owned()));
            continue;
        };
        let target = match row.scope {
            Scope::Household => Target::Household(household),
            Scope::Person => Target::Person(row.id_number),
        };
        groups
            .entry(target)
            .or_insert_with(|| {
                order.push(target);
                Vec::new()
            })
            .push(row);
    }
    let same = |left: &RollRow, right: &RollRow| {
        (
            left.start,
            left.monthly_fen,
            &left.document,
            &left.authority,
            left.support_mode,
            left.care_level,
            left.monitoring_kind,
        ) == (
            right.start,
            right.monthly_fen,
            &right.document,
            &right.authority,
            right.support_mode,
            right.care_level,
            right.monitoring_kind,
        )
    };
    for target in order {
        let rows = &groups[&target];
        let first = rows[0];
        if let Some(other) = rows.iter().find(|row| !same(first, row)) {
            let lines: Vec<String> = rows.iter().map(|row| row.line.to_string()).collect();
            let what = match target {
                Target::Household(_) => "同一家庭",
                Target::Person(_) => "同一人",
            };
            for row in rows {
                plan.conflicts.push(note(
                    row,
                    format!(
                        "{what}在文件中出现于第 {} 行，数据不一致（如第 {} 行与第 {} 行）",
                        lines.join("、"),
                        first.line,
                        other.line
                    ),
                ));
            }
            continue;
        }
        let household = facts.household_of[&first.id_number];
        let held = facts
            .holdings
            .get(&household)
            .map_or(&[][..], Vec::as_slice);
        let on_date = |holding: &&Holding| holding.period.contains(first.start);
        let covers = |holding: &Holding| match target {
            Target::Household(_) => holding.id_number.is_none(),
            Target::Person(id) => holding.id_number.is_none() || holding.id_number == Some(id),
        };
        if let Some(holding) = held
            .iter()
            .filter(on_date)
            .find(|holding| holding.category == category && covers(holding))
        {
            for row in rows {
                plan.already.push(note(
                    row,
                    format!("{} 起已登记为{}", holding.period.start, category.label()),
                ));
            }
            continue;
        }
        let same_scope = |holding: &Holding| match target {
            Target::Household(_) => holding.id_number.is_none(),
            Target::Person(id) => holding.id_number == Some(id),
        };
        if category != Category::Monitoring
            && let Some(holding) = held.iter().filter(on_date).find(|holding| {
                holding.category != Category::Monitoring
                    && holding.category != category
                    && same_scope(holding)
            })
        {
            for row in rows {
                plan.conflicts.push(note(
                    row,
                    format!(
                        "{} 起已登记为{}，与{}互斥",
                        holding.period.start,
                        holding.category.label(),
                        category.label()
                    ),
                ));
            }
            continue;
        }
        plan.n_matched += rows.len();
        plan.writes.push(PlannedPeriod {
            household,
            id_number: match target {
                Target::Household(_) => None,
                Target::Person(id) => Some(id),
            },
            category,
            monitoring_kind: first.monitoring_kind,
            support_mode: first.support_mode,
            care_level: first.care_level,
            start: first.start,
            monthly_fen: first.monthly_fen,
            document: first.document.clone(),
            authority: first.authority.clone(),
            lines: rows.iter().map(|row| row.line).collect(),
        });
    }
    plan.unmatched.sort_by_key(|note| note.line);
    plan.already.sort_by_key(|note| note.line);
    plan.conflicts.sort_by_key(|note| note.line);
    plan
}

#[cfg(test)]
mod tests;
