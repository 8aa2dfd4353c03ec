//! Several processes on one database: another process's appends reach
//! this one as pointers (`Runtime::appended_elsewhere`, fed by the server's
//! listener); the journal reads the events from the log for the trips this
//! process has in hand and publishes them here, and the end of a trip
//! decided elsewhere stops this process's work on it and frees its slot.

use super::super::RuntimeStore;
use super::super::journal::ClusterMetrics;
use super::Runtime;
use crate::state::TripId;

impl<S: RuntimeStore> Runtime<S> {
    /// Other processes append to this runtime's log too (several `wayfare
    /// serve` on one PostgreSQL database): they announce their appends
    /// with [`Runtime::appended_elsewhere`].
    pub fn share_log(&self) {
        self.journal.share();
    }

    /// Another process appended to `trip`'s log, up to `seq` (a pointer,
    /// on PostgreSQL a notification sent after the append's commit);
    /// `routine`: those appends only moved tasks along
    /// ([`TripEvent::is_task_progress`](crate::state::TripEvent::is_task_progress)). When this process has the trip in
    /// hand (cached state, live subscribers, running work) it reads the new
    /// events from the log, brings its cached state up to date and
    /// publishes them to its local subscribers, in order and once each; a
    /// `Cancelled` (or the trip's end) stops its running work for the trip
    /// and frees its planning slot here. A routine append to a trip
    /// nobody here watches is read when the trip is next used. Returns at
    /// once; the reading runs on its own task.
    pub fn appended_elsewhere(&self, trip: TripId, seq: u64, routine: bool) {
        // Another process's append may have made tasks ready (it queued a
        // trip's graph, or completed a dependency): a process running
        // agents claims now rather than at its next tick, which would add
        // up to a heartbeat to every step that crosses processes (a web
        // tier with `--agents none` and workers hand every task over).
        if !self.config.orchestrator.local_agents.types().is_empty() {
            self.wake.notify_one();
        }
        if self.journal.wants(trip, seq, routine) && self.journal.begin_catch_up(trip) {
            let me = self.me();
            tokio::spawn(async move { me.catch_up(trip).await });
        }
    }

    /// The pointers may have been missed (the listener's connection was
    /// lost and made again): catches up every trip this process has in
    /// hand.
    pub fn catch_up_all(&self) {
        for trip in self.journal.in_hand() {
            if self.journal.begin_catch_up(trip) {
                let me = self.me();
                tokio::spawn(async move { me.catch_up(trip).await });
            }
        }
    }

    /// Reads what another process appended to `trip` (the journal tells
    /// the runtime of the trip's end: `Journal::on_ended`).
    async fn catch_up(&self, trip: TripId) {
        if let Err(e) = self.journal.catch_up(trip).await {
            tracing::warn!(trip.id = %trip, error = %e, "could not read another process's events");
        }
    }

    /// What crossed processes: pointers received, events relayed, late
    /// writes fenced.
    pub fn cluster_metrics(&self) -> ClusterMetrics {
        self.journal.cluster_metrics()
    }
}
