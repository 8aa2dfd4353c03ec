//! The request parser: free text → [`TripIntent`], by rules.
//!
//! Place names are resolved against the catalog's cities and states (exact
//! spelling first, then case-insensitive, then small typos); roles (origin,
//! destination) come from the cue words before each name. What the text does
//! not say becomes a question or a stated assumption.
//!
//! Numbers and dates come out as the domain's bounded types
//! ([`wayfare_domain::bounds`]): a value the text states out of range (a
//! 100-day trip, a party of 50, a budget of 400 nines, the year 1999) is a
//! question naming the field and its range, never a value the planner gets.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use wayfare_domain::bounds::{Budget, Days, Travellers, TripDate};
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{
    Destination, HardConstraints, RoomRequirement, TransportRestriction, TripIntent,
};

use crate::catalog::Catalog;

/// What the parser knows about the catalog: place names and cuisines.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    /// Catalog city names with their states.
    cities: Vec<(String, String)>,
    states: Vec<String>,
    cuisines: Vec<String>,
    /// The year assumed when a date has none.
    default_year: i32,
    /// When set, a date written without a year that would fall before this
    /// day is taken to be in the following year (a person typing "March 5"
    /// in November means next March).
    not_before: Option<NaiveDate>,
}

/// A place name found in the text.
#[derive(Debug, Clone)]
struct Mention {
    start: usize,
    end: usize,
    name: String,
    is_city: bool,
    is_state: bool,
}

const NUMBER_WORDS: [(&str, u32); 12] = [
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("single", 1),
    ("a", 1),
];

/// A count written in digits or as a word. Digits too many for a `u64`
/// still make a number — one larger than any bound.
fn number(word: &str) -> Option<u64> {
    let word = word.to_ascii_lowercase();
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return Some(word.parse().unwrap_or(u64::MAX));
    }
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, n)| u64::from(*n))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pat).expect("valid built-in regex"));
    };
}

re!(
    DATE,
    r"(?i)\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(\d{4}))?"
);
const MONTH_ALT: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

/// "the 23rd to the 29th of March" → "March 23rd to March 29th".
static DAY_RANGE_OF_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:to|-|–|through|until|and|till)\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+({MONTH_ALT})\b"))
        .expect("valid built-in regex")
});
/// "the 23rd of March" → "March 23rd".
static DAY_OF_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+({MONTH_ALT})\b"
    ))
    .expect("valid built-in regex")
});
/// "March 16-18, 2022" / "March 16 to 18, 2022" → "March 16 to March 18, 2022".
static MONTH_DAY_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\b({MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|to|through|until|till)\s*(\d{{1,2}})(?:st|nd|rd|th)?\b(\s*,|\s+\d{{4}}|\s*\.|\s*$)"))
        .expect("valid built-in regex")
});

/// Rewrites day-first and shortened date ranges into "Month D" form.
fn normalise_dates(text: &str) -> String {
    let text = DAY_RANGE_OF_MONTH.replace_all(text, "$3 $1 to $3 $2");
    let text = DAY_OF_MONTH.replace_all(&text, "$2 $1");
    MONTH_DAY_RANGE
        .replace_all(&text, "$1 $2 to $1 $3$4")
        .into_owned()
}

