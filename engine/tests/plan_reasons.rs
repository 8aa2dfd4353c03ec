//! Issue 15, what a plan says on the demo catalog: the summary says how
//! the budget was used and what more or less would buy, true of the plan
//! and the catalog; a drive's reason says what its time leaves room for.

#[path = "common/demo_plans.rs"]
mod demo_plans;

use std::sync::Arc;

use wayfare_domain::itinerary::Itinerary;
use wayfare_engine::agents::Objective;
use wayfare_engine::catalog::Catalog;
use wayfare_engine::orchestrator::{PlanOutcome, render_text};

use demo_plans::demo as catalog;

fn plan(catalog: &Arc<dyn Catalog>, text: &str) -> (PlanOutcome, Itinerary) {
    demo_plans::verified_plan(catalog, Objective::Utility, text)
}

const COUPLE: &str = "3 days from Seattle to Denver, March 5th to March 7th 2027, two of us, $2,000, we love Italian food";
const DRIVE: &str = "A 3-day trip for two from Seattle to Portland, June 5th to June 7th 2027, budget $1,500, we will drive ourselves.";

/// A plan well short of its target says why, and when it says nothing
/// better is left, no restaurant outside the plan beats its meals.
#[test]
fn a_plan_short_of_its_target_says_why_and_it_is_true() {
    let catalog = catalog();
    let (outcome, plan) = plan(&catalog, DRIVE);
    let note = &outcome.explanation;
    assert!(note.contains("aiming at 90%"), "{note}");
    assert!(
        note.contains("the rest buys nothing better"),
        "{note}\n{}",
        render_text(&plan)
    );
    let meals: Vec<_> = plan
        .days
        .iter()
        .flat_map(|d| d.meals().into_iter().filter_map(|(_, m)| m))
        .collect();
    let rating = |name: &str| {
        catalog
            .restaurants_in("Portland")
            .iter()
            .find(|r| r.name == name)
            .map_or(f64::NAN, |r| r.rating)
    };
    let lowest = meals
        .iter()
        .map(|m| rating(&m.name))
        .fold(f64::INFINITY, f64::min);
    for r in catalog.restaurants_in("Portland").iter() {
        assert!(
            meals.iter().any(|m| m.name == r.name) || r.rating <= lowest,
            "{} (rated {}) is left out although the plan eats at a place rated {lowest}",
            r.name,
            r.rating
        );
    }
}

/// "With less" names the best cheaper stay for the party: a couple in a
/// home is not told about dorm beds when a cheaper home or room exists.
#[test]
fn with_less_names_the_best_cheaper_stay_for_the_party() {
    let catalog = catalog();
    let (outcome, _) = plan(&catalog, COUPLE);
    let note = &outcome.explanation;
    let less = note
        .split("less: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no 'with less' in {note}"));
    assert!(!less.starts_with("Hostel"), "{note}");
}

/// The drive home leaves after lunch and a visit, and says so.
#[test]
fn a_retimed_drive_says_what_its_time_leaves_room_for() {
    let catalog = catalog();
    let (_, plan) = plan(&catalog, DRIVE);
    let home = plan.days.last().expect("a last day");
    let leg = home.transport.first().expect("a leg home");
    assert!(
        leg.reason.contains("at 13:30 rather than 09:00"),
        "{}",
        leg.reason
    );
    for (kind, meal) in home.meals() {
        if meal.is_some() {
            assert!(
                leg.reason.contains(kind.label()),
                "{} is planned but the reason does not say so: {}",
                kind.label(),
                leg.reason
            );
        }
    }
    assert!(
        home.attractions.is_empty() || leg.reason.contains("visit"),
        "{}",
        leg.reason
    );
}
