//! What the router refuses before any handler runs, and the headers it adds
//! to every answer: methods it does not serve (405), cross-site posts to
//! the server functions (403), clients writing too fast (429), and the
//! Content-Security-Policy and its companions.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;
use wayfare_app::error::AppError;

use crate::config::{RateLimitSection, SecuritySection};

/// The methods some route answers; anything else (`CONNECT`, `TRACE`,
/// invented ones) is refused before routing.
pub const ALLOWED_METHODS: [Method; 5] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
];

/// 405 for a method no route serves, 400 for a target without a path (the
/// authority form of `CONNECT host:443`): the Leptos fallback expects both.
///
/// On the machine routes (`/api/…`, `/healthz`, `/metrics`) the router
/// itself answers a method a route does not serve (axum's 405 names exactly
/// that route's methods in `Allow`, as the OpenAPI description says), and
/// unknown API paths answer the API's 404.
pub async fn known_methods(request: Request, next: Next) -> Response {
    let api_path = request.uri().path_and_query().is_some_and(|p| {
        let path = p.path();
        path.starts_with("/api/") || path == "/healthz" || path == "/metrics"
    });
    if !ALLOWED_METHODS.contains(request.method()) && !api_path {
        let mut response = (
            StatusCode::METHOD_NOT_ALLOWED,
            "this server does not answer that method\n",
        )
            .into_response();
        response.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, POST, PUT, DELETE"),
        );
        return response;
    }
    if request.uri().path_and_query().is_none() {
        return (StatusCode::BAD_REQUEST, "a request target needs a path\n").into_response();
    }
    next.run(request).await
}

/// The policy of a response that set none itself (assets, the API, errors):
/// nothing inline runs.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a server-rendered page: its inline hydration scripts carry
/// `nonce`; the WASM bundle needs `'wasm-unsafe-eval'`; the progress bar's
/// width is a `style` attribute.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// In the Leptos rendering context of a page: sends the policy naming the
/// nonce Leptos put on the page's inline scripts.
pub fn provide_page_csp() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = HeaderValue::from_str(&page_csp(&nonce))
    {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Adds the security headers a handler did not set itself.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Same-origin requests keep their Referer: a form posted without
        // JavaScript is sent back to the page it came from by it.
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// `host[:port]`, lower-cased, without the scheme's default port, of an
/// origin such as `https://Wayfare.example` (`None` for `null` or anything
/// that is not an origin).
pub fn origin_authority(origin: &str) -> Option<String> {
    let uri: axum::http::Uri = origin.trim().parse().ok()?;
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return None;
    }
    let default_port = match scheme {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        _ => return None,
    };
    let host = authority.host().to_ascii_lowercase();
    Some(match authority.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host,
    })
}

/// The request's own authority (`Host`; the server speaks HTTP/1 only),
/// lower-cased, without a default port.
fn own_authority(headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())?
        .to_ascii_lowercase();
    Some(
        host.strip_suffix(":80")
            .or_else(|| host.strip_suffix(":443"))
            .map_or_else(|| host.clone(), str::to_owned),
    )
}

/// Which origins may post to the server functions and open the event
/// stream: the server's own, and those configured.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    pub enabled: bool,
    /// Authorities (`host[:port]`) of the allowed origins.
    pub allowed: Vec<String>,
}

impl OriginPolicy {
    pub fn new(config: &SecuritySection) -> Self {
        Self {
            enabled: config.check_origin,
            allowed: config
                .allowed_origins
                .iter()
                .filter_map(|o| origin_authority(o))
                .collect(),
        }
    }

    /// Whether a browser sent this request from a page of an allowed
    /// origin. A request without `Origin` passes unless its
    /// `Sec-Fetch-Site` says it is cross-site: browsers send `Origin` with
    /// every POST and WebSocket, so such a request is from a program, which
    /// a forged request from another site cannot be.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        if !self.enabled {
            return true;
        }
        match headers.get(header::ORIGIN) {
            Some(origin) => {
                let Some(origin) = origin.to_str().ok().and_then(origin_authority) else {
                    return false;
                };
                own_authority(headers).as_deref() == Some(origin.as_str())
                    || self.allowed.contains(&origin)
            }
            None => !matches!(fetch_site(headers), Some("cross-site") | Some("same-site")),
        }
    }
}

fn fetch_site(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(HeaderName::from_static("sec-fetch-site"))
        .and_then(|v| v.to_str().ok())
}

