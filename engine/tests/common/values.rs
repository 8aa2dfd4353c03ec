//! Typed stand-ins for the log's payloads, for tests of the log, the
//! queue and the store that only need distinct values: each wraps the JSON
//! literal a test names it by, so that two different literals give two
//! different values (and equal ones equal values).
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::trip::Change;
use wayfare_domain::verdict::Verdict;
use wayfare_engine::runtime::pipeline::TaskOutput;
use wayfare_engine::state::{Completion, LoggedIntent, TaskId, TaskQueue};

/// A task's output.
pub fn output(v: Value) -> Arc<TaskOutput> {
    Arc::new(TaskOutput::Tips(vec![v.to_string()]))
}

/// Completes `task_id` with `output(v)` at `at`, for whoever holds it (no
/// fence): whether this write completed it.
pub async fn complete_with<Q: TaskQueue>(
    q: &Q,
    task_id: TaskId,
    v: Value,
    at: DateTime<Utc>,
) -> bool {
    let result = output(v);
    q.complete(
        Completion {
            task_id,
            result: &result,
            fence: None,
        },
        at,
    )
    .await
    .expect("complete")
}

/// A plan.
pub fn plan(v: Value) -> Arc<Itinerary> {
    Arc::new(Itinerary {
        origin: v.to_string(),
        people: 1,
        days: Vec::new(),
        totals: wayfare_domain::itinerary::Totals::default(),
        verdict: Verdict::default(),
        city_coords: Default::default(),
    })
}

/// A verdict.
pub fn verdict(_v: Value) -> Arc<Verdict> {
    Arc::new(Verdict::default())
}

/// A modification's changes.
pub fn changes(v: Value) -> Vec<Change> {
    vec![Change::Reroll {
        component_id: v.to_string(),
    }]
}

/// A logged intent.
pub fn intent(v: Value) -> Arc<LoggedIntent> {
    Arc::new(LoggedIntent::from(TripIntent {
        text: v.to_string(),
        ..TripIntent::default()
    }))
}

/// The questions of a trip that asks.
pub fn questions(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|q| q.as_str().map_or_else(|| q.to_string(), str::to_string))
            .collect(),
        other => vec![other.to_string()],
    }
}

/// A submission's overrides: the literal's own keys when they are
/// overrides (`{"budget": 1800}`), else a request text naming it.
pub fn overrides(v: Value) -> wayfare_domain::overrides::TripOverrides {
    serde_json::from_value(v.clone()).unwrap_or_else(|_| {
        serde_json::from_value(serde_json::json!({ "text": v.to_string() }))
            .expect("a text override")
    })
}
