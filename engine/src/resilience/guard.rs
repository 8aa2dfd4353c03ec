//! Guards around one agent call: a per-task timeout, panic isolation, and
//! the circuit breaker, each turning its failure into an [`AgentError`].

use std::future::Future;
use std::time::Duration;

use super::breaker::CircuitBreaker;
use super::error::AgentError;

/// Runs `call`, failing with [`AgentError::TimedOut`] after `limit` (on
/// tokio's clock, so `start_paused` tests need no real waiting).
pub async fn with_timeout<T, F>(limit: Duration, call: F) -> Result<T, AgentError>
where
    F: Future<Output = Result<T, AgentError>>,
{
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result,
        Err(_) => Err(AgentError::TimedOut { after: limit }),
    }
}

/// Runs `call` on its own task so that a panic inside it becomes
/// [`AgentError::Panicked`] instead of taking the orchestrator down.
pub async fn isolate<T, F>(call: F) -> Result<T, AgentError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, AgentError>> + Send + 'static,
{
    match tokio::spawn(call).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => {
            let payload = join.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(AgentError::Panicked { message })
        }
        Err(_) => Err(AgentError::transient("the agent task was cancelled")),
    }
}

/// Runs `call` through `breaker`: fails fast while it is open, and reports
/// the outcome. A permanent error is the request's fault, not the agent's:
/// the agent answered, which counts as healthy. A call dropped before it
/// answers (its trip was cancelled) reports nothing but leaves the count
/// of calls in flight.
pub async fn through_breaker<T, F>(
    breaker: &CircuitBreaker,
    agent_type: &str,
    call: F,
) -> Result<T, AgentError>
where
    F: Future<Output = Result<T, AgentError>>,
{
    struct InFlight<'a>(Option<&'a CircuitBreaker>);
    impl Drop for InFlight<'_> {
        fn drop(&mut self) {
            if let Some(breaker) = self.0 {
                breaker.abandon();
            }
        }
    }

    if let Err(open) = breaker.acquire() {
        return Err(AgentError::CircuitOpen {
            agent_type: agent_type.to_owned(),
            retry_after: open.retry_after,
        });
    }
    let mut in_flight = InFlight(Some(breaker));
    let result = call.await;
    in_flight.0 = None;
    match &result {
        Ok(_) => breaker.record_success(),
        Err(err) if err.counts_against_agent() => {
            if breaker.record_failure() {
                let snapshot = breaker.snapshot();
                tracing::warn!(
                    agent.type = agent_type,
                    error = %err,
                    trips = snapshot.trips,
                    "circuit opened: calls fail fast until {}",
                    snapshot.open_until.map_or_else(String::new, |t| t.to_rfc3339()),
                );
            }
        }
        Err(_) => breaker.record_success(),
    }
    result
}
