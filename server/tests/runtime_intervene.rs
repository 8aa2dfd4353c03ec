//! Manual intervention on the real runtime over the real store, on SQLite
//! and PostgreSQL: a task that failed for good is tried again (after the
//! process that failed it is replaced by a healthy one) and the trip
//! reaches `ready`; an optional task that is stuck is left out, the trip
//! finishes degraded and the task's late answer is dropped; a ready trip's plan is checked again; a trip stalled
//! on a frozen instance is resumed; a stuck trip is marked as failed. Each
//! intervention is in the trip's log with its actor and reason, and what
//! does not apply is refused with nothing recorded.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{QUERY, TestDb};
use wayfare_domain::trip::{Intervention, InterventionAction, TripStatus, TripStatusView};
use wayfare_engine::clock::SystemClock;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::{InterventionError, Runtime, RuntimeConfig};
use wayfare_engine::state::{EventStore, StoredEvent, TripEvent, TripId};
use wayfare_server::commands::open_catalog;
use wayfare_store::Store;

fn config() -> RuntimeConfig {
    let mut c = RuntimeConfig::default();
    c.cache.enabled = false;
    c.orchestrator.retry_initial_ms = 5;
    c.orchestrator.heartbeat_ms = 100;
    c.orchestrator.ping_deadline_ms = 200;
    c
}

/// Every call of `agent_type` fails.
fn failing(agent_type: &str) -> RuntimeConfig {
    let mut c = config();
    c.orchestrator.retry_attempts = 1;
    c.orchestrator.failover_instances = 0;
    c.faults.insert(
        agent_type.into(),
        FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::default()
        },
    );
    c
}

async fn start(store: &Store, config: RuntimeConfig) -> Arc<Runtime<Store>> {
    let catalog = open_catalog(store).await.expect("demo catalog");
    Runtime::start(config, store.clone(), catalog, Arc::new(SystemClock))
        .await
        .expect("start the runtime")
}

fn ask(action: InterventionAction, task_id: Option<&str>, reason: &str) -> Intervention {
    Intervention {
        action,
        task_id: task_id.map(str::to_owned),
        reason: reason.into(),
        actor: Some("ops@example".into()),
    }
}

async fn status(rt: &Runtime<Store>, id: &str) -> TripStatusView {
    rt.status(id).await.expect("status").expect("the trip")
}

/// Polls until `done` holds (a bounded wait on real time, not a sleep
/// that a test's result depends on).
async fn wait_for(
    rt: &Runtime<Store>,
    id: &str,
    what: &str,
    done: impl Fn(&TripStatusView) -> bool,
) -> TripStatusView {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = status(rt, id).await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: still {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn task_of<'a>(s: &'a TripStatusView, agent_type: &str) -> &'a wayfare_domain::trip::TaskView {
    s.tasks
        .iter()
        .find(|t| t.agent_type == agent_type)
        .unwrap_or_else(|| panic!("no {agent_type} task in {s:?}"))
}

async fn log_of(store: &Store, id: &str) -> Vec<StoredEvent> {
    let trip: TripId = id.parse().expect("a trip id");
    EventStore::load(store, trip, 0).await.expect("the log")
}

/// The trip's interventions as (action, task, actor, reason).
async fn interventions(
    store: &Store,
    id: &str,
) -> Vec<(InterventionAction, Option<String>, String, String)> {
    log_of(store, id)
        .await
        .into_iter()
        .filter_map(|e| match e.event {
            TripEvent::InterventionApplied {
                action,
                task_id,
                actor,
                reason,
            } => Some((action, task_id.map(|t| t.to_string()), actor, reason)),
            _ => None,
        })
        .collect()
}

