//! Group commit for SQLite's one writer.
//!
//! SQLite takes one write transaction at a time. When every caller opened
//! its own, each held the write connection across several awaits (one per
//! statement) while the runtime's other tasks ran, so the connection sat
//! idle between statements and trips queued behind it. Here one task owns
//! the writes: it takes the jobs waiting for it, runs them one after the
//! other in a single transaction, so that a job that fails leaves no trace
//! and does not fail the others, commits once, and only then answers each
//! caller. A caller still sees its own writes committed (or not at all)
//! when its call returns.
//!
//! A job that fails must leave no trace. A savepoint around each job would
//! ensure it, but SQLite copies every page a savepoint's job changes into a
//! sub-journal first (a temporary file past 64 KiB): 7% of the server's CPU
//! under load, for jobs that almost never fail. So the native jobs run
//! without savepoints. A job that fails before it has written anything (a
//! stale append or a fenced write is refused by its first write, and SQLite
//! undoes a refused statement by itself) has left nothing to undo: the
//! connection's count of changed rows says so. Only when one fails after
//! writing is the transaction rolled back and the batch's native jobs run
//! again, each inside a savepoint; a native job is therefore a function of
//! the database that may run twice (the result of its last run counts).
//! The sqlx jobs, rare, always run in savepoints.
//!
//! Two kinds of job share a batch. The hot writes (appends, claims) are
//! *native* jobs: they run on the write connection's SQLite handle itself,
//! on this thread, with cached prepared statements (`native.rs` says why).
//! The others are sqlx jobs, each statement a round trip to sqlx's worker
//! thread. A batch runs its native jobs first, then its sqlx jobs, in one
//! transaction: the callers of one batch all wait for its commit, so their
//! order within it is free.
//!
//! A batch that fails as a whole (the transaction cannot begin or commit,
//! a savepoint statement fails, a job panics) keeps none of its writes;
//! every caller in it gets an I/O error, which the store reports as
//! transient: nothing was written, so trying again is safe.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use futures_util::FutureExt;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// At most this many jobs share a transaction (bounds a commit's latency).
const MAX_BATCH: usize = 64;

/// At most this many batches in a row keep the write connection (and the
/// native lane's prepared statements) while jobs keep waiting, before it
/// goes back to the pool for the store's other uses of it.
const HOLD_BATCHES: usize = 16;

type BoxFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// Answers a job's caller once the batch's fate is known: `None` when it
/// committed (the job's own result is sent), else why it did not.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// What a job did: whether its writes are to be kept, and how to answer.
struct Ran {
    ok: bool,
    deliver: Deliver,
}

/// A job with its result type erased: run it, or answer that its batch
/// failed before it could run.
trait Erased: Send {
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Ran>;
    fn abandon(self: Box<Self>, why: &str);
}

struct Typed<F, T, E> {
    job: F,
    reply: oneshot::Sender<Result<T, E>>,
}

/// The error a caller sees when its batch was not committed.
fn batch_failed<E: From<sqlx::Error>>(why: &str) -> E {
    E::from(sqlx::Error::Io(std::io::Error::other(format!(
        "the group commit failed, nothing of this write was kept: {why}"
    ))))
}

impl<F, T, E> Erased for Typed<F, T, E>
where
    T: Send + 'static,
    E: From<sqlx::Error> + Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
{
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Ran> {
        let Typed { job, reply } = *self;
        Box::pin(async move { ran(job(conn).await, reply) })
    }

    fn abandon(self: Box<Self>, why: &str) {
        let _ = self.reply.send(Err(batch_failed(why)));
    }
}

/// What a job did, and how to answer its caller once the batch's fate is
/// known: its own result when the batch committed, else why not.
fn ran<T, E>(result: Result<T, E>, reply: oneshot::Sender<Result<T, E>>) -> Ran
where
    T: Send + 'static,
    E: From<sqlx::Error> + Send + 'static,
{
    let ok = result.is_ok();
    let deliver: Deliver = Box::new(move |failed| {
        let answer = match failed {
            None => result,
            Some(why) => Err(batch_failed(why)),
        };
        let _ = reply.send(answer);
    });
    Ran { ok, deliver }
}

/// A job run on the connection's SQLite handle (see the module's doc).
trait NativeJob: Send {
    /// Runs the job; whether its writes are to be kept. It may run again
    /// (the batch replayed after another job's failure): its last run's
    /// result is the one answered.
    fn run(&mut self, db: &rusqlite::Connection) -> bool;
    /// Answers the caller once the batch's fate is known: the last run's
    /// result when the batch committed (`None`), else why it did not.
    fn finish(self: Box<Self>, failed: Option<&str>);
}

