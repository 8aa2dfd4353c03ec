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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ConsistencyMetrics;
use crate::clock::SharedClock;
use crate::state::{
    AuditStore, EventStore, NewTask, PortError, QueueRepair, QueuedTask, TaskId, TaskQueue,
    TaskState, TaskStatus, TripId, TripState, TripStatus, TripSummary,
};

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
                .repair(&state, comparison.read_model, &comparison.queue)
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

/// Whether a trip is at rest by its log: nothing is planning it, and its
/// last event is older than `horizon`.
fn is_quiet(state: &TripState, horizon: DateTime<Utc>) -> bool {
    state.exists()
        && matches!(
            state.status,
            TripStatus::Ready | TripStatus::Failed | TripStatus::Cancelled | TripStatus::NeedsInput
        )
        && state.rollback.is_none()
        && state.last_event_at.is_none_or(|at| at <= horizon)
}

/// Whether a modification re-ran the task in process: its queue row keeps
/// the first run, by design.
fn replanned(state: &TripState, task: &TaskState) -> bool {
    state.modifications > 0
        && (task.instance.as_deref() == Some(MODIFIER) || task.status == TaskStatus::Skipped)
}

/// What the queue should say of a task the log has, in a quiet trip: its
/// final status, and a task the trip ended without is taken off the queue.
fn expected_status(state: &TripState, task: &TaskState) -> TaskStatus {
    match task.status {
        s if s.is_final() => s,
        s if state.status == TripStatus::NeedsInput => s,
        _ => TaskStatus::Failed,
    }
}

fn new_task(trip: TripId, task: &TaskState) -> NewTask {
    NewTask {
        task_id: task.task_id,
        trip_id: trip,
        agent_type: task.agent_type.clone(),
        priority: task.priority,
        depends_on: task.depends_on.clone(),
    }
}

/// The result the queue should hold for a task: the log's, when the task
/// is completed.
fn expected_result(task: &TaskState, status: TaskStatus) -> Option<Value> {
    (status == TaskStatus::Completed)
        .then(|| task.result.as_deref().cloned())
        .flatten()
}

/// The top-level fields in which two states' JSON differ.
fn differing_fields(stored: &TripState, expected: &TripState) -> Vec<String> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(stored), serde_json::to_value(expected))
    else {
        return vec!["state".into()];
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect()
}

fn compare_read_model(state: &TripState, read_model: &ReadModel, out: &mut Comparison) {
    let says = format!(
        "the log says status '{}' at version {}",
        state.status, state.version
    );
    let differences = match read_model {
        ReadModel::Missing => vec![format!("has no row; {says}")],
        ReadModel::Unreadable(e) => vec![format!("row cannot be read ({e}); {says}")],
        ReadModel::Row(row) => {
            let mut d = Vec::new();
            if row.status != state.status {
                d.push(format!(
                    "status '{}', the log says '{}'",
                    row.status, state.status
                ));
            }
            if row.version != state.version {
                d.push(format!(
                    "version {}, the log says {}",
                    row.version, state.version
                ));
            }
            if (row.progress - state.progress()).abs() > 1e-9 {
                d.push(format!(
                    "progress {:.2}, the log says {:.2}",
                    row.progress,
                    state.progress()
                ));
            }
            if state.last_event_at.is_some_and(|at| at != row.updated_at) {
                d.push(format!(
                    "updated at {}, the log's last event is at {}",
                    row.updated_at.to_rfc3339(),
                    state
                        .last_event_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                ));
            }
            let expected = state.read_model();
            if row.state != expected {
                d.push(format!(
                    "state differs from the log's in {}",
                    differing_fields(&row.state, &expected).join(", ")
                ));
            }
            d
        }
    };
    if !differences.is_empty() {
        out.found.push(("trip_state", differences.join("; ")));
        out.read_model = true;
    }
}

