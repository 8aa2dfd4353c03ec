//! The agent task queue on SQL: `agent_tasks` and `agent_results`.
//! [`Store`] implements the engine's [`TaskQueue`] port.
//!
//! PostgreSQL: a claim picks the most urgent ready row with
//! `FOR UPDATE SKIP LOCKED`, so several `wayfare` processes claim different
//! tasks without waiting on each other. SQLite: every write runs in a
//! `BEGIN IMMEDIATE` transaction (one writer at a time), which gives the
//! same guarantee within one file. A task is ready when it is pending and
//! its backoff has passed, or running under an expired lease (its instance
//! died), and every task it depends on is completed or skipped.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;
use wayfare_engine::state::{
    ClaimedTask, LeaseError, NewTask, PortError, Priority, QueuedTask, TaskId, TaskQueue,
    TaskStatus, TripId, after,
};

use crate::events::{from_json, parse_ts, parse_uuid, to_json, ts};
use crate::{Store, StoreError};

fn priority(rank: i64) -> Result<Priority, StoreError> {
    Priority::from_rank(rank)
        .ok_or_else(|| StoreError::Corrupt(format!("agent_tasks.priority: {rank}")))
}

fn status(s: &str) -> Result<TaskStatus, StoreError> {
    TaskStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("agent_tasks.status: {s:?}")))
}

fn attempts(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("agent_tasks.attempts: {n}")))
}

fn sqlite_task(row: &sqlx::sqlite::SqliteRow) -> Result<QueuedTask, StoreError> {
    let deps: Vec<TaskId> = from_json(
        "agent_tasks.depends_on",
        &row.try_get::<String, _>("depends_on")?,
    )?;
    let lease: Option<String> = row.try_get("lease_expires_at")?;
    Ok(QueuedTask {
        task_id: TaskId::from_uuid(parse_uuid(
            "agent_tasks.task_id",
            &row.try_get::<String, _>("task_id")?,
        )?),
        trip_id: TripId::from_uuid(parse_uuid(
            "agent_tasks.trip_id",
            &row.try_get::<String, _>("trip_id")?,
        )?),
        agent_type: row.try_get("agent_type")?,
        priority: priority(row.try_get("priority")?)?,
        depends_on: deps,
        status: status(&row.try_get::<String, _>("status")?)?,
        attempts: attempts(row.try_get("attempts")?)?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: lease
            .map(|l| parse_ts("agent_tasks.lease_expires_at", &l))
            .transpose()?,
        last_error: row.try_get("last_error")?,
    })
}

fn pg_task(row: &sqlx::postgres::PgRow) -> Result<QueuedTask, StoreError> {
    let deps: Vec<Uuid> = row.try_get("depends_on")?;
    Ok(QueuedTask {
        task_id: TaskId::from_uuid(row.try_get("task_id")?),
        trip_id: TripId::from_uuid(row.try_get("trip_id")?),
        agent_type: row.try_get("agent_type")?,
        priority: priority(i64::from(row.try_get::<i16, _>("priority")?))?,
        depends_on: deps.into_iter().map(TaskId::from_uuid).collect(),
        status: status(&row.try_get::<String, _>("status")?)?,
        attempts: attempts(i64::from(row.try_get::<i32, _>("attempts")?))?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        last_error: row.try_get("last_error")?,
    })
}

const COLUMNS: &str = "task_id, trip_id, agent_type, priority, status, attempts, lease_owner, \
                       lease_expires_at, depends_on, last_error";

