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

pub(crate) use step::no_plan;
pub use step::{Inputs, RunError, run_task, step};

/// The kinds of agent, one per node of [`GRAPH`]. Stored (the log, the
/// queue, the registry) and shown by [`AgentType::as_str`]'s name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentType {
    Location,
    Planning,
    Transport,
    Accommodation,
    Dining,
    Activity,
    Tips,
    Budget,
    Verifier,
}

impl AgentType {
    /// Every agent type, in [`GRAPH`]'s order.
    pub const ALL: [AgentType; 9] = [
        AgentType::Location,
        AgentType::Planning,
        AgentType::Transport,
        AgentType::Accommodation,
        AgentType::Dining,
        AgentType::Activity,
        AgentType::Tips,
        AgentType::Budget,
        AgentType::Verifier,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AgentType::Location => "location",
            AgentType::Planning => "planning",
            AgentType::Transport => "transport",
            AgentType::Accommodation => "accommodation",
            AgentType::Dining => "dining",
            AgentType::Activity => "activity",
            AgentType::Tips => "tips",
            AgentType::Budget => "budget",
            AgentType::Verifier => "verifier",
        }
    }

    /// The agent type of a stored or given name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Its node of the graph.
    pub fn node(self) -> &'static NodeSpec {
        // GRAPH lists every type once, in `ALL`'s order (tested below).
        &GRAPH[self as usize]
    }
}

impl std::fmt::Display for AgentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of [`AgentType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown agent type {0:?}")]
pub struct UnknownAgent(pub String);

impl std::str::FromStr for AgentType {
    type Err = UnknownAgent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownAgent(s.to_string()))
    }
}

/// Task priority from the design's prioritisation matrix: P0 (critical path)
/// is claimed first, P3 (optional) may be skipped under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    P0,
    P1,
    P2,
    P3,
}

impl Priority {
    /// 0 for P0 … 3 for P3 (the stored form; lower is more urgent).
    pub fn rank(self) -> u8 {
        match self {
            Priority::P0 => 0,
            Priority::P1 => 1,
            Priority::P2 => 2,
            Priority::P3 => 3,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        match rank {
            0 => Some(Priority::P0),
            1 => Some(Priority::P1),
            2 => Some(Priority::P2),
            3 => Some(Priority::P3),
            _ => None,
        }
    }
}

/// One node of the task graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpec {
    pub agent_type: AgentType,
    pub priority: Priority,
    pub depends_on: &'static [AgentType],
    /// Whether the plan can do without it (skipped and flagged on failure).
    pub optional: bool,
}

const fn node(
    agent_type: AgentType,
    priority: Priority,
    depends_on: &'static [AgentType],
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
pub const GRAPH: [NodeSpec; 9] = {
    use AgentType::*;
    [
        node(Location, Priority::P2, &[], false),
        node(Planning, Priority::P0, &[Location], false),
        node(Transport, Priority::P0, &[Planning], false),
        node(Accommodation, Priority::P1, &[Planning], false),
        node(Dining, Priority::P2, &[Planning], true),
        node(Activity, Priority::P2, &[Planning], true),
        node(Tips, Priority::P3, &[Planning], true),
        node(
            Budget,
            Priority::P1,
            // planning too: the assembler searches the routes it proposed.
            &[Planning, Transport, Accommodation, Dining, Activity],
            false,
        ),
        node(Verifier, Priority::P0, &[Budget, Tips], false),
    ]
};

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
        assert_eq!(
            GRAPH.last().map(|n| n.agent_type),
            Some(AgentType::Verifier)
        );
    }

    #[test]
    fn only_the_dining_activity_and_tips_nodes_are_optional() {
        let optional: Vec<AgentType> = GRAPH
            .iter()
            .filter(|n| n.optional)
            .map(|n| n.agent_type)
            .collect();
        assert_eq!(
            optional,
            [AgentType::Dining, AgentType::Activity, AgentType::Tips]
        );
    }

    #[test]
    fn every_agent_type_has_its_node_and_its_name() {
        for agent in AgentType::ALL {
            assert_eq!(agent.node().agent_type, agent);
            assert_eq!(AgentType::parse(agent.as_str()), Some(agent));
            let json = serde_json::to_string(&agent).expect("serialises");
            assert_eq!(json, format!("\"{agent}\""));
        }
        assert_eq!(GRAPH.len(), AgentType::ALL.len());
        assert_eq!(AgentType::parse("weather"), None);
    }
}
