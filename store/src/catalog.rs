//! The catalog tables (`cities`, `flights`, `ground_routes`, `stays`,
//! `restaurants`, `attractions`; see `migrations/*/0002_catalog.sql`) and
//! the TravelPlanner import that fills them.
//!
//! Public API:
//! - [`import_travelplanner`]`(store, dir, options, progress)` — what
//!   `wayfare import travelplanner DIR [--keep-incomplete]` runs: reads the
//!   directory with the engine's importer, writes it with
//!   [`Store::import_catalog`] and returns an [`ImportSummary`] whose
//!   `Display` is the text to print.
//! - [`Store::import_catalog`]`(data, progress)` — replaces the catalog with
//!   `data`, table by table, one transaction each. Re-running it with the
//!   same data leaves the same rows (it is idempotent), and an import
//!   replaces whatever was there before, demo rows included, so a catalog
//!   never mixes sample and real records.
//! - [`Store::load_catalog`]`()` — the whole catalog, in import order, for
//!   `MemoryCatalog::new` at start-up.
//! - [`Store::catalog_is_empty`]`()` and [`Store::ensure_demo_catalog`]`()` —
//!   a fresh install loads the embedded demo catalog.
//!
//! Rows are written with multi-row `INSERT`s of up to [`BATCH_ROWS`] rows,
//! which loads the whole sandbox into SQLite in well under a second.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime};
use sqlx::{QueryBuilder, Row};
use wayfare_domain::catalog::{
    Attraction, City, Flight, FlightSchedule, GroundRoute, HouseRule, Restaurant, RoomType, Stay,
};
use wayfare_engine::catalog::demo::{DemoError, demo_catalog};
use wayfare_engine::catalog::travelplanner::{self, ImportReport};
use wayfare_engine::catalog::{CatalogData, ImportOptions, ImportProgress, ReadError};

use crate::codec::Time;
use crate::db::on_pool;
use crate::{Held, Result, Store, StoreError, release};

/// Rows per `INSERT` statement (well under both databases' bind limits).
pub const BATCH_ROWS: usize = 1000;

/// How many rows each table holds after an import, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub cities: u64,
    pub flights: u64,
    pub ground_routes: u64,
    pub stays: u64,
    pub restaurants: u64,
    pub attractions: u64,
    pub elapsed: Duration,
}

impl ImportCounts {
    pub fn total(&self) -> u64 {
        self.cities
            + self.flights
            + self.ground_routes
            + self.stays
            + self.restaurants
            + self.attractions
    }
}

/// What `wayfare import travelplanner` did: the reader's per-file report and
/// what was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub report: ImportReport,
    pub counts: ImportCounts,
    /// Reading and checking the files.
    pub read: Duration,
    /// Writing to the database.
    pub write: Duration,
}

impl ImportSummary {
    /// How many rejected rows [`fmt::Display`] lists.
    pub const SHOWN_REJECTS: usize = 20;
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.report.write_summary(f, Self::SHOWN_REJECTS)?;
        let c = &self.counts;
        writeln!(
            f,
            "wrote {} rows in {:.2}s: {} cities, {} flights, {} ground routes, {} stays, {} restaurants, {} attractions",
            c.total(),
            self.write.as_secs_f64(),
            c.cities,
            c.flights,
            c.ground_routes,
            c.stays,
            c.restaurants,
            c.attractions
        )?;
        write!(
            f,
            "total {:.2}s (read {:.2}s, write {:.2}s)",
            (self.read + self.write).as_secs_f64(),
            self.read.as_secs_f64(),
            self.write.as_secs_f64()
        )
    }
}

/// Why an import failed as a whole (bad rows are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a TravelPlanner directory (sandbox or original layout) and
/// replaces the catalog with it. `progress` hears about every file read and
/// every batch written. Reading blocks the calling thread (well under a
/// second for the sandbox).
#[tracing::instrument(skip_all, fields(dir = %dir.display()), err)]
pub async fn import_travelplanner(
    store: &Store,
    dir: &Path,
    options: ImportOptions,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let (data, report) = travelplanner::read_dir(dir, &options, progress)?;
    let read = started.elapsed();
    let started = Instant::now();
    let counts = store.import_catalog(&data, progress).await?;
    Ok(ImportSummary {
        report,
        counts,
        read,
        write: started.elapsed(),
    })
}

