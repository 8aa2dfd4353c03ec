//! The state consistency score (the design document's target: 100%): the
//! auditor replays each trip's log from its latest snapshot and compares
//! what the log says with the read model (`trip_state`), the queue
//! (`agent_tasks`) and the results (`agent_results`). The score is the
//! share of audited trips that agree. A disagreement is reported — which
//! trip, which table, what differed — and repaired from the log, the
//! source of truth, in one transaction that only writes while the log is
//! still where the audit read it.
//!
//! **Only quiet trips are audited.** The queue moves without the log for
//! an instant while a trip plans: a claim marks a task running before the
//! claim is logged (it is logged with the outcome), a trip waiting for a
//! slot has its tasks in the log and not yet on the queue, and a trip
//! that just failed or was cancelled has its remaining tasks taken off
//! the queue right after the log says so. The per-trip lock would not
//! help: claims and that clean-up do not take it. So a trip is audited
//! when its log (not its read model, which may be the corrupt part) says
//! it is ready, failed, cancelled or waiting for an answer, no
//! modification is under way, and its last event is at least the quiet
//! period old; others are counted as skipped and looked at again later.
//! The runtime also holds the trip's lock while it audits and repairs
//! one, and the audit reads the log again after the other tables: a trip
//! that moved meanwhile is skipped, not reported.
//!
//! What the queue is expected to hold follows the runtime's rules (see
//! ARCHITECTURE, *Durability*): a result is in the queue exactly when it
//! is in the log (the joint write), a task that is not final when the
//! trip ends is taken off the queue (failed), a trip served from the
//! request cache has no rows, and a task a modification re-ran in process
//! keeps its first row (the queue holds each task's first result, the log
//! the current one), so only that row's being final is checked.
//!
//! Batches are bounded: a pass audits the trips whose read model changed
//! since the last pass and the next slice of a rolling sweep over the
//! log's trips by id (which finds a read model that is missing or whose
//! timestamp is wrong); one trip's events after its snapshot are in
//! memory at a time.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ConsistencyMetrics;
use crate::clock::SharedClock;
use crate::state::{
    AuditStore, EventStore, PortError, QueueRepair, Repair, TaskQueue, TripId, TripSummary,
};
use compare::{compare, is_quiet};

mod compare;

/// Who claims the tasks a modification re-runs in process (the runtime's
/// name for it in the log).
pub(crate) const MODIFIER: &str = "modifier";

/// How long a trip's log must have been still before it is audited, at
/// least: the queue settles a few store round trips after the event that
/// ends a trip.
pub const QUIET_FOR: Duration = Duration::from_secs(5);

/// Trips per batch: the changed ones and the sweep's slice, each.
pub const BATCH: usize = 200;

/// The findings a report keeps (the rest are counted).
const MAX_FINDINGS: usize = 100;

/// One disagreement between a trip's log and one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub trip_id: String,
    /// `trip_state`, `agent_tasks` or `agent_results`.
    pub table: String,
    /// What differed, and what the log says.
    pub detail: String,
    /// Whether the table was put back to what the log says.
    pub repaired: bool,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trip {}: {} {}", self.trip_id, self.table, self.detail)?;
        if self.repaired {
            write!(f, " (repaired)")?;
        }
        Ok(())
    }
}

/// What one audit found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyReport {
    /// When the audit ran (null before the first).
    pub at: Option<DateTime<Utc>>,
    /// Quiet trips compared with their log.
    pub audited_trips: u64,
    /// Of those, the ones every table agreed on.
    pub agreeing_trips: u64,
    /// Trips planning or changed too recently to compare, or whose tables
    /// could not be read this time: looked at again later.
    pub skipped_trips: u64,
    /// Disagreeing trips put back to what their log says.
    pub repaired_trips: u64,
    /// `agreeing_trips / audited_trips`; 1 when nothing was audited.
    pub score: f64,
    /// What disagreed (at most 100; the counts above are complete).
    pub findings: Vec<Finding>,
}

impl Default for ConsistencyReport {
    fn default() -> Self {
        Self {
            at: None,
            audited_trips: 0,
            agreeing_trips: 0,
            skipped_trips: 0,
            repaired_trips: 0,
            score: 1.0,
            findings: Vec::new(),
        }
    }
}

