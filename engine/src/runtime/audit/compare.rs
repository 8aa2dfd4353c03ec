//! Comparing a quiet trip's read model and queue rows with what its log
//! says they should be: the findings of one audited trip, and the repairs
//! that put the tables right.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use std::sync::Arc;

use serde_json::Value;

use crate::graph::TaskOutput;

use super::{Comparison, MODIFIER, ReadModel};
use crate::state::{
    NewTask, QueueRepair, QueuedTask, TaskId, TaskState, TaskStatus, TripId, TripState, TripStatus,
};

/// Whether a trip is at rest by its log: nothing is planning it, and its
/// last event is older than `horizon`.
pub(super) fn is_quiet(state: &TripState, horizon: DateTime<Utc>) -> bool {
    state.exists()
        && matches!(
            state.status,
            TripStatus::Ready | TripStatus::Failed | TripStatus::Cancelled | TripStatus::NeedsInput
        )
        && state.rollback.is_none()
        && state.last_event_at.is_none_or(|at| at <= horizon)
}

/// Whether a modification re-ran the task in process: its queue row keeps
/// the first run, by design.
pub(super) fn replanned(state: &TripState, task: &TaskState) -> bool {
    state.modifications > 0
        && (task.instance.as_deref() == Some(MODIFIER) || task.status == TaskStatus::Skipped)
}

/// What the queue should say of a task the log has, in a quiet trip: its
/// final status, and a task the trip ended without is taken off the queue.
pub(super) fn expected_status(state: &TripState, task: &TaskState) -> TaskStatus {
    match task.status {
        s if s.is_final() => s,
        s if state.status == TripStatus::NeedsInput => s,
        _ => TaskStatus::Failed,
    }
}

pub(super) fn new_task(trip: TripId, task: &TaskState) -> NewTask {
    NewTask {
        task_id: task.task_id,
        trip_id: trip,
        agent_type: task.agent_type,
        priority: task.priority,
        depends_on: task.depends_on.clone(),
    }
}

/// The result the queue should hold for a task: the log's, when the task
/// is completed.
pub(super) fn expected_result(task: &TaskState, status: TaskStatus) -> Option<Arc<TaskOutput>> {
    (status == TaskStatus::Completed)
        .then(|| task.result.clone())
        .flatten()
}

/// The top-level fields in which two states' JSON differ.
pub(super) fn differing_fields(stored: &TripState, expected: &TripState) -> Vec<String> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(stored), serde_json::to_value(expected))
    else {
        return vec!["state".into()];
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect()
}

pub(super) fn compare_read_model(state: &TripState, read_model: &ReadModel, out: &mut Comparison) {
    let says = format!(
        "the log says status '{}' at version {}",
        state.status, state.version
    );
    let differences = match read_model {
        ReadModel::Missing => vec![format!("has no row; {says}")],
        ReadModel::Unreadable(e) => vec![format!("row cannot be read ({e}); {says}")],
        ReadModel::Row(row) => {
            let mut d = Vec::new();
            if row.status != state.status {
                d.push(format!(
                    "status '{}', the log says '{}'",
                    row.status, state.status
                ));
            }
            if row.version != state.version {
                d.push(format!(
                    "version {}, the log says {}",
                    row.version, state.version
                ));
            }
            if (row.progress - state.progress()).abs() > 1e-9 {
                d.push(format!(
                    "progress {:.2}, the log says {:.2}",
                    row.progress,
                    state.progress()
                ));
            }
            if state.last_event_at.is_some_and(|at| at != row.updated_at) {
                d.push(format!(
                    "updated at {}, the log's last event is at {}",
                    row.updated_at.to_rfc3339(),
                    state
                        .last_event_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                ));
            }
            let expected = state.read_model();
            if row.state != expected {
                d.push(format!(
                    "state differs from the log's in {}",
                    differing_fields(&row.state, &expected).join(", ")
                ));
            }
            d
        }
    };
    if !differences.is_empty() {
        out.found.push(("trip_state", differences.join("; ")));
        out.read_model = true;
    }
}

