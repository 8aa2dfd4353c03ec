//! One stored trip request, at `/requests/:id`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use wayfare_domain::request::TripRequestRecord;

use crate::api::plan_request;
use crate::pages::plan::planned_or_error;

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    // `try_` reads throughout: a server render can be dropped (the client
    // went away, a timeout) while Suspense still has an effect in flight,
    // and a plain `get` on the disposed resource panics in that task (seen
    // once by server/tests/hostile.rs under the full suite's load; not
    // reproduced on demand).
    let record = Resource::new(
        move || {
            params
                .try_with(|p| p.get("id"))
                .flatten()
                .unwrap_or_default()
        },
        plan_request,
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || record.try_get().flatten().map(planned_or_error)}
        </Suspense>
    }
}

/// A stored request as the database holds it.
#[component]
pub fn RequestCard(record: TripRequestRecord) -> impl IntoView {
    let href = format!("/requests/{}", record.id);
    view! {
        <section class="card stored" data-testid="stored-request">
            <h2>"Request saved"</h2>
            <blockquote data-testid="stored-query">{record.query}</blockquote>
            <dl>
                <dt>"Id"</dt>
                <dd><a href=href data-testid="stored-id">{record.id}</a></dd>
                <dt>"Received"</dt>
                <dd>{record.created_at}</dd>
            </dl>
        </section>
    }
}
