//! The runtime's wire events as lines of the trip page's timeline: typed,
//! in plain words, each with its task's agent type and priority.

use std::collections::HashMap;

use serde::Deserialize;
use wayfare_domain::trip::WireEvent;

use crate::model::{TimelineEntry, TimelineKind, agent_name};

/// Who an intervention made on the trip page is recorded as, when the
/// browser that made the trip asked for it (never the session's id: the
/// log and its events can be read by anyone with the trip's link).
pub const OWNER_ACTOR: &str = "the trip's owner";

/// What the timeline remembers across events: each task's agent type and
/// priority (said when it was scheduled, needed on every later line).
#[derive(Debug, Default)]
pub struct Timeline {
    tasks: HashMap<String, (String, String)>,
    /// Whether the reader is the trip's owner: the owner's interventions
    /// then read "by you".
    owner_reads: bool,
}

impl Timeline {
    /// A timeline for a reader who owns the trip (or not).
    pub fn read_by_owner(owner_reads: bool) -> Self {
        Self {
            owner_reads,
            ..Self::default()
        }
    }
}

/// The fields the runtime's events carry in `data` (each kind a subset).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Data {
    stage: Option<String>,
    task_id: Option<String>,
    agent_type: Option<String>,
    priority: Option<String>,
    instance_id: Option<String>,
    attempt: Option<u32>,
    elapsed_ms: Option<u64>,
    summary: Option<String>,
    error: Option<String>,
    retryable: Option<bool>,
    reason: Option<String>,
    progress: Option<f64>,
    questions: Vec<String>,
    affected_agents: Vec<String>,
    total_cost: Option<f64>,
    action: Option<String>,
    actor: Option<String>,
}

