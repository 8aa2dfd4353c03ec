//! Property: every plan the planner delivers passes its own verifier.

mod common;

use proptest::prelude::*;
use wayfare_domain::bounds::{Budget, Days, Travellers, TripDate};
use wayfare_domain::intent::{Destination, TripIntent};
use wayfare_engine::agents::TripSpec;
use wayfare_engine::orchestrator::Planner;
use wayfare_engine::verify::verify;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_delivered_plan_passes_its_own_verifier(
        origin_pick in 0usize..10_000,
        dest_pick in 0usize..10_000,
        days_pick in 0usize..3,
        people in 1u32..=5,
        budget in 500u32..20_000,
        start_day in 1u32..=24,
    ) {
        let Some(catalog) = common::catalog() else { return Ok(()) };
        let cities = catalog.cities();
        let origin = &cities[origin_pick % cities.len()];
        let dest = &cities[dest_pick % cities.len()];
        prop_assume!(origin.name != dest.name);
        let days = [3u32, 5, 7][days_pick];
        let destination = if days == 3 {
            Destination::City { name: dest.name.clone() }
        } else {
            prop_assume!(origin.state != dest.state);
            Destination::State { name: dest.state.clone(), cities: days / 2 }
        };
        let intent = TripIntent {
            origin: Some(origin.name.clone()),
            destination: Some(destination),
            start_date: chrono::NaiveDate::from_ymd_opt(2022, 3, start_day)
                .and_then(|d| TripDate::try_from(d).ok()),
            days: Days::try_from(days).ok(),
            people: Travellers::try_from(people).expect("1 to 5 travellers"),
            budget: Budget::try_from(f64::from(budget)).ok(),
            ..TripIntent::default()
        };
        let planner = Planner::new(catalog.clone());
        let outcome = planner.plan_intent_blocking(intent.clone());
        if let Some(plan) = &outcome.itinerary {
            let trip = TripSpec::from_intent(&intent).expect("complete");
            let verdict = verify(plan, &trip, catalog.as_ref());
            prop_assert!(verdict.passed(), "{}", verdict.summary());
            prop_assert!(plan.totals.total <= f64::from(budget) + 1e-6);
        } else {
            prop_assert!(!outcome.explanation.is_empty());
        }
    }
}
