//! Event sourcing for trips: the event vocabulary ([`TripEvent`]), the read
//! model ([`TripState`], a pure fold), the pure decision function
//! ([`decide`]), the storage ports ([`EventStore`], [`TaskQueue`]) with
//! their in-memory twins, and [`TripLog`], which ties them together with
//! optimistic locking and snapshots.
//!
//! The SQL implementations of the ports live in `wayfare-store`.

mod decide;
mod event;
mod ids;
mod log;
mod memory;
mod port;
mod queue;
mod trip;

pub use decide::{Command, Rejection, decide, decide_all};
pub use event::{
    AgentType, InterventionAction, LoggedIntent, Priority, StoredEvent, TripEvent, TripStatus,
};
pub use ids::{TaskId, TripId};
pub use log::{Append, ExecuteError, Executed, TripLog};
pub use memory::MemoryEventStore;
pub use port::{
    AppendError, AuditStore, Batch, EventStore, FoldedBatch, PortError, QueueRepair, Repair,
    Snapshot, SnapshotRef, TripSummary,
};
pub use queue::{
    ClaimedTask, Completion, FailedAttempt, Lease, LeaseError, Liveness, MemoryTaskQueue, NewTask,
    QueuedTask, Requeue, TaskQueue, after,
};
pub use trip::{RollbackPoint, TaskState, TaskStatus, TripState};
