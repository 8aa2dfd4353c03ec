//! Contract tests for the agent task queue (`agent_tasks`, `agent_results`),
//! run on every backend.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use wayfare_engine::clock::{Clock, ManualClock};
use wayfare_engine::state::{
    AgentType, Completion, FailedAttempt, Lease, LeaseError, Liveness, NewTask, Priority, TaskId,
    TaskQueue, TaskStatus, TripId,
};

#[path = "../../engine/tests/common/values.rs"]
mod values;
use values::*;

fn at(secs: i64) -> DateTime<Utc> {
    ManualClock::at_epoch().now() + chrono::Duration::seconds(secs)
}

fn task(trip: TripId, agent: &str, priority: Priority, deps: &[TaskId]) -> NewTask {
    NewTask {
        task_id: TaskId::new(),
        trip_id: trip,
        agent_type: AgentType::parse(agent).expect("an agent type"),
        priority,
        depends_on: deps.to_vec(),
    }
}

fn types(list: &[&str]) -> Vec<AgentType> {
    list.iter()
        .map(|s| AgentType::parse(s).expect("an agent type"))
        .collect()
}

const LEASE: Duration = Duration::from_secs(30);

/// A lease of [`LEASE`] that `holder` takes or extends at `now`.
fn lease(holder: &str, now: DateTime<Utc>) -> Lease<'_> {
    Lease {
        holder,
        now,
        length: LEASE,
    }
}

