//! Agent workers (issue 18), black-box: on a fresh PostgreSQL database,
//! two `wayfare serve` — A the web tier alone (`--agents none`), B with
//! every agent type but transport and accommodation — and a `wayfare
//! worker --agents transport,accommodation`, so that every type is served
//! somewhere and every trip crosses processes. PostgreSQL only; skipped
//! loudly when it is not reachable locally, required under `CI=true`.
//!
//! - Trips submitted to both servers all reach `ready`; `/api/agents` on
//!   either server lists the worker's instances under its process, host
//!   and pid (and none of A's: it runs none).
//! - The worker paused (SIGSTOP) with tasks running past its lease: its
//!   instances are shown offline, and nobody plans transport until a
//!   second worker starts and takes its tasks over; resumed (SIGCONT), the
//!   first worker's late completions are fenced and the plans unaffected.
//! - Both workers killed with SIGKILL: their instances stay listed,
//!   offline; new trips wait, and complete once a third worker starts.

mod process;

use std::time::{Duration, Instant};

use process::{
    QUERIES, Server, agents, all_end, assert_no_work_doubled_or_lost,
    late_writes_fenced_plans_kept, of_pid, plannable, scalar, signal, submit, until_status,
};
use serde_json::json;
use wayfare_store::testing::TestDb;

const WORKER_AGENTS: &str = "transport,accommodation";
const B_AGENTS: &str = "location,planning,dining,activity,tips,budget,verifier";

/// Short leases and a quick node timeout, no request cache: every trip
/// runs its agents, and a silent process is noticed within a second.
const ENV: [(&str, &str); 4] = [
    ("WAYFARE_ORCHESTRATOR__LEASE", "2s"),
    ("WAYFARE_ORCHESTRATOR__HEARTBEAT", "250ms"),
    ("WAYFARE_ORCHESTRATOR__NODE_TIMEOUT", "1s"),
    ("WAYFARE_CACHE__ENABLED", "false"),
];

fn worker(url: &str, dir: &std::path::Path, latency: &str) -> Server {
    let mut env = ENV.to_vec();
    env.push(("WAYFARE_FAULTS__ALL__ADDED_LATENCY", latency));
    Server::start_with(
        &[
            "worker",
            "--agents",
            WORKER_AGENTS,
            "--listen",
            "127.0.0.1:0",
        ],
        url,
        dir,
        &env,
    )
}

