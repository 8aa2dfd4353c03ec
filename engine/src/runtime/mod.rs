//! The orchestration runtime service: durable, concurrent trip planning
//! behind the REST/WebSocket API.
//!
//! [`Runtime::start`] spawns the agent instances and the dispatcher over a
//! store (event log + task queue + hub store), recovers the hub and resumes
//! every unfinished trip. [`Runtime::submit`] parses a request, records it
//! and schedules its task DAG on the [`TaskQueue`]; the dispatcher claims
//! ready tasks (priority, then dependencies) and delegates each to an agent
//! instance; every result is persisted before its dependents can run.
//! [`Runtime::modify`] re-plans only the affected components and rolls back
//! when the new plan fails; [`Runtime::cancel`] stops in-flight work;
//! [`Runtime::events`] streams [`WireEvent`]s. [`audit`] compares the
//! trips at rest with their logs (the state consistency score) and
//! repairs what disagrees.

mod admission;
pub mod audit;
pub mod cache;
mod changes;
mod dispatch;
mod execution;
mod journal;
mod memory;
mod service;
mod stats;
mod traffic;
mod wire;
pub use journal::ClusterMetrics;
pub use memory::MemoryRuntimeStore;
pub use registry::shared::{ProcessStamp, SharedRegistry, Stamp, StampedInstance};
pub use service::{InstanceReports, InterventionError, RouteExchanges, Runtime, read_with_answers};
pub use traffic::{CityStops, EVENTS_TOPIC, EventStream, REGISTRY_QUEUE, Traffic, trip_topic};
mod config;
pub mod forecast;
pub mod pipeline;
pub mod registry;

use serde::{Deserialize, Serialize};
use wayfare_domain::trip::TripStatus;

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use crate::hub::HubStore;
use crate::state::{
    AppendError, AuditStore, Completion, EventStore, FailedAttempt, FoldedBatch, NewTask,
    PortError, Requeue, TaskId, TaskQueue, TripId, TripState,
};

pub use config::{
    AgentConfig, CacheConfig, CommunicationConfig, LocalAgents, OrchestratorConfig,
    PredictiveScalingConfig, RuntimeConfig, UnknownAgentType,
};

