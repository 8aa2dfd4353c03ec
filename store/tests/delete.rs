//! Deleting a trip, on every backend: `Store::delete_trip` leaves no row of
//! the trip in any table that has a `trip_id` column (found from the
//! schema, so a table added later is checked too) and touches no other
//! trip; `Runtime::delete` cancels a trip still planning, deletes it and
//! forgets it, on the SQL store and on the in-memory one.

mod support;

use std::sync::Arc;
use std::time::Duration;

use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::rating::Rating;
use wayfare_domain::trip::{TripStatus, TripStatusView};
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};
use wayfare_engine::clock::SystemClock;
use wayfare_engine::resilience::FaultConfig;
use wayfare_engine::runtime::{MemoryRuntimeStore, Runtime, RuntimeConfig, RuntimeStore};
use wayfare_engine::state::{EventStore, TaskQueue};
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

/// A configuration whose budget agent never answers: trips stay planning.
fn stuck() -> RuntimeConfig {
    let mut c = config();
    c.faults.insert(
        "budget".into(),
        FaultConfig {
            added_latency: Duration::from_secs(3_600),
            ..FaultConfig::default()
        },
    );
    c
}

async fn wait_for<S: RuntimeStore>(
    rt: &Arc<Runtime<S>>,
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

/// The tables with a `trip_id` column, from the schema.
async fn trip_tables(store: &Store) -> Vec<String> {
    match store {
        Store::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'trip_id' ORDER BY m.name",
        )
        .fetch_all(read)
        .await
        .expect("the schema reads"),
        Store::Postgres(pool, _) => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'trip_id' \
             ORDER BY table_name",
        )
        .fetch_all(pool)
        .await
        .expect("the schema reads"),
    }
}

/// How many rows each table with a `trip_id` column holds for `trip`.
async fn rows_of(store: &Store, trip: &str) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in trip_tables(store).await {
        let n: i64 = match store {
            Store::Sqlite { read, .. } => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE trip_id = ?"
            )))
            .bind(trip)
            .fetch_one(read)
            .await
            .expect("count"),
            Store::Postgres(pool, _) => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE trip_id::text = $1"
            )))
            .bind(trip)
            .fetch_one(pool)
            .await
            .expect("count"),
        };
        counts.push((table, n));
    }
    counts
}

