//! The runtime and the CLI's `Planner::plan_blocking` give the same plan for
//! the TravelPlanner dev queries on the real sandbox catalog.

mod common;

use std::sync::Arc;
use std::time::Duration;
use wayfare_domain::overrides::TripOverrides;

use wayfare_domain::trip::TripStatus;
use wayfare_engine::clock::SystemClock;
use wayfare_engine::orchestrator::Planner;
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_plans_dev_queries_exactly_as_the_cli_does() {
    let Some(catalog) = common::catalog() else {
        return;
    };
    let planner = Planner::new(catalog.clone()).with_default_year(2022);
    let mut config = RuntimeConfig::default();
    config.orchestrator.default_year = Some(2022);
    let rt = Runtime::start(
        config,
        MemoryRuntimeStore::new(),
        catalog.clone(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let queries: Vec<String> = common::read("dev_queries.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(4)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["query"].as_str().unwrap().to_string()
        })
        .collect();
    let mut ids = Vec::new();
    for q in &queries {
        ids.push(
            rt.submit(q.clone(), TripOverrides::default())
                .await
                .unwrap()
                .trip_id,
        );
    }
    for (q, id) in queries.iter().zip(&ids) {
        let mut status = rt.status(id).await.unwrap().unwrap();
        for _ in 0..1200 {
            if status.status != TripStatus::Planning {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            status = rt.status(id).await.unwrap().unwrap();
        }
        let view = rt.trip(id).await.unwrap().unwrap();
        let expected = planner.plan_blocking(q);
        assert_eq!(view.status, TripStatus::Ready, "{q}: {}", view.explanation);
        assert_eq!(view.itinerary, expected.itinerary, "{q}");
    }
    rt.shutdown().await;
}
