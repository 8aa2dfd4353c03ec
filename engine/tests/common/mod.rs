//! Test support: the TravelPlanner sandbox loaded into an in-memory catalog.
//!
//! A throwaway loader for tests and benches only, until the production
//! importer (`catalog::travelplanner`, branch `catalog`) lands; it follows
//! RULES.md (rows with an empty field are left out, unusable routes too, the
//! first row wins for duplicate pairs).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::{NaiveDate, NaiveTime};
use wayfare_domain::catalog::{
    Attraction, City, Flight, FlightSchedule, GroundRoute, HouseRule, Restaurant, RoomType, Stay,
};
use wayfare_engine::catalog::{Catalog, CatalogData};

/// `<workspace>/../shared/datasets/travelplanner`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/travelplanner")
}

/// The sandbox catalog, loaded once per test binary; `None` (with a loud
/// message) when the data folder is absent.
pub fn catalog() -> Option<Arc<dyn Catalog>> {
    static CATALOG: OnceLock<Option<Arc<TestCatalog>>> = OnceLock::new();
    let loaded = CATALOG.get_or_init(|| {
        let dir = data_dir();
        if !dir.exists() {
            eprintln!(
                "!!!!! SKIPPING: TravelPlanner data not found at {} !!!!!",
                dir.display()
            );
            return None;
        }
        Some(Arc::new(TestCatalog::new(load(&dir))))
    });
    loaded.clone().map(|c| c as Arc<dyn Catalog>)
}

fn read(dir: &std::path::Path, file: &str) -> csv::Reader<std::fs::File> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(dir.join(file))
        .expect("open csv")
}

fn minutes(text: &str) -> Option<u32> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut total = 0u32;
    for pair in words.chunks(2) {
        let n: u32 = pair.first()?.parse().ok()?;
        let unit = pair.get(1)?;
        if unit.starts_with("hour") {
            total += n * 60;
        } else if unit.starts_with("min") {
            total += n;
        } else {
            return None;
        }
    }
    Some(total)
}

pub fn load(dir: &std::path::Path) -> CatalogData {
    let mut data = CatalogData::default();
    let cities = std::fs::read_to_string(dir.join("cities.txt")).expect("cities.txt");
    for line in cities.lines() {
        if let Some((city, state)) = line.split_once('\t') {
            data.cities.push(City {
                name: city.trim().to_string(),
                state: state.trim().to_string(),
                country: "United States".into(),
                lat: None,
                lon: None,
                sample: false,
            });
        }
    }
    for rec in read(dir, "flights.csv").records() {
        let r = rec.expect("flight row");
        let date = NaiveDate::parse_from_str(&r[5], "%Y-%m-%d").expect("date");
        data.flights.push(Flight {
            source_id: format!("tp:flights:{}", &r[0]),
            number: r[0].to_string(),
            origin: r[6].to_string(),
            destination: r[7].to_string(),
            schedule: FlightSchedule::On { date },
            departure: NaiveTime::parse_from_str(&r[2], "%H:%M").expect("dep"),
            arrival: NaiveTime::parse_from_str(&r[3], "%H:%M").expect("arr"),
            duration_min: 0,
            price: r[1].parse().expect("price"),
            distance_miles: r[8].parse().unwrap_or(0.0),
            sample: false,
        });
    }
    let mut seen = HashSet::new();
    for (i, rec) in read(dir, "distance.csv").records().enumerate() {
        let r = rec.expect("distance row");
        let (o, d, dur, dist) = (&r[0], &r[1], &r[3], &r[4]);
        if !seen.insert((o.to_string(), d.to_string())) {
            continue;
        }
        if dur.is_empty() || dist.is_empty() || dur.contains("day") {
            continue;
        }
        let km: f64 = match dist.trim_end_matches(" km").replace(',', "").parse() {
            Ok(km) => km,
            Err(_) => continue,
        };
        data.ground_routes.push(GroundRoute {
            source_id: format!("tp:distance:{i}"),
            origin: o.to_string(),
            destination: d.to_string(),
            duration_min: minutes(dur).unwrap_or(0),
            distance_km: km,
            duration_text: dur.to_string(),
            distance_text: dist.to_string(),
            sample: false,
        });
    }
    for rec in read(dir, "accommodations.csv").records() {
        let r = rec.expect("stay row");
        if r.iter().any(|f| f.is_empty()) {
            continue;
        }
        let room_type = match &r[2] {
            "Entire home/apt" => RoomType::EntireHome,
            "Private room" => RoomType::PrivateRoom,
            _ => RoomType::SharedRoom,
        };
        let forbids = HouseRule::ALL
            .into_iter()
            .filter(|rule| r[6].contains(rule.prohibition()))
            .collect();
        data.stays.push(Stay {
            source_id: format!("tp:accommodations:{}", &r[0]),
            name: r[1].to_string(),
            city: r[8].to_string(),
            room_type,
            price: r[3].parse().expect("price"),
            minimum_nights: r[4].parse::<f64>().expect("min nights") as u32,
            maximum_occupancy: r[7].parse::<f64>().expect("occ") as u32,
            rating: r[5].parse().unwrap_or(0.0),
            forbids,
            sample: false,
        });
    }
    for rec in read(dir, "restaurants.csv").records() {
        let r = rec.expect("restaurant row");
        if r.iter().any(|f| f.is_empty()) {
            continue;
        }
        data.restaurants.push(Restaurant {
            source_id: format!("tp:restaurants:{}", &r[0]),
            name: r[1].to_string(),
            city: r[2].to_string(),
            cuisines: r[3].split(',').map(|c| c.trim().to_string()).collect(),
            average_cost: r[4].parse().expect("cost"),
            rating: r[5].parse().unwrap_or(0.0),
            sample: false,
        });
    }
    for (i, rec) in read(dir, "attractions.csv").records().enumerate() {
        let r = rec.expect("attraction row");
        if r.iter().any(|f| f.is_empty()) {
            continue;
        }
        data.attractions.push(Attraction {
            source_id: format!("tp:attractions:{i}"),
            name: r[0].to_string(),
            city: r[6].to_string(),
            lat: r[1].parse().unwrap_or(0.0),
            lon: r[2].parse().unwrap_or(0.0),
            address: r[3].to_string(),
            phone: r[4].to_string(),
            website: r[5].to_string(),
            sample: false,
        });
    }
    data
}

