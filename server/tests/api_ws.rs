//! The WebSocket event stream against a running server (127.0.0.1, an
//! ephemeral port) with a real client: replay, live events, dedup by `seq`,
//! resuming with `?after=`, and staying open for modifications.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{QUERY, TestApp, TestDb};
use tokio_tungstenite::tungstenite::{self, Message};
use wayfare_engine::graph::AgentType;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::RuntimeConfig;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WITHIN: Duration = Duration::from_secs(60);

async fn connect(addr: std::net::SocketAddr, path: &str) -> Socket {
    let (socket, response) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .expect("the upgrade succeeds");
    assert_eq!(response.status(), 101);
    socket
}

/// The next event frame, as JSON; `None` when nothing comes within `wait`.
async fn next_event(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(wait, socket.next()).await.ok()??;
        match frame.expect("a frame") {
            Message::Text(text) => {
                return Some(serde_json::from_str(text.as_str()).expect("a JSON event"));
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Events up to and including the first of type `until`.
async fn events_until(socket: &mut Socket, until: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = next_event(socket, left)
            .await
            .unwrap_or_else(|| panic!("no {until} among {events:#?}"));
        let done = event["type"] == until;
        let ended_otherwise = ["trip_plan_failed", "trip_cancelled"]
            .contains(&event["type"].as_str().unwrap_or_default());
        events.push(event);
        assert!(
            done || !ended_otherwise,
            "no {until}, the trip ended: {events:#?}"
        );
        if done {
            return events;
        }
    }
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect()
}

fn slow_config() -> RuntimeConfig {
    let mut config = RuntimeConfig::default();
    for agent_type in AgentType::ALL.map(AgentType::as_str) {
        config.faults.insert(
            agent_type.to_owned(),
            FaultConfig {
                added_latency: Duration::from_millis(100),
                ..FaultConfig::default()
            },
        );
    }
    config
}

#[tokio::test]
async fn the_stream_replays_past_events_then_live_ones_in_order_until_ready() {
    for db in TestDb::all().await {
        let app = TestApp::start(db, slow_config()).await;
        let addr = app.serve().await;
        let id = app.submit(QUERY).await;
        let mut socket = connect(addr, &format!("/api/trips/{id}/events")).await;
        let events = events_until(&mut socket, "trip_plan_ready").await;

        let seqs = seqs(&events);
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "not strictly increasing: {seqs:?}"
        );
        assert_eq!(events[0]["type"], "trip_planning_started", "{events:#?}");
        assert!(
            events.iter().any(|e| e["type"] == "agent_task_completed"),
            "{events:#?}"
        );
        for event in &events {
            assert_eq!(event["trip_id"], id.as_str());
            for key in ["type", "trip_id", "seq", "at", "data"] {
                assert!(event.get(key).is_some(), "event without {key}: {event}");
            }
        }
        socket.close(None).await.ok();
        app.finish().await;
    }
}

/// The count of `wayfare_hub_messages_total{type, kind}` on `/metrics`.
async fn hub_messages(app: &TestApp, message_type: &str, kind: &str) -> u64 {
    let answer = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let series = format!(r#"wayfare_hub_messages_total{{type="{message_type}",kind="{kind}"}} "#);
    answer
        .text
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .unwrap_or_else(|| panic!("no {series} in\n{}", answer.text))
        .parse()
        .expect("a count")
}

#[tokio::test]
async fn the_stream_and_the_tasks_go_through_the_hub_and_are_counted() {
    for db in TestDb::all().await {
        let app = TestApp::start(db, slow_config()).await;
        let addr = app.serve().await;
        let topic_before = hub_messages(&app, "status_update", "topic").await;
        let tasks_before = hub_messages(&app, "task_request", "direct").await;
        let id = app.submit(QUERY).await;
        let mut socket = connect(addr, &format!("/api/trips/{id}/events")).await;
        let events = events_until(&mut socket, "trip_plan_ready").await;
        let live = events
            .iter()
            .filter(|e| e["type"] == "agent_task_completed")
            .count() as u64;
        assert!(live > 0, "{events:#?}");
        // Each live event the socket got was a hub topic message (some
        // came from the log, replayed before the socket subscribed).
        let topic = hub_messages(&app, "status_update", "topic").await - topic_before;
        assert!(topic >= 1, "no topic message counted");
        // Every task reached its instance as a direct task_request.
        let tasks = hub_messages(&app, "task_request", "direct").await - tasks_before;
        assert!(tasks >= 1, "no task_request counted");
        socket.close(None).await.ok();
        app.finish().await;
    }
}

#[tokio::test]
async fn reconnecting_with_after_resumes_without_repeating_events() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let addr = app.serve().await;
    let id = app.submit(QUERY).await;
    app.wait_final(&id, WITHIN).await;

    let mut socket = connect(addr, &format!("/api/trips/{id}/events")).await;
    let all = events_until(&mut socket, "trip_plan_ready").await;
    socket.close(None).await.ok();
    assert!(all.len() >= 3, "{all:#?}");
    let cut = all[all.len() / 2]["seq"].as_u64().expect("seq");

    let mut socket = connect(addr, &format!("/api/trips/{id}/events?after={cut}")).await;
    let rest = events_until(&mut socket, "trip_plan_ready").await;
    let expected: Vec<u64> = seqs(&all).into_iter().filter(|s| *s > cut).collect();
    assert_eq!(seqs(&rest), expected);
    socket.close(None).await.ok();
    app.finish().await;
}

#[tokio::test]
async fn the_stream_stays_open_after_ready_and_carries_a_modification() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let addr = app.serve().await;
    let id = app.submit(QUERY).await;
    let mut socket = connect(addr, &format!("/api/trips/{id}/events")).await;
    let events = events_until(&mut socket, "trip_plan_ready").await;
    let last = *seqs(&events).last().expect("events");

    // Nothing more for now, and the server keeps the socket open.
    assert!(
        next_event(&mut socket, Duration::from_millis(300))
            .await
            .is_none()
    );
    socket
        .send(Message::Ping(vec![1, 2, 3].into()))
        .await
        .expect("the socket is still open");

    let status = app.wait_final(&id, WITHIN).await;
    let body = json!({
        "expected_version": status["version"],
        "changes": [{ "kind": "budget", "value": 4000 }],
    })
    .to_string();
    let answer = app
        .call(
            axum::http::Method::PUT,
            &format!("/api/trips/{id}/modify"),
            Some(&body),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let more = events_until(&mut socket, "modification_applied").await;
    assert!(seqs(&more).iter().all(|s| *s > last), "{more:#?}");
    socket.close(None).await.ok();
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_trip_is_refused_with_404_before_the_upgrade() {
    let app = TestApp::start(TestDb::sqlite().await, RuntimeConfig::default()).await;
    let addr = app.serve().await;
    for id in [uuid::Uuid::new_v4().to_string(), "nope".to_owned()] {
        let err = tokio_tungstenite::connect_async(format!("ws://{addr}/api/trips/{id}/events"))
            .await
            .expect_err("no upgrade for an unknown trip");
        match err {
            tungstenite::Error::Http(response) => assert_eq!(response.status(), 404),
            other => panic!("expected an HTTP 404, got {other:?}"),
        }
    }
    let id = app.submit(QUERY).await;
    let err =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/trips/{id}/events?after=x"))
            .await
            .expect_err("a bad `after` is refused");
    match err {
        tungstenite::Error::Http(response) => assert_eq!(response.status(), 400),
        other => panic!("expected an HTTP 400, got {other:?}"),
    }
    app.finish().await;
}
