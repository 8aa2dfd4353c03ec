//! The activity agent: a city's attractions ordered into a short route
//! (nearest neighbour from the most central one), to be taken in order.

use std::collections::HashMap;

use wayfare_domain::catalog::Attraction;

use super::location::haversine_km;
use super::{Agent, AgentError, TripSpec};
use crate::catalog::Catalog;

/// Attractions per city in visiting order.
pub type ActivityOptions = HashMap<String, Vec<Attraction>>;

#[derive(Debug, Default, Clone, Copy)]
pub struct ActivityAgent;

impl ActivityAgent {
    /// The route for a trip: attractions matching its interests first (each
    /// group in route order), then the rest. An interest stands for the
    /// words in attraction names that the utility lists for it (nature:
    /// park, garden, trail…; see `assemble::utility`); another wish word
    /// for itself. Children in the party count as an interest in family
    /// outings.
    pub fn route_for(&self, trip: &TripSpec, catalog: &dyn Catalog, city: &str) -> Vec<Attraction> {
        let route = self.route(catalog, city);
        if trip.preferences.is_empty() && trip.interests.is_empty() && trip.children == 0 {
            return route;
        }
        let ctx = crate::assemble::utility::Context::new(trip);
        let (mut first, rest): (Vec<Attraction>, Vec<Attraction>) = route
            .into_iter()
            .partition(|a| ctx.interest_of(a).is_some());
        first.extend(rest);
        first
    }

    /// A city's attractions, one per name, in catalog order.
    pub fn listed(&self, catalog: &dyn Catalog, city: &str) -> Vec<Attraction> {
        let mut seen = std::collections::HashSet::new();
        catalog
            .attractions_in(city)
            .iter()
            .filter(|a| seen.insert(a.name.clone()))
            .cloned()
            .collect()
    }

    /// All of a city's attractions (one per name) in nearest-neighbour order.
    pub fn route(&self, catalog: &dyn Catalog, city: &str) -> Vec<Attraction> {
        let mut left = self.listed(catalog, city);
        if left.is_empty() {
            return left;
        }
        let n = left.len() as f64;
        let (clat, clon) = (
            left.iter().map(|a| a.lat).sum::<f64>() / n,
            left.iter().map(|a| a.lon).sum::<f64>() / n,
        );
        let dist = |a: &Attraction, lat: f64, lon: f64| haversine_km(a.lat, a.lon, lat, lon);
        let mut order = Vec::with_capacity(left.len());
        let mut at = (clat, clon);
        while !left.is_empty() {
            let (i, _) = left
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| dist(a, at.0, at.1).total_cmp(&dist(b, at.0, at.1)))
                .unwrap_or((0, &left[0]));
            let next = left.swap_remove(i);
            at = (next.lat, next.lon);
            order.push(next);
        }
        order
    }
}

impl Agent for ActivityAgent {
    type Input = Vec<String>;
    type Output = ActivityOptions;

    fn name(&self) -> &'static str {
        "activity"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        cities: &Vec<String>,
    ) -> Result<ActivityOptions, AgentError> {
        Ok(cities
            .iter()
            .map(|c| (c.clone(), self.route_for(trip, catalog, c)))
            .collect())
    }
}
