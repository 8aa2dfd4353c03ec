//! `wayfare loadgen`: a benchmark, not a test. N clients, for T seconds,
//! each submits a trip over the REST API and polls its status until it is
//! final, then submits the next. Reports completed plans per second, the
//! submit → ready latency (p50/p95/p99), errors, the share of ready plans
//! the verifier passed, and the server's peak RSS (with `--pid`).
//!
//! Bounded by design: loopback addresses only, at most 1000 clients and
//! 10 minutes, and every request and trip has a deadline.

pub mod client;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::json;
use wayfare_engine::catalog::MemoryCatalog;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::orchestrator::Planner;
use wayfare_engine::resilience::Rng;

pub use self::client::{Answer, ClientError, HttpClient};
use crate::config::human::parse_duration;

pub const MAX_CLIENTS: usize = 1000;
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// `wayfare loadgen`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadgenArgs {
    /// The server (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// How long clients keep submitting (`20s`, `2m`); trips in flight then
    /// finish.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,
    /// One query per line; default: generated over the demo catalog.
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// The server's process id, to report its peak RSS (Linux).
    #[arg(long)]
    pub pid: Option<u32>,
    /// How a client learns that its trip is final: the event stream (one
    /// WebSocket per trip), or polling the status endpoint.
    #[arg(long, value_enum, default_value_t = Watch::Ws)]
    pub watch: Watch,
    /// Time between two status polls of one trip (`--watch poll`).
    #[arg(long, default_value = "50ms", value_parser = parse_duration)]
    pub poll: Duration,
    /// A trip not final after this counts as an error.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub trip_timeout: Duration,
    /// Submit only generated queries that the planner delivers on the
    /// demo catalog (checked in this process before each is sent), so that
    /// the ready share is the share of plannable trips that completed —
    /// under injected faults, the share the faults did not cost.
    #[arg(long)]
    pub plannable_only: bool,
    /// Seed of the generated queries (same seed, same queries).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How clients follow their trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Watch {
    Ws,
    Poll,
}

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
    pub server_peak_rss_kib: Option<u64>,
    /// The first few error descriptions.
    pub error_samples: Vec<String>,
}

#[derive(Debug, Default)]
struct Tally {
    submitted: u64,
    ready: u64,
    ready_in_window: u64,
    verified: u64,
    failed: u64,
    needs_input: u64,
    cancelled: u64,
    rejected_503: u64,
    errors: u64,
    latencies_ms: Vec<f64>,
    error_samples: Vec<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 10 {
            self.error_samples.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.submitted += other.submitted;
        self.ready += other.ready;
        self.ready_in_window += other.ready_in_window;
        self.verified += other.verified;
        self.failed += other.failed;
        self.needs_input += other.needs_input;
        self.cancelled += other.cancelled;
        self.rejected_503 += other.rejected_503;
        self.errors += other.errors;
        self.latencies_ms.extend(other.latencies_ms);
        for e in other.error_samples {
            if self.error_samples.len() < 10 {
                self.error_samples.push(e);
            }
        }
    }
}

/// Refuses anything but a loopback `http://` URL.
pub fn check_loopback(url: &str) -> anyhow::Result<()> {
    let uri: http::Uri = url
        .parse()
        .with_context(|| format!("{url:?} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("{url}: only http:// is supported");
    }
    let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("{url}: the load generator only targets loopback addresses");
    }
    Ok(())
}

/// Demo-catalog cities with flights between every pair.
const CITIES: [&str; 10] = [
    "Seattle",
    "Spokane",
    "Portland",
    "Denver",
    "Colorado Springs",
    "San Francisco",
    "Los Angeles",
    "San Diego",
    "Chicago",
    "New York",
];

const MONTHS: [&str; 6] = ["March", "April", "May", "June", "September", "October"];

/// A deterministic stream of varied trip requests over the demo catalog.
#[derive(Debug, Clone)]
pub struct QueryGen {
    rng: Rng,
}

