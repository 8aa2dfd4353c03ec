//! The trip event log on SQL: `trip_events` (the source of truth),
//! `trip_state` (the read model, updated in the same transaction as every
//! append) and `trip_snapshots`. [`Store`] implements the engine's
//! [`EventStore`] port.
//!
//! Optimistic locking: an append states the version it decided on. On
//! SQLite the log checks it: the primary key on `(trip_id, seq)` refuses a
//! `seq` that is taken and a trigger (`trip_events_gapless`) one that does
//! not follow the trip's last event, so a stale writer's first event does
//! not go in (an append without the state after it reads and checks the
//! version first). PostgreSQL locks the trip's `trip_state` row (`FOR
//! UPDATE`); two writers racing to create a trip both pass that check, and
//! the primary key refuses the second. Either refusal is a conflict: a
//! stale writer never overwrites.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sqlx::Row;
use uuid::Uuid;
use wayfare_engine::runtime::{QueueWrite, RuntimeStore};
use wayfare_engine::state::{
    AppendError, EventStore, NewTask, PortError, Snapshot, StoredEvent, TaskId, TaskStatus,
    TripEvent, TripId, TripState, TripStatus, TripSummary,
};

use crate::tasks::{
    COMPLETE_SQLITE, PROMOTE_SQLITE, REQUEUE_SQLITE, SETTLE_SQLITE, bind_enqueue_sqlite,
    complete_postgres, enqueue_postgres, enqueue_sqlite_sql, requeue_postgres, settle_postgres,
    trips_of,
};
use crate::{Store, StoreError};

/// Fixed-width RFC 3339 (UTC, microseconds): SQLite compares these as text.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(column: &str, s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("serialise: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    column: &str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn parse_uuid(column: &str, s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit a BIGINT")))
}

fn to_u64(column: &str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column}: negative {n}")))
}

/// Whether a database error is a unique-key violation (a lost race).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl From<StoreError> for PortError {
    fn from(err: StoreError) -> Self {
        let transient = match &err {
            StoreError::Database(db) => match db {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
                sqlx::Error::Database(e) => matches!(
                    e.code().as_deref(),
                    // PostgreSQL: serialization failure, deadlock, too many
                    // connections, admin shutdown; SQLite: busy, locked.
                    Some("40001" | "40P01" | "53300" | "57P01" | "5" | "6" | "517")
                ),
                _ => false,
            },
            _ => false,
        };
        if transient {
            PortError::transient(err.to_string())
        } else {
            PortError::permanent(err.to_string())
        }
    }
}

/// How one append attempt ended, before a lost race is turned into a
/// conflict with the log's real version.
enum Failure {
    Conflict {
        actual: u64,
    },
    /// A unique key refused the write: another writer got there first.
    Raced,
    Port(PortError),
}

/// SQLite's `SQLITE_CONSTRAINT_TRIGGER`: a trigger refused the write (in
/// the store, only `trip_events_gapless`: the log is not where the writer
/// thought).
fn is_trigger_refusal(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("1811"))
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        if is_unique_violation(&err) || is_trigger_refusal(&err) {
            Failure::Raced
        } else {
            Failure::Port(StoreError::Database(err).into())
        }
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Database(db) => db.into(),
            other => Failure::Port(other.into()),
        }
    }
}

