//! The in-process planner: from request text to a verified plan on the
//! calling thread.
//!
//! [`Planner`] parses the request, then walks the task graph
//! ([`crate::graph::GRAPH`]: location → planning → transport ∥
//! accommodation ∥ dining ∥ activity ∥ tips → budget → verifier) in order,
//! running each node with the graph's one step ([`crate::graph::step`]) on
//! its dependencies' outputs — the step the durable runtime runs per queued
//! task, so both plan a trip the same way. It is what the CLI (`plan`,
//! `eval`), the load generator's query filter and the benchmarks use; the
//! web pages and the REST API use the runtime. Also here: [`run_batch`],
//! [`render_text`], [`submission`].

pub mod render;

use std::borrow::Cow;
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use wayfare_domain::intent::TripIntent;

use crate::agents::{Objective, TripSpec};
use crate::catalog::Catalog;
use crate::graph::{AgentType, GRAPH, Inputs, NodeSpec, RunError, TaskOutput, no_plan, step};
use crate::parse::Gazetteer;
use crate::travelplanner_format::to_submission;

pub use crate::graph::PlanOutcome;
pub use render::render_text;

/// A planner bound to a catalog; reuse it across requests.
#[derive(Clone)]
pub struct Planner {
    catalog: Arc<dyn Catalog>,
    gazetteer: Arc<Gazetteer>,
    /// The day dates are read from ([`Planner::with_today`]), if any.
    today: Option<chrono::NaiveDate>,
    objective: Objective,
}

impl Planner {
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        let gazetteer = Arc::new(Gazetteer::new(catalog.as_ref()));
        Self {
            catalog,
            gazetteer,
            today: None,
            objective: Objective::default(),
        }
    }

    /// Chooses among valid plans by `objective` (default: utility).
    pub fn with_objective(mut self, objective: Objective) -> Self {
        self.objective = objective;
        self
    }

    /// Uses `year` for dates written without one (the TravelPlanner queries all say 2022).
    pub fn with_default_year(mut self, year: i32) -> Self {
        self.gazetteer = Arc::new((*self.gazetteer).clone().with_default_year(year));
        self.today = None;
        self
    }

    /// Dates written without a year are taken to be the next ones on or
    /// after `today`.
    pub fn with_today(mut self, today: chrono::NaiveDate) -> Self {
        self.gazetteer = Arc::new((*self.gazetteer).clone().with_today(today));
        self.today = Some(today);
        self
    }

    /// The day dates are read from, when the planner was made
    /// [`Planner::with_today`]; a long-running caller makes a new planner
    /// when the day turns.
    pub fn today(&self) -> Option<chrono::NaiveDate> {
        self.today
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    /// Parses a request without planning it.
    pub fn parse(&self, text: &str) -> TripIntent {
        self.gazetteer.parse(text)
    }

    /// Plans a request, step by step on the calling thread.
    pub fn plan_blocking(&self, text: &str) -> PlanOutcome {
        self.plan_intent_blocking(self.parse(text))
    }

    /// Plans an already parsed (or edited) intent on the calling thread:
    /// every node of the graph in order, each on its dependencies' outputs.
    /// A required node that finds nothing ends planning with its reason; an
    /// optional one that fails is skipped, as the runtime skips it.
    pub fn plan_intent_blocking(&self, intent: TripIntent) -> PlanOutcome {
        self.execute(intent, |node, trip, intent, inputs| {
            step(
                node.agent_type,
                trip,
                intent,
                inputs,
                self.catalog.as_ref(),
                None,
            )
        })
    }

    /// The executor, over any step (tests make one fail).
    fn execute(
        &self,
        intent: TripIntent,
        mut run: impl FnMut(
            &NodeSpec,
            &TripSpec,
            &TripIntent,
            Inputs<'_>,
        ) -> Result<TaskOutput, RunError>,
    ) -> PlanOutcome {
        let trip = match TripSpec::from_intent(&intent) {
            Ok(t) => TripSpec {
                objective: self.objective,
                ..t
            },
            Err(e) => return no_plan(intent, e.to_string()),
        };
        let mut outputs: [Option<TaskOutput>; GRAPH.len()] = Default::default();
        for (at, node) in GRAPH.iter().enumerate() {
            match run(node, &trip, &intent, inputs(at, &mut outputs)) {
                Ok(output) => outputs[at] = Some(output),
                // Skipped: its dependents run without its output.
                Err(_) if node.optional => {}
                Err(RunError::NoPlan(why)) => return no_plan(intent, why),
            }
        }
        match outputs.into_iter().last().flatten() {
            Some(TaskOutput::Verifier(outcome)) => *outcome,
            _ => no_plan(intent, "the verifier gave no verdict".into()),
        }
    }
}

/// The inputs of node `at`: its dependencies' outputs, each moved out of
/// `outputs` when no later node reads it (the budget step then takes the
/// candidate lists without copying them), borrowed otherwise.
fn inputs(at: usize, outputs: &mut [Option<TaskOutput>]) -> Inputs<'_> {
    let index = |dep: AgentType| GRAPH.iter().position(|n| n.agent_type == dep);
    let read_later = |dep: AgentType| GRAPH[at + 1..].iter().any(|n| n.depends_on.contains(&dep));
    let deps = GRAPH[at].depends_on;
    let mut moved = Vec::with_capacity(deps.len());
    for &dep in deps {
        if !read_later(dep)
            && let Some(output) = index(dep).and_then(|i| outputs[i].take())
        {
            moved.push((dep, Cow::Owned(output)));
        }
    }
    let outputs: &[Option<TaskOutput>] = outputs;
    let borrowed = deps
        .iter()
        .filter(|&&dep| read_later(dep))
        .filter_map(|&dep| {
            let output = outputs[index(dep)?].as_ref()?;
            Some((dep, Cow::Borrowed(output)))
        });
    moved.into_iter().chain(borrowed).collect()
}