#[tokio::test]
async fn a_web_tier_a_server_and_agent_workers_plan_every_trip_through_pauses_and_kills() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let a = Server::start_with(&["serve", "--agents", "none"], &db.url, dir.path(), &ENV);
    let b = Server::start_with(&["serve", "--agents", B_AGENTS], &db.url, dir.path(), &ENV);
    // Slow enough to be paused mid-call.
    let w1 = worker(&db.url, dir.path(), "1500ms");
    let health = w1
        .http
        .get("/healthz")
        .await
        .expect("the worker's /healthz");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["agents"],
        json!(["transport", "accommodation"])
    );
    assert_eq!(
        w1.http.get("/api/agents").await.expect("answer").status,
        404,
        "a worker serves no API"
    );

    // 1. Trips on both servers; every type is served somewhere.
    let mut trips = Vec::new();
    for (i, query) in QUERIES.iter().enumerate().take(6) {
        let server = if i % 2 == 0 { &a } else { &b };
        trips.push((submit(server, query).await, plannable(query)));
    }
    // The registry is shared: both servers list the worker's instances,
    // under its process, host and pid; A lists none of its own.
    for server in [&a, &b] {
        let rows = agents(server).await;
        let w1_rows = of_pid(&rows, w1.pid());
        assert!(!w1_rows.is_empty(), "no instance of the worker: {rows:#?}");
        for row in &w1_rows {
            assert!(
                ["transport", "accommodation"].contains(&row["agent_type"].as_str().unwrap_or("")),
                "{row}"
            );
            assert!(
                row["process"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("node-")),
                "{row}"
            );
            assert!(row["host"].as_str().is_some_and(|h| !h.is_empty()), "{row}");
            assert_ne!(row["status"], "offline", "{row}");
        }
        assert!(
            of_pid(&rows, a.pid()).is_empty(),
            "A runs no agent: {rows:#?}"
        );
        assert!(
            !of_pid(&rows, b.pid()).is_empty(),
            "B's instances: {rows:#?}"
        );
    }

    // 2. The worker paused with transport or accommodation running.
    let deadline = Instant::now() + Duration::from_secs(60);
    while scalar(
        &db.url,
        "SELECT COUNT(*) FROM agent_tasks WHERE status = 'running'
           AND agent_type IN ('transport', 'accommodation')",
    )
    .await
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the worker runs nothing:\n{}",
            w1.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(w1.pid(), "STOP");
    let offline_after = until_status(&a, w1.pid(), "offline", Duration::from_secs(15)).await;
    // Nobody else runs transport: the trips wait for a worker.
    let w2 = worker(&db.url, dir.path(), "0ms");
    let plans = all_end(&b, &trips, Duration::from_secs(120)).await;
    signal(w1.pid(), "CONT");
    let fenced = late_writes_fenced_plans_kept(&w1, &a, &plans, &db.url).await;
    // Back, it is listed online again.
    until_status(&b, w1.pid(), "available", Duration::from_secs(15)).await;

    // 3. Both workers killed: their instances are shown offline, new trips
    // wait, and complete once a worker runs again.
    let (w1_pid, w2_pid) = (w1.pid(), w2.pid());
    w1.kill_9();
    w2.kill_9();
    let killed_offline_after = until_status(&b, w2_pid, "offline", Duration::from_secs(15)).await;
    until_status(&a, w1_pid, "offline", Duration::from_secs(15)).await;
    let mut later = Vec::new();
    for (i, query) in QUERIES.iter().enumerate().skip(6) {
        let server = if i % 2 == 0 { &a } else { &b };
        later.push((submit(server, query).await, plannable(query)));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let waiting = scalar(
        &db.url,
        "SELECT COUNT(*) FROM trip_state WHERE status = 'planning'",
    )
    .await;
    assert!(
        waiting > 0,
        "with no worker, trips cannot get past transport"
    );
    let stuck = scalar(
        &db.url,
        "SELECT COUNT(*) FROM agent_tasks WHERE agent_type IN ('transport', 'accommodation')
           AND status IN ('pending', 'running')",
    )
    .await;
    assert!(
        stuck > 0,
        "their transport and accommodation tasks wait for a worker"
    );
    let w3 = worker(&db.url, dir.path(), "0ms");
    all_end(&a, &later, Duration::from_secs(120)).await;
    assert_no_work_doubled_or_lost(&db.url).await;
    eprintln!(
        "[processes_workers] serve --agents none + serve ({B_AGENTS}) + worker ({WORKER_AGENTS}): \
         {} trips ready; worker paused: offline after {offline_after:?}, {fenced} late writes \
         fenced on it, plans unchanged; workers killed: offline after {killed_offline_after:?}, \
         {} more trips ready once a new worker ran",
        trips.len(),
        later.len()
    );
    w3.kill_9();
    a.kill_9();
    b.kill_9();
    db.drop_database().await;
}

/// A name that is no agent type is refused at once, with the valid ones.
#[test]
fn an_unknown_agent_type_is_refused_with_the_valid_ones() {
    for args in [
        ["worker", "--agents", "transport,hotels"],
        ["serve", "--agents", "hotels"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wayfare"))
            .args(args)
            .output()
            .expect("run wayfare");
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("unknown agent type \"hotels\"")
                && stderr.contains("location, planning, transport, accommodation"),
            "{args:?}: {stderr}"
        );
    }
}
