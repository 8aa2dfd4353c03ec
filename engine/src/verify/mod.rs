//! The verifier: checks a plan against every commonsense and hard rule of
//! the TravelPlanner RULES.md, strictly, and against the catalog.
//!
//! It shares no selection code with the agents: it looks every item up again
//! by name (and source id when given), recomputes every cost from the
//! catalog records, and judges only what the plan says. Its checks are named
//! after the rules so a [`Verdict`] reads like the scoring sheet.

pub mod timing;

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveTime};
use wayfare_domain::catalog::{Attraction, GroundMode, Restaurant, Stay};
use wayfare_domain::intent::{Destination, TransportRestriction};
use wayfare_domain::itinerary::{Itinerary, ItineraryDay, PlanItem, TransportLeg, TravelMode};
use wayfare_domain::verdict::{Check, CheckKind, Verdict};

use crate::agents::TripSpec;
use crate::catalog::Catalog;

/// The commonsense checks, in RULES.md order.
pub const COMMONSENSE: [&str; 8] = [
    "within_sandbox",
    "complete_information",
    "within_current_city",
    "reasonable_city_route",
    "diverse_restaurants",
    "diverse_attractions",
    "non_conflicting_transport",
    "minimum_nights",
];

/// How strict to be beyond the official scorer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Check that travel-day meals and visits fit around the transport times
    /// (Wayfare's rule; the official scorer does not check it).
    pub travel_day_timing: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            travel_day_timing: true,
        }
    }
}

/// The listing among `all` that `item` names: the one with its source id
/// and its name, else the first with its name. `id_and_name` reads a
/// listing's source id and name.
fn find_listed<'a, T>(
    all: &'a [T],
    item: &PlanItem,
    id_and_name: impl Fn(&T) -> (&str, &str),
) -> Option<&'a T> {
    item.source_id
        .as_deref()
        .and_then(|id| {
            all.iter()
                .find(|l| id_and_name(l) == (id, item.name.as_str()))
        })
        .or_else(|| all.iter().find(|l| id_and_name(l).1 == item.name))
}

fn find_restaurant<'a>(catalog: &'a dyn Catalog, item: &PlanItem) -> Option<&'a Restaurant> {
    find_listed(catalog.restaurants_in(&item.city), item, |r| {
        (&r.source_id, &r.name)
    })
}

fn find_attraction<'a>(catalog: &'a dyn Catalog, item: &PlanItem) -> Option<&'a Attraction> {
    catalog
        .attractions_in(&item.city)
        .iter()
        .find(|a| a.name == item.name)
}

fn find_stay<'a>(catalog: &'a dyn Catalog, item: &PlanItem) -> Option<&'a Stay> {
    find_listed(catalog.stays_in(&item.city), item, |s| {
        (&s.source_id, &s.name)
    })
}

/// A leg as the catalog knows it: its cost for the party and its times.
struct KnownLeg {
    cost: f64,
    departure: NaiveTime,
    arrival: Option<NaiveTime>,
}

fn find_leg(
    catalog: &dyn Catalog,
    leg: &TransportLeg,
    date: Option<NaiveDate>,
    people: u32,
) -> Option<KnownLeg> {
    match leg.mode {
        TravelMode::Flight => {
            let number = leg.number.as_deref()?;
            let f = catalog
                .flights(&leg.from, &leg.to, date?)
                .into_iter()
                .find(|f| f.number == number)?;
            Some(KnownLeg {
                cost: f.price * f64::from(people),
                departure: f.departure,
                arrival: Some(f.arrival),
            })
        }
        TravelMode::SelfDriving | TravelMode::Taxi => {
            let route = catalog.ground_route(&leg.from, &leg.to)?;
            let mode = if leg.mode == TravelMode::Taxi {
                GroundMode::Taxi
            } else {
                GroundMode::SelfDriving
            };
            let vehicles = people.div_ceil(mode.persons_per_vehicle()).max(1);
            let departure = leg
                .departure
                .unwrap_or_else(timing::default_ground_departure);
            Some(KnownLeg {
                cost: mode.cost_per_vehicle(route.distance_km) * f64::from(vehicles),
                departure,
                arrival: timing::ground_arrival(departure, route.duration_min),
            })
        }
    }
}

struct Checker<'a> {
    it: &'a Itinerary,
    trip: &'a TripSpec,
    catalog: &'a dyn Catalog,
    opts: VerifyOptions,
    checks: Vec<Check>,
}

