//! The catalog port: read access to cities, flights, ground routes, stays,
//! restaurants and attractions, used by every agent many times per plan.
//!
//! [`CatalogData`] is the whole catalog as plain records (what an importer
//! produces and what the store loads); [`Catalog`] is the lookup API the
//! agents call, answered from memory-resident indexes.
//!
//! - [`memory::MemoryCatalog`]: the in-memory [`Catalog`] every agent uses;
//! - [`travelplanner::read_dir`]: reads the TravelPlanner CSV files (sandbox
//!   or original repository layout) into [`CatalogData`] with an
//!   [`ImportReport`] of what became of every row;
//! - [`demo::demo_catalog`]: the small demo catalog compiled into the binary.

pub mod demo;
pub mod memory;
pub mod travelplanner;

use chrono::NaiveDate;
use wayfare_domain::catalog::{Attraction, City, Flight, GroundRoute, Restaurant, Stay};

pub use memory::MemoryCatalog;
pub use travelplanner::{CatalogFile, ImportOptions, ImportProgress, ImportReport, ReadError};

/// The whole catalog as plain records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogData {
    pub cities: Vec<City>,
    pub flights: Vec<Flight>,
    pub ground_routes: Vec<GroundRoute>,
    pub stays: Vec<Stay>,
    pub restaurants: Vec<Restaurant>,
    pub attractions: Vec<Attraction>,
}

/// The lookups the agents make. City names are matched exactly as the
/// catalog spells them (the parser resolves free text to these names first).
pub trait Catalog: Send + Sync {
    /// Every city, in a stable order.
    fn cities(&self) -> &[City];
    /// A city by its exact name.
    fn city(&self, name: &str) -> Option<&City>;
    /// The cities of a state or region (exact name), in a stable order.
    fn cities_in_state(&self, state: &str) -> Vec<&City>;
    /// Flights from `origin` to `destination` operating on `date`, by
    /// departure time.
    fn flights(&self, origin: &str, destination: &str, date: NaiveDate) -> Vec<&Flight>;
    /// The drivable route from `origin` to `destination`, if there is one.
    fn ground_route(&self, origin: &str, destination: &str) -> Option<&GroundRoute>;
    fn stays_in(&self, city: &str) -> &[Stay];
    fn restaurants_in(&self, city: &str) -> &[Restaurant];
    fn attractions_in(&self, city: &str) -> &[Attraction];
}
