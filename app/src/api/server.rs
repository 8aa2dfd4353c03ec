//! The server half of the server functions: the runtime and the store from
//! the request's context, the browser's session, and the mapping of the
//! runtime's answers to what a person may be shown.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use leptos::prelude::*;
use leptos::server_fn::codec::TextStream;
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{
    Destination, HardConstraints, RoomRequirement, TransportRestriction, TripIntent,
};
use wayfare_domain::overrides::{OverridesInput, TripOverrides};
use wayfare_domain::preferences::{BudgetLevel, Interest, Pace};
use wayfare_domain::rating::Rating;
use wayfare_domain::trip::{Alternative, Change, TripStatus, TripView};
use wayfare_engine::runtime::{ModifyError, Runtime, RuntimeError, SubmitError};
use wayfare_store::Store;

use super::PlanFields;
use super::timeline::{Timeline, entry_of};
use crate::error::AppError;
use crate::model::{AgentRow, AgentsReport, TripDetails, TripSummary};
use crate::session::SessionId;

pub mod intervene;

/// How long one `trip_events` call streams before it ends (the page then
/// reconnects from its last `seq`): bounds what a forgotten tab holds.
const STREAM_FOR: Duration = Duration::from_secs(300);
/// How many trips "My trips" lists.
const MY_TRIPS: u32 = 100;

fn runtime() -> Result<Arc<Runtime<Store>>, AppError> {
    use_context::<Arc<Runtime<Store>>>().ok_or_else(|| {
        tracing::error!("no Runtime in the server function context");
        AppError::Internal
    })
}

fn store() -> Result<Store, AppError> {
    use_context::<Store>().ok_or_else(|| {
        tracing::error!("no Store in the server function context");
        AppError::Internal
    })
}

/// This browser's session (set by the server's session layer on every
/// request; absent only outside a request, e.g. in a unit test).
fn session() -> Option<String> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionId>().cloned())
        .map(|s| s.0)
}

fn internal(err: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %err, "runtime call failed");
    AppError::Internal
}

fn runtime_error(err: RuntimeError) -> AppError {
    match err {
        RuntimeError::NotFound(_) => AppError::NotFound,
        other => internal(other),
    }
}

/// What the runtime answered about a trip that must exist: `None` (it does
/// not know the trip) is a 404.
fn found<T>(answer: Result<Option<T>, RuntimeError>) -> Result<T, AppError> {
    answer.map_err(runtime_error)?.ok_or(AppError::NotFound)
}

fn modify_error(err: ModifyError) -> AppError {
    match err {
        ModifyError::NotFound => AppError::NotFound,
        ModifyError::Conflict { .. } => AppError::Conflict(
            "this trip was changed somewhere else (another tab?) since you opened it".into(),
        ),
        ModifyError::Invalid(why) => AppError::Invalid(why),
        ModifyError::NotReady => {
            AppError::Conflict("the trip is still being planned; try again when it is ready".into())
        }
        ModifyError::Internal(why) => internal(why),
    }
}

/// Whether this browser may change the trip: it made it, or nobody owns it.
async fn may_edit(store: &Store, trip_id: &str) -> Result<bool, AppError> {
    Ok(match store.trip_owner(trip_id).await? {
        None => true,
        Some(owner) => session().is_some_and(|s| s == owner),
    })
}

/// Whether this browser made the trip (its own interventions read "by
/// you" in the timeline).
pub(super) async fn owns(store: &Store, trip_id: &str) -> Result<bool, AppError> {
    let owner = store.trip_owner(trip_id).await?;
    Ok(owner.is_some() && owner == session())
}

/// A trip this browser may change ([`may_edit`]; 403 otherwise): its id as
/// the runtime spells it, with the runtime and the store.
pub(super) async fn editable(
    raw_id: &str,
) -> Result<(String, Arc<Runtime<Store>>, Store), AppError> {
    let id = trip_id(raw_id)?;
    let runtime = runtime()?;
    let store = store()?;
    if !may_edit(&store, &id).await? {
        return Err(AppError::Forbidden);
    }
    Ok((id, runtime, store))
}

/// A trip id as the runtime spells it (a UUID); anything else names no trip.
fn trip_id(raw: &str) -> Result<String, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| AppError::NotFound)
}

