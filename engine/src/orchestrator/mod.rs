//! Orchestrator v1: from request text to a verified plan.
//!
//! It parses the request, builds the task graph (location → planning →
//! transport ∥ accommodation ∥ dining ∥ activity → budget → verify), runs the
//! independent agents concurrently on tokio, reports every step as a
//! [`PlanningEvent`], and verifies the assembled plans, taking the best one
//! the verifier accepts. A synchronous twin ([`Planner::plan_blocking`]) runs
//! the same steps in order for batch use.

pub mod render;

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinSet;
use wayfare_domain::event::PlanningEvent;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::verdict::Verdict;

use crate::agents::accommodation::{AccommodationAgent, StayOptions};
use crate::agents::activity::{ActivityAgent, ActivityOptions};
use crate::agents::budget::BudgetAgent;
use crate::agents::dining::{DiningAgent, MealOptions};
use crate::agents::location::LocationAgent;
use crate::agents::planning::PlanningAgent;
use crate::agents::transport::{LegOptions, TransportAgent};
use crate::agents::{Agent, AgentError, Candidate, LegKey, Objective, Skeleton, TripSpec};
use crate::assemble::Proposals;
use crate::catalog::Catalog;
use crate::parse::Gazetteer;
use crate::travelplanner_format::to_submission;
use crate::verify::verify;

pub use render::render_text;

/// The planner failed for a reason other than the request (a bug or a crashed task).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("planning task {task} failed: {message}")]
    Task { task: String, message: String },
}

/// What planning produced.
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

/// A node of the task graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskNode {
    pub id: String,
    pub agent: String,
    pub depends_on: Vec<String>,
}

/// The task graph for an intent, in a valid execution order.
pub fn task_graph(intent: &TripIntent) -> Vec<TaskNode> {
    let node = |id: &str, agent: &str, deps: &[&str]| TaskNode {
        id: id.to_string(),
        agent: agent.to_string(),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
    };
    let mut graph = vec![
        node("location", "location", &[]),
        node("planning", "planning", &["location"]),
        node("transport", "transport", &["planning"]),
        node("accommodation", "accommodation", &["planning"]),
        node("dining", "dining", &["planning"]),
    ];
    graph.push(node("activity", "activity", &["planning"]));
    // A single-city trip still runs every agent; only the inputs differ.
    let _ = intent;
    graph.push(node(
        "budget",
        "budget",
        &["transport", "accommodation", "dining", "activity"],
    ));
    graph.push(node("verify", "verifier", &["budget"]));
    graph
}

/// A planner bound to a catalog; reuse it across requests.
#[derive(Clone)]
pub struct Planner {
    catalog: Arc<dyn Catalog>,
    gazetteer: Arc<Gazetteer>,
    /// The day dates are read from ([`Planner::with_today`]), if any.
    today: Option<chrono::NaiveDate>,
    objective: Objective,
}

/// What the four parallel agents are asked for, derived from the skeletons.
pub(crate) struct Wanted {
    pub(crate) legs: Vec<LegKey>,
    pub(crate) stays: Vec<(String, u32)>,
    pub(crate) cities: Vec<String>,
}

pub(crate) fn wanted(trip: &TripSpec, skeletons: &[Candidate<Skeleton>]) -> Wanted {
    let mut legs = BTreeSet::new();
    let mut stays = BTreeSet::new();
    let mut cities = BTreeSet::new();
    for s in skeletons {
        legs.extend(s.item.legs(&trip.origin, &trip.dates));
        for (c, n) in s.item.cities.iter().zip(&s.item.nights) {
            stays.insert((c.clone(), *n));
            cities.insert(c.clone());
        }
    }
    Wanted {
        legs: legs.into_iter().collect(),
        stays: stays.into_iter().collect(),
        cities: cities.into_iter().collect(),
    }
}

fn no_plan(intent: TripIntent, explanation: String) -> PlanOutcome {
    PlanOutcome {
        intent,
        itinerary: None,
        verdict: Verdict::default(),
        explanation,
    }
}

