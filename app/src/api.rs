//! Server functions: the browser's calls into the server. They live under
//! `/sfn/…` so that `/api/…` stays free for the public REST API.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::request::TripRequestRecord;
use wayfare_domain::verdict::Verdict;

use crate::error::AppError;

/// Stores a trip request exactly as typed and returns its id.
#[server(prefix = "/sfn", endpoint = "submit_request")]
pub async fn submit_request(query: String) -> Result<String, AppError> {
    submit(query).await.map_err(AppError::respond)
}

#[cfg(feature = "ssr")]
async fn submit(query: String) -> Result<String, AppError> {
    use wayfare_domain::request::QueryText;
    let query = QueryText::parse(&query).map_err(|e| AppError::Invalid(e.to_string()))?;
    let store = use_context::<wayfare_store::Store>().ok_or_else(|| {
        tracing::error!("no Store in the server function context");
        AppError::Internal
    })?;
    let record = store.insert_trip_request(&query).await?;
    tracing::info!(request.id = %record.id, "trip request stored");
    Ok(record.id)
}

/// Reads a stored trip request back.
#[server(prefix = "/sfn", endpoint = "get_request")]
pub async fn get_request(id: String) -> Result<TripRequestRecord, AppError> {
    read(id).await.map_err(AppError::respond)
}

#[cfg(feature = "ssr")]
async fn read(id: String) -> Result<TripRequestRecord, AppError> {
    let store = use_context::<wayfare_store::Store>().ok_or_else(|| {
        tracing::error!("no Store in the server function context");
        AppError::Internal
    })?;
    store.trip_request(&id).await?.ok_or(AppError::NotFound)
}

/// A stored request and the plan made for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedTrip {
    pub request: TripRequestRecord,
    pub intent: TripIntent,
    /// The plan, when one meets every check.
    pub itinerary: Option<Itinerary>,
    /// The verifier's verdict on the plan (or on the best rejected one).
    pub verdict: Verdict,
    /// A one-line summary, or why there is no plan and what would fix it.
    pub explanation: String,
    pub elapsed_ms: u64,
}

/// Plans the stored request `id` with the orchestrator and returns the
/// verified plan (or the reason there is none).
#[server(prefix = "/sfn", endpoint = "plan_request")]
pub async fn plan_request(id: String) -> Result<PlannedTrip, AppError> {
    plan(id).await.map_err(AppError::respond)
}

#[cfg(feature = "ssr")]
async fn plan(id: String) -> Result<PlannedTrip, AppError> {
    use std::sync::Arc;
    use wayfare_engine::runtime::Runtime;
    use wayfare_store::Store;

    let request = read(id).await?;
    // The runtime's planner follows the catalog when a new one is imported.
    let planner = use_context::<Arc<Runtime<Store>>>()
        .ok_or_else(|| {
            tracing::error!("no Runtime in the server function context");
            AppError::Internal
        })?
        .planner();
    let started = std::time::Instant::now();
    let outcome = planner.plan(&request.query, None).await.map_err(|err| {
        tracing::error!(error = %err, request.id = %request.id, "planning failed");
        AppError::Internal
    })?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(request.id = %request.id, elapsed_ms, delivered = outcome.itinerary.is_some(), "planned");
    Ok(PlannedTrip {
        request,
        intent: outcome.intent,
        itinerary: outcome.itinerary,
        verdict: outcome.verdict,
        explanation: outcome.explanation,
        elapsed_ms,
    })
}