/// One `trip_events` row: seq, kind, payload.
type EventRow = (i64, &'static str, String);

/// The `trip_state` columns: status, progress, version, state.
type StateRow = (&'static str, f64, u64, String);

/// How an append gets the state after it.
enum After {
    /// The writer folded it already; encoded before any lock is taken.
    Encoded(StateRow),
    /// Fold these events over the stored state, inside the transaction.
    Fold(Vec<TripEvent>),
}

/// The optimistic check: the stored version must be the expected one.
fn check_version(stored: i64, expected: u64) -> Result<(), Failure> {
    let stored = to_u64("trip_state.version", stored)?;
    if stored == expected {
        Ok(())
    } else {
        Err(Failure::Conflict { actual: stored })
    }
}

/// The `trip_state` columns of a state (its [`TripState::read_model`]).
pub(crate) fn encode_state(state: &TripState) -> Result<StateRow, StoreError> {
    Ok((
        state.status.as_str(),
        state.progress(),
        state.version,
        to_json(&state.read_model())?,
    ))
}

impl Store {
    /// The version a trip's log is at (0 when it has none).
    async fn current_version(&self, trip_id: TripId) -> Result<u64, StoreError> {
        let max: Option<i64> = match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query_scalar("SELECT MAX(seq) FROM trip_events WHERE trip_id = ?")
                    .bind(trip_id.to_string())
                    .fetch_one(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar("SELECT MAX(seq) FROM trip_events WHERE trip_id = $1")
                    .bind(trip_id.as_uuid())
                    .fetch_one(pool)
                    .await?
            }
        };
        to_u64("trip_events.seq", max.unwrap_or(0))
    }

    /// The rows one append writes, serialised before any lock is taken.
    /// `after` is the state after the events when the writer has it (no
    /// need to read and fold the stored one inside the transaction).
    fn encode<'e>(
        expected: u64,
        events: impl Iterator<Item = &'e TripEvent>,
    ) -> Result<Vec<EventRow>, StoreError> {
        events
            .enumerate()
            .map(|(i, event)| {
                Ok((
                    to_i64(expected + 1 + i as u64)?,
                    event.kind(),
                    to_json(event)?,
                ))
            })
            .collect()
    }

    /// The state after `events`: `after` when given, else the stored one
    /// (read inside the transaction) folded forward.
    fn fold(
        trip_id: TripId,
        stored: Option<TripState>,
        expected: u64,
        events: &[TripEvent],
        at: DateTime<Utc>,
    ) -> TripState {
        let mut state = stored.unwrap_or_else(|| TripState::new(trip_id));
        for (i, event) in events.iter().enumerate() {
            state.apply_stored(&StoredEvent {
                trip_id,
                seq: expected + 1 + i as u64,
                at,
                event: event.clone(),
            });
        }
        state
    }

    /// One append inside the writer's group commit (see `writer.rs`), with
    /// `queue`'s write after it. With the state after it in hand, the whole
    /// append is one multi-statement call (SQLite's writer pays a round trip
    /// to its worker thread per call): the events, the read model, and the
    /// queue's write. The optimistic check is the log itself: the events'
    /// primary key refuses a `seq` that is taken and a trigger (migration
    /// 0006) one that does not follow the log's last, so the first event
    /// goes in only when the log is at `expected`.
    async fn append_sqlite(
        tx: &mut sqlx::SqliteConnection,
        trip_id: TripId,
        expected: u64,
        rows: Vec<EventRow>,
        at: DateTime<Utc>,
        after: After,
        queue: Option<(Joint, DateTime<Utc>)>,
    ) -> Result<u64, Failure> {
        let id = trip_id.to_string();
        let at_text = ts(at);
        let encoded = match after {
            After::Encoded(encoded) => encoded,
            After::Fold(events) => {
                let row = sqlx::query("SELECT version, state FROM trip_state WHERE trip_id = ?")
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let stored = match row {
                    Some(row) => {
                        check_version(row.try_get("version")?, expected)?;
                        let json: String = row.try_get("state")?;
                        Some(from_json::<TripState>("trip_state.state", &json)?)
                    }
                    None if expected != 0 => return Err(Failure::Conflict { actual: 0 }),
                    None => None,
                };
                encode_state(&Self::fold(trip_id, stored, expected, &events, at))?
            }
        };
        let (status, progress, version, json) = encoded;
        let values = vec!["(?, ?, ?, ?, ?)"; rows.len()].join(", ");
        let mut sql =
            format!("INSERT INTO trip_events (trip_id, seq, kind, payload, at) VALUES {values};\n");
        // A new trip's read model is inserted: a second creator's insert
        // is a unique violation, a lost race.
        sql.push_str(if expected == 0 {
            "INSERT INTO trip_state (status, progress, version, state, updated_at, trip_id)
             VALUES (?, ?, ?, ?, ?, ?);\n"
        } else {
            "UPDATE trip_state SET status = ?, progress = ?, version = ?, state = ?,
                updated_at = ? WHERE trip_id = ?;\n"
        });
        if let Some((joint, _)) = &queue {
            joint.sqlite_script(&mut sql);
        }
        let mut script = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (seq, kind, payload) in rows {
            script = script
                .bind(id.clone())
                .bind(seq)
                .bind(kind)
                .bind(payload)
                .bind(at_text.clone());
        }
        script = script
            .bind(status)
            .bind(progress)
            .bind(to_i64(version)?)
            .bind(json)
            .bind(at_text)
            .bind(id);
        if let Some((joint, now)) = queue {
            script = joint.bind_sqlite(script, now)?;
        }
        script.execute(&mut *tx).await?;
        Ok(version)
    }

    async fn append_postgres(
        tx: &mut sqlx::PgConnection,
        trip_id: TripId,
        expected: u64,
        rows: &[EventRow],
        at: DateTime<Utc>,
        after: After,
    ) -> Result<u64, Failure> {
        let id = trip_id.as_uuid();
        let select = if matches!(after, After::Encoded(_)) {
            "SELECT version FROM trip_state WHERE trip_id = $1 FOR UPDATE"
        } else {
            "SELECT version, state::text AS state FROM trip_state WHERE trip_id = $1 FOR UPDATE"
        };
        let row = sqlx::query(select)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let stored = match row {
            Some(row) => {
                check_version(row.try_get("version")?, expected)?;
                match after {
                    After::Encoded(_) => None,
                    After::Fold(_) => {
                        let json: String = row.try_get("state")?;
                        Some(from_json::<TripState>("trip_state.state", &json)?)
                    }
                }
            }
            None if expected != 0 => return Err(Failure::Conflict { actual: 0 }),
            None => None,
        };
        let (status, progress, version, json) = match after {
            After::Encoded(row) => row,
            After::Fold(events) => {
                encode_state(&Self::fold(trip_id, stored, expected, &events, at))?
            }
        };
        for (seq, kind, payload) in rows {
            sqlx::query(
                "INSERT INTO trip_events (trip_id, seq, kind, payload, at)
                 VALUES ($1, $2, $3, $4::jsonb, $5)",
            )
            .bind(id)
            .bind(seq)
            .bind(kind)
            .bind(payload)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO trip_state (trip_id, status, progress, version, state, updated_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6)
             ON CONFLICT (trip_id) DO UPDATE SET status = excluded.status,
                progress = excluded.progress, version = excluded.version,
                state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(status)
        .bind(progress)
        .bind(to_i64(version)?)
        .bind(&json)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(version)
    }

    /// One append on either backend, its failure turned into the port's.
    async fn append_any(
        &self,
        trip_id: TripId,
        expected_version: u64,
        events: &[&TripEvent],
        at: DateTime<Utc>,
        after: After,
        queue: Option<(Joint, DateTime<Utc>)>,
    ) -> Result<u64, AppendError> {
        if events.is_empty() {
            let actual = self
                .current_version(trip_id)
                .await
                .map_err(PortError::from)?;
            if actual != expected_version {
                return Err(AppendError::Conflict {
                    expected: expected_version,
                    actual,
                });
            }
            if let Some((joint, now)) = queue {
                self.queue_write(joint, now)
                    .await
                    .map_err(|e| AppendError::Port(e.into()))?;
            }
            return Ok(actual);
        }
        // Both backends keep microseconds: the projection must see the same
        // time a replay will read back.
        let at = at.trunc_subsecs(6);
        let rows = Self::encode(expected_version, events.iter().copied())
            .map_err(|e| AppendError::Port(e.into()))?;
        let result = match self {
            Store::Sqlite { writer, .. } => {
                writer
                    .run(move |tx| {
                        Box::pin(Self::append_sqlite(
                            tx,
                            trip_id,
                            expected_version,
                            rows,
                            at,
                            after,
                            queue,
                        ))
                    })
                    .await
            }
            Store::Postgres(pool) => {
                async {
                    let mut tx = pool.begin().await?;
                    let version =
                        Self::append_postgres(&mut tx, trip_id, expected_version, &rows, at, after)
                            .await?;
                    if let Some((joint, now)) = queue {
                        joint_postgres(&mut tx, joint, now).await?;
                    }
                    tx.commit().await?;
                    Ok(version)
                }
                .await
            }
        };
        match result {
            Ok(version) => Ok(version),
            Err(Failure::Conflict { actual }) => Err(AppendError::Conflict {
                expected: expected_version,
                actual,
            }),
            // Lost the race to create the trip: report where the log really
            // is, read after the winner committed.
            Err(Failure::Raced) => {
                let actual = self
                    .current_version(trip_id)
                    .await
                    .map_err(PortError::from)?;
                Err(AppendError::Conflict {
                    expected: expected_version,
                    actual,
                })
            }
            Err(Failure::Port(err)) => Err(AppendError::Port(err)),
        }
    }
}

impl Store {
    /// An append of folded events, with a queue write in the same
    /// transaction.
    async fn append_encoded(
        &self,
        trip_id: TripId,
        expected_version: u64,
        events: &[StoredEvent],
        after: &TripState,
        queue: Option<(Joint, DateTime<Utc>)>,
    ) -> Result<u64, AppendError> {
        let at = events.first().map_or_else(Utc::now, |e| e.at);
        let refs: Vec<&TripEvent> = events.iter().map(|e| &e.event).collect();
        let encoded = encode_state(after).map_err(|e| AppendError::Port(e.into()))?;
        self.append_any(
            trip_id,
            expected_version,
            &refs,
            at,
            After::Encoded(encoded),
            queue,
        )
        .await
    }

    /// A queue write alone, in its own transaction.
    async fn queue_write(&self, joint: Joint, now: DateTime<Utc>) -> Result<(), StoreError> {
        match joint {
            Joint::Enqueue(tasks) => self.enqueue_sql(&tasks, now).await,
            Joint::Complete { task_id, json } => {
                let result: serde_json::Value = from_json("agent_results.result", &json)?;
                self.complete_sql(task_id, &result, now).await.map(drop)
            }
            Joint::Settle {
                task_id,
                to,
                error,
                available_at,
            } => self
                .settle_sql(task_id, to, error.as_deref(), available_at)
                .await
                .map(drop),
            Joint::Requeue { trip_id, task_ids } => {
                self.requeue_sql(trip_id, task_ids, now).await.map(drop)
            }
        }
    }
}

/// A queue write owned by the append that carries it (see
/// [`QueueWrite`]); the result is serialised before any lock is taken.
pub(crate) enum Joint {
    Enqueue(Vec<NewTask>),
    Complete {
        task_id: TaskId,
        json: String,
    },
    Settle {
        task_id: TaskId,
        to: TaskStatus,
        error: Option<String>,
        available_at: Option<DateTime<Utc>>,
    },
    Requeue {
        trip_id: TripId,
        task_ids: Vec<TaskId>,
    },
}

/// A query being bound, on SQLite.
type SqliteQuery = sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

impl Joint {
    /// Appends the write's statements to an append's script (see
    /// `append_sqlite`); [`Joint::bind_sqlite`] binds their parameters.
    fn sqlite_script(&self, sql: &mut String) {
        match self {
            Joint::Enqueue(tasks) => {
                if !tasks.is_empty() {
                    sql.push_str(&enqueue_sqlite_sql(tasks.len()));
                    sql.push_str(";\n");
                    for _ in trips_of(tasks) {
                        sql.push_str(PROMOTE_SQLITE);
                        sql.push_str(";\n");
                    }
                }
            }
            Joint::Complete { .. } => sql.push_str(COMPLETE_SQLITE),
            Joint::Settle { .. } => sql.push_str(SETTLE_SQLITE),
            Joint::Requeue { .. } => {
                sql.push_str(REQUEUE_SQLITE);
                sql.push_str(";\n");
                sql.push_str(PROMOTE_SQLITE);
            }
        }
    }

    fn bind_sqlite(
        self,
        script: SqliteQuery,
        now: DateTime<Utc>,
    ) -> Result<SqliteQuery, StoreError> {
        Ok(match self {
            Joint::Enqueue(tasks) => {
                let trips = trips_of(&tasks);
                let mut script = bind_enqueue_sqlite(script, &tasks, now)?;
                for trip in trips {
                    script = script.bind(trip.to_string());
                }
                script
            }
            Joint::Complete { task_id, json } => {
                script.bind(json).bind(ts(now)).bind(task_id.to_string())
            }
            Joint::Settle {
                task_id,
                to,
                error,
                available_at,
            } => script
                .bind(to.as_str())
                .bind(error)
                .bind(available_at.map(ts))
                .bind(task_id.to_string()),
            Joint::Requeue { trip_id, task_ids } => script
                .bind(ts(now))
                .bind(to_json(&task_ids)?)
                .bind(trip_id.to_string())
                .bind(trip_id.to_string()),
        })
    }

    fn of(queue: QueueWrite<'_>) -> Result<Self, StoreError> {
        Ok(match queue {
            QueueWrite::Enqueue(tasks) => Joint::Enqueue(tasks.to_vec()),
            QueueWrite::Complete { task_id, result } => Joint::Complete {
                task_id,
                json: to_json(result)?,
            },
            QueueWrite::Fail {
                task_id,
                error,
                retry_at,
            } => Joint::Settle {
                task_id,
                to: if retry_at.is_some() {
                    TaskStatus::Pending
                } else {
                    TaskStatus::Failed
                },
                error: Some(error.to_owned()),
                available_at: retry_at,
            },
            QueueWrite::Skip { task_id } => Joint::Settle {
                task_id,
                to: TaskStatus::Skipped,
                error: None,
                available_at: None,
            },
            QueueWrite::Requeue { trip_id, task_ids } => Joint::Requeue {
                trip_id,
                task_ids: task_ids.to_vec(),
            },
        })
    }
}

async fn joint_postgres(
    tx: &mut sqlx::PgConnection,
    joint: Joint,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match joint {
        Joint::Enqueue(tasks) => enqueue_postgres(tx, &tasks, now).await,
        Joint::Complete { task_id, json } => {
            complete_postgres(tx, task_id, &json, now).await.map(drop)
        }
        Joint::Settle {
            task_id,
            to,
            error,
            available_at,
        } => settle_postgres(tx, task_id, to, error.as_deref(), available_at)
            .await
            .map(drop),
        Joint::Requeue { trip_id, task_ids } => requeue_postgres(tx, trip_id, &task_ids, now)
            .await
            .map(drop),
    }
}

/// The log and the queue in one database: a queue write that goes with
/// an append is made in the append's transaction.
impl RuntimeStore for Store {
    async fn append_with_queue(
        &self,
        trip_id: TripId,
        expected_version: u64,
        events: &[StoredEvent],
        after: &TripState,
        queue: QueueWrite<'_>,
        now: DateTime<Utc>,
    ) -> Result<u64, AppendError> {
        let joint = Joint::of(queue).map_err(|e| AppendError::Port(e.into()))?;
        self.append_encoded(trip_id, expected_version, events, after, Some((joint, now)))
            .await
    }

    async fn delete_trip(&self, trip_id: TripId) -> Result<bool, PortError> {
        Ok(Store::delete_trip(self, &trip_id.to_string()).await?)
    }
}

fn stored_event(
    trip_id: TripId,
    seq: i64,
    payload: &str,
    at: DateTime<Utc>,
) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        trip_id,
        seq: to_u64("trip_events.seq", seq)?,
        at,
        event: from_json("trip_events.payload", payload)?,
    })
}