fn text_field(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn number_field<T>(
    value: Option<String>,
    what: &str,
    parse: impl FnOnce(f64) -> Result<T, String>,
) -> Result<Option<T>, AppError> {
    let Some(raw) = text_field(value) else {
        return Ok(None);
    };
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '$' | ',' | ' '))
        .collect();
    let n: f64 = cleaned
        .parse()
        .map_err(|_| AppError::Invalid(format!("{what}: \"{raw}\" is not a number")))?;
    parse(n)
        .map(Some)
        .map_err(|why| AppError::Invalid(format!("{what}: {why}")))
}

/// A select field's value read by `read` (empty: none); another value is
/// refused, naming the `allowed` ones.
fn choice<T>(
    value: Option<String>,
    what: &str,
    read: impl Fn(&str) -> Option<T>,
    allowed: impl Fn() -> String,
) -> Result<Option<T>, AppError> {
    match text_field(value) {
        None => Ok(None),
        Some(v) => read(&v)
            .map(Some)
            .ok_or_else(|| AppError::Invalid(format!("{what}: {v:?} is not one of {}", allowed()))),
    }
}

/// What the plan form's room choices (`fields[room]`) ask for.
const ROOMS: [(&str, RoomRequirement); 4] = [
    ("entire", RoomRequirement::EntireRoom),
    ("private", RoomRequirement::PrivateRoom),
    ("shared", RoomRequirement::SharedRoom),
    ("not_shared", RoomRequirement::NotShared),
];

/// What the plan form's house rule choices (`fields[house_rule]`) ask for.
const HOUSE_RULES: [(&str, HouseRule); 5] = [
    ("parties", HouseRule::Parties),
    ("smoking", HouseRule::Smoking),
    ("children", HouseRule::ChildrenUnder10),
    ("pets", HouseRule::Pets),
    ("visitors", HouseRule::Visitors),
];

/// What the plan form's transport choices (`fields[transport]`) ask for.
const TRANSPORT: [(&str, TransportRestriction); 2] = [
    ("no_flight", TransportRestriction::NoFlight),
    ("no_self_driving", TransportRestriction::NoSelfDriving),
];

/// A select field of the plan form (empty: none) as the meaning `options`
/// give its value (`(value, meaning)`); another value is refused as an
/// unknown choice of `what`.
fn form_choice<T: Copy>(
    value: Option<String>,
    what: &str,
    options: &[(&str, T)],
) -> Result<Option<T>, AppError> {
    let Some(value) = text_field(value) else {
        return Ok(None);
    };
    options
        .iter()
        .find(|(key, _)| *key == value)
        .map(|&(_, meaning)| Some(meaning))
        .ok_or_else(|| AppError::Invalid(format!("{what}: unknown choice \"{value}\"")))
}

/// Adds `item` to `list` unless it is there already.
fn add_once<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// `n` as a whole number within `range`; otherwise `why` it is refused.
fn whole_number(n: f64, range: std::ops::RangeInclusive<f64>, why: &str) -> Result<i64, String> {
    if n.fract() == 0.0 && range.contains(&n) {
        Ok(n as i64)
    } else {
        Err(why.to_owned())
    }
}

