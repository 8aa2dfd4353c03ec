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
use wayfare_engine::agents::{Objective, TripSpec};
use wayfare_engine::assemble::utility::{SharedNight, shared_nights};
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::eval::{read_labelled, score_plan, trip_from_label};
use wayfare_engine::orchestrator::{Planner, submission};
use wayfare_engine::travelplanner_format::from_submission;
use wayfare_engine::verify::{VerifyOptions, verify_with};

/// Requests on the demo catalog across budget levels and party sizes
/// (shared with `tests/plan_travel_days.rs`, which holds the restaurant
/// ratings this table shows).
#[path = "../tests/common/demo_requests.rs"]
mod demo_requests;
use demo_requests::DEMO;

const ROUNDS: usize = 5;

#[derive(Default)]
struct Tally {
    queries: usize,
    passed: usize,
    stay_ratings: Vec<f64>,
    meal_ratings: Vec<f64>,
    nights_2plus: usize,
    shared_2plus: usize,
    /// Of `shared_2plus`: the request asked for a shared room.
    shared_asked: usize,
    /// Of `shared_2plus`: no private room fitted, and the plan says so.
    shared_forced: usize,
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

/// One plan's total and mean ratings, for `OBJECTIVE_VERBOSE` lines.
fn one_plan(plan: &Itinerary, catalog: &dyn Catalog) -> String {
    let mut one = Tally::default();
    one.plan(plan, None, catalog, None, 0.0);
    format!(
        "${:.0} stays {:.2} meals {:.2} ({})",
        plan.totals.total,
        mean(&one.stay_ratings),
        mean(&one.meal_ratings),
        one.meal_ratings.len()
    )
}

impl Tally {
    /// Counts a delivered plan's choices (looked up in the catalog by
    /// record id, or by name for the reference plans).
    /// [`Tally::plan`] with the budget and the trip the outcome's intent
    /// states; returns that trip.
    fn plan_outcome(
        &mut self,
        outcome: &wayfare_engine::orchestrator::PlanOutcome,
        plan: &Itinerary,
        catalog: &dyn Catalog,
    ) -> Option<TripSpec> {
        let trip = spec(outcome);
        let budget = outcome.intent.budget.map(f64::from);
        self.plan(plan, trip.as_ref(), catalog, budget, plan.totals.total);
        trip
    }