impl QueryGen {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::with_seed(seed),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.rng.u64(..)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    pub fn next_query(&mut self) -> String {
        let from = self.pick(&CITIES);
        let mut to = self.pick(&CITIES);
        while to == from {
            to = self.pick(&CITIES);
        }
        let days = 2 + self.next_u64() % 3;
        let people = 1 + self.next_u64() % 3;
        let budget = 1500 + 250 * (self.next_u64() % 12) * people;
        let month = self.pick(&MONTHS);
        let day = 1 + self.next_u64() % 20;
        let who = match people {
            1 => "1 person".to_owned(),
            n => format!("{n} people"),
        };
        format!(
            "Plan a {days}-day trip from {from} to {to} starting {month} {day}, 2027, budget ${budget} for {who}."
        )
    }
}

enum Queries {
    /// Generated; with a planner, only those it delivers.
    Generated(QueryGen, Option<Arc<Planner>>),
    Listed(Arc<Vec<String>>, usize),
}

impl Queries {
    fn next(&mut self) -> String {
        match self {
            Queries::Generated(g, None) => g.next_query(),
            Queries::Generated(g, Some(planner)) => loop {
                let query = g.next_query();
                if planner.plan_blocking(&query).itinerary.is_some() {
                    break query;
                }
            },
            Queries::Listed(list, i) => {
                let q = list[*i % list.len()].clone();
                *i += 1;
                q
            }
        }
    }
}

