//! The anonymous browser session ([`wayfare_app::session`]): every request
//! gets a [`SessionId`] in its extensions, from its `wayfare_session` cookie
//! when that holds a well-formed id, else a fresh random one that the
//! response sets (HttpOnly, SameSite=Lax, a year). Machine routes (`/api`,
//! `/healthz`, `/metrics`) neither read nor set it.

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;
use wayfare_app::session::{COOKIE, SessionId};

/// How long the cookie lives: the trips stay reachable under "My trips"
/// that long after the last visit.
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

fn from_cookies(request: &Request<Body>) -> Option<SessionId> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| uuid::Uuid::parse_str(value).ok())
        .map(|u| SessionId(u.simple().to_string()))
}

fn is_machine_route(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/healthz"
        || path == "/metrics"
        || path.starts_with("/pkg/")
}

/// The session layer.
pub async fn session(mut request: Request<Body>, next: Next) -> Response {
    if is_machine_route(request.uri().path()) {
        return next.run(request).await;
    }
    let (session, fresh) = match from_cookies(&request) {
        Some(session) => (session, false),
        None => (SessionId(uuid::Uuid::new_v4().simple().to_string()), true),
    };
    request.extensions_mut().insert(session.clone());
    let mut response = next.run(request).await;
    if fresh {
        let cookie = format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={MAX_AGE_SECS}",
            session.0
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(cookie: &str) -> Request<Body> {
        Request::builder()
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap_or_default()
    }

    #[test]
    fn the_session_cookie_is_read_among_others_and_only_when_well_formed() {
        let id = uuid::Uuid::new_v4();
        let found = from_cookies(&with_cookie(&format!("a=b; {COOKIE}={id}; c=d")));
        assert_eq!(found, Some(SessionId(id.simple().to_string())));
        assert_eq!(
            from_cookies(&with_cookie(&format!("{COOKIE}=<script>"))),
            None
        );
        assert_eq!(from_cookies(&with_cookie("other=1")), None);
    }
}
