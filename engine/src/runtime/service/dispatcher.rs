//! The runtime's loops: the dispatcher (claims ready tasks as far as the
//! instances have room, hands them over through
//! [`Dispatch`](super::super::dispatch)), the supervisor (lease heartbeats
//! for running tasks, health checks and scaling through the
//! [`Registry`](super::super::registry), forgetting idle trips), the
//! liveness beat shared with other processes, and each instance's loop.
//!
//! Instances are reached through the message hub: the dispatcher sends an
//! instance its tasks as a direct `task_request` message to its id, the
//! supervisor's health check is a `health_check` request answered within
//! `ping_deadline_ms`. The payload stays typed ([`Traffic`]): nothing is
//! encoded on the way.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::super::RuntimeStore;
use super::super::registry::shared;
use super::super::registry::{Health, Pinger, Spawner};
use super::super::traffic::{ORCHESTRATOR, REGISTRY_QUEUE, Traffic};
use super::Runtime;
use crate::hub::{Hub, HubError, Mailbox, Message, MessagePriority, MessageType};
use crate::state::{ClaimedTask, Command, FailedAttempt, Priority, TaskId, TripId, after};

/// The sender named on the registry's health checks.
const REGISTRY: &str = "registry";

impl<S: RuntimeStore> Runtime<S> {
    /// Claims and hands over ready tasks whenever woken (a submission, a
    /// finished task, a retry coming due) or once a heartbeat, until the
    /// runtime stops.
    pub(super) async fn dispatcher(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            self.dispatch_ready().await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.tick()) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Whether optional (P3) work should give way: trips are waiting or the
    /// instances are nearly full.
    pub(super) fn under_load(&self) -> bool {
        self.admission.has_waiting() || self.registry.nearly_full()
    }

