//! The trip's task graph as the runtime schedules it, the typed output of
//! each agent task (what is persisted in `agent_results` and in the
//! `TaskCompleted` event), and running one task from its inputs.
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
//! skipped: its dependents run without it and the trip lists it under
//! `degraded`. The budget agent then makes a dropped dining or activity
//! proposal itself from the catalog (restaurants by price, attractions in
//! catalog order, not routed), so that the plan stays complete. A
//! required task that fails for good fails the trip.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use wayfare_domain::catalog::{Attraction, Restaurant};
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;

use crate::agents::accommodation::{AccommodationAgent, StayOption};
use crate::agents::activity::ActivityAgent;
use crate::agents::budget::BudgetAgent;
use crate::agents::dining::DiningAgent;
use crate::agents::location::{CityFacts, LocationAgent};
use crate::agents::planning::PlanningAgent;
use crate::agents::tips::TipsAgent;
use crate::agents::transport::{LegOption, TransportAgent};
use crate::agents::{Agent, AgentError, Candidate, LegKey, Skeleton, TripSpec};
use crate::assemble::Proposals;
use crate::catalog::Catalog;
use crate::orchestrator::{PlanOutcome, choose, wanted};
use crate::state::{Command, Priority, TaskId};

/// One node of the runtime's task graph.
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
/// as sorted pairs so that they serialise to JSON.
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

fn sorted<K: Ord, V>(map: HashMap<K, V>) -> Vec<(K, V)> {
    let mut pairs: Vec<(K, V)> = map.into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
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

/// Why a task produced nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// The request cannot be planned (nothing in the catalog fits): the
    /// trip ends with this explanation, as `Planner::plan_blocking` does.
    NoPlan(String),
}

/// Runs `agent_type` for `intent` on the outputs of its dependencies (keyed
/// by agent type; a skipped dependency is absent). `edited` replaces the
/// budget's plans as the verifier's input (a modification that edits the
/// plan in place). Mirrors `Planner::plan_intent_blocking` step by step, so
/// that both produce the same plan.
pub fn run_task(
    agent_type: &str,
    intent: &TripIntent,
    deps: &BTreeMap<String, TaskOutput>,
    catalog: &dyn Catalog,
    edited: Option<&Itinerary>,
) -> Result<TaskOutput, RunError> {
    let trip = TripSpec::from_intent(intent).map_err(|e| RunError::NoPlan(e.to_string()))?;
    let no_plan = |AgentError::NoCandidates(why)| RunError::NoPlan(why);
    let skeletons = || match deps.get("planning") {
        Some(TaskOutput::Planning(s)) => s.clone(),
        _ => Vec::new(),
    };
    Ok(match agent_type {
        "location" => TaskOutput::Location(sorted(
            LocationAgent.run(&trip, catalog, &()).map_err(no_plan)?,
        )),
        "planning" => {
            let facts: HashMap<String, CityFacts> = match deps.get("location") {
                Some(TaskOutput::Location(f)) => f.iter().cloned().collect(),
                _ => HashMap::new(),
            };
            TaskOutput::Planning(PlanningAgent.run(&trip, catalog, &facts).map_err(no_plan)?)
        }
        // The four parallel agents: "nothing fits" is an empty proposal,
        // as in the planner (`unwrap_or_default`); the assembler decides.
        "transport" => {
            let w = wanted(&trip, &skeletons());
            TaskOutput::Transport(sorted(
                TransportAgent
                    .run(&trip, catalog, &w.legs)
                    .unwrap_or_default(),
            ))
        }
        "accommodation" => {
            let w = wanted(&trip, &skeletons());
            TaskOutput::Accommodation(sorted(
                AccommodationAgent
                    .run(&trip, catalog, &w.stays)
                    .unwrap_or_default(),
            ))
        }
        "dining" => {
            let w = wanted(&trip, &skeletons());
            TaskOutput::Dining(sorted(
                DiningAgent
                    .run(&trip, catalog, &w.cities)
                    .unwrap_or_default(),
            ))
        }
        "activity" => {
            let w = wanted(&trip, &skeletons());
            TaskOutput::Activity(sorted(
                ActivityAgent
                    .run(&trip, catalog, &w.cities)
                    .unwrap_or_default(),
            ))
        }
        "tips" => {
            let w = wanted(&trip, &skeletons());
            TaskOutput::Tips(TipsAgent.run(&trip, catalog, &w.cities).unwrap_or_default())
        }
        "budget" => {
            let mut proposals = Proposals {
                skeletons: skeletons(),
                ..Proposals::default()
            };
            for output in deps.values() {
                match output {
                    TaskOutput::Transport(v) => proposals.legs = v.iter().cloned().collect(),
                    TaskOutput::Accommodation(v) => proposals.stays = v.iter().cloned().collect(),
                    TaskOutput::Dining(v) => proposals.meals = v.iter().cloned().collect(),
                    TaskOutput::Activity(v) => proposals.activities = v.iter().cloned().collect(),
                    _ => {}
                }
            }
            // Degraded mode: a dropped optional agent's proposals are made
            // here from the catalog, in their plainest form (restaurants
            // by price, attractions unrouted), so that the plan stays
            // complete; the trip lists the drop.
            let (no_dining, no_activity) =
                (!deps.contains_key("dining"), !deps.contains_key("activity"));
            if no_dining || no_activity {
                let w = wanted(&trip, &proposals.skeletons);
                for city in &w.cities {
                    if no_dining {
                        let meals = DiningAgent.options(&trip, catalog, city);
                        proposals.meals.insert(city.clone(), meals);
                    }
                    if no_activity {
                        let listed = ActivityAgent.listed(catalog, city);
                        proposals.activities.insert(city.clone(), listed);
                    }
                }
            }
            TaskOutput::Budget(
                BudgetAgent
                    .run(&trip, catalog, &proposals)
                    .map_err(no_plan)?,
            )
        }
        "verifier" => {
            let plans = match (edited, deps.get("budget")) {
                (Some(plan), _) => vec![plan.clone()],
                (None, Some(TaskOutput::Budget(plans))) => plans.clone(),
                _ => Vec::new(),
            };
            TaskOutput::Verifier(Box::new(choose(&trip, catalog, intent.clone(), plans)))
        }
        other => return Err(RunError::NoPlan(format!("unknown agent type {other}"))),
    })
}

