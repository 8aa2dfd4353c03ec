//! The utility objective against the cheapest one (issue 15), and against
//! the human annotators' reference plans on the TravelPlanner dev queries:
//! final pass rate, mean rating of the stays and restaurants chosen, share
//! of shared-room nights for parties of two or more, share of the budget
//! used, meals and visits per full day, planning latency.
//!
//! `cargo bench -p wayfare-engine --bench objective` (prints a Markdown table).
//! Attractions have no rating in either catalog: their column is the visits
//! per full day.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use wayfare_domain::catalog::RoomType;
use wayfare_domain::itinerary::Itinerary;
use wayfare_engine::agents::Objective;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::eval::{read_labelled, score_plan, trip_from_label};
use wayfare_engine::orchestrator::{Planner, submission};
use wayfare_engine::travelplanner_format::from_submission;
use wayfare_engine::verify::{VerifyOptions, verify_with};

/// Requests on the demo catalog across budget levels and party sizes.
const DEMO: &[&str] = &[
    "3 days from Seattle to Denver, March 5th to March 7th 2027, two of us, $2,000, we love Italian food",
    "A 3-day trip from Seattle to Denver, June 5th to June 7th 2027, solo, budget $700.",
    "A 4-day trip for two from Chicago to New York, May 3rd to May 6th 2027, budget $1,600.",
    "A 4-day trip for a family of 4 from Chicago to New York, May 3rd to May 6th 2027, budget $6,000.",
    "A 3-day trip from Los Angeles to San Francisco, April 9th to April 11th 2027, solo, budget $500.",
    "A 5-day trip for two from New York to Los Angeles, September 1st to September 5th 2027, budget $8,000.",
    "Plan a 5-day trip from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, solo, budget $1,500.",
    "Plan a 5-day trip for 3 people from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, budget $4,500.",
    "A 3-day trip for 6 people from San Diego to Seattle, August 6th to August 8th 2027, budget $3,500.",
    "A 4-day trip for two from Portland to Chicago, October 1st to October 4th 2027, budget $1,700, museums and parks.",
    "A 3-day trip for two from Denver to San Diego, June 11th to June 13th 2027, budget $1,000.",
    "A 4-day trip for two from Chicago to Seattle, May 20th to May 23rd 2027, budget $3,000, we like museums and good food.",
    "A 3-day trip for two from Seattle to Tacoma, June 5th to June 7th 2027, budget $500.",
    "A 3-day trip from Seattle to Spokane, June 7th to June 9th 2027, solo, budget $280, no flights.",
];

const ROUNDS: usize = 5;

#[derive(Default)]
struct Tally {
    queries: usize,
    passed: usize,
    stay_ratings: Vec<f64>,
    meal_ratings: Vec<f64>,
    nights_2plus: usize,
    shared_2plus: usize,
    budget_shares: Vec<f64>,
    full_days: usize,
    full_day_meals: usize,
    full_day_visits: usize,
    travel_days: usize,
    travel_day_meals: usize,
    travel_day_visits: usize,
    latencies: Vec<f64>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

impl Tally {
    /// Counts a delivered plan's choices (looked up in the catalog by
    /// record id, or by name for the reference plans).
    fn plan(&mut self, plan: &Itinerary, catalog: &dyn Catalog, budget: Option<f64>, total: f64) {
        for day in &plan.days {
            if let Some(s) = &day.accommodation {
                let stays = catalog.stays_in(&s.city);
                let stay = stays.iter().find(|x| {
                    s.source_id
                        .as_ref()
                        .map_or(x.name == s.name, |id| x.source_id == *id)
                });
                if let Some(stay) = stay {
                    self.stay_ratings.push(stay.rating);
                    if plan.people >= 2 {
                        self.nights_2plus += 1;
                        self.shared_2plus += usize::from(stay.room_type == RoomType::SharedRoom);
                    }
                }
            }
            let mut meals = 0;
            for (_, meal) in day.meals() {
                let Some(m) = meal else { continue };
                meals += 1;
                let list = catalog.restaurants_in(&m.city);
                if let Some(r) = list.iter().find(|x| {
                    m.source_id
                        .as_ref()
                        .map_or(x.name == m.name, |id| x.source_id == *id)
                }) {
                    self.meal_ratings.push(r.rating);
                }
            }
            if day.transport.is_empty() {
                self.full_days += 1;
                self.full_day_meals += meals;
                self.full_day_visits += day.attractions.len();
            } else {
                self.travel_days += 1;
                self.travel_day_meals += meals;
                self.travel_day_visits += day.attractions.len();
            }
        }
        if let Some(b) = budget.filter(|_| total.is_finite()) {
            self.budget_shares.push(total / b);
        }
    }

