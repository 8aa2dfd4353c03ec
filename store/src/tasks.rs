//! The agent task queue on SQL: `agent_tasks` and `agent_results`.
//! [`Store`] implements the engine's [`TaskQueue`] port; its writes are
//! the statements of `queue.rs`, shared with the log's joint appends.
//!
//! PostgreSQL: a claim picks the most urgent ready row with
//! `FOR UPDATE SKIP LOCKED`, so several `wayfare` processes claim different
//! tasks without waiting on each other. SQLite: every write runs in a
//! `BEGIN IMMEDIATE` transaction (one writer at a time), which gives the
//! same guarantee within one file. A task is ready when it is pending and
//! its backoff has passed, or running under an expired lease (its instance
//! died), and every task it depends on is completed or skipped.

use chrono::{DateTime, Utc};
use std::sync::Arc;

use wayfare_engine::runtime::pipeline::TaskOutput;
use wayfare_engine::state::{
    AgentType, ClaimedTask, Completion, FailedAttempt, Lease, LeaseError, Liveness, NewTask,
    PortError, Priority, QueuedTask, Requeue, TaskId, TaskQueue, TaskStatus, TripId,
};

use crate::codec::{
    Id, Ids, Int, JsonText, Time, count, from_json, limit, parse_ts, to_json, to_u64,
};
use crate::db::{Arg, Stmt, in_transaction, on_pool};
use crate::queue::Kept;
use crate::{Store, StoreError};
use crate::{native, queue};

/// An `agent_tasks` row ([`COLUMNS`]).
#[derive(sqlx::FromRow)]
struct TaskRow {
    task_id: Id,
    trip_id: Id,
    agent_type: String,
    priority: Int,
    status: String,
    attempts: Int,
    lease_owner: Option<String>,
    lease_expires_at: Option<Time>,
    depends_on: Ids,
    last_error: Option<String>,
    claim_epoch: Int,
}

impl TaskRow {
    /// A row read on the SQLite writer's native lane, in [`COLUMNS`]'
    /// order, decoded as `codec` decodes it on the sqlx path.
    fn from_native(row: &rusqlite::Row<'_>) -> Result<Self, StoreError> {
        let id = |i: usize| -> Result<Id, StoreError> {
            let text: String = row.get(i)?;
            uuid::Uuid::parse_str(&text)
                .map(Id)
                .map_err(|e| StoreError::Corrupt(format!("agent_tasks id {text:?}: {e}")))
        };
        let lease_expires_at = row
            .get::<_, Option<String>>(7)?
            .map(|t| {
                parse_ts(&t)
                    .map(Time)
                    .map_err(|e| StoreError::Corrupt(format!("agent_tasks.lease_expires_at: {e}")))
            })
            .transpose()?;
        let depends_on: String = row.get(8)?;
        Ok(TaskRow {
            task_id: id(0)?,
            trip_id: id(1)?,
            agent_type: row.get(2)?,
            priority: Int(row.get(3)?),
            status: row.get(4)?,
            attempts: Int(row.get(5)?),
            lease_owner: row.get(6)?,
            lease_expires_at,
            depends_on: Ids(from_json("agent_tasks.depends_on", &depends_on)?),
            last_error: row.get(9)?,
            claim_epoch: Int(row.get(10)?),
        })
    }
}

impl TryFrom<TaskRow> for QueuedTask {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        Ok(QueuedTask {
            task_id: row.task_id.into(),
            trip_id: row.trip_id.into(),
            agent_type: AgentType::parse(&row.agent_type).ok_or_else(|| {
                StoreError::Corrupt(format!("agent_tasks.agent_type: {:?}", row.agent_type))
            })?,
            priority: Priority::from_rank(row.priority.0).ok_or_else(|| {
                StoreError::Corrupt(format!("agent_tasks.priority: {}", row.priority.0))
            })?,
            depends_on: row.depends_on.tasks(),
            status: TaskStatus::parse(&row.status).ok_or_else(|| {
                StoreError::Corrupt(format!("agent_tasks.status: {:?}", row.status))
            })?,
            attempts: u32::try_from(row.attempts.0).map_err(|_| {
                StoreError::Corrupt(format!("agent_tasks.attempts: {}", row.attempts.0))
            })?,
            lease_owner: row.lease_owner,
            lease_expires_at: row.lease_expires_at.map(|t| t.0),
            last_error: row.last_error,
        })
    }
}