/// The plan of an outcome in the TravelPlanner submission format (empty
/// when there is no plan).
pub fn submission(outcome: &PlanOutcome, catalog: &dyn Catalog) -> Vec<serde_json::Value> {
    match (&outcome.itinerary, TripSpec::from_intent(&outcome.intent)) {
        (Some(it), Ok(trip)) => to_submission(it, &trip, catalog),
        _ => Vec::new(),
    }
}

/// One input line of a batch.
#[derive(Debug, Deserialize)]
struct BatchLine {
    idx: serde_json::Value,
    query: String,
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub total: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// Plans every `{"idx","query"}` line of `lines` against `catalog`, writing
/// one `{"idx","query","plan":[...],"elapsed_ms":n}` line per query to `out`
/// in the TravelPlanner submission format (an empty plan and an `"error"`
/// when there is none; the batch goes on). `progress(done, total)` is called
/// after each line.
pub fn run_batch(
    catalog: Arc<dyn Catalog>,
    lines: impl BufRead,
    out: impl Write,
    progress: impl FnMut(usize, usize),
) -> std::io::Result<BatchSummary> {
    Planner::new(catalog).run_batch(lines, out, progress)
}

impl Planner {
    /// [`run_batch`] with this planner.
    pub fn run_batch(
        &self,
        lines: impl BufRead,
        out: impl Write,
        progress: impl FnMut(usize, usize),
    ) -> std::io::Result<BatchSummary> {
        batch(self, lines, out, progress)
    }
}

fn batch(
    planner: &Planner,
    lines: impl BufRead,
    mut out: impl Write,
    mut progress: impl FnMut(usize, usize),
) -> std::io::Result<BatchSummary> {
    let lines: Vec<String> = lines
        .lines()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let mut summary = BatchSummary {
        total: lines.len(),
        ..Default::default()
    };
    for (i, line) in lines.iter().enumerate() {
        let start = Instant::now();
        let record = match serde_json::from_str::<BatchLine>(line) {
            Ok(input) => {
                let outcome = planner.plan_blocking(&input.query);
                let plan = submission(&outcome, planner.catalog().as_ref());
                let mut record = serde_json::json!({
                    "idx": input.idx,
                    "query": input.query,
                    "plan": plan,
                    "elapsed_ms": start.elapsed().as_millis() as u64,
                });
                if outcome.itinerary.is_some() {
                    summary.delivered += 1;
                } else {
                    summary.failed += 1;
                    record["error"] = outcome.explanation.into();
                }
                record
            }
            Err(e) => {
                summary.failed += 1;
                serde_json::json!({
                    "idx": serde_json::Value::Null,
                    "query": line,
                    "plan": [],
                    "elapsed_ms": start.elapsed().as_millis() as u64,
                    "error": format!("not a {{\"idx\",\"query\"}} line: {e}"),
                })
            }
        };
        writeln!(out, "{record}")?;
        progress(i + 1, summary.total);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::MemoryCatalog;
    use crate::catalog::demo::demo_catalog;

    const DENVER: &str = "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";

    fn planner() -> Planner {
        let catalog = demo_catalog().expect("the demo catalog reads");
        Planner::new(Arc::new(MemoryCatalog::new(catalog)))
    }

    #[test]
    fn optional_nodes_that_fail_are_skipped_and_the_plan_is_still_made() {
        let planner = planner();
        let mut ran = Vec::new();
        let outcome = planner.execute(planner.parse(DENVER), |node, trip, intent, inputs| {
            ran.push(node.agent_type);
            if node.optional {
                return Err(RunError::NoPlan(format!("{} is down", node.agent_type)));
            }
            if node.agent_type == AgentType::Verifier {
                assert!(
                    !inputs.contains(AgentType::Tips),
                    "a skipped node has no output"
                );
            }
            step(
                node.agent_type,
                trip,
                intent,
                inputs,
                planner.catalog.as_ref(),
                None,
            )
        });
        assert_eq!(ran, GRAPH.map(|n| n.agent_type));
        let plan = outcome
            .itinerary
            .expect("a plan without the optional agents");
        // The budget step made the dropped proposals from the catalog.
        assert!(plan.days.iter().any(|d| d.dinner.is_some()));
        assert!(plan.days.iter().any(|d| !d.attractions.is_empty()));
    }

    #[test]
    fn a_required_node_that_finds_nothing_ends_planning_with_its_reason() {
        let planner = planner();
        let mut ran = Vec::new();
        let outcome = planner.execute(planner.parse(DENVER), |node, trip, intent, inputs| {
            ran.push(node.agent_type);
            match node.agent_type {
                AgentType::Transport => Err(RunError::NoPlan("no road to Denver".into())),
                agent => step(agent, trip, intent, inputs, planner.catalog.as_ref(), None),
            }
        });
        assert_eq!(
            ran,
            [
                AgentType::Location,
                AgentType::Planning,
                AgentType::Transport
            ]
        );
        assert_eq!(outcome.itinerary, None);
        assert_eq!(outcome.explanation, "no road to Denver");
    }
}
