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
