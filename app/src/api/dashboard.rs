//! The dashboard's server function: the process's operational state
//! ([`wayfare_engine::ops::Ops`], from the request's context as the
//! runtime is) turned into the page's [`DashboardReport`].
//!
//! The figures are read fresh at each call — a sample of the runtime now,
//! against the kept sample of an hour ago (or the oldest kept; before the
//! first, the process's start) — so a trip planned a moment ago shows at
//! once; the charts are the kept history.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::DashboardReport;

/// The dashboard's figures, charts, alerts and trips needing attention.
#[server(prefix = "/sfn", endpoint = "dashboard")]
pub async fn dashboard() -> Result<DashboardReport, AppError> {
    imp::dashboard().await.map_err(AppError::respond)
}

#[cfg(feature = "ssr")]
mod imp {
    use std::sync::Arc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wayfare_engine::ops::Ops;
    use wayfare_engine::ops::history::{History, Sample, Window};
    use wayfare_engine::runtime::{Runtime, RuntimeMetrics};
    use wayfare_store::Store;

    use crate::error::AppError;
    use crate::model::{
        AgentTypeHealth, AlertLine, DashboardReport, HealthChart, HealthTarget,
        TripNeedingAttention,
    };

    /// What the figures cover at most.
    const COVER: Duration = Duration::from_secs(3600);
    /// Each chart point is the minute before it.
    const POINT_WINDOW: Duration = Duration::from_secs(60);
    /// Points per chart at most.
    const POINTS: usize = 120;
    /// Trips listed as needing attention.
    const ATTENTION: usize = 10;

