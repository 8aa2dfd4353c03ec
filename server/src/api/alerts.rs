//! `GET /api/alerts`: the alerts firing now and those resolved of late, as
//! the process's rules ([`wayfare_engine::ops::alerts`]) left them at their
//! latest evaluation.

use axum::Json;
use axum::extract::State;
use wayfare_engine::ops::alerts::AlertsView;

use crate::web::AppState;

/// The alerts: firing now (critical first) and resolved of late (newest
/// first).
#[utoipa::path(
    get,
    path = "/api/alerts",
    tag = "operations",
    responses((status = 200, description = "Alerts firing now and resolved of late", body = AlertsView))
)]
pub async fn list(State(state): State<AppState>) -> Json<AlertsView> {
    Json(state.ops.alerts())
}