#[tokio::test]
async fn claims_follow_priority_and_wait_for_dependencies_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let tips = task(trip, "tips", Priority::P3, &[]);
        let flight = task(trip, "transport", Priority::P0, &[]);
        let hotel = task(trip, "accommodation", Priority::P1, &[flight.task_id]);
        let dining = task(trip, "dining", Priority::P2, &[]);
        let other = task(trip, "budget", Priority::P0, &[]);
        for t in [&tips, &hotel, &dining, &flight, &other] {
            q.enqueue(t, at(0)).await.expect("enqueue");
        }
        // Enqueueing again is harmless.
        q.enqueue(&flight, at(0)).await.expect("enqueue again");
        let mine = types(&["tips", "transport", "accommodation", "dining"]);
        let mut order = Vec::new();
        for step in 0..4 {
            let claimed = q
                .claim_ready(&mine, lease("i-1", at(step)))
                .await
                .expect("claim")
                .expect("a ready task");
            order.push(claimed.task_id);
            if claimed.task_id == flight.task_id {
                assert!(q.result(flight.task_id).await.expect("result").is_none());
                complete_with(q, claimed.task_id, json!({"flights": 3}), at(step)).await;
            }
        }
        assert_eq!(
            order,
            vec![flight.task_id, hotel.task_id, dining.task_id, tips.task_id],
            "{}",
            db.name
        );
        assert_eq!(
            q.claim_ready(&mine, lease("i-1", at(10)))
                .await
                .expect("claim"),
            None,
            "{}: budget is not one of my agent types",
            db.name
        );
        assert_eq!(
            q.result(flight.task_id).await.expect("result"),
            Some(output(json!({"flights": 3}))),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_dependent_waits_until_its_dependency_is_completed_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let flight = task(trip, "transport", Priority::P0, &[]);
        let ground = task(trip, "transport", Priority::P0, &[flight.task_id]);
        q.enqueue(&ground, at(0)).await.expect("enqueue");
        q.enqueue(&flight, at(0)).await.expect("enqueue");
        let kinds = types(&["transport"]);
        let first = q
            .claim_ready(&kinds, lease("i", at(0)))
            .await
            .expect("claim");
        assert_eq!(
            first.map(|c| c.task_id),
            Some(flight.task_id),
            "{}",
            db.name
        );
        assert_eq!(
            q.claim_ready(&kinds, lease("i", at(1)))
                .await
                .expect("claim"),
            None,
            "{}: the flight is running, not completed",
            db.name
        );
        complete_with(q, flight.task_id, json!([]), at(2)).await;
        let next = q
            .claim_ready(&kinds, lease("i", at(2)))
            .await
            .expect("claim");
        assert_eq!(next.map(|c| c.task_id), Some(ground.task_id), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn an_expired_lease_makes_a_task_claimable_by_another_instance_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let t = task(TripId::new(), "transport", Priority::P0, &[]);
        q.enqueue(&t, at(0)).await.expect("enqueue");
        let kinds = types(&["transport"]);
        let first = q
            .claim_ready(&kinds, lease("doomed", at(0)))
            .await
            .expect("claim")
            .expect("claimed");
        assert_eq!(first.attempt, 1, "{}", db.name);
        let extended = q
            .heartbeat(t.task_id, lease("doomed", at(20)))
            .await
            .expect("heartbeat");
        assert_eq!(extended, at(50), "{}", db.name);
        assert_eq!(
            q.claim_ready(&kinds, lease("other", at(49)))
                .await
                .expect("claim"),
            None,
            "{}: the heartbeat extended the lease",
            db.name
        );
        let second = q
            .claim_ready(&kinds, lease("other", at(50)))
            .await
            .expect("claim")
            .expect("reclaimed after expiry");
        assert_eq!(
            (second.instance_id.as_str(), second.attempt),
            ("other", 2),
            "{}",
            db.name
        );
        assert_eq!(
            q.heartbeat(t.task_id, lease("doomed", at(51))).await,
            Err(LeaseError::Lost(t.task_id)),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn completing_twice_keeps_the_first_result_and_failures_wait_for_backoff_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let t = task(trip, "dining", Priority::P2, &[]);
        let dead = task(trip, "dining", Priority::P2, &[]);
        q.enqueue(&t, at(0)).await.expect("enqueue");
        q.enqueue(&dead, at(0)).await.expect("enqueue");
        let kinds = types(&["dining"]);
        q.claim_ready(&kinds, lease("i", at(0)))
            .await
            .expect("claim");
        q.fail(FailedAttempt {
            task_id: t.task_id,
            error: "503 from the catalog",
            retry_at: Some(at(10)),
            fence: None,
        })
        .await
        .expect("fail");
        let claimed = q
            .claim_ready(&kinds, lease("i", at(1)))
            .await
            .expect("claim")
            .expect("the other task");
        assert_eq!(
            claimed.task_id, dead.task_id,
            "{}: t is backing off",
            db.name
        );
        q.fail(FailedAttempt {
            task_id: dead.task_id,
            error: "bad input",
            retry_at: None,
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
        let retry = q
            .claim_ready(&kinds, lease("i", at(10)))
            .await
            .expect("claim")
            .expect("retry due");
        assert_eq!(
            (retry.task_id, retry.attempt),
            (t.task_id, 2),
            "{}",
            db.name
        );
        assert!(complete_with(q, t.task_id, json!(1), at(11)).await);
        assert!(!complete_with(q, t.task_id, json!(2), at(12)).await);
        assert_eq!(
            q.result(t.task_id).await.expect("result"),
            Some(output(json!(1)))
        );
        let rows = q.tasks_of(trip).await.expect("tasks");
        let statuses: Vec<_> = rows.iter().map(|r| (r.task_id, r.status)).collect();
        assert_eq!(
            statuses,
            vec![
                (t.task_id, TaskStatus::Completed),
                (dead.task_id, TaskStatus::Failed)
            ],
            "{}",
            db.name
        );
        assert_eq!(
            rows[1].last_error.as_deref(),
            Some("bad input"),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_instances_never_claim_the_same_task_on_every_backend() {
    for db in support::all_backends().await {
        let trip = TripId::new();
        let mut all = HashSet::new();
        for _ in 0..12 {
            let t = task(trip, "activity", Priority::P2, &[]);
            all.insert(t.task_id);
            db.store.enqueue(&t, at(0)).await.expect("enqueue");
        }
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    let kinds = vec![AgentType::Activity];
                    let mut mine = Vec::new();
                    while let Some(c) = store
                        .claim_ready(&kinds, lease(&format!("w-{w}"), at(1)))
                        .await
                        .expect("claim")
                    {
                        mine.push(c.task_id);
                    }
                    mine
                })
            })
            .collect();
        let mut claimed = Vec::new();
        for w in workers {
            claimed.extend(w.await.expect("join"));
        }
        let unique: HashSet<_> = claimed.iter().copied().collect();
        assert_eq!(claimed.len(), 12, "{}: each task claimed once", db.name);
        assert_eq!(unique, all, "{}", db.name);
        db.finish().await;
    }
}

fn quota(list: &[(&str, usize)]) -> Vec<(AgentType, usize)> {
    list.iter()
        .map(|(t, n)| (AgentType::parse(t).expect("an agent type"), *n))
        .collect()
}

#[tokio::test]
async fn a_batch_claim_takes_at_most_each_types_quota_of_ready_tasks_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let meals: Vec<NewTask> = (0..3)
            .map(|_| task(trip, "dining", Priority::P2, &[]))
            .collect();
        let flight = task(trip, "transport", Priority::P0, &[]);
        let drive = task(trip, "transport", Priority::P0, &[]);
        let hotel = task(trip, "accommodation", Priority::P1, &[flight.task_id]);
        let mut all = meals.clone();
        all.extend([flight.clone(), drive.clone(), hotel.clone()]);
        q.enqueue_all(&all, at(0)).await.expect("enqueue");

        let limits = quota(&[("dining", 2), ("transport", 1), ("accommodation", 5)]);
        let first = q
            .claim_ready_many(&limits, lease("i", at(1)))
            .await
            .expect("claim");
        let count = |agent: &str| {
            first
                .iter()
                .filter(|c| c.agent_type.as_str() == agent)
                .count()
        };
        assert_eq!(
            (count("dining"), count("transport"), count("accommodation")),
            (2, 1, 0),
            "{}: two meals, one transport, and the hotel waits for the flight",
            db.name
        );
        assert_eq!(
            first[0].priority,
            Priority::P0,
            "{}: most urgent first",
            db.name
        );

        // The rest, then nothing: each task is claimed once.
        let second = q
            .claim_ready_many(&limits, lease("i", at(2)))
            .await
            .expect("claim");
        assert_eq!(
            second.len(),
            2,
            "{}: the third meal and the other transport",
            db.name
        );
        let claimed: HashSet<TaskId> = first.iter().chain(&second).map(|c| c.task_id).collect();
        assert_eq!(claimed.len(), 5, "{}", db.name);
        assert!(!claimed.contains(&hotel.task_id), "{}", db.name);

        // Skipping (not only completing) the flight makes the hotel ready.
        assert!(claimed.contains(&flight.task_id), "{}", db.name);
        q.skip(flight.task_id, None).await.expect("skip");
        let third = q
            .claim_ready_many(&limits, lease("i", at(4)))
            .await
            .expect("claim");
        assert_eq!(
            third.iter().map(|c| c.task_id).collect::<Vec<_>>(),
            vec![hotel.task_id],
            "{}",
            db.name
        );
        assert!(
            q.claim_ready_many(&quota(&[("dining", 0)]), lease("i", at(5)))
                .await
                .expect("claim")
                .is_empty(),
            "{}: a zero quota claims nothing",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn one_heartbeat_extends_only_the_leases_its_instance_holds_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let mine = [
            task(trip, "dining", Priority::P2, &[]),
            task(trip, "dining", Priority::P2, &[]),
        ];
        let theirs = task(trip, "activity", Priority::P2, &[]);
        q.enqueue_all(&[mine[0].clone(), mine[1].clone(), theirs.clone()], at(0))
            .await
            .expect("enqueue");
        let a = q
            .claim_ready_many(&quota(&[("dining", 2)]), lease("a", at(0)))
            .await
            .expect("claim");
        assert_eq!(a.len(), 2, "{}", db.name);
        q.claim_ready(&types(&["activity"]), lease("b", at(0)))
            .await
            .expect("claim")
            .expect("the activity");
        let all: Vec<TaskId> = vec![mine[0].task_id, mine[1].task_id, theirs.task_id];
        let extended = q
            .heartbeat_all(&all, lease("a", at(20)))
            .await
            .expect("heartbeat");
        assert_eq!(extended, 2, "{}: b's lease is not a's to extend", db.name);
        // At 40 s b's lease (till 30 s) has run out, a's (till 50 s) has not.
        let stolen = q
            .claim_ready_many(
                &quota(&[("dining", 5), ("activity", 5)]),
                lease("c", at(40)),
            )
            .await
            .expect("claim");
        assert_eq!(
            stolen.iter().map(|c| c.task_id).collect::<Vec<_>>(),
            vec![theirs.task_id],
            "{}",
            db.name
        );
        db.finish().await;
    }
}

/// A worker running some agent types (`wayfare worker --agents
/// transport,accommodation`) names only those in its claims, and the
/// store hands it no task of another type, however urgent.
#[tokio::test]
async fn a_claim_takes_only_the_agent_types_it_names_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let planning = task(trip, "planning", Priority::P0, &[]);
        let hotel = task(trip, "accommodation", Priority::P1, &[]);
        let meal = task(trip, "dining", Priority::P2, &[]);
        q.enqueue_all(&[planning.clone(), hotel.clone(), meal.clone()], at(0))
            .await
            .expect("enqueue");
        let claimed = q
            .claim_ready_many(
                &quota(&[("transport", 8), ("accommodation", 8)]),
                lease("worker", at(1)),
            )
            .await
            .expect("claim");
        assert_eq!(
            claimed.iter().map(|c| c.task_id).collect::<Vec<_>>(),
            vec![hotel.task_id],
            "{}: only the accommodation task",
            db.name
        );
        let rest = q
            .claim_ready_many(
                &quota(&[("planning", 8), ("dining", 8)]),
                lease("web", at(1)),
            )
            .await
            .expect("claim");
        assert_eq!(
            rest.len(),
            2,
            "{}: the others are left for their types",
            db.name
        );
        db.finish().await;
    }
}

