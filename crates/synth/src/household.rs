//! One synthetic household: composition first, then each member's identity, health, schooling
//! and labour capacity, then the household's income, property, expenditure, gaps and risks.

use crate::names;
use crate::rng::Rng;
use domain::interchange::{
    DisabilityRecord, GuaranteesRecord, HouseholdRecord, IncomeRecord, PersonRecord,
    PropertyRecord, RigidRecord, SupporterRecord, VehicleRecord,
};
use domain::national_id::check_char;
use domain::{Place, PlaceLevel};

/// Ages, schooling and birth dates are as of this day, so that a seed gives the same set
/// whenever it is run.
pub(crate) const REFERENCE_DATE: (i32, u32, u32) = (2026, 11, 28);

/// 铜梁县's code before it became a district in 2014; residents' ID numbers carry it.
const ID_REGION: &str = "500224";

/// Sequence codes per birth date and sex: odd 001–997 for men, even 002–998 for women.
const SEQUENCES_PER_DAY: u16 = 499;

/// The earliest birth date issued, as days since 1970-01-01 (1900-01-01).
const FIRST_BIRTH_DAY: i32 = -25_567;

/// 农村低保标准 and 城市低保标准 from 2025-07-01 (yuan per person per month), used only to
/// shape who is likely to be a 脱贫户.
const RURAL_DIBAO: f64 = 630.0;
const URBAN_DIBAO: f64 = 770.0;

struct Area {
    code: String,
    /// Share of households with urban hukou: residents' committees (社区) hold many of them.
    urban_share: f64,
}

/// The stateful part of generation: the area list and the ID sequence codes handed out so far.
pub(crate) struct Generator {
    areas: Vec<Area>,
    seed: u64,
    today: i32,
    issued: Vec<u16>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Composition {
    ElderAlone,
    ElderCouple,
    SingleAdult,
    EmptyNest,
    LeftBehind,
    Nuclear,
    ThreeGenerations,
    SingleParent,
    ElderWithAdultChild,
}

const COMPOSITIONS: [(Composition, u32); 9] = [
    (Composition::ElderAlone, 13),
    (Composition::ElderCouple, 15),
    (Composition::SingleAdult, 5),
    (Composition::EmptyNest, 10),
    (Composition::LeftBehind, 11),
    (Composition::Nuclear, 24),
    (Composition::ThreeGenerations, 13),
    (Composition::SingleParent, 4),
    (Composition::ElderWithAdultChild, 5),
];

struct Draft {
    relation: &'static str,
    age: u32,
    male: bool,
    /// Adults living with their parents or alone in middle age are more often disabled.
    disability_prone: bool,
    /// Grandparents minding left-behind children work near home, not away.
    at_home: bool,
}

struct Member {
    record: PersonRecord,
    age: u32,
    labour: Labour,
    wages: f64,
    severe_disability: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Labour {
    None,
    Partial,
    Full,
}

impl Labour {
    fn code(self) -> &'static str {
        match self {
            Labour::None => "none",
            Labour::Partial => "partial",
            Labour::Full => "full",
        }
    }
}

impl Generator {
    /// Households go to villages and communities (12-digit codes) of `places`.
    pub(crate) fn new(places: &[Place], seed: u64) -> Self {
        let areas = places
            .iter()
            .filter(|place| place.code.level() == PlaceLevel::Village)
            .map(|place| Area {
                code: place.code.as_str().to_owned(),
                urban_share: if place.name.ends_with("社区") {
                    0.45
                } else {
                    0.02
                },
            })
            .collect();
        let (year, month, day) = REFERENCE_DATE;
        let today = days_from_civil(year, month, day);
        let n_days = usize::try_from(today - FIRST_BIRTH_DAY + 1).unwrap_or(0);
        Self {
            areas,
            seed,
            today,
            issued: vec![0; n_days * 2],
        }
    }

    pub(crate) fn has_areas(&self) -> bool {
        !self.areas.is_empty()
    }

