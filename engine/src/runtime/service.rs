//! [`Runtime`]: the façade the server and the pages drive. It holds the
//! runtime's parts, each owning its state behind its own small API and
//! lock, and its methods are the workflows that go through them:
//!
//! | part | owns |
//! | --- | --- |
//! | [`Stats`](super::stats) | counters and histograms for the metrics |
//! | [`Caches`](super::cache) | request-, agent- and data-level caches |
//! | [`Journal`](super::journal) | the trip log, per-trip writer locks, the state cache, fan-out on the hub's topics, cancel signals |
//! | [`Registry`](super::registry) | agent instances, their health, scaling |
//! | [`Admission`](super::admission) | planning slots, the waiting line, back-pressure |
//! | [`Dispatch`](super::dispatch) | claimed tasks waiting for an instance, tasks in flight, failover notes |
//! | [`Execution`](super::execution) | one guarded agent attempt, the retry and failover decision |
//!
//! The workflows, by file: `submit` (submission, admission, resume),
//! `dispatcher` (the dispatcher, supervisor and instance loops), `tasks`
//! (running a task and recording its outcome), `modification` (modify,
//! replan, rollback), `components` (alternatives, preview), `ask`
//! (questions and answers), `intervene` (an operator's interventions),
//! `processes` (other processes' appends to the shared log), `views`
//! (what the API and the pages read: statuses, trips, events, agents,
//! metrics, the consistency report), `exchange`
//! (the activity agent's route requests to the location agent over the
//! hub), `reports` (the instances' durable status reports to the registry).
//!
//! Parts never call the façade (the registry starts instance loops through
//! a [`Spawner`] it is given) and depend only on parts listed above them.
//! No part's lock is held across an `.await` or while another part is
//! called, except where a part's doc says otherwise (registry → stats).
//!
//! Durable execution: the dispatcher claims a ready task from the
//! [`TaskQueue`](crate::state::TaskQueue) (priority first, dependencies
//! done) and hands it to an instance. The instance runs the agent (through
//! the circuit breaker, the fault injector, a timeout and panic isolation);
//! its result is stored with `TaskQueue::complete` — which is what makes
//! dependents claimable — in the same transaction as the `TaskCompleted`
//! event. A finished agent therefore never runs again, even after a crash
//! (resume copies the queue's result into the log). Leases are renewed by
//! heartbeats while the instance is healthy; a dead instance's tasks are
//! claimed again when their lease runs out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use wayfare_domain::trip::TripStatusView;

use super::admission::Admission;
use super::audit::{Auditor, QUIET_FOR};
use super::cache::Caches;
use super::config::RuntimeConfig;
use super::dispatch::Dispatch;
use super::execution::{CatalogAt, Execution};
use super::journal::Journal;
use super::lock;
use super::registry::Registry;
use super::registry::shared::ProcessStamp;
use super::stats::{Count, Stats};
use super::wire::status_view;
use super::{ModifyError, QueueWrite, RuntimeError, RuntimeStore, SubmitError, Submitted};
use crate::catalog::Catalog;
use crate::clock::SharedClock;
use crate::hub::{Hub, HubConfig};
use crate::llm::LlmClient;
use crate::orchestrator::Planner;
use crate::state::{
    Command, ExecuteError, Lease, Liveness, Rejection, TaskId, TaskStatus, TripId, TripLog,
    TripState, TripStatus,
};

mod ask;
mod components;
mod dispatcher;
mod exchange;
mod intervene;
mod modification;
mod processes;
mod reports;
mod submit;
mod tasks;
mod views;

pub use ask::read_with_answers;
use dispatcher::spawner;
pub use exchange::RouteExchanges;
pub use intervene::InterventionError;
pub use reports::InstanceReports;

