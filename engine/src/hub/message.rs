//! The hub's message format, as in the design document: who from, who to,
//! what kind, a payload, a priority, a timestamp, whether a response is
//! expected and within how many seconds. Two additions: `in_reply_to`
//! (correlates a response with its request) and `durable` (persisted before
//! delivery and replayed after a restart until acknowledged).
//!
//! The payload is a type parameter, JSON by default: inside one process a
//! message carries its users' typed payload (the runtime's
//! [`Traffic`](crate::runtime::Traffic): a trip event, tasks, a route
//! request) and is never encoded; only a durable message is turned into
//! JSON ([`Message::to_json`]), when it is stored, and back
//! ([`Message::from_json`]) when it is replayed. The stored form is the
//! design document's JSON message.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `msg_YYYYMMDD_<random>`: sortable by day, unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub String);

impl MessageId {
    pub fn new(at: DateTime<Utc>) -> Self {
        // Every published message gets one: the date from its fields, not
        // through chrono's format-string interpreter.
        Self(format!(
            "msg_{:04}{:02}{:02}_{}",
            at.year(),
            at.month(),
            at.day(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// One agent asks another for data (the activity agent asks the
    /// location agent for a route).
    DataRequest,
    /// A response, or results shared.
    ResultShare,
    /// Something changed: a trip's planning event, an instance's status.
    StatusUpdate,
    /// Work for an agent instance (the dispatcher's tasks).
    TaskRequest,
    /// Are you alive? (the registry's health check; answered at once).
    HealthCheck,
}

impl MessageType {
    pub const ALL: [MessageType; 5] = [
        MessageType::DataRequest,
        MessageType::ResultShare,
        MessageType::StatusUpdate,
        MessageType::TaskRequest,
        MessageType::HealthCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::DataRequest => "data_request",
            MessageType::ResultShare => "result_share",
            MessageType::StatusUpdate => "status_update",
            MessageType::TaskRequest => "task_request",
            MessageType::HealthCheck => "health_check",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Higher priorities are received first from a mailbox or queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessagePriority {
    High,
    #[default]
    Medium,
    Low,
}

impl MessagePriority {
    pub(crate) fn lane(self) -> usize {
        match self {
            MessagePriority::High => 0,
            MessagePriority::Medium => 1,
            MessagePriority::Low => 2,
        }
    }
}

/// One message between agents (or from the orchestrator), with a payload
/// of type `P` (JSON when stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message<P = Value> {
    pub message_id: MessageId,
    pub from_agent: String,
    /// An agent instance for direct messages, a queue or topic name
    /// otherwise.
    pub to_agent: String,
    pub message_type: MessageType,
    pub payload: P,
    #[serde(default)]
    pub priority: MessagePriority,
    pub timestamp: DateTime<Utc>,
    #[serde(default)]
    pub requires_response: bool,
    /// Seconds to wait for a response.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<MessageId>,
    #[serde(default)]
    pub durable: bool,
}

fn default_timeout() -> u64 {
    30
}

impl<P> Message<P> {
    /// A medium-priority, non-durable message needing no response.
    pub fn new(
        from_agent: impl Into<String>,
        to_agent: impl Into<String>,
        message_type: MessageType,
        payload: P,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            message_id: MessageId::new(at),
            from_agent: from_agent.into(),
            to_agent: to_agent.into(),
            message_type,
            payload,
            priority: MessagePriority::Medium,
            timestamp: at,
            requires_response: false,
            timeout: default_timeout(),
            in_reply_to: None,
            durable: false,
        }
    }

    pub fn with_priority(mut self, priority: MessagePriority) -> Self {
        self.priority = priority;
        self
    }

    /// Persist before delivery; replay after a restart until acknowledged.
    pub fn durable(mut self) -> Self {
        self.durable = true;
        self
    }

    /// Expects a response within `timeout_secs`.
    pub fn expecting_response(mut self, timeout_secs: u64) -> Self {
        self.requires_response = true;
        self.timeout = timeout_secs;
        self
    }

    /// The response to this message.
    pub fn reply(&self, from_agent: impl Into<String>, payload: P, at: DateTime<Utc>) -> Self {
        let mut reply = Message::new(
            from_agent,
            self.from_agent.clone(),
            MessageType::ResultShare,
            payload,
            at,
        )
        .with_priority(self.priority);
        reply.in_reply_to = Some(self.message_id.clone());
        reply
    }

    /// The same message with another payload.
    pub fn map<Q>(self, f: impl FnOnce(P) -> Q) -> Message<Q> {
        Message {
            message_id: self.message_id,
            from_agent: self.from_agent,
            to_agent: self.to_agent,
            message_type: self.message_type,
            payload: f(self.payload),
            priority: self.priority,
            timestamp: self.timestamp,
            requires_response: self.requires_response,
            timeout: self.timeout,
            in_reply_to: self.in_reply_to,
            durable: self.durable,
        }
    }
}

impl<P: Serialize> Message<P> {
    /// The stored form: the payload as JSON.
    pub fn to_json(&self) -> Result<Message<Value>, serde_json::Error> {
        let payload = serde_json::to_value(&self.payload)?;
        Ok(Message {
            message_id: self.message_id.clone(),
            from_agent: self.from_agent.clone(),
            to_agent: self.to_agent.clone(),
            message_type: self.message_type,
            payload,
            priority: self.priority,
            timestamp: self.timestamp,
            requires_response: self.requires_response,
            timeout: self.timeout,
            in_reply_to: self.in_reply_to.clone(),
            durable: self.durable,
        })
    }
}

impl Message<Value> {
    /// A stored message with its payload read as `P`.
    pub fn from_json<P: serde::de::DeserializeOwned>(
        self,
    ) -> Result<Message<P>, serde_json::Error> {
        let mut message = self;
        let payload = serde_json::from_value(std::mem::take(&mut message.payload))?;
        Ok(message.map(|_| payload))
    }
}

/// Where a durable message is going.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Destination {
    /// One agent instance's mailbox.
    Agent(String),
    /// A queue of competing consumers.
    Queue(String),
}

impl Destination {
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Agent(_) => "agent",
            Destination::Queue(_) => "queue",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Destination::Agent(name) | Destination::Queue(name) => name,
        }
    }

    pub fn parse(kind: &str, name: String) -> Option<Self> {
        match kind {
            "agent" => Some(Destination::Agent(name)),
            "queue" => Some(Destination::Queue(name)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_message_id_is_its_day_then_a_random_part() {
        let at = Utc
            .with_ymd_and_hms(2027, 5, 4, 23, 59, 0)
            .single()
            .expect("a time");
        let (a, b) = (MessageId::new(at), MessageId::new(at));
        assert!(a.0.starts_with("msg_20270504_"), "{}", a.0);
        assert_eq!(a.0.len(), "msg_20270504_".len() + 32);
        assert_ne!(a, b);
    }
}
