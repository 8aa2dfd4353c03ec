//! [`Hub`]: direct messages to one agent instance's mailbox, publish and
//! subscribe on topics, queues with competing consumers, and request and
//! response with a timeout.
//!
//! A hub carries one payload type `P` (JSON unless its user says
//! otherwise; the runtime's hub carries [`Traffic`](crate::runtime::Traffic)):
//! in memory a message is moved, never encoded. A topic message is shared
//! (`Arc<Message<P>>`): one allocation per publish whatever the number of
//! topics and subscribers. Only durable messages are encoded, to JSON, by
//! the [`HubStore`] boundary; a stored message whose payload no longer
//! reads as `P` is logged and left out of the replay.
//!
//! Every message carried is counted by type and route
//! ([`Hub::traffic`]): a direct message or a response when it reaches a
//! mailbox or its waiting requester, a queued one when it is queued, a
//! topic message once per topic that had a subscriber.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

use super::lanes::Lanes;
use super::message::{Destination, Message, MessageId, MessageType};
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
    /// A durable message's payload could not be written as JSON.
    #[error("cannot store message {message_id}: {reason}")]
    Encode {
        message_id: MessageId,
        reason: String,
    },
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
            HubError::Encode { .. } => ErrorClass::Permanent,
        }
    }

    fn kind(&self) -> &str {
        match self {
            HubError::NoRecipient(_) => "no_recipient",
            HubError::Full(_) => "full",
            HubError::Timeout { .. } => "timeout",
            HubError::Store(_) => "store",
            HubError::Encode { .. } => "encode",
        }
    }
}

/// What a hub's payload must be: sent between tasks, and written as JSON
/// when durable.
pub trait Payload: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Payload for T {}

/// How a message went: to one mailbox, to a topic's subscribers, or to one
/// of a queue's consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Direct,
    Topic,
    Queue,
}

impl Route {
    pub const ALL: [Route; 3] = [Route::Direct, Route::Topic, Route::Queue];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Direct => "direct",
            Route::Topic => "topic",
            Route::Queue => "queue",
        }
    }
}

/// Messages carried, by type and route.
#[derive(Debug, Default)]
struct Counts([[AtomicU64; 3]; MessageType::ALL.len()]);

impl Counts {
    fn add(&self, message_type: MessageType, route: Route, n: u64) {
        self.0[message_type.index()][route as usize].fetch_add(n, Ordering::Relaxed);
    }
}

/// A topic message, shared by every subscriber.
pub type Published<P> = Arc<Message<P>>;

#[derive(Debug)]
struct Routes<P> {
    mailboxes: HashMap<String, Arc<Lanes<P>>>,
    registered: HashSet<String>,
    queues: HashMap<String, Arc<Lanes<P>>>,
    topics: HashMap<String, broadcast::Sender<Published<P>>>,
    waiting: HashMap<MessageId, oneshot::Sender<Message<P>>>,
}

impl<P> Default for Routes<P> {
    fn default() -> Self {
        Self {
            mailboxes: HashMap::new(),
            registered: HashSet::new(),
            queues: HashMap::new(),
            topics: HashMap::new(),
            waiting: HashMap::new(),
        }
    }
}

#[derive(Debug)]
struct Inner<S, P> {
    config: HubConfig,
    store: S,
    clock: SharedClock,
    routes: Mutex<Routes<P>>,
    counts: Counts,
    /// Durable messages put back by [`Hub::recover`].
    replayed: AtomicU64,
}

/// The message hub, carrying payloads of type `P`. Cheap to clone; clones
/// share everything.
#[derive(Debug)]
pub struct Hub<S, P = Value> {
    inner: Arc<Inner<S, P>>,
}

