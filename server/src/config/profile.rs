//! Environment profiles (the design document's `development`, `staging` and
//! `production`): each a set of defaults laid over the built-in ones, which
//! `wayfare.yaml` and the `WAYFARE_*` variables still override. Chosen by
//! `--profile` or `WAYFARE_PROFILE`; none chosen, the built-in defaults
//! stand alone.
//!
//! | profile | agents | capacity | scaling | logging and monitoring |
//! | --- | --- | --- | --- | --- |
//! | `development` | one instance of each type (min 1, max 1) | as built in | reactive (nothing to scale) | debug for Wayfare's crates; consistency audit every 10 s |
//! | `staging` | up to 2 instances of each type | half the trips in flight and waiting | predictive, as production (so it is tried before it runs there) | debug for the server (requests, sessions); consistency audit every 10 s |
//! | `production` | at least 2 instances of each type (redundancy) | as built in; caches on | predictive: instances started ahead of a forecast ramp | info; consistency audit every minute (built in) |
//!
//! Where each effective value came from is kept: [`describe`] lists every
//! key with its value and source (`wayfare config --show`).

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Provider, Source};
use serde::{Deserialize, Serialize};

use super::Config;

/// The key that turns predictive scaling on.
const PREDICTIVE: &str = "orchestrator.predictive_scaling.enabled";

/// A deployment environment's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Single agent instances, verbose logging.
    Development,
    /// Reduced capacity, full monitoring.
    Staging,
    /// Full redundancy.
    Production,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Development => "development",
            Profile::Staging => "staging",
            Profile::Production => "production",
        }
    }

    /// The keys this profile sets (dotted paths) and their values, derived
    /// from the built-in defaults where a value is relative to them.
    fn values(self, defaults: &Config) -> Vec<(String, Value)> {
        let agents = defaults.agents.keys();
        let mut values: Vec<(String, Value)> = Vec::new();
        match self {
            Profile::Development => {
                values.push((
                    "log".into(),
                    "info,wayfare_server=debug,wayfare_engine=debug,wayfare_store=debug,wayfare_app=debug"
                        .into(),
                ));
                values.push((PREDICTIVE.into(), false.into()));
                for agent in agents {
                    values.push((format!("agents.{agent}.min_instances"), 1u32.into()));
                    values.push((format!("agents.{agent}.max_instances"), 1u32.into()));
                }
                // Full monitoring: a state inconsistency shows within seconds.
                values.push(("orchestrator.audit_interval".into(), "10s".into()));
            }
            Profile::Staging => {
                values.push(("log".into(), "info,wayfare_server=debug".into()));
                values.push((PREDICTIVE.into(), true.into()));
                let o = &defaults.orchestrator;
                values.push((
                    "orchestrator.max_concurrent_requests".into(),
                    (o.max_concurrent_requests / 2).max(1).into(),
                ));
                values.push((
                    "orchestrator.queue_capacity".into(),
                    (o.queue_capacity / 2).max(1).into(),
                ));
                values.push(("orchestrator.audit_interval".into(), "10s".into()));
                for (agent, section) in &defaults.agents {
                    values.push((format!("agents.{agent}.min_instances"), 1u32.into()));
                    values.push((
                        format!("agents.{agent}.max_instances"),
                        section.max_instances.clamp(1, 2).into(),
                    ));
                }
            }
            Profile::Production => {
                values.push(("log".into(), "info".into()));
                values.push(("cache.enabled".into(), true.into()));
                values.push((PREDICTIVE.into(), true.into()));
                for (agent, section) in &defaults.agents {
                    values.push((format!("agents.{agent}.min_instances"), 2u32.into()));
                    values.push((
                        format!("agents.{agent}.max_instances"),
                        section.max_instances.max(2).into(),
                    ));
                }
            }
        }
        values
    }

    /// The profile as a figment provider, named for `describe`.
    pub(super) fn provider(self, defaults: &Config) -> ProfileDefaults {
        ProfileDefaults {
            profile: self,
            values: self.values(defaults),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile's values, one figment layer.
pub(super) struct ProfileDefaults {
    profile: Profile,
    values: Vec<(String, Value)>,
}

impl Provider for ProfileDefaults {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("profile {}", self.profile))
    }

    fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (key, value) in &self.values {
            if let Value::Dict(_, nested) = figment::util::nest(key, value.clone()) {
                merge(&mut dict, nested);
            }
        }
        Ok(figment::Profile::Default.collect(dict))
    }
}

/// Puts `from`'s entries into `into`, merging dictionaries key by key.
fn merge(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => merge(existing, nested),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Every key of the effective configuration, one line each: `key = value`
/// and where the value came from (a built-in default, the profile, the
/// file, or the environment variable's name).
pub fn describe(figment: &Figment, config: &Config) -> Result<String, Box<figment::Error>> {
    let tree = Value::serialize(config).map_err(Box::new)?;
    let mut leaves = Vec::new();
    walk(&tree, String::new(), &mut leaves);
    let width = leaves.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in leaves {
        let shown = serde_json::to_string(&value).unwrap_or_else(|_| "?".to_owned());
        let source = figment
            .find_metadata(&key)
            .map(|md| source_of(md, &key))
            .unwrap_or_else(|| "built-in default".to_owned());
        out.push_str(&format!("{key:width$} = {shown}  # {source}\n"));
    }
    Ok(out)
}

fn walk(value: &Value, prefix: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Dict(_, dict) if !dict.is_empty() => {
            for (key, value) in dict {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                walk(value, path, out);
            }
        }
        _ => out.push((prefix, value.clone())),
    }
}

fn source_of(md: &Metadata, key: &str) -> String {
    match &md.source {
        Some(Source::File(path)) => format!("file {}", path.display()),
        _ if md.name.contains("environment") => {
            let keys: Vec<&str> = key.split('.').collect();
            let name = md.interpolate(&figment::Profile::Default, &keys);
            let name = name.replace('.', "__");
            if name.starts_with("WAYFARE_") {
                format!("environment {name}")
            } else {
                format!("environment WAYFARE_{name}")
            }
        }
        _ if md.name.starts_with("profile ") => md.name.to_string(),
        _ => "built-in default".to_owned(),
    }
}