/// [`COLUMNS`], each qualified by a table alias.
fn columns_of(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Claimed rows, most urgent first (RETURNING keeps no order).
fn claimed_all(
    mut tasks: Vec<QueuedTask>,
    instance_id: &str,
    lease_expires_at: DateTime<Utc>,
) -> Vec<ClaimedTask> {
    tasks.sort_by_key(|t| t.priority);
    tasks
        .into_iter()
        .map(|t| claimed(t, instance_id, lease_expires_at))
        .collect()
}

fn claimed(task: QueuedTask, instance_id: &str, lease_expires_at: DateTime<Utc>) -> ClaimedTask {
    ClaimedTask {
        task_id: task.task_id,
        trip_id: task.trip_id,
        agent_type: task.agent_type,
        priority: task.priority,
        depends_on: task.depends_on,
        instance_id: instance_id.to_owned(),
        attempt: task.attempts,
        lease_expires_at,
    }
}

fn lease_err(err: StoreError) -> LeaseError {
    LeaseError::Port(err.into())
}

/// Marks the pending tasks of a trip whose dependencies are all completed
/// or skipped as ready (`deps_done`); run in the transaction that finishes
/// a task, so that readiness never lags the statuses it depends on. On
/// SQLite a trigger does it when a task finishes (migration 0006); this is
/// for a newly enqueued graph.
pub(crate) const PROMOTE_SQLITE: &str = "UPDATE agent_tasks SET deps_done = 1
    WHERE trip_id = ? AND status = 'pending' AND deps_done = 0
      AND NOT EXISTS (
          SELECT 1 FROM json_each(agent_tasks.depends_on) d
          LEFT JOIN agent_tasks p ON p.task_id = d.value
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'))";
/// PostgreSQL: concurrent transactions finishing two tasks of one trip
/// would each miss the other's (uncommitted) status and leave a dependent
/// of both unready. Taken first in every transaction that promotes, this
/// lock serialises them per trip (a statement after it sees the other's
/// commit).
const LOCK_TRIP_POSTGRES: &str = "SELECT pg_advisory_xact_lock(hashtextextended(
    (SELECT trip_id FROM agent_tasks WHERE task_id = $1)::text, 0))";
