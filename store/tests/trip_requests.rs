//! Contract tests for `trip_requests`, run on every backend.

mod support;

use wayfare_domain::request::QueryText;

#[tokio::test]
async fn a_stored_request_reads_back_unchanged_on_every_backend() {
    for db in support::all_backends().await {
        let query = QueryText::parse("3 days from Seattle to Denver, two of us").expect("valid");
        let stored = db.store.insert_trip_request(&query).await.expect("insert");
        let read = db
            .store
            .trip_request(&stored.id)
            .await
            .expect("read")
            .expect("present");
        assert_eq!(
            read.query, "3 days from Seattle to Denver, two of us",
            "{}",
            db.name
        );
        assert_eq!(read.id, stored.id, "{}", db.name);
        assert_eq!(read.created_at, stored.created_at, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn ids_are_unguessable_uuids_and_unknown_ids_read_as_none() {
    for db in support::all_backends().await {
        let query = QueryText::parse("a weekend in Austin").expect("valid");
        let a = db.store.insert_trip_request(&query).await.expect("insert");
        let b = db.store.insert_trip_request(&query).await.expect("insert");
        assert_ne!(a.id, b.id, "{}", db.name);
        assert_eq!(a.id.len(), 36, "{}", db.name);
        assert!(
            db.store
                .trip_request("not-a-uuid")
                .await
                .expect("read")
                .is_none()
        );
        assert!(
            db.store
                .trip_request("00000000-0000-4000-8000-000000000000")
                .await
                .expect("read")
                .is_none()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn recent_requests_come_newest_first() {
    for db in support::all_backends().await {
        for text in ["first", "second", "third"] {
            let q = QueryText::parse(text).expect("valid");
            db.store.insert_trip_request(&q).await.expect("insert");
        }
        let recent = db.store.recent_trip_requests(2).await.expect("list");
        let texts: Vec<_> = recent.iter().map(|r| r.query.as_str()).collect();
        assert_eq!(texts, ["third", "second"], "{}", db.name);
        db.finish().await;
    }
}
