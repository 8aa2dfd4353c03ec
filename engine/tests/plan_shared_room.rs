//! Issue 15: a party of two or more sleeps in a shared room only when it
//! asks for one or nothing else fits ("forced"), and the plan then says
//! so. A small hand-made catalog (Seattle → Tacoma, one dorm and one
//! private room in Tacoma) makes each case exact: the same request with a
//! budget that allows the private room, one that does not, and a house
//! rule that the private room forbids.

#[path = "common/demo_plans.rs"]
mod demo_plans;

use std::sync::Arc;

use wayfare_domain::catalog::{
    Attraction, City, GroundRoute, HouseRule, Restaurant, RoomType, Stay,
};
use wayfare_domain::itinerary::Itinerary;
use wayfare_engine::agents::{Objective, TripSpec};
use wayfare_engine::assemble::utility::{
    FORCED_BY_BUDGET, FORCED_BY_REQUEST, SharedNight, shared_nights,
};
use wayfare_engine::catalog::{Catalog, CatalogData, MemoryCatalog};
use wayfare_engine::orchestrator::{PlanOutcome, Planner, render_text};

fn city(name: &str, lat: f64, lon: f64) -> City {
    City {
        name: name.into(),
        state: "Washington".into(),
        country: "United States".into(),
        lat: Some(lat),
        lon: Some(lon),
        sample: true,
    }
}

fn route(i: usize, from: &str, to: &str) -> GroundRoute {
    GroundRoute {
        source_id: format!("test:distance:{i}"),
        origin: from.into(),
        destination: to.into(),
        duration_min: 40,
        distance_km: 50.0,
        duration_text: "40 mins".into(),
        distance_text: "50 km".into(),
        sample: true,
    }
}

fn stay(i: usize, room_type: RoomType, price: f64, occupancy: u32, forbids: &[HouseRule]) -> Stay {
    Stay {
        source_id: format!("test:accommodations:{i}"),
        name: format!("{} in Tacoma", room_type.label()),
        city: "Tacoma".into(),
        room_type,
        price,
        minimum_nights: 1,
        maximum_occupancy: occupancy,
        rating: 4.0,
        forbids: forbids.to_vec(),
        sample: true,
    }
}

/// Seattle and Tacoma, 50 km apart by road; in Tacoma a dorm bed at $20 a
/// night (one person a bed: $40 a night for two) and a private room for
/// two at $60 a night that forbids smoking; eight restaurants at $10 a
/// person; four attractions.
fn catalog() -> Arc<dyn Catalog> {
    let restaurants = (0..8)
        .map(|i| Restaurant {
            source_id: format!("test:restaurants:{i}"),
            name: format!("Diner {i}"),
            city: "Tacoma".into(),
            cuisines: vec!["American".into()],
            average_cost: 10.0,
            rating: 4.0 + 0.1 * i as f64,
            sample: true,
        })
        .collect();
    let attractions = (0..4)
        .map(|i| Attraction {
            source_id: format!("test:attractions:{i}"),
            name: format!("Park {i}"),
            city: "Tacoma".into(),
            lat: 47.25 + 0.001 * i as f64,
            lon: -122.44,
            address: String::new(),
            phone: String::new(),
            website: String::new(),
            sample: true,
        })
        .collect();
    Arc::new(MemoryCatalog::new(CatalogData {
        cities: vec![
            city("Seattle", 47.61, -122.33),
            city("Tacoma", 47.25, -122.44),
        ],
        flights: Vec::new(),
        ground_routes: vec![route(0, "Seattle", "Tacoma"), route(1, "Tacoma", "Seattle")],
        stays: vec![
            stay(0, RoomType::SharedRoom, 20.0, 1, &[]),
            stay(1, RoomType::PrivateRoom, 60.0, 2, &[HouseRule::Smoking]),
        ],
        restaurants,
        attractions,
    }))
}

fn plan(text: &str) -> (PlanOutcome, Itinerary, Vec<SharedNight>) {
    let catalog = catalog();
    let (outcome, plan) = demo_plans::verified_plan(&catalog, Objective::Utility, text);
    let mut trip = TripSpec::from_intent(&outcome.intent).expect("a complete request");
    trip.objective = Objective::Utility;
    let nights = shared_nights(&trip, &plan, catalog.as_ref());
    (outcome, plan, nights)
}

const TRIP: &str = "A 3-day trip for two from Seattle to Tacoma, June 5th to June 7th 2027";

/// The cheapest valid plan for two: a drive each way ($2 each), two
/// nights in dorm beds ($80), three meals on the full day ($60). The
/// private room costs $40 more.
const MINIMAL: f64 = 144.0;

