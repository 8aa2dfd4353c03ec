//! [`CallGuard`]: every resilience mechanism around one agent call, in the
//! order they must nest. Each attempt runs the (possibly fault-injected)
//! call on its own task with the per-task timeout, through the agent type's
//! circuit breaker; failed attempts are retried by the [`RetryPolicy`],
//! waiting at least as long as an open circuit asks.

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
        let breaker = self.breakers.for_agent(agent_type);
        let mut n = 1;
        loop {
            // Ask the breaker first, so that a refused attempt never even
            // builds the call.
            let result = through_breaker(&breaker, agent_type, async {
                let call = attempt(n);
                match &self.faults {
                    Some(faults) => {
                        isolate(with_timeout(self.timeout, faults.run(agent_type, call))).await
                    }
                    None => isolate(with_timeout(self.timeout, call)).await,
                }
            })
            .await;
            let error = match result {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let wait = {
                let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
                self.policy.next_delay(n, &error, &mut rng)
            };
            match wait {
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
