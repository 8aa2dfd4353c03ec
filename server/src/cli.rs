//! The command line: `wayfare [serve]`, `wayfare worker`, and the
//! subcommands added by later features (`import`, `plan`, `eval`, `check`,
//! `config`). Every command
//! loads the configuration the same way. The load benchmark is a tool of
//! its own (`tools/loadgen`, `wayfare-loadgen`), not part of this binary.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use leptos::config::{Env, LeptosOptions};
use tokio::net::TcpListener;
use wayfare_engine::agents::Objective;
use wayfare_engine::clock::SystemClock;
use wayfare_engine::ops::Ops;
use wayfare_engine::runtime::{LocalAgents, Runtime};
use wayfare_store::Store;

use crate::config::{Config, Profile};
use crate::metrics::HttpMetrics;
use crate::telemetry;
use crate::web::serve::{ServeOptions, serve as serve_http};
use crate::web::{AppState, router_with};
use crate::{commands, worker};

#[derive(Debug, Parser)]
#[command(
    name = "wayfare",
    version,
    about = "Wayfare — a self-hostable, multi-agent trip planner"
)]
pub struct Cli {
    /// Configuration file (default: ./wayfare.yaml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Environment profile: its defaults lie under the file and the
    /// environment (development: single agent instances, verbose logs;
    /// staging: reduced capacity; production: redundant instances).
    #[arg(long, global = true, env = "WAYFARE_PROFILE", value_enum)]
    pub profile: Option<Profile>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the API (the default).
    Serve {
        /// Database URL, overriding the configuration.
        #[arg(long, value_name = "URL")]
        db: Option<String>,
        /// The agent types this process runs: `all` (the default),
        /// `none` (the web tier alone: workers on the same PostgreSQL
        /// database run the agents), or a list such as
        /// `planning,budget,verifier`.
        #[arg(long, value_name = "all|none|TYPE,…", default_value_t = LocalAgents::All)]
        agents: LocalAgents,
    },
    /// Run agents only: claim the chosen agent types' tasks from the
    /// shared queue of a PostgreSQL database other `wayfare` processes
    /// use, with no web app or API — only `/healthz` and `/metrics` on
    /// `--listen`.
    Worker {
        /// The agent types to run, e.g. `transport,accommodation` (or `all`).
        #[arg(long, value_name = "all|TYPE,…")]
        agents: LocalAgents,
        /// Where `/healthz` and `/metrics` are served.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
        listen: std::net::SocketAddr,
        /// Database URL, overriding the configuration.
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Import a catalog into the database (replacing the one there).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Plan a trip from a sentence, or a batch of them, and print the plan.
    Plan(PlanArgs),
    /// Score a batch of plans (`plan --batch` output) against labelled
    /// queries by the TravelPlanner rules, and print the metrics.
    Eval(EvalArgs),
    /// Compare every trip at rest with its event log (the state
    /// consistency score): the read model, the task queue and the agent
    /// results. Prints the score and each disagreement; exits non-zero
    /// when any remains (with `--repair`, each is first put back to what
    /// the log says).
    Check {
        /// Repair what disagrees from the log (the source of truth).
        #[arg(long)]
        repair: bool,
        /// Database URL, overriding the configuration.
        #[arg(long, value_name = "URL")]
        db: Option<String>,
    },
    /// Check the configuration (file, profile, environment); with
    /// `--show`, print every effective value and where it came from.
    Config {
        #[arg(long)]
        show: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Labelled queries (e.g. dev_queries.jsonl).
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Plans in the batch output format, matched to labels by `idx`.
    #[arg(long, value_name = "FILE")]
    pub plans: PathBuf,
    /// The TravelPlanner directory the plans were made from.
    #[arg(long, value_name = "DIR")]
    pub catalog: PathBuf,
    /// Also print each query's failed checks.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// The TravelPlanner sandbox (its CSV layout, or the original repository's).
    Travelplanner(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The directory holding the files.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Database URL, overriding the configuration.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Keep rows with empty fields, which the benchmark's sandbox leaves out.
    #[arg(long)]
    pub keep_incomplete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// A readable day-by-day plan with costs and the verifier's verdict.
    Text,
    /// The whole outcome (intent, itinerary, verdict) as JSON.
    Json,
    /// The TravelPlanner submission format.
    Travelplanner,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["query", "batch"])))]
