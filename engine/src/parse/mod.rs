//! The request parser: free text → [`TripIntent`], by rules.
//!
//! A request is first put in one shape (`form`: "From: … / To: …" fields
//! become a sentence, arrows become "to"), then read field by field, each
//! concern in its own module:
//!
//! - `dates`: month names, ISO and US numeric dates, ranges, relative
//!   dates ("next Saturday", "in two weeks", "this weekend") and durations;
//! - `people`: who travels ("three adults and a toddler", "my sister, her
//!   son and me", "a group of 6");
//! - `money`: the budget, in digits or words, total or per person;
//! - `places`: catalog cities and states, nicknames and airport codes,
//!   typos, and which one is the origin;
//! - `constraints`: house rules, room type, cuisines, transport, negated
//!   or not;
//! - `requirements`: explicit and implicit requirements, priorities and a
//!   complexity assessment, from what the others found;
//! - `unknown`: a name given for the origin or the destination that the
//!   catalog lacks ("from Boston"), so the question can say so;
//! - `numbers`, `text`: counts and amounts in words, word boundaries,
//!   clauses, and the words of a self-correction.
//!
//! Never silently wrong: what the parser inferred is an `assumption` quoting
//! the words it came from; what it cannot read is a `question`; a
//! self-correction ("4 days, sorry, 5 days") takes the later statement and
//! says so; two statements that disagree without one are a question.
//!
//! Numbers and dates come out as the domain's bounded types
//! ([`wayfare_domain::bounds`]): a value the text states out of range (a
//! 100-day trip, a party of 50, a budget of 400 nines, the year 1999, a
//! negative budget) is a question naming the field and its range, never a
//! value the planner gets.
//!
//! A parse depends on today's date: relative dates ("tomorrow", "next
//! Saturday") and dates without a year are read from it
//! ([`Gazetteer::with_today`]; the current UTC date when unset). A cache of
//! parses keyed by the request text must also key by that date. A
//! gazetteer with a fixed default year instead ([`Gazetteer::with_default_year`],
//! the TravelPlanner benchmark's way) follows that benchmark's convention
//! for a party not stated: "we" alone is one traveller, said as an
//! assumption; read from today, it is a question.

use chrono::{Datelike, NaiveDate};
use wayfare_domain::bounds::Days;
use wayfare_domain::intent::TripIntent;

use crate::catalog::Catalog;

/// A built-in regex, compiled on first use (the invoking module imports
/// `LazyLock` and `Regex`).
macro_rules! re {
    ($(#[$meta:meta])* $name:ident, $pat:expr) => {
        $(#[$meta])*
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pat).expect("valid built-in regex"));
    };
}

mod constraints;
mod dates;
mod form;
mod money;
mod numbers;
mod people;
mod periods;
mod places;
mod requirements;
mod text;
mod unknown;

/// A catalog place name, ready for matching.
#[derive(Debug, Clone)]
struct PlaceName {
    name: String,
    lower: String,
    is_city: bool,
    is_state: bool,
}

/// What the parser knows about the catalog: place names and cuisines.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    /// Catalog city names with their states.
    cities: Vec<(String, String)>,
    states: Vec<String>,
    /// Every city and state name once, with its lower case and kind, for
    /// the place readers (computed once: parsing allocates none of it).
    names: Vec<PlaceName>,
    cuisines: Vec<String>,
    /// The year assumed when a date has none.
    default_year: i32,
    /// When set, a date written without a year that would fall before this
    /// day is taken to be in the following year (a person typing "March 5"
    /// in November means next March), and relative dates count from it.
    not_before: Option<NaiveDate>,
}

impl Gazetteer {
    /// Builds the gazetteer from the catalog (cities, states, cuisines).
    pub fn new(catalog: &dyn Catalog) -> Self {
        let cities: Vec<(String, String)> = catalog
            .cities()
            .iter()
            .map(|c| (c.name.clone(), c.state.clone()))
            .collect();
        let mut cuisines: Vec<String> = catalog
            .cities()
            .iter()
            .flat_map(|c| catalog.restaurants_in(&c.name))
            .flat_map(|r| r.cuisines.iter().cloned())
            .collect();
        cuisines.extend(constraints::BENCHMARK_CUISINES.map(str::to_owned));
        Self::from_parts(cities, cuisines)
    }

    /// A gazetteer from plain lists: `(city, state)` pairs and cuisines.
    pub fn from_parts(cities: Vec<(String, String)>, mut cuisines: Vec<String>) -> Self {
        let mut states: Vec<String> = cities.iter().map(|(_, s)| s.clone()).collect();
        states.sort();
        states.dedup();
        cuisines.sort();
        cuisines.dedup();
        let mut names: Vec<PlaceName> = Vec::new();
        for name in cities.iter().map(|(c, _)| c).chain(states.iter()) {
            if names.iter().any(|n| &n.name == name) {
                continue;
            }
            names.push(PlaceName {
                name: name.clone(),
                lower: name.to_ascii_lowercase(),
                is_city: cities.iter().any(|(c, _)| c == name),
                is_state: states.iter().any(|s| s == name),
            });
        }
        Self {
            cities,
            states,
            names,
            cuisines,
            default_year: chrono::Utc::now().year(),
            not_before: None,
        }
    }

    /// Sets the year assumed for dates written without one.
    pub fn with_default_year(mut self, year: i32) -> Self {
        self.default_year = year;
        self
    }

    /// Dates written without a year are the next ones on or after `today`,
    /// and relative dates ("next Saturday") count from it.
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.default_year = today.year();
        self.not_before = Some(today);
        self
    }

    /// The day relative dates count from.
    fn today(&self) -> NaiveDate {
        self.not_before
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    fn is_city(&self, name: &str) -> bool {
        self.cities.iter().any(|(c, _)| c == name)
    }

    fn is_state(&self, name: &str) -> bool {
        self.states.iter().any(|s| s == name)
    }

    /// How many catalog cities `state` has.
    fn cities_in(&self, state: &str) -> usize {
        self.cities.iter().filter(|(_, s)| s == state).count()
    }

    /// Parses a request.
    #[tracing::instrument(skip_all, fields(text.len = text.len()))]
    pub fn parse(&self, text: &str) -> TripIntent {
        let mut intent = TripIntent {
            text: text.to_string(),
            ..TripIntent::default()
        };
        let prepared = form::prepare(text);
        let text = prepared.as_str();
        self.parse_dates(text, &mut intent);
        let party = people::parse_people(text, self.not_before.is_some(), &mut intent);
        money::parse_budget(text, &party, &mut intent);
        self.parse_places(text, &mut intent);
        intent.constraints = self.parse_constraints(text, &party, &mut intent);
        constraints::parse_wishes(text, &mut intent);
        requirements::assess(text, &party, &mut intent);
        intent
    }
}

/// Every date from `start` for `days` days (checked: it stops at the last
/// date chrono can represent).
pub fn date_range(start: NaiveDate, days: Days) -> Vec<NaiveDate> {
    (0..days.get())
        .map_while(|i| start.checked_add_days(chrono::Days::new(u64::from(i))))
        .collect()
}

#[cfg(test)]
mod tests;
