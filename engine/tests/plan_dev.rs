//! Planning the 15 labelled dev queries end to end, scored by RULES.md.

mod common;

use wayfare_engine::eval::{parser_accuracy, read_labelled, report, score_plan};
use wayfare_engine::orchestrator::{Planner, submission};

#[test]
fn plans_every_dev_query_and_passes_the_official_rules() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let planner = Planner::new(catalog.clone()).with_default_year(2022);
    let text =
        std::fs::read_to_string(common::data_dir().join("dev_queries.jsonl")).expect("dev queries");
    let labels = read_labelled(&text).expect("labels");
    let mut scores = Vec::new();
    for label in &labels {
        let outcome = planner.plan_blocking(&label.query);
        let plan = submission(&outcome, catalog.as_ref());
        let score = score_plan(label, &plan, catalog.as_ref());
        if !score.final_pass() {
            eprintln!(
                "#{} failed: {} | {:?}",
                label.idx, outcome.explanation, score.messages
            );
        }
        scores.push(score);
    }
    let r = report(&scores);
    eprintln!("{r:?}");
    let (fields, exact) = parser_accuracy(|q| planner.parse(q), &labels);
    assert_eq!(fields, 1.0);
    assert_eq!(exact, 1.0);
    assert_eq!(r.final_pass_rate, 1.0, "{r:?}");
}

#[test]
fn the_reference_plans_pass_the_official_checks() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let text =
        std::fs::read_to_string(common::data_dir().join("dev_queries.jsonl")).expect("dev queries");
    let labels = read_labelled(&text).expect("labels");
    let scores: Vec<_> = labels
        .iter()
        .map(|l| score_plan(l, &l.reference_plan, catalog.as_ref()))
        .collect();
    for s in &scores {
        if !s.final_pass() {
            eprintln!("reference #{}: {:?}", s.idx, s.messages);
        }
    }
    let r = report(&scores);
    eprintln!("reference plans: {r:?}");
    assert_eq!(r.final_pass_rate, 1.0, "{r:?}");
}
