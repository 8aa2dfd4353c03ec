//! Scoring against labelled TravelPlanner queries: parser field accuracy and
//! the benchmark's plan metrics (delivery, commonsense and hard pass rates,
//! final pass rate), computed by RULES.md through the verifier.

use serde::{Deserialize, Serialize};
use wayfare_domain::intent::{Destination, TripIntent};

use crate::agents::TripSpec;
use crate::catalog::Catalog;
use crate::travelplanner_format::from_submission;
use crate::verify::{COMMONSENSE, VerifyOptions, verify_with};

/// The labels of one dev query (`dev_queries.jsonl`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelledQuery {
    pub idx: u32,
    pub query: String,
    #[serde(default)]
    pub level: String,
    pub org: String,
    pub dest: String,
    pub days: u32,
    pub visiting_city_number: u32,
    pub date: Vec<String>,
    pub people_number: u32,
    pub budget: f64,
    pub local_constraint: LocalConstraint,
    #[serde(default)]
    pub reference_plan: Vec<serde_json::Value>,
}

/// The benchmark's local constraints as labelled.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LocalConstraint {
    #[serde(rename = "house rule")]
    pub house_rule: Option<String>,
    pub cuisine: Option<Vec<String>>,
    #[serde(rename = "room type")]
    pub room_type: Option<String>,
    pub transportation: Option<String>,
}

impl LocalConstraint {
    /// The local constraints an intent carries, in the labels' vocabulary.
    pub fn from_intent(intent: &TripIntent) -> Self {
        let c = &intent.constraints;
        Self {
            house_rule: c.house_rules.first().map(|r| r.label().to_string()),
            cuisine: (!c.cuisines.is_empty()).then(|| c.cuisines.clone()),
            room_type: c.room_type.map(|r| r.label().to_string()),
            transportation: c.transport.first().map(|t| t.label().to_string()),
        }
    }

    /// How many constraints are set (each kind counts once).
    pub fn count(&self) -> usize {
        usize::from(self.house_rule.is_some())
            + usize::from(self.cuisine.is_some())
            + usize::from(self.room_type.is_some())
            + usize::from(self.transportation.is_some())
    }
}

/// Parser fields compared with the labels: `(field, correct)`.
pub fn field_accuracy(intent: &TripIntent, label: &LabelledQuery) -> Vec<(&'static str, bool)> {
    let dates: Vec<String> = intent.dates().iter().map(|d| d.to_string()).collect();
    let (dest, cities) = match &intent.destination {
        Some(Destination::City { name }) => (Some(name.as_str()), 1),
        Some(Destination::State { name, cities }) => (Some(name.as_str()), *cities),
        None => (None, 0),
    };
    let mut want_lc = label.local_constraint.clone();
    let mut got_lc = LocalConstraint::from_intent(intent);
    for lc in [&mut want_lc, &mut got_lc] {
        if let Some(c) = lc.cuisine.as_mut() {
            c.sort();
        }
    }
    vec![
        ("org", intent.origin.as_deref() == Some(label.org.as_str())),
        ("dest", dest == Some(label.dest.as_str())),
        ("days", intent.days.map(u32::from) == Some(label.days)),
        ("visiting_city_number", cities == label.visiting_city_number),
        ("date", dates == label.date),
        ("people_number", intent.people.get() == label.people_number),
        ("budget", intent.budget.map(f64::from) == Some(label.budget)),
        ("local_constraint", got_lc == want_lc),
    ]
}

/// Reads a JSON-lines file of labelled queries.
pub fn read_labelled(text: &str) -> Result<Vec<LabelledQuery>, serde_json::Error> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

/// The trip a label describes, for judging a plan against it.
pub fn trip_from_label(label: &LabelledQuery) -> TripSpec {
    use wayfare_domain::catalog::HouseRule;
    use wayfare_domain::intent::{HardConstraints, RoomRequirement, TransportRestriction};
    let lc = &label.local_constraint;
    let house_rules = lc
        .house_rule
        .as_deref()
        .and_then(|r| HouseRule::ALL.into_iter().find(|h| h.label() == r))
        .into_iter()
        .collect();
    let room_type = lc.room_type.as_deref().and_then(|r| {
        [
            RoomRequirement::EntireRoom,
            RoomRequirement::PrivateRoom,
            RoomRequirement::SharedRoom,
            RoomRequirement::NotShared,
        ]
        .into_iter()
        .find(|x| x.label() == r)
    });
    let transport = lc
        .transportation
        .as_deref()
        .and_then(|t| {
            [
                TransportRestriction::NoFlight,
                TransportRestriction::NoSelfDriving,
            ]
            .into_iter()
            .find(|x| x.label() == t)
        })
        .into_iter()
        .collect();
    TripSpec {
        origin: label.org.clone(),
        destination: if label.visiting_city_number <= 1 {
            Destination::City {
                name: label.dest.clone(),
            }
        } else {
            Destination::State {
                name: label.dest.clone(),
                cities: label.visiting_city_number,
            }
        },
        dates: label
            .date
            .iter()
            .filter_map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .collect(),
        people: label.people_number,
        budget: Some(label.budget),
        constraints: HardConstraints {
            house_rules,
            room_type,
            cuisines: lc.cuisine.clone().unwrap_or_default(),
            transport,
        },
        preferences: Vec::new(),
        budget_level: None,
        pace: None,
        interests: Vec::new(),
        children: 0,
        objective: Default::default(),
    }
}

