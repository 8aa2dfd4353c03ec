//! The trip's task graph — the one both executors drive — and the typed
//! output of each of its tasks.
//!
//! Two executors walk [`GRAPH`] and run each task with [`step`]: the
//! in-process planner (`Planner::plan_intent_blocking`: CLI `plan`, `eval`,
//! benchmarks), in order on the calling thread; and the durable runtime
//! (`runtime`), which schedules one queued task per node, persists every
//! output (`agent_results`, the `TaskCompleted` event) and re-runs tasks
//! through the same step when a trip is modified. Sharing the graph and the
//! step is what makes both plan the same trip the same way.
//!
//! Priorities and dependencies (the design's prioritisation matrix):
//!
//! | task          | priority | depends on                                  | optional |
//! |---------------|----------|---------------------------------------------|----------|
//! | location      | P2       | —                                           | no       |
//! | planning      | P0       | location                                    | no       |
//! | transport     | P0       | planning                                    | no       |
//! | accommodation | P1       | planning                                    | no       |
//! | dining        | P2       | planning                                    | yes      |
//! | activity      | P2       | planning                                    | yes      |
//! | tips          | P3       | planning                                    | yes      |
//! | budget        | P1       | planning, transport, accommodation, dining, activity | no |
//! | verifier      | P0       | budget, tips                                | no       |
//!
//! An optional task that fails for good (or whose circuit is open) is
//! skipped: its dependents run without it (and the runtime lists it under
//! `degraded`). The budget agent then makes a dropped dining or activity
//! proposal itself from the catalog (restaurants by price, attractions in
//! catalog order, not routed), so that the plan stays complete. A
//! required task that fails for good fails the trip.

mod step;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use wayfare_domain::catalog::{Attraction, Restaurant};
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::verdict::Verdict;

use crate::agents::accommodation::StayOption;
use crate::agents::location::CityFacts;
use crate::agents::transport::LegOption;
use crate::agents::{Candidate, LegKey, Skeleton};
use crate::state::Priority;

pub(crate) use step::no_plan;
pub use step::{Inputs, RunError, run_task, step};

/// One node of the task graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpec {
    pub agent_type: &'static str,
    pub priority: Priority,
    pub depends_on: &'static [&'static str],
    /// Whether the plan can do without it (skipped and flagged on failure).
    pub optional: bool,
}

const fn node(
    agent_type: &'static str,
    priority: Priority,
    depends_on: &'static [&'static str],
    optional: bool,
) -> NodeSpec {
    NodeSpec {
        agent_type,
        priority,
        depends_on,
        optional,
    }
}

/// The graph, in a valid execution order (dependencies first).
pub const GRAPH: [NodeSpec; 9] = [
    node("location", Priority::P2, &[], false),
    node("planning", Priority::P0, &["location"], false),
    node("transport", Priority::P0, &["planning"], false),
    node("accommodation", Priority::P1, &["planning"], false),
    node("dining", Priority::P2, &["planning"], true),
    node("activity", Priority::P2, &["planning"], true),
    node("tips", Priority::P3, &["planning"], true),
    node(
        "budget",
        Priority::P1,
        // planning too: the assembler searches the routes it proposed.
        &[
            "planning",
            "transport",
            "accommodation",
            "dining",
            "activity",
        ],
        false,
    ),
    node("verifier", Priority::P0, &["budget", "tips"], false),
];

/// The node of an agent type.
pub fn node_of(agent_type: &str) -> Option<&'static NodeSpec> {
    GRAPH.iter().find(|n| n.agent_type == agent_type)
}

/// A city and a number of nights.
pub type StayKey = (String, u32);

/// What one agent task produced. Maps keyed by tuples or structs are kept
/// as sorted pairs so that they serialise to JSON. Stored in databases:
/// its serde form must not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output", content = "value", rename_all = "snake_case")]
pub enum TaskOutput {
    Location(Vec<(String, CityFacts)>),
    Planning(Vec<Candidate<Skeleton>>),
    Transport(Vec<(LegKey, Vec<Candidate<LegOption>>)>),
    Accommodation(Vec<(StayKey, Vec<Candidate<StayOption>>)>),
    Dining(Vec<(String, Vec<Candidate<Restaurant>>)>),
    Activity(Vec<(String, Vec<Attraction>)>),
    Tips(Vec<String>),
    Budget(Vec<Itinerary>),
    Verifier(Box<PlanOutcome>),
}

/// A map's pairs by key: the stored form is the same for the same map
/// (the runtime's agent cache hashes it).
pub(crate) fn sorted<K: Ord, V>(map: HashMap<K, V>) -> Vec<(K, V)> {
    let mut pairs: Vec<(K, V)> = map.into_iter().collect();
    // A map's keys are distinct: an unstable sort gives the same order.
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    pairs
}

impl TaskOutput {
    /// A one-line summary for progress events.
    pub fn summary(&self) -> String {
        match self {
            TaskOutput::Location(v) => format!("{} candidate cities", v.len()),
            TaskOutput::Planning(v) => format!(
                "{} routes; best: {}",
                v.len(),
                v.first().map_or(String::new(), |c| c.reason.clone())
            ),
            TaskOutput::Transport(v) => format!("{} legs can be travelled", v.len()),
            TaskOutput::Accommodation(v) => {
                format!(
                    "{} stays fit",
                    v.iter().map(|(_, c)| c.len()).sum::<usize>()
                )
            }
            TaskOutput::Dining(v) => {
                format!(
                    "{} restaurants",
                    v.iter().map(|(_, c)| c.len()).sum::<usize>()
                )
            }
            TaskOutput::Activity(v) => format!(
                "{} attractions routed",
                v.iter().map(|(_, c)| c.len()).sum::<usize>()
            ),
            TaskOutput::Tips(v) => format!("{} tips", v.len()),
            TaskOutput::Budget(v) => format!("{} plans within budget", v.len()),
            TaskOutput::Verifier(o) => o.verdict.summary(),
        }
    }
}

/// What planning produced: the verifier's output, and the in-process
/// planner's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOutcome {
    pub intent: TripIntent,
    /// The plan, when one meets every check.
    pub itinerary: Option<Itinerary>,
    /// The verdict of the plan returned, or of the best rejected one.
    pub verdict: Verdict,
    /// Why there is no plan and what would fix it, or a one-line summary.
    pub explanation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_comes_after_its_dependencies() {
        for (at, node) in GRAPH.iter().enumerate() {
            for dep in node.depends_on {
                let before = GRAPH[..at].iter().any(|n| n.agent_type == *dep);
                assert!(
                    before,
                    "{} depends on {dep}, not before it",
                    node.agent_type
                );
            }
        }
        assert_eq!(GRAPH.last().map(|n| n.agent_type), Some("verifier"));
    }

    #[test]
    fn only_the_dining_activity_and_tips_nodes_are_optional() {
        let optional: Vec<&str> = GRAPH
            .iter()
            .filter(|n| n.optional)
            .map(|n| n.agent_type)
            .collect();
        assert_eq!(optional, ["dining", "activity", "tips"]);
    }
}
