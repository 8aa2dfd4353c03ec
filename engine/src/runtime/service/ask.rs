//! Trips that ask. A request the parser cannot plan yet is recorded, with
//! status `needs_input` and the parser's questions, instead of being
//! refused ([`Runtime::submit_or_ask`]); an answer ([`Runtime::answer`])
//! is merged into the trip's overrides, the original query is parsed again
//! with them, and the trip either asks again or is planned under the same
//! id (status `planning`, then `ready`).
//!
//! The log keeps the submission's overrides in `TripSubmitted` and the
//! answers given so far with the recorded intent (`IntentParsed`, under the
//! key `answers`, which the intent's own decoding ignores), so that a
//! restarted process answers as the first would have. The intent, the
//! questions and — once complete — the task graph are one append, at the
//! version the person saw: a second answer to the same question conflicts.

use std::sync::Arc;

use wayfare_domain::intent::TripIntent;
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_domain::trip::TripView;

use super::super::pipeline::schedule_commands;
use super::super::stats::Count;
use super::super::wire::trip_view;
use super::{
    ModifyError, Runtime, RuntimeStore, SubmitError, Submitted, TripId, TripState, TripStatus,
};
use crate::agents::TripSpec;
use crate::orchestrator::Planner;
use crate::state::{AppendError, Command, LoggedIntent, decide_all};

/// `top`'s values over `base`'s, field by field.
fn merge(base: &TripOverrides, top: &TripOverrides) -> Result<TripOverrides, String> {
    let b = OverridesInput::from(base.clone());
    let t = OverridesInput::from(top.clone());
    TripOverrides::try_from(OverridesInput {
        text: t.text.or(b.text),
        origin: t.origin.or(b.origin),
        destination: t.destination.or(b.destination),
        start_date: t.start_date.or(b.start_date),
        days: t.days.or(b.days),
        people: t.people.or(b.people),
        budget: t.budget.or(b.budget),
        constraints: t.constraints.or(b.constraints),
        preferences: t.preferences.or(b.preferences),
        budget_level: t.budget_level.or(b.budget_level),
        pace: t.pace.or(b.pace),
        interests: t.interests.or(b.interests),
        children: t.children.or(b.children),
        assumptions: t.assumptions.or(b.assumptions),
        questions: t.questions.or(b.questions),
    })
    .map_err(|e| e.to_string())
}

/// Whether `overrides` answer one of the parser's questions (each asks
/// for one value; see `engine::parse`). A question not recognised stays.
fn answered(question: &str, o: &OverridesInput) -> bool {
    let q = question.to_lowercase();
    if q.contains("start from") {
        o.origin.is_some()
    } else if q.contains("when does the trip start") {
        o.start_date.is_some()
    } else if q.contains("how many days") || q.contains("-day trip cannot be planned") {
        o.days.is_some()
    } else if q.contains("how many people") {
        o.people.is_some()
    } else if q.contains("budget") {
        o.budget.is_some()
    } else if q.contains("where should the trip go")
        || q.contains("how many cities")
        || q.contains("starts and ends at its destination")
    {
        o.destination.is_some()
    } else {
        false
    }
}

/// Reads `query` with `answers` winning over what the text says, as
/// answering a trip's questions does ([`Runtime::answer`]): the questions
/// the answers settle are dropped, the others stay. For a caller without a
/// runtime (`wayfare plan --answer`).
pub fn read_with_answers(planner: &Planner, query: &str, answers: &TripOverrides) -> TripIntent {
    let mut intent = planner.parse(query);
    answers.apply(&mut intent);
    let given = OverridesInput::from(answers.clone());
    intent.questions.retain(|q| !answered(q, &given));
    intent
}

