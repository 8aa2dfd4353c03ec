//! One trip, at `/trips/:id`: rendered on the server from the runtime (the
//! plan is in the HTML: it reads without JavaScript), then, in the
//! browser, kept live from the trip's event stream while the agents work,
//! and changeable component by component.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use wayfare_domain::trip::{Change, InterventionAction, TripStatus};

use crate::api::{
    PlanFields, answer_trip, cancel_trip, change_trip, delete_trip, intervene_trip, trip_page,
};
use crate::codec::{JsonBytes, Shipped, from_json};
use crate::error::AppError;
use crate::model::{TimelineEntry, TimelineKind, TripDetails as Page, status_label};
use crate::pages::plan::{IntentNotes, PlanView, TripSettings, component_index};
use crate::pages::{fixed, plural, timeline::Timeline};

#[component]
pub fn TripPage() -> impl IntoView {
    let params = use_params_map();
    // `try_` reads: a server render can be dropped (the client went away)
    // while Suspense still has an effect in flight.
    let page: Resource<_, JsonBytes> = Resource::new_with_options(
        move || {
            params
                .try_with(|p| p.get("id"))
                .flatten()
                .unwrap_or_default()
        },
        trip_page,
        false,
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted" aria-live="polite">"Loading the trip…"</p> }>
            {move || {
                page.try_get()
                    .flatten()
                    .map(|result| match result {
                        Ok(page) => view! { <TripLive page=Shipped(page) /> }.into_any(),
                        Err(err) => view! {
                            <Title text="Trip not found — Wayfare" />
                            <section class="card">
                                <h1>"This trip is not here"</h1>
                                <p class="error" role="alert">{err.to_string()}</p>
                                <p><a href="/">"Plan a trip"</a>" · "<a href="/trips">"My trips"</a></p>
                            </section>
                        }
                        .into_any(),
                    })
            }}
        </Suspense>
    }
}

/// A message about the last action, next to the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Done(String),
    Error(String),
    /// The trip changed elsewhere: offer to reload.
    Conflict(String),
}

/// What "Undo" applies: the change that puts the last one back.
#[derive(Debug, Clone, PartialEq)]
pub struct Undo {
    pub label: String,
    pub change: Change,
}

/// The trip page's state, shared by its parts.
#[derive(Clone, Copy)]
pub struct TripCtx {
    pub id: StoredValue<String>,
    pub page: RwSignal<Page>,
    /// The component whose alternatives are open.
    pub open: RwSignal<Option<String>>,
    /// Components the last change replaced (highlighted).
    pub changed: RwSignal<Vec<String>>,
    pub busy: RwSignal<bool>,
    pub notice: RwSignal<Option<Notice>>,
    pub undo: RwSignal<Option<Undo>>,
    /// The timeline shown: the page's, then what the stream adds.
    pub entries: RwSignal<Vec<TimelineEntry>>,
}

