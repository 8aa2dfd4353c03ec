//! [`TripLog`]: how the orchestrator loop changes a trip. It loads the
//! state (snapshot + replay), asks [`decide`] what a command means, appends
//! the events with optimistic locking, and on a conflict reloads and decides
//! again (a bounded number of times). Every `snapshot_every` events it saves
//! a snapshot, so that loading a long-lived trip replays only a short tail.

use std::future::Future;

use chrono::SubsecRound;

use super::decide::{Command, Rejection, decide_all};
use super::event::StoredEvent;
use super::ids::{TaskId, TripId};
use super::port::{AppendError, EventStore, FoldedBatch, PortError, SnapshotRef};
use super::trip::TripState;
use crate::clock::SharedClock;

/// Why a command did not take effect.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecuteError {
    #[error("rejected: {0}")]
    Rejected(#[from] Rejection),
    /// Other writers kept winning; the caller may try again later.
    #[error("gave up after {attempts} version conflicts")]
    Contended { attempts: u32 },
    /// The append's queue write spoke for an older claim of the task
    /// ([`AppendError::Fenced`]): nothing was written.
    #[error("task {0} was claimed again since: refused")]
    Fenced(TaskId),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// What a command did: the state after it and the events it appended
/// (none for an idempotent repeat).
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub state: TripState,
    pub events: Vec<StoredEvent>,
}

/// How [`TripLog::execute_all_with`] appends: a batch of events folded
/// already (as [`EventStore::append_with_state`] takes it).
pub trait Append: Send + Sync {
    fn append<'a>(
        &'a self,
        folded: FoldedBatch<'a>,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send + 'a;
}

/// The store's own append.
struct Plain<'s, S>(&'s S);

impl<S: EventStore> Append for Plain<'_, S> {
    fn append<'a>(
        &'a self,
        folded: FoldedBatch<'a>,
    ) -> impl Future<Output = Result<u64, AppendError>> + Send + 'a {
        self.0.append_with_state(folded)
    }
}

/// Commands in, events out, over an [`EventStore`].
#[derive(Debug, Clone)]
pub struct TripLog<S> {
    store: S,
    clock: SharedClock,
    snapshot_every: u64,
    max_conflicts: u32,
}

impl<S: EventStore> TripLog<S> {
    /// A log that snapshots every 50 events and retries 5 conflicts.
    pub fn new(store: S, clock: SharedClock) -> Self {
        Self {
            store,
            clock,
            snapshot_every: 50,
            max_conflicts: 5,
        }
    }

    /// Snapshot every `n` events (`0` never snapshots).
    pub fn snapshot_every(mut self, n: u64) -> Self {
        self.snapshot_every = n;
        self
    }

    pub fn max_conflicts(mut self, n: u32) -> Self {
        self.max_conflicts = n;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The current state of a trip (an unknown trip is an empty state).
    pub async fn load(&self, trip_id: TripId) -> Result<TripState, PortError> {
        self.store.load_state(trip_id).await
    }

    /// Decides `command` against the newest state and appends the result.
    #[tracing::instrument(skip_all, fields(trip.id = %trip_id), err)]
    pub async fn execute(
        &self,
        trip_id: TripId,
        command: Command,
    ) -> Result<Executed, ExecuteError> {
        self.execute_from(trip_id, None, command).await
    }

    /// Like [`TripLog::execute`], starting from `known`, a state the caller
    /// holds (a cache), instead of loading it: the append's optimistic lock
    /// still catches a stale one, and a conflict or a rejection reloads from
    /// the store and decides again, so a cache can only save work.
    pub async fn execute_from(
        &self,
        trip_id: TripId,
        known: Option<TripState>,
        command: Command,
    ) -> Result<Executed, ExecuteError> {
        self.execute_all_from(trip_id, known, std::slice::from_ref(&command))
            .await
    }

    /// Like [`TripLog::execute_from`] for several commands decided in turn
    /// ([`decide_all`]) and appended in one write: all or none.
    pub async fn execute_all_from(
        &self,
        trip_id: TripId,
        known: Option<TripState>,
        commands: &[Command],
    ) -> Result<Executed, ExecuteError> {
        self.execute_all_with(trip_id, known, commands, &Plain(&self.store))
            .await
    }

    /// Like [`TripLog::execute_all_from`], with the append made by `append`:
    /// a caller whose store can make another write in the same transaction
    /// (a task queue's, say) passes that combined write here.
    pub async fn execute_all_with(
        &self,
        trip_id: TripId,
        known: Option<TripState>,
        commands: &[Command],
        append: &impl Append,
    ) -> Result<Executed, ExecuteError> {
        let mut conflicts = 0;
        let mut known = known;
        loop {
            let from_cache = known.is_some();
            let mut state = match known.take() {
                Some(state) => state,
                None => self.store.load_state(trip_id).await?,
            };
            let events = match decide_all(&state, commands) {
                Ok(events) => events,
                Err(_) if from_cache => continue,
                Err(rejection) => return Err(rejection.into()),
            };
            if events.is_empty() && from_cache {
                // Nothing to do by the cache's account: make sure.
                continue;
            }
            if events.is_empty() {
                return Ok(Executed {
                    state,
                    events: vec![],
                });
            }
            // Both SQL backends keep microseconds: the state written with
            // the events must be the one a replay will give.
            let at = self.clock.now().trunc_subsecs(6);
            let before = state.version;
            let stored: Vec<StoredEvent> = events
                .into_iter()
                .enumerate()
                .map(|(i, event)| StoredEvent {
                    trip_id,
                    seq: before + 1 + i as u64,
                    at,
                    event,
                })
                .collect();
            // On a conflict this state is dropped and the log reloaded.
            for event in &stored {
                state.apply_stored(event);
            }
            let folded = FoldedBatch {
                trip_id,
                expected_version: before,
                events: &stored,
                after: &state,
            };
            match append.append(folded).await {
                Ok(_) => {
                    self.maybe_snapshot(trip_id, before, &state).await;
                    return Ok(Executed {
                        state,
                        events: stored,
                    });
                }
                Err(AppendError::Conflict { expected, actual }) => {
                    conflicts += 1;
                    tracing::debug!(
                        expected,
                        actual,
                        conflicts,
                        "version conflict; deciding again"
                    );
                    if conflicts > self.max_conflicts {
                        return Err(ExecuteError::Contended {
                            attempts: conflicts,
                        });
                    }
                }
                Err(AppendError::Fenced(task)) => return Err(ExecuteError::Fenced(task)),
                Err(AppendError::Port(err)) => return Err(err.into()),
            }
        }
    }

    /// Saves a snapshot when the append crossed a multiple of
    /// `snapshot_every`. A failed snapshot is logged, not fatal: the log
    /// is still complete, only replay gets longer.
    async fn maybe_snapshot(&self, trip_id: TripId, before: u64, state: &TripState) {
        let every = self.snapshot_every;
        if every == 0 || before / every == state.version / every {
            return;
        }
        if let Err(err) = self
            .store
            .save_snapshot(SnapshotRef {
                trip_id,
                version: state.version,
                state,
            })
            .await
        {
            tracing::warn!(error = %err, "could not save a snapshot");
        }
    }
}