    fn plan(
        &mut self,
        plan: &Itinerary,
        trip: Option<&TripSpec>,
        catalog: &dyn Catalog,
        budget: Option<f64>,
        total: f64,
    ) {
        if let Some(trip) = trip {
            for night in shared_nights(trip, plan, catalog) {
                match night {
                    SharedNight::Asked => self.shared_asked += 1,
                    SharedNight::Forced => self.shared_forced += 1,
                    SharedNight::Unforced => {}
                }
            }
        }
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
            let unforced = self
                .shared_2plus
                .saturating_sub(self.shared_asked + self.shared_forced);
            format!(
                "{:.0}% ({}/{}); asked {}, forced {}",
                100.0 * unforced as f64 / self.nights_2plus as f64,
                unforced,
                self.nights_2plus,
                self.shared_asked,
                self.shared_forced
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

/// One line per stay and meal of `plan`: day, slot, name, rating, cost
/// (for `OBJECTIVE_VERBOSE=1`, to see where two objectives differ).
fn choices(plan: &Itinerary, catalog: &dyn Catalog) -> String {
    let mut out = Vec::new();
    for day in &plan.days {
        let travel = if day.transport.is_empty() {
            ""
        } else {
            " (travel)"
        };
        for (kind, meal) in day.meals() {
            let Some(m) = meal else { continue };
            let rating = catalog
                .restaurants_in(&m.city)
                .iter()
                .find(|r| m.source_id.as_deref() == Some(r.source_id.as_str()))
                .map_or(f64::NAN, |r| r.rating);
            out.push(format!(
                "    d{}{travel} {}: {} ({}) rated {rating} ${:.0}",
                day.day,
                kind.label(),
                m.name,
                m.city,
                m.cost
            ));
        }
        if let Some(s) = &day.accommodation {
            let stay = catalog
                .stays_in(&s.city)
                .iter()
                .find(|x| s.source_id.as_deref() == Some(x.source_id.as_str()))
                .map(|x| (x.rating, x.room_type.label()));
            out.push(format!(
                "    d{} stay: {} {stay:?} ${:.0}/night",
                day.day, s.name, s.cost
            ));
        }
    }
    out.join("\n")
}

/// `OBJECTIVE_VERBOSE=1`: each plan's choices and shared-room nights on stderr.
fn verbose() -> bool {
    std::env::var_os("OBJECTIVE_VERBOSE").is_some()
}

/// The trip an outcome planned (for classifying its shared-room nights).
fn spec(outcome: &wayfare_engine::orchestrator::PlanOutcome) -> Option<TripSpec> {
    TripSpec::from_intent(&outcome.intent).ok()
}

/// "d2 Madison: Hostel (asked): reason" for each shared-room night of a party.
fn shared_nights_of(
    plan: &Itinerary,
    trip: Option<&TripSpec>,
    catalog: &dyn Catalog,
) -> Vec<String> {
    let Some(trip) = trip else { return Vec::new() };
    let kinds = shared_nights(trip, plan, catalog);
    plan.days
        .iter()
        .filter_map(|d| d.accommodation.as_ref().map(|a| (d.day, a)))
        .filter(|(_, a)| {
            catalog.stays_in(&a.city).iter().any(|s| {
                a.source_id.as_deref() == Some(s.source_id.as_str())
                    && s.room_type == RoomType::SharedRoom
            })
        })
        .zip(kinds)
        .map(|((day, a), kind)| format!("d{day} {}: {} ({kind:?}): {}", a.city, a.name, a.reason))
        .collect()
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
        "| set | plans | final pass | stay rating | restaurant rating | shared-room nights of parties of 2+ not asked for nor forced; asked, forced | budget used | meals / day, full / travel | visits / day, full / travel | p50 ms | p95 ms |".to_string(),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |".to_string(),
    ];

    // `OBJECTIVE_SETS=demo`: only the demo requests; `dev`: the dev
    // queries and the demo requests (a quick look).
    let sets = std::env::var("OBJECTIVE_SETS").unwrap_or_default();
    let only_demo = sets == "demo";
    let skip_validation = only_demo || sets == "dev";
    if let Some(catalog) = common::catalog().filter(|_| !only_demo) {
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
                    if verbose() {
                        eprintln!(
                            "dev {objective}: {} {:?} — {}",
                            one_plan(plan, catalog.as_ref()),
                            plan.route(),
                            label.query
                        );
                    }
                    let (budget, total) = (Some(label.budget), plan.totals.total);
                    let trip = spec(&outcome);
                    t.plan(plan, trip.as_ref(), catalog.as_ref(), budget, total);
                    by.plan(plan, trip.as_ref(), catalog.as_ref(), budget, total);
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
            let trip = Some(&trip);
            t.plan(&plan, trip, catalog.as_ref(), Some(label.budget), total);
            by.plan(&plan, trip, catalog.as_ref(), Some(label.budget), total);
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
        let validation: Vec<String> = if skip_validation {
            Vec::new()
        } else {
            validation_queries()
        };
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
                    let trip = t.plan_outcome(&outcome, plan, catalog.as_ref());
                    if verbose() {
                        for night in shared_nights_of(plan, trip.as_ref(), catalog.as_ref()) {
                            eprintln!("{objective}: {night} — {q}");
                        }
                    }
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
        let week: Vec<String> = validation
            .iter()
            .filter(|q| planners[0].parse(q).days.is_some_and(|d| d.get() == 7))
            .cloned()
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
            // Each request's restaurant ratings, per objective.
            let mut ratings: [Vec<Vec<f64>>; 2] = [Vec::new(), Vec::new()];
            for (o, objective) in [Objective::Cheapest, Objective::Utility]
                .into_iter()
                .enumerate()
            {
                let planner = Planner::new(catalog.clone()).with_objective(objective);
                let mut t = Tally::default();
                for text in DEMO {
                    let outcome = timed(&planner, text, &mut t);
                    t.queries += 1;
                    if let Some(plan) = &outcome.itinerary {
                        if plan.verdict.passed() {
                            t.passed += 1;
                        }
                        if verbose() {
                            eprintln!("{objective}: {} — {text}", one_plan(plan, catalog.as_ref()));
                            eprintln!("{}", choices(plan, catalog.as_ref()));
                        }
                        let before = t.meal_ratings.len();
                        t.plan_outcome(&outcome, plan, catalog.as_ref());
                        ratings[o].push(t.meal_ratings[before..].to_vec());
                    } else {
                        ratings[o].push(Vec::new());
                        eprintln!("{objective}: no plan for {text:?}: {}", outcome.explanation);
                    }
                }
                rows.push(t.row(
                    &format!("demo requests ({})", DEMO.len()),
                    objective.label(),
                ));
            }
            // Like for like: where one objective plans more meals (travel-day
            // meals the other leaves out), each plan's best k restaurants, k
            // the fewer of the two counts. The table's column keeps every meal.
            let mut best: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
            for (c, u) in ratings[0].iter().zip(&ratings[1]) {
                let k = c.len().min(u.len());
                for (o, list) in [c, u].into_iter().enumerate() {
                    let mut sorted = list.clone();
                    sorted.sort_by(|a, b| b.total_cmp(a));
                    best[o].extend(sorted.into_iter().take(k));
                }
            }
            let meals: [usize; 2] = [0, 1].map(|o| ratings[o].iter().map(Vec::len).sum());
            println!(
                "demo requests, restaurant rating over every meal: cheapest {:.3} ({} meals), utility {:.3} ({} meals); over each request's best k meals (k the fewer of the two plans' meals): cheapest {:.3}, utility {:.3} ({} meals each)",
                mean(&ratings[0].concat()),
                meals[0],
                mean(&ratings[1].concat()),
                meals[1],
                mean(&best[0]),
                mean(&best[1]),
                best[0].len()
            );
        }
        Err(e) => eprintln!("the demo catalog does not load: {e}"),
    }
    for row in rows {
        println!("{row}");
    }
}
