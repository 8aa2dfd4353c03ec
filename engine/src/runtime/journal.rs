//! The journal: the design document's *State Management System* as this
//! process sees it — every trip command decided against the trip's state
//! and appended to its log (optionally with a task-queue write in the same
//! transaction), one writer per trip at a time, the latest state of the
//! trips this process works on, and the fan-out of what was appended: each
//! event is published once, as one shared typed message, on the hub's
//! `trip.<id>` topic (the WebSocket, the timeline) and its global `trips`
//! topic (the ops tracker) — the hub is the one fan-out path, and an event
//! nobody subscribes to is not even made a message. Replay from a `seq`
//! reads the log ([`Journal::events`]), or, for a trip this process alone
//! has logged from its first event, the events it remembers of it. It
//! also keeps each trip's cancel signal, which running work of the trip
//! watches.
//!
//! [`Journal`] owns that state behind one lock (`trips`), held only for a
//! map lookup or update, never across an `.await` and never while another
//! part's lock is taken. It depends on no other part of the runtime.
//!
//! Several processes on one database ([`Journal::share`]): another
//! process's appends reach this one as a pointer (trip, last `seq`; on
//! PostgreSQL a `NOTIFY` the store sends after the append's commit). The log
//! stays the source of truth: for a trip this process has in hand — a
//! cached state, live subscribers, running work — [`Journal::catch_up`]
//! reads the events after the last one it delivered from the store,
//! applies them to the cached state and publishes them on the local
//! topics, in `seq` order and once each (`delivered` per trip, under the
//! trip's writer lock). A missed pointer is repaired by the next one, and
//! a local append that finds a hole before it (another process appended
//! in between) reads the hole from the log first.
//!
mod cluster;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use wayfare_domain::trip::WireEvent;

use super::lock;
use super::traffic::{EVENTS_TOPIC, EventStream, ORCHESTRATOR, Traffic, trip_topic};
use super::wire::wire_event;
use super::{QueueWrite, QueueWriteAt, RuntimeError, RuntimeStore};
use crate::clock::SharedClock;
use crate::hub::{Hub, Message, MessageType};
use crate::state::{
    Append, AppendError, Batch, Command, ExecuteError, Executed, FoldedBatch, LeaseError,
    PortError, StoredEvent, TripEvent, TripId, TripLog, TripState,
};

/// What the journal keeps per trip, in memory.
#[derive(Default)]
struct Trips {
    /// The latest state of trips this process is working on: commands
    /// decide against it instead of replaying the log each time (the
    /// append's version check still catches a stale one).
    states: HashMap<TripId, TripState>,
    cancels: HashMap<TripId, watch::Sender<bool>>,
    /// One writer at a time per trip in this process: commands on a trip
    /// queue here instead of racing each other into version conflicts
    /// (which cost a reload from the store each). Other processes are
    /// still kept out by the append's version check.
    writers: HashMap<TripId, Arc<tokio::sync::Mutex<()>>>,
    /// The last `seq` published on the trip's topics in this process.
    delivered: HashMap<TripId, u64>,
    /// The whole log of trips whose every event this process appended
    /// (from `seq` 1, without a gap; kept as long as the cached state): a
    /// WebSocket that connects replays the past from here instead of
    /// reading and decoding the log. Only while no other process appends
    /// to the log ([`Journal::share`]).
    history: HashMap<TripId, Vec<StoredEvent>>,
    /// Trips with a catch-up on its way (one at a time is enough: it
    /// reads everything after `delivered`).
    catching_up: HashSet<TripId>,
    /// The latest `seq` other processes announced for a cached trip that
    /// nobody here watches, when they only moved its tasks along: the
    /// cached state is brought up to date when it is next used, not on
    /// every pointer ([`Journal::wants`]).
    behind: HashMap<TripId, u64>,
}

/// What crossed processes, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterMetrics {
    /// Pointers to another process's appends received.
    pub notifications_received: u64,
    /// Events read from the log after a pointer and published here.
    pub events_relayed: u64,
    /// Queue writes refused because they spoke for an older claim.
    pub tasks_fenced: u64,
}

/// What the journal tells of a state a local append made ready.
type ReadyHook = Box<dyn Fn(&TripState) + Send + Sync>;

/// What the journal tells of a trip another process ended.
type EndedHook = Box<dyn Fn(TripId) + Send + Sync>;

