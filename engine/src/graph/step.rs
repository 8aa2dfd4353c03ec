//! One step of the graph: running one task from its dependencies' outputs.
//! Both executors call [`step`]; nothing else runs an agent of the graph.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::verdict::Verdict;

use super::{AgentType, GRAPH, PlanOutcome, TaskOutput, sorted};
use crate::agents::accommodation::AccommodationAgent;
use crate::agents::activity::{ActivityAgent, Routes};
use crate::agents::budget::BudgetAgent;
use crate::agents::dining::DiningAgent;
use crate::agents::location::{CityFacts, LocationAgent};
use crate::agents::planning::PlanningAgent;
use crate::agents::tips::TipsAgent;
use crate::agents::transport::TransportAgent;
use crate::agents::{Agent, AgentError, Candidate, LegKey, Skeleton, TripSpec};
use crate::assemble::Proposals;
use crate::catalog::Catalog;
use crate::verify::verify;

/// Why a task produced nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// The request cannot be planned (nothing in the catalog fits): the
    /// trip ends with this explanation.
    NoPlan(String),
}

/// The outputs a task reads: its dependencies', by agent type (a skipped
/// dependency is absent). Each is borrowed, or owned when the caller hands
/// it over: the in-process planner moves an output into its last reader,
/// so that the budget step takes the candidate lists without copying them.
#[derive(Debug, Default)]
pub struct Inputs<'a> {
    outputs: Vec<(AgentType, Cow<'a, TaskOutput>)>,
    /// The activity task's routes, when the location agent was asked for
    /// them over the hub (else they are computed in the step).
    routes: Option<Routes>,
}

impl<'a> Inputs<'a> {
    /// With the routes the location agent answered (the activity task).
    pub fn with_routes(mut self, routes: Routes) -> Self {
        self.routes = Some(routes);
        self
    }

    /// The cities the activity task routes, each with its listed
    /// attractions' positions: what to ask the location agent.
    pub fn activity_stops(&self, catalog: &dyn Catalog) -> Vec<(String, Vec<(f64, f64)>)> {
        wanted_cities(self.skeletons())
            .into_iter()
            .map(|city| {
                let stops = crate::agents::activity::stops(&ActivityAgent.listed(catalog, &city));
                (city, stops)
            })
            .collect()
    }

    /// The output of `agent_type`, if it ran.
    pub fn get(&self, agent_type: AgentType) -> Option<&TaskOutput> {
        self.outputs
            .iter()
            .find(|(a, _)| *a == agent_type)
            .map(|(_, o)| o.as_ref())
    }

    pub fn contains(&self, agent_type: AgentType) -> bool {
        self.get(agent_type).is_some()
    }

    /// The output of `agent_type` to keep: moved when owned, else copied.
    fn take(&mut self, agent_type: AgentType) -> Option<TaskOutput> {
        let at = self.outputs.iter().position(|(a, _)| *a == agent_type)?;
        Some(self.outputs.swap_remove(at).1.into_owned())
    }

    /// The routes the planning agent proposed (none when it did not run).
    fn skeletons(&self) -> &[Candidate<Skeleton>] {
        match self.get(AgentType::Planning) {
            Some(TaskOutput::Planning(s)) => s,
            _ => &[],
        }
    }
}

impl<'a> FromIterator<(AgentType, Cow<'a, TaskOutput>)> for Inputs<'a> {
    fn from_iter<I: IntoIterator<Item = (AgentType, Cow<'a, TaskOutput>)>>(iter: I) -> Self {
        Self {
            outputs: iter.into_iter().collect(),
            routes: None,
        }
    }
}

/// The runtime's form: the outputs its log holds, shared, by agent type.
impl<'a> From<&'a BTreeMap<AgentType, Arc<TaskOutput>>> for Inputs<'a> {
    fn from(deps: &'a BTreeMap<AgentType, Arc<TaskOutput>>) -> Self {
        deps.iter()
            .map(|(a, o)| (*a, Cow::Borrowed(&**o)))
            .collect()
    }
}

