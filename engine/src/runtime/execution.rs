//! Execution: one attempt of an agent under every guard of the design
//! document's *Error Handling & Resilience* — the agent-level cache, the
//! agent type's circuit breaker, injected faults, the per-task timeout and
//! panic isolation (all one [`CallGuard`] attempt), cancelled when its trip
//! is — and what follows a failed one: retry after the [`RetryPolicy`]'s
//! delay on the same instance, fail over to another instance with a fresh
//! budget (`failover_instances` times), drop an optional task, or fail.
//!
//! [`Execution`] owns the guard (its breakers and jitter generator, each
//! behind its own lock inside it); it uses the caches and counters below it
//! and never takes another part's lock. Retries of queued tasks go through
//! the queue (the task is claimed again when its delay is over), so the
//! runtime asks [`Execution::after_failure`]; modification retries in
//! process with [`RetryPolicy::retry`].

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;

use super::cache::Caches;
use super::config::RuntimeConfig;
use super::pipeline::{RunError, TaskOutput, run_task};
use super::stats::Stats;
use super::traffic::{CityStops, RouteAsker};
use crate::catalog::Catalog;
use crate::clock::SharedClock;
use crate::resilience::{
    AgentError, BreakerConfig, Breakers, CallGuard, FaultInjector, RetryPolicy, Rng,
};
use crate::state::AgentType;

/// What one guarded agent attempt ended in.
pub(super) enum Attempt {
    Done(Arc<TaskOutput>),
    /// The request cannot be planned; ends the trip.
    NoPlan(String),
    Failed(AgentError),
    Cancelled,
}

impl Attempt {
    /// Whether the agent answered (a plan, or that there is none): what
    /// the instance's and the type's success counts count.
    pub(super) fn answered(&self) -> bool {
        matches!(self, Attempt::Done(_) | Attempt::NoPlan(_))
    }
}

/// A catalog and its generation: how many imports replaced the catalog
/// before it. The agent cache's keys name the generation, so that an
/// output made on another catalog (a task still running through an import)
/// never answers for this one.
#[derive(Clone)]
pub(super) struct CatalogAt {
    pub catalog: Arc<dyn Catalog>,
    pub generation: u64,
}

/// What an agent works from.
pub(super) struct Inputs {
    pub intent: TripIntent,
    /// The outputs of the task's dependencies, by agent type.
    pub deps: BTreeMap<AgentType, Arc<TaskOutput>>,
    /// A plan edited in place (the verifier checks it instead of
    /// assembling one).
    pub edited: Option<Itinerary>,
}

/// What to do after a failed attempt of a queued task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum AfterFailure {
    /// Claim it again after `delay`; `failover`: on another instance, with
    /// a fresh budget.
    Retry { delay: Duration, failover: bool },
    /// An optional task: leave it out.
    Drop,
    /// A required task: the trip fails.
    Fail,
}

/// Agent attempts and their resilience.
pub(super) struct Execution {
    guard: CallGuard,
    caches: Arc<Caches>,
    stats: Arc<Stats>,
    /// Agents run on tokio's blocking pool (else on the worker).
    blocking: bool,
    failover_instances: u32,
    /// How the activity task asks the location agent for its routes.
    routes: OnceLock<RouteAsker>,
}

impl Execution {
    pub(super) fn new(
        config: &RuntimeConfig,
        clock: SharedClock,
        caches: Arc<Caches>,
        stats: Arc<Stats>,
    ) -> Self {
        let o = &config.orchestrator;
        let breakers = Breakers::new(
            BreakerConfig {
                failure_threshold: o.circuit_breaker_threshold.max(1),
                cool_down: Duration::from_millis(o.breaker_cool_down_ms),
            },
            clock,
        );
        let retry = RetryPolicy {
            initial_interval: Duration::from_millis(o.retry_initial_ms),
            maximum_attempts: o.retry_attempts + 1,
            ..RetryPolicy::default()
        };
        let timeout = Duration::from_millis(o.default_timeout_ms.max(1));
        // Jitter from entropy: processes sharing a store must not retry in
        // step.
        let mut guard = CallGuard::new(retry, timeout, breakers, Rng::new().u64(..));
        if !config.faults.is_empty() {
            let mut injector = FaultInjector::new(0x5eed_f417);
            for (agent_type, fault) in &config.faults {
                injector = injector.with(agent_type.clone(), *fault);
            }
            guard = guard.with_faults(Arc::new(injector));
        }
        Self {
            guard,
            caches,
            stats,
            blocking: o.run_agents_on_blocking_pool,
            failover_instances: o.failover_instances,
            routes: OnceLock::new(),
        }
    }

    /// The activity task's routes come from `ask` (the location agent over
    /// the hub) from now on.
    pub(super) fn ask_routes_with(&self, ask: RouteAsker) {
        let _ = self.routes.set(ask);
    }

    pub(super) fn breakers(&self) -> &Breakers {
        self.guard.breakers()
    }

    pub(super) fn policy(&self) -> &RetryPolicy {
        self.guard.policy()
    }

