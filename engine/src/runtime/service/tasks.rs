//! Running a dispatched task and recording what happened, with the
//! guarantees of durable execution: the attempt (through
//! [`Execution`](super::super::execution)), then its outcome — a result,
//! a failure to retry or fail over, a skip, the trip's end — logged
//! together with the claim it ran under and the queue's write, in one
//! transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::super::execution::{AfterFailure, Attempt, Inputs};
use super::super::pipeline::TaskOutput;
use super::super::stats::Count;
use super::super::wire::intent_of;
use super::super::{QueueWrite, RuntimeStore};
use super::Runtime;
use crate::orchestrator::PlanOutcome;
use crate::resilience::AgentError;
use crate::state::{
    AgentType, ClaimedTask, Command, Completion, ExecuteError, Executed, FailedAttempt, LeaseError,
    Rejection, TaskId, TaskStatus, TripEvent, TripId, TripState, TripStatus, after,
};

impl<S: RuntimeStore> Runtime<S> {
    /// Marks `task` completed with `result`, which the log holds already,
    /// in the queue, for the claim it holds (a refused late write is
    /// counted).
    async fn copy_to_queue(
        &self,
        task: &ClaimedTask,
        result: &Arc<TaskOutput>,
    ) -> Result<bool, LeaseError> {
        let completion = Completion {
            task_id: task.task_id,
            result,
            fence: Some(task.epoch),
        };
        let copied = self.store.complete(completion, self.clock.now()).await;
        self.journal.note_fenced(&copied);
        copied
    }

    /// Records a failed attempt at `task` in the queue, for the claim it
    /// holds (a refused late write is counted).
    async fn fail_claim(&self, task: &ClaimedTask, error: &str, retry_at: Option<DateTime<Utc>>) {
        let attempt = FailedAttempt {
            task_id: task.task_id,
            error,
            retry_at,
            fence: Some(task.epoch),
        };
        let failed = self.store.fail(attempt).await;
        self.journal.note_fenced(&failed);
    }

    /// Whether a claimed task is to run: the trip's log may be ahead of
    /// the queue (the process died between logging a result and marking
    /// it in the queue) or the trip may be over. Then the queue is put
    /// right and the task does not run.
    pub(super) async fn still_to_run(&self, state: &TripState, task: &ClaimedTask) -> bool {
        let fence = Some(task.epoch);
        if state.status != TripStatus::Planning {
            self.fail_claim(task, &format!("the trip is {}", state.status), None)
                .await;
            return false;
        }
        let Some(logged) = state.task(task.task_id) else {
            return true;
        };
        match (logged.status, &logged.result) {
            (TaskStatus::Completed, Some(result)) => {
                // The log is ahead of the queue: copy the result over.
                let _ = self.copy_to_queue(task, result).await;
                false
            }
            (TaskStatus::Completed, None) => match self.store.result(task.task_id).await {
                Ok(Some(result)) => {
                    let _ = self.copy_to_queue(task, &result).await;
                    false
                }
                // The read model holds no results: run it again (agents
                // are idempotent) rather than leave the trip stuck.
                _ => true,
            },
            (TaskStatus::Skipped, _) => {
                let skipped = self.store.skip(task.task_id, fence).await;
                self.journal.note_fenced(&skipped);
                false
            }
            (TaskStatus::Failed, _) => {
                self.fail_claim(task, "failed", None).await;
                false
            }
            _ => true,
        }
    }

    /// Records an attempt's outcome (commands decided in turn after the
    /// claim) in the trip's log together with the claim it ran under, and
    /// `queue`'s write in the same transaction. The claim is logged when
    /// there is something to say about it, so that an instance's slot is
    /// never held while the log is written. A log that already has a live
    /// claim of the task (written by an older release) takes the outcome
    /// alone.
    pub(super) async fn record_attempt(
        &self,
        task: &ClaimedTask,
        instance: &str,
        outcome: Vec<Command>,
        queue: Option<QueueWrite<'_>>,
    ) -> Result<Executed, ExecuteError> {
        let claim = Command::ClaimTask {
            task_id: task.task_id,
            instance_id: instance.to_string(),
            now: self.clock.now(),
            lease_expires_at: task.lease_expires_at,
            attempt: task.attempt,
        };
        let mut commands = vec![claim];
        commands.extend(outcome.iter().cloned());
        match self.journal.exec_with(task.trip_id, commands, queue).await {
            Err(ExecuteError::Rejected(Rejection::Leased { .. })) => {
                self.journal.exec_with(task.trip_id, outcome, queue).await
            }
            other => other,
        }
    }

