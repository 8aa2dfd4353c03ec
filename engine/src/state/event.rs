//! The trip event vocabulary: everything that ever happens to a trip, in the
//! order it happened. The log of these is the source of truth; every read
//! model ([`super::TripState`], the `trip_state` table) is derived from it.
//!
//! The parsed intent, the itinerary, the verdict and agent results are the
//! planner's types, which this module does not know yet: they are carried as
//! opaque JSON (`serde_json::Value`) and will be typed at integration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{TaskId, TripId};

/// Task priority from the design's prioritisation matrix: P0 (critical path)
/// is claimed first, P3 (optional) may be skipped under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    P0,
    P1,
    P2,
    P3,
}

impl Priority {
    /// 0 for P0 … 3 for P3 (the stored form; lower is more urgent).
    pub fn rank(self) -> u8 {
        match self {
            Priority::P0 => 0,
            Priority::P1 => 1,
            Priority::P2 => 2,
            Priority::P3 => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        match rank {
            0 => Some(Priority::P0),
            1 => Some(Priority::P1),
            2 => Some(Priority::P2),
            3 => Some(Priority::P3),
            _ => None,
        }
    }
}

/// Something that happened to a trip. Serialised with a `kind` tag (the
/// same string as [`TripEvent::kind`], stored in `trip_events.kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TripEvent {
    TripSubmitted {
        query: String,
        #[serde(default)]
        overrides: Value,
    },
    /// Opaque until integration: the planner's `TripIntent`.
    IntentParsed {
        intent: Value,
    },
    /// Opaque until integration: the intent's unanswerable `questions`.
    NeedsInput {
        questions: Value,
    },
    TaskScheduled {
        task_id: TaskId,
        agent_type: String,
        priority: Priority,
        #[serde(default)]
        depends_on: Vec<TaskId>,
    },
    TaskClaimed {
        task_id: TaskId,
        instance_id: String,
        attempt: u32,
        lease_expires_at: DateTime<Utc>,
    },
    TaskHeartbeat {
        task_id: TaskId,
        instance_id: String,
        lease_expires_at: DateTime<Utc>,
    },
    /// Opaque until integration: the agent's ranked candidates.
    TaskCompleted {
        task_id: TaskId,
        result: Value,
        elapsed_ms: u64,
    },
    TaskFailed {
        task_id: TaskId,
        error: String,
        retryable: bool,
        attempt: u32,
    },
    /// An optional task dropped (P3 under load, an open breaker): the plan
    /// says so, it is never silent.
    TaskSkipped {
        task_id: TaskId,
        reason: String,
    },
    /// Opaque until integration: `Itinerary` and `Verdict`.
    PlanReady {
        itinerary: Value,
        verdict: Value,
    },
    PlanFailed {
        reason: String,
    },
    /// `affected_tasks` is the closure the decision computed (the tasks
    /// named and everything that depends on them): they are re-planned.
    ModificationApplied {
        changes: Value,
        affected_tasks: Vec<TaskId>,
    },
    ModificationRolledBack {
        reason: String,
    },
    Cancelled,
    /// An operator's manual intervention (retry or skip a task, check the
    /// plan again, resume or fail a stuck trip), with who and why. What it
    /// changes is [`super::TripState::apply`]'s; the runtime then acts on
    /// it (the queue, the verifier).
    InterventionApplied {
        action: InterventionAction,
        /// The task retried or skipped; the verifier when re-verifying.
        #[serde(default)]
        task_id: Option<TaskId>,
        actor: String,
        reason: String,
    },
}

impl TripEvent {
    /// The event's kind as stored in `trip_events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            TripEvent::TripSubmitted { .. } => "trip_submitted",
            TripEvent::IntentParsed { .. } => "intent_parsed",
            TripEvent::NeedsInput { .. } => "needs_input",
            TripEvent::TaskScheduled { .. } => "task_scheduled",
            TripEvent::TaskClaimed { .. } => "task_claimed",
            TripEvent::TaskHeartbeat { .. } => "task_heartbeat",
            TripEvent::TaskCompleted { .. } => "task_completed",
            TripEvent::TaskFailed { .. } => "task_failed",
            TripEvent::TaskSkipped { .. } => "task_skipped",
            TripEvent::PlanReady { .. } => "plan_ready",
            TripEvent::PlanFailed { .. } => "plan_failed",
            TripEvent::ModificationApplied { .. } => "modification_applied",
            TripEvent::ModificationRolledBack { .. } => "modification_rolled_back",
            TripEvent::Cancelled => "cancelled",
            TripEvent::InterventionApplied { .. } => "intervention_applied",
        }
    }
}

/// An event as the log holds it: numbered within its trip from 1 with no
/// gaps, and stamped with the time it was appended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub trip_id: TripId,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub event: TripEvent,
}

/// What an operator did by hand: the wire type of
/// `wayfare_domain::trip`, shared by the log and the API.
pub use wayfare_domain::trip::InterventionAction;

/// Where a trip stands: the wire type of `wayfare_domain::trip`, re-exported
/// so the engine, the store and the API share one definition.
pub use wayfare_domain::trip::TripStatus;
