//! The planning agents, one module per agent type, each behind [`Agent`].
//!
//! Agents return ranked candidates (cheapest or best first) with their cost
//! and a one-line reason, never a single answer, so that the assembler can
//! search among them and a later change can offer alternatives.

pub mod accommodation;
pub mod activity;
pub mod budget;
pub mod dining;
pub mod location;
pub mod planning;
pub mod tips;
pub mod transport;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use wayfare_domain::intent::{Destination, HardConstraints, TripIntent};
use wayfare_domain::preferences::{BudgetLevel, Interest, Pace};

use crate::catalog::Catalog;

/// An agent run failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AgentError {
    /// Nothing in the catalog meets the request; the message says what.
    #[error("{0}")]
    NoCandidates(String),
}

/// One option an agent proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate<T> {
    pub item: T,
    /// USD for the whole party.
    pub cost: f64,
    pub reason: String,
}

/// An agent: takes the trip, the catalog and its upstream results.
pub trait Agent: Send + Sync {
    type Input: Send + Sync;
    type Output: Send;
    /// The agent type, e.g. `"transport"`.
    fn name(&self) -> &'static str;
    fn run(
        &self,
        trip: &TripSpec,
        catalog: &dyn Catalog,
        input: &Self::Input,
    ) -> Result<Self::Output, AgentError>;
}

/// A complete intent, checked: what the agents plan from.
#[derive(Debug, Clone, PartialEq)]
pub struct TripSpec {
    pub origin: String,
    pub destination: Destination,
    pub dates: Vec<NaiveDate>,
    pub people: u32,
    pub budget: Option<f64>,
    pub constraints: HardConstraints,
    /// Other wishes in the request's words: they order choices, never
    /// exclude.
    pub preferences: Vec<String>,
    /// The spending style stated (`None`: inferred from the money).
    pub budget_level: Option<BudgetLevel>,
    pub pace: Option<Pace>,
    pub interests: Vec<Interest>,
    /// How many of `people` are children.
    pub children: u32,
    /// What the assembler maximises among valid plans (default: utility).
    pub objective: Objective,
}

/// What the assembler chooses among the plans that meet every constraint.
///
/// Both objectives plan under the same hard constraints and pass the same
/// verifier; they differ only in which valid plan wins. See
/// [`crate::assemble::utility`] for the utility's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The plan a person would choose: the budget level's share of the
    /// budget spent on better rated, better suited stays and restaurants,
    /// travel times that leave room for meals and visits.
    #[default]
    Utility,
    /// The cheapest valid plan, then half of what is left on better rated
    /// stays and the rest on restaurants (the planner before issue 15).
    Cheapest,
}

impl Objective {
    pub fn label(self) -> &'static str {
        match self {
            Objective::Utility => "utility",
            Objective::Cheapest => "cheapest",
        }
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl std::str::FromStr for Objective {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utility" => Ok(Objective::Utility),
            "cheapest" => Ok(Objective::Cheapest),
            other => Err(format!(
                "unknown objective {other:?}: expected \"utility\" or \"cheapest\""
            )),
        }
    }
}

/// Why an intent cannot be planned yet.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the request is incomplete: {}", .0.join(" "))]
pub struct Incomplete(pub Vec<String>);

impl TripSpec {
    /// Checks that the intent has everything the planner needs.
    pub fn from_intent(intent: &TripIntent) -> Result<Self, Incomplete> {
        let mut missing = intent.questions.clone();
        if missing.is_empty() {
            if intent.origin.is_none() {
                missing.push("Which city does the trip start from?".into());
            }
            if intent.destination.is_none() {
                missing.push("Where should the trip go?".into());
            }
            if intent.dates().is_empty() {
                missing.push("When is the trip, and how many days?".into());
            }
        }
        let mut legacy = TripIntent {
            preferences: intent.preferences.clone(),
            ..TripIntent::default()
        };
        legacy.lift_preference_words();
        match (&intent.origin, &intent.destination) {
            (Some(origin), Some(destination)) if missing.is_empty() => Ok(Self {
                // An intent logged before the typed wishes keeps them as words.
                budget_level: intent.budget_level.or(legacy.budget_level),
                pace: intent.pace.or(legacy.pace),
                interests: if intent.interests.is_empty() {
                    legacy.interests
                } else {
                    intent.interests.clone()
                },
                children: intent.children,
                origin: origin.clone(),
                destination: destination.clone(),
                dates: intent.dates(),
                people: intent.people.get(),
                budget: intent.budget.map(f64::from),
                constraints: intent.constraints.clone(),
                preferences: legacy.preferences,
                objective: Objective::default(),
            }),
            _ => Err(Incomplete(missing)),
        }
    }

    pub fn days(&self) -> u32 {
        self.dates.len() as u32
    }
}

/// The shape of a trip: which cities, in order, and nights in each.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Skeleton {
    pub cities: Vec<String>,
    pub nights: Vec<u32>,
}

/// A leg of a skeleton: from, to, and the 0-based day it is travelled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LegKey {
    pub from: String,
    pub to: String,
    pub date: NaiveDate,
    pub day_index: usize,
}

impl Skeleton {
    /// Splits `days - 1` nights over `cities` as evenly as possible, earlier cities first.
    pub fn even(cities: Vec<String>, days: u32) -> Self {
        let n = cities.len() as u32;
        let nights_total = days.saturating_sub(1);
        let nights = (0..n)
            .map(|i| nights_total / n.max(1) + u32::from(i < nights_total % n.max(1)))
            .collect();
        Self { cities, nights }
    }

    /// The 0-based day each city is reached on.
    pub fn arrival_days(&self) -> Vec<usize> {
        let mut day = 0usize;
        self.nights
            .iter()
            .map(|n| {
                let d = day;
                day += *n as usize;
                d
            })
            .collect()
    }

    /// Every leg, origin → first city → … → origin.
    pub fn legs(&self, origin: &str, dates: &[NaiveDate]) -> Vec<LegKey> {
        let arrivals = self.arrival_days();
        let mut legs = Vec::with_capacity(self.cities.len() + 1);
        let mut from = origin.to_string();
        for (city, day) in self.cities.iter().zip(&arrivals) {
            if let Some(date) = dates.get(*day) {
                legs.push(LegKey {
                    from: from.clone(),
                    to: city.clone(),
                    date: *date,
                    day_index: *day,
                });
            }
            from = city.clone();
        }
        let last = dates.len().saturating_sub(1);
        if let Some(date) = dates.last() {
            legs.push(LegKey {
                from,
                to: origin.to_string(),
                date: *date,
                day_index: last,
            });
        }
        legs
    }
}

/// ceil(people / per_unit), at least 1.
pub fn units(people: u32, per_unit: u32) -> u32 {
    people.div_ceil(per_unit.max(1)).max(1)
}
