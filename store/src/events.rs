//! The trip event log on SQL: `trip_events` (the source of truth),
//! `trip_state` (the read model, updated in the same transaction as every
//! append; its JSON only now and then while a trip plans, see
//! [`StateWrite`]) and `trip_snapshots`. [`Store`] implements the engine's
//! [`EventStore`] port.
//!
//! Optimistic locking: an append states the version it decided on, and a
//! stale writer never overwrites. The two backends run the same statements
//! (the events, the read model at the expected version, the queue's write)
//! and check differently: on SQLite the log itself refuses a stale first
//! event (its primary key on `(trip_id, seq)`, and the
//! `trip_events_gapless` trigger for a `seq` that does not follow the
//! trip's last), so the append's statements need not look at what one of
//! them did (`Writes::run_native`); on PostgreSQL the append is one statement whose
//! read-model update matches only the expected version (and locks the row
//! until the commit) and which fails when it matched none. A trip created
//! twice at once is refused by the primary keys on both.

use chrono::{DateTime, SubsecRound, Utc};
use wayfare_engine::runtime::{QueueWriteAt, RuntimeStore};
use wayfare_engine::state::{
    AppendError, Batch, EventStore, FoldedBatch, PortError, Snapshot, SnapshotRef, StoredEvent,
    TaskId, TripEvent, TripId, TripState, TripStatus, TripSummary,
};

use crate::codec::{Id, JsonText, Time, is_unique_violation, parse_ts, to_i64, to_json, to_u64};
use crate::db::{Arg, Stmt, in_transaction, on_pool};
use crate::native;
use crate::queue::Joint;
use crate::{Store, StoreError};

/// How one append attempt ended, before a lost race is turned into a
/// conflict with the log's real version.
enum Failure {
    Conflict {
        actual: u64,
    },
    /// A unique key or the log's check refused the write: another writer
    /// got there first.
    Raced,
    /// The queue write spoke for an older claim of its task (`Fence`).
    Fenced,
    Port(PortError),
}

/// The log refused a stale append: on SQLite a trigger did
/// (`SQLITE_CONSTRAINT_TRIGGER`; in the store, only `trip_events_gapless`),
/// on PostgreSQL `wayfare_refuse_stale()` (SQLSTATE `WF409`, migration
/// 0010). Either way the log is not where the writer thought.
fn is_stale_refusal(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("1811" | "WF409")))
}

