//! Manual intervention in the trip state machine: what `decide` accepts and
//! refuses for each action, what `apply` makes of the event, and the
//! in-memory queue's requeue. (The runtime on SQLite and PostgreSQL is
//! tested in `server/tests/runtime_intervene.rs`, where the real store is.)

use chrono::{DateTime, Utc};
use serde_json::json;
use wayfare_engine::clock::{Clock, ManualClock};
use wayfare_engine::state::{
    Command, Completion, FailedAttempt, InterventionAction, Lease, MemoryTaskQueue, NewTask,
    Priority, Rejection, Requeue, TaskId, TaskQueue, TaskStatus, TripEvent, TripId, TripState,
    TripStatus, decide,
};

#[path = "common/values.rs"]
mod values;
use values::*;
use wayfare_engine::state::AgentType;

fn t0() -> DateTime<Utc> {
    ManualClock::at_epoch().now()
}

/// A lease of 30 s that `holder` takes or extends at `now`.
fn lease(holder: &str, now: DateTime<Utc>) -> Lease<'_> {
    Lease {
        holder,
        now,
        length: std::time::Duration::from_secs(30),
    }
}

/// A trip of three tasks: `a` (P0) → `b` (P2, optional in the graph's
/// sense) → `c` (P0), after `events`.
fn trip(a: TaskId, b: TaskId, c: TaskId, events: &[TripEvent]) -> TripState {
    let mut state = TripState::new(TripId::new());
    let mut all = vec![
        TripEvent::TripSubmitted {
            query: "3 days in Denver".into(),
            overrides: Box::default(),
        },
        TripEvent::IntentParsed {
            intent: intent(json!({})),
        },
        TripEvent::TaskScheduled {
            task_id: a,
            agent_type: AgentType::Transport,
            priority: Priority::P0,
            depends_on: vec![],
        },
        TripEvent::TaskScheduled {
            task_id: b,
            agent_type: AgentType::Dining,
            priority: Priority::P2,
            depends_on: vec![a],
        },
        TripEvent::TaskScheduled {
            task_id: c,
            agent_type: AgentType::Verifier,
            priority: Priority::P0,
            depends_on: vec![b],
        },
    ];
    all.extend_from_slice(events);
    for e in &all {
        state.apply(e);
    }
    state
}

fn failed_for_good(id: TaskId) -> TripEvent {
    TripEvent::TaskFailed {
        task_id: id,
        error: "injected fault".into(),
        retryable: false,
        attempt: 4,
    }
}

fn intervene(action: InterventionAction, task_id: Option<TaskId>) -> Command {
    Command::Intervene {
        action,
        task_id,
        actor: "ops".into(),
        reason: "mended".into(),
    }
}

fn applied(state: &TripState, command: Command) -> TripState {
    let events = decide(state, command).expect("accepted");
    assert_eq!(events.len(), 1, "one event per intervention: {events:?}");
    let mut after = state.clone();
    after.apply(&events[0]);
    after
}

#[test]
fn a_failed_task_is_retried_with_a_fresh_budget_and_the_trip_plans_again() {
    let (a, b, c) = (TaskId::new(), TaskId::new(), TaskId::new());
    let failed = trip(
        a,
        b,
        c,
        &[
            failed_for_good(a),
            TripEvent::PlanFailed {
                reason: "the transport agent failed".into(),
            },
        ],
    );
    let after = applied(&failed, intervene(InterventionAction::RetryTask, Some(a)));
    assert_eq!(after.status, TripStatus::Planning);
    assert_eq!(after.failure, None);
    let task = after.task(a).expect("task");
    assert_eq!((task.status, task.attempts), (TaskStatus::Pending, 0));
    assert_eq!(task.last_error, None);
    // Only a failed task, only on a failed or planning trip.
    assert_eq!(
        decide(&failed, intervene(InterventionAction::RetryTask, Some(b))),
        Err(Rejection::NotFailed {
            task: b,
            status: TaskStatus::Pending
        })
    );
    assert_eq!(
        decide(&failed, intervene(InterventionAction::RetryTask, None)),
        Err(Rejection::TaskRequired(InterventionAction::RetryTask))
    );
    let unknown = TaskId::new();
    assert_eq!(
        decide(
            &failed,
            intervene(InterventionAction::RetryTask, Some(unknown))
        ),
        Err(Rejection::UnknownTask(unknown))
    );
    let mut cancelled = failed.clone();
    cancelled.apply(&TripEvent::Cancelled);
    assert!(matches!(
        decide(
            &cancelled,
            intervene(InterventionAction::RetryTask, Some(a))
        ),
        Err(Rejection::WrongStatus { .. })
    ));
}

#[test]
fn an_optional_task_is_skipped_while_planning_and_a_critical_one_never() {
    let (a, b, c) = (TaskId::new(), TaskId::new(), TaskId::new());
    let planning = trip(a, b, c, &[]);
    let after = applied(&planning, intervene(InterventionAction::SkipTask, Some(b)));
    let task = after.task(b).expect("task");
    assert_eq!(task.status, TaskStatus::Skipped);
    assert_eq!(task.skip_reason.as_deref(), Some("left out by ops: mended"));
    assert_eq!(
        after.pending_dependencies(after.task(c).expect("c")),
        vec![]
    );
    assert_eq!(
        decide(&planning, intervene(InterventionAction::SkipTask, Some(a))),
        Err(Rejection::CriticalTask(a))
    );
    assert_eq!(
        decide(&after, intervene(InterventionAction::SkipTask, Some(b))),
        Err(Rejection::TaskFinished {
            task: b,
            status: TaskStatus::Skipped
        })
    );
}

