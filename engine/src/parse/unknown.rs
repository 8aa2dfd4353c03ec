//! Place names the catalog does not have.
//!
//! "From Boston to Miami" on a catalog without either city used to be asked
//! as "Which city does the trip start from?", as if the person had not said.
//! When the origin or the destination is missing, this reads the name the
//! text gives after a cue ("from Boston", "to Miami", "visit Key West") so
//! the question can say the catalog lacks it and name the cities it has.
//!
//! A name is up to three words; a word that is a number, a month or a day,
//! a cuisine, or a common word ("home", "the", "relax") ends it or rules it
//! out. Written in lower case, a name is taken only in "from X to Y", where
//! both roles are plain; elsewhere it must start with a capital letter, so
//! "we want to relax" names nothing.

use super::Gazetteer;
use super::dates::{capitalised, is_calendar_word};
use super::text::word_spans;

/// Cues before an origin's name.
const ORIGIN: &[&str] = &["from", "leaving", "departing"];
/// Cues before a destination's name.
const DESTINATION: &[&str] = &["to", "visit", "visiting", "towards", "toward"];
/// Words that are never (the start of) a place name here.
const COMMON: &[&str] = &[
    "a",
    "an",
    "the",
    "my",
    "our",
    "your",
    "his",
    "her",
    "their",
    "this",
    "that",
    "these",
    "next",
    "last",
    "here",
    "there",
    "home",
    "work",
    "somewhere",
    "anywhere",
    "everywhere",
    "go",
    "get",
    "see",
    "be",
    "do",
    "make",
    "spend",
    "stay",
    "travel",
    "fly",
    "drive",
    "visit",
    "relax",
    "explore",
    "enjoy",
    "have",
    "take",
    "try",
    "eat",
    "about",
    "around",
    "under",
    "over",
    "me",
    "us",
    "them",
    "you",
    "it",
    "and",
    "or",
    "with",
    "for",
    "on",
    "at",
    "by",
    "in",
    "of",
    "to",
    "from",
    "per",
    "each",
    "all",
    "both",
    "some",
    "any",
    "city",
    "cities",
    "town",
    "state",
    "places",
    "place",
    "trip",
    "week",
    "weekend",
    "weeks",
    "day",
    "days",
    "night",
    "nights",
    "month",
    "people",
    "person",
    "adults",
    "kids",
    "children",
    "budget",
    "dollars",
    "usd",
    "today",
    "tomorrow",
    "tonight",
    "i",
    "we",
    "max",
    "maximum",
    "minimum",
    "up",
    "between",
    "during",
    "starting",
    "until",
    "till",
    "mid",
    "early",
    "late",
    "end",
    "beginning",
    "no",
    "not",
    "only",
    "just",
    "also",
    "then",
    "back",
    "return",
    "returning",
    "again",
    "flight",
    "flights",
    "car",
    "train",
    "bus",
    "hotel",
    "hotels",
    "food",
    "restaurant",
    "restaurants",
];
/// How many words a name may have.
const MAX_WORDS: usize = 3;
/// How many catalog cities a question lists by name.
const LISTED: usize = 12;

/// Which end of the trip a name is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Origin,
    Destination,
}

impl Gazetteer {
    /// The name the text gives for `role` that is not a catalog place, as
    /// written ("Boston", "key west").
    pub(super) fn unknown_place(&self, text: &str, role: Role) -> Option<String> {
        let spans = word_spans(text);
        let words: Vec<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let cues = match role {
            Role::Origin => ORIGIN,
            Role::Destination => DESTINATION,
        };
        for (i, cue) in lower.iter().enumerate() {
            if !cues.contains(&cue.as_str()) {
                continue;
            }
            let name_words = self.name_at(&words, &lower, i + 1);
            if name_words == 0 {
                continue;
            }
            let after = lower.get(i + 1 + name_words).map(String::as_str);
            let capital = words[i + 1].starts_with(|c: char| c.is_uppercase());
            // Lower case: only in "from X to Y" (the origin followed by
            // "to", or the destination after "from X").
            let plain = match role {
                Role::Origin => after == Some("to"),
                Role::Destination => {
                    cue == "to"
                        && (1..=MAX_WORDS).any(|n| {
                            i > n
                                && lower[i - n - 1] == "from"
                                && self.name_at(&words, &lower, i - n) == n
                        })
                }
            };
            if !(capital || plain) {
                continue;
            }
            let (start, _) = spans[i + 1];
            let (_, end) = spans[i + name_words];
            let name = &text[start..end];
            if self.knows(name) {
                continue;
            }
            return Some(name.to_string());
        }
        None
    }

