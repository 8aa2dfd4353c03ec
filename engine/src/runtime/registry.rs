//! The agent registry: one row per instance (the design's table) and the
//! delegation score that picks the instance for a task.
//!
//! Delegation score (higher wins; ties go to the older instance):
//!
//! ```text
//! score = 2.0 · specialisation          (1 when the instance's capabilities include the task's type)
//!       − 1.0 · load / max_capacity     (current load)
//!       − 0.5 · latency / (latency + 100 ms)   (moving average of response time)
//!       − 0.25 · cost / (cost + 1)      (cost per request)
//!       − 1.0 · [the task failed on this instance before]   (failover)
//! ```
//!
//! On top of the score, the priority decides which instances may take a
//! task: P0 only an idle instance (a dedicated one: it runs nothing else
//! meanwhile), P1 the best (primary) with the runner-up as backup — the
//! failover term hands a failed task to the backup —, P2 any instance with
//! spare capacity (the shared pool), P3 batches of up to
//! `communication.batch_size` to one instance, skipped under load.
//!
//! Scaling: [`instances_for`] turns a forecast arrival rate into the
//! instances that would carry it (Little's law: arrivals × service time is
//! the work in flight).
//!
//! The live registry — the instances themselves, their health, and the
//! scaling that starts and stops them — is [`Registry`] (`registry/pool.rs`,
//! `registry/scaling.rs`).

use serde::{Deserialize, Serialize};

use crate::graph::AgentType;
use crate::state::Priority;

mod pool;
mod scaling;
pub mod shared;

pub(super) use pool::{Health, Pinger, Registry, Spawner};

/// Moving-average weight of the newest response time.
pub const LATENCY_ALPHA: f64 = 0.2;

/// The delegation score of one instance for one task.
pub fn delegation_score(
    specialised: bool,
    load: u32,
    max_capacity: u32,
    latency_avg_ms: f64,
    cost_per_request: f64,
    failed_here_before: bool,
) -> f64 {
    let specialisation = if specialised { 1.0 } else { 0.0 };
    let load = f64::from(load) / f64::from(max_capacity.max(1));
    let latency = latency_avg_ms.max(0.0) / (latency_avg_ms.max(0.0) + 100.0);
    let cost = cost_per_request.max(0.0) / (cost_per_request.max(0.0) + 1.0);
    let failover = if failed_here_before { 1.0 } else { 0.0 };
    2.0 * specialisation - load - 0.5 * latency - 0.25 * cost - failover
}

/// The instances an agent type needs for `rate` arrivals per second that
/// take `service_ms` each, when one instance runs `per_instance` at once
/// (1 for a P0 type: its instances are dedicated) and is to be loaded no
/// further than `threshold` (the scale threshold: the headroom that keeps
/// reactive scaling for the surprises). Within `min..=max`; with no
/// service time measured yet, `min`.
pub fn instances_for(
    rate: f64,
    service_ms: Option<f64>,
    per_instance: u32,
    threshold: f64,
    min: u32,
    max: u32,
) -> u32 {
    let min = min.max(1);
    let max = max.max(min);
    let Some(service_ms) = service_ms.filter(|s| s.is_finite() && *s > 0.0) else {
        return min;
    };
    if !(rate.is_finite() && rate > 0.0) {
        return min;
    }
    let threshold = if threshold.is_finite() {
        threshold.clamp(0.05, 1.0)
    } else {
        1.0
    };
    let in_flight = rate * service_ms / 1000.0;
    let per_instance = f64::from(per_instance.max(1)) * threshold;
    // A hair under the next integer is that integer (float noise must not
    // start an instance).
    let needed = (in_flight / per_instance - 1e-9).ceil();
    if needed >= f64::from(max) {
        max
    } else {
        (needed.max(0.0) as u32).clamp(min, max)
    }
}

/// How an instance is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    Available,
    Busy,
    Offline,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Available => "available",
            InstanceStatus::Busy => "busy",
            InstanceStatus::Offline => "offline",
        }
    }
}

/// One registry row (without the breaker, which is per agent type).
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRow {
    pub agent_id: String,
    pub agent_type: AgentType,
    pub capabilities: Vec<String>,
    pub online: bool,
    pub current_load: u32,
    pub max_capacity: u32,
    pub response_time_avg_ms: f64,
    pub cost_per_request: f64,
    pub successes: u64,
    pub failures: u64,
}

impl InstanceRow {
    pub fn status(&self) -> InstanceStatus {
        if !self.online {
            InstanceStatus::Offline
        } else if self.current_load >= self.max_capacity {
            InstanceStatus::Busy
        } else {
            InstanceStatus::Available
        }
    }

    pub fn record_latency(&mut self, ms: f64) {
        self.response_time_avg_ms = if self.successes + self.failures == 0 {
            ms
        } else {
            LATENCY_ALPHA * ms + (1.0 - LATENCY_ALPHA) * self.response_time_avg_ms
        };
    }

