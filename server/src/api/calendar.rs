//! `GET /api/trips/{id}/calendar.ics`: a planned trip as an iCalendar
//! (RFC 5545) file to import into a calendar app, built by
//! [`trip_calendar`] with the `icalendar` crate (which escapes text and
//! folds long lines).
//!
//! One event per item of the plan:
//!
//! | item | when |
//! | --- | --- |
//! | transport leg | its departure to its arrival when known; else after the day's previous leg (the first at 09:00), for its duration |
//! | breakfast, lunch, dinner | 08:00, 12:30, 19:00, one hour |
//! | attraction | two hours each, in visiting order, at 09:30, 14:00, 16:30 and 20:30 (the ones after the day's last leg), then one after another |
//! | stay | check-in 15:00 on its first night to check-out 11:00 after its last: one event per continuous stay, not per night |
//!
//! Times are floating (local to the city, as the catalog gives them). Each
//! event's UID is `{trip_id}-{component_id}@wayfare`, stable across
//! exports, so that importing again updates the events instead of doubling
//! them.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use icalendar::{Calendar, Component, Event, EventLike};
use wayfare_domain::itinerary::{Itinerary, ItineraryDay, PlanItem, TransportLeg, TravelMode};
use wayfare_domain::trip::{TripStatus, TripView};

use super::responses::{Internal, TripNotFound};
use super::trips::{TripId, known, trip_id};
use super::{ApiError, ApiResult, ErrorBody};
use crate::web::AppState;

/// The media type of the export.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// When a leg without a departure time leaves, if it is the day's first.
const FIRST_LEG: (u32, u32) = (9, 0);
/// How long a leg whose duration cannot be read is taken to last.
const DEFAULT_LEG_MINUTES: i64 = 120;
/// Where attractions go, in order, when the day is free by then.
const ATTRACTION_SLOTS: [(u32, u32); 4] = [(9, 30), (14, 0), (16, 30), (20, 30)];
const ATTRACTION_MINUTES: i64 = 120;
const MEAL_MINUTES: i64 = 60;
const CHECK_IN: (u32, u32) = (15, 0);
const CHECK_OUT: (u32, u32) = (11, 0);

fn at(date: NaiveDate, (hour, minute): (u32, u32)) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN))
}

/// The dollars of a cost, to the cent.
fn money(cost: f64) -> String {
    format!("${cost:.2}")
}

fn party(people: u32) -> String {
    match people {
        1 => "1 person".to_owned(),
        n => format!("{n} people"),
    }
}

/// Minutes in a duration as the source wrote it: "2 hours 13 minutes",
/// "1 day 3 hours", "45 mins". `None` when no unit is found.
pub fn duration_minutes(text: &str) -> Option<i64> {
    let lower = text.to_lowercase();
    let mut words = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '.')
        .filter(|w| !w.is_empty())
        .peekable();
    let mut total = 0.0f64;
    let mut found = false;
    while let Some(word) = words.next() {
        let Ok(n) = word.parse::<f64>() else {
            continue;
        };
        let per = match words.peek() {
            Some(unit) if unit.starts_with("day") => 1440.0,
            Some(unit) if unit.starts_with('h') => 60.0,
            Some(unit) if unit.starts_with("min") => 1.0,
            _ => continue,
        };
        words.next();
        total += n * per;
        found = true;
    }
    (found && total.is_finite() && total >= 0.0).then(|| total.round() as i64)
}

/// The date of every day: its own, else counted from a dated day (or the
/// intent's start date). `None` when nothing dates the trip.
fn day_dates(view: &TripView, itinerary: &Itinerary) -> Option<Vec<NaiveDate>> {
    let anchor = itinerary
        .days
        .iter()
        .find_map(|d| Some((d.day, d.date?)))
        .or_else(|| {
            let start = view.intent.as_ref()?.start_date?;
            Some((1, start.get()))
        })?;
    itinerary
        .days
        .iter()
        .map(|d| {
            d.date.or_else(|| {
                let offset = i64::from(d.day) - i64::from(anchor.0);
                anchor.1.checked_add_signed(Duration::try_days(offset)?)
            })
        })
        .collect()
}

/// Builds events with unique, stable UIDs.
struct Builder<'a> {
    trip_id: &'a str,
    people: u32,
    uids: HashSet<String>,
    calendar: Calendar,
}

