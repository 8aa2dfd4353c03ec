//! What fencing and cross-process notification cost an append, on
//! PostgreSQL and (fencing only) SQLite (a benchmark, not a timed test: it prints its figures and
//! asserts only that every write landed). Run by hand:
//!
//!   cargo test -p wayfare-store --test append_cost -- --ignored --nocapture
//!
//! Each round writes the same work — per trip, its graph enqueued with its
//! submission, the task claimed, its result appended with the queue's
//! completion — from `CLIENTS` concurrent writers, back to back in one
//! run, three ways:
//! - `before`: no fence on the completion (what the store did before
//!   migration 0011);
//! - `fenced, one process`: the completion fenced;
//! - `fenced, another process listening`: the same, with a second store
//!   hearing the pointers this one announces after its commits
//!   (`announce.rs`).

mod support;

use support::fold;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::Connection;
use wayfare_engine::runtime::pipeline::TaskOutput;
use wayfare_engine::runtime::{QueueWrite, RuntimeStore};
use wayfare_engine::state::{
    AgentType, Completion, FoldedBatch, Lease, NewTask, Priority, StoredEvent, TaskId, TaskQueue,
    TripEvent, TripId, TripState,
};
use wayfare_store::{Heard, Store};

const CLIENTS: usize = 8;
const TRIPS_PER_CLIENT: usize = 60;

/// A trip submitted with one planning task scheduled: the events and the
/// state after them.
fn submitted(trip: TripId, task_id: TaskId, now: DateTime<Utc>) -> (Vec<StoredEvent>, TripState) {
    fold(
        &TripState::new(trip),
        vec![
            TripEvent::TripSubmitted {
                query: "3 days from Seattle to Denver".into(),
                overrides: Box::default(),
            },
            TripEvent::TaskScheduled {
                task_id,
                agent_type: AgentType::Planning,
                priority: Priority::P0,
                depends_on: vec![],
            },
        ],
        now,
    )
}

/// One trip's writes; returns the time its fenced (or not) completion took.
/// The claim may take another writer's task (every task is a planning
/// one): the writer completes what it claimed, on that task's trip.
async fn one_trip(store: &Store, fenced: bool) -> Duration {
    let trip = TripId::new();
    let task_id = TaskId::new();
    let now = Utc::now();
    let (stored, state) = submitted(trip, task_id, now);
    let task = NewTask {
        task_id,
        trip_id: trip,
        agent_type: AgentType::Planning,
        priority: Priority::P0,
        depends_on: vec![],
    };
    store
        .append_with_queue(
            FoldedBatch {
                trip_id: trip,
                expected_version: 0,
                events: &stored,
                after: &state,
            },
            QueueWrite::Enqueue(std::slice::from_ref(&task)).at(now),
        )
        .await
        .expect("enqueue");
    let claimed = store
        .claim_ready(
            &[AgentType::Planning],
            Lease {
                holder: "bench",
                now,
                length: Duration::from_secs(30),
            },
        )
        .await
        .expect("claim")
        .expect("a task is ready");
    let (trip, task_id) = (claimed.trip_id, claimed.task_id);
    let (_, state) = submitted(trip, task_id, now);
    let result = std::sync::Arc::new(TaskOutput::Tips(vec!["3 flights".into()]));
    let (stored, after) = fold(
        &state,
        vec![TripEvent::TaskCompleted {
            task_id,
            result: std::sync::Arc::clone(&result),
            elapsed_ms: 1,
        }],
        now,
    );
    let started = Instant::now();
    store
        .append_with_queue(
            FoldedBatch {
                trip_id: trip,
                expected_version: state.version,
                events: &stored,
                after: &after,
            },
            QueueWrite::Complete(Completion {
                task_id,
                result: &result,
                fence: fenced.then_some(claimed.epoch),
            })
            .at(now),
        )
        .await
        .expect("complete");
    started.elapsed()
}

/// `CLIENTS` writers, `TRIPS_PER_CLIENT` trips each: trips/s and the
/// completions' mean and p95 latency.
async fn round(store: &Store, fenced: bool) -> (f64, f64, f64) {
    let started = Instant::now();
    let mut writers = Vec::new();
    for _ in 0..CLIENTS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for _ in 0..TRIPS_PER_CLIENT {
                times.push(one_trip(&store, fenced).await);
            }
            times
        }));
    }
    let mut times = Vec::new();
    for w in writers {
        times.extend(w.await.expect("a writer"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().copied().map(ms).sum::<f64>() / times.len() as f64;
    let p95 = ms(times[times.len() * 95 / 100]);
    (times.len() as f64 / elapsed, mean, p95)
}

/// SQLite has no notification; the fence is one more statement (an insert
/// into the `task_fence` view) in the completion's script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand with --ignored --nocapture"]
async fn what_fencing_costs_an_append_on_sqlite() {
    let db = support::sqlite().await;
    println!(
        "SQLite, {CLIENTS} writers x {TRIPS_PER_CLIENT} trips: enqueue + claim + completion append"
    );
    for pass in 1..=3 {
        for (label, fenced) in [("before (no fence)", false), ("fenced", true)] {
            let (rate, mean, p95) = round(&db.store, fenced).await;
            println!(
                "pass {pass}: {label:<20} {rate:7.1} trips/s  completion append mean {mean:6.2} ms  p95 {p95:6.2} ms"
            );
        }
    }
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand with --ignored --nocapture"]
async fn what_fencing_and_notification_cost_an_append_on_postgres() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let store = &db.store;
    let mut admin = sqlx::PgConnection::connect(&db.db.url)
        .await
        .expect("connect");
    let exec = |sql: &'static str| sqlx::query(sql);
    println!("{CLIENTS} writers x {TRIPS_PER_CLIENT} trips: enqueue + claim + completion append");
    for pass in 1..=2 {
        // Before: no fence.
        let before = round(store, false).await;
        // Fenced, one process.
        exec("DELETE FROM runtime_nodes")
            .execute(&mut admin)
            .await
            .expect("nodes");
        let one = round(store, true).await;
        // Fenced, with another process listening to the pointers this
        // store announces after its commits (`announce.rs`).
        let other = Store::connect(&db.db.url).await.expect("another store");
        let mut listener = other
            .listen_appends()
            .await
            .expect("listen")
            .expect("postgres");
        let heard = tokio::spawn(async move {
            let mut trips = std::collections::HashSet::new();
            let mut pointers = 0u64;
            while let Ok(Ok(heard)) =
                tokio::time::timeout(Duration::from_secs(2), listener.next()).await
            {
                if let Heard::Appended { trip, .. } = heard {
                    trips.insert(trip);
                    pointers += 1;
                }
            }
            (trips.len(), pointers)
        });
        let two = round(store, true).await;
        let (trips, pointers) = heard.await.expect("the listener");
        other.close().await;
        for (label, (rate, mean, p95)) in [
            ("before (no fence)", before),
            ("fenced, one process", one),
            ("fenced, another process listening", two),
        ] {
            println!(
                "pass {pass}: {label:<40} {rate:7.1} trips/s  completion append mean {mean:6.2} ms  p95 {p95:6.2} ms"
            );
        }
        println!(
            "pass {pass}: pointers heard by the other store: {pointers} for {trips} trips \
             (two appends a trip, batched)"
        );
        // Every trip of the round announced (the first two rounds' trips
        // may be heard too, had their batches been in flight).
        assert!(trips >= CLIENTS * TRIPS_PER_CLIENT, "{trips} trips heard");
    }
    admin.close().await.expect("close");
    db.finish().await;
}