/// Tasks claimed ahead wait in the claimant's backlog, maybe longer than
/// a lease; its heartbeat renews them all in one call, tick after tick,
/// so nobody claims them again and their late completions are not
/// fenced. One it stopped renewing (no instance left to run it) is taken
/// over when its lease runs out, and then the first claimant's
/// completion is fenced.
#[tokio::test]
async fn a_claimed_backlog_renewed_every_tick_outlives_its_lease_on_every_backend() {
    for db in support::all_backends().await {
        let q = &db.store;
        let trip = TripId::new();
        let backlog: Vec<NewTask> = (0..3)
            .map(|_| task(trip, "transport", Priority::P0, &[]))
            .collect();
        q.enqueue_all(&backlog, at(0)).await.expect("enqueue");
        let claimed = q
            .claim_ready_many(&quota(&[("transport", 3)]), lease("a", at(0)))
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 3, "{}", db.name);
        let (dropped, kept) = claimed.split_first().expect("three tasks");
        let kept_ids: Vec<TaskId> = kept.iter().map(|c| c.task_id).collect();
        // Four ticks over two minutes, four leases' worth.
        for tick in 1..=4 {
            let renewed = q
                .heartbeat_all(&kept_ids, lease("a", at(tick * 25)))
                .await
                .expect("heartbeat");
            assert_eq!(renewed, 2, "{}: tick {tick}", db.name);
        }
        let taken = q
            .claim_ready_many(&quota(&[("transport", 3)]), lease("b", at(110)))
            .await
            .expect("claim");
        assert_eq!(
            taken.iter().map(|c| c.task_id).collect::<Vec<_>>(),
            vec![dropped.task_id],
            "{}: only the task a stopped renewing is taken over",
            db.name
        );
        for held in kept {
            assert!(
                q.complete(
                    Completion {
                        task_id: held.task_id,
                        result: &output(json!({"ok": true})),
                        fence: Some(held.epoch)
                    },
                    at(111)
                )
                .await
                .expect("a renewed claim completes"),
                "{}",
                db.name
            );
        }
        assert!(
            matches!(
                q.complete(
                    Completion {
                        task_id: dropped.task_id,
                        result: &output(json!({})),
                        fence: Some(dropped.epoch)
                    },
                    at(111)
                )
                .await,
                Err(LeaseError::Fenced(_))
            ),
            "{}: the copy nobody renewed is fenced",
            db.name
        );
        db.finish().await;
    }
}

