//! The state consistency score on real databases (SQLite and PostgreSQL):
//! trips planned through the runtime on the store agree with their logs;
//! a `trip_state` row, an `agent_tasks` row and an `agent_results` row
//! corrupted with SQL make the score drop and are named in the findings
//! (and in `/metrics` and `GET /api/consistency`); the repair puts the rows
//! back to what the log says and the next audit is at 100%. `wayfare
//! check` finds the same on a database and exits non-zero until
//! `--repair`. An audit run again and again while many trips plan reports
//! no disagreement.
//!
//! The runtime runs on a manual clock: the auditor compares only trips
//! whose log has been still for its quiet period, and the tests move the
//! clock past it instead of sleeping.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use wayfare_domain::overrides::TripOverrides;
use wayfare_domain::trip::TripStatus;
use wayfare_engine::clock::ManualClock;
use wayfare_engine::ops::alerts::{AlertStatus, AlertsView, Level};
use wayfare_engine::ops::{Ops, OpsConfig};
use wayfare_engine::runtime::audit::ConsistencyReport;
use wayfare_engine::runtime::{Runtime, RuntimeConfig};
use wayfare_engine::state::{AuditStore, EventStore, TaskQueue, TaskStatus, TripId, TripState};
use wayfare_server::cli::leptos_options;
use wayfare_server::commands::open_catalog;
use wayfare_server::config::{Config, HttpSection, SecuritySection};
use wayfare_server::metrics::HttpMetrics;
use wayfare_server::web::{AppState, router_with};
use wayfare_store::{Backend, Store};

use support::TestDb;

const PLAN_WITHIN: Duration = Duration::from_secs(60);
/// Past the auditor's quiet period (5 s, or three heartbeats).
const QUIET: Duration = Duration::from_secs(6);

/// A query the demo catalog plans, made distinct by its budget (so that
/// the request cache does not serve it).
fn query(n: usize) -> String {
    format!(
        "Plan a 3-day trip from Seattle to Denver starting March 12th, 2027, budget ${} for 2 people.",
        2500 + 10 * n
    )
}

struct App {
    name: &'static str,
    store: Store,
    runtime: Arc<Runtime<Store>>,
    clock: ManualClock,
    /// The dashboard's and the alerts' state, sampled by the test.
    ops: Ops,
    router: Router,
    db: TestDb,
    _site: tempfile::TempDir,
}

impl App {
    /// The runtime on `db` with a manual clock at `start`; no background
    /// audit (the tests run them).
    async fn start(db: TestDb, clock: ManualClock) -> App {
        Self::start_with(db, clock, RuntimeConfig::default()).await
    }

    async fn start_with(db: TestDb, clock: ManualClock, mut config: RuntimeConfig) -> App {
        let store = Store::connect(&db.url).await.expect("open the database");
        let catalog = open_catalog(&store).await.expect("demo catalog");
        config.orchestrator.audit_interval_ms = 0;
        let runtime = Runtime::start(config, store.clone(), catalog, Arc::new(clock.clone()))
            .await
            .expect("start the runtime");
        let site = tempfile::tempdir().expect("tempdir");
        let web = Config {
            site_root: site.path().to_owned(),
            ..Config::default()
        };
        let ops = Ops::new(OpsConfig::default(), Arc::new(clock.clone()));
        let router = router_with(
            AppState {
                leptos_options: leptos_options(&web, web.listen),
                store: store.clone(),
                runtime: runtime.clone(),
                http_metrics: HttpMetrics::default(),
                ops: ops.clone(),
            },
            &HttpSection::default(),
            &SecuritySection::default(),
        );
        App {
            name: db.name,
            store,
            runtime,
            clock,
            ops,
            router,
            db,
            _site: site,
        }
    }

