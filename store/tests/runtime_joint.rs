//! The runtime's joint writes (`RuntimeStore::append_with_queue`): an
//! append to the trip log and a write to the task queue in one
//! transaction, all or none, and the log's own optimistic check on a
//! folded append. Run on every backend.

mod support;

use support::{at, fold};

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use wayfare_engine::runtime::pipeline::TaskOutput;
use wayfare_engine::runtime::{QueueWrite, RuntimeStore};
use wayfare_engine::state::{
    AppendError, ClaimedTask, Completion, EventStore, FailedAttempt, FoldedBatch, Lease, NewTask,
    Priority, TaskId, TaskQueue, TaskStatus, TripEvent, TripId, TripState,
};

use wayfare_engine::state::AgentType;
use wayfare_store::Store;
#[path = "../../engine/tests/common/values.rs"]
mod values;
use values::*;

/// A trip with two tasks, the second depending on the first: its
/// submission and graph logged and queued in one joint write.
async fn scheduled_trip<S: RuntimeStore>(store: &S) -> (TripState, TaskId, TaskId) {
    let trip = TripId::new();
    let (first, second) = (TaskId::new(), TaskId::new());
    let graph = [
        (first, "planning", Priority::P0, vec![]),
        (second, "budget", Priority::P1, vec![first]),
    ];
    let mut events = vec![TripEvent::TripSubmitted {
        query: "3 days from Seattle to Denver".into(),
        overrides: Box::default(),
    }];
    let mut tasks = Vec::new();
    for (task_id, agent, priority, deps) in graph {
        events.push(TripEvent::TaskScheduled {
            task_id,
            agent_type: AgentType::parse(agent).expect("an agent type"),
            priority,
            depends_on: deps.clone(),
        });
        tasks.push(NewTask {
            task_id,
            trip_id: trip,
            agent_type: AgentType::parse(agent).expect("an agent type"),
            priority,
            depends_on: deps,
        });
    }
    let (stored, after) = fold(&TripState::new(trip), events, at(0));
    let version = store
        .append_with_queue(
            FoldedBatch {
                trip_id: trip,
                expected_version: 0,
                events: &stored,
                after: &after,
            },
            QueueWrite::Enqueue(&tasks).at(at(0)),
        )
        .await
        .expect("the first append");
    assert_eq!(version, after.version);
    (after, first, second)
}

/// [`scheduled_trip`] with its first task claimed (by `i-1`), and that
/// task's result: the state, the trip, the two tasks, the result.
async fn first_claimed<S: RuntimeStore>(
    store: &S,
) -> (TripState, TripId, TaskId, TaskId, Arc<TaskOutput>) {
    let (state, first, second) = scheduled_trip(store).await;
    let trip = state.trip_id.expect("a trip id");
    claim(store, "i-1", &["planning"], at(1))
        .await
        .expect("the first task");
    let result = output(json!({"output": "planning", "value": ["Denver"]}));
    (state, trip, first, second, result)
}

/// Claims the most urgent ready task of `agent_types` for `instance`.
async fn claim<S: TaskQueue>(
    store: &S,
    instance: &str,
    agent_types: &[&str],
    when: DateTime<Utc>,
) -> Option<ClaimedTask> {
    let types: Vec<AgentType> = agent_types
        .iter()
        .map(|s| AgentType::parse(s).expect("an agent type"))
        .collect();
    store
        .claim_ready(
            &types,
            Lease {
                holder: instance,
                now: when,
                length: Duration::from_secs(30),
            },
        )
        .await
        .expect("claim")
}

/// A task's status in the queue.
async fn queued_status<S: TaskQueue>(store: &S, trip: TripId, task: TaskId) -> Option<TaskStatus> {
    store
        .tasks_of(trip)
        .await
        .expect("tasks")
        .into_iter()
        .find(|t| t.task_id == task)
        .map(|t| t.status)
}

