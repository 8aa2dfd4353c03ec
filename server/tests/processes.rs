//! Several `wayfare serve` processes on one PostgreSQL database (issue 18),
//! black-box: the real binary, started as child processes on a fresh
//! database. PostgreSQL only (SQLite serves one process per file); skipped
//! loudly when it is not reachable locally, required under `CI=true`.
//!
//! - Started together, both come up (migrations, the demo catalog and the
//!   resume of unfinished trips take turns under advisory locks) and the
//!   catalog is loaded once.
//! - A trip submitted to A is read and watched (WebSocket) on B: every
//!   event of A's log, in order, no duplicates, no gaps; cancelled through
//!   B, A's running work stops and nothing is logged after the cancel.

mod process;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use process::{
    QUERIES, Server, assert_no_work_doubled_or_lost, late_writes_fenced_plans_kept, plannable,
    scalar, signal,
};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio_tungstenite::tungstenite::Message;
use wayfare_store::testing::TestDb;

const QUERY: &str = "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget $2,500 for 2 people.";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Starts `n` servers at once (each on its own thread, so that none waits
/// for another to listen).
fn start_together(n: usize, url: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Vec<Server> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|_| scope.spawn(|| Server::start(url, dir, env)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a server started"))
            .collect()
    })
}

/// The trip's log as (seq, kind), from the database.
async fn log_of(url: &str, trip: &str) -> Vec<(i64, String)> {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_as("SELECT seq, kind FROM trip_events WHERE trip_id = $1::uuid ORDER BY seq")
        .bind(trip)
        .fetch_all(&mut conn)
        .await
        .expect("the log")
}

async fn connect(addr: &str, path: &str) -> Socket {
    let (socket, response) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .expect("the upgrade succeeds");
    assert_eq!(response.status(), 101);
    socket
}

/// Event frames until one of type `until` (or `within` passes).
async fn events_until(socket: &mut Socket, until: &[&str], within: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Ok(Some(frame)) = tokio::time::timeout(left, socket.next()).await else {
            panic!("none of {until:?} within {within:?} among {events:#?}");
        };
        match frame.expect("a frame") {
            Message::Text(text) => {
                let event: Value = serde_json::from_str(text.as_str()).expect("a JSON event");
                let done = until.contains(&event["type"].as_str().unwrap_or_default());
                events.push(event);
                if done {
                    return events;
                }
            }
            Message::Close(_) => panic!("the stream closed: {events:#?}"),
            _ => {}
        }
    }
}

/// The `seq`s of the log that are streamed (heartbeats are not).
fn streamed(log: &[(i64, String)]) -> Vec<u64> {
    log.iter()
        .filter(|(_, kind)| kind != "task_heartbeat")
        .map(|(seq, _)| *seq as u64)
        .collect()
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().filter_map(|e| e["seq"].as_u64()).collect()
}