struct Native<F, T, E> {
    job: F,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> NativeJob for Native<F, T, E>
where
    T: Send + 'static,
    E: From<sqlx::Error> + Send + 'static,
    F: FnMut(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
{
    fn run(&mut self, db: &rusqlite::Connection) -> bool {
        let result = (self.job)(db);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, failed: Option<&str>) {
        let answer = match (failed, self.result) {
            (None, Some(result)) => result,
            (Some(why), _) => Err(batch_failed(why)),
            (None, None) => Err(batch_failed("the job did not run")),
        };
        let _ = self.reply.send(answer);
    }
}

enum Job {
    Sqlx(Box<dyn Erased>),
    Native(Box<dyn NativeJob>),
}

impl Job {
    fn abandon(self, why: &str) {
        match self {
            Job::Sqlx(job) => job.abandon(why),
            Job::Native(job) => job.finish(Some(why)),
        }
    }
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
    pub(crate) fn start(pool: SqlitePool) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::channel(MAX_BATCH * 16);
        // Its own thread: a batch awaits the database once per statement,
        // and on the shared runtime every one of those wake-ups would wait
        // its turn behind the request handlers, stretching each commit.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(serve(pool, rx)))?;
        Ok(Self { jobs })
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
        self.submit(Job::Sqlx(Box::new(Typed { job, reply })), answer)
            .await
    }

    /// Runs `job` on the write connection's SQLite handle, on the writer's
    /// thread, inside its next transaction; otherwise as [`Writer::run`].
    /// `job` must not block on anything but the database, and may run
    /// twice: the second time after its first run's writes (and all of its
    /// batch's) were rolled back (the module's doc says when).
    pub(crate) async fn run_native<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
        F: FnMut(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Native {
            job,
            result: None,
            reply,
        };
        self.submit(Job::Native(Box::new(job)), answer).await
    }

    async fn submit<T, E: From<sqlx::Error>>(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<T, E>>,
    ) -> Result<T, E> {
        let gone = || E::from(sqlx::Error::PoolClosed);
        self.jobs.send(job).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The native lane's view of the write connection's handle, with its
/// cache of prepared statements. It lives while the writer holds the
/// connection (up to [`HOLD_BATCHES`] batches in a row), so that a hot
/// statement is prepared once for many batches rather than once a batch
/// (parsing SQL was 6.6% of the server's CPU under load). It must be gone
/// before the connection goes back to the pool: sqlx closes a connection
/// with `sqlite3_close`, which refuses (and sqlx panics) while any
/// statement is left unfinalised.
struct Lane(Option<rusqlite::Connection>);

impl Lane {
    /// Finalises the cached statements, the handle locked meanwhile.
    async fn close(&mut self, conn: &mut SqliteConnection) {
        if let Some(db) = self.0.take() {
            match conn.lock_handle().await {
                Ok(locked) => {
                    drop(db);
                    drop(locked);
                }
                // Not locked: the statements still must go first.
                Err(_) => drop(db),
            }
        }
    }
}

async fn serve(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // A batch left over from the last hold runs first, without waiting.
    while !batch.is_empty() || rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                let why = e.to_string();
                tracing::warn!(error = %why, jobs = batch.len(), "a group commit could not begin");
                batch.drain(..).for_each(|job| job.abandon(&why));
                continue;
            }
        };
        let mut lane = Lane(None);
        for _ in 0..HOLD_BATCHES {
            let started = std::time::Instant::now();
            let jobs = batch.len();
            let usable = run_batch(&mut conn, &mut lane, std::mem::take(&mut batch)).await;
            tracing::debug!(
                jobs,
                waiting = rx.len(),
                micros = started.elapsed().as_micros() as u64,
                "group commit"
            );
            if !usable {
                break;
            }
            // The connection is kept only for jobs already waiting.
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            if batch.is_empty() {
                break;
            }
        }
        lane.close(&mut conn).await;
    }
}