#[tokio::test]
async fn a_trips_graph_is_queued_with_its_submission_or_not_at_all_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let (state, first, second) = scheduled_trip(store).await;
        let trip = state.trip_id.expect("a trip id");
        let queued = store.tasks_of(trip).await.expect("tasks");
        assert_eq!(queued.len(), 2, "{}", db.name);
        // Only the task without dependencies is ready.
        let claimed = claim(store, "i-1", &["planning", "budget"], at(1)).await;
        assert_eq!(claimed.map(|c| c.task_id), Some(first), "{}", db.name);

        // A second trip whose submission loses a race (stale version 0 on
        // an existing trip) queues nothing.
        let other = NewTask {
            task_id: TaskId::new(),
            trip_id: trip,
            agent_type: AgentType::Tips,
            priority: Priority::P3,
            depends_on: vec![],
        };
        let (stored, after) = fold(
            &TripState::new(trip),
            vec![TripEvent::TripSubmitted {
                query: "again".into(),
                overrides: Box::default(),
            }],
            at(2),
        );
        let lost = store
            .append_with_queue(
                FoldedBatch {
                    trip_id: trip,
                    expected_version: 0,
                    events: &stored,
                    after: &after,
                },
                QueueWrite::Enqueue(std::slice::from_ref(&other)).at(at(2)),
            )
            .await;
        assert!(
            matches!(lost, Err(AppendError::Conflict { expected: 0, actual }) if actual == state.version),
            "{}: {lost:?}",
            db.name
        );
        let queued: Vec<TaskId> = store
            .tasks_of(trip)
            .await
            .expect("tasks")
            .into_iter()
            .map(|t| t.task_id)
            .collect();
        assert!(
            !queued.contains(&other.task_id),
            "{}: queued by a lost append",
            db.name
        );
        assert!(queued.contains(&second), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_result_is_in_the_queue_exactly_when_it_is_in_the_log_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let (state, trip, first, second, result) = first_claimed(store).await;
        let completed = TripEvent::TaskCompleted {
            task_id: first,
            result: result.clone(),
            elapsed_ms: 3,
        };
        let queue = QueueWrite::Complete(Completion {
            task_id: first,
            result: &result,
            fence: None,
        });

        // Decided on a stale version: neither the log nor the queue moves.
        let mut stale = state.clone();
        stale.version -= 1;
        let (stored, after) = fold(&stale, vec![completed.clone()], at(2));
        let refused = store
            .append_with_queue(
                FoldedBatch {
                    trip_id: trip,
                    expected_version: stale.version,
                    events: &stored,
                    after: &after,
                },
                queue.at(at(2)),
            )
            .await;
        assert!(
            matches!(refused, Err(AppendError::Conflict { actual, .. }) if actual == state.version),
            "{}: {refused:?}",
            db.name
        );
        assert_eq!(
            store.result(first).await.expect("result"),
            None,
            "{}",
            db.name
        );
        assert_eq!(
            queued_status(store, trip, first).await,
            Some(TaskStatus::Running),
            "{}",
            db.name
        );
        assert!(
            claim(store, "i-2", &["budget"], at(2)).await.is_none(),
            "{}: a dependent became ready without its input",
            db.name
        );

        // On the current version both land, and the dependent is ready.
        let (stored, after) = fold(&state, vec![completed], at(3));
        let version = store
            .append_with_queue(
                FoldedBatch {
                    trip_id: trip,
                    expected_version: state.version,
                    events: &stored,
                    after: &after,
                },
                queue.at(at(3)),
            )
            .await
            .expect("append");
        assert_eq!(version, state.version + 1, "{}", db.name);
        assert_eq!(
            store.load(trip, state.version).await.expect("load").len(),
            1,
            "{}",
            db.name
        );
        assert_eq!(
            store.result(first).await.expect("result"),
            Some(result.clone()),
            "{}",
            db.name
        );
        let dependent = claim(store, "i-2", &["budget"], at(4)).await;
        assert_eq!(dependent.map(|c| c.task_id), Some(second), "{}", db.name);
        db.finish().await;
    }
}

/// Where a task's stored result is kept: (its JSON is stored, the `seq`
/// of the event it names).
async fn kept(store: &Store, task: TaskId) -> (bool, Option<i64>) {
    let sql = "SELECT result IS NOT NULL, event_seq FROM agent_results WHERE task_id = $1";
    support::row_by_id(store, sql, task.as_uuid()).await
}

