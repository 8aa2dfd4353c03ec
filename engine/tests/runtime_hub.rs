//! The message hub: direct messages, pub/sub fan-out, competing queue
//! consumers, batches, back-pressure, request/response with a timeout, and
//! durable replay after a restart.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wayfare_engine::clock::{Clock, ManualClock};
use wayfare_engine::hub::{
    DeliveryStatus, Hub, HubConfig, HubError, HubStore, MemoryHubStore, Message, MessagePriority,
    MessageType, Route,
};

fn hub_with(config: HubConfig, store: MemoryHubStore) -> Hub<MemoryHubStore> {
    Hub::new(config, store, Arc::new(ManualClock::at_epoch()))
}

fn hub() -> Hub<MemoryHubStore> {
    hub_with(HubConfig::default(), MemoryHubStore::new())
}

fn msg(from: &str, to: &str, payload: serde_json::Value) -> Message {
    Message::new(
        from,
        to,
        MessageType::DataRequest,
        payload,
        ManualClock::at_epoch().now(),
    )
}

async fn soon<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .expect("did not arrive in time")
}

#[tokio::test]
async fn a_direct_message_reaches_only_its_recipient_highest_priority_first() {
    let hub = hub();
    let activity = hub.register("activity-agent-002");
    let other = hub.register("dining-agent-001");
    let low = msg("location-agent-001", "activity-agent-002", json!({"n": 1}))
        .with_priority(MessagePriority::Low);
    let high = msg("location-agent-001", "activity-agent-002", json!({"n": 2}))
        .with_priority(MessagePriority::High);
    hub.send(low.clone()).await.expect("send");
    hub.send(high.clone()).await.expect("send");
    assert_eq!(soon(activity.recv()).await, high);
    assert_eq!(soon(activity.recv()).await, low);
    assert_eq!(other.try_recv(), None);
}

#[tokio::test]
async fn a_non_durable_message_to_nobody_is_refused() {
    let hub = hub();
    assert_eq!(
        hub.send(msg("a", "ghost", json!(null))).await,
        Err(HubError::NoRecipient("ghost".into()))
    );
}

#[tokio::test]
async fn every_subscriber_gets_every_published_message() {
    let hub = hub();
    let mut subscribers: Vec<_> = (0..3).map(|_| hub.subscribe("trip.progress")).collect();
    for n in 0..5 {
        let delivered = hub.publish(
            "trip.progress",
            Message::new(
                "orchestrator",
                "trip.progress",
                MessageType::StatusUpdate,
                json!({"progress": n}),
                ManualClock::at_epoch().now(),
            ),
        );
        assert_eq!(delivered, 3);
    }
    for sub in &mut subscribers {
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(soon(sub.recv()).await.expect("message").payload["progress"].clone());
        }
        assert_eq!(got, (0..5).map(|n| json!(n)).collect::<Vec<_>>());
    }
    assert_eq!(hub.publish("nobody.listens", msg("a", "b", json!(1))), 0);
}

#[tokio::test(start_paused = true)]
async fn queue_consumers_compete_and_each_message_is_taken_once() {
    let hub = hub();
    let consumers: Vec<_> = (0..3).map(|_| hub.consumer("tips")).collect();
    let mut handles = Vec::new();
    for (i, consumer) in consumers.into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Ok(m) =
                tokio::time::timeout(Duration::from_millis(200), consumer.recv()).await
            {
                seen.push(m.payload["n"].as_i64().unwrap_or(-1));
                // Processing takes a while, so the others get their turn.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (i, seen)
        }));
    }
    for n in 0..30 {
        hub.enqueue("tips", msg("orchestrator", "tips", json!({"n": n})))
            .await
            .expect("enqueue");
    }
    let mut all = Vec::new();
    let mut busy = 0;
    for handle in handles {
        let (_, seen) = handle.await.expect("join");
        busy += usize::from(!seen.is_empty());
        all.extend(seen);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (0..30).collect::<Vec<_>>(),
        "each message exactly once"
    );
    assert!(busy >= 2, "the work was shared");
}

#[tokio::test]
async fn two_waiting_consumers_get_one_message_each() {
    let hub = hub();
    let a = hub.consumer("q");
    let b = hub.consumer("q");
    let ta = tokio::spawn(async move { soon(a.recv()).await });
    let tb = tokio::spawn(async move { soon(b.recv()).await });
    tokio::task::yield_now().await;
    hub.enqueue("q", msg("o", "q", json!(1)))
        .await
        .expect("enqueue");
    hub.enqueue("q", msg("o", "q", json!(2)))
        .await
        .expect("enqueue");
    let got: HashSet<String> = [ta.await.expect("a"), tb.await.expect("b")]
        .iter()
        .map(|m| m.payload.to_string())
        .collect();
    assert_eq!(got, HashSet::from(["1".to_string(), "2".to_string()]));
}

