//! Contract tests for `trip_ratings` and the satisfaction figure, run on
//! every backend. A rating needs a trip: the trips here are made by
//! appending a submission to the log, as the runtime does.

mod support;

use chrono::Utc;
use wayfare_domain::rating::{Rating, Satisfaction};
use wayfare_engine::state::{Batch, EventStore, TripEvent, TripId};
use wayfare_store::{Store, StoreError};

async fn new_trip(store: &Store) -> String {
    let id = TripId::new();
    store
        .append(
            Batch {
                trip_id: id,
                expected_version: 0,
                events: &[TripEvent::TripSubmitted {
                    query: "a weekend in Denver".into(),
                    overrides: Box::default(),
                }],
            },
            Utc::now(),
        )
        .await
        .expect("a trip");
    id.to_string()
}

fn rating(stars: i64, note: Option<&str>) -> Rating {
    Rating::new(stars, note.map(str::to_owned)).expect("a valid rating")
}

#[tokio::test]
async fn a_rating_reads_back_and_rating_again_replaces_it() {
    for db in support::all_backends().await {
        let id = new_trip(&db.store).await;
        assert_eq!(db.store.trip_rating(&id).await.expect("read"), None);
        let first = rating(2, Some("Too much driving, \"meh\";\nbut, the food ✓"));
        db.store.rate_trip(&id, &first).await.expect("rate");
        assert_eq!(
            db.store.trip_rating(&id).await.expect("read"),
            Some(first),
            "{}",
            db.name
        );
        let second = rating(5, None);
        db.store
            .rate_trip(&id.to_uppercase(), &second)
            .await
            .expect("rate again");
        assert_eq!(
            db.store.trip_rating(&id).await.expect("read"),
            Some(second),
            "{}",
            db.name
        );
        let long = rating(4, Some(&"é".repeat(1000)));
        db.store.rate_trip(&id, &long).await.expect("1000 chars");
        assert_eq!(
            db.store.trip_rating(&id).await.expect("read"),
            Some(long),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn unknown_trips_and_values_out_of_bounds_are_refused() {
    for db in support::all_backends().await {
        let unknown = TripId::new().to_string();
        for id in [unknown.as_str(), "not-a-uuid"] {
            let err = db
                .store
                .rate_trip(id, &rating(3, None))
                .await
                .expect_err("no such trip");
            assert!(matches!(err, StoreError::UnknownTrip(_)), "{err}");
            assert_eq!(db.store.trip_rating(id).await.expect("read"), None);
        }
        let id = new_trip(&db.store).await;
        for bad in [
            Rating {
                stars: 0,
                note: None,
            },
            Rating {
                stars: 6,
                note: None,
            },
            Rating {
                stars: 3,
                note: Some("x".repeat(1001)),
            },
            Rating {
                stars: 3,
                note: Some("nul\0".into()),
            },
        ] {
            let err = db.store.rate_trip(&id, &bad).await.expect_err("refused");
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        }
        assert_eq!(db.store.trip_rating(&id).await.expect("read"), None);
        assert_eq!(
            db.store.satisfaction().await.expect("figure"),
            Satisfaction::default()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn satisfaction_is_the_count_and_the_average_of_the_current_ratings() {
    for db in support::all_backends().await {
        assert_eq!(
            db.store.satisfaction().await.expect("figure"),
            Satisfaction {
                ratings: 0,
                average: None
            },
            "{}",
            db.name
        );
        let mut ids = Vec::new();
        for stars in [5, 4, 2] {
            let id = new_trip(&db.store).await;
            db.store
                .rate_trip(&id, &rating(stars, None))
                .await
                .expect("rate");
            ids.push(id);
        }
        // Re-rating counts once, with its new value: (5 + 4 + 3) / 3.
        db.store
            .rate_trip(&ids[2], &rating(3, None))
            .await
            .expect("rate");
        let figure = db.store.satisfaction().await.expect("figure");
        assert_eq!(figure.ratings, 3, "{}", db.name);
        let average = figure.average.expect("an average");
        assert!((average - 4.0).abs() < 1e-9, "{}: {average}", db.name);

        // A deleted trip's rating goes with it.
        assert!(db.store.delete_trip(&ids[0]).await.expect("delete"));
        assert_eq!(db.store.trip_rating(&ids[0]).await.expect("read"), None);
        let figure = db.store.satisfaction().await.expect("figure");
        assert_eq!(figure.ratings, 2, "{}", db.name);
        assert!(
            (figure.average.expect("an average") - 3.5).abs() < 1e-9,
            "{}",
            db.name
        );
        db.finish().await;
    }
}
