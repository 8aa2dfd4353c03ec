//! Operating Wayfare: the last hour of the runtime's figures
//! ([`history`]), the alert rules evaluated on them ([`alerts`]), the
//! optional alert webhook ([`webhook`]) and the trips that need a person's
//! attention — what the `/dashboard` page, `GET /api/alerts` and the
//! `wayfare_alerts_firing` series read.
//!
//! [`Ops`] is a cheap handle kept by the server process. Something calls
//! [`Ops::observe`] every [`OpsConfig::sample_every`] (the server's sampler
//! task; tests call it by hand after moving a manual clock): it samples the
//! runtime, keeps the sample and evaluates the rules. The runtime knows
//! nothing of it.

pub mod alerts;
pub mod history;
pub mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wayfare_domain::trip::WireEvent;

use self::alerts::{AlertEngine, AlertEvent, AlertRules, AlertStatus, AlertsView, Level};
use self::history::{History, Ring, Sample};
use self::webhook::{Webhook, WebhookCounters};
use crate::clock::SharedClock;
use wayfare_domain::trip::AgentInfo;

use crate::runtime::{Runtime, RuntimeStore};

/// How the figures are kept and the alerts evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct OpsConfig {
    /// Sample and evaluate this often.
    pub sample_every: Duration,
    /// Samples kept (720 × 5 s: the last hour).
    pub history_len: usize,
    pub rules: AlertRules,
    /// A trip planning for longer than this needs attention.
    pub stuck_after: Duration,
    /// POST every fire and resolve here (JSON), when set.
    pub webhook_url: Option<String>,
    /// Each POST's bound.
    pub webhook_timeout: Duration,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            sample_every: Duration::from_secs(5),
            history_len: 720,
            rules: AlertRules::default(),
            stuck_after: Duration::from_secs(60),
            webhook_url: None,
            webhook_timeout: Duration::from_secs(5),
        }
    }
}

/// A trip a person may want to look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripAttention {
    pub trip_id: String,
    /// failed | slow
    pub reason: String,
    /// When planning started (slow) or the trip failed.
    pub since: DateTime<Utc>,
    /// The request as written (empty when its start was not seen).
    pub query: String,
    /// Why it failed; empty for a slow one.
    pub detail: String,
}

/// Planning trips tracked at most (the queue's capacity and the slots are
/// far below); beyond it the newest are not tracked.
const TRACKED_PLANNING: usize = 10_000;
/// Failed trips remembered.
const FAILED_KEPT: usize = 20;

/// Trips seen on the runtime's event stream in this process.
#[derive(Debug)]
struct Attention {
    planning: HashMap<String, (DateTime<Utc>, String)>,
    failed: Ring<TripAttention>,
}

struct State {
    history: History,
    alerts: AlertEngine,
}

struct Inner {
    config: OpsConfig,
    clock: SharedClock,
    state: Mutex<State>,
    attention: Mutex<Attention>,
    webhook: Option<Webhook>,
}