re!(ISO_DATE, r"\b(\d{4})-(\d{2})-(\d{2})\b");
/// A year said in words around it: "in 2027", "of 2027", "March 2027".
static YEAR_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?:in|of|during|year|{MONTH_ALT})\.?\s+(\d{{4}})\b"
    ))
    .expect("valid built-in regex")
});
re!(
    DAYS,
    r"(?i)\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]+days?\b"
);
re!(
    WEEKS,
    r"(?i)\b(one[\s-]week|a[\s-]week|week[\s-]long|1[\s-]week|two[\s-]weeks?|2[\s-]weeks?)\b"
);
re!(
    CITY_COUNT,
    r"(?i)\b(\d+|one|two|three|four|five|six|seven)\s+(?:different\s+|distinct\s+|separate\s+|unique\s+)?cit(?:y|ies)\b"
);
re!(
    MONEY,
    r"(?i)\$\s?(\d[\d,]*(?:\.\d+)?)\s*(k\b|thousand\b)?|\b(\d[\d,]*(?:\.\d+)?)\s*(k\b|thousand\b)?\s*(?:dollars|usd)\b|\bbudget[^.$\d]{0,30}?\b(\d+(?:\.\d+)?)\s*k\b"
);
re!(
    GROUP,
    r"(?i)\b(?:group|party|team|family)\s+of\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b"
);
re!(
    COUNTED,
    r"(?i)\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:people|persons|person|travell?ers|individuals|adults|friends|guests|of us|passengers)\b"
);
re!(
    CHILDREN,
    r"(?i)\b(?:and|with|plus)\s+(\d+|one|two|three|four|five|six)\s+(?:child|children|kids?)\b"
);
re!(
    FOR_N,
    r"(?i)\bfor\s+(two|three|four|five|six|seven|eight|nine|ten|\d+)\b(\s+\w+)?"
);
re!(TRIO, r"(?i)\b(a trio|trio of)\b");
re!(
    CHILDREN_UNDER_10,
    r"(?i)\b(?:children|kids|child|kid)\s+(?:under|below|younger than)\s+(?:the\s+age\s+of\s+)?(?:10|ten)\b"
);
re!(
    SOLO,
    r"(?i)\b(solo|alone|single person|single travell?er|an individual|one person|just me|by myself|myself only|1 person|a single)\b"
);
re!(
    COUPLE,
    r"(?i)\b(a couple|a duo|duo|a pair|pair of|my (?:wife|husband|partner|spouse|girlfriend|boyfriend) and i)\b"
);

impl Gazetteer {
    /// Builds the gazetteer from the catalog (cities, states, cuisines).
    pub fn new(catalog: &dyn Catalog) -> Self {
        let cities: Vec<(String, String)> = catalog
            .cities()
            .iter()
            .map(|c| (c.name.clone(), c.state.clone()))
            .collect();
        let mut states: Vec<String> = cities.iter().map(|(_, s)| s.clone()).collect();
        states.sort();
        states.dedup();
        let mut cuisines: Vec<String> = catalog
            .cities()
            .iter()
            .flat_map(|c| catalog.restaurants_in(&c.name))
            .flat_map(|r| r.cuisines.iter().cloned())
            .collect();
        for base in [
            "Chinese",
            "American",
            "Italian",
            "Mexican",
            "Indian",
            "Mediterranean",
            "French",
        ] {
            cuisines.push(base.to_string());
        }
        cuisines.sort();
        cuisines.dedup();
        Self {
            cities,
            states,
            cuisines,
            default_year: chrono::Utc::now().year(),
            not_before: None,
        }
    }