/// Writes `rows` into `table` inside one transaction that first empties it.
macro_rules! replace_table {
    ($pool:expr, $table:literal, $columns:literal, $rows:expr, $progress:expr, |$b:ident, $r:ident| $push:block) => {{
        let rows = $rows;
        let mut tx = $pool.begin().await?;
        sqlx::query(concat!("DELETE FROM ", $table))
            .execute(&mut *tx)
            .await?;
        let total = rows.len() as u64;
        let mut done = 0u64;
        for chunk in rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::new(concat!("INSERT INTO ", $table, " (", $columns, ") "));
            qb.push_values(chunk, |mut $b, $r| $push);
            qb.build().execute(&mut *tx).await?;
            done += chunk.len() as u64;
            $progress(ImportProgress {
                file: $table.to_owned(),
                rows_done: done,
                rows_total: Some(total),
                bytes_done: 0,
                bytes_total: None,
            });
        }
        tx.commit().await?;
        total
    }};
}

impl Store {
    /// Replaces the catalog with `data`: each table is emptied and refilled
    /// in its own transaction, so running it twice leaves the same rows.
    /// On PostgreSQL, under the catalog lock (see [`Store::catalog_lock`]).
    #[tracing::instrument(skip_all, err)]
    pub async fn import_catalog(
        &self,
        data: &CatalogData,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportCounts> {
        let lock = self.catalog_lock().await?;
        let counts = self.replace_catalog(data, progress).await;
        release(lock).await;
        counts
    }

    /// Several processes on one PostgreSQL database change the catalog one
    /// at a time: each holds this advisory lock while it checks and
    /// replaces the tables. Without it two `wayfare serve` started together
    /// on a fresh database both found it empty and both inserted the demo
    /// catalog, and one exited on a duplicate key.
    async fn catalog_lock(&self) -> Result<Held> {
        self.advisory_lock("wayfare.catalog").await
    }

    async fn replace_catalog(
        &self,
        data: &CatalogData,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportCounts> {
        let started = Instant::now();
        let mut counts = ImportCounts::default();
        let cities: Vec<(usize, &City)> = data.cities.iter().enumerate().collect();
        on_pool!(self, write, |pool| {
            counts.cities = replace_table!(
                pool,
                "cities",
                "name, state, country, lat, lon, sample, position",
                &cities,
                progress,
                |b, row| {
                    let (position, city) = row;
                    b.push_bind(city.name.as_str())
                        .push_bind(city.state.as_str())
                        .push_bind(city.country.as_str())
                        .push_bind(city.lat)
                        .push_bind(city.lon)
                        .push_bind(city.sample)
                        .push_bind(*position as i64);
                }
            );
            counts.flights = replace_table!(
                pool,
                "flights",
                "source_id, number, origin, destination, flight_date, weekdays, departure, arrival, duration_min, price, distance_miles, sample",
                &data.flights,
                progress,
                |b, f| {
                    let (date, weekdays) = schedule_columns(&f.schedule);
                    b.push_bind(f.source_id.as_str())
                        .push_bind(f.number.as_str())
                        .push_bind(f.origin.as_str())
                        .push_bind(f.destination.as_str())
                        .push_bind(date)
                        .push_bind(weekdays)
                        .push_bind(f.departure)
                        .push_bind(f.arrival)
                        .push_bind(i64::from(f.duration_min))
                        .push_bind(f.price)
                        .push_bind(f.distance_miles)
                        .push_bind(f.sample);
                }
            );
            counts.ground_routes = replace_table!(
                pool,
                "ground_routes",
                "source_id, origin, destination, duration_min, distance_km, duration_text, distance_text, sample",
                &data.ground_routes,
                progress,
                |b, r| {
                    b.push_bind(r.source_id.as_str())
                        .push_bind(r.origin.as_str())
                        .push_bind(r.destination.as_str())
                        .push_bind(i64::from(r.duration_min))
                        .push_bind(r.distance_km)
                        .push_bind(r.duration_text.as_str())
                        .push_bind(r.distance_text.as_str())
                        .push_bind(r.sample);
                }
            );
            counts.stays = replace_table!(
                pool,
                "stays",
                "source_id, name, city, room_type, price, minimum_nights, maximum_occupancy, rating, forbids, sample",
                &data.stays,
                progress,
                |b, s| {
                    b.push_bind(s.source_id.as_str())
                        .push_bind(s.name.as_str())
                        .push_bind(s.city.as_str())
                        .push_bind(room_type_code(s.room_type))
                        .push_bind(s.price)
                        .push_bind(i64::from(s.minimum_nights))
                        .push_bind(i64::from(s.maximum_occupancy))
                        .push_bind(s.rating)
                        .push_bind(house_rules_mask(&s.forbids))
                        .push_bind(s.sample);
                }
            );
            counts.restaurants = replace_table!(
                pool,
                "restaurants",
                "source_id, name, city, cuisines, average_cost, rating, sample",
                &data.restaurants,
                progress,
                |b, r| {
                    b.push_bind(r.source_id.as_str())
                        .push_bind(r.name.as_str())
                        .push_bind(r.city.as_str())
                        .push_bind(r.cuisines.join(", "))
                        .push_bind(r.average_cost)
                        .push_bind(r.rating)
                        .push_bind(r.sample);
                }
            );
            counts.attractions = replace_table!(
                pool,
                "attractions",
                "source_id, name, city, lat, lon, address, phone, website, sample",
                &data.attractions,
                progress,
                |b, a| {
                    b.push_bind(a.source_id.as_str())
                        .push_bind(a.name.as_str())
                        .push_bind(a.city.as_str())
                        .push_bind(a.lat)
                        .push_bind(a.lon)
                        .push_bind(a.address.as_str())
                        .push_bind(a.phone.as_str())
                        .push_bind(a.website.as_str())
                        .push_bind(a.sample);
                }
            );
        });
        self.bump_catalog_version().await?;
        counts.elapsed = started.elapsed();
        tracing::info!(
            catalog.rows = counts.total(),
            duration_ms = counts.elapsed.as_millis() as u64,
            "catalog imported"
        );
        Ok(counts)
    }

    /// The whole catalog, each table in import order.
    #[tracing::instrument(skip_all, err)]
    pub async fn load_catalog(&self) -> Result<CatalogData> {
        let mut data = CatalogData::default();
        on_pool!(self, write, |pool| {
            let rows = sqlx::query(
                "SELECT name, state, country, lat, lon, sample FROM cities ORDER BY position, name",
            )
            .fetch_all(pool)
            .await?;
            for row in rows {
                data.cities.push(City {
                    name: row.try_get("name")?,
                    state: row.try_get("state")?,
                    country: row.try_get("country")?,
                    lat: row.try_get("lat")?,
                    lon: row.try_get("lon")?,
                    sample: row.try_get("sample")?,
                });
            }
            let rows = sqlx::query(
                "SELECT source_id, number, origin, destination, flight_date, \
                 CAST(weekdays AS BIGINT) AS weekdays, departure, arrival, \
                 CAST(duration_min AS BIGINT) AS duration_min, price, distance_miles, sample \
                 FROM flights ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            for row in rows {
                let source_id: String = row.try_get("source_id")?;
                let schedule =
                    schedule_from_columns(row.try_get("flight_date")?, row.try_get("weekdays")?)
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!(
                                "flights {source_id}: no date and no weekdays"
                            ))
                        })?;
                data.flights.push(Flight {
                    number: row.try_get("number")?,
                    origin: row.try_get("origin")?,
                    destination: row.try_get("destination")?,
                    schedule,
                    departure: row.try_get::<NaiveTime, _>("departure")?,
                    arrival: row.try_get::<NaiveTime, _>("arrival")?,
                    duration_min: count(row.try_get("duration_min")?, "flights", "duration_min")?,
                    price: row.try_get("price")?,
                    distance_miles: row.try_get("distance_miles")?,
                    sample: row.try_get("sample")?,
                    source_id,
                });
            }
            let rows = sqlx::query(
                "SELECT source_id, origin, destination, CAST(duration_min AS BIGINT) AS duration_min, \
                 distance_km, duration_text, distance_text, sample FROM ground_routes ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            for row in rows {
                data.ground_routes.push(GroundRoute {
                    source_id: row.try_get("source_id")?,
                    origin: row.try_get("origin")?,
                    destination: row.try_get("destination")?,
                    duration_min: count(
                        row.try_get("duration_min")?,
                        "ground_routes",
                        "duration_min",
                    )?,
                    distance_km: row.try_get("distance_km")?,
                    duration_text: row.try_get("duration_text")?,
                    distance_text: row.try_get("distance_text")?,
                    sample: row.try_get("sample")?,
                });
            }
            let rows = sqlx::query(
                "SELECT source_id, name, city, room_type, price, \
                 CAST(minimum_nights AS BIGINT) AS minimum_nights, \
                 CAST(maximum_occupancy AS BIGINT) AS maximum_occupancy, rating, \
                 CAST(forbids AS BIGINT) AS forbids, sample FROM stays ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            for row in rows {
                let code: String = row.try_get("room_type")?;
                data.stays.push(Stay {
                    source_id: row.try_get("source_id")?,
                    name: row.try_get("name")?,
                    city: row.try_get("city")?,
                    room_type: room_type_from_code(&code)
                        .ok_or_else(|| StoreError::Corrupt(format!("stays.room_type {code:?}")))?,
                    price: row.try_get("price")?,
                    minimum_nights: count(
                        row.try_get("minimum_nights")?,
                        "stays",
                        "minimum_nights",
                    )?,
                    maximum_occupancy: count(
                        row.try_get("maximum_occupancy")?,
                        "stays",
                        "maximum_occupancy",
                    )?,
                    rating: row.try_get("rating")?,
                    forbids: house_rules_from_mask(row.try_get("forbids")?),
                    sample: row.try_get("sample")?,
                });
            }
            let rows = sqlx::query(
                "SELECT source_id, name, city, cuisines, average_cost, rating, sample \
                 FROM restaurants ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            for row in rows {
                let cuisines: String = row.try_get("cuisines")?;
                data.restaurants.push(Restaurant {
                    source_id: row.try_get("source_id")?,
                    name: row.try_get("name")?,
                    city: row.try_get("city")?,
                    cuisines: travelplanner::parse_cuisines(&cuisines),
                    average_cost: row.try_get("average_cost")?,
                    rating: row.try_get("rating")?,
                    sample: row.try_get("sample")?,
                });
            }
            let rows = sqlx::query(
                "SELECT source_id, name, city, lat, lon, address, phone, website, sample \
                 FROM attractions ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            for row in rows {
                data.attractions.push(Attraction {
                    source_id: row.try_get("source_id")?,
                    name: row.try_get("name")?,
                    city: row.try_get("city")?,
                    lat: row.try_get("lat")?,
                    lon: row.try_get("lon")?,
                    address: row.try_get("address")?,
                    phone: row.try_get("phone")?,
                    website: row.try_get("website")?,
                    sample: row.try_get("sample")?,
                });
            }
        });
        Ok(data)
    }

    /// The catalog's version: 0 before the first import, then one more for
    /// every import. A server polls it to reload a catalog imported by
    /// another process.
    #[tracing::instrument(skip_all, err)]
    pub async fn catalog_version(&self) -> Result<i64> {
        const QUERY: &str = "SELECT version FROM catalog_version WHERE id = 1";
        Ok(on_pool!(self, write, |pool| sqlx::query_scalar(QUERY)
            .fetch_one(pool)
            .await?))
    }

    async fn bump_catalog_version(&self) -> Result<()> {
        let now = Time(chrono::Utc::now());
        on_pool!(self, write, |pool| sqlx::query(
            "UPDATE catalog_version SET version = version + 1, imported_at = $1 WHERE id = 1"
        )
        .bind(now)
        .execute(pool)
        .await
        .map(drop)?);
        Ok(())
    }

    /// True when no catalog table holds a row (a fresh install).
    #[tracing::instrument(skip_all, err)]
    pub async fn catalog_is_empty(&self) -> Result<bool> {
        const QUERY: &str = "SELECT \
            (SELECT COUNT(*) FROM (SELECT 1 FROM cities LIMIT 1) AS a) + \
            (SELECT COUNT(*) FROM (SELECT 1 FROM flights LIMIT 1) AS b) + \
            (SELECT COUNT(*) FROM (SELECT 1 FROM ground_routes LIMIT 1) AS c) + \
            (SELECT COUNT(*) FROM (SELECT 1 FROM stays LIMIT 1) AS d) + \
            (SELECT COUNT(*) FROM (SELECT 1 FROM restaurants LIMIT 1) AS e) + \
            (SELECT COUNT(*) FROM (SELECT 1 FROM attractions LIMIT 1) AS f) AS n";
        let n: i64 = on_pool!(self, write, |pool| sqlx::query_scalar(QUERY)
            .fetch_one(pool)
            .await?);
        Ok(n == 0)
    }

    /// Loads the embedded demo catalog when the catalog is empty; returns
    /// whether it did. What a fresh install calls at start-up.
    #[tracing::instrument(skip_all, err)]
    pub async fn ensure_demo_catalog(&self) -> Result<bool> {
        let lock = self.catalog_lock().await?;
        let loaded = async {
            if !self.catalog_is_empty().await? {
                return Ok(false);
            }
            let data = demo_catalog().map_err(|e: DemoError| StoreError::Corrupt(e.to_string()))?;
            self.replace_catalog(&data, &mut |_| {}).await?;
            Ok(true)
        }
        .await;
        release(lock).await;
        loaded
    }
}

