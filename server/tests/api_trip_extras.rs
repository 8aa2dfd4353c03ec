//! The trip endpoints beyond planning, through the real router over a real
//! runtime, on every backend: `DELETE /api/trips/{id}`,
//! `PUT`/`GET /api/trips/{id}/rating` and `GET /api/trips/{id}/calendar.ics`.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;
use support::{QUERY, TestApp, TestDb, assert_error};
use wayfare_engine::runtime::RuntimeConfig;

const PLAN_WITHIN: Duration = Duration::from_secs(60);

/// A trip id nobody made.
fn unknown() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_deleted_trip_is_gone_and_unknown_ones_are_404() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
        app.store
            .record_trip_owner(&id, "session")
            .await
            .expect("owner");

        let answer = app
            .call(Method::DELETE, &format!("/api/trips/{id}"), None)
            .await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
        assert!(answer.text.is_empty(), "204 has no body: {}", answer.text);
        for path in [
            format!("/api/trips/{id}"),
            format!("/api/trips/{id}/status"),
        ] {
            let answer = app.call(Method::GET, &path, None).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        assert!(
            app.store
                .owned_trips("session", 10)
                .await
                .expect("list")
                .is_empty(),
            "[{}] the owner row went with the trip",
            app.backend
        );

        // Again, an unknown trip and a malformed id: 404.
        for path in [
            format!("/api/trips/{id}"),
            format!("/api/trips/{}", unknown()),
            "/api/trips/not-a-uuid".to_owned(),
        ] {
            let answer = app.call(Method::DELETE, &path, None).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_trip_is_rated_read_back_and_counted_in_the_metrics() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        app.wait_final(&id, PLAN_WITHIN).await;
        let path = format!("/api/trips/{id}/rating");

        let answer = app.call(Method::GET, &path, None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_rated");

        let body = json!({ "stars": 4, "note": "Great food; the museum, closed.\nStill good." });
        let answer = app.call(Method::PUT, &path, Some(&body.to_string())).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
        let answer = app.call(Method::GET, &path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json, body, "[{}]", app.backend);

        // Rated again: replaced; a missing note is no note.
        let answer = app.call(Method::PUT, &path, Some(r#"{"stars": 2}"#)).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text);
        let answer = app.call(Method::GET, &path, None).await;
        assert_eq!(answer.json, json!({ "stars": 2, "note": null }));

        let metrics = app.call(Method::GET, "/metrics", None).await;
        assert_eq!(metrics.status, StatusCode::OK);
        for line in ["wayfare_user_satisfaction 2", "wayfare_ratings_total 1"] {
            assert!(
                metrics.text.lines().any(|l| l == line),
                "[{}] missing {line:?} in\n{}",
                app.backend,
                metrics.text
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_ratings_are_400_or_422_and_unknown_trips_404() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        app.wait_final(&id, PLAN_WITHIN).await;
        let path = format!("/api/trips/{id}/rating");
        let long = "x".repeat(1001);
        for (body, status, code) in [
            (
                json!({ "stars": 0 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": 6 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": -3 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": 3, "note": long }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": 3, "note": "bell\u{7}" }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({ "stars": "four" }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({ "stars": 4.5 }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({ "note": "no stars" }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({ "stars": 4, "extra": 1 }),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (json!([4]), StatusCode::BAD_REQUEST, "bad_request"),
        ] {
            let answer = app.call(Method::PUT, &path, Some(&body.to_string())).await;
            assert_error(&answer, status, code);
        }
        let answer = app.call(Method::PUT, &path, Some("{not json")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
        // Nothing was stored by any of them.
        let answer = app.call(Method::GET, &path, None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_rated");

        for other in [unknown(), "not-a-uuid".to_owned()] {
            let path = format!("/api/trips/{other}/rating");
            let answer = app.call(Method::PUT, &path, Some(r#"{"stars": 5}"#)).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
            let answer = app.call(Method::GET, &path, None).await;
            assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_document_describes_the_rating_with_its_bounds() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let doc = app.call(Method::GET, "/api/openapi.json", None).await.json;
    for name in ["Rating", "RatingInput"] {
        let schema = &doc["components"]["schemas"][name];
        assert_eq!(
            schema["properties"]["stars"]["minimum"], 1,
            "{name}: {schema}"
        );
        assert_eq!(
            schema["properties"]["stars"]["maximum"], 5,
            "{name}: {schema}"
        );
        assert_eq!(
            schema["properties"]["note"]["maxLength"], 1000,
            "{name}: {schema}"
        );
        assert_eq!(schema["required"], json!(["stars"]), "{name}: {schema}");
    }
    let item = &doc["paths"]["/api/trips/{id}/rating"];
    assert!(item["put"].is_object() && item["get"].is_object(), "{item}");
    app.finish().await;
}
