//! The trip state machine as tables (`decide`, `apply`), and the in-memory
//! event store and task queue against the port contracts.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use wayfare_engine::clock::{Clock, ManualClock};
use wayfare_engine::state::{
    AppendError, Batch, Command, EventStore, FailedAttempt, Lease, MemoryEventStore,
    MemoryTaskQueue, NewTask, Priority, Rejection, SnapshotRef, StoredEvent, TaskId, TaskQueue,
    TaskStatus, TripEvent, TripId, TripLog, TripState, TripStatus, decide,
};

#[path = "common/values.rs"]
mod values;
use values::*;
use wayfare_engine::state::AgentType;

fn t0() -> DateTime<Utc> {
    ManualClock::at_epoch().now()
}

/// A lease of 30 s that `holder` takes or extends at `now`.
fn lease(holder: &str, now: DateTime<Utc>) -> Lease<'_> {
    Lease {
        holder,
        now,
        length: Duration::from_secs(30),
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

fn state_of(events: &[TripEvent]) -> TripState {
    let mut state = TripState::new(TripId::new());
    for e in events {
        state.apply(e);
    }
    state
}

fn submitted() -> TripEvent {
    TripEvent::TripSubmitted {
        query: "3 days in Denver".into(),
        overrides: Box::default(),
    }
}

fn scheduled(id: TaskId, priority: Priority, deps: &[TaskId]) -> TripEvent {
    TripEvent::TaskScheduled {
        task_id: id,
        agent_type: AgentType::Transport,
        priority,
        depends_on: deps.to_vec(),
    }
}

fn claimed(id: TaskId, by: &str, attempt: u32, until: i64) -> TripEvent {
    TripEvent::TaskClaimed {
        task_id: id,
        instance_id: by.into(),
        attempt,
        lease_expires_at: at(until),
    }
}

fn completed(id: TaskId) -> TripEvent {
    TripEvent::TaskCompleted {
        task_id: id,
        result: output(json!({"candidates": [1]})),
        elapsed_ms: 12,
    }
}

fn claim(id: TaskId, by: &str, now: i64) -> Command {
    Command::ClaimTask {
        task_id: id,
        instance_id: by.into(),
        now: at(now),
        lease_expires_at: at(now + 30),
        attempt: 0,
    }
}

#[test]
fn decide_follows_the_rules_of_the_trip_table() {
    let a = TaskId::new();
    let b = TaskId::new();
    let p3 = TaskId::new();
    let after_p3 = TaskId::new();
    let base = vec![
        submitted(),
        scheduled(a, Priority::P0, &[]),
        scheduled(b, Priority::P1, &[a]),
        scheduled(p3, Priority::P3, &[]),
        scheduled(after_p3, Priority::P2, &[p3]),
    ];
    let with = |extra: &[TripEvent]| {
        let mut events = base.clone();
        events.extend_from_slice(extra);
        events
    };
    type Expect = Result<Vec<TripEvent>, Rejection>;
    let cases: Vec<(&str, Vec<TripEvent>, Command, Expect)> = vec![
        (
            "nothing but a submit is accepted before the trip exists",
            vec![],
            Command::Cancel,
            Err(Rejection::NotSubmitted),
        ),
        (
            "a second submit is refused",
            with(&[]),
            Command::Submit {
                query: "again".into(),
                overrides: Box::default(),
            },
            Err(Rejection::AlreadySubmitted),
        ),
        (
            "a task with a pending dependency cannot be claimed",
            with(&[]),
            claim(b, "i1", 0),
            Err(Rejection::DependenciesPending {
                task: b,
                pending: vec![a],
            }),
        ),
        (
            "a task whose dependencies completed is claimed as attempt 1",
            with(&[claimed(a, "i1", 1, 30), completed(a)]),
            claim(b, "i2", 40),
            Ok(vec![TripEvent::TaskClaimed {
                task_id: b,
                instance_id: "i2".into(),
                attempt: 1,
                lease_expires_at: at(70),
            }]),
        ),
        (
            "a skipped dependency does not block its dependents",
            with(&[TripEvent::TaskSkipped {
                task_id: p3,
                reason: "load".into(),
            }]),
            claim(after_p3, "i2", 0),
            Ok(vec![claimed(after_p3, "i2", 1, 30)]),
        ),
        (
            "a critical-path task cannot be skipped",
            with(&[]),
            Command::SkipTask {
                task_id: a,
                reason: "load".into(),
            },
            Err(Rejection::CriticalTask(a)),
        ),
        (
            "a live lease keeps other instances out",
            with(&[claimed(a, "i1", 1, 30)]),
            claim(a, "i2", 10),
            Err(Rejection::Leased {
                task: a,
                holder: "i1".into(),
                until: at(30),
            }),
        ),
        (
            "an expired lease lets another instance claim the next attempt",
            with(&[claimed(a, "i1", 1, 30)]),
            claim(a, "i2", 31),
            Ok(vec![claimed(a, "i2", 2, 61)]),
        ),
        (
            "a completed task is never claimed again",
            with(&[claimed(a, "i1", 1, 30), completed(a)]),
            claim(a, "i2", 40),
            Err(Rejection::TaskFinished {
                task: a,
                status: TaskStatus::Completed,
            }),
        ),
        (
            "completing a completed task is a no-op",
            with(&[claimed(a, "i1", 1, 30), completed(a)]),
            Command::CompleteTask {
                task_id: a,
                result: output(json!("late")),
                elapsed_ms: 5,
            },
            Ok(vec![]),
        ),
        (
            "a late failure after a success changes nothing",
            with(&[claimed(a, "i1", 1, 30), completed(a)]),
            Command::FailTask {
                task_id: a,
                error: "boom".into(),
                retryable: true,
            },
            Ok(vec![]),
        ),
        (
            "a failure records the attempt it ended",
            with(&[claimed(a, "i1", 1, 30)]),
            Command::FailTask {
                task_id: a,
                error: "timeout".into(),
                retryable: true,
            },
            Ok(vec![TripEvent::TaskFailed {
                task_id: a,
                error: "timeout".into(),
                retryable: true,
                attempt: 1,
            }]),
        ),
        (
            "only the lease holder may heartbeat",
            with(&[claimed(a, "i1", 1, 30)]),
            Command::Heartbeat {
                task_id: a,
                instance_id: "i2".into(),
                lease_expires_at: at(60),
            },
            Err(Rejection::NotLeaseHolder {
                task: a,
                instance: "i2".into(),
            }),
        ),
        (
            "a P3 task can be skipped, flagged with its reason",
            with(&[]),
            Command::SkipTask {
                task_id: p3,
                reason: "under load".into(),
            },
            Ok(vec![TripEvent::TaskSkipped {
                task_id: p3,
                reason: "under load".into(),
            }]),
        ),
        (
            "a task cannot depend on a task not yet scheduled",
            with(&[]),
            Command::ScheduleTask {
                task_id: TaskId::from_uuid(uuid_of(1)),
                agent_type: AgentType::Dining,
                priority: Priority::P2,
                depends_on: vec![TaskId::from_uuid(uuid_of(2))],
            },
            Err(Rejection::UnknownDependency {
                task: TaskId::from_uuid(uuid_of(1)),
                dependency: TaskId::from_uuid(uuid_of(2)),
            }),
        ),
        (
            "scheduling the same task twice is a no-op",
            with(&[]),
            Command::ScheduleTask {
                task_id: a,
                agent_type: AgentType::Transport,
                priority: Priority::P0,
                depends_on: vec![],
            },
            Ok(vec![]),
        ),
        (
            "a cancelled trip accepts nothing but cancel",
            with(&[TripEvent::Cancelled]),
            claim(a, "i1", 0),
            Err(Rejection::WrongStatus {
                status: TripStatus::Cancelled,
            }),
        ),
        (
            "cancelling twice is a no-op",
            with(&[TripEvent::Cancelled]),
            Command::Cancel,
            Ok(vec![]),
        ),
        (
            "a modification re-plans the changed task and its dependents",
            with(&[
                claimed(a, "i1", 1, 30),
                completed(a),
                claimed(b, "i1", 1, 60),
                completed(b),
                TripEvent::PlanReady {
                    itinerary: plan(json!({"days": 3})),
                    verdict: verdict(json!({"ok": true})),
                },
            ]),
            Command::Modify {
                changes: changes(json!({"hotel": "cheaper"})),
                tasks: vec![a],
            },
            Ok(vec![TripEvent::ModificationApplied {
                changes: changes(json!({"hotel": "cheaper"})),
                affected_tasks: vec![a, b],
            }]),
        ),
        (
            "there is nothing to roll back without a modification",
            with(&[]),
            Command::RollBackModification {
                reason: "verifier".into(),
            },
            Err(Rejection::NothingToRollBack),
        ),
    ];
    for (name, events, command, expected) in cases {
        let state = state_of(&events);
        assert_eq!(decide(&state, command), expected, "{name}");
    }
}

fn uuid_of(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(n)
}

#[test]
fn apply_tracks_status_progress_and_version_table() {
    let a = TaskId::new();
    let b = TaskId::new();
    let base = vec![
        submitted(),
        scheduled(a, Priority::P0, &[]),
        scheduled(b, Priority::P3, &[a]),
    ];
    let with = |extra: &[TripEvent]| {
        let mut events = base.clone();
        events.extend_from_slice(extra);
        events
    };
    let cases: Vec<(&str, Vec<TripEvent>, TripStatus, f64)> = vec![
        (
            "a new trip is planning",
            vec![submitted()],
            TripStatus::Planning,
            0.0,
        ),
        ("nothing done yet", with(&[]), TripStatus::Planning, 0.0),
        (
            "one of two tasks completed",
            with(&[claimed(a, "i", 1, 30), completed(a)]),
            TripStatus::Planning,
            0.5,
        ),
        (
            "a skipped task counts as done",
            with(&[
                claimed(a, "i", 1, 30),
                completed(a),
                TripEvent::TaskSkipped {
                    task_id: b,
                    reason: "load".into(),
                },
            ]),
            TripStatus::Planning,
            1.0,
        ),
        (
            "questions pause the trip",
            with(&[TripEvent::NeedsInput {
                questions: questions(json!(["when?"])),
            }]),
            TripStatus::NeedsInput,
            0.0,
        ),
        (
            "a ready plan is complete",
            with(&[TripEvent::PlanReady {
                itinerary: plan(json!({})),
                verdict: verdict(json!({})),
            }]),
            TripStatus::Ready,
            1.0,
        ),
        (
            "a failed plan",
            with(&[TripEvent::PlanFailed {
                reason: "no flights".into(),
            }]),
            TripStatus::Failed,
            0.0,
        ),
        (
            "a cancelled trip",
            with(&[TripEvent::Cancelled]),
            TripStatus::Cancelled,
            0.0,
        ),
    ];
    for (name, events, status, progress) in cases {
        let state = state_of(&events);
        assert_eq!(state.status, status, "{name}");
        assert!((state.progress() - progress).abs() < 1e-9, "{name}");
        assert_eq!(state.version, events.len() as u64, "{name}");
    }
}

#[test]
fn a_rolled_back_modification_restores_the_previous_plan() {
    let a = TaskId::new();
    let mut state = state_of(&[
        submitted(),
        scheduled(a, Priority::P0, &[]),
        claimed(a, "i", 1, 30),
        completed(a),
        TripEvent::PlanReady {
            itinerary: plan(json!({"v": 1})),
            verdict: verdict(json!({"ok": true})),
        },
    ]);
    let before = state.clone();
    for event in decide(
        &state,
        Command::Modify {
            changes: changes(json!({})),
            tasks: vec![a],
        },
    )
    .expect("modify")
    {
        state.apply(&event);
    }
    assert_eq!(state.status, TripStatus::Planning);
    assert_eq!(state.task(a).map(|t| t.status), Some(TaskStatus::Pending));
    for event in decide(
        &state,
        Command::RollBackModification {
            reason: "verifier refused".into(),
        },
    )
    .expect("roll back")
    {
        state.apply(&event);
    }
    assert_eq!(state.status, TripStatus::Ready);
    assert_eq!(state.tasks, before.tasks);
    assert_eq!(state.itinerary, before.itinerary);
}

/// Issue 12.1: a rollback (resume's, after a crash while a modification
/// re-planned under its new intent) and a cancel during a modification both
/// put back the intent the last good plan was made for.
#[test]
fn a_rollback_or_a_cancel_restores_the_intent_of_the_last_good_plan() {
    let a = TaskId::new();
    let good = [
        submitted(),
        TripEvent::IntentParsed {
            intent: intent(json!({"start_date": "2027-06-05"})),
        },
        scheduled(a, Priority::P0, &[]),
        claimed(a, "i", 1, 30),
        completed(a),
        TripEvent::PlanReady {
            itinerary: plan(json!({"v": 1})),
            verdict: verdict(json!({"ok": true})),
        },
    ];
    let before = state_of(&good);
    let interrupted: Vec<TripEvent> = good
        .iter()
        .cloned()
        .chain([
            TripEvent::ModificationApplied {
                changes: changes(json!([{"kind": "dates", "start": "2027-06-12"}])),
                affected_tasks: vec![a],
            },
            TripEvent::IntentParsed {
                intent: intent(json!({"start_date": "2027-06-12"})),
            },
        ])
        .collect();
    for end in [
        TripEvent::ModificationRolledBack {
            reason: "interrupted by a restart".into(),
        },
        TripEvent::Cancelled,
    ] {
        let mut events = interrupted.clone();
        events.push(end.clone());
        let after = state_of(&events);
        assert_eq!(after.intent, before.intent, "{end:?}");
        assert_eq!(after.itinerary, before.itinerary, "{end:?}");
        // (A cancel also drops the tasks' instances.)
        let settled = |s: &TripState| -> Vec<_> {
            s.tasks
                .iter()
                .map(|t| (t.task_id, t.status, t.result.clone()))
                .collect()
        };
        assert_eq!(settled(&after), settled(&before), "{end:?}");
        assert!(after.rollback.is_none());
    }
    // A rollback point saved before it held the intent (a snapshot) still
    // reads, and rolling back to it leaves the intent as it is.
    let mut mid = state_of(&interrupted);
    let mut point = serde_json::to_value(mid.rollback.as_deref().expect("a point")).unwrap();
    point.as_object_mut().unwrap().remove("intent");
    mid.rollback = Some(Box::new(
        serde_json::from_value(point).expect("an old point reads"),
    ));
    mid.apply(&TripEvent::ModificationRolledBack {
        reason: "interrupted".into(),
    });
    assert_eq!(mid.itinerary, before.itinerary);
    assert_eq!(
        mid.intent,
        Some(intent(json!({"start_date": "2027-06-12"})))
    );
}

#[test]
fn events_round_trip_through_json_with_their_kind_tag() {
    let event = scheduled(TaskId::new(), Priority::P2, &[]);
    let json = serde_json::to_value(&event).expect("serialise");
    assert_eq!(json["kind"], event.kind());
    let back: TripEvent = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, event);
}