/// A plain in-memory catalog for tests.
pub struct TestCatalog {
    cities: Vec<City>,
    flights: Vec<Flight>,
    routes: HashMap<(String, String), GroundRoute>,
    stays: HashMap<String, Vec<Stay>>,
    restaurants: HashMap<String, Vec<Restaurant>>,
    attractions: HashMap<String, Vec<Attraction>>,
}

impl TestCatalog {
    pub fn new(data: CatalogData) -> Self {
        let mut stays: HashMap<String, Vec<Stay>> = HashMap::new();
        for s in data.stays {
            stays.entry(s.city.clone()).or_default().push(s);
        }
        let mut restaurants: HashMap<String, Vec<Restaurant>> = HashMap::new();
        for r in data.restaurants {
            restaurants.entry(r.city.clone()).or_default().push(r);
        }
        let mut attractions: HashMap<String, Vec<Attraction>> = HashMap::new();
        for a in data.attractions {
            attractions.entry(a.city.clone()).or_default().push(a);
        }
        let routes = data
            .ground_routes
            .into_iter()
            .map(|r| ((r.origin.clone(), r.destination.clone()), r))
            .collect();
        let mut flights = data.flights;
        flights.sort_by_key(|f| f.departure);
        Self {
            cities: data.cities,
            flights,
            routes,
            stays,
            restaurants,
            attractions,
        }
    }
}

impl Catalog for TestCatalog {
    fn cities(&self) -> &[City] {
        &self.cities
    }
    fn city(&self, name: &str) -> Option<&City> {
        self.cities.iter().find(|c| c.name == name)
    }
    fn cities_in_state(&self, state: &str) -> Vec<&City> {
        self.cities.iter().filter(|c| c.state == state).collect()
    }
    fn flights(&self, origin: &str, destination: &str, date: NaiveDate) -> Vec<&Flight> {
        self.flights
            .iter()
            .filter(|f| {
                f.origin == origin && f.destination == destination && f.schedule.operates_on(date)
            })
            .collect()
    }
    fn ground_route(&self, origin: &str, destination: &str) -> Option<&GroundRoute> {
        self.routes
            .get(&(origin.to_string(), destination.to_string()))
    }
    fn stays_in(&self, city: &str) -> &[Stay] {
        self.stays.get(city).map_or(&[], |v| v.as_slice())
    }
    fn restaurants_in(&self, city: &str) -> &[Restaurant] {
        self.restaurants.get(city).map_or(&[], |v| v.as_slice())
    }
    fn attractions_in(&self, city: &str) -> &[Attraction] {
        self.attractions.get(city).map_or(&[], |v| v.as_slice())
    }
}

/// A dev query with its labels.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DevQuery {
    pub idx: u32,
    pub query: String,
    pub level: String,
    pub org: String,
    pub dest: String,
    pub days: u32,
    pub visiting_city_number: u32,
    pub date: Vec<String>,
    pub people_number: u32,
    pub budget: f64,
    pub local_constraint: serde_json::Value,
    pub reference_plan: serde_json::Value,
}
