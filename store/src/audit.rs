//! The consistency auditor's reads and repairs on SQL ([`AuditStore`]):
//! trips listed in bounded batches by index (the log's primary key, the
//! read model's), a trip's results through the queue's `trip_id` index,
//! and the repair of a trip's `trip_state`, `agent_tasks` and
//! `agent_results` rows from its log in one transaction that first checks
//! the log is still at the version the audit replayed: on SQLite inside
//! the writer's group commit (nothing else writes meanwhile), on
//! PostgreSQL under the trip's row lock (which every append takes) and
//! the queue's per-trip advisory lock (which every completion takes).

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;
use wayfare_engine::state::{
    AuditStore, NewTask, PortError, QueueRepair, TaskId, TaskStatus, TripId, TripState,
};

use crate::events::{encode_state, from_json, parse_ts, parse_uuid, to_i64, to_json, ts};
use crate::{Store, StoreError};

/// The statuses whose trips the changed-trips batch lists (the auditor
/// compares only trips at rest; a trip planning is looked at later).
const AT_REST: &str = "('ready', 'failed', 'cancelled', 'needs_input')";

/// A repair, its values encoded before the transaction.
enum Encoded {
    Put {
        task: NewTask,
        status: TaskStatus,
        result: Option<String>,
    },
    Remove(TaskId),
}

fn encode(queue: &[QueueRepair]) -> Result<Vec<Encoded>, StoreError> {
    queue
        .iter()
        .map(|r| {
            Ok(match r {
                QueueRepair::Put {
                    task,
                    status,
                    result,
                } => Encoded::Put {
                    task: task.clone(),
                    status: *status,
                    result: result.as_ref().map(to_json).transpose()?,
                },
                QueueRepair::Remove { task_id } => Encoded::Remove(*task_id),
            })
        })
        .collect()
}

/// The `trip_state` row a repair writes.
struct ReadModelRow {
    status: &'static str,
    progress: f64,
    version: i64,
    json: String,
    updated_at: DateTime<Utc>,
}

