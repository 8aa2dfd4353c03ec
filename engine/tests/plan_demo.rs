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

#[test]
fn a_planned_demo_trip_carries_its_attractions_and_cities_coordinates() {
    let outcome = planner().plan_blocking("Plan a 5-day trip from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, solo, budget $4,000.");
    let plan = outcome
        .itinerary
        .unwrap_or_else(|| panic!("no plan: {}", outcome.explanation));
    // The route map's cities: the origin and every visited city.
    for city in plan.route() {
        let point = plan
            .city_coords
            .get(&city)
            .unwrap_or_else(|| panic!("no coordinates for {city}"));
        assert!((-90.0..=90.0).contains(&point.lat) && (-180.0..=180.0).contains(&point.lon));
    }
    let seattle = plan.city_coords["Seattle"];
    assert!((seattle.lat - 47.6062).abs() < 1e-9 && (seattle.lon + 122.3321).abs() < 1e-9);
    // Every attraction is located, near its city (the demo's are real places).
    let mut located = 0;
    for day in &plan.days {
        for a in &day.attractions {
            let point = day
                .point_of(a)
                .unwrap_or_else(|| panic!("day {}: no coordinates for {}", day.day, a.name));
            let city = plan.city_coords[&a.city];
            assert!(
                (point.lat - city.lat).abs() < 1.5 && (point.lon - city.lon).abs() < 1.5,
                "{} is far from {}",
                a.name,
                a.city
            );
            located += 1;
        }
        // Only the day's own records are located.
        assert!(day.coords.len() <= day.attractions.len());
    }
    assert!(located >= 3, "{}", render_text(&plan));
}
