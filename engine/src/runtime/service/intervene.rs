//! Manual intervention: the design document's recovery for data
//! inconsistency and stuck work. An operator can try a task that failed for
//! good again, leave out an optional task that is failing or stuck, check a
//! ready trip's plan again, resume a stuck trip or end it as failed
//! ([`Runtime::intervene`]).
//!
//! Every intervention is one `InterventionApplied` event in the trip's log,
//! with who and why, decided like any command (what does not apply is
//! refused, and nothing is recorded). Its queue write goes in the same
//! transaction: a retry or a resume puts the tasks back on the queue
//! (`QueueWrite::Requeue`: pending, no attempts counted, so the retry
//! policy starts afresh), a skip marks the task skipped, which lets its
//! dependants run. Then the runtime drives the trip on with its usual
//! machinery: the dispatcher claims the requeued tasks, a resume goes
//! through the start-up resume, and a re-verification runs the verifier in
//! process as a modification does (its rollback point keeps the plan it
//! checks, so a check that cannot finish leaves the trip as it was).

use std::collections::BTreeSet;

use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::trip::{Intervention, InterventionAction, TripView};

use super::super::changes::ChangePlan;
use super::super::stats::Count;
use super::super::wire::{intent_of, trip_view};
use super::{
    Command, ExecuteError, QueueWrite, Rejection, Runtime, RuntimeStore, TaskId, TaskStatus,
    TripId, TripState,
};
use crate::state::{AgentType, Requeue};

/// Why an intervention was refused or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterventionError {
    #[error("no such trip")]
    NotFound,
    /// It does not apply to the trip as it stands: a retry of a task that
    /// did not fail, a check of a trip with no plan (HTTP 409).
    #[error("{0}")]
    Refused(String),
    /// The request is wrong for this trip whatever its state: a missing
    /// reason, an unknown task, a skip of a required task (HTTP 422).
    #[error("{0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A task's name for people ("the transport step").
fn step(state: &TripState, id: TaskId) -> String {
    state.task(id).map_or_else(
        || "that step".to_string(),
        |t| format!("the {} step", t.agent_type),
    )
}

/// A rejection in words an operator can act on.
fn refusal(
    state: &TripState,
    action: InterventionAction,
    rejection: Rejection,
) -> InterventionError {
    use InterventionAction as A;
    use InterventionError::{Internal, Invalid, Refused};
    match rejection {
        Rejection::WrongStatus { status } => Refused(match action {
            A::RetryTask => format!(
                "the trip is {status}: only a step of a failed or stuck trip can be tried again"
            ),
            A::SkipTask => format!(
                "the trip is {status}: a step can only be left out while the trip is planning"
            ),
            A::Reverify => {
                format!("the trip is {status}: only a ready trip's plan can be checked again")
            }
            A::Resume => format!(
                "the trip is {status}: only a trip that is stuck planning or has failed can be resumed"
            ),
            A::Fail => format!(
                "the trip is {status}: only a trip still planning or waiting for answers can be marked as failed"
            ),
        }),
        Rejection::NotFailed { task, status } => Refused(format!(
            "{} did not fail (it is {}): only a failed step can be tried again",
            step(state, task),
            status_word(status)
        )),
        Rejection::TaskFinished { task, status } => Refused(format!(
            "{} is already {}: there is nothing to leave out",
            step(state, task),
            status_word(status)
        )),
        Rejection::CriticalTask(task) => Invalid(format!(
            "{} is needed for every plan: it cannot be left out (try it again instead)",
            step(state, task)
        )),
        Rejection::NoPlan | Rejection::TaskRequired(A::Reverify) => {
            Refused("the trip has no plan to check".into())
        }
        Rejection::NothingToResume => Refused(
            "nothing to resume: no step of this trip failed (it could not be planned as asked)"
                .into(),
        ),
        Rejection::UnknownTask(task) => Invalid(format!("this trip has no task {task}")),
        other => Internal(other.to_string()),
    }
}

fn status_word(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending => "waiting",
        TaskStatus::Running => "running",
        TaskStatus::Completed => "done",
        TaskStatus::Failed => "failed",
        TaskStatus::Skipped => "left out",
    }
}

