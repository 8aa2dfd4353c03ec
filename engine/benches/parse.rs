//! The parser's figures: per-field accuracy and the share of requests
//! complete (plannable) on the labelled corpus (`tests/data/requests.jsonl`,
//! demo catalog, fixed today), and parse latency per request — on the
//! corpus, and on the TravelPlanner validation queries against the full
//! sandbox catalog when it is present.
//!
//! `cargo bench -p wayfare-engine --bench parse`

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/parse_corpus.rs"]
mod corpus;

use std::time::Instant;

use wayfare_engine::parse::Gazetteer;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Parses every query `rounds` times; prints p50/p99/max in microseconds.
fn latency(label: &str, gazetteer: &Gazetteer, queries: &[String], rounds: usize) {
    let mut us = Vec::with_capacity(queries.len() * rounds);
    for _ in 0..rounds {
        for q in queries {
            let start = Instant::now();
            let intent = gazetteer.parse(q);
            us.push(start.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(intent);
        }
    }
    us.sort_by(f64::total_cmp);
    println!(
        "  {label}: n={} p50 {:.0} µs  p99 {:.0} µs  max {:.0} µs",
        us.len(),
        percentile(&us, 50.0),
        percentile(&us, 99.0),
        us.last().copied().unwrap_or(f64::NAN)
    );
}

fn main() {
    let gazetteer = corpus::gazetteer();
    let labelled = corpus::corpus();
    let mut tally = corpus::Tally::default();
    for want in &labelled {
        tally.add(&gazetteer.parse(&want.text), want);
    }
    println!("corpus (demo catalog, today {}):", corpus::today());
    tally.print();
    println!("wrong fields: {}", tally.wrong.len());

    println!("parse latency (one request, after warm-up):");
    let texts: Vec<String> = labelled.iter().map(|l| l.text.clone()).collect();
    latency("corpus, demo catalog", &gazetteer, &texts, 1);
    latency("corpus, demo catalog", &gazetteer, &texts, 20);
    if let Some(catalog) = common::catalog() {
        let sandbox = Gazetteer::new(catalog.as_ref()).with_default_year(2022);
        let queries: Vec<String> = common::read("validation_queries.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["query"].as_str().map(str::to_string))
            .collect();
        latency(
            "TravelPlanner validation, sandbox catalog",
            &sandbox,
            &queries,
            20,
        );
        latency("corpus, sandbox catalog", &sandbox, &texts, 20);
    }
}
