//! [`Runtime`]: the service itself — admission, the dispatcher, agent
//! instances, the supervisor (heartbeats, health checks, scaling), task
//! execution with its guarantees, modification, cancellation and the event
//! stream.
//!
//! Durable execution: the dispatcher claims a ready task from the
//! [`TaskQueue`] (priority first, dependencies done), records the claim in
//! the trip log and hands it to an instance. The instance runs the agent
//! (through the circuit breaker, the fault injector, a timeout and panic
//! isolation); its result is stored with `TaskQueue::complete` — which is
//! what makes dependents claimable — and only then is the `TaskCompleted`
//! event appended. A finished agent therefore never runs again, even after
//! a crash between the two steps (resume copies the queue's result into the
//! log). Leases are renewed by heartbeats while the instance is healthy; a
//! dead instance's tasks are claimed again when their lease runs out.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};

use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::Instant;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::request::QueryText;
use wayfare_domain::trip::{AgentInfo, Change, TripStatusView, TripView, WireEvent};

// `MODIFIER`: who claims in-process modification tasks (the auditor
// knows them by it).
use super::audit::{Auditor, ConsistencyReport, MODIFIER, QUIET_FOR};
use super::cache::{Caches, agent_key, cached_plan, cached_plan_commands, request_key};
use super::changes::{ChangePlan, component_alternatives, plan_changes};
use super::config::{AGENT_TYPES, RuntimeConfig};
use super::pipeline::{RunError, TaskOutput, node_of, run_task, schedule_commands};
use super::registry::{InstanceRow, choose_instance};
use super::wire::{intent_of, output_of, status_view, trip_view, wire_event};
use super::{
    AgentMetrics, Alternative, CacheMetrics, ModifyError, QueueWrite, RuntimeError, RuntimeMetrics,
    RuntimeStore, ScalingDecisions, SubmitError, Submitted,
};
use crate::agents::TripSpec;
use crate::catalog::Catalog;
use crate::clock::SharedClock;
use crate::hub::{Hub, HubConfig, Message, MessageType};
use crate::llm::LlmClient;
use crate::orchestrator::{PlanOutcome, Planner};
use crate::resilience::{
    AgentError, BreakerConfig, Breakers, FaultInjector, RetryPolicy, Rng, isolate, through_breaker,
    with_timeout,
};
use crate::state::{
    Append, AppendError, ClaimedTask, Command, ExecuteError, Executed, NewTask, PortError,
    Priority, Rejection, StoredEvent, TaskId, TaskStatus, TripEvent, TripId, TripLog, TripState,
    TripStatus, after, decide,
};

mod ask;
mod intervene;
mod scaling;

pub use ask::read_with_answers;
pub use intervene::InterventionError;
use scaling::{Demand, Reason};

/// Upper bounds (ms) of the agent latency histogram.
const LATENCY_BUCKETS_MS: [f64; 8] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];
/// Upper bounds (ms) of the submit-to-finished histogram.
const PLAN_BUCKETS_MS: [f64; 10] = [
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10_000.0, 60_000.0,
];
/// The global planning-events topic of the hub.
pub const EVENTS_TOPIC: &str = "trips";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

enum InstanceMsg {
    Run(Vec<Job>),
    Ping(oneshot::Sender<()>),
}

struct Job {
    task: ClaimedTask,
}

struct Instance {
    row: InstanceRow,
    tx: mpsc::Sender<InstanceMsg>,
    /// Test hook: a frozen instance stops answering (a hung process).
    frozen: Arc<AtomicBool>,
    idle_since: Instant,
    handle: JoinHandle<()>,
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
    agents: BTreeMap<String, AgentCounters>,
    plan_latency_ms_sum: f64,
    plan_latency_ms_count: u64,
    plan_buckets: [u64; PLAN_BUCKETS_MS.len()],
}

#[derive(Default)]
struct Inner {
    instances: Vec<Instance>,
    next_index: HashMap<String, u32>,
    running: HashSet<TripId>,
    waiting: VecDeque<TripId>,
    cancels: HashMap<TripId, watch::Sender<bool>>,
    topics: HashMap<TripId, broadcast::Sender<WireEvent>>,
    /// Dispatched tasks: which instance runs them.
    inflight: HashMap<TaskId, (TripId, String)>,
    /// Claimed tasks waiting for an instance of their agent type (a P0
    /// instance takes one task at a time): handed over as soon as one is
    /// free, without another claim round through the store.
    backlog: HashMap<String, VecDeque<ClaimedTask>>,
    jobs: HashMap<TaskId, AbortHandle>,
    /// Instances a task failed on (the failover term of the score).
    failed_on: HashMap<TaskId, Vec<String>>,
    /// When each trip planning in this process was submitted.
    submitted_at: HashMap<TripId, Instant>,
    /// The latest state of trips this process is working on: commands
    /// decide against it instead of replaying the log each time (the
    /// append's version check still catches a stale one).
    states: HashMap<TripId, TripState>,
    counters: Counters,
}

/// What one guarded agent attempt ended in.
enum Attempt {
    Done(TaskOutput),
    /// The request cannot be planned; ends the trip.
    NoPlan(String),
    Failed(AgentError),
    Cancelled,
}

/// The orchestration runtime service. Share it as `Arc<Runtime<S>>`.
pub struct Runtime<S> {
    store: S,
    log: TripLog<S>,
    hub: Hub<S>,
    config: RuntimeConfig,
    /// The catalog and the planner over it; swapped whole by
    /// [`Runtime::replace_catalog`] after an import.
    catalog: RwLock<(Arc<dyn Catalog>, Arc<Planner>)>,
    clock: SharedClock,
    node_id: String,
    breakers: Breakers,
    faults: Option<Arc<FaultInjector>>,
    retry: RetryPolicy,
    rng: Mutex<Rng>,
    caches: Caches,
    /// Reads what the rules left open, when configured (`config.llm`).
    llm: Option<Arc<LlmClient>>,
    inner: Mutex<Inner>,
    /// Arrivals per agent type and their forecasts (predictive scaling);
    /// never locked while `inner` is held.
    demand: Mutex<Demand>,
    /// One writer at a time per trip in this process: commands on a trip
    /// queue here instead of racing each other into version conflicts
    /// (which cost a reload from the store each). Other processes are
    /// still kept out by the append's version check.
    trip_locks: Mutex<HashMap<TripId, Arc<tokio::sync::Mutex<()>>>>,
    wake: Notify,
    stopped: AtomicBool,
    stop: watch::Sender<bool>,
    global: broadcast::Sender<WireEvent>,
    background: Mutex<Vec<JoinHandle<()>>>,
    /// The state consistency auditor (`runtime::audit`).
    auditor: Auditor<S>,
    me: Weak<Runtime<S>>,
}

/// The planner for a catalog: dates without a year are the configured
/// `default_year`'s, or else the next ones from today.
fn planner_for(config: &RuntimeConfig, clock: &SharedClock, catalog: Arc<dyn Catalog>) -> Planner {
    let planner = Planner::new(catalog);
    match config.orchestrator.default_year {
        Some(year) => planner.with_default_year(year),
        None => planner.with_today(clock.now().date_naive()),
    }
}

