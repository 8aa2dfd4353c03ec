//! A ready plan: what Wayfare understood, the summary and budget, a card
//! per day with every item's cost and reason and a "Change" for each, the
//! verifier's verdict, and the trip's dates, travellers and budget.

use std::collections::BTreeMap;

use leptos::prelude::*;
use wayfare_domain::bounds::{Budget, Travellers, TripDate};
use wayfare_domain::catalog::HouseRule;
use wayfare_domain::intent::{HardConstraints, RoomRequirement, TransportRestriction};
use wayfare_domain::itinerary::{ItineraryDay, PlanItem, TransportLeg, TravelMode};
use wayfare_domain::preferences::BudgetLevel;
use wayfare_domain::trip::TripView;

use crate::api::{alternatives, preview_change};
use crate::pages::icons::{Glyph, Icon};
use crate::pages::trip::{Notice, TripCtx, Undo};
use crate::pages::{fixed, hh_mm, long_date, money, money_delta, plural};
use wayfare_domain::trip::{Alternative, Change};

/// Every component of the plan by id, with what identifies its choice
/// (name and cost): two plans differ where these differ.
pub fn component_index(trip: &TripView) -> BTreeMap<String, (String, i64)> {
    let mut index = BTreeMap::new();
    let Some(itinerary) = &trip.itinerary else {
        return index;
    };
    for day in &itinerary.days {
        for leg in &day.transport {
            // No `Debug` formatting: it would compile chrono's into the bundle.
            let what = format!(
                "{} {} {}",
                leg.mode.label(),
                leg.number.as_deref().unwrap_or("-"),
                leg.departure.map(hh_mm).unwrap_or_default()
            );
            index.insert(leg.id.clone(), (what, (leg.cost * 100.0) as i64));
        }
        let items = day
            .meals()
            .into_iter()
            .filter_map(|(_, item)| item)
            .chain(day.attractions.iter())
            .chain(day.accommodation.iter());
        for item in items {
            index.insert(
                item.id.clone(),
                (item.name.clone(), (item.cost * 100.0) as i64),
            );
        }
    }
    index
}

fn room_label(room: RoomRequirement) -> &'static str {
    match room {
        RoomRequirement::EntireRoom => "an entire home",
        RoomRequirement::PrivateRoom => "a private room",
        RoomRequirement::SharedRoom => "a shared room",
        RoomRequirement::NotShared => "a room not shared with others",
    }
}

/// The parsed request and the assumptions made, in plain words.
#[component]
pub fn IntentNotes() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let notes = move || {
        ctx.page.with(|p| {
            let Some(intent) = &p.trip.intent else {
                return (Vec::new(), Vec::new());
            };
            let mut notes = Vec::new();
            if let (Some(origin), Some(dest)) = (&intent.origin, &intent.destination) {
                let cities = dest.city_count();
                notes.push(if cities > 1 {
                    format!("From {origin} to {cities} cities in {}", dest.name())
                } else {
                    format!("From {origin} to {}", dest.name())
                });
            }
            match (intent.start_date, intent.days) {
                (Some(start), Some(days)) => notes.push(format!(
                    "{} from {}",
                    plural(days.get(), "day", "days"),
                    long_date(start.get(), true)
                )),
                (None, Some(days)) => notes.push(plural(days.get(), "day", "days")),
                _ => {}
            }
            let mut party = plural(intent.people.get(), "traveller", "travellers");
            match intent.children {
                0 => {}
                1 => party.push_str(", one of them a child"),
                n => party.push_str(&format!(", {n} of them children")),
            }
            notes.push(party);
            if let Some(budget) = intent.budget {
                notes.push(format!("Budget {}", money(budget.usd())));
            }
            let c = &intent.constraints;
            if !c.cuisines.is_empty() {
                notes.push(format!("Meals to include: {}", c.cuisines.join(", ")));
            }
            if !c.house_rules.is_empty() {
                let rules: Vec<&str> = c.house_rules.iter().map(|r| r.label()).collect();
                notes.push(format!("Stays that allow {}", rules.join(" and ")));
            }
            if let Some(room) = c.room_type {
                notes.push(format!("Stay in {}", room_label(room)));
            }
            for t in &c.transport {
                notes.push(
                    match t {
                        TransportRestriction::NoFlight => "No flights",
                        TransportRestriction::NoSelfDriving => "No driving yourself",
                    }
                    .to_owned(),
                );
            }
            if let Some(level) = intent.budget_level {
                notes.push(
                    match level {
                        BudgetLevel::Budget => "Spending as little as possible",
                        BudgetLevel::Moderate => "Moderate spending",
                        BudgetLevel::Comfort => "Comfortable spending",
                        BudgetLevel::Luxury => "Luxury",
                    }
                    .to_owned(),
                );
            }
            if let Some(pace) = intent.pace {
                notes.push(format!("A {} pace", pace.key()));
            }
            let interests: Vec<&str> = intent
                .interests
                .iter()
                .map(|i| i.label())
                .chain(intent.preferences.iter().map(String::as_str))
                .collect();
            if !interests.is_empty() {
                notes.push(format!("Interests: {}", interests.join(", ")));
            }
            (notes, intent.assumptions.clone())
        })
    };
    view! {
        {move || {
            let (notes, assumptions) = notes();
            (!notes.is_empty()).then(|| view! {
                <div class="understood" data-testid="understood">
                    <h2 class="small-title">"What Wayfare understood"</h2>
                    <ul class="facts">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    {(!assumptions.is_empty()).then(|| view! {
                        <p class="assumed" data-testid="assumptions">
                            <strong>"Assumed: "</strong>{assumptions.join("; ")}
                        </p>
                    })}
                </div>
            })
        }}
    }
}

