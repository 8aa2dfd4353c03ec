//! Two runtimes sharing one store, as two processes share one PostgreSQL
//! database, with the test as the notification channel: every event one
//! runtime publishes is announced to the other (`appended_elsewhere`, what
//! the server's listener does on `NOTIFY`). A trip submitted to A is
//! streamed on B — every event of the log, in order, once — and cancelled
//! through B it stops on A.

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
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig};
use wayfare_engine::state::{EventStore, TripId};

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
    let store = MemoryRuntimeStore::new();
    let start = || async {
        Runtime::start(
            config(latency_ms),
            store.clone(),
            catalog(),
            Arc::new(TokioClock::new()),
        )
        .await
        .expect("the runtime starts")
    };
    let (a, b) = (start().await, start().await);
    for (from, to) in [(&a, &b), (&b, &a)] {
        to.share_log();
        let mut published = from.subscribe_all();
        let to = Arc::downgrade(to);
        tokio::spawn(async move {
            loop {
                match published.recv().await {
                    Ok(event) => {
                        let (Some(to), Ok(trip)) = (to.upgrade(), event.trip_id.parse::<TripId>())
                        else {
                            return;
                        };
                        to.appended_elsewhere(trip, event.seq);
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
    (a, b, store)
}

/// Events from `rx` up to the first of a type in `until`.
async fn until(
    rx: &mut tokio::sync::broadcast::Receiver<WireEvent>,
    until: &[&str],
) -> Vec<WireEvent> {
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
        let id = a
            .submit(DENVER.to_string(), TripOverrides::default())
            .await
            .expect("submitted")
            .trip_id;
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
    let id = a
        .submit(DENVER.to_string(), TripOverrides::default())
        .await
        .expect("submitted")
        .trip_id;
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
