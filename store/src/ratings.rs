//! `trip_ratings`: what people thought of their trips — one [`Rating`] per
//! trip, replaced when rated again — and the [`Satisfaction`] figure made
//! of all of them (`/metrics`' `wayfare_user_satisfaction`).

use chrono::Utc;
use uuid::Uuid;
use wayfare_domain::rating::{Rating, Satisfaction};

use crate::codec::{Id, Int, Time};
use crate::db::on_pool;
use crate::owners::trip_key;
use crate::{Result, Store, StoreError};

/// A rating read back, checked like one sent.
fn rating(stars: i64, note: Option<String>) -> Result<Rating> {
    Rating::new(stars, note).map_err(|e| StoreError::Corrupt(format!("trip_ratings: {e}")))
}

impl Store {
    /// Rates a trip, replacing any earlier rating of it. The trip must
    /// exist ([`StoreError::UnknownTrip`] otherwise, ids that are not UUIDs
    /// included) and the rating be within its bounds
    /// ([`StoreError::Invalid`], for one built field by field).
    #[tracing::instrument(skip_all, err)]
    pub async fn rate_trip(&self, trip_id: &str, rating: &Rating) -> Result<()> {
        rating
            .check()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let Ok(uuid) = Uuid::parse_str(trip_id) else {
            return Err(StoreError::UnknownTrip(trip_id.to_owned()));
        };
        let key = trip_key(trip_id);
        let now = Utc::now();
        // Inserted only while the trip exists: a trip deleted meanwhile
        // gets no orphan rating.
        let written = on_pool!(self, write, |pool| sqlx::query(
            "INSERT INTO trip_ratings (trip_id, stars, note, rated_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM trip_state WHERE trip_id = $5) \
             ON CONFLICT (trip_id) DO UPDATE SET stars = excluded.stars, \
             note = excluded.note, rated_at = excluded.rated_at",
        )
        .bind(&key)
        .bind(i64::from(rating.stars))
        .bind(rating.note.as_deref())
        .bind(Time(now))
        .bind(Id(uuid))
        .execute(pool)
        .await?
        .rows_affected());
        if written == 0 {
            return Err(StoreError::UnknownTrip(key));
        }
        Ok(())
    }

    /// A trip's rating (`None`: not rated, or no such trip).
    #[tracing::instrument(skip_all, err)]
    pub async fn trip_rating(&self, trip_id: &str) -> Result<Option<Rating>> {
        let key = trip_key(trip_id);
        let row: Option<(Int, Option<String>)> = on_pool!(self, read, |pool| sqlx::query_as(
            "SELECT stars, note FROM trip_ratings WHERE trip_id = $1"
        )
        .bind(&key)
        .fetch_optional(pool)
        .await?);
        row.map(|(stars, note)| rating(stars.0, note)).transpose()
    }

    /// How many trips are rated, and their average stars.
    #[tracing::instrument(skip_all, err)]
    pub async fn satisfaction(&self) -> Result<Satisfaction> {
        // PostgreSQL's AVG of integers is a `numeric`: cast to a float.
        let (count, average): (i64, Option<f64>) = on_pool!(self, read, |pool| sqlx::query_as(
            "SELECT COUNT(*), CAST(AVG(stars) AS DOUBLE PRECISION) FROM trip_ratings"
        )
        .fetch_one(pool)
        .await?);
        let ratings = u64::try_from(count)
            .map_err(|_| StoreError::Corrupt(format!("trip_ratings: {count} rows")))?;
        Ok(Satisfaction {
            ratings,
            average: average.filter(|_| ratings > 0),
        })
    }
}
