//! The HTTP layer's defences, through the real router (`oneshot`) and, for
//! timeouts and shutdown, over real sockets: client mistakes on the server
//! functions (400/413, never a described 500), unusual methods (405),
//! bounded `/metrics` labels, security headers with the page's nonce,
//! cross-site posts and WebSockets (403), per-client rate limits (429),
//! connection timeouts, and a shutdown bounded in time.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use support::{TestApp, TestDb};
use wayfare_engine::runtime::RuntimeConfig;
use wayfare_server::config::human::HumanDuration;
use wayfare_server::config::{HttpSection, SecuritySection};
use wayfare_server::web::serve::{ServeOptions, serve};

async fn app_with(http: HttpSection, security: SecuritySection) -> TestApp {
    TestApp::start_with(
        TestDb::sqlite().await,
        RuntimeConfig::default(),
        &http,
        &security,
    )
    .await
}

async fn app() -> TestApp {
    app_with(HttpSection::default(), SecuritySection::default()).await
}

async fn text(response: Response) -> String {
    let bytes = to_bytes(response.into_body(), 1 << 24).await.expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn sfn_post(path: &str) -> axum::http::request::Builder {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
}

fn form(path: &str, body: impl Into<Body>) -> Request<Body> {
    sfn_post(path).body(body.into()).expect("request")
}

// ---- item 7: server functions answer client mistakes with 4xx ----------

#[tokio::test]
async fn server_function_client_mistakes_are_4xx_with_a_readable_message() {
    let app = app().await;
    for (body, why) in [
        ("qery=3+days+in+Denver", "missing field"),
        ("query=a&query=b", "repeated field"),
        ("", "empty body"),
    ] {
        let response = app.respond(form("/sfn/plan_trip", body)).await;
        let status = response.status();
        let text = text(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {text}");
        let error: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let message = error["BadRequest"].as_str().unwrap_or_default();
        assert!(
            message.contains("could not be read") && !text.contains("Transport"),
            "{why}: {text}"
        );
    }
    let response = app
        .respond(form("/sfn/plan_trip", vec![b'q'; 20 << 20]))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let refusal = text(response).await;
    assert!(refusal.contains("larger than"), "{refusal}");

    // Our own failures stay 500, and say nothing of what failed.
    app.runtime.shutdown().await;
    app.store.close().await;
    let response = app
        .respond(form(
            "/sfn/trip_page",
            "id=00000000-0000-4000-8000-000000000000",
        ))
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(response).await, r#""Internal""#);
}

// ---- item 9: unusual methods never reach the Leptos fallback -----------

#[tokio::test]
async fn connect_and_invented_methods_are_refused_with_405() {
    let app = app().await;
    let connect = Request::builder()
        .method(Method::CONNECT)
        .uri("example.com:443")
        .body(Body::empty())
        .expect("request");
    let response = app.respond(connect).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().contains_key(header::ALLOW));
    for (method, path) in [
        ("TRACE", "/"),
        ("FOO", "/"),
        ("BREW", "/requests/x"),
        ("PATCH", "/api/trips/plan"),
    ] {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let response = app.respond(request).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
    // An API route's 405 names exactly the methods it serves.
    for (method, path, allow) in [
        ("OPTIONS", "/api/agents", "GET,HEAD"),
        ("OPTIONS", "/healthz", "GET,HEAD"),
        ("CONNECT", "/api/trips/plan", "POST"),
    ] {
        let request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let response = app.respond(request).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], allow, "{method} {path}");
    }
    app.runtime.shutdown().await;
}

// ---- item 8: /metrics labels are bounded --------------------------------

#[tokio::test]
async fn invented_methods_and_paths_do_not_grow_metrics() {
    let app = app().await;
    let metrics = || {
        Request::get("/metrics")
            .body(Body::empty())
            .expect("request")
    };
    // One request of each kind first, so every series that can exist does.
    let _ = app.respond(metrics()).await;
    let before = text(app.respond(metrics()).await).await.len();
    for i in 0..300 {
        let method = Method::from_bytes(format!("X{i}").as_bytes()).expect("method");
        for path in ["/api/trips/plan", "/healthz", "/metrics", "/api/nope"] {
            let request = Request::builder()
                .method(method.clone())
                .uri(format!("{path}?n={i}"))
                .body(Body::empty())
                .expect("request");
            let _ = app.respond(request).await;
        }
    }
    let after = text(app.respond(metrics()).await).await;
    assert!(!after.contains("X299"), "an invented method is a label");
    assert!(
        after.len() < before * 2,
        "/metrics grew from {before} to {} bytes",
        after.len()
    );
    app.runtime.shutdown().await;
}