impl Builder<'_> {
    fn add(
        &mut self,
        component_id: &str,
        summary: &str,
        location: Option<&str>,
        description: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) {
        let mut uid = format!("{}-{component_id}@wayfare", self.trip_id);
        let mut n = 2;
        while self.uids.contains(&uid) {
            uid = format!("{}-{component_id}-{n}@wayfare", self.trip_id);
            n += 1;
        }
        self.uids.insert(uid.clone());
        let mut event = Event::new();
        event
            .uid(&uid)
            .summary(summary)
            .description(description)
            .starts(start)
            .ends(end.max(start));
        if let Some(location) = location.filter(|l| !l.trim().is_empty()) {
            event.location(location);
        }
        self.calendar.push(event.done());
    }

    fn item_description(&self, item: &PlanItem, cost_note: &str) -> String {
        let mut text = format!("Cost: {} {cost_note}", money(item.cost));
        if !item.reason.trim().is_empty() {
            text.push('\n');
            text.push_str(&item.reason);
        }
        text
    }

    /// The day's legs; returns when the last one ends.
    fn legs(&mut self, date: NaiveDate, legs: &[TransportLeg]) -> Option<NaiveDateTime> {
        let mut free_from: Option<NaiveDateTime> = None;
        for leg in legs {
            let minutes = duration_minutes(&leg.duration_text);
            let start = match leg.departure {
                Some(t) => date.and_time(t),
                None => free_from.unwrap_or_else(|| at(date, FIRST_LEG)),
            };
            let end = match leg.arrival {
                Some(t) if leg.departure.is_some() => {
                    let mut end = date.and_time(t);
                    if end < start {
                        // Arrives after midnight.
                        end += Duration::days(1);
                    }
                    end
                }
                _ => start + Duration::minutes(minutes.unwrap_or(DEFAULT_LEG_MINUTES)),
            };
            let what = match (leg.mode, leg.number.as_deref()) {
                (TravelMode::Flight, Some(number)) if !number.trim().is_empty() => {
                    format!("Flight {number}")
                }
                (TravelMode::Flight, _) => "Flight".to_owned(),
                (TravelMode::SelfDriving, _) => "Drive".to_owned(),
                (TravelMode::Taxi, _) => "Taxi".to_owned(),
            };
            let summary = format!("{what} {} → {}", leg.from, leg.to);
            let mut description = format!(
                "{}: {} → {}\nCost: {} for {}",
                leg.mode.label(),
                leg.from,
                leg.to,
                money(leg.cost),
                party(self.people)
            );
            for (label, value) in [
                ("Duration", &leg.duration_text),
                ("Distance", &leg.distance_text),
            ] {
                if !value.trim().is_empty() {
                    description.push_str(&format!("\n{label}: {value}"));
                }
            }
            if !leg.reason.trim().is_empty() {
                description.push('\n');
                description.push_str(&leg.reason);
            }
            self.add(&leg.id, &summary, Some(&leg.from), &description, start, end);
            free_from = Some(free_from.map_or(end, |f| f.max(end)));
        }
        free_from
    }

    fn meals(&mut self, date: NaiveDate, day: &ItineraryDay) {
        let times = [(8, 0), (12, 30), (19, 0)];
        for ((kind, meal), time) in day.meals().into_iter().zip(times) {
            let Some(meal) = meal else {
                continue;
            };
            let label = kind.label();
            let mut label_chars = label.chars();
            let label: String = label_chars
                .next()
                .map(|c| c.to_uppercase().chain(label_chars).collect())
                .unwrap_or_default();
            let start = at(date, time);
            let description = self.item_description(meal, &format!("for {}", party(self.people)));
            self.add(
                &meal.id,
                &format!("{label} at {}", meal.name),
                Some(&meal.city),
                &description,
                start,
                start + Duration::minutes(MEAL_MINUTES),
            );
        }
    }

    fn attractions(&mut self, date: NaiveDate, day: &ItineraryDay, free_from: NaiveDateTime) {
        let mut slots = ATTRACTION_SLOTS
            .iter()
            .map(|t| at(date, *t))
            .filter(|s| *s >= free_from);
        let mut next = free_from;
        for attraction in &day.attractions {
            let start = slots.next().unwrap_or(next).max(next);
            let end = start + Duration::minutes(ATTRACTION_MINUTES);
            next = end;
            let description =
                self.item_description(attraction, &format!("for {}", party(self.people)));
            self.add(
                &attraction.id,
                &format!("Visit {}", attraction.name),
                Some(&attraction.city),
                &description,
                start,
                end,
            );
        }
    }

    /// One event per run of consecutive nights in the same place.
    fn stays(&mut self, days: &[(NaiveDate, &ItineraryDay)]) {
        let mut i = 0;
        while i < days.len() {
            let (first_night, day) = days[i];
            let Some(stay) = &day.accommodation else {
                i += 1;
                continue;
            };
            let mut nights = 1;
            let mut cost = stay.cost;
            while let Some((date, next)) = days.get(i + nights) {
                let same = next.accommodation.as_ref().is_some_and(|s| {
                    s.id == stay.id && s.name == stay.name && s.source_id == stay.source_id
                });
                let consecutive = first_night
                    .checked_add_signed(Duration::days(nights as i64))
                    .is_some_and(|d| d == *date);
                if !(same && consecutive) {
                    break;
                }
                cost += next.accommodation.as_ref().map_or(0.0, |s| s.cost);
                nights += 1;
            }
            let check_out = first_night + Duration::days(nights as i64);
            let per_night = format!(
                "per night; {} for {nights} night{}",
                money(cost),
                if nights == 1 { "" } else { "s" }
            );
            let description = self.item_description(stay, &per_night);
            self.add(
                &stay.id,
                &format!("Stay at {}", stay.name),
                Some(&stay.city),
                &description,
                at(first_night, CHECK_IN),
                at(check_out, CHECK_OUT),
            );
            i += nights;
        }
    }
}