    /// A gazetteer from plain lists: `(city, state)` pairs and cuisines.
    pub fn from_parts(cities: Vec<(String, String)>, cuisines: Vec<String>) -> Self {
        let mut states: Vec<String> = cities.iter().map(|(_, s)| s.clone()).collect();
        states.sort();
        states.dedup();
        Self {
            cities,
            states,
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

    /// Dates written without a year are the next ones on or after `today`.
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.default_year = today.year();
        self.not_before = Some(today);
        self
    }

    fn is_city(&self, name: &str) -> bool {
        self.cities.iter().any(|(c, _)| c == name)
    }

    fn is_state(&self, name: &str) -> bool {
        self.states.iter().any(|s| s == name)
    }

    /// Parses a request.
    #[tracing::instrument(skip_all, fields(text.len = text.len()))]
    pub fn parse(&self, text: &str) -> TripIntent {
        let mut intent = TripIntent {
            text: text.to_string(),
            ..TripIntent::default()
        };
        self.parse_dates(text, &mut intent);
        self.parse_people(text, &mut intent);
        parse_budget(text, &mut intent);
        self.parse_places(text, &mut intent);
        intent.constraints = self.parse_constraints(text);
        intent.preferences = parse_preferences(text);
        intent
    }

    fn parse_dates(&self, text: &str, intent: &mut TripIntent) {
        let normalised = normalise_dates(text);
        let text = normalised.as_str();
        // A dollar amount is never a year: "$2000", "2000 dollars".
        let money: Vec<(usize, usize)> = MONEY
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        let is_money = |at: usize| money.iter().any(|(s, e)| (*s..*e).contains(&at));
        let year_of = |m: regex::Match<'_>| -> Option<i32> {
            (!is_money(m.start()))
                .then(|| m.as_str().parse().ok())
                .flatten()
        };
        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut iso_year = None;
        for cap in ISO_DATE.captures_iter(text) {
            if let (Ok(y), Ok(m), Ok(d)) = (cap[1].parse(), cap[2].parse(), cap[3].parse())
                && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
            {
                iso_year.get_or_insert(y);
                dates.push(date);
            }
        }
        // A year the text states: with a date, or in words around it.
        let year_in_text = DATE
            .captures_iter(text)
            .find_map(|c| c.get(3).and_then(year_of))
            .or(iso_year)
            .or_else(|| {
                YEAR_PHRASE
                    .captures_iter(text)
                    .find_map(|c| c.get(1).and_then(year_of))
            });
        let mut assumed_year = false;
        for cap in DATE.captures_iter(text) {
            let month_text = cap[1].to_ascii_lowercase();
            let Some(month) = MONTHS
                .iter()
                .position(|m| m.starts_with(&month_text[..3.min(month_text.len())]))
            else {
                continue;
            };
            // "may" is also a verb: only take it with a day number, which the regex requires.
            let Ok(day) = cap[2].parse::<u32>() else {
                continue;
            };
            let year = match cap.get(3).and_then(year_of).or(year_in_text) {
                Some(y) => y,
                None => {
                    assumed_year = true;
                    self.default_year
                }
            };
            if let Some(date) = NaiveDate::from_ymd_opt(year, month as u32 + 1, day) {
                dates.push(date);
            }
        }
        if assumed_year {
            // A range is moved as a whole, by its first date.
            let roll = matches!((self.not_before, dates.first()), (Some(today), Some(first)) if *first < today);
            if roll {
                dates = dates
                    .iter()
                    .filter_map(|d| NaiveDate::from_ymd_opt(d.year() + 1, d.month(), d.day()))
                    .collect();
            }
            let year = dates.first().map_or(self.default_year, |d| d.year());
            intent.assumptions.push(format!("the dates are in {year}"));
        }
        let mut days = DAYS.captures(text).and_then(|c| number(&c[1]));
        if days.is_none()
            && let Some(cap) = WEEKS.captures(text)
        {
            days = Some(if cap[1].starts_with(['t', 'T', '2']) {
                14
            } else {
                7
            });
        }
        match (dates.first(), dates.get(1)) {
            (Some(start), Some(end)) if end >= start => {
                let span = u64::try_from((*end - *start).num_days())
                    .map_or(u64::MAX, |d| d.saturating_add(1));
                if let Some(d) = days
                    && d != span
                {
                    intent.assumptions.push(format!(
                        "the dates span {span} days although the text says {d}; the dates are used"
                    ));
                }
                days = Some(span);
            }
            _ => {}
        }
        match dates.first().map(|d| TripDate::try_from(*d)) {
            Some(Ok(start)) => intent.start_date = Some(start),
            Some(Err(e)) => intent
                .questions
                .push(format!("When does the trip start? ({e})")),
            None => intent.questions.push(
                "When does the trip start? (e.g. \"from March 16th to March 18th, 2022\")".into(),
            ),
        }
        match days.map(|n| (n, Days::try_from(n))) {
            Some((_, Ok(d))) => intent.days = Some(d),
            Some((n, Err(_))) => intent.questions.push(format!(
                "A {n}-day trip cannot be planned; trips last {} to {} days.",
                Days::MIN,
                Days::MAX
            )),
            None => intent
                .questions
                .push("How many days is the trip? (e.g. \"a 3-day trip\" or an end date)".into()),
        }
    }