impl<S: RuntimeStore> Runtime<S> {
    /// Starts the agent instances and the dispatcher, recovers the hub and
    /// resumes every unfinished trip from its snapshot and events; with
    /// `audit_interval_ms`, the consistency auditor runs that often.
    pub async fn start(
        config: RuntimeConfig,
        store: S,
        catalog: Arc<dyn Catalog>,
        clock: SharedClock,
    ) -> Result<Arc<Self>, RuntimeError> {
        let o = &config.orchestrator;
        let breakers = Breakers::new(
            BreakerConfig {
                failure_threshold: o.circuit_breaker_threshold.max(1),
                cool_down: Duration::from_millis(o.breaker_cool_down_ms),
            },
            clock.clone(),
        );
        let faults = (!config.faults.is_empty()).then(|| {
            let mut injector = FaultInjector::new(0x5eed_f417);
            for (agent_type, fault) in &config.faults {
                injector = injector.with(agent_type.clone(), *fault);
            }
            Arc::new(injector)
        });
        let retry = RetryPolicy {
            initial_interval: Duration::from_millis(o.retry_initial_ms),
            maximum_attempts: o.retry_attempts + 1,
            ..RetryPolicy::default()
        };
        let hub = Hub::new(
            HubConfig {
                message_queue_size: config.communication.message_queue_size,
                batch_size: config.communication.batch_size,
                ..HubConfig::default()
            },
            store.clone(),
            clock.clone(),
        );
        let log = TripLog::new(store.clone(), clock.clone())
            .snapshot_every(o.snapshot_every)
            .max_conflicts(16);
        let (stop, _) = watch::channel(false);
        let (global, _) = broadcast::channel(1024);
        let planner = Arc::new(planner_for(&config, &clock, catalog.clone()));
        let caches = Caches::new(config.cache.enabled, config.cache.capacity);
        let llm = match &config.llm {
            Some(c) => Some(Arc::new(
                LlmClient::new(c.clone()).map_err(|e| RuntimeError::Internal(e.to_string()))?,
            )),
            None => None,
        };
        // Quiet for at least three of the runtime's ticks: a trip that just
        // ended has its queue settled within one.
        let auditor = Auditor::new(store.clone(), clock.clone())
            .quiet_for(QUIET_FOR.max(Duration::from_millis(o.heartbeat_ms.max(1)) * 3));
        let runtime = Arc::new_cyclic(|me| Self {
            auditor,
            store,
            log,
            hub,
            catalog: RwLock::new((catalog, planner)),
            clock,
            node_id: format!("node-{}", uuid::Uuid::new_v4().simple()),
            breakers,
            faults,
            retry,
            rng: Mutex::new(Rng::new()),
            caches,
            llm,
            inner: Mutex::new(Inner::default()),
            demand: Mutex::new(Demand::new(&config)),
            trip_locks: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            stop,
            global,
            background: Mutex::new(Vec::new()),
            me: me.clone(),
            config,
        });
        if let Err(e) = runtime.hub.recover().await {
            tracing::warn!(error = %e, "could not replay the hub's durable messages");
        }
        for agent_type in AGENT_TYPES {
            let min = runtime.config.agent(agent_type).min_instances.max(1);
            for _ in 0..min {
                runtime.spawn_instance(agent_type);
            }
        }
        // A predecessor killed mid-planning left its tasks leased: free
        // them now (SQLite: all of them; PostgreSQL: those of processes
        // that stopped saying they are alive) rather than in a lease's 30 s.
        match runtime
            .store
            .recover_leases(
                &runtime.node_id,
                runtime.clock.now(),
                runtime.node_timeout(),
            )
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                leases = n,
                "released the task leases of a process that is gone"
            ),
            Err(e) => tracing::warn!(error = %e, "could not release the leases of a dead process"),
        }
        let unfinished = runtime
            .store
            .unfinished_trips()
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        for trip in unfinished {
            if let Err(e) = runtime.resume_trip(trip).await {
                tracing::warn!(trip.id = %trip, error = %e, "could not resume a trip");
            }
        }
        let dispatcher = tokio::spawn(runtime.me().dispatcher());
        let supervisor = tokio::spawn(runtime.me().supervisor());
        let liveness = tokio::spawn(runtime.me().liveness());
        lock(&runtime.background).extend([dispatcher, supervisor, liveness]);
        if runtime.config.orchestrator.audit_interval_ms > 0 {
            let auditor = tokio::spawn(runtime.me().audit_loop());
            lock(&runtime.background).push(auditor);
        }
        Ok(runtime)
    }

    fn me(&self) -> Arc<Self> {
        self.me
            .upgrade()
            .expect("the runtime is alive while its methods run")
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    fn lease(&self) -> Duration {
        Duration::from_millis(self.config.orchestrator.lease_ms)
    }

    fn tick(&self) -> Duration {
        Duration::from_millis(self.config.orchestrator.heartbeat_ms.max(1))
    }

    /// How long a process sharing the store may be silent before it counts
    /// as gone: `node_timeout_ms`, and at least three heartbeats.
    fn node_timeout(&self) -> Duration {
        Duration::from_millis(self.config.orchestrator.node_timeout_ms).max(self.tick() * 3)
    }

    // ----- the log, with fan-out -----

    /// Decides and appends `command`, then publishes what it appended.
    async fn exec(&self, trip: TripId, command: Command) -> Result<Executed, ExecuteError> {
        self.exec_all(trip, vec![command]).await
    }

    /// Decides `commands` in turn and appends them in one write (all or
    /// none), then publishes what was appended.
    async fn exec_all(
        &self,
        trip: TripId,
        commands: Vec<Command>,
    ) -> Result<Executed, ExecuteError> {
        self.exec_with(trip, commands, None).await
    }

    /// [`Runtime::exec_all`] with `queue`'s write in the append's
    /// transaction.
    async fn exec_with(
        &self,
        trip: TripId,
        commands: Vec<Command>,
        queue: Option<QueueWrite<'_>>,
    ) -> Result<Executed, ExecuteError> {
        let trip_lock = lock(&self.trip_locks).entry(trip).or_default().clone();
        let _writer = trip_lock.lock().await;
        // Contention and transient store errors are worth waiting out: a
        // dropped write here (a task's completion, say) would leave the log
        // behind the queue and the trip stuck in planning. Bounded: about
        // five seconds in all.
        let mut pause = Duration::from_millis(2);
        let mut attempt = 0;
        let executed = loop {
            attempt += 1;
            let known = lock(&self.inner).states.get(&trip).cloned();
            let executed = match queue {
                None => self.log.execute_all_from(trip, known, &commands).await,
                Some(queue) => {
                    let append = WithQueue {
                        store: &self.store,
                        queue,
                        now: self.clock.now(),
                    };
                    self.log
                        .execute_all_with(trip, known, &commands, &append)
                        .await
                }
            };
            match executed {
                Ok(executed) => break executed,
                Err(
                    ExecuteError::Contended { .. }
                    | ExecuteError::Port(PortError::Transient { .. }),
                ) if attempt < 40 && !self.stopped.load(Ordering::SeqCst) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                Err(e) => {
                    tracing::warn!(trip.id = %trip, error = %e, attempts = attempt, "a trip command could not be recorded");
                    return Err(e);
                }
            }
        };
        self.remember(&executed.state);
        self.publish(&executed);
        Ok(executed)
    }

    /// Caches a trip's state unless a newer one is cached already.
    fn remember(&self, state: &TripState) {
        let Some(trip) = state.trip_id else {
            return;
        };
        if !state.exists() {
            return;
        }
        let mut inner = lock(&self.inner);
        match inner.states.get(&trip) {
            Some(cached) if cached.version >= state.version => {}
            _ => {
                inner.states.insert(trip, state.clone());
            }
        }
    }

    fn publish(&self, executed: &Executed) {
        let Some(trip) = executed.state.trip_id else {
            return;
        };
        for stored in &executed.events {
            let Some(event) = wire_event(&executed.state, stored) else {
                continue;
            };
            if let Some(tx) = lock(&self.inner).topics.get(&trip) {
                let _ = tx.send(event.clone());
            }
            let _ = self.global.send(event.clone());
            let payload = serde_json::to_value(&event).unwrap_or(Value::Null);
            let at = self.clock.now();
            for topic in [format!("trip.{trip}"), EVENTS_TOPIC.to_string()] {
                let message = Message::new(
                    "orchestrator",
                    topic.clone(),
                    MessageType::StatusUpdate,
                    payload.clone(),
                    at,
                );
                self.hub.publish(&topic, message);
            }
        }
    }

    fn topic(&self, trip: TripId) -> broadcast::Sender<WireEvent> {
        lock(&self.inner)
            .topics
            .entry(trip)
            .or_insert_with(|| broadcast::channel(1024).0)
            .clone()
    }

    fn cancel_rx(&self, trip: TripId) -> watch::Receiver<bool> {
        lock(&self.inner)
            .cancels
            .entry(trip)
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    // ----- submit and admission -----

    /// Parses and records a request and schedules its planning. The text
    /// must be a [`QueryText`] (not empty, not too long, no control
    /// characters); `overrides` are checked by their type.
    #[tracing::instrument(skip_all, fields(query.len = query.len()))]
    pub async fn submit(
        &self,
        query: String,
        overrides: TripOverrides,
    ) -> Result<Submitted, SubmitError> {
        let text = QueryText::parse(&query).map_err(|e| SubmitError::Invalid(e.to_string()))?;
        let intent = self.parse(text.as_str(), &overrides).await?;
        // The log keeps the overrides' JSON (older entries hold untyped maps).
        let overrides =
            serde_json::to_value(&overrides).map_err(|e| SubmitError::Internal(e.to_string()))?;
        if let Err(incomplete) = TripSpec::from_intent(&intent) {
            return Err(SubmitError::Unplannable {
                questions: incomplete.0,
            });
        }
        let intent_json =
            serde_json::to_value(&intent).map_err(|e| SubmitError::Internal(e.to_string()))?;
        let request_key = request_key(&query, &overrides, &intent_json);
        let cached = if self.caches.enabled {
            lock(&self.caches.request).get(&request_key)
        } else {
            None
        };
        let trip = TripId::new();
        let internal = |e: ExecuteError| SubmitError::Internal(e.to_string());
        if let Some(hit) = cached
            && let Some(commands) = cached_plan_commands(&query, &overrides, &intent_json, hit)
        {
            return self.serve_cached(trip, commands).await;
        }
        // A full waiting line is refused before anything is recorded.
        {
            let mut inner = lock(&self.inner);
            let o = &self.config.orchestrator;
            let max = o.max_concurrent_requests.max(1);
            if inner.running.len() >= max && inner.waiting.len() >= o.queue_capacity {
                inner.counters.overloaded += 1;
                let per_slot = inner.waiting.len() / max;
                return Err(SubmitError::Overloaded {
                    retry_after_secs: 1 + per_slot as u64,
                });
            }
        }
        self.topic(trip);
        // The request, its intent and its task graph in one write; with a
        // planning slot free, the graph goes on the queue in the same
        // transaction. The slot is taken first, so that nothing else
        // schedules the trip meanwhile (a trip in the waiting line is
        // scheduled by `release`, only once its submission is recorded).
        let schedule = schedule_commands();
        let tasks = new_tasks(trip, &schedule);
        let mut commands = vec![
            Command::Submit { query, overrides },
            Command::RecordIntent {
                intent: intent_json,
            },
        ];
        commands.extend(schedule);
        let admitted = {
            let mut inner = lock(&self.inner);
            inner.submitted_at.insert(trip, Instant::now());
            let free =
                inner.running.len() < self.config.orchestrator.max_concurrent_requests.max(1);
            if free {
                inner.running.insert(trip);
            }
            free
        };
        let queue = admitted.then_some(QueueWrite::Enqueue(&tasks));
        if let Err(e) = self.exec_with(trip, commands, queue).await {
            // Not a trip: no latency sample; its slot goes to the next.
            lock(&self.inner).submitted_at.remove(&trip);
            if admitted {
                self.release(trip);
            }
            return Err(internal(e));
        }
        // Without a slot before the write, one may have come free since.
        let admitted_late = {
            let mut inner = lock(&self.inner);
            inner.counters.submitted += 1;
            let late = !admitted
                && inner.running.len() < self.config.orchestrator.max_concurrent_requests.max(1);
            if late {
                inner.running.insert(trip);
            } else if !admitted {
                inner.waiting.push_back(trip);
            }
            late
        };
        if admitted {
            self.wake.notify_one();
        } else if admitted_late && let Err(e) = self.schedule(trip).await {
            self.release(trip);
            return Err(SubmitError::Internal(e.to_string()));
        }
        Ok(Submitted {
            trip_id: trip.to_string(),
            status: TripStatus::Planning,
        })
    }

    /// The intent of a request: parsed (data-level cache), overridden, and
    /// what the rules left open read by the language model when one is
    /// configured. All within the domain's bounds by their types.
    async fn parse(
        &self,
        query: &str,
        overrides: &TripOverrides,
    ) -> Result<TripIntent, SubmitError> {
        // A reading holds for the day it was made on: "next Saturday", or
        // a date without a year, reads differently tomorrow.
        let planner = self.planner_for_today();
        let key = format!(
            "{}|{query}",
            planner.today().map(|d| d.to_string()).unwrap_or_default()
        );
        let cached = if self.caches.enabled {
            lock(&self.caches.data)
                .get(&key)
                .and_then(|v| serde_json::from_value::<TripIntent>(v).ok())
        } else {
            None
        };
        let mut intent = match cached {
            Some(intent) => intent,
            None => {
                let intent = planner.parse(query);
                if self.caches.enabled {
                    let v = serde_json::to_value(&intent)
                        .map_err(|e| SubmitError::Internal(e.to_string()))?;
                    lock(&self.caches.data).put(key, v);
                }
                intent
            }
        };
        overrides.apply(&mut intent);
        if let Some(llm) = &self.llm {
            let catalog = self.catalog();
            let today = self.clock.now().date_naive();
            llm.complete_intent(&mut intent, overrides, catalog.as_ref(), today)
                .await;
        }
        Ok(intent)
    }

    /// The language-model client, when `config.llm` configured one (for
    /// its metrics).
    pub fn llm(&self) -> Option<&Arc<LlmClient>> {
        self.llm.as_ref()
    }

    /// Records a trip served from the request cache: the request, its
    /// intent, the task graph with the results the cached plan was made
    /// of, and the plan, in one append. The trip is then like a planned
    /// one (its components can be modified and have alternatives); its
    /// tasks are not queued, since none is left to run.
    async fn serve_cached(
        &self,
        trip: TripId,
        commands: Vec<Command>,
    ) -> Result<Submitted, SubmitError> {
        self.exec_all(trip, commands)
            .await
            .map_err(|e| SubmitError::Internal(e.to_string()))?;
        let mut inner = lock(&self.inner);
        inner.counters.submitted += 1;
        inner.counters.ready += 1;
        Ok(Submitted {
            trip_id: trip.to_string(),
            status: TripStatus::Ready,
        })
    }

    /// Schedules the trip's task graph (once) and puts it on the queue.
    async fn schedule(&self, trip: TripId) -> Result<(), RuntimeError> {
        let mut state = self.load(trip).await?;
        if state.tasks.is_empty() && state.status == TripStatus::Planning {
            state = self
                .exec_all(trip, schedule_commands())
                .await
                .map_err(|e| RuntimeError::Internal(e.to_string()))?
                .state;
        }
        let tasks: Vec<NewTask> = state
            .tasks
            .iter()
            .map(|task| NewTask {
                task_id: task.task_id,
                trip_id: trip,
                agent_type: task.agent_type.clone(),
                priority: task.priority,
                depends_on: task.depends_on.clone(),
            })
            .collect();
        self.store
            .enqueue_all(&tasks, self.clock.now())
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        self.wake.notify_one();
        Ok(())
    }

    /// Frees the trip's planning slot and admits the next waiting trip.
    fn release(&self, trip: TripId) {
        let next = {
            let mut inner = lock(&self.inner);
            if let Some(at) = inner.submitted_at.remove(&trip) {
                let ms = at.elapsed().as_secs_f64() * 1000.0;
                let c = &mut inner.counters;
                c.plan_latency_ms_sum += ms;
                c.plan_latency_ms_count += 1;
                for (n, bound) in PLAN_BUCKETS_MS.iter().enumerate() {
                    if ms <= *bound {
                        c.plan_buckets[n] += 1;
                    }
                }
            }
            inner.waiting.retain(|t| *t != trip);
            if !inner.running.remove(&trip) {
                return;
            }
            let next = inner.waiting.pop_front();
            if let Some(next) = next {
                inner.running.insert(next);
            }
            next
        };
        if let Some(next) = next
            && !self.stopped.load(Ordering::SeqCst)
        {
            let me = self.me();
            tokio::spawn(async move {
                if let Err(e) = me.schedule(next).await {
                    tracing::warn!(trip.id = %next, error = %e, "could not schedule a waiting trip");
                    // Free its slot for the next one rather than hold it.
                    me.release(next);
                }
            });
        }
    }

    /// The trip's state: the cached one when this process is working on
    /// it, else from the store.
    async fn load(&self, trip: TripId) -> Result<TripState, RuntimeError> {
        if let Some(state) = lock(&self.inner).states.get(&trip).cloned() {
            return Ok(state);
        }
        self.load_fresh(trip).await
    }

    /// The trip's state from the store (snapshot + events).
    async fn load_fresh(&self, trip: TripId) -> Result<TripState, RuntimeError> {
        self.log
            .load(trip)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))
    }

    /// Brings a trip left unfinished by a previous process up to date and
    /// puts it back in line. Results the queue holds but the log lacks (a
    /// crash between the two writes) are copied, never recomputed.
    async fn resume_trip(&self, trip: TripId) -> Result<(), RuntimeError> {
        let internal = |e: ExecuteError| RuntimeError::Internal(e.to_string());
        let state = self.load(trip).await?;
        if state.rollback.is_some() {
            self.exec(
                trip,
                Command::RollBackModification {
                    reason: "the modification was interrupted by a restart".into(),
                },
            )
            .await
            .map_err(internal)?;
            return Ok(());
        }
        if state.intent.is_none() {
            self.exec(
                trip,
                Command::FailPlan {
                    reason: "interrupted before the request was parsed; submit it again".into(),
                },
            )
            .await
            .map_err(internal)?;
            return Ok(());
        }
        let queued = self
            .store
            .tasks_of(trip)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        for q in queued {
            let Some(task) = state.task(q.task_id) else {
                continue;
            };
            let command = match (q.status, task.status) {
                (TaskStatus::Completed, s) if s != TaskStatus::Completed => {
                    let result = self
                        .store
                        .result(q.task_id)
                        .await
                        .map_err(|e| RuntimeError::Store(e.to_string()))?;
                    result.map(|result| Command::CompleteTask {
                        task_id: q.task_id,
                        result,
                        elapsed_ms: 0,
                    })
                }
                (TaskStatus::Skipped, s) if !s.is_final() => Some(Command::SkipTask {
                    task_id: q.task_id,
                    reason: q.last_error.clone().unwrap_or_else(|| "skipped".into()),
                }),
                // Failed for good in the queue; the log never heard of it.
                (TaskStatus::Failed, s) if !s.is_final() => Some(Command::FailTask {
                    task_id: q.task_id,
                    error: q.last_error.clone().unwrap_or_else(|| "failed".into()),
                    retryable: false,
                }),
                _ => None,
            };
            if let Some(command) = command {
                self.exec(trip, command).await.map_err(internal)?;
            }
        }
        let state = self.load(trip).await?;
        if let Some(TaskOutput::Verifier(outcome)) = output_of(&state, "verifier") {
            self.finish(trip, *outcome).await;
            return Ok(());
        }
        if let Some(failed) = state.tasks.iter().find(|t| t.status == TaskStatus::Failed) {
            let reason = failed
                .last_error
                .clone()
                .unwrap_or_else(|| format!("the {} agent failed", failed.agent_type));
            self.fail_trip(trip, reason).await;
            return Ok(());
        }
        {
            // A trip resumed by hand may hold its slot, or wait for one.
            let mut inner = lock(&self.inner);
            if inner.waiting.contains(&trip) {
                return Ok(());
            }
            if inner.running.contains(&trip)
                || inner.running.len() < self.config.orchestrator.max_concurrent_requests.max(1)
            {
                inner.running.insert(trip);
            } else {
                inner.waiting.push_back(trip);
                return Ok(());
            }
        }
        self.schedule(trip).await
    }

    // ----- the dispatcher -----

    async fn dispatcher(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            self.dispatch_ready().await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.tick()) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// How many tasks each agent type may take now: free slots on its
    /// online instances (a P0 task wants an idle one) plus those of the
    /// instances it may still start. P3 types come first: after the rest
    /// they would starve while a backlog lasts, and the verifier waits
    /// for them. Batches are bounded so that one claim stays small.
    fn free_slots(&self) -> Vec<(String, usize)> {
        const ROUND: u32 = 32;
        let inner = lock(&self.inner);
        let mut slots: Vec<(Priority, String, usize)> = AGENT_TYPES
            .iter()
            .map(|agent_type| {
                let priority = node_of(agent_type).map_or(Priority::P2, |n| n.priority);
                let config = self.config.agent(agent_type);
                let per_instance = |load: u32| match priority {
                    Priority::P0 => u32::from(load == 0),
                    _ => config.max_capacity.saturating_sub(load),
                };
                let online: Vec<u32> = inner
                    .instances
                    .iter()
                    .filter(|i| i.row.agent_type == **agent_type && i.row.online)
                    .map(|i| i.row.current_load)
                    .collect();
                let to_start = config
                    .max_instances
                    .max(1)
                    .saturating_sub(online.len() as u32);
                // Claimed ahead: as many again as all its instances hold,
                // less what is already waiting for one.
                let ahead = config.max_instances.max(1) * config.max_capacity.max(1);
                let waiting = inner.backlog.get(*agent_type).map_or(0, VecDeque::len) as u32;
                let free = (online.iter().map(|l| per_instance(*l)).sum::<u32>()
                    + to_start * per_instance(0)
                    + ahead)
                    .saturating_sub(waiting);
                let bound = match priority {
                    Priority::P3 => self.config.communication.batch_size.max(1) as u32,
                    _ => ROUND,
                };
                (priority, agent_type.to_string(), free.min(bound) as usize)
            })
            .filter(|(_, _, free)| *free > 0)
            .collect();
        slots.sort_by_key(|(p, _, _)| std::cmp::Reverse(*p == Priority::P3));
        slots.into_iter().map(|(_, t, n)| (t, n)).collect()
    }

    /// Whether optional (P3) work should give way: trips are waiting or the
    /// instances are nearly full.
    fn under_load(&self) -> bool {
        let inner = lock(&self.inner);
        if !inner.waiting.is_empty() {
            return true;
        }
        let (load, capacity) = inner
            .instances
            .iter()
            .filter(|i| i.row.online)
            .fold((0u32, 0u32), |(l, c), i| {
                (l + i.row.current_load, c + i.row.max_capacity)
            });
        capacity > 0 && f64::from(load) / f64::from(capacity) > 0.9
    }

    /// Claims what the instances have room for, a round at a time (one
    /// write per round), and hands each task to an instance; again while
    /// rounds find work.
    async fn dispatch_ready(&self) {
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            self.drain_backlogs();
            let limits = self.free_slots();
            if limits.is_empty() {
                return;
            }
            let claimed = match self
                .store
                .claim_ready_many(&self.node_id, &limits, self.clock.now(), self.lease())
                .await
            {
                Ok(claimed) if claimed.is_empty() => return,
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim tasks");
                    return;
                }
            };
            self.record_arrivals(&claimed);
            for claimed in claimed {
                // Under load optional work is skipped (and the plan says
                // so), not left waiting.
                if claimed.priority == Priority::P3 && self.under_load() {
                    let me = self.me();
                    tokio::spawn(async move {
                        me.skip(&claimed, "skipped under load (optional)").await;
                    });
                    continue;
                }
                lock(&self.inner)
                    .backlog
                    .entry(claimed.agent_type.clone())
                    .or_default()
                    .push_back(claimed);
            }
            self.drain_backlogs();
        }
    }

    /// Hands waiting claimed tasks to instances while there is room, in
    /// the order they were claimed. Instances are chosen (and their
    /// capacity reserved) here; P3 tasks travel together.
    fn drain_backlogs(&self) {
        let mut batch: Vec<(String, ClaimedTask)> = Vec::new();
        // Most urgent type first (then the graph's order), so that
        // instances are handed work in a stable, priority-first order.
        let types: Vec<String> = {
            let inner = lock(&self.inner);
            let mut types: Vec<(Priority, usize, String)> = AGENT_TYPES
                .iter()
                .enumerate()
                .filter(|(_, t)| inner.backlog.get(**t).is_some_and(|q| !q.is_empty()))
                .map(|(n, t)| {
                    let priority = node_of(t).map_or(Priority::P2, |n| n.priority);
                    (priority, n, t.to_string())
                })
                .collect();
            types.sort();
            types.into_iter().map(|(_, _, t)| t).collect()
        };
        for agent_type in types {
            loop {
                let Some(task) = lock(&self.inner)
                    .backlog
                    .get_mut(&agent_type)
                    .and_then(VecDeque::pop_front)
                else {
                    break;
                };
                let Some(instance) = self.pick_instance(&task) else {
                    lock(&self.inner)
                        .backlog
                        .entry(agent_type.clone())
                        .or_default()
                        .push_front(task);
                    break;
                };
                if task.priority == Priority::P3 {
                    batch.push((instance, task));
                } else {
                    self.spawn_send(instance, vec![Job { task }]);
                }
            }
        }
        if !batch.is_empty() {
            self.spawn_batch(batch);
        }
    }

    /// P3 tasks travel together to the first one's instance.
    fn spawn_batch(&self, batch: Vec<(String, ClaimedTask)>) {
        let Some(instance) = batch.first().map(|(i, _)| i.clone()) else {
            return;
        };
        let mut jobs = Vec::with_capacity(batch.len());
        {
            let mut inner = lock(&self.inner);
            for (i, task) in batch {
                if i != instance {
                    move_load(&mut inner, &i, &instance, task.task_id);
                }
                jobs.push(Job { task });
            }
        }
        self.spawn_send(instance, jobs);
    }

    /// Hands `jobs` to `instance` off the dispatcher's loop (a full
    /// mailbox means writes to put them back).
    fn spawn_send(&self, instance: String, jobs: Vec<Job>) {
        let me = self.me();
        tokio::spawn(async move { me.send(instance, jobs).await });
    }

    /// Whether a claimed task is to run: the trip's log may be ahead of
    /// the queue (the process died between logging a result and marking
    /// it in the queue) or the trip may be over. Then the queue is put
    /// right and the task does not run.
    async fn still_to_run(&self, state: &TripState, task: &ClaimedTask) -> bool {
        if state.status != TripStatus::Planning {
            let _ = self
                .store
                .fail(task.task_id, &format!("the trip is {}", state.status), None)
                .await;
            return false;
        }
        let Some(logged) = state.task(task.task_id) else {
            return true;
        };
        match (logged.status, &logged.result) {
            (TaskStatus::Completed, Some(result)) => {
                // The log is ahead of the queue: copy the result over.
                let _ = self
                    .store
                    .complete(task.task_id, result, self.clock.now())
                    .await;
                false
            }
            (TaskStatus::Completed, None) => match self.store.result(task.task_id).await {
                Ok(Some(result)) => {
                    let _ = self
                        .store
                        .complete(task.task_id, &result, self.clock.now())
                        .await;
                    false
                }
                // The read model holds no results: run it again (agents
                // are idempotent) rather than leave the trip stuck.
                _ => true,
            },
            (TaskStatus::Skipped, _) => {
                let _ = self.store.skip(task.task_id).await;
                false
            }
            (TaskStatus::Failed, _) => {
                let _ = self.store.fail(task.task_id, "failed", None).await;
                false
            }
            _ => true,
        }
    }

    /// Records an attempt's outcome (commands decided in turn after the
    /// claim) in the trip's log together with the claim it ran under, and
    /// `queue`'s write in the same transaction. The claim is logged when
    /// there is something to say about it, so that an instance's slot is
    /// never held while the log is written. A log that already has a live
    /// claim of the task (written by an older release) takes the outcome
    /// alone.
    async fn record_attempt(
        &self,
        task: &ClaimedTask,
        instance: &str,
        outcome: Vec<Command>,
        queue: Option<QueueWrite<'_>>,
    ) -> Result<Executed, ExecuteError> {
        let claim = Command::ClaimTask {
            task_id: task.task_id,
            instance_id: instance.to_string(),
            now: self.clock.now(),
            lease_expires_at: task.lease_expires_at,
            attempt: task.attempt,
        };
        let mut commands = vec![claim];
        commands.extend(outcome.iter().cloned());
        match self.exec_with(task.trip_id, commands, queue).await {
            Err(ExecuteError::Rejected(Rejection::Leased { .. })) => {
                self.exec_with(task.trip_id, outcome, queue).await
            }
            other => other,
        }
    }

    /// The instance for a claimed task by the delegation score, scaling up
    /// when the best one is over its threshold; reserves its capacity.
    fn pick_instance(&self, task: &ClaimedTask) -> Option<String> {
        let agent_type = task.agent_type.as_str();
        let config = self.config.agent(agent_type);
        let chosen = {
            let inner = lock(&self.inner);
            let failed_on = inner
                .failed_on
                .get(&task.task_id)
                .cloned()
                .unwrap_or_default();
            let rows: Vec<&InstanceRow> = inner.instances.iter().map(|i| &i.row).collect();
            let best = choose_instance(rows.iter().copied(), agent_type, task.priority, &failed_on)
                .map(|r| {
                    (
                        r.agent_id.clone(),
                        f64::from(r.current_load + 1) / f64::from(r.max_capacity.max(1)),
                    )
                });
            let online = rows
                .iter()
                .filter(|r| r.agent_type == agent_type && r.online)
                .count() as u32;
            let may_grow = online < config.max_instances.max(1);
            match best {
                Some((id, ratio))
                    if ratio <= config.scale_threshold
                        || !may_grow
                        || task.priority == Priority::P0 =>
                {
                    Some(id)
                }
                Some((id, _)) => {
                    // Over the threshold: start another instance for the
                    // next task, and give this one to the best now.
                    drop(inner);
                    self.scale_up(agent_type, Reason::Reactive);
                    Some(id)
                }
                None if may_grow => {
                    drop(inner);
                    Some(self.scale_up(agent_type, Reason::Reactive))
                }
                None => None,
            }
        };
        let id = chosen?;
        let mut inner = lock(&self.inner);
        if let Some(i) = inner.instances.iter_mut().find(|i| i.row.agent_id == id) {
            i.row.current_load += 1;
        }
        inner
            .inflight
            .insert(task.task_id, (task.trip_id, id.clone()));
        Some(id)
    }

    fn unload(&self, instance: &str, task: TaskId) {
        let mut inner = lock(&self.inner);
        unload(&mut inner, instance, task, self.now_instant());
    }

    fn now_instant(&self) -> Instant {
        Instant::now()
    }

    async fn send(&self, instance: String, jobs: Vec<Job>) {
        let tx = lock(&self.inner)
            .instances
            .iter()
            .find(|i| i.row.agent_id == instance)
            .map(|i| i.tx.clone());
        let ids: Vec<(TripId, TaskId)> = jobs
            .iter()
            .map(|j| (j.task.trip_id, j.task.task_id))
            .collect();
        let sent = match tx {
            Some(tx) => tx.try_send(InstanceMsg::Run(jobs)).is_ok(),
            None => false,
        };
        if !sent {
            // A full or closed mailbox: back on the queue, another try soon.
            for (trip, task) in ids {
                self.unload(&instance, task);
                let retry_at = after(self.clock.now(), self.tick());
                let _ = self
                    .store
                    .fail(task, "the instance's mailbox is full", Some(retry_at))
                    .await;
                let _ = self
                    .exec(
                        trip,
                        Command::FailTask {
                            task_id: task,
                            error: "the instance's mailbox is full".into(),
                            retryable: true,
                        },
                    )
                    .await;
            }
        }
    }

    // ----- instances -----

    /// Starts one more instance of `agent_type`; returns its id.
    fn spawn_instance(&self, agent_type: &str) -> String {
        let config = self.config.agent(agent_type);
        let mut inner = lock(&self.inner);
        let n = inner.next_index.entry(agent_type.to_string()).or_insert(0);
        *n += 1;
        let agent_id = format!("{agent_type}-{n}");
        let capacity = config.max_capacity.max(1);
        let (tx, rx) = mpsc::channel(
            (capacity as usize * 2).min(self.config.communication.message_queue_size.max(1)),
        );
        let frozen = Arc::new(AtomicBool::new(false));
        let handle = tokio::spawn(instance_loop(
            self.me.clone(),
            agent_id.clone(),
            rx,
            frozen.clone(),
        ));
        inner.instances.push(Instance {
            row: InstanceRow {
                agent_id: agent_id.clone(),
                agent_type: agent_type.to_string(),
                capabilities: vec![agent_type.to_string()],
                online: true,
                current_load: 0,
                max_capacity: capacity,
                response_time_avg_ms: 0.0,
                cost_per_request: config.cost_per_request,
                successes: 0,
                failures: 0,
            },
            tx,
            frozen,
            idle_since: Instant::now(),
            handle,
        });
        tracing::info!(agent.id = %agent_id, "instance started");
        agent_id
    }

    /// Test and chaos hook: the instance stops answering pings and drops
    /// its work, like a hung process. Health checks mark it offline and its
    /// tasks are claimed again when their leases run out.
    #[doc(hidden)]
    pub fn freeze_instance(&self, agent_id: &str) -> bool {
        lock(&self.inner)
            .instances
            .iter()
            .find(|i| i.row.agent_id == agent_id)
            .map(|i| i.frozen.store(true, Ordering::SeqCst))
            .is_some()
    }

    /// Heartbeats for running tasks, health checks, scaling (predictive
    /// up and down, idle down: [`scaling`]).
    async fn supervisor(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.tick()) => {}
                _ = stop.changed() => return,
            }
            self.heartbeat_running().await;
            self.check_health().await;
            self.scale();
            self.forget_idle_trips();
            self.wake.notify_one();
        }
    }

    /// Says twice a heartbeat that this process is alive, on its own task
    /// so that slow health checks cannot make it look dead, and releases
    /// the leases of processes that stopped saying so (twice a heartbeat:
    /// a dead process's tasks are freed at most half a heartbeat after its
    /// silence passes `node_timeout`).
    async fn liveness(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.tick() / 2) => {}
                _ = stop.changed() => return,
            }
            match self
                .store
                .node_alive(&self.node_id, self.clock.now(), self.node_timeout())
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(
                        leases = n,
                        "released the task leases of a process that is gone"
                    );
                    self.wake.notify_one();
                }
                Err(e) => tracing::warn!(error = %e, "could not record that this process is alive"),
            }
        }
    }

    async fn heartbeat_running(&self) {
        let running: Vec<TaskId> = {
            let inner = lock(&self.inner);
            inner
                .inflight
                .iter()
                .filter(|(_, (_, instance))| {
                    inner
                        .instances
                        .iter()
                        .any(|i| i.row.agent_id == *instance && i.row.online)
                })
                .map(|(task, _)| *task)
                .collect()
        };
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .heartbeat_all(&running, &self.node_id, now, self.lease())
            .await
        {
            tracing::warn!(error = %e, "could not extend the running tasks' leases");
        }
    }

    async fn check_health(&self) {
        let deadline = Duration::from_millis(self.config.orchestrator.ping_deadline_ms.max(1));
        // Offline instances are pinged too: one that answers again (it was
        // only starved) comes back.
        let targets: Vec<(String, mpsc::Sender<InstanceMsg>)> = lock(&self.inner)
            .instances
            .iter()
            .map(|i| (i.row.agent_id.clone(), i.tx.clone()))
            .collect();
        let mut pings = JoinSet::new();
        for (id, tx) in targets {
            pings.spawn(async move {
                let (answer, answered) = oneshot::channel();
                let alive = tx.try_send(InstanceMsg::Ping(answer)).is_ok()
                    && matches!(tokio::time::timeout(deadline, answered).await, Ok(Ok(())));
                (id, alive)
            });
        }
        while let Some(Ok((id, alive))) = pings.join_next().await {
            if alive {
                let mut inner = lock(&self.inner);
                if let Some(i) = inner.instances.iter_mut().find(|i| i.row.agent_id == id)
                    && !i.row.online
                {
                    tracing::info!(agent.id = %id, "instance answers again; back online");
                    i.row.online = true;
                }
                continue;
            }
            let mut inner = lock(&self.inner);
            if let Some(i) = inner.instances.iter_mut().find(|i| i.row.agent_id == id)
                && i.row.current_load > 0
            {
                // A mailbox full of work is busy, not dead.
                if i.tx.capacity() == 0 && !i.frozen.load(Ordering::SeqCst) {
                    continue;
                }
            }
            if let Some(i) = inner.instances.iter_mut().find(|i| i.row.agent_id == id) {
                tracing::warn!(agent.id = %id, "instance stopped answering; marked offline");
                i.row.online = false;
            }
        }
    }

    /// Drops the channels of trips nobody plans or listens to (they are
    /// made again on demand), so that a long-running server does not keep
    /// one per trip ever submitted.
    fn forget_idle_trips(&self) {
        let mut inner = lock(&self.inner);
        let busy: HashSet<TripId> = inner
            .running
            .iter()
            .chain(inner.waiting.iter())
            .copied()
            .chain(inner.inflight.values().map(|(t, _)| *t))
            .collect();
        inner
            .topics
            .retain(|trip, tx| busy.contains(trip) || tx.receiver_count() > 0);
        inner
            .cancels
            .retain(|trip, tx| busy.contains(trip) || tx.receiver_count() > 0);
        inner.states.retain(|trip, _| busy.contains(trip));
        drop(inner);
        // A lock nobody holds or waits for is only this map's.
        lock(&self.trip_locks)
            .retain(|trip, writer| busy.contains(trip) || Arc::strong_count(writer) > 1);
    }

    // ----- running a task -----

    /// One guarded attempt of an agent: breaker, injected faults, timeout,
    /// panic isolation; cancelled when the trip is.
    async fn attempt(
        &self,
        agent_type: &str,
        intent: TripIntent,
        deps: BTreeMap<String, TaskOutput>,
        edited: Option<Itinerary>,
        mut cancel: watch::Receiver<bool>,
    ) -> Attempt {
        // Hashing the inputs means serialising them: only when caching.
        let key = self.caches.enabled.then(|| {
            agent_key(
                agent_type,
                &json!({"intent": &intent, "deps": &deps, "edited": &edited}),
            )
        });
        if let Some(key) = &key
            && let Some(hit) = lock(&self.caches.agent).get(key)
            && let Ok(output) = serde_json::from_value::<TaskOutput>(hit)
        {
            return Attempt::Done(output);
        }
        let me = self.me();
        let catalog = self.catalog();
        let owned_type = agent_type.to_string();
        let blocking = self.config.orchestrator.run_agents_on_blocking_pool;
        let call = async move {
            let run = move || {
                {
                    let mut inner = lock(&me.inner);
                    inner
                        .counters
                        .agents
                        .entry(owned_type.clone())
                        .or_default()
                        .invocations += 1;
                }
                run_task(
                    &owned_type,
                    &intent,
                    &deps,
                    catalog.as_ref(),
                    edited.as_ref(),
                )
            };
            let result = if blocking {
                tokio::task::spawn_blocking(run).await.map_err(|e| {
                    if e.is_panic() {
                        AgentError::Panicked {
                            message: "the agent panicked".into(),
                        }
                    } else {
                        AgentError::transient("the agent was cancelled")
                    }
                })?
            } else {
                run()
            };
            Ok::<_, AgentError>(result)
        };
        let timeout = Duration::from_millis(self.config.orchestrator.default_timeout_ms.max(1));
        let breaker = self.breakers.for_agent(agent_type);
        let guarded = through_breaker(&breaker, agent_type, async {
            match &self.faults {
                Some(faults) => isolate(with_timeout(timeout, faults.run(agent_type, call))).await,
                None => isolate(with_timeout(timeout, call)).await,
            }
        });
        if *cancel.borrow() {
            return Attempt::Cancelled;
        }
        let result = tokio::select! {
            r = guarded => r,
            _ = cancel.wait_for(|c| *c) => return Attempt::Cancelled,
        };
        match result {
            Ok(Ok(output)) => {
                if let Some(key) = key
                    && let Ok(v) = serde_json::to_value(&output)
                {
                    lock(&self.caches.agent).put(key, v);
                }
                Attempt::Done(output)
            }
            Ok(Err(RunError::NoPlan(why))) => Attempt::NoPlan(why),
            Err(e) => Attempt::Failed(e),
        }
    }

    /// The outputs of a task's dependencies: from the log when it has them
    /// (a modification's fresh results), else from the queue (persisted
    /// before this task could be claimed).
    async fn inputs(
        &self,
        state: &TripState,
        depends_on: &[TaskId],
    ) -> BTreeMap<String, TaskOutput> {
        let mut deps = BTreeMap::new();
        for dep in depends_on {
            let Some(task) = state.task(*dep) else {
                continue;
            };
            let output = match &task.result {
                Some(r) if task.status == TaskStatus::Completed => {
                    <TaskOutput as serde::Deserialize>::deserialize(&**r).ok()
                }
                _ if task.status == TaskStatus::Skipped => None,
                _ => self
                    .store
                    .result(*dep)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| serde_json::from_value(r).ok()),
            };
            if let Some(output) = output {
                deps.insert(task.agent_type.clone(), output);
            }
        }
        deps
    }

    /// Runs a dispatched task on `instance` and records what happened.
    async fn run_job(self: Arc<Self>, instance: String, job: Job) {
        let task = &job.task;
        let trip = task.trip_id;
        let started = Instant::now();
        let cancel = self.cancel_rx(trip);
        // The attempt as the trip's log counts them (the queue also counts
        // claims that never ran).
        let mut attempt = task.attempt;
        let outcome = match self.load(trip).await {
            Ok(state) if !self.still_to_run(&state, task).await => {
                {
                    let mut inner = lock(&self.inner);
                    inner.jobs.remove(&task.task_id);
                    unload(&mut inner, &instance, task.task_id, Instant::now());
                }
                self.drain_backlogs();
                self.wake.notify_one();
                return;
            }
            Ok(state) => {
                attempt = state
                    .task(task.task_id)
                    .map_or(attempt, |t| (t.attempts + 1).max(attempt));
                match intent_of(&state) {
                    Some(intent) => {
                        let deps = self.inputs(&state, &task.depends_on).await;
                        self.attempt(&task.agent_type, intent, deps, None, cancel)
                            .await
                    }
                    None => Attempt::NoPlan("the trip has no parsed request".into()),
                }
            }
            Err(e) => Attempt::Failed(AgentError::transient(e.to_string())),
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        self.record_latency(&instance, &task.agent_type, elapsed_ms, &outcome);
        // The instance's work is done: its slot is free for the next task
        // while the runtime records this one (the lease still covers it).
        {
            let mut inner = lock(&self.inner);
            unload(&mut inner, &instance, task.task_id, Instant::now());
        }
        self.drain_backlogs();
        self.wake.notify_one();
        match outcome {
            Attempt::Done(output) => self.complete(task, &instance, output, elapsed_ms).await,
            Attempt::NoPlan(why) => {
                self.record_failure(task, &instance, &why, false, None)
                    .await;
                self.fail_trip(trip, why).await;
            }
            Attempt::Failed(error) => self.failed(task, attempt, &instance, error).await,
            Attempt::Cancelled => {
                let _ = self.store.fail(task.task_id, "cancelled", None).await;
            }
        }
        lock(&self.inner).jobs.remove(&task.task_id);
        self.wake.notify_one();
    }

    fn record_latency(&self, instance: &str, agent_type: &str, ms: u64, outcome: &Attempt) {
        let ok = matches!(outcome, Attempt::Done(_) | Attempt::NoPlan(_));
        if matches!(outcome, Attempt::Cancelled) {
            return;
        }
        let cost = self.config.agent(agent_type).cost_per_request;
        let mut inner = lock(&self.inner);
        if let Some(i) = inner
            .instances
            .iter_mut()
            .find(|i| i.row.agent_id == instance)
        {
            i.row.record_latency(ms as f64);
            if ok {
                i.row.successes += 1;
            } else {
                i.row.failures += 1;
            }
        }
        let c = inner
            .counters
            .agents
            .entry(agent_type.to_string())
            .or_default();
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

    /// Persists a result: the log and the queue in one transaction (the
    /// queue's completion is what lets dependents be claimed, so a
    /// dependent's claim always finds its inputs in the log). When the log
    /// has the result already (an earlier run of the task logged it and the
    /// process died before the queue heard of it, or the data predates the
    /// joint write) it is copied to the queue; the agent does not run
    /// again. The verifier's plan finishes the trip in the same append.
    async fn complete(
        &self,
        task: &ClaimedTask,
        instance: &str,
        output: TaskOutput,
        elapsed_ms: u64,
    ) {
        let trip = task.trip_id;
        let result = match serde_json::to_value(&output) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "an agent result does not serialise");
                return;
            }
        };
        let mut commands = vec![Command::CompleteTask {
            task_id: task.task_id,
            result: result.clone(),
            elapsed_ms,
        }];
        let outcome = match output {
            TaskOutput::Verifier(outcome) => Some(*outcome),
            _ => None,
        };
        if let Some(PlanOutcome {
            itinerary: Some(itinerary),
            verdict,
            ..
        }) = &outcome
        {
            commands.push(Command::FinishPlan {
                itinerary: serde_json::to_value(itinerary).unwrap_or(Value::Null),
                verdict: serde_json::to_value(verdict).unwrap_or(Value::Null),
            });
        }
        let queue = QueueWrite::Complete {
            task_id: task.task_id,
            result: &result,
        };
        let logged = self
            .record_attempt(task, instance, commands, Some(queue))
            .await;
        let finished = match logged {
            Ok(executed) => executed
                .events
                .iter()
                .any(|e| matches!(e.event, TripEvent::PlanReady { .. }))
                .then_some(executed),
            // Left out meanwhile (an operator's skip of a task that hung):
            // the late result is dropped, the queue keeps the skip.
            Err(ExecuteError::Rejected(Rejection::TaskFinished {
                status: TaskStatus::Skipped,
                ..
            })) => None,
            Err(ExecuteError::Rejected(Rejection::TaskFinished { .. })) => {
                // Logged by an earlier run: put the queue right.
                if let Err(e) = self
                    .store
                    .complete(task.task_id, &result, self.clock.now())
                    .await
                {
                    tracing::warn!(task.id = %task.task_id, error = %e, "could not mark a result in the queue");
                }
                None
            }
            Err(ExecuteError::Rejected(rejection))
                if !matches!(rejection, Rejection::DependenciesPending { .. }) =>
            {
                // The trip moved on (cancelled, failed): nothing to keep.
                let _ = self
                    .store
                    .fail(task.task_id, &rejection.to_string(), None)
                    .await;
                return;
            }
            Err(e) => {
                // Not recorded (or, defensively, the log does not have its
                // inputs yet): the attempt did not count; run it again soon.
                tracing::warn!(task.id = %task.task_id, error = %e, "could not log a result");
                let retry_at = after(self.clock.now(), self.tick());
                let _ = self
                    .store
                    .fail(task.task_id, &e.to_string(), Some(retry_at))
                    .await;
                return;
            }
        };
        if let Some(outcome) = outcome {
            match finished {
                Some(executed) => self.finished(trip, &executed, &outcome),
                None => self.finish(trip, outcome).await,
            }
        }
    }

    /// A failed attempt: retry later (elsewhere), degrade, or fail the trip.
    async fn failed(&self, task: &ClaimedTask, attempt: u32, instance: &str, error: AgentError) {
        let trip = task.trip_id;
        let optional = node_of(&task.agent_type).is_some_and(|n| n.optional);
        // `retry_attempts` per instance: when they are spent, a required
        // task fails over to another instance (the score avoids the ones
        // it failed on) with a fresh budget, `failover_instances` times.
        let per_instance = self.retry.maximum_attempts.max(1);
        let round = attempt.saturating_sub(1) / per_instance;
        let within = attempt - round * per_instance;
        let mut delay = {
            let mut rng = lock(&self.rng);
            self.retry.next_delay(within, &error, &mut rng)
        };
        if delay.is_none()
            && !optional
            && !self.retry.gives_up_on(&error)
            && round < self.config.orchestrator.failover_instances
        {
            lock(&self.inner).counters.failovers += 1;
            delay = Some(self.retry.initial_interval);
        }
        let circuit_open = matches!(error, AgentError::CircuitOpen { .. });
        match delay {
            Some(delay) if !(optional && circuit_open) => {
                {
                    let mut inner = lock(&self.inner);
                    inner.counters.retries += 1;
                    inner
                        .failed_on
                        .entry(task.task_id)
                        .or_default()
                        .push(instance.to_string());
                }
                let retry_at = after(self.clock.now(), delay);
                self.record_failure(task, instance, &error.to_string(), true, Some(retry_at))
                    .await;
                let me = self.me();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    me.wake.notify_one();
                });
            }
            _ if optional => {
                let reason = format!("dropped after {attempt} attempt(s): {error}");
                self.skip(task, &reason).await;
            }
            _ => {
                let reason = format!("the {} agent failed: {error}", task.agent_type);
                self.record_failure(task, instance, &error.to_string(), false, None)
                    .await;
                self.fail_trip(trip, reason).await;
            }
        }
    }

    /// Logs a failed attempt and settles the task in the queue, in one
    /// transaction: with `retry_at` it is claimed again then, without it
    /// has failed for good. When the log refuses the failure (the trip is
    /// over, or the log cannot be written) the queue is settled alone.
    async fn record_failure(
        &self,
        task: &ClaimedTask,
        instance: &str,
        error: &str,
        retryable: bool,
        retry_at: Option<DateTime<Utc>>,
    ) {
        let failed = Command::FailTask {
            task_id: task.task_id,
            error: error.to_string(),
            retryable,
        };
        let queue = QueueWrite::Fail {
            task_id: task.task_id,
            error,
            retry_at,
        };
        if self
            .record_attempt(task, instance, vec![failed], Some(queue))
            .await
            .is_err()
        {
            let _ = self.store.fail(task.task_id, error, retry_at).await;
        }
    }

    /// Drops an optional task: logged and skipped in the queue in one
    /// transaction, so that its dependents, which the skip makes ready,
    /// find it skipped in the log when they record their results.
    async fn skip(&self, task: &ClaimedTask, reason: &str) {
        let skipped = self
            .exec_with(
                task.trip_id,
                vec![Command::SkipTask {
                    task_id: task.task_id,
                    reason: reason.to_string(),
                }],
                Some(QueueWrite::Skip {
                    task_id: task.task_id,
                }),
            )
            .await;
        match skipped {
            Ok(_) => lock(&self.inner).counters.skipped += 1,
            // The trip is over: take the task off the queue.
            Err(ExecuteError::Rejected(rejection)) => {
                let _ = self
                    .store
                    .fail(task.task_id, &rejection.to_string(), None)
                    .await;
            }
            // Not logged: left to its lease, then claimed and tried again.
            Err(e) => {
                tracing::warn!(task.id = %task.task_id, error = %e, "could not log a skip");
            }
        }
        self.wake.notify_one();
    }

    /// Finishes a trip with the verifier's outcome (when the append of its
    /// result did not already).
    async fn finish(&self, trip: TripId, outcome: PlanOutcome) {
        match &outcome.itinerary {
            Some(itinerary) => {
                let finished = self
                    .exec(
                        trip,
                        Command::FinishPlan {
                            itinerary: serde_json::to_value(itinerary).unwrap_or(Value::Null),
                            verdict: serde_json::to_value(&outcome.verdict).unwrap_or(Value::Null),
                        },
                    )
                    .await;
                match finished {
                    Ok(executed) if !executed.events.is_empty() => {
                        self.finished(trip, &executed, &outcome);
                    }
                    _ => self.release(trip),
                }
            }
            None => self.fail_trip(trip, outcome.explanation).await,
        }
    }

    /// What follows a plan's `PlanReady` in the log: the count, the
    /// request cache, and the trip's planning slot.
    fn finished(&self, trip: TripId, executed: &Executed, outcome: &PlanOutcome) {
        lock(&self.inner).counters.ready += 1;
        if self.caches.enabled
            && executed.state.modifications == 0
            && let Some(query) = &executed.state.query
            && let Some(intent) = &executed.state.intent
            && let Some(v) = cached_plan(&executed.state, outcome)
        {
            let key = request_key(query, &executed.state.overrides, intent);
            lock(&self.caches.request).put(key, v);
        }
        self.release(trip);
    }

    async fn fail_trip(&self, trip: TripId, reason: String) {
        if let Ok(executed) = self.exec(trip, Command::FailPlan { reason }).await
            && !executed.events.is_empty()
        {
            lock(&self.inner).counters.failed += 1;
        }
        self.stop_trip_tasks(trip).await;
        self.release(trip);
    }

    /// Signals the trip's running tasks to stop and takes its remaining
    /// tasks off the queue.
    async fn stop_trip_tasks(&self, trip: TripId) {
        if let Some(tx) = lock(&self.inner).cancels.get(&trip) {
            let _ = tx.send(true);
        }
        if let Ok(tasks) = self.store.tasks_of(trip).await {
            for t in tasks.into_iter().filter(|t| !t.status.is_final()) {
                let _ = self.store.fail(t.task_id, "the trip is over", None).await;
            }
        }
    }

    // ----- reading -----

    fn parse_id(trip_id: &str) -> Option<TripId> {
        trip_id.parse().ok()
    }

    /// The trip's status and tasks (`None`: no such trip).
    pub async fn status(&self, trip_id: &str) -> Result<Option<TripStatusView>, RuntimeError> {
        let Some(trip) = Self::parse_id(trip_id) else {
            return Ok(None);
        };
        let state = self.load(trip).await?;
        if !state.exists() {
            return Ok(None);
        }
        let mut view = status_view(&state);
        // A claim reaches the log with its outcome; while a trip plans, the
        // queue (shared by every process) says which tasks run now.
        if state.status == TripStatus::Planning
            && let Ok(queued) = self.store.tasks_of(trip).await
        {
            for q in queued.iter().filter(|q| q.status == TaskStatus::Running) {
                let id = q.task_id.to_string();
                if let Some(t) = view
                    .tasks
                    .iter_mut()
                    .find(|t| t.task_id == id && t.status == "pending")
                {
                    t.status = TaskStatus::Running.as_str().to_string();
                    t.attempts = t.attempts.max(q.attempts);
                }
            }
        }
        Ok(Some(view))
    }

    /// The whole trip (`None`: no such trip).
    pub async fn trip(&self, trip_id: &str) -> Result<Option<TripView>, RuntimeError> {
        let Some(trip) = Self::parse_id(trip_id) else {
            return Ok(None);
        };
        let state = self.load(trip).await?;
        Ok(state.exists().then(|| trip_view(&state)))
    }

    /// Past events after `after_seq`, then live ones (subscribed before the
    /// past ones were loaded: dedup by `seq`). `None`: no such trip.
    pub async fn events(
        &self,
        trip_id: &str,
        after_seq: u64,
    ) -> Result<Option<(Vec<WireEvent>, broadcast::Receiver<WireEvent>)>, RuntimeError> {
        let Some(trip) = Self::parse_id(trip_id) else {
            return Ok(None);
        };
        let live = self.topic(trip).subscribe();
        let stored = self
            .store
            .load(trip, 0)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        if stored.is_empty() {
            lock(&self.inner).topics.remove(&trip);
            return Ok(None);
        }
        let mut state = TripState::new(trip);
        let mut past = Vec::new();
        for event in &stored {
            state.apply_stored(event);
            if event.seq > after_seq
                && let Some(w) = wire_event(&state, event)
            {
                past.push(w);
            }
        }
        Ok(Some((past, live)))
    }

    /// Every planning event of every trip (the hub's global topic, typed).
    pub fn subscribe_all(&self) -> broadcast::Receiver<WireEvent> {
        self.global.subscribe()
    }

    /// The message hub: planning events are published on its topics
    /// `trips` and `trip.<id>` as `status_update` messages whose payload is
    /// the [`WireEvent`].
    pub fn hub(&self) -> &Hub<S> {
        &self.hub
    }

    /// Every agent instance's registry row.
    pub fn agents(&self) -> Vec<AgentInfo> {
        let breakers = self.breakers.snapshot();
        lock(&self.inner)
            .instances
            .iter()
            .map(|i| AgentInfo {
                agent_id: i.row.agent_id.clone(),
                agent_type: i.row.agent_type.clone(),
                status: i.row.status().as_str().to_string(),
                capabilities: i.row.capabilities.clone(),
                current_load: i.row.current_load,
                max_capacity: i.row.max_capacity,
                response_time_avg_ms: i.row.response_time_avg_ms,
                cost_per_request: i.row.cost_per_request,
                successes: i.row.successes,
                failures: i.row.failures,
                breaker: breakers
                    .get(&i.row.agent_type)
                    .map_or("closed", |b| b.state.as_str())
                    .to_string(),
            })
            .collect()
    }

    /// Real agent runs per type (cache hits and resumed results excluded).
    pub fn invocations(&self, agent_type: &str) -> u64 {
        lock(&self.inner)
            .counters
            .agents
            .get(agent_type)
            .map_or(0, |c| c.invocations)
    }

    pub fn metrics(&self) -> RuntimeMetrics {
        let breakers = self.breakers.snapshot();
        let forecasts = lock(&self.demand).forecasts();
        let llm_cost = self.llm.as_ref().map_or(0.0, |l| l.metrics().cost_usd);
        let inner = lock(&self.inner);
        let c = &inner.counters;
        let mut agents = BTreeMap::new();
        for agent_type in AGENT_TYPES {
            let counters = c.agents.get(agent_type);
            let mut buckets: Vec<(f64, u64)> = LATENCY_BUCKETS_MS
                .iter()
                .enumerate()
                .map(|(n, b)| (*b, counters.map_or(0, |c| c.buckets[n])))
                .collect();
            buckets.push((f64::INFINITY, counters.map_or(0, |c| c.latency_count)));
            agents.insert(
                agent_type.to_string(),
                AgentMetrics {
                    instances: inner
                        .instances
                        .iter()
                        .filter(|i| i.row.agent_type == agent_type && i.row.online)
                        .count() as u32,
                    successes: counters.map_or(0, |c| c.successes),
                    failures: counters.map_or(0, |c| c.failures),
                    latency_ms_sum: counters.map_or(0.0, |c| c.latency_ms_sum),
                    latency_count: counters.map_or(0, |c| c.latency_count),
                    latency_buckets: buckets,
                    breaker: breakers
                        .get(agent_type)
                        .map_or("closed", |b| b.state.as_str())
                        .to_string(),
                    cost_total: counters.map_or(0.0, |c| c.cost_total),
                    arrival_rate: forecasts.get(agent_type).map_or(0.0, |f| f.arrival_rate),
                    forecast_rate: forecasts.get(agent_type).map_or(0.0, |f| f.forecast_rate),
                    forecast_instances: forecasts.get(agent_type).map_or(0, |f| f.instances),
                    scaling: counters.map_or_else(ScalingDecisions::default, |c| c.scaling),
                },
            );
        }
        // What a request cost: its agents' nominal cost and the tokens the
        // language model read it with.
        let cost: f64 = agents.values().map(|a| a.cost_total).sum::<f64>() + llm_cost;
        let mut cache = BTreeMap::new();
        for (name, level) in [
            ("request", &self.caches.request),
            ("agent", &self.caches.agent),
            ("data", &self.caches.data),
        ] {
            let m: CacheMetrics = lock(level).metrics();
            cache.insert(name.to_string(), m);
        }
        RuntimeMetrics {
            trips_submitted: c.submitted,
            trips_ready: c.ready,
            trips_failed: c.failed,
            trips_cancelled: c.cancelled,
            trips_rejected_overloaded: c.overloaded,
            modifications_applied: c.modifications_applied,
            modifications_rolled_back: c.modifications_rolled_back,
            trips_in_flight: inner.running.len() as u64,
            trips_waiting: inner.waiting.len() as u64,
            queue_depth: inner.inflight.len() as u64,
            tasks_skipped: c.skipped,
            task_retries: c.retries,
            task_failovers: c.failovers,
            agents,
            cache,
            cost_per_request: if c.submitted == 0 {
                0.0
            } else {
                cost / c.submitted as f64
            },
            llm_cost_total: llm_cost,
            plan_latency_ms_sum: c.plan_latency_ms_sum,
            plan_latency_ms_count: c.plan_latency_ms_count,
            plan_latency_ms_buckets: PLAN_BUCKETS_MS
                .iter()
                .enumerate()
                .map(|(n, b)| (*b, c.plan_buckets[n]))
                .chain([(f64::INFINITY, c.plan_latency_ms_count)])
                .collect(),
            consistency: self.auditor.metrics(),
        }
    }

    /// Runs a consistency audit pass now (the background task runs one
    /// every `audit_interval_ms`): the trips changed since the last pass
    /// and the next slice of the sweep, each under its writer lock,
    /// disagreements repaired from the log. See [`super::audit`].
    pub async fn audit_now(&self) -> ConsistencyReport {
        let lock_of = |trip: TripId| Some(lock(&self.trip_locks).entry(trip).or_default().clone());
        self.auditor.pass(true, &lock_of).await
    }

    /// The last consistency audit's report.
    pub fn consistency_report(&self) -> ConsistencyReport {
        self.auditor.last_report()
    }

    /// Audits every `audit_interval_ms` until the runtime stops.
    async fn audit_loop(self: Arc<Self>) {
        let every = Duration::from_millis(self.config.orchestrator.audit_interval_ms.max(1));
        let mut stop = self.stop.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            self.audit_now().await;
        }
    }

    /// Drops every cached plan, agent result and parsed request (call
    /// after a catalog import).
    pub fn invalidate_all(&self) {
        self.caches.invalidate_all();
    }

    /// Plans from now on with `catalog` (a new import), and drops every
    /// cache built on the old one. Tasks already running finish on the
    /// catalog they started with.
    pub fn replace_catalog(&self, catalog: Arc<dyn Catalog>) {
        let planner = Arc::new(planner_for(&self.config, &self.clock, catalog.clone()));
        *self.catalog.write().unwrap_or_else(PoisonError::into_inner) = (catalog, planner);
        self.caches.invalidate_all();
    }

    /// The catalog agents plan with.
    pub fn catalog(&self) -> Arc<dyn Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// The planner over the current catalog (the same one `wayfare plan` uses).
    pub fn planner(&self) -> Arc<Planner> {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clone()
    }

    /// The planner, made again when the day has turned since it was made
    /// (unless a `default_year` fixes the year): requests are read from
    /// today's date, however long the process has run.
    fn planner_for_today(&self) -> Arc<Planner> {
        let planner = self.planner();
        let today = self.clock.now().date_naive();
        if planner.today().is_none_or(|day| day == today) {
            return planner;
        }
        let mut slot = self.catalog.write().unwrap_or_else(PoisonError::into_inner);
        if slot.1.today() != Some(today) {
            slot.1 = Arc::new(planner_for(&self.config, &self.clock, slot.0.clone()));
        }
        slot.1.clone()
    }

    // ----- cancel -----

    /// Cancels a trip (idempotent): in-flight tasks stop, queued ones are
    /// taken off the queue.
    pub async fn cancel(&self, trip_id: &str) -> Result<TripStatusView, RuntimeError> {
        let trip =
            Self::parse_id(trip_id).ok_or_else(|| RuntimeError::NotFound(trip_id.to_string()))?;
        let state = self.load(trip).await?;
        if !state.exists() {
            return Err(RuntimeError::NotFound(trip_id.to_string()));
        }
        let executed = self
            .exec(trip, Command::Cancel)
            .await
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        if !executed.events.is_empty() {
            lock(&self.inner).counters.cancelled += 1;
        }
        self.stop_trip_tasks(trip).await;
        self.release(trip);
        Ok(status_view(&executed.state))
    }

    /// Deletes a trip for good: cancels it first when it is still
    /// planning, removes every row of it from the store (one transaction)
    /// and forgets it in this process — its cached state, event topic
    /// (live subscribers' streams end), cancel channel, claimed tasks
    /// waiting for an instance, failover notes and writer lock — so that
    /// [`Runtime::trip`] answers `None` afterwards. `false`: there was no
    /// such trip.
    pub async fn delete(&self, trip_id: &str) -> Result<bool, RuntimeError> {
        let Some(trip) = Self::parse_id(trip_id) else {
            return Ok(false);
        };
        let state = self.load_fresh(trip).await?;
        if state.exists() && state.status == TripStatus::Planning {
            self.cancel(trip_id).await?;
        }
        // No command on the trip runs in this process while it goes; one
        // decided later finds no trip and is refused.
        let writer = lock(&self.trip_locks).entry(trip).or_default().clone();
        let deleted = {
            let _writer = writer.lock().await;
            let deleted = self
                .store
                .delete_trip(trip)
                .await
                .map_err(|e| RuntimeError::Store(e.to_string()))?;
            let mut inner = lock(&self.inner);
            inner.states.remove(&trip);
            inner.topics.remove(&trip);
            if let Some(cancel) = inner.cancels.remove(&trip) {
                let _ = cancel.send(true);
            }
            inner.submitted_at.remove(&trip);
            inner.waiting.retain(|t| *t != trip);
            for queue in inner.backlog.values_mut() {
                queue.retain(|t| t.trip_id != trip);
            }
            for task in &state.tasks {
                inner.failed_on.remove(&task.task_id);
            }
            deleted
        };
        // Frees its planning slot if it held one (the cancel did already
        // when it was planning).
        self.release(trip);
        lock(&self.trip_locks).remove(&trip);
        Ok(deleted)
    }

    /// The trip as it is now, read fresh, when it exists and is at
    /// `expected_version` (else `NotFound` or `Conflict`): the start of
    /// every change a person asks for ([`Runtime::modify`], `answer`).
    async fn load_at_version(
        &self,
        trip_id: &str,
        expected_version: u64,
    ) -> Result<(TripId, TripState), ModifyError> {
        let trip = Self::parse_id(trip_id).ok_or(ModifyError::NotFound)?;
        let state = self
            .load_fresh(trip)
            .await
            .map_err(|e| ModifyError::Internal(e.to_string()))?;
        if !state.exists() {
            return Err(ModifyError::NotFound);
        }
        if state.version != expected_version {
            return Err(ModifyError::Conflict {
                expected: expected_version,
                actual: state.version,
            });
        }
        Ok((trip, state))
    }

    // ----- modify -----

    /// Applies `changes` to a ready (or failed) trip at `expected_version`,
    /// re-plans the affected components, verifies, and rolls back to the
    /// last consistent state when the new plan fails. A rolled-back
    /// modification returns the restored trip, its explanation starting
    /// with "Modification rolled back:".
    ///
    /// What each change re-runs (the roots; their dependents follow):
    /// - `budget` → budget (assemble), verifier;
    /// - `travellers` → transport, accommodation, dining (prices are for
    ///   the party), then budget, verifier;
    /// - `dates` → planning and everything after it (flights and
    ///   opening days depend on dates; the location facts do not);
    /// - `replace` / `reroll` of a meal (`dN.breakfast|lunch|dinner`), a
    ///   stay (`stay.<city>`), an attraction (`dN.attractionK`) or a
    ///   transport leg (`dN.legK`) → the plan is edited in place from the
    ///   agents' candidates (see [`Runtime::alternatives`]; a leg together
    ///   with the travel day's meals and visits that no longer fit around
    ///   it), checked against the budget and the verifier's rules — a
    ///   change that would break one is refused with
    ///   [`ModifyError::Invalid`] before anything is recorded — and then
    ///   only the verifier task runs. A reroll takes the next alternative
    ///   after the current one that keeps the plan valid.
    #[tracing::instrument(skip_all, fields(trip.id = %trip_id, expected_version), err)]
    pub async fn modify(
        &self,
        trip_id: &str,
        expected_version: u64,
        changes: Vec<Change>,
    ) -> Result<TripView, ModifyError> {
        let (trip, state) = self.load_at_version(trip_id, expected_version).await?;
        let internal = |e: &dyn std::fmt::Display| ModifyError::Internal(e.to_string());
        if !matches!(state.status, TripStatus::Ready | TripStatus::Failed) {
            return Err(ModifyError::NotReady);
        }
        let old_intent = intent_of(&state).ok_or(ModifyError::NotReady)?;
        let catalog = self.catalog();
        let plan = plan_changes(&state, &old_intent, catalog.as_ref(), &changes)
            .map_err(ModifyError::Invalid)?;
        let roots: Vec<TaskId> = state
            .tasks
            .iter()
            .filter(|t| plan.roots.contains(t.agent_type.as_str()))
            .map(|t| t.task_id)
            .collect();
        if roots.is_empty() {
            return Err(ModifyError::Invalid(
                "this trip has no planned components to change".into(),
            ));
        }
        // Append exactly at the version the caller saw: a stale writer
        // gets a conflict, never overwrites.
        let events = decide(
            &state,
            Command::Modify {
                changes: serde_json::to_value(&changes).unwrap_or(Value::Null),
                tasks: roots,
            },
        )
        .map_err(|e| ModifyError::Invalid(e.to_string()))?;
        match self
            .store
            .append(trip, expected_version, &events, self.clock.now())
            .await
        {
            Ok(_) => {}
            Err(crate::state::AppendError::Conflict { expected, actual }) => {
                return Err(ModifyError::Conflict { expected, actual });
            }
            Err(e) => return Err(internal(&e)),
        }
        let stored = self
            .store
            .load(trip, expected_version)
            .await
            .map_err(|e| internal(&e))?;
        let mut after_state = state.clone();
        for s in &stored {
            after_state.apply_stored(s);
        }
        self.remember(&after_state);
        self.publish(&Executed {
            state: after_state,
            events: stored,
        });
        lock(&self.inner).counters.modifications_applied += 1;
        let result = self.replan(trip, &plan).await;
        let state = match result {
            Ok(state) => state,
            Err(reason) => {
                // One event restores the last good plan and the intent it
                // was made for (the rollback point holds both).
                let rolled_back = self
                    .exec(
                        trip,
                        Command::RollBackModification {
                            reason: reason.clone(),
                        },
                    )
                    .await;
                let executed = match rolled_back {
                    Ok(executed) => executed,
                    // The modification was ended by someone else first: a
                    // cancel (which abandons it), or a restarted process's
                    // resume (which rolled it back). The trip is not ready
                    // to take this change: a conflict, not a failure.
                    Err(ExecuteError::Rejected(
                        Rejection::WrongStatus { .. } | Rejection::NothingToRollBack,
                    )) => {
                        tracing::info!(trip.id = %trip, %reason, "a modification was overtaken by a cancel or a rollback");
                        return Err(ModifyError::NotReady);
                    }
                    Err(e) => return Err(internal(&e)),
                };
                lock(&self.inner).counters.modifications_rolled_back += 1;
                let mut view = trip_view(&executed.state);
                view.explanation = format!("Modification rolled back: {reason}");
                return Ok(view);
            }
        };
        Ok(trip_view(&state))
    }

    /// Re-runs the modification's affected tasks in order, in process (the
    /// queue holds each task's first result; the log holds the current
    /// one), then finishes the plan. `Err` is the reason to roll back.
    async fn replan(&self, trip: TripId, plan: &ChangePlan) -> Result<TripState, String> {
        if let Ok(state) = self.load(trip).await
            && intent_of(&state).as_ref() != Some(&plan.intent)
        {
            self.exec(
                trip,
                Command::RecordIntent {
                    intent: serde_json::to_value(&plan.intent).unwrap_or(Value::Null),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        }
        let cancel = self.cancel_rx(trip);
        loop {
            let state = self.load(trip).await.map_err(|e| e.to_string())?;
            let Some(task) = state
                .tasks
                .iter()
                .find(|t| t.status == TaskStatus::Pending)
                .cloned()
            else {
                break;
            };
            let optional = node_of(&task.agent_type).is_some_and(|n| n.optional);
            let mut attempt = 0;
            let output = loop {
                attempt += 1;
                let now = self.clock.now();
                self.exec(
                    trip,
                    Command::ClaimTask {
                        task_id: task.task_id,
                        instance_id: MODIFIER.into(),
                        now,
                        lease_expires_at: after(now, self.lease()),
                        attempt: 0,
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
                let state = self.load(trip).await.map_err(|e| e.to_string())?;
                let deps = self.inputs(&state, &task.depends_on).await;
                let edited = (task.agent_type == "verifier")
                    .then(|| plan.edited.clone())
                    .flatten();
                let started = Instant::now();
                let outcome = self
                    .attempt(
                        &task.agent_type,
                        plan.intent.clone(),
                        deps,
                        edited,
                        cancel.clone(),
                    )
                    .await;
                self.record_latency(
                    MODIFIER,
                    &task.agent_type,
                    started.elapsed().as_millis() as u64,
                    &outcome,
                );
                match outcome {
                    Attempt::Done(output) => break Some(output),
                    Attempt::NoPlan(why) => return Err(why),
                    Attempt::Cancelled => return Err("the trip was cancelled".into()),
                    Attempt::Failed(error) => {
                        let delay = {
                            let mut rng = lock(&self.rng);
                            self.retry.next_delay(attempt, &error, &mut rng)
                        };
                        let _ = self
                            .exec(
                                trip,
                                Command::FailTask {
                                    task_id: task.task_id,
                                    error: error.to_string(),
                                    retryable: true,
                                },
                            )
                            .await;
                        match delay {
                            Some(d) => tokio::time::sleep(d).await,
                            None if optional => break None,
                            None => {
                                return Err(format!(
                                    "the {} agent failed: {error}",
                                    task.agent_type
                                ));
                            }
                        }
                    }
                }
            };
            match output {
                Some(output) => {
                    let result = serde_json::to_value(&output).map_err(|e| e.to_string())?;
                    self.exec(
                        trip,
                        Command::CompleteTask {
                            task_id: task.task_id,
                            result,
                            elapsed_ms: 0,
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    if let TaskOutput::Verifier(outcome) = output {
                        let Some(itinerary) = outcome.itinerary else {
                            return Err(outcome.explanation);
                        };
                        let executed = self
                            .exec(
                                trip,
                                Command::FinishPlan {
                                    itinerary: serde_json::to_value(&itinerary)
                                        .unwrap_or(Value::Null),
                                    verdict: serde_json::to_value(&outcome.verdict)
                                        .unwrap_or(Value::Null),
                                },
                            )
                            .await
                            .map_err(|e| e.to_string())?;
                        return Ok(executed.state);
                    }
                }
                None => {
                    self.exec(
                        trip,
                        Command::SkipTask {
                            task_id: task.task_id,
                            reason: "dropped during a modification".into(),
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        Err("the modification left nothing to verify".into())
    }

    /// Ranked alternatives for a component of a ready trip, best first, the
    /// current choice among them (marked): a meal ("d2.dinner") from the
    /// dining agent's candidates for its city, cheapest first; a stay
    /// ("stay.Denver") from the accommodation agent's for that city and
    /// number of nights (cost for all nights), cheapest first; an
    /// attraction ("d2.attraction1") from the activity agent's route for its
    /// city, leaving out those already in the plan; a transport leg
    /// ("d1.leg1") from the transport agent's options for that leg,
    /// cheapest first, leaving out the modes the trip's rules forbid (the
    /// request's "no flights", self-driving mixed with flights or taxis).
    pub async fn alternatives(
        &self,
        trip_id: &str,
        component_id: &str,
    ) -> Result<Vec<Alternative>, ModifyError> {
        let trip = Self::parse_id(trip_id).ok_or(ModifyError::NotFound)?;
        let state = self
            .load(trip)
            .await
            .map_err(|e| ModifyError::Internal(e.to_string()))?;
        if !state.exists() {
            return Err(ModifyError::NotFound);
        }
        let itinerary: Itinerary = state
            .itinerary
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or(ModifyError::NotReady)?;
        let intent = intent_of(&state).ok_or(ModifyError::NotReady)?;
        let catalog = self.catalog();
        let found =
            component_alternatives(&state, &itinerary, catalog.as_ref(), &intent, component_id)
                .map_err(ModifyError::Invalid)?;
        let (current, current_cost) = (found.current, found.current_cost);
        Ok(found
            .options
            .into_iter()
            .map(|c| {
                let is_current = Some(&c.id) == current.as_ref();
                Alternative {
                    cost_delta: if is_current {
                        0.0
                    } else {
                        c.cost - current_cost
                    },
                    current: is_current,
                    id: c.id,
                    name: c.name,
                    cost: c.cost,
                    reason: c.reason,
                }
            })
            .collect())
    }

    /// A dry run of [`Runtime::modify`]: what `changes` would re-plan on
    /// this trip — the components edited in place (e.g. `"d1.leg1"`, and
    /// `"d1.dinner"` when the new leg's times leave no room for it), then
    /// the agent types that would run again (e.g. `"budget"`,
    /// `"verifier"`) — without writing anything. Refuses what `modify`
    /// would refuse, with the same errors, except that the version is not
    /// checked.
    pub async fn preview(
        &self,
        trip_id: &str,
        changes: Vec<Change>,
    ) -> Result<Vec<String>, ModifyError> {
        let trip = Self::parse_id(trip_id).ok_or(ModifyError::NotFound)?;
        let state = self
            .load(trip)
            .await
            .map_err(|e| ModifyError::Internal(e.to_string()))?;
        if !state.exists() {
            return Err(ModifyError::NotFound);
        }
        if !matches!(state.status, TripStatus::Ready | TripStatus::Failed) {
            return Err(ModifyError::NotReady);
        }
        let intent = intent_of(&state).ok_or(ModifyError::NotReady)?;
        let catalog = self.catalog();
        let plan = plan_changes(&state, &intent, catalog.as_ref(), &changes)
            .map_err(ModifyError::Invalid)?;
        Ok(plan.replanned())
    }

    /// Stops the dispatcher, the supervisor and the instances; unfinished
    /// trips resume on the next start (their leases run out first).
    pub async fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        for handle in lock(&self.background).drain(..) {
            handle.abort();
        }
        let mut inner = lock(&self.inner);
        for (_, job) in inner.jobs.drain() {
            job.abort();
        }
        for instance in inner.instances.drain(..) {
            instance.handle.abort();
        }
    }
}

/// The commands that schedule a trip's task graph ([`GRAPH`]), with fresh
/// task ids.
/// An append with a queue write in its transaction.
struct WithQueue<'s, S> {
    store: &'s S,
    queue: QueueWrite<'s>,
    now: DateTime<Utc>,
}

impl<S: RuntimeStore> Append for WithQueue<'_, S> {
    fn append<'a>(
        &'a self,
        trip_id: TripId,
        expected_version: u64,
        events: &'a [StoredEvent],
        after: &'a TripState,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send + 'a {
        self.store.append_with_queue(
            trip_id,
            expected_version,
            events,
            after,
            self.queue,
            self.now,
        )
    }
}

/// The queue's rows for a trip's `ScheduleTask` commands.
fn new_tasks(trip: TripId, commands: &[Command]) -> Vec<NewTask> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::ScheduleTask {
                task_id,
                agent_type,
                priority,
                depends_on,
            } => Some(NewTask {
                task_id: *task_id,
                trip_id: trip,
                agent_type: agent_type.clone(),
                priority: *priority,
                depends_on: depends_on.clone(),
            }),
            _ => None,
        })
        .collect()
}

fn unload(inner: &mut Inner, instance: &str, task: TaskId, now: Instant) {
    if inner
        .inflight
        .get(&task)
        .is_some_and(|(_, i)| i == instance)
    {
        inner.inflight.remove(&task);
    }
    if let Some(i) = inner
        .instances
        .iter_mut()
        .find(|i| i.row.agent_id == instance)
    {
        i.row.current_load = i.row.current_load.saturating_sub(1);
        if i.row.current_load == 0 {
            i.idle_since = now;
        }
    }
}

fn move_load(inner: &mut Inner, from: &str, to: &str, task: TaskId) {
    if let Some(i) = inner.instances.iter_mut().find(|i| i.row.agent_id == from) {
        i.row.current_load = i.row.current_load.saturating_sub(1);
    }
    if let Some(i) = inner.instances.iter_mut().find(|i| i.row.agent_id == to) {
        i.row.current_load += 1;
    }
    if let Some(entry) = inner.inflight.get_mut(&task) {
        entry.1 = to.to_string();
    }
}

/// An instance: answers pings and runs the jobs it is given, each on its
/// own task. A frozen one drops everything (a hung process).
async fn instance_loop<S: RuntimeStore>(
    runtime: Weak<Runtime<S>>,
    agent_id: String,
    mut rx: mpsc::Receiver<InstanceMsg>,
    frozen: Arc<AtomicBool>,
) {
    while let Some(message) = rx.recv().await {
        if frozen.load(Ordering::SeqCst) {
            continue;
        }
        match message {
            InstanceMsg::Ping(answer) => {
                let _ = answer.send(());
            }
            InstanceMsg::Run(jobs) => {
                let Some(rt) = runtime.upgrade() else {
                    return;
                };
                for job in jobs {
                    let task_id = job.task.task_id;
                    let handle = tokio::spawn(rt.clone().run_job(agent_id.clone(), job));
                    // A job that already ended has removed its entry.
                    if !handle.is_finished() {
                        lock(&rt.inner).jobs.insert(task_id, handle.abort_handle());
                    }
                }
            }
        }
    }
}