/// The form's fields as overrides of what the text says. Places are read
/// by the same reader as the text (a state name plans several cities);
/// constraints are merged into the text's, not put in their place.
fn overrides_of(
    runtime: &Runtime<Store>,
    query: &str,
    fields: PlanFields,
) -> Result<TripOverrides, AppError> {
    let parsed: TripIntent = runtime.planner().parse(query);
    let mut input = OverridesInput::default();
    let days = number_field(fields.days, "Days", |n| {
        whole_number(n, 2.0..=30.0, "a trip is 2 to 30 days")
    })?;
    input.days = days;
    input.people = number_field(fields.travellers, "Travellers", |n| {
        whole_number(n, 1.0..=20.0, "from 1 to 20 people")
    })?;
    input.budget = number_field(fields.budget, "Budget", |n| {
        if n > 0.0 && n <= 1_000_000.0 {
            Ok(n)
        } else {
            Err("a budget is more than $0 and at most $1,000,000".into())
        }
    })?;
    input.start_date = text_field(fields.start_date);
    let origin = text_field(fields.origin);
    let destination = text_field(fields.destination);
    if origin.is_some() || destination.is_some() {
        // Read the places as the text reader would, in a sentence of their
        // own (with the trip's length: a state's city count depends on it).
        let from = origin
            .clone()
            .or_else(|| parsed.origin.clone())
            .unwrap_or_default();
        let to = destination
            .clone()
            .or_else(|| parsed.destination.as_ref().map(|d| d.name().to_owned()))
            .unwrap_or_default();
        let length = days
            .map(|d| d as u32)
            .or(parsed.days.map(|d| d.get()))
            .unwrap_or(3);
        let read = runtime
            .planner()
            .parse(&format!("{length} days from {from} to {to}"));
        if origin.is_some() {
            input.origin = read.origin.or(origin);
        }
        if let Some(name) = destination {
            input.destination = Some(read.destination.unwrap_or(Destination::City { name }));
        }
    }
    let mut constraints: HardConstraints = parsed.constraints.clone();
    let mut constrained = false;
    if let Some(room) = form_choice(fields.room, "Room", &ROOMS)? {
        constraints.room_type = Some(room);
        constrained = true;
    }
    if let Some(rule) = form_choice(fields.house_rule, "House rules", &HOUSE_RULES)? {
        add_once(&mut constraints.house_rules, rule);
        constrained = true;
    }
    if let Some(cuisines) = text_field(fields.cuisines) {
        for cuisine in cuisines
            .split([',', ';'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let mut name = cuisine.to_lowercase();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            if !constraints
                .cuisines
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&name))
            {
                constraints.cuisines.push(name);
            }
        }
        constrained = true;
    }
    if let Some(restriction) = form_choice(fields.transport, "Transport", &TRANSPORT)? {
        add_once(&mut constraints.transport, restriction);
        constrained = true;
    }
    if constrained {
        input.constraints = Some(constraints);
    }
    // A field's spending style or pace wins over the text's; the field's
    // interests join the text's. An interest word Wayfare has no kind for
    // ("jazz") is kept as a wish and matched against attraction names.
    input.budget_level = choice(fields.style, "Spending", BudgetLevel::from_key, || {
        BudgetLevel::ALL.map(BudgetLevel::key).join(", ")
    })?;
    input.pace = choice(fields.pace, "Pace", Pace::from_key, || {
        Pace::ALL.map(Pace::key).join(", ")
    })?;
    let entries: Vec<String> = text_field(fields.interests)
        .map(|list| {
            list.split([',', ';'])
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if entries.len() > 12 || entries.iter().any(|w| w.len() > 40) {
        return Err(AppError::Invalid(
            "Interests: at most 12, each a few words long".into(),
        ));
    }
    if !entries.is_empty() {
        let mut interests = parsed.interests.clone();
        let mut words = parsed.preferences.clone();
        for entry in entries {
            let kinds: Vec<Interest> = entry
                .split(|c: char| !c.is_alphanumeric())
                .filter_map(Interest::from_word)
                .collect();
            if kinds.is_empty() && !words.contains(&entry) {
                words.push(entry);
            }
            for kind in kinds {
                add_once(&mut interests, kind);
            }
        }
        input.interests = Some(interests);
        input.preferences = Some(words);
    }
    input.children = number_field(fields.children, "Children", |n| {
        whole_number(n, 0.0..=20.0, "from 0 to 20 children")
    })?;
    let party = input
        .people
        .unwrap_or_else(|| i64::from(parsed.people.get()));
    if input.children.is_some_and(|c| c > party) {
        return Err(AppError::Invalid(format!(
            "Children: more children than the {party} travellers"
        )));
    }
    TripOverrides::try_from(input).map_err(|e| AppError::Invalid(e.to_string()))
}

pub async fn plan_trip(query: String, fields: PlanFields) -> Result<String, AppError> {
    let runtime = runtime()?;
    let store = store()?;
    let overrides = overrides_of(&runtime, &query, fields)?;
    let submitted = runtime
        .submit_or_ask(query, overrides)
        .await
        .map_err(|err| match err {
            SubmitError::Invalid(why) => AppError::Invalid(why),
            SubmitError::Unplannable { questions } => AppError::Unplannable(questions),
            SubmitError::Overloaded { .. } => AppError::Busy,
            SubmitError::Internal(why) => internal(why),
        })?;
    let id = submitted.trip_id;
    if let Some(owner) = session() {
        store.record_trip_owner(&id, &owner).await?;
    }
    tracing::info!(trip.id = %id, "trip submitted from the web");
    leptos_axum::redirect(&format!("/trips/{id}"));
    Ok(id)
}

pub async fn answer_trip(
    raw_id: &str,
    version: u64,
    fields: PlanFields,
) -> Result<TripDetails, AppError> {
    let (id, runtime, store) = editable(raw_id).await?;
    let query = found(runtime.trip(&id).await)?.query;
    let overrides = overrides_of(&runtime, &query, fields)?;
    let trip = runtime
        .answer(&id, version, overrides)
        .await
        .map_err(modify_error)?;
    page_of(&runtime, &store, trip).await
}

pub async fn trip_page(raw_id: &str) -> Result<TripDetails, AppError> {
    let id = trip_id(raw_id)?;
    let runtime = runtime()?;
    let store = store()?;
    let trip = found(runtime.trip(&id).await)?;
    page_of(&runtime, &store, trip).await
}

async fn page_of(
    runtime: &Runtime<Store>,
    store: &Store,
    trip: TripView,
) -> Result<TripDetails, AppError> {
    let id = trip.trip_id.clone();
    let status = found(runtime.status(&id).await)?;
    let (past, _live) = found(runtime.events(&id, 0).await)?;
    let mut timeline = Timeline::read_by_owner(owns(store, &id).await?);
    let entries = past
        .iter()
        .filter_map(|event| entry_of(&mut timeline, event))
        .collect();
    Ok(TripDetails {
        can_edit: may_edit(store, &id).await?,
        rating: store.trip_rating(&id).await?.map(|r| r.stars),
        progress: status.progress,
        tasks: status.tasks,
        timeline: entries,
        trip,
    })
}

pub async fn trip_events(raw_id: &str, after: u64) -> Result<TextStream<AppError>, AppError> {
    let id = trip_id(raw_id)?;
    let runtime = runtime()?;
    let (past, live) = found(runtime.events(&id, 0).await)?;
    // Every event is folded (a task's agent type and priority come from
    // when it was scheduled); only those after `after` are sent.
    let mut timeline = Timeline::read_by_owner(owns(&store()?, &id).await?);
    let mut lines = Vec::new();
    let mut last = after;
    let mut over = false;
    for event in &past {
        if let Some(entry) = entry_of(&mut timeline, event)
            && entry.seq > after
        {
            last = last.max(entry.seq);
            over = entry.kind.ends_planning();
            lines.push(line(&entry));
        }
    }
    let status = runtime.status(&id).await.map_err(runtime_error)?;
    let planning = status.is_some_and(|s| s.status == TripStatus::Planning);
    let head = futures::stream::iter(lines.into_iter().map(Ok));
    if !planning && (over || after >= last) {
        return Ok(TextStream::new(head));
    }
    let deadline = tokio::time::Instant::now() + STREAM_FOR;
    let state = (live, timeline, last, false, runtime, id);
    let tail = futures::stream::unfold(
        state,
        move |(mut live, mut timeline, mut last, done, runtime, id)| async move {
            if done {
                return None;
            }
            loop {
                let received = tokio::time::timeout_at(deadline, live.recv()).await;
                let event = match received {
                    Err(_elapsed) => return None,
                    Ok(Ok(event)) => event,
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                        // Too slow a reader: catch up from the log.
                        let Ok(Some((past, again))) = runtime.events(&id, last).await else {
                            return None;
                        };
                        live = again;
                        let mut text = String::new();
                        let mut ended = false;
                        for event in &past {
                            if let Some(entry) = entry_of(&mut timeline, event)
                                && entry.seq > last
                            {
                                last = entry.seq;
                                ended = entry.kind.ends_planning();
                                text.push_str(&line(&entry));
                            }
                        }
                        if text.is_empty() {
                            continue;
                        }
                        return Some((Ok(text), (live, timeline, last, ended, runtime, id)));
                    }
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
                };
                let Some(entry) = entry_of(&mut timeline, &event) else {
                    continue;
                };
                if entry.seq <= last {
                    continue;
                }
                last = entry.seq;
                let ended = entry.kind.ends_planning();
                return Some((Ok(line(&entry)), (live, timeline, last, ended, runtime, id)));
            }
        },
    );
    Ok(TextStream::new(head.chain(tail)))
}