/// A counter's value in `/metrics`.
async fn metric(server: &Server, name: &str) -> f64 {
    let text = server.http.get("/metrics").await.expect("metrics").text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

async fn submit(server: &Server) -> String {
    let answer = server
        .http
        .post_json("/api/trips/plan", &json!({ "query": QUERY }))
        .await
        .expect("submit");
    assert_eq!(answer.status, 202, "{}", answer.text());
    answer.json()["trip_id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn two_servers_started_together_on_a_fresh_database_both_serve_and_load_the_catalog_once() {
    // The race was a matter of timing: a few fresh databases in a row.
    for round in 0..3 {
        let Some(db) = TestDb::postgres().await else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let servers = start_together(2, &db.url, dir.path(), &[]);
        for server in &servers {
            let health = server.http.get("/healthz").await.expect("healthz");
            assert_eq!(health.status, 200, "round {round}: {}", server.log());
        }
        let loads = servers
            .iter()
            .filter(|s| s.log().contains("loaded the demo catalog"))
            .count();
        assert_eq!(
            loads, 1,
            "round {round}: the demo catalog is loaded by one process"
        );
        assert_eq!(
            scalar(&db.url, "SELECT version FROM catalog_version WHERE id = 1").await,
            1,
            "round {round}: one import"
        );
        let cities = scalar(&db.url, "SELECT COUNT(*) FROM cities").await;
        let distinct = scalar(&db.url, "SELECT COUNT(DISTINCT name) FROM cities").await;
        assert!(
            cities > 0 && cities == distinct,
            "round {round}: {cities} cities, {distinct} distinct"
        );
        // Each answers for the catalog it loaded.
        for server in &servers {
            let trip = submit(server).await;
            let got = server
                .http
                .get(&format!("/api/trips/{trip}"))
                .await
                .expect("trip");
            assert_eq!(got.status, 200);
        }
        for server in servers {
            server.kill_9();
        }
        db.drop_database().await;
    }
}

#[tokio::test]
async fn a_trip_submitted_to_one_process_is_watched_and_cancelled_through_another() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut servers = start_together(2, &db.url, dir.path(), &[]).into_iter();
    let (a, b) = (servers.next().expect("A"), servers.next().expect("B"));

    // Watched on B from the start (the trip is A's).
    let trip = submit(&a).await;
    let mut socket = connect(&b.addr, &format!("/api/trips/{trip}/events")).await;
    let events = events_until(
        &mut socket,
        &["trip_plan_ready", "trip_plan_failed"],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(events.last().expect("events")["type"], "trip_plan_ready");
    let log = log_of(&db.url, &trip).await;
    assert_eq!(
        seqs(&events),
        streamed(&log),
        "B streams every event of the log, in order, once: {log:?}"
    );
    // B reads the trip as A left it.
    let on_b = b
        .http
        .get(&format!("/api/trips/{trip}"))
        .await
        .expect("trip")
        .json();
    assert_eq!(on_b["status"], "ready", "{on_b}");

    // Several trips on A, watched on B while they plan (live events only,
    // each socket opened before its trip plans far).
    let mut watched = BTreeMap::new();
    for _ in 0..5 {
        let trip = submit(&a).await;
        let socket = connect(&b.addr, &format!("/api/trips/{trip}/events")).await;
        watched.insert(trip, socket);
    }
    for (trip, socket) in &mut watched {
        let events = events_until(
            socket,
            &["trip_plan_ready", "trip_plan_failed"],
            Duration::from_secs(60),
        )
        .await;
        let log = log_of(&db.url, trip).await;
        assert_eq!(seqs(&events), streamed(&log), "trip {trip}");
    }
    assert!(
        metric(&b, "wayfare_notifications_received_total").await > 0.0,
        "B counts the notifications it received"
    );
    a.kill_9();
    b.kill_9();

    // Cancelled through B while A plans it slowly: A's running work stops
    // and nothing is logged for the trip after the cancel.
    let slow = [("WAYFARE_FAULTS__ALL__ADDED_LATENCY", "500ms")];
    let a = Server::start(&db.url, dir.path(), &slow);
    let b = Server::start(&db.url, dir.path(), &slow);
    let trip = submit(&a).await;
    let mut socket = connect(&b.addr, &format!("/api/trips/{trip}/events")).await;
    events_until(
        &mut socket,
        &["planning_progress_update"],
        Duration::from_secs(30),
    )
    .await;
    let started = Instant::now();
    let cancelled = b
        .http
        .delete(&format!("/api/trips/{trip}/cancel"))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, 200, "{}", cancelled.text());
    let events = events_until(&mut socket, &["trip_cancelled"], Duration::from_secs(30)).await;
    assert_eq!(events.last().expect("events")["type"], "trip_cancelled");
    // A sees it too: its status, and its stream.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let on_a = a
            .http
            .get(&format!("/api/trips/{trip}/status"))
            .await
            .expect("status")
            .json();
        if on_a["status"] == "cancelled" {
            break;
        }
        assert!(Instant::now() < deadline, "A still reads {on_a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut on_a = connect(&a.addr, &format!("/api/trips/{trip}/events")).await;
    let replayed = events_until(&mut on_a, &["trip_cancelled"], Duration::from_secs(10)).await;
    assert_eq!(replayed.last().expect("events")["type"], "trip_cancelled");
    // Longer than an agent call: whatever A was running has ended by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = log_of(&db.url, &trip).await;
    let cancel_at = log
        .iter()
        .position(|(_, kind)| kind == "cancelled")
        .expect("a cancelled event");
    assert_eq!(
        cancel_at,
        log.len() - 1,
        "nothing is logged after the cancel ({:?} after cancelling): {log:?}",
        started.elapsed()
    );
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let running: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM agent_tasks WHERE trip_id = $1::uuid AND status IN ('pending', 'running')",
    )
    .bind(&trip)
    .fetch_one(&mut conn)
    .await
    .expect("query");
    drop(conn);
    assert_eq!(
        running, 0,
        "no task of the cancelled trip is left on the queue"
    );
    a.kill_9();
    b.kill_9();
    db.drop_database().await;
}

/// Issue 18's multi-process test, at a size for the test suite (24 trips;
/// `WAYFARE_PROCESSES_TRIPS` for more): two
/// servers on a fresh database, trips spread across both, one killed with
/// SIGKILL mid-way. The survivor takes the dead one's leases over (its
/// liveness row goes stale): every trip ends as the planner says it must,
/// no task's completion is logged or stored twice, no trip's log has a gap.
#[tokio::test]
async fn every_trip_ends_when_one_of_two_servers_is_killed_mid_planning() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("WAYFARE_FAULTS__ALL__ADDED_LATENCY", "150ms"),
        ("WAYFARE_ORCHESTRATOR__LEASE", "3s"),
        ("WAYFARE_ORCHESTRATOR__HEARTBEAT", "250ms"),
        ("WAYFARE_ORCHESTRATOR__NODE_TIMEOUT", "1s"),
        // Every trip runs its agents (no plan served from the cache).
        ("WAYFARE_CACHE__ENABLED", "false"),
    ];
    let mut servers = start_together(2, &db.url, dir.path(), &env).into_iter();
    let (a, b) = (servers.next().expect("A"), servers.next().expect("B"));
    // `WAYFARE_PROCESSES_TRIPS=200` for the size.
    let trips_per_server = std::env::var("WAYFARE_PROCESSES_TRIPS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(12, |n| n.div_ceil(2));
    let mut trips = Vec::new();
    for i in 0..trips_per_server * 2 {
        let server = if i % 2 == 0 { &a } else { &b };
        let query = QUERIES[i % QUERIES.len()];
        let answer = server
            .http
            .post_json("/api/trips/plan", &json!({ "query": query }))
            .await
            .expect("submit");
        assert_eq!(answer.status, 202, "{}", answer.text());
        let id = answer.json()["trip_id"].as_str().expect("an id").to_owned();
        trips.push((id, plannable(query)));
    }
    // Mid-way: some results stored, trips still planning.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = scalar(&db.url, "SELECT COUNT(*) FROM agent_results").await;
        if done >= trips.len() as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {}", a.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let planning = scalar(
        &db.url,
        "SELECT COUNT(*) FROM trip_state WHERE status = 'planning'",
    )
    .await;
    assert!(
        planning > 0,
        "every trip ended before the kill: the test proves nothing"
    );
    let killed_at = Instant::now();
    a.kill_9();

    // Every trip ends, read through the survivor.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut ready = 0;
    for (id, must_plan) in &trips {
        let status = b
            .once_ended(&format!("/api/trips/{id}/status"), deadline)
            .await;
        if *must_plan {
            assert_eq!(status["status"], "ready", "trip {id}: {status}");
        }
        ready += usize::from(status["status"] == "ready");
    }
    let all_ended = killed_at.elapsed();
    assert_no_work_doubled_or_lost(&db.url).await;
    let results = scalar(&db.url, "SELECT COUNT(*) FROM agent_results").await;
    let fenced = metric(&b, "wayfare_task_fenced_total").await;
    eprintln!(
        "[processes] {} trips over 2 servers, 1 killed with {planning} planning: {ready} ready, \
         all ended {all_ended:?} after the kill; {results} agent results, 0 stored twice, \
         0 completions logged twice, 0 log gaps; {fenced} late writes fenced on the survivor",
        trips.len()
    );
    b.kill_9();
    db.drop_database().await;
}

