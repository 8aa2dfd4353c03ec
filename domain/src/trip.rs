//! Wire types of the trip service: what the REST API returns and the web UI
//! renders (status, views, modifications, the event stream, the agent
//! registry). Plain serde; the engine's runtime produces them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bounds::{Budget, Travellers, TripDate};
use crate::catalog::HouseRule;
use crate::intent::HardConstraints;
use crate::request::{MAX_NAME_BYTES, check_text, plain_name};

use crate::intent::TripIntent;
use crate::itinerary::Itinerary;
use crate::verdict::Verdict;

/// Where a trip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TripStatus {
    #[default]
    Planning,
    NeedsInput,
    Ready,
    Failed,
    Cancelled,
}

impl TripStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TripStatus::Planning => "planning",
            TripStatus::NeedsInput => "needs_input",
            TripStatus::Ready => "ready",
            TripStatus::Failed => "failed",
            TripStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the orchestrator still has work to do on start-up.
    pub fn is_unfinished(self) -> bool {
        matches!(self, TripStatus::Planning)
    }

    /// Ready, failed or cancelled: nothing more will happen on its own.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TripStatus::Ready | TripStatus::Failed | TripStatus::Cancelled
        )
    }
}

impl fmt::Display for TripStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TripStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "planning" => TripStatus::Planning,
            "needs_input" => TripStatus::NeedsInput,
            "ready" => TripStatus::Ready,
            "failed" => TripStatus::Failed,
            "cancelled" => TripStatus::Cancelled,
            other => return Err(format!("unknown trip status {other:?}")),
        })
    }
}

/// One agent task of a trip, as the status endpoint shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskView {
    pub task_id: String,
    pub agent_type: String,
    /// "P0" … "P3".
    pub priority: String,
    /// pending | running | completed | failed | skipped
    pub status: String,
    pub attempts: u32,
}

/// `GET /trips/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TripStatusView {
    pub trip_id: String,
    pub status: TripStatus,
    /// 0..=1
    pub progress: f64,
    /// The event-log version: pass it back as `expected_version` to modify.
    pub version: u64,
    pub tasks: Vec<TaskView>,
}

/// `GET /trips/{id}`: the whole trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TripView {
    pub trip_id: String,
    pub status: TripStatus,
    pub version: u64,
    pub query: String,
    pub intent: Option<TripIntent>,
    pub itinerary: Option<Itinerary>,
    pub verdict: Option<Verdict>,
    pub explanation: String,
    /// Optional components dropped and why (never silently).
    #[serde(default)]
    pub degraded: Vec<String>,
    /// What the parser needs to know to plan (status `needs_input`).
    #[serde(default)]
    pub questions: Vec<String>,
}

/// What an operator can do by hand to a trip that is failing or stuck: the
/// design's manual intervention (its recovery for data inconsistency and
/// stuck work). Each is recorded in the trip's log with who did it and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InterventionAction {
    /// Put a task that failed for good back on the queue with a fresh
    /// retry budget; the trip plans on from there.
    RetryTask,
    /// Leave out an optional task (dining, activity, tips) that is failing
    /// or stuck; the plan goes on without it, flagged as degraded.
    SkipTask,
    /// Check a ready trip's plan again (the verifier runs again; its
    /// verdict replaces the old one).
    Reverify,
    /// Drive a stuck trip again, as a restart's resume does; on a failed
    /// trip, every task that failed is tried again.
    Resume,
    /// End a stuck trip as failed, with the operator's reason.
    Fail,
}

impl InterventionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            InterventionAction::RetryTask => "retry_task",
            InterventionAction::SkipTask => "skip_task",
            InterventionAction::Reverify => "reverify",
            InterventionAction::Resume => "resume",
            InterventionAction::Fail => "fail",
        }
    }

    /// Whether the action names a task (`task_id` is then required).
    pub fn needs_task(self) -> bool {
        matches!(
            self,
            InterventionAction::RetryTask | InterventionAction::SkipTask
        )
    }
}

impl fmt::Display for InterventionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most bytes an intervention's reason or actor may take.
pub const MAX_REASON_BYTES: usize = 500;

/// An operator's intervention on a trip, as the REST API and the trip page
/// send it. [`Intervention::check`] bounds the text fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    pub action: InterventionAction,
    /// The task to retry or skip (its `task_id` in the trip's status);
    /// required by `retry_task` and `skip_task`, refused by the others.
    #[serde(default)]
    pub task_id: Option<String>,
    /// Why, in a sentence (required; at most 500 bytes, no control
    /// characters). Kept in the trip's log.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
    /// Who (at most 500 bytes); defaults to the client that sent it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub actor: Option<String>,
}

