//! Test support for the plan tests on the demo catalog: the catalog, and a
//! plan that must exist and pass every check of the verifier.
#![allow(dead_code)]

use std::sync::Arc;

use wayfare_domain::itinerary::Itinerary;
use wayfare_engine::agents::Objective;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::orchestrator::{PlanOutcome, Planner, render_text};

/// The embedded demo catalog.
pub fn demo() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

/// `text` planned under `objective`; panics unless a plan exists and the
/// verifier passes it.
pub fn verified_plan(
    catalog: &Arc<dyn Catalog>,
    objective: Objective,
    text: &str,
) -> (PlanOutcome, Itinerary) {
    let outcome = Planner::new(catalog.clone())
        .with_objective(objective)
        .plan_blocking(text);
    let plan = outcome
        .itinerary
        .clone()
        .unwrap_or_else(|| panic!("no plan for {text:?}: {}", outcome.explanation));
    assert!(plan.verdict.passed(), "{}", render_text(&plan));
    (outcome, plan)
}
