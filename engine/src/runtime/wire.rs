//! From the event log to the wire: [`wire_event`] maps a stored event to
//! the stream's [`WireEvent`], and the views are read off a [`TripState`].

use serde_json::json;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::Itinerary;
use wayfare_domain::trip::{TaskView, TripStatusView, TripView, WireEvent};
use wayfare_domain::verdict::Verdict;

use super::pipeline::TaskOutput;
use crate::state::{AgentType, StoredEvent, TaskStatus, TripEvent, TripState, TripStatus};

/// The stream event of a stored one (`None` for heartbeats, which only
/// keep leases alive). `state` is the trip after the event (task names and
/// progress are read from it).
pub fn wire_event(state: &TripState, stored: &StoredEvent) -> Option<WireEvent> {
    let agent = |id| state.task(id).map_or("", |t| t.agent_type.as_str());
    let (kind, data) = match &stored.event {
        TripEvent::TripSubmitted { query, .. } => {
            ("trip_planning_started", json!({"query": query}))
        }
        TripEvent::IntentParsed { intent } => (
            "planning_progress_update",
            json!({"stage": "intent_parsed", "intent": &intent.intent, "progress": state.progress()}),
        ),
        TripEvent::NeedsInput { questions } => ("needs_input", json!({"questions": questions})),
        TripEvent::TaskScheduled {
            task_id,
            agent_type,
            priority,
            depends_on,
        } => (
            "planning_progress_update",
            json!({"stage": "task_scheduled", "task_id": task_id, "agent_type": agent_type,
                   "priority": priority, "depends_on": depends_on, "progress": state.progress()}),
        ),
        TripEvent::TaskClaimed {
            task_id,
            instance_id,
            attempt,
            ..
        } => (
            "planning_progress_update",
            json!({"stage": "task_started", "task_id": task_id, "agent_type": agent(*task_id),
                   "instance_id": instance_id, "attempt": attempt, "progress": state.progress()}),
        ),
        TripEvent::TaskHeartbeat { .. } => return None,
        TripEvent::TaskCompleted {
            task_id,
            result,
            elapsed_ms,
        } => {
            let summary = summary_of(result);
            (
                "agent_task_completed",
                json!({"task_id": task_id, "agent_type": agent(*task_id), "elapsed_ms": elapsed_ms,
                       "summary": summary, "progress": state.progress()}),
            )
        }
        TripEvent::TaskFailed {
            task_id,
            error,
            retryable,
            attempt,
        } => (
            "agent_task_failed",
            json!({"task_id": task_id, "agent_type": agent(*task_id), "error": error,
                   "retryable": retryable, "attempt": attempt}),
        ),
        TripEvent::TaskSkipped { task_id, reason } => (
            "planning_progress_update",
            json!({"stage": "task_skipped", "task_id": task_id, "agent_type": agent(*task_id),
                   "reason": reason, "progress": state.progress()}),
        ),
        TripEvent::PlanReady { verdict, itinerary } => (
            "trip_plan_ready",
            json!({"verdict": verdict, "total_cost": itinerary.totals.total}),
        ),
        TripEvent::PlanFailed { reason } => ("trip_plan_failed", json!({"reason": reason})),
        TripEvent::ModificationApplied {
            changes,
            affected_tasks,
        } => (
            "modification_applied",
            json!({"changes": changes, "affected_tasks": affected_tasks,
                   "affected_agents": affected_tasks.iter().map(|t| agent(*t)).collect::<Vec<_>>()}),
        ),
        TripEvent::ModificationRolledBack { reason } => {
            ("modification_rolled_back", json!({"reason": reason}))
        }
        TripEvent::Cancelled => ("trip_cancelled", json!({})),
        TripEvent::InterventionApplied {
            action,
            task_id,
            actor,
            reason,
        } => (
            "intervention_applied",
            json!({"action": action, "task_id": task_id,
                   "agent_type": task_id.map_or("", agent),
                   "actor": actor, "reason": reason, "progress": state.progress()}),
        ),
    };
    Some(WireEvent {
        r#type: kind.to_string(),
        trip_id: stored.trip_id.to_string(),
        seq: stored.seq,
        at: stored.at,
        data,
    })
}

