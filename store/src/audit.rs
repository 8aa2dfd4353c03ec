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
use wayfare_engine::state::{
    AuditStore, NewTask, PortError, QueueRepair, Repair, TaskId, TaskStatus, TripId,
};

use crate::codec::{Id, Ids, JsonText, Time, limit, to_i64, to_json};
use crate::db::{in_transaction, on_pool};
use crate::events::{StateRow, encode_state};
use crate::tasks::{RESULT_COLUMNS, StoredResult, WITH_EVENT};
use crate::{Backend, Store, StoreError};

/// The statuses whose trips the changed-trips batch lists (the auditor
/// compares only trips at rest; a trip planning is looked at later).
const AT_REST: &str = "('ready', 'failed', 'cancelled', 'needs_input')";

/// A repair, its values encoded before the transaction.
enum Encoded {
    Put {
        task: NewTask,
        status: TaskStatus,
        result: Option<JsonText>,
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
                    result: result.as_ref().map(to_json).transpose()?.map(JsonText),
                },
                QueueRepair::Remove { task_id } => Encoded::Remove(*task_id),
            })
        })
        .collect()
}

impl Store {
    async fn logged_trips_sql(
        &self,
        after: Option<TripId>,
        n: usize,
    ) -> Result<Vec<TripId>, StoreError> {
        let after = after.map_or(Id(uuid::Uuid::nil()), Id::from);
        // One row per trip (its first event) in the primary key's order.
        let ids: Vec<Id> = on_pool!(self, read, |pool| sqlx::query_scalar(
            "SELECT trip_id FROM trip_events WHERE seq = 1 AND trip_id > $1
             ORDER BY trip_id LIMIT $2"
        )
        .bind(after)
        .bind(limit(n))
        .fetch_all(pool)
        .await?);
        Ok(ids.into_iter().map(TripId::from).collect())
    }

    async fn trips_updated_after_sql(
        &self,
        since: DateTime<Utc>,
        n: usize,
    ) -> Result<Vec<(DateTime<Utc>, TripId)>, StoreError> {
        let rows: Vec<(Time, Id)> = on_pool!(self, read, |pool| sqlx::query_as(
            sqlx::AssertSqlSafe(format!(
                "SELECT updated_at, trip_id FROM trip_state
                 WHERE status IN {AT_REST} AND updated_at > $1
                 ORDER BY updated_at, trip_id LIMIT $2"
            ))
        )
        .bind(Time(since))
        .bind(limit(n))
        .fetch_all(pool)
        .await?);
        Ok(rows
            .into_iter()
            .map(|(at, id)| (at.0, TripId::from(id)))
            .collect())
    }

    async fn results_of_sql(&self, trip_id: TripId) -> Result<Vec<(TaskId, Value)>, StoreError> {
        // Through the queue's `trip_id` index: `agent_results` has none,
        // and each of its rows has its task's row (a foreign key).
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM agent_tasks t
             JOIN agent_results r ON r.task_id = t.task_id {WITH_EVENT}
             WHERE t.trip_id = $1 ORDER BY t.{}",
            self.dialect().order
        );
        let rows: Vec<StoredResult> =
            on_pool!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(Id::from(trip_id))
                .fetch_all(pool)
                .await?);
        rows.into_iter()
            .map(|row| {
                let task_id = TaskId::from(row.task_id);
                Ok((task_id, row.decode(task_id)?))
            })
            .collect()
    }

    /// The repair, in one transaction that first makes sure the log is
    /// still at `state.version`. SQLite runs it in the writer's group
    /// commit (nothing else writes meanwhile); PostgreSQL's writers run
    /// concurrently, so it first takes the queue's per-trip advisory lock
    /// (every promotion takes it) and the read model's row (every append
    /// takes it): neither writes this trip meanwhile.
    async fn repair_sql(&self, repair: Repair<'_>) -> Result<bool, StoreError> {
        let Repair {
            state,
            read_model,
            queue,
        } = repair;
        let Some(trip) = state.trip_id else {
            return Ok(false);
        };
        let version = to_i64(state.version)?;
        let at = Time(state.last_event_at.unwrap_or_else(Utc::now));
        let row: Option<StateRow> = read_model.then(|| encode_state(state)).transpose()?;
        let queue = encode(queue)?;
        let lock = self.backend() == Backend::Postgres;
        let id = Id::from(trip);
        in_transaction!(self, |tx| async move {
            if lock {
                sqlx::query("SELECT wayfare_lock_trip($1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("SELECT 1 FROM trip_state WHERE trip_id = $1 FOR UPDATE")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let logged: Option<i64> =
                sqlx::query_scalar("SELECT MAX(seq) FROM trip_events WHERE trip_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            if logged != Some(version) {
                return Ok(false);
            }
            if let Some((status, progress, _, json)) = row {
                sqlx::query(
                    "INSERT INTO trip_state (trip_id, status, progress, version, state, updated_at,
                        state_version)
                     VALUES ($1, $2, $3, $4, $5, $6, $4)
                     ON CONFLICT (trip_id) DO UPDATE SET status = excluded.status,
                        progress = excluded.progress, version = excluded.version,
                        state = excluded.state, updated_at = excluded.updated_at,
                        state_version = excluded.state_version",
                )
                .bind(id)
                .bind(status)
                .bind(progress)
                .bind(version)
                .bind(json)
                .bind(at)
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
                        let task_id = Id::from(task.task_id);
                        sqlx::query(
                            "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority,
                                status, attempts, available_at, depends_on, created_at, deps_done)
                             VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $6, TRUE)
                             ON CONFLICT (task_id) DO UPDATE SET trip_id = excluded.trip_id,
                                agent_type = excluded.agent_type, priority = excluded.priority,
                                status = excluded.status, depends_on = excluded.depends_on,
                                lease_owner = NULL, lease_expires_at = NULL",
                        )
                        .bind(task_id)
                        .bind(id)
                        .bind(task.agent_type.as_str())
                        .bind(i64::from(task.priority.rank()))
                        .bind(status.as_str())
                        .bind(at)
                        .bind(Ids::of(&task.depends_on))
                        .execute(&mut *tx)
                        .await?;
                        match result {
                            Some(json) => {
                                sqlx::query(
                                    "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
                                     VALUES ($1, $2, $3, $4)
                                     ON CONFLICT (task_id) DO UPDATE SET trip_id = excluded.trip_id,
                                        result = excluded.result, event_seq = NULL",
                                )
                                .bind(task_id)
                                .bind(id)
                                .bind(json)
                                .bind(at)
                                .execute(&mut *tx)
                                .await?;
                            }
                            None => {
                                sqlx::query("DELETE FROM agent_results WHERE task_id = $1")
                                    .bind(task_id)
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
                                .bind(Id::from(task_id))
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                }
            }
            Ok::<_, StoreError>(true)
        })
    }
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

    async fn repair(&self, repair: Repair<'_>) -> Result<bool, PortError> {
        Ok(self.repair_sql(repair).await?)
    }
}