fn tasks(rows: Vec<TaskRow>) -> Result<Vec<QueuedTask>, StoreError> {
    rows.into_iter().map(QueuedTask::try_from).collect()
}

const COLUMNS: &str = "task_id, trip_id, agent_type, priority, status, attempts, lease_owner, \
                       lease_expires_at, depends_on, last_error, claim_epoch";

/// [`COLUMNS`], each qualified by a table alias.
fn columns_of(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Claimed rows, most urgent first (RETURNING keeps no order).
fn claimed_all(rows: Vec<TaskRow>, lease: Lease<'_>) -> Result<Vec<ClaimedTask>, StoreError> {
    let mut tasks = rows
        .into_iter()
        .map(|row| {
            let epoch = to_u64("agent_tasks.claim_epoch", row.claim_epoch.0)?;
            Ok((QueuedTask::try_from(row)?, epoch))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    tasks.sort_by_key(|(t, _)| t.priority);
    Ok(tasks
        .into_iter()
        .map(|(t, epoch)| claimed(t, lease, epoch))
        .collect())
}

fn claimed(task: QueuedTask, lease: Lease<'_>, epoch: u64) -> ClaimedTask {
    ClaimedTask {
        epoch,
        task_id: task.task_id,
        trip_id: task.trip_id,
        agent_type: task.agent_type,
        priority: task.priority,
        depends_on: task.depends_on,
        instance_id: lease.holder.to_owned(),
        attempt: task.attempts,
        lease_expires_at: lease.expires_at(),
    }
}

/// Joins to `agent_results` (as `r`) the log's event each row may name
/// (as `e`): a result is kept in one of the two ([`Kept`]).
pub(crate) const WITH_EVENT: &str =
    "LEFT JOIN trip_events e ON e.trip_id = r.trip_id AND e.seq = r.event_seq";

/// The columns of `r` and [`WITH_EVENT`]'s `e` a [`StoredResult`] reads.
pub(crate) const RESULT_COLUMNS: &str = "r.task_id, r.result, e.payload";

/// A stored result, wherever it is kept.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredResult {
    pub task_id: Id,
    result: Option<JsonText>,
    payload: Option<JsonText>,
}

impl StoredResult {
    /// The result of `task_id`: its own JSON, or the `result` of the
    /// `task_completed` event it names, which must be that task's.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(
        self,
        task_id: TaskId,
    ) -> Result<T, StoreError> {
        /// The fields of a logged `task_completed` event a result needs.
        #[derive(serde::Deserialize)]
        struct Logged<T> {
            kind: String,
            task_id: TaskId,
            result: T,
        }
        match (self.result, self.payload) {
            (Some(json), _) => json.decode_as("agent_results.result"),
            (None, Some(payload)) => {
                let logged: Logged<T> = payload.decode_as("trip_events.payload")?;
                if logged.kind == "task_completed" && logged.task_id == task_id {
                    Ok(logged.result)
                } else {
                    Err(StoreError::Corrupt(format!(
                        "agent_results: the event named for task {task_id} is a {} of task {}",
                        logged.kind, logged.task_id
                    )))
                }
            }
            (None, None) => Err(StoreError::Corrupt(format!(
                "agent_results: task {task_id}'s result names an event the log does not hold"
            ))),
        }
    }
}

fn lease_err(err: StoreError) -> LeaseError {
    LeaseError::Port(err.into())
}

impl Store {
    /// Runs one of the queue's writes in a transaction of its own; returns
    /// the rows it changed.
    async fn queue_stmt(&self, stmt: Stmt) -> Result<u64, StoreError> {
        in_transaction!(self, |conn| async move {
            stmt.query()
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(StoreError::from)
    }

    /// Enqueues `tasks` in one transaction (a trip's whole graph at once).
    pub(crate) async fn enqueue_sql(
        &self,
        tasks: &[NewTask],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(stmt) = queue::enqueue(tasks, now)? {
            self.queue_stmt(stmt).await?;
        }
        Ok(())
    }

    /// Claims up to `limit` ready tasks of `agent_types`, most urgent first,
    /// in one statement.
    ///
    /// The dialects differ: PostgreSQL locks the rows it picks and skips
    /// those another process is claiming (`FOR UPDATE SKIP LOCKED`, in a
    /// data-modifying CTE), which SQLite has no need of (one writer) and no
    /// syntax for; the lists and the enqueue order are spelled differently
    /// too (see `db::Dialect`).
    async fn claim_sql(
        &self,
        agent_types: &[AgentType],
        lease: Lease<'_>,
        n: usize,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let instance_id = lease.holder;
        let until = Time(lease.expires_at());
        let now = Time(lease.now);
        let n = limit(n.max(1));
        let rows: Vec<TaskRow> = match self {
            Store::Sqlite { write: pool, .. } => {
                // One statement is one implicit transaction: with the single
                // writer connection nobody else writes in between.
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE agent_tasks SET status = 'running', attempts = attempts + 1,
                        claim_epoch = claim_epoch + 1, lease_owner = $1, lease_expires_at = $2
                     WHERE task_id IN (
                        SELECT t.task_id FROM agent_tasks t
                        WHERE t.agent_type IN (SELECT value FROM json_each($3))
                          AND ((t.status = 'pending' AND t.deps_done = 1 AND t.available_at <= $4)
                               OR (t.status = 'running' AND t.lease_expires_at <= $4))
                        ORDER BY t.priority, t.rowid LIMIT $5)
                     RETURNING {COLUMNS}"
                )))
                .bind(instance_id)
                .bind(until)
                .bind(to_json(&agent_types)?)
                .bind(now)
                .bind(n)
                .fetch_all(pool)
                .await?
            }
            Store::Postgres(pool, _) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "WITH next AS (
                        SELECT t.task_id FROM agent_tasks t
                        WHERE t.agent_type = ANY($3)
                          AND ((t.status = 'pending' AND t.deps_done AND t.available_at <= $4)
                               OR (t.status = 'running' AND t.lease_expires_at <= $4))
                        ORDER BY t.priority, t.position LIMIT $5
                        FOR UPDATE OF t SKIP LOCKED)
                     UPDATE agent_tasks a SET status = 'running', attempts = a.attempts + 1,
                        claim_epoch = a.claim_epoch + 1, lease_owner = $1, lease_expires_at = $2
                     FROM next WHERE a.task_id = next.task_id
                     RETURNING {}",
                    columns_of("a")
                )))
                .bind(instance_id)
                .bind(until)
                .bind(agent_types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
                .bind(now)
                .bind(n)
                .fetch_all(pool)
                .await?
            }
        };
        claimed_all(rows, lease)
    }

    /// Claims, in one statement, up to `limit` ready tasks of each agent
    /// type in `limits` (most urgent first within a type). The dialects
    /// differ as in [`Store::claim_sql`], and more: PostgreSQL cannot lock
    /// rows beside a window function, so it locks the ready rows first and
    /// ranks what it locked; SQLite claims inside the writer's group commit.
    async fn claim_many_sql(
        &self,
        limits: &[(AgentType, usize)],
        lease: Lease<'_>,
    ) -> Result<Vec<ClaimedTask>, StoreError> {
        let quotas: std::collections::BTreeMap<&str, usize> = limits
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (t.as_str(), *n))
            .collect();
        if quotas.is_empty() {
            return Ok(Vec::new());
        }
        let quotas = to_json(&quotas)?;
        let until = Time(lease.expires_at());
        let now = Time(lease.now);
        let instance = lease.holder.to_owned();
        let rows: Vec<TaskRow> = match self {
            Store::Sqlite { writer, .. } => {
                let claim = Stmt {
                    sql: format!(
                        "UPDATE agent_tasks SET status = 'running', attempts = attempts + 1,
                            claim_epoch = claim_epoch + 1, lease_owner = $1, lease_expires_at = $2
                         WHERE task_id IN (
                            SELECT task_id FROM (
                                SELECT t.task_id, l.value AS quota, ROW_NUMBER() OVER (
                                    PARTITION BY t.agent_type ORDER BY t.priority, t.rowid) AS n
                                FROM agent_tasks t JOIN json_each($3) l ON l.key = t.agent_type
                                WHERE (t.status = 'pending' AND t.deps_done = 1 AND t.available_at <= $4)
                                   OR (t.status = 'running' AND t.lease_expires_at <= $4))
                            WHERE n <= quota)
                         RETURNING {COLUMNS}"
                    ),
                    args: vec![
                        Arg::Text(Some(instance)),
                        Arg::Time(Some(until)),
                        Arg::Json(JsonText(quotas)),
                        Arg::Time(Some(now)),
                    ],
                };
                writer
                    .run_native(move |db| native::query(db, &claim, TaskRow::from_native))
                    .await?
            }
            Store::Postgres(pool, _) => {
                // Migration 0016: index scans that keep the partial
                // indexes lean, planned once per connection.
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM wayfare_claim($1, $2, $3::jsonb, $4) c",
                    columns_of("c")
                )))
                .bind(instance)
                .bind(until)
                .bind(quotas)
                .bind(now)
                .fetch_all(pool)
                .await?
            }
        };
        claimed_all(rows, lease)
    }

    async fn task_sql(&self, task_id: TaskId) -> Result<Option<QueuedTask>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM agent_tasks WHERE task_id = $1");
        let row: Option<TaskRow> =
            on_pool!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Id::from(task_id))
                .fetch_optional(pool)
                .await?);
        row.map(QueuedTask::try_from).transpose()
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
        Ok(on_pool!(self, write, |pool| sqlx::query(
            "UPDATE agent_tasks SET lease_expires_at = $1
             WHERE task_id = $2 AND lease_owner = $3 AND status = 'running'"
        )
        .bind(Time(until))
        .bind(Id::from(task_id))
        .bind(instance_id)
        .execute(pool)
        .await?
        .rows_affected()))
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
        let sql = format!(
            "UPDATE agent_tasks SET lease_expires_at = $1
             WHERE task_id {} AND lease_owner = $3 AND status = 'running'",
            self.dialect().in_list("$2")
        );
        Ok(on_pool!(self, write, |pool| sqlx::query(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(Time(until))
        .bind(Ids::of(task_ids))
        .bind(instance_id)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// `Ok(true)`: completed now; `Ok(false)`: already completed. With
    /// `fence`, refused when the task was claimed again since.
    pub(crate) async fn complete_sql(
        &self,
        completion: Completion<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, LeaseError> {
        let Completion {
            task_id,
            result,
            fence,
        } = completion;
        let stmt = queue::complete(
            task_id,
            Kept::Json(JsonText(to_json(result).map_err(lease_err)?)),
            now,
            fence,
        )
        .map_err(lease_err)?;
        let done = in_transaction!(self, |conn| async move {
            let changed = stmt.query().execute(&mut *conn).await?.rows_affected();
            Ok::<_, sqlx::Error>(changed)
        })
        .map_err(|e| lease_err(e.into()))?;
        if done > 0 {
            return Ok(true);
        }
        // No such task, completed already, or (fenced) claimed again.
        self.explain_unchanged(task_id, fence).await.map(|()| false)
    }

    /// Why a write that changed no row changed none: `Ok` when the task is
    /// known and the write was not fenced (it was final already).
    async fn explain_unchanged(
        &self,
        task_id: TaskId,
        fence: Option<u64>,
    ) -> Result<(), LeaseError> {
        let epoch: Option<Int> = on_pool!(self, write, |pool| sqlx::query_scalar(
            "SELECT claim_epoch FROM agent_tasks WHERE task_id = $1"
        )
        .bind(Id::from(task_id))
        .fetch_optional(pool)
        .await
        .map_err(|e| lease_err(e.into()))?);
        match (epoch, fence) {
            (None, _) => Err(LeaseError::UnknownTask(task_id)),
            (Some(Int(latest)), Some(fence)) if u64::try_from(latest).ok() != Some(fence) => {
                Err(LeaseError::Fenced(task_id))
            }
            (Some(_), _) => Ok(()),
        }
    }

    /// Moves a task that is not final to `to`: `Ok` also when it was
    /// final already (a late write changes nothing); refused with `fence`
    /// when the task was claimed again since.
    pub(crate) async fn settle_sql(
        &self,
        task_id: TaskId,
        to: TaskStatus,
        error: Option<&str>,
        available_at: Option<DateTime<Utc>>,
        fence: Option<u64>,
    ) -> Result<(), LeaseError> {
        let stmt = queue::settle(task_id, to, error.map(str::to_owned), available_at, fence)
            .map_err(lease_err)?;
        match self.queue_stmt(stmt).await {
            Ok(0) => self.explain_unchanged(task_id, fence).await,
            Ok(_) => Ok(()),
            Err(err) => Err(lease_err(err)),
        }
    }

    /// [`TaskQueue::requeue`] in its own transaction.
    pub(crate) async fn requeue_sql(
        &self,
        trip_id: TripId,
        task_ids: Vec<TaskId>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let stmt = queue::requeue(self.dialect(), trip_id, &task_ids, now);
        Ok(count(self.queue_stmt(stmt).await?))
    }

    async fn result_sql(&self, task_id: TaskId) -> Result<Option<Arc<TaskOutput>>, StoreError> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM agent_results r {WITH_EVENT} WHERE r.task_id = $1"
        );
        let row: Option<StoredResult> =
            on_pool!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Id::from(task_id))
                .fetch_optional(pool)
                .await?);
        row.map(|r| r.decode(task_id).map(Arc::new)).transpose()
    }

    async fn tasks_of_sql(&self, trip_id: TripId) -> Result<Vec<QueuedTask>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_tasks WHERE trip_id = $1 ORDER BY {}",
            self.dialect().order
        );
        let rows: Vec<TaskRow> =
            on_pool!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Id::from(trip_id))
                .fetch_all(pool)
                .await?);
        tasks(rows)
    }
}