/// Drives a trip through a realistic life: submit, parse, schedule, claims,
/// a retry, completions, a skip, a plan.
async fn plan_a_trip<S: EventStore>(log: &TripLog<S>, clock: &ManualClock) -> TripId {
    let trip = TripId::new();
    let ok = |r: Result<_, _>| r.expect("command accepted");
    ok(log
        .execute(
            trip,
            Command::Submit {
                query: "4 days Seattle to Denver".into(),
                overrides: Box::new(overrides(json!({"budget": 1800}))),
            },
        )
        .await);
    ok(log
        .execute(
            trip,
            Command::RecordIntent {
                intent: intent(json!({"destination": "Denver"})),
            },
        )
        .await);
    let transport = TaskId::new();
    let stay = TaskId::new();
    let tips = TaskId::new();
    for (id, agent, p, deps) in [
        (transport, "transport", Priority::P0, vec![]),
        (stay, "accommodation", Priority::P1, vec![transport]),
        (tips, "tips", Priority::P3, vec![]),
    ] {
        ok(log
            .execute(
                trip,
                Command::ScheduleTask {
                    task_id: id,
                    agent_type: AgentType::parse(agent).expect("an agent type"),
                    priority: p,
                    depends_on: deps,
                },
            )
            .await);
    }
    for (id, instance) in [(transport, "t-1"), (transport, "t-2"), (stay, "a-1")] {
        let now = clock.now();
        ok(log
            .execute(
                trip,
                Command::ClaimTask {
                    task_id: id,
                    instance_id: instance.into(),
                    now,
                    lease_expires_at: now + chrono::Duration::seconds(30),
                    attempt: 0,
                },
            )
            .await);
        if instance == "t-1" {
            ok(log
                .execute(
                    trip,
                    Command::FailTask {
                        task_id: id,
                        error: "timeout".into(),
                        retryable: true,
                    },
                )
                .await);
        } else {
            clock.advance(Duration::from_secs(2));
            ok(log
                .execute(
                    trip,
                    Command::CompleteTask {
                        task_id: id,
                        result: output(json!({"by": instance})),
                        elapsed_ms: 2000,
                    },
                )
                .await);
        }
    }
    ok(log
        .execute(
            trip,
            Command::SkipTask {
                task_id: tips,
                reason: "under load".into(),
            },
        )
        .await);
    ok(log
        .execute(
            trip,
            Command::FinishPlan {
                itinerary: plan(json!({"days": 4})),
                verdict: verdict(json!({"ok": true})),
            },
        )
        .await);
    trip
}

