//! Test support: one fresh database per test, on every backend.
//!
//! SQLite is always available (a file in a temporary directory). PostgreSQL
//! is used at `WAYFARE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), where each test creates
//! its own database and drops it at the end. When PostgreSQL cannot be
//! reached, a local run skips it with a loud message; under `CI=true` that is
//! a failure.

#![allow(dead_code)]

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use wayfare_store::Store;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database made for one test.
pub struct TestDb {
    pub name: &'static str,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    /// Closes the pool and removes the database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = self.cleanup
            && let Ok(mut admin) = PgConnection::connect(&admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
        }
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/wayfare.db", dir.path().display());
    let store = Store::connect(&url).await.expect("open SQLite");
    TestDb {
        name: "sqlite",
        store,
        cleanup: Cleanup::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database, or `None` (locally) when the server is not
/// reachable.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = std::env::var("WAYFARE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
    let mut admin = match PgConnection::connect(&admin_url).await {
        Ok(conn) => conn,
        Err(err) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL at {admin_url} is required under CI=true: {err}");
            }
            eprintln!(
                "\n\x1b[1;33m!!! SKIPPING PostgreSQL tests: cannot reach {admin_url} ({err}).\n!!! Start PostgreSQL or set WAYFARE_TEST_POSTGRES_URL to run them.\x1b[0m\n"
            );
            return None;
        }
    };
    let database = format!("wayfare_test_{}", uuid_simple());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{database}\""
    )))
    .execute(&mut admin)
    .await
    .expect("create the test database");
    let url = replace_database(&admin_url, &database);
    let store = Store::connect(&url).await.expect("open PostgreSQL");
    Some(TestDb {
        name: "postgres",
        store,
        cleanup: Cleanup::Postgres {
            admin_url,
            database,
        },
    })
}

/// SQLite and, where reachable, PostgreSQL.
pub async fn all_backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        dbs.push(pg);
    }
    dbs
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

fn uuid_simple() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}{:x}", nanos, std::process::id())
}
