#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use crate::catalogue::{AssistCatalogue, ItemPeriod, Need, Signal};
use crate::propose::{Given, Situation, propose};
use crate::referral::{ReferralAction, ReferralState, next_state};
use crate::supplement::{SupplementRefusal, supplement};
use chrono::NaiveDate;
use domain::interchange::HouseholdRecord;
use domain::{Category, Household};
use std::collections::BTreeSet;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn id(first17: &str) -> String {
    format!(
        "{first17}{}",
        domain::national_id::check_char(first17.as_bytes())
    )
}

/// A rural household of two: the head (with `head` fields merged in) and a spouse.
fn household(extra: serde_json::Value, head: serde_json::Value) -> Household {
    let mut head_record = serde_json::json!({ "id_number": id("50022419650312001"), "name": "张三", "relation": "head" });
    head_record
        .as_object_mut()
        .unwrap()
        .extend(head.as_object().unwrap().clone());
    let mut value = serde_json::json!({
        "id": "T-1",
        "area_code": "500151001200",
        "members": [head_record, { "id_number": id("50022419680101002"), "name": "李四", "relation": "spouse" }],
    });
    value
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let record: HouseholdRecord = serde_json::from_value(value).unwrap();
    Household::try_from(&record).unwrap()
}

fn situation<'a>(household: &'a Household, categories: &[Category]) -> Situation<'a> {
    Situation {
        household,
        categories: categories.iter().copied().collect::<BTreeSet<_>>(),
        monitoring: None,
        as_of: date("2026-11-28"),
        pending: false,
    }
}

fn snapshot() -> policy::Snapshot {
    policy::Catalogue::builtin()
        .unwrap()
        .snapshot(date("2026-11-28"))
}

#[test]
fn the_shipped_catalogue_loads_and_covers_the_seed_plan_measures() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    for code in [
        "tekun_support",
        "dibao_allowance",
        "medical_assistance",
        "education_assistance",
        "housing_renovation",
        "employment_assistance",
        "temporary_assistance",
        "charity_medical",
        "social_care_service",
    ] {
        let item = catalogue.item(code).unwrap();
        assert!(!item.source.is_empty(), "{code}");
        assert_eq!(item.version, 1);
    }
    assert_eq!(catalogue.department_name("charity"), "区慈善救助服务联合体");
    // Every need but drinking water has an item; water is left to the district on purpose.
    for need in Need::ALL {
        let answered = catalogue.items.iter().any(|item| item.answers(*need));
        assert_eq!(answered, *need != Need::DrinkingWater, "{need}");
    }
}

#[test]
fn every_department_of_the_plan_is_data_whether_or_not_an_item_names_it() {
    let departments = AssistCatalogue::builtin_departments().unwrap();
    // U2: 卫健, 医保, 教育, 住建, 人社, 残联, 应急 beside the two deciding departments.
    for name in [
        "区民政局",
        "区农业农村委",
        "区卫生健康委",
        "区医保局",
        "区教委",
        "区住房城乡建委",
        "区人力社保局",
        "区残联",
        "区应急局",
    ] {
        assert!(
            departments.iter().any(|department| department.name == name),
            "{name}"
        );
    }
    let catalogue = AssistCatalogue::builtin().unwrap();
    assert_eq!(catalogue.departments, departments);
    assert!(
        !catalogue
            .items
            .iter()
            .any(|item| item.department == "disabled_persons"),
        "a department without an item yet is still listed"
    );
    assert!(
        departments
            .iter()
            .all(|department| !department.source.is_empty())
    );
    let twice = format!(
        "{}\n[[department]]\ncode = \"health\"\nname = \"又一个\"\n",
        include_str!("../../../policy/departments.toml")
    );
    let error = crate::catalogue::departments_from_toml(&twice, "d.toml").unwrap_err();
    assert!(error.to_string().contains("“health”重复"), "{error}");
}

