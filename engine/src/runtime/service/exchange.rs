//! The agent-to-agent exchange over the hub: the activity task asks a
//! location instance (capability `route_optimization`) to order each of
//! its cities' attractions into a short route — a `data_request` with a
//! deadline, answered by a `result_share` — and falls back to ordering
//! them itself when no location instance runs here, its mailbox is busy
//! with other work, or it does not answer in time (logged, and counted:
//! `wayfare_route_requests_total{outcome}`).
//! The in-process planner calls the routing function directly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::super::RuntimeStore;
use super::super::traffic::{CityStops, RouteAsker, Traffic};
use super::Runtime;
use crate::agents::activity::Routes;
use crate::agents::location::order_route;
use crate::hub::{Mailbox, Message, MessageType};
use crate::state::{AgentType, Priority};

/// Who asks: the activity agent (the task's instance is not known to the
/// attempt; its type is).
const ASKER: &str = "activity";

/// How the route requests went.
#[derive(Debug, Default)]
pub(super) struct RouteCounts {
    answered: AtomicU64,
    fallback: AtomicU64,
}

/// Route requests so far: answered by a location instance, and ordered
/// locally instead (no location instance, no answer in time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteExchanges {
    pub answered: u64,
    pub fallback: u64,
}

impl<S: RuntimeStore> Runtime<S> {
    /// Route requests so far.
    pub fn route_exchanges(&self) -> RouteExchanges {
        RouteExchanges {
            answered: self.routes.answered.load(Ordering::Relaxed),
            fallback: self.routes.fallback.load(Ordering::Relaxed),
        }
    }

    /// What the execution part calls to ask for routes.
    pub(super) fn route_asker(&self) -> RouteAsker {
        let me = self.me.clone();
        Arc::new(move |cities| {
            let me = me.clone();
            Box::pin(async move { me.upgrade()?.ask_routes(cities).await })
        })
    }

    /// Asks a location instance for the routes of `cities`; `None` (order
    /// them locally) when there is none or it does not answer within
    /// `ping_deadline_ms`.
    async fn ask_routes(&self, cities: Vec<CityStops>) -> Option<Routes> {
        if cities.iter().all(|c| c.stops.len() < 2) {
            return None; // nothing to order
        }
        let fallback = |why: &str| {
            self.routes.fallback.fetch_add(1, Ordering::Relaxed);
            tracing::info!(reason = why, "activity routes ordered locally");
            None
        };
        let (best, _) = self.registry.best(AgentType::Location, Priority::P1, &[]);
        let Some((instance, _)) = best else {
            return fallback("no location instance runs here");
        };
        if !room_for_a_request(self.hub().mailbox_fill(&instance)) {
            return fallback("the location instance's mailbox is busy");
        }
        let names: Vec<String> = cities.iter().map(|c| c.city.clone()).collect();
        let request = Message::new(
            ASKER,
            instance,
            MessageType::DataRequest,
            Traffic::RouteRequest { cities },
            self.clock.now(),
        );
        let deadline = Duration::from_millis(self.config.orchestrator.ping_deadline_ms.max(1));
        match self.hub().request_within(request, deadline).await {
            Ok(answer) => match answer.payload {
                Traffic::Routes { orders } if orders.len() == names.len() => {
                    self.routes.answered.fetch_add(1, Ordering::Relaxed);
                    Some(names.into_iter().zip(orders).collect())
                }
                _ => fallback("the location agent's answer does not fit the request"),
            },
            Err(e) => fallback(&e.to_string()),
        }
    }
}

/// Whether a route request may go to a mailbox holding `fill` (messages,
/// bound). The request shares the instance's mailbox with its task
/// hand-overs and health checks, which must find room: a refused hand-over
/// is written as a failed attempt, a refused health check can take the
/// instance offline. Under load the instance's loop falls behind, and the
/// activity tasks of a hundred trips asked faster than it answered (seen:
/// a hundred hand-overs refused in 20 s at 100 clients). So a request goes
/// only to a mailbox less than half full; past that, the routes are
/// ordered here, by the same function.
fn room_for_a_request(fill: Option<(usize, usize)>) -> bool {
    fill.is_some_and(|(held, bound)| held * 2 < bound)
}

/// A location instance answers a route request (its `route_optimization`
/// capability).
pub(super) async fn answer_route<S: RuntimeStore>(
    mailbox: &Mailbox<S, Traffic>,
    request: &Message<Traffic>,
    cities: &[CityStops],
) {
    let orders = cities.iter().map(|c| order_route(&c.stops)).collect();
    if let Err(e) = mailbox.respond(request, Traffic::Routes { orders }).await {
        tracing::debug!(agent.id = mailbox.agent_id(), error = %e, "a route answer was not delivered");
    }
}

#[cfg(test)]
mod tests {
    use super::room_for_a_request;

    #[test]
    fn a_route_request_goes_only_to_a_mailbox_less_than_half_full() {
        assert!(room_for_a_request(Some((0, 8))));
        assert!(room_for_a_request(Some((3, 8))));
        assert!(!room_for_a_request(Some((4, 8))));
        assert!(!room_for_a_request(Some((8, 8))));
        // A bound of one: only an empty mailbox.
        assert!(room_for_a_request(Some((0, 1))));
        assert!(!room_for_a_request(Some((1, 1))));
        // No mailbox: the instance is gone.
        assert!(!room_for_a_request(None));
    }
}
