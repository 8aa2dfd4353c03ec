//! The trip page's manual intervention: try a failed step again, leave out
//! an optional one, check the plan again, resume or stop a stuck trip. The
//! same `Runtime::intervene` the REST API's `POST
//! /api/trips/{id}/interventions` calls; only the browser that made the
//! trip may (like a change).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use wayfare_domain::trip::InterventionAction;

use crate::error::AppError;
use crate::model::TripDetails;

/// Applies an intervention and answers the trip page as it stands after
/// it. `note` is the person's reason, if they gave one.
#[server(prefix = "/sfn", endpoint = "intervene_trip", input = Json)]
pub async fn intervene_trip(
    id: String,
    action: InterventionAction,
    task_id: Option<String>,
    note: Option<String>,
) -> Result<TripDetails, AppError> {
    super::server::intervene::intervene_trip(&id, action, task_id, note)
        .await
        .map_err(AppError::respond)
}
