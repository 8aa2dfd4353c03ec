//! The last hour of the runtime's figures, kept in the server process: one
//! [`Sample`] of the cumulative counters and gauges every few seconds, in a
//! fixed-size [`Ring`] (720 × 5 s by default), so memory is bounded
//! whatever the traffic. A sample is a row of every series at one instant;
//! the ring of rows is a ring per series sharing one time axis.
//!
//! Rates and quantiles are differences between two samples (as
//! Prometheus' `rate` and `histogram_quantile` over a range): counters only
//! grow within a process, so the figure of a window is its latest sample
//! less the one at its start.
//!
//! Size: a sample is about 1.2 KB (nine agent types, eleven plan-latency
//! buckets, three cache levels), so the default ring holds under 1 MB.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wayfare_domain::trip::AgentInfo;

use crate::graph::AgentType;
use crate::runtime::{RuntimeConfig, RuntimeMetrics};

/// A ring buffer of at most `capacity` items: pushing onto a full one drops
/// the oldest.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    /// A ring of at least one item.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            items: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    /// Keeps only the items `keep` says yes to, in order.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    pub fn latest(&self) -> Option<&T> {
        self.items.back()
    }
}

/// One agent type at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSample {
    pub agent_type: String,
    /// Instances online.
    pub instances: u32,
    pub min_instances: u32,
    pub max_instances: u32,
    /// Tasks running on its online instances, and the slots they have.
    pub busy: u32,
    pub capacity: u32,
    pub successes: u64,
    pub failures: u64,
    pub latency_ms_sum: f64,
    pub latency_count: u64,
    /// closed | open | half_open
    pub breaker: String,
    pub cost_total: f64,
}

/// One cache level's cumulative look-ups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheSample {
    pub level: String,
    pub hits: u64,
    pub misses: u64,
}

/// Every series at one instant: counters are cumulative (since the process
/// started), gauges as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub trips_submitted: u64,
    pub trips_ready: u64,
    pub trips_failed: u64,
    pub trips_in_flight: u64,
    pub trips_waiting: u64,
    pub queue_depth: u64,
    pub cost_per_request: f64,
    /// Submit → ready or failed: cumulative `le` buckets in ms, the last
    /// +Inf.
    pub plan_latency_buckets: Vec<(f64, u64)>,
    pub plan_latency_count: u64,
    pub plan_latency_ms_sum: f64,
    /// In [`AgentType::ALL`] order.
    pub agents: Vec<AgentSample>,
    pub caches: Vec<CacheSample>,
    /// Average stars of the rated trips; `None` before the first rating (or
    /// when the store could not be read).
    pub satisfaction: Option<f64>,
    /// Share of audited trips whose read model, queue and results agree
    /// with their log; `None` until the auditor has run a pass.
    pub consistency: Option<f64>,
}