const PROMOTE_POSTGRES: &str = "UPDATE agent_tasks a SET deps_done = true
    WHERE a.trip_id = $1 AND a.status = 'pending' AND NOT a.deps_done
      AND NOT EXISTS (
          SELECT 1 FROM unnest(a.depends_on) AS d(id)
          LEFT JOIN agent_tasks p ON p.task_id = d.id
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'))";

/// Completes a task by storing its result (parameters: result, completed
/// at, task id): the triggers of migration 0006 mark it completed and
/// promote its dependents. A task completed already (or unknown) is left
/// alone: the first result stands.
pub(crate) const COMPLETE_SQLITE: &str =
    "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
    SELECT task_id, trip_id, ?, ? FROM agent_tasks
    WHERE task_id = ? AND status != 'completed'
    ON CONFLICT DO NOTHING";

/// Moves a task that is not final to another status (parameters: status,
/// error, available at, task id). A skip's dependents are promoted by a
/// trigger (migration 0006).
pub(crate) const SETTLE_SQLITE: &str = "UPDATE agent_tasks SET status = ?,
        last_error = COALESCE(?, last_error), available_at = COALESCE(?, available_at),
        lease_owner = NULL, lease_expires_at = NULL
    WHERE task_id = ? AND status IN ('pending', 'running')";

/// Puts tasks back as pending with a fresh retry budget (parameters:
/// available at, the task ids as a JSON array, the trip id); completed and
/// skipped ones are left alone. Readiness is recomputed: not ready here,
/// then [`PROMOTE_SQLITE`] (bound to the trip) promotes those whose
/// dependencies are done.
pub(crate) const REQUEUE_SQLITE: &str = "UPDATE agent_tasks SET status = 'pending', attempts = 0,
        lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
        available_at = ?, deps_done = 0
    WHERE task_id IN (SELECT value FROM json_each(?)) AND trip_id = ?
      AND status NOT IN ('completed', 'skipped')";

/// [`PROMOTE_POSTGRES`] for the trip of task `$1`.
const PROMOTE_POSTGRES_OF_TASK: &str = "UPDATE agent_tasks a SET deps_done = true
    WHERE a.trip_id = (SELECT trip_id FROM agent_tasks WHERE task_id = $1)
      AND a.status = 'pending' AND NOT a.deps_done
      AND NOT EXISTS (
          SELECT 1 FROM unnest(a.depends_on) AS d(id)
          LEFT JOIN agent_tasks p ON p.task_id = d.id
          WHERE p.status IS NULL OR p.status NOT IN ('completed', 'skipped'))";

/// The trips `tasks` belong to, each once.
pub(crate) fn trips_of(tasks: &[NewTask]) -> Vec<TripId> {
    let mut trips: Vec<TripId> = tasks.iter().map(|t| t.trip_id).collect();
    trips.sort();
    trips.dedup();
    trips
}

impl Store {
    /// Enqueues `tasks` in one transaction (a trip's whole graph at once).
    pub(crate) async fn enqueue_sql(
        &self,
        tasks: &[NewTask],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite { writer, .. } => {
                let tasks = tasks.to_vec();
                writer
                    .run(move |tx| Box::pin(enqueue_sqlite(tx, tasks, now)))
                    .await?;
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                enqueue_postgres(&mut tx, tasks, now).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Claims up to `limit` ready tasks of `agent_types`, most urgent first,
    /// in one statement.
    async fn claim_sql(
        &self,
        instance_id: &str,
        agent_types: &[String],
        now: DateTime<Utc>,
        lease_for: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let until = after(now, lease_for);
        let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
        let tasks = match self {
            Store::Sqlite { write: pool, .. } => {
                // One statement is one implicit transaction: with the single
                // writer connection nobody else writes in between.
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE agent_tasks SET status = 'running', attempts = attempts + 1,
                        lease_owner = ?, lease_expires_at = ?
                     WHERE task_id IN (
                        SELECT t.task_id FROM agent_tasks t
                        WHERE t.agent_type IN (SELECT value FROM json_each(?))
                          AND ((t.status = 'pending' AND t.deps_done = 1 AND t.available_at <= ?)
                               OR (t.status = 'running' AND t.lease_expires_at <= ?))
                        ORDER BY t.priority, t.rowid LIMIT ?)
                     RETURNING {COLUMNS}"
                )))
                .bind(instance_id)
                .bind(ts(until))
                .bind(to_json(&agent_types)?)
                .bind(ts(now))
                .bind(ts(now))
                .bind(limit)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(sqlite_task)
                    .collect::<Result<Vec<_>, _>>()?
            }
            Store::Postgres(pool) => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "WITH next AS (
                        SELECT t.task_id FROM agent_tasks t
                        WHERE t.agent_type = ANY($3)
                          AND ((t.status = 'pending' AND t.deps_done AND t.available_at <= $4)
                               OR (t.status = 'running' AND t.lease_expires_at <= $4))
                        ORDER BY t.priority, t.position LIMIT $5
                        FOR UPDATE OF t SKIP LOCKED)
                     UPDATE agent_tasks a SET status = 'running', attempts = a.attempts + 1,
                        lease_owner = $1, lease_expires_at = $2
                     FROM next WHERE a.task_id = next.task_id
                     RETURNING {}",
                    columns_of("a")
                )))
                .bind(instance_id)
                .bind(until)
                .bind(agent_types)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await?;
                rows.iter().map(pg_task).collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(claimed_all(tasks, instance_id, until))
    }

    /// Claims, in one statement, up to `limit` ready tasks of each agent
    /// type in `limits` (most urgent first within a type).
    async fn claim_many_sql(
        &self,
        instance_id: &str,
        limits: &[(String, usize)],
        now: DateTime<Utc>,
        lease_for: std::time::Duration,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let limits: serde_json::Map<String, Value> = limits
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (t.clone(), Value::from(*n)))
            .collect();
        if limits.is_empty() {
            return Ok(Vec::new());
        }
        let limits = Value::Object(limits).to_string();
        let until = after(now, lease_for);
        let tasks = match self {
            Store::Sqlite { writer, .. } => {
                let instance_id = instance_id.to_owned();
                writer
                    .run(move |tx| Box::pin(claim_many_sqlite(tx, instance_id, limits, now, until)))
                    .await?
            }
            Store::Postgres(pool) => {
                // Row locks cannot be taken beside a window function: lock
                // the ready rows first (skipping those another process is
                // claiming), then rank what was locked.
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "WITH quota AS (
                        SELECT key AS agent_type, value::bigint AS quota FROM jsonb_each_text($3::jsonb)),
                     ready AS (
                        SELECT t.task_id, t.agent_type, t.priority, t.position FROM agent_tasks t
                        WHERE t.agent_type IN (SELECT agent_type FROM quota)
                          AND ((t.status = 'pending' AND t.deps_done AND t.available_at <= $4)
                               OR (t.status = 'running' AND t.lease_expires_at <= $4))
                        FOR UPDATE OF t SKIP LOCKED),
                     ranked AS (
                        SELECT r.task_id, ROW_NUMBER() OVER (
                            PARTITION BY r.agent_type ORDER BY r.priority, r.position) AS n, q.quota
                        FROM ready r JOIN quota q ON q.agent_type = r.agent_type)
                     UPDATE agent_tasks a SET status = 'running', attempts = a.attempts + 1,
                        lease_owner = $1, lease_expires_at = $2
                     FROM ranked WHERE a.task_id = ranked.task_id AND ranked.n <= ranked.quota
                     RETURNING {}",
                    columns_of("a")
                )))
                .bind(instance_id)
                .bind(until)
                .bind(&limits)
                .bind(now)
                .fetch_all(pool)
                .await?;
                rows.iter().map(pg_task).collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(claimed_all(tasks, instance_id, until))
    }

    async fn task_sql(&self, task_id: TaskId) -> Result<Option<QueuedTask>, StoreError> {
        match self {
            Store::Sqlite { read: pool, .. } => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM agent_tasks WHERE task_id = ?"
                )))
                .bind(task_id.to_string())
                .fetch_optional(pool)
                .await?;
                row.as_ref().map(sqlite_task).transpose()
            }
            Store::Postgres(pool) => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM agent_tasks WHERE task_id = $1"
                )))
                .bind(task_id.as_uuid())
                .fetch_optional(pool)
                .await?;
                row.as_ref().map(pg_task).transpose()
            }
        }
    }

    /// Why an update that matched no row matched none.
    async fn explain_miss(&self, task_id: TaskId) -> LeaseError {
        match self.task_sql(task_id).await {
            Ok(Some(_)) => LeaseError::Lost(task_id),
            Ok(None) => LeaseError::UnknownTask(task_id),
            Err(err) => lease_err(err),
        }
    }

    async fn heartbeat_sql(
        &self,
        task_id: TaskId,
        instance_id: &str,
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let updated = match self {
            Store::Sqlite { write: pool, .. } => sqlx::query(
                "UPDATE agent_tasks SET lease_expires_at = ?
                     WHERE task_id = ? AND lease_owner = ? AND status = 'running'",
            )
            .bind(ts(until))
            .bind(task_id.to_string())
            .bind(instance_id)
            .execute(pool)
            .await?
            .rows_affected(),
            Store::Postgres(pool) => sqlx::query(
                "UPDATE agent_tasks SET lease_expires_at = $1
                     WHERE task_id = $2 AND lease_owner = $3 AND status = 'running'",
            )
            .bind(until)
            .bind(task_id.as_uuid())
            .bind(instance_id)
            .execute(pool)
            .await?
            .rows_affected(),
        };
        Ok(updated)
    }

    /// Extends the leases `instance_id` holds on `task_ids` in one
    /// statement; returns the rows changed.
    async fn heartbeat_all_sql(
        &self,
        task_ids: &[TaskId],
        instance_id: &str,
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if task_ids.is_empty() {
            return Ok(0);
        }
        let updated = match self {
            Store::Sqlite { write: pool, .. } => {
                let ids: Vec<String> = task_ids.iter().map(ToString::to_string).collect();
                sqlx::query(
                    "UPDATE agent_tasks SET lease_expires_at = ?
                         WHERE task_id IN (SELECT value FROM json_each(?))
                           AND lease_owner = ? AND status = 'running'",
                )
                .bind(ts(until))
                .bind(to_json(&ids)?)
                .bind(instance_id)
                .execute(pool)
                .await?
                .rows_affected()
            }
            Store::Postgres(pool) => {
                let ids: Vec<Uuid> = task_ids.iter().map(TaskId::as_uuid).collect();
                sqlx::query(
                    "UPDATE agent_tasks SET lease_expires_at = $1
                         WHERE task_id = ANY($2) AND lease_owner = $3 AND status = 'running'",
                )
                .bind(until)
                .bind(ids)
                .bind(instance_id)
                .execute(pool)
                .await?
                .rows_affected()
            }
        };
        Ok(updated)
    }

    /// `None`: no such task; `Some(false)`: already completed.
    pub(crate) async fn complete_sql(
        &self,
        task_id: TaskId,
        result: &Value,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>, StoreError> {
        let json = to_json(result)?;
        match self {
            Store::Sqlite { writer, .. } => {
                writer
                    .run(move |tx| Box::pin(complete_sqlite(tx, task_id, json, now)))
                    .await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let done = complete_postgres(&mut tx, task_id, &json, now).await?;
                tx.commit().await?;
                Ok(done)
            }
        }
    }

    /// Moves a task that is not final to `to`; returns the rows changed.
    pub(crate) async fn settle_sql(
        &self,
        task_id: TaskId,
        to: TaskStatus,
        error: Option<&str>,
        available_at: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite { writer, .. } => {
                let error = error.map(str::to_owned);
                writer
                    .run(move |tx| Box::pin(settle_sqlite(tx, task_id, to, error, available_at)))
                    .await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let updated = settle_postgres(&mut tx, task_id, to, error, available_at).await?;
                tx.commit().await?;
                Ok(updated)
            }
        }
    }

    /// [`TaskQueue::requeue`] in its own transaction.
    pub(crate) async fn requeue_sql(
        &self,
        trip_id: TripId,
        task_ids: Vec<TaskId>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        match self {
            Store::Sqlite { writer, .. } => {
                writer
                    .run(move |tx| Box::pin(requeue_sqlite(tx, trip_id, task_ids, now)))
                    .await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let requeued = requeue_postgres(&mut tx, trip_id, &task_ids, now).await?;
                tx.commit().await?;
                Ok(requeued)
            }
        }
    }

    async fn result_sql(&self, task_id: TaskId) -> Result<Option<Value>, StoreError> {
        let json: Option<String> = match self {
            Store::Sqlite { read: pool, .. } => {
                sqlx::query_scalar("SELECT result FROM agent_results WHERE task_id = ?")
                    .bind(task_id.to_string())
                    .fetch_optional(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar("SELECT result::text FROM agent_results WHERE task_id = $1")
                    .bind(task_id.as_uuid())
                    .fetch_optional(pool)
                    .await?
            }
        };
        json.map(|j| from_json("agent_results.result", &j))
            .transpose()
    }

    async fn tasks_of_sql(&self, trip_id: TripId) -> Result<Vec<QueuedTask>, StoreError> {
        match self {
            Store::Sqlite { read: pool, .. } => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM agent_tasks WHERE trip_id = ? ORDER BY rowid"
                )))
                .bind(trip_id.to_string())
                .fetch_all(pool)
                .await?;
                rows.iter().map(sqlite_task).collect()
            }
            Store::Postgres(pool) => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM agent_tasks WHERE trip_id = $1 ORDER BY position"
                )))
                .bind(trip_id.as_uuid())
                .fetch_all(pool)
                .await?;
                rows.iter().map(pg_task).collect()
            }
        }
    }
}

