//! Events across processes, the sending side: after an append to a trip's
//! log commits, a pointer to it — `<trip id> <last seq> <this store's
//! application_name> <kind>` on the channel `wayfare_events` (`listen.rs`
//! hears them) — is sent by one task per process, in batches. The kind is
//! `t` when the appends it stands for only moved tasks along
//! ([`TripEvent::is_task_progress`](wayfare_engine::state::TripEvent::is_task_progress)),
//! `e` (every other append: a trip's start, end, cancel, change) otherwise:
//! a process that merely caches the trip reads the former when it next
//! uses the trip, not at once.
//!
//! The pointers used to be sent by a trigger inside each append's
//! transaction. PostgreSQL serialises the commits of transactions that
//! sent a NOTIFY (a database-wide lock held through the commit and its WAL
//! flush), so every append committed alone: a fifth of one process's
//! throughput whenever a second process was alive. Here the appends commit
//! without it, and the announcing task sends whatever has gathered since
//! its last statement in one (`pg_notify` over an array): under load,
//! dozens of pointers a commit, and one per trip, its latest.
//!
//! A pointer is only that: the log stays the source of truth. One that
//! could not be sent (the database out of reach) is kept and sent again.
//! One a process takes with it when it dies between a commit and the
//! next batch is made up for by the listeners: a process that leaves the
//! list of live processes has every other process read its trips in hand
//! again (`listen.rs`, [`Heard::Lost`](crate::listen::Heard)).

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::PgPool;
use tokio::sync::{mpsc, oneshot};
use wayfare_engine::state::TripId;

use crate::listen::CHANNEL;

/// How long a batch that failed waits before it is sent again.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// How long [`Announcer::flush`] waits for the batch in flight.
const FLUSH_WITHIN: Duration = Duration::from_secs(2);

enum Message {
    /// `(trip, seq, routine)`.
    Appended(TripId, u64, bool),
    /// Answered once everything announced before it was sent (or given up
    /// on: the pool is closed).
    Flush(oneshot::Sender<()>),
}

/// The handle to a process's announcing task; cheap to clone. The task
/// ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Announcer {
    tx: mpsc::UnboundedSender<Message>,
}

impl Announcer {
    /// Starts the task sending `pool`'s pointers, signed `me` (the
    /// pool's `application_name`, by which a listener skips its own).
    pub(crate) fn start(pool: PgPool, me: String) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, me, rx));
        Announcer { tx }
    }

    /// `trip`'s log is at `seq` now (committed); `routine`: the append
    /// only moved tasks along.
    pub(crate) fn appended(&self, trip: TripId, seq: u64, routine: bool) {
        // The task is gone only when the pool is: nothing to announce to.
        let _ = self.tx.send(Message::Appended(trip, seq, routine));
    }

    /// Waits (a bounded time) until what was announced so far is sent.
    pub(crate) async fn flush(&self) {
        let (done, sent) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(FLUSH_WITHIN, sent).await;
        }
    }
}

/// What has gathered since the last batch: each trip's latest `seq` and
/// whether all its appends since were routine, and the flushes waiting
/// for it.
#[derive(Default)]
struct Batch {
    latest: HashMap<TripId, (u64, bool)>,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn add(&mut self, message: Message) {
        match message {
            Message::Appended(trip, seq, routine) => {
                let latest = self.latest.entry(trip).or_insert((seq, routine));
                *latest = (latest.0.max(seq), latest.1 && routine);
            }
            Message::Flush(done) => self.flushes.push(done),
        }
    }

    fn payloads(&self, me: &str) -> Vec<String> {
        self.latest
            .iter()
            .map(|(trip, (seq, routine))| {
                let kind = if *routine { 't' } else { 'e' };
                format!("{trip} {seq} {me} {kind}")
            })
            .collect()
    }

    fn done(&mut self) {
        self.latest.clear();
        for done in self.flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn run(pool: PgPool, me: String, mut rx: mpsc::UnboundedReceiver<Message>) {
    let mut batch = Batch::default();
    loop {
        if batch.latest.is_empty() && batch.flushes.is_empty() {
            match rx.recv().await {
                Some(message) => batch.add(message),
                None => return,
            }
        }
        while let Ok(message) = rx.try_recv() {
            batch.add(message);
        }
        if batch.latest.is_empty() {
            batch.done();
            continue;
        }
        let sent = sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
            .bind(CHANNEL)
            .bind(batch.payloads(&me))
            .execute(&pool)
            .await;
        match sent {
            Ok(_) => batch.done(),
            Err(_) if pool.is_closed() => {
                batch.done();
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, pointers = batch.latest.len(),
                    "announcing appends to the other processes failed; trying again");
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}
