//! Contract tests for the consistency auditor's port ([`AuditStore`]) on
//! every backend: the trips are listed in bounded batches (by id, and by
//! read-model update for trips at rest) without gaps or repeats, and a
//! repair writes only while the log is where the audit read it.

mod support;

use chrono::{DateTime, Duration, Utc};
use wayfare_engine::state::{
    AuditStore, Batch, EventStore, QueueRepair, Repair, TripEvent, TripId, TripStatus,
};

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default()
        + Duration::seconds(seconds)
}

/// A trip that was submitted and failed, its events at `when`.
async fn failed_trip(store: &impl EventStore, when: DateTime<Utc>) -> TripId {
    let trip = TripId::new();
    store
        .append(
            Batch {
                trip_id: trip,
                expected_version: 0,
                events: &[
                    TripEvent::TripSubmitted {
                        query: "a trip".into(),
                        overrides: Box::default(),
                    },
                    TripEvent::PlanFailed {
                        reason: "no plan".into(),
                    },
                ],
            },
            when,
        )
        .await
        .expect("appended");
    trip
}

#[tokio::test]
async fn trips_are_listed_in_bounded_batches_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let mut trips = Vec::new();
        for n in 0..5 {
            trips.push(failed_trip(store, at(n)).await);
        }
        // One still planning: listed by id, not among the changed at rest.
        let planning = TripId::new();
        store
            .append(
                Batch {
                    trip_id: planning,
                    expected_version: 0,
                    events: &[TripEvent::TripSubmitted {
                        query: "another".into(),
                        overrides: Box::default(),
                    }],
                },
                at(10),
            )
            .await
            .expect("appended");

        let mut by_id = Vec::new();
        let mut after = None;
        loop {
            let slice = store.logged_trips(after, 2).await.expect("listed");
            assert!(slice.len() <= 2, "[{}] {slice:?}", db.name);
            by_id.extend(slice.iter().copied());
            if slice.len() < 2 {
                break;
            }
            after = slice.last().copied();
        }
        let mut all = trips.clone();
        all.push(planning);
        all.sort();
        assert_eq!(by_id, all, "[{}] by id, each once", db.name);

        let first = store.trips_updated_after(at(-1), 3).await.expect("changed");
        assert_eq!(
            first,
            vec![(at(0), trips[0]), (at(1), trips[1]), (at(2), trips[2])],
            "[{}]",
            db.name
        );
        let rest = store.trips_updated_after(at(2), 10).await.expect("changed");
        assert_eq!(
            rest,
            vec![(at(3), trips[3]), (at(4), trips[4])],
            "[{}] the planning trip is not at rest",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn a_repair_writes_only_while_the_log_is_where_the_audit_read_it_on_every_backend() {
    for db in support::all_backends().await {
        let store = &db.store;
        let trip = failed_trip(store, at(0)).await;
        let logged = store.load_state(trip).await.expect("the log");
        let mut stale = logged.clone();
        // The log moves on after the audit read it.
        store
            .append(
                Batch {
                    trip_id: trip,
                    expected_version: logged.version,
                    events: &[TripEvent::Cancelled],
                },
                at(5),
            )
            .await
            .expect("appended");
        let wrote = store
            .repair(Repair {
                state: &stale,
                read_model: true,
                queue: &[],
            })
            .await
            .expect("the repair ran");
        assert!(!wrote, "[{}] a stale repair wrote", db.name);
        let row = store.trip_summary(trip).await.expect("row").expect("a row");
        assert_eq!(row.status, TripStatus::Cancelled, "[{}]", db.name);

        // At the log's version it writes (the read model and the queue).
        stale = store.load_state(trip).await.expect("the log");
        let orphan = wayfare_engine::state::TaskId::new();
        let wrote = store
            .repair(Repair {
                state: &stale,
                read_model: true,
                queue: &[QueueRepair::Remove { task_id: orphan }],
            })
            .await
            .expect("the repair ran");
        assert!(wrote, "[{}]", db.name);
        let row = store.trip_summary(trip).await.expect("row").expect("a row");
        assert_eq!(row.state, stale.read_model(), "[{}]", db.name);
        assert_eq!(row.updated_at, at(5), "[{}]", db.name);
        db.finish().await;
    }
}
