//! Modification: a person's changes to a ready trip, appended at the
//! version they saw, the affected tasks re-run in process (each through
//! [`Execution`](super::super::execution), retried by the
//! [`RetryPolicy`](crate::resilience::RetryPolicy)), and a rollback to the
//! last consistent plan when the new one fails.

use std::sync::Arc;

use tokio::time::Instant;
use wayfare_domain::trip::{Change, TripView};

// `MODIFIER`: who claims in-process modification tasks (the auditor
// knows them by it).
use super::super::audit::MODIFIER;
use super::super::changes::{ChangePlan, plan_changes};
use super::super::execution::{Attempt, Inputs};
use super::super::pipeline::TaskOutput;
use super::super::stats::Count;
use super::super::wire::{intent_of, trip_view};
use super::super::{ModifyError, RuntimeStore};
use super::Runtime;
use crate::resilience::{AgentError, Classify, ErrorClass, RetryError, Rng};
use crate::state::{
    AgentType, AppendError, Command, ExecuteError, LoggedIntent, Rejection, TaskId, TaskStatus,
    TripId, TripState, TripStatus, after, decide,
};

impl<S: RuntimeStore> Runtime<S> {
    /// The trip as it is now, read fresh, when it exists and is at
    /// `expected_version` (else `NotFound` or `Conflict`): the start of
    /// every change a person asks for ([`Runtime::modify`], `answer`).
    pub(super) async fn load_at_version(
        &self,
        trip_id: &str,
        expected_version: u64,
    ) -> Result<(TripId, TripState), ModifyError> {
        let trip = Self::parse_id(trip_id).ok_or(ModifyError::NotFound)?;
        let state = ModifyError::existing(self.journal.load_fresh(trip).await)?;
        if state.version != expected_version {
            return Err(ModifyError::Conflict {
                expected: expected_version,
                actual: state.version,
            });
        }
        Ok((trip, state))
    }

    /// Applies `changes` to a ready (or failed) trip at `expected_version`,
    /// re-plans the affected components, verifies, and rolls back to the
    /// last consistent state when the new plan fails. A rolled-back
    /// modification returns the restored trip, its explanation starting
    /// with "Modification rolled back:".
    ///
    /// What each change re-runs (the roots; their dependents follow):
    /// - `budget` → budget (assemble), verifier;
    /// - `travellers` → transport, accommodation, dining (prices are for
    ///   the party), then budget, verifier;
    /// - `dates` → planning and everything after it (flights and
    ///   opening days depend on dates; the location facts do not);
    /// - `replace` / `reroll` of a meal (`dN.breakfast|lunch|dinner`), a
    ///   stay (`stay.<city>`), an attraction (`dN.attractionK`) or a
    ///   transport leg (`dN.legK`) → the plan is edited in place from the
    ///   agents' candidates (see [`Runtime::alternatives`]; a leg together
    ///   with the travel day's meals and visits that no longer fit around
    ///   it), checked against the budget and the verifier's rules — a
    ///   change that would break one is refused with
    ///   [`ModifyError::Invalid`] before anything is recorded — and then
    ///   only the verifier task runs. A reroll takes the next alternative
    ///   after the current one that keeps the plan valid.
    #[tracing::instrument(skip_all, fields(trip.id = %trip_id, expected_version), err)]
    pub async fn modify(
        &self,
        trip_id: &str,
        expected_version: u64,
        changes: Vec<Change>,
    ) -> Result<TripView, ModifyError> {
        let (trip, state) = self.load_at_version(trip_id, expected_version).await?;
        let internal = |e: &dyn std::fmt::Display| ModifyError::Internal(e.to_string());
        if !matches!(state.status, TripStatus::Ready | TripStatus::Failed) {
            return Err(ModifyError::NotReady);
        }
        let old_intent = intent_of(&state).ok_or(ModifyError::NotReady)?;
        let catalog = self.catalog();
        let plan = plan_changes(&state, &old_intent, catalog.as_ref(), &changes)
            .map_err(ModifyError::Invalid)?;
        let roots: Vec<TaskId> = state
            .tasks
            .iter()
            .filter(|t| plan.roots.contains(&t.agent_type))
            .map(|t| t.task_id)
            .collect();
        if roots.is_empty() {
            return Err(ModifyError::Invalid(
                "this trip has no planned components to change".into(),
            ));
        }
        // Append exactly at the version the caller saw: a stale writer
        // gets a conflict, never overwrites.
        let events = decide(
            &state,
            Command::Modify {
                changes,
                tasks: roots,
            },
        )
        .map_err(|e| ModifyError::Invalid(e.to_string()))?;
        match self
            .journal
            .append_at(trip, &state, expected_version, &events)
            .await
        {
            Ok(_) => {}
            Err(AppendError::Conflict { expected, actual }) => {
                return Err(ModifyError::Conflict { expected, actual });
            }
            Err(e) => return Err(internal(&e)),
        }
        self.stats.count(Count::ModificationApplied);
        let result = self.replan(trip, &plan).await;
        let state = match result {
            Ok(state) => state,
            Err(reason) => {
                // One event restores the last good plan and the intent it
                // was made for (the rollback point holds both).
                let rolled_back = self
                    .journal
                    .exec(
                        trip,
                        Command::RollBackModification {
                            reason: reason.clone(),
                        },
                    )
                    .await;
                let executed = match rolled_back {
                    Ok(executed) => executed,
                    // The modification was ended by someone else first: a
                    // cancel (which abandons it), or a restarted process's
                    // resume (which rolled it back). The trip is not ready
                    // to take this change: a conflict, not a failure.
                    Err(ExecuteError::Rejected(
                        Rejection::WrongStatus { .. } | Rejection::NothingToRollBack,
                    )) => {
                        tracing::info!(trip.id = %trip, %reason, "a modification was overtaken by a cancel or a rollback");
                        return Err(ModifyError::NotReady);
                    }
                    Err(e) => return Err(internal(&e)),
                };
                self.stats.count(Count::ModificationRolledBack);
                let mut view = trip_view(&executed.state);
                view.explanation = format!("Modification rolled back: {reason}");
                return Ok(view);
            }
        };
        Ok(trip_view(&state))
    }

