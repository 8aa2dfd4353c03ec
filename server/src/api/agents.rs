//! `GET /api/agents`: the agent registry, one row per instance.

use axum::Json;
use axum::extract::State;
use wayfare_domain::trip::AgentInfo;

use crate::web::AppState;

/// The agent registry: one row per running instance.
#[utoipa::path(
    get,
    path = "/api/agents",
    tag = "agents",
    responses((status = 200, description = "One row per agent instance", body = Vec<AgentInfo>))
)]
pub async fn list(State(state): State<AppState>) -> Json<Vec<AgentInfo>> {
    Json(state.runtime.agents())
}
