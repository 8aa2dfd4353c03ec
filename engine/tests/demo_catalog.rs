//! The embedded demo catalog: it loads, every record is a sample, and the
//! trips a fresh install offers (3, 5 and 7 days, one city or two or three
//! cities of one state) have transport, stays, meals and attractions on any
//! date.

use std::collections::HashSet;

use chrono::{Days, NaiveDate};
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::catalog::{Catalog, MemoryCatalog};

fn catalog() -> MemoryCatalog {
    MemoryCatalog::new(demo_catalog().expect("the demo catalog loads"))
}

#[test]
fn every_demo_record_is_a_sample_with_a_demo_source_id() {
    let data = demo_catalog().expect("loads");
    assert!(data.cities.len() >= 10);
    assert!(
        data.cities
            .iter()
            .all(|c| c.sample && c.lat.is_some() && c.lon.is_some())
    );
    let ids: Vec<(&str, bool)> = data
        .flights
        .iter()
        .map(|f| (f.source_id.as_str(), f.sample))
        .chain(
            data.ground_routes
                .iter()
                .map(|r| (r.source_id.as_str(), r.sample)),
        )
        .chain(data.stays.iter().map(|s| (s.source_id.as_str(), s.sample)))
        .chain(
            data.restaurants
                .iter()
                .map(|r| (r.source_id.as_str(), r.sample)),
        )
        .chain(
            data.attractions
                .iter()
                .map(|a| (a.source_id.as_str(), a.sample)),
        )
        .collect();
    assert!(
        ids.iter()
            .all(|(id, sample)| *sample && id.starts_with("demo:"))
    );
    let unique: HashSet<&str> = ids.iter().map(|(id, _)| *id).collect();
    assert_eq!(unique.len(), ids.len(), "source ids repeat");
}

#[test]
fn every_demo_record_names_a_city_of_the_demo() {
    let catalog = catalog();
    let data = catalog.data();
    let known = |city: &str| catalog.city(city).is_some();
    assert!(data.stays.iter().all(|s| known(&s.city)));
    assert!(data.restaurants.iter().all(|r| known(&r.city)));
    assert!(data.attractions.iter().all(|a| known(&a.city)));
    assert!(
        data.flights
            .iter()
            .all(|f| known(&f.origin) && known(&f.destination))
    );
    assert!(
        data.ground_routes
            .iter()
            .all(|r| known(&r.origin) && known(&r.destination))
    );
}

#[test]
fn the_seven_cuisines_of_the_benchmark_are_served_in_every_city() {
    let catalog = catalog();
    for city in catalog.cities() {
        for cuisine in [
            "Chinese",
            "American",
            "Italian",
            "Mexican",
            "Indian",
            "Mediterranean",
            "French",
        ] {
            assert!(
                catalog
                    .restaurants_in(&city.name)
                    .iter()
                    .any(|r| r.cuisines.iter().any(|c| c == cuisine)),
                "no {cuisine} food in {}",
                city.name
            );
        }
    }
}

/// Whether a leg can be travelled on `date`: by flight or taxi (`flying`),
/// or by car.
fn leg(catalog: &MemoryCatalog, from: &str, to: &str, date: NaiveDate, flying: bool) -> bool {
    let road = catalog.ground_route(from, to).is_some();
    if flying {
        road || !catalog.flights(from, to, date).is_empty()
    } else {
        road
    }
}

/// Checks a trip from `origin` visiting `cities` in order over `days` days
/// starting `start`, nights split as evenly as possible; returns what is
/// missing, or `None` when it is plannable.
fn check_trip(
    catalog: &MemoryCatalog,
    origin: &str,
    cities: &[&str],
    days: u64,
    start: NaiveDate,
) -> Option<String> {
    let nights = days - 1;
    let n = cities.len() as u64;
    let per_city: Vec<u64> = (0..n)
        .map(|i| nights / n + u64::from(i < nights % n))
        .collect();
    let mut legs = vec![(origin, cities[0], start)];
    let mut day = 0;
    for (i, city) in cities.iter().enumerate() {
        day += per_city[i];
        let next = cities.get(i + 1).copied().unwrap_or(origin);
        legs.push((city, next, start + Days::new(day)));
    }
    legs.remove(legs.len() - 1);
    legs.push((cities[cities.len() - 1], origin, start + Days::new(nights)));
    let by_air = legs.iter().all(|(a, b, d)| leg(catalog, a, b, *d, true));
    let by_car = legs.iter().all(|(a, b, d)| leg(catalog, a, b, *d, false));
    if !by_air && !by_car {
        return Some(format!("no consistent transport for {legs:?}"));
    }
    for (i, city) in cities.iter().enumerate() {
        let nights = per_city[i] as u32;
        let city_days = per_city[i] + 1;
        if !catalog
            .stays_in(city)
            .iter()
            .any(|s| s.minimum_nights <= nights && s.maximum_occupancy >= 2)
        {
            return Some(format!("no stay for {nights} nights in {city}"));
        }
        if (catalog.restaurants_in(city).len() as u64) < 3 * city_days {
            return Some(format!("fewer than 3 restaurants a day in {city}"));
        }
        if (catalog.attractions_in(city).len() as u64) < city_days {
            return Some(format!("fewer than one attraction a day in {city}"));
        }
    }
    None
}

