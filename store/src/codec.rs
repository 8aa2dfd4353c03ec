//! How Rust values meet the two schemas, in one place.
//!
//! The SQLite and PostgreSQL schemas hold the same data in different column
//! types (migrations `0003`): ids are hyphenated `TEXT` on SQLite and `UUID`
//! on PostgreSQL, times fixed-width RFC 3339 `TEXT` (so that they compare as
//! strings) or `TIMESTAMPTZ`, JSON `TEXT` or `JSONB`, a task's dependencies
//! a JSON array or `UUID[]`, and small numbers `INTEGER` or `SMALLINT`. The
//! types here encode and decode the right one on each database, so that a
//! statement is written once, binds the same values and reads rows into
//! one `#[derive(sqlx::FromRow)]` struct on both.
//!
//! The plain helpers (`to_json`, `to_i64`, …) turn what does not fit into
//! [`StoreError::Corrupt`]; a column that fails to decode is a
//! `sqlx::Error::ColumnDecode`, which the store reports as a database error.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type, ValueRef};
use uuid::Uuid;
use wayfare_engine::state::{PortError, TaskId, TripId};

use crate::StoreError;

/// Fixed-width RFC 3339 (UTC, microseconds): SQLite compares these as text.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
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

pub(crate) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} does not fit a BIGINT")))
}

pub(crate) fn to_u64(column: &str, n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column}: negative {n}")))
}

/// A count of rows as the ports report it.
pub(crate) fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A `LIMIT` from a port's `usize`.
pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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
            StoreError::Sqlite(e) => crate::native::is_transient(e),
            _ => false,
        };
        if transient {
            PortError::transient(err.to_string())
        } else {
            PortError::permanent(err.to_string())
        }
    }
}

/// Implements `Type` for both databases: on SQLite as `$sqlite`'s type, on
/// PostgreSQL as `$pg`'s (with `$compatible`, more column types it reads).
macro_rules! both_types {
    ($name:ty, sqlite: $sqlite:ty, postgres: $pg:ty $(, compatible: $compatible:expr)?) => {
        impl Type<Sqlite> for $name {
            fn type_info() -> SqliteTypeInfo {
                <$sqlite as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <$sqlite as Type<Sqlite>>::compatible(ty)
            }
        }
        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <$pg as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <$pg as Type<Postgres>>::compatible(ty) $(|| $compatible(ty))?
            }
        }
    };
}

/// A trip or task id: hyphenated text on SQLite, `uuid` on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Id(pub Uuid);

both_types!(Id, sqlite: String, postgres: Uuid);

impl From<TripId> for Id {
    fn from(id: TripId) -> Self {
        Id(id.as_uuid())
    }
}

impl From<TaskId> for Id {
    fn from(id: TaskId) -> Self {
        Id(id.as_uuid())
    }
}

impl From<Id> for TripId {
    fn from(id: Id) -> Self {
        TripId::from_uuid(id.0)
    }
}

impl From<Id> for TaskId {
    fn from(id: Id) -> Self {
        TaskId::from_uuid(id.0)
    }
}

impl Encode<'_, Sqlite> for Id {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.hyphenated().to_string(), buf)
    }
}

impl Decode<'_, Sqlite> for Id {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Id(Uuid::parse_str(<&str as Decode<Sqlite>>::decode(
            value,
        )?)?))
    }
}

impl Encode<'_, Postgres> for Id {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for Id {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Id(<Uuid as Decode<Postgres>>::decode(value)?))
    }
}

/// A list of task ids (`agent_tasks.depends_on`, and a list bound to a
/// statement): a JSON array of hyphenated ids on SQLite (read with
/// `json_each`), `uuid[]` on PostgreSQL (read with `unnest` or `ANY`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ids(pub Vec<Uuid>);

both_types!(Ids, sqlite: String, postgres: Vec<Uuid>);

impl Ids {
    pub(crate) fn of<T: Copy + Into<Id>>(ids: &[T]) -> Self {
        Ids(ids.iter().map(|&id| id.into().0).collect())
    }

