//! `GET /api/consistency`: the last state consistency audit's report —
//! the score (the share of audited trips whose read model, queue and
//! results agreed with their log; the design document's target is 100%)
//! and what disagreed, which trip, which table. The runtime audits every
//! `orchestrator.audit_interval` and repairs from the log.

use axum::Json;
use axum::extract::State;
use wayfare_engine::runtime::audit::ConsistencyReport;

use crate::web::AppState;

/// The last consistency audit (before the first one: nothing audited,
/// score 1).
#[utoipa::path(
    get,
    path = "/api/consistency",
    tag = "service",
    responses((status = 200, description = "The last consistency audit's report", body = ConsistencyReport))
)]
pub async fn report(State(state): State<AppState>) -> Json<ConsistencyReport> {
    Json(state.runtime.consistency_report())
}
