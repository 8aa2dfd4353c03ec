//! The error answers that several endpoints document alike, each declared
//! once for their `#[utoipa::path(responses(...))]`: a route lists the ones
//! it can give next to its own, e.g.
//! `responses((status = 200, ...), TripNotFound, Internal)`.
//!
//! Each is an [`ErrorBody`] (referenced, as every error of the document) with
//! the status and description the routes share. These types are only
//! described, never built: handlers answer [`ApiError`](super::ApiError)s.

use super::ErrorBody;

/// The rejections of a JSON body ([`ApiJson`](super::ApiJson)): every
/// endpoint that reads one can answer them.
#[derive(utoipa::IntoResponses)]
pub enum BodyRejected {
    #[response(
        status = 400,
        description = "Malformed JSON, wrong types, unknown fields, or not an object"
    )]
    Malformed(ErrorBody<'static>),
    #[response(status = 413, description = "The body is over 64 KiB")]
    TooLarge(ErrorBody<'static>),
    #[response(status = 415, description = "The body is not sent as JSON")]
    NotJson(ErrorBody<'static>),
}

/// An unknown trip id, or one that is not a UUID: every endpoint under
/// `/api/trips/{id}` that answers `not_found` alone.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "No such trip (any id that is not a UUID too)"
)]
pub struct TripNotFound(pub ErrorBody<'static>);

/// A write over the client's rate limit (`security.rate_limit`).
#[derive(utoipa::IntoResponses)]
#[response(
    status = 429,
    description = "`rate_limited`: this client's writes are over `security.rate_limit`",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct RateLimited(pub ErrorBody<'static>);

/// An internal error: logged, and only said to have happened.
#[derive(utoipa::IntoResponses)]
#[response(status = 500, description = "Internal error (logged, not described)")]
pub struct Internal(pub ErrorBody<'static>);
