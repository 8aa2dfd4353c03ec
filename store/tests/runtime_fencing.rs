//! Fencing (migration 0011): every claim of a task takes a new epoch, and
//! a completion, failure or skip that speaks for an older claim — its
//! holder was paused or cut off past its lease and someone claimed the
//! task again — is refused, alone or with the append it came with (then
//! nothing of the append is kept). Run on every backend.

mod support;

use support::{at, fold};

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use wayfare_engine::runtime::{QueueWrite, RuntimeStore};
use wayfare_engine::state::{
    AppendError, ClaimedTask, Completion, EventStore, FailedAttempt, FoldedBatch, Lease,
    LeaseError, NewTask, Priority, TaskId, TaskQueue, TaskStatus, TripEvent, TripId, TripState,
};

#[path = "../../engine/tests/common/values.rs"]
mod values;
use values::*;
use wayfare_engine::state::AgentType;

const LEASE: Duration = Duration::from_secs(30);

/// A lease of [`LEASE`] that `holder` takes or extends at `now`.
fn lease(holder: &str, now: DateTime<Utc>) -> Lease<'_> {
    Lease {
        holder,
        now,
        length: LEASE,
    }
}

/// A trip with one task, logged and queued together.
async fn one_task_trip<S: RuntimeStore>(store: &S) -> (TripState, TaskId) {
    let trip = TripId::new();
    let task_id = TaskId::new();
    let events = vec![
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
    ];
    let task = NewTask {
        task_id,
        trip_id: trip,
        agent_type: AgentType::Planning,
        priority: Priority::P0,
        depends_on: vec![],
    };
    let (stored, after) = fold(&TripState::new(trip), events, at(0));
    store
        .append_with_queue(
            FoldedBatch {
                trip_id: trip,
                expected_version: 0,
                events: &stored,
                after: &after,
            },
            QueueWrite::Enqueue(std::slice::from_ref(&task)).at(at(0)),
        )
        .await
        .expect("the first append");
    (after, task_id)
}

async fn claim<S: TaskQueue>(store: &S, instance: &str, when: DateTime<Utc>) -> ClaimedTask {
    store
        .claim_ready(&[AgentType::Planning], lease(instance, when))
        .await
        .expect("claim")
        .unwrap_or_else(|| panic!("{instance} finds the task ready"))
}

/// The task claimed by `a`, its lease run out, claimed again by `b`.
async fn reclaimed<S: RuntimeStore>(store: &S) -> (TripState, ClaimedTask, ClaimedTask) {
    let (state, task) = one_task_trip(store).await;
    let first = claim(store, "a", at(1)).await;
    assert_eq!(first.task_id, task);
    // `a` is silent past its lease: `b` takes the task over.
    let second = claim(store, "b", at(1) + chrono::Duration::seconds(31)).await;
    assert_eq!(second.task_id, task);
    assert!(
        second.epoch > first.epoch,
        "each claim takes a new epoch: {} then {}",
        first.epoch,
        second.epoch
    );
    (state, first, second)
}

async fn status<S: TaskQueue>(store: &S, trip: TripId, task: TaskId) -> TaskStatus {
    store
        .tasks_of(trip)
        .await
        .expect("tasks")
        .into_iter()
        .find(|t| t.task_id == task)
        .expect("the task")
        .status
}

