//! What the parser understood from a trip request: the [`TripIntent`].
//!
//! Every field the planner needs is optional here, because free text may not
//! say it; what is missing becomes a `question` (the planner cannot go on) or
//! an `assumption` (a stated default), never a silent guess.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bounds::{Budget, Days, Travellers, TripDate};
use crate::catalog::{HouseRule, RoomType};
use crate::preferences::{BudgetLevel, Interest, Pace};

/// Where the trip goes: one city, or several cities of a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination {
    City { name: String },
    State { name: String, cities: u32 },
}

impl Destination {
    /// The catalog name of the city or state.
    pub fn name(&self) -> &str {
        match self {
            Destination::City { name } | Destination::State { name, .. } => name,
        }
    }

    /// How many distinct cities the trip visits.
    pub fn city_count(&self) -> u32 {
        match self {
            Destination::City { .. } => 1,
            Destination::State { cities, .. } => *cities,
        }
    }
}

/// The kind of room every stay must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoomRequirement {
    EntireRoom,
    PrivateRoom,
    SharedRoom,
    NotShared,
}

impl RoomRequirement {
    /// Whether a stay of `room` meets the requirement.
    pub fn accepts(self, room: RoomType) -> bool {
        match self {
            RoomRequirement::EntireRoom => room == RoomType::EntireHome,
            RoomRequirement::PrivateRoom => room == RoomType::PrivateRoom,
            RoomRequirement::SharedRoom => room == RoomType::SharedRoom,
            RoomRequirement::NotShared => room != RoomType::SharedRoom,
        }
    }

    /// The TravelPlanner label, e.g. `"entire room"`.
    pub fn label(self) -> &'static str {
        match self {
            RoomRequirement::EntireRoom => "entire room",
            RoomRequirement::PrivateRoom => "private room",
            RoomRequirement::SharedRoom => "shared room",
            RoomRequirement::NotShared => "not shared room",
        }
    }
}

/// A transport mode the traveller rules out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransportRestriction {
    NoFlight,
    NoSelfDriving,
}

impl TransportRestriction {
    /// The TravelPlanner label, e.g. `"no flight"`.
    pub fn label(self) -> &'static str {
        match self {
            TransportRestriction::NoFlight => "no flight",
            TransportRestriction::NoSelfDriving => "no self-driving",
        }
    }
}

/// Constraints a plan must meet (the benchmark's "local constraints").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HardConstraints {
    /// What every stay must allow.
    pub house_rules: Vec<HouseRule>,
    pub room_type: Option<RoomRequirement>,
    /// Cuisines each of which some meal in the destination cities must serve.
    pub cuisines: Vec<String>,
    pub transport: Vec<TransportRestriction>,
}

impl HardConstraints {
    pub fn forbids_flights(&self) -> bool {
        self.transport.contains(&TransportRestriction::NoFlight)
    }

    pub fn forbids_self_driving(&self) -> bool {
        self.transport
            .contains(&TransportRestriction::NoSelfDriving)
    }

    /// How many local constraints the benchmark counts (house rule, room
    /// type, cuisine, transportation: each counts once when present).
    pub fn count(&self) -> usize {
        usize::from(!self.house_rules.is_empty())
            + usize::from(self.room_type.is_some())
            + usize::from(!self.cuisines.is_empty())
            + usize::from(!self.transport.is_empty())
    }
}

/// The opening words of the inferred spending note, by level.
const SPENDING_NOTES: [(BudgetLevel, &str); 4] = [
    (BudgetLevel::Budget, "Thrifty spending:"),
    (BudgetLevel::Moderate, "Moderate spending:"),
    (BudgetLevel::Comfort, "Comfortable spending:"),
    (BudgetLevel::Luxury, "Luxury spending:"),
];

