//! Server functions: the browser's calls into the orchestration runtime
//! (the same `Runtime` the REST API and `wayfare serve` use: one planning
//! path). They live under `/sfn/…` so that `/api/…` stays the public REST
//! API.
//!
//! Who may do what: a trip is read by its unguessable id (a link can be
//! shared); changing, cancelling, deleting and rating it needs the browser
//! session that made it ([`crate::session`]). A trip made over the REST API
//! has no owner and is open, like the API itself.

pub mod dashboard;
mod intervene;
#[cfg(feature = "ssr")]
mod server;
#[cfg(feature = "ssr")]
pub mod timeline;

use leptos::prelude::*;
use leptos::server_fn::codec::{Json, StreamingText, TextStream};
use serde::{Deserialize, Serialize};
use wayfare_domain::trip::{Alternative, Change};

use crate::error::AppError;
use crate::model::{AgentsReport, TripDetails, TripSummary};

pub use intervene::intervene_trip;

/// The optional structured fields of the plan form, as typed (empty means
/// "not given"). They win over what the text says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanFields {
    pub origin: Option<String>,
    pub destination: Option<String>,
    pub start_date: Option<String>,
    pub days: Option<String>,
    pub travellers: Option<String>,
    pub budget: Option<String>,
    pub room: Option<String>,
    pub house_rule: Option<String>,
    pub cuisines: Option<String>,
    pub transport: Option<String>,
    /// How to spend: `budget`, `moderate`, `comfort` or `luxury`.
    #[serde(default)]
    pub style: Option<String>,
    /// `relaxed`, `balanced` or `packed`.
    #[serde(default)]
    pub pace: Option<String>,
    /// How many of the travellers are children.
    #[serde(default)]
    pub children: Option<String>,
    /// Words, comma-separated: "museums, parks, food".
    #[serde(default)]
    pub interests: Option<String>,
}

/// Creates a trip from the request text and the form's fields, and goes to
/// its page at once (the agents plan it in the background). Without
/// JavaScript the form posts here and the answer is a redirect.
#[server(prefix = "/sfn", endpoint = "plan_trip")]
pub async fn plan_trip(query: String, fields: Option<PlanFields>) -> Result<String, AppError> {
    server::plan_trip(query, fields.unwrap_or_default())
        .await
        .map_err(AppError::respond)
}

/// Answers the questions of a trip that needs input (the same fields as
/// the plan form); the same trip is then planned, or asks again.
#[server(prefix = "/sfn", endpoint = "answer_trip", input = Json)]
pub async fn answer_trip(
    id: String,
    version: u64,
    fields: PlanFields,
) -> Result<TripDetails, AppError> {
    server::answer_trip(&id, version, fields)
        .await
        .map_err(AppError::respond)
}

/// The whole trip as its page shows it.
#[server(prefix = "/sfn", endpoint = "trip_page")]
pub async fn trip_page(id: String) -> Result<TripDetails, AppError> {
    server::trip_page(&id).await.map_err(AppError::respond)
}

/// The trip's timeline after `after` (an event-log `seq`): the past events,
/// then the live ones as they happen, one JSON [`crate::model::TimelineEntry`]
/// per line. The stream ends when planning ends (or after a few minutes:
/// the page reconnects from the last `seq` it saw).
#[server(prefix = "/sfn", endpoint = "trip_events", output = StreamingText)]
pub async fn trip_events(id: String, after: u64) -> Result<TextStream<AppError>, AppError> {
    server::trip_events(&id, after)
        .await
        .map_err(AppError::respond)
}

/// Ranked alternatives for one component of a ready plan.
#[server(prefix = "/sfn", endpoint = "alternatives", input = Json)]
pub async fn alternatives(id: String, component: String) -> Result<Vec<Alternative>, AppError> {
    server::alternatives(&id, &component)
        .await
        .map_err(AppError::respond)
}

/// Applies `change` to the trip as it was at `version` and answers the trip
/// as it is now. A trip changed meanwhile (another tab) is a conflict.
#[server(prefix = "/sfn", endpoint = "change_trip", input = Json)]
pub async fn change_trip(
    id: String,
    version: u64,
    change: Change,
) -> Result<TripDetails, AppError> {
    server::change_trip(&id, version, change)
        .await
        .map_err(AppError::respond)
}

/// What `change` would re-plan, without changing anything: the components
/// edited in place ("d1.leg1", "d1.dinner"), then the agents that would run
/// again ("budget", "verifier").
#[server(prefix = "/sfn", endpoint = "preview_change", input = Json)]
pub async fn preview_change(id: String, change: Change) -> Result<Vec<String>, AppError> {
    server::preview_change(&id, change)
        .await
        .map_err(AppError::respond)
}

/// Stops planning the trip.
#[server(prefix = "/sfn", endpoint = "cancel_trip", input = Json)]
pub async fn cancel_trip(id: String) -> Result<(), AppError> {
    server::cancel_trip(&id).await.map_err(AppError::respond)
}

/// Deletes the trip and everything recorded about it.
#[server(prefix = "/sfn", endpoint = "delete_trip", input = Json)]
pub async fn delete_trip(id: String) -> Result<(), AppError> {
    server::delete_trip(&id).await.map_err(AppError::respond)
}

/// Rates the plan (1–5 stars, an optional note).
#[server(prefix = "/sfn", endpoint = "rate_trip", input = Json)]
pub async fn rate_trip(id: String, stars: u8, note: Option<String>) -> Result<(), AppError> {
    server::rate_trip(&id, stars, note)
        .await
        .map_err(AppError::respond)
}

/// The trips this browser made, newest first.
#[server(prefix = "/sfn", endpoint = "my_trips")]
pub async fn my_trips() -> Result<Vec<TripSummary>, AppError> {
    server::my_trips().await.map_err(AppError::respond)
}

/// The agent registry and the queue.
#[server(prefix = "/sfn", endpoint = "agents_overview")]
pub async fn agents_overview() -> Result<AgentsReport, AppError> {
    server::agents_overview().await.map_err(AppError::respond)
}