impl ConsistencyReport {
    /// Whether every audited trip agreed, or was repaired.
    pub fn all_agree_or_repaired(&self) -> bool {
        self.agreeing_trips + self.repaired_trips >= self.audited_trips
    }

    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Skipped => self.skipped_trips += 1,
            Outcome::Agreed => {
                self.audited_trips += 1;
                self.agreeing_trips += 1;
            }
            Outcome::Disagreed { findings, repaired } => {
                self.audited_trips += 1;
                if repaired {
                    self.repaired_trips += 1;
                }
                let room = MAX_FINDINGS.saturating_sub(self.findings.len());
                self.findings.extend(findings.into_iter().take(room));
            }
        }
    }

    fn finish(&mut self) {
        self.score = if self.audited_trips == 0 {
            1.0
        } else {
            self.agreeing_trips as f64 / self.audited_trips as f64
        };
    }
}

/// How one trip's audit ended.
enum Outcome {
    Skipped,
    Agreed,
    Disagreed {
        findings: Vec<Finding>,
        repaired: bool,
    },
}

/// The read model as the audit found it.
enum ReadModel {
    Row(Box<TripSummary>),
    Missing,
    Unreadable(String),
}

/// What a comparison found and how to put it right.
#[derive(Default)]
struct Comparison {
    /// (table, detail).
    found: Vec<(&'static str, String)>,
    read_model: bool,
    queue: Vec<QueueRepair>,
}

/// Where the auditor is in its batches, and its running totals.
#[derive(Default)]
struct Progress {
    /// The sweep's last trip (`None`: start over).
    sweep_after: Option<TripId>,
    /// The newest read-model update already audited as changed.
    changed_since: Option<DateTime<Utc>>,
    passes: u64,
    disagreements_total: u64,
    repairs_total: u64,
    last: ConsistencyReport,
}

/// The consistency auditor over a store. The runtime keeps one and runs
/// [`Auditor::pass`] every `audit_interval`; `wayfare check` makes one and
/// runs [`Auditor::check_all`].
pub struct Auditor<S> {
    store: S,
    clock: SharedClock,
    quiet: Duration,
    batch: usize,
    progress: Mutex<Progress>,
}

/// The per-trip writer lock a caller holds while a trip is audited (the
/// runtime's; `None` where nothing else writes in this process).
pub type TripLockOf<'a> = &'a (dyn Fn(TripId) -> Option<Arc<tokio::sync::Mutex<()>>> + Sync);

impl<S: EventStore + TaskQueue + AuditStore> Auditor<S> {
    pub fn new(store: S, clock: SharedClock) -> Self {
        Self {
            store,
            clock,
            quiet: QUIET_FOR,
            batch: BATCH,
            progress: Mutex::new(Progress::default()),
        }
    }

    /// How long a trip's log must be still before it is audited.
    pub fn quiet_for(mut self, quiet: Duration) -> Self {
        self.quiet = quiet;
        self
    }

    /// Trips per batch (at least one).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last report and the running totals.
    pub fn metrics(&self) -> ConsistencyMetrics {
        let p = self.progress();
        ConsistencyMetrics {
            passes: p.passes,
            audited_trips: p.last.audited_trips,
            agreeing_trips: p.last.agreeing_trips,
            skipped_trips: p.last.skipped_trips,
            score: p.last.score,
            disagreements_total: p.disagreements_total,
            repairs_total: p.repairs_total,
            findings: p.last.findings.iter().map(ToString::to_string).collect(),
        }
    }

    /// The last report (the default one before the first pass).
    pub fn last_report(&self) -> ConsistencyReport {
        self.progress().last.clone()
    }

