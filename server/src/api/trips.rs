//! `/api/trips/…`: submit a trip, read its status and plan, modify it,
//! cancel it, and list a component's alternatives.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_domain::trip::{Change, TripStatus, TripStatusView, TripView};
use wayfare_engine::runtime::{Alternative, ModifyError, RuntimeError, SubmitError};

use super::{ApiError, ApiJson, ApiResult};
use crate::web::AppState;

/// `POST /api/trips/plan`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The trip, in plain words.
    pub query: String,
    /// Structured fields that win over what the parser reads from `query`
    /// (an object of [`OverridesInput`]'s keys). A wrong shape is a 400; a
    /// value out of range a 422 (see `plan`).
    #[serde(default)]
    pub overrides: Option<OverridesInput>,
}

/// The answer to a plan request: where to follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanAccepted {
    pub trip_id: String,
    pub status: TripStatus,
    pub status_url: String,
    pub events_url: String,
}

/// `PUT /api/trips/{id}/modify`. Changes are read one by one after the
/// version check, so a stale version is a 409 whatever the changes say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifyRequest {
    pub expected_version: u64,
    pub changes: Vec<serde_json::Value>,
}

impl From<RuntimeError> for ApiError {
    fn from(err: RuntimeError) -> Self {
        match err {
            RuntimeError::NotFound(id) => ApiError::TripNotFound(id),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(err: SubmitError) -> Self {
        match err {
            SubmitError::Overloaded { retry_after_secs } => {
                ApiError::Overloaded { retry_after_secs }
            }
            SubmitError::Unplannable { questions } => ApiError::Unplannable { questions },
            SubmitError::Invalid(why) => ApiError::InvalidRequest(why),
            SubmitError::Internal(why) => ApiError::Internal(why),
        }
    }
}

fn modify_error(id: &str, err: ModifyError) -> ApiError {
    match err {
        ModifyError::NotFound => ApiError::TripNotFound(id.to_owned()),
        ModifyError::Conflict { expected, actual } => ApiError::Conflict { expected, actual },
        ModifyError::Invalid(why) => ApiError::InvalidChange(why),
        ModifyError::NotReady => ApiError::NotReady,
        ModifyError::Internal(why) => ApiError::Internal(why),
    }
}

/// A trip id from the path, in the runtime's spelling. Anything that is not
/// a UUID cannot name a trip: 404, like an unknown one.
pub fn trip_id(raw: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::TripNotFound(raw.to_owned()))
}

pub async fn plan(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PlanRequest>,
) -> ApiResult<Response> {
    let overrides = request
        .overrides
        .map(TripOverrides::try_from)
        .transpose()
        .map_err(|e| ApiError::InvalidRequest(e.to_string()))?
        .unwrap_or_default();
    let submitted = state.runtime.submit(request.query, overrides).await?;
    let id = submitted.trip_id;
    let status_url = format!("/api/trips/{id}/status");
    let accepted = PlanAccepted {
        events_url: format!("/api/trips/{id}/events"),
        status_url: status_url.clone(),
        trip_id: id,
        status: submitted.status,
    };
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, status_url)],
        Json(accepted),
    )
        .into_response())
}

pub async fn status(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TripStatusView>> {
    let id = trip_id(&raw)?;
    state
        .runtime
        .status(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::TripNotFound(id))
}

pub async fn trip(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TripView>> {
    let id = trip_id(&raw)?;
    state
        .runtime
        .trip(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::TripNotFound(id))
}

pub async fn modify(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiJson(request): ApiJson<ModifyRequest>,
) -> ApiResult<Json<TripView>> {
    let id = trip_id(&raw)?;
    let mut changes = Vec::with_capacity(request.changes.len());
    for (i, value) in request.changes.into_iter().enumerate() {
        match serde_json::from_value::<Change>(value) {
            Ok(change) => changes.push(change),
            Err(err) => {
                // Unknown trip, then stale version, then the bad change.
                let current = state
                    .runtime
                    .status(&id)
                    .await?
                    .ok_or_else(|| ApiError::TripNotFound(id.clone()))?;
                if current.version != request.expected_version {
                    return Err(ApiError::Conflict {
                        expected: request.expected_version,
                        actual: current.version,
                    });
                }
                return Err(ApiError::InvalidChange(format!("change {i}: {err}")));
            }
        }
    }
    state
        .runtime
        .modify(&id, request.expected_version, changes)
        .await
        .map(Json)
        .map_err(|e| modify_error(&id, e))
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TripStatusView>> {
    let id = trip_id(&raw)?;
    Ok(Json(state.runtime.cancel(&id).await?))
}

/// `GET /api/trips/{id}/alternatives/{component_id}`: what a `replace`
/// change may put in place of a component (e.g. `d2.dinner`).
pub async fn alternatives(
    State(state): State<AppState>,
    Path((raw, component)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Alternative>>> {
    let id = trip_id(&raw)?;
    state
        .runtime
        .alternatives(&id, &component)
        .await
        .map(Json)
        .map_err(|e| modify_error(&id, e))
}