impl TaskQueue for Store {
    async fn enqueue(&self, task: &NewTask, now: DateTime<Utc>) -> Result<(), PortError> {
        Ok(self.enqueue_sql(std::slice::from_ref(task), now).await?)
    }

    async fn enqueue_all(&self, tasks: &[NewTask], now: DateTime<Utc>) -> Result<(), PortError> {
        Ok(self.enqueue_sql(tasks, now).await?)
    }

    #[tracing::instrument(skip_all, fields(instance.id = instance_id), err)]
    async fn claim_ready(
        &self,
        instance_id: &str,
        agent_types: &[String],
        now: DateTime<Utc>,
        lease_for: std::time::Duration,
    ) -> Result<Option<ClaimedTask>, PortError> {
        Ok(self
            .claim_sql(instance_id, agent_types, now, lease_for, 1)
            .await?
            .into_iter()
            .next())
    }

    async fn claim_ready_many(
        &self,
        instance_id: &str,
        limits: &[(String, usize)],
        now: DateTime<Utc>,
        lease_for: std::time::Duration,
    ) -> Result<Vec<ClaimedTask>, PortError> {
        Ok(self
            .claim_many_sql(instance_id, limits, now, lease_for)
            .await?)
    }

    async fn heartbeat(
        &self,
        task_id: TaskId,
        instance_id: &str,
        now: DateTime<Utc>,
        lease_for: std::time::Duration,
    ) -> Result<DateTime<Utc>, LeaseError> {
        let until = after(now, lease_for);
        match self.heartbeat_sql(task_id, instance_id, until).await {
            Ok(0) => Err(self.explain_miss(task_id).await),
            Ok(_) => Ok(until),
            Err(err) => Err(lease_err(err)),
        }
    }