/// The trip log with its locks, state cache and fan-out.
pub(super) struct Journal<S> {
    store: S,
    log: TripLog<S>,
    hub: Hub<S, Traffic>,
    clock: SharedClock,
    trips: Mutex<Trips>,
    /// Set at shutdown: contended writes stop waiting.
    closed: AtomicBool,
    /// Other processes append to the same log ([`Journal::share`]).
    shared: AtomicBool,
    notifications: AtomicU64,
    relayed: AtomicU64,
    fenced: AtomicU64,
    /// Told of every state that a local append made ready, before the
    /// append is published ([`Journal::on_ready`]).
    on_ready: Option<ReadyHook>,
    /// Told of each trip whose end (`Cancelled`, `PlanReady`, `PlanFailed`)
    /// another process appended, once, when this process reads it from
    /// the log ([`Journal::on_ended`]).
    on_ended: Option<EndedHook>,
}

impl<S: RuntimeStore> Journal<S> {
    pub(super) fn new(store: S, log: TripLog<S>, hub: Hub<S, Traffic>, clock: SharedClock) -> Self {
        Self {
            store,
            log,
            hub,
            clock,
            trips: Mutex::new(Trips::default()),
            closed: AtomicBool::new(false),
            shared: AtomicBool::new(false),
            notifications: AtomicU64::new(0),
            relayed: AtomicU64::new(0),
            fenced: AtomicU64::new(0),
            on_ready: None,
            on_ended: None,
        }
    }

    /// Runs `hook` on the state of each trip a local append made ready,
    /// after the append and before any subscriber hears of it: what a
    /// client does on `ready` finds the hook's work done.
    pub(super) fn on_ready(mut self, hook: impl Fn(&TripState) + Send + Sync + 'static) -> Self {
        self.on_ready = Some(Box::new(hook));
        self
    }

    /// Runs `hook` on each trip whose end another process appended, when
    /// this process first reads that end from the log — whichever read it
    /// is: a catch-up on the pointer, or a cached trip brought up to date
    /// on its next use (which reads the end before its pointer comes, and
    /// the pointer then finds nothing new).
    pub(super) fn on_ended(mut self, hook: impl Fn(TripId) + Send + Sync + 'static) -> Self {
        self.on_ended = Some(Box::new(hook));
        self
    }

    /// Other processes append to this log too: a local append that finds
    /// a hole before its events fills it from the log first, and the past
    /// of a trip is always read from the log.
    pub(super) fn share(&self) {
        self.shared.store(true, Ordering::SeqCst);
        lock(&self.trips).history.clear();
    }

    pub(super) fn cluster_metrics(&self) -> ClusterMetrics {
        ClusterMetrics {
            notifications_received: self.notifications.load(Ordering::Relaxed),
            events_relayed: self.relayed.load(Ordering::Relaxed),
            tasks_fenced: self.fenced.load(Ordering::Relaxed),
        }
    }

    /// Counts a queue write refused as an older claim's.
    pub(super) fn note_fenced<T>(&self, result: &Result<T, LeaseError>) {
        if let Err(LeaseError::Fenced(task)) = result {
            self.fenced.fetch_add(1, Ordering::Relaxed);
            tracing::info!(task.id = %task, "a late write of an older claim was refused");
        }
    }

    pub(super) fn hub(&self) -> &Hub<S, Traffic> {
        &self.hub
    }