    async fn finish(self) {
        self.runtime.shutdown().await;
        self.store.close().await;
        self.db.drop_database().await;
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        let response = self
            .router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).expect("a request"))
            .await
            .expect("the router answers");
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("the body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn submit(&self, query: &str) -> TripId {
        let submitted = self
            .runtime
            .submit(query.to_string(), TripOverrides::default())
            .await
            .expect("submitted");
        submitted.trip_id.parse().expect("a trip id")
    }

    async fn wait_final(&self, trip: TripId) -> TripStatus {
        let deadline = Instant::now() + PLAN_WITHIN;
        loop {
            let status = self
                .runtime
                .status(&trip.to_string())
                .await
                .expect("status")
                .expect("the trip exists")
                .status;
            if status != TripStatus::Planning {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] trip {trip} still planning after {PLAN_WITHIN:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs one statement with the trip's id and a task's agent type
    /// (`?`/`$n` placeholders per backend).
    async fn corrupt(&self, sqlite: &str, postgres: &str, trip: TripId) {
        let url = &self.db.url;
        match self.store.backend() {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
                let done = sqlx::query(sqlx::AssertSqlSafe(sqlite.to_string()))
                    .bind(trip.to_string())
                    .execute(&pool)
                    .await
                    .expect("corrupt");
                assert!(done.rows_affected() > 0, "nothing corrupted: {sqlite}");
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let done = sqlx::query(sqlx::AssertSqlSafe(postgres.to_string()))
                    .bind(trip.as_uuid())
                    .execute(&pool)
                    .await
                    .expect("corrupt");
                assert!(done.rows_affected() > 0, "nothing corrupted: {postgres}");
                pool.close().await;
            }
        }
    }

    /// The trip's state as its log says (snapshot + events).
    async fn logged(&self, trip: TripId) -> TripState {
        self.store.load_state(trip).await.expect("the log")
    }
}

/// Backends: SQLite always, PostgreSQL (required under CI=true).
async fn backends() -> Vec<TestDb> {
    let dbs = TestDb::all().await;
    assert!(!dbs.is_empty());
    dbs
}

fn corrupted_status_sqlite() -> &'static str {
    "UPDATE trip_state SET status = 'failed' WHERE trip_id = ?"
}