    /// Re-runs the modification's affected tasks in order, in process (the
    /// queue holds each task's first result; the log holds the current
    /// one), then finishes the plan. `Err` is the reason to roll back.
    #[tracing::instrument(skip_all, fields(trip.id = %trip))]
    pub(super) async fn replan(
        &self,
        trip: TripId,
        plan: &ChangePlan,
    ) -> Result<TripState, String> {
        if let Ok(state) = self.journal.load(trip).await
            && intent_of(&state).as_ref() != Some(&plan.intent)
        {
            self.journal
                .exec(
                    trip,
                    Command::RecordIntent {
                        intent: Arc::new(LoggedIntent::from(plan.intent.clone())),
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        let cancel = self.journal.cancel_rx(trip);
        loop {
            let state = self.journal.load(trip).await.map_err(|e| e.to_string())?;
            let Some(task) = state
                .tasks
                .iter()
                .find(|t| t.status == TaskStatus::Pending)
                .cloned()
            else {
                break;
            };
            let optional = task.agent_type.node().optional;
            let task = &task;
            let retried = self
                .execution
                .policy()
                .retry(&mut Rng::new(), |_| {
                    let cancel = cancel.clone();
                    async move {
                        let abort = |e: &dyn std::fmt::Display| Stop::Abort(e.to_string());
                        let now = self.clock.now();
                        self.journal
                            .exec(
                                trip,
                                Command::ClaimTask {
                                    task_id: task.task_id,
                                    instance_id: MODIFIER.into(),
                                    now,
                                    lease_expires_at: after(now, self.lease()),
                                    attempt: 0,
                                },
                            )
                            .await
                            .map_err(|e| abort(&e))?;
                        let state = self.journal.load(trip).await.map_err(|e| abort(&e))?;
                        let inputs = Inputs {
                            intent: plan.intent.clone(),
                            deps: self.inputs(&state, &task.depends_on).await,
                            edited: (task.agent_type == AgentType::Verifier)
                                .then(|| plan.edited.clone())
                                .flatten(),
                        };
                        let started = Instant::now();
                        let outcome = self
                            .execution
                            .attempt(task.agent_type, inputs, self.catalog_at(), cancel)
                            .await;
                        self.record_latency(
                            MODIFIER,
                            task.agent_type,
                            started.elapsed().as_millis() as u64,
                            &outcome,
                        );
                        match outcome {
                            Attempt::Done(output) => Ok(output),
                            Attempt::NoPlan(why) => Err(Stop::Abort(why)),
                            Attempt::Cancelled => Err(Stop::Abort("the trip was cancelled".into())),
                            Attempt::Failed(error) => {
                                let _ = self
                                    .journal
                                    .exec(
                                        trip,
                                        Command::FailTask {
                                            task_id: task.task_id,
                                            error: error.to_string(),
                                            retryable: true,
                                        },
                                    )
                                    .await;
                                Err(Stop::Agent(error))
                            }
                        }
                    }
                })
                .await;
            let output = match retried.map_err(RetryError::into_inner) {
                Ok(output) => Some(output),
                Err(Stop::Abort(why)) => return Err(why),
                Err(Stop::Agent(_)) if optional => None,
                Err(Stop::Agent(error)) => {
                    return Err(format!("the {} agent failed: {error}", task.agent_type));
                }
            };
            match output {
                Some(output) => {
                    self.journal
                        .exec(
                            trip,
                            Command::CompleteTask {
                                task_id: task.task_id,
                                result: Arc::clone(&output),
                                elapsed_ms: 0,
                            },
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                    if let TaskOutput::Verifier(outcome) = &*output {
                        let Some(itinerary) = &outcome.itinerary else {
                            return Err(outcome.explanation.clone());
                        };
                        let executed = self
                            .journal
                            .exec(trip, Command::finish_plan(itinerary, &outcome.verdict))
                            .await
                            .map_err(|e| e.to_string())?;
                        return Ok(executed.state);
                    }
                }
                None => {
                    self.journal
                        .exec(
                            trip,
                            Command::SkipTask {
                                task_id: task.task_id,
                                reason: "dropped during a modification".into(),
                            },
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Err("the modification left nothing to verify".into())
    }
}

/// Why a modification's attempts at a task stopped: the agent failed (and
/// the retry policy gave up), or something else ended the modification.
enum Stop {
    Agent(AgentError),
    Abort(String),
}

impl Classify for Stop {
    fn class(&self) -> ErrorClass {
        match self {
            Stop::Agent(e) => e.class(),
            Stop::Abort(_) => ErrorClass::Permanent,
        }
    }

    fn kind(&self) -> &str {
        match self {
            Stop::Agent(e) => e.kind(),
            Stop::Abort(_) => "abort",
        }
    }
}
