//! The live registry: the agent instances running in this process — each
//! a tokio task with a mailbox on the message hub, named by its id — their
//! rows (load, latency, successes, online or not), health checks (a hub
//! request with a deadline, made by the façade's [`Pinger`]), and the
//! start and stop of instances (scaling decides when: [`super::scaling`]).
//!
//! [`Registry`] owns the instances behind one lock (`pool`, which also
//! holds the arrival forecasts), held only for a lookup or an update of the
//! rows, never across an `.await`. Lock order: `pool`, then [`Stats`]'s
//! (scaling reads a type's mean latency while sizing it; stats locks
//! nothing else). It knows nothing of what an instance runs: the façade
//! hands it a [`Spawner`] that starts an instance's loop.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::super::config::RuntimeConfig;
use super::super::lock;
use super::super::stats::Stats;
use super::scaling::Demand;
use super::{InstanceRow, choose_instance};
use crate::clock::SharedClock;
use crate::graph::AgentType;
use crate::state::Priority;

/// Opens an instance's hub mailbox (its id, its bound) and starts its loop
/// over it, with the flag that freezes it (a test hook: a frozen instance
/// stops answering). The loop closes the mailbox when it ends or is
/// aborted.
pub(in crate::runtime) type Spawner =
    Box<dyn Fn(String, usize, Arc<AtomicBool>) -> JoinHandle<()> + Send + Sync>;

/// What a health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::runtime) enum Health {
    Answered,
    /// No answer within the deadline; `busy`: its mailbox is full of work.
    Silent {
        busy: bool,
    },
}

/// Checks one instance by its id.
pub(in crate::runtime) type Pinger =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Health> + Send>> + Send + Sync>;

pub(super) struct Instance {
    pub(super) row: InstanceRow,
    /// Test hook: a frozen instance stops answering (a hung process).
    frozen: Arc<AtomicBool>,
    pub(super) idle_since: Instant,
    pub(super) handle: JoinHandle<()>,
}

/// The instances and the forecasts that size them.
pub(super) struct Pool {
    pub(super) instances: Vec<Instance>,
    next_index: HashMap<AgentType, u32>,
    pub(super) demand: Demand,
}

/// The instances of every agent type, their health and their scaling.
pub(in crate::runtime) struct Registry {
    pub(super) config: RuntimeConfig,
    pub(super) stats: Arc<Stats>,
    /// The runtime's clock: arrivals are bucketed on it.
    pub(super) clock: SharedClock,
    spawner: Spawner,
    pub(super) pool: Mutex<Pool>,
}

impl Registry {
    pub(in crate::runtime) fn new(
        config: RuntimeConfig,
        stats: Arc<Stats>,
        clock: SharedClock,
        spawner: Spawner,
    ) -> Self {
        let demand = Demand::new(&config);
        Self {
            config,
            stats,
            clock,
            spawner,
            pool: Mutex::new(Pool {
                instances: Vec::new(),
                next_index: HashMap::new(),
                demand,
            }),
        }
    }

    pub(super) fn tick(&self) -> Duration {
        Duration::from_millis(self.config.orchestrator.heartbeat_ms.max(1))
    }

    /// Starts one more instance of `agent_type`; returns its id.
    pub(in crate::runtime) fn spawn(&self, agent_type: AgentType) -> String {
        let config = self.config.agent(agent_type);
        let mut pool = lock(&self.pool);
        let n = pool.next_index.entry(agent_type).or_insert(0);
        *n += 1;
        let agent_id = format!("{agent_type}-{n}");
        let capacity = config.max_capacity.max(1);
        let mailbox =
            (capacity as usize * 2).min(self.config.communication.message_queue_size.max(1));
        let frozen = Arc::new(AtomicBool::new(false));
        let handle = (self.spawner)(agent_id.clone(), mailbox, frozen.clone());
        pool.instances.push(Instance {
            row: InstanceRow {
                agent_id: agent_id.clone(),
                agent_type,
                capabilities: if agent_type == AgentType::Location {
                    crate::agents::location::CAPABILITIES
                        .map(str::to_owned)
                        .to_vec()
                } else {
                    vec![agent_type.as_str().to_owned()]
                },
                online: true,
                current_load: 0,
                max_capacity: capacity,
                response_time_avg_ms: 0.0,
                cost_per_request: config.cost_per_request,
                successes: 0,
                failures: 0,
            },
            frozen,
            idle_since: Instant::now(),
            handle,
        });
        tracing::info!(agent.id = %agent_id, "instance started");
        agent_id
    }

    /// Freezes an instance (it stops answering pings and drops its work);
    /// whether there was one by that id.
    pub(in crate::runtime) fn freeze(&self, agent_id: &str) -> bool {
        lock(&self.pool)
            .instances
            .iter()
            .find(|i| i.row.agent_id == agent_id)
            .map(|i| i.frozen.store(true, Ordering::SeqCst))
            .is_some()
    }

    /// Every instance's row, in start order.
    pub(in crate::runtime) fn rows(&self) -> Vec<InstanceRow> {
        lock(&self.pool)
            .instances
            .iter()
            .map(|i| i.row.clone())
            .collect()
    }