#[tokio::test]
async fn an_older_claims_completion_failure_and_skip_are_refused_alone_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let (state, a, b) = reclaimed(store).await;
        let trip = state.trip_id.expect("a trip id");
        let task = a.task_id;

        let late = store
            .complete(
                Completion {
                    task_id: task,
                    result: &output(json!({"by": "a"})),
                    fence: Some(a.epoch),
                },
                at(40),
            )
            .await;
        assert_eq!(late, Err(LeaseError::Fenced(task)), "{}: complete", db.name);
        let late = store
            .fail(FailedAttempt {
                task_id: task,
                error: "late",
                retry_at: Some(at(50)),
                fence: Some(a.epoch),
            })
            .await;
        assert_eq!(late, Err(LeaseError::Fenced(task)), "{}: fail", db.name);
        let late = store.skip(task, Some(a.epoch)).await;
        assert_eq!(late, Err(LeaseError::Fenced(task)), "{}: skip", db.name);
        assert_eq!(
            status(store, trip, task).await,
            TaskStatus::Running,
            "{}",
            db.name
        );
        assert_eq!(
            store.result(task).await.expect("result"),
            None,
            "{}",
            db.name
        );

        // The latest claim's completion counts.
        let done = store
            .complete(
                Completion {
                    task_id: task,
                    result: &output(json!({"by": "b"})),
                    fence: Some(b.epoch),
                },
                at(41),
            )
            .await;
        assert_eq!(done, Ok(true), "{}", db.name);
        assert_eq!(
            store.result(task).await.expect("result"),
            Some(output(json!({"by": "b"}))),
            "{}",
            db.name
        );
        // A write with no fence (an operator's, a repair's) is not fenced:
        // the task is final, so it changes nothing.
        assert_eq!(
            store
                .complete(
                    Completion {
                        task_id: task,
                        result: &output(json!({"by": "op"})),
                        fence: None
                    },
                    at(42)
                )
                .await,
            Ok(false),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn an_older_claims_append_is_refused_whole_and_the_latest_claims_is_kept_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let (state, a, b) = reclaimed(store).await;
        let trip = state.trip_id.expect("a trip id");
        let task = a.task_id;
        let version = state.version;

        // `a` comes back and reports: a result, a failure, a skip. Each
        // append is refused whole: no event, no queue write.
        let result = output(json!({"by": "a"}));
        let writes = [
            (
                TripEvent::TaskCompleted {
                    task_id: task,
                    result: result.clone(),
                    elapsed_ms: 5,
                },
                QueueWrite::Complete(Completion {
                    task_id: task,
                    result: &result,
                    fence: Some(a.epoch),
                }),
            ),
            (
                TripEvent::TaskFailed {
                    task_id: task,
                    error: "late".into(),
                    retryable: true,
                    attempt: 1,
                },
                QueueWrite::Fail(FailedAttempt {
                    task_id: task,
                    error: "late",
                    retry_at: Some(at(60)),
                    fence: Some(a.epoch),
                }),
            ),
            (
                TripEvent::TaskSkipped {
                    task_id: task,
                    reason: "late".into(),
                },
                QueueWrite::Skip {
                    task_id: task,
                    fence: Some(a.epoch),
                },
            ),
        ];
        for (event, queue) in writes {
            let (stored, after) = fold(&state, vec![event], at(40));
            let refused = store
                .append_with_queue(
                    FoldedBatch {
                        trip_id: trip,
                        expected_version: version,
                        events: &stored,
                        after: &after,
                    },
                    queue.at(at(40)),
                )
                .await;
            assert_eq!(
                refused,
                Err(AppendError::Fenced(task)),
                "{}: {queue:?}",
                db.name
            );
            let log = store.load(trip, 0).await.expect("the log");
            assert_eq!(
                log.last().map(|e| e.seq),
                Some(version),
                "{}: nothing of a fenced append is in the log",
                db.name
            );
            assert_eq!(
                status(store, trip, task).await,
                TaskStatus::Running,
                "{}",
                db.name
            );
            assert_eq!(
                store.result(task).await.expect("result"),
                None,
                "{}",
                db.name
            );
        }

        // `b`, the latest claim, completes: its append is kept.
        let result = output(json!({"by": "b"}));
        let (stored, after) = fold(
            &state,
            vec![TripEvent::TaskCompleted {
                task_id: task,
                result: result.clone(),
                elapsed_ms: 7,
            }],
            at(41),
        );
        let kept = store
            .append_with_queue(
                FoldedBatch {
                    trip_id: trip,
                    expected_version: version,
                    events: &stored,
                    after: &after,
                },
                QueueWrite::Complete(Completion {
                    task_id: task,
                    result: &result,
                    fence: Some(b.epoch),
                })
                .at(at(41)),
            )
            .await;
        assert_eq!(kept, Ok(version + 1), "{}", db.name);
        assert_eq!(
            status(store, trip, task).await,
            TaskStatus::Completed,
            "{}",
            db.name
        );
        assert_eq!(
            store.result(task).await.expect("result"),
            Some(result),
            "{}",
            db.name
        );
        db.finish().await;
    }
}
