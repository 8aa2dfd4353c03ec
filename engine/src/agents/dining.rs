//! The dining agent: restaurants per city priced for the party, cheapest
//! first (better rated first at equal price), with their cuisines.

use std::collections::HashMap;

use wayfare_domain::catalog::Restaurant;

use super::{Agent, AgentError, Candidate, TripSpec};
use crate::catalog::Catalog;

/// Candidates per city, cheapest first, one per distinct restaurant name.
pub type MealOptions = HashMap<String, Vec<Candidate<Restaurant>>>;

#[derive(Debug, Default, Clone, Copy)]
pub struct DiningAgent;

impl DiningAgent {
    pub fn options(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        city: &str,
    ) -> Vec<Candidate<Restaurant>> {
        let mut out: Vec<Candidate<Restaurant>> = catalog
            .restaurants_in(city)
            .iter()
            .map(|r| Candidate {
                cost: r.average_cost * f64::from(trip.people),
                reason: format!(
                    "{} (rated {}), ${} a person",
                    r.cuisines.join(", "),
                    r.rating,
                    r.average_cost
                ),
                item: r.clone(),
            })
            .collect();
        out.sort_by(|a, b| {
            a.cost
                .total_cmp(&b.cost)
                .then(b.item.rating.total_cmp(&a.item.rating))
        });
        // A restaurant is one place however many rows name it.
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(c.item.name.clone()));
        out
    }
}

impl Agent for DiningAgent {
    type Input = Vec<String>;
    type Output = MealOptions;

    fn name(&self) -> &'static str {
        "dining"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        cities: &Vec<String>,
    ) -> Result<MealOptions, AgentError> {
        Ok(cities
            .iter()
            .map(|c| (c.clone(), self.options(trip, catalog, c)))
            .collect())
    }
}
