//! `/api/trips/…`: submit a trip, read its status and plan, modify it,
//! cancel it, delete it, and list a component's alternatives.

use axum::{Extension, Json};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_domain::trip::{
    Alternative, Change, Intervention, TripStatus, TripStatusView, TripView,
};
use wayfare_engine::runtime::{InterventionError, ModifyError, RuntimeError, SubmitError};

use super::responses::{BodyRejected, Internal, RateLimited, TripNotFound};
use super::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::web::AppState;

/// `POST /api/trips/plan`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The trip, in plain words (not empty, at most 4000 bytes).
    #[schema(
        min_length = 1,
        pattern = "\\S",
        example = "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget $2,500 for 2 people."
    )]
    pub query: String,
    /// Structured fields that win over what the parser reads from `query`
    /// (an object of [`OverridesInput`]'s keys). A wrong shape is a 400; a
    /// value out of range a 422 (see `plan`).
    #[serde(default, deserialize_with = "object_or_null")]
    pub overrides: Option<OverridesInput>,
    /// When `true`, a request that leaves questions (no dates, say) is kept
    /// as a trip in `needs_input` — 202 with that status; its questions
    /// are in the trip, and `POST /api/trips/{id}/answer` plans it — instead
    /// of a 422 `unplannable`.
    #[serde(default)]
    pub ask: bool,
}

/// `overrides` as a JSON object (or `null`) only: serde's derived struct
/// decoding also takes an array, by position (`[null, null]` was accepted
/// as "no overrides").
fn object_or_null<'de, D>(deserializer: D) -> Result<Option<OverridesInput>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct ObjectOrNull;

    impl<'de> serde::de::Visitor<'de> for ObjectOrNull {
        type Value = Option<OverridesInput>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of overrides, or null")
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D2: serde::Deserializer<'de>>(
            self,
            inner: D2,
        ) -> Result<Self::Value, D2::Error> {
            inner.deserialize_map(ObjectOrNull)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            OverridesInput::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    deserializer.deserialize_option(ObjectOrNull)
}

/// The answer to a plan request: where to follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanAccepted {
    pub trip_id: String,
    pub status: TripStatus,
    pub status_url: String,
    pub events_url: String,
}

/// `PUT /api/trips/{id}/modify`. Changes are read one by one after the
/// version check, so a stale version is a 409 whatever the changes say.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifyRequest {
    /// The trip's `version` as last read; another one is a 409.
    pub expected_version: u64,
    /// Applied in order, all or none.
    #[schema(value_type = Vec<Change>)]
    pub changes: Vec<serde_json::Value>,
}

/// `POST /api/trips/{id}/answer`: the values a trip in `needs_input`
/// asked for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    /// The trip's `version` as last read; another one is a 409.
    pub expected_version: u64,
    /// The answers, in the shape of the plan request's `overrides` (e.g.
    /// `{"start_date": "2027-05-14", "budget": 2000}`); they win over
    /// what the text said.
    pub answers: OverridesInput,
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

/// The API's answer to the runtime's refusal of a change to trip `id`
/// (a modification, an answer, or a component's alternatives).
fn modify_error(id: &str) -> impl FnOnce(ModifyError) -> ApiError + '_ {
    move |err| match err {
        ModifyError::NotFound => ApiError::TripNotFound(id.to_owned()),
        ModifyError::Conflict { expected, actual } => ApiError::Conflict { expected, actual },
        ModifyError::Invalid(why) => ApiError::InvalidChange(why),
        ModifyError::NotReady => ApiError::NotReady,
        ModifyError::Internal(why) => ApiError::Internal(why),
    }
}

/// What the runtime answered about trip `id`, which must exist: `None` (the
/// runtime does not know the trip) is its 404.
pub fn known<T>(id: &str, answer: Option<T>) -> ApiResult<T> {
    answer.ok_or_else(|| ApiError::TripNotFound(id.to_owned()))
}

/// The `{id}` path parameter of every trip endpoint, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only described, never built: handlers read `Path<String>`
pub struct TripId {
    /// The trip's id, as `POST /api/trips/plan` returned it.
    id: uuid::Uuid,
}

/// A trip id from the path, in the runtime's spelling. Anything that is not
/// a UUID cannot name a trip: 404, like an unknown one.
pub fn trip_id(raw: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::TripNotFound(raw.to_owned()))
}

