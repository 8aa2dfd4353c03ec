//! Wayfare's pages, components and server functions.
//!
//! Built twice: with `ssr` into the server (rendering and server functions
//! backed by the store) and with `hydrate` into the WebAssembly bundle.

pub mod api;
pub mod error;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{StaticSegment, path};

use crate::pages::{HomePage, NotFound, RequestPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
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
            <header class="site-header">
                <a class="brand" href="/">"Wayfare"</a>
                <span class="tagline">"Describe a trip; get a verified plan."</span>
            </header>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage />
                    <Route path=path!("/requests/:id") view=RequestPage />
                </Routes>
            </main>
        </Router>
    }
}
