//! What a modification's changes amount to: the new intent, the agent
//! tasks to re-run, and — for `replace` and `reroll` — the plan edited in
//! place from the agents' candidates, checked before anything is recorded.
//!
//! Every component of a plan can be replaced: a meal (`dN.breakfast`,
//! `dN.lunch`, `dN.dinner`) from the dining agent's candidates for its
//! city (not a restaurant of another meal), a stay (`stay.<city>`) from the accommodation agent's for that
//! city and number of nights, an attraction (`dN.attractionK`) from the
//! activity agent's for its city (not one already in the plan), a
//! transport leg (`dN.legK`) from the transport agent's options for that
//! leg (the trip's transport rules respected). A meal, stay or attraction
//! is edited in place; a leg is edited with what its times affect (the
//! travel day's meals and visits that no longer fit around it are
//! dropped). The edited plan must then pass the budget check and the
//! verifier, or the change is refused.

use std::collections::BTreeSet;

use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::{
    Itinerary, ItineraryDay, MealKind, PlanItem, TransportLeg, TravelMode,
};
use wayfare_domain::trip::Change;

mod alternatives;

use super::pipeline::GRAPH;
use crate::agents::TripSpec;
use crate::agents::transport::LegOption;
use crate::catalog::Catalog;
use crate::state::{AgentType, TripState};
use crate::verify::{timing, verify};
pub(super) use alternatives::component_alternatives;

/// What a list of changes amounts to.
pub(super) struct ChangePlan {
    pub intent: TripIntent,
    /// The agent types whose tasks re-run (their dependents follow).
    pub roots: BTreeSet<AgentType>,
    /// The plan edited in place (replace / reroll), for the verifier.
    pub edited: Option<Itinerary>,
    /// The components edited in place, and those their edit changed
    /// (a travel day's meal dropped by a new leg), in order.
    pub components: Vec<String>,
}

/// One alternative for a component, as the agents proposed it.
pub(super) struct ComponentOption {
    pub id: String,
    pub name: String,
    /// What the plan item costs (a stay: per night).
    pub item_cost: f64,
    /// What the alternatives list shows (a stay: for all its nights).
    pub cost: f64,
    pub reason: String,
    /// A transport leg's option.
    pub leg: Option<LegOption>,
}

/// A component's alternatives, best first.
pub(super) struct Alternatives {
    /// The id of the choice in the plan now, when known.
    pub current: Option<String>,
    /// What the component costs now (same units as `ComponentOption::cost`).
    pub current_cost: f64,
    pub options: Vec<ComponentOption>,
    /// Options the agents proposed that the trip's rules rule out, with why.
    pub excluded: Vec<(String, String)>,
}

/// A component id, parsed.
#[derive(Debug, Clone, PartialEq)]
enum Component<'a> {
    Stay(&'a str),
    Meal(u32, MealKind),
    /// Day, 0-based index into the day's attractions.
    Attraction(u32, usize),
    /// Day, 0-based index into the day's legs.
    Leg(u32, usize),
}

fn parse_component(id: &str) -> Option<Component<'_>> {
    if let Some(city) = id.strip_prefix("stay.") {
        return (!city.is_empty()).then_some(Component::Stay(city));
    }
    let (day, what) = id.split_once('.')?;
    let day: u32 = day.strip_prefix('d')?.parse().ok()?;
    let index = |prefix: &str| -> Option<usize> {
        let k: usize = what.strip_prefix(prefix)?.parse().ok()?;
        k.checked_sub(1)
    };
    Some(match what {
        "breakfast" => Component::Meal(day, MealKind::Breakfast),
        "lunch" => Component::Meal(day, MealKind::Lunch),
        "dinner" => Component::Meal(day, MealKind::Dinner),
        _ if what.starts_with("attraction") => Component::Attraction(day, index("attraction")?),
        _ if what.starts_with("leg") => Component::Leg(day, index("leg")?),
        _ => return None,
    })
}

