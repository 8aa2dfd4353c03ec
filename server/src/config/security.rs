//! `http:` (connection and request timeouts, shutdown) and `security:`
//! (response headers, origin checks, rate limiting): the settings of
//! [`crate::web::security`] and [`crate::web::serve`]. On by default, with
//! limits a person using the site never meets.

use serde::{Deserialize, Serialize};

use super::human::HumanDuration;

/// `http:` — how long the server waits for a client, and for itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSection {
    /// A connection must send a request's whole head within this, counted
    /// from when the server starts waiting for it: right after the
    /// connection opens, and after each response on a kept-alive
    /// connection. So it is also the idle keep-alive timeout.
    pub header_read_timeout: HumanDuration,
    /// The longest wait for the next piece of a request's body.
    pub body_timeout: HumanDuration,
    /// A request must be answered (its response head sent) within this;
    /// beyond it: 408. A WebSocket is answered at its upgrade, so its
    /// stream is not bounded by this.
    pub request_timeout: HumanDuration,
    /// On SIGTERM/Ctrl-C: requests in flight get this long to finish; then
    /// the connections still open are closed.
    pub shutdown_grace: HumanDuration,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            header_read_timeout: HumanDuration::from_millis(10_000),
            body_timeout: HumanDuration::from_millis(10_000),
            request_timeout: HumanDuration::from_millis(60_000),
            shutdown_grace: HumanDuration::from_millis(10_000),
        }
    }
}

/// `security:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySection {
    /// Content-Security-Policy (with the page's nonce),
    /// X-Content-Type-Options, X-Frame-Options and Referrer-Policy on
    /// every response.
    pub headers: bool,
    /// Refuse a browser's cross-site POST to `/sfn/…` and a WebSocket
    /// opened from another origin (a client that sends no `Origin` is not
    /// a browser page and passes).
    pub check_origin: bool,
    /// Origins besides the server's own (`https://wayfare.example`) that
    /// may post to `/sfn/…` and open the event stream; e.g. the public
    /// address when a proxy rewrites `Host`.
    pub allowed_origins: Vec<String>,
    pub rate_limit: RateLimitSection,
}

impl Default for SecuritySection {
    fn default() -> Self {
        Self {
            headers: true,
            check_origin: true,
            allowed_origins: Vec::new(),
            rate_limit: RateLimitSection::default(),
        }
    }
}

/// `security.rate_limit:` — per client IP (an IPv6 client by its /64), on
/// the writes: `POST /api/trips/plan`, `PUT …/modify`, `DELETE …/cancel`,
/// `POST /sfn/…`. Beyond it: 429 + `Retry-After`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSection {
    pub enabled: bool,
    /// Writes per second one client may keep up.
    pub per_second: u32,
    /// Writes one client may make at once before the rate applies.
    pub burst: u32,
    /// Also limit clients on the loopback interface. Off by default: a
    /// reverse proxy on the same host would make every visitor one client,
    /// and `wayfare-loadgen` runs there.
    pub limit_loopback: bool,
}

impl Default for RateLimitSection {
    fn default() -> Self {
        Self {
            enabled: true,
            per_second: 5,
            burst: 20,
            limit_loopback: false,
        }
    }
}

impl HttpSection {
    pub(super) fn problems(&self, problems: &mut Vec<String>) {
        for (key, value) in [
            ("http.header_read_timeout", self.header_read_timeout),
            ("http.body_timeout", self.body_timeout),
            ("http.request_timeout", self.request_timeout),
        ] {
            if value.as_millis() == 0 {
                problems.push(format!("key `{key}`: must be longer than 0"));
            }
        }
    }
}

impl SecuritySection {
    pub(super) fn problems(&self, problems: &mut Vec<String>) {
        let r = &self.rate_limit;
        if r.enabled && (r.per_second == 0 || r.burst == 0) {
            problems.push(
                "key `security.rate_limit`: per_second and burst must be at least 1 (or set enabled: false)"
                    .to_owned(),
            );
        }
        for origin in &self.allowed_origins {
            if crate::web::security::origin_authority(origin).is_none() {
                problems.push(format!(
                    "key `security.allowed_origins`: {origin:?} is not an origin such as https://wayfare.example"
                ));
            }
        }
    }
}
