//! Test support: one fresh, opened database per test, on every backend
//! (`wayfare_store::testing` makes them; PostgreSQL is skipped loudly when
//! absent locally and required under `CI=true`).

#![allow(dead_code)]

use wayfare_store::Store;
use wayfare_store::testing;

/// A database made for one test, opened.
pub struct TestDb {
    pub name: &'static str,
    pub store: Store,
    pub db: testing::TestDb,
}

impl TestDb {
    async fn open(db: testing::TestDb) -> TestDb {
        let store = Store::connect(&db.url)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", db.name));
        TestDb {
            name: db.name,
            store,
            db,
        }
    }

    /// Closes the pool and removes the database.
    pub async fn finish(self) {
        self.store.close().await;
        self.db.drop_database().await;
    }
}

pub async fn sqlite() -> TestDb {
    TestDb::open(testing::TestDb::sqlite().await).await
}

/// A fresh PostgreSQL database, or `None` (locally) when the server is not
/// reachable.
pub async fn postgres() -> Option<TestDb> {
    Some(TestDb::open(testing::TestDb::postgres().await?).await)
}

/// SQLite and, where reachable, PostgreSQL.
pub async fn all_backends() -> Vec<TestDb> {
    let mut dbs = Vec::new();
    for db in testing::TestDb::all().await {
        dbs.push(TestDb::open(db).await);
    }
    dbs
}

/// The row `sql` selects for the id bound as `$1` (a trip's or a task's
/// UUID: text on SQLite, `uuid` on PostgreSQL), read on the store's pool.
pub async fn row_by_id<T>(store: &Store, sql: &'static str, id: uuid::Uuid) -> T
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let row = match store {
        Store::Sqlite { read, .. } => {
            sqlx::query_as(sql)
                .bind(id.to_string())
                .fetch_one(read)
                .await
        }
        Store::Postgres(pool, _) => sqlx::query_as(sql).bind(id).fetch_one(pool).await,
    };
    row.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A fixed instant `secs` after 2027-01-15 08:00 UTC, for stores' clocks.
pub fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("a valid time")
}

/// `events` after `state`, as the runtime's log folds them: the stored
/// events (seqs after the state's version, times to the microsecond the
/// databases keep) and the state after them.
pub fn fold(
    state: &wayfare_engine::state::TripState,
    events: Vec<wayfare_engine::state::TripEvent>,
    when: chrono::DateTime<chrono::Utc>,
) -> (
    Vec<wayfare_engine::state::StoredEvent>,
    wayfare_engine::state::TripState,
) {
    use chrono::SubsecRound;
    let trip_id = state.trip_id.expect("a trip id");
    let mut after = state.clone();
    let stored: Vec<wayfare_engine::state::StoredEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| wayfare_engine::state::StoredEvent {
            trip_id,
            seq: state.version + 1 + i as u64,
            at: when.trunc_subsecs(6),
            event,
        })
        .collect();
    for event in &stored {
        after.apply_stored(event);
    }
    (stored, after)
}
