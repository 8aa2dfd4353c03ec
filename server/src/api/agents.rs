//! `GET /api/agents`: the agent registry, one row per instance of every
//! process sharing the database (`Runtime::agents_everywhere`).

use axum::Json;
use axum::extract::State;
use wayfare_domain::trip::AgentInfo;

use crate::web::AppState;

/// The agent registry: one row per instance of every process on the
/// database, with its process, host, pid and heartbeat age; an instance
/// whose process stopped heart-beating is `offline`.
#[utoipa::path(
    get,
    path = "/api/agents",
    tag = "agents",
    responses((status = 200, description = "One row per agent instance of every process", body = Vec<AgentInfo>))
)]
pub async fn list(State(state): State<AppState>) -> Json<Vec<AgentInfo>> {
    Json(state.runtime.agents_everywhere().await)
}
