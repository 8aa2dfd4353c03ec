//! The runtime's families, read from its own snapshot at scrape time:
//! trips, modifications, the queue, agents (calls, breakers, cost,
//! latency, predictive scaling), caches, the consistency score, the load
//! per agent type, the message hub's traffic and, when configured, the
//! language model.

use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use wayfare_domain::trip::AgentInfo;
use wayfare_engine::graph::AgentType;
use wayfare_engine::hub::{MessageType, Route};
use wayfare_engine::llm::LlmMetrics;
use wayfare_engine::runtime::{
    AgentMetrics, ClusterMetrics, ConsistencyMetrics, InstanceReports, RouteExchanges, Runtime,
    RuntimeConfig, RuntimeMetrics,
};
use wayfare_store::Store;

use super::encode::{Label, Labels, MsHistogram, counter, gauge, histogram};

/// Reads the runtime when the registry is encoded.
#[derive(Clone)]
pub struct RuntimeCollector {
    runtime: Arc<Runtime<Store>>,
}

impl RuntimeCollector {
    pub fn new(runtime: Arc<Runtime<Store>>) -> Self {
        Self { runtime }
    }
}

impl fmt::Debug for RuntimeCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeCollector").finish_non_exhaustive()
    }
}

impl Collector for RuntimeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let llm = self.runtime.llm().map(|llm| llm.metrics());
        Snapshot {
            metrics: &self.runtime.metrics(),
            agents: &self.runtime.agents(),
            config: self.runtime.config(),
            llm: llm.as_ref(),
        }
        .encode(&mut encoder)?;
        cluster(&mut encoder, &self.runtime.cluster_metrics())?;
        hub(&mut encoder, &self.runtime.hub().traffic())?;
        routes(&mut encoder, self.runtime.route_exchanges())?;
        reports(
            &mut encoder,
            self.runtime.hub().replayed(),
            self.runtime.instance_reports(),
        )
    }
}

/// Durable hub messages replayed at start-up, and the instances' status
/// reports the registry took (`other_process`: replayed from a process
/// that died before they were acknowledged).
pub fn reports(e: &mut DescriptorEncoder, replayed: u64, r: InstanceReports) -> fmt::Result {
    counter(
        e,
        "wayfare_hub_replayed_total",
        "Durable hub messages left unacknowledged by an earlier process, replayed at start-up.",
        [(none(), replayed as f64)],
    )?;
    counter(
        e,
        "wayfare_instance_reports_total",
        "Instances' status reports the registry took through the hub, by the process they came from.",
        [
            ("this_process", r.this_process),
            ("other_process", r.other_process),
        ]
        .map(|(source, n)| (one("source", source), n as f64)),
    )
}

/// The activity agent's route requests to the location agent: answered
/// over the hub, or ordered locally (no location instance, no answer in
/// time).
pub fn routes(e: &mut DescriptorEncoder, r: RouteExchanges) -> fmt::Result {
    counter(
        e,
        "wayfare_route_requests_total",
        "Route requests of the activity agent to the location agent, by outcome (fallback: ordered locally).",
        [("answered", r.answered), ("fallback", r.fallback)]
            .map(|(outcome, n)| (one("outcome", outcome), n as f64)),
    )
}

/// The messages the hub carried, by message type and route (`kind`:
/// direct, topic, queue); every pair is written, zeros too, so a
/// dashboard's series exist from the first scrape.
pub fn hub(e: &mut DescriptorEncoder, traffic: &[(MessageType, Route, u64)]) -> fmt::Result {
    counter(
        e,
        "wayfare_hub_messages_total",
        "Messages the hub carried, by message type and route (a topic message once per topic with a subscriber).",
        traffic.iter().map(|(message_type, route, n)| {
            (
                vec![
                    ("type", Label(message_type.as_str())),
                    ("kind", Label(route.as_str())),
                ],
                *n as f64,
            )
        }),
    )
}

