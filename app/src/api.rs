//! Server functions: the browser's calls into the server. They live under
//! `/sfn/…` so that `/api/…` stays free for the public REST API.

use leptos::prelude::*;
use wayfare_domain::request::TripRequestRecord;

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
