//! The shared agent registry (`agent_instances`, migration 0012): each
//! process replaces its own rows every heartbeat and `/api/agents`
//! reads every process's. [`Store`] implements the engine's
//! [`SharedRegistry`] port.
//!
//! The dialects differ in the clock: PostgreSQL stamps and ages the rows
//! with the database's `now()`, so that processes on machines whose clocks
//! disagree still see each other's true silence (as `runtime_nodes` does);
//! SQLite, used by one process, takes the runtime's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use wayfare_domain::trip::AgentInfo;
use wayfare_engine::runtime::{ProcessStamp, SharedRegistry, Stamp, StampedInstance};
use wayfare_engine::state::PortError;

use crate::codec::{Int, Time, to_i64};
use crate::db::{Arg, Stmt, in_transaction, on_pool};
use crate::{Store, StoreError};

/// An `agent_instances` row, with the clock it is aged by.
#[derive(sqlx::FromRow)]
struct InstanceRow {
    node_id: String,
    agent_id: String,
    agent_type: String,
    host: String,
    pid: Int,
    status: String,
    current_load: Int,
    max_capacity: Int,
    response_time_avg_ms: f64,
    cost_per_request: f64,
    successes: Int,
    failures: Int,
    breaker: String,
    seen_at: Time,
    db_now: Time,
}

fn narrow<T: TryFrom<i64>>(column: &str, n: Int) -> Result<T, StoreError> {
    T::try_from(n.0).map_err(|_| StoreError::Corrupt(format!("agent_instances.{column}: {}", n.0)))
}

impl TryFrom<InstanceRow> for StampedInstance {
    type Error = StoreError;

    fn try_from(row: InstanceRow) -> Result<Self, StoreError> {
        Ok(StampedInstance {
            process: ProcessStamp {
                node_id: row.node_id,
                host: row.host,
                pid: narrow("pid", row.pid)?,
            },
            heartbeat_age: (row.db_now.0 - row.seen_at.0).to_std().unwrap_or_default(),
            agent: AgentInfo {
                capabilities: vec![row.agent_type.clone()],
                agent_id: row.agent_id,
                agent_type: row.agent_type,
                status: row.status,
                current_load: narrow("current_load", row.current_load)?,
                max_capacity: narrow("max_capacity", row.max_capacity)?,
                response_time_avg_ms: row.response_time_avg_ms,
                cost_per_request: row.cost_per_request,
                successes: narrow("successes", row.successes)?,
                failures: narrow("failures", row.failures)?,
                breaker: row.breaker,
                process: None,
                host: None,
                pid: None,
                heartbeat_age_ms: None,
            },
        })
    }
}

/// `d` before `t`, or the earliest time there is.
fn before(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

const COLUMNS: &str = "node_id, agent_id, agent_type, host, pid, status, current_load, \
                       max_capacity, response_time_avg_ms, cost_per_request, successes, failures, \
                       breaker, seen_at";

impl Store {
    /// The statements of one stamp: forget the silent processes' rows,
    /// replace this process's.
    fn stamp_stmts(&self, stamp: Stamp<'_>) -> Result<Vec<Stmt>, StoreError> {
        let Stamp {
            process,
            instances,
            now,
            forget_after,
        } = stamp;
        let postgres = matches!(self, Store::Postgres(_, _));
        let forget = if postgres {
            Stmt {
                sql: "DELETE FROM agent_instances
                      WHERE seen_at < now() - make_interval(secs => $1)"
                    .to_owned(),
                args: vec![Arg::Float(forget_after.as_secs_f64())],
            }
        } else {
            Stmt {
                sql: "DELETE FROM agent_instances WHERE seen_at < $1".to_owned(),
                args: vec![Arg::Time(Some(Time(before(now, forget_after))))],
            }
        };
        let mine = Stmt {
            sql: "DELETE FROM agent_instances WHERE node_id = $1".to_owned(),
            args: vec![Arg::Text(Some(process.node_id.clone()))],
        };
        let mut stmts = vec![forget, mine];
        if instances.is_empty() {
            return Ok(stmts);
        }
        let mut args = vec![
            Arg::Text(Some(process.node_id.clone())),
            Arg::Text(Some(process.host.clone())),
            Arg::Int(i64::from(process.pid)),
        ];
        let seen_at = if postgres {
            "now()".to_owned()
        } else {
            args.push(Arg::Time(Some(Time(now))));
            format!("${}", args.len())
        };
        let mut rows = Vec::with_capacity(instances.len());
        for a in instances {
            let n = args.len();
            let p: Vec<String> = (1..=10).map(|i| format!("${}", n + i)).collect();
            rows.push(format!(
                "($1, {}, {}, $2, $3, {}, {}, {}, {}, {}, {}, {}, {}, {seen_at})",
                p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]
            ));
            args.extend([
                Arg::Text(Some(a.agent_id.clone())),
                Arg::Text(Some(a.agent_type.clone())),
                Arg::Text(Some(a.status.clone())),
                Arg::Int(i64::from(a.current_load)),
                Arg::Int(i64::from(a.max_capacity)),
                Arg::Float(a.response_time_avg_ms),
                Arg::Float(a.cost_per_request),
                Arg::Int(to_i64(a.successes)?),
                Arg::Int(to_i64(a.failures)?),
                Arg::Text(Some(a.breaker.clone())),
            ]);
        }
        stmts.push(Stmt {
            sql: format!(
                "INSERT INTO agent_instances ({COLUMNS}) VALUES {}",
                rows.join(", ")
            ),
            args,
        });
        Ok(stmts)
    }

    async fn stamp_sql(&self, stamp: Stamp<'_>) -> Result<(), StoreError> {
        let stmts = self.stamp_stmts(stamp)?;
        in_transaction!(self, |conn| async move {
            for stmt in stmts {
                stmt.query().execute(&mut *conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        })
        .map_err(StoreError::from)
    }

    async fn stamped_sql(&self, now: DateTime<Utc>) -> Result<Vec<StampedInstance>, StoreError> {
        const ORDER: &str = "ORDER BY host, node_id, agent_type, agent_id";
        let rows: Vec<InstanceRow> = match self {
            Store::Sqlite { read, .. } => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS}, $1 AS db_now FROM agent_instances {ORDER}"
                )))
                .bind(Time(now))
                .fetch_all(read)
                .await?
            }
            Store::Postgres(pool, _) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS}, now() AS db_now FROM agent_instances {ORDER}"
                )))
                .fetch_all(pool)
                .await?
            }
        };
        rows.into_iter().map(StampedInstance::try_from).collect()
    }

    async fn unstamp_sql(&self, node_id: &str) -> Result<(), StoreError> {
        on_pool!(self, write, |pool| sqlx::query(
            "DELETE FROM agent_instances WHERE node_id = $1"
        )
        .bind(node_id)
        .execute(pool)
        .await
        .map(drop)
        .map_err(StoreError::from))
    }
}

impl SharedRegistry for Store {
    async fn stamp_instances(&self, stamp: Stamp<'_>) -> Result<(), PortError> {
        Ok(self.stamp_sql(stamp).await?)
    }

    async fn stamped_instances(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<StampedInstance>, PortError> {
        Ok(self.stamped_sql(now).await?)
    }

    async fn unstamp(&self, node_id: &str) -> Result<(), PortError> {
        Ok(self.unstamp_sql(node_id).await?)
    }
}