/// The fence refused a write of an older claim (migration 0011): on SQLite
/// `task_fence_check` (a trigger's ABORT, told from the log's by its
/// message), on PostgreSQL `wayfare_fence()` (SQLSTATE `WF412`).
pub(crate) fn is_fenced(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("WF412") => true,
            Some("1811") => db.message().contains("wayfare: fenced"),
            _ => false,
        },
        _ => false,
    }
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        if is_fenced(&err) {
            Failure::Fenced
        } else if is_unique_violation(&err) || is_stale_refusal(&err) {
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
type EventRow = (i64, &'static str, JsonText);

/// The `trip_state` columns: status, progress, version, state.
pub(crate) type StateRow = (&'static str, f64, u64, JsonText);

/// What an append writes of the read model.
enum StateWrite {
    /// Its columns and its JSON (`state`, then at the new version).
    Whole(StateRow),
    /// Its columns (status, progress, version) only: the JSON stays at its
    /// `state_version`, and a reader folds the log's events after it in
    /// ([`read_model_at`]).
    Columns(&'static str, f64, u64),
}

/// While a trip plans, its read model's JSON is rewritten only when an
/// append crosses a multiple of this many versions: a planning trip
/// appends about twenty times in a second, and nothing but the consistency
/// auditor and a folding append reads the JSON. A trip that stops
/// planning (ready, failed, cancelled, waiting for an answer) has it
/// written whole. A plan's first append (its submission, intent and task
/// graph: about a dozen events) writes it whole and its last one does
/// too; at 32, a trip that plans without retries (about 30 events) does
/// not rewrite it in between (at 8 it did twice: 4–5 KiB of JSON each).
const STATE_EVERY: u64 = 32;

impl StateWrite {
    /// What an append from `expected` to `state` writes.
    fn of(expected: u64, state: &TripState) -> Result<Self, StoreError> {
        let whole = expected == 0
            || state.status != TripStatus::Planning
            || state.version / STATE_EVERY != expected / STATE_EVERY;
        Ok(if whole {
            StateWrite::Whole(encode_state(state)?)
        } else {
            StateWrite::Columns(state.status.as_str(), state.progress(), state.version)
        })
    }

    fn version(&self) -> u64 {
        match self {
            StateWrite::Whole((_, _, version, _)) | StateWrite::Columns(_, _, version) => *version,
        }
    }
}

/// How an append gets the state after it.
enum After {
    /// The writer folded it already; encoded before any lock is taken.
    Encoded(StateWrite),
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
        JsonText(to_json(&state.read_model())?),
    ))
}

/// A `trip_state` row.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    status: String,
    progress: f64,
    version: i64,
    state: JsonText,
    state_version: i64,
    updated_at: Time,
}

/// A `trip_events` row of a trip.
#[derive(sqlx::FromRow)]
struct EventLine {
    seq: i64,
    payload: JsonText,
    at: Time,
}

/// A trip's events after a `seq`, in order.
const EVENTS_AFTER: &str =
    "SELECT seq, payload, at FROM trip_events WHERE trip_id = $1 AND seq > $2 ORDER BY seq";

/// The stored read model a folding append starts from: version,
/// state_version, state.
type StoredRow = (i64, i64, JsonText);

impl EventLine {
    fn from_native(row: &rusqlite::Row<'_>) -> Result<Self, StoreError> {
        let at: String = row.get(2)?;
        Ok(EventLine {
            seq: row.get(0)?,
            payload: JsonText(row.get(1)?),
            at: Time(
                parse_ts(&at).map_err(|e| StoreError::Corrupt(format!("trip_events.at: {e}")))?,
            ),
        })
    }

    fn decode(self, trip_id: TripId) -> Result<StoredEvent, StoreError> {
        Ok(StoredEvent {
            trip_id,
            seq: to_u64("trip_events.seq", self.seq)?,
            at: self.at.0,
            event: self.payload.decode_as("trip_events.payload")?,
        })
    }
}

/// The read model at `version`: the stored JSON (at `state_version`) with
/// the log's events after it (`since`, in order; any past `version` are
/// left out) folded in.
fn read_model_at(
    trip_id: TripId,
    json: JsonText,
    state_version: i64,
    version: u64,
    since: Vec<EventLine>,
) -> Result<TripState, StoreError> {
    let mut state: TripState = json.decode_as("trip_state.state")?;
    let mut next = to_u64("trip_state.state_version", state_version)? + 1;
    if next == version + 1 {
        return Ok(state);
    }
    for line in since {
        if next > version || to_u64("trip_events.seq", line.seq)? != next {
            break;
        }
        state.apply_stored(&line.decode(trip_id)?);
        next += 1;
    }
    if next != version + 1 {
        return Err(StoreError::Corrupt(format!(
            "trip_events: trip {trip_id} has no event {next}, its read model is at {version}"
        )));
    }
    Ok(state.read_model())
}

/// One append's writes, in the order SQLite runs them: the fence, the
/// events, the read model, the queue's write.
struct Writes {
    /// The claim the queue write speaks for: checked first.
    fence: Option<Fence>,
    events: Stmt,
    state: Stmt,
    queue: Option<Stmt>,
}

/// A queue write's claim (task, epoch), which the append checks before it
/// writes anything: a task claimed again since fails the whole append.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fence(pub TaskId, pub u64);

impl Fence {
    /// SQLite: an insert into the view `task_fence`, whose trigger raises
    /// (SQLite raises only in triggers).
    fn sqlite(self) -> Result<Stmt, StoreError> {
        Ok(Stmt {
            sql: "INSERT INTO task_fence (task_id, epoch) VALUES ($1, $2)".to_owned(),
            args: vec![Arg::Id(self.0.into()), Arg::Int(to_i64(self.1)?)],
        })
    }

    /// PostgreSQL: `wayfare_fence()` (an expression), which locks the
    /// task's row first, so that a claim being made is waited for and one
    /// made since is seen.
    fn postgres(self) -> Result<Stmt, StoreError> {
        Ok(Stmt {
            sql: "wayfare_fence($1, $2)".to_owned(),
            args: vec![Arg::Id(self.0.into()), Arg::Int(to_i64(self.1)?)],
        })
    }
}

impl Writes {
    /// An append's writes, and the version it leads to.
    fn of(
        trip_id: TripId,
        expected: u64,
        rows: Vec<EventRow>,
        at: DateTime<Utc>,
        state: StateWrite,
        (fence, queue): (Option<Fence>, Option<Stmt>),
    ) -> Result<(Self, u64), StoreError> {
        let version = state.version();
        Ok((
            Writes {
                fence,
                events: insert_events(trip_id, rows, at),
                state: write_state(trip_id, expected, state, at)?,
                queue,
            },
            version,
        ))
    }
}

/// The statement inserting an append's events.
fn insert_events(trip_id: TripId, rows: Vec<EventRow>, at: DateTime<Utc>) -> Stmt {
    let mut args = vec![Arg::Id(trip_id.into()), Arg::Time(Some(Time(at)))];
    let mut values = Vec::with_capacity(rows.len());
    for (seq, kind, payload) in rows {
        let n = args.len();
        values.push(format!("($1, ${}, ${}, ${}, $2)", n + 1, n + 2, n + 3));
        args.extend([
            Arg::Int(seq),
            Arg::Text(Some(kind.to_owned())),
            Arg::Json(payload),
        ]);
    }
    Stmt {
        sql: format!(
            "INSERT INTO trip_events (trip_id, seq, kind, payload, at) VALUES {}",
            values.join(", ")
        ),
        args,
    }
}

/// The statement writing the read model: a new trip's row is inserted (a
/// second creator's insert is a unique violation, a lost race), an
/// existing one updated only at the expected version, its JSON with it or
/// not ([`StateWrite`]).
fn write_state(
    trip_id: TripId,
    expected: u64,
    state: StateWrite,
    at: DateTime<Utc>,
) -> Result<Stmt, StoreError> {
    let (status, progress, version, json) = match state {
        StateWrite::Whole((status, progress, version, json)) => {
            (status, progress, version, Some(json))
        }
        StateWrite::Columns(status, progress, version) => (status, progress, version, None),
    };
    let mut args = vec![
        Arg::Text(Some(status.to_owned())),
        Arg::Float(progress),
        Arg::Int(to_i64(version)?),
    ];
    let sql = match (expected, json) {
        (0, Some(json)) => {
            args.push(Arg::Json(json));
            "INSERT INTO trip_state (status, progress, version, state, updated_at, trip_id,
                state_version) VALUES ($1, $2, $3, $4, $5, $6, $3)"
        }
        (0, None) => {
            return Err(StoreError::Corrupt(format!(
                "trip {trip_id}: a new trip's read model must be written whole"
            )));
        }
        (_, Some(json)) => {
            args.push(Arg::Json(json));
            "UPDATE trip_state SET status = $1, progress = $2, version = $3, state = $4,
                updated_at = $5, state_version = $3 WHERE trip_id = $6 AND version = $7"
        }
        (_, None) => {
            "UPDATE trip_state SET status = $1, progress = $2, version = $3,
                updated_at = $4 WHERE trip_id = $5 AND version = $6"
        }
    };
    args.extend([Arg::Time(Some(Time(at))), Arg::Id(trip_id.into())]);
    if expected != 0 {
        args.push(Arg::Int(to_i64(expected)?));
    }
    Ok(Stmt {
        sql: sql.to_owned(),
        args,
    })
}

