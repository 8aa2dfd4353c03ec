//! The runtime's counters: trips by outcome, task retries and failovers,
//! each agent type's calls (successes, failures, latency histogram, cost,
//! scaling decisions) and the submit-to-finished latency — the design
//! document's *Key Metrics Dashboard*.
//!
//! A part of its own so that every other part can count without sharing
//! a lock with the state it works on: [`Stats`] holds one mutex, taken
//! only for the increment and never held across another part's lock or an
//! `.await`. It is the lowest part: it depends on no other.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::lock;
use super::{AgentMetrics, RuntimeMetrics, ScalingDecisions};
use crate::graph::AgentType;

/// Upper bounds (ms) of the agent latency histogram.
const LATENCY_BUCKETS_MS: [f64; 8] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];
/// Upper bounds (ms) of the submit-to-finished histogram.
const PLAN_BUCKETS_MS: [f64; 10] = [
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10_000.0, 60_000.0,
];

/// A trip- or task-level event worth counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Count {
    Submitted,
    Ready,
    Failed,
    Cancelled,
    /// Refused by admission: every slot and the waiting line full.
    Overloaded,
    ModificationApplied,
    ModificationRolledBack,
    Skipped,
    Retry,
    Failover,
}

/// Why an instance was started or stopped (the metrics' `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    Predictive,
    Reactive,
    Idle,
}

#[derive(Default)]
struct AgentCounters {
    successes: u64,
    failures: u64,
    invocations: u64,
    latency_ms_sum: f64,
    latency_count: u64,
    buckets: [u64; LATENCY_BUCKETS_MS.len()],
    cost_total: f64,
    scaling: ScalingDecisions,
}

#[derive(Default)]
struct Counters {
    submitted: u64,
    ready: u64,
    failed: u64,
    cancelled: u64,
    overloaded: u64,
    modifications_applied: u64,
    modifications_rolled_back: u64,
    skipped: u64,
    retries: u64,
    failovers: u64,
    /// By [`AgentType`], in [`AgentType::ALL`]'s order.
    agents: [AgentCounters; AgentType::ALL.len()],
    plan_latency_ms_sum: f64,
    plan_latency_ms_count: u64,
    plan_buckets: [u64; PLAN_BUCKETS_MS.len()],
}

/// The runtime's counters behind one lock.
#[derive(Default)]
pub(super) struct Stats {
    counters: Mutex<Counters>,
}

impl Stats {
    pub(super) fn count(&self, what: Count) {
        let mut c = lock(&self.counters);
        let n = match what {
            Count::Submitted => &mut c.submitted,
            Count::Ready => &mut c.ready,
            Count::Failed => &mut c.failed,
            Count::Cancelled => &mut c.cancelled,
            Count::Overloaded => &mut c.overloaded,
            Count::ModificationApplied => &mut c.modifications_applied,
            Count::ModificationRolledBack => &mut c.modifications_rolled_back,
            Count::Skipped => &mut c.skipped,
            Count::Retry => &mut c.retries,
            Count::Failover => &mut c.failovers,
        };
        *n += 1;
    }

    /// A real run of an agent (not a cache hit, not a resumed result).
    pub(super) fn invoked(&self, agent_type: AgentType) {
        lock(&self.counters).agents[agent_type as usize].invocations += 1;
    }

    /// A finished agent call: `ok` when it answered (a plan or a "no
    /// plan"), its latency and its nominal cost.
    pub(super) fn agent_call(&self, agent_type: AgentType, ms: u64, ok: bool, cost: f64) {
        let mut counters = lock(&self.counters);
        let c = &mut counters.agents[agent_type as usize];
        if ok {
            c.successes += 1;
        } else {
            c.failures += 1;
        }
        c.latency_ms_sum += ms as f64;
        c.latency_count += 1;
        c.cost_total += cost;
        for (n, bound) in LATENCY_BUCKETS_MS.iter().enumerate() {
            if ms as f64 <= *bound {
                c.buckets[n] += 1;
            }
        }
    }

    /// An instance started (`up`) or stopped, and why.
    pub(super) fn scaled(&self, agent_type: AgentType, up: bool, reason: Reason) {
        let mut counters = lock(&self.counters);
        let c = &mut counters.agents[agent_type as usize].scaling;
        match (up, reason) {
            (true, Reason::Predictive) => c.up_predictive += 1,
            (true, _) => c.up_reactive += 1,
            (false, Reason::Idle) => c.down_idle += 1,
            (false, _) => c.down_predictive += 1,
        }
    }

