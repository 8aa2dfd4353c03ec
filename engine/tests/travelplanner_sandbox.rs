//! The importer on the real TravelPlanner sandbox
//! (`/work/shared/datasets/travelplanner`, beside the repository): counts per
//! file, spot checks of known rows, and a corrupted copy.

use std::path::PathBuf;

use chrono::NaiveDate;
use wayfare_domain::catalog::HouseRule;
use wayfare_engine::catalog::travelplanner::read_dir;
use wayfare_engine::catalog::{Catalog, CatalogFile, ImportOptions, MemoryCatalog};

/// The sandbox folder, or `None` (with a loud message) when it is absent.
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

#[test]
fn the_sandbox_imports_with_the_benchmarks_row_counts() {
    let Some(dir) = sandbox() else { return };
    let mut calls = 0;
    let (data, report) =
        read_dir(&dir, &ImportOptions::default(), &mut |_| calls += 1).expect("reads");
    assert!(calls >= 6, "progress was reported {calls} times");

    let stays = report.file(CatalogFile::Stays).expect("stays");
    assert_eq!(stays.rows_read, 5047);
    assert_eq!(stays.incomplete.len(), 762);
    assert_eq!(stays.imported, 5047 - 762);
    assert!(stays.rejected.is_empty(), "{:?}", stays.rejected);
    assert_eq!(data.stays.len(), 4285);

    let restaurants = report.file(CatalogFile::Restaurants).expect("restaurants");
    assert_eq!((restaurants.rows_read, restaurants.imported), (9551, 9551));
    let attractions = report.file(CatalogFile::Attractions).expect("attractions");
    assert_eq!((attractions.rows_read, attractions.imported), (5302, 5302));
    let flights = report.file(CatalogFile::Flights).expect("flights");
    assert_eq!((flights.rows_read, flights.imported), (313, 313));
    assert_eq!(data.cities.len(), 312);

    let routes = report.file(CatalogFile::GroundRoutes).expect("routes");
    assert_eq!(routes.rows_read, 17602);
    assert_eq!(routes.duplicates.len(), 1446);
    assert_eq!(routes.unusable.len(), 1534 + 1823);
    assert!(routes.rejected.is_empty(), "{:?}", routes.rejected);
    assert_eq!(routes.imported, 12799);
    assert_eq!(data.ground_routes.len(), 12799);
}

#[test]
fn keeping_incomplete_rows_keeps_every_listing_that_can_be_costed() {
    let Some(dir) = sandbox() else { return };
    let options = ImportOptions {
        keep_incomplete: true,
        ..ImportOptions::default()
    };
    let (data, report) = read_dir(&dir, &options, &mut |_| {}).expect("reads");
    let stays = report.file(CatalogFile::Stays).expect("stays");
    // 15 listings have no price and 8 no name: nothing can cite or cost them.
    assert_eq!(stays.incomplete.len(), 15 + 8);
    assert_eq!(data.stays.len(), 5047 - 23);
    let no_rules = data.stays.iter().filter(|s| s.forbids.is_empty()).count();
    assert!(no_rules >= 700, "{no_rules} stays forbid nothing");
}