impl Store {
    /// The version a trip's log is at (0 when it has none).
    async fn current_version(&self, trip_id: TripId) -> Result<u64, StoreError> {
        let max: Option<i64> = on_pool!(self, write, |pool| sqlx::query_scalar(
            "SELECT MAX(seq) FROM trip_events WHERE trip_id = $1"
        )
        .bind(Id::from(trip_id))
        .fetch_one(pool)
        .await?);
        to_u64("trip_events.seq", max.unwrap_or(0))
    }

    /// The rows one append writes, serialised before any lock is taken.
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
                    JsonText(to_json(event)?),
                ))
            })
            .collect()
    }

    /// The state after `events`, folded over the stored one.
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

    /// The read model after `events`, folded over the stored one (which
    /// must be at `expected`; `since`: the log's events after its JSON),
    /// encoded whole.
    fn folded(
        trip_id: TripId,
        expected: u64,
        stored: Option<StoredRow>,
        since: Vec<EventLine>,
        events: &[TripEvent],
        at: DateTime<Utc>,
    ) -> Result<StateWrite, Failure> {
        let stored = match stored {
            Some((version, state_version, json)) => {
                check_version(version, expected)?;
                Some(read_model_at(
                    trip_id,
                    json,
                    state_version,
                    expected,
                    since,
                )?)
            }
            None if expected != 0 => return Err(Failure::Conflict { actual: 0 }),
            None => None,
        };
        Ok(StateWrite::Whole(encode_state(&Self::fold(
            trip_id, stored, expected, events, at,
        ))?))
    }

    /// One append on either backend, its failure turned into the port's.
    ///
    /// Both build the same statements ([`Writes`]): on SQLite they run on
    /// the writer's native lane, in its group commit; on PostgreSQL as one
    /// statement (`run_append_postgres`). With the state after the events
    /// in hand that is the whole append (on PostgreSQL without a
    /// transaction around it: a statement is atomic); otherwise the stored
    /// state is read and folded first, in the same transaction.
    async fn append_any(
        &self,
        trip_id: TripId,
        expected_version: u64,
        events: &[&TripEvent],
        at: DateTime<Utc>,
        after: After,
        queue: Option<(Joint, DateTime<Utc>)>,
    ) -> Result<u64, AppendError> {
        let fence = queue
            .as_ref()
            .and_then(|(joint, _)| joint.fence())
            .map(|(task, epoch)| Fence(task, epoch));
        let fenced = |failure: Failure| match (failure, fence) {
            (Failure::Fenced, Some(Fence(task, _))) => AppendError::Fenced(task),
            (Failure::Port(err), _) => AppendError::Port(err),
            (_, _) => AppendError::Port(PortError::permanent("the append was refused")),
        };
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
                self.queue_write(joint, now).await.map_err(fenced)?;
            }
            return Ok(actual);
        }
        // Both backends keep microseconds: the projection must see the same
        // time a replay will read back.
        let at = at.trunc_subsecs(6);
        // What another process makes of the pointer (`announce.rs`).
        let routine = events.iter().all(|e| e.is_task_progress());
        let rows = Self::encode(expected_version, events.iter().copied())
            .map_err(|e| AppendError::Port(e.into()))?;
        let dialect = self.dialect();
        let queue = match queue {
            Some((joint, now)) => joint
                .stmt(dialect, now, (expected_version + 1, events))
                .map_err(|e| AppendError::Port(e.into()))?,
            None => None,
        };
        let queue = (fence, queue);
        let expected = expected_version;
        let result: Result<u64, Failure> = match (self, after) {
            // SQLite: the writes run on the writer's thread, on the
            // connection's own handle (`native.rs`), as a job that may run
            // twice (`writer.rs`).
            (Store::Sqlite { writer, .. }, After::Encoded(state)) => {
                match Writes::of(trip_id, expected, rows, at, state, queue) {
                    Ok((writes, version)) => {
                        writer
                            .run_native(move |db| writes.run_native(db).map(|()| version))
                            .await
                    }
                    Err(e) => Err(e.into()),
                }
            }
            // A stored state to fold over is read in the same transaction.
            (Store::Sqlite { writer, .. }, After::Fold(events)) => {
                writer
                    .run_native(move |db| {
                        let read = Stmt {
                            sql: "SELECT version, state_version, state FROM trip_state
                                  WHERE trip_id = $1"
                                .to_owned(),
                            args: vec![Arg::Id(trip_id.into())],
                        };
                        let row = native::query(db, &read, |row| {
                            Ok((row.get(0)?, row.get(1)?, JsonText(row.get(2)?)))
                        })?
                        .into_iter()
                        .next();
                        let since = match &row {
                            Some((version, state_version, _)) if state_version < version => {
                                native::query(
                                    db,
                                    &Stmt {
                                        sql: EVENTS_AFTER.to_owned(),
                                        args: vec![
                                            Arg::Id(trip_id.into()),
                                            Arg::Int(*state_version),
                                        ],
                                    },
                                    EventLine::from_native,
                                )?
                            }
                            _ => Vec::new(),
                        };
                        let state = Self::folded(trip_id, expected, row, since, &events, at)?;
                        let (writes, version) =
                            Writes::of(trip_id, expected, rows.clone(), at, state, queue.clone())?;
                        writes.run_native(db).map(|()| version)
                    })
                    .await
            }
            // PostgreSQL, with the state in hand: the append is one
            // statement (`run_append_postgres`), atomic on its own, so it
            // needs no transaction around it: one round trip instead of
            // three.
            (Store::Postgres(pool, _), After::Encoded(state)) => {
                async {
                    let (writes, version) = Writes::of(trip_id, expected, rows, at, state, queue)?;
                    let mut conn = pool.acquire().await?;
                    run_append_postgres(&mut conn, writes).await?;
                    Ok(version)
                }
                .await
            }
            // The stored state read and locked in the append's transaction.
            (Store::Postgres(pool, _), After::Fold(events)) => {
                async {
                    let mut tx = pool.begin().await?;
                    let row: Option<StoredRow> = sqlx::query_as(
                        "SELECT version, state_version, state FROM trip_state
                         WHERE trip_id = $1 FOR UPDATE",
                    )
                    .bind(Id::from(trip_id))
                    .fetch_optional(&mut *tx)
                    .await?;
                    let since: Vec<EventLine> = match &row {
                        Some((version, state_version, _)) if state_version < version => {
                            sqlx::query_as(EVENTS_AFTER)
                                .bind(Id::from(trip_id))
                                .bind(*state_version)
                                .fetch_all(&mut *tx)
                                .await?
                        }
                        _ => Vec::new(),
                    };
                    let state = Self::folded(trip_id, expected, row, since, &events, at)?;
                    let (writes, version) = Writes::of(trip_id, expected, rows, at, state, queue)?;
                    run_append_postgres(&mut tx, writes).await?;
                    tx.commit().await?;
                    Ok(version)
                }
                .await
            }
        };
        match result {
            Ok(version) => {
                if let Store::Postgres(_, announcer) = self {
                    announcer.appended(trip_id, version, routine);
                }
                Ok(version)
            }
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
            Err(failure) => Err(fenced(failure)),
        }
    }

    /// An append of folded events, with a queue write in the same
    /// transaction.
    async fn append_encoded(
        &self,
        folded: FoldedBatch<'_>,
        queue: Option<(Joint, DateTime<Utc>)>,
    ) -> Result<u64, AppendError> {
        let FoldedBatch {
            trip_id,
            expected_version,
            events,
            after,
        } = folded;
        let at = events.first().map_or_else(Utc::now, |e| e.at);
        let refs: Vec<&TripEvent> = events.iter().map(|e| &e.event).collect();
        let encoded =
            StateWrite::of(expected_version, after).map_err(|e| AppendError::Port(e.into()))?;
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

    /// A queue write alone, in its own transaction, its fence checked
    /// first.
    async fn queue_write(&self, joint: Joint, now: DateTime<Utc>) -> Result<(), Failure> {
        let fence = joint.fence().map(|(task, epoch)| Fence(task, epoch));
        let Some(stmt) = joint.stmt(self.dialect(), now, (0, &[]))? else {
            return Ok(());
        };
        let check = match (self, fence) {
            (_, None) => None,
            (Store::Sqlite { .. }, Some(fence)) => Some(fence.sqlite()?),
            (Store::Postgres(_, _), Some(fence)) => {
                let mut check = fence.postgres()?;
                check.sql = format!("SELECT {}", check.sql);
                Some(check)
            }
        };
        in_transaction!(self, |conn| async move {
            if let Some(check) = check {
                check.query().execute(&mut *conn).await?;
            }
            stmt.query().execute(&mut *conn).await.map(drop)
        })
        .map_err(Failure::from)
    }
}