fn nonzero(counts: &[(String, i64)]) -> Vec<&str> {
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, _)| t.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_trip_leaves_no_row_in_any_table_and_others_stay() {
    for db in support::all_backends().await {
        let rt = Runtime::start(config(), db.store.clone(), catalog(), Arc::new(SystemClock))
            .await
            .expect("the runtime starts");
        let mut ids = Vec::new();
        for _ in 0..2 {
            let id = rt
                .submit(DENVER.into(), TripOverrides::default())
                .await
                .expect("submitted")
                .trip_id;
            let status = wait_for(&rt, &id, |s| s.status.is_terminal()).await;
            assert_eq!(status.status, TripStatus::Ready, "{}", db.name);
            db.store
                .record_trip_owner(&id, "session-a")
                .await
                .expect("owner");
            ids.push(id);
        }
        rt.shutdown().await;
        let (gone, kept) = (&ids[0], &ids[1]);

        for id in &ids {
            let rating = Rating::new(4, Some("Good".into())).expect("a rating");
            db.store.rate_trip(id, &rating).await.expect("rated");
        }
        let before = rows_of(&db.store, gone).await;
        for table in [
            "trip_events",
            "trip_state",
            "agent_tasks",
            "agent_results",
            "trip_owners",
            "trip_ratings",
        ] {
            assert!(
                nonzero(&before).contains(&table),
                "{}: a planned trip has rows in {table}: {before:?}",
                db.name
            );
        }
        let kept_before = rows_of(&db.store, kept).await;

        assert!(
            db.store.delete_trip(gone).await.expect("delete"),
            "{}",
            db.name
        );
        let after = rows_of(&db.store, gone).await;
        assert!(
            nonzero(&after).is_empty(),
            "{}: rows left after the delete: {after:?}",
            db.name
        );
        assert_eq!(
            rows_of(&db.store, kept).await,
            kept_before,
            "{}: another trip was touched",
            db.name
        );
        assert_eq!(
            db.store.owned_trips("session-a", 10).await.expect("list"),
            vec![kept.clone()],
            "{}",
            db.name
        );

        // Nothing left: false, and so for ids that name nothing.
        assert!(!db.store.delete_trip(gone).await.expect("delete"));
        assert!(!db.store.delete_trip("not-a-uuid").await.expect("delete"));
        assert!(
            !db.store
                .delete_trip(&uuid::Uuid::new_v4().to_string())
                .await
                .expect("delete")
        );
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_deletes_a_ready_trip_and_a_planning_one_on_every_backend() {
    for db in support::all_backends().await {
        let rt = Runtime::start(config(), db.store.clone(), catalog(), Arc::new(SystemClock))
            .await
            .expect("the runtime starts");
        let id = rt
            .submit(DENVER.into(), TripOverrides::default())
            .await
            .expect("submitted")
            .trip_id;
        wait_for(&rt, &id, |s| s.status.is_terminal()).await;
        let (mut events, mut live) = rt.events(&id, 0).await.unwrap().expect("events");
        assert!(!events.is_empty());
        events.clear();
        assert!(rt.delete(&id).await.expect("delete"), "{}", db.name);
        assert!(rt.trip(&id).await.expect("read").is_none(), "{}", db.name);
        assert!(rt.status(&id).await.expect("read").is_none(), "{}", db.name);
        assert!(rt.events(&id, 0).await.expect("read").is_none());
        // The live stream of the deleted trip ends.
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match live.recv().await {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    _ => continue,
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "{}: the stream did not end", db.name);
        assert!(!rt.delete(&id).await.expect("delete"), "{}", db.name);
        assert!(!rt.delete("not-a-uuid").await.expect("delete"));
        rt.shutdown().await;

        // A trip still planning is cancelled, then deleted; the runtime
        // goes on planning others.
        let rt = Runtime::start(stuck(), db.store.clone(), catalog(), Arc::new(SystemClock))
            .await
            .expect("the runtime starts");
        let id = rt
            .submit(DENVER.into(), TripOverrides::default())
            .await
            .expect("submitted")
            .trip_id;
        wait_for(&rt, &id, |s| {
            s.tasks
                .iter()
                .any(|t| t.agent_type == "budget" && t.status == "running")
        })
        .await;
        assert!(rt.delete(&id).await.expect("delete"), "{}", db.name);
        assert!(rt.trip(&id).await.expect("read").is_none(), "{}", db.name);
        assert!(
            nonzero(&rows_of(&db.store, &id).await).is_empty(),
            "{}",
            db.name
        );
        // The in-flight budget task's end does not bring the trip back.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(rt.trip(&id).await.expect("read").is_none(), "{}", db.name);
        assert!(
            nonzero(&rows_of(&db.store, &id).await).is_empty(),
            "{}",
            db.name
        );
        rt.shutdown().await;
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_deletes_on_the_in_memory_store_too() {
    let store = MemoryRuntimeStore::new();
    let rt = Runtime::start(config(), store.clone(), catalog(), Arc::new(SystemClock))
        .await
        .expect("the runtime starts");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = rt
            .submit(DENVER.into(), TripOverrides::default())
            .await
            .expect("submitted")
            .trip_id;
        wait_for(&rt, &id, |s| s.status.is_terminal()).await;
        ids.push(id);
    }
    assert!(rt.delete(&ids[0]).await.expect("delete"));
    assert!(rt.trip(&ids[0]).await.expect("read").is_none());
    assert!(rt.trip(&ids[1]).await.expect("read").is_some(), "kept");
    let trip = ids[0].parse().expect("a trip id");
    assert!(store.tasks_of(trip).await.expect("tasks").is_empty());
    assert!(store.load(trip, 0).await.expect("events").is_empty());
    assert!(store.trip_summary(trip).await.expect("summary").is_none());
    assert!(!rt.delete(&ids[0]).await.expect("delete"));
    rt.shutdown().await;
}
