//! Configuration: built-in defaults, then `wayfare.yaml` (optional), then
//! `WAYFARE_*` environment variables (`WAYFARE_LISTEN`,
//! `WAYFARE_DATABASE_URL`, …; nested keys with `__`, e.g.
//! `WAYFARE_ORCHESTRATOR__MAX_CONCURRENT_REQUESTS`). Validated once at start:
//! an error names the key and where its bad value came from.
//!
//! The orchestration runtime's sections (`orchestrator`, `agents`,
//! `communication`, `faults`, `cache`) are written as in the design document
//! (`default_timeout: 30s`, `scale_threshold: 80%`; see [`human`]) and
//! converted into the engine's [`RuntimeConfig`] by [`Config::runtime`].
//! So is `llm` ([`llm`]): absent, the language-model intent extraction is
//! off.

pub mod alerts;
pub mod human;
pub mod llm;
pub mod profile;
pub mod security;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};
use serde::{Deserialize, Serialize};
use wayfare_engine::graph::AgentType;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::{
    AgentConfig, CacheConfig, CommunicationConfig, OrchestratorConfig, PredictiveScalingConfig,
    RuntimeConfig,
};

pub use self::alerts::AlertsSection;
use self::human::{HumanDuration, Percent};
pub use self::llm::LlmSection;
pub use self::profile::Profile;
pub use self::security::{HttpSection, RateLimitSection, SecuritySection};

/// The file read when no `--config` is given (it may be absent).
pub const DEFAULT_CONFIG_FILE: &str = "wayfare.yaml";

/// Top-level keys: environment variables naming anything else (such as
/// `WAYFARE_TEST_POSTGRES_URL`, read by the test suite) are not config.
const KEYS: &[&str] = &[
    "listen",
    "database_url",
    "data_dir",
    "log",
    "site_root",
    "catalog_poll",
    "orchestrator",
    "agents",
    "communication",
    "faults",
    "cache",
    "http",
    "security",
    "llm",
    "alerts",
];

/// The key under `faults:` that applies to every agent type not listed by
/// name (`faults: {all: {error_rate: 30%}}` for a chaos run).
pub const ALL_AGENTS: &str = "all";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the web server listens on.
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://…`. Empty: a SQLite file in `data_dir`.
    pub database_url: String,
    /// Where the embedded SQLite database lives.
    pub data_dir: PathBuf,
    /// Log filter in `tracing` env-filter syntax (`info`, `wayfare=debug`).
    /// `RUST_LOG`, when set, wins.
    pub log: String,
    /// The built site (WASM, JS, CSS) that cargo-leptos writes.
    pub site_root: PathBuf,
    /// How often a running server checks whether `wayfare import` replaced
    /// the catalog (`5s`).
    pub catalog_poll: HumanDuration,
    /// Trips in flight, timeouts, retries, breakers, snapshots, leases.
    pub orchestrator: OrchestratorSection,
    /// Per agent type (`location`, `transport`, …): instances and scaling.
    pub agents: BTreeMap<String, AgentSection>,
    /// The message hub.
    pub communication: CommunicationSection,
    /// Injected faults per agent type, or `all`; empty (off) by default.
    pub faults: BTreeMap<String, FaultSection>,
    /// Request-, agent- and data-level caches.
    pub cache: CacheSection,
    /// Connection and request timeouts, and the shutdown's bound.
    #[serde(default)]
    pub http: HttpSection,
    /// Response headers, origin checks and rate limiting.
    #[serde(default)]
    pub security: SecuritySection,
    /// Language-model intent extraction; absent (the default): off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmSection>,
    /// Sampling for the dashboard, the alert rules' windows and the
    /// optional webhook.
    #[serde(default)]
    pub alerts: AlertsSection,
}

/// `orchestrator:` of the design document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrchestratorSection {
    /// Trips planned at once.
    pub max_concurrent_requests: usize,
    /// Trips waiting for a slot; beyond it a submission gets 503.
    pub queue_capacity: usize,
    /// Per agent task (`30s`).
    pub default_timeout: HumanDuration,
    /// Retries after the first attempt of a task.
    pub retry_attempts: u32,
    /// Instances a task fails over to when its retries on one are spent.
    pub failover_instances: u32,
    /// Consecutive failures of an agent type that open its circuit.
    pub circuit_breaker_threshold: u32,
    /// First retry delay; doubles with each retry.
    pub retry_initial: HumanDuration,
    /// How long an open circuit fails fast.
    pub breaker_cool_down: HumanDuration,
    /// Snapshot a trip's state every this many events.
    pub snapshot_every: u64,
    /// A claimed task's lease, renewed by heartbeats.
    pub lease: HumanDuration,
    pub heartbeat: HumanDuration,
    /// An instance that does not answer a ping within this is offline.
    pub ping_deadline: HumanDuration,
    /// PostgreSQL: a process silent this long (and at least three
    /// heartbeats) is gone, and its running tasks are freed at once.
    pub node_timeout: HumanDuration,
    /// How often the consistency auditor compares trips with their logs
    /// and repairs what disagrees (`60s`); `0s`: never.
    #[serde(default = "default_audit_interval")]
    pub audit_interval: HumanDuration,
    /// The design document's "predictive scaling: anticipate demand
    /// spikes".
    #[serde(default)]
    pub predictive_scaling: PredictiveScalingSection,
}

