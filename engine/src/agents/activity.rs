//! The activity agent: a city's attractions ordered into a short route
//! (nearest neighbour from the most central one), to be taken in order.
//! The route is the location agent's ([`order_route`]): the
//! in-process planner calls it; the durable runtime asks a location
//! instance over the hub and hands the answers in ([`Routes`]).

use std::collections::HashMap;

use wayfare_domain::catalog::Attraction;

use super::location::order_route;
use super::{Agent, AgentError, TripSpec};
use crate::catalog::Catalog;

/// Attractions per city in visiting order.
pub type ActivityOptions = HashMap<String, Vec<Attraction>>;

/// Routes decided elsewhere (the location agent's answers over the hub):
/// per city, the order of its [`ActivityAgent::listed`] attractions.
pub type Routes = HashMap<String, Vec<usize>>;

/// Each listed attraction's position, for [`order_route`].
pub fn stops(listed: &[Attraction]) -> Vec<(f64, f64)> {
    listed.iter().map(|a| (a.lat, a.lon)).collect()
}

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
        self.route_given(trip, catalog, city, None)
    }

    /// [`ActivityAgent::route_for`] with the route's order given (`order`
    /// from the location agent: a permutation of the listed attractions),
    /// or computed here when none is, or it does not fit the list.
    pub fn route_given(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        city: &str,
        order: Option<&[usize]>,
    ) -> Vec<Attraction> {
        let route = match order {
            Some(order) => {
                let listed = self.listed(catalog, city);
                match apply_order(&listed, order) {
                    Some(route) => route,
                    None => {
                        tracing::warn!(
                            city,
                            "a route that does not fit the attractions; ordered here"
                        );
                        self.route(catalog, city)
                    }
                }
            }
            None => self.route(catalog, city),
        };
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

    /// All of a city's attractions (one per name) in nearest-neighbour
    /// order (the location agent's route, called directly).
    pub fn route(&self, catalog: &dyn Catalog, city: &str) -> Vec<Attraction> {
        let listed = self.listed(catalog, city);
        let order = order_route(&stops(&listed));
        apply_order(&listed, &order).unwrap_or(listed)
    }

    /// The agent's run with the routes given where `routes` has them.
    pub fn run_routed(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        cities: &[String],
        routes: Option<&Routes>,
    ) -> ActivityOptions {
        cities
            .iter()
            .map(|c| {
                let order = routes.and_then(|r| r.get(c)).map(Vec::as_slice);
                (c.clone(), self.route_given(trip, catalog, c, order))
            })
            .collect()
    }
}

/// `listed` in `order`, when `order` is a permutation of its indexes.
fn apply_order(listed: &[Attraction], order: &[usize]) -> Option<Vec<Attraction>> {
    if order.len() != listed.len() {
        return None;
    }
    let mut seen = vec![false; listed.len()];
    let mut route = Vec::with_capacity(listed.len());
    for &i in order {
        if std::mem::replace(seen.get_mut(i)?, true) {
            return None;
        }
        route.push(listed[i].clone());
    }
    Some(route)
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
        Ok(self.run_routed(trip, catalog, cities, None))
    }
}
