//! One statement, two databases.
//!
//! sqlx's queries are typed by their database (`Query<'_, Sqlite, _>` and
//! `Query<'_, Postgres, _>` are different types), so a statement written
//! once must be compiled once per backend. These macros expand their body
//! once per backend with the pool or connection bound to the same name; the
//! body itself — its SQL (`$1`, `$2`, … work on both: sqlx numbers SQLite's
//! `$N` parameters the same way), its binds (the types of `codec`, which
//! encode the column type of each schema) and its row mapping (a
//! `#[derive(sqlx::FromRow)]` struct) — is written once. Where the two
//! dialects truly differ, the code matches on the [`Store`](crate::Store)
//! itself and says why.

use crate::codec::{Id, Ids, JsonText, Time};

/// `on_pool!(store, read|write, |pool| body)`: `body` with `pool` bound to
/// the store's pool. On SQLite, `read` is the pool of readers (WAL lets them
/// run beside the writer) and `write` the one write connection; PostgreSQL
/// has one pool for both.
macro_rules! on_pool {
    ($store:expr, read, |$pool:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite { read: $pool, .. } => $body,
            $crate::Store::Postgres($pool, _) => $body,
        }
    };
    ($store:expr, write, |$pool:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite { write: $pool, .. } => $body,
            $crate::Store::Postgres($pool, _) => $body,
        }
    };
}

/// `in_transaction!(store, |conn| body)`: `body` (a future of a
/// `Result<T, E>` with `E: From<sqlx::Error>`) inside a write transaction,
/// `conn` bound to its connection; `Err` undoes its writes, and the call
/// returns once the transaction is committed. On SQLite the transaction is
/// the writer's group commit (`writer.rs`), which runs `body` on its own
/// thread: the body owns what it uses (it is moved there). PostgreSQL
/// writes concurrently: a transaction of its own on a pooled connection.
macro_rules! in_transaction {
    ($store:expr, |$conn:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite { writer, .. } => {
                writer
                    .run(move |$conn| Box::pin(async move { $body.await }))
                    .await
            }
            $crate::Store::Postgres(pool, _) => {
                async {
                    let mut tx = match pool.begin().await {
                        Ok(tx) => tx,
                        Err(e) => return Err(e.into()),
                    };
                    let result = {
                        let $conn: &mut sqlx::PgConnection = &mut *tx;
                        $body.await
                    };
                    match result {
                        Ok(value) => tx.commit().await.map(|()| value).map_err(Into::into),
                        Err(e) => Err(e),
                    }
                }
                .await
            }
        }
    };
}

pub(crate) use {in_transaction, on_pool};

/// The few pieces of SQL the two dialects spell differently, for the
/// statements that are otherwise the same.
#[derive(Debug)]
pub(crate) struct Dialect {
    /// The column that keeps the order rows were inserted in: SQLite's
    /// `rowid`; PostgreSQL has none, so the tables read in that order
    /// have an identity column `position`.
    pub order: &'static str,
    /// Membership in a list bound as one parameter (`codec::Ids`,
    /// `codec::Texts`): SQLite has no arrays, the list is a JSON array
    /// read with `json_each`; PostgreSQL binds an array.
    in_list: (&'static str, &'static str),
}

impl Dialect {
    pub(crate) const SQLITE: Dialect = Dialect {
        order: "rowid",
        in_list: ("IN (SELECT value FROM json_each(", "))"),
    };
    pub(crate) const POSTGRES: Dialect = Dialect {
        order: "position",
        in_list: ("= ANY(", ")"),
    };

    /// `IN <the list bound as param>`, e.g. `in_list("$2")`.
    pub(crate) fn in_list(&self, param: &str) -> String {
        format!("{}{param}{}", self.in_list.0, self.in_list.1)
    }
}

impl crate::Store {
    pub(crate) fn dialect(&self) -> &'static Dialect {
        match self {
            crate::Store::Sqlite { .. } => &Dialect::SQLITE,
            crate::Store::Postgres(_, _) => &Dialect::POSTGRES,
        }
    }
}

/// A value bound to a [`Stmt`], typed for both schemas by `codec`.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Id(Id),
    Ids(Ids),
    Time(Option<Time>),
    Text(Option<String>),
    Int(i64),
    Float(f64),
    Json(JsonText),
}

/// One statement (`$1`, `$2`, … for its parameters) with its values: a
/// write built once and run on either backend (on SQLite's native lane
/// too, `native.rs`).
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Stmt {
    /// The statement as a query with its values bound.
    pub(crate) fn query<'q, DB>(
        self,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
    where
        DB: sqlx::Database,
        Id: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Ids: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Option<Time>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        JsonText: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        // Each value bound as its column type, on either backend.
        self.args
            .into_iter()
            .fold(
                sqlx::query(sqlx::AssertSqlSafe(self.sql)),
                |query, arg| match arg {
                    Arg::Id(v) => query.bind(v),
                    Arg::Ids(v) => query.bind(v),
                    Arg::Time(v) => query.bind(v),
                    Arg::Text(v) => query.bind(v),
                    Arg::Int(v) => query.bind(v),
                    Arg::Float(v) => query.bind(v),
                    Arg::Json(v) => query.bind(v),
                },
            )
    }

    /// The statement's text for a place after `args.len()` values bound
    /// before it (a part of a PostgreSQL statement): its `$n` become `$(n + that)`. Its values are added to
    /// `args`.
    pub(crate) fn renumbered(self, args: &mut Vec<Arg>) -> String {
        let offset = args.len();
        let mut sql = String::with_capacity(self.sql.len() + 16);
        let mut rest = self.sql.as_str();
        while let Some(at) = rest.find('$') {
            sql.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest[..digits].parse::<usize>() {
                Ok(n) => sql.push_str(&(n + offset).to_string()),
                Err(_) => sql.push_str(&rest[..digits]),
            }
            rest = &rest[digits..];
        }
        sql.push_str(rest);
        args.extend(self.args);
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_after_others_has_its_parameters_renumbered() {
        let mut args = vec![Arg::Int(1), Arg::Int(2)];
        let stmt = Stmt {
            sql: "UPDATE t SET a = $1, b = $2 WHERE c = $1 AND d = $10".to_owned(),
            args: vec![Arg::Int(3), Arg::Int(4)],
        };
        let sql = stmt.renumbered(&mut args);
        assert_eq!(sql, "UPDATE t SET a = $3, b = $4 WHERE c = $3 AND d = $12");
        assert_eq!(args.len(), 4);
    }
}
