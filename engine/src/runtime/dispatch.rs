//! Delegation and dispatch: the design document's *Task Delegation
//! Engine*. The dispatcher claims ready tasks from the queue as far as the
//! instances have room ([`Dispatch::free_slots`]: P3 types first, batches
//! bounded), keeps what it claimed in a backlog per agent type until an
//! instance is free, and hands each task to the instance the delegation
//! score picks ([`Dispatch::pick`]: P0 an idle instance, P1/P2 the best
//! with room, P3 batched to one instance), starting another one when the
//! best is over its scale threshold. It remembers which instance runs each
//! task (in flight), the tokio task that runs it (to abort at shutdown),
//! and the instances a task failed on (the score's failover term).
//!
//! [`Dispatch`] owns that state behind one lock (`desk`). It uses the
//! [`Registry`] below it, but never holds its own lock while calling it:
//! lock order is "desk, released, then registry".

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::task::AbortHandle;

use super::config::RuntimeConfig;
use super::lock;
use super::registry::Registry;
use super::stats::Reason;
use crate::graph::AgentType;
use crate::state::{ClaimedTask, Priority, TaskId, TripId};

#[derive(Default)]
struct Desk {
    /// Dispatched tasks: which instance runs them.
    inflight: HashMap<TaskId, (TripId, String)>,
    /// Claimed tasks waiting for an instance of their agent type (a P0
    /// instance takes one task at a time): handed over as soon as one is
    /// free, without another claim round through the store.
    backlog: HashMap<AgentType, VecDeque<ClaimedTask>>,
    /// The tokio task running each dispatched task.
    jobs: HashMap<TaskId, AbortHandle>,
    /// Instances a task failed on (the failover term of the score).
    failed_on: HashMap<TaskId, Vec<String>>,
}

/// What the dispatcher holds between the queue and the instances.
pub(super) struct Dispatch {
    config: RuntimeConfig,
    desk: Mutex<Desk>,
}

impl Dispatch {
    pub(super) fn new(config: RuntimeConfig) -> Self {
        Self {
            config,
            desk: Mutex::new(Desk::default()),
        }
    }

    /// How many tasks each agent type may take now: free slots on its
    /// online instances (a P0 task wants an idle one) plus those of the
    /// instances it may still start. P3 types come first: after the rest
    /// they would starve while a backlog lasts, and the verifier waits
    /// for them. Batches are bounded so that one claim stays small.
    pub(super) fn free_slots(&self, registry: &Registry) -> Vec<(AgentType, usize)> {
        const ROUND: u32 = 32;
        // Only the types this process runs: the claim's quotas name them,
        // so the store hands out no task of another type.
        let mut slots: Vec<(Priority, AgentType, usize)> = self
            .config
            .orchestrator
            .local_agents
            .types()
            .into_iter()
            .map(|agent_type| {
                let priority = agent_type.node().priority;
                let config = self.config.agent(agent_type);
                let per_instance = |load: u32| match priority {
                    Priority::P0 => u32::from(load == 0),
                    _ => config.max_capacity.saturating_sub(load),
                };
                let online = registry.online_loads(agent_type);
                let to_start = config
                    .max_instances
                    .max(1)
                    .saturating_sub(online.len() as u32);
                // Claimed ahead: as many again as all its instances hold,
                // less what is already waiting for one.
                let ahead = config.max_instances.max(1) * config.max_capacity.max(1);
                let waiting = lock(&self.desk)
                    .backlog
                    .get(&agent_type)
                    .map_or(0, VecDeque::len) as u32;
                let free = (online.iter().map(|l| per_instance(*l)).sum::<u32>()
                    + to_start * per_instance(0)
                    + ahead)
                    .saturating_sub(waiting);
                let bound = match priority {
                    Priority::P3 => self.config.communication.batch_size.max(1) as u32,
                    _ => ROUND,
                };
                (priority, agent_type, free.min(bound) as usize)
            })
            .filter(|(_, _, free)| *free > 0)
            .collect();
        slots.sort_by_key(|(p, _, _)| std::cmp::Reverse(*p == Priority::P3));
        slots.into_iter().map(|(_, t, n)| (t, n)).collect()
    }

    /// A claimed task waits for an instance of its type.
    pub(super) fn queue(&self, task: ClaimedTask) {
        lock(&self.desk)
            .backlog
            .entry(task.agent_type)
            .or_default()
            .push_back(task);
    }

    /// Hands waiting claimed tasks to instances while there is room, in
    /// the order they were claimed: the deliveries to make, each an
    /// instance and its tasks. Instances are chosen (and their capacity
    /// reserved) here; P3 tasks travel together, to the first one's
    /// instance.
    pub(super) fn drain(&self, registry: &Registry) -> Vec<(String, Vec<ClaimedTask>)> {
        let mut deliveries = Vec::new();
        let mut batch: Vec<(String, ClaimedTask)> = Vec::new();
        // Most urgent type first (then the graph's order), so that
        // instances are handed work in a stable, priority-first order.
        let types: Vec<AgentType> = {
            let desk = lock(&self.desk);
            let mut types: Vec<(Priority, AgentType)> = AgentType::ALL
                .into_iter()
                .filter(|t| desk.backlog.get(t).is_some_and(|q| !q.is_empty()))
                .map(|t| (t.node().priority, t))
                .collect();
            // Stable: the graph's order within a priority.
            types.sort_by_key(|(p, _)| *p);
            types.into_iter().map(|(_, t)| t).collect()
        };
        for agent_type in types {
            loop {
                let Some(task) = lock(&self.desk)
                    .backlog
                    .get_mut(&agent_type)
                    .and_then(VecDeque::pop_front)
                else {
                    break;
                };
                let Some(instance) = self.pick(&task, registry) else {
                    lock(&self.desk)
                        .backlog
                        .entry(agent_type)
                        .or_default()
                        .push_front(task);
                    break;
                };
                if task.priority == Priority::P3 {
                    batch.push((instance, task));
                } else {
                    deliveries.push((instance, vec![task]));
                }
            }
        }
        if let Some(first) = batch.first().map(|(i, _)| i.clone()) {
            let mut tasks = Vec::with_capacity(batch.len());
            for (instance, task) in batch {
                if instance != first {
                    registry.move_load(&instance, &first);
                    if let Some(entry) = lock(&self.desk).inflight.get_mut(&task.task_id) {
                        entry.1 = first.clone();
                    }
                }
                tasks.push(task);
            }
            deliveries.push((first, tasks));
        }
        deliveries
    }