#[tokio::test]
async fn a_logged_result_is_stored_once_and_a_result_alone_keeps_its_json_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let (state, trip, first, second, result) = first_claimed(store).await;
        let (stored, after) = fold(
            &state,
            vec![
                TripEvent::TaskHeartbeat {
                    task_id: first,
                    instance_id: "i-1".into(),
                    lease_expires_at: at(30),
                },
                TripEvent::TaskCompleted {
                    task_id: first,
                    result: result.clone(),
                    elapsed_ms: 3,
                },
            ],
            at(2),
        );
        let queue = QueueWrite::Complete(Completion {
            task_id: first,
            result: &result,
            fence: None,
        });
        store
            .append_with_queue(
                FoldedBatch {
                    trip_id: trip,
                    expected_version: state.version,
                    events: &stored,
                    after: &after,
                },
                queue.at(at(2)),
            )
            .await
            .expect("append");
        // The second event of the append is the one that holds it.
        let seq = i64::try_from(state.version + 2).expect("a small seq");
        assert_eq!(kept(store, first).await, (false, Some(seq)), "{}", db.name);
        assert_eq!(
            store.result(first).await.expect("result"),
            Some(result.clone()),
            "{}",
            db.name
        );

        // A result the queue stores without its event keeps its JSON.
        let budget = claim(store, "i-2", &["budget"], at(3))
            .await
            .expect("the dependent is ready");
        assert_eq!(budget.task_id, second, "{}", db.name);
        let alone = output(json!({"output": "tips", "value": ["pack light"]}));
        assert!(
            store
                .complete(
                    Completion {
                        task_id: second,
                        result: &alone,
                        fence: Some(budget.epoch)
                    },
                    at(4)
                )
                .await
                .expect("complete"),
            "{}",
            db.name
        );
        assert_eq!(kept(store, second).await, (true, None), "{}", db.name);
        assert_eq!(
            store.result(second).await.expect("result"),
            Some(alone),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_folded_append_ahead_of_or_behind_the_log_is_a_conflict_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let (state, _, _) = scheduled_trip(store).await;
        let trip = state.trip_id.expect("a trip id");
        for wrong in [state.version - 1, state.version + 1, state.version + 5] {
            let mut from = state.clone();
            from.version = wrong;
            let (stored, after) = fold(
                &from,
                vec![TripEvent::PlanFailed {
                    reason: format!("decided on version {wrong}"),
                }],
                at(5),
            );
            let refused = store
                .append_with_state(FoldedBatch {
                    trip_id: trip,
                    expected_version: wrong,
                    events: &stored,
                    after: &after,
                })
                .await;
            assert!(
                matches!(refused, Err(AppendError::Conflict { expected, actual })
                    if expected == wrong && actual == state.version),
                "{} from {wrong}: {refused:?}",
                db.name
            );
        }
        let events = store.load(trip, 0).await.expect("load");
        assert_eq!(
            events.len() as u64,
            state.version,
            "{}: the log moved",
            db.name
        );
        let summary = store
            .trip_summary(trip)
            .await
            .expect("summary")
            .expect("a row");
        assert_eq!(
            summary.version, state.version,
            "{}: the read model moved",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_skip_or_a_failure_is_in_the_queue_exactly_when_it_is_in_the_log_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        for skip in [true, false] {
            let (state, first, second) = scheduled_trip(store).await;
            let trip = state.trip_id.expect("a trip id");
            claim(store, "i-1", &["planning"], at(1))
                .await
                .expect("the first task");
            let (event, queue, settled) = if skip {
                (
                    TripEvent::TaskSkipped {
                        task_id: first,
                        reason: "dropped".into(),
                    },
                    QueueWrite::Skip {
                        task_id: first,
                        fence: None,
                    },
                    TaskStatus::Skipped,
                )
            } else {
                (
                    TripEvent::TaskFailed {
                        task_id: first,
                        error: "injected".into(),
                        retryable: true,
                        attempt: 1,
                    },
                    QueueWrite::Fail(FailedAttempt {
                        task_id: first,
                        error: "injected",
                        retry_at: Some(at(60)),
                        fence: None,
                    }),
                    TaskStatus::Pending,
                )
            };

            // A stale append moves neither.
            let mut stale = state.clone();
            stale.version -= 1;
            let (stored, after) = fold(&stale, vec![event.clone()], at(2));
            let refused = store
                .append_with_queue(
                    FoldedBatch {
                        trip_id: trip,
                        expected_version: stale.version,
                        events: &stored,
                        after: &after,
                    },
                    queue.at(at(2)),
                )
                .await;
            assert!(
                matches!(refused, Err(AppendError::Conflict { .. })),
                "{}: {refused:?}",
                db.name
            );
            assert_eq!(
                queued_status(store, trip, first).await,
                Some(TaskStatus::Running),
                "{} skip={skip}",
                db.name
            );
            assert!(
                claim(store, "i-2", &["budget"], at(2)).await.is_none(),
                "{} skip={skip}: a dependent became ready before the log said why",
                db.name
            );

            // On the current version both land.
            let (stored, after) = fold(&state, vec![event], at(3));
            store
                .append_with_queue(
                    FoldedBatch {
                        trip_id: trip,
                        expected_version: state.version,
                        events: &stored,
                        after: &after,
                    },
                    queue.at(at(3)),
                )
                .await
                .expect("append");
            assert_eq!(
                queued_status(store, trip, first).await,
                Some(settled),
                "{} skip={skip}",
                db.name
            );
            let dependent = claim(store, "i-2", &["budget"], at(4))
                .await
                .map(|c| c.task_id);
            // A skip makes the dependent ready; a failure waiting for its
            // retry does not.
            assert_eq!(dependent, skip.then_some(second), "{} skip={skip}", db.name);
        }
        db.finish().await;
    }
}
