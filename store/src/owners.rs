//! `trip_owners`: which anonymous session made which trip, for a
//! browser's "My trips". The owner is an opaque string (the web layer's
//! session cookie); the store neither reads nor checks it.

use chrono::Utc;
use sqlx::Row;
use uuid::Uuid;

use crate::events::ts;
use crate::{Result, Store};

/// A trip id as stored in the tables keyed by trip as text: a UUID in its
/// hyphenated lower-case spelling (what the runtime hands out), whatever
/// spelling the caller used; anything else as given.
pub(crate) fn trip_key(trip_id: &str) -> String {
    Uuid::parse_str(trip_id).map_or_else(|_| trip_id.to_owned(), |u| u.hyphenated().to_string())
}

impl Store {
    /// Records that `owner` made `trip_id`. Idempotent: a trip keeps its
    /// first owner, and recording it again (by anyone) changes nothing.
    #[tracing::instrument(skip_all, err)]
    pub async fn record_trip_owner(&self, trip_id: &str, owner: &str) -> Result<()> {
        let trip = trip_key(trip_id);
        let now = Utc::now();
        match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query(
                    "INSERT INTO trip_owners (trip_id, owner, created_at) VALUES (?, ?, ?) \
                     ON CONFLICT (trip_id) DO NOTHING",
                )
                .bind(trip)
                .bind(owner)
                .bind(ts(now))
                .execute(pool)
                .await?;
            }
            Store::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO trip_owners (trip_id, owner, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (trip_id) DO NOTHING",
                )
                .bind(trip)
                .bind(owner)
                .bind(now)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// Who made `trip_id` (`None`: nobody recorded, or no such trip).
    #[tracing::instrument(skip_all, err)]
    pub async fn trip_owner(&self, trip_id: &str) -> Result<Option<String>> {
        let trip = trip_key(trip_id);
        let row = match self {
            Store::Sqlite { read: pool, .. } => {
                sqlx::query("SELECT owner FROM trip_owners WHERE trip_id = ?")
                    .bind(trip)
                    .fetch_optional(pool)
                    .await?
                    .map(|row| row.try_get("owner"))
            }
            Store::Postgres(pool) => {
                sqlx::query("SELECT owner FROM trip_owners WHERE trip_id = $1")
                    .bind(trip)
                    .fetch_optional(pool)
                    .await?
                    .map(|row| row.try_get("owner"))
            }
        };
        Ok(row.transpose()?)
    }

    /// The ids of the trips `owner` made, newest first, at most `limit`.
    #[tracing::instrument(skip_all, err)]
    pub async fn owned_trips(&self, owner: &str, limit: u32) -> Result<Vec<String>> {
        let limit = i64::from(limit);
        let ids = match self {
            Store::Sqlite { read: pool, .. } => sqlx::query(
                "SELECT trip_id FROM trip_owners WHERE owner = ? \
                     ORDER BY created_at DESC, rowid DESC LIMIT ?",
            )
            .bind(owner)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| row.try_get("trip_id"))
            .collect::<Result<Vec<String>, _>>()?,
            Store::Postgres(pool) => sqlx::query(
                "SELECT trip_id FROM trip_owners WHERE owner = $1 \
                     ORDER BY created_at DESC, position DESC LIMIT $2",
            )
            .bind(owner)
            .bind(limit)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| row.try_get("trip_id"))
            .collect::<Result<Vec<String>, _>>()?,
        };
        Ok(ids)
    }
}