    async fn heartbeat_all(
        &self,
        task_ids: &[TaskId],
        instance_id: &str,
        now: DateTime<Utc>,
        lease_for: std::time::Duration,
    ) -> Result<usize, PortError> {
        let until = after(now, lease_for);
        let extended = self.heartbeat_all_sql(task_ids, instance_id, until).await?;
        Ok(usize::try_from(extended).unwrap_or(usize::MAX))
    }

    async fn recover_leases(
        &self,
        node_id: &str,
        now: DateTime<Utc>,
        silent_for: std::time::Duration,
    ) -> Result<usize, PortError> {
        let released = match self {
            // One process per file: every lease is a dead predecessor's.
            Store::Sqlite { write: pool, .. } => sqlx::query(
                "UPDATE agent_tasks SET lease_expires_at = ?
                     WHERE status = 'running' AND lease_expires_at > ?
                       AND (lease_owner IS NULL OR lease_owner != ?)",
            )
            .bind(ts(now))
            .bind(ts(now))
            .bind(node_id)
            .execute(pool)
            .await
            .map_err(StoreError::from)?
            .rows_affected(),
            Store::Postgres(_) => return self.node_alive(node_id, now, silent_for).await,
        };
        Ok(usize::try_from(released).unwrap_or(usize::MAX))
    }

