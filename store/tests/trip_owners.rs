//! Contract tests for `trip_owners` (a browser's "My trips"), run on every
//! backend.

mod support;

fn trip() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_trip_keeps_its_first_owner_on_every_backend() {
    for db in support::all_backends().await {
        let id = trip();
        assert_eq!(db.store.trip_owner(&id).await.expect("read"), None);
        db.store
            .record_trip_owner(&id, "alice")
            .await
            .expect("record");
        db.store
            .record_trip_owner(&id, "alice")
            .await
            .expect("recording again is fine");
        db.store
            .record_trip_owner(&id, "mallory")
            .await
            .expect("a second owner is ignored, not an error");
        assert_eq!(
            db.store.trip_owner(&id).await.expect("read").as_deref(),
            Some("alice"),
            "{}",
            db.name
        );
        // The same trip spelled in upper case is the same trip.
        assert_eq!(
            db.store
                .trip_owner(&id.to_uppercase())
                .await
                .expect("read")
                .as_deref(),
            Some("alice"),
            "{}",
            db.name
        );
        assert_eq!(
            db.store.owned_trips("mallory", 10).await.expect("list"),
            Vec::<String>::new(),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn owned_trips_are_the_owners_own_newest_first_and_limited() {
    for db in support::all_backends().await {
        let mine: Vec<String> = (0..5).map(|_| trip()).collect();
        for (i, id) in mine.iter().enumerate() {
            db.store
                .record_trip_owner(id, "alice")
                .await
                .expect("record");
            // Another session's trips in between are not listed.
            db.store
                .record_trip_owner(&trip(), &format!("bob{i}"))
                .await
                .expect("record");
        }
        let newest_first: Vec<String> = mine.iter().rev().cloned().collect();
        assert_eq!(
            db.store.owned_trips("alice", 100).await.expect("list"),
            newest_first,
            "{}",
            db.name
        );
        assert_eq!(
            db.store.owned_trips("alice", 2).await.expect("list"),
            newest_first[..2].to_vec(),
            "{}",
            db.name
        );
        assert!(
            db.store
                .owned_trips("alice", 0)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(db.store.owned_trips("", 10).await.expect("list").is_empty());
        db.finish().await;
    }
}