impl TripCtx {
    /// Applies a change; on success the page shows the new plan, what
    /// changed, and how to undo it.
    pub fn apply(self, change: Change, undo: Option<Undo>) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.notice.set(None);
        let id = self.id.get_value();
        let version = self.page.with_untracked(|p| p.trip.version);
        let before = self.page.with_untracked(|p| component_index(&p.trip));
        leptos::task::spawn_local(async move {
            match change_trip(id, version, change).await {
                Ok(next) => {
                    let after = component_index(&next.trip);
                    let changed: Vec<String> = after
                        .iter()
                        .filter(|(id, item)| before.get(*id) != Some(*item))
                        .map(|(id, _)| id.clone())
                        .collect();
                    let rolled_back = next
                        .timeline
                        .last()
                        .is_some_and(|e| e.kind == TimelineKind::RolledBack);
                    self.notice.set(Some(if rolled_back {
                        Notice::Error(
                            next.timeline
                                .last()
                                .map(|e| e.text.clone())
                                .unwrap_or_default(),
                        )
                    } else {
                        Notice::Done(match changed.len() {
                            0 => "Applied; nothing else had to change.".to_owned(),
                            n => format!(
                                "Applied; {} re-planned (highlighted).",
                                plural(n as u32, "part", "parts")
                            ),
                        })
                    }));
                    self.changed.set(changed);
                    self.open.set(None);
                    self.undo.set(undo.filter(|_| !rolled_back));
                    self.page.set(next);
                }
                Err(AppError::Conflict(why)) => self.notice.set(Some(Notice::Conflict(why))),
                Err(err) => self.notice.set(Some(Notice::Error(err.to_string()))),
            }
            self.busy.set(false);
        });
    }

    /// Intervenes by hand (try a failed step again, leave one out, check
    /// the plan again, resume or stop the trip); the page then shows the
    /// trip as it stands and follows it again while it plans.
    pub fn intervene(self, action: InterventionAction, task_id: Option<String>) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.notice.set(None);
        let id = self.id.get_value();
        leptos::task::spawn_local(async move {
            match intervene_trip(id, action, task_id, None).await {
                Ok(next) => {
                    let planning = next.trip.status == TripStatus::Planning;
                    let done = match action {
                        InterventionAction::RetryTask => "Trying that step again…".to_owned(),
                        InterventionAction::SkipTask => {
                            "Left out; the plan goes on without it.".to_owned()
                        }
                        InterventionAction::Reverify => {
                            format!("Checked again: {}", next.trip.explanation)
                        }
                        InterventionAction::Resume => "Planning again…".to_owned(),
                        InterventionAction::Fail => "Marked as failed.".to_owned(),
                    };
                    let rolled_back = next
                        .timeline
                        .last()
                        .is_some_and(|e| e.kind == TimelineKind::RolledBack);
                    self.notice.set(Some(if rolled_back {
                        Notice::Error(done)
                    } else {
                        Notice::Done(done)
                    }));
                    self.undo.set(None);
                    self.page.set(next);
                    if planning {
                        self.watch();
                    }
                }
                Err(AppError::Conflict(why)) => self.notice.set(Some(Notice::Conflict(why))),
                Err(err) => self.notice.set(Some(Notice::Error(err.to_string()))),
            }
            self.busy.set(false);
        });
    }

    /// Follows the trip's event stream until planning ends (in the browser).
    pub fn watch(self) {
        leptos::task::spawn_local(follow(self));
    }

    /// Reads the trip again (after a conflict, or when planning ends).
    pub fn reload(self) {
        let id = self.id.get_value();
        leptos::task::spawn_local(async move {
            match trip_page(id).await {
                Ok(next) => {
                    self.page.set(next);
                    self.notice.set(None);
                    self.undo.set(None);
                }
                Err(err) => self.notice.set(Some(Notice::Error(err.to_string()))),
            }
        });
    }
}

