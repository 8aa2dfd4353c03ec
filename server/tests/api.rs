//! The REST API through the real router (no socket) over a real runtime and
//! database: SQLite always, PostgreSQL where reachable. Every endpoint, and
//! the bad input a client can send.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use support::{QUERY, TestApp, TestDb, assert_error};
use wayfare_engine::graph::AgentType;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::RuntimeConfig;

const PLAN_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_submitted_trip_is_accepted_then_planned_and_readable() {
    for app in TestApp::on_every_backend().await {
        let body = json!({ "query": QUERY }).to_string();
        let answer = app.call(Method::POST, "/api/trips/plan", Some(&body)).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        let id = answer.json["trip_id"].as_str().expect("trip_id").to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(answer.json["status"], "planning");
        assert_eq!(answer.json["status_url"], format!("/api/trips/{id}/status"));
        assert_eq!(answer.json["events_url"], format!("/api/trips/{id}/events"));
        assert_eq!(
            answer.headers[header::LOCATION],
            format!("/api/trips/{id}/status").as_str()
        );

        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(
            status["status"],
            "ready",
            "[{}] {status}\n{}",
            app.backend,
            app.explain(&id).await
        );
        assert_eq!(status["trip_id"], id.as_str());
        assert_eq!(status["progress"], 1.0);
        let tasks = status["tasks"].as_array().expect("tasks");
        assert!(!tasks.is_empty(), "{status}");
        for task in tasks {
            for key in ["task_id", "agent_type", "priority", "status", "attempts"] {
                assert!(!task[key].is_null(), "task without {key}: {task}");
            }
            assert!(
                ["P0", "P1", "P2", "P3"].contains(&task["priority"].as_str().unwrap_or("")),
                "{task}"
            );
        }

        let trip = app
            .call(Method::GET, &format!("/api/trips/{id}"), None)
            .await;
        assert_eq!(trip.status, StatusCode::OK, "{}", trip.text);
        assert_eq!(trip.json["status"], "ready");
        assert_eq!(trip.json["query"], QUERY);
        assert_eq!(trip.json["version"], status["version"]);
        assert!(trip.json["intent"].is_object(), "{}", trip.text);
        assert!(trip.json["itinerary"].is_object(), "{}", trip.text);
        assert!(trip.json["verdict"]["checks"].is_array(), "{}", trip.text);
        app.finish().await;
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_error_shape() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    for body in ["{", "not json", r#"{"query": "x",}"#, ""] {
        let answer = app.call(Method::POST, "/api/trips/plan", Some(body)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
    }
    app.finish().await;
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_a_400_not_a_422() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    for body in [
        json!({ "query": 42 }),
        json!({ "query": ["a"] }),
        json!({}),
        json!({ "query": "x", "overrides": "cheap" }),
        json!({ "query": "x", "budget": 10 }),
        json!(["query"]),
    ] {
        let answer = app
            .call(Method::POST, "/api/trips/plan", Some(&body.to_string()))
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_a_415() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let request = Request::post("/api/trips/plan")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(json!({ "query": QUERY }).to_string()))
        .expect("request");
    let answer = app.send(request).await;
    assert_error(
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    app.finish().await;
}

#[tokio::test]
async fn a_huge_body_is_a_413() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let huge = json!({ "query": "a".repeat(wayfare_server::api::BODY_LIMIT * 2) }).to_string();
    let answer = app.call(Method::POST, "/api/trips/plan", Some(&huge)).await;
    assert_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Also when the client does not say how long the body is (chunked).
    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok("{\"query\": \"".into()),
        Ok("b".repeat(200_000)),
        Ok("\"}".into()),
    ];
    let request = Request::post("/api/trips/plan")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("request");
    let answer = app.send(request).await;
    assert_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    app.finish().await;
}

#[tokio::test]
async fn a_request_that_cannot_be_planned_is_a_422_with_questions() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let body = json!({ "query": "I would like a holiday" }).to_string();
    let answer = app.call(Method::POST, "/api/trips/plan", Some(&body)).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "unplannable");
    let questions = answer.json["questions"].as_array().expect("questions");
    assert!(!questions.is_empty(), "{}", answer.text);

    let body = json!({ "query": "   " }).to_string();
    let answer = app.call(Method::POST, "/api/trips/plan", Some(&body)).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    app.finish().await;
}

