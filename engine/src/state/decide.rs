//! `decide`: what a command means for a trip, given its state. Pure: it
//! reads the state and returns the events to append (possibly none, for an
//! idempotent repeat) or a [`Rejection`]; the loop appends, applies and acts.
//!
//! The rules that make at-least-once delivery safe live here: a completed
//! task is never re-run and completing it again is a no-op; a task cannot be
//! claimed before its dependencies are done, nor while another instance
//! holds a live lease; a cancelled trip accepts nothing but another cancel.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::Change;
use wayfare_domain::verdict::Verdict;

use super::event::{AgentType, InterventionAction, LoggedIntent, Priority, TripEvent, TripStatus};
use super::ids::TaskId;
use super::trip::{TaskStatus, TripState};
use crate::graph::TaskOutput;

/// What the orchestrator (or a person, through it) asks of a trip.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Submit {
        query: String,
        overrides: Box<TripOverrides>,
    },
    RecordIntent {
        intent: Arc<LoggedIntent>,
    },
    AskForInput {
        questions: Vec<String>,
    },
    ScheduleTask {
        task_id: TaskId,
        agent_type: AgentType,
        priority: Priority,
        depends_on: Vec<TaskId>,
    },
    /// `now` decides whether another instance's lease has expired.
    ClaimTask {
        task_id: TaskId,
        instance_id: String,
        now: DateTime<Utc>,
        lease_expires_at: DateTime<Utc>,
        /// The queue's count of claims (0: unknown). It also counts claims
        /// the log never heard of (an instance that died while it ran), so
        /// the logged attempt is the larger of the two counts.
        attempt: u32,
    },
    Heartbeat {
        task_id: TaskId,
        instance_id: String,
        lease_expires_at: DateTime<Utc>,
    },
    CompleteTask {
        task_id: TaskId,
        result: Arc<TaskOutput>,
        elapsed_ms: u64,
    },
    FailTask {
        task_id: TaskId,
        error: String,
        retryable: bool,
    },
    SkipTask {
        task_id: TaskId,
        reason: String,
    },
    FinishPlan {
        itinerary: Arc<Itinerary>,
        verdict: Arc<Verdict>,
    },
    FailPlan {
        reason: String,
    },
    /// `tasks` are the components the person changed; their dependents are
    /// re-planned too.
    Modify {
        changes: Vec<Change>,
        tasks: Vec<TaskId>,
    },
    RollBackModification {
        reason: String,
    },
    Cancel,
    /// An operator's manual intervention. `task_id` names the task a retry
    /// or a skip is for, and the verifier task for a re-verification.
    Intervene {
        action: InterventionAction,
        task_id: Option<TaskId>,
        actor: String,
        reason: String,
    },
}

impl Command {
    /// Finishes the trip with `itinerary`, checked as `verdict` (each
    /// copied into the value the log and the state share).
    pub fn finish_plan(itinerary: &Itinerary, verdict: &Verdict) -> Self {
        Command::FinishPlan {
            itinerary: Arc::new(itinerary.clone()),
            verdict: Arc::new(verdict.clone()),
        }
    }
}

/// Why a command was refused. None of these is worth retrying as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the trip has not been submitted")]
    NotSubmitted,
    #[error("the trip was already submitted")]
    AlreadySubmitted,
    #[error("the trip is {status} and accepts no such command")]
    WrongStatus { status: TripStatus },
    #[error("no task {0}")]
    UnknownTask(TaskId),
    #[error("task {task} depends on unknown task {dependency}")]
    UnknownDependency { task: TaskId, dependency: TaskId },
    #[error("task {0} was already scheduled differently")]
    DuplicateTask(TaskId),
    #[error("task {task} waits for {pending:?}")]
    DependenciesPending { task: TaskId, pending: Vec<TaskId> },
    #[error("task {task} is leased by {holder} until {until}")]
    Leased {
        task: TaskId,
        holder: String,
        until: DateTime<Utc>,
    },
    #[error("task {task} is already {status:?}")]
    TaskFinished { task: TaskId, status: TaskStatus },
    #[error("task {task} is not held by {instance}")]
    NotLeaseHolder { task: TaskId, instance: String },
    #[error("task {0} is on the critical path (P0) and cannot be skipped")]
    CriticalTask(TaskId),
    #[error("there is no modification to roll back")]
    NothingToRollBack,
    #[error("task {task} did not fail (it is {status:?}): only a failed task can be retried")]
    NotFailed { task: TaskId, status: TaskStatus },
    #[error("{0} needs a task")]
    TaskRequired(InterventionAction),
    #[error("the trip has no plan to check")]
    NoPlan,
    #[error("nothing to resume: no task of the failed trip failed")]
    NothingToResume,
}