/// A one-line summary of a task's output for the progress stream.
fn summary_of(output: &TaskOutput) -> String {
    let (count, one, many) = match output {
        TaskOutput::Verifier(outcome) => return outcome.explanation.clone(),
        TaskOutput::Location(v) => (v.len(), "candidate city", "candidate cities"),
        TaskOutput::Planning(v) => (v.len(), "route", "routes"),
        TaskOutput::Transport(v) => (v.len(), "leg can be travelled", "legs can be travelled"),
        TaskOutput::Accommodation(v) => (
            v.len(),
            "city with stays to choose from",
            "cities with stays to choose from",
        ),
        TaskOutput::Dining(v) => (v.len(), "city with restaurants", "cities with restaurants"),
        TaskOutput::Activity(v) => (
            v.len(),
            "city with attractions routed",
            "cities with attractions routed",
        ),
        TaskOutput::Tips(v) => (v.len(), "tip", "tips"),
        TaskOutput::Budget(v) => (v.len(), "plan within budget", "plans within budget"),
    };
    format!("{count} {}", if count == 1 { one } else { many })
}

pub fn status_view(state: &TripState) -> TripStatusView {
    TripStatusView {
        trip_id: state.trip_id.map(|t| t.to_string()).unwrap_or_default(),
        status: state.status,
        progress: state.progress(),
        version: state.version,
        tasks: state
            .tasks
            .iter()
            .map(|t| TaskView {
                task_id: t.task_id.to_string(),
                agent_type: t.agent_type.to_string(),
                priority: format!("{:?}", t.priority),
                status: t.status.as_str().to_string(),
                attempts: t.attempts,
            })
            .collect(),
    }
}

/// The output of a trip's completed task of `agent_type`, if any.
pub fn output_of(state: &TripState, agent_type: AgentType) -> Option<&TaskOutput> {
    state
        .tasks
        .iter()
        .find(|t| t.agent_type == agent_type && t.status == TaskStatus::Completed)
        .and_then(|t| t.result.as_deref())
}

/// The trip's intent; one logged before the typed wishes has its words
/// lifted into them ([`TripIntent::lift_preference_words`]).
pub fn intent_of(state: &TripState) -> Option<TripIntent> {
    let mut intent = state.intent.as_ref()?.intent.clone();
    intent.lift_preference_words();
    Some(intent)
}

pub fn trip_view(state: &TripState) -> TripView {
    let intent = intent_of(state);
    let itinerary: Option<Itinerary> = state.itinerary.as_deref().cloned();
    let outcome = match output_of(state, AgentType::Verifier) {
        Some(TaskOutput::Verifier(o)) => Some(&**o),
        _ => None,
    };
    let verdict: Option<Verdict> = state
        .verdict
        .as_deref()
        .or_else(|| outcome.map(|o| &o.verdict))
        .cloned();
    let mut explanation = match state.status {
        TripStatus::Ready => outcome
            .as_ref()
            .map(|o| o.explanation.clone())
            .or_else(|| verdict.as_ref().map(|v| v.summary()))
            .unwrap_or_default(),
        TripStatus::Failed => state.failure.clone().unwrap_or_default(),
        TripStatus::Cancelled => "cancelled".to_string(),
        TripStatus::NeedsInput => "the request needs more input".to_string(),
        TripStatus::Planning => "planning".to_string(),
    };
    if let Some(TaskOutput::Tips(tips)) = output_of(state, AgentType::Tips)
        && !tips.is_empty()
        && state.status == TripStatus::Ready
    {
        explanation.push_str(&format!(" Tips: {}.", tips.join("; ")));
    }
    let degraded = state
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Skipped)
        .map(|t| {
            format!(
                "{}: {}",
                t.agent_type,
                t.skip_reason.clone().unwrap_or_else(|| "skipped".into())
            )
        })
        .collect();
    let questions = state.questions.clone().unwrap_or_default();
    TripView {
        trip_id: state.trip_id.map(|t| t.to_string()).unwrap_or_default(),
        status: state.status,
        version: state.version,
        query: state.query.clone().unwrap_or_default(),
        intent,
        itinerary,
        verdict,
        explanation,
        degraded,
        questions,
    }
}
