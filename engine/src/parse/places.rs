//! Reads where the trip starts and where it goes.
//!
//! Names are catalog cities and states, found in the text exactly, then
//! case-insensitively ("new york"), then with small typos ("Seatle");
//! nicknames, abbreviations and airport codes ("the big apple", "NYC",
//! "Chi-town", "L.A.", "SF", "Philly", "Vegas", "SEA") count when the city
//! is in the catalog. Roles come from the cue words before each name: "from",
//! "leaving", and where the person is or lives ("we live in Tacoma", "I'm in
//! Seattle") for the origin; "to", "visit", "see", "in" for the destination.
//! A state is the destination when the text asks for several cities or the
//! trip is long and the state has several cities; a corrected destination
//! ("to Chicago, no wait, to Denver") takes the later one. A trip that
//! starts where it goes is a question.

use std::sync::LazyLock;

use regex::Regex;
use wayfare_domain::bounds::Days;
use wayfare_domain::intent::{Destination, TripIntent};

use super::Gazetteer;
use super::numbers::number;
use super::text::{corrected_between, is_boundary, word_spans};
use super::unknown::Role;

/// A place name found in the text.
#[derive(Debug, Clone)]
pub(super) struct Mention {
    start: usize,
    end: usize,
    name: String,
    is_city: bool,
    is_state: bool,
}

/// How many words [`Gazetteer::fuzzy_mentions`] looks at.
const FUZZY_WORDS: usize = 160;

re!(
    CITY_COUNT,
    r"(?i)\b(\d+|one|two|three|four|five|six|seven)\s+(?:different\s+|distinct\s+|separate\s+|unique\s+)?cit(?:y|ies)\b"
);

/// (alias, catalog city, case matters). Lower-case aliases match in any case.
const ALIASES: &[(&str, &str, bool)] = &[
    ("the big apple", "New York", false),
    ("big apple", "New York", false),
    ("new york city", "New York", false),
    ("nyc", "New York", false),
    ("chi-town", "Chicago", false),
    ("chitown", "Chicago", false),
    ("chi town", "Chicago", false),
    ("windy city", "Chicago", false),
    ("l.a.", "Los Angeles", false),
    ("san fran", "San Francisco", false),
    ("frisco", "San Francisco", false),
    ("sf", "San Francisco", false),
    ("philly", "Philadelphia", false),
    ("vegas", "Las Vegas", false),
    ("sin city", "Las Vegas", false),
    ("nola", "New Orleans", false),
    ("big easy", "New Orleans", false),
    ("mile high city", "Denver", false),
    ("emerald city", "Seattle", false),
    ("rose city", "Portland", false),
    ("stumptown", "Portland", false),
    ("pdx", "Portland", false),
    ("d.c.", "Washington", false),
    ("beantown", "Boston", false),
    ("motor city", "Detroit", false),
    ("h-town", "Houston", false),
    ("colo springs", "Colorado Springs", false),
    ("LA", "Los Angeles", true),
    ("DC", "Washington", true),
    ("SEA", "Seattle", true),
    ("GEG", "Spokane", true),
    ("DEN", "Denver", true),
    ("COS", "Colorado Springs", true),
    ("SFO", "San Francisco", true),
    ("LAX", "Los Angeles", true),
    ("SAN", "San Diego", true),
    ("ORD", "Chicago", true),
    ("MDW", "Chicago", true),
    ("JFK", "New York", true),
    ("LGA", "New York", true),
    ("PHL", "Philadelphia", true),
    ("LAS", "Las Vegas", true),
    ("BOS", "Boston", true),
    ("ATL", "Atlanta", true),
    ("MIA", "Miami", true),
    ("DFW", "Dallas", true),
    ("IAH", "Houston", true),
    ("PHX", "Phoenix", true),
    ("MSY", "New Orleans", true),
    ("DTW", "Detroit", true),
    ("MSP", "Minneapolis", true),
    ("SLC", "Salt Lake City", true),
    ("BNA", "Nashville", true),
];