impl Writes {
    /// The writes on SQLite's native lane, in order, each a cached
    /// prepared statement, checked by the log's constraints (the module's
    /// doc).
    fn run_native(&self, db: &rusqlite::Connection) -> Result<(), Failure> {
        if let Some(fence) = self.fence {
            native::execute(db, &fence.sqlite()?)?;
        }
        native::execute(db, &self.events)?;
        native::execute(db, &self.state)?;
        if let Some(queue) = &self.queue {
            native::execute(db, queue)?;
        }
        Ok(())
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Self {
        match native::refused_by_trigger(&err) {
            Some(message) if message.contains("wayfare: fenced") => Failure::Fenced,
            Some(_) => Failure::Raced,
            None if native::is_unique_violation(&err) => Failure::Raced,
            None => Failure::Port(StoreError::Sqlite(err).into()),
        }
    }
}

/// PostgreSQL's append: it takes no script with parameters, so the
/// statements run as one, each a data-modifying CTE. The read model is
/// written only at the expected version (which also locks its row until
/// the commit); when that matched no row, `wayfare_refuse_stale()`
/// (migration 0010) fails the statement, which undoes the others. (A trip
/// created twice at once: the read model's primary key refuses the second.)
async fn run_append_postgres(conn: &mut sqlx::PgConnection, writes: Writes) -> Result<(), Failure> {
    let mut args = Vec::new();
    let state = writes.state.renumbered(&mut args);
    let events = writes.events.renumbered(&mut args);
    let mut sql = format!("WITH s AS ({state} RETURNING 1), e AS ({events})");
    if let Some(queue) = writes.queue {
        sql.push_str(&format!(", q AS ({})", queue.renumbered(&mut args)));
    }
    // The fence (when the queue write speaks for a claim) is in the
    // main query, which runs before the CTEs it does not read (`e`,
    // `q`): the task's row is locked and checked before `q` writes it.
    let fence = match writes.fence {
        Some(fence) => format!("{} + ", fence.postgres()?.renumbered(&mut args)),
        None => String::new(),
    };
    sql.push_str(&format!(
        " SELECT {fence}CASE WHEN EXISTS (SELECT 1 FROM s) THEN 1 ELSE wayfare_refuse_stale() END"
    ));
    Stmt { sql, args }.query().execute(&mut *conn).await?;
    Ok(())
}

/// The log and the queue in one database: a queue write that goes with
/// an append is made in the append's transaction.
impl RuntimeStore for Store {
    async fn append_with_queue(
        &self,
        folded: FoldedBatch<'_>,
        queue: QueueWriteAt<'_>,
    ) -> Result<u64, AppendError> {
        let joint = Joint::of(queue.write).map_err(|e| AppendError::Port(e.into()))?;
        self.append_encoded(folded, Some((joint, queue.now))).await
    }

