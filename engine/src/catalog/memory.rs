//! [`MemoryCatalog`]: the catalog held in memory with an index per lookup,
//! so the agents' many calls are hash lookups and slices, never scans.
//!
//! Records are regrouped once at construction: stays, restaurants and
//! attractions are sorted by city (keeping their source order within a
//! city) so each city owns one contiguous range; flights are grouped by
//! origin and destination and sorted by departure; ground routes are found
//! by origin then destination; cities by name and by state.

use std::collections::HashMap;
use std::mem::size_of;
use std::ops::Range;

use chrono::NaiveDate;
use wayfare_domain::catalog::{Attraction, City, Flight, GroundRoute, Restaurant, Stay};

use super::{Catalog, CatalogData};

/// The catalog with memory-resident indexes. Build it once; share it behind
/// an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct MemoryCatalog {
    data: CatalogData,
    city_by_name: HashMap<String, usize>,
    cities_by_state: HashMap<String, Vec<usize>>,
    /// origin → destination → indexes into `data.flights`, by departure.
    flights: HashMap<String, HashMap<String, Vec<usize>>>,
    /// origin → destination → index into `data.ground_routes`.
    ground_routes: HashMap<String, HashMap<String, usize>>,
    stays: HashMap<String, Range<usize>>,
    restaurants: HashMap<String, Range<usize>>,
    attractions: HashMap<String, Range<usize>>,
}

impl MemoryCatalog {
    /// Indexes `data`. Records of the same city keep their relative order;
    /// for a repeated city name or origin–destination route the first
    /// record wins.
    pub fn new(mut data: CatalogData) -> Self {
        let mut city_by_name = HashMap::with_capacity(data.cities.len());
        let mut cities_by_state: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, city) in data.cities.iter().enumerate() {
            if city_by_name.contains_key(&city.name) {
                continue;
            }
            city_by_name.insert(city.name.clone(), i);
            cities_by_state
                .entry(city.state.clone())
                .or_default()
                .push(i);
        }

        let mut flights: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        for (i, flight) in data.flights.iter().enumerate() {
            flights
                .entry(flight.origin.clone())
                .or_default()
                .entry(flight.destination.clone())
                .or_default()
                .push(i);
        }
        for by_destination in flights.values_mut() {
            for list in by_destination.values_mut() {
                list.sort_by_key(|&i| (data.flights[i].departure, i));
                list.shrink_to_fit();
            }
        }

