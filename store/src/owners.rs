//! `trip_owners`: which anonymous session made which trip, for a
//! browser's "My trips". The owner is an opaque string (the web layer's
//! session cookie); the store neither reads nor checks it.

use chrono::Utc;
use uuid::Uuid;

use crate::codec::Time;
use crate::db::on_pool;
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
        let now = Time(Utc::now());
        on_pool!(self, write, |pool| sqlx::query(
            "INSERT INTO trip_owners (trip_id, owner, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (trip_id) DO NOTHING",
        )
        .bind(&trip)
        .bind(owner)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    /// Who made `trip_id` (`None`: nobody recorded, or no such trip).
    #[tracing::instrument(skip_all, err)]
    pub async fn trip_owner(&self, trip_id: &str) -> Result<Option<String>> {
        let trip = trip_key(trip_id);
        Ok(on_pool!(self, read, |pool| sqlx::query_scalar(
            "SELECT owner FROM trip_owners WHERE trip_id = $1"
        )
        .bind(&trip)
        .fetch_optional(pool)
        .await?))
    }

    /// The ids of the trips `owner` made, newest first, at most `limit`.
    #[tracing::instrument(skip_all, err)]
    pub async fn owned_trips(&self, owner: &str, limit: u32) -> Result<Vec<String>> {
        // Ties by the order recorded.
        let sql = format!(
            "SELECT trip_id FROM trip_owners WHERE owner = $1 \
             ORDER BY created_at DESC, {} DESC LIMIT $2",
            self.dialect().order
        );
        Ok(on_pool!(self, read, |pool| sqlx::query_scalar(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(owner)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?))
    }
}
