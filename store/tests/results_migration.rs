//! A database written before a result was stored once (SQLite migration
//! 0015, PostgreSQL 0017) keeps its results: they are read back as they
//! were, and the new rule holds after the migration. Run on every backend.

use std::sync::Arc;

use sqlx::Connection;
use wayfare_engine::runtime::pipeline::TaskOutput;
use wayfare_engine::state::{TaskId, TaskQueue, TripId};
use wayfare_store::Store;
use wayfare_store::testing::TestDb;

/// The last migration before the change, per backend.
fn before(db: &TestDb) -> i64 {
    if db.name == "sqlite" { 14 } else { 16 }
}

/// A running task and its stored result, written with the schema of
/// [`before`]'s migration, as the release before this one wrote them.
const TASK: &str = "INSERT INTO agent_tasks (task_id, trip_id, agent_type, priority, status,
    attempts, available_at, created_at)
    VALUES ($1, $2, 'tips', 3, 'running', 1, '2027-01-15T08:00:00.000000Z',
            '2027-01-15T08:00:00.000000Z')";
const RESULT: &str = "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
    VALUES ($1, $2, $3, '2027-01-15T08:00:01.000000Z')";
/// [`RESULT`] on PostgreSQL, whose column is JSONB.
const RESULT_PG: &str = "INSERT INTO agent_results (task_id, trip_id, result, completed_at)
    VALUES ($1, $2, $3::jsonb, '2027-01-15T08:00:01.000000Z')";
/// A row that keeps its result nowhere: refused once the change is in.
const NOWHERE: &str = "INSERT INTO agent_results (task_id, trip_id, completed_at)
    VALUES ($1, $2, '2027-01-15T08:00:01.000000Z')";

#[tokio::test]
async fn results_stored_before_the_change_read_back_and_a_result_kept_nowhere_is_refused() {
    for db in TestDb::all().await {
        let (task, trip, other) = (TaskId::new(), TripId::new(), TaskId::new());
        let result = Arc::new(TaskOutput::Tips(vec!["pack light".into()]));
        let json = serde_json::to_string(&result).expect("a result's JSON");
        if db.name == "sqlite" {
            let mut conn = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", db.url))
                .await
                .expect("open");
            sqlx::migrate!("../migrations/sqlite")
                .run_to(before(&db), &mut conn)
                .await
                .expect("the older schema");
            for (sql, task) in [(TASK, task), (TASK, other)] {
                sqlx::query(sql)
                    .bind(task.to_string())
                    .bind(trip.to_string())
                    .execute(&mut conn)
                    .await
                    .expect("an older task row");
            }
            sqlx::query(RESULT)
                .bind(task.to_string())
                .bind(trip.to_string())
                .bind(&json)
                .execute(&mut conn)
                .await
                .expect("an older result row");
            conn.close().await.expect("close");
        } else {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("open");
            sqlx::migrate!("../migrations/postgres")
                .run_to(before(&db), &mut conn)
                .await
                .expect("the older schema");
            for (sql, task) in [(TASK, task), (TASK, other)] {
                sqlx::query(sql)
                    .bind(task.as_uuid())
                    .bind(trip.as_uuid())
                    .execute(&mut conn)
                    .await
                    .expect("an older task row");
            }
            sqlx::query(RESULT_PG)
                .bind(task.as_uuid())
                .bind(trip.as_uuid())
                .bind(&json)
                .execute(&mut conn)
                .await
                .expect("an older result row");
            conn.close().await.expect("close");
        }

        // Opening the store migrates the rest.
        let store = Store::connect(&db.url).await.expect("open and migrate");
        assert_eq!(
            store.result(task).await.expect("read"),
            Some(result),
            "{}: the older result reads back",
            db.name
        );
        let nowhere = match &store {
            Store::Sqlite { write, .. } => sqlx::query(NOWHERE)
                .bind(other.to_string())
                .bind(trip.to_string())
                .execute(write)
                .await
                .map(drop),
            Store::Postgres(pool, _) => sqlx::query(NOWHERE)
                .bind(other.as_uuid())
                .bind(trip.as_uuid())
                .execute(pool)
                .await
                .map(drop),
        };
        assert!(
            nowhere.is_err(),
            "{}: a result kept neither as JSON nor in the log is refused",
            db.name
        );
        store.close().await;
        db.drop_database().await;
    }
}
