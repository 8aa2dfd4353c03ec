//! A planned trip: the [`Itinerary`], day by day.
//!
//! Every item names its catalog record (`source_id`), its cost for the whole
//! party and a one-line reason, and has a stable component id (`"d2.dinner"`,
//! `"stay.Denver"`, `"d1.leg1"`) so a later change can target it.
//!
//! Where the catalog knows them, a day keeps its records' coordinates
//! ([`ItineraryDay::coords`]) and a plan its cities' ([`Itinerary::city_coords`]),
//! for the route map. Both are optional: plans stored before they were kept
//! still decode, and simply have no map.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// A restaurant meal, an attraction visit or a stay, as planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanItem {
    /// Stable component id, e.g. `"d2.lunch"`.
    pub id: String,
    pub name: String,
    pub city: String,
    /// The catalog record used, when known.
    pub source_id: Option<String>,
    /// USD for the whole party (a stay: per night, all units).
    pub cost: f64,
    pub reason: String,
}

/// A place on the globe, in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// `None` unless both are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Option<Self> {
        (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
            .then_some(Self { lat, lon })
    }
}

/// How a leg is travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum TravelMode {
    Flight,
    SelfDriving,
    Taxi,
}

impl TravelMode {
    pub fn label(self) -> &'static str {
        match self {
            TravelMode::Flight => "Flight",
            TravelMode::SelfDriving => "Self-driving",
            TravelMode::Taxi => "Taxi",
        }
    }
}

/// One leg between two cities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransportLeg {
    pub id: String,
    pub mode: TravelMode,
    pub from: String,
    pub to: String,
    /// Flight number, for flights.
    pub number: Option<String>,
    pub departure: Option<NaiveTime>,
    pub arrival: Option<NaiveTime>,
    /// As the source wrote them, e.g. `"2 hours 13 minutes"`, `"1,144 km"`.
    pub duration_text: String,
    pub distance_text: String,
    /// USD for the whole party.
    pub cost: f64,
    pub source_id: Option<String>,
    pub reason: String,
}

/// One day of the trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItineraryDay {
    /// 1-based day number.
    pub day: u32,
    pub date: Option<NaiveDate>,
    /// The city left on a travel day.
    pub from: Option<String>,
    /// The city the day is spent in (on a travel day, the one arrived in).
    pub city: String,
    pub transport: Vec<TransportLeg>,
    pub breakfast: Option<PlanItem>,
    pub lunch: Option<PlanItem>,
    pub dinner: Option<PlanItem>,
    /// In visiting order.
    pub attractions: Vec<PlanItem>,
    /// Where the night is spent; `None` on the last day.
    pub accommodation: Option<PlanItem>,
    /// Coordinates of the day's records that have them, by `source_id`
    /// (keyed by record, not by component id, so an item swapped for
    /// another never shows the old one's place).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub coords: BTreeMap<String, GeoPoint>,
}

impl ItineraryDay {
    /// An empty day spent in `city`.
    pub fn new(day: u32, date: Option<NaiveDate>, city: impl Into<String>) -> Self {
        Self {
            day,
            date,
            from: None,
            city: city.into(),
            transport: Vec::new(),
            breakfast: None,
            lunch: None,
            dinner: None,
            attractions: Vec::new(),
            accommodation: None,
            coords: BTreeMap::new(),
        }
    }

    /// Where an item of this day is, when known.
    pub fn point_of(&self, item: &PlanItem) -> Option<GeoPoint> {
        item.source_id
            .as_ref()
            .and_then(|id| self.coords.get(id))
            .copied()
    }

    /// The day's meals in order, with their names.
    pub fn meals(&self) -> [(MealKind, Option<&PlanItem>); 3] {
        [
            (MealKind::Breakfast, self.breakfast.as_ref()),
            (MealKind::Lunch, self.lunch.as_ref()),
            (MealKind::Dinner, self.dinner.as_ref()),
        ]
    }

