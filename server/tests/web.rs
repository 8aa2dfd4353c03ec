//! The router, driven without a socket: health, server-side rendering and
//! the server functions against a real SQLite database.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use std::sync::Arc;

use tower::ServiceExt;
use wayfare_domain::trip::WireEvent;
use wayfare_engine::clock::SystemClock;
use wayfare_engine::ops::{Ops, OpsConfig};
use wayfare_engine::runtime::{Runtime, RuntimeConfig};
use wayfare_server::cli::leptos_options;
use wayfare_server::commands::open_catalog;
use wayfare_server::config::Config;
use wayfare_server::metrics::HttpMetrics;
use wayfare_server::web::{AppState, router};
use wayfare_store::Store;

struct TestApp {
    router: axum::Router,
    ops: Ops,
    _dir: tempfile::TempDir,
}

/// The tests share one app — one router over one store and one runtime —
/// on one multi-thread runtime (8 MiB worker stacks, which rendering a
/// ready plan unoptimised needs), as `wayfare serve` runs, and they run in
/// parallel.
///
/// They used to run one at a time, each with an app and a current-thread
/// runtime of its own: run concurrently that way, the body of a
/// server-rendered page now and then never ended (every thread parked, a
/// lost wake-up). Measured on 2026-11-29, two loops of this binary at once
/// on the 2-core machine (60 s deadline):
///
/// | each test has | builds overlap | hangs |
/// | --- | --- | --- |
/// | its own runtime and app | yes | 3 in ~70 runs |
/// | its own app, one shared runtime | yes | 3 in 473 |
/// | … with only the router's construction serialised | yes | 1 in 134 |
/// | … with each app's whole construction serialised | no | 0 in 1,118 |
/// | one shared app and runtime (this file) | — | 0 in 1,165 |
///
/// So the hang needs two apps (store, catalog, runtime) being built at
/// once in one process while pages render; `wayfare serve` builds one app
/// before it serves, and 87,000 page requests against the release server
/// never hung. It is confined to a harness that builds several apps at
/// once, which this one no longer does.
fn run<F: std::future::Future<Output = ()> + Send + 'static>(test: F) {
    static RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> = std::sync::LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_stack_size(8 * 1024 * 1024)
            .enable_all()
            .build()
            .expect("a runtime")
    });
    // Spawned, so that the test runs on a worker (an 8 MiB stack), not on
    // the test harness's thread.
    if let Err(e) = RUNTIME.block_on(RUNTIME.spawn(test)) {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the test was cancelled: {e}"),
        }
    }
}

async fn app() -> &'static TestApp {
    static APP: tokio::sync::OnceCell<TestApp> = tokio::sync::OnceCell::const_new();
    APP.get_or_init(build_app).await
}

async fn build_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!("sqlite://{}/w.db", dir.path().display()))
        .await
        .expect("store");
    let config = Config {
        site_root: dir.path().to_owned(),
        ..Config::default()
    };
    let options = leptos_options(&config, config.listen);
    let catalog = open_catalog(&store).await.expect("demo catalog");
    let runtime = Runtime::start(
        RuntimeConfig::default(),
        store.clone(),
        catalog,
        Arc::new(SystemClock),
    )
    .await
    .expect("runtime");
    let ops = Ops::new(OpsConfig::default(), Arc::new(SystemClock));
    TestApp {
        router: router(AppState {
            leptos_options: options,
            store,
            runtime,
            http_metrics: HttpMetrics::default(),
            ops: ops.clone(),
        }),
        ops,
        _dir: dir,
    }
}

