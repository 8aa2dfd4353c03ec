//! The scorer: RULES.md metrics on submission-format plans.

mod common;

use wayfare_engine::eval::{LabelledQuery, read_labelled, report, score_plan};

fn labels() -> Vec<LabelledQuery> {
    read_labelled(&common::read("dev_queries.jsonl")).expect("labels")
}

#[test]
fn an_empty_plan_is_not_delivered_and_fails_everything() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let label = &labels()[0];
    let s = score_plan(label, &[], catalog.as_ref());
    assert!(!s.delivered);
    let r = report(&[s]);
    assert_eq!(
        (
            r.delivery_rate,
            r.commonsense_micro,
            r.hard_micro,
            r.final_pass_rate
        ),
        (0.0, 0.0, 0.0, 0.0)
    );
}

#[test]
fn a_repeated_restaurant_in_a_reference_plan_fails_commonsense_but_not_hard() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let label = &labels()[0];
    let mut plan = label.reference_plan.clone();
    plan[1]["dinner"] = plan[1]["lunch"].clone();
    let s = score_plan(label, &plan, catalog.as_ref());
    assert!(s.delivered);
    assert!(!s.commonsense_pass() && s.hard_pass() && !s.final_pass());
    let r = report(&[s]);
    assert_eq!(r.commonsense_micro, 7.0 / 8.0);
}

#[test]
fn an_unknown_restaurant_also_fails_the_hard_checks() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let label = labels()
        .into_iter()
        .find(|l| l.local_constraint.count() > 0)
        .expect("a constrained query");
    let mut plan = label.reference_plan.clone();
    let city = plan[1]["current_city"].as_str().expect("city").to_string();
    plan[1]["lunch"] = format!("Nowhere Diner, {city}").into();
    let s = score_plan(&label, &plan, catalog.as_ref());
    assert!(
        s.commonsense
            .iter()
            .any(|(n, ok)| n == "within_sandbox" && !ok)
    );
    assert!(s.hard.iter().all(|(_, ok)| !ok), "{:?}", s.hard);
    assert_eq!(s.hard.len(), 1 + label.local_constraint.count());
}
