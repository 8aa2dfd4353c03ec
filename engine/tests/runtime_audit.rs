//! The runtime's background consistency auditor on the in-memory store,
//! in paused time: it runs every `audit_interval_ms` (and not at all at
//! 0), finds a read model and a queue row that disagree with the log,
//! repairs them, and its figures are in `RuntimeMetrics.consistency`.
//! (The SQL stores are tested in `server/tests/consistency.rs`.)

use std::sync::Arc;
use std::time::Duration;

use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::TripStatus;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::TokioClock;
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig};
use wayfare_engine::state::{EventStore, NewTask, TaskQueue, TaskStatus, TripId};

use wayfare_engine::state::AgentType;

const DENVER: &str =
    "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";

type Rt = Arc<Runtime<MemoryRuntimeStore>>;

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

fn config(audit_interval_ms: u64) -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.orchestrator.run_agents_on_blocking_pool = false;
    c.orchestrator.audit_interval_ms = audit_interval_ms;
    c
}

async fn start(config: RuntimeConfig, store: MemoryRuntimeStore) -> Rt {
    Runtime::start(config, store, catalog(), Arc::new(TokioClock::new()))
        .await
        .expect("the runtime starts")
}

async fn plan(rt: &Rt) -> TripId {
    let id = rt
        .submit(DENVER.to_string(), TripOverrides::default())
        .await
        .expect("accepted")
        .trip_id;
    for _ in 0..20_000 {
        let status = rt.status(&id).await.expect("status").expect("a trip");
        if status.status != TripStatus::Planning {
            assert_eq!(status.status, TripStatus::Ready);
            return id.parse().expect("a trip id");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("trip {id} still planning");
}

#[tokio::test(start_paused = true)]
async fn the_background_auditor_finds_and_repairs_what_disagrees_with_the_log() {
    let store = MemoryRuntimeStore::new();
    let rt = start(config(60_000), store.clone()).await;
    let trip = plan(&rt).await;
    assert_eq!(rt.metrics().consistency.passes, 0);
    assert_eq!(rt.metrics().consistency.score, 1.0, "1 before any audit");

    // Corrupt the read model's status and the budget task's queue row.
    let logged = store.load_state(trip).await.expect("the log");
    let mut tampered = logged.clone();
    tampered.status = TripStatus::Failed;
    assert!(store.events.put_projection(&tampered));
    let budget = logged
        .tasks
        .iter()
        .find(|t| t.agent_type == AgentType::Budget)
        .expect("a budget task");
    store.tasks.put(
        &NewTask {
            task_id: budget.task_id,
            trip_id: trip,
            agent_type: budget.agent_type,
            priority: budget.priority,
            depends_on: budget.depends_on.clone(),
        },
        TaskStatus::Failed,
        None,
        chrono::Utc::now(),
    );

    // The first pass, a minute after the start.
    tokio::time::sleep(Duration::from_secs(61)).await;
    let m = rt.metrics().consistency;
    assert_eq!(m.passes, 1);
    assert_eq!((m.audited_trips, m.agreeing_trips), (1, 0), "{m:?}");
    assert_eq!(m.score, 0.0);
    assert_eq!((m.disagreements_total, m.repairs_total), (1, 1));
    let findings = m.findings.join("\n");
    assert!(
        findings.contains(&format!(
            "trip {trip}: trip_state status 'failed', the log says 'ready'"
        )),
        "{findings}"
    );
    assert!(
        findings.contains("agent_tasks budget task 'failed', the log says 'completed'"),
        "{findings}"
    );
    assert!(
        findings.contains("agent_results has no result for the budget task"),
        "{findings}"
    );
    // Repaired from the log.
    let row = store
        .trip_summary(trip)
        .await
        .expect("read model")
        .expect("a row");
    assert_eq!(row.status, TripStatus::Ready);
    assert_eq!(row.state, logged.read_model());
    let queued = store.tasks_of(trip).await.expect("queue");
    let row = queued
        .iter()
        .find(|t| t.task_id == budget.task_id)
        .expect("the budget row");
    assert_eq!(row.status, TaskStatus::Completed);
    assert_eq!(
        store.result(budget.task_id).await.expect("result").as_ref(),
        budget.result.as_ref()
    );

    // The next pass agrees.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let m = rt.metrics().consistency;
    assert_eq!(m.passes, 2);
    assert_eq!((m.audited_trips, m.agreeing_trips), (1, 1), "{m:?}");
    assert_eq!(m.score, 1.0);
    assert_eq!((m.disagreements_total, m.repairs_total), (1, 1));
    assert!(m.findings.is_empty());
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_audit_interval_of_zero_runs_no_audit() {
    let store = MemoryRuntimeStore::new();
    let rt = start(config(0), store.clone()).await;
    let trip = plan(&rt).await;
    let mut tampered = store.load_state(trip).await.expect("the log");
    tampered.status = TripStatus::Cancelled;
    assert!(store.events.put_projection(&tampered));
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(rt.metrics().consistency.passes, 0);
    // Asked for, it audits.
    let report = rt.audit_now().await;
    assert_eq!((report.audited_trips, report.agreeing_trips), (1, 0));
    assert_eq!(rt.metrics().consistency.passes, 1);
    rt.shutdown().await;
}
