//! What the model is asked for and how its answer is checked and merged.
//!
//! The model only fills what the rules left open ([`open_fields`]): a field
//! the rules found, or one the person set in `overrides`, is never asked
//! for and never overwritten; neither is a field the text stated out of its
//! bounds (the rules' question then says so: nonsense is refused, not
//! repaired). Every value goes through the domain's bounded types and every
//! place must be a catalog name ([`Places`]); what fails stays a question.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};
use wayfare_domain::bounds::{Budget, Days, Travellers, TripDate};
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{Destination, RoomRequirement, TransportRestriction, TripIntent};
use wayfare_domain::overrides::OverridesInput;

use super::wire::{ObjectSchema, PropertySchema, SchemaType};
use crate::catalog::Catalog;

/// A field of the intent the model may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Origin,
    Destination,
    StartDate,
    Days,
    People,
    Budget,
    /// Room type, house rules, cuisines, transport: each category only
    /// when the rules found none of it.
    Constraints,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Origin => "origin",
            Field::Destination => "destination",
            Field::StartDate => "start_date",
            Field::Days => "days",
            Field::People => "people",
            Field::Budget => "budget",
            Field::Constraints => "constraints",
        }
    }
}

/// The model's answer: every field optional (null when the text does not
/// say it). Numbers are read as JSON numbers of any size and checked
/// afterwards, so that one absurd value is refused alone instead of
/// making the whole answer unreadable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtractedIntent {
    pub origin: Option<String>,
    pub destination_city: Option<String>,
    pub destination_state: Option<String>,
    /// Cities to visit when the destination is a state.
    pub cities_to_visit: Option<f64>,
    /// `YYYY-MM-DD`.
    pub start_date: Option<String>,
    pub days: Option<f64>,
    pub people: Option<f64>,
    pub budget_usd: Option<f64>,
    /// `entire_room`, `private_room`, `shared_room`, `not_shared`.
    pub room_type: Option<String>,
    /// What every stay must allow: `parties`, `smoking`,
    /// `children_under_10`, `pets`, `visitors`.
    pub house_rules: Option<Vec<String>>,
    pub cuisines: Option<Vec<String>>,
    /// `no_flight`, `no_self_driving`.
    pub transport: Option<Vec<String>>,
}

/// Which field a rules question asks for. The parser's questions are
/// text; these are the words each kind is asked with (origin first:
/// "Which city in Texas does the trip start from?").
pub fn question_field(question: &str) -> Option<Field> {
    let q = question.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| q.contains(w));
    if any(&[
        "start from",
        "leave from",
        "leaving from",
        "starting point",
        "origin",
        "depart",
    ]) {
        Some(Field::Origin)
    } else if any(&[
        "when does the trip start",
        "start date",
        "what date",
        "which date",
        "when do",
    ]) {
        Some(Field::StartDate)
    } else if any(&["how many days", "-day trip", "how long", "trip last"]) {
        Some(Field::Days)
    } else if any(&[
        "how many people",
        "how many travel",
        "traveller",
        "traveler",
        "how many of you",
    ]) {
        Some(Field::People)
    } else if q.contains("budget") {
        Some(Field::Budget)
    } else if q.contains("how many cities") {
        None
    } else if any(&[
        "where should the trip go",
        "destination",
        "where to",
        "where do",
        "name a city",
    ]) {
        Some(Field::Destination)
    } else {
        None
    }
}

/// Whether a question refuses a value the text stated ("a 99999-day trip
/// cannot be planned", "travellers must be … not 50"): that field is not
/// the model's to fill.
pub fn is_refusal(question: &str) -> bool {
    let q = question.to_lowercase();
    q.contains("must be") || q.contains("cannot") || q.contains(", not ")
}

/// The rules' statement that they assumed one traveller.
fn is_default_people(assumption: &str) -> bool {
    let a = assumption.to_lowercase();
    (a.contains("traveller") || a.contains("traveler")) && a.contains("assumed")
}

