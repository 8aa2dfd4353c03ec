//! The registry shared by every process on one database: each process
//! stamps its instances (with its node id, host name and pid) every
//! heartbeat, and `/api/agents` reads every process's rows from the
//! store. It is a view for operators: dispatch keeps using the local
//! [`Registry`](super::Registry), which knows the mailboxes and the loads
//! as they change, not as they were up to a heartbeat ago.
//!
//! An instance whose process stopped stamping (killed, paused, cut off)
//! is shown `offline` once its stamp is older than the node timeout, the
//! same silence after which that process's leases are released; its rows
//! are forgotten after [`FORGET_AFTER`], so that a process that is gone
//! for good does not stay listed for ever.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use wayfare_domain::trip::AgentInfo;

use crate::state::PortError;

/// How long the rows of a process that stopped stamping stay listed
/// (as offline) before the store forgets them.
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The process an instance runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStamp {
    /// The runtime's node id: the `lease_owner` of the tasks it claims.
    pub node_id: String,
    pub host: String,
    pub pid: u32,
}

impl ProcessStamp {
    /// This process, under `node_id`.
    pub fn this_process(node_id: &str) -> Self {
        Self {
            node_id: node_id.to_owned(),
            host: host_name(),
            pid: std::process::id(),
        }
    }
}

/// One stamped instance, as read back.
/// A process's instances as it stamps them in the shared registry at
/// `now`, and how long the rows of a process gone silent are kept.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub process: &'a ProcessStamp,
    pub instances: &'a [AgentInfo],
    pub now: DateTime<Utc>,
    pub forget_after: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StampedInstance {
    pub process: ProcessStamp,
    /// The row as its process last stamped it (its process fields unset).
    pub agent: AgentInfo,
    /// How long ago, on the database's clock where it has one.
    pub heartbeat_age: Duration,
}

/// The store's side of the shared registry.
pub trait SharedRegistry: Send + Sync {
    /// Replaces the stamp's process's rows with its instances, stamped
    /// now, and forgets the rows of processes silent for `forget_after`,
    /// in one transaction.
    fn stamp_instances(
        &self,
        stamp: Stamp<'_>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Every stamped instance of every process.
    fn stamped_instances(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<StampedInstance>, PortError>> + Send;

    /// Removes `node_id`'s rows (a process stopping cleanly).
    fn unstamp(&self, node_id: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The rows `/api/agents` shows: `local` (this process's instances, as
/// they are now) first, then every other process's stamped instances,
/// `offline` when their stamp is older than `silent_for`.
pub fn merge(
    me: &ProcessStamp,
    local: Vec<AgentInfo>,
    stamped: Vec<StampedInstance>,
    silent_for: Duration,
) -> Vec<AgentInfo> {
    let mut rows: Vec<AgentInfo> = local
        .into_iter()
        .map(|a| with_process(a, me, Duration::ZERO))
        .collect();
    for s in stamped {
        if s.process.node_id == me.node_id {
            continue;
        }
        let mut row = with_process(s.agent, &s.process, s.heartbeat_age);
        if s.heartbeat_age > silent_for {
            row.status = "offline".to_owned();
        }
        rows.push(row);
    }
    rows
}

fn with_process(mut a: AgentInfo, p: &ProcessStamp, age: Duration) -> AgentInfo {
    a.process = Some(p.node_id.clone());
    a.host = Some(p.host.clone());
    a.pid = Some(p.pid);
    a.heartbeat_age_ms = Some(u64::try_from(age.as_millis()).unwrap_or(u64::MAX));
    a
}

/// The machine's name, for operators telling processes apart: the
/// kernel's (Linux), else `HOSTNAME`, else "unknown". Read from /proc
/// rather than through a crate: it is one file, and nothing else here
/// needs the system's name services.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A registry row for tests: instance `id` of `agent_type` in `status`,
/// idle with a capacity of 4, no calls yet, its breaker closed and no
/// process stamp; a test sets the fields it is about.
#[cfg(test)]
pub(crate) fn test_row(id: &str, agent_type: &str, status: &str) -> AgentInfo {
    AgentInfo {
        agent_id: id.to_owned(),
        agent_type: agent_type.to_owned(),
        status: status.to_owned(),
        capabilities: Vec::new(),
        current_load: 0,
        max_capacity: 4,
        response_time_avg_ms: 0.0,
        cost_per_request: 0.0,
        successes: 0,
        failures: 0,
        breaker: "closed".to_owned(),
        process: None,
        host: None,
        pid: None,
        heartbeat_age_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str) -> AgentInfo {
        AgentInfo {
            capabilities: vec!["transport".to_owned()],
            ..test_row(id, "transport", "available")
        }
    }

    fn process(node: &str) -> ProcessStamp {
        ProcessStamp {
            node_id: node.to_owned(),
            host: "h".to_owned(),
            pid: 7,
        }
    }

    #[test]
    fn a_silent_process_instances_are_offline_and_this_one_is_read_live() {
        let me = process("me");
        let stamped = vec![
            StampedInstance {
                process: me.clone(),
                agent: agent("transport-1"),
                heartbeat_age: Duration::from_secs(9),
            },
            StampedInstance {
                process: process("alive"),
                agent: agent("transport-1"),
                heartbeat_age: Duration::from_millis(400),
            },
            StampedInstance {
                process: process("gone"),
                agent: agent("transport-1"),
                heartbeat_age: Duration::from_secs(9),
            },
        ];
        let rows = merge(
            &me,
            vec![agent("transport-1")],
            stamped,
            Duration::from_secs(3),
        );
        let seen: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.process.as_deref().unwrap_or(""), r.status.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("me", "available"),
                ("alive", "available"),
                ("gone", "offline")
            ]
        );
        assert_eq!(rows[1].heartbeat_age_ms, Some(400));
        assert_eq!(rows[0].pid, Some(7));
    }
}