/// The trip as it stands, kept live: the island of the trip's page (its
/// data travels in the page's HTML).
#[island]
fn TripLive(page: Shipped<Page>) -> impl IntoView {
    let Shipped(page) = page;
    let entries = RwSignal::new(page.timeline.clone());
    let ctx = TripCtx {
        entries,
        id: StoredValue::new(page.trip.trip_id.clone()),
        page: RwSignal::new(page),
        open: RwSignal::new(None),
        changed: RwSignal::new(Vec::new()),
        busy: RwSignal::new(false),
        notice: RwSignal::new(None),
        undo: RwSignal::new(None),
    };
    provide_context(ctx);
    // The timeline follows the page when a change or a reload replaces it.
    Effect::new(move |_| {
        let timeline = ctx.page.with(|p| p.timeline.clone());
        entries.update(|e| merge(e, timeline));
    });
    // In the browser only: follow the event stream while the agents work.
    Effect::new(move |_| {
        if ctx
            .page
            .with_untracked(|p| p.trip.status == TripStatus::Planning)
        {
            ctx.watch();
        }
    });

    let status = move || ctx.page.with(|p| p.trip.status);
    let title = move || {
        ctx.page.with(|p| {
            let intent = p.trip.intent.as_ref();
            match intent.and_then(|i| i.origin.clone().zip(i.destination.clone())) {
                Some((from, to)) => format!("{from} to {}", to.name()),
                None => "Your trip".to_owned(),
            }
        })
    };

    view! {
        <Title text=move || format!("{} — Wayfare", title()) />
        <section class="card trip-head">
            <div class="trip-title">
                <h1 data-testid="trip-title">{title}</h1>
                <span class=move || format!("badge status-{}", status().as_str()) data-testid="trip-status">
                    {move || status_label(status())}
                </span>
            </div>
            <blockquote class="query">{move || ctx.page.with(|p| p.trip.query.clone())}</blockquote>
            <IntentNotes />
            <TripActions />
        </section>
        <NoticeBar />
        {move || match status() {
            TripStatus::Planning => view! { <Progress entries /> }.into_any(),
            _ => ().into_any(),
        }}
        {move || match status() {
            TripStatus::Ready => view! { <PlanView /> <TripSettings /> <Rate /> }.into_any(),
            TripStatus::NeedsInput => view! { <Questions /> }.into_any(),
            TripStatus::Failed => view! {
                <section class="card no-plan" data-testid="no-plan">
                    <h2>"No plan meets every constraint"</h2>
                    <p class="error" role="alert">{move || ctx.page.with(|p| p.trip.explanation.clone())}</p>
                    {move || ctx.page.with(|p| p.can_edit && p.tasks.iter().any(|t| t.status == "failed")).then(|| view! {
                        <p class="intervene">
                            "A step of the planning failed. Once what it needs is back, it can be tried again."
                            <button type="button" data-testid="resume-trip"
                                disabled=move || ctx.busy.get()
                                on:click=move |_| ctx.intervene(InterventionAction::Resume, None)>
                                "Try the failed steps again"
                            </button>
                        </p>
                    })}
                    <p><a href="/">"Describe the trip again"</a></p>
                </section>
            }
            .into_any(),
            TripStatus::Cancelled => view! {
                <section class="card" data-testid="cancelled">
                    <h2>"Planning was cancelled"</h2>
                    <p><a href="/">"Plan another trip"</a></p>
                </section>
            }
            .into_any(),
            TripStatus::Planning => ().into_any(),
        }}
        <details class="card timeline-card" open=move || status() == TripStatus::Planning>
            <summary><h2>"How the agents planned it"</h2></summary>
            <Timeline entries />
        </details>
    }
}

/// Merges entries into the list by `seq`: nothing twice, nothing lost.
fn merge(list: &mut Vec<TimelineEntry>, more: impl IntoIterator<Item = TimelineEntry>) {
    let mut last = list.last().map_or(0, |e| e.seq);
    for entry in more {
        if entry.seq > last {
            last = entry.seq;
            list.push(entry);
        }
    }
}

