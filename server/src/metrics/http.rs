//! Request latency per route: a fixed-bucket histogram kept by a small
//! middleware, keyed by method, matched route template and status. Every
//! label has a bounded set of values, whatever clients send: methods outside
//! a fixed list are `other`, a path no route matched is `unmatched` (never
//! the raw path, so trip ids do not explode the label space), and a status
//! outside a fixed list is its class (`4xx`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the buckets, in seconds (Prometheus' `le`).
pub const BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

type Key = (&'static str, String, String);

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

/// Shared by the middleware (writes) and `/metrics` (reads). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HttpMetrics {
    histograms: Arc<Mutex<BTreeMap<Key, Histogram>>>,
}

impl HttpMetrics {
    /// Records one request. `route` must be a route template (or
    /// `unmatched`); the method and status are bounded here.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let key = (method_label(method), route.to_owned(), status_label(status));
        let mut map = self
            .histograms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(key).or_default().observe(seconds);
    }

    /// Appends `wayfare_http_request_duration_seconds` in the text format.
    pub fn render(&self, out: &mut String) {
        let map = self
            .histograms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let name = "wayfare_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to answer an HTTP request, by route template."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        for ((method, route, status), h) in &map {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                super::escape(route)
            );
            for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
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

    #[test]
    fn an_observation_lands_in_every_bucket_at_or_above_it() {
        let metrics = HttpMetrics::default();
        metrics.observe("GET", "/api/trips/{id}/status", 200, 0.003);
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(out.contains(r#"le="0.0025"} 0"#), "{out}");
        assert!(out.contains(r#"le="0.005"} 1"#), "{out}");
        assert!(out.contains(r#"le="+Inf"} 1"#), "{out}");
        assert!(
            out.contains(r#"route="/api/trips/{id}/status",status="200""#),
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
        let mut out = String::new();
        metrics.render(&mut out);
        let series = out.lines().filter(|l| l.contains("_count{")).count();
        assert_eq!(series, 2, "{out}");
        assert!(
            out.contains(r#"method="other",route="/odd",status="2xx""#),
            "{out}"
        );
        assert!(!out.contains("M199"), "{out}");
    }
}