async fn body_text(response: axum::response::Response) -> String {
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[test]
fn healthz_reports_the_database_ok() {
    run(async {
        let app = app().await;
        let response = app
            .router
            .clone()
            .oneshot(
                Request::get("/healthz")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body = body_text(response).await;
        assert!(body.contains(r#""database":"ok""#), "{body}");
    });
}

#[test]
fn the_home_page_renders_on_the_server() {
    run(async {
        let app = app().await;
        let response = app
            .router
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body = body_text(response).await;
        assert!(body.contains("Describe your trip"), "{body}");
        assert!(
            body.contains("/pkg/wayfare.js"),
            "hydration script missing: {body}"
        );
    });
}

const ALICE: &str = "wayfare_session=1b4e28ba2fa1491ab0c2d2b8c0ffee01";
const BOB: &str = "wayfare_session=1b4e28ba2fa1491ab0c2d2b8c0ffee02";

fn sfn(path: &str, cookie: &str, content_type: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .expect("request")
}

/// The page's server functions run on the orchestration runtime: a trip
/// planned from the page is the REST API's trip, its page renders it on the
/// server, and the session that made it owns it.
///
/// `GET path` on the app.
async fn get(app: &TestApp, path: &str) -> axum::response::Response {
    app.router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

/// The trip as the REST API shows it (`GET /api/trips/{id}`, 200).
async fn trip_json(app: &TestApp, id: &str) -> serde_json::Value {
    let response = get(app, &format!("/api/trips/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_str(&body_text(response).await).expect("json")
}

/// On a thread with an 8 MiB stack, as `wayfare serve`'s workers have:
/// rendering a ready plan unoptimised needs more than a test thread's 2 MiB.
#[test]
fn a_trip_planned_through_the_server_functions_is_the_runtimes_and_its_sessions() {
    run(trip_through_the_server_functions());
}

async fn trip_through_the_server_functions() {
    let app = app().await;
    let query = "A 3-day trip from Seattle to Denver, May 14-16, 2027, for two of us with a budget of $2,000.";
    let form = format!(
        "query={}",
        query
            .replace(' ', "+")
            .replace('$', "%24")
            .replace(',', "%2C")
    );
    let response = app
        .router
        .clone()
        .oneshot(sfn(
            "/sfn/plan_trip",
            ALICE,
            "application/x-www-form-urlencoded",
            form,
        ))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let id: String = serde_json::from_str(&body_text(response).await).expect("an id as JSON");
    assert_eq!(id.len(), 36);

    // The REST API knows it, and it is planned.
    let mut status = String::new();
    for _ in 0..100 {
        let trip = trip_json(app, &id).await;
        status = trip["status"].as_str().unwrap_or_default().to_owned();
        if status == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, "ready");

    // Its page is rendered whole on the server.
    let page = get(app, &format!("/trips/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = body_text(page).await;
    assert!(
        html.contains("Seattle to Denver") && html.contains("checks passed"),
        "{html}"
    );

    // Alice's trips list it; Bob's do not, and Bob cannot delete it.
    let mine = |cookie: &'static str| {
        let router = app.router.clone();
        async move {
            let response = router
                .oneshot(sfn(
                    "/sfn/my_trips",
                    cookie,
                    "application/x-www-form-urlencoded",
                    String::new(),
                ))
                .await
                .expect("response");
            body_text(response).await
        }
    };
    assert!(mine(ALICE).await.contains(&id));
    assert!(!mine(BOB).await.contains(&id));
    let refused = app
        .router
        .clone()
        .oneshot(sfn(
            "/sfn/delete_trip",
            BOB,
            "application/json",
            format!(r#"{{"id":"{id}"}}"#),
        ))
        .await
        .expect("response");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let deleted = app
        .router
        .clone()
        .oneshot(sfn(
            "/sfn/delete_trip",
            ALICE,
            "application/json",
            format!(r#"{{"id":"{id}"}}"#),
        ))
        .await
        .expect("response");
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/trips/{id}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// A browser without the cookie is given one, HttpOnly and SameSite.
#[test]
fn a_page_sets_an_httponly_session_cookie_once() {
    run(async {
        let app = app().await;
        let response = app
            .router
            .clone()
            .oneshot(Request::get("/trips").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let cookie = response.headers()[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            cookie.starts_with("wayfare_session=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        let again = app
            .router
            .clone()
            .oneshot(
                Request::get("/trips")
                    .header(header::COOKIE, ALICE)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert!(again.headers().get(header::SET_COOKIE).is_none());
    });
}

#[test]
fn an_empty_request_is_refused_with_a_readable_error() {
    run(async {
        let app = app().await;
        let submit = Request::post("/sfn/plan_trip")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from("query=+++"))
            .expect("request");
        let response = app.router.clone().oneshot(submit).await.expect("response");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body_text(response).await;
        assert!(body.contains("request is empty"), "{body}");
    });
}

/// The plan form posted without JavaScript: its spending, pace, interests
/// and children fields reach the trip's intent typed, and a value the form
/// does not offer is refused naming the ones it does.
#[test]
fn the_forms_wishes_reach_the_intent_typed_and_a_foreign_value_is_refused() {
    run(async {
        let app = app().await;
        let post = |fields: &str| {
            let body = format!(
                "query=3+days+from+Seattle+to+Denver%2C+May+14-16+2027%2C+three+of+us%2C+%242%2C000{fields}"
            );
            let router = app.router.clone();
            async move {
                let response = router
                    .oneshot(sfn(
                        "/sfn/plan_trip",
                        ALICE,
                        "application/x-www-form-urlencoded",
                        body,
                    ))
                    .await
                    .expect("response");
                (response.status(), body_text(response).await)
            }
        };
        let (status, body) = post(
            "&fields[style]=comfort&fields[pace]=packed&fields[interests]=art+galleries%2C+jazz&fields[children]=1",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id: String = serde_json::from_str(&body).expect("an id as JSON");
        let trip = trip_json(app, &id).await;
        let intent = &trip["intent"];
        assert_eq!(intent["budget_level"], "comfort", "{intent}");
        assert_eq!(intent["pace"], "packed", "{intent}");
        assert_eq!(intent["interests"], serde_json::json!(["art"]), "{intent}");
        assert_eq!(
            intent["preferences"],
            serde_json::json!(["jazz"]),
            "{intent}"
        );
        assert_eq!(intent["children"], 1, "{intent}");

        for (fields, says) in [
            ("&fields[pace]=frantic", "relaxed, balanced, packed"),
            ("&fields[style]=cheap", "budget, moderate, comfort, luxury"),
            ("&fields[children]=4", "more children than the 3 travellers"),
        ] {
            let (status, body) = post(fields).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{fields}: {body}");
            assert!(body.contains(says), "{fields}: {body}");
        }
    });
}

/// The dashboard's server function, as Alice's browser calls it.
async fn dashboard_report(app: &TestApp) -> wayfare_app::model::DashboardReport {
    let response = app
        .router
        .clone()
        .oneshot(sfn(
            "/sfn/dashboard",
            ALICE,
            "application/x-www-form-urlencoded",
            String::new(),
        ))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    serde_json::from_str(&body_text(response).await).expect("a DashboardReport")
}

/// `/dashboard` reads whole without JavaScript: the five targets with
/// their marks, the charts as SVG, the agent types; and its server
/// function answers the typed report.
#[test]
fn the_dashboard_renders_its_targets_on_the_server() {
    run(async {
        let app = app().await;
        let response = app
            .router
            .clone()
            .oneshot(
                Request::get("/dashboard")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body = body_text(response).await;
        for text in [
            "Request processing time",
            "Agent success rate",
            "State consistency score",
            "not audited yet",
            "User satisfaction",
            "Cost per request",
            "Target: under 5 s",
            "<svg",
            "Trips needing attention",
            r#"href="/dashboard""#,
        ] {
            assert!(body.contains(text), "no {text:?} in the page: {body}");
        }
        assert!(body.contains(r#"data-agent-type="transport""#), "{body}");

        let report = dashboard_report(app).await;
        let keys: Vec<&str> = report.targets.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            keys,
            ["latency", "success", "consistency", "satisfaction", "cost"]
        );
        let consistency = &report.targets[2];
        assert_eq!((consistency.value, consistency.on_target), (None, None));
        assert_eq!(report.agents.len(), 9);
        assert_eq!(report.charts.len(), 4);

        // A stranger's failed trip is listed, but not its link, request
        // or failure: the link is what lets one read a trip, and every
        // visitor sees this page.
        let stranger = "7d3c1a4e-5b6f-4a81-9c2d-0e1f2a3b4c5d";
        app.ops.track(&WireEvent {
            r#type: "trip_plan_failed".into(),
            trip_id: stranger.into(),
            seq: 7,
            at: chrono::Utc::now(),
            data: serde_json::json!({"reason": "no flight from Seattle to Honolulu on 2027-03-05"}),
        });
        let report = dashboard_report(app).await;
        let listed = report
            .attention
            .iter()
            .find(|t| t.reason == "failed")
            .expect("the failed trip is listed");
        assert!(!listed.yours);
        assert_eq!(
            (
                listed.trip_id.as_str(),
                listed.query.as_str(),
                listed.detail.as_str()
            ),
            ("", "", "")
        );
        let response = app
            .router
            .clone()
            .oneshot(
                Request::get("/dashboard")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let body = body_text(response).await;
        assert!(
            body.contains("A trip made in another browser or over the API"),
            "{body}"
        );
        assert!(
            !body.contains(stranger) && !body.contains("Honolulu"),
            "{body}"
        );
    });
}