/// Runs the task of `agent_type` for `trip` (read from `intent`) on its
/// dependencies' outputs. `edited` replaces the budget's plans as the
/// verifier's input (a modification that edits the plan in place).
///
/// The four parallel agents answer "nothing fits" with an empty proposal
/// and leave the decision to the assembler; location, planning and budget
/// answer it with [`RunError::NoPlan`], which ends the trip.
#[tracing::instrument(skip_all, fields(agent.type = %agent_type))]
pub fn step<'a>(
    agent_type: AgentType,
    trip: &TripSpec,
    intent: &TripIntent,
    inputs: impl Into<Inputs<'a>>,
    catalog: &dyn Catalog,
    edited: Option<&Itinerary>,
) -> Result<TaskOutput, RunError> {
    let mut inputs = inputs.into();
    let no_plan = |AgentError::NoCandidates(why)| RunError::NoPlan(why);
    Ok(match agent_type {
        AgentType::Location => TaskOutput::Location(sorted(
            LocationAgent.run(trip, catalog, &()).map_err(no_plan)?,
        )),
        AgentType::Planning => {
            let facts: HashMap<String, CityFacts> = match inputs.take(AgentType::Location) {
                Some(TaskOutput::Location(f)) => f.into_iter().collect(),
                _ => HashMap::new(),
            };
            TaskOutput::Planning(PlanningAgent.run(trip, catalog, &facts).map_err(no_plan)?)
        }
        AgentType::Transport => {
            let legs = wanted_legs(trip, inputs.skeletons());
            TaskOutput::Transport(sorted(
                TransportAgent.run(trip, catalog, &legs).unwrap_or_default(),
            ))
        }
        AgentType::Accommodation => {
            let stays = wanted_stays(inputs.skeletons());
            TaskOutput::Accommodation(sorted(
                AccommodationAgent
                    .run(trip, catalog, &stays)
                    .unwrap_or_default(),
            ))
        }
        AgentType::Dining => {
            let cities = wanted_cities(inputs.skeletons());
            TaskOutput::Dining(sorted(
                DiningAgent.run(trip, catalog, &cities).unwrap_or_default(),
            ))
        }
        AgentType::Activity => {
            let cities = wanted_cities(inputs.skeletons());
            TaskOutput::Activity(sorted(ActivityAgent.run_routed(
                trip,
                catalog,
                &cities,
                inputs.routes.as_ref(),
            )))
        }
        AgentType::Tips => {
            let cities = wanted_cities(inputs.skeletons());
            TaskOutput::Tips(TipsAgent.run(trip, catalog, &cities).unwrap_or_default())
        }
        AgentType::Budget => TaskOutput::Budget(
            BudgetAgent
                .run(trip, catalog, &proposals(trip, catalog, inputs))
                .map_err(no_plan)?,
        ),
        AgentType::Verifier => {
            let plans = match edited {
                Some(plan) => vec![plan.clone()],
                None => match inputs.take(AgentType::Budget) {
                    Some(TaskOutput::Budget(plans)) => plans,
                    _ => Vec::new(),
                },
            };
            TaskOutput::Verifier(Box::new(choose(trip, catalog, intent.clone(), plans)))
        }
    })
}

/// [`step`] as the runtime calls it: the trip read from `intent`, planned
/// by the default objective.
pub fn run_task<'a>(
    agent_type: AgentType,
    intent: &TripIntent,
    deps: impl Into<Inputs<'a>>,
    catalog: &dyn Catalog,
    edited: Option<&Itinerary>,
) -> Result<TaskOutput, RunError> {
    let trip = TripSpec::from_intent(intent).map_err(|e| RunError::NoPlan(e.to_string()))?;
    step(agent_type, &trip, intent, deps, catalog, edited)
}

