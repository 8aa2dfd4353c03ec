//! "My trips": the trips made in this browser (its session cookie owns
//! them), newest first.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::my_trips;
use crate::codec::JsonBytes;
use crate::model::{TripSummary, status_label};
use crate::pages::icons::{Glyph, Icon};
use crate::pages::{money, plural};

#[component]
pub fn TripsPage() -> impl IntoView {
    let trips: Resource<_, JsonBytes> = Resource::new_with_options(|| (), |_| my_trips(), false);
    view! {
        <Title text="My trips — Wayfare" />
        <section class="card">
            <h1>"My trips"</h1>
            <p class="muted">"The trips planned in this browser. Anyone you give a trip's link to can read it; only this browser can change it."</p>
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading your trips…"</p> }>
            {move || trips.try_get().flatten().map(|result| match result {
                Ok(list) if list.is_empty() => view! {
                    <section class="card empty" data-testid="no-trips">
                        <p>"No trips yet."</p>
                        <p><a class="button primary" href="/">"Plan your first trip"</a></p>
                    </section>
                }.into_any(),
                Ok(list) => view! {
                    <ul class="trip-list" data-testid="trip-list">
                        {list.into_iter().map(|trip| view! { <TripCard trip /> }).collect_view()}
                    </ul>
                }.into_any(),
                Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TripCard(trip: TripSummary) -> impl IntoView {
    let href = format!("/trips/{}", trip.trip_id);
    view! {
        <li class="card trip-card" data-testid="trip-card" data-trip=trip.trip_id.clone()>
            <div class="trip-card-head">
                <a href=href class="trip-link"><h2>{trip.title.clone()}</h2></a>
                <span class=format!("badge status-{}", trip.status.as_str())>{status_label(trip.status)}</span>
            </div>
            <p class="meta">
                {trip.when.map(|w| view! { <span><Glyph icon=Icon::Calendar />" "{w}</span> })}
                {trip.travellers.map(|n| view! { <span><Glyph icon=Icon::People />" "{plural(n, "traveller", "travellers")}</span> })}
                {trip.total.map(|t| view! {
                    <span><Glyph icon=Icon::Wallet />" "{money(t)}
                        {trip.budget.map(|b| format!(" of {}", money(b)))}</span>
                })}
            </p>
        </li>
    }
}
