//! The parser on a labelled corpus of requests written the way people write
//! them (`tests/data/requests.jsonl`): parties, numeric and relative dates,
//! budgets in words, city nicknames, negations, form-like text, chatter,
//! typos and nonsense, read against the demo catalog with a fixed "today".
//!
//! The rule held: every field is right, or the parser asks for it — never a
//! wrong value. A field the corpus marks `"?"` (or leaves out, for the
//! planner's fields) must be asked.
//!
//! The benchmark (`benches/parse.rs`) includes this file for the scoring.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use wayfare_domain::intent::{Destination, TripIntent};
use wayfare_engine::catalog::MemoryCatalog;
use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::parse::Gazetteer;

/// The "today" every relative date in the corpus is read from (a Wednesday).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date")
}

/// A number the request states, or `"?"`: it must be asked.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Num {
    Value(f64),
    Ask(String),
}

/// One labelled request. A missing `origin`, `dest`, `start`, `days` or
/// `budget` must be asked; a missing `people` is one traveller (assumed and
/// stated); missing constraints are none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labelled {
    pub text: String,
    pub origin: Option<String>,
    /// A city, or `State/n` for n cities of a state; `"?"` to be asked.
    pub dest: Option<String>,
    /// ISO date.
    pub start: Option<String>,
    pub days: Option<Num>,
    pub people: Option<Num>,
    pub budget: Option<Num>,
    /// `room_type` label, or `not_shared`.
    pub room: Option<String>,
    #[serde(default)]
    pub transport: Vec<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub cuisines: Vec<String>,
}

/// How a field came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Right,
    /// Asked although the text said it: not wrong, but not plannable.
    Asked,
    Wrong,
}

pub const FIELDS: [&str; 10] = [
    "origin",
    "destination",
    "start",
    "days",
    "people",
    "budget",
    "room",
    "transport",
    "house_rules",
    "cuisines",
];

pub fn corpus() -> Vec<Labelled> {
    let text = include_str!("data/requests.jsonl");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("requests.jsonl:{}: {e}", i + 1))
        })
        .collect()
}

pub fn gazetteer() -> Gazetteer {
    let catalog = MemoryCatalog::new(demo_catalog().expect("the demo catalog loads"));
    Gazetteer::new(&catalog).with_today(today())
}

fn asked(intent: &TripIntent, words: &[&str]) -> bool {
    intent.questions.iter().any(|q| {
        let q = q.to_lowercase();
        words.iter().any(|w| q.contains(w))
    })
}

/// Scores a value field: `want` `None` means "must be asked".
fn score_opt<T: PartialEq>(got: Option<T>, want: Option<T>, was_asked: bool) -> Outcome {
    match (got, want) {
        (Some(g), Some(w)) if g == w => Outcome::Right,
        (Some(_), _) => Outcome::Wrong,
        (None, _) if !was_asked => Outcome::Wrong,
        (None, Some(_)) => Outcome::Asked,
        (None, None) => Outcome::Right,
    }
}

fn num(n: &Option<Num>) -> Option<f64> {
    match n {
        Some(Num::Value(v)) => Some(*v),
        _ => None,
    }
}

fn text_field(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| *s != "?")
}

/// Every field of one request, scored.
pub fn score(intent: &TripIntent, want: &Labelled) -> Vec<(&'static str, Outcome)> {
    let dest = intent.destination.as_ref().map(|d| match d {
        Destination::City { name } => name.clone(),
        Destination::State { name, cities } => format!("{name}/{cities}"),
    });
    let start = intent.start_date.map(|d| d.get().to_string());
    let want_people = match &want.people {
        None => Some(1.0),
        Some(Num::Value(v)) => Some(*v),
        Some(Num::Ask(_)) => None,
    };
    let people_asked = asked(intent, &["people", "travel"]);
    let people = match want_people {
        Some(w) if f64::from(intent.people.get()) == w && !people_asked => Outcome::Right,
        Some(_) if people_asked => Outcome::Asked,
        None if people_asked => Outcome::Right,
        _ => Outcome::Wrong,
    };
    let room = intent.constraints.room_type.map(|r| match r.label() {
        "not shared room" => "not_shared",
        other => other,
    });
    let mut transport: Vec<&str> = intent
        .constraints
        .transport
        .iter()
        .map(|t| t.label())
        .collect();
    transport.sort_unstable();
    let mut want_transport: Vec<&str> = want.transport.iter().map(String::as_str).collect();
    want_transport.sort_unstable();
    let mut rules: Vec<&str> = intent
        .constraints
        .house_rules
        .iter()
        .map(|r| {
            r.prohibition()
                .trim_start_matches("No ")
                .trim_start_matches("no ")
        })
        .collect();
    rules.sort_unstable();
    let mut want_rules: Vec<&str> = want.rules.iter().map(String::as_str).collect();
    want_rules.sort_unstable();
    let mut cuisines = intent.constraints.cuisines.clone();
    cuisines.sort();
    let mut want_cuisines = want.cuisines.clone();
    want_cuisines.sort();
    let exact = |ok: bool| if ok { Outcome::Right } else { Outcome::Wrong };
    vec![
        (
            "origin",
            score_opt(
                intent.origin.as_deref(),
                text_field(&want.origin),
                asked(intent, &["start from", "starts and ends", "start"]),
            ),
        ),
        (
            "destination",
            score_opt(
                dest.as_deref(),
                text_field(&want.dest),
                asked(intent, &["where", "city", "cities"]),
            ),
        ),
        (
            "start",
            score_opt(
                start.as_deref(),
                text_field(&want.start),
                asked(intent, &["start", "when", "date"]),
            ),
        ),
        (
            "days",
            score_opt(
                intent.days.map(|d| f64::from(d.get())),
                num(&want.days),
                asked(intent, &["day", "end"]),
            ),
        ),
        ("people", people),
        (
            "budget",
            score_opt(
                intent.budget.map(f64::from),
                num(&want.budget),
                asked(intent, &["budget"]),
            ),
        ),
        ("room", exact(room == want.room.as_deref())),
        ("transport", exact(transport == want_transport)),
        ("house_rules", exact(rules == want_rules)),
        ("cuisines", exact(cuisines == want_cuisines)),
    ]
}

