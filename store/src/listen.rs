//! Events across processes: the pointers each process sends on the
//! channel `wayfare_events` after its appends commit (`announce.rs`) —
//! `<trip id> <last seq> <writer's application_name> <kind>` — heard through
//! sqlx's [`PgListener`] on a connection of its own.
//!
//! A process skips its own pointers (it published those events already):
//! each [`Store`] names its connections uniquely (`Store::connect`). A
//! pointer is only that: the listener's owner reads the events from the
//! log. When the listening connection was lost, pointers sent meanwhile
//! are gone; [`Heard::Lost`] says so, and the owner reads again what it
//! has in hand. So it does when a process leaves the list of live ones
//! (`runtime_nodes`): the pointers of its last commits may have died with
//! it ([`Heard::Departed`]). SQLite serves one process: there is nothing
//! to hear.
//!
//! A listener only reads, so a connection whose other end vanished without
//! a word (the database's host gone or a firewall's state dropped during a
//! partition: no FIN, no RST reaches this side) would never say so, and
//! sqlx sets no TCP keepalive: after [`PROBE_AFTER`] of silence the
//! listener makes a round trip on its connection, and one that fails or
//! takes longer than [`PROBE_WITHIN`] has the connection made again
//! (`server/tests/processes_netns.rs`).

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use wayfare_engine::state::TripId;

use crate::{Result, Store};

/// The channel the trigger notifies.
pub const CHANNEL: &str = "wayfare_events";

/// Silence after which the listener checks its connection.
pub const PROBE_AFTER: Duration = Duration::from_secs(5);

/// How long that check may take before the connection is given up.
pub const PROBE_WITHIN: Duration = Duration::from_secs(5);

/// How often, at most, the listener reads the list of live processes (it
/// does so between two notifications, or after [`PROBE_AFTER`] of
/// silence).
const NODES_EVERY: Duration = Duration::from_secs(2);

/// What the listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Another process appended to `trip`'s log, up to `seq`; `routine`:
    /// those appends only moved tasks along (`announce.rs`).
    Appended {
        trip: TripId,
        seq: u64,
        routine: bool,
    },
    /// The connection was lost (and is made again on the next call):
    /// pointers may have been missed.
    Lost,
    /// A process left the list of live ones: the pointers of its last
    /// commits may have been lost with it.
    Departed,
}

/// Another process's appends, as they commit (PostgreSQL).
pub struct AppendListener {
    listener: PgListener,
    /// Where a new connection is made when the listener's is dead.
    pool: PgPool,
    /// This store's `application_name`: its own pointers are skipped.
    me: String,
    /// The live processes (`runtime_nodes`) when last read, and when.
    nodes: Vec<String>,
    nodes_read: tokio::time::Instant,
}

impl std::fmt::Debug for AppendListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppendListener")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Listens for other processes' appends; `None` on SQLite.
    pub async fn listen_appends(&self) -> Result<Option<AppendListener>> {
        let Store::Postgres(pool, _) = self else {
            return Ok(None);
        };
        let me = pool
            .connect_options()
            .get_application_name()
            .unwrap_or_default()
            .to_owned();
        Ok(Some(AppendListener {
            listener: listening(pool).await?,
            pool: pool.clone(),
            me,
            nodes: live_nodes(pool).await?,
            nodes_read: tokio::time::Instant::now(),
        }))
    }
}

/// The processes alive on the database (migration 0007), sorted.
async fn live_nodes(pool: &PgPool) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT node_id FROM runtime_nodes ORDER BY node_id")
            .fetch_all(pool)
            .await?,
    )
}

/// A listener on [`CHANNEL`], on a connection of its own from `pool`.
async fn listening(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

impl AppendListener {
    /// The next pointer from another process, or [`Heard::Lost`]. An
    /// error: the connection could not be made again (try later).
    pub async fn next(&mut self) -> Result<Heard> {
        loop {
            if self.nodes_read.elapsed() >= NODES_EVERY {
                let nodes = live_nodes(&self.pool).await?;
                self.nodes_read = tokio::time::Instant::now();
                let departed = self.nodes.iter().any(|n| !nodes.contains(n));
                self.nodes = nodes;
                if departed {
                    return Ok(Heard::Departed);
                }
            }
            // Cancel-safe: nothing is taken off the connection's buffer
            // until a whole message is there.
            let Ok(heard) = tokio::time::timeout(PROBE_AFTER, self.listener.try_recv()).await
            else {
                if self.answers().await {
                    continue;
                }
                tracing::warn!("the listener's connection does not answer; listening on a new one");
                // The old connection goes back to its pool, which tests it
                // and closes it (at once once the link is up: the far end
                // resets it).
                self.listener = listening(&self.pool).await?;
                return Ok(Heard::Lost);
            };
            let Some(notification) = heard? else {
                return Ok(Heard::Lost);
            };
            match parse(notification.payload()) {
                Some(pointer) if pointer.origin == self.me => {}
                Some(Pointer {
                    trip, seq, routine, ..
                }) => return Ok(Heard::Appended { trip, seq, routine }),
                None => {
                    tracing::warn!(
                        payload = notification.payload(),
                        "a malformed notification on {CHANNEL}"
                    );
                }
            }
        }
    }
}

impl AppendListener {
    /// Whether the listener's connection makes a round trip within
    /// [`PROBE_WITHIN`] (notifications that arrive meanwhile are kept).
    async fn answers(&mut self) -> bool {
        let probe = sqlx::query("SELECT 1").execute(&mut self.listener);
        matches!(tokio::time::timeout(PROBE_WITHIN, probe).await, Ok(Ok(_)))
    }
}

/// A pointer as sent.
#[derive(Debug, PartialEq, Eq)]
struct Pointer<'a> {
    trip: TripId,
    seq: u64,
    origin: &'a str,
    routine: bool,
}

/// `<trip id> <seq> <origin> <kind>`; a pointer without its kind (sent by
/// an older release) is read as not routine: its trip is read at once.
fn parse(payload: &str) -> Option<Pointer<'_>> {
    let mut parts = payload.split(' ');
    let trip = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let origin = parts.next().unwrap_or_default();
    let routine = parts.next() == Some("t");
    Some(Pointer {
        trip,
        seq,
        origin,
        routine,
    })
}

#[cfg(test)]
mod tests {
    use super::{Pointer, parse};

    #[test]
    fn a_pointer_is_read_and_a_malformed_one_refused() {
        let trip = wayfare_engine::state::TripId::new();
        let pointer = |routine| Pointer {
            trip,
            seq: 42,
            origin: "wayfare-abc",
            routine,
        };
        assert_eq!(
            parse(&format!("{trip} 42 wayfare-abc t")),
            Some(pointer(true))
        );
        assert_eq!(
            parse(&format!("{trip} 42 wayfare-abc e")),
            Some(pointer(false))
        );
        // An older release's pointer has no kind: read at once.
        assert_eq!(
            parse(&format!("{trip} 42 wayfare-abc")),
            Some(pointer(false))
        );
        assert_eq!(parse("not-a-uuid 1 x"), None);
        assert_eq!(parse(&format!("{trip} x y")), None);
    }
}
