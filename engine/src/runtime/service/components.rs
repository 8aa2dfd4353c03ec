//! Components of a ready plan: the ranked alternatives for one (a meal,
//! a stay, an attraction, a transport leg) and a dry run of a change
//! (what it would re-plan), both from the agents' candidates over the
//! current catalog, writing nothing.

use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::trip::Change;

use super::super::changes::{component_alternatives, plan_changes};
use super::super::wire::intent_of;
use super::super::{Alternative, ModifyError, RuntimeStore};
use super::Runtime;
use crate::state::{TripState, TripStatus};

impl<S: RuntimeStore> Runtime<S> {
    /// Ranked alternatives for a component of a ready trip, best first, the
    /// current choice among them (marked): a meal ("d2.dinner") from the
    /// dining agent's candidates for its city, cheapest first; a stay
    /// ("stay.Denver") from the accommodation agent's for that city and
    /// number of nights (cost for all nights), cheapest first; an
    /// attraction ("d2.attraction1") from the activity agent's route for its
    /// city, leaving out those already in the plan; a transport leg
    /// ("d1.leg1") from the transport agent's options for that leg,
    /// cheapest first, leaving out the modes the trip's rules forbid (the
    /// request's "no flights", self-driving mixed with flights or taxis).
    pub async fn alternatives(
        &self,
        trip_id: &str,
        component_id: &str,
    ) -> Result<Vec<Alternative>, ModifyError> {
        let state = self.existing(trip_id).await?;
        let itinerary: &Itinerary = state.itinerary.as_deref().ok_or(ModifyError::NotReady)?;
        let intent = intent_of(&state).ok_or(ModifyError::NotReady)?;
        let catalog = self.catalog();
        let found =
            component_alternatives(&state, itinerary, catalog.as_ref(), &intent, component_id)
                .map_err(ModifyError::Invalid)?;
        let (current, current_cost) = (found.current, found.current_cost);
        Ok(found
            .options
            .into_iter()
            .map(|c| {
                let is_current = Some(&c.id) == current.as_ref();
                Alternative {
                    cost_delta: if is_current {
                        0.0
                    } else {
                        c.cost - current_cost
                    },
                    current: is_current,
                    id: c.id,
                    name: c.name,
                    cost: c.cost,
                    reason: c.reason,
                }
            })
            .collect())
    }

    /// A dry run of [`Runtime::modify`]: what `changes` would re-plan on
    /// this trip — the components edited in place (e.g. `"d1.leg1"`, and
    /// `"d1.dinner"` when the new leg's times leave no room for it), then
    /// the agent types that would run again (e.g. `"budget"`,
    /// `"verifier"`) — without writing anything. Refuses what `modify`
    /// would refuse, with the same errors, except that the version is not
    /// checked.
    pub async fn preview(
        &self,
        trip_id: &str,
        changes: Vec<Change>,
    ) -> Result<Vec<String>, ModifyError> {
        let state = self.existing(trip_id).await?;
        if !matches!(state.status, TripStatus::Ready | TripStatus::Failed) {
            return Err(ModifyError::NotReady);
        }
        let intent = intent_of(&state).ok_or(ModifyError::NotReady)?;
        let catalog = self.catalog();
        let plan = plan_changes(&state, &intent, catalog.as_ref(), &changes)
            .map_err(ModifyError::Invalid)?;
        Ok(plan.replanned())
    }

    /// The trip's state (`NotFound` when there is no such trip).
    async fn existing(&self, trip_id: &str) -> Result<TripState, ModifyError> {
        let trip = Self::parse_id(trip_id).ok_or(ModifyError::NotFound)?;
        let state = ModifyError::existing(self.journal.load(trip).await)?;
        Ok(state)
    }
}