/// Submit a trip to plan. It is planned in the background: follow it at
/// `status_url` (also the `Location` header) or on the `events_url` stream.
#[utoipa::path(
    post,
    path = "/api/trips/plan",
    tag = "trips",
    request_body(content = PlanRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: the trip is being planned", body = PlanAccepted,
            headers(("Location" = String, description = "The trip's status URL")),
            links(
                ("status" = (operation_id = "status", parameters(("id" = "$response.body#/trip_id")))),
                ("trip" = (operation_id = "trip", parameters(("id" = "$response.body#/trip_id")))),
                ("events" = (operation_id = "events", parameters(("id" = "$response.body#/trip_id")))),
                ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/trip_id")))),
            )),
        BodyRejected,
        (status = 422, description = "`unplannable` (with `questions`) or `invalid_request`", body = ErrorBody),
        RateLimited,
        Internal,
        (status = 503, description = "`overloaded`: too many trips in flight",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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
    let submitted = if request.ask {
        state
            .runtime
            .submit_or_ask(request.query, overrides)
            .await?
    } else {
        state.runtime.submit(request.query, overrides).await?
    };
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

/// A trip's status, progress, event-log version and agent tasks.
#[utoipa::path(
    get,
    path = "/api/trips/{id}/status",
    tag = "trips",
    params(TripId),
    responses(
        (status = 200, description = "The trip's status", body = TripStatusView),
        TripNotFound,
        Internal,
    )
)]
pub async fn status(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TripStatusView>> {
    let id = trip_id(&raw)?;
    known(&id, state.runtime.status(&id).await?).map(Json)
}

/// The whole trip: query, intent, itinerary, verdict, explanation.
#[utoipa::path(
    get,
    path = "/api/trips/{id}",
    tag = "trips",
    params(TripId),
    responses(
        (status = 200, description = "The trip", body = TripView),
        TripNotFound,
        Internal,
    )
)]
pub async fn trip(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TripView>> {
    let id = trip_id(&raw)?;
    known(&id, state.runtime.trip(&id).await?).map(Json)
}

/// Change a ready trip. The version is checked first, whatever the changes
/// say; the affected agents run again and the new trip is returned.
///
/// `replace` and `reroll` work on any component of the plan: a meal
/// (`d2.dinner`), a stay (`stay.Denver`), an attraction (`d2.attraction1`)
/// or a transport leg (`d1.leg1`), with an `id` from its alternatives. The
/// plan is edited in place (a leg together with the travel day's meals and
/// visits that no longer fit around its times) and must still pass the
/// budget and every rule of the verifier: a change that would break one is
/// refused with 422 `invalid_change`, saying why, and nothing is recorded.
/// A `reroll` takes the next alternative after the current one that keeps
/// the plan valid.
#[utoipa::path(
    put,
    path = "/api/trips/{id}/modify",
    tag = "trips",
    params(TripId),
    request_body(content = ModifyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The modified trip", body = TripView),
        BodyRejected,
        TripNotFound,
        (status = 409, description = "`version_conflict` (with `expected_version`, `actual_version`) or `not_ready`", body = ErrorBody),
        (status = 422, description = "`invalid_change`: a change that cannot apply to this trip, or a replacement that would break the budget or a rule of the plan", body = ErrorBody),
        RateLimited,
        Internal,
    )
)]
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
                let current = known(&id, state.runtime.status(&id).await?)?;
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
        .map_err(modify_error(&id))
}

