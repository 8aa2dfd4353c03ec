//! The agents: every instance of the registry (status, load against
//! capacity, response time, success rate, breaker, cost), the queue and
//! the trips in flight, refreshed every two seconds.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::agents_overview;
use crate::codec::{JsonBytes, Shipped};
use crate::error::AppError;
use crate::model::{AgentRow, AgentsReport};
use crate::pages::{WideTable, fixed, plural};

/// How often the page reads the registry again.
const REFRESH_MS: u64 = 2_000;

#[component]
pub fn AgentsPage() -> impl IntoView {
    // Read on the server: the page is whole without JavaScript. The island
    // then reads again every two seconds.
    let overview: Resource<_, JsonBytes> =
        Resource::new_with_options(|| (), |_| agents_overview(), false);
    view! {
        <Title text="Agents — Wayfare" />
        <section class="card">
            <h1>"Agents"</h1>
            <p class="muted">"Every agent instance planning trips right now, refreshed every two seconds."</p>
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Reading the registry…"</p> }>
            {move || overview.try_get().flatten().map(|first| view! { <AgentsLive first=Shipped(first) /> })}
        </Suspense>
    }
}

/// The registry as last read, read again every two seconds (the page's
/// island).
#[island]
fn AgentsLive(first: Shipped<Result<AgentsReport, AppError>>) -> impl IntoView {
    let overview = RwSignal::new(first.0);
    // Plans per second between the last two readings.
    let previous: RwSignal<Option<(i64, u64)>> = RwSignal::new(None);
    let rate: RwSignal<Option<f64>> = RwSignal::new(None);
    let refreshed = RwSignal::new(0u32);
    Effect::new(move |_| {
        let Some(sample) = overview.with(|o| {
            o.as_ref()
                .ok()
                .map(|now| (now.sampled_at_ms, now.trips_ready + now.trips_failed))
        }) else {
            return;
        };
        if let Some((at, done)) = previous.get_untracked()
            && sample.0 > at
        {
            let per_s = (sample.1.saturating_sub(done)) as f64 * 1000.0 / (sample.0 - at) as f64;
            rate.set(Some(per_s));
        }
        previous.set(Some(sample));
    });
    // In the browser only: read again every two seconds while the page is open.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    overview.set(agents_overview().await);
                    refreshed.update(|n| *n += 1);
                });
            },
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    move || match overview.get() {
        Ok(o) => view! { <Overview o rate=rate.get() refreshed=refreshed.get() /> }.into_any(),
        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
    }
}

#[component]
fn Overview(o: AgentsReport, rate: Option<f64>, refreshed: u32) -> impl IntoView {
    let tiles = [
        ("Planning now", o.trips_planning.to_string()),
        ("Waiting", o.trips_waiting.to_string()),
        ("Tasks queued", o.queue_depth.to_string()),
        ("Plans made", o.trips_ready.to_string()),
        ("Retries", o.task_retries.to_string()),
        ("Failovers", o.task_failovers.to_string()),
        (
            "Plans per second",
            rate.map_or("—".to_owned(), |r| fixed(r, 1)),
        ),
        (
            "Satisfaction",
            o.satisfaction.map_or("no ratings yet".to_owned(), |s| {
                format!(
                    "{} / 5 ({})",
                    fixed(s, 1),
                    plural(o.ratings as u32, "rating", "ratings")
                )
            }),
        ),
    ];
    view! {
        <section class="tiles" aria-label="Totals" data-testid="agent-totals" data-refreshed=refreshed>
            {tiles.into_iter().map(|(label, value)| view! {
                <div class="tile"><span class="tile-value">{value}</span><span class="tile-label">{label}</span></div>
            }).collect_view()}
        </section>
        <section class="card">
            <h2>"Instances"</h2>
            <WideTable label="Agent instances" class="agents" testid="agents"
                columns=["Agent", "Status", "Load", "Avg. time", "Success", "Calls", "Breaker", "Cost / call"]>
                {o.agents.into_iter().map(|a| view! { <AgentLine a /> }).collect_view()}
            </WideTable>
        </section>
    }
}

#[component]
fn AgentLine(a: AgentRow) -> impl IntoView {
    let load = if a.capacity > 0 {
        f64::from(a.load) / f64::from(a.capacity) * 100.0
    } else {
        0.0
    };
    let agent_type = a.agent_type.clone();
    view! {
        <tr data-agent-type=agent_type>
            <th scope="row"><span class="agent-type">{a.agent_type}</span><br /><span class="mono muted">{a.agent_id}</span></th>
            <td><span class=format!("pill {}", a.status)>{a.status.clone()}</span></td>
            <td>
                <span class="load" role="img" aria-label=format!("{} of {} slots busy", a.load, a.capacity)>
                    <span class="fill" style=format!("width: {}%", fixed(load, 0))></span>
                </span>
                {format!(" {}/{}", a.load, a.capacity)}
            </td>
            <td>{format!("{} ms", fixed(a.avg_ms, 1))}</td>
            <td>{a.success_rate.map_or("—".to_owned(), |r| format!("{}%", fixed(r * 100.0, 0)))}</td>
            <td>{a.calls}</td>
            <td><span class=format!("pill breaker-{}", a.breaker)>{a.breaker.replace('_', " ")}</span></td>
            <td>{format!("${}", fixed(a.cost_per_request, 3))}</td>
        </tr>
    }
}
