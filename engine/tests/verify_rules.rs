//! The verifier, one rule at a time: a valid plan passes, and breaking it in
//! exactly one way makes exactly that rule fail.

mod common;

use std::sync::Arc;

use wayfare_domain::catalog::{HouseRule, RoomType};
use wayfare_domain::intent::TransportRestriction;
use wayfare_domain::itinerary::{Itinerary, PlanItem, TravelMode};
use wayfare_engine::agents::TripSpec;
use wayfare_engine::catalog::Catalog;
use wayfare_engine::orchestrator::Planner;
use wayfare_engine::verify::verify;

/// Dev query 45: 7 days, three Ohio cities, pets, four cuisines, no flight.
const OHIO: &str = "We require a 7-day travel itinerary for two leaving from Minneapolis and covering three cities in Ohio, starting from March 17th to March 23rd, 2022. Our budget is up to $5,100. We will be accompanied by our pets, so we need pet-friendly accommodations. Our meals should preferably include American, Mediterranean, Chinese, and Italian cuisines. Please note we prefer not to take any flights so our travel plan should not include them.";
/// Dev query 1: 3 days, one city, by air.
const ROCKFORD: &str = "Please help me plan a trip from St. Petersburg to Rockford spanning 3 days from March 16th to March 18th, 2022. The travel should be planned for a single person with a budget of $1,700.";

fn planned(text: &str) -> Option<(Arc<dyn Catalog>, TripSpec, Itinerary)> {
    let catalog = common::catalog()?;
    let planner = Planner::new(catalog.clone()).with_default_year(2022);
    let outcome = planner.plan_blocking(text);
    let trip = TripSpec::from_intent(&outcome.intent).expect("complete intent");
    let plan = outcome.itinerary.expect("a plan");
    assert!(verify(&plan, &trip, catalog.as_ref()).passed());
    Some((catalog, trip, plan))
}

/// Asserts that `name` is the one check that fails.
fn only_fails(plan: &Itinerary, trip: &TripSpec, catalog: &dyn Catalog, name: &str) {
    let verdict = verify(plan, trip, catalog);
    let failed: Vec<&str> = verdict.failures().map(|c| c.name.as_str()).collect();
    assert!(
        failed.contains(&name),
        "{name} should fail; failed: {failed:?}"
    );
    assert!(
        failed.iter().all(|f| *f == name || *f == "budget"),
        "only {name} should fail; failed: {failed:?}"
    );
}

fn full_day(plan: &Itinerary) -> usize {
    plan.days
        .iter()
        .position(|d| d.from.is_none())
        .expect("a full day")
}

#[test]
fn a_planned_trip_passes_every_check() {
    let Some((catalog, trip, plan)) = planned(OHIO) else {
        return;
    };
    let verdict = verify(&plan, &trip, catalog.as_ref());
    assert_eq!(verdict.checks.len(), 8 + 1 + 3, "{verdict:?}");
    assert!(verdict.passed());
}

#[test]
fn an_unknown_restaurant_fails_within_sandbox() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let d = full_day(&plan);
    if let Some(l) = plan.days[d].lunch.as_mut() {
        l.name = "The Restaurant At The End Of The Universe".into();
        l.source_id = None;
    }
    only_fails(&plan, &trip, catalog.as_ref(), "within_sandbox");
}

#[test]
fn a_flight_on_the_wrong_date_fails_within_sandbox() {
    let Some((catalog, trip, mut plan)) = planned(ROCKFORD) else {
        return;
    };
    assert_eq!(plan.days[0].transport[0].mode, TravelMode::Flight);
    plan.days[0].date = plan.days[1].date;
    only_fails(&plan, &trip, catalog.as_ref(), "within_sandbox");
}

#[test]
fn a_missing_lunch_on_a_full_day_fails_complete_information() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let d = full_day(&plan);
    plan.days[d].lunch = None;
    only_fails(&plan, &trip, catalog.as_ref(), "complete_information");
}