    fn parse_people(&self, text: &str, intent: &mut TripIntent) {
        let mut people = None;
        if let Some(cap) = GROUP.captures(text) {
            people = number(&cap[1]);
        }
        if people.is_none()
            && let Some(cap) = COUNTED.captures(text)
        {
            people = number(&cap[1]);
            if let Some(children) = CHILDREN.captures(text).and_then(|c| number(&c[1])) {
                people = people.map(|p| p.saturating_add(children));
            }
        }
        if people.is_none() {
            for cap in FOR_N.captures_iter(text) {
                let next = cap
                    .get(2)
                    .map(|m| m.as_str().trim().to_ascii_lowercase())
                    .unwrap_or_default();
                let counts_something_else = [
                    "day", "days", "night", "nights", "week", "weeks", "cities", "city", "hours",
                ]
                .contains(&next.as_str());
                if !counts_something_else {
                    people = number(&cap[1]);
                    break;
                }
            }
        }
        if people.is_none() && COUPLE.is_match(text) {
            people = Some(2);
        }
        if people.is_none() && TRIO.is_match(text) {
            people = Some(3);
        }
        if people.is_none() && SOLO.is_match(text) {
            people = Some(1);
        }
        intent.people = match people.filter(|p| *p > 0).map(Travellers::try_from) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                intent
                    .questions
                    .push(format!("How many people travel? ({e})"));
                Travellers::ONE
            }
            None => {
                intent.assumptions.push("one traveller assumed".into());
                Travellers::ONE
            }
        };
    }

    /// Finds every city or state name in `text`, longest first, no overlaps.
    fn mentions(&self, text: &str, case_sensitive: bool) -> Vec<Mention> {
        let hay = if case_sensitive {
            text.to_string()
        } else {
            text.to_ascii_lowercase()
        };
        let mut found: Vec<Mention> = Vec::new();
        let names = self
            .cities
            .iter()
            .map(|(c, _)| c.as_str())
            .chain(self.states.iter().map(String::as_str));
        for name in names {
            let needle = if case_sensitive {
                name.to_string()
            } else {
                name.to_ascii_lowercase()
            };
            if needle.len() < 3 {
                continue;
            }
            for (start, _) in hay.match_indices(&needle) {
                let end = start + needle.len();
                if !is_boundary(&hay, start, end) {
                    continue;
                }
                found.push(Mention {
                    start,
                    end,
                    name: name.to_string(),
                    is_city: self.is_city(name),
                    is_state: self.is_state(name),
                });
            }
        }
        found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut kept: Vec<Mention> = Vec::new();
        for m in found {
            if let Some(last) = kept.last()
                && m.start < last.end
            {
                if last.start == m.start && last.name == m.name {
                    continue;
                }
                if m.end - m.start > last.end - last.start && last.start == m.start {
                    kept.pop();
                } else {
                    continue;
                }
            }
            // "San Juan, Puerto Rico", "Charlotte in North Carolina": a
            // state right after a city qualifies it.
            if let Some(last) = kept.last()
                && m.is_state
                && last.is_city
                && matches!(text[last.end..m.start].trim(), "," | "in" | "In")
            {
                continue;
            }
            kept.push(m);
        }
        kept
    }

    /// Names within a small edit distance of words in `text`, for typos.
    fn fuzzy_mentions(&self, text: &str) -> Vec<Mention> {
        // Typos are looked for in the first words only, to bound the work.
        let mut words: Vec<(usize, usize)> = word_spans(text);
        words.truncate(FUZZY_WORDS);
        let mut found = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut best: Option<(usize, String, f64)> = None;
            for len in 1..=3 {
                if i + len > words.len() {
                    break;
                }
                let (start, _) = words[i];
                let (_, end) = words[i + len - 1];
                let candidate = text[start..end].to_lowercase();
                if candidate.len() < 4 {
                    continue;
                }
                let names = self
                    .cities
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .chain(self.states.iter().map(String::as_str));
                for name in names {
                    let lower = name.to_lowercase();
                    if lower.len().abs_diff(candidate.len()) > 2 {
                        continue;
                    }
                    let dist = strsim::levenshtein(&lower, &candidate);
                    let allowed = if lower.len() >= 8 { 2 } else { 1 };
                    if dist <= allowed {
                        let score = dist as f64 - len as f64 * 0.1;
                        if best.as_ref().is_none_or(|(_, _, s)| score < *s) {
                            best = Some((len, name.to_string(), score));
                        }
                    }
                }
            }
            if let Some((len, name, _)) = best {
                found.push(Mention {
                    start: words[i].0,
                    end: words[i + len - 1].1,
                    is_city: self.is_city(&name),
                    is_state: self.is_state(&name),
                    name,
                });
                i += len;
            } else {
                i += 1;
            }
        }
        found
    }

    fn parse_places(&self, text: &str, intent: &mut TripIntent) {
        let mut mentions = self.mentions(text, true);
        let mut fuzzy = false;
        if mentions.len() < 2 {
            mentions = self.mentions(text, false);
        }
        if mentions.len() < 2 {
            let fuzzy_found = self.fuzzy_mentions(text);
            if fuzzy_found.len() > mentions.len() {
                mentions = fuzzy_found;
                fuzzy = true;
            }
        }
        // ASCII lower-casing keeps byte offsets, so mention positions stay valid.
        let lower = text.to_ascii_lowercase();
        let origin_idx = mentions
            .iter()
            .position(|m| cue_before(&lower, m.start, ORIGIN_CUES))
            .or_else(|| {
                // Without an origin cue, the first name not cued as the destination.
                mentions
                    .iter()
                    .position(|m| !cue_before(&lower, m.start, DEST_CUES))
            });
        let dest_idx = mentions
            .iter()
            .enumerate()
            .position(|(i, m)| Some(i) != origin_idx && cue_before(&lower, m.start, DEST_CUES))
            .or_else(|| {
                mentions
                    .iter()
                    .enumerate()
                    .position(|(i, _)| Some(i) != origin_idx)
            });

        if let Some(i) = origin_idx {
            let m = &mentions[i];
            if m.is_city {
                intent.origin = Some(m.name.clone());
            } else {
                intent.questions.push(format!(
                    "Which city in {} does the trip start from?",
                    m.name
                ));
            }
        } else {
            intent
                .questions
                .push("Which city does the trip start from?".into());
        }

        let city_count = CITY_COUNT
            .captures(text)
            .and_then(|c| number(&c[1]))
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        // A night in each: a trip of at most `Days::MAX` days visits at
        // most `Days::MAX - 1` cities.
        if let Some(n) = city_count
            && !(1..Days::MAX).contains(&n)
        {
            intent.questions.push(format!(
                "How many cities should the trip visit? (from 1 to {}, not {n})",
                Days::MAX - 1
            ));
        }
        let Some(di) = dest_idx else {
            intent
                .questions
                .push("Where should the trip go? Name a city or a state.".into());
            return;
        };
        let m = &mentions[di];
        let wants_state = match city_count {
            Some(n) => n > 1,
            None => intent.days.is_some_and(|d| d.get() >= 5),
        };
        intent.destination = if m.is_state && (!m.is_city || wants_state) {
            let cities = match city_count {
                Some(n) => n,
                None => {
                    let n = match intent.days.map(Days::get) {
                        Some(d) if d >= 7 => 3,
                        Some(d) if d >= 5 => 2,
                        _ => 1,
                    };
                    intent.assumptions.push(format!(
                        "{n} {} in {} for a trip of this length",
                        if n == 1 { "city" } else { "cities" },
                        m.name
                    ));
                    n
                }
            };
            Some(Destination::State {
                name: m.name.clone(),
                cities,
            })
        } else {
            if m.is_state && m.is_city {
                intent
                    .assumptions
                    .push(format!("\"{}\" taken as the city, not the state", m.name));
            }
            Some(Destination::City {
                name: m.name.clone(),
            })
        };
        if fuzzy {
            let names: Vec<String> = [
                intent.origin.clone(),
                intent.destination.as_ref().map(|d| d.name().to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            intent
                .assumptions
                .push(format!("place names read as {}", names.join(" and ")));
        }
        if intent.origin.is_some()
            && intent.origin.as_deref() == intent.destination.as_ref().map(|d| d.name())
        {
            intent
                .questions
                .push("The trip starts and ends at its destination; where should it go?".into());
        }
    }

    fn parse_constraints(&self, text: &str) -> HardConstraints {
        let lower = text.to_lowercase();
        let mut c = HardConstraints::default();
        let rule_words: [(HouseRule, &[&str]); 5] = [
            (
                HouseRule::Parties,
                &["parties", "partying", "party-friendly"],
            ),
            (HouseRule::Smoking, &["smoking", "smoke", "smoker"]),
            (
                HouseRule::ChildrenUnder10,
                &[
                    "children under 10",
                    "kids under 10",
                    "children under ten",
                    "children below 10",
                    "child under 10",
                ],
            ),
            (
                HouseRule::Pets,
                &["pets", "pet", "pet-friendly", "dog", "dogs", "cat", "cats"],
            ),
            (HouseRule::Visitors, &["visitors", "visitor", "guests over"]),
        ];
        for (rule, words) in rule_words {
            let named = if rule == HouseRule::ChildrenUnder10 {
                CHILDREN_UNDER_10.is_match(text)
            } else {
                words.iter().any(|w| contains_word(&lower, w))
            };
            if named {
                c.house_rules.push(rule);
            }
        }
        // "no specific preferences about house rules" names no rule; nothing to undo.
        c.room_type = if contains_word(&lower, "entire room")
            || contains_word(&lower, "entire rooms")
            || lower.contains("entire home")
            || lower.contains("entire apartment")
            || lower.contains("entire place")
            || lower.contains("rooms to ourselves")
            || lower.contains("room to ourselves")
            || lower.contains("place to ourselves")
        {
            Some(RoomRequirement::EntireRoom)
        } else if lower.contains("private room") {
            Some(RoomRequirement::PrivateRoom)
        } else if lower.contains("non-shared")
            || lower.contains("not shared")
            || lower.contains("not be shared")
            || lower.contains("neither shared")
            || lower.contains("unshared")
            || lower.contains("no shared")
            || lower.contains("not a shared")
            || lower.contains("not in a shared")
        {
            Some(RoomRequirement::NotShared)
        } else if lower.contains("shared room") {
            Some(RoomRequirement::SharedRoom)
        } else {
            None
        };
        for cuisine in &self.cuisines {
            if cuisine.len() >= 4
                && contains_word(text, cuisine)
                && CUISINE_WORTHY.iter().any(|w| w == cuisine)
            {
                c.cuisines.push(cuisine.clone());
            }
        }
        // Keep the order the text names them in.
        c.cuisines
            .sort_by_key(|name| text.find(name.as_str()).unwrap_or(usize::MAX));
        for clause in clauses(&lower) {
            let negated = NEGATIONS.iter().any(|n| contains_word(clause, n))
                || clause.contains("n't")
                || clause.contains("non-flight");
            if !negated {
                continue;
            }
            let flight = [
                "flight",
                "flights",
                "fly",
                "flying",
                "flight-based",
                "plane",
                "planes",
                "airplane",
            ]
            .iter()
            .any(|w| contains_word(clause, w))
                || clause.contains("non-flight");
            let driving = clause.contains("self-driv")
                || clause.contains("self-drive")
                || clause.contains("drive ourselves")
                || clause.contains("driving ourselves")
                || clause.contains("drive myself")
                || clause.contains("driving myself")
                || (contains_word(clause, "drive") && !flight)
                || (contains_word(clause, "driving") && !flight);
            if flight && !c.transport.contains(&TransportRestriction::NoFlight) {
                c.transport.push(TransportRestriction::NoFlight);
            }
            if driving && !c.transport.contains(&TransportRestriction::NoSelfDriving) {
                c.transport.push(TransportRestriction::NoSelfDriving);
            }
        }
        c
    }
}

/// How many words [`Gazetteer::fuzzy_mentions`] looks at.
const FUZZY_WORDS: usize = 160;

/// Cuisines a request may name (the catalog's other labels, such as "Cafe",
/// "Tea" or "Fast Food", are too often ordinary words).
const CUISINE_WORTHY: [&str; 22] = [
    "Chinese",
    "American",
    "Italian",
    "Mexican",
    "Indian",
    "Mediterranean",
    "French",
    "Japanese",
    "Thai",
    "Korean",
    "Vietnamese",
    "Greek",
    "Spanish",
    "Seafood",
    "Pizza",
    "BBQ",
    "Desserts",
    "Bakery",
    "Tibetan",
    "Mughlai",
    "Continental",
    "Fast Food",
];

const NEGATIONS: [&str; 9] = [
    "no", "not", "without", "avoid", "exclude", "neither", "never", "cannot", "won't",
];

/// Statics, not consts: [`other_cues`] tells the lists apart by address.
static ORIGIN_CUES: &[&str] = &[
    "from",
    "starting in",
    "starting at",
    "beginning in",
    "begins in",
    "begin in",
    "leaving",
    "departing",
    "departs",
    "departure",
    "originating",
    "originates",
    "setting off from",
    "start in",
    "starts in",
    "based in",
    "live in",
    "out of",
    "leave",
    "leaves",
    "commencing",
    "commences",
    "commence",
    "starting",
    "starts",
    "start",
    "beginning",
    "begins",
    "begin",
    "embarking",
    "setting off",
];

/// Destination cues that also follow origin verbs ("commencing in X").
const WEAK_DEST_CUES: [&str; 5] = ["in", "within", "around", "through", "across"];

static DEST_CUES: &[&str] = &[
    "to",
    "visiting",
    "visit",
    "in",
    "heading",
    "heads",
    "towards",
    "toward",
    "explore",
    "exploring",
    "covering",
    "cover",
    "ends in",
    "takes in",
    "around",
    "through",
    "tour",
    "touring",
    "across",
    "destination",
    "within",
];

/// Whether one of `cues` ends within a few words before `pos`.
fn cue_before(lower: &str, pos: usize, cues: &[&str]) -> bool {
    let start = lower[..pos]
        .char_indices()
        .rev()
        .filter(|(_, ch)| ch.is_whitespace())
        .nth(5)
        .map_or(0, |(i, _)| i);
    let window = &lower[start..pos];
    // The nearest cue decides: "from A to B" gives B "to", not "from".
    let mut nearest: Option<(usize, bool)> = None;
    for (list, is_wanted) in [(cues, true), (other_cues(cues), false)] {
        for cue in list {
            for (i, _) in window.match_indices(cue) {
                if is_boundary(window, i, i + cue.len()) {
                    let end = i + cue.len();
                    if nearest.is_none_or(|(e, _)| end > e) {
                        nearest = Some((end, is_wanted));
                    }
                }
            }
        }
    }
    // "commencing in X", "starting our journey in X": a weak destination cue
    // after an origin verb introduces the origin.
    if let Some((end, _)) = nearest
        && WEAK_DEST_CUES.iter().any(|w| window[..end].ends_with(w))
        && ORIGIN_CUES.iter().any(|cue| {
            window[..end]
                .match_indices(cue)
                .any(|(i, _)| is_boundary(window, i, i + cue.len()))
        })
    {
        return std::ptr::eq(cues, ORIGIN_CUES);
    }
    nearest.is_some_and(|(_, wanted)| wanted)
}

fn other_cues(cues: &[&str]) -> &'static [&'static str] {
    if std::ptr::eq(cues, ORIGIN_CUES) {
        DEST_CUES
    } else {
        ORIGIN_CUES
    }
}