/// The fields the rules left open and the person did not set: an empty
/// date, place, length or budget; the party size when the rules asked or
/// only assumed the default; constraint categories the rules found none
/// of. A field whose question refuses a stated value stays closed.
/// [`Field::Constraints`] is listed only beside another open field: it
/// alone is no reason to call the model.
pub fn open_fields(intent: &TripIntent, overrides: &OverridesInput) -> Vec<Field> {
    let refused = |field: Field| {
        intent
            .questions
            .iter()
            .any(|q| question_field(q) == Some(field) && is_refusal(q))
    };
    let asked = |field: Field| {
        intent
            .questions
            .iter()
            .any(|q| question_field(q) == Some(field))
    };
    let mut open = Vec::new();
    let candidates = [
        (
            Field::Origin,
            intent.origin.is_none() && overrides.origin.is_none(),
        ),
        (
            Field::Destination,
            intent.destination.is_none() && overrides.destination.is_none(),
        ),
        (
            Field::StartDate,
            intent.start_date.is_none() && overrides.start_date.is_none(),
        ),
        (
            Field::Days,
            intent.days.is_none() && overrides.days.is_none(),
        ),
        (
            Field::People,
            overrides.people.is_none()
                && (asked(Field::People)
                    || intent.assumptions.iter().any(|a| is_default_people(a))),
        ),
        (
            Field::Budget,
            intent.budget.is_none() && overrides.budget.is_none(),
        ),
    ];
    for (field, empty) in candidates {
        if empty && !refused(field) {
            open.push(field);
        }
    }
    // The people default alone is not worth a call: the rules must have
    // asked something the model may answer.
    let worth_a_call = !intent.questions.is_empty()
        && open
            .iter()
            .any(|f| *f != Field::People || asked(Field::People));
    if !worth_a_call {
        return Vec::new();
    }
    if overrides.constraints.is_none() {
        open.push(Field::Constraints);
    }
    open
}

fn nullable(kind: SchemaType, description: &str) -> PropertySchema {
    PropertySchema {
        kinds: vec![kind, SchemaType::Null],
        description: Some(description.to_owned()),
        allowed: None,
        items: None,
    }
}

fn choice(description: &str, values: &[&str]) -> PropertySchema {
    let mut allowed: Vec<Option<String>> = values.iter().map(|v| Some((*v).to_owned())).collect();
    allowed.push(None);
    PropertySchema {
        kinds: vec![SchemaType::String, SchemaType::Null],
        description: Some(description.to_owned()),
        allowed: Some(allowed),
        items: None,
    }
}

fn list(description: &str, values: Option<&[&str]>) -> PropertySchema {
    PropertySchema {
        kinds: vec![SchemaType::Array, SchemaType::Null],
        description: Some(description.to_owned()),
        allowed: None,
        items: Some(Box::new(PropertySchema {
            kinds: vec![SchemaType::String],
            description: None,
            allowed: values.map(|v| v.iter().map(|s| Some((*s).to_owned())).collect()),
            items: None,
        })),
    }
}

