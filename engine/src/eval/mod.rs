//! Scoring against labelled TravelPlanner queries: parser field accuracy and
//! the benchmark's plan metrics (delivery, commonsense and hard pass rates,
//! final pass rate), computed by RULES.md through the verifier.

use serde::{Deserialize, Serialize};
use wayfare_domain::intent::{Destination, TripIntent};

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
            house_rule: c
                .house_rules
                .first()
                .map(|r| house_rule_label(*r).to_string()),
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

/// The label's word for a house rule, e.g. `"children under 10"`.
pub fn house_rule_label(rule: wayfare_domain::catalog::HouseRule) -> &'static str {
    use wayfare_domain::catalog::HouseRule;
    match rule {
        HouseRule::Parties => "parties",
        HouseRule::Smoking => "smoking",
        HouseRule::ChildrenUnder10 => "children under 10",
        HouseRule::Pets => "pets",
        HouseRule::Visitors => "visitors",
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
        ("days", intent.days == Some(label.days)),
        ("visiting_city_number", cities == label.visiting_city_number),
        ("date", dates == label.date),
        ("people_number", intent.people == label.people_number),
        ("budget", intent.budget == Some(label.budget)),
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