/// Runs `jobs` in one transaction — the native ones first, on the
/// connection's handle, then the sqlx ones — then answers every caller.
/// `false` when the connection is to be closed (a failed rollback left it
/// unusable): the lane's statements are gone already.
async fn run_batch(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Sqlite>,
    lane: &mut Lane,
    jobs: Vec<Job>,
) -> bool {
    let mut native = Vec::new();
    let mut queued = Vec::new();
    for job in jobs {
        match job {
            Job::Native(job) => native.push(job),
            Job::Sqlx(job) => queued.push(job),
        }
    }
    let mut queued = queued.into_iter();
    let mut ran: Vec<Deliver> = Vec::with_capacity(queued.len());
    let mut begun = false;
    let mut failure = run_native(conn, lane, &mut native, &mut begun).await;
    if failure.is_none() {
        failure = run_queued(conn, &mut queued, &mut ran).await;
    }
    if failure.is_none() {
        failure = sqlx::raw_sql("COMMIT")
            .execute(&mut **conn)
            .await
            .err()
            .map(|e| e.to_string());
    }
    let mut usable = true;
    match failure {
        None => {
            native.into_iter().for_each(|job| job.finish(None));
            ran.into_iter().for_each(|deliver| deliver(None));
        }
        Some(why) => {
            if begun {
                // Nothing of the batch is kept; a failed rollback leaves
                // the connection unusable, so it is not returned to the pool.
                if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut **conn).await {
                    tracing::warn!(error = %e, "a failed group commit could not be rolled back");
                    lane.close(conn).await;
                    conn.close_on_drop();
                    usable = false;
                }
            }
            tracing::warn!(error = %why, jobs = native.len() + ran.len() + queued.len(), "a group commit failed");
            native.into_iter().for_each(|job| job.finish(Some(&why)));
            ran.into_iter().for_each(|deliver| deliver(Some(&why)));
            queued.for_each(|job| job.abandon(&why));
        }
    }
    usable
}

/// Begins the batch's transaction and runs the native jobs on the
/// connection's handle: without savepoints, and only when one of them
/// failed after writing, again from the start, each in a savepoint (the
/// module's doc). `None` when all went to plan (a job that failed left no
/// writes); else why the batch fails. `begun`: the transaction is open.
async fn run_native(
    conn: &mut SqliteConnection,
    lane: &mut Lane,
    jobs: &mut [Box<dyn NativeJob>],
    begun: &mut bool,
) -> Option<String> {
    let mut locked = match conn.lock_handle().await {
        Ok(locked) => locked,
        Err(e) => return Some(e.to_string()),
    };
    let db = match &mut lane.0 {
        Some(db) => db,
        None => {
            // SAFETY: the handle is sqlx's open connection, which the
            // writer holds (a `PoolConnection`) for as long as the lane
            // lives, and which is used here only while `locked` is held.
            // `from_handle` does not take ownership: dropping `db`
            // finalises its prepared statements and leaves the connection
            // open; the lane is dropped before the connection goes back
            // to the pool or is closed (`Lane::close`).
            let db =
                match unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) }
                {
                    Ok(db) => db,
                    Err(e) => return Some(e.to_string()),
                };
            db.set_prepared_statement_cache_capacity(crate::native::STATEMENT_CACHE);
            lane.0.insert(db)
        }
    };
    // IMMEDIATE takes the write lock up front: another process's writer
    // waits in the busy handler instead of failing to upgrade a read lock.
    if let Err(e) = db.execute_batch("BEGIN IMMEDIATE") {
        return Some(e.to_string());
    }
    *begun = true;
    match run_unguarded(db, jobs) {
        Ok(true) => return None,
        Ok(false) => {}
        Err(why) => return Some(why),
    }
    tracing::debug!(
        jobs = jobs.len(),
        "a write job failed after writing; the batch runs again in savepoints"
    );
    if let Err(e) = db.execute_batch("ROLLBACK; BEGIN IMMEDIATE") {
        return Some(e.to_string());
    }
    run_in_savepoints(db, jobs)
}

