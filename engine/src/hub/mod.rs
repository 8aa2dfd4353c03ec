//! The inter-agent message hub: the design's message format ([`Message`]),
//! direct messages, publish and subscribe, queues with competing consumers,
//! request and response, and durable messages that survive a restart
//! through the [`HubStore`] port (`wayfare-store` implements it on SQL;
//! [`MemoryHubStore`] is the in-memory twin).
//!
//! A hub is typed by its payload (`Hub<S, P>`, `Message<P>`; JSON by
//! default): in process a message is moved, never encoded, and only a
//! durable one is written as JSON at the store. The runtime's hub carries
//! [`Traffic`](crate::runtime::Traffic) — trip events, task requests,
//! health checks, route requests, status reports — and every message is
//! counted by type and route ([`Hub::traffic`]).

mod lanes;
mod message;
mod port;
mod router;

pub use message::{Destination, Message, MessageId, MessagePriority, MessageType};
pub use port::{DeliveryStatus, HubStore, MemoryHubStore};
pub use router::{Hub, HubConfig, HubError, Mailbox, Payload, Published, QueueConsumer, Route};