/// Reads the trip's event stream from the last `seq` shown, reconnecting
/// after a drop, until planning ends; then reads the trip again.
async fn follow(ctx: TripCtx) {
    use futures::StreamExt;
    let entries = ctx.entries;
    let id = ctx.id.get_value();
    let mut delay_ms = 250;
    loop {
        let after = entries.with_untracked(|e| e.last().map_or(0, |e| e.seq));
        let mut ended = false;
        if let Ok(stream) = crate::api::trip_events(id.clone(), after).await {
            let mut stream = stream.into_inner();
            let mut buffer = String::new();
            while let Some(chunk) = stream.next().await {
                let Ok(text) = chunk else { break };
                buffer.push_str(&text);
                while let Some(end) = buffer.find('\n') {
                    let line: String = buffer.drain(..=end).collect();
                    if let Ok(entry) = from_json::<TimelineEntry>(line.trim()) {
                        ended |= entry.kind.ends_planning();
                        if let Some(progress) = entry.progress {
                            ctx.page.update(|p| p.progress = p.progress.max(progress));
                        }
                        entries.update(|e| merge(e, [entry]));
                    }
                }
                delay_ms = 250;
            }
        }
        if ended {
            break;
        }
        // Dropped, or the server ended a long stream: is it over meanwhile?
        if let Ok(page) = trip_page(id.clone()).await
            && page.trip.status != TripStatus::Planning
        {
            ctx.page.set(page);
            return;
        }
        sleep(delay_ms).await;
        delay_ms = (delay_ms * 2).min(5_000);
    }
    ctx.reload();
}

async fn sleep(ms: u64) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = tx.send(());
        },
        std::time::Duration::from_millis(ms),
    );
    let _ = rx.await;
}

#[component]
fn Progress(entries: RwSignal<Vec<TimelineEntry>>) -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let pct = move || (ctx.page.with(|p| p.progress) * 100.0).clamp(0.0, 100.0);
    let ctx_cancel = ctx;
    view! {
        <section class="card progress-card" aria-labelledby="progress-title">
            <div class="progress-head">
                <h2 id="progress-title">"The agents are planning your trip"</h2>
                {move || ctx.page.with(|p| p.can_edit).then(|| view! {
                    <button type="button" class="secondary" data-testid="cancel"
                        disabled=move || ctx_cancel.busy.get()
                        on:click=move |_| {
                            ctx_cancel.busy.set(true);
                            let id = ctx_cancel.id.get_value();
                            leptos::task::spawn_local(async move {
                                if let Err(err) = cancel_trip(id).await {
                                    ctx_cancel.notice.set(Some(Notice::Error(err.to_string())));
                                }
                                ctx_cancel.busy.set(false);
                                ctx_cancel.reload();
                            });
                        }>"Cancel planning"</button>
                })}
            </div>
            <div class="bar big" role="progressbar" aria-label="Planning progress"
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=move || fixed(pct(), 0)>
                <div class="fill" style=move || format!("width: {}%", fixed(pct(), 1))></div>
            </div>
            <p class="muted" aria-live="polite" data-testid="progress-text">
                {move || entries.with(|e| e.last().map(|e| e.text.clone()).unwrap_or_else(|| "Starting…".into()))}
            </p>
            {move || ctx.page.with(|p| p.can_edit).then(|| view! {
                <details class="stuck" data-testid="stuck">
                    <summary>"Taking too long?"</summary>
                    <p class="muted">"If nothing moves for a while, planning can be started again from where it stopped, or ended here."</p>
                    <div class="actions">
                        <button type="button" class="secondary" data-testid="resume"
                            disabled=move || ctx.busy.get()
                            on:click=move |_| ctx.intervene(InterventionAction::Resume, None)>
                            "Resume planning"
                        </button>
                        <button type="button" class="secondary danger" data-testid="mark-failed"
                            disabled=move || ctx.busy.get()
                            on:click=move |_| ctx.intervene(InterventionAction::Fail, None)>
                            "Stop and mark as failed"
                        </button>
                    </div>
                </details>
            })}
        </section>
    }
}

#[component]
fn NoticeBar() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    view! {
        {move || ctx.notice.get().map(|notice| match notice {
            Notice::Done(text) => view! {
                <div class="notice ok" role="status" data-testid="notice">
                    <span>{text}</span>
                    {move || ctx.undo.get().map(|undo| {
                        let label = undo.label.clone();
                        view! {
                            <button type="button" class="secondary" data-testid="undo"
                                disabled=move || ctx.busy.get()
                                on:click=move |_| ctx.apply(undo.change.clone(), None)>
                                {label}
                            </button>
                        }
                    })}
                </div>
            }.into_any(),
            Notice::Error(text) => view! {
                <div class="notice bad" role="alert" data-testid="notice">{text}</div>
            }.into_any(),
            Notice::Conflict(text) => view! {
                <div class="notice warn" role="alert" data-testid="conflict">
                    <span>{text}</span>
                    <button type="button" class="secondary" on:click=move |_| ctx.reload()>"Reload the trip"</button>
                </div>
            }.into_any(),
        })}
    }
}

