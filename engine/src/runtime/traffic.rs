//! What the runtime's message hub carries ([`Traffic`]), and the typed
//! reader of trip events on its topics ([`EventStream`]).
//!
//! The runtime's [`Hub`](crate::hub::Hub) is `Hub<S, Traffic>`: one payload
//! enum for every kind of production message, so that inside the process a
//! message is moved (a topic message shared through an `Arc`), never
//! encoded — a trip event is not turned into JSON once per topic, a task
//! not once per hand-over. JSON is written only where it leaves the
//! process: a durable message's row in the hub store (`kind`-tagged, the
//! payload of the design document's JSON message) and the WebSocket frame.
//!
//! | message | type | route | from → to |
//! | --- | --- | --- | --- |
//! | [`Traffic::TripEvent`] | `status_update` | topics `trip.<id>` and [`EVENTS_TOPIC`] | orchestrator → WebSocket, timeline, ops tracker |
//! | [`Traffic::Tasks`] | `task_request` | direct | dispatcher → an instance's mailbox |
//! | [`Traffic::Ping`] / [`Traffic::Pong`] | `health_check` / `result_share` | direct, request/response | registry → instance → registry |
//! | [`Traffic::RouteRequest`] / [`Traffic::Routes`] | `data_request` / `result_share` | direct, request/response | activity task → a location instance (`route_optimization`) → activity task |
//! | [`Traffic::InstanceStatus`] | `status_update`, durable | queue [`REGISTRY_QUEUE`] | an instance → the registry |

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use wayfare_domain::trip::WireEvent;

use crate::agents::activity::Routes;
use crate::hub::Published;
use crate::state::{ClaimedTask, TripId};

/// The global planning-events topic of the hub.
pub const EVENTS_TOPIC: &str = "trips";

/// The queue of the instances' status reports to the registry.
pub const REGISTRY_QUEUE: &str = "registry";

/// The sender named on messages from the runtime itself.
pub const ORCHESTRATOR: &str = "orchestrator";

/// The topic of one trip's planning events.
pub fn trip_topic(trip: TripId) -> String {
    format!("trip.{trip}")
}

/// A message's payload on the runtime's hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Traffic {
    /// A trip's planning event, as the WebSocket sends it.
    TripEvent {
        event: WireEvent,
    },
    /// Claimed tasks for an instance to run (P3 tasks travel together).
    Tasks {
        tasks: Vec<ClaimedTask>,
    },
    /// A health check: answer with [`Traffic::Pong`].
    Ping,
    Pong,
    /// The activity agent asks the location agent to order each city's
    /// attractions (latitude, longitude) into a short route.
    RouteRequest {
        cities: Vec<CityStops>,
    },
    /// The answer: per city of the request, in its order, the order of
    /// its stops.
    Routes {
        orders: Vec<Vec<usize>>,
    },
    /// An instance tells the registry its status (`online` when it
    /// starts); `process` is the node id of the process it runs in.
    InstanceStatus {
        agent_id: String,
        agent_type: String,
        status: String,
        process: String,
    },
}

/// One city's stops to order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityStops {
    pub city: String,
    pub stops: Vec<(f64, f64)>,
}

/// Asks the location agent for the routes of the activity task's cities
/// (each with its stops); `None`: ask nobody, order them locally.
pub(super) type RouteAsker = Arc<
    dyn Fn(Vec<CityStops>) -> Pin<Box<dyn Future<Output = Option<Routes>> + Send>> + Send + Sync,
>;

/// A subscription to trip events on a hub topic: a trip's own
/// (`trip.<id>`) or every trip's ([`EVENTS_TOPIC`]). Reads like the
/// broadcast receiver it wraps; a lagging reader is told how many it
/// missed (and catches up from the log).
#[derive(Debug)]
pub struct EventStream {
    rx: broadcast::Receiver<Published<Traffic>>,
}

impl EventStream {
    pub(super) fn new(rx: broadcast::Receiver<Published<Traffic>>) -> Self {
        Self { rx }
    }

    /// The next event (other traffic on the topic is passed over).
    pub async fn recv(&mut self) -> Result<WireEvent, RecvError> {
        loop {
            if let Traffic::TripEvent { event } = &self.rx.recv().await?.payload {
                return Ok(event.clone());
            }
        }
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Result<WireEvent, TryRecvError> {
        loop {
            if let Traffic::TripEvent { event } = &self.rx.try_recv()?.payload {
                return Ok(event.clone());
            }
        }
    }
}
