//! Events across processes: the pointers PostgreSQL's `trip_events_notify`
//! trigger (migration 0011) sends on the channel `wayfare_events` when an
//! append commits — `<trip id> <last seq> <writer's application_name>` —
//! heard through sqlx's [`PgListener`] on a connection of its own.
//!
//! A process skips its own pointers (it published those events already):
//! each [`Store`] names its connections uniquely (`Store::connect`). A
//! pointer is only that: the listener's owner reads the events from the
//! log. When the listening connection was lost, pointers sent meanwhile
//! are gone; [`Heard::Lost`] says so, and the owner reads again what it
//! has in hand. SQLite serves one process: there is nothing to hear.

use sqlx::postgres::PgListener;
use wayfare_engine::state::TripId;

use crate::{Result, Store};

/// The channel the trigger notifies.
pub const CHANNEL: &str = "wayfare_events";

/// What the listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Another process appended to `trip`'s log, up to `seq`.
    Appended { trip: TripId, seq: u64 },
    /// The connection was lost (and is made again on the next call):
    /// pointers may have been missed.
    Lost,
}

/// Another process's appends, as they commit (PostgreSQL).
pub struct AppendListener {
    listener: PgListener,
    /// This store's `application_name`: its own pointers are skipped.
    me: String,
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
        let Store::Postgres(pool) = self else {
            return Ok(None);
        };
        let me = pool
            .connect_options()
            .get_application_name()
            .unwrap_or_default()
            .to_owned();
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(AppendListener { listener, me }))
    }
}

impl AppendListener {
    /// The next pointer from another process, or [`Heard::Lost`]. An
    /// error: the connection could not be made again (try later).
    pub async fn next(&mut self) -> Result<Heard> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Heard::Lost);
            };
            match parse(notification.payload()) {
                Some((_, _, origin)) if origin == self.me => {}
                Some((trip, seq, _)) => return Ok(Heard::Appended { trip, seq }),
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

/// `<trip id> <seq> <origin>`.
fn parse(payload: &str) -> Option<(TripId, u64, &str)> {
    let mut parts = payload.splitn(3, ' ');
    let trip = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    Some((trip, seq, parts.next().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_pointer_is_read_and_a_malformed_one_refused() {
        let trip = wayfare_engine::state::TripId::new();
        let payload = format!("{trip} 42 wayfare-abc");
        assert_eq!(parse(&payload), Some((trip, 42, "wayfare-abc")));
        assert_eq!(parse("not-a-uuid 1 x"), None);
        assert_eq!(parse(&format!("{trip} x y")), None);
    }
}