impl EventStore for Store {
    async fn append(
        &self,
        trip_id: TripId,
        expected_version: u64,
        events: &[TripEvent],
        at: DateTime<Utc>,
    ) -> Result<u64, AppendError> {
        let refs: Vec<&TripEvent> = events.iter().collect();
        self.append_any(
            trip_id,
            expected_version,
            &refs,
            at,
            After::Fold(events.to_vec()),
            None,
        )
        .await
    }

    async fn append_with_state(
        &self,
        trip_id: TripId,
        expected_version: u64,
        events: &[StoredEvent],
        after: &TripState,
    ) -> Result<u64, AppendError> {
        self.append_encoded(trip_id, expected_version, events, after, None)
            .await
    }

    async fn load(&self, trip_id: TripId, after_seq: u64) -> Result<Vec<StoredEvent>, PortError> {
        Ok(self.load_sql(trip_id, after_seq).await?)
    }

    async fn load_snapshot(&self, trip_id: TripId) -> Result<Option<Snapshot>, PortError> {
        Ok(self.load_snapshot_sql(trip_id).await?)
    }

    async fn save_snapshot(
        &self,
        trip_id: TripId,
        version: u64,
        state: &TripState,
    ) -> Result<(), PortError> {
        Ok(self.save_snapshot_sql(trip_id, version, state).await?)
    }