/// Checks a whole-number column (selected as BIGINT) fits a `u32`.
fn count(value: i64, table: &str, column: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{table}.{column} = {value}")))
}

fn room_type_code(room_type: RoomType) -> &'static str {
    match room_type {
        RoomType::EntireHome => "entire_home",
        RoomType::PrivateRoom => "private_room",
        RoomType::SharedRoom => "shared_room",
    }
}

fn room_type_from_code(code: &str) -> Option<RoomType> {
    [
        RoomType::EntireHome,
        RoomType::PrivateRoom,
        RoomType::SharedRoom,
    ]
    .into_iter()
    .find(|t| room_type_code(*t) == code)
}

/// Bit `i` set = `HouseRule::ALL[i]` forbidden (1 parties, 2 smoking,
/// 4 children under 10, 8 pets, 16 visitors).
fn house_rules_mask(rules: &[HouseRule]) -> i64 {
    HouseRule::ALL
        .iter()
        .enumerate()
        .filter(|(_, r)| rules.contains(r))
        .map(|(i, _)| 1i64 << i)
        .sum()
}

fn house_rules_from_mask(mask: i64) -> Vec<HouseRule> {
    HouseRule::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| *r)
        .collect()
}

/// `(flight_date, weekdays)`: a date, or a bitmask with bit 0 = Monday.
fn schedule_columns(schedule: &FlightSchedule) -> (Option<NaiveDate>, Option<i64>) {
    match schedule {
        FlightSchedule::On { date } => (Some(*date), None),
        FlightSchedule::Weekly { days } => (
            None,
            Some(
                days.iter()
                    .map(|d| 1i64 << d.num_days_from_monday())
                    .fold(0, |a, b| a | b),
            ),
        ),
    }
}