#[test]
fn one_city_trips_of_three_five_and_seven_days_are_plannable_on_any_weekday() {
    let catalog = catalog();
    let monday = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    let trips = [
        ("Chicago", "Seattle"),
        ("New York", "San Francisco"),
        ("Seattle", "New York"),
        ("Portland", "Denver"),
        ("Denver", "Chicago"),
        ("San Diego", "Portland"),
        ("New York", "Los Angeles"),
        ("Chicago", "San Diego"),
    ];
    for (origin, destination) in trips {
        for days in [3, 5, 7] {
            for offset in 0..7 {
                let start = monday + Days::new(offset);
                if let Some(problem) = check_trip(&catalog, origin, &[destination], days, start) {
                    panic!("{days} days {origin} → {destination} from {start}: {problem}");
                }
            }
        }
    }
}

#[test]
fn multi_city_trips_within_a_state_are_plannable_on_any_weekday() {
    let catalog = catalog();
    let monday = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    let trips: [(&str, &[&str], u64); 8] = [
        ("Chicago", &["Denver", "Boulder", "Colorado Springs"], 7),
        ("New York", &["Denver", "Colorado Springs"], 5),
        (
            "New York",
            &["San Francisco", "Los Angeles", "San Diego"],
            7,
        ),
        ("Chicago", &["Los Angeles", "San Diego"], 5),
        ("Portland", &["Seattle", "Tacoma", "Spokane"], 7),
        ("Chicago", &["Seattle", "Spokane"], 5),
        ("Denver", &["San Diego", "Los Angeles"], 5),
        ("Portland", &["Seattle", "Tacoma"], 5),
    ];
    for (origin, cities, days) in trips {
        let state = &catalog.city(cities[0]).expect("city").state;
        assert!(
            cities
                .iter()
                .all(|c| catalog.city(c).is_some_and(|c| &c.state == state))
        );
        for offset in 0..7 {
            let start = monday + Days::new(offset);
            if let Some(problem) = check_trip(&catalog, origin, cities, days, start) {
                panic!("{days} days {origin} → {cities:?} from {start}: {problem}");
            }
        }
    }
}

#[test]
fn every_state_with_several_cities_links_them_by_road() {
    let catalog = catalog();
    for state in ["Washington", "Colorado", "California"] {
        let cities = catalog.cities_in_state(state);
        assert_eq!(cities.len(), 3, "{state}");
        for a in &cities {
            for b in &cities {
                if a.name != b.name {
                    let route = catalog.ground_route(&a.name, &b.name).expect("road");
                    assert!(route.duration_min < 24 * 60 && route.distance_km > 0.0);
                }
            }
        }
    }
}

#[test]
fn no_demo_file_has_an_empty_field() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/demo");
    for name in [
        "accommodations.csv",
        "attractions.csv",
        "restaurants.csv",
        "distance.csv",
        "flights.csv",
    ] {
        let mut reader = csv::Reader::from_path(dir.join(name)).expect("open");
        for record in reader.records() {
            let record = record.expect("row");
            let line = record.position().map_or(0, |p| p.line());
            assert!(
                record.iter().skip(1).all(|f| !f.trim().is_empty()),
                "{name}:{line} has an empty field"
            );
        }
    }
    let cities = std::fs::read_to_string(dir.join("cities.txt")).expect("read");
    assert!(cities.lines().all(|l| l.split('\t').count() == 4));
}
