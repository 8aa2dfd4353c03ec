//! The task queue's writes, written once: each is a [`Stmt`] that the
//! queue runs on its own ([`TaskQueue`](wayfare_engine::state::TaskQueue),
//! `tasks.rs`) and the log runs in an append's transaction
//! ([`RuntimeStore::append_with_queue`](wayfare_engine::runtime::RuntimeStore),
//! `events.rs`). Both import this module; neither imports the other.
//!
//! The bookkeeping that follows a write is done by the database, the same
//! way on both (triggers, migrations 0006 and 0010): storing a result in
//! `agent_results` completes its task, and a task's readiness
//! (`deps_done`) is set when it is enqueued or put back with its
//! dependencies done, and when the last of them completes or is skipped.
//! So every write here is one statement, and no write can forget to
//! promote.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use wayfare_engine::runtime::QueueWrite;
use wayfare_engine::runtime::pipeline::TaskOutput;
use wayfare_engine::state::{
    Completion, FailedAttempt, NewTask, Requeue, TaskId, TaskStatus, TripEvent, TripId,
};

use crate::StoreError;
use crate::codec::{Ids, JsonText, Time, to_i64, to_json};
use crate::db::{Arg, Dialect, Stmt};

/// Enqueues `tasks` (new ids only: enqueueing one again does nothing), in
/// one statement. Five parameters a row and one for `now`: SQLite takes
/// up to 32766 in a statement, a graph of up to 6553 tasks.
pub(crate) fn enqueue(tasks: &[NewTask], now: DateTime<Utc>) -> Result<Option<Stmt>, StoreError> {
    if tasks.is_empty() {
        return Ok(None);
    }
    let mut args = vec![Arg::Time(Some(Time(now)))];
    let mut rows = Vec::with_capacity(tasks.len());
    for task in tasks {
        let n = args.len();
        rows.push(format!(
            "(${}, ${}, ${}, ${}, 'pending', 0, $1, ${}, $1)",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5
        ));
        args.extend([
            Arg::Id(task.task_id.into()),
            Arg::Id(task.trip_id.into()),
            Arg::Text(Some(task.agent_type.as_str().to_owned())),
            Arg::Int(i64::from(task.priority.rank())),
            Arg::Ids(Ids::of(&task.depends_on)),
        ]);
    }
    Ok(Some(Stmt {
        sql: format!(
            "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority, status,
                attempts, available_at, depends_on, created_at)
             VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        ),
        args,
    }))
}

/// Where a stored result is (migration 0015 on SQLite, 0017 on
/// PostgreSQL): in the trip's log, as the `task_completed` event of that
/// `seq` written by the same append, or, without its event, as JSON of
/// its own.
pub(crate) enum Kept {
    InLog(i64),
    Json(JsonText),
}

/// Completes a task by storing its result; a trigger marks it completed
/// and promotes its dependents. A task completed already (or unknown) is
/// left alone: the first result stands. One row changed when it
/// completed the task. With `fence`, only while the task's latest claim
/// is that one (a write alone; an append checks [`Joint::fence`] first
/// instead, see `events.rs`).
pub(crate) fn complete(
    task_id: TaskId,
    kept: Kept,
    now: DateTime<Utc>,
    fence: Option<u64>,
) -> Result<Stmt, StoreError> {
    let (column, value) = match kept {
        Kept::InLog(seq) => ("event_seq", Arg::Int(seq)),
        Kept::Json(json) => ("result", Arg::Json(json)),
    };
    let mut stmt = Stmt {
        sql: format!(
            "INSERT INTO agent_results (task_id, trip_id, {column}, completed_at)
             SELECT task_id, trip_id, $1, $2 FROM agent_tasks
             WHERE task_id = $3 AND status <> 'completed'"
        ),
        args: vec![value, Arg::Time(Some(Time(now))), Arg::Id(task_id.into())],
    };
    fenced(&mut stmt, fence)?;
    stmt.sql.push_str(" ON CONFLICT DO NOTHING");
    Ok(stmt)
}

/// Adds `AND claim_epoch = <fence>` to a statement on one task.
fn fenced(stmt: &mut Stmt, fence: Option<u64>) -> Result<(), StoreError> {
    if let Some(epoch) = fence {
        stmt.args.push(Arg::Int(to_i64(epoch)?));
        stmt.sql
            .push_str(&format!(" AND claim_epoch = ${}", stmt.args.len()));
    }
    Ok(())
}

/// Moves a task that is not final to `to` (a retry's pending, failed, or
/// skipped, whose dependents a trigger promotes). One row changed when it
/// moved.
pub(crate) fn settle(
    task_id: TaskId,
    to: TaskStatus,
    error: Option<String>,
    available_at: Option<DateTime<Utc>>,
    fence: Option<u64>,
) -> Result<Stmt, StoreError> {
    let mut stmt = Stmt {
        sql: "UPDATE agent_tasks SET status = $1,
                last_error = COALESCE($2, last_error),
                available_at = COALESCE($3, available_at),
                lease_owner = NULL, lease_expires_at = NULL
              WHERE task_id = $4 AND status IN ('pending', 'running')"
            .to_owned(),
        args: vec![
            Arg::Text(Some(to.as_str().to_owned())),
            Arg::Text(error),
            Arg::Time(available_at.map(Time)),
            Arg::Id(task_id.into()),
        ],
    };
    fenced(&mut stmt, fence)?;
    Ok(stmt)
}