fn corrupted_status_postgres() -> &'static str {
    "UPDATE trip_state SET status = 'failed' WHERE trip_id = $1"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_read_model_queue_row_and_result_lower_the_score_and_are_repaired() {
    for db in backends().await {
        let app = App::start(db, ManualClock::at_epoch()).await;
        let name = app.name;
        let mut trips = Vec::new();
        for n in 0..3 {
            trips.push(app.submit(&query(n)).await);
        }
        for trip in &trips {
            assert_eq!(app.wait_final(*trip).await, TripStatus::Ready, "[{name}]");
        }
        // The same request again: served from the request cache, its tasks
        // never queued — which is not a disagreement.
        let cached = app.submit(&query(0)).await;
        assert_eq!(app.wait_final(cached).await, TripStatus::Ready, "[{name}]");
        trips.push(cached);
        assert!(
            app.store.tasks_of(cached).await.expect("queue").is_empty(),
            "[{name}] the cached trip was queued"
        );

        // Nothing to compare while the trips are within the quiet period.
        let early = app.runtime.audit_now().await;
        assert_eq!(early.audited_trips, 0, "[{name}] {early:?}");
        assert_eq!(early.skipped_trips, 4, "[{name}] {early:?}");
        assert_eq!(early.score, 1.0);

        app.clock.advance(QUIET);
        let clean = app.runtime.audit_now().await;
        assert_eq!(
            (clean.audited_trips, clean.agreeing_trips),
            (4, 4),
            "[{name}] {:#?}",
            clean.findings
        );
        assert_eq!(clean.score, 1.0);

        // Corrupt one trip's read model, another's queue and result.
        let (a, b) = (trips[0], trips[1]);
        app.corrupt(corrupted_status_sqlite(), corrupted_status_postgres(), a)
            .await;
        app.corrupt(
            "UPDATE agent_tasks SET status = 'failed' WHERE trip_id = ? AND agent_type = 'budget'",
            "UPDATE agent_tasks SET status = 'failed' WHERE trip_id = $1 AND agent_type = 'budget'",
            b,
        )
        .await;
        app.corrupt(
            "UPDATE agent_results SET result = '{\"tampered\":true}', event_seq = NULL
             WHERE task_id IN (SELECT task_id FROM agent_tasks WHERE trip_id = ? AND agent_type = 'transport')",
            "UPDATE agent_results SET result = '{\"tampered\":true}'::jsonb, event_seq = NULL
             WHERE task_id IN (SELECT task_id FROM agent_tasks WHERE trip_id = $1 AND agent_type = 'transport')",
            b,
        )
        .await;

        // And a third's rows beyond reading: a read model that is not a
        // trip's state, a task status the queue does not know.
        let c = trips[2];
        app.corrupt(
            "UPDATE trip_state SET state = '{\"x\":1}' WHERE trip_id = ?",
            "UPDATE trip_state SET state = '{\"x\":1}'::jsonb WHERE trip_id = $1",
            c,
        )
        .await;
        app.corrupt(
            "UPDATE agent_tasks SET status = 'bogus' WHERE trip_id = ? AND agent_type = 'tips'",
            "UPDATE agent_tasks SET status = 'bogus' WHERE trip_id = $1 AND agent_type = 'tips'",
            c,
        )
        .await;

        let found = app.runtime.audit_now().await;
        assert_eq!(found.audited_trips, 4, "[{name}] {found:?}");
        assert_eq!(found.agreeing_trips, 1, "[{name}] {:#?}", found.findings);
        assert!(
            (found.score - 0.25).abs() < 1e-9,
            "[{name}] {}",
            found.score
        );
        assert_eq!(found.repaired_trips, 3, "[{name}]");
        let lines: Vec<String> = found.findings.iter().map(ToString::to_string).collect();
        let has = |trip: TripId, table: &str, words: &str| {
            found.findings.iter().any(|f| {
                f.trip_id == trip.to_string()
                    && f.table == table
                    && f.detail.contains(words)
                    && f.repaired
            })
        };
        assert!(
            has(a, "trip_state", "status 'failed', the log says 'ready'"),
            "[{name}] {lines:#?}"
        );
        assert!(
            has(
                b,
                "agent_tasks",
                "budget task 'failed', the log says 'completed'"
            ),
            "[{name}] {lines:#?}"
        );
        assert!(
            has(b, "agent_results", "transport task's result differs"),
            "[{name}] {lines:#?}"
        );
        assert!(
            has(c, "trip_state", "row cannot be read"),
            "[{name}] {lines:#?}"
        );
        assert!(
            has(c, "agent_tasks", "rows cannot be read"),
            "[{name}] {lines:#?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains(&cached.to_string())),
            "[{name}] an untouched trip was reported: {lines:#?}"
        );

        // The figures: in the metrics, `/metrics` and the API.
        let metrics = app.runtime.metrics().consistency;
        assert!((metrics.score - 0.25).abs() < 1e-9);
        assert_eq!(
            (metrics.audited_trips, metrics.agreeing_trips),
            (4, 1),
            "[{name}]"
        );
        assert_eq!(
            (metrics.disagreements_total, metrics.repairs_total),
            (3, 3),
            "[{name}]"
        );
        assert_eq!(metrics.findings.len(), found.findings.len());
        let (status, text) = app.get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        for line in [
            "wayfare_consistency_score 0.25",
            "wayfare_consistency_audited_trips 4",
            "wayfare_consistency_disagreements_total 3",
            "wayfare_consistency_repairs_total 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "[{name}] /metrics lacks {line:?}"
            );
        }
        let (status, text) = app.get("/api/consistency").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let report: ConsistencyReport = serde_json::from_str(&text).expect("a report");
        assert_eq!(report, found, "[{name}]");

        // The critical alert fires once, from the score the server's
        // sampler hands the alert rules, and is listed at /api/alerts.
        let fired = app.ops.observe(&app.runtime, None);
        assert!(
            fired
                .iter()
                .any(|e| e.alert.name == "StateConsistencyFailed"
                    && e.status == AlertStatus::Firing
                    && e.alert.level == Level::Critical),
            "[{name}] {fired:?}"
        );
        assert!(
            app.ops.observe(&app.runtime, None).is_empty(),
            "[{name}] fired twice"
        );
        let (status, text) = app.get("/api/alerts").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let alerts: AlertsView = serde_json::from_str(&text).expect("alerts");
        assert!(
            alerts
                .active
                .iter()
                .any(|a| a.name == "StateConsistencyFailed"),
            "[{name}] {alerts:?}"
        );

        // Repaired: the rows are what the log says, and the next audit
        // agrees everywhere.
        let logged_a = app.logged(a).await;
        let row = app
            .store
            .trip_summary(a)
            .await
            .expect("read model")
            .expect("a row");
        assert_eq!(row.status, TripStatus::Ready, "[{name}]");
        assert_eq!(row.state, logged_a.read_model(), "[{name}]");
        assert_eq!(row.version, logged_a.version);
        let logged_b = app.logged(b).await;
        let queue = app.store.tasks_of(b).await.expect("queue");
        let results = app.store.results_of(b).await.expect("results");
        for task in &logged_b.tasks {
            let row = queue
                .iter()
                .find(|r| r.task_id == task.task_id)
                .expect("a queue row");
            assert_eq!(row.status, task.status, "[{name}] {}", task.agent_type);
            if task.status == TaskStatus::Completed {
                let (_, result) = results
                    .iter()
                    .find(|(id, _)| *id == task.task_id)
                    .expect("a result");
                let logged = task.result.as_deref().map(serde_json::to_value);
                assert_eq!(
                    logged.and_then(Result::ok).as_ref(),
                    Some(result),
                    "[{name}] {}",
                    task.agent_type
                );
            }
        }
        let again = app.runtime.audit_now().await;
        assert_eq!(
            (again.audited_trips, again.agreeing_trips),
            (4, 4),
            "[{name}] {:#?}",
            again.findings
        );
        assert_eq!(again.score, 1.0);
        assert_eq!(app.runtime.metrics().consistency.repairs_total, 3);
        // Clear again: the alert resolves once, after its resolve window.
        let resolve_after = app.ops.config().rules.resolve_after;
        let mut resolved = Vec::new();
        for _ in 0..=(resolve_after.as_secs() / 5 + 1) {
            app.clock.advance(Duration::from_secs(5));
            resolved.extend(
                app.ops
                    .observe(&app.runtime, None)
                    .into_iter()
                    .filter(|e| e.alert.name == "StateConsistencyFailed"),
            );
        }
        assert_eq!(resolved.len(), 1, "[{name}] {resolved:?}");
        assert_eq!(resolved[0].status, AlertStatus::Resolved, "[{name}]");
        assert!(app.ops.alerts().active.is_empty(), "[{name}]");
        let row = app
            .store
            .trip_summary(c)
            .await
            .expect("readable again")
            .expect("a row");
        assert_eq!(row.state, app.logged(c).await.read_model(), "[{name}]");
        app.finish().await;
    }
}