    /// The outputs of a task's dependencies: from the log when it has them
    /// (a modification's fresh results), else from the queue (persisted
    /// before this task could be claimed).
    pub(super) async fn inputs(
        &self,
        state: &TripState,
        depends_on: &[TaskId],
    ) -> BTreeMap<AgentType, Arc<TaskOutput>> {
        let mut deps = BTreeMap::new();
        for dep in depends_on {
            let Some(task) = state.task(*dep) else {
                continue;
            };
            let output = match &task.result {
                Some(r) if task.status == TaskStatus::Completed => Some(Arc::clone(r)),
                _ if task.status == TaskStatus::Skipped => None,
                _ => self.store.result(*dep).await.ok().flatten(),
            };
            if let Some(output) = output {
                deps.insert(task.agent_type, output);
            }
        }
        deps
    }

    /// Runs a dispatched task on `instance` and records what happened.
    #[tracing::instrument(skip_all, fields(trip.id = %job.trip_id, task.id = %job.task_id, agent.type = %job.agent_type, agent.id = %instance))]
    pub(super) async fn run_job(self: Arc<Self>, instance: String, job: ClaimedTask) {
        let task = &job;
        let trip = task.trip_id;
        let started = Instant::now();
        let cancel = self.journal.cancel_rx(trip);
        // The attempt as the trip's log counts them (the queue also counts
        // claims that never ran).
        let mut attempt = task.attempt;
        let outcome = match self.journal.load(trip).await {
            Ok(state) if !self.still_to_run(&state, task).await => {
                self.dispatch.ended(task.task_id);
                self.unload(&instance, task.task_id);
                self.drain_backlogs();
                self.wake.notify_one();
                return;
            }
            Ok(state) => {
                attempt = state
                    .task(task.task_id)
                    .map_or(attempt, |t| (t.attempts + 1).max(attempt));
                match intent_of(&state) {
                    Some(intent) => {
                        let deps = self.inputs(&state, &task.depends_on).await;
                        let inputs = Inputs {
                            intent,
                            deps,
                            edited: None,
                        };
                        self.execution
                            .attempt(task.agent_type, inputs, self.catalog_at(), cancel)
                            .await
                    }
                    None => Attempt::NoPlan("the trip has no parsed request".into()),
                }
            }
            Err(e) => Attempt::Failed(AgentError::transient(e.to_string())),
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        self.record_latency(&instance, task.agent_type, elapsed_ms, &outcome);
        // The instance's work is done: its slot is free for the next task
        // while the runtime records this one (the lease still covers it).
        self.unload(&instance, task.task_id);
        self.drain_backlogs();
        self.wake.notify_one();
        match outcome {
            Attempt::Done(output) => self.complete(task, &instance, output, elapsed_ms).await,
            Attempt::NoPlan(why) => {
                self.record_failure(task, &instance, &why, false, None)
                    .await;
                self.fail_trip(trip, why).await;
            }
            Attempt::Failed(error) => self.failed(task, attempt, &instance, error).await,
            Attempt::Cancelled => {
                self.fail_claim(task, "cancelled", None).await;
            }
        }
        self.dispatch.ended(task.task_id);
        self.wake.notify_one();
    }

    pub(super) fn record_latency(
        &self,
        instance: &str,
        agent_type: AgentType,
        ms: u64,
        outcome: &Attempt,
    ) {
        let ok = outcome.answered();
        if matches!(outcome, Attempt::Cancelled) {
            return;
        }
        let cost = self.config.agent(agent_type).cost_per_request;
        self.registry.record_call(instance, ms, ok);
        self.stats.agent_call(agent_type, ms, ok, cost);
    }

    /// Persists a result: the log and the queue in one transaction (the
    /// queue's completion is what lets dependents be claimed, so a
    /// dependent's claim always finds its inputs in the log). When the log
    /// has the result already (an earlier run of the task logged it and the
    /// process died before the queue heard of it, or the data predates the
    /// joint write) it is copied to the queue; the agent does not run
    /// again. The verifier's plan finishes the trip in the same append.
    #[tracing::instrument(skip_all, fields(trip.id = %task.trip_id, task.id = %task.task_id, agent.type = %task.agent_type))]
    pub(super) async fn complete(
        &self,
        task: &ClaimedTask,
        instance: &str,
        output: Arc<TaskOutput>,
        elapsed_ms: u64,
    ) {
        let trip = task.trip_id;
        let mut commands = vec![Command::CompleteTask {
            task_id: task.task_id,
            result: Arc::clone(&output),
            elapsed_ms,
        }];
        let outcome = match &*output {
            TaskOutput::Verifier(outcome) => Some(&**outcome),
            _ => None,
        };
        if let Some(PlanOutcome {
            itinerary: Some(itinerary),
            verdict,
            ..
        }) = outcome
        {
            commands.push(Command::finish_plan(itinerary, verdict));
        }
        let fence = Some(task.epoch);
        let queue = QueueWrite::Complete(Completion {
            task_id: task.task_id,
            result: &output,
            fence,
        });
        let logged = self
            .record_attempt(task, instance, commands, Some(queue))
            .await;
        let finished = match logged {
            Ok(executed) => executed
                .events
                .iter()
                .any(|e| matches!(e.event, TripEvent::PlanReady { .. }))
                .then_some(executed),
            // Left out meanwhile (an operator's skip of a task that hung):
            // the late result is dropped, the queue keeps the skip.
            Err(ExecuteError::Rejected(Rejection::TaskFinished {
                status: TaskStatus::Skipped,
                ..
            })) => None,
            // Claimed again since (this process was paused or cut off past
            // its lease): the new holder's result is the one that counts;
            // nothing of this one was written.
            Err(ExecuteError::Fenced(_)) => return,
            Err(ExecuteError::Rejected(Rejection::TaskFinished { .. })) => {
                // Logged by an earlier run: put the queue right.
                if let Err(e) = self.copy_to_queue(task, &output).await {
                    tracing::warn!(task.id = %task.task_id, error = %e, "could not mark a result in the queue");
                }
                None
            }
            Err(ExecuteError::Rejected(rejection))
                if !matches!(rejection, Rejection::DependenciesPending { .. }) =>
            {
                // The trip moved on (cancelled, failed): nothing to keep.
                self.fail_claim(task, &rejection.to_string(), None).await;
                return;
            }
            Err(e) => {
                // Not recorded (or, defensively, the log does not have its
                // inputs yet): the attempt did not count; run it again soon.
                tracing::warn!(task.id = %task.task_id, error = %e, "could not log a result");
                let retry_at = after(self.clock.now(), self.tick());
                self.fail_claim(task, &e.to_string(), Some(retry_at)).await;
                return;
            }
        };
        if let Some(outcome) = outcome {
            match finished {
                Some(_) => self.finished(trip),
                None => self.finish(trip, outcome).await,
            }
        }
    }

    /// A failed attempt: retry later (elsewhere), degrade, or fail the trip.
    #[tracing::instrument(skip_all, fields(trip.id = %task.trip_id, task.id = %task.task_id, agent.type = %task.agent_type))]
    pub(super) async fn failed(
        &self,
        task: &ClaimedTask,
        attempt: u32,
        instance: &str,
        error: AgentError,
    ) {
        let trip = task.trip_id;
        let optional = task.agent_type.node().optional;
        match self.execution.after_failure(attempt, optional, &error) {
            AfterFailure::Retry { delay, failover } => {
                if failover {
                    self.stats.count(Count::Failover);
                }
                self.stats.count(Count::Retry);
                self.dispatch.failed_on(task.task_id, instance);
                let retry_at = after(self.clock.now(), delay);
                self.record_failure(task, instance, &error.to_string(), true, Some(retry_at))
                    .await;
                let me = self.me();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    me.wake.notify_one();
                });
            }
            AfterFailure::Drop => {
                let reason = format!("dropped after {attempt} attempt(s): {error}");
                self.skip(task, &reason).await;
            }
            AfterFailure::Fail => {
                let reason = format!("the {} agent failed: {error}", task.agent_type);
                self.record_failure(task, instance, &error.to_string(), false, None)
                    .await;
                self.fail_trip(trip, reason).await;
            }
        }
    }

    /// Logs a failed attempt and settles the task in the queue, in one
    /// transaction: with `retry_at` it is claimed again then, without it
    /// has failed for good. When the log refuses the failure (the trip is
    /// over, or the log cannot be written) the queue is settled alone.
    #[tracing::instrument(skip_all, fields(trip.id = %task.trip_id, task.id = %task.task_id, agent.type = %task.agent_type))]
    pub(super) async fn record_failure(
        &self,
        task: &ClaimedTask,
        instance: &str,
        error: &str,
        retryable: bool,
        retry_at: Option<DateTime<Utc>>,
    ) {
        let failed = Command::FailTask {
            task_id: task.task_id,
            error: error.to_string(),
            retryable,
        };
        let fence = Some(task.epoch);
        let queue = QueueWrite::Fail(FailedAttempt {
            task_id: task.task_id,
            error,
            retry_at,
            fence,
        });
        match self
            .record_attempt(task, instance, vec![failed], Some(queue))
            .await
        {
            // Claimed again since: this claim has nothing more to say.
            Ok(_) | Err(ExecuteError::Fenced(_)) => {}
            Err(_) => {
                self.fail_claim(task, error, retry_at).await;
            }
        }
    }

    /// Drops an optional task: logged and skipped in the queue in one
    /// transaction, so that its dependents, which the skip makes ready,
    /// find it skipped in the log when they record their results.
    #[tracing::instrument(skip_all, fields(trip.id = %task.trip_id, task.id = %task.task_id, agent.type = %task.agent_type))]
    pub(super) async fn skip(&self, task: &ClaimedTask, reason: &str) {
        let skipped = self
            .journal
            .exec_with(
                task.trip_id,
                vec![Command::SkipTask {
                    task_id: task.task_id,
                    reason: reason.to_string(),
                }],
                Some(QueueWrite::Skip {
                    task_id: task.task_id,
                    fence: Some(task.epoch),
                }),
            )
            .await;
        match skipped {
            Ok(_) => self.stats.count(Count::Skipped),
            // Claimed again since: the new holder decides.
            Err(ExecuteError::Fenced(_)) => {}
            // The trip is over: take the task off the queue.
            Err(ExecuteError::Rejected(rejection)) => {
                self.fail_claim(task, &rejection.to_string(), None).await;
            }
            // Not logged: left to its lease, then claimed and tried again.
            Err(e) => {
                tracing::warn!(task.id = %task.task_id, error = %e, "could not log a skip");
            }
        }
        self.wake.notify_one();
    }

    /// Finishes a trip with the verifier's outcome (when the append of its
    /// result did not already).
    #[tracing::instrument(skip_all, fields(trip.id = %trip))]
    pub(super) async fn finish(&self, trip: TripId, outcome: &PlanOutcome) {
        match &outcome.itinerary {
            Some(itinerary) => {
                let finished = self
                    .journal
                    .exec(trip, Command::finish_plan(itinerary, &outcome.verdict))
                    .await;
                match finished {
                    Ok(executed) if !executed.events.is_empty() => self.finished(trip),
                    _ => self.release(trip),
                }
            }
            None => self.fail_trip(trip, outcome.explanation.clone()).await,
        }
    }

    /// What follows a plan's `PlanReady` in the log: the count and the
    /// trip's planning slot (the journal has put the plan in the request
    /// cache before publishing it).
    pub(super) fn finished(&self, trip: TripId) {
        self.stats.count(Count::Ready);
        self.release(trip);
    }

    #[tracing::instrument(skip_all, fields(trip.id = %trip))]
    pub(super) async fn fail_trip(&self, trip: TripId, reason: String) {
        if let Ok(executed) = self.journal.exec(trip, Command::FailPlan { reason }).await
            && !executed.events.is_empty()
        {
            self.stats.count(Count::Failed);
        }
        self.stop_trip_tasks(trip).await;
        self.release(trip);
    }

    /// Signals the trip's running tasks to stop and takes its remaining
    /// tasks off the queue.
    pub(super) async fn stop_trip_tasks(&self, trip: TripId) {
        self.journal.raise_cancel(trip);
        if let Ok(tasks) = self.store.tasks_of(trip).await {
            for t in tasks.into_iter().filter(|t| !t.status.is_final()) {
                let _ = self
                    .store
                    .fail(FailedAttempt {
                        task_id: t.task_id,
                        error: "the trip is over",
                        retry_at: None,
                        fence: None,
                    })
                    .await;
            }
        }
    }
}
