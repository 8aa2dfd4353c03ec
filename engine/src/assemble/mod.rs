//! The assembler (the budget agent's search): turns the agents' ranked
//! candidates into whole itineraries, best first.
//!
//! Each skeleton is tried with each transport family (self-driving alone, or
//! flights and taxis) in order of a lower bound on its cost; bounds above
//! the budget are pruned. A candidate plan takes the cheapest options that
//! meet every constraint; then, by the trip's [`Objective`]:
//!
//! - [`Objective::Utility`] (the default) spends up to the budget level's
//!   target share of the budget on what a person would choose: travel
//!   times that leave room for meals and visits, a room suited to the
//!   party, and the upgrades with the most utility per dollar (see
//!   [`utility`] for the definition and its weights);
//! - [`Objective::Cheapest`] spends half of what is left on better rated
//!   stays and the rest on restaurants, each at most twice the cheapest.
//!
//! Both only ever choose among candidates that meet every hard constraint:
//! a plan never trades a constraint for utility. When nothing fits,
//! [`NoPlan`] says why and what would fix it.

mod spend;
mod summary;
mod travel;
pub mod utility;

use std::collections::{HashMap, HashSet};

use wayfare_domain::catalog::Restaurant;
use wayfare_domain::itinerary::{
    GeoPoint, Itinerary, ItineraryDay, MealKind, PlanItem, TransportLeg, TravelMode,
};
use wayfare_domain::verdict::Verdict;

use crate::agents::accommodation::{StayOption, StayOptions};
use crate::agents::activity::ActivityOptions;
use crate::agents::dining::MealOptions;
use crate::agents::transport::{LegOption, LegOptions};
use crate::agents::{Candidate, Objective, Skeleton, TripSpec};
use crate::catalog::Catalog;
use crate::verify::timing;
use spend::{room_extra, room_for_party, spend_on_utility, upgrade_cheapest};
pub use travel::leg_fits;
use travel::{best_ground_time, hhmm, retimed_reason};
use utility::Context;

/// Everything the agents proposed for a trip.
#[derive(Debug, Clone, Default)]
pub struct Proposals {
    pub skeletons: Vec<Candidate<Skeleton>>,
    pub legs: LegOptions,
    pub stays: StayOptions,
    pub meals: MealOptions,
    pub activities: ActivityOptions,
}

/// No plan could be assembled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct NoPlan {
    /// What is wrong and what would fix it.
    pub reason: String,
    /// The cheapest complete plan's cost, when one exists but is over budget.
    pub cheapest: Option<f64>,
}

/// How many complete plans within budget to compare before choosing.
const PLANS_TO_COMPARE: usize = 4;
/// An upgrade may cost at most this many times the cheapest choice.
const UPGRADE_FACTOR: f64 = 2.0;
/// How many skeleton × family pairs to try at most.
const MAX_TRIES: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Driving,
    Mixed,
}

/// A planned meal slot.
#[derive(Debug, Clone)]
struct Slot {
    day: usize,
    kind: MealKind,
    city: String,
    required: bool,
    choice: Option<Candidate<Restaurant>>,
    /// Chosen to cover a cuisine: not to be swapped away.
    locked: bool,
    /// The requested cuisines this slot's restaurant was chosen to cover
    /// (an upgrade must serve them too).
    covers: Vec<String>,
}