impl Sample {
    /// A sample of the runtime's figures at `at`: its counters, its
    /// registry (for load; with several processes, every process's
    /// instances, so that a web tier with no agents of its own does not
    /// count a type served elsewhere as down) and its configuration (for
    /// the minimum instances).
    pub fn from_runtime(
        at: DateTime<Utc>,
        m: &RuntimeMetrics,
        registry: &[AgentInfo],
        config: &RuntimeConfig,
    ) -> Self {
        let agents = AgentType::ALL
            .into_iter()
            .map(|agent_type| {
                let a = m
                    .agents
                    .get(agent_type.as_str())
                    .cloned()
                    .unwrap_or_default();
                let online: Vec<&AgentInfo> = registry
                    .iter()
                    .filter(|i| i.agent_type == agent_type.as_str() && i.status != "offline")
                    .collect();
                let (busy, capacity) = online
                    .iter()
                    .fold((0, 0), |(b, c), i| (b + i.current_load, c + i.max_capacity));
                let agent_config = config.agent(agent_type);
                AgentSample {
                    agent_type: agent_type.as_str().to_owned(),
                    instances: a
                        .instances
                        .max(u32::try_from(online.len()).unwrap_or(u32::MAX)),
                    min_instances: agent_config.min_instances,
                    max_instances: agent_config.max_instances,
                    busy,
                    capacity,
                    successes: a.successes,
                    failures: a.failures,
                    latency_ms_sum: a.latency_ms_sum,
                    latency_count: a.latency_count,
                    breaker: if a.breaker.is_empty() {
                        "closed".to_owned()
                    } else {
                        a.breaker
                    },
                    cost_total: a.cost_total,
                }
            })
            .collect();
        let caches = m
            .cache
            .iter()
            .map(|(level, c)| CacheSample {
                level: level.clone(),
                hits: c.hits,
                misses: c.misses,
            })
            .collect();
        Sample {
            at,
            trips_submitted: m.trips_submitted,
            trips_ready: m.trips_ready,
            trips_failed: m.trips_failed,
            trips_in_flight: m.trips_in_flight,
            trips_waiting: m.trips_waiting,
            queue_depth: m.queue_depth,
            cost_per_request: m.cost_per_request,
            plan_latency_buckets: m.plan_latency_ms_buckets.clone(),
            plan_latency_count: m.plan_latency_ms_count,
            plan_latency_ms_sum: m.plan_latency_ms_sum,
            agents,
            caches,
            satisfaction: None,
            consistency: (m.consistency.passes > 0).then_some(m.consistency.score),
        }
    }

    pub fn agent(&self, agent_type: &str) -> Option<&AgentSample> {
        self.agents.iter().find(|a| a.agent_type == agent_type)
    }

    pub fn cache(&self, level: &str) -> Option<&CacheSample> {
        self.caches.iter().find(|c| c.level == level)
    }

    /// Agent calls of every type.
    pub fn calls(&self) -> (u64, u64) {
        self.agents
            .iter()
            .fold((0, 0), |(s, f), a| (s + a.successes, f + a.failures))
    }
}

/// The samples of the last hour (or `capacity × interval`).
#[derive(Debug, Clone)]
pub struct History {
    samples: Ring<Sample>,
}

impl History {
    pub fn new(capacity: usize) -> Self {
        Self {
            samples: Ring::new(capacity),
        }
    }

    /// Adds a sample. One older than the latest (a clock set back) replaces
    /// nothing and is dropped: the windows below need time to move forward.
    pub fn push(&mut self, sample: Sample) -> bool {
        if self.samples.latest().is_some_and(|l| sample.at < l.at) {
            return false;
        }
        self.samples.push(sample);
        true
    }

    pub fn latest(&self) -> Option<&Sample> {
        self.samples.latest()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.samples.capacity()
    }

    pub fn samples(&self) -> impl DoubleEndedIterator<Item = &Sample> + ExactSizeIterator {
        self.samples.iter()
    }

    /// The window of `length` ending at the latest sample: that sample and
    /// the newest one at or before its start (the oldest kept when the
    /// history is shorter than the window). `None` with fewer than two
    /// samples.
    pub fn window(&self, length: std::time::Duration) -> Option<Window<'_>> {
        let end = self.samples.latest()?;
        let from = end.at - chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
        let start = self
            .samples
            .iter()
            .rev()
            .skip(1)
            .find(|s| s.at <= from)
            .or_else(|| self.samples.iter().next())?;
        (start.at < end.at).then_some(Window { start, end })
    }

    /// The window of `length` ending at each kept sample, one every `step`
    /// samples, oldest first: the points of a chart.
    pub fn windows(&self, length: std::time::Duration, step: usize) -> Vec<Window<'_>> {
        let all: Vec<&Sample> = self.samples.iter().collect();
        let length = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
        let step = step.max(1);
        let mut out = Vec::new();
        // From the newest back, so the latest sample is always a point.
        let mut i = all.len();
        while i > 0 {
            i -= 1;
            let end = all[i];
            let from = end.at - length;
            let start = all[..i]
                .iter()
                .rev()
                .find(|s| s.at <= from)
                .or_else(|| all.first());
            if let Some(start) = start
                && start.at < end.at
            {
                out.push(Window { start, end });
            }
            if i < step {
                break;
            }
            i = i + 1 - step;
        }
        out.reverse();
        out
    }
}

