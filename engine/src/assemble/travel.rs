//! Travel days: what fits around a leg by the verifier's timing rules
//! ([`leg_fits`]), and the time a drive or a taxi leaves — it has no
//! timetable, so the utility objective picks the daytime hour that leaves
//! the most room ([`best_ground_time`]) and says what that room holds
//! ([`retimed_reason`]).

use wayfare_domain::catalog::Attraction;
use wayfare_domain::itinerary::{MealKind, TravelMode};

use super::Slot;
use crate::agents::LegKey;
use crate::agents::transport::LegOption;
use crate::verify::timing;

/// How many meals and visits fit on a travel day around `option`, in the
/// cities of the trip (the origin's are not planned).
pub fn leg_fits(origin: &str, key: &LegKey, option: &LegOption) -> usize {
    let (from_planned, to_planned) = (key.from != origin, key.to != origin);
    let meals = MealKind::ALL
        .into_iter()
        .filter(|kind| {
            (from_planned && timing::meal_fits_before(*kind, option.mode, option.departure))
                || (to_planned
                    && option.arrival.is_some_and(|a| {
                        timing::meal_fits_after(*kind, option.mode, option.departure, a)
                    }))
        })
        .count();
    let visit = (to_planned
        && option
            .arrival
            .is_some_and(|a| timing::visit_fits_after(option.mode, option.departure, a)))
        || (from_planned && timing::visit_fits_before(option.mode, option.departure));
    meals + usize::from(visit)
}

/// The times a traveller may choose to leave on a drive or a taxi, the
/// catalog's default first (it wins a tie): early, to arrive for lunch
/// after a long drive; after a morning visit; after lunch. Daytime only: a
/// drive after dinner arrives late at night.
const GROUND_DEPARTURES: [(u32, u32); 4] = [(9, 0), (7, 0), (11, 0), (13, 30)];

/// `option` leaving at `departure` instead, arriving as much later as the
/// route takes; `None` when it would arrive after midnight or its
/// duration is unknown (no arrival).
fn retime(option: &LegOption, departure: chrono::NaiveTime) -> Option<LegOption> {
    let minutes = (option.arrival? - option.departure).num_minutes();
    let arrival = timing::ground_arrival(departure, u32::try_from(minutes).ok()?)?;
    Some(LegOption {
        departure,
        arrival: Some(arrival),
        ..option.clone()
    })
}

/// A drive or a taxi retimed to the [`GROUND_DEPARTURES`] time that fits
/// the most meals and visits around it ([`leg_fits`]); `None` for a flight
/// or when the catalog's time fits as many.
pub(super) fn best_ground_time(
    origin: &str,
    key: &LegKey,
    option: &LegOption,
) -> Option<LegOption> {
    if option.mode == TravelMode::Flight {
        return None;
    }
    let now = leg_fits(origin, key, option);
    let mut best: Option<(usize, LegOption)> = None;
    for (h, m) in GROUND_DEPARTURES {
        let Some(t) = chrono::NaiveTime::from_hms_opt(h, m, 0) else {
            continue;
        };
        let Some(o) = retime(option, t) else { continue };
        let fits = leg_fits(origin, key, &o);
        if fits > best.as_ref().map_or(now, |b| b.0) {
            best = Some((fits, o));
        }
    }
    best.map(|(_, o)| o)
}

/// Why a drive leaves when it does: "self-driving leaves when you choose:
/// at 13:30 rather than 09:00, arriving 16:20, after breakfast, lunch and
/// a visit in Portland" — what the day holds in the city given room (the
/// time may also just leave it free: "time free in Spokane").
pub(super) fn retimed_reason(
    o: &LegOption,
    was: chrono::NaiveTime,
    city: &str,
    slots: &[Slot],
    day: usize,
    visits: &[Attraction],
) -> String {
    let mut planned: Vec<String> = slots
        .iter()
        .filter(|s| s.day == day && s.city == city && s.choice.is_some())
        .map(|s| s.kind.label().to_string())
        .collect();
    match visits.iter().filter(|a| a.city == city).count() {
        0 => {}
        1 => planned.push("a visit".into()),
        n => planned.push(format!("{n} visits")),
    }
    let when = if o.departure > was { "after" } else { "then" };
    let what = match planned.split_last() {
        None => format!("time free in {city}"),
        Some((last, [])) => format!("{when} {last} in {city}"),
        Some((last, rest)) => format!("{when} {} and {last} in {city}", rest.join(", ")),
    };
    format!(
        "{} leaves when you choose: at {} rather than {}, arriving {}, {what}",
        o.mode.label().to_lowercase(),
        hhmm(Some(o.departure)),
        hhmm(Some(was)),
        hhmm(o.arrival),
    )
}

/// "07:21", or "?" when unknown.
pub(super) fn hhmm(t: Option<chrono::NaiveTime>) -> String {
    t.map_or_else(|| "?".into(), |t| t.format("%H:%M").to_string())
}
