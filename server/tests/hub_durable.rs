//! Durable hub messages across a `kill -9`, black-box: the real `wayfare
//! serve` binary's instances report their status to the registry through
//! the hub as durable messages, acknowledged only once the shared registry
//! has recorded them (two stamps later). The process is killed while some
//! are stored and unacknowledged; started again on the same database, it
//! replays them (`wayfare_hub_replayed_total`), its registry takes them as
//! another process's (`wayfare_instance_reports_total{source=
//! "other_process"}`) and acknowledges them. On SQLite, and on PostgreSQL
//! where reachable.

mod process;
mod support;

use std::time::{Duration, Instant};

use process::{Server, counter};
use support::TestDb;
use wayfare_engine::hub::{DeliveryStatus, HubStore, MessageId};
use wayfare_store::Store;

/// Unacknowledged status reports in the database.
async fn unacked_reports(store: &Store) -> Vec<MessageId> {
    store
        .unacked()
        .await
        .expect("read hub_messages")
        .into_iter()
        .filter(|(_, m)| m.payload["kind"] == "instance_status")
        .map(|(_, m)| m.message_id)
        .collect()
}

async fn reports_survive_a_kill_9(db: TestDb) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&db.url).await.expect("open the database");
    // A slow stamp: the reports wait, stored, for the second one.
    let slow_stamps = [
        ("WAYFARE_ORCHESTRATOR__HEARTBEAT", "10s"),
        ("WAYFARE_ORCHESTRATOR__LEASE", "60s"),
    ];
    let server = Server::start(&db.url, dir.path(), &slow_stamps);
    let deadline = Instant::now() + Duration::from_secs(8);
    let pending = loop {
        let pending = unacked_reports(&store).await;
        if !pending.is_empty() {
            break pending;
        }
        assert!(
            Instant::now() < deadline,
            "no unacknowledged status report:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server.kill_9();

    let server = Server::start(&db.url, dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let replayed = counter(&server, "wayfare_hub_replayed_total ").await;
        let other = counter(
            &server,
            r#"wayfare_instance_reports_total{source="other_process"} "#,
        )
        .await;
        let mut acked = 0;
        for id in &pending {
            if store.status(id).await.expect("status") == Some(DeliveryStatus::Acked) {
                acked += 1;
            }
        }
        if replayed >= pending.len() as f64
            && other >= pending.len() as f64
            && acked == pending.len()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} unacknowledged before the kill; after the restart: {replayed} replayed, \
             {other} taken as another process's, {acked} acknowledged\n{}",
            pending.len(),
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill_9();
}

#[tokio::test]
async fn unacknowledged_status_reports_are_replayed_after_a_kill_9() {
    for db in TestDb::all().await {
        reports_survive_a_kill_9(db).await;
    }
}
