//! `GET /metrics`: the Prometheus text exposition format, written by hand
//! from the runtime's [`RuntimeMetrics`] snapshot and the HTTP latency
//! histogram kept by [`http::track`].
//!
//! Why not the `metrics` + `metrics-exporter-prometheus` crates: the runtime
//! already keeps every counter itself (and must, to show them in the UI and
//! `/api/agents`), so a global recorder would duplicate them; a global is
//! also awkward with several routers in one test process. The format is a
//! few lines of text per family, pinned by the tests below.

pub mod http;

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use wayfare_domain::rating::Satisfaction;
use wayfare_domain::trip::AgentInfo;
use wayfare_engine::llm::LlmMetrics;
use wayfare_engine::ops::Ops;
use wayfare_engine::runtime::{
    AGENT_TYPES, AgentMetrics, ConsistencyMetrics, RuntimeConfig, RuntimeMetrics,
};

pub use self::http::HttpMetrics;
use crate::web::AppState;

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`. The ratings are read from the store at scrape time (they
/// are shared by every process on the database); when that read fails the
/// two families are left out and the rest is served.
pub async fn export(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = render(&state.http_metrics, &state.runtime.metrics());
    render_load(&mut text, &state.runtime.agents(), state.runtime.config());
    render_alerts(&mut text, &state.ops);
    if let Some(llm) = state.runtime.llm() {
        render_llm(&mut text, &llm.metrics());
    }
    match state.store.satisfaction().await {
        Ok(satisfaction) => render_satisfaction(&mut text, &satisfaction),
        Err(e) => tracing::warn!(error = %e, "/metrics: could not read the ratings"),
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text)
}

/// `wayfare_user_satisfaction` (the average stars, no sample before the
/// first rating) and `wayfare_ratings_total` (how many trips are rated: a
/// gauge, since deleting a trip takes its rating away).
pub fn render_satisfaction(out: &mut String, s: &Satisfaction) {
    family(
        out,
        "wayfare_user_satisfaction",
        "gauge",
        "Average rating of the rated trips, 1 to 5 stars.",
    );
    if let Some(average) = s.average {
        sample(out, "wayfare_user_satisfaction", &[], average);
    }
    family(
        out,
        "wayfare_ratings_total",
        "gauge",
        "Trips rated (a rating replaced counts once; a deleted trip's goes).",
    );
    sample(out, "wayfare_ratings_total", &[], s.ratings as f64);
}

/// Escapes a label value (backslash, double quote, newline).
pub fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    let _ = write!(out, "{name}");
    if !labels.is_empty() {
        let labels = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect::<Vec<_>>()
            .join(",");
        let _ = write!(out, "{{{labels}}}");
    }
    let _ = writeln!(out, " {}", number(value));
}

/// Prometheus' spelling of a float (`NaN`, `+Inf`, integers without `.0`).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
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

/// The whole exposition.
pub fn render(http: &HttpMetrics, m: &RuntimeMetrics) -> String {
    let mut out = String::with_capacity(8 * 1024);
    http.render(&mut out);

    family(
        &mut out,
        "wayfare_trips_submitted_total",
        "counter",
        "Trips accepted for planning.",
    );
    sample(
        &mut out,
        "wayfare_trips_submitted_total",
        &[],
        m.trips_submitted as f64,
    );
    family(
        &mut out,
        "wayfare_trips_finished_total",
        "counter",
        "Trips that reached a final status, by status.",
    );
    for (status, n) in [
        ("ready", m.trips_ready),
        ("failed", m.trips_failed),
        ("cancelled", m.trips_cancelled),
    ] {
        sample(
            &mut out,
            "wayfare_trips_finished_total",
            &[("status", status)],
            n as f64,
        );
    }
    family(
        &mut out,
        "wayfare_trips",
        "gauge",
        "Trips not finished yet, by status.",
    );
    sample(
        &mut out,
        "wayfare_trips",
        &[("status", "planning")],
        m.trips_in_flight as f64,
    );
    sample(
        &mut out,
        "wayfare_trips",
        &[("status", "waiting")],
        m.trips_waiting as f64,
    );
    family(
        &mut out,
        "wayfare_trips_rejected_total",
        "counter",
        "Submissions refused with 503 because every slot and the queue were full.",
    );
    sample(
        &mut out,
        "wayfare_trips_rejected_total",
        &[("reason", "overloaded")],
        m.trips_rejected_overloaded as f64,
    );
    family(
        &mut out,
        "wayfare_modifications_total",
        "counter",
        "Modifications, by outcome.",
    );
    sample(
        &mut out,
        "wayfare_modifications_total",
        &[("outcome", "applied")],
        m.modifications_applied as f64,
    );
    sample(
        &mut out,
        "wayfare_modifications_total",
        &[("outcome", "rolled_back")],
        m.modifications_rolled_back as f64,
    );
    family(
        &mut out,
        "wayfare_queue_depth",
        "gauge",
        "Agent tasks dispatched and not finished.",
    );
    sample(&mut out, "wayfare_queue_depth", &[], m.queue_depth as f64);
    family(
        &mut out,
        "wayfare_tasks_skipped_total",
        "counter",
        "Optional tasks skipped under load.",
    );
    sample(
        &mut out,
        "wayfare_tasks_skipped_total",
        &[],
        m.tasks_skipped as f64,
    );
    family(
        &mut out,
        "wayfare_task_retries_total",
        "counter",
        "Agent task attempts after the first.",
    );
    sample(
        &mut out,
        "wayfare_task_retries_total",
        &[],
        m.task_retries as f64,
    );
    family(
        &mut out,
        "wayfare_task_failovers_total",
        "counter",
        "Agent tasks sent to another instance after their retries on one were spent.",
    );
    sample(
        &mut out,
        "wayfare_task_failovers_total",
        &[],
        m.task_failovers as f64,
    );
    family(
        &mut out,
        "wayfare_cost_per_request",
        "gauge",
        "Cost (USD) per trip submitted: the agents' nominal cost_per_request plus the language model's tokens.",
    );
    sample(
        &mut out,
        "wayfare_cost_per_request",
        &[],
        m.cost_per_request,
    );

    let name = "wayfare_plan_duration_seconds";
    family(
        &mut out,
        name,
        "histogram",
        "Submit to ready or failed, for trips submitted in this process.",
    );
    histogram(
        &mut out,
        name,
        &[],
        &m.plan_latency_ms_buckets,
        m.plan_latency_ms_count,
        m.plan_latency_ms_sum,
    );

    render_agents(&mut out, m);
    render_caches(&mut out, m);
    render_consistency(&mut out, &m.consistency);
    out
}

/// The state consistency score (`engine::runtime::audit`): the share of
/// the last audit's trips whose tables agreed with their log.
fn render_consistency(out: &mut String, c: &ConsistencyMetrics) {
    for (name, kind, help, value) in [
        (
            "wayfare_consistency_score",
            "gauge",
            "Share of the trips the last consistency audit compared whose read model, queue and results agreed with their log (target 1; 1 before the first audit).",
            c.score,
        ),
        (
            "wayfare_consistency_audited_trips",
            "gauge",
            "Trips the last consistency audit compared with their log.",
            c.audited_trips as f64,
        ),
        (
            "wayfare_consistency_disagreements_total",
            "counter",
            "Trips found disagreeing with their log, over every audit.",
            c.disagreements_total as f64,
        ),
        (
            "wayfare_consistency_repairs_total",
            "counter",
            "Disagreeing trips repaired from their log, over every audit.",
            c.repairs_total as f64,
        ),
    ] {
        family(out, name, kind, help);
        sample(out, name, &[], value);
    }
}

/// Each agent type's configured minimum of instances and how busy its
/// online instances are (tasks running over their slots): the load
/// distribution, and what the idle-at-minimum rule reads.
pub fn render_load(out: &mut String, registry: &[AgentInfo], config: &RuntimeConfig) {
    family(
        out,
        "wayfare_agent_min_instances",
        "gauge",
        "Instances kept running per agent type however idle (agents.<type>.min_instances).",
    );
    for t in AGENT_TYPES {
        sample(
            out,
            "wayfare_agent_min_instances",
            &[("agent_type", t)],
            f64::from(config.agent(t).min_instances),
        );
    }
    family(
        out,
        "wayfare_agent_busy_ratio",
        "gauge",
        "Tasks running over the slots of the online instances, per agent type (0 with none online).",
    );
    for t in AGENT_TYPES {
        let (busy, slots) = registry
            .iter()
            .filter(|i| i.agent_type == t && i.status != "offline")
            .fold((0u64, 0u64), |(b, s), i| {
                (b + u64::from(i.current_load), s + u64::from(i.max_capacity))
            });
        let ratio = if slots == 0 {
            0.0
        } else {
            busy as f64 / slots as f64
        };
        sample(out, "wayfare_agent_busy_ratio", &[("agent_type", t)], ratio);
    }
}

/// `wayfare_alerts_firing{level,name}`: how many alerts of each rule fire
/// (every rule, zero included), and the webhook's deliveries when one is
/// configured.
pub fn render_alerts(out: &mut String, ops: &Ops) {
    family(
        out,
        "wayfare_alerts_firing",
        "gauge",
        "Alerts firing in this process, by rule and level.",
    );
    for (name, level, n) in ops.firing_counts() {
        sample(
            out,
            "wayfare_alerts_firing",
            &[("level", level.as_str()), ("name", name)],
            n as f64,
        );
    }
    if let Some(counters) = ops.webhook_counters() {
        family(
            out,
            "wayfare_alert_webhook_total",
            "counter",
            "Alert changes sent to alerts.webhook_url, by outcome (dropped: the delivery queue was full).",
        );
        for (outcome, n) in counters.snapshot() {
            sample(
                out,
                "wayfare_alert_webhook_total",
                &[("outcome", outcome)],
                n as f64,
            );
        }
    }
}

fn render_agents(out: &mut String, m: &RuntimeMetrics) {
    family(
        out,
        "wayfare_agent_instances",
        "gauge",
        "Running instances per agent type.",
    );
    for (t, a) in &m.agents {
        sample(
            out,
            "wayfare_agent_instances",
            &[("agent_type", t)],
            f64::from(a.instances),
        );
    }
    family(
        out,
        "wayfare_agent_calls_total",
        "counter",
        "Agent calls, by outcome.",
    );
    for (t, a) in &m.agents {
        sample(
            out,
            "wayfare_agent_calls_total",
            &[("agent_type", t), ("outcome", "success")],
            a.successes as f64,
        );
        sample(
            out,
            "wayfare_agent_calls_total",
            &[("agent_type", t), ("outcome", "failure")],
            a.failures as f64,
        );
    }
    family(
        out,
        "wayfare_agent_success_rate",
        "gauge",
        "Successful calls over all calls per agent type (1 before any call).",
    );
    for (t, a) in &m.agents {
        sample(
            out,
            "wayfare_agent_success_rate",
            &[("agent_type", t)],
            ratio(a.successes, a.successes + a.failures),
        );
    }
    family(
        out,
        "wayfare_agent_breaker_state",
        "gauge",
        "Circuit breaker per agent type: 0 closed, 1 half-open, 2 open.",
    );
    for (t, a) in &m.agents {
        sample(
            out,
            "wayfare_agent_breaker_state",
            &[("agent_type", t), ("state", &a.breaker)],
            breaker_value(&a.breaker),
        );
    }
    family(
        out,
        "wayfare_agent_cost_total",
        "counter",
        "Nominal cost (USD) of agent calls.",
    );
    for (t, a) in &m.agents {
        sample(
            out,
            "wayfare_agent_cost_total",
            &[("agent_type", t)],
            a.cost_total,
        );
    }
    render_scaling(out, m);
    let name = "wayfare_agent_task_duration_seconds";
    family(
        out,
        name,
        "histogram",
        "Time of one agent call, per agent type.",
    );
    for (t, a) in &m.agents {
        histogram(
            out,
            name,
            &[("agent_type", t)],
            &a.latency_buckets,
            a.latency_count,
            a.latency_ms_sum,
        );
    }
}

/// Predictive scaling per agent type: the arrival rate, its forecast, the
/// instances the forecast asks for, and every start and stop by reason.
fn render_scaling(out: &mut String, m: &RuntimeMetrics) {
    gauge_per_agent(
        out,
        m,
        "wayfare_agent_arrival_rate",
        "Tasks that reached the agent type per second, over the last closed bucket.",
        |a| a.arrival_rate,
    );
    gauge_per_agent(
        out,
        m,
        "wayfare_agent_forecast_rate",
        "Arrivals per second that Holt's linear trend expects a horizon ahead.",
        |a| a.forecast_rate,
    );
    gauge_per_agent(
        out,
        m,
        "wayfare_agent_forecast_instances",
        "Instances the forecast asks for (within min and max instances).",
        |a| f64::from(a.forecast_instances),
    );
    family(
        out,
        "wayfare_scaling_decisions_total",
        "counter",
        "Instances started (up) and stopped (down), by reason: predictive (the forecast), reactive (over the scale threshold), idle.",
    );
    for (t, a) in &m.agents {
        for (direction, reason, n) in a.scaling.by_label() {
            sample(
                out,
                "wayfare_scaling_decisions_total",
                &[
                    ("agent_type", t),
                    ("direction", direction),
                    ("reason", reason),
                ],
                n as f64,
            );
        }
    }
}

/// One gauge family with a sample per agent type.
fn gauge_per_agent(
    out: &mut String,
    m: &RuntimeMetrics,
    name: &str,
    help: &str,
    value: impl Fn(&AgentMetrics) -> f64,
) {
    family(out, name, "gauge", help);
    for (t, a) in &m.agents {
        sample(out, name, &[("agent_type", t)], value(a));
    }
}

/// The language-model intent extraction's families (only when `llm:` is
/// configured): calls by outcome, tokens, cost, latency, fields filled and
/// refused. Every label value is from a fixed set.
pub fn render_llm(out: &mut String, m: &LlmMetrics) {
    family(
        out,
        "wayfare_llm_requests_total",
        "counter",
        "Language-model extractions, by outcome (cached: answered from the client's cache, no call).",
    );
    for (outcome, n) in m.requests() {
        sample(
            out,
            "wayfare_llm_requests_total",
            &[("outcome", outcome.label())],
            n as f64,
        );
    }
    family(
        out,
        "wayfare_llm_tokens_total",
        "counter",
        "Tokens the language model used, as its server counts them.",
    );
    for (kind, n) in [
        ("prompt", m.prompt_tokens),
        ("completion", m.completion_tokens),
    ] {
        sample(out, "wayfare_llm_tokens_total", &[("kind", kind)], n as f64);
    }
    family(
        out,
        "wayfare_llm_cost_usd_total",
        "counter",
        "Cost (USD) of the language-model calls: prompt tokens at llm.price_per_1k_input, completion tokens at llm.price_per_1k_output (each else llm.cost_per_1k_tokens), per 1000.",
    );
    sample(out, "wayfare_llm_cost_usd_total", &[], m.cost_usd);
    family(
        out,
        "wayfare_llm_fields_total",
        "counter",
        "Intent fields the language model read, by result (rejected: out of bounds or not in the catalog).",
    );
    for (result, n) in [("filled", m.fields_filled), ("rejected", m.fields_rejected)] {
        sample(
            out,
            "wayfare_llm_fields_total",
            &[("result", result)],
            n as f64,
        );
    }
    let name = "wayfare_llm_request_duration_seconds";
    family(
        out,
        name,
        "histogram",
        "Time of one language-model call, timeouts and failures included.",
    );
    histogram(
        out,
        name,
        &[],
        &m.latency_buckets,
        m.latency_count,
        m.latency_ms_sum,
    );
}

/// One histogram's samples: cumulative buckets of milliseconds, shown in
/// seconds (with `+Inf` when the buckets lack it), the sum and the count.
fn histogram(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    buckets_ms: &[(f64, u64)],
    count: u64,
    sum_ms: f64,
) {
    let bucket = format!("{name}_bucket");
    let mut saw_inf = false;
    for (le_ms, n) in buckets_ms {
        let le = if le_ms.is_infinite() {
            saw_inf = true;
            "+Inf".to_owned()
        } else {
            number(le_ms / 1000.0)
        };
        let mut with_le = labels.to_vec();
        with_le.push(("le", &le));
        sample(out, &bucket, &with_le, *n as f64);
    }
    if !saw_inf {
        let mut with_le = labels.to_vec();
        with_le.push(("le", "+Inf"));
        sample(out, &bucket, &with_le, count as f64);
    }
    sample(out, &format!("{name}_sum"), labels, sum_ms / 1000.0);
    sample(out, &format!("{name}_count"), labels, count as f64);
}

fn render_caches(out: &mut String, m: &RuntimeMetrics) {
    family(
        out,
        "wayfare_cache_requests_total",
        "counter",
        "Cache look-ups, by level and result.",
    );
    for (level, c) in &m.cache {
        sample(
            out,
            "wayfare_cache_requests_total",
            &[("level", level), ("result", "hit")],
            c.hits as f64,
        );
        sample(
            out,
            "wayfare_cache_requests_total",
            &[("level", level), ("result", "miss")],
            c.misses as f64,
        );
    }
    family(
        out,
        "wayfare_cache_hit_rate",
        "gauge",
        "Hits over look-ups per cache level (0 before any look-up).",
    );
    for (level, c) in &m.cache {
        let total = c.hits + c.misses;
        let rate = if total == 0 {
            0.0
        } else {
            c.hits as f64 / total as f64
        };
        sample(out, "wayfare_cache_hit_rate", &[("level", level)], rate);
    }
}

#[cfg(test)]
mod tests {
    use wayfare_engine::runtime::{CacheMetrics, ScalingDecisions};

    use super::*;

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

    #[test]
    fn every_runtime_family_is_exported_with_its_labels() {
        let text = render(&HttpMetrics::default(), &metrics());
        for line in [
            "wayfare_trips_submitted_total 10",
            r#"wayfare_trips_finished_total{status="ready"} 7"#,
            r#"wayfare_trips_finished_total{status="cancelled"} 1"#,
            "wayfare_queue_depth 4",
            "wayfare_cost_per_request 0.125",
            r#"wayfare_agent_success_rate{agent_type="transport"} 0.9"#,
            r#"wayfare_agent_breaker_state{agent_type="transport",state="open"} 2"#,
            r#"wayfare_agent_task_duration_seconds_bucket{agent_type="transport",le="0.005"} 6"#,
            r#"wayfare_agent_task_duration_seconds_bucket{agent_type="transport",le="+Inf"} 10"#,
            r#"wayfare_agent_task_duration_seconds_sum{agent_type="transport"} 0.05"#,
            r#"wayfare_cache_hit_rate{level="request"} 0.75"#,
            r#"wayfare_agent_cost_total{agent_type="transport"} 0.2"#,
            r#"wayfare_agent_arrival_rate{agent_type="transport"} 1.5"#,
            r#"wayfare_agent_forecast_rate{agent_type="transport"} 2.25"#,
            r#"wayfare_agent_forecast_instances{agent_type="transport"} 3"#,
            r#"wayfare_scaling_decisions_total{agent_type="transport",direction="up",reason="predictive"} 2"#,
            r#"wayfare_scaling_decisions_total{agent_type="transport",direction="up",reason="reactive"} 1"#,
            r#"wayfare_scaling_decisions_total{agent_type="transport",direction="down",reason="idle"} 4"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn every_sample_line_belongs_to_a_declared_family() {
        let text = render(&HttpMetrics::default(), &metrics());
        let declared: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let base = name
                .strip_suffix("_bucket")
                .or_else(|| name.strip_suffix("_sum"))
                .or_else(|| name.strip_suffix("_count"))
                .filter(|b| declared.contains(b))
                .unwrap_or(name);
            assert!(declared.contains(&base), "undeclared sample {line:?}");
        }
    }

    #[test]
    fn satisfaction_is_exported_and_absent_before_the_first_rating() {
        let mut text = String::new();
        render_satisfaction(
            &mut text,
            &Satisfaction {
                ratings: 4,
                average: Some(4.25),
            },
        );
        for line in [
            "# TYPE wayfare_user_satisfaction gauge",
            "wayfare_user_satisfaction 4.25",
            "wayfare_ratings_total 4",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        let mut text = String::new();
        render_satisfaction(&mut text, &Satisfaction::default());
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("wayfare_user_satisfaction")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l == "wayfare_ratings_total 0"),
            "{text}"
        );
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
        let mut text = String::new();
        render_llm(&mut text, &m);
        for line in [
            "# TYPE wayfare_llm_requests_total counter",
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
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn load_and_alert_families_cover_every_agent_type_and_rule() {
        let config = RuntimeConfig::default();
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
        }];
        let mut text = String::new();
        render_load(&mut text, &registry, &config);
        render_alerts(
            &mut text,
            &Ops::new(
                wayfare_engine::ops::OpsConfig::default(),
                std::sync::Arc::new(wayfare_engine::clock::SystemClock),
            ),
        );
        for line in [
            r#"wayfare_agent_busy_ratio{agent_type="transport"} 0.75"#,
            r#"wayfare_agent_busy_ratio{agent_type="tips"} 0"#,
            r#"wayfare_agent_min_instances{agent_type="location"} 1"#,
            r#"wayfare_alerts_firing{level="critical",name="AgentTypeDown"} 0"#,
            r#"wayfare_alerts_firing{level="info",name="CacheHitRateLow"} 0"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(
            !text.contains("wayfare_alert_webhook_total"),
            "no webhook, no family"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), r#"a\"b\\c\nd"#);
    }
}
