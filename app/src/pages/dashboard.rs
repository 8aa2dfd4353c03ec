//! The operator's dashboard: the alerts firing now, the design document's
//! five health targets (each marked on or off target), small charts of
//! the last hour drawn as inline SVG, every agent type's load, speed,
//! success and cost, and the trips that need a look. Server-rendered whole
//! (it reads without JavaScript); once hydrated it reads again every five
//! seconds.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::dashboard;
use crate::api::intervene_trip;
use crate::codec::{JsonBytes, Shipped};
use crate::model::{
    AgentTypeHealth, AlertLine, DashboardReport, HealthChart, HealthTarget, TripNeedingAttention,
    agent_name,
};
use crate::pages::{WideTable, fixed};
use wayfare_domain::trip::InterventionAction;

/// How often the page reads the figures again.
const REFRESH_MS: u64 = 5_000;

/// What the rows' buttons need: the figures to read again after an
/// intervention, and where to say how it went.
#[derive(Clone, Copy)]
struct Actions {
    report: RwSignal<Result<DashboardReport, crate::error::AppError>>,
    /// (whether it went through, what to say)
    notice: RwSignal<Option<(bool, String)>>,
    busy: RwSignal<bool>,
}

impl Actions {
    /// Reads the figures again (in the browser).
    fn reload(self) {
        leptos::task::spawn_local(async move {
            self.report.set(dashboard().await);
        });
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    // Read on the server: the page is whole without JavaScript. The island
    // then reads again every five seconds.
    let report: Resource<_, JsonBytes> = Resource::new_with_options(|| (), |_| dashboard(), false);
    view! {
        <Title text="Dashboard — Wayfare" />
        <section class="card dash-intro">
            <h1>"Dashboard"</h1>
            <p class="muted">
                "How Wayfare is doing against its targets over the last hour. The figures refresh every five seconds."
            </p>
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Reading the figures…"</p> }>
            {move || report.try_get().flatten().map(|first| view! { <DashboardLive first=Shipped(first) /> })}
        </Suspense>
    }
}

/// The figures as last read, read again every five seconds (the page's
/// island).
#[island]
fn DashboardLive(first: Shipped<Result<DashboardReport, crate::error::AppError>>) -> impl IntoView {
    let report = RwSignal::new(first.0);
    let refreshed = RwSignal::new(0u32);
    let actions = Actions {
        report,
        notice: RwSignal::new(None),
        busy: RwSignal::new(false),
    };
    provide_context(actions);
    // In the browser only.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                actions.reload();
                refreshed.update(|n| *n += 1);
            },
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    move || match report.get() {
        Ok(r) => view! { <Dashboard r refreshed=refreshed.get() /> }.into_any(),
        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
    }
}

#[component]
fn Dashboard(r: DashboardReport, refreshed: u32) -> impl IntoView {
    let now = r.sampled_at_ms;
    let covered = match r.covered_minutes {
        0 | 1 => "the last minute".to_owned(),
        60 => "the last hour".to_owned(),
        n => format!("the last {n} minutes"),
    };
    view! {
        <div class="dashboard" data-testid="dashboard" data-refreshed=refreshed data-submitted=r.trips_submitted>
            <Alerts alerts=r.alerts now />
            <section class="card" aria-labelledby="health-title">
                <div class="dash-heading">
                    <h2 id="health-title">"Orchestrator health"</h2>
                    <p class="muted">{format!(
                        "Over {covered} · {} submitted · {} planning now",
                        if r.trips_submitted == 1 { "1 trip".to_owned() } else { format!("{} trips", r.trips_submitted) },
                        r.trips_planning
                    )}</p>
                </div>
                <ul class="targets" data-testid="targets">
                    {r.targets.into_iter().map(|t| view! { <Target t /> }).collect_view()}
                </ul>
            </section>
            <section class="card" aria-labelledby="charts-title">
                <h2 id="charts-title">"The last hour"</h2>
                <div class="charts">
                    {r.charts.into_iter().map(|c| view! { <Chart c /> }).collect_view()}
                </div>
            </section>
            <section class="card" aria-labelledby="agents-title">
                <h2 id="agents-title">"Agents by type"</h2>
                <WideTable label="Agents by type" class="agents agent-types" testid="agent-types"
                    columns=["Agent", "Instances", "Busy", "Share of calls", "Avg. time", "Success", "Cost", "Breaker"]>
                    {r.agents.into_iter().map(|a| view! { <AgentType a /> }).collect_view()}
                </WideTable>
            </section>
            <Attention trips=r.attention now />
        </div>
    }
}