/// Builds the best plans, best first (at most a few).
pub fn assemble(trip: &TripSpec, proposals: &Proposals) -> Result<Vec<Itinerary>, NoPlan> {
    let budget = trip.budget.unwrap_or(f64::INFINITY);
    let mut tries: Vec<(f64, &Skeleton, Family)> = Vec::new();
    let mut missing_stays: Vec<String> = Vec::new();
    for cand in &proposals.skeletons {
        let sk = &cand.item;
        let Some(base) = city_lower_bound(trip, sk, proposals, &mut missing_stays) else {
            continue;
        };
        for family in [Family::Driving, Family::Mixed] {
            if let Some(legs) = leg_lower_bound(trip, sk, family, proposals) {
                tries.push((base + legs, sk, family));
            }
        }
    }
    if tries.is_empty() {
        missing_stays.sort();
        missing_stays.dedup();
        let reason = if !missing_stays.is_empty() {
            format!(
                "no valid combination: {}",
                missing_stays
                    .into_iter()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        } else {
            "no route can be travelled with one kind of transport (self-driving cannot be mixed with flights or taxis)".to_string()
        };
        return Err(NoPlan {
            reason,
            cheapest: None,
        });
    }
    tries.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut plans: Vec<(f64, Itinerary)> = Vec::new();
    let mut cheapest_over: Option<f64> = None;
    let mut other_failures: Vec<String> = Vec::new();
    for (bound, sk, family) in tries.into_iter().take(MAX_TRIES) {
        if bound > budget + 1e-6 {
            cheapest_over = Some(cheapest_over.map_or(bound, |c: f64| c.min(bound)));
            break;
        }
        let built = match build(trip, sk, family, proposals, budget, bound, true) {
            // Better travel times cost money the required meals may need:
            // fall back on the cheapest legs.
            Err(Failure::OverBudget(_)) if trip.objective == Objective::Utility => {
                build(trip, sk, family, proposals, budget, bound, false)
            }
            other => other,
        };
        match built {
            Ok((score, plan)) => {
                plans.push((score, plan));
                if plans.len() >= PLANS_TO_COMPARE {
                    break;
                }
            }
            Err(Failure::OverBudget(cost)) => {
                cheapest_over = Some(cheapest_over.map_or(cost, |c| c.min(cost)));
            }
            Err(Failure::Other(why)) => other_failures.push(why),
        }
    }
    if plans.is_empty() {
        let budget_text = trip.budget.map_or(String::new(), |b| format!("{b:.0}"));
        return Err(match cheapest_over {
            Some(cost) => NoPlan {
                reason: format!(
                    "the cheapest valid plan costs ${cost:.0}; the budget is ${budget_text} (raise it by ${:.0}, or travel with fewer people or days)",
                    cost - budget
                ),
                cheapest: Some(cost),
            },
            None => NoPlan {
                reason: other_failures
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "no plan meets every constraint".into()),
                cheapest: None,
            },
        });
    }
    plans.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(plans.into_iter().map(|(_, p)| p).collect())
}

/// Puts the catalog's coordinates into a plan, for the route map: the
/// origin's and the visited cities', and each day's attractions' (stays and
/// restaurants have none in the catalog). A day's coordinates are rebuilt
/// from its items, so a swapped item never keeps the old one's place;
/// records the catalog no longer has keep what the plan knew.
pub fn locate(itinerary: &mut Itinerary, catalog: &dyn Catalog) {
    for city in itinerary.route() {
        if let Some(point) = catalog
            .city(&city)
            .and_then(|c| GeoPoint::new(c.lat?, c.lon?))
        {
            itinerary.city_coords.insert(city, point);
        }
    }
    for day in &mut itinerary.days {
        let mut coords = std::collections::BTreeMap::new();
        for item in &day.attractions {
            let Some(id) = &item.source_id else { continue };
            let point = catalog
                .attractions_in(&item.city)
                .iter()
                .find(|a| a.source_id == *id)
                .and_then(|a| GeoPoint::new(a.lat, a.lon))
                .or_else(|| day.coords.get(id).copied());
            if let Some(point) = point {
                coords.insert(id.clone(), point);
            }
        }
        day.coords = coords;
    }
}

