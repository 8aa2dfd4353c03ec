//! The trip event vocabulary: everything that ever happens to a trip, in the
//! order it happened. The log of these is the source of truth; every read
//! model ([`super::TripState`], the `trip_state` table) is derived from it.
//!
//! Events carry the planner's own types — the intent, each task's
//! [`TaskOutput`], the itinerary and its verdict — shared behind `Arc`s, so
//! that folding, copying and fanning out a state costs no JSON. JSON is
//! their stored form only (the store's codec): its shape is the one these
//! types have always serialised to, so logs written before they were typed
//! read back (`engine/tests/typed_log.rs` replays such a log).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::Change;
use wayfare_domain::verdict::Verdict;

use super::ids::{TaskId, TripId};
use crate::graph::TaskOutput;
pub use crate::graph::{AgentType, Priority};

/// The intent as the log records it: what the parser understood, with the
/// answers a trip that asked was given so far (`answers`, stored beside the
/// intent's own fields; empty and left out for a trip that never asked).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedIntent {
    #[serde(flatten)]
    pub intent: TripIntent,
    #[serde(default, skip_serializing_if = "TripOverrides::is_empty")]
    pub answers: TripOverrides,
}

impl From<TripIntent> for LoggedIntent {
    fn from(intent: TripIntent) -> Self {
        Self {
            intent,
            answers: TripOverrides::default(),
        }
    }
}

/// Decodes a value the log may hold in an older, untyped form (the
/// submission's overrides were once a free map): what does not decode as
/// `T` reads as `T::default()`.
pub(crate) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient<T> {
        Typed(T),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Lenient::<T>::deserialize(deserializer)? {
        Lenient::Typed(value) => value,
        Lenient::Other(_) => T::default(),
    })
}

/// Something that happened to a trip. Serialised with a `kind` tag (the
/// same string as [`TripEvent::kind`], stored in `trip_events.kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TripEvent {
    TripSubmitted {
        query: String,
        #[serde(default, deserialize_with = "or_default")]
        overrides: Box<TripOverrides>,
    },
    /// An intent the bounds refuse (a legacy party of 50) reads as an
    /// empty one, from which nothing is planned.
    IntentParsed {
        #[serde(deserialize_with = "or_default")]
        intent: Arc<LoggedIntent>,
    },
    /// What the request leaves open: one question per missing value.
    NeedsInput {
        questions: Vec<String>,
    },
    TaskScheduled {
        task_id: TaskId,
        agent_type: AgentType,
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
    /// The agent's output (its ranked candidates, the plans, the verdict).
    TaskCompleted {
        task_id: TaskId,
        result: Arc<TaskOutput>,
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
    PlanReady {
        itinerary: Arc<Itinerary>,
        verdict: Arc<Verdict>,
    },
    PlanFailed {
        reason: String,
    },
    /// `affected_tasks` is the closure the decision computed (the tasks
    /// named and everything that depends on them): they are re-planned.
    ModificationApplied {
        changes: Vec<Change>,
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

    /// Whether the event only moves one task along (scheduled, claimed,
    /// beating, done, failed, skipped) and says nothing of the trip as a
    /// whole — no end, no cancel, no change, no question: what another
    /// process that merely caches the trip may read later rather than
    /// now (see `runtime::journal`).
    pub fn is_task_progress(&self) -> bool {
        matches!(
            self,
            TripEvent::TaskScheduled { .. }
                | TripEvent::TaskClaimed { .. }
                | TripEvent::TaskHeartbeat { .. }
                | TripEvent::TaskCompleted { .. }
                | TripEvent::TaskFailed { .. }
                | TripEvent::TaskSkipped { .. }
        )
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