    /// PostgreSQL: an advisory lock that processes starting together take
    /// in turn; SQLite: nothing (one process per file).
    type Startup = crate::Held;

    async fn begin_startup(&self) -> Result<crate::Held, PortError> {
        Ok(self.advisory_lock("wayfare.startup").await?)
    }

    async fn end_startup(&self, held: crate::Held) {
        crate::release(held).await;
    }

    async fn delete_trip(&self, trip_id: TripId) -> Result<bool, PortError> {
        Ok(Store::delete_trip(self, &trip_id.to_string()).await?)
    }
}

impl EventStore for Store {
    async fn append(&self, batch: Batch<'_>, at: DateTime<Utc>) -> Result<u64, AppendError> {
        let refs: Vec<&TripEvent> = batch.events.iter().collect();
        self.append_any(
            batch.trip_id,
            batch.expected_version,
            &refs,
            at,
            After::Fold(batch.events.to_vec()),
            None,
        )
        .await
    }

    async fn append_with_state(&self, folded: FoldedBatch<'_>) -> Result<u64, AppendError> {
        self.append_encoded(folded, None).await
    }

    async fn load(&self, trip_id: TripId, after_seq: u64) -> Result<Vec<StoredEvent>, PortError> {
        Ok(self.load_sql(trip_id, after_seq).await?)
    }

