//! Fault injection, to exercise the resilience paths on purpose (demo mode,
//! chaos tests): per agent type, a share of calls fail, hang (so the task
//! timeout fires), panic (so isolation catches it), and every call can be
//! slowed down. Decisions come from a seeded [`Rng`](super::Rng), so a run is
//! reproducible from its seed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Rng;
use super::error::AgentError;

/// The faults to inject into one agent type. Rates are probabilities in
/// `[0, 1]`; their sum should not exceed 1.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    pub error_rate: f64,
    pub timeout_rate: f64,
    pub panic_rate: f64,
    /// Slows every call down; written in milliseconds in configuration.
    #[serde(with = "millis")]
    pub added_latency: Duration,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// What happens to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    None,
    Error,
    Timeout,
    Panic,
}

/// Wraps agent calls with the configured faults.
#[derive(Debug)]
pub struct FaultInjector {
    configs: HashMap<String, FaultConfig>,
    rng: Mutex<Rng>,
}

impl FaultInjector {
    pub fn new(seed: u64) -> Self {
        Self {
            configs: HashMap::new(),
            rng: Mutex::new(Rng::with_seed(seed)),
        }
    }

    /// Injects `config` into calls of `agent_type`.
    pub fn with(mut self, agent_type: impl Into<String>, config: FaultConfig) -> Self {
        self.configs.insert(agent_type.into(), config);
        self
    }

    pub fn config(&self, agent_type: &str) -> FaultConfig {
        self.configs.get(agent_type).copied().unwrap_or_default()
    }

    /// Draws the fault for the next call of `agent_type`.
    pub fn roll(&self, agent_type: &str) -> Fault {
        let config = self.config(agent_type);
        let x = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .f64();
        if x < config.error_rate {
            Fault::Error
        } else if x < config.error_rate + config.timeout_rate {
            Fault::Timeout
        } else if x < config.error_rate + config.timeout_rate + config.panic_rate {
            Fault::Panic
        } else {
            Fault::None
        }
    }

    /// Runs `call` for `agent_type` with the faults applied: the latency
    /// first, then an injected transient error, a hang (never completes;
    /// wrap in [`super::with_timeout`]), a panic (wrap in
    /// [`super::isolate`]), or the real call.
    pub fn run<T, F>(
        &self,
        agent_type: &str,
        call: F,
    ) -> impl Future<Output = Result<T, AgentError>> + Send + use<T, F>
    where
        F: Future<Output = Result<T, AgentError>> + Send,
    {
        let latency = self.config(agent_type).added_latency;
        let fault = self.roll(agent_type);
        let agent_type = agent_type.to_owned();
        async move {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            match fault {
                Fault::None => call.await,
                Fault::Error => Err(AgentError::transient(format!(
                    "injected fault in {agent_type}"
                ))),
                Fault::Timeout => std::future::pending().await,
                Fault::Panic => panic!("injected panic in {agent_type}"),
            }
        }
    }
}
