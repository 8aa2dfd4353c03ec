//! Planning against the embedded demo catalog (weekly flights, any future
//! date); needs no external data.

use std::sync::Arc;

use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::orchestrator::{Planner, render_text};

fn planner() -> Planner {
    let data = demo_catalog().expect("the demo catalog loads");
    let catalog: Arc<dyn Catalog> = Arc::new(MemoryCatalog::new(data));
    Planner::new(catalog)
}

#[test]
fn plans_a_city_trip_on_a_future_date_from_the_demo_catalog() {
    let outcome = planner().plan_blocking("A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.");
    let plan = outcome
        .itinerary
        .unwrap_or_else(|| panic!("no plan: {}", outcome.explanation));
    assert!(plan.verdict.passed(), "{}", render_text(&plan));
    assert_eq!(plan.days.len(), 3);
    assert!(plan.totals.total <= 3000.0);
}

#[test]
fn plans_a_two_city_state_trip_from_the_demo_catalog() {
    let outcome = planner().plan_blocking("Plan a 5-day trip from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, solo, budget $4,000.");
    let plan = outcome
        .itinerary
        .unwrap_or_else(|| panic!("no plan: {}", outcome.explanation));
    assert!(plan.verdict.passed(), "{}", render_text(&plan));
    assert_eq!(plan.visited_cities().len(), 2);
}
