//! The budget agent: chooses the combination of the other agents'
//! candidates that fits the budget (the assembler's search), best first.

use wayfare_domain::itinerary::Itinerary;

use super::{Agent, AgentError, TripSpec};
use crate::assemble::{Proposals, assemble, locate};
use crate::catalog::Catalog;

#[derive(Debug, Default, Clone, Copy)]
pub struct BudgetAgent;

impl Agent for BudgetAgent {
    type Input = Proposals;
    type Output = Vec<Itinerary>;

    fn name(&self) -> &'static str {
        "budget"
    }

    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        proposals: &Proposals,
    ) -> Result<Vec<Itinerary>, AgentError> {
        let mut plans =
            assemble(trip, proposals).map_err(|e| AgentError::NoCandidates(e.reason))?;
        // Coordinates for the route map: the cities' and the attractions'.
        for plan in &mut plans {
            locate(plan, catalog);
        }
        Ok(plans)
    }
}