/// Puts tasks of a trip back as pending with a fresh retry budget;
/// completed and skipped ones are left alone. They are not ready here; a
/// trigger makes those whose dependencies are done ready again.
pub(crate) fn requeue(
    dialect: &Dialect,
    trip_id: TripId,
    task_ids: &[TaskId],
    now: DateTime<Utc>,
) -> Stmt {
    Stmt {
        sql: format!(
            "UPDATE agent_tasks SET status = 'pending', attempts = 0, lease_owner = NULL,
                lease_expires_at = NULL, last_error = NULL, available_at = $1,
                deps_done = FALSE
             WHERE task_id {} AND trip_id = $3 AND status NOT IN ('completed', 'skipped')",
            dialect.in_list("$2")
        ),
        args: vec![
            Arg::Time(Some(Time(now))),
            Arg::Ids(Ids::of(task_ids)),
            Arg::Id(trip_id.into()),
        ],
    }
}

/// A queue write owned by the append that carries it (see
/// [`QueueWrite`]); its values are encoded before any lock is taken.
pub(crate) enum Joint {
    Enqueue(Vec<NewTask>),
    /// Encoded only when the append does not log it (see [`Joint::stmt`]).
    Complete {
        task_id: TaskId,
        result: Arc<TaskOutput>,
        fence: Option<u64>,
    },
    Settle {
        task_id: TaskId,
        to: TaskStatus,
        error: Option<String>,
        available_at: Option<DateTime<Utc>>,
        fence: Option<u64>,
    },
    Requeue {
        trip_id: TripId,
        task_ids: Vec<TaskId>,
    },
}

impl Joint {
    pub(crate) fn of(queue: QueueWrite<'_>) -> Result<Self, StoreError> {
        Ok(match queue {
            QueueWrite::Enqueue(tasks) => Joint::Enqueue(tasks.to_vec()),
            QueueWrite::Complete(Completion {
                task_id,
                result,
                fence,
            }) => Joint::Complete {
                task_id,
                result: Arc::clone(result),
                fence,
            },
            QueueWrite::Fail(FailedAttempt {
                task_id,
                error,
                retry_at,
                fence,
            }) => Joint::Settle {
                task_id,
                to: if retry_at.is_some() {
                    TaskStatus::Pending
                } else {
                    TaskStatus::Failed
                },
                error: Some(error.to_owned()),
                available_at: retry_at,
                fence,
            },
            QueueWrite::Skip { task_id, fence } => Joint::Settle {
                task_id,
                to: TaskStatus::Skipped,
                error: None,
                available_at: None,
                fence,
            },
            QueueWrite::Requeue(Requeue { trip_id, task_ids }) => Joint::Requeue {
                trip_id,
                task_ids: task_ids.to_vec(),
            },
        })
    }

    /// The claim the write speaks for, if any: the append checks it first
    /// (`events.rs`, `Fence`).
    pub(crate) fn fence(&self) -> Option<(TaskId, u64)> {
        match self {
            Joint::Complete {
                task_id,
                fence: Some(epoch),
                ..
            }
            | Joint::Settle {
                task_id,
                fence: Some(epoch),
                ..
            } => Some((*task_id, *epoch)),
            _ => None,
        }
    }

    /// The write's statement (none for an empty enqueue). Its fence is
    /// not in it: the append checks that first ([`Joint::fence`]); a write
    /// alone is checked by the statement. `logged`: the events the append
    /// writes with it, the first at `seq` `first`; a completion whose
    /// `task_completed` event with the same result is among them keeps
    /// the result there ([`Kept::InLog`]) instead of a second copy.
    pub(crate) fn stmt(
        self,
        dialect: &Dialect,
        now: DateTime<Utc>,
        logged: (u64, &[&TripEvent]),
    ) -> Result<Option<Stmt>, StoreError> {
        Ok(match self {
            Joint::Enqueue(tasks) => enqueue(&tasks, now)?,
            Joint::Complete {
                task_id, result, ..
            } => {
                let (first, events) = logged;
                let seq = events
                    .iter()
                    .zip(first..)
                    .find_map(|(event, seq)| match event {
                        TripEvent::TaskCompleted {
                            task_id: id,
                            result: logged,
                            ..
                        } if *id == task_id
                            && (Arc::ptr_eq(logged, &result) || logged == &result) =>
                        {
                            Some(seq)
                        }
                        _ => None,
                    });
                let kept = match seq {
                    Some(seq) => Kept::InLog(to_i64(seq)?),
                    None => Kept::Json(JsonText(to_json(&result)?)),
                };
                Some(complete(task_id, kept, now, None)?)
            }
            Joint::Settle {
                task_id,
                to,
                error,
                available_at,
                ..
            } => Some(settle(task_id, to, error, available_at, None)?),
            Joint::Requeue { trip_id, task_ids } => Some(requeue(dialect, trip_id, &task_ids, now)),
        })
    }
}
