//! [`TripState`], the read model of one trip: a pure fold of its events.
//! `apply` never fails and never looks at the clock, so replaying the same
//! events always gives the same state (what snapshots and resume rely on).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::verdict::Verdict;

use super::event::{
    AgentType, InterventionAction, LoggedIntent, Priority, StoredEvent, TripEvent, TripStatus,
    or_default,
};
use super::ids::{TaskId, TripId};
use crate::graph::TaskOutput;

/// Where one agent task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for its dependencies, for an instance, or for its retry.
    Pending,
    /// Claimed by an instance under a lease.
    Running,
    Completed,
    /// Failed for good (a permanent error, or retries exhausted).
    Failed,
    /// Dropped on purpose and flagged (never silently).
    Skipped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => TaskStatus::Pending,
            "running" => TaskStatus::Running,
            "completed" => TaskStatus::Completed,
            "failed" => TaskStatus::Failed,
            "skipped" => TaskStatus::Skipped,
            _ => return None,
        })
    }

    /// Dependents may run once a dependency is completed or skipped (a
    /// skipped optional input degrades the plan; it does not block it).
    pub fn satisfies_dependents(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Skipped)
    }

    /// Completed, skipped or failed for good: nothing more will run.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Skipped | TaskStatus::Failed
        )
    }
}

/// One task of the trip's DAG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    pub task_id: TaskId,
    pub agent_type: AgentType,
    pub priority: Priority,
    pub depends_on: Vec<TaskId>,
    pub status: TaskStatus,
    /// Claims so far (the current or last attempt's number).
    pub attempts: u32,
    pub instance: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub skip_reason: Option<String>,
    /// The agent's output. Shared: states are copied on every command,
    /// results are kilobytes.
    pub result: Option<Arc<TaskOutput>>,
    pub elapsed_ms: Option<u64>,
}

impl TaskState {
    /// Back to pending with a fresh retry budget and nothing of its last
    /// run (a modification's affected task, an operator's retry).
    fn reset(&mut self) {
        self.status = TaskStatus::Pending;
        self.attempts = 0;
        self.instance = None;
        self.lease_expires_at = None;
        self.last_error = None;
        self.skip_reason = None;
        self.result = None;
        self.elapsed_ms = None;
    }
}

/// What a modification replaced, kept so that it can be rolled back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPoint {
    pub status: TripStatus,
    pub tasks: Vec<TaskState>,
    pub itinerary: Option<Arc<Itinerary>>,
    pub verdict: Option<Arc<Verdict>>,
    /// The intent the itinerary was planned for: a modification records
    /// its new intent while it re-plans, and rolling back (in process, on
    /// resume after a crash, or on a cancel) must restore the old one with
    /// the old plan. `None` in points saved before it was kept.
    #[serde(default)]
    pub intent: Option<Arc<LoggedIntent>>,
}

impl RollbackPoint {
    /// The point to roll `state` back to, as it stands.
    fn of(state: &TripState) -> Self {
        RollbackPoint {
            status: state.status,
            tasks: state.tasks.clone(),
            itinerary: state.itinerary.clone(),
            verdict: state.verdict.clone(),
            intent: state.intent.clone(),
        }
    }

    /// Puts `state` back as the point found it (the status aside).
    fn restore(self, state: &mut TripState) {
        state.tasks = self.tasks;
        state.itinerary = self.itinerary;
        state.verdict = self.verdict;
        if let Some(intent) = self.intent {
            state.intent = Some(intent);
        }
    }
}

/// The state of one trip after its first `version` events.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TripState {
    pub trip_id: Option<TripId>,
    /// The sequence number of the last event applied (0: nothing yet).
    pub version: u64,
    pub status: TripStatus,
    pub query: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub overrides: TripOverrides,
    /// The intent as logged (with a trip's answers, when it asked).
    pub intent: Option<Arc<LoggedIntent>>,
    pub questions: Option<Vec<String>>,
    /// In the order they were scheduled.
    pub tasks: Vec<TaskState>,
    pub itinerary: Option<Arc<Itinerary>>,
    pub verdict: Option<Arc<Verdict>>,
    pub failure: Option<String>,
    pub modifications: u32,
    /// Set while a modification is being re-planned.
    pub rollback: Option<Box<RollbackPoint>>,
    pub last_event_at: Option<DateTime<Utc>>,
}

impl TripState {
    /// The state of a trip that has no events yet.
    pub fn new(trip_id: TripId) -> Self {
        Self {
            trip_id: Some(trip_id),
            ..Self::default()
        }
    }

