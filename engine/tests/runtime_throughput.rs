//! A rough throughput probe (ignored by default; not a timed test):
//! `cargo test -p wayfare-engine --test runtime_throughput -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use wayfare_domain::overrides::TripOverrides;

use wayfare_domain::trip::TripStatus;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::SystemClock;
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn plans_per_second_on_the_memory_store() {
    let catalog: Arc<dyn Catalog> = Arc::new(MemoryCatalog::new(demo_catalog().unwrap()));
    let mut config = RuntimeConfig::default();
    config.cache.enabled = false;
    let rt = Runtime::start(
        config,
        MemoryRuntimeStore::new(),
        catalog,
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let n = 200;
    let start = Instant::now();
    let mut ids = Vec::new();
    for i in 0..n {
        let q = format!(
            "A 3-day trip for two from Seattle to Denver from June {}th to June {}th, 2027, budget $3,000.",
            5 + i % 10,
            7 + i % 10
        );
        ids.push(
            rt.submit(q, TripOverrides::default())
                .await
                .unwrap()
                .trip_id,
        );
    }
    let mut ready = 0;
    for id in &ids {
        loop {
            let s = rt.status(id).await.unwrap().unwrap();
            if s.status != TripStatus::Planning {
                ready += usize::from(s.status == TripStatus::Ready);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{n} trips, {ready} ready in {secs:.2}s: {:.1} plans/s (debug build)",
        n as f64 / secs
    );
    rt.shutdown().await;
}

#[test]
#[ignore]
fn plans_per_second_of_the_blocking_planner_for_comparison() {
    let catalog: Arc<dyn Catalog> = Arc::new(MemoryCatalog::new(demo_catalog().unwrap()));
    let planner = wayfare_engine::orchestrator::Planner::new(catalog);
    let n = 200;
    let start = Instant::now();
    for i in 0..n {
        let q = format!(
            "A 3-day trip for two from Seattle to Denver from June {}th to June {}th, 2027, budget $3,000.",
            5 + i % 10,
            7 + i % 10
        );
        assert!(planner.plan_blocking(&q).itinerary.is_some());
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "plan_blocking: {:.1} plans/s on one thread (debug build)",
        n as f64 / secs
    );
}