/// The plan of a ready trip.
#[component]
pub fn PlanView() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let itinerary = move || ctx.page.with(|p| p.trip.itinerary.clone());
    view! {
        {move || itinerary().map(|itinerary| {
            let budget = ctx.page.with_untracked(|p| {
                p.trip.intent.as_ref().and_then(|i| i.budget).map(|b| b.usd())
            });
            let totals = itinerary.totals.clone();
            let route = std::iter::once(itinerary.origin.clone())
                .chain(itinerary.visited_cities())
                .chain(std::iter::once(itinerary.origin.clone()))
                .collect::<Vec<_>>()
                .join(" → ");
            let share = budget.map(|b| if b > 0.0 { (totals.total / b * 100.0).min(100.0) } else { 100.0 });
            let days = itinerary.days.len() as u32;
            let people = itinerary.people;
            view! {
                <section class="card summary" data-testid="plan-summary">
                    <h2>{route}</h2>
                    <p class="muted">{format!("{} · {}", plural(days, "day", "days"), plural(people, "traveller", "travellers"))}</p>
                    <div class="budget">
                        <p class="total">
                            <span data-testid="plan-total">{money(totals.total)}</span>
                            {budget.map(|b| view! { <span class="muted">{format!(" of your {} budget", money(b))}</span> })}
                        </p>
                        {share.map(|pct| view! {
                            <div class="bar" role="img" aria-label=format!("{}% of the budget spent", fixed(pct, 0))>
                                <div class="fill" style=format!("width: {}%", fixed(pct, 1))></div>
                            </div>
                        })}
                        <ul class="breakdown">
                            <li><Glyph icon=Icon::Car />" Transport "<strong>{money(totals.transport)}</strong></li>
                            <li><Glyph icon=Icon::Stay />" Stays "<strong>{money(totals.accommodation)}</strong></li>
                            <li><Glyph icon=Icon::Meal />" Meals "<strong>{money(totals.meals)}</strong></li>
                            {(totals.attractions > 0.0).then(|| view! {
                                <li><Glyph icon=Icon::Visit />" Visits "<strong>{money(totals.attractions)}</strong></li>
                            })}
                        </ul>
                    </div>
                    <Extras />
                    <super::map::TripMap itinerary=itinerary.clone() />
                </section>
                <div class="days">
                    {itinerary.days.into_iter().map(|day| view! { <DayCard day /> }).collect_view()}
                </div>
                <VerdictList />
            }
            .into_any()
        })}
    }
}

/// Tips, and the optional parts that were left out (never silently).
#[component]
fn Extras() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    view! {
        {move || ctx.page.with(|p| {
            let degraded = p.trip.degraded.clone();
            (!degraded.is_empty()).then(|| view! {
                <div class="degraded" data-testid="degraded">
                    <strong>"Left out: "</strong>{degraded.join("; ")}
                </div>
            })
        })}
    }
}

