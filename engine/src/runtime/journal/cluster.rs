//! The journal across processes: another process's appends reach this
//! one as a pointer (trip, last `seq`), and the events this process has
//! not delivered are read from the log, applied to the cached state and
//! published on the local topics, in order and once each (see the
//! journal's module doc).

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use super::super::lock;
use super::super::traffic::trip_topic;
use super::super::wire::wire_event;
use super::super::{RuntimeError, RuntimeStore};
use super::Journal;
use crate::state::{StoredEvent, TripEvent, TripId, TripState};

impl<S: RuntimeStore> Journal<S> {
    /// The trips whose hub topic has a subscriber now.
    pub(super) fn listened(&self) -> HashSet<TripId> {
        self.hub
            .subscribed_topics("trip.")
            .iter()
            .filter_map(|topic| topic.strip_prefix("trip.")?.parse().ok())
            .collect()
    }

    /// Whether a pointer to `trip`'s log at `seq` is news to read now:
    /// this process has the trip in hand (a cached state, live
    /// subscribers, a cancel signal its work watches), has not delivered
    /// `seq` yet, and either someone here watches the trip or the append
    /// did more than move tasks along (`routine`: the trip's end, a
    /// cancel, a change — what running work and the planning slot wait
    /// for). A routine append to a trip only cached here marks the cache
    /// behind instead: it is brought up to date when next used, once for
    /// however many pointers came meanwhile. Counts the pointer.
    pub(in crate::runtime) fn wants(&self, trip: TripId, seq: u64, routine: bool) -> bool {
        self.notifications.fetch_add(1, Ordering::Relaxed);
        let listened = self.hub.has_subscribers(&[&trip_topic(trip)]);
        let mut trips = lock(&self.trips);
        let cached = trips.states.get(&trip).map(|state| state.version);
        let in_hand = listened || cached.is_some() || trips.cancels.contains_key(&trip);
        if !in_hand || trips.delivered.get(&trip).is_some_and(|&d| d >= seq) {
            return false;
        }
        if listened || !routine {
            return true;
        }
        if cached.is_some_and(|version| version < seq) {
            let behind = trips.behind.entry(trip).or_default();
            *behind = (*behind).max(seq);
        }
        false
    }

    /// Whether `trip`'s cached state is older than what another process
    /// announced ([`Journal::wants`]).
    pub(super) fn behind(&self, trip: TripId) -> bool {
        let trips = lock(&self.trips);
        match (trips.behind.get(&trip), trips.states.get(&trip)) {
            (Some(&seq), Some(state)) => state.version < seq,
            _ => false,
        }
    }

    /// Marks a catch-up of `trip` as on its way; `false` when one is
    /// already (it will read this pointer's events too).
    pub(in crate::runtime) fn begin_catch_up(&self, trip: TripId) -> bool {
        lock(&self.trips).catching_up.insert(trip)
    }

    /// The trips this process has in hand (after a listener reconnected,
    /// each is caught up: pointers may have been missed meanwhile).
    pub(in crate::runtime) fn in_hand(&self) -> Vec<TripId> {
        let mut all = self.listened();
        let trips = lock(&self.trips);
        all.extend(trips.states.keys().copied());
        all.extend(trips.cancels.keys().copied());
        all.into_iter().collect()
    }

    /// Another process appended to `trip`'s log: reads the events after the
    /// last one delivered here, applies them to the cached state and
    /// publishes them (see the module doc). Returns them, for the caller
    /// to act on (a cancel, the trip's end).
    pub(in crate::runtime) async fn catch_up(
        &self,
        trip: TripId,
    ) -> Result<Vec<StoredEvent>, RuntimeError> {
        let writer = self.writer(trip);
        let _writer = writer.lock().await;
        // Pointers from here on start another catch-up: this one may have
        // read the log before their events were in it.
        lock(&self.trips).catching_up.remove(&trip);
        self.replay_after_delivered(trip, None).await
    }

    /// Reads the events after the last one delivered here, applies them to
    /// the cached state and publishes them; returns them. From the cached
    /// state when it is exactly what was delivered, else from the start of
    /// the log. `own`: the events from this `seq` on were appended by this
    /// process (a local append filling the hole before it), which acts on
    /// its own trip's end; an end before it is another process's
    /// ([`Journal::on_ended`]). The caller holds the trip's writer lock.
    pub(super) async fn replay_after_delivered(
        &self,
        trip: TripId,
        own: Option<u64>,
    ) -> Result<Vec<StoredEvent>, RuntimeError> {
        let (cached, delivered) = {
            let trips = lock(&self.trips);
            (
                trips.states.get(&trip).cloned(),
                trips.delivered.get(&trip).copied(),
            )
        };
        // From the cached state when it is exactly what was delivered, or
        // when nothing was (nobody here has heard of the trip's events:
        // there is nothing before the cache to publish).
        let (mut state, from) = match cached {
            Some(state) if delivered.is_none_or(|d| d == state.version) => {
                let from = state.version;
                (state, from)
            }
            _ => (TripState::new(trip), 0),
        };
        let stored = self
            .store
            .load(trip, from)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        let delivered = delivered.unwrap_or(from);
        let mut fresh = Vec::new();
        let mut wire = Vec::new();
        let topic = self.watched(trip);
        for event in stored {
            state.apply_stored(&event);
            if event.seq > delivered {
                if topic.is_some() {
                    wire.extend(wire_event(&state, &event));
                }
                fresh.push(event);
            }
        }
        // The cached state first, then the events: a subscriber that reads
        // the trip on hearing its last event reads the state it announces.
        if state.exists() {
            self.remember(&state);
        }
        if let Some(topic) = topic {
            for event in wire {
                self.send(topic.clone(), event);
            }
        }
        let mut trips = lock(&self.trips);
        // What another process appended is not in the remembered log.
        trips.history.remove(&trip);
        if trips
            .behind
            .get(&trip)
            .is_some_and(|&seq| seq <= state.version)
        {
            trips.behind.remove(&trip);
        }
        if let Some(last) = fresh.last() {
            let d = trips.delivered.entry(trip).or_default();
            *d = (*d).max(last.seq);
            drop(trips);
            self.relayed
                .fetch_add(fresh.len() as u64, Ordering::Relaxed);
        } else {
            drop(trips);
        }
        let ended = fresh.iter().any(|e| {
            own.is_none_or(|own| e.seq < own)
                && matches!(
                    e.event,
                    TripEvent::Cancelled
                        | TripEvent::PlanReady { .. }
                        | TripEvent::PlanFailed { .. }
                )
        });
        if ended && let Some(hook) = &self.on_ended {
            hook(trip);
        }
        Ok(fresh)
    }
}