/// Two samples: what happened between them.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub start: &'a Sample,
    pub end: &'a Sample,
}

impl Window<'_> {
    pub fn seconds(&self) -> f64 {
        (self.end.at - self.start.at).num_milliseconds() as f64 / 1000.0
    }

    /// Trips that finished planning (ready or failed) in the window.
    pub fn plans_finished(&self) -> u64 {
        self.end
            .plan_latency_count
            .saturating_sub(self.start.plan_latency_count)
    }

    /// Trips submitted per minute.
    pub fn submitted_per_minute(&self) -> f64 {
        let n = self
            .end
            .trips_submitted
            .saturating_sub(self.start.trips_submitted);
        per_minute(n, self.seconds())
    }

    /// The `q` quantile (0..1) of the planning time in ms of the trips that
    /// finished in the window; `None` when none did.
    pub fn plan_latency_quantile_ms(&self, q: f64) -> Option<f64> {
        let buckets: Vec<(f64, u64)> = self
            .end
            .plan_latency_buckets
            .iter()
            .map(|(le, n)| {
                let before = self
                    .start
                    .plan_latency_buckets
                    .iter()
                    .find(|(l, _)| l == le)
                    .map_or(0, |(_, n)| *n);
                (*le, n.saturating_sub(before))
            })
            .collect();
        quantile(q, &buckets)
    }

    /// Successful calls over all calls of every agent type; `None` without
    /// calls.
    pub fn success_rate(&self) -> Option<f64> {
        let (s1, f1) = self.end.calls();
        let (s0, f0) = self.start.calls();
        rate(s1.saturating_sub(s0), f1.saturating_sub(f0))
    }

    /// One agent type's calls in the window: (successes, failures).
    pub fn agent_calls(&self, agent_type: &str) -> (u64, u64) {
        match (self.start.agent(agent_type), self.end.agent(agent_type)) {
            (Some(a), Some(b)) => (
                b.successes.saturating_sub(a.successes),
                b.failures.saturating_sub(a.failures),
            ),
            (None, Some(b)) => (b.successes, b.failures),
            _ => (0, 0),
        }
    }

    /// One agent type's success rate; `None` without calls.
    pub fn agent_success_rate(&self, agent_type: &str) -> Option<f64> {
        let (s, f) = self.agent_calls(agent_type);
        rate(s, f)
    }

    /// One agent type's mean call time in ms; `None` without calls.
    pub fn agent_latency_ms(&self, agent_type: &str) -> Option<f64> {
        let (a, b) = (self.start.agent(agent_type)?, self.end.agent(agent_type)?);
        let n = b.latency_count.saturating_sub(a.latency_count);
        (n > 0).then(|| (b.latency_ms_sum - a.latency_ms_sum).max(0.0) / n as f64)
    }

    /// One cache level's (look-ups, hit rate) in the window.
    pub fn cache(&self, level: &str) -> (u64, Option<f64>) {
        let counts = |c: Option<&CacheSample>| c.map_or((0, 0), |c| (c.hits, c.misses));
        let (h1, m1) = counts(self.end.cache(level));
        let (h0, m0) = counts(self.start.cache(level));
        let (hits, misses) = (h1.saturating_sub(h0), m1.saturating_sub(m0));
        let lookups = hits + misses;
        (lookups, (lookups > 0).then(|| hits as f64 / lookups as f64))
    }
}

fn rate(successes: u64, failures: u64) -> Option<f64> {
    let total = successes + failures;
    (total > 0).then(|| successes as f64 / total as f64)
}

fn per_minute(n: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        0.0
    } else {
        n as f64 * 60.0 / seconds
    }
}

