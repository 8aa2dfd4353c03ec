//! The server half of [`crate::api::intervene_trip`].

use wayfare_domain::trip::{Intervention, InterventionAction};
use wayfare_engine::runtime::InterventionError;

use super::super::timeline::OWNER_ACTOR;
use super::{editable, internal, page_of, session};
use crate::error::AppError;
use crate::model::TripDetails;

/// The reason recorded when the person gave none.
const NO_NOTE: &str = "from the trip page";

pub async fn intervene_trip(
    raw_id: &str,
    action: InterventionAction,
    task_id: Option<String>,
    note: Option<String>,
) -> Result<TripDetails, AppError> {
    let (id, runtime, store) = editable(raw_id).await?;
    // Who, without the session's id: the log is read by anyone with the
    // trip's link.
    let owner = store.trip_owner(&id).await?;
    let actor = if owner.is_some() && owner == session() {
        OWNER_ACTOR
    } else {
        "a visitor"
    };
    let reason = note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| NO_NOTE.to_owned());
    let intervention = Intervention {
        action,
        task_id,
        reason,
        actor: None,
    };
    let trip = runtime
        .intervene(&id, intervention, actor)
        .await
        .map_err(|e| match e {
            InterventionError::NotFound => AppError::NotFound,
            InterventionError::Refused(why) => AppError::Conflict(why),
            InterventionError::Invalid(why) => AppError::Invalid(why),
            InterventionError::Internal(why) => internal(why),
        })?;
    page_of(&runtime, &store, trip).await
}
