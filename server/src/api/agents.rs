//! `GET /api/agents`: the agent registry, one row per instance.

use axum::Json;
use axum::extract::State;
use wayfare_domain::trip::AgentInfo;

use crate::web::AppState;

pub async fn list(State(state): State<AppState>) -> Json<Vec<AgentInfo>> {
    Json(state.runtime.agents())
}
