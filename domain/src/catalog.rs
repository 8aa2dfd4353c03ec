//! The travel catalog's records: cities, flights, ground routes, stays,
//! restaurants and attractions.
//!
//! Every record keeps its `source_id` (e.g. `"tp:accommodations:1234"` for row
//! 1234 of the TravelPlanner file, `"demo:accommodations:3"` for the demo catalog) so a
//! plan can cite exactly which record it used, and a `sample` flag that is
//! true for the hand-made demo catalog (the UI shows it).
//!
//! Money is US dollars as `f64` (the sources carry cents only for stays);
//! durations are whole minutes; distances are kilometres for ground routes
//! and miles for flights, as in the sources.

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// A city and the state (or region) it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct City {
    pub name: String,
    pub state: String,
    pub country: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub sample: bool,
}

/// When a flight operates: on one date (TravelPlanner) or every week on a set
/// of weekdays (the demo catalog, so trips on any future date can be planned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FlightSchedule {
    On { date: NaiveDate },
    Weekly { days: Vec<Weekday> },
}

impl FlightSchedule {
    /// The days of the week, Monday first.
    pub const WEEK: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// A flight that operates every day of the week.
    pub fn daily() -> Self {
        FlightSchedule::Weekly {
            days: Self::WEEK.to_vec(),
        }
    }

    pub fn operates_on(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        match self {
            FlightSchedule::On { date: d } => *d == date,
            FlightSchedule::Weekly { days } => days.contains(&date.weekday()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flight {
    pub source_id: String,
    /// e.g. `F3573659`.
    pub number: String,
    pub origin: String,
    pub destination: String,
    pub schedule: FlightSchedule,
    /// Local departure and arrival times.
    pub departure: NaiveTime,
    pub arrival: NaiveTime,
    pub duration_min: u32,
    /// USD per person.
    pub price: f64,
    pub distance_miles: f64,
    pub sample: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroundMode {
    SelfDriving,
    Taxi,
}

impl GroundMode {
    /// Persons one vehicle carries (TravelPlanner: 5 per car, 4 per taxi).
    pub fn persons_per_vehicle(self) -> u32 {
        match self {
            GroundMode::SelfDriving => 5,
            GroundMode::Taxi => 4,
        }
    }

    /// Cost per vehicle in USD for a distance, as the benchmark derives it:
    /// self-driving `int(km × 0.05)`, taxi `int(km)`.
    pub fn cost_per_vehicle(self, distance_km: f64) -> f64 {
        match self {
            GroundMode::SelfDriving => (distance_km * 0.05).floor(),
            GroundMode::Taxi => distance_km.floor(),
        }
    }
}

/// A drivable route between two cities. One record serves both self-driving
/// and taxi; the cost of each mode follows from the distance
/// ([`GroundMode::cost_per_vehicle`]). Routes without a usable distance or
/// longer than a day are not in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundRoute {
    pub source_id: String,
    pub origin: String,
    pub destination: String,
    pub duration_min: u32,
    pub distance_km: f64,
    /// The duration and distance as the source wrote them (e.g. `"10 hours 55
    /// mins"`, `"1,144 km"`), for output formats that quote them.
    pub duration_text: String,
    pub distance_text: String,
    pub sample: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomType {
    EntireHome,
    PrivateRoom,
    SharedRoom,
}

impl RoomType {
    /// The label used by the TravelPlanner files.
    pub fn label(self) -> &'static str {
        match self {
            RoomType::EntireHome => "Entire home/apt",
            RoomType::PrivateRoom => "Private room",
            RoomType::SharedRoom => "Shared room",
        }
    }
}

/// Something a stay may forbid. A stay's `house_rules` lists what it forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HouseRule {
    Parties,
    Smoking,
    ChildrenUnder10,
    Pets,
    Visitors,
}

impl HouseRule {
    pub const ALL: [HouseRule; 5] = [
        HouseRule::Parties,
        HouseRule::Smoking,
        HouseRule::ChildrenUnder10,
        HouseRule::Pets,
        HouseRule::Visitors,
    ];

    /// The rule as the TravelPlanner files forbid it, e.g. `"No parties"`.
    pub fn prohibition(self) -> &'static str {
        match self {
            HouseRule::Parties => "No parties",
            HouseRule::Smoking => "No smoking",
            HouseRule::ChildrenUnder10 => "No children under 10",
            HouseRule::Pets => "No pets",
            HouseRule::Visitors => "No visitors",
        }
    }

    /// What the rule is about, in plain words, e.g. `"children under 10"`
    /// (the labels of TravelPlanner's queries, and the page's).
    pub fn label(self) -> &'static str {
        let prohibition = self.prohibition();
        prohibition.strip_prefix("No ").unwrap_or(prohibition)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stay {
    pub source_id: String,
    pub name: String,
    pub city: String,
    pub room_type: RoomType,
    /// USD per night for one unit.
    pub price: f64,
    pub minimum_nights: u32,
    /// Persons per unit: a group needs ceil(people / occupancy) units.
    pub maximum_occupancy: u32,
    pub rating: f64,
    /// What the stay forbids.
    pub forbids: Vec<HouseRule>,
    pub sample: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restaurant {
    pub source_id: String,
    pub name: String,
    pub city: String,
    pub cuisines: Vec<String>,
    /// USD per person per meal.
    pub average_cost: f64,
    pub rating: f64,
    pub sample: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attraction {
    pub source_id: String,
    pub name: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub phone: String,
    pub website: String,
    pub sample: bool,
}