/// The JSON schema of the properties asked for: only the open fields'.
pub fn schema(open: &[Field]) -> ObjectSchema {
    let mut properties = BTreeMap::new();
    for field in open {
        match field {
            Field::Origin => {
                properties.insert(
                    "origin".to_owned(),
                    nullable(
                        SchemaType::String,
                        "City the trip starts from and returns to (where the travellers live or are)",
                    ),
                );
            }
            Field::Destination => {
                properties.insert(
                    "destination_city".to_owned(),
                    nullable(SchemaType::String, "The one city the trip goes to"),
                );
                properties.insert(
                    "destination_state".to_owned(),
                    nullable(
                        SchemaType::String,
                        "The US state the trip tours, when no single city is named",
                    ),
                );
                properties.insert(
                    "cities_to_visit".to_owned(),
                    nullable(
                        SchemaType::Integer,
                        "How many cities of the state to visit, when stated",
                    ),
                );
            }
            Field::StartDate => {
                properties.insert(
                    "start_date".to_owned(),
                    nullable(SchemaType::String, "First day of the trip, YYYY-MM-DD"),
                );
            }
            Field::Days => {
                properties.insert(
                    "days".to_owned(),
                    nullable(
                        SchemaType::Integer,
                        "Trip length in days, first and last day included",
                    ),
                );
            }
            Field::People => {
                properties.insert(
                    "people".to_owned(),
                    nullable(
                        SchemaType::Integer,
                        "How many people travel, children included",
                    ),
                );
            }
            Field::Budget => {
                properties.insert(
                    "budget_usd".to_owned(),
                    nullable(SchemaType::Number, "Total budget of the trip in US dollars"),
                );
            }
            Field::Constraints => {
                properties.insert(
                    "room_type".to_owned(),
                    choice(
                        "The kind of room every stay must be; not_shared for 'anything but a shared room'",
                        &["entire_room", "private_room", "shared_room", "not_shared"],
                    ),
                );
                properties.insert(
                    "house_rules".to_owned(),
                    list(
                        "What every stay must allow",
                        Some(&[
                            "parties",
                            "smoking",
                            "children_under_10",
                            "pets",
                            "visitors",
                        ]),
                    ),
                );
                properties.insert(
                    "cuisines".to_owned(),
                    list("Cuisines the travellers want to eat", None),
                );
                properties.insert(
                    "transport".to_owned(),
                    list(
                        "Transport the travellers rule out",
                        Some(&["no_flight", "no_self_driving"]),
                    ),
                );
            }
        }
    }
    ObjectSchema {
        kind: SchemaType::Object,
        required: properties.keys().cloned().collect(),
        properties,
        additional_properties: false,
    }
}

/// The system prompt: what to extract and how, with today's date for
/// relative dates ("next Saturday").
pub fn system_prompt(today: NaiveDate) -> String {
    format!(
        "You read one travel request and extract the trip it describes as JSON matching the \
         given schema. Use null (or an empty list) for anything the request does not state; \
         never guess or invent a value. Today is {today} ({weekday}); write dates as \
         YYYY-MM-DD and resolve relative dates (\"next Saturday\", \"in two weeks\") from \
         today. Write places as plain city or US state names (\"New York\", \"Chicago\", \
         \"Colorado\"), expanding nicknames and abbreviations.",
        weekday = today.format("%A"),
    )
}

/// Catalog names the model's places must resolve to.
pub struct Places<'a> {
    catalog: &'a dyn Catalog,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// "Denver, CO", "Denver, Colorado", "the Big Apple" → candidates to match.
fn spellings(name: &str) -> Vec<String> {
    let name = name.trim();
    let mut out = vec![name.to_owned()];
    if let Some((head, _)) = name.split_once(',') {
        out.push(head.trim().to_owned());
    }
    for s in out.clone() {
        let lower = s.to_lowercase();
        if let Some(rest) = lower.strip_suffix(" city") {
            out.push(rest.to_owned());
        }
        if let Some(rest) = lower.strip_prefix("the ") {
            out.push(rest.to_owned());
        }
    }
    out
}

impl<'a> Places<'a> {
    pub fn new(catalog: &'a dyn Catalog) -> Self {
        Self { catalog }
    }

    /// The catalog spelling of a city.
    pub fn city(&self, name: &str) -> Option<String> {
        spellings(name).iter().find_map(|s| {
            self.catalog
                .cities()
                .iter()
                .find(|c| same(&c.name, s))
                .map(|c| c.name.clone())
        })
    }

    /// The catalog spelling of a state with at least one city.
    pub fn state(&self, name: &str) -> Option<String> {
        spellings(name).iter().find_map(|s| {
            self.catalog
                .cities()
                .iter()
                .find(|c| same(&c.state, s))
                .map(|c| c.state.clone())
        })
    }

