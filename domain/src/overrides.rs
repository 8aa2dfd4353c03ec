//! Structured fields a client sends with a trip request, winning over what
//! the parser read from the text: [`OverridesInput`] is their JSON shape,
//! [`TripOverrides`] the checked value the runtime applies.
//!
//! Two steps on purpose: a body of the wrong shape (an unknown key, a string
//! for a number) is refused while decoding [`OverridesInput`] — the API's
//! 400 — and a well-formed value out of range by
//! `TripOverrides::try_from` — the API's 422, with a message naming the key
//! and its range. Serde's `try_from` does both at once where the difference
//! does not matter (the event log, tests).

use serde::{Deserialize, Serialize};

use crate::bounds::{Budget, Days, InputError, Travellers, TripDate};
use crate::intent::{Destination, HardConstraints, TripIntent};
use crate::preferences::{BudgetLevel, Interest, Pace};
use crate::request::{MAX_NAME_BYTES, MAX_QUERY_BYTES, check_text};

/// The keys `overrides` may hold — every field of [`TripIntent`], as the
/// runtime has always accepted, with `travellers` as another name for
/// `people` (the word a `travellers` change uses). Integers are read wide
/// (`i64`) so that a number out of range is reported as such, not as a
/// type error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OverridesInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<i64>,
    #[serde(default, alias = "travellers", skip_serializing_if = "Option::is_none")]
    pub people: Option<i64>,
    /// USD for the whole trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<HardConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Vec<String>>,
    /// `budget`, `moderate`, `comfort` or `luxury`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_level: Option<BudgetLevel>,
    /// `relaxed`, `balanced` or `packed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<Pace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interests: Option<Vec<Interest>>,
    /// How many of the travellers are children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumptions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<String>>,
}

/// Checked overrides: every value within the domain's bounds
/// ([`crate::bounds`]), every string free of control characters and of a
/// sane length. Built only from an [`OverridesInput`]; `Default` is "no
/// overrides".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OverridesInput", into = "OverridesInput")]
pub struct TripOverrides {
    text: Option<String>,
    origin: Option<String>,
    destination: Option<Destination>,
    start_date: Option<TripDate>,
    days: Option<Days>,
    people: Option<Travellers>,
    budget: Option<Budget>,
    constraints: Option<HardConstraints>,
    preferences: Option<Vec<String>>,
    budget_level: Option<BudgetLevel>,
    pace: Option<Pace>,
    interests: Option<Vec<Interest>>,
    /// At most [`Travellers::MAX`]; no more than the party when applied.
    children: Option<u32>,
    assumptions: Option<Vec<String>>,
    questions: Option<Vec<String>>,
}

fn names(field: &str, list: &[String]) -> Result<(), InputError> {
    list.iter()
        .try_for_each(|s| check_text(field, s, MAX_NAME_BYTES))
}

fn sentences(field: &str, list: &[String]) -> Result<(), InputError> {
    list.iter()
        .try_for_each(|s| check_text(field, s, MAX_QUERY_BYTES))
}

impl TryFrom<OverridesInput> for TripOverrides {
    type Error = InputError;

