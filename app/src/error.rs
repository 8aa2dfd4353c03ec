//! The error every server function returns: what a person may be shown.
//! Internal details are logged on the server and never sent to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The input was refused; the message says why and is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// The call itself was malformed (a missing, repeated or undecodable
    /// argument, a body too large): the client's mistake, answered with a
    /// 4xx status and a message safe to show.
    #[error("{0}")]
    BadRequest(String),
    #[error("nothing was found with that id")]
    NotFound,
    /// The request cannot be planned until these are answered.
    #[error("Wayfare needs to know more: {}", .0.join(" "))]
    Unplannable(Vec<String>),
    /// The trip is not in a state that allows this, or it changed meanwhile.
    #[error("{0}")]
    Conflict(String),
    /// Another browser made this trip; only that browser may change it.
    #[error("this trip belongs to another browser: you can read it, not change it")]
    Forbidden,
    /// Too many trips are being planned; try again in a moment.
    #[error("Wayfare is busy planning other trips; please try again in a few seconds")]
    Busy,
    /// Something failed on the server; details are in the server's log.
    #[error("something went wrong on our side; please try again")]
    Internal,
    /// The call itself failed (network, encoding).
    #[error("could not reach Wayfare: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// On the server, the framework's errors are either the client's
    /// (arguments that do not decode: 400, with serde's message) or ours
    /// (500, logged, not described). In the browser they are transport
    /// failures.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        {
            match value {
                ServerFnErrorErr::Args(why)
                | ServerFnErrorErr::Deserialization(why)
                | ServerFnErrorErr::MissingArg(why) => {
                    AppError::BadRequest(format!("the request could not be read: {why}")).respond()
                }
                other => {
                    tracing::error!(error = %other, "server function failed");
                    AppError::Internal.respond()
                }
            }
        }
        #[cfg(not(feature = "ssr"))]
        {
            AppError::Transport(value.to_string())
        }
    }
}

#[cfg(feature = "ssr")]
impl From<wayfare_store::StoreError> for AppError {
    fn from(err: wayfare_store::StoreError) -> Self {
        tracing::error!(error = %err, "store call failed");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            AppError::Invalid(_) => http::StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => http::StatusCode::BAD_REQUEST,
            AppError::NotFound => http::StatusCode::NOT_FOUND,
            AppError::Unplannable(_) => http::StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => http::StatusCode::CONFLICT,
            AppError::Forbidden => http::StatusCode::FORBIDDEN,
            AppError::Busy => http::StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::Transport(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Sets the response's status from this error (inside a server
    /// function, or while the framework decodes its arguments) and hands
    /// the error back, for use in `map_err`.
    pub fn respond(self) -> Self {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(self.status());
        }
        self
    }
}
