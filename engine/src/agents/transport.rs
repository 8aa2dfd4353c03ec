//! The transport agent: priced options for each leg — flights on the date,
//! self-driving, taxi — within the traveller's restrictions.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use chrono::NaiveTime;
use wayfare_domain::catalog::GroundMode;
use wayfare_domain::itinerary::TravelMode;

use super::{Agent, AgentError, Candidate, LegKey, TripSpec, units};
use crate::catalog::Catalog;
use crate::verify::timing;

/// One way to travel a leg.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegOption {
    pub mode: TravelMode,
    pub number: Option<String>,
    pub departure: NaiveTime,
    pub arrival: Option<NaiveTime>,
    pub duration_text: String,
    pub distance_text: String,
    pub source_id: String,
}

/// Options per leg, cheapest first; a leg with none is absent.
pub type LegOptions = HashMap<LegKey, Vec<Candidate<LegOption>>>;

#[derive(Debug, Default, Clone, Copy)]
pub struct TransportAgent;

impl TransportAgent {
    /// The options for one leg, cheapest first.
    pub fn options(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        leg: &LegKey,
    ) -> Vec<Candidate<LegOption>> {
        let mut out = Vec::new();
        if !trip.constraints.forbids_flights() {
            for f in catalog.flights(&leg.from, &leg.to, leg.date) {
                out.push(Candidate {
                    item: LegOption {
                        mode: TravelMode::Flight,
                        number: Some(f.number.clone()),
                        departure: f.departure,
                        arrival: Some(f.arrival),
                        duration_text: String::new(),
                        distance_text: format!("{} miles", f.distance_miles),
                        source_id: f.source_id.clone(),
                    },
                    cost: f.price * f64::from(trip.people),
                    reason: format!("flight {} at ${} a person", f.number, f.price),
                });
            }
        }
        if let Some(route) = catalog.ground_route(&leg.from, &leg.to) {
            let departure = timing::default_ground_departure();
            let arrival = timing::ground_arrival(departure, route.duration_min);
            for (mode, ground) in [
                (TravelMode::SelfDriving, GroundMode::SelfDriving),
                (TravelMode::Taxi, GroundMode::Taxi),
            ] {
                if mode == TravelMode::SelfDriving && trip.constraints.forbids_self_driving() {
                    continue;
                }
                let vehicles = units(trip.people, ground.persons_per_vehicle());
                let cost = ground.cost_per_vehicle(route.distance_km) * f64::from(vehicles);
                out.push(Candidate {
                    item: LegOption {
                        mode,
                        number: None,
                        departure,
                        arrival,
                        duration_text: route.duration_text.clone(),
                        distance_text: route.distance_text.clone(),
                        source_id: route.source_id.clone(),
                    },
                    cost,
                    reason: format!(
                        "{} {} ({}), {vehicles} vehicle(s)",
                        mode.label().to_lowercase(),
                        route.distance_text,
                        route.duration_text
                    ),
                });
            }
        }
        out.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        out
    }
}

impl Agent for TransportAgent {
    type Input = Vec<LegKey>;
    type Output = LegOptions;

    fn name(&self) -> &'static str {
        "transport"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        legs: &Vec<LegKey>,
    ) -> Result<LegOptions, AgentError> {
        let mut out = HashMap::new();
        for leg in legs {
            if out.contains_key(leg) {
                continue;
            }
            let options = self.options(trip, catalog, leg);
            if !options.is_empty() {
                out.insert(leg.clone(), options);
            }
        }
        Ok(out)
    }
}
