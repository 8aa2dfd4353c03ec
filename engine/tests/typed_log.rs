//! The event log is typed (`TripEvent` carries the intent, each task's
//! `TaskOutput`, the itinerary and its verdict), and a log written before
//! it was still reads. `data/log-before-typing.jsonl` holds every event of
//! six trips as a release with untyped events (`serde_json::Value` in
//! `TripEvent`) wrote them to SQLite's `trip_events` — captured from a real
//! `wayfare serve` on the demo catalog: plain trips, a modified one (budget,
//! then a stay replaced), one re-verified by an operator, one that asked
//! for its origin and was answered, one cancelled, one that cannot be
//! planned. Each line is a `StoredEvent` (`trip_id`, `seq`, `at`, and the
//! `payload` column as `event`).

use std::collections::BTreeMap;

use serde_json::Value;
use wayfare_engine::state::{AgentType, StoredEvent, TaskStatus, TripEvent, TripState, TripStatus};

const LOG: &str = include_str!("data/log-before-typing.jsonl");

/// Each line as stored (raw JSON) and as read by today's types.
fn read() -> Vec<(Value, StoredEvent)> {
    LOG.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let raw: Value = serde_json::from_str(line).expect("a JSON line");
            let typed: StoredEvent = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {}: does not decode: {e}", i + 1));
            (raw, typed)
        })
        .collect()
}

fn trips() -> BTreeMap<String, TripState> {
    let mut logs: BTreeMap<String, Vec<StoredEvent>> = BTreeMap::new();
    for (_, event) in read() {
        logs.entry(event.trip_id.to_string())
            .or_default()
            .push(event);
    }
    logs.into_iter()
        .map(|(id, events)| {
            let trip = events[0].trip_id;
            (id, TripState::replay(trip, &events))
        })
        .collect()
}

#[test]
fn every_event_written_before_the_types_decodes_and_keeps_its_stored_form() {
    let events = read();
    assert!(
        events.len() > 60,
        "the fixture holds {} events",
        events.len()
    );
    let mut kinds = std::collections::BTreeSet::new();
    for (raw, typed) in &events {
        kinds.insert(typed.event.kind());
        // What today's code would store for it is what was stored: the
        // typed form is the old one, so old and new rows mix in one log.
        let again = serde_json::to_value(typed).expect("serialises");
        assert_eq!(
            &again,
            raw,
            "a {} event changed its stored form",
            typed.event.kind()
        );
    }
    for kind in [
        "trip_submitted",
        "intent_parsed",
        "needs_input",
        "task_scheduled",
        "task_claimed",
        "task_completed",
        "plan_ready",
        "plan_failed",
        "modification_applied",
        "intervention_applied",
        "cancelled",
    ] {
        assert!(kinds.contains(kind), "the fixture has no {kind} event");
    }
}

#[test]
fn replaying_the_old_log_gives_each_trip_its_plan_intent_and_results() {
    let trips = trips();
    let count = |status: TripStatus| trips.values().filter(|t| t.status == status).count();
    assert!(count(TripStatus::Ready) >= 3, "{trips:#?}");
    assert_eq!(count(TripStatus::Cancelled), 1);
    assert_eq!(count(TripStatus::Failed), 1);
    for trip in trips.values().filter(|t| t.status == TripStatus::Ready) {
        let itinerary = trip
            .itinerary
            .as_deref()
            .expect("a ready trip has its plan");
        assert!(!itinerary.days.is_empty());
        assert!(trip.verdict.as_deref().is_some_and(|v| v.passed()));
        let intent = &trip.intent.as_deref().expect("an intent").intent;
        assert!(intent.origin.is_some() && intent.destination.is_some());
        // Every task's output is read back as its own kind.
        for task in &trip.tasks {
            if task.status != TaskStatus::Completed {
                continue;
            }
            let output = task.result.as_deref().expect("a completed task's output");
            let kind = serde_json::to_value(output).expect("serialises")["output"].clone();
            assert_eq!(kind, Value::from(task.agent_type.as_str()));
        }
    }
    // The modified trip logged its changes, typed.
    let modified: Vec<&TripState> = trips.values().filter(|t| t.modifications > 0).collect();
    assert!(!modified.is_empty());
    // The trip that asked keeps the answer beside its intent.
    let asked = trips
        .values()
        .find(|t| t.intent.as_deref().is_some_and(|i| !i.answers.is_empty()))
        .expect("a trip answered with its origin");
    assert_eq!(
        asked
            .intent
            .as_deref()
            .and_then(|i| i.intent.origin.as_deref()),
        Some("Seattle")
    );
    // Agent types are the graph's.
    for trip in trips.values() {
        for task in &trip.tasks {
            assert_eq!(
                AgentType::parse(task.agent_type.as_str()),
                Some(task.agent_type)
            );
        }
    }
}

#[test]
fn modification_events_carry_the_changes_as_typed_changes() {
    let changes: Vec<_> = read()
        .into_iter()
        .filter_map(|(_, e)| match e.event {
            TripEvent::ModificationApplied { changes, .. } => Some(changes),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, wayfare_domain::trip::Change::Budget { .. })),
        "{changes:?}"
    );
}

#[test]
fn an_untyped_override_map_of_an_older_release_reads_as_no_overrides() {
    let line = r#"{"trip_id":"0b6c1f4e-7f5a-4f6e-9d2b-2a8b5c1e9f00","seq":1,"at":"2026-01-02T03:04:05Z","event":{"kind":"trip_submitted","query":"3 days to Denver","overrides":{"mood":"sunny"}}}"#;
    let event: StoredEvent = serde_json::from_str(line).expect("decodes");
    match event.event {
        TripEvent::TripSubmitted { overrides, .. } => assert!(overrides.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_legacy_intent_outside_the_bounds_reads_as_an_empty_one_and_the_log_stays_readable() {
    let line = r#"{"trip_id":"0b6c1f4e-7f5a-4f6e-9d2b-2a8b5c1e9f00","seq":2,"at":"2026-01-02T03:04:05Z","event":{"kind":"intent_parsed","intent":{"text":"a coach tour","people":50}}}"#;
    let event: StoredEvent = serde_json::from_str(line).expect("the event still decodes");
    match event.event {
        TripEvent::IntentParsed { intent } => {
            assert_eq!(intent.intent.text, "");
            assert!(intent.intent.destination.is_none());
        }
        other => panic!("{other:?}"),
    }
}
