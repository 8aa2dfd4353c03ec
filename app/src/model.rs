//! What the server functions hand the pages: plain serde types, built on
//! the server from the runtime's views and decoded in the browser.

use serde::{Deserialize, Serialize};
use wayfare_domain::trip::{TaskView, TripStatus, TripView};

/// An agent type in words ("accommodation" → "Stays").
pub fn agent_name(agent: &str) -> &str {
    match agent {
        "location" => "Location",
        "planning" => "Route planning",
        "transport" => "Transport",
        "accommodation" => "Stays",
        "dining" => "Dining",
        "activity" => "Activities",
        "tips" => "Tips",
        "budget" => "Budget",
        "verifier" => "Verifier",
        other => other,
    }
}

/// A trip's status in words.
pub fn status_label(status: TripStatus) -> &'static str {
    match status {
        TripStatus::Planning => "Planning",
        TripStatus::NeedsInput => "Needs your input",
        TripStatus::Ready => "Ready",
        TripStatus::Failed => "No plan",
        TripStatus::Cancelled => "Cancelled",
    }
}

/// Everything the trip page shows: the trip, its agent tasks, where its
/// event log stands, and what this browser may do with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripDetails {
    pub trip: TripView,
    pub tasks: Vec<TaskView>,
    /// 0..=1
    pub progress: f64,
    /// The timeline so far (the events up to `trip.version`).
    pub timeline: Vec<TimelineEntry>,
    /// Whether this browser may change, cancel, delete and rate the trip
    /// (it made it, or nobody owns it: a trip made over the REST API).
    pub can_edit: bool,
    /// The stars this trip was given, if any.
    pub rating: Option<u8>,
}

/// What happened to one agent task, or to the trip, as one line of the
/// live timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The event-log sequence number: the page keeps the highest it saw and
    /// reconnects from there, dropping anything at or below it.
    pub seq: u64,
    /// "14:03:07.412" (UTC).
    pub at: String,
    pub kind: TimelineKind,
    pub agent_type: Option<String>,
    pub task_id: Option<String>,
    pub priority: Option<String>,
    pub instance: Option<String>,
    pub attempt: Option<u32>,
    pub elapsed_ms: Option<u64>,
    /// One sentence a person can read.
    pub text: String,
    /// 0..=1, when the event moved it.
    pub progress: Option<f64>,
}

/// The kind of a timeline line; the page draws each with its own mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Started,
    Understood,
    Scheduled,
    Running,
    Completed,
    Failed,
    Skipped,
    Ready,
    PlanFailed,
    Changed,
    RolledBack,
    Cancelled,
    NeedsInput,
    /// An operator's manual intervention (retry, skip, check again,
    /// resume); one that fails the trip is a `PlanFailed`.
    Intervened,
}

impl TimelineKind {
    /// Whether nothing more will happen on its own after this event.
    pub fn ends_planning(self) -> bool {
        matches!(
            self,
            TimelineKind::Ready
                | TimelineKind::PlanFailed
                | TimelineKind::Cancelled
                | TimelineKind::NeedsInput
                | TimelineKind::Changed
                | TimelineKind::RolledBack
        )
    }
}

/// One line of "My trips".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripSummary {
    pub trip_id: String,
    pub status: TripStatus,
    /// "Seattle → Denver", or the request's first words.
    pub title: String,
    /// "Fri 5 Mar 2027 · 3 days", when known.
    pub when: Option<String>,
    pub travellers: Option<u32>,
    pub total: Option<f64>,
    pub budget: Option<f64>,
}

/// The agents page: the registry and the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentsReport {
    pub agents: Vec<AgentRow>,
    pub queue_depth: u64,
    pub trips_planning: u64,
    pub trips_waiting: u64,
    pub trips_ready: u64,
    pub trips_failed: u64,
    pub task_retries: u64,
    pub task_failovers: u64,
    /// When the figures were read (ms since the epoch, server clock): the
    /// page turns two samples into plans per second.
    pub sampled_at_ms: i64,
    pub ratings: u64,
    pub satisfaction: Option<f64>,
}

/// One agent instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    pub agent_id: String,
    pub agent_type: String,
    pub status: String,
    pub load: u32,
    pub capacity: u32,
    pub avg_ms: f64,
    /// 0..=1, `None` before its first call.
    pub success_rate: Option<f64>,
    pub calls: u64,
    pub breaker: String,
    pub cost_per_request: f64,
}

/// The operator's dashboard (`/dashboard`): the design document's
/// orchestrator health against its targets, each agent type, the last
/// hour's charts, the alerts and the trips that need a look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardReport {
    /// When the figures were read (ms since the epoch, server clock).
    pub sampled_at_ms: i64,
    /// How many minutes of history the figures cover (up to 60).
    pub covered_minutes: u32,
    pub trips_submitted: u64,
    pub trips_planning: u64,
    pub targets: Vec<HealthTarget>,
    pub agents: Vec<AgentTypeHealth>,
    pub charts: Vec<HealthChart>,
    /// Firing now, critical first.
    pub alerts: Vec<AlertLine>,
    pub attention: Vec<TripNeedingAttention>,
}

/// One of the design document's targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthTarget {
    /// `latency`, `success`, `consistency`, `satisfaction`, `cost`.
    pub key: String,
    pub label: String,
    /// The figure, `None` while there is nothing to measure (no plan yet,
    /// no rating, no audit).
    pub value: Option<f64>,
    /// The figure in words ("1.2 s", "98%"), or why there is none.
    pub shown: String,
    /// The target in words ("under 5 s").
    pub target: String,
    /// A line under the figure ("p50 0.4 s · 12 plans").
    pub detail: String,
    /// On target, off target, or `None` without a figure.
    pub on_target: Option<bool>,
}

/// One agent type over the covered window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTypeHealth {
    pub agent_type: String,
    pub instances: u32,
    pub min_instances: u32,
    pub max_instances: u32,
    /// Tasks running and the slots of the online instances.
    pub busy: u32,
    pub capacity: u32,
    pub calls: u64,
    /// This type's share of every agent call (load distribution).
    pub share_of_calls: f64,
    pub success_rate: Option<f64>,
    pub avg_ms: Option<f64>,
    /// Nominal cost of its calls in the window.
    pub cost: f64,
    /// closed | open | half_open
    pub breaker: String,
}

/// A small chart of the last hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthChart {
    pub key: String,
    pub title: String,
    /// Oldest first, evenly spaced; `None` where there was nothing to
    /// measure.
    pub points: Vec<Option<f64>>,
    /// Drawn as a dashed line when set.
    pub target: Option<f64>,
    /// The latest value in words.
    pub latest: String,
    /// Minutes the points span.
    pub span_minutes: u32,
}

/// An alert firing now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertLine {
    /// critical | warning | info
    pub level: String,
    pub name: String,
    pub subject: Option<String>,
    pub summary: String,
    pub since_ms: i64,
}

/// A trip that failed or has planned too long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TripNeedingAttention {
    /// Empty for a trip the reader did not make: a trip's link is what
    /// lets one read it, and the dashboard is open to every visitor.
    pub trip_id: String,
    /// failed | slow
    pub reason: String,
    pub since_ms: i64,
    /// The request as written.
    pub query: String,
    /// Why it failed (empty for a slow one, or one not the reader's).
    pub detail: String,
    /// The reader made it (in this browser): its link, request and
    /// failure are shown; another's trip only as a count's line.
    pub yours: bool,
}