/// Decides what `command` means for `state`.
/// Decides several commands as one, each against the state the ones
/// before it leave: all or nothing (the first rejection rejects them all),
/// so that they can be appended in one write.
pub fn decide_all(state: &TripState, commands: &[Command]) -> Result<Vec<TripEvent>, Rejection> {
    let mut scratch: Option<TripState> = None;
    let mut events = Vec::new();
    for command in commands {
        let decided = decide(scratch.as_ref().unwrap_or(state), command.clone())?;
        if decided.is_empty() {
            continue;
        }
        let after = scratch.get_or_insert_with(|| state.clone());
        for event in &decided {
            after.apply(event);
        }
        events.extend(decided);
    }
    Ok(events)
}

pub fn decide(state: &TripState, command: Command) -> Result<Vec<TripEvent>, Rejection> {
    use TripStatus as S;

    if !state.exists() {
        return match command {
            Command::Submit { query, overrides } => {
                Ok(vec![TripEvent::TripSubmitted { query, overrides }])
            }
            _ => Err(Rejection::NotSubmitted),
        };
    }
    let wrong = || Rejection::WrongStatus {
        status: state.status,
    };
    match command {
        Command::Cancel => match state.status {
            S::Cancelled => Ok(vec![]),
            _ => Ok(vec![TripEvent::Cancelled]),
        },
        _ if state.status == S::Cancelled => Err(wrong()),
        Command::Submit { .. } => Err(Rejection::AlreadySubmitted),
        Command::RecordIntent { intent } => match state.status {
            S::Planning | S::NeedsInput => Ok(vec![TripEvent::IntentParsed { intent }]),
            _ => Err(wrong()),
        },
        Command::AskForInput { questions } => match state.status {
            S::Planning | S::NeedsInput => Ok(vec![TripEvent::NeedsInput { questions }]),
            _ => Err(wrong()),
        },
        Command::ScheduleTask {
            task_id,
            agent_type,
            priority,
            depends_on,
        } => {
            if state.status != S::Planning {
                return Err(wrong());
            }
            if let Some(existing) = state.task(task_id) {
                let same = existing.agent_type == agent_type
                    && existing.priority == priority
                    && existing.depends_on == depends_on;
                return if same {
                    Ok(vec![])
                } else {
                    Err(Rejection::DuplicateTask(task_id))
                };
            }
            // Dependencies must already be scheduled: this also rules out
            // cycles, since a task can only point backwards.
            if let Some(dependency) = depends_on.iter().find(|d| state.task(**d).is_none()) {
                return Err(Rejection::UnknownDependency {
                    task: task_id,
                    dependency: *dependency,
                });
            }
            Ok(vec![TripEvent::TaskScheduled {
                task_id,
                agent_type,
                priority,
                depends_on,
            }])
        }
        Command::ClaimTask {
            task_id,
            instance_id,
            now,
            lease_expires_at,
            attempt,
        } => {
            if state.status != S::Planning {
                return Err(wrong());
            }
            let task = state.task(task_id).ok_or(Rejection::UnknownTask(task_id))?;
            match task.status {
                status if status.is_final() => {
                    return Err(Rejection::TaskFinished {
                        task: task_id,
                        status,
                    });
                }
                TaskStatus::Running => {
                    if let (Some(holder), Some(until)) = (&task.instance, task.lease_expires_at)
                        && until > now
                    {
                        return Err(Rejection::Leased {
                            task: task_id,
                            holder: holder.clone(),
                            until,
                        });
                    }
                }
                _ => {}
            }
            let pending = state.pending_dependencies(task);
            if !pending.is_empty() {
                return Err(Rejection::DependenciesPending {
                    task: task_id,
                    pending,
                });
            }
            Ok(vec![TripEvent::TaskClaimed {
                task_id,
                instance_id,
                attempt: (task.attempts + 1).max(attempt),
                lease_expires_at,
            }])
        }
        Command::Heartbeat {
            task_id,
            instance_id,
            lease_expires_at,
        } => {
            let task = state.task(task_id).ok_or(Rejection::UnknownTask(task_id))?;
            if task.status != TaskStatus::Running
                || task.instance.as_deref() != Some(instance_id.as_str())
            {
                return Err(Rejection::NotLeaseHolder {
                    task: task_id,
                    instance: instance_id,
                });
            }
            Ok(vec![TripEvent::TaskHeartbeat {
                task_id,
                instance_id,
                lease_expires_at,
            }])
        }
        Command::CompleteTask {
            task_id,
            result,
            elapsed_ms,
        } => {
            let task = state.task(task_id).ok_or(Rejection::UnknownTask(task_id))?;
            // At-least-once delivery: the second completion is a no-op and
            // the first result stands.
            settle(
                state,
                task_id,
                task.status,
                TaskStatus::Completed,
                TripEvent::TaskCompleted {
                    task_id,
                    result,
                    elapsed_ms,
                },
            )
        }
        Command::FailTask {
            task_id,
            error,
            retryable,
        } => {
            let task = state.task(task_id).ok_or(Rejection::UnknownTask(task_id))?;
            match task.status {
                // A late failure after a success or a skip changes nothing.
                TaskStatus::Completed | TaskStatus::Skipped | TaskStatus::Failed => Ok(vec![]),
                TaskStatus::Pending | TaskStatus::Running => {
                    if state.status != S::Planning {
                        return Err(wrong());
                    }
                    Ok(vec![TripEvent::TaskFailed {
                        task_id,
                        error,
                        retryable,
                        attempt: task.attempts,
                    }])
                }
            }
        }
        Command::SkipTask { task_id, reason } => {
            let task = state.task(task_id).ok_or(Rejection::UnknownTask(task_id))?;
            if task.priority == Priority::P0 {
                return Err(Rejection::CriticalTask(task_id));
            }
            settle(
                state,
                task_id,
                task.status,
                TaskStatus::Skipped,
                TripEvent::TaskSkipped { task_id, reason },
            )
        }
        Command::FinishPlan { itinerary, verdict } => match state.status {
            S::Planning => Ok(vec![TripEvent::PlanReady { itinerary, verdict }]),
            _ => Err(wrong()),
        },
        Command::FailPlan { reason } => match state.status {
            S::Planning | S::NeedsInput => Ok(vec![TripEvent::PlanFailed { reason }]),
            S::Failed => Ok(vec![]),
            _ => Err(wrong()),
        },
        Command::Modify { changes, tasks } => {
            if !matches!(state.status, S::Ready | S::Failed) {
                return Err(wrong());
            }
            if let Some(unknown) = tasks.iter().find(|t| state.task(**t).is_none()) {
                return Err(Rejection::UnknownTask(*unknown));
            }
            Ok(vec![TripEvent::ModificationApplied {
                changes,
                affected_tasks: affected_closure(state, &tasks),
            }])
        }
        Command::RollBackModification { reason } => {
            if state.rollback.is_none() {
                return Err(Rejection::NothingToRollBack);
            }
            Ok(vec![TripEvent::ModificationRolledBack { reason }])
        }
        Command::Intervene {
            action,
            task_id,
            actor,
            reason,
        } => {
            intervention_applies(state, action, task_id)?;
            Ok(vec![TripEvent::InterventionApplied {
                action,
                task_id,
                actor,
                reason,
            }])
        }
    }
}