#[tokio::test]
async fn the_projection_equals_a_rebuild_from_all_events() {
    let clock = ManualClock::at_epoch();
    let store = MemoryEventStore::new();
    let log = TripLog::new(store.clone(), Arc::new(clock.clone()));
    let trip = plan_a_trip(&log, &clock).await;
    let events: Vec<StoredEvent> = store.load(trip, 0).await.expect("load");
    let rebuilt = TripState::replay(trip, &events);
    let live = store
        .trip_summary(trip)
        .await
        .expect("summary")
        .expect("present");
    assert_eq!(live.state, rebuilt.read_model());
    assert_eq!(live.status, TripStatus::Ready);
    assert_eq!(live.version, events.len() as u64);
    assert_eq!(rebuilt.task_count_in(TaskStatus::Completed), 2);
}

trait CountIn {
    fn task_count_in(&self, status: TaskStatus) -> usize;
}

impl CountIn for TripState {
    fn task_count_in(&self, status: TaskStatus) -> usize {
        self.tasks.iter().filter(|t| t.status == status).count()
    }
}

#[tokio::test]
async fn a_snapshot_plus_replay_equals_a_full_replay() {
    let clock = ManualClock::at_epoch();
    let store = MemoryEventStore::new();
    let log = TripLog::new(store.clone(), Arc::new(clock.clone())).snapshot_every(4);
    let trip = plan_a_trip(&log, &clock).await;
    let events = store.load(trip, 0).await.expect("load");
    let snapshot = store
        .load_snapshot(trip)
        .await
        .expect("snapshot")
        .expect("a snapshot was taken");
    assert!(snapshot.version > 0 && snapshot.version < events.len() as u64);
    assert_eq!(store.snapshot_count(trip), events.len() / 4);
    assert_eq!(
        store.load_state(trip).await.expect("state"),
        TripState::replay(trip, &events)
    );
}

