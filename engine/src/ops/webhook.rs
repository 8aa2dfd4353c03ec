//! The optional alert webhook: every fire and resolve is POSTed as JSON
//! ([`AlertEvent`]) to one URL.
//!
//! Delivery runs on a task of its own behind a bounded queue, so a slow or
//! failing receiver never holds up evaluation: a full queue drops the
//! event, a failed POST is logged; both are counted
//! (`wayfare_alert_webhook_total{outcome}`). No retries: the next change
//! is sent anyway, and `GET /api/alerts` has the whole picture.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use super::alerts::AlertEvent;

/// Events waiting for delivery; beyond it they are dropped.
const QUEUE: usize = 256;

/// Deliveries by outcome.
#[derive(Debug, Default)]
pub struct WebhookCounters {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

impl WebhookCounters {
    /// `(outcome, count)` for every outcome.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        [
            ("delivered", self.delivered.load(Ordering::Relaxed)),
            ("failed", self.failed.load(Ordering::Relaxed)),
            ("dropped", self.dropped.load(Ordering::Relaxed)),
        ]
    }
}

/// A handle on the delivery task.
#[derive(Debug, Clone)]
pub struct Webhook {
    tx: mpsc::Sender<AlertEvent>,
    counters: Arc<WebhookCounters>,
}

impl Webhook {
    /// Starts delivering to `url`, each POST bounded by `timeout`. Needs a
    /// tokio runtime; `None` (logged) without one or when the HTTP client
    /// cannot be built.
    pub fn start(url: String, timeout: Duration) -> Option<Self> {
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => {
                tracing::error!("alert webhook: no async runtime to deliver on; disabled");
                return None;
            }
        };
        let client = match reqwest::Client::builder().timeout(timeout).build() {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(error = %err, "alert webhook: cannot build the HTTP client; disabled");
                return None;
            }
        };
        let (tx, mut rx) = mpsc::channel::<AlertEvent>(QUEUE);
        let counters = Arc::new(WebhookCounters::default());
        let task_counters = counters.clone();
        handle.spawn(async move {
            while let Some(event) = rx.recv().await {
                let sent = client.post(&url).json(&event).send().await;
                let outcome = match sent {
                    Ok(response) if response.status().is_success() => Ok(()),
                    Ok(response) => Err(format!("answered {}", response.status())),
                    Err(err) => Err(err.to_string()),
                };
                match outcome {
                    Ok(()) => {
                        task_counters.delivered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => {
                        task_counters.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            alert.name = %event.alert.name,
                            error = %error,
                            "alert webhook: delivery failed"
                        );
                    }
                }
            }
        });
        Some(Self { tx, counters })
    }

    /// Queues `event` for delivery; never waits.
    pub fn send(&self, event: AlertEvent) {
        if self.tx.try_send(event).is_err() {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "alert webhook: the delivery queue is full; an alert change was dropped"
            );
        }
    }

    pub fn counters(&self) -> &WebhookCounters {
        &self.counters
    }
}
