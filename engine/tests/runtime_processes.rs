//! Two runtimes sharing one store, as two processes share one PostgreSQL
//! database, with the test as the notification channel: every event one
//! runtime publishes is announced to the other (`appended_elsewhere`, what
//! the server's listener does on `NOTIFY`). A trip submitted to A is
//! streamed on B — every event of the log, in order, once — and cancelled
//! through B it stops on A. Tasks claimed ahead and waiting in one
//! runtime's backlog longer than a lease are not claimed again by the
//! other.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::WireEvent;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::TokioClock;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::pipeline::GRAPH;
use wayfare_engine::runtime::{
    EventStream, LocalAgents, MemoryRuntimeStore, Runtime, RuntimeConfig,
};
use wayfare_engine::state::{EventStore, TaskQueue, TripId};

const DENVER: &str =
    "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";

type Rt = Arc<Runtime<MemoryRuntimeStore>>;

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

fn config(latency_ms: u64) -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.orchestrator.run_agents_on_blocking_pool = false;
    c.cache.enabled = false;
    if latency_ms > 0 {
        for node in GRAPH.iter() {
            c.faults.insert(
                node.agent_type.to_string(),
                FaultConfig {
                    added_latency: Duration::from_millis(latency_ms),
                    ..FaultConfig::default()
                },
            );
        }
    }
    c
}

/// A and B on one store, each announcing what it publishes to the other.
async fn pair(latency_ms: u64) -> (Rt, Rt, MemoryRuntimeStore) {
    pair_with(config(latency_ms)).await
}

async fn pair_with(config: RuntimeConfig) -> (Rt, Rt, MemoryRuntimeStore) {
    pair_of(config.clone(), config).await
}