    /// The loads of the online instances of a type.
    pub(in crate::runtime) fn online_loads(&self, agent_type: AgentType) -> Vec<u32> {
        lock(&self.pool)
            .instances
            .iter()
            .filter(|i| i.row.agent_type == agent_type && i.row.online)
            .map(|i| i.row.current_load)
            .collect()
    }

    /// How many instances of a type are online.
    pub(in crate::runtime) fn online(&self, agent_type: AgentType) -> u32 {
        self.online_loads(agent_type).len() as u32
    }

    /// Whether the online instances are over 90% of their capacity.
    pub(in crate::runtime) fn nearly_full(&self) -> bool {
        let (load, capacity) = lock(&self.pool)
            .instances
            .iter()
            .filter(|i| i.row.online)
            .fold((0u32, 0u32), |(l, c), i| {
                (l + i.row.current_load, c + i.row.max_capacity)
            });
        capacity > 0 && f64::from(load) / f64::from(capacity) > 0.9
    }

    /// The best instance for a task by the delegation score, with its
    /// load ratio were it to take the task, and how many instances of the
    /// type are online.
    pub(in crate::runtime) fn best(
        &self,
        agent_type: AgentType,
        priority: Priority,
        failed_on: &[String],
    ) -> (Option<(String, f64)>, u32) {
        let pool = lock(&self.pool);
        let rows = pool.instances.iter().map(|i| &i.row);
        let best = choose_instance(rows, agent_type, priority, failed_on).map(|r| {
            (
                r.agent_id.clone(),
                f64::from(r.current_load + 1) / f64::from(r.max_capacity.max(1)),
            )
        });
        let online = pool
            .instances
            .iter()
            .filter(|i| i.row.agent_type == agent_type && i.row.online)
            .count() as u32;
        (best, online)
    }

    /// One more task on `agent_id`.
    pub(in crate::runtime) fn reserve(&self, agent_id: &str) {
        if let Some(i) = lock(&self.pool)
            .instances
            .iter_mut()
            .find(|i| i.row.agent_id == agent_id)
        {
            i.row.current_load += 1;
        }
    }

    /// One task fewer on `agent_id` (idle from now when none is left).
    pub(in crate::runtime) fn unload(&self, agent_id: &str) {
        if let Some(i) = lock(&self.pool)
            .instances
            .iter_mut()
            .find(|i| i.row.agent_id == agent_id)
        {
            i.row.current_load = i.row.current_load.saturating_sub(1);
            if i.row.current_load == 0 {
                i.idle_since = Instant::now();
            }
        }
    }

    /// A task's reservation moves from one instance to another.
    pub(in crate::runtime) fn move_load(&self, from: &str, to: &str) {
        let mut pool = lock(&self.pool);
        if let Some(i) = pool.instances.iter_mut().find(|i| i.row.agent_id == from) {
            i.row.current_load = i.row.current_load.saturating_sub(1);
        }
        if let Some(i) = pool.instances.iter_mut().find(|i| i.row.agent_id == to) {
            i.row.current_load += 1;
        }
    }

    /// Whether the instance runs and answers.
    pub(in crate::runtime) fn is_online(&self, agent_id: &str) -> bool {
        lock(&self.pool)
            .instances
            .iter()
            .any(|i| i.row.agent_id == agent_id && i.row.online)
    }

    /// A finished call on the instance: its latency average and counts.
    pub(in crate::runtime) fn record_call(&self, agent_id: &str, ms: u64, ok: bool) {
        if let Some(i) = lock(&self.pool)
            .instances
            .iter_mut()
            .find(|i| i.row.agent_id == agent_id)
        {
            i.row.record_latency(ms as f64);
            if ok {
                i.row.successes += 1;
            } else {
                i.row.failures += 1;
            }
        }
    }

    /// Pings every instance, offline ones too (one that answers again —
    /// it was only starved — comes back); one that does not answer (within
    /// the pinger's deadline) goes offline, unless its mailbox is full of
    /// work (busy, not dead).
    pub(in crate::runtime) async fn check_health(&self, ping: Pinger) {
        let targets: Vec<String> = lock(&self.pool)
            .instances
            .iter()
            .map(|i| i.row.agent_id.clone())
            .collect();
        let mut pings = JoinSet::new();
        for id in targets {
            let health = ping(id.clone());
            pings.spawn(async move { (id, health.await) });
        }
        while let Some(Ok((id, health))) = pings.join_next().await {
            let mut pool = lock(&self.pool);
            let Some(i) = pool.instances.iter_mut().find(|i| i.row.agent_id == id) else {
                continue;
            };
            let busy = match health {
                Health::Answered => None,
                Health::Silent { busy } => Some(busy),
            };
            if busy.is_none() {
                if !i.row.online {
                    tracing::info!(agent.id = %id, "instance answers again; back online");
                    i.row.online = true;
                }
                continue;
            }
            // A mailbox full of work is busy, not dead.
            if i.row.current_load > 0 && busy == Some(true) && !i.frozen.load(Ordering::SeqCst) {
                continue;
            }
            tracing::warn!(agent.id = %id, "instance stopped answering; marked offline");
            i.row.online = false;
        }
    }

    /// Stops every instance.
    pub(in crate::runtime) fn shutdown(&self) {
        for instance in lock(&self.pool).instances.drain(..) {
            instance.handle.abort();
        }
    }
}
