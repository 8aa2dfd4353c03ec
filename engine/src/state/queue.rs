//! The task queue: how agent instances (in this process or, on PostgreSQL,
//! in several) share out a trip's tasks.
//!
//! A claim takes the most urgent ready task (P0 first, then the order of
//! enqueueing) whose dependencies are all completed (or skipped), under a
//! lease. The holder extends the lease with heartbeats; when a lease runs
//! out (the instance died) the task can be claimed again. A completed task's
//! result is stored in the same step that marks it completed, so it is
//! persisted before any dependent can be claimed; completing twice keeps the
//! first result (at-least-once delivery is safe).
//!
//! Time is passed in by the caller (`now`, from its [`crate::clock::Clock`])
//! rather than read from the database, so that tests can move it by hand.
//! With several processes, keep leases long compared with clock skew.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::event::Priority;
use super::ids::{TaskId, TripId};
use super::port::PortError;
use super::trip::TaskStatus;
use crate::graph::{AgentType, TaskOutput};

/// A task to put on the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub task_id: TaskId,
    pub trip_id: TripId,
    pub agent_type: AgentType,
    pub priority: Priority,
    pub depends_on: Vec<TaskId>,
}

/// A task an instance now holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClaimedTask {
    pub task_id: TaskId,
    pub trip_id: TripId,
    pub agent_type: AgentType,
    pub priority: Priority,
    pub depends_on: Vec<TaskId>,
    pub instance_id: String,
    /// 1 on the first claim.
    pub attempt: u32,
    pub lease_expires_at: DateTime<Utc>,
    /// The claim's fencing token: one more on every claim of the task
    /// (never reset, unlike `attempt`). The holder's completion, failure
    /// and skip carry it, and the queue refuses them
    /// ([`LeaseError::Fenced`]) once someone has claimed the task again.
    pub epoch: u64,
}

/// A queue row, for inspection (dashboards, tests, resume).
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedTask {
    pub task_id: TaskId,
    pub trip_id: TripId,
    pub agent_type: AgentType,
    pub priority: Priority,
    pub depends_on: Vec<TaskId>,
    pub status: TaskStatus,
    pub attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Why a lease operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// The lease expired and someone else may hold the task now: stop
    /// working on it (a result may still be reported with `complete`).
    #[error("the lease on task {0} was lost")]
    Lost(TaskId),
    #[error("no task {0}")]
    UnknownTask(TaskId),
    /// The write spoke for a claim that is no longer the task's latest
    /// (its lease ran out and someone claimed it again): refused, nothing
    /// written.
    #[error("task {0} was claimed again since: the write of an older claim is refused")]
    Fenced(TaskId),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Adds `d` to `t`, saturating.
pub fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The terms of a lease a claim takes or a heartbeat extends: who holds
/// it (an instance, or a process's node id for a batch), from when, and
/// for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease<'a> {
    pub holder: &'a str,
    pub now: DateTime<Utc>,
    pub length: Duration,
}

impl Lease<'_> {
    /// When the lease runs out: `length` after `now`, saturating.
    pub fn expires_at(&self) -> DateTime<Utc> {
        after(self.now, self.length)
    }
}

/// A process's word that it is alive, at `now`, and how long another may
/// be silent before it counts as gone ([`TaskQueue::node_alive`],
/// [`TaskQueue::recover_leases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness<'a> {
    pub node_id: &'a str,
    pub now: DateTime<Utc>,
    pub silent_for: Duration,
}

/// A task's result, to store as it is marked completed
/// ([`TaskQueue::complete`]). `fence`, here and in [`FailedAttempt`]: the
/// claim the write speaks for ([`ClaimedTask::epoch`]); the write is
/// refused with [`LeaseError::Fenced`] when the task was claimed again
/// since. `None` writes whoever holds it (an operator, a repair).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Completion<'a> {
    pub task_id: TaskId,
    pub result: &'a Arc<TaskOutput>,
    pub fence: Option<u64>,
}