/// What the parser understood from a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TripIntent {
    /// The request text as given.
    pub text: String,
    /// Catalog name of the city the trip starts and ends in.
    pub origin: Option<String>,
    pub destination: Option<Destination>,
    pub start_date: Option<TripDate>,
    /// Trip length in days, the first and last being travel days.
    pub days: Option<Days>,
    /// Number of travellers.
    pub people: Travellers,
    /// Total budget in USD.
    pub budget: Option<Budget>,
    pub constraints: HardConstraints,
    /// Other wishes in the request's words ("non-smoking"), not checked.
    pub preferences: Vec<String>,
    /// The spending style the request states ("on a shoestring",
    /// "luxury"). `None`: the planner infers one from the money a person
    /// has a day, and an assumption says which.
    #[serde(default)]
    pub budget_level: Option<BudgetLevel>,
    /// How full the days should be, when the request says ("a relaxed
    /// trip"); else balanced.
    #[serde(default)]
    pub pace: Option<Pace>,
    /// What the person wants to see or do ("museums and good food").
    #[serde(default)]
    pub interests: Vec<Interest>,
    /// Defaults the parser filled in, stated so the user can correct them.
    pub assumptions: Vec<String>,
    /// What must be answered before a plan can be made.
    pub questions: Vec<String>,
    /// How many of `people` are children (kids, teenagers, toddlers,
    /// babies), when the text says so.
    #[serde(default)]
    pub children: u32,
    /// What the text asks for in so many words, each with the words it came
    /// from ("budget at most $950: 'no more than $950'").
    #[serde(default)]
    pub explicit_requirements: Vec<String>,
    /// What follows from the request without being said ("return to Seattle
    /// on the last day", "stays that take 4 guests").
    #[serde(default)]
    pub implicit_requirements: Vec<String>,
    /// What the traveller cares about most, most important first.
    #[serde(default)]
    pub priorities: Vec<Priority>,
    /// How much work the request is for the agents.
    #[serde(default)]
    pub complexity: Complexity,
}

/// Something a request weighs more than the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Spend as little as possible ("cheap", "on a budget").
    Cost,
    /// Comfort and quality of stays ("nice hotel", "luxury").
    Comfort,
    /// Short journeys ("quick", "fastest", "direct").
    Time,
    /// Food ("foodie", a cuisine named).
    Food,
    /// Sights and activities (museums, hiking, nightlife…).
    Experiences,
    /// A relaxed pace.
    Relaxation,
}

/// How much planning a request needs: the orchestrator's complexity
/// assessment, from the number of cities, days, travellers and constraints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    /// One city, a few days, at most one constraint.
    #[default]
    Simple,
    /// Several constraints, a longer trip or a larger party.
    Moderate,
    /// Several cities, or many constraints at once.
    Complex,
}