fn unknown(component_id: &str) -> String {
    format!(
        "unknown component {component_id:?}: meals (dN.breakfast, dN.lunch, dN.dinner), stays (stay.<city>), attractions (dN.attractionK) and transport legs (dN.legK) can be changed"
    )
}

fn day_of(itinerary: &Itinerary, n: u32) -> Result<&ItineraryDay, String> {
    itinerary
        .days
        .iter()
        .find(|d| d.day == n)
        .ok_or_else(|| format!("the trip has no day {n}"))
}

fn meal_of(day: &ItineraryDay, kind: MealKind) -> Option<&PlanItem> {
    match kind {
        MealKind::Breakfast => day.breakfast.as_ref(),
        MealKind::Lunch => day.lunch.as_ref(),
        MealKind::Dinner => day.dinner.as_ref(),
    }
}

fn meal_slot(day: &mut ItineraryDay, kind: MealKind) -> &mut Option<PlanItem> {
    match kind {
        MealKind::Breakfast => &mut day.breakfast,
        MealKind::Lunch => &mut day.lunch,
        MealKind::Dinner => &mut day.dinner,
    }
}

/// The spelling of a mode in an alternative's id (as in the API's JSON).
fn mode_slug(mode: TravelMode) -> &'static str {
    match mode {
        TravelMode::Flight => "flight",
        TravelMode::SelfDriving => "self-driving",
        TravelMode::Taxi => "taxi",
    }
}

/// A leg option's alternative id: its mode and catalog record (self-driving
/// and taxi share the route's record).
fn leg_id(mode: TravelMode, source_id: &str) -> String {
    format!("{}:{source_id}", mode_slug(mode))
}

