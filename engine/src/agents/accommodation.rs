//! The accommodation agent: stays per city that meet the minimum nights,
//! the house rules to allow and the room type, priced for the whole party.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use wayfare_domain::catalog::Stay;

use super::{Agent, AgentError, Candidate, TripSpec, units};
use crate::catalog::Catalog;

/// A stay booked for a number of nights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StayOption {
    pub stay: Stay,
    pub nights: u32,
    pub units: u32,
}

/// Candidates per `(city, nights)`, cheapest first.
pub type StayOptions = HashMap<(String, u32), Vec<Candidate<StayOption>>>;

#[derive(Debug, Default, Clone, Copy)]
pub struct AccommodationAgent;

impl AccommodationAgent {
    pub fn options(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        city: &str,
        nights: u32,
    ) -> Vec<Candidate<StayOption>> {
        let c = &trip.constraints;
        let mut out: Vec<Candidate<StayOption>> = catalog
            .stays_in(city)
            .iter()
            .filter(|s| s.minimum_nights <= nights)
            .filter(|s| !c.house_rules.iter().any(|r| s.forbids.contains(r)))
            .filter(|s| c.room_type.is_none_or(|r| r.accepts(s.room_type)))
            .map(|s| {
                let n_units = units(trip.people, s.maximum_occupancy);
                Candidate {
                    cost: s.price * f64::from(n_units) * f64::from(nights),
                    reason: format!(
                        "{} rated {}, {n_units} unit(s) at ${}/night",
                        s.room_type.label(),
                        s.rating,
                        s.price
                    ),
                    item: StayOption {
                        stay: s.clone(),
                        nights,
                        units: n_units,
                    },
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.cost
                .total_cmp(&b.cost)
                .then(b.item.stay.rating.total_cmp(&a.item.stay.rating))
        });
        out
    }
}

impl Agent for AccommodationAgent {
    type Input = Vec<(String, u32)>;
    type Output = StayOptions;

    fn name(&self) -> &'static str {
        "accommodation"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        wanted: &Vec<(String, u32)>,
    ) -> Result<StayOptions, AgentError> {
        Ok(wanted
            .iter()
            .map(|(city, nights)| {
                (
                    (city.clone(), *nights),
                    self.options(trip, catalog, city, *nights),
                )
            })
            .filter(|(_, options)| !options.is_empty())
            .collect())
    }
}