/// The pause between two submissions while the audits run: 120 trips
/// then plan over at least three seconds.
const SUBMIT_EVERY: Duration = Duration::from_millis(25);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_while_many_trips_plan_finds_no_disagreement() {
    const TRIPS: usize = 120;
    for db in backends().await {
        let app = App::start(db, ManualClock::at_epoch()).await;
        let name = app.name;
        // Submitted one after another in the background while the audits
        // run, so that trips are planning throughout: paced, so that
        // planning lasts several audit passes however fast the store is
        // (an audit pass over the trips takes up to a second).
        let runtime = app.runtime.clone();
        let submitter = tokio::spawn(async move {
            let mut trips = Vec::new();
            for n in 0..TRIPS {
                let submitted = runtime
                    .submit(query(100 + n), TripOverrides::default())
                    .await
                    .expect("submitted");
                trips.push(submitted.trip_id);
                tokio::time::sleep(SUBMIT_EVERY).await;
            }
            trips
        });
        // Audit again and again while they plan, the clock moved past the
        // quiet period each time so that every trip that has finished is
        // compared at once.
        let mut passes_while_planning = 0;
        let mut audited = 0;
        let deadline = Instant::now() + PLAN_WITHIN;
        loop {
            app.clock.advance(QUIET);
            let planning =
                app.runtime.metrics().trips_in_flight + app.runtime.metrics().trips_waiting;
            let report = app.runtime.audit_now().await;
            assert!(
                report.findings.is_empty(),
                "[{name}] a false disagreement during planning: {:#?}",
                report.findings
            );
            if planning > 0 && report.audited_trips > 0 {
                passes_while_planning += 1;
            }
            audited += report.audited_trips;
            let busy = app.runtime.metrics().trips_in_flight + app.runtime.metrics().trips_waiting;
            if submitter.is_finished() && busy == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "[{name}] still planning");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let trips = submitter.await.expect("the submitter");
        for trip in &trips {
            let status = app
                .runtime
                .status(trip)
                .await
                .expect("status")
                .expect("a trip")
                .status;
            assert_eq!(status, TripStatus::Ready, "[{name}] {trip}");
        }
        app.clock.advance(QUIET);
        // A full sweep: every trip is compared.
        let started = Instant::now();
        let last = app.runtime.audit_now().await;
        eprintln!(
            "[{name}] an audit pass over {TRIPS} trips took {:?}",
            started.elapsed()
        );
        assert_eq!(
            (last.audited_trips, last.agreeing_trips),
            (TRIPS as u64, TRIPS as u64),
            "[{name}] {:#?}",
            last.findings
        );
        assert_eq!(app.runtime.metrics().consistency.disagreements_total, 0);
        eprintln!(
            "[{name}] {passes_while_planning} audit passes compared trips while others planned; {audited} trip audits in all"
        );
        assert!(
            passes_while_planning > 1,
            "[{name}] no audit compared trips while others planned"
        );
        app.finish().await;
    }
}