#[test]
fn the_cheapest_valid_plan_costs_what_the_tests_assume() {
    let outcome = Planner::new(catalog())
        .with_objective(Objective::Cheapest)
        .plan_blocking(&format!("{TRIP}, budget ${MINIMAL:.0}."));
    let plan = outcome.itinerary.expect("a plan at the minimal budget");
    assert!(
        (plan.totals.total - MINIMAL).abs() < 1e-6,
        "{}",
        render_text(&plan)
    );
    let over = Planner::new(catalog())
        .with_objective(Objective::Cheapest)
        .plan_blocking(&format!("{TRIP}, budget ${:.0}.", MINIMAL - 1.0));
    assert!(over.itinerary.is_none(), "{}", over.explanation);
}

#[test]
fn a_private_room_within_the_budget_is_chosen() {
    // The private room costs $40 more for the two nights than the dorm
    // beds; the budget leaves room for it even with every travel-day meal.
    let (_, plan, nights) = plan(&format!("{TRIP}, budget $300."));
    let text = render_text(&plan);
    assert!(nights.is_empty(), "{nights:?}\n{text}");
    let stay = plan.days[0].accommodation.as_ref().expect("a stay");
    assert_eq!(
        stay.source_id.as_deref(),
        Some("test:accommodations:1"),
        "{text}"
    );
    assert!(
        stay.reason.contains("rather than beds in a shared room"),
        "{}",
        stay.reason
    );
    assert!(plan.totals.total <= 300.0);
}

#[test]
fn a_budget_with_no_room_for_a_private_room_forces_the_dorm_and_says_so() {
    // $16 above the cheapest plan: the private room needs $40 more.
    let budget = MINIMAL + 16.0;
    let (outcome, plan, nights) = plan(&format!("{TRIP}, budget ${budget:.0}."));
    let text = render_text(&plan);
    assert_eq!(nights, vec![SharedNight::Forced; 2], "{text}");
    let stay = plan.days[0].accommodation.as_ref().expect("a stay");
    assert!(stay.reason.contains(FORCED_BY_BUDGET), "{}", stay.reason);
    assert!(
        outcome.explanation.contains("a shared room in Tacoma"),
        "{}",
        outcome.explanation
    );
    assert!(plan.totals.total <= budget);
}

#[test]
fn money_left_for_the_private_room_goes_to_it_before_travel_day_meals() {
    // Enough for the private room ($40 more) but not for it and the
    // travel-day lunch ($20) too: the room comes first (it came after the
    // optional meals before, and the dorm was then called forced).
    let budget = MINIMAL + 46.0;
    let (_, plan, nights) = plan(&format!("{TRIP}, budget ${budget:.0}."));
    assert!(nights.is_empty(), "{nights:?}\n{}", render_text(&plan));
    assert!(plan.totals.total <= budget);
}

#[test]
fn a_house_rule_the_private_room_forbids_forces_the_dorm_and_says_so() {
    let (outcome, plan, nights) = plan(&format!(
        "{TRIP}, budget $1,000. We need accommodations that allow smoking."
    ));
    assert!(
        outcome
            .intent
            .constraints
            .house_rules
            .contains(&HouseRule::Smoking),
        "{:?}",
        outcome.intent.constraints
    );
    assert_eq!(
        nights,
        vec![SharedNight::Forced; 2],
        "{}",
        render_text(&plan)
    );
    let stay = plan.days[0].accommodation.as_ref().expect("a stay");
    assert!(stay.reason.contains(FORCED_BY_REQUEST), "{}", stay.reason);
}

#[test]
fn a_shared_room_asked_for_is_counted_as_asked() {
    let (_, plan, nights) = plan(&format!("{TRIP}, budget $1,000, a shared room please."));
    assert_eq!(
        nights,
        vec![SharedNight::Asked; 2],
        "{}",
        render_text(&plan)
    );
}

/// The check cannot be fooled by the words alone: a plan that says
/// "forced" while the private room fits in what is left is counted as
/// unforced.
#[test]
fn a_forced_claim_with_money_left_for_the_private_room_is_unforced() {
    let catalog = catalog();
    let budget = MINIMAL + 16.0;
    let (outcome, mut plan, _) = plan(&format!("{TRIP}, budget ${budget:.0}."));
    let mut trip = TripSpec::from_intent(&outcome.intent).expect("a complete request");
    trip.budget = Some(budget + 100.0);
    assert_eq!(
        shared_nights(&trip, &plan, catalog.as_ref()),
        vec![SharedNight::Unforced; 2]
    );
    // And a shared room the plan does not explain is unforced too.
    trip.budget = Some(budget);
    for day in &mut plan.days {
        if let Some(stay) = &mut day.accommodation {
            stay.reason = "the cheapest".into();
        }
    }
    assert_eq!(
        shared_nights(&trip, &plan, catalog.as_ref()),
        vec![SharedNight::Unforced; 2]
    );
}