#[test]
fn a_bad_item_is_refused_naming_the_field() {
    let text =
        include_str!("../../../policy/assistance.toml").replacen("rank = 90", "rank = -5", 1);
    let error = AssistCatalogue::from_toml(&text, "a.toml").unwrap_err();
    assert!(error.to_string().contains("字段rank"), "{error}");
    let text = include_str!("../../../policy/assistance.toml").replacen(
        "amount_param = \"tekun.basic_living\"",
        "amount_param = \"tekun.age.elderly\"",
        1,
    );
    let error = AssistCatalogue::from_toml(&text, "a.toml").unwrap_err();
    assert!(error.to_string().contains("不是金额参数"), "{error}");
    let text = include_str!("../../../policy/assistance.toml").replacen(
        "department = \"education\"",
        "department = \"nowhere\"",
        1,
    );
    let error = AssistCatalogue::from_toml(&text, "a.toml").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("第4个项目（education_assistance）字段department"),
        "{error}"
    );
}

#[test]
fn items_round_trip_through_their_definition() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    for item in &catalogue.items {
        let again = crate::Item::from_def(&item.to_def(), &catalogue.departments, 1).unwrap();
        assert_eq!(&again, item);
    }
}

#[test]
fn period_keys() {
    let day = date("2026-03-05");
    assert_eq!(ItemPeriod::Month.key(day).to_string(), "2026-03");
    assert_eq!(ItemPeriod::Month.key(day).label(), "2026年3月");
    assert_eq!(ItemPeriod::Year.key(day).to_string(), "2026");
    assert_eq!(ItemPeriod::Once.key(day).to_string(), "once");
}

#[test]
fn tekun_wins_basic_living_over_dibao_and_says_why_with_the_amount_parameter() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    let snapshot = snapshot();
    let h = household(serde_json::json!({}), serde_json::json!({}));
    let result = propose(
        &catalogue,
        &situation(&h, &[Category::Tekun, Category::Dibao]),
        &[],
        &snapshot,
    );
    let codes: Vec<&str> = result
        .proposed
        .iter()
        .map(|p| p.item_code.as_str())
        .collect();
    assert_eq!(codes, ["tekun_support"]);
    let proposal = &result.proposed[0];
    assert!(
        proposal.reason.contains("已认定为特困人员"),
        "{}",
        proposal.reason
    );
    assert!(
        proposal.reason.contains("特困人员基本生活标准 1001 元"),
        "{}",
        proposal.reason
    );
    assert_eq!(proposal.amount, Some(domain::Yuan::from_fen(100_100)));
    assert_eq!(proposal.period.to_string(), "2026-11");
    let passed: Vec<&str> = result
        .passed_over
        .iter()
        .map(|p| p.item_code.as_str())
        .collect();
    assert_eq!(passed, ["dibao_allowance"]);
    assert!(result.passed_over[0].reason.contains("就高不就低"));
}

#[test]
fn a_given_item_is_not_proposed_again_in_its_period_but_is_in_the_next() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    let snapshot = snapshot();
    let h = household(
        serde_json::json!({}),
        serde_json::json!({ "serious_illness": true }),
    );
    let given = [Given {
        referral_id: 7,
        item_code: "medical_assistance".into(),
        period: domain::GivenPeriod::Year(2026),
        delivered: true,
        supplementary: false,
    }];
    let now = propose(
        &catalogue,
        &situation(&h, &[Category::Dibao]),
        &given,
        &snapshot,
    );
    assert!(now.proposal("medical_assistance").is_none());
    assert!(
        now.proposal("charity_medical").is_none(),
        "the need is covered"
    );
    assert_eq!(now.covered.len(), 1);
    assert!(
        now.covered[0].reason.contains("2026年度已落实"),
        "{}",
        now.covered[0].reason
    );
    let mut next_year = situation(&h, &[Category::Dibao]);
    next_year.as_of = date("2027-01-04");
    let later = propose(&catalogue, &next_year, &given, &snapshot);
    assert!(later.proposal("medical_assistance").is_some());
}

