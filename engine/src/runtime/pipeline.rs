//! The task graph as the runtime schedules it: one queued task per node of
//! [`GRAPH`], each run by the graph's step ([`run_task`]) when its
//! dependencies are done. The graph, the step and the task outputs live in
//! [`crate::graph`], shared with the in-process planner; they are
//! re-exported here under the names the runtime uses.

use std::collections::HashMap;

pub use crate::graph::{GRAPH, NodeSpec, RunError, StayKey, TaskOutput, run_task};
use crate::state::{AgentType, Command, TaskId};

/// The `ScheduleTask` commands of a fresh trip: one per node of [`GRAPH`],
/// each with new task ids and its dependencies' ids.
pub fn schedule_commands() -> Vec<Command> {
    let mut ids: HashMap<AgentType, TaskId> = HashMap::new();
    GRAPH
        .iter()
        .map(|node| {
            let task_id = TaskId::new();
            ids.insert(node.agent_type, task_id);
            Command::ScheduleTask {
                task_id,
                agent_type: node.agent_type,
                priority: node.priority,
                depends_on: node.depends_on.iter().map(|d| ids[d]).collect(),
            }
        })
        .collect()
}