impl<S: RuntimeStore> Runtime<S> {
    /// [`Runtime::submit`] for a person at a form: a request that cannot
    /// be planned until questions are answered is recorded anyway, with
    /// status `needs_input` and the questions (in its [`TripView`]), and
    /// its id returned; answer it with [`Runtime::answer`]. Any other
    /// outcome is `submit`'s (the REST `POST /api/trips/plan` keeps
    /// `submit`'s 422 for such a request).
    pub async fn submit_or_ask(
        &self,
        query: String,
        overrides: TripOverrides,
    ) -> Result<Submitted, SubmitError> {
        let questions = match self.submit(query.clone(), overrides.clone()).await {
            Err(SubmitError::Unplannable { questions }) => questions,
            other => return other,
        };
        // `submit` checked the text before it parsed.
        let intent = self.parse(&query, &overrides).await?;
        let trip = TripId::new();
        let commands = vec![
            Command::Submit {
                query,
                overrides: Box::new(overrides),
            },
            Command::RecordIntent {
                intent: Arc::new(LoggedIntent::from(intent)),
            },
            Command::AskForInput { questions },
        ];
        self.journal
            .exec_all(trip, commands)
            .await
            .map_err(|e| SubmitError::Internal(e.to_string()))?;
        self.stats.count(Count::Submitted);
        Ok(Submitted {
            trip_id: trip.to_string(),
            status: TripStatus::NeedsInput,
        })
    }

    /// Answers a trip that needs input, at `expected_version` (the
    /// version it was read at; another is [`ModifyError::Conflict`]):
    /// `overrides` are merged over the answers given before and the
    /// request's own overrides, the request is parsed again with them, and
    /// the questions they answer are dropped. Still incomplete, the trip
    /// asks again (status `needs_input`, the questions left); complete, it
    /// is planned under the same id (status `planning`; follow it like a
    /// submitted trip). A trip that does not need input refuses with
    /// [`ModifyError::Invalid`]; so does an empty answer.
    #[tracing::instrument(skip_all, fields(trip.id = %trip_id, expected_version), err)]
    pub async fn answer(
        &self,
        trip_id: &str,
        expected_version: u64,
        overrides: TripOverrides,
    ) -> Result<TripView, ModifyError> {
        let (trip, state) = self.load_at_version(trip_id, expected_version).await?;
        let internal = |e: &dyn std::fmt::Display| ModifyError::Internal(e.to_string());
        if state.status != TripStatus::NeedsInput {
            return Err(ModifyError::Invalid(format!(
                "the trip is {}: only a trip that needs input takes an answer",
                state.status
            )));
        }
        if overrides.is_empty() {
            return Err(ModifyError::Invalid(
                "the answer is empty: give the values the questions ask for".into(),
            ));
        }
        let query = state
            .query
            .clone()
            .ok_or_else(|| internal(&"the trip has no request"))?;
        // Overrides the log kept untyped (older entries) read as none.
        let submitted = &state.overrides;
        let asked = state.intent.as_deref().map(|i| &i.answers);
        let answers = merge(asked.unwrap_or(&TripOverrides::default()), &overrides)
            .map_err(ModifyError::Invalid)?;
        let all = merge(submitted, &answers).map_err(ModifyError::Invalid)?;
        let mut intent = self.parse(&query, &all).await.map_err(|e| internal(&e))?;
        let given = OverridesInput::from(all);
        intent.questions.retain(|q| !answered(q, &given));
        let incomplete = TripSpec::from_intent(&intent).err();
        let recorded = LoggedIntent {
            intent,
            answers: answers.clone(),
        };
        let mut commands = vec![Command::RecordIntent {
            intent: Arc::new(recorded),
        }];
        match &incomplete {
            Some(questions) => commands.push(Command::AskForInput {
                questions: questions.0.clone(),
            }),
            None => commands.extend(schedule_commands()),
        }
        let state = self
            .append_at(trip, &state, expected_version, &commands)
            .await?;
        if incomplete.is_none() {
            self.admit(trip).await.map_err(|e| internal(&e))?;
        }
        Ok(trip_view(&state))
    }

