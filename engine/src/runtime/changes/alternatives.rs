//! The alternatives for one component of a plan, ranked as the planner
//! would rank them: a meal, a stay, an attraction or a transport leg, from
//! the agents' candidates over the catalog, the current one marked.

use std::collections::{HashMap, HashSet};

use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::{Itinerary, TravelMode};

use super::super::pipeline::TaskOutput;
use super::super::wire::output_of;
use super::{
    Alternatives, Component, ComponentOption, capitalise, day_of, leg_id, meal_of, mode_refused,
    parse_component, plural, unknown,
};
use crate::state::AgentType;

use crate::agents::Candidate;
use crate::agents::TripSpec;
use crate::agents::activity::ActivityAgent;
use crate::agents::location::haversine_km;
use crate::agents::transport::LegOption;
use crate::assemble::leg_fits;
use crate::assemble::utility::compared_with_chosen;
use crate::catalog::Catalog;
use crate::state::TripState;

/// The alternatives for a component of the plan, best first: stays and
/// meals by the planner's utility for this trip (the same points the
/// assembler maximises, see `assemble::utility`; cheaper first at equal
/// utility), so "another one" is the next-best for this person; legs by
/// the same utility's value of the meals and visits their times leave
/// room for, less their price (cheaper first at equal value); attractions
/// in the activity agent's route order.
pub(in crate::runtime) fn component_alternatives(
    state: &TripState,
    itinerary: &Itinerary,
    catalog: &dyn Catalog,
    intent: &TripIntent,
    component_id: &str,
) -> Result<Alternatives, String> {
    let component = parse_component(component_id).ok_or_else(|| unknown(component_id))?;
    match component {
        Component::Stay(city) => {
            let nights = itinerary
                .days
                .iter()
                .filter(|d| {
                    d.accommodation
                        .as_ref()
                        .is_some_and(|a| a.id == component_id)
                })
                .count() as u32;
            let current = itinerary
                .days
                .iter()
                .find_map(|d| d.accommodation.as_ref().filter(|a| a.id == component_id))
                .ok_or_else(|| unknown(component_id))?;
            let Some(TaskOutput::Accommodation(stays)) = output_of(state, AgentType::Accommodation)
            else {
                return Err("the trip has no accommodation candidates".into());
            };
            let mut candidates = stays
                .iter()
                .find(|((c, n), _)| c == city && *n == nights)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            if let Some(ctx) = utility_of(intent) {
                candidates.sort_by(|a, b| {
                    ctx.stay_utility(b)
                        .total_cmp(&ctx.stay_utility(a))
                        .then(a.cost.total_cmp(&b.cost))
                });
            }
            // The stay in the plan, for each alternative to say how it compares.
            let chosen = candidates
                .iter()
                .find(|c| current.source_id.as_deref() == Some(c.item.stay.source_id.as_str()))
                .map(|c| (c.item.stay.source_id.clone(), c.item.stay.rating, c.cost));
            let options = candidates
                .into_iter()
                .map(|c| {
                    let (stay, nights) = (&c.item.stay, c.item.nights.max(1));
                    let compared = match &chosen {
                        Some((id, rating, cost)) if *id != stay.source_id => format!(
                            " ({})",
                            compared_with_chosen(stay.rating, c.cost, *rating, *cost)
                        ),
                        _ => String::new(),
                    };
                    let reason = format!(
                        "{} in {city} rated {} of 5: {} unit{} at ${} a night, ${:.0} for {nights} night{}{compared}.",
                        stay.room_type.label(),
                        stay.rating,
                        c.item.units,
                        plural(c.item.units),
                        stay.price,
                        c.cost,
                        plural(nights),
                    );
                    ComponentOption {
                        id: stay.source_id.clone(),
                        name: stay.name.clone(),
                        item_cost: c.cost / f64::from(nights),
                        cost: c.cost,
                        reason,
                        leg: None,
                    }
                })
                .collect();
            Ok(Alternatives {
                current: current.source_id.clone(),
                current_cost: current.cost * f64::from(nights),
                options,
                excluded: Vec::new(),
            })
        }
        Component::Meal(n, kind) => {
            let day = day_of(itinerary, n)?;
            let current = meal_of(day, kind);
            let Some(TaskOutput::Dining(meals)) = output_of(state, AgentType::Dining) else {
                return Err("the trip has no dining candidates".into());
            };
            let city = current.map_or(day.city.as_str(), |m| m.city.as_str());
            // A restaurant eaten at in another meal is not offered again
            // (the verifier's diverse-restaurants rule).
            let elsewhere: HashSet<&str> = itinerary
                .days
                .iter()
                .flat_map(|d| d.meals().into_iter().filter_map(|(_, m)| m))
                .filter(|m| m.city == city && Some(*m) != current)
                .map(|m| m.name.as_str())
                .collect();
            let mut candidates = meals
                .iter()
                .find(|(c, _)| c == city)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            if let Some(ctx) = utility_of(intent) {
                candidates.sort_by(|a, b| {
                    ctx.meal_utility(&b.item)
                        .total_cmp(&ctx.meal_utility(&a.item))
                        .then(a.cost.total_cmp(&b.cost))
                });
            }
            // The meal in the plan, for each alternative to say how it compares.
            let chosen = current.and_then(|m| {
                candidates
                    .iter()
                    .find(|c| m.source_id.as_deref() == Some(c.item.source_id.as_str()))
                    .map(|c| (c.item.source_id.clone(), c.item.rating, c.cost))
            });
            let options = candidates
                .into_iter()
                .filter(|c| !elsewhere.contains(c.item.name.as_str()))
                .map(|c| {
                    let r = &c.item;
                    let compared = match &chosen {
                        Some((id, rating, cost)) if *id != r.source_id => format!(
                            "; {}",
                            compared_with_chosen(r.rating, c.cost, *rating, *cost)
                        ),
                        _ => String::new(),
                    };
                    let reason = format!(
                        "{} in {city}, rated {} of 5, ${} a person (${:.0} for the party){compared}.",
                        if r.cuisines.is_empty() {
                            "A restaurant".to_string()
                        } else {
                            r.cuisines.join(", ")
                        },
                        r.rating,
                        r.average_cost,
                        c.cost
                    );
                    ComponentOption {
                        id: r.source_id.clone(),
                        name: r.name.clone(),
                        item_cost: c.cost,
                        cost: c.cost,
                        reason,
                        leg: None,
                    }
                })
                .collect();
            Ok(Alternatives {
                current: current.and_then(|m| m.source_id.clone()),
                current_cost: current.map_or(0.0, |m| m.cost),
                options,
                excluded: Vec::new(),
            })
        }
        Component::Attraction(n, k) => {
            let day = day_of(itinerary, n)?;
            let current = day
                .attractions
                .get(k)
                .ok_or_else(|| unknown(component_id))?;
            let city = current.city.as_str();
            // The activity agent's route for the city; when it was dropped,
            // the catalog's list, as the budget agent used then.
            let routed = match output_of(state, AgentType::Activity) {
                Some(TaskOutput::Activity(cities)) => cities
                    .iter()
                    .find(|(c, _)| c == city)
                    .map(|(_, a)| a.clone()),
                _ => None,
            };
            let candidates = routed.unwrap_or_else(|| ActivityAgent.listed(catalog, city));
            let elsewhere: HashSet<&str> = itinerary
                .days
                .iter()
                .flat_map(|d| d.attractions.iter())
                .filter(|a| a.city == city && a.id != current.id)
                .map(|a| a.name.as_str())
                .collect();
            let here = candidates.iter().find(|a| a.name == current.name).cloned();
            let options = candidates
                .into_iter()
                .filter(|a| !elsewhere.contains(a.name.as_str()))
                .map(|a| {
                    let reason = match &here {
                        _ if a.name == current.name => {
                            format!("The stop in the plan now, in {city}.")
                        }
                        Some(h) => format!(
                            "{:.1} km from {}, the stop it would replace, in {city}.",
                            haversine_km(a.lat, a.lon, h.lat, h.lon),
                            h.name
                        ),
                        None => format!("Another sight in {city}, not yet in the plan."),
                    };
                    ComponentOption {
                        id: a.source_id.clone(),
                        name: a.name.clone(),
                        item_cost: 0.0,
                        cost: 0.0,
                        reason,
                        leg: None,
                    }
                })
                .collect();
            Ok(Alternatives {
                current: current.source_id.clone(),
                current_cost: current.cost,
                options,
                excluded: Vec::new(),
            })
        }
        Component::Leg(n, k) => {
            let day = day_of(itinerary, n)?;
            let current = day.transport.get(k).ok_or_else(|| unknown(component_id))?;
            let others: Vec<TravelMode> = itinerary
                .days
                .iter()
                .flat_map(|d| d.transport.iter())
                .filter(|l| l.id != current.id)
                .map(|l| l.mode)
                .collect();
            let Some(TaskOutput::Transport(legs)) = output_of(state, AgentType::Transport) else {
                return Err("the trip has no transport candidates".into());
            };
            let current_id = current
                .source_id
                .as_deref()
                .map(|s| leg_id(current.mode, s));
            let found = legs.iter().find(|(key, _)| {
                key.from == current.from
                    && key.to == current.to
                    && (day.date == Some(key.date) || key.day_index + 1 == n as usize)
            });
            let Some((key, mut candidates)) = found.cloned() else {
                return Ok(Alternatives {
                    current: current_id,
                    current_cost: current.cost,
                    options: Vec::new(),
                    excluded: Vec::new(),
                });
            };
            // What each leg's times leave room for in the city reached or
            // left (a meal or a visit there), worth the utility's
            // travel-slot value each.
            let origin = intent.origin.clone().unwrap_or_default();
            let fits: HashMap<String, usize> = candidates
                .iter()
                .map(|c| {
                    let id = leg_id(c.item.mode, &c.item.source_id);
                    (id, leg_fits(&origin, &key, &c.item))
                })
                .collect();
            if let Some(ctx) = utility_of(intent) {
                let value = ctx.travel_slot_value();
                let score = |c: &Candidate<LegOption>| {
                    let room = fits
                        .get(&leg_id(c.item.mode, &c.item.source_id))
                        .copied()
                        .unwrap_or(0);
                    room as f64 * value - c.cost
                };
                candidates.sort_by(|a, b| {
                    score(b)
                        .total_cmp(&score(a))
                        .then(a.cost.total_cmp(&b.cost))
                });
            }
            let city = if key.to != origin { &key.to } else { &key.from };
            let mut options = Vec::new();
            let mut excluded = Vec::new();
            for c in candidates {
                let o = c.item;
                let id = leg_id(o.mode, &o.source_id);
                if let Some(why) = mode_refused(intent, o.mode, &others) {
                    excluded.push((id, why));
                    continue;
                }
                let name = match (&o.number, o.arrival) {
                    (Some(number), Some(arrival)) => format!(
                        "Flight {number}, {} → {}",
                        o.departure.format("%H:%M"),
                        arrival.format("%H:%M")
                    ),
                    _ => format!(
                        "{}, {} ({})",
                        o.mode.label(),
                        o.distance_text,
                        o.duration_text
                    ),
                };
                let times = match o.arrival {
                    Some(a) => format!(
                        "leaves {} at {}, arrives in {} at {}",
                        current.from,
                        o.departure.format("%H:%M"),
                        current.to,
                        a.format("%H:%M")
                    ),
                    None => format!(
                        "leaves {} at {}, arrives in {} after midnight",
                        current.from,
                        o.departure.format("%H:%M"),
                        current.to
                    ),
                };
                let room = match fits.get(&id).copied().unwrap_or(0) {
                    0 => String::new(),
                    1 => format!("; time for 1 meal or visit in {city}"),
                    n => format!("; time for {n} meals or visits in {city}"),
                };
                options.push(ComponentOption {
                    id,
                    name,
                    item_cost: c.cost,
                    cost: c.cost,
                    reason: format!("{} ({}{room}).", capitalise(&c.reason), times),
                    leg: Some(o),
                });
            }
            Ok(Alternatives {
                current: current_id,
                current_cost: current.cost,
                options,
                excluded,
            })
        }
    }
}

/// The utility the planner chose by, for ranking alternatives (`None` when
/// the intent cannot be planned).
fn utility_of(intent: &TripIntent) -> Option<crate::assemble::utility::Context> {
    TripSpec::from_intent(intent)
        .ok()
        .map(|spec| crate::assemble::utility::Context::new(&spec))
}