/// Export, print and delete.
#[component]
fn TripActions() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let confirming = RwSignal::new(false);
    let ready = move || ctx.page.with(|p| p.trip.status == TripStatus::Ready);
    let delete = move |_| {
        let id = ctx.id.get_value();
        ctx.busy.set(true);
        leptos::task::spawn_local(async move {
            match delete_trip(id).await {
                // Pages load from the server (islands: no router here).
                Ok(()) => {
                    let _ = window().location().set_href("/trips");
                }
                Err(err) => ctx.notice.set(Some(Notice::Error(err.to_string()))),
            }
            ctx.busy.set(false);
        });
    };
    view! {
        <div class="actions" role="group" aria-label="Trip actions">
            {move || ready().then(|| {
                let href = format!("/api/trips/{}/calendar.ics", ctx.id.get_value());
                view! {
                    <a class="button secondary" href=href download data-testid="export-ics">"Add to calendar (.ics)"</a>
                    <button type="button" class="secondary" on:click=|_| { let _ = window().print(); }>"Print"</button>
                    {move || ctx.page.with(|p| p.can_edit).then(|| view! {
                        <button type="button" class="secondary" data-testid="reverify"
                            title="The verifier checks every rule of the plan again, against today's data"
                            disabled=move || ctx.busy.get()
                            on:click=move |_| ctx.intervene(InterventionAction::Reverify, None)>
                            "Check the plan again"
                        </button>
                    })}
                }
            })}
            {move || ctx.page.with(|p| p.can_edit).then(|| {
                view! {
                    <Show when=move || confirming.get()
                        fallback=move || view! {
                            <button type="button" class="secondary danger" data-testid="delete"
                                on:click=move |_| confirming.set(true)>"Delete trip"</button>
                        }>
                        <span class="confirm" role="group" aria-label="Confirm deletion">
                            "Delete this trip for good?"
                            <button type="button" class="danger" data-testid="delete-confirm"
                                disabled=move || ctx.busy.get() on:click=delete>"Delete"</button>
                            <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Keep it"</button>
                        </span>
                    </Show>
                }
            })}
        </div>
    }
}

