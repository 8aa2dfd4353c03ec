//! Issue 15, travel days on the demo catalog: a drive leaves when the
//! traveller chooses (so the day home is not just breakfast), and a meal
//! around the travel is planned only when it is worth it (a low-rated
//! filler would pull the trip's restaurants below the cheapest plan's).

#[path = "common/demo_plans.rs"]
mod demo_plans;
#[path = "common/demo_requests.rs"]
mod demo_requests;

use std::sync::Arc;

use wayfare_domain::itinerary::{Itinerary, TravelMode};
use wayfare_engine::agents::Objective;
use wayfare_engine::assemble::utility::travel_meal_bar;
use wayfare_engine::catalog::Catalog;
use wayfare_engine::orchestrator::render_text;

use demo_plans::demo as catalog;

/// The verifier checks every meal and visit against the legs' times.
fn plan(catalog: &Arc<dyn Catalog>, objective: Objective, text: &str) -> Itinerary {
    demo_plans::verified_plan(catalog, objective, text).1
}

const DRIVE: &str = "A 3-day trip for two from Seattle to Portland, June 5th to June 7th 2027, budget $1,500, we will drive ourselves.";

#[test]
fn a_self_drive_home_leaves_after_lunch_and_a_visit() {
    let catalog = catalog();
    let plan = plan(&catalog, Objective::Utility, DRIVE);
    let text = render_text(&plan);
    let home = plan.days.last().expect("a last day");
    let leg = home.transport.first().expect("a leg home");
    assert_eq!(leg.mode, TravelMode::SelfDriving, "{text}");
    assert!(
        leg.departure
            .is_some_and(|t| t > chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()),
        "the drive home leaves at the catalog's default time\n{text}"
    );
    assert!(
        home.lunch.is_some() && !home.attractions.is_empty(),
        "the day home has no lunch or no visit\n{text}"
    );
    assert!(
        leg.reason.contains("leaves when you choose"),
        "{}",
        leg.reason
    );
}

/// The cheapest objective is today's planner: the catalog's time.
#[test]
fn the_cheapest_objective_keeps_the_catalogs_time() {
    let catalog = catalog();
    let plan = plan(&catalog, Objective::Cheapest, DRIVE);
    let leg = plan.days.last().and_then(|d| d.transport.first());
    assert_eq!(
        leg.and_then(|l| l.departure),
        chrono::NaiveTime::from_hms_opt(9, 0, 0),
        "{}",
        render_text(&plan)
    );
}

/// Each meal's rating, and whether it is on a travel day.
fn meal_ratings(plan: &Itinerary, catalog: &dyn Catalog) -> Vec<(f64, bool, String)> {
    plan.days
        .iter()
        .flat_map(|d| {
            d.meals()
                .into_iter()
                .filter_map(|(_, m)| m)
                .map(move |m| (m, !d.transport.is_empty()))
        })
        .filter_map(|(m, travel)| {
            let r = catalog
                .restaurants_in(&m.city)
                .iter()
                .find(|r| m.source_id.as_deref() == Some(r.source_id.as_str()))?
                .rating;
            Some((r, travel, m.city.clone()))
        })
        .collect()
}

#[test]
fn travel_day_meals_are_worth_it_and_keep_the_ratings_above_the_cheapest_plans() {
    let catalog = catalog();
    let mut means = [Vec::new(), Vec::new()];
    for text in demo_requests::DEMO {
        for (i, objective) in [Objective::Cheapest, Objective::Utility]
            .into_iter()
            .enumerate()
        {
            let plan = plan(&catalog, objective, text);
            let meals = meal_ratings(&plan, catalog.as_ref());
            if objective == Objective::Utility {
                // Half a star below the city's median is where a meal stops
                // being worth planning (`utility::travel_meal_points`).
                for (rating, _, city) in meals.iter().filter(|m| m.1) {
                    let bar =
                        travel_meal_bar(catalog.restaurants_in(city).iter().map(|r| r.rating))
                            .unwrap_or_default();
                    assert!(
                        *rating >= bar - 0.5,
                        "a travel-day meal rated {rating} in {city} (median {bar})\n{}",
                        render_text(&plan)
                    );
                }
            }
            means[i].extend(meals.into_iter().map(|m| m.0));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (cheapest, utility) = (mean(&means[0]), mean(&means[1]));
    assert!(
        utility >= cheapest,
        "utility's restaurants {utility:.3} ({} meals) below the cheapest's {cheapest:.3} ({} meals)",
        means[1].len(),
        means[0].len()
    );
}