/// A with `config_a` and B with `config_b` on one store.
async fn pair_of(config_a: RuntimeConfig, config_b: RuntimeConfig) -> (Rt, Rt, MemoryRuntimeStore) {
    let store = MemoryRuntimeStore::new();
    let start = |config: RuntimeConfig| {
        let store = store.clone();
        async move {
            Runtime::start(config, store, catalog(), Arc::new(TokioClock::new()))
                .await
                .expect("the runtime starts")
        }
    };
    let (a, b) = (start(config_a).await, start(config_b).await);
    for (from, to) in [(&a, &b), (&b, &a)] {
        to.share_log();
        let mut published = from.subscribe_all();
        let to = Arc::downgrade(to);
        let log = store.clone();
        tokio::spawn(async move {
            loop {
                match published.recv().await {
                    Ok(event) => {
                        let (Some(to), Ok(trip)) = (to.upgrade(), event.trip_id.parse::<TripId>())
                        else {
                            return;
                        };
                        // As the store's announcer says it: whether the
                        // event only moved a task along.
                        let routine = log
                            .load(trip, event.seq - 1)
                            .await
                            .ok()
                            .and_then(|e| e.first().map(|e| e.event.is_task_progress()))
                            .unwrap_or(false);
                        to.appended_elsewhere(trip, event.seq, routine);
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
    (a, b, store)
}

/// A, a web tier with no agents of its own (`--agents none`), and B, a
/// worker running every type, its agents `latency_ms` slow.
async fn web_and_worker(latency_ms: u64) -> (Rt, Rt, MemoryRuntimeStore) {
    let (web, worker) = web_and_worker_configs(latency_ms);
    pair_of(web, worker).await
}

/// The configurations of [`web_and_worker`].
fn web_and_worker_configs(latency_ms: u64) -> (RuntimeConfig, RuntimeConfig) {
    let mut web = config(0);
    web.orchestrator.local_agents = LocalAgents::parse("none").expect("none");
    let mut worker = config(latency_ms);
    worker.orchestrator.local_agents = LocalAgents::parse(
        "location,planning,transport,accommodation,dining,activity,tips,budget,verifier",
    )
    .expect("every type");
    (web, worker)
}

/// Submits the Denver trip to `rt`; its id.
async fn submit_denver(rt: &Rt) -> String {
    rt.submit(DENVER.to_string(), TripOverrides::default())
        .await
        .expect("submitted")
        .trip_id
}

/// Waits (30 s at most) until `trip`'s log holds an event of `kind`; that
/// event's `seq` and the log's last.
async fn logged(store: &MemoryRuntimeStore, trip: TripId, kind: &str) -> (u64, u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = store.load(trip, 0).await.expect("the log");
        if let Some(e) = log.iter().find(|e| e.event.kind() == kind) {
            return (e.seq, log.last().map_or(0, |l| l.seq));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {kind} in the log"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Events from `rx` up to the first of a type in `until`.
async fn until(rx: &mut EventStream, until: &[&str]) -> Vec<WireEvent> {
    let mut events = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("none of {until:?} among {events:#?}"))
            .expect("the stream");
        let done = until.contains(&event.r#type.as_str());
        events.push(event);
        if done {
            return events;
        }
    }
}

/// The trip's status once it has stopped planning (read through `rt`,
/// which may learn of the end from the other runtime a moment after the
/// event).
async fn settled(rt: &Rt, id: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = rt.status(id).await.expect("read").expect("the trip");
        let status = status.status.as_str().to_string();
        if status != "planning" || tokio::time::Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The seqs of the trip's log that are streamed (not heartbeats).
async fn streamed(store: &MemoryRuntimeStore, trip: TripId) -> Vec<u64> {
    store
        .load(trip, 0)
        .await
        .expect("the log")
        .iter()
        .filter(|e| e.event.kind() != "task_heartbeat")
        .map(|e| e.seq)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_planned_on_a_is_streamed_on_b_every_event_once_in_order() {
    let (a, b, store) = pair(20).await;
    for _ in 0..3 {
        let id = submit_denver(&a).await;
        let (past, mut live) = b.events(&id, 0).await.expect("events").expect("the trip");
        let mut seen: Vec<u64> = past.iter().map(|e| e.seq).collect();
        let mut last = seen.last().copied().unwrap_or(0);
        for event in until(&mut live, &["trip_plan_ready", "trip_plan_failed"]).await {
            // A subscriber drops what it read in the past already.
            if event.seq > last {
                seen.push(event.seq);
                last = event.seq;
            }
        }
        let trip: TripId = id.parse().expect("an id");
        assert_eq!(seen, streamed(&store, trip).await, "trip {id}");
        let on_b = b.trip(&id).await.expect("read").expect("the trip");
        assert_eq!(
            on_b.status.as_str(),
            "ready",
            "B reads the trip as A left it"
        );
    }
    assert!(b.cluster_metrics().notifications_received > 0);
    assert!(b.cluster_metrics().events_relayed > 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_cancelled_through_b_stops_on_a() {
    let (a, b, store) = pair(300).await;
    let id = submit_denver(&a).await;
    let (_, mut on_a) = a.events(&id, 0).await.expect("events").expect("the trip");
    until(&mut on_a, &["planning_progress_update"]).await;
    b.cancel(&id).await.expect("cancelled through B");
    until(&mut on_a, &["trip_cancelled"]).await;
    let status = a.status(&id).await.expect("read").expect("the trip");
    assert_eq!(status.status.as_str(), "cancelled");
    // Longer than an agent call: A's running work has ended meanwhile and
    // logged nothing after the cancel.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let trip: TripId = id.parse().expect("an id");
    let log = store.load(trip, 0).await.expect("the log");
    assert_eq!(
        log.last().map(|e| e.event.kind()),
        Some("cancelled"),
        "nothing after the cancel"
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// One transport instance per runtime, each call 400 ms, and up to four
/// transport tasks claimed ahead of it: a claimed task waits in the
/// backlog up to 1.6 s, twice its 800 ms lease. The heartbeat renews the
/// backlog's leases too, so the other runtime never claims those tasks
/// again: every task is claimed once and no outcome is fenced. (Without
/// the backlog's renewal the other runtime re-claims the waiting tasks
/// as soon as their leases run out, and the late copies are fenced.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_waiting_in_a_backlog_past_their_lease_are_not_claimed_again() {
    let mut c = config(0);
    c.orchestrator.lease_ms = 800;
    c.orchestrator.heartbeat_ms = 50;
    c.faults.insert(
        "transport".into(),
        FaultConfig {
            added_latency: Duration::from_millis(400),
            ..FaultConfig::default()
        },
    );
    let transport = c.agents.entry("transport".into()).or_default();
    transport.min_instances = 1;
    transport.max_instances = 1;
    transport.max_capacity = 4;
    let (a, b, store) = pair_with(c).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        let on = if n % 2 == 0 { &a } else { &b };
        let id = submit_denver(on).await;
        ids.push(id);
    }
    for id in &ids {
        assert_eq!(settled(&a, id).await, "ready", "trip {id}");
    }
    for id in &ids {
        let trip: TripId = id.parse().expect("an id");
        for task in store.tasks_of(trip).await.expect("the queue") {
            assert_eq!(
                task.attempts, 1,
                "{} of trip {id} was claimed more than once",
                task.agent_type
            );
        }
    }
    let fenced = a.cluster_metrics().tasks_fenced + b.cluster_metrics().tasks_fenced;
    assert_eq!(fenced, 0, "no outcome fenced");
    a.shutdown().await;
    b.shutdown().await;
}

/// A web tier with no agents of its own (`--agents none`) and a worker
/// running every type: trips submitted to A are planned by B alone — A
/// starts no instance and claims no task — and A lists B's instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_with_no_agents_leaves_every_task_to_the_one_that_runs_them() {
    let (a, b, _store) = web_and_worker(0).await;
    assert!(
        a.agents().is_empty(),
        "A runs no instance: {:?}",
        a.agents()
    );
    assert!(!b.agents().is_empty());
    for _ in 0..3 {
        let id = submit_denver(&a).await;
        assert_eq!(settled(&a, &id).await, "ready", "trip {id}");
    }
    // The shared registry: A lists B's instances, under B's process.
    let everywhere = a.agents_everywhere().await;
    let b_process = b.agents()[0].process.clone();
    assert!(b_process.is_some());
    assert_eq!(
        everywhere.len(),
        b.agents().len(),
        "A has none of its own: {everywhere:?}"
    );
    assert!(
        everywhere
            .iter()
            .all(|i| i.process == b_process && i.status != "offline" && i.pid.is_some()),
        "{everywhere:?}"
    );
    for node in GRAPH.iter() {
        assert_eq!(
            a.invocations(node.agent_type),
            0,
            "A ran {}",
            node.agent_type
        );
        assert!(
            b.invocations(node.agent_type) > 0,
            "B ran no {}",
            node.agent_type
        );
    }
    b.shutdown().await;
    assert!(
        a.agents_everywhere().await.is_empty(),
        "a process that stopped cleanly is no longer listed"
    );
    a.shutdown().await;
}

/// Another process's routine progress on a trip this one only caches
/// (nobody here subscribes to it) is not read pointer by pointer: the cache
/// is marked behind and brought up to date when the trip is next read. The
/// trip's end is not routine: it is read at once, and the trip settles
/// here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routine_progress_elsewhere_is_read_when_the_trip_is_next_used() {
    // Slow agents: the trip is still planning while the test looks.
    let (a, b, store) = web_and_worker(150).await;
    let id = submit_denver(&a).await;
    let trip: TripId = id.parse().expect("a trip id");
    logged(&store, trip, "task_completed").await;
    // The pointer to B's completion reaches A meanwhile.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let heard = a.cluster_metrics();
    assert!(heard.notifications_received > 0, "{heard:?}");
    assert_eq!(
        heard.events_relayed, 0,
        "routine progress is not read on the pointer: {heard:?}"
    );
    let view = a.status(&id).await.expect("read").expect("the trip");
    assert_eq!(view.status.as_str(), "planning", "{view:?}");
    assert!(
        view.tasks.iter().any(|t| t.status == "completed"),
        "A reads B's progress when it reads the trip: {view:?}"
    );
    assert!(a.cluster_metrics().events_relayed > 0);
    assert_eq!(settled(&a, &id).await, "ready");
    b.shutdown().await;
    a.shutdown().await;
}

/// A trip's end read by a refresh on use, before its pointer comes, still
/// frees the trip's planning slot here (the pointer then finds nothing
/// new). No relay between the two runtimes: the test hands A its pointers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_read_before_its_pointer_still_frees_the_slot() {
    let (web, worker) = web_and_worker_configs(0);
    let store = MemoryRuntimeStore::new();
    let start = |config: RuntimeConfig| {
        let store = store.clone();
        async move {
            let rt = Runtime::start(config, store, catalog(), Arc::new(TokioClock::new()))
                .await
                .expect("the runtime starts");
            rt.share_log();
            rt
        }
    };
    let (a, b) = (start(web).await, start(worker).await);
    let id = submit_denver(&a).await;
    let trip: TripId = id.parse().expect("a trip id");
    // B's first completion, heard by A as routine progress: A's cache is
    // marked behind.
    let (completed, _) = logged(&store, trip, "task_completed").await;
    a.appended_elsewhere(trip, completed, true);
    let (_, end) = logged(&store, trip, "plan_ready").await;
    assert_eq!(a.metrics().trips_in_flight, 1, "A never heard of the end");
    // A reads the trip: the refresh reads through the end.
    let view = a.status(&id).await.expect("read").expect("the trip");
    assert_eq!(view.status.as_str(), "ready");
    assert_eq!(
        a.metrics().trips_in_flight,
        0,
        "the end read on use frees A's slot"
    );
    // The end's pointer comes after: nothing new, nothing undone.
    a.appended_elsewhere(trip, end, false);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(a.metrics().trips_in_flight, 0);
    b.shutdown().await;
    a.shutdown().await;
}
