//! Alert rules at the design document's three levels, evaluated on the
//! [`History`] every few seconds.
//!
//! Two steps, as the orchestrator's own state machine: [`conditions`] reads
//! the history and says which conditions hold now (pure), and
//! [`AlertEngine::step`] carries each through its hysteresis — pending
//! until it has held for its `for` window, firing once, then resolved once
//! when it has been clear for `resolve_after` — and returns only the
//! changes. A condition that flickers inside either window neither fires
//! nor resolves, so nothing repeats on every tick.
//!
//! The same rules ship as Prometheus alerting rules
//! (`deploy/prometheus/wayfare-alerts.yml`), over the series `/metrics`
//! exposes; the names here are the `alert:` names there.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::history::{History, Ring};

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Something is broken now: an agent type cannot work, data disagrees.
    Critical,
    /// A target is missed for a sustained window.
    Warning,
    /// A usage pattern or an optimisation opportunity.
    Info,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// Every rule, with its level: `wayfare_alerts_firing` has a sample for
/// each, zero when nothing fires.
pub const RULES: [(&str, Level); 7] = [
    ("AgentTypeDown", Level::Critical),
    ("AgentBreakerOpen", Level::Critical),
    ("StateConsistencyFailed", Level::Critical),
    ("PlanLatencyHigh", Level::Warning),
    ("AgentSuccessRateLow", Level::Warning),
    ("AgentIdleAtMinimum", Level::Info),
    ("CacheHitRateLow", Level::Info),
];

/// The rules' thresholds and windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertRules {
    /// Request processing time target: the p95 of planning must stay under
    /// it (the design document's < 5 s).
    pub latency_target_ms: f64,
    /// Agent success rate target (> 95%).
    pub success_target: f64,
    /// Fewer calls than this in the rate window say nothing about a success
    /// rate.
    pub min_calls: u64,
    /// The window rates and quantiles are computed over.
    pub rate_window: Duration,
    /// How long a warning's condition must hold before it fires.
    pub sustain: Duration,
    /// How long a critical condition must hold before it fires (0: at the
    /// first evaluation that sees it).
    pub critical_for: Duration,
    /// How long any condition must be clear before its alert resolves.
    pub resolve_after: Duration,
    /// How long an agent type must sit idle at its minimum instances.
    pub idle_for: Duration,
    /// The window of the cache hit rate.
    pub cache_window: Duration,
    /// Look-ups in `cache_window` below which the hit rate says nothing.
    pub cache_min_lookups: u64,
    /// A hit rate under this (over enough look-ups) is worth a look.
    pub cache_hit_rate_min: f64,
}

impl Default for AlertRules {
    fn default() -> Self {
        Self {
            latency_target_ms: 5_000.0,
            success_target: 0.95,
            min_calls: 10,
            rate_window: Duration::from_secs(60),
            sustain: Duration::from_secs(120),
            critical_for: Duration::ZERO,
            resolve_after: Duration::from_secs(60),
            idle_for: Duration::from_secs(30 * 60),
            cache_window: Duration::from_secs(10 * 60),
            cache_min_lookups: 100,
            cache_hit_rate_min: 0.2,
        }
    }
}

/// One alert, firing or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// The rule (`AgentTypeDown`, `PlanLatencyHigh`, …).
    pub name: String,
    pub level: Level,
    /// The agent type or cache level it is about; none for the whole
    /// service.
    pub subject: Option<String>,
    /// What is wrong, for a person.
    pub summary: String,
    /// The figure the rule looked at, as of the latest evaluation.
    pub value: Option<f64>,
    /// When its condition started to hold.
    pub since: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Fired or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// A change: what is logged and POSTed to the webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertEvent {
    pub status: AlertStatus,
    pub alert: Alert,
}

/// `GET /api/alerts`: what fires now (most urgent first) and what resolved
/// lately (newest first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertsView {
    pub active: Vec<Alert>,
    pub resolved: Vec<Alert>,
}

/// Whether a rule's condition holds now, for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub name: &'static str,
    pub level: Level,
    pub subject: Option<String>,
    pub holds: bool,
    pub summary: String,
    pub value: Option<f64>,
    /// How long it must hold before the alert fires.
    pub hold_for: Duration,
}

