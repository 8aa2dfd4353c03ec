//! The runtime service on the SQL store (SQLite and, where reachable,
//! PostgreSQL): a trip plans to a verified plan, and a trip interrupted by a
//! shutdown finishes under a new runtime without re-running finished agents.
//! Real time (the pool does real I/O); leases are short to keep it quick.

mod support;

use std::sync::Arc;
use std::time::Duration;
use wayfare_domain::overrides::TripOverrides;

use wayfare_domain::trip::{TripStatus, TripStatusView};
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::SystemClock;
use wayfare_engine::orchestrator::Planner;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::{Runtime, RuntimeConfig};
use wayfare_engine::state::AgentType;
use wayfare_store::Store;

const DENVER: &str =
    "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

fn config() -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.cache.enabled = false;
    c.orchestrator.lease_ms = 1_000;
    c.orchestrator.heartbeat_ms = 100;
    c.orchestrator.ping_deadline_ms = 500;
    c
}

async fn start(config: RuntimeConfig, store: Store) -> Arc<Runtime<Store>> {
    Runtime::start(config, store, catalog(), Arc::new(SystemClock))
        .await
        .expect("the runtime starts")
}

async fn wait_for(
    rt: &Arc<Runtime<Store>>,
    id: &str,
    done: impl Fn(&TripStatusView) -> bool,
) -> TripStatusView {
    let mut last = None;
    for _ in 0..600 {
        let status = rt.status(id).await.unwrap().expect("the trip exists");
        if done(&status) {
            return status;
        }
        last = Some(status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting on trip {id}: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_is_planned_and_resumed_on_every_backend() {
    let expected = Planner::new(catalog()).plan_blocking(DENVER).itinerary;
    for db in support::all_backends().await {
        // Planned through the SQL queue and log, the same plan as the CLI's.
        let rt = start(config(), db.store.clone()).await;
        let id = rt
            .submit(DENVER.into(), TripOverrides::default())
            .await
            .unwrap()
            .trip_id;
        let status = wait_for(&rt, &id, |s| s.status != TripStatus::Planning).await;
        assert_eq!(status.status, TripStatus::Ready, "{}", db.name);
        let view = rt.trip(&id).await.unwrap().unwrap();
        assert_eq!(view.itinerary, expected, "{}", db.name);

        // Interrupted while the budget agent is slow, then resumed.
        let mut slow = config();
        slow.faults.insert(
            "budget".into(),
            FaultConfig {
                added_latency: Duration::from_secs(3_600),
                ..FaultConfig::default()
            },
        );
        rt.shutdown().await;
        let first = start(slow, db.store.clone()).await;
        let id = first
            .submit(DENVER.into(), TripOverrides::default())
            .await
            .unwrap()
            .trip_id;
        wait_for(&first, &id, |s| {
            s.tasks
                .iter()
                .any(|t| t.agent_type == "budget" && t.status == "running")
        })
        .await;
        first.shutdown().await;
        let second = start(config(), db.store.clone()).await;
        let status = wait_for(&second, &id, |s| s.status != TripStatus::Planning).await;
        assert_eq!(status.status, TripStatus::Ready, "{}", db.name);
        // Every type before the budget but the optional tips, which may
        // still have been running.
        let finished = AgentType::ALL
            .into_iter()
            .filter(|t| !matches!(t, AgentType::Tips | AgentType::Budget | AgentType::Verifier));
        for agent in finished {
            assert_eq!(
                second.invocations(agent),
                0,
                "{agent} re-ran on {}",
                db.name
            );
        }
        assert_eq!(second.invocations(AgentType::Budget), 1, "{}", db.name);
        second.shutdown().await;
        db.finish().await;
    }
}