/// What crossed processes sharing the database: notifications of other
/// processes' appends, the events they led this process to publish, and
/// the late writes of older claims that the queue refused.
pub fn cluster(e: &mut DescriptorEncoder, m: &ClusterMetrics) -> fmt::Result {
    counter(
        e,
        "wayfare_notifications_received_total",
        "Notifications of another process's appends to a trip's log (PostgreSQL LISTEN/NOTIFY).",
        [(none(), m.notifications_received as f64)],
    )?;
    counter(
        e,
        "wayfare_events_relayed_total",
        "Events another process appended, read from the log and published to this process's subscribers.",
        [(none(), m.events_relayed as f64)],
    )?;
    counter(
        e,
        "wayfare_task_fenced_total",
        "Task completions, failures and skips refused because the task had been claimed again since (fencing).",
        [(none(), m.tasks_fenced as f64)],
    )
}

/// What one scrape read from the runtime.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    pub metrics: &'a RuntimeMetrics,
    /// The registry's rows (instances, their load and slots).
    pub agents: &'a [AgentInfo],
    pub config: &'a RuntimeConfig,
    /// Only when `llm:` is configured.
    pub llm: Option<&'a LlmMetrics>,
}

impl Snapshot<'_> {
    pub fn encode(&self, e: &mut DescriptorEncoder) -> fmt::Result {
        trips(e, self.metrics)?;
        agents(e, self.metrics)?;
        caches(e, self.metrics)?;
        consistency(e, &self.metrics.consistency)?;
        load(e, self.agents, self.config)?;
        if let Some(llm) = self.llm {
            language_model(e, llm)?;
        }
        Ok(())
    }
}

fn none<'a>() -> Labels<'a> {
    Vec::new()
}

