//! The TravelPlanner files' field values: durations, distances, money,
//! counts, ratings, coordinates, clock times, flight schedules, room types,
//! house rules, cuisines, and the country of a `cities.txt` state. Each
//! parser takes the trimmed text of one field and says why it cannot read
//! it; the reader ([`super`]) turns that into a rejected row.

use chrono::{NaiveDate, NaiveTime, Weekday};
use wayfare_domain::catalog::{FlightSchedule, HouseRule, RoomType};

/// A duration read from text such as `"10 hours 55 mins"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDuration {
    pub minutes: u32,
    /// The text counted days (`"1 day 2 hours"`): the benchmark does not
    /// cost such routes.
    pub has_days: bool,
}

/// Parses `"10 hours 55 mins"`, `"1 day 2 hours"`, `"2 hours 13 minutes"`,
/// `"45 mins"`, `"1 hour 5 min"`.
pub fn parse_duration(text: &str) -> Result<ParsedDuration, String> {
    let mut tokens = text.split_whitespace();
    let mut minutes: u64 = 0;
    let mut has_days = false;
    let mut any = false;
    while let Some(amount) = tokens.next() {
        let value: u64 = amount
            .parse()
            .map_err(|_| format!("{text:?} is not a duration like \"2 hours 5 mins\""))?;
        let unit = tokens
            .next()
            .ok_or_else(|| format!("{text:?}: {value} of what?"))?;
        let factor = match unit.to_ascii_lowercase().as_str() {
            "day" | "days" => {
                has_days = true;
                24 * 60
            }
            "hour" | "hours" | "hr" | "hrs" | "h" => 60,
            "min" | "mins" | "minute" | "minutes" | "m" => 1,
            _ => return Err(format!("{text:?}: unknown unit {unit:?}")),
        };
        minutes = value
            .checked_mul(factor)
            .and_then(|m| minutes.checked_add(m))
            .ok_or_else(|| format!("{text:?} is too long"))?;
        any = true;
    }
    if !any {
        return Err("empty duration".to_owned());
    }
    let minutes = u32::try_from(minutes).map_err(|_| format!("{text:?} is too long"))?;
    Ok(ParsedDuration { minutes, has_days })
}

/// Parses a distance such as `"1,144 km"` (or `"850 m"`) into kilometres.
pub fn parse_distance_km(text: &str) -> Result<f64, String> {
    let cleaned = text.replace(',', "");
    let cleaned = cleaned.trim();
    let (number, factor) = if let Some(n) = cleaned.strip_suffix("km") {
        (n, 1.0)
    } else if let Some(n) = cleaned.strip_suffix('m') {
        (n, 0.001)
    } else {
        (cleaned, 1.0)
    };
    let value = parse_float(number.trim()).and_then(non_negative)?;
    Ok(value * factor)
}

/// Parses a price or cost in USD: a finite, non-negative number (`"131.0"`).
pub fn parse_money(text: &str) -> Result<f64, String> {
    parse_float(text.trim_start_matches('$')).and_then(non_negative)
}

/// Parses a whole count written either as `"3"` or as pandas' `"3.0"`.
pub fn parse_count(text: &str) -> Result<u32, String> {
    let value = parse_float(text)?;
    if value < 0.0 || value.fract() != 0.0 || value > f64::from(u32::MAX) {
        return Err(format!("{text:?} is not a whole number"));
    }
    Ok(value as u32)
}

/// Parses a rating between 0 and `max`.
pub(super) fn parse_rating(text: &str, max: f64) -> Result<f64, String> {
    let value = parse_float(text)?;
    if !(0.0..=max).contains(&value) {
        return Err(format!("{text:?} is not between 0 and {max}"));
    }
    Ok(value)
}

pub(super) fn parse_coordinate(text: &str, limit: f64) -> Result<f64, String> {
    let value = parse_float(text)?;
    if value.abs() > limit {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(value)
}

pub(super) fn parse_float(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !value.is_finite() {
        return Err(format!("{text:?} is not a finite number"));
    }
    Ok(value)
}

pub(super) fn non_negative(value: f64) -> Result<f64, String> {
    if value < 0.0 {
        Err(format!("{value} is negative"))
    } else {
        Ok(value)
    }
}

/// Parses `"HH:MM"` (or `"HH:MM:SS"`).
pub(super) fn parse_clock(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| format!("{text:?} is not a time like 15:40"))
}