/// The `ScheduleTask` commands of a fresh trip: one per node of [`GRAPH`],
/// each with new task ids and its dependencies' ids.
pub fn schedule_commands() -> Vec<Command> {
    let mut ids: HashMap<&str, TaskId> = HashMap::new();
    GRAPH
        .iter()
        .map(|node| {
            let task_id = TaskId::new();
            ids.insert(node.agent_type, task_id);
            Command::ScheduleTask {
                task_id,
                agent_type: node.agent_type.to_string(),
                priority: node.priority,
                depends_on: node.depends_on.iter().map(|d| ids[d]).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalog::MemoryCatalog;
    use crate::catalog::demo::demo_catalog;
    use crate::orchestrator::Planner;

    #[test]
    fn every_output_survives_a_json_round_trip_and_the_chain_matches_the_planner() {
        let catalog: Arc<dyn Catalog> = Arc::new(MemoryCatalog::new(demo_catalog().unwrap()));
        let planner = Planner::new(catalog.clone());
        let query = "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";
        let intent = planner.parse(query);
        let mut outputs: BTreeMap<String, TaskOutput> = BTreeMap::new();
        for node in GRAPH {
            let deps: BTreeMap<String, TaskOutput> = node
                .depends_on
                .iter()
                .filter_map(|d| outputs.get(*d).map(|o| (d.to_string(), o.clone())))
                .collect();
            let out = run_task(node.agent_type, &intent, &deps, catalog.as_ref(), None)
                .unwrap_or_else(|e| panic!("{}: {e:?}", node.agent_type));
            let json = serde_json::to_value(&out).unwrap();
            let back: TaskOutput = serde_json::from_value(json)
                .unwrap_or_else(|e| panic!("{} does not round-trip: {e}", node.agent_type));
            assert_eq!(back, out, "{}", node.agent_type);
            outputs.insert(node.agent_type.to_string(), back);
        }
        let Some(TaskOutput::Verifier(outcome)) = outputs.get("verifier") else {
            panic!("no verdict");
        };
        assert_eq!(outcome.itinerary, planner.plan_blocking(query).itinerary);
    }
}