/// The process's operational state; clones share it.
#[derive(Clone)]
pub struct Ops {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Ops {
    /// Empty history, nothing firing. With a webhook URL this starts its
    /// delivery task (inside a tokio runtime).
    pub fn new(config: OpsConfig, clock: SharedClock) -> Self {
        let webhook = config
            .webhook_url
            .clone()
            .and_then(|url| Webhook::start(url, config.webhook_timeout));
        let state = State {
            history: History::new(config.history_len),
            alerts: AlertEngine::new(config.rules.resolve_after),
        };
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                attention: Mutex::new(Attention {
                    planning: HashMap::new(),
                    failed: Ring::new(FAILED_KEPT),
                }),
                webhook,
                clock,
                config,
            }),
        }
    }

    pub fn config(&self) -> &OpsConfig {
        &self.inner.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Samples `runtime` now (with the ratings' average, which lives in
    /// the store), keeps the sample and evaluates the rules; the alerts
    /// that fired or resolved.
    pub fn observe<S: RuntimeStore>(
        &self,
        runtime: &Runtime<S>,
        satisfaction: Option<f64>,
    ) -> Vec<AlertEvent> {
        self.observe_with(runtime, &runtime.agents(), satisfaction)
    }

    /// [`Ops::observe`] with the agent instances to count (the sampler
    /// passes every process's, from the shared registry).
    pub fn observe_with<S: RuntimeStore>(
        &self,
        runtime: &Runtime<S>,
        agents: &[AgentInfo],
        satisfaction: Option<f64>,
    ) -> Vec<AlertEvent> {
        let mut sample =
            Sample::from_runtime(self.now(), &runtime.metrics(), agents, runtime.config());
        sample.satisfaction = satisfaction;
        self.record(sample)
    }

    /// Keeps `sample` and evaluates the rules on the history; logs each
    /// change and hands it to the webhook.
    pub fn record(&self, sample: Sample) -> Vec<AlertEvent> {
        let now = sample.at;
        let events = {
            let mut state = lock(&self.inner.state);
            if !state.history.push(sample) {
                return Vec::new();
            }
            let conditions = alerts::conditions(&state.history, &self.inner.config.rules);
            state.alerts.step(now, conditions)
        };
        for event in &events {
            log(event);
            if let Some(webhook) = &self.inner.webhook {
                webhook.send(event.clone());
            }
        }
        events
    }

    /// Reads the history.
    pub fn with_history<R>(&self, read: impl FnOnce(&History) -> R) -> R {
        read(&lock(&self.inner.state).history)
    }

    /// Firing now and resolved of late.
    pub fn alerts(&self) -> AlertsView {
        let state = lock(&self.inner.state);
        AlertsView {
            active: state.alerts.active(),
            resolved: state.alerts.resolved(),
        }
    }

    /// Per rule: its level and how many of its alerts fire.
    pub fn firing_counts(&self) -> Vec<(&'static str, Level, usize)> {
        lock(&self.inner.state).alerts.firing_counts()
    }

    /// The webhook's deliveries, when one is configured.
    pub fn webhook_counters(&self) -> Option<&WebhookCounters> {
        self.inner.webhook.as_ref().map(Webhook::counters)
    }

    /// Follows one event of the runtime's global stream: which trips plan,
    /// since when, and which failed.
    pub fn track(&self, event: &WireEvent) {
        let mut a = lock(&self.inner.attention);
        match event.r#type.as_str() {
            "trip_planning_started" if a.planning.len() < TRACKED_PLANNING => {
                let query = event.data["query"].as_str().unwrap_or_default().to_owned();
                a.planning
                    .entry(event.trip_id.clone())
                    .or_insert((event.at, query));
            }
            "trip_plan_ready" | "trip_cancelled" | "needs_input" => {
                a.planning.remove(&event.trip_id);
                // Planned after all (a retry by hand): no longer failed.
                a.failed.retain(|t| t.trip_id != event.trip_id);
            }
            "trip_plan_failed" => {
                let query = a
                    .planning
                    .remove(&event.trip_id)
                    .map(|(_, query)| query)
                    .unwrap_or_default();
                let reason = event.data["reason"].as_str().unwrap_or_default().to_owned();
                // Failed again after a retry: one line, the latest (with
                // the request the first failure knew, when this one does
                // not).
                let earlier = a
                    .failed
                    .iter()
                    .find(|t| t.trip_id == event.trip_id)
                    .map(|t| t.query.clone());
                a.failed.retain(|t| t.trip_id != event.trip_id);
                let query = if query.is_empty() {
                    earlier.unwrap_or_default()
                } else {
                    query
                };
                a.failed.push(TripAttention {
                    trip_id: event.trip_id.clone(),
                    reason: "failed".to_owned(),
                    since: event.at,
                    query,
                    detail: reason,
                });
            }
            _ => {}
        }
    }

    /// Trips planning for longer than `stuck_after` (longest first), then
    /// the latest failed ones (newest first); at most `limit`.
    pub fn attention(&self, limit: usize) -> Vec<TripAttention> {
        let now = self.now();
        let stuck_after = chrono::Duration::from_std(self.inner.config.stuck_after)
            .unwrap_or(chrono::Duration::MAX);
        let a = lock(&self.inner.attention);
        let mut slow: Vec<TripAttention> = a
            .planning
            .iter()
            .filter(|(_, (since, _))| now - *since > stuck_after)
            .map(|(id, (since, query))| TripAttention {
                trip_id: id.clone(),
                reason: "slow".to_owned(),
                since: *since,
                query: query.clone(),
                detail: String::new(),
            })
            .collect();
        slow.sort_by_key(|t| t.since);
        slow.into_iter()
            .chain(a.failed.iter().rev().cloned())
            .take(limit)
            .collect()
    }
}

