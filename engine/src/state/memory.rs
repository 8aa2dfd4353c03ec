//! [`MemoryEventStore`]: the in-memory twin of the SQL event store, with the
//! same contract (optimistic locking, projection updated with the append).
//! Used by engine tests and by `wayfare plan` runs that need no database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::event::{StoredEvent, TripStatus};
use super::ids::TripId;
use super::port::{AppendError, Batch, EventStore, PortError, Snapshot, SnapshotRef, TripSummary};
use super::trip::TripState;

#[derive(Debug, Default)]
struct Trip {
    events: Vec<StoredEvent>,
    projection: TripState,
    updated_at: Option<DateTime<Utc>>,
    snapshots: Vec<Snapshot>,
}

/// An event store in memory. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryEventStore {
    trips: Arc<Mutex<HashMap<TripId, Trip>>>,
}

impl MemoryEventStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TripId, Trip>> {
        self.trips.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes a trip's events, read model and snapshots; whether it had
    /// any (the in-memory side of deleting a trip).
    pub fn remove_trip(&self, trip_id: TripId) -> bool {
        self.lock().remove(&trip_id).is_some()
    }

    /// Up to `limit` trips with events, by id, after `after` (the
    /// auditor's sweep).
    pub fn trip_ids_after(&self, after: Option<TripId>, limit: usize) -> Vec<TripId> {
        let mut ids: Vec<TripId> = self
            .lock()
            .iter()
            .filter(|(id, t)| !t.events.is_empty() && after.is_none_or(|a| **id > a))
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids.truncate(limit);
        ids
    }

    /// Up to `limit` trips whose projection changed after `since`, oldest
    /// first.
    pub fn updated_after(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Vec<(DateTime<Utc>, TripId)> {
        let mut found: Vec<(DateTime<Utc>, TripId)> = self
            .lock()
            .iter()
            .filter_map(|(id, t)| Some((t.updated_at?, *id)))
            .filter(|(at, _)| *at > since)
            .collect();
        found.sort();
        found.truncate(limit);
        found
    }

    /// Replaces a trip's projection with `state` while its log is at
    /// `state.version` (the auditor's repair, and tests that corrupt the
    /// read model on purpose); whether it did.
    pub fn put_projection(&self, state: &TripState) -> bool {
        let Some(trip_id) = state.trip_id else {
            return false;
        };
        let mut trips = self.lock();
        let Some(trip) = trips.get_mut(&trip_id) else {
            return false;
        };
        if trip.events.len() as u64 != state.version {
            return false;
        }
        trip.projection = state.clone();
        trip.updated_at = state.last_event_at.or(trip.updated_at);
        true
    }

    /// How many snapshots a trip has (for tests of the snapshot cadence).
    pub fn snapshot_count(&self, trip_id: TripId) -> usize {
        self.lock().get(&trip_id).map_or(0, |t| t.snapshots.len())
    }
}

impl EventStore for MemoryEventStore {
    async fn append(&self, batch: Batch<'_>, at: DateTime<Utc>) -> Result<u64, AppendError> {
        let Batch {
            trip_id,
            expected_version,
            events,
        } = batch;
        let mut trips = self.lock();
        let trip = trips.entry(trip_id).or_insert_with(|| Trip {
            projection: TripState::new(trip_id),
            ..Trip::default()
        });
        let actual = trip.events.len() as u64;
        if actual != expected_version {
            return Err(AppendError::Conflict {
                expected: expected_version,
                actual,
            });
        }
        for (i, event) in events.iter().enumerate() {
            let stored = StoredEvent {
                trip_id,
                seq: expected_version + 1 + i as u64,
                at,
                event: event.clone(),
            };
            trip.projection.apply_stored(&stored);
            trip.events.push(stored);
        }
        if !events.is_empty() {
            trip.updated_at = Some(at);
        }
        Ok(trip.events.len() as u64)
    }

    async fn load(&self, trip_id: TripId, after_seq: u64) -> Result<Vec<StoredEvent>, PortError> {
        Ok(self.lock().get(&trip_id).map_or_else(Vec::new, |t| {
            t.events
                .iter()
                .filter(|e| e.seq > after_seq)
                .cloned()
                .collect()
        }))
    }

    async fn load_snapshot(&self, trip_id: TripId) -> Result<Option<Snapshot>, PortError> {
        Ok(self
            .lock()
            .get(&trip_id)
            .and_then(|t| t.snapshots.iter().max_by_key(|s| s.version).cloned()))
    }

    async fn save_snapshot(&self, snapshot: SnapshotRef<'_>) -> Result<(), PortError> {
        let mut trips = self.lock();
        let trip = trips.entry(snapshot.trip_id).or_default();
        if trip.snapshots.iter().all(|s| s.version != snapshot.version) {
            trip.snapshots.push(Snapshot {
                trip_id: snapshot.trip_id,
                version: snapshot.version,
                state: snapshot.state.clone(),
            });
        }
        Ok(())
    }

    async fn trip_summary(&self, trip_id: TripId) -> Result<Option<TripSummary>, PortError> {
        Ok(self.lock().get(&trip_id).and_then(|t| {
            Some(TripSummary {
                trip_id,
                status: t.projection.status,
                progress: t.projection.progress(),
                version: t.projection.version,
                updated_at: t.updated_at?,
                state: t.projection.read_model(),
            })
        }))
    }

    async fn list_trips_in_status(&self, status: TripStatus) -> Result<Vec<TripId>, PortError> {
        let trips = self.lock();
        let mut found: Vec<(DateTime<Utc>, TripId)> = trips
            .iter()
            .filter(|(_, t)| t.projection.exists() && t.projection.status == status)
            .filter_map(|(id, t)| Some((t.updated_at?, *id)))
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }
}
