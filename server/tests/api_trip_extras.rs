//! The trip endpoints beyond planning, through the real router over a real
//! runtime, on every backend: `DELETE /api/trips/{id}`,
//! `PUT`/`GET /api/trips/{id}/rating` and `GET /api/trips/{id}/calendar.ics`.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use support::{QUERY, TestApp, assert_error};

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