    /// Whether the instance may take a task of `priority` now.
    pub fn eligible(&self, priority: Priority) -> bool {
        self.online
            && match priority {
                Priority::P0 => self.current_load == 0,
                _ => self.current_load < self.max_capacity,
            }
    }

    pub fn score(&self, agent_type: AgentType, failed_here_before: bool) -> f64 {
        delegation_score(
            self.capabilities.iter().any(|c| c == agent_type.as_str()),
            self.current_load,
            self.max_capacity,
            self.response_time_avg_ms,
            self.cost_per_request,
            failed_here_before,
        )
    }
}

/// The best eligible instance for a task of `agent_type` at `priority`
/// among `rows`, avoiding `failed_on` (instances the task already failed
/// on) through the score; `None` when none may take it.
pub fn choose_instance<'a>(
    rows: impl IntoIterator<Item = &'a InstanceRow>,
    agent_type: AgentType,
    priority: Priority,
    failed_on: &[String],
) -> Option<&'a InstanceRow> {
    let mut best: Option<(&InstanceRow, f64)> = None;
    for row in rows {
        if row.agent_type != agent_type || !row.eligible(priority) {
            continue;
        }
        let score = row.score(agent_type, failed_on.contains(&row.agent_id));
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((row, score));
        }
    }
    best.map(|(row, _)| row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, load: u32, latency: f64, cost: f64) -> InstanceRow {
        InstanceRow {
            agent_id: id.into(),
            agent_type: AgentType::Transport,
            capabilities: vec!["transport".into()],
            online: true,
            current_load: load,
            max_capacity: 4,
            response_time_avg_ms: latency,
            cost_per_request: cost,
            successes: 0,
            failures: 0,
        }
    }

    #[test]
    fn the_score_prefers_less_load_then_lower_latency_then_lower_cost() {
        let rows = [row("a", 2, 10.0, 0.0), row("b", 1, 10.0, 0.0)];
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P2, &[])
                .unwrap()
                .agent_id,
            "b"
        );
        let rows = [row("a", 1, 500.0, 0.0), row("b", 1, 20.0, 0.0)];
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P2, &[])
                .unwrap()
                .agent_id,
            "b"
        );
        let rows = [row("a", 1, 20.0, 5.0), row("b", 1, 20.0, 0.1)];
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P2, &[])
                .unwrap()
                .agent_id,
            "b"
        );
    }

    #[test]
    fn a_failed_task_goes_to_the_backup_instance() {
        let rows = [row("primary", 0, 10.0, 0.0), row("backup", 1, 50.0, 0.0)];
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P1, &[])
                .unwrap()
                .agent_id,
            "primary"
        );
        assert_eq!(
            choose_instance(
                &rows,
                AgentType::Transport,
                Priority::P1,
                &["primary".into()]
            )
            .unwrap()
            .agent_id,
            "backup"
        );
    }

    #[test]
    fn a_p0_task_takes_only_an_idle_instance_and_nobody_takes_an_offline_one() {
        let mut rows = [row("a", 1, 10.0, 0.0), row("b", 0, 900.0, 0.0)];
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P0, &[])
                .unwrap()
                .agent_id,
            "b"
        );
        rows[1].online = false;
        assert!(choose_instance(&rows, AgentType::Transport, Priority::P0, &[]).is_none());
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P2, &[])
                .unwrap()
                .agent_id,
            "a"
        );
    }

    #[test]
    fn the_forecast_becomes_instances_within_the_bounds() {
        // 3 arrivals/s of 2 s each: 6 in flight; 4 per instance at 75%
        // is 3 each: 2 instances.
        assert_eq!(instances_for(3.0, Some(2_000.0), 4, 0.75, 1, 5), 2);
        // One more in flight needs a third.
        assert_eq!(instances_for(3.5, Some(2_000.0), 4, 0.75, 1, 5), 3);
        // Dedicated (P0) instances hold one each.
        assert_eq!(instances_for(3.0, Some(1_000.0), 1, 1.0, 1, 5), 3);
        assert_eq!(instances_for(100.0, Some(2_000.0), 4, 0.75, 1, 5), 5);
        assert_eq!(instances_for(0.0, Some(2_000.0), 4, 0.75, 2, 5), 2);
        assert_eq!(instances_for(3.0, None, 4, 0.75, 1, 5), 1, "no latency yet");
        assert_eq!(instances_for(f64::NAN, Some(10.0), 4, 0.75, 1, 5), 1);
    }

    #[test]
    fn a_specialised_instance_beats_a_generalist() {
        let mut generalist = row("g", 0, 1.0, 0.0);
        generalist.capabilities = vec!["general".into()];
        let rows = [generalist, row("s", 2, 80.0, 0.5)];
        assert_eq!(
            choose_instance(&rows, AgentType::Transport, Priority::P2, &[])
                .unwrap()
                .agent_id,
            "s"
        );
    }
}
