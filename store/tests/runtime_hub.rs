//! Contract tests for durable hub messages (`hub_messages`), run on every
//! backend: a new hub over the same database replays what was not
//! acknowledged.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wayfare_engine::clock::{Clock, ManualClock};
use wayfare_engine::hub::{
    DeliveryStatus, Hub, HubConfig, HubStore, Message, MessagePriority, MessageType,
};

fn msg(to: &str, payload: serde_json::Value) -> Message {
    Message::new(
        "location-agent-001",
        to,
        MessageType::ResultShare,
        payload,
        ManualClock::at_epoch().now(),
    )
    .with_priority(MessagePriority::High)
    .durable()
}

async fn soon<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .expect("did not arrive in time")
}

#[tokio::test]
async fn unacknowledged_durable_messages_survive_a_restart_on_every_backend() {
    for db in support::all_backends().await {
        let clock = Arc::new(ManualClock::at_epoch());
        let before = Hub::new(HubConfig::default(), db.store.clone(), clock.clone());
        let activity = before.register("activity-agent-002");
        let done = msg("activity-agent-002", json!({"destinations": ["Tokyo"]}));
        let in_flight = msg("activity-agent-002", json!({"destinations": ["Kyoto"]}));
        let for_later = msg("budget-agent-001", json!({"total": 1800}));
        let queued = msg("tips", json!({"city": "Osaka"}));
        before.send(done.clone()).await.expect("send");
        before.send(in_flight.clone()).await.expect("send");
        before.send(for_later.clone()).await.expect("send");
        before
            .enqueue("tips", queued.clone())
            .await
            .expect("enqueue");
        let first = soon(activity.recv()).await;
        assert_eq!(first, done, "{}", db.name);
        activity.ack(&first).await.expect("ack");
        assert_eq!(soon(activity.recv()).await, in_flight, "{}", db.name);
        assert_eq!(
            db.store
                .status(&in_flight.message_id)
                .await
                .expect("status"),
            Some(DeliveryStatus::Delivered),
            "{}",
            db.name
        );
        drop(before);

        let after = Hub::new(HubConfig::default(), db.store.clone(), clock.clone());
        assert_eq!(after.recover().await.expect("recover"), 3, "{}", db.name);
        let activity = after.register("activity-agent-002");
        let replayed = soon(activity.recv()).await;
        assert_eq!(
            replayed, in_flight,
            "{}: unchanged after the round trip",
            db.name
        );
        assert_eq!(activity.try_recv(), None, "{}", db.name);
        activity.ack(&replayed).await.expect("ack");
        let budget = after.register("budget-agent-001");
        assert_eq!(soon(budget.recv()).await, for_later, "{}", db.name);
        assert_eq!(
            soon(after.consumer("tips").recv()).await,
            queued,
            "{}",
            db.name
        );
        let left: Vec<_> = db
            .store
            .unacked()
            .await
            .expect("unacked")
            .into_iter()
            .map(|(_, m)| m.message_id)
            .collect();
        assert_eq!(
            left,
            vec![for_later.message_id, queued.message_id],
            "{}",
            db.name
        );
        db.finish().await;
    }
}