/// The orchestration runtime service. Share it as `Arc<Runtime<S>>`.
pub struct Runtime<S> {
    store: S,
    /// The trip log, its writer locks, state cache, fan-out and cancels.
    journal: Journal<S>,
    config: RuntimeConfig,
    /// The catalog, its generation and the planner over it; swapped whole
    /// by [`Runtime::replace_catalog`] after an import.
    catalog: RwLock<CatalogSlot>,
    clock: SharedClock,
    node_id: String,
    /// This process as the shared registry names it (node id, host, pid).
    process: ProcessStamp,
    /// Agent attempts: breakers, faults, timeouts, retry decisions.
    execution: Execution,
    caches: Arc<Caches>,
    /// Counters for the metrics (`runtime::stats`).
    stats: Arc<Stats>,
    /// Reads what the rules left open, when configured (`config.llm`).
    llm: Option<Arc<LlmClient>>,
    /// Planning slots and the waiting line.
    admission: Admission,
    /// The agent instances, their health and scaling.
    registry: Registry,
    /// Claimed tasks on their way to instances, and those in flight.
    dispatch: Dispatch,
    /// Wakes the dispatcher: work may be claimable.
    wake: Notify,
    /// Set at shutdown: loops end, no waiting trip is scheduled.
    stopped: AtomicBool,
    stop: watch::Sender<bool>,
    /// The dispatcher, supervisor, liveness and audit loops.
    background: Mutex<Vec<JoinHandle<()>>>,
    /// The state consistency auditor (`runtime::audit`).
    auditor: Auditor<S>,
    /// Route requests of the activity agent to the location agent.
    routes: exchange::RouteCounts,
    /// The instances' status reports the registry took.
    reports: reports::ReportCounts,
    me: Weak<Runtime<S>>,
}