fn default_audit_interval() -> HumanDuration {
    HumanDuration::from_millis(OrchestratorConfig::default().audit_interval_ms)
}

/// `orchestrator.predictive_scaling:` — each agent type's arrival rate
/// forecast by Holt's linear trend, and instances started for the
/// forecast load before it arrives (`enabled`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PredictiveScalingSection {
    pub enabled: bool,
    /// Weight of the newest bucket in the smoothed rate, (0, 1].
    pub alpha: f64,
    /// Weight of the newest change in the trend, (0, 1].
    pub beta: f64,
    /// How far ahead the forecast looks (`30s`).
    pub horizon: HumanDuration,
    /// Arrivals are counted per bucket of this width (`5s`).
    pub bucket: HumanDuration,
}

impl Default for PredictiveScalingSection {
    fn default() -> Self {
        Self::from(&PredictiveScalingConfig::default())
    }
}

impl From<&PredictiveScalingConfig> for PredictiveScalingSection {
    fn from(p: &PredictiveScalingConfig) -> Self {
        Self {
            enabled: p.enabled,
            alpha: p.alpha,
            beta: p.beta,
            horizon: HumanDuration::from_millis(p.horizon_ms),
            bucket: HumanDuration::from_millis(p.bucket_ms),
        }
    }
}

impl PredictiveScalingSection {
    fn engine(&self) -> PredictiveScalingConfig {
        PredictiveScalingConfig {
            enabled: self.enabled,
            alpha: self.alpha,
            beta: self.beta,
            horizon_ms: self.horizon.as_millis(),
            bucket_ms: self.bucket.as_millis(),
        }
    }

    fn problems(&self, problems: &mut Vec<String>) {
        for (key, weight) in [("alpha", self.alpha), ("beta", self.beta)] {
            if !(weight.is_finite() && weight > 0.0 && weight <= 1.0) {
                problems.push(format!(
                    "key `orchestrator.predictive_scaling.{key}`: {weight} is not a smoothing weight in (0, 1]"
                ));
            }
        }
        if self.bucket.as_millis() == 0 {
            problems
                .push("key `orchestrator.predictive_scaling.bucket`: must be above 0".to_owned());
        }
    }
}

/// `agents.<type>:` of the design document. Fields left out of a type the
/// defaults do not list get the engine's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSection {
    pub min_instances: u32,
    pub max_instances: u32,
    /// Load over capacity above which another instance starts (`80%`).
    pub scale_threshold: Percent,
    /// Tasks one instance runs at once.
    pub max_capacity: u32,
    /// Nominal cost of one call (USD), for routing and `/metrics`.
    pub cost_per_request: f64,
    /// Accepted as the design document writes it; Wayfare's agents are not
    /// language models, so nothing reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u32>,
}

/// `communication:` of the design document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunicationSection {
    pub message_queue_size: usize,
    /// Optional (P3) tasks are dispatched in batches of at most this many.
    pub batch_size: usize,
    /// Accepted as the design document writes them; the hub runs inside
    /// one process (and its database), so there is nothing to compress or
    /// encrypt on the way.
    #[serde(default)]
    pub compression: bool,
    #[serde(default)]
    pub encryption: bool,
}

/// `faults.<type>:` — rates as `30%` or `0.3`, latency as `200ms`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSection {
    pub error_rate: Percent,
    pub timeout_rate: Percent,
    pub panic_rate: Percent,
    pub added_latency: HumanDuration,
}

/// `cache:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    pub enabled: bool,
    /// Entries per cache level.
    pub capacity: usize,
}

impl From<&RuntimeConfig> for OrchestratorSection {
    fn from(rc: &RuntimeConfig) -> Self {
        let o = &rc.orchestrator;
        Self {
            max_concurrent_requests: o.max_concurrent_requests,
            queue_capacity: o.queue_capacity,
            default_timeout: HumanDuration::from_millis(o.default_timeout_ms),
            retry_attempts: o.retry_attempts,
            failover_instances: o.failover_instances,
            circuit_breaker_threshold: o.circuit_breaker_threshold,
            retry_initial: HumanDuration::from_millis(o.retry_initial_ms),
            breaker_cool_down: HumanDuration::from_millis(o.breaker_cool_down_ms),
            snapshot_every: o.snapshot_every,
            lease: HumanDuration::from_millis(o.lease_ms),
            heartbeat: HumanDuration::from_millis(o.heartbeat_ms),
            ping_deadline: HumanDuration::from_millis(o.ping_deadline_ms),
            node_timeout: HumanDuration::from_millis(o.node_timeout_ms),
            audit_interval: HumanDuration::from_millis(o.audit_interval_ms),
            predictive_scaling: PredictiveScalingSection::from(&rc.predictive_scaling),
        }
    }
}

