//! The auditor's comparisons, one disagreement at a time.

use std::sync::Arc;

use serde_json::{Value, json};
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::verdict::Verdict;

use super::compare::*;
use super::*;
use crate::graph::TaskOutput;
use crate::state::{
    AgentType, Priority, QueuedTask, StoredEvent, TaskId, TaskStatus, TripEvent, TripId, TripState,
};

/// A task output named by a JSON literal (distinct literals, distinct
/// outputs).
fn output(v: Value) -> Arc<TaskOutput> {
    Arc::new(TaskOutput::Tips(vec![v.to_string()]))
}

/// An output in its stored form (what `agent_results` holds).
fn stored(v: Value) -> Value {
    serde_json::to_value(&*output(v)).expect("serialises")
}

fn plan(v: Value) -> Arc<Itinerary> {
    Arc::new(Itinerary {
        origin: v.to_string(),
        people: 1,
        days: Vec::new(),
        totals: wayfare_domain::itinerary::Totals::default(),
        verdict: Verdict::default(),
        city_coords: Default::default(),
    })
}

fn verdict(_v: Value) -> Arc<Verdict> {
    Arc::new(Verdict::default())
}

fn changes(_v: Value) -> Vec<wayfare_domain::trip::Change> {
    Vec::new()
}

/// A trip with one task, folded from `events` after its scheduling.
fn trip(task: TaskId, events: Vec<TripEvent>) -> TripState {
    let trip = TripId::new();
    let mut all = vec![
        TripEvent::TripSubmitted {
            query: "q".into(),
            overrides: Box::default(),
        },
        TripEvent::TaskScheduled {
            task_id: task,
            agent_type: AgentType::Budget,
            priority: Priority::P1,
            depends_on: vec![],
        },
    ];
    all.extend(events);
    let stored: Vec<StoredEvent> = all
        .into_iter()
        .enumerate()
        .map(|(i, event)| StoredEvent {
            trip_id: trip,
            seq: i as u64 + 1,
            at: DateTime::<Utc>::UNIX_EPOCH,
            event,
        })
        .collect();
    TripState::replay(trip, &stored)
}

fn claimed(task: TaskId, by: &str) -> TripEvent {
    TripEvent::TaskClaimed {
        task_id: task,
        instance_id: by.into(),
        attempt: 1,
        lease_expires_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

fn completed(task: TaskId, result: Value) -> TripEvent {
    TripEvent::TaskCompleted {
        task_id: task,
        result: output(result),
        elapsed_ms: 1,
    }
}

fn row(state: &TripState, task: TaskId, status: TaskStatus) -> QueuedTask {
    let logged = state.task(task).expect("the task");
    QueuedTask {
        task_id: task,
        trip_id: state.trip_id.expect("an id"),
        agent_type: logged.agent_type,
        priority: logged.priority,
        depends_on: logged.depends_on.clone(),
        status,
        attempts: 1,
        lease_owner: None,
        lease_expires_at: None,
        last_error: None,
    }
}

fn queue_findings(
    state: &TripState,
    rows: Vec<QueuedTask>,
    results: &[(TaskId, Value)],
) -> Comparison {
    let mut out = Comparison::default();
    compare_queue(state, &Ok(rows), results, &mut out);
    out
}

fn ready() -> TripEvent {
    TripEvent::PlanReady {
        itinerary: plan(json!({})),
        verdict: verdict(json!({})),
    }
}

#[test]
fn a_trip_served_from_the_cache_has_no_rows_and_agrees() {
    let task = TaskId::new();
    let state = trip(task, vec![completed(task, json!(1)), ready()]);
    assert!(queue_findings(&state, vec![], &[]).found.is_empty());
}

#[test]
fn a_trip_that_ran_from_the_queue_and_has_no_rows_disagrees() {
    let task = TaskId::new();
    let state = trip(
        task,
        vec![
            claimed(task, "budget-1"),
            completed(task, json!(1)),
            ready(),
        ],
    );
    let out = queue_findings(&state, vec![], &[]);
    assert_eq!(out.found.len(), 1, "{:?}", out.found);
    assert!(out.found[0].1.contains("has no rows"));
    assert!(matches!(
        &out.queue[..],
        [QueueRepair::Put { status: TaskStatus::Completed, result: Some(r), .. }] if *r == output(json!(1))
    ));
}

#[test]
fn a_task_left_over_when_a_trip_fails_is_expected_off_the_queue() {
    let task = TaskId::new();
    let state = trip(
        task,
        vec![
            claimed(task, "budget-1"),
            TripEvent::PlanFailed {
                reason: "no".into(),
            },
        ],
    );
    let failed = row(&state, task, TaskStatus::Failed);
    assert!(queue_findings(&state, vec![failed], &[]).found.is_empty());
    let pending = row(&state, task, TaskStatus::Pending);
    let out = queue_findings(&state, vec![pending], &[]);
    assert!(
        out.found[0].1.contains(
            "budget task 'pending', the log says 'failed' (it is 'running' in a failed trip)"
        ),
        "{:?}",
        out.found
    );
    assert!(matches!(
        &out.queue[..],
        [QueueRepair::Put {
            status: TaskStatus::Failed,
            result: None,
            ..
        }]
    ));
}

#[test]
fn a_task_a_modification_re_ran_keeps_its_first_row() {
    let task = TaskId::new();
    let state = trip(
        task,
        vec![
            claimed(task, "budget-1"),
            completed(task, json!("first")),
            ready(),
            TripEvent::ModificationApplied {
                changes: changes(json!([])),
                affected_tasks: vec![task],
            },
            claimed(task, MODIFIER),
            completed(task, json!("second")),
            ready(),
        ],
    );
    let first = [(task, stored(json!("first")))];
    let done = row(&state, task, TaskStatus::Completed);
    assert!(queue_findings(&state, vec![done], &first).found.is_empty());
    let running = row(&state, task, TaskStatus::Running);
    let out = queue_findings(&state, vec![running], &first);
    assert!(
        out.found[0].1.contains("re-run by a modification"),
        "{:?}",
        out.found
    );
}

#[test]
fn a_result_that_differs_and_a_row_the_log_never_scheduled_disagree() {
    let task = TaskId::new();
    let state = trip(
        task,
        vec![
            claimed(task, "budget-1"),
            completed(task, json!(1)),
            ready(),
        ],
    );
    let stray = QueuedTask {
        task_id: TaskId::new(),
        ..row(&state, task, TaskStatus::Pending)
    };
    let out = queue_findings(
        &state,
        vec![row(&state, task, TaskStatus::Completed), stray.clone()],
        &[(task, stored(json!(2)))],
    );
    let tables: Vec<&str> = out.found.iter().map(|(t, _)| *t).collect();
    assert_eq!(tables, ["agent_results", "agent_tasks"], "{:?}", out.found);
    assert!(out.queue.contains(&QueueRepair::Remove {
        task_id: stray.task_id
    }));
}

#[test]
fn only_a_trip_at_rest_for_the_quiet_period_is_audited() {
    let task = TaskId::new();
    let planning = trip(task, vec![]);
    let at = DateTime::<Utc>::UNIX_EPOCH;
    assert!(!is_quiet(&planning, at));
    let done = trip(task, vec![completed(task, json!(1)), ready()]);
    assert!(is_quiet(&done, at));
    assert!(!is_quiet(&done, at - chrono::Duration::seconds(1)));
}
