//! Reads the constraints every plan must meet, negated or not: house rules
//! (pets — "we're bringing our dog" —, smoking, parties, visitors, children
//! under 10, also implied by a toddler or a baby in the party; "no smoking
//! rooms", "smoke-free" and "no pets" name none), the room type ("entire
//! home", "private room", "shared room or dorm"; "anything but a dorm", "we
//! don't want to share a room", "no hostels" → not shared), cuisines in any
//! case ("some thai and mexican food", unless "not a fan of"), and transport
//! ruled out ("no planes", "we'd rather not fly", "afraid of flying" → no
//! flight; "non-self-driving", "we don't drive", "we don't have a car" → no
//! self-driving). The soft wishes — spending style, pace, interests
//! ("museums", "hiking") — are read into the intent's typed fields.

use std::sync::LazyLock;

use regex::Regex;
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{HardConstraints, RoomRequirement, TransportRestriction, TripIntent};
use wayfare_domain::preferences::{BudgetLevel, Interest, Pace};

use super::Gazetteer;
use super::people::Party;
use super::text::{clauses, contains_word, sentences};

re!(
    CHILDREN_UNDER_10,
    r"(?i)\b(?:children|kids|child|kid)\s+(?:under|below|younger than)\s+(?:the\s+age\s+of\s+)?(?:10|ten)\b"
);

/// The cuisines the TravelPlanner rules name: always known to the parser,
/// whatever the catalog serves.
pub(super) const BENCHMARK_CUISINES: [&str; 7] = [
    "Chinese",
    "American",
    "Italian",
    "Mexican",
    "Indian",
    "Mediterranean",
    "French",
];