/// Issue 12.11: a restarted process on SQLite (the only process using the
/// file) takes its predecessor's tasks at once, not after their leases.
#[tokio::test]
async fn a_process_starting_on_sqlite_releases_its_dead_predecessors_leases() {
    let db = support::sqlite().await;
    let q = &db.store;
    let kinds = types(&["transport"]);
    let (mine, theirs) = (
        task(TripId::new(), "transport", Priority::P0, &[]),
        task(TripId::new(), "transport", Priority::P0, &[]),
    );
    for t in [&theirs, &mine] {
        q.enqueue(t, at(0)).await.expect("enqueue");
    }
    let held = q
        .claim_ready(&kinds, lease("node-old", at(0)))
        .await
        .expect("claim")
        .expect("claimed");
    assert_eq!(held.task_id, theirs.task_id);
    let released = q
        .recover_leases(Liveness {
            node_id: "node-new",
            now: at(1),
            silent_for: Duration::from_secs(3),
        })
        .await
        .expect("recover");
    assert_eq!(released, 1);
    let mut claimed: Vec<TaskId> = Vec::new();
    while let Some(t) = q
        .claim_ready(&kinds, lease("node-new", at(2)))
        .await
        .expect("claim")
    {
        claimed.push(t.task_id);
    }
    assert_eq!(
        claimed,
        vec![theirs.task_id, mine.task_id],
        "both, 28 s before the old lease would have run out"
    );
    db.finish().await;
}