    /// The household at `index` (0-based); its id is `H` and the 1-based index in 8 digits.
    pub(crate) fn household(&mut self, index: u64) -> HouseholdRecord {
        // One stream per household: household `index` is the same whatever the count.
        let mut rng = Rng::new(self.seed, index);
        let area = &self.areas[rng.below(self.areas.len())];
        let area_code = area.code.clone();
        let urban = rng.chance(area.urban_share);
        let composition = COMPOSITIONS[rng.weighted(&COMPOSITIONS.map(|(_, weight)| weight))].0;
        let drafts = compose(&mut rng, composition);

        let family_name = names::surname(&mut rng);
        let mut members: Vec<Member> = Vec::with_capacity(drafts.len());
        for draft in &drafts {
            let surname = match draft.relation {
                "head" | "child" | "grandchild" => family_name,
                "parent" if draft.male => family_name,
                _ => names::surname_other_than(&mut rng, family_name),
            };
            members.push(self.member(&mut rng, draft, surname));
        }

        let elderly_only = members.iter().all(|member| member.age >= 60);
        if elderly_only {
            let supporters = children_outside(&mut rng, members[0].age);
            for member in members
                .iter_mut()
                .filter(|member| matches!(member.record.relation.as_str(), "head" | "spouse"))
            {
                member.record.supporters.clone_from(&supporters);
            }
        }
        if composition == Composition::ElderWithAdultChild {
            let supporters = children_outside(&mut rng, members[0].age);
            for member in members.iter_mut().filter(|member| member.age >= 60) {
                member.record.supporters.clone_from(&supporters);
            }
        }
        if composition == Composition::LeftBehind {
            let n_parents = if rng.chance(0.85) { 2 } else { 1 };
            let parents: Vec<SupporterRecord> = (0..n_parents)
                .map(|_| SupporterRecord {
                    relation: "parent".to_owned(),
                    able: rng.chance(0.92),
                })
                .collect();
            for member in members
                .iter_mut()
                .filter(|member| member.record.relation == "grandchild")
            {
                member.record.supporters.clone_from(&parents);
            }
        }

        finish(&mut rng, index, area_code, urban, members)
    }

