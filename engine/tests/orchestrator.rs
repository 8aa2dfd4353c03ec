//! The in-process planner: the same plan as the graph's steps run one by
//! one, the batch helper, the output formats.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use wayfare_engine::agents::TripSpec;
use wayfare_engine::graph::{AgentType, GRAPH, TaskOutput, run_task};
use wayfare_engine::orchestrator::{PlanOutcome, Planner, render_text, run_batch, submission};
use wayfare_engine::travelplanner_format::{from_submission, to_submission};
use wayfare_engine::verify::{VerifyOptions, verify_with};

const ROCKFORD: &str = "Please help me plan a trip from St. Petersburg to Rockford spanning 3 days from March 16th to March 18th, 2022. The travel should be planned for a single person with a budget of $1,700.";
const MONTANA: &str = "Could you plan a 5-day solo trip for me? I'll be setting off from Santa Ana and intend to visit 2 different cities in Montana. The travel dates are from March 6th to March 10th, 2022, and my outlined budget is $3,600.";

/// The runtime's way of running the graph: each task alone, on outputs
/// that went through the store's JSON.
fn plan_as_the_runtime_does(planner: &Planner, query: &str) -> PlanOutcome {
    let intent = planner.parse(query);
    let mut stored: BTreeMap<AgentType, serde_json::Value> = BTreeMap::new();
    for node in GRAPH {
        let deps: BTreeMap<AgentType, Arc<TaskOutput>> = node
            .depends_on
            .iter()
            .filter_map(|d| {
                let json = stored.get(d)?.clone();
                Some((*d, Arc::new(serde_json::from_value(json).expect("decodes"))))
            })
            .collect();
        let output = run_task(
            node.agent_type,
            &intent,
            &deps,
            planner.catalog().as_ref(),
            None,
        )
        .unwrap_or_else(|e| panic!("{}: {e:?}", node.agent_type));
        let json = serde_json::to_value(&output).expect("encodes");
        let back: TaskOutput = serde_json::from_value(json.clone()).expect("decodes");
        assert_eq!(back, output, "{} does not round-trip", node.agent_type);
        stored.insert(node.agent_type, json);
    }
    match serde_json::from_value(stored.remove(&AgentType::Verifier).expect("a verdict")) {
        Ok(TaskOutput::Verifier(outcome)) => *outcome,
        other => panic!("the verifier gave {other:?}"),
    }
}

#[test]
fn the_planner_plans_what_the_graphs_steps_plan_one_by_one_over_stored_outputs() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let planner = Planner::new(catalog).with_default_year(2022);
    for query in [ROCKFORD, MONTANA] {
        let in_process = planner.plan_blocking(query);
        assert!(in_process.itinerary.is_some(), "{}", in_process.explanation);
        assert_eq!(plan_as_the_runtime_does(&planner, query), in_process);
    }
}

#[test]
fn an_incomplete_request_gets_no_plan_and_its_question() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let outcome =
        Planner::new(catalog).plan_blocking("Take me from Denver to Seattle on a budget of $900.");
    assert!(outcome.itinerary.is_none());
    assert!(
        outcome.explanation.contains("When does the trip start"),
        "{}",
        outcome.explanation
    );
}

#[test]
fn the_batch_writes_one_line_per_query_and_goes_on_after_failures() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let input = format!(
        "{}\nnot json\n{}\n{}\n",
        serde_json::json!({"idx": 1, "query": ROCKFORD}),
        serde_json::json!({"idx": 2, "query": "from Ontario to Honolulu for 3 days from March 4th to March 6th, 2022, solo, $3,200"}),
        serde_json::json!({"idx": 3, "query": MONTANA}),
    );
    let mut out = Vec::new();
    let mut ticks = Vec::new();
    let summary = run_batch(catalog, input.as_bytes(), &mut out, |done, total| {
        ticks.push((done, total))
    })
    .expect("batch");
    assert_eq!(
        (summary.total, summary.delivered, summary.failed),
        (4, 2, 2)
    );
    assert_eq!(ticks.last(), Some(&(4, 4)));
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["plan"].as_array().map(Vec::len), Some(3));
    assert!(lines[0].get("error").is_none());
    assert!(lines[0]["elapsed_ms"].is_u64());
    assert!(lines[1]["error"].is_string());
    assert_eq!(lines[2]["plan"].as_array().map(Vec::len), Some(0));
    assert!(
        lines[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("Honolulu"))
    );
    assert_eq!(lines[3]["idx"], 3);
}

