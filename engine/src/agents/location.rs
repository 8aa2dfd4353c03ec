//! The location agent: facts about candidate cities (what the catalog has
//! there), distances between points, and its `route_optimization`
//! capability: stops ordered into a short route ([`order_route`]). The
//! activity agent asks it for its routes — over the message hub in the
//! durable runtime, by a direct call in the in-process planner.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use wayfare_domain::intent::Destination;

use super::{Agent, AgentError, TripSpec};
use crate::catalog::Catalog;

/// What the catalog offers in a city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityFacts {
    pub name: String,
    pub state: String,
    pub stays: usize,
    pub restaurants: usize,
    pub attractions: usize,
}

/// Lists the cities the trip may visit with their facts.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocationAgent;

impl Agent for LocationAgent {
    type Input = ();
    type Output = HashMap<String, CityFacts>;

    fn name(&self) -> &'static str {
        "location"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        _: &(),
    ) -> Result<Self::Output, AgentError> {
        let cities: Vec<String> = match &trip.destination {
            Destination::City { name } => vec![name.clone()],
            Destination::State { name, .. } => catalog
                .cities_in_state(name)
                .into_iter()
                .map(|c| c.name.clone())
                .filter(|c| *c != trip.origin)
                .collect(),
        };
        if cities.is_empty() {
            return Err(AgentError::NoCandidates(format!(
                "the catalog has no city in {}",
                trip.destination.name()
            )));
        }
        Ok(cities
            .into_iter()
            .map(|name| {
                let facts = CityFacts {
                    state: catalog
                        .city(&name)
                        .map(|c| c.state.clone())
                        .unwrap_or_default(),
                    stays: catalog.stays_in(&name).len(),
                    restaurants: catalog.restaurants_in(&name).len(),
                    attractions: catalog.attractions_in(&name).len(),
                    name: name.clone(),
                };
                (name, facts)
            })
            .collect())
    }
}

/// The location agent's capabilities, as the registry lists them.
pub const CAPABILITIES: [&str; 2] = ["location", "route_optimization"];

/// The order to visit `stops` (latitude, longitude) in: nearest neighbour
/// from their centre. Indexes into `stops`, each once.
pub fn order_route(stops: &[(f64, f64)]) -> Vec<usize> {
    if stops.is_empty() {
        return Vec::new();
    }
    let n = stops.len() as f64;
    let centre = (
        stops.iter().map(|s| s.0).sum::<f64>() / n,
        stops.iter().map(|s| s.1).sum::<f64>() / n,
    );
    let mut left: Vec<usize> = (0..stops.len()).collect();
    let dist = |i: usize, at: (f64, f64)| haversine_km(stops[i].0, stops[i].1, at.0, at.1);
    let mut order = Vec::with_capacity(stops.len());
    let mut at = centre;
    while !left.is_empty() {
        let (k, _) = left
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| dist(**a, at).total_cmp(&dist(**b, at)))
            .unwrap_or((0, &left[0]));
        let next = left.swap_remove(k);
        at = stops[next];
        order.push(next);
    }
    order
}

/// Great-circle distance in km.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}