/// The conditions of every rule on the latest sample and its windows.
pub fn conditions(history: &History, rules: &AlertRules) -> Vec<Condition> {
    let Some(latest) = history.latest() else {
        return Vec::new();
    };
    let window = history.window(rules.rate_window);
    let mut out = Vec::new();
    let mut push = |name, level, subject: Option<&str>, holds, summary: String, value, hold_for| {
        out.push(Condition {
            name,
            level,
            subject: subject.map(str::to_owned),
            holds,
            summary,
            value,
            hold_for,
        });
    };
    for a in &latest.agents {
        let t = a.agent_type.as_str();
        push(
            "AgentTypeDown",
            Level::Critical,
            Some(t),
            a.instances == 0,
            format!("No {t} agent instance is online: trips cannot get past it."),
            Some(f64::from(a.instances)),
            rules.critical_for,
        );
        push(
            "AgentBreakerOpen",
            Level::Critical,
            Some(t),
            a.breaker == "open",
            format!("The {t} agents' circuit breaker is open: their calls fail at once."),
            None,
            rules.critical_for,
        );
        let (ok, failed) = window.map_or((0, 0), |w| w.agent_calls(t));
        let calls = ok + failed;
        let success = (calls > 0).then(|| ok as f64 / calls as f64);
        push(
            "AgentSuccessRateLow",
            Level::Warning,
            Some(t),
            calls >= rules.min_calls && success.is_some_and(|s| s < rules.success_target),
            format!(
                "The {t} agents succeed in {:.0}% of calls (target over {:.0}%).",
                success.unwrap_or(1.0) * 100.0,
                rules.success_target * 100.0
            ),
            success,
            rules.sustain,
        );
        // Only where there is something to save: a type kept at one
        // instance cannot go lower.
        let idle = window.is_some() && calls == 0 && a.busy == 0;
        push(
            "AgentIdleAtMinimum",
            Level::Info,
            Some(t),
            idle && a.min_instances > 1 && a.instances <= a.min_instances,
            format!(
                "The {t} agents sit idle at their minimum of {} instances: a lower minimum would do.",
                a.min_instances
            ),
            Some(f64::from(a.instances)),
            rules.idle_for,
        );
    }
    push(
        "StateConsistencyFailed",
        Level::Critical,
        None,
        latest.consistency.is_some_and(|s| s < 1.0),
        format!(
            "Only {:.1}% of the audited trips agree with their log.",
            latest.consistency.unwrap_or(1.0) * 100.0
        ),
        latest.consistency,
        rules.critical_for,
    );
    let p95 = window.and_then(|w| w.plan_latency_quantile_ms(0.95));
    push(
        "PlanLatencyHigh",
        Level::Warning,
        None,
        p95.is_some_and(|p| p > rules.latency_target_ms),
        format!(
            "Planning a trip takes {:.1} s at the 95th percentile (target under {:.0} s).",
            p95.unwrap_or(0.0) / 1000.0,
            rules.latency_target_ms / 1000.0
        ),
        p95.map(|p| p / 1000.0),
        rules.sustain,
    );
    let cache_window = history.window(rules.cache_window);
    for c in &latest.caches {
        let level = c.level.as_str();
        let (lookups, hit_rate) = cache_window.map_or((0, None), |w| w.cache(level));
        push(
            "CacheHitRateLow",
            Level::Info,
            Some(level),
            lookups >= rules.cache_min_lookups
                && hit_rate.is_some_and(|r| r < rules.cache_hit_rate_min),
            format!(
                "The {level} cache answers {:.0}% of {lookups} look-ups: it costs more than it saves.",
                hit_rate.unwrap_or(0.0) * 100.0
            ),
            hit_rate,
            rules.sustain,
        );
    }
    out
}

/// Where one rule and subject stand.
#[derive(Debug, Clone)]
enum Track {
    Pending {
        since: DateTime<Utc>,
    },
    Firing {
        alert: Alert,
        clear_since: Option<DateTime<Utc>>,
    },
}