fn schedule_from_columns(date: Option<NaiveDate>, weekdays: Option<i64>) -> Option<FlightSchedule> {
    match (date, weekdays) {
        (Some(date), _) => Some(FlightSchedule::On { date }),
        (None, Some(mask)) => Some(FlightSchedule::Weekly {
            days: FlightSchedule::WEEK
                .into_iter()
                .filter(|d| mask & (1 << d.num_days_from_monday()) != 0)
                .collect(),
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;

    #[test]
    fn house_rules_round_trip_through_the_bitmask() {
        let rules = vec![HouseRule::Smoking, HouseRule::Visitors];
        assert_eq!(house_rules_mask(&rules), 2 + 16);
        assert_eq!(house_rules_from_mask(18), rules);
        assert_eq!(
            house_rules_from_mask(house_rules_mask(&HouseRule::ALL)),
            HouseRule::ALL
        );
    }

    #[test]
    fn weekly_schedules_round_trip_through_the_bitmask() {
        let schedule = FlightSchedule::Weekly {
            days: vec![Weekday::Mon, Weekday::Fri, Weekday::Sun],
        };
        let (date, mask) = schedule_columns(&schedule);
        assert_eq!((date, mask), (None, Some(1 + 16 + 64)));
        assert_eq!(schedule_from_columns(None, mask), Some(schedule));
        assert_eq!(schedule_from_columns(None, None), None);
    }

    #[test]
    fn room_types_round_trip_through_their_codes() {
        for t in [
            RoomType::EntireHome,
            RoomType::PrivateRoom,
            RoomType::SharedRoom,
        ] {
            assert_eq!(room_type_from_code(room_type_code(t)), Some(t));
        }
        assert_eq!(room_type_from_code("castle"), None);
    }
}
