//! Circuit breakers, one per agent type. Closed: calls go through and
//! consecutive failures are counted; at `failure_threshold` the circuit
//! opens and calls fail fast for `cool_down`; then it is half-open and lets
//! one probe through: success closes it, failure opens it again.
//!
//! A run of failures alone is a poor signal at volume: with an agent that
//! fails 30% of the time at random, ten failures in a row start about
//! once in 240,000 calls — for one agent type or another every minute or
//! two at 250 plans a second — and each time every trip waits out the
//! cool-down (a load test saw p95 jump to 30 s). So the run must also
//! come with a failure rate of at least half over the last
//! [`RATE_WINDOW`] calls: an agent that is down fails nearly every call
//! and opens its circuit as before (at once from a cold start, within
//! about fifty calls after a healthy stretch), one that fails now and then
//! does not.
//!
//! Failures are counted as calls report, and a failing call often reports
//! long before a succeeding one (an injected fault or a refused connection
//! returns at once). So that a burst of concurrent calls does not open the
//! circuit on its fast failures alone while its successes are still
//! running, the run of failures must also be at least half of the calls
//! not yet answered by a success: the failures plus the calls in flight. Time comes
//! from the [`Clock`](crate::clock::Clock) port, so tests move it by hand.
//! The state is observable ([`CircuitBreaker::snapshot`]) for metrics and
//! the agents dashboard.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::SharedClock;

/// How many of the latest outcomes the failure rate is taken over.
pub const RATE_WINDOW: usize = 100;

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
    inner: Mutex<State>,
}

#[derive(Debug, Clone)]
struct State {
    inner: Inner,
    /// Times the circuit has opened.
    trips: u64,
    /// Calls let through that have not reported yet.
    in_flight: u32,
    /// The latest outcomes (`true`: failed), at most [`RATE_WINDOW`].
    recent: VecDeque<bool>,
    /// How many of `recent` failed.
    recent_failures: usize,
}

impl State {
    fn remember(&mut self, failed: bool) {
        if self.recent.len() == RATE_WINDOW
            && let Some(oldest) = self.recent.pop_front()
        {
            self.recent_failures -= usize::from(oldest);
        }
        self.recent.push_back(failed);
        self.recent_failures += usize::from(failed);
    }

    /// At least half of the latest outcomes failed.
    fn mostly_failing(&self) -> bool {
        2 * self.recent_failures >= self.recent.len()
    }
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig, clock: SharedClock) -> Self {
        Self {
            config,
            clock,
            inner: Mutex::new(State {
                inner: Inner::Closed { failures: 0 },
                trips: 0,
                in_flight: 0,
                recent: VecDeque::with_capacity(RATE_WINDOW),
                recent_failures: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks to make a call. In half-open state only one caller (the probe)
    /// gets through until it reports back.
    pub fn acquire(&self) -> Result<(), BreakerOpen> {
        let now = self.clock.now();
        let mut guard = self.lock();
        let granted = match guard.inner {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if now >= until => {
                guard.inner = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::Open { until } => Err(BreakerOpen {
                retry_after: (until - now).to_std().unwrap_or_default(),
            }),
            Inner::HalfOpen { probing: false } => {
                guard.inner = Inner::HalfOpen { probing: true };
                Ok(())
            }
            Inner::HalfOpen { probing: true } => Err(BreakerOpen {
                retry_after: Duration::ZERO,
            }),
        };
        if granted.is_ok() {
            guard.in_flight += 1;
        }
        granted
    }

    /// A call succeeded: the circuit closes (a good probe also forgets the
    /// failures that opened it).
    pub fn record_success(&self) {
        let mut guard = self.lock();
        guard.in_flight = guard.in_flight.saturating_sub(1);
        if matches!(guard.inner, Inner::HalfOpen { .. }) {
            guard.recent.clear();
            guard.recent_failures = 0;
        }
        guard.remember(false);
        guard.inner = Inner::Closed { failures: 0 };
    }

    /// A call failed in a way that reflects on the agent. Returns whether
    /// this failure opened the circuit.
    pub fn record_failure(&self) -> bool {
        let now = self.clock.now();
        let open = Inner::Open {
            until: now + chrono::Duration::from_std(self.config.cool_down).unwrap_or_default(),
        };
        let mut guard = self.lock();
        guard.in_flight = guard.in_flight.saturating_sub(1);
        guard.remember(true);
        let opens = match guard.inner {
            Inner::Closed { failures } => {
                let failures = failures + 1;
                let opens = failures >= self.config.failure_threshold
                    && failures >= guard.in_flight
                    && guard.mostly_failing();
                if !opens {
                    guard.inner = Inner::Closed { failures };
                }
                opens
            }
            Inner::HalfOpen { .. } => true,
            Inner::Open { .. } => false,
        };
        if opens {
            guard.inner = open;
            guard.trips += 1;
        }
        opens
    }

    /// A call let through ended without a verdict on the agent (it was
    /// cancelled): it is no longer in flight.
    pub fn abandon(&self) {
        let mut guard = self.lock();
        guard.in_flight = guard.in_flight.saturating_sub(1);
        if let Inner::HalfOpen { probing: true } = guard.inner {
            guard.inner = Inner::HalfOpen { probing: false };
        }
    }

    /// The state now (an open circuit whose cool-down has passed shows as
    /// half-open: the next call will be the probe).
    pub fn state(&self) -> BreakerState {
        self.snapshot().state
    }

    pub fn snapshot(&self) -> BreakerSnapshot {
        let now = self.clock.now();
        let (inner, trips) = {
            let guard = self.lock();
            (guard.inner, guard.trips)
        };
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