    /// The instance for a claimed task by the delegation score, scaling up
    /// when the best one is over its threshold; reserves its capacity.
    fn pick(&self, task: &ClaimedTask, registry: &Registry) -> Option<String> {
        let agent_type = task.agent_type;
        let config = self.config.agent(agent_type);
        let failed_on = lock(&self.desk)
            .failed_on
            .get(&task.task_id)
            .cloned()
            .unwrap_or_default();
        let (best, online) = registry.best(agent_type, task.priority, &failed_on);
        let may_grow = online < config.max_instances.max(1);
        let id = match best {
            Some((id, ratio))
                if ratio <= config.scale_threshold
                    || !may_grow
                    || task.priority == Priority::P0 =>
            {
                id
            }
            Some((id, _)) => {
                // Over the threshold: start another instance for the
                // next task, and give this one to the best now.
                registry.scale_up(agent_type, Reason::Reactive);
                id
            }
            None if may_grow => registry.scale_up(agent_type, Reason::Reactive),
            None => return None,
        };
        registry.reserve(&id);
        lock(&self.desk)
            .inflight
            .insert(task.task_id, (task.trip_id, id.clone()));
        Some(id)
    }

    /// The instance is done with the task (its slot is free).
    pub(super) fn unload(&self, instance: &str, task: TaskId, registry: &Registry) {
        {
            let mut desk = lock(&self.desk);
            if desk.inflight.get(&task).is_some_and(|(_, i)| i == instance) {
                desk.inflight.remove(&task);
            }
        }
        registry.unload(instance);
    }

    /// The tasks whose leases are worth extending: those dispatched to an
    /// instance that is online, and those claimed ahead and still waiting
    /// in a backlog whose agent type has an instance online. The backlog's
    /// matter as much: under load a task may wait there longer than a
    /// lease, and if its lease ran out meanwhile another process would
    /// claim it again and this copy's outcome would be fenced — work done
    /// twice for nothing. A backlog with no instance online to drain it
    /// (every one hung) keeps no lease, so that another process takes its
    /// tasks.
    pub(super) fn leased_here(&self, registry: &Registry) -> Vec<TaskId> {
        // Each task with its instance (in flight) or its agent type (waiting).
        type Held<T> = Vec<(TaskId, T)>;
        let (inflight, waiting): (Held<String>, Held<AgentType>) = {
            let desk = lock(&self.desk);
            (
                desk.inflight
                    .iter()
                    .map(|(task, (_, instance))| (*task, instance.clone()))
                    .collect(),
                desk.backlog
                    .iter()
                    .flat_map(|(agent_type, queue)| queue.iter().map(|t| (t.task_id, *agent_type)))
                    .collect(),
            )
        };
        let running = inflight
            .into_iter()
            .filter(|(_, instance)| registry.is_online(instance))
            .map(|(task, _)| task);
        let waiting = waiting
            .into_iter()
            .filter(|(_, agent_type)| registry.online(*agent_type) > 0)
            .map(|(task, _)| task);
        running.chain(waiting).collect()
    }

    /// Tasks dispatched and not finished.
    pub(super) fn depth(&self) -> usize {
        lock(&self.desk).inflight.len()
    }

    /// Trips with a task in flight.
    pub(super) fn trips(&self) -> Vec<TripId> {
        lock(&self.desk)
            .inflight
            .values()
            .map(|(trip, _)| *trip)
            .collect()
    }

    /// The tokio task running a dispatched task.
    pub(super) fn started(&self, task: TaskId, job: AbortHandle) {
        lock(&self.desk).jobs.insert(task, job);
    }

    pub(super) fn ended(&self, task: TaskId) {
        lock(&self.desk).jobs.remove(&task);
    }

    /// The task failed on `instance`: the score avoids it next time.
    pub(super) fn failed_on(&self, task: TaskId, instance: &str) {
        lock(&self.desk)
            .failed_on
            .entry(task)
            .or_default()
            .push(instance.to_string());
    }

    /// Forgets where tasks failed (an operator's retry may use any
    /// instance again).
    pub(super) fn forgive(&self, tasks: &[TaskId]) {
        let mut desk = lock(&self.desk);
        for task in tasks {
            desk.failed_on.remove(task);
        }
    }

    /// Forgets a deleted trip: its claimed tasks waiting for an instance
    /// and its failover notes.
    pub(super) fn forget(&self, trip: TripId, tasks: &[TaskId]) {
        let mut desk = lock(&self.desk);
        for queue in desk.backlog.values_mut() {
            queue.retain(|t| t.trip_id != trip);
        }
        for task in tasks {
            desk.failed_on.remove(task);
        }
    }

    /// Aborts every running task (shutdown).
    pub(super) fn abort_all(&self) {
        for (_, job) in lock(&self.desk).jobs.drain() {
            job.abort();
        }
    }
}
