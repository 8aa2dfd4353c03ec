//! Wayfare's pages, components and server functions.
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    view! { <p>"Wayfare"</p> }
}