    /// Claims what the instances have room for, a round at a time (one
    /// write per round), and hands each task to an instance; again while
    /// rounds find work.
    pub(super) async fn dispatch_ready(&self) {
        loop {
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            self.drain_backlogs();
            let limits = self.dispatch.free_slots(&self.registry);
            if limits.is_empty() {
                return;
            }
            let claimed = match self
                .store
                .claim_ready_many(&limits, self.lease_from(self.clock.now()))
                .await
            {
                Ok(claimed) if claimed.is_empty() => return,
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim tasks");
                    return;
                }
            };
            self.registry.record_arrivals(&claimed);
            for claimed in claimed {
                // Under load optional work is skipped (and the plan says
                // so), not left waiting.
                if claimed.priority == Priority::P3 && self.under_load() {
                    let me = self.me();
                    tokio::spawn(async move {
                        me.skip(&claimed, "skipped under load (optional)").await;
                    });
                    continue;
                }
                self.dispatch.queue(claimed);
            }
            self.drain_backlogs();
        }
    }

    /// Hands waiting claimed tasks to instances while there is room
    /// ([`Dispatch::drain`]).
    pub(super) fn drain_backlogs(&self) {
        for (instance, tasks) in self.dispatch.drain(&self.registry) {
            self.spawn_send(instance, tasks);
        }
    }

    /// Hands `jobs` to `instance` off the dispatcher's loop (a full
    /// mailbox means writes to put them back).
    pub(super) fn spawn_send(&self, instance: String, jobs: Vec<ClaimedTask>) {
        let me = self.me();
        tokio::spawn(async move { me.send(instance, jobs).await });
    }

    pub(super) fn unload(&self, instance: &str, task: TaskId) {
        self.dispatch.unload(instance, task, &self.registry);
    }

    /// Sends `jobs` to `instance`'s hub mailbox as one `task_request`.
    #[tracing::instrument(skip_all, fields(agent.id = %instance, tasks = jobs.len()))]
    pub(super) async fn send(&self, instance: String, jobs: Vec<ClaimedTask>) {
        let ids: Vec<(TripId, TaskId, u64)> = jobs
            .iter()
            .map(|j| (j.trip_id, j.task_id, j.epoch))
            .collect();
        let priority = match jobs.iter().map(|j| j.priority).min() {
            Some(Priority::P0) => MessagePriority::High,
            Some(Priority::P3) => MessagePriority::Low,
            _ => MessagePriority::Medium,
        };
        let message = Message::new(
            ORCHESTRATOR,
            instance.clone(),
            MessageType::TaskRequest,
            Traffic::Tasks { tasks: jobs },
            self.clock.now(),
        )
        .with_priority(priority);
        if let Err(e) = self.hub().send(message).await {
            tracing::debug!(error = %e, "tasks not handed over");
            // A full or closed mailbox: back on the queue, another try
            // soon. Boxed: the rare path's store writes would otherwise
            // size every hand-over's future (spawned, so moved several
            // times, per batch of tasks).
            Box::pin(self.put_back(&instance, ids)).await;
        }
    }

    /// Puts tasks an instance did not take back on the queue.
    async fn put_back(&self, instance: &str, ids: Vec<(TripId, TaskId, u64)>) {
        for (trip, task, epoch) in ids {
            self.unload(instance, task);
            let retry_at = after(self.clock.now(), self.tick());
            let failed = self
                .store
                .fail(FailedAttempt {
                    task_id: task,
                    error: "the instance's mailbox is full",
                    retry_at: Some(retry_at),
                    fence: Some(epoch),
                })
                .await;
            self.journal.note_fenced(&failed);
            let _ = self
                .journal
                .exec(
                    trip,
                    Command::FailTask {
                        task_id: task,
                        error: "the instance's mailbox is full".into(),
                        retryable: true,
                    },
                )
                .await;
        }
    }

    /// Test and chaos hook: the instance stops answering pings and drops
    /// its work, like a hung process. Health checks mark it offline and its
    /// tasks are claimed again when their leases run out.
    #[doc(hidden)]
    pub fn freeze_instance(&self, agent_id: &str) -> bool {
        self.registry.freeze(agent_id)
    }

    /// Heartbeats for running tasks, health checks, scaling (predictive
    /// up and down, idle down: [`scaling`]).
    pub(super) async fn supervisor(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.tick()) => {}
                _ = stop.changed() => return,
            }
            self.heartbeat_running().await;
            self.registry.check_health(self.pinger()).await;
            self.registry.scale();
            self.forget_idle_trips();
            self.wake.notify_one();
        }
    }

    /// Stamps this process's instances in the shared registry, at once
    /// and then every heartbeat, on a task of its own: its writes must not
    /// delay the liveness beat (a late beat under load makes the other
    /// processes release this one's leases).
    /// The instances' status reports ([`super::reports`]) taken at one
    /// stamp are acknowledged after the next one succeeded.
    pub(super) async fn stamp_instances(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        let queue = self.hub().consumer(REGISTRY_QUEUE);
        let mut held = Vec::new();
        loop {
            match self
                .store
                .stamp_instances(shared::Stamp {
                    process: &self.process,
                    instances: &self.agents(),
                    now: self.clock.now(),
                    forget_after: shared::FORGET_AFTER,
                })
                .await
            {
                Ok(_) => self.ack_reports(&queue, std::mem::take(&mut held)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "could not stamp this process's instances in the shared registry");
                }
            }
            held.extend(self.take_reports(&queue));
            tokio::select! {
                _ = tokio::time::sleep(self.tick()) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Says twice a heartbeat that this process is alive, on its own task
    /// so that slow health checks cannot make it look dead, and releases
    /// the leases of processes that stopped saying so (twice a heartbeat:
    /// a dead process's tasks are freed at most half a heartbeat after its
    /// silence passes `node_timeout`).
    pub(super) async fn liveness(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.tick() / 2) => {}
                _ = stop.changed() => return,
            }
            match self.store.node_alive(self.alive_now()).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(
                        leases = n,
                        "released the task leases of a process that is gone"
                    );
                    self.wake.notify_one();
                }
                Err(e) => tracing::warn!(error = %e, "could not record that this process is alive"),
            }
        }
    }

    /// Renews, in one store call, the leases of every task this process
    /// holds: running on an online instance or waiting in the backlog
    /// ([`Dispatch::leased_here`](super::super::dispatch::Dispatch::leased_here)).
    pub(super) async fn heartbeat_running(&self) {
        let running = self.dispatch.leased_here(&self.registry);
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .heartbeat_all(&running, self.lease_from(now))
            .await
        {
            tracing::warn!(error = %e, "could not extend the running tasks' leases");
        }
    }

    /// Drops the channels of trips nobody plans or listens to (they are
    /// made again on demand), so that a long-running server does not keep
    /// one per trip ever submitted.
    pub(super) fn forget_idle_trips(&self) {
        let busy: HashSet<TripId> = self
            .admission
            .trips()
            .into_iter()
            .chain(self.dispatch.trips())
            .collect();
        self.journal.retain(&busy);
    }
}

