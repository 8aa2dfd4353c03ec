//! `POST /api/trips/{id}/interventions` through the real router over a
//! real runtime and database (SQLite and PostgreSQL): a ready trip's plan
//! is checked again and the intervention is in the trip's events with who
//! and why; what does not apply is a 409 `not_applicable`, a malformed or
//! unfit request a 400 or 422, an unknown trip a 404, and none of them
//! records anything.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;
use support::{QUERY, TestApp};

async fn intervene(app: &TestApp, id: &str, body: serde_json::Value) -> support::Answer {
    app.call(
        Method::POST,
        &format!("/api/trips/{id}/interventions"),
        Some(&body.to_string()),
    )
    .await
}

async fn version(app: &TestApp, id: &str) -> u64 {
    let answer = app
        .call(Method::GET, &format!("/api/trips/{id}/status"), None)
        .await;
    answer.json["version"].as_u64().expect("a version")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interventions_are_applied_recorded_and_refused_through_the_api() {
    for app in TestApp::on_every_backend().await {
        let backend = app.backend;
        let id = app.submit(QUERY).await;
        let status = app.wait_final(&id, Duration::from_secs(30)).await;
        assert_eq!(status["status"], "ready", "[{backend}] {status}");
        let tasks = status["tasks"].as_array().expect("tasks").clone();
        let task = |agent: &str| {
            tasks
                .iter()
                .find(|t| t["agent_type"] == agent)
                .and_then(|t| t["task_id"].as_str())
                .expect("the task")
                .to_owned()
        };
        let before = version(&app, &id).await;

        // Refused, and nothing recorded.
        let refusals = [
            (
                json!({"action": "retry_task", "task_id": task("transport"), "reason": "again"}),
                StatusCode::CONFLICT,
                "not_applicable",
            ),
            (
                json!({"action": "fail", "reason": "stop"}),
                StatusCode::CONFLICT,
                "not_applicable",
            ),
            (
                json!({"action": "resume", "reason": "go"}),
                StatusCode::CONFLICT,
                "not_applicable",
            ),
            (
                json!({"action": "skip_task", "task_id": task("verifier"), "reason": "no"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"action": "reverify", "reason": "   "}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"action": "reverify", "task_id": task("verifier"), "reason": "x"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"action": "retry_task", "reason": "which one?"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"action": "reverify", "reason": "x".repeat(501)}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
            ),
            (
                json!({"action": "reverify"}),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
            (
                json!({"action": "reboot", "reason": "x"}),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
        ];
        for (body, code, error) in refusals {
            let answer = intervene(&app, &id, body.clone()).await;
            assert_eq!(answer.status, code, "[{backend}] {body}: {}", answer.text);
            assert_eq!(answer.json["error"], error, "[{backend}] {body}");
            assert!(
                !answer.json["message"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{}",
                answer.text
            );
        }
        assert_eq!(
            version(&app, &id).await,
            before,
            "[{backend}] refusals record nothing"
        );
        let unknown = intervene(
            &app,
            "7f560327-07c5-4796-a394-f714dbd75e1a",
            json!({"action": "reverify", "reason": "x"}),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);

        // Applied: the plan is checked again and the trip view answers.
        let answer = intervene(
            &app,
            &id,
            json!({"action": "reverify", "reason": "the catalog was imported again"}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "[{backend}] {}", answer.text);
        assert_eq!(answer.json["status"], "ready");
        let checks = answer.json["verdict"]["checks"].as_array().expect("checks");
        assert!(
            !checks.is_empty() && checks.iter().all(|c| c["passed"] == true),
            "{}",
            answer.text
        );
        assert!(answer.json["version"].as_u64().expect("version") > before);

        // In the trip's events, with who (the client, by default) and why.
        let (events, _live) = app
            .runtime
            .events(&id, before)
            .await
            .expect("events")
            .expect("the trip");
        let kinds: Vec<&str> = events.iter().map(|e| e.r#type.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "intervention_applied",
                "planning_progress_update",
                "agent_task_completed",
                "trip_plan_ready"
            ],
            "[{backend}]"
        );
        let data = &events[0].data;
        assert_eq!(data["action"], "reverify");
        assert_eq!(data["actor"], "API client");
        assert_eq!(data["reason"], "the catalog was imported again");
        assert_eq!(data["agent_type"], "verifier");

        // A named actor is kept as given.
        let answer = intervene(
            &app,
            &id,
            json!({"action": "reverify", "reason": "weekly audit", "actor": "ops@example"}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let (events, _live) = app
            .runtime
            .events(&id, 0)
            .await
            .expect("events")
            .expect("trip");
        let actors: Vec<&str> = events
            .iter()
            .filter(|e| e.r#type == "intervention_applied")
            .filter_map(|e| e.data["actor"].as_str())
            .collect();
        assert_eq!(actors, ["API client", "ops@example"], "[{backend}]");
        app.finish().await;
    }
}
