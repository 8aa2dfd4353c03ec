//! What the plan's summary ([`budget_note`](super::utility::budget_note))
//! says when a plan keeps much of its budget: whether anything better is
//! left to buy.

use wayfare_domain::itinerary::{Itinerary, PlanItem};

use super::utility::{self, Context};
use crate::agents::TripSpec;
use crate::agents::accommodation::AccommodationAgent;
use crate::catalog::Catalog;

/// Why a plan well short of its target keeps the rest: nothing better is
/// left (the best rated stays and restaurants that meet the request are in
/// the plan), or the better ones left cost more than they add at the
/// person's level (the best such restaurant named).
pub(super) fn short_of_target(
    ctx: &Context,
    trip: &TripSpec,
    plan: &Itinerary,
    catalog: &dyn Catalog,
) -> String {
    let mut better_stay = false;
    let mut seen: Vec<&str> = Vec::new();
    for stay in plan.days.iter().filter_map(|d| d.accommodation.as_ref()) {
        if seen.contains(&stay.id.as_str()) {
            continue;
        }
        seen.push(&stay.id);
        let nights = utility::nights_at(plan, &stay.id);
        let options = AccommodationAgent.options(trip, catalog, &stay.city, nights);
        let Some(current) = options
            .iter()
            .find(|o| stay.source_id.as_deref() == Some(o.item.stay.source_id.as_str()))
        else {
            continue;
        };
        let u = ctx.stay_utility(current);
        better_stay |= options.iter().any(|o| ctx.stay_utility(o) > u + 1e-9);
    }
    // The best rated restaurant not in the plan that beats the plan's
    // lowest rated meal in its city.
    let meals: Vec<&PlanItem> = plan
        .days
        .iter()
        .flat_map(|d| d.meals().into_iter().filter_map(|(_, m)| m))
        .collect();
    let mut better_meal: Option<(String, f64)> = None;
    let mut cities: Vec<&str> = meals.iter().map(|m| m.city.as_str()).collect();
    cities.sort_unstable();
    cities.dedup();
    for city in cities {
        let list = catalog.restaurants_in(city);
        // A meal kept for a required cuisine is not one a better rated
        // place could replace.
        let rating_of = |m: &&PlanItem| {
            list.iter()
                .find(|r| m.source_id.as_deref() == Some(r.source_id.as_str()))
                .filter(|r| {
                    !r.cuisines.iter().any(|c| {
                        trip.constraints
                            .cuisines
                            .iter()
                            .any(|w| c.eq_ignore_ascii_case(w))
                    })
                })
                .map(|r| r.rating)
        };
        let lowest = meals
            .iter()
            .filter(|m| m.city == city)
            .filter_map(rating_of)
            .fold(f64::INFINITY, f64::min);
        for r in list.iter() {
            let in_plan = meals.iter().any(|m| m.city == city && m.name == r.name);
            if !in_plan
                && r.rating > lowest + 1e-9
                && better_meal.as_ref().is_none_or(|b| r.rating > b.1)
            {
                better_meal = Some((r.name.clone(), r.rating));
            }
        }
    }
    match (better_stay, better_meal) {
        (false, None) => "the rest buys nothing better: the best rated stays and restaurants that meet the request are already in the plan".into(),
        (_, Some((name, rating))) => format!(
            "the rest is kept: better rated places are left (such as {name}, rated {rating}), but they cost more than they add at {}",
            ctx.level_text()
        ),
        (true, None) => format!(
            "the rest is kept: a better stay costs more than it adds at {}",
            ctx.level_text()
        ),
    }
}
