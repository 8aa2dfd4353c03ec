//! Contract tests for the trip event log (`trip_events`, `trip_state`,
//! `trip_snapshots`), run on every backend.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wayfare_engine::clock::{Clock, ManualClock};
use wayfare_engine::state::{
    AppendError, Batch, Command, EventStore, FoldedBatch, Priority, SnapshotRef, TaskId, TripEvent,
    TripId, TripLog, TripState, TripStatus, TripSummary,
};
use wayfare_store::Store;

#[path = "../../engine/tests/common/values.rs"]
mod values;
use values::*;
use wayfare_engine::state::AgentType;

fn submitted() -> TripEvent {
    TripEvent::TripSubmitted {
        query: "5 days in Japan".into(),
        overrides: Box::new(overrides(json!({"travellers": 2}))),
    }
}

/// A trip taken through scheduling, claims, a retry, completions, a skip
/// and a ready plan.
async fn plan_a_trip(log: &TripLog<Store>, clock: &ManualClock) -> TripId {
    let trip = TripId::new();
    let run = |command: Command| {
        let log = log.clone();
        async move { log.execute(trip, command).await.expect("accepted") }
    };
    run(Command::Submit {
        query: "4 days Seattle to Denver".into(),
        overrides: Box::new(overrides(json!({"budget": 1800}))),
    })
    .await;
    run(Command::RecordIntent {
        intent: intent(json!({"destination": "Denver"})),
    })
    .await;
    let flight = TaskId::new();
    let hotel = TaskId::new();
    let tips = TaskId::new();
    for (id, agent, priority, deps) in [
        (flight, "transport", Priority::P0, vec![]),
        (hotel, "accommodation", Priority::P1, vec![flight]),
        (tips, "tips", Priority::P3, vec![]),
    ] {
        run(Command::ScheduleTask {
            task_id: id,
            agent_type: AgentType::parse(agent).expect("an agent type"),
            priority,
            depends_on: deps,
        })
        .await;
    }
    for (id, instance, succeeds) in [
        (flight, "t-1", false),
        (flight, "t-2", true),
        (hotel, "a-1", true),
    ] {
        let now = clock.now();
        run(Command::ClaimTask {
            task_id: id,
            instance_id: instance.into(),
            now,
            lease_expires_at: now + chrono::Duration::seconds(30),
            attempt: 0,
        })
        .await;
        clock.advance(Duration::from_millis(1500));
        if succeeds {
            run(Command::CompleteTask {
                task_id: id,
                result: output(json!({"by": instance, "candidates": [1, 2]})),
                elapsed_ms: 1500,
            })
            .await;
        } else {
            run(Command::FailTask {
                task_id: id,
                error: "timeout".into(),
                retryable: true,
            })
            .await;
        }
    }
    run(Command::SkipTask {
        task_id: tips,
        reason: "under load".into(),
    })
    .await;
    run(Command::FinishPlan {
        itinerary: plan(json!({"days": 4})),
        verdict: verdict(json!({"ok": true})),
    })
    .await;
    trip
}

/// A trip's stored read model, and the one a replay of its whole log
/// gives.
async fn summary_and_replay(store: &Store, trip: TripId) -> (TripSummary, TripState) {
    let summary = store
        .trip_summary(trip)
        .await
        .expect("summary")
        .expect("present");
    let events = store.load(trip, 0).await.expect("load");
    (summary, TripState::replay(trip, &events).read_model())
}

#[tokio::test]
async fn the_trip_state_row_equals_a_rebuild_from_all_events_on_every_backend() {
    for db in support::all_backends().await {
        let clock = ManualClock::at_epoch();
        let log = TripLog::new(db.store.clone(), Arc::new(clock.clone()));
        let trip = plan_a_trip(&log, &clock).await;
        let (summary, replayed) = summary_and_replay(&db.store, trip).await;
        let events = db.store.load(trip, 0).await.expect("load");
        assert_eq!(summary.state, replayed, "{}", db.name);
        assert_eq!(summary.status, TripStatus::Ready, "{}", db.name);
        assert_eq!(summary.version, events.len() as u64, "{}", db.name);
        assert!((summary.progress - 1.0).abs() < 1e-9, "{}", db.name);
        db.finish().await;
    }
}

/// The version the stored read model's JSON is at (`state_version`).
async fn json_version(store: &Store, trip: TripId) -> i64 {
    let sql = "SELECT state_version FROM trip_state WHERE trip_id = $1";
    let (version,) = support::row_by_id(store, sql, trip.as_uuid()).await;
    version
}