// ---- item 12: security headers, origins, rate limits --------------------

#[tokio::test]
async fn pages_send_a_csp_naming_their_nonce_and_the_other_security_headers() {
    let app = app().await;
    let response = app
        .respond(Request::get("/").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let html = text(response).await;
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let nonce = html
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's inline scripts carry a nonce");
    assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(headers.contains_key(header::REFERRER_POLICY));

    // Every inline script of a page, the streamed ones of a request page
    // too, carries the nonce its policy names (or it would not run).
    let submit = app
        .respond(form(
            "/sfn/plan_trip",
            "query=3+days+from+Seattle+to+Denver%2C+May+14-16+2027%2C+two+of+us%2C+%242000",
        ))
        .await;
    let id: String = serde_json::from_str(&text(submit).await).expect("an id");
    let page = app
        .respond(
            Request::get(format!("/trips/{id}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    let html = text(page).await;
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "{html}");
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        let nonce = tag
            .split("nonce=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("a script without a nonce: <script{tag}>"));
        assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp} / {tag}");
    }

    // A page Leptos renders as not found, and the API, are covered too.
    for path in ["/no/such/page", "/healthz"] {
        let response = app
            .respond(Request::get(path).body(Body::empty()).expect("request"))
            .await;
        let headers = response.headers();
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
    }
    app.runtime.shutdown().await;
}

fn submit_from(origin: Option<&str>, fetch_site: Option<&str>) -> Request<Body> {
    let mut request = sfn_post("/sfn/plan_trip").header(header::HOST, "127.0.0.1:3000");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    if let Some(site) = fetch_site {
        request = request.header("sec-fetch-site", site);
    }
    request
        .body(Body::from("query=3+days+in+Denver%2C+two+of+us"))
        .expect("request")
}

#[tokio::test]
async fn cross_site_posts_to_server_functions_are_refused() {
    let app = app().await;
    for (origin, site, expected) in [
        (
            Some("https://evil.example"),
            Some("cross-site"),
            StatusCode::FORBIDDEN,
        ),
        (Some("https://evil.example"), None, StatusCode::FORBIDDEN),
        (Some("null"), None, StatusCode::FORBIDDEN),
        (None, Some("cross-site"), StatusCode::FORBIDDEN),
        (
            Some("http://127.0.0.1:3000"),
            Some("same-origin"),
            StatusCode::OK,
        ),
        (None, None, StatusCode::OK),
    ] {
        let response = app.respond(submit_from(origin, site)).await;
        let status = response.status();
        let body = text(response).await;
        assert_eq!(
            status, expected,
            "Origin {origin:?}, Sec-Fetch-Site {site:?}: {body}"
        );
    }
    app.runtime.shutdown().await;

    let allowed = app_with(
        HttpSection::default(),
        SecuritySection {
            allowed_origins: vec!["https://wayfare.example".to_owned()],
            ..SecuritySection::default()
        },
    )
    .await;
    let response = allowed
        .respond(submit_from(
            Some("https://wayfare.example"),
            Some("cross-site"),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    allowed.runtime.shutdown().await;
}

fn events_request(origin: Option<&str>) -> Request<Body> {
    let mut request = Request::get("/api/trips/00000000-0000-4000-8000-000000000000/events")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    request.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_event_stream_refuses_pages_of_other_origins() {
    let app = app().await;
    let response = app
        .respond(events_request(Some("https://evil.example")))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = text(response).await;
    assert!(body.contains(r#""error":"forbidden""#), "{body}");
    // Its own pages and non-browser clients get as far as the trip lookup.
    for origin in [Some("http://127.0.0.1:3000"), None] {
        let response = app.respond(events_request(origin)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{origin:?}");
    }
    app.runtime.shutdown().await;
}

fn plan_from(peer: &str) -> Request<Body> {
    let peer: SocketAddr = peer.parse().expect("address");
    let mut request = Request::post("/api/trips/plan")
        .header(header::CONTENT_TYPE, "application/json")
        // Malformed on purpose: the limit applies before the body is read,
        // and nothing is planned.
        .body(Body::from("{"))
        .expect("request");
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[tokio::test]
async fn writes_beyond_a_clients_rate_get_429_with_retry_after() {
    let mut security = SecuritySection::default();
    security.rate_limit.per_second = 1;
    security.rate_limit.burst = 3;
    let app = app_with(HttpSection::default(), security).await;
    for _ in 0..3 {
        let response = app.respond(plan_from("203.0.113.9:40000")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = app.respond(plan_from("203.0.113.9:40001")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = serde_json::from_str(&text(response).await).expect("JSON");
    assert_eq!(body["error"], "rate_limited");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    // Another client, a loopback one (a local proxy, `wayfare loadgen`),
    // and reads are not held back.
    let response = app.respond(plan_from("198.51.100.4:40000")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    for _ in 0..10 {
        let response = app.respond(plan_from("127.0.0.1:40000")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let mut read = Request::get("/api/agents")
        .body(Body::empty())
        .expect("request");
    read.extensions_mut().insert(ConnectInfo(
        "203.0.113.9:40002".parse::<SocketAddr>().expect("addr"),
    ));
    assert_eq!(app.respond(read).await.status(), StatusCode::OK);
    app.runtime.shutdown().await;
}

// ---- item 10: connections time out; the shutdown is bounded ------------

fn short_timeouts() -> HttpSection {
    HttpSection {
        header_read_timeout: HumanDuration::from_millis(400),
        body_timeout: HumanDuration::from_millis(400),
        request_timeout: HumanDuration::from_millis(5_000),
        shutdown_grace: HumanDuration::from_millis(500),
    }
}

/// Serves `app` with `http`'s timeouts; the sender stops it.
async fn listen(
    app: &TestApp,
    http: &HttpSection,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        header_read_timeout: http.header_read_timeout.0,
        shutdown_grace: http.shutdown_grace.0,
    };
    tokio::spawn(serve(listener, app.router.clone(), options, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Reads until the server closes the connection; panics if it has not
/// within `within`. Returns what it sent.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> String {
    stream.set_read_timeout(Some(within)).expect("read timeout");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the connection open past {within:?} ({e}); received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_half_sent_and_kept_alive_connections_time_out() {
    let http = short_timeouts();
    let app = app_with(http.clone(), SecuritySection::default()).await;
    let (addr, _stop) = listen(&app, &http).await;
    tokio::task::spawn_blocking(move || {
        // Connected, nothing sent.
        let mut idle = TcpStream::connect(addr).expect("connect");
        // Half a request head.
        let mut partial = TcpStream::connect(addr).expect("connect");
        partial
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .expect("write");
        // A body promised and never sent.
        let mut no_body = TcpStream::connect(addr).expect("connect");
        no_body
            .write_all(
                b"POST /api/trips/plan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"qu",
            )
            .expect("write");
        // One request answered, then silence on a kept-alive connection.
        let mut kept = TcpStream::connect(addr).expect("connect");
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");

        let started = Instant::now();
        let within = Duration::from_secs(5);
        assert_eq!(read_until_closed(&mut idle, within), "");
        let _ = read_until_closed(&mut partial, within);
        let answer = read_until_closed(&mut no_body, within);
        assert!(
            answer.starts_with("HTTP/1.1 4"),
            "a body that never comes is a client error: {answer:?}"
        );
        let answer = read_until_closed(&mut kept, within);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        assert!(started.elapsed() < Duration::from_secs(4));
    })
    .await
    .expect("client thread");
    app.runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_connection_does_not_hold_the_shutdown_up() {
    // Generous client timeouts: only the shutdown's bound can end it.
    let http = HttpSection {
        header_read_timeout: HumanDuration::from_millis(60_000),
        body_timeout: HumanDuration::from_millis(60_000),
        request_timeout: HumanDuration::from_millis(60_000),
        shutdown_grace: HumanDuration::from_millis(500),
    };
    let app = app_with(http.clone(), SecuritySection::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        app.router.clone(),
        ServeOptions {
            header_read_timeout: http.header_read_timeout.0,
            shutdown_grace: http.shutdown_grace.0,
        },
        async {
            let _ = stopped.await;
        },
    ));
    let mut stuck = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tokio::io::AsyncWriteExt::write_all(
        &mut stuck,
        b"POST /api/trips/plan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stopped within its grace period")
        .expect("serve task");
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(stuck);
    app.runtime.shutdown().await;
}

/// The real binary: SIGTERM with a half-sent request open ends the process
/// within `http.shutdown_grace` (and the runtime's stop).
#[test]
fn wayfare_serve_exits_on_sigterm_despite_a_half_sent_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_wayfare"));
    for (key, _) in std::env::vars() {
        if key.starts_with("WAYFARE_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    let mut child = command
        .arg("serve")
        .current_dir(dir.path())
        .env(
            "WAYFARE_DATABASE_URL",
            format!("sqlite://{}/w.db", dir.path().display()),
        )
        .env("WAYFARE_LISTEN", "127.0.0.1:0")
        .env("WAYFARE_SITE_ROOT", dir.path())
        .env("WAYFARE_LOG", "info")
        .env("WAYFARE_HTTP__HEADER_READ_TIMEOUT", "60s")
        .env("WAYFARE_HTTP__BODY_TIMEOUT", "60s")
        .env("WAYFARE_HTTP__SHUTDOWN_GRACE", "1s")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wayfare serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(at) = line.find("serving on http://") {
                let rest = &line[at + "serving on http://".len()..];
                let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                let _ = tx.send(addr);
            }
        }
    });
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = child.kill();
        panic!("wayfare serve did not start");
    };
    let mut stuck = TcpStream::connect(addr.as_str()).expect("connect");
    stuck
        .write_all(b"POST /api/trips/plan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .expect("write");
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "wayfare serve exited with {status}");
            break;
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wayfare serve was still running 15 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stuck);
}

/// The event stream through the real accept loop, with timeouts far
/// shorter than the stream lives: an upgraded connection is bounded by
/// neither the header-read timeout nor the request timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_outlives_the_request_and_idle_timeouts() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let http = HttpSection {
        header_read_timeout: HumanDuration::from_millis(300),
        body_timeout: HumanDuration::from_millis(300),
        request_timeout: HumanDuration::from_millis(2_000),
        shutdown_grace: HumanDuration::from_millis(500),
    };
    let app = app_with(http.clone(), SecuritySection::default()).await;
    let submit = Request::post("/api/trips/plan")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({ "query": "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget $2,500 for 2 people." }).to_string(),
        ))
        .expect("request");
    let accepted: serde_json::Value =
        serde_json::from_str(&text(app.respond(submit).await).await).expect("JSON");
    let id = accepted["trip_id"].as_str().expect("a trip id").to_owned();
    let (addr, _stop) = listen(&app, &http).await;

    // From the server's own page: the browser sends its origin.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{addr}/api/trips/{id}/events"
        ))
        .expect("request");
    request.headers_mut().insert(
        header::ORIGIN,
        format!("http://{addr}").parse().expect("header"),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade succeeds");
    assert_eq!(response.status(), 101);
    let first = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("an event in time")
        .expect("a frame")
        .expect("a frame");
    assert!(matches!(first, Message::Text(_)), "{first:?}");
    // Quiet for longer than every timeout, then still answered.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    socket
        .send(Message::Ping(b"still there?".to_vec().into()))
        .await
        .expect("the socket is open");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Ok(Some(Ok(Message::Pong(payload)))) => {
                assert_eq!(&payload[..], b"still there?");
                break;
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("the socket closed or stayed silent: {other:?}"),
        }
    }

    // From another site's page: refused before the upgrade.
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{addr}/api/trips/{id}/events"
        ))
        .expect("request");
    request.headers_mut().insert(
        header::ORIGIN,
        "https://evil.example".parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("a cross-origin upgrade was not refused: {other:?}"),
    }
    app.runtime.shutdown().await;
}
