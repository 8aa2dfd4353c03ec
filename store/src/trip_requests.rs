//! `trip_requests`: the words a person typed, stored before anything else
//! happens to them.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::Row;
use uuid::Uuid;
use wayfare_domain::request::{QueryText, TripRequestRecord};

use crate::{Result, Store, StoreError};

impl Store {
    /// Stores a request and returns it with its new unguessable id.
    #[tracing::instrument(skip_all, err)]
    pub async fn insert_trip_request(&self, query: &QueryText) -> Result<TripRequestRecord> {
        let id = Uuid::new_v4();
        let now = Utc::now();
        match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query("INSERT INTO trip_requests (id, query, created_at) VALUES (?, ?, ?)")
                    .bind(id.to_string())
                    .bind(query.as_str())
                    .bind(now.to_rfc3339_opts(SecondsFormat::Micros, true))
                    .execute(pool)
                    .await?;
            }
            Store::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO trip_requests (id, query, created_at) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(query.as_str())
                .bind(now)
                .execute(pool)
                .await?;
            }
        }
        Ok(TripRequestRecord {
            id: id.to_string(),
            query: query.as_str().to_owned(),
            created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        })
    }

    /// Reads a request back; `None` when no request has that id (including
    /// ids that are not UUIDs at all).
    #[tracing::instrument(skip_all, err)]
    pub async fn trip_request(&self, id: &str) -> Result<Option<TripRequestRecord>> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(None);
        };
        let record = match self {
            Store::Sqlite { write: pool, .. } => {
                let row = sqlx::query("SELECT query, created_at FROM trip_requests WHERE id = ?")
                    .bind(id.to_string())
                    .fetch_optional(pool)
                    .await?;
                match row {
                    None => None,
                    Some(row) => {
                        let created: String = row.try_get("created_at")?;
                        let created = DateTime::parse_from_rfc3339(&created)
                            .map_err(|e| {
                                StoreError::Corrupt(format!("trip_requests.created_at: {e}"))
                            })?
                            .with_timezone(&Utc);
                        Some((row.try_get::<String, _>("query")?, created))
                    }
                }
            }
            Store::Postgres(pool) => {
                let row = sqlx::query("SELECT query, created_at FROM trip_requests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
                match row {
                    None => None,
                    Some(row) => Some((
                        row.try_get("query")?,
                        row.try_get::<DateTime<Utc>, _>("created_at")?,
                    )),
                }
            }
        };
        Ok(record.map(|(query, created)| TripRequestRecord {
            id: id.to_string(),
            query,
            created_at: created.to_rfc3339_opts(SecondsFormat::Secs, true),
        }))
    }

    /// The newest requests first, at most `limit`.
    #[tracing::instrument(skip_all, err)]
    pub async fn recent_trip_requests(&self, limit: u32) -> Result<Vec<TripRequestRecord>> {
        let limit = i64::from(limit);
        let rows: Vec<(String, String, DateTime<Utc>)> = match self {
            Store::Sqlite { write: pool, .. } => {
                let rows = sqlx::query(
                    "SELECT id, query, created_at FROM trip_requests ORDER BY created_at DESC LIMIT ?",
                )
                .bind(limit)
                .fetch_all(pool)
                .await?;
                rows.into_iter()
                    .map(|row| {
                        let created: String = row.try_get("created_at")?;
                        let created = DateTime::parse_from_rfc3339(&created)
                            .map_err(|e| {
                                StoreError::Corrupt(format!("trip_requests.created_at: {e}"))
                            })?
                            .with_timezone(&Utc);
                        Ok((row.try_get("id")?, row.try_get("query")?, created))
                    })
                    .collect::<Result<_>>()?
            }
            Store::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT id, query, created_at FROM trip_requests ORDER BY created_at DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(pool)
                .await?;
                rows.into_iter()
                    .map(|row| {
                        let id: Uuid = row.try_get("id")?;
                        Ok((
                            id.to_string(),
                            row.try_get("query")?,
                            row.try_get("created_at")?,
                        ))
                    })
                    .collect::<Result<_>>()?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(id, query, created)| TripRequestRecord {
                id,
                query,
                created_at: created.to_rfc3339_opts(SecondsFormat::Secs, true),
            })
            .collect())
    }
}
