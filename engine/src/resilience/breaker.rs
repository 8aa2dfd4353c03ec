//! Circuit breakers, one per agent type. Closed: calls go through and
//! consecutive failures are counted; at `failure_threshold` the circuit
//! opens and calls fail fast for `cool_down`; then it is half-open and lets
//! one probe through: success closes it, failure opens it again. Time comes
//! from the [`Clock`](crate::clock::Clock) port, so tests move it by hand.
//! The state is observable ([`CircuitBreaker::snapshot`]) for metrics and
//! the agents dashboard.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::SharedClock;

/// A breaker's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit (the design's
    /// `circuit_breaker_threshold`).
    pub failure_threshold: u32,
    /// How long an open circuit fails fast before a probe is let through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 10,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// The three states, as shown to people and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// A breaker at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerSnapshot {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    /// When an open circuit will let a probe through.
    pub open_until: Option<DateTime<Utc>>,
    /// Times the circuit has opened since start-up.
    pub trips: u64,
}

/// Refused because the circuit is open (or its single probe is out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit open; retry in {retry_after:?}")]
pub struct BreakerOpen {
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed { failures: u32 },
    Open { until: DateTime<Utc> },
    HalfOpen { probing: bool },
}

/// One agent type's breaker. Share it behind an `Arc`.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    clock: SharedClock,
    inner: Mutex<(Inner, u64)>,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig, clock: SharedClock) -> Self {
        Self {
            config,
            clock,
            inner: Mutex::new((Inner::Closed { failures: 0 }, 0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (Inner, u64)> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks to make a call. In half-open state only one caller (the probe)
    /// gets through until it reports back.
    pub fn acquire(&self) -> Result<(), BreakerOpen> {
        let now = self.clock.now();
        let mut guard = self.lock();
        match guard.0 {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if now >= until => {
                guard.0 = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::Open { until } => Err(BreakerOpen {
                retry_after: (until - now).to_std().unwrap_or_default(),
            }),
            Inner::HalfOpen { probing: false } => {
                guard.0 = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::HalfOpen { probing: true } => Err(BreakerOpen {
                retry_after: Duration::ZERO,
            }),
        }
    }

    /// A call succeeded: the circuit closes.
    pub fn record_success(&self) {
        self.lock().0 = Inner::Closed { failures: 0 };
    }

    /// A call failed in a way that reflects on the agent.
    pub fn record_failure(&self) {
        let now = self.clock.now();
        let open = Inner::Open {
            until: now + chrono::Duration::from_std(self.config.cool_down).unwrap_or_default(),
        };
        let mut guard = self.lock();
        match guard.0 {
            Inner::Closed { failures } if failures + 1 >= self.config.failure_threshold => {
                *guard = (open, guard.1 + 1);
            }
            Inner::Closed { failures } => {
                guard.0 = Inner::Closed {
                    failures: failures + 1,
                }
            }
            Inner::HalfOpen { .. } => *guard = (open, guard.1 + 1),
            Inner::Open { .. } => {}
        }
    }

    /// The state now (an open circuit whose cool-down has passed shows as
    /// half-open: the next call will be the probe).
    pub fn state(&self) -> BreakerState {
        self.snapshot().state
    }

    pub fn snapshot(&self) -> BreakerSnapshot {
        let now = self.clock.now();
        let (inner, trips) = *self.lock();
        match inner {
            Inner::Closed { failures } => BreakerSnapshot {
                state: BreakerState::Closed,
                consecutive_failures: failures,
                open_until: None,
                trips,
            },
            Inner::Open { until } => BreakerSnapshot {
                state: if now >= until {
                    BreakerState::HalfOpen
                } else {
                    BreakerState::Open
                },
                consecutive_failures: self.config.failure_threshold,
                open_until: Some(until),
                trips,
            },
            Inner::HalfOpen { .. } => BreakerSnapshot {
                state: BreakerState::HalfOpen,
                consecutive_failures: self.config.failure_threshold,
                open_until: None,
                trips,
            },
        }
    }
}

/// The breakers of every agent type, made on first use.
#[derive(Debug, Clone)]
pub struct Breakers {
    config: BreakerConfig,
    clock: SharedClock,
    by_agent: Arc<Mutex<BTreeMap<String, Arc<CircuitBreaker>>>>,
}

impl Breakers {
    pub fn new(config: BreakerConfig, clock: SharedClock) -> Self {
        Self {
            config,
            clock,
            by_agent: Arc::default(),
        }
    }

    pub fn for_agent(&self, agent_type: &str) -> Arc<CircuitBreaker> {
        let mut map = self.by_agent.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(agent_type.to_owned())
            .or_insert_with(|| Arc::new(CircuitBreaker::new(self.config, self.clock.clone())))
            .clone()
    }

    /// Every breaker's state, by agent type (for `/metrics`, `/api/agents`).
    pub fn snapshot(&self) -> BTreeMap<String, BreakerSnapshot> {
        let map = self.by_agent.lock().unwrap_or_else(PoisonError::into_inner);
        map.iter().map(|(k, b)| (k.clone(), b.snapshot())).collect()
    }
}
