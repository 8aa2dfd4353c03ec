//! Resilience for agent calls: retries with exponential backoff and full
//! jitter ([`RetryPolicy`]), per-task timeouts and panic isolation
//! ([`with_timeout`], [`isolate`]), circuit breakers per agent type
//! ([`Breakers`]), and fault injection ([`FaultInjector`]) to prove they
//! work; [`CallGuard`] nests them all around one agent call. All waiting is on tokio's clock or the [`crate::clock::Clock`]
//! port, so tests run with `start_paused` or a manual clock.

mod breaker;
mod call;
mod error;
mod fault;
mod guard;
mod retry;

pub use breaker::{
    BreakerConfig, BreakerOpen, BreakerSnapshot, BreakerState, Breakers, CircuitBreaker,
};
pub use call::CallGuard;
pub use error::{AgentError, Classify, ErrorClass};
/// The seeded generator behind jitter and fault injection (`fastrand`'s
/// wyrand: reproducible from a seed in tests, seeded from entropy in
/// production). Re-exported so that callers name one type.
pub use fastrand::Rng;
pub use fault::{Fault, FaultConfig, FaultInjector};
pub use guard::{isolate, through_breaker, with_timeout};
pub use retry::{Jitter, RetryError, RetryPolicy};