fn is_boundary(hay: &str, start: usize, end: usize) -> bool {
    let before = hay[..start].chars().next_back();
    let after = hay[end..].chars().next();
    !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
}

fn contains_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word)
        .any(|(i, _)| is_boundary(hay, i, i + word.len()))
}

fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        let part = ch.is_alphanumeric() || ch == '.' || ch == '\'';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    // Trailing full stops belong to the sentence, not the name.
    spans
        .into_iter()
        .map(|(s, e)| (s, s + text[s..e].trim_end_matches('.').len()))
        .filter(|(s, e)| e > s)
        .collect()
}

/// Splits lower-cased text into clauses at punctuation and conjunctions.
fn clauses(lower: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for sentence in lower.split(['.', ';', '!', '?', ',']) {
        let mut rest = sentence;
        while let Some(i) = [" and ", " but ", " so "]
            .iter()
            .filter_map(|sep| rest.find(sep))
            .min()
        {
            out.push(&rest[..i]);
            rest = &rest[i + 4..];
        }
        out.push(rest);
    }
    out
}

fn parse_budget(text: &str, intent: &mut TripIntent) {
    for cap in MONEY.captures_iter(text) {
        let (digits, suffix) = if let Some(d) = cap.get(1) {
            (d.as_str(), cap.get(2))
        } else if let Some(d) = cap.get(3) {
            (d.as_str(), cap.get(4))
        } else if let Some(d) = cap.get(5) {
            (d.as_str(), Some(d))
        } else {
            continue;
        };
        let Ok(mut value) = digits.replace(',', "").parse::<f64>() else {
            continue;
        };
        if suffix.is_some() {
            value *= 1000.0;
        }
        if value == 0.0 {
            continue;
        }
        match Budget::try_from(value) {
            Ok(budget) => intent.budget = Some(budget),
            Err(e) => intent.questions.push(format!(
                "What is the budget for the whole trip (in USD)? ({e})"
            )),
        }
        return;
    }
    intent
        .questions
        .push("What is the budget for the whole trip (in USD)?".into());
}

fn parse_preferences(text: &str) -> Vec<String> {
    const INTERESTS: [&str; 16] = [
        "museum",
        "beach",
        "hiking",
        "nature",
        "nightlife",
        "shopping",
        "art",
        "history",
        "park",
        "music",
        "relax",
        "adventure",
        "food",
        "wine",
        "architecture",
        "family",
    ];
    let lower = text.to_lowercase();
    INTERESTS
        .iter()
        .filter(|w| {
            lower.match_indices(*w).any(|(i, _)| {
                !lower[..i]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric)
            })
        })
        .map(|w| w.to_string())
        .collect()
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
