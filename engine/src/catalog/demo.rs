//! The demo catalog: a dozen real US cities with their well-known
//! attractions, and sample stays, restaurants, drives and weekly flights, so
//! a fresh install plans trips on any date at once. The files live in
//! `data/demo/` (same layout as the TravelPlanner sandbox) and are compiled
//! into the binary, so loading them does not depend on the working
//! directory. Every record is marked `sample`; source ids start with `demo:`.
//!
//! Cities: Seattle, Spokane, Tacoma (Washington); Portland (Oregon);
//! Denver, Colorado Springs, Boulder (Colorado); San Francisco, Los Angeles,
//! San Diego (California); Chicago (Illinois); New York (New York). Cities of
//! a state are linked by road; every city with an airport has a daily flight
//! (and a second one four days a week) to every other one at least 150
//! miles away.

use super::CatalogData;
use super::travelplanner::{CatalogFile, ImportOptions, ReadError, read_texts};

const CITIES: &str = include_str!("../../../data/demo/cities.txt");
const FLIGHTS: &str = include_str!("../../../data/demo/flights.csv");
const DISTANCE: &str = include_str!("../../../data/demo/distance.csv");
const ACCOMMODATIONS: &str = include_str!("../../../data/demo/accommodations.csv");
const RESTAURANTS: &str = include_str!("../../../data/demo/restaurants.csv");
const ATTRACTIONS: &str = include_str!("../../../data/demo/attractions.csv");

/// Why the embedded demo catalog did not load (a bug in `data/demo/`).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo catalog does not read: {0}")]
    Read(#[from] ReadError),
    #[error("the demo catalog has bad rows: {0}")]
    BadRows(String),
}

/// The demo catalog. Fails only if `data/demo/` holds a row the importer
/// does not take, which the tests rule out.
pub fn demo_catalog() -> Result<CatalogData, DemoError> {
    let options = ImportOptions {
        keep_incomplete: false,
        id_prefix: "demo".to_owned(),
        sample: true,
    };
    let (data, report) = read_texts(
        &[
            (CatalogFile::Cities, CITIES),
            (CatalogFile::Flights, FLIGHTS),
            (CatalogFile::GroundRoutes, DISTANCE),
            (CatalogFile::Stays, ACCOMMODATIONS),
            (CatalogFile::Restaurants, RESTAURANTS),
            (CatalogFile::Attractions, ATTRACTIONS),
        ],
        &options,
    )?;
    if report.files.iter().any(|f| f.imported != f.rows_read) {
        return Err(DemoError::BadRows(report.to_string()));
    }
    Ok(data)
}
