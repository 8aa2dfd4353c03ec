//! Group commit for SQLite's one writer.
//!
//! SQLite takes one write transaction at a time. When every caller opened
//! its own, each held the write connection across several awaits (one per
//! statement) while the runtime's other tasks ran, so the connection sat
//! idle between statements and trips queued behind it. Here one task owns
//! the writes: it takes the jobs waiting for it, runs them one after the
//! other in a single transaction — each inside a savepoint, so that a job
//! that fails leaves no trace and does not fail the others — commits once,
//! and only then answers each caller. A caller still sees its own writes
//! committed (or not at all) when its call returns.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// At most this many jobs share a transaction (bounds a commit's latency).
const MAX_BATCH: usize = 64;

type Erased = Box<dyn Any + Send>;
type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type RunFn = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Ran> + Send>;

/// What a job did: whether its writes are to be kept, and its result.
struct Ran {
    ok: bool,
    result: Erased,
}

struct Job {
    run: RunFn,
    /// The job's result once committed; `Err` when the batch's
    /// transaction failed (its writes are gone).
    reply: oneshot::Sender<Result<Erased, String>>,
}

/// The handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer on `pool` (SQLite's single write connection). It
    /// takes the connection for each batch only, so other users of the
    /// pool (imports, migrations) still get their turn. It stops when
    /// every handle is dropped.
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (jobs, rx) = mpsc::channel(MAX_BATCH * 16);
        tokio::spawn(serve(pool, rx));
        Self { jobs }
    }

    /// Runs `job` inside the writer's next transaction. `Ok` from the job
    /// keeps its writes; `Err` rolls them back (the rest of the batch is
    /// kept). Returns once the transaction is committed.
    pub(crate) async fn run<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: RunFn = Box::new(move |conn| {
            Box::pin(async move {
                let result = job(conn).await;
                Ran {
                    ok: result.is_ok(),
                    result: Box::new(result),
                }
            })
        });
        let gone = || E::from(sqlx::Error::PoolClosed);
        self.jobs
            .send(Job { run, reply })
            .await
            .map_err(|_| gone())?;
        match answer.await.map_err(|_| gone())? {
            Ok(result) => match result.downcast::<Result<T, E>>() {
                Ok(result) => *result,
                Err(_) => Err(E::from(sqlx::Error::Protocol(
                    "the writer answered with another job's result".into(),
                ))),
            },
            Err(message) => Err(E::from(sqlx::Error::Protocol(message))),
        }
    }
}

async fn serve(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let (results, replies): (Vec<Erased>, Vec<_>) = match run_batch(&pool, jobs).await {
            Ok(done) => done.into_iter().unzip(),
            Err((e, replies)) => {
                tracing::warn!(error = %e, jobs = replies.len(), "a group commit failed");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
                continue;
            }
        };
        for (result, reply) in results.into_iter().zip(replies) {
            let _ = reply.send(Ok(result));
        }
    }
}

type Reply = oneshot::Sender<Result<Erased, String>>;

/// Runs `jobs` in one transaction; on failure, hands back the replies of
/// every job (none of their writes were kept).
async fn run_batch(
    pool: &SqlitePool,
    jobs: Vec<Job>,
) -> Result<Vec<(Erased, Reply)>, (sqlx::Error, Vec<Reply>)> {
    // IMMEDIATE takes the write lock up front: another process's writer
    // waits in the busy handler instead of failing to upgrade a read lock.
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return Err((e, jobs.into_iter().map(|j| j.reply).collect())),
    };
    let mut done = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        let step = async {
            sqlx::raw_sql("SAVEPOINT job").execute(&mut *tx).await?;
            let ran = (job.run)(&mut tx).await;
            let end = if ran.ok {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            };
            sqlx::raw_sql(end).execute(&mut *tx).await?;
            Ok::<_, sqlx::Error>(ran.result)
        };
        match step.await {
            Ok(result) => done.push((result, job.reply)),
            Err(e) => {
                let replies = done
                    .into_iter()
                    .map(|(_, r)| r)
                    .chain(std::iter::once(job.reply))
                    .chain(jobs.map(|j| j.reply))
                    .collect();
                return Err((e, replies));
            }
        }
    }
    match tx.commit().await {
        Ok(()) => Ok(done),
        Err(e) => Err((e, done.into_iter().map(|(_, r)| r).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    #[tokio::test]
    async fn a_failing_job_loses_only_its_own_writes_in_a_shared_commit() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        let writer = Writer::start(pool.clone());
        // Hold the connection so that every job queues up and the writer
        // takes them as one batch.
        let held = pool.acquire().await.unwrap();
        let mut calls = tokio::task::JoinSet::new();
        for n in 0..20_i64 {
            let writer = writer.clone();
            calls.spawn(async move {
                let result: Result<i64, sqlx::Error> = writer
                    .run(move |tx| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (n) VALUES (?)")
                                .bind(n)
                                .execute(&mut *tx)
                                .await?;
                            if n % 2 == 1 {
                                return Err(sqlx::Error::RowNotFound);
                            }
                            Ok(n)
                        })
                    })
                    .await;
                (n, result.is_ok())
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(held);
        while let Some(done) = calls.join_next().await {
            let (n, ok) = done.unwrap();
            assert_eq!(ok, n % 2 == 0, "job {n}");
        }
        let kept: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(kept, (0..20).filter(|n| n % 2 == 0).collect::<Vec<_>>());
    }
}
