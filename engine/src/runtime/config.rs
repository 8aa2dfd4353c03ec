//! [`RuntimeConfig`]: the design doc's configuration (orchestrator, agents,
//! communication) plus fault injection and caching. `Default` is the doc's
//! YAML; every field may be omitted in a file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::graph::AgentType;
use crate::llm::LlmConfig;
use crate::resilience::FaultConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeConfig {
    pub orchestrator: OrchestratorConfig,
    /// Per agent type; a type not listed gets `AgentConfig::default()`.
    pub agents: BTreeMap<String, AgentConfig>,
    pub communication: CommunicationConfig,
    /// Injected faults per agent type (off by default: demo and chaos runs).
    pub faults: BTreeMap<String, FaultConfig>,
    pub cache: CacheConfig,
    /// Language-model intent extraction for what the rules cannot read;
    /// `None` (the default): off.
    pub llm: Option<LlmConfig>,
    /// Starting instances for the load a forecast expects (the design
    /// doc's "predictive scaling"); off by default, the forecast is still
    /// kept and exported.
    pub predictive_scaling: PredictiveScalingConfig,
}

/// Holt's linear trend over each agent type's arrival rate
/// ([`super::forecast`]), and what the supervisor does with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PredictiveScalingConfig {
    /// Start instances ahead of the forecast load, and keep them while it
    /// lasts. Off: scaling is reactive only (the forecast is still made).
    pub enabled: bool,
    /// Weight of the newest bucket in the smoothed rate (0..1].
    pub alpha: f64,
    /// Weight of the newest change in the trend (0..1].
    pub beta: f64,
    /// How far ahead the forecast looks, in ms.
    pub horizon_ms: u64,
    /// Width of one arrival-count bucket, in ms.
    pub bucket_ms: u64,
}

impl Default for PredictiveScalingConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            alpha: 0.5,
            beta: 0.3,
            horizon_ms: 30_000,
            bucket_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrchestratorConfig {
    /// Trips planned at once.
    pub max_concurrent_requests: usize,
    /// Trips waiting for a slot beyond which `submit` answers Overloaded.
    pub queue_capacity: usize,
    /// Per agent task.
    pub default_timeout_ms: u64,
    /// Retries after the first attempt of a task.
    pub retry_attempts: u32,
    /// Instances a failing task fails over to once its retries on one
    /// are spent, each with a fresh `retry_attempts` (optional tasks are
    /// dropped instead).
    pub failover_instances: u32,
    /// Consecutive failures of an agent type that open its circuit.
    pub circuit_breaker_threshold: u32,
    /// First retry delay; doubles each retry.
    pub retry_initial_ms: u64,
    /// How long an open circuit fails fast.
    pub breaker_cool_down_ms: u64,
    /// Snapshot a trip's state every this many events.
    pub snapshot_every: u64,
    /// A claimed task's lease; renewed by heartbeats.
    pub lease_ms: u64,
    /// Heartbeats, health pings and the dispatcher's idle tick.
    pub heartbeat_ms: u64,
    /// An instance that does not answer a ping within this is offline.
    pub ping_deadline_ms: u64,
    /// A process sharing the store (PostgreSQL) that has not said it is
    /// alive for this long is gone: the tasks it leased are released at
    /// once rather than when their leases run out. Kept at least three
    /// heartbeats.
    pub node_timeout_ms: u64,
    /// Run agents on tokio's blocking pool (production). Tests with paused
    /// time run them inline, so that the clock cannot jump while one runs.
    pub run_agents_on_blocking_pool: bool,
    /// The year of dates written without one (as `Planner::with_default_year`;
    /// the TravelPlanner queries want 2022). `None`: the parser's default.
    pub default_year: Option<i32>,
    /// How often the consistency auditor (`runtime::audit`) compares the
    /// trips that changed, and a slice of all of them, with their logs and
    /// repairs what disagrees; 0: never.
    pub audit_interval_ms: u64,
    /// The agent types this process runs instances of and claims tasks
    /// for (`wayfare serve --agents`, `wayfare worker --agents`): all of
    /// them by default; on a shared database the web tier may run none
    /// and workers each some, so that each type scales on its own.
    pub local_agents: LocalAgents,
}

/// Which agent types a process runs locally.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAgents {
    /// Every type of [`AgentType::ALL`].
    #[default]
    All,
    /// Only these (none: the process plans nothing itself), in
    /// [`AgentType::ALL`] order without repeats.
    Only(Vec<AgentType>),
}

/// A name in `--agents` that is no agent type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown agent type {name:?}; the agent types are {} (or `all`, or `none`)",
    AgentType::ALL.map(AgentType::as_str).join(", ")
)]
pub struct UnknownAgentType {
    pub name: String,
}

