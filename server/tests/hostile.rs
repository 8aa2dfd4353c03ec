//! Hostile input, black-box: the real `wayfare serve` binary on a fresh
//! database (SQLite, and PostgreSQL where reachable) gets a seeded corpus of
//! requests a hostile or careless client sends — unusual methods, odd
//! paths, malformed and oversized bodies, absurd numbers and dates in
//! queries, overrides and changes, NULs and control characters, broken
//! framing — over raw TCP. Every one must be answered, none with a 5xx,
//! and the server must log no panic and still plan afterwards. Prints how
//! many were tried, per status class, for the README.

mod process;
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use process::Server;
use serde_json::{Value, json};
use support::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wayfare_engine::resilience::Rng as Seeded;

/// A plannable request on the demo catalog.
const QUERY: &str = "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget $2,500 for 2 people.";

/// What came back for one raw request.
#[derive(Debug)]
enum Outcome {
    Status(u16, String),
    /// The server closed the connection without an answer.
    Closed,
    /// No answer within the bound.
    TimedOut,
}

/// Sends `raw` bytes on a fresh connection and reads the answer's status
/// line and body (up to 64 KiB).
async fn send_raw(addr: &str, raw: &[u8]) -> Outcome {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        // A server may answer (413, 400) and close before it has read all
        // of a large body: a failed write is not yet a failed request.
        let _ = stream.write_all(raw).await;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() > 64 * 1024 {
                        break;
                    }
                }
            }
        }
        Some(buf)
    };
    match tokio::time::timeout(Duration::from_secs(20), attempt).await {
        Err(_) => Outcome::TimedOut,
        Ok(None) => Outcome::Closed,
        Ok(Some(buf)) => {
            let text = String::from_utf8_lossy(&buf).into_owned();
            let code = text
                .strip_prefix("HTTP/1.1 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse().ok());
            match code {
                Some(code) => Outcome::Status(code, text),
                None => Outcome::Closed,
            }
        }
    }
}

/// An HTTP/1.1 request with `Connection: close`.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn json_request(method: &str, path: &str, body: &str) -> Vec<u8> {
    request(
        method,
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// A seeded generator, so a failure names a seed that reproduces it.
struct Rng(Seeded);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.u64(..)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Values that have broken, or could break, a parser, a date, a number or
/// a database column.
const HOSTILE_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1e308",
    "-1e308",
    "1e-308",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "94000000",
    "99999",
    "9007199254740993",
    "0.5",
    "1.7976931348623157e309",
    "\"NaN\"",
    "\"Infinity\"",
    "null",
    "true",
    "[]",
    "{}",
    "\"3\"",
];

const HOSTILE_DATES: &[&str] = &[
    "\"+262142-12-30\"",
    "\"-262143-01-01\"",
    "\"0000-01-01\"",
    "\"9999-12-31\"",
    "\"2027-02-30\"",
    "\"2027-13-01\"",
    "\"\"",
    "\"tomorrow\"",
    "\"2027-03-12T00:00:00Z\"",
    "\"2027-3-5\"",
    "20270312",
];

const HOSTILE_TEXT: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "Seattle\u{0}Denver",
    "\u{202e}olleh",
    "<script>alert(1)</script>",
    "'; DROP TABLE trip_events; --",
    "%00%ff",
    "\u{1F600}\u{1F600}\u{1F600}",
    "\u{7}\u{8}\u{1b}[31m",
    "Plan a 3-day trip from Seattle to Denver for $2000 people",
    "Plan a 4294967295-day trip from Seattle to Denver",
    "Plan a 3-day trip from Seattle to Denver starting March 12th, 262142, budget $2,500",
    "Plan a 3-day trip from Seattle to Denver on 0000-01-01 for 0 people, budget $-1",
];