#[test]
fn a_household_without_category_gets_charity_and_an_unmet_need_is_flagged() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    let snapshot = snapshot();
    let h = household(
        serde_json::json!({ "guarantees": { "drinking_water": false }, "risks": ["unemployment"] }),
        serde_json::json!({ "serious_illness": true }),
    );
    let result = propose(&catalogue, &situation(&h, &[]), &[], &snapshot);
    let codes: Vec<&str> = result
        .proposed
        .iter()
        .map(|p| p.item_code.as_str())
        .collect();
    assert_eq!(codes, ["charity_medical"]);
    let unmet: Vec<Need> = result.unmet.iter().map(|u| u.need).collect();
    assert_eq!(unmet, [Need::DrinkingWater, Need::Employment]);
    assert!(
        result.unmet[0].reason.contains("目录中没有"),
        "{}",
        result.unmet[0].reason
    );
    assert!(
        result.unmet[1].reason.contains("须已认定为"),
        "{}",
        result.unmet[1].reason
    );
}

#[test]
fn signals_name_the_members_and_the_schooling_need_waits_for_a_category() {
    let h = household(
        serde_json::json!({}),
        serde_json::json!({ "schooling": "senior_high", "care_need": "full" }),
    );
    let s = situation(&h, &[]);
    let signals = crate::propose::signals(&s);
    assert_eq!(signals[&Signal::InSchool], "成员在学（户主）");
    assert!(signals.contains_key(&Signal::CareNeeded));
    let needs: Vec<Need> = crate::propose::needs(&s, &signals)
        .iter()
        .map(|n| n.need)
        .collect();
    assert_eq!(needs, [Need::Care]);
    let s = situation(&h, &[Category::DibaoEdge]);
    let needs: Vec<Need> = crate::propose::needs(&s, &signals)
        .iter()
        .map(|n| n.need)
        .collect();
    assert_eq!(needs, [Need::Schooling, Need::Care]);
}

#[test]
fn referral_moves() {
    use ReferralAction::*;
    use ReferralState::*;
    assert_eq!(next_state(Sent, Accept), Ok(Accepted));
    assert_eq!(next_state(Accepted, Deliver), Ok(Delivered));
    assert_eq!(next_state(Sent, Decline), Ok(Declined));
    assert_eq!(next_state(Accepted, Decline), Ok(Declined));
    assert!(next_state(Sent, Deliver).unwrap_err().contains("先受理"));
    assert!(
        next_state(Delivered, Decline)
            .unwrap_err()
            .contains("已落实")
    );
    assert!(next_state(Declined, Accept).is_err());
    assert!(Sent.is_open() && Accepted.is_open() && !Delivered.is_open());
    assert!(!Declined.counts_as_given());
}

fn given(referral_id: i64, item_code: &str, delivered: bool, supplementary: bool) -> Given {
    Given {
        referral_id,
        item_code: item_code.into(),
        period: domain::GivenPeriod::Year(2026),
        delivered,
        supplementary,
    }
}

#[test]
fn a2_a_covered_need_offers_the_lower_items_as_supplements() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    let snapshot = snapshot();
    let h = household(
        serde_json::json!({}),
        serde_json::json!({ "serious_illness": true }),
    );
    let s = situation(&h, &[Category::Dibao]);
    // Before 医疗救助 is sent, the charity's is only passed over, and says it may follow.
    let before = propose(&catalogue, &s, &[], &snapshot);
    assert!(before.supplements.is_empty());
    assert!(
        before.passed_over[0].reason.contains("可作为补充帮扶转介"),
        "{}",
        before.passed_over[0].reason
    );
    let after = propose(
        &catalogue,
        &s,
        &[given(7, "medical_assistance", true, false)],
        &snapshot,
    );
    let offered: Vec<&str> = after
        .supplements
        .iter()
        .map(|x| x.proposal.item_code.as_str())
        .collect();
    assert_eq!(offered, ["charity_medical"]);
    let reason = &after.supplements[0].proposal.reason;
    assert!(
        reason.contains("补充帮扶")
            && reason.contains("已由“医疗救助（资助参保、门诊和住院救助）”回应")
            && reason.contains("转介单第7号")
            && reason.contains("区慈善救助服务联合体"),
        "{reason}"
    );
    assert_eq!(after.supplements[0].proposal.period.to_string(), "2026");
    // Once the supplement is sent it is offered no more, and it does not answer the need: a
    // declined 医疗救助 (no longer given) is proposed again.
    let both = [
        given(7, "medical_assistance", true, false),
        given(8, "charity_medical", false, true),
    ];
    assert!(
        propose(&catalogue, &s, &both, &snapshot)
            .supplements
            .is_empty()
    );
    let only_supplement = [given(8, "charity_medical", false, true)];
    let again = propose(&catalogue, &s, &only_supplement, &snapshot);
    assert!(again.proposal("medical_assistance").is_some());
    assert!(again.covered.is_empty());
}

