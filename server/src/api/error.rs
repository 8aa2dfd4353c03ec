//! The REST API's one error type and the JSON extractor that reports bad
//! bodies in the same shape. Every error leaves as
//! `{"error": code, "message": text}` with its status code; internal errors
//! are logged here, once, and the client only learns that one happened.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Everything a handler of the API can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A body that is not JSON, or JSON of the wrong shape.
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("send the body as JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("no trip with id {0}")]
    TripNotFound(String),
    #[error("no such endpoint")]
    NoSuchEndpoint,
    /// The trip exists but nobody rated it yet.
    #[error("trip {0} has no rating yet")]
    NotRated(String),
    /// The request is understood but cannot be planned as written.
    #[error("the request cannot be planned as written: {}", questions.join(" "))]
    Unplannable { questions: Vec<String> },
    /// The optimistic-locking check failed: someone else changed the trip.
    #[error("the trip is at version {actual}, not {expected}: reload it and try again")]
    Conflict { expected: u64, actual: u64 },
    /// A well-formed request that cannot be accepted (an empty query,
    /// overrides that contradict themselves).
    #[error("{0}")]
    InvalidRequest(String),
    /// A well-formed change that cannot apply to this trip.
    #[error("{0}")]
    InvalidChange(String),
    #[error("the trip is not ready to be modified (it is still planning, failed or cancelled)")]
    NotReady,
    /// An operator's intervention that does not apply to the trip as it
    /// stands (a retry of a step that did not fail, say).
    #[error("{0}")]
    NotApplicable(String),
    /// An export of a trip that has no plan to export.
    #[error("the trip has no plan to export (it is still planning, failed or cancelled)")]
    NoPlan,
    #[error("too many trips are being planned: retry in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    /// Anything the client cannot fix. The text is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Every error the API answers: a stable code to switch on and a sentence
/// for people. `unplannable` adds `questions`; `version_conflict` adds
/// `expected_version` and `actual_version`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// bad_request | payload_too_large | unsupported_media_type | not_found |
    /// not_rated | unplannable | version_conflict | invalid_request |
    /// invalid_change | not_ready | not_applicable | overloaded | internal
    #[schema(value_type = String, example = "not_found")]
    pub error: &'static str,
    pub message: String,
    /// What the request must say before it can be planned (`unplannable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub questions: Option<&'a [String]>,
    /// The version the client sent (`version_conflict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// The trip's version now (`version_conflict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_version: Option<u64>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TripNotFound(_) | ApiError::NoSuchEndpoint | ApiError::NotRated(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Unplannable { .. }
            | ApiError::InvalidRequest(_)
            | ApiError::InvalidChange(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. }
            | ApiError::NotReady
            | ApiError::NoPlan
            | ApiError::NotApplicable(_) => StatusCode::CONFLICT,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::TripNotFound(_) | ApiError::NoSuchEndpoint => "not_found",
            ApiError::NotRated(_) => "not_rated",
            ApiError::Unplannable { .. } => "unplannable",
            ApiError::Conflict { .. } => "version_conflict",
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::InvalidChange(_) => "invalid_change",
            ApiError::NotReady | ApiError::NoPlan => "not_ready",
            ApiError::NotApplicable(_) => "not_applicable",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "API request failed");
        }
        let body = ErrorBody {
            error: self.code(),
            message: self.to_string(),
            questions: match &self {
                ApiError::Unplannable { questions } => Some(questions),
                _ => None,
            },
            expected_version: match &self {
                ApiError::Conflict { expected, .. } => Some(*expected),
                _ => None,
            },
            actual_version: match &self {
                ApiError::Conflict { actual, .. } => Some(*actual),
                _ => None,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::Overloaded { retry_after_secs } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonDataError(e) => ApiError::BadRequest(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
                limit: super::BODY_LIMIT,
            },
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

/// A JSON object body read into `T`, whose rejections are [`ApiError`]s:
/// wrong types are a 400 (not axum's 422, which this API keeps for requests
/// it understood but refuses), and so is any body that is not an object
/// (serde would otherwise take `["text"]` for a struct's fields in order).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object".to_owned(),
            ));
        }
        T::deserialize(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