    /// One guarded attempt of an agent: the agent-level cache first, then
    /// breaker, injected faults, timeout and panic isolation; cancelled
    /// when `cancel` turns true.
    #[tracing::instrument(skip_all, fields(agent.type = %agent_type))]
    pub(super) async fn attempt(
        &self,
        agent_type: AgentType,
        inputs: Inputs,
        catalog: CatalogAt,
        mut cancel: watch::Receiver<bool>,
    ) -> Attempt {
        let Inputs {
            intent,
            deps,
            edited,
        } = inputs;
        let CatalogAt {
            catalog,
            generation,
        } = catalog;
        // Hashing the inputs means serialising some of them: only when
        // caching.
        let key = self.caches.enabled.then(|| {
            self.caches
                .agent_key(agent_type, generation, &intent, &deps, edited.as_ref())
        });
        if let Some(key) = key
            && let Some(hit) = self.caches.output(key)
        {
            return Attempt::Done(hit);
        }
        let stats = self.stats.clone();
        let blocking = self.blocking;
        let ask = (agent_type == AgentType::Activity)
            .then(|| self.routes.get().cloned())
            .flatten();
        let call = async move {
            // The activity agent's routes are the location agent's answer.
            let routes = match ask {
                Some(ask) => {
                    let cities = crate::graph::Inputs::from(&deps)
                        .activity_stops(catalog.as_ref())
                        .into_iter()
                        .map(|(city, stops)| CityStops { city, stops })
                        .collect();
                    ask(cities).await
                }
                None => None,
            };
            let run = move || {
                let inputs = crate::graph::Inputs::from(&deps);
                let inputs = match routes {
                    Some(routes) => inputs.with_routes(routes),
                    None => inputs,
                };
                stats.invoked(agent_type);
                run_task(
                    agent_type,
                    &intent,
                    inputs,
                    catalog.as_ref(),
                    edited.as_ref(),
                )
                .map(Arc::new)
            };
            let result = if blocking {
                tokio::task::spawn_blocking(run).await.map_err(|e| {
                    if e.is_panic() {
                        AgentError::Panicked {
                            message: "the agent panicked".into(),
                        }
                    } else {
                        AgentError::transient("the agent was cancelled")
                    }
                })?
            } else {
                run()
            };
            Ok::<_, AgentError>(result)
        };
        let guarded = self.guard.attempt(agent_type.as_str(), move || call);
        if *cancel.borrow() {
            return Attempt::Cancelled;
        }
        let result = tokio::select! {
            r = guarded => r,
            _ = cancel.wait_for(|c| *c) => return Attempt::Cancelled,
        };
        match result {
            Ok(Ok(output)) => {
                if let Some(key) = key {
                    self.caches.keep_output(key, Arc::clone(&output));
                }
                Attempt::Done(output)
            }
            Ok(Err(RunError::NoPlan(why))) => Attempt::NoPlan(why),
            Err(e) => Attempt::Failed(e),
        }
    }

    /// After attempt number `attempt` (as the trip's log counts them) of a
    /// queued task failed with `error`: `retry_attempts` per instance;
    /// when they are spent, a required task fails over to another instance
    /// (the score avoids the ones it failed on) with a fresh budget,
    /// `failover_instances` times. An optional task is dropped when the
    /// policy stops, or at once when its agent's circuit is open.
    pub(super) fn after_failure(
        &self,
        attempt: u32,
        optional: bool,
        error: &AgentError,
    ) -> AfterFailure {
        let policy = self.policy();
        let per_instance = policy.maximum_attempts.max(1);
        let round = attempt.saturating_sub(1) / per_instance;
        let within = attempt - round * per_instance;
        let mut failover = false;
        let mut delay = self.guard.next_delay(within, error);
        if delay.is_none()
            && !optional
            && !policy.gives_up_on(error)
            && round < self.failover_instances
        {
            failover = true;
            delay = Some(policy.initial_interval);
        }
        let circuit_open = matches!(error, AgentError::CircuitOpen { .. });
        match delay {
            Some(delay) if !(optional && circuit_open) => AfterFailure::Retry { delay, failover },
            _ if optional => AfterFailure::Drop,
            _ => AfterFailure::Fail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn execution(retry_attempts: u32, failover_instances: u32) -> Execution {
        let mut config = RuntimeConfig::default();
        config.orchestrator.retry_attempts = retry_attempts;
        config.orchestrator.failover_instances = failover_instances;
        Execution::new(
            &config,
            Arc::new(SystemClock),
            Arc::new(Caches::new(false, 0)),
            Arc::new(Stats::default()),
        )
    }

    #[test]
    fn a_required_task_retries_then_fails_over_once_then_fails() {
        let e = execution(1, 1);
        let error = AgentError::transient("down");
        // Two attempts per instance (one retry).
        assert!(matches!(
            e.after_failure(1, false, &error),
            AfterFailure::Retry {
                failover: false,
                ..
            }
        ));
        assert!(matches!(
            e.after_failure(2, false, &error),
            AfterFailure::Retry { failover: true, .. }
        ));
        assert!(matches!(
            e.after_failure(3, false, &error),
            AfterFailure::Retry {
                failover: false,
                ..
            }
        ));
        assert_eq!(e.after_failure(4, false, &error), AfterFailure::Fail);
    }

    #[test]
    fn an_optional_task_is_dropped_when_its_circuit_is_open_or_its_retries_are_spent() {
        let e = execution(1, 1);
        let open = AgentError::CircuitOpen {
            agent_type: "activity".into(),
            retry_after: Duration::from_secs(1),
        };
        assert_eq!(e.after_failure(1, true, &open), AfterFailure::Drop);
        let error = AgentError::transient("down");
        assert_eq!(e.after_failure(2, true, &error), AfterFailure::Drop);
        let permanent = AgentError::permanent("bad input");
        assert_eq!(e.after_failure(1, false, &permanent), AfterFailure::Fail);
    }
}
