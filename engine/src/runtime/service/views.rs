//! What the API and the pages read of the runtime: a trip's status, its
//! view and events, the agents, the metrics and the consistency report.

use std::sync::Arc;
use std::time::Duration;

use wayfare_domain::trip::{AgentInfo, TripStatusView, TripView, WireEvent};

use super::super::audit::ConsistencyReport;
use super::super::registry::shared;
use super::super::traffic::{EventStream, Traffic};
use super::super::wire::{status_view, trip_view};
use super::super::{RuntimeError, RuntimeMetrics, RuntimeStore};
use super::Runtime;
use crate::hub::Hub;
use crate::state::{AgentType, TaskStatus, TripId, TripStatus};

impl<S: RuntimeStore> Runtime<S> {
    /// The trip's status and tasks (`None`: no such trip).
    pub async fn status(&self, trip_id: &str) -> Result<Option<TripStatusView>, RuntimeError> {
        let Some(trip) = Self::parse_id(trip_id) else {
            return Ok(None);
        };
        let state = self.journal.load(trip).await?;
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
        let state = self.journal.load(trip).await?;
        Ok(state.exists().then(|| trip_view(&state)))
    }

    /// Past events after `after_seq`, then live ones (subscribed before the
    /// past ones were loaded: dedup by `seq`). `None`: no such trip.
    pub async fn events(
        &self,
        trip_id: &str,
        after_seq: u64,
    ) -> Result<Option<(Vec<WireEvent>, EventStream)>, RuntimeError> {
        let Some(trip) = Self::parse_id(trip_id) else {
            return Ok(None);
        };
        self.journal.events(trip, after_seq).await
    }

    /// Every planning event of every trip (the hub's global topic).
    pub fn subscribe_all(&self) -> EventStream {
        self.journal.subscribe_all()
    }

    /// The message hub and what it carries ([`Traffic`]): planning events
    /// on its topics `trips` and `trip.<id>` (`status_update`), tasks to
    /// instances' mailboxes (`task_request`), health checks.
    pub fn hub(&self) -> &Hub<S, Traffic> {
        self.journal.hub()
    }

    /// Every agent instance's registry row.
    pub fn agents(&self) -> Vec<AgentInfo> {
        let breakers = self.execution.breakers().snapshot();
        self.registry
            .rows()
            .into_iter()
            .map(|row| AgentInfo {
                status: row.status().as_str().to_string(),
                breaker: breakers
                    .get(row.agent_type.as_str())
                    .map_or("closed", |b| b.state.as_str())
                    .to_string(),
                agent_id: row.agent_id,
                agent_type: row.agent_type.as_str().to_owned(),
                capabilities: row.capabilities,
                current_load: row.current_load,
                max_capacity: row.max_capacity,
                response_time_avg_ms: row.response_time_avg_ms,
                cost_per_request: row.cost_per_request,
                successes: row.successes,
                failures: row.failures,
                process: Some(self.process.node_id.clone()),
                host: Some(self.process.host.clone()),
                pid: Some(self.process.pid),
                heartbeat_age_ms: Some(0),
            })
            .collect()
    }

    /// Every instance of every process sharing the store (`/api/agents`,
    /// the agents page): this process's as they are now, the others' as
    /// they last stamped them, `offline` when their process has been
    /// silent past the node timeout (its leases are released then too).
    /// When the shared rows cannot be read, this process's alone.
    pub async fn agents_everywhere(&self) -> Vec<AgentInfo> {
        let local = self.agents();
        match self.store.stamped_instances(self.clock.now()).await {
            Ok(stamped) => shared::merge(&self.process, local, stamped, self.node_timeout()),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the shared agent registry");
                local
            }
        }
    }

    /// Real agent runs per type (cache hits and resumed results excluded).
    pub fn invocations(&self, agent_type: AgentType) -> u64 {
        self.stats.invocations(agent_type)
    }

    pub fn metrics(&self) -> RuntimeMetrics {
        let breakers = self.execution.breakers().snapshot();
        let forecasts = self.registry.forecasts();
        let llm_cost = self.llm.as_ref().map_or(0.0, |l| l.metrics().cost_usd);
        let mut metrics = self.stats.metrics();
        for agent_type in AgentType::ALL {
            let Some(a) = metrics.agents.get_mut(agent_type.as_str()) else {
                continue;
            };
            a.instances = self.registry.online(agent_type);
            a.breaker = breakers
                .get(agent_type.as_str())
                .map_or("closed", |b| b.state.as_str())
                .to_string();
            if let Some(f) = forecasts.get(&agent_type) {
                a.arrival_rate = f.arrival_rate;
                a.forecast_rate = f.forecast_rate;
                a.forecast_instances = f.instances;
            }
        }
        let (running, waiting) = self.admission.counts();
        metrics.trips_in_flight = running as u64;
        metrics.trips_waiting = waiting as u64;
        metrics.queue_depth = self.dispatch.depth() as u64;
        // What a request cost: its agents' nominal cost and the tokens the
        // language model read it with.
        let cost: f64 = metrics.agents.values().map(|a| a.cost_total).sum::<f64>() + llm_cost;
        metrics.cost_per_request = if metrics.trips_submitted == 0 {
            0.0
        } else {
            cost / metrics.trips_submitted as f64
        };
        metrics.llm_cost_total = llm_cost;
        metrics.cache = self.caches.metrics();
        metrics.consistency = self.auditor.metrics();
        metrics
    }

    /// Runs a consistency audit pass now (the background task runs one
    /// every `audit_interval_ms`): the trips changed since the last pass
    /// and the next slice of the sweep, each under its writer lock,
    /// disagreements repaired from the log. See [`super::audit`].
    pub async fn audit_now(&self) -> ConsistencyReport {
        let lock_of = |trip: TripId| Some(self.journal.writer(trip));
        self.auditor.pass(true, &lock_of).await
    }

    /// The last consistency audit's report.
    pub fn consistency_report(&self) -> ConsistencyReport {
        self.auditor.last_report()
    }

    /// Audits every `audit_interval_ms` until the runtime stops.
    pub(super) async fn audit_loop(self: Arc<Self>) {
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
}