/// Each change once, at its level (a resolve at info).
fn log(event: &AlertEvent) {
    let a = &event.alert;
    let subject = a.subject.as_deref().unwrap_or("-");
    match (event.status, a.level) {
        (AlertStatus::Firing, Level::Critical) => tracing::error!(
            alert.name = %a.name, alert.level = "critical", alert.subject = %subject,
            "alert firing: {}", a.summary
        ),
        (AlertStatus::Firing, Level::Warning) => tracing::warn!(
            alert.name = %a.name, alert.level = "warning", alert.subject = %subject,
            "alert firing: {}", a.summary
        ),
        (AlertStatus::Firing, Level::Info) => tracing::info!(
            alert.name = %a.name, alert.level = "info", alert.subject = %subject,
            "alert firing: {}", a.summary
        ),
        (AlertStatus::Resolved, level) => tracing::info!(
            alert.name = %a.name, alert.level = level.as_str(), alert.subject = %subject,
            "alert resolved: {}", a.summary
        ),
    }
}

/// Samples `runtime` every [`OpsConfig::sample_every`] until the task is
/// aborted; `satisfaction` gives each sample's ratings' average (read
/// from the store by the caller).
pub async fn run_sampler<S, F, Fut>(ops: Ops, runtime: Arc<Runtime<S>>, mut satisfaction: F)
where
    S: RuntimeStore,
    F: FnMut() -> Fut + Send,
    Fut: std::future::Future<Output = Option<f64>> + Send,
{
    let mut ticker = tokio::time::interval(ops.config().sample_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let satisfaction = satisfaction().await;
        let agents = runtime.agents_everywhere().await;
        ops.observe_with(&runtime, &agents, satisfaction);
    }
}

/// Follows the runtime's global event stream into [`Ops::track`] until the
/// runtime stops. A reader that lags skips what it missed (a trip it did
/// not see start is not listed as slow).
pub async fn run_tracker<S: RuntimeStore>(ops: Ops, runtime: Arc<Runtime<S>>) {
    let mut events = runtime.subscribe_all();
    drop(runtime);
    loop {
        match events.recv().await {
            Ok(event) => ops.track(&event),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "ops tracker lagged behind the event stream");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn event(kind: &str, trip: &str, seq: u64, data: serde_json::Value) -> WireEvent {
        WireEvent {
            r#type: kind.into(),
            trip_id: trip.into(),
            seq,
            at: Utc::now(),
            data,
        }
    }

    /// A trip tried again by hand is one line whatever the times it
    /// fails, keeps the request its start told, and leaves the list once
    /// it is planned.
    #[test]
    fn a_trip_failing_again_is_one_line_and_leaves_once_planned() {
        let ops = Ops::new(OpsConfig::default(), Arc::new(ManualClock::at_epoch()));
        let failed = |seq| {
            event(
                "trip_plan_failed",
                "t1",
                seq,
                serde_json::json!({"reason": "no flight"}),
            )
        };
        ops.track(&event(
            "trip_planning_started",
            "t1",
            1,
            serde_json::json!({"query": "3 days to Denver"}),
        ));
        ops.track(&failed(2));
        ops.track(&failed(9));
        let listed = ops.attention(10);
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(
            (listed[0].query.as_str(), listed[0].detail.as_str()),
            ("3 days to Denver", "no flight")
        );
        ops.track(&event("trip_plan_ready", "t1", 20, serde_json::Value::Null));
        assert!(ops.attention(10).is_empty());
    }
}