pub(super) fn compare_queue(
    state: &TripState,
    queue: &Result<Vec<QueuedTask>, String>,
    results: &[(TaskId, Value)],
    out: &mut Comparison,
) {
    let Some(trip) = state.trip_id else {
        return;
    };
    let put = |task: &TaskState, out: &mut Comparison| {
        let status = expected_status(state, task);
        out.queue.push(QueueRepair::Put {
            task: new_task(trip, task),
            status,
            result: expected_result(task, status),
        });
    };
    let rows = match queue {
        Ok(rows) => rows,
        Err(e) => {
            out.found
                .push(("agent_tasks", format!("rows cannot be read ({e})")));
            for task in &state.tasks {
                put(task, out);
            }
            return;
        }
    };
    let results: HashMap<TaskId, &Value> = results.iter().map(|(id, r)| (*id, r)).collect();
    // A trip served from the request cache, or one that ended before a
    // planning slot freed, never had rows.
    let ran_from_queue = state
        .tasks
        .iter()
        .any(|t| t.attempts > 0 && !replanned(state, t));
    if rows.is_empty() && !ran_from_queue {
        for (task_id, _) in results.iter() {
            out.found.push((
                "agent_results",
                format!("holds a result for task {task_id}, which was never queued"),
            ));
            out.queue.push(QueueRepair::Remove { task_id: *task_id });
        }
        return;
    }
    if rows.is_empty() {
        let ran = state.tasks.iter().filter(|t| t.attempts > 0).count();
        out.found.push((
            "agent_tasks",
            format!(
                "has no rows; the log ran {ran} of its {} tasks from the queue",
                state.tasks.len()
            ),
        ));
        for task in &state.tasks {
            put(task, out);
        }
        return;
    }
    let by_id: BTreeMap<TaskId, &QueuedTask> = rows.iter().map(|r| (r.task_id, r)).collect();
    for task in &state.tasks {
        let name = &task.agent_type;
        let status = expected_status(state, task);
        let Some(row) = by_id.get(&task.task_id) else {
            out.found.push((
                "agent_tasks",
                format!(
                    "has no row for the {name} task; the log says '{}'",
                    status.as_str()
                ),
            ));
            put(task, out);
            continue;
        };
        let mut wrong = false;
        if row.agent_type != task.agent_type
            || row.priority != task.priority
            || row.depends_on != task.depends_on
        {
            out.found.push((
                "agent_tasks",
                format!(
                    "{name} task is a {} task of priority {:?} after {} others, the log says {name}, {:?}, after {}",
                    row.agent_type,
                    row.priority,
                    row.depends_on.len(),
                    task.priority,
                    task.depends_on.len()
                ),
            ));
            wrong = true;
        }
        if replanned(state, task) {
            // The first run's row: it only has to be over.
            if !row.status.is_final() {
                out.found.push((
                    "agent_tasks",
                    format!(
                        "{name} task '{}', the log says '{}' (re-run by a modification)",
                        row.status.as_str(),
                        task.status.as_str()
                    ),
                ));
                wrong = true;
            }
        } else {
            if row.status != status {
                let because = if status == task.status {
                    String::new()
                } else {
                    format!(
                        " (it is '{}' in a {} trip)",
                        task.status.as_str(),
                        state.status
                    )
                };
                out.found.push((
                    "agent_tasks",
                    format!(
                        "{name} task '{}', the log says '{}'{because}",
                        row.status.as_str(),
                        status.as_str()
                    ),
                ));
                wrong = true;
            }
            let expected = expected_result(task, status);
            let stored = results.get(&task.task_id).copied();
            let result_wrong = match (&expected, stored) {
                // Compared in their stored form: a stored result that does
                // not decode differs too.
                (Some(want), Some(have))
                    if serde_json::to_value(&**want).ok().as_ref() != Some(have) =>
                {
                    out.found.push((
                        "agent_results",
                        format!("the {name} task's result differs from the log's"),
                    ));
                    true
                }
                (Some(_), None) => {
                    out.found.push((
                        "agent_results",
                        format!("has no result for the {name} task; the log has one"),
                    ));
                    true
                }
                // A completed task logged without its result (older data):
                // nothing to compare.
                (None, Some(_)) if status != TaskStatus::Completed => {
                    out.found.push((
                        "agent_results",
                        format!(
                            "holds a result for the {name} task, which the log says is '{}'",
                            status.as_str()
                        ),
                    ));
                    true
                }
                _ => false,
            };
            wrong |= result_wrong;
        }
        if wrong {
            put(task, out);
        }
    }
    for row in rows {
        if state.task(row.task_id).is_none() {
            out.found.push((
                "agent_tasks",
                format!(
                    "has a {} task ({}) the log never scheduled",
                    row.agent_type, row.task_id
                ),
            ));
            out.queue.push(QueueRepair::Remove {
                task_id: row.task_id,
            });
        }
    }
}

/// Compares a quiet trip's tables with its log.
pub(super) fn compare(
    state: &TripState,
    read_model: &ReadModel,
    queue: &Result<Vec<QueuedTask>, String>,
    results: &[(TaskId, Value)],
) -> Comparison {
    let mut out = Comparison::default();
    compare_read_model(state, read_model, &mut out);
    compare_queue(state, queue, results, &mut out);
    out
}