    /// Appends `commands`, decided against `state`, exactly at
    /// `expected_version` (a stale writer gets a conflict), then caches
    /// and publishes the new state.
    async fn append_at(
        &self,
        trip: TripId,
        state: &TripState,
        expected_version: u64,
        commands: &[Command],
    ) -> Result<TripState, ModifyError> {
        let internal = |e: &dyn std::fmt::Display| ModifyError::Internal(e.to_string());
        let events =
            decide_all(state, commands).map_err(|e| ModifyError::Invalid(e.to_string()))?;
        match self
            .journal
            .append_at(trip, state, expected_version, &events)
            .await
        {
            Ok(after) => Ok(after),
            Err(AppendError::Conflict { expected, actual }) => {
                Err(ModifyError::Conflict { expected, actual })
            }
            Err(e) => Err(internal(&e)),
        }
    }

    /// Puts a trip whose task graph is logged in line for planning: on the
    /// queue when a planning slot is free, else in the waiting line
    /// (`release` schedules it when a slot frees).
    async fn admit(&self, trip: TripId) -> Result<(), SubmitError> {
        let admitted = self.admission.admit(trip);
        if admitted && let Err(e) = self.schedule(trip).await {
            self.release(trip);
            return Err(SubmitError::Internal(e.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(json: serde_json::Value) -> TripOverrides {
        serde_json::from_value(json).expect("valid overrides")
    }

    #[test]
    fn an_answer_wins_over_what_was_given_and_keeps_the_rest() {
        let base = overrides(serde_json::json!({"origin": "Seattle", "budget": 900}));
        let top = overrides(serde_json::json!({"budget": 1500, "days": 3}));
        let merged = OverridesInput::from(merge(&base, &top).expect("valid"));
        assert_eq!(merged.origin.as_deref(), Some("Seattle"));
        assert_eq!(merged.budget, Some(1500.0));
        assert_eq!(merged.days, Some(3));
    }

    #[test]
    fn each_question_of_the_parser_is_answered_by_its_own_field_only() {
        let planner = crate::orchestrator::Planner::new(std::sync::Arc::new(
            crate::catalog::MemoryCatalog::new(
                crate::catalog::demo::demo_catalog().expect("demo catalog"),
            ),
        ));
        let intent = planner.parse("a trip for two to somewhere nice");
        assert!(intent.questions.len() >= 3, "{:?}", intent.questions);
        let nothing = OverridesInput::default();
        let everything = OverridesInput::from(overrides(serde_json::json!({
            "origin": "Seattle", "destination": {"kind": "city", "name": "Denver"},
            "start_date": "2027-06-05", "days": 3, "people": 2, "budget": 3000
        })));
        for q in &intent.questions {
            assert!(!answered(q, &nothing), "{q}");
            assert!(answered(q, &everything), "unrecognised question: {q}");
        }
        let budget_only = OverridesInput {
            budget: Some(100.0),
            ..OverridesInput::default()
        };
        let answered_by_budget: Vec<&String> = intent
            .questions
            .iter()
            .filter(|q| answered(q, &budget_only))
            .collect();
        assert_eq!(answered_by_budget.len(), 1, "{answered_by_budget:?}");
    }

    #[test]
    fn the_recorded_intent_reads_as_a_plain_intent_too() {
        let asking = LoggedIntent {
            intent: TripIntent {
                origin: Some("Seattle".into()),
                ..TripIntent::default()
            },
            answers: overrides(serde_json::json!({"days": 3})),
        };
        let json = serde_json::to_value(&asking).expect("json");
        let plain: TripIntent = serde_json::from_value(json.clone()).expect("an intent");
        assert_eq!(plain.origin.as_deref(), Some("Seattle"));
        let back: LoggedIntent = serde_json::from_value(json).expect("asking");
        assert_eq!(back.answers, asking.answers);
    }
}
