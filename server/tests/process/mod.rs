//! The real `wayfare serve` (or `wayfare worker`) binary as a child
//! process, for the black-box durability, hostile-input and
//! several-process tests (`resume`, `chaos`, `hostile`, `processes`,
//! `processes_workers`): started on a database with only the test's
//! settings, and killed with SIGKILL.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::Arc as SharedArc;

use wayfare_engine::catalog::MemoryCatalog;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::orchestrator::Planner;
use wayfare_loadgen::HttpClient;

/// Requests on the demo catalog for the process tests (mostly plannable;
/// [`plannable`] says which, by the in-process planner).
pub const QUERIES: [&str; 8] = [
    "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget $2,500 for 2 people.",
    "Plan a 2-day trip from Portland to San Francisco starting April 3rd, 2027, budget $1,800 for 1 person.",
    "Plan a 3-day trip from Chicago to New York starting May 7th, 2027, budget $3,000 for 2 people.",
    "Plan a 4-day trip from Denver to Los Angeles starting June 1st, 2027, budget $4,000 for 3 people.",
    "Plan a 2-day trip from San Diego to Seattle starting March 20th, 2027, budget $2,000 for 2 people.",
    "Plan a 3-day trip from New York to Chicago starting April 14th, 2027, budget $2,600 for 1 person.",
    "Plan a 3-day trip from Spokane to Portland starting May 22nd, 2027, budget $2,200 for 2 people.",
    "Plan a 2-day trip from Los Angeles to Denver starting September 9th, 2027, budget $1,900 for 2 people.",
];

/// Whether the in-process planner plans `query` on the demo catalog: then
/// the runtime must too, kill or no kill.
pub fn plannable(query: &str) -> bool {
    let catalog = MemoryCatalog::new(demo_catalog().expect("the demo catalog"));
    let planner = Planner::new(SharedArc::new(catalog)).with_default_year(2027);
    planner.plan_blocking(query).itinerary.is_some()
}

/// A `wayfare serve` child process and what it printed.
pub struct Server {
    child: Child,
    pub http: HttpClient,
    /// `127.0.0.1:PORT`, for raw sockets.
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
    /// When the process was spawned and when it listened.
    pub spawned_at: Instant,
    pub listening_at: Instant,
}

impl Server {
    /// Starts the binary and waits until it listens. `env` adds settings
    /// (otherwise the defaults: a 30 s lease, a 1 s heartbeat).
    pub fn start(db_url: &str, dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_with(&["serve"], db_url, dir, env)
    }

    /// Starts the binary with `args` (`["serve", "--agents", "none"]`,
    /// `["worker", "--agents", "transport", "--listen", "127.0.0.1:0"]`)
    /// and waits until it listens.
    pub fn start_with(args: &[&str], db_url: &str, dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_wrapped(&[], args, db_url, dir, env)
    }

