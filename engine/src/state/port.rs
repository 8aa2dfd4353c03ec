//! The storage ports of the runtime: [`EventStore`] (the trip event log, its
//! snapshots and its `trip_state` projection), [`AuditStore`] (what the
//! consistency auditor reads and repairs) and the errors they share.
//!
//! The methods return `impl Future + Send` (native async fns in traits), so
//! the ports are used through generics, not `dyn`. Errors carry their retry
//! semantics: a [`PortError::Transient`] may succeed if tried again, a
//! [`PortError::Permanent`] will not; an [`AppendError::Conflict`] means the
//! writer's view is stale and it must reload and decide again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::event::{StoredEvent, TripEvent, TripStatus};
use super::ids::{TaskId, TripId};
use super::queue::NewTask;
use super::trip::{TaskStatus, TripState};
use crate::graph::TaskOutput;

/// A storage failure, classified for retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("temporarily unavailable: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("storage failure: {message}")]
    Permanent { message: String },
}

impl PortError {
    pub fn permanent(message: impl Into<String>) -> Self {
        PortError::Permanent {
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        PortError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Why an append did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Someone appended first: reload, decide again, retry.
    #[error("version conflict: expected {expected}, the log is at {actual}")]
    Conflict { expected: u64, actual: u64 },
    /// The queue write that went with the append spoke for a claim of the
    /// task that is no longer its latest (see
    /// [`LeaseError::Fenced`](super::queue::LeaseError::Fenced)): nothing of the
    /// append was written.
    #[error("task {0} was claimed again since: the append of an older claim is refused")]
    Fenced(TaskId),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// A saved [`TripState`] at `version`: replay starts after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub trip_id: TripId,
    pub version: u64,
    pub state: TripState,
}

/// A [`Snapshot`] to save, borrowing the state it holds.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotRef<'a> {
    pub trip_id: TripId,
    pub version: u64,
    pub state: &'a TripState,
}

/// One row of the `trip_state` read model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripSummary {
    pub trip_id: TripId,
    pub status: TripStatus,
    pub progress: f64,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub state: TripState,
}

/// Events to append to one trip's log after `expected_version`, the
/// version their writer decided on: the append's optimistic lock.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub trip_id: TripId,
    pub expected_version: u64,
    pub events: &'a [TripEvent],
}

/// Events their writer has stamped and folded already: their `seq` follow
/// `expected_version`, and `after` is the state they lead to.
#[derive(Debug, Clone, Copy)]
pub struct FoldedBatch<'a> {
    pub trip_id: TripId,
    pub expected_version: u64,
    pub events: &'a [StoredEvent],
    pub after: &'a TripState,
}

/// The trip event log.
pub trait EventStore: Send + Sync {
    /// Appends the batch's events, stamped `at`, after its
    /// `expected_version` and returns the new version. Fails with
    /// [`AppendError::Conflict`] when the log has moved on: a stale writer
    /// never overwrites. The `trip_state` projection is updated in the same
    /// transaction. Appending nothing returns the current version.
    fn append(
        &self,
        batch: Batch<'_>,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send;

    /// [`EventStore::append`] for a writer that has folded the events
    /// already: a store may write `folded.after` as the read model instead
    /// of reading and folding the stored one under its lock.
    fn append_with_state(
        &self,
        folded: FoldedBatch<'_>,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send {
        async move {
            let at = folded.events.first().map_or_else(Utc::now, |e| e.at);
            let kinds: Vec<TripEvent> = folded.events.iter().map(|e| e.event.clone()).collect();
            let batch = Batch {
                trip_id: folded.trip_id,
                expected_version: folded.expected_version,
                events: &kinds,
            };
            self.append(batch, at).await
        }
    }

    /// The events after `after_seq`, in order.
    fn load(
        &self,
        trip_id: TripId,
        after_seq: u64,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, PortError>> + Send;

    /// The newest snapshot, if any.
    fn load_snapshot(
        &self,
        trip_id: TripId,
    ) -> impl Future<Output = Result<Option<Snapshot>, PortError>> + Send;

    fn save_snapshot(
        &self,
        snapshot: SnapshotRef<'_>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The read-model row of a trip (`None` when it has no events).
    fn trip_summary(
        &self,
        trip_id: TripId,
    ) -> impl Future<Output = Result<Option<TripSummary>, PortError>> + Send;

    /// The trips whose read model is in `status`, oldest update first.
    fn list_trips_in_status(
        &self,
        status: TripStatus,
    ) -> impl Future<Output = Result<Vec<TripId>, PortError>> + Send;

    /// The trips to resume on start-up: those still planning.
    fn unfinished_trips(&self) -> impl Future<Output = Result<Vec<TripId>, PortError>> + Send {
        self.list_trips_in_status(TripStatus::Planning)
    }

    /// The current state: the newest snapshot plus the events after it.
    fn load_state(
        &self,
        trip_id: TripId,
    ) -> impl Future<Output = Result<TripState, PortError>> + Send {
        async move {
            let mut state = match self.load_snapshot(trip_id).await? {
                Some(snapshot) => snapshot.state,
                None => TripState::new(trip_id),
            };
            for event in self.load(trip_id, state.version).await? {
                state.apply_stored(&event);
            }
            Ok(state)
        }
    }
}

/// How the consistency auditor puts one `agent_tasks` row (and its
/// `agent_results` row) back to what the trip's log says.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueRepair {
    /// The row as the log has it, inserted when missing: its shape
    /// (agent type, priority, dependencies), `status`, no lease; and its
    /// stored result set to `result` (replacing another, or removed when
    /// `None`).
    Put {
        task: NewTask,
        status: TaskStatus,
        result: Option<Arc<TaskOutput>>,
    },
    /// A row the log never scheduled, and its result: removed.
    Remove { task_id: TaskId },
}

/// What the consistency auditor writes back for one trip
/// ([`AuditStore::repair`]).
#[derive(Debug, Clone, Copy)]
pub struct Repair<'a> {
    /// The trip as its log has it; the repair holds only while the log is
    /// still at `state.version`.
    pub state: &'a TripState,
    /// Whether the `trip_state` row is rewritten from `state`.
    pub read_model: bool,
    /// The queue's rows to put back, in turn.
    pub queue: &'a [QueueRepair],
}

/// What the consistency auditor (`runtime::audit`) needs besides the log
/// and the queue: which trips there are, in bounded batches (it never
/// loads a table at once), a trip's stored results, and the repair, made
/// from the log in one transaction.
pub trait AuditStore: Send + Sync {
    /// Up to `limit` trips that have a log, by id, after `after` (the
    /// auditor's rolling sweep; `None`: from the first).
    fn logged_trips(
        &self,
        after: Option<TripId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<TripId>, PortError>> + Send;

    /// Up to `limit` trips whose read model was updated after `since`,
    /// oldest update first, with that time (the trips that changed since
    /// the auditor's last pass).
    fn trips_updated_after(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(DateTime<Utc>, TripId)>, PortError>> + Send;

    /// A trip's stored agent results (`agent_results`), by task.
    fn results_of(
        &self,
        trip_id: TripId,
    ) -> impl Future<Output = Result<Vec<(TaskId, Value)>, PortError>> + Send;

    /// Puts the trip back to what its log says, in one transaction, only
    /// while the log is still at `repair.state.version` (a trip that moved
    /// on meanwhile is left alone: `Ok(false)`): with `read_model`, its
    /// `trip_state` row is rewritten from `state` (inserted when missing);
    /// then each of `queue`. Whether it wrote.
    fn repair(&self, repair: Repair<'_>) -> impl Future<Output = Result<bool, PortError>> + Send;
}