    /// The catalog spelling of a cuisine some restaurant serves.
    pub fn cuisine(&self, name: &str) -> Option<String> {
        self.catalog
            .cities()
            .iter()
            .flat_map(|c| self.catalog.restaurants_in(&c.name))
            .flat_map(|r| r.cuisines.iter())
            .find(|c| same(c, name))
            .cloned()
    }
}

/// What a merge did: the fields filled, and the values refused (each with
/// why), which leave the rules' question in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    pub filled: Vec<Field>,
    pub rejected: Vec<(Field, String)>,
}

/// A whole number of the JSON answer, or why not.
fn whole(field: &str, x: f64) -> Result<i64, String> {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
        // Exact: |x| < 2^53.
        Ok(x as i64)
    } else {
        Err(format!("{field} {x} is not a whole number"))
    }
}

fn by_serde_name<T: for<'de> Deserialize<'de>>(name: &str) -> Option<T> {
    let normalised = name.trim().to_lowercase().replace([' ', '-'], "_");
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        normalised.as_str().into_deserializer();
    T::deserialize(de).ok()
}

/// Fills the open fields of `intent` from the model's answer, each value
/// checked; a filled field's questions are removed and an assumption
/// names it. Fields not in `open` are left alone whatever the model said.
pub fn merge(
    intent: &mut TripIntent,
    answer: &ExtractedIntent,
    open: &[Field],
    places: &Places<'_>,
) -> Merged {
    let mut merged = Merged::default();
    let mut note = |intent: &mut TripIntent, field: Field, what: String| {
        intent
            .questions
            .retain(|q| question_field(q) != Some(field));
        intent
            .assumptions
            .push(format!("{what}, read by the language model"));
        if !merged.filled.contains(&field) {
            merged.filled.push(field);
        }
    };
    let mut rejected = Vec::new();
    for field in open {
        match field {
            Field::Origin => {
                let Some(name) = &answer.origin else { continue };
                match places.city(name) {
                    Some(city) => {
                        intent.origin = Some(city.clone());
                        note(intent, *field, format!("origin {city}"));
                    }
                    None => rejected.push((
                        *field,
                        format!("origin {name:?} is not a city of the catalog"),
                    )),
                }
            }
            Field::Destination => {
                let destination = match (&answer.destination_city, &answer.destination_state) {
                    (Some(name), _) => match places.city(name) {
                        Some(city) => Ok(Destination::City { name: city }),
                        None => match places.state(name) {
                            Some(state) => Ok(state_destination(intent, answer, state)),
                            None => Err(format!(
                                "destination {name:?} is not a city or state of the catalog"
                            )),
                        },
                    },
                    (None, Some(name)) => match places.state(name) {
                        Some(state) => Ok(state_destination(intent, answer, state)),
                        None => Err(format!(
                            "destination state {name:?} is not a state of the catalog"
                        )),
                    },
                    (None, None) => continue,
                };
                match destination {
                    Ok(d) if intent.origin.as_deref() == Some(d.name()) => rejected.push((
                        *field,
                        format!("destination {} is the trip's origin", d.name()),
                    )),
                    Ok(d) => {
                        let what = match &d {
                            Destination::City { name } => format!("destination {name}"),
                            Destination::State { name, cities } => format!(
                                "destination {name} ({cities} {})",
                                if *cities == 1 { "city" } else { "cities" }
                            ),
                        };
                        intent.destination = Some(d);
                        note(intent, *field, what);
                    }
                    Err(why) => rejected.push((*field, why)),
                }
            }
            Field::StartDate => {
                let Some(text) = &answer.start_date else {
                    continue;
                };
                match text.trim().parse::<TripDate>() {
                    Ok(date) => {
                        intent.start_date = Some(date);
                        note(intent, *field, format!("start date {date}"));
                    }
                    Err(e) => rejected.push((*field, e.to_string())),
                }
            }
            Field::Days => {
                let Some(n) = answer.days else { continue };
                match whole("days", n).and_then(|n| Days::try_from(n).map_err(|e| e.to_string())) {
                    Ok(days) => {
                        intent.days = Some(days);
                        note(intent, *field, format!("{days} days"));
                    }
                    Err(why) => rejected.push((*field, why)),
                }
            }
            Field::People => {
                let Some(n) = answer.people else { continue };
                match whole("travellers", n)
                    .and_then(|n| Travellers::try_from(n).map_err(|e| e.to_string()))
                {
                    Ok(people) => {
                        intent.people = people;
                        intent.assumptions.retain(|a| !is_default_people(a));
                        let word = if people.get() == 1 {
                            "traveller"
                        } else {
                            "travellers"
                        };
                        note(intent, *field, format!("{people} {word}"));
                    }
                    Err(why) => rejected.push((*field, why)),
                }
            }
            Field::Budget => {
                let Some(usd) = answer.budget_usd else {
                    continue;
                };
                match Budget::try_from(usd) {
                    Ok(budget) => {
                        intent.budget = Some(budget);
                        note(intent, *field, format!("budget ${budget}"));
                    }
                    Err(e) => rejected.push((*field, e.to_string())),
                }
            }
            Field::Constraints => {
                let c = &mut intent.constraints;
                let mut read = Vec::new();
                if c.room_type.is_none()
                    && let Some(name) = &answer.room_type
                {
                    match by_serde_name::<RoomRequirement>(name) {
                        Some(room) => {
                            c.room_type = Some(room);
                            read.push(format!("room type {}", room.label()));
                        }
                        None => rejected.push((*field, format!("room type {name:?} is unknown"))),
                    }
                }
                if c.house_rules.is_empty() {
                    for name in answer.house_rules.iter().flatten() {
                        match by_serde_name::<HouseRule>(name) {
                            Some(rule) if !c.house_rules.contains(&rule) => {
                                c.house_rules.push(rule);
                                read.push(format!("a stay that allows {name}"));
                            }
                            Some(_) => {}
                            None => {
                                rejected.push((*field, format!("house rule {name:?} is unknown")))
                            }
                        }
                    }
                }
                if c.cuisines.is_empty() {
                    for name in answer.cuisines.iter().flatten() {
                        match places.cuisine(name) {
                            Some(cuisine) if !c.cuisines.contains(&cuisine) => {
                                read.push(format!("{cuisine} food"));
                                c.cuisines.push(cuisine);
                            }
                            Some(_) => {}
                            None => rejected.push((
                                *field,
                                format!(
                                    "cuisine {name:?} is served by no restaurant of the catalog"
                                ),
                            )),
                        }
                    }
                }
                if c.transport.is_empty() {
                    for name in answer.transport.iter().flatten() {
                        match by_serde_name::<TransportRestriction>(name) {
                            Some(t) if !c.transport.contains(&t) => {
                                c.transport.push(t);
                                read.push(t.label().to_owned());
                            }
                            Some(_) => {}
                            None => rejected.push((
                                *field,
                                format!("transport restriction {name:?} is unknown"),
                            )),
                        }
                    }
                }
                if !read.is_empty() {
                    note(intent, *field, read.join(", "));
                }
            }
        }
    }
    merged.rejected = rejected;
    merged
}

/// A state destination: the model's city count when within bounds, else
/// the parser's default for the trip's length (stated).
fn state_destination(
    intent: &mut TripIntent,
    answer: &ExtractedIntent,
    state: String,
) -> Destination {
    let stated = answer
        .cities_to_visit
        .and_then(|n| whole("cities", n).ok())
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..Days::MAX).contains(n));
    let cities = stated.unwrap_or_else(|| {
        let n = match intent.days.map(Days::get) {
            Some(d) if d >= 7 => 3,
            Some(d) if d >= 5 => 2,
            _ => 1,
        };
        intent.assumptions.push(format!(
            "{n} {} in {state} for a trip of this length",
            if n == 1 { "city" } else { "cities" }
        ));
        n
    });
    Destination::State {
        name: state,
        cities,
    }
}