    fn from_context<T: Clone + Send + Sync + 'static>(what: &str) -> Result<T, AppError> {
        use_context::<T>().ok_or_else(|| {
            tracing::error!("no {what} in the server function context");
            AppError::Internal
        })
    }

    pub async fn dashboard() -> Result<DashboardReport, AppError> {
        let runtime: Arc<Runtime<Store>> = from_context("Runtime")?;
        let store: Store = from_context("Store")?;
        let ops: Ops = from_context("Ops")?;
        let satisfaction = store.satisfaction().await?;
        let now = ops.now();
        let everywhere = runtime.agents_everywhere().await;
        let mut current =
            Sample::from_runtime(now, &runtime.metrics(), &everywhere, runtime.config());
        current.satisfaction = satisfaction.average;
        let cover_from = now - chrono::Duration::from_std(COVER).unwrap_or(chrono::Duration::MAX);
        let (baseline, charts) = ops.with_history(|history| {
            let baseline = history
                .samples()
                .rev()
                .find(|s| s.at <= cover_from)
                .or_else(|| history.samples().next())
                .filter(|s| s.at < now)
                .cloned();
            (baseline, charts(history))
        });
        // Before the first kept sample: everything since the process
        // started (its counters start at zero).
        let baseline = baseline.unwrap_or_else(|| {
            Sample::from_runtime(
                now - chrono::Duration::seconds(1),
                &RuntimeMetrics::default(),
                &[],
                runtime.config(),
            )
        });
        let window = Window {
            start: &baseline,
            end: &current,
        };
        let alerts = ops
            .alerts()
            .active
            .into_iter()
            .map(|a| AlertLine {
                level: a.level.as_str().to_owned(),
                name: a.name,
                subject: a.subject,
                summary: a.summary,
                since_ms: a.since.timestamp_millis(),
            })
            .collect();
        // Another's trip is listed without its link, request or failure:
        // the link is what lets one read a trip (and change it, for a
        // trip made over the API), and every visitor sees this page.
        let mut attention = Vec::new();
        for t in ops.attention(ATTENTION) {
            let yours = crate::api::server::owns(&store, &t.trip_id).await?;
            attention.push(if yours {
                TripNeedingAttention {
                    trip_id: t.trip_id,
                    reason: t.reason,
                    since_ms: t.since.timestamp_millis(),
                    query: t.query,
                    detail: t.detail,
                    yours,
                }
            } else {
                TripNeedingAttention {
                    trip_id: String::new(),
                    reason: t.reason,
                    since_ms: t.since.timestamp_millis(),
                    query: String::new(),
                    detail: String::new(),
                    yours,
                }
            });
        }
        Ok(DashboardReport {
            sampled_at_ms: now.timestamp_millis(),
            covered_minutes: (window.seconds() / 60.0).ceil().clamp(0.0, 60.0) as u32,
            trips_submitted: current.trips_submitted,
            trips_planning: current.trips_in_flight + current.trips_waiting,
            targets: targets(&window, satisfaction.ratings),
            agents: agents(&window),
            charts,
            alerts,
            attention,
        })
    }

    fn seconds(ms: f64) -> String {
        if ms < 1000.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{:.1} s", ms / 1000.0)
        }
    }

    fn percent(share: f64) -> String {
        let p = share * 100.0;
        if p > 99.0 && p < 100.0 {
            format!("{p:.1}%")
        } else {
            format!("{p:.0}%")
        }
    }

    /// The design document's five targets.
    fn targets(w: &Window<'_>, ratings: u64) -> Vec<HealthTarget> {
        let plans = w.plans_finished();
        let p50 = w.plan_latency_quantile_ms(0.5);
        let p95 = w.plan_latency_quantile_ms(0.95);
        let (ok, failed) = {
            let (s1, f1) = w.end.calls();
            let (s0, f0) = w.start.calls();
            (s1.saturating_sub(s0), f1.saturating_sub(f0))
        };
        let success = w.success_rate();
        let consistency = w.end.consistency;
        let satisfaction = w.end.satisfaction;
        let cost = (w.end.trips_submitted > 0).then_some(w.end.cost_per_request);
        vec![
            HealthTarget {
                key: "latency".into(),
                label: "Request processing time".into(),
                value: p95.map(|p| p / 1000.0),
                shown: p95.map_or("no plans yet".into(), seconds),
                target: "under 5 s".into(),
                detail: match p50 {
                    Some(p50) => format!(
                        "95th percentile · median {} · {plans} {}",
                        seconds(p50),
                        if plans == 1 { "plan" } else { "plans" }
                    ),
                    None => "95th percentile of the plans made".into(),
                },
                on_target: p95.map(|p| p < 5000.0),
            },
            HealthTarget {
                key: "success".into(),
                label: "Agent success rate".into(),
                value: success,
                shown: success.map_or("no calls yet".into(), percent),
                target: "over 95%".into(),
                detail: format!("{ok} succeeded · {failed} failed"),
                on_target: success.map(|s| s > 0.95),
            },
            HealthTarget {
                key: "consistency".into(),
                label: "State consistency score".into(),
                value: consistency,
                shown: consistency.map_or("not audited yet".into(), percent),
                target: "100%".into(),
                detail: "trips whose records agree with their log".into(),
                on_target: consistency.map(|c| c >= 1.0),
            },
            HealthTarget {
                key: "satisfaction".into(),
                label: "User satisfaction".into(),
                value: satisfaction,
                shown: satisfaction.map_or("no ratings yet".into(), |s| format!("{s:.1} / 5")),
                target: "over 4.5 / 5".into(),
                detail: format!(
                    "{ratings} {}",
                    if ratings == 1 {
                        "rated trip"
                    } else {
                        "rated trips"
                    }
                ),
                on_target: satisfaction.map(|s| s > 4.5),
            },
            HealthTarget {
                key: "cost".into(),
                label: "Cost per request".into(),
                value: cost,
                shown: cost.map_or("no requests yet".into(), |c| format!("${c:.3}")),
                target: "under $0.50".into(),
                detail: "nominal agent cost per trip".into(),
                on_target: cost.map(|c| c < 0.5),
            },
        ]
    }

    fn agents(w: &Window<'_>) -> Vec<AgentTypeHealth> {
        let total: u64 = w
            .end
            .agents
            .iter()
            .map(|a| {
                let (s, f) = w.agent_calls(&a.agent_type);
                s + f
            })
            .sum();
        w.end
            .agents
            .iter()
            .map(|a| {
                let (ok, failed) = w.agent_calls(&a.agent_type);
                let calls = ok + failed;
                let cost_before = w.start.agent(&a.agent_type).map_or(0.0, |b| b.cost_total);
                AgentTypeHealth {
                    agent_type: a.agent_type.clone(),
                    instances: a.instances,
                    min_instances: a.min_instances,
                    max_instances: a.max_instances,
                    busy: a.busy,
                    capacity: a.capacity,
                    calls,
                    share_of_calls: if total == 0 {
                        0.0
                    } else {
                        calls as f64 / total as f64
                    },
                    success_rate: w.agent_success_rate(&a.agent_type),
                    avg_ms: w.agent_latency_ms(&a.agent_type),
                    cost: (a.cost_total - cost_before).max(0.0),
                    breaker: a.breaker.clone(),
                }
            })
            .collect()
    }

    /// The charts, from the kept history: a point per step, each the
    /// minute before it.
    fn charts(history: &History) -> Vec<HealthChart> {
        let step = history.len().div_ceil(POINTS).max(1);
        let windows = history.windows(POINT_WINDOW, step);
        let span_minutes = match (windows.first(), windows.last()) {
            (Some(a), Some(b)) => ((b.end.at - a.end.at).num_seconds() / 60).max(0) as u32,
            _ => 0,
        };
        let chart = |key: &str,
                     title: &str,
                     target: Option<f64>,
                     value: &dyn Fn(&Window<'_>) -> Option<f64>,
                     show: &dyn Fn(f64) -> String| {
            let points: Vec<Option<f64>> = windows.iter().map(value).collect();
            let latest = points
                .last()
                .copied()
                .flatten()
                .map_or("—".to_owned(), show);
            HealthChart {
                key: key.to_owned(),
                title: title.to_owned(),
                points,
                target,
                latest,
                span_minutes,
            }
        };
        vec![
            chart(
                "trips",
                "Trips submitted per minute",
                None,
                &|w| Some(w.submitted_per_minute()),
                &|v| format!("{v:.1} / min"),
            ),
            chart(
                "latency",
                "Planning time, 95th percentile (s)",
                Some(5.0),
                &|w| w.plan_latency_quantile_ms(0.95).map(|ms| ms / 1000.0),
                &|v| format!("{v:.1} s"),
            ),
            chart(
                "success",
                "Agent success rate (%)",
                Some(95.0),
                &|w| w.success_rate().map(|s| s * 100.0),
                &|v| format!("{v:.0}%"),
            ),
            chart(
                "queue",
                "Agent tasks queued",
                None,
                &|w| Some(w.end.queue_depth as f64),
                &|v| format!("{v:.0}"),
            ),
        ]
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn durations_read_in_their_unit() {
            assert_eq!(seconds(420.0), "420 ms");
            assert_eq!(seconds(1250.0), "1.2 s");
            assert_eq!(percent(0.995), "99.5%");
            assert_eq!(percent(1.0), "100%");
        }
    }
}