impl Store {
    async fn logged_trips_sql(
        &self,
        after: Option<TripId>,
        limit: usize,
    ) -> Result<Vec<TripId>, StoreError> {
        let after = after.map_or(Uuid::nil(), |t| t.as_uuid());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One row per trip (its first event) in the primary key's order.
        match self {
            Store::Sqlite { read: pool, .. } => {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT trip_id FROM trip_events WHERE seq = 1 AND trip_id > ?
                     ORDER BY trip_id LIMIT ?",
                )
                .bind(after.to_string())
                .bind(limit)
                .fetch_all(pool)
                .await?;
                ids.iter()
                    .map(|id| parse_uuid("trip_events.trip_id", id).map(TripId::from_uuid))
                    .collect()
            }
            Store::Postgres(pool) => {
                let ids: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT trip_id FROM trip_events WHERE seq = 1 AND trip_id > $1
                     ORDER BY trip_id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
                Ok(ids.into_iter().map(TripId::from_uuid).collect())
            }
        }
    }

    async fn trips_updated_after_sql(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(DateTime<Utc>, TripId)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match self {
            Store::Sqlite { read: pool, .. } => {
                let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT updated_at, trip_id FROM trip_state
                     WHERE status IN {AT_REST} AND updated_at > ?
                     ORDER BY updated_at, trip_id LIMIT ?"
                )))
                .bind(ts(since))
                .bind(limit)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|(at, id)| {
                        Ok((
                            parse_ts("trip_state.updated_at", at)?,
                            TripId::from_uuid(parse_uuid("trip_state.trip_id", id)?),
                        ))
                    })
                    .collect()
            }
            Store::Postgres(pool) => {
                let rows: Vec<(DateTime<Utc>, Uuid)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT updated_at, trip_id FROM trip_state
                         WHERE status IN {AT_REST} AND updated_at > $1
                         ORDER BY updated_at, trip_id LIMIT $2"
                    )))
                    .bind(since)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(at, id)| (at, TripId::from_uuid(id)))
                    .collect())
            }
        }
    }

    async fn results_of_sql(&self, trip_id: TripId) -> Result<Vec<(TaskId, Value)>, StoreError> {
        // Through the queue's `trip_id` index: `agent_results` has none,
        // and each of its rows has its task's row (a foreign key).
        let rows: Vec<(String, String)> = match self {
            Store::Sqlite { read: pool, .. } => {
                sqlx::query_as(
                    "SELECT r.task_id, r.result FROM agent_tasks t
                     JOIN agent_results r ON r.task_id = t.task_id
                     WHERE t.trip_id = ? ORDER BY t.rowid",
                )
                .bind(trip_id.to_string())
                .fetch_all(pool)
                .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT r.task_id::text, r.result::text FROM agent_tasks t
                     JOIN agent_results r ON r.task_id = t.task_id
                     WHERE t.trip_id = $1 ORDER BY t.position",
                )
                .bind(trip_id.as_uuid())
                .fetch_all(pool)
                .await?
            }
        };
        rows.iter()
            .map(|(id, result)| {
                Ok((
                    TaskId::from_uuid(parse_uuid("agent_results.task_id", id)?),
                    from_json("agent_results.result", result)?,
                ))
            })
            .collect()
    }

    async fn repair_sql(
        &self,
        state: &TripState,
        read_model: bool,
        queue: &[QueueRepair],
    ) -> Result<bool, StoreError> {
        let Some(trip) = state.trip_id else {
            return Ok(false);
        };
        let version = to_i64(state.version)?;
        let at = state.last_event_at.unwrap_or_else(Utc::now);
        let row = if read_model {
            let (status, progress, _, json) = encode_state(state)?;
            Some(ReadModelRow {
                status,
                progress,
                version,
                json,
                updated_at: at,
            })
        } else {
            None
        };
        let queue = encode(queue)?;
        match self {
            Store::Sqlite { writer, .. } => {
                writer
                    .run(move |tx| Box::pin(repair_sqlite(tx, trip, version, row, queue, at)))
                    .await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let done = repair_postgres(&mut tx, trip, version, row, queue, at).await?;
                tx.commit().await?;
                Ok(done)
            }
        }
    }
}

