//! `wayfare-loadgen`: a benchmark, not a test. N clients, for T seconds,
//! each submits a trip over the REST API and follows it (its event stream,
//! or polling its status) until it is final, then submits the next.
//! Reports completed plans per second, the submit → ready latency
//! (p50/p95/p99), errors, the share of ready plans the verifier passed and,
//! given the server's pid, the server's CPU time per finished trip and its
//! peak RSS.
//!
//! A tool crate of its own, not a subcommand of the shipped `wayfare`
//! binary: the server needs none of its HTTP client, and the black-box
//! tests of `wayfare-server` use its [`HttpClient`] as a dev-dependency.
//!
//! Bounded by design: loopback addresses only, at most 1000 clients and
//! 10 minutes, and every request and trip has a deadline.

pub mod client;
pub mod process;
pub mod queries;
pub mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use wayfare_domain::trip::TripStatus;
use wayfare_engine::catalog::MemoryCatalog;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::orchestrator::Planner;

pub use self::client::{Answer, ClientError, HttpClient};
use self::queries::{Queries, QueryGen};
pub use self::report::{Report, render};
use self::report::{cpu_ms_per_trip, percentile};

pub const MAX_CLIENTS: usize = 1000;
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "wayfare-loadgen",
    version,
    about = "Benchmark a running `wayfare serve`: N clients submit trips for T seconds"
)]
pub struct LoadgenArgs {
    /// The server (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// How long clients keep submitting (`20s`, `2m`); trips in flight then
    /// finish.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// One query per line; default: generated over the demo catalog.
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// The server's process id (Linux): report its CPU time per finished
    /// trip and its peak RSS.
    #[arg(long, alias = "pid", value_name = "PID")]
    pub server_pid: Option<u32>,
    /// How a client learns that its trip is final: the event stream (one
    /// WebSocket per trip), or polling the status endpoint.
    #[arg(long, value_enum, default_value_t = Watch::Ws)]
    pub watch: Watch,
    /// Time between two status polls of one trip (`--watch poll`).
    #[arg(long, default_value = "50ms", value_parser = humantime::parse_duration)]
    pub poll: Duration,
    /// A trip not final after this counts as an error.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
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
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if parsed.scheme() != "http" {
        bail!("{url}: only http:// is supported");
    }
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("{url}: the load generator only targets loopback addresses");
    }
    Ok(())
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
    // One kept-alive connection per client: each has at most one request
    // in flight (its WebSocket is a connection of its own).
    let http = HttpClient::with_pool(&args.url, Duration::from_secs(30), args.clients)?;
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
    let cpu_before = match args.server_pid {
        Some(pid) => Some(
            process::cpu_time(pid)
                .with_context(|| format!("reading /proc/{pid}/stat (--server-pid)"))?,
        ),
        None => None,
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
    // Read right after the last trip finished: the server's CPU over the
    // whole run, submissions, planning, streaming and the drain.
    let server_cpu_s = match (args.server_pid, cpu_before) {
        (Some(pid), Some(before)) => {
            process::cpu_time(pid).map(|after| after.saturating_sub(before).as_secs_f64())
        }
        _ => None,
    };
    let mut latencies = std::mem::take(&mut tally.latencies_ms);
    latencies.sort_by(f64::total_cmp);
    let mut report = Report {
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
        server_cpu_s,
        server_cpu_ms_per_trip: None,
        server_peak_rss_kib: args.server_pid.and_then(process::peak_rss_kib),
        error_samples: tally.error_samples,
    };
    report.server_cpu_ms_per_trip =
        server_cpu_s.and_then(|cpu| cpu_ms_per_trip(cpu, report.finished()));
    Ok(report)
}

/// How a trip ended.
enum Final {
    Ready,
    Failed,
    NeedsInput,
    Cancelled,
}

/// The few fields of the API's answers that a client reads: decoding only
/// these keeps the client's own CPU low (it shares the cores with the
/// server it measures), and unknown fields are ignored.
#[derive(Deserialize)]
struct Accepted {
    trip_id: String,
}

#[derive(Deserialize)]
struct StatusOnly {
    status: TripStatus,
}

#[derive(Deserialize)]
struct VerdictOnly {
    verdict: Option<Checks>,
}

#[derive(Deserialize)]
struct Checks {
    checks: Vec<Passed>,
}