/// The trip's plan as an iCalendar file: one event per transport leg,
/// meal, attraction and continuous stay (see the module's table). `None`
/// when the trip has no itinerary, or nothing dates it.
pub fn trip_calendar(view: &TripView) -> Option<String> {
    let itinerary = view.itinerary.as_ref()?;
    let dates = day_dates(view, itinerary)?;
    let mut calendar = Calendar::empty();
    calendar
        .append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Wayfare//Trip planner//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"));
    let cities = itinerary.visited_cities();
    let title = if cities.is_empty() {
        "Wayfare trip".to_owned()
    } else {
        format!("Wayfare trip: {}", cities.join(", "))
    };
    calendar.name(&title);
    let mut builder = Builder {
        trip_id: &view.trip_id,
        people: itinerary.people,
        uids: HashSet::new(),
        calendar,
    };
    let days: Vec<(NaiveDate, &ItineraryDay)> = dates.into_iter().zip(&itinerary.days).collect();
    for (date, day) in &days {
        let after_legs = builder.legs(*date, &day.transport);
        builder.meals(*date, day);
        let free_from = after_legs.unwrap_or_else(|| at(*date, ATTRACTION_SLOTS[0]));
        builder.attractions(*date, day, free_from);
    }
    builder.stays(&days);
    Some(builder.calendar.done().to_string())
}

/// The trip's plan as an iCalendar file to import into a calendar app.
#[utoipa::path(
    get,
    path = "/api/trips/{id}/calendar.ics",
    tag = "trips",
    params(TripId),
    responses(
        (status = 200, description = "The plan as iCalendar (RFC 5545): one event per transport leg, meal, attraction and stay",
            body = String, content_type = "text/calendar",
            headers(("Content-Disposition" = String, description = "attachment; filename=\"wayfare-trip-{id}.ics\""))),
        TripNotFound,
        (status = 409, description = "`not_ready`: the trip has no plan to export (still planning, failed or cancelled)", body = ErrorBody),
        Internal,
    )
)]
pub async fn calendar(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let id = trip_id(&raw)?;
    let view = known(&id, state.runtime.trip(&id).await?)?;
    if view.status != TripStatus::Ready {
        return Err(ApiError::NoPlan);
    }
    let text = trip_calendar(&view).ok_or(ApiError::NoPlan)?;
    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"wayfare-trip-{id}.ics\""),
            ),
        ],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::duration_minutes;

    #[test]
    fn durations_are_read_as_the_sources_write_them() {
        assert_eq!(duration_minutes("2 hours 13 minutes"), Some(133));
        assert_eq!(duration_minutes("1 day 3 hours"), Some(1620));
        assert_eq!(duration_minutes("45 mins"), Some(45));
        assert_eq!(duration_minutes("1 hour"), Some(60));
        assert_eq!(duration_minutes("3h"), None, "a unit must be its own word");
        assert_eq!(duration_minutes(""), None);
        assert_eq!(duration_minutes("about a while"), None);
    }
}