/// Runs the load and prints the report.
pub async fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    let report = measure(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// Runs the load and returns what it measured.
pub async fn measure(args: &LoadgenArgs) -> anyhow::Result<Report> {
    check_loopback(&args.url)?;
    if args.clients == 0 || args.clients > MAX_CLIENTS {
        bail!("--clients must be between 1 and {MAX_CLIENTS}");
    }
    if args.duration.is_zero() || args.duration > MAX_DURATION {
        bail!("--duration must be between 1ms and {MAX_DURATION:?}");
    }
    let listed = match &args.queries {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let lines: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            if lines.is_empty() {
                bail!("{} holds no queries", path.display());
            }
            Some(Arc::new(lines))
        }
        None => None,
    };
    let http = HttpClient::new(&args.url, Duration::from_secs(30));
    let health = http
        .get("/healthz")
        .await
        .with_context(|| format!("cannot reach {}", args.url))?;
    if !health.status.is_success() {
        bail!("{} is not healthy: {}", args.url, health.status);
    }

    // The server's demo catalog, and its reading of dates (from today).
    let planner = match (args.plannable_only, &listed) {
        (true, None) => {
            let catalog = demo_catalog().context("the embedded demo catalog")?;
            let planner = Planner::new(Arc::new(MemoryCatalog::new(catalog)))
                .with_today(chrono::Utc::now().date_naive());
            Some(Arc::new(planner))
        }
        (true, Some(_)) => bail!("--plannable-only filters generated queries, not --queries"),
        (false, _) => None,
    };
    let started = Instant::now();
    let stop_submitting = started + args.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..args.clients {
        let queries = match &listed {
            Some(list) => Queries::Listed(list.clone(), n),
            None => Queries::Generated(
                QueryGen::new(args.seed.wrapping_add(n as u64 * 7919)),
                planner.clone(),
            ),
        };
        let client = Client {
            http: http.clone(),
            watch: args.watch,
            poll: args.poll,
            trip_timeout: args.trip_timeout,
        };
        tasks.spawn(client.run(queries, stop_submitting));
    }
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(t) => tally.merge(t),
            Err(e) => tally.error(format!("client task: {e}")),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut tally.latencies_ms);
    latencies.sort_by(f64::total_cmp);
    Ok(Report {
        clients: args.clients,
        plannable_only: planner.is_some(),
        watch: Some(args.watch),
        duration_s: args.duration.as_secs_f64(),
        elapsed_s: elapsed,
        submitted: tally.submitted,
        ready: tally.ready,
        verified: tally.verified,
        failed: tally.failed,
        needs_input: tally.needs_input,
        cancelled: tally.cancelled,
        rejected_503: tally.rejected_503,
        errors: tally.errors,
        plans_per_s: tally.ready_in_window as f64 / args.duration.as_secs_f64(),
        plans_per_s_overall: tally.ready as f64 / elapsed.max(1e-9),
        latency_ms_p50: percentile(&latencies, 0.50),
        latency_ms_p95: percentile(&latencies, 0.95),
        latency_ms_p99: percentile(&latencies, 0.99),
        latency_ms_max: latencies.last().copied().unwrap_or(0.0),
        server_peak_rss_kib: args.pid.and_then(peak_rss_kib),
        error_samples: tally.error_samples,
    })
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `VmHWM` of `/proc/<pid>/status`: the peak resident set size, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The report for a person.
pub fn render(r: &Report) -> String {
    let finished = r.ready + r.failed + r.needs_input + r.cancelled;
    let share = |n: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            100.0 * n as f64 / of as f64
        }
    };
    let rss = r.server_peak_rss_kib.map_or_else(
        || "n/a (pass --pid)".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    );
    let mut out = format!(
        "clients {} for {:.0}s (elapsed {:.1}s), following trips by {}{}\n\
         submitted {}  ready {} ({:.2}% of finished)  failed {}  needs_input {}  cancelled {}\n\
         verified {} ({:.2}% of ready)\n\
         completed plans/s {:.1} while submitting ({:.1} over the whole run)\n\
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

/// How a trip ended.
enum Final {
    Ready,
    Failed,
    NeedsInput,
    Cancelled,
}

struct Client {
    http: HttpClient,
    watch: Watch,
    poll: Duration,
    trip_timeout: Duration,
}

impl Client {
    async fn run(self, mut queries: Queries, stop_submitting: Instant) -> Tally {
        let mut tally = Tally::default();
        while Instant::now() < stop_submitting {
            let query = queries.next();
            self.one_trip(&query, stop_submitting, &mut tally).await;
        }
        tally
    }

    async fn one_trip(&self, query: &str, stop_submitting: Instant, tally: &mut Tally) {
        let started = Instant::now();
        let answer = match self
            .http
            .post_json("/api/trips/plan", &json!({ "query": query }))
            .await
        {
            Ok(a) => a,
            Err(e) => return tally.error(format!("submit: {e}")),
        };
        match answer.status.as_u16() {
            202 => {}
            503 => {
                tally.rejected_503 += 1;
                let wait = answer
                    .headers
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(5);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                return;
            }
            422 => {
                tally.submitted += 1;
                tally.needs_input += 1;
                return;
            }
            other => {
                return tally.error(format!("submit: HTTP {other}: {}", answer.text()));
            }
        }
        tally.submitted += 1;
        let body = answer.json();
        let Some(id) = body["trip_id"].as_str() else {
            return tally.error(format!("submit: no trip_id in {body}"));
        };
        let deadline = started + self.trip_timeout;
        let outcome = match self.watch {
            Watch::Poll => self.poll_until_final(id, deadline).await,
            Watch::Ws => self.stream_until_final(id, deadline).await,
        };
        match outcome {
            Ok(Final::Ready) => {
                tally.ready += 1;
                if Instant::now() <= stop_submitting {
                    tally.ready_in_window += 1;
                }
                tally
                    .latencies_ms
                    .push(started.elapsed().as_secs_f64() * 1000.0);
                if self.verified(id).await {
                    tally.verified += 1;
                }
            }
            Ok(Final::Failed) => tally.failed += 1,
            Ok(Final::NeedsInput) => tally.needs_input += 1,
            Ok(Final::Cancelled) => tally.cancelled += 1,
            Err(e) => tally.error(e),
        }
    }

    async fn poll_until_final(&self, id: &str, deadline: Instant) -> Result<Final, String> {
        let status_path = format!("/api/trips/{id}/status");
        loop {
            if Instant::now() > deadline {
                return Err(format!("trip {id} not final after {:?}", self.trip_timeout));
            }
            tokio::time::sleep(self.poll).await;
            let status = match self.http.get(&status_path).await {
                Ok(a) if a.status.is_success() => a.json(),
                Ok(a) => return Err(format!("status: HTTP {}: {}", a.status, a.text())),
                Err(e) => return Err(format!("status: {e}")),
            };
            match status["status"].as_str() {
                Some("planning") => continue,
                Some("ready") => return Ok(Final::Ready),
                Some("failed") => return Ok(Final::Failed),
                Some("needs_input") => return Ok(Final::NeedsInput),
                Some("cancelled") => return Ok(Final::Cancelled),
                _ => return Err(format!("status: unexpected {status}")),
            }
        }
    }

    async fn stream_until_final(&self, id: &str, deadline: Instant) -> Result<Final, String> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;

        let url = format!(
            "{}/api/trips/{id}/events",
            self.http.base().replacen("http://", "ws://", 1)
        );
        let watch = async {
            let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .map_err(|e| format!("events: {e}"))?;
            while let Some(frame) = socket.next().await {
                let text = match frame.map_err(|e| format!("events: {e}"))? {
                    Message::Text(text) => text,
                    Message::Close(_) => break,
                    _ => continue,
                };
                let event: serde_json::Value =
                    serde_json::from_str(text.as_str()).map_err(|e| format!("events: {e}"))?;
                let outcome = match event["type"].as_str() {
                    Some("trip_plan_ready") => Final::Ready,
                    Some("trip_plan_failed") => Final::Failed,
                    Some("trip_cancelled") => Final::Cancelled,
                    Some("needs_input") => Final::NeedsInput,
                    _ => continue,
                };
                let _ = socket.close(None).await;
                return Ok(outcome);
            }
            Err(format!(
                "events: the stream of trip {id} ended before the trip did"
            ))
        };
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, watch)
            .await
            .map_err(|_| format!("trip {id} not final after {:?}", self.trip_timeout))?
    }

    /// Whether the ready plan's verdict passed every check.
    async fn verified(&self, id: &str) -> bool {
        match self.http.get(&format!("/api/trips/{id}")).await {
            Ok(a) if a.status.is_success() => {
                let checks = &a.json()["verdict"]["checks"];
                checks.as_array().is_some_and(|c| {
                    !c.is_empty() && c.iter().all(|c| c["passed"].as_bool() == Some(true))
                })
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        assert!(check_loopback("http://127.0.0.1:3000").is_ok());
        assert!(check_loopback("http://localhost:3000/").is_ok());
        assert!(check_loopback("http://[::1]:3000").is_ok());
        assert!(check_loopback("http://example.com").is_err());
        assert!(check_loopback("http://10.0.0.1:3000").is_err());
        assert!(check_loopback("https://127.0.0.1").is_err());
    }

    #[test]
    fn plannable_only_sends_just_the_queries_the_planner_delivers() {
        let catalog = demo_catalog().unwrap();
        let planner = Arc::new(
            Planner::new(Arc::new(MemoryCatalog::new(catalog)))
                .with_today(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()),
        );
        let delivers = |q: &str| planner.plan_blocking(q).itinerary.is_some();
        // The plain stream holds requests that cannot be planned...
        let mut plain = Queries::Generated(QueryGen::new(1), None);
        let unplannable = (0..300).filter(|_| !delivers(&plain.next())).count();
        assert!(unplannable > 0, "the generator made no unplannable request");
        // ...the filtered one none.
        let mut filtered = Queries::Generated(QueryGen::new(1), Some(planner.clone()));
        for _ in 0..100 {
            let query = filtered.next();
            assert!(delivers(&query), "sent an unplannable request: {query}");
        }
    }

    #[test]
    fn generated_queries_are_reproducible_and_varied() {
        let a: Vec<String> = (0..50)
            .scan(QueryGen::new(7), |g, _| Some(g.next_query()))
            .collect();
        let b: Vec<String> = (0..50)
            .scan(QueryGen::new(7), |g, _| Some(g.next_query()))
            .collect();
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert!(distinct.len() > 45, "{distinct:?}");
        assert!(a[0].starts_with("Plan a "), "{}", a[0]);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