    /// No more waiting out contention: the runtime is stopping.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// The trip's writer lock: held, no command on the trip runs in this
    /// process (the auditor and `delete` take it).
    pub(super) fn writer(&self, trip: TripId) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.trips).writers.entry(trip).or_default().clone()
    }

    /// Decides and appends `command`, then publishes what it appended.
    pub(super) async fn exec(
        &self,
        trip: TripId,
        command: Command,
    ) -> Result<Executed, ExecuteError> {
        self.exec_with(trip, vec![command], None).await
    }

    /// Decides `commands` in turn and appends them in one write (all or
    /// none), then publishes what was appended.
    pub(super) async fn exec_all(
        &self,
        trip: TripId,
        commands: Vec<Command>,
    ) -> Result<Executed, ExecuteError> {
        self.exec_with(trip, commands, None).await
    }

    /// [`Journal::exec_all`] with `queue`'s write in the append's
    /// transaction.
    pub(super) async fn exec_with(
        &self,
        trip: TripId,
        commands: Vec<Command>,
        queue: Option<QueueWrite<'_>>,
    ) -> Result<Executed, ExecuteError> {
        self.exec_inner(trip, commands, queue, false).await
    }

    /// [`Journal::exec_with`] for a trip id just made ([`TripId::new`]):
    /// its log is decided from empty instead of read first (a log that
    /// turns out to exist makes the append conflict, and it is read then).
    pub(super) async fn exec_new(
        &self,
        trip: TripId,
        commands: Vec<Command>,
        queue: Option<QueueWrite<'_>>,
    ) -> Result<Executed, ExecuteError> {
        self.exec_inner(trip, commands, queue, true).await
    }

    async fn exec_inner(
        &self,
        trip: TripId,
        commands: Vec<Command>,
        queue: Option<QueueWrite<'_>>,
        new: bool,
    ) -> Result<Executed, ExecuteError> {
        let writer = self.writer(trip);
        let _writer = writer.lock().await;
        if self.behind(trip)
            && let Err(e) = self.replay_after_delivered(trip, None).await
        {
            // The append's version check still catches the stale state.
            tracing::debug!(trip.id = %trip, error = %e, "could not bring a cached trip up to date");
        }
        // Contention and transient store errors are worth waiting out: a
        // dropped write here (a task's completion, say) would leave the log
        // behind the queue and the trip stuck in planning. Bounded: about
        // five seconds in all.
        let mut pause = Duration::from_millis(2);
        let mut attempt = 0;
        let executed = loop {
            attempt += 1;
            let known = lock(&self.trips)
                .states
                .get(&trip)
                .cloned()
                .or_else(|| (new && attempt == 1).then(|| TripState::new(trip)));
            let executed = match queue {
                None => self.log.execute_all_from(trip, known, &commands).await,
                Some(queue) => {
                    let append = WithQueue {
                        store: &self.store,
                        queue: queue.at(self.clock.now()),
                    };
                    self.log
                        .execute_all_with(trip, known, &commands, &append)
                        .await
                }
            };
            match executed {
                Ok(executed) => break executed,
                Err(
                    ExecuteError::Contended { .. }
                    | ExecuteError::Port(PortError::Transient { .. }),
                ) if attempt < 40 && !self.closed.load(Ordering::SeqCst) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                Err(ExecuteError::Fenced(task)) => {
                    self.fenced.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(trip.id = %trip, task.id = %task, "a late outcome of an older claim was refused");
                    return Err(ExecuteError::Fenced(task));
                }
                Err(e) => {
                    tracing::warn!(trip.id = %trip, error = %e, attempts = attempt, "a trip command could not be recorded");
                    return Err(e);
                }
            }
        };
        self.remember(&executed.state);
        if let Some(hook) = &self.on_ready
            && executed
                .events
                .iter()
                .any(|e| matches!(e.event, TripEvent::PlanReady { .. }))
        {
            hook(&executed.state);
        }
        self.deliver(&executed).await;
        Ok(executed)
    }

    /// Publishes what this process appended; when other processes share
    /// the log and appended since the last event delivered here, the hole
    /// is read from the log first (so that subscribers see every event, in
    /// order). The caller holds the trip's writer lock.
    async fn deliver(&self, executed: &Executed) {
        let Some(trip) = executed.state.trip_id else {
            return;
        };
        let first = executed.events.first().map(|e| e.seq);
        let hole = self.shared.load(Ordering::Relaxed)
            && first.is_some_and(|first| {
                lock(&self.trips)
                    .delivered
                    .get(&trip)
                    .is_some_and(|&d| first > d + 1)
            });
        if hole {
            if let Err(e) = self.replay_after_delivered(trip, first).await {
                tracing::warn!(trip.id = %trip, error = %e, "could not read the events another process appended");
                self.publish(executed);
            }
        } else {
            self.publish(executed);
        }
    }

    /// Appends events decided elsewhere exactly at `expected_version` (a
    /// stale writer gets [`AppendError::Conflict`], never overwrites), then
    /// caches and publishes the state they lead to from `state`.
    pub(super) async fn append_at(
        &self,
        trip: TripId,
        state: &TripState,
        expected_version: u64,
        events: &[crate::state::TripEvent],
    ) -> Result<TripState, AppendError> {
        self.store
            .append(
                Batch {
                    trip_id: trip,
                    expected_version,
                    events,
                },
                self.clock.now(),
            )
            .await?;
        let stored = self
            .store
            .load(trip, expected_version)
            .await
            .map_err(AppendError::Port)?;
        let mut after = state.clone();
        for s in &stored {
            after.apply_stored(s);
        }
        self.remember(&after);
        self.deliver(&Executed {
            state: after.clone(),
            events: stored,
        })
        .await;
        Ok(after)
    }

    /// Caches a trip's state unless a newer one is cached already.
    pub(super) fn remember(&self, state: &TripState) {
        let Some(trip) = state.trip_id else {
            return;
        };
        if !state.exists() {
            return;
        }
        let mut trips = lock(&self.trips);
        match trips.states.get(&trip) {
            Some(cached) if cached.version >= state.version => {}
            _ => {
                trips.states.insert(trip, state.clone());
            }
        }
    }

    fn publish(&self, executed: &Executed) {
        let Some(trip) = executed.state.trip_id else {
            return;
        };
        if let Some(last) = executed.events.last() {
            let mut trips = lock(&self.trips);
            let delivered = trips.delivered.entry(trip).or_default();
            *delivered = (*delivered).max(last.seq);
            if !self.shared.load(Ordering::Relaxed) {
                record(&mut trips.history, trip, &executed.events);
            }
        }
        for stored in &executed.events {
            self.publish_one(trip, &executed.state, stored);
        }
    }

    /// One event on the trip's topic and the global one.
    fn publish_one(&self, trip: TripId, state: &TripState, stored: &StoredEvent) {
        // Nothing is built for nobody (a trip's first events go out
        // before its page or client subscribes).
        let Some(topic) = self.watched(trip) else {
            return;
        };
        if let Some(event) = wire_event(state, stored) {
            self.send(topic, event);
        }
    }

    /// The trip's topic, when anyone listens to its events: on it or on
    /// every trip's.
    fn watched(&self, trip: TripId) -> Option<String> {
        let topic = trip_topic(trip);
        self.hub
            .has_subscribers(&[topic.as_str(), EVENTS_TOPIC])
            .then_some(topic)
    }

    /// A wire event on the hub's topics of its trip ([`Journal::watched`])
    /// and of every trip: one message, shared by both and by every
    /// subscriber.
    fn send(&self, topic: String, event: WireEvent) {
        let topics = [topic.as_str(), EVENTS_TOPIC];
        let message = Message::new(
            ORCHESTRATOR,
            topic.clone(),
            MessageType::StatusUpdate,
            Traffic::TripEvent { event },
            self.clock.now(),
        );
        self.hub.publish_shared(&topics, &Arc::new(message));
    }

    /// The trip's state: the cached one when this process is working on
    /// it, else from the store — and then cached, so that the command that
    /// usually follows (a task's outcome, say) decides against it instead
    /// of reading the trip again. One that other processes have appended
    /// to since it was cached is brought up to date first
    /// ([`Journal::wants`]). Reads take the trip's writer lock: a second
    /// use that came meanwhile (two tasks of a trip claimed together by a
    /// worker that has not seen the trip yet) finds the first's state.
    pub(super) async fn load(&self, trip: TripId) -> Result<TripState, RuntimeError> {
        if let Some(state) = self.current(trip) {
            return Ok(state);
        }
        let writer = self.writer(trip);
        let _writer = writer.lock().await;
        if self.behind(trip) {
            self.replay_after_delivered(trip, None).await?;
        }
        if let Some(state) = self.current(trip) {
            return Ok(state);
        }
        let state = self.load_fresh(trip).await?;
        self.remember(&state);
        Ok(state)
    }

    /// The cached state, unless another process announced appends past it.
    fn current(&self, trip: TripId) -> Option<TripState> {
        let trips = lock(&self.trips);
        let state = trips.states.get(&trip)?;
        let behind = trips
            .behind
            .get(&trip)
            .is_some_and(|&seq| seq > state.version);
        (!behind).then(|| state.clone())
    }

    /// The trip's state from the store (snapshot + events).
    pub(super) async fn load_fresh(&self, trip: TripId) -> Result<TripState, RuntimeError> {
        self.log
            .load(trip)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))
    }

    /// Past events after `after_seq`, then live ones from the trip's hub
    /// topic (subscribed before the past ones were loaded: dedup by
    /// `seq`). `None`: no such trip.
    pub(super) async fn events(
        &self,
        trip: TripId,
        after_seq: u64,
    ) -> Result<Option<(Vec<WireEvent>, EventStream)>, RuntimeError> {
        let live = EventStream::new(self.hub.subscribe(&trip_topic(trip)));
        let remembered = if self.shared.load(Ordering::Relaxed) {
            None
        } else {
            lock(&self.trips).history.get(&trip).cloned()
        };
        let stored = match remembered {
            Some(history) => history,
            None => self
                .store
                .load(trip, 0)
                .await
                .map_err(|e| RuntimeError::Store(e.to_string()))?,
        };
        let Some(last) = stored.last() else {
            // The topic goes with the next pruning.
            return Ok(None);
        };
        // What this subscriber read from the log counts as delivered when
        // nothing was before (live events after it come by catch-up).
        lock(&self.trips).delivered.entry(trip).or_insert(last.seq);
        let mut state = TripState::new(trip);
        let mut past = Vec::new();
        for event in &stored {
            state.apply_stored(event);
            if event.seq > after_seq
                && let Some(w) = wire_event(&state, event)
            {
                past.push(w);
            }
        }
        Ok(Some((past, live)))
    }

    /// Every planning event of every trip (the hub's global topic).
    pub(super) fn subscribe_all(&self) -> EventStream {
        EventStream::new(self.hub.subscribe(EVENTS_TOPIC))
    }

    /// The trip's cancel signal, made on first use: `true` once the trip
    /// is cancelled or over.
    pub(super) fn cancel_rx(&self, trip: TripId) -> watch::Receiver<bool> {
        lock(&self.trips)
            .cancels
            .entry(trip)
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    /// Tells the trip's running work to stop.
    pub(super) fn raise_cancel(&self, trip: TripId) {
        if let Some(tx) = lock(&self.trips).cancels.get(&trip) {
            let _ = tx.send(true);
        }
    }

    /// Forgets a raised cancel signal, so that the trip's work can run
    /// again (an operator's retry or resume).
    pub(super) fn clear_cancel(&self, trip: TripId) {
        let mut trips = lock(&self.trips);
        if trips.cancels.get(&trip).is_some_and(|tx| *tx.borrow()) {
            trips.cancels.remove(&trip);
        }
    }

    /// Forgets a deleted trip: its cached state, topic (live subscribers'
    /// streams end) and cancel channel (running work stops).
    pub(super) fn forget(&self, trip: TripId) {
        self.hub.close_topic(&trip_topic(trip));
        let mut trips = lock(&self.trips);
        trips.states.remove(&trip);
        trips.delivered.remove(&trip);
        trips.history.remove(&trip);
        trips.behind.remove(&trip);
        if let Some(cancel) = trips.cancels.remove(&trip) {
            let _ = cancel.send(true);
        }
    }

    /// Drops the writer lock of a trip (after [`Journal::forget`]).
    pub(super) fn forget_writer(&self, trip: TripId) {
        lock(&self.trips).writers.remove(&trip);
    }

    /// Drops the channels and states of trips nobody plans or listens to
    /// (they are made again on demand), so that a long-running server does
    /// not keep one per trip ever submitted.
    pub(super) fn retain(&self, busy: &HashSet<TripId>) {
        self.hub.prune_topics();
        // Kept while someone listens: the next catch-up reads only what
        // is new.
        let listened = self.listened();
        let mut trips = lock(&self.trips);
        trips
            .cancels
            .retain(|trip, tx| busy.contains(trip) || tx.receiver_count() > 0);
        trips
            .states
            .retain(|trip, _| busy.contains(trip) || listened.contains(trip));
        trips
            .delivered
            .retain(|trip, _| busy.contains(trip) || listened.contains(trip));
        let Trips {
            states,
            behind,
            history,
            ..
        } = &mut *trips;
        behind.retain(|trip, _| states.contains_key(trip));
        history.retain(|trip, _| states.contains_key(trip));
        // A lock nobody holds or waits for is only this map's.
        trips
            .writers
            .retain(|trip, writer| busy.contains(trip) || Arc::strong_count(writer) > 1);
    }
}

/// Adds `events`, just appended, to the trip's remembered log: a first
/// append starts it; one that does not follow the last remembered event
/// (the log has events this process did not append) drops it, and the
/// past is read from the store again.
fn record(history: &mut HashMap<TripId, Vec<StoredEvent>>, trip: TripId, events: &[StoredEvent]) {
    let Some(first) = events.first() else {
        return;
    };
    if first.seq == 1 {
        history.insert(trip, events.to_vec());
        return;
    }
    match history.get_mut(&trip) {
        Some(log) if log.last().is_some_and(|last| last.seq + 1 == first.seq) => {
            log.extend_from_slice(events);
        }
        Some(_) => {
            history.remove(&trip);
        }
        None => {}
    }
}

/// An append with a queue write in its transaction.
struct WithQueue<'s, S> {
    store: &'s S,
    queue: QueueWriteAt<'s>,
}

impl<S: RuntimeStore> Append for WithQueue<'_, S> {
    fn append<'a>(
        &'a self,
        folded: FoldedBatch<'a>,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send + 'a {
        self.store.append_with_queue(folded, self.queue)
    }
}
