//! Wayfare's persistence: one [`Store`] over SQLite (the embedded default, a
//! WAL-mode file created on first start) or PostgreSQL (selected by a
//! `postgres://` URL; several `wayfare` instances may share it).
//!
//! Queries are written at run time (`query_as` + `FromRow`) rather than with
//! the compile-time macros, because the same code runs on two databases; the
//! contract tests in `tests/` run every operation on both. Each operation
//! is written once: `$n` placeholders (which sqlx numbers alike on SQLite),
//! values typed for both schemas (`codec`), a body expanded once per pool
//! (`db`). What the dialects truly spell differently is named where it
//! happens: the few SQL fragments of `db::Dialect`, claims (PostgreSQL's
//! `FOR UPDATE SKIP LOCKED`), how an append's statements run (on the
//! handle of SQLite's group-commit writer, one statement on PostgreSQL), and what only one
//! deployment needs (PostgreSQL's liveness table and catalog lock).
//!
//! Module graph, no cycles: `codec` ← `db` ← `queue` ← {`events`, `tasks`};
//! `audit` uses `events`' encoding of the read model; the rest use `codec`
//! and `db`.
//!
//! The travel catalog's tables and the TravelPlanner import live in
//! [`catalog`]: [`import_travelplanner`], [`Store::import_catalog`],
//! [`Store::load_catalog`], [`Store::catalog_is_empty`] and
//! [`Store::ensure_demo_catalog`].
//!
//! Per trip, besides the runtime's log and queue: who made it
//! ([`Store::record_trip_owner`], [`Store::owned_trips`]); deleting a trip
//! removes its rows from every table ([`Store::delete_trip`]); what people
//! thought of their trips ([`Store::rate_trip`], [`Store::satisfaction`]).

mod announce;
mod audit;
pub mod catalog;
mod codec;
mod db;
mod delete;
mod events;
mod hub;
mod instances;
mod listen;
mod native;
mod owners;
mod queue;
mod ratings;
mod tasks;
#[cfg(feature = "testing")]
pub mod testing;
mod trip_requests;
mod writer;

pub use announce::Announcer;
pub use catalog::{BATCH_ROWS, ImportCounts, ImportError, ImportSummary, import_travelplanner};
pub use listen::{AppendListener, Heard};
/// Re-exported so a caller of [`import_travelplanner`] needs no engine import.
pub use wayfare_engine::catalog::{ImportOptions, ImportProgress};

use std::path::Path;
use std::str::FromStr;

use sqlx::migrate::Migrator;

use crate::db::on_pool;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The WAL size, in pages, at which SQLite's writer checkpoints it: 40 MiB
/// with 4 KiB pages (SQLite's default is 1000).
const WAL_CHECKPOINT_PAGES: u32 = 10_000;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("could not create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// An error of the SQLite writer's native lane (`native.rs`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not start the SQLite writer: {0}")]
    Writer(std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write about a trip that does not exist (a rating).
    #[error("no trip with id {0}")]
    UnknownTrip(String),
    /// A value outside its bounds, refused before it was stored.
    #[error("invalid value: {0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to the configured database. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Store {
    /// SQLite takes one writer at a time: `write` is a single connection,
    /// so writers queue in the pool (async, in order) instead of meeting
    /// `SQLITE_BUSY` and sleeping in SQLite's busy handler; `read` serves
    /// the reads that need no transaction (WAL lets them run beside it).
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// The hot writes (appends, the task queue's transitions) go
        /// through one task that commits them in groups (`writer.rs`).
        writer: writer::Writer,
    },
    /// The pool, and the task that tells the other processes sharing the
    /// database about this one's appends (`announce.rs`).
    Postgres(PgPool, announce::Announcer),
}

impl Store {
    /// Connects to `url` and applies the migrations. A `sqlite://` file (and
    /// its directory) is created when missing.
    #[tracing::instrument(skip_all, fields(db.backend), err)]
    pub async fn connect(url: &str) -> Result<Self> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            tracing::Span::current().record("db.backend", "postgres");
            // Each store names its connections uniquely: the notifications
            // of its appends carry the name, and its listener skips them
            // (`listen.rs`).
            let me = format!("wayfare-{}", uuid::Uuid::new_v4().simple());
            let options = PgConnectOptions::from_str(url)?.application_name(&me);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await?;
            let announcer = announce::Announcer::start(pool.clone(), me);
            Store::Postgres(pool, announcer)
        } else if url.starts_with("sqlite:") {
            tracing::Span::current().record("db.backend", "sqlite");
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(5));
            if let Some(parent) = options.get_filename().parent() {
                create_dir(parent)?;
            }
            // The writer commits, so it checkpoints the WAL (copies its
            // pages back into the database file and syncs it) once the WAL
            // holds `WAL_CHECKPOINT_PAGES`. SQLite's default, 1000 pages
            // (4 MiB), cost 7% of the server's CPU under load: the same hot
            // pages (the read models, the queue's) were copied again every
            // few hundred trips.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(
                    options
                        .clone()
                        .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string()),
                )
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            let writer = writer::Writer::start(write.clone()).map_err(StoreError::Writer)?;
            Store::Sqlite {
                write,
                read,
                writer,
            }
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite { .. } => Backend::Sqlite,
            Store::Postgres(_, _) => Backend::Postgres,
        }
    }

    /// Holds a PostgreSQL advisory lock named `key` (transaction-level,
    /// on a connection of its own, in a transaction that writes nothing)
    /// until [`release`]: processes sharing the database take turns at
    /// what it guards. A dropped future rolls the transaction back, which
    /// releases the lock. SQLite serves one process: no lock.
    pub(crate) async fn advisory_lock(&self, key: &str) -> Result<Held> {
        match self {
            Store::Postgres(pool, _) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                Ok(Held(Some(tx)))
            }
            Store::Sqlite { .. } => Ok(Held(None)),
        }
    }

    async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite { write: pool, .. } => SQLITE_MIGRATIONS.run(pool).await?,
            Store::Postgres(pool, _) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Closes every connection (on shutdown; SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match self {
            Store::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Store::Postgres(pool, announcer) => {
                announcer.flush().await;
                pool.close().await;
            }
        }
    }
}

/// An advisory lock held ([`Store::advisory_lock`]).
#[derive(Debug)]
pub struct Held(Option<sqlx::Transaction<'static, sqlx::Postgres>>);

/// Ends an advisory lock's transaction (it wrote nothing). A failure here
/// is only logged: the lock goes with the transaction when the connection
/// is closed or reused.
pub(crate) async fn release(held: Held) {
    if let Some(tx) = held.0
        && let Err(e) = tx.rollback().await
    {
        tracing::warn!(error = %e, "releasing an advisory lock");
    }
}

fn create_dir(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(path).map_err(|source| StoreError::DataDir {
        path: path.display().to_string(),
        source,
    })
}

impl Store {
    /// One trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, write, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }
}