/// One query's result.
#[derive(Debug, Clone, Serialize)]
pub struct QueryScore {
    pub idx: u32,
    pub delivered: bool,
    /// The 8 commonsense checks.
    pub commonsense: Vec<(String, bool)>,
    /// Budget plus one per local constraint.
    pub hard: Vec<(String, bool)>,
    pub messages: Vec<String>,
}

impl QueryScore {
    pub fn commonsense_pass(&self) -> bool {
        self.delivered && self.commonsense.iter().all(|(_, ok)| *ok)
    }
    pub fn hard_pass(&self) -> bool {
        self.delivered && self.hard.iter().all(|(_, ok)| *ok)
    }
    pub fn final_pass(&self) -> bool {
        self.commonsense_pass() && self.hard_pass()
    }
}

/// Scores a submission-format plan against its labels by RULES.md.
pub fn score_plan(
    label: &LabelledQuery,
    plan: &[serde_json::Value],
    catalog: &dyn Catalog,
) -> QueryScore {
    let trip = trip_from_label(label);
    let hard_names: Vec<&str> = std::iter::once("budget")
        .chain(
            label
                .local_constraint
                .house_rule
                .as_ref()
                .map(|_| "house_rule"),
        )
        .chain(
            label
                .local_constraint
                .room_type
                .as_ref()
                .map(|_| "room_type"),
        )
        .chain(label.local_constraint.cuisine.as_ref().map(|_| "cuisine"))
        .chain(
            label
                .local_constraint
                .transportation
                .as_ref()
                .map(|_| "transportation"),
        )
        .collect();
    if plan.is_empty() {
        return QueryScore {
            idx: label.idx,
            delivered: false,
            commonsense: COMMONSENSE.iter().map(|n| (n.to_string(), false)).collect(),
            hard: hard_names.iter().map(|n| (n.to_string(), false)).collect(),
            messages: vec!["no plan".into()],
        };
    }
    let itinerary = from_submission(plan, &trip);
    // The official scorer does not check travel-day timing.
    let verdict = verify_with(
        &itinerary,
        &trip,
        catalog,
        VerifyOptions {
            travel_day_timing: false,
        },
    );
    let passed = |name: &str| verdict.check(name).is_some_and(|c| c.passed);
    let commonsense: Vec<(String, bool)> = COMMONSENSE
        .iter()
        .map(|n| (n.to_string(), passed(n)))
        .collect();
    let gate = passed("within_sandbox") && passed("complete_information");
    let hard = hard_names
        .iter()
        .map(|n| (n.to_string(), gate && passed(n)))
        .collect();
    QueryScore {
        idx: label.idx,
        delivered: true,
        commonsense,
        hard,
        messages: verdict
            .failures()
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect(),
    }
}

/// The benchmark's metrics over many queries.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Report {
    pub queries: usize,
    pub delivery_rate: f64,
    pub commonsense_micro: f64,
    pub commonsense_macro: f64,
    pub hard_micro: f64,
    pub hard_macro: f64,
    pub final_pass_rate: f64,
}

/// Aggregates query scores by RULES.md "Metrics".
pub fn report(scores: &[QueryScore]) -> Report {
    let n = scores.len().max(1) as f64;
    let cs_checks: usize = scores
        .iter()
        .map(|s| s.commonsense.iter().filter(|c| c.1).count())
        .sum();
    let hard_checks: usize = scores
        .iter()
        .map(|s| s.hard.iter().filter(|c| c.1).count())
        .sum();
    let hard_total: usize = scores.iter().map(|s| s.hard.len()).sum();
    Report {
        queries: scores.len(),
        delivery_rate: scores.iter().filter(|s| s.delivered).count() as f64 / n,
        commonsense_micro: cs_checks as f64 / (8.0 * n),
        commonsense_macro: scores.iter().filter(|s| s.commonsense_pass()).count() as f64 / n,
        hard_micro: hard_checks as f64 / hard_total.max(1) as f64,
        hard_macro: scores.iter().filter(|s| s.hard_pass()).count() as f64 / n,
        final_pass_rate: scores.iter().filter(|s| s.final_pass()).count() as f64 / n,
    }
}

/// Parser accuracy over labelled queries: (fields right / fields, queries all right / queries).
pub fn parser_accuracy(parse: impl Fn(&str) -> TripIntent, labels: &[LabelledQuery]) -> (f64, f64) {
    let mut fields = 0;
    let mut right = 0;
    let mut exact = 0;
    for label in labels {
        let acc = field_accuracy(&parse(&label.query), label);
        fields += acc.len();
        let ok = acc.iter().filter(|(_, ok)| *ok).count();
        right += ok;
        exact += usize::from(ok == acc.len());
    }
    (
        right as f64 / fields.max(1) as f64,
        exact as f64 / labels.len().max(1) as f64,
    )
}