    fn member(&mut self, rng: &mut Rng, draft: &Draft, surname: &str) -> Member {
        let (year, month, day) = REFERENCE_DATE;
        let target_birth =
            days_from_civil(year - draft.age as i32, month, day) - rng.below(365) as i32;
        let (id_number, birth_day) = self.national_id(target_birth, draft.male);
        let birth = civil_from_days(birth_day);
        let age = age_on(birth, REFERENCE_DATE);
        let name = format!("{surname}{}", names::given_name(rng, draft.male, birth.0));

        let disability_chance = match age {
            0..=15 => 0.015,
            16..=59 if draft.disability_prone => 0.30,
            16..=59 => 0.04,
            60..=79 => 0.09,
            _ => 0.14,
        };
        let disability = rng.chance(disability_chance).then(|| {
            const KINDS: [(&str, u32); 7] = [
                ("physical", 45),
                ("visual", 12),
                ("hearing", 12),
                ("speech", 2),
                ("intellectual", 8),
                ("mental", 9),
                ("multiple", 12),
            ];
            let kind = KINDS[rng.weighted(&KINDS.map(|(_, weight)| weight))].0;
            let grade = [1u8, 2, 3, 4][rng.weighted(&[10, 20, 32, 38])];
            DisabilityRecord {
                kind: kind.to_owned(),
                grade,
            }
        });
        let illness_chance = match age {
            0..=15 => 0.008,
            16..=59 => 0.025,
            _ => 0.065,
        };
        let serious_illness = rng.chance(illness_chance);

        let schooling = match age {
            3..=5 if rng.chance(0.88) => "preschool",
            6..=15 => "compulsory",
            16..=18 => ["senior_high", "vocational", "none"][rng.weighted(&[52, 38, 10])],
            19..=22 if matches!(draft.relation, "child" | "grandchild") && rng.chance(0.45) => {
                "college"
            }
            _ => "none",
        };

        let mut labour = match age {
            0..=15 => Labour::None,
            16..=59 if schooling != "none" => Labour::None,
            16..=59 => Labour::Full,
            60..=69 => [Labour::Partial, Labour::Full, Labour::None][rng.weighted(&[65, 15, 20])],
            70..=74 => [Labour::Partial, Labour::None][rng.weighted(&[40, 60])],
            _ => Labour::None,
        };
        let severe_disability = disability.as_ref().is_some_and(|record| {
            record.grade <= 2
                || (record.grade == 3 && matches!(record.kind.as_str(), "intellectual" | "mental"))
        });
        if severe_disability {
            labour = Labour::None;
        } else if disability.is_some() {
            labour = labour.min(Labour::Partial);
        }
        if serious_illness {
            labour = labour.min(if rng.chance(0.5) {
                Labour::None
            } else {
                Labour::Partial
            });
        }

        let mut care = 0u8;
        if let Some(record) = &disability {
            care = match record.grade {
                1 => 2,
                2 if rng.chance(0.7) => 1,
                _ => 0,
            };
        }
        care = care.max(match age {
            85.. => [0, 1, 2][rng.weighted(&[50, 40, 10])],
            80..=84 => [0, 1, 2][rng.weighted(&[75, 20, 5])],
            _ => 0,
        });
        if serious_illness && age >= 60 && rng.chance(0.4) {
            care = care.max(1);
        }
        let care_need = ["self", "partial", "full"][usize::from(care)];

        let wages = match labour {
            Labour::Full | Labour::Partial if age < 60 && draft.at_home && rng.chance(0.8) => {
                rng.lognormal(12_000.0, 0.7)
            }
            Labour::Full | Labour::Partial if age < 60 && draft.at_home => 0.0,
            Labour::Full if age < 60 && rng.chance(0.93) => rng.lognormal(42_000.0, 0.55),
            Labour::Full if age < 60 => rng.lognormal(8_000.0, 0.8),
            Labour::Partial if age < 60 => rng.lognormal(9_000.0, 0.8),
            Labour::Full | Labour::Partial if rng.chance(0.7) => rng.lognormal(4_500.0, 0.8),
            _ => 0.0,
        }
        .round();

        Member {
            record: PersonRecord {
                id_number,
                name,
                relation: draft.relation.to_owned(),
                labour_capacity: labour.code().to_owned(),
                disability,
                serious_illness,
                schooling: schooling.to_owned(),
                care_need: care_need.to_owned(),
                income_12m: None,
                supporters: Vec::new(),
            },
            age,
            labour,
            wages,
            severe_disability,
        }
    }