pub struct PlanArgs {
    /// The trip, in plain words.
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
    /// Plan every `{"idx","query"}` line of this JSONL file.
    #[arg(long, value_name = "FILE", requires = "out")]
    pub batch: Option<PathBuf>,
    /// Where a batch's plans go (JSONL).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Which valid plan to choose: `utility` (what a person would choose
    /// within the budget level's share of the budget) or `cheapest`.
    #[arg(long, value_name = "cheapest|utility", default_value_t = Objective::Utility)]
    pub objective: Objective,
    /// Database URL to read the catalog from, overriding the configuration
    /// (an empty database gets the demo catalog).
    #[arg(long, value_name = "URL", conflicts_with = "catalog")]
    pub db: Option<String>,
    /// Read the catalog straight from a TravelPlanner directory instead of
    /// a database.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Answer a question the request leaves open, or correct what it says:
    /// `--answer start_date=2027-05-14 --answer budget=2000` (any key of the
    /// API's `overrides`; a value is read as JSON when it is JSON, e.g.
    /// `destination={"kind":"city","name":"Denver"}`, else as text).
    #[arg(long = "answer", value_name = "KEY=VALUE", conflicts_with = "batch")]
    pub answers: Vec<String>,
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Config { show }) = cli.command {
        return check_config(cli.config.as_deref(), cli.profile, show);
    }
    let mut config = Config::load_with(cli.config.as_deref(), cli.profile)?;
    telemetry::init(&config.log);
    match cli.command.unwrap_or(Command::Serve {
        db: None,
        agents: LocalAgents::All,
    }) {
        Command::Serve { db, agents } => {
            if let Some(db) = db {
                config.database_url = db;
            }
            serve(config, agents).await
        }
        Command::Worker { agents, listen, db } => {
            if let Some(db) = db {
                config.database_url = db;
            }
            worker::run(config, agents, listen).await
        }
        Command::Import(ImportCommand::Travelplanner(args)) => {
            if let Some(db) = &args.db {
                config.database_url = db.clone();
            }
            commands::import_travelplanner(&config, &args).await
        }
        Command::Eval(args) => commands::eval(&args),
        Command::Plan(args) => {
            if let Some(db) = &args.db {
                config.database_url = db.clone();
            }
            commands::plan(&config, &args).await
        }
        Command::Check { repair, db } => {
            if let Some(db) = db {
                config.database_url = db;
            }
            commands::check(&config, repair).await
        }
        Command::Config { show } => check_config(cli.config.as_deref(), cli.profile, show),
    }
}

/// `wayfare config [--show]`: loads and validates the configuration, and
/// prints it whole with each value's source, or that it is valid.
fn check_config(
    file: Option<&std::path::Path>,
    profile: Option<Profile>,
    show: bool,
) -> anyhow::Result<()> {
    let profile_name = profile.map_or("none", Profile::name);
    if show {
        print!(
            "# profile: {profile_name}\n{}",
            Config::show(file, profile)?
        );
    } else {
        Config::load_with(file, profile)?;
        println!("The configuration is valid (profile: {profile_name}).");
    }
    Ok(())
}

/// Opens the database, binds the listener and serves until SIGINT/SIGTERM,
/// then finishes within `http.shutdown_grace` plus the runtime's own stop.
/// The runtime runs instances of `agents` only.
pub async fn serve(config: Config, agents: LocalAgents) -> anyhow::Result<()> {
    let store = commands::open_store(&config).await?;
    // Resumes every trip a previous run left planning before we listen.
    let mut runtime_config = config.runtime();
    runtime_config.orchestrator.local_agents = agents;
    let runtime = commands::start_runtime(runtime_config, &store).await?;
    let (listener, state, watcher) = listen(&config, config.listen, &store, &runtime).await?;
    let addr = listener.local_addr()?;
    let operations = commands::watch_operations(&state.ops, &runtime, &store);
    // PostgreSQL: other `wayfare serve` may share the database; their
    // trips' events reach this process's subscribers too.
    let follower = commands::follow_other_processes(&store, &runtime).await?;
    tracing::info!(%addr, db.backend = ?store.backend(), "Wayfare is serving on http://{addr}");
    // Bounded: a connection stuck mid-request cannot hold the shutdown up
    // beyond `http.shutdown_grace`.
    serve_http(
        listener,
        router_with(state, &config.http, &config.security),
        ServeOptions::from(&config.http),
        shutdown_signal(),
    )
    .await;
    tracing::info!(
        "shutting down: stopping the runtime (unfinished trips resume on the next start)"
    );
    watcher.abort();
    if let Some(follower) = follower {
        follower.abort();
    }
    for task in operations {
        task.abort();
    }
    if tokio::time::timeout(config.http.shutdown_grace.0, runtime.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "the runtime did not stop within http.shutdown_grace; leaving the rest to the next start"
        );
    }
    tracing::info!("shutting down: closing the database");
    store.close().await;
    Ok(())
}

/// What a `serve` and a `worker` share once their runtime is up: the
/// bound socket, the handlers' state, and the task that reloads the
/// catalog when another process imports one.
pub(crate) async fn listen(
    config: &Config,
    at: std::net::SocketAddr,
    store: &Store,
    runtime: &Arc<Runtime<Store>>,
) -> anyhow::Result<(TcpListener, AppState, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(at)
        .await
        .with_context(|| format!("listening on {at}"))?;
    let addr = listener.local_addr()?;
    let state = AppState {
        leptos_options: leptos_options(config, addr),
        store: store.clone(),
        runtime: runtime.clone(),
        http_metrics: HttpMetrics::default(),
        ops: Ops::new(config.alerts.ops(), Arc::new(SystemClock)),
    };
    let watcher = tokio::spawn(commands::watch_catalog(
        store.clone(),
        runtime.clone(),
        config.catalog_poll.0,
    ));
    Ok((listener, state, watcher))
}

/// Leptos' options, built by hand (`get_configuration` only works under
/// cargo-leptos), honouring the variables cargo-leptos sets when it runs us.
pub fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") => Env::DEV,
        _ => Env::PROD,
    };
    let reload_port = std::env::var("LEPTOS_RELOAD_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    LeptosOptions::builder()
        .output_name("wayfare")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(env)
        .reload_port(reload_port)
        .build()
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("signal received: finishing requests in flight");
}

/// Today, from which dates written without a year are read forward.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
