//! [`MemoryRuntimeStore`]: the three in-memory ports in one value, the
//! runtime's store in tests and demos (`wayfare-store::Store` is the SQL one).

use chrono::{DateTime, Utc};
use serde_json::Value;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wayfare_domain::trip::AgentInfo;

use super::pipeline::TaskOutput;
use super::registry::shared::{ProcessStamp, SharedRegistry, Stamp, StampedInstance};
use super::{QueueWrite, QueueWriteAt, RuntimeStore, lock};
use crate::hub::{DeliveryStatus, Destination, HubStore, MemoryHubStore, Message, MessageId};
use crate::state::{
    AgentType, AppendError, AuditStore, Batch, ClaimedTask, Completion, EventStore, FailedAttempt,
    FoldedBatch, Lease, LeaseError, MemoryEventStore, MemoryTaskQueue, NewTask, PortError,
    QueueRepair, QueuedTask, Repair, Requeue, Snapshot, SnapshotRef, StoredEvent, TaskId,
    TaskQueue, TripId, TripStatus, TripSummary,
};

/// Event log, task queue and hub store in memory. Clones share the data,
/// so a second runtime over a clone sees what the first one left.
#[derive(Debug, Clone, Default)]
pub struct MemoryRuntimeStore {
    pub events: MemoryEventStore,
    pub tasks: MemoryTaskQueue,
    pub hub: MemoryHubStore,
    /// The shared registry's rows: each process's instances and when it
    /// stamped them.
    instances: Arc<Mutex<StampedRows>>,
}

type StampedRows = HashMap<String, (ProcessStamp, Vec<AgentInfo>, DateTime<Utc>)>;

impl MemoryRuntimeStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl EventStore for MemoryRuntimeStore {
    async fn append(&self, batch: Batch<'_>, at: DateTime<Utc>) -> Result<u64, AppendError> {
        self.events.append(batch, at).await
    }

    async fn load(&self, trip_id: TripId, after_seq: u64) -> Result<Vec<StoredEvent>, PortError> {
        self.events.load(trip_id, after_seq).await
    }

    async fn load_snapshot(&self, trip_id: TripId) -> Result<Option<Snapshot>, PortError> {
        self.events.load_snapshot(trip_id).await
    }

    async fn save_snapshot(&self, snapshot: SnapshotRef<'_>) -> Result<(), PortError> {
        self.events.save_snapshot(snapshot).await
    }

    async fn trip_summary(&self, trip_id: TripId) -> Result<Option<TripSummary>, PortError> {
        self.events.trip_summary(trip_id).await
    }

    async fn list_trips_in_status(&self, status: TripStatus) -> Result<Vec<TripId>, PortError> {
        self.events.list_trips_in_status(status).await
    }
}

impl TaskQueue for MemoryRuntimeStore {
    async fn enqueue(&self, task: &NewTask, now: DateTime<Utc>) -> Result<(), PortError> {
        self.tasks.enqueue(task, now).await
    }

    async fn claim_ready(
        &self,
        agent_types: &[AgentType],
        lease: Lease<'_>,
    ) -> Result<Option<ClaimedTask>, PortError> {
        self.tasks.claim_ready(agent_types, lease).await
    }

    async fn heartbeat(
        &self,
        task_id: TaskId,
        lease: Lease<'_>,
    ) -> Result<DateTime<Utc>, LeaseError> {
        self.tasks.heartbeat(task_id, lease).await
    }

    async fn complete(
        &self,
        completion: Completion<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, LeaseError> {
        self.tasks.complete(completion, now).await
    }

    async fn fail(&self, attempt: FailedAttempt<'_>) -> Result<(), LeaseError> {
        self.tasks.fail(attempt).await
    }

    async fn skip(&self, task_id: TaskId, fence: Option<u64>) -> Result<(), LeaseError> {
        self.tasks.skip(task_id, fence).await
    }

    async fn requeue(&self, requeue: Requeue<'_>, now: DateTime<Utc>) -> Result<usize, PortError> {
        self.tasks.requeue(requeue, now).await
    }

    async fn result(&self, task_id: TaskId) -> Result<Option<Arc<TaskOutput>>, PortError> {
        self.tasks.result(task_id).await
    }

    async fn tasks_of(&self, trip_id: TripId) -> Result<Vec<QueuedTask>, PortError> {
        self.tasks.tasks_of(trip_id).await
    }
}

/// In memory nothing can fail between the two writes (no crash, no I/O),
/// so the append and the queue's write one after the other are as good as
/// one transaction.
impl RuntimeStore for MemoryRuntimeStore {
    async fn append_with_queue(
        &self,
        folded: FoldedBatch<'_>,
        queue: QueueWriteAt<'_>,
    ) -> Result<u64, AppendError> {
        let QueueWriteAt { write: queue, now } = queue;
        // Checked before anything is written: a fenced write keeps nothing.
        if let QueueWrite::Complete(Completion { task_id, fence, .. })
        | QueueWrite::Fail(FailedAttempt { task_id, fence, .. })
        | QueueWrite::Skip { task_id, fence } = queue
            && self.tasks.is_fenced(task_id, fence)
        {
            return Err(AppendError::Fenced(task_id));
        }
        let version = self.events.append_with_state(folded).await?;
        let settled = match queue {
            QueueWrite::Enqueue(tasks) => {
                return Ok(self.tasks.enqueue_all(tasks, now).await.map(|()| version)?);
            }
            QueueWrite::Complete(completion) => {
                self.tasks.complete(completion, now).await.map(drop)
            }
            QueueWrite::Fail(attempt) => self.tasks.fail(attempt).await,
            QueueWrite::Skip { task_id, fence } => self.tasks.skip(task_id, fence).await,
            QueueWrite::Requeue(requeue) => {
                return Ok(self.tasks.requeue(requeue, now).await.map(|_| version)?);
            }
        };
        match settled {
            Ok(()) | Err(LeaseError::UnknownTask(_)) => Ok(version),
            Err(e) => Err(AppendError::Port(PortError::permanent(e.to_string()))),
        }
    }

