//! Wayfare's own timing rule for travel days: a meal or visit in the city
//! left must end before the departure, one in the city reached must start
//! after the arrival. The official scorer does not check this.
//!
//! These are rules, not selection logic: the planner reads them to know what
//! the verifier will accept.

use chrono::NaiveTime;
use wayfare_domain::itinerary::{MealKind, TravelMode};

/// When a meal starts (local time); every meal lasts [`MEAL_MINUTES`].
pub fn meal_start(kind: MealKind) -> NaiveTime {
    match kind {
        MealKind::Breakfast => hm(8, 0),
        MealKind::Lunch => hm(12, 30),
        MealKind::Dinner => hm(19, 0),
    }
}

pub const MEAL_MINUTES: u32 = 60;
/// Minutes to be at the airport before a flight leaves, and to leave it after landing.
pub const AIRPORT_MINUTES: u32 = 60;
/// A ground leg with no stated time leaves at this hour.
pub fn default_ground_departure() -> NaiveTime {
    hm(9, 0)
}
/// A visit to an attraction on a travel day needs this window.
pub fn visit_window() -> (NaiveTime, NaiveTime) {
    (hm(9, 0), hm(17, 0))
}
pub const VISIT_MINUTES: u32 = 120;

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

fn minutes(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.hour() * 60 + t.minute())
}

fn margin(mode: TravelMode) -> i64 {
    match mode {
        TravelMode::Flight => i64::from(AIRPORT_MINUTES),
        TravelMode::SelfDriving | TravelMode::Taxi => 0,
    }
}

/// Whether `kind` can be eaten in the city left before a `mode` leg departing at `departure`.
pub fn meal_fits_before(kind: MealKind, mode: TravelMode, departure: NaiveTime) -> bool {
    minutes(meal_start(kind)) + i64::from(MEAL_MINUTES) + margin(mode) <= minutes(departure)
}

/// Whether `kind` can be eaten in the city reached by a `mode` leg arriving at `arrival`.
/// An arrival earlier than the departure means after midnight: nothing fits.
pub fn meal_fits_after(
    kind: MealKind,
    mode: TravelMode,
    departure: NaiveTime,
    arrival: NaiveTime,
) -> bool {
    arrival >= departure && minutes(arrival) + margin(mode) / 2 <= minutes(meal_start(kind))
}

/// Whether a visit fits in the city left before departing.
pub fn visit_fits_before(mode: TravelMode, departure: NaiveTime) -> bool {
    minutes(visit_window().0) + i64::from(VISIT_MINUTES) + margin(mode) <= minutes(departure)
}

/// Whether a visit fits in the city reached after arriving.
pub fn visit_fits_after(mode: TravelMode, departure: NaiveTime, arrival: NaiveTime) -> bool {
    arrival >= departure
        && minutes(arrival) + margin(mode) / 2 + i64::from(VISIT_MINUTES)
            <= minutes(visit_window().1)
}

/// Arrival of a ground leg leaving at `departure` and taking `duration_min`;
/// `None` when it arrives after midnight.
pub fn ground_arrival(departure: NaiveTime, duration_min: u32) -> Option<NaiveTime> {
    let end = minutes(departure) + i64::from(duration_min);
    (end < 24 * 60).then(|| hm((end / 60) as u32, (end % 60) as u32))
}