/// "3 min ago", from two server timestamps.
fn ago(now_ms: i64, then_ms: i64) -> String {
    let s = (now_ms - then_ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        _ => format!("{} h {} min ago", s / 3600, s % 3600 / 60),
    }
}

#[component]
fn Alerts(alerts: Vec<AlertLine>, now: i64) -> impl IntoView {
    if alerts.is_empty() {
        return view! {
            <section class="card alerts alerts-clear" data-testid="alerts" aria-label="Alerts">
                <p><span class="mark on" aria-hidden="true"></span>"No alerts: every check passes."</p>
            </section>
        }
        .into_any();
    }
    let count = alerts.len();
    view! {
        <section class="card alerts" data-testid="alerts" aria-labelledby="alerts-title">
            <h2 id="alerts-title">{if count == 1 { "1 alert".to_owned() } else { format!("{count} alerts") }}</h2>
            <ul>
                {alerts.into_iter().map(|a| {
                    let level = a.level.clone();
                    view! {
                        <li class=format!("alert alert-{level}") data-alert=a.name.clone()>
                            <span class=format!("pill level-{level}")>{level.clone()}</span>
                            <span class="alert-summary">{a.summary}</span>
                            <span class="muted alert-since">{format!("since {}", ago(now, a.since_ms))}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn Target(t: HealthTarget) -> impl IntoView {
    let (mark, state) = match t.on_target {
        Some(true) => ("On target", "on"),
        Some(false) => ("Off target", "off"),
        None => ("No data yet", "none"),
    };
    view! {
        <li class=format!("target target-{state}") data-target=t.key data-on-target=state>
            <span class="target-label">{t.label}</span>
            <span class="target-value">{t.shown}</span>
            <span class="target-goal">{format!("Target: {}", t.target)}</span>
            <span class=format!("target-mark mark-{state}")><span class=format!("mark {state}") aria-hidden="true"></span>{mark}</span>
            <span class="target-detail muted">{t.detail}</span>
        </li>
    }
}

/// Chart geometry: a 300 × 80 box.
const W: f64 = 300.0;
const H: f64 = 80.0;
/// The same as attribute text: `f64`'s `Display` would bring the standard
/// float formatter (several kilobytes) into the browser's bundle.
const W_TEXT: &str = "300";
const H_TEXT: &str = "80";

/// The polylines of a series (one per run of points with a value) and the
/// target line's height, scaled to the box.
fn chart_lines(points: &[Option<f64>], target: Option<f64>) -> (Vec<String>, Option<f64>) {
    let top = points
        .iter()
        .flatten()
        .copied()
        .chain(target)
        .fold(0.0_f64, f64::max);
    let top = if top <= 0.0 { 1.0 } else { top * 1.15 };
    let n = points.len();
    let x = |i: usize| {
        if n <= 1 {
            W
        } else {
            i as f64 * W / (n - 1) as f64
        }
    };
    let y = |v: f64| H - (v / top * (H - 4.0)) - 2.0;
    let mut lines = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => current.push(format!("{},{}", fixed(x(i), 1), fixed(y(*v), 1))),
            None if !current.is_empty() => lines.push(std::mem::take(&mut current).join(" ")),
            None => {}
        }
    }
    if !current.is_empty() {
        lines.push(current.join(" "));
    }
    (lines, target.map(y))
}

#[component]
fn Chart(c: HealthChart) -> impl IntoView {
    let (lines, target_y) = chart_lines(&c.points, c.target);
    let has_data = !lines.is_empty();
    let span = match c.span_minutes {
        0 => "just started".to_owned(),
        n => format!("{n} min"),
    };
    // A lone point draws as a dot.
    let dots: Vec<(String, String)> = lines
        .iter()
        .filter(|l| !l.contains(' '))
        .filter_map(|l| l.split_once(','))
        .map(|(x, y)| (x.to_owned(), y.to_owned()))
        .collect();
    view! {
        <figure class="chart" data-chart=c.key>
            <figcaption>
                <span class="chart-title">{c.title.clone()}</span>
                <span class="chart-latest">{c.latest}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W_TEXT} {H_TEXT}") preserveAspectRatio="none" role="img"
                aria-label=format!("{} over {span}", c.title)>
                <line class="chart-axis" x1="0" y1=H_TEXT x2=W_TEXT y2=H_TEXT />
                {target_y.map(|y| view! {
                    <line class="chart-target" x1="0" y1=fixed(y, 1) x2=W_TEXT y2=fixed(y, 1) />
                })}
                {lines.into_iter().map(|points| view! { <polyline class="chart-line" points=points /> }).collect_view()}
                {dots.into_iter().map(|(x, y)| view! { <circle class="chart-dot" cx=x cy=y r="2.5" /> }).collect_view()}
            </svg>
            <span class="chart-span muted">
                {match (has_data, c.target.is_some()) {
                    (false, _) => "Nothing to show yet".to_owned(),
                    (true, true) => format!("{span} · dashed line: target"),
                    (true, false) => span.clone(),
                }}
            </span>
        </figure>
    }
}

#[component]
fn AgentType(a: AgentTypeHealth) -> impl IntoView {
    let busy = if a.capacity > 0 {
        f64::from(a.busy) / f64::from(a.capacity) * 100.0
    } else {
        0.0
    };
    let instances_class = if a.instances == 0 { "pill offline" } else { "" };
    view! {
        <tr data-agent-type=a.agent_type.clone()>
            <th scope="row"><span class="agent-type">{agent_name(&a.agent_type).to_owned()}</span></th>
            <td>
                <span class=instances_class>{a.instances}</span>
                <span class="muted">{format!(" of {}–{}", a.min_instances, a.max_instances)}</span>
            </td>
            <td>
                <span class="load" role="img" aria-label=format!("{} of {} slots busy", a.busy, a.capacity)>
                    <span class="fill" style=format!("width: {}%", fixed(busy, 0))></span>
                </span>
                {format!(" {}/{}", a.busy, a.capacity)}
            </td>
            <td>{format!("{}% · {} {}", fixed(a.share_of_calls * 100.0, 0), a.calls, if a.calls == 1 { "call" } else { "calls" })}</td>
            <td>{a.avg_ms.map_or("—".to_owned(), |ms| format!("{} ms", fixed(ms, 1)))}</td>
            <td>{a.success_rate.map_or("—".to_owned(), |r| format!("{}%", fixed(r * 100.0, 0)))}</td>
            <td>{format!("${}", fixed(a.cost, 3))}</td>
            <td><span class=format!("pill breaker-{}", a.breaker)>{a.breaker.replace('_', " ")}</span></td>
        </tr>
    }
}

#[component]
fn Attention(trips: Vec<TripNeedingAttention>, now: i64) -> impl IntoView {
    let notice = use_context::<Actions>().map(|a| a.notice);
    view! {
        <section class="card" aria-labelledby="attention-title" data-testid="attention">
            <h2 id="attention-title">"Trips needing attention"</h2>
            {move || notice.and_then(|n| n.get()).map(|(ok, text)| view! {
                <p class=if ok { "notice done" } else { "notice error" } role="status" data-testid="attention-notice">{text}</p>
            })}
            {if trips.is_empty() {
                view! { <p class="muted">"None: no trip has failed or been planning for long."</p> }.into_any()
            } else {
                view! {
                    <ul class="attention">
                        {trips.into_iter().map(|t| {
                            let (badge, class) = if t.reason == "failed" {
                                (format!("Failed {}", ago(now, t.since_ms)), "pill failed")
                            } else {
                                (format!("Planning since {}", ago(now, t.since_ms).trim_end_matches(" ago")), "pill planning")
                            };
                            let what = if !t.yours {
                                view! { <span class="muted">"A trip made in another browser or over the API"</span> }.into_any()
                            } else {
                                view! {
                                    <a href=format!("/trips/{}", t.trip_id)>{if t.query.is_empty() { "Your trip".to_owned() } else { t.query }}</a>
                                }.into_any()
                            };
                            let buttons = (t.yours && !t.trip_id.is_empty()).then(|| {
                                let actions: &[(InterventionAction, &str, &str)] = if t.reason == "failed" {
                                    &[(InterventionAction::Resume, "Try again", "secondary")]
                                } else {
                                    &[
                                        (InterventionAction::Resume, "Resume planning", "secondary"),
                                        (InterventionAction::Fail, "Stop", "secondary danger"),
                                    ]
                                };
                                view! {
                                    <span class="row-actions">
                                        {actions.iter().map(|(action, label, class)| {
                                            view! { <InterveneButton id=t.trip_id.clone() action=*action label class /> }
                                        }).collect_view()}
                                    </span>
                                }
                            });
                            view! {
                                <li>
                                    {what}
                                    <span class=class>{badge}</span>
                                    {buttons}
                                    {(!t.detail.is_empty()).then(|| view! { <span class="muted attention-detail">{t.detail}</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// One of a row's manual interventions (the reader's own trips only): the
/// same as the trip page's, recorded as "from the dashboard".
#[component]
fn InterveneButton(
    id: String,
    action: InterventionAction,
    label: &'static str,
    class: &'static str,
) -> impl IntoView {
    let actions = use_context::<Actions>();
    let busy = move || actions.is_some_and(|a| a.busy.get());
    let click = move |_| {
        let Some(actions) = actions else { return };
        if actions.busy.get_untracked() {
            return;
        }
        actions.busy.set(true);
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let outcome =
                intervene_trip(id, action, None, Some("from the dashboard".to_owned())).await;
            actions.notice.set(Some(match outcome {
                Ok(_) => (
                    true,
                    match action {
                        InterventionAction::Fail => "Marked as failed.".to_owned(),
                        _ => "Planning again: the trip's page follows it.".to_owned(),
                    },
                ),
                Err(err) => (false, err.to_string()),
            }));
            actions.busy.set(false);
            actions.reload();
        });
    };
    view! {
        <button type="button" class=format!("small {class}") data-testid="attention-action"
            disabled=busy on:click=click>{label}</button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_as_text_is_the_box() {
        assert_eq!(W_TEXT, W.to_string());
        assert_eq!(H_TEXT, H.to_string());
    }

    #[test]
    fn a_gap_splits_the_line_and_the_target_is_scaled() {
        let (lines, target) = chart_lines(&[Some(1.0), Some(2.0), None, Some(2.0)], Some(4.0));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1], "300.0,45.0");
        let target = target.expect("a target line");
        assert!(target > 2.0 && target < 40.0, "{target}");
        assert!(chart_lines(&[None, None], None).0.is_empty());
    }

    #[test]
    fn ages_read_in_their_unit() {
        assert_eq!(ago(90_000, 0), "1 min ago");
        assert_eq!(ago(5_000, 0), "5 s ago");
        assert_eq!(ago(3_900_000, 0), "1 h 5 min ago");
    }
}