    pub fn is_travel_day(&self) -> bool {
        self.from.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MealKind {
    Breakfast,
    Lunch,
    Dinner,
}

impl MealKind {
    pub const ALL: [MealKind; 3] = [MealKind::Breakfast, MealKind::Lunch, MealKind::Dinner];

    pub fn label(self) -> &'static str {
        match self {
            MealKind::Breakfast => "breakfast",
            MealKind::Lunch => "lunch",
            MealKind::Dinner => "dinner",
        }
    }
}

/// Costs per category, USD for the whole party.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    pub transport: f64,
    pub accommodation: f64,
    pub meals: f64,
    pub attractions: f64,
    pub total: f64,
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Itinerary {
    pub origin: String,
    pub people: u32,
    pub days: Vec<ItineraryDay>,
    pub totals: Totals,
    /// The verifier's judgement of this plan.
    pub verdict: Verdict,
    /// Coordinates of the origin and the visited cities, by city name, when
    /// the catalog has them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub city_coords: BTreeMap<String, GeoPoint>,
}

impl Itinerary {
    /// Recomputes [`Itinerary::totals`] from the items.
    pub fn recompute_totals(&mut self) {
        let mut totals = Totals::default();
        for day in &self.days {
            totals.transport += day.transport.iter().map(|leg| leg.cost).sum::<f64>();
            totals.meals += day
                .meals()
                .iter()
                .filter_map(|(_, meal)| meal.map(|m| m.cost))
                .sum::<f64>();
            totals.attractions += day.attractions.iter().map(|a| a.cost).sum::<f64>();
            totals.accommodation += day.accommodation.as_ref().map_or(0.0, |s| s.cost);
        }
        totals.total = totals.transport + totals.meals + totals.attractions + totals.accommodation;
        self.totals = totals;
    }

    /// The trip's route through its cities: the origin, the visited cities
    /// in order, and the origin again.
    pub fn route(&self) -> Vec<String> {
        let mut route = vec![self.origin.clone()];
        route.extend(self.visited_cities());
        route.push(self.origin.clone());
        route
    }

    /// The visited cities in order (not the origin), each once.
    pub fn visited_cities(&self) -> Vec<String> {
        let mut cities: Vec<String> = Vec::new();
        for day in &self.days {
            if day.city != self.origin && cities.last() != Some(&day.city) {
                cities.push(day.city.clone());
            }
        }
        cities
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_stored_without_coordinates_still_decode_and_new_ones_round_trip() {
        let old = r#"{"origin":"Seattle","people":2,"days":[{"day":1,"date":null,
            "from":null,"city":"Denver","transport":[],"breakfast":null,"lunch":null,
            "dinner":null,"attractions":[],"accommodation":null}],
            "totals":{"transport":0,"accommodation":0,"meals":0,"attractions":0,"total":0},
            "verdict":{"checks":[]}}"#;
        let mut plan: Itinerary = serde_json::from_str(old).expect("an old plan decodes");
        assert!(plan.city_coords.is_empty() && plan.days[0].coords.is_empty());
        // Empty maps are not written: an unlocated plan reads as before.
        let text = serde_json::to_string(&plan).expect("encodes");
        assert!(!text.contains("coords"), "{text}");

        let point = GeoPoint::new(39.7392, -104.9903).expect("in range");
        plan.city_coords.insert("Denver".into(), point);
        plan.days[0]
            .coords
            .insert("demo:attractions:1".into(), point);
        let back: Itinerary =
            serde_json::from_str(&serde_json::to_string(&plan).expect("encodes")).expect("decodes");
        assert_eq!(back, plan);
        let item = PlanItem {
            id: "d1.attraction1".into(),
            name: "Red Rocks".into(),
            city: "Denver".into(),
            source_id: Some("demo:attractions:1".into()),
            cost: 0.0,
            reason: String::new(),
        };
        assert_eq!(back.days[0].point_of(&item), Some(point));
        assert_eq!(back.route(), ["Seattle", "Denver", "Seattle"]);
    }

    #[test]
    fn out_of_range_or_nan_coordinates_are_refused() {
        assert!(GeoPoint::new(91.0, 0.0).is_none());
        assert!(GeoPoint::new(0.0, -180.5).is_none());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_none());
        assert!(GeoPoint::new(-90.0, 180.0).is_some());
    }
}