#[tokio::test]
async fn a_stale_writer_gets_a_conflict_and_exactly_one_concurrent_append_wins() {
    let store = MemoryEventStore::new();
    let trip = TripId::new();
    store
        .append(
            Batch {
                trip_id: trip,
                expected_version: 0,
                events: &[submitted()],
            },
            t0(),
        )
        .await
        .expect("first append");
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .append(
                    Batch {
                        trip_id: trip,
                        expected_version: 1,
                        events: &[TripEvent::PlanFailed {
                            reason: format!("writer {i}"),
                        }],
                    },
                    t0(),
                )
                .await
        }));
    }
    let mut wins = 0;
    for handle in handles {
        match handle.await.expect("join") {
            Ok(version) => {
                wins += 1;
                assert_eq!(version, 2);
            }
            Err(AppendError::Conflict { expected, actual }) => {
                assert_eq!((expected, actual), (1, 2));
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.load(trip, 0).await.expect("load").len(), 2);
}

#[tokio::test]
async fn concurrent_commands_through_the_log_all_land_by_deciding_again() {
    let clock = ManualClock::at_epoch();
    let store = MemoryEventStore::new();
    let log = TripLog::new(store.clone(), Arc::new(clock.clone())).max_conflicts(20);
    let trip = TripId::new();
    log.execute(
        trip,
        Command::Submit {
            query: "q".into(),
            overrides: Box::default(),
        },
    )
    .await
    .expect("submit");
    let mut handles = Vec::new();
    for _ in 0..6 {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            log.execute(
                trip,
                Command::ScheduleTask {
                    task_id: TaskId::new(),
                    agent_type: AgentType::Dining,
                    priority: Priority::P2,
                    depends_on: vec![],
                },
            )
            .await
        }));
    }
    for handle in handles {
        handle.await.expect("join").expect("scheduled");
    }
    assert_eq!(log.load(trip).await.expect("state").tasks.len(), 6);
}