/// Answer the questions of a trip in `needs_input`: the same trip is then
/// planned (status `planning`; follow it as after `plan`). Answers are
/// checked like a plan request's `overrides` (422 `invalid_request` naming
/// the field); a trip that asks nothing is a 422 `invalid_change`.
#[utoipa::path(
    post,
    path = "/api/trips/{id}/answer",
    tag = "trips",
    params(TripId),
    request_body(content = AnswerRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The trip, planning again with the answers", body = TripView),
        BodyRejected,
        TripNotFound,
        (status = 409, description = "`version_conflict` (with `expected_version`, `actual_version`)", body = ErrorBody),
        (status = 422, description = "`invalid_request`: an answer out of range; `invalid_change`: the trip asks nothing, or the answer is empty", body = ErrorBody),
        RateLimited,
        Internal,
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> ApiResult<Json<TripView>> {
    let id = trip_id(&raw)?;
    let answers = TripOverrides::try_from(request.answers)
        .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    state
        .runtime
        .answer(&id, request.expected_version, answers)
        .await
        .map(Json)
        .map_err(modify_error(&id))
}

/// Cancel a trip (idempotent: a finished or cancelled trip keeps its status).
#[utoipa::path(
    delete,
    path = "/api/trips/{id}/cancel",
    tag = "trips",
    params(TripId),
    responses(
        (status = 200, description = "The trip's status after the cancellation", body = TripStatusView),
        TripNotFound,
        RateLimited,
        Internal,
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<TripStatusView>> {
    let id = trip_id(&raw)?;
    Ok(Json(state.runtime.cancel(&id).await?))
}

/// Intervene by hand on a failing or stuck trip; the intervention is
/// recorded in the trip's log with who (`actor`, by default the client's
/// address) and why (`reason`), and shows in its events.
///
/// - `retry_task` (`task_id` required): a step that failed for good goes
///   back on the queue with a fresh retry budget; the trip plans on from
///   there (status `planning`).
/// - `skip_task` (`task_id` required): an optional step (dining, activity,
///   tips) that is failing or stuck is left out; the plan goes on without
///   it and says so in `degraded`.
/// - `reverify`: a ready trip's plan is checked again by the verifier; the
///   new verdict replaces the old one.
/// - `resume`: a trip stuck planning is driven again, as at start-up; on a
///   failed trip every failed step is tried again.
/// - `fail`: a trip still planning ends as failed, with the reason.
///
/// What does not apply to the trip as it stands is refused with 409
/// `not_applicable` (a retry of a step that did not fail, a check of a trip
/// with no plan), and nothing is recorded.
#[utoipa::path(
    post,
    path = "/api/trips/{id}/interventions",
    tag = "trips",
    params(TripId),
    request_body(content = Intervention, content_type = "application/json"),
    responses(
        (status = 200, description = "The trip after the intervention", body = TripView),
        BodyRejected,
        TripNotFound,
        (status = 409, description = "`not_applicable`: the intervention does not apply to the trip as it stands", body = ErrorBody),
        (status = 422, description = "`invalid_request`: no reason, text too long, a task the trip does not have, a task where the action takes none, or a required step to skip", body = ErrorBody),
        RateLimited,
        Internal,
    )
)]
pub async fn intervene(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(request): ApiJson<Intervention>,
) -> ApiResult<Json<TripView>> {
    let id = trip_id(&raw)?;
    let actor = match peer {
        Some(Extension(ConnectInfo(addr))) => format!("API client {}", addr.ip()),
        None => "API client".to_owned(),
    };
    state
        .runtime
        .intervene(&id, request, &actor)
        .await
        .map(Json)
        .map_err(|e| match e {
            InterventionError::NotFound => ApiError::TripNotFound(id.clone()),
            InterventionError::Refused(why) => ApiError::NotApplicable(why),
            InterventionError::Invalid(why) => ApiError::InvalidRequest(why),
            InterventionError::Internal(why) => ApiError::Internal(why),
        })
}

/// Delete a trip for good: a trip still planning is cancelled first; its
/// log, plan, tasks, owner and rating are removed, and it is unknown from
/// then on (404).
#[utoipa::path(
    delete,
    path = "/api/trips/{id}",
    tag = "trips",
    params(TripId),
    responses(
        (status = 204, description = "Deleted"),
        TripNotFound,
        RateLimited,
        Internal,
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    let id = trip_id(&raw)?;
    if state.runtime.delete(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::TripNotFound(id))
    }
}

/// `GET /api/trips/{id}/alternatives/{component_id}`: what a `replace`
/// change may put in place of a component, best first, the current choice
/// among them (`current: true`), each with its cost for the whole party,
/// `cost_delta` (its cost minus the current one's: negative saves money)
/// and a reason in plain words. Components: a meal (`d2.dinner`: the
/// restaurants of its city, cheapest first), a stay (`stay.Denver`: for its
/// nights, cheapest first), an attraction (`d2.attraction1`: the city's
/// other sights not already in the plan, in walking-route order) and a
/// transport leg (`d1.leg1`: the other flights and ground options for that
/// leg, cheapest first, without the modes the request forbids or that
/// cannot be mixed with the trip's other legs).
#[utoipa::path(
    get,
    path = "/api/trips/{id}/alternatives/{component_id}",
    tag = "trips",
    params(
        TripId,
        ("component_id" = String, Path, description = "A component of the itinerary: `dN.breakfast|lunch|dinner`, `stay.<city>`, `dN.attractionK` or `dN.legK`", example = "d2.dinner"),
    ),
    responses(
        (status = 200, description = "The alternatives, best first, the current one marked", body = Vec<Alternative>),
        TripNotFound,
        (status = 409, description = "`not_ready`: the trip has no plan yet", body = ErrorBody),
        (status = 422, description = "`invalid_change`: no such component, or one without alternatives", body = ErrorBody),
        Internal,
    )
)]
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
        .map_err(modify_error(&id))
}