impl TaskQueue for Store {
    async fn enqueue(&self, task: &NewTask, now: DateTime<Utc>) -> Result<(), PortError> {
        Ok(self.enqueue_sql(std::slice::from_ref(task), now).await?)
    }

    async fn enqueue_all(&self, tasks: &[NewTask], now: DateTime<Utc>) -> Result<(), PortError> {
        Ok(self.enqueue_sql(tasks, now).await?)
    }

    #[tracing::instrument(skip_all, fields(instance.id = lease.holder), err)]
    async fn claim_ready(
        &self,
        agent_types: &[AgentType],
        lease: Lease<'_>,
    ) -> Result<Option<ClaimedTask>, PortError> {
        Ok(self
            .claim_sql(agent_types, lease, 1)
            .await?
            .into_iter()
            .next())
    }

    async fn claim_ready_many(
        &self,
        limits: &[(AgentType, usize)],
        lease: Lease<'_>,
    ) -> Result<Vec<ClaimedTask>, PortError> {
        Ok(self.claim_many_sql(limits, lease).await?)
    }

    async fn heartbeat(
        &self,
        task_id: TaskId,
        lease: Lease<'_>,
    ) -> Result<DateTime<Utc>, LeaseError> {
        let until = lease.expires_at();
        match self.heartbeat_sql(task_id, lease.holder, until).await {
            Ok(0) => Err(self.explain_miss(task_id).await),
            Ok(_) => Ok(until),
            Err(err) => Err(lease_err(err)),
        }
    }