/// The `q` quantile of a histogram given as cumulative `le` buckets (the
/// last +Inf), interpolated linearly within its bucket as Prometheus'
/// `histogram_quantile` does; in the +Inf bucket, the largest finite bound.
pub fn quantile(q: f64, buckets: &[(f64, u64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total == 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut lower = (0.0, 0u64);
    for &(le, count) in buckets {
        if count as f64 >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let in_bucket = count.saturating_sub(lower.1);
            if in_bucket == 0 {
                return Some(le);
            }
            let fraction = (rank - lower.1 as f64) / in_bucket as f64;
            return Some(lower.0 + (le - lower.0) * fraction);
        }
        lower = (le, count);
    }
    Some(lower.0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::runtime::registry::shared::test_row;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_767_225_600 + seconds, 0).unwrap_or_default()
    }

    fn sample(seconds: i64, submitted: u64) -> Sample {
        let mut s = Sample::from_runtime(
            at(seconds),
            &RuntimeMetrics::default(),
            &[],
            &RuntimeConfig::default(),
        );
        s.trips_submitted = submitted;
        s
    }

    /// A web tier with no agents of its own (`serve --agents none`) counts
    /// the instances other processes run, not its own zero: the
    /// "no instance online" alert would fire for every type otherwise.
    #[test]
    fn instances_online_in_another_process_count_and_offline_ones_do_not() {
        let instance = |id: &str, agent_type: &str, status: &str| AgentInfo {
            current_load: 1,
            process: Some("node-worker".to_owned()),
            host: Some("box".to_owned()),
            pid: Some(7),
            heartbeat_age_ms: Some(300),
            ..test_row(id, agent_type, status)
        };
        let registry = [
            instance("transport-1", "transport", "available"),
            instance("transport-2", "transport", "busy"),
            instance("dining-1", "dining", "offline"),
        ];
        let s = Sample::from_runtime(
            at(0),
            &RuntimeMetrics::default(),
            &registry,
            &RuntimeConfig::default(),
        );
        let transport = s.agent("transport").expect("sampled");
        assert_eq!(
            (transport.instances, transport.busy, transport.capacity),
            (2, 2, 8)
        );
        assert_eq!(s.agent("dining").expect("sampled").instances, 0);
    }

    #[test]
    fn a_full_ring_drops_its_oldest() {
        let mut ring = Ring::new(3);
        for n in 0..5 {
            ring.push(n);
        }
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(ring.latest(), Some(&4));
        assert_eq!(ring.len(), ring.capacity());
    }

    #[test]
    fn a_window_spans_from_the_newest_sample_before_its_start() {
        let mut h = History::new(100);
        for n in 0..10 {
            h.push(sample(n * 5, n as u64 * 2));
        }
        let w = h.window(Duration::from_secs(20)).expect("a window");
        assert_eq!((w.start.at, w.end.at), (at(25), at(45)));
        assert!((w.submitted_per_minute() - 24.0).abs() < 1e-9);
        // Longer than the history: from the oldest.
        let w = h.window(Duration::from_secs(3600)).expect("a window");
        assert_eq!(w.start.at, at(0));
        assert!(!h.push(sample(10, 0)), "a sample from the past is dropped");
    }

    #[test]
    fn chart_windows_end_at_every_step_and_at_the_latest() {
        let mut h = History::new(100);
        for n in 0..10 {
            h.push(sample(n * 5, n as u64));
        }
        let ends: Vec<_> = h
            .windows(Duration::from_secs(10), 3)
            .iter()
            .map(|w| w.end.at)
            .collect();
        assert_eq!(ends, vec![at(15), at(30), at(45)]);
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let buckets = [
            (1000.0, 50),
            (5000.0, 90),
            (10000.0, 100),
            (f64::INFINITY, 100),
        ];
        assert_eq!(quantile(0.5, &buckets), Some(1000.0));
        assert_eq!(quantile(0.95, &buckets), Some(7500.0));
        assert_eq!(quantile(0.95, &[(1000.0, 0), (f64::INFINITY, 0)]), None);
        // Everything beyond the last bound: the last bound.
        assert_eq!(
            quantile(0.5, &[(1000.0, 0), (f64::INFINITY, 4)]),
            Some(1000.0)
        );
    }
}
