//! `wayfare worker --agents transport,accommodation`: a process that runs
//! only some agent types. It claims their tasks from the queue it shares
//! with the `wayfare serve` processes on one PostgreSQL database and
//! writes their outcomes to the shared log; it serves no web app and no
//! API, only `/healthz` and `/metrics` on its own port, so that each agent
//! type can be given machines of its own while the web tier runs with
//! `--agents none` or a few types.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use wayfare_engine::graph::AgentType;
use wayfare_engine::runtime::LocalAgents;

use crate::cli::shutdown_signal;
use crate::commands;
use crate::config::Config;
use crate::metrics;
use crate::web::AppState;
use crate::web::serve::{ServeOptions, serve as serve_http};

/// Runs the worker until SIGINT/SIGTERM.
pub async fn run(config: Config, agents: LocalAgents, listen: SocketAddr) -> anyhow::Result<()> {
    if agents.types().is_empty() {
        anyhow::bail!("a worker with no agent types has nothing to do: name some with --agents");
    }
    let store = commands::open_store(&config).await?;
    if store.backend() != wayfare_store::Backend::Postgres {
        // SQLite serves one process per file: a worker beside a server
        // would have nobody to share the queue with.
        tracing::warn!("a worker on SQLite shares its queue with no other process; use PostgreSQL");
    }
    let mut runtime_config = config.runtime();
    runtime_config.orchestrator.local_agents = agents.clone();
    // The web tier audits the trips; a worker answers no request that
    // could report it.
    runtime_config.orchestrator.audit_interval_ms = 0;
    let runtime = commands::start_runtime(runtime_config, &store).await?;
    let (listener, state, watcher) = crate::cli::listen(&config, listen, &store, &runtime).await?;
    let addr = listener.local_addr()?;
    // A trip cancelled or finished elsewhere stops this worker's work on it.
    let follower = commands::follow_other_processes(&store, &runtime).await?;
    tracing::info!(%addr, agents = %agents, "Wayfare worker: /healthz and /metrics on http://{addr}");
    serve_http(
        listener,
        router(state),
        ServeOptions::from(&config.http),
        shutdown_signal(),
    )
    .await;
    tracing::info!("shutting down: stopping the runtime (its tasks' leases run out)");
    watcher.abort();
    if let Some(follower) = follower {
        follower.abort();
    }
    if tokio::time::timeout(config.http.shutdown_grace.0, runtime.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the runtime did not stop within http.shutdown_grace");
    }
    store.close().await;
    Ok(())
}

/// The worker's two routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::export))
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    version: &'static str,
    /// The agent types this worker runs.
    agents: Vec<AgentType>,
}

/// 200 when the database answers, 503 otherwise; with the agent types run.
async fn healthz(State(state): State<AppState>) -> Response {
    let database = match state.store.ping().await {
        Ok(()) => "ok",
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            "unreachable"
        }
    };
    let ok = database == "ok";
    let body = Health {
        status: if ok { "ok" } else { "degraded" },
        database,
        version: env!("CARGO_PKG_VERSION"),
        agents: state.runtime.config().orchestrator.local_agents.types(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}