impl Default for AgentSection {
    fn default() -> Self {
        Self::from(&AgentConfig::default())
    }
}

impl From<&AgentConfig> for AgentSection {
    fn from(a: &AgentConfig) -> Self {
        Self {
            min_instances: a.min_instances,
            max_instances: a.max_instances,
            scale_threshold: Percent(a.scale_threshold),
            max_capacity: a.max_capacity,
            cost_per_request: a.cost_per_request,
            context_window: None,
        }
    }
}

impl From<&FaultSection> for FaultConfig {
    fn from(f: &FaultSection) -> Self {
        FaultConfig {
            error_rate: f.error_rate.0,
            timeout_rate: f.timeout_rate.0,
            panic_rate: f.panic_rate.0,
            added_latency: f.added_latency.0,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let listen = std::env::var("LEPTOS_SITE_ADDR")
            .ok()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let site_root = std::env::var("LEPTOS_SITE_ROOT")
            .map_or_else(|_| PathBuf::from("target/site"), PathBuf::from);
        let runtime = RuntimeConfig::default();
        Self {
            listen,
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            log: "info".to_owned(),
            site_root,
            catalog_poll: HumanDuration::from_millis(5_000),
            orchestrator: OrchestratorSection::from(&runtime),
            // Every type, so that a file setting one field of one agent
            // keeps the engine's defaults for the others.
            agents: AgentType::ALL
                .into_iter()
                .map(|t| (t.as_str().to_owned(), AgentSection::from(&runtime.agent(t))))
                .collect(),
            communication: CommunicationSection {
                message_queue_size: runtime.communication.message_queue_size,
                batch_size: runtime.communication.batch_size,
                compression: false,
                encryption: false,
            },
            faults: BTreeMap::new(),
            cache: CacheSection {
                enabled: runtime.cache.enabled,
                capacity: runtime.cache.capacity,
            },
            http: HttpSection::default(),
            security: SecuritySection::default(),
            llm: None,
            alerts: AlertsSection::default(),
        }
    }
}

/// A configuration that could not be loaded or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults ← `file` (when given it must exist; otherwise
    /// `wayfare.yaml` is read if present) ← `WAYFARE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, None)
    }

    /// As [`Config::load`], with `profile`'s defaults laid over the
    /// built-in ones (under the file and the environment).
    pub fn load_with(file: Option<&Path>, profile: Option<Profile>) -> Result<Self, ConfigError> {
        let figment = Self::figment(file, profile)?;
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// The effective configuration, one `key = value  # source` line per
    /// key (`wayfare config --show`).
    pub fn show(file: Option<&Path>, profile: Option<Profile>) -> Result<String, ConfigError> {
        let figment = Self::figment(file, profile)?;
        let config = Self::load_with(file, profile)?;
        profile::describe(&figment, &config).map_err(|e| ConfigError::Invalid(describe(*e)))
    }

    /// The layers, lowest first: built-in defaults, the profile's, the
    /// file, the environment.
    fn figment(file: Option<&Path>, profile: Option<Profile>) -> Result<Figment, ConfigError> {
        let defaults = Config::default();
        let mut figment = Figment::from(Serialized::defaults(&defaults));
        if let Some(profile) = profile {
            figment = figment.merge(profile.provider(&defaults));
        }
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Yaml::file_exact(path)),
            None => figment = figment.merge(Yaml::file(DEFAULT_CONFIG_FILE)),
        }
        let env = Env::prefixed("WAYFARE_")
            .map(|key| key.as_str().to_ascii_lowercase().into())
            .split("__")
            .filter(|key| KEYS.contains(&key.as_str().split('.').next().unwrap_or_default()));
        Ok(figment.merge(env))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.database_url;
        let known = url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://");
        if !known {
            return Err(ConfigError::Invalid(format!(
                "key `database_url`: {url:?} is neither sqlite://PATH nor postgres://…"
            )));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log).map_err(|e| {
            ConfigError::Invalid(format!(
                "key `log`: {:?} is not a log filter: {e}",
                self.log
            ))
        })?;
        self.validate_runtime()
    }

    /// The orchestration sections: every problem found, each naming its key.
    fn validate_runtime(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut at_least_one = |key: &str, value: u64| {
            if value == 0 {
                problems.push(format!("key `{key}`: must be at least 1"));
            }
        };
        let o = &self.orchestrator;
        at_least_one(
            "orchestrator.max_concurrent_requests",
            o.max_concurrent_requests as u64,
        );
        at_least_one("orchestrator.queue_capacity", o.queue_capacity as u64);
        at_least_one(
            "orchestrator.default_timeout",
            o.default_timeout.as_millis(),
        );
        at_least_one(
            "orchestrator.circuit_breaker_threshold",
            u64::from(o.circuit_breaker_threshold),
        );
        at_least_one("orchestrator.snapshot_every", o.snapshot_every);
        at_least_one("orchestrator.heartbeat", o.heartbeat.as_millis());
        at_least_one("orchestrator.lease", o.lease.as_millis());
        at_least_one(
            "communication.message_queue_size",
            self.communication.message_queue_size as u64,
        );
        at_least_one(
            "communication.batch_size",
            self.communication.batch_size as u64,
        );
        at_least_one("cache.capacity", self.cache.capacity as u64);
        o.predictive_scaling.problems(&mut problems);
        self.http.problems(&mut problems);
        self.security.problems(&mut problems);
        self.alerts.problems(&mut problems);
        if let Some(llm) = &self.llm {
            llm.problems(&mut problems);
        }
        if o.heartbeat >= o.lease {
            problems.push(format!(
                "key `orchestrator.heartbeat`: {} must be shorter than orchestrator.lease ({}), or every lease expires between two heartbeats",
                o.heartbeat, o.lease
            ));
        }
        for (name, agent) in &self.agents {
            if AgentType::parse(name).is_none() {
                problems.push(format!(
                    "key `agents.{name}`: unknown agent type (known: {})",
                    AgentType::ALL.map(AgentType::as_str).join(", ")
                ));
                continue;
            }
            if agent.min_instances == 0 {
                problems.push(format!(
                    "key `agents.{name}.min_instances`: must be at least 1"
                ));
            }
            if agent.max_instances < agent.min_instances {
                problems.push(format!(
                    "key `agents.{name}.max_instances`: {} is below min_instances ({})",
                    agent.max_instances, agent.min_instances
                ));
            }
            if agent.max_capacity == 0 {
                problems.push(format!(
                    "key `agents.{name}.max_capacity`: must be at least 1"
                ));
            }
            if agent.scale_threshold.0 <= 0.0 {
                problems.push(format!(
                    "key `agents.{name}.scale_threshold`: must be above 0%"
                ));
            }
            if !(agent.cost_per_request.is_finite() && agent.cost_per_request >= 0.0) {
                problems.push(format!(
                    "key `agents.{name}.cost_per_request`: must be a non-negative amount"
                ));
            }
        }
        for (name, fault) in &self.faults {
            if name != ALL_AGENTS && AgentType::parse(name).is_none() {
                problems.push(format!(
                    "key `faults.{name}`: unknown agent type (known: {}, or `{ALL_AGENTS}`)",
                    AgentType::ALL.map(AgentType::as_str).join(", ")
                ));
                continue;
            }
            let sum = fault.error_rate.0 + fault.timeout_rate.0 + fault.panic_rate.0;
            if sum > 1.0 + 1e-9 {
                problems.push(format!(
                    "key `faults.{name}`: error_rate + timeout_rate + panic_rate is {}, above 100%",
                    Percent(sum)
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems.join("; ")))
        }
    }

    /// The engine's view of the orchestration sections. Faults under `all`
    /// apply to every agent type that has no entry of its own.
    pub fn runtime(&self) -> RuntimeConfig {
        let o = &self.orchestrator;
        let mut faults = BTreeMap::new();
        if let Some(all) = self.faults.get(ALL_AGENTS) {
            for agent_type in AgentType::ALL {
                faults.insert(agent_type.as_str().to_owned(), FaultConfig::from(all));
            }
        }
        for (name, fault) in &self.faults {
            if name != ALL_AGENTS {
                faults.insert(name.clone(), FaultConfig::from(fault));
            }
        }
        RuntimeConfig {
            orchestrator: OrchestratorConfig {
                max_concurrent_requests: o.max_concurrent_requests,
                queue_capacity: o.queue_capacity,
                default_timeout_ms: o.default_timeout.as_millis(),
                retry_attempts: o.retry_attempts,
                failover_instances: o.failover_instances,
                circuit_breaker_threshold: o.circuit_breaker_threshold,
                retry_initial_ms: o.retry_initial.as_millis(),
                breaker_cool_down_ms: o.breaker_cool_down.as_millis(),
                snapshot_every: o.snapshot_every,
                lease_ms: o.lease.as_millis(),
                heartbeat_ms: o.heartbeat.as_millis(),
                ping_deadline_ms: o.ping_deadline.as_millis(),
                node_timeout_ms: o.node_timeout.as_millis(),
                audit_interval_ms: o.audit_interval.as_millis(),
                // Knobs the design document does not name keep the
                // engine's defaults.
                ..OrchestratorConfig::default()
            },
            agents: self
                .agents
                .iter()
                .map(|(name, a)| {
                    (
                        name.clone(),
                        AgentConfig {
                            min_instances: a.min_instances,
                            max_instances: a.max_instances,
                            scale_threshold: a.scale_threshold.0,
                            max_capacity: a.max_capacity,
                            cost_per_request: a.cost_per_request,
                        },
                    )
                })
                .collect(),
            communication: CommunicationConfig {
                message_queue_size: self.communication.message_queue_size,
                batch_size: self.communication.batch_size,
            },
            faults,
            cache: CacheConfig {
                enabled: self.cache.enabled,
                capacity: self.cache.capacity,
            },
            llm: self.llm.as_ref().map(LlmSection::engine),
            predictive_scaling: o.predictive_scaling.engine(),
        }
    }

    /// The database to use: `database_url`, or the default SQLite file.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("wayfare.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

/// Every error figment found, each naming its key and where the bad value
/// came from (the file, or the exact environment variable).
fn describe(err: figment::Error) -> String {
    err.into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let origin = match &e.metadata {
                Some(meta) if meta.name.contains("environment") => {
                    format!(
                        " (environment variable WAYFARE_{})",
                        key.to_ascii_uppercase().replace('.', "__")
                    )
                }
                Some(meta) => meta
                    .source
                    .as_ref()
                    .map(|s| format!(" (in {s})"))
                    .unwrap_or_default(),
                None => String::new(),
            };
            if key.is_empty() {
                format!("{}{origin}", e.kind)
            } else {
                format!("key `{key}`: {}{origin}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closures must return figment::Error"
)]
mod tests {
    use figment::Jail;

    use super::*;

    // `Jail` runs each test in its own directory with its own environment
    // (and serialises them), so the real process environment is not touched.

    #[test]
    fn defaults_need_no_file_and_use_sqlite_in_the_data_dir() {
        Jail::expect_with(|_jail| {
            assert!(matches!(
                Config::load(Some(Path::new("nope.yaml"))),
                Err(ConfigError::MissingFile(_))
            ));
            let config = Config::load(None).expect("defaults are valid");
            assert_eq!(config.database_url(), "sqlite://data/wayfare.db");
            assert_eq!(config.log, "info");
            Ok(())
        });
    }

    #[test]
    fn a_profile_lies_under_the_file_and_the_environment() {
        Jail::expect_with(|jail| {
            let dev = Config::load_with(None, Some(Profile::Development)).expect("valid");
            assert!(
                dev.agents
                    .values()
                    .all(|a| a.min_instances == 1 && a.max_instances == 1)
            );
            assert!(dev.log.contains("wayfare_engine=debug"), "{}", dev.log);
            let prod = Config::load_with(None, Some(Profile::Production)).expect("valid");
            assert!(
                prod.agents
                    .values()
                    .all(|a| a.min_instances == 2 && a.max_instances >= 2)
            );
            let staging = Config::load_with(None, Some(Profile::Staging)).expect("valid");
            let defaults = Config::load(None).expect("valid");
            assert_eq!(
                staging.orchestrator.max_concurrent_requests,
                defaults.orchestrator.max_concurrent_requests / 2
            );
            assert!(staging.agents.values().all(|a| a.max_instances <= 2));

            // The file wins over the profile, the environment over both.
            jail.create_file(
                "wayfare.yaml",
                "log: warn\nagents:\n  transport:\n    min_instances: 3\n    max_instances: 4\n",
            )?;
            jail.set_env("WAYFARE_AGENTS__DINING__MAX_INSTANCES", "6");
            let config = Config::load_with(None, Some(Profile::Development)).expect("valid");
            assert_eq!(config.log, "warn");
            assert_eq!(config.agents["transport"].min_instances, 3);
            assert_eq!(config.agents["dining"].max_instances, 6);
            assert_eq!(config.agents["dining"].min_instances, 1, "the profile's");

            let shown = Config::show(None, Some(Profile::Development)).expect("shown");
            let line = |key: &str| {
                shown
                    .lines()
                    .find(|l| l.split_whitespace().next() == Some(key))
                    .unwrap_or_else(|| panic!("no {key} in\n{shown}"))
                    .to_owned()
            };
            assert!(line("log").ends_with("/wayfare.yaml"), "{}", line("log"));
            assert!(line("log").contains("# file "), "{}", line("log"));
            assert!(
                line("agents.dining.max_instances")
                    .ends_with("# environment WAYFARE_AGENTS__DINING__MAX_INSTANCES"),
                "{}",
                line("agents.dining.max_instances")
            );
            assert!(line("agents.dining.min_instances").ends_with("# profile development"));
            assert!(line("orchestrator.lease").ends_with("# built-in default"));
            assert!(line("agents.dining.min_instances").contains("= 1"));
            Ok(())
        });
    }

    #[test]
    fn the_environment_overrides_the_file() {
        Jail::expect_with(|jail| {
            jail.create_file("wayfare.yaml", "listen: 127.0.0.1:4000\nlog: debug\n")?;
            jail.set_env("WAYFARE_LOG", "warn");
            jail.set_env("WAYFARE_TEST_POSTGRES_URL", "not config, ignored");
            let config = Config::load(None).expect("valid");
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 4000)));
            assert_eq!(config.log, "warn");
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_is_reported_with_its_key() {
        Jail::expect_with(|jail| {
            jail.set_env("WAYFARE_LISTEN", "not-an-address");
            let msg = Config::load(None).expect_err("invalid").to_string();
            assert!(
                msg.contains("listen") && msg.contains("WAYFARE_LISTEN"),
                "{msg}"
            );
            Ok(())
        });
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused_by_name() {
        Jail::expect_with(|jail| {
            jail.create_file("w.yaml", "listne: 127.0.0.1:4000\n")?;
            let msg = Config::load(Some(Path::new("w.yaml")))
                .expect_err("invalid")
                .to_string();
            assert!(msg.contains("listne"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn a_database_url_of_an_unknown_kind_is_refused() {
        Jail::expect_with(|jail| {
            jail.set_env("WAYFARE_DATABASE_URL", "mysql://x");
            let msg = Config::load(None).expect_err("invalid").to_string();
            assert!(msg.contains("database_url"), "{msg}");
            Ok(())
        });
    }

    /// The configuration block of docs/orchestration-architecture.md,
    /// verbatim.
    const DESIGN_YAML: &str = "\
orchestrator:
  max_concurrent_requests: 100
  default_timeout: 30s
  retry_attempts: 3
  circuit_breaker_threshold: 10
  
agents:
  location:
    max_instances: 5
    scale_threshold: 80%
    context_window: 4096
  transport:
    max_instances: 3
    scale_threshold: 75%
    context_window: 8192
    
communication:
  message_queue_size: 1000
  batch_size: 10
  compression: true
  encryption: true
";

    #[test]
    fn the_design_documents_yaml_loads_as_written() {
        Jail::expect_with(|jail| {
            jail.create_file("wayfare.yaml", DESIGN_YAML)?;
            let config = Config::load(None).expect("the design's YAML is valid");
            let runtime = config.runtime();
            assert_eq!(runtime.orchestrator.max_concurrent_requests, 100);
            assert_eq!(runtime.orchestrator.default_timeout_ms, 30_000);
            assert_eq!(runtime.orchestrator.retry_attempts, 3);
            assert_eq!(runtime.orchestrator.circuit_breaker_threshold, 10);
            assert_eq!(runtime.agent(AgentType::Location).max_instances, 5);
            assert!((runtime.agent(AgentType::Location).scale_threshold - 0.80).abs() < 1e-9);
            assert!((runtime.agent(AgentType::Transport).scale_threshold - 0.75).abs() < 1e-9);
            assert_eq!(runtime.communication.message_queue_size, 1000);
            assert_eq!(runtime.communication.batch_size, 10);
            assert_eq!(config.agents["transport"].context_window, Some(8192));
            assert!(runtime.faults.is_empty(), "faults are off by default");
            Ok(())
        });
    }

    #[test]
    fn defaults_are_the_engines_defaults() {
        Jail::expect_with(|_jail| {
            let config = Config::load(None).expect("defaults are valid");
            let ours = config.runtime();
            let engine = RuntimeConfig::default();
            assert_eq!(ours.orchestrator, engine.orchestrator);
            assert_eq!(ours.communication, engine.communication);
            assert_eq!(ours.cache, engine.cache);
            assert_eq!(ours.predictive_scaling, engine.predictive_scaling);
            for agent_type in AgentType::ALL {
                assert_eq!(
                    ours.agent(agent_type),
                    engine.agent(agent_type),
                    "{agent_type}"
                );
            }
            Ok(())
        });
    }

    #[test]
    fn nested_keys_are_overridden_from_the_environment_with_double_underscores() {
        Jail::expect_with(|jail| {
            jail.create_file("wayfare.yaml", DESIGN_YAML)?;
            jail.set_env("WAYFARE_ORCHESTRATOR__MAX_CONCURRENT_REQUESTS", "5");
            jail.set_env("WAYFARE_ORCHESTRATOR__DEFAULT_TIMEOUT", "250ms");
            jail.set_env("WAYFARE_AGENTS__LOCATION__SCALE_THRESHOLD", "50%");
            jail.set_env("WAYFARE_FAULTS__ALL__ERROR_RATE", "0.3");
            jail.set_env("WAYFARE_FAULTS__DINING__ADDED_LATENCY", "40ms");
            jail.set_env("WAYFARE_CACHE__ENABLED", "false");
            jail.set_env("WAYFARE_ORCHESTRATOR__NODE_TIMEOUT", "7s");
            let runtime = Config::load(None).expect("valid").runtime();
            assert_eq!(runtime.orchestrator.max_concurrent_requests, 5);
            assert_eq!(runtime.orchestrator.node_timeout_ms, 7_000);
            assert_eq!(runtime.orchestrator.default_timeout_ms, 250);
            assert!((runtime.agent(AgentType::Location).scale_threshold - 0.5).abs() < 1e-9);
            assert_eq!(
                runtime.agent(AgentType::Location).max_instances,
                5,
                "the file still counts"
            );
            assert!(!runtime.cache.enabled);
            // `all` reaches every type without its own entry…
            assert!((runtime.faults["transport"].error_rate - 0.3).abs() < 1e-9);
            // …and a type's own entry replaces it.
            assert_eq!(
                runtime.faults["dining"].added_latency,
                std::time::Duration::from_millis(40)
            );
            assert_eq!(runtime.faults["dining"].error_rate, 0.0);
            Ok(())
        });
    }

    #[test]
    fn a_bad_human_value_is_reported_with_its_key_and_variable() {
        Jail::expect_with(|jail| {
            jail.set_env("WAYFARE_ORCHESTRATOR__DEFAULT_TIMEOUT", "30 parsecs");
            let msg = Config::load(None).expect_err("invalid").to_string();
            assert!(
                msg.contains("orchestrator.default_timeout")
                    && msg.contains("WAYFARE_ORCHESTRATOR__DEFAULT_TIMEOUT"),
                "{msg}"
            );
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file(
                "wayfare.yaml",
                "agents:\n  location:\n    scale_threshold: 180%\n",
            )?;
            let msg = Config::load(None).expect_err("invalid").to_string();
            assert!(msg.contains("agents.location.scale_threshold"), "{msg}");
            Ok(())
        });
    }

    #[test]
    fn inconsistent_runtime_settings_are_refused_by_key() {
        let cases = [
            (
                "orchestrator:\n  max_concurrent_requests: 0\n",
                "orchestrator.max_concurrent_requests",
            ),
            (
                "orchestrator:\n  heartbeat: 10s\n  lease: 5s\n",
                "orchestrator.heartbeat",
            ),
            (
                "agents:\n  locaton:\n    max_instances: 2\n",
                "agents.locaton",
            ),
            (
                "agents:\n  dining:\n    min_instances: 3\n    max_instances: 2\n",
                "agents.dining.max_instances",
            ),
            ("faults:\n  hotel:\n    error_rate: 10%\n", "faults.hotel"),
            (
                "faults:\n  all:\n    error_rate: 60%\n    timeout_rate: 60%\n",
                "faults.all",
            ),
            (
                "communication:\n  batch_size: 0\n",
                "communication.batch_size",
            ),
            ("orchestrator:\n  retry_atempts: 2\n", "retry_atempts"),
            (
                "orchestrator:\n  predictive_scaling:\n    alpha: 1.5\n",
                "orchestrator.predictive_scaling.alpha",
            ),
            (
                "orchestrator:\n  predictive_scaling:\n    bucket: 0s\n",
                "orchestrator.predictive_scaling.bucket",
            ),
            (
                "orchestrator:\n  predictive_scaling:\n    horizn: 10s\n",
                "horizn",
            ),
        ];
        for (yaml, key) in cases {
            Jail::expect_with(|jail| {
                jail.create_file("wayfare.yaml", yaml)?;
                let msg = Config::load(None).expect_err(yaml).to_string();
                assert!(msg.contains(key), "{yaml}: {msg}");
                Ok(())
            });
        }
    }

    #[test]
    fn predictive_scaling_is_read_from_the_file_the_environment_and_the_profiles() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).expect("valid").runtime();
            assert!(!defaults.predictive_scaling.enabled, "off unless chosen");
            for (profile, on) in [
                (Profile::Development, false),
                (Profile::Staging, true),
                (Profile::Production, true),
            ] {
                let config = Config::load_with(None, Some(profile)).expect("valid");
                assert_eq!(config.runtime().predictive_scaling.enabled, on, "{profile}");
            }
            jail.create_file(
                "wayfare.yaml",
                "orchestrator:\n  predictive_scaling:\n    enabled: true\n    alpha: 0.4\n    horizon: 1m\n    bucket: 10s\n",
            )?;
            jail.set_env("WAYFARE_ORCHESTRATOR__PREDICTIVE_SCALING__BETA", "0.2");
            let p = Config::load(None)
                .expect("valid")
                .runtime()
                .predictive_scaling;
            assert!(p.enabled);
            assert_eq!((p.alpha, p.beta), (0.4, 0.2));
            assert_eq!((p.horizon_ms, p.bucket_ms), (60_000, 10_000));
            // The file wins over the profile.
            jail.create_file(
                "wayfare.yaml",
                "orchestrator:\n  predictive_scaling:\n    enabled: false\n",
            )?;
            let config = Config::load_with(None, Some(Profile::Production)).expect("valid");
            assert!(!config.runtime().predictive_scaling.enabled);
            Ok(())
        });
    }

    #[test]
    fn the_llm_section_is_off_by_default_and_read_when_present() {
        Jail::expect_with(|jail| {
            let config = Config::load(None).expect("defaults are valid");
            assert!(config.llm.is_none() && config.runtime().llm.is_none());
            jail.create_file(
                "wayfare.yaml",
                "llm: {base_url: http://127.0.0.1:11434/v1, model: llama3.1}\n",
            )?;
            let llm = Config::load(None).expect("valid").runtime().llm;
            let llm = llm.expect("on");
            assert_eq!(llm.base_url, "http://127.0.0.1:11434/v1");
            assert_eq!(llm.model, "llama3.1");
            assert_eq!(llm.api_key_env, None);
            assert_eq!(llm.timeout_ms, 10_000, "the default timeout");
            assert_eq!(
                (llm.price_per_1k_input, llm.price_per_1k_output),
                (None, None)
            );
            jail.create_file(
                "wayfare.yaml",
                "llm:\n  base_url: https://api.example.com/v1\n  model: gpt-4o-mini\n  api_key_env: WAYFARE_TEST_LLM_KEY\n  timeout: 4s\n  cost_per_1k_tokens: 0.0006\n  price_per_1k_input: 0.00015\n  price_per_1k_output: 0.0006\n",
            )?;
            jail.set_env("WAYFARE_TEST_LLM_KEY", "sk-test");
            jail.set_env("WAYFARE_LLM__MODEL", "gpt-4.1-mini");
            let llm = Config::load(None).expect("valid").runtime().llm;
            let llm = llm.expect("on");
            assert_eq!(llm.api_key_env.as_deref(), Some("WAYFARE_TEST_LLM_KEY"));
            assert_eq!(llm.timeout_ms, 4_000);
            assert!((llm.cost_per_1k_tokens - 0.0006).abs() < 1e-12);
            assert_eq!(
                (llm.price_per_1k_input, llm.price_per_1k_output),
                (Some(0.00015), Some(0.0006))
            );
            assert_eq!(llm.model, "gpt-4.1-mini", "the environment wins");
            Ok(())
        });
    }

    #[test]
    fn a_bad_llm_section_is_refused_by_key() {
        let cases = [
            (
                "llm:\n  api_key_env: WAYFARE_TEST_UNSET_LLM_KEY\n",
                "the environment variable WAYFARE_TEST_UNSET_LLM_KEY is not set",
            ),
            ("llm:\n  api_key: sk-secret\n", "llm.api_key_env"),
            ("llm:\n  base_url: localhost:11434\n", "llm.base_url"),
            ("llm:\n  timeout: 0s\n", "llm.timeout"),
            ("llm:\n  model: ''\n", "llm.model"),
            ("llm:\n  cost_per_1k_tokens: -1\n", "llm.cost_per_1k_tokens"),
            ("llm:\n  modle: llama3.1\n", "modle"),
        ];
        for (yaml, expected) in cases {
            Jail::expect_with(|jail| {
                jail.create_file("wayfare.yaml", yaml)?;
                let msg = Config::load(None).expect_err(yaml).to_string();
                assert!(msg.contains(expected), "{yaml}: {msg}");
                assert!(!msg.contains("sk-secret"), "the key is not echoed: {msg}");
                Ok(())
            });
        }
    }

    #[test]
    fn http_and_security_settings_load_from_the_environment() {
        Jail::expect_with(|jail| {
            let defaults = Config::load(None).expect("valid");
            assert!(defaults.security.rate_limit.enabled);
            assert!(defaults.security.headers && defaults.security.check_origin);
            jail.set_env("WAYFARE_HTTP__HEADER_READ_TIMEOUT", "2s");
            jail.set_env("WAYFARE_HTTP__SHUTDOWN_GRACE", "500ms");
            jail.set_env("WAYFARE_SECURITY__RATE_LIMIT__ENABLED", "false");
            jail.set_env("WAYFARE_SECURITY__RATE_LIMIT__PER_SECOND", "50");
            jail.set_env(
                "WAYFARE_SECURITY__ALLOWED_ORIGINS",
                "[https://wayfare.example]",
            );
            let config = Config::load(None).expect("valid");
            assert_eq!(
                config.http.header_read_timeout,
                HumanDuration::from_millis(2_000)
            );
            assert_eq!(config.http.shutdown_grace, HumanDuration::from_millis(500));
            assert!(!config.security.rate_limit.enabled);
            assert_eq!(config.security.rate_limit.per_second, 50);
            assert_eq!(config.security.allowed_origins, ["https://wayfare.example"]);
            Ok(())
        });
        for (yaml, key) in [
            ("http:\n  body_timeout: 0s\n", "http.body_timeout"),
            (
                "security:\n  rate_limit:\n    burst: 0\n",
                "security.rate_limit",
            ),
            (
                "security:\n  allowed_origins: [wayfare.example]\n",
                "security.allowed_origins",
            ),
        ] {
            Jail::expect_with(|jail| {
                jail.create_file("wayfare.yaml", yaml)?;
                let msg = Config::load(None).expect_err(yaml).to_string();
                assert!(msg.contains(key), "{yaml}: {msg}");
                Ok(())
            });
        }
    }
}