        let mut ground_routes: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, route) in data.ground_routes.iter().enumerate() {
            ground_routes
                .entry(route.origin.clone())
                .or_default()
                .entry(route.destination.clone())
                .or_insert(i);
        }

        let stays = group_by_city(&mut data.stays, |s| &s.city);
        let restaurants = group_by_city(&mut data.restaurants, |r| &r.city);
        let attractions = group_by_city(&mut data.attractions, |a| &a.city);

        Self {
            data,
            city_by_name,
            cities_by_state,
            flights,
            ground_routes,
            stays,
            restaurants,
            attractions,
        }
    }

    /// The records, stays/restaurants/attractions regrouped by city.
    pub fn data(&self) -> &CatalogData {
        &self.data
    }

    /// Every flight leaving `origin`, on any date, by destination then
    /// departure.
    pub fn flights_from(&self, origin: &str) -> Vec<&Flight> {
        let Some(by_destination) = self.flights.get(origin) else {
            return Vec::new();
        };
        let mut destinations: Vec<&String> = by_destination.keys().collect();
        destinations.sort();
        destinations
            .into_iter()
            .flat_map(|d| by_destination[d].iter().map(|&i| &self.data.flights[i]))
            .collect()
    }

    /// Every drivable route leaving `origin`, by destination.
    pub fn ground_routes_from(&self, origin: &str) -> Vec<&GroundRoute> {
        let Some(by_destination) = self.ground_routes.get(origin) else {
            return Vec::new();
        };
        let mut routes: Vec<&GroundRoute> = by_destination
            .values()
            .map(|&i| &self.data.ground_routes[i])
            .collect();
        routes.sort_by(|a, b| a.destination.cmp(&b.destination));
        routes
    }

    /// An estimate of the heap and inline bytes the records and indexes
    /// take (string capacities, vectors, hash tables at their capacity).
    /// `engine/benches/catalog.rs` measures the real figure with a counting
    /// allocator.
    pub fn memory_bytes(&self) -> usize {
        fn s(text: &String) -> usize {
            text.capacity()
        }
        fn map_overhead<K, V>(map: &HashMap<K, V>) -> usize {
            // hashbrown: one control byte per bucket plus the slots.
            map.capacity() * (size_of::<(K, V)>() + 1)
        }
        let d = &self.data;
        let mut total = size_of::<Self>();
        total += d.cities.capacity() * size_of::<City>()
            + d.cities
                .iter()
                .map(|c| s(&c.name) + s(&c.state) + s(&c.country))
                .sum::<usize>();
        total += d.flights.capacity() * size_of::<Flight>()
            + d.flights
                .iter()
                .map(|f| {
                    s(&f.source_id)
                        + s(&f.number)
                        + s(&f.origin)
                        + s(&f.destination)
                        + match &f.schedule {
                            wayfare_domain::catalog::FlightSchedule::Weekly { days } => {
                                days.capacity()
                            }
                            wayfare_domain::catalog::FlightSchedule::On { .. } => 0,
                        }
                })
                .sum::<usize>();
        total += d.ground_routes.capacity() * size_of::<GroundRoute>()
            + d.ground_routes
                .iter()
                .map(|r| {
                    s(&r.source_id)
                        + s(&r.origin)
                        + s(&r.destination)
                        + s(&r.duration_text)
                        + s(&r.distance_text)
                })
                .sum::<usize>();
        total += d.stays.capacity() * size_of::<Stay>()
            + d.stays
                .iter()
                .map(|x| s(&x.source_id) + s(&x.name) + s(&x.city) + x.forbids.capacity())
                .sum::<usize>();
        total += d.restaurants.capacity() * size_of::<Restaurant>()
            + d.restaurants
                .iter()
                .map(|x| {
                    s(&x.source_id)
                        + s(&x.name)
                        + s(&x.city)
                        + x.cuisines.capacity() * size_of::<String>()
                        + x.cuisines.iter().map(s).sum::<usize>()
                })
                .sum::<usize>();
        total += d.attractions.capacity() * size_of::<Attraction>()
            + d.attractions
                .iter()
                .map(|x| {
                    s(&x.source_id)
                        + s(&x.name)
                        + s(&x.city)
                        + s(&x.address)
                        + s(&x.phone)
                        + s(&x.website)
                })
                .sum::<usize>();
        total += map_overhead(&self.city_by_name) + self.city_by_name.keys().map(s).sum::<usize>();
        total += map_overhead(&self.cities_by_state)
            + self
                .cities_by_state
                .iter()
                .map(|(k, v)| s(k) + v.capacity() * size_of::<usize>())
                .sum::<usize>();
        total += map_overhead(&self.flights)
            + self
                .flights
                .iter()
                .map(|(k, m)| {
                    s(k) + map_overhead(m)
                        + m.iter()
                            .map(|(k, v)| s(k) + v.capacity() * size_of::<usize>())
                            .sum::<usize>()
                })
                .sum::<usize>();
        total += map_overhead(&self.ground_routes)
            + self
                .ground_routes
                .iter()
                .map(|(k, m)| s(k) + map_overhead(m) + m.keys().map(s).sum::<usize>())
                .sum::<usize>();
        for index in [&self.stays, &self.restaurants, &self.attractions] {
            total += map_overhead(index) + index.keys().map(s).sum::<usize>();
        }
        total
    }
}