impl<S: RuntimeStore> Runtime<S> {
    /// Applies an operator's intervention to a trip and returns the trip
    /// as it stands after it (a retry, a resume or a skip goes on planning
    /// in the background; a re-verification has finished). `actor` is who
    /// asked when the intervention does not say (the API's client, the
    /// page's visitor). Refused, with nothing recorded: a retry of a task
    /// that did not fail or of a trip that is ready or cancelled, a skip of
    /// a required task or outside planning, a re-verification of a trip
    /// with no plan, a resume of a trip that is neither planning nor
    /// failed, a failure of a trip that is over.
    #[tracing::instrument(skip_all, fields(trip.id = %trip_id, action = %intervention.action), err)]
    pub async fn intervene(
        &self,
        trip_id: &str,
        intervention: Intervention,
        actor: &str,
    ) -> Result<TripView, InterventionError> {
        use InterventionAction as A;
        let internal = |e: &dyn std::fmt::Display| InterventionError::Internal(e.to_string());
        intervention.check().map_err(InterventionError::Invalid)?;
        let trip = Self::parse_id(trip_id).ok_or(InterventionError::NotFound)?;
        let state = self
            .journal
            .load_fresh(trip)
            .await
            .map_err(|e| internal(&e))?;
        if !state.exists() {
            return Err(InterventionError::NotFound);
        }
        let action = intervention.action;
        let actor = intervention
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(actor)
            .to_string();
        let reason = intervention.reason.trim().to_string();
        let task_id = match action {
            A::RetryTask | A::SkipTask => {
                let raw = intervention.task_id.as_deref().unwrap_or_default().trim();
                let task = raw
                    .parse::<TaskId>()
                    .ok()
                    .and_then(|id| state.task(id))
                    .ok_or_else(|| {
                        InterventionError::Invalid(format!("this trip has no task {raw:?}"))
                    })?;
                if action == A::SkipTask && !task.agent_type.node().optional {
                    return Err(InterventionError::Invalid(format!(
                        "{} is needed for every plan: it cannot be left out (try it again instead)",
                        step(&state, task.task_id)
                    )));
                }
                Some(task.task_id)
            }
            A::Reverify => state
                .tasks
                .iter()
                .find(|t| t.agent_type == AgentType::Verifier)
                .map(|t| t.task_id),
            A::Resume | A::Fail => None,
        };
        // What goes back on the queue with the event: the retried task and
        // whatever else the log still has to run (a trip that failed took
        // its waiting tasks off the queue); for a resume, everything not
        // done, failed tasks included.
        let requeue: Vec<TaskId> = state
            .tasks
            .iter()
            .filter(|t| match action {
                A::RetryTask => {
                    Some(t.task_id) == task_id
                        || matches!(t.status, TaskStatus::Pending | TaskStatus::Running)
                }
                A::Resume => !t.status.satisfies_dependents(),
                _ => false,
            })
            .map(|t| t.task_id)
            .collect();
        let queue = match (action, task_id) {
            (A::RetryTask | A::Resume, _) => Some(QueueWrite::Requeue(Requeue {
                trip_id: trip,
                task_ids: &requeue,
            })),
            (A::SkipTask, Some(task_id)) => Some(QueueWrite::Skip {
                task_id,
                fence: None,
            }),
            _ => None,
        };
        let command = Command::Intervene {
            action,
            task_id,
            actor: actor.clone(),
            reason: reason.clone(),
        };
        let executed = match self.journal.exec_with(trip, vec![command], queue).await {
            Ok(executed) => executed,
            Err(ExecuteError::Rejected(rejection)) => {
                return Err(refusal(&state, action, rejection));
            }
            Err(e) => return Err(internal(&e)),
        };
        tracing::info!(trip.id = %trip, %action, %actor, %reason, "manual intervention");
        match action {
            A::RetryTask => {
                self.fresh_start(trip, &requeue);
                self.admit_again(trip).await.map_err(|e| internal(&e))?;
            }
            A::Resume => {
                self.fresh_start(trip, &requeue);
                self.resume_trip(trip).await.map_err(|e| internal(&e))?;
            }
            A::SkipTask => {
                self.stats.count(Count::Skipped);
                self.wake.notify_one();
            }
            A::Reverify => return self.reverify(trip, &executed.state).await,
            A::Fail => {
                self.stats.count(Count::Failed);
                self.stop_trip_tasks(trip).await;
                self.release(trip);
            }
        }
        let state = self.journal.load(trip).await.map_err(|e| internal(&e))?;
        Ok(trip_view(&state))
    }

    /// Forgets what the trip's last run left in this process: the cancel
    /// signal a failure raised (its tasks would stop at once), and the
    /// instances the tasks failed on (the retry may use them again).
    fn fresh_start(&self, trip: TripId, tasks: &[TaskId]) {
        self.journal.clear_cancel(trip);
        self.dispatch.forgive(tasks);
    }

    /// Gives a trip planning again a planning slot (unless it holds one or
    /// waits for one already) and wakes the dispatcher for its tasks.
    async fn admit_again(&self, trip: TripId) -> Result<(), super::RuntimeError> {
        if !self.admission.readmit(trip) {
            return Ok(());
        }
        self.schedule(trip).await
    }

    /// Runs the verifier again on the trip's current plan, in process, as
    /// a modification runs it: the new verdict replaces the old one, or,
    /// when the check cannot finish, the trip is rolled back to the plan
    /// and verdict it had (the view's explanation says why).
    async fn reverify(
        &self,
        trip: TripId,
        state: &TripState,
    ) -> Result<TripView, InterventionError> {
        let internal = |e: &dyn std::fmt::Display| InterventionError::Internal(e.to_string());
        let intent = intent_of(state).ok_or_else(|| internal(&"the trip has no intent"))?;
        let edited: Option<Itinerary> = state.itinerary.as_deref().cloned();
        let plan = ChangePlan {
            intent,
            roots: BTreeSet::from([AgentType::Verifier]),
            edited,
            components: Vec::new(),
        };
        match self.replan(trip, &plan).await {
            Ok(state) => Ok(trip_view(&state)),
            Err(reason) => {
                let executed = self
                    .journal
                    .exec(
                        trip,
                        Command::RollBackModification {
                            reason: format!("the plan could not be checked again: {reason}"),
                        },
                    )
                    .await
                    .map_err(|e| internal(&e))?;
                let mut view = trip_view(&executed.state);
                view.explanation = format!(
                    "The plan could not be checked again, so it is kept as it was: {reason}"
                );
                Ok(view)
            }
        }
    }
}