    pub(crate) fn tasks(self) -> Vec<TaskId> {
        self.0.into_iter().map(TaskId::from_uuid).collect()
    }
}

impl Encode<'_, Sqlite> for Ids {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        // `Uuid` serialises hyphenated: the same spelling as `Id`.
        Encode::<Sqlite>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl Decode<'_, Sqlite> for Ids {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Ids(serde_json::from_str(
            <&str as Decode<Sqlite>>::decode(value)?,
        )?))
    }
}

impl Encode<'_, Postgres> for Ids {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for Ids {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Ids(<Vec<Uuid> as Decode<Postgres>>::decode(value)?))
    }
}

/// A point in time: fixed-width RFC 3339 text on SQLite (see [`ts`]),
/// `timestamptz` on PostgreSQL. Both keep microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Time(pub DateTime<Utc>);

both_types!(Time, sqlite: String, postgres: DateTime<Utc>);

impl Encode<'_, Sqlite> for Time {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(ts(self.0), buf)
    }
}

impl Decode<'_, Sqlite> for Time {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Time(parse_ts(<&str as Decode<Sqlite>>::decode(value)?)?))
    }
}

impl Encode<'_, Postgres> for Time {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Postgres> for Time {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Time(<DateTime<Utc> as Decode<Postgres>>::decode(value)?))
    }
}

/// JSON as text: `TEXT` on SQLite, `jsonb` on PostgreSQL. The store
/// serialises before it takes a lock and deserialises with the column's
/// name in the error ([`from_json`]), so it moves JSON as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonText(pub String);

both_types!(JsonText, sqlite: String, postgres: sqlx::types::Json<()>);

impl JsonText {
    pub(crate) fn decode_as<T: serde::de::DeserializeOwned>(
        &self,
        column: &str,
    ) -> Result<T, StoreError> {
        from_json(column, &self.0)
    }
}

impl Encode<'_, Sqlite> for JsonText {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode_by_ref(&self.0, buf)
    }
}

impl Decode<'_, Sqlite> for JsonText {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(JsonText(<String as Decode<Sqlite>>::decode(value)?))
    }
}

impl Encode<'_, Postgres> for JsonText {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // jsonb's binary input: a version byte, then the text.
        buf.push(1);
        buf.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

impl Decode<'_, Postgres> for JsonText {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        let jsonb = *value.type_info() == <sqlx::types::Json<()> as Type<Postgres>>::type_info();
        let mut bytes = value.as_bytes()?;
        if value.format() == PgValueFormat::Binary && jsonb {
            match bytes.split_first() {
                Some((1, rest)) => bytes = rest,
                _ => return Err("unsupported jsonb format version".into()),
            }
        }
        Ok(JsonText(std::str::from_utf8(bytes)?.to_owned()))
    }
}

/// An integer column read as `i64`: SQLite has one integer type, while
/// PostgreSQL's `smallint` and `integer` columns (a task's priority and
/// attempts, a rating's stars) decode only into `i16` and `i32`. Written,
/// a plain `i64` is enough: PostgreSQL casts it on assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Int(pub i64);

fn pg_narrow_int(ty: &PgTypeInfo) -> bool {
    <i16 as Type<Postgres>>::compatible(ty) || <i32 as Type<Postgres>>::compatible(ty)
}

both_types!(Int, sqlite: i64, postgres: i64, compatible: pg_narrow_int);

impl Decode<'_, Sqlite> for Int {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(Int(<i64 as Decode<Sqlite>>::decode(value)?))
    }
}

impl Decode<'_, Postgres> for Int {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        let ty = value.type_info().into_owned();
        Ok(Int(if <i16 as Type<Postgres>>::compatible(&ty) {
            i64::from(<i16 as Decode<Postgres>>::decode(value)?)
        } else if <i32 as Type<Postgres>>::compatible(&ty) {
            i64::from(<i32 as Decode<Postgres>>::decode(value)?)
        } else {
            <i64 as Decode<Postgres>>::decode(value)?
        }))
    }
}