/// What settling a task whose status is `status` as `settled` (completed
/// or skipped) appends: nothing when it already is (a repeat), `event` while
/// it is pending or running and the trip plans (a result from an instance
/// whose lease lapsed is still a good result: accepted rather than run
/// again), else a rejection (it finished otherwise, or the trip stopped).
fn settle(
    state: &TripState,
    task_id: TaskId,
    status: TaskStatus,
    settled: TaskStatus,
    event: TripEvent,
) -> Result<Vec<TripEvent>, Rejection> {
    match status {
        _ if status == settled => Ok(vec![]),
        TaskStatus::Pending | TaskStatus::Running => {
            if state.status != TripStatus::Planning {
                return Err(Rejection::WrongStatus {
                    status: state.status,
                });
            }
            Ok(vec![event])
        }
        TaskStatus::Completed | TaskStatus::Skipped | TaskStatus::Failed => {
            Err(Rejection::TaskFinished {
                task: task_id,
                status,
            })
        }
    }
}

/// Whether an operator's `action` applies to the trip as it stands (a
/// cancelled trip was refused before). Never a no-op: every intervention
/// asked for and allowed is recorded, with who and why.
fn intervention_applies(
    state: &TripState,
    action: InterventionAction,
    task_id: Option<TaskId>,
) -> Result<(), Rejection> {
    use InterventionAction as A;
    use TripStatus as S;
    let wrong = || Rejection::WrongStatus {
        status: state.status,
    };
    let task = || {
        let id = task_id.ok_or(Rejection::TaskRequired(action))?;
        state.task(id).ok_or(Rejection::UnknownTask(id))
    };
    match action {
        // A trip that failed because of the task, or one still planning
        // (stuck) with a task that failed for good.
        A::RetryTask => {
            let task = task()?;
            if !matches!(state.status, S::Planning | S::Failed) {
                return Err(wrong());
            }
            if task.status != TaskStatus::Failed {
                return Err(Rejection::NotFailed {
                    task: task.task_id,
                    status: task.status,
                });
            }
            Ok(())
        }
        A::SkipTask => {
            let task = task()?;
            if state.status != S::Planning {
                return Err(wrong());
            }
            if task.priority == Priority::P0 {
                return Err(Rejection::CriticalTask(task.task_id));
            }
            match task.status {
                status @ (TaskStatus::Completed | TaskStatus::Skipped) => {
                    Err(Rejection::TaskFinished {
                        task: task.task_id,
                        status,
                    })
                }
                _ => Ok(()),
            }
        }
        A::Reverify => {
            if state.status != S::Ready {
                return Err(wrong());
            }
            if state.itinerary.is_none() {
                return Err(Rejection::NoPlan);
            }
            task().map(drop)
        }
        A::Resume => match state.status {
            S::Planning => Ok(()),
            S::Failed if state.tasks.iter().any(|t| t.status == TaskStatus::Failed) => Ok(()),
            S::Failed => Err(Rejection::NothingToResume),
            _ => Err(wrong()),
        },
        A::Fail => match state.status {
            S::Planning | S::NeedsInput => Ok(()),
            _ => Err(wrong()),
        },
    }
}

/// `roots` and every task that depends on one of them, directly or not, in
/// scheduling order.
fn affected_closure(state: &TripState, roots: &[TaskId]) -> Vec<TaskId> {
    let mut affected: Vec<TaskId> = Vec::new();
    // Tasks only depend on earlier ones, so one pass in order suffices.
    for task in &state.tasks {
        if roots.contains(&task.task_id) || task.depends_on.iter().any(|d| affected.contains(d)) {
            affected.push(task.task_id);
        }
    }
    affected
}
