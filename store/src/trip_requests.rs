//! `trip_requests`: the words a person typed, stored before anything else
//! happens to them.

use chrono::{SecondsFormat, Utc};
use uuid::Uuid;
use wayfare_domain::request::{QueryText, TripRequestRecord};

use crate::codec::{Id, Time};
use crate::db::on_pool;
use crate::{Result, Store};

/// A `trip_requests` row.
#[derive(sqlx::FromRow)]
struct RequestRow {
    id: Id,
    query: String,
    created_at: Time,
}

impl From<RequestRow> for TripRequestRecord {
    fn from(row: RequestRow) -> Self {
        TripRequestRecord {
            id: row.id.0.to_string(),
            query: row.query,
            created_at: row.created_at.0.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

impl Store {
    /// Stores a request and returns it with its new unguessable id.
    #[tracing::instrument(skip_all, err)]
    pub async fn insert_trip_request(&self, query: &QueryText) -> Result<TripRequestRecord> {
        let row = RequestRow {
            id: Id(Uuid::new_v4()),
            query: query.as_str().to_owned(),
            created_at: Time(Utc::now()),
        };
        on_pool!(self, write, |pool| sqlx::query(
            "INSERT INTO trip_requests (id, query, created_at) VALUES ($1, $2, $3)"
        )
        .bind(row.id)
        .bind(&row.query)
        .bind(row.created_at)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(row.into())
    }

    /// Reads a request back; `None` when no request has that id (including
    /// ids that are not UUIDs at all).
    #[tracing::instrument(skip_all, err)]
    pub async fn trip_request(&self, id: &str) -> Result<Option<TripRequestRecord>> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row: Option<RequestRow> = on_pool!(self, write, |pool| sqlx::query_as(
            "SELECT id, query, created_at FROM trip_requests WHERE id = $1"
        )
        .bind(Id(id))
        .fetch_optional(pool)
        .await?);
        Ok(row.map(Into::into))
    }

    /// The newest requests first, at most `limit`.
    #[tracing::instrument(skip_all, err)]
    pub async fn recent_trip_requests(&self, limit: u32) -> Result<Vec<TripRequestRecord>> {
        let rows: Vec<RequestRow> = on_pool!(self, write, |pool| sqlx::query_as(
            "SELECT id, query, created_at FROM trip_requests ORDER BY created_at DESC LIMIT $1"
        )
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