/// Lower bound of stays and required meals; `None` when a city cannot host its nights.
fn city_lower_bound(
    trip: &TripSpec,
    sk: &Skeleton,
    p: &Proposals,
    missing: &mut Vec<String>,
) -> Option<f64> {
    let mut total = 0.0;
    for (city, nights) in sk.cities.iter().zip(&sk.nights) {
        let Some(stay) = p
            .stays
            .get(&(city.clone(), *nights))
            .and_then(|s| s.first())
        else {
            missing.push(format!(
                "no stay in {city} is {}",
                crate::agents::planning::stay_requirements(trip, *nights)
            ));
            return None;
        };
        total += stay.cost;
        let full_days = nights.saturating_sub(1) as usize;
        let meals = p.meals.get(city)?;
        if meals.len() < 3 * full_days {
            return None;
        }
        total += meals
            .iter()
            .take(3 * full_days)
            .map(|m| m.cost)
            .sum::<f64>();
        let _ = trip;
    }
    Some(total)
}

fn family_allows(family: Family, mode: TravelMode) -> bool {
    match family {
        Family::Driving => mode == TravelMode::SelfDriving,
        Family::Mixed => mode != TravelMode::SelfDriving,
    }
}

fn leg_lower_bound(trip: &TripSpec, sk: &Skeleton, family: Family, p: &Proposals) -> Option<f64> {
    let mut total = 0.0;
    for leg in sk.legs(&trip.origin, &trip.dates) {
        total += p
            .legs
            .get(&leg)?
            .iter()
            .find(|o| family_allows(family, o.item.mode))?
            .cost;
    }
    Some(total)
}

enum Failure {
    OverBudget(f64),
    Other(String),
}

