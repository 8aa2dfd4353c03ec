//! The browser's anonymous session: a random id in an HttpOnly, SameSite
//! cookie, set by the server on the first request (`wayfare-server`'s
//! session layer). It owns the trips made in that browser ("My trips");
//! nothing else about the person is kept.

/// The cookie's name.
pub const COOKIE: &str = "wayfare_session";

/// This request's session id, as the server's session layer put it in the
/// request's extensions (server functions read it from there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(pub String);
