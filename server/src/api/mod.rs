//! The public REST and WebSocket API over the orchestration runtime:
//! `/api/trips/…` ([`trips`]; ratings in [`ratings`], the iCalendar
//! export in [`calendar`]), the event stream
//! ([`ws`]), the agent registry ([`agents`]), the state consistency
//! report ([`consistency`]) and the alerts ([`alerts`]). Every error is an [`ApiError`]: JSON
//! `{"error", "message"}` with its status code.

pub mod agents;
pub mod alerts;
pub mod calendar;
pub mod consistency;
pub mod error;
pub mod openapi;
pub mod ratings;
pub mod responses;
pub mod trips;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, any, delete, get, post, put};

pub use self::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::web::AppState;

/// The largest request body the API reads (a query is a paragraph, a
/// modification a handful of changes); beyond it: 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Every endpoint under `/api`, in one table: [`routes`] is built from it,
/// and `server/tests/openapi.rs` checks that `/api/openapi.json` describes
/// each path and method here. Add an endpoint here, with its
/// `#[utoipa::path]` listed in [`openapi::ApiDoc`].
fn endpoints() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/trips/plan", post(trips::plan)),
        ("/api/trips/{id}", get(trips::trip).delete(trips::delete)),
        ("/api/trips/{id}/status", get(trips::status)),
        ("/api/trips/{id}/modify", put(trips::modify)),
        ("/api/trips/{id}/answer", post(trips::answer)),
        ("/api/trips/{id}/cancel", delete(trips::cancel)),
        ("/api/trips/{id}/interventions", post(trips::intervene)),
        ("/api/trips/{id}/events", get(ws::events)),
        ("/api/trips/{id}/calendar.ics", get(calendar::calendar)),
        (
            "/api/trips/{id}/rating",
            get(ratings::rating).put(ratings::rate),
        ),
        (
            "/api/trips/{id}/alternatives/{component_id}",
            get(trips::alternatives),
        ),
        ("/api/agents", get(agents::list)),
        ("/api/consistency", get(consistency::report)),
        ("/api/alerts", get(alerts::list)),
        ("/api/openapi.json", get(openapi::document)),
    ]
}

/// The paths [`routes`] serves (besides the catch-all for unknown ones).
pub fn served_paths() -> Vec<&'static str> {
    endpoints().into_iter().map(|(path, _)| path).collect()
}

/// The API's routes, to merge into the application router.
pub fn routes() -> Router<AppState> {
    endpoints()
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .route("/api", any(no_such_endpoint))
        .route("/api/{*rest}", any(no_such_endpoint))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Unknown paths under `/api` answer in JSON, not with the app's HTML page.
async fn no_such_endpoint() -> ApiError {
    ApiError::NoSuchEndpoint
}