    /// How many words starting at `at` make a place name (0: none).
    fn name_at(&self, words: &[&str], lower: &[String], at: usize) -> usize {
        let mut n = 0;
        while n < MAX_WORDS && at + n < words.len() {
            let word = lower[at + n].as_str();
            let ends = !word
                .chars()
                .all(|c| c.is_alphabetic() || c == '.' || c == '\'')
                || COMMON.contains(&word)
                || is_calendar_word(word)
                || self.cuisines.iter().any(|c| c.eq_ignore_ascii_case(word));
            // A later lower-case word after a capitalised one ends the name
            // ("Boston next week" is not "Boston next").
            let case_break = n > 0
                && words[at].starts_with(|c: char| c.is_uppercase())
                && !words[at + n].starts_with(|c: char| c.is_uppercase());
            if ends || case_break {
                break;
            }
            n += 1;
        }
        n
    }

    /// Whether `name` is a catalog city or state (any case).
    fn knows(&self, name: &str) -> bool {
        self.cities
            .iter()
            .any(|(city, _)| city.eq_ignore_ascii_case(name))
            || self.states.iter().any(|s| s.eq_ignore_ascii_case(name))
    }

    /// "Seattle, Portland and Denver" or "Atlanta, Boston, … and 300 more".
    pub(super) fn some_cities(&self) -> String {
        let mut names: Vec<&str> = self.cities.iter().map(|(c, _)| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        match names.len() {
            0 => "none".to_string(),
            1 => names[0].to_string(),
            n if n <= LISTED => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
            n => format!("{} and {} more", names[..LISTED].join(", "), n - LISTED),
        }
    }

    /// The question for a missing end of the trip, naming what the text
    /// said when the catalog lacks it; the catalog's cities are listed
    /// unless an earlier question (`asked`) lists them already.
    pub(super) fn missing_place_question(
        &self,
        text: &str,
        role: Role,
        plain: &str,
        asked: &[String],
    ) -> String {
        let Some(name) = self.unknown_place(text, role) else {
            return plain.to_string();
        };
        let name = display_name(&name);
        if asked.iter().any(|q| q.contains(KNOWS)) {
            format!("Wayfare's catalog has no city called \"{name}\" either. {plain}")
        } else {
            format!(
                "Wayfare's catalog has no city called \"{name}\". {plain} ({KNOWS} {})",
                self.some_cities()
            )
        }
    }
}

/// How a question starts its list of the catalog's cities.
const KNOWS: &str = "it knows";

/// A name as a person would see it written: "key west" → "Key West"; a
/// name with capitals already stays as written ("McAllen").
fn display_name(name: &str) -> String {
    if name.chars().any(char::is_uppercase) {
        return name.to_string();
    }
    name.split(' ')
        .map(capitalised)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::Role;
    use crate::parse::Gazetteer;

    fn gazetteer() -> Gazetteer {
        Gazetteer::from_parts(
            vec![
                ("Seattle".into(), "Washington".into()),
                ("Portland".into(), "Oregon".into()),
                ("Denver".into(), "Colorado".into()),
            ],
            vec!["Italian".into()],
        )
    }

    #[test]
    fn names_the_catalog_lacks_are_read_in_their_role() {
        let g = gazetteer();
        let cases: &[(&str, Role, Option<&str>)] = &[
            (
                "trip from boston to miami june 3",
                Role::Origin,
                Some("boston"),
            ),
            (
                "trip from boston to miami june 3",
                Role::Destination,
                Some("miami"),
            ),
            (
                "From Key West to Denver, May 3-5",
                Role::Origin,
                Some("Key West"),
            ),
            (
                "3 days to San Juan from Seattle",
                Role::Destination,
                Some("San Juan"),
            ),
            ("we want to relax in Denver", Role::Destination, None),
            ("a trip to Italian restaurants", Role::Destination, None),
            ("from May 14 to May 16", Role::Origin, None),
            ("leaving from home to Denver", Role::Origin, None),
            (
                "from Seattle to Boston next week",
                Role::Destination,
                Some("Boston"),
            ),
            ("from seattle to portland", Role::Destination, None),
            ("go to the beach", Role::Destination, None),
        ];
        for (text, role, want) in cases {
            assert_eq!(
                g.unknown_place(text, *role).as_deref(),
                *want,
                "{text:?} as {role:?}"
            );
        }
    }

    #[test]
    fn the_question_names_the_place_and_the_catalog() {
        let intent = gazetteer().parse("from Boston to Denver on May 3 to May 5, 2 people, $900");
        assert!(intent.origin.is_none());
        let asked = intent.questions.join(" ");
        assert!(
            asked.contains("no city called \"Boston\"")
                && asked.contains("Denver, Portland and Seattle"),
            "{asked}"
        );
    }

    #[test]
    fn two_missing_names_list_the_catalog_once_and_read_as_names() {
        let intent =
            gazetteer().parse("trip from key west to miami, May 3 to May 5, 2 people, $900");
        let asked = intent.questions.join(" ");
        assert!(
            asked.contains("no city called \"Key West\".")
                && asked.contains("no city called \"Miami\" either.")
                && asked.matches("Denver, Portland and Seattle").count() == 1,
            "{asked}"
        );
    }
}