#[test]
fn reverify_needs_a_ready_plan_and_keeps_it_as_the_rollback_point() {
    let (a, b, c) = (TaskId::new(), TaskId::new(), TaskId::new());
    let planning = trip(a, b, c, &[]);
    assert!(matches!(
        decide(&planning, intervene(InterventionAction::Reverify, Some(c))),
        Err(Rejection::WrongStatus { .. })
    ));
    let ready = trip(
        a,
        b,
        c,
        &[TripEvent::PlanReady {
            itinerary: plan(json!({"days": []})),
            verdict: verdict(json!({"checks": []})),
        }],
    );
    let after = applied(&ready, intervene(InterventionAction::Reverify, Some(c)));
    assert_eq!(after.status, TripStatus::Planning);
    assert_eq!(after.task(c).expect("c").status, TaskStatus::Pending);
    let point = after.rollback.as_ref().expect("a rollback point");
    assert_eq!(point.status, TripStatus::Ready);
    assert_eq!(point.itinerary, ready.itinerary);
    // A check that cannot finish rolls back to the plan it checked.
    let mut rolled = after.clone();
    rolled.apply(&TripEvent::ModificationRolledBack {
        reason: "no".into(),
    });
    assert_eq!(rolled.status, TripStatus::Ready);
    assert_eq!(rolled.itinerary, ready.itinerary);
    assert_eq!(rolled.modifications, 0, "not counted as a modification");
}

#[test]
fn resume_and_fail_apply_to_stuck_or_failed_trips_only() {
    let (a, b, c) = (TaskId::new(), TaskId::new(), TaskId::new());
    let planning = trip(a, b, c, &[]);
    let resumed = applied(&planning, intervene(InterventionAction::Resume, None));
    assert_eq!(resumed.status, TripStatus::Planning);
    // A failed trip resumes every failed task.
    let failed = trip(
        a,
        b,
        c,
        &[
            failed_for_good(a),
            TripEvent::PlanFailed {
                reason: "no".into(),
            },
        ],
    );
    let resumed = applied(&failed, intervene(InterventionAction::Resume, None));
    assert_eq!(resumed.status, TripStatus::Planning);
    assert_eq!(resumed.task(a).expect("a").status, TaskStatus::Pending);
    // One that failed with nothing failed (no plan was possible) does not.
    let no_plan = trip(
        a,
        b,
        c,
        &[TripEvent::PlanFailed {
            reason: "no plan fits".into(),
        }],
    );
    assert_eq!(
        decide(&no_plan, intervene(InterventionAction::Resume, None)),
        Err(Rejection::NothingToResume)
    );
    // Fail: a stuck trip ends with the operator's reason; never twice.
    let ended = applied(&planning, intervene(InterventionAction::Fail, None));
    assert_eq!(ended.status, TripStatus::Failed);
    assert_eq!(
        ended.failure.as_deref(),
        Some("marked as failed by ops: mended")
    );
    assert!(matches!(
        decide(&ended, intervene(InterventionAction::Fail, None)),
        Err(Rejection::WrongStatus { .. })
    ));
}

#[tokio::test]
async fn the_memory_queue_requeues_unfinished_tasks_with_no_attempts_counted() {
    let queue = MemoryTaskQueue::new();
    let trip = TripId::new();
    let (a, b) = (TaskId::new(), TaskId::new());
    let now = t0();
    for (id, deps) in [(a, vec![]), (b, vec![a])] {
        queue
            .enqueue(
                &NewTask {
                    task_id: id,
                    trip_id: trip,
                    agent_type: AgentType::Transport,
                    priority: Priority::P0,
                    depends_on: deps,
                },
                now,
            )
            .await
            .expect("enqueue");
    }
    let types = [AgentType::Transport];
    let claimed = queue
        .claim_ready(&types, lease("i1", now))
        .await
        .expect("claim")
        .expect("a");
    queue
        .fail(FailedAttempt {
            task_id: claimed.task_id,
            error: "broken",
            retry_at: None,
            fence: None,
        })
        .await
        .expect("fail");
    queue
        .fail(FailedAttempt {
            task_id: b,
            error: "the trip is over",
            retry_at: None,
            fence: None,
        })
        .await
        .expect("fail");
    assert!(
        queue
            .claim_ready(&types, lease("i1", now))
            .await
            .expect("claim")
            .is_none()
    );
    // Another trip's task is not touched.
    assert_eq!(
        queue
            .requeue(
                Requeue {
                    trip_id: TripId::new(),
                    task_ids: &[a, b]
                },
                now
            )
            .await
            .expect("requeue"),
        0
    );
    assert_eq!(
        queue
            .requeue(
                Requeue {
                    trip_id: trip,
                    task_ids: &[a, b]
                },
                now
            )
            .await
            .expect("requeue"),
        2
    );
    let again = queue
        .claim_ready(&types, lease("i2", now))
        .await
        .expect("claim")
        .expect("a again");
    assert_eq!((again.task_id, again.attempt), (a, 1), "a fresh budget");
    // Its dependant waits for it, as before.
    assert!(
        queue
            .claim_ready(&types, lease("i2", now))
            .await
            .expect("claim")
            .is_none()
    );
    queue
        .complete(
            Completion {
                task_id: a,
                result: &output(json!({"ok": true})),
                fence: None,
            },
            now,
        )
        .await
        .expect("complete");
    // A completed task is not requeued.
    assert_eq!(
        queue
            .requeue(
                Requeue {
                    trip_id: trip,
                    task_ids: &[a]
                },
                now
            )
            .await
            .expect("requeue"),
        0
    );
    let b_claimed = queue
        .claim_ready(&types, lease("i2", now))
        .await
        .expect("claim")
        .expect("b");
    assert_eq!(b_claimed.task_id, b);
}
