//! The pages of the app, one module each.

mod home;
mod plan;
mod request;

use leptos::prelude::*;

pub use home::HomePage;
pub use request::RequestPage;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Plan a trip"</a></p>
        </section>
    }
}
