//! The tips agent (optional, P3): short notes per city of the trip — what
//! the catalog has there and the best-rated restaurant. It never changes
//! the plan, so the runtime may skip it under load (and says so).

use super::{Agent, AgentError, TripSpec};
use crate::catalog::Catalog;

#[derive(Debug, Default, Clone, Copy)]
pub struct TipsAgent;

impl Agent for TipsAgent {
    /// The cities the trip may visit.
    type Input = Vec<String>;
    type Output = Vec<String>;

    fn name(&self) -> &'static str {
        "tips"
    }

    fn run(
        &self,
        _trip: &TripSpec,
        catalog: &dyn Catalog,
        cities: &Self::Input,
    ) -> Result<Self::Output, AgentError> {
        Ok(cities
            .iter()
            .map(|city| {
                let attractions = catalog.attractions_in(city);
                let best = catalog
                    .restaurants_in(city)
                    .iter()
                    .max_by(|a, b| a.rating.total_cmp(&b.rating));
                let mut note = format!("{city}: {} attractions", attractions.len());
                if let Some(first) = attractions.first() {
                    note.push_str(&format!(", e.g. {}", first.name));
                }
                if let Some(r) = best {
                    note.push_str(&format!("; best-rated table: {} ({})", r.name, r.rating));
                }
                note
            })
            .collect())
    }
}