/// Runs the native jobs one after the other with nothing around them:
/// `Ok(true)` when every job either succeeded or failed without having
/// written (the connection's count of changed rows did not move; SQLite
/// undoes a statement it refuses), `Ok(false)` as soon as one failed after
/// writing. `Err` fails the batch: a job panicked, or SQLite rolled the
/// transaction back itself (an I/O error, a full disk).
fn run_unguarded(
    db: &rusqlite::Connection,
    jobs: &mut [Box<dyn NativeJob>],
) -> Result<bool, String> {
    for job in jobs.iter_mut() {
        let before = db.total_changes();
        // A panicking job fails its batch, not the writer.
        let ok = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(db)))
            .map_err(|_| "a write job panicked".to_string())?;
        if db.is_autocommit() {
            return Err("the transaction ended under a write job".to_string());
        }
        if !ok && db.total_changes() != before {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Runs the native jobs each in a savepoint, released when it succeeded
/// and rolled back to when it failed. `None` when all went to plan.
fn run_in_savepoints(db: &rusqlite::Connection, jobs: &mut [Box<dyn NativeJob>]) -> Option<String> {
    let boundary =
        |sql: &str| -> rusqlite::Result<()> { db.prepare_cached(sql)?.execute([]).map(drop) };
    for job in jobs.iter_mut() {
        if let Err(e) = boundary("SAVEPOINT job") {
            return Some(e.to_string());
        }
        let ok = match std::panic::catch_unwind(AssertUnwindSafe(|| job.run(db))) {
            Ok(ok) => ok,
            Err(_) => return Some("a write job panicked".to_string()),
        };
        let close = if ok {
            boundary("RELEASE job")
        } else {
            boundary("ROLLBACK TO job").and_then(|()| boundary("RELEASE job"))
        };
        if let Err(e) = close {
            return Some(e.to_string());
        }
    }
    None
}

/// Runs the sqlx jobs, each in a savepoint, in the open transaction.
async fn run_queued(
    conn: &mut SqliteConnection,
    jobs: &mut std::vec::IntoIter<Box<dyn Erased>>,
    ran: &mut Vec<Deliver>,
) -> Option<String> {
    // One statement between two jobs ends the last one's savepoint (its
    // writes kept or undone) and opens the next one's.
    let mut boundary = "SAVEPOINT job";
    let mut last_ok = true;
    let mut any = false;
    for job in jobs.by_ref() {
        if let Err(e) = sqlx::raw_sql(boundary).execute(&mut *conn).await {
            let why = e.to_string();
            job.abandon(&why);
            return Some(why);
        }
        any = true;
        // A panicking job fails its batch, not the writer (and with it
        // every later write).
        match AssertUnwindSafe(job.run(&mut *conn)).catch_unwind().await {
            Ok(done) => {
                last_ok = done.ok;
                boundary = if done.ok {
                    "RELEASE job; SAVEPOINT job"
                } else {
                    "ROLLBACK TO job; RELEASE job; SAVEPOINT job"
                };
                ran.push(done.deliver);
            }
            Err(_) => return Some("a write job panicked".to_string()),
        }
    }
    // COMMIT keeps the open savepoint's writes: only a failed last job
    // needs undoing first.
    if !any || last_ok {
        return None;
    }
    sqlx::raw_sql("ROLLBACK TO job")
        .execute(&mut *conn)
        .await
        .err()
        .map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    /// A one-connection in-memory database with a table `t (n)`, and a
    /// writer on it.
    async fn table_and_writer() -> (SqlitePool, Writer) {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::raw_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        let writer = Writer::start(pool.clone()).unwrap();
        (pool, writer)
    }

    #[tokio::test]
    async fn a_failing_job_loses_only_its_own_writes_in_a_shared_commit() {
        let (pool, writer) = table_and_writer().await;
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

    #[tokio::test]
    async fn native_and_sqlx_jobs_share_a_commit_and_fail_alone() {
        let (pool, writer) = table_and_writer().await;
        // Hold the connection so that every job lands in one batch.
        let held = pool.acquire().await.unwrap();
        let mut calls = tokio::task::JoinSet::new();
        for n in 0..30_i64 {
            let writer = writer.clone();
            calls.spawn(async move {
                let result: Result<i64, sqlx::Error> = if n % 3 == 0 {
                    insert(writer, n, false).await
                } else {
                    writer
                        .run_native(move |db| {
                            db.prepare_cached("INSERT INTO t (n) VALUES (?1)")
                                .and_then(|mut s| s.execute([n]))
                                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                            // A second insert of the same key fails after
                            // the first wrote: the job's savepoint undoes both.
                            if n % 3 == 2 {
                                db.execute("INSERT INTO t (n) VALUES (?1)", [n])
                                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                            }
                            Ok(n)
                        })
                        .await
                };
                (n, result.is_ok())
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(held);
        while let Some(done) = calls.join_next().await {
            let (n, ok) = done.unwrap();
            assert_eq!(ok, n % 3 != 2, "job {n}");
        }
        let kept: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(kept, (0..30).filter(|n| n % 3 != 2).collect::<Vec<_>>());
        // The connection went back to the pool outside any transaction.
        sqlx::query("BEGIN IMMEDIATE; ROLLBACK")
            .execute(&pool)
            .await
            .unwrap();
    }

    /// Native jobs in one batch, each counting its runs: those that fail
    /// at their first write (a key taken already: SQLite refuses the
    /// statement and undoes it) leave nothing behind and make no one run
    /// again; one that fails after writing makes the whole batch run again,
    /// in savepoints. Either way each caller gets its own outcome.
    async fn batch_of_native_jobs(one_fails_late: bool) -> Vec<usize> {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (pool, writer) = table_and_writer().await;
        sqlx::query("INSERT INTO t (n) VALUES (100)")
            .execute(&pool)
            .await
            .unwrap();
        let held = pool.acquire().await.unwrap();
        let runs: Vec<Arc<AtomicUsize>> = (0..12).map(|_| Arc::default()).collect();
        let mut calls = tokio::task::JoinSet::new();
        for n in 0..12_i64 {
            let writer = writer.clone();
            let counted = runs[n as usize].clone();
            calls.spawn(async move {
                let result: Result<i64, sqlx::Error> = writer
                    .run_native(move |db| {
                        counted.fetch_add(1, Ordering::SeqCst);
                        let protocol = |e: rusqlite::Error| sqlx::Error::Protocol(e.to_string());
                        // Every third job's first write is refused.
                        let key = if n % 3 == 0 { 100 } else { n };
                        db.execute("INSERT INTO t (n) VALUES (?1)", [key])
                            .map_err(protocol)?;
                        if one_fails_late && n == 4 {
                            db.execute("INSERT INTO t (n) VALUES (?1)", [n])
                                .map_err(protocol)?;
                        }
                        Ok(n)
                    })
                    .await;
                (n, result.is_ok())
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(held);
        let fails = |n: i64| n % 3 == 0 || (one_fails_late && n == 4);
        while let Some(done) = calls.join_next().await {
            let (n, ok) = done.unwrap();
            assert_eq!(ok, !fails(n), "job {n}");
        }
        let kept: Vec<i64> = sqlx::query_scalar("SELECT n FROM t WHERE n < 100 ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(kept, (0..12).filter(|n| !fails(*n)).collect::<Vec<_>>());
        runs.iter().map(|r| r.load(Ordering::SeqCst)).collect()
    }

    #[tokio::test]
    async fn native_jobs_refused_at_their_first_write_run_once_without_savepoints() {
        assert_eq!(batch_of_native_jobs(false).await, vec![1; 12]);
    }

    #[tokio::test]
    async fn a_native_job_failing_after_a_write_runs_its_batch_again_in_savepoints() {
        let runs = batch_of_native_jobs(true).await;
        // The first pass stops at the late failure: the jobs before it and
        // itself run twice, those after it once.
        assert_eq!(runs[4], 2, "{runs:?}");
        assert!(runs.iter().all(|r| (1..=2).contains(r)), "{runs:?}");
    }

    async fn insert(writer: Writer, n: i64, panics: bool) -> Result<i64, sqlx::Error> {
        writer
            .run(move |tx| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n) VALUES (?)")
                        .bind(n)
                        .execute(&mut *tx)
                        .await?;
                    assert!(!panics, "job {n} panics (on purpose)");
                    Ok(n)
                })
            })
            .await
    }

    async fn native(writer: Writer, n: i64, panics: bool) -> Result<i64, sqlx::Error> {
        writer
            .run_native(move |db| {
                db.execute("INSERT INTO t (n) VALUES (?1)", [n])
                    .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
                assert!(!panics, "job {n} panics (on purpose)");
                Ok(n)
            })
            .await
    }

    /// Three jobs in one batch, the second panicking (a native job when
    /// `native_panics`, else a sqlx one), then a fourth: the batch fails,
    /// each caller is told the truth, and the writer still serves.
    async fn a_panicking_job_fails_its_batch(native_panics: bool) {
        let (pool, writer) = table_and_writer().await;
        let held = pool.acquire().await.unwrap();
        let (w1, w2, w3) = (writer.clone(), writer.clone(), writer.clone());
        let batch = tokio::spawn(async move {
            let second = async move {
                if native_panics {
                    native(w2, 2, true).await
                } else {
                    insert(w2, 2, true).await
                }
            };
            tokio::join!(native(w1, 1, false), second, insert(w3, 3, false))
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(held);
        let (one, two, three) = batch.await.unwrap();
        assert!(two.is_err(), "the panicking job reported success");
        // The writer still serves.
        insert(writer.clone(), 4, false).await.unwrap();
        native(writer.clone(), 5, false).await.unwrap();
        let kept: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(!kept.contains(&2), "the panicking job's write was kept");
        // Each caller was told the truth: success exactly when kept.
        assert_eq!(one.is_ok(), kept.contains(&1));
        assert_eq!(three.is_ok(), kept.contains(&3));
        assert!(kept.contains(&4) && kept.contains(&5));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_its_batch_and_the_writer_goes_on() {
        a_panicking_job_fails_its_batch(false).await;
    }

    #[tokio::test]
    async fn a_panicking_native_job_fails_its_batch_and_the_writer_goes_on() {
        a_panicking_job_fails_its_batch(true).await;
    }
}