    async fn trip_summary(&self, trip_id: TripId) -> Result<Option<TripSummary>, PortError> {
        Ok(self.trip_summary_sql(trip_id).await?)
    }

    async fn list_trips_in_status(&self, status: TripStatus) -> Result<Vec<TripId>, PortError> {
        Ok(self.list_trips_in_status_sql(status).await?)
    }
}

impl Store {
    async fn load_sql(
        &self,
        trip_id: TripId,
        after_seq: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let after = to_i64(after_seq)?;
        let events = match self {
            Store::Sqlite { read: pool, .. } => {
                let rows = sqlx::query(
                    "SELECT seq, payload, at FROM trip_events
                     WHERE trip_id = ? AND seq > ? ORDER BY seq",
                )
                .bind(trip_id.to_string())
                .bind(after)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let at: String = row.try_get("at")?;
                        stored_event(
                            trip_id,
                            row.try_get("seq")?,
                            &row.try_get::<String, _>("payload")?,
                            parse_ts("trip_events.at", &at)?,
                        )
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?
            }
            Store::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT seq, payload::text AS payload, at FROM trip_events
                     WHERE trip_id = $1 AND seq > $2 ORDER BY seq",
                )
                .bind(trip_id.as_uuid())
                .bind(after)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        stored_event(
                            trip_id,
                            row.try_get("seq")?,
                            &row.try_get::<String, _>("payload")?,
                            row.try_get("at")?,
                        )
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?
            }
        };
        Ok(events)
    }

    async fn load_snapshot_sql(&self, trip_id: TripId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<(i64, String)> = match self {
            Store::Sqlite { read: pool, .. } => {
                sqlx::query_as(
                    "SELECT version, state FROM trip_snapshots
                     WHERE trip_id = ? ORDER BY version DESC LIMIT 1",
                )
                .bind(trip_id.to_string())
                .fetch_optional(pool)
                .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT version, state::text FROM trip_snapshots
                     WHERE trip_id = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(trip_id.as_uuid())
                .fetch_optional(pool)
                .await?
            }
        };
        let Some((version, state)) = row else {
            return Ok(None);
        };
        Ok(Some(Snapshot {
            trip_id,
            version: to_u64("trip_snapshots.version", version)?,
            state: from_json("trip_snapshots.state", &state)?,
        }))
    }

    async fn save_snapshot_sql(
        &self,
        trip_id: TripId,
        version: u64,
        state: &TripState,
    ) -> Result<(), StoreError> {
        let version = to_i64(version)?;
        let json = to_json(state)?;
        let now = Utc::now();
        match self {
            Store::Sqlite { write: pool, .. } => {
                sqlx::query(
                    "INSERT INTO trip_snapshots (trip_id, version, state, taken_at)
                     VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(trip_id.to_string())
                .bind(version)
                .bind(json)
                .bind(ts(now))
                .execute(pool)
                .await?;
            }
            Store::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO trip_snapshots (trip_id, version, state, taken_at)
                     VALUES ($1, $2, $3::jsonb, $4) ON CONFLICT DO NOTHING",
                )
                .bind(trip_id.as_uuid())
                .bind(version)
                .bind(json)
                .bind(now)
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    async fn trip_summary_sql(&self, trip_id: TripId) -> Result<Option<TripSummary>, StoreError> {
        let row = match self {
            Store::Sqlite { read: pool, .. } => {
                let row = sqlx::query(
                    "SELECT status, progress, version, state, updated_at
                     FROM trip_state WHERE trip_id = ?",
                )
                .bind(trip_id.to_string())
                .fetch_optional(pool)
                .await?;
                match row {
                    None => None,
                    Some(row) => {
                        let updated: String = row.try_get("updated_at")?;
                        Some((
                            row.try_get::<String, _>("status")?,
                            row.try_get::<f64, _>("progress")?,
                            row.try_get::<i64, _>("version")?,
                            row.try_get::<String, _>("state")?,
                            parse_ts("trip_state.updated_at", &updated)?,
                        ))
                    }
                }
            }
            Store::Postgres(pool) => {
                let row = sqlx::query(
                    "SELECT status, progress, version, state::text AS state, updated_at
                     FROM trip_state WHERE trip_id = $1",
                )
                .bind(trip_id.as_uuid())
                .fetch_optional(pool)
                .await?;
                match row {
                    None => None,
                    Some(row) => Some((
                        row.try_get("status")?,
                        row.try_get("progress")?,
                        row.try_get("version")?,
                        row.try_get("state")?,
                        row.try_get("updated_at")?,
                    )),
                }
            }
        };
        let Some((status, progress, version, state, updated_at)) = row else {
            return Ok(None);
        };
        Ok(Some(TripSummary {
            trip_id,
            status: status
                .parse()
                .map_err(|e: String| StoreError::Corrupt(format!("trip_state.status: {e}")))?,
            progress,
            version: to_u64("trip_state.version", version)?,
            updated_at,
            state: from_json("trip_state.state", &state)?,
        }))
    }

    async fn list_trips_in_status_sql(
        &self,
        status: TripStatus,
    ) -> Result<Vec<TripId>, StoreError> {
        let ids = match self {
            Store::Sqlite { read: pool, .. } => {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT trip_id FROM trip_state WHERE status = ? ORDER BY updated_at, trip_id",
                )
                .bind(status.as_str())
                .fetch_all(pool)
                .await?;
                ids.iter()
                    .map(|id| parse_uuid("trip_state.trip_id", id).map(TripId::from_uuid))
                    .collect::<Result<Vec<_>, StoreError>>()?
            }
            Store::Postgres(pool) => {
                let ids: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT trip_id FROM trip_state WHERE status = $1 ORDER BY updated_at, trip_id",
                )
                .bind(status.as_str())
                .fetch_all(pool)
                .await?;
                ids.into_iter().map(TripId::from_uuid).collect()
            }
        };
        Ok(ids)
    }
}