    /// The oldest last event a trip may have to be audited now.
    fn horizon(&self) -> DateTime<Utc> {
        let quiet = chrono::Duration::from_std(self.quiet).unwrap_or(chrono::Duration::MAX);
        self.clock
            .now()
            .checked_sub_signed(quiet)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// One background pass: the trips whose read model changed since the
    /// last pass (and have been quiet since), then the next slice of the
    /// sweep over every trip, each audited under `lock_of`'s lock and,
    /// with `repair`, put right. Becomes the last report.
    pub async fn pass(&self, repair: bool, lock_of: TripLockOf<'_>) -> ConsistencyReport {
        let horizon = self.horizon();
        let (since, sweep_after) = {
            let p = self.progress();
            (p.changed_since, p.sweep_after)
        };
        let mut trips: Vec<TripId> = Vec::new();
        let mut seen = BTreeSet::new();
        match self
            .store
            .trips_updated_after(since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH), self.batch)
            .await
        {
            Ok(changed) => {
                // Those changed within the quiet period wait for a later
                // pass: the cursor stops before them.
                let mut newest = since;
                for (at, trip) in changed.into_iter().take_while(|(at, _)| *at <= horizon) {
                    newest = Some(at);
                    if seen.insert(trip) {
                        trips.push(trip);
                    }
                }
                self.progress().changed_since = newest;
            }
            Err(e) => tracing::warn!(error = %e, "consistency audit: cannot list changed trips"),
        }
        match self.store.logged_trips(sweep_after, self.batch).await {
            Ok(slice) => {
                self.progress().sweep_after = if slice.len() < self.batch {
                    None
                } else {
                    slice.last().copied()
                };
                for trip in slice {
                    if seen.insert(trip) {
                        trips.push(trip);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "consistency audit: cannot list trips"),
        }
        let mut report = ConsistencyReport {
            at: Some(self.clock.now()),
            ..ConsistencyReport::default()
        };
        for trip in trips {
            let writer = lock_of(trip);
            let _guard = match &writer {
                Some(writer) => Some(writer.lock().await),
                None => None,
            };
            report.add(self.audit_trip(trip, repair, horizon).await);
        }
        report.finish();
        self.record(&report);
        report
    }

    /// Every trip with a log, in batches (`wayfare check`): becomes the
    /// last report.
    pub async fn check_all(&self, repair: bool) -> Result<ConsistencyReport, PortError> {
        let horizon = self.horizon();
        let mut report = ConsistencyReport {
            at: Some(self.clock.now()),
            ..ConsistencyReport::default()
        };
        let mut after = None;
        loop {
            let slice = self.store.logged_trips(after, self.batch).await?;
            let full = slice.len() == self.batch;
            after = slice.last().copied();
            for trip in slice {
                report.add(self.audit_trip(trip, repair, horizon).await);
            }
            if !full {
                break;
            }
        }
        report.finish();
        self.record(&report);
        Ok(report)
    }

    fn record(&self, report: &ConsistencyReport) {
        let mut p = self.progress();
        p.passes += 1;
        p.disagreements_total += report.audited_trips - report.agreeing_trips;
        p.repairs_total += report.repaired_trips;
        p.last = report.clone();
        drop(p);
        for finding in &report.findings {
            tracing::error!(trip.id = %finding.trip_id, table = %finding.table, repaired = finding.repaired, "state consistency: {}", finding.detail);
        }
    }

    /// Audits one trip: replays its log (snapshot + events), compares,
    /// and with `repair` puts the tables right.
    async fn audit_trip(&self, trip: TripId, repair: bool, horizon: DateTime<Utc>) -> Outcome {
        let skipped = |what: &str, e: &dyn fmt::Display| {
            tracing::warn!(trip.id = %trip, error = %e, "consistency audit: cannot read {what}; skipped");
            Outcome::Skipped
        };
        let state = match self.store.load_state(trip).await {
            Ok(state) => state,
            Err(e) => return skipped("the log", &e),
        };
        if !is_quiet(&state, horizon) {
            return Outcome::Skipped;
        }
        let read_model = match self.store.trip_summary(trip).await {
            Ok(Some(row)) => ReadModel::Row(Box::new(row)),
            Ok(None) => ReadModel::Missing,
            Err(PortError::Permanent { message }) => ReadModel::Unreadable(message),
            Err(e) => return skipped("the read model", &e),
        };
        let queue = match self.store.tasks_of(trip).await {
            Ok(rows) => Ok(rows),
            Err(PortError::Permanent { message }) => Err(message),
            Err(e) => return skipped("the queue", &e),
        };
        let results = match self.store.results_of(trip).await {
            Ok(results) => results,
            Err(e) => return skipped("the results", &e),
        };
        // The log may have moved while the other tables were read (a
        // modification starting): then they are not comparable.
        match self.store.load(trip, state.version).await {
            Ok(newer) if newer.is_empty() => {}
            Ok(_) => return Outcome::Skipped,
            Err(e) => return skipped("the log", &e),
        }
        let comparison = compare(&state, &read_model, &queue, &results);
        if comparison.found.is_empty() {
            return Outcome::Agreed;
        }
        let repaired = repair
            && match self
                .store
                .repair(Repair {
                    state: &state,
                    read_model: comparison.read_model,
                    queue: &comparison.queue,
                })
                .await
            {
                Ok(done) => done,
                Err(e) => {
                    tracing::warn!(trip.id = %trip, error = %e, "consistency audit: the repair failed");
                    false
                }
            };
        let findings = comparison
            .found
            .into_iter()
            .map(|(table, detail)| Finding {
                trip_id: trip.to_string(),
                table: table.to_string(),
                detail,
                repaired,
            })
            .collect();
        Outcome::Disagreed { findings, repaired }
    }
}

#[cfg(test)]
mod tests;