impl Intervention {
    /// Refuses an empty reason, text over [`MAX_REASON_BYTES`] or with
    /// control characters, and a task id where the action takes none (or
    /// none where it needs one). The message says which field and why.
    pub fn check(&self) -> Result<(), String> {
        if self.reason.trim().is_empty() {
            return Err("reason is required: say why, in a sentence".into());
        }
        check_text("reason", &self.reason, MAX_REASON_BYTES).map_err(|e| e.to_string())?;
        if let Some(actor) = &self.actor {
            if actor.trim().is_empty() {
                return Err("actor is empty: leave it out to use the client's name".into());
            }
            check_text("actor", actor, MAX_REASON_BYTES).map_err(|e| e.to_string())?;
        }
        match (&self.task_id, self.action.needs_task()) {
            (None, true) => Err(format!("{} needs the task_id of the task", self.action)),
            (Some(_), false) => Err(format!("{} takes no task_id", self.action)),
            _ => Ok(()),
        }
    }
}

/// One change a person asks of a ready trip. Decoding checks the values
/// (the bounds of [`crate::bounds`]; names free of control characters), so
/// a `Change` in hand is within them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Put alternative `with` (an id from the alternatives list) in place
    /// of component `component_id`: a meal ("d2.dinner"), a stay
    /// ("stay.Denver"), an attraction ("d2.attraction1") or a transport
    /// leg ("d1.leg1").
    Replace {
        #[serde(deserialize_with = "plain_name")]
        component_id: String,
        #[serde(deserialize_with = "plain_name")]
        with: String,
    },
    /// Take the next alternative after the current one that keeps the
    /// plan valid.
    Reroll {
        #[serde(deserialize_with = "plain_name")]
        component_id: String,
    },
    /// Move the trip to start on `start`.
    Dates { start: TripDate },
    /// Change the number of travellers.
    Travellers { value: Travellers },
    /// Change the budget (USD).
    Budget { value: Budget },
    /// Put these constraints in place of the trip's: adding or removing
    /// one is sending the whole set with it added or removed. Re-plans the
    /// trip.
    Constraints {
        #[serde(deserialize_with = "checked_constraints")]
        value: HardConstraints,
    },
}

/// The most cuisines a trip can ask for (the catalog serves fewer than
/// a dozen kinds).
pub const MAX_CUISINES: usize = 16;

/// Decodes a constraint set a person sends: cuisines are plain names, at
/// most [`MAX_CUISINES`] of them, none twice (compared without case); a
/// house rule or a transport restriction given twice counts once.
fn checked_constraints<'de, D>(deserializer: D) -> Result<HardConstraints, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let mut value = HardConstraints::deserialize(deserializer)?;
    if value.cuisines.len() > MAX_CUISINES {
        return Err(D::Error::custom(format!(
            "at most {MAX_CUISINES} cuisines, not {}",
            value.cuisines.len()
        )));
    }
    let mut seen: Vec<String> = Vec::new();
    for cuisine in &value.cuisines {
        check_text("a cuisine", cuisine, MAX_NAME_BYTES).map_err(D::Error::custom)?;
        if cuisine.trim().is_empty() {
            return Err(D::Error::custom("a cuisine is empty"));
        }
        let key = cuisine.trim().to_lowercase();
        if seen.contains(&key) {
            return Err(D::Error::custom(format!(
                "the cuisine {cuisine:?} is given twice"
            )));
        }
        seen.push(key);
    }
    value
        .house_rules
        .sort_by_key(|r| HouseRule::ALL.iter().position(|a| a == r));
    value.house_rules.dedup();
    value.transport.sort_by_key(|t| *t as u8);
    value.transport.dedup();
    Ok(value)
}

/// One alternative for a component of a plan (`GET
/// /api/trips/{id}/alternatives/{component_id}`), listed best first: what a
/// `replace` change may put in its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alternative {
    /// Pass as [`Change::Replace`]'s `with`.
    pub id: String,
    pub name: String,
    /// USD for the whole party (a stay: for all its nights).
    pub cost: f64,
    /// This alternative's `cost` minus the current choice's, in the same
    /// units: negative when it saves money, 0 for the current one.
    pub cost_delta: f64,
    /// Why it is proposed, as a sentence a person can read.
    pub reason: String,
    /// Whether it is the one in the plan now.
    pub current: bool,
}

