//! Agents report their status to the registry through the hub: each
//! instance, when it starts, puts a durable `status_update` message on the
//! hub queue [`REGISTRY_QUEUE`]. The registry takes the reports waiting at
//! each of its stamps of the shared registry (what every process reads,
//! `registry::shared`) and acknowledges them only after the next stamp
//! has succeeded, so a report is acknowledged once the shared registry has
//! recorded the instance; until then it is stored in `hub_messages`, and a
//! process killed in between has it replayed at the next start
//! ([`Hub::recover`](crate::hub::Hub::recover)), by whichever process
//! starts next on the database. A replayed report names the process it
//! came from: counted apart (`wayfare_instance_reports_total{source}`).

use std::sync::atomic::{AtomicU64, Ordering};

use super::super::RuntimeStore;
use super::super::traffic::{REGISTRY_QUEUE, Traffic};
use super::Runtime;
use crate::hub::{Message, MessagePriority, MessageType, QueueConsumer};

/// Reports the registry took, by where they came from.
#[derive(Debug, Default)]
pub(super) struct ReportCounts {
    this_process: AtomicU64,
    other_process: AtomicU64,
}

/// Status reports the registry took: from this process's instances, and
/// replayed from another (a process killed before they were acknowledged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceReports {
    pub this_process: u64,
    pub other_process: u64,
}

impl<S: RuntimeStore> Runtime<S> {
    /// Status reports taken so far.
    pub fn instance_reports(&self) -> InstanceReports {
        InstanceReports {
            this_process: self.reports.this_process.load(Ordering::Relaxed),
            other_process: self.reports.other_process.load(Ordering::Relaxed),
        }
    }

    /// An instance reports `status` to the registry (durable).
    pub(super) async fn report_status(&self, agent_id: &str, status: &str) {
        let agent_type = agent_id
            .rsplit_once('-')
            .map_or(agent_id, |(agent_type, _)| agent_type);
        let report = Message::new(
            agent_id,
            REGISTRY_QUEUE,
            MessageType::StatusUpdate,
            Traffic::InstanceStatus {
                agent_id: agent_id.to_owned(),
                agent_type: agent_type.to_owned(),
                status: status.to_owned(),
                process: self.node_id.clone(),
            },
            self.clock.now(),
        )
        .with_priority(MessagePriority::Low)
        .durable();
        if let Err(e) = self.hub().enqueue(REGISTRY_QUEUE, report).await {
            tracing::warn!(agent.id = agent_id, error = %e, "a status report was not sent");
        }
    }

    /// Takes the reports waiting on the registry's queue; returns them, to
    /// be acknowledged after the next successful stamp.
    pub(super) fn take_reports(&self, queue: &QueueConsumer<S, Traffic>) -> Vec<Message<Traffic>> {
        let mut taken = Vec::new();
        while let Some(report) = queue.try_recv() {
            if let Traffic::InstanceStatus {
                agent_id,
                status,
                process,
                ..
            } = &report.payload
            {
                if *process == self.node_id {
                    self.reports.this_process.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(agent.id = %agent_id, status = %status, "instance status");
                } else {
                    self.reports.other_process.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(agent.id = %agent_id, status = %status, process = %process, "a status report of another process, replayed");
                }
            }
            taken.push(report);
        }
        taken
    }

    /// Acknowledges reports the shared registry now has.
    pub(super) async fn ack_reports(
        &self,
        queue: &QueueConsumer<S, Traffic>,
        reports: Vec<Message<Traffic>>,
    ) {
        for report in reports {
            if let Err(e) = queue.ack(&report).await {
                tracing::warn!(error = %e, "a status report could not be acknowledged");
            }
        }
    }
}
