//! The shared agent registry (`agent_instances`, migration 0012): each
//! process replaces its own rows, everyone reads everyone's with their age,
//! rows of a process silent too long are forgotten, a clean stop removes
//! its own. Run on every backend.

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use wayfare_domain::trip::AgentInfo;
use wayfare_engine::runtime::{ProcessStamp, SharedRegistry, Stamp};

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn process(node: &str, pid: u32) -> ProcessStamp {
    ProcessStamp {
        node_id: node.to_owned(),
        host: format!("host-{node}"),
        pid,
    }
}

fn agent(id: &str, agent_type: &str, load: u32) -> AgentInfo {
    AgentInfo {
        agent_id: id.to_owned(),
        agent_type: agent_type.to_owned(),
        status: "available".to_owned(),
        capabilities: vec![agent_type.to_owned()],
        current_load: load,
        max_capacity: 4,
        response_time_avg_ms: 12.5,
        cost_per_request: 0.25,
        successes: 7,
        failures: 1,
        breaker: "closed".to_owned(),
        process: None,
        host: None,
        pid: None,
        heartbeat_age_ms: None,
    }
}

const FORGET: Duration = Duration::from_secs(600);

#[tokio::test]
async fn every_process_reads_every_process_instances_on_every_backend() {
    for db in support::all_backends().await {
        let s = &db.store;
        let (web, worker) = (process("web", 10), process("worker", 20));
        s.stamp_instances(Stamp {
            process: &web,
            instances: &[agent("planning-1", "planning", 0)],
            now: now(),
            forget_after: FORGET,
        })
        .await
        .expect("stamp web");
        s.stamp_instances(Stamp {
            process: &worker,
            instances: &[
                agent("transport-1", "transport", 1),
                agent("transport-2", "transport", 0),
            ],
            now: now(),
            forget_after: FORGET,
        })
        .await
        .expect("stamp worker");
        // The worker stopped an instance: its next stamp replaces its rows.
        s.stamp_instances(Stamp {
            process: &worker,
            instances: &[agent("transport-1", "transport", 2)],
            now: now(),
            forget_after: FORGET,
        })
        .await
        .expect("stamp worker again");
        let rows = s.stamped_instances(now()).await.expect("read");
        let seen: Vec<(String, String, String, u32, u32)> = rows
            .iter()
            .map(|r| {
                (
                    r.process.node_id.clone(),
                    r.process.host.clone(),
                    r.agent.agent_id.clone(),
                    r.process.pid,
                    r.agent.current_load,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("web".into(), "host-web".into(), "planning-1".into(), 10, 0),
                (
                    "worker".into(),
                    "host-worker".into(),
                    "transport-1".into(),
                    20,
                    2
                ),
            ],
            "{}",
            db.name
        );
        let t = &rows[1].agent;
        assert_eq!(
            (t.successes, t.failures, t.breaker.as_str(), t.max_capacity),
            (7, 1, "closed", 4),
            "{}",
            db.name
        );
        assert!(
            rows[1].heartbeat_age < Duration::from_secs(60),
            "{}: {:?}",
            db.name,
            rows[1].heartbeat_age
        );
        // A clean stop removes its rows.
        s.unstamp("worker").await.expect("unstamp");
        let rows = s.stamped_instances(now()).await.expect("read");
        assert_eq!(rows.len(), 1, "{}", db.name);
        // A process silent past `forget_after` is forgotten by the next
        // stamp of anyone.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        s.stamp_instances(Stamp {
            process: &worker,
            instances: &[agent("transport-1", "transport", 0)],
            now: now(),
            forget_after: Duration::from_secs(1),
        })
        .await
        .expect("stamp");
        let nodes: Vec<String> = s
            .stamped_instances(now())
            .await
            .expect("read")
            .into_iter()
            .map(|r| r.process.node_id)
            .collect();
        assert_eq!(nodes, vec!["worker".to_string()], "{}", db.name);
        db.finish().await;
    }
}