/// An answer to a server function call the router refused, in the server
/// functions' own error encoding, so the page can show its message.
pub fn sfn_error(status: StatusCode, message: String) -> Response {
    (status, Json(AppError::BadRequest(message))).into_response()
}

/// The per-client write limiter.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    limit_loopback: bool,
    checks: Arc<AtomicU64>,
}

/// Forget clients idle long enough to be back at a full burst every this
/// many checks, so the table does not grow with every address ever seen.
const SWEEP_EVERY: u64 = 4096;

impl RateLimit {
    /// `None` when rate limiting is off.
    pub fn new(config: &RateLimitSection) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        let per_second = NonZeroU32::new(config.per_second)?;
        let burst = NonZeroU32::new(config.burst)?;
        Some(Self {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            )),
            limit_loopback: config.limit_loopback,
            checks: Arc::new(AtomicU64::new(0)),
        })
    }

    /// `Err(seconds to wait)` when `peer` is over its limit.
    fn check(&self, peer: IpAddr) -> Result<(), u64> {
        let peer = client_key(peer);
        if peer.is_loopback() && !self.limit_loopback {
            return Ok(());
        }
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&peer).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// One key per client: an IPv4 address, or an IPv6 client's /64 (one host
/// usually holds a whole /64).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The writes a client can repeat to load the server.
fn is_write(method: &Method, path: &str) -> bool {
    let trip_action = |action: &str| {
        path.strip_prefix("/api/trips/")
            .and_then(|rest| rest.strip_suffix(action))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    };
    match *method {
        Method::POST => {
            path == "/api/trips/plan"
                || path.starts_with("/sfn/")
                || trip_action("/answer")
                || trip_action("/interventions")
        }
        Method::PUT => trip_action("/modify") || trip_action("/rating"),
        Method::DELETE => trip_action("/cancel") || trip_action(""),
        _ => false,
    }
}

/// 429 + `Retry-After` for a client over its write rate. A request that
/// came through no socket (a test's `oneshot`) has no peer and passes.
pub async fn rate_limit(State(limit): State<RateLimit>, request: Request, next: Next) -> Response {
    if !is_write(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return next.run(request).await;
    };
    match limit.check(peer.ip()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let wait = wait.max(1);
            let message = format!("too many requests from your address: retry in {wait} s");
            let mut response = if request.uri().path().starts_with("/sfn/") {
                sfn_error(StatusCode::TOO_MANY_REQUESTS, message)
            } else {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({ "error": "rate_limited", "message": message })),
                )
                    .into_response()
            };
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_by_authority_without_default_ports() {
        assert_eq!(
            origin_authority("https://Wayfare.example").as_deref(),
            Some("wayfare.example")
        );
        assert_eq!(
            origin_authority("http://127.0.0.1:3000").as_deref(),
            Some("127.0.0.1:3000")
        );
        assert_eq!(
            origin_authority("http://a.example:80").as_deref(),
            Some("a.example")
        );
        assert_eq!(origin_authority("null"), None);
        assert_eq!(origin_authority("https://a.example/path"), None);
    }

    #[test]
    fn only_the_writes_are_limited() {
        let id = "0b0e6f3e-8b52-4d7f-9f3c-4c1c2d3e4f50";
        assert!(is_write(&Method::POST, "/api/trips/plan"));
        assert!(is_write(&Method::POST, "/sfn/submit_request"));
        assert!(is_write(&Method::PUT, &format!("/api/trips/{id}/modify")));
        assert!(is_write(
            &Method::DELETE,
            &format!("/api/trips/{id}/cancel")
        ));
        assert!(!is_write(&Method::GET, &format!("/api/trips/{id}/status")));
        assert!(!is_write(&Method::GET, "/"));
        assert!(!is_write(&Method::PUT, "/api/trips//modify"));
        assert!(is_write(&Method::POST, &format!("/api/trips/{id}/answer")));
        assert!(is_write(
            &Method::POST,
            &format!("/api/trips/{id}/interventions")
        ));
        assert!(is_write(&Method::PUT, &format!("/api/trips/{id}/rating")));
        assert!(is_write(&Method::DELETE, &format!("/api/trips/{id}")));
        assert!(!is_write(&Method::GET, &format!("/api/trips/{id}")));
        assert!(!is_write(&Method::GET, &format!("/api/trips/{id}/rating")));
        assert!(!is_write(&Method::DELETE, "/api/trips/"));
    }

    #[test]
    fn an_ipv6_client_is_one_key_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }
}