#[test]
fn a2_a3_supplement_needs_a_reason_the_better_item_first_a_fitting_item_and_no_repeat() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    let snapshot = snapshot();
    let h = household(
        serde_json::json!({}),
        serde_json::json!({ "serious_illness": true }),
    );
    let s = situation(&h, &[Category::Dibao]);
    let medical_given = [given(7, "medical_assistance", true, false)];
    let both_given = [
        given(7, "medical_assistance", true, false),
        given(8, "charity_medical", false, true),
    ];
    let reason = "住院自付费用仍超过两万元";
    // (given, item, reason, expected: Ok(item) or Err(field, words of the message))
    type Expect = Result<&'static str, (&'static str, &'static str)>;
    let checks: Vec<(&[Given], &str, &str, Expect)> = vec![
        (
            &medical_given,
            "charity_medical",
            reason,
            Ok("charity_medical"),
        ),
        (
            &medical_given,
            "charity_medical",
            "  ",
            Err(("supplementary_reason", "须填写补充理由")),
        ),
        (
            &[],
            "charity_medical",
            reason,
            Err((
                "item_code",
                "请先转介“医疗救助（资助参保、门诊和住院救助）”（就高不就低）",
            )),
        ),
        (
            &[],
            "medical_assistance",
            reason,
            Err(("item_code", "请直接转介")),
        ),
        (
            &medical_given,
            "medical_assistance",
            reason,
            Err(("item_code", "2026年度已发放（转介单第7号）")),
        ),
        (
            &both_given,
            "charity_medical",
            reason,
            Err(("item_code", "已转介、正在办理（转介单第8号）")),
        ),
        (
            &medical_given,
            "tekun_support",
            reason,
            Err(("item_code", "须已认定为特困人员")),
        ),
        (
            &medical_given,
            "housing_renovation",
            reason,
            Err(("item_code", "须有以下情形之一：住房安全未保障")),
        ),
        (
            &medical_given,
            "employment_assistance",
            reason,
            Err(("item_code", "须有以下情形之一")),
        ),
        (
            &medical_given,
            "no_such_item",
            reason,
            Err(("item_code", "目录中没有救助项目“no_such_item”")),
        ),
    ];
    for (given, item, why, expected) in checks {
        let result = supplement(&catalogue, &s, given, &snapshot, item, why);
        match (result, expected) {
            (Ok(proposal), Ok(code)) => {
                assert_eq!(proposal.item_code, code);
                assert_eq!(proposal.needs, [Need::Medical]);
                assert!(proposal.reason.contains("补充帮扶"), "{}", proposal.reason);
            }
            (Err(refusal), Err((field, words))) => {
                assert_eq!(refusal.field(), field, "{item}: {refusal}");
                assert!(refusal.to_string().contains(words), "{item}: {refusal}");
            }
            (other, expected) => panic!("{item}: {other:?}, expected {expected:?}"),
        }
    }
    // An item whose need the household does not have.
    let h = household(serde_json::json!({}), serde_json::json!({}));
    let refusal = supplement(
        &catalogue,
        &situation(&h, &[Category::Tekun]),
        &[],
        &snapshot,
        "charity_medical",
        reason,
    )
    .unwrap_err();
    assert!(
        matches!(refusal, SupplementRefusal::NotFitting { .. }),
        "{refusal}"
    );
}

#[test]
fn a2_a_preview_says_the_categories_are_being_decided() {
    let catalogue = AssistCatalogue::builtin().unwrap();
    let h = household(serde_json::json!({}), serde_json::json!({}));
    let mut s = situation(&h, &[Category::Dibao]);
    s.pending = true;
    let result = propose(&catalogue, &s, &[], &snapshot());
    assert_eq!(result.needs[0].evidence, ["拟认定为低保"]);
    assert!(
        result.proposed[0].reason.contains("条件（拟认定为低保）"),
        "{}",
        result.proposed[0].reason
    );
    assert!(!result.proposed[0].reason.contains("已认定"));
}
