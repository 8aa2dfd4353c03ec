//! Submission and admission, the façade's side: a request is parsed
//! (data-level cache, overrides, the language model when configured),
//! served from the request cache when an equal one was planned, or
//! recorded with its task graph — on the queue in the same transaction when
//! [`Admission`](super::super::admission) gives it a planning slot, else in
//! the waiting line until [`Runtime::release`] hands it one. Trips left
//! unfinished by a previous process are resumed here too.

use wayfare_domain::intent::TripIntent;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::request::QueryText;

use super::super::cache::{cached_plan_commands, request_key};
use super::super::pipeline::{TaskOutput, schedule_commands};
use super::super::stats::Count;
use super::super::wire::output_of;
use super::super::{QueueWrite, RuntimeError, RuntimeStore, SubmitError, Submitted};
use super::Runtime;
use crate::agents::TripSpec;
use crate::state::{
    AgentType, Command, ExecuteError, LoggedIntent, NewTask, TaskStatus, TripId, TripStatus,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl<S: RuntimeStore> Runtime<S> {
    /// Parses and records a request and schedules its planning. The text
    /// must be a [`QueryText`] (not empty, not too long, no control
    /// characters); `overrides` are checked by their type.
    #[tracing::instrument(skip_all, fields(query.len = query.len(), trip.id = tracing::field::Empty))]
    pub async fn submit(
        &self,
        query: String,
        overrides: TripOverrides,
    ) -> Result<Submitted, SubmitError> {
        let text = QueryText::parse(&query).map_err(|e| SubmitError::Invalid(e.to_string()))?;
        let intent = self.parse(text.as_str(), &overrides).await?;
        if let Err(incomplete) = TripSpec::from_intent(&intent) {
            return Err(SubmitError::Unplannable {
                questions: incomplete.0,
            });
        }
        let request_key = request_key(&query, &overrides, &intent);
        let cached = self.caches.plan(&request_key);
        let trip = TripId::new();
        tracing::Span::current().record("trip.id", tracing::field::display(trip));
        let internal = |e: ExecuteError| SubmitError::Internal(e.to_string());
        if let Some(hit) = cached
            && let Some(commands) = cached_plan_commands(&query, &overrides, &intent, &hit)
        {
            return self.serve_cached(trip, commands).await;
        }
        // A full waiting line is refused before anything is recorded.
        if let Err(retry_after_secs) = self.admission.room() {
            self.stats.count(Count::Overloaded);
            return Err(SubmitError::Overloaded { retry_after_secs });
        }
        // The request, its intent and its task graph in one write; with a
        // planning slot free, the graph goes on the queue in the same
        // transaction. The slot is taken first, so that nothing else
        // schedules the trip meanwhile (a trip in the waiting line is
        // scheduled by `release`, only once its submission is recorded).
        let schedule = schedule_commands();
        let tasks = new_tasks(trip, &schedule);
        let mut commands = vec![
            Command::Submit {
                query,
                overrides: Box::new(overrides),
            },
            Command::RecordIntent {
                intent: Arc::new(LoggedIntent::from(intent)),
            },
        ];
        commands.extend(schedule);
        let admitted = self.admission.try_take(trip);
        let queue = admitted.then_some(QueueWrite::Enqueue(&tasks));
        if let Err(e) = self.journal.exec_new(trip, commands, queue).await {
            // Not a trip: no latency sample; its slot goes to the next.
            self.admission.untime(trip);
            if admitted {
                self.release(trip);
            }
            return Err(internal(e));
        }
        // Without a slot before the write, one may have come free since.
        self.stats.count(Count::Submitted);
        let admitted_late = !admitted && self.admission.enter(trip);
        if admitted {
            self.wake.notify_one();
        } else if admitted_late && let Err(e) = self.schedule(trip).await {
            self.release(trip);
            return Err(SubmitError::Internal(e.to_string()));
        }
        Ok(Submitted {
            trip_id: trip.to_string(),
            status: TripStatus::Planning,
        })
    }

    /// The intent of a request: parsed (data-level cache), overridden, and
    /// what the rules left open read by the language model when one is
    /// configured. All within the domain's bounds by their types.
    pub(super) async fn parse(
        &self,
        query: &str,
        overrides: &TripOverrides,
    ) -> Result<TripIntent, SubmitError> {
        // A reading holds for the day it was made on: "next Saturday", or
        // a date without a year, reads differently tomorrow.
        let planner = self.planner_for_today();
        let key = format!(
            "{}|{query}",
            planner.today().map(|d| d.to_string()).unwrap_or_default()
        );
        let mut intent = match self.caches.intent(&key) {
            Some(intent) => intent,
            None => {
                let intent = planner.parse(query);
                if self.caches.enabled {
                    self.caches.keep_intent(key, intent.clone());
                }
                intent
            }
        };
        overrides.apply(&mut intent);
        if let Some(llm) = &self.llm {
            let catalog = self.catalog();
            let today = self.clock.now().date_naive();
            llm.complete_intent(&mut intent, overrides, catalog.as_ref(), today)
                .await;
        }
        Ok(intent)
    }

    /// Records a trip served from the request cache: the request, its
    /// intent, the task graph with the results the cached plan was made
    /// of, and the plan, in one append. The trip is then like a planned
    /// one (its components can be modified and have alternatives); its
    /// tasks are not queued, since none is left to run.
    pub(super) async fn serve_cached(
        &self,
        trip: TripId,
        commands: Vec<Command>,
    ) -> Result<Submitted, SubmitError> {
        self.journal
            .exec_new(trip, commands, None)
            .await
            .map_err(|e| SubmitError::Internal(e.to_string()))?;
        self.stats.count(Count::Submitted);
        self.stats.count(Count::Ready);
        Ok(Submitted {
            trip_id: trip.to_string(),
            status: TripStatus::Ready,
        })
    }

    /// Schedules the trip's task graph (once) and puts it on the queue.
    pub(super) async fn schedule(&self, trip: TripId) -> Result<(), RuntimeError> {
        let mut state = self.journal.load(trip).await?;
        if state.tasks.is_empty() && state.status == TripStatus::Planning {
            state = self
                .journal
                .exec_all(trip, schedule_commands())
                .await
                .map_err(|e| RuntimeError::Internal(e.to_string()))?
                .state;
        }
        let tasks: Vec<NewTask> = state
            .tasks
            .iter()
            .map(|task| NewTask {
                task_id: task.task_id,
                trip_id: trip,
                agent_type: task.agent_type,
                priority: task.priority,
                depends_on: task.depends_on.clone(),
            })
            .collect();
        self.store
            .enqueue_all(&tasks, self.clock.now())
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        self.wake.notify_one();
        Ok(())
    }

    /// Frees the trip's planning slot and admits the next waiting trip.
    pub(super) fn release(&self, trip: TripId) {
        let next = self.admission.release(trip, &self.stats);
        if let Some(next) = next
            && !self.stopped.load(Ordering::SeqCst)
        {
            let me = self.me();
            tokio::spawn(async move {
                if let Err(e) = me.schedule(next).await {
                    tracing::warn!(trip.id = %next, error = %e, "could not schedule a waiting trip");
                    // Free its slot for the next one rather than hold it.
                    me.release(next);
                }
            });
        }
    }

    /// Brings a trip left unfinished by a previous process up to date and
    /// puts it back in line. Results the queue holds but the log lacks (a
    /// crash between the two writes) are copied, never recomputed.
    #[tracing::instrument(skip_all, fields(trip.id = %trip))]
    pub(super) async fn resume_trip(&self, trip: TripId) -> Result<(), RuntimeError> {
        let internal = |e: ExecuteError| RuntimeError::Internal(e.to_string());
        let state = self.journal.load(trip).await?;
        if state.rollback.is_some() {
            self.journal
                .exec(
                    trip,
                    Command::RollBackModification {
                        reason: "the modification was interrupted by a restart".into(),
                    },
                )
                .await
                .map_err(internal)?;
            return Ok(());
        }
        if state.intent.is_none() {
            self.journal
                .exec(
                    trip,
                    Command::FailPlan {
                        reason: "interrupted before the request was parsed; submit it again".into(),
                    },
                )
                .await
                .map_err(internal)?;
            return Ok(());
        }
        let queued = self
            .store
            .tasks_of(trip)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        for q in queued {
            let Some(task) = state.task(q.task_id) else {
                continue;
            };
            let command = match (q.status, task.status) {
                (TaskStatus::Completed, s) if s != TaskStatus::Completed => {
                    let result = self
                        .store
                        .result(q.task_id)
                        .await
                        .map_err(|e| RuntimeError::Store(e.to_string()))?;
                    result.map(|result| Command::CompleteTask {
                        task_id: q.task_id,
                        result,
                        elapsed_ms: 0,
                    })
                }
                (TaskStatus::Skipped, s) if !s.is_final() => Some(Command::SkipTask {
                    task_id: q.task_id,
                    reason: q.last_error.clone().unwrap_or_else(|| "skipped".into()),
                }),
                // Failed for good in the queue; the log never heard of it.
                (TaskStatus::Failed, s) if !s.is_final() => Some(Command::FailTask {
                    task_id: q.task_id,
                    error: q.last_error.clone().unwrap_or_else(|| "failed".into()),
                    retryable: false,
                }),
                _ => None,
            };
            if let Some(command) = command {
                self.journal.exec(trip, command).await.map_err(internal)?;
            }
        }
        let state = self.journal.load(trip).await?;
        if let Some(TaskOutput::Verifier(outcome)) = output_of(&state, AgentType::Verifier) {
            self.finish(trip, outcome).await;
            return Ok(());
        }
        if let Some(failed) = state.tasks.iter().find(|t| t.status == TaskStatus::Failed) {
            let reason = failed
                .last_error
                .clone()
                .unwrap_or_else(|| format!("the {} agent failed", failed.agent_type));
            self.fail_trip(trip, reason).await;
            return Ok(());
        }
        // A trip resumed by hand may hold its slot, or wait for one.
        if !self.admission.readmit(trip) {
            return Ok(());
        }
        self.schedule(trip).await
    }
}

/// The queue's rows for a trip's `ScheduleTask` commands.
fn new_tasks(trip: TripId, commands: &[Command]) -> Vec<NewTask> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::ScheduleTask {
                task_id,
                agent_type,
                priority,
                depends_on,
            } => Some(NewTask {
                task_id: *task_id,
                trip_id: trip,
                agent_type: *agent_type,
                priority: *priority,
                depends_on: depends_on.clone(),
            }),
            _ => None,
        })
        .collect()
}
