//! Identifiers of trips and tasks: time-ordered UUIDs (v7) whose 74 other
//! bits are random, so that a trip id in a URL cannot be guessed from
//! another, while the ids of the trips planning now sort next to each other.
//!
//! The order is for the database. The log, the read models and the queue
//! are keyed by these ids; random (v4) keys scattered the rows that one
//! group commit touches over the whole of each index, so every commit wrote
//! a page of each index per trip in it (about 0.9 MB of WAL per trip on
//! SQLite). With ids that grow with time the trips in flight share the
//! indexes' last pages.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A version 7 UUID of the time now, its other bits from the same source
/// as a v4's (a cryptographic generator): no counter, unlike
/// `Uuid::now_v7`, so that ids made in the same millisecond do not give
/// each other away.
fn time_ordered() -> Uuid {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let random = Uuid::new_v4().into_bytes();
    let mut bits = [0u8; 10];
    bits.copy_from_slice(&random[6..]);
    uuid::Builder::from_unix_timestamp_millis(millis, &bits).into_uuid()
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh id: the time now, and 74 random bits.
            pub fn new() -> Self {
                Self(time_ordered())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// One trip being planned (the aggregate of the event log).
    TripId
);
uuid_id!(
    /// One agent task, unique across all trips (it keys `agent_tasks`).
    TaskId
);

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_version_7_in_time_order_and_differ_in_their_random_bits() {
        let first = TripId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let burst: Vec<TripId> = (0..1000).map(|_| TripId::new()).collect();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(burst.iter().all(|id| *id > first), "a later id sorts after");
        let unique: HashSet<_> = burst.iter().collect();
        assert_eq!(unique.len(), burst.len());
        // Ids of the same millisecond share their time, not their other
        // bits: no counter makes one predictable from another.
        let bits = |id: &TripId| u128::from_be_bytes(id.as_uuid().into_bytes());
        let millis = |id: &TripId| bits(id) >> 80;
        let random = |id: &TripId| bits(id) & ((1 << 62) - 1);
        let same_ms: Vec<_> = burst
            .windows(2)
            .filter(|w| millis(&w[0]) == millis(&w[1]))
            .map(|w| random(&w[1]).abs_diff(random(&w[0])))
            .collect();
        assert!(!same_ms.is_empty());
        assert!(
            same_ms.iter().filter(|d| **d < 1 << 32).count() * 10 < same_ms.len(),
            "neighbours in one millisecond are not close: {:?}",
            &same_ms[..same_ms.len().min(5)]
        );
    }
}