/// While a trip plans, an append writes the read model's columns and only
/// now and then its JSON; a reader, and an append that folds the stored
/// state (no state in hand), fold in the log's events after the JSON.
#[tokio::test]
async fn the_read_model_is_whole_at_every_version_though_its_json_lags_on_every_backend() {
    for db in support::all_backends().await {
        let trip = TripId::new();
        let at = support::at(0);
        let mut state = TripState::new(trip);
        let mut lagged = 0;
        for i in 0..24 {
            let event = if i == 0 {
                submitted()
            } else {
                TripEvent::TaskScheduled {
                    task_id: TaskId::new(),
                    agent_type: AgentType::parse("dining").expect("an agent type"),
                    priority: Priority::P2,
                    depends_on: vec![],
                }
            };
            let expected = state.version;
            if i % 10 == 9 {
                // No state in hand: the store folds the stored one.
                db.store
                    .append(
                        Batch {
                            trip_id: trip,
                            expected_version: expected,
                            events: std::slice::from_ref(&event),
                        },
                        at,
                    )
                    .await
                    .expect("a folding append");
                state = support::fold(&state, vec![event], at).1;
            } else {
                let (events, after) = support::fold(&state, vec![event], at);
                db.store
                    .append_with_state(FoldedBatch {
                        trip_id: trip,
                        expected_version: expected,
                        events: &events,
                        after: &after,
                    })
                    .await
                    .expect("an append");
                state = after;
            }
            let (summary, replayed) = summary_and_replay(&db.store, trip).await;
            assert_eq!(summary.version, state.version, "{}", db.name);
            assert_eq!(summary.status, TripStatus::Planning, "{}", db.name);
            assert_eq!(
                summary.state, replayed,
                "{}: at version {}",
                db.name, state.version
            );
            if json_version(&db.store, trip).await < state.version as i64 {
                lagged += 1;
            }
        }
        assert!(
            lagged >= 12,
            "{}: the JSON was rewritten by most appends ({lagged} of 24 lagged)",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_snapshot_plus_replay_equals_a_full_replay_on_every_backend() {
    for db in support::all_backends().await {
        let clock = ManualClock::at_epoch();
        let log = TripLog::new(db.store.clone(), Arc::new(clock.clone())).snapshot_every(5);
        let trip = plan_a_trip(&log, &clock).await;
        let events = db.store.load(trip, 0).await.expect("load");
        let snapshot = db
            .store
            .load_snapshot(trip)
            .await
            .expect("load snapshot")
            .expect("a snapshot was taken");
        assert_eq!(snapshot.version % 5, 0, "{}", db.name);
        assert!(snapshot.version < events.len() as u64, "{}", db.name);
        let tail = db.store.load(trip, snapshot.version).await.expect("tail");
        assert_eq!(
            tail.len() as u64,
            events.len() as u64 - snapshot.version,
            "{}",
            db.name
        );
        assert_eq!(
            db.store.load_state(trip).await.expect("state"),
            TripState::replay(trip, &events),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn exactly_one_of_two_concurrent_writers_wins_on_every_backend() {
    for db in support::all_backends().await {
        let at = ManualClock::at_epoch().now();
        // Racing to create a trip (no row yet), then racing on a live trip.
        for existing in [false, true] {
            let trip = TripId::new();
            let expected = if existing {
                db.store
                    .append(
                        Batch {
                            trip_id: trip,
                            expected_version: 0,
                            events: &[submitted()],
                        },
                        at,
                    )
                    .await
                    .expect("first append")
            } else {
                0
            };
            let writers: Vec<_> = (0..2)
                .map(|i| {
                    let store = db.store.clone();
                    tokio::spawn(async move {
                        let events = if expected == 0 {
                            vec![submitted()]
                        } else {
                            vec![TripEvent::PlanFailed {
                                reason: format!("writer {i}"),
                            }]
                        };
                        store
                            .append(
                                Batch {
                                    trip_id: trip,
                                    expected_version: expected,
                                    events: &events,
                                },
                                at,
                            )
                            .await
                    })
                })
                .collect();
            let mut wins = 0;
            for writer in writers {
                match writer.await.expect("join") {
                    Ok(version) => {
                        wins += 1;
                        assert_eq!(version, expected + 1, "{}", db.name);
                    }
                    Err(AppendError::Conflict {
                        expected: e,
                        actual,
                    }) => {
                        assert_eq!((e, actual), (expected, expected + 1), "{}", db.name);
                    }
                    Err(other) => panic!("{}: unexpected {other}", db.name),
                }
            }
            assert_eq!(wins, 1, "{} existing={existing}", db.name);
            let events = db.store.load(trip, 0).await.expect("load");
            assert_eq!(events.len() as u64, expected + 1, "{}", db.name);
            let summary = db.store.trip_summary(trip).await.expect("summary");
            assert_eq!(
                summary.map(|s| s.version),
                Some(expected + 1),
                "{}",
                db.name
            );
        }
        db.finish().await;
    }
}

#[tokio::test]
async fn a_stale_writer_gets_a_conflict_and_never_overwrites_on_every_backend() {
    for db in support::all_backends().await {
        let at = ManualClock::at_epoch().now();
        let trip = TripId::new();
        db.store
            .append(
                Batch {
                    trip_id: trip,
                    expected_version: 0,
                    events: &[submitted()],
                },
                at,
            )
            .await
            .expect("append");
        db.store
            .append(
                Batch {
                    trip_id: trip,
                    expected_version: 1,
                    events: &[TripEvent::Cancelled],
                },
                at,
            )
            .await
            .expect("append");
        let stale = db
            .store
            .append(
                Batch {
                    trip_id: trip,
                    expected_version: 1,
                    events: &[TripEvent::PlanFailed {
                        reason: "stale".into(),
                    }],
                },
                at,
            )
            .await;
        assert_eq!(
            stale,
            Err(AppendError::Conflict {
                expected: 1,
                actual: 2
            }),
            "{}",
            db.name
        );
        let state = db.store.load_state(trip).await.expect("state");
        assert_eq!(state.status, TripStatus::Cancelled, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn unfinished_trips_are_listed_for_resume_on_every_backend() {
    for db in support::all_backends().await {
        let at = ManualClock::at_epoch().now();
        let planning = TripId::new();
        let cancelled = TripId::new();
        db.store
            .append(
                Batch {
                    trip_id: planning,
                    expected_version: 0,
                    events: &[submitted()],
                },
                at,
            )
            .await
            .expect("append");
        db.store
            .append(
                Batch {
                    trip_id: cancelled,
                    expected_version: 0,
                    events: &[submitted(), TripEvent::Cancelled],
                },
                at,
            )
            .await
            .expect("append");
        assert_eq!(
            db.store.unfinished_trips().await.expect("list"),
            vec![planning],
            "{}",
            db.name
        );
        assert_eq!(
            db.store
                .list_trips_in_status(TripStatus::Cancelled)
                .await
                .expect("list"),
            vec![cancelled],
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn loading_a_trip_starts_from_its_snapshot_on_every_backend() {
    for db in support::all_backends().await {
        let at = ManualClock::at_epoch().now();
        let trip = TripId::new();
        db.store
            .append(
                Batch {
                    trip_id: trip,
                    expected_version: 0,
                    events: &[submitted(), TripEvent::Cancelled],
                },
                at,
            )
            .await
            .expect("append");
        let first = db.store.load(trip, 0).await.expect("load");
        let mut marked = TripState::replay(trip, &first[..1]);
        marked.modifications = 99;
        db.store
            .save_snapshot(SnapshotRef {
                trip_id: trip,
                version: 1,
                state: &marked,
            })
            .await
            .expect("save");
        let state = db.store.load_state(trip).await.expect("state");
        assert_eq!(
            state.modifications, 99,
            "{}: the snapshot was used",
            db.name
        );
        assert_eq!(
            state.status,
            TripStatus::Cancelled,
            "{}: tail replayed",
            db.name
        );
        assert_eq!(state.version, 2, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_commands_through_the_log_all_land_by_deciding_again_on_every_backend() {
    for db in support::all_backends().await {
        let clock = ManualClock::at_epoch();
        let log = TripLog::new(db.store.clone(), Arc::new(clock)).max_conflicts(50);
        let trip = TripId::new();
        log.execute(
            trip,
            Command::Submit {
                query: "q".into(),
                overrides: Box::default(),
            },
        )
        .await
        .expect("submit");
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let log = log.clone();
                tokio::spawn(async move {
                    log.execute(
                        trip,
                        Command::ScheduleTask {
                            task_id: TaskId::new(),
                            agent_type: AgentType::Dining,
                            priority: Priority::P2,
                            depends_on: vec![],
                        },
                    )
                    .await
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("join").expect("scheduled");
        }
        let state = log.load(trip).await.expect("state");
        assert_eq!(state.tasks.len(), 4, "{}", db.name);
        assert_eq!(state.version, 5, "{}", db.name);
        db.finish().await;
    }
}