    /// [`Server::start_with`] run by `wrapper` (`["ip", "netns", "exec",
    /// NAME]`: a wrapper that execs the binary, so that [`Server::pid`] is
    /// the binary's).
    pub fn start_wrapped(
        wrapper: &[&str],
        args: &[&str],
        db_url: &str,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Server {
        let binary = env!("CARGO_BIN_EXE_wayfare");
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        command
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Only this test's settings: none inherited from the environment.
        for (key, _) in std::env::vars() {
            if key.starts_with("WAYFARE_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("WAYFARE_DATABASE_URL", db_url)
            .env("WAYFARE_LISTEN", "127.0.0.1:0")
            .env("WAYFARE_SITE_ROOT", dir)
            .env("WAYFARE_LOG", "info")
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        let spawned_at = Instant::now();
        let mut child = command.spawn().expect("start wayfare serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        // Drain both pipes for the child's whole life, or it blocks on a
        // full pipe; forward the address once it is printed.
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let (log, tx) = (log.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    // `serve`: "serving on http://…"; `worker`:
                    // "… /healthz and /metrics on http://…".
                    if let Some(at) = line.find(" on http://") {
                        let rest = &line[at + " on http://".len()..];
                        let addr: String =
                            rest.chars().take_while(|c| !c.is_whitespace()).collect();
                        let _ = tx.send(addr);
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "wayfare {args:?} did not start:\n{}",
                    log.lock().expect("log").join("\n")
                );
            }
        };
        Server {
            child,
            http: HttpClient::new(&format!("http://{addr}"), Duration::from_secs(10))
                .expect("an HTTP client"),
            addr,
            log,
            spawned_at,
            listening_at: Instant::now(),
        }
    }

    /// The child's process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// GETs `path` (a trip or its status) until the trip is no longer
    /// planning and returns that answer; fails at `deadline`.
    pub async fn once_ended(&self, path: &str, deadline: Instant) -> serde_json::Value {
        loop {
            let answer: serde_json::Value = self.http.get(path).await.expect(path).json();
            if answer["status"] != "planning" {
                return answer;
            }
            assert!(
                Instant::now() < deadline,
                "{path} still planning at the deadline: {answer}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends signal `name` (`STOP`, `CONT`) to `pid`.
pub fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// One number a query reads from the database.
pub async fn scalar(url: &str, sql: &'static str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar(sql)
        .fetch_one(&mut conn)
        .await
        .expect("query")
}

/// Rows a query finds (each a problem).
pub async fn problems(url: &str, sql: &'static str) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar(sql)
        .fetch_all(&mut conn)
        .await
        .expect("query")
}

/// Nothing lost or done twice: no agent result stored twice, no task's
/// completion logged twice, no trip's log with a gap in its `seq`.
pub async fn assert_no_work_doubled_or_lost(url: &str) {
    assert_eq!(
        problems(
            url,
            "SELECT task_id::text FROM agent_results GROUP BY task_id HAVING COUNT(*) > 1"
        )
        .await,
        Vec::<String>::new(),
        "no agent result stored twice"
    );
    assert_no_completion_logged_twice(url).await;
    assert_eq!(
        problems(
            url,
            "SELECT trip_id::text FROM trip_events GROUP BY trip_id
             HAVING MAX(seq) <> COUNT(*) OR MIN(seq) <> 1"
        )
        .await,
        Vec::<String>::new(),
        "no trip's log has a gap"
    );
}

/// No task's completion is in any trip's log twice.
pub async fn assert_no_completion_logged_twice(url: &str) {
    assert_eq!(
        problems(
            url,
            "SELECT payload->>'task_id' FROM trip_events WHERE kind = 'task_completed'
             GROUP BY trip_id, payload->>'task_id' HAVING COUNT(*) > 1"
        )
        .await,
        Vec::<String>::new(),
        "no task's completion logged twice"
    );
}

/// After `paused` was resumed: waits (at most 20 s, longer than an agent
/// call) until some of its late writes were fenced, lets the rest end,
/// then checks through `reader` that every trip in `plans` kept its plan
/// and that no completion is logged twice. The number fenced.
pub async fn late_writes_fenced_plans_kept(
    paused: &Server,
    reader: &Server,
    plans: &BTreeMap<String, serde_json::Value>,
    url: &str,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    let fenced = loop {
        // The first requests may meet connections the pause left closed.
        let fenced = counter(paused, "wayfare_task_fenced_total").await;
        if fenced > 0.0 {
            break fenced;
        }
        assert!(
            Instant::now() < deadline,
            "nothing of the paused process's was fenced:\n{}",
            paused.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (id, plan) in plans {
        let trip: serde_json::Value = reader
            .http
            .get(&format!("/api/trips/{id}"))
            .await
            .expect("trip")
            .json();
        assert_eq!(
            &trip["itinerary"], plan,
            "trip {id}'s plan changed after the paused process came back"
        );
    }
    assert_no_completion_logged_twice(url).await;
    fenced
}

/// A counter's value in the `/metrics` of `server` (0 when it cannot be
/// read: a process just resumed may meet connections its pause closed).
pub async fn counter(server: &Server, name: &str) -> f64 {
    match server.http.get("/metrics").await {
        Ok(answer) => answer
            .text()
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0.0),
        Err(_) => 0.0,
    }
}

/// Submits `query` to `server`; the trip's id.
pub async fn submit(server: &Server, query: &str) -> String {
    let answer = server
        .http
        .post_json("/api/trips/plan", &serde_json::json!({ "query": query }))
        .await
        .expect("submit");
    assert_eq!(answer.status, 202, "{}", answer.text());
    answer.json()["trip_id"].as_str().expect("an id").to_owned()
}

/// The rows of `/api/agents` on `server`.
pub async fn agents(server: &Server) -> Vec<serde_json::Value> {
    let answer = server.http.get("/api/agents").await.expect("/api/agents");
    assert_eq!(answer.status, 200);
    match answer.json() {
        serde_json::Value::Array(rows) => rows,
        other => panic!("/api/agents answered {other}"),
    }
}

/// `/api/agents` rows of the process with `pid`.
pub fn of_pid(rows: &[serde_json::Value], pid: u32) -> Vec<&serde_json::Value> {
    rows.iter()
        .filter(|r| r["pid"].as_u64() == Some(u64::from(pid)))
        .collect()
}

/// Waits until every `/api/agents` row of `pid` on `server` has `status`;
/// returns how long that took. Fails after `within`.
pub async fn until_status(server: &Server, pid: u32, status: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let rows = agents(server).await;
        let mine = of_pid(&rows, pid);
        if !mine.is_empty() && mine.iter().all(|r| r["status"] == status) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the instances of {pid} are not {status} after {within:?}: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads each trip through `server` until it ends; checks those the
/// planner plans are ready; returns the plans.
pub async fn all_end(
    server: &Server,
    trips: &[(String, bool)],
    within: Duration,
) -> BTreeMap<String, serde_json::Value> {
    let deadline = Instant::now() + within;
    let mut plans = BTreeMap::new();
    for (id, must_plan) in trips {
        let trip = server
            .once_ended(&format!("/api/trips/{id}"), deadline)
            .await;
        if *must_plan {
            assert_eq!(trip["status"], "ready", "trip {id}: {trip}");
        }
        plans.insert(id.clone(), trip["itinerary"].clone());
    }
    plans
}