/// Parses a `FlightDate`: a date, `daily`, or weekdays such as `Mon|Wed|Fri`.
pub fn parse_schedule(text: &str) -> Result<FlightSchedule, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(FlightSchedule::On { date });
    }
    if text.eq_ignore_ascii_case("daily") {
        return Ok(FlightSchedule::daily());
    }
    let mut days = Vec::new();
    for part in text.split('|') {
        let day: Weekday = part.trim().parse().map_err(|_| {
            format!("{text:?} is neither a date, `daily` nor weekdays like Mon|Wed")
        })?;
        if !days.contains(&day) {
            days.push(day);
        }
    }
    days.sort_by_key(|d| d.num_days_from_monday());
    Ok(FlightSchedule::Weekly { days })
}

pub(super) fn weekday_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

pub(super) fn parse_room_type(text: &str) -> Result<RoomType, String> {
    [
        RoomType::EntireHome,
        RoomType::PrivateRoom,
        RoomType::SharedRoom,
    ]
    .into_iter()
    .find(|t| t.label().eq_ignore_ascii_case(text))
    .ok_or_else(|| format!("{text:?} is not a known room type"))
}

/// Parses `"No parties & No smoking"` into what the stay forbids (sorted,
/// without repeats); an empty text forbids nothing.
pub fn parse_house_rules(text: &str) -> Result<Vec<HouseRule>, String> {
    let mut rules = Vec::new();
    for part in text.split('&').map(str::trim).filter(|p| !p.is_empty()) {
        let rule = HouseRule::ALL
            .into_iter()
            .find(|r| r.prohibition().eq_ignore_ascii_case(part))
            .ok_or_else(|| format!("{part:?} is not a known house rule"))?;
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    rules.sort();
    Ok(rules)
}

/// Splits `"Tea, Pizza, Indian, Seafood"` into cuisines (no empty or
/// repeated entries, source order kept).
pub fn parse_cuisines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cuisine in text.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if !out.iter().any(|c| c == cuisine) {
            out.push(cuisine.to_owned());
        }
    }
    out
}

/// The country of a `cities.txt` state: the United States for the 50 states
/// and DC; the benchmark's few other "states" are territories or foreign
/// regions (its geocoding put e.g. Melbourne, FL in Victoria).
pub fn country_of(state: &str) -> &'static str {
    const US_STATES: [&str; 51] = [
        "Alabama",
        "Alaska",
        "Arizona",
        "Arkansas",
        "California",
        "Colorado",
        "Connecticut",
        "Delaware",
        "District of Columbia",
        "Florida",
        "Georgia",
        "Hawaii",
        "Idaho",
        "Illinois",
        "Indiana",
        "Iowa",
        "Kansas",
        "Kentucky",
        "Louisiana",
        "Maine",
        "Maryland",
        "Massachusetts",
        "Michigan",
        "Minnesota",
        "Mississippi",
        "Missouri",
        "Montana",
        "Nebraska",
        "Nevada",
        "New Hampshire",
        "New Jersey",
        "New Mexico",
        "New York",
        "North Carolina",
        "North Dakota",
        "Ohio",
        "Oklahoma",
        "Oregon",
        "Pennsylvania",
        "Rhode Island",
        "South Carolina",
        "South Dakota",
        "Tennessee",
        "Texas",
        "Utah",
        "Vermont",
        "Virginia",
        "Washington",
        "West Virginia",
        "Wisconsin",
        "Wyoming",
    ];
    if US_STATES.iter().any(|s| s.eq_ignore_ascii_case(state)) {
        return "United States";
    }
    match state {
        "Aguadilla" | "Ponce" | "San Juan" | "Puerto Rico" => "Puerto Rico",
        "St. Thomas" | "St. Croix" => "U.S. Virgin Islands",
        "Saipan" => "Northern Mariana Islands",
        "Eastern District" => "American Samoa",
        "England" | "Scotland" => "United Kingdom",
        "Ontario" => "Canada",
        "Victoria" => "Australia",
        "Tuscany" => "Italy",
        "Wallonia" => "Belgium",
        "Alexandria Governorate" => "Egypt",
        "Saint Petersburg" => "Russia",
        _ => "",
    }
}