impl TripIntent {
    /// Every date of the trip, when start and length are known. At most
    /// [`Days::MAX`] dates, each computed with checked arithmetic.
    pub fn dates(&self) -> Vec<NaiveDate> {
        match (self.start_date, self.days) {
            (Some(start), Some(days)) => (0..days.get())
                .map_while(|offset| {
                    start
                        .get()
                        .checked_add_days(chrono::Days::new(u64::from(offset)))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Moves the words an intent logged before the typed fields existed
    /// ("luxury", "relax", "museum" among `preferences`) into them, where
    /// those are unset; other words stay. Idempotent.
    pub fn lift_preference_words(&mut self) {
        let mut level = None;
        let mut pace = None;
        let mut interests = Vec::new();
        self.preferences.retain(|word| {
            let word = word.trim().to_ascii_lowercase();
            if let Some(l) = BudgetLevel::from_key(&word) {
                level = level.or(Some(l));
            } else if word == "relax" || word == "packed" {
                pace = pace.or(Some(if word == "relax" {
                    Pace::Relaxed
                } else {
                    Pace::Packed
                }));
            } else if let Some(i) = Interest::from_word(&word) {
                interests.push(i);
            } else {
                return true;
            }
            false
        });
        self.budget_level = self.budget_level.or(level);
        self.pace = self.pace.or(pace);
        for i in interests {
            if !self.interests.contains(&i) {
                self.interests.push(i);
            }
        }
    }

    /// States the spending style inferred from the money a person has a
    /// day when the request states none ("Comfortable spending: about $333
    /// a person a day …"), in place of an earlier such note: a form's or an
    /// answer's budget, length, party or style changes it.
    pub fn note_spending(&mut self) {
        self.assumptions
            .retain(|a| !SPENDING_NOTES.iter().any(|(_, note)| a.starts_with(note)));
        if self.budget_level.is_none()
            && let (Some(budget), Some(days)) = (self.budget, self.days)
        {
            let per_day =
                f64::from(budget) / f64::from(days.get()) / f64::from(self.people.get().max(1));
            let level = BudgetLevel::from_daily(per_day);
            let note = SPENDING_NOTES
                .iter()
                .find(|(l, _)| *l == level)
                .map_or("Spending", |(_, note)| note);
            self.assumptions.push(format!(
                "{note} about ${per_day:.0} a person a day (say \"on a shoestring\" or \"luxury\" to change it)"
            ));
        }
    }

    /// Forgets what the parser assumed about the party ("2 people: 'two
    /// of us'", "one traveller assumed"): a stated number replaced it.
    pub fn forget_party_assumptions(&mut self) {
        self.assumptions.retain(|a| {
            let digits = a.trim_start_matches(|c: char| c.is_ascii_digit());
            let counted = digits.len() < a.len()
                && (digits.starts_with(" people: '") || digits.starts_with(" person: '"));
            !(counted || a.starts_with("one traveller assumed"))
        });
    }

    /// True when the planner has everything it needs.
    pub fn is_complete(&self) -> bool {
        self.questions.is_empty()
            && self.origin.is_some()
            && self.destination.is_some()
            && self.start_date.is_some()
            && self.days.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_stored_before_the_new_fields_still_decodes() {
        let old = r#"{"text":"t","origin":"Seattle","destination":null,"start_date":null,
            "days":null,"people":2,"budget":null,
            "constraints":{"house_rules":[],"room_type":null,"cuisines":[],"transport":[]},
            "preferences":[],"assumptions":[],"questions":[]}"#;
        let intent: TripIntent = serde_json::from_str(old).expect("old intent decodes");
        assert_eq!(intent.children, 0);
        assert!(intent.explicit_requirements.is_empty());
        assert_eq!(intent.complexity, Complexity::Simple);
        assert_eq!(intent.budget_level, None);
        assert!(intent.interests.is_empty());
    }

    #[test]
    fn the_spending_note_follows_the_money_and_goes_when_a_style_is_set() {
        let mut intent = TripIntent {
            budget: Budget::try_from(2000.0).ok(),
            days: Days::try_from(3_u32).ok(),
            people: Travellers::try_from(2_u32).expect("two"),
            assumptions: vec![
                "2 people: 'two of us'".into(),
                "one traveller assumed".into(),
            ],
            ..TripIntent::default()
        };
        intent.note_spending();
        assert!(
            intent.assumptions[2].starts_with("Comfortable spending: about $333 a person a day"),
            "{:?}",
            intent.assumptions
        );
        intent.budget = Budget::try_from(600.0).ok();
        intent.note_spending();
        let notes: Vec<_> = intent
            .assumptions
            .iter()
            .filter(|a| a.contains("spending"))
            .collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("Moderate spending: about $100"),
            "{notes:?}"
        );
        intent.budget_level = Some(BudgetLevel::Luxury);
        intent.note_spending();
        assert!(!intent.assumptions.iter().any(|a| a.contains("spending")));
        intent.forget_party_assumptions();
        assert!(intent.assumptions.is_empty(), "{:?}", intent.assumptions);
    }

    #[test]
    fn words_logged_before_the_typed_preferences_are_lifted_into_them() {
        let mut intent = TripIntent {
            preferences: ["museum", "luxury", "relax", "non-smoking", "hiking", "art"]
                .map(String::from)
                .to_vec(),
            ..TripIntent::default()
        };
        intent.lift_preference_words();
        assert_eq!(intent.budget_level, Some(BudgetLevel::Luxury));
        assert_eq!(intent.pace, Some(Pace::Relaxed));
        assert_eq!(
            intent.interests,
            [Interest::Culture, Interest::Nature, Interest::Art]
        );
        assert_eq!(intent.preferences, ["non-smoking"]);
        let once = intent.clone();
        intent.lift_preference_words();
        assert_eq!(intent, once);
    }
}
