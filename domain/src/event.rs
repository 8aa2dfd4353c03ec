//! What the orchestrator reports while it plans: [`PlanningEvent`].

use serde::{Deserialize, Serialize};

/// One step of planning, streamed to whoever watches (CLI progress, web UI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanningEvent {
    /// The task graph is built; `tasks` are their ids in dependency order.
    PlanningStarted {
        tasks: Vec<String>,
    },
    TaskStarted {
        task_id: String,
        agent: String,
    },
    TaskCompleted {
        task_id: String,
        agent: String,
        elapsed_ms: u64,
        summary: String,
    },
    TaskFailed {
        task_id: String,
        agent: String,
        error: String,
    },
    Progress {
        done: u32,
        total: u32,
    },
    PlanReady {
        verdict: String,
        total_cost: f64,
    },
    PlanFailed {
        reason: String,
    },
}