    async fn node_alive(
        &self,
        node_id: &str,
        now: DateTime<Utc>,
        silent_for: std::time::Duration,
    ) -> Result<usize, PortError> {
        let Store::Postgres(pool) = self else {
            return Ok(0);
        };
        Ok(node_alive_postgres(pool, node_id, now, silent_for).await?)
    }

    #[tracing::instrument(skip_all, fields(task.id = %task_id), err)]
    async fn complete(
        &self,
        task_id: TaskId,
        result: &Value,
        now: DateTime<Utc>,
    ) -> Result<bool, LeaseError> {
        match self.complete_sql(task_id, result, now).await {
            Ok(Some(first)) => Ok(first),
            Ok(None) => Err(LeaseError::UnknownTask(task_id)),
            Err(err) => Err(lease_err(err)),
        }
    }

    async fn fail(
        &self,
        task_id: TaskId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), LeaseError> {
        let to = if retry_at.is_some() {
            TaskStatus::Pending
        } else {
            TaskStatus::Failed
        };
        match self.settle_sql(task_id, to, Some(error), retry_at).await {
            Ok(0) => match self.task_sql(task_id).await {
                // Already final: a late failure changes nothing.
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(LeaseError::UnknownTask(task_id)),
                Err(err) => Err(lease_err(err)),
            },
            Ok(_) => Ok(()),
            Err(err) => Err(lease_err(err)),
        }
    }

    async fn skip(&self, task_id: TaskId) -> Result<(), LeaseError> {
        match self
            .settle_sql(task_id, TaskStatus::Skipped, None, None)
            .await
        {
            Ok(0) => match self.task_sql(task_id).await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(LeaseError::UnknownTask(task_id)),
                Err(err) => Err(lease_err(err)),
            },
            Ok(_) => Ok(()),
            Err(err) => Err(lease_err(err)),
        }
    }

    async fn requeue(
        &self,
        trip_id: TripId,
        task_ids: &[TaskId],
        now: DateTime<Utc>,
    ) -> Result<usize, PortError> {
        Ok(self.requeue_sql(trip_id, task_ids.to_vec(), now).await?)
    }

    async fn result(&self, task_id: TaskId) -> Result<Option<Value>, PortError> {
        Ok(self.result_sql(task_id).await?)
    }

    async fn tasks_of(&self, trip_id: TripId) -> Result<Vec<QueuedTask>, PortError> {
        Ok(self.tasks_of_sql(trip_id).await?)
    }
}