impl Gazetteer {
    /// Nicknames, abbreviations and airport codes of catalog cities.
    fn alias_mentions(&self, text: &str, found: &mut Vec<Mention>) {
        let lower = text.to_ascii_lowercase();
        // In text written in capitals, "SAN" and "LA" are words, not codes.
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        let upper = text.chars().filter(|c| c.is_uppercase()).count();
        let shouting = letters > 0 && upper * 2 > letters;
        for (alias, city, exact_case) in ALIASES {
            if !self.is_city(city) {
                continue;
            }
            if *exact_case && shouting {
                continue;
            }
            let hay = if *exact_case { text } else { lower.as_str() };
            for (start, _) in hay.match_indices(alias) {
                let end = start + alias.len();
                if !is_boundary(hay, start, end) {
                    continue;
                }
                found.push(Mention {
                    start,
                    end,
                    name: (*city).to_string(),
                    is_city: true,
                    is_state: false,
                });
            }
        }
    }

    /// Finds every city or state name in `text`, longest first, no overlaps.
    pub(super) fn mentions(&self, text: &str, case_sensitive: bool) -> Vec<Mention> {
        let hay = if case_sensitive {
            text.to_string()
        } else {
            text.to_ascii_lowercase()
        };
        let mut found: Vec<Mention> = Vec::new();
        for place in &self.names {
            let needle = if case_sensitive {
                place.name.as_str()
            } else {
                place.lower.as_str()
            };
            if needle.len() < 3 {
                continue;
            }
            for (start, _) in hay.match_indices(needle) {
                let end = start + needle.len();
                if !is_boundary(&hay, start, end) {
                    continue;
                }
                found.push(Mention {
                    start,
                    end,
                    name: place.name.clone(),
                    is_city: place.is_city,
                    is_state: place.is_state,
                });
            }
        }
        self.alias_mentions(text, &mut found);
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
    pub(super) fn fuzzy_mentions(&self, text: &str) -> Vec<Mention> {
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
                let candidate = text[start..end].to_ascii_lowercase();
                if candidate.len() < 4 {
                    continue;
                }
                let first = candidate.as_bytes().first();
                let last = candidate.as_bytes().last();
                for place in &self.names {
                    let lower = place.lower.as_str();
                    if lower.len().abs_diff(candidate.len()) > 2 {
                        continue;
                    }
                    // A typo keeps the first or the last letter: a cheap
                    // filter before the edit distance.
                    if lower.as_bytes().first() != first && lower.as_bytes().last() != last {
                        continue;
                    }
                    let dist = strsim::levenshtein(lower, &candidate);
                    let allowed = if lower.len() >= 8 { 2 } else { 1 };
                    if dist <= allowed {
                        let score = dist as f64 - len as f64 * 0.1;
                        if best.as_ref().is_none_or(|(_, _, s)| score < *s) {
                            best = Some((len, place.name.clone(), score));
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

    pub(super) fn parse_places(&self, text: &str, intent: &mut TripIntent) {
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
        let dest_cued: Vec<usize> = mentions
            .iter()
            .enumerate()
            .filter(|(i, m)| Some(*i) != origin_idx && cue_before(&lower, m.start, DEST_CUES))
            .map(|(i, _)| i)
            .collect();
        // "to Chicago, no wait, to Denver": the correction wins.
        let corrected = dest_cued.windows(2).rev().find(|w| {
            mentions[w[0]].name != mentions[w[1]].name
                && corrected_between(text, mentions[w[0]].end, mentions[w[1]].start)
        });
        if let Some(w) = corrected {
            intent.assumptions.push(format!(
                "destination: '{}' taken over '{}' (the text corrects itself)",
                mentions[w[1]].name, mentions[w[0]].name
            ));
        }
        let dest_idx = corrected
            .map(|w| w[1])
            .or_else(|| dest_cued.first().copied())
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
            intent.questions.push(self.missing_place_question(
                text,
                Role::Origin,
                "Which city does the trip start from?",
                &intent.questions,
            ));
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
            intent.questions.push(self.missing_place_question(
                text,
                Role::Destination,
                "Where should the trip go? Name a city or a state.",
                &intent.questions,
            ));
            return;
        };
        // Another city named besides the origin and the destination ("to
        // Denver and Boulder"): the planner visits one city, or cities of
        // one state it picks, so which is meant must be asked.
        let corrected_away = corrected.map(|w| w[0]);
        let mut others: Vec<&str> = mentions
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                Some(*i) != origin_idx
                    && *i != di
                    && Some(*i) != corrected_away
                    && m.is_city
                    && !m.is_state
                    && m.name != mentions[di].name
                    && origin_idx.is_none_or(|o| mentions[o].name != m.name)
            })
            .map(|(_, m)| m.name.as_str())
            .collect();
        others.dedup();
        if !others.is_empty() {
            intent.questions.push(format!(
                "Where should the trip go? The text names {} besides {}; a trip visits one city, or several cities of one state.",
                others.join(" and "),
                mentions[di].name
            ));
            return;
        }
        let m = &mentions[di];
        let wants_state = match city_count {
            Some(n) => n > 1,
            None => intent.days.is_some_and(|d| d.get() >= 5) && self.cities_in(&m.name) > 1,
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
            let name = intent.origin.take().unwrap_or_default();
            intent.destination = None;
            intent.questions.push(format!(
                "Which city does the trip start from? (the text names {name} as both start and destination)"
            ));
            intent
                .questions
                .push("The trip starts and ends at its destination; where should it go?".into());
        }
    }
}

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
    "i live in",
    "we live in",
    "i currently live in",
    "we currently live in",
    "i'm living in",
    "we're living in",
    "living in",
    "i'm in",
    "i am in",
    "we're in",
    "we are in",
    "im in",
    "currently in",
    "home is",
    "home is in",
    "located in",
    "coming from",
    "flying out of",
    "i'm from",
    "we're from",
    "based out of",
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
    "see",
    "into",
    "arriving in",
    "arrive in",
    "going to",
    "trip to",
];

/// Whether one of `cues` ends within a few words before `pos`.
fn cue_before(lower: &str, pos: usize, cues: &[&str]) -> bool {
    let words_back = lower[..pos]
        .char_indices()
        .rev()
        .filter(|(_, ch)| ch.is_whitespace())
        .nth(5)
        .map_or(0, |(i, _)| i);
    // A cue in another phrase ("Friday to Sunday, Seattle") is not this name's.
    let phrase = lower[..pos]
        .rfind(['.', ',', ';', '!', '?', '\n', ':'])
        .map_or(0, |i| i + 1);
    let start = words_back.max(phrase);
    let window = &lower[start..pos];
    // The nearest cue decides: "from A to B" gives B "to", not "from".
    // At the same end, the longer cue wins: "live in", not "in".
    let mut nearest: Option<(usize, usize, bool)> = None;
    for (list, is_wanted) in [(cues, true), (other_cues(cues), false)] {
        for cue in list {
            for (i, _) in window.match_indices(cue) {
                if is_boundary(window, i, i + cue.len()) {
                    let end = i + cue.len();
                    if nearest.is_none_or(|(e, s, _)| end > e || (end == e && i < s)) {
                        nearest = Some((end, i, is_wanted));
                    }
                }
            }
        }
    }
    // "commencing in X", "starting our journey in X": a weak destination cue
    // after an origin verb introduces the origin.
    if let Some((end, _, _)) = nearest
        && WEAK_DEST_CUES.iter().any(|w| window[..end].ends_with(w))
        && ORIGIN_CUES.iter().any(|cue| {
            window[..end]
                .match_indices(cue)
                .any(|(i, _)| is_boundary(window, i, i + cue.len()))
        })
    {
        return std::ptr::eq(cues, ORIGIN_CUES);
    }
    nearest.is_some_and(|(_, _, wanted)| wanted)
}

fn other_cues(cues: &[&str]) -> &'static [&'static str] {
    if std::ptr::eq(cues, ORIGIN_CUES) {
        DEST_CUES
    } else {
        ORIGIN_CUES
    }
}
