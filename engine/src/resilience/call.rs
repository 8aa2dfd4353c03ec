//! [`CallGuard`]: every resilience mechanism around one agent call, in the
//! order they must nest. Each attempt runs the (possibly fault-injected)
//! call on its own task with the per-task timeout, through the agent type's
//! circuit breaker; failed attempts are retried by the [`RetryPolicy`],
//! waiting at least as long as an open circuit asks.
//!
//! The runtime drives its retries through the task queue (a failed task is
//! claimed again later, maybe by another instance or process), so it uses
//! the two halves apart: [`CallGuard::attempt`] for each attempt and
//! [`CallGuard::next_delay`] for the policy's answer.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::Rng;
use super::breaker::Breakers;
use super::error::AgentError;
use super::fault::FaultInjector;
use super::guard::{isolate, through_breaker, with_timeout};
use super::retry::{RetryError, RetryPolicy};

/// Timeout, isolation, breaker and retries for agent calls. Share it.
#[derive(Debug)]
pub struct CallGuard {
    policy: RetryPolicy,
    timeout: Duration,
    breakers: Breakers,
    faults: Option<Arc<FaultInjector>>,
    rng: Mutex<Rng>,
}

impl CallGuard {
    pub fn new(policy: RetryPolicy, timeout: Duration, breakers: Breakers, seed: u64) -> Self {
        Self {
            policy,
            timeout,
            breakers,
            faults: None,
            rng: Mutex::new(Rng::with_seed(seed)),
        }
    }

    /// Injects faults into every attempt (demo and chaos runs).
    pub fn with_faults(mut self, faults: Arc<FaultInjector>) -> Self {
        self.faults = Some(faults);
        self
    }

    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// One guarded attempt: the breaker is asked first (a refused attempt
    /// never even builds the call), then `build()`'s call runs — with the
    /// injected faults — on its own task under the timeout.
    pub async fn attempt<T, F, Fut>(&self, agent_type: &str, build: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AgentError>> + Send + 'static,
    {
        let breaker = self.breakers.for_agent(agent_type);
        through_breaker(&breaker, agent_type, async {
            let call = build();
            match &self.faults {
                Some(faults) => {
                    isolate(with_timeout(self.timeout, faults.run(agent_type, call))).await
                }
                None => isolate(with_timeout(self.timeout, call)).await,
            }
        })
        .await
    }

    /// After attempt number `attempt` failed with `error`: how long to wait
    /// before the next, or `None` to stop ([`RetryPolicy::next_delay`],
    /// jittered by this guard's generator).
    pub fn next_delay(&self, attempt: u32, error: &AgentError) -> Option<Duration> {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        self.policy.next_delay(attempt, error, &mut rng)
    }

    /// Calls `attempt(n)` for n = 1, 2, … until it succeeds or the policy
    /// gives up.
    #[tracing::instrument(skip_all, fields(agent.type = agent_type), err)]
    pub async fn call<T, F, Fut>(
        &self,
        agent_type: &str,
        mut attempt: F,
    ) -> Result<T, RetryError<AgentError>>
    where
        T: Send + 'static,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, AgentError>> + Send + 'static,
    {
        let mut n = 1;
        loop {
            let error = match self.attempt(agent_type, || attempt(n)).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match self.next_delay(n, &error) {
                Some(wait) => {
                    tracing::debug!(attempt = n, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
                    tokio::time::sleep(wait).await;
                    n += 1;
                }
                None if self.policy.gives_up_on(&error) => {
                    return Err(RetryError::NonRetryable { attempt: n, error });
                }
                None => {
                    return Err(RetryError::Exhausted {
                        attempts: n,
                        last: error,
                    });
                }
            }
        }
    }
}