fn line(entry: &crate::model::TimelineEntry) -> String {
    let mut text = serde_json::to_string(entry).unwrap_or_default();
    text.push('\n');
    text
}

pub async fn alternatives(raw_id: &str, component: &str) -> Result<Vec<Alternative>, AppError> {
    let id = trip_id(raw_id)?;
    runtime()?
        .alternatives(&id, component)
        .await
        .map_err(modify_error)
}

pub async fn preview_change(raw_id: &str, change: Change) -> Result<Vec<String>, AppError> {
    let id = trip_id(raw_id)?;
    let runtime = runtime()?;
    runtime
        .preview(&id, vec![change])
        .await
        .map_err(modify_error)
}

pub async fn change_trip(
    raw_id: &str,
    version: u64,
    change: Change,
) -> Result<TripDetails, AppError> {
    let (id, runtime, store) = editable(raw_id).await?;
    let trip = runtime
        .modify(&id, version, vec![change])
        .await
        .map_err(modify_error)?;
    page_of(&runtime, &store, trip).await
}

pub async fn cancel_trip(raw_id: &str) -> Result<(), AppError> {
    let (id, runtime, _) = editable(raw_id).await?;
    runtime.cancel(&id).await.map_err(runtime_error)?;
    Ok(())
}

pub async fn delete_trip(raw_id: &str) -> Result<(), AppError> {
    let (id, runtime, _) = editable(raw_id).await?;
    if runtime.delete(&id).await.map_err(runtime_error)? {
        tracing::info!(trip.id = %id, "trip deleted from the web");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn rate_trip(raw_id: &str, stars: u8, note: Option<String>) -> Result<(), AppError> {
    let (id, runtime, store) = editable(raw_id).await?;
    let trip = found(runtime.trip(&id).await)?;
    if trip.status != TripStatus::Ready {
        return Err(AppError::Conflict("only a ready plan can be rated".into()));
    }
    let rating = Rating::new(i64::from(stars), text_field(note))
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    store.rate_trip(&id, &rating).await?;
    Ok(())
}

pub async fn my_trips() -> Result<Vec<TripSummary>, AppError> {
    let Some(owner) = session() else {
        return Ok(Vec::new());
    };
    let runtime = runtime()?;
    let store = store()?;
    let mut trips = Vec::new();
    for id in store.owned_trips(&owner, MY_TRIPS).await? {
        if let Some(trip) = runtime.trip(&id).await.map_err(runtime_error)? {
            trips.push(summary_of(&trip));
        }
    }
    Ok(trips)
}

fn summary_of(trip: &TripView) -> TripSummary {
    let intent = trip.intent.as_ref();
    let title = match intent.and_then(|i| i.origin.clone().zip(i.destination.clone())) {
        Some((from, to)) => format!("{from} → {}", to.name()),
        None => {
            let words: Vec<&str> = trip.query.split_whitespace().take(8).collect();
            words.join(" ")
        }
    };
    let when = intent.and_then(|i| {
        let days = i.days?.get();
        let start = i.start_date?.get();
        Some(format!("{} · {days} days", start.format("%a %-d %b %Y")))
    });
    TripSummary {
        trip_id: trip.trip_id.clone(),
        status: trip.status,
        title,
        when,
        travellers: intent.map(|i| i.people.get()),
        total: trip.itinerary.as_ref().map(|i| i.totals.total),
        budget: intent.and_then(|i| i.budget).map(|b| b.usd()),
    }
}

pub async fn agents_overview() -> Result<AgentsReport, AppError> {
    let runtime = runtime()?;
    let store = store()?;
    let metrics = runtime.metrics();
    let satisfaction = store.satisfaction().await?;
    let agents = runtime
        .agents_everywhere()
        .await
        .into_iter()
        .map(|a| {
            let calls = a.successes + a.failures;
            AgentRow {
                success_rate: (calls > 0).then(|| a.successes as f64 / calls as f64),
                calls,
                // The page shows the id as a line of text: the process
                // goes in it (several processes have a `transport-1`)
                // rather than in a field the browser's bundle would carry.
                agent_id: match (&a.host, a.pid) {
                    (Some(host), Some(pid)) => format!("{} · {host} pid {pid}", a.agent_id),
                    _ => a.agent_id,
                },
                agent_type: a.agent_type,
                status: a.status,
                load: a.current_load,
                capacity: a.max_capacity,
                avg_ms: a.response_time_avg_ms,
                breaker: a.breaker,
                cost_per_request: a.cost_per_request,
            }
        })
        .collect();
    Ok(AgentsReport {
        agents,
        queue_depth: metrics.queue_depth,
        trips_planning: metrics.trips_in_flight,
        trips_waiting: metrics.trips_waiting,
        trips_ready: metrics.trips_ready,
        trips_failed: metrics.trips_failed,
        task_retries: metrics.task_retries,
        task_failovers: metrics.task_failovers,
        sampled_at_ms: chrono::Utc::now().timestamp_millis(),
        ratings: satisfaction.ratings,
        satisfaction: satisfaction.average,
    })
}