/// Sorts `records` by city (stable) and returns each city's range.
fn group_by_city<T>(
    records: &mut [T],
    city: impl Fn(&T) -> &String,
) -> HashMap<String, Range<usize>> {
    // Cities in order of first appearance, so the regrouped order follows
    // the source as closely as a contiguous layout allows.
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for record in records.iter() {
        let next = first_seen.len();
        first_seen.entry(city(record).clone()).or_insert(next);
    }
    records.sort_by_key(|r| first_seen[city(r)]);
    let mut ranges = HashMap::with_capacity(first_seen.len());
    let mut start = 0;
    while start < records.len() {
        let name = city(&records[start]);
        let mut end = start + 1;
        while end < records.len() && city(&records[end]) == name {
            end += 1;
        }
        ranges.insert(name.clone(), start..end);
        start = end;
    }
    ranges
}

impl Catalog for MemoryCatalog {
    fn cities(&self) -> &[City] {
        &self.data.cities
    }

    fn city(&self, name: &str) -> Option<&City> {
        self.city_by_name.get(name).map(|&i| &self.data.cities[i])
    }

    fn cities_in_state(&self, state: &str) -> Vec<&City> {
        self.cities_by_state
            .get(state)
            .map(|list| list.iter().map(|&i| &self.data.cities[i]).collect())
            .unwrap_or_default()
    }

