//! One stored trip request, at `/requests/:id`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use wayfare_domain::request::TripRequestRecord;

use crate::api::plan_request;
use crate::pages::plan::planned_or_error;

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let record = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        plan_request,
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || record.get().map(planned_or_error)}
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
