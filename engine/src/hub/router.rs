//! [`Hub`]: direct messages to one agent instance's mailbox, publish and
//! subscribe on topics, queues with competing consumers, and request and
//! response with a timeout.
//!
//! Mailboxes and queues are bounded (`message_queue_size`): a full one
//! refuses with [`HubError::Full`] (transient) rather than growing without
//! limit. Topics are tokio broadcast channels: every subscriber gets every
//! message; a subscriber that falls more than `topic_capacity` behind
//! misses the oldest (it is told so by `RecvError::Lagged`). Topics are
//! for live fan-out (UI, WebSocket, metrics) and are never persisted: the
//! trip event log is the durable record.
//!
//! Durable messages are stored (through the [`HubStore`]) before they are
//! handed over, marked delivered when they are, and acknowledged by their
//! receiver once processed. [`Hub::recover`], called once at start-up,
//! puts every unacknowledged one back into its mailbox or queue.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};

use super::lanes::Lanes;
use super::message::{Destination, Message, MessageId};
use super::port::HubStore;
use crate::clock::SharedClock;
use crate::resilience::{Classify, ErrorClass};
use crate::state::PortError;

/// The design's `communication` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubConfig {
    /// Bound of each mailbox and queue.
    pub message_queue_size: usize,
    /// Most messages one [`QueueConsumer::recv_batch`] returns.
    pub batch_size: usize,
    /// How far a topic subscriber may lag before it misses messages.
    pub topic_capacity: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            message_queue_size: 1000,
            batch_size: 10,
            topic_capacity: 1024,
        }
    }
}

/// Why the hub could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("no agent {0} is registered")]
    NoRecipient(String),
    /// Back-pressure: try again shortly.
    #[error("{0} is full")]
    Full(String),
    #[error("no response to {message_id} within {after:?}")]
    Timeout {
        message_id: MessageId,
        after: Duration,
    },
    #[error(transparent)]
    Store(#[from] PortError),
}

impl Classify for HubError {
    fn class(&self) -> ErrorClass {
        match self {
            HubError::NoRecipient(_) => ErrorClass::Permanent,
            HubError::Full(_) => ErrorClass::Transient {
                retry_after: Some(Duration::from_millis(100)),
            },
            HubError::Timeout { .. } => ErrorClass::Transient { retry_after: None },
            HubError::Store(err) => err.class(),
        }
    }

    fn kind(&self) -> &str {
        match self {
            HubError::NoRecipient(_) => "no_recipient",
            HubError::Full(_) => "full",
            HubError::Timeout { .. } => "timeout",
            HubError::Store(_) => "store",
        }
    }
}

#[derive(Debug, Default)]
struct Routes {
    mailboxes: HashMap<String, Arc<Lanes>>,
    registered: HashSet<String>,
    queues: HashMap<String, Arc<Lanes>>,
    topics: HashMap<String, broadcast::Sender<Message>>,
    waiting: HashMap<MessageId, oneshot::Sender<Message>>,
}

#[derive(Debug)]
struct Inner<S> {
    config: HubConfig,
    store: S,
    clock: SharedClock,
    routes: Mutex<Routes>,
}