    fn flights(&self, origin: &str, destination: &str, date: NaiveDate) -> Vec<&Flight> {
        self.flights
            .get(origin)
            .and_then(|m| m.get(destination))
            .map(|list| {
                list.iter()
                    .map(|&i| &self.data.flights[i])
                    .filter(|f| f.schedule.operates_on(date))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn ground_route(&self, origin: &str, destination: &str) -> Option<&GroundRoute> {
        self.ground_routes
            .get(origin)
            .and_then(|m| m.get(destination))
            .map(|&i| &self.data.ground_routes[i])
    }

    fn stays_in(&self, city: &str) -> &[Stay] {
        self.stays
            .get(city)
            .map_or(&[], |r| &self.data.stays[r.clone()])
    }

    fn restaurants_in(&self, city: &str) -> &[Restaurant] {
        self.restaurants
            .get(city)
            .map_or(&[], |r| &self.data.restaurants[r.clone()])
    }

    fn attractions_in(&self, city: &str) -> &[Attraction] {
        self.attractions
            .get(city)
            .map_or(&[], |r| &self.data.attractions[r.clone()])
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, Weekday};
    use wayfare_domain::catalog::{FlightSchedule, RoomType};

    use super::*;

    fn city(name: &str, state: &str) -> City {
        City {
            name: name.to_owned(),
            state: state.to_owned(),
            country: "United States".to_owned(),
            lat: None,
            lon: None,
            sample: false,
        }
    }

    fn flight(
        id: &str,
        origin: &str,
        destination: &str,
        dep: u32,
        schedule: FlightSchedule,
    ) -> Flight {
        Flight {
            source_id: id.to_owned(),
            number: id.to_owned(),
            origin: origin.to_owned(),
            destination: destination.to_owned(),
            schedule,
            departure: NaiveTime::from_hms_opt(dep, 0, 0).expect("time"),
            arrival: NaiveTime::from_hms_opt(dep + 2, 0, 0).expect("time"),
            duration_min: 120,
            price: 100.0,
            distance_miles: 500.0,
            sample: false,
        }
    }

    fn stay(id: &str, city: &str) -> Stay {
        Stay {
            source_id: id.to_owned(),
            name: id.to_owned(),
            city: city.to_owned(),
            room_type: RoomType::PrivateRoom,
            price: 100.0,
            minimum_nights: 1,
            maximum_occupancy: 2,
            rating: 4.0,
            forbids: vec![],
            sample: false,
        }
    }

    fn route(id: &str, origin: &str, destination: &str, minutes: u32) -> GroundRoute {
        GroundRoute {
            source_id: id.to_owned(),
            origin: origin.to_owned(),
            destination: destination.to_owned(),
            duration_min: minutes,
            distance_km: 100.0,
            duration_text: String::new(),
            distance_text: String::new(),
            sample: false,
        }
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, 3, d).expect("date")
    }

    fn catalog() -> MemoryCatalog {
        MemoryCatalog::new(CatalogData {
            cities: vec![
                city("Denver", "Colorado"),
                city("Seattle", "Washington"),
                city("Boulder", "Colorado"),
            ],
            flights: vec![
                flight(
                    "late",
                    "Seattle",
                    "Denver",
                    18,
                    FlightSchedule::On { date: date(1) },
                ),
                flight(
                    "early",
                    "Seattle",
                    "Denver",
                    6,
                    FlightSchedule::On { date: date(1) },
                ),
                flight(
                    "other-day",
                    "Seattle",
                    "Denver",
                    9,
                    FlightSchedule::On { date: date(2) },
                ),
                flight(
                    "tuesdays",
                    "Seattle",
                    "Denver",
                    12,
                    FlightSchedule::Weekly {
                        days: vec![Weekday::Tue],
                    },
                ),
                flight(
                    "back",
                    "Denver",
                    "Seattle",
                    7,
                    FlightSchedule::On { date: date(1) },
                ),
            ],
            ground_routes: vec![
                route("first", "Denver", "Boulder", 35),
                route("second", "Denver", "Boulder", 99),
                route("back", "Boulder", "Denver", 36),
            ],
            stays: vec![
                stay("d1", "Denver"),
                stay("b1", "Boulder"),
                stay("d2", "Denver"),
                stay("b2", "Boulder"),
                stay("d3", "Denver"),
            ],
            restaurants: vec![],
            attractions: vec![],
        })
    }

    #[test]
    fn stays_of_a_city_come_as_one_slice_in_source_order() {
        let catalog = catalog();
        let ids: Vec<&str> = catalog
            .stays_in("Denver")
            .iter()
            .map(|s| s.source_id.as_str())
            .collect();
        assert_eq!(ids, ["d1", "d2", "d3"]);
        let ids: Vec<&str> = catalog
            .stays_in("Boulder")
            .iter()
            .map(|s| s.source_id.as_str())
            .collect();
        assert_eq!(ids, ["b1", "b2"]);
        assert!(catalog.stays_in("Atlantis").is_empty());
        assert!(catalog.restaurants_in("Denver").is_empty());
    }

    #[test]
    fn flights_on_a_date_come_by_departure_time() {
        let catalog = catalog();
        // 2022-03-01 was a Tuesday: the weekly flight operates too.
        let ids: Vec<&str> = catalog
            .flights("Seattle", "Denver", date(1))
            .iter()
            .map(|f| f.source_id.as_str())
            .collect();
        assert_eq!(ids, ["early", "tuesdays", "late"]);
        let ids: Vec<&str> = catalog
            .flights("Seattle", "Denver", date(2))
            .iter()
            .map(|f| f.source_id.as_str())
            .collect();
        assert_eq!(ids, ["other-day"]);
        assert!(catalog.flights("Denver", "Boulder", date(1)).is_empty());
    }

    #[test]
    fn the_first_ground_route_of_a_pair_wins_and_direction_matters() {
        let catalog = catalog();
        let route = catalog.ground_route("Denver", "Boulder").expect("route");
        assert_eq!(route.source_id, "first");
        assert_eq!(
            catalog
                .ground_route("Boulder", "Denver")
                .map(|r| r.duration_min),
            Some(36)
        );
        assert!(catalog.ground_route("Denver", "Seattle").is_none());
        assert_eq!(catalog.ground_routes_from("Denver").len(), 1);
    }

    #[test]
    fn cities_are_found_by_name_and_by_state_in_source_order() {
        let catalog = catalog();
        assert_eq!(
            catalog.city("Boulder").map(|c| c.state.as_str()),
            Some("Colorado")
        );
        assert!(catalog.city("boulder").is_none());
        let names: Vec<&str> = catalog
            .cities_in_state("Colorado")
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["Denver", "Boulder"]);
        assert_eq!(catalog.cities().len(), 3);
        assert!(catalog.cities_in_state("Texas").is_empty());
    }

    #[test]
    fn the_memory_estimate_grows_with_the_records() {
        let empty = MemoryCatalog::new(CatalogData::default()).memory_bytes();
        assert!(catalog().memory_bytes() > empty + 5 * size_of::<Stay>());
    }
}