fn compare_queue(
    state: &TripState,
    queue: &Result<Vec<QueuedTask>, String>,
    results: &[(TaskId, Value)],
    out: &mut Comparison,
) {
    let Some(trip) = state.trip_id else {
        return;
    };
    let put = |task: &TaskState, out: &mut Comparison| {
        let status = expected_status(state, task);
        out.queue.push(QueueRepair::Put {
            task: new_task(trip, task),
            status,
            result: expected_result(task, status),
        });
    };
    let rows = match queue {
        Ok(rows) => rows,
        Err(e) => {
            out.found
                .push(("agent_tasks", format!("rows cannot be read ({e})")));
            for task in &state.tasks {
                put(task, out);
            }
            return;
        }
    };
    let results: HashMap<TaskId, &Value> = results.iter().map(|(id, r)| (*id, r)).collect();
    // A trip served from the request cache, or one that ended before a
    // planning slot freed, never had rows.
    let ran_from_queue = state
        .tasks
        .iter()
        .any(|t| t.attempts > 0 && !replanned(state, t));
    if rows.is_empty() && !ran_from_queue {
        for (task_id, _) in results.iter() {
            out.found.push((
                "agent_results",
                format!("holds a result for task {task_id}, which was never queued"),
            ));
            out.queue.push(QueueRepair::Remove { task_id: *task_id });
        }
        return;
    }
    if rows.is_empty() {
        let ran = state.tasks.iter().filter(|t| t.attempts > 0).count();
        out.found.push((
            "agent_tasks",
            format!(
                "has no rows; the log ran {ran} of its {} tasks from the queue",
                state.tasks.len()
            ),
        ));
        for task in &state.tasks {
            put(task, out);
        }
        return;
    }
    let by_id: BTreeMap<TaskId, &QueuedTask> = rows.iter().map(|r| (r.task_id, r)).collect();
    for task in &state.tasks {
        let name = &task.agent_type;
        let status = expected_status(state, task);
        let Some(row) = by_id.get(&task.task_id) else {
            out.found.push((
                "agent_tasks",
                format!(
                    "has no row for the {name} task; the log says '{}'",
                    status.as_str()
                ),
            ));
            put(task, out);
            continue;
        };
        let mut wrong = false;
        if row.agent_type != task.agent_type
            || row.priority != task.priority
            || row.depends_on != task.depends_on
        {
            out.found.push((
                "agent_tasks",
                format!(
                    "{name} task is a {} task of priority {:?} after {} others, the log says {name}, {:?}, after {}",
                    row.agent_type,
                    row.priority,
                    row.depends_on.len(),
                    task.priority,
                    task.depends_on.len()
                ),
            ));
            wrong = true;
        }
        if replanned(state, task) {
            // The first run's row: it only has to be over.
            if !row.status.is_final() {
                out.found.push((
                    "agent_tasks",
                    format!(
                        "{name} task '{}', the log says '{}' (re-run by a modification)",
                        row.status.as_str(),
                        task.status.as_str()
                    ),
                ));
                wrong = true;
            }
        } else {
            if row.status != status {
                let because = if status == task.status {
                    String::new()
                } else {
                    format!(
                        " (it is '{}' in a {} trip)",
                        task.status.as_str(),
                        state.status
                    )
                };
                out.found.push((
                    "agent_tasks",
                    format!(
                        "{name} task '{}', the log says '{}'{because}",
                        row.status.as_str(),
                        status.as_str()
                    ),
                ));
                wrong = true;
            }
            let expected = expected_result(task, status);
            let stored = results.get(&task.task_id).copied();
            let result_wrong = match (&expected, stored) {
                (Some(want), Some(have)) if want != have => {
                    out.found.push((
                        "agent_results",
                        format!("the {name} task's result differs from the log's"),
                    ));
                    true
                }
                (Some(_), None) => {
                    out.found.push((
                        "agent_results",
                        format!("has no result for the {name} task; the log has one"),
                    ));
                    true
                }
                // A completed task logged without its result (older data):
                // nothing to compare.
                (None, Some(_)) if status != TaskStatus::Completed => {
                    out.found.push((
                        "agent_results",
                        format!(
                            "holds a result for the {name} task, which the log says is '{}'",
                            status.as_str()
                        ),
                    ));
                    true
                }
                _ => false,
            };
            wrong |= result_wrong;
        }
        if wrong {
            put(task, out);
        }
    }
    for row in rows {
        if state.task(row.task_id).is_none() {
            out.found.push((
                "agent_tasks",
                format!(
                    "has a {} task ({}) the log never scheduled",
                    row.agent_type, row.task_id
                ),
            ));
            out.queue.push(QueueRepair::Remove {
                task_id: row.task_id,
            });
        }
    }
}