/// A failed attempt at a task ([`TaskQueue::fail`]): with `retry_at`, the
/// task becomes claimable again then (the retry policy's backoff); without,
/// it has failed for good.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailedAttempt<'a> {
    pub task_id: TaskId,
    pub error: &'a str,
    pub retry_at: Option<DateTime<Utc>>,
    pub fence: Option<u64>,
}

/// Tasks of one trip to put back as pending ([`TaskQueue::requeue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requeue<'a> {
    pub trip_id: TripId,
    pub task_ids: &'a [TaskId],
}

/// The queue of agent tasks.
pub trait TaskQueue: Send + Sync {
    /// Adds a task as pending; enqueueing the same id again does nothing.
    fn enqueue(
        &self,
        task: &NewTask,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Enqueues several tasks, in one write where the store can.
    fn enqueue_all(
        &self,
        tasks: &[NewTask],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), PortError>> + Send {
        async move {
            for task in tasks {
                self.enqueue(task, now).await?;
            }
            Ok(())
        }
    }

    /// Claims the most urgent ready task of one of `agent_types`, under
    /// `lease`.
    fn claim_ready(
        &self,
        agent_types: &[AgentType],
        lease: Lease<'_>,
    ) -> impl Future<Output = Result<Option<ClaimedTask>, PortError>> + Send;

    /// Claims up to `limit` ready tasks of each agent type in `limits`
    /// (most urgent first within a type), each under `lease`, in one write
    /// where the store allows.
    fn claim_ready_many(
        &self,
        limits: &[(AgentType, usize)],
        lease: Lease<'_>,
    ) -> impl Future<Output = Result<Vec<ClaimedTask>, PortError>> + Send {
        async move {
            let mut claimed = Vec::new();
            for (agent_type, limit) in limits {
                let types = [*agent_type];
                for _ in 0..*limit {
                    match self.claim_ready(&types, lease).await? {
                        Some(task) => claimed.push(task),
                        None => break,
                    }
                }
            }
            claimed.sort_by_key(|t: &ClaimedTask| t.priority);
            Ok(claimed)
        }
    }

    /// Extends the lease on `task_id` that `lease.holder` holds to the
    /// terms of `lease`; returns the new expiry.
    fn heartbeat(
        &self,
        task_id: TaskId,
        lease: Lease<'_>,
    ) -> impl Future<Output = Result<DateTime<Utc>, LeaseError>> + Send;

    /// Extends every lease in `task_ids` that `lease.holder` still holds,
    /// in one write where the store allows; returns how many it extended.
    fn heartbeat_all(
        &self,
        task_ids: &[TaskId],
        lease: Lease<'_>,
    ) -> impl Future<Output = Result<usize, PortError>> + Send {
        async move {
            let mut extended = 0;
            for task in task_ids {
                match self.heartbeat(*task, lease).await {
                    Ok(_) => extended += 1,
                    Err(LeaseError::Port(e)) => return Err(e),
                    Err(_) => {}
                }
            }
            Ok(extended)
        }
    }

    /// Start-up recovery: makes the tasks leased by processes that are gone
    /// claimable at once instead of when their leases run out, and records
    /// `node.node_id` as alive; returns how many leases it released. A
    /// store only one process uses (SQLite) releases every lease it finds:
    /// its predecessor is dead. A shared one (PostgreSQL) releases those of
    /// processes silent for `node.silent_for`: what
    /// [`TaskQueue::node_alive`] does, and the default. The in-memory queue
    /// keeps leases to run out.
    fn recover_leases(
        &self,
        node: Liveness<'_>,
    ) -> impl Future<Output = Result<usize, PortError>> + Send {
        self.node_alive(node)
    }

    /// Every heartbeat: `node.node_id` is alive (so that no other process
    /// takes its leases), and the leases of processes silent for
    /// `node.silent_for` are released; returns how many. A no-op where one
    /// process uses the store.
    fn node_alive(
        &self,
        node: Liveness<'_>,
    ) -> impl Future<Output = Result<usize, PortError>> + Send {
        let _ = node;
        async { Ok(0) }
    }

    /// Stores the result and marks the task completed, in one step, at
    /// `now`. Returns `false` (and keeps the first result) when it was
    /// already completed.
    fn complete(
        &self,
        completion: Completion<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, LeaseError>> + Send;

    /// Records a failed attempt (see [`FailedAttempt`]).
    fn fail(
        &self,
        attempt: FailedAttempt<'_>,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;

    /// Marks a task skipped (flagged degradation); its dependents may run.
    /// `fence` as in [`Completion`].
    fn skip(
        &self,
        task_id: TaskId,
        fence: Option<u64>,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;

    /// Puts the `task_ids` of the requeue's trip back as pending and
    /// claimable from `now`, with no attempts counted (a fresh retry
    /// budget), no lease and no error: an operator's retry or resume.
    /// Completed and skipped tasks are left alone; readiness is worked out
    /// again from the dependencies. Returns how many tasks it put back.
    fn requeue(
        &self,
        requeue: Requeue<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<usize, PortError>> + Send;

    /// A completed task's stored result.
    fn result(
        &self,
        task_id: TaskId,
    ) -> impl Future<Output = Result<Option<Arc<TaskOutput>>, PortError>> + Send;

    /// A trip's tasks in the order they were enqueued.
    fn tasks_of(
        &self,
        trip_id: TripId,
    ) -> impl Future<Output = Result<Vec<QueuedTask>, PortError>> + Send;
}

#[derive(Debug)]
struct Row {
    task: QueuedTask,
    available_at: DateTime<Utc>,
    result: Option<Arc<TaskOutput>>,
    /// The latest claim's fencing token.
    epoch: u64,
}

impl Row {
    /// A new row of `task` in `status`, claimable from `now`: no attempts,
    /// no lease, no error, no result.
    fn new(task: &NewTask, status: TaskStatus, now: DateTime<Utc>) -> Self {
        Row {
            task: QueuedTask {
                task_id: task.task_id,
                trip_id: task.trip_id,
                agent_type: task.agent_type,
                priority: task.priority,
                depends_on: task.depends_on.clone(),
                status,
                attempts: 0,
                lease_owner: None,
                lease_expires_at: None,
                last_error: None,
            },
            available_at: now,
            result: None,
            epoch: 0,
        }
    }

    /// Refuses a write that speaks for an older claim.
    fn fence(&self, fence: Option<u64>) -> Result<(), LeaseError> {
        match fence {
            Some(epoch) if epoch != self.epoch => Err(LeaseError::Fenced(self.task.task_id)),
            _ => Ok(()),
        }
    }
}

/// Enqueue order, and the rows by id.
type Rows = (Vec<TaskId>, HashMap<TaskId, Row>);

/// The in-memory task queue. Clones share the same queue.
#[derive(Debug, Clone, Default)]
pub struct MemoryTaskQueue {
    rows: Arc<Mutex<Rows>>,
}

impl MemoryTaskQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes a trip's tasks and their results; whether it had any (the
    /// in-memory side of deleting a trip).
    pub fn remove_trip(&self, trip_id: TripId) -> bool {
        let mut guard = self.lock();
        let (order, rows) = &mut *guard;
        let before = rows.len();
        rows.retain(|_, row| row.task.trip_id != trip_id);
        order.retain(|id| rows.contains_key(id));
        rows.len() != before
    }
}

impl MemoryTaskQueue {
    /// A trip's stored results, in enqueue order, in their stored form
    /// (the auditor's read).
    pub fn results_of(&self, trip_id: TripId) -> Vec<(TaskId, serde_json::Value)> {
        let guard = self.lock();
        let (order, rows) = &*guard;
        order
            .iter()
            .filter_map(|id| rows.get(id))
            .filter(|r| r.task.trip_id == trip_id)
            .filter_map(|r| {
                let stored = serde_json::to_value(r.result.as_deref()?).ok()?;
                Some((r.task.task_id, stored))
            })
            .collect()
    }

    /// Puts a row as given (inserted when missing), without a lease, its
    /// result set to `result` (the auditor's repair, and tests that
    /// corrupt the queue on purpose).
    pub fn put(
        &self,
        task: &NewTask,
        status: TaskStatus,
        result: Option<Arc<TaskOutput>>,
        now: DateTime<Utc>,
    ) {
        let mut guard = self.lock();
        let (order, rows) = &mut *guard;
        if !rows.contains_key(&task.task_id) {
            order.push(task.task_id);
        }
        let row = rows
            .entry(task.task_id)
            .or_insert_with(|| Row::new(task, status, now));
        row.task.trip_id = task.trip_id;
        row.task.agent_type = task.agent_type;
        row.task.priority = task.priority;
        row.task.depends_on = task.depends_on.clone();
        row.task.status = status;
        row.task.lease_owner = None;
        row.task.lease_expires_at = None;
        row.result = result;
    }

    /// Whether a write speaking for the claim `fence` of `task_id` would
    /// be refused now (the task was claimed again since). An unknown task
    /// or no fence is not refused.
    pub fn is_fenced(&self, task_id: TaskId, fence: Option<u64>) -> bool {
        self.lock()
            .1
            .get(&task_id)
            .is_some_and(|row| row.fence(fence).is_err())
    }

    /// Removes one row and its result; whether there was one.
    pub fn remove(&self, task_id: TaskId) -> bool {
        let mut guard = self.lock();
        let (order, rows) = &mut *guard;
        order.retain(|id| *id != task_id);
        rows.remove(&task_id).is_some()
    }
}

fn claimable(row: &Row, rows: &HashMap<TaskId, Row>, now: DateTime<Utc>) -> bool {
    let ready = match row.task.status {
        TaskStatus::Pending => row.available_at <= now,
        TaskStatus::Running => row.task.lease_expires_at.is_some_and(|t| t <= now),
        _ => false,
    };
    ready
        && row.task.depends_on.iter().all(|dep| {
            rows.get(dep)
                .is_some_and(|d| d.task.status.satisfies_dependents())
        })
}

impl TaskQueue for MemoryTaskQueue {
    async fn enqueue(&self, task: &NewTask, now: DateTime<Utc>) -> Result<(), PortError> {
        let mut guard = self.lock();
        let (order, rows) = &mut *guard;
        if rows.contains_key(&task.task_id) {
            return Ok(());
        }
        order.push(task.task_id);
        rows.insert(task.task_id, Row::new(task, TaskStatus::Pending, now));
        Ok(())
    }

    async fn claim_ready(
        &self,
        agent_types: &[AgentType],
        lease: Lease<'_>,
    ) -> Result<Option<ClaimedTask>, PortError> {
        let now = lease.now;
        let mut guard = self.lock();
        let (order, rows) = &mut *guard;
        let best = order
            .iter()
            .enumerate()
            .filter_map(|(pos, id)| rows.get(id).map(|row| (pos, row)))
            // Finished rows are most of a long-lived queue: drop them first.
            .filter(|(_, row)| !row.task.status.is_final())
            .filter(|(_, row)| agent_types.contains(&row.task.agent_type))
            .filter(|(_, row)| claimable(row, rows, now))
            .min_by_key(|(pos, row)| (row.task.priority, *pos))
            .map(|(_, row)| row.task.task_id);
        let Some(id) = best else {
            return Ok(None);
        };
        let Some(row) = rows.get_mut(&id) else {
            return Ok(None);
        };
        let lease_expires_at = lease.expires_at();
        row.task.status = TaskStatus::Running;
        row.task.attempts += 1;
        row.task.lease_owner = Some(lease.holder.to_owned());
        row.task.lease_expires_at = Some(lease_expires_at);
        row.epoch += 1;
        Ok(Some(ClaimedTask {
            task_id: id,
            trip_id: row.task.trip_id,
            agent_type: row.task.agent_type,
            priority: row.task.priority,
            depends_on: row.task.depends_on.clone(),
            instance_id: lease.holder.to_owned(),
            attempt: row.task.attempts,
            lease_expires_at,
            epoch: row.epoch,
        }))
    }

    async fn heartbeat(
        &self,
        task_id: TaskId,
        lease: Lease<'_>,
    ) -> Result<DateTime<Utc>, LeaseError> {
        let mut guard = self.lock();
        let row = guard
            .1
            .get_mut(&task_id)
            .ok_or(LeaseError::UnknownTask(task_id))?;
        if row.task.status != TaskStatus::Running
            || row.task.lease_owner.as_deref() != Some(lease.holder)
        {
            return Err(LeaseError::Lost(task_id));
        }
        let until = lease.expires_at();
        row.task.lease_expires_at = Some(until);
        Ok(until)
    }

    async fn complete(
        &self,
        completion: Completion<'_>,
        _now: DateTime<Utc>,
    ) -> Result<bool, LeaseError> {
        let mut guard = self.lock();
        let row = guard
            .1
            .get_mut(&completion.task_id)
            .ok_or(LeaseError::UnknownTask(completion.task_id))?;
        row.fence(completion.fence)?;
        if row.task.status == TaskStatus::Completed {
            return Ok(false);
        }
        row.result = Some(Arc::clone(completion.result));
        row.task.status = TaskStatus::Completed;
        row.task.lease_owner = None;
        row.task.lease_expires_at = None;
        Ok(true)
    }

    async fn fail(&self, attempt: FailedAttempt<'_>) -> Result<(), LeaseError> {
        let mut guard = self.lock();
        let row = guard
            .1
            .get_mut(&attempt.task_id)
            .ok_or(LeaseError::UnknownTask(attempt.task_id))?;
        row.fence(attempt.fence)?;
        if row.task.status.is_final() {
            return Ok(());
        }
        row.task.last_error = Some(attempt.error.to_owned());
        row.task.lease_owner = None;
        row.task.lease_expires_at = None;
        match attempt.retry_at {
            Some(at) => {
                row.task.status = TaskStatus::Pending;
                row.available_at = at;
            }
            None => row.task.status = TaskStatus::Failed,
        }
        Ok(())
    }

    async fn skip(&self, task_id: TaskId, fence: Option<u64>) -> Result<(), LeaseError> {
        let mut guard = self.lock();
        let row = guard
            .1
            .get_mut(&task_id)
            .ok_or(LeaseError::UnknownTask(task_id))?;
        row.fence(fence)?;
        if !row.task.status.is_final() {
            row.task.status = TaskStatus::Skipped;
            row.task.lease_owner = None;
            row.task.lease_expires_at = None;
        }
        Ok(())
    }

    async fn requeue(&self, requeue: Requeue<'_>, now: DateTime<Utc>) -> Result<usize, PortError> {
        let Requeue { trip_id, task_ids } = requeue;
        let mut guard = self.lock();
        let mut requeued = 0;
        for id in task_ids {
            let Some(row) = guard.1.get_mut(id) else {
                continue;
            };
            if row.task.trip_id != trip_id || row.task.status.satisfies_dependents() {
                continue;
            }
            row.task.status = TaskStatus::Pending;
            row.task.attempts = 0;
            row.task.lease_owner = None;
            row.task.lease_expires_at = None;
            row.task.last_error = None;
            row.available_at = now;
            requeued += 1;
        }
        Ok(requeued)
    }

    async fn result(&self, task_id: TaskId) -> Result<Option<Arc<TaskOutput>>, PortError> {
        Ok(self.lock().1.get(&task_id).and_then(|r| r.result.clone()))
    }

    async fn tasks_of(&self, trip_id: TripId) -> Result<Vec<QueuedTask>, PortError> {
        let guard = self.lock();
        let (order, rows) = &*guard;
        Ok(order
            .iter()
            .filter_map(|id| rows.get(id))
            .filter(|r| r.task.trip_id == trip_id)
            .map(|r| r.task.clone())
            .collect())
    }
}
