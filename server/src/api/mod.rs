//! The public REST and WebSocket API over the orchestration runtime:
//! `/api/trips/…` ([`trips`]), the event stream ([`ws`]) and the agent
//! registry ([`agents`]). Every error is an [`ApiError`]: JSON
//! `{"error", "message"}` with its status code.

pub mod agents;
pub mod error;
pub mod trips;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post, put};

pub use self::error::{ApiError, ApiJson, ApiResult};
use crate::web::AppState;

/// The largest request body the API reads (a query is a paragraph, a
/// modification a handful of changes); beyond it: 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The API's routes, to merge into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/trips/plan", post(trips::plan))
        .route("/api/trips/{id}", get(trips::trip))
        .route("/api/trips/{id}/status", get(trips::status))
        .route("/api/trips/{id}/modify", put(trips::modify))
        .route("/api/trips/{id}/cancel", delete(trips::cancel))
        .route("/api/trips/{id}/events", get(ws::events))
        .route(
            "/api/trips/{id}/alternatives/{component_id}",
            get(trips::alternatives),
        )
        .route("/api/agents", get(agents::list))
        .route("/api", any(no_such_endpoint))
        .route("/api/{*rest}", any(no_such_endpoint))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Unknown paths under `/api` answer in JSON, not with the app's HTML page.
async fn no_such_endpoint() -> ApiError {
    ApiError::NoSuchEndpoint
}