#[tokio::test]
async fn batches_are_at_most_batch_size_and_a_full_queue_pushes_back() {
    let hub = hub_with(
        HubConfig {
            message_queue_size: 25,
            batch_size: 10,
            topic_capacity: 16,
        },
        MemoryHubStore::new(),
    );
    for n in 0..25 {
        hub.enqueue("tips", msg("o", "tips", json!(n)))
            .await
            .expect("enqueue");
    }
    assert_eq!(
        hub.enqueue("tips", msg("o", "tips", json!(25))).await,
        Err(HubError::Full("tips".into()))
    );
    let consumer = hub.consumer("tips");
    let sizes = [
        soon(consumer.recv_batch()).await.len(),
        soon(consumer.recv_batch()).await.len(),
        soon(consumer.recv_batch()).await.len(),
    ];
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(hub.queue_len("tips"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_request_gets_its_response_or_times_out() {
    let hub = hub();
    let responder = hub.register("transport-agent-001");
    let _requester = hub.register("orchestrator");
    let serving = tokio::spawn(async move {
        let request = responder.recv().await;
        assert!(request.requires_response);
        responder
            .respond(&request, json!({"flights": 4}))
            .await
            .expect("respond");
    });
    let request = msg(
        "orchestrator",
        "transport-agent-001",
        json!({"date": "2026-03-15"}),
    )
    .expecting_response(30);
    let response = hub.request(request.clone()).await.expect("response");
    serving.await.expect("join");
    assert_eq!(response.in_reply_to, Some(request.message_id));
    assert_eq!(response.payload, json!({"flights": 4}));
    assert_eq!(response.message_type, MessageType::ResultShare);

    let _silent = hub.register("silent-agent");
    let start = tokio::time::Instant::now();
    let unanswered = msg("orchestrator", "silent-agent", json!(null)).expecting_response(7);
    assert!(matches!(
        hub.request(unanswered).await,
        Err(HubError::Timeout { .. })
    ));
    assert_eq!(start.elapsed(), Duration::from_secs(7));
}

#[tokio::test]
async fn unacknowledged_durable_messages_are_replayed_after_a_restart() {
    let store = MemoryHubStore::new();
    let before = hub_with(HubConfig::default(), store.clone());
    let budget = before.register("budget-agent-001");
    let processed = msg("o", "budget-agent-001", json!("processed")).durable();
    let crashed = msg("o", "budget-agent-001", json!("in flight")).durable();
    let not_durable = msg("o", "budget-agent-001", json!("volatile"));
    let waiting = msg("o", "late-agent", json!("for later")).durable();
    let queued = msg("o", "tips", json!("queued")).durable();
    for m in [&processed, &crashed, &not_durable, &waiting] {
        before.send((*m).clone()).await.expect("send");
    }
    before
        .enqueue("tips", queued.clone())
        .await
        .expect("enqueue");
    let first = soon(budget.recv()).await;
    budget.ack(&first).await.expect("ack");
    let _second = soon(budget.recv()).await; // never acked: the process "dies"
    assert_eq!(
        store.status(&processed.message_id).await.expect("status"),
        Some(DeliveryStatus::Acked)
    );
    assert_eq!(
        store.status(&crashed.message_id).await.expect("status"),
        Some(DeliveryStatus::Delivered)
    );
    drop(before);

    let after = hub_with(HubConfig::default(), store.clone());
    assert_eq!(after.recover().await.expect("recover"), 3);
    let budget = after.register("budget-agent-001");
    assert_eq!(soon(budget.recv()).await, crashed);
    assert_eq!(budget.try_recv(), None, "acked and volatile ones are gone");
    let late = after.register("late-agent");
    assert_eq!(soon(late.recv()).await, waiting);
    let tips = after.consumer("tips");
    let replayed = soon(tips.recv()).await;
    assert_eq!(replayed, queued);
    tips.ack(&replayed).await.expect("ack");
    assert_eq!(store.unacked().await.expect("unacked").len(), 2);
}

/// A payload of the hub's own type: moved in process, JSON only at the
/// store.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Job {
    Run { n: u32 },
}

#[tokio::test]
async fn a_typed_hub_stores_durable_messages_as_json_and_reads_them_back_typed() {
    let store = MemoryHubStore::new();
    let before: Hub<MemoryHubStore, Job> = Hub::new(
        HubConfig::default(),
        store.clone(),
        Arc::new(ManualClock::at_epoch()),
    );
    let _worker = before.register("worker-1");
    let job = Message::new(
        "orchestrator",
        "worker-1",
        MessageType::TaskRequest,
        Job::Run { n: 7 },
        ManualClock::at_epoch().now(),
    )
    .durable();
    before.send(job.clone()).await.expect("send");
    // Stored as the design's JSON message.
    let stored = store.unacked().await.expect("unacked");
    assert_eq!(stored[0].1.payload, json!({"Run": {"n": 7}}));
    // A row another version wrote, which no longer reads as a `Job`, is
    // left out of the replay rather than stopping it.
    let stale = msg("o", "worker-1", json!({"Gone": 1})).durable();
    let raw: Hub<MemoryHubStore> = Hub::new(
        HubConfig::default(),
        store.clone(),
        Arc::new(ManualClock::at_epoch()),
    );
    raw.send(stale).await.expect("send");
    drop(before);

    let after: Hub<MemoryHubStore, Job> = Hub::new(
        HubConfig::default(),
        store,
        Arc::new(ManualClock::at_epoch()),
    );
    assert_eq!(after.recover().await.expect("recover"), 1);
    assert_eq!(after.replayed(), 1);
    let worker = after.register("worker-1");
    assert_eq!(soon(worker.recv()).await, job);
    assert_eq!(worker.try_recv(), None);
    let direct = after
        .traffic()
        .into_iter()
        .filter(|(t, r, _)| *t == MessageType::TaskRequest && *r == Route::Direct)
        .map(|(_, _, n)| n)
        .sum::<u64>();
    assert_eq!(direct, 0, "a replay is not a send");
}
