//! Request latency per route: a fixed-bucket histogram kept by a small
//! middleware, keyed by method, matched route template (never the raw path,
//! so trip ids do not explode the label space) and status code.

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

type Key = (String, String, u16);

/// Shared by the middleware (writes) and `/metrics` (reads). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HttpMetrics {
    histograms: Arc<Mutex<BTreeMap<Key, Histogram>>>,
}

impl HttpMetrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self
            .histograms
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry((method.to_owned(), route.to_owned(), status))
            .or_default()
            .observe(seconds);
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
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                super::escape(method),
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
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics.observe(
        &method,
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
}