/// Waits for every trip to leave `planning`, moving the manual clock on
/// so that retries come due.
async fn settle(app: &App, trips: &[TripId]) -> Vec<TripStatus> {
    let deadline = Instant::now() + PLAN_WITHIN;
    loop {
        let mut statuses = Vec::new();
        for trip in trips {
            let view = app
                .runtime
                .status(&trip.to_string())
                .await
                .expect("status")
                .expect("a trip");
            statuses.push(view.status);
        }
        if !statuses.contains(&TripStatus::Planning) {
            return statuses;
        }
        assert!(Instant::now() < deadline, "[{}] still planning", app.name);
        app.clock.advance(Duration::from_millis(500));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modified_cancelled_and_failed_trips_agree_with_their_logs() {
    for db in backends().await {
        let app = App::start(db, ManualClock::at_epoch()).await;
        let name = app.name;
        let modified = app.submit(&query(300)).await;
        let replanned = app.submit(&query(301)).await;
        for trip in [modified, replanned] {
            assert_eq!(app.wait_final(trip).await, TripStatus::Ready, "[{name}]");
        }
        // Modifications re-run tasks in process: the queue keeps their
        // first rows and results, which is not a disagreement.
        for (trip, change) in [
            (
                modified,
                serde_json::json!([{ "kind": "budget", "value": 4000 }]),
            ),
            (
                replanned,
                serde_json::json!([{ "kind": "dates", "start": "2027-04-02" }]),
            ),
        ] {
            let version = app.logged(trip).await.version;
            let changes = serde_json::from_value(change).expect("changes");
            let view = app
                .runtime
                .modify(&trip.to_string(), version, changes)
                .await
                .expect("modified");
            assert_eq!(
                view.status,
                TripStatus::Ready,
                "[{name}] {}",
                view.explanation
            );
        }
        assert!(app.logged(replanned).await.modifications > 0);
        // Cancelled while planning: its queued tasks are taken off.
        let cancelled = app.submit(&query(302)).await;
        app.runtime
            .cancel(&cancelled.to_string())
            .await
            .expect("cancelled");
        let trips = [modified, replanned, cancelled];
        assert_eq!(
            settle(&app, &trips).await,
            [TripStatus::Ready, TripStatus::Ready, TripStatus::Cancelled],
            "[{name}]"
        );
        app.clock.advance(QUIET);
        let report = app.runtime.audit_now().await;
        assert_eq!(
            (report.audited_trips, report.agreeing_trips),
            (3, 3),
            "[{name}] {:#?}",
            report.findings
        );
        // The same database, a runtime whose accommodation agent fails.
        let App {
            runtime, store, db, ..
        } = app;
        runtime.shutdown().await;
        store.close().await;

        // Failed trips: a required agent that always fails.
        let mut config = RuntimeConfig::default();
        config.faults.insert(
            "accommodation".into(),
            wayfare_engine::resilience::FaultConfig {
                error_rate: 1.0,
                ..Default::default()
            },
        );
        let app = App::start_with(db, ManualClock::at_epoch(), config).await;
        app.clock.advance(Duration::from_secs(3600));
        let failing = [app.submit(&query(303)).await, app.submit(&query(304)).await];
        assert_eq!(
            settle(&app, &failing).await,
            [TripStatus::Failed, TripStatus::Failed],
            "[{name}]"
        );
        app.clock.advance(QUIET);
        let report = app.runtime.audit_now().await;
        assert_eq!(
            (report.audited_trips, report.agreeing_trips),
            (5, 5),
            "[{name}] {:#?}",
            report.findings
        );
        app.finish().await;
    }
}

fn wayfare(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wayfare"))
        .args(args)
        .current_dir(dir)
        .env("WAYFARE_LOG", "error")
        .env_remove("RUST_LOG")
        .env_remove("WAYFARE_PROFILE")
        .output()
        .expect("run wayfare")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wayfare_check_finds_a_corrupt_row_and_repairs_it() {
    for db in backends().await {
        // Planned at the manual clock's instant, long before the wall
        // clock `wayfare check` reads: every trip is at rest.
        let app = App::start(db, ManualClock::at_epoch()).await;
        let name = app.name;
        let trips = [app.submit(&query(200)).await, app.submit(&query(201)).await];
        for trip in trips {
            assert_eq!(app.wait_final(trip).await, TripStatus::Ready, "[{name}]");
        }
        app.runtime.shutdown().await;
        app.corrupt(
            corrupted_status_sqlite(),
            corrupted_status_postgres(),
            trips[1],
        )
        .await;
        let dir = tempfile::tempdir().expect("tempdir");
        let url = app.db.url.clone();

        let check = wayfare(&["check", "--db", &url], dir.path());
        let (out, err) = (text(&check.stdout), text(&check.stderr));
        assert!(!check.status.success(), "[{name}] {out}\n{err}");
        assert!(
            out.contains(&format!(
                "trip {}: trip_state status 'failed', the log says 'ready'",
                trips[1]
            )),
            "[{name}] {out}"
        );
        assert!(out.contains("50.0% (1 of 2 trips"), "[{name}] {out}");
        assert!(err.contains("1 trip(s) disagree"), "[{name}] {err}");

        let repair = wayfare(&["check", "--repair", "--db", &url], dir.path());
        let out = text(&repair.stdout);
        assert!(
            repair.status.success(),
            "[{name}] {out}\n{}",
            text(&repair.stderr)
        );
        assert!(out.contains("(repaired)"), "[{name}] {out}");

        let after = wayfare(&["check", "--db", &url], dir.path());
        let out = text(&after.stdout);
        assert!(
            after.status.success(),
            "[{name}] {out}\n{}",
            text(&after.stderr)
        );
        assert!(out.contains("100.0% (2 of 2 trips"), "[{name}] {out}");
        let row = app
            .store
            .trip_summary(trips[1])
            .await
            .expect("read model")
            .expect("a row");
        assert_eq!(row.status, TripStatus::Ready, "[{name}]");
        app.store.close().await;
        app.db.drop_database().await;
    }
}