type Key = (&'static str, Option<String>);

/// The hysteresis of every alert, and the resolved ones of late.
#[derive(Debug, Clone)]
pub struct AlertEngine {
    resolve_after: Duration,
    tracks: BTreeMap<Key, Track>,
    resolved: Ring<Alert>,
}

/// Resolved alerts kept for `GET /api/alerts`.
pub const RESOLVED_KEPT: usize = 100;

impl AlertEngine {
    pub fn new(resolve_after: Duration) -> Self {
        Self {
            resolve_after,
            tracks: BTreeMap::new(),
            resolved: Ring::new(RESOLVED_KEPT),
        }
    }

    /// Moves every alert on by this evaluation's conditions; the alerts
    /// that fired or resolved now. A tracked alert whose condition is not
    /// in `conditions` any more counts as clear.
    pub fn step(&mut self, now: DateTime<Utc>, conditions: Vec<Condition>) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let mut seen = Vec::with_capacity(conditions.len());
        for c in conditions {
            let key: Key = (c.name, c.subject.clone());
            seen.push(key.clone());
            if c.holds {
                self.holds(now, key, c, &mut events);
            } else {
                self.clear(now, &key, &mut events);
            }
        }
        let gone: Vec<Key> = self
            .tracks
            .keys()
            .filter(|k| !seen.contains(k))
            .cloned()
            .collect();
        for key in gone {
            self.clear(now, &key, &mut events);
        }
        events
    }

    fn holds(&mut self, now: DateTime<Utc>, key: Key, c: Condition, events: &mut Vec<AlertEvent>) {
        let since = match self.tracks.get_mut(&key) {
            Some(Track::Firing { alert, clear_since }) => {
                *clear_since = None;
                alert.summary = c.summary;
                alert.value = c.value;
                return;
            }
            Some(Track::Pending { since }) => *since,
            None => now,
        };
        let held = (now - since).to_std().unwrap_or_default();
        if held < c.hold_for {
            self.tracks.insert(key, Track::Pending { since });
            return;
        }
        let alert = Alert {
            name: c.name.to_owned(),
            level: c.level,
            subject: c.subject,
            summary: c.summary,
            value: c.value,
            since,
            fired_at: now,
            resolved_at: None,
        };
        events.push(AlertEvent {
            status: AlertStatus::Firing,
            alert: alert.clone(),
        });
        self.tracks.insert(
            key,
            Track::Firing {
                alert,
                clear_since: None,
            },
        );
    }

    fn clear(&mut self, now: DateTime<Utc>, key: &Key, events: &mut Vec<AlertEvent>) {
        let resolve = match self.tracks.get_mut(key) {
            None => false,
            Some(Track::Pending { .. }) => {
                self.tracks.remove(key);
                false
            }
            Some(Track::Firing { clear_since, .. }) => {
                let since = *clear_since.get_or_insert(now);
                (now - since).to_std().unwrap_or_default() >= self.resolve_after
            }
        };
        if resolve && let Some(Track::Firing { mut alert, .. }) = self.tracks.remove(key) {
            alert.resolved_at = Some(now);
            self.resolved.push(alert.clone());
            events.push(AlertEvent {
                status: AlertStatus::Resolved,
                alert,
            });
        }
    }

    /// Firing now, most urgent first, then oldest first.
    pub fn active(&self) -> Vec<Alert> {
        let mut active: Vec<Alert> = self
            .tracks
            .values()
            .filter_map(|t| match t {
                Track::Firing { alert, .. } => Some(alert.clone()),
                Track::Pending { .. } => None,
            })
            .collect();
        active.sort_by(|a, b| a.level.cmp(&b.level).then(a.fired_at.cmp(&b.fired_at)));
        active
    }

    /// Resolved of late, newest first.
    pub fn resolved(&self) -> Vec<Alert> {
        self.resolved.iter().rev().cloned().collect()
    }

    /// How many alerts of each rule fire now, for every rule.
    pub fn firing_counts(&self) -> Vec<(&'static str, Level, usize)> {
        RULES
            .iter()
            .map(|(name, level)| {
                let n = self
                    .tracks
                    .iter()
                    .filter(|((rule, _), t)| rule == name && matches!(t, Track::Firing { .. }))
                    .count();
                (*name, *level, n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::history::{CacheSample, Sample};
    use crate::runtime::{RuntimeConfig, RuntimeMetrics};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_767_225_600 + seconds, 0).unwrap_or_default()
    }

    fn condition(holds: bool) -> Condition {
        Condition {
            name: "PlanLatencyHigh",
            level: Level::Warning,
            subject: None,
            holds,
            summary: "slow".into(),
            value: Some(7.0),
            hold_for: Duration::from_secs(120),
        }
    }

    /// Evaluates every 5 s from `from` to `to` with the condition `holds`;
    /// the changes with their times.
    fn run(
        engine: &mut AlertEngine,
        from: i64,
        to: i64,
        holds: impl Fn(i64) -> bool,
    ) -> Vec<(i64, AlertStatus)> {
        let mut changes = Vec::new();
        for t in (from..=to).step_by(5) {
            for e in engine.step(at(t), vec![condition(holds(t))]) {
                changes.push((t, e.status));
            }
        }
        changes
    }

    #[test]
    fn fires_once_after_its_window_and_resolves_once_after_the_clear_window() {
        let mut engine = AlertEngine::new(Duration::from_secs(60));
        let changes = run(&mut engine, 0, 600, |t| (100..400).contains(&t));
        assert_eq!(
            changes,
            vec![(220, AlertStatus::Firing), (460, AlertStatus::Resolved)]
        );
        assert!(engine.active().is_empty());
        let resolved = engine.resolved();
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].since, at(100));
        assert_eq!(resolved[0].resolved_at, Some(at(460)));
    }

    #[test]
    fn a_flickering_condition_neither_fires_nor_resolves() {
        let mut engine = AlertEngine::new(Duration::from_secs(60));
        // Holds for 100 s out of every 110: never 120 s in a row.
        assert!(run(&mut engine, 0, 1000, |t| t % 110 < 100).is_empty());
        // Firing, then clear for 50 s out of every 60: stays firing.
        let changes = run(&mut engine, 1000, 1200, |_| true);
        assert_eq!(changes, vec![(1110, AlertStatus::Firing)]);
        assert!(run(&mut engine, 1205, 2000, |t| t % 60 >= 50).is_empty());
        assert_eq!(engine.active().len(), 1);
    }

    #[test]
    fn a_rule_without_a_window_fires_at_once_and_counts() {
        let mut engine = AlertEngine::new(Duration::ZERO);
        let down = |holds| Condition {
            name: "AgentTypeDown",
            level: Level::Critical,
            subject: Some("tips".into()),
            holds,
            summary: "down".into(),
            value: Some(0.0),
            hold_for: Duration::ZERO,
        };
        assert_eq!(engine.step(at(0), vec![down(true)]).len(), 1);
        assert!(engine.step(at(5), vec![down(true)]).is_empty());
        let counts = engine.firing_counts();
        assert!(counts.contains(&("AgentTypeDown", Level::Critical, 1)));
        assert!(counts.contains(&("PlanLatencyHigh", Level::Warning, 0)));
        // A subject that disappears counts as clear.
        let gone = engine.step(at(10), Vec::new());
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].status, AlertStatus::Resolved);
    }

    /// A history of `n` samples 5 s apart, each made by `at_tick`.
    fn history(n: i64, at_tick: impl Fn(i64, &mut Sample)) -> History {
        let mut config = RuntimeConfig::default();
        config
            .agents
            .entry("tips".into())
            .or_default()
            .min_instances = 2;
        let mut h = History::new(1000);
        for t in 0..n {
            let mut s = Sample::from_runtime(at(t * 5), &RuntimeMetrics::default(), &[], &config);
            for a in &mut s.agents {
                a.instances = a.min_instances;
            }
            at_tick(t, &mut s);
            h.push(s);
        }
        h
    }

    fn holding(h: &History, rules: &AlertRules) -> Vec<(&'static str, Option<String>)> {
        conditions(h, rules)
            .into_iter()
            .filter(|c| c.holds)
            .map(|c| (c.name, c.subject))
            .collect()
    }

    #[test]
    fn an_idle_type_is_reported_only_where_its_minimum_could_go_lower() {
        let rules = AlertRules::default();
        // No calls at all: tips (minimum 2) is idle; the types kept at one
        // instance are not worth an alert.
        let idle = history(20, |_, _| {});
        assert_eq!(
            holding(&idle, &rules),
            vec![("AgentIdleAtMinimum", Some("tips".to_owned()))]
        );
        // A call in the rate window: not idle.
        let busy = history(20, |t, s| {
            if let Some(a) = s.agents.iter_mut().find(|a| a.agent_type == "tips") {
                a.successes = t as u64;
            }
        });
        assert!(holding(&busy, &rules).is_empty());
    }

    #[test]
    fn a_low_cache_hit_rate_needs_enough_look_ups() {
        let rules = AlertRules::default();
        let cache = |hits_per_tick: u64, lookups_per_tick: u64| {
            history(130, move |t, s| {
                s.caches = vec![CacheSample {
                    level: "request".into(),
                    hits: t as u64 * hits_per_tick,
                    misses: t as u64 * (lookups_per_tick - hits_per_tick),
                }];
            })
        };
        let missing = holding(&cache(1, 10), &rules);
        assert!(
            missing.contains(&("CacheHitRateLow", Some("request".to_owned()))),
            "{missing:?}"
        );
        // 10% of a handful of look-ups says nothing.
        let few = holding(
            &history(130, |t, s| {
                s.caches = vec![CacheSample {
                    level: "request".into(),
                    hits: 0,
                    misses: (t / 10) as u64,
                }];
            }),
            &rules,
        );
        assert!(!few.iter().any(|(n, _)| *n == "CacheHitRateLow"), "{few:?}");
        let hitting = holding(&cache(5, 10), &rules);
        assert!(
            !hitting.iter().any(|(n, _)| *n == "CacheHitRateLow"),
            "{hitting:?}"
        );
    }

    #[test]
    fn slow_plans_and_a_failed_audit_hold() {
        let rules = AlertRules::default();
        let slow = history(20, |t, s| {
            // Two plans a tick, between 5 and 10 s.
            let n = t as u64 * 2;
            s.plan_latency_buckets = vec![(5_000.0, 0), (10_000.0, n), (f64::INFINITY, n)];
            s.plan_latency_count = n;
            s.consistency = Some(if t < 10 { 1.0 } else { 0.9 });
        });
        let now = holding(&slow, &rules);
        assert!(now.contains(&("PlanLatencyHigh", None)), "{now:?}");
        assert!(now.contains(&("StateConsistencyFailed", None)), "{now:?}");
    }
}