#[tokio::test]
async fn unfinished_trips_are_the_ones_still_planning() {
    let store = MemoryEventStore::new();
    let planning = TripId::new();
    let done = TripId::new();
    store
        .append(
            Batch {
                trip_id: planning,
                expected_version: 0,
                events: &[submitted()],
            },
            t0(),
        )
        .await
        .expect("append");
    store
        .append(
            Batch {
                trip_id: done,
                expected_version: 0,
                events: &[submitted(), TripEvent::Cancelled],
            },
            t0(),
        )
        .await
        .expect("append");
    assert_eq!(
        store.unfinished_trips().await.expect("list"),
        vec![planning]
    );
    assert_eq!(
        store
            .list_trips_in_status(TripStatus::Cancelled)
            .await
            .expect("list"),
        vec![done]
    );
}

fn task(trip: TripId, agent: &str, priority: Priority, deps: &[TaskId]) -> NewTask {
    NewTask {
        task_id: TaskId::new(),
        trip_id: trip,
        agent_type: agent.parse().expect("an agent type"),
        priority,
        depends_on: deps.to_vec(),
    }
}

fn types(list: &[&str]) -> Vec<AgentType> {
    list.iter()
        .map(|s| s.parse().expect("an agent type"))
        .collect()
}

#[tokio::test]
async fn claims_come_in_priority_order_and_wait_for_dependencies() {
    let q = MemoryTaskQueue::new();
    let trip = TripId::new();
    let tips = task(trip, "tips", Priority::P3, &[]);
    let flight = task(trip, "transport", Priority::P0, &[]);
    let hotel = task(trip, "accommodation", Priority::P1, &[flight.task_id]);
    let dining = task(trip, "dining", Priority::P2, &[]);
    for t in [&tips, &hotel, &dining, &flight] {
        q.enqueue(t, t0()).await.expect("enqueue");
    }
    let all = types(&["tips", "transport", "accommodation", "dining"]);
    let first = q.claim_ready(&all, lease("i", t0())).await.expect("claim");
    assert_eq!(first.map(|c| c.task_id), Some(flight.task_id));
    // The hotel (P1) waits for the flight, so P2 goes next.
    let second = q.claim_ready(&all, lease("i", t0())).await.expect("claim");
    assert_eq!(second.map(|c| c.task_id), Some(dining.task_id));
    complete_with(&q, flight.task_id, json!({"f": 1}), t0()).await;
    let third = q.claim_ready(&all, lease("i", t0())).await.expect("claim");
    assert_eq!(third.map(|c| c.task_id), Some(hotel.task_id));
    let fourth = q.claim_ready(&all, lease("i", t0())).await.expect("claim");
    assert_eq!(fourth.map(|c| c.task_id), Some(tips.task_id));
    assert_eq!(
        q.claim_ready(&all, lease("i", t0())).await.expect("claim"),
        None
    );
}

