//! Test support (feature `testing`): one fresh database per test, on every
//! backend, for this crate's tests and the server's.
//!
//! SQLite is always available (a file in a temporary directory).
//! PostgreSQL is used at `WAYFARE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), where each test creates
//! its own database and drops it at the end. When PostgreSQL cannot be
//! reached, a local run skips it with a loud message; under `CI=true` that
//! is a failure.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database made for one test: where it is, and what removes it.
pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub name: &'static str,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The directory goes when this is dropped.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        database: String,
    },
}

impl TestDb {
    /// A SQLite file in a fresh temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/wayfare.db", dir.path().display());
        TestDb {
            name: "sqlite",
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (locally) when the server is
    /// not reachable.
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
        let database = format!("wayfare_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{database}\""
        )))
        .execute(&mut admin)
        .await
        .expect("create the test database");
        Some(TestDb {
            name: "postgres",
            url: replace_database(&admin_url, &database),
            cleanup: Cleanup::Postgres {
                admin_url,
                database,
            },
        })
    }

    /// SQLite and, where reachable, PostgreSQL.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite().await];
        if let Some(pg) = TestDb::postgres().await {
            dbs.push(pg);
        }
        dbs
    }

    /// Removes the database (PostgreSQL; SQLite goes with its directory).
    /// Close every pool on it first.
    pub async fn drop_database(self) {
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

/// `url` with its database name replaced by `database`.
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

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn the_database_name_is_replaced_and_the_options_kept() {
        assert_eq!(
            replace_database("postgres://u@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@h:5432/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://u@h", "t2"),
            "postgres://u@h/t2"
        );
    }
}
