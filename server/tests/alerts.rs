//! The alert rules on the real path: a real runtime on a real database
//! (SQLite, and PostgreSQL where reachable), its figures sampled by
//! `Ops::observe` on a manual clock (the test moves time, not a sleep),
//! the alerts read back through the router at `GET /api/alerts` and
//! `/metrics`, and the webhook a tiny server on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::post;
use support::{QUERY, TestApp, TestDb};
use tokio::sync::mpsc;
use wayfare_engine::clock::ManualClock;
use wayfare_engine::ops::alerts::{AlertEvent, AlertStatus, AlertsView, Level};
use wayfare_engine::ops::{Ops, OpsConfig};
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::RuntimeConfig;

const PLAN_WITHIN: Duration = Duration::from_secs(60);
const TICK: Duration = Duration::from_secs(5);

/// A runtime whose `tips` agent always fails (an optional type: the trip is
/// still planned, without tips), retrying quickly.
fn failing_tips(config: &mut RuntimeConfig) {
    config.orchestrator.retry_initial_ms = 10;
    // Every trip runs its agents: none is answered from a cache.
    config.cache.enabled = false;
    config.faults.insert(
        "tips".to_owned(),
        FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::default()
        },
    );
}

async fn alerts(app: &TestApp) -> AlertsView {
    let answer = app.call(Method::GET, "/api/alerts", None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    serde_json::from_str(&answer.text).expect("GET /api/alerts answers an AlertsView")
}

async fn metrics(app: &TestApp) -> String {
    let answer = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.text
}

/// Waits (10 s at most) until `/metrics` has `line`: the webhook counts a
/// delivery once its answer is in, after the receiver has the body.
async fn until_metric(app: &TestApp, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics(app).await;
        if text.lines().any(|l| l == line) {
            return;
        }
        assert!(Instant::now() < deadline, "no {line:?} in\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Observes every `TICK` for `ticks` ticks; every change with the tick it
/// came at.
fn observe_for(app: &TestApp, clock: &ManualClock, ticks: u32) -> Vec<(u32, AlertEvent)> {
    let mut changes = Vec::new();
    for n in 1..=ticks {
        clock.advance(TICK);
        for event in app.ops.observe(&app.runtime, None) {
            changes.push((n, event));
        }
    }
    changes
}

#[tokio::test]
async fn a_forced_open_breaker_is_a_critical_alert_at_api_alerts_and_in_metrics() {
    for db in TestDb::all().await {
        let mut config = RuntimeConfig::default();
        failing_tips(&mut config);
        config.orchestrator.circuit_breaker_threshold = 2;
        config.orchestrator.breaker_cool_down_ms = 600_000;
        let clock = ManualClock::at_epoch();
        let ops = Ops::new(OpsConfig::default(), Arc::new(clock.clone()));
        let app = TestApp::start_with_ops(db, config, ops).await;
        assert!(alerts(&app).await.active.is_empty());

        let id = app.submit(QUERY).await;
        let status = app.wait_final(&id, PLAN_WITHIN).await;
        assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
        let fired = app.ops.observe(&app.runtime, None);
        assert!(
            fired.iter().any(|e| e.status == AlertStatus::Firing
                && e.alert.name == "AgentBreakerOpen"
                && e.alert.subject.as_deref() == Some("tips")),
            "[{}] {fired:?}",
            app.backend
        );

        let view = alerts(&app).await;
        let open = view
            .active
            .iter()
            .find(|a| a.name == "AgentBreakerOpen")
            .unwrap_or_else(|| panic!("[{}] no breaker alert in {view:?}", app.backend));
        assert_eq!(open.level, Level::Critical);
        assert_eq!(open.subject.as_deref(), Some("tips"));
        assert_eq!(view.active[0].level, Level::Critical, "critical first");
        let text = metrics(&app).await;
        assert!(
            text.lines().any(
                |l| l == r#"wayfare_alerts_firing{level="critical",name="AgentBreakerOpen"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l == r#"wayfare_alerts_firing{level="warning",name="PlanLatencyHigh"} 0"#),
            "{text}"
        );
        // The dashboard's server function lists it at the top.
        let answer = app
            .send(
                axum::http::Request::post("/sfn/dashboard")
                    .header(
                        axum::http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .header(axum::http::header::ACCEPT, "application/json")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let report: wayfare_app::model::DashboardReport =
            serde_json::from_str(&answer.text).expect("a DashboardReport");
        assert!(
            report
                .alerts
                .iter()
                .any(|a| a.name == "AgentBreakerOpen" && a.level == "critical"),
            "{:?}",
            report.alerts
        );
        let tips = report
            .agents
            .iter()
            .find(|a| a.agent_type == "tips")
            .expect("tips");
        assert_eq!(tips.breaker, "open");
        assert_eq!(tips.success_rate, Some(0.0));
        // Still open a minute later: no second fire.
        let again = observe_for(&app, &clock, 12);
        assert!(
            !again
                .iter()
                .any(|(_, e)| e.alert.name == "AgentBreakerOpen"),
            "{again:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_agent_type_with_every_instance_frozen_is_down() {
    for db in TestDb::all().await {
        let mut config = RuntimeConfig::default();
        config.orchestrator.heartbeat_ms = 100;
        config.orchestrator.ping_deadline_ms = 200;
        let clock = ManualClock::at_epoch();
        let ops = Ops::new(OpsConfig::default(), Arc::new(clock.clone()));
        let app = TestApp::start_with_ops(db, config, ops).await;
        assert!(app.ops.observe(&app.runtime, None).is_empty());

        let frozen: Vec<String> = app
            .runtime
            .agents()
            .into_iter()
            .filter(|a| a.agent_type == "tips")
            .map(|a| a.agent_id)
            .collect();
        assert!(!frozen.is_empty());
        for id in &frozen {
            assert!(app.runtime.freeze_instance(id));
        }
        // The supervisor's health checks (real time, 100 ms heartbeats)
        // mark them offline.
        let deadline = Instant::now() + Duration::from_secs(10);
        while app.runtime.metrics().agents["tips"].instances > 0 {
            assert!(
                Instant::now() < deadline,
                "tips instances never went offline"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        clock.advance(TICK);
        let fired = app.ops.observe(&app.runtime, None);
        assert_eq!(fired.len(), 1, "[{}] {fired:?}", app.backend);
        assert_eq!(fired[0].alert.name, "AgentTypeDown");
        assert_eq!(fired[0].alert.level, Level::Critical);

        let view = alerts(&app).await;
        assert!(
            view.active
                .iter()
                .any(|a| a.name == "AgentTypeDown" && a.subject.as_deref() == Some("tips")),
            "[{}] {view:?}",
            app.backend
        );
        app.finish().await;
    }
}

/// The webhook receiver: every POSTed body, in order.
async fn receiver() -> (String, mpsc::UnboundedReceiver<AlertEvent>) {
    async fn hook(
        State(tx): State<mpsc::UnboundedSender<AlertEvent>>,
        Json(event): Json<AlertEvent>,
    ) -> StatusCode {
        let _ = tx.send(event);
        StatusCode::NO_CONTENT
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(tx);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), rx)
}

#[tokio::test]
async fn a_low_success_rate_fires_after_its_window_once_resolves_once_and_is_posted() {
    for db in TestDb::all().await {
        let mut config = RuntimeConfig::default();
        failing_tips(&mut config);
        // Only the success rate is under test: the breaker stays closed.
        config.orchestrator.circuit_breaker_threshold = 100_000;
        let (url, mut posted) = receiver().await;
        let mut ops_config = OpsConfig {
            webhook_url: Some(url),
            ..OpsConfig::default()
        };
        // One trip's calls are enough here; the windows are the defaults'
        // shape: 1 min rates, 2 min sustain, 1 min to resolve.
        ops_config.rules.min_calls = 1;
        let clock = ManualClock::at_epoch();
        let ops = Ops::new(ops_config, Arc::new(clock.clone()));
        let app = TestApp::start_with_ops(db, config, ops).await;
        assert!(app.ops.observe(&app.runtime, None).is_empty());

        // A trip every tick for three minutes: tips keeps failing.
        let mut changes = Vec::new();
        for n in 1..=36u32 {
            let id = app.submit(QUERY).await;
            app.wait_final(&id, PLAN_WITHIN).await;
            clock.advance(TICK);
            for event in app.ops.observe(&app.runtime, None) {
                changes.push((n, event));
            }
        }
        // Then no traffic: the rate window empties, the alert resolves.
        changes.extend(
            observe_for(&app, &clock, 60)
                .into_iter()
                .map(|(n, e)| (n + 36, e)),
        );
        let tips: Vec<(u32, AlertStatus)> = changes
            .iter()
            .filter(|(_, e)| e.alert.name == "AgentSuccessRateLow")
            .map(|(n, e)| {
                assert_eq!(e.alert.subject.as_deref(), Some("tips"), "{e:?}");
                (*n, e.status)
            })
            .collect();
        // Holds from tick 1; fires when it has held 2 min (tick 25). The
        // last failures leave the 1 min window at tick 36 + 12; clear for
        // 1 min more: resolved at tick 60.
        assert_eq!(
            tips,
            vec![(25, AlertStatus::Firing), (60, AlertStatus::Resolved)],
            "[{}] {changes:?}",
            app.backend
        );
        let view = alerts(&app).await;
        assert!(view.active.iter().all(|a| a.name != "AgentSuccessRateLow"));
        assert_eq!(view.resolved[0].name, "AgentSuccessRateLow");
        assert_eq!(view.resolved[0].level, Level::Warning);

        // Every change is POSTed, in order.
        let mut received = Vec::new();
        while received.len() < changes.len() {
            let event = tokio::time::timeout(Duration::from_secs(10), posted.recv())
                .await
                .expect("the webhook is called within 10 s")
                .expect("an event");
            received.push(event);
        }
        let sent: Vec<AlertEvent> = changes.into_iter().map(|(_, e)| e).collect();
        assert_eq!(received, sent);
        let delivered = format!(
            r#"wayfare_alert_webhook_total{{outcome="delivered"}} {}"#,
            sent.len()
        );
        until_metric(&app, &delivered).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_failing_webhook_is_counted_and_does_not_hold_evaluation_up() {
    // A port nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let mut config = RuntimeConfig::default();
    config.orchestrator.heartbeat_ms = 100;
    config.orchestrator.ping_deadline_ms = 200;
    let clock = ManualClock::at_epoch();
    let ops = Ops::new(
        OpsConfig {
            webhook_url: Some(format!("http://{closed}/hook")),
            ..OpsConfig::default()
        },
        Arc::new(clock.clone()),
    );
    let app = TestApp::start_with_ops(TestDb::sqlite().await, config, ops).await;
    for a in app.runtime.agents() {
        if a.agent_type == "dining" {
            app.runtime.freeze_instance(&a.agent_id);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.runtime.metrics().agents["dining"].instances > 0 {
        assert!(Instant::now() < deadline, "dining never went offline");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    clock.advance(TICK);
    let started = Instant::now();
    let fired = app.ops.observe(&app.runtime, None);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "evaluation waited"
    );
    assert_eq!(fired.len(), 1, "{fired:?}");
    until_metric(&app, r#"wayfare_alert_webhook_total{outcome="failed"} 1"#).await;
    app.finish().await;
}