#[derive(Deserialize)]
struct Passed {
    passed: bool,
}

/// One frame of the event stream; only its type matters here.
#[derive(Deserialize)]
struct EventType {
    #[serde(rename = "type")]
    kind: String,
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
            let query = queries.next_query();
            self.one_trip(&query, stop_submitting, &mut tally).await;
        }
        tally
    }

    async fn one_trip(&self, query: &str, stop_submitting: Instant, tally: &mut Tally) {
        #[derive(Serialize)]
        struct Submit<'a> {
            query: &'a str,
        }
        let started = Instant::now();
        let answer = match self
            .http
            .post_json("/api/trips/plan", &Submit { query })
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
                    .get(reqwest::header::RETRY_AFTER)
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
        let id = match answer.decode::<Accepted>() {
            Ok(accepted) => accepted.trip_id,
            Err(e) => return tally.error(format!("submit: {e} in {}", answer.text())),
        };
        let deadline = started + self.trip_timeout;
        let outcome = match self.watch {
            Watch::Poll => self.poll_until_final(&id, deadline).await,
            Watch::Ws => self.stream_until_final(&id, deadline).await,
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
                if self.verified(&id).await {
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
            let answer = match self.http.get(&status_path).await {
                Ok(a) if a.status.is_success() => a,
                Ok(a) => return Err(format!("status: HTTP {}: {}", a.status, a.text())),
                Err(e) => return Err(format!("status: {e}")),
            };
            let status = answer
                .decode::<StatusOnly>()
                .map_err(|e| format!("status: {e} in {}", answer.text()))?
                .status;
            return Ok(match status {
                TripStatus::Planning => continue,
                TripStatus::Ready => Final::Ready,
                TripStatus::Failed => Final::Failed,
                TripStatus::NeedsInput => Final::NeedsInput,
                TripStatus::Cancelled => Final::Cancelled,
            });
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
                let event: EventType =
                    serde_json::from_str(text.as_str()).map_err(|e| format!("events: {e}"))?;
                let outcome = match event.kind.as_str() {
                    "trip_plan_ready" => Final::Ready,
                    "trip_plan_failed" => Final::Failed,
                    "trip_cancelled" => Final::Cancelled,
                    "needs_input" => Final::NeedsInput,
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
            Ok(a) if a.status.is_success() => a
                .decode::<VerdictOnly>()
                .ok()
                .and_then(|t| t.verdict)
                .is_some_and(|v| !v.checks.is_empty() && v.checks.iter().all(|c| c.passed)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        assert!(check_loopback("http://127.0.0.1:3000").is_ok());
        assert!(check_loopback("http://localhost:3000/").is_ok());
        assert!(check_loopback("http://[::1]:3000").is_ok());
        assert!(check_loopback("http://example.com").is_err());
        assert!(check_loopback("http://10.0.0.1:3000").is_err());
        assert!(check_loopback("https://127.0.0.1").is_err());
        assert!(check_loopback("not a url").is_err());
    }

    #[test]
    fn the_command_line_takes_the_server_pid_and_human_durations() {
        let args = LoadgenArgs::try_parse_from([
            "wayfare-loadgen",
            "--server-pid",
            "4242",
            "--duration",
            "2m",
            "--poll",
            "250ms",
        ])
        .expect("parses");
        assert_eq!(args.server_pid, Some(4242));
        assert_eq!(args.duration, Duration::from_secs(120));
        assert_eq!(args.poll, Duration::from_millis(250));
        assert_eq!(args.clients, 100);
        // The old spelling still works.
        let args = LoadgenArgs::try_parse_from(["wayfare-loadgen", "--pid", "7"]).expect("parses");
        assert_eq!(args.server_pid, Some(7));
        assert!(LoadgenArgs::try_parse_from(["wayfare-loadgen", "--duration", "soon"]).is_err());
    }

    #[tokio::test]
    async fn a_run_refuses_bounds_it_does_not_keep() {
        let args =
            LoadgenArgs::try_parse_from(["wayfare-loadgen", "--clients", "1001"]).expect("parses");
        assert!(measure(&args).await.is_err());
        let args = LoadgenArgs::try_parse_from(["wayfare-loadgen", "--url", "http://10.0.0.1"])
            .expect("parses");
        assert!(measure(&args).await.is_err());
    }
}