    /// A trip submitted in this process finished after `ms`.
    pub(super) fn plan_latency(&self, ms: f64) {
        let mut c = lock(&self.counters);
        c.plan_latency_ms_sum += ms;
        c.plan_latency_ms_count += 1;
        for (n, bound) in PLAN_BUCKETS_MS.iter().enumerate() {
            if ms <= *bound {
                c.plan_buckets[n] += 1;
            }
        }
    }

    /// Real agent runs of a type.
    pub(super) fn invocations(&self, agent_type: AgentType) -> u64 {
        lock(&self.counters).agents[agent_type as usize].invocations
    }

    /// The mean latency of every call of a type so far (`None` before the
    /// first): the service time scaling falls back on.
    pub(super) fn mean_latency_ms(&self, agent_type: AgentType) -> Option<f64> {
        let counters = lock(&self.counters);
        let c = &counters.agents[agent_type as usize];
        (c.latency_count > 0).then(|| c.latency_ms_sum / c.latency_count as f64)
    }

    /// The counters as metrics. What other parts know (instances, breakers,
    /// forecasts, caches, the waiting line, consistency) is left at its
    /// default for the façade to fill in.
    pub(super) fn metrics(&self) -> RuntimeMetrics {
        let c = lock(&self.counters);
        let mut agents = BTreeMap::new();
        for (agent_type, counters) in AgentType::ALL.into_iter().zip(&c.agents) {
            let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS_MS
                .iter()
                .zip(counters.buckets)
                .map(|(b, n)| (*b, n))
                .collect();
            buckets.push((f64::INFINITY, counters.latency_count));
            agents.insert(
                agent_type.as_str().to_owned(),
                AgentMetrics {
                    successes: counters.successes,
                    failures: counters.failures,
                    latency_ms_sum: counters.latency_ms_sum,
                    latency_count: counters.latency_count,
                    latency_buckets: buckets,
                    cost_total: counters.cost_total,
                    scaling: counters.scaling,
                    ..AgentMetrics::default()
                },
            );
        }
        RuntimeMetrics {
            trips_submitted: c.submitted,
            trips_ready: c.ready,
            trips_failed: c.failed,
            trips_cancelled: c.cancelled,
            trips_rejected_overloaded: c.overloaded,
            modifications_applied: c.modifications_applied,
            modifications_rolled_back: c.modifications_rolled_back,
            tasks_skipped: c.skipped,
            task_retries: c.retries,
            task_failovers: c.failovers,
            agents,
            plan_latency_ms_sum: c.plan_latency_ms_sum,
            plan_latency_ms_count: c.plan_latency_ms_count,
            plan_latency_ms_buckets: PLAN_BUCKETS_MS
                .iter()
                .enumerate()
                .map(|(n, b)| (*b, c.plan_buckets[n]))
                .chain([(f64::INFINITY, c.plan_latency_ms_count)])
                .collect(),
            ..RuntimeMetrics::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_calls_fill_cumulative_buckets_and_scaling_counts_by_reason() {
        let stats = Stats::default();
        stats.agent_call(AgentType::Transport, 7, true, 0.5);
        stats.agent_call(AgentType::Transport, 300, false, 0.5);
        stats.scaled(AgentType::Transport, true, Reason::Reactive);
        stats.scaled(AgentType::Transport, false, Reason::Idle);
        stats.count(Count::Retry);
        let m = stats.metrics();
        let t = &m.agents["transport"];
        assert_eq!((t.successes, t.failures, t.latency_count), (1, 1, 2));
        // 7 ms is under every bound from 10; 300 ms from 1000 on.
        assert_eq!(t.latency_buckets[0], (5.0, 0));
        assert_eq!(t.latency_buckets[1], (10.0, 1));
        assert_eq!(t.latency_buckets[6], (1000.0, 2));
        assert_eq!(t.latency_buckets.last(), Some(&(f64::INFINITY, 2)));
        assert_eq!((t.scaling.up_reactive, t.scaling.down_idle), (1, 1));
        assert_eq!(stats.mean_latency_ms(AgentType::Transport), Some(153.5));
        assert_eq!(m.task_retries, 1);
        assert_eq!(m.agents.len(), AgentType::ALL.len());
    }
}
