//! `GET /metrics`: the OpenMetrics text exposition, encoded by
//! `prometheus-client` from a non-global [`Registry`] built per scrape.
//!
//! - The HTTP latency histogram ([`http`]) is a real `prometheus-client`
//!   `Family` of `Histogram`s that the middleware observes into.
//! - Everything else is read at scrape time by [`Collector`]s: the
//!   runtime's snapshot ([`runtime`]: trips, agents, scaling, caches,
//!   consistency, load, the language model) and the operations' alerts
//!   ([`ops`]). The runtime already keeps every counter itself, and must,
//!   to show them in the UI and `/api/agents`; copying them into metric
//!   objects of the crate would only keep two tallies of one thing. A
//!   registry per router (not a global) also keeps several routers in one
//!   test process apart.
//! - The ratings are read from the store (shared by every process on the
//!   database) before the registry is encoded, since a collector cannot
//!   await; when that read fails their two families are left out.
//!
//! What stays hand-written, and why: label values are escaped here
//! ([`Label`]), since the crate's text encoder writes them verbatim; a
//! whole-number value is written as an integer ([`Number`]: `1`, not
//! `1.0`, as the Go client writes it and as dashboards and tests match);
//! and the runtime's cumulative millisecond buckets are turned into the
//! crate's per-bucket seconds ([`encode::MsHistogram`]).
//!
//! Every family keeps its name, labels and meaning from the hand-rendered
//! Prometheus text it replaces. What the OpenMetrics format changes: a
//! counter's `# TYPE` line names the family without `_total` (its samples
//! keep it), a histogram's `le` label comes first, and the text ends with
//! `# EOF`.

mod encode;
pub mod http;
pub mod ops;
pub mod runtime;

use std::fmt;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode as encode_text;
use prometheus_client::registry::Registry;
use wayfare_domain::rating::Satisfaction;

pub use self::encode::{Label, Number};
pub use self::http::HttpMetrics;
use self::ops::{AlertsCollector, SatisfactionCollector};
use self::runtime::RuntimeCollector;
use crate::web::AppState;

/// The content type of the OpenMetrics text format (Prometheus asks for it
/// first in its `Accept` header).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
pub async fn export(State(state): State<AppState>) -> Response {
    let satisfaction = match state.store.satisfaction().await {
        Ok(satisfaction) => Some(satisfaction),
        Err(e) => {
            tracing::warn!(error = %e, "/metrics: could not read the ratings");
            None
        }
    };
    let registry = registry(&state, satisfaction);
    match text(&registry) {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(fmt::Error) => {
            tracing::error!("/metrics: a family could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The registry of one scrape: the HTTP histogram, and the collectors that
/// read the runtime and the operations when it is encoded.
pub fn registry(state: &AppState, satisfaction: Option<Satisfaction>) -> Registry {
    let mut registry = Registry::default();
    state.http_metrics.register(&mut registry);
    registry.register_collector(Box::new(RuntimeCollector::new(state.runtime.clone())));
    registry.register_collector(Box::new(AlertsCollector::new(state.ops.clone())));
    if let Some(satisfaction) = satisfaction {
        registry.register_collector(Box::new(SatisfactionCollector(satisfaction)));
    }
    registry
}

/// The whole exposition of `registry`, `# EOF` included.
pub fn text(registry: &Registry) -> Result<String, fmt::Error> {
    let mut text = String::with_capacity(16 * 1024);
    encode_text(&mut text, registry)?;
    Ok(text)
}

/// The exposition of one collector alone (for tests of its families).
pub fn collected(collector: impl Collector) -> Result<String, fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(collector));
    text(&registry)
}