/// Words read as a cuisine: the benchmark's, then others people ask for.
const CUISINE_WORTHY: [&str; 22] = [
    BENCHMARK_CUISINES[0],
    BENCHMARK_CUISINES[1],
    BENCHMARK_CUISINES[2],
    BENCHMARK_CUISINES[3],
    BENCHMARK_CUISINES[4],
    BENCHMARK_CUISINES[5],
    BENCHMARK_CUISINES[6],
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

/// Other words for a cuisine: (word, cuisine).
const CUISINE_WORDS: [(&str, &str); 7] = [
    ("barbecue", "BBQ"),
    ("bbq", "BBQ"),
    ("dessert", "Desserts"),
    ("sushi", "Japanese"),
    ("ramen", "Japanese"),
    ("dim sum", "Chinese"),
    ("pizzas", "Pizza"),
];

/// Words that make a lower-case cuisine name food ("thai food").
const FOOD_WORDS: [&str; 16] = [
    "food",
    "cuisine",
    "cuisines",
    "eat",
    "eating",
    "restaurant",
    "restaurants",
    "meal",
    "meals",
    "dinner",
    "dinners",
    "lunch",
    "breakfast",
    "dishes",
    "try",
    "foodie",
];

/// Cuisine names that are food on their own.
const FOOD_NOUNS: [&str; 5] = ["Seafood", "Pizza", "BBQ", "Desserts", "Bakery"];

const NEGATIONS: [&str; 13] = [
    "no", "not", "without", "avoid", "exclude", "neither", "never", "cannot", "won't", "hate",
    "hates", "dislike", "allergic",
];

fn negated(clause: &str) -> bool {
    // "no more than 2 hours driving" limits, it does not refuse.
    let limits = [
        "no more than",
        "not more than",
        "no longer than",
        "no less than",
    ];
    let owned;
    let clause = if limits.iter().any(|l| clause.contains(l)) {
        owned = limits
            .iter()
            .fold(clause.to_string(), |c, l| c.replace(l, " "));
        owned.as_str()
    } else {
        clause
    };
    NEGATIONS.iter().any(|n| contains_word(clause, n))
        || clause.contains("n't")
        || clause.contains("non-")
        || clause.contains("rather not")
        || clause.contains("anything but")
        || clause.contains("not a fan")
}

/// Phrases that rule shared rooms out.
const NOT_SHARED: [&str; 24] = [
    "non-shared",
    "not shared",
    "not be shared",
    "neither shared",
    "unshared",
    "no shared",
    "not a shared",
    "not in a shared",
    "anything but a dorm",
    "anything but a shared",
    "anything but dorm",
    "no dorm",
    "no hostel",
    "not a dorm",
    "not a hostel",
    "want to share",
    "not to share",
    "not share",
    "won't share",
    "rather not share",
    "no sharing",
    "our own room",
    "not sharing",
    "dont want to share",
];

const ENTIRE: [&str; 12] = [
    "entire room",
    "entire rooms",
    "entire home",
    "entire apartment",
    "entire place",
    "entire house",
    "whole place",
    "whole apartment",
    "whole house",
    "rooms to ourselves",
    "room to ourselves",
    "place to ourselves",
];

impl Gazetteer {
    pub(super) fn parse_constraints(
        &self,
        text: &str,
        party: &Party,
        intent: &mut TripIntent,
    ) -> HardConstraints {
        let lower = text.to_lowercase();
        let parts = clauses(&lower);
        let mut c = HardConstraints::default();
        let rule_words: [(HouseRule, &[&str]); 4] = [
            (
                HouseRule::Parties,
                &[
                    "parties",
                    "partying",
                    "party-friendly",
                    "throw a party",
                    "have a party",
                    "host a party",
                ],
            ),
            (
                HouseRule::Smoking,
                &["smoking", "smoke", "smoker", "smokers"],
            ),
            (
                HouseRule::Pets,
                &[
                    "pets",
                    "pet",
                    "pet-friendly",
                    "dog",
                    "dogs",
                    "cat",
                    "cats",
                    "puppy",
                ],
            ),
            (
                HouseRule::Visitors,
                &["visitors", "visitor", "guests over", "have guests"],
            ),
        ];
        for (rule, words) in rule_words {
            let mut named = false;
            let mut refused = false;
            for clause in &parts {
                if words.iter().any(|w| contains_word(clause, w)) {
                    // "no smoking rooms", "smoke-free", "no pets": a wish for
                    // none, which no stay's rules can promise.
                    if negated(clause) || clause.contains("-free") || clause.contains(" free") {
                        refused = true;
                    } else {
                        named = true;
                    }
                }
            }
            if named {
                c.house_rules.push(rule);
            } else if refused && rule == HouseRule::Smoking {
                intent.preferences.push("non-smoking".into());
            }
        }
        if CHILDREN_UNDER_10.is_match(text) {
            c.house_rules.push(HouseRule::ChildrenUnder10);
        } else if party.under_ten {
            c.house_rules.push(HouseRule::ChildrenUnder10);
            intent
                .assumptions
                .push("stays must allow children under 10: a young child travels".into());
        }
        c.house_rules.sort();

        let flat = lower.replace("do not", "don't").replace("don’t", "don't");
        // "no need for an entire home" asks for none.
        let wanted = |phrase: &str| {
            clauses(&flat)
                .iter()
                .any(|c| contains_word(c, phrase) && !negated(c))
        };
        c.room_type = if ENTIRE.iter().any(|p| wanted(p)) {
            Some(RoomRequirement::EntireRoom)
        } else if wanted("private room") || wanted("private rooms") {
            Some(RoomRequirement::PrivateRoom)
        } else if NOT_SHARED.iter().any(|p| flat.contains(p)) {
            Some(RoomRequirement::NotShared)
        } else if flat.contains("shared room")
            || contains_word(&flat, "dorm")
            || contains_word(&flat, "dorms")
            || contains_word(&flat, "hostel")
        {
            Some(RoomRequirement::SharedRoom)
        } else {
            None
        };

        let (cuisines, missing) = self.cuisines_named(text, &lower);
        c.cuisines = cuisines;
        for name in missing {
            intent.assumptions.push(format!(
                "no restaurant in the catalog serves {name} food; it is kept as a preference, not a constraint"
            ));
            intent
                .preferences
                .push(format!("{} food", name.to_lowercase()));
        }

        for clause in &parts {
            let fear = [
                "afraid of flying",
                "fear of flying",
                "scared of flying",
                "hate flying",
                "hates flying",
            ]
            .iter()
            .any(|p| clause.contains(p));
            let no_car = [
                "don't have a car",
                "no car",
                "don't need a car",
                "without a car",
                "don't own a car",
            ]
            .iter()
            .any(|p| clause.contains(p));
            let non_driving = clause.contains("non-self-driv")
                || clause.contains("non self-driv")
                || clause.contains("non-driving");
            let is_negated = negated(clause) || clause.contains("non-flight");
            if !is_negated && !fear {
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
                "airplanes",
            ]
            .iter()
            .any(|w| contains_word(clause, w))
                || clause.contains("non-flight");
            let driving = clause.contains("self-driv")
                || clause.contains("self driv")
                || clause.contains("self-drive")
                || clause.contains("drive ourselves")
                || clause.contains("driving ourselves")
                || clause.contains("drive myself")
                || clause.contains("driving myself")
                || non_driving
                || no_car
                || (contains_word(clause, "drive") && !flight)
                || (contains_word(clause, "driving") && !flight);
            if (flight || fear) && !c.transport.contains(&TransportRestriction::NoFlight) {
                c.transport.push(TransportRestriction::NoFlight);
            }
            if driving && !c.transport.contains(&TransportRestriction::NoSelfDriving) {
                c.transport.push(TransportRestriction::NoSelfDriving);
                if no_car {
                    intent
                        .assumptions
                        .push(format!("no self-driving: '{}'", clause.trim()));
                }
            }
        }
        c
    }

    /// Cuisines the text asks for, in the order it names them, and those
    /// it asks for that no restaurant of the catalog serves.
    fn cuisines_named(&self, text: &str, lower: &str) -> (Vec<String>, Vec<String>) {
        let mut found: Vec<(usize, String)> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        let known = |name: &str| self.cuisines.iter().any(|c| c == name);
        let mut candidates: Vec<(String, &str)> = CUISINE_WORTHY
            .iter()
            .filter(|c| c.len() >= 3)
            .map(|c| (c.to_lowercase(), *c))
            .collect();
        candidates.extend(CUISINE_WORDS.iter().map(|(w, c)| ((*w).to_string(), *c)));
        for sentence in sentences(lower) {
            let food = FOOD_WORDS.iter().any(|w| contains_word(sentence, w));
            for clause in clauses(sentence) {
                if negated(clause) {
                    continue;
                }
                for (word, name) in &candidates {
                    if !contains_word(clause, word) {
                        continue;
                    }
                    // Capitalised, a food noun, or beside a food word.
                    let capitalised = contains_word(text, name);
                    if !(capitalised || food || FOOD_NOUNS.contains(name)) {
                        continue;
                    }
                    if !known(name) {
                        if !missing.iter().any(|n| n == name) {
                            missing.push((*name).to_string());
                        }
                    } else if !found.iter().any(|(_, n)| n == name) {
                        let at = lower.find(word.as_str()).unwrap_or(usize::MAX);
                        found.push((at, (*name).to_string()));
                    }
                }
            }
        }
        found.sort_by_key(|(at, _)| *at);
        (found.into_iter().map(|(_, n)| n).collect(), missing)
    }
}

/// The soft wishes a request states: its spending style, its pace and
/// its interests ("museums and good food", "family-friendly").
pub(super) fn parse_wishes(text: &str, intent: &mut TripIntent) {
    let lower = text.to_lowercase();
    intent.budget_level = budget_level(&lower);
    intent.pace = pace(&lower);
    intent.interests = interests(&lower);
}

/// The interests a request names, in the order it names them. A word
/// after "no " is not one ("no museums"); family outings are an interest
/// when asked for ("family-friendly", "for the kids") — a family that
/// travels is read from the party (`children`), not from the word.
fn interests(lower: &str) -> Vec<Interest> {
    const FAMILY: [&str; 6] = [
        "family-friendly",
        "family friendly",
        "kid-friendly",
        "kid friendly",
        "for the kids",
        "for kids",
    ];
    let mut found: Vec<(usize, Interest)> = FAMILY
        .iter()
        .filter_map(|p| lower.find(p).filter(|&i| word_start(lower, i)))
        .map(|i| (i, Interest::Family))
        .collect();
    let mut at = 0;
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        let start = at;
        at += word.len() + 1;
        if word.is_empty() || matches!(word, "family" | "kids" | "children") {
            continue;
        }
        if let Some(interest) = Interest::from_word(word)
            && !lower[..start].ends_with("no ")
        {
            found.push((start, interest));
        }
    }
    found.sort_by_key(|(i, _)| *i);
    let mut interests = Vec::new();
    for (_, interest) in found {
        if !interests.contains(&interest) {
            interests.push(interest);
        }
    }
    interests
}

