//! The orchestration runtime service end to end on the in-memory store and
//! the demo catalog: planning, delegation order, resume, faults, breaker,
//! degradation, failover, cancellation, modification, caches, admission,
//! scaling. Time is paused: leases, backoff and latency cost no real time.

use std::sync::Arc;
use std::time::Duration;
use wayfare_domain::overrides::TripOverrides;

use wayfare_domain::trip::{Change, TripStatus, TripStatusView, WireEvent};
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::TokioClock;
use wayfare_engine::hub::{MessageType, Route};
use wayfare_engine::orchestrator::Planner;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::{
    AgentConfig, MemoryRuntimeStore, ModifyError, RouteExchanges, Runtime, RuntimeConfig,
    SubmitError, Traffic,
};

use wayfare_engine::state::{AgentType, Batch, EventStore, TripEvent, TripId};

const DENVER: &str =
    "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $3,000.";
const COLORADO: &str = "Plan a 5-day trip from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, solo, budget $4,000.";

type Rt = Arc<Runtime<MemoryRuntimeStore>>;

fn catalog() -> Arc<dyn Catalog> {
    Arc::new(MemoryCatalog::new(
        demo_catalog().expect("the demo catalog loads"),
    ))
}

fn budget(usd: f64) -> wayfare_domain::bounds::Budget {
    wayfare_domain::bounds::Budget::try_from(usd).expect("a budget in range")
}

fn config() -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.orchestrator.run_agents_on_blocking_pool = false;
    c.orchestrator.retry_initial_ms = 50;
    c
}

fn no_cache(mut c: RuntimeConfig) -> RuntimeConfig {
    c.cache.enabled = false;
    c
}

fn latency(ms: u64) -> FaultConfig {
    FaultConfig {
        added_latency: Duration::from_millis(ms),
        ..FaultConfig::default()
    }
}

fn errors(rate: f64) -> FaultConfig {
    FaultConfig {
        error_rate: rate,
        ..FaultConfig::default()
    }
}

async fn start(config: RuntimeConfig, store: MemoryRuntimeStore) -> Rt {
    Runtime::start(config, store, catalog(), Arc::new(TokioClock::new()))
        .await
        .expect("the runtime starts")
}

async fn submit(rt: &Rt, query: &str) -> String {
    rt.submit(query.to_string(), TripOverrides::default())
        .await
        .expect("accepted")
        .trip_id
}

/// Waits (in paused time) until `done` holds of the trip's status.
async fn wait_for(rt: &Rt, id: &str, done: impl Fn(&TripStatusView) -> bool) -> TripStatusView {
    for _ in 0..20_000 {
        let status = rt.status(id).await.unwrap().expect("the trip exists");
        if done(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting on trip {id}");
}

async fn finished(rt: &Rt, id: &str) -> TripStatusView {
    wait_for(rt, id, |s| s.status != TripStatus::Planning).await
}

fn task<'a>(status: &'a TripStatusView, agent: &str) -> &'a wayfare_domain::trip::TaskView {
    status
        .tasks
        .iter()
        .find(|t| t.agent_type == agent)
        .unwrap_or_else(|| panic!("no {agent} task"))
}

async fn past_events(rt: &Rt, id: &str) -> Vec<WireEvent> {
    rt.events(id, 0).await.unwrap().expect("the trip exists").0
}

