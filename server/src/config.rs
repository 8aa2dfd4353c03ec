//! Configuration: built-in defaults, then `wayfare.yaml` (optional), then
//! `WAYFARE_*` environment variables (`WAYFARE_LISTEN`,
//! `WAYFARE_DATABASE_URL`, …; nested keys with `__`, e.g.
//! `WAYFARE_ORCHESTRATOR__MAX_CONCURRENT_REQUESTS`). Validated once at start:
//! an error names the key and where its bad value came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Yaml};
use serde::{Deserialize, Serialize};

/// The file read when no `--config` is given (it may be absent).
pub const DEFAULT_CONFIG_FILE: &str = "wayfare.yaml";

/// Top-level keys: environment variables naming anything else (such as
/// `WAYFARE_TEST_POSTGRES_URL`, read by the test suite) are not config.
const KEYS: &[&str] = &["listen", "database_url", "data_dir", "log", "site_root"];

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
}

impl Default for Config {
    fn default() -> Self {
        let listen = std::env::var("LEPTOS_SITE_ADDR")
            .ok()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let site_root = std::env::var("LEPTOS_SITE_ROOT")
            .map_or_else(|_| PathBuf::from("target/site"), PathBuf::from);
        Self {
            listen,
            database_url: String::new(),
            data_dir: PathBuf::from("data"),
            log: "info".to_owned(),
            site_root,
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
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Yaml::file_exact(path)),
            None => figment = figment.merge(Yaml::file(DEFAULT_CONFIG_FILE)),
        }
        let env = Env::prefixed("WAYFARE_")
            .map(|key| key.as_str().to_ascii_lowercase().into())
            .split("__")
            .filter(|key| KEYS.contains(&key.as_str().split('.').next().unwrap_or_default()));
        let config: Config = figment
            .merge(env)
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        config.validate()?;
        Ok(config)
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
        Ok(())
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
    reason = "figment's Jail closures must return figment::Error"
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
}