    async fn heartbeat_all(
        &self,
        task_ids: &[TaskId],
        lease: Lease<'_>,
    ) -> Result<usize, PortError> {
        let until = lease.expires_at();
        let extended = self
            .heartbeat_all_sql(task_ids, lease.holder, until)
            .await?;
        Ok(count(extended))
    }

    async fn recover_leases(&self, node: Liveness<'_>) -> Result<usize, PortError> {
        // The dialects do not differ here; the deployments do. One process
        // uses a SQLite file: every lease is a dead predecessor's. Several
        // share PostgreSQL: only silent processes' leases are released.
        let released = match self {
            Store::Sqlite { write: pool, .. } => sqlx::query(
                "UPDATE agent_tasks SET lease_expires_at = $1
                 WHERE status = 'running' AND lease_expires_at > $1
                   AND (lease_owner IS NULL OR lease_owner != $2)",
            )
            .bind(Time(node.now))
            .bind(node.node_id)
            .execute(pool)
            .await
            .map_err(StoreError::from)?
            .rows_affected(),
            Store::Postgres(_, _) => return self.node_alive(node).await,
        };
        Ok(count(released))
    }

    async fn node_alive(&self, node: Liveness<'_>) -> Result<usize, PortError> {
        let Store::Postgres(pool, _) = self else {
            return Ok(0);
        };
        Ok(node_alive_postgres(pool, node).await?)
    }