    /// A GB 11643 number born on `birth_day` (or, when that date's sequence codes are used up,
    /// the nearest earlier date with one left), and the birth day it carries. Codes are handed
    /// out in order, so numbers stay unique for up to 499 people of each sex per birth date:
    /// about 35 million members in all.
    fn national_id(&mut self, birth_day: i32, male: bool) -> (String, i32) {
        let sex = usize::from(male);
        let n_days = self.issued.len() / 2;
        let mut day = birth_day.clamp(FIRST_BIRTH_DAY, self.today);
        let mut sequence = 0;
        for _ in 0..n_days {
            let slot = (day - FIRST_BIRTH_DAY) as usize * 2 + sex;
            if self.issued[slot] < SEQUENCES_PER_DAY {
                sequence = self.issued[slot];
                self.issued[slot] += 1;
                break;
            }
            day = if day > FIRST_BIRTH_DAY {
                day - 1
            } else {
                self.today
            };
        }
        let code = 2 * sequence + if male { 1 } else { 2 };
        let (year, month, date) = civil_from_days(day);
        let mut id_number = format!("{ID_REGION}{year:04}{month:02}{date:02}{code:03}");
        id_number.push(check_char(id_number.as_bytes()));
        (id_number, day)
    }
}

fn compose(rng: &mut Rng, composition: Composition) -> Vec<Draft> {
    let person = |relation, age, male| Draft {
        relation,
        age,
        male,
        disability_prone: false,
        at_home: false,
    };
    let mut drafts = Vec::with_capacity(6);
    match composition {
        Composition::ElderAlone => {
            let age = 60 + rng.between(0, 16) + rng.between(0, 16);
            drafts.push(person("head", age, rng.chance(0.42)));
        }
        Composition::ElderCouple => {
            let age = 60 + rng.between(0, 14) + rng.between(0, 14);
            drafts.push(person("head", age, true));
            drafts.push(person(
                "spouse",
                (age + rng.between(0, 8)).saturating_sub(5).max(56),
                false,
            ));
        }
        Composition::SingleAdult => {
            let mut head = person("head", rng.between(28, 59), rng.chance(0.75));
            head.disability_prone = true;
            drafts.push(head);
        }
        Composition::EmptyNest => {
            let age = rng.between(42, 59);
            drafts.push(person("head", age, true));
            drafts.push(person(
                "spouse",
                (age + rng.between(0, 7)).saturating_sub(4),
                false,
            ));
        }
        Composition::LeftBehind => {
            let age = rng.between(50, 78);
            let male = rng.chance(0.6);
            drafts.push(person("head", age, male));
            if rng.chance(0.7) {
                drafts.push(person(
                    "spouse",
                    (age + rng.between(0, 6)).saturating_sub(3),
                    !male,
                ));
            }
            for grandparent in &mut drafts {
                grandparent.at_home = true;
            }
            for _ in 0..if rng.chance(0.55) { 1 } else { 2 } {
                drafts.push(person(
                    "grandchild",
                    rng.between(1, (age - 38).min(15)),
                    rng.chance(0.52),
                ));
            }
        }
        Composition::Nuclear | Composition::SingleParent => {
            let age = rng.between(26, 50);
            let male = if composition == Composition::Nuclear {
                rng.chance(0.9)
            } else {
                rng.chance(0.4)
            };
            drafts.push(person("head", age, male));
            if composition == Composition::Nuclear {
                drafts.push(person(
                    "spouse",
                    (age + rng.between(0, 6)).saturating_sub(3),
                    !male,
                ));
            }
            let n_children = [1, 2, 3][rng.weighted(&[45, 45, 10])];
            for _ in 0..n_children {
                drafts.push(person(
                    "child",
                    rng.between(0, (age - 21).min(22)),
                    rng.chance(0.52),
                ));
            }
        }
        Composition::ThreeGenerations => {
            let age = rng.between(30, 55);
            drafts.push(person("head", age, true));
            if rng.chance(0.9) {
                drafts.push(person(
                    "spouse",
                    (age + rng.between(0, 6)).saturating_sub(3),
                    false,
                ));
            }
            for _ in 0..if rng.chance(0.5) { 1 } else { 2 } {
                drafts.push(person(
                    "child",
                    rng.between(0, (age - 21).min(22)),
                    rng.chance(0.52),
                ));
            }
            let parent_age = (age + rng.between(22, 32)).min(96);
            if rng.chance(0.4) {
                drafts.push(person("parent", parent_age, true));
                drafts.push(person(
                    "parent",
                    (parent_age + rng.between(0, 6)).saturating_sub(3).min(96),
                    false,
                ));
            } else {
                drafts.push(person("parent", parent_age, rng.chance(0.35)));
            }
        }
        Composition::ElderWithAdultChild => {
            let age = rng.between(60, 85);
            let male = rng.chance(0.65);
            drafts.push(person("head", age, male));
            if rng.chance(0.55) {
                drafts.push(person(
                    "spouse",
                    (age + rng.between(0, 6)).saturating_sub(3),
                    !male,
                ));
            }
            let mut child = person(
                "child",
                rng.between(25, (age - 20).min(55)),
                rng.chance(0.6),
            );
            child.disability_prone = true;
            drafts.push(child);
        }
    }
    drafts
}

/// 赡养义务人: the children of an elderly household who live elsewhere.
fn children_outside(rng: &mut Rng, head_age: u32) -> Vec<SupporterRecord> {
    let n_children = rng.weighted(&[6, 16, 32, 28, 18]);
    let able_chance = if head_age >= 80 { 0.8 } else { 0.88 };
    (0..n_children)
        .map(|_| SupporterRecord {
            relation: "child".to_owned(),
            able: rng.chance(able_chance),
        })
        .collect()
}

fn lognormal_yuan(rng: &mut Rng, median: f64, sigma: f64) -> f64 {
    rng.lognormal(median, sigma).round()
}

/// Income, property, expenditure, gaps and risks of a household whose members are drawn.
fn finish(
    rng: &mut Rng,
    index: u64,
    area_code: String,
    urban: bool,
    mut members: Vec<Member>,
) -> HouseholdRecord {
    let n_members = members.len();
    let has_worker = members
        .iter()
        .any(|member| member.labour == Labour::Full && member.age < 60);
    let can_farm = members.iter().any(|member| member.labour != Labour::None);

    let wages: f64 = members.iter().map(|member| member.wages).sum();
    let business_registered = has_worker && rng.chance(0.025);
    let mut business = if business_registered {
        lognormal_yuan(rng, 20_000.0, 0.8)
    } else if can_farm && rng.chance(0.8) {
        lognormal_yuan(rng, 5_000.0, 0.7)
    } else if rng.chance(0.3) {
        lognormal_yuan(rng, 1_500.0, 0.6)
    } else {
        0.0
    };
    if urban {
        business = (business * 0.3).round();
    }
    let property_income = if rng.chance(0.2) {
        lognormal_yuan(rng, 600.0, 0.6)
    } else {
        0.0
    };
    let mut transfer = if rng.chance(0.25) {
        lognormal_yuan(rng, 500.0, 0.5)
    } else {
        0.0
    };
    // Supporters outside send money to the household once, however many members they support:
    // children to their elderly parents, migrant parents for the grandchildren they left behind.
    let elder_supporters = members
        .iter()
        .find(|member| member.age >= 60 && !member.record.supporters.is_empty());
    let parents_outside = members
        .iter()
        .find(|member| member.record.relation == "grandchild");
    let n_elderly = members
        .iter()
        .filter(|member| member.age >= 60 && !member.record.supporters.is_empty())
        .count();
    let per_child = 7_500.0 * n_elderly as f64;
    let per_parent = 6_500.0 * n_members as f64;
    for (member, median) in [(elder_supporters, per_child), (parents_outside, per_parent)] {
        let n_able = member.map_or(0, |member| {
            member
                .record
                .supporters
                .iter()
                .filter(|supporter| supporter.able)
                .count()
        });
        for _ in 0..n_able {
            transfer += lognormal_yuan(rng, median, 0.5);
        }
    }
    let other = if rng.chance(0.05) {
        lognormal_yuan(rng, 1_000.0, 0.8)
    } else {
        0.0
    };
    let mut excluded = 0.0;
    for member in &members {
        if member.age >= 60 {
            // 城乡居民基本养老金, recorded but not counted.
            excluded += 12.0 * f64::from(rng.between(150, 230));
        }
        if member.severe_disability {
            // 困难残疾人生活补贴 and 重度残疾人护理补贴.
            excluded += 12.0 * 80.0;
        }
    }

    let countable = wages + business + property_income + transfer + other;
    let pci_month = countable / 12.0 / n_members as f64;
    let standard = if urban { URBAN_DIBAO } else { RURAL_DIBAO };
    let lifted_from_poverty = !urban
        && rng.chance(if pci_month < 1.5 * standard {
            0.35
        } else {
            0.06
        });

    if n_members > 1 && rng.chance(0.5) {
        for member in members.iter_mut().filter(|member| member.wages > 0.0) {
            member.record.income_12m = Some(member.wages);
        }
    }

    let financial_assets = if rng.chance(0.12) {
        0.0
    } else {
        (rng.lognormal((countable * 0.35).max(1_500.0), 1.0) / 100.0).round() * 100.0
    };
    let mut vehicles = Vec::new();
    if rng.chance(if has_worker { 0.38 } else { 0.12 }) {
        vehicles.push(VehicleRecord {
            kind: "motorcycle".to_owned(),
            value: f64::from(rng.between(8, 50) * 100),
        });
    }
    if has_worker && rng.chance(if countable > 90_000.0 { 0.35 } else { 0.05 }) {
        let value = (rng.lognormal(60_000.0, 0.5) / 1_000.0).round() * 1_000.0;
        vehicles.push(VehicleRecord {
            kind: "car".to_owned(),
            value,
        });
    }
    if has_worker && rng.chance(0.015) {
        vehicles.push(VehicleRecord {
            kind: "truck".to_owned(),
            value: f64::from(rng.between(20, 90) * 1_000),
        });
    }
    if business > 0.0 && !urban && rng.chance(0.18) {
        vehicles.push(VehicleRecord {
            kind: "farm_machine".to_owned(),
            value: f64::from(rng.between(8, 60) * 100),
        });
    }
    let extra_houses = u32::from(rng.chance(0.02));

    let mut rigid = RigidRecord::default();
    for member in &members {
        let record = &member.record;
        if record.serious_illness {
            rigid.medical += lognormal_yuan(rng, 16_000.0, 0.8);
        } else if member.age >= 60 && rng.chance(0.15) {
            rigid.medical += lognormal_yuan(rng, 1_500.0, 0.8);
        }
        if member.severe_disability && rng.chance(0.3) {
            rigid.medical += lognormal_yuan(rng, 3_000.0, 0.7);
        }
        if record.disability.is_some() && rng.chance(0.2) {
            rigid.rehabilitation += lognormal_yuan(rng, 2_500.0, 0.7);
        }
        rigid.education += match record.schooling.as_str() {
            "college" => lognormal_yuan(rng, 9_000.0, 0.35),
            "senior_high" | "vocational" if rng.chance(0.5) => lognormal_yuan(rng, 2_500.0, 0.5),
            "preschool" if rng.chance(0.6) => lognormal_yuan(rng, 2_000.0, 0.4),
            _ => 0.0,
        };
    }
    if rng.chance(0.01) {
        rigid.other = lognormal_yuan(rng, 3_000.0, 0.8);
    }

    let has_pupil = members.iter().any(|member| (6..=15).contains(&member.age));
    let guarantees = GuaranteesRecord {
        education: !(has_pupil && rng.chance(0.004)),
        medical: !rng.chance(0.005),
        housing: !rng.chance(if pci_month < 1.5 * standard {
            0.025
        } else {
            0.008
        }),
        drinking_water: !rng.chance(0.008) || urban,
    };

    let mut risks = Vec::new();
    let any_ill = members.iter().any(|member| member.record.serious_illness);
    if (any_ill && rng.chance(0.75)) || (!any_ill && rigid.medical > 10_000.0 && rng.chance(0.4)) {
        risks.push("illness");
    }
    if members.iter().any(|member| member.severe_disability) && rng.chance(0.45) {
        risks.push("disability");
    }
    if rigid.education > 5_000.0 && pci_month < 1_800.0 && rng.chance(0.5) {
        risks.push("schooling_cost");
    }
    if rng.chance(0.004) {
        risks.push("accident");
    }
    if rng.chance(0.008) {
        risks.push("disaster");
    }
    if has_worker && rng.chance(0.01) {
        risks.push("unemployment");
    }
    if business > 0.0 && rng.chance(0.003) {
        risks.push("business_failure");
    }
    if rng.chance(0.002) {
        risks.push("other");
    }

    let watched = lifted_from_poverty || !risks.is_empty();
    let months_above_monitoring_line = if watched && pci_month * 12.0 >= 8_000.0 {
        rng.between(1, 36)
    } else {
        0
    };

    HouseholdRecord {
        id: format!("H{:08}", index + 1),
        area_code,
        hukou: if urban { "urban" } else { "rural" }.to_owned(),
        lifted_from_poverty,
        members: members.into_iter().map(|member| member.record).collect(),
        income_12m: IncomeRecord {
            wages,
            business,
            property: property_income,
            transfer,
            other,
            excluded,
        },
        property: PropertyRecord {
            financial_assets,
            vehicles,
            extra_houses,
            business_registered,
        },
        rigid_expenditure_12m: rigid,
        guarantees,
        risks: risks.into_iter().map(str::to_owned).collect(),
        months_above_monitoring_line,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month as i32 + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day as i32 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let shifted = days + 719_468;
    let era = if shifted >= 0 {
        shifted
    } else {
        shifted - 146_096
    } / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

/// Whole years from `birth` to `date`; a birthday counts from its day.
fn age_on(birth: (i32, u32, u32), date: (i32, u32, u32)) -> u32 {
    let years = date.0 - birth.0 - i32::from((date.1, date.2) < (birth.1, birth.2));
    u32::try_from(years).unwrap_or(0)
}
