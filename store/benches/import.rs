//! Import speed, printed (not a timed test).
//!
//! `cargo bench -p wayfare-store --bench import` imports the whole
//! TravelPlanner sandbox into a fresh SQLite file (three runs: the first on
//! empty tables, then re-imports), and into PostgreSQL when
//! `WAYFARE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! is reachable, and prints the seconds each step took.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use wayfare_engine::catalog::travelplanner::read_dir;
use wayfare_engine::catalog::{CatalogData, ImportOptions};
use wayfare_store::{Store, import_travelplanner};

async fn run(name: &str, url: &str, dir: &Path, data: &CatalogData) {
    let store = Store::connect(url).await.expect("connect");
    for run in 1..=3 {
        let started = Instant::now();
        let counts = store
            .import_catalog(data, &mut |_| {})
            .await
            .expect("import");
        println!(
            "{name:<10} import_catalog run {run}: {:.3} s ({} rows)",
            started.elapsed().as_secs_f64(),
            counts.total()
        );
    }
    let started = Instant::now();
    let summary = import_travelplanner(&store, dir, ImportOptions::default(), &mut |_| {})
        .await
        .expect("import");
    println!(
        "{name:<10} import_travelplanner (read + write): {:.3} s (read {:.3} s, write {:.3} s)",
        started.elapsed().as_secs_f64(),
        summary.read.as_secs_f64(),
        summary.write.as_secs_f64()
    );
    let started = Instant::now();
    let loaded = store.load_catalog().await.expect("load");
    println!(
        "{name:<10} load_catalog: {:.3} s ({} stays)",
        started.elapsed().as_secs_f64(),
        loaded.stays.len()
    );
    store.close().await;
}

#[tokio::main]
async fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/travelplanner");
    if !dir.join("accommodations.csv").is_file() {
        eprintln!(
            "!!! no TravelPlanner sandbox at {}: nothing to measure",
            dir.display()
        );
        return;
    }
    let started = Instant::now();
    let (data, _) = read_dir(&dir, &ImportOptions::default(), &mut |_| {}).expect("read");
    println!("read_dir: {:.3} s", started.elapsed().as_secs_f64());

    let tmp = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/bench.db", tmp.path().display());
    run("sqlite", &url, &dir, &data).await;

    let admin_url = std::env::var("WAYFARE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    match PgConnection::connect(&admin_url).await {
        Err(e) => eprintln!("!!! PostgreSQL not reachable at {admin_url} ({e}): skipped"),
        Ok(mut admin) => {
            let db = format!("wayfare_bench_{}", std::process::id());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
                .execute(&mut admin)
                .await
                .expect("create database");
            let url = match admin_url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{db}"),
                None => admin_url.clone(),
            };
            run("postgres", &url, &dir, &data).await;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .expect("drop database");
        }
    }
}