/// A restaurant in `city` the plan does not use.
fn unused_restaurant(plan: &Itinerary, catalog: &dyn Catalog, city: &str) -> PlanItem {
    let used: Vec<String> = plan
        .days
        .iter()
        .flat_map(|d| {
            d.meals()
                .into_iter()
                .filter_map(|(_, m)| m.map(|m| m.name.clone()))
        })
        .collect();
    let r = catalog
        .restaurants_in(city)
        .iter()
        .find(|r| !used.contains(&r.name))
        .expect("an unused restaurant");
    PlanItem {
        id: "test.meal".into(),
        name: r.name.clone(),
        city: city.to_string(),
        source_id: Some(r.source_id.clone()),
        cost: r.average_cost,
        reason: "test".into(),
    }
}

#[test]
fn a_dinner_before_an_evening_flight_fails_complete_information() {
    let Some((catalog, trip, mut plan)) = planned(ROCKFORD) else {
        return;
    };
    let last = plan.days.len() - 1;
    let departs = plan.days[last].transport[0].departure.expect("flight time");
    // Dinner starts at 19:00 and lasts an hour; the airport needs another.
    assert!(departs < chrono::NaiveTime::from_hms_opt(21, 0, 0).expect("time"));
    plan.days[last].dinner = Some(unused_restaurant(&plan, catalog.as_ref(), "Rockford"));
    only_fails(&plan, &trip, catalog.as_ref(), "complete_information");
}

#[test]
fn a_meal_in_another_city_fails_within_current_city() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let d = full_day(&plan);
    let other = plan
        .days
        .iter()
        .find(|x| x.from.is_none() && x.city != plan.days[d].city)
        .map(|x| x.city.clone())
        .expect("another visited city");
    plan.days[d].lunch = Some(unused_restaurant(&plan, catalog.as_ref(), &other));
    only_fails(&plan, &trip, catalog.as_ref(), "within_current_city");
}

#[test]
fn a_trip_that_does_not_come_home_fails_reasonable_city_route() {
    let Some((catalog, trip, mut plan)) = planned(ROCKFORD) else {
        return;
    };
    let last = plan.days.len() - 1;
    plan.days[last].city = "Rockford".into();
    plan.days[last].from = None;
    plan.days[last].transport.clear();
    plan.days[last].breakfast = None;
    plan.days[last].lunch = None;
    plan.days[last].dinner = None;
    plan.days[last].attractions.clear();
    let verdict = verify(&plan, &trip, catalog.as_ref());
    assert!(
        !verdict
            .check("reasonable_city_route")
            .expect("check")
            .passed
    );
}

#[test]
fn a_city_outside_the_state_fails_reasonable_city_route() {
    let Some((catalog, mut trip, plan)) = planned(OHIO) else {
        return;
    };
    trip.destination = wayfare_domain::intent::Destination::State {
        name: "Texas".into(),
        cities: 3,
    };
    only_fails(&plan, &trip, catalog.as_ref(), "reasonable_city_route");
}

#[test]
fn a_repeated_restaurant_fails_diverse_restaurants() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let d = full_day(&plan);
    plan.days[d].dinner = plan.days[d].lunch.clone();
    only_fails(&plan, &trip, catalog.as_ref(), "diverse_restaurants");
}

#[test]
fn a_repeated_attraction_fails_diverse_attractions() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let d = full_day(&plan);
    let first = plan.days[d].attractions[0].clone();
    plan.days[d].attractions.push(first);
    only_fails(&plan, &trip, catalog.as_ref(), "diverse_attractions");
}

#[test]
fn a_taxi_in_a_self_driving_trip_fails_non_conflicting_transport() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let legs: Vec<TravelMode> = plan
        .days
        .iter()
        .flat_map(|d| d.transport.iter().map(|l| l.mode))
        .collect();
    assert!(
        legs.contains(&TravelMode::SelfDriving),
        "the Ohio plan drives: {legs:?}"
    );
    plan.days[0].transport[0].mode = TravelMode::Taxi;
    only_fails(&plan, &trip, catalog.as_ref(), "non_conflicting_transport");
}