/// Builds one plan from a skeleton and family; returns its score (higher
/// is better). `bound` is the plan's lower bound on cost; `better_legs`
/// lets the utility objective pay for travel times (off on the retry).
#[allow(clippy::too_many_arguments)]
fn build(
    trip: &TripSpec,
    sk: &Skeleton,
    family: Family,
    p: &Proposals,
    budget: f64,
    bound: f64,
    better_legs: bool,
) -> Result<(f64, Itinerary), Failure> {
    let days = trip.dates.len();
    let ctx = (trip.objective == Objective::Utility).then(|| Context::new(trip));
    let legs_keys = sk.legs(&trip.origin, &trip.dates);
    let mut legs: Vec<(usize, Candidate<LegOption>, String, String)> = Vec::new();
    let mut leg_reasons: HashMap<usize, String> = HashMap::new();
    // Drives retimed by the utility: the catalog's time and the city given room.
    let mut retimed: HashMap<usize, (chrono::NaiveTime, String)> = HashMap::new();
    // Better travel times come after a room of the party's own.
    let mut leg_money = ctx.as_ref().filter(|_| better_legs).map_or(0.0, |c| {
        (c.target - bound - room_extra(c, sk, p)).max(0.0) * utility::LEG_SHARE
    });
    for key in &legs_keys {
        let mut allowed: Vec<Candidate<LegOption>> = p
            .legs
            .get(key)
            .map(|opts| {
                opts.iter()
                    .filter(|o| family_allows(family, o.item.mode))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if allowed.is_empty() {
            return Err(Failure::Other(format!(
                "no transport from {} to {} on {}",
                key.from, key.to, key.date
            )));
        }
        // A drive or a taxi leaves when the traveller chooses: the utility
        // picks the time that leaves the most room (the catalog's default
        // otherwise); each such option is compared at its best time.
        let mut default_departure: Vec<Option<chrono::NaiveTime>> = vec![None; allowed.len()];
        if ctx.is_some() {
            for (o, was) in allowed.iter_mut().zip(&mut default_departure) {
                if let Some(better) = best_ground_time(&trip.origin, key, &o.item) {
                    *was = Some(o.item.departure);
                    o.item = better;
                }
            }
        }
        let mut choice = 0;
        let mut why: Vec<String> = Vec::new();
        if let Some(ctx) = &ctx {
            // A leg that leaves room for more meals and visits, worth
            // `travel_slot_value` each, if the leg money allows.
            let cheapest = &allowed[0];
            let base = leg_fits(&trip.origin, key, &cheapest.item);
            let value = ctx.travel_slot_value();
            let mut best_gain = 0.0;
            for (i, o) in allowed.iter().enumerate() {
                let extra = o.cost - cheapest.cost;
                if extra > leg_money + 1e-9 {
                    continue;
                }
                let more = leg_fits(&trip.origin, key, &o.item).saturating_sub(base);
                let gain = more as f64 * value - extra.max(0.0);
                if more > 0 && gain > best_gain + 1e-9 {
                    best_gain = gain;
                    choice = i;
                }
            }
            let chosen = &allowed[choice];
            let city = if key.to != trip.origin {
                &key.to
            } else {
                &key.from
            };
            if choice != 0 {
                let extra = chosen.cost - cheapest.cost;
                leg_money -= extra.max(0.0);
                let more = leg_fits(&trip.origin, key, &chosen.item).saturating_sub(base);
                why.push(format!(
                    "leaves {}, arrives {}: time for {more} more meal(s) or visit(s) in {city} than the cheapest (leaves {}); {}, within {}",
                    hhmm(Some(chosen.item.departure)),
                    hhmm(chosen.item.arrival),
                    hhmm(Some(cheapest.item.departure)),
                    utility::price_gap(extra),
                    ctx.level_text()
                ));
            }
            if let Some(was) = default_departure[choice] {
                // Said once the day's meals and visits are known.
                retimed.insert(key.day_index, (was, city.clone()));
            }
        }
        if !why.is_empty() {
            leg_reasons.insert(key.day_index, why.join("; "));
        }
        legs.push((
            key.day_index,
            allowed.swap_remove(choice),
            key.from.clone(),
            key.to.clone(),
        ));
    }
    // Where each day is spent.
    let arrivals = sk.arrival_days();
    let mut city_of_day: Vec<String> = vec![trip.origin.clone(); days];
    for (i, city) in sk.cities.iter().enumerate() {
        let end = arrivals.get(i + 1).copied().unwrap_or(days - 1);
        for slot in city_of_day.iter_mut().take(end).skip(arrivals[i]) {
            *slot = city.clone();
        }
    }
    city_of_day[days - 1] = trip.origin.clone();
    let leg_on: HashMap<usize, &(usize, Candidate<LegOption>, String, String)> =
        legs.iter().map(|l| (l.0, l)).collect();

    // Stays.
    let mut stays: Vec<Candidate<StayOption>> = Vec::new();
    for (city, nights) in sk.cities.iter().zip(&sk.nights) {
        let stay = p
            .stays
            .get(&(city.clone(), *nights))
            .and_then(|s| s.first())
            .ok_or_else(|| Failure::Other(format!("no stay in {city} for {nights} nights")))?;
        stays.push(stay.clone());
    }

    // Meal slots.
    let mut slots: Vec<Slot> = Vec::new();
    for (day, day_city) in city_of_day.iter().enumerate() {
        for kind in MealKind::ALL {
            let city = match leg_on.get(&day) {
                None => Some((day_city.clone(), true)),
                Some((_, leg, from, to)) => {
                    let o = &leg.item;
                    if *from != trip.origin && timing::meal_fits_before(kind, o.mode, o.departure) {
                        Some((from.clone(), false))
                    } else if *to != trip.origin
                        && o.arrival
                            .is_some_and(|a| timing::meal_fits_after(kind, o.mode, o.departure, a))
                    {
                        Some((to.clone(), false))
                    } else {
                        None
                    }
                }
            };
            if let Some((city, required)) = city {
                slots.push(Slot {
                    day,
                    kind,
                    city,
                    required,
                    choice: None,
                    locked: false,
                    covers: Vec::new(),
                });
            }
        }
    }
    let mut used: HashSet<(String, String)> = HashSet::new();
    // Cuisines first: the cheapest restaurant serving each, in a city with a free slot.
    let mut uncovered: Vec<&String> = trip.constraints.cuisines.iter().collect();
    while let Some(cuisine) = uncovered.first().copied() {
        let mut best: Option<(f64, usize, Candidate<Restaurant>)> = None;
        for (si, slot) in slots.iter().enumerate() {
            if slot.choice.is_some() {
                continue;
            }
            let Some(opts) = p.meals.get(&slot.city) else {
                continue;
            };
            if let Some(c) = opts.iter().find(|c| {
                !used.contains(&(c.item.name.clone(), slot.city.clone()))
                    && c.item
                        .cuisines
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(cuisine))
            }) {
                // Prefer required slots: they are paid for anyway.
                let key = c.cost - if slot.required { 1e-3 } else { 0.0 };
                if best.as_ref().is_none_or(|(k, _, _)| key < *k) {
                    best = Some((key, si, c.clone()));
                }
            }
        }
        let Some((_, si, c)) = best else {
            return Err(Failure::Other(format!(
                "no restaurant serving {cuisine} in {}",
                sk.cities.join(", ")
            )));
        };
        used.insert((c.item.name.clone(), slots[si].city.clone()));
        let serves = |u: &&String| c.item.cuisines.iter().any(|x| x.eq_ignore_ascii_case(u));
        slots[si].covers = uncovered
            .iter()
            .filter(|u| serves(u))
            .map(|u| u.to_string())
            .collect();
        uncovered.retain(|u| !serves(u));
        slots[si].choice = Some(c);
        slots[si].locked = true;
    }
    for slot in slots
        .iter_mut()
        .filter(|s| s.required && s.choice.is_none())
    {
        let c = p
            .meals
            .get(&slot.city)
            .and_then(|opts| {
                opts.iter()
                    .find(|c| !used.contains(&(c.item.name.clone(), slot.city.clone())))
            })
            .ok_or_else(|| Failure::Other(format!("too few restaurants in {}", slot.city)))?;
        used.insert((c.item.name.clone(), slot.city.clone()));
        slot.choice = Some(c.clone());
    }
    let transport_cost: f64 = legs.iter().map(|l| l.1.cost).sum();
    let stay_cost: f64 = stays.iter().map(|s| s.cost).sum();
    let meal_cost = |slots: &[Slot]| {
        slots
            .iter()
            .filter_map(|s| s.choice.as_ref())
            .map(|c| c.cost)
            .sum::<f64>()
    };
    let mut total = transport_cost + stay_cost + meal_cost(&slots);
    if total > budget + 1e-6 {
        return Err(Failure::OverBudget(total));
    }
    // A room of its own for a party of two or more comes before any
    // optional spending.
    let room = ctx
        .as_ref()
        .map(|ctx| room_for_party(ctx, sk, p, &mut stays, &mut total))
        .unwrap_or_default();
    // Optional meals on travel days: the cheapest objective's, cheapest
    // first while the budget allows; the utility's are bought among its
    // upgrades when worth their price (`utility::travel_meal_bar`).
    for slot in slots.iter_mut().filter(|_| ctx.is_none()) {
        if slot.choice.is_some() {
            continue;
        }
        let city = slot.city.clone();
        if let Some(c) = p.meals.get(&city).and_then(|opts| {
            opts.iter()
                .find(|c| !used.contains(&(c.item.name.clone(), city.clone())))
        }) && total + c.cost <= budget + 1e-6
        {
            used.insert((c.item.name.clone(), city.clone()));
            total += c.cost;
            slot.choice = Some(c.clone());
        }
    }
    let mut stay_reasons: Vec<Option<String>> = vec![None; stays.len()];
    let mut meal_reasons: Vec<Option<String>> = vec![None; slots.len()];
    if let Some(ctx) = &ctx {
        spend_on_utility(
            ctx,
            sk,
            p,
            &mut stays,
            &mut slots,
            &mut total,
            &room,
            &mut stay_reasons,
            &mut meal_reasons,
        );
    } else {
        upgrade_cheapest(sk, p, budget, &mut stays, &mut slots, &mut total, &mut used);
    }

    // Attractions: one for every full day first, then up to three (two for
    // a relaxed trip), then travel days.
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut visits: Vec<Vec<wayfare_domain::catalog::Attraction>> = vec![Vec::new(); days];
    let full_days: Vec<usize> = (0..days).filter(|d| !leg_on.contains_key(d)).collect();
    let per_day = ctx.as_ref().map_or(3, Context::visits_per_full_day);
    for round in 0..per_day {
        for &d in &full_days {
            let city = &city_of_day[d];
            let list = p.activities.get(city).map(Vec::as_slice).unwrap_or(&[]);
            let next = taken.entry(city.clone()).or_insert(0);
            if let Some(a) = list.get(*next) {
                visits[d].push(a.clone());
                *next += 1;
            } else if round == 0 {
                return Err(Failure::Other(format!("too few attractions in {city}")));
            }
        }
    }
    // In day order: the first travel day gets the next attraction (a
    // HashMap's order would make the plan differ from run to run).
    let mut travel_days: Vec<usize> = leg_on.keys().copied().collect();
    travel_days.sort_unstable();
    for d in travel_days {
        let Some((_, leg, from, to)) = leg_on.get(&d) else {
            continue;
        };
        let o = &leg.item;
        let city = if *to != trip.origin
            && o.arrival
                .is_some_and(|a| timing::visit_fits_after(o.mode, o.departure, a))
        {
            to
        } else if *from != trip.origin && timing::visit_fits_before(o.mode, o.departure) {
            from
        } else {
            continue;
        };
        let list = p.activities.get(city).map(Vec::as_slice).unwrap_or(&[]);
        let next = taken.entry(city.clone()).or_insert(0);
        if let Some(a) = list.get(*next) {
            visits[d].push(a.clone());
            *next += 1;
        }
    }

    // The itinerary.
    let mut itinerary_days = Vec::with_capacity(days);
    let meal_reasons: HashMap<(usize, MealKind), String> = slots
        .iter()
        .zip(meal_reasons)
        .filter_map(|(s, r)| Some(((s.day, s.kind), r?)))
        .collect();
    for (d, date) in trip.dates.iter().enumerate() {
        let mut day = ItineraryDay::new(d as u32 + 1, Some(*date), city_of_day[d].clone());
        let n = d + 1;
        if let Some((_, leg, from, to)) = leg_on.get(&d) {
            day.from = Some(from.clone());
            day.city = to.clone();
            let o = &leg.item;
            let mut why: Vec<String> = leg_reasons.get(&d).into_iter().cloned().collect();
            if let Some((was, city)) = retimed.get(&d) {
                why.push(retimed_reason(o, *was, city, &slots, d, &visits[d]));
            }
            day.transport.push(TransportLeg {
                id: format!("d{n}.leg1"),
                mode: o.mode,
                from: from.clone(),
                to: to.clone(),
                number: o.number.clone(),
                departure: Some(o.departure),
                arrival: o.arrival,
                duration_text: o.duration_text.clone(),
                distance_text: o.distance_text.clone(),
                cost: leg.cost,
                source_id: Some(o.source_id.clone()),
                reason: if why.is_empty() {
                    format!("cheapest allowed way to travel: {}", leg.reason)
                } else {
                    format!("{}: {}", why.join("; "), leg.reason)
                },
            });
        }
        for slot in slots.iter().filter(|s| s.day == d) {
            let Some(c) = &slot.choice else { continue };
            let item = PlanItem {
                id: format!("d{n}.{}", slot.kind.label()),
                name: c.item.name.clone(),
                city: slot.city.clone(),
                source_id: Some(c.item.source_id.clone()),
                cost: c.cost,
                reason: match meal_reasons.get(&(slot.day, slot.kind)) {
                    Some(why) => why.clone(),
                    None if slot.locked => format!("serves a requested cuisine: {}", c.reason),
                    None => c.reason.clone(),
                },
            };
            match slot.kind {
                MealKind::Breakfast => day.breakfast = Some(item),
                MealKind::Lunch => day.lunch = Some(item),
                MealKind::Dinner => day.dinner = Some(item),
            }
        }
        day.coords.extend(
            visits[d].iter().filter_map(|a| {
                GeoPoint::new(a.lat, a.lon).map(|point| (a.source_id.clone(), point))
            }),
        );
        day.attractions = visits[d]
            .iter()
            .enumerate()
            .map(|(i, a)| PlanItem {
                id: format!("d{n}.attraction{}", i + 1),
                name: a.name.clone(),
                city: a.city.clone(),
                source_id: Some(a.source_id.clone()),
                cost: 0.0,
                reason: {
                    let step = if i == 0 {
                        "start of the day's walking route"
                    } else {
                        "next stop nearby"
                    };
                    match ctx.as_ref().and_then(|c| c.interest_of(a)) {
                        Some(interest) => format!("matches your interest in {interest}; {step}"),
                        None => step.to_string(),
                    }
                },
            })
            .collect();
        if d + 1 < days
            && let Some(ci) = sk.cities.iter().position(|c| *c == day.city)
        {
            let s = &stays[ci];
            day.accommodation = Some(PlanItem {
                id: format!("stay.{}", day.city),
                name: s.item.stay.name.clone(),
                city: day.city.clone(),
                source_id: Some(s.item.stay.source_id.clone()),
                cost: s.cost / f64::from(s.item.nights.max(1)),
                reason: stay_reasons[ci].clone().unwrap_or_else(|| s.reason.clone()),
            });
        }
        itinerary_days.push(day);
    }
    let mut itinerary = Itinerary {
        origin: trip.origin.clone(),
        people: trip.people,
        days: itinerary_days,
        totals: Default::default(),
        verdict: Verdict::default(),
        city_coords: Default::default(),
    };
    itinerary.recompute_totals();
    if let Some(ctx) = &ctx {
        // The plan's utility per day, the same points the upgrades count,
        // plus the visits (worth a rated-5 meal each).
        let points = stays.iter().map(|s| ctx.stay_utility(s)).sum::<f64>()
            + (0..days)
                .map(|d| {
                    ctx.day_meals_utility(
                        slots
                            .iter()
                            .filter(|s| s.day == d)
                            .filter_map(|s| s.choice.as_ref().map(|c| &c.item)),
                    )
                })
                .sum::<f64>()
            + visits.iter().map(Vec::len).sum::<usize>() as f64 * utility::W_MEAL
            // A travel-day meal counts as when it was bought
            // (`utility::travel_meal_points`).
            - slots
                .iter()
                .filter(|s| !s.required && !s.locked && s.choice.is_some())
                .filter_map(|s| {
                    let list = p.meals.get(&s.city)?;
                    let bar = utility::travel_meal_bar(list.iter().map(|c| c.item.rating))?;
                    Some(-utility::travel_meal_points(ctx, 0.0, bar))
                })
                .sum::<f64>();
        let score = points / days.max(1) as f64 - itinerary.totals.total / 1_000_000.0;
        return Ok((score, itinerary));
    }
    let ratings: Vec<f64> = slots
        .iter()
        .filter_map(|s| s.choice.as_ref().map(|c| c.item.rating / 5.0))
        .chain(stays.iter().map(|s| s.item.stay.rating / 5.0))
        .collect();
    let quality = ratings.iter().sum::<f64>() / ratings.len().max(1) as f64;
    // Better ratings first, then cheaper (a fraction of a point per $1,000).
    let score = quality - itinerary.totals.total / 1_000_000.0;
    Ok((score, itinerary))
}