/// The catalog in use and the planner over it.
struct CatalogSlot {
    at: CatalogAt,
    planner: Arc<Planner>,
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
        let planner = Arc::new(planner_for(&config, &clock, catalog.clone()));
        let caches = Arc::new(Caches::new(config.cache.enabled, config.cache.capacity));
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
        let stats = Arc::new(Stats::default());
        let journal = Journal::new(store.clone(), log, hub, clock.clone()).on_ready({
            let caches = caches.clone();
            move |state| caches.keep_ready(state)
        });
        let execution = Execution::new(&config, clock.clone(), caches.clone(), stats.clone());
        let admission = Admission::new(o.max_concurrent_requests, o.queue_capacity);
        let dispatch = Dispatch::new(config.clone());
        let node_id = format!("node-{}", uuid::Uuid::new_v4().simple());
        let runtime = Arc::new_cyclic(|me: &Weak<Self>| Self {
            // A trip another process ended: its running work here stops
            // and its planning slot here is freed.
            journal: journal.on_ended({
                let me = me.clone();
                move |trip| {
                    if let Some(runtime) = me.upgrade() {
                        runtime.journal.raise_cancel(trip);
                        runtime.release(trip);
                    }
                }
            }),
            registry: Registry::new(
                config.clone(),
                stats.clone(),
                clock.clone(),
                spawner(me.clone()),
            ),
            auditor,
            store,
            catalog: RwLock::new(CatalogSlot {
                at: CatalogAt {
                    catalog,
                    generation: 0,
                },
                planner,
            }),
            clock,
            node_id: node_id.clone(),
            process: ProcessStamp::this_process(&node_id),
            execution,
            caches,
            stats,
            llm,
            admission,
            dispatch,
            wake: Notify::new(),
            stopped: AtomicBool::new(false),
            stop,
            background: Mutex::new(Vec::new()),
            routes: exchange::RouteCounts::default(),
            reports: reports::ReportCounts::default(),
            me: me.clone(),
            config,
        });
        runtime.execution.ask_routes_with(runtime.route_asker());
        if let Err(e) = runtime.journal.hub().recover().await {
            tracing::warn!(error = %e, "could not replay the hub's durable messages");
        }
        for agent_type in runtime.config.orchestrator.local_agents.types() {
            let min = runtime.config.agent(agent_type).min_instances.max(1);
            for _ in 0..min {
                runtime.registry.spawn(agent_type);
            }
        }
        // Several processes starting together on one database take turns
        // here: each finds what the one before it released and resumed.
        let startup = runtime
            .store
            .begin_startup()
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        let resumed = runtime.recover_and_resume().await;
        runtime.store.end_startup(startup).await;
        resumed?;
        let dispatcher = tokio::spawn(runtime.me().dispatcher());
        let supervisor = tokio::spawn(runtime.me().supervisor());
        let liveness = tokio::spawn(runtime.me().liveness());
        let stamps = tokio::spawn(runtime.me().stamp_instances());
        lock(&runtime.background).extend([dispatcher, supervisor, liveness, stamps]);
        if runtime.config.orchestrator.audit_interval_ms > 0 {
            let auditor = tokio::spawn(runtime.me().audit_loop());
            lock(&runtime.background).push(auditor);
        }
        Ok(runtime)
    }

    /// Start-up recovery (under the store's start-up lock): releases the
    /// leases of a process that is gone and resumes every unfinished trip.
    async fn recover_and_resume(&self) -> Result<(), RuntimeError> {
        let runtime = self;
        // A predecessor killed mid-planning left its tasks leased: free
        // them now (SQLite: all of them; PostgreSQL: those of processes
        // that stopped saying they are alive) rather than in a lease's 30 s.
        match runtime.store.recover_leases(runtime.alive_now()).await {
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
        Ok(())
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

    /// This process's lease, from `now`, on the tasks it claims or holds.
    fn lease_from(&self, now: DateTime<Utc>) -> Lease<'_> {
        Lease {
            holder: &self.node_id,
            now,
            length: self.lease(),
        }
    }

    /// This process's word, now, that it is alive (see `node_timeout`).
    fn alive_now(&self) -> Liveness<'_> {
        Liveness {
            node_id: &self.node_id,
            now: self.clock.now(),
            silent_for: self.node_timeout(),
        }
    }

    fn tick(&self) -> Duration {
        Duration::from_millis(self.config.orchestrator.heartbeat_ms.max(1))
    }

    /// How long a process sharing the store may be silent before it counts
    /// as gone: `node_timeout_ms`, and at least three heartbeats.
    fn node_timeout(&self) -> Duration {
        Duration::from_millis(self.config.orchestrator.node_timeout_ms).max(self.tick() * 3)
    }

    /// The language-model client, when `config.llm` configured one (for
    /// its metrics).
    pub fn llm(&self) -> Option<&Arc<LlmClient>> {
        self.llm.as_ref()
    }

    // ----- reading -----

    fn parse_id(trip_id: &str) -> Option<TripId> {
        trip_id.parse().ok()
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
        {
            let mut slot = self.catalog.write().unwrap_or_else(PoisonError::into_inner);
            let generation = slot.at.generation + 1;
            *slot = CatalogSlot {
                at: CatalogAt {
                    catalog,
                    generation,
                },
                planner,
            };
        }
        self.caches.invalidate_all();
    }

    /// The catalog agents plan with.
    pub fn catalog(&self) -> Arc<dyn Catalog> {
        self.catalog_at().catalog
    }

    /// The catalog agents plan with, and its generation (what the agent
    /// cache's keys name it by).
    pub(super) fn catalog_at(&self) -> CatalogAt {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .at
            .clone()
    }

    /// The planner over the current catalog (the same one `wayfare plan` uses).
    pub fn planner(&self) -> Arc<Planner> {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .planner
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
        if slot.planner.today() != Some(today) {
            slot.planner = Arc::new(planner_for(
                &self.config,
                &self.clock,
                slot.at.catalog.clone(),
            ));
        }
        slot.planner.clone()
    }

    // ----- cancel -----

    /// Cancels a trip (idempotent): in-flight tasks stop, queued ones are
    /// taken off the queue.
    pub async fn cancel(&self, trip_id: &str) -> Result<TripStatusView, RuntimeError> {
        let trip =
            Self::parse_id(trip_id).ok_or_else(|| RuntimeError::NotFound(trip_id.to_string()))?;
        let state = self.journal.load(trip).await?;
        if !state.exists() {
            return Err(RuntimeError::NotFound(trip_id.to_string()));
        }
        let executed = self
            .journal
            .exec(trip, Command::Cancel)
            .await
            .map_err(|e| RuntimeError::Internal(e.to_string()))?;
        if !executed.events.is_empty() {
            self.stats.count(Count::Cancelled);
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
        let state = self.journal.load_fresh(trip).await?;
        if state.exists() && state.status == TripStatus::Planning {
            self.cancel(trip_id).await?;
        }
        // No command on the trip runs in this process while it goes; one
        // decided later finds no trip and is refused.
        let writer = self.journal.writer(trip);
        let deleted = {
            let _writer = writer.lock().await;
            let deleted = self
                .store
                .delete_trip(trip)
                .await
                .map_err(|e| RuntimeError::Store(e.to_string()))?;
            self.journal.forget(trip);
            self.admission.forget(trip);
            let tasks: Vec<TaskId> = state.tasks.iter().map(|t| t.task_id).collect();
            self.dispatch.forget(trip, &tasks);
            deleted
        };
        // Frees its planning slot if it held one (the cancel did already
        // when it was planning).
        self.release(trip);
        self.journal.forget_writer(trip);
        Ok(deleted)
    }

    /// Stops the dispatcher, the supervisor and the instances; unfinished
    /// trips resume on the next start (their leases run out first).
    pub async fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.journal.close();
        let _ = self.stop.send(true);
        for handle in lock(&self.background).drain(..) {
            handle.abort();
        }
        self.dispatch.abort_all();
        self.registry.shutdown();
        // A clean stop is no failure to show: its rows go (a killed
        // process's stay, shown offline).
        if let Err(e) = self.store.unstamp(&self.node_id).await {
            tracing::warn!(error = %e, "could not remove this process's instances from the shared registry");
        }
    }
}