#[test]
fn the_submission_format_names_entities_exactly_and_reads_back_to_a_passing_plan() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let planner = Planner::new(catalog.clone()).with_default_year(2022);
    let outcome = planner.plan_blocking(MONTANA);
    let trip = TripSpec::from_intent(&outcome.intent).expect("trip");
    let plan = outcome.itinerary.expect("plan");
    let days = to_submission(&plan, &trip, catalog.as_ref());
    assert_eq!(days.len(), 5);
    let keys = [
        "days",
        "current_city",
        "transportation",
        "breakfast",
        "attraction",
        "lunch",
        "dinner",
        "accommodation",
    ];
    for d in &days {
        for k in keys {
            assert!(d.get(k).is_some(), "missing {k}");
        }
    }
    let first_city = &plan.days[0].city;
    assert_eq!(
        days[0]["current_city"],
        format!("from Santa Ana to {first_city}(Montana)")
    );
    assert_eq!(days[4]["accommodation"], "-");
    let stay = plan.days[0].accommodation.as_ref().expect("stay");
    assert_eq!(
        days[0]["accommodation"],
        format!("{}, {first_city}(Montana)", stay.name)
    );
    let attractions = days[1]["attraction"].as_str().expect("attractions");
    assert!(
        attractions.ends_with(&format!(", {first_city}(Montana);")),
        "{attractions}"
    );
    let back = from_submission(&days, &trip);
    let verdict = verify_with(
        &back,
        &trip,
        catalog.as_ref(),
        VerifyOptions {
            travel_day_timing: true,
        },
    );
    assert!(verdict.passed(), "{}", verdict.summary());
    assert_eq!(
        submission(&planner.plan_blocking(MONTANA), catalog.as_ref()),
        days
    );
}

#[test]
fn the_text_rendering_shows_every_day_the_costs_and_the_verdict() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let planner = Planner::new(catalog).with_default_year(2022);
    let plan = planner.plan_blocking(ROCKFORD).itinerary.expect("plan");
    let text = render_text(&plan);
    for needle in [
        "Day 1 (2022-03-16): St. Petersburg → Rockford",
        "Day 2",
        "Day 3",
        "Total $",
        "Verdict: 9/9 checks passed",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn items_carry_stable_component_ids_costs_and_reasons() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let planner = Planner::new(catalog).with_default_year(2022);
    let plan = planner.plan_blocking(MONTANA).itinerary.expect("plan");
    let d2 = &plan.days[1];
    assert_eq!(
        d2.breakfast.as_ref().map(|m| m.id.as_str()),
        Some("d2.breakfast")
    );
    assert_eq!(
        d2.accommodation.as_ref().map(|s| s.id.clone()),
        Some(format!("stay.{}", d2.city))
    );
    assert_eq!(plan.days[0].transport[0].id, "d1.leg1");
    assert!(
        d2.dinner
            .as_ref()
            .is_some_and(|m| m.cost > 0.0 && !m.reason.is_empty() && m.source_id.is_some())
    );
    let t = &plan.totals;
    assert!((t.total - (t.transport + t.accommodation + t.meals + t.attractions)).abs() < 1e-9);
    let json = serde_json::to_string(&plan).expect("serialises");
    let back: wayfare_domain::itinerary::Itinerary =
        serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, plan);
}