/// The pid of the one `wayfare` process serving `url` (read from
/// `/proc/*/environ`; the test starts it alone).
fn pid_serving(url: &str) -> u32 {
    let wanted = format!("WAYFARE_DATABASE_URL={url}");
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &u32| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == wanted.as_bytes()))
        })
        .collect();
    assert_eq!(pids.len(), 1, "one process serves {url}: {pids:?}");
    pids[0]
}

/// Fencing, black-box: a server paused (SIGSTOP) with tasks running past
/// its lease, a second one takes them over and finishes the trips; resumed
/// (SIGCONT), the first one's late outcomes are refused and counted
/// (`wayfare_task_fenced_total`), and the plans stay as they were.
#[tokio::test]
async fn a_paused_servers_late_results_are_fenced_and_the_plans_unaffected() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("WAYFARE_FAULTS__ALL__ADDED_LATENCY", "1500ms"),
        ("WAYFARE_ORCHESTRATOR__LEASE", "2s"),
        ("WAYFARE_ORCHESTRATOR__HEARTBEAT", "250ms"),
        ("WAYFARE_ORCHESTRATOR__NODE_TIMEOUT", "1s"),
        ("WAYFARE_CACHE__ENABLED", "false"),
    ];
    let a = Server::start(&db.url, dir.path(), &env);
    let pid = pid_serving(&db.url);
    let mut trips = Vec::new();
    for query in &QUERIES[..4] {
        let answer = a
            .http
            .post_json("/api/trips/plan", &json!({ "query": query }))
            .await
            .expect("submit");
        assert_eq!(answer.status, 202, "{}", answer.text());
        trips.push((
            answer.json()["trip_id"].as_str().expect("an id").to_owned(),
            plannable(query),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while scalar(
        &db.url,
        "SELECT COUNT(*) FROM agent_tasks WHERE status = 'running'",
    )
    .await
        == 0
    {
        assert!(Instant::now() < deadline, "A runs no task: {}", a.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(pid, "STOP");
    let b = Server::start(&db.url, dir.path(), &env);
    let mut plans = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    for (id, must_plan) in &trips {
        let trip = b.once_ended(&format!("/api/trips/{id}"), deadline).await;
        if *must_plan {
            assert_eq!(trip["status"], "ready", "trip {id}");
        }
        plans.insert(id.clone(), trip["itinerary"].clone());
    }
    signal(pid, "CONT");
    let fenced = late_writes_fenced_plans_kept(&a, &b, &plans, &db.url).await;
    eprintln!(
        "[processes] A paused past its lease with tasks running, B finished {} trips; \
         A resumed: {fenced} late writes fenced, plans unchanged",
        trips.len()
    );
    a.kill_9();
    b.kill_9();
    db.drop_database().await;
}
