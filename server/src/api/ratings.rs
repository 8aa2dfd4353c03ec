//! `/api/trips/{id}/rating`: what a person thought of a trip (1 to 5 stars
//! and an optional note) — the design's user-satisfaction metric, which
//! `/metrics` exports as `wayfare_user_satisfaction`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use wayfare_domain::rating::{Rating, RatingInput};
use wayfare_store::StoreError;

use super::responses::{BodyRejected, Internal, RateLimited, TripNotFound};
use super::trips::{TripId, known, trip_id};
use super::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::web::AppState;

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UnknownTrip(id) => ApiError::TripNotFound(id),
            StoreError::Invalid(why) => ApiError::InvalidRequest(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The trip must exist (in the runtime's log): 404 otherwise.
async fn existing(state: &AppState, raw: &str) -> ApiResult<String> {
    let id = trip_id(raw)?;
    known(&id, state.runtime.status(&id).await?)?;
    Ok(id)
}

/// Rate a trip, replacing any earlier rating of it.
#[utoipa::path(
    put,
    path = "/api/trips/{id}/rating",
    tag = "trips",
    params(TripId),
    request_body(content = RatingInput, content_type = "application/json"),
    responses(
        (status = 204, description = "Rated"),
        BodyRejected,
        TripNotFound,
        (status = 422, description = "`invalid_request`: stars not from 1 to 5, a note over 1000 characters or with a control character other than a newline", body = ErrorBody),
        RateLimited,
        Internal,
    )
)]
pub async fn rate(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiJson(input): ApiJson<RatingInput>,
) -> ApiResult<StatusCode> {
    let id = existing(&state, &raw).await?;
    let rating = Rating::try_from(input).map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    state.store.rate_trip(&id, &rating).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A trip's rating.
#[utoipa::path(
    get,
    path = "/api/trips/{id}/rating",
    tag = "trips",
    params(TripId),
    responses(
        (status = 200, description = "The trip's rating", body = Rating),
        (status = 404, description = "`not_found`: no such trip (any id that is not a UUID too); `not_rated`: the trip has no rating yet", body = ErrorBody),
        Internal,
    )
)]
pub async fn rating(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Rating>> {
    let id = existing(&state, &raw).await?;
    state
        .store
        .trip_rating(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotRated(id))
}