    /// One process per in-memory store: nothing to take turns with.
    type Startup = ();

    async fn begin_startup(&self) -> Result<(), PortError> {
        Ok(())
    }

    async fn end_startup(&self, (): ()) {}

    async fn delete_trip(&self, trip_id: TripId) -> Result<bool, PortError> {
        let tasks = self.tasks.remove_trip(trip_id);
        let events = self.events.remove_trip(trip_id);
        Ok(tasks || events)
    }
}

/// In memory the log's version is checked, then the rows are put; nothing
/// else writes in between that could fail half-way.
impl AuditStore for MemoryRuntimeStore {
    async fn logged_trips(
        &self,
        after: Option<TripId>,
        limit: usize,
    ) -> Result<Vec<TripId>, PortError> {
        Ok(self.events.trip_ids_after(after, limit))
    }

    async fn trips_updated_after(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(DateTime<Utc>, TripId)>, PortError> {
        Ok(self.events.updated_after(since, limit))
    }

    async fn results_of(&self, trip_id: TripId) -> Result<Vec<(TaskId, Value)>, PortError> {
        Ok(self.tasks.results_of(trip_id))
    }

    async fn repair(&self, repair: Repair<'_>) -> Result<bool, PortError> {
        let state = repair.state;
        let Some(trip_id) = state.trip_id else {
            return Ok(false);
        };
        if !self.events.load(trip_id, state.version).await?.is_empty() {
            return Ok(false);
        }
        if repair.read_model && !self.events.put_projection(state) {
            return Ok(false);
        }
        let now = state.last_event_at.unwrap_or_else(Utc::now);
        for put in repair.queue {
            match put {
                QueueRepair::Put {
                    task,
                    status,
                    result,
                } => self.tasks.put(task, *status, result.clone(), now),
                QueueRepair::Remove { task_id } => {
                    self.tasks.remove(*task_id);
                }
            }
        }
        Ok(true)
    }
}

impl HubStore for MemoryRuntimeStore {
    async fn save(
        &self,
        destination: &Destination,
        message: &Message,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.hub.save(destination, message, at).await
    }

    async fn mark_delivered(
        &self,
        message_id: &MessageId,
        at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        self.hub.mark_delivered(message_id, at).await
    }

    async fn ack(&self, message_id: &MessageId, at: DateTime<Utc>) -> Result<(), PortError> {
        self.hub.ack(message_id, at).await
    }

    async fn unacked(&self) -> Result<Vec<(Destination, Message)>, PortError> {
        self.hub.unacked().await
    }

    async fn status(&self, message_id: &MessageId) -> Result<Option<DeliveryStatus>, PortError> {
        self.hub.status(message_id).await
    }
}

/// Runtimes sharing one in-memory store (tests of several processes) see
/// each other's instances, stamped on the runtime's clock.
impl SharedRegistry for MemoryRuntimeStore {
    async fn stamp_instances(&self, stamp: Stamp<'_>) -> Result<(), PortError> {
        let now = stamp.now;
        let mut rows = lock(&self.instances);
        rows.retain(|_, (_, _, seen)| {
            (now - *seen).to_std().unwrap_or_default() < stamp.forget_after
        });
        rows.insert(
            stamp.process.node_id.clone(),
            (stamp.process.clone(), stamp.instances.to_vec(), now),
        );
        Ok(())
    }

    async fn stamped_instances(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<StampedInstance>, PortError> {
        Ok(lock(&self.instances)
            .values()
            .flat_map(|(process, agents, seen)| {
                let age = (now - *seen).to_std().unwrap_or_default();
                agents.iter().map(move |agent| StampedInstance {
                    process: process.clone(),
                    agent: agent.clone(),
                    heartbeat_age: age,
                })
            })
            .collect())
    }

    async fn unstamp(&self, node_id: &str) -> Result<(), PortError> {
        lock(&self.instances).remove(node_id);
        Ok(())
    }
}