#[tokio::test]
async fn unknown_trip_ids_are_404_even_when_they_are_not_uuids() {
    for app in TestApp::on_every_backend().await {
        for id in [
            uuid::Uuid::new_v4().to_string(),
            "not-a-uuid".to_owned(),
            "1".to_owned(),
        ] {
            for (method, uri, body) in [
                (Method::GET, format!("/api/trips/{id}/status"), None),
                (Method::GET, format!("/api/trips/{id}"), None),
                (Method::DELETE, format!("/api/trips/{id}/cancel"), None),
                (Method::GET, format!("/api/trips/{id}/events"), None),
                (
                    Method::PUT,
                    format!("/api/trips/{id}/modify"),
                    Some(json!({ "expected_version": 1, "changes": [] }).to_string()),
                ),
            ] {
                let answer = app.call(method.clone(), &uri, body.as_deref()).await;
                assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
            }
        }
        let answer = app.call(Method::GET, "/api/nothing/here", None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_modification_checks_the_version_first_then_the_changes() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(status["status"], "ready", "{status}");
        let version = status["version"].as_u64().expect("version");
        let uri = format!("/api/trips/{id}/modify");

        // Stale, with nonsense changes: still 409.
        for changes in [
            json!([{ "kind": "teleport" }]),
            json!([{ "kind": "budget", "value": 5000 }]),
        ] {
            let body = json!({ "expected_version": version - 1, "changes": changes }).to_string();
            let answer = app.call(Method::PUT, &uri, Some(&body)).await;
            assert_error(&answer, StatusCode::CONFLICT, "version_conflict");
            assert_eq!(answer.json["actual_version"], version);
        }
        // Current version, invalid changes: 422.
        for changes in [
            json!([{ "kind": "teleport" }]),
            json!([{ "kind": "replace", "component_id": "d9.nowhere", "with": "nothing" }]),
            json!([{ "kind": "travellers", "value": 0 }]),
        ] {
            let body = json!({ "expected_version": version, "changes": changes }).to_string();
            let answer = app.call(Method::PUT, &uri, Some(&body)).await;
            assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");
        }
        // Wrong types are a malformed body.
        let body = json!({ "expected_version": "latest", "changes": [] }).to_string();
        let answer = app.call(Method::PUT, &uri, Some(&body)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
        let answer = app.call(Method::PUT, &uri, Some("{")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");

        // A good change: a new version, the trip ready again.
        let body = json!({
            "expected_version": version,
            "changes": [{ "kind": "budget", "value": 4000 }],
        })
        .to_string();
        let answer = app.call(Method::PUT, &uri, Some(&body)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "[{}] {}",
            app.backend,
            answer.text
        );
        let new_version = answer.json["version"].as_u64().expect("version");
        assert!(new_version > version, "{}", answer.text);
        // The old version is now stale.
        let answer = app.call(Method::PUT, &uri, Some(&body)).await;
        assert_error(&answer, StatusCode::CONFLICT, "version_conflict");
        app.finish().await;
    }
}

#[tokio::test]
async fn cancelling_is_idempotent() {
    for app in TestApp::on_every_backend().await {
        let id = app.submit(QUERY).await;
        let uri = format!("/api/trips/{id}/cancel");
        let first = app.call(Method::DELETE, &uri, None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let status = first.json["status"].as_str().unwrap_or_default().to_owned();
        // Planning is quick: it may have finished first, but it never goes
        // back to planning.
        assert!(
            ["cancelled", "ready"].contains(&status.as_str()),
            "{}",
            first.text
        );
        let second = app.call(Method::DELETE, &uri, None).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text);
        assert_eq!(second.json["status"], status.as_str());
        let after = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(after["status"], status.as_str(), "{after}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_trip_cancelled_mid_planning_stays_cancelled() {
    let mut config = RuntimeConfig::default();
    for agent_type in AgentType::ALL.map(AgentType::as_str) {
        config.faults.insert(
            agent_type.to_owned(),
            FaultConfig {
                added_latency: Duration::from_millis(300),
                ..FaultConfig::default()
            },
        );
    }
    let app = TestApp::start(TestDb::sqlite().await, config).await;
    let id = app.submit(QUERY).await;
    let answer = app
        .call(Method::DELETE, &format!("/api/trips/{id}/cancel"), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["status"], "cancelled", "{}", answer.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = app.wait_final(&id, PLAN_WITHIN).await;
    assert_eq!(status["status"], "cancelled", "{status}");
    app.finish().await;
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let mut config = RuntimeConfig::default();
    config.orchestrator.max_concurrent_requests = 1;
    config.orchestrator.queue_capacity = 1;
    for agent_type in AgentType::ALL.map(AgentType::as_str) {
        config.faults.insert(
            agent_type.to_owned(),
            FaultConfig {
                added_latency: Duration::from_millis(500),
                ..FaultConfig::default()
            },
        );
    }
    let app = TestApp::start(TestDb::sqlite().await, config).await;
    let body = json!({ "query": QUERY }).to_string();
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(app.call(Method::POST, "/api/trips/plan", Some(&body)).await);
    }
    assert_eq!(
        answers[0].status,
        StatusCode::ACCEPTED,
        "{}",
        answers[0].text
    );
    let refused = answers
        .iter()
        .find(|a| a.status == StatusCode::SERVICE_UNAVAILABLE)
        .expect("one submission beyond the slot and the queue is refused");
    assert_error(refused, StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    let retry_after: u64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    app.finish().await;
}

#[tokio::test]
async fn the_agent_registry_lists_every_agent_type() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let answer = app.call(Method::GET, "/api/agents", None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let rows = answer.json.as_array().expect("a list");
    for agent_type in AgentType::ALL.map(AgentType::as_str) {
        let row = rows
            .iter()
            .find(|r| r["agent_type"] == agent_type)
            .unwrap_or_else(|| panic!("no {agent_type} instance in {}", answer.text));
        for key in [
            "agent_id",
            "status",
            "capabilities",
            "current_load",
            "max_capacity",
            "response_time_avg_ms",
            "cost_per_request",
            "breaker",
        ] {
            assert!(!row[key].is_null(), "{agent_type} row without {key}: {row}");
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn metrics_are_exported_in_the_openmetrics_text_format() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let id = app.submit(QUERY).await;
    app.wait_final(&id, PLAN_WITHIN).await;
    let answer = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/openmetrics-text; version=1.0.0"),
        "{:?}",
        answer.headers
    );
    let text = answer.text;
    for needle in [
        r#"wayfare_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/trips/plan",status="202"} 1"#,
        r#"route="/api/trips/{id}/status""#,
        "wayfare_trips_submitted_total 1",
        r#"wayfare_trips_finished_total{status="ready"} 1"#,
        "wayfare_queue_depth ",
        "wayfare_cost_per_request ",
        r#"wayfare_agent_success_rate{agent_type="transport"}"#,
        r#"wayfare_agent_breaker_state{agent_type="transport",state="closed"} 0"#,
        "wayfare_cache_hit_rate{level=",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_meal_can_be_replaced_by_one_of_its_listed_alternatives() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let id = app.submit(QUERY).await;
    let status = app.wait_final(&id, PLAN_WITHIN).await;
    assert_eq!(
        status["status"],
        "ready",
        "{status}\n{}",
        app.explain(&id).await
    );

    let answer = app
        .call(
            Method::GET,
            &format!("/api/trips/{id}/alternatives/d1.dinner"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let alternatives = answer.json.as_array().expect("a list");
    let other = alternatives
        .iter()
        .find(|a| a["current"] == false)
        .unwrap_or_else(|| panic!("no alternative to the current dinner: {}", answer.text));
    let body = json!({
        "expected_version": status["version"],
        "changes": [{ "kind": "replace", "component_id": "d1.dinner", "with": other["id"] }],
    })
    .to_string();
    let answer = app
        .call(Method::PUT, &format!("/api/trips/{id}/modify"), Some(&body))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["status"], "ready", "{}", answer.text);

    let answer = app
        .call(
            Method::GET,
            &format!("/api/trips/{id}/alternatives/d1.teleport"),
            None,
        )
        .await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_change");
    app.finish().await;
}

#[tokio::test]
async fn the_event_stream_refuses_a_plain_get_in_the_error_shape() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let id = app.submit(QUERY).await;
    let answer = app
        .call(Method::GET, &format!("/api/trips/{id}/events"), None)
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "bad_request");
    app.finish().await;
}
