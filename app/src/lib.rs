#![recursion_limit = "256"]
//! Wayfare's pages, components and server functions.
//!
//! Built twice: with `ssr` into the server (rendering, and server functions
//! backed by the orchestration runtime) and with `hydrate` into the
//! WebAssembly bundle.
//!
//! Leptos' islands mode: every page is rendered on the server only, and the
//! browser hydrates just the interactive parts, the `#[island]`s (the plan
//! form, the live trip, the agents and the dashboard). Links load pages
//! from the server; the bundle holds neither the router nor the static
//! parts of the pages, which keeps it small (see docs/bench-web.md).

pub mod api;
pub mod codec;
pub mod error;
pub mod model;
mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment, path};

use crate::pages::{
    AgentsPage, DashboardPage, HomePage, NotFound, RequestRedirect, TripPage, TripsPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/wayfare.css" />
        <Title text="Wayfare — trip planner" />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="site-header">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Wayfare"
                </a>
                <nav aria-label="Main">
                    <A href="/" exact=true>"Plan a trip"</A>
                    <A href="/trips" exact=true>"My trips"</A>
                    <A href="/agents">"Agents"</A>
                    <A href="/dashboard">"Dashboard"</A>
                </nav>
            </header>
            <main class="page" id="main">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage />
                    // Async: the whole page is in the first response (a plan
                    // reads without JavaScript; out-of-order streaming
                    // would need it to put the data in place).
                    <Route path=path!("/trips") view=TripsPage ssr=SsrMode::Async />
                    <Route path=path!("/trips/:id") view=TripPage ssr=SsrMode::Async />
                    <Route path=path!("/agents") view=AgentsPage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/requests/:id") view=RequestRedirect />
                </Routes>
            </main>
            <footer class="site-footer">
                "Wayfare plans with specialised agents and checks every plan against your constraints."
            </footer>
            <HydrationMarker />
        </Router>
    }
}

/// The page's last island: the browser hydrates islands in document order,
/// one after the other, so when this one's effect runs every island of the
/// page is interactive. It marks `<body>` for the browser tests (and
/// nothing else).
#[island]
fn HydrationMarker() -> impl IntoView {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The WebAssembly bundle's entry point (`wayfare-frontend` calls it):
/// starts the reactive runtime, after which Leptos' script hydrates each
/// island of the page.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