/// The spending style a request states. "Budget" alone is not one:
/// "a budget of $900" names an amount; "on a budget", "a budget trip" and
/// "budget-friendly" are a style.
fn budget_level(lower: &str) -> Option<BudgetLevel> {
    const LEVELS: [(BudgetLevel, &[&str]); 4] = [
        (
            BudgetLevel::Luxury,
            &[
                "luxury",
                "luxurious",
                "splurge",
                "five-star",
                "five star",
                "5-star",
                "5 star",
                "high-end",
                "high end",
                "lavish",
            ],
        ),
        (
            BudgetLevel::Comfort,
            &[
                "comfortable",
                "upscale",
                "nice hotel",
                "nicer hotel",
                "comfort",
            ],
        ),
        (
            BudgetLevel::Moderate,
            &[
                "mid-range",
                "midrange",
                "mid range",
                "moderate",
                "reasonably priced",
            ],
        ),
        (
            BudgetLevel::Budget,
            &[
                "shoestring",
                "on a budget",
                "budget trip",
                "budget-friendly",
                "budget friendly",
                "budget travel",
                "cheap",
                "backpack",
                "frugal",
                "low-cost",
                "low cost",
                "inexpensive",
                "as little as possible",
            ],
        ),
    ];
    let negated = |at: usize| {
        let before = &lower[..at];
        ["not ", "no ", "nothing ", "don't need ", "without "]
            .iter()
            .any(|n| before.ends_with(n))
    };
    // "a moderate pace" is about the days, not the money.
    let of_pace = |at: usize, phrase: &str| lower[at + phrase.len()..].starts_with(" pace");
    LEVELS.iter().find_map(|(level, phrases)| {
        phrases
            .iter()
            .any(|p| {
                lower
                    .match_indices(p)
                    .any(|(i, _)| word_start(lower, i) && !negated(i) && !of_pace(i, p))
            })
            .then_some(*level)
    })
}

/// The pace a request states.
fn pace(lower: &str) -> Option<Pace> {
    const RELAXED: [&str; 10] = [
        "relaxed",
        "relaxing",
        "relax",
        "unwind",
        "take it easy",
        "leisurely",
        "slow pace",
        "slow-paced",
        "easy pace",
        "laid-back",
    ];
    const PACKED: [&str; 7] = [
        "packed",
        "busy",
        "fast-paced",
        "fast pace",
        "see as much as",
        "as much as possible",
        "every minute",
    ];
    let says = |phrases: &[&str]| {
        phrases
            .iter()
            .any(|p| lower.match_indices(p).any(|(i, _)| word_start(lower, i)))
    };
    if says(&RELAXED) {
        Some(Pace::Relaxed)
    } else if says(&PACKED) {
        Some(Pace::Packed)
    } else if says(&[
        "balanced pace",
        "moderate pace",
        "normal pace",
        "steady pace",
    ]) {
        Some(Pace::Balanced)
    } else {
        None
    }
}

/// Whether byte `i` of `lower` starts a word.
fn word_start(lower: &str, i: usize) -> bool {
    !lower[..i]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}