/// A trip waiting for answers: its questions, and the fields that answer
/// them; the same trip is then planned.
#[component]
fn Questions() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let fields = [
        ("origin", "From", "text", "Seattle"),
        ("destination", "To (a city or a state)", "text", "Denver"),
        ("start_date", "First day", "date", ""),
        ("days", "Days", "number", "3"),
        ("travellers", "Travellers", "number", "2"),
        ("budget", "Budget (USD)", "number", "2000"),
    ];
    let values: Vec<(&'static str, RwSignal<String>)> = fields
        .iter()
        .map(|(name, ..)| (*name, RwSignal::new(String::new())))
        .collect();
    let values = StoredValue::new(values);
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut answer = PlanFields::default();
        for (name, value) in values.get_value() {
            let v = Some(value.get_untracked()).filter(|v| !v.trim().is_empty());
            match name {
                "origin" => answer.origin = v,
                "destination" => answer.destination = v,
                "start_date" => answer.start_date = v,
                "days" => answer.days = v,
                "travellers" => answer.travellers = v,
                _ => answer.budget = v,
            }
        }
        let id = ctx.id.get_value();
        let version = ctx.page.with_untracked(|p| p.trip.version);
        ctx.busy.set(true);
        ctx.notice.set(None);
        leptos::task::spawn_local(async move {
            match answer_trip(id, version, answer).await {
                Ok(next) => {
                    let planning = next.trip.status == TripStatus::Planning;
                    ctx.page.set(next);
                    if planning {
                        ctx.watch();
                    }
                }
                Err(AppError::Conflict(why)) => ctx.notice.set(Some(Notice::Conflict(why))),
                Err(err) => ctx.notice.set(Some(Notice::Error(err.to_string()))),
            }
            ctx.busy.set(false);
        });
    };
    view! {
        <section class="card" data-testid="questions">
            <h2>"Wayfare needs a little more to plan this trip"</h2>
            <ul>
                {move || ctx.page.with(|p| p.trip.questions.clone()).into_iter()
                    .map(|q| view! { <li>{q}</li> }).collect_view()}
            </ul>
            {move || ctx.page.with(|p| p.can_edit).then(|| view! {
                <form on:submit=send class="answer-form">
                    <div class="fields">
                        {fields.into_iter().zip(values.get_value()).map(|((name, label, kind, placeholder), (_, value))| {
                            let id = format!("a-{name}");
                            view! {
                                <div class="field">
                                    <label for=id.clone()>{label}</label>
                                    <input id=id type=kind placeholder=placeholder autocomplete="off"
                                        prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
                                </div>
                            }
                        }).collect_view()}
                    </div>
                    <button type="submit" class="primary" disabled=move || ctx.busy.get()>"Plan with these"</button>
                </form>
            })}
        </section>
    }
}

/// 1–5 stars and a note: the user-satisfaction figure.
#[component]
fn Rate() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let stars = RwSignal::new(ctx.page.with_untracked(|p| p.rating.unwrap_or(0)));
    let note = RwSignal::new(String::new());
    let sent = RwSignal::new(ctx.page.with_untracked(|p| p.rating.is_some()));
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (id, value, text) = (
            ctx.id.get_value(),
            stars.get_untracked(),
            note.get_untracked(),
        );
        if value == 0 {
            ctx.notice.set(Some(Notice::Error(
                "Choose from 1 to 5 stars first.".into(),
            )));
            return;
        }
        leptos::task::spawn_local(async move {
            match crate::api::rate_trip(id, value, Some(text)).await {
                Ok(()) => {
                    sent.set(true);
                    ctx.page.update(|p| p.rating = Some(value));
                }
                Err(err) => ctx.notice.set(Some(Notice::Error(err.to_string()))),
            }
        });
    };
    view! {
        {move || ctx.page.with(|p| p.can_edit).then(|| view! {
            <section class="card rate" aria-labelledby="rate-title">
                <h2 id="rate-title">"Would you take this trip?"</h2>
                <form on:submit=send data-testid="rate">
                    <fieldset class="stars">
                        <legend class="visually-hidden">"Your rating"</legend>
                        {(1..=5u8).map(|n| {
                            let id = format!("star-{n}");
                            view! {
                                <input type="radio" name="stars" id=id.clone() value=n.to_string()
                                    prop:checked=move || stars.get() == n
                                    on:change=move |_| { stars.set(n); sent.set(false); } />
                                <label for=id title=format!("{n} of 5")>
                                    <span aria-hidden="true" class:lit=move || { stars.get() >= n }>"★"</span>
                                    <span class="visually-hidden">{format!("{n} of 5 stars")}</span>
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                    <label for="rate-note" class="field-label">"A note (optional)"</label>
                    <input id="rate-note" type="text" maxlength="1000"
                        on:input=move |ev| note.set(event_target_value(&ev)) prop:value=note />
                    <button type="submit" class="secondary">"Send rating"</button>
                    <span role="status" class="muted" data-testid="rated">
                        {move || sent.get().then(|| format!("Thank you: {} of 5.", stars.get()))}
                    </span>
                </form>
            </section>
        }
        .into_any())}
    }
}