/// One event of the live stream (`WS /trips/{id}/events`), serialised with
/// the key `type`: trip_planning_started | agent_task_completed |
/// agent_task_failed | planning_progress_update | trip_plan_ready |
/// trip_plan_failed | modification_applied | modification_rolled_back |
/// trip_cancelled | needs_input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    #[serde(rename = "type")]
    pub r#type: String,
    pub trip_id: String,
    /// The event-log sequence number: consumers dedup by it.
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// One row of the agent registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentInfo {
    pub agent_id: String,
    pub agent_type: String,
    /// available | busy | offline
    pub status: String,
    pub capabilities: Vec<String>,
    pub current_load: u32,
    pub max_capacity: u32,
    pub response_time_avg_ms: f64,
    pub cost_per_request: f64,
    pub successes: u64,
    pub failures: u64,
    /// closed | open | half_open
    pub breaker: String,
    /// The process running the instance (its node id): on a database
    /// several processes share, `/api/agents` lists every process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// The machine that process runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Milliseconds since its process last said it is alive (0: this
    /// process, read live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_age_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_decode_within_the_bounds_and_refuse_the_rest() {
        let ok: Change = serde_json::from_value(json!({"kind": "dates", "start": "2027-03-12"}))
            .expect("in range");
        assert!(matches!(ok, Change::Dates { .. }));
        for (bad, field) in [
            (
                json!({"kind": "dates", "start": "+262142-12-30"}),
                "start date",
            ),
            (
                json!({"kind": "dates", "start": "0000-01-01"}),
                "start date",
            ),
            (json!({"kind": "travellers", "value": 0}), "travellers"),
            (
                json!({"kind": "travellers", "value": 4_294_967_295u64}),
                "travellers",
            ),
            (json!({"kind": "budget", "value": -1}), "budget"),
            (json!({"kind": "budget", "value": 1e300}), "budget"),
            (
                json!({"kind": "reroll", "component_id": "d1.din\u{0}ner"}),
                "U+0000",
            ),
            (
                json!({"kind": "replace", "component_id": "d1.dinner", "with": "a\u{1b}[2J"}),
                "U+001B",
            ),
        ] {
            let err = serde_json::from_value::<Change>(bad.clone())
                .expect_err(&bad.to_string())
                .to_string();
            assert!(err.contains(field), "{bad}: {err}");
        }
    }

    #[test]
    fn a_constraints_change_is_checked_and_normalised() {
        let change: Change = serde_json::from_value(json!({"kind": "constraints", "value": {
            "house_rules": ["pets", "smoking", "pets"], "room_type": "not_shared",
            "cuisines": ["Italian", "Thai"], "transport": ["no_flight", "no_flight"]
        }}))
        .expect("valid");
        let Change::Constraints { value } = change else {
            panic!("not a constraints change: {change:?}");
        };
        assert_eq!(value.house_rules, [HouseRule::Smoking, HouseRule::Pets]);
        assert_eq!(value.transport.len(), 1);
        assert_eq!(value.cuisines, ["Italian", "Thai"]);
        let many: Vec<String> = (0..=MAX_CUISINES).map(|i| format!("c{i}")).collect();
        for (bad, why) in [
            (json!({"cuisines": many}), "at most 16"),
            (json!({"cuisines": ["Thai", "thai"]}), "twice"),
            (json!({"cuisines": ["  "]}), "empty"),
            (json!({"cuisines": ["It\u{0}alian"]}), "U+0000"),
            (json!({"room_type": "castle"}), "unknown variant"),
        ] {
            let mut value =
                json!({"house_rules": [], "room_type": null, "cuisines": [], "transport": []});
            for (k, v) in bad.as_object().expect("an object") {
                value[k] = v.clone();
            }
            let body = json!({"kind": "constraints", "value": value});
            let err = serde_json::from_value::<Change>(body.clone())
                .expect_err(&body.to_string())
                .to_string();
            assert!(err.contains(why), "{body}: {err}");
        }
    }

    #[test]
    fn an_alternative_keeps_its_json_shape() {
        let json = json!({
            "id": "flight:demo:flights:WF101", "name": "Flight WF101", "cost": 250.0,
            "cost_delta": 82.0, "reason": "The early flight.", "current": false
        });
        let a: Alternative = serde_json::from_value(json.clone()).expect("decodes");
        assert_eq!(a.cost_delta, 82.0);
        assert_eq!(serde_json::to_value(&a).expect("json"), json);
    }

    #[test]
    fn a_change_keeps_its_json_shape() {
        let change: Change =
            serde_json::from_value(json!({"kind": "budget", "value": 2500})).expect("valid");
        assert_eq!(
            serde_json::to_value(&change).expect("json"),
            json!({"kind": "budget", "value": 2500.0})
        );
    }
}