/// Verifies the assembled plans in order; the first accepted one wins.
pub(crate) fn choose(
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

    /// Plans an already parsed (or edited) intent on the calling thread.
    pub fn plan_intent_blocking(&self, intent: TripIntent) -> PlanOutcome {
        let catalog = self.catalog.as_ref();
        let trip = match TripSpec::from_intent(&intent) {
            Ok(t) => TripSpec {
                objective: self.objective,
                ..t
            },
            Err(e) => return no_plan(intent, e.to_string()),
        };
        let skeletons = match LocationAgent
            .run(&trip, catalog, &())
            .and_then(|facts| PlanningAgent.run(&trip, catalog, &facts))
        {
            Ok(s) => s,
            Err(AgentError::NoCandidates(why)) => return no_plan(intent, why),
        };
        let w = wanted(&trip, &skeletons);
        let proposals = Proposals {
            legs: TransportAgent
                .run(&trip, catalog, &w.legs)
                .unwrap_or_default(),
            stays: AccommodationAgent
                .run(&trip, catalog, &w.stays)
                .unwrap_or_default(),
            meals: DiningAgent
                .run(&trip, catalog, &w.cities)
                .unwrap_or_default(),
            activities: ActivityAgent
                .run(&trip, catalog, &w.cities)
                .unwrap_or_default(),
            skeletons,
        };
        match BudgetAgent.run(&trip, catalog, &proposals) {
            Ok(plans) => choose(&trip, catalog, intent, plans),
            Err(AgentError::NoCandidates(why)) => no_plan(intent, why),
        }
    }

    /// Plans a request, running independent agents concurrently and
    /// reporting progress on `events` (dropped events are not an error).
    #[tracing::instrument(skip_all, fields(text.len = text.len()))]
    pub async fn plan(
        &self,
        text: &str,
        events: Option<Sender<PlanningEvent>>,
    ) -> Result<PlanOutcome, PlanError> {
        let intent = self.parse(text);
        self.plan_intent(intent, events).await
    }

    /// Like [`Planner::plan`] for an already parsed intent.
    pub async fn plan_intent(
        &self,
        intent: TripIntent,
        events: Option<Sender<PlanningEvent>>,
    ) -> Result<PlanOutcome, PlanError> {
        let emit = |e: PlanningEvent| {
            let events = events.clone();
            async move {
                if let Some(tx) = events {
                    let _ = tx.send(e).await;
                }
            }
        };
        let graph = task_graph(&intent);
        let total = graph.len() as u32;
        emit(PlanningEvent::PlanningStarted {
            tasks: graph.iter().map(|t| t.id.clone()).collect(),
        })
        .await;
        let trip = match TripSpec::from_intent(&intent) {
            Ok(t) => Arc::new(TripSpec {
                objective: self.objective,
                ..t
            }),
            Err(e) => {
                let reason = e.to_string();
                emit(PlanningEvent::PlanFailed {
                    reason: reason.clone(),
                })
                .await;
                return Ok(no_plan(intent, reason));
            }
        };
        let mut done = 0u32;
        let catalog = self.catalog.clone();

        // location → planning: sequential, each needs the one before.
        let mut skeletons = Vec::new();
        let mut facts = HashMap::new();
        for task in ["location", "planning"] {
            emit(PlanningEvent::TaskStarted {
                task_id: task.into(),
                agent: task.into(),
            })
            .await;
            let start = Instant::now();
            let result = if task == "location" {
                LocationAgent.run(&trip, catalog.as_ref(), &()).map(|f| {
                    let summary = format!("{} candidate cities", f.len());
                    facts = f;
                    summary
                })
            } else {
                PlanningAgent.run(&trip, catalog.as_ref(), &facts).map(|s| {
                    let summary = format!(
                        "{} routes; best: {}",
                        s.len(),
                        s.first().map_or(String::new(), |c| c.reason.clone())
                    );
                    skeletons = s;
                    summary
                })
            };
            match result {
                Ok(summary) => {
                    done += 1;
                    emit(PlanningEvent::TaskCompleted {
                        task_id: task.into(),
                        agent: task.into(),
                        elapsed_ms: start.elapsed().as_millis() as u64,
                        summary,
                    })
                    .await;
                    emit(PlanningEvent::Progress { done, total }).await;
                }
                Err(AgentError::NoCandidates(why)) => {
                    emit(PlanningEvent::TaskFailed {
                        task_id: task.into(),
                        agent: task.into(),
                        error: why.clone(),
                    })
                    .await;
                    emit(PlanningEvent::PlanFailed {
                        reason: why.clone(),
                    })
                    .await;
                    return Ok(no_plan(intent, why));
                }
            }
        }

        // transport ∥ accommodation ∥ dining ∥ activity.
        let w = Arc::new(wanted(&trip, &skeletons));
        enum Output {
            Legs(LegOptions),
            Stays(StayOptions),
            Meals(MealOptions),
            Activities(ActivityOptions),
        }
        type Finished = (&'static str, u64, Result<(Output, String), AgentError>);
        let mut set: JoinSet<Finished> = JoinSet::new();
        for task in ["transport", "accommodation", "dining", "activity"] {
            emit(PlanningEvent::TaskStarted {
                task_id: task.into(),
                agent: task.into(),
            })
            .await;
            let (trip, catalog, w) = (trip.clone(), catalog.clone(), w.clone());
            set.spawn_blocking(move || {
                let start = Instant::now();
                let c = catalog.as_ref();
                let out = match task {
                    "transport" => TransportAgent.run(&trip, c, &w.legs).map(|o| {
                        let s = format!("{} of {} legs can be travelled", o.len(), w.legs.len());
                        (Output::Legs(o), s)
                    }),
                    "accommodation" => AccommodationAgent.run(&trip, c, &w.stays).map(|o| {
                        let n: usize = o.values().map(Vec::len).sum();
                        (Output::Stays(o), format!("{n} stays fit"))
                    }),
                    "dining" => DiningAgent.run(&trip, c, &w.cities).map(|o| {
                        let n: usize = o.values().map(Vec::len).sum();
                        (Output::Meals(o), format!("{n} restaurants"))
                    }),
                    _ => ActivityAgent.run(&trip, c, &w.cities).map(|o| {
                        let n: usize = o.values().map(Vec::len).sum();
                        (Output::Activities(o), format!("{n} attractions routed"))
                    }),
                };
                (task, start.elapsed().as_millis() as u64, out)
            });
        }
        let mut proposals = Proposals {
            skeletons,
            ..Proposals::default()
        };
        while let Some(joined) = set.join_next().await {
            let (task, elapsed_ms, result) = match joined {
                Ok(finished) => finished,
                Err(e) => {
                    // A panicked agent: report it, then give up on this plan.
                    let message = e.to_string();
                    emit(PlanningEvent::PlanFailed {
                        reason: format!("an agent failed: {message}"),
                    })
                    .await;
                    return Err(PlanError::Task {
                        task: "parallel agents".into(),
                        message,
                    });
                }
            };
            match result {
                Ok((output, summary)) => {
                    match output {
                        Output::Legs(o) => proposals.legs = o,
                        Output::Stays(o) => proposals.stays = o,
                        Output::Meals(o) => proposals.meals = o,
                        Output::Activities(o) => proposals.activities = o,
                    }
                    done += 1;
                    emit(PlanningEvent::TaskCompleted {
                        task_id: task.into(),
                        agent: task.into(),
                        elapsed_ms,
                        summary,
                    })
                    .await;
                    emit(PlanningEvent::Progress { done, total }).await;
                }
                Err(AgentError::NoCandidates(why)) => {
                    emit(PlanningEvent::TaskFailed {
                        task_id: task.into(),
                        agent: task.into(),
                        error: why,
                    })
                    .await;
                }
            }
        }

        // budget (assemble) → verify.
        emit(PlanningEvent::TaskStarted {
            task_id: "budget".into(),
            agent: "budget".into(),
        })
        .await;
        let start = Instant::now();
        let assembled = {
            let (trip, catalog) = (trip.clone(), catalog.clone());
            tokio::task::spawn_blocking(move || {
                BudgetAgent.run(&trip, catalog.as_ref(), &proposals)
            })
            .await
            .map_err(|e| PlanError::Task {
                task: "budget".into(),
                message: e.to_string(),
            })?
        };
        let plans = match assembled {
            Ok(plans) => plans,
            Err(AgentError::NoCandidates(why)) => {
                emit(PlanningEvent::TaskFailed {
                    task_id: "budget".into(),
                    agent: "budget".into(),
                    error: why.clone(),
                })
                .await;
                emit(PlanningEvent::PlanFailed {
                    reason: why.clone(),
                })
                .await;
                return Ok(no_plan(intent, why));
            }
        };
        done += 1;
        emit(PlanningEvent::TaskCompleted {
            task_id: "budget".into(),
            agent: "budget".into(),
            elapsed_ms: start.elapsed().as_millis() as u64,
            summary: format!("{} plans within budget", plans.len()),
        })
        .await;
        emit(PlanningEvent::Progress { done, total }).await;
        emit(PlanningEvent::TaskStarted {
            task_id: "verify".into(),
            agent: "verifier".into(),
        })
        .await;
        let start = Instant::now();
        let outcome = choose(&trip, catalog.as_ref(), intent, plans);
        done += 1;
        emit(PlanningEvent::TaskCompleted {
            task_id: "verify".into(),
            agent: "verifier".into(),
            elapsed_ms: start.elapsed().as_millis() as u64,
            summary: outcome.verdict.summary(),
        })
        .await;
        emit(PlanningEvent::Progress { done, total }).await;
        match &outcome.itinerary {
            Some(plan) => {
                emit(PlanningEvent::PlanReady {
                    verdict: outcome.verdict.summary(),
                    total_cost: plan.totals.total,
                })
                .await
            }
            None => {
                emit(PlanningEvent::PlanFailed {
                    reason: outcome.explanation.clone(),
                })
                .await
            }
        }
        Ok(outcome)
    }
}

/// Plans `text` against `catalog` (builds a [`Planner`] each call; keep a
/// `Planner` to plan many requests).
pub async fn plan(
    catalog: Arc<dyn Catalog>,
    text: &str,
    events: Option<Sender<PlanningEvent>>,
) -> Result<PlanOutcome, PlanError> {
    Planner::new(catalog).plan(text, events).await
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