/// Counts per field: (right, asked, wrong).
#[derive(Debug, Default)]
pub struct Tally {
    pub fields: BTreeMap<&'static str, (usize, usize, usize)>,
    pub requests: usize,
    /// Requests every field of which is right.
    pub exact: usize,
    /// Requests the planner can plan (no question) — of those labelled so.
    pub complete: usize,
    pub plannable: usize,
    pub wrong: Vec<String>,
    /// Fields asked although the text says them.
    pub asked: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, intent: &TripIntent, want: &Labelled) {
        let scores = score(intent, want);
        self.requests += 1;
        let mut all_right = true;
        for (field, outcome) in &scores {
            let e = self.fields.entry(field).or_default();
            match outcome {
                Outcome::Right => e.0 += 1,
                Outcome::Asked => {
                    e.1 += 1;
                    all_right = false;
                    self.asked
                        .push(format!("{field}: {:?} {:?}", want.text, intent.questions));
                }
                Outcome::Wrong => {
                    e.2 += 1;
                    all_right = false;
                    self.wrong.push(format!(
                        "{field}: {:?}\n    origin {:?} dest {:?} start {:?} days {:?} people {} budget {:?} {:?}\n    questions {:?}",
                        want.text,
                        intent.origin,
                        intent.destination,
                        intent.start_date.map(|d| d.get()),
                        intent.days.map(|d| d.get()),
                        intent.people.get(),
                        intent.budget.map(f64::from),
                        intent.constraints,
                        intent.questions,
                    ));
                }
            }
        }
        self.exact += usize::from(all_right);
        let labelled_plannable = text_field(&want.origin).is_some()
            && text_field(&want.dest).is_some()
            && want.start.is_some()
            && num(&want.days).is_some()
            && num(&want.budget).is_some()
            && !matches!(want.people, Some(Num::Ask(_)));
        if labelled_plannable {
            self.plannable += 1;
            self.complete += usize::from(intent.is_complete());
        }
    }

    pub fn print(&self) {
        println!("{} requests", self.requests);
        println!(
            "{:<12} {:>7} {:>7} {:>7}  (right / asked / wrong)",
            "field", "right", "asked", "wrong"
        );
        let pct = |n: usize| 100.0 * n as f64 / self.requests.max(1) as f64;
        for field in FIELDS {
            let (r, a, w) = self.fields.get(field).copied().unwrap_or_default();
            println!(
                "{field:<12} {:>6.1}% {:>6.1}% {:>6.1}%",
                pct(r),
                pct(a),
                pct(w)
            );
        }
        let total: (usize, usize, usize) = self
            .fields
            .values()
            .fold((0, 0, 0), |t, f| (t.0 + f.0, t.1 + f.1, t.2 + f.2));
        let n = (total.0 + total.1 + total.2).max(1) as f64;
        println!(
            "all fields   {:>6.1}% {:>6.1}% {:>6.1}%",
            100.0 * total.0 as f64 / n,
            100.0 * total.1 as f64 / n,
            100.0 * total.2 as f64 / n
        );
        println!(
            "requests exactly right: {:.1}%; complete (plannable) where the text has everything: {}/{} = {:.1}%",
            pct(self.exact),
            self.complete,
            self.plannable,
            100.0 * self.complete as f64 / self.plannable.max(1) as f64
        );
    }
}

#[test]
fn every_field_is_right_or_asked_never_wrong() {
    let gazetteer = gazetteer();
    let corpus = corpus();
    assert!(corpus.len() >= 300, "{} requests", corpus.len());
    let mut tally = Tally::default();
    for want in &corpus {
        tally.add(&gazetteer.parse(&want.text), want);
    }
    tally.print();
    if std::env::var_os("PARSE_CORPUS_VERBOSE").is_some() {
        println!("asked:\n{}", tally.asked.join("\n"));
    }
    assert!(
        tally.wrong.is_empty(),
        "{} wrong fields:\n{}",
        tally.wrong.len(),
        tally.wrong.join("\n")
    );
}

/// Each question names its field in the words the runtime's answer path
/// (`runtime::service::ask::answered`) recognises, so an answer to it
/// continues the same trip.
#[test]
fn every_question_names_a_field_the_answer_path_knows() {
    const KNOWN: [&str; 9] = [
        "start from",
        "when does the trip start",
        "how many days",
        "-day trip cannot be planned",
        "how many people",
        "budget",
        "where should the trip go",
        "how many cities",
        "starts and ends at its destination",
    ];
    let gazetteer = gazetteer();
    let mut unknown = Vec::new();
    for want in corpus() {
        for q in gazetteer.parse(&want.text).questions {
            let lower = q.to_lowercase();
            if !KNOWN.iter().any(|k| lower.contains(k)) {
                unknown.push(format!("{q}  <- {:?}", want.text));
            }
        }
    }
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
}
