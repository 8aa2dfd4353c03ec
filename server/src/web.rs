//! The axum application: server-side rendering with hydration, server
//! functions, static files, `/healthz`, the REST/WebSocket API
//! ([`crate::api`]) and `/metrics`. [`router`] builds it without a socket so
//! tests can drive it with `oneshot`; [`serve::serve`] runs it on a socket.
//!
//! Around every route, outermost first: tracing, methods no route serves
//! (405), the security headers, the request timeout (408), the body's
//! timeout, and the per-client write rate limit (429); around pages and
//! `/sfn/…` the anonymous session cookie; around `/sfn/…` also the
//! cross-site check (403) and the body limit (413).

pub mod security;
pub mod serve;
pub mod session;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router, middleware};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use serde::Serialize;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use wayfare_app::{App, shell};
use wayfare_engine::ops::Ops;
use wayfare_engine::runtime::Runtime;
use wayfare_store::Store;

use self::security::{OriginPolicy, RateLimit};
use crate::api;
use crate::config::{HttpSection, SecuritySection};
use crate::metrics::{self, HttpMetrics};

/// The largest body a server function reads (a trip request is at most a
/// few thousand characters); beyond it: 413.
pub const SFN_BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    /// The orchestration runtime behind `/api/trips`.
    pub runtime: Arc<Runtime<Store>>,
    /// Request latencies per route, for `/metrics`.
    pub http_metrics: HttpMetrics,
    /// The last hour of figures and the alerts (`/dashboard`,
    /// `/api/alerts`, `wayfare_alerts_firing`).
    pub ops: Ops,
}

/// Builds the whole application with the default `http:` and `security:`
/// settings.
pub fn router(state: AppState) -> Router {
    router_with(state, &HttpSection::default(), &SecuritySection::default())
}

/// Builds the whole application.
pub fn router_with(state: AppState, http: &HttpSection, security: &SecuritySection) -> Router {
    let routes = generate_route_list(App);
    let (store, runtime, ops) = (
        state.store.clone(),
        state.runtime.clone(),
        state.ops.clone(),
    );
    let origins = Arc::new(OriginPolicy::new(security));
    let headers = security.headers;
    // Only the machine-facing routes are timed: pages and assets would
    // only add label values.
    let timed = api::routes()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::export))
        .layer(middleware::from_fn_with_state(
            state.http_metrics.clone(),
            metrics::http::track,
        ));
    let mut app = Router::new()
        .merge(timed)
        // For a server function the name of which is unknown: Leptos adds
        // a route of its own for each one it knows.
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
                provide_context(ops.clone());
                if headers {
                    security::provide_page_csp();
                }
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || {
                if headers {
                    security::provide_page_csp();
                }
            },
            shell,
        ))
        .layer(middleware::from_fn_with_state(origins.clone(), sfn_guard))
        .layer(Extension(origins))
        .layer(middleware::from_fn(session::session));
    if let Some(limit) = RateLimit::new(&security.rate_limit) {
        app = app.layer(middleware::from_fn_with_state(limit, security::rate_limit));
    }
    app = app
        .layer(RequestBodyTimeoutLayer::new(http.body_timeout.0))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            http.request_timeout.0,
        ));
    if headers {
        app = app.layer(middleware::from_fn(security::headers));
    }
    app.layer(middleware::from_fn(security::known_methods))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (store, runtime, ops) = (
        state.store.clone(),
        state.runtime.clone(),
        state.ops.clone(),
    );
    handle_server_fns_with_context(
        move || {
            provide_context(store.clone());
            provide_context(runtime.clone());
            provide_context(ops.clone());
        },
        request,
    )
    .await
    .into_response()
}

/// Around every `/sfn/…` route (Leptos registers one per server function):
/// refuses a cross-site POST (403), and reads the body here, within
/// [`SFN_BODY_LIMIT`] (413 beyond it), so that the server function's
/// decoding only ever sees a whole body. Both answers are in the server
/// functions' error encoding.
async fn sfn_guard(
    State(origins): State<Arc<OriginPolicy>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/sfn/") {
        return next.run(request).await;
    }
    if request.method() == Method::POST && !origins.allows(request.headers()) {
        tracing::info!(origin = ?request.headers().get(header::ORIGIN), "cross-site server function call refused");
        return security::sfn_error(
            StatusCode::FORBIDDEN,
            "requests from other sites are refused".to_owned(),
        );
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, SFN_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(err) => return body_error(&err),
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A body that could not be read: too large (413), too slow (408), or cut
/// off (400).
fn body_error(err: &axum::Error) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return security::sfn_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request is larger than {} KiB", SFN_BODY_LIMIT / 1024),
            );
        }
        if e.is::<tower_http::timeout::TimeoutError>() {
            return security::sfn_error(
                StatusCode::REQUEST_TIMEOUT,
                "the request's body did not arrive in time".to_owned(),
            );
        }
        source = e.source();
    }
    security::sfn_error(
        StatusCode::BAD_REQUEST,
        "the request's body could not be read".to_owned(),
    )
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
