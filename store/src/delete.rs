//! Deleting a trip: every row any table keeps by trip, in one transaction.
//!
//! The runtime's tables (`trip_events`, `trip_state`, `trip_snapshots`,
//! `agent_tasks`, `agent_results`) key trips by UUID on PostgreSQL; the
//! tables kept beside them (`trip_owners`, `trip_ratings`) by the id as
//! text on both backends. `trip_requests` is keyed by its own request id
//! and `hub_messages` by message: neither holds a trip. A table added with
//! a `trip_id` column belongs in the lists below (`store/tests/delete.rs`
//! checks every table with such a column).

use crate::codec::Id;
use crate::db::on_pool;
use crate::owners::trip_key;
use crate::{Backend, Result, Store};

/// Statements by trip id as a UUID (PostgreSQL) or its hyphenated text
/// (SQLite). Children first: `agent_results` refers to `agent_tasks`.
const BY_RUNTIME_ID: [&str; 5] = [
    "agent_results",
    "agent_tasks",
    "trip_snapshots",
    "trip_events",
    "trip_state",
];

/// Tables keyed by the trip id as text on both backends.
const BY_TEXT_ID: [&str; 2] = ["trip_owners", "trip_ratings"];

fn delete_sql(table: &str) -> sqlx::AssertSqlSafe<String> {
    // Table names come from the constants above, never from input.
    sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE trip_id = $1"))
}

impl Store {
    /// Deletes every row of `trip_id` in every table (the log, its read
    /// model and snapshots, the task queue and its results, the owner and
    /// the rating), all in one transaction. `false` when there was nothing
    /// to delete (including ids that are not UUIDs and own nothing).
    ///
    /// The caller stops the trip's work first ([`wayfare_engine::runtime::Runtime::delete`]
    /// does): an append racing this one finds no log and is refused as a
    /// conflict, so nothing is left half deleted.
    #[tracing::instrument(skip_all, err)]
    pub async fn delete_trip(&self, trip_id: &str) -> Result<bool> {
        let key = trip_key(trip_id);
        let uuid = uuid::Uuid::parse_str(&key).ok().map(Id);
        // An append on PostgreSQL locks the read-model row first: one racing
        // this waits, then finds no trip and is refused. (SQLite has no row
        // locks and needs none: its transactions write one at a time.)
        let lock = self.backend() == Backend::Postgres;
        let mut deleted = 0u64;
        on_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(uuid) = uuid {
                if lock {
                    sqlx::query("SELECT 1 FROM trip_state WHERE trip_id = $1 FOR UPDATE")
                        .bind(uuid)
                        .fetch_optional(&mut *tx)
                        .await?;
                }
                for table in BY_RUNTIME_ID {
                    deleted += sqlx::query(delete_sql(table))
                        .bind(uuid)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
            }
            for table in BY_TEXT_ID {
                deleted += sqlx::query(delete_sql(table))
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(deleted > 0)
    }
}