#[test]
fn known_rows_read_back_exactly() {
    let Some(dir) = sandbox() else { return };
    let (data, _) = read_dir(&dir, &ImportOptions::default(), &mut |_| {}).expect("reads");
    let catalog = MemoryCatalog::new(data);

    let souffle = catalog
        .restaurants_in("Binghamton")
        .iter()
        .find(|r| r.name == "Le Petit Souffle")
        .expect("Le Petit Souffle in Binghamton");
    assert_eq!(souffle.cuisines, ["Tea", "Pizza", "Indian", "Seafood"]);
    assert_eq!((souffle.average_cost, souffle.rating), (46.0, 4.8));
    assert_eq!(souffle.source_id, "tp:restaurants:0");

    let route = catalog.ground_route("Detroit", "Norfolk").expect("route");
    assert_eq!((route.duration_min, route.distance_km), (655, 1144.0));
    assert_eq!(route.source_id, "tp:distance:2");

    let stay = catalog
        .stays_in("Laredo")
        .iter()
        .find(|s| s.source_id == "tp:accommodations:1")
        .expect("row 1");
    assert_eq!(stay.price, 548.0);
    assert_eq!(stay.minimum_nights, 10);
    assert_eq!(
        stay.forbids,
        [HouseRule::Parties, HouseRule::ChildrenUnder10]
    );

    // A listing whose name spans two lines.
    assert!(
        catalog
            .stays_in("Bemidji")
            .iter()
            .any(|s| s.name == "Walk everywhere, See everything!\n2BR Midtown West")
    );

    let date = NaiveDate::from_ymd_opt(2022, 3, 1).expect("date");
    let flights = catalog.flights("Memphis", "Minneapolis", date);
    let numbers: Vec<&str> = flights.iter().map(|f| f.number.as_str()).collect();
    assert!(numbers.starts_with(&["F3836157"]), "{numbers:?}");
    assert_eq!(flights[0].duration_min, 133);
    assert_eq!(flights[0].source_id, "tp:flights:F3836157:2022-03-01");

    assert_eq!(
        catalog.city("San Diego").map(|c| c.state.as_str()),
        Some("California")
    );
    assert_eq!(catalog.cities_in_state("California").len(), 21);
    assert_eq!(
        catalog.city("Charlotte Amalie").map(|c| c.country.as_str()),
        Some("U.S. Virgin Islands")
    );
}

#[test]
fn a_corrupted_copy_reports_bad_rows_by_line_and_keeps_the_good_ones() {
    let Some(dir) = sandbox() else { return };
    let tmp = tempfile::tempdir().expect("temporary directory");
    for file in CatalogFile::ALL {
        std::fs::copy(
            dir.join(file.sandbox_name()),
            tmp.path().join(file.sandbox_name()),
        )
        .expect("copy");
    }
    // Line 3 of accommodations.csv is row 1 (Laredo); give it a bad price.
    let path = tmp.path().join("accommodations.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replacen(
        "1,Roomy and Comftable Room,Private room,548.0,",
        "1,Roomy and Comftable Room,Private room,five hundred,",
        1,
    );
    std::fs::write(&path, text).expect("write");
    // Line 4 of distance.csv gets a duration that means nothing.
    let path = tmp.path().join("distance.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replacen(
        "Minneapolis,St. Louis,,8 hours 29 mins,901 km",
        "Minneapolis,St. Louis,,8 hours and then some,901 km",
        1,
    );
    std::fs::write(&path, text).expect("write");

    let (data, report) =
        read_dir(tmp.path(), &ImportOptions::default(), &mut |_| {}).expect("reads");
    let rejects: Vec<(String, u64)> = report
        .rejects()
        .map(|(path, line, _)| (path.to_owned(), line))
        .collect();
    assert_eq!(
        rejects,
        [
            ("distance.csv".to_owned(), 4),
            ("accommodations.csv".to_owned(), 3)
        ]
    );
    let summary = report.to_string();
    assert!(summary.contains("accommodations.csv:3: price"), "{summary}");
    assert!(summary.contains("distance.csv:4: duration"), "{summary}");
    assert_eq!(data.stays.len(), 4285 - 1);
    assert_eq!(data.ground_routes.len(), 12799 - 1);
    assert_eq!(data.restaurants.len(), 9551);
}

#[test]
fn the_original_repository_layout_is_recognised() {
    let Some(dir) = sandbox() else { return };
    let tmp = tempfile::tempdir().expect("temporary directory");
    for file in CatalogFile::ALL {
        let target = tmp.path().join("database").join(file.repository_path());
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(dir.join(file.sandbox_name()), &target).expect("copy");
    }
    let (data, report) =
        read_dir(tmp.path(), &ImportOptions::default(), &mut |_| {}).expect("reads");
    assert_eq!(data.stays.len(), 4285);
    let stays = report.file(CatalogFile::Stays).expect("stays");
    assert_eq!(
        stays.path,
        "database/accommodations/clean_accommodations_2022.csv"
    );
}

#[test]
fn a_directory_without_the_files_is_an_error_naming_what_is_missing() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let err = read_dir(tmp.path(), &ImportOptions::default(), &mut |_| {}).expect_err("fails");
    assert!(err.to_string().contains("cities.txt"), "{err}");
}
