//! How failures are classified for retrying: [`Classify`] puts the retry
//! decision in the error type (transient with an optional `retry_after`, or
//! permanent), and [`AgentError`] is what a guarded agent call can end in.

use std::time::Duration;

use crate::state::PortError;

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// May succeed later; wait at least `retry_after` when given.
    Transient { retry_after: Option<Duration> },
    /// Will fail the same way again.
    Permanent,
}

/// An error that knows whether it is worth retrying.
pub trait Classify {
    fn class(&self) -> ErrorClass;

    /// A short stable name of the error's kind, which a [`super::RetryPolicy`]
    /// may list as non-retryable (as Temporal's non-retryable error types).
    fn kind(&self) -> &str {
        "error"
    }
}

/// How a guarded agent call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error("temporary failure: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("failure: {message}")]
    Permanent { message: String },
    #[error("timed out after {after:?}")]
    TimedOut { after: Duration },
    #[error("the agent panicked: {message}")]
    Panicked { message: String },
    #[error("the {agent_type} circuit is open; retry in {retry_after:?}")]
    CircuitOpen {
        agent_type: String,
        retry_after: Duration,
    },
}

impl AgentError {
    pub fn transient(message: impl Into<String>) -> Self {
        AgentError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        AgentError::Permanent {
            message: message.into(),
        }
    }

    /// Whether this failure says something about the agent's health (and
    /// so counts towards opening its circuit). A permanent error is the
    /// request's fault, not the agent's.
    pub fn counts_against_agent(&self) -> bool {
        !matches!(
            self,
            AgentError::Permanent { .. } | AgentError::CircuitOpen { .. }
        )
    }
}

impl Classify for AgentError {
    fn class(&self) -> ErrorClass {
        match self {
            AgentError::Permanent { .. } => ErrorClass::Permanent,
            AgentError::Transient { retry_after, .. } => ErrorClass::Transient {
                retry_after: *retry_after,
            },
            AgentError::CircuitOpen { retry_after, .. } => ErrorClass::Transient {
                retry_after: Some(*retry_after),
            },
            AgentError::TimedOut { .. } | AgentError::Panicked { .. } => {
                ErrorClass::Transient { retry_after: None }
            }
        }
    }

    fn kind(&self) -> &str {
        match self {
            AgentError::Transient { .. } => "transient",
            AgentError::Permanent { .. } => "permanent",
            AgentError::TimedOut { .. } => "timeout",
            AgentError::Panicked { .. } => "panic",
            AgentError::CircuitOpen { .. } => "circuit_open",
        }
    }
}

impl Classify for PortError {
    fn class(&self) -> ErrorClass {
        match self {
            PortError::Transient { retry_after, .. } => ErrorClass::Transient {
                retry_after: *retry_after,
            },
            PortError::Permanent { .. } => ErrorClass::Permanent,
        }
    }

    fn kind(&self) -> &str {
        match self {
            PortError::Transient { .. } => "storage_transient",
            PortError::Permanent { .. } => "storage_permanent",
        }
    }
}
