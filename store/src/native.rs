//! The SQLite writer's native lane: statements run on the write
//! connection's own SQLite handle, on the writer's thread, through
//! `rusqlite`.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and
//! hands every statement (and every savepoint between two jobs) to it over
//! a channel: two thread switches per statement. Under load those switches
//! and their wake-ups cost more of the server's CPU than SQLite itself
//! (profiled: about a third of it). The hot writes — appends and claims,
//! all but a handful of the writer's jobs — therefore run here: the writer
//! borrows the handle once per batch (`SqliteConnection::lock_handle`) and
//! runs them synchronously with cached prepared statements. The statements
//! are the same [`Stmt`]s, with the same encodings, as on the sqlx path.

use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::{Connection, ToSql};

use crate::StoreError;
use crate::codec::ts;
use crate::db::{Arg, Stmt};

/// Extended result codes of SQLite: a trigger's `RAISE(ABORT)`, and the
/// two unique-key violations.
const CONSTRAINT_TRIGGER: i32 = 1811;
const CONSTRAINT_UNIQUE: i32 = 2067;
const CONSTRAINT_PRIMARYKEY: i32 = 1555;

/// How many distinct statements the lane keeps prepared (the appends'
/// event inserts differ by their number of rows).
pub(crate) const STATEMENT_CACHE: usize = 64;

impl ToSql for Arg {
    /// The spelling of each value on SQLite, as `codec`'s sqlx encoders
    /// write it: ids hyphenated, lists of ids as JSON arrays, times as
    /// fixed-width RFC 3339 text.
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Id(id) => ToSqlOutput::Owned(SqlValue::Text(id.0.hyphenated().to_string())),
            Arg::Ids(ids) => ToSqlOutput::Owned(SqlValue::Text(
                serde_json::to_string(&ids.0)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            )),
            Arg::Time(Some(t)) => ToSqlOutput::Owned(SqlValue::Text(ts(t.0))),
            Arg::Text(Some(s)) => ToSqlOutput::from(s.as_str()),
            Arg::Time(None) | Arg::Text(None) => ToSqlOutput::Owned(SqlValue::Null),
            Arg::Int(n) => ToSqlOutput::from(*n),
            Arg::Float(x) => ToSqlOutput::from(*x),
            Arg::Json(json) => ToSqlOutput::from(json.0.as_str()),
        })
    }
}

/// Prepares `stmt` (from the cache) and binds its values: `$n` is the
/// statement's `n`-th value, as on the sqlx path (SQLite itself reads `$n`
/// as a name).
fn prepare<'c>(db: &'c Connection, stmt: &Stmt) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut prepared = db.prepare_cached(&stmt.sql)?;
    for index in 1..=prepared.parameter_count() {
        let value = prepared
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$')?.parse::<usize>().ok())
            .and_then(|n| stmt.args.get(n.checked_sub(1)?));
        match value {
            Some(value) => prepared.raw_bind_parameter(index, value)?,
            None => {
                return Err(rusqlite::Error::InvalidParameterName(format!(
                    "parameter {index} of `{}` has no value",
                    stmt.sql
                )));
            }
        }
    }
    Ok(prepared)
}

/// Runs a statement that returns no rows; the number of rows it changed.
pub(crate) fn execute(db: &Connection, stmt: &Stmt) -> rusqlite::Result<usize> {
    prepare(db, stmt)?.raw_execute()
}

/// Runs a statement and maps each row it returns.
pub(crate) fn query<T>(
    db: &Connection,
    stmt: &Stmt,
    mut map: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut prepared = prepare(db, stmt)?;
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The extended result code of a database error, if it is one.
fn code(err: &rusqlite::Error) -> Option<i32> {
    match err {
        rusqlite::Error::SqliteFailure(e, _) => Some(e.extended_code),
        _ => None,
    }
}

/// A unique key refused the write (a lost race).
pub(crate) fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(code(err), Some(CONSTRAINT_UNIQUE | CONSTRAINT_PRIMARYKEY))
}

/// A trigger refused the write: the log's `trip_events_gapless` (a stale
/// append) or `task_fence_check` (an older claim, told by its message).
pub(crate) fn refused_by_trigger(err: &rusqlite::Error) -> Option<&str> {
    match err {
        rusqlite::Error::SqliteFailure(e, message) if e.extended_code == CONSTRAINT_TRIGGER => {
            Some(message.as_deref().unwrap_or(""))
        }
        _ => None,
    }
}

/// Whether an error is worth trying again: the database was busy or
/// locked (the store's other users of the file).
pub(crate) fn is_transient(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
