//! Contract tests for the catalog tables, run on every backend: the demo
//! catalog round-trips exactly, imports are idempotent, and the whole
//! TravelPlanner sandbox imports with the benchmark's counts.

mod support;

use std::path::PathBuf;

use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, CatalogData, ImportOptions, MemoryCatalog};
use wayfare_store::import_travelplanner;

fn sandbox() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/travelplanner");
    if dir.join("accommodations.csv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "\n\x1b[1;33m!!! SKIPPING: no TravelPlanner sandbox at {}\x1b[0m\n",
            dir.display()
        );
        None
    }
}

fn counts(data: &CatalogData) -> [usize; 6] {
    [
        data.cities.len(),
        data.flights.len(),
        data.ground_routes.len(),
        data.stays.len(),
        data.restaurants.len(),
        data.attractions.len(),
    ]
}

#[tokio::test]
async fn the_demo_catalog_reads_back_exactly_on_every_backend() {
    let demo = demo_catalog().expect("demo catalog");
    for db in support::all_backends().await {
        assert!(
            db.store.catalog_is_empty().await.expect("empty?"),
            "{}",
            db.name
        );
        let mut batches = 0;
        let written = db
            .store
            .import_catalog(&demo, &mut |_| batches += 1)
            .await
            .expect("import");
        assert_eq!(
            written.total() as usize,
            counts(&demo).iter().sum::<usize>()
        );
        assert!(batches >= 6, "{}", db.name);
        assert!(
            !db.store.catalog_is_empty().await.expect("empty?"),
            "{}",
            db.name
        );
        let loaded = db.store.load_catalog().await.expect("load");
        assert_eq!(loaded, demo, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn importing_twice_leaves_the_same_rows() {
    let demo = demo_catalog().expect("demo catalog");
    for db in support::all_backends().await {
        db.store
            .import_catalog(&demo, &mut |_| {})
            .await
            .expect("first");
        db.store
            .import_catalog(&demo, &mut |_| {})
            .await
            .expect("second");
        let loaded = db.store.load_catalog().await.expect("load");
        assert_eq!(counts(&loaded), counts(&demo), "{}", db.name);
        assert_eq!(loaded, demo, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_fresh_install_gets_the_demo_catalog_once() {
    for db in support::all_backends().await {
        assert!(
            db.store.ensure_demo_catalog().await.expect("load"),
            "{}",
            db.name
        );
        assert!(
            !db.store.ensure_demo_catalog().await.expect("load"),
            "{}",
            db.name
        );
        let loaded = db.store.load_catalog().await.expect("load");
        assert!(loaded.stays.iter().all(|s| s.sample), "{}", db.name);
        let catalog = MemoryCatalog::new(loaded);
        assert_eq!(catalog.cities_in_state("Colorado").len(), 3, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn an_import_replaces_the_demo_catalog_instead_of_mixing_with_it() {
    let demo = demo_catalog().expect("demo catalog");
    let mut small = demo.clone();
    small.stays.truncate(3);
    small.flights.clear();
    for db in support::all_backends().await {
        db.store
            .import_catalog(&demo, &mut |_| {})
            .await
            .expect("demo");
        db.store
            .import_catalog(&small, &mut |_| {})
            .await
            .expect("small");
        let loaded = db.store.load_catalog().await.expect("load");
        assert_eq!(loaded.stays.len(), 3, "{}", db.name);
        assert!(loaded.flights.is_empty(), "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_sandbox_imports_with_the_benchmarks_counts_twice_over() {
    let Some(dir) = sandbox() else { return };
    for db in support::all_backends().await {
        let mut last = None;
        let summary = import_travelplanner(&db.store, &dir, ImportOptions::default(), &mut |p| {
            last = Some(p)
        })
        .await
        .expect("import");
        assert!(last.is_some(), "{}", db.name);
        let c = summary.counts;
        assert_eq!(
            [
                c.cities,
                c.flights,
                c.ground_routes,
                c.stays,
                c.restaurants,
                c.attractions
            ],
            [312, 313, 12799, 4285, 9551, 5302],
            "{}",
            db.name
        );
        let text = summary.to_string();
        assert!(text.contains("accommodations.csv"), "{text}");
        assert!(text.contains("wrote 32562 rows"), "{text}");

        // Idempotent: a second run changes nothing.
        let again = import_travelplanner(&db.store, &dir, ImportOptions::default(), &mut |_| {})
            .await
            .expect("re-import");
        assert_eq!(again.counts.total(), c.total(), "{}", db.name);
        let loaded = db.store.load_catalog().await.expect("load");
        assert_eq!(
            counts(&loaded),
            [312, 313, 12799, 4285, 9551, 5302],
            "{}",
            db.name
        );

        let catalog = MemoryCatalog::new(loaded);
        let route = catalog.ground_route("Detroit", "Norfolk").expect("route");
        assert_eq!(
            (route.duration_min, route.distance_km),
            (655, 1144.0),
            "{}",
            db.name
        );
        let souffle = catalog
            .restaurants_in("Binghamton")
            .iter()
            .find(|r| r.name == "Le Petit Souffle")
            .expect("Le Petit Souffle");
        assert_eq!(
            souffle.cuisines,
            ["Tea", "Pizza", "Indian", "Seafood"],
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn keeping_incomplete_rows_stores_them_too() {
    let Some(dir) = sandbox() else { return };
    for db in support::all_backends().await {
        let options = ImportOptions {
            keep_incomplete: true,
            ..ImportOptions::default()
        };
        let summary = import_travelplanner(&db.store, &dir, options, &mut |_| {})
            .await
            .expect("import");
        assert_eq!(summary.counts.stays, 5047 - 23, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_corrupted_sandbox_imports_its_good_rows_and_names_the_bad_ones() {
    let Some(dir) = sandbox() else { return };
    let tmp = tempfile::tempdir().expect("temporary directory");
    for name in [
        "cities.txt",
        "flights.csv",
        "distance.csv",
        "accommodations.csv",
        "restaurants.csv",
        "attractions.csv",
    ] {
        std::fs::copy(dir.join(name), tmp.path().join(name)).expect("copy");
    }
    let path = tmp.path().join("restaurants.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replacen(
        "0,Le Petit Souffle,Binghamton,\"Tea, Pizza, Indian, Seafood\",46,4.8",
        "0,Le Petit Souffle,Binghamton,\"Tea, Pizza, Indian, Seafood\",free,4.8",
        1,
    );
    std::fs::write(&path, text).expect("write");
    for db in support::all_backends().await {
        let summary =
            import_travelplanner(&db.store, tmp.path(), ImportOptions::default(), &mut |_| {})
                .await
                .expect("import");
        assert_eq!(summary.counts.restaurants, 9551 - 1, "{}", db.name);
        let text = summary.to_string();
        assert!(text.contains("restaurants.csv:2: Average Cost"), "{text}");
        db.finish().await;
    }
}

#[tokio::test]
async fn every_import_bumps_the_catalog_version_on_every_backend() {
    for db in support::all_backends().await {
        assert_eq!(
            db.store.catalog_version().await.expect("version"),
            0,
            "{}",
            db.name
        );
        assert!(db.store.ensure_demo_catalog().await.expect("demo"));
        assert_eq!(
            db.store.catalog_version().await.expect("version"),
            1,
            "{}",
            db.name
        );
        // A catalog already there is left alone, and so is its version.
        assert!(!db.store.ensure_demo_catalog().await.expect("demo"));
        assert_eq!(
            db.store.catalog_version().await.expect("version"),
            1,
            "{}",
            db.name
        );
        let data = demo_catalog().expect("demo");
        db.store
            .import_catalog(&data, &mut |_| {})
            .await
            .expect("import");
        assert_eq!(
            db.store.catalog_version().await.expect("version"),
            2,
            "{}",
            db.name
        );
        db.finish().await;
    }
}

/// Several processes starting at once on one fresh database (issue 18:
/// two `wayfare serve` raced to load the demo catalog and one exited with
/// `duplicate key value violates unique constraint "flights_source_id_key"`):
/// every one of them starts, exactly one loads the catalog, and it is there
/// once. PostgreSQL only: a SQLite file serves one process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_starting_together_load_the_demo_catalog_once() {
    let demo = demo_catalog().expect("demo catalog");
    if let Some(db) = support::postgres().await {
        for round in 0..3 {
            if round > 0 {
                // Empty again, for another race.
                db.store
                    .import_catalog(&CatalogData::default(), &mut |_| {})
                    .await
                    .expect("empty the catalog");
            }
            let mut stores = Vec::new();
            for _ in 0..4 {
                stores.push(
                    wayfare_store::Store::connect(&db.db.url)
                        .await
                        .unwrap_or_else(|e| panic!("{}: open: {e}", db.name)),
                );
            }
            let runs = stores
                .iter()
                .map(|s| s.ensure_demo_catalog())
                .collect::<Vec<_>>();
            let loaded: Vec<bool> = futures_util::future::join_all(runs)
                .await
                .into_iter()
                .map(|r| r.unwrap_or_else(|e| panic!("{}: a racing start failed: {e}", db.name)))
                .collect();
            assert_eq!(
                loaded.iter().filter(|l| **l).count(),
                1,
                "{}: exactly one start loads the catalog: {loaded:?}",
                db.name
            );
            let data = db.store.load_catalog().await.expect("load");
            assert_eq!(counts(&data), counts(&demo), "{}", db.name);
            for s in stores {
                s.close().await;
            }
        }
        db.finish().await;
    }
}