#[component]
fn DayCard(day: ItineraryDay) -> impl IntoView {
    let date = day.date.map(|d| long_date(d, false));
    let title = match &day.from {
        Some(from) => format!("{from} → {}", day.city),
        None => day.city.clone(),
    };
    let meals: Vec<(&'static str, PlanItem)> = day
        .meals()
        .into_iter()
        .filter_map(|(kind, item)| item.cloned().map(|i| (kind.label(), i)))
        .collect();
    let map_day = day.clone();
    view! {
        <section class="card day" data-testid="plan-day" aria-label=format!("Day {}", day.day)>
            <header class="day-head">
                <span class="day-number">{format!("Day {}", day.day)}</span>
                <h3>{title}</h3>
                {date.map(|d| view! { <span class="muted">{d}</span> })}
            </header>
            <ul class="items">
                {day.transport.into_iter().map(|leg| view! { <LegRow leg /> }).collect_view()}
                {meals.into_iter().map(|(label, item)| view! { <ItemRow kind=label icon=Icon::Meal item /> }).collect_view()}
                {day.attractions.into_iter().map(|item| view! { <ItemRow kind="visit" icon=Icon::Visit item /> }).collect_view()}
                {day.accommodation.map(|item| view! { <ItemRow kind="stay" icon=Icon::Stay item /> })}
            </ul>
            <super::map::RouteMap day=map_day />
        </section>
    }
}

/// A record of the demo catalog (a leg's id is prefixed by its mode).
fn is_sample(source_id: Option<&str>) -> bool {
    source_id.is_some_and(|id| id.starts_with("demo:") || id.contains(":demo:"))
}

#[component]
fn LegRow(leg: TransportLeg) -> impl IntoView {
    let icon = match leg.mode {
        TravelMode::Flight => Icon::Flight,
        TravelMode::SelfDriving => Icon::Car,
        TravelMode::Taxi => Icon::Taxi,
    };
    let what = match (&leg.number, leg.departure, leg.arrival) {
        (Some(number), Some(dep), Some(arr)) => format!(
            "{} {number}, {} → {}, {}–{}",
            leg.mode.label(),
            leg.from,
            leg.to,
            hh_mm(dep),
            hh_mm(arr)
        ),
        _ => format!(
            "{}, {} → {}, {} ({})",
            leg.mode.label(),
            leg.from,
            leg.to,
            leg.duration_text,
            leg.distance_text
        ),
    };
    // A leg's alternatives are named by mode and record ("flight:<id>").
    let mode = match leg.mode {
        TravelMode::Flight => "flight",
        TravelMode::SelfDriving => "self-driving",
        TravelMode::Taxi => "taxi",
    };
    let item = PlanItem {
        id: leg.id.clone(),
        name: what,
        city: leg.to.clone(),
        source_id: leg.source_id.as_ref().map(|s| format!("{mode}:{s}")),
        cost: leg.cost,
        reason: leg.reason.clone(),
    };
    view! { <ItemRow kind="transport" icon item /> }
}

/// One item of a day, with its cost, its reason and "Change".
#[component]
fn ItemRow(kind: &'static str, icon: Icon, item: PlanItem) -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let sample = is_sample(item.source_id.as_deref());
    let cost = (item.cost > 0.0).then(|| money(item.cost));
    let id = StoredValue::new(item.id.clone());
    let is_open = move || {
        ctx.open
            .with(|o| o.as_deref() == Some(id.get_value().as_str()))
    };
    let changed = move || ctx.changed.with(|c| c.contains(&id.get_value()));
    let editable = move || ctx.page.with(|p| p.can_edit);
    let undo_to = StoredValue::new(item.source_id.clone().map(|with| Undo {
        label: format!("Undo: bring back {}", item.name),
        change: Change::Replace {
            component_id: item.id.clone(),
            with,
        },
    }));
    view! {
        <li class="item" class:changed=changed data-component=item.id.clone() data-kind=kind>
            <span class="kind"><Glyph icon /><span>{kind}</span></span>
            <span class="what">
                <span class="name">{item.name.clone()}</span>
                {sample.then(|| view! { <span class="sample" title="A sample record of the demo catalog">"sample"</span> })}
                {move || changed().then(|| view! { <span class="new-badge">"changed"</span> })}
            </span>
            <span class="cost">{cost}</span>
            <span class="why">{item.reason.clone()}</span>
            {move || editable().then(|| view! {
                <button type="button" class="link change" aria-expanded=move || is_open().to_string()
                    aria-label={
                        let name = item.name.clone();
                        move || if is_open() { format!("Close the alternatives to {name}") } else { format!("Change {name}") }
                    }
                    on:click=move |_| ctx.open.set(if is_open() { None } else { Some(id.get_value()) })>
                    {move || if is_open() { "Close" } else { "Change" }}
                </button>
            })}
            {move || is_open().then(|| view! { <ChangePanel component=id.get_value() undo=undo_to.get_value() /> })}
        </li>
    }
}

/// The ranked alternatives for one component.
#[component]
fn ChangePanel(component: String, undo: Option<Undo>) -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let id = ctx.id.get_value();
    let component = StoredValue::new(component);
    let undo = StoredValue::new(undo);
    let options = LocalResource::new(move || alternatives(id.clone(), component.get_value()));
    // A choice that would replace more than a few parts asks first.
    let pending: RwSignal<Option<(String, Change)>> = RwSignal::new(None);
    let pick = move |with: String| {
        let change = Change::Replace {
            component_id: component.get_value(),
            with,
        };
        let id = ctx.id.get_value();
        leptos::task::spawn_local(async move {
            match preview_change(id, change.clone()).await {
                Ok(list) if list.iter().filter(|p| p.contains('.')).count() > 3 => {
                    pending.set(Some((preview_sentence(&list), change)));
                }
                _ => ctx.apply(change, undo.get_value()),
            }
        });
    };
    view! {
        <div class="change-panel" data-testid="alternatives" role="region" aria-label="Alternatives">
            <Suspense fallback=|| view! { <p class="muted">"Finding alternatives…"</p> }>
                {move || options.get().map(|result| match result {
                    Ok(list) if list.iter().all(|c| c.current) => view! {
                        <p class="muted">"Nothing else fits this trip's constraints here."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="choices">
                            {list.into_iter().filter(|c| !c.current).take(6).map(|choice: Alternative| {
                                let with = choice.id.clone();
                                let delta_class = if choice.cost_delta > 0.5 { "delta up" } else if choice.cost_delta < -0.5 { "delta down" } else { "delta" };
                                view! {
                                    <li class="choice">
                                        <span class="what">{choice.name.clone()}</span>
                                        <span class="cost">{money(choice.cost)}" "<span class=delta_class>{money_delta(choice.cost_delta)}</span></span>
                                        <span class="why">{choice.reason}</span>
                                        <button type="button" class="secondary" disabled=move || ctx.busy.get()
                                            aria-label=format!("Choose {}", choice.name)
                                            on:click=move |_| pick(with.clone())>"Choose"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                })}
            </Suspense>
            {move || pending.get().map(|(sentence, change)| view! {
                <div class="confirm-box" role="alertdialog" aria-label="Confirm the change" data-testid="confirm-choice">
                    <p>{format!("This choice changes more of the plan. {sentence}")}</p>
                    <button type="button" class="primary" disabled=move || ctx.busy.get()
                        on:click=move |_| { ctx.apply(change.clone(), undo.get_value()); pending.set(None); }>"Go ahead"</button>
                    <button type="button" class="secondary" on:click=move |_| pending.set(None)>"Cancel"</button>
                </div>
            })}
            <div class="panel-actions">
                <button type="button" class="secondary" data-testid="another" disabled=move || ctx.busy.get()
                    on:click=move |_| ctx.apply(Change::Reroll { component_id: component.get_value() }, undo.get_value())>
                    "Another one"
                </button>
                <button type="button" class="link" on:click=move |_| ctx.open.set(None)>"Keep this one"</button>
            </div>
        </div>
    }
}

#[component]
fn VerdictList() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let verdict = move || {
        ctx.page
            .with(|p| p.trip.verdict.clone().unwrap_or_default())
    };
    view! {
        <section class="card verdict" data-testid="verdict">
            <h2>"Checked against every constraint"</h2>
            <p data-testid="verdict-summary">{move || verdict().summary()}</p>
            <ul class="checks">
                {move || verdict().checks.into_iter().map(|check| {
                    let icon = if check.passed { Icon::Check } else { Icon::Cross };
                    view! {
                        <li class:fail=!check.passed>
                            <Glyph icon />
                            <span><strong>{check_label(&check.name)}</strong>" — "{check.message}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A component id in words: "d2.dinner" → "day 2's dinner".
fn component_label(id: &str) -> String {
    if let Some(city) = id.strip_prefix("stay.") {
        return format!("the stay in {city}");
    }
    let Some((day, what)) = id.split_once('.') else {
        return id.to_owned();
    };
    let day = day.trim_start_matches('d');
    let what = if what.starts_with("leg") {
        "transport".to_owned()
    } else if let Some(n) = what.strip_prefix("attraction") {
        format!("visit {n}")
    } else {
        what.to_owned()
    };
    format!("day {day}'s {what}")
}

/// What a preview says a change would re-plan, in one sentence.
pub fn preview_sentence(list: &[String]) -> String {
    let parts: Vec<String> = list
        .iter()
        .filter(|p| p.contains('.'))
        .map(|p| component_label(p))
        .collect();
    let agents: Vec<&str> = list
        .iter()
        .filter(|p| !p.contains('.'))
        .map(|a| match a.as_str() {
            "location" => "location",
            "planning" => "route planning",
            "transport" => "transport",
            "accommodation" => "stays",
            "dining" => "dining",
            "activity" => "activities",
            "tips" => "tips",
            "budget" => "budget",
            "verifier" => "the checks",
            other => other,
        })
        .collect();
    match (parts.is_empty(), agents.is_empty()) {
        (false, false) => format!(
            "It replaces {}, and re-runs {}.",
            parts.join(", "),
            agents.join(", ")
        ),
        (false, true) => format!("It replaces {}.", parts.join(", ")),
        (true, false) => format!("It re-runs {}.", agents.join(", ")),
        (true, true) => "Nothing else changes.".to_owned(),
    }
}

/// A check's name in words ("within_sandbox" → "Uses only known places").
fn check_label(name: &str) -> String {
    let label = match name {
        "within_sandbox" => "Uses only real, known places",
        "complete_information" => "Nothing missing",
        "within_current_city" => "Each day stays in its city",
        "reasonable_city_route" => "A sensible route",
        "diverse_restaurants" => "No restaurant twice",
        "diverse_attractions" => "No attraction twice",
        "non_conflicting_transport" => "Transport modes fit together",
        "valid_accommodation" | "minimum_nights" => "Stays meet their minimum nights",
        "budget" => "Within budget",
        "room_rule" | "house_rule" => "House rules",
        "room_type" => "Room type",
        "cuisine" => "Cuisines",
        "transportation" => "Transport rules",
        other => return other.replace('_', " "),
    };
    label.to_owned()
}

/// Change the dates, the number of travellers or the budget: the trip is
/// re-planned.
#[component]
pub fn TripSettings() -> impl IntoView {
    let ctx = expect_context::<TripCtx>();
    let intent = move || ctx.page.with(|p| p.trip.intent.clone());
    let start = RwSignal::new(String::new());
    let people = RwSignal::new(String::new());
    let budget = RwSignal::new(String::new());
    let rules = RwSignal::new(HardConstraints::default());
    let confirm: RwSignal<Option<(String, Change, Option<Undo>)>> = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(i) = intent() {
            rules.set(i.constraints.clone());
            start.set(i.start_date.map(|d| d.to_string()).unwrap_or_default());
            people.set(i.people.get().to_string());
            budget.set(i.budget.map(|b| fixed(b.usd(), 0)).unwrap_or_default());
        }
    });
    let ask = move |what: &'static str| {
        let Some(i) = intent() else { return };
        let parsed = match what {
            "rules" => {
                let value = rules.get_untracked();
                if value == i.constraints {
                    Err("The rules are the trip's already: tick or untick one first.".to_owned())
                } else {
                    Ok((
                        "the trip's rules".to_owned(),
                        Change::Constraints { value },
                        Some(Change::Constraints {
                            value: i.constraints.clone(),
                        }),
                    ))
                }
            }
            "dates" => start
                .get_untracked()
                .parse::<TripDate>()
                .map(|d| {
                    (
                        "the dates".to_owned(),
                        Change::Dates { start: d },
                        i.start_date.map(|old| Change::Dates { start: old }),
                    )
                })
                .map_err(|e| e.to_string()),
            "people" => people
                .get_untracked()
                .trim()
                .parse::<i64>()
                .map_err(|_| "Travellers: a whole number".to_owned())
                .and_then(|n| Travellers::try_from(n).map_err(|e| e.to_string()))
                .map(|n| {
                    (
                        "the number of travellers".to_owned(),
                        Change::Travellers { value: n },
                        Some(Change::Travellers { value: i.people }),
                    )
                }),
            _ => budget
                .get_untracked()
                .trim()
                .trim_start_matches('$')
                .replace(',', "")
                .parse::<f64>()
                .map_err(|_| "Budget: a number of dollars".to_owned())
                .and_then(|n| Budget::try_from(n).map_err(|e| e.to_string()))
                .map(|b| {
                    (
                        "the budget".to_owned(),
                        Change::Budget { value: b },
                        i.budget.map(|old| Change::Budget { value: old }),
                    )
                }),
        };
        match parsed {
            Ok((what, change, undo)) => {
                let undo = undo.map(|change| Undo {
                    label: "Undo the change".to_owned(),
                    change,
                });
                let id = ctx.id.get_value();
                leptos::task::spawn_local(async move {
                    match preview_change(id, change.clone()).await {
                        Ok(list) => confirm.set(Some((
                            format!("This changes {what}. {}", preview_sentence(&list)),
                            change,
                            undo,
                        ))),
                        Err(err) => ctx.notice.set(Some(Notice::Error(err.to_string()))),
                    }
                });
            }
            Err(why) => ctx.notice.set(Some(Notice::Error(why))),
        }
    };
    view! {
        {move || ctx.page.with(|p| p.can_edit).then(|| view! {
            <section class="card settings" aria-labelledby="settings-title">
                <h2 id="settings-title">"Change the trip"</h2>
                <div class="fields">
                    <div class="field">
                        <label for="s-start"><Glyph icon=Icon::Calendar />" First day"</label>
                        <div class="inline">
                            <input id="s-start" type="date" prop:value=start on:input=move |ev| start.set(event_target_value(&ev)) />
                            <button type="button" class="secondary" on:click=move |_| ask("dates")>"Move"</button>
                        </div>
                    </div>
                    <div class="field">
                        <label for="s-people"><Glyph icon=Icon::People />" Travellers"</label>
                        <div class="inline">
                            <input id="s-people" type="number" min="1" max="20" prop:value=people on:input=move |ev| people.set(event_target_value(&ev)) />
                            <button type="button" class="secondary" on:click=move |_| ask("people")>"Set"</button>
                        </div>
                    </div>
                    <div class="field">
                        <label for="s-budget"><Glyph icon=Icon::Wallet />" Budget (USD)"</label>
                        <div class="inline">
                            <input id="s-budget" type="number" min="1" prop:value=budget on:input=move |ev| budget.set(event_target_value(&ev)) />
                            <button type="button" class="secondary" on:click=move |_| ask("budget")>"Set"</button>
                        </div>
                    </div>
                </div>
                <TripRules rules ask=move || ask("rules") />
                {move || confirm.get().map(|(what, change, undo)| view! {
                    <div class="confirm-box" role="alertdialog" aria-label="Confirm the change" data-testid="confirm-change">
                        <p>{what}</p>
                        <button type="button" class="primary" disabled=move || ctx.busy.get()
                            on:click=move |_| { ctx.apply(change.clone(), undo.clone()); confirm.set(None); }>"Re-plan"</button>
                        <button type="button" class="secondary" on:click=move |_| confirm.set(None)>"Cancel"</button>
                    </div>
                })}
            </section>
        }
        .into_any())}
    }
}

/// The cuisines a trip can require: those the TravelPlanner rules name,
/// which every catalog city serves somewhere.
const CUISINES: [&str; 7] = [
    "American",
    "Chinese",
    "French",
    "Indian",
    "Italian",
    "Mediterranean",
    "Mexican",
];

/// The trip's rules as boxes to tick: what every stay must allow, the room,
/// the ways of travelling ruled out and the cuisines to include. Applying
/// them re-plans the whole trip (after a preview and a confirmation).
#[component]
fn TripRules(rules: RwSignal<HardConstraints>, ask: impl Fn() + 'static) -> impl IntoView {
    let toggle_rule = move |rule: HouseRule, on: bool| {
        rules.update(|r| {
            r.house_rules.retain(|x| *x != rule);
            if on {
                r.house_rules.push(rule);
            }
        })
    };
    let toggle_transport = move |t: TransportRestriction, on: bool| {
        rules.update(|r| {
            r.transport.retain(|x| *x != t);
            if on {
                r.transport.push(t);
            }
        })
    };
    let toggle_cuisine = move |c: String, on: bool| {
        rules.update(|r| {
            r.cuisines.retain(|x| !x.eq_ignore_ascii_case(&c));
            if on {
                r.cuisines.push(c);
            }
        })
    };
    // The list shows the fixed cuisines and any other the trip asks for.
    let cuisines = move || {
        let mut list: Vec<String> = CUISINES.iter().map(|c| (*c).to_owned()).collect();
        for c in rules.with(|r| r.cuisines.clone()) {
            if !list.iter().any(|x| x.eq_ignore_ascii_case(&c)) {
                list.push(c);
            }
        }
        list
    };
    let room_value = move || match rules.with(|r| r.room_type) {
        None => "any",
        Some(RoomRequirement::EntireRoom) => "entire",
        Some(RoomRequirement::PrivateRoom) => "private",
        Some(RoomRequirement::SharedRoom) => "shared",
        Some(RoomRequirement::NotShared) => "not_shared",
    };
    view! {
        <fieldset class="rules" data-testid="trip-rules">
            <legend>"Rules for the trip"</legend>
            <div class="rule-groups">
                <div class="rule-group" role="group" aria-labelledby="rules-stay">
                    <p class="field-label" id="rules-stay"><Glyph icon=Icon::Stay />" Every stay must allow"</p>
                    {HouseRule::ALL.into_iter().map(|rule| {
                        let id = format!("rule-{rule:?}").to_ascii_lowercase();
                        view! {
                            <label class="check">
                                <input type="checkbox" id=id
                                    prop:checked=move || rules.with(|r| r.house_rules.contains(&rule))
                                    on:change=move |ev| toggle_rule(rule, event_target_checked(&ev)) />
                                {capitalised(rule.label())}
                            </label>
                        }
                    }).collect_view()}
                </div>
                <div class="rule-group">
                    <label class="field-label" for="rules-room"><Glyph icon=Icon::Stay />" Room"</label>
                    <select id="rules-room" prop:value=room_value on:change=move |ev| {
                        let room = match event_target_value(&ev).as_str() {
                            "entire" => Some(RoomRequirement::EntireRoom),
                            "private" => Some(RoomRequirement::PrivateRoom),
                            "shared" => Some(RoomRequirement::SharedRoom),
                            "not_shared" => Some(RoomRequirement::NotShared),
                            _ => None,
                        };
                        rules.update(|r| r.room_type = room);
                    }>
                        <option value="any">"Any room"</option>
                        <option value="entire">"An entire home"</option>
                        <option value="private">"A private room"</option>
                        <option value="not_shared">"Not a shared room"</option>
                        <option value="shared">"A shared room"</option>
                    </select>
                    <p class="field-label" id="rules-transport"><Glyph icon=Icon::Car />" Getting around"</p>
                    <div role="group" aria-labelledby="rules-transport">
                        {[
                            (TransportRestriction::NoFlight, "No flights"),
                            (TransportRestriction::NoSelfDriving, "No driving yourself"),
                        ].into_iter().map(|(t, label)| {
                            let id = format!("rule-{t:?}").to_ascii_lowercase();
                            view! {
                                <label class="check">
                                    <input type="checkbox" id=id
                                        prop:checked=move || rules.with(|r| r.transport.contains(&t))
                                        on:change=move |ev| toggle_transport(t, event_target_checked(&ev)) />
                                    {label}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                </div>
                <div class="rule-group" role="group" aria-labelledby="rules-cuisines">
                    <p class="field-label" id="rules-cuisines"><Glyph icon=Icon::Meal />" Meals must include"</p>
                    {move || cuisines().into_iter().map(|c| {
                        let id = format!("rule-cuisine-{}", c.to_ascii_lowercase().replace(' ', "-"));
                        let (checked, toggled) = (c.clone(), c.clone());
                        view! {
                            <label class="check">
                                <input type="checkbox" id=id
                                    prop:checked=move || rules.with(|r| r.cuisines.iter().any(|x| x.eq_ignore_ascii_case(&checked)))
                                    on:change=move |ev| toggle_cuisine(toggled.clone(), event_target_checked(&ev)) />
                                {c}" food"
                            </label>
                        }
                    }).collect_view()}
                </div>
            </div>
            <button type="button" class="secondary" on:click=move |_| ask()>"Apply the rules"</button>
        </fieldset>
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // ASCII: the labels are; Unicode case tables would add to the bundle.
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}
