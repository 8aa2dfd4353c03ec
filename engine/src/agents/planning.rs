//! The planning agent: the trip's skeleton — which cities, in which order,
//! how many nights in each — ranked by what the legs would cost, keeping
//! only routes whose every leg can be travelled (the sandbox's flights cover
//! few routes and dates, so routes are planned around what exists).

use std::collections::HashMap;

use chrono::NaiveDate;
use wayfare_domain::catalog::GroundMode;
use wayfare_domain::intent::Destination;

use super::location::CityFacts;
use super::{Agent, AgentError, Candidate, LegKey, Skeleton, TripSpec, units};
use crate::catalog::Catalog;

/// At most this many skeletons go on to the other agents.
pub const MAX_SKELETONS: usize = 120;

#[derive(Debug, Default, Clone, Copy)]
pub struct PlanningAgent;

/// Cheapest estimated leg cost per transport family: flights and taxis may
/// mix; self-driving goes alone.
#[derive(Debug, Clone, Copy, Default)]
struct LegEstimate {
    mixed: Option<f64>,
    driving: Option<f64>,
}

impl PlanningAgent {
    fn estimate(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        from: &str,
        to: &str,
        date: NaiveDate,
    ) -> LegEstimate {
        let c = &trip.constraints;
        let mut mixed: Option<f64> = None;
        if !c.forbids_flights() {
            mixed = catalog
                .flights(from, to, date)
                .iter()
                .map(|f| f.price * f64::from(trip.people))
                .min_by(f64::total_cmp);
        }
        let mut driving = None;
        if let Some(route) = catalog.ground_route(from, to) {
            let taxi = GroundMode::Taxi.cost_per_vehicle(route.distance_km)
                * f64::from(units(trip.people, GroundMode::Taxi.persons_per_vehicle()));
            mixed = Some(mixed.map_or(taxi, |m| m.min(taxi)));
            if !c.forbids_self_driving() {
                driving = Some(
                    GroundMode::SelfDriving.cost_per_vehicle(route.distance_km)
                        * f64::from(units(
                            trip.people,
                            GroundMode::SelfDriving.persons_per_vehicle(),
                        )),
                );
            }
        }
        LegEstimate { mixed, driving }
    }

    /// Cheapest night (all units) at a stay meeting the constraints, or `None`.
    fn cheapest_night(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        city: &str,
        nights: u32,
    ) -> Option<f64> {
        let c = &trip.constraints;
        catalog
            .stays_in(city)
            .iter()
            .filter(|s| s.minimum_nights <= nights)
            .filter(|s| !c.house_rules.iter().any(|r| s.forbids.contains(r)))
            .filter(|s| c.room_type.is_none_or(|r| r.accepts(s.room_type)))
            .map(|s| s.price * f64::from(units(trip.people, s.maximum_occupancy)))
            .min_by(f64::total_cmp)
    }
}

/// What a stay must be, in words: "a shared room allowing pets, bookable for 2 night(s)".
pub fn stay_requirements(trip: &TripSpec, nights: u32) -> String {
    let c = &trip.constraints;
    let room = c
        .room_type
        .map_or("a stay".to_string(), |r| format!("a {}", r.label()));
    let rules: Vec<&str> = c.house_rules.iter().map(|r| r.label()).collect();
    let allowing = if rules.is_empty() {
        String::new()
    } else {
        format!(" allowing {}", rules.join(", "))
    };
    format!("{room}{allowing} bookable for {nights} night(s)")
}

/// Why a trip has no skeleton, for the explanation.
fn describe_missing_legs(missing: &[LegKey]) -> String {
    let mut parts: Vec<String> = missing
        .iter()
        .take(3)
        .map(|l| {
            format!(
                "no flight or drivable route from {} to {} on {}",
                l.from, l.to, l.date
            )
        })
        .collect();
    if missing.len() > 3 {
        parts.push(format!("and {} more such legs", missing.len() - 3));
    }
    parts.join("; ")
}

impl Agent for PlanningAgent {
    type Input = HashMap<String, CityFacts>;
    type Output = Vec<Candidate<Skeleton>>;