impl<S: RuntimeStore> Runtime<S> {
    /// The registry's health check: a `health_check` request to the
    /// instance's mailbox, answered within `ping_deadline_ms`.
    fn pinger(&self) -> Pinger {
        let hub = self.hub().clone();
        let deadline = Duration::from_millis(self.config.orchestrator.ping_deadline_ms.max(1));
        Arc::new(move |agent_id| {
            let hub = hub.clone();
            Box::pin(async move {
                let ping = Message::new(
                    REGISTRY,
                    agent_id.clone(),
                    MessageType::HealthCheck,
                    Traffic::Ping,
                    hub.now(),
                )
                .with_priority(MessagePriority::High);
                match hub.request_within(ping, deadline).await {
                    Ok(answer) if answer.payload == Traffic::Pong => Health::Answered,
                    Ok(_) | Err(HubError::Timeout { .. } | HubError::Full(_)) => Health::Silent {
                        busy: hub.mailbox_full(&agent_id),
                    },
                    Err(_) => Health::Silent { busy: false },
                }
            })
        })
    }
}

/// Opens each instance's hub mailbox and starts its loop over the runtime
/// `me` (the registry knows only this function, not the runtime).
pub(super) fn spawner<S: RuntimeStore>(me: Weak<Runtime<S>>) -> Spawner {
    Box::new(move |agent_id, capacity, frozen| {
        let Some(runtime) = me.upgrade() else {
            return tokio::spawn(async {});
        };
        let mailbox = runtime.hub().register_bounded(agent_id, capacity);
        let hub = runtime.hub().clone();
        tokio::spawn(instance_loop(me.clone(), hub, mailbox, frozen))
    })
}

/// Closes an instance's mailbox when its loop ends or is aborted.
struct Registered<S: RuntimeStore> {
    hub: Hub<S, Traffic>,
    agent_id: String,
}

impl<S: RuntimeStore> Drop for Registered<S> {
    fn drop(&mut self) {
        self.hub.unregister(&self.agent_id);
    }
}

/// An instance: answers health checks and runs the tasks it is sent, each
/// on its own task. A frozen one drops everything (a hung process).
async fn instance_loop<S: RuntimeStore>(
    runtime: Weak<Runtime<S>>,
    hub: Hub<S, Traffic>,
    mailbox: Mailbox<S, Traffic>,
    frozen: Arc<AtomicBool>,
) {
    let agent_id = mailbox.agent_id().to_string();
    let _registered = Registered {
        hub,
        agent_id: agent_id.clone(),
    };
    if let Some(rt) = runtime.upgrade() {
        rt.report_status(&agent_id, "online").await;
    }
    loop {
        let message = mailbox.recv().await;
        if frozen.load(Ordering::SeqCst) {
            continue;
        }
        if message.payload == Traffic::Ping {
            if let Err(e) = mailbox.respond(&message, Traffic::Pong).await {
                tracing::debug!(agent.id = %agent_id, error = %e, "health check not answered");
            }
            continue;
        }
        if let Traffic::RouteRequest { cities } = &message.payload {
            super::exchange::answer_route(&mailbox, &message, cities).await;
            continue;
        }
        let Some(rt) = runtime.upgrade() else {
            return;
        };
        if let Err(e) = mailbox.ack(&message).await {
            tracing::warn!(agent.id = %agent_id, error = %e, "could not acknowledge a message");
        }
        match message.payload {
            Traffic::Tasks { tasks } => {
                for job in tasks {
                    let task_id = job.task_id;
                    // Boxed: a job's future is large (its store writes),
                    // and spawning moves it several times.
                    let handle = tokio::spawn(Box::pin(rt.clone().run_job(agent_id.clone(), job)));
                    // A job that already ended has removed its entry.
                    if !handle.is_finished() {
                        rt.dispatch.started(task_id, handle.abort_handle());
                    }
                }
            }
            other => {
                tracing::warn!(agent.id = %agent_id, message = ?other, "an instance got a message it does not take");
            }
        }
    }
}