impl LocalAgents {
    /// Reads `all`, `none`, or a comma-separated list of agent types
    /// (`transport,accommodation`). Strict: a name that is no agent type
    /// is refused (a typo would otherwise leave a type served nowhere),
    /// and so is an empty name in the list.
    pub fn parse(list: &str) -> Result<Self, UnknownAgentType> {
        match list.trim() {
            "all" => return Ok(LocalAgents::All),
            "none" => return Ok(LocalAgents::Only(Vec::new())),
            _ => {}
        }
        let mut chosen = Vec::new();
        for name in list.split(',').map(str::trim) {
            let Some(agent_type) = AgentType::parse(name) else {
                return Err(UnknownAgentType {
                    name: name.to_owned(),
                });
            };
            chosen.push(agent_type);
        }
        Ok(LocalAgents::Only(
            AgentType::ALL
                .into_iter()
                .filter(|t| chosen.contains(t))
                .collect(),
        ))
    }

    /// Whether this process runs `agent_type`.
    pub fn runs(&self, agent_type: AgentType) -> bool {
        match self {
            LocalAgents::All => true,
            LocalAgents::Only(types) => types.contains(&agent_type),
        }
    }

    /// The agent types run here, in [`AgentType::ALL`] order.
    pub fn types(&self) -> Vec<AgentType> {
        AgentType::ALL
            .into_iter()
            .filter(|t| self.runs(*t))
            .collect()
    }
}

impl std::str::FromStr for LocalAgents {
    type Err = UnknownAgentType;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Self::parse(list)
    }
}

impl std::fmt::Display for LocalAgents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocalAgents::All => f.write_str("all"),
            LocalAgents::Only(types) if types.is_empty() => f.write_str("none"),
            LocalAgents::Only(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 100,
            queue_capacity: 1000,
            default_timeout_ms: 30_000,
            retry_attempts: 3,
            failover_instances: 1,
            circuit_breaker_threshold: 10,
            retry_initial_ms: 200,
            breaker_cool_down_ms: 30_000,
            snapshot_every: 50,
            lease_ms: 30_000,
            heartbeat_ms: 1_000,
            ping_deadline_ms: 2_000,
            node_timeout_ms: 3_000,
            run_agents_on_blocking_pool: true,
            default_year: None,
            audit_interval_ms: 60_000,
            local_agents: LocalAgents::All,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentConfig {
    pub min_instances: u32,
    pub max_instances: u32,
    /// Load over capacity (0..1) above which another instance starts.
    pub scale_threshold: f64,
    /// Tasks one instance runs at once.
    pub max_capacity: u32,
    /// Nominal cost of one call, for the delegation score and metrics.
    pub cost_per_request: f64,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            min_instances: 1,
            max_instances: 3,
            scale_threshold: 0.75,
            max_capacity: 4,
            cost_per_request: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommunicationConfig {
    pub message_queue_size: usize,
    /// P3 tasks are dispatched in batches of at most this many.
    pub batch_size: usize,
}

impl Default for CommunicationConfig {
    fn default() -> Self {
        Self {
            message_queue_size: 1000,
            batch_size: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    pub enabled: bool,
    /// Entries per cache level.
    pub capacity: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            capacity: 512,
        }
    }
}

impl RuntimeConfig {
    /// The design doc's YAML: location 5 instances at 80%, transport 3 at 75%.
    pub fn agent(&self, agent_type: AgentType) -> AgentConfig {
        self.agents
            .get(agent_type.as_str())
            .cloned()
            .unwrap_or_default()
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let mut agents = BTreeMap::new();
        agents.insert(
            "location".to_string(),
            AgentConfig {
                max_instances: 5,
                scale_threshold: 0.80,
                ..AgentConfig::default()
            },
        );
        agents.insert(
            "transport".to_string(),
            AgentConfig {
                max_instances: 3,
                scale_threshold: 0.75,
                ..AgentConfig::default()
            },
        );
        Self {
            orchestrator: OrchestratorConfig::default(),
            agents,
            communication: CommunicationConfig::default(),
            faults: BTreeMap::new(),
            cache: CacheConfig::default(),
            llm: None,
            predictive_scaling: PredictiveScalingConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_lists_are_read_strictly_in_pipeline_order() {
        assert_eq!(LocalAgents::parse("all"), Ok(LocalAgents::All));
        assert_eq!(LocalAgents::parse("none"), Ok(LocalAgents::Only(vec![])));
        let some = LocalAgents::parse("accommodation, transport,transport").expect("known types");
        assert_eq!(
            some.types(),
            vec![AgentType::Transport, AgentType::Accommodation]
        );
        assert_eq!(some.to_string(), "transport,accommodation");
        assert!(some.runs(AgentType::Transport) && !some.runs(AgentType::Planning));
        let err = LocalAgents::parse("transport,hotels").expect_err("hotels is no agent type");
        assert_eq!(err.name, "hotels");
        let message = err.to_string();
        assert!(
            message.contains("location, planning, transport") && message.contains("verifier"),
            "{message}"
        );
        assert!(LocalAgents::parse("transport,").is_err(), "an empty name");
    }
}