/// The budget agent's input: every proposal of its dependencies (moved out
/// of `inputs` when they are owned).
fn proposals(trip: &TripSpec, catalog: &dyn Catalog, mut inputs: Inputs<'_>) -> Proposals {
    // Degraded mode: a dropped optional agent's proposals are made here
    // from the catalog, in their plainest form (restaurants by price,
    // attractions unrouted), so that the plan stays complete; the runtime
    // lists the drop.
    let (no_dining, no_activity) = (
        !inputs.contains(AgentType::Dining),
        !inputs.contains(AgentType::Activity),
    );
    let mut proposals = Proposals::default();
    if no_dining || no_activity {
        for city in wanted_cities(inputs.skeletons()) {
            if no_dining {
                let meals = DiningAgent.options(trip, catalog, &city);
                proposals.meals.insert(city.clone(), meals);
            }
            if no_activity {
                let listed = ActivityAgent.listed(catalog, &city);
                proposals.activities.insert(city, listed);
            }
        }
    }
    for agent_type in GRAPH.iter().map(|n| n.agent_type) {
        match inputs.take(agent_type) {
            Some(TaskOutput::Planning(s)) => proposals.skeletons = s,
            Some(TaskOutput::Transport(v)) => proposals.legs = v.into_iter().collect(),
            Some(TaskOutput::Accommodation(v)) => proposals.stays = v.into_iter().collect(),
            Some(TaskOutput::Dining(v)) => proposals.meals = v.into_iter().collect(),
            Some(TaskOutput::Activity(v)) => proposals.activities = v.into_iter().collect(),
            _ => {}
        }
    }
    proposals
}

/// The legs the transport agent is asked for: every leg of every route.
fn wanted_legs(trip: &TripSpec, skeletons: &[Candidate<Skeleton>]) -> Vec<LegKey> {
    let mut legs = BTreeSet::new();
    for s in skeletons {
        legs.extend(s.item.legs(&trip.origin, &trip.dates));
    }
    legs.into_iter().collect()
}

/// The stays the accommodation agent is asked for: each city of a route
/// with its number of nights there.
fn wanted_stays(skeletons: &[Candidate<Skeleton>]) -> Vec<(String, u32)> {
    let mut stays = BTreeSet::new();
    for s in skeletons {
        stays.extend(
            s.item
                .cities
                .iter()
                .map(String::as_str)
                .zip(s.item.nights.iter().copied()),
        );
    }
    stays.into_iter().map(|(c, n)| (c.to_owned(), n)).collect()
}

/// The cities the dining, activity and tips agents are asked about.
fn wanted_cities(skeletons: &[Candidate<Skeleton>]) -> Vec<String> {
    let mut cities = BTreeSet::new();
    for s in skeletons {
        // Zipped with the nights as the stays are: a city without a stay
        // is not one the trip spends time in.
        let stayed = s.item.cities.iter().zip(&s.item.nights);
        cities.extend(stayed.map(|(c, _)| c.as_str()));
    }
    cities.into_iter().map(str::to_owned).collect()
}

/// No plan, and why.
pub(crate) fn no_plan(intent: TripIntent, explanation: String) -> PlanOutcome {
    PlanOutcome {
        intent,
        itinerary: None,
        verdict: Verdict::default(),
        explanation,
    }
}

/// Verifies the assembled plans in order; the first accepted one wins.
fn choose(
    trip: &TripSpec,
    catalog: &dyn Catalog,
    intent: TripIntent,
    plans: Vec<Itinerary>,
) -> PlanOutcome {
    let mut rejected: Option<Verdict> = None;
    for mut plan in plans {
        let verdict = verify(&plan, trip, catalog);
        if verdict.passed() {
            plan.verdict = verdict.clone();
            let explanation = format!(
                "{} days, {} — ${:.0} of {}; {}; {}",
                plan.days.len(),
                plan.visited_cities().join(" → "),
                plan.totals.total,
                trip.budget
                    .map_or("no budget".into(), |b| format!("${b:.0}")),
                verdict.summary(),
                crate::assemble::utility::budget_note(trip, &plan, catalog)
            );
            return PlanOutcome {
                intent,
                itinerary: Some(plan),
                verdict,
                explanation,
            };
        }
        rejected.get_or_insert(verdict);
    }
    let verdict = rejected.unwrap_or_default();
    let why: Vec<String> = verdict
        .failures()
        .map(|c| format!("{}: {}", c.name, c.message))
        .collect();
    PlanOutcome {
        intent,
        itinerary: None,
        explanation: format!(
            "every assembled plan failed verification ({})",
            why.join("; ")
        ),
        verdict,
    }
}
