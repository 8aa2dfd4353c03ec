//! The agents at work: a row per task (agent, priority, instance, status,
//! attempts, time taken) and the timeline of everything that happened.

use leptos::prelude::*;
use wayfare_domain::trip::{InterventionAction, TripStatus};

use crate::model::{TimelineEntry, TimelineKind, agent_name};
use crate::pages::trip::TripCtx;

/// The steps a plan can do without (the runtime's optional tasks; it
/// refuses to leave out any other).
const OPTIONAL: [&str; 3] = ["dining", "activity", "tips"];

/// One task as the timeline tells it so far.
#[derive(Debug, Clone, PartialEq)]
struct TaskRow {
    task_id: String,
    agent: String,
    priority: String,
    status: &'static str,
    instance: Option<String>,
    attempts: u32,
    elapsed_ms: Option<u64>,
}

/// The tasks, folded from the timeline in the order they were scheduled
/// (a change schedules a task again: its latest run is shown).
fn tasks(entries: &[TimelineEntry]) -> Vec<TaskRow> {
    let mut rows: Vec<TaskRow> = Vec::new();
    for e in entries {
        let Some(task_id) = &e.task_id else { continue };
        let position = rows.iter().position(|r| &r.task_id == task_id);
        let row = match position {
            Some(i) => &mut rows[i],
            None => {
                rows.push(TaskRow {
                    task_id: task_id.clone(),
                    agent: e.agent_type.clone().unwrap_or_default(),
                    priority: e.priority.clone().unwrap_or_default(),
                    status: "queued",
                    instance: None,
                    attempts: 0,
                    elapsed_ms: None,
                });
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        if row.priority.is_empty()
            && let Some(p) = &e.priority
        {
            row.priority = p.clone();
        }
        match e.kind {
            TimelineKind::Running => {
                row.status = "working";
                row.instance = e.instance.clone().or(row.instance.take());
                row.attempts = e.attempt.unwrap_or(row.attempts + 1).max(row.attempts);
            }
            TimelineKind::Completed => {
                row.status = "done";
                row.elapsed_ms = e.elapsed_ms;
                row.attempts = row.attempts.max(1);
            }
            TimelineKind::Failed => {
                row.status = "retrying";
                row.attempts = e.attempt.unwrap_or(row.attempts).max(row.attempts);
            }
            TimelineKind::Skipped => row.status = "left out",
            // Tried again by hand: back in line, attempts counted afresh.
            TimelineKind::Intervened => {
                row.status = "queued";
                row.attempts = 0;
                row.elapsed_ms = None;
            }
            _ => {}
        }
    }
    rows
}

fn mark(kind: TimelineKind) -> (&'static str, &'static str) {
    match kind {
        TimelineKind::Completed | TimelineKind::Ready | TimelineKind::Changed => ("ok", "✓"),
        TimelineKind::Failed | TimelineKind::PlanFailed | TimelineKind::RolledBack => ("bad", "!"),
        TimelineKind::Skipped | TimelineKind::Cancelled => ("warn", "–"),
        TimelineKind::NeedsInput => ("warn", "?"),
        TimelineKind::Intervened => ("op", "↻"),
        _ => ("info", "•"),
    }
}

#[component]
pub fn Timeline(entries: RwSignal<Vec<TimelineEntry>>) -> impl IntoView {
    let ctx = use_context::<TripCtx>();
    // A step that failed for good says so (the timeline alone cannot tell
    // it from one that is retried): the trip's tasks know.
    let failed = move || -> Vec<String> {
        ctx.map(|ctx| {
            ctx.page.with(|p| {
                p.tasks
                    .iter()
                    .filter(|t| t.status == "failed")
                    .map(|t| t.task_id.clone())
                    .collect()
            })
        })
        .unwrap_or_default()
    };
    let rows = move || {
        let failed = failed();
        entries.with(|e| {
            let mut rows = tasks(e);
            for row in &mut rows {
                if failed.contains(&row.task_id) {
                    row.status = "failed";
                }
            }
            rows
        })
    };
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Agent tasks">
            <table class="tasks" data-testid="tasks">
                <caption class="visually-hidden">"Agent tasks"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Agent"</th>
                        <th scope="col"><abbr title="Priority: P0 is the critical path, P3 optional">"Priority"</abbr></th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Instance"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Time"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || rows().into_iter().map(|row| view! {
                        <tr data-agent=row.agent.clone() data-status=row.status>
                            <th scope="row">{agent_name(&row.agent).to_owned()}</th>
                            <td>{row.priority}</td>
                            <td>
                                <span class=format!("pill {}", row.status.replace(' ', "-"))>{row.status}</span>
                                <RowActions task_id=row.task_id.clone() agent=row.agent.clone() status=row.status />
                            </td>
                            <td class="mono">{row.instance.unwrap_or_else(|| "—".into())}</td>
                            <td>{row.attempts}</td>
                            <td>{row.elapsed_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <ol class="timeline" data-testid="timeline" aria-live="polite">
            {move || entries.get().into_iter().map(|e| {
                let (class, symbol) = mark(e.kind);
                view! {
                    <li class=class data-seq=e.seq data-kind=format!("{:?}", e.kind)>
                        <span class="mark" aria-hidden="true">{symbol}</span>
                        <time>{e.at}</time>
                        <span class="text">{e.text}</span>
                        {e.priority.map(|p| view! { <span class="prio">{p}</span> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// "Try again" next to a step that failed for good, "Skip" next to an
/// optional one that failed or keeps failing while the trip plans: for
/// the browser that may change the trip.
#[component]
fn RowActions(task_id: String, agent: String, status: &'static str) -> impl IntoView {
    let ctx = use_context::<TripCtx>()?;
    let (can_edit, trip_status, failed) = ctx.page.with(|p| {
        (
            p.can_edit,
            p.trip.status,
            p.tasks
                .iter()
                .any(|t| t.task_id == task_id && t.status == "failed"),
        )
    });
    let planning = trip_status == TripStatus::Planning;
    let optional = OPTIONAL.contains(&agent.as_str());
    let retry = can_edit && failed && (planning || trip_status == TripStatus::Failed);
    let skip = can_edit && planning && optional && (failed || status == "retrying");
    if !retry && !skip {
        return None;
    }
    let name = agent_name(&agent).to_owned();
    let (retry_id, skip_id) = (task_id.clone(), task_id);
    Some(view! {
        <span class="row-actions" role="group" aria-label=format!("{name}: what to do")>
            {retry.then(|| {
                row_button(ctx, (InterventionAction::RetryTask, retry_id), RETRY, format!("Try {name} again"))
            })}
            {skip.then(|| {
                row_button(ctx, (InterventionAction::SkipTask, skip_id), SKIP, format!("Leave {name} out"))
            })}
        </span>
    })
}

/// How [`RowActions`] shows its buttons: `(class, data-testid, text)`.
type RowButton = (&'static str, &'static str, &'static str);
const RETRY: RowButton = ("small", "retry-task", "Try again");
const SKIP: RowButton = ("small secondary", "skip-task", "Skip");

/// A button of [`RowActions`]: its text, read out as `aria_label`, sends
/// `action` for the task `task_id`; disabled while a change is under way.
fn row_button(
    ctx: TripCtx,
    (action, task_id): (InterventionAction, String),
    (class, testid, text): RowButton,
    aria_label: String,
) -> impl IntoView {
    view! {
        <button type="button" class=class data-testid=testid
            aria-label=aria_label
            disabled=move || ctx.busy.get()
            on:click=move |_| ctx.intervene(action, Some(task_id.clone()))>
            {text}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, kind: TimelineKind, task: &str, attempt: Option<u32>) -> TimelineEntry {
        TimelineEntry {
            seq,
            at: String::new(),
            kind,
            agent_type: Some("transport".into()),
            task_id: Some(task.into()),
            priority: (kind == TimelineKind::Scheduled).then(|| "P1".into()),
            instance: (kind == TimelineKind::Running).then(|| "transport-2".into()),
            attempt,
            elapsed_ms: (kind == TimelineKind::Completed).then_some(12),
            text: String::new(),
            progress: None,
        }
    }

    #[test]
    fn a_retried_task_shows_its_attempts_instance_and_time() {
        let rows = tasks(&[
            entry(1, TimelineKind::Scheduled, "t1", None),
            entry(2, TimelineKind::Running, "t1", Some(1)),
            entry(3, TimelineKind::Failed, "t1", Some(1)),
            entry(4, TimelineKind::Running, "t1", Some(2)),
            entry(5, TimelineKind::Completed, "t1", None),
        ]);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!((row.status, row.attempts), ("done", 2));
        assert_eq!(row.priority, "P1");
        assert_eq!(row.instance.as_deref(), Some("transport-2"));
        assert_eq!(row.elapsed_ms, Some(12));
    }
}