/// The seeded corpus: (label, raw request). `trip` is a ready trip's id.
fn corpus(seed: u64, count: usize, trip: &str, version: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(Seeded::with_seed(seed));
    let nines = "9".repeat(400);
    let long_query = "Seattle ".repeat(20_000);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();

    // Fixed cases first: every one that once broke the server.
    let fixed: Vec<(&str, Vec<u8>)> = vec![
        ("CONNECT", b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_vec()),
        ("CONNECT authority", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n".to_vec()),
        ("OPTIONS *", b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_vec()),
        ("absolute-form", b"GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_vec()),
        ("HTTP/1.0 no host", b"GET / HTTP/1.0\r\n\r\n".to_vec()),
        ("bad content-length", b"POST /api/trips/plan HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n".to_vec()),
        ("two content-lengths", b"POST /api/trips/plan HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}".to_vec()),
        ("bad chunk", b"POST /api/trips/plan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec()),
        ("days u32::MAX", json_request("POST", "/api/trips/plan", &json!({"query": QUERY, "overrides": {"days": 4294967295u64}}).to_string())),
        ("days 94M", json_request("POST", "/api/trips/plan", &json!({"query": QUERY, "overrides": {"days": 94000000}}).to_string())),
        ("start +262142", json_request("POST", "/api/trips/plan", &json!({"query": QUERY, "overrides": {"start_date": "+262142-12-30"}}).to_string())),
        ("people 0", json_request("POST", "/api/trips/plan", &json!({"query": QUERY, "overrides": {"people": 0}}).to_string())),
        ("budget -1", json_request("POST", "/api/trips/plan", &json!({"query": QUERY, "overrides": {"budget": -1}}).to_string())),
        ("400 nines", json_request("POST", "/api/trips/plan", &json!({"query": format!("Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget ${nines} for 2 people.")}).to_string())),
        ("NUL query", json_request("POST", "/api/trips/plan", &json!({"query": "Seattle\u{0}to Denver"}).to_string())),
        ("160 KB query", json_request("POST", "/api/trips/plan", &json!({"query": long_query}).to_string())),
        ("deep JSON", json_request("POST", "/api/trips/plan", &format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)))),
        ("sfn no field", request("POST", "/sfn/plan_trip", &[("Content-Type", "application/x-www-form-urlencoded")], b"")),
        ("sfn repeated field", request("POST", "/sfn/plan_trip", &[("Content-Type", "application/x-www-form-urlencoded")], b"query=a&query=b")),
        ("sfn 20 MiB", request("POST", "/sfn/plan_trip", &[("Content-Type", "application/x-www-form-urlencoded")], &[b'a'; 20 << 20])),
        ("sfn bad json", request("POST", "/sfn/plan_trip", &[("Content-Type", "application/json")], b"{\"query\":")),
        ("sfn unknown", request("POST", "/sfn/no_such_function", &[("Content-Type", "application/x-www-form-urlencoded")], b"a=b")),
        ("modify dates +262142", json_request("PUT", &format!("/api/trips/{trip}/modify"), &json!({"expected_version": version, "changes": [{"kind": "dates", "start": "+262142-12-30"}]}).to_string())),
        ("modify budget -1", json_request("PUT", &format!("/api/trips/{trip}/modify"), &json!({"expected_version": version, "changes": [{"kind": "budget", "value": -1}]}).to_string())),
        ("modify travellers 0", json_request("PUT", &format!("/api/trips/{trip}/modify"), &json!({"expected_version": version, "changes": [{"kind": "travellers", "value": 0}]}).to_string())),
        ("huge header", request("GET", "/healthz", &[("X-Big", &"a".repeat(200_000))], b"")),
        ("long path", request("GET", &format!("/{}", "a/".repeat(10_000)), &[], b"")),
        ("websocket no upgrade", request("GET", &format!("/api/trips/{trip}/events?after=-1"), &[], b"")),
        ("websocket bad key", request("GET", &format!("/api/trips/{trip}/events"), &[("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "99")], b"")),
    ];
    for (label, raw) in fixed {
        out.push((label.to_owned(), raw));
    }
    // Pages whose body nobody reads (HEAD): the render is dropped while
    // its Suspense may still be resolving.
    for i in 0..40 {
        let path = match i % 6 {
            0 => "/".to_owned(),
            1 => format!("/trips/{trip}"),
            2 => "/trips/00000000-0000-0000-0000-000000000000".to_owned(),
            3 => "/trips/not-an-id".to_owned(),
            4 => format!("/requests/{trip}"),
            _ => "/requests/not\"an-id".to_owned(),
        };
        out.push((format!("HEAD {path}"), request("HEAD", &path, &[], b"")));
    }

    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "get",
        "FOO", "PROPFIND", "M-SEARCH", "X",
    ];
    let paths = [
        "/".to_owned(),
        "/api/trips/plan".to_owned(),
        format!("/api/trips/{trip}"),
        format!("/api/trips/{trip}/status"),
        format!("/api/trips/{trip}/modify"),
        format!("/api/trips/{trip}/cancel"),
        format!("/api/trips/{trip}/alternatives/d1.dinner"),
        format!("/api/trips/{trip}/alternatives/%00"),
        "/api/trips/not-a-uuid/status".to_owned(),
        "/api/trips/00000000-0000-0000-0000-000000000000".to_owned(),
        "/api/agents".to_owned(),
        "/api/../../etc/passwd".to_owned(),
        "/api/%ff%fe".to_owned(),
        "/healthz".to_owned(),
        "/metrics".to_owned(),
        "/sfn/plan_trip".to_owned(),
        "/sfn/trip_page".to_owned(),
        "/sfn/trip_events".to_owned(),
        "/sfn/change_trip".to_owned(),
        "/sfn/my_trips".to_owned(),
        format!("/trips/{trip}"),
        "/trips/%00".to_owned(),
        "/agents".to_owned(),
        "/requests/%00".to_owned(),
        "/requests/../../x".to_owned(),
        "/pkg/wayfare.js".to_owned(),
        "/pkg/..%2f..%2fCargo.toml".to_owned(),
        "/trips".to_owned(),
        "/?q=%00".to_owned(),
    ];
    let content_types = [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
    ];
    let override_keys = [
        "days",
        "people",
        "budget",
        "start_date",
        "origin",
        "destination",
        "visiting_city_number",
        "nope",
    ];
    let change_kinds = ["dates", "budget", "travellers", "replace", "reroll", "nope"];
    while out.len() < count {
        let label;
        let raw = match rng.next() % 6 {
            // Any method on any path, with or without a body.
            0 | 1 => {
                let method = rng.pick(&methods);
                let path = rng.pick(&paths);
                let ctype = rng.pick(&content_types);
                let body = if rng.next().is_multiple_of(2) {
                    json!({"query": rng.pick(HOSTILE_TEXT)}).to_string()
                } else {
                    format!("query={}", rng.pick(HOSTILE_TEXT))
                };
                label = format!("{method} {path} ({ctype})");
                request(method, path, &[("Content-Type", ctype)], body.as_bytes())
            }
            // A plan with absurd overrides.
            2 => {
                let key = rng.pick(&override_keys);
                let value = if *key == "start_date" {
                    rng.pick(HOSTILE_DATES)
                } else {
                    rng.pick(HOSTILE_NUMBERS)
                };
                let body = format!(
                    r#"{{"query": {}, "overrides": {{"{key}": {value}}}}}"#,
                    json!(QUERY)
                );
                label = format!("plan overrides {key}={value}");
                json_request("POST", "/api/trips/plan", &body)
            }
            // A plan with hostile text.
            3 => {
                let text = rng.pick(HOSTILE_TEXT);
                label = format!("plan text {text:?}");
                json_request(
                    "POST",
                    "/api/trips/plan",
                    &json!({"query": format!("{QUERY} {text}")}).to_string(),
                )
            }
            // A change with absurd values.
            4 => {
                let kind = rng.pick(&change_kinds);
                let number = rng.pick(HOSTILE_NUMBERS);
                let date = rng.pick(HOSTILE_DATES);
                let versions = [
                    version.to_string(),
                    "0".into(),
                    "-1".into(),
                    "18446744073709551616".into(),
                ];
                let v = rng.pick(&versions);
                let body = format!(
                    r#"{{"expected_version": {v}, "changes": [{{"kind": "{kind}", "start": {date}, "value": {number}, "component_id": "d1.dinner", "with": {number}}}]}}"#
                );
                label = format!("modify {body}");
                json_request("PUT", &format!("/api/trips/{trip}/modify"), &body)
            }
            // A server function with hostile arguments.
            _ => {
                let endpoint = rng.pick(&["plan_trip", "trip_page", "trip_events"]);
                let text = rng.pick(HOSTILE_TEXT);
                let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
                let field = if *endpoint == "plan_trip" {
                    "query"
                } else {
                    "id"
                };
                let body = format!("{field}={encoded}");
                label = format!("sfn {endpoint} {text:?}");
                request(
                    "POST",
                    &format!("/sfn/{endpoint}"),
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    body.as_bytes(),
                )
            }
        };
        out.push((label, raw));
    }
    out
}

/// Submits the plannable query and waits for it to be ready: (id, version).
async fn ready_trip(addr: &str) -> (String, u64) {
    let raw = json_request(
        "POST",
        "/api/trips/plan",
        &json!({"query": QUERY}).to_string(),
    );
    let Outcome::Status(202, text) = send_raw(addr, &raw).await else {
        panic!("the plannable query was not accepted");
    };
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let accepted: Value = serde_json::from_str(body).expect("JSON");
    let id = accepted["trip_id"].as_str().expect("trip_id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let raw = request("GET", &format!("/api/trips/{id}/status"), &[], b"");
        if let Outcome::Status(200, text) = send_raw(addr, &raw).await {
            let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
            let status: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            if status["status"] == "ready" {
                return (id, status["version"].as_u64().unwrap_or(0));
            }
            assert!(status["status"] == "planning", "not planned: {status}");
        }
        assert!(Instant::now() < deadline, "the trip did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_no_5xx_and_no_panic() {
    let count: usize = std::env::var("WAYFARE_HOSTILE_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    for db in TestDb::all().await {
        let dir = tempfile::tempdir().expect("tempdir");
        // The corpus is sent as fast as the server answers, from one
        // address: a rate limiter would answer most of it with 429.
        let server = Server::start(
            &db.url,
            dir.path(),
            &[("WAYFARE_SECURITY__RATE_LIMIT__ENABLED", "false")],
        );
        let addr = server.addr.clone();
        let (trip, version) = ready_trip(&addr).await;
        let cases = corpus(0x5eed_0000 ^ count as u64, count, &trip, version);
        let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
        let mut failures = Vec::new();
        for (label, raw) in &cases {
            let outcome = send_raw(&addr, raw).await;
            let class = match &outcome {
                Outcome::Status(code, _) => format!("{}xx", code / 100),
                Outcome::Closed => "closed".to_owned(),
                Outcome::TimedOut => "timed out".to_owned(),
            };
            *by_class.entry(class).or_default() += 1;
            match outcome {
                Outcome::Status(code, text) if code >= 500 => {
                    let head: String = text.chars().take(300).collect();
                    failures.push(format!("{label}: {head}"));
                }
                Outcome::TimedOut => failures.push(format!("{label}: no answer in 20 s")),
                _ => {}
            }
        }
        // Still alive, and still planning.
        let (_, after) = ready_trip(&addr).await;
        assert!(after > 0);
        let log = server.log();
        let panics: Vec<&str> = log.lines().filter(|l| l.contains("panicked")).collect();
        println!(
            "[{}] hostile requests: {} tried; {:?}; {} with a 5xx or no answer; {} panics",
            db.name,
            cases.len(),
            by_class,
            failures.len(),
            panics.len()
        );
        assert!(
            failures.is_empty(),
            "[{}] {} hostile requests failed:\n{}",
            db.name,
            failures.len(),
            failures.join("\n")
        );
        assert!(
            panics.is_empty(),
            "[{}] the server panicked:\n{log}",
            db.name
        );
        drop(server);
        db.drop_database().await;
    }
}
