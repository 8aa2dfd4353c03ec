//! Operating figures through the router, on every backend: the predictive
//! scaling series (arrival rate, forecast, instances asked for, decisions)
//! and the cost per agent type and per request — the agents' nominal
//! `cost_per_request` plus the language model's tokens at their configured
//! prices — in `GET /metrics`, after real trips on a real database.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wayfare_engine::graph::AgentType;
use wayfare_engine::llm::LlmConfig;
use wayfare_engine::runtime::{AgentConfig, PredictiveScalingConfig, RuntimeConfig};

use support::{QUERY, TestApp, TestDb};

const PLAN_WITHIN: Duration = Duration::from_secs(60);

/// The value of the sample `series` (name and labels, exactly as written)
/// in a Prometheus text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

async fn metrics(app: &TestApp) -> String {
    let answer = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.text
}

#[tokio::test]
async fn the_forecast_series_are_in_the_metrics_after_real_trips() {
    for db in TestDb::all().await {
        let mut config = RuntimeConfig::default();
        config.cache.enabled = false;
        config.orchestrator.heartbeat_ms = 100;
        config.predictive_scaling = PredictiveScalingConfig {
            enabled: true,
            bucket_ms: 1_000,
            horizon_ms: 5_000,
            ..PredictiveScalingConfig::default()
        };
        let app = TestApp::start(db, config).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(app.submit(QUERY).await);
        }
        for id in &ids {
            let status = app.wait_final(id, PLAN_WITHIN).await;
            assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
        }
        // The bucket the trips' tasks arrived in closes within a second;
        // its rate is then what /metrics says until the next one closes.
        let arrival = r#"wayfare_agent_arrival_rate{agent_type="location"}"#;
        let deadline = Instant::now() + Duration::from_secs(10);
        let text = loop {
            let text = metrics(&app).await;
            if value(&text, arrival).is_some_and(|r| r > 0.0) {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] no arrivals counted:\n{text}",
                app.backend
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // Three location tasks, in one bucket of a second or split over
        // two: a whole number per second, no more than 3.
        let rate = value(&text, arrival).unwrap_or_default();
        assert!(
            rate.fract() == 0.0 && (1.0..=3.0).contains(&rate),
            "[{}] {rate}\n{text}",
            app.backend
        );
        for family in [
            "# TYPE wayfare_agent_arrival_rate gauge",
            "# TYPE wayfare_agent_forecast_rate gauge",
            "# TYPE wayfare_agent_forecast_instances gauge",
            // OpenMetrics names a counter's family without `_total`.
            "# TYPE wayfare_scaling_decisions counter",
        ] {
            assert!(text.lines().any(|l| l == family), "{family}\n{text}");
        }
        for agent_type in AgentType::ALL.map(AgentType::as_str) {
            let forecast = value(
                &text,
                &format!(r#"wayfare_agent_forecast_rate{{agent_type="{agent_type}"}}"#),
            );
            assert!(forecast.is_some_and(|f| f >= 0.0), "{agent_type}\n{text}");
            let instances = value(
                &text,
                &format!(r#"wayfare_agent_forecast_instances{{agent_type="{agent_type}"}}"#),
            );
            assert!(instances.is_some_and(|n| n >= 1.0), "{agent_type}\n{text}");
            for (direction, reason) in [
                ("up", "predictive"),
                ("up", "reactive"),
                ("down", "predictive"),
                ("down", "idle"),
            ] {
                let series = format!(
                    r#"wayfare_scaling_decisions_total{{agent_type="{agent_type}",direction="{direction}",reason="{reason}"}}"#
                );
                assert!(value(&text, &series).is_some(), "{series}\n{text}");
            }
        }
        assert!(
            value(
                &text,
                r#"wayfare_agent_forecast_rate{agent_type="location"}"#
            )
            .is_some_and(|f| f > 0.0),
            "the location forecast follows its arrivals\n{text}"
        );
        app.finish().await;
    }
}

/// No destination and no date: the rules alone cannot plan it, the
/// (stub) language model fills both.
const OPEN: &str = "Three days out of Seattle for 2 people, budget $1,800. Surprise us with somewhere good to eat.";
const PROMPT_TOKENS: u64 = 1_200;
const COMPLETION_TOKENS: u64 = 300;

/// An OpenAI-compatible chat-completions server on a loopback port that
/// answers every request with the same reading and token usage.
async fn stub_model() -> SocketAddr {
    let body = serde_json::json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": "stub",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": r#"{"destination_city": "Denver", "start_date": "2027-06-05"}"#
            },
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS
        }
    })
    .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn cost_per_agent_type_and_per_request_include_the_models_tokens() {
    let model = stub_model().await;
    for db in TestDb::all().await {
        let mut config = RuntimeConfig::default();
        config.cache.enabled = false;
        for (n, agent_type) in AgentType::ALL.into_iter().enumerate() {
            config.agents.insert(
                agent_type.as_str().to_owned(),
                AgentConfig {
                    // Each type its own price, so a mix-up shows.
                    cost_per_request: 0.01 * (n + 1) as f64,
                    ..config.agent(agent_type)
                },
            );
        }
        config.llm = Some(LlmConfig {
            base_url: format!("http://{model}/v1"),
            model: "stub-model".to_owned(),
            timeout_ms: 5_000,
            price_per_1k_input: Some(0.1),
            price_per_1k_output: Some(0.4),
            ..LlmConfig::default()
        });
        let app = TestApp::start(db, config.clone()).await;
        // One request the model completes, one the rules read alone.
        let asked = app.submit(OPEN).await;
        let plain = app.submit(QUERY).await;
        for id in [&asked, &plain] {
            let status = app.wait_final(id, PLAN_WITHIN).await;
            assert_eq!(status["status"], "ready", "[{}] {status}", app.backend);
        }
        let text = metrics(&app).await;

        // 1,200 prompt tokens at $0.1/1k and 300 completion tokens at
        // $0.4/1k: $0.24, once (the plain request needs no call).
        let llm = value(&text, "wayfare_llm_cost_usd_total").expect("the llm cost");
        assert!((llm - 0.24).abs() < 1e-9, "[{}] {llm}\n{text}", app.backend);

        let mut agents = 0.0;
        for agent_type in AgentType::ALL {
            let label = format!(r#"agent_type="{agent_type}""#);
            let calls = value(
                &text,
                &format!(r#"wayfare_agent_calls_total{{{label},outcome="success"}}"#),
            )
            .unwrap_or_default()
                + value(
                    &text,
                    &format!(r#"wayfare_agent_calls_total{{{label},outcome="failure"}}"#),
                )
                .unwrap_or_default();
            let cost = value(&text, &format!("wayfare_agent_cost_total{{{label}}}"))
                .unwrap_or_else(|| panic!("no cost for {agent_type}\n{text}"));
            let price = config.agent(agent_type).cost_per_request;
            assert!(calls >= 1.0, "[{}] {agent_type} ran\n{text}", app.backend);
            assert!(
                (cost - calls * price).abs() < 1e-9,
                "[{}] {agent_type}: {cost} for {calls} calls at {price}",
                app.backend
            );
            agents += cost;
        }
        let per_request = value(&text, "wayfare_cost_per_request").expect("cost per request");
        assert!(
            (per_request - (agents + llm) / 2.0).abs() < 1e-9,
            "[{}] {per_request} is not ({agents} + {llm}) / 2",
            app.backend
        );
        assert!((app.runtime.metrics().llm_cost_total - llm).abs() < 1e-12);
        app.finish().await;
    }
}
