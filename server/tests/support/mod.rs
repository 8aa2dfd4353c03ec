//! Test support for the API tests: a fresh database per test on every
//! backend (`wayfare_store::testing`: PostgreSQL skipped loudly when absent
//! locally, required under `CI=true`), the real router over a real
//! runtime, and a running server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use tower::ServiceExt;
use wayfare_engine::clock::SystemClock;
use wayfare_engine::ops::{Ops, OpsConfig};
use wayfare_engine::runtime::{Runtime, RuntimeConfig};
use wayfare_server::cli::leptos_options;
use wayfare_server::commands::open_catalog;
use wayfare_server::config::{Config, HttpSection, SecuritySection};
use wayfare_server::metrics::HttpMetrics;
use wayfare_server::web::{AppState, router_with};
use wayfare_store::Store;
pub use wayfare_store::testing::TestDb;

/// A query the demo catalog can plan.
pub const QUERY: &str = "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget $2,500 for 2 people.";

/// The real router over a real runtime on a real database.
pub struct TestApp {
    pub backend: &'static str,
    pub router: Router,
    pub runtime: Arc<Runtime<Store>>,
    pub store: Store,
    /// The dashboard's history and the alerts (evaluated only when a test
    /// calls `ops.observe`).
    pub ops: Ops,
    db: TestDb,
    _site: tempfile::TempDir,
}

/// One answer, its body parsed as JSON (`Null` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl TestApp {
    pub async fn start(db: TestDb, runtime_config: RuntimeConfig) -> TestApp {
        Self::start_with(
            db,
            runtime_config,
            &HttpSection::default(),
            &SecuritySection::default(),
        )
        .await
    }

    /// The same, with the given `http:` and `security:` settings.
    pub async fn start_with(
        db: TestDb,
        runtime_config: RuntimeConfig,
        http: &HttpSection,
        security: &SecuritySection,
    ) -> TestApp {
        let ops = Ops::new(OpsConfig::default(), Arc::new(SystemClock));
        Self::start_full(db, runtime_config, http, security, ops).await
    }

    /// The same, with the given operations state (a manual clock, a
    /// webhook).
    pub async fn start_with_ops(db: TestDb, runtime_config: RuntimeConfig, ops: Ops) -> TestApp {
        Self::start_full(
            db,
            runtime_config,
            &HttpSection::default(),
            &SecuritySection::default(),
            ops,
        )
        .await
    }

    async fn start_full(
        db: TestDb,
        runtime_config: RuntimeConfig,
        http: &HttpSection,
        security: &SecuritySection,
        ops: Ops,
    ) -> TestApp {
        let store = Store::connect(&db.url).await.expect("open the database");
        let site = tempfile::tempdir().expect("tempdir");
        let config = Config {
            site_root: site.path().to_owned(),
            ..Config::default()
        };
        let catalog = open_catalog(&store).await.expect("demo catalog");
        let runtime = Runtime::start(
            runtime_config,
            store.clone(),
            catalog,
            Arc::new(SystemClock),
        )
        .await
        .expect("start the runtime");
        let router = router_with(
            AppState {
                leptos_options: leptos_options(&config, config.listen),
                store: store.clone(),
                runtime: runtime.clone(),
                http_metrics: HttpMetrics::default(),
                ops: ops.clone(),
            },
            http,
            security,
        );
        TestApp {
            backend: db.name,
            router,
            runtime,
            store,
            ops,
            db,
            _site: site,
        }
    }

    /// One app per reachable backend, with the default configuration.
    pub async fn on_every_backend() -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in TestDb::all().await {
            apps.push(TestApp::start(db, RuntimeConfig::default()).await);
        }
        apps
    }

    pub async fn finish(self) {
        self.runtime.shutdown().await;
        self.store.close().await;
        self.db.drop_database().await;
    }

    /// Sends one request through the router (no socket).
    pub async fn call(&self, method: Method, uri: &str, body: Option<&str>) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .expect("request");
        self.send(request).await
    }

    /// Sends one request through the router; the response as it is.
    pub async fn respond(&self, request: Request<Body>) -> Response {
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers")
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.respond(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 16 << 20)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Answer {
            status,
            headers,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// Submits `query`; returns the trip id.
    pub async fn submit(&self, query: &str) -> String {
        let body = serde_json::json!({ "query": query }).to_string();
        let answer = self
            .call(Method::POST, "/api/trips/plan", Some(&body))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "[{}] submit: {}",
            self.backend,
            answer.text
        );
        answer.json["trip_id"]
            .as_str()
            .expect("a trip id")
            .to_owned()
    }

    /// Polls the status until it is final (or `needs_input`); panics after
    /// `within`.
    pub async fn wait_final(&self, id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let answer = self
                .call(Method::GET, &format!("/api/trips/{id}/status"), None)
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            let status = answer.json["status"].as_str().unwrap_or_default();
            if status != "planning" {
                return answer.json;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] trip {id} still planning after {within:?}: {}",
                self.backend,
                answer.text
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The trip's explanation and degradations, for failure messages.
    pub async fn explain(&self, id: &str) -> String {
        let trip = self
            .call(Method::GET, &format!("/api/trips/{id}"), None)
            .await;
        format!(
            "explanation: {}; degraded: {}; questions: {}",
            trip.json["explanation"], trip.json["degraded"], trip.json["questions"]
        )
    }

    /// Serves the router on 127.0.0.1 with an ephemeral port.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let router = self.router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        addr
    }
}

/// Asserts the API's error shape and code.
#[track_caller]
pub fn assert_error(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.json["error"], code, "{}", answer.text);
    assert!(
        answer.json["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error needs a message: {}",
        answer.text
    );
}