fn one<'a>(key: &'static str, value: &'a str) -> Labels<'a> {
    vec![(key, Label(value))]
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        // No traffic yet: nothing has failed.
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Breaker states as a number, so a dashboard can graph them.
fn breaker_value(state: &str) -> f64 {
    match state {
        "open" => 2.0,
        "half_open" => 1.0,
        _ => 0.0,
    }
}

fn trips(e: &mut DescriptorEncoder, m: &RuntimeMetrics) -> fmt::Result {
    counter(
        e,
        "wayfare_trips_submitted_total",
        "Trips accepted for planning.",
        [(none(), m.trips_submitted as f64)],
    )?;
    counter(
        e,
        "wayfare_trips_finished_total",
        "Trips that reached a final status, by status.",
        [
            ("ready", m.trips_ready),
            ("failed", m.trips_failed),
            ("cancelled", m.trips_cancelled),
        ]
        .map(|(status, n)| (one("status", status), n as f64)),
    )?;
    gauge(
        e,
        "wayfare_trips",
        "Trips not finished yet, by status.",
        [
            (one("status", "planning"), m.trips_in_flight as f64),
            (one("status", "waiting"), m.trips_waiting as f64),
        ],
    )?;
    counter(
        e,
        "wayfare_trips_rejected_total",
        "Submissions refused with 503 because every slot and the queue were full.",
        [(
            one("reason", "overloaded"),
            m.trips_rejected_overloaded as f64,
        )],
    )?;
    counter(
        e,
        "wayfare_modifications_total",
        "Modifications, by outcome.",
        [
            (one("outcome", "applied"), m.modifications_applied as f64),
            (
                one("outcome", "rolled_back"),
                m.modifications_rolled_back as f64,
            ),
        ],
    )?;
    gauge(
        e,
        "wayfare_queue_depth",
        "Agent tasks dispatched and not finished.",
        [(none(), m.queue_depth as f64)],
    )?;
    counter(
        e,
        "wayfare_tasks_skipped_total",
        "Optional tasks skipped under load.",
        [(none(), m.tasks_skipped as f64)],
    )?;
    counter(
        e,
        "wayfare_task_retries_total",
        "Agent task attempts after the first.",
        [(none(), m.task_retries as f64)],
    )?;
    counter(
        e,
        "wayfare_task_failovers_total",
        "Agent tasks sent to another instance after their retries on one were spent.",
        [(none(), m.task_failovers as f64)],
    )?;
    gauge(
        e,
        "wayfare_cost_per_request",
        "Cost (USD) per trip submitted: the agents' nominal cost_per_request plus the language model's tokens.",
        [(none(), m.cost_per_request)],
    )?;
    histogram(
        e,
        "wayfare_plan_duration_seconds",
        "Submit to ready or failed, for trips submitted in this process.",
        [(
            none(),
            MsHistogram {
                buckets_ms: &m.plan_latency_ms_buckets,
                count: m.plan_latency_ms_count,
                sum_ms: m.plan_latency_ms_sum,
            },
        )],
    )
}

/// One gauge family with a sample per agent type.
fn per_agent(
    e: &mut DescriptorEncoder,
    m: &RuntimeMetrics,
    name: &str,
    help: &str,
    value: impl Fn(&AgentMetrics) -> f64,
) -> fmt::Result {
    gauge(
        e,
        name,
        help,
        m.agents
            .iter()
            .map(|(t, a)| (one("agent_type", t), value(a))),
    )
}

fn agents(e: &mut DescriptorEncoder, m: &RuntimeMetrics) -> fmt::Result {
    per_agent(
        e,
        m,
        "wayfare_agent_instances",
        "Running instances per agent type.",
        |a| f64::from(a.instances),
    )?;
    counter(
        e,
        "wayfare_agent_calls_total",
        "Agent calls, by outcome.",
        m.agents.iter().flat_map(|(t, a)| {
            [("success", a.successes), ("failure", a.failures)].map(|(outcome, n)| {
                (
                    vec![("agent_type", Label(t)), ("outcome", Label(outcome))],
                    n as f64,
                )
            })
        }),
    )?;
    per_agent(
        e,
        m,
        "wayfare_agent_success_rate",
        "Successful calls over all calls per agent type (1 before any call).",
        |a| ratio(a.successes, a.successes + a.failures),
    )?;
    gauge(
        e,
        "wayfare_agent_breaker_state",
        "Circuit breaker per agent type: 0 closed, 1 half-open, 2 open.",
        m.agents.iter().map(|(t, a)| {
            (
                vec![("agent_type", Label(t)), ("state", Label(&a.breaker))],
                breaker_value(&a.breaker),
            )
        }),
    )?;
    counter(
        e,
        "wayfare_agent_cost_total",
        "Nominal cost (USD) of agent calls.",
        m.agents
            .iter()
            .map(|(t, a)| (one("agent_type", t), a.cost_total)),
    )?;
    scaling(e, m)?;
    histogram(
        e,
        "wayfare_agent_task_duration_seconds",
        "Time of one agent call, per agent type.",
        m.agents.iter().map(|(t, a)| {
            (
                one("agent_type", t),
                MsHistogram {
                    buckets_ms: &a.latency_buckets,
                    count: a.latency_count,
                    sum_ms: a.latency_ms_sum,
                },
            )
        }),
    )
}

/// Predictive scaling per agent type: the arrival rate, its forecast, the
/// instances the forecast asks for, and every start and stop by reason.
fn scaling(e: &mut DescriptorEncoder, m: &RuntimeMetrics) -> fmt::Result {
    per_agent(
        e,
        m,
        "wayfare_agent_arrival_rate",
        "Tasks that reached the agent type per second, over the last closed bucket.",
        |a| a.arrival_rate,
    )?;
    per_agent(
        e,
        m,
        "wayfare_agent_forecast_rate",
        "Arrivals per second that Holt's linear trend expects a horizon ahead.",
        |a| a.forecast_rate,
    )?;
    per_agent(
        e,
        m,
        "wayfare_agent_forecast_instances",
        "Instances the forecast asks for (within min and max instances).",
        |a| f64::from(a.forecast_instances),
    )?;
    counter(
        e,
        "wayfare_scaling_decisions_total",
        "Instances started (up) and stopped (down), by reason: predictive (the forecast), reactive (over the scale threshold), idle.",
        m.agents.iter().flat_map(|(t, a)| {
            a.scaling.by_label().map(|(direction, reason, n)| {
                (
                    vec![
                        ("agent_type", Label(t)),
                        ("direction", Label(direction)),
                        ("reason", Label(reason)),
                    ],
                    n as f64,
                )
            })
        }),
    )
}

fn caches(e: &mut DescriptorEncoder, m: &RuntimeMetrics) -> fmt::Result {
    counter(
        e,
        "wayfare_cache_requests_total",
        "Cache look-ups, by level and result.",
        m.cache.iter().flat_map(|(level, c)| {
            [("hit", c.hits), ("miss", c.misses)].map(|(result, n)| {
                (
                    vec![("level", Label(level)), ("result", Label(result))],
                    n as f64,
                )
            })
        }),
    )?;
    gauge(
        e,
        "wayfare_cache_hit_rate",
        "Hits over look-ups per cache level (0 before any look-up).",
        m.cache.iter().map(|(level, c)| {
            let total = c.hits + c.misses;
            let rate = if total == 0 {
                0.0
            } else {
                c.hits as f64 / total as f64
            };
            (one("level", level), rate)
        }),
    )
}

/// The state consistency score (`engine::runtime::audit`): the share of
/// the last audit's trips whose tables agreed with their log.
fn consistency(e: &mut DescriptorEncoder, c: &ConsistencyMetrics) -> fmt::Result {
    gauge(
        e,
        "wayfare_consistency_score",
        "Share of the trips the last consistency audit compared whose read model, queue and results agreed with their log (target 1; 1 before the first audit).",
        [(none(), c.score)],
    )?;
    gauge(
        e,
        "wayfare_consistency_audited_trips",
        "Trips the last consistency audit compared with their log.",
        [(none(), c.audited_trips as f64)],
    )?;
    counter(
        e,
        "wayfare_consistency_disagreements_total",
        "Trips found disagreeing with their log, over every audit.",
        [(none(), c.disagreements_total as f64)],
    )?;
    counter(
        e,
        "wayfare_consistency_repairs_total",
        "Disagreeing trips repaired from their log, over every audit.",
        [(none(), c.repairs_total as f64)],
    )
}

/// Each agent type's configured minimum of instances and how busy its
/// online instances are (tasks running over their slots): the load
/// distribution, and what the idle-at-minimum rule reads.
fn load(e: &mut DescriptorEncoder, registry: &[AgentInfo], config: &RuntimeConfig) -> fmt::Result {
    gauge(
        e,
        "wayfare_agent_min_instances",
        "Instances kept running per agent type however idle (agents.<type>.min_instances).",
        AgentType::ALL.map(|t| {
            (
                one("agent_type", t.as_str()),
                f64::from(config.agent(t).min_instances),
            )
        }),
    )?;
    gauge(
        e,
        "wayfare_agent_busy_ratio",
        "Tasks running over the slots of the online instances, per agent type (0 with none online).",
        AgentType::ALL.map(|t| {
            let (busy, slots) = registry
                .iter()
                .filter(|i| i.agent_type == t.as_str() && i.status != "offline")
                .fold((0u64, 0u64), |(b, s), i| {
                    (b + u64::from(i.current_load), s + u64::from(i.max_capacity))
                });
            let ratio = if slots == 0 {
                0.0
            } else {
                busy as f64 / slots as f64
            };
            (one("agent_type", t.as_str()), ratio)
        }),
    )
}

/// The language-model intent extraction's families (only when `llm:` is
/// configured): calls by outcome, tokens, cost, latency, fields filled and
/// refused. Every label value is from a fixed set.
fn language_model(e: &mut DescriptorEncoder, m: &LlmMetrics) -> fmt::Result {
    counter(
        e,
        "wayfare_llm_requests_total",
        "Language-model extractions, by outcome (cached: answered from the client's cache, no call).",
        m.requests()
            .map(|(outcome, n)| (one("outcome", outcome.label()), n as f64)),
    )?;
    counter(
        e,
        "wayfare_llm_tokens_total",
        "Tokens the language model used, as its server counts them.",
        [
            ("prompt", m.prompt_tokens),
            ("completion", m.completion_tokens),
        ]
        .map(|(kind, n)| (one("kind", kind), n as f64)),
    )?;
    counter(
        e,
        "wayfare_llm_cost_usd_total",
        "Cost (USD) of the language-model calls: prompt tokens at llm.price_per_1k_input, completion tokens at llm.price_per_1k_output (each else llm.cost_per_1k_tokens), per 1000.",
        [(none(), m.cost_usd)],
    )?;
    counter(
        e,
        "wayfare_llm_fields_total",
        "Intent fields the language model read, by result (rejected: out of bounds or not in the catalog).",
        [("filled", m.fields_filled), ("rejected", m.fields_rejected)]
            .map(|(result, n)| (one("result", result), n as f64)),
    )?;
    histogram(
        e,
        "wayfare_llm_request_duration_seconds",
        "Time of one language-model call, timeouts and failures included.",
        [(
            none(),
            MsHistogram {
                buckets_ms: &m.latency_buckets,
                count: m.latency_count,
                sum_ms: m.latency_ms_sum,
            },
        )],
    )
}

#[cfg(test)]
mod tests {
    use wayfare_engine::runtime::{CacheMetrics, ScalingDecisions};

    use super::*;
    use crate::metrics::collected;
    use crate::metrics::encode::FnCollector;

    fn metrics() -> RuntimeMetrics {
        let mut m = RuntimeMetrics {
            trips_submitted: 10,
            trips_ready: 7,
            trips_failed: 2,
            trips_cancelled: 1,
            queue_depth: 4,
            cost_per_request: 0.125,
            ..RuntimeMetrics::default()
        };
        m.agents.insert(
            "transport".into(),
            AgentMetrics {
                instances: 2,
                successes: 9,
                failures: 1,
                latency_ms_sum: 50.0,
                latency_count: 10,
                latency_buckets: vec![(5.0, 6), (10.0, 10), (f64::INFINITY, 10)],
                breaker: "open".into(),
                cost_total: 0.2,
                arrival_rate: 1.5,
                forecast_rate: 2.25,
                forecast_instances: 3,
                scaling: ScalingDecisions {
                    up_predictive: 2,
                    up_reactive: 1,
                    down_predictive: 0,
                    down_idle: 4,
                },
            },
        );
        m.cache
            .insert("request".into(), CacheMetrics { hits: 3, misses: 1 });
        m
    }

    /// The exposition of a snapshot, as a scrape would encode it.
    fn encoded(metrics: RuntimeMetrics, agents: Vec<AgentInfo>, llm: Option<LlmMetrics>) -> String {
        let config = RuntimeConfig::default();
        collected(FnCollector(move |e: &mut DescriptorEncoder| {
            Snapshot {
                metrics: &metrics,
                agents: &agents,
                config: &config,
                llm: llm.as_ref(),
            }
            .encode(e)
        }))
        .expect("encodes")
    }

    fn assert_lines(text: &str, lines: &[&str]) {
        for line in lines {
            assert!(
                text.lines().any(|l| l == *line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn every_runtime_family_is_exported_with_its_labels() {
        let text = encoded(metrics(), Vec::new(), None);
        assert_lines(
            &text,
            &[
                "# TYPE wayfare_trips_submitted counter",
                "wayfare_trips_submitted_total 10",
                r#"wayfare_trips_finished_total{status="ready"} 7"#,
                r#"wayfare_trips_finished_total{status="cancelled"} 1"#,
                "wayfare_queue_depth 4",
                "wayfare_cost_per_request 0.125",
                r#"wayfare_agent_success_rate{agent_type="transport"} 0.9"#,
                r#"wayfare_agent_breaker_state{agent_type="transport",state="open"} 2"#,
                r#"wayfare_agent_task_duration_seconds_bucket{le="0.005",agent_type="transport"} 6"#,
                r#"wayfare_agent_task_duration_seconds_bucket{le="+Inf",agent_type="transport"} 10"#,
                r#"wayfare_agent_task_duration_seconds_sum{agent_type="transport"} 0.05"#,
                r#"wayfare_cache_hit_rate{level="request"} 0.75"#,
                r#"wayfare_agent_cost_total{agent_type="transport"} 0.2"#,
                r#"wayfare_agent_arrival_rate{agent_type="transport"} 1.5"#,
                r#"wayfare_agent_forecast_rate{agent_type="transport"} 2.25"#,
                r#"wayfare_agent_forecast_instances{agent_type="transport"} 3"#,
                r#"wayfare_scaling_decisions_total{agent_type="transport",direction="up",reason="predictive"} 2"#,
                r#"wayfare_scaling_decisions_total{agent_type="transport",direction="up",reason="reactive"} 1"#,
                r#"wayfare_scaling_decisions_total{agent_type="transport",direction="down",reason="idle"} 4"#,
                "wayfare_plan_duration_seconds_count 0",
                r#"wayfare_plan_duration_seconds_bucket{le="+Inf"} 0"#,
            ],
        );
    }

    /// The OpenMetrics rules Prometheus' parser enforces: every sample is
    /// of a family declared before it (a counter's samples end in `_total`,
    /// a histogram's in `_bucket`, `_sum`, `_count`), no family twice, and
    /// `# EOF` last.
    #[test]
    fn every_sample_belongs_to_the_family_declared_before_it() {
        let text = encoded(metrics(), Vec::new(), Some(LlmMetrics::default()));
        let mut declared = std::collections::HashSet::new();
        let mut current: Option<(String, String)> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("name and type");
                assert!(declared.insert(name.to_owned()), "{name} declared twice");
                current = Some((name.to_owned(), kind.to_owned()));
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let sample = line.split(['{', ' ']).next().unwrap_or_default();
            let (family, kind) = current.as_ref().expect("a family before any sample");
            let suffixes: &[&str] = match kind.as_str() {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            assert!(
                suffixes.iter().any(|s| sample == format!("{family}{s}")),
                "sample {line:?} under {family} ({kind})"
            );
        }
        assert_eq!(text.lines().last(), Some("# EOF"));
    }

    #[test]
    fn the_llm_families_are_exported_with_bounded_labels() {
        let m = LlmMetrics {
            ok: 3,
            timeout: 1,
            cached: 2,
            prompt_tokens: 360,
            completion_tokens: 90,
            cost_usd: 0.225,
            latency_ms_sum: 1500.0,
            latency_count: 4,
            latency_buckets: vec![(250.0, 2), (500.0, 3), (f64::INFINITY, 4)],
            fields_filled: 5,
            fields_rejected: 1,
            ..LlmMetrics::default()
        };
        let text = encoded(RuntimeMetrics::default(), Vec::new(), Some(m));
        assert_lines(
            &text,
            &[
                "# TYPE wayfare_llm_requests counter",
                r#"wayfare_llm_requests_total{outcome="ok"} 3"#,
                r#"wayfare_llm_requests_total{outcome="invalid"} 0"#,
                r#"wayfare_llm_requests_total{outcome="timeout"} 1"#,
                r#"wayfare_llm_requests_total{outcome="error"} 0"#,
                r#"wayfare_llm_requests_total{outcome="cached"} 2"#,
                r#"wayfare_llm_tokens_total{kind="prompt"} 360"#,
                r#"wayfare_llm_tokens_total{kind="completion"} 90"#,
                "wayfare_llm_cost_usd_total 0.225",
                r#"wayfare_llm_fields_total{result="rejected"} 1"#,
                r#"wayfare_llm_request_duration_seconds_bucket{le="0.25"} 2"#,
                r#"wayfare_llm_request_duration_seconds_bucket{le="+Inf"} 4"#,
                "wayfare_llm_request_duration_seconds_sum 1.5",
                "wayfare_llm_request_duration_seconds_count 4",
            ],
        );
        let without = encoded(RuntimeMetrics::default(), Vec::new(), None);
        assert!(!without.contains("wayfare_llm_"), "{without}");
    }

    #[test]
    fn hub_traffic_is_one_counter_by_type_and_kind() {
        let traffic = [
            (MessageType::TaskRequest, Route::Direct, 12),
            (MessageType::StatusUpdate, Route::Topic, 40),
            (MessageType::StatusUpdate, Route::Queue, 0),
        ];
        let text = collected(FnCollector(move |e: &mut DescriptorEncoder| {
            hub(e, &traffic)
        }))
        .expect("encodes");
        assert_lines(
            &text,
            &[
                "# TYPE wayfare_hub_messages counter",
                r#"wayfare_hub_messages_total{type="task_request",kind="direct"} 12"#,
                r#"wayfare_hub_messages_total{type="status_update",kind="topic"} 40"#,
                r#"wayfare_hub_messages_total{type="status_update",kind="queue"} 0"#,
            ],
        );
    }

    #[test]
    fn load_families_cover_every_agent_type() {
        let registry = vec![AgentInfo {
            agent_id: "transport-1".into(),
            agent_type: "transport".into(),
            status: "busy".into(),
            capabilities: Vec::new(),
            current_load: 3,
            max_capacity: 4,
            response_time_avg_ms: 1.0,
            cost_per_request: 0.0,
            successes: 1,
            failures: 0,
            breaker: "closed".into(),
            process: None,
            host: None,
            pid: None,
            heartbeat_age_ms: None,
        }];
        let text = encoded(RuntimeMetrics::default(), registry, None);
        assert_lines(
            &text,
            &[
                r#"wayfare_agent_busy_ratio{agent_type="transport"} 0.75"#,
                r#"wayfare_agent_busy_ratio{agent_type="tips"} 0"#,
                r#"wayfare_agent_min_instances{agent_type="location"} 1"#,
            ],
        );
    }
}