fn refused(result: Result<wayfare_domain::trip::TripView, InterventionError>) -> String {
    match result {
        Err(InterventionError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn invalid(result: Result<wayfare_domain::trip::TripView, InterventionError>) -> String {
    match result {
        Err(InterventionError::Invalid(why)) => why,
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

async fn a_failed_task_is_tried_again_and_the_trip_reaches_ready(db: TestDb) {
    let store = Store::connect(&db.url).await.expect("open the database");
    // A process whose transport agent is broken fails the trip.
    let broken = start(&store, failing("transport")).await;
    let id = broken
        .submit(QUERY.into(), Default::default())
        .await
        .expect("submit")
        .trip_id;
    let failed = wait_for(&broken, &id, "the trip fails", |s| {
        s.status == TripStatus::Failed
    })
    .await;
    let transport = task_of(&failed, "transport").clone();
    assert_eq!(transport.status, "failed", "[{}] {failed:?}", db.name);
    let version = failed.version;

    // Refusals, with nothing recorded.
    let location = task_of(&failed, "location").task_id.clone();
    let why = refused(
        broken
            .intervene(
                &id,
                ask(InterventionAction::RetryTask, Some(&location), "why not"),
                "x",
            )
            .await,
    );
    assert!(why.contains("did not fail"), "{why}");
    let why = refused(
        broken
            .intervene(&id, ask(InterventionAction::Reverify, None, "check"), "x")
            .await,
    );
    assert!(why.contains("only a ready trip"), "{why}");
    let why = refused(
        broken
            .intervene(&id, ask(InterventionAction::Fail, None, "stop"), "x")
            .await,
    );
    assert!(why.contains("failed"), "{why}");
    let why = invalid(
        broken
            .intervene(
                &id,
                ask(InterventionAction::RetryTask, Some(&location), " "),
                "x",
            )
            .await,
    );
    assert!(why.contains("reason"), "{why}");
    let why = invalid(
        broken
            .intervene(
                &id,
                ask(InterventionAction::RetryTask, Some("no-such-task"), "r"),
                "x",
            )
            .await,
    );
    assert!(why.contains("no task"), "{why}");
    assert_eq!(
        status(&broken, &id).await.version,
        version,
        "a refusal records nothing"
    );
    broken.shutdown().await;

    // The agent is mended (a healthy process); the operator tries it again.
    let mended = start(&store, config()).await;
    let view = mended
        .intervene(
            &id,
            ask(
                InterventionAction::RetryTask,
                Some(&transport.task_id),
                "the flight data is back",
            ),
            "x",
        )
        .await
        .expect("retry");
    assert_eq!(view.status, TripStatus::Planning, "[{}]", db.name);
    let ready = wait_for(&mended, &id, "the retried trip is planned", |s| {
        s.status.is_terminal()
    })
    .await;
    assert_eq!(ready.status, TripStatus::Ready, "[{}] {ready:?}", db.name);
    let transport_after = task_of(&ready, "transport");
    assert_eq!(transport_after.status, "completed");
    assert_eq!(
        transport_after.attempts, 1,
        "a fresh retry budget: {ready:?}"
    );
    assert_eq!(
        interventions(&store, &id).await,
        vec![(
            InterventionAction::RetryTask,
            Some(transport.task_id.clone()),
            "ops@example".to_owned(),
            "the flight data is back".to_owned()
        )]
    );
    // The queue agrees with the log: every task done.
    let trip: TripId = id.parse().expect("id");
    let queued = wayfare_engine::state::TaskQueue::tasks_of(&store, trip)
        .await
        .expect("queue");
    assert!(
        queued.iter().all(|q| q.status.satisfies_dependents()),
        "[{}] {queued:?}",
        db.name
    );

    // The ready trip's plan is checked again: the verifier runs once more
    // and its verdict is the trip's.
    let before = log_of(&store, &id).await.len();
    let view = mended
        .intervene(
            &id,
            ask(InterventionAction::Reverify, None, "catalog reimported"),
            "x",
        )
        .await
        .expect("reverify");
    assert_eq!(view.status, TripStatus::Ready);
    assert!(
        view.verdict.is_some_and(|v| v.passed()),
        "the plan still passes"
    );
    let after: Vec<&'static str> = log_of(&store, &id).await[before..]
        .iter()
        .map(|e| e.event.kind())
        .collect();
    assert_eq!(
        after,
        [
            "intervention_applied",
            "task_claimed",
            "task_completed",
            "plan_ready"
        ],
        "[{}]",
        db.name
    );
    let why = refused(
        mended
            .intervene(&id, ask(InterventionAction::Resume, None, "again"), "x")
            .await,
    );
    assert!(why.contains("ready"), "{why}");
    mended.shutdown().await;
    store.close().await;
    db.drop_database().await;
}

async fn a_hanging_optional_task_is_left_out_and_a_stuck_trip_is_marked_failed(db: TestDb) {
    let store = Store::connect(&db.url).await.expect("open the database");
    // Dining answers only after three seconds: stuck, as far as the trip
    // is concerned, but its late result comes (and must not undo the skip).
    let mut slow = config();
    slow.faults.insert(
        "dining".into(),
        FaultConfig {
            added_latency: Duration::from_secs(3),
            ..FaultConfig::default()
        },
    );
    // The budget takes longer still: the trip is planning when dining's
    // late answer comes.
    slow.faults.insert(
        "budget".into(),
        FaultConfig {
            added_latency: Duration::from_secs(5),
            ..FaultConfig::default()
        },
    );
    let rt = start(&store, slow).await;
    let id = rt
        .submit(QUERY.into(), Default::default())
        .await
        .expect("submit")
        .trip_id;
    let stuck = wait_for(&rt, &id, "dining hangs while the rest is done", |s| {
        s.tasks
            .iter()
            .any(|t| t.agent_type == "dining" && t.status == "running")
            && s.tasks
                .iter()
                .any(|t| t.agent_type == "accommodation" && t.status == "completed")
    })
    .await;
    let dining = task_of(&stuck, "dining").task_id.clone();
    let transport = task_of(&stuck, "transport").task_id.clone();
    let why = invalid(
        rt.intervene(
            &id,
            ask(InterventionAction::SkipTask, Some(&transport), "skip it"),
            "x",
        )
        .await,
    );
    assert!(why.contains("needed for every plan"), "{why}");
    let view = rt
        .intervene(
            &id,
            ask(
                InterventionAction::SkipTask,
                Some(&dining),
                "restaurant data is down",
            ),
            "x",
        )
        .await
        .expect("skip");
    assert_eq!(view.status, TripStatus::Planning);
    let done = wait_for(&rt, &id, "the trip goes on without dining", |s| {
        s.status.is_terminal()
    })
    .await;
    assert_eq!(done.status, TripStatus::Ready, "[{}] {done:?}", db.name);
    let trip = rt.trip(&id).await.expect("trip").expect("the trip");
    assert!(
        trip.degraded.iter().any(|d| d.contains("dining")
            && d.contains("ops@example")
            && d.contains("restaurant data is down")),
        "{:?}",
        trip.degraded
    );
    let why = refused(
        rt.intervene(
            &id,
            ask(InterventionAction::SkipTask, Some(&dining), "again"),
            "x",
        )
        .await,
    );
    assert!(
        why.contains("only be left out while the trip is planning"),
        "{why}"
    );

    // A second trip stuck on the same hang is ended by hand.
    let other = rt
        .submit(QUERY.into(), Default::default())
        .await
        .expect("submit")
        .trip_id;
    wait_for(&rt, &other, "dining hangs", |s| {
        s.tasks
            .iter()
            .any(|t| t.agent_type == "dining" && t.status == "running")
    })
    .await;
    let view = rt
        .intervene(
            &other,
            Intervention {
                actor: None,
                ..ask(InterventionAction::Fail, None, "the customer gave up")
            },
            "the night shift",
        )
        .await
        .expect("fail");
    assert_eq!(view.status, TripStatus::Failed);
    assert!(
        view.explanation.contains("the night shift")
            && view.explanation.contains("the customer gave up"),
        "{}",
        view.explanation
    );
    let why = refused(
        rt.intervene(&other, ask(InterventionAction::Fail, None, "again"), "x")
            .await,
    );
    assert!(why.contains("failed"), "{why}");
    assert_eq!(
        interventions(&store, &other).await,
        vec![(
            InterventionAction::Fail,
            None,
            "the night shift".to_owned(),
            "the customer gave up".to_owned()
        )]
    );
    // Its tasks are off the queue.
    let trip: TripId = other.parse().expect("id");
    let queued = wayfare_engine::state::TaskQueue::tasks_of(&store, trip)
        .await
        .expect("queue");
    assert!(queued.iter().all(|q| q.status.is_final()), "{queued:?}");

    // The skipped dining's late answer is dropped: the log and the queue
    // keep the skip.
    let deadline = Instant::now() + Duration::from_secs(20);
    while rt.metrics().agents["dining"].successes < 1 {
        assert!(Instant::now() < deadline, "dining never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let trip: TripId = id.parse().expect("id");
    let dining_id: wayfare_engine::state::TaskId = dining.parse().expect("task id");
    for _ in 0..25 {
        let queued = wayfare_engine::state::TaskQueue::tasks_of(&store, trip)
            .await
            .expect("queue");
        let row = queued
            .iter()
            .find(|q| q.task_id == dining_id)
            .expect("dining");
        assert_eq!(
            row.status,
            wayfare_engine::state::TaskStatus::Skipped,
            "[{}]",
            db.name
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !log_of(&store, &id).await.iter().any(|e| matches!(
            &e.event,
            TripEvent::TaskCompleted { task_id, .. } if *task_id == dining_id
        )),
        "the late result is not logged"
    );
    rt.shutdown().await;
    store.close().await;
    db.drop_database().await;
}

async fn a_trip_stalled_on_a_frozen_instance_is_resumed(db: TestDb) {
    let store = Store::connect(&db.url).await.expect("open the database");
    let mut c = config();
    // The frozen instance's lease would hold the task for ten minutes, and
    // it is found out (marked offline, at the first heartbeat's ping) only
    // after the task was handed to it: then nothing moves until the lease
    // runs out.
    c.orchestrator.lease_ms = 600_000;
    c.orchestrator.heartbeat_ms = 2_000;
    let rt = start(&store, c).await;
    let frozen = rt
        .agents()
        .into_iter()
        .find(|a| a.agent_type == "transport")
        .expect("a transport instance")
        .agent_id;
    assert!(rt.freeze_instance(&frozen));
    let id = rt
        .submit(QUERY.into(), Default::default())
        .await
        .expect("submit")
        .trip_id;
    wait_for(&rt, &id, "transport stalls on the frozen instance", |s| {
        s.tasks
            .iter()
            .any(|t| t.agent_type == "transport" && t.status == "running")
            && s.tasks
                .iter()
                .any(|t| t.agent_type == "accommodation" && t.status == "completed")
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rt
        .agents()
        .iter()
        .any(|a| a.agent_id == frozen && a.status == "offline")
    {
        assert!(
            Instant::now() < deadline,
            "the frozen instance is never marked offline"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status(&rt, &id).await.status,
        TripStatus::Planning,
        "stalled"
    );
    let view = rt
        .intervene(
            &id,
            ask(InterventionAction::Resume, None, "transport looks stuck"),
            "x",
        )
        .await
        .expect("resume");
    assert_eq!(view.status, TripStatus::Planning);
    let done = wait_for(&rt, &id, "the resumed trip is planned", |s| {
        s.status.is_terminal()
    })
    .await;
    assert_eq!(done.status, TripStatus::Ready, "[{}] {done:?}", db.name);
    assert_eq!(
        interventions(&store, &id).await,
        vec![(
            InterventionAction::Resume,
            None,
            "ops@example".to_owned(),
            "transport looks stuck".to_owned()
        )]
    );
    rt.shutdown().await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_reverify_on_every_backend() {
    for db in TestDb::all().await {
        a_failed_task_is_tried_again_and_the_trip_reaches_ready(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_and_fail_on_every_backend() {
    for db in TestDb::all().await {
        a_hanging_optional_task_is_left_out_and_a_stuck_trip_is_marked_failed(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_on_every_backend() {
    for db in TestDb::all().await {
        a_trip_stalled_on_a_frozen_instance_is_resumed(db).await;
    }
}

#[test]
fn old_logs_without_interventions_still_decode_and_the_new_event_round_trips() {
    let old = r#"{"kind":"plan_failed","reason":"the transport agent failed"}"#;
    assert!(serde_json::from_str::<TripEvent>(old).is_ok());
    let event = TripEvent::InterventionApplied {
        action: InterventionAction::RetryTask,
        task_id: None,
        actor: "ops".into(),
        reason: "mended".into(),
    };
    let json = serde_json::to_string(&event).expect("json");
    assert!(json.contains(r#""kind":"intervention_applied""#), "{json}");
    assert!(json.contains(r#""action":"retry_task""#), "{json}");
    assert_eq!(
        serde_json::from_str::<TripEvent>(&json).expect("decode"),
        event
    );
}