async fn repair_sqlite(
    tx: &mut sqlx::SqliteConnection,
    trip: TripId,
    version: i64,
    row: Option<ReadModelRow>,
    queue: Vec<Encoded>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let id = trip.to_string();
    let logged: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM trip_events WHERE trip_id = ?")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
    if logged != Some(version) {
        return Ok(false);
    }
    if let Some(row) = row {
        sqlx::query(
            "INSERT INTO trip_state (trip_id, status, progress, version, state, updated_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (trip_id) DO UPDATE SET status = excluded.status,
                progress = excluded.progress, version = excluded.version,
                state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(&id)
        .bind(row.status)
        .bind(row.progress)
        .bind(row.version)
        .bind(row.json)
        .bind(ts(row.updated_at))
        .execute(&mut *tx)
        .await?;
    }
    let at = ts(at);
    for repair in queue {
        match repair {
            Encoded::Put {
                task,
                status,
                result,
            } => {
                let task_id = task.task_id.to_string();
                sqlx::query(
                    "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority, status,
                        attempts, available_at, depends_on, created_at, deps_done)
                     VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 1)
                     ON CONFLICT (task_id) DO UPDATE SET trip_id = excluded.trip_id,
                        agent_type = excluded.agent_type, priority = excluded.priority,
                        status = excluded.status, depends_on = excluded.depends_on,
                        lease_owner = NULL, lease_expires_at = NULL",
                )
                .bind(&task_id)
                .bind(&id)
                .bind(&task.agent_type)
                .bind(i64::from(task.priority.rank()))
                .bind(status.as_str())
                .bind(&at)
                .bind(to_json(&task.depends_on)?)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                match result {
                    Some(json) => {
                        sqlx::query(
                            "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
                             VALUES (?, ?, ?, ?)
                             ON CONFLICT (task_id) DO UPDATE SET trip_id = excluded.trip_id,
                                result = excluded.result",
                        )
                        .bind(&task_id)
                        .bind(&id)
                        .bind(json)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM agent_results WHERE task_id = ?")
                            .bind(&task_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            Encoded::Remove(task_id) => {
                for sql in [
                    "DELETE FROM agent_results WHERE task_id = ?",
                    "DELETE FROM agent_tasks WHERE task_id = ?",
                ] {
                    sqlx::query(sql)
                        .bind(task_id.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
    }
    Ok(true)
}

async fn repair_postgres(
    tx: &mut sqlx::PgConnection,
    trip: TripId,
    version: i64,
    row: Option<ReadModelRow>,
    queue: Vec<Encoded>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let id = trip.as_uuid();
    // The queue's per-trip lock (completions take it), then the read
    // model's row (appends take it): neither writes this trip meanwhile.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT 1 FROM trip_state WHERE trip_id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let logged: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM trip_events WHERE trip_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if logged != Some(version) {
        return Ok(false);
    }
    if let Some(row) = row {
        sqlx::query(
            "INSERT INTO trip_state (trip_id, status, progress, version, state, updated_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6)
             ON CONFLICT (trip_id) DO UPDATE SET status = excluded.status,
                progress = excluded.progress, version = excluded.version,
                state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(row.status)
        .bind(row.progress)
        .bind(row.version)
        .bind(&row.json)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
    }
    for repair in queue {
        match repair {
            Encoded::Put {
                task,
                status,
                result,
            } => {
                let deps: Vec<Uuid> = task.depends_on.iter().map(TaskId::as_uuid).collect();
                sqlx::query(
                    "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority, status,
                        attempts, available_at, depends_on, created_at, deps_done)
                     VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $6, true)
                     ON CONFLICT (task_id) DO UPDATE SET trip_id = excluded.trip_id,
                        agent_type = excluded.agent_type, priority = excluded.priority,
                        status = excluded.status, depends_on = excluded.depends_on,
                        lease_owner = NULL, lease_expires_at = NULL",
                )
                .bind(task.task_id.as_uuid())
                .bind(id)
                .bind(&task.agent_type)
                .bind(i16::from(task.priority.rank()))
                .bind(status.as_str())
                .bind(at)
                .bind(deps)
                .execute(&mut *tx)
                .await?;
                match result {
                    Some(json) => {
                        sqlx::query(
                            "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
                             VALUES ($1, $2, $3::jsonb, $4)
                             ON CONFLICT (task_id) DO UPDATE SET trip_id = excluded.trip_id,
                                result = excluded.result",
                        )
                        .bind(task.task_id.as_uuid())
                        .bind(id)
                        .bind(json)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM agent_results WHERE task_id = $1")
                            .bind(task.task_id.as_uuid())
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            Encoded::Remove(task_id) => {
                for sql in [
                    "DELETE FROM agent_results WHERE task_id = $1",
                    "DELETE FROM agent_tasks WHERE task_id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(task_id.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
    }
    Ok(true)
}

impl AuditStore for Store {
    async fn logged_trips(
        &self,
        after: Option<TripId>,
        limit: usize,
    ) -> Result<Vec<TripId>, PortError> {
        Ok(self.logged_trips_sql(after, limit).await?)
    }

    async fn trips_updated_after(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(DateTime<Utc>, TripId)>, PortError> {
        Ok(self.trips_updated_after_sql(since, limit).await?)
    }

    async fn results_of(&self, trip_id: TripId) -> Result<Vec<(TaskId, Value)>, PortError> {
        Ok(self.results_of_sql(trip_id).await?)
    }

    async fn repair(
        &self,
        state: &TripState,
        read_model: bool,
        queue: &[QueueRepair],
    ) -> Result<bool, PortError> {
        Ok(self.repair_sql(state, read_model, queue).await?)
    }
}