    #[tracing::instrument(skip_all, fields(task.id = %completion.task_id), err)]
    async fn complete(
        &self,
        completion: Completion<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, LeaseError> {
        self.complete_sql(completion, now).await
    }

    async fn fail(&self, attempt: FailedAttempt<'_>) -> Result<(), LeaseError> {
        let to = if attempt.retry_at.is_some() {
            TaskStatus::Pending
        } else {
            TaskStatus::Failed
        };
        let FailedAttempt {
            task_id,
            error,
            retry_at,
            fence,
        } = attempt;
        self.settle_sql(task_id, to, Some(error), retry_at, fence)
            .await
    }

    async fn skip(&self, task_id: TaskId, fence: Option<u64>) -> Result<(), LeaseError> {
        self.settle_sql(task_id, TaskStatus::Skipped, None, None, fence)
            .await
    }

    async fn requeue(&self, requeue: Requeue<'_>, now: DateTime<Utc>) -> Result<usize, PortError> {
        let Requeue { trip_id, task_ids } = requeue;
        Ok(self.requeue_sql(trip_id, task_ids.to_vec(), now).await?)
    }

    async fn result(&self, task_id: TaskId) -> Result<Option<Arc<TaskOutput>>, PortError> {
        Ok(self.result_sql(task_id).await?)
    }

    async fn tasks_of(&self, trip_id: TripId) -> Result<Vec<QueuedTask>, PortError> {
        Ok(self.tasks_of_sql(trip_id).await?)
    }
}

/// PostgreSQL liveness (migration 0007): `node_id`'s row in
/// `runtime_nodes` is stamped with the database's clock (no skew between
/// processes), then the rows of processes silent for `silent_for` are
/// deleted and their running tasks' leases end now, in one statement: each
/// dead process's tasks are released once, by whichever live process gets
/// there first. A live process that was only slow stamps its row again and
/// renews the leases nobody has claimed since.
async fn node_alive_postgres(pool: &sqlx::PgPool, node: Liveness<'_>) -> Result<usize, StoreError> {
    let Liveness {
        node_id,
        now,
        silent_for,
    } = node;
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
    Ok(count(released))
}