#[tokio::test]
async fn an_expired_lease_makes_the_task_claimable_by_another_instance() {
    let q = MemoryTaskQueue::new();
    let t = task(TripId::new(), "transport", Priority::P0, &[]);
    q.enqueue(&t, t0()).await.expect("enqueue");
    let kinds = types(&["transport"]);
    let one = q
        .claim_ready(&kinds, lease("dead", t0()))
        .await
        .expect("claim")
        .expect("a task");
    assert_eq!(one.attempt, 1);
    q.heartbeat(t.task_id, lease("dead", at(20)))
        .await
        .expect("heartbeat");
    assert_eq!(
        q.claim_ready(&kinds, lease("other", at(49)))
            .await
            .expect("claim"),
        None
    );
    let two = q
        .claim_ready(&kinds, lease("other", at(51)))
        .await
        .expect("claim")
        .expect("reclaimed");
    assert_eq!((two.instance_id.as_str(), two.attempt), ("other", 2));
    assert!(q.heartbeat(t.task_id, lease("dead", at(52))).await.is_err());
}

#[tokio::test]
async fn a_completed_result_is_kept_and_a_retry_waits_for_its_backoff() {
    let q = MemoryTaskQueue::new();
    let t = task(TripId::new(), "transport", Priority::P0, &[]);
    q.enqueue(&t, t0()).await.expect("enqueue");
    let kinds = types(&["transport"]);
    q.claim_ready(&kinds, lease("i", t0()))
        .await
        .expect("claim");
    q.fail(FailedAttempt {
        task_id: t.task_id,
        error: "503",
        retry_at: Some(at(10)),
        fence: None,
    })
    .await
    .expect("fail");
    assert_eq!(
        q.claim_ready(&kinds, lease("i", at(9)))
            .await
            .expect("claim"),
        None
    );
    assert!(
        q.claim_ready(&kinds, lease("i", at(10)))
            .await
            .expect("claim")
            .is_some()
    );
    assert!(complete_with(&q, t.task_id, json!(1), at(11)).await);
    assert!(!complete_with(&q, t.task_id, json!(2), at(12)).await);
    assert_eq!(
        q.result(t.task_id).await.expect("result"),
        Some(output(json!(1)))
    );
}

