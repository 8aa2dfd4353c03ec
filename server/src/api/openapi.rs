//! `GET /api/openapi.json`: the API described as OpenAPI 3.1, generated
//! from the handlers' `#[utoipa::path]` annotations and the `ToSchema`
//! derives of the types they read and answer (domain, engine and server
//! types alike). The WebSocket endpoint and `/healthz` are described by the
//! stubs below: the first's handler lives in [`super::ws`], the second's in
//! [`crate::web`].

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::responses::Internal;
use super::{ErrorBody, agents, alerts, calendar, consistency, ratings, trips};

/// The whole document. Components are collected from the paths.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wayfare API",
        description = "Plan a trip from plain words, follow its planning, read, modify and cancel it. \
            Every error is JSON `{\"error\": code, \"message\": text}` with its status code.",
    ),
    paths(
        trips::plan,
        trips::status,
        trips::trip,
        trips::modify,
        trips::answer,
        trips::cancel,
        trips::intervene,
        trips::delete,
        trips::alternatives,
        ratings::rate,
        ratings::rating,
        calendar::calendar,
        events,
        agents::list,
        consistency::report,
        alerts::list,
        document,
        healthz,
    ),
    tags(
        (name = "trips", description = "Submit, follow, read, modify, cancel, delete, rate and export trips"),
        (name = "agents", description = "The agent registry"),
        (name = "operations", description = "Alerts on the service's health"),
        (name = "service", description = "Health, the state consistency report and this document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
pub fn json() -> &'static str {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        fix_links(&mut doc);
        doc.to_string()
    });
    &JSON
}

/// utoipa 5.5 writes a Link Object's fields in snake case (`operation_id`);
/// OpenAPI spells them `operationId`, `operationRef`, `requestBody`.
fn fix_links(doc: &mut serde_json::Value) {
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let links = operation["responses"]
            .as_object_mut()
            .into_iter()
            .flat_map(|responses| responses.values_mut())
            .filter_map(|response| response.get_mut("links")?.as_object_mut())
            .flat_map(|links| links.values_mut())
            .filter_map(|link| link.as_object_mut());
        for link in links {
            for (snake, camel) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(value) = link.remove(snake) {
                    link.insert(camel.to_owned(), value);
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "service",
    responses((status = 200, description = "The API as OpenAPI 3.1", body = Object, content_type = "application/json"))
)]
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

/// The `after` query parameter of the event stream.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // described only: `ws::EventsQuery` is what the handler reads
struct EventsAfter {
    /// Only events with a larger sequence number (default 0: all of them).
    after: Option<u64>,
}

/// The trip's events as a WebSocket stream: past events after `after`, then
/// live ones, one JSON text frame each (`{"type", "trip_id", "seq", "at",
/// "data"}`), in `seq` order without duplicates. The socket stays open after
/// the plan is ready; the client closes it.
#[utoipa::path(
    get,
    path = "/api/trips/{id}/events",
    tag = "trips",
    params(trips::TripId, EventsAfter),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket stream of the trip's events"),
        (status = 400, description = "A bad `after`, or not a WebSocket upgrade request", body = ErrorBody),
        (status = 404, description = "No such trip (any id that is not a UUID too), answered before the upgrade", body = ErrorBody),
        Internal,
    )
)]
#[allow(dead_code)] // described only: the handler is `ws::events`
fn events() {}

/// What `/healthz` answers (served by `crate::web`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // described only
struct Health {
    status: HealthStatus,
    database: DatabaseStatus,
    /// The server's version.
    version: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum HealthStatus {
    Ok,
    Degraded,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum DatabaseStatus {
    Ok,
    Unreachable,
}

/// Liveness and readiness: 200 when the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
#[allow(dead_code)] // described only: the handler is `web::healthz`
fn healthz() {}
