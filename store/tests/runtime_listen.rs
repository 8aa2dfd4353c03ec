//! Events across processes (PostgreSQL, the store's `announce.rs`): an
//! append to a trip's log is announced, once it commits, to every other
//! store listening on the database — a pointer (trip, last seq), never the
//! events — and a store does not hear its own. An append that was refused
//! (rolled back) is not announced. A process that leaves the list of live
//! ones is reported: the pointers of its last commits may be lost.

mod support;

use support::at;

use std::time::Duration;

use chrono::SubsecRound;
use serde_json::json;
use sqlx::Connection;
use wayfare_engine::graph::AgentType;
use wayfare_engine::state::{
    EventStore, FoldedBatch, Priority, StoredEvent, TaskId, TripEvent, TripId, TripState,
};
use wayfare_store::{Heard, Store};

#[path = "../../engine/tests/common/values.rs"]
mod values;
use values::*;

fn stored(trip: TripId, from: u64, events: Vec<TripEvent>) -> (Vec<StoredEvent>, TripState) {
    let mut state = TripState::new(trip);
    let stored: Vec<StoredEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| StoredEvent {
            trip_id: trip,
            seq: from + 1 + i as u64,
            at: at(0).trunc_subsecs(6),
            event,
        })
        .collect();
    for e in &stored {
        state.apply_stored(e);
    }
    (stored, state)
}

async fn next(listener: &mut wayfare_store::AppendListener) -> Option<Heard> {
    tokio::time::timeout(Duration::from_secs(2), listener.next())
        .await
        .ok()
        .map(|heard| heard.expect("listening"))
}

/// A connection to `url`'s database, which lists two live processes
/// (`node-a`, `node-b`) as each `wayfare serve` stamps its row before it
/// serves.
async fn two_live_processes(url: &str) -> sqlx::PgConnection {
    let mut admin = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query(
        "INSERT INTO runtime_nodes (node_id, started_at, seen_at)
         VALUES ('node-a', now(), now()), ('node-b', now(), now())",
    )
    .execute(&mut admin)
    .await
    .expect("two live processes");
    admin
}

/// `events` appended by `store` after `before` (the trip's state at its
/// version); the state they lead to.
async fn append(store: &Store, before: &TripState, events: Vec<TripEvent>) -> TripState {
    let trip = before.trip_id.expect("a trip's state");
    let (events, _) = stored(trip, before.version, events);
    let mut after = before.clone();
    for e in &events {
        after.apply_stored(e);
    }
    store
        .append_with_state(FoldedBatch {
            trip_id: trip,
            expected_version: before.version,
            events: &events,
            after: &after,
        })
        .await
        .expect("append");
    after
}

/// What a listener hears of an append to `trip` up to `seq`.
fn appended(trip: TripId, seq: u64, routine: bool) -> Option<Heard> {
    Some(Heard::Appended { trip, seq, routine })
}

#[tokio::test]
async fn another_stores_appends_are_announced_once_committed_and_its_own_are_not() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let a = &db.store;
    let b = Store::connect(&db.db.url).await.expect("a second store");
    // Two live processes, as each `wayfare serve` stamps its row before
    // it serves (pointers are announced however many there are).
    let admin = two_live_processes(&db.db.url).await;
    admin.close().await.expect("close");
    let mut hears_a = a.listen_appends().await.expect("listen").expect("postgres");
    let mut hears_b = b.listen_appends().await.expect("listen").expect("postgres");

    // `a` appends three events in one statement: one pointer, to the last.
    let trip = TripId::new();
    let (events, _) = stored(
        trip,
        0,
        vec![
            TripEvent::TripSubmitted {
                query: "3 days from Seattle to Denver".into(),
                overrides: Box::default(),
            },
            TripEvent::NeedsInput {
                questions: questions(json!(["when?"])),
            },
            TripEvent::Cancelled,
        ],
    );
    let mut after = TripState::new(trip);
    for e in &events {
        after.apply_stored(e);
    }
    a.append_with_state(FoldedBatch {
        trip_id: trip,
        expected_version: 0,
        events: &events,
        after: &after,
    })
    .await
    .expect("append");
    assert_eq!(
        next(&mut hears_b).await,
        appended(trip, 3, false),
        "the other store hears a pointer to the last event"
    );
    assert_eq!(
        next(&mut hears_a).await,
        None,
        "a store skips its own pointers"
    );

    // A stale append (version 0 again) is refused and rolled back: no
    // pointer.
    let refused = b
        .append_with_state(FoldedBatch {
            trip_id: trip,
            expected_version: 0,
            events: &events,
            after: &after,
        })
        .await;
    assert!(refused.is_err(), "a stale append is refused");
    assert_eq!(
        next(&mut hears_a).await,
        None,
        "a rolled-back append is not announced"
    );

    // `b`'s append is heard by `a`, with its seq.
    let later = append(&b, &after, vec![TripEvent::Cancelled]).await;
    assert_eq!(next(&mut hears_a).await, appended(trip, 4, false));
    assert_eq!(next(&mut hears_b).await, None);

    // An append that only moves tasks along is announced as routine.
    append(
        &b,
        &later,
        vec![TripEvent::TaskScheduled {
            task_id: TaskId::new(),
            agent_type: AgentType::Location,
            priority: Priority::P0,
            depends_on: vec![],
        }],
    )
    .await;
    assert_eq!(next(&mut hears_a).await, appended(trip, 5, true));

    drop(hears_a);
    drop(hears_b);
    b.close().await;
    db.finish().await;
}

#[tokio::test]
async fn a_process_leaving_the_live_list_is_reported_to_the_listeners() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let mut admin = two_live_processes(&db.db.url).await;
    let mut listener = db
        .store
        .listen_appends()
        .await
        .expect("listen")
        .expect("postgres");
    assert_eq!(next(&mut listener).await, None, "nobody left yet");
    // node-b is declared gone (as a live process does to a silent one).
    sqlx::query("DELETE FROM runtime_nodes WHERE node_id = 'node-b'")
        .execute(&mut admin)
        .await
        .expect("node-b gone");
    let heard = tokio::time::timeout(Duration::from_secs(10), listener.next())
        .await
        .expect("reported within the listener's checks")
        .expect("listening");
    assert_eq!(heard, Heard::Departed);
    // Reported once.
    assert_eq!(next(&mut listener).await, None);
    admin.close().await.expect("close");
    drop(listener);
    db.finish().await;
}