#[tokio::test]
async fn loading_a_trip_starts_from_its_snapshot_rather_than_the_first_event() {
    let store = MemoryEventStore::new();
    let trip = TripId::new();
    store
        .append(
            Batch {
                trip_id: trip,
                expected_version: 0,
                events: &[submitted(), TripEvent::Cancelled],
            },
            t0(),
        )
        .await
        .expect("append");
    // A snapshot that differs from the replay in a way only it can explain.
    let mut marked = TripState::replay(trip, &store.load(trip, 0).await.expect("load")[..1]);
    marked.modifications = 99;
    store
        .save_snapshot(SnapshotRef {
            trip_id: trip,
            version: 1,
            state: &marked,
        })
        .await
        .expect("save");
    let state = store.load_state(trip).await.expect("state");
    assert_eq!(state.modifications, 99, "the snapshot was used");
    assert_eq!(state.status, TripStatus::Cancelled, "and the tail replayed");
    assert_eq!(state.version, 2);
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn task_id(n: usize) -> TaskId {
        TaskId::from_uuid(uuid::Uuid::from_u128(n as u128 + 1))
    }

    /// Turns a random step into a command against the trip so far.
    fn command(step: usize, op: u8, pick: usize, flag: bool, tasks: usize) -> Command {
        let any_task = task_id(if tasks == 0 { 0 } else { pick % tasks });
        let instance = if flag { "i-1" } else { "i-2" }.to_string();
        let now = at(step as i64);
        match op % 14 {
            0 => Command::Submit {
                query: format!("trip {pick}"),
                overrides: Box::new(overrides(json!({"pick": pick}))),
            },
            1 => Command::RecordIntent {
                intent: intent(json!({"step": step})),
            },
            2 => Command::AskForInput {
                questions: questions(json!(["when?"])),
            },
            3 => Command::ScheduleTask {
                task_id: task_id(tasks),
                agent_type: [
                    AgentType::Transport,
                    AgentType::Accommodation,
                    AgentType::Tips,
                ][pick % 3],
                priority: [Priority::P0, Priority::P1, Priority::P2, Priority::P3][pick % 4],
                depends_on: if flag && tasks > 0 {
                    vec![any_task]
                } else {
                    vec![]
                },
            },
            4 => Command::ClaimTask {
                task_id: any_task,
                instance_id: instance,
                now,
                lease_expires_at: now + chrono::Duration::seconds(3),
                attempt: 0,
            },
            5 => Command::CompleteTask {
                task_id: any_task,
                result: output(json!({"step": step})),
                elapsed_ms: pick as u64,
            },
            6 => Command::FailTask {
                task_id: any_task,
                error: "boom".into(),
                retryable: flag,
            },
            7 => Command::SkipTask {
                task_id: any_task,
                reason: "load".into(),
            },
            8 => Command::FinishPlan {
                itinerary: plan(json!({"step": step})),
                verdict: verdict(json!({"ok": flag})),
            },
            9 => Command::FailPlan {
                reason: "no flights".into(),
            },
            10 => Command::Modify {
                changes: changes(json!({"pick": pick})),
                tasks: vec![any_task],
            },
            11 => Command::RollBackModification {
                reason: "refused".into(),
            },
            12 => Command::Heartbeat {
                task_id: any_task,
                instance_id: instance,
                lease_expires_at: now + chrono::Duration::seconds(5),
            },
            _ => Command::Cancel,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn replay_and_any_snapshot_plus_replay_equal_the_live_state(
            steps in proptest::collection::vec((0u8..14, 0usize..8, any::<bool>()), 0..80)
        ) {
            let trip = TripId::new();
            let mut live = TripState::new(trip);
            let mut log: Vec<StoredEvent> = Vec::new();
            let mut tasks = 0;
            for (step, (op, pick, flag)) in steps.into_iter().enumerate() {
                // Bias towards a submitted trip so the rest is exercised.
                let op = if step == 0 { 0 } else { op };
                let Ok(events) = decide(&live, command(step, op, pick, flag, tasks)) else {
                    continue;
                };
                for event in events {
                    if matches!(event, TripEvent::TaskScheduled { .. }) {
                        tasks += 1;
                    }
                    if let TripEvent::TaskClaimed { task_id, .. } = &event {
                        let task = live.task(*task_id).expect("claimed tasks exist");
                        prop_assert!(!task.status.is_final(), "a finished task is never re-run");
                        prop_assert!(live.pending_dependencies(task).is_empty(), "claimed before its dependencies");
                    }
                    let stored = StoredEvent { trip_id: trip, seq: live.version + 1, at: at(step as i64), event };
                    live.apply_stored(&stored);
                    log.push(stored);
                }
            }
            prop_assert_eq!(&TripState::replay(trip, &log), &live);
            for k in 0..=log.len() {
                let json = serde_json::to_string(&TripState::replay(trip, &log[..k])).expect("serialise");
                let mut from_snapshot: TripState = serde_json::from_str(&json).expect("deserialise");
                for event in &log[k..] {
                    from_snapshot.apply_stored(event);
                }
                prop_assert_eq!(&from_snapshot, &live, "snapshot at {}", k);
            }
            // Invariants decide guarantees whatever the order of commands.
            for task in &live.tasks {
                if task.status == TaskStatus::Completed {
                    prop_assert!(task.result.is_some());
                }
                for dep in &task.depends_on {
                    prop_assert!(live.task(*dep).is_some(), "dependencies exist");
                }
            }
            prop_assert!((0.0..=1.0).contains(&live.progress()));
        }
    }
}

#[tokio::test]
async fn a_stale_cached_state_is_caught_by_the_version_check_and_reloaded() {
    let clock = Arc::new(ManualClock::at_epoch());
    let store = MemoryEventStore::new();
    let log = TripLog::new(store.clone(), clock.clone());
    let trip = TripId::new();
    let submitted = log
        .execute(
            trip,
            Command::Submit {
                query: "3 days in Denver".into(),
                overrides: Box::default(),
            },
        )
        .await
        .unwrap();
    let stale = submitted.state.clone();
    // Someone else moves the trip on.
    let a = TaskId::new();
    log.execute(
        trip,
        Command::ScheduleTask {
            task_id: a,
            agent_type: AgentType::Location,
            priority: Priority::P2,
            depends_on: vec![],
        },
    )
    .await
    .unwrap();
    // Deciding from the stale copy conflicts, reloads, and still lands.
    let b = TaskId::new();
    let done = log
        .execute_from(
            trip,
            Some(stale.clone()),
            Command::ScheduleTask {
                task_id: b,
                agent_type: AgentType::Planning,
                priority: Priority::P0,
                depends_on: vec![a],
            },
        )
        .await
        .unwrap();
    assert_eq!(done.state.version, 3);
    assert_eq!(done.state.tasks.len(), 2);
    // A command the stale copy rejects (task `a` unknown to it) is decided
    // again on the fresh state, not refused.
    let claimed = log
        .execute_from(trip, Some(stale), claim(a, "location-1", 0))
        .await
        .unwrap();
    assert_eq!(claimed.state.task(a).unwrap().status, TaskStatus::Running);
    assert_eq!(store.load(trip, 0).await.unwrap().len(), 4);
}
