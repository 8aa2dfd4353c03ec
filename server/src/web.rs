//! The axum application: server-side rendering with hydration, server
//! functions, static files, `/healthz`, the REST/WebSocket API
//! ([`crate::api`]) and `/metrics`. [`router`] builds it without a socket so
//! tests can drive it with `oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use serde::Serialize;
use wayfare_app::{App, shell};
use wayfare_engine::runtime::Runtime;
use wayfare_store::Store;

use crate::api;
use crate::metrics::{self, HttpMetrics};

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    /// The orchestration runtime behind `/api/trips`.
    pub runtime: Arc<Runtime<Store>>,
    /// Request latencies per route, for `/metrics`.
    pub http_metrics: HttpMetrics,
}

/// Builds the whole application.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let (store, runtime) = (state.store.clone(), state.runtime.clone());
    // Only the machine-facing routes are timed: pages and assets would
    // only add label values.
    let timed = api::routes()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::export))
        .layer(middleware::from_fn_with_state(
            state.http_metrics.clone(),
            metrics::http::track,
        ));
    Router::new()
        .merge(timed)
        .route(
            "/sfn/{*fn_name}",
            get(server_fn_handler).post(server_fn_handler),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(store.clone());
                provide_context(runtime.clone());
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn server_fn_handler(
    State(state): State<AppState>,
    request: Request<Body>,
) -> impl IntoResponse {
    let (store, runtime) = (state.store.clone(), state.runtime.clone());
    handle_server_fns_with_context(
        move || {
            provide_context(store.clone());
            provide_context(runtime.clone());
        },
        request,
    )
    .await
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    version: &'static str,
}

/// Liveness and readiness: 200 when the database answers, 503 otherwise.
async fn healthz(State(store): State<Store>) -> Response {
    let database = match store.ping().await {
        Ok(()) => "ok",
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            "unreachable"
        }
    };
    let status = if database == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if database == "ok" { "ok" } else { "degraded" },
        database,
        version: env!("CARGO_PKG_VERSION"),
    };
    (status, axum::Json(body)).into_response()
}