    fn row(&mut self, set: &str, who: &str) -> String {
        let fd = self.full_days.max(1) as f64;
        let td = self.travel_days.max(1) as f64;
        let shared = if self.nights_2plus == 0 {
            "–".to_string()
        } else {
            format!(
                "{:.0}% ({}/{})",
                100.0 * self.shared_2plus as f64 / self.nights_2plus as f64,
                self.shared_2plus,
                self.nights_2plus
            )
        };
        let (p50, p95) = if self.latencies.is_empty() {
            ("–".to_string(), "–".to_string())
        } else {
            (
                format!("{:.2}", percentile(&mut self.latencies, 50.0)),
                format!("{:.2}", percentile(&mut self.latencies, 95.0)),
            )
        };
        format!(
            "| {set} | {who} | {:.0}% ({}/{}) | {:.2} | {:.2} | {shared} | {:.0}% | {:.2} / {:.2} | {:.2} / {:.2} | {p50} | {p95} |",
            100.0 * self.passed as f64 / self.queries.max(1) as f64,
            self.passed,
            self.queries,
            mean(&self.stay_ratings),
            mean(&self.meal_ratings),
            100.0 * mean(&self.budget_shares),
            self.full_day_meals as f64 / fd,
            self.travel_day_meals as f64 / td,
            self.full_day_visits as f64 / fd,
            self.travel_day_visits as f64 / td,
        )
    }
}

/// A line of `validation_queries.jsonl` (`{"idx", "query"}`).
#[derive(serde::Deserialize)]
struct ValidationQuery {
    query: String,
}

/// The validation queries' texts.
fn validation_queries() -> Vec<String> {
    common::read("validation_queries.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<ValidationQuery>(l).ok())
        .map(|v| v.query)
        .collect()
}

/// Plans `text` `ROUNDS` times, keeping every latency and the last outcome.
fn timed(
    planner: &Planner,
    text: &str,
    tally: &mut Tally,
) -> wayfare_engine::orchestrator::PlanOutcome {
    let mut last = None;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let outcome = planner.plan_blocking(text);
        tally.latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        last = Some(outcome);
    }
    last.unwrap_or_else(|| planner.plan_blocking(text))
}

fn main() {
    let mut rows = vec![
        "| set | plans | final pass | stay rating | restaurant rating | shared-room nights, parties of 2+ | budget used | meals / day, full / travel | visits / day, full / travel | p50 ms | p95 ms |".to_string(),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |".to_string(),
    ];

    if let Some(catalog) = common::catalog() {
        let labels = read_labelled(&common::read("dev_queries.jsonl")).unwrap_or_default();
        // The same figures per query level (easy / medium / hard).
        let mut by_level: std::collections::BTreeMap<(String, &str), Tally> = Default::default();
        for objective in [Objective::Cheapest, Objective::Utility] {
            let planner = Planner::new(catalog.clone())
                .with_default_year(2022)
                .with_objective(objective);
            let mut t = Tally::default();
            for label in &labels {
                let outcome = timed(&planner, &label.query, &mut t);
                let by = by_level
                    .entry((label.level.clone(), objective.label()))
                    .or_default();
                t.queries += 1;
                by.queries += 1;
                let sub = submission(&outcome, catalog.as_ref());
                if score_plan(label, &sub, catalog.as_ref()).final_pass() {
                    t.passed += 1;
                    by.passed += 1;
                }
                if let Some(plan) = &outcome.itinerary {
                    let (budget, total) = (Some(label.budget), plan.totals.total);
                    t.plan(plan, catalog.as_ref(), budget, total);
                    by.plan(plan, catalog.as_ref(), budget, total);
                }
            }
            rows.push(t.row(
                &format!("TravelPlanner dev ({})", labels.len()),
                objective.label(),
            ));
        }
        // The annotators' reference plans, costed by the verifier.
        let mut t = Tally::default();
        for label in &labels {
            let by = by_level
                .entry((label.level.clone(), "human reference"))
                .or_default();
            t.queries += 1;
            by.queries += 1;
            if label.reference_plan.is_empty() {
                continue;
            }
            if score_plan(label, &label.reference_plan, catalog.as_ref()).final_pass() {
                t.passed += 1;
                by.passed += 1;
            }
            let trip = trip_from_label(label);
            let plan = from_submission(&label.reference_plan, &trip);
            let verdict = verify_with(
                &plan,
                &trip,
                catalog.as_ref(),
                VerifyOptions {
                    travel_day_timing: false,
                },
            );
            let total = verdict
                .check("budget")
                .and_then(|c| c.message.strip_prefix('$'))
                .and_then(|m| m.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            t.plan(&plan, catalog.as_ref(), Some(label.budget), total);
            by.plan(&plan, catalog.as_ref(), Some(label.budget), total);
        }
        rows.push(t.row(
            &format!("TravelPlanner dev ({})", labels.len()),
            "human reference",
        ));
        for ((level, who), t) in &mut by_level {
            let set = format!("dev, {level} ({})", t.queries);
            rows.push(t.row(&set, who));
        }

        // The validation queries have no labels nor reference plans: both
        // objectives, per trip length (TravelPlanner's query types: 3 days
        // one city, 5 days two, 7 days three), pass by Wayfare's verifier.
        let validation: Vec<String> = validation_queries();
        let mut by_days: std::collections::BTreeMap<(u32, &str), Tally> = Default::default();
        for objective in [Objective::Cheapest, Objective::Utility] {
            let planner = Planner::new(catalog.clone())
                .with_default_year(2022)
                .with_objective(objective);
            for q in &validation {
                let outcome = planner.plan_blocking(q);
                let days = outcome.intent.days.map_or(0, |d| d.get());
                let t = by_days.entry((days, objective.label())).or_default();
                t.queries += 1;
                if let Some(plan) = &outcome.itinerary {
                    if plan.verdict.passed() {
                        t.passed += 1;
                    }
                    let budget = outcome.intent.budget.map(f64::from);
                    t.plan(plan, catalog.as_ref(), budget, plan.totals.total);
                }
            }
        }
        for ((days, who), t) in &mut by_days {
            let set = format!("validation, {days} days ({})", t.queries);
            rows.push(t.row(&set, who));
        }

        // Latency on the 7-day validation queries (three cities), both
        // objectives interleaved query by query so that the machine's load
        // falls on both alike.
        let planners = [Objective::Cheapest, Objective::Utility].map(|o| {
            Planner::new(catalog.clone())
                .with_default_year(2022)
                .with_objective(o)
        });
        let week: Vec<String> = validation_queries()
            .into_iter()
            .filter(|q| planners[0].parse(q).days.is_some_and(|d| d.get() == 7))
            .collect();
        let mut lat: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            for q in &week {
                for (i, planner) in planners.iter().enumerate() {
                    let start = Instant::now();
                    let _ = planner.plan_blocking(q);
                    lat[i].push(start.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
        for (i, o) in [Objective::Cheapest, Objective::Utility].iter().enumerate() {
            let v = &mut lat[i];
            let n = v.len();
            let (p50, p95, p99) = (
                percentile(v, 50.0),
                percentile(v, 95.0),
                percentile(v, 99.0),
            );
            println!(
                "7-day validation queries ({} × {ROUNDS}), {o}: p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms (n={n})",
                week.len()
            );
        }
    }

    match demo_catalog() {
        Ok(data) => {
            let catalog: Arc<dyn Catalog> = Arc::new(MemoryCatalog::new(data));
            for objective in [Objective::Cheapest, Objective::Utility] {
                let planner = Planner::new(catalog.clone()).with_objective(objective);
                let mut t = Tally::default();
                for text in DEMO {
                    let outcome = timed(&planner, text, &mut t);
                    t.queries += 1;
                    if let Some(plan) = &outcome.itinerary {
                        if plan.verdict.passed() {
                            t.passed += 1;
                        }
                        if std::env::var_os("OBJECTIVE_VERBOSE").is_some() {
                            let mut one = Tally::default();
                            one.plan(plan, catalog.as_ref(), None, 0.0);
                            eprintln!(
                                "{objective}: ${:.0} stays {:.2} meals {:.2} ({}) — {text}",
                                plan.totals.total,
                                mean(&one.stay_ratings),
                                mean(&one.meal_ratings),
                                one.meal_ratings.len()
                            );
                        }
                        let budget = outcome.intent.budget.map(f64::from);
                        t.plan(plan, catalog.as_ref(), budget, plan.totals.total);
                    } else {
                        eprintln!("{objective}: no plan for {text:?}: {}", outcome.explanation);
                    }
                }
                rows.push(t.row(
                    &format!("demo requests ({})", DEMO.len()),
                    objective.label(),
                ));
            }
        }
        Err(e) => eprintln!("the demo catalog does not load: {e}"),
    }
    for row in rows {
        println!("{row}");
    }
}