/// Issue 12.11 on PostgreSQL, shared by several processes: the leases of a
/// process that stopped saying it is alive are released; those of a
/// process that says so are kept, however long they have to run.
#[tokio::test]
async fn a_silent_process_leases_are_released_and_a_live_ones_kept_on_postgres() {
    let Some(db) = support::postgres().await else {
        return;
    };
    let q = &db.store;
    let kinds = types(&["transport"]);
    let trip = TripId::new();
    let (dead, live) = (
        task(trip, "transport", Priority::P0, &[]),
        task(trip, "transport", Priority::P0, &[]),
    );
    for t in [&dead, &live] {
        q.enqueue(t, at(0)).await.expect("enqueue");
    }
    let silence = Duration::from_millis(300);
    for (node, expected) in [("node-dead", &dead), ("node-live", &live)] {
        let claimed = q
            .claim_ready(&kinds, lease(node, at(0)))
            .await
            .expect("claim")
            .expect("claimed");
        assert_eq!(claimed.task_id, expected.task_id);
        q.node_alive(Liveness {
            node_id: node,
            now: at(0),
            silent_for: silence,
        })
        .await
        .expect("alive");
    }
    // The checker starts (a restarted process): nobody is silent yet.
    assert_eq!(
        q.recover_leases(Liveness {
            node_id: "node-new",
            now: at(0),
            silent_for: silence
        })
        .await
        .expect("recover"),
        0
    );
    // Time passes (the database's clock: liveness is stamped with it).
    tokio::time::sleep(silence + Duration::from_millis(200)).await;
    assert_eq!(
        q.node_alive(Liveness {
            node_id: "node-live",
            now: at(1),
            silent_for: silence
        })
        .await
        .expect("alive"),
        1,
        "the first live process to look releases the silent one's lease"
    );
    assert_eq!(
        q.node_alive(Liveness {
            node_id: "node-new",
            now: at(1),
            silent_for: silence
        })
        .await
        .expect("alive"),
        0,
        "once"
    );
    let taken = q
        .claim_ready(&kinds, lease("node-new", at(2)))
        .await
        .expect("claim");
    assert_eq!(taken.map(|t| t.task_id), Some(dead.task_id));
    assert_eq!(
        q.claim_ready(&kinds, lease("node-new", at(2)))
            .await
            .expect("claim"),
        None,
        "the live process keeps its lease"
    );
    // Its heartbeats still renew it.
    assert_eq!(
        q.heartbeat(live.task_id, lease("node-live", at(3))).await,
        Ok(at(33))
    );
    db.finish().await;
}