impl<S, P> Clone for Hub<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S: HubStore, P: Payload> Hub<S, P> {
    pub fn new(config: HubConfig, store: S, clock: SharedClock) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                clock,
                routes: Mutex::new(Routes::default()),
                counts: Counts::default(),
                replayed: AtomicU64::new(0),
            }),
        }
    }

    /// Messages carried so far, by type and route (every pair, zeros too).
    pub fn traffic(&self) -> Vec<(MessageType, Route, u64)> {
        let mut all = Vec::new();
        for message_type in MessageType::ALL {
            for route in Route::ALL {
                let n = self.inner.counts.0[message_type.index()][route as usize]
                    .load(Ordering::Relaxed);
                all.push((message_type, route, n));
            }
        }
        all
    }

    /// Durable messages replayed at start-up (by [`Hub::recover`]).
    pub fn replayed(&self) -> u64 {
        self.inner.replayed.load(Ordering::Relaxed)
    }

    fn count(&self, message_type: MessageType, route: Route) {
        self.inner.counts.add(message_type, route, 1);
    }

    /// The clock messages are stamped with.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    pub fn config(&self) -> HubConfig {
        self.inner.config
    }

    fn routes(&self) -> MutexGuard<'_, Routes<P>> {
        self.inner
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn lanes(&self, destination: &Destination) -> Arc<Lanes<P>> {
        self.lanes_bounded(destination, self.inner.config.message_queue_size)
    }

    fn lanes_bounded(&self, destination: &Destination, capacity: usize) -> Arc<Lanes<P>> {
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
        for (destination, stored) in pending {
            let id = stored.message_id.clone();
            let message = match stored.from_json::<P>() {
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!(message.id = %id, error = %e, "a stored message no longer reads; not replayed");
                    continue;
                }
            };
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
        self.inner
            .replayed
            .fetch_add(replayed as u64, Ordering::Relaxed);
        Ok(replayed)
    }

    /// Opens `agent_id`'s mailbox (keeping anything already waiting in it,
    /// such as recovered durable messages).
    pub fn register(&self, agent_id: impl Into<String>) -> Mailbox<S, P> {
        self.register_bounded(agent_id, self.inner.config.message_queue_size)
    }

    /// [`Hub::register`] with a mailbox of `capacity` messages (when it is
    /// made here; a mailbox kept from before keeps its bound).
    pub fn register_bounded(&self, agent_id: impl Into<String>, capacity: usize) -> Mailbox<S, P> {
        let agent_id = agent_id.into();
        let lanes = self.lanes_bounded(&Destination::Agent(agent_id.clone()), capacity);
        self.routes().registered.insert(agent_id.clone());
        Mailbox {
            agent_id,
            lanes,
            hub: self.clone(),
        }
    }

    /// Closes a mailbox: later non-durable sends to it fail. What waits in
    /// it is dropped unless durable (a durable message stays stored and is
    /// replayed at the next start).
    pub fn unregister(&self, agent_id: &str) {
        let mut routes = self.routes();
        routes.registered.remove(agent_id);
        routes.mailboxes.remove(agent_id);
    }

    /// Whether `agent_id`'s mailbox is at its bound (busy, not dead).
    pub fn mailbox_full(&self, agent_id: &str) -> bool {
        self.mailbox_fill(agent_id)
            .is_some_and(|(held, bound)| held >= bound)
    }

    /// How many messages `agent_id`'s mailbox holds, and its bound; `None`
    /// when it has none.
    pub fn mailbox_fill(&self, agent_id: &str) -> Option<(usize, usize)> {
        self.routes()
            .mailboxes
            .get(agent_id)
            .map(|lanes| (lanes.len(), lanes.capacity()))
    }

    /// Sends a direct message to `message.to_agent`. A response (with
    /// `in_reply_to`) goes to the waiting [`Hub::request`] if there is one.
    /// A durable message to an agent not registered yet waits for it;
    /// a non-durable one fails with [`HubError::NoRecipient`].
    // Every caller handles the error (a full mailbox is back-pressure, not
    // a fault): recorded on the span at debug level, not logged as an error.
    #[tracing::instrument(skip_all, fields(message.id = %message.message_id, to = %message.to_agent), err(level = "debug"))]
    pub async fn send(&self, message: Message<P>) -> Result<(), HubError> {
        if let Some(request) = &message.in_reply_to {
            let waiter = self.routes().waiting.remove(request);
            if let Some(waiter) = waiter {
                // The requester may have timed out in between: then the
                // response is dropped, as it would be with no waiter.
                self.count(message.message_type, Route::Direct);
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
    async fn deliver(&self, destination: Destination, message: Message<P>) -> Result<(), HubError> {
        let durable = message.durable;
        let id = message.message_id.clone();
        let message_type = message.message_type;
        if durable {
            let stored = message.to_json().map_err(|e| HubError::Encode {
                message_id: id.clone(),
                reason: e.to_string(),
            })?;
            // Boxed: most messages are not durable, and the store's write
            // would otherwise size every hand-over's future.
            Box::pin(
                self.inner
                    .store
                    .save(&destination, &stored, self.inner.clock.now()),
            )
            .await?;
        }
        if self.lanes(&destination).push(message).is_err() {
            return Err(HubError::Full(destination.name().to_owned()));
        }
        let route = match destination {
            Destination::Agent(_) => Route::Direct,
            Destination::Queue(_) => Route::Queue,
        };
        self.count(message_type, route);
        if durable {
            self.inner
                .store
                .mark_delivered(&id, self.inner.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Marks a durable message processed: it will not be replayed.
    pub async fn ack(&self, message: &Message<P>) -> Result<(), HubError> {
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
    pub async fn request(&self, message: Message<P>) -> Result<Message<P>, HubError> {
        let after = Duration::from_secs(message.timeout);
        self.request_within(message, after).await
    }

    /// [`Hub::request`] waiting `after` (a health check's deadline is
    /// milliseconds; `timeout` says it in whole seconds, rounded up).
    pub async fn request_within(
        &self,
        mut message: Message<P>,
        after: Duration,
    ) -> Result<Message<P>, HubError> {
        message.requires_response = true;
        message.timeout = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        let id = message.message_id.clone();
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
    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<Published<P>> {
        let capacity = self.inner.config.topic_capacity.max(1);
        self.routes()
            .topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    /// Publishes to every current subscriber of `topic`; returns how many.
    pub fn publish(&self, topic: &str, message: Message<P>) -> usize {
        self.publish_shared(&[topic], &Arc::new(message))
    }

    /// Publishes one message on several topics (each subscriber of each
    /// gets the same shared message); returns how many subscribers in all.
    pub fn publish_shared(&self, topics: &[&str], message: &Published<P>) -> usize {
        let senders: Vec<_> = {
            let routes = self.routes();
            topics
                .iter()
                .filter_map(|topic| routes.topics.get(*topic).cloned())
                .collect()
        };
        let mut delivered = 0;
        for sender in senders {
            let n = sender.send(message.clone()).unwrap_or(0);
            if n > 0 {
                self.count(message.message_type, Route::Topic);
            }
            delivered += n;
        }
        delivered
    }

    /// Whether any of `topics` has a subscriber (a publisher may skip
    /// building a message nobody would get).
    pub fn has_subscribers(&self, topics: &[&str]) -> bool {
        let routes = self.routes();
        topics.iter().any(|topic| {
            routes
                .topics
                .get(*topic)
                .is_some_and(|tx| tx.receiver_count() > 0)
        })
    }

    /// The topics named `prefix…` that have a subscriber now.
    pub fn subscribed_topics(&self, prefix: &str) -> Vec<String> {
        self.routes()
            .topics
            .iter()
            .filter(|(name, tx)| name.starts_with(prefix) && tx.receiver_count() > 0)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Closes a topic: its subscribers' streams end (`RecvError::Closed`).
    pub fn close_topic(&self, topic: &str) {
        self.routes().topics.remove(topic);
    }

    /// Forgets the topics nobody subscribes to (made again on demand), so
    /// that per-trip topics do not pile up.
    pub fn prune_topics(&self) {
        self.routes().topics.retain(|_, tx| tx.receiver_count() > 0);
    }

    /// Puts a message on a queue; one consumer will get it.
    pub async fn enqueue(&self, queue: &str, message: Message<P>) -> Result<(), HubError> {
        self.deliver(Destination::Queue(queue.to_owned()), message)
            .await
    }

    /// A consumer of `queue`, competing with the others.
    pub fn consumer(&self, queue: &str) -> QueueConsumer<S, P> {
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
pub struct Mailbox<S, P = Value> {
    agent_id: String,
    lanes: Arc<Lanes<P>>,
    hub: Hub<S, P>,
}

impl<S: HubStore, P: Payload> Mailbox<S, P> {
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// The next message, highest priority first.
    pub async fn recv(&self) -> Message<P> {
        self.lanes.pop().await
    }

    pub fn try_recv(&self) -> Option<Message<P>> {
        self.lanes.try_pop()
    }

    /// Marks a message processed (needed for durable ones).
    pub async fn ack(&self, message: &Message<P>) -> Result<(), HubError> {
        self.hub.ack(message).await
    }

    /// Answers a request.
    pub async fn respond(&self, request: &Message<P>, payload: P) -> Result<(), HubError> {
        let reply = request.reply(self.agent_id.clone(), payload, self.hub.inner.clock.now());
        self.hub.send(reply).await
    }
}

/// One of a queue's competing consumers.
#[derive(Debug)]
pub struct QueueConsumer<S, P = Value> {
    lanes: Arc<Lanes<P>>,
    batch_size: usize,
    hub: Hub<S, P>,
}

impl<S: HubStore, P: Payload> QueueConsumer<S, P> {
    pub async fn recv(&self) -> Message<P> {
        self.lanes.pop().await
    }

    /// The next message if one is waiting.
    pub fn try_recv(&self) -> Option<Message<P>> {
        self.lanes.try_pop()
    }

    /// Waits for a message, then takes up to `batch_size` without waiting.
    pub async fn recv_batch(&self) -> Vec<Message<P>> {
        self.lanes.pop_batch(self.batch_size).await
    }

    pub async fn ack(&self, message: &Message<P>) -> Result<(), HubError> {
        self.hub.ack(message).await
    }
}