/// The message hub. Cheap to clone; clones share everything.
#[derive(Debug)]
pub struct Hub<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Hub<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S: HubStore> Hub<S> {
    pub fn new(config: HubConfig, store: S, clock: SharedClock) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                clock,
                routes: Mutex::default(),
            }),
        }
    }

    pub fn config(&self) -> HubConfig {
        self.inner.config
    }

    fn routes(&self) -> MutexGuard<'_, Routes> {
        self.inner
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lanes(&self, destination: &Destination) -> Arc<Lanes> {
        let capacity = self.inner.config.message_queue_size;
        let mut routes = self.routes();
        let map = match destination {
            Destination::Agent(_) => &mut routes.mailboxes,
            Destination::Queue(_) => &mut routes.queues,
        };
        map.entry(destination.name().to_owned())
            .or_insert_with(|| Arc::new(Lanes::new(capacity)))
            .clone()
    }

    /// Puts every unacknowledged durable message back where it was going.
    /// Call once at start-up, before any traffic. Returns how many.
    #[tracing::instrument(skip_all, err)]
    pub async fn recover(&self) -> Result<usize, HubError> {
        let pending = self.inner.store.unacked().await?;
        let mut replayed = 0;
        for (destination, message) in pending {
            let id = message.message_id.clone();
            if self.lanes(&destination).push(message).is_err() {
                tracing::warn!(destination = destination.name(), "full; replay stops here");
                break;
            }
            self.inner
                .store
                .mark_delivered(&id, self.inner.clock.now())
                .await?;
            replayed += 1;
        }
        Ok(replayed)
    }

    /// Opens `agent_id`'s mailbox (keeping anything already waiting in it,
    /// such as recovered durable messages).
    pub fn register(&self, agent_id: impl Into<String>) -> Mailbox<S> {
        let agent_id = agent_id.into();
        let lanes = self.lanes(&Destination::Agent(agent_id.clone()));
        self.routes().registered.insert(agent_id.clone());
        Mailbox {
            agent_id,
            lanes,
            hub: self.clone(),
        }
    }

    /// Closes a mailbox: later non-durable sends to it fail.
    pub fn unregister(&self, agent_id: &str) {
        self.routes().registered.remove(agent_id);
    }

    /// Sends a direct message to `message.to_agent`. A response (with
    /// `in_reply_to`) goes to the waiting [`Hub::request`] if there is one.
    /// A durable message to an agent not registered yet waits for it;
    /// a non-durable one fails with [`HubError::NoRecipient`].
    #[tracing::instrument(skip_all, fields(message.id = %message.message_id, to = %message.to_agent), err)]
    pub async fn send(&self, message: Message) -> Result<(), HubError> {
        if let Some(request) = &message.in_reply_to {
            let waiter = self.routes().waiting.remove(request);
            if let Some(waiter) = waiter {
                // The requester may have timed out in between: then the
                // response is dropped, as it would be with no waiter.
                let _ = waiter.send(message);
                return Ok(());
            }
        }
        let destination = Destination::Agent(message.to_agent.clone());
        if !message.durable && !self.routes().registered.contains(&message.to_agent) {
            return Err(HubError::NoRecipient(message.to_agent));
        }
        self.deliver(destination, message).await
    }

    /// Stores (when durable), then hands over.
    async fn deliver(&self, destination: Destination, message: Message) -> Result<(), HubError> {
        let durable = message.durable;
        let id = message.message_id.clone();
        if durable {
            self.inner
                .store
                .save(&destination, &message, self.inner.clock.now())
                .await?;
        }
        if self.lanes(&destination).push(message).is_err() {
            return Err(HubError::Full(destination.name().to_owned()));
        }
        if durable {
            self.inner
                .store
                .mark_delivered(&id, self.inner.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Marks a durable message processed: it will not be replayed.
    pub async fn ack(&self, message: &Message) -> Result<(), HubError> {
        if message.durable {
            self.inner
                .store
                .ack(&message.message_id, self.inner.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Sends `message` and waits up to `message.timeout` seconds (tokio
    /// time) for the response.
    pub async fn request(&self, mut message: Message) -> Result<Message, HubError> {
        message.requires_response = true;
        let id = message.message_id.clone();
        let after = Duration::from_secs(message.timeout);
        let (tx, rx) = oneshot::channel();
        self.routes().waiting.insert(id.clone(), tx);
        if let Err(err) = self.send(message).await {
            self.routes().waiting.remove(&id);
            return Err(err);
        }
        match tokio::time::timeout(after, rx).await {
            Ok(Ok(response)) => Ok(response),
            _ => {
                self.routes().waiting.remove(&id);
                Err(HubError::Timeout {
                    message_id: id,
                    after,
                })
            }
        }
    }

    /// Subscribes to a topic: the receiver gets every message published
    /// from now on.
    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<Message> {
        let capacity = self.inner.config.topic_capacity.max(1);
        self.routes()
            .topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    /// Publishes to every current subscriber of `topic`; returns how many.
    pub fn publish(&self, topic: &str, message: Message) -> usize {
        let sender = self.routes().topics.get(topic).cloned();
        sender.map_or(0, |s| s.send(message).unwrap_or(0))
    }

    /// Puts a message on a queue; one consumer will get it.
    pub async fn enqueue(&self, queue: &str, message: Message) -> Result<(), HubError> {
        self.deliver(Destination::Queue(queue.to_owned()), message)
            .await
    }

    /// A consumer of `queue`, competing with the others.
    pub fn consumer(&self, queue: &str) -> QueueConsumer<S> {
        QueueConsumer {
            lanes: self.lanes(&Destination::Queue(queue.to_owned())),
            batch_size: self.inner.config.batch_size.max(1),
            hub: self.clone(),
        }
    }

    /// Messages waiting in `queue`.
    pub fn queue_len(&self, queue: &str) -> usize {
        self.lanes(&Destination::Queue(queue.to_owned())).len()
    }
}

/// One agent instance's inbox.
#[derive(Debug)]
pub struct Mailbox<S> {
    agent_id: String,
    lanes: Arc<Lanes>,
    hub: Hub<S>,
}

impl<S: HubStore> Mailbox<S> {
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// The next message, highest priority first.
    pub async fn recv(&self) -> Message {
        self.lanes.pop().await
    }

    pub fn try_recv(&self) -> Option<Message> {
        self.lanes.try_pop()
    }

    /// Marks a message processed (needed for durable ones).
    pub async fn ack(&self, message: &Message) -> Result<(), HubError> {
        self.hub.ack(message).await
    }

    /// Answers a request.
    pub async fn respond(
        &self,
        request: &Message,
        payload: serde_json::Value,
    ) -> Result<(), HubError> {
        let reply = request.reply(self.agent_id.clone(), payload, self.hub.inner.clock.now());
        self.hub.send(reply).await
    }
}

/// One of a queue's competing consumers.
#[derive(Debug)]
pub struct QueueConsumer<S> {
    lanes: Arc<Lanes>,
    batch_size: usize,
    hub: Hub<S>,
}

impl<S: HubStore> QueueConsumer<S> {
    pub async fn recv(&self) -> Message {
        self.lanes.pop().await
    }

    /// Waits for a message, then takes up to `batch_size` without waiting.
    pub async fn recv_batch(&self) -> Vec<Message> {
        self.lanes.pop_batch(self.batch_size).await
    }

    pub async fn ack(&self, message: &Message) -> Result<(), HubError> {
        self.hub.ack(message).await
    }
}