    /// Folds a whole log.
    pub fn replay<'a>(trip_id: TripId, events: impl IntoIterator<Item = &'a StoredEvent>) -> Self {
        let mut state = Self::new(trip_id);
        for event in events {
            state.apply_stored(event);
        }
        state
    }

    /// What the `trip_state` read model keeps: everything but the agents'
    /// raw results (kilobytes per task, kept by the log and the task queue),
    /// so that the row rewritten on every append stays small.
    pub fn read_model(&self) -> Self {
        let strip = |tasks: &[TaskState]| {
            tasks
                .iter()
                .map(|t| TaskState {
                    result: None,
                    ..t.clone()
                })
                .collect()
        };
        Self {
            tasks: strip(&self.tasks),
            rollback: self.rollback.as_ref().map(|r| {
                Box::new(RollbackPoint {
                    tasks: strip(&r.tasks),
                    ..(**r).clone()
                })
            }),
            ..self.clone()
        }
    }

    /// Whether the trip has been submitted.
    pub fn exists(&self) -> bool {
        self.version > 0
    }

    pub fn task(&self, id: TaskId) -> Option<&TaskState> {
        self.tasks.iter().find(|t| t.task_id == id)
    }

    fn task_mut(&mut self, id: TaskId) -> Option<&mut TaskState> {
        self.tasks.iter_mut().find(|t| t.task_id == id)
    }

    /// Completed and skipped tasks over scheduled ones; 1 once the plan is
    /// ready, 0 before anything is scheduled.
    pub fn progress(&self) -> f64 {
        if self.status == TripStatus::Ready {
            return 1.0;
        }
        if self.tasks.is_empty() {
            return 0.0;
        }
        let done = self
            .tasks
            .iter()
            .filter(|t| t.status.satisfies_dependents())
            .count();
        done as f64 / self.tasks.len() as f64
    }

    /// The dependencies of `task` that are not yet completed or skipped.
    pub fn pending_dependencies(&self, task: &TaskState) -> Vec<TaskId> {
        task.depends_on
            .iter()
            .copied()
            .filter(|dep| {
                self.task(*dep)
                    .is_none_or(|d| !d.status.satisfies_dependents())
            })
            .collect()
    }

    /// Applies a stored event: its sequence number becomes the version.
    pub fn apply_stored(&mut self, stored: &StoredEvent) {
        if self.trip_id.is_none() {
            self.trip_id = Some(stored.trip_id);
        }
        self.apply(&stored.event);
        self.version = stored.seq;
        self.last_event_at = Some(stored.at);
    }

    /// Applies one event (pure; the version moves on by one).
    pub fn apply(&mut self, event: &TripEvent) {
        self.version += 1;
        match event {
            TripEvent::TripSubmitted { query, overrides } => {
                self.query = Some(query.clone());
                self.overrides = TripOverrides::clone(overrides);
                self.status = TripStatus::Planning;
            }
            TripEvent::IntentParsed { intent } => {
                self.intent = Some(intent.clone());
                self.questions = None;
                self.status = TripStatus::Planning;
            }
            TripEvent::NeedsInput { questions } => {
                self.questions = Some(questions.clone());
                self.status = TripStatus::NeedsInput;
            }
            TripEvent::TaskScheduled {
                task_id,
                agent_type,
                priority,
                depends_on,
            } => {
                if self.task(*task_id).is_none() {
                    self.tasks.push(TaskState {
                        task_id: *task_id,
                        agent_type: *agent_type,
                        priority: *priority,
                        depends_on: depends_on.clone(),
                        status: TaskStatus::Pending,
                        attempts: 0,
                        instance: None,
                        lease_expires_at: None,
                        last_error: None,
                        skip_reason: None,
                        result: None,
                        elapsed_ms: None,
                    });
                }
            }
            TripEvent::TaskClaimed {
                task_id,
                instance_id,
                attempt,
                lease_expires_at,
            } => {
                if let Some(task) = self.task_mut(*task_id) {
                    task.status = TaskStatus::Running;
                    task.attempts = *attempt;
                    task.instance = Some(instance_id.clone());
                    task.lease_expires_at = Some(*lease_expires_at);
                }
            }
            TripEvent::TaskHeartbeat {
                task_id,
                lease_expires_at,
                ..
            } => {
                if let Some(task) = self.task_mut(*task_id) {
                    task.lease_expires_at = Some(*lease_expires_at);
                }
            }
            TripEvent::TaskCompleted {
                task_id,
                result,
                elapsed_ms,
            } => {
                if let Some(task) = self.task_mut(*task_id) {
                    task.status = TaskStatus::Completed;
                    task.result = Some(Arc::clone(result));
                    task.elapsed_ms = Some(*elapsed_ms);
                    task.lease_expires_at = None;
                    task.last_error = None;
                }
            }
            TripEvent::TaskFailed {
                task_id,
                error,
                retryable,
                ..
            } => {
                if let Some(task) = self.task_mut(*task_id) {
                    task.status = if *retryable {
                        TaskStatus::Pending
                    } else {
                        TaskStatus::Failed
                    };
                    task.last_error = Some(error.clone());
                    task.instance = None;
                    task.lease_expires_at = None;
                }
            }
            TripEvent::TaskSkipped { task_id, reason } => {
                if let Some(task) = self.task_mut(*task_id) {
                    task.status = TaskStatus::Skipped;
                    task.skip_reason = Some(reason.clone());
                    task.instance = None;
                    task.lease_expires_at = None;
                }
            }
            TripEvent::PlanReady { itinerary, verdict } => {
                self.itinerary = Some(itinerary.clone());
                self.verdict = Some(verdict.clone());
                self.failure = None;
                self.rollback = None;
                self.status = TripStatus::Ready;
            }
            TripEvent::PlanFailed { reason } => {
                self.failure = Some(reason.clone());
                self.status = TripStatus::Failed;
            }
            TripEvent::ModificationApplied { affected_tasks, .. } => {
                // A modification of a modification that failed to re-plan
                // rolls back to the last good plan, not the failed one.
                self.keep_rollback_point();
                for task in &mut self.tasks {
                    if affected_tasks.contains(&task.task_id) {
                        task.reset();
                    }
                }
                self.modifications += 1;
                self.status = TripStatus::Planning;
            }
            TripEvent::ModificationRolledBack { .. } => {
                if let Some(point) = self.rollback.take() {
                    self.status = point.status;
                    point.restore(self);
                }
            }
            TripEvent::Cancelled => {
                // A cancel in the middle of a modification abandons it: the
                // trip keeps its last good plan and the intent it was made
                // for, not a half re-planned one.
                if let Some(point) = self.rollback.take() {
                    point.restore(self);
                }
                self.status = TripStatus::Cancelled;
                for task in &mut self.tasks {
                    task.instance = None;
                    task.lease_expires_at = None;
                }
            }
            TripEvent::InterventionApplied {
                action,
                task_id,
                actor,
                reason,
            } => self.apply_intervention(*action, *task_id, actor, reason),
        }
    }

    /// Keeps the state as it stands as the point to roll back to, unless
    /// one is kept already: a re-plan of a re-plan that failed rolls back to
    /// the last good plan, not the failed one.
    fn keep_rollback_point(&mut self) {
        if self.rollback.is_none() {
            self.rollback = Some(Box::new(RollbackPoint::of(self)));
        }
    }

    /// What an operator's intervention changes (see [`InterventionAction`]).
    fn apply_intervention(
        &mut self,
        action: InterventionAction,
        task_id: Option<TaskId>,
        actor: &str,
        reason: &str,
    ) {
        match action {
            InterventionAction::RetryTask => {
                if let Some(task) = task_id.and_then(|id| self.task_mut(id)) {
                    task.reset();
                }
                self.failure = None;
                self.status = TripStatus::Planning;
            }
            InterventionAction::SkipTask => {
                if let Some(task) = task_id.and_then(|id| self.task_mut(id)) {
                    task.status = TaskStatus::Skipped;
                    task.skip_reason = Some(format!("left out by {actor}: {reason}"));
                    task.instance = None;
                    task.lease_expires_at = None;
                }
            }
            // The verifier runs again as a modification's would: the plan
            // it checked is kept as the rollback point, so that a check
            // that cannot finish leaves the trip as it was.
            InterventionAction::Reverify => {
                self.keep_rollback_point();
                if let Some(task) = task_id.and_then(|id| self.task_mut(id)) {
                    task.reset();
                }
                self.status = TripStatus::Planning;
            }
            // Whatever failed or was left running is to run again.
            InterventionAction::Resume => {
                for task in &mut self.tasks {
                    if matches!(task.status, TaskStatus::Failed | TaskStatus::Running) {
                        task.reset();
                    }
                }
                self.failure = None;
                self.status = TripStatus::Planning;
            }
            InterventionAction::Fail => {
                // A modification being re-planned is abandoned, as a
                // cancel abandons it: the trip keeps its last good plan.
                if let Some(point) = self.rollback.take() {
                    point.restore(self);
                }
                self.failure = Some(format!("marked as failed by {actor}: {reason}"));
                self.status = TripStatus::Failed;
                for task in &mut self.tasks {
                    task.instance = None;
                    task.lease_expires_at = None;
                }
            }
        }
    }
}