/// The timeline line of one event (`None`: nothing a person needs to see).
pub fn entry_of(timeline: &mut Timeline, event: &WireEvent) -> Option<TimelineEntry> {
    let data: Data = serde_json::from_value(event.data.clone()).unwrap_or_default();
    let task = data.task_id.clone();
    let known = task.as_ref().and_then(|t| timeline.tasks.get(t)).cloned();
    let agent_type = data
        .agent_type
        .clone()
        .filter(|a| !a.is_empty())
        .or_else(|| known.as_ref().map(|k| k.0.clone()));
    let priority = data
        .priority
        .clone()
        .or_else(|| known.as_ref().map(|k| k.1.clone()));
    let who = agent_type
        .as_deref()
        .map(|a| agent_name(a).to_owned())
        .unwrap_or_default();
    let (kind, text) = match (event.r#type.as_str(), data.stage.as_deref()) {
        ("trip_planning_started", _) => (TimelineKind::Started, "Request received".to_owned()),
        ("planning_progress_update", Some("intent_parsed")) => (
            TimelineKind::Understood,
            "Request understood; tasks handed to the agents".to_owned(),
        ),
        ("planning_progress_update", Some("task_scheduled")) => {
            if let (Some(t), Some(a), Some(p)) = (&task, &agent_type, &priority) {
                timeline.tasks.insert(t.clone(), (a.clone(), p.clone()));
            }
            (TimelineKind::Scheduled, format!("{who}: queued"))
        }
        ("planning_progress_update", Some("task_started")) => {
            let attempt = data.attempt.unwrap_or(1);
            let text = if attempt > 1 {
                format!("{who}: working (attempt {attempt})")
            } else {
                format!("{who}: working")
            };
            (TimelineKind::Running, text)
        }
        ("planning_progress_update", Some("task_skipped")) => (
            TimelineKind::Skipped,
            format!(
                "{who}: left out — {}",
                data.reason.clone().unwrap_or_else(|| "optional".into())
            ),
        ),
        ("agent_task_completed", _) => (
            TimelineKind::Completed,
            match data.summary.as_deref().filter(|s| !s.is_empty()) {
                Some(summary) => format!("{who}: done — {summary}"),
                None => format!("{who}: done"),
            },
        ),
        ("agent_task_failed", _) => {
            let error = data.error.clone().unwrap_or_default();
            let text = if data.retryable.unwrap_or(false) {
                format!("{who}: failed ({error}); retrying")
            } else {
                format!("{who}: failed ({error})")
            };
            (TimelineKind::Failed, text)
        }
        ("trip_plan_ready", _) => (
            TimelineKind::Ready,
            match data.total_cost {
                Some(total) => format!("Plan ready and verified: ${total:.0} in all"),
                None => "Plan ready and verified".to_owned(),
            },
        ),
        ("trip_plan_failed", _) => (
            TimelineKind::PlanFailed,
            format!(
                "No plan: {}",
                data.reason
                    .clone()
                    .unwrap_or_else(|| "planning failed".into())
            ),
        ),
        ("modification_applied", _) => (
            TimelineKind::Changed,
            if data.affected_agents.is_empty() {
                "Change applied".to_owned()
            } else {
                let mut agents: Vec<String> = data
                    .affected_agents
                    .iter()
                    .map(|a| agent_name(a).to_owned())
                    .collect();
                agents.dedup();
                format!("Change applied; re-planned by {}", agents.join(", "))
            },
        ),
        ("modification_rolled_back", _) => (
            TimelineKind::RolledBack,
            format!(
                "Change undone: {}",
                data.reason
                    .clone()
                    .unwrap_or_else(|| "it could not be applied".into())
            ),
        ),
        ("trip_cancelled", _) => (TimelineKind::Cancelled, "Planning cancelled".to_owned()),
        ("intervention_applied", _) => {
            let actor = match data.actor.as_deref() {
                Some(OWNER_ACTOR) if timeline.owner_reads => "you".to_owned(),
                Some(actor) if !actor.is_empty() => actor.to_owned(),
                _ => "an operator".to_owned(),
            };
            let reason = data.reason.clone().unwrap_or_default();
            let said = |what: String| {
                if reason.is_empty() {
                    what
                } else {
                    format!("{what}: {reason}")
                }
            };
            match data.action.as_deref() {
                Some("retry_task") => (
                    TimelineKind::Intervened,
                    said(format!("{who} retried by {actor}")),
                ),
                Some("skip_task") => (
                    TimelineKind::Skipped,
                    said(format!("{who} left out by {actor}")),
                ),
                Some("reverify") => (
                    TimelineKind::Intervened,
                    said(format!("Plan checked again by {actor}")),
                ),
                Some("resume") => (
                    TimelineKind::Intervened,
                    said(format!("Planning resumed by {actor}")),
                ),
                Some("fail") => (
                    TimelineKind::PlanFailed,
                    said(format!("Marked as failed by {actor}")),
                ),
                _ => return None,
            }
        }
        ("needs_input", _) => (
            TimelineKind::NeedsInput,
            format!("Wayfare needs to know more: {}", data.questions.join(" ")),
        ),
        _ => return None,
    };
    Some(TimelineEntry {
        seq: event.seq,
        at: event.at.format("%H:%M:%S%.3f").to_string(),
        kind,
        agent_type,
        task_id: task,
        priority,
        instance: data.instance_id,
        attempt: data.attempt,
        elapsed_ms: data.elapsed_ms,
        text,
        progress: data.progress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(seq: u64, kind: &str, data: serde_json::Value) -> WireEvent {
        WireEvent {
            r#type: kind.into(),
            trip_id: "t".into(),
            seq,
            at: chrono::DateTime::UNIX_EPOCH,
            data,
        }
    }

    fn intervention(action: &str, actor: &str) -> WireEvent {
        event(
            9,
            "intervention_applied",
            json!({"action": action, "task_id": "t1", "agent_type": "transport",
                   "actor": actor, "reason": "the flights are back"}),
        )
    }

    #[test]
    fn an_intervention_reads_as_who_did_what_and_why() {
        let mut owner = Timeline::read_by_owner(true);
        let line = entry_of(&mut owner, &intervention("retry_task", OWNER_ACTOR)).expect("a line");
        assert_eq!(line.text, "Transport retried by you: the flights are back");
        assert_eq!(line.kind, TimelineKind::Intervened);
        // Someone else reading the same log is not "you".
        let mut visitor = Timeline::read_by_owner(false);
        let line =
            entry_of(&mut visitor, &intervention("retry_task", OWNER_ACTOR)).expect("a line");
        assert_eq!(
            line.text,
            "Transport retried by the trip's owner: the flights are back"
        );
        let line =
            entry_of(&mut visitor, &intervention("skip_task", "ops@example")).expect("a line");
        assert_eq!(
            line.text,
            "Transport left out by ops@example: the flights are back"
        );
        assert_eq!(line.kind, TimelineKind::Skipped);
        // Marking a trip failed ends its planning on the page.
        let line = entry_of(&mut visitor, &intervention("fail", "ops")).expect("a line");
        assert_eq!(line.kind, TimelineKind::PlanFailed);
        assert!(line.kind.ends_planning());
        assert_eq!(line.text, "Marked as failed by ops: the flights are back");
    }
}
