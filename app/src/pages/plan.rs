//! A planned trip: the summary, the day-by-day plan with costs and reasons,
//! and the verifier's verdict.

use leptos::prelude::*;
use wayfare_domain::intent::TripIntent;
use wayfare_domain::itinerary::{Itinerary, ItineraryDay, PlanItem, TransportLeg};
use wayfare_domain::verdict::Verdict;

use crate::api::PlannedTrip;
use crate::error::AppError;
use crate::pages::request::RequestCard;

/// A planning result as a page shows it: the stored request and its plan,
/// or the error in an alert.
pub fn planned_or_error(result: Result<PlannedTrip, AppError>) -> AnyView {
    match result {
        Ok(trip) => view! {
            <RequestCard record=trip.request.clone() />
            <PlanView trip />
        }
        .into_any(),
        Err(err) => view! {
            <section class="card">
                <p class="error" role="alert">{err.to_string()}</p>
                <p><a href="/">"Plan a trip"</a></p>
            </section>
        }
        .into_any(),
    }
}

fn money(usd: f64) -> String {
    format!("${usd:.0}")
}

fn is_sample(source_id: Option<&str>) -> bool {
    source_id.is_some_and(|id| id.starts_with("demo:"))
}

#[component]
pub fn PlanView(trip: PlannedTrip) -> impl IntoView {
    let PlannedTrip {
        intent,
        itinerary,
        verdict,
        explanation,
        elapsed_ms,
        ..
    } = trip;
    let notes = intent_notes(&intent);
    let body = match itinerary {
        Some(itinerary) => view! {
            <PlanSummary itinerary=itinerary.clone() budget=intent.budget.map(f64::from) elapsed_ms />
            <div class="days">
                {itinerary.days.into_iter().map(|day| view! { <DayCard day /> }).collect_view()}
            </div>
            <VerdictList verdict />
        }
        .into_any(),
        None => view! {
            <section class="card no-plan" data-testid="no-plan">
                <h2>"No plan yet"</h2>
                <p class="error" role="alert">{explanation}</p>
                <ul class="questions">
                    {intent.questions.into_iter().map(|q| view! { <li>{q}</li> }).collect_view()}
                </ul>
                <p class="muted">"Add what is missing to your description and plan again."</p>
            </section>
        }
        .into_any(),
    };
    view! {
        {(!notes.is_empty()).then(|| view! {
            <section class="card understood" data-testid="understood">
                <h2>"What Wayfare understood"</h2>
                <ul>{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </section>
        })}
        {body}
    }
}

/// The parsed request and the assumptions made, in plain words.
fn intent_notes(intent: &TripIntent) -> Vec<String> {
    let mut notes = Vec::new();
    if let (Some(origin), Some(dest)) = (&intent.origin, &intent.destination) {
        let cities = dest.city_count();
        let target = if cities > 1 {
            format!("{cities} cities in {}", dest.name())
        } else {
            dest.name().to_owned()
        };
        notes.push(format!("From {origin} to {target}"));
    }
    if let (Some(start), Some(days)) = (intent.start_date, intent.days) {
        notes.push(format!(
            "{days} days from {}",
            start.get().format("%A %-d %B %Y")
        ));
    }
    notes.push(match intent.people.get() {
        1 => "1 traveller".to_owned(),
        n => format!("{n} travellers"),
    });
    if let Some(budget) = intent.budget {
        notes.push(format!("Budget {}", money(budget.usd())));
    }
    let c = &intent.constraints;
    if !c.cuisines.is_empty() {
        notes.push(format!("Cuisines to include: {}", c.cuisines.join(", ")));
    }
    for rule in &c.house_rules {
        notes.push(
            format!("Stays must allow {rule:?}").replace("ChildrenUnder10", "children under 10"),
        );
    }
    if let Some(room) = &c.room_type {
        notes.push(format!("Room: {room:?}"));
    }
    for t in &c.transport {
        notes.push(format!("Transport: {t:?}"));
    }
    notes.extend(intent.assumptions.iter().map(|a| format!("Assumed: {a}")));
    notes
}

#[component]
fn PlanSummary(itinerary: Itinerary, budget: Option<f64>, elapsed_ms: u64) -> impl IntoView {
    let totals = itinerary.totals.clone();
    let route = std::iter::once(itinerary.origin.clone())
        .chain(itinerary.visited_cities())
        .chain(std::iter::once(itinerary.origin.clone()))
        .collect::<Vec<_>>()
        .join(" → ");
    let share = budget.map(|b| {
        if b > 0.0 {
            (totals.total / b * 100.0).min(100.0)
        } else {
            100.0
        }
    });
    view! {
        <section class="card summary" data-testid="plan-summary">
            <h2>{route}</h2>
            <p class="muted">
                {format!("{} days · {} traveller(s) · planned and verified in {elapsed_ms} ms",
                    itinerary.days.len(), itinerary.people)}
            </p>
            <div class="budget">
                <span data-testid="plan-total">{format!("Total {}", money(totals.total))}</span>
                {budget.map(|b| view! { <span class="muted">{format!(" of {}", money(b))}</span> })}
                {share.map(|pct| view! {
                    <div class="bar" role="img" aria-label=format!("{pct:.0}% of the budget")>
                        <div class="fill" style=format!("width: {pct:.1}%")></div>
                    </div>
                })}
                <p class="muted breakdown">
                    {format!("transport {} · stays {} · meals {}",
                        money(totals.transport), money(totals.accommodation), money(totals.meals))}
                </p>
            </div>
        </section>
    }
}

#[component]
fn DayCard(day: ItineraryDay) -> impl IntoView {
    let title = match (&day.from, day.date) {
        (Some(from), Some(date)) => format!(
            "Day {} · {} · {from} → {}",
            day.day,
            date.format("%a %-d %b"),
            day.city
        ),
        (Some(from), None) => format!("Day {} · {from} → {}", day.day, day.city),
        (None, Some(date)) => format!(
            "Day {} · {} · {}",
            day.day,
            date.format("%a %-d %b"),
            day.city
        ),
        (None, None) => format!("Day {} · {}", day.day, day.city),
    };
    let meals = day
        .meals()
        .map(|(kind, item)| (kind.label(), item.cloned()));
    view! {
        <section class="card day" data-testid="plan-day">
            <h3>{title}</h3>
            <ul class="items">
                {day.transport.into_iter().map(|leg| view! { <LegRow leg /> }).collect_view()}
                {meals
                    .into_iter()
                    .filter_map(|(label, item)| item.map(|item| view! { <ItemRow label item /> }))
                    .collect_view()}
                {day.attractions.into_iter().map(|item| view! { <ItemRow label="visit" item /> }).collect_view()}
                {day.accommodation.map(|item| view! { <ItemRow label="stay" item /> })}
            </ul>
        </section>
    }
}

#[component]
fn LegRow(leg: TransportLeg) -> impl IntoView {
    let what = match (&leg.number, leg.departure, leg.arrival) {
        (Some(number), Some(dep), Some(arr)) => {
            format!(
                "{} {number}, {} → {}, {}–{}",
                leg.mode.label(),
                leg.from,
                leg.to,
                dep.format("%H:%M"),
                arr.format("%H:%M")
            )
        }
        _ => format!(
            "{}, {} → {}, {} ({})",
            leg.mode.label(),
            leg.from,
            leg.to,
            leg.duration_text,
            leg.distance_text
        ),
    };
    let sample = is_sample(leg.source_id.as_deref());
    view! {
        <li class="item" data-component=leg.id>
            <span class="kind">"transport"</span>
            <span class="what">{what} {sample.then(|| view! { <span class="sample">"sample"</span> })}</span>
            <span class="cost">{money(leg.cost)}</span>
            <span class="why">{leg.reason}</span>
        </li>
    }
}

#[component]
fn ItemRow(label: &'static str, item: PlanItem) -> impl IntoView {
    let sample = is_sample(item.source_id.as_deref());
    let cost = (item.cost > 0.0).then(|| money(item.cost));
    view! {
        <li class="item" data-component=item.id>
            <span class="kind">{label}</span>
            <span class="what">{item.name} {sample.then(|| view! { <span class="sample">"sample"</span> })}</span>
            <span class="cost">{cost}</span>
            <span class="why">{item.reason}</span>
        </li>
    }
}

#[component]
fn VerdictList(verdict: Verdict) -> impl IntoView {
    let summary = verdict.summary();
    view! {
        <section class="card verdict" data-testid="verdict">
            <h2>"Checked against every constraint"</h2>
            <p data-testid="verdict-summary">{summary}</p>
            <ul>
                {verdict
                    .checks
                    .into_iter()
                    .map(|check| {
                        let mark = if check.passed { "✓" } else { "✗" };
                        view! {
                            <li class:fail=!check.passed>
                                <span class="mark">{mark}</span>
                                <strong>{check.name}</strong>
                                " — "
                                {check.message}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
