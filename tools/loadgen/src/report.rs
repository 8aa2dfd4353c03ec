//! What one run measured, for a person (`render`) or as JSON (`--json`).

use serde::Serialize;

use crate::Watch;

/// What one run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub clients: usize,
    /// Only plannable generated queries were sent (`--plannable-only`).
    pub plannable_only: bool,
    pub watch: Option<Watch>,
    pub duration_s: f64,
    /// From the first submission to the last trip finishing.
    pub elapsed_s: f64,
    pub submitted: u64,
    pub ready: u64,
    /// Ready plans whose verdict passed every check.
    pub verified: u64,
    /// Trips the runtime finished as failed (an explained failure).
    pub failed: u64,
    pub needs_input: u64,
    pub cancelled: u64,
    /// Submissions refused with 503 (then retried after Retry-After).
    pub rejected_503: u64,
    /// Transport errors, unexpected statuses, trips past the deadline.
    pub errors: u64,
    /// Plans that reached `ready` while the clients were submitting, over
    /// the duration: the throughput under load.
    pub plans_per_s: f64,
    /// All ready plans over the whole elapsed time, the drain included
    /// (a trip stuck until its deadline drags this one down).
    pub plans_per_s_overall: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p95: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
    /// CPU time (user + system) the server used from the first submission
    /// to the last trip finishing (`--server-pid`).
    pub server_cpu_s: Option<f64>,
    /// `server_cpu_s` over the finished trips (ready, failed, needs_input,
    /// cancelled), in milliseconds: what one trip costs the server.
    pub server_cpu_ms_per_trip: Option<f64>,
    pub server_peak_rss_kib: Option<u64>,
    /// The first few error descriptions.
    pub error_samples: Vec<String>,
}

impl Report {
    /// Trips that reached an outcome: ready, failed, needs_input, cancelled.
    pub fn finished(&self) -> u64 {
        self.ready + self.failed + self.needs_input + self.cancelled
    }
}

/// CPU milliseconds per finished trip; `None` before any trip finished.
pub fn cpu_ms_per_trip(cpu_s: f64, finished: u64) -> Option<f64> {
    (finished > 0).then(|| cpu_s * 1000.0 / finished as f64)
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The report for a person.
pub fn render(r: &Report) -> String {
    let finished = r.finished();
    let share = |n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            100.0 * n as f64 / of as f64
        }
    };
    let rss = r.server_peak_rss_kib.map_or_else(
        || "n/a (pass --server-pid)".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    );
    let cpu = match (r.server_cpu_s, r.server_cpu_ms_per_trip) {
        (Some(total), Some(per_trip)) => format!(
            "{per_trip:.2} ms per finished trip ({total:.2} s in all, {:.2} cores busy)",
            total / r.elapsed_s.max(1e-9)
        ),
        (Some(total), None) => format!("{total:.2} s in all, no trip finished"),
        _ => "n/a (pass --server-pid)".to_owned(),
    };
    let mut out = format!(
        "clients {} for {:.0}s (elapsed {:.1}s), following trips by {}{}\n\
         submitted {}  ready {} ({:.2}% of finished)  failed {}  needs_input {}  cancelled {}\n\
         verified {} ({:.2}% of ready)\n\
         completed plans/s {:.1} while submitting ({:.1} over the whole run)\n\
         server CPU {cpu}\n\
         submit→ready latency ms: p50 {:.0}  p95 {:.0}  p99 {:.0}  max {:.0}\n\
         errors {}  rejected 503 {}\n\
         server peak RSS {rss}\n",
        r.clients,
        r.duration_s,
        r.elapsed_s,
        match r.watch {
            Some(Watch::Poll) => "polling",
            _ => "WebSocket",
        },
        if r.plannable_only {
            "; plannable queries only"
        } else {
            ""
        },
        r.submitted,
        r.ready,
        share(r.ready, finished),
        r.failed,
        r.needs_input,
        r.cancelled,
        r.verified,
        share(r.verified, r.ready),
        r.plans_per_s,
        r.plans_per_s_overall,
        r.latency_ms_p50,
        r.latency_ms_p95,
        r.latency_ms_p99,
        r.latency_ms_max,
        r.errors,
        r.rejected_503,
    );
    for e in &r.error_samples {
        out.push_str(&format!("  error: {e}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn cpu_per_trip_is_printed_next_to_the_throughput() {
        let report = Report {
            clients: 100,
            duration_s: 20.0,
            elapsed_s: 20.5,
            ready: 3000,
            failed: 100,
            plans_per_s: 150.0,
            server_cpu_s: Some(31.0),
            server_cpu_ms_per_trip: cpu_ms_per_trip(31.0, 3100),
            server_peak_rss_kib: Some(2048),
            ..Report::default()
        };
        let text = render(&report);
        assert!(
            text.contains("completed plans/s 150.0 while submitting"),
            "{text}"
        );
        assert!(
            text.contains(
                "server CPU 10.00 ms per finished trip (31.00 s in all, 1.51 cores busy)"
            ),
            "{text}"
        );
        assert!(text.contains("server peak RSS 2.0 MiB"), "{text}");
        assert_eq!(cpu_ms_per_trip(1.0, 0), None);
        let without = render(&Report::default());
        assert!(
            without.contains("server CPU n/a (pass --server-pid)"),
            "{without}"
        );
    }
}