    fn try_from(input: OverridesInput) -> Result<Self, InputError> {
        if let Some(text) = &input.text {
            check_text("overrides.text", text, MAX_QUERY_BYTES)?;
        }
        if let Some(origin) = &input.origin {
            check_text("overrides.origin", origin, MAX_NAME_BYTES)?;
        }
        if let Some(destination) = &input.destination {
            check_text(
                "overrides.destination.name",
                destination.name(),
                MAX_NAME_BYTES,
            )?;
            // A trip of at most `Days::MAX` days has a night in at most
            // `Days::MAX - 1` cities.
            let cities = destination.city_count();
            if !(1..Days::MAX).contains(&cities) {
                return Err(InputError::new(format!(
                    "overrides.destination.cities must be from 1 to {}, not {cities}",
                    Days::MAX - 1
                )));
            }
        }
        if let Some(c) = &input.constraints {
            names("overrides.constraints.cuisines", &c.cuisines)?;
        }
        if let Some(p) = &input.preferences {
            names("overrides.preferences", p)?;
        }
        if let Some(a) = &input.assumptions {
            sentences("overrides.assumptions", a)?;
        }
        let children = input
            .children
            .map(|n| match u32::try_from(n) {
                Ok(n) if n <= Travellers::MAX => Ok(n),
                _ => Err(InputError::new(format!(
                    "overrides.children must be a whole number from 0 to {}, not {n}",
                    Travellers::MAX
                ))),
            })
            .transpose()?;
        if let Some(q) = &input.questions {
            sentences("overrides.questions", q)?;
        }
        Ok(Self {
            start_date: input
                .start_date
                .map(|s| s.parse::<TripDate>())
                .transpose()
                .map_err(|e| e.within("overrides.start_date"))?,
            days: input
                .days
                .map(Days::try_from)
                .transpose()
                .map_err(|e| e.within("overrides.days"))?,
            people: input
                .people
                .map(Travellers::try_from)
                .transpose()
                .map_err(|e| e.within("overrides.people"))?,
            budget: input
                .budget
                .map(Budget::try_from)
                .transpose()
                .map_err(|e| e.within("overrides.budget"))?,
            text: input.text,
            origin: input.origin,
            destination: input.destination,
            constraints: input.constraints,
            preferences: input.preferences,
            budget_level: input.budget_level,
            pace: input.pace,
            interests: input.interests,
            children,
            assumptions: input.assumptions,
            questions: input.questions,
        })
    }
}

impl From<TripOverrides> for OverridesInput {
    fn from(o: TripOverrides) -> Self {
        Self {
            text: o.text,
            origin: o.origin,
            destination: o.destination,
            start_date: o.start_date.map(|d| d.to_string()),
            days: o.days.map(|d| i64::from(d.get())),
            people: o.people.map(|p| i64::from(p.get())),
            budget: o.budget.map(Budget::usd),
            constraints: o.constraints,
            preferences: o.preferences,
            budget_level: o.budget_level,
            pace: o.pace,
            interests: o.interests,
            children: o.children.map(i64::from),
            assumptions: o.assumptions,
            questions: o.questions,
        }
    }
}