    async fn load_snapshot(&self, trip_id: TripId) -> Result<Option<Snapshot>, PortError> {
        Ok(self.load_snapshot_sql(trip_id).await?)
    }

    async fn save_snapshot(&self, snapshot: SnapshotRef<'_>) -> Result<(), PortError> {
        let SnapshotRef {
            trip_id,
            version,
            state,
        } = snapshot;
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
        self.lines_after(trip_id, after_seq)
            .await?
            .into_iter()
            .map(|line| line.decode(trip_id))
            .collect()
    }

    async fn lines_after(
        &self,
        trip_id: TripId,
        after_seq: u64,
    ) -> Result<Vec<EventLine>, StoreError> {
        Ok(on_pool!(self, read, |pool| {
            sqlx::query_as(EVENTS_AFTER)
                .bind(Id::from(trip_id))
                .bind(to_i64(after_seq)?)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn load_snapshot_sql(&self, trip_id: TripId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<(i64, JsonText)> = on_pool!(self, read, |pool| sqlx::query_as(
            "SELECT version, state FROM trip_snapshots
             WHERE trip_id = $1 ORDER BY version DESC LIMIT 1"
        )
        .bind(Id::from(trip_id))
        .fetch_optional(pool)
        .await?);
        let Some((version, state)) = row else {
            return Ok(None);
        };
        Ok(Some(Snapshot {
            trip_id,
            version: to_u64("trip_snapshots.version", version)?,
            state: state.decode_as("trip_snapshots.state")?,
        }))
    }

    async fn save_snapshot_sql(
        &self,
        trip_id: TripId,
        version: u64,
        state: &TripState,
    ) -> Result<(), StoreError> {
        let version = to_i64(version)?;
        let json = JsonText(to_json(state)?);
        let now = Time(Utc::now());
        on_pool!(self, write, |pool| sqlx::query(
            "INSERT INTO trip_snapshots (trip_id, version, state, taken_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        )
        .bind(Id::from(trip_id))
        .bind(version)
        .bind(&json)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    async fn trip_summary_sql(&self, trip_id: TripId) -> Result<Option<TripSummary>, StoreError> {
        let row: Option<SummaryRow> = on_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT status, progress, version, state, state_version, updated_at
             FROM trip_state WHERE trip_id = $1",
            )
            .bind(Id::from(trip_id))
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        let version = to_u64("trip_state.version", row.version)?;
        let state_version = to_u64("trip_state.state_version", row.state_version)?;
        let since = if state_version < version {
            self.lines_after(trip_id, state_version).await?
        } else {
            Vec::new()
        };
        Ok(Some(TripSummary {
            trip_id,
            status: row
                .status
                .parse()
                .map_err(|e: String| StoreError::Corrupt(format!("trip_state.status: {e}")))?,
            progress: row.progress,
            version,
            updated_at: row.updated_at.0,
            state: read_model_at(trip_id, row.state, row.state_version, version, since)?,
        }))
    }

    async fn list_trips_in_status_sql(
        &self,
        status: TripStatus,
    ) -> Result<Vec<TripId>, StoreError> {
        let ids: Vec<Id> = on_pool!(self, read, |pool| sqlx::query_scalar(
            "SELECT trip_id FROM trip_state WHERE status = $1 ORDER BY updated_at, trip_id"
        )
        .bind(status.as_str())
        .fetch_all(pool)
        .await?);
        Ok(ids.into_iter().map(TripId::from).collect())
    }
}