    fn name(&self) -> &'static str {
        "planning"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        facts: &Self::Input,
    ) -> Result<Self::Output, AgentError> {
        let k = trip.destination.city_count().max(1) as usize;
        let days = trip.days();
        if days < 2 || (days as usize) < k + 1 {
            return Err(AgentError::NoCandidates(format!(
                "a {days}-day trip cannot visit {k} cities with a night in each"
            )));
        }
        let shape = Skeleton::even(vec![String::new(); k], days);
        let arrivals = shape.arrival_days();
        // Cities that can host their part of the trip.
        let mut rejected: Vec<String> = Vec::new();
        let mut usable: Vec<(String, f64)> = Vec::new();
        let mut names: Vec<&String> = facts.keys().collect();
        names.sort();
        let max_nights = shape.nights.iter().copied().max().unwrap_or(1);
        let min_nights = shape.nights.iter().copied().min().unwrap_or(1);
        for name in names {
            let f = &facts[name];
            let full_days = max_nights.saturating_sub(1) as usize;
            if f.attractions < full_days.max(1) || f.restaurants < 3 * full_days {
                rejected.push(format!("{name} has too few attractions or restaurants"));
                continue;
            }
            match self.cheapest_night(trip, catalog, name, min_nights.max(1)) {
                Some(night) => usable.push((name.clone(), night)),
                None => rejected.push(format!(
                    "no stay in {name} is {}",
                    stay_requirements(trip, min_nights)
                )),
            }
        }
        if usable.len() < k {
            let why = if rejected.is_empty() {
                format!("{} has fewer than {k} cities", trip.destination.name())
            } else {
                rejected.join("; ")
            };
            return Err(AgentError::NoCandidates(match &trip.destination {
                Destination::City { .. } => why,
                Destination::State { name, .. } => {
                    format!("not enough cities to visit in {name}: {why}")
                }
            }));
        }
        let mut cache: HashMap<(usize, usize, usize), LegEstimate> = HashMap::new();
        // Index usable.len() stands for the origin.
        let origin_ix = usable.len();
        let name_of = |i: usize| {
            if i == origin_ix {
                trip.origin.as_str()
            } else {
                usable[i].0.as_str()
            }
        };
        let mut estimate = |from: usize, to: usize, day: usize| -> LegEstimate {
            *cache.entry((from, to, day)).or_insert_with(|| {
                self.estimate(trip, catalog, name_of(from), name_of(to), trip.dates[day])
            })
        };
        let last_day = trip.dates.len() - 1;
        let mut found: Vec<(f64, f64, f64, Vec<usize>)> = Vec::new();
        let mut missing: Vec<LegKey> = Vec::new();
        let mut perm: Vec<usize> = Vec::with_capacity(k);
        let mut stack: Vec<usize> = vec![0];
        // Depth-first over ordered selections of k distinct usable cities.
        while let Some(next) = stack.pop() {
            if next >= usable.len() {
                perm.pop();
                continue;
            }
            stack.push(next + 1);
            if perm.contains(&next) {
                continue;
            }
            perm.push(next);
            if perm.len() < k {
                stack.push(0);
                continue;
            }
            let mut legs = Vec::with_capacity(k + 1);
            let mut from = origin_ix;
            for (i, &city) in perm.iter().enumerate() {
                legs.push((from, city, arrivals[i]));
                from = city;
            }
            legs.push((from, origin_ix, last_day));
            let (mut mixed, mut driving) = (Some(0.0), Some(0.0));
            for &(f, t, d) in &legs {
                let e = estimate(f, t, d);
                mixed = mixed.zip(e.mixed).map(|(a, b)| a + b);
                driving = driving.zip(e.driving).map(|(a, b)| a + b);
                if e.mixed.is_none() && e.driving.is_none() && missing.len() < 50 {
                    missing.push(LegKey {
                        from: name_of(f).to_string(),
                        to: name_of(t).to_string(),
                        date: trip.dates[d],
                        day_index: d,
                    });
                }
            }
            let transport = match (mixed, driving) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(transport) = transport {
                let stays: f64 = perm
                    .iter()
                    .zip(&shape.nights)
                    .map(|(&c, &n)| usable[c].1 * f64::from(n))
                    .sum();
                // Records are built only for the routes kept (below).
                found.push((transport + stays, transport, stays, perm.clone()));
            }
            perm.pop();
        }
        if found.is_empty() {
            missing.sort();
            missing.dedup();
            let ruled_out = trip.constraints.forbids_flights()
                && missing
                    .iter()
                    .any(|l| !catalog.flights(&l.from, &l.to, l.date).is_empty());
            let hint = if ruled_out {
                " (there are flights, but the request rules them out: allowing flights would make the trip possible)"
            } else {
                " (try other dates or another destination)"
            };
            return Err(AgentError::NoCandidates(match &trip.destination {
                Destination::City { .. } => format!("{}{hint}", describe_missing_legs(&missing)),
                Destination::State { name, .. } => format!(
                    "no route through {k} cities of {name} can be travelled: {}{hint}",
                    describe_missing_legs(&missing)
                ),
            }));
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        found.truncate(MAX_SKELETONS);
        Ok(found
            .into_iter()
            .map(|(cost, transport, stays, perm)| {
                let cities: Vec<String> = perm.iter().map(|&c| usable[c].0.clone()).collect();
                Candidate {
                    reason: format!(
                        "{} — legs from about ${transport:.0}, stays from about ${stays:.0}",
                        cities.join(" → ")
                    ),
                    item: Skeleton {
                        cities,
                        nights: shape.nights.clone(),
                    },
                    cost,
                }
            })
            .collect())
    }
}