impl TripOverrides {
    /// Whether there is nothing to override.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Puts the overridden fields into `intent`. What an overridden origin
    /// or destination settles is no longer a question: the parser's
    /// questions are dropped then (as the runtime always did).
    pub fn apply(&self, intent: &mut TripIntent) {
        let o = self.clone();
        if let Some(v) = o.text {
            intent.text = v;
        }
        if let Some(v) = o.origin {
            intent.origin = Some(v);
        }
        if let Some(v) = o.destination {
            intent.destination = Some(v);
        }
        if let Some(v) = o.start_date {
            intent.start_date = Some(v);
        }
        if let Some(v) = o.days {
            intent.days = Some(v);
        }
        if let Some(v) = o.people {
            intent.people = v;
        }
        if let Some(v) = o.budget {
            intent.budget = Some(v);
        }
        if let Some(v) = o.constraints {
            intent.constraints = v;
        }
        if let Some(v) = o.preferences {
            intent.preferences = v;
        }
        if let Some(v) = o.budget_level {
            intent.budget_level = Some(v);
        }
        if let Some(v) = o.pace {
            intent.pace = Some(v);
        }
        if let Some(v) = o.interests {
            intent.interests = v;
        }
        if let Some(v) = o.children {
            intent.children = v;
        }
        intent.children = intent.children.min(intent.people.get());
        if self.people.is_some() {
            intent.forget_party_assumptions();
        }
        if self.budget.is_some()
            || self.days.is_some()
            || self.people.is_some()
            || self.budget_level.is_some()
        {
            intent.note_spending();
        }
        if let Some(v) = o.assumptions {
            intent.assumptions = v;
        }
        if let Some(v) = o.questions {
            intent.questions = v;
        }
        if self.origin.is_some() || self.destination.is_some() {
            intent.questions.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn checked(v: serde_json::Value) -> Result<TripOverrides, String> {
        let input: OverridesInput = serde_json::from_value(v).map_err(|e| format!("shape: {e}"))?;
        TripOverrides::try_from(input).map_err(|e| e.to_string())
    }

    #[test]
    fn every_key_the_runtime_accepted_still_decodes() {
        let all = json!({
            "text": "a trip", "origin": "Seattle",
            "destination": {"kind": "state", "name": "Colorado", "cities": 2},
            "start_date": "2022-03-16", "days": 5, "people": 2, "budget": 1800,
            "constraints": {"house_rules": ["pets"], "room_type": "entire_room", "cuisines": ["Thai"], "transport": ["no_flight"]},
            "preferences": ["museum"], "assumptions": [], "questions": [],
            "budget_level": "comfort", "pace": "relaxed", "interests": ["art", "food"],
            "children": 9
        });
        let o = checked(all).expect("valid");
        let mut intent = TripIntent::default();
        o.apply(&mut intent);
        assert_eq!(intent.days.map(Days::get), Some(5));
        assert_eq!(intent.people.get(), 2);
        assert_eq!(intent.budget.map(Budget::usd), Some(1800.0));
        assert_eq!(intent.budget_level, Some(BudgetLevel::Comfort));
        assert_eq!(intent.pace, Some(Pace::Relaxed));
        assert_eq!(intent.interests, [Interest::Art, Interest::Food]);
        // No more children than travellers.
        assert_eq!(intent.children, 2);
        assert!(checked(json!({"pace": "frantic"})).is_err_and(|e| e.starts_with("shape")));
        assert!(checked(json!({"children": -1})).is_err_and(|e| e.contains("overrides.children")));
        assert_eq!(
            checked(json!({"travellers": 3}))
                .expect("alias")
                .people
                .map(Travellers::get),
            Some(3)
        );
        assert_eq!(checked(json!({})), Ok(TripOverrides::default()));
    }

    #[test]
    fn out_of_range_values_are_refused_naming_the_key_and_the_range() {
        for (v, key) in [
            (json!({"days": 4_294_967_295u64}), "overrides.days"),
            (json!({"days": 94_000_000}), "overrides.days"),
            (json!({"days": 0}), "overrides.days"),
            (json!({"people": 0}), "overrides.people"),
            (json!({"budget": -1}), "overrides.budget"),
            (
                json!({"start_date": "+262142-12-30"}),
                "overrides.start_date",
            ),
            (json!({"start_date": "0000-01-01"}), "overrides.start_date"),
            (json!({"start_date": "9999-01-01"}), "overrides.start_date"),
            (json!({"origin": "Sea\u{0}ttle"}), "overrides.origin"),
            (
                json!({"destination": {"kind": "state", "name": "Colorado", "cities": 4_000_000_000u32}}),
                "overrides.destination.cities",
            ),
            (
                json!({"preferences": ["ok", "bad\u{7}"]}),
                "overrides.preferences",
            ),
        ] {
            let err = checked(v.clone()).expect_err(&v.to_string());
            assert!(err.starts_with(key), "{v}: {err}");
        }
    }

    #[test]
    fn wrong_shapes_fail_before_the_bounds() {
        for v in [
            json!({"days": "four"}),
            json!({"days": 2.5}),
            json!({"no_such_field": 1}),
            json!({"people": -1.5}),
        ] {
            assert!(
                checked(v.clone())
                    .expect_err("refused")
                    .starts_with("shape"),
                "{v}"
            );
        }
    }

    #[test]
    fn the_logged_form_round_trips() {
        let o = checked(json!({"budget": 1800, "start_date": "2022-03-16"})).expect("valid");
        let logged = serde_json::to_value(&o).expect("json");
        assert_eq!(
            logged,
            json!({"budget": 1800.0, "start_date": "2022-03-16"})
        );
        assert_eq!(
            serde_json::from_value::<TripOverrides>(logged).expect("decodes"),
            o
        );
    }
}
