//! Request latency per route: a `prometheus-client` `Family` of
//! `Histogram`s observed by a small middleware, keyed by method, matched
//! route template and status. Every label has a bounded set of values,
//! whatever clients send: methods outside a fixed list are `other`, a path
//! no route matched is `unmatched` (never the raw path, so trip ids do not
//! explode the label space), and a status outside a fixed list is its class
//! (`4xx`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::Label;

/// Upper bounds of the buckets, in seconds (Prometheus' `le`).
pub const BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One series' labels, in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Labels {
    method: &'static str,
    route: String,
    status: String,
}

/// By hand rather than derived: the route goes through [`Label`], which
/// escapes it (a route template is ours, but the text format must never
/// break on one).
impl EncodeLabelSet for Labels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        [
            ("method", Label(self.method)),
            ("route", Label(&self.route)),
            ("status", Label(&self.status)),
        ]
        .encode(encoder)
    }
}

fn new_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The methods kept as their own label value.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

/// The statuses kept as their own label value.
const STATUSES: [u16; 22] = [
    200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500,
    502, 503, 504,
];

/// A method's label: itself when it is a standard one, else `other`.
pub fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// A status' label: the code when it is a common one, else its class.
pub fn status_label(status: u16) -> String {
    if STATUSES.contains(&status) {
        status.to_string()
    } else {
        format!("{}xx", (status / 100).clamp(1, 5))
    }
}

/// Shared by the middleware (writes) and `/metrics` (reads). Cheap to
/// clone: clones share the family.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    family: Family<Labels, Histogram, fn() -> Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            family: Family::new_with_constructor(new_histogram),
        }
    }
}

impl HttpMetrics {
    /// Records one request. `route` must be a route template (or
    /// `unmatched`); the method and status are bounded here.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = Labels {
            method: method_label(method),
            route: route.to_owned(),
            status: status_label(status),
        };
        self.family.get_or_create(&labels).observe(seconds);
    }

    /// Adds `wayfare_http_request_duration_seconds` to a scrape's registry
    /// (the family is shared, not copied; left out until a first request).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "wayfare_http_request_duration_seconds",
            // The registry adds the final full stop.
            "Time to answer an HTTP request, by route template",
            self.family.clone(),
        );
    }
}

/// The middleware: times the request and records it under its route.
pub async fn track(State(metrics): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method().as_str());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.observe(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(metrics: &HttpMetrics) -> String {
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        crate::metrics::text(&registry).expect("encodes")
    }

    #[test]
    fn an_observation_lands_in_every_bucket_at_or_above_it() {
        let metrics = HttpMetrics::default();
        metrics.observe("GET", "/api/trips/{id}/status", 200, 0.003);
        let out = rendered(&metrics);
        let labels = r#"method="GET",route="/api/trips/{id}/status",status="200""#;
        for (le, n) in [("0.0025", 0), ("0.005", 1), ("+Inf", 1)] {
            let line = format!(
                r#"wayfare_http_request_duration_seconds_bucket{{le="{le}",{labels}}} {n}"#
            );
            assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
        }
        assert!(
            out.contains("# TYPE wayfare_http_request_duration_seconds histogram\n"),
            "{out}"
        );
    }

    /// Invented methods and odd statuses through the middleware: a bounded
    /// set of series however many a client invents (each method used to be
    /// a label value of its own).
    #[tokio::test]
    async fn every_label_is_bounded() {
        use axum::Router;
        use axum::body::Body;
        use axum::http::{Method, StatusCode};
        use axum::routing::any;
        use tower::ServiceExt;

        let metrics = HttpMetrics::default();
        let app = Router::new()
            .route(
                "/odd",
                any(|| async { StatusCode::from_u16(299).unwrap_or(StatusCode::OK) }),
            )
            .route("/ok", any(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(metrics.clone(), track));
        for i in 0..200 {
            let method = Method::from_bytes(format!("M{i}").as_bytes()).expect("a method");
            for path in ["/odd", "/ok"] {
                let request = axum::http::Request::builder()
                    .method(method.clone())
                    .uri(path)
                    .body(Body::empty())
                    .expect("request");
                let _ = app.clone().oneshot(request).await;
            }
        }
        let out = rendered(&metrics);
        let series = out.lines().filter(|l| l.contains("_count{")).count();
        assert_eq!(series, 2, "{out}");
        assert!(
            out.contains(r#"method="other",route="/odd",status="2xx"}"#),
            "{out}"
        );
        assert!(!out.contains("M199"), "{out}");
    }
}