/// Every part of the runtime keeps its state behind one std mutex, held
/// only for a lookup or an update (never across an `.await`). A poisoned
/// one still holds consistent state — every update is a single step — so
/// the parts go on with it rather than stop the runtime.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a store must provide for the runtime to run on it.
/// A write to the task queue that belongs with an append to the log.
#[derive(Debug, Clone, Copy)]
pub enum QueueWrite<'a> {
    /// Puts a trip's task graph on the queue ([`TaskQueue::enqueue_all`]).
    Enqueue(&'a [NewTask]),
    /// Stores a task's result and marks it completed
    /// ([`TaskQueue::complete`]; a task completed already keeps its first
    /// result, and an unknown one is left alone).
    ///
    /// The fence, here and in `Fail` and `Skip`: the claim the write
    /// speaks for ([`ClaimedTask::epoch`](crate::state::ClaimedTask::epoch)).
    /// When the task has been claimed again since, the whole append is
    /// refused ([`AppendError::Fenced`]): neither the events nor the
    /// queue's write are kept. `None`: an operator's or a repair's write.
    Complete(Completion<'a>),
    /// Records a failed attempt ([`TaskQueue::fail`]; a task that is
    /// final already is left alone).
    Fail(FailedAttempt<'a>),
    /// Marks a task skipped, which lets its dependents run
    /// ([`TaskQueue::skip`]).
    Skip { task_id: TaskId, fence: Option<u64> },
    /// Puts a trip's tasks back as pending with a fresh retry budget
    /// ([`TaskQueue::requeue`]): an operator's retry or resume, logged in
    /// the same transaction.
    Requeue(Requeue<'a>),
}

impl<'a> QueueWrite<'a> {
    /// The write, made at `now`.
    pub fn at(self, now: DateTime<Utc>) -> QueueWriteAt<'a> {
        QueueWriteAt { write: self, now }
    }
}

/// A [`QueueWrite`] and the time it is made at: what an enqueue or a
/// requeue makes the tasks claimable from, and a completion's time.
#[derive(Debug, Clone, Copy)]
pub struct QueueWriteAt<'a> {
    pub write: QueueWrite<'a>,
    pub now: DateTime<Utc>,
}

/// What the runtime needs of its store: the trip log, the task queue and
/// the hub's messages.
pub trait RuntimeStore:
    EventStore + TaskQueue + HubStore + AuditStore + SharedRegistry + Clone + Send + Sync + 'static
{
    /// [`EventStore::append_with_state`] together with `queue`'s write, in
    /// one transaction (all or none): a result is in the queue exactly
    /// when it is in the log, and a trip's tasks are queued exactly when
    /// its log says they are scheduled.
    fn append_with_queue(
        &self,
        folded: FoldedBatch<'_>,
        queue: QueueWriteAt<'_>,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send;

    /// What [`RuntimeStore::begin_startup`] holds until
    /// [`RuntimeStore::end_startup`].
    type Startup: Send;

    /// Start-up work that two processes sharing the store must not do at
    /// the same time — releasing a dead predecessor's leases and resuming
    /// unfinished trips — runs while this is held: on a shared database a
    /// lock that a second process starting at once waits for (it then
    /// finds the work done and its writes are idempotent); where one
    /// process uses the store, nothing.
    fn begin_startup(&self) -> impl Future<Output = Result<Self::Startup, PortError>> + Send;

    /// Releases what [`RuntimeStore::begin_startup`] took.
    fn end_startup(&self, held: Self::Startup) -> impl Future<Output = ()> + Send;

    /// Removes every trace of a trip — its events, read model, snapshots,
    /// tasks and their results, and whatever else the store keeps by trip
    /// — all or none. Whether there was anything to remove.
    fn delete_trip(&self, trip_id: TripId) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// A request accepted for planning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub trip_id: String,
    pub status: TripStatus,
}

/// Why `submit` refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SubmitError {
    /// Every planning slot and the waiting queue are full (HTTP 503 + Retry-After).
    #[error("overloaded; retry in {retry_after_secs}s")]
    Overloaded { retry_after_secs: u64 },
    /// The request cannot be planned until these are answered (HTTP 422).
    #[error("the request needs more input: {}", questions.join(" "))]
    Unplannable { questions: Vec<String> },
    /// Malformed input (HTTP 400).
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why `modify` refused or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModifyError {
    #[error("no such trip")]
    NotFound,
    /// Checked first: a stale version is 409 whatever the changes.
    #[error("version conflict: expected {expected}, the trip is at {actual}")]
    Conflict { expected: u64, actual: u64 },
    /// A change that cannot apply (HTTP 422).
    #[error("invalid change: {0}")]
    Invalid(String),
    /// The trip is not ready (still planning, failed or cancelled).
    #[error("the trip is not ready to modify")]
    NotReady,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ModifyError {
    /// A trip's state as loaded for a change a person asks for: `NotFound`
    /// when the log holds no such trip, `Internal` when it could not be read.
    pub(crate) fn existing(loaded: Result<TripState, RuntimeError>) -> Result<TripState, Self> {
        let state = loaded.map_err(|e| ModifyError::Internal(e.to_string()))?;
        if !state.exists() {
            return Err(ModifyError::NotFound);
        }
        Ok(state)
    }
}

/// A storage or runtime failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    #[error("no such trip: {0}")]
    NotFound(String),
    #[error("storage: {0}")]
    Store(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One ranked alternative for a component (the UI's "change" list); a
/// domain type so that the browser's build can decode it.
pub use wayfare_domain::trip::Alternative;

/// Counters of one agent type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentMetrics {
    pub instances: u32,
    pub successes: u64,
    pub failures: u64,
    pub latency_ms_sum: f64,
    pub latency_count: u64,
    /// Cumulative counts per upper bound in ms (Prometheus `le` buckets),
    /// the last being +Inf.
    pub latency_buckets: Vec<(f64, u64)>,
    /// closed | open | half_open
    pub breaker: String,
    pub cost_total: f64,
    /// Tasks that reached the type per second, in the last closed bucket
    /// of `predictive_scaling.bucket_ms`.
    pub arrival_rate: f64,
    /// The arrival rate Holt's linear trend expects `horizon_ms` ahead.
    pub forecast_rate: f64,
    /// The instances that forecast asks for (within min and max).
    pub forecast_instances: u32,
    /// Instances started and stopped, by why.
    pub scaling: ScalingDecisions,
}

/// Instances an agent type started and stopped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingDecisions {
    /// Started for the forecast load, before it arrived.
    pub up_predictive: u64,
    /// Started because the best instance was over `scale_threshold` (or
    /// none was free).
    pub up_reactive: u64,
    /// Stopped early: idle, the forecast falling and needing fewer.
    pub down_predictive: u64,
    /// Stopped after ten idle heartbeats.
    pub down_idle: u64,
}

impl ScalingDecisions {
    /// `(direction, reason, count)`, the metrics' labels.
    pub fn by_label(&self) -> [(&'static str, &'static str, u64); 4] {
        [
            ("up", "predictive", self.up_predictive),
            ("up", "reactive", self.up_reactive),
            ("down", "predictive", self.down_predictive),
            ("down", "idle", self.down_idle),
        ]
    }
}

/// Hits and misses of one cache level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheMetrics {
    pub hits: u64,
    pub misses: u64,
}

/// What the server exports to Prometheus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeMetrics {
    pub trips_submitted: u64,
    pub trips_ready: u64,
    pub trips_failed: u64,
    pub trips_cancelled: u64,
    pub trips_rejected_overloaded: u64,
    pub modifications_applied: u64,
    pub modifications_rolled_back: u64,
    /// Trips planning now.
    pub trips_in_flight: u64,
    /// Trips waiting for a planning slot.
    pub trips_waiting: u64,
    /// Tasks dispatched and not finished.
    pub queue_depth: u64,
    pub tasks_skipped: u64,
    pub task_retries: u64,
    /// Tasks that went to another instance after their retries on one.
    pub task_failovers: u64,
    /// Per agent type.
    pub agents: std::collections::BTreeMap<String, AgentMetrics>,
    /// "request" | "agent" | "data".
    pub cache: std::collections::BTreeMap<String, CacheMetrics>,
    /// Cost over trips submitted: the agents' nominal cost plus what the
    /// language model's tokens cost (`llm_cost_total`).
    pub cost_per_request: f64,
    /// USD spent on language-model tokens (0 without `llm`).
    pub llm_cost_total: f64,
    /// Submit → ready or failed, for trips submitted in this process: sum,
    /// count and cumulative `le` buckets in ms (the last is +Inf).
    pub plan_latency_ms_sum: f64,
    pub plan_latency_ms_count: u64,
    pub plan_latency_ms_buckets: Vec<(f64, u64)>,
    /// The state consistency score (`runtime::audit`).
    pub consistency: ConsistencyMetrics,
}

/// The consistency auditor's figures: the last pass's, and totals since
/// the process started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsistencyMetrics {
    /// Audit passes run.
    pub passes: u64,
    /// Trips the last pass compared with their log.
    pub audited_trips: u64,
    /// Of those, the ones every table agreed on.
    pub agreeing_trips: u64,
    /// Trips the last pass left for later (planning, or changed within
    /// the quiet period).
    pub skipped_trips: u64,
    /// `agreeing_trips / audited_trips` of the last pass; 1 when nothing
    /// was audited. The design document's target is 1 (100%).
    pub score: f64,
    /// Disagreeing trips found, over every pass.
    pub disagreements_total: u64,
    /// Disagreeing trips repaired from their log, over every pass.
    pub repairs_total: u64,
    /// The last pass's findings (which trip, which table, what differed).
    pub findings: Vec<String>,
}

impl Default for ConsistencyMetrics {
    fn default() -> Self {
        Self {
            passes: 0,
            audited_trips: 0,
            agreeing_trips: 0,
            skipped_trips: 0,
            score: 1.0,
            disagreements_total: 0,
            repairs_total: 0,
            findings: Vec::new(),
        }
    }
}