/// Compares a quiet trip's tables with its log.
fn compare(
    state: &TripState,
    read_model: &ReadModel,
    queue: &Result<Vec<QueuedTask>, String>,
    results: &[(TaskId, Value)],
) -> Comparison {
    let mut out = Comparison::default();
    compare_read_model(state, read_model, &mut out);
    compare_queue(state, queue, results, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::state::{Priority, StoredEvent, TripEvent};

    /// A trip with one task, folded from `events` after its scheduling.
    fn trip(task: TaskId, events: Vec<TripEvent>) -> TripState {
        let trip = TripId::new();
        let mut all = vec![
            TripEvent::TripSubmitted {
                query: "q".into(),
                overrides: Value::Null,
            },
            TripEvent::TaskScheduled {
                task_id: task,
                agent_type: "budget".into(),
                priority: Priority::P1,
                depends_on: vec![],
            },
        ];
        all.extend(events);
        let stored: Vec<StoredEvent> = all
            .into_iter()
            .enumerate()
            .map(|(i, event)| StoredEvent {
                trip_id: trip,
                seq: i as u64 + 1,
                at: DateTime::<Utc>::UNIX_EPOCH,
                event,
            })
            .collect();
        TripState::replay(trip, &stored)
    }

    fn claimed(task: TaskId, by: &str) -> TripEvent {
        TripEvent::TaskClaimed {
            task_id: task,
            instance_id: by.into(),
            attempt: 1,
            lease_expires_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn completed(task: TaskId, result: Value) -> TripEvent {
        TripEvent::TaskCompleted {
            task_id: task,
            result,
            elapsed_ms: 1,
        }
    }

    fn row(state: &TripState, task: TaskId, status: TaskStatus) -> QueuedTask {
        let logged = state.task(task).expect("the task");
        QueuedTask {
            task_id: task,
            trip_id: state.trip_id.expect("an id"),
            agent_type: logged.agent_type.clone(),
            priority: logged.priority,
            depends_on: logged.depends_on.clone(),
            status,
            attempts: 1,
            lease_owner: None,
            lease_expires_at: None,
            last_error: None,
        }
    }

    fn queue_findings(
        state: &TripState,
        rows: Vec<QueuedTask>,
        results: &[(TaskId, Value)],
    ) -> Comparison {
        let mut out = Comparison::default();
        compare_queue(state, &Ok(rows), results, &mut out);
        out
    }

    fn ready() -> TripEvent {
        TripEvent::PlanReady {
            itinerary: json!({}),
            verdict: json!({}),
        }
    }

    #[test]
    fn a_trip_served_from_the_cache_has_no_rows_and_agrees() {
        let task = TaskId::new();
        let state = trip(task, vec![completed(task, json!(1)), ready()]);
        assert!(queue_findings(&state, vec![], &[]).found.is_empty());
    }

    #[test]
    fn a_trip_that_ran_from_the_queue_and_has_no_rows_disagrees() {
        let task = TaskId::new();
        let state = trip(
            task,
            vec![
                claimed(task, "budget-1"),
                completed(task, json!(1)),
                ready(),
            ],
        );
        let out = queue_findings(&state, vec![], &[]);
        assert_eq!(out.found.len(), 1, "{:?}", out.found);
        assert!(out.found[0].1.contains("has no rows"));
        assert!(matches!(
            &out.queue[..],
            [QueueRepair::Put { status: TaskStatus::Completed, result: Some(r), .. }] if *r == json!(1)
        ));
    }

    #[test]
    fn a_task_left_over_when_a_trip_fails_is_expected_off_the_queue() {
        let task = TaskId::new();
        let state = trip(
            task,
            vec![
                claimed(task, "budget-1"),
                TripEvent::PlanFailed {
                    reason: "no".into(),
                },
            ],
        );
        let failed = row(&state, task, TaskStatus::Failed);
        assert!(queue_findings(&state, vec![failed], &[]).found.is_empty());
        let pending = row(&state, task, TaskStatus::Pending);
        let out = queue_findings(&state, vec![pending], &[]);
        assert!(
            out.found[0].1.contains(
                "budget task 'pending', the log says 'failed' (it is 'running' in a failed trip)"
            ),
            "{:?}",
            out.found
        );
        assert!(matches!(
            &out.queue[..],
            [QueueRepair::Put {
                status: TaskStatus::Failed,
                result: None,
                ..
            }]
        ));
    }

    #[test]
    fn a_task_a_modification_re_ran_keeps_its_first_row() {
        let task = TaskId::new();
        let state = trip(
            task,
            vec![
                claimed(task, "budget-1"),
                completed(task, json!("first")),
                ready(),
                TripEvent::ModificationApplied {
                    changes: json!([]),
                    affected_tasks: vec![task],
                },
                claimed(task, MODIFIER),
                completed(task, json!("second")),
                ready(),
            ],
        );
        let first = [(task, json!("first"))];
        let done = row(&state, task, TaskStatus::Completed);
        assert!(queue_findings(&state, vec![done], &first).found.is_empty());
        let running = row(&state, task, TaskStatus::Running);
        let out = queue_findings(&state, vec![running], &first);
        assert!(
            out.found[0].1.contains("re-run by a modification"),
            "{:?}",
            out.found
        );
    }

    #[test]
    fn a_result_that_differs_and_a_row_the_log_never_scheduled_disagree() {
        let task = TaskId::new();
        let state = trip(
            task,
            vec![
                claimed(task, "budget-1"),
                completed(task, json!(1)),
                ready(),
            ],
        );
        let stray = QueuedTask {
            task_id: TaskId::new(),
            ..row(&state, task, TaskStatus::Pending)
        };
        let out = queue_findings(
            &state,
            vec![row(&state, task, TaskStatus::Completed), stray.clone()],
            &[(task, json!(2))],
        );
        let tables: Vec<&str> = out.found.iter().map(|(t, _)| *t).collect();
        assert_eq!(tables, ["agent_results", "agent_tasks"], "{:?}", out.found);
        assert!(out.queue.contains(&QueueRepair::Remove {
            task_id: stray.task_id
        }));
    }

    #[test]
    fn only_a_trip_at_rest_for_the_quiet_period_is_audited() {
        let task = TaskId::new();
        let planning = trip(task, vec![]);
        let at = DateTime::<Utc>::UNIX_EPOCH;
        assert!(!is_quiet(&planning, at));
        let done = trip(task, vec![completed(task, json!(1)), ready()]);
        assert!(is_quiet(&done, at));
        assert!(!is_quiet(&done, at - chrono::Duration::seconds(1)));
    }
}