impl Checker<'_> {
    fn push(&mut self, name: &str, kind: CheckKind, problems: Vec<String>, ok_message: String) {
        let passed = problems.is_empty();
        let message = if passed {
            ok_message
        } else {
            let mut shown: Vec<String> = problems.iter().take(6).cloned().collect();
            if problems.len() > 6 {
                shown.push(format!("and {} more", problems.len() - 6));
            }
            shown.join("; ")
        };
        self.checks.push(Check {
            name: name.into(),
            kind,
            passed,
            message,
        });
    }

    fn date_of(&self, index: usize, day: &ItineraryDay) -> Option<NaiveDate> {
        day.date.or_else(|| self.trip.dates.get(index).copied())
    }

    fn items(day: &ItineraryDay) -> impl Iterator<Item = (&'static str, &PlanItem)> {
        day.meals()
            .into_iter()
            .filter_map(|(k, m)| m.map(|m| (k.label(), m)))
            .chain(day.attractions.iter().map(|a| ("attraction", a)))
    }

    fn within_sandbox(&mut self) {
        let mut problems = Vec::new();
        for (i, day) in self.it.days.iter().enumerate() {
            let n = day.day;
            for leg in &day.transport {
                if find_leg(self.catalog, leg, self.date_of(i, day), self.it.people).is_none() {
                    problems.push(match leg.mode {
                        TravelMode::Flight => format!(
                            "day {n}: flight {} from {} to {} on {} is not in the catalog",
                            leg.number.as_deref().unwrap_or("?"),
                            leg.from,
                            leg.to,
                            self.date_of(i, day).map_or("?".into(), |d| d.to_string())
                        ),
                        _ => format!("day {n}: no usable route from {} to {}", leg.from, leg.to),
                    });
                }
            }
            for (kind, m) in day
                .meals()
                .into_iter()
                .filter_map(|(k, m)| m.map(|m| (k, m)))
            {
                if find_restaurant(self.catalog, m).is_none() {
                    problems.push(format!(
                        "day {n} {}: no restaurant \"{}\" in {}",
                        kind.label(),
                        m.name,
                        m.city
                    ));
                }
            }
            for a in &day.attractions {
                if find_attraction(self.catalog, a).is_none() {
                    problems.push(format!(
                        "day {n}: no attraction \"{}\" in {}",
                        a.name, a.city
                    ));
                }
            }
            if let Some(s) = &day.accommodation
                && find_stay(self.catalog, s).is_none()
            {
                problems.push(format!("day {n}: no stay \"{}\" in {}", s.name, s.city));
            }
        }
        self.push(
            "within_sandbox",
            CheckKind::Commonsense,
            problems,
            "every item is in the catalog".into(),
        );
    }

    fn complete_information(&mut self) {
        let mut problems = Vec::new();
        let want_days = self.trip.dates.len();
        if self.it.days.len() != want_days {
            problems.push(format!(
                "{} days planned, {want_days} asked",
                self.it.days.len()
            ));
        }
        let visited = self.it.visited_cities();
        let mut distinct = visited.clone();
        distinct.sort();
        distinct.dedup();
        let want_cities = self.trip.destination.city_count() as usize;
        if distinct.len() != want_cities {
            problems.push(format!(
                "{} cities visited, {want_cities} asked",
                distinct.len()
            ));
        }
        let last = self.it.days.len().saturating_sub(1);
        for (i, day) in self.it.days.iter().enumerate() {
            let n = day.day;
            if n as usize != i + 1 {
                problems.push(format!("day {} is numbered {n}", i + 1));
            }
            if day.city.trim().is_empty() {
                problems.push(format!("day {n} has no city"));
            }
            if let Some(from) = &day.from {
                match (day.transport.first(), day.transport.last()) {
                    (Some(first), Some(lastleg)) => {
                        if first.from != *from || lastleg.to != day.city {
                            problems.push(format!(
                                "day {n}: the transport goes from {} to {}, the day from {from} to {}",
                                first.from, lastleg.to, day.city
                            ));
                        }
                    }
                    _ => problems.push(format!(
                        "day {n} travels from {from} to {} with no transport",
                        day.city
                    )),
                }
                if self.opts.travel_day_timing {
                    self.travel_day_timing(i, day, &mut problems);
                }
            } else {
                for (kind, meal) in day.meals() {
                    if meal.is_none() {
                        problems.push(format!("day {n} in {} has no {}", day.city, kind.label()));
                    }
                }
                if day.attractions.is_empty() {
                    problems.push(format!("day {n} in {} has no attraction", day.city));
                }
            }
            if i < last && day.accommodation.is_none() {
                problems.push(format!("night {n} has no accommodation"));
            }
            if i == last && day.accommodation.is_some() {
                problems.push(format!("the last day ({n}) has an accommodation"));
            }
        }
        self.push(
            "complete_information",
            CheckKind::Commonsense,
            problems,
            format!(
                "{want_days} complete days, {want_cities} {}",
                if want_cities == 1 { "city" } else { "cities" }
            ),
        );
    }

    fn travel_day_timing(&self, i: usize, day: &ItineraryDay, problems: &mut Vec<String>) {
        let (Some(first), Some(lastleg)) = (day.transport.first(), day.transport.last()) else {
            return;
        };
        let date = self.date_of(i, day);
        let people = self.it.people;
        let (Some(out), Some(arrive)) = (
            find_leg(self.catalog, first, date, people),
            find_leg(self.catalog, lastleg, date, people),
        ) else {
            return;
        };
        let from = day.from.as_deref().unwrap_or_default();
        let n = day.day;
        for (kind, meal) in day.meals() {
            let Some(meal) = meal else { continue };
            let fits = if meal.city == from {
                timing::meal_fits_before(kind, first.mode, out.departure)
            } else {
                arrive.arrival.is_some_and(|a| {
                    timing::meal_fits_after(kind, lastleg.mode, arrive.departure, a)
                })
            };
            if !fits {
                problems.push(format!(
                    "day {n}: {} in {} does not fit around the {} leg",
                    kind.label(),
                    meal.city,
                    first.mode.label().to_lowercase()
                ));
            }
        }
        for a in &day.attractions {
            let fits = if a.city == from {
                timing::visit_fits_before(first.mode, out.departure)
            } else {
                arrive
                    .arrival
                    .is_some_and(|t| timing::visit_fits_after(lastleg.mode, arrive.departure, t))
            };
            if !fits {
                problems.push(format!(
                    "day {n}: visiting {} does not fit around the transport",
                    a.name
                ));
            }
        }
    }

    fn within_current_city(&mut self) {
        let mut problems = Vec::new();
        for day in &self.it.days {
            let n = day.day;
            for (what, item) in Self::items(day) {
                let ok = item.city == day.city || day.from.as_deref() == Some(item.city.as_str());
                if !ok {
                    problems.push(format!(
                        "day {n} {what} \"{}\" is in {}, not {}",
                        item.name, item.city, day.city
                    ));
                }
            }
            if let Some(s) = &day.accommodation
                && s.city != day.city
            {
                problems.push(format!(
                    "night {n} is in {} but the day ends in {}",
                    s.city, day.city
                ));
            }
        }
        self.push(
            "within_current_city",
            CheckKind::Commonsense,
            problems,
            "every item is in its day's city".into(),
        );
    }

    fn reasonable_city_route(&mut self) {
        let mut problems = Vec::new();
        let origin = &self.trip.origin;
        let days = &self.it.days;
        match days.first() {
            Some(d) if d.from.as_deref() == Some(origin.as_str()) => {}
            _ => problems.push(format!("the trip does not start by leaving {origin}")),
        }
        match days.last() {
            Some(d) if d.city == *origin && d.from.is_some() => {}
            _ => problems.push(format!("the trip does not end by returning to {origin}")),
        }
        let mut current = origin.clone();
        let mut seen: Vec<String> = Vec::new();
        for (i, day) in days.iter().enumerate() {
            match &day.from {
                Some(from) => {
                    if *from != current {
                        problems.push(format!(
                            "day {} leaves {from} but the trip is in {current}",
                            day.day
                        ));
                    }
                    if i + 1 < days.len() || day.city != *origin {
                        if seen.contains(&day.city) || day.city == *origin {
                            problems.push(format!("{} is visited twice", day.city));
                        }
                        seen.push(day.city.clone());
                    }
                }
                None => {
                    if day.city != current {
                        problems.push(format!(
                            "day {} is in {} without travelling there",
                            day.day, day.city
                        ));
                    }
                }
            }
            current = day.city.clone();
        }
        let nights: HashSet<&str> = days
            .iter()
            .filter(|d| d.accommodation.is_some())
            .map(|d| d.city.as_str())
            .collect();
        for city in &seen {
            if !nights.contains(city.as_str()) {
                problems.push(format!("{city} is visited with no night there"));
            }
            match self.catalog.city(city) {
                None => problems.push(format!("{city} is not a known city")),
                Some(c) => match &self.trip.destination {
                    Destination::State { name, .. } if c.state != *name => {
                        problems.push(format!("{city} is in {}, not {name}", c.state))
                    }
                    Destination::City { name } if city != name => {
                        problems.push(format!("{city} is visited instead of {name}"))
                    }
                    _ => {}
                },
            }
        }
        self.push(
            "reasonable_city_route",
            CheckKind::Commonsense,
            problems,
            format!("{origin} → {} → {origin}", seen.join(" → ")),
        );
    }

    fn diverse(&mut self, name: &str, what: &str, pick: fn(&ItineraryDay) -> Vec<&PlanItem>) {
        let mut count: HashMap<(String, String), u32> = HashMap::new();
        for day in &self.it.days {
            for item in pick(day) {
                *count
                    .entry((item.name.clone(), item.city.clone()))
                    .or_default() += 1;
            }
        }
        let mut problems: Vec<String> = count
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|((name, city), n)| format!("{what} \"{name}\" in {city} is chosen {n} times"))
            .collect();
        problems.sort();
        let total = count.len();
        self.push(
            name,
            CheckKind::Commonsense,
            problems,
            format!("{total} distinct {what}s"),
        );
    }

    fn non_conflicting_transport(&mut self) {
        let mut problems = Vec::new();
        let modes: HashSet<TravelMode> = self
            .it
            .days
            .iter()
            .flat_map(|d| d.transport.iter().map(|l| l.mode))
            .collect();
        if modes.contains(&TravelMode::SelfDriving)
            && (modes.contains(&TravelMode::Flight) || modes.contains(&TravelMode::Taxi))
        {
            problems.push("self-driving is mixed with flights or taxis".to_string());
        }
        if self.it.days.first().is_none_or(|d| d.transport.is_empty()) {
            problems.push("day 1 has no transportation".to_string());
        }
        self.push(
            "non_conflicting_transport",
            CheckKind::Commonsense,
            problems,
            "transport modes are consistent".into(),
        );
    }

    fn minimum_nights(&mut self) {
        let mut problems = Vec::new();
        let mut runs: Vec<(&PlanItem, u32)> = Vec::new();
        for day in &self.it.days {
            if let Some(s) = &day.accommodation {
                match runs.last_mut() {
                    Some((prev, n)) if prev.name == s.name && prev.city == s.city => *n += 1,
                    _ => runs.push((s, 1)),
                }
            }
        }
        for (item, nights) in runs {
            if let Some(stay) = find_stay(self.catalog, item)
                && nights < stay.minimum_nights
            {
                problems.push(format!(
                    "\"{}\" in {} needs {} nights, {nights} booked",
                    item.name, item.city, stay.minimum_nights
                ));
            }
        }
        self.push(
            "minimum_nights",
            CheckKind::Commonsense,
            problems,
            "every stay's minimum nights is met".into(),
        );
    }

    fn budget(&mut self) {
        let people = self.it.people;
        let mut total = 0.0;
        let mut unknown = Vec::new();
        for (i, day) in self.it.days.iter().enumerate() {
            for leg in &day.transport {
                match find_leg(self.catalog, leg, self.date_of(i, day), people) {
                    Some(k) => total += k.cost,
                    None => unknown.push(format!("day {} leg", day.day)),
                }
            }
            for (_, meal) in day.meals() {
                if let Some(m) = meal {
                    match find_restaurant(self.catalog, m) {
                        Some(r) => total += r.average_cost * f64::from(people),
                        None => unknown.push(m.name.clone()),
                    }
                }
            }
            if let Some(s) = &day.accommodation {
                match find_stay(self.catalog, s) {
                    Some(st) => {
                        total += st.price
                            * f64::from(people.div_ceil(st.maximum_occupancy.max(1)).max(1))
                    }
                    None => unknown.push(s.name.clone()),
                }
            }
        }
        let mut problems = Vec::new();
        if let Some(budget) = self.trip.budget
            && total > budget + 1e-6
        {
            problems.push(format!(
                "the plan costs ${total:.0}, over the ${budget:.0} budget by ${:.0}",
                total - budget
            ));
        }
        if !unknown.is_empty() {
            problems.push(format!("cost unknown for {}", unknown.join(", ")));
        }
        let msg = match self.trip.budget {
            Some(b) => format!("${total:.0} of ${b:.0}"),
            None => format!("${total:.0}, no budget given"),
        };
        self.push("budget", CheckKind::Hard, problems, msg);
    }

    fn stays(&self) -> Vec<(&ItineraryDay, Option<&Stay>)> {
        self.it
            .days
            .iter()
            .filter_map(|d| {
                d.accommodation
                    .as_ref()
                    .map(|s| (d, find_stay(self.catalog, s)))
            })
            .collect()
    }

    fn house_rule(&mut self) {
        let rules = self.trip.constraints.house_rules.clone();
        if rules.is_empty() {
            return;
        }
        let mut problems = Vec::new();
        for (day, stay) in self.stays() {
            match stay {
                Some(s) => {
                    for r in &rules {
                        if s.forbids.contains(r) {
                            problems.push(format!(
                                "night {}: \"{}\" says {}",
                                day.day,
                                s.name,
                                r.prohibition()
                            ));
                        }
                    }
                }
                None => problems.push(format!("night {}: stay unknown", day.day)),
            }
        }
        problems.dedup();
        self.push(
            "house_rule",
            CheckKind::Hard,
            problems,
            "every stay allows what was asked".into(),
        );
    }

    fn room_type(&mut self) {
        let Some(want) = self.trip.constraints.room_type else {
            return;
        };
        let mut problems = Vec::new();
        for (day, stay) in self.stays() {
            match stay {
                Some(s) if want.accepts(s.room_type) => {}
                Some(s) => problems.push(format!(
                    "night {}: \"{}\" is a {}, not {}",
                    day.day,
                    s.name,
                    s.room_type.label(),
                    want.label()
                )),
                None => problems.push(format!("night {}: stay unknown", day.day)),
            }
        }
        problems.dedup();
        self.push(
            "room_type",
            CheckKind::Hard,
            problems,
            format!("every stay is {}", want.label()),
        );
    }

    fn cuisine(&mut self) {
        let wanted = self.trip.constraints.cuisines.clone();
        if wanted.is_empty() {
            return;
        }
        let origin = self.trip.origin.clone();
        let mut served: HashSet<String> = HashSet::new();
        for day in &self.it.days {
            for (_, meal) in day.meals() {
                if let Some(m) = meal
                    && m.city != origin
                    && let Some(r) = find_restaurant(self.catalog, m)
                {
                    served.extend(r.cuisines.iter().map(|c| c.to_lowercase()));
                }
            }
        }
        let problems: Vec<String> = wanted
            .iter()
            .filter(|c| !served.contains(&c.to_lowercase()))
            .map(|c| format!("no meal serves {c}"))
            .collect();
        self.push(
            "cuisine",
            CheckKind::Hard,
            problems,
            format!("{} served", wanted.join(", ")),
        );
    }

    fn transportation(&mut self) {
        let restrictions = self.trip.constraints.transport.clone();
        if restrictions.is_empty() {
            return;
        }
        let mut problems = Vec::new();
        for day in &self.it.days {
            for leg in &day.transport {
                let bad = match leg.mode {
                    TravelMode::Flight => restrictions.contains(&TransportRestriction::NoFlight),
                    TravelMode::SelfDriving => {
                        restrictions.contains(&TransportRestriction::NoSelfDriving)
                    }
                    TravelMode::Taxi => false,
                };
                if bad {
                    problems.push(format!(
                        "day {}: {} from {} to {}",
                        day.day,
                        leg.mode.label(),
                        leg.from,
                        leg.to
                    ));
                }
            }
        }
        let labels: Vec<&str> = restrictions.iter().map(|r| r.label()).collect();
        self.push(
            "transportation",
            CheckKind::Hard,
            problems,
            labels.join(", "),
        );
    }
}

/// Checks `itinerary` for `trip` against the catalog with the default (strict) options.
pub fn verify(itinerary: &Itinerary, trip: &TripSpec, catalog: &dyn Catalog) -> Verdict {
    verify_with(itinerary, trip, catalog, VerifyOptions::default())
}

/// Checks `itinerary` with the given options.
pub fn verify_with(
    itinerary: &Itinerary,
    trip: &TripSpec,
    catalog: &dyn Catalog,
    opts: VerifyOptions,
) -> Verdict {
    let mut c = Checker {
        it: itinerary,
        trip,
        catalog,
        opts,
        checks: Vec::new(),
    };
    c.within_sandbox();
    c.complete_information();
    c.within_current_city();
    c.reasonable_city_route();
    c.diverse("diverse_restaurants", "restaurant", |d| {
        d.meals().into_iter().filter_map(|(_, m)| m).collect()
    });
    c.diverse("diverse_attractions", "attraction", |d| {
        d.attractions.iter().collect()
    });
    c.non_conflicting_transport();
    c.minimum_nights();
    c.budget();
    c.house_rule();
    c.room_type();
    c.cuisine();
    c.transportation();
    Verdict { checks: c.checks }
}
