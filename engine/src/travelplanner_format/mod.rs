//! The TravelPlanner submission format: an [`Itinerary`] as the benchmark's
//! list of day objects, and back (so the scorer can judge any submitted plan
//! with the same verifier).

use chrono::NaiveTime;
use serde_json::{Value, json};
use wayfare_domain::intent::Destination;
use wayfare_domain::itinerary::{Itinerary, ItineraryDay, PlanItem, TransportLeg, TravelMode};
use wayfare_domain::verdict::Verdict;

use crate::agents::TripSpec;
use crate::catalog::Catalog;

/// How a city is written: `Dallas(Texas)` on multi-city trips, else `Dallas`.
fn display(city: &str, trip: &TripSpec, catalog: &dyn Catalog) -> String {
    match &trip.destination {
        Destination::State { .. } if city != trip.origin => match catalog.city(city) {
            Some(c) => format!("{}({})", c.name, c.state),
            None => city.to_string(),
        },
        _ => city.to_string(),
    }
}

fn entity(item: &PlanItem, trip: &TripSpec, catalog: &dyn Catalog) -> String {
    format!("{}, {}", item.name, display(&item.city, trip, catalog))
}

fn leg_text(leg: &TransportLeg, trip: &TripSpec, catalog: &dyn Catalog) -> String {
    let from = display(&leg.from, trip, catalog);
    let to = display(&leg.to, trip, catalog);
    match leg.mode {
        TravelMode::Flight => format!(
            "Flight Number: {}, from {from} to {to}, Departure Time: {}, Arrival Time: {}",
            leg.number.as_deref().unwrap_or("-"),
            leg.departure
                .map_or("-".into(), |t| t.format("%H:%M").to_string()),
            leg.arrival
                .map_or("-".into(), |t| t.format("%H:%M").to_string()),
        ),
        mode => {
            let mut text = format!(
                "{}, from {from} to {to}, duration: {}, distance: {}, cost: {}",
                mode.label(),
                leg.duration_text,
                leg.distance_text,
                leg.cost
            );
            // A drive chosen to leave at another time than the default
            // says when, last (the official scorer reads the route and
            // mode only), so the plan reads back with its meals around it.
            if let Some(t) = leg
                .departure
                .filter(|t| *t != crate::verify::timing::default_ground_departure())
            {
                text.push_str(&format!(", Departure Time: {}", t.format("%H:%M")));
            }
            text
        }
    }
}

/// The plan as TravelPlanner day objects.
pub fn to_submission(it: &Itinerary, trip: &TripSpec, catalog: &dyn Catalog) -> Vec<Value> {
    let dash = || "-".to_string();
    it.days
        .iter()
        .map(|day| {
            let current = match &day.from {
                Some(from) => format!(
                    "from {} to {}",
                    display(from, trip, catalog),
                    display(&day.city, trip, catalog)
                ),
                None => display(&day.city, trip, catalog),
            };
            let transport = if day.transport.is_empty() {
                dash()
            } else {
                day.transport
                    .iter()
                    .map(|l| leg_text(l, trip, catalog))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let meal =
                |m: &Option<PlanItem>| m.as_ref().map_or_else(dash, |m| entity(m, trip, catalog));
            let attractions = if day.attractions.is_empty() {
                dash()
            } else {
                day.attractions
                    .iter()
                    .map(|a| format!("{};", entity(a, trip, catalog)))
                    .collect::<String>()
            };
            json!({
                "days": day.day,
                "current_city": current,
                "transportation": transport,
                "breakfast": meal(&day.breakfast),
                "attraction": attractions,
                "lunch": meal(&day.lunch),
                "dinner": meal(&day.dinner),
                "accommodation": meal(&day.accommodation),
            })
        })
        .collect()
}

/// `Dallas(Texas)` → `Dallas`.
fn strip_state(city: &str) -> String {
    let city = city.trim();
    match city.find('(') {
        Some(i) if city.ends_with(')') => city[..i].trim().to_string(),
        _ => city.to_string(),
    }
}

/// `Name, City` → item; `-` or empty → `None`. The city is after the last comma.
fn parse_entity(text: &str, id: String) -> Option<PlanItem> {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return None;
    }
    let (name, city) = match text.rsplit_once(',') {
        Some((n, c)) => (n.trim(), strip_state(c)),
        None => (text, String::new()),
    };
    Some(PlanItem {
        id,
        name: name.to_string(),
        city,
        source_id: None,
        cost: 0.0,
        reason: String::new(),
    })
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let rest = &text[i..];
    Some(rest.find(end).map_or(rest, |j| &rest[..j]).trim())
}

fn parse_leg(text: &str, id: String) -> Option<TransportLeg> {
    let text = text.trim();
    let lower = text.to_lowercase();
    let mode = if lower.starts_with("flight") {
        TravelMode::Flight
    } else if lower.starts_with("self-driving") {
        TravelMode::SelfDriving
    } else if lower.starts_with("taxi") {
        TravelMode::Taxi
    } else {
        return None;
    };
    let route = between(text, "from ", ",")?;
    let (from, to) = route.split_once(" to ")?;
    let time = |label: &str| {
        between(text, label, ",").and_then(|t| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
    };
    Some(TransportLeg {
        id,
        mode,
        from: strip_state(from),
        to: strip_state(to),
        number: between(text, "Flight Number:", ",").map(str::to_string),
        departure: time("Departure Time:"),
        arrival: if mode == TravelMode::Flight {
            time("Arrival Time:")
        } else {
            None
        },
        duration_text: between(text, "duration:", ",")
            .unwrap_or_default()
            .to_string(),
        distance_text: between(text, "distance:", ", cost")
            .unwrap_or_default()
            .to_string(),
        cost: between(text, "cost:", ",")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0.0),
        source_id: None,
        reason: String::new(),
    })
}

/// Reads TravelPlanner day objects back into an itinerary (costs and
/// source ids unknown: the verifier looks everything up again).
pub fn from_submission(plan: &[Value], trip: &TripSpec) -> Itinerary {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
    let days = plan
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let n = v
                .get("days")
                .and_then(Value::as_u64)
                .map_or(i as u32 + 1, |d| d as u32);
            let current = field(v, "current_city");
            let (from, city) = match current
                .strip_prefix("from ")
                .and_then(|r| r.split_once(" to "))
            {
                Some((a, b)) => (Some(strip_state(a)), strip_state(b)),
                None => (None, strip_state(&current)),
            };
            let mut day = ItineraryDay::new(n, trip.dates.get(i).copied(), city);
            day.from = from;
            let transport = field(v, "transportation");
            day.transport = transport
                .split(';')
                .enumerate()
                .filter_map(|(j, t)| parse_leg(t, format!("d{n}.leg{}", j + 1)))
                .collect();
            day.breakfast = parse_entity(&field(v, "breakfast"), format!("d{n}.breakfast"));
            day.lunch = parse_entity(&field(v, "lunch"), format!("d{n}.lunch"));
            day.dinner = parse_entity(&field(v, "dinner"), format!("d{n}.dinner"));
            day.attractions = field(v, "attraction")
                .split(';')
                .enumerate()
                .filter_map(|(j, a)| parse_entity(a, format!("d{n}.attraction{}", j + 1)))
                .collect();
            day.accommodation =
                parse_entity(&field(v, "accommodation"), format!("stay.{}", day.city));
            day
        })
        .collect();
    Itinerary {
        origin: trip.origin.clone(),
        people: trip.people,
        days,
        totals: Default::default(),
        verdict: Verdict::default(),
        city_coords: Default::default(),
    }
}
