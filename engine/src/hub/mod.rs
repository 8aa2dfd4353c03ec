//! The inter-agent message hub: the design's message format ([`Message`]),
//! direct messages, publish and subscribe, queues with competing consumers,
//! request and response, and durable messages that survive a restart
//! through the [`HubStore`] port (`wayfare-store` implements it on SQL;
//! [`MemoryHubStore`] is the in-memory twin).

mod lanes;
mod message;
mod port;
mod router;

pub use message::{Destination, Message, MessageId, MessagePriority, MessageType};
pub use port::{DeliveryStatus, HubStore, MemoryHubStore};
pub use router::{Hub, HubConfig, HubError, Mailbox, Payload, Published, QueueConsumer, Route};