#[tokio::test(start_paused = true)]
async fn a_trip_completes_verifies_and_matches_the_cli_planner() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let planner = Planner::new(catalog());
    for query in [DENVER, COLORADO] {
        let id = submit(&rt, query).await;
        let status = finished(&rt, &id).await;
        let why = rt.trip(&id).await.unwrap().unwrap().explanation;
        assert_eq!(status.status, TripStatus::Ready, "{why} {status:?}");
        assert_eq!(status.progress, 1.0);
        let view = rt.trip(&id).await.unwrap().unwrap();
        let expected = planner.plan_blocking(query);
        assert!(view.verdict.as_ref().unwrap().passed());
        assert_eq!(view.itinerary, expected.itinerary, "{query}");
        assert!(view.degraded.is_empty(), "{:?}", view.degraded);
    }
    let m = rt.metrics();
    assert_eq!((m.trips_submitted, m.trips_ready), (2, 2));
    assert_eq!(m.agents["verifier"].successes, 2);
    assert_eq!(m.plan_latency_ms_count, 2);
    assert_eq!(m.plan_latency_ms_buckets.last().unwrap().1, 2);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn tasks_run_after_their_dependencies_and_count_attempts_from_one() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let id = submit(&rt, DENVER).await;
    finished(&rt, &id).await;
    // A claim is logged with its outcome: each task's "started" and
    // "completed" are neighbours in the log, in the order tasks finished.
    let events = past_events(&rt, &id).await;
    let position = |stage: &str, agent: &str| {
        events
            .iter()
            .position(|e| {
                e.data["agent_type"] == agent
                    && (e.data["stage"] == stage
                        || (stage == "completed" && e.r#type == "agent_task_completed"))
            })
            .unwrap_or_else(|| panic!("no {stage} event for {agent}"))
    };
    let parallel = ["transport", "accommodation", "dining", "activity", "tips"];
    assert!(position("completed", "location") < position("task_started", "planning"));
    for agent in parallel {
        assert!(
            position("completed", "planning") < position("task_started", agent),
            "{agent} waited for planning"
        );
        assert!(
            position("completed", agent) < position("task_started", "budget"),
            "budget waited for {agent}"
        );
    }
    assert!(position("completed", "budget") < position("task_started", "verifier"));
    // The claim order itself (most urgent first) is the queue's: see the
    // store's contract tests; the attempt numbers count from 1.
    assert!(
        events
            .iter()
            .filter(|e| e.data["stage"] == "task_started")
            .all(|e| e.data["attempt"] == 1)
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_event_stream_replays_the_past_then_streams_live_events() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let id = submit(&rt, DENVER).await;
    let (past, mut live) = rt.events(&id, 0).await.unwrap().unwrap();
    assert_eq!(past[0].r#type, "trip_planning_started");
    let mut last = past.last().unwrap().seq;
    let mut kinds = Vec::new();
    loop {
        let event = live.recv().await.unwrap();
        if event.seq <= last {
            continue;
        }
        last = event.seq;
        kinds.push(event.r#type.clone());
        if event.r#type == "trip_plan_ready" {
            break;
        }
    }
    assert!(kinds.contains(&"agent_task_completed".to_string()));
    // A late subscriber gets only what came after its sequence number.
    let (tail, _) = rt.events(&id, last - 1).await.unwrap().unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].r#type, "trip_plan_ready");
    assert!(
        rt.events(&uuid_like(), 0).await.unwrap().is_none(),
        "unknown trips have no stream"
    );
    rt.shutdown().await;
}

fn uuid_like() -> String {
    "6f1c2a3e-0000-4000-8000-000000000000".into()
}

/// The past a runtime replays from the events it remembers appending is
/// the past another runtime reads from the log, event for event (and it is
/// not read from the log).
#[tokio::test(start_paused = true)]
async fn the_replayed_past_of_a_trip_planned_here_is_the_logs() {
    let store = MemoryRuntimeStore::new();
    let first = start(config(), store.clone()).await;
    let (id, version) = ready_trip(&first, DENVER).await;
    let view = rebudget(&first, &id, version, 2_500.0).await;
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    let remembered = past_events(&first, &id).await;
    let ready = remembered
        .iter()
        .filter(|e| e.r#type == "trip_plan_ready")
        .count();
    assert_eq!(ready, 2, "the plan and its modification");
    let (tail, _) = first.events(&id, 3).await.unwrap().unwrap();
    assert_eq!(tail.first().map(|e| e.seq), Some(4));
    // An event appended behind the runtime's back shows which source it
    // replays from: the events it remembers, not the log.
    let trip: TripId = id.parse().unwrap();
    let last = remembered.last().unwrap().seq;
    store
        .append(
            Batch {
                trip_id: trip,
                expected_version: last,
                events: &[TripEvent::Cancelled],
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(past_events(&first, &id).await, remembered);
    first.shutdown().await;

    let second = start(config(), store).await;
    let logged = past_events(&second, &id).await;
    assert_eq!(logged[..remembered.len()], remembered[..]);
    assert_eq!(logged.len(), remembered.len() + 1);
    assert_eq!(logged.last().unwrap().r#type, "trip_cancelled");
    second.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_restarted_runtime_resumes_a_trip_without_rerunning_finished_agents() {
    let store = MemoryRuntimeStore::new();
    let mut slow_budget = no_cache(config());
    slow_budget
        .faults
        .insert("budget".into(), latency(3_600_000));
    let first = start(slow_budget, store.clone()).await;
    let id = submit(&first, DENVER).await;
    wait_for(&first, &id, |s| {
        s.tasks.iter().filter(|t| t.status == "completed").count() == 7
    })
    .await;
    first.shutdown().await;

    let second = start(no_cache(config()), store).await;
    let status = finished(&second, &id).await;
    assert_eq!(status.status, TripStatus::Ready);
    // The seven that completed before the restart.
    let finished = AgentType::ALL
        .into_iter()
        .filter(|t| !matches!(t, AgentType::Budget | AgentType::Verifier));
    for agent in finished {
        assert_eq!(second.invocations(agent), 0, "{agent} ran again");
    }
    assert_eq!(second.invocations(AgentType::Budget), 1);
    assert_eq!(second.invocations(AgentType::Verifier), 1);
    // The budget task was claimed again once its lease ran out.
    assert_eq!(task(&status, "budget").attempts, 2);
    second.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn every_trip_completes_under_thirty_percent_injected_failures() {
    let mut c = no_cache(config());
    c.orchestrator.retry_attempts = 8;
    c.orchestrator.circuit_breaker_threshold = 50;
    for agent in AgentType::ALL {
        c.faults.insert(agent.as_str().to_owned(), errors(0.3));
    }
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(submit(&rt, if n % 2 == 0 { DENVER } else { COLORADO }).await);
    }
    for id in &ids {
        let status = finished(&rt, id).await;
        assert_eq!(status.status, TripStatus::Ready, "{id}");
    }
    let m = rt.metrics();
    assert!(m.task_retries > 0, "faults were injected and retried");
    assert!(m.agents.values().map(|a| a.failures).sum::<u64>() > 0);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_optional_agent_opens_its_breaker_and_is_dropped_with_a_flag() {
    let mut c = no_cache(config());
    c.orchestrator.circuit_breaker_threshold = 2;
    c.faults.insert("tips".into(), errors(1.0));
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let id = submit(&rt, DENVER).await;
    let status = finished(&rt, &id).await;
    assert_eq!(status.status, TripStatus::Ready);
    assert_eq!(task(&status, "tips").status, "skipped");
    let view = rt.trip(&id).await.unwrap().unwrap();
    assert!(
        view.degraded.iter().any(|d| d.starts_with("tips:")),
        "{:?}",
        view.degraded
    );
    assert_eq!(rt.metrics().agents["tips"].breaker, "open");
    assert!(
        rt.agents()
            .iter()
            .any(|a| a.agent_type == "tips" && a.breaker == "open")
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dropped_dining_and_activity_agents_still_give_a_complete_verified_plan() {
    let mut c = no_cache(config());
    c.orchestrator.circuit_breaker_threshold = 100;
    c.faults.insert("dining".into(), errors(1.0));
    c.faults.insert("activity".into(), errors(1.0));
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let id = submit(&rt, DENVER).await;
    let status = finished(&rt, &id).await;
    assert_eq!(status.status, TripStatus::Ready, "{status:?}");
    assert_eq!(task(&status, "dining").status, "skipped");
    assert_eq!(task(&status, "activity").status, "skipped");
    let view = rt.trip(&id).await.unwrap().unwrap();
    for agent in ["dining:", "activity:"] {
        assert!(
            view.degraded.iter().any(|d| d.starts_with(agent)),
            "{agent} {:?}",
            view.degraded
        );
    }
    // The budget agent filled the plan from the catalog: every full day
    // has its meals and an attraction, and the verifier passed it.
    assert!(
        view.verdict.as_ref().is_some_and(|v| v.passed()),
        "{:?}",
        view.verdict
    );
    let itinerary = view.itinerary.expect("a plan");
    assert!(itinerary.days.iter().any(|d| !d.attractions.is_empty()));
    assert!(itinerary.days.iter().any(|d| d.dinner.is_some()));
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_permanently_failing_required_agent_fails_over_once_then_fails_the_trip() {
    let mut c = no_cache(config());
    c.orchestrator.retry_attempts = 2;
    c.orchestrator.failover_instances = 1;
    c.faults.insert("accommodation".into(), errors(1.0));
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let id = submit(&rt, DENVER).await;
    let status = finished(&rt, &id).await;
    assert_eq!(status.status, TripStatus::Failed);
    // Three attempts on one instance, then three more on another.
    assert_eq!(task(&status, "accommodation").attempts, 6);
    assert_eq!(rt.metrics().task_failovers, 1);
    let view = rt.trip(&id).await.unwrap().unwrap();
    assert!(
        view.explanation.contains("accommodation"),
        "{}",
        view.explanation
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_hung_instance_is_marked_offline_and_its_task_fails_over() {
    let mut c = no_cache(config());
    c.orchestrator.lease_ms = 5_000;
    c.orchestrator.heartbeat_ms = 500;
    c.orchestrator.ping_deadline_ms = 1_000;
    let rt = start(c, MemoryRuntimeStore::new()).await;
    assert!(rt.freeze_instance("transport-1"));
    let id = submit(&rt, DENVER).await;
    let status = finished(&rt, &id).await;
    assert_eq!(status.status, TripStatus::Ready);
    let agents = rt.agents();
    let frozen = agents.iter().find(|a| a.agent_id == "transport-1").unwrap();
    assert_eq!(frozen.status, "offline");
    assert!(
        agents
            .iter()
            .any(|a| a.agent_type == "transport" && a.status != "offline" && a.successes > 0)
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn cancelling_stops_in_flight_tasks_and_is_idempotent() {
    let mut c = no_cache(config());
    c.faults.insert("budget".into(), latency(60_000));
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let id = submit(&rt, DENVER).await;
    wait_for(&rt, &id, |s| {
        s.tasks
            .iter()
            .any(|t| t.agent_type == "budget" && t.status == "running")
    })
    .await;
    let cancelled = rt.cancel(&id).await.unwrap();
    assert_eq!(cancelled.status, TripStatus::Cancelled);
    let again = rt.cancel(&id).await.unwrap();
    assert_eq!(
        again.version, cancelled.version,
        "a second cancel appends nothing"
    );
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(
        rt.invocations(AgentType::Budget),
        0,
        "the budget agent never ran"
    );
    let status = rt.status(&id).await.unwrap().unwrap();
    assert_eq!(status.status, TripStatus::Cancelled);
    assert_ne!(task(&status, "budget").status, "completed");
    assert!(rt.cancel(&uuid_like()).await.is_err());
    rt.shutdown().await;
}

async fn ready_trip(rt: &Rt, query: &str) -> (String, u64) {
    let id = submit(rt, query).await;
    let status = finished(rt, &id).await;
    assert_eq!(status.status, TripStatus::Ready);
    (id, status.version)
}

/// Changes a ready trip's budget to `usd` (the change must be accepted).
async fn rebudget(rt: &Rt, id: &str, version: u64, usd: f64) -> wayfare_domain::trip::TripView {
    rt.modify(id, version, vec![Change::Budget { value: budget(usd) }])
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_stale_version_conflicts_before_the_changes_are_validated() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let bad = vec![Change::Reroll {
        component_id: "d9.nowhere".into(),
    }];
    assert_eq!(
        rt.modify(&id, version - 1, bad.clone()).await.unwrap_err(),
        ModifyError::Conflict {
            expected: version - 1,
            actual: version
        }
    );
    assert!(matches!(
        rt.modify(&id, version, bad).await.unwrap_err(),
        ModifyError::Invalid(_)
    ));
    assert!(matches!(
        rt.modify(
            &id,
            version,
            vec![Change::Replace {
                component_id: "d9.dinner".into(),
                with: "x".into()
            }]
        )
        .await
        .unwrap_err(),
        ModifyError::Invalid(_)
    ));
    assert_eq!(
        rt.modify(&uuid_like(), 1, vec![]).await.unwrap_err(),
        ModifyError::NotFound
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_budget_change_reruns_only_the_budget_and_the_verifier() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let before: Vec<u64> = AgentType::ALL
        .into_iter()
        .map(|a| rt.invocations(a))
        .collect();
    let view = rebudget(&rt, &id, version, 2_500.0).await;
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    assert!(view.version > version);
    assert_eq!(
        view.intent.as_ref().unwrap().budget.map(f64::from),
        Some(2_500.0)
    );
    assert!(view.itinerary.as_ref().unwrap().totals.total <= 2_500.0);
    for (agent, before) in AgentType::ALL.into_iter().zip(before) {
        let ran = rt.invocations(agent) - before;
        let expected = u64::from(matches!(agent, AgentType::Budget | AgentType::Verifier));
        assert_eq!(ran, expected, "{agent}");
    }
    let kinds: Vec<String> = past_events(&rt, &id)
        .await
        .into_iter()
        .map(|e| e.r#type)
        .collect();
    assert!(kinds.contains(&"modification_applied".to_string()));
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_modification_that_cannot_be_planned_rolls_back_to_the_last_good_plan() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let before = rt.trip(&id).await.unwrap().unwrap();
    let view = rt
        .modify(&id, version, vec![Change::Budget { value: budget(1.0) }])
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Ready);
    assert!(
        view.explanation.starts_with("Modification rolled back"),
        "{}",
        view.explanation
    );
    assert_eq!(view.itinerary, before.itinerary);
    assert_eq!(
        view.intent.as_ref().unwrap().budget.map(f64::from),
        Some(3_000.0)
    );
    let kinds: Vec<String> = past_events(&rt, &id)
        .await
        .into_iter()
        .map(|e| e.r#type)
        .collect();
    assert_eq!(kinds.last().unwrap(), "modification_rolled_back");
    assert_eq!(rt.metrics().modifications_rolled_back, 1);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn replacing_a_meal_edits_the_plan_and_runs_only_the_verifier() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let plan = rt.trip(&id).await.unwrap().unwrap().itinerary.unwrap();
    let used: Vec<String> = plan
        .days
        .iter()
        .flat_map(|d| [&d.breakfast, &d.lunch, &d.dinner])
        .flatten()
        .filter_map(|m| m.source_id.clone())
        .collect();
    let alternatives = rt.alternatives(&id, "d1.dinner").await.unwrap();
    assert!(alternatives.iter().any(|a| a.current));
    let pick = alternatives
        .iter()
        .find(|a| !used.contains(&a.id))
        .expect("an unused restaurant");
    let before_budget = rt.invocations(AgentType::Budget);
    let view = rt
        .modify(
            &id,
            version,
            vec![Change::Replace {
                component_id: "d1.dinner".into(),
                with: pick.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    let dinner = view.itinerary.unwrap().days[0].dinner.clone().unwrap();
    assert_eq!(dinner.source_id.as_deref(), Some(pick.id.as_str()));
    assert_eq!(rt.invocations(AgentType::Budget), before_budget);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_identical_request_is_served_from_the_request_cache() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (first, _) = ready_trip(&rt, DENVER).await;
    let runs = rt.invocations(AgentType::Budget);
    let again = rt
        .submit(
            format!("  {}  ", DENVER.to_uppercase()),
            TripOverrides::default(),
        )
        .await
        .unwrap();
    assert_eq!(again.status, TripStatus::Ready);
    assert_eq!(rt.invocations(AgentType::Budget), runs, "no agent ran");
    let (a, b) = (
        rt.trip(&first).await.unwrap().unwrap(),
        rt.trip(&again.trip_id).await.unwrap().unwrap(),
    );
    assert_eq!(a.itinerary, b.itinerary);
    let m = rt.metrics();
    assert_eq!(m.cache["request"].hits, 1);
    let same_text = rt
        .submit(DENVER.into(), TripOverrides::default())
        .await
        .unwrap();
    assert_eq!(same_text.status, TripStatus::Ready);
    assert!(rt.metrics().cache["data"].hits >= 1, "the parse was reused");
    rt.invalidate_all();
    let third = rt
        .submit(DENVER.into(), TripOverrides::default())
        .await
        .unwrap();
    assert_eq!(third.status, TripStatus::Planning, "the cache was emptied");
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_full_waiting_line_answers_overloaded_and_waiting_trips_run_later() {
    let mut c = no_cache(config());
    c.orchestrator.max_concurrent_requests = 1;
    c.orchestrator.queue_capacity = 1;
    c.faults.insert("budget".into(), latency(5_000));
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let a = submit(&rt, DENVER).await;
    let b = submit(&rt, COLORADO).await;
    let refused = rt
        .submit(DENVER.into(), TripOverrides::default())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, SubmitError::Overloaded { .. }),
        "{refused:?}"
    );
    assert_eq!(rt.metrics().trips_waiting, 1);
    assert_eq!(finished(&rt, &a).await.status, TripStatus::Ready);
    assert_eq!(finished(&rt, &b).await.status, TripStatus::Ready);
    // While b waited, a's optional tips gave way.
    let view = rt.trip(&a).await.unwrap().unwrap();
    assert!(
        view.degraded.iter().any(|d| d.contains("under load")),
        "{:?}",
        view.degraded
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_unplannable_request_is_refused_with_the_parsers_questions() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    match rt
        .submit("somewhere nice".into(), TripOverrides::default())
        .await
    {
        Err(SubmitError::Unplannable { questions }) => assert!(!questions.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        rt.submit(format!("{DENVER}\u{0}"), TripOverrides::default())
            .await,
        Err(SubmitError::Invalid(_))
    ));
    assert!(
        serde_json::from_value::<TripOverrides>(serde_json::json!({"no_such_field": 1})).is_err()
    );
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn instances_scale_up_under_load_and_back_down_when_idle() {
    let mut c = no_cache(config());
    c.agents.insert(
        "dining".into(),
        AgentConfig {
            min_instances: 1,
            max_instances: 3,
            scale_threshold: 0.5,
            max_capacity: 1,
            cost_per_request: 0.01,
        },
    );
    c.faults.insert("dining".into(), latency(2_000));
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let dining = |rt: &Rt| {
        rt.agents()
            .iter()
            .filter(|a| a.agent_type == "dining" && a.status != "offline")
            .count()
    };
    assert_eq!(dining(&rt), 1);
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(submit(&rt, if n % 2 == 0 { DENVER } else { COLORADO }).await);
    }
    for id in &ids {
        assert_eq!(finished(&rt, id).await.status, TripStatus::Ready);
    }
    assert!(rt.metrics().agents["dining"].latency_count >= 3);
    let peak = rt
        .agents()
        .iter()
        .filter(|a| a.agent_type == "dining")
        .count();
    assert!(peak > 1, "dining scaled up");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(dining(&rt), 1, "idle instances were stopped");
    assert!(rt.metrics().cost_per_request > 0.0);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_agent_cache_answers_inputs_it_has_seen() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let view = rebudget(&rt, &id, version, 2_500.0).await;
    let runs = (
        rt.invocations(AgentType::Budget),
        rt.invocations(AgentType::Verifier),
    );
    let hits = rt.metrics().cache["agent"].hits;
    // Back to the original budget: the same inputs as the first plan.
    let back = rt
        .modify(
            &id,
            view.version,
            vec![Change::Budget {
                value: budget(3_000.0),
            }],
        )
        .await
        .unwrap();
    assert_eq!(back.status, TripStatus::Ready);
    assert_eq!(
        (
            rt.invocations(AgentType::Budget),
            rt.invocations(AgentType::Verifier)
        ),
        runs
    );
    assert!(rt.metrics().cache["agent"].hits >= hits + 2);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_request_that_cannot_be_planned_fails_at_once_without_retries() {
    let rt = start(no_cache(config()), MemoryRuntimeStore::new()).await;
    let id = submit(
        &rt,
        "A 3-day trip for two from Seattle to Denver from June 5th to June 7th, 2027, budget $10.",
    )
    .await;
    let status = finished(&rt, &id).await;
    assert_eq!(status.status, TripStatus::Failed);
    assert_eq!(
        task(&status, "budget").attempts,
        1,
        "a permanent error is not retried"
    );
    assert_eq!(rt.metrics().task_retries, 0);
    let view = rt.trip(&id).await.unwrap().unwrap();
    assert!(!view.explanation.is_empty());
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn planning_events_fan_out_on_the_hub_topics() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let mut all = rt.hub().subscribe("trips");
    let mut typed = rt.subscribe_all();
    let id = submit(&rt, DENVER).await;
    let mut per_trip = rt.hub().subscribe(&format!("trip.{id}"));
    finished(&rt, &id).await;
    let first = all.recv().await.unwrap();
    assert_eq!(first.message_type, MessageType::StatusUpdate);
    let Traffic::TripEvent { event } = &first.payload else {
        panic!("a trip event, not {:?}", first.payload);
    };
    assert_eq!(event.r#type, "trip_planning_started");
    assert_eq!(event.trip_id, id.as_str());
    assert_eq!(typed.recv().await.unwrap().r#type, "trip_planning_started");
    let mut kinds = Vec::new();
    while let Ok(m) = per_trip.try_recv() {
        if let Traffic::TripEvent { event } = &m.payload {
            kinds.push(event.r#type.clone());
        }
    }
    assert_eq!(kinds.last().map(String::as_str), Some("trip_plan_ready"));
    // One message per event, shared by both topics: the counts say so.
    let topic_messages: u64 = rt
        .hub()
        .traffic()
        .iter()
        .filter(|(t, r, _)| *t == MessageType::StatusUpdate && *r == Route::Topic)
        .map(|(_, _, n)| n)
        .sum();
    assert!(topic_messages >= kinds.len() as u64 * 2, "{topic_messages}");
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn replacing_a_stay_changes_every_night_of_it_and_rerolling_takes_the_next() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let plan = rt.trip(&id).await.unwrap().unwrap().itinerary.unwrap();
    let stay_id = plan
        .days
        .iter()
        .find_map(|d| d.accommodation.as_ref())
        .expect("a stay")
        .id
        .clone();
    let alternatives = rt.alternatives(&id, &stay_id).await.unwrap();
    assert!(
        alternatives.iter().any(|a| a.current),
        "the current stay is listed"
    );
    let pick = alternatives
        .iter()
        .find(|a| !a.current)
        .expect("another stay")
        .clone();
    let view = rt
        .modify(
            &id,
            version,
            vec![Change::Replace {
                component_id: stay_id.clone(),
                with: pick.id.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    let it = view.itinerary.unwrap();
    assert!(
        it.days
            .iter()
            .filter_map(|d| d.accommodation.as_ref())
            .all(|a| a.source_id.as_deref() == Some(pick.id.as_str()))
    );
    assert_ne!(it.totals.total, plan.totals.total);
    assert!(matches!(
        rt.alternatives(&id, "stay.Nowhere").await.unwrap_err(),
        ModifyError::Invalid(_)
    ));
    rt.shutdown().await;
}

/// A crash after a result was stored on the queue but before the log
/// heard of it: the restarted runtime copies the result into the log
/// instead of running the agent again.
#[tokio::test(start_paused = true)]
async fn a_result_the_queue_has_but_the_log_lacks_is_copied_on_resume() {
    use std::collections::BTreeMap;

    use wayfare_engine::runtime::pipeline::run_task;
    use wayfare_engine::state::{Completion, EventStore, TaskQueue, TripId};

    let store = MemoryRuntimeStore::new();
    let mut slow_budget = no_cache(config());
    slow_budget
        .faults
        .insert("budget".into(), latency(3_600_000));
    let first = start(slow_budget, store.clone()).await;
    let id = submit(&first, DENVER).await;
    let status = wait_for(&first, &id, |s| task(s, "budget").status == "running").await;
    first.shutdown().await;

    // What the budget agent would have stored just before the crash.
    let trip: TripId = id.parse().unwrap();
    let state = store.load_state(trip).await.unwrap();
    let intent = state.intent.as_deref().unwrap().intent.clone();
    let budget = state
        .tasks
        .iter()
        .find(|t| t.agent_type == AgentType::Budget)
        .unwrap();
    let mut deps = BTreeMap::new();
    for dep in &budget.depends_on {
        let agent = state.task(*dep).unwrap().agent_type;
        let result = store.result(*dep).await.unwrap().unwrap();
        deps.insert(agent, result);
    }
    let output = run_task(AgentType::Budget, &intent, &deps, catalog().as_ref(), None).unwrap();
    let now = chrono::Utc::now();
    assert!(
        store
            .complete(
                Completion {
                    task_id: budget.task_id,
                    result: &std::sync::Arc::new(output),
                    fence: None
                },
                now
            )
            .await
            .unwrap()
    );
    assert_eq!(task(&status, "budget").status, "running");

    let second = start(no_cache(config()), store).await;
    let done = finished(&second, &id).await;
    assert_eq!(done.status, TripStatus::Ready);
    assert_eq!(task(&done, "budget").status, "completed");
    assert_eq!(
        second.invocations(AgentType::Budget),
        0,
        "the stored result was reused"
    );
    assert_eq!(second.invocations(AgentType::Verifier), 1);
    second.shutdown().await;
}

#[tokio::test]
async fn a_replaced_catalog_is_planned_with_at_once_and_the_old_plans_are_not_served_from_cache() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let first = submit(&rt, DENVER).await;
    let status = wait_for(&rt, &first, |s| s.status != TripStatus::Planning).await;
    assert_eq!(status.status, TripStatus::Ready);

    // A catalog without Denver: the same request must now be refused, not
    // answered from the request cache built on the old catalog.
    let mut data = demo_catalog().expect("demo");
    data.cities.retain(|c| c.name != "Denver");
    rt.replace_catalog(Arc::new(MemoryCatalog::new(data)));
    assert!(rt.catalog().city("Denver").is_none());
    match rt
        .submit(DENVER.to_string(), TripOverrides::default())
        .await
    {
        Err(SubmitError::Unplannable { questions }) => assert!(!questions.is_empty()),
        Ok(submitted) => {
            let status = wait_for(&rt, &submitted.trip_id, |s| {
                s.status != TripStatus::Planning
            })
            .await;
            assert_ne!(
                status.status,
                TripStatus::Ready,
                "planned on the old catalog"
            );
        }
        Err(other) => panic!("unexpected: {other:?}"),
    }
    rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trips_that_wait_for_a_slot_are_all_planned_even_when_submitted_at_once() {
    // One slot, many concurrent submissions: a trip must not be admitted
    // from the waiting line before its submission is in the log (it would
    // be stuck in planning forever, holding the slot).
    let mut c = no_cache(config());
    c.orchestrator.max_concurrent_requests = 1;
    c.orchestrator.queue_capacity = 1000;
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let mut submissions = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let rt = rt.clone();
        submissions.spawn(async move { submit(&rt, DENVER).await });
    }
    let ids = submissions.join_all().await;
    for id in &ids {
        let status = tokio::time::timeout(Duration::from_secs(60), finished(&rt, id))
            .await
            .unwrap_or_else(|_| panic!("trip {id} is stuck in planning"));
        assert_eq!(status.status, TripStatus::Ready);
    }
    rt.shutdown().await;
}

/// The trip's intent and plan as a modification left them.
async fn intent_and_plan(
    rt: &Rt,
    id: &str,
) -> (
    Option<wayfare_domain::intent::TripIntent>,
    Option<wayfare_domain::itinerary::Itinerary>,
) {
    let view = rt.trip(id).await.unwrap().expect("the trip exists");
    (view.intent, view.itinerary)
}

/// Issue 12.1: a process killed while a dates change re-plans left the trip
/// `ready` with the old itinerary but the new start date, because resume
/// rolled back the plan and not the intent the modification had recorded.
#[tokio::test(start_paused = true)]
async fn a_modification_cut_short_by_a_crash_is_rolled_back_with_its_intent_on_resume() {
    let store = MemoryRuntimeStore::new();
    let mut slow_transport = no_cache(config());
    slow_transport
        .faults
        .insert("transport".into(), latency(20_000));
    let first = start(slow_transport, store.clone()).await;
    let (id, version) = ready_trip(&first, DENVER).await;
    let (old_intent, old_plan) = intent_and_plan(&first, &id).await;
    let old_start = old_intent.as_ref().and_then(|i| i.start_date).unwrap();
    let new_start =
        wayfare_domain::bounds::TripDate::try_from(old_start.get() + chrono::Duration::days(7))
            .expect("a date in range");

    let modifying = {
        let (rt, id) = (first.clone(), id.clone());
        tokio::spawn(async move {
            rt.modify(&id, version, vec![Change::Dates { start: new_start }])
                .await
        })
    };
    // The new intent is recorded and the slow transport agent re-plans.
    wait_for(&first, &id, |s| {
        s.status == TripStatus::Planning && task(s, "transport").status == "running"
    })
    .await;
    let (mid_intent, _) = intent_and_plan(&first, &id).await;
    assert_eq!(mid_intent.and_then(|i| i.start_date), Some(new_start));
    // kill -9: the modification's own task dies with the process.
    modifying.abort();
    first.shutdown().await;

    let second = start(no_cache(config()), store).await;
    let status = finished(&second, &id).await;
    assert_eq!(status.status, TripStatus::Ready);
    let (intent, plan) = intent_and_plan(&second, &id).await;
    assert_eq!(plan, old_plan, "the last good plan is back");
    assert_eq!(
        intent.and_then(|i| i.start_date),
        Some(old_start),
        "the intent it was planned for is back with it"
    );
    // And the trip takes the next change as usual.
    let view = second
        .modify(
            &id,
            status.version,
            vec![Change::Budget {
                value: budget(2_800.0),
            }],
        )
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    assert!(!view.explanation.starts_with("Modification rolled back"));
    second.shutdown().await;
}

/// Issue 12.2: a trip served from the request cache had no tasks, so it
/// could be neither modified nor asked for alternatives (422).
#[tokio::test(start_paused = true)]
async fn a_trip_served_from_the_request_cache_can_be_modified_like_a_planned_one() {
    let rt = start(config(), MemoryRuntimeStore::new()).await;
    let (first, _) = ready_trip(&rt, DENVER).await;
    let runs = rt.invocations(AgentType::Budget);
    let again = rt
        .submit(DENVER.into(), TripOverrides::default())
        .await
        .unwrap();
    assert_eq!(again.status, TripStatus::Ready);
    assert_eq!(
        rt.invocations(AgentType::Budget),
        runs,
        "served from the cache"
    );
    let id = again.trip_id;
    let (planned, cached) = (
        rt.status(&first).await.unwrap().unwrap(),
        rt.status(&id).await.unwrap().unwrap(),
    );
    let shape = |s: &TripStatusView| -> Vec<(String, String)> {
        s.tasks
            .iter()
            .map(|t| (t.agent_type.clone(), t.status.clone()))
            .collect()
    };
    assert_eq!(shape(&cached), shape(&planned), "the same tasks, settled");

    assert_eq!(
        rt.alternatives(&id, "d1.dinner").await.unwrap(),
        rt.alternatives(&first, "d1.dinner").await.unwrap()
    );
    let view = rt
        .modify(
            &id,
            cached.version,
            vec![Change::Budget {
                value: budget(2_500.0),
            }],
        )
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    assert_eq!(view.intent.as_ref().unwrap().budget, Some(budget(2_500.0)));
    assert!(view.itinerary.as_ref().unwrap().totals.total <= 2_500.0);
    let view = rt
        .modify(
            &id,
            view.version,
            vec![Change::Travellers {
                value: wayfare_domain::bounds::Travellers::ONE,
            }],
        )
        .await
        .unwrap();
    assert_eq!(view.status, TripStatus::Ready, "{}", view.explanation);
    assert_eq!(view.intent.as_ref().unwrap().people.get(), 1);
    rt.shutdown().await;
}

/// Issue 12.3: a cancel that lands while a modification re-plans made the
/// modification fail with an internal error (HTTP 500) instead of saying
/// that the trip is no longer there to modify (409).
#[tokio::test(start_paused = true)]
async fn a_cancel_during_a_modification_makes_it_not_ready_and_keeps_the_last_good_plan() {
    let mut slow_budget = no_cache(config());
    slow_budget.faults.insert("budget".into(), latency(20_000));
    let rt = start(slow_budget, MemoryRuntimeStore::new()).await;
    let (id, version) = ready_trip(&rt, DENVER).await;
    let (old_intent, old_plan) = intent_and_plan(&rt, &id).await;
    let modifying = {
        let (rt, id) = (rt.clone(), id.clone());
        tokio::spawn(async move {
            rt.modify(
                &id,
                version,
                vec![Change::Budget {
                    value: budget(2_600.0),
                }],
            )
            .await
        })
    };
    wait_for(&rt, &id, |s| {
        s.status == TripStatus::Planning && task(s, "budget").status == "running"
    })
    .await;
    let cancelled = rt.cancel(&id).await.unwrap();
    assert_eq!(cancelled.status, TripStatus::Cancelled);
    let answer = modifying.await.expect("the modification returns");
    assert_eq!(answer.unwrap_err(), ModifyError::NotReady);
    let view = rt.trip(&id).await.unwrap().unwrap();
    assert_eq!(view.status, TripStatus::Cancelled);
    assert_eq!(
        view.itinerary, old_plan,
        "the abandoned re-plan is not kept"
    );
    assert_eq!(view.intent, old_intent);
    rt.shutdown().await;
}

/// Messages of `message_type` the hub carried by `route`.
fn carried(rt: &Rt, message_type: MessageType, route: Route) -> u64 {
    rt.hub()
        .traffic()
        .iter()
        .filter(|(t, r, _)| *t == message_type && *r == route)
        .map(|(_, _, n)| n)
        .sum()
}

#[tokio::test(start_paused = true)]
async fn the_activity_agent_gets_its_routes_from_the_location_agent_over_the_hub() {
    let rt = start(no_cache(config()), MemoryRuntimeStore::new()).await;
    let planner = Planner::new(catalog());
    let id = submit(&rt, COLORADO).await;
    assert_eq!(finished(&rt, &id).await.status, TripStatus::Ready);
    // One request (every city of the trip in it), one answer.
    assert_eq!(
        rt.route_exchanges(),
        RouteExchanges {
            answered: 1,
            fallback: 0
        }
    );
    assert_eq!(carried(&rt, MessageType::DataRequest, Route::Direct), 1);
    // The routes are the location agent's: the plan visits the
    // attractions in the order the in-process planner's direct call gives.
    let plan = rt.trip(&id).await.unwrap().unwrap().itinerary;
    assert!(plan.is_some());
    assert_eq!(plan, planner.plan_blocking(COLORADO).itinerary);
    rt.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn without_an_answer_from_the_location_agent_the_routes_are_ordered_locally() {
    let mut c = no_cache(config());
    // Time to freeze the location instance between its task and the
    // activity task.
    c.faults.insert("planning".into(), latency(3_000));
    c.orchestrator.ping_deadline_ms = 500;
    let rt = start(c, MemoryRuntimeStore::new()).await;
    let planner = Planner::new(catalog());
    let id = submit(&rt, DENVER).await;
    wait_for(&rt, &id, |s| {
        s.tasks
            .iter()
            .any(|t| t.agent_type == "location" && t.status == "completed")
    })
    .await;
    assert!(rt.freeze_instance("location-1"));
    assert_eq!(finished(&rt, &id).await.status, TripStatus::Ready);
    assert_eq!(
        rt.route_exchanges(),
        RouteExchanges {
            answered: 0,
            fallback: 1
        }
    );
    let plan = rt.trip(&id).await.unwrap().unwrap().itinerary;
    assert_eq!(plan, planner.plan_blocking(DENVER).itinerary);
    rt.shutdown().await;
}
