//! [`RetryPolicy`]: Temporal-style retries with exponential backoff and full
//! jitter. The n-th retry waits a uniformly random time in
//! `[0, min(maximum_interval, initial_interval × backoff_coefficient^(n-1))]`
//! (and at least an error's own `retry_after`). Errors classified permanent,
//! or of a kind the policy lists as non-retryable, stop at once.
//!
//! Written here rather than with `backon`: the policy's fields are the
//! design's configuration (and Temporal's) one for one, the jitter must come
//! from a seeded generator so tests are reproducible, and the same
//! [`RetryPolicy::delay`] schedules retries through the task queue
//! (`retry_at`) as well as in-process sleeps.

use std::future::Future;
use std::time::Duration;

use super::Rng;
use super::error::{Classify, ErrorClass};

/// How the computed backoff is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Wait exactly the computed backoff (deterministic; for tests).
    None,
    /// Wait uniformly in `[0, backoff]` (AWS's "full jitter"): spreads the
    /// retries of many failing callers.
    #[default]
    Full,
}

/// When and how often to try again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub initial_interval: Duration,
    pub backoff_coefficient: f64,
    pub maximum_interval: Duration,
    /// Attempts in all, the first included; 0 means unlimited.
    pub maximum_attempts: u32,
    /// Error kinds ([`Classify::kind`]) never retried, whatever their class.
    pub non_retryable: Vec<String>,
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    /// 1 s, doubling, at most 100 s apart, 3 attempts (the design's
    /// `retry_attempts: 3`), full jitter.
    fn default() -> Self {
        Self {
            initial_interval: Duration::from_secs(1),
            backoff_coefficient: 2.0,
            maximum_interval: Duration::from_secs(100),
            maximum_attempts: 3,
            non_retryable: Vec::new(),
            jitter: Jitter::Full,
        }
    }
}

/// Why retrying stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RetryError<E> {
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: E },
    #[error("not retryable (attempt {attempt}): {error}")]
    NonRetryable { attempt: u32, error: E },
}

impl<E> RetryError<E> {
    pub fn into_inner(self) -> E {
        match self {
            RetryError::Exhausted { last, .. } => last,
            RetryError::NonRetryable { error, .. } => error,
        }
    }

    pub fn attempts(&self) -> u32 {
        match self {
            RetryError::Exhausted { attempts, .. } => *attempts,
            RetryError::NonRetryable { attempt, .. } => *attempt,
        }
    }
}

impl RetryPolicy {
    /// The backoff ceiling before the `retry`-th retry (1 = the first).
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.backoff_coefficient.max(1.0).powi(exponent);
        let secs = self.initial_interval.as_secs_f64() * factor;
        if !secs.is_finite() || secs >= self.maximum_interval.as_secs_f64() {
            self.maximum_interval
        } else {
            Duration::from_secs_f64(secs)
        }
    }

    /// The wait before the `retry`-th retry, jittered.
    pub fn delay(&self, retry: u32, rng: &mut Rng) -> Duration {
        let ceiling = self.backoff(retry);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => ceiling.mul_f64(rng.f64()),
        }
    }

    /// After attempt number `attempt` failed with `error`: how long to wait
    /// before the next, or `None` to stop.
    pub fn next_delay<E: Classify>(
        &self,
        attempt: u32,
        error: &E,
        rng: &mut Rng,
    ) -> Option<Duration> {
        let retry_after = match error.class() {
            ErrorClass::Permanent => return None,
            ErrorClass::Transient { retry_after } => retry_after,
        };
        if self.is_non_retryable(error) || self.exhausted(attempt) {
            return None;
        }
        let delay = self.delay(attempt, rng);
        Some(retry_after.map_or(delay, |floor| delay.max(floor)))
    }

    /// Whether `error` stops retries at once (permanent, or a kind listed
    /// as non-retryable), as opposed to running out of attempts.
    pub fn gives_up_on<E: Classify>(&self, error: &E) -> bool {
        matches!(error.class(), ErrorClass::Permanent) || self.is_non_retryable(error)
    }

    fn is_non_retryable<E: Classify>(&self, error: &E) -> bool {
        self.non_retryable.iter().any(|k| k == error.kind())
    }

    fn exhausted(&self, attempt: u32) -> bool {
        self.maximum_attempts != 0 && attempt >= self.maximum_attempts
    }

    /// Runs `op` (given the attempt number, from 1) until it succeeds or
    /// the policy says stop, sleeping on tokio's clock in between.
    pub async fn retry<T, E, F, Fut>(&self, rng: &mut Rng, mut op: F) -> Result<T, RetryError<E>>
    where
        E: Classify,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempt = 1;
        loop {
            match op(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => match self.next_delay(attempt, &error, rng) {
                    Some(wait) => {
                        tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None if self.gives_up_on(&error) => {
                        return Err(RetryError::NonRetryable { attempt, error });
                    }
                    None => {
                        return Err(RetryError::Exhausted {
                            attempts: attempt,
                            last: error,
                        });
                    }
                },
            }
        }
    }
}