/// `complete_sql` on SQLite, inside the writer's group commit.
pub(crate) async fn complete_sqlite(
    tx: &mut sqlx::SqliteConnection,
    task_id: TaskId,
    json: String,
    now: DateTime<Utc>,
) -> Result<Option<bool>, StoreError> {
    let stored = sqlx::query(COMPLETE_SQLITE)
        .bind(json)
        .bind(ts(now))
        .bind(task_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if stored > 0 {
        return Ok(Some(true));
    }
    // No such task, or completed already.
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM agent_tasks WHERE task_id = ?")
        .bind(task_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    Ok(known.map(|_| false))
}

/// `settle_sql` on SQLite, inside the writer's group commit. A skip's
/// dependents are promoted by a trigger (migration 0006).
async fn settle_sqlite(
    tx: &mut sqlx::SqliteConnection,
    task_id: TaskId,
    to: TaskStatus,
    error: Option<String>,
    available_at: Option<DateTime<Utc>>,
) -> Result<u64, StoreError> {
    let updated = sqlx::query(SETTLE_SQLITE)
        .bind(to.as_str())
        .bind(error)
        .bind(available_at.map(ts))
        .bind(task_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(updated)
}

/// `settle_sql` on PostgreSQL, inside `tx`.
pub(crate) async fn settle_postgres(
    tx: &mut sqlx::PgConnection,
    task_id: TaskId,
    to: TaskStatus,
    error: Option<&str>,
    available_at: Option<DateTime<Utc>>,
) -> Result<u64, StoreError> {
    // A skipped task counts as done for its dependents.
    let promote = to == TaskStatus::Skipped;
    if promote {
        sqlx::query(LOCK_TRIP_POSTGRES)
            .bind(task_id.as_uuid())
            .execute(&mut *tx)
            .await?;
    }
    let updated = sqlx::query(
        "UPDATE agent_tasks SET status = $1, last_error = COALESCE($2, last_error),
            available_at = COALESCE($3, available_at),
            lease_owner = NULL, lease_expires_at = NULL
         WHERE task_id = $4 AND status IN ('pending', 'running')",
    )
    .bind(to.as_str())
    .bind(error)
    .bind(available_at)
    .bind(task_id.as_uuid())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if promote && updated > 0 {
        sqlx::query(PROMOTE_POSTGRES_OF_TASK)
            .bind(task_id.as_uuid())
            .execute(&mut *tx)
            .await?;
    }
    Ok(updated)
}

/// `requeue_sql` on SQLite, inside the writer's group commit.
async fn requeue_sqlite(
    tx: &mut sqlx::SqliteConnection,
    trip_id: TripId,
    task_ids: Vec<TaskId>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let requeued = sqlx::query(REQUEUE_SQLITE)
        .bind(ts(now))
        .bind(to_json(&task_ids)?)
        .bind(trip_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(PROMOTE_SQLITE)
        .bind(trip_id.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(usize::try_from(requeued).unwrap_or(usize::MAX))
}

/// `requeue_sql` on PostgreSQL, inside `tx`: under the trip's lock, like
/// every write that promotes.
pub(crate) async fn requeue_postgres(
    tx: &mut sqlx::PgConnection,
    trip_id: TripId,
    task_ids: &[TaskId],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(($1::uuid)::text, 0))")
        .bind(trip_id.as_uuid())
        .execute(&mut *tx)
        .await?;
    let ids: Vec<Uuid> = task_ids.iter().map(TaskId::as_uuid).collect();
    let requeued = sqlx::query(
        "UPDATE agent_tasks SET status = 'pending', attempts = 0, lease_owner = NULL,
            lease_expires_at = NULL, last_error = NULL, available_at = $1, deps_done = false
         WHERE task_id = ANY($2) AND trip_id = $3 AND status NOT IN ('completed', 'skipped')",
    )
    .bind(now)
    .bind(ids)
    .bind(trip_id.as_uuid())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(PROMOTE_POSTGRES)
        .bind(trip_id.as_uuid())
        .execute(&mut *tx)
        .await?;
    Ok(usize::try_from(requeued).unwrap_or(usize::MAX))
}

/// `claim_many_sql` on SQLite, inside the writer's group commit.
async fn claim_many_sqlite(
    tx: &mut sqlx::SqliteConnection,
    instance_id: String,
    limits: String,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<QueuedTask>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE agent_tasks SET status = 'running', attempts = attempts + 1,
            lease_owner = ?, lease_expires_at = ?
         WHERE task_id IN (
            SELECT task_id FROM (
                SELECT t.task_id, l.value AS quota, ROW_NUMBER() OVER (
                    PARTITION BY t.agent_type ORDER BY t.priority, t.rowid) AS n
                FROM agent_tasks t JOIN json_each(?) l ON l.key = t.agent_type
                WHERE (t.status = 'pending' AND t.deps_done = 1 AND t.available_at <= ?)
                   OR (t.status = 'running' AND t.lease_expires_at <= ?))
            WHERE n <= quota)
         RETURNING {COLUMNS}"
    )))
    .bind(instance_id)
    .bind(ts(until))
    .bind(limits)
    .bind(ts(now))
    .bind(ts(now))
    .fetch_all(&mut *tx)
    .await?;
    rows.iter().map(sqlite_task).collect()
}

/// `enqueue_sql` on SQLite, inside the writer's group commit.
pub(crate) async fn enqueue_sqlite(
    tx: &mut sqlx::SqliteConnection,
    tasks: Vec<NewTask>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if tasks.is_empty() {
        return Ok(());
    }
    let query = sqlx::query(sqlx::AssertSqlSafe(enqueue_sqlite_sql(tasks.len())));
    bind_enqueue_sqlite(query, &tasks, now)?
        .execute(&mut *tx)
        .await?;
    for trip in trips_of(&tasks) {
        sqlx::query(PROMOTE_SQLITE)
            .bind(trip.to_string())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// One statement inserting `n` tasks (seven parameters a row; SQLite takes
/// up to 32766 in a statement, so a graph of up to 4680 tasks).
pub(crate) fn enqueue_sqlite_sql(n: usize) -> String {
    let values = vec!["(?, ?, ?, ?, 'pending', 0, ?, ?, ?)"; n].join(", ");
    format!(
        "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority, status,
            attempts, available_at, depends_on, created_at)
         VALUES {values} ON CONFLICT DO NOTHING"
    )
}

/// Binds [`enqueue_sqlite_sql`]'s parameters.
pub(crate) fn bind_enqueue_sqlite<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    tasks: &[NewTask],
    now: DateTime<Utc>,
) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>, StoreError> {
    let now = ts(now);
    for task in tasks {
        query = query
            .bind(task.task_id.to_string())
            .bind(task.trip_id.to_string())
            .bind(task.agent_type.clone())
            .bind(i64::from(task.priority.rank()))
            .bind(now.clone())
            .bind(to_json(&task.depends_on)?)
            .bind(now.clone());
    }
    Ok(query)
}

/// `complete_sql` on PostgreSQL, inside `tx`.
pub(crate) async fn complete_postgres(
    tx: &mut sqlx::PgConnection,
    task_id: TaskId,
    json: &str,
    now: DateTime<Utc>,
) -> Result<Option<bool>, StoreError> {
    sqlx::query(LOCK_TRIP_POSTGRES)
        .bind(task_id.as_uuid())
        .execute(&mut *tx)
        .await?;
    let row: Option<(String, Uuid)> =
        sqlx::query_as("SELECT status, trip_id FROM agent_tasks WHERE task_id = $1 FOR UPDATE")
            .bind(task_id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((current, trip_id)) = row else {
        return Ok(None);
    };
    if current == "completed" {
        return Ok(Some(false));
    }
    sqlx::query(
        "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
         VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT DO NOTHING",
    )
    .bind(task_id.as_uuid())
    .bind(trip_id)
    .bind(json)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE agent_tasks SET status = 'completed', lease_owner = NULL,
            lease_expires_at = NULL, last_error = NULL WHERE task_id = $1",
    )
    .bind(task_id.as_uuid())
    .execute(&mut *tx)
    .await?;
    sqlx::query(PROMOTE_POSTGRES)
        .bind(trip_id)
        .execute(&mut *tx)
        .await?;
    Ok(Some(true))
}

/// `enqueue_sql` on PostgreSQL, inside `tx`.
pub(crate) async fn enqueue_postgres(
    tx: &mut sqlx::PgConnection,
    tasks: &[NewTask],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for task in tasks {
        let deps: Vec<Uuid> = task.depends_on.iter().map(TaskId::as_uuid).collect();
        sqlx::query(
            "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority, status,
                attempts, available_at, depends_on, created_at)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $5) ON CONFLICT DO NOTHING",
        )
        .bind(task.task_id.as_uuid())
        .bind(task.trip_id.as_uuid())
        .bind(&task.agent_type)
        .bind(i16::from(task.priority.rank()))
        .bind(now)
        .bind(deps)
        .execute(&mut *tx)
        .await?;
    }
    for trip in trips_of(tasks) {
        sqlx::query(PROMOTE_POSTGRES)
            .bind(trip.as_uuid())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// PostgreSQL liveness (migration 0007): `node_id`'s row in
/// `runtime_nodes` is stamped with the database's clock (no skew between
/// processes), then the rows of processes silent for `silent_for` are
/// deleted and their running tasks' leases end now, in one statement: each
/// dead process's tasks are released once, by whichever live process gets
/// there first. A live process that was only slow stamps its row again and
/// renews the leases nobody has claimed since.
async fn node_alive_postgres(
    pool: &sqlx::PgPool,
    node_id: &str,
    now: DateTime<Utc>,
    silent_for: std::time::Duration,
) -> Result<usize, StoreError> {
    sqlx::query(
        "INSERT INTO runtime_nodes (node_id, started_at, seen_at) VALUES ($1, now(), now())
         ON CONFLICT (node_id) DO UPDATE SET seen_at = now()",
    )
    .bind(node_id)
    .execute(pool)
    .await?;
    let released = sqlx::query(
        "WITH gone AS (
            DELETE FROM runtime_nodes
            WHERE node_id <> $1 AND seen_at < now() - make_interval(secs => $2)
            RETURNING node_id)
         UPDATE agent_tasks SET lease_expires_at = $3
         WHERE status = 'running' AND lease_expires_at > $3
           AND lease_owner IN (SELECT node_id FROM gone)",
    )
    .bind(node_id)
    .bind(silent_for.as_secs_f64())
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(usize::try_from(released).unwrap_or(usize::MAX))
}