/// Why `mode` cannot travel a leg of this trip, if it cannot: the
/// request's transport rules, then the benchmark's rule that self-driving
/// is never mixed with flights or taxis (`others`: the modes of the other
/// legs).
fn mode_refused(intent: &TripIntent, mode: TravelMode, others: &[TravelMode]) -> Option<String> {
    let c = &intent.constraints;
    if mode == TravelMode::Flight && c.forbids_flights() {
        return Some("the request says no flights".into());
    }
    if mode == TravelMode::SelfDriving && c.forbids_self_driving() {
        return Some("the request says no self-driving".into());
    }
    let driving = others.contains(&TravelMode::SelfDriving);
    let other = others.iter().find(|m| **m != TravelMode::SelfDriving);
    match (mode, driving, other) {
        (TravelMode::SelfDriving, _, Some(m)) => Some(format!(
            "self-driving cannot be mixed with the trip's other legs ({})",
            m.label().to_lowercase()
        )),
        (m, true, _) if m != TravelMode::SelfDriving => Some(format!(
            "{} cannot be mixed with the self-driving of the trip's other legs",
            m.label().to_lowercase()
        )),
        _ => None,
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Validates `changes` and works out the new intent, the tasks to re-run
/// and the edited plan. An edited plan is checked here — the budget, then
/// every rule of the verifier — so that a replacement that would break a
/// hard constraint is refused before anything is recorded.
pub(super) fn plan_changes(
    state: &TripState,
    intent: &TripIntent,
    catalog: &dyn Catalog,
    changes: &[Change],
) -> Result<ChangePlan, String> {
    if changes.is_empty() {
        return Err("no changes".into());
    }
    let mut plan = ChangePlan {
        intent: intent.clone(),
        roots: BTreeSet::new(),
        edited: None,
        components: Vec::new(),
    };
    for change in changes {
        match change {
            // The values are within their bounds by their types.
            Change::Budget { value } => {
                plan.intent.budget = Some(*value);
                plan.roots.insert(AgentType::Budget);
            }
            Change::Travellers { value } => {
                plan.intent.people = *value;
                plan.roots.extend([
                    AgentType::Transport,
                    AgentType::Accommodation,
                    AgentType::Dining,
                ]);
            }
            Change::Dates { start } => {
                plan.intent.start_date = Some(*start);
                plan.roots.insert(AgentType::Planning);
            }
            // A rule can change the route (no flights), every stay (room
            // type, house rules) and the meals (cuisines): the whole trip
            // is planned again under the new set.
            Change::Constraints { value } => {
                plan.intent.constraints = value.clone();
                plan.roots.insert(AgentType::Planning);
            }
            Change::Replace { component_id, with } => {
                edit_component(state, catalog, &mut plan, component_id, Some(with))?;
            }
            Change::Reroll { component_id } => {
                edit_component(state, catalog, &mut plan, component_id, None)?;
            }
        }
    }
    if plan.edited.is_some() && plan.roots.iter().any(|r| *r != AgentType::Verifier) {
        return Err("replacing a component cannot be combined with changes that re-plan".into());
    }
    let spec = TripSpec::from_intent(&plan.intent).map_err(|e| e.to_string())?;
    if let Some(edited) = &plan.edited {
        check_edited(edited, &spec, catalog).map_err(|why| {
            format!(
                "the change to {} would break the plan: {why}",
                plan.components.first().map_or("the plan", String::as_str)
            )
        })?;
    }
    Ok(plan)
}

impl ChangePlan {
    /// What carrying the plan out re-plans: the components edited in
    /// place (and those their edit changed), then the agent types that run
    /// again — the roots and everything depending on them, in the graph's
    /// order.
    pub fn replanned(&self) -> Vec<String> {
        let mut agents: Vec<AgentType> = Vec::new();
        for node in GRAPH {
            if self.roots.contains(&node.agent_type)
                || node.depends_on.iter().any(|d| agents.contains(d))
            {
                agents.push(node.agent_type);
            }
        }
        let mut out: Vec<String> = Vec::new();
        for id in &self.components {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        out.extend(agents.into_iter().map(|a| a.to_string()));
        out
    }
}

/// The budget check, then the verifier's rules, on an edited plan.
fn check_edited(
    itinerary: &Itinerary,
    spec: &TripSpec,
    catalog: &dyn Catalog,
) -> Result<(), String> {
    if let Some(budget) = spec.budget
        && itinerary.totals.total > budget + 1e-6
    {
        return Err(format!(
            "it would cost ${:.0}, over the ${budget:.0} budget by ${:.0}",
            itinerary.totals.total,
            itinerary.totals.total - budget
        ));
    }
    let verdict = verify(itinerary, spec, catalog);
    if verdict.passed() {
        return Ok(());
    }
    Err(verdict
        .failures()
        .map(|c| format!("{} ({})", c.message, c.name))
        .collect::<Vec<_>>()
        .join("; "))
}

/// Puts alternative `with` (or, without it, the next acceptable one after
/// the current choice) in place of `component_id` in the plan being edited.
fn edit_component(
    state: &TripState,
    catalog: &dyn Catalog,
    plan: &mut ChangePlan,
    component_id: &str,
    with: Option<&String>,
) -> Result<(), String> {
    let itinerary: Itinerary = match plan.edited.take() {
        Some(it) => it,
        None => state
            .itinerary
            .as_deref()
            .cloned()
            .ok_or("the trip has no plan to change")?,
    };
    let alternatives =
        component_alternatives(state, &itinerary, catalog, &plan.intent, component_id)?;
    let current = alternatives.current.as_ref();
    let (edited, touched) = match with {
        Some(id) => {
            let Some(chosen) = alternatives.options.iter().find(|c| c.id == *id) else {
                if let Some((_, why)) = alternatives.excluded.iter().find(|(x, _)| x == id) {
                    return Err(format!("{id:?} cannot replace {component_id}: {why}"));
                }
                return Err(format!("{id:?} is not an alternative for {component_id}"));
            };
            apply_option(&itinerary, component_id, chosen)?
        }
        None => {
            // The next one after the current choice, round the list, that
            // keeps the plan valid.
            let options = &alternatives.options;
            let at = options.iter().position(|c| Some(&c.id) == current);
            let start = at.map_or(0, |p| p + 1);
            let spec = TripSpec::from_intent(&plan.intent).map_err(|e| e.to_string())?;
            let mut first_refusal: Option<String> = None;
            let mut picked = None;
            for i in 0..options.len() {
                let c = &options[(start + i) % options.len()];
                if Some(&c.id) == current {
                    continue;
                }
                let (edited, touched) = apply_option(&itinerary, component_id, c)?;
                match check_edited(&edited, &spec, catalog) {
                    Ok(()) => {
                        picked = Some((edited, touched));
                        break;
                    }
                    Err(why) => {
                        first_refusal.get_or_insert(format!("{}: {why}", c.name));
                    }
                }
            }
            picked.ok_or_else(|| match first_refusal {
                Some(why) => {
                    format!("no other alternative for {component_id} keeps the plan valid ({why})")
                }
                None => format!("no other alternative for {component_id}"),
            })?
        }
    };
    // The swapped-in record's coordinates (the route map).
    let mut edited = edited;
    crate::assemble::locate(&mut edited, catalog);
    plan.edited = Some(edited);
    plan.components.extend(touched);
    plan.roots.insert(AgentType::Verifier);
    Ok(())
}

/// The plan with `chosen` in place of `component_id`, and the components
/// that changed (the component first).
fn apply_option(
    itinerary: &Itinerary,
    component_id: &str,
    chosen: &ComponentOption,
) -> Result<(Itinerary, Vec<String>), String> {
    let mut itinerary = itinerary.clone();
    let mut touched = vec![component_id.to_string()];
    let component = parse_component(component_id).ok_or_else(|| unknown(component_id))?;
    let item = |city: &str| PlanItem {
        id: component_id.to_string(),
        name: chosen.name.clone(),
        city: city.to_string(),
        source_id: Some(chosen.id.clone()),
        cost: chosen.item_cost,
        reason: format!("your choice: {}", chosen.reason),
    };
    let day_mut = |it: &mut Itinerary, n: u32| -> Result<usize, String> {
        it.days
            .iter()
            .position(|d| d.day == n)
            .ok_or_else(|| format!("the trip has no day {n}"))
    };
    match component {
        Component::Stay(_) => {
            for day in &mut itinerary.days {
                if let Some(a) = &day.accommodation
                    && a.id == component_id
                {
                    let city = a.city.clone();
                    day.accommodation = Some(item(&city));
                }
            }
        }
        Component::Meal(n, kind) => {
            let d = day_mut(&mut itinerary, n)?;
            let day = &mut itinerary.days[d];
            let city = meal_of(day, kind).map_or(day.city.clone(), |m| m.city.clone());
            *meal_slot(day, kind) = Some(item(&city));
        }
        Component::Attraction(n, k) => {
            let d = day_mut(&mut itinerary, n)?;
            let slot = itinerary.days[d]
                .attractions
                .get_mut(k)
                .ok_or_else(|| unknown(component_id))?;
            *slot = item(&slot.city.clone());
        }
        Component::Leg(n, k) => {
            let d = day_mut(&mut itinerary, n)?;
            let option = chosen.leg.as_ref().ok_or_else(|| unknown(component_id))?;
            let day = &mut itinerary.days[d];
            let old = day
                .transport
                .get(k)
                .cloned()
                .ok_or_else(|| unknown(component_id))?;
            day.transport[k] = TransportLeg {
                id: old.id.clone(),
                mode: option.mode,
                from: old.from.clone(),
                to: old.to.clone(),
                number: option.number.clone(),
                departure: Some(option.departure),
                arrival: option.arrival,
                duration_text: option.duration_text.clone(),
                distance_text: option.distance_text.clone(),
                cost: chosen.item_cost,
                source_id: Some(option.source_id.clone()),
                reason: format!("your choice: {}", chosen.reason),
            };
            let dropped = refit_travel_day(day);
            if !dropped.is_empty() {
                let names: Vec<&str> = dropped.iter().map(|(_, name)| name.as_str()).collect();
                day.transport[k]
                    .reason
                    .push_str(&format!(" No longer fits around it: {}.", names.join(", ")));
            }
            touched.extend(dropped.into_iter().map(|(id, _)| id));
        }
    }
    itinerary.recompute_totals();
    Ok((itinerary, touched))
}

/// Drops the travel day's meals and visits that do not fit around its
/// transport any more (the verifier's timing rule), and numbers the
/// visits left again. Returns the dropped components' ids and names.
fn refit_travel_day(day: &mut ItineraryDay) -> Vec<(String, String)> {
    let (Some(first), Some(last)) = (
        day.transport.first().cloned(),
        day.transport.last().cloned(),
    ) else {
        return Vec::new();
    };
    let Some(from) = day.from.clone() else {
        return Vec::new();
    };
    let (Some(out), Some(back)) = (first.departure, last.departure) else {
        return Vec::new();
    };
    let meal_fits = |kind: MealKind, city: &str| {
        if city == from {
            timing::meal_fits_before(kind, first.mode, out)
        } else {
            last.arrival
                .is_some_and(|a| timing::meal_fits_after(kind, last.mode, back, a))
        }
    };
    let visit_fits = |city: &str| {
        if city == from {
            timing::visit_fits_before(first.mode, out)
        } else {
            last.arrival
                .is_some_and(|a| timing::visit_fits_after(last.mode, back, a))
        }
    };
    let mut dropped = Vec::new();
    for kind in MealKind::ALL {
        let slot = meal_slot(day, kind);
        if let Some(meal) = slot
            && !meal_fits(kind, &meal.city)
        {
            dropped.push((meal.id.clone(), meal.name.clone()));
            *slot = None;
        }
    }
    let before = std::mem::take(&mut day.attractions);
    for a in before {
        if visit_fits(&a.city) {
            day.attractions.push(a);
        } else {
            dropped.push((a.id.clone(), a.name.clone()));
        }
    }
    for (i, a) in day.attractions.iter_mut().enumerate() {
        a.id = format!("d{}.attraction{}", day.day, i + 1);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_ids_parse_and_nonsense_does_not() {
        assert_eq!(
            parse_component("stay.Denver"),
            Some(Component::Stay("Denver"))
        );
        assert_eq!(
            parse_component("d2.dinner"),
            Some(Component::Meal(2, MealKind::Dinner))
        );
        assert_eq!(
            parse_component("d3.attraction2"),
            Some(Component::Attraction(3, 1))
        );
        assert_eq!(parse_component("d1.leg1"), Some(Component::Leg(1, 0)));
        for bad in [
            "stay.",
            "d1.leg0",
            "d1.leg",
            "dx.dinner",
            "d1.supper",
            "d1.attraction-1",
            "leg1",
            "",
        ] {
            assert_eq!(parse_component(bad), None, "{bad}");
        }
    }

    #[test]
    fn self_driving_is_never_offered_beside_flights_or_taxis_nor_against_the_rules() {
        let mut intent = TripIntent::default();
        assert!(mode_refused(&intent, TravelMode::SelfDriving, &[TravelMode::Flight]).is_some());
        assert!(mode_refused(&intent, TravelMode::Taxi, &[TravelMode::SelfDriving]).is_some());
        assert!(mode_refused(&intent, TravelMode::Taxi, &[TravelMode::Flight]).is_none());
        assert!(
            mode_refused(&intent, TravelMode::SelfDriving, &[TravelMode::SelfDriving]).is_none()
        );
        intent
            .constraints
            .transport
            .push(wayfare_domain::intent::TransportRestriction::NoFlight);
        let why = mode_refused(&intent, TravelMode::Flight, &[TravelMode::Flight]);
        assert_eq!(why.as_deref(), Some("the request says no flights"));
    }
}
