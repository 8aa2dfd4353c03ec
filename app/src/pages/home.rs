//! The home page: "Describe your trip".

use leptos::prelude::*;
use wayfare_domain::request::MAX_QUERY_BYTES;

use crate::api::{SubmitRequest, plan_request};
use crate::pages::plan::planned_or_error;

const EXAMPLE: &str = "3 days from Seattle to Denver, March 5–7, two of us, $2,000, \
no flights, we love Italian food";

#[component]
pub fn HomePage() -> impl IntoView {
    let submit = ServerAction::<SubmitRequest>::new();
    let (text, set_text) = signal(String::new());

    // Once the action has stored the request, read it back and plan it
    // through the second server function, so what is shown is what the
    // database holds.
    let stored = Resource::new(
        move || submit.value().try_get().flatten().and_then(Result::ok),
        |id| async move {
            match id {
                Some(id) => Some(plan_request(id).await),
                None => None,
            }
        },
    );

    let bytes = move || text.with(|t| t.trim().len());
    let too_long = move || bytes() > MAX_QUERY_BYTES;

    view! {
        <section class="card">
            <h1>"Describe your trip"</h1>
            <p class="hint">
                "Where from, where to, when, how many of you, your budget, and anything you "
                "need or love. For example: " <em>{EXAMPLE}</em>
            </p>
            <ActionForm action=submit attr:class="plan-form">
                <label for="query" class="visually-hidden">"Describe your trip"</label>
                <textarea
                    id="query"
                    name="query"
                    rows="4"
                    placeholder=EXAMPLE
                    required
                    on:input=move |ev| set_text.set(event_target_value(&ev))
                    prop:value=text
                ></textarea>
                <div class="form-row">
                    <span class="counter" data-testid="counter" class:over=too_long>
                        {move || format!("{} / {} characters", bytes(), MAX_QUERY_BYTES)}
                    </span>
                    <button type="submit" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { "Saving…" } else { "Plan my trip" }}
                    </button>
                </div>
            </ActionForm>
            {move || {
                submit
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|err| view! { <p class="error" role="alert">{err.to_string()}</p> })
            }}
        </section>
        <Transition fallback=|| view! { <p class="muted">"Planning…"</p> }>
            {move || stored.try_get().flatten().flatten().map(planned_or_error)}
        </Transition>
    }
}