fn swap_stay(
    plan: &mut Itinerary,
    catalog: &dyn Catalog,
    pick: impl Fn(&wayfare_domain::catalog::Stay) -> bool,
) -> bool {
    let city = plan.days[0].city.clone();
    let Some(stay) = catalog.stays_in(&city).iter().find(|s| pick(s)) else {
        return false;
    };
    for day in plan
        .days
        .iter_mut()
        .filter(|d| d.accommodation.is_some() && d.city == city)
    {
        day.accommodation = Some(PlanItem {
            id: format!("stay.{city}"),
            name: stay.name.clone(),
            city: city.clone(),
            source_id: Some(stay.source_id.clone()),
            cost: stay.price,
            reason: "test".into(),
        });
    }
    true
}

#[test]
fn a_stay_with_too_many_minimum_nights_fails_minimum_nights() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let ok = swap_stay(&mut plan, catalog.as_ref(), |s| {
        s.minimum_nights > 2 && !s.forbids.contains(&HouseRule::Pets)
    });
    assert!(ok, "a stay with a long minimum");
    only_fails(&plan, &trip, catalog.as_ref(), "minimum_nights");
}

#[test]
fn a_stay_that_forbids_pets_fails_house_rule() {
    let Some((catalog, trip, mut plan)) = planned(OHIO) else {
        return;
    };
    let ok = swap_stay(&mut plan, catalog.as_ref(), |s| {
        s.minimum_nights <= 2 && s.forbids.contains(&HouseRule::Pets)
    });
    assert!(ok, "a stay forbidding pets");
    only_fails(&plan, &trip, catalog.as_ref(), "house_rule");
}

#[test]
fn a_private_room_fails_room_type_when_entire_rooms_are_asked() {
    let Some((catalog, mut trip, mut plan)) = planned(OHIO) else {
        return;
    };
    trip.constraints.room_type = Some(wayfare_domain::intent::RoomRequirement::EntireRoom);
    let ok = swap_stay(&mut plan, catalog.as_ref(), |s| {
        s.minimum_nights <= 2
            && s.room_type == RoomType::PrivateRoom
            && !s.forbids.contains(&HouseRule::Pets)
    });
    assert!(ok, "a private room in the first city");
    only_fails(&plan, &trip, catalog.as_ref(), "room_type");
}

#[test]
fn an_unserved_cuisine_fails_cuisine() {
    let Some((catalog, mut trip, plan)) = planned(OHIO) else {
        return;
    };
    trip.constraints.cuisines.push("Klingon".into());
    only_fails(&plan, &trip, catalog.as_ref(), "cuisine");
}

#[test]
fn a_forbidden_mode_fails_transportation() {
    let Some((catalog, mut trip, plan)) = planned(OHIO) else {
        return;
    };
    assert_eq!(plan.days[0].transport[0].mode, TravelMode::SelfDriving);
    trip.constraints.transport = vec![TransportRestriction::NoSelfDriving];
    only_fails(&plan, &trip, catalog.as_ref(), "transportation");
}

#[test]
fn a_plan_over_budget_fails_budget() {
    let Some((catalog, mut trip, plan)) = planned(OHIO) else {
        return;
    };
    trip.budget = Some(plan.totals.total - 1.0);
    only_fails(&plan, &trip, catalog.as_ref(), "budget");
}

#[test]
fn the_verifier_recomputes_costs_from_the_catalog_not_the_plan() {
    let Some((catalog, mut trip, mut plan)) = planned(OHIO) else {
        return;
    };
    trip.budget = Some(plan.totals.total);
    for day in &mut plan.days {
        for leg in &mut day.transport {
            leg.cost = 0.0;
        }
    }
    plan.recompute_totals();
    assert!(verify(&plan, &trip, catalog.as_ref()).passed());
    trip.budget = Some(plan.totals.total);
    only_fails(&plan, &trip, catalog.as_ref(), "budget");
}
